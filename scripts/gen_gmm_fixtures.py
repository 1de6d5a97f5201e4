#!/usr/bin/env python3
"""Generates the scikit-learn parity fixtures of the GMM engine (tests/fixtures/gmm/*.json).

Run from the repository root:  python3 scripts/gen_gmm_fixtures.py
Needs numpy and scikit-learn; the Rust tests only read the JSON files this writes.

Files written:
  em_fixed_init.json  EM from given weights/means/precisions for a fixed number of iterations
                      (tol 0) and with scikit-learn's default tol (convergence semantics).
  fixed_model.json    a fitted model per covariance type with bic/aic/predict_proba/... values,
                      from scikit-learn and ("exact") recomputed in extended precision.
  init_scores.json    the score reached by each initialisation method on separated blobs.
  kmeans_lloyd.json   KMeans labels and iteration counts from given initial centres.
  em_highd.json       EM at d = 64 and 200 (full and tied) from given means and a scaled
                      identity precision; the data follow a formula (exact in binary, see
                      `highd_data`) that the Rust test recomputes, so only results are stored:
                      weights, means, lower bounds, held-out scores, covariance and precision
                      diagonals and a sample of their other entries.
"""

import json
import os
import platform
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "gmm")
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
INITS = ["kmeans", "k-means++", "random", "random_from_data"]
INIT_N_INIT = 5

VERSIONS = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scikit-learn": sklearn.__version__,
    "generator": "scripts/gen_gmm_fixtures.py",
}


def as_list(a):
    return np.asarray(a, dtype=float).tolist()


def mixture_data(seed, n, centres, scales, offset=0.0):
    """n rows from a mixture of correlated Gaussians around `centres` (K×d), plus `offset`."""
    rng = np.random.RandomState(seed)
    centres = np.asarray(centres, dtype=float)
    k, d = centres.shape
    labels = rng.randint(0, k, size=n)
    rows = []
    for label in labels:
        a = rng.normal(size=(d, d)) * 0.3 + np.eye(d)
        rows.append(centres[label] + scales[label] * rng.normal(size=d) @ a)
    return np.asarray(rows) + offset


def write(name, payload):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def datasets():
    """Named train/test splits shared by the fixtures."""
    out = {}
    specs = {
        # Three overlapping components in 3-d: EM moves for many iterations.
        "overlap3d": dict(seed=1, n=190, centres=[[0, 0, 0], [3, 1, 0], [0, 3, 2]], scales=[1.0, 0.7, 1.2]),
        # Same shape in 4-d, far from the origin: catches cancellation in one-pass formulas.
        "offset4d": dict(
            seed=2, n=190, centres=[[0, 0, 0, 0], [2, 2, 0, 1]], scales=[1.0, 0.5], offset=500.0
        ),
        # Two features, three components, for a non-default reg_covar.
        "small2d": dict(seed=3, n=130, centres=[[0, 0], [4, 0], [2, 3]], scales=[0.6, 0.8, 0.5]),
        # Well-separated blobs for the initialisation comparison.
        "separated2d": dict(seed=4, n=200, centres=[[0, 0], [12, 0], [0, 12]], scales=[1.0, 1.0, 1.0]),
    }
    for name, spec in specs.items():
        x = mixture_data(spec["seed"], spec["n"], spec["centres"], spec["scales"], spec.get("offset", 0.0))
        n_test = 40 if name != "separated2d" else 0
        out[name] = {"train": x[: len(x) - n_test], "test": x[len(x) - n_test :] if n_test else x[:0]}
    return out


