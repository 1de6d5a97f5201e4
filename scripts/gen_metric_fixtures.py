#!/usr/bin/env python3
"""Generate the JSON fixtures of tests/metrics_parity.rs.

* ranking.json: scikit-learn's roc_auc_score and average_precision_score on random scores,
  heavy ties, constant scores, a single positive and a large series.
* cost.json: the HPC cost model computed the way the course defines it (sets of indices and
  shifts by -tolerance..tolerance), on small ordered series with anomaly runs, for tolerance
  0, 1 and 12: counts and costs at every candidate threshold, the optimum on a np.linspace grid
  and the optimum over all cut points, both found by brute force, ties going to the highest
  threshold.

Scores and thresholds are stored as IEEE-754 bit patterns (unsigned 64-bit integers) so the
Rust side reads back exactly the same doubles.

Usage: python3 scripts/gen_metric_fixtures.py  (writes into tests/fixtures/metrics/)
"""

import json
import math
import struct
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "metrics"
EDGE_MARGIN = 1e-9
F64_MAX = np.finfo(np.float64).max


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def bits_list(xs):
    return [bits(x) for x in xs]


# --------------------------------------------------------------------------- ranking


def ranking_case(name, scores, labels, exact_scores=True):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    case = {"name": name, "labels": [int(v) for v in labels]}
    if exact_scores:
        case["scores_bits"] = bits_list(scores)
    else:
        # Integer-valued scores: plain JSON numbers are read back exactly.
        assert np.all(scores == np.round(scores)) and np.all(np.abs(scores) < 2**53)
        case["scores"] = [int(s) for s in scores]
    both = labels.any() and (~labels).any()
    case["roc_auc"] = float(roc_auc_score(labels, scores)) if both else None
    case["average_precision"] = float(average_precision_score(labels, scores)) if labels.any() else None
    return case


def ranking_cases(rng):
    cases = []
    n = 50
    labels = rng.random(n) < 0.3
    cases.append(ranking_case("random", rng.normal(size=n) + labels, labels))
    labels = rng.random(n) < 0.5
    cases.append(ranking_case("random_balanced_weak", rng.normal(size=n) + 0.3 * labels, labels))
    n = 120
    labels = rng.random(n) < 0.25
    cases.append(ranking_case("heavy_ties_3_values", np.round(rng.normal(size=n) + labels), labels))
    labels = rng.random(n) < 0.4
    cases.append(ranking_case("heavy_ties_2_values", (rng.random(n) + 0.3 * labels > 0.7).astype(float), labels))
    labels = rng.random(20) < 0.3
    labels[0] = True
    labels[1] = False
    cases.append(ranking_case("constant", np.full(20, 3.25), labels))
    labels = np.zeros(30, dtype=bool)
    labels[17] = True
    cases.append(ranking_case("single_positive", rng.normal(size=30), labels))
    labels = np.ones(30, dtype=bool)
    labels[4] = False
    cases.append(ranking_case("single_negative", np.round(rng.normal(size=30), 1), labels))
    scores = np.arange(10, dtype=float)
    cases.append(ranking_case("perfect", scores, scores >= 7))
    cases.append(ranking_case("inverse", scores, scores < 3))
    n = 2000
    labels = rng.random(n) < 0.1
    scores = np.round((rng.normal(size=n) + 1.2 * labels) * 400.0)
    cases.append(ranking_case("large_2000", scores, labels, exact_scores=False))
    labels = rng.random(n) < 0.02
    scores = np.round(rng.exponential(size=n) * 5.0 + 3.0 * labels)
    cases.append(ranking_case("large_2000_rare_ties", scores, labels, exact_scores=False))
    return cases


# --------------------------------------------------------------------------- cost model


def alarm_keys(scores):
    """NaN scores alarm under every finite threshold: read them as +inf."""
    return np.where(np.isnan(scores), np.inf, scores)


