//! Bad inputs and the messages they get, through the `gmmtune` binary as a user runs it:
//! configs, data files, interrupted or damaged journals and run directories, command-line
//! flags. Every case is a row of the README's Reliability table (checked below), and every
//! message names the key, file, line or flag at fault and what to do.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{self, gmmtune, stderr};

/// One bad input.
struct Case {
    /// Its id in the README table.
    id: &'static str,
    /// What the input is.
    input: &'static str,
    /// Whether the command fails (else it succeeds with a warning).
    fails: bool,
    /// What the message must say (the README row says it too).
    expect: &'static [&'static str],
    /// Sets the input up in a fresh directory and runs the command; its output.
    run: fn(&Path) -> Output,
}

/// A labelled CSV `d.csv`: 120 rows, 2 features, every 10th row an outlier.
fn data(dir: &Path) {
    let mut text = String::from("a,b,label\n");
    for i in 0..120 {
        let t = i as f64;
        let (x, y, label) = if i % 10 == 0 {
            (8.0 * (t * 1.3).sin(), 8.0 * (t * 0.7).cos(), 1)
        } else {
            ((t * 0.37).sin(), (t * 0.71).cos(), 0)
        };
        text.push_str(&format!("{x},{y},{label}\n"));
    }
    std::fs::write(dir.join("d.csv"), text).unwrap();
}

/// Runs `gmmtune ARGS` in `dir`.
fn cli(dir: &Path, args: &[&str]) -> Output {
    common::output(gmmtune().args(args).current_dir(dir))
}

/// `gmmtune fit --data d.csv --output m.json` in `dir`, with `extra` flags.
fn fit_model(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["fit", "--data", "d.csv", "--output", "m.json"];
    args.extend_from_slice(extra);
    cli(dir, &args)
}

/// `gmmtune export out --dataset d --strategy STRATEGY --output m.json` in `dir`.
fn export_model(dir: &Path, strategy: &str) -> Output {
    cli(
        dir,
        &[
            "export",
            "out",
            "--dataset",
            "d",
            "--strategy",
            strategy,
            "--output",
            "m.json",
        ],
    )
}

/// The same with an extra set-up of the command.
fn cli_with(dir: &Path, args: &[&str], setup: impl FnOnce(&mut Command)) -> Output {
    let mut cmd = gmmtune();
    cmd.args(args).current_dir(dir);
    setup(&mut cmd);
    common::output(&mut cmd)
}

/// A fast space and strategy for the runs that should start.
const FAST: &str = "space: {n_components: [1, 2], covariance_type: diag, reg_covar: 1.0e-6, init: kmeans}\nstrategies: [{kind: grid}]\n";

/// Writes `c.yaml` (`name: r` and `body`) next to `d.csv` and runs it into `out`.
fn run_config(dir: &Path, body: &str) -> Output {
    data(dir);
    std::fs::write(dir.join("c.yaml"), format!("name: r\n{body}")).unwrap();
    cli(dir, &["run", "c.yaml", "--out", "out", "--quiet"])
}

/// A config of `d.csv` with `body` and the fast strategy.
fn run_body(dir: &Path, body: &str) -> Output {
    run_config(dir, &format!("datasets: [{{path: d.csv}}]\n{body}{FAST}"))
}

/// Runs a config over the CSV text `text` written as `name`.
fn run_file(dir: &Path, name: &str, text: &[u8]) -> Output {
    std::fs::write(dir.join(name), text).unwrap();
    run_config(dir, &format!("datasets: [{{path: {name}}}]\n{FAST}"))
}

