#!/usr/bin/env python3
"""PyTorch side of the speed benchmark: the workloads of `train bench`, same figures.

Each run is a fresh `python3 bench_pytorch.py --worker ...` process, so its peak
memory is its own and its whole-process time (start to exit, measured by this
parent) includes interpreter start-up and `import torch`, as `train bench`'s
includes the Rust binary's start-up.

The loop is the seed's: SimpleModel-style Linear stack with ReLU, nn.MSELoss,
torch.optim.Adam(lr=0.001), in-order mini-batches sliced from tensors built
before the clock starts, the loss read back once per epoch.

    python3 scripts/bench_pytorch.py [--workloads seed,scaled,large] [--runs 5] [--csv FILE]

`train bench --against-pytorch PYTHON` runs this script's workers itself,
interleaved with its own, and prints the ratio.

A study: the seed run over ten seeds, timed whole (`train bench --study`):

    python3 scripts/bench_pytorch.py --study sequential   # one process, seed after seed
    python3 scripts/bench_pytorch.py --study vmap         # torch.func: all ten in one model
    python3 scripts/bench_pytorch.py --study-one SEED     # one seed (a process per seed)

Needs: pip install torch
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time

WORKLOADS = {
    "tiny": dict(samples=200, batch_size=50, hidden=[8, 4], epochs=2),
    "seed": dict(samples=100, batch_size=10, hidden=[18, 18, 4], epochs=150),
    "scaled": dict(samples=100_000, batch_size=1_000, hidden=[256, 256, 64], epochs=5),
    "large": dict(samples=1_000_000, batch_size=10_000, hidden=[1024, 1024, 256], epochs=1),
}
FEATURES = 10


def worker(name):
    import resource

    import torch
    import torch.nn as nn
    import torch.optim as optim

    spec = WORKLOADS[name]
    x, y, model = seed_data(torch, 0, spec)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    batch = spec["batch_size"]
    steps = 0
    started = time.perf_counter()
    for _ in range(spec["epochs"]):
        for i in range(0, spec["samples"], batch):
            optimizer.zero_grad()
            loss = criterion(model(x[i : i + batch]), y[i : i + batch])
            loss.backward()
            optimizer.step()
            steps += 1
        final_loss = loss.item()
    loop_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps(dict(loop_s=loop_s, steps=steps, samples=spec["samples"] * spec["epochs"],
                          peak_rss_bytes=peak, final_loss=final_loss)))


def seed_data(torch, seed, spec):
    """A seed's data and network, as the seed run draws them."""
    import torch.nn as nn

    torch.manual_seed(seed)
    x = torch.randn(spec["samples"], FEATURES)
    y = torch.randn(spec["samples"], 1)
    sizes = [FEATURES] + spec["hidden"] + [1]
    layers = []
    for index in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[index], sizes[index + 1]))
        if index + 2 < len(sizes):
            layers.append(nn.ReLU())
    return x, y, nn.Sequential(*layers)


def study_one(torch, seed):
    """The seed run for one seed: Adam, MSE, in-order batches of 10."""
    spec = WORKLOADS["seed"]
    x, y, model = seed_data(torch, seed, spec)
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    batch = spec["batch_size"]
    for _ in range(spec["epochs"]):
        for i in range(0, spec["samples"], batch):
            optimizer.zero_grad()
            loss = criterion(model(x[i : i + batch]), y[i : i + batch])
            loss.backward()
            optimizer.step()
        final = loss.item()
    return final


