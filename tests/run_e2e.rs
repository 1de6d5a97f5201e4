//! End-to-end runs through the library: journal contents, summaries, independence from the
//! number of threads, interruption and resume, and the run directory's guards.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::common::InterruptAfter;
use gmmtune::config::RunConfig;
use gmmtune::journal::{read_journal, JournalRecord, TrialRecord, UnitRecord};
use gmmtune::run::{execute, RunError, RunOptions};
use gmmtune::search::driver::Silent;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Two Gaussian clusters of normal rows plus scattered anomalies, as a labelled CSV.
fn write_dataset(dir: &Path, rows: usize) -> PathBuf {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let mut text = String::from("f0,f1,f2,label\n");
    for i in 0..rows {
        let anomaly = i % 10 == 0;
        let centre = if i % 2 == 0 { 0.0 } else { 4.0 };
        let spread = if anomaly { 6.0 } else { 1.0 };
        let x: Vec<f64> = (0..3)
            .map(|j| {
                let z: f64 = rng.sample(StandardNormal);
                centre + (j as f64) + spread * z
            })
            .collect();
        text.push_str(&format!(
            "{},{},{},{}\n",
            x[0],
            x[1],
            x[2],
            u8::from(anomaly)
        ));
    }
    let path = dir.join("blobs.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The records of a journal file.
fn read_records<T: JournalRecord>(path: &Path) -> Vec<T> {
    let file = read_journal(path).unwrap();
    assert!(
        file.dropped_tail.is_none(),
        "{path:?} ends in a cut-off line"
    );
    file.records
}

fn config(data: &Path, strategies: &str) -> RunConfig {
    let yaml = format!(
        "name: e2e\nseed: 3\ndatasets:\n  - {{path: '{}', name: blobs}}\n\
         cost_model: {{c_alarm: 1, c_missed: 5}}\n\
         space:\n  n_components: {{low: 1, high: 6, log: true, grid: 3}}\n  covariance_type: [spherical, diag, full]\n  reg_covar: {{low: 1.0e-6, high: 1.0e-2, log: true, grid: 2}}\n  init: [kmeans, random_from_data]\n\
         strategies:\n{strategies}",
        data.display()
    );
    RunConfig::from_yaml_str(&yaml, "e2e.yaml").unwrap()
}

const ALL_STRATEGIES: &str = "  - {kind: fixed, name: default, configs: [{n_components: 1}]}\n  - {kind: grid}\n  - {kind: random, budget: {trials: 12}}\n  - {kind: cfo, budget: {trials: 12}}\n";

fn options(dir: &Path, jobs: usize) -> RunOptions {
    RunOptions {
        out_dir: Some(dir.to_path_buf()),
        jobs: Some(jobs),
        ..RunOptions::default()
    }
}

/// The parts of a record that must not depend on timing or threads.
fn essence(records: &[TrialRecord]) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap();
            let obj = v.as_object_mut().unwrap();
            obj.remove("fit_seconds");
            obj.remove("elapsed_s");
            obj.remove("reused");
            v.to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_run_journals_every_trial_and_summarises_each_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 300);
    let out = tmp.path().join("out");
    let cfg = config(&data, ALL_STRATEGIES);
    let report = execute(&cfg, &options(&out, 2), &AtomicBool::new(false), &Silent).unwrap();
    assert!(!report.outcome.interrupted);

    let trials: Vec<TrialRecord> = read_records(&out.join("trials.jsonl"));
    let count = |s: &str| trials.iter().filter(|r| r.unit.strategy == s).count();
    assert_eq!(count("default"), 1);
    assert_eq!(count("grid"), 3 * 3 * 2 * 2, "full grid product");
    assert_eq!(count("random"), 12);
    assert!(count("cfo") >= 1 && count("cfo") <= 12);

    let raw = std::fs::read_to_string(out.join("trials.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    // Each record says what it is and what it was measured under.
    for pointer in [
        "/format",
        "/unit/dataset",
        "/unit/strategy",
        "/unit/seed",
        "/trial",
        "/config/n_components",
        "/fit_seed",
        "/status",
        "/error",
        "/fit_seconds",
        "/reused",
        "/metrics/val_auc",
        "/metrics/test_auc",
        "/metrics/val_ap",
        "/metrics/test_ap",
        "/metrics/threshold",
        "/metrics/val_cost",
        "/metrics/test_cost",
        "/metrics/never_alarm_val_cost",
        "/metrics/never_alarm_test_cost",
        "/metrics/bic",
        "/metrics/train_loglik",
        "/context/run",
        "/context/version",
        "/context/data/sha256",
        "/context/protocol/split",
        "/context/protocol/split_seed",
        "/context/protocol/cost_model",
        "/context/protocol/fit",
    ] {
        assert!(
            first.pointer(pointer).is_some(),
            "trial record lacks `{pointer}`: {first}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(first["context"]["run"], manifest["fingerprint"]);
    assert_eq!(
        first["context"]["data"]["sha256"],
        manifest["datasets"][0]["sha256"]
    );

    let units: Vec<UnitRecord> = read_records(&out.join("units.jsonl"));
    assert_eq!(units.len(), 4);
    assert_eq!(report.summary.len(), 4);
    for row in &report.summary {
        let selected = row.selected.as_ref().expect("a successful trial");
        let auc = selected.metrics.as_ref().unwrap().val_auc.unwrap();
        assert!(
            auc > 0.8,
            "{}: separable anomalies, val AUC {auc}",
            row.unit.strategy
        );
        let best = trials
            .iter()
            .filter(|r| r.unit.strategy == row.unit.strategy)
            .filter_map(|r| r.objective_value)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(
            selected.objective_value,
            Some(best),
            "selected = best val_auc"
        );
    }
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "header + one row per unit");
    assert!(out.join("summary.json").exists() && out.join("run.json").exists());
}

#[test]
fn grid_random_and_cfo_results_do_not_depend_on_the_number_of_threads() {
    // CFO keeps two trials in flight by default and tells them in the order asked (the next
    // one asked right after each tell), so its path is the same with one thread or two.
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 240);
    let strategies = "  - {kind: grid}\n  - {kind: random, budget: {trials: 10}}\n  - {kind: cfo, budget: {trials: 12}}\n  - {kind: cfo, name: cfo3, concurrent_trials: 3, budget: {trials: 12}}\n";
    let cfg = config(&data, strategies);
    let mut journals = Vec::new();
    for jobs in [1, 2] {
        let out = tmp.path().join(format!("jobs{jobs}"));
        execute(&cfg, &options(&out, jobs), &AtomicBool::new(false), &Silent).unwrap();
        journals.push(essence(&read_records(&out.join("trials.jsonl"))));
    }
    assert_eq!(journals[0].len(), 3 * 3 * 2 * 2 + 10 + 12 + 12);
    assert_eq!(journals[0], journals[1]);
}

/// Sets the interrupt flag once `after` trials have finished.
/// Runs `cfg` into `dir`, interrupted once `after` trials have finished; the journal it left.
fn run_interrupted_after(
    cfg: &RunConfig,
    dir: &Path,
    jobs: usize,
    after: usize,
) -> Vec<TrialRecord> {
    let flag = AtomicBool::new(false);
    let stopper = InterruptAfter::new(after, &flag);
    let first = execute(cfg, &options(dir, jobs), &flag, &stopper).unwrap();
    assert!(first.outcome.interrupted);
    read_records(&dir.join("trials.jsonl"))
}

fn resume_options(dir: &Path, jobs: usize) -> RunOptions {
    RunOptions {
        resume: true,
        ..options(dir, jobs)
    }
}

/// The [`essence`] of the journal in `dir`.
fn journal_essence(dir: &Path) -> Vec<String> {
    essence(&read_records(&dir.join("trials.jsonl")))
}

#[test]
fn an_interrupted_run_resumes_to_the_same_trials_as_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 240);
    let cfg = config(&data, ALL_STRATEGIES);

    let whole = tmp.path().join("whole");
    execute(&cfg, &options(&whole, 2), &AtomicBool::new(false), &Silent).unwrap();
    let expected = journal_essence(&whole);

    let cut = tmp.path().join("cut");
    let partial = run_interrupted_after(&cfg, &cut, 2, 7);
    assert!(partial.len() >= 7 && partial.len() < expected.len());

    // Without --resume the directory is protected.
    let refused = execute(&cfg, &options(&cut, 2), &AtomicBool::new(false), &Silent);
    assert!(
        matches!(refused, Err(RunError::ResultsExist { .. })),
        "{refused:?}"
    );

    let resume = resume_options(&cut, 1);
    let second = execute(&cfg, &resume, &AtomicBool::new(false), &Silent).unwrap();
    assert!(!second.outcome.interrupted);
    assert_eq!(journal_essence(&cut), expected);

    // Resuming a finished run runs nothing more.
    execute(&cfg, &resume, &AtomicBool::new(false), &Silent).unwrap();
    assert_eq!(journal_essence(&cut), expected);
}

