#!/usr/bin/env python3
"""PyTorch reference for Activation Lab: the seed tutorial's script, parameterised.

The network, loss, optimiser and loop are the tutorial's (`SimpleModel`,
`nn.MSELoss`, `optim.Adam(lr=0.001)`, in-order batches of 10, 150 epochs);
only the activation, the sizes, the data and the initial weights are read
from files or flags so that Rust and PyTorch can start from the same point.

Subcommands:
  fixtures      write tests/fixtures/: the data (CSV), the initial weights
                (safetensors and torch.save .pt) and PyTorch's per-epoch loss
                for identity, relu, sigmoid, tanh and leaky_relu: with
                torch.optim.Adam in float32 (the seed) and float64, and with
                BurnAdam (Burn's float32 constants) in float32 and float64.
  train         train once from given data and weights; print the loss each
                epoch as the tutorial does (or write them as CSV).
  predict       load a model.safetensors (e.g. one written by `train --out`)
                into SimpleModel with load_state_dict and write predictions.
  check-export  as predict, and compare with predictions the Rust trainer
                wrote; exits 1 when any differs by more than --tolerance.
  optimizer-fixtures
                write tests/fixtures/pytorch_losses_{sgd,adamw,rmsprop}.csv:
                the seed's data and initial weights (the fixtures above) trained
                with torch.optim.SGD, AdamW and RMSprop (settings in
                OPTIMIZER_RUNS) for identity, tanh and sigmoid, float32.
  clip-fixture  write tests/fixtures/clip_grad_norm.csv: gradients of fixed
                values (CLIP_SHAPES, value i of parameter p = sin(7 p + 0.37 i)
                * (p + 1)) before and after torch.nn.utils.clip_grad_norm_
                with max_norm 1.5 and 100 (no clipping).
  learnable-fixtures
                write tests/fixtures/pytorch_learnable.csv and
                pytorch_learnable_f64_burn_adam.csv: the seed's data and
                initial weights trained with the learnable activations
                (prelu, prelu(per_unit), swish_beta; their parameters start
                at 0.25 and 1 as nn.PReLU's and SwishBeta's), torch.optim.Adam
                in float32 and BurnAdam in float64: per epoch the loss and
                each layer's parameter (per-unit slopes: their mean).
  bce-fixture   write tests/fixtures/bce_with_logits.csv: nn.BCEWithLogitsLoss
                in float32 per element (reduction="none") on fixed logits,
                magnitude 100 included, and bce_with_logits_mean.csv: the
                default mean reduction over them.
  cross-entropy-fixtures
                write tests/fixtures/cross_entropy_torch.csv: nn.CrossEntropyLoss
                in float32 per row (reduction="none") on fixed 3-class logits,
                magnitude 100 included, with the mean in every row; and a
                short 3-class training run: three_class_data.csv (three
                Gaussian blobs, 60 rows, labels 0..2), three_class_initial
                .safetensors (a 2 -> 8 -> 8 -> 3 SimpleModel) and
                pytorch_cross_entropy_losses.csv (torch.optim.Adam, float32) and
                pytorch_cross_entropy_losses_f64_burn_adam.csv (BurnAdam,
                float64): the last batch's loss per epoch for identity, relu
                and tanh.

Needs: pip install torch safetensors numpy
"""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from safetensors.torch import load_file, save_file

ACTIVATIONS = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}
SEED_SIZES = [10, 18, 18, 4, 1]


class SwishBeta(nn.Module):
    """x * sigmoid(beta x) with beta trained, one per layer (Ramachandran et al. 2017)."""

    def __init__(self):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


# A learnable activation per hidden layer: a module of its own after each fcN
# (act1, act2, ...), as `train export` writes it; `units` is the layer's width.
LEARNABLE = {
    "prelu": lambda units: nn.PReLU(),
    "prelu(per_unit)": lambda units: nn.PReLU(units),
    "swish_beta": lambda units: SwishBeta(),
}


