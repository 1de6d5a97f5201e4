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
    p.add_argument(
        "--suite",
        default="all",
        choices=["all", "base", "highd", "rows"],
        help="base: N=100,000, d in {8,32}; highd: full/tied at d in {128,512,1536}, "
        "N in {2,000, 20,000}, K in {1,4,16}, 10 iterations, reg_covar 1e-3; rows: "
        "10,000,000 x 8 from a CSV.gz (load + fit), K in {4,16}, every type; all: the three",
    )
    p.add_argument("--highd-dims", default="128,512,1536", help="d values of the highd suite")
    p.add_argument("--highd-rows", default="2000,20000", help="N values of the highd suite")
    p.add_argument("--highd-components", default="1,4,16", help="K values of the highd suite")
    p.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the rows suite")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "engine.md"))
    return p.parse_args()


def make_blobs(n, d, k, seed):
    """n rows from k Gaussian blobs in d dimensions with per-blob scales, seeded."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=3.0, size=(k, d))
    scales = rng.uniform(0.5, 1.5, size=k)
    labels = rng.randint(0, k, size=n)
    return centres[labels] + rng.normal(size=(n, d)) * scales[labels][:, None]


def make_low_rank(n, d, k, seed):
    """n rows in d dimensions, k clusters, a rank-32 signal plus isotropic noise (so full
    covariances are well-conditioned), seeded: the shape of text and image features."""
    rng = np.random.RandomState(seed)
    r = min(d, 32)
    centres = rng.normal(scale=2.0, size=(k, d))
    basis = rng.normal(size=(r, d)) / np.sqrt(r)
    labels = rng.randint(0, k, size=n)
    return centres[labels] + 2.0 * rng.normal(size=(n, r)) @ basis + 0.5 * rng.normal(size=(n, d))


def peak_gflops(threads):
    """The machine's peak in this run: the best of a large DGEMM by numpy (OpenBLAS as
    installed, and with its AVX-512 kernel forced) and by faer (gmmtune's matrix products)."""
    code = (
        "import numpy as np, time\n"
        "n = 4096\n"
        "a = np.random.rand(n, n); b = np.random.rand(n, n); a @ b\n"
        "best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(4))\n"
        "print(2 * n ** 3 / best / 1e9)\n"
    )
    out = {}
    for name, extra in [("numpy", {}), ("numpy_avx512", {"OPENBLAS_CORETYPE": "SKYLAKEX"})]:
        env = sklearn_env(threads)
        env.update(extra)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        out[name] = float(proc.stdout.strip()) if proc.returncode == 0 else None
    proc = subprocess.run(
        [BENCH_BIN, "--peak-gemm", "4096"], env=gmmtune_env(threads), capture_output=True, text=True
    )
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    out["faer"] = info["peak_gemm_gflops"]
    out["simd"] = info["simd"]
    out["peak"] = max(v for k, v in out.items() if k != "simd" and v is not None)
    return out


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
    """scikit-learn's count: the triangular product as a full d×d one, then subtract, square, sum."""
    return n * k * (2 * d * d + 3 * d)


def estep_useful_flops(n, d, k):
    """The flops a triangular product needs (d² per row), then subtract, square, sum."""
    return n * k * (d * d + 3 * d)


def fmt(v, digits=3):
    if v is None:
        return "–"
    return f"{v:.{digits}f}"


def build_cases(args):
    """Every case: dict(suite, n, d, k, ct, max_iter, reg_covar, kind)."""
    cases = []
    if args.suite in ("all", "base"):
        n = args.rows or (20_000 if args.quick else 100_000)
        base = [(8, 4, "full"), (8, 4, "diag")] if args.quick else [
            (d, k, ct) for d in (8, 32) for k in (4, 16) for ct in COVARIANCE_TYPES
        ]
        for d, k, ct in base:
            cases.append(dict(suite="base", n=n, d=d, k=k, ct=ct, max_iter=args.max_iter,
                              reg_covar=1e-6, kind="blobs"))
    if args.suite in ("all", "highd"):
        dims = [int(v) for v in args.highd_dims.split(",")]
        rows = [int(v) for v in args.highd_rows.split(",")]
        comps = [int(v) for v in args.highd_components.split(",")]
        for d in dims:
            for n in rows:
                for k in comps:
                    for ct in ("full", "tied"):
                        cases.append(dict(suite="highd", n=n, d=d, k=k, ct=ct, max_iter=10,
                                          reg_covar=1e-3, kind="low_rank"))
    if args.suite in ("all", "rows"):
        for k in (4, 16):
            for ct in COVARIANCE_TYPES:
                cases.append(dict(suite="rows", n=args.big_rows, d=8, k=k, ct=ct, max_iter=10,
                                  reg_covar=1e-6, kind="csv"))
    return cases


def data_file(case, tmp, seed):
    """The raw f64 file of a case (and, for the rows suite, its CSV.gz), generated once."""
    n, d, k = case["n"], case["d"], case["k"]
    if case["kind"] == "csv":
        out_dir = os.path.join(ROOT, "bench", "out")
        os.makedirs(out_dir, exist_ok=True)
        raw = os.path.join(out_dir, f"rows_n{n}_d{d}.f64")
        csv_gz = os.path.join(out_dir, f"rows_n{n}_d{d}.csv.gz")
        if not (os.path.exists(raw) and os.path.exists(csv_gz)):
            print(f"generating {csv_gz} (once; cached under bench/out/) ...", flush=True)
            x = make_blobs(n, d, 8, seed + 7)
            x.astype("<f8").tofile(raw)
            import gzip
            with gzip.open(csv_gz + ".part", "wt", compresslevel=6) as f:
                f.write(",".join(f"x{j}" for j in range(d)) + "\n")
                step = 200_000
                for start in range(0, n, step):
                    block = x[start:start + step]
                    f.write("\n".join(",".join(repr(float(v)) for v in row) for row in block))
                    f.write("\n")
            os.replace(csv_gz + ".part", csv_gz)
        return raw, csv_gz
    key = (case["kind"], n, d, k)
    path = os.path.join(tmp, "{}_n{}_d{}_k{}.f64".format(*key))
    if not os.path.exists(path):
        make = make_blobs if case["kind"] == "blobs" else make_low_rank
        make(n, d, k, seed + 1000 * d + k).astype("<f8").tofile(path)
    return path, None


def main():
    args = parse_args()
    if not os.path.exists(TIME_BIN):
        sys.exit(f"{TIME_BIN} is missing: install it with `apt-get install -y time`")
    cases = build_cases(args)
    if not args.no_build:
        print("building gmmtune (cargo build --release --example bench_em) ...", flush=True)
        subprocess.run(
            ["cargo", "build", "--release", "--example", "bench_em"], cwd=ROOT, check=True
        )
    sk_env, gt_env = sklearn_env(args.threads), gmmtune_env(args.threads)
    single = args.threads > 1 and not args.no_sklearn_single
    started = time.time()
    load_start = os.getloadavg()[0]
    peak = peak_gflops(args.threads)
    print(
        f"peak DGEMM GFLOP/s ({args.threads} threads): numpy {fmt(peak['numpy'], 1)}, "
        f"numpy with OpenBLAS's AVX-512 kernel {fmt(peak['numpy_avx512'], 1)}, "
        f"faer {fmt(peak['faer'], 1)} (gmmtune's kernels: {peak['simd']})",
        flush=True,
    )

    rows = []
    baselines = {}
    with tempfile.TemporaryDirectory(prefix="gmmtune-bench-") as tmp:
        for case in cases:
            n, d, k, ct = case["n"], case["d"], case["k"], case["ct"]
            raw, csv_gz = data_file(case, tmp, args.seed)
            common = ["--rows", str(n), "--cols", str(d)]
            if (case["suite"], d) not in baselines:
                _, sk_rss = run_measured([sys.executable, SK_SCRIPT, "--data", raw] + common + ["--load-only"], sk_env)
                _, gt_rss = run_measured([BENCH_BIN, "--data", raw] + common + ["--load-only"], gt_env)
                baselines[(case["suite"], d)] = (n, sk_rss, gt_rss)
            fit_args = [
                "--components", str(k),
                "--covariance-type", ct,
                "--max-iter", str(case["max_iter"]),
                "--reg-covar", repr(case["reg_covar"]),
                "--repeats", str(1 if case["suite"] != "base" else args.repeats),
                "--time-budget", str(args.time_budget),
            ]
            sk, sk_rss = run_measured([sys.executable, SK_SCRIPT, "--data", raw] + common + fit_args, sk_env)
            source = ["--csv", csv_gz] if csv_gz else ["--data", raw] + common
            gt, gt_rss = run_measured([BENCH_BIN] + source + fit_args, gt_env)
            sk_s = statistics.median(sk["fit_seconds"])
            gt_s = statistics.median(gt["fit_seconds"])
            sk1_s = None
            sk_estep = statistics.median(sk["estep_seconds"])
            if single:
                sk1, _ = run_measured([sys.executable, SK_SCRIPT, "--data", raw] + common + fit_args, sklearn_env(1))
                sk1_s = statistics.median(sk1["fit_seconds"])
                sk_estep = min(sk_estep, statistics.median(sk1["estep_seconds"]))
            best_sk = min(sk_s, sk1_s) if sk1_s is not None else sk_s
            row = {
                "suite": case["suite"],
                "case": f"N={n:,} d={d} K={k} {ct}",
                "n": n, "d": d, "ct": ct,
                "sk_s": sk_s, "sk1_s": sk1_s, "gt_s": gt_s,
                "ratio": sk_s / gt_s, "best_ratio": best_sk / gt_s,
                "per_iter": gt_s / case["max_iter"],
                "load_s": gt.get("load_seconds") if csv_gz else None,
                "sk_rss": sk_rss, "gt_rss": gt_rss,
                "data_mib": n * d * 8 / 2**20,
                "sk_gflops": None, "gt_gflops": None, "gt_useful": None,
            }
            if ct == "full":
                gt_estep = statistics.median(gt["estep_seconds"])
                row["sk_gflops"] = estep_flops(n, d, k) / sk_estep / 1e9
                row["gt_gflops"] = estep_flops(n, d, k) / gt_estep / 1e9
                row["gt_useful"] = estep_useful_flops(n, d, k) / gt_estep / 1e9
            rows.append(row)
            print(
                f"{row['case']:<32} sklearn {sk_s:8.3f}s  gmmtune {gt_s:7.3f}s  "
                f"ratio {row['ratio']:6.2f} (best {row['best_ratio']:6.2f})  "
                f"RSS {sk_rss:7.1f} / {gt_rss:7.1f} MiB"
                + (f"  load {row['load_s']:.2f}s" if row["load_s"] is not None else "")
                + (f"  E-step {row['gt_gflops']:.1f} GFLOP/s" if row["gt_gflops"] else ""),
                flush=True,
            )

    elapsed = time.time() - started
    lines = [
        f"{args.threads} threads each side; {platform.machine()}, {os.cpu_count()} CPUs; load "
        f"average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
        f"wall time {elapsed:.0f} s.",
        "",
        f"Peak DGEMM (4096², {args.threads} threads, this run): numpy/OpenBLAS as installed "
        f"{fmt(peak['numpy'], 1)} GFLOP/s, OpenBLAS with its AVX-512 kernel forced "
        f"{fmt(peak['numpy_avx512'], 1)}, faer {fmt(peak['faer'], 1)}; peak = "
        f"{peak['peak']:.1f} GFLOP/s. gmmtune's hand-written kernels ran at `{peak['simd']}`.",
        "",
    ]
    for suite in ("base", "highd", "rows"):
        part = [r for r in rows if r["suite"] == suite]
        if not part:
            continue
        lines.append(f"### {suite}")
        lines.append("")
        lines.append(
            "| case | sklearn s (2 threads) | sklearn 1 thread s | gmmtune s | ratio | ratio vs faster sklearn "
            "| gmmtune s/iteration | load s | E-step GFLOP/s sklearn | E-step GFLOP/s gmmtune (2d² count) "
            "| same, % of peak | E-step useful GFLOP/s gmmtune (d² count) | peak RSS sklearn MiB | peak RSS gmmtune MiB | gmmtune RSS / data |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in part:
            pct = 100 * r["gt_gflops"] / peak["peak"] if r["gt_gflops"] else None
            lines.append(
                f"| {r['case']} | {fmt(r['sk_s'])} | {fmt(r['sk1_s'])} | {fmt(r['gt_s'])} "
                f"| {fmt(r['ratio'], 2)} | {fmt(r['best_ratio'], 2)} | {fmt(r['per_iter'])} "
                f"| {fmt(r['load_s'], 2)} | {fmt(r['sk_gflops'], 1)} | {fmt(r['gt_gflops'], 1)} "
                f"| {fmt(pct, 0)} | {fmt(r['gt_useful'], 1)} | {fmt(r['sk_rss'], 1)} | {fmt(r['gt_rss'], 1)} "
                f"| {r['gt_rss'] / r['data_mib']:.2f} |"
            )
        ratios = [r["ratio"] for r in part]
        best = [r["best_ratio"] for r in part]
        lines.append("")
        lines.append(
            f"Median ratio {statistics.median(ratios):.2f} (min {min(ratios):.2f}); against the "
            f"faster scikit-learn {statistics.median(best):.2f} (min {min(best):.2f}); "
            f"every ratio ≥ 3: {'yes' if min(ratios) >= 3 else 'NO'}."
        )
        lines.append("")
    for (suite, d), (n, sk_rss, gt_rss) in sorted(baselines.items()):
        lines.append(
            f"Baseline RSS, {suite} d={d} (N={n:,}) loaded, nothing fitted: scikit-learn process "
            f"{sk_rss:.1f} MiB, gmmtune {gt_rss:.1f} MiB (data alone {n * d * 8 / 2**20:.1f} MiB)."
        )
    lines.append("")
    lines.append(
        "E-step: scikit-learn `_estimate_weighted_log_prob` (faster of 1 and 2 threads) vs "
        "gmmtune `score` (log-probabilities and log-sum-exp of every row). GFLOP/s with "
        "N·K·(2d²+3d) flops (scikit-learn's dense product) and, for gmmtune, also N·K·(d²+3d) "
        "(what the triangular product needs). The rows suite reads the CSV.gz with gmmtune's "
        "reader (load s) and fits; scikit-learn gets the same values as raw f64."
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
