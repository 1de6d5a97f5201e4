//! A whole run: resolve and prepare the datasets, open (or resume) the run directory, drive the
//! searches and write the summary.
//!
//! The run directory (`reports/<name>/` unless another is given) holds `run.json` (the config
//! and its fingerprint), the journals `trials.jsonl` and `units.jsonl`, and `summary.json` /
//! `summary.csv`, which are recomputed from the journals at the end of every run.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::{DatasetRef, RunConfig};
use crate::data::{prepare, read_table, DataError, Prepared, ReadOptions, Registry};
use crate::report::summary::{summarise, write_summary, SummaryError, SummaryRow};
use crate::search::driver::{run_units, DriverError, Progress, RunJournals, RunOutcome};
use crate::search::journal::{read_records, JournalError, JournalWriter, TRIALS_FILE, UNITS_FILE};
use crate::search::seed::derive_seed;

/// Errors that stop a run before or while it runs.
#[derive(Debug, Error)]
pub enum RunError {
    /// A dataset could not be loaded or prepared.
    #[error("dataset `{dataset}`: {source}")]
    Data {
        dataset: String,
        #[source]
        source: Box<DataError>,
    },
    /// A dataset name is not in the registry.
    #[error("dataset `{name}` is not in the registry {registry} (known: {known}); name a registered dataset or give `{{path: FILE}}`")]
    UnknownDataset {
        name: String,
        registry: String,
        known: String,
    },
    /// Two datasets of the run have the same name.
    #[error("two datasets are named `{0}`: give one of them a distinct `name`")]
    DuplicateDataset(String),
    /// The run directory already holds results and neither resume nor another directory was asked.
    #[error("{dir} already holds the results of a run; pass --resume to continue it, or --out DIR to write elsewhere")]
    ResultsExist { dir: String },
    /// The journal was written by a different config.
    #[error("{dir} was written by a different configuration (fingerprint {found}, this config {expected}); resuming would mix results: use --out DIR for a new run, or --force to resume anyway")]
    ConfigChanged {
        dir: String,
        found: String,
        expected: String,
    },
    /// A file of the run directory could not be read or written.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
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

/// How to run a config.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run directory (default `reports/<run name>`).
    pub out_dir: Option<PathBuf>,
    /// Continue the run found in the directory.
    pub resume: bool,
    /// Resume even when the config changed.
    pub force: bool,
    /// Worker threads (default: the config's `jobs`, else all cores).
    pub jobs: Option<usize>,
}

/// The header of a run directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunHeader {
    /// Run name.
    pub name: String,
    /// Fingerprint of what decides the results.
    pub fingerprint: String,
    /// gmmtune version that wrote it.
    pub version: String,
    /// The config as checked.
    pub config: serde_json::Value,
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

/// The run directory of `config` under `options`.
pub fn output_dir(config: &RunConfig, options: &RunOptions) -> PathBuf {
    options
        .out_dir
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&config.name))
}

struct DatasetSpec {
    name: String,
    path: PathBuf,
    options: ReadOptions,
}

