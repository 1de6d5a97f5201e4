//! A run split into shards (run one after another here, as Slurm array tasks would run them)
//! and merged gives, trial for trial, the run made in one process.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::common::InterruptAfter;
use gmmtune::config::RunConfig;
use gmmtune::journal::RunJournal;
use gmmtune::plan::Shard;
use gmmtune::run::{execute, merge, status, RunError, RunOptions, UnitState};
use gmmtune::search::driver::Silent;

fn write_dataset(dir: &Path, name: &str, rows: usize, shift: f64) -> PathBuf {
    let mut text = String::from("f0,f1,label\n");
    for i in 0..rows {
        let t = i as f64;
        let anomaly = i % 9 == 0;
        let (x, y) = if anomaly {
            (shift + 8.0 * (t * 1.3).sin(), 8.0 * (t * 0.7).cos())
        } else {
            (
                shift + (t * 0.37).sin(),
                (t * 0.71).cos() * (1.0 + (i % 3) as f64),
            )
        };
        text.push_str(&format!("{x},{y},{}\n", u8::from(anomaly)));
    }
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

fn config(dir: &Path) -> RunConfig {
    for (name, rows, shift) in [("a", 150, 0.0), ("b", 260, 3.0), ("c", 90, -2.0)] {
        write_dataset(dir, name, rows, shift);
    }
    let yaml = "name: sharded\nseeds: [0, 1]\ndatasets: [{path: a.csv}, {path: b.csv}, {path: c.csv}]\n\
        space:\n  n_components: {low: 1, high: 4, log: true, grid: 2}\n  covariance_type: [spherical, full]\n  reg_covar: 1.0e-4\n  init: kmeans\n\
        strategies:\n  - {kind: grid}\n  - {kind: random, budget: {trials: 4}}\n  - {kind: cfo, budget: {trials: 6}}\n";
    RunConfig::from_yaml_str_in(yaml, "sharded.yaml", dir).unwrap()
}

fn options(dir: &Path, shard: Option<Shard>) -> RunOptions {
    RunOptions {
        out_dir: Some(dir.to_path_buf()),
        jobs: Some(2),
        shard,
        ..RunOptions::default()
    }
}

/// The config's run in one process, into `whole/`.
fn run_whole(tmp: &Path, cfg: &RunConfig) -> PathBuf {
    let whole = tmp.join("whole");
    execute(
        cfg,
        &options(&whole, None),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap();
    whole
}

/// Trials without what depends on timing: their seconds, and whether this process took a
/// result from an identical measurement (a strategy may propose a configuration twice, and two
/// workers may fit it at once).
fn essence(dir: &Path) -> Vec<String> {
    let journal = RunJournal::load(dir).unwrap();
    journal
        .trials
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("fit_seconds");
            o.remove("elapsed_s");
            o.remove("reused");
            v.to_string()
        })
        .collect()
}

/// Summary CSV rows without the timing columns.
fn summary(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !["fit_seconds", "elapsed_s", "time_overshoot_s"].contains(&header[i]))
        .collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        })
        .collect()
}

#[test]
fn shards_merge_into_the_run_made_in_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let whole = run_whole(tmp.path(), &cfg);

    let sharded = tmp.path().join("sharded");
    for i in 0..3 {
        let shard = Shard::new(i, 3).unwrap();
        execute(
            &cfg,
            &options(&sharded, Some(shard)),
            &AtomicBool::new(false),
            &Silent,
        )
        .unwrap();
        // Each shard writes only its own directory.
        assert!(sharded
            .join(format!("shards/{i}-of-3/trials.jsonl"))
            .exists());
        assert!(!sharded.join("trials.jsonl").exists());
    }
    let merged = merge(&sharded).unwrap();
    let units = merged.units;
    assert!(merged.warnings.is_empty(), "{:?}", merged.warnings);
    assert_eq!(merged.summary.len(), 3 * 2 * 3);
    assert!(units.iter().all(|u| u.state == UnitState::Done));
    assert!(units.iter().all(|u| u.shard.is_some()));
    assert_eq!(essence(&sharded), essence(&whole));
    assert_eq!(summary(&sharded), summary(&whole));
    // Both halves of the work spread: every shard got a group.
    let shards: std::collections::HashSet<_> = units.iter().filter_map(|u| u.shard).collect();
    assert_eq!(shards.len(), 3);
}

