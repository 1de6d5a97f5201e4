//! Rebuilding the selected model of a unit of a run: the same data (checked by content hash),
//! the same split and standardiser, the same fit seed; the rebuilt model is measured again and
//! must give exactly the journaled figures.

use std::path::Path;

use thiserror::Error;

use crate::data::{prepare, read_table, DataError, Prepared, Protocol, ReadOptions, Table};
use crate::gmm::{GaussianMixture, GmmError};
use crate::journal::{RunJournal, TrialMetrics, TrialRecord};
use crate::model_file::ModelFile;
use crate::report::summary::summarise;
use crate::search::trial::{fit_and_measure, TrialSettings};

use super::manifest::{DatasetManifest, RunManifest};
use super::RunError;
use crate::data::sha256_file;

/// Why a unit's selected model cannot be exported.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The run directory could not be read.
    #[error(transparent)]
    Run(#[from] RunError),
    /// No unit matches.
    #[error("{dir}: {what}")]
    NoSuchUnit {
        /// The run directory.
        dir: String,
        /// What was asked and what there is.
        what: String,
    },
    /// The data file is not the one the run read.
    #[error(
        "{path}: the file changed since the run read it (sha256 {expected} then, {found} now): the model of the run cannot be rebuilt from it"
    )]
    DataChanged {
        /// The file.
        path: String,
        /// The run's hash.
        expected: String,
        /// The file's hash now.
        found: String,
    },
    /// The data could not be read or split.
    #[error("dataset `{dataset}`: {source}")]
    Data {
        /// Its name.
        dataset: String,
        /// Why.
        #[source]
        source: Box<DataError>,
    },
    /// The fit failed.
    #[error("refitting the selected configuration failed: {0}")]
    Fit(#[from] GmmError),
    /// The rebuilt model measures differently from the journal.
    #[error(
        "the rebuilt model does not reproduce trial {trial} of {unit}: {fields} differ (journal vs rebuilt); the run was made by another build or on another machine"
    )]
    Mismatch {
        /// The unit.
        unit: String,
        /// The trial.
        trial: usize,
        /// The differing figures.
        fields: String,
    },
}

/// An exported model with the trial it rebuilds.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The model file (with the run's standardiser).
    pub model: ModelFile,
    /// The selected trial.
    pub record: TrialRecord,
    /// The figures the rebuilt model measured (equal to the record's).
    pub metrics: TrialMetrics,
    /// The prepared data, split as in the run.
    pub prepared: Prepared,
}

