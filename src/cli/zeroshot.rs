//! `gmmtune mine` and `gmmtune lofo`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use gmmtune::config::RunConfig;
use gmmtune::run::{jobs, prepare_run, run_prepared, write_summary, RunOptions};
use gmmtune::zeroshot::lofo::{evaluate, standard_variants, LofoOptions};
use gmmtune::zeroshot::mine::{mine, MineOptions};
use gmmtune::zeroshot::regret::Score;
use gmmtune::zeroshot::report::write_tables;
use gmmtune::zeroshot::runs::load_evidence;

use super::progress::make_progress;

/// The variant `gmmtune lofo` reports as `zeroshot` unless told otherwise: the label-free
/// variant the shipped evaluation found best (`reports/zeroshot/summary.md`).
pub const DEFAULT_HEADLINE: &str = "zs_rules_k3_cv";

#[derive(Debug, Args)]
pub struct MineArgs {
    /// Run directories whose trials are mined (a grid over one space on every dataset).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where to write the portfolio (YAML).
    #[arg(long)]
    output: PathBuf,
    /// Figures regrets are measured in: val_auc (mining reads no test labels) or test_auc.
    #[arg(long, default_value = "val_auc", value_parser = parse_score)]
    score: Score,
    /// FLAML's regret bound of the greedy portfolio (AUC).
    #[arg(long, default_value_t = gmmtune::zeroshot::mine::DEFAULT_REGRET_BOUND)]
    regret_bound: f64,
    /// Meta-features the distance between datasets uses (default: all).
    #[arg(long, value_delimiter = ',')]
    distance: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LofoArgs {
    /// The run config (grid and a tuned search over the datasets; configs/zeroshot.yaml).
    config: PathBuf,
    /// Output directory (default reports/<run name>); the run itself goes to its `run/`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the portfolio mined on every dataset here (configs/best_practice.yaml).
    #[arg(long)]
    portfolio_out: Option<PathBuf>,
    /// The variant reported as `zeroshot`.
    #[arg(long, default_value = DEFAULT_HEADLINE)]
    headline: String,
    /// The strategy of the config that tunes with validation labels.
    #[arg(long, default_value = "cfo")]
    tuned: String,
    /// Worker threads (default: the config's `jobs`, else all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    /// Do not run: evaluate the datasets whose units the run in DIR/run has finished (the
    /// others are named in the tables as left out).
    #[arg(long)]
    no_run: bool,
}

fn parse_score(s: &str) -> Result<Score, String> {
    match s {
        "val_auc" => Ok(Score::ValAuc),
        "test_auc" => Ok(Score::TestAuc),
        _ => Err(format!("`{s}`: expected val_auc or test_auc")),
    }
}

fn mine_options(
    score: Score,
    regret_bound: f64,
    distance: &[String],
) -> anyhow::Result<MineOptions> {
    if !(regret_bound >= 0.0 && regret_bound.is_finite()) {
        anyhow::bail!("--regret-bound must be a finite number >= 0, got {regret_bound}");
    }
    let mut options = MineOptions {
        score,
        regret_bound,
        ..MineOptions::default()
    };
    if !distance.is_empty() {
        let names = gmmtune::zeroshot::meta_features::META_FEATURE_NAMES;
        if let Some(bad) = distance.iter().find(|d| !names.contains(&d.as_str())) {
            anyhow::bail!(
                "--distance: `{bad}` is not a meta-feature (they are {})",
                names.join(", ")
            );
        }
        options.distance = distance.to_vec();
    }
    Ok(options)
}

pub fn mine_command(args: MineArgs) -> anyhow::Result<ExitCode> {
    let options = mine_options(args.score, args.regret_bound, &args.distance)?;
    let evidence = load_evidence(&args.runs)?;
    let all: Vec<usize> = (0..evidence.datasets.len()).collect();
    let portfolio = mine(&evidence, &all, &options)?;
    portfolio.save(&args.output)?;
    let best = &portfolio.configs[portfolio.best_practice];
    eprintln!(
        "mined {} datasets ({} families, seeds {:?}) from {} candidates: best practice {} (mean regret {:.4}); portfolio of {} written to {}",
        portfolio.provenance.datasets.len(),
        portfolio.provenance.families.len(),
        portfolio.provenance.seeds,
        portfolio.provenance.candidates,
        best.config,
        best.mean_regret,
        portfolio.configs.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

pub fn lofo_command(args: LofoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = RunConfig::load(&args.config)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&config.name));
    let run_dir = out.join("run");
    if !args.no_run {
        let options = RunOptions {
            out_dir: Some(run_dir.clone()),
            resume: true,
            force: false,
            jobs: args.jobs,
            shard: None,
        };
        let jobs = jobs(&config, &options);
        let prepared = prepare_run(config.clone(), &options)?;
        if !args.quiet {
            eprintln!(
                "lofo: running (or resuming) {} on {jobs} thread(s) -> {}",
                args.config.display(),
                run_dir.display()
            );
        }
        let progress = make_progress(args.quiet);
        let outcome = run_prepared(&prepared, jobs, &AtomicBool::new(false), progress.as_ref())?;
        progress.finish();
        write_summary(&run_dir)?;
        anyhow::ensure!(!outcome.interrupted, "the run was interrupted");
    }
    let run_seconds = started.elapsed().as_secs_f64();
    let evaluation_started = Instant::now();
    let mut evidence = load_evidence(std::slice::from_ref(&run_dir))?;
    // Only datasets whose every unit finished are evaluated.
    let journal = gmmtune::journal::RunJournal::load(&run_dir)?;
    let strategies: Vec<String> = config.strategies.iter().map(|s| s.name.clone()).collect();
    let finished = |d: &str| {
        config.seeds.iter().all(|&seed| {
            strategies.iter().all(|s| {
                journal
                    .units
                    .iter()
                    .any(|u| u.unit.dataset == d && u.unit.seed == seed && &u.unit.strategy == s)
            })
        })
    };
    let left_out: Vec<String> = config
        .datasets
        .iter()
        .map(|d| d.display_name())
        .filter(|d| !finished(d))
        .collect();
    evidence.datasets.retain(|d| finished(&d.name));
    if !left_out.is_empty() {
        eprintln!(
            "lofo: {} dataset(s) have unfinished units and are left out: {}",
            left_out.len(),
            left_out.join(", ")
        );
    }
    let lofo_options = LofoOptions {
        mine: MineOptions::default(),
        variants: standard_variants(),
        headline: args.headline.clone(),
        tuned: args.tuned.clone(),
    };
    let result = evaluate(&evidence, &lofo_options)?;
    let all: Vec<usize> = (0..evidence.datasets.len()).collect();
    let portfolio = mine(&evidence, &all, &lofo_options.mine)?;
    let portfolio_path = out.join("best_practice.yaml");
    portfolio.save(&portfolio_path)?;
    copy(&args.config, &out.join("config.yaml"))?;
    // Fit seconds of every configuration measured once (a reused record carries its fit's).
    let mut fitted = std::collections::BTreeMap::new();
    for t in gmmtune::journal::RunJournal::load(&run_dir)?.trials {
        fitted
            .entry((t.unit.dataset.clone(), t.unit.seed, t.config.signature()))
            .or_insert(t.fit_seconds);
    }
    let left_out_note = if left_out.is_empty() {
        String::new()
    } else {
        format!(
            "; left out, their units unfinished: {}",
            left_out.join(", ")
        )
    };
    let wall = format!(
        "this call: run {:.0} s (a resumed run counts only what was left), evaluation {:.0} s; {} configurations fitted, {:.0} fit seconds in all (with CV folds)",
        run_seconds,
        evaluation_started.elapsed().as_secs_f64(),
        fitted.len(),
        fitted.values().sum::<f64>()
    ) + &left_out_note;
    let command = format!(
        "gmmtune lofo {}{}",
        args.config.display(),
        args.out
            .as_ref()
            .map_or(String::new(), |o| format!(" --out {}", o.display()))
    );
    let tables = write_tables(&out, &result, &portfolio, &command, &wall)?;
    if let Some(path) = &args.portfolio_out {
        copy(&portfolio_path, path)?;
    }
    println!(
        "{:<18} {:>6} {:>9} {:>8} {:>8} {:>9}",
        "method", "labels", "test_auc", "seed_sd", "regret", "cost_q"
    );
    for m in &tables.methods {
        println!(
            "{:<18} {:>6} {:>9.4} {:>8.4} {:>8.4} {:>9.3}",
            m.method,
            if m.label_free { "none" } else { "val" },
            m.mean_test_auc,
            m.seed_spread,
            m.mean_regret,
            m.mean_cost_ratio_quantile
        );
    }
    eprintln!("{wall}; tables in {}", out.display());
    Ok(ExitCode::SUCCESS)
}
