#!/usr/bin/env python3
"""What the live lab's view of a network's inside (the diagram, the region
map and its count, a clicked unit) costs: the same identity/relu pair trained
at full speed by two `train` binaries, one built before the inside was shown
and one after, alternated ROUNDS times on one machine, on three networks (the
lab's circle, the spiral preset, the lab's largest). A page listens to the
event stream, as in the browser; "regions" also asks both runs for their
region polygons and a clicked unit. Prints every time and the median ratios.

    python3 scripts/lab_inside_cost.py OLD_TRAIN NEW_TRAIN [ROUNDS]
"""
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

old, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5

WORKLOADS = {
    "circle [8, 8], 1500 epochs": {"training.epochs": 1500},
    "spiral [32, 32, 16], 300 epochs": {
        "data.kind": "spiral", "data.samples": 500, "data.noise_std": 0.05,
        "data.validation_fraction": 0.2, "model.hidden": [32, 32, 16],
        "training.lr": 0.005, "training.epochs": 300,
    },
    "circle 8 x 128, 60 epochs": {"model.hidden": [128] * 8, "training.epochs": 60},
}


def call(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def listen(url):
    """Reads the event stream to its end, as a page would."""
    try:
        with urllib.request.urlopen(url) as stream:
            while stream.readline():
                pass
    except OSError:
        pass


def seconds(train, shared, wish):
    """Start to both finished, for one fresh server and lab."""
    server = subprocess.Popen([train, "serve", "--port", "0"], stdout=subprocess.PIPE,
                              text=True)
    url = server.stdout.readline().split(" on ")[1].strip()
    try:
        runs = [{"model.activation": "identity"}, {"model.activation": "relu"}]
        lab = call(f"{url}/api/labs", "POST", {"shared": shared, "runs": runs, "speed": 0})
        lab_id = lab["lab"]["id"]
        if wish:
            for run in ("A", "B"):
                call(f"{url}/api/labs/{lab_id}/control", "POST",
                     {"action": "view", "run": run, "regions": True, "unit": [0, 1]})
        threading.Thread(target=listen, args=(f"{url}/api/labs/{lab_id}/events",),
                         daemon=True).start()
        started = time.perf_counter()
        call(f"{url}/api/labs/{lab_id}/control", "POST", {"action": "start"})
        while True:
            states = [run["state"] for run in call(f"{url}/api/labs/{lab_id}")["runs"]]
            if states == ["finished", "finished"]:
                return time.perf_counter() - started
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait()


times = {}
for _ in range(rounds):
    for name, shared in WORKLOADS.items():
        for label, train, wish in (("before", old, False), ("after", new, False),
                                   ("after, regions + unit", new, True)):
            t = seconds(train, shared, wish)
            times.setdefault((name, label), []).append(t)
            print(f"{name:34} {label:22} {t:.2f} s", flush=True)
print()
for name in WORKLOADS:
    before = statistics.median(times[(name, "before")])
    for label in ("after", "after, regions + unit"):
        after = statistics.median(times[(name, label)])
        print(f"{name:34} {label:22} median {after:.2f} s / before {before:.2f} s = "
              f"{after / before:.2f}x")