def study_vmap(torch, seeds):
    """All seeds at once, PyTorch's model-ensembling recipe: the networks'
    parameters stacked (`stack_module_state`), one `vmap` of the gradient of
    `functional_call`, and one Adam over the stacked tensors (Adam is
    elementwise, so each seed's slice is updated as its own Adam would)."""
    import copy

    from torch.func import functional_call, grad, stack_module_state, vmap

    spec = WORKLOADS["seed"]
    drawn = [seed_data(torch, seed, spec) for seed in seeds]
    xs = torch.stack([x for x, _, _ in drawn])
    ys = torch.stack([y for _, y, _ in drawn])
    params, buffers = stack_module_state([m for _, _, m in drawn])
    base = copy.deepcopy(drawn[0][2]).to("meta")

    def loss_of(p, b, x, y):
        return torch.nn.functional.mse_loss(functional_call(base, (p, b), (x,)), y)

    gradients = vmap(grad(loss_of))
    losses = vmap(loss_of)
    optimizer = torch.optim.Adam(list(params.values()), lr=0.001)
    batch = spec["batch_size"]
    for _ in range(spec["epochs"]):
        for i in range(0, spec["samples"], batch):
            xb, yb = xs[:, i : i + batch], ys[:, i : i + batch]
            for name, g in gradients(params, buffers, xb, yb).items():
                params[name].grad = g
            optimizer.step()
        final = losses(params, buffers, xb, yb).detach()
    return final.tolist()


def study(mode, seeds=10):
    import torch

    started = time.perf_counter()
    if mode == "sequential":
        finals = [study_one(torch, seed) for seed in range(seeds)]
    elif mode == "vmap":
        finals = study_vmap(torch, list(range(seeds)))
    else:
        sys.exit(f"--study: unknown mode `{mode}` (known: sequential, vmap)")
    print(json.dumps(dict(loop_s=time.perf_counter() - started, seeds=seeds, finals=finals)))


def spread(values):
    return statistics.median(values), min(values), max(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default="seed,scaled,large")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--csv", help="also write every run here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--study", help="time a ten-seed study of the seed run: sequential or vmap")
    parser.add_argument("--study-one", type=int, help="one seed of the study, in this process")
    args = parser.parse_args()
    if args.study:
        study(args.study)
        return
    if args.study_one is not None:
        import torch

        print(json.dumps(dict(final=study_one(torch, args.study_one))))
        return
    if args.probe:  # `train bench --against-pytorch` checks the interpreter first
        import torch

        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        return
    if args.worker:
        worker(args.worker)
        return

    names = args.workloads.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        sys.exit(f"--workloads: unknown workload(s) {', '.join(unknown)} (known: {', '.join(WORKLOADS)})")
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    rows = []
    print(f"{'workload':<8} {'backend':<8} {'runs':>4} {'steps/s (min-max)':>24} {'samples/s':>14} "
          f"{'loop s (min-max)':>20} {'process s (min-max)':>20} {'peak MiB':>10}")
    for name in names:
        runs = []
        for run in range(1, args.runs + 1):
            print(f"bench: {name} on pytorch, run {run}/{args.runs} ...", file=sys.stderr)
            started = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--worker", name],
                                 check=True, capture_output=True, text=True).stdout
            process_s = time.perf_counter() - started
            runs.append((json.loads(out.strip().splitlines()[-1]), process_s))
            rows.append((name, run, runs[-1]))
        steps = spread([m["steps"] / m["loop_s"] for m, _ in runs])
        samples = statistics.median([m["samples"] / m["loop_s"] for m, _ in runs])
        loop = spread([m["loop_s"] for m, _ in runs])
        process = spread([p for _, p in runs])
        peak = max(m["peak_rss_bytes"] for m, _ in runs) / 2**20
        print(f"{name:<8} {'pytorch':<8} {len(runs):>4} {f'{steps[0]:.1f} ({steps[1]:.1f}-{steps[2]:.1f})':>24} "
              f"{samples:>14.0f} {f'{loop[0]:.3f} ({loop[1]:.3f}-{loop[2]:.3f})':>20} "
              f"{f'{process[0]:.3f} ({process[1]:.3f}-{process[2]:.3f})':>20} {peak:>10.1f}", flush=True)
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["workload", "backend", "run", "steps", "samples", "loop_s", "process_s",
                             "steps_per_s", "samples_per_s", "peak_rss_mib", "final_loss"])
            for name, run, (m, process_s) in rows:
                writer.writerow([name, "pytorch", run, m["steps"], m["samples"], f"{m['loop_s']:.6f}",
                                 f"{process_s:.6f}", f"{m['steps'] / m['loop_s']:.3f}",
                                 f"{m['samples'] / m['loop_s']:.1f}", f"{m['peak_rss_bytes'] / 2**20:.2f}",
                                 m["final_loss"]])


if __name__ == "__main__":
    main()