class LearnableModel(nn.Module):
    """SimpleModel with a learnable activation module act{i} after each hidden fc{i}."""

    def __init__(self, activation, sizes=SEED_SIZES):
        super().__init__()
        self.depth = len(sizes) - 1
        for index in range(self.depth):
            setattr(self, f"fc{index + 1}", nn.Linear(sizes[index], sizes[index + 1]))
            if index + 1 < self.depth:
                setattr(self, f"act{index + 1}", LEARNABLE[activation](sizes[index + 1]))

    def forward(self, x):
        for index in range(self.depth):
            x = getattr(self, f"fc{index + 1}")(x)
            if index + 1 < self.depth:
                x = getattr(self, f"act{index + 1}")(x)
        return x

    def learned(self):
        """Each hidden layer's parameter (the mean of per-unit ones)."""
        return [next(getattr(self, f"act{i + 1}").parameters()).mean().item() for i in range(self.depth - 1)]


class SimpleModel(nn.Module):
    """The tutorial's network; `sizes` generalises its 10 -> 18 -> 18 -> 4 -> 1.

    Layers are named fc1, fc2, ... as in the tutorial, so its state_dict keys
    are `fc1.weight` ([out, in]), `fc1.bias`, ...
    """

    def __init__(self, activation="relu", sizes=SEED_SIZES):
        super().__init__()
        self.depth = len(sizes) - 1
        for index in range(self.depth):
            setattr(self, f"fc{index + 1}", nn.Linear(sizes[index], sizes[index + 1]))
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x):
        for index in range(self.depth):
            x = getattr(self, f"fc{index + 1}")(x)
            if index + 1 < self.depth:
                x = self.activation(x)
        return x


def sizes_of(state):
    """Layer sizes [in, h1, ..., out] read off a state dict's fcN.weight shapes."""
    depth = sum(1 for key in state if key.endswith(".weight"))
    sizes = [state["fc1.weight"].shape[1]]
    for index in range(depth):
        sizes.append(state[f"fc{index + 1}.weight"].shape[0])
    return sizes


def read_csv(path):
    """A header row, then numeric rows; the last column is the target."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    values = torch.tensor([[float(cell) for cell in row] for row in rows[1:]], dtype=torch.float32)
    return values[:, :-1], values[:, -1:]


def write_csv(path, header, rows):
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    temporary.replace(path)


def exact(value):
    """Shortest text that reads back to the same float (float32 or float64)."""
    return repr(float(value))


def load_weights(path):
    path = str(path)
    if path.endswith(".pt"):
        return torch.load(path, weights_only=True)
    return load_file(path)


def f32(value):
    """Rounds a Python float to the nearest float32, returned as a Python float."""
    return float(np.float32(value))


def powi_f32(base, exponent):
    """Rust's f32::powi at run time (compiler-rt __powisf2: square and multiply in float32)."""
    result, base = np.float32(1.0), np.float32(base)
    while True:
        if exponent & 1:
            result = np.float32(result * base)
        exponent //= 2
        if exponent == 0:
            return float(result)
        base = np.float32(base * base)


