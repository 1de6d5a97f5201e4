//! Times gmmtune's EM fit and E-step on a raw little-endian f64 matrix, for the side-by-side
//! benchmark against scikit-learn (`bench/engine/run.py`).
//!
//! ```text
//! cargo build --release --example bench_em
//! target/release/examples/bench_em --data x.f64 --rows 100000 --cols 8 --components 4 \
//!     --covariance-type full --max-iter 20 --repeats 3
//! ```
//!
//! Fits with tol 0, `max_iter` iterations, random_from_data initialisation and seed 0 (the
//! settings of the scikit-learn side; `--init` and `--tol` change them for profiling), then
//! times `score` (an E-step's log-probabilities and log-sum-exp over all rows) on the same data. Prints one JSON object on stdout: `fit_seconds` and
//! `estep_seconds` (one entry per repeat), `n_iter`, `lower_bound`. With `--load-only` it only
//! reads the data (to measure the baseline memory).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use gmmtune::gmm::{CovarianceType, GaussianMixture, GmmParams, GmmValidParams, InitMethod};
use ndarray::Array2;

#[derive(Parser, Debug)]
#[command(about = "Time gmmtune's EM fit and E-step on a raw little-endian f64 matrix")]
struct Args {
    /// Row-major little-endian f64 file of rows × cols values.
    #[arg(long, required_unless_present_any = ["csv", "peak_gemm"])]
    data: Option<PathBuf>,
    /// A CSV or CSV.gz file read with gmmtune's own reader instead (`load_seconds` reports
    /// the time; every column is a feature).
    #[arg(long, conflicts_with = "data")]
    csv: Option<PathBuf>,
    /// Number of rows in the file.
    #[arg(long, default_value_t = 0)]
    rows: usize,
    /// Number of columns in the file.
    #[arg(long, default_value_t = 0)]
    cols: usize,
    /// Only time faer's n×n matrix product (the machine's peak) on the rayon pool and exit.
    #[arg(long)]
    peak_gemm: Option<usize>,
    /// Number of mixture components.
    #[arg(long, default_value_t = 4)]
    components: usize,
    /// full, tied, diag or spherical.
    #[arg(long, default_value = "full")]
    covariance_type: CovarianceType,
    /// EM iterations (tol is 0, so exactly this many run).
    #[arg(long, default_value_t = 20)]
    max_iter: usize,
    /// Initialisation: kmeans, k-means++, random or random_from_data.
    #[arg(long, default_value = "random_from_data")]
    init: InitMethod,
    /// Non-negative regularisation added to the covariance diagonals.
    #[arg(long, default_value_t = 1e-6)]
    reg_covar: f64,
    /// Convergence threshold (0: always `max_iter` iterations).
    #[arg(long, default_value_t = 0.0)]
    tol: f64,
    /// Timed fits (and timed E-steps).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Stop repeating once this many seconds have been spent fitting.
    #[arg(long, default_value_t = f64::INFINITY)]
    time_budget: f64,
    /// Only read the data and exit (baseline memory).
    #[arg(long)]
    load_only: bool,
}

fn read_matrix(args: &Args) -> Result<Array2<f64>> {
    let path = args
        .data
        .as_ref()
        .context("--data, --csv or --peak-gemm is required")?;
    let file = File::open(path).with_context(|| format!("opening {path:?}"))?;
    let want = args.rows * args.cols * 8;
    let have = file.metadata()?.len() as usize;
    if have != want {
        bail!("{path:?} has {have} bytes, expected rows × cols × 8 = {want}");
    }
    // Read in chunks straight into the f64 buffer, so that the peak memory is the data's.
    let mut values = Vec::with_capacity(args.rows * args.cols);
    let mut reader = BufReader::new(file);
    let mut chunk = vec![0u8; 1 << 20];
    let mut remaining = want;
    while remaining > 0 {
        let len = remaining.min(chunk.len());
        reader.read_exact(&mut chunk[..len])?;
        values.extend(
            chunk[..len]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        );
        remaining -= len;
    }
    Ok(Array2::from_shape_vec((args.rows, args.cols), values)?)
}

