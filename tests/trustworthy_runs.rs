//! What makes a run trustworthy, end to end through the library: figures that survive the
//! journal, journals that refuse to mix, objectives and protocols that hold through whole
//! runs, time budgets, unlabelled data, the shipped configs, and `cv_loglik` against
//! scikit-learn's `KFold`.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Instant;

use crate::common::{self, config, options, records, resume, write_dataset, SMALL_SPACE};
use gmmtune::config::RunConfig;
use gmmtune::data::SplitMethod;
use gmmtune::eval::{linspace, Objective};
use gmmtune::gmm::{CovarianceType, InitMethod};
use gmmtune::gmm_config::{FitSettings, GmmConfig};
use gmmtune::journal::{
    check_comparable, read_journal, JournalError, JournalWriter, RunJournal, TrialRecord, UnitKey,
    UnitRecord,
};
use gmmtune::plan::Plan;
use gmmtune::run::{execute, export_selected, write_summary, RunError};
use gmmtune::search::driver::{Progress, Silent};
use gmmtune::search::trial::{cv_loglik, fit_config};
use gmmtune::search::Budget;
use ndarray::{Array2, Axis};
use serde_json::Value;

fn no_interrupt() -> AtomicBool {
    AtomicBool::new(false)
}

/// Runs `body` on a 240-row labelled set into `dir` (one thread).
fn run_small(dir: &Path, body: &str) -> RunConfig {
    let data = write_dataset(dir, "blobs.csv", 240, true);
    let cfg = config(&data, body);
    execute(
        &cfg,
        &options(&dir.join("out"), 1),
        &no_interrupt(),
        &Silent,
    )
    .unwrap();
    cfg
}

const GRID: &str = "strategies: [{kind: grid}]\n";

// ------------------------------------------------------------------ item 3: figures survive

