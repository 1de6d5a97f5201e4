#!/usr/bin/env python3
"""Compare the strategies of one run, from its `summary.csv` (Python standard library only).

Per strategy: on how many datasets its selected configuration has the best validation AUC and
the best test AUC among the strategies (ties count for each), the mean validation and test
AUC, the median test cost over the never-alarm test cost, and the summed fit seconds. Prints a
Markdown table; this is the table in the README for `configs/strategies.yaml`.

Usage: python3 scripts/compare_strategies.py reports/strategies/summary.csv
"""

import csv
import statistics
import sys
from collections import defaultdict


def main(path: str) -> int:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    by_dataset: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        by_dataset[r["dataset"]][r["strategy"]] = r
    # Only datasets every strategy finished with a selection are compared.
    datasets = [ds for ds, d in by_dataset.items()
                if all(s in d and d[s]["val_auc"] and d[s]["test_auc"] for s in strategies)]
    n = len(datasets)
    best = {key: defaultdict(int) for key in ("val_auc", "test_auc")}
    for ds in datasets:
        for key in best:
            top = max(float(by_dataset[ds][s][key]) for s in strategies)
            for s in strategies:
                if float(by_dataset[ds][s][key]) >= top - 1e-12:
                    best[key][s] += 1
    print("| strategy | best validation AUC (ties count) | best test AUC | mean validation AUC "
          "| mean test AUC | median test cost / never-alarm cost | fit seconds |")
    print("|---|---|---|---|---|---|---|")
    for s in strategies:
        picked = [by_dataset[ds][s] for ds in datasets]
        ratios = [float(r["test_cost_ratio"]) for r in picked if r["test_cost_ratio"]]
        print(f"| {s} | {best['val_auc'][s]}/{n} | {best['test_auc'][s]}/{n} | "
              f"{statistics.mean(float(r['val_auc']) for r in picked):.4f} | "
              f"{statistics.mean(float(r['test_auc']) for r in picked):.4f} | "
              f"{statistics.median(ratios) if ratios else float('nan'):.3f} | "
              f"{sum(float(r['fit_seconds']) for r in picked):.1f} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
