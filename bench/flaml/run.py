#!/usr/bin/env python3
"""Side-by-side benchmark: gmmtune's cost-frugal search (CFO) against FLAML's CFO with
scikit-learn's GaussianMixture, on the same rows, the same search space and the same time
budget per dataset.

    python3 bench/flaml/run.py [--budget 10] [--small | --large | --datasets a,b,c] [--quick]

For every dataset one stratified, seeded 60/20/20 split is made here and written (with a
`split` column) to a temporary directory; both sides read exactly these rows. Features are
standardised with the mean and population std of the normal training rows, the GMM is fitted on
those rows only, the anomaly score is the negative log-likelihood and the objective is the
validation ROC AUC. Each side searches one dataset at a time, one after the other, with two
threads.

Besides trial counts and the best validation AUC, it measures the time to quality: the seconds
gmmtune's CFO needs to reach the best validation AUC FLAML's CFO reached in its budget, against
the seconds FLAML needed for it (both from the trials' finishing times).

Writes `bench/out/flaml.md` (the table) and `bench/out/flaml.json` (every figure).
"""

from __future__ import annotations

import os


def _sklearn_threads(argv: list[str]) -> str:
    """The value of `--sklearn-threads` (default 2), read before numpy is imported."""
    for i, arg in enumerate(argv):
        if arg == "--sklearn-threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--sklearn-threads="):
            return arg.split("=", 1)[1]
    return "2"