#[test]
fn non_finite_figures_survive_a_journal_file_and_the_summary_keeps_every_cost() {
    let tmp = tempfile::tempdir().unwrap();
    run_small(tmp.path(), &format!("{SMALL_SPACE}{GRID}"));
    let out = tmp.path().join("out");
    let journal = out.join("trials.jsonl");
    let mut trials: Vec<TrialRecord> = records(&journal);
    let (rows, _) = write_summary(&out).unwrap();
    let chosen = rows[0].selected.as_ref().unwrap().trial;
    let at = trials.iter().position(|r| r.trial == chosen).unwrap();
    // A NaN threshold, an infinite BIC, an infinite cost: JSON has none of them.
    let metrics = trials[at].metrics.as_mut().unwrap();
    let test_cost = metrics.test_cost;
    metrics.threshold = Some(f64::NAN);
    metrics.bic = f64::INFINITY;
    metrics.val_cost = Some(f64::NEG_INFINITY);
    metrics.cv_loglik = Some(f64::NAN);
    std::fs::remove_file(&journal).unwrap();
    let (writer, dropped) = JournalWriter::open(&journal).unwrap();
    assert!(dropped.is_none());
    for r in &trials {
        writer.append(r).unwrap();
    }
    drop(writer);
    let back: Vec<TrialRecord> = records(&journal);
    assert_eq!(back.len(), trials.len());
    for (a, b) in trials.iter().zip(&back) {
        // Every field, non-finite ones included (NaN != NaN, so compare the JSON).
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap()
        );
    }
    let m = back[at].metrics.as_ref().unwrap();
    assert!(m.threshold.unwrap().is_nan() && m.cv_loglik.unwrap().is_nan());
    assert_eq!(m.bic, f64::INFINITY);
    assert_eq!(m.val_cost, Some(f64::NEG_INFINITY));
    assert_eq!(m.test_cost, test_cost);
    assert!(m.val_auc.is_some() && m.test_ap.is_some());
    let line = std::fs::read_to_string(&journal).unwrap();
    assert!(line.contains(r#""threshold":"NaN""#) && line.contains(r#""bic":"inf""#));

    // The summary of that journal still has every figure of the selected record.
    let (rows, warnings) = write_summary(&out).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let selected = rows[0].selected.as_ref().unwrap();
    assert_eq!(selected.trial, chosen);
    assert_eq!(
        selected.metrics.as_ref().unwrap().test_cost,
        test_cost,
        "the cost is kept, not zeroed"
    );
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let column = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(column("threshold"), "NaN");
    assert_eq!(column("bic"), "inf");
    assert_eq!(column("test_cost"), test_cost.unwrap().to_string());
}

#[test]
fn a_damaged_line_in_the_middle_is_an_error_naming_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = run_small(tmp.path(), &format!("{SMALL_SPACE}{GRID}"));
    let out = tmp.path().join("out");
    let journal = out.join("trials.jsonl");
    let mut lines = common::lines(&journal);
    // A record whose metrics lost a field: the old reader dropped all its metrics.
    lines[2] = lines[2].replacen(r#""bic":"#, r#""bic_":"#, 1);
    common::write_lines(&journal, &lines);
    let err = RunJournal::load(&out).unwrap_err();
    assert!(
        matches!(err, JournalError::Corrupt { line: 3, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("trials.jsonl, line 3") && msg.contains("bic_"),
        "{msg}"
    );
    // Neither the summary nor a resume reads past it.
    assert!(write_summary(&out)
        .unwrap_err()
        .to_string()
        .contains("line 3"));
    let err = execute(&cfg, &resume(&out, 1), &no_interrupt(), &Silent).unwrap_err();
    assert!(err.to_string().contains("trials.jsonl, line 3"), "{err}");
}

// ------------------------------------------------------------ item 4: journals that refuse

/// The run's trial lines as JSON values, edited by `edit`, written back.
fn edit_journal(out: &Path, edit: impl FnOnce(&mut Vec<Value>)) {
    let path = out.join("trials.jsonl");
    let mut values: Vec<Value> = common::lines(&path)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    edit(&mut values);
    let lines: Vec<String> = values.iter().map(Value::to_string).collect();
    common::write_lines(&path, &lines);
}

#[test]
fn merging_journals_keeps_identical_copies_once_and_refuses_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    run_small(
        tmp.path(),
        &format!(
            "{SMALL_SPACE}strategies: [{{kind: grid}}, {{kind: random, budget: {{trials: 3}}}}]\n"
        ),
    );
    let out = tmp.path().join("out");
    let clean = RunJournal::load(&out).unwrap();
    let original = std::fs::read_to_string(out.join("trials.jsonl")).unwrap();
    let restore = || std::fs::write(out.join("trials.jsonl"), &original).unwrap();

    // The same record twice (a shard merged twice): kept once, with a warning.
    edit_journal(&out, |v| {
        let first = v[0].clone();
        v.push(first);
    });
    let merged = RunJournal::load(&out).unwrap();
    assert_eq!(merged.trials, clean.trials);
    assert_eq!(merged.warnings.len(), 1);
    assert!(
        merged.warnings[0].contains("kept once") && merged.warnings[0].contains("trials.jsonl:"),
        "{:?}",
        merged.warnings
    );
    let (rows, warnings) = write_summary(&out).unwrap();
    assert_eq!(warnings, merged.warnings);
    assert_eq!(rows[0].trials, 6, "the duplicate is not counted twice");
    restore();

    // Two different records of one trial.
    edit_journal(&out, |v| {
        // Trial 0's record first, wherever the parallel grid wrote it.
        let i = v.iter().position(|r| r["trial"] == 0).unwrap();
        v.swap(0, i);
        let mut other = v[0].clone();
        other["metrics"]["val_auc"] = 0.123.into();
        v.push(other);
    });
    let msg = RunJournal::load(&out).unwrap_err().to_string();
    assert!(
        msg.contains("two different records of trial 0") && msg.contains("trials.jsonl:1"),
        "{msg}"
    );
    restore();

    // Two objectives within one unit.
    edit_journal(&out, |v| v[1]["objective"] = "bic".into());
    let msg = RunJournal::load(&out).unwrap_err().to_string();
    assert!(msg.contains("objectives differ (val_auc and bic)"), "{msg}");
    restore();

    // Other data within one unit.
    edit_journal(&out, |v| v[1]["context"]["data"]["sha256"] = "00".into());
    let msg = RunJournal::load(&out).unwrap_err().to_string();
    assert!(msg.contains("the data differ"), "{msg}");
    restore();

    // A shard written by another run.
    let shard = out.join("shards").join("b");
    std::fs::create_dir_all(&shard).unwrap();
    let mut foreign: Value = serde_json::from_str(original.lines().nth(6).unwrap()).unwrap();
    foreign["context"]["run"] = "0123456789abcdef".into();
    std::fs::write(shard.join("trials.jsonl"), format!("{foreign}\n")).unwrap();
    let msg = RunJournal::load(&out).unwrap_err().to_string();
    assert!(
        msg.contains("run fingerprints differ") && msg.contains("shards/b/trials.jsonl:1"),
        "{msg}"
    );
    assert!(write_summary(&out).is_err());
}

#[test]
fn a_resume_is_refused_when_the_gmmtune_version_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = run_small(tmp.path(), &format!("{SMALL_SPACE}{GRID}"));
    let out = tmp.path().join("out");
    let path = out.join("run.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["version"] = "0.0.1".into();
    manifest["fingerprint"] = "00000000deadbeef".into();
    std::fs::write(&path, manifest.to_string()).unwrap();
    let err = execute(&cfg, &resume(&out, 1), &no_interrupt(), &Silent).unwrap_err();
    assert!(matches!(err, RunError::ConfigChanged { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("gmmtune version: 0.0.1 wrote the run"),
        "{err}"
    );
}

#[test]
fn force_on_a_journal_without_its_manifest_keeps_it_as_a_generation_and_mixes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = run_small(tmp.path(), &format!("{SMALL_SPACE}{GRID}"));
    let out = tmp.path().join("out");
    let old: Vec<TrialRecord> = records(&out.join("trials.jsonl"));
    std::fs::remove_file(out.join("run.json")).unwrap();
    let forced = gmmtune::run::RunOptions {
        force: true,
        ..resume(&out, 1)
    };
    execute(&cfg, &forced, &no_interrupt(), &Silent).unwrap();
    let kept: Vec<TrialRecord> = records(&out.join("generations/1/trials.jsonl"));
    assert_eq!(kept, old);
    let new: Vec<TrialRecord> = records(&out.join("trials.jsonl"));
    assert_eq!(new.len(), old.len());
    // Generation 2 is a run of its own: its fingerprint on every record, its results taken
    // over from identical trials of generation 1.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["generation"], 2);
    assert!(new.iter().all(|r| r.context.run == manifest["fingerprint"]));
    assert!(new.iter().all(|r| r.reused));
    for (a, b) in old.iter().zip(&new) {
        assert_eq!((&a.config, &a.metrics), (&b.config, &b.metrics));
    }
}

// ---------------------------------------------- item 13: records comparable across runs

#[test]
fn records_of_different_runs_are_comparable_only_under_the_same_data_and_protocol() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), "blobs.csv", 240, true);
    let run = |name: &str, head: &str| -> Vec<TrialRecord> {
        let dir = tmp.path().join(name);
        let yaml = format!(
            "name: t\n{head}\ndatasets: [{{path: '{}', name: blobs}}]\n{SMALL_SPACE}{GRID}",
            data.display()
        );
        let cfg = RunConfig::from_yaml_str(&yaml, "t.yaml").unwrap();
        execute(&cfg, &options(&dir, 1), &no_interrupt(), &Silent).unwrap();
        records(&dir.join("trials.jsonl"))
    };
    let a = run("a", "seed: 3");
    let b = run("b", "seed: 5");
    let train_all = run("c", "seed: 3\nprotocol: {train_on: all}");
    assert_ne!(a[0].context.run, b[0].context.run);
    // Another seed is another split seed of the same protocol.
    assert_ne!(
        a[0].context.protocol.split_seed,
        b[0].context.protocol.split_seed
    );
    check_comparable(a.iter().chain(&b)).unwrap();
    let msg = check_comparable(a.iter().chain(&train_all))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("different protocols"), "{msg}");
    std::fs::write(&data, common::dataset_text(240, true, 7)).unwrap();
    let other_data = run("d", "seed: 3");
    let msg = check_comparable(a.iter().chain(&other_data))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("different data") && msg.contains(&a[0].context.data.sha256),
        "{msg}"
    );
}

