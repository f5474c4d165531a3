#!/usr/bin/env python3
"""What the live lab costs over the command line: the same run (config/lab.toml,
relu, 300 epochs) trained by `train` and by a one-run lab at full speed (frames
every 100 ms, a surface each), alternated ROUNDS times on one machine; prints
each time and the ratio of the medians.

    python3 scripts/lab_overhead.py [TRAIN_BINARY] [ROUNDS]
"""
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request

train = sys.argv[1] if len(sys.argv) > 1 else "target/debug/train"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def call(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def cli_seconds():
    started = time.perf_counter()
    out = subprocess.run([train, "--config", "config/lab.toml", "--activation", "relu",
                          "--quiet"], check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    loop = float(re.search(r"training loop\s+([0-9.]+) s", out).group(1))
    return loop, wall


def lab_seconds(url):
    lab = call(f"{url}/api/labs", "POST",
               {"runs": [{"model.activation": "relu"}], "speed": 0})
    lab_id = lab["lab"]["id"]
    started = time.perf_counter()
    call(f"{url}/api/labs/{lab_id}/control", "POST", {"action": "start"})
    while True:
        snapshot = call(f"{url}/api/labs/{lab_id}")
        if snapshot["runs"][0]["state"] != "running" and snapshot["runs"][0]["epoch"] > 0:
            break
        time.sleep(0.01)
    wall = time.perf_counter() - started
    assert snapshot["runs"][0]["state"] == "finished", snapshot["runs"][0]["state"]
    call(f"{url}/api/labs/{lab_id}", "DELETE")
    return snapshot["runs"][0]["records"][-1]["elapsed_s"], wall


server = subprocess.Popen([train, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
url = server.stdout.readline().split(" on ")[1].strip()
cli, lab = [], []
try:
    for _ in range(rounds):
        cli.append(cli_seconds())
        lab.append(lab_seconds(url))
finally:
    server.terminate()
    server.wait()
for name, times in (("cli", cli), ("lab", lab)):
    print(name, " ".join(f"loop {loop:.3f}s wall {wall:.3f}s" for loop, wall in times))
cli_loop = statistics.median(t[0] for t in cli)
lab_wall = statistics.median(t[1] for t in lab)
lab_loop = statistics.median(t[0] for t in lab)
print(f"median: cli loop {cli_loop:.3f}s, lab loop {lab_loop:.3f}s, lab start-to-finished "
      f"{lab_wall:.3f}s; lab wall / cli loop = {lab_wall / cli_loop:.2f}x")
