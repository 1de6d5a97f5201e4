#!/usr/bin/env python3
"""Side-by-side speed and memory benchmark: gmmtune's EM engine against scikit-learn.

    python3 bench/engine/run.py            # 16 cases: N=100,000, d in {8,32}, K in {4,16}, 4 types
    python3 bench/engine/run.py --quick    # 2-case smoke run

One run generates seeded Gaussian-blob data once per (d, K) as raw little-endian f64 in a temp
dir, then for every case times

  * scikit-learn: GaussianMixture(n_components=K, covariance_type=..., tol=0, max_iter=M,
    init_params='random_from_data', random_state=0).fit(X)  (bench/engine/sk_fit.py)
  * gmmtune: the same settings (examples/bench_em.rs, release build)

each in its own process under /usr/bin/time -v (peak RSS), with the same thread count
(OMP/OPENBLAS/MKL_NUM_THREADS for scikit-learn, RAYON_NUM_THREADS for gmmtune). Each process
fits `--repeats` times (fewer once `--time-budget` seconds have been spent) and the median fit
time is reported. For full covariances it also times the E-step on all N rows —
scikit-learn's `_estimate_weighted_log_prob` (no logsumexp) against gmmtune's `score_samples`
(with logsumexp) — and converts it to GFLOP/s with N·K·(2d² + 3d) flops (the triangular
product counted as a full d×d product, as scikit-learn computes it, plus subtract, square, sum).

Prints a table, the median ratio and whether the goals hold (every ratio ≥ 3, median ≥ 5,
gmmtune's peak RSS ≤ scikit-learn's in every case), and writes it as Markdown to
bench/out/engine.md. The baseline RSS of each side just loading the data is reported too.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH_BIN = os.path.join(ROOT, "target", "release", "examples", "bench_em")
SK_SCRIPT = os.path.join(ROOT, "bench", "engine", "sk_fit.py")
TIME_BIN = "/usr/bin/time"
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def parse_args():
    p = argparse.ArgumentParser(description="gmmtune vs scikit-learn EM benchmark")
    p.add_argument("--quick", action="store_true", help="2-case smoke run (N=20,000, d=8, K=4)")
    p.add_argument("--rows", type=int, default=None, help="rows N (default 100,000; quick 20,000)")
    p.add_argument("--max-iter", type=int, default=20, help="EM iterations per fit (tol 0)")
    p.add_argument("--repeats", type=int, default=3, help="timed fits per side and case")
    p.add_argument(
        "--time-budget",
        type=float,
        default=15.0,
        help="stop repeating a case on one side once its fits took this many seconds",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="data seed")
    p.add_argument("--no-build", action="store_true", help="use the existing release binary")
    p.add_argument(
        "--no-sklearn-single",
        action="store_true",
        help="skip the extra single-threaded scikit-learn timing",
    )
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "engine.md"))
    return p.parse_args()


def make_blobs(n, d, k, seed):
    """n rows from k Gaussian blobs in d dimensions with per-blob scales, seeded."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=3.0, size=(k, d))
    scales = rng.uniform(0.5, 1.5, size=k)
    labels = rng.randint(0, k, size=n)
    return centres[labels] + rng.normal(size=(n, d)) * scales[labels][:, None]