def initial_parameters(x, k, covariance_type, seed):
    """Deterministic initial weights, means (perturbed data rows) and precisions."""
    rng = np.random.RandomState(seed)
    n, d = x.shape
    rows = rng.choice(n, size=k, replace=False)
    means = x[rows] + 0.1 * rng.normal(size=(k, d))
    weights = rng.uniform(0.5, 1.5, size=k)
    weights /= weights.sum()
    data_cov = np.cov(x.T, bias=True)
    if covariance_type == "full":
        precisions = []
        for _ in range(k):
            a = rng.normal(size=(d, d)) * 0.2
            cov = data_cov * rng.uniform(0.5, 1.5) + a @ a.T + 0.1 * np.eye(d)
            precisions.append(np.linalg.inv(cov))
        precisions = np.asarray(precisions)
        precisions = 0.5 * (precisions + precisions.transpose(0, 2, 1))
    elif covariance_type == "tied":
        precisions = np.linalg.inv(data_cov)
        precisions = 0.5 * (precisions + precisions.T)
    elif covariance_type == "diag":
        precisions = 1.0 / (np.diag(data_cov)[None, :] * rng.uniform(0.5, 1.5, size=(k, d)))
    else:
        precisions = 1.0 / (np.mean(np.diag(data_cov)) * rng.uniform(0.5, 1.5, size=k))
    return weights, means, precisions


def em_fixed_init(data):
    cases = []
    plans = [
        # (dataset, k, reg_covar, tol, max_iter)
        ("overlap3d", 3, 1e-6, 0.0, 1),
        ("overlap3d", 3, 1e-6, 0.0, 5),
        ("overlap3d", 3, 1e-6, 0.0, 20),
        ("offset4d", 2, 1e-6, 0.0, 20),
        ("small2d", 3, 1e-2, 0.0, 20),
        # Default tol: the iteration count and the converged flag must match.
        ("overlap3d", 3, 1e-6, 1e-3, 100),
        ("small2d", 3, 1e-6, 1e-3, 3),
    ]
    for covariance_type in COVARIANCE_TYPES:
        for i, (name, k, reg_covar, tol, max_iter) in enumerate(plans):
            x, x_test = data[name]["train"], data[name]["test"]
            weights, means, precisions = initial_parameters(x, k, covariance_type, seed=100 + i)
            gm = GaussianMixture(
                n_components=k,
                covariance_type=covariance_type,
                tol=tol,
                reg_covar=reg_covar,
                max_iter=max_iter,
                init_params="random_from_data",
                weights_init=weights,
                means_init=means,
                precisions_init=precisions,
                random_state=0,
            ).fit(x)
            cases.append(
                {
                    "dataset": name,
                    "covariance_type": covariance_type,
                    "n_components": k,
                    "reg_covar": reg_covar,
                    "tol": tol,
                    "max_iter": max_iter,
                    "weights_init": as_list(weights),
                    "means_init": as_list(means),
                    "precisions_init": as_list(precisions),
                    "weights": as_list(gm.weights_),
                    "means": as_list(gm.means_),
                    "covariances": as_list(gm.covariances_),
                    "precisions_cholesky": as_list(gm.precisions_cholesky_),
                    "lower_bound": float(gm.lower_bound_),
                    "lower_bounds": as_list(gm.lower_bounds_),
                    "n_iter": int(gm.n_iter_),
                    "converged": bool(gm.converged_),
                    "score_samples_test": as_list(gm.score_samples(x_test)),
                }
            )
    return cases


def exact_scores(x, weights, means, covariances, covariance_type):
    """Per-row log-likelihood and responsibilities in extended precision (np.longdouble),
    with the direct (x - mean) form, as an accuracy reference independent of scikit-learn."""
    ld = np.longdouble
    x = np.asarray(x, dtype=ld)
    n, d = x.shape
    k = len(weights)
    weighted = np.empty((n, k), dtype=ld)
    for c in range(k):
        if covariance_type == "full":
            cov = np.asarray(covariances[c], dtype=ld)
        elif covariance_type == "tied":
            cov = np.asarray(covariances, dtype=ld)
        elif covariance_type == "diag":
            cov = np.diag(np.asarray(covariances[c], dtype=ld))
        else:
            cov = np.eye(d, dtype=ld) * ld(covariances[c])
        chol = np.zeros((d, d), dtype=ld)
        for i in range(d):
            for j in range(i + 1):
                v = cov[i, j] - np.sum(chol[i, :j] * chol[j, :j])
                chol[i, j] = np.sqrt(v) if i == j else v / chol[j, j]
        diff = x - np.asarray(means[c], dtype=ld)
        z = np.zeros_like(diff)
        for i in range(d):
            z[:, i] = (diff[:, i] - z[:, :i] @ chol[i, :i]) / chol[i, i]
        log_det = 2 * np.sum(np.log(np.diag(chol)))
        weighted[:, c] = (
            -0.5 * (d * np.log(2 * ld(np.pi)) + np.sum(z * z, axis=1) + log_det) + np.log(ld(weights[c]))
        )
    top = weighted.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.sum(np.exp(weighted - top), axis=1))
    return lse, np.exp(weighted - lse[:, None])