const CFO_ONLY: &str = "  - {kind: cfo, budget: {trials: 30}}\n  - {kind: cfo, name: cfo3, concurrent_trials: 3, budget: {trials: 30}}\n";

#[test]
fn an_interrupted_cfo_search_resumes_on_its_uninterrupted_path() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 240);
    let cfg = config(&data, CFO_ONLY);
    let whole = tmp.path().join("whole");
    execute(&cfg, &options(&whole, 2), &AtomicBool::new(false), &Silent).unwrap();
    let expected = journal_essence(&whole);
    assert_eq!(expected.len(), 60);
    for (after, jobs) in [(5, 2), (18, 1), (41, 2)] {
        let cut = tmp.path().join(format!("cut{after}"));
        let kept = run_interrupted_after(&cfg, &cut, jobs, after).len();
        assert!((after..60).contains(&kept), "{kept} trials kept");
        let resume = resume_options(&cut, 3 - jobs);
        execute(&cfg, &resume, &AtomicBool::new(false), &Silent).unwrap();
        assert_eq!(journal_essence(&cut), expected, "interrupted after {after}");
    }
}

#[test]
fn a_trial_cut_off_behind_a_finished_one_runs_again_and_nothing_twice() {
    // Ctrl-C can leave the journal with trial 9 missing while trial 10, which finished first
    // and was waiting for it, is there: the resume runs 9 again and keeps 10.
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 240);
    let cfg = config(&data, "  - {kind: cfo, budget: {trials: 20}}\n");
    let dir = tmp.path().join("run");
    execute(&cfg, &options(&dir, 2), &AtomicBool::new(false), &Silent).unwrap();
    let journal = dir.join("trials.jsonl");
    let kept: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter(|line| {
            let trial = serde_json::from_str::<serde_json::Value>(line).unwrap()["trial"]
                .as_u64()
                .unwrap();
            trial <= 10 && trial != 9
        })
        .map(str::to_owned)
        .collect();
    std::fs::write(&journal, kept.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("units.jsonl"), "").unwrap();
    execute(
        &cfg,
        &resume_options(&dir, 2),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap();
    let records: Vec<TrialRecord> = read_records(&journal);
    let mut trials: Vec<usize> = records.iter().map(|r| r.trial).collect();
    trials.sort_unstable();
    assert_eq!(trials, (0..20).collect::<Vec<_>>());
    let signatures: std::collections::HashSet<String> =
        records.iter().map(|r| r.config.signature()).collect();
    assert_eq!(signatures.len(), 20, "no configuration runs twice");
}