class BurnAdam(optim.Optimizer):
    """Adam as Burn 0.22 computes it: the same formula as torch.optim.Adam, but its
    constants (beta1, beta2, epsilon) and bias corrections are float32 scalars.

    Only used to show where Rust and PyTorch differ: with it, a float64 PyTorch run
    and a float64 Rust run agree to rounding, so what remains in float32 is rounding.
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2, eps = (f32(v) for v in (*group["betas"], group["eps"]))
            for param in group["params"]:
                state = self.state[param]
                grad = param.grad
                if not state:
                    state["time"] = 1
                    state["m"] = grad * f32(1.0 - beta1)
                    state["v"] = grad.square() * f32(1.0 - beta2)
                else:
                    state["time"] += 1
                    state["m"] = state["m"] * beta1 + grad * f32(1.0 - beta1)
                    state["v"] = state["v"] * beta2 + grad.square() * f32(1.0 - beta2)
                time = state["time"]
                correction2_sqrt = f32(np.sqrt(np.float32(1.0 - np.float32(powi_f32(beta2, time)))))
                combined = f32(np.float32(correction2_sqrt) / np.float32(1.0 - np.float32(powi_f32(beta1, time))))
                update = (state["m"] * combined) / (state["v"].sqrt() + f32(np.float32(eps) * np.float32(correction2_sqrt)))
                param.sub_(update * group["lr"])


def class_cross_entropy(output, labels):
    """nn.CrossEntropyLoss on class numbers held as a float column, as the lab holds them."""
    return nn.functional.cross_entropy(output, labels[:, 0].long())


def train(x, y, state, activation, epochs=150, batch_size=10, lr=0.001, dtype=torch.float32, adam=optim.Adam,
          criterion=None, **optimizer_args):
    """The tutorial's loop; returns the loss of each epoch's last batch."""
    model = SimpleModel(activation, sizes_of(state))
    model.load_state_dict(state)
    model = model.to(dtype)
    x, y = x.to(dtype), y.to(dtype)
    criterion = criterion or nn.MSELoss()
    optimizer = adam(model.parameters(), lr=lr, **optimizer_args)
    losses = []
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):
            inputs = x[i : i + batch_size]
            labels = y[i : i + batch_size]
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    return losses


def command_fixtures(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    # The tutorial's data: X = randn(100, 10), y = randn(100, 1), then the model.
    x = torch.randn(args.samples, SEED_SIZES[0])
    y = torch.randn(args.samples, 1)
    model = SimpleModel("relu", SEED_SIZES)
    state = {key: value.detach().clone().contiguous() for key, value in model.state_dict().items()}

    header = [f"x{i + 1}" for i in range(x.shape[1])] + ["y"]
    write_csv(out / "seed_data.csv", header, [[exact(v) for v in row] for row in torch.cat([x, y], 1).tolist()])
    save_file(state, str(out / "initial_weights.safetensors"))
    torch.save(state, out / "initial_weights.pt")

    names = list(ACTIVATIONS)
    runs = (
        (torch.float32, optim.Adam, "pytorch_losses.csv"),
        (torch.float64, optim.Adam, "pytorch_losses_f64.csv"),
        (torch.float32, BurnAdam, "pytorch_losses_burn_adam.csv"),
        (torch.float64, BurnAdam, "pytorch_losses_f64_burn_adam.csv"),
    )
    for dtype, adam, file in runs:
        curves = {name: train(x, y, state, name, args.epochs, dtype=dtype, adam=adam) for name in names}
        rows = [[epoch + 1] + [exact(curves[name][epoch]) for name in names] for epoch in range(args.epochs)]
        write_csv(out / file, ["epoch"] + names, rows)
        finals = ", ".join(f"{name} {curves[name][-1]:.6f}" for name in names)
        print(f"{file}: final loss {finals}")
    print(f"wrote {out}/seed_data.csv, initial_weights.safetensors, initial_weights.pt, pytorch_losses*.csv")


def command_train(args):
    x, y = read_csv(args.data)
    state = load_weights(args.weights)
    dtype = torch.float64 if args.float64 else torch.float32
    losses = train(x, y, state, args.activation, args.epochs, args.batch_size, args.lr, dtype)
    if args.output:
        write_csv(args.output, ["epoch", "loss"], [[i + 1, exact(v)] for i, v in enumerate(losses)])
    for epoch, loss in enumerate(losses):
        print(f"Epoch {epoch + 1}/{args.epochs}, Loss: {loss}")
    print("Training complete.")


def predict(args):
    state = load_file(args.model)
    model = SimpleModel(args.activation, sizes_of(state))
    model.load_state_dict(state)  # strict: every fcN.weight/bias, nothing else
    features = model.fc1.in_features
    x, _ = read_csv(args.input) if args.has_target else (read_features(args.input), None)
    if x.shape[1] != features:
        sys.exit(f"{args.input}: {x.shape[1]} feature columns, the model takes {features}")
    with torch.no_grad():
        return model(x)[:, 0].tolist()


def read_features(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return torch.tensor([[float(cell) for cell in row] for row in rows[1:]], dtype=torch.float32)


def command_predict(args):
    predictions = predict(args)
    write_csv(args.output, ["prediction"], [[exact(p)] for p in predictions])
    print(f"wrote {len(predictions)} predictions to {args.output}")


def command_check_export(args):
    predictions = predict(args)
    with open(args.expected, newline="") as handle:
        expected = [float(row[0]) for row in list(csv.reader(handle))[1:]]
    if len(expected) != len(predictions):
        sys.exit(f"{args.expected}: {len(expected)} rows, PyTorch made {len(predictions)}")
    worst = max(abs(a - b) for a, b in zip(predictions, expected))
    print(f"PyTorch loaded {args.model} with load_state_dict; max |torch - rust| = {worst:.3e} over {len(expected)} rows")
    if worst > args.tolerance:
        sys.exit(f"FAIL: difference {worst:.3e} exceeds {args.tolerance:g}")
    print(f"OK: within {args.tolerance:g}")


# Each optimiser as the Rust side's matching config sets it (tests/parity.rs).
OPTIMIZER_RUNS = {
    "sgd": (optim.SGD, dict(lr=0.01, momentum=0.5)),
    "adamw": (optim.AdamW, dict(lr=0.001, weight_decay=0.01)),
    "rmsprop": (optim.RMSprop, dict(lr=0.0003, alpha=0.99, eps=1e-8, momentum=0.5)),
}
OPTIMIZER_ACTIVATIONS = ["identity", "tanh", "sigmoid"]


def train_learnable(x, y, state, activation, epochs, dtype, adam):
    """The tutorial's loop with a learnable activation; per epoch the last batch's
    loss and each hidden layer's parameter."""
    model = LearnableModel(activation, sizes_of(state))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(key.startswith("act") for key in missing)
    model = model.to(dtype)
    x, y = x.to(dtype), y.to(dtype)
    criterion = nn.MSELoss()
    optimizer = adam(model.parameters(), lr=0.001)
    rows = []
    for _ in range(epochs):
        for i in range(0, len(x), 10):
            optimizer.zero_grad()
            loss = criterion(model(x[i : i + 10]), y[i : i + 10])
            loss.backward()
            optimizer.step()
        rows.append((loss.item(), model.learned()))
    return rows


