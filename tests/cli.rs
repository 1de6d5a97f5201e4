//! The `gmmtune` binary end to end: fit and score, bad input, and a run interrupted with Ctrl-C
//! (SIGINT) and resumed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn gmmtune() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gmmtune"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("gmmtune runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A labelled CSV: two clusters, every 10th row an outlier.
fn write_csv(dir: &Path, rows: usize) -> PathBuf {
    let mut text = String::from("a,b,label\n");
    for i in 0..rows {
        let t = i as f64;
        let (x, y) = if i % 10 == 0 {
            // Scattered far around the two clusters, no two alike.
            (3.0 + 25.0 * (t * 1.7).sin(), 3.0 + 25.0 * (t * 2.3).cos())
        } else if i % 2 == 0 {
            ((t * 0.37).sin(), (t * 0.71).cos())
        } else {
            (6.0 + (t * 0.53).sin(), 6.0 + (t * 0.29).cos())
        };
        text.push_str(&format!("{x},{y},{}\n", u8::from(i % 10 == 0)));
    }
    let path = dir.join("data.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn fit_then_score_writes_a_model_and_one_score_per_row() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_csv(tmp.path(), 200);
    let model = tmp.path().join("model.json");
    let out = run(gmmtune()
        .args([
            "fit",
            "--n-components",
            "2",
            "--covariance-type",
            "diag",
            "--standardize",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--output")
        .arg(&model));
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    for key in [
        "covariance_type",
        "weights",
        "means",
        "covariances",
        "converged",
        "n_iter",
        "lower_bound",
        "standardization",
    ] {
        assert!(json.get(key).is_some(), "model.json lacks {key}");
    }
    assert_eq!(
        json["covariances"].as_array().unwrap().len(),
        2,
        "diag: K×d"
    );
    assert_eq!(json["feature_names"], serde_json::json!(["a", "b"]));

    let scores = tmp.path().join("scores.csv");
    let out = run(gmmtune()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--output")
        .arg(&scores));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&scores).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("log_likelihood") && header.contains("component"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 200);
    // Outliers (every 10th row) are the least likely rows.
    let mean = |pick: &dyn Fn(usize) -> bool| {
        let v: Vec<f64> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .map(|(_, r)| r[1])
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(mean(&|i| i % 10 == 0) < mean(&|i| i % 10 != 0) - 5.0);
}

#[test]
fn bad_input_gets_a_message_naming_the_place_and_no_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "a,b,label\n1,2,0\n3,oops,0\n").unwrap();
    let model = tmp.path().join("m.json");
    let out = run(gmmtune()
        .arg("fit")
        .arg("--data")
        .arg(&bad)
        .arg("--output")
        .arg(&model));
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(
        msg.contains("bad.csv") && msg.contains("line 3") && msg.contains('b'),
        "{msg}"
    );
    assert!(!msg.contains("panicked"), "{msg}");

    let out = run(gmmtune()
        .args(["fit", "--data", "/no/such/file.csv", "--output"])
        .arg(&model));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/no/such/file.csv"),
        "{}",
        stderr(&out)
    );

    let data = write_csv(tmp.path(), 50);
    let out = run(gmmtune()
        .args(["fit", "--reg-covar", "-1"])
        .arg("--data")
        .arg(&data)
        .arg("--output")
        .arg(&model));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("reg_covar"), "{}", stderr(&out));

    std::fs::write(&model, r#"{"covariance_type": "full", "weights": [1.0]}"#).unwrap();
    let out = run(gmmtune()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--output")
        .arg(tmp.path().join("s.csv")));
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("m.json") && !msg.contains("panicked"), "{msg}");

    let cfg = tmp.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "name: x\ndatasets: [wbc]\nstrategies: [{kind: grid, budgett: 1}]\n",
    )
    .unwrap();
    let out = run(gmmtune().arg("run").arg(&cfg));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("budgett"), "{}", stderr(&out));
}

