"""Loading benchmark: gmmtune's readers and pandas.read_csv on the same large CSV.gz.

    python3 bench/load/run.py                       # 10,000,000 x 8 (+ label), 3 repeats
    python3 bench/load/run.py --rows 1000000        # a quicker run
    python3 bench/load/run.py --before-bin PATH     # adds a gmmtune build of an older commit

Generates the file once with bench/load/make_data.py (under bench/out/, not committed), builds
examples/bench_load.rs, then runs, each in its own process and interleaved repeat by repeat:

* `sequential`: the sequential CSV reader, then a second pass over the file for its SHA-256
  (how a run loaded a dataset before the parallel reader);
* `parallel`: the parallel reader, hashing in the same pass (how a run loads a dataset that is
  not cached, and how `gmmtune fit`/`score` read data);
* `cache hit`: the table cache with a valid entry (a later run of the same data);
* `pandas`: `pandas.read_csv(FILE)` (parsing only, no hash);
* `before` (with --before-bin): `bench_load sequential` built from an older commit.

The cache entry is written once before the hit runs (`cache write`, timed once). Every gmmtune
run must give the same rows, hash and value checksum. Prints the medians of wall and CPU seconds
(user + system, all threads; the whole process for pandas), peak resident memory (VmHWM) and
the ratios, with the load average before and after.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PANDAS = """
import sys, time
import pandas as pd
start = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
seconds = time.perf_counter() - start
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
import os
t = os.times()
print('{"mode": "pandas", "seconds": %r, "rows": %d, "peak_rss_mib": %.1f, "cpu_seconds": %.2f}'
      % (seconds, len(frame), int(hwm) / 1024, t.user + t.system))
"""


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--file", help="an existing CSV.gz to read instead of the generated one")
    p.add_argument("--before-bin", help="bench_load binary of an older commit (sequential mode)")
    p.add_argument("--no-pandas", action="store_true")
    args = p.parse_args()

    out_dir = os.path.join(ROOT, "bench", "out")
    os.makedirs(out_dir, exist_ok=True)
    path = args.file or os.path.join(out_dir, f"load_n{args.rows}_d{args.features}.csv.gz")
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "load", "make_data.py"),
                        "--rows", str(args.rows), "--features", str(args.features),
                        "--out", path], check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "bench_load"],
                   cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "examples", "bench_load")
    cache_dir = os.path.join(out_dir, "load_cache")
    shutil.rmtree(cache_dir, ignore_errors=True)

    print(f"file: {path} ({os.path.getsize(path) / 2**20:.0f} MiB compressed)")
    print(f"load average at the start: {load_average()}", flush=True)
    results = {}

    def record(name, result):
        results.setdefault(name, []).append(result)
        print(f"  {name}: {result['seconds']:.2f} s, {result['peak_rss_mib']:.0f} MiB", flush=True)

    first = run_json([binary, "cache", path, cache_dir])
    assert first["cache"] == "written", first
    record("cache write", first)
    for repeat in range(args.repeats):
        print(f"repeat {repeat + 1}/{args.repeats}", flush=True)
        record("sequential", run_json([binary, "sequential", path]))
        record("parallel", run_json([binary, "parallel", path]))
        hit = run_json([binary, "cache", path, cache_dir])
        assert hit["cache"] == "hit", hit
        record("cache hit", hit)
        if args.before_bin:
            record("before", run_json([args.before_bin, "sequential", path]))
        if not args.no_pandas:
            record("pandas", run_json([sys.executable, "-c", PANDAS, path]))
    end_load = load_average()

    ours = [r for name, rs in results.items() if name != "pandas" for r in rs]
    for key in ("rows", "features", "sha256", "checksum"):
        values = {json.dumps(r[key]) for r in ours}
        assert len(values) == 1, f"the readers disagree on {key}: {values}"
    rows = ours[0]["rows"]
    if "pandas" in results:
        assert all(r["rows"] == rows for r in results["pandas"]), "pandas read other rows"

    median = {name: statistics.median(r["seconds"] for r in rs) for name, rs in results.items()}
    base = "before" if "before" in median else "sequential"
    order = ["before", "sequential", "parallel", "cache write", "cache hit", "pandas"]
    f64_mib = rows * ours[0]["features"] * 8 / 2**20
    lines = [
        f"{rows:,} rows x {ours[0]['features']} features + label, "
        f"{os.path.getsize(path) / 2**20:.0f} MiB gzip; f64 features = {f64_mib:.0f} MiB; "
        f"median of {args.repeats} (cache write: once); load average {load_average_start} "
        f"at the start, {end_load} at the end",
        "",
        f"| reader | median s | runs s | median CPU s | peak RSS MiB | RSS / f64 size | {base} / reader | pandas / reader |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in order:
        if name not in results:
            continue
        rs = results[name]
        runs = ", ".join(f"{r['seconds']:.2f}" for r in rs)
        rss = max(r["peak_rss_mib"] for r in rs)
        vs_base = median[base] / median[name]
        vs_pandas = f"{median['pandas'] / median[name]:.2f}" if "pandas" in median else "-"
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        lines.append(f"| {name} | {median[name]:.2f} | {runs} | {cpu:.2f} | {rss:.0f} | "
                     f"{rss / f64_mib:.2f} | {vs_base:.2f} | {vs_pandas} |")
    table = "\n".join(lines)
    print()
    print(table)
    with open(os.path.join(out_dir, "load.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "load.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    load_average_start = load_average()
    main()