def command_learnable_fixtures(args):
    out = Path(args.out)
    x, y = read_csv(out / "seed_data.csv")
    state = load_weights(out / "initial_weights.safetensors")
    for dtype, adam, file in (
        (torch.float32, optim.Adam, "pytorch_learnable.csv"),
        (torch.float64, BurnAdam, "pytorch_learnable_f64_burn_adam.csv"),
    ):
        rows = []
        for activation in LEARNABLE:
            for epoch, (loss, learned) in enumerate(train_learnable(x, y, state, activation, args.epochs, dtype, adam)):
                rows.append([activation, epoch + 1, exact(loss)] + [exact(v) for v in learned])
            print(f"{file} {activation}: final loss {rows[-1][2]}, parameters {rows[-1][3:]}")
        write_csv(out / file, ["activation", "epoch", "loss", "act1", "act2", "act3"], rows)


def command_optimizer_fixtures(args):
    out = Path(args.out)
    x, y = read_csv(out / "seed_data.csv")
    state = load_weights(out / "initial_weights.safetensors")
    for name, (optimizer, settings) in OPTIMIZER_RUNS.items():
        settings = dict(settings)
        lr = settings.pop("lr")
        curves = {
            activation: train(x, y, state, activation, args.epochs, lr=lr, adam=optimizer, **settings)
            for activation in OPTIMIZER_ACTIVATIONS
        }
        rows = [[epoch + 1] + [exact(curves[a][epoch]) for a in OPTIMIZER_ACTIVATIONS] for epoch in range(args.epochs)]
        write_csv(out / f"pytorch_losses_{name}.csv", ["epoch"] + OPTIMIZER_ACTIVATIONS, rows)
        finals = ", ".join(f"{a} {curves[a][-1]:.6f}" for a in OPTIMIZER_ACTIVATIONS)
        print(f"pytorch_losses_{name}.csv: final loss {finals}")


CLIP_SHAPES = [(4, 3), (4,), (2, 4), (2,), (1, 2), (1,)]