#[test]
fn resuming_with_a_changed_config_is_refused_unless_forced_into_a_new_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 200);
    let out = tmp.path().join("out");
    let cfg = config(&data, "  - {kind: random, budget: {trials: 3}}\n");
    execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap();
    let first: Vec<TrialRecord> = read_records(&out.join("trials.jsonl"));
    let changed = config(&data, "  - {kind: random, budget: {trials: 4}}\n");
    let resume = resume_options(&out, 1);
    let err = execute(&changed, &resume, &AtomicBool::new(false), &Silent).unwrap_err();
    assert!(matches!(err, RunError::ConfigChanged { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("--force") && msg.contains("strategies[0].budget.trials"),
        "{msg}"
    );
    let forced = RunOptions {
        force: true,
        ..resume
    };
    execute(&changed, &forced, &AtomicBool::new(false), &Silent).unwrap();
    // The old generation is kept whole; the new journal holds only the new run's records,
    // the first three reused (same data, protocol, seed and configuration), one fitted.
    let old: Vec<TrialRecord> = read_records(&out.join("generations/1/trials.jsonl"));
    assert_eq!(old, first);
    assert!(out.join("generations/1/run.json").exists());
    let trials: Vec<TrialRecord> = read_records(&out.join("trials.jsonl"));
    assert_eq!(trials.len(), 4);
    assert_eq!(trials.iter().filter(|r| r.reused).count(), 3);
    let run = &trials[0].context.run;
    assert!(trials.iter().all(|r| &r.context.run == run));
    assert_ne!(run, &first[0].context.run);
    for (old, new) in first.iter().zip(&trials) {
        assert_eq!(old.metrics, new.metrics);
        assert_eq!(old.config, new.config);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["generation"], 2);
}

#[test]
fn a_journal_without_its_manifest_is_not_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 200);
    let out = tmp.path().join("out");
    let cfg = config(&data, "  - {kind: random, budget: {trials: 3}}\n");
    execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap();
    std::fs::remove_file(out.join("run.json")).unwrap();
    let err = execute(
        &cfg,
        &resume_options(&out, 1),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap_err();
    assert!(matches!(err, RunError::NoManifest { .. }), "{err}");
}