/// GFLOP/s of the best of a few `n × n` products by faer on all threads of the pool.
fn peak_gemm(n: usize) -> f64 {
    let a = faer::Mat::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 13) as f64 * 0.1);
    let b = faer::Mat::<f64>::from_fn(n, n, |i, j| ((i * 5 + j * 11) % 17) as f64 * 0.1);
    let mut c = faer::Mat::<f64>::zeros(n, n);
    let par = faer::Par::rayon(rayon::current_num_threads());
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        faer::linalg::matmul::matmul(
            c.as_mut(),
            faer::Accum::Replace,
            a.as_ref(),
            b.as_ref(),
            1.0,
            par,
        );
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (n as f64).powi(3) / best / 1e9
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(n) = args.peak_gemm {
        let gflops = peak_gemm(n);
        println!(
            "{}",
            serde_json::json!({"peak_gemm_gflops": gflops, "n": n, "threads": rayon::current_num_threads(), "simd": gmmtune::linalg::SimdLevel::detected().name()})
        );
        return Ok(());
    }
    let start = Instant::now();
    let x = match &args.csv {
        Some(path) => {
            let options = gmmtune::data::ReadOptions {
                label_column: None,
                split_column: None,
                ..Default::default()
            };
            gmmtune::data::read_table(path, &options)?.features
        }
        None => read_matrix(&args)?,
    };
    let load_seconds = start.elapsed().as_secs_f64();
    if args.load_only {
        println!("{{\"rows\": {}, \"sum\": {}}}", x.nrows(), x.sum());
        return Ok(());
    }
    let params = GmmParams::new(args.components)
        .covariance_type(args.covariance_type)
        .tol(args.tol)
        .reg_covar(args.reg_covar)
        .max_iter(args.max_iter)
        .init(args.init)
        .seed(0)
        .check()?;

    // The timed loop runs on a worker of rayon's pool, as trials do in `gmmtune run`.
    let t = rayon::scope(|_| time_fits(&args, &params, &x))?;
    let model = t.last.context("no fit ran")?;
    println!(
        "{}",
        serde_json::json!({
            "load_seconds": load_seconds,
            "rows": x.nrows(),
            "cols": x.ncols(),
            "simd": gmmtune::linalg::SimdLevel::current().name(),
            "fit_seconds": t.fit_seconds,
            "fit_cpu_seconds": t.fit_cpu_seconds,
            "estep_seconds": t.estep_seconds,
            "estep_cpu_seconds": t.estep_cpu_seconds,
            "n_iter": model.n_iter(),
            "lower_bound": model.lower_bound(),
            "threads": rayon::current_num_threads(),
        })
    );
    Ok(())
}

/// CPU seconds used so far by all threads of this process (from `/proc/self/task/*/schedstat`,
/// nanosecond counters; 0 where that file does not exist). On a machine shared with other
/// work, CPU time is steadier than wall time.
fn process_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut total_ns = 0u64;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total_ns += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total_ns as f64 * 1e-9
}

/// Fit seconds, E-step seconds and the last model of `args.repeats` timed fits.
fn time_fits(args: &Args, params: &GmmValidParams, x: &Array2<f64>) -> Result<Timings> {
    let mut t = Timings::default();
    for _ in 0..args.repeats.max(1) {
        let (start, cpu) = (Instant::now(), process_cpu_seconds());
        let model = params.fit(x.view())?;
        t.fit_seconds.push(start.elapsed().as_secs_f64());
        t.fit_cpu_seconds.push(process_cpu_seconds() - cpu);
        let (start, cpu) = (Instant::now(), process_cpu_seconds());
        // The E-step's work (log-probabilities and log-sum-exp of every row), summed.
        let scores = model.score(x.view())?;
        t.estep_seconds.push(start.elapsed().as_secs_f64());
        t.estep_cpu_seconds.push(process_cpu_seconds() - cpu);
        std::hint::black_box(scores);
        t.last = Some(model);
        if t.fit_seconds.iter().sum::<f64>() > args.time_budget {
            break;
        }
    }
    Ok(t)
}

/// What [`time_fits`] measures: wall and CPU seconds per repeat, and the last model.
#[derive(Default)]
struct Timings {
    fit_seconds: Vec<f64>,
    fit_cpu_seconds: Vec<f64>,
    estep_seconds: Vec<f64>,
    estep_cpu_seconds: Vec<f64>,
    last: Option<GaussianMixture>,
}
