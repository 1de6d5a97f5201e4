//! CFO's cost gate end to end: on data where it holds proposals back, the path does not depend
//! on the number of threads, an interrupted search resumes on its uninterrupted path, and the
//! gate makes the search cheaper than FLAML's CFO (`cost_frugal: false`) over the same trials.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::common::InterruptAfter;
use gmmtune::config::RunConfig;
use gmmtune::journal::{read_journal, TrialRecord};
use gmmtune::run::{execute, RunOptions};
use gmmtune::search::driver::Silent;
use gmmtune::search::{trial_work, WorkShape};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const FEATURES: usize = 6;

/// Three clusters of normal rows in 6 dimensions plus scattered anomalies, as a labelled CSV.
fn write_dataset(dir: &Path, rows: usize) -> PathBuf {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let header: Vec<String> = (0..FEATURES).map(|j| format!("f{j}")).collect();
    let mut text = format!("{},label\n", header.join(","));
    for i in 0..rows {
        let anomaly = i % 12 == 0;
        let centre = (i % 3) as f64 * 3.0;
        let spread = if anomaly { 5.0 } else { 1.0 };
        let x: Vec<String> = (0..FEATURES)
            .map(|j| {
                let z: f64 = rng.sample(StandardNormal);
                (centre + j as f64 * 0.5 + spread * z).to_string()
            })
            .collect();
        text.push_str(&format!("{},{}\n", x.join(","), u8::from(anomaly)));
    }
    let path = dir.join("clusters.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// A CFO unit of `trials` trials over the full space; `gate` is the `cost_frugal` value.
fn config(data: &Path, gate: &str, trials: usize) -> RunConfig {
    let yaml = format!(
        "name: gate\nseed: 5\ndatasets:\n  - {{path: '{}', name: clusters}}\n\
         space:\n  n_components: {{low: 1, high: 16, log: true}}\n  covariance_type: [spherical, diag, tied, full]\n  reg_covar: {{low: 1.0e-6, high: 1.0e-1, log: true}}\n  init: [kmeans, k-means++, random, random_from_data]\n\
         strategies:\n  - {{kind: cfo, budget: {{trials: {trials}}}, cost_frugal: {gate}}}\n",
        data.display()
    );
    RunConfig::from_yaml_str(&yaml, "gate.yaml").unwrap()
}

/// The gate on, with no free work and no row threshold, so that it acts on a small test set.
const GATE: &str = "{free_work: 0, min_rows: 0}";

fn options(dir: &Path, jobs: usize, resume: bool) -> RunOptions {
    RunOptions {
        out_dir: Some(dir.to_path_buf()),
        jobs: Some(jobs),
        resume,
        ..RunOptions::default()
    }
}

fn records(dir: &Path) -> Vec<TrialRecord> {
    let file = read_journal(&dir.join("trials.jsonl")).unwrap();
    assert!(file.dropped_tail.is_none());
    file.records
}

/// The trials of a journal without their timings, in trial order.
fn path_of(dir: &Path) -> Vec<String> {
    let mut records = records(dir);
    records.sort_by_key(|r| r.trial);
    records
        .iter()
        .map(|r| {
            let m = r.metrics.as_ref();
            format!(
                "{} {} {:?} {:?}",
                r.trial,
                r.config,
                m.map(|m| m.n_iter),
                r.objective_value
            )
        })
        .collect()
}

/// Sets the interrupt flag once `after` trials have finished.
#[test]
fn a_gated_search_keeps_its_path_across_threads_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 600);
    let cfg = config(&data, GATE, 40);
    let mut paths = Vec::new();
    for jobs in [1, 2] {
        let out = tmp.path().join(format!("jobs{jobs}"));
        execute(
            &cfg,
            &options(&out, jobs, false),
            &AtomicBool::new(false),
            &Silent,
        )
        .unwrap();
        paths.push(path_of(&out));
    }
    assert_eq!(paths[0].len(), 40);
    assert_eq!(paths[0], paths[1]);
    for (after, jobs) in [(6, 2), (23, 1)] {
        let cut = tmp.path().join(format!("cut{after}"));
        let flag = AtomicBool::new(false);
        let stopper = InterruptAfter::new(after, &flag);
        let first = execute(&cfg, &options(&cut, jobs, false), &flag, &stopper).unwrap();
        assert!(first.outcome.interrupted);
        assert!(records(&cut).len() < 40);
        execute(
            &cfg,
            &options(&cut, 3 - jobs, true),
            &AtomicBool::new(false),
            &Silent,
        )
        .unwrap();
        assert_eq!(path_of(&cut), paths[0], "interrupted after {after}");
    }
}

#[test]
fn the_gate_spends_less_than_flamls_cfo_over_the_same_trials() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = 600;
    let data = write_dataset(tmp.path(), rows);
    let mut work = Vec::new();
    let mut paths = Vec::new();
    for gate in [GATE, "false"] {
        let out = tmp
            .path()
            .join(if gate == "false" { "flaml" } else { "gated" });
        execute(
            &config(&data, gate, 40),
            &options(&out, 2, false),
            &AtomicBool::new(false),
            &Silent,
        )
        .unwrap();
        let records = records(&out);
        assert_eq!(records.len(), 40);
        // The same shape for both: the modelled work of the trials each search chose.
        let fit_rows = rows * 6 / 10 * 11 / 12;
        let shape = WorkShape::new(fit_rows, rows, FEATURES, 100);
        work.push(
            records
                .iter()
                .map(|r| {
                    let n_iter = r.metrics.as_ref().map_or(1, |m| m.n_iter);
                    trial_work(&shape, &r.config, n_iter)
                })
                .sum::<f64>(),
        );
        paths.push(path_of(&out));
    }
    assert_ne!(paths[0], paths[1], "the gate changed nothing");
    assert!(
        work[0] < 0.7 * work[1],
        "gated work {} vs FLAML's path {}",
        work[0],
        work[1]
    );
}

#[test]
fn by_default_the_gate_leaves_small_data_on_flamls_path() {
    // 600 rows are far below the default `min_rows`: `cost_frugal: true` (the default) runs
    // exactly the trials of `cost_frugal: false`.
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 600);
    let mut paths = Vec::new();
    for gate in ["true", "false"] {
        let out = tmp.path().join(gate);
        execute(
            &config(&data, gate, 40),
            &options(&out, 2, false),
            &AtomicBool::new(false),
            &Silent,
        )
        .unwrap();
        paths.push(path_of(&out));
    }
    assert_eq!(paths[0].len(), 40);
    assert_eq!(paths[0], paths[1]);
}