# Thread limits must be set before numpy / scikit-learn load their BLAS and OpenMP runtimes.
_THREADS = _sklearn_threads(os.sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = _THREADS

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

DEFAULT_DATASETS = [
    "wbc", "wine", "glass", "lymphography", "hepatitis", "pima", "breastw", "ionosphere",
    "wdbc", "wpbc", "vowels", "letter", "cardio", "cardiotocography", "fault", "yeast",
    "thyroid", "waveform", "spambase", "optdigits", "satimage_2", "satellite", "landsat",
    "pendigits", "annthyroid", "mammography",
]
# The shipped sets of 7,600 rows and more that the default list leaves out.
LARGE_DATASETS = ["magic_gamma", "campaign", "smtp", "celeba", "skin", "http", "mnist"]
QUICK_DATASETS = ["wbc", "glass"]
QUICK_BUDGET = 3.0

COVARIANCE_TYPES = ["spherical", "diag", "tied", "full"]  # cheapest first
INITS = ["random_from_data", "random", "k-means++", "kmeans"]  # cheapest first
N_COMPONENTS = (1, 32)  # inclusive
REG_COVAR = (1.0e-6, 1.0e-1)
FIT = {"max_iter": 100, "tol": 1.0e-3, "n_init": 1}
LOW_COST = {"n_components": 1, "covariance_type": "spherical", "init": "random_from_data"}

# Goals of the comparison.
GOAL_MEDIAN_RATIO = 10.0
GOAL_SHARE = 0.90
GOAL_MEDIAN_TIME_SPEEDUP = 10.0
AUC_SLACK = 1e-9


# --------------------------------------------------------------------------------------------
# Data


def load_registry(path: Path) -> dict[str, dict]:
    """Name -> registry entry (with `path` made absolute) of the dataset registry YAML."""
    import yaml  # PyYAML, installed with the benchmark's Python

    with open(path) as f:
        doc = yaml.safe_load(f)
    out = {}
    for entry in doc.get("datasets", []):
        entry = dict(entry)
        entry["path"] = str((path.parent / entry["path"]).resolve())
        out[entry["name"]] = entry
    return out


def stratified_split(labels: np.ndarray, seed: int) -> np.ndarray:
    """Array of 'train' / 'validation' / 'test' tags: 60/20/20, stratified by label."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    train, rest = train_test_split(
        index, train_size=0.6, stratify=labels, random_state=seed, shuffle=True
    )
    validation, test = train_test_split(
        rest, train_size=0.5, stratify=labels[rest], random_state=seed + 1, shuffle=True
    )
    tags = np.empty(len(labels), dtype=object)
    tags[train] = "train"
    tags[validation] = "validation"
    tags[test] = "test"
    return tags


class Prepared:
    """One dataset split and standardised as the protocol prescribes."""

    def __init__(self, name: str, frame: pd.DataFrame, label_column: str, exclude: list[str],
                 seed: int):
        self.name = name
        labels = (frame[label_column].to_numpy(dtype=float) != 0).astype(int)
        features = [c for c in frame.columns if c != label_column and c not in exclude]
        x = frame[features].to_numpy(dtype=float)
        self.tags = stratified_split(labels, seed)
        self.frame = frame[features].copy()
        self.frame["label"] = labels
        self.frame["split"] = self.tags
        self.n_rows, self.n_features = x.shape
        self.anomalies = int(labels.sum())

        train = self.tags == "train"
        fit_rows = train & (labels == 0)
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(x[fit_rows])
        z = scaler.transform(x)
        self.x_fit = z[fit_rows]
        val = self.tags == "validation"
        test = self.tags == "test"
        self.x_val, self.y_val = z[val], labels[val]
        self.x_test, self.y_test = z[test], labels[test]

    def write_csv(self, directory: Path) -> Path:
        """Writes the rows with their split tags; both sides read this file."""
        path = directory / f"{self.name}.csv"
        self.frame.to_csv(path, index=False, float_format="%.17g")
        return path


# --------------------------------------------------------------------------------------------
# FLAML side


def run_flaml(data: Prepared, budget: float, seed: int) -> dict:
    """FLAML CFO over the space on one dataset; every trial fits sklearn's GaussianMixture."""
    from flaml import tune
    from flaml.tune.searcher.blendsearch import CFO
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import roc_auc_score
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    space = {
        "n_components": tune.lograndint(N_COMPONENTS[0], N_COMPONENTS[1] + 1),
        "covariance_type": tune.choice(COVARIANCE_TYPES),
        "reg_covar": tune.loguniform(*REG_COVAR),
        "init": tune.choice(INITS),
    }
    # A cost list per categorical makes FLAML order its categories by cost (cheapest first).
    cat_hp_cost = {
        "covariance_type": [1.0, 2.0, 3.0, 4.0],
        "init": [1.0, 2.0, 3.0, 4.0],
    }
    trials: list[dict] = []
    start = [0.0]

    def evaluate(config: dict) -> dict:
        index = len(trials)
        t0 = time.perf_counter()
        record = {
            "trial": index,
            "config": {
                "n_components": int(config["n_components"]),
                "covariance_type": config["covariance_type"],
                "reg_covar": float(config["reg_covar"]),
                "init": config["init"],
            },
            "seed": seed * 1_000_003 + index,
        }
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gmm = GaussianMixture(
                    n_components=record["config"]["n_components"],
                    covariance_type=record["config"]["covariance_type"],
                    reg_covar=record["config"]["reg_covar"],
                    init_params=record["config"]["init"],
                    max_iter=FIT["max_iter"],
                    tol=FIT["tol"],
                    n_init=FIT["n_init"],
                    random_state=record["seed"] % (2**32),
                ).fit(data.x_fit)
                record["fit_seconds"] = time.perf_counter() - t0
                val_score = -gmm.score_samples(data.x_val)
                test_score = -gmm.score_samples(data.x_test)
            if not (np.all(np.isfinite(val_score)) and np.all(np.isfinite(test_score))):
                raise ValueError("non-finite log-likelihood")
            record["status"] = "ok"
            record["val_auc"] = float(roc_auc_score(data.y_val, val_score))
            record["test_auc"] = float(roc_auc_score(data.y_test, test_score))
            record["converged"] = bool(gmm.converged_)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as e:
            # A failed fit is the worst possible AUC for the searcher (an empty result would
            # end FLAML's sequential loop) and is counted as failed here.
            record["status"] = "failed"
            record["error"] = str(e).splitlines()[0][:200]
            record["val_auc"] = None
            record["test_auc"] = None
        # Fit time only (as gmmtune's `fit_seconds`); the whole trial in `trial_seconds`.
        record["trial_seconds"] = time.perf_counter() - t0
        record.setdefault("fit_seconds", record["trial_seconds"])
        record["elapsed_s"] = time.perf_counter() - start[0]
        trials.append(record)
        val = record["val_auc"] if record["val_auc"] is not None else 0.0
        return {"val_auc": val}

    # The arguments tune.run(search_alg="CFO") passes, plus a seed (FLAML's default is 20).
    searcher = CFO(
        space=space,
        metric="val_auc",
        mode="max",
        low_cost_partial_config=dict(LOW_COST),
        cat_hp_cost=cat_hp_cost,
        time_budget_s=budget,
        num_samples=-1,
        seed=20 + seed,
    )
    start[0] = time.perf_counter()
    with threadpool_limits(limits=int(_THREADS)):
        tune.run(
            evaluate,
            config=space,
            search_alg=searcher,
            metric="val_auc",
            mode="max",
            time_budget_s=budget,
            num_samples=-1,
            verbose=0,
        )
    elapsed = time.perf_counter() - start[0]
    return summarise_trials("flaml", trials, elapsed, budget, extra={"trial_log": trials})


def by_covariance_type(trials: list[dict]) -> dict:
    """Where a search went: per covariance type, its trials, the first of them (trial index)
    and its share of the summed fit time."""
    total = sum(t["fit_seconds"] for t in trials) or 1.0
    out: dict[str, dict] = {}
    for t in sorted(trials, key=lambda t: t["trial"]):
        entry = out.setdefault(t["config"]["covariance_type"],
                               {"trials": 0, "first_trial": t["trial"], "fit_share": 0.0})
        entry["trials"] += 1
        entry["fit_share"] += t["fit_seconds"] / total
    return out


def summarise_trials(side: str, trials: list[dict], elapsed: float, budget: float,
                     extra: dict | None = None) -> dict:
    ok = [t for t in trials if t["status"] == "ok" and t["val_auc"] is not None
          and math.isfinite(t["val_auc"])]
    best = None
    for t in ok:  # highest validation AUC, earliest trial on ties
        if best is None or t["val_auc"] > best["val_auc"]:
            best = t
    out = {
        "side": side,
        "trials": len(trials),
        "failed": sum(1 for t in trials if t["status"] != "ok"),
        "elapsed_s": elapsed,
        "time_overshoot_s": max(0.0, elapsed - budget),
        "fit_seconds": sum(t["fit_seconds"] for t in trials),
        # Summed fit time over wall time: about 1 when trials run one at a time.
        "concurrency": (sum(t.get("trial_seconds", t["fit_seconds"]) for t in trials) / elapsed)
        if elapsed > 0 else None,
        "mean_fit_ms": 1000 * sum(t["fit_seconds"] for t in trials) / len(trials) if trials else None,
        "best_val_auc": best["val_auc"] if best else None,
        "selected_test_auc": best["test_auc"] if best else None,
        "selected_trial": best["trial"] if best else None,
        "selected_config": best["config"] if best else None,
        "by_covariance_type": by_covariance_type(trials),
    }
    if extra:
        out.update(extra)
    return out


# --------------------------------------------------------------------------------------------
# gmmtune side


def gmmtune_config(name: str, csv_path: Path, budget: float, seed: int,
                   cfo_options: dict | None = None) -> str:
    """The run config of one dataset (JSON is YAML); `cfo_options` are extra keys of the `cfo`
    strategy (e.g. `concurrent_trials`, `cost_frugal`)."""
    strategy = {"kind": "cfo", "budget": {"time_s": budget}}
    strategy.update(cfo_options or {})
    config = {
        "name": f"flamlbench_{name}",
        "seed": seed,
        "datasets": [{"path": str(csv_path), "name": name, "label_column": "label"}],
        "protocol": {"split": {"method": "column"}, "train_on": "normal"},
        "objective": "val_auc",
        "fit": dict(FIT),
        "space": {
            "n_components": {"low": N_COMPONENTS[0], "high": N_COMPONENTS[1], "log": True},
            "covariance_type": list(COVARIANCE_TYPES),
            "reg_covar": {"low": REG_COVAR[0], "high": REG_COVAR[1], "log": True},
            "init": ["kmeans", "k-means++", "random", "random_from_data"],
        },
        "strategies": [strategy],
    }
    return json.dumps(config, indent=2) + "\n"


def record_dataset(record: dict):
    """The dataset of a journal or summary record (under `unit` since journal format 2)."""
    unit = record.get("unit")
    if isinstance(unit, dict):
        return unit.get("dataset")
    return record.get("dataset")


def trial_metric(record: dict, key: str):
    """A metric of a journaled trial (flattened into the record, or under `metrics`)."""
    if key in record:
        return record[key]
    metrics = record.get("metrics") or {}
    return metrics.get(key)


def run_gmmtune(binary: Path, data: Prepared, csv_path: Path, work: Path, budget: float,
                seed: int, jobs: int, cfo_options: dict | None = None
                ) -> tuple[dict, list[dict]]:
    """Runs gmmtune's CFO on one dataset; its summary figures and its trials."""
    cfg = work / f"{data.name}.yaml"
    cfg.write_text(gmmtune_config(data.name, csv_path, budget, seed, cfo_options))
    out_dir = work / f"gmmtune_{data.name}"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    command = [str(binary), "run", str(cfg), "--out", str(out_dir), "--quiet", "--jobs", str(jobs)]
    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = str(jobs)
    t0 = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(
            f"gmmtune failed (exit {proc.returncode}): {' '.join(command)}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    trials_path = out_dir / "trials.jsonl"
    records = [json.loads(line) for line in trials_path.read_text().splitlines() if line.strip()]
    records = [r for r in records if record_dataset(r) == data.name]
    trials = []
    for r in records:
        status = r.get("status", "ok")
        trials.append({
            "trial": r.get("trial"),
            "config": r.get("config"),
            "status": "ok" if status == "ok" else "failed",
            "val_auc": trial_metric(r, "val_auc"),
            "test_auc": trial_metric(r, "test_auc"),
            "fit_seconds": float(r.get("fit_seconds") or 0.0),
            "elapsed_s": float(r.get("elapsed_s") or 0.0),
            "n_iter": trial_metric(r, "n_iter"),
        })
    summary = json.loads((out_dir / "summary.json").read_text())
    rows = summary if isinstance(summary, list) else (
        summary.get("rows") or summary.get("summary") or summary.get("results") or [])
    row = next((r for r in rows if record_dataset(r) == data.name), None)
    if row is None:
        raise RuntimeError(f"{out_dir / 'summary.json'} has no row for dataset {data.name}")
    elapsed = float(row.get("elapsed_s") or max((t["elapsed_s"] for t in trials), default=0.0))
    result = summarise_trials("gmmtune", trials, elapsed, budget, extra={
        "process_wall_s": wall,
        "stop_reason": row.get("stop_reason"),
        "summary_trials": row.get("trials"),
        "summary_failed": row.get("failed"),
        "summary_time_overshoot_s": row.get("time_overshoot_s"),
    })
    selected = row.get("selected")
    if selected is not None:
        # The run's own selection (same rule: best validation AUC, earliest on ties).
        result["selected_trial"] = selected.get("trial")
        result["selected_config"] = selected.get("config")
        result["best_val_auc"] = trial_metric(selected, "val_auc")
        result["selected_test_auc"] = trial_metric(selected, "test_auc")
    return result, trials


def engine_check(data: Prepared, trials: list[dict], cap_s: float) -> dict | None:
    """Refits gmmtune's own trial configurations with scikit-learn (fit only, as gmmtune's
    `fit_seconds`), spread evenly over the trials, until `cap_s` seconds of scikit-learn time
    are spent. Separates the speed of the EM engine from the path each search took."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    ok = [t for t in trials if t["status"] == "ok" and t.get("config")]
    if not ok or cap_s <= 0:
        return None
    # Even spread: a stride through the trials, then the ones skipped, until the cap.
    stride = max(1, len(ok) // 20)
    order = [ok[i] for r in range(stride) for i in range(r, len(ok), stride)]
    sk_total, gm_total, n = 0.0, 0.0, 0
    pairs: list[dict] = []
    with threadpool_limits(limits=int(_THREADS)), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for t in order:
            if sk_total >= cap_s:
                break
            c = t["config"]
            t0 = time.perf_counter()
            try:
                gmm = GaussianMixture(
                    n_components=int(c["n_components"]),
                    covariance_type=c["covariance_type"],
                    reg_covar=float(c["reg_covar"]),
                    init_params=c["init"],
                    max_iter=FIT["max_iter"], tol=FIT["tol"], n_init=FIT["n_init"],
                    random_state=int(t["trial"]) % (2**32),
                ).fit(data.x_fit)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                continue
            seconds = time.perf_counter() - t0
            sk_total += seconds
            gm_total += t["fit_seconds"]
            n += 1
            pairs.append({"config": c, "sklearn_fit_s": seconds, "sklearn_n_iter": int(gmm.n_iter_),
                          "gmmtune_fit_s": t["fit_seconds"], "gmmtune_n_iter": t.get("n_iter")})
    if n == 0:
        return None
    return {
        "configs": n,
        "sklearn_fit_s": sk_total,
        "gmmtune_fit_s": gm_total,
        "speedup": sk_total / gm_total if gm_total > 0 else None,
        "by_covariance_type": {
            cov: {
                "configs": len(ps),
                "sklearn_fit_s": sum(p["sklearn_fit_s"] for p in ps),
                "gmmtune_fit_s": sum(p["gmmtune_fit_s"] for p in ps),
                "sklearn_mean_n_iter": statistics.mean(p["sklearn_n_iter"] for p in ps),
                "gmmtune_mean_n_iter": statistics.mean(
                    p["gmmtune_n_iter"] for p in ps if p["gmmtune_n_iter"] is not None)
                if any(p["gmmtune_n_iter"] is not None for p in ps) else None,
            }
            for cov in COVARIANCE_TYPES
            if (ps := [p for p in pairs if p["config"]["covariance_type"] == cov])
        },
        "pairs": pairs,
    }


# --------------------------------------------------------------------------------------------
# Report


def fmt(v, digits=4) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def equal_trials(g_trials: list[dict], flaml: dict | None) -> dict | None:
    """How long gmmtune took to finish as many trials as FLAML did in its budget, and FLAML's
    elapsed time over that: the speed of the two searches over the same number of trials,
    before gmmtune's extra trials carry CFO on to costlier regions of the space."""
    if not flaml or not flaml["trials"]:
        return None
    n = flaml["trials"]
    times = sorted(t["elapsed_s"] for t in g_trials)
    if len(times) < n:
        return {"trials": n, "gmmtune_s": None, "speedup": None}
    seconds = times[n - 1]
    return {"trials": n, "gmmtune_s": seconds,
            "speedup": flaml["elapsed_s"] / seconds if seconds > 0 else None}


def time_to_quality(g_trials: list[dict], flaml: dict | None) -> dict | None:
    """The best validation AUC FLAML reached in its budget (the trial FLAML returns, the one
    running at the deadline included), the seconds FLAML took to reach it (when its earliest
    trial with that AUC finished) and the seconds gmmtune took to reach it or better (when its
    first such trial finished; `None` if it never did)."""
    if not flaml or flaml.get("best_val_auc") is None:
        return None
    target = flaml["best_val_auc"]
    log = flaml.get("trial_log") or []
    best = next((t for t in log if t["trial"] == flaml["selected_trial"]), None)
    if best is None:
        return None
    reached = sorted((t for t in g_trials if t["status"] == "ok" and t["val_auc"] is not None
                      and t["val_auc"] >= target - AUC_SLACK), key=lambda t: t["elapsed_s"])
    first = reached[0] if reached else None
    out = {
        "target_val_auc": target,
        "flaml_s": best["elapsed_s"],
        "flaml_trial": best["trial"],
        "gmmtune_s": first["elapsed_s"] if first else None,
        "gmmtune_trial": first["trial"] if first else None,
        "reached": first is not None,
    }
    out["speedup"] = (out["flaml_s"] / out["gmmtune_s"]
                      if first is not None and out["gmmtune_s"] > 0 else None)
    return out


def median_counting_misses(values: list[float | None]) -> float | None:
    """Median of speedups where `None` (gmmtune never reached FLAML's quality) counts as the
    slowest of all: a lower bound of the true median."""
    if not values:
        return None
    ordered = [0.0 if v is None else v for v in values]
    return statistics.median(ordered)


def ratio(g: dict | None, f: dict | None):
    if not g or not f or not f["trials"]:
        return None
    return g["trials"] / f["trials"]


def time_table(results: list[dict]) -> list[str]:
    """The time-to-quality table (one row per dataset)."""
    lines = ["| dataset | rows | FLAML best val AUC | FLAML s to it (trial) | gmmtune s to it "
             "(trial) | speedup | gmmtune best val AUC |", "|" + "---|" * 7]
    for r in results:
        q, g = r.get("time_to_quality"), r.get("gmmtune")
        if q is None:
            gm = "—"
        elif q["reached"]:
            gm = f"{q['gmmtune_s']:.3g} ({q['gmmtune_trial']})"
        else:
            gm = "not reached"
        lines.append("| " + " | ".join([
            r["dataset"], str(r["rows"]), fmt(q and q["target_val_auc"]),
            f"{q['flaml_s']:.3g} ({q['flaml_trial']})" if q else "—", gm,
            fmt(q and q["speedup"], 1), fmt(g and g["best_val_auc"]),
        ]) + " |")
    return lines


def group_medians(results: list[dict]) -> dict:
    """Median trial ratio and time-to-quality speedup over all, the default (small) and the
    large datasets run."""
    groups = {
        "all": results,
        "small": [r for r in results if r["dataset"] not in LARGE_DATASETS],
        "large": [r for r in results if r["dataset"] in LARGE_DATASETS],
    }
    out = {}
    for name, rows in groups.items():
        ratios = [q for r in rows if (q := ratio(r.get("gmmtune"), r.get("flaml"))) is not None]
        times = [r["time_to_quality"]["speedup"] for r in rows if r.get("time_to_quality")]
        out[name] = {
            "datasets": len(rows),
            "median_trial_ratio": statistics.median(ratios) if ratios else None,
            "datasets_timed": len(times),
            "not_reached": sum(1 for t in times if t is None),
            "median_time_speedup": median_counting_misses(times),
            "at_10x_time": sum(1 for t in times if t is not None and t >= 10),
        }
    return out


def build_report(results: list[dict], budget: float, command: str, env: dict,
                 threads: tuple[int, int], cfo_options: dict,
                 flaml_from: str | None = None) -> tuple[str, dict]:
    header = ("| dataset | rows | feat | FLAML trials | gmmtune trials | ratio | "
              "FLAML failed | gmmtune failed | FLAML best val AUC | gmmtune best val AUC | "
              "FLAML test AUC | gmmtune test AUC | FLAML s | gmmtune s |")
    sep = "|" + "---|" * 14
    lines = [header, sep]
    ratios, wins, compared = [], 0, 0
    for r in results:
        f, g = r.get("flaml"), r.get("gmmtune")
        q = ratio(g, f)
        if q is not None:
            ratios.append(q)
        if f and g and f["best_val_auc"] is not None:
            compared += 1
            if g["best_val_auc"] is not None and g["best_val_auc"] >= f["best_val_auc"] - AUC_SLACK:
                wins += 1
        elif f and g and g["best_val_auc"] is not None:
            compared += 1
            wins += 1
        lines.append("| " + " | ".join([
            r["dataset"], str(r["rows"]), str(r["features"]),
            fmt(f and f["trials"]), fmt(g and g["trials"]), fmt(q, 1),
            fmt(f and f["failed"]), fmt(g and g["failed"]),
            fmt(f and f["best_val_auc"]), fmt(g and g["best_val_auc"]),
            fmt(f and f["selected_test_auc"]), fmt(g and g["selected_test_auc"]),
            fmt(f and f["elapsed_s"], 1), fmt(g and g["elapsed_s"], 1),
        ]) + " |")
    lines += ["", "Where the time went: mean EM fit time per trial on each side (each search's own "
              "configurations), and scikit-learn refitting a spread of gmmtune's own trial "
              "configurations (same configurations, fit time only; speedup = scikit-learn s / "
              "gmmtune s).", "",
              "The last two columns: the seconds gmmtune needed to finish as many trials as FLAML "
              "did in the whole budget, and FLAML's time over it (both searches over the same "
              "number of trials).", "",
              "| dataset | FLAML ms/trial | gmmtune ms/trial | refitted configs | scikit-learn s | "
              "gmmtune s | same-config speedup | gmmtune s to FLAML's trials | "
              "speedup at equal trials |", "|" + "---|" * 9]
    speedups, equal_speedups = [], []
    for r in results:
        f, g, e = r.get("flaml"), r.get("gmmtune"), r.get("engine_check")
        q = r.get("equal_trials")
        if e and e.get("speedup") is not None:
            speedups.append(e["speedup"])
        if q and q.get("speedup") is not None:
            equal_speedups.append(q["speedup"])
        lines.append("| " + " | ".join([
            r["dataset"], fmt(f and f["mean_fit_ms"], 1), fmt(g and g["mean_fit_ms"], 1),
            fmt(e and e["configs"]), fmt(e and e["sklearn_fit_s"], 2),
            fmt(e and e["gmmtune_fit_s"], 2), fmt(e and e["speedup"], 1),
            fmt(q and q["gmmtune_s"], 2), fmt(q and q["speedup"], 1),
        ]) + " |")
    median_ratio = statistics.median(ratios) if ratios else None
    share = wins / compared if compared else None
    goals = {
        "median_trial_ratio": median_ratio,
        "median_ratio_goal": GOAL_MEDIAN_RATIO,
        "median_ratio_met": median_ratio is not None and median_ratio >= GOAL_MEDIAN_RATIO,
        "datasets_compared": compared,
        "datasets_gmmtune_val_auc_ge_flaml": wins,
        "share_gmmtune_val_auc_ge_flaml": share,
        "share_goal": GOAL_SHARE,
        "share_met": share is not None and share >= GOAL_SHARE,
    }
    def median_of(side: str, key: str):
        values = [r[side][key] for r in results if r.get(side) and r[side].get(key) is not None]
        return statistics.median(values) if values else None

    goals["median_same_config_speedup"] = statistics.median(speedups) if speedups else None
    goals["median_equal_trials_speedup"] = (statistics.median(equal_speedups)
                                            if equal_speedups else None)
    goals["median_concurrency_flaml"] = median_of("flaml", "concurrency")
    goals["median_concurrency_gmmtune"] = median_of("gmmtune", "concurrency")
    goals["median_overshoot_s_flaml"] = median_of("flaml", "time_overshoot_s")
    goals["median_overshoot_s_gmmtune"] = median_of("gmmtune", "time_overshoot_s")
    goals["groups"] = group_medians(results)
    goals["median_time_speedup_goal"] = GOAL_MEDIAN_TIME_SPEEDUP
    everything = goals["groups"]["all"]["median_time_speedup"]
    goals["median_time_speedup_met"] = (everything is not None
                                        and everything >= GOAL_MEDIAN_TIME_SPEEDUP)
    group_lines = ["| datasets | count | median trial ratio | median speedup to FLAML's quality "
                   "| at 10x or more | not reached |", "|" + "---|" * 6]
    for name, label in (("small", "default list"), ("large", "large sets"), ("all", "all")):
        g = goals["groups"][name]
        if not g["datasets"]:
            continue
        group_lines.append(f"| {label} | {g['datasets']} | {fmt(g['median_trial_ratio'], 1)} | "
                           f"{fmt(g['median_time_speedup'], 1)} | {g['at_10x_time']} | "
                           f"{g['not_reached']} |")
    errors = [r for r in results if r.get("gmmtune_error") or r.get("flaml_error")]
    text = [
        "# gmmtune CFO vs FLAML CFO (scikit-learn GaussianMixture)",
        "",
        f"Budget {budget:g} s per dataset and side, one dataset at a time; FLAML runs its "
        f"trials one after the other with {threads[0]} OpenMP/BLAS thread(s) for "
        f"scikit-learn, gmmtune (--jobs {threads[1]}) keeps CFO's "
        f"{cfo_options.get('concurrent_trials', 'default 2')} concurrent trial(s) "
        f"in flight, told in the order asked"
        + (f" (cfo options: `{json.dumps(cfo_options)}`)" if cfo_options else "")
        + f". Same rows (one stratified 60/20/20 split per dataset), same "
        f"standardisation (normal training rows), same space and EM settings "
        f"(max_iter {FIT['max_iter']}, tol {FIT['tol']:g}, n_init {FIT['n_init']}); "
        f"objective: validation ROC AUC of the negative log-likelihood. Test AUC is the "
        f"test AUC of the trial with the best validation AUC.",
        "",
        f"Command: `{command}`",
        "",
        f"Environment: {env['platform']}, Python {env['python']}, FLAML {env['flaml']}, "
        f"scikit-learn {env['sklearn']}, gmmtune {env.get('gmmtune_commit', '?')}; "
        f"1-min load average {env['load_average_start'][0]:.1f} at start, "
        f"{env['load_average_end'][0]:.1f} at end."
        + (f" FLAML side read from `{flaml_from}` (not rerun)." if flaml_from else ""),
        "",
        *lines,
        "",
        "## Time to FLAML's quality",
        "",
        "FLAML s: when FLAML's trial with its best validation AUC finished (the trial running at "
        "the deadline counts: FLAML returns it); gmmtune s: when gmmtune's first trial with that "
        "validation AUC or more finished (its whole run, overshoot included); speedup = FLAML s / "
        "gmmtune s. Medians count a set gmmtune never brought to FLAML's quality as the slowest.",
        "",
        *time_table(results),
        "",
        *group_lines,
        "",
        f"- Median trial ratio (gmmtune / FLAML): **{fmt(median_ratio, 2)}** "
        f"(goal ≥ {GOAL_MEDIAN_RATIO:g}: {'met' if goals['median_ratio_met'] else 'NOT met'})",
        f"- gmmtune best val AUC ≥ FLAML's (slack {AUC_SLACK:g}) on {wins}/{compared} datasets = "
        f"**{fmt(share and 100 * share, 1)} %** "
        f"(goal ≥ {100 * GOAL_SHARE:g} %: {'met' if goals['share_met'] else 'NOT met'})",
        f"- Median speedup to FLAML's quality (all datasets): "
        f"**{fmt(goals['groups']['all']['median_time_speedup'], 1)}** "
        f"(goal ≥ {GOAL_MEDIAN_TIME_SPEEDUP:g}: "
        f"{'met' if goals['median_time_speedup_met'] else 'NOT met'})",
        f"- Median same-config EM speedup of gmmtune over scikit-learn: "
        f"{fmt(goals['median_same_config_speedup'], 1)}",
        f"- Median speedup at equal trial counts (FLAML's budget / gmmtune's time to FLAML's "
        f"trial count): {fmt(goals['median_equal_trials_speedup'], 1)}",
        f"- Median summed fit time / wall time (≈ trials running at once): FLAML "
        f"{fmt(goals['median_concurrency_flaml'], 2)}, gmmtune "
        f"{fmt(goals['median_concurrency_gmmtune'], 2)}",
        f"- Median time past the budget: FLAML {fmt(goals['median_overshoot_s_flaml'], 2)} s, "
        f"gmmtune {fmt(goals['median_overshoot_s_gmmtune'], 2)} s",
    ]
    if errors:
        text += ["", "## Errors", ""]
        for r in errors:
            for side in ("flaml", "gmmtune"):
                if r.get(f"{side}_error"):
                    text += [f"- {r['dataset']} ({side}):", "", "```",
                             r[f"{side}_error"].strip(), "```", ""]
    return "\n".join(text) + "\n", goals


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=None,
                   help="seconds per dataset and side (default 10; 3 with --quick)")
    p.add_argument("--datasets", default=None,
                   help="comma-separated registry names (default: the 26 ADBench sets up to "
                        "~12k rows, then the 7 large ones)")
    p.add_argument("--small", action="store_true",
                   help="only the 26 sets up to ~12k rows")
    p.add_argument("--large", action="store_true",
                   help=f"only the large sets: {','.join(LARGE_DATASETS)}")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: {','.join(QUICK_DATASETS)} with a {QUICK_BUDGET:g} s budget")
    p.add_argument("--seed", type=int, default=0, help="seed of the splits and of both searches")
    p.add_argument("--registry", type=Path, default=REPO / "datasets" / "registry.yaml")
    p.add_argument("--gmmtune", type=Path, default=REPO / "target" / "release" / "gmmtune",
                   help="gmmtune binary (built with `cargo build --release`)")
    p.add_argument("--jobs", type=int, default=2, help="gmmtune --jobs (default 2)")
    p.add_argument("--concurrent-trials", type=int, default=None,
                   help="gmmtune CFO's concurrent_trials (default: gmmtune's own default)")
    p.add_argument("--cfo", action="append", default=[], metavar="KEY=YAML",
                   help="an extra key of gmmtune's cfo strategy, e.g. cost_frugal=false "
                        "(repeatable)")
    p.add_argument("--flaml-from", type=Path, default=None, metavar="FLAML_JSON",
                   help="take the FLAML side from an earlier flaml.json (same seed and budget) "
                        "instead of running it: for comparing gmmtune settings")
    p.add_argument("--sklearn-threads", type=int, default=2,
                   help="OpenMP / BLAS threads of scikit-learn (default 2)")
    p.add_argument("--engine-check", type=float, default=None,
                   help="seconds of scikit-learn time per dataset spent refitting gmmtune's "
                        "trial configurations to compare the EM engines on the same "
                        "configurations (default min(budget / 2, 5); 0 = off)")
    p.add_argument("--flaml-only", action="store_true", help="skip the gmmtune side")
    p.add_argument("--gmmtune-only", action="store_true", help="skip the FLAML side")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out",
                   help="directory of flaml.md and flaml.json (default bench/out)")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory (split CSVs, configs, gmmtune outputs)")
    args = p.parse_args(argv)
    if args.budget is None:
        args.budget = QUICK_BUDGET if args.quick else 10.0
    if args.sklearn_threads < 1:
        p.error("--sklearn-threads must be at least 1")
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    if args.concurrent_trials is not None and args.concurrent_trials < 1:
        p.error("--concurrent-trials must be at least 1")
    if args.engine_check is None:
        args.engine_check = min(args.budget / 2, 5.0)
    if sum(map(bool, (args.datasets, args.small, args.large, args.quick))) > 1:
        p.error("--datasets, --small, --large and --quick exclude each other")
    if args.datasets:
        args.names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    elif args.quick:
        args.names = QUICK_DATASETS
    elif args.small:
        args.names = DEFAULT_DATASETS
    elif args.large:
        args.names = LARGE_DATASETS
    else:
        args.names = DEFAULT_DATASETS + LARGE_DATASETS
    import yaml

    args.cfo_options = {}
    if args.concurrent_trials is not None:
        args.cfo_options["concurrent_trials"] = args.concurrent_trials
    for item in args.cfo:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            p.error(f"--cfo {item!r}: expected KEY=YAML, e.g. cost_frugal=false")
        args.cfo_options[key.strip()] = yaml.safe_load(value)
    if args.flaml_from and args.gmmtune_only:
        p.error("--flaml-from and --gmmtune-only exclude each other")
    if not (args.budget > 0):
        p.error("--budget must be positive")
    if args.flaml_only and args.gmmtune_only:
        p.error("--flaml-only and --gmmtune-only exclude each other")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.getLogger("flaml").setLevel(logging.ERROR)
    logging.getLogger("flaml.tune").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="flaml")

    import flaml
    import sklearn

    registry = load_registry(args.registry)
    missing = [n for n in args.names if n not in registry]
    if missing:
        print(f"unknown dataset(s) {', '.join(missing)} in {args.registry}; known: "
              f"{', '.join(sorted(registry))}", file=sys.stderr)
        return 2
    use_gmmtune = not args.flaml_only
    if use_gmmtune and not args.gmmtune.is_file():
        print(f"gmmtune binary {args.gmmtune} not found; build it with `cargo build --release` "
              f"(or pass --gmmtune PATH, or --flaml-only)", file=sys.stderr)
        return 2

    command = "python3 bench/flaml/run.py " + " ".join(argv) if argv else \
        "python3 bench/flaml/run.py"
    env = {
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "flaml": flaml.__version__,
        "sklearn": sklearn.__version__,
        "gmmtune_commit": git_commit(),
    }
    env["load_average_start"] = os.getloadavg()
    if int(_THREADS) != args.sklearn_threads:
        raise SystemExit("internal error: --sklearn-threads was not read before numpy loaded")
    earlier_flaml = {}
    if args.flaml_from:
        earlier = json.loads(args.flaml_from.read_text())
        if earlier.get("seed") != args.seed or earlier.get("budget_s") != args.budget:
            print(f"{args.flaml_from} was run with seed {earlier.get('seed')} and budget "
                  f"{earlier.get('budget_s')}; this run has seed {args.seed} and budget "
                  f"{args.budget}", file=sys.stderr)
            return 2
        earlier_flaml = {d["dataset"]: d["flaml"] for d in earlier["datasets"] if d.get("flaml")}
        absent = [n for n in args.names if n not in earlier_flaml]
        if absent:
            print(f"{args.flaml_from} has no FLAML results for {', '.join(absent)}",
                  file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="gmmtune-flamlbench-"))
    results = []
    t_all = time.perf_counter()
    try:
        for name in args.names:
            entry = registry[name]
            frame = pd.read_csv(entry["path"])
            data = Prepared(name, frame, entry.get("label_column", "label"),
                            list(entry.get("exclude_columns") or []), args.seed)
            csv_path = data.write_csv(work)
            row = {"dataset": name, "rows": data.n_rows, "features": data.n_features,
                   "anomalies": data.anomalies, "flaml": None, "gmmtune": None}
            if args.flaml_from:
                row["flaml"] = earlier_flaml[name]
            elif not args.gmmtune_only:
                row["flaml"] = run_flaml(data, args.budget, args.seed)
            if use_gmmtune:
                try:
                    row["gmmtune"], gm_trials = run_gmmtune(args.gmmtune, data, csv_path, work,
                                                            args.budget, args.seed, args.jobs,
                                                            args.cfo_options)
                    row["equal_trials"] = equal_trials(gm_trials, row["flaml"])
                    row["time_to_quality"] = time_to_quality(gm_trials, row["flaml"])
                    if args.engine_check > 0:
                        row["engine_check"] = engine_check(data, gm_trials, args.engine_check)
                except (RuntimeError, OSError, ValueError, KeyError) as e:
                    row["gmmtune_error"] = str(e)
            results.append(row)
            f, g, ttq = row["flaml"], row["gmmtune"], row.get("time_to_quality")
            print(f"{name:>18} rows {data.n_rows:>6}  "
                  f"FLAML {fmt(f and f['trials']):>5} trials val {fmt(f and f['best_val_auc'])} "
                  f"test {fmt(f and f['selected_test_auc'])}  |  "
                  f"gmmtune {fmt(g and g['trials']):>6} trials val {fmt(g and g['best_val_auc'])} "
                  f"test {fmt(g and g['selected_test_auc'])}  ratio {fmt(ratio(g, f), 1)}"
                  f"  to FLAML's quality {fmt(ttq and ttq['speedup'], 1)}x"
                  + ("  [gmmtune error]" if row.get("gmmtune_error") else ""), flush=True)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - t_all
    env["load_average_end"] = os.getloadavg()

    markdown, goals = build_report(results, args.budget, command, env,
                                   (args.sklearn_threads, args.jobs), args.cfo_options,
                                   str(args.flaml_from) if args.flaml_from else None)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "flaml.md").write_text(markdown)
    raw = {"command": command, "budget_s": args.budget, "seed": args.seed, "jobs": args.jobs,
           "sklearn_threads": args.sklearn_threads, "cfo_options": args.cfo_options,
           "flaml_from": str(args.flaml_from) if args.flaml_from else None,
           "environment": env, "total_wall_s": total, "goals": goals, "datasets": results}
    (args.out / "flaml.json").write_text(json.dumps(raw, indent=2) + "\n")
    print()
    print(markdown)
    print(f"total {total:.0f} s; wrote {args.out / 'flaml.md'} and {args.out / 'flaml.json'}")
    return 1 if any(r.get("gmmtune_error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
