//! Command-line interface: argument parsing, progress display and exit codes.

mod fit;
mod plot;
mod progress;
mod report;
mod run;
mod score;
mod select;
mod shards;
mod zeroshot;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gmmtune::explore::{Criterion, ThresholdRule};
use gmmtune::gmm::{CovarianceType, InitMethod};
use gmmtune::plan::Shard;

/// AutoML for Gaussian-mixture anomaly detection.
#[derive(Debug, Parser)]
#[command(name = "gmmtune", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the searches of one or more YAML configs; results go to reports/<run name>/.
    Run(RunArgs),
    /// Fit one Gaussian mixture on a CSV or CSV.gz file and save it as JSON.
    Fit(FitArgs),
    /// Score the rows of a CSV or CSV.gz file with a saved model (and flag anomalies).
    Score(ScoreArgs),
    /// Draw a saved model on a data file: density, components, uncertainty, anomalies, convergence.
    Plot(PlotArgs),
    /// Fit candidate sizes and covariance types; tabulate and plot BIC, AIC and held-out log-likelihood.
    Select(SelectArgs),
    /// Recompute summary.json and summary.csv of a run directory from its journal.
    Summarize {
        /// The run directory (e.g. reports/quickstart).
        dir: PathBuf,
    },
    /// Rebuild report.html, report.md, plots/ and tables/ of a run directory from its journal.
    Report(ReportArgs),
    /// One comparative report over the common datasets of several runs.
    Compare(CompareArgs),
    /// Rebuild the model a unit of a run selected (same data, split, standardiser and seed).
    Export(ExportArgs),
    /// Combine the shards of a sharded run: the run's manifest and summary over all shards.
    Merge {
        /// The run directory.
        dir: PathBuf,
    },
    /// Say which units of a run are done, running, stopped or missing (and on which shard).
    Status {
        /// The run directory.
        dir: PathBuf,
    },
    /// Write (and with --submit, submit) Slurm scripts that run a config as a job array of
    /// shards, then merge them.
    Slurm(SlurmArgs),
    /// Mine a best-practice portfolio (YAML) from the trials of runs over many datasets.
    Mine(zeroshot::MineArgs),
    /// Leave one family out: run a config, mine on all families but one, apply to the held-out
    /// one, for every family; write the tables and the portfolio mined on every dataset.
    Lofo(zeroshot::LofoArgs),
    /// List the datasets of the registry.
    Datasets {
        /// Registry file (default: the one `run` finds: $GMMTUNE_REGISTRY, else
        /// datasets/registry.yaml here or in a parent directory).
        #[arg(long)]
        registry: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The run directory (e.g. reports/quickstart).
    dir: PathBuf,
    /// Leave out the ROC and cost curves (they refit each selected model from its data).
    #[arg(long)]
    no_curves: bool,
    /// Add the zero-shot evaluation's tables from this directory (e.g. reports/zeroshot).
    #[arg(long)]
    zeroshot: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The run directories (two or more; several groups, or several configs).
    #[arg(required = true, num_args = 2..)]
    dirs: Vec<PathBuf>,
    /// Where to write the comparative report.
    #[arg(long)]
    out: PathBuf,
    /// Leave out the ROC and cost curves.
    #[arg(long)]
    no_curves: bool,
    /// Add the zero-shot evaluation's tables from this directory.
    #[arg(long)]
    zeroshot: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The run directory.
    dir: PathBuf,
    /// Dataset of the unit.
    #[arg(long)]
    dataset: String,
    /// Strategy of the unit.
    #[arg(long)]
    strategy: String,
    /// Seed of the unit (needed when the run has several).
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the model (JSON, as `gmmtune fit` writes).
    #[arg(long)]
    output: PathBuf,
    /// Also write which part (train, validation, test) each row of the data file is in.
    #[arg(long)]
    parts: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Config files.
    #[arg(required = true)]
    configs: Vec<PathBuf>,
    /// Run directory (with several configs: a parent directory, one sub-directory per run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue an interrupted run: finished trials are kept, the rest run.
    #[arg(long)]
    resume: bool,
    /// With --resume, when the directory holds another run (a changed config or data): keep
    /// its results as an earlier generation (reused where identical) and start a new one.
    #[arg(long, requires = "resume")]
    force: bool,
    /// Worker threads, 1 to 1024 (default: the config's `jobs`, else all cores).
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    /// Run only shard I of N (0 ≤ I < N) into shards/I-of-N/ of the run directory; inside a
    /// Slurm array job the shard comes from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT unless
    /// given (`--shard 0/1` runs everything).
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Rebuild report.html at most every SECONDS while units finish (and at least five times
    /// the last build's duration apart); the final report is written when the run stops.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    report_every: f64,
}

#[derive(Debug, Args)]
struct SlurmArgs {
    /// The config to run.
    config: PathBuf,
    /// Number of array tasks (shards).
    #[arg(long)]
    array: usize,
    /// Run directory (default reports/<run name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Time limit of each task, in Slurm's format (e.g. 02:00:00).
    #[arg(long)]
    time: Option<String>,
    /// CPUs of each task (also gmmtune's --jobs).
    #[arg(long, default_value_t = 2)]
    cpus_per_task: usize,
    /// Memory of each task, in Slurm's format (e.g. 8G).
    #[arg(long)]
    mem: Option<String>,
    /// Submit the scripts with sbatch (the merge job after the whole array, afterok).
    #[arg(long)]
    submit: bool,
}

#[derive(Debug, Args)]
struct DataArgs {
    /// Input CSV or CSV.gz file with a header row.
    #[arg(long)]
    data: PathBuf,
    /// Label column, left out of the features when present.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Other columns to leave out (timestamps, ids); repeat or separate by commas.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
}

/// The EM settings `fit` and `select` share (scikit-learn's defaults).
#[derive(Debug, Args)]
struct EmArgs {
    /// Non-negative regularisation added to the covariance diagonals.
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    reg_covar: f64,
    /// kmeans, k-means++, random or random_from_data.
    #[arg(long, default_value = "kmeans", value_parser = parse_init)]
    init: InitMethod,
    /// Initialisations per fit; the best lower bound wins.
    #[arg(long, default_value_t = 1)]
    n_init: usize,
    /// Maximum EM iterations.
    #[arg(long, default_value_t = 100)]
    max_iter: usize,
    /// Convergence threshold on the mean log-likelihood.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    tol: f64,
    /// Seed of the initialisation (of every fit).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Standardise the features (mean 0, scale 1) and store the transform in the model.
    #[arg(long)]
    standardize: bool,
}

#[derive(Debug, Args)]
struct FitArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the model (JSON).
    #[arg(long)]
    output: PathBuf,
    /// Number of mixture components.
    #[arg(long, default_value_t = 1)]
    n_components: usize,
    /// full, tied, diag or spherical.
    #[arg(long, default_value = "full", value_parser = parse_covariance)]
    covariance_type: CovarianceType,
    #[command(flatten)]
    em: EmArgs,
}

