#!/usr/bin/env python3
"""Times scikit-learn's GaussianMixture fit and E-step on a raw little-endian f64 matrix.

The scikit-learn side of bench/engine/run.py; mirrors examples/bench_em.rs: tol 0, max_iter
iterations, init_params='random_from_data', random_state 0, then times
_estimate_weighted_log_prob on the same data. Prints one JSON object on stdout.
Thread count comes from the environment (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS).
"""

import argparse
import json
import time
import warnings

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--cols", type=int, required=True)
    p.add_argument("--components", type=int, default=4)
    p.add_argument("--covariance-type", default="full")
    p.add_argument("--max-iter", type=int, default=20)
    p.add_argument("--reg-covar", type=float, default=1e-6)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--time-budget", type=float, default=float("inf"))
    p.add_argument("--load-only", action="store_true")
    args = p.parse_args()

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    x = np.fromfile(args.data, dtype="<f8")
    if x.size != args.rows * args.cols:
        raise SystemExit(f"{args.data} has {x.size} values, expected rows × cols = {args.rows * args.cols}")
    x = x.reshape(args.rows, args.cols)
    if args.load_only:
        print(json.dumps({"rows": int(x.shape[0]), "sum": float(x.sum())}))
        return

    warnings.simplefilter("ignore", ConvergenceWarning)
    fit_seconds, estep_seconds = [], []
    gm = None
    for _ in range(max(1, args.repeats)):
        gm = GaussianMixture(
            n_components=args.components,
            covariance_type=args.covariance_type,
            tol=0.0,
            max_iter=args.max_iter,
            reg_covar=args.reg_covar,
            init_params="random_from_data",
            random_state=0,
        )
        start = time.perf_counter()
        gm.fit(x)
        fit_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        gm._estimate_weighted_log_prob(x)
        estep_seconds.append(time.perf_counter() - start)
        if sum(fit_seconds) > args.time_budget:
            break
    print(
        json.dumps(
            {
                "fit_seconds": fit_seconds,
                "estep_seconds": estep_seconds,
                "n_iter": int(gm.n_iter_),
                "lower_bound": float(gm.lower_bound_),
            }
        )
    )


if __name__ == "__main__":
    main()
