//! The report commands of the `gmmtune` binary: the report a run rewrites as its units finish,
//! `gmmtune report` rebuilding it from the journal, and `gmmtune compare` refusing runs that
//! differ with a message and no panic.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn gmmtune() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gmmtune"))
}

fn write_csv(path: &Path, rows: usize, shift: f64) {
    let mut text = String::from("a,b,label\n");
    for i in 0..rows {
        let t = i as f64;
        let anomaly = i % 9 == 0;
        let (x, y) = if anomaly {
            (3.0 + 20.0 * (t * 1.7).sin(), 3.0 + 20.0 * (t * 2.3).cos())
        } else {
            (shift + (t * 0.37).sin(), (t * 0.71).cos())
        };
        text.push_str(&format!("{x},{y},{}\n", u8::from(anomaly)));
    }
    std::fs::write(path, text).unwrap();
}

fn write_config(dir: &Path, name: &str, strategies: &str, train: f64) -> std::path::PathBuf {
    write_csv(&dir.join("one.csv"), 2000, 0.0);
    write_csv(&dir.join("two.csv"), 1500, 2.0);
    let yaml = format!(
        "name: {name}\nseed: 0\ndatasets: [{{path: one.csv}}, {{path: two.csv}}]\n\
         protocol: {{split: {{method: stratified, train: {train}, validation: 0.2}}}}\n\
         space:\n  n_components: {{low: 1, high: 4, log: true, grid: 3}}\n  covariance_type: [spherical, diag, full]\n  reg_covar: 1.0e-6\n  init: kmeans\n\
         strategies:\n{strategies}"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn a_run_rewrites_its_report_as_units_finish_and_report_rebuilds_it() {
    let tmp = tempfile::tempdir().unwrap();
    // Units with a time budget run after the others, one after another: the report is
    // rewritten once the two quick units have finished, while the timed ones still run.
    let config = write_config(
        tmp.path(),
        "live",
        "  - {kind: fixed, name: default, configs: [{n_components: 1}]}\n  - {kind: random, budget: {time_s: 1.0}}\n",
        0.6,
    );
    let out = tmp.path().join("out");
    let mut child = gmmtune()
        .args([
            "run",
            "--quiet",
            "--report-every",
            "0",
            "--jobs",
            "2",
            "--out",
        ])
        .arg(&out)
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let page = out.join("report.html");
    let started = Instant::now();
    let mut seen_partial = false;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&page) {
            seen_partial |= text.contains("2 of 4 units finished");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run does not end"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(seen_partial, "no report while the run was going");
    let last = std::fs::read_to_string(&page).unwrap();
    assert!(
        last.contains("run live: finished"),
        "the last report is not the finished run's"
    );
    assert!(
        out.join("report.md").exists()
            && out.join("plots").is_dir()
            && out.join("tables/selected.csv").exists()
    );

    let rebuilt = gmmtune().arg("report").arg(&out).output().unwrap();
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(String::from_utf8_lossy(&rebuilt.stderr).contains("4 of 4 units finished"));
    // The same page, apart from how long this rebuild's refits took.
    assert_eq!(
        without_refit_seconds(&std::fs::read_to_string(&page).unwrap()),
        without_refit_seconds(&last)
    );
}

/// A report page with the seconds its refits took (a wall time, different on every build)
/// blanked out.
fn without_refit_seconds(page: &str) -> String {
    let end = " s of refits in all)";
    match page.find(end) {
        Some(at) => {
            let start = page[..at].rfind('(').expect("the figure is in brackets");
            format!("{}({end}{}", &page[..start], &page[at + end.len()..])
        }
        None => page.to_string(),
    }
}

#[test]
fn report_and_compare_refuse_bad_input_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = gmmtune()
        .arg("report")
        .arg(tmp.path().join("nowhere"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success() && text.contains("is not a run directory"),
        "{text}"
    );
    assert!(!text.contains("panicked"));

    let grid = "  - {kind: grid}\n";
    let a = write_config(tmp.path(), "a", grid, 0.6);
    let b = write_config(tmp.path(), "b", grid, 0.5);
    for (config, out) in [(&a, "ra"), (&b, "rb")] {
        let done = gmmtune()
            .args(["run", "--quiet", "--out"])
            .arg(tmp.path().join(out))
            .arg(config)
            .output()
            .unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    let compared = gmmtune()
        .arg("compare")
        .arg(tmp.path().join("ra"))
        .arg(tmp.path().join("rb"))
        .arg("--out")
        .arg(tmp.path().join("cmp"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&compared.stderr);
    assert!(!compared.status.success(), "{text}");
    assert!(
        text.contains("cannot be compared") && text.contains("dataset `one`: the protocol differs"),
        "{text}"
    );
    assert!(!text.contains("panicked"));
    let bad_every = gmmtune()
        .args(["run", "--report-every", "-1"])
        .arg(&a)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad_every.stderr).contains("--report-every"));
}
