#!/usr/bin/env python3
"""Generate tests/fixtures/cv/kfold.json for the `cv_loglik` tests of tests/trustworthy_runs.rs.

`cv_loglik` is the mean held-out log-likelihood over unshuffled k folds, as scikit-learn's
`GridSearchCV(GaussianMixture(...), cv=k)` scores a mixture: `KFold(n_splits=k)` (no shuffle,
the first n % k folds one row larger), a fit on the other rows, `GaussianMixture.score` on the
held-out rows, the mean over folds.

Each case stores the data, the test indices of every fold as `KFold` makes them, each fold's
held-out score and their mean, for one-component mixtures of every covariance type (EM reaches
the maximum-likelihood fit from any start, so the figures do not depend on the initialisation).
Data are stored as IEEE-754 bit patterns so the Rust side reads back the same doubles.

Usage: python3 scripts/gen_cv_fixture.py  (scikit-learn 1.9.1; writes into tests/fixtures/cv/)
"""

import json
import struct
from pathlib import Path

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import KFold, cross_val_score

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cv"
REG_COVAR = 1e-6


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def case(rng, n_rows, n_features, folds, covariance_type):
    x = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.5, 3.0, size=n_features)
    x[: n_rows // 3] += 2.0  # a trend along the rows, so the fold boundaries matter
    model = GaussianMixture(
        n_components=1, covariance_type=covariance_type, reg_covar=REG_COVAR, tol=1e-3
    )
    kfold = KFold(n_splits=folds)
    fold_tests, fold_scores = [], []
    for train, test in kfold.split(x):
        fitted = GaussianMixture(**model.get_params()).fit(x[train])
        fold_tests.append([int(i) for i in test])
        fold_scores.append(float(fitted.score(x[test])))
    # What GridSearchCV computes for a GaussianMixture (its default scorer is `score`).
    grid_score = float(np.mean(cross_val_score(model, x, cv=folds)))
    assert abs(grid_score - np.mean(fold_scores)) < 1e-12
    return {
        "name": f"n{n_rows}_d{n_features}_k{folds}_{covariance_type}",
        "rows": n_rows,
        "features": n_features,
        "folds": folds,
        "covariance_type": covariance_type,
        "reg_covar": REG_COVAR,
        "x_bits": [bits(v) for v in x.ravel()],
        "fold_test_indices": fold_tests,
        "fold_scores": fold_scores,
        "cv_loglik": grid_score,
    }


def main():
    rng = np.random.default_rng(20261201)
    cases = [
        case(rng, 23, 2, 5, "full"),
        case(rng, 20, 3, 4, "diag"),
        case(rng, 17, 2, 3, "spherical"),
        case(rng, 12, 2, 7, "tied"),
        case(rng, 10, 1, 10, "full"),
        case(rng, 31, 4, 2, "full"),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    doc = {
        "generator": "scripts/gen_cv_fixture.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    (OUT / "kfold.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT / 'kfold.json'}")


if __name__ == "__main__":
    main()