def command_clip_fixture(args):
    params = []
    for p, shape in enumerate(CLIP_SHAPES):
        count = int(np.prod(shape))
        values = [np.sin(7 * p + 0.37 * i) * (p + 1) for i in range(count)]
        param = torch.zeros(shape, dtype=torch.float32, requires_grad=True)
        param.grad = torch.tensor(values, dtype=torch.float32).reshape(shape)
        params.append(param)
    rows = []
    original = [param.grad.clone() for param in params]
    for max_norm in (1.5, 100.0):
        for param, grad in zip(params, original):
            param.grad = grad.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        for p, param in enumerate(params):
            for i, value in enumerate(param.grad.flatten().tolist()):
                rows.append([exact(max_norm), p, i, exact(original[p].flatten()[i].item()), exact(value), exact(norm.item())])
    out = Path(args.out)
    write_csv(out / "clip_grad_norm.csv", ["max_norm", "param", "index", "grad", "clipped", "total_norm"], rows)
    print(f"wrote {out}/clip_grad_norm.csv (torch {torch.__version__})")


BCE_LOGITS = [-100.0, -20.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 20.0, 100.0,
              3.5, -7.25, 12.0, -0.5, 88.0, -88.0, 1e-4, -30.0, 30.0]


def command_bce_fixture(args):
    logits = torch.tensor(BCE_LOGITS, dtype=torch.float32)
    # Alternate labels so that confident logits are both right and wrong.
    labels = torch.tensor([float(i % 2) for i in range(len(BCE_LOGITS))], dtype=torch.float32)
    each = nn.BCEWithLogitsLoss(reduction="none")(logits, labels)
    mean = nn.BCEWithLogitsLoss()(logits, labels)
    out = Path(args.out)
    rows = [[exact(z), exact(t), exact(v)] for z, t, v in zip(logits.tolist(), labels.tolist(), each.tolist())]
    write_csv(out / "bce_with_logits.csv", ["logit", "label", "loss"], rows)
    write_csv(out / "bce_with_logits_mean.csv", ["loss"], [[exact(mean.item())]])
    print(f"wrote {out}/bce_with_logits.csv and bce_with_logits_mean.csv (torch {torch.__version__})")


CROSS_ENTROPY_LOGITS = [
    [0.0, 0.0, 0.0],
    [1.0, 2.0, 3.0],
    [-1.5, 0.25, 4.0],
    [100.0, 0.0, -100.0],
    [-100.0, 100.0, 0.0],
    [20.0, 20.0, -3.0],
    [1e-3, -2e-3, 5e-4],
    [7.5, -7.5, 0.5],
]
CROSS_ENTROPY_ACTIVATIONS = ["identity", "relu", "tanh"]