fn journal_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn ctrl_c_keeps_finished_trials_and_resume_completes_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    // Large enough that the 40 trials take seconds: the interrupt must land mid-run.
    let data = write_csv(tmp.path(), 20_000);
    let cfg = tmp.path().join("run.yaml");
    std::fs::write(
        &cfg,
        format!(
            "name: sigint\nseed: 1\ndatasets: [{{path: '{}', name: d}}]\n\
             fit: {{max_iter: 200, tol: 0.0}}\n\
             space: {{n_components: {{low: 1, high: 12}}, covariance_type: full, reg_covar: 1.0e-6, init: random_from_data}}\n\
             strategies: [{{kind: random, budget: {{trials: 40}}}}]\n",
            data.display()
        ),
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    let journal = out_dir.join("trials.jsonl");
    let mut child = gmmtune()
        .arg("run")
        .arg(&cfg)
        .arg("--out")
        .arg(&out_dir)
        .args(["--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while journal_lines(&journal) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no trial finished"
        );
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be interrupted; make it longer"
    );
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait_with_output().unwrap();
    let kept = journal_lines(&journal);
    assert_eq!(status.status.code(), Some(130), "{}", stderr(&status));
    assert!(
        out_dir.join("summary.csv").exists(),
        "summary written on Ctrl-C"
    );
    assert!(stderr(&status).contains("--resume"), "{}", stderr(&status));
    assert!((3..40).contains(&kept), "{kept} trials kept");

    // An interrupt in the middle of a write leaves the last record cut off: the summary and
    // the resume drop it with a warning naming the file and line, and its trial runs again.
    let text = std::fs::read_to_string(&journal).unwrap();
    let last_start = text.trim_end().rfind('\n').map_or(0, |i| i + 1);
    let cut = last_start + (text.len() - last_start) / 2;
    std::fs::write(&journal, &text[..cut]).unwrap();
    let dropped = format!("trials.jsonl, line {kept}: dropped a record cut off by an interruption");
    let out = run(gmmtune().arg("summarize").arg(&out_dir));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&dropped), "{}", stderr(&out));

    let out = run(gmmtune()
        .arg("run")
        .arg(&cfg)
        .arg("--out")
        .arg(&out_dir)
        .args(["--resume", "--quiet"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&dropped), "{}", stderr(&out));
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut trials: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["trial"]
                .as_u64()
                .unwrap()
        })
        .collect();
    trials.sort_unstable();
    assert_eq!(
        trials,
        (0..40).collect::<Vec<u64>>(),
        "every trial exactly once"
    );
}

#[test]
fn a_jobs_flag_out_of_range_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_csv(tmp.path(), 100);
    let cfg = tmp.path().join("c.yaml");
    std::fs::write(
        &cfg,
        format!(
            "name: j\ndatasets: [{{path: '{}'}}]\nstrategies: [{{kind: grid}}]\nspace: {{n_components: 1, covariance_type: full, reg_covar: 1.0e-6, init: kmeans}}\n",
            data.display()
        ),
    )
    .unwrap();
    for jobs in ["0", "100000", "two"] {
        let out = run(gmmtune()
            .arg("run")
            .arg(&cfg)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .args(["--jobs", jobs]));
        assert_eq!(
            out.status.code(),
            Some(2),
            "--jobs {jobs}: {}",
            stderr(&out)
        );
        let msg = stderr(&out);
        assert!(
            msg.contains("--jobs") && msg.contains("not a number of threads from 1 to 1024"),
            "{msg}"
        );
        assert!(!tmp.path().join("out").exists());
    }
}

#[test]
fn each_error_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.csv"), "a,b,label\n1,2,0\n3,oops,0\n").unwrap();
    let cfg = tmp.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "name: once\ndatasets: [{path: bad.csv}]\nstrategies: [{kind: grid}]\n",
    )
    .unwrap();
    let out = run(gmmtune()
        .arg("run")
        .arg(&cfg)
        .arg("--out")
        .arg(tmp.path().join("out")));
    assert_eq!(out.status.code(), Some(1));
    let msg = stderr(&out);
    assert_eq!(msg.matches("error:").count(), 1, "{msg}");
    assert_eq!(msg.matches("line 3").count(), 1, "{msg}");
    assert_eq!(msg.matches("oops").count(), 1, "{msg}");
    assert!(msg.starts_with("error: dataset `bad`: "), "{msg}");
    assert_eq!(msg.lines().count(), 1, "{msg}");
}