fn resolve_datasets(config: &RunConfig) -> Result<Vec<DatasetSpec>, RunError> {
    let mut registry: Option<Registry> = None;
    let mut specs: Vec<DatasetSpec> = Vec::new();
    for dataset in &config.datasets {
        let spec = match dataset {
            DatasetRef::Name(name) => {
                if registry.is_none() {
                    registry = Some(Registry::load(&config.registry).map_err(|source| {
                        RunError::Data {
                            dataset: name.clone(),
                            source: Box::new(source),
                        }
                    })?);
                }
                let reg = registry.as_ref().expect("registry loaded above");
                let entry = reg.get(name).ok_or_else(|| RunError::UnknownDataset {
                    name: name.clone(),
                    registry: config.registry.display().to_string(),
                    known: reg
                        .entries()
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                DatasetSpec {
                    name: entry.name.clone(),
                    path: reg.resolve_path(entry),
                    options: ReadOptions {
                        label_column: Some(entry.label_column.clone()),
                        require_label: true,
                        exclude_columns: entry.exclude_columns.clone(),
                        ..ReadOptions::default()
                    },
                }
            }
            DatasetRef::File(file) => DatasetSpec {
                name: file.name.clone().unwrap_or_else(|| file_stem(&file.path)),
                path: file.path.clone(),
                options: ReadOptions {
                    label_column: Some(file.label_column.clone()),
                    require_label: true,
                    exclude_columns: file.exclude_columns.clone(),
                    ..ReadOptions::default()
                },
            },
        };
        if specs.iter().any(|s| s.name == spec.name) {
            return Err(RunError::DuplicateDataset(spec.name));
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    name.split('.').next().unwrap_or(&name).to_string()
}

/// Loads, splits and standardises every dataset of `config`, in parallel; the first error stops.
pub fn load_datasets(config: &RunConfig) -> Result<Vec<Prepared>, RunError> {
    let specs = resolve_datasets(config)?;
    specs
        .par_iter()
        .map(|spec| {
            let to_err = |source| RunError::Data {
                dataset: spec.name.clone(),
                source: Box::new(source),
            };
            let table = read_table(&spec.path, &spec.options).map_err(to_err)?;
            let seed = derive_seed(config.seed, &["split", &spec.name], 0);
            prepare(&table, &spec.name, &config.protocol, seed).map_err(to_err)
        })
        .collect()
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Checks the run directory against the options and writes its header.
pub fn open_run_dir(config: &RunConfig, options: &RunOptions) -> Result<PathBuf, RunError> {
    let dir = output_dir(config, options);
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let trials = dir.join(TRIALS_FILE);
    let has_results = std::fs::metadata(&trials)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    let header_path = dir.join("run.json");
    let fingerprint = config.fingerprint();
    if has_results && !options.resume {
        return Err(RunError::ResultsExist {
            dir: dir.display().to_string(),
        });
    }
    if has_results {
        if let Ok(text) = std::fs::read_to_string(&header_path) {
            let header: RunHeader =
                serde_json::from_str(&text).map_err(|e| io_err(&header_path, e))?;
            if header.fingerprint != fingerprint && !options.force {
                return Err(RunError::ConfigChanged {
                    dir: dir.display().to_string(),
                    found: header.fingerprint,
                    expected: fingerprint,
                });
            }
            if header.fingerprint != fingerprint {
                // Forced onto a changed config: unit ends were judged under the old budgets;
                // the trials stay and every unit replays them under the new config.
                let _ = std::fs::remove_file(dir.join(UNITS_FILE));
            }
        }
    }
    if !has_results {
        // A fresh run: stale unit records of an emptied journal must not mark units as done.
        let _ = std::fs::remove_file(dir.join(UNITS_FILE));
    }
    let header = RunHeader {
        name: config.name.clone(),
        fingerprint,
        version: env!("CARGO_PKG_VERSION").to_string(),
        config: serde_json::to_value(config).map_err(|e| io_err(&header_path, e))?,
    };
    let text = serde_json::to_string_pretty(&header).map_err(|e| io_err(&header_path, e))?;
    std::fs::write(&header_path, text).map_err(|e| io_err(&header_path, e))?;
    Ok(dir)
}

/// Recomputes and writes the summary of the run in `dir` from its journals.
pub fn write_summary_from_journal(
    dir: &Path,
    dataset_order: &[String],
    strategy_order: &[String],
) -> Result<Vec<SummaryRow>, RunError> {
    let trials = read_records(&dir.join(TRIALS_FILE))?;
    let units = read_records(&dir.join(UNITS_FILE))?;
    let rows = summarise(&trials, &units, dataset_order, strategy_order);
    write_summary(dir, &rows)?;
    Ok(rows)
}

/// The strategy names of `config`, in order.
pub fn strategy_names(config: &RunConfig) -> Vec<String> {
    config.strategies.iter().map(|s| s.name.clone()).collect()
}

/// Runs `config` on already prepared datasets into an opened run directory.
pub fn execute_prepared(
    config: &RunConfig,
    datasets: &[Prepared],
    dir: &Path,
    jobs: usize,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    let trials_path = dir.join(TRIALS_FILE);
    let units_path = dir.join(UNITS_FILE);
    let previous_trials = read_records(&trials_path)?;
    let previous_units = read_records(&units_path)?;
    let trials = JournalWriter::open(&trials_path)?;
    let units = JournalWriter::open(&units_path)?;
    let journals = RunJournals {
        trials: &trials,
        units: &units,
        previous_trials,
        previous_units,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| io_err(dir, e))?;
    let outcome =
        pool.install(|| run_units(config, datasets, journals, jobs, interrupt, progress))?;
    let dataset_order: Vec<String> = datasets.iter().map(|d| d.name.clone()).collect();
    let summary = write_summary_from_journal(dir, &dataset_order, &strategy_names(config))?;
    Ok(RunReport {
        dir: dir.to_path_buf(),
        outcome,
        summary,
    })
}

/// The number of worker threads for `config` under `options`.
pub fn jobs(config: &RunConfig, options: &RunOptions) -> usize {
    options
        .jobs
        .or(config.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Loads the datasets, opens the run directory and runs `config` to its end (or until
/// `interrupt` is set).
pub fn execute(
    config: &RunConfig,
    options: &RunOptions,
    interrupt: &AtomicBool,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    let datasets = load_datasets(config)?;
    let dir = open_run_dir(config, options)?;
    execute_prepared(
        config,
        &datasets,
        &dir,
        jobs(config, options),
        interrupt,
        progress,
    )
}