def command_cross_entropy_fixtures(args):
    out = Path(args.out)
    logits = torch.tensor(CROSS_ENTROPY_LOGITS, dtype=torch.float32)
    # Each row's label in turn, so that confident logits are both right and wrong.
    labels = torch.tensor([i % 3 for i in range(len(CROSS_ENTROPY_LOGITS))])
    each = nn.CrossEntropyLoss(reduction="none")(logits, labels)
    mean = nn.CrossEntropyLoss()(logits, labels).item()
    rows = [[exact(v) for v in z] + [int(t), exact(e), exact(mean)]
            for z, t, e in zip(logits.tolist(), labels.tolist(), each.tolist())]
    write_csv(out / "cross_entropy_torch.csv", ["z0", "z1", "z2", "label", "loss", "mean"], rows)

    # Three blobs round a circle, shuffled, rounded to float32 as the lab reads them.
    generator = np.random.default_rng(3)
    points, classes = [], []
    for row in range(60):
        k = row % 3
        angle = np.pi / 2 + 2 * np.pi * k / 3
        points.append([np.cos(angle) + 0.4 * generator.standard_normal(),
                       np.sin(angle) + 0.4 * generator.standard_normal()])
        classes.append(k)
    order = generator.permutation(60)
    x = torch.tensor(np.array(points)[order], dtype=torch.float32)
    y = torch.tensor(np.array(classes)[order], dtype=torch.float32).reshape(-1, 1)
    write_csv(out / "three_class_data.csv", ["x1", "x2", "class"],
              [[exact(a), exact(b), int(c)] for (a, b), c in zip(x.tolist(), y[:, 0].tolist())])
    torch.manual_seed(0)
    model = SimpleModel("relu", [2, 8, 8, 3])
    state = {key: value.detach().clone().contiguous() for key, value in model.state_dict().items()}
    save_file(state, str(out / "three_class_initial.safetensors"))
    for dtype, adam, name in (
        (torch.float32, optim.Adam, "pytorch_cross_entropy_losses.csv"),
        (torch.float64, BurnAdam, "pytorch_cross_entropy_losses_f64_burn_adam.csv"),
    ):
        curves = [train(x, y, state, activation, epochs=args.epochs, lr=0.01, dtype=dtype, adam=adam,
                        criterion=class_cross_entropy)
                  for activation in CROSS_ENTROPY_ACTIVATIONS]
        write_csv(out / name, CROSS_ENTROPY_ACTIVATIONS,
                  [[exact(curve[epoch]) for curve in curves] for epoch in range(args.epochs)])
    print(f"wrote {out}/cross_entropy_torch.csv, three_class_*, pytorch_cross_entropy_losses*.csv "
          f"(torch {torch.__version__})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    fixtures = commands.add_parser("fixtures", help="write the parity fixtures")
    fixtures.add_argument("--out", default="tests/fixtures")
    fixtures.add_argument("--seed", type=int, default=0)
    fixtures.add_argument("--samples", type=int, default=100)
    fixtures.add_argument("--epochs", type=int, default=150)
    fixtures.set_defaults(run=command_fixtures)

    run = commands.add_parser("train", help="train once from files")
    run.add_argument("--data", required=True, help="CSV with a header; last column is the target")
    run.add_argument("--weights", required=True, help="initial weights: .safetensors or .pt")
    run.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    run.add_argument("--epochs", type=int, default=150)
    run.add_argument("--batch-size", type=int, default=10)
    run.add_argument("--lr", type=float, default=0.001)
    run.add_argument("--float64", action="store_true")
    run.add_argument("--output", help="write epoch,loss CSV here")
    run.set_defaults(run=command_train)

    optimizers = commands.add_parser("optimizer-fixtures", help="write the SGD/AdamW/RMSprop parity fixtures")
    optimizers.add_argument("--out", default="tests/fixtures")
    optimizers.add_argument("--epochs", type=int, default=150)
    optimizers.set_defaults(run=command_optimizer_fixtures)

    clip = commands.add_parser("clip-fixture", help="write the clip_grad_norm_ fixture")
    clip.add_argument("--out", default="tests/fixtures")
    clip.set_defaults(run=command_clip_fixture)

    learnable = commands.add_parser("learnable-fixtures", help="write the learnable activations' fixtures")
    learnable.add_argument("--out", default="tests/fixtures")
    learnable.add_argument("--epochs", type=int, default=150)
    learnable.set_defaults(run=command_learnable_fixtures)

    bce = commands.add_parser("bce-fixture", help="write the BCE-with-logits fixture")
    bce.add_argument("--out", default="tests/fixtures")
    bce.set_defaults(run=command_bce_fixture)

    cross_entropy = commands.add_parser("cross-entropy-fixtures", help="write the cross-entropy fixtures")
    cross_entropy.add_argument("--out", default="tests/fixtures")
    cross_entropy.add_argument("--epochs", type=int, default=60)
    cross_entropy.set_defaults(run=command_cross_entropy_fixtures)

    for name, handler, help_text in (
        ("predict", command_predict, "predict with a model.safetensors"),
        ("check-export", command_check_export, "compare with Rust's predictions"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--model", required=True, help="model.safetensors (PyTorch names and layout)")
        sub.add_argument("--input", required=True, help="CSV of features with a header")
        sub.add_argument("--has-target", action="store_true", help="the input's last column is a target")
        sub.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
        if name == "predict":
            sub.add_argument("--output", required=True)
        else:
            sub.add_argument("--expected", required=True, help="Rust's predictions CSV")
            sub.add_argument("--tolerance", type=float, default=1e-5)
        sub.set_defaults(run=handler)

    args = parser.parse_args()
    torch.set_num_threads(1)
    args.run(args)


if __name__ == "__main__":
    main()