def fixed_models(data):
    cases = []
    for covariance_type in COVARIANCE_TYPES:
        for name, k in [("overlap3d", 3), ("offset4d", 2)]:
            x, x_test = data[name]["train"], data[name]["test"]
            gm = GaussianMixture(n_components=k, covariance_type=covariance_type, random_state=0).fit(x)
            parts = (gm.weights_, gm.means_, gm.covariances_, covariance_type)
            lse_train, _ = exact_scores(x, *parts)
            lse_test, proba_test = exact_scores(x_test, *parts)
            p = gm._n_parameters()
            score_exact = float(np.mean(lse_train))
            exact = {
                "score_train": score_exact,
                "bic_train": float(-2 * np.sum(lse_train) + p * np.log(len(x))),
                "aic_train": float(-2 * np.sum(lse_train) + 2 * p),
                "score_samples_test": as_list(lse_test.astype(float)),
                "predict_proba_test": as_list(proba_test.astype(float)),
            }
            # scikit-learn's own rounding error (it expands (x - mean) for diag/spherical).
            assert np.allclose(gm.score_samples(x_test), exact["score_samples_test"], rtol=1e-8, atol=0)
            cases.append(
                {
                    "dataset": name,
                    "covariance_type": covariance_type,
                    "weights": as_list(gm.weights_),
                    "means": as_list(gm.means_),
                    "covariances": as_list(gm.covariances_),
                    "precisions_cholesky": as_list(gm.precisions_cholesky_),
                    "n_parameters": int(gm._n_parameters()),
                    "bic_train": float(gm.bic(x)),
                    "aic_train": float(gm.aic(x)),
                    "score_train": float(gm.score(x)),
                    "score_samples_test": as_list(gm.score_samples(x_test)),
                    "predict_proba_test": as_list(gm.predict_proba(x_test)),
                    "predict_test": [int(v) for v in gm.predict(x_test)],
                    "exact": exact,
                }
            )
    return cases


def init_scores(data):
    """Score reached by each initialisation on separated blobs.

    `score` is scikit-learn's with random_state 0. Some (covariance type, init) pairs have local
    optima that scikit-learn itself reaches for some seeds; `attained` lists every distinct score
    (to 1e-6) over random_state 0..19, and `seed_independent` says whether there is only one.
    """
    x = data["separated2d"]["train"]
    cases = []
    for covariance_type in COVARIANCE_TYPES:
        for init in INITS:

            def fit(random_state):
                return GaussianMixture(
                    n_components=3,
                    covariance_type=covariance_type,
                    init_params=init,
                    n_init=INIT_N_INIT,
                    tol=1e-8,
                    max_iter=500,
                    random_state=random_state,
                ).fit(x)

            gm = fit(0)
            scores = [fit(r).score(x) for r in range(20)]
            attained = sorted({round(s, 6) for s in scores}, reverse=True)
            attained = [a for i, a in enumerate(attained) if i == 0 or abs(a - attained[i - 1]) > 1e-5]
            cases.append(
                {
                    "dataset": "separated2d",
                    "covariance_type": covariance_type,
                    "init": init,
                    "n_components": 3,
                    "n_init": INIT_N_INIT,
                    "tol": 1e-8,
                    "max_iter": 500,
                    "random_state": 0,
                    "score": float(gm.score(x)),
                    "converged": bool(gm.converged_),
                    "attained": attained,
                    "seed_independent": bool(max(scores) - min(scores) < 1e-4),
                }
            )
    return cases


