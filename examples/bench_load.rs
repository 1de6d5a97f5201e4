//! Times one way of loading a data file, for `bench/load/run.py`.
//!
//! ```sh
//! cargo run --release --example bench_load -- MODE FILE [CACHE_DIR]
//! ```
//!
//! MODE is `sequential` (the sequential CSV reader, then a second pass for the SHA-256: how
//! datasets were loaded before the parallel reader), `parallel` (the parallel reader, hashing
//! in the same pass), `cache` (through the table cache in CACHE_DIR: a miss parses and writes
//! the entry, a hit reads it back). Prints one JSON line: seconds, rows, features, the hash,
//! a checksum of the values, what the cache did, the peak resident memory and the CPU seconds
//! (user + system, all threads; clock ticks of 1/100 s).

use std::path::Path;
use std::time::Instant;

use gmmtune::data::{
    load_table, read_table_hashed, read_table_sequential, sha256_file, CacheUse, ReadOptions,
    TableCache,
};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// User + system CPU seconds of this process so far (all threads).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_load sequential|parallel|cache FILE [CACHE_DIR]";
    let (mode, file) = match args.as_slice() {
        [mode, file, ..] => (mode.as_str(), Path::new(file)),
        _ => return Err(usage.into()),
    };
    let options = ReadOptions::default();
    let start = Instant::now();
    let (table, sha256, cache) = match mode {
        "sequential" => {
            let table = read_table_sequential(file, &options)?;
            (table, sha256_file(file)?, CacheUse::Off)
        }
        "parallel" => {
            let read = read_table_hashed(file, &options)?;
            (read.table, read.sha256, CacheUse::Off)
        }
        "cache" => {
            let dir = args.get(2).ok_or(usage)?;
            let cache = TableCache::new(dir);
            let read = load_table(file, &options, Some(&cache))?;
            (read.table, read.sha256, read.cache)
        }
        _ => return Err(usage.into()),
    };
    let seconds = start.elapsed().as_secs_f64();
    let checksum: f64 = table.features.iter().sum();
    let cache = match cache {
        CacheUse::Off => "off",
        CacheUse::Hit => "hit",
        CacheUse::Written { .. } => "written",
        CacheUse::NotWritten { .. } => "not written",
    };
    println!(
        "{{\"mode\": \"{mode}\", \"seconds\": {seconds}, \"rows\": {}, \"features\": {}, \"anomalies\": {}, \"sha256\": \"{sha256}\", \"checksum\": {checksum:?}, \"cache\": \"{cache}\", \"peak_rss_mib\": {}, \"cpu_seconds\": {}}}",
        table.n_rows(),
        table.n_features(),
        table.n_anomalies(),
        peak_rss_mib().map_or("null".to_owned(), |m| format!("{m:.1}")),
        cpu_seconds().map_or("null".to_owned(), |s| format!("{s:.2}")),
    );
    Ok(())
}
