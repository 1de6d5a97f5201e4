#!/usr/bin/env python3
"""Fixtures for the report's numerics (tests/report_numerics.rs), from scikit-learn 1.9.1 and
SciPy: ROC curves (`roc_curve`, with and without `drop_intermediate`), ranks within blocks
(`rankdata`), Friedman's test (`friedmanchisquare`) with Iman and Davenport's F, the Nemenyi
q table (`studentized_range`) and NumPy's quantiles.

    pip install scikit-learn==1.9.1
    python3 scripts/gen_report_fixtures.py   # writes tests/fixtures/report/numerics.json
"""
import json
import pathlib

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.metrics import roc_curve

rng = np.random.default_rng(20261201)
out = {"sklearn": sklearn.__version__, "scipy": scipy.__version__}

roc = []
for n, ties in [(12, False), (40, True), (300, True), (1000, False)]:
    labels = rng.random(n) < 0.3
    labels[0], labels[1] = True, False
    scores = rng.normal(size=n) + 1.5 * labels
    if ties:
        scores = np.round(scores, 1)
    case = {"scores": scores.tolist(), "labels": labels.astype(bool).tolist()}
    for drop in (False, True):
        fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=drop)
        case["drop" if drop else "all"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    roc.append(case)
out["roc"] = roc

friedman = []
for blocks, k, ties in [(6, 3, False), (27, 3, True), (14, 4, False), (12, 5, True)]:
    values = rng.random((blocks, k))
    if ties:
        values = np.round(values, 1)
    ranks = np.array([stats.rankdata(-row, method="average") for row in values])
    chi2, p = stats.friedmanchisquare(*values.T)
    f = (blocks - 1) * chi2 / (blocks * (k - 1) - chi2)
    f_p = stats.f.sf(f, k - 1, (k - 1) * (blocks - 1))
    friedman.append({
        "values": values.tolist(),
        "ranks": ranks.tolist(),
        "chi_square": float(chi2),
        "p_value": float(p),
        "iman_davenport_f": float(f),
        "iman_davenport_p": float(f_p),
    })
out["friedman"] = friedman

out["nemenyi_q_05"] = [float(stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2)) for k in range(2, 21)]

values = rng.normal(size=37)
out["quantile"] = {
    "values": values.tolist(),
    "q": [0.0, 0.01, 0.25, 0.5, 0.75, 0.995, 1.0],
    "expected": [float(np.quantile(values, q)) for q in [0.0, 0.01, 0.25, 0.5, 0.75, 0.995, 1.0]],
}

path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "report" / "numerics.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