// ------------------------------------------------- objectives and protocols through a run

#[test]
fn val_cost_bic_and_cv_loglik_select_their_best_trial_through_a_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let body = format!(
        "cost_model: {{c_alarm: 1, c_missed: 5}}\n{SMALL_SPACE}strategies:\n  - {{kind: grid, name: by_cost, objective: val_cost}}\n  - {{kind: grid, name: by_bic, objective: bic}}\n  - {{kind: grid, name: by_cv, objective: cv_loglik}}\n"
    );
    run_small(tmp.path(), &body);
    let out = tmp.path().join("out");
    let trials: Vec<TrialRecord> = records(&out.join("trials.jsonl"));
    let (rows, _) = write_summary(&out).unwrap();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        let unit: Vec<&TrialRecord> = trials.iter().filter(|r| r.unit == row.unit).collect();
        assert_eq!(unit.len(), 6);
        let value = |r: &TrialRecord| {
            let m = r.metrics.as_ref().unwrap();
            match row.objective {
                Objective::ValCost => m.val_cost.unwrap(),
                Objective::Bic => m.bic,
                Objective::CvLoglik => m.cv_loglik.unwrap(),
                Objective::ValAuc => unreachable!(),
            }
        };
        for r in &unit {
            assert_eq!(r.objective, row.objective);
            assert_eq!(r.objective_value, Some(value(r)));
        }
        // The best by the objective (lowest cost or BIC, highest cv_loglik), earliest on ties.
        let sign = if row.objective == Objective::CvLoglik {
            -1.0
        } else {
            1.0
        };
        let best = unit
            .iter()
            .min_by(|a, b| {
                (sign * value(a))
                    .total_cmp(&(sign * value(b)))
                    .then(a.trial.cmp(&b.trial))
            })
            .unwrap();
        assert_eq!(
            row.selected.as_ref().unwrap().trial,
            best.trial,
            "{}",
            row.unit
        );
    }
    // Identical configurations are measured once and reused by the other strategies.
    assert_eq!(trials.iter().filter(|r| !r.reused).count(), 6);
    let objectives: Vec<&str> = rows.iter().map(|r| r.objective.as_str()).collect();
    assert_eq!(objectives, ["val_cost", "bic", "cv_loglik"]);
}

