#!/usr/bin/env python3
"""PyTorch's values and slopes of every activation the lab has, for
tests/parity.rs: tests/fixtures/activations_torch.csv, one row per activation,
precision and input, with `y = f(x)` and `dy = f'(x)` from autograd (at a
kink, the one PyTorch uses). The learnable activations (prelu, swish_beta)
are taken at their initial parameter.

The inputs are k / 10 for k in -80..80 (which hit the kinks at -3, -1, 0, 1,
3, 6 exactly), plus -50, -20, 20, 50 (softplus' and mish's far ends) and
+-1e-4. Run from the repository root:

    pip install torch
    python3 scripts/activation_reference.py
"""

import csv
import math

import torch
import torch.nn.functional as F


def sin(w0):
    return lambda x: torch.sin(w0 * x)


# The lab's name (its config and flag spelling) and PyTorch's definition.
ACTIVATIONS = [
    ("identity", lambda x: x),
    ("relu", F.relu),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.01)),
    ("leaky_relu(0.2)", lambda x: F.leaky_relu(x, 0.2)),
    ("sigmoid", torch.sigmoid),
    ("tanh", torch.tanh),
    ("gelu", F.gelu),
    ("silu", F.silu),
    ("elu", F.elu),
    ("elu(0.5)", lambda x: F.elu(x, 0.5)),
    ("softplus", F.softplus),
    ("selu", F.selu),
    ("mish", F.mish),
    ("hardswish", F.hardswish),
    ("hardsigmoid", F.hardsigmoid),
    ("hardtanh", F.hardtanh),
    ("hardtanh(-2,0.5)", lambda x: F.hardtanh(x, -2.0, 0.5)),
    ("relu6", F.relu6),
    ("celu", F.celu),
    ("celu(0.5)", lambda x: F.celu(x, 0.5)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ("softsign", F.softsign),
    ("sin", sin(1.0)),
    ("sin(3)", sin(3.0)),
    # The learnable ones at their initial parameter (nn.PReLU's 0.25, beta 1).
    ("prelu", lambda x: F.prelu(x, torch.full((1,), 0.25, dtype=x.dtype))),
    ("swish_beta", lambda x: x * torch.sigmoid(torch.ones(1, dtype=x.dtype) * x)),
]

INPUTS = [k / 10 for k in range(-80, 81)] + [-50.0, -20.0, 20.0, 50.0, -1e-4, 1e-4]

with open("tests/fixtures/activations_torch.csv", "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["activation", "precision", "x", "y", "dy"])
    for precision, dtype in [("float32", torch.float32), ("float64", torch.float64)]:
        for name, function in ACTIVATIONS:
            x = torch.tensor(INPUTS, dtype=dtype, requires_grad=True)
            y = function(x)
            (dy,) = torch.autograd.grad(y.sum(), x)
            for xi, yi, di in zip(x.tolist(), y.tolist(), dy.tolist()):
                assert math.isfinite(yi) and math.isfinite(di), (name, xi)
                writer.writerow([name, precision, repr(xi), repr(yi), repr(di)])
print(f"torch {torch.__version__}: {len(ACTIVATIONS)} activations x {len(INPUTS)} inputs x 2 precisions")
