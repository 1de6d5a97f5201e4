//! From a checked config to the work of a run: each dataset resolved (registry or file) with
//! the protocol and cost model it gets, and the list of units (dataset × seed × strategy).
//!
//! The plan is where a config meets the datasets, so this is where what cannot be judged from
//! the config alone is refused: a stratified split of a time series, a cost tolerance on
//! shuffled rows, a dataset without labels under an objective that needs them, more components
//! or folds than training rows.
//!
//! ```
//! use gmmtune::config::RunConfig;
//! use gmmtune::plan::Plan;
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.csv"), "x,label\n1,0\n2,0\n3,1\n").unwrap();
//! let yaml = "name: t\nseeds: [0, 1]\ndatasets: [{path: a.csv}]\nstrategies: [{kind: grid}, {kind: random, budget: {trials: 3}}]\n";
//! let config = RunConfig::from_yaml_str_in(yaml, "t.yaml", dir.path()).unwrap();
//! let plan = Plan::build(&config).unwrap();
//! assert_eq!(plan.datasets[0].name, "a");
//! assert_eq!(plan.units.len(), 4); // 1 dataset × 2 seeds × 2 strategies
//! ```

mod shard;

use std::path::PathBuf;

use thiserror::Error;

pub use shard::{assign as assign_shards, Shard, MAX_SHARDS};

use crate::config::{DatasetSource, RunConfig};
use crate::data::{DataError, Prepared, Protocol, ReadOptions, Registry, SplitMethod, TrainOn};
use crate::eval::CostModel;
use crate::search::StrategySpec;

/// Why a config cannot be planned, or does not fit its data.
#[derive(Debug, Error)]
pub enum PlanError {
    /// A config key whose value does not fit the datasets.
    #[error("config {path}: `{key}`: {message}")]
    Invalid {
        /// The config file.
        path: String,
        /// Dotted path of the key.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// No registry was found for the dataset names of the config.
    #[error(
        "config {path}: dataset `{name}` is a registry name, but no registry was found (looked for {tried}); set `registry: PATH` in the config, or the environment variable GMMTUNE_REGISTRY"
    )]
    NoRegistry {
        /// The config file.
        path: String,
        /// The first registry name.
        name: String,
        /// The places looked at.
        tried: String,
    },
    /// The registry could not be read.
    #[error(transparent)]
    Registry(Box<DataError>),
    /// The registry named by the environment could not be read.
    #[error(
        "the registry named by ${variable} cannot be read: {source}; point {variable} at a registry file, or unset it"
    )]
    RegistryFromEnv {
        /// The environment variable.
        variable: &'static str,
        /// Why.
        source: Box<DataError>,
    },
    /// A dataset name is not in the registry.
    #[error(
        "config {path}: `{key}`: dataset `{name}` is not in the registry {registry} (it lists: {known}); name a registered dataset or give `{{path: FILE}}`"
    )]
    UnknownDataset {
        /// The config file.
        path: String,
        /// Dotted path of the entry.
        key: String,
        /// The name.
        name: String,
        /// The registry file.
        registry: String,
        /// The names it holds.
        known: String,
    },
}

/// One dataset of the plan, with everything needed to load and split it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedDataset {
    /// Name in results.
    pub name: String,
    /// The config key of its entry (`datasets[3]`).
    pub key: String,
    /// The data file.
    pub path: PathBuf,
    /// How to read it (labels optional: a file without its label column is unlabelled).
    pub read_options: ReadOptions,
    /// Whether its rows are a time series.
    pub ordered: bool,
    /// Its family of related datasets.
    pub family: String,
    /// The protocol it is split and fitted under.
    pub protocol: Protocol,
    /// Its cost model.
    pub cost_model: CostModel,
    /// Why its protocol differs from the run's, when it does (to announce).
    pub note: Option<String>,
}

/// One unit of the plan: strategy `strategy` on dataset `dataset` under `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedUnit {
    /// Index into [`Plan::datasets`].
    pub dataset: usize,
    /// Index into the config's strategies.
    pub strategy: usize,
    /// The repetition seed.
    pub seed: u64,
}

/// The work of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Datasets, in config order.
    pub datasets: Vec<PlannedDataset>,
    /// Units: for each dataset, for each seed, every strategy in config order.
    pub units: Vec<PlannedUnit>,
    /// The registry the dataset names were resolved in.
    pub registry: Option<PathBuf>,
}