#[test]
fn linspace_thresholds_and_an_ordered_split_hold_inside_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let body = format!(
        "protocol: {{split: {{method: ordered, train_end: 150, validation_end: 200}}}}\n\
         cost_model: {{c_alarm: 1, c_missed: 5, tolerance: 2}}\n\
         threshold: {{method: linspace, low: 0.0, high: 20.0, n: 81}}\n{SMALL_SPACE}{GRID}"
    );
    run_small(tmp.path(), &body);
    let out = tmp.path().join("out");
    let trials: Vec<TrialRecord> = records(&out.join("trials.jsonl"));
    let grid = linspace(0.0, 20.0, 81);
    for r in &trials {
        let threshold = r.metrics.as_ref().unwrap().threshold.unwrap();
        assert!(grid.contains(&threshold), "{threshold} is not a grid point");
        assert_eq!(
            r.context.protocol.split,
            SplitMethod::Ordered {
                train_end: 150,
                validation_end: 200
            }
        );
        assert_eq!(r.context.protocol.cost_model.tolerance, 2);
    }
    // Rebuild the selected model: the parts are the row ranges, and the journaled threshold is
    // the grid point of least validation cost (the highest among equals).
    let exported = export_selected(&out, "blobs", "grid", None).unwrap();
    let p = &exported.prepared;
    assert_eq!(p.train.rows, (0..150).collect::<Vec<_>>());
    assert_eq!(p.validation.rows, (150..200).collect::<Vec<_>>());
    assert_eq!(p.test.rows, (200..240).collect::<Vec<_>>());
    let scores: Vec<f64> = exported
        .model
        .model
        .score_samples(p.validation.x.view())
        .unwrap()
        .iter()
        .map(|ll| -ll)
        .collect();
    let cost_model = exported.record.context.protocol.cost_model;
    let costs: Vec<f64> = grid
        .iter()
        .map(|&t| cost_model.cost(&scores, &p.validation.labels, t))
        .collect();
    let least = costs.iter().copied().fold(f64::INFINITY, f64::min);
    let chosen = grid[costs.iter().rposition(|&c| c == least).unwrap()];
    let m = exported.record.metrics.as_ref().unwrap();
    assert_eq!(m.val_cost, Some(least));
    assert_eq!(m.threshold, Some(chosen));
}

