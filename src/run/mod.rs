//! A whole run: plan the config, load the datasets, open (or resume) the run directory, drive
//! the units and write the summary.
//!
//! The run directory (`reports/<name>/` unless another is given) holds `run.json` (the
//! manifest: config, datasets with content hashes, fingerprint), the journals `trials.jsonl`
//! and `units.jsonl`, and `summary.json` / `summary.csv`, recomputed from the journals.
//!
//! The steps are separate so a caller can own the interrupt: [`prepare_run`] (plan, load,
//! open), [`run_prepared`] (the units; never writes the summary), [`write_summary`] (the one
//! writer of the summary). [`execute`] chains them.

mod datasets;
mod dir;
mod export;
mod manifest;
mod shards;
mod slurm;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use thiserror::Error;

use crate::config::RunConfig;
use crate::data::DataError;
use crate::journal::{
    JournalError, JournalWriter, ProtocolStamp, RecordContext, RunJournal, UnitKey,
    GMMTUNE_VERSION, TRIALS_FILE, UNITS_FILE,
};
use crate::plan::{Plan, PlanError, PlannedUnit, Shard};
use crate::report::summary::{summarise, write_summary_files, SummaryError, SummaryRow};
use crate::search::driver::{
    run_units, strategy_seed, DriverError, Progress, RunJournals, RunOutcome, UnitTask,
};
use crate::search::trial::{needs_cv, TrialSettings};

pub use crate::data::sha256_file;
pub use datasets::{load_datasets, split_seed, table_cache, LoadedDataset, CACHE_DIR_ENV};
pub use dir::{generations, open_run_dir, OpenedRun, GENERATIONS_DIR};
pub use export::{
    export_selected, prepare_like, read_run_data, refit_trial, ExportError, Exported,
};
pub use manifest::{DatasetManifest, RunManifest, ShardManifest, MANIFEST_FILE};
pub use shards::{run_manifest, shard_dirs, status, UnitState, UnitStatus};
pub use slurm::SlurmJob;

/// Errors that stop a run before or while it runs.
#[derive(Debug, Error)]
pub enum RunError {
    /// The config does not fit its datasets.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A dataset could not be loaded or prepared.
    #[error("{}", name_dataset(dataset, source))]
    Data {
        /// Its name.
        dataset: String,
        /// What went wrong.
        source: Box<DataError>,
    },
    /// The run directory already holds results and neither resume nor another directory was asked.
    #[error(
        "{dir} already holds the results of a run; pass --resume to continue it, or --out DIR to write elsewhere"
    )]
    ResultsExist {
        /// The directory.
        dir: String,
    },
    /// The journal was written by a different run.
    #[error("{dir} holds another run, so resuming would mix results: {}. Use --out DIR for a new run, or --resume --force to keep the old results as an earlier generation and start a new one", differences.join("; "))]
    ConfigChanged {
        /// The directory.
        dir: String,
        /// What differs, in words.
        differences: Vec<String>,
    },
    /// Journals without the manifest that says which run wrote them.
    #[error(
        "{dir} holds journals but no run.json, so it cannot be checked to be the same run: restore run.json, use --out DIR for a new run, or --resume --force to keep the old results as an earlier generation"
    )]
    NoManifest {
        /// The directory.
        dir: String,
    },
    /// The manifest could not be read.
    #[error("{path}: not a run manifest ({message}); restore it or move the run directory away")]
    Manifest {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A directory is not a run directory.
    #[error("{dir} is not a run directory (no run.json): name the directory `gmmtune run` wrote")]
    NotARun {
        /// The directory.
        dir: String,
    },
    /// A file of the run directory could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The driver stopped.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The summary could not be written.
    #[error(transparent)]
    Summary(#[from] SummaryError),
}

/// A data error prefixed with its dataset, unless its message already names it.
fn name_dataset(dataset: &str, source: &DataError) -> String {
    let message = source.to_string();
    if message.contains(&format!("dataset `{dataset}`")) {
        message
    } else {
        format!("dataset `{dataset}`: {message}")
    }
}

impl RunError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> RunError {
        RunError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// How to run a config.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run directory (default `reports/<run name>`).
    pub out_dir: Option<PathBuf>,
    /// Continue the run found in the directory.
    pub resume: bool,
    /// With `resume`: when the directory holds another run, keep it as an earlier generation
    /// and start a new one.
    pub force: bool,
    /// Worker threads (default: the config's `jobs`, else all cores).
    pub jobs: Option<usize>,
    /// Run only this shard of the work, into `shards/<i>-of-<n>/` of the run directory.
    pub shard: Option<Shard>,
}

/// The outcome of [`execute`].
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Where the results are.
    pub dir: PathBuf,
    /// What the driver did.
    pub outcome: RunOutcome,
    /// The summary written.
    pub summary: Vec<SummaryRow>,
}

