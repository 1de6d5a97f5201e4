#!/usr/bin/env python3
"""Convert NAB's realKnownCause/nyc_taxi.csv into gmmtune's labelled CSV.

Reads the NAB series and its anomaly windows and writes
`datasets/nyc_taxi/nyc_taxi.csv.gz` with the columns `timestamp,value,label`.
`label` is 1 for every row whose timestamp lies inside one of the series' NAB
anomaly windows (begin inclusive, end exclusive, the convention of the course's
ADSimpleCostModel) and 0 otherwise. It also copies the NAB label and window JSON
files next to the output, unchanged, so the provenance stays with the data.

The output is byte-for-byte reproducible (the gzip header carries no timestamp
or file name).

Usage:
    python3 scripts/convert_nyc_taxi.py [SOURCE_DIR] [OUTPUT_DIR]

SOURCE_DIR holds nyc_taxi.csv, combined_windows.json and combined_labels.json
(default: ../shared/datasets/nyc_taxi relative to the repository root);
OUTPUT_DIR defaults to datasets/nyc_taxi in the repository.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

SERIES_KEY = "realKnownCause/nyc_taxi.csv"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "datasets" / "nyc_taxi"
DEFAULT_OUTPUT = REPO_ROOT / "datasets" / "nyc_taxi"
EXPECTED_ROWS = 10_320
EXPECTED_WINDOWS = 5


def parse_timestamp(text: str) -> dt.datetime:
    """Parse NAB timestamps: `YYYY-MM-DD HH:MM:SS` with optional fractional seconds."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"unrecognised timestamp {text!r}")


def load_windows(path: Path) -> list[tuple[dt.datetime, dt.datetime]]:
    with path.open(encoding="utf-8") as handle:
        all_windows = json.load(handle)
    if SERIES_KEY not in all_windows:
        raise SystemExit(f"{path}: no entry for {SERIES_KEY!r}")
    windows = [(parse_timestamp(b), parse_timestamp(e)) for b, e in all_windows[SERIES_KEY]]
    for begin, end in windows:
        if not begin < end:
            raise SystemExit(f"{path}: window {begin} -> {end} is empty or reversed")
    return windows


def convert(source_dir: Path, output_dir: Path) -> None:
    windows = load_windows(source_dir / "combined_windows.json")
    if len(windows) != EXPECTED_WINDOWS:
        raise SystemExit(f"expected {EXPECTED_WINDOWS} windows for {SERIES_KEY}, found {len(windows)}")

    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["timestamp", "value", "label"])
    rows = 0
    anomalies = 0
    per_window = [0] * len(windows)
    with (source_dir / "nyc_taxi.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != ["timestamp", "value"]:
            raise SystemExit(f"unexpected header {header}")
        for line_number, record in enumerate(reader, start=2):
            if len(record) != 2:
                raise SystemExit(f"line {line_number}: expected 2 fields, found {len(record)}")
            stamp_text, value_text = record
            stamp = parse_timestamp(stamp_text)
            float(value_text)  # fail loudly on a non-numeric value
            label = 0
            for index, (begin, end) in enumerate(windows):
                if begin <= stamp < end:
                    label = 1
                    per_window[index] += 1
            writer.writerow([stamp_text, value_text, label])
            rows += 1
            anomalies += label
    if rows != EXPECTED_ROWS:
        raise SystemExit(f"expected {EXPECTED_ROWS} rows, found {rows}")

    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / "nyc_taxi.csv.gz"
    payload = text.getvalue().encode("utf-8")
    with output.open("wb") as raw:
        # filename="" and mtime=0 keep the gzip header free of run-dependent bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(payload)
    for name in ("combined_windows.json", "combined_labels.json"):
        source = source_dir / name
        if source.exists() and source.resolve() != (output_dir / name).resolve():
            shutil.copyfile(source, output_dir / name)

    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"wrote {output}: {rows} rows, {anomalies} anomalous ({100.0 * anomalies / rows:.2f} %)")
    print(f"rows per window: {per_window}")
    print(f"sha256 {digest}")


def main(argv: list[str]) -> None:
    source_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    output_dir = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    convert(source_dir, output_dir)


if __name__ == "__main__":
    main(sys.argv)