#[derive(Debug, Args)]
struct ScoreArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Model written by `gmmtune fit`.
    #[arg(long)]
    model: PathBuf,
    /// Where to write the scores (CSV).
    #[arg(long)]
    output: PathBuf,
    /// Flag anomalies (an `anomaly` 0/1 column): a score, quantile:Q of the training scores
    /// (e.g. quantile:0.99) or cost (the cost-optimal threshold on labelled rows).
    #[arg(long, value_parser = parse_threshold, allow_hyphen_values = true)]
    threshold: Option<ThresholdRule>,
    #[command(flatten)]
    cost: CostArgs,
}

/// The cost model of `--threshold cost`.
#[derive(Debug, Args)]
struct CostArgs {
    /// Cost of a false alarm (with --threshold cost).
    #[arg(long, default_value_t = 1.0)]
    c_alarm: f64,
    /// Cost of a missed anomaly (with --threshold cost).
    #[arg(long, default_value_t = 5.0)]
    c_missed: f64,
    /// Rows an alarm may be away from an anomaly and still catch it (with --threshold cost).
    #[arg(long, default_value_t = 0)]
    tolerance: usize,
}

#[derive(Debug, Args)]
struct PlotArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Model written by `gmmtune fit` or `gmmtune select`.
    #[arg(long)]
    model: PathBuf,
    /// Directory for the SVG files (created if missing).
    #[arg(long)]
    output: PathBuf,
    /// Rows flagged on the anomaly chart: a score, quantile:Q of the training scores or cost.
    #[arg(long, default_value = "quantile:0.99", value_parser = parse_threshold, allow_hyphen_values = true)]
    threshold: ThresholdRule,
    #[command(flatten)]
    cost: CostArgs,
    /// Draw two-feature models in their standardised units instead of the data's.
    #[arg(long)]
    model_units: bool,
    /// Cells per side of the density grid.
    #[arg(long, default_value_t = 100)]
    grid: usize,
}

#[derive(Debug, Args)]
struct SelectArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Directory for the table, the charts and the selected model (created if missing).
    #[arg(long)]
    output: PathBuf,
    /// Candidate sizes: a range 1..8 (inclusive), or a list 1,2,4,8.
    #[arg(long, default_value = "1..8")]
    n_components: String,
    /// Candidate covariance types (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "full,tied,diag,spherical", value_parser = parse_covariance)]
    covariance_type: Vec<CovarianceType>,
    /// bic, aic or cv (held-out log-likelihood): which one picks the saved model.
    #[arg(long, default_value = "bic")]
    criterion: Criterion,
    /// Folds of the held-out log-likelihood.
    #[arg(long, default_value_t = 5)]
    cv_folds: usize,
    #[command(flatten)]
    em: EmArgs,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    let max = gmmtune::config::MAX_JOBS;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number of threads from 1 to {max} (leave --jobs out for all cores)"
        )),
    }
}

fn parse_covariance(s: &str) -> Result<CovarianceType, String> {
    s.parse()
}

fn parse_init(s: &str) -> Result<InitMethod, String> {
    s.parse()
}

fn parse_threshold(s: &str) -> Result<ThresholdRule, String> {
    s.parse()
}

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Fit(args) => fit::fit(args),
        Command::Score(args) => score::score(args),
        Command::Plot(args) => plot::plot(args),
        Command::Select(args) => select::select(args),
        Command::Summarize { dir } => run::summarize(&dir),
        Command::Report(args) => report::report(args),
        Command::Compare(args) => report::compare(args),
        Command::Export(args) => run::export(args),
        Command::Merge { dir } => shards::merge(&dir),
        Command::Status { dir } => shards::status(&dir),
        Command::Slurm(args) => shards::slurm(args),
        Command::Datasets { registry } => run::list_datasets(registry.as_deref()),
        Command::Mine(args) => zeroshot::mine_command(args),
        Command::Lofo(args) => zeroshot::lofo_command(args),
    }
}
