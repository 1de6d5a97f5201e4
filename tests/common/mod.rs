//! Helpers shared by the end-to-end tests: small generated datasets, configs and the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gmmtune::config::RunConfig;
use gmmtune::journal::{read_journal, JournalRecord, TrialRecord, UnitKey, UnitRecord};
use gmmtune::run::RunOptions;
use gmmtune::search::driver::Progress;
use gmmtune::search::Budget;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Rows of two Gaussian clusters in 3 features, every 10th row a scattered anomaly (label 1);
/// without `labelled`, no label column.
pub fn dataset_text(rows: usize, labelled: bool, seed: u64) -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut text = String::from(if labelled {
        "f0,f1,f2,label\n"
    } else {
        "f0,f1,f2\n"
    });
    for i in 0..rows {
        let anomaly = i % 10 == 0;
        let centre = if i % 2 == 0 { 0.0 } else { 4.0 };
        let spread = if anomaly { 6.0 } else { 1.0 };
        let x: Vec<String> = (0..3)
            .map(|j| {
                let z: f64 = rng.sample(StandardNormal);
                (centre + j as f64 + spread * z).to_string()
            })
            .collect();
        text.push_str(&x.join(","));
        if labelled {
            text.push_str(&format!(",{}", u8::from(anomaly)));
        }
        text.push('\n');
    }
    text
}

/// Writes [`dataset_text`] to `dir/name` and returns the path.
pub fn write_dataset(dir: &Path, name: &str, rows: usize, labelled: bool) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, dataset_text(rows, labelled, 42)).unwrap();
    path
}

/// A small search space every test run shares: 3 × 2 × 1 × 1 grid points.
pub const SMALL_SPACE: &str = "space: {n_components: [1, 2, 4], covariance_type: [diag, full], reg_covar: 1.0e-6, init: kmeans}\n";

/// A config over the file `data` named `blobs`, with `body` (strategies and more) after it.
pub fn config(data: &Path, body: &str) -> RunConfig {
    let yaml = format!(
        "name: t\nseed: 3\ndatasets:\n  - {{path: '{}', name: blobs}}\n{body}",
        data.display()
    );
    RunConfig::from_yaml_str(&yaml, "t.yaml").unwrap()
}

/// Options writing into `dir` with `jobs` threads.
pub fn options(dir: &Path, jobs: usize) -> RunOptions {
    RunOptions {
        out_dir: Some(dir.to_path_buf()),
        jobs: Some(jobs),
        ..RunOptions::default()
    }
}

/// The same with `--resume`.
pub fn resume(dir: &Path, jobs: usize) -> RunOptions {
    RunOptions {
        resume: true,
        ..options(dir, jobs)
    }
}

/// The records of a journal file (no cut-off tail allowed).
pub fn records<T: JournalRecord>(path: &Path) -> Vec<T> {
    let file = read_journal(path).unwrap();
    assert!(
        file.dropped_tail.is_none(),
        "{path:?} ends in a cut-off line"
    );
    file.records
}

/// The lines of a text file.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Writes `lines` back, one per line.
pub fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The `gmmtune` binary.
pub fn gmmtune() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gmmtune"))
}

/// Runs a command to its end.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("gmmtune runs")
}

/// Its standard error.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Its standard output.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A progress observer that raises `flag` (the run's interrupt) once `after` trials have
/// finished: an interrupted run at a chosen point.
pub struct InterruptAfter<'a> {
    after: usize,
    seen: AtomicUsize,
    flag: &'a AtomicBool,
}

impl<'a> InterruptAfter<'a> {
    /// Raises `flag` after `after` finished trials.
    pub fn new(after: usize, flag: &'a AtomicBool) -> Self {
        InterruptAfter {
            after,
            seen: AtomicUsize::new(0),
            flag,
        }
    }
}

impl Progress for InterruptAfter<'_> {
    fn unit_started(&self, _: &UnitKey, _: &Budget, _: usize) {}
    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    fn unit_finished(&self, _: &UnitRecord) {}
}