#[test]
fn changed_data_is_named_when_a_resume_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 200);
    let out = tmp.path().join("out");
    let cfg = config(&data, "  - {kind: random, budget: {trials: 3}}\n");
    execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap();
    let text = std::fs::read_to_string(&data).unwrap();
    std::fs::write(&data, text.replacen("label\n", "label\n0.5,0.5,0.5,0\n", 1)).unwrap();
    let err = execute(
        &cfg,
        &resume_options(&out, 1),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("dataset `blobs`: the data changed"), "{err}");
}

#[test]
fn a_failed_fit_is_a_failed_trial_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    // A constant feature makes a full covariance without regularisation singular.
    let mut text = String::from("f0,f1,label\n");
    for i in 0..120 {
        text.push_str(&format!(
            "{},{},{}\n",
            (i * 7 % 13) as f64,
            1.0,
            u8::from(i % 10 == 0)
        ));
    }
    let data = tmp.path().join("flat.csv");
    std::fs::write(&data, text).unwrap();
    let out = tmp.path().join("out");
    let cfg = config(
        &data,
        "  - {kind: fixed, configs: [{n_components: 2, reg_covar: 0.0}, {n_components: 2}]}\n",
    );
    let report = execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap();
    let trials: Vec<TrialRecord> = read_records(&out.join("trials.jsonl"));
    assert_eq!(trials.len(), 2);
    let failed = trials.iter().find(|r| r.config.reg_covar == 0.0).unwrap();
    assert_eq!(serde_json::to_value(failed.status).unwrap(), "failed");
    assert!(failed.error.is_some() && failed.metrics.is_none());
    assert_eq!(report.summary[0].failed, 1);
    assert_eq!(report.summary[0].config().unwrap().reg_covar, 1e-6);
}

#[test]
fn more_components_than_fit_rows_are_refused_before_any_trial() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 120);
    let out = tmp.path().join("out");
    let cfg = config(
        &data,
        "  - {kind: fixed, configs: [{n_components: 2}, {n_components: 500}]}\n",
    );
    let err = execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("strategies[0].configs[1].n_components") && msg.contains("fit rows"),
        "{msg}"
    );
    assert!(!out.join("trials.jsonl").exists());
}

#[test]
fn an_unknown_dataset_name_lists_the_registry() {
    let yaml = "name: t\nregistry: datasets/registry.yaml\ndatasets: [no_such_set]\nstrategies: [{kind: grid}]\n";
    let cfg = RunConfig::from_yaml_str(yaml, "t.yaml").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let err = execute(
        &cfg,
        &options(tmp.path(), 1),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no_such_set") && err.contains("wbc"), "{err}");
}