def kmeans_lloyd(data):
    cases = []
    for name, k, seed in [("overlap3d", 3, 0), ("overlap3d", 5, 1), ("offset4d", 4, 2), ("small2d", 3, 3)]:
        x = data[name]["train"]
        rows = np.random.RandomState(seed).choice(len(x), size=k, replace=False)
        km = KMeans(n_clusters=k, init=x[rows], n_init=1).fit(x)
        cases.append(
            {
                "dataset": name,
                "n_clusters": k,
                "seed_rows": [int(r) for r in rows],
                "labels": [int(v) for v in km.labels_],
                "n_iter": int(km.n_iter_),
                "centres": as_list(km.cluster_centers_),
            }
        )
    return cases


def highd_data(n, d, k):
    """Rows with integer-hash features (dyadic rationals, exact in f64), a component offset
    and a low-rank term; tests/gmm_parity.rs computes the same values."""
    x = np.empty((n, d))
    for i in range(n):
        for j in range(d):
            h = (i * 2654435761 + j * 40503 + i * j * 97) % (1 << 32)
            x[i, j] = ((h % 4096) - 2048) / 512.0 + 2.0 * (i % k) + ((i % 7) * (j % 5)) / 8.0
    return x


def highd_cases():
    cases = []
    for d, n, k in [(64, 300, 3), (200, 260, 2)]:
        x = highd_data(n + 40, d, k)
        train, test = x[:n], x[n:]
        means = np.asarray([train[c::k][:20].mean(axis=0) for c in range(k)])
        weights = np.full(k, 1.0 / k)
        for covariance_type in ("full", "tied"):
            precision = 0.5
            if covariance_type == "full":
                precisions = np.asarray([np.eye(d) * precision for _ in range(k)])
            else:
                precisions = np.eye(d) * precision
            gm = GaussianMixture(
                n_components=k,
                covariance_type=covariance_type,
                tol=0.0,
                reg_covar=1e-3,
                max_iter=3,
                init_params="random_from_data",
                weights_init=weights,
                means_init=means,
                precisions_init=precisions,
                random_state=0,
            ).fit(train)
            cov = np.asarray(gm.covariances_).reshape(-1)
            chol = np.asarray(gm.precisions_cholesky_).reshape(-1)
            sample = list(range(0, cov.size, 97))
            diag = [
                c * d * d + i * d + i if covariance_type == "full" else i * d + i
                for c in range(k if covariance_type == "full" else 1)
                for i in range(d)
            ]
            picked = sorted(set(sample) | set(diag))
            cases.append(
                {
                    "n_train": n,
                    "n_test": 40,
                    "d": d,
                    "n_components": k,
                    "covariance_type": covariance_type,
                    "reg_covar": 1e-3,
                    "max_iter": 3,
                    "precision_init": precision,
                    "means_init": as_list(means),
                    "weights": as_list(gm.weights_),
                    "means": as_list(gm.means_),
                    "lower_bound": float(gm.lower_bound_),
                    "lower_bounds": as_list(gm.lower_bounds_),
                    "score_samples_test": as_list(gm.score_samples(test)),
                    "entries": picked,
                    "covariances_entries": as_list(cov[picked]),
                    "precisions_cholesky_entries": as_list(chol[picked]),
                }
            )
    return cases


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    warnings.simplefilter("ignore", ConvergenceWarning)
    data = datasets()
    shared = {name: {"train": as_list(v["train"]), "test": as_list(v["test"])} for name, v in data.items()}
    write("datasets.json", {"versions": VERSIONS, "datasets": shared})
    write("em_fixed_init.json", {"versions": VERSIONS, "cases": em_fixed_init(data)})
    write("fixed_model.json", {"versions": VERSIONS, "cases": fixed_models(data)})
    write("init_scores.json", {"versions": VERSIONS, "cases": init_scores(data)})
    write("kmeans_lloyd.json", {"versions": VERSIONS, "cases": kmeans_lloyd(data)})
    write("em_highd.json", {"versions": VERSIONS, "cases": highd_cases()})


if __name__ == "__main__":
    main()
