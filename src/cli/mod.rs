//! Command-line interface: argument parsing, progress display and exit codes.

mod fit;
mod progress;
mod report;
mod run;
mod score;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gmmtune::gmm::{CovarianceType, InitMethod};

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
    /// Score the rows of a CSV or CSV.gz file with a saved model.
    Score(ScoreArgs),
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
    /// Worker threads (default: the config's `jobs`, else all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
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
    /// Non-negative regularisation added to the covariance diagonals.
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    reg_covar: f64,
    /// kmeans, k-means++, random or random_from_data.
    #[arg(long, default_value = "kmeans", value_parser = parse_init)]
    init: InitMethod,
    /// Initialisations; the best lower bound wins.
    #[arg(long, default_value_t = 1)]
    n_init: usize,
    /// Maximum EM iterations.
    #[arg(long, default_value_t = 100)]
    max_iter: usize,
    /// Convergence threshold on the mean log-likelihood.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    tol: f64,
    /// Seed of the initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Standardise the features (mean 0, scale 1) and store the transform in the model.
    #[arg(long)]
    standardize: bool,
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
}

fn parse_covariance(s: &str) -> Result<CovarianceType, String> {
    s.parse()
}

fn parse_init(s: &str) -> Result<InitMethod, String> {
    s.parse()
}

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Fit(args) => fit::fit(args),
        Command::Score(args) => score::score(args),
        Command::Summarize { dir } => run::summarize(&dir),
        Command::Report(args) => report::report(args),
        Command::Compare(args) => report::compare(args),
        Command::Export(args) => run::export(args),
        Command::Datasets { registry } => run::list_datasets(registry.as_deref()),
    }
}
