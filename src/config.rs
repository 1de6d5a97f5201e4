//! The run configuration: a YAML file naming the run, its seed, the datasets, the evaluation
//! protocol, the cost model, the GMM settings, the search space and the strategies.
//!
//! Every unknown key or bad value is an error that names the key. Paths in a config (datasets,
//! registry) are resolved against the current directory.
//!
//! ```
//! let yaml = r#"
//! name: demo
//! seed: 1
//! datasets: [wbc]
//! strategies:
//!   - kind: random
//!     budget: {trials: 5}
//! "#;
//! let config = gmmtune::config::RunConfig::from_yaml_str(yaml, "demo.yaml").unwrap();
//! assert_eq!(config.name, "demo");
//! assert_eq!(config.strategies[0].name, "random");
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Protocol;
use crate::eval::{CostModel, ThresholdSearch};
use crate::search::{Objective, SearchSpace, SearchSpaceSpec, StrategySpec};

/// Errors in a run configuration; each names the file and the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not match the schema (the message names the key and position).
    #[error("config {path}: {message}")]
    Schema { path: String, message: String },
    /// A value is out of range; `key` is its dotted path in the file.
    #[error("config {path}: `{key}`: {message}")]
    Invalid {
        path: String,
        key: String,
        message: String,
    },
}

/// A dataset as a config names it: a registry name or a file with its loading options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DatasetRef {
    /// A name from the dataset registry (`datasets/registry.yaml` by default).
    Name(String),
    /// A CSV or CSV.gz file.
    File(DatasetFile),
}

/// A dataset file named by path in a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetFile {
    /// Path to the CSV or CSV.gz file.
    pub path: PathBuf,
    /// Name used in results; defaults to the file name without extensions.
    #[serde(default)]
    pub name: Option<String>,
    /// Label column (any non-zero value is an anomaly).
    #[serde(default = "default_label_column")]
    pub label_column: String,
    /// Columns that are not features (timestamps, ids).
    #[serde(default)]
    pub exclude_columns: Vec<String>,
}

fn default_label_column() -> String {
    "label".to_string()
}

/// Settings of every EM fit of the run (not searched).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitSettings {
    /// Maximum EM iterations per initialisation.
    pub max_iter: usize,
    /// Convergence threshold on the mean log-likelihood.
    pub tol: f64,
    /// Initialisations per fit; the best lower bound wins.
    pub n_init: usize,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            max_iter: 100,
            tol: 1e-3,
            n_init: 1,
        }
    }
}

/// How much a strategy may spend on one dataset. Both limits may be given; the first reached
/// stops the search. The time is checked before each trial, so the last trial may overshoot.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Maximum number of trials.
    #[serde(default)]
    pub trials: Option<usize>,
    /// Maximum wall time in seconds.
    #[serde(default)]
    pub time_s: Option<f64>,
}

/// One strategy of the run, with its name, budget and optional objective override.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyEntry {
    /// Unique name within the run (defaults to the kind).
    pub name: String,
    /// What the strategy is and its options.
    pub spec: StrategySpec,
    /// Its budget per dataset.
    pub budget: Budget,
    /// The objective it optimises (the run's when not given).
    pub objective: Objective,
}