// ---------------------------------------------------------------- item 11: unlabelled data

#[test]
fn unlabelled_data_select_by_bic_and_cv_loglik_and_report_no_label_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), "plain.csv", 240, false);
    let body = format!(
        "objective: bic\n{SMALL_SPACE}strategies:\n  - {{kind: grid, name: by_bic}}\n  - {{kind: random, name: by_cv, objective: cv_loglik, budget: {{trials: 4}}}}\n"
    );
    let cfg = config(&data, &body);
    let out = tmp.path().join("out");
    let report = execute(&cfg, &options(&out, 2), &no_interrupt(), &Silent).unwrap();
    assert_eq!(report.summary.len(), 2);
    for row in &report.summary {
        let selected = row.selected.as_ref().expect("a configuration is selected");
        let m = selected.metrics.as_ref().unwrap();
        assert!(m.bic.is_finite() && m.train_loglik.is_finite());
        assert!(m.cv_loglik.is_some_and(f64::is_finite));
        for (name, figure) in [
            ("val_auc", m.val_auc),
            ("test_auc", m.test_auc),
            ("val_ap", m.val_ap),
            ("test_ap", m.test_ap),
            ("threshold", m.threshold),
            ("val_cost", m.val_cost),
            ("test_cost", m.test_cost),
            ("never_alarm_test_cost", m.never_alarm_test_cost),
        ] {
            assert_eq!(figure, None, "{name} is not available without labels");
        }
        assert!(m.warnings.iter().any(|w| w.contains("no labels")));
    }
    let raw = std::fs::read_to_string(out.join("trials.jsonl")).unwrap();
    let first: Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    assert_eq!(first["metrics"]["val_auc"], Value::Null);
    assert_eq!(first["metrics"]["test_cost"], Value::Null);
    assert_eq!(first["context"]["data"]["labelled"], false);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let column = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(column("val_auc"), "", "not available, not 0");
    assert_eq!(column("test_cost"), "");
    assert!(!column("bic").is_empty());

    // An objective that needs labels is refused before any trial, saying which and why.
    let cfg = config(
        &data,
        &format!(
            "{SMALL_SPACE}strategies: [{{kind: grid, name: by_auc}}, {{kind: grid, name: by_bic, objective: bic}}]\n"
        ),
    );
    let dir = tmp.path().join("refused");
    let msg = execute(&cfg, &options(&dir, 1), &no_interrupt(), &Silent)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("datasets[0]")
            && msg.contains("no label column `label`")
            && msg.contains("`by_auc` (val_auc)")
            && msg.contains("objective: bic"),
        "{msg}"
    );
    assert!(!dir.join("trials.jsonl").exists());
}