/// A run ready to go: planned, loaded, its directory opened.
#[derive(Debug)]
pub struct PreparedRun {
    /// The config.
    pub config: RunConfig,
    /// Its plan.
    pub plan: Plan,
    /// Its datasets, loaded.
    pub datasets: Vec<LoadedDataset>,
    /// Its manifest (as written to `run.json`).
    pub manifest: RunManifest,
    /// Its directory and what the journal already holds.
    pub opened: OpenedRun,
    /// The units this process runs (all of the plan's, or those of its shard).
    pub units: Vec<PlannedUnit>,
    /// The directory of the whole run (the shard's parent for a shard).
    pub run_dir: PathBuf,
}

impl PreparedRun {
    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.opened.dir
    }
}

/// The run directory of `config` under `options`.
pub fn output_dir(config: &RunConfig, options: &RunOptions) -> PathBuf {
    options
        .out_dir
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&config.name))
}

/// The number of worker threads for `config` under `options`.
pub fn jobs(config: &RunConfig, options: &RunOptions) -> usize {
    options
        .jobs
        .or(config.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Plans `config`, loads its datasets and opens its run directory.
pub fn prepare_run(config: RunConfig, options: &RunOptions) -> Result<PreparedRun, RunError> {
    let plan = Plan::build(&config)?;
    let run_dir = output_dir(&config, options);
    let datasets = load_datasets(&config, &plan, table_cache(&run_dir).as_ref())?;
    let mut manifest = RunManifest::new(&config, &plan, &datasets);
    let (dir, units) = match options.shard {
        Some(shard) => {
            shards::check_shard_target(&run_dir, &manifest, shard)?;
            let (units, part) = shards::shard_units(&plan, &datasets, &config.seeds, shard);
            manifest.shard = Some(part);
            (
                run_dir
                    .join(crate::journal::SHARDS_DIR)
                    .join(shard.dir_name()),
                units,
            )
        }
        None => {
            shards::check_unsharded_target(&run_dir)?;
            (run_dir.clone(), plan.units.clone())
        }
    };
    let opened = open_run_dir(&dir, &manifest, options.resume, options.force)?;
    manifest.generation = opened.generation;
    Ok(PreparedRun {
        config,
        plan,
        datasets,
        manifest,
        opened,
        units,
        run_dir,
    })
}

/// The record context of `dataset` under `seed`.
fn context(run: &PreparedRun, loaded: &LoadedDataset, split_seed: u64) -> RecordContext {
    let planned = &run.plan.datasets[loaded.index];
    RecordContext {
        run: run.manifest.fingerprint.clone(),
        version: GMMTUNE_VERSION.to_string(),
        data: loaded.stamp.clone(),
        protocol: ProtocolStamp {
            split: planned.protocol.split,
            split_seed,
            train_on: planned.protocol.train_on,
            cost_model: planned.cost_model,
            threshold: run.config.threshold,
            fit: run.config.fit,
            cv_folds: run.config.cv_folds,
            cv_max_rows: run.config.cv_max_rows,
            score_quantile: run.config.score_quantile,
        },
    }
}

/// The units of a prepared run, as the driver takes them.
pub fn unit_tasks(run: &PreparedRun) -> Vec<UnitTask<'_>> {
    let config = &run.config;
    let measure_cv = config.measures_cv();
    run.units
        .iter()
        .map(|u| {
            let loaded = &run.datasets[u.dataset];
            let planned = &run.plan.datasets[u.dataset];
            let entry = &config.strategies[u.strategy];
            let (split_seed, data) = loaded
                .for_seed(u.seed)
                .expect("every seed of the config is loaded");
            UnitTask {
                key: UnitKey {
                    dataset: planned.name.clone(),
                    strategy: entry.name.clone(),
                    seed: u.seed,
                },
                data,
                strategy: &entry.spec,
                space: &config.space,
                budget: entry.budget,
                objective: entry.objective,
                settings: TrialSettings {
                    fit: config.fit,
                    cost_model: planned.cost_model,
                    threshold: config.threshold,
                    measure_cv: measure_cv || needs_cv(entry.objective),
                    cv_folds: config.cv_folds,
                    cv_max_rows: config.cv_max_rows,
                    score_quantile: config.score_quantile,
                },
                strategy_seed: strategy_seed(u.seed, &planned.name, &entry.name),
                context: context(run, loaded, split_seed),
            }
        })
        .collect()
}

/// Runs the unfinished units of a prepared run on `jobs` threads until they are done or
/// `interrupt` is set. Does not write the summary: call [`write_summary`] once the run stops.
pub fn run_prepared(
    run: &PreparedRun,
    jobs: usize,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<RunOutcome, RunError> {
    let dir = run.dir();
    let (trials, _) = JournalWriter::open(&dir.join(TRIALS_FILE))?;
    let (units, _) = JournalWriter::open(&dir.join(UNITS_FILE))?;
    let journals = RunJournals {
        trials: &trials,
        units: &units,
        previous_trials: run.opened.previous_trials.clone(),
        previous_units: run.opened.previous_units.clone(),
        reusable: run.opened.reusable.clone(),
    };
    let tasks = unit_tasks(run);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::io(dir, e))?;
    Ok(pool.install(|| run_units(&tasks, journals, jobs, interrupt, progress))?)
}

/// Recomputes the summary of the run in `dir` (its own journal and its shards') and writes
/// `summary.json` and `summary.csv`; rows follow the run's dataset and strategy order. Returns
/// the rows and the warnings of the journal reader.
pub fn write_summary(dir: &Path) -> Result<(Vec<SummaryRow>, Vec<String>), RunError> {
    let manifest = run_manifest(dir)?;
    let journal = RunJournal::load(dir)?;
    if let Some(found) = journal.fingerprint()
        && found != manifest.fingerprint
    {
        return Err(RunError::Journal(JournalError::Mixed {
            first: dir.join(manifest::MANIFEST_FILE).display().to_string(),
            other: dir.join(TRIALS_FILE).display().to_string(),
            what: format!(
                "the journal was written by run {found}, the manifest is of run {}",
                manifest.fingerprint
            ),
        }));
    }
    let datasets: Vec<String> = manifest.datasets.iter().map(|d| d.name.clone()).collect();
    let rows = summarise(&journal, &datasets, &manifest.strategies);
    write_summary_files(dir, &rows)?;
    Ok((rows, journal.warnings))
}

/// What [`merge`] found and wrote.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The summary of all shards.
    pub summary: Vec<SummaryRow>,
    /// The journal reader's warnings.
    pub warnings: Vec<String>,
    /// The state of every unit of the run.
    pub units: Vec<UnitStatus>,
}

/// Combines the shards of the run in `dir`: checks they belong to one run, writes the run's
/// manifest at the top of `dir` and the summary of all shards. A merge of unfinished shards is
/// allowed; the unit states say what is missing.
pub fn merge(dir: &Path) -> Result<Merged, RunError> {
    shards::merge_manifest(dir)?;
    let (summary, warnings) = write_summary(dir)?;
    Ok(Merged {
        summary,
        warnings,
        units: status(dir)?,
    })
}

/// Plans, loads and runs `config` to its end (or until `interrupt` is set), then writes the
/// summary.
pub fn execute(
    config: &RunConfig,
    options: &RunOptions,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    let run = prepare_run(config.clone(), options)?;
    let outcome = run_prepared(&run, jobs(config, options), interrupt, progress)?;
    let (summary, _) = write_summary(run.dir())?;
    Ok(RunReport {
        dir: run.dir().to_path_buf(),
        outcome,
        summary,
    })
}