/// A checked run configuration.
#[derive(Debug, Clone, Serialize)]
pub struct RunConfig {
    /// Name of the run; results go to `reports/<name>/` by default.
    pub name: String,
    /// Seed from which every split, trial and strategy seed derives.
    pub seed: u64,
    /// Registry file used to resolve dataset names.
    pub registry: PathBuf,
    /// Datasets, in order.
    pub datasets: Vec<DatasetRef>,
    /// Split and training protocol.
    pub protocol: Protocol,
    /// Cost model used to choose the threshold on validation.
    pub cost_model: CostModel,
    /// How thresholds are searched on validation.
    pub threshold: ThresholdSearch,
    /// EM settings shared by every trial.
    pub fit: FitSettings,
    /// Default objective of the strategies.
    pub objective: Objective,
    /// Folds of the `cv_loglik` objective.
    pub cv_folds: usize,
    /// Search space shared by the strategies.
    pub space: SearchSpace,
    /// The space as written, kept for the run's fingerprint.
    pub space_spec: SearchSpaceSpec,
    /// Strategies, in order.
    pub strategies: Vec<StrategyEntry>,
    /// Worker threads (default: the number of cores).
    pub jobs: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: String,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_registry")]
    registry: PathBuf,
    datasets: Vec<DatasetRef>,
    #[serde(default)]
    protocol: Protocol,
    #[serde(default)]
    cost_model: Option<RawCostModel>,
    #[serde(default)]
    threshold: Option<ThresholdSearch>,
    #[serde(default)]
    fit: FitSettings,
    #[serde(default)]
    objective: Objective,
    #[serde(default = "default_cv_folds")]
    cv_folds: usize,
    #[serde(default)]
    space: SearchSpaceSpec,
    strategies: Vec<serde_norway::Value>,
    #[serde(default)]
    jobs: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCostModel {
    c_alarm: f64,
    c_missed: f64,
    #[serde(default)]
    tolerance: usize,
}

fn default_registry() -> PathBuf {
    PathBuf::from("datasets/registry.yaml")
}

fn default_cv_folds() -> usize {
    5
}

impl RunConfig {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<RunConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        RunConfig::from_yaml_str(&text, &path.display().to_string())
    }

    /// Parses and checks a config from YAML text; `origin` names it in errors.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<RunConfig, ConfigError> {
        let schema = |e: serde_norway::Error| ConfigError::Schema {
            path: origin.to_string(),
            message: e.to_string(),
        };
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let raw: RawConfig = serde_norway::from_str(text).map_err(schema)?;

        if raw.name.trim().is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                "name",
                format!(
                    "`{}` is not a usable run name: use letters, digits, `-`, `_` or `.`",
                    raw.name
                ),
            ));
        }
        if raw.datasets.is_empty() {
            return Err(invalid("datasets", "list at least one dataset".into()));
        }
        if raw.fit.n_init == 0 {
            return Err(invalid("fit.n_init", "must be at least 1".into()));
        }
        if !(raw.fit.tol >= 0.0 && raw.fit.tol.is_finite()) {
            return Err(invalid("fit.tol", "must be a finite number ≥ 0".into()));
        }
        if raw.cv_folds < 2 {
            return Err(invalid("cv_folds", "must be at least 2".into()));
        }
        if raw.jobs == Some(0) {
            return Err(invalid(
                "jobs",
                "must be at least 1 (or omitted for all cores)".into(),
            ));
        }
        let cost_model = match raw.cost_model {
            None => CostModel::new(1.0, 1.0, 0),
            Some(c) => CostModel::new(c.c_alarm, c.c_missed, c.tolerance),
        }
        .map_err(|e| invalid("cost_model", e.to_string()))?;
        let space = raw
            .space
            .check()
            .map_err(|e| invalid("space", e.to_string()))?;

        if raw.strategies.is_empty() {
            return Err(invalid("strategies", "list at least one strategy".into()));
        }
        let mut strategies = Vec::new();
        let mut names = BTreeSet::new();
        for (i, value) in raw.strategies.into_iter().enumerate() {
            let key = format!("strategies[{i}]");
            let entry = parse_strategy_entry(value, raw.objective, &key, origin)?;
            if !names.insert(entry.name.clone()) {
                return Err(invalid(
                    &format!("{key}.name"),
                    format!(
                        "two strategies are named `{}`: give each a distinct `name`",
                        entry.name
                    ),
                ));
            }
            crate::search::build_strategy(&entry.spec, &space, 0)
                .map_err(|e| invalid(&key, e.to_string()))?;
            strategies.push(entry);
        }

        Ok(RunConfig {
            name: raw.name,
            seed: raw.seed,
            registry: raw.registry,
            datasets: raw.datasets,
            protocol: raw.protocol,
            cost_model,
            threshold: raw.threshold.unwrap_or(ThresholdSearch::CutPoints),
            fit: raw.fit,
            objective: raw.objective,
            cv_folds: raw.cv_folds,
            space,
            space_spec: raw.space,
            strategies,
            jobs: raw.jobs,
        })
    }

    /// A stable fingerprint of everything that decides the trials' results; a journal written
    /// under another fingerprint cannot be resumed.
    pub fn fingerprint(&self) -> String {
        let value = serde_json::json!({
            "seed": self.seed,
            "datasets": self.datasets,
            "protocol": self.protocol,
            "cost_model": self.cost_model,
            "threshold": self.threshold,
            "fit": self.fit,
            "objective": self.objective,
            "cv_folds": self.cv_folds,
            "space": self.space_spec,
            "strategies": self.strategies,
        });
        format!(
            "{:016x}",
            crate::search::seed::stable_hash(&value.to_string())
        )
    }
}

