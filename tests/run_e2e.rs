//! End-to-end runs through the library: journal contents, summaries, independence from the
//! number of threads, interruption and resume, and the run directory's guards.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gmmtune::config::{Budget, RunConfig};
use gmmtune::run::{execute, RunError, RunOptions};
use gmmtune::search::driver::{Progress, Silent};
use gmmtune::search::journal::{read_records, TrialRecord, UnitRecord};
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

    let trials: Vec<TrialRecord> = read_records(&out.join("trials.jsonl")).unwrap();
    let count = |s: &str| trials.iter().filter(|r| r.strategy == s).count();
    assert_eq!(count("default"), 1);
    assert_eq!(count("grid"), 3 * 3 * 2 * 2, "full grid product");
    assert_eq!(count("random"), 12);
    assert!(count("cfo") >= 1 && count("cfo") <= 12);

    let raw = std::fs::read_to_string(out.join("trials.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    for key in [
        "dataset",
        "strategy",
        "trial",
        "config",
        "seed",
        "status",
        "error",
        "fit_seconds",
        "val_auc",
        "test_auc",
        "val_ap",
        "test_ap",
        "threshold",
        "val_cost",
        "test_cost",
        "never_alarm_val_cost",
        "never_alarm_test_cost",
        "bic",
        "train_loglik",
    ] {
        assert!(
            first.get(key).is_some(),
            "trial record lacks `{key}`: {first}"
        );
    }

    let units: Vec<UnitRecord> = read_records(&out.join("units.jsonl")).unwrap();
    assert_eq!(units.len(), 4);
    assert_eq!(report.summary.len(), 4);
    for row in &report.summary {
        let selected = row.selected.as_ref().expect("a successful trial");
        let auc = selected.metrics.as_ref().unwrap().val_auc.unwrap();
        assert!(
            auc > 0.8,
            "{}: separable anomalies, val AUC {auc}",
            row.strategy
        );
        let best = trials
            .iter()
            .filter(|r| r.strategy == row.strategy)
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
        journals.push(essence(&read_records(&out.join("trials.jsonl")).unwrap()));
    }
    assert_eq!(journals[0].len(), 3 * 3 * 2 * 2 + 10 + 12 + 12);
    assert_eq!(journals[0], journals[1]);
}

/// Sets the interrupt flag once `after` trials have finished.
struct InterruptAfter<'a> {
    after: usize,
    seen: AtomicUsize,
    flag: &'a AtomicBool,
}

impl Progress for InterruptAfter<'_> {
    fn unit_started(&self, _: &str, _: &str, _: &Budget, _: usize) {}
    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    fn unit_finished(&self, _: &UnitRecord) {}
}

/// Runs `cfg` into `dir`, interrupted once `after` trials have finished; the journal it left.
fn run_interrupted_after(
    cfg: &RunConfig,
    dir: &Path,
    jobs: usize,
    after: usize,
) -> Vec<TrialRecord> {
    let flag = AtomicBool::new(false);
    let stopper = InterruptAfter {
        after,
        seen: AtomicUsize::new(0),
        flag: &flag,
    };
    let first = execute(cfg, &options(dir, jobs), &flag, &stopper).unwrap();
    assert!(first.outcome.interrupted);
    read_records(&dir.join("trials.jsonl")).unwrap()
}

fn resume_options(dir: &Path, jobs: usize) -> RunOptions {
    RunOptions {
        resume: true,
        ..options(dir, jobs)
    }
}

/// The [`essence`] of the journal in `dir`.
fn journal_essence(dir: &Path) -> Vec<String> {
    essence(&read_records(&dir.join("trials.jsonl")).unwrap())
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
    let records: Vec<TrialRecord> = read_records(&journal).unwrap();
    let mut trials: Vec<usize> = records.iter().map(|r| r.trial).collect();
    trials.sort_unstable();
    assert_eq!(trials, (0..20).collect::<Vec<_>>());
    let signatures: std::collections::HashSet<String> =
        records.iter().map(|r| r.config.signature()).collect();
    assert_eq!(signatures.len(), 20, "no configuration runs twice");
}

#[test]
fn resuming_with_a_changed_config_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 200);
    let out = tmp.path().join("out");
    let cfg = config(&data, "  - {kind: random, budget: {trials: 3}}\n");
    execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap();
    let changed = config(&data, "  - {kind: random, budget: {trials: 4}}\n");
    let resume = resume_options(&out, 1);
    let err = execute(&changed, &resume, &AtomicBool::new(false), &Silent).unwrap_err();
    assert!(matches!(err, RunError::ConfigChanged { .. }), "{err}");
    assert!(err.to_string().contains("--force"));
    let forced = RunOptions {
        force: true,
        ..resume
    };
    execute(&changed, &forced, &AtomicBool::new(false), &Silent).unwrap();
    let trials: Vec<TrialRecord> = read_records(&out.join("trials.jsonl")).unwrap();
    assert_eq!(trials.len(), 4, "3 kept + 1 new");
}

#[test]
fn a_failed_fit_is_a_failed_trial_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), 120);
    let out = tmp.path().join("out");
    // More components than training rows cannot be fitted; the other config can.
    let cfg = config(
        &data,
        "  - {kind: fixed, configs: [{n_components: 500}, {n_components: 2}]}\n",
    );
    let report = execute(&cfg, &options(&out, 1), &AtomicBool::new(false), &Silent).unwrap();
    let trials: Vec<TrialRecord> = read_records(&out.join("trials.jsonl")).unwrap();
    assert_eq!(trials.len(), 2);
    let failed = trials
        .iter()
        .find(|r| r.config.n_components == 500)
        .unwrap();
    assert_eq!(serde_json::to_value(failed.status).unwrap(), "failed");
    assert!(failed.error.as_deref().unwrap().contains("n_components"));
    assert_eq!(report.summary[0].failed, 1);
    assert_eq!(report.summary[0].config().unwrap().n_components, 2);
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