def course_counts(scores, labels, thr, tol):
    """The course's HPC cost model: set differences over the shifts -tol..tol."""
    pred = set(int(i) for i in np.where(alarm_keys(scores) > thr)[0])
    anomalies = set(int(i) for i in np.where(labels)[0])
    shifts = range(-tol, tol + 1)
    near_anomalies = {a + s for a in anomalies for s in shifts}
    near_alarms = {p + s for p in pred for s in shifts}
    false_alarms = pred - near_anomalies
    missed = anomalies - near_alarms
    return {
        "alarms": len(pred),
        "false_alarms": len(false_alarms),
        "anomalies": len(anomalies),
        "missed": len(missed),
    }


def course_cost(counts, c_alarm, c_missed):
    return c_alarm * counts["false_alarms"] + c_missed * counts["missed"]


def just_below(key):
    if key == math.inf:
        return F64_MAX
    t = key - max(abs(key), 1.0) * EDGE_MARGIN
    return t if (math.isfinite(t) and t < key) else None


def cut_between(low, high):
    if math.isfinite(low) and math.isfinite(high):
        t = low / 2.0 + high / 2.0
    elif math.isfinite(low):
        t = low + max(abs(low), 1.0) * EDGE_MARGIN
    elif math.isfinite(high):
        t = high - max(abs(high), 1.0) * EDGE_MARGIN
    else:
        t = 0.0
    return t if (low <= t < high and math.isfinite(t)) else low


def cut_point_candidates(scores):
    distinct = sorted(set(float(k) for k in alarm_keys(scores)))
    out = []
    below = just_below(distinct[0])
    if below is not None:
        out.append(below)
    out += [cut_between(a, b) for a, b in zip(distinct, distinct[1:])]
    if math.isfinite(distinct[-1]):
        out.append(distinct[-1])
    return out


def best_highest(thresholds, costs):
    """Lowest cost; among equal costs the highest threshold."""
    best = None
    for t, c in zip(thresholds, costs):
        if best is None or c < best[1] or (c == best[1] and t > best[0]):
            best = (t, c)
    return best


def cost_case(name, scores, labels, tol, c_alarm, c_missed, grid):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    low, high, n = grid
    candidates = cut_point_candidates(scores)
    # Every candidate realises a different partition of the rows, and together they realise
    # all of them (one per distinct key, plus "everything").
    keys = alarm_keys(scores)
    partitions = {tuple(keys > t) for t in candidates}
    assert len(partitions) == len(candidates)
    assert all(math.isfinite(t) for t in candidates)
    # Counts at every cut-point candidate, one array per field.
    probes = {"threshold_bits": bits_list(candidates), "alarms": [], "false_alarms": [], "missed": [], "cost": []}
    for t in candidates:
        counts = course_counts(scores, labels, t, tol)
        for field in ("alarms", "false_alarms", "missed"):
            probes[field].append(counts[field])
        probes["cost"].append(course_cost(counts, c_alarm, c_missed))
    cut_t, cut_c = best_highest(candidates, probes["cost"])
    # Brute force over every threshold that can matter: each distinct score itself and one
    # below all of them reaches no cheaper cost than the cut points.
    all_partitions = sorted(set(float(k) for k in keys if math.isfinite(k)))
    for t in all_partitions + [-F64_MAX]:
        assert course_cost(course_counts(scores, labels, t, tol), c_alarm, c_missed) >= cut_c
    grid_points = np.linspace(low, high, n)
    grid_costs = [course_cost(course_counts(scores, labels, t, tol), c_alarm, c_missed) for t in grid_points]
    grid_t, grid_c = best_highest([float(t) for t in grid_points], grid_costs)
    argmin_t = float(grid_points[int(np.argmin(grid_costs))])
    never = course_counts(scores, labels, math.inf, tol)
    return {
        "name": name,
        "tolerance": tol,
        "c_alarm": c_alarm,
        "c_missed": c_missed,
        "scores_bits": bits_list(scores),
        "labels": [int(v) for v in labels],
        "never_alarm_cost": course_cost(never, c_alarm, c_missed),
        "cut_points": probes,
        "cut_best": {"threshold_bits": bits(cut_t), "cost": cut_c,
                     **course_counts(scores, labels, cut_t, tol)},
        "linspace": {"low_bits": bits(low), "high_bits": bits(high), "n": n,
                     "points_bits": bits_list(grid_points)},
        "linspace_best": {"threshold_bits": bits(grid_t), "cost": grid_c,
                          **course_counts(scores, labels, grid_t, tol)},
        "numpy_argmin_threshold_bits": bits(argmin_t),
    }


