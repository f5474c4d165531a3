#!/usr/bin/env python3
"""The fixtures for `train compare`'s linear row on class labels: scikit-learn's
LogisticRegression on its breast-cancer data (569 rows, 30 features), with the
ridge the lab states (1e-4 x |w|^2 / 2 on the mean log-loss, i.e. C = 1 / (1e-4 n),
the intercept unpenalised).

Writes tests/fixtures/breast_cancer.csv (the features standardised and rounded
to float32, as the lab reads them, then the label) and
tests/fixtures/breast_cancer_sklearn.json (coefficients, intercept, log-loss,
accuracy). Run from the repository root:

    pip install scikit-learn numpy
    python3 scripts/sklearn_logistic_reference.py
"""

import json

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss

RIDGE = 1e-4

data = load_breast_cancer()
x = data.data
x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
y = data.target.astype(np.float32)
names = [name.replace(" ", "_") for name in data.feature_names]

with open("tests/fixtures/breast_cancer.csv", "w") as out:
    out.write(",".join(names + ["label"]) + "\n")
    for row, label in zip(x, y):
        out.write(",".join(str(v) for v in row) + f",{int(label)}\n")

# What the lab reads back: float32 values, fitted in float64.
features = x.astype(np.float64)
rows = len(y)
model = LogisticRegression(
    C=1.0 / (RIDGE * rows),
    solver="newton-cholesky",
    tol=1e-12,
    max_iter=1000,
    fit_intercept=True,
)
model.fit(features, y)
p = model.predict_proba(features)[:, 1]
reference = {
    "sklearn": sklearn.__version__,
    "ridge": RIDGE,
    "C": 1.0 / (RIDGE * rows),
    "coef": [float(v) for v in model.coef_[0]],
    "intercept": float(model.intercept_[0]),
    "log_loss": float(log_loss(y, p)),
    "accuracy": float(accuracy_score(y, p > 0.5)),
}
with open("tests/fixtures/breast_cancer_sklearn.json", "w") as out:
    json.dump(reference, out, indent=1)
    out.write("\n")
print(f"accuracy {reference['accuracy']:.4f}, log-loss {reference['log_loss']:.6f}")

# Several classes: multinomial logistic regression on Fisher's iris data
# (150 rows, 4 features, 3 classes), standardised, the same ridge.
from sklearn.datasets import load_iris  # noqa: E402

iris = load_iris()
x = iris.data
x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
y = iris.target
names = [name.replace(" (cm)", "").replace(" ", "_") for name in iris.feature_names]
with open("tests/fixtures/iris.csv", "w") as out:
    out.write(",".join(names + ["species"]) + "\n")
    for row, label in zip(x, y):
        out.write(",".join(str(v) for v in row) + f",{int(label)}\n")
features = x.astype(np.float64)
rows = len(y)
model = LogisticRegression(
    C=1.0 / (RIDGE * rows),
    solver="newton-cholesky",
    tol=1e-12,
    max_iter=1000,
    fit_intercept=True,
)
model.fit(features, y)
p = model.predict_proba(features)
reference = {
    "sklearn": sklearn.__version__,
    "ridge": RIDGE,
    "C": 1.0 / (RIDGE * rows),
    "coef": [[float(v) for v in row] for row in model.coef_],
    "intercept": [float(v) for v in model.intercept_],
    "log_loss": float(log_loss(y, p)),
    "accuracy": float(accuracy_score(y, p.argmax(axis=1))),
    "probabilities_first_rows": [[float(v) for v in row] for row in p[:5]],
}
with open("tests/fixtures/iris_sklearn.json", "w") as out:
    json.dump(reference, out, indent=1)
    out.write("\n")
print(f"iris: accuracy {reference['accuracy']:.4f}, log-loss {reference['log_loss']:.6f}")