#[test]
fn registry_names_and_config_paths_work_from_any_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    // `gmmtune datasets` says which registry it found.
    let out = run(gmmtune().arg("datasets").current_dir(&elsewhere));
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = listing.lines().next().unwrap();
    assert!(
        first.starts_with("registry: ") && first.ends_with("datasets/registry.yaml"),
        "{listing}"
    );
    assert!(Path::new(first.trim_start_matches("registry: ")).is_file());
    assert!(listing.contains("wbc"));
    // $GMMTUNE_REGISTRY names another one.
    let own = project.join("reg.yaml");
    std::fs::write(
        &own,
        "datasets:\n  - {name: mine, path: data.csv, rows: 120, features: 2, anomaly_pct: 10, family: mine, source: test, licence: CC0}\n",
    )
    .unwrap();
    write_csv(&project, 120);
    let out = run(gmmtune()
        .arg("datasets")
        .env("GMMTUNE_REGISTRY", &own)
        .current_dir(&elsewhere));
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listing.starts_with(&format!("registry: {}\n", own.display())) && listing.contains("mine"),
        "{listing}"
    );
    // A config in another directory: its file paths resolve against it, and registry names
    // are found from anywhere.
    std::fs::write(
        project.join("c.yaml"),
        "name: anywhere\ndatasets: [{path: data.csv}, wbc]\nstrategies: [{kind: fixed, configs: [{n_components: 1}]}]\n",
    )
    .unwrap();
    let out = run(gmmtune()
        .args(["run", "../project/c.yaml", "--out", "out"])
        .env_remove("GMMTUNE_REGISTRY")
        .current_dir(&elsewhere));
    assert!(out.status.success(), "{}", stderr(&out));
    let msg = stderr(&out);
    assert!(
        msg.contains("registry: ") && msg.contains("datasets/registry.yaml"),
        "{msg}"
    );
    let summary = std::fs::read_to_string(elsewhere.join("out/summary.csv")).unwrap();
    assert!(
        summary.contains("\ndata,fixed,") && summary.contains("\nwbc,fixed,"),
        "{summary}"
    );
}

/// The column `name` of a CSV text, by row.
fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(at).unwrap().to_string())
        .collect()
}

#[test]
fn an_exported_model_scores_the_run_rows_exactly_as_the_journal_says() {
    use gmmtune::eval::{average_precision, roc_auc, CostModel};
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    write_csv(&work, 400);
    std::fs::write(
        work.join("c.yaml"),
        "name: exp\nseed: 4\ndatasets: [{path: data.csv}]\ncost_model: {c_alarm: 1, c_missed: 5}\n\
         space: {n_components: [1, 2, 3], covariance_type: [diag, full], reg_covar: 1.0e-6, init: kmeans}\n\
         strategies: [{kind: grid}, {kind: random, budget: {trials: 4}}]\n",
    )
    .unwrap();
    // Relative paths, run from its own directory; exported from another one.
    let out = run(gmmtune()
        .args(["run", "c.yaml", "--out", "run", "--quiet"])
        .current_dir(&work));
    assert!(out.status.success(), "{}", stderr(&out));
    let model = other.join("model.json");
    let parts = other.join("parts.csv");
    let out = run(gmmtune()
        .arg("export")
        .arg(work.join("run"))
        .args(["--dataset", "data", "--strategy", "grid", "--output"])
        .arg(&model)
        .arg("--parts")
        .arg(&parts)
        .current_dir(&other));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it measures as journaled"),
        "{}",
        stderr(&out)
    );
    let scores = other.join("scores.csv");
    let out = run(gmmtune()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(work.join("data.csv"))
        .arg("--output")
        .arg(&scores));
    assert!(out.status.success(), "{}", stderr(&out));

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("run/summary.json")).unwrap())
            .unwrap();
    let selected = &summary[0]["selected"];
    assert_eq!(summary[0]["unit"]["strategy"], "grid");
    let metrics = &selected["metrics"];
    let score_text = std::fs::read_to_string(&scores).unwrap();
    let anomaly_scores: Vec<f64> = csv_column(&score_text, "anomaly_score")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    let part_text = std::fs::read_to_string(&parts).unwrap();
    let part_of = csv_column(&part_text, "part");
    let label_of = csv_column(&part_text, "anomaly");
    assert_eq!(part_of.len(), 400);
    let pick = |part: &str| -> (Vec<f64>, Vec<bool>) {
        (0..400)
            .filter(|&i| part_of[i] == part)
            .map(|i| (anomaly_scores[i], label_of[i] == "1"))
            .unzip()
    };
    let cost_model = CostModel::new(1.0, 5.0, 0).unwrap();
    let threshold = metrics["threshold"].as_f64().unwrap();
    for part in ["validation", "test"] {
        let (s, l) = pick(part);
        let short = if part == "validation" { "val" } else { "test" };
        let journaled = |m: &str| metrics[format!("{short}_{m}")].as_f64().unwrap();
        assert_eq!(roc_auc(&s, &l), journaled("auc"), "{part} AUC");
        assert_eq!(average_precision(&s, &l), journaled("ap"), "{part} AP");
        assert_eq!(
            cost_model.cost(&s, &l, threshold),
            journaled("cost"),
            "{part} cost"
        );
    }
    let (s, l) = pick("train");
    assert_eq!(
        cost_model.cost(&s, &l, threshold),
        metrics["train_cost"].as_f64().unwrap()
    );
}
