"""Writes tests/fixtures/stats/stats.json: scipy's Wilcoxon signed-rank and Friedman tests on
small cases (no ties, ties, zeros, few and many pairs), for tests/zeroshot_stats.rs.

    python3 scripts/gen_stats_fixtures.py    # scipy 1.17
"""
import json
import pathlib

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(7)
wilcoxon = []


def add_wilcoxon(name, x, y):
    res = stats.wilcoxon(x, y)
    wilcoxon.append({"name": name, "x": list(map(float, x)), "y": list(map(float, y)),
                     "statistic": float(res.statistic), "p_value": float(res.pvalue)})


x = rng.normal(0.8, 0.1, 12)
add_wilcoxon("exact_12", x, x - rng.normal(0.02, 0.05, 12))
x = rng.normal(0.8, 0.1, 30)
add_wilcoxon("exact_30", x, x - rng.normal(0.01, 0.05, 30))
x = rng.normal(0.8, 0.1, 60)
add_wilcoxon("normal_60", x, x - rng.normal(0.01, 0.05, 60))
a = np.round(rng.normal(0.8, 0.1, 25), 2)
add_wilcoxon("ties_and_zeros_25", a, np.round(a - rng.normal(0.0, 0.03, 25), 2))
a = np.round(rng.normal(0.8, 0.1, 10), 2)
b = a.copy()
b[:6] = np.round(a[:6] - rng.normal(0.02, 0.03, 6), 2)
add_wilcoxon("permutation_10", a, b)
add_wilcoxon("one_sided_data_8", [0.9, 0.8, 0.85, 0.7, 0.95, 0.6, 0.75, 0.88],
             [0.85, 0.7, 0.8, 0.69, 0.9, 0.55, 0.7, 0.8])

friedman = []


def add_friedman(name, rows):
    rows = np.asarray(rows, dtype=float)
    res = stats.friedmanchisquare(*rows.T)
    ranks = stats.rankdata(-rows, axis=1).mean(axis=0)
    friedman.append({"name": name, "scores": rows.tolist(), "statistic": float(res.statistic),
                     "p_value": float(res.pvalue), "average_ranks": ranks.tolist()})


add_friedman("continuous_20x5", rng.normal(0.8, 0.1, (20, 5)) + np.linspace(0, 0.05, 5))
add_friedman("ties_12x4", np.round(rng.normal(0.8, 0.05, (12, 4)), 2))
add_friedman("identical_columns_6x3",
             np.column_stack([np.arange(6.0), np.arange(6.0), np.arange(6.0)[::-1]]))

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stats" / "stats.json"
out.write_text(json.dumps({"scipy": scipy.__version__, "wilcoxon": wilcoxon,
                           "friedman": friedman}, indent=1) + "\n")
print(f"wrote {out}")
