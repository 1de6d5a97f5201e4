//! `gmmtune run`, `gmmtune summarize` and `gmmtune datasets`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::Context;
use gmmtune::config::RunConfig;
use gmmtune::data::Registry;
use gmmtune::report::summary::SummaryRow;
use gmmtune::run::{
    execute_prepared, jobs, load_datasets, open_run_dir, strategy_names,
    write_summary_from_journal, RunOptions,
};
use gmmtune::search::journal::{read_records, TrialRecord, TRIALS_FILE};

use super::progress::make_progress;
use super::RunArgs;

/// Exit code of an interrupted run (128 + SIGINT), as shells use.
const INTERRUPTED: u8 = 130;

fn install_interrupt_handler() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: leave at once.
            std::process::exit(i32::from(INTERRUPTED));
        }
        eprintln!("\ninterrupted: keeping finished trials, writing the summary (Ctrl-C again to quit at once)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(flag)
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let configs = args
        .configs
        .iter()
        .map(|path| RunConfig::load(path).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let interrupt = install_interrupt_handler()?;
    for config in configs {
        let out_dir = match (&args.out, args.configs.len()) {
            (Some(out), 1) => Some(out.clone()),
            (Some(out), _) => Some(out.join(&config.name)),
            (None, _) => None,
        };
        let options = RunOptions {
            out_dir,
            resume: args.resume,
            force: args.force,
            jobs: args.jobs,
        };
        if !run_one(config, options, args.quiet, &interrupt)? {
            return Ok(ExitCode::from(INTERRUPTED));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_resume_hint(options: &RunOptions) {
    eprintln!(
        "run interrupted: resume with `gmmtune run <config> --resume`{}",
        if options.out_dir.is_some() {
            " --out <same dir>"
        } else {
            ""
        }
    );
}

/// Runs one config; `false` when it was interrupted.
fn run_one(
    config: RunConfig,
    options: RunOptions,
    quiet: bool,
    interrupt: &Arc<AtomicBool>,
) -> anyhow::Result<bool> {
    let datasets = load_datasets(&config)?;
    let dir = open_run_dir(&config, &options)?;
    let jobs = jobs(&config, &options);
    let dataset_order: Vec<String> = datasets.iter().map(|d| d.name.clone()).collect();
    let strategy_order = strategy_names(&config);
    if !quiet {
        eprintln!(
            "run `{}`: {} dataset(s) × {} strateg{} on {jobs} thread(s) -> {}",
            config.name,
            datasets.len(),
            config.strategies.len(),
            if config.strategies.len() == 1 {
                "y"
            } else {
                "ies"
            },
            dir.display()
        );
    }
    let (sender, receiver) = mpsc::channel();
    let worker_interrupt = Arc::clone(interrupt);
    let worker_dir = dir.clone();
    let handle = std::thread::spawn(move || {
        let progress = make_progress(quiet);
        let result = execute_prepared(
            &config,
            &datasets,
            &worker_dir,
            jobs,
            &worker_interrupt,
            progress.as_ref(),
        );
        progress.finish();
        let _ = sender.send(result);
    });
    loop {
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(result) => {
                let _ = handle.join();
                let report = result?;
                print_summary(&report.summary, &report.dir);
                // The driver may see the interrupt and stop before this loop does.
                if report.outcome.interrupted {
                    print_resume_hint(&options);
                }
                return Ok(!report.outcome.interrupted);
            }
            Err(mpsc::RecvTimeoutError::Timeout) if interrupt.load(Ordering::SeqCst) => {
                // Running trials are abandoned; the journal holds every finished one.
                let rows = write_summary_from_journal(&dir, &dataset_order, &strategy_order)?;
                print_summary(&rows, &dir);
                print_resume_hint(&options);
                return Ok(false);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                anyhow::bail!(
                    "the run stopped unexpectedly; finished trials are in {}",
                    dir.display()
                );
            }
        }
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

fn print_summary(rows: &[SummaryRow], dir: &Path) {
    println!(
        "{:<18} {:<10} {:>6} {:>4} {:>4} {:<10} {:>9} {:<16} {:>8} {:>8} {:>10} {:>10}",
        "dataset",
        "strategy",
        "trials",
        "fail",
        "K",
        "cov",
        "reg_covar",
        "init",
        "val_auc",
        "test_auc",
        "val_cost",
        "test_cost"
    );
    for row in rows {
        let Some(sel) = &row.selected else {
            println!(
                "{:<18} {:<10} {:>6} {:>4}  (no successful trial)",
                row.dataset, row.strategy, row.trials, row.failed
            );
            continue;
        };
        let m = sel.metrics.clone().unwrap_or_default();
        println!(
            "{:<18} {:<10} {:>6} {:>4} {:>4} {:<10} {:>9.1e} {:<16} {:>8} {:>8} {:>10} {:>10}",
            row.dataset,
            row.strategy,
            row.trials,
            row.failed,
            sel.config.n_components,
            sel.config.covariance_type.as_str(),
            sel.config.reg_covar,
            sel.config.init.as_str(),
            fmt(m.val_auc),
            fmt(m.test_auc),
            m.val_cost,
            m.test_cost
        );
    }
    println!("results: {}", dir.display());
}

pub fn summarize(dir: &Path) -> anyhow::Result<ExitCode> {
    let trials: Vec<TrialRecord> = read_records(&dir.join(TRIALS_FILE))?;
    if trials.is_empty() {
        anyhow::bail!(
            "{} holds no trials ({} is missing or empty)",
            dir.display(),
            TRIALS_FILE
        );
    }
    let rows = write_summary_from_journal(dir, &[], &[])?;
    print_summary(&rows, dir);
    Ok(ExitCode::SUCCESS)
}

pub fn list_datasets(registry: &Path) -> anyhow::Result<ExitCode> {
    let registry = Registry::load(registry)?;
    println!(
        "{:<18} {:>8} {:>8} {:>9}  {:<8} {:<18}",
        "name", "rows", "features", "anomaly%", "ordered", "family"
    );
    for e in registry.entries() {
        println!(
            "{:<18} {:>8} {:>8} {:>9.2}  {:<8} {:<18}",
            e.name, e.rows, e.features, e.anomaly_pct, e.ordered, e.family
        );
    }
    Ok(ExitCode::SUCCESS)
}