// ------------------------------------------------------------------- item 12: time budgets

/// Records when each unit starts and finishes.
#[derive(Default)]
struct Timeline {
    events: Mutex<Vec<(UnitKey, bool, Instant)>>,
}

impl Progress for Timeline {
    fn unit_started(&self, unit: &UnitKey, _: &Budget, _: usize) {
        self.events
            .lock()
            .unwrap()
            .push((unit.clone(), true, Instant::now()));
    }
    fn trial_finished(&self, _: &TrialRecord, _: Option<f64>) {}
    fn unit_finished(&self, unit: &UnitRecord) {
        self.events
            .lock()
            .unwrap()
            .push((unit.unit.clone(), false, Instant::now()));
    }
}

#[test]
fn timed_units_run_alone_and_record_their_overshoot() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_dataset(tmp.path(), "a.csv", 240, true);
    let b = write_dataset(tmp.path(), "b.csv", 200, true);
    let space = "space: {n_components: [1, 2, 4], covariance_type: [diag, full], reg_covar: {low: 1.0e-6, high: 1.0e-1, log: true, grid: 2}, init: kmeans}";
    let yaml = format!(
        "name: t\ndatasets: [{{path: '{}'}}, {{path: '{}'}}]\n{space}\nstrategies:\n  - {{kind: grid}}\n  - {{kind: random, name: timed_random, budget: {{time_s: 0.25}}}}\n  - {{kind: cfo, name: timed_cfo, budget: {{time_s: 0.25, trials: 100000}}}}\n  - {{kind: random, budget: {{trials: 4}}}}\n",
        a.display(),
        b.display()
    );
    let cfg = RunConfig::from_yaml_str(&yaml, "t.yaml").unwrap();
    let out = tmp.path().join("out");
    let timeline = Timeline::default();
    let report = execute(&cfg, &options(&out, 2), &no_interrupt(), &timeline).unwrap();
    let events = timeline.events.into_inner().unwrap();
    let interval = |unit: &UnitKey| {
        let at = |start: bool| {
            events
                .iter()
                .find(|(u, s, _)| u == unit && *s == start)
                .unwrap()
                .2
        };
        (at(true), at(false))
    };
    let units: Vec<UnitKey> = report.summary.iter().map(|r| r.unit.clone()).collect();
    assert_eq!(units.len(), 8);
    let timed = |u: &UnitKey| u.strategy.starts_with("timed");
    for t in units.iter().filter(|u| timed(u)) {
        let (start, end) = interval(t);
        for other in units.iter().filter(|u| *u != t) {
            let (s, e) = interval(other);
            assert!(
                e <= start || end <= s,
                "{t} ran at the same time as {other}"
            );
        }
    }
    let unit_records: Vec<UnitRecord> = records(&out.join("units.jsonl"));
    for row in report.summary.iter().filter(|r| timed(&r.unit)) {
        let u = unit_records.iter().find(|u| u.unit == row.unit).unwrap();
        assert_eq!(
            serde_json::to_value(u.reason).unwrap(),
            "time_budget",
            "{}",
            row.unit
        );
        assert!(u.elapsed_s >= 0.25, "{}", u.elapsed_s);
        // The budget is checked before each trial: the last one may end past it.
        assert_eq!(u.time_overshoot_s, u.elapsed_s - 0.25);
        assert_eq!(row.time_overshoot_s, u.time_overshoot_s);
        assert!(row.trials > 1);
    }
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(csv
        .lines()
        .any(|l| l.contains("timed_cfo") && l.contains("time_budget")));
    for row in report.summary.iter().filter(|r| !timed(&r.unit)) {
        assert_eq!(row.time_overshoot_s, 0.0);
    }
}

// ------------------------------------------------------------------- the shipped configs