#[test]
fn a_missing_shard_shows_in_the_status_and_mixed_shard_counts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let dir = tmp.path().join("run");
    let first = Shard::new(0, 2).unwrap();
    execute(
        &cfg,
        &options(&dir, Some(first)),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap();
    let states = status(&dir).unwrap();
    let done = states.iter().filter(|u| u.state == UnitState::Done).count();
    let missing = states
        .iter()
        .filter(|u| u.state == UnitState::Missing)
        .count();
    assert_eq!(done + missing, states.len());
    assert!(done > 0 && missing > 0, "{states:?}");
    assert!(states
        .iter()
        .filter(|u| u.state == UnitState::Missing)
        .all(|u| u.shard.is_none()));

    let other = Shard::new(1, 3).unwrap();
    let err = execute(
        &cfg,
        &options(&dir, Some(other)),
        &AtomicBool::new(false),
        &Silent,
    )
    .unwrap_err();
    assert!(err.to_string().contains("split 2 ways"), "{err}");
    // A run in one process refuses a sharded directory.
    let err = execute(&cfg, &options(&dir, None), &AtomicBool::new(false), &Silent).unwrap_err();
    assert!(
        matches!(err, RunError::Io { .. }) && err.to_string().contains("merge"),
        "{err}"
    );
    // Another config cannot add a shard to this run, before or after a merge.
    let mut changed = cfg.clone();
    changed.seeds = vec![5];
    let second = Shard::new(1, 2).unwrap();
    for merged in [false, true] {
        if merged {
            gmmtune::run::merge(&dir).unwrap();
        }
        let err = execute(
            &changed,
            &options(&dir, Some(second)),
            &AtomicBool::new(false),
            &Silent,
        )
        .unwrap_err();
        assert!(matches!(err, RunError::ConfigChanged { .. }), "{err}");
        assert!(err.to_string().contains("seeds"), "{err}");
    }
}

#[test]
fn a_killed_shard_resumes_from_its_own_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let whole = run_whole(tmp.path(), &cfg);
    let dir = tmp.path().join("run");
    for i in 0..2 {
        let shard = Some(Shard::new(i, 2).unwrap());
        if i == 1 {
            let flag = AtomicBool::new(false);
            let stopper = InterruptAfter::new(5, &flag);
            let cut = execute(&cfg, &options(&dir, shard), &flag, &stopper).unwrap();
            assert!(cut.outcome.interrupted);
            // The shard stopped short: some of its units did not finish (the one a trial was
            // cut in, or those not started).
            let shard_units: Vec<_> = status(&dir)
                .unwrap()
                .into_iter()
                .filter(|u| u.shard == shard)
                .collect();
            assert!(
                shard_units.iter().any(|u| u.state != UnitState::Done),
                "{shard_units:?}"
            );
        }
        let resume = RunOptions {
            resume: true,
            ..options(&dir, shard)
        };
        execute(&cfg, &resume, &AtomicBool::new(false), &Silent).unwrap();
    }
    merge(&dir).unwrap();
    assert_eq!(essence(&dir), essence(&whole));
    assert_eq!(summary(&dir), summary(&whole));
}

#[test]
fn the_binary_takes_its_shard_from_a_slurm_array_task() {
    let tmp = tempfile::tempdir().unwrap();
    config(tmp.path());
    let yaml = tmp.path().join("sharded.yaml");
    std::fs::write(
        &yaml,
        "name: sharded\ndatasets: [{path: a.csv}, {path: b.csv}]\nstrategies: [{kind: random, budget: {trials: 2}}]\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_gmmtune"))
        .arg("run")
        .arg(&yaml)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .env("SLURM_ARRAY_TASK_ID", "4")
        .env("SLURM_ARRAY_TASK_MIN", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("shard 1/2"), "{stderr}");
    assert!(out.join("shards/1-of-2/trials.jsonl").exists());
    let script = std::process::Command::new(env!("CARGO_BIN_EXE_gmmtune"))
        .arg("slurm")
        .arg(&yaml)
        .args(["--array", "2", "--time", "00:10:00"])
        .arg("--out")
        .arg(tmp.path().join("cluster"))
        .output()
        .unwrap();
    assert!(
        script.status.success(),
        "{}",
        String::from_utf8_lossy(&script.stderr)
    );
    let array = std::fs::read_to_string(tmp.path().join("cluster/slurm/array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-1") && array.contains("#SBATCH --time=00:10:00"));
    assert!(array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/2\" --resume"));
}
