//! `gmmtune report` and `gmmtune compare`, and the report a run keeps up to date while it runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gmmtune::journal::UNITS_FILE;
use gmmtune::report::{
    build_compare_report, build_run_report, BuiltReport, CurveCache, ReportOptions,
};

use super::{CompareArgs, ReportArgs};

fn options(no_curves: bool, zeroshot: Option<PathBuf>) -> ReportOptions {
    ReportOptions {
        no_curves,
        zeroshot,
    }
}

fn print_built(built: &BuiltReport) {
    eprintln!(
        "report: {} ({} charts, {} tables, {:.1} MiB; {} of {} units finished, {} trials; built in {:.1} s{})",
        built.written.html.display(),
        built.written.charts,
        built.written.tables,
        built.written.html_bytes as f64 / (1024.0 * 1024.0),
        built.finished_units,
        built.planned_units,
        built.trials,
        built.seconds,
        if built.refits > 0 {
            format!(", {} models refitted for the curves", built.refits)
        } else {
            String::new()
        }
    );
}

pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let built = build_run_report(&args.dir, &options(args.no_curves, args.zeroshot), None)?;
    print_built(&built);
    Ok(ExitCode::SUCCESS)
}

pub fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let dirs: Vec<&Path> = args.dirs.iter().map(PathBuf::as_path).collect();
    let built = build_compare_report(&dirs, &args.out, &options(args.no_curves, args.zeroshot))?;
    print_built(&built);
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds a running run's report when units have finished since the last build and enough
/// time has passed: at least the interval asked (`--report-every`, 10 s by default), and at
/// least five times the last build's duration, so the report never takes more than a sixth of
/// one core.
pub struct LiveReport {
    dir: PathBuf,
    cache: CurveCache,
    last_build: Option<Instant>,
    last_units_len: Option<u64>,
    every: Duration,
    interval: Duration,
    quiet: bool,
}

impl LiveReport {
    /// A live report of the run in `dir`, rebuilt at most every `every_s` seconds.
    pub fn new(dir: &Path, quiet: bool, every_s: f64) -> LiveReport {
        let every = Duration::from_secs_f64(every_s);
        LiveReport {
            dir: dir.to_path_buf(),
            cache: CurveCache::default(),
            last_build: None,
            last_units_len: None,
            every,
            interval: every,
            quiet,
        }
    }

    fn units_len(&self) -> Option<u64> {
        std::fs::metadata(self.dir.join(UNITS_FILE))
            .ok()
            .map(|m| m.len())
    }

    /// Rebuilds the report if units finished since the last build and the interval passed.
    /// A failed build is reported and does not stop the run.
    pub fn tick(&mut self) {
        let due = self.last_build.is_none_or(|t| t.elapsed() >= self.interval);
        if !due {
            return;
        }
        let len = self.units_len();
        if len.is_none() || len == self.last_units_len {
            return;
        }
        self.last_units_len = len;
        self.build();
    }

    fn build(&mut self) {
        let started = Instant::now();
        match build_run_report(&self.dir, &ReportOptions::default(), Some(&mut self.cache)) {
            Ok(_) => {}
            Err(e) => {
                if !self.quiet {
                    eprintln!("warning: the report could not be rebuilt: {e}");
                }
            }
        }
        self.last_build = Some(Instant::now());
        self.interval = self.every.max(started.elapsed() * 5);
    }

    /// The final build, once the run has stopped; prints where the report is.
    pub fn finish(mut self) -> anyhow::Result<()> {
        let built = build_run_report(&self.dir, &ReportOptions::default(), Some(&mut self.cache))?;
        if !self.quiet {
            print_built(&built);
        }
        self.last_build = Some(Instant::now());
        Ok(())
    }
}