#[test]
fn every_shipped_config_loads_and_plans_with_the_registry_found() {
    let mut seen = 0;
    for entry in std::fs::read_dir("configs").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "best_practice.yaml") {
            // The shipped zero-shot portfolio, not a run config.
            gmmtune::zeroshot::portfolio::Portfolio::load(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            continue;
        }
        let config = RunConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let plan = Plan::build(&config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(plan.registry.as_ref().is_some_and(|r| r.is_file()));
        assert_eq!(
            plan.units.len(),
            config.datasets.len() * config.seeds.len() * config.strategies.len()
        );
        for d in &plan.datasets {
            assert!(
                d.path.is_file(),
                "{}: {} is missing",
                path.display(),
                d.path.display()
            );
        }
        seen += 1;
    }
    assert!(seen >= 3, "configs/*.yaml: {seen} found");
}

// ---------------------------------------------------- cv_loglik against scikit-learn KFold

fn f64s(bits: &Value) -> Vec<f64> {
    bits.as_array()
        .unwrap()
        .iter()
        .map(|b| f64::from_bits(b.as_u64().unwrap()))
        .collect()
}

#[test]
fn cv_loglik_holds_out_the_folds_of_sklearn_kfold_and_scores_as_gridsearchcv() {
    let text = std::fs::read_to_string("tests/fixtures/cv/kfold.json").unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (n, d) = (
            case["rows"].as_u64().unwrap() as usize,
            case["features"].as_u64().unwrap() as usize,
        );
        let folds = case["folds"].as_u64().unwrap() as usize;
        let x = Array2::from_shape_vec((n, d), f64s(&case["x_bits"])).unwrap();
        let config = GmmConfig {
            n_components: 1,
            covariance_type: case["covariance_type"]
                .as_str()
                .unwrap()
                .parse::<CovarianceType>()
                .unwrap(),
            reg_covar: case["reg_covar"].as_f64().unwrap(),
            init: InitMethod::KMeans,
        };
        let fit = FitSettings::default();
        let ours = cv_loglik(&config, &fit, 0, x.view(), folds).unwrap();
        // Fit on the complement of each of scikit-learn's folds and score the fold.
        let mut scores = Vec::new();
        for (fold, expected) in case["fold_test_indices"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["fold_scores"].as_array().unwrap())
        {
            let held_out: Vec<usize> = fold
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect();
            let kept: Vec<usize> = (0..n).filter(|i| !held_out.contains(i)).collect();
            let model = fit_config(&config, &fit, 0, x.select(Axis(0), &kept).view()).unwrap();
            let score = model.score(x.select(Axis(0), &held_out).view()).unwrap();
            let expected = expected.as_f64().unwrap();
            assert!(
                (score - expected).abs() <= 1e-10 * expected.abs().max(1.0),
                "{name}: fold score {score} vs scikit-learn {expected}"
            );
            scores.push(score);
        }
        assert_eq!(scores.len(), folds);
        // The same folds, in the same order: the same figure to the last bit.
        let mean = scores.iter().sum::<f64>() / folds as f64;
        assert_eq!(
            ours, mean,
            "{name}: cv_loglik does not hold out KFold's folds"
        );
        let sklearn = case["cv_loglik"].as_f64().unwrap();
        assert!(
            (ours - sklearn).abs() <= 1e-10 * sklearn.abs().max(1.0),
            "{name}: {ours} vs GridSearchCV's {sklearn}"
        );
    }
}

#[test]
fn cv_loglik_refuses_more_folds_than_rows_instead_of_failing_every_fit() {
    let x = Array2::from_shape_fn((4, 1), |(i, _)| i as f64);
    let err = cv_loglik(
        &GmmConfig::default(),
        &FitSettings::default(),
        0,
        x.view(),
        5,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("at least 5 training rows, found 4"), "{err}");
    // read_journal of a missing file is an empty journal, not an error.
    let file = read_journal::<TrialRecord>(Path::new("no/such/trials.jsonl")).unwrap();
    assert!(file.records.is_empty());
}
