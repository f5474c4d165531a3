#!/usr/bin/env python3
"""The fixture for the paired tests `train compare --seeds` prints: scipy's
paired t-test (`ttest_rel`) and exact Wilcoxon signed-rank test
(`wilcoxon(method="exact", zero_method="wilcox")`; where sizes tie, its
exhaustive `PermutationMethod()`, the exact test given the tied ranks), then Holm's adjustment
over all the cases as one family (statsmodels' `multipletests(method="holm")`).

Writes tests/fixtures/paired_tests_scipy.csv: case, a and b (one value per
seed, `;`-separated), the two p-values, the two Holm-adjusted ones (empty
where scipy gives none). Run from the repository root:

    pip install scipy statsmodels numpy
    python3 scripts/significance_reference.py
"""

import csv
import numpy as np
import scipy
import statsmodels
from scipy.stats import PermutationMethod, ttest_rel, wilcoxon
from statsmodels.stats.multitest import multipletests

generator = np.random.default_rng(20261202)


def seeds(n, shift, spread=0.01):
    """Final losses of two activations over n seeds, b better by `shift`."""
    a = 0.05 + spread * generator.standard_normal(n)
    b = a - shift + spread * 0.5 * generator.standard_normal(n)
    return a, b


cases = []
for name, (n, shift) in {
    "ten_seeds_clear": (10, 0.01),
    "ten_seeds_close": (10, 0.001),
    "five_seeds": (5, 0.004),
    "twenty_seeds": (20, 0.002),
    "three_seeds": (3, 0.0),
    "thirty_seeds": (30, 0.0005),
}.items():
    cases.append((name, *seeds(n, shift)))
# All ten one way: the smallest p the exact test can give, 2 / 2^10.
a = np.arange(1, 11) / 100.0
cases.append(("all_one_way", a, a - 0.001 * np.arange(1, 11)))
# Tied sizes and zero differences (dropped, zero_method="wilcox").
cases.append(
    (
        "ties_and_zeros",
        np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]),
        np.array([0.4, 0.7, 0.6, 0.8, 0.7, 1.0, 1.3, 1.0]),
    )
)
# Accuracies: shares of 100 rows, many ties.
cases.append(
    (
        "accuracies",
        np.array([0.91, 0.93, 0.9, 0.95, 0.92, 0.94, 0.9, 0.93]),
        np.array([0.93, 0.93, 0.92, 0.97, 0.93, 0.95, 0.92, 0.94]),
    )
)


def float_or_none(value):
    value = float(value)
    return None if np.isnan(value) else value


rows = []
for name, a, b in cases:
    a = np.round(a, 9)
    b = np.round(b, 9)
    t_p = float_or_none(ttest_rel(a, b).pvalue)
    d = a - b
    nonzero = np.abs(d[d != 0])
    if len(np.unique(nonzero)) == len(nonzero):
        w_p = float_or_none(wilcoxon(d, method="exact", zero_method="wilcox").pvalue)
    else:
        # With tied sizes scipy's "exact" uses the untied distribution (and
        # says so); the exact test given the tied ranks is its permutation
        # test, exhaustive (all 2^n sign flips) for n <= 13.
        assert len(d) <= 13
        w_p = float_or_none(
            wilcoxon(d, method=PermutationMethod(), zero_method="wilcox").pvalue
        )
    rows.append((name, a, b, t_p, w_p))


def holm(values):
    present = [i for i, v in enumerate(values) if v is not None]
    # Every comparison counts, also one whose test could not be computed:
    # it enters the family with p = 1.
    filled = [1.0 if v is None else v for v in values]
    adjusted = multipletests(filled, method="holm")[1]
    return [float(adjusted[i]) if i in present else None for i in range(len(values))]


t_holm = holm([r[3] for r in rows])
w_holm = holm([r[4] for r in rows])

with open("tests/fixtures/paired_tests_scipy.csv", "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["case", "a", "b", "t_p", "wilcoxon_p", "t_p_holm", "wilcoxon_p_holm"])
    for (name, a, b, t_p, w_p), th, wh in zip(rows, t_holm, w_holm):
        cell = lambda v: "" if v is None else repr(v)
        writer.writerow(
            [
                name,
                ";".join(repr(float(v)) for v in a),
                ";".join(repr(float(v)) for v in b),
                cell(t_p),
                cell(w_p),
                cell(th),
                cell(wh),
            ]
        )
print(
    f"wrote tests/fixtures/paired_tests_scipy.csv ({len(rows)} cases; "
    f"scipy {scipy.__version__}, statsmodels {statsmodels.__version__})"
)
