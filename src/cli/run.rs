//! `gmmtune run` (its report rebuilt as units finish), `gmmtune summarize`, `gmmtune export`
//! and `gmmtune datasets`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::Context;
use gmmtune::config::RunConfig;
use gmmtune::data::{CacheUse, Registry};
use gmmtune::plan::Shard;
use gmmtune::report::summary::SummaryRow;
use gmmtune::run::{export_selected, jobs, prepare_run, run_prepared, write_summary, RunOptions};

use super::progress::make_progress;
use super::report::LiveReport;
use super::{ExportArgs, RunArgs};

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
    if !(args.report_every.is_finite() && args.report_every >= 0.0) {
        anyhow::bail!(
            "--report-every {}: give the seconds between report rebuilds as a number >= 0",
            args.report_every
        );
    }
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
        let shard = match args.shard {
            Some(shard) => Some(shard),
            None => match Shard::from_slurm_env() {
                Some(found) => {
                    let shard = found.map_err(|e| anyhow::anyhow!("{e}"))?;
                    eprintln!(
                        "shard {shard} of the Slurm array task (SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT); pass --shard 0/1 to run everything"
                    );
                    Some(shard)
                }
                None => None,
            },
        };
        let options = RunOptions {
            out_dir,
            resume: args.resume,
            force: args.force,
            jobs: args.jobs,
            shard: shard.filter(|s| s.count > 1),
        };
        if !run_one(config, options, args.quiet, args.report_every, &interrupt)? {
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

/// Runs one config; `false` when it was interrupted. The run's work goes on in a thread; this
/// thread alone writes the summary, when that thread returns or, after Ctrl-C, at once (trials
/// still running are abandoned; the journal holds every finished one), and alone writes the
/// report: rebuilt as units finish (throttled, see [`LiveReport`]) and once at the end.
fn run_one(
    config: RunConfig,
    options: RunOptions,
    quiet: bool,
    report_every: f64,
    interrupt: &Arc<AtomicBool>,
) -> anyhow::Result<bool> {
    let jobs = jobs(&config, &options);
    let prepared = prepare_run(config, &options)?;
    let dir = prepared.dir().to_path_buf();
    let run_dir = prepared.run_dir.clone();
    if !quiet {
        let c = &prepared.config;
        eprintln!(
            "run `{}`: {} dataset(s) × {} seed(s) × {} strateg{} on {jobs} thread(s) -> {}",
            c.name,
            c.datasets.len(),
            c.seeds.len(),
            c.strategies.len(),
            if c.strategies.len() == 1 { "y" } else { "ies" },
            dir.display()
        );
        if let Some(registry) = &prepared.plan.registry {
            eprintln!("registry: {}", registry.display());
        }
        for loaded in &prepared.datasets {
            let name = &prepared.plan.datasets[loaded.index].name;
            match &loaded.cache {
                CacheUse::Off => {}
                CacheUse::Hit => eprintln!("dataset `{name}`: columns read from the table cache"),
                CacheUse::Written { replaced: None } => {
                    eprintln!("dataset `{name}`: parsed, columns written to the table cache")
                }
                CacheUse::Written {
                    replaced: Some(why),
                } => eprintln!(
                    "dataset `{name}`: cache entry not used ({why}); parsed and rewritten"
                ),
                CacheUse::NotWritten { reason } => {
                    eprintln!("warning: dataset `{name}`: table cache not written: {reason}")
                }
            }
        }
    }
    // Notes say what was read or changed (a dropped record, an archived generation): shown
    // even with --quiet, which only silences the progress display.
    for note in prepared
        .plan
        .datasets
        .iter()
        .filter_map(|d| d.note.as_ref())
        .chain(&prepared.opened.notes)
    {
        eprintln!("note: {note}");
    }
    let (sender, receiver) = mpsc::channel();
    let worker_interrupt = Arc::clone(interrupt);
    let handle = std::thread::spawn(move || {
        let progress = make_progress(quiet);
        let result = run_prepared(&prepared, jobs, &worker_interrupt, progress.as_ref());
        progress.finish();
        let _ = sender.send(result);
    });
    let mut live = LiveReport::new(&dir, quiet, report_every);
    let interrupted = loop {
        live.tick();
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(result) => {
                let _ = handle.join();
                // The driver may see the interrupt and stop before this loop does.
                break result?.interrupted;
            }
            Err(mpsc::RecvTimeoutError::Timeout) if interrupt.load(Ordering::SeqCst) => {
                break true;
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
    };
    let (rows, warnings) = write_summary(&dir)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    print_summary(&rows, &dir);
    live.finish()?;
    if interrupted {
        print_resume_hint(&options);
    }
    if let Some(shard) = options.shard {
        eprintln!(
            "shard {shard} done; once every shard is, combine them with `gmmtune merge {}`",
            run_dir.display()
        );
    }
    Ok(!interrupted)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

fn fmt_cost(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

pub(super) fn print_summary(rows: &[SummaryRow], dir: &Path) {
    println!(
        "{:<18} {:<16} {:>4} {:>6} {:>4} {:>4} {:<10} {:>9} {:<16} {:>8} {:>8} {:>10} {:>10}",
        "dataset",
        "strategy",
        "seed",
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
        let u = &row.unit;
        let Some(sel) = &row.selected else {
            println!(
                "{:<18} {:<16} {:>4} {:>6} {:>4}  (no successful trial)",
                u.dataset, u.strategy, u.seed, row.trials, row.failed
            );
            continue;
        };
        let m = sel.metrics.clone().unwrap_or_default();
        println!(
            "{:<18} {:<16} {:>4} {:>6} {:>4} {:>4} {:<10} {:>9.1e} {:<16} {:>8} {:>8} {:>10} {:>10}",
            u.dataset,
            u.strategy,
            u.seed,
            row.trials,
            row.failed,
            sel.config.n_components,
            sel.config.covariance_type.as_str(),
            sel.config.reg_covar,
            sel.config.init.as_str(),
            fmt(m.val_auc),
            fmt(m.test_auc),
            fmt_cost(m.val_cost),
            fmt_cost(m.test_cost)
        );
    }
    println!("results: {}", dir.display());
}

pub fn summarize(dir: &Path) -> anyhow::Result<ExitCode> {
    let (rows, warnings) = write_summary(dir)?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    if rows.is_empty() {
        anyhow::bail!(
            "{} holds no trials yet (its journal is empty)",
            dir.display()
        );
    }
    print_summary(&rows, dir);
    Ok(ExitCode::SUCCESS)
}

pub fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let exported = export_selected(&args.dir, &args.dataset, &args.strategy, args.seed)?;
    exported.model.save(&args.output)?;
    let r = &exported.record;
    let m = &exported.metrics;
    eprintln!(
        "{}: trial {} ({}) rebuilt with fit seed {}; it measures as journaled: val AUC {}, test AUC {}, val cost {}, test cost {}",
        r.unit,
        r.trial,
        r.config,
        r.fit_seed,
        fmt(m.val_auc),
        fmt(m.test_auc),
        fmt_cost(m.val_cost),
        fmt_cost(m.test_cost)
    );
    if let Some(parts) = &args.parts {
        write_parts(parts, &exported.prepared)?;
        eprintln!("rows by part written to {}", parts.display());
    }
    eprintln!(
        "model written to {} (score rows with `gmmtune score --model {}`; its standardiser is the run's)",
        args.output.display(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `row,part,anomaly` for every row of the split, in row order.
fn write_parts(path: &Path, prepared: &gmmtune::data::Prepared) -> anyhow::Result<()> {
    let mut rows: Vec<(usize, &str, bool)> = Vec::new();
    for (name, part) in [
        ("train", &prepared.train),
        ("validation", &prepared.validation),
        ("test", &prepared.test),
    ] {
        rows.extend(
            part.rows
                .iter()
                .zip(&part.labels)
                .map(|(&r, &l)| (r, name, l)),
        );
    }
    rows.sort();
    let mut writer =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    writer.write_record(["row", "part", "anomaly"])?;
    for (row, part, label) in rows {
        writer.write_record([
            row.to_string(),
            part.to_string(),
            u8::from(label).to_string(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

pub fn list_datasets(registry: Option<&Path>) -> anyhow::Result<ExitCode> {
    let path = match registry {
        Some(p) => p.to_path_buf(),
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            match Registry::discover(&[cwd]) {
                (Some(p), _) => p,
                (None, tried) => anyhow::bail!(
                    "no dataset registry found (looked for {}); pass --registry FILE or set GMMTUNE_REGISTRY",
                    tried
                        .iter()
                        .take(4)
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let registry = Registry::load(&path)?;
    println!("registry: {}", path.display());
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