def series_with_runs(rng, n, n_runs, run_len, lag, decimals):
    """Noise, anomaly runs, scores raised near (and partly after) each run, a few false spikes."""
    labels = np.zeros(n, dtype=bool)
    scores = rng.normal(size=n)
    for _ in range(n_runs):
        start = int(rng.integers(0, n - run_len))
        length = int(rng.integers(1, run_len + 1))
        labels[start:start + length] = True
        lo, hi = start + lag, min(n, start + length + lag)
        scores[lo:hi] += rng.uniform(0.5, 3.0, size=max(0, hi - lo))
    spikes = rng.integers(0, n, size=max(1, n // 25))
    scores[spikes] += rng.uniform(1.0, 3.0, size=len(spikes))
    return np.round(scores, decimals), labels


def cost_cases(rng):
    cases = []
    for tol in (0, 1, 12):
        for k, (n, runs, run_len, lag, dec) in enumerate(
            [(40, 2, 5, 0, 1), (80, 3, 8, 1, 1), (150, 4, 20, 2, 2), (60, 2, 6, 3, 0)]
        ):
            scores, labels = series_with_runs(rng, n, runs, run_len, lag, dec)
            grid = (float(np.floor(scores.min())) - 0.5, float(np.ceil(scores.max())) + 0.5, 41)
            c_alarm, c_missed = [(1.0, 5.0), (2.0, 3.0), (1.0, 5.0), (0.5, 1.0)][k]
            cases.append(cost_case(f"runs_{k}_tol{tol}", scores, labels, tol, c_alarm, c_missed, grid))
        # Ties and a NaN score (read as +inf: it always alarms).
        scores, labels = series_with_runs(rng, 50, 2, 6, 1, 0)
        scores[7] = np.nan
        grid = (float(np.nanmin(scores)) - 0.5, float(np.nanmax(scores)) + 0.5, 21)
        cases.append(cost_case(f"nan_and_ties_tol{tol}", scores, labels, tol, 1.0, 5.0, grid))
        # No anomaly at all: the optimum never alarms.
        scores = np.round(rng.normal(size=30), 1)
        cases.append(cost_case(f"no_anomaly_tol{tol}", scores, np.zeros(30, bool), tol, 1.0, 5.0, (-3.0, 3.0, 13)))
    # HPC-like: negative log-likelihood scale, the course's grid and model (1, 5, 12).
    scores, labels = series_with_runs(rng, 300, 4, 40, 2, 3)
    scores = np.round(np.exp(np.clip(scores * 3.0 + 14.0, 0, 21)), 3)
    cases.append(cost_case("hpc_like_course_grid", scores, labels, 12, 1.0, 5.0, (1e4, 1e9, 1000)))
    return cases


def main():
    rng = np.random.default_rng(20261122)
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"generator": "scripts/gen_metric_fixtures.py", "sklearn": sklearn.__version__,
            "numpy": np.__version__}
    (OUT / "ranking.json").write_text(json.dumps({**meta, "cases": ranking_cases(rng)}, allow_nan=False) + "\n")
    (OUT / "cost.json").write_text(json.dumps({**meta, "cases": cost_cases(rng)}, allow_nan=False) + "\n")
    for f in sorted(OUT.glob("*.json")):
        print(f, f.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