impl Plan {
    /// Resolves the datasets of `config` and lists its units.
    pub fn build(config: &RunConfig) -> Result<Plan, PlanError> {
        let registry = load_registry(config)?;
        let datasets = config
            .datasets
            .iter()
            .enumerate()
            .map(|(i, entry)| plan_dataset(config, i, entry, registry.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut units = Vec::new();
        for dataset in 0..datasets.len() {
            for &seed in &config.seeds {
                for strategy in 0..config.strategies.len() {
                    units.push(PlannedUnit {
                        dataset,
                        strategy,
                        seed,
                    });
                }
            }
        }
        Ok(Plan {
            datasets,
            units,
            registry: registry.map(|r| r.path().to_path_buf()),
        })
    }

    /// Checks a loaded dataset against the config: labels where an objective needs them, and
    /// enough fit rows for the components and folds asked.
    pub fn check_loaded(
        &self,
        config: &RunConfig,
        dataset: usize,
        prepared: &Prepared,
    ) -> Result<(), PlanError> {
        let planned = &self.datasets[dataset];
        let invalid = |key: String, message: String| PlanError::Invalid {
            path: config.origin.clone(),
            key,
            message,
        };
        let needing: Vec<String> = config
            .strategies
            .iter()
            .filter(|s| s.objective.needs_labels())
            .map(|s| format!("`{}` ({})", s.name, s.objective.as_str()))
            .collect();
        if !prepared.labelled && !needing.is_empty() {
            return Err(invalid(
                planned.key.clone(),
                format!(
                    "dataset `{}` ({}) has no label column `{}`, and strateg{} {} need{} anomaly labels: name its label column with `label_column`, or use `objective: bic` or `cv_loglik`",
                    planned.name,
                    planned.path.display(),
                    planned
                        .read_options
                        .label_column
                        .as_deref()
                        .unwrap_or("label"),
                    if needing.len() == 1 { "y" } else { "ies" },
                    needing.join(", "),
                    if needing.len() == 1 { "s" } else { "" },
                ),
            ));
        }
        let fit_rows = prepared.fit_rows.nrows();
        if fit_rows < 2 {
            return Err(invalid(
                planned.key.clone(),
                format!(
                    "dataset `{}` gets {fit_rows} fit row from its split (`{}`, train_on {}), and a mixture needs at least 2: give it a larger train part (`protocol.split`)",
                    planned.name,
                    describe_split(&planned.protocol.split),
                    train_on_name(planned.protocol.train_on)
                ),
            ));
        }
        // The smallest training set of a cross-validation fold (the first folds hold one
        // held-out row more).
        let cv_fit_rows = config
            .measures_cv()
            .then(|| fit_rows - fit_rows.div_ceil(config.cv_folds));
        if cv_fit_rows.is_some_and(|rows| fit_rows < config.cv_folds || rows < 2) {
            let k = config.cv_folds;
            // Each fold's fit needs 2 rows: k rows for k >= 3, 4 rows for 2 folds.
            let needed = (k..).find(|&n| n - n.div_ceil(k) >= 2).unwrap_or(k);
            return Err(invalid(
                "cv_folds".into(),
                format!(
                    "{k}-fold cross-validation needs at least {needed} fit rows, and dataset `{}` has {fit_rows}: lower `cv_folds`",
                    planned.name
                ),
            ));
        }
        for (i, strategy) in config.strategies.iter().enumerate() {
            let (key, most) = match &strategy.spec {
                StrategySpec::Fixed { configs } => {
                    let Some((j, c)) = configs
                        .iter()
                        .enumerate()
                        .max_by_key(|(_, c)| c.n_components)
                    else {
                        continue;
                    };
                    (
                        format!("strategies[{i}].configs[{j}].n_components"),
                        c.n_components,
                    )
                }
                // Its configurations come from its portfolio; one that does not fit is a
                // failed trial, replaced by the next.
                StrategySpec::Zeroshot { .. } => continue,
                _ => (
                    "space.n_components".to_string(),
                    config.space.n_components().bounds().1,
                ),
            };
            if most > fit_rows {
                return Err(invalid(
                    key,
                    format!(
                        "{most} components need at least {most} fit rows, and dataset `{}` has {fit_rows} (split `{}`): lower the number of components or drop the dataset",
                        planned.name,
                        describe_split(&planned.protocol.split)
                    ),
                ));
            }
            if let Some(cv_rows) = cv_fit_rows.filter(|&rows| most > rows) {
                return Err(invalid(
                    key,
                    format!(
                        "{most} components need at least {most} rows in each fold's fit, and {}-fold cross-validation of dataset `{}` fits on as few as {cv_rows}: lower the number of components or `cv_folds`",
                        config.cv_folds, planned.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn describe_split(split: &SplitMethod) -> String {
    match split {
        SplitMethod::Stratified { train, validation } => {
            format!("stratified {train}/{validation}")
        }
        SplitMethod::Ordered {
            train_end,
            validation_end,
        } => format!("ordered {train_end}/{validation_end}"),
        SplitMethod::Column => "column".into(),
    }
}

fn train_on_name(train_on: TrainOn) -> &'static str {
    match train_on {
        TrainOn::Normal => "normal",
        TrainOn::All => "all",
    }
}

fn load_registry(config: &RunConfig) -> Result<Option<Registry>, PlanError> {
    let Some(first_name) = config.datasets.iter().find_map(|d| match &d.source {
        DatasetSource::Registry(name) => Some(name.clone()),
        DatasetSource::File(_) => None,
    }) else {
        return Ok(None);
    };
    let path = match &config.registry {
        Some(path) => path.clone(),
        None => {
            let mut starts = vec![config.base_dir.clone()];
            if let Ok(cwd) = std::env::current_dir() {
                starts.push(cwd);
            }
            match Registry::discover(&starts) {
                (Some(path), _) => path,
                (None, tried) => {
                    return Err(PlanError::NoRegistry {
                        path: config.origin.clone(),
                        name: first_name,
                        tried: tried
                            .iter()
                            .take(4)
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                            + if tried.len() > 4 { ", ..." } else { "" },
                    });
                }
            }
        }
    };
    Registry::load(&path).map(Some).map_err(|e| {
        let from_env = config.registry.is_none()
            && std::env::var_os(crate::data::REGISTRY_ENV).is_some_and(|v| !v.is_empty());
        if config.registry.is_some() {
            PlanError::Invalid {
                path: config.origin.clone(),
                key: "registry".into(),
                message: e.to_string(),
            }
        } else if from_env {
            PlanError::RegistryFromEnv {
                variable: crate::data::REGISTRY_ENV,
                source: Box::new(e),
            }
        } else {
            PlanError::Registry(Box::new(e))
        }
    })
}

fn plan_dataset(
    config: &RunConfig,
    index: usize,
    entry: &crate::config::DatasetEntry,
    registry: Option<&Registry>,
) -> Result<PlannedDataset, PlanError> {
    let key = format!("datasets[{index}]");
    let invalid = |key: String, message: String| PlanError::Invalid {
        path: config.origin.clone(),
        key,
        message,
    };
    let name = entry.display_name();
    let (path, label_column, exclude, ordered, family, own_split) = match &entry.source {
        DatasetSource::Registry(reg_name) => {
            let registry = registry.expect("a registry is loaded when a dataset names one");
            let found = registry
                .get(reg_name)
                .ok_or_else(|| PlanError::UnknownDataset {
                    path: config.origin.clone(),
                    key: key.clone(),
                    name: reg_name.clone(),
                    registry: registry.path().display().to_string(),
                    known: registry
                        .entries()
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            (
                registry.resolve_path(found),
                found.label_column.clone(),
                found.exclude_columns.clone(),
                found.ordered,
                found.family.clone(),
                found.split,
            )
        }
        DatasetSource::File(path) => (
            path.clone(),
            "label".to_string(),
            Vec::new(),
            false,
            name.clone(),
            None,
        ),
    };
    let ordered = entry.ordered.unwrap_or(ordered);
    let overrides = entry.protocol.unwrap_or_default();
    let mut note = None;
    let split = match overrides.split {
        Some(SplitMethod::Stratified { .. }) if ordered => {
            return Err(invalid(
                format!("{key}.protocol.split"),
                format!(
                    "dataset `{name}` is a time series (ordered: true): a stratified split would train on rows that come after the test rows; use `{{method: ordered, train_end: N, validation_end: M}}` or a `split` column"
                ),
            ));
        }
        Some(split) => split,
        None => match config.protocol.split {
            SplitMethod::Stratified { .. } if ordered => match own_split {
                Some(split) => {
                    note = Some(format!(
                        "dataset `{name}` is a time series: the run's stratified split would shuffle its rows, so it is split by its own protocol ({})",
                        describe_split(&split)
                    ));
                    split
                }
                None => {
                    return Err(invalid(
                        format!("{key}.protocol.split"),
                        format!(
                            "dataset `{name}` is a time series (ordered: true), and the run's split is stratified, which would shuffle its rows: give this dataset `protocol: {{split: {{method: ordered, train_end: N, validation_end: M}}}}`"
                        ),
                    ));
                }
            },
            split => split,
        },
    };
    let protocol = Protocol {
        split,
        train_on: overrides.train_on.unwrap_or(config.protocol.train_on),
    };
    let cost_model = entry.cost_model.unwrap_or(config.cost_model);
    if cost_model.tolerance > 0 {
        let keeps_time = match split {
            SplitMethod::Ordered { .. } => true,
            SplitMethod::Column => ordered,
            SplitMethod::Stratified { .. } => false,
        };
        if !keeps_time {
            let cost_key = if entry.cost_model.is_some() {
                format!("{key}.cost_model.tolerance")
            } else {
                "cost_model.tolerance".into()
            };
            return Err(invalid(
                cost_key,
                format!(
                    "a tolerance of {} rows treats row order as time, but dataset `{name}` is split `{}`{}: set the tolerance to 0 for this dataset (`{key}.cost_model`), or split it in time order (`{{method: ordered, ...}}`, or a `split` column of a dataset marked `ordered: true`)",
                    cost_model.tolerance,
                    describe_split(&split),
                    if matches!(split, SplitMethod::Column) {
                        " on rows not marked as a time series"
                    } else {
                        ", which shuffles its rows"
                    }
                ),
            ));
        }
    }
    let exclude_columns = entry.exclude_columns.clone().unwrap_or(exclude);
    Ok(PlannedDataset {
        name: name.clone(),
        key,
        path,
        read_options: ReadOptions {
            label_column: Some(entry.label_column.clone().unwrap_or(label_column)),
            require_label: false,
            exclude_columns,
            ..ReadOptions::default()
        },
        ordered,
        family: entry.family.clone().unwrap_or(family),
        protocol,
        cost_model,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("registry.yaml"),
            "datasets:\n  - {name: series, path: s.csv, ordered: true, split: {method: ordered, train_end: 6, validation_end: 8}, rows: 10, features: 1, anomaly_pct: 10, family: ts, source: s, licence: l}\n  - {name: iid, path: i.csv, rows: 10, features: 1, anomaly_pct: 10, family: iid, source: s, licence: l}\n  - {name: bare_series, path: b.csv, ordered: true, rows: 10, features: 1, anomaly_pct: 10, family: ts, source: s, licence: l}\n",
        )
        .unwrap();
        dir
    }

    fn plan(dir: &tempfile::TempDir, body: &str) -> Result<Plan, PlanError> {
        let yaml =
            format!("name: t\nregistry: registry.yaml\n{body}strategies: [{{kind: grid}}]\n");
        let config = RunConfig::from_yaml_str_in(&yaml, "t.yaml", dir.path()).unwrap();
        Plan::build(&config)
    }

    fn key_of(e: PlanError) -> String {
        match e {
            PlanError::Invalid { key, .. } => key,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_time_series_keeps_its_own_split_under_a_stratified_run() {
        let dir = registry_dir();
        let p = plan(&dir, "datasets: [series, iid]\n").unwrap();
        assert_eq!(
            p.datasets[0].protocol.split,
            SplitMethod::Ordered {
                train_end: 6,
                validation_end: 8
            }
        );
        assert!(p.datasets[0]
            .note
            .as_deref()
            .unwrap()
            .contains("time series"));
        assert_eq!(p.datasets[1].protocol.split, SplitMethod::default());
        assert!(p.datasets[1].note.is_none());
    }

    #[test]
    fn a_stratified_split_of_a_time_series_is_refused() {
        let dir = registry_dir();
        let err = plan(&dir, "datasets: [bare_series]\n").unwrap_err();
        assert_eq!(key_of(err), "datasets[0].protocol.split");
        let err = plan(
            &dir,
            "datasets: [{name: series, protocol: {split: {method: stratified}}}]\n",
        )
        .unwrap_err();
        assert_eq!(key_of(err), "datasets[0].protocol.split");
        // A file marked ordered behaves the same.
        std::fs::write(dir.path().join("f.csv"), "x,label\n1,0\n").unwrap();
        let err = plan(&dir, "datasets: [{path: f.csv, ordered: true}]\n").unwrap_err();
        assert_eq!(key_of(err), "datasets[0].protocol.split");
    }

    #[test]
    fn a_tolerance_needs_rows_in_time_order() {
        let dir = registry_dir();
        let err = plan(
            &dir,
            "datasets: [iid]\ncost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}\n",
        )
        .unwrap_err();
        assert_eq!(key_of(err), "cost_model.tolerance");
        let err = plan(
            &dir,
            "datasets: [series, {name: iid, cost_model: {c_alarm: 1, c_missed: 5, tolerance: 3}}]\n",
        )
        .unwrap_err();
        assert_eq!(key_of(err), "datasets[1].cost_model.tolerance");
        // The HPC set with its course tolerance and an i.i.d. set with none share one run.
        let p = plan(
            &dir,
            "datasets: [{name: series, cost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}}, iid]\n",
        )
        .unwrap();
        assert_eq!(p.datasets[0].cost_model.tolerance, 12);
        assert_eq!(p.datasets[1].cost_model.tolerance, 0);
        // A split column keeps time order only on a time series.
        let err = plan(
            &dir,
            "datasets: [iid]\nprotocol: {split: {method: column}}\ncost_model: {c_alarm: 1, c_missed: 5, tolerance: 2}\n",
        )
        .unwrap_err();
        assert_eq!(key_of(err), "cost_model.tolerance");
        assert!(plan(
            &dir,
            "datasets: [series]\nprotocol: {split: {method: column}}\ncost_model: {c_alarm: 1, c_missed: 5, tolerance: 2}\n",
        )
        .is_ok());
    }

    #[test]
    fn unknown_names_and_missing_registries_are_explained() {
        let dir = registry_dir();
        let msg = plan(&dir, "datasets: [nope]\n").unwrap_err().to_string();
        assert!(
            msg.contains("`nope`") && msg.contains("series, iid"),
            "{msg}"
        );
        let empty = tempfile::tempdir().unwrap();
        let config = RunConfig::from_yaml_str_in(
            "name: t\nregistry: none.yaml\ndatasets: [a]\nstrategies: [{kind: grid}]\n",
            "t.yaml",
            empty.path(),
        )
        .unwrap();
        let err = Plan::build(&config).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("none.yaml") && msg.contains("file not found"),
            "{msg}"
        );
        assert_eq!(key_of(err), "registry");
    }

    /// Plans `body` over a 40-row file (4 anomalies) and checks it against the loaded data.
    fn check_on_40_rows(body: &str) -> Result<(), PlanError> {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("x,label\n");
        for i in 0..40 {
            text.push_str(&format!("{},{}\n", (i * 7) % 11, u8::from(i % 10 == 0)));
        }
        std::fs::write(dir.path().join("a.csv"), text).unwrap();
        let yaml = format!("name: t\ndatasets: [{{path: a.csv}}]\n{body}");
        let config = RunConfig::from_yaml_str_in(&yaml, "t.yaml", dir.path()).unwrap();
        let plan = Plan::build(&config)?;
        let d = &plan.datasets[0];
        let table = crate::data::read_table(&d.path, &d.read_options).unwrap();
        let prepared = crate::data::prepare(&table, &d.name, &d.protocol, 0).unwrap();
        plan.check_loaded(&config, 0, &prepared)
    }

    #[test]
    fn too_few_rows_for_a_fit_or_for_the_fits_of_its_folds_are_refused() {
        let one_component = "strategies: [{kind: fixed, configs: [{n_components: 1}]}]\n";
        // 2 % of 36 normal rows is one fit row: every trial would fail.
        let err = check_on_40_rows(&format!(
            "protocol: {{split: {{method: stratified, train: 0.02, validation: 0.2}}}}\n{one_component}"
        ))
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("1 fit row") && msg.contains("at least 2"),
            "{msg}"
        );
        assert_eq!(key_of(err), "datasets[0]");
        // 22 fit rows: 18 components fit them, but 5-fold cross-validation fits on 17.
        let eighteen = "strategies: [{kind: fixed, configs: [{n_components: 18}]}]\n";
        assert!(check_on_40_rows(eighteen).is_ok());
        let err = check_on_40_rows(&format!("objective: cv_loglik\n{eighteen}")).unwrap_err();
        assert!(err.to_string().contains("as few as 17"), "{err}");
        assert_eq!(key_of(err), "strategies[0].configs[0].n_components");
        assert!(check_on_40_rows(&format!(
            "objective: cv_loglik\n{}",
            eighteen.replace("18", "17")
        ))
        .is_ok());
        // More folds than fit rows.
        let err = check_on_40_rows(&format!(
            "cv_folds: 23\nmetrics: [cv_loglik]\n{one_component}"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("at least 23 fit rows"), "{err}");
        assert_eq!(key_of(err), "cv_folds");
    }
}
