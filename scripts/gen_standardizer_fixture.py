#!/usr/bin/env python3
"""Write tests/fixtures/data/standardizer_sklearn.json: scikit-learn StandardScaler reference.

The matrix has an ordinary column, a constant column (0.1 repeated, which scikit-learn leaves
unscaled), a column with a large offset and a small spread, and a column of tiny values. The
fixture holds the fitted mean_/scale_ and the transform of a second matrix.

Usage: python3 scripts/gen_standardizer_fixture.py
"""

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "data" / "standardizer_sklearn.json"

rng = np.random.default_rng(20240611)
n = 57
fit = np.column_stack(
    [
        rng.normal(3.0, 2.0, n),
        np.full(n, 0.1),
        1e6 + rng.normal(0.0, 1e-3, n),
        rng.normal(0.0, 1e-7, n),
    ]
)
other = np.column_stack(
    [
        rng.normal(3.0, 5.0, 9),
        rng.normal(0.1, 1.0, 9),
        1e6 + rng.normal(0.0, 1e-2, 9),
        rng.normal(0.0, 1e-6, 9),
    ]
)
scaler = StandardScaler().fit(fit)
fixture = {
    "sklearn_version": sklearn.__version__,
    "fit": fit.tolist(),
    "mean": scaler.mean_.tolist(),
    "scale": scaler.scale_.tolist(),
    "other": other.tolist(),
    "other_transformed": scaler.transform(other).tolist(),
}
OUT.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
print(f"wrote {OUT}")