/// Splits a strategy entry into its own keys (`name`, `budget`, `objective`) and the strategy
/// specification, which is checked with unknown keys denied.
fn parse_strategy_entry(
    value: serde_norway::Value,
    default_objective: Objective,
    key: &str,
    origin: &str,
) -> Result<StrategyEntry, ConfigError> {
    let err = |message: String| ConfigError::Invalid {
        path: origin.to_string(),
        key: key.to_string(),
        message,
    };
    let serde_norway::Value::Mapping(mut map) = value else {
        return Err(err(
            "each strategy is a mapping such as `{kind: random, budget: {trials: 20}}`".into(),
        ));
    };
    let take = |map: &mut serde_norway::Mapping, name: &str| {
        map.remove(serde_norway::Value::String(name.to_string()))
    };
    let name = take(&mut map, "name")
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| err("`name` must be a string".into()))
        })
        .transpose()?;
    let budget: Budget = match take(&mut map, "budget") {
        Some(v) => serde_norway::from_value(v).map_err(|e| err(format!("budget: {e}")))?,
        None => Budget::default(),
    };
    let objective: Objective = match take(&mut map, "objective") {
        Some(v) => serde_norway::from_value(v).map_err(|e| err(format!("objective: {e}")))?,
        None => default_objective,
    };
    let kind = map
        .get(serde_norway::Value::String("kind".into()))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| err("missing `kind` (fixed, grid, random or cfo)".into()))?;
    // serde accepts stray keys next to the tag of a variant without fields, so every key is
    // checked here against those the kind takes.
    let allowed: &[&str] = match kind.as_str() {
        "fixed" => &["kind", "configs"],
        "cfo" => &["kind", "max_failure", "low_cost", "concurrent_trials"],
        _ => &["kind"],
    };
    if let Some(stray) = map
        .keys()
        .filter_map(|k| k.as_str())
        .find(|k| !allowed.contains(k))
    {
        let mut expected: Vec<&str> = allowed[1..].to_vec();
        expected.extend(["name", "budget", "objective"]);
        return Err(err(format!(
            "unknown key `{stray}` for a `{kind}` strategy (expected: {})",
            expected.join(", ")
        )));
    }
    let spec: StrategySpec = serde_norway::from_value(serde_norway::Value::Mapping(map))
        .map_err(|e| err(e.to_string()))?;
    if let Some(t) = budget.time_s {
        if !(t > 0.0 && t.is_finite()) {
            return Err(err(
                "budget.time_s must be a positive number of seconds".into()
            ));
        }
    }
    if budget.trials == Some(0) {
        return Err(err("budget.trials must be at least 1".into()));
    }
    let unbounded = budget.trials.is_none() && budget.time_s.is_none();
    if unbounded && matches!(kind.as_str(), "random" | "cfo") {
        return Err(err(format!(
            "a `{kind}` search needs a budget: `budget: {{trials: N}}` and/or `budget: {{time_s: S}}`"
        )));
    }
    Ok(StrategyEntry {
        name: name.unwrap_or(kind),
        spec,
        budget,
        objective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<RunConfig, ConfigError> {
        RunConfig::from_yaml_str(yaml, "test.yaml")
    }

    const MINIMAL: &str = "name: t\ndatasets: [wbc]\nstrategies:\n  - kind: grid\n";

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.seed, 0);
        assert_eq!(c.fit, FitSettings::default());
        assert_eq!(c.objective, Objective::ValAuc);
        assert_eq!(c.cv_folds, 5);
        assert_eq!(c.registry, PathBuf::from("datasets/registry.yaml"));
        assert_eq!(c.strategies[0].budget, Budget::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("name: t\ndatasets: [wbc]\nseeed: 3\nstrategies: [{kind: grid}]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("seeed"), "{err}");
        let err = parse("name: t\ndatasets: [wbc]\nstrategies: [{kind: grid, budjet: 3}]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("budjet") && err.contains("strategies[0]"),
            "{err}"
        );
        let err =
            parse("name: t\ndatasets: [wbc]\nfit: {max_iters: 3}\nstrategies: [{kind: grid}]\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("max_iters"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("name: 'a b'\ndatasets: [wbc]\nstrategies: [{kind: grid}]\n", "name"),
            ("name: t\ndatasets: []\nstrategies: [{kind: grid}]\n", "datasets"),
            ("name: t\ndatasets: [wbc]\nstrategies: []\n", "strategies"),
            ("name: t\ndatasets: [wbc]\nfit: {n_init: 0}\nstrategies: [{kind: grid}]\n", "fit.n_init"),
            ("name: t\ndatasets: [wbc]\ncv_folds: 1\nstrategies: [{kind: grid}]\n", "cv_folds"),
            ("name: t\ndatasets: [wbc]\njobs: 0\nstrategies: [{kind: grid}]\n", "jobs"),
            ("name: t\ndatasets: [wbc]\ncost_model: {c_alarm: -1, c_missed: 5}\nstrategies: [{kind: grid}]\n", "cost_model"),
            ("name: t\ndatasets: [wbc]\nstrategies: [{kind: random}]\n", "strategies[0]"),
            ("name: t\ndatasets: [wbc]\nstrategies: [{kind: grid}, {kind: grid}]\n", "strategies[1].name"),
            ("name: t\ndatasets: [wbc]\nstrategies: [{kind: random, budget: {trials: 0}}]\n", "strategies[0]"),
        ];
        for (yaml, key) in cases {
            match parse(yaml) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{yaml}"),
                other => panic!("{yaml}: expected an error on {key}, got {other:?}"),
            }
        }
    }

    #[test]
    fn strategy_entries_keep_name_budget_and_objective() {
        let c = parse(
            "name: t\ndatasets: [wbc]\nobjective: val_cost\nstrategies:\n  - {kind: random, name: r1, budget: {trials: 3, time_s: 2.5}}\n  - {kind: grid, objective: bic}\n",
        )
        .unwrap();
        assert_eq!(c.strategies[0].name, "r1");
        assert_eq!(
            c.strategies[0].budget,
            Budget {
                trials: Some(3),
                time_s: Some(2.5)
            }
        );
        assert_eq!(c.strategies[0].objective, Objective::ValCost);
        assert_eq!(c.strategies[1].objective, Objective::Bic);
    }

    #[test]
    fn fingerprint_changes_with_what_decides_results() {
        let a = parse(MINIMAL).unwrap().fingerprint();
        let b = parse(&MINIMAL.replace("name: t", "name: t\nseed: 2"))
            .unwrap()
            .fingerprint();
        assert_ne!(a, b);
        let c = parse(&MINIMAL.replace("name: t", "name: other"))
            .unwrap()
            .fingerprint();
        assert_eq!(a, c, "the run name does not decide results");
    }
}
