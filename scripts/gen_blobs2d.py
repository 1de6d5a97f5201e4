"""Generates datasets/blobs2d/blobs2d.csv.gz: a 2-D data set for the model explorer walkthrough.

Three Gaussian clusters of different shapes (one long and tilted up, one tilted down, one flat)
and 15 anomalies drawn uniformly over a wider box, in shuffled order (so unshuffled k-fold
splits mix the clusters). Two features on different scales, `temperature` (degrees C) and
`vibration` (mm/s), and a `label` column (1 = anomaly). Same bytes on every run:
python3 scripts/gen_blobs2d.py
"""

import gzip
import io
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "datasets" / "blobs2d" / "blobs2d.csv.gz"

CLUSTERS = [
    # (rows, mean, covariance)
    (300, [20.0, 2.0], [[9.0, 1.2], [1.2, 0.25]]),
    (200, [45.0, 5.5], [[16.0, -1.6], [-1.6, 0.36]]),
    (150, [35.0, 1.2], [[4.0, 0.0], [0.0, 0.04]]),
]
ANOMALIES = 15
BOX = ([5.0, 0.0], [65.0, 8.0])


def main() -> None:
    rng = np.random.default_rng(20240601)
    rows = []
    for n, mean, cov in CLUSTERS:
        x = rng.multivariate_normal(mean, cov, size=n)
        rows += [(a, b, 0) for a, b in x]
    low, high = np.array(BOX[0]), np.array(BOX[1])
    for a, b in rng.uniform(low, high, size=(ANOMALIES, 2)):
        rows.append((a, b, 1))
    order = rng.permutation(len(rows))
    text = io.StringIO()
    text.write("temperature,vibration,label\n")
    for i in order:
        a, b, label = rows[i]
        text.write(f"{a:.3f},{b:.4f},{label}\n")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(text.getvalue().encode())
    print(f"wrote {OUT} ({len(rows)} rows, {ANOMALIES} anomalies)")


if __name__ == "__main__":
    main()