/// Rebuilds the configuration a unit of the run in `dir` selected. `seed` may be left out when
/// the run has one seed.
pub fn export_selected(
    dir: &Path,
    dataset: &str,
    strategy: &str,
    seed: Option<u64>,
) -> Result<Exported, ExportError> {
    let no_unit = |what: String| ExportError::NoSuchUnit {
        dir: dir.display().to_string(),
        what,
    };
    let manifest = RunManifest::read(dir)?.ok_or_else(|| RunError::NotARun {
        dir: dir.display().to_string(),
    })?;
    let data = manifest.dataset(dataset).ok_or_else(|| {
        no_unit(format!(
            "no dataset `{dataset}` in the run (it has: {})",
            manifest
                .datasets
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if !manifest.strategies.iter().any(|s| s == strategy) {
        return Err(no_unit(format!(
            "no strategy `{strategy}` in the run (it has: {})",
            manifest.strategies.join(", ")
        )));
    }
    let journal = RunJournal::load(dir).map_err(RunError::from)?;
    let rows = summarise(&journal, &[], &[]);
    let candidates: Vec<_> = rows
        .iter()
        .filter(|r| r.unit.dataset == dataset && r.unit.strategy == strategy)
        .filter(|r| seed.is_none_or(|s| r.unit.seed == s))
        .collect();
    let row = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(no_unit(format!(
                "unit {dataset} / {strategy}{} has no trials",
                seed.map_or(String::new(), |s| format!(" / seed {s}"))
            )));
        }
        many => {
            return Err(no_unit(format!(
                "{dataset} / {strategy} ran under seeds {}: choose one with --seed",
                many.iter()
                    .map(|r| r.unit.seed.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let record = row.selected.clone().ok_or_else(|| {
        no_unit(format!(
            "unit {} has no successful trial to export",
            row.unit
        ))
    })?;
    let table = read_run_data(data)?;
    let prepared = prepare_like(&table, &record)?;
    let (model, metrics) = refit_trial(&prepared, &record, true)?;
    Ok(Exported {
        model: ModelFile::fitted(
            model,
            table.feature_names.clone(),
            Some(prepared.standardizer.clone()),
            prepared.fit_rows.view(),
        )?,
        record,
        metrics,
        prepared,
    })
}

/// Reads the data file of a run's dataset again, after checking that its content hash is the
/// one the run recorded.
///
/// # Errors
/// [`ExportError::Data`] when the file cannot be read (gone, unreadable), and
/// [`ExportError::DataChanged`] when its bytes are not the ones the run read.
pub fn read_run_data(data: &DatasetManifest) -> Result<Table, ExportError> {
    let path = Path::new(&data.path);
    let to_err = |e: DataError| ExportError::Data {
        dataset: data.name.clone(),
        source: Box::new(e),
    };
    let found = sha256_file(path).map_err(to_err)?;
    if found != data.sha256 {
        return Err(ExportError::DataChanged {
            path: data.path.clone(),
            expected: data.sha256.clone(),
            found,
        });
    }
    let options = ReadOptions {
        label_column: data.label_column.clone(),
        require_label: data.label_column.is_some(),
        exclude_columns: data.exclude_columns.clone(),
        ..ReadOptions::default()
    };
    read_table(path, &options).map_err(to_err)
}

/// Splits and standardises `table` as the unit of `record` did (its protocol and split seed).
pub fn prepare_like(table: &Table, record: &TrialRecord) -> Result<Prepared, ExportError> {
    let stamp = &record.context.protocol;
    let protocol = Protocol {
        split: stamp.split,
        train_on: stamp.train_on,
    };
    prepare(table, &record.unit.dataset, &protocol, stamp.split_seed).map_err(|e| {
        ExportError::Data {
            dataset: record.unit.dataset.clone(),
            source: Box::new(e),
        }
    })
}

/// Fits the configuration of `record` again on `prepared` (from [`prepare_like`]) with its fit
/// seed, measures it, and checks that it measures exactly as journaled. With `check_cv` false
/// the cross-validated log-likelihood is neither measured (k fits fewer) nor compared.
pub fn refit_trial(
    prepared: &Prepared,
    record: &TrialRecord,
    check_cv: bool,
) -> Result<(GaussianMixture, TrialMetrics), ExportError> {
    let stamp = &record.context.protocol;
    let journaled = record.metrics.clone().unwrap_or_default();
    let settings = TrialSettings {
        fit: stamp.fit,
        cost_model: stamp.cost_model,
        threshold: stamp.threshold,
        measure_cv: check_cv && journaled.cv_loglik.is_some(),
        cv_folds: stamp.cv_folds,
        cv_max_rows: stamp.cv_max_rows,
        score_quantile: stamp.score_quantile,
    };
    let (model, mut metrics) =
        fit_and_measure(prepared, &record.config, &settings, record.fit_seed)?;
    if !check_cv {
        metrics.cv_loglik = journaled.cv_loglik;
    }
    let differing = differing_fields(&journaled, &metrics);
    if !differing.is_empty() {
        return Err(ExportError::Mismatch {
            unit: record.unit.to_string(),
            trial: record.trial,
            fields: differing.join(", "),
        });
    }
    Ok((model, metrics))
}

/// The names of the figures that differ between two measurements.
fn differing_fields(a: &TrialMetrics, b: &TrialMetrics) -> Vec<String> {
    let (Ok(serde_json::Value::Object(x)), Ok(serde_json::Value::Object(y))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return vec!["metrics".into()];
    };
    x.iter()
        .filter(|(k, v)| y.get(*k) != Some(v))
        .map(|(k, v)| {
            format!(
                "{k} ({v} vs {})",
                y.get(k).unwrap_or(&serde_json::Value::Null)
            )
        })
        .collect()
}
