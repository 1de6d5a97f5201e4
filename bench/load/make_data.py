"""Writes a large CSV.gz for the loading benchmark: N rows of d features drawn from a few
Gaussian blobs (full float64 precision, as Python's repr prints them) and a 0/1 label column
(about 1 % anomalies, drawn far from the blobs).

    python3 bench/load/make_data.py --rows 10000000 --features 8 --out /tmp/gmmload/rows.csv.gz

The file is written once (to OUT.part, then renamed) and never committed.
"""

import argparse
import gzip
import os

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    d = args.features
    centers = rng.normal(0.0, 5.0, size=(8, d))
    part = args.out + ".part"
    step = 200_000
    with gzip.open(part, "wt", compresslevel=6) as f:
        f.write(",".join(f"x{j}" for j in range(d)) + ",label\n")
        for start in range(0, args.rows, step):
            n = min(step, args.rows - start)
            which = rng.integers(0, len(centers), size=n)
            x = centers[which] + rng.normal(0.0, 1.0, size=(n, d))
            anomaly = rng.random(n) < 0.01
            x[anomaly] = rng.uniform(-25.0, 25.0, size=(int(anomaly.sum()), d))
            lines = (",".join(map(repr, row.tolist())) + (",1" if a else ",0")
                     for row, a in zip(x, anomaly))
            f.write("\n".join(lines))
            f.write("\n")
    os.replace(part, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