def run_measured(cmd, env):
    """Runs cmd under /usr/bin/time -v; returns (parsed JSON stdout, peak RSS in MiB)."""
    proc = subprocess.run([TIME_BIN, "-v"] + cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss_kb = None
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss_kb = int(line.rsplit(":", 1)[1])
    if rss_kb is None:
        raise RuntimeError(f"no 'Maximum resident set size' in the output of {TIME_BIN} -v")
    lines = [l for l in proc.stdout.splitlines() if l.strip().startswith("{")]
    return json.loads(lines[-1]), rss_kb / 1024.0


def sklearn_env(threads):
    env = dict(os.environ)
    for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        env[var] = str(threads)
    return env


def gmmtune_env(threads):
    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = str(threads)
    return env


def estep_flops(n, d, k):
    return n * k * (2 * d * d + 3 * d)


def fmt(v, digits=3):
    if v is None:
        return "–"
    return f"{v:.{digits}f}"


def main():
    args = parse_args()
    if not os.path.exists(TIME_BIN):
        sys.exit(f"{TIME_BIN} is missing: install it with `apt-get install -y time`")
    n = args.rows or (20_000 if args.quick else 100_000)
    if args.quick:
        cases = [(8, 4, "full"), (8, 4, "diag")]
    else:
        cases = [(d, k, ct) for d in (8, 32) for k in (4, 16) for ct in COVARIANCE_TYPES]

    if not args.no_build:
        print("building gmmtune (cargo build --release --example bench_em) ...", flush=True)
        subprocess.run(
            ["cargo", "build", "--release", "--example", "bench_em"], cwd=ROOT, check=True
        )
    sk_env, gt_env = sklearn_env(args.threads), gmmtune_env(args.threads)
    single = args.threads > 1 and not args.no_sklearn_single
    started = time.time()

    with tempfile.TemporaryDirectory(prefix="gmmtune-bench-") as tmp:
        data = {}
        for d, k in sorted({(d, k) for d, k, _ in cases}):
            path = os.path.join(tmp, f"blobs_n{n}_d{d}_k{k}.f64")
            make_blobs(n, d, k, args.seed + 1000 * d + k).astype("<f8").tofile(path)
            data[(d, k)] = path

        baselines = {}
        for d in sorted({d for d, _, _ in cases}):
            path = next(p for (dd, _), p in data.items() if dd == d)
            common = ["--data", path, "--rows", str(n), "--cols", str(d), "--load-only"]
            _, sk_rss = run_measured([sys.executable, SK_SCRIPT] + common, sk_env)
            _, gt_rss = run_measured([BENCH_BIN] + common, gt_env)
            baselines[d] = (sk_rss, gt_rss)

        rows = []
        for d, k, ct in cases:
            common = [
                "--data", data[(d, k)],
                "--rows", str(n),
                "--cols", str(d),
                "--components", str(k),
                "--covariance-type", ct,
                "--max-iter", str(args.max_iter),
                "--repeats", str(args.repeats),
                "--time-budget", str(args.time_budget),
            ]
            sk, sk_rss = run_measured([sys.executable, SK_SCRIPT] + common, sk_env)
            gt, gt_rss = run_measured([BENCH_BIN] + common, gt_env)
            sk_s = statistics.median(sk["fit_seconds"])
            gt_s = statistics.median(gt["fit_seconds"])
            sk1_s = None
            sk_estep = statistics.median(sk["estep_seconds"])
            if single:
                sk1, _ = run_measured([sys.executable, SK_SCRIPT] + common, sklearn_env(1))
                sk1_s = statistics.median(sk1["fit_seconds"])
                sk_estep = min(sk_estep, statistics.median(sk1["estep_seconds"]))
            best_sk = min(sk_s, sk1_s) if sk1_s is not None else sk_s
            row = {
                "case": f"d={d} K={k} {ct}",
                "sk_s": sk_s,
                "sk1_s": sk1_s,
                "gt_s": gt_s,
                "ratio": sk_s / gt_s,
                "best_ratio": best_sk / gt_s,
                "runs": (len(sk["fit_seconds"]), len(gt["fit_seconds"])),
                "sk_rss": sk_rss,
                "gt_rss": gt_rss,
                "sk_gflops": None,
                "gt_gflops": None,
            }
            if ct == "full":
                flops = estep_flops(n, d, k)
                row["sk_gflops"] = flops / sk_estep / 1e9
                row["gt_gflops"] = flops / statistics.median(gt["estep_seconds"]) / 1e9
            rows.append(row)
            print(
                f"{row['case']:<22} sklearn {sk_s:8.3f}s  gmmtune {gt_s:7.3f}s  "
                f"ratio {row['ratio']:6.2f}  (vs best sklearn {row['best_ratio']:6.2f})  RSS {sk_rss:7.1f} / {gt_rss:6.1f} MiB",
                flush=True,
            )

    elapsed = time.time() - started

    def verdicts(ratios):
        median_ratio = statistics.median(ratios)
        return median_ratio, all(r >= 3 for r in ratios), median_ratio >= 5

    median_ratio, every_ratio, median_ok = verdicts([r["ratio"] for r in rows])
    best_median, best_every, best_median_ok = verdicts([r["best_ratio"] for r in rows])
    memory_ok = all(r["gt_rss"] <= r["sk_rss"] for r in rows)

    lines = []
    lines.append(
        f"N = {n:,}, {args.max_iter} EM iterations (tol 0, random_from_data), "
        f"{args.threads} threads each side; median of up to {args.repeats} fits "
        f"(runs sklearn/gmmtune shown). {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average at end {os.getloadavg()[0]:.1f}."
    )
    if single:
        lines.append(
            "The column 'sklearn 1 thread' is scikit-learn with OMP/OPENBLAS/MKL_NUM_THREADS=1: "
            "on a busy machine OpenBLAS threads that spin-wait can make scikit-learn slower with "
            "2 threads than with 1, so the ratio against the faster of the two is shown as well."
        )
    lines.append("")
    lines.append(
        f"| case | sklearn s ({args.threads} threads) | sklearn 1 thread s | gmmtune s "
        "| ratio sklearn/gmmtune | ratio best sklearn/gmmtune | runs "
        "| E-step GFLOP/s sklearn (faster of 1/2 threads) | E-step GFLOP/s gmmtune "
        "| peak RSS sklearn MiB | peak RSS gmmtune MiB |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lines.append(
            f"| {r['case']} | {fmt(r['sk_s'])} | {fmt(r['sk1_s'])} | {fmt(r['gt_s'])} "
            f"| {fmt(r['ratio'], 2)} | {fmt(r['best_ratio'], 2)} "
            f"| {r['runs'][0]}/{r['runs'][1]} | {fmt(r['sk_gflops'], 2)} | {fmt(r['gt_gflops'], 2)} "
            f"| {fmt(r['sk_rss'], 1)} | {fmt(r['gt_rss'], 1)} |"
        )
    lines.append("")
    for d, (sk_rss, gt_rss) in sorted(baselines.items()):
        lines.append(
            f"Baseline RSS with the d={d} data loaded and nothing fitted: scikit-learn process "
            f"(Python + numpy + scikit-learn) {sk_rss:.1f} MiB, gmmtune {gt_rss:.1f} MiB "
            f"(data alone {n * d * 8 / 2**20:.1f} MiB)."
        )
    lines.append("")
    lines.append(
        f"Median ratio: {median_ratio:.2f} (against scikit-learn with {args.threads} threads), "
        f"{best_median:.2f} (against the faster scikit-learn configuration)"
    )
    lines.append(
        f"- every ratio ≥ 3: {'yes' if every_ratio else 'NO'} (min {min(r['ratio'] for r in rows):.2f}); "
        f"against the faster scikit-learn: {'yes' if best_every else 'NO'} "
        f"(min {min(r['best_ratio'] for r in rows):.2f})"
    )
    lines.append(
        f"- median ratio ≥ 5: {'yes' if median_ok else 'NO'}; "
        f"against the faster scikit-learn: {'yes' if best_median_ok else 'NO'}"
    )
    lines.append(f"- gmmtune peak RSS ≤ scikit-learn's in every case: {'yes' if memory_ok else 'NO'}")
    lines.append("")
    lines.append(
        "E-step: scikit-learn `_estimate_weighted_log_prob` vs gmmtune `score_samples` on all N "
        "rows, N·K·(2d²+3d) flops. Wall time of the whole run: "
        f"{elapsed:.0f} s."
    )
    text = "\n".join(lines)
    print()
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("# gmmtune EM engine vs scikit-learn\n\n" + text + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