/// A finished run in `out` (grid over 2 configurations, then 3 random trials).
fn finished_run(dir: &Path) {
    let out = run_config(
        dir,
        &format!(
            "datasets: [{{path: d.csv}}]\n{}",
            FAST.replace(
                "[{kind: grid}]",
                "[{kind: grid}, {kind: random, budget: {trials: 3}}]"
            )
        ),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Edits the lines of `out/trials.jsonl`.
fn edit_trials(dir: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let path = dir.join("out/trials.jsonl");
    let mut lines = common::lines(&path);
    edit(&mut lines);
    common::write_lines(&path, &lines);
}

fn summarize(dir: &Path) -> Output {
    cli(dir, &["summarize", "out"])
}

fn resume(dir: &Path) -> Output {
    cli(
        dir,
        &["run", "c.yaml", "--out", "out", "--quiet", "--resume"],
    )
}

fn cases() -> Vec<Case> {
    vec![
        // ------------------------------------------------------------------ configs
        Case {
            id: "C01",
            input: "a dataset entry with a typo: `{pth: d.csv}`",
            fails: true,
            expect: &[
                "`datasets[0]`",
                "unknown key `pth`",
                "a dataset entry takes: path, name",
            ],
            run: |d| run_config(d, &format!("datasets: [{{pth: d.csv}}]\n{FAST}")),
        },
        Case {
            id: "C02",
            input: "an unknown top-level key `bogus: 1`",
            fails: true,
            expect: &["c.yaml", "unknown field `bogus`", "expected one of `name`"],
            run: |d| run_body(d, "bogus: 1\n"),
        },
        Case {
            id: "C03",
            input: "`space.n_components.high: 18446744073709551615`",
            fails: true,
            expect: &["`space.n_components.high`", "at most 65536"],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nspace: {n_components: {low: 1, high: 18446744073709551615}}\nstrategies: [{kind: random, budget: {trials: 2}}]\n",
                )
            },
        },
        Case {
            id: "C04",
            input: "a linspace threshold grid with `n: 18446744073709551615`",
            fails: true,
            expect: &["`threshold.n`", "at most 1000000 are allowed"],
            run: |d| {
                run_body(
                    d,
                    "threshold: {method: linspace, low: 0, high: 10, n: 18446744073709551615}\n",
                )
            },
        },
        Case {
            id: "C05",
            input: "`budget: {time_s: -1}`",
            fails: true,
            expect: &[
                "`strategies[0]`",
                "budget.time_s must be a positive number of seconds",
            ],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: random, budget: {time_s: -1}}]\n",
                )
            },
        },
        Case {
            id: "C06",
            input: "`budget: {trials: 0}`",
            fails: true,
            expect: &["`strategies[0]`", "budget.trials must be at least 1"],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: random, budget: {trials: 0}}]\n",
                )
            },
        },
        Case {
            id: "C07",
            input: "a random search without a budget",
            fails: true,
            expect: &[
                "`strategies[0]`",
                "a `random` search needs a budget",
                "budget: {trials: N}",
            ],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: random}]\n",
                )
            },
        },
        Case {
            id: "C08",
            input: "`cv_folds: 1`",
            fails: true,
            expect: &["`cv_folds`", "must be at least 2"],
            run: |d| run_body(d, "cv_folds: 1\n"),
        },
        Case {
            id: "C09",
            input: "`cv_folds: 500` on a dataset with 65 fit rows",
            fails: true,
            expect: &[
                "`cv_folds`",
                "500-fold cross-validation needs at least 500 fit rows",
                "dataset `d` has 65",
                "lower `cv_folds`",
            ],
            run: |d| run_body(d, "cv_folds: 500\nobjective: cv_loglik\n"),
        },
        Case {
            id: "C10",
            input: "a seed listed twice, `seeds: [1, 1]`",
            fails: true,
            expect: &["`seeds[1]`", "seed 1 is listed twice"],
            run: |d| run_body(d, "seeds: [1, 1]\n"),
        },
        Case {
            id: "C11",
            input: "`jobs: 0` in a config",
            fails: true,
            expect: &["`jobs`", "must be at least 1 (or omitted for all cores)"],
            run: |d| run_body(d, "jobs: 0\n"),
        },
        Case {
            id: "C12",
            input: "a log range of `reg_covar` from 0",
            fails: true,
            expect: &["`space.reg_covar.low`", "a log range needs low > 0"],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nspace: {reg_covar: {low: 0.0, high: 0.1, log: true}}\nstrategies: [{kind: random, budget: {trials: 2}}]\n",
                )
            },
        },
        Case {
            id: "C13",
            input: "a log range of `reg_covar` from 1e-300 to 1e300 (high/low overflows)",
            fails: true,
            expect: &["`space.reg_covar.low`", "high / low overflows", "raise low"],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nspace: {reg_covar: {low: 1.0e-300, high: 1.0e+300, log: true, grid: 3}}\nstrategies: [{kind: grid}]\n",
                )
            },
        },
        Case {
            id: "C14",
            input: "`n_components: {low: 8, high: 2}`",
            fails: true,
            expect: &[
                "`space.n_components.low`",
                "low 8 is above high 2; swap them",
            ],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nspace: {n_components: {low: 8, high: 2}}\nstrategies: [{kind: random, budget: {trials: 2}}]\n",
                )
            },
        },
        Case {
            id: "C15",
            input: "a stratified split with `train: 0.7, validation: 0.4`",
            fails: true,
            expect: &[
                "`protocol.split`",
                "leaves nothing for test; make the sum smaller than 1",
            ],
            run: |d| {
                run_body(
                    d,
                    "protocol: {split: {method: stratified, train: 0.7, validation: 0.4}}\n",
                )
            },
        },
        Case {
            id: "C16",
            input: "a stratified split of a time series (`ordered: true`)",
            fails: true,
            expect: &[
                "`datasets[0].protocol.split`",
                "is a time series (ordered: true)",
                "method: ordered, train_end: N, validation_end: M",
            ],
            run: |d| {
                run_config(
                    d,
                    &format!("datasets: [{{path: d.csv, ordered: true}}]\n{FAST}"),
                )
            },
        },
        Case {
            id: "C17",
            input: "`cost_model.tolerance: 12` with a stratified split",
            fails: true,
            expect: &[
                "`cost_model.tolerance`",
                "a tolerance of 12 rows treats row order as time",
                "set the tolerance to 0",
            ],
            run: |d| run_body(d, "cost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}\n"),
        },
        Case {
            id: "C18",
            input: "a dataset name the registry does not list",
            fails: true,
            expect: &[
                "`datasets[0]`",
                "dataset `no_such_set` is not in the registry",
                "wbc",
                "give `{path: FILE}`",
            ],
            run: |d| run_config(d, &format!("datasets: [no_such_set]\n{FAST}")),
        },
        Case {
            id: "C19",
            input: "an unlabelled file under the `val_auc` objective",
            fails: true,
            expect: &[
                "`datasets[0]`",
                "has no label column `label`",
                "strategy `grid` (val_auc) needs anomaly labels",
                "use `objective: bic` or `cv_loglik`",
            ],
            run: |d| {
                std::fs::write(
                    d.join("u.csv"),
                    "a,b\n1,2\n2,1\n3,3\n4,1\n5,2\n6,2\n7,1\n8,2\n9,3\n0,1\n",
                )
                .unwrap();
                run_config(d, &format!("datasets: [{{path: u.csv}}]\n{FAST}"))
            },
        },
        Case {
            id: "C20",
            input: "more components than fit rows (`n_components: 500`)",
            fails: true,
            expect: &[
                "`strategies[0].configs[0].n_components`",
                "500 components need at least 500 fit rows, and dataset `d` has 65",
            ],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: fixed, configs: [{n_components: 500}]}]\n",
                )
            },
        },
        Case {
            id: "C21",
            input: "two strategies with the same name",
            fails: true,
            expect: &["`strategies[1].name`", "two strategies are named `grid`"],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: grid}, {kind: grid}]\n",
                )
            },
        },
        Case {
            id: "C22",
            input: "`concurrent_trials: 0`",
            fails: true,
            expect: &["`strategies[0]`", "concurrent_trials must be at least 1"],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: cfo, concurrent_trials: 0, budget: {trials: 3}}]\n",
                )
            },
        },
        Case {
            id: "C23",
            input: "`concurrent_trials: 18446744073709551615`",
            fails: true,
            expect: &[
                "`strategies[0]`",
                "strategy.concurrent_trials",
                "at most 1024",
            ],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: cfo, concurrent_trials: 18446744073709551615, budget: {trials: 3}}]\n",
                )
            },
        },
        Case {
            id: "C24",
            input: "an unknown strategy key `budgett`",
            fails: true,
            expect: &[
                "`strategies[0]`",
                "unknown key `budgett` for a `grid` strategy",
                "expected: name, budget, objective",
            ],
            run: |d| {
                run_config(
                    d,
                    "datasets: [{path: d.csv}]\nstrategies: [{kind: grid, budgett: 1}]\n",
                )
            },
        },
        Case {
            id: "C25",
            input: "an ordered split past the last row",
            fails: true,
            expect: &[
                "dataset `d` (d.csv): ordered split train_end = 10, validation_end = 500 does not fit 120 rows",
                "use bounds below 120",
            ],
            run: |d| {
                run_body(
                    d,
                    "protocol: {split: {method: ordered, train_end: 10, validation_end: 500}}\n",
                )
            },
        },
        Case {
            id: "C26",
            input: "a train fraction that leaves one fit row",
            fails: true,
            expect: &[
                "`datasets[0]`",
                "gets 1 fit row from its split",
                "a mixture needs at least 2",
            ],
            run: |d| {
                run_body(
                    d,
                    "protocol: {split: {method: stratified, train: 0.01, validation: 0.2}}\n",
                )
            },
        },
        Case {
            id: "C27",
            input: "`fit: {tol: -1}`",
            fails: true,
            expect: &["`fit.tol`", "must be a finite number ≥ 0"],
            run: |d| run_body(d, "fit: {tol: -1}\n"),
        },
        Case {
            id: "C28",
            input: "`fit: {max_iter: 18446744073709551615}`",
            fails: true,
            expect: &["`fit.max_iter`", "at most 1000000"],
            run: |d| run_body(d, "fit: {max_iter: 18446744073709551615, tol: 0}\n"),
        },
        Case {
            id: "C29",
            input: "the same file listed twice",
            fails: true,
            expect: &[
                "`datasets[1]`",
                "a second dataset named `d`",
                "give one of them a distinct `name`",
            ],
            run: |d| {
                run_config(
                    d,
                    &format!("datasets: [{{path: d.csv}}, {{path: d.csv}}]\n{FAST}"),
                )
            },
        },
        Case {
            id: "C30",
            input: "an unknown objective `auc`",
            fails: true,
            expect: &[
                "c.yaml",
                "unknown variant `auc`, expected one of `val_auc`, `val_cost`, `bic`, `cv_loglik`",
            ],
            run: |d| run_body(d, "objective: auc\n"),
        },
        Case {
            id: "C31",
            input: "`$GMMTUNE_REGISTRY` naming a missing file",
            fails: true,
            expect: &[
                "the registry named by $GMMTUNE_REGISTRY cannot be read",
                "nowhere.yaml: file not found",
                "unset it",
            ],
            run: |d| {
                data(d);
                std::fs::write(
                    d.join("c.yaml"),
                    format!("name: r\ndatasets: [wbc]\n{FAST}"),
                )
                .unwrap();
                cli_with(d, &["run", "c.yaml", "--out", "out"], |c| {
                    c.env("GMMTUNE_REGISTRY", "nowhere.yaml");
                })
            },
        },
        Case {
            id: "C32",
            input: "`registry: none.yaml` in a config",
            fails: true,
            expect: &["`registry`", "none.yaml: file not found"],
            run: |d| run_config(d, &format!("registry: none.yaml\ndatasets: [wbc]\n{FAST}")),
        },
        Case {
            id: "C33",
            input: "an empty config file",
            fails: true,
            expect: &["config c.yaml", "missing field `name`"],
            run: |d| {
                std::fs::write(d.join("c.yaml"), "\n").unwrap();
                cli(d, &["run", "c.yaml"])
            },
        },
        // ------------------------------------------------------------------ data files
        Case {
            id: "F01",
            input: "a cell that is not a number",
            fails: true,
            expect: &[
                "bad.csv, line 3, column `b`: not a number (cell text: \"oops\")",
                "list it in exclude_columns",
            ],
            run: |d| run_file(d, "bad.csv", b"a,b,label\n1,2,0\n3,oops,0\n"),
        },
        Case {
            id: "F02",
            input: "a row with a missing field",
            fails: true,
            expect: &["ragged.csv, line 3: expected 3 fields (as in the header) but found 2"],
            run: |d| run_file(d, "ragged.csv", b"a,b,label\n1,2,0\n3,4\n"),
        },
        Case {
            id: "F03",
            input: "a file without a header line",
            fails: true,
            expect: &[
                "nohead.csv, line 1: no header",
                "add a header line naming every column",
            ],
            run: |d| run_file(d, "nohead.csv", b"1,2,0\n3,4,1\n"),
        },
        Case {
            id: "F04",
            input: "an empty file",
            fails: true,
            expect: &["empty.csv: the file is empty"],
            run: |d| run_file(d, "empty.csv", b""),
        },
        Case {
            id: "F05",
            input: "a header and no rows",
            fails: true,
            expect: &["head.csv: the file has a header (line 1) but no data rows"],
            run: |d| run_file(d, "head.csv", b"a,b,label\n"),
        },
        Case {
            id: "F06",
            input: "a data file that does not exist",
            fails: true,
            expect: &["missing.csv: file not found"],
            run: |d| run_config(d, &format!("datasets: [{{path: missing.csv}}]\n{FAST}")),
        },
        Case {
            id: "F07",
            input: "a `.gz` file that is not gzip",
            fails: true,
            expect: &[
                "x.csv.gz: the name ends in .gz but the file does not start with the gzip magic bytes",
            ],
            run: |d| run_file(d, "x.csv.gz", b"a,b,label\n1,2,0\n"),
        },
        Case {
            id: "F08",
            input: "a gzip file cut short",
            fails: true,
            expect: &["cut.csv.gz"],
            run: |d| {
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                std::io::Write::write_all(&mut gz, common::dataset_text(300, true, 1).as_bytes())
                    .unwrap();
                let bytes = gz.finish().unwrap();
                run_file(d, "cut.csv.gz", &bytes[..bytes.len() / 2])
            },
        },
        Case {
            id: "F09",
            input: "two columns with the same name",
            fails: true,
            expect: &["dup.csv, line 1: duplicate column name `a` (columns 1 and 2)"],
            run: |d| run_file(d, "dup.csv", b"a,a,label\n1,2,0\n"),
        },
        Case {
            id: "F10",
            input: "an infinite cell",
            fails: true,
            expect: &["inf.csv, line 2, column `b`: infinite value is not allowed"],
            run: |d| run_file(d, "inf.csv", b"a,b,label\n1,inf,0\n"),
        },
        Case {
            id: "F11",
            input: "an excluded column the file lacks",
            fails: true,
            expect: &["d.csv: excluded column `time` not found; the columns are: a, b, label"],
            run: |d| {
                run_config(
                    d,
                    &format!("datasets: [{{path: d.csv, exclude_columns: [time]}}]\n{FAST}"),
                )
            },
        },
        Case {
            id: "F12",
            input: "`split: {method: column}` on a file without a `split` column",
            fails: true,
            expect: &[
                "dataset `d` (d.csv): split method `column` needs a split column",
                "add a column named `split`",
            ],
            run: |d| run_body(d, "protocol: {split: {method: column}}\n"),
        },
        Case {
            id: "F13",
            input: "a bad value in a `split` column",
            fails: true,
            expect: &[
                "s.csv, line 3, column `split`: bad split value \"later\"; expected train, validation (or val) or test",
            ],
            run: |d| run_file(d, "s.csv", b"a,label,split\n1,0,train\n2,0,later\n"),
        },
        // ------------------------------------------------------ journals and run directories
        Case {
            id: "J01",
            input: "a damaged line in the middle of `trials.jsonl`",
            fails: true,
            expect: &[
                "out/trials.jsonl, line 2: not a journal record",
                "restore it, or move the run directory away",
            ],
            run: |d| {
                finished_run(d);
                edit_trials(d, |l| l[1] = l[1].replacen(r#""bic":"#, r#""bic_":"#, 1));
                summarize(d)
            },
        },
        Case {
            id: "J02",
            input: "a last record cut off by an interruption",
            fails: false,
            expect: &[
                "warning: ",
                "out/trials.jsonl, line 5: dropped a record cut off by an interruption",
                "its trial runs again",
            ],
            run: |d| {
                finished_run(d);
                let path = d.join("out/trials.jsonl");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, &text[..text.len() - 40]).unwrap();
                summarize(d)
            },
        },
        Case {
            id: "J03",
            input: "a cut-off record, then `--resume`",
            fails: false,
            expect: &[
                "note: ",
                "out/trials.jsonl, line 5: dropped a record cut off by an interruption",
            ],
            run: |d| {
                finished_run(d);
                let path = d.join("out/trials.jsonl");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, &text[..text.len() - 40]).unwrap();
                std::fs::write(d.join("out/units.jsonl"), "").unwrap();
                resume(d)
            },
        },
        Case {
            id: "J04",
            input: "a record of an older journal format",
            fails: true,
            expect: &[
                "out/trials.jsonl, line 1: a record of journal format 1",
                "open it with the gmmtune that wrote it",
            ],
            run: |d| {
                finished_run(d);
                edit_trials(d, |l| {
                    l[0] = l[0].replacen(r#""format":2"#, r#""format":1"#, 1)
                });
                summarize(d)
            },
        },
        Case {
            id: "J05",
            input: "the same record twice",
            fails: false,
            expect: &[
                "warning: ",
                "out/trials.jsonl:6: the same record as out/trials.jsonl:1; kept once",
            ],
            run: |d| {
                finished_run(d);
                edit_trials(d, |l| {
                    let first = l[0].clone();
                    l.push(first);
                });
                summarize(d)
            },
        },
        Case {
            id: "J06",
            input: "two different records of one trial",
            fails: true,
            expect: &[
                "out/trials.jsonl:6 does not fit with out/trials.jsonl:1",
                "two different records of trial 0 of d / grid / seed 0",
            ],
            run: |d| {
                finished_run(d);
                edit_trials(d, |l| {
                    // Trial 0's record first, wherever the parallel grid wrote it.
                    let i = l.iter().position(|r| r.contains(r#""trial":0,"#)).unwrap();
                    l.swap(0, i);
                    let other = l[0].replacen(r#""reused":false"#, r#""reused":true"#, 1);
                    l.push(other);
                });
                summarize(d)
            },
        },
        Case {
            id: "J07",
            input: "two objectives within one unit",
            fails: true,
            expect: &["within one unit, objectives differ (val_auc and bic)"],
            run: |d| {
                finished_run(d);
                // Trial 1's record, wherever the parallel grid wrote it.
                edit_trials(d, |l| {
                    let i = l.iter().position(|r| r.contains(r#""trial":1,"#)).unwrap();
                    l[i] = l[i].replacen(r#""objective":"val_auc""#, r#""objective":"bic""#, 1);
                });
                summarize(d)
            },
        },
        Case {
            id: "J08",
            input: "a shard journal written by another run",
            fails: true,
            expect: &[
                "out/shards/0-of-2/trials.jsonl:1 does not fit with out/trials.jsonl:1",
                "run fingerprints differ",
            ],
            run: |d| {
                finished_run(d);
                let first = common::lines(&d.join("out/trials.jsonl"))[0].clone();
                let mut record: serde_json::Value = serde_json::from_str(&first).unwrap();
                record["context"]["run"] = "0123456789abcdef".into();
                std::fs::create_dir_all(d.join("out/shards/0-of-2")).unwrap();
                std::fs::write(
                    d.join("out/shards/0-of-2/trials.jsonl"),
                    format!("{record}\n"),
                )
                .unwrap();
                summarize(d)
            },
        },
        Case {
            id: "J09",
            input: "`--resume` of journals without `run.json`",
            fails: true,
            expect: &[
                "out holds journals but no run.json",
                "--resume --force to keep the old results as an earlier generation",
            ],
            run: |d| {
                finished_run(d);
                std::fs::remove_file(d.join("out/run.json")).unwrap();
                resume(d)
            },
        },
        Case {
            id: "J10",
            input: "`--resume` after the config changed",
            fails: true,
            expect: &[
                "out holds another run, so resuming would mix results",
                "config keys changed: strategies[1].budget.trials",
                "--resume --force",
            ],
            run: |d| {
                finished_run(d);
                let c = std::fs::read_to_string(d.join("c.yaml")).unwrap();
                std::fs::write(d.join("c.yaml"), c.replace("trials: 3", "trials: 4")).unwrap();
                resume(d)
            },
        },
        Case {
            id: "J11",
            input: "`--resume` after the data changed",
            fails: true,
            expect: &["dataset `d`: the data changed (sha256"],
            run: |d| {
                finished_run(d);
                let text = std::fs::read_to_string(d.join("d.csv")).unwrap();
                std::fs::write(d.join("d.csv"), text + "0.5,0.5,0\n").unwrap();
                resume(d)
            },
        },
        Case {
            id: "J12",
            input: "running again into a directory with results, without `--resume`",
            fails: true,
            expect: &[
                "out already holds the results of a run; pass --resume to continue it, or --out DIR",
            ],
            run: |d| {
                finished_run(d);
                cli(d, &["run", "c.yaml", "--out", "out", "--quiet"])
            },
        },
        Case {
            id: "J13",
            input: "a damaged `run.json`",
            fails: true,
            expect: &["out/run.json: not a run manifest"],
            run: |d| {
                finished_run(d);
                std::fs::write(d.join("out/run.json"), "{\"name\": \"r\"").unwrap();
                resume(d)
            },
        },
        Case {
            id: "J14",
            input: "`gmmtune summarize` of a directory that is not a run",
            fails: true,
            expect: &["elsewhere is not a run directory (no run.json)"],
            run: |d| {
                std::fs::create_dir_all(d.join("elsewhere")).unwrap();
                cli(d, &["summarize", "elsewhere"])
            },
        },
        // ------------------------------------------------------------- command-line flags
        Case {
            id: "L01",
            input: "`--force` without `--resume`",
            fails: true,
            expect: &[
                "the following required arguments were not provided",
                "--resume",
            ],
            run: |d| cli(d, &["run", "c.yaml", "--force"]),
        },
        Case {
            id: "L02",
            input: "`--jobs 0`",
            fails: true,
            expect: &["--jobs", "`0` is not a number of threads from 1 to 1024"],
            run: |d| cli(d, &["run", "c.yaml", "--jobs", "0"]),
        },
        Case {
            id: "L03",
            input: "`gmmtune fit --n-components 0`",
            fails: true,
            expect: &["invalid parameter `n_components` = 0: must be at least 1"],
            run: |d| {
                data(d);
                fit_model(d, &["--n-components", "0"])
            },
        },
        Case {
            id: "L04",
            input: "`gmmtune fit --covariance-type fuul`",
            fails: true,
            expect: &[
                "--covariance-type",
                "unknown covariance type `fuul` (expected full, tied, diag or spherical)",
            ],
            run: |d| {
                fit_model(d, &["--covariance-type", "fuul"])
            },
        },
        Case {
            id: "L05",
            input: "`gmmtune score` of a file with other columns than the model's",
            fails: true,
            expect: &["other.csv has features [x, y] but the model m.json was fitted on [a, b]"],
            run: |d| {
                data(d);
                let fit = fit_model(d, &[]);
                assert!(fit.status.success(), "{}", stderr(&fit));
                std::fs::write(d.join("other.csv"), "x,y\n1,2\n").unwrap();
                cli(
                    d,
                    &[
                        "score",
                        "--model",
                        "m.json",
                        "--data",
                        "other.csv",
                        "--output",
                        "s.csv",
                    ],
                )
            },
        },
        Case {
            id: "L06",
            input: "`gmmtune score` with a broken model file",
            fails: true,
            expect: &["m.json"],
            run: |d| {
                data(d);
                std::fs::write(
                    d.join("m.json"),
                    r#"{"covariance_type": "full", "weights": [1.0]}"#,
                )
                .unwrap();
                cli(
                    d,
                    &[
                        "score", "--model", "m.json", "--data", "d.csv", "--output", "s.csv",
                    ],
                )
            },
        },
        Case {
            id: "L07",
            input: "`gmmtune export` of a strategy the run does not have",
            fails: true,
            expect: &["out: no strategy `nope` in the run (it has: grid, random)"],
            run: |d| {
                finished_run(d);
                export_model(d, "nope")
            },
        },
        Case {
            id: "L08",
            input: "`gmmtune export` after the data file changed",
            fails: true,
            expect: &[
                "d.csv: the file changed since the run read it",
                "cannot be rebuilt from it",
            ],
            run: |d| {
                finished_run(d);
                let text = std::fs::read_to_string(d.join("d.csv")).unwrap();
                std::fs::write(d.join("d.csv"), text + "0.5,0.5,0\n").unwrap();
                export_model(d, "grid")
            },
        },
        Case {
            id: "L09",
            input: "`gmmtune export` of a run with several seeds, without `--seed`",
            fails: true,
            expect: &["d / grid ran under seeds 1, 2: choose one with --seed"],
            run: |d| {
                let out = run_body(d, "seeds: [1, 2]\n");
                assert!(out.status.success(), "{}", stderr(&out));
                export_model(d, "grid")
            },
        },
    ]
}

/// Runs the cases whose id starts with `prefix`; every failure is reported at once.
fn check(prefix: &str) {
    let mut failures = Vec::new();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.id.starts_with(prefix))
        .collect();
    assert!(!cases.is_empty());
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let out = (case.run)(dir.path());
        let msg = stderr(&out);
        let mut problems = Vec::new();
        if out.status.success() == case.fails {
            problems.push(format!("exit status {:?}", out.status.code()));
        }
        if msg.contains("panicked") {
            problems.push("a panic".to_string());
        }
        for part in case.expect {
            if !msg.contains(part) {
                problems.push(format!("no `{part}`"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({}): {}\n{msg}",
                case.id,
                case.input,
                problems.join(", ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn bad_configs_get_a_message_naming_the_key() {
    check("C");
}

#[test]
fn bad_data_files_get_a_message_naming_the_file_line_and_column() {
    check("F");
}

#[test]
fn damaged_journals_and_run_directories_are_named_never_read_silently() {
    check("J");
}

#[test]
fn bad_command_line_flags_get_a_message_naming_the_flag() {
    check("L");
}

/// The rows of the README's Reliability table, by case id.
fn readme_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let section = readme
        .split("\n## Reliability")
        .nth(1)
        .expect("README has a Reliability section");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|line| {
            let id = line.strip_prefix("| ")?.split(' ').next()?;
            let is_id = id.len() == 3
                && id.as_bytes()[0].is_ascii_uppercase()
                && id[1..].bytes().all(|b| b.is_ascii_digit());
            is_id.then(|| (id.to_string(), line.to_string()))
        })
        .collect()
}

#[test]
fn the_readme_table_lists_every_case_with_its_message() {
    let rows = readme_rows();
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        match rows.iter().find(|(id, _)| id == case.id) {
            None => problems.push(format!("{} is not in the README table", case.id)),
            Some((_, row)) => {
                for part in case.expect {
                    if !row.contains(part) {
                        problems.push(format!("{}: the README row lacks `{part}`", case.id));
                    }
                }
            }
        }
    }
    for (id, _) in &rows {
        if !cases.iter().any(|c| c.id == id) {
            problems.push(format!("README row {id} has no test"));
        }
    }
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), cases.len(), "case ids are unique");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Prints the table rows with the messages as they are now (`cargo test --release --test
/// reliability -- --ignored --nocapture`), to refresh the README after a message changes.
#[test]
#[ignore]
fn print_the_readme_rows() {
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        let out = (case.run)(dir.path());
        let msg = stderr(&out);
        let text: Vec<&str> = msg
            .lines()
            .filter(|l| {
                !l.trim().is_empty() && !l.starts_with("Usage") && !l.starts_with("For more")
            })
            .map(|l| l.trim().trim_start_matches("error: "))
            .collect();
        println!("| {} | {} | {} |", case.id, case.input, text.join(" "));
    }
}
