//! The run configuration: a YAML file naming the run, its seeds, the datasets, the evaluation
//! protocol, the cost model, the GMM settings, the search space and the strategies.
//!
//! Every unknown key or bad value is an error that names the key. Relative paths in a config
//! (dataset files, the registry) are resolved against the config file's directory. Without a
//! `registry` key, dataset names are looked up in the registry [`crate::data::Registry::discover`]
//! finds.
//!
//! ```
//! let yaml = r#"
//! name: demo
//! seeds: [1, 2, 3]
//! datasets: [wbc, {name: hpc, cost_model: {c_alarm: 1, c_missed: 5, tolerance: 12}}]
//! strategies:
//!   - kind: random
//!     budget: {trials: 5}
//! "#;
//! let config = gmmtune::config::RunConfig::from_yaml_str(yaml, "demo.yaml").unwrap();
//! assert_eq!(config.name, "demo");
//! assert_eq!(config.seeds, [1, 2, 3]);
//! assert_eq!(config.strategies[0].name, "random");
//! ```

mod datasets;
mod strategies;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Protocol;
use crate::eval::{CostModel, EvalError, Objective, ThresholdSearch};
use crate::gmm_config::FitSettings;
use crate::search::{SearchSpace, SearchSpaceSpec};

pub use datasets::{file_stem, DatasetEntry, DatasetSource, ProtocolOverride};
pub use strategies::StrategyEntry;

/// Errors in a run configuration; each names the file and the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The config file.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not match the schema (the message names the key and position).
    #[error("config {path}: {message}")]
    Schema {
        /// The config file.
        path: String,
        /// What serde said.
        message: String,
    },
    /// A value is out of range; `key` is its dotted path in the file.
    #[error("config {path}: `{key}`: {message}")]
    Invalid {
        /// The config file.
        path: String,
        /// Dotted path of the key.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// A figure every trial measures on top of those it always measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraMetric {
    /// The k-fold held-out log-likelihood of the fit rows (`cv_folds` more fits per trial).
    CvLoglik,
}

/// The most worker threads a config may ask for.
pub const MAX_JOBS: usize = 1024;

/// A checked run configuration.
#[derive(Debug, Clone, Serialize)]
pub struct RunConfig {
    /// Name of the run; results go to `reports/<name>/` by default.
    pub name: String,
    /// The repetition seeds: every dataset × strategy runs once per seed, each seed with its
    /// own split, strategy and fit seeds (`seed: N` is `seeds: [N]`).
    pub seeds: Vec<u64>,
    /// Registry file named by the config (resolved), if any.
    pub registry: Option<PathBuf>,
    /// Directory relative paths were resolved against (the config file's).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file, for messages.
    #[serde(skip)]
    pub origin: String,
    /// Datasets, in order.
    pub datasets: Vec<DatasetEntry>,
    /// Split and training protocol (datasets may override it).
    pub protocol: Protocol,
    /// Cost model used to choose the threshold on validation (datasets may override it).
    pub cost_model: CostModel,
    /// How thresholds are searched on validation.
    pub threshold: ThresholdSearch,
    /// EM settings shared by every trial.
    pub fit: FitSettings,
    /// Default objective of the strategies.
    pub objective: Objective,
    /// Folds of the `cv_loglik` figure.
    pub cv_folds: usize,
    /// Most fit rows the `cv_loglik` figure uses (the first ones, a random sample under a
    /// stratified split); `None` = all.
    pub cv_max_rows: Option<usize>,
    /// Quantile of the fit rows' anomaly scores that sets the label-free threshold every trial
    /// also reports costs at.
    pub score_quantile: f64,
    /// Figures measured by every trial besides the usual ones.
    pub metrics: Vec<ExtraMetric>,
    /// Search space shared by the strategies.
    #[serde(skip)]
    pub space: SearchSpace,
    /// The space as written.
    #[serde(rename = "space")]
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
    seed: Option<u64>,
    #[serde(default)]
    seeds: Option<Vec<u64>>,
    #[serde(default)]
    registry: Option<PathBuf>,
    datasets: Vec<serde_norway::Value>,
    #[serde(default)]
    protocol: Protocol,
    #[serde(default)]
    cost_model: Option<RawCostModel>,
    #[serde(default)]
    threshold: Option<RawThreshold>,
    #[serde(default)]
    fit: FitSettings,
    #[serde(default)]
    objective: Objective,
    #[serde(default = "default_cv_folds")]
    cv_folds: usize,
    #[serde(default)]
    cv_max_rows: Option<usize>,
    #[serde(default = "default_score_quantile")]
    score_quantile: f64,
    #[serde(default)]
    metrics: Vec<ExtraMetric>,
    #[serde(default)]
    space: SearchSpaceSpec,
    strategies: Vec<serde_norway::Value>,
    #[serde(default)]
    jobs: Option<usize>,
}

/// A cost model as written (the tolerance defaults to 0).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCostModel {
    c_alarm: f64,
    c_missed: f64,
    #[serde(default)]
    tolerance: usize,
}

impl RawCostModel {
    pub(crate) fn check(self) -> Result<CostModel, EvalError> {
        CostModel::new(self.c_alarm, self.c_missed, self.tolerance)
    }
}

/// A threshold search as written, checked with the key of each field named.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method", deny_unknown_fields)]
enum RawThreshold {
    CutPoints,
    Linspace { low: f64, high: f64, n: usize },
}

impl RawThreshold {
    /// The checked search, or the key (`threshold.n`, ...) and what is wrong.
    fn check(self) -> Result<ThresholdSearch, (String, String)> {
        match self {
            RawThreshold::CutPoints => Ok(ThresholdSearch::CutPoints),
            RawThreshold::Linspace { low, high, n } => ThresholdSearch::linspace(low, high, n)
                .map_err(|e| {
                    let key = match &e {
                        EvalError::InvalidLinspaceBound { key, .. } => format!("threshold.{key}"),
                        EvalError::EmptyLinspace | EvalError::TooManyLinspacePoints { .. } => {
                            "threshold.n".into()
                        }
                        _ => "threshold".into(),
                    };
                    (key, e.to_string())
                }),
        }
    }
}

/// The most EM iterations per fit a config may ask for.
pub const MAX_ITER: usize = 1_000_000;

/// The most initialisations per fit a config may ask for.
pub const MAX_N_INIT: usize = 10_000;

fn default_cv_folds() -> usize {
    5
}

fn default_score_quantile() -> f64 {
    crate::journal::DEFAULT_SCORE_QUANTILE
}

impl RunConfig {
    /// Reads and checks a config file; relative paths in it are resolved against its directory.
    pub fn load(path: &Path) -> Result<RunConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        RunConfig::from_yaml_str_in(&text, &path.display().to_string(), &base_dir)
    }

    /// Parses and checks a config from YAML text; `origin` names it in errors and relative
    /// paths are resolved against the current directory.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<RunConfig, ConfigError> {
        RunConfig::from_yaml_str_in(text, origin, Path::new(""))
    }

    /// Parses and checks a config from YAML text, resolving relative paths against `base_dir`.
    pub fn from_yaml_str_in(
        text: &str,
        origin: &str,
        base_dir: &Path,
    ) -> Result<RunConfig, ConfigError> {
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
            || raw.name.starts_with('.')
        {
            return Err(invalid(
                "name",
                format!(
                    "`{}` is not a usable run name: use letters, digits, `-`, `_` or `.` (not first)",
                    raw.name.escape_debug()
                ),
            ));
        }
        let seeds = match (raw.seed, raw.seeds) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "seeds",
                    "give `seed: N` or `seeds: [N, ...]`, not both".into(),
                ));
            }
            (Some(seed), None) => vec![seed],
            (None, Some(seeds)) => seeds,
            (None, None) => vec![0],
        };
        if seeds.is_empty() {
            return Err(invalid("seeds", "list at least one seed".into()));
        }
        if let Some(i) = (1..seeds.len()).find(|&i| seeds[..i].contains(&seeds[i])) {
            return Err(invalid(
                &format!("seeds[{i}]"),
                format!("seed {} is listed twice; list each seed once", seeds[i]),
            ));
        }
        if raw.datasets.is_empty() {
            return Err(invalid("datasets", "list at least one dataset".into()));
        }
        let datasets = raw
            .datasets
            .into_iter()
            .enumerate()
            .map(|(i, v)| datasets::parse_dataset_entry(v, i, base_dir, origin))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = BTreeSet::new();
        for (i, d) in datasets.iter().enumerate() {
            if !names.insert(d.display_name()) {
                return Err(invalid(
                    &format!("datasets[{i}]"),
                    format!(
                        "a second dataset named `{}`: give one of them a distinct `name`",
                        d.display_name()
                    ),
                ));
            }
        }
        if raw.fit.n_init == 0 {
            return Err(invalid("fit.n_init", "must be at least 1".into()));
        }
        if raw.fit.n_init > MAX_N_INIT {
            return Err(invalid(
                "fit.n_init",
                format!(
                    "{} initialisations per fit is more than gmmtune runs (at most {MAX_N_INIT})",
                    raw.fit.n_init
                ),
            ));
        }
        if raw.fit.max_iter > MAX_ITER {
            return Err(invalid(
                "fit.max_iter",
                format!(
                    "{} EM iterations per fit is more than gmmtune runs (at most {MAX_ITER}); raise `fit.tol` instead if fits stop too early",
                    raw.fit.max_iter
                ),
            ));
        }
        if !(raw.fit.tol >= 0.0 && raw.fit.tol.is_finite()) {
            return Err(invalid("fit.tol", "must be a finite number ≥ 0".into()));
        }
        if raw.cv_folds < 2 {
            return Err(invalid("cv_folds", "must be at least 2".into()));
        }
        if let Some(rows) = raw.cv_max_rows
            && rows < raw.cv_folds
        {
            return Err(invalid(
                    "cv_max_rows",
                    format!(
                        "{rows} rows cannot make {} folds: give at least `cv_folds` rows, or leave it out to use every fit row",
                        raw.cv_folds
                    ),
                ));
        }
        if !(raw.score_quantile > 0.0 && raw.score_quantile < 1.0) {
            return Err(invalid(
                "score_quantile",
                format!(
                    "{} is not a quantile strictly between 0 and 1 (0.99: one normal training row in a hundred alarms)",
                    raw.score_quantile
                ),
            ));
        }
        match raw.jobs {
            Some(0) => {
                return Err(invalid(
                    "jobs",
                    "must be at least 1 (or omitted for all cores)".into(),
                ));
            }
            Some(j) if j > MAX_JOBS => {
                return Err(invalid(
                    "jobs",
                    format!("{j} threads is more than gmmtune starts (at most {MAX_JOBS})"),
                ));
            }
            _ => {}
        }
        raw.protocol
            .split
            .check()
            .map_err(|e| invalid("protocol.split", e.to_string()))?;
        let cost_model = match raw.cost_model {
            None => CostModel::new(1.0, 1.0, 0),
            Some(c) => c.check(),
        }
        .map_err(|e| invalid("cost_model", e.to_string()))?;
        let threshold = match raw.threshold {
            None => ThresholdSearch::CutPoints,
            Some(t) => t.check().map_err(|(key, message)| invalid(&key, message))?,
        };
        let space = raw
            .space
            .check()
            .map_err(|e| invalid(e.key(), e.reason().to_string()))?;

        if raw.strategies.is_empty() {
            return Err(invalid("strategies", "list at least one strategy".into()));
        }
        let mut strategies = Vec::new();
        let mut names = BTreeSet::new();
        for (i, value) in raw.strategies.into_iter().enumerate() {
            let key = format!("strategies[{i}]");
            let entry =
                strategies::parse_strategy_entry(value, raw.objective, &key, origin, base_dir)?;
            if !names.insert(entry.name.clone()) {
                return Err(invalid(
                    &format!("{key}.name"),
                    format!(
                        "two strategies are named `{}`: give each a distinct `name`",
                        entry.name
                    ),
                ));
            }
            crate::search::check_strategy(&entry.spec, &space)
                .map_err(|e| invalid(&key, e.to_string()))?;
            if let crate::search::StrategySpec::Zeroshot { portfolio, .. } = &entry.spec {
                let loaded = crate::search::load_portfolio(portfolio.as_ref())
                    .map_err(|e| invalid(&key, e.to_string()))?;
                let mined = loaded.label_free_threshold.quantile;
                if mined != raw.score_quantile {
                    return Err(invalid(
                        "score_quantile",
                        format!(
                            "the portfolio of strategies[{i}] sets the label-free threshold at the {mined} quantile of the training scores, and this run at {}: set `score_quantile: {mined}`",
                            raw.score_quantile
                        ),
                    ));
                }
            }
            strategies.push(entry);
        }

        let mut metrics = raw.metrics;
        metrics.sort();
        metrics.dedup();
        Ok(RunConfig {
            name: raw.name,
            seeds,
            registry: raw.registry.map(|r| base_dir.join(r)),
            base_dir: base_dir.to_path_buf(),
            origin: origin.to_string(),
            datasets,
            protocol: raw.protocol,
            cost_model,
            threshold,
            fit: raw.fit,
            objective: raw.objective,
            cv_folds: raw.cv_folds,
            cv_max_rows: raw.cv_max_rows,
            score_quantile: raw.score_quantile,
            metrics,
            space,
            space_spec: raw.space,
            strategies,
            jobs: raw.jobs,
        })
    }

    /// Whether every trial measures the cross-validated log-likelihood: asked in `metrics`, or
    /// some strategy optimises it.
    pub fn measures_cv(&self) -> bool {
        self.metrics.contains(&ExtraMetric::CvLoglik)
            || self
                .strategies
                .iter()
                .any(|s| s.objective == Objective::CvLoglik)
    }

    /// The strategies whose objective needs anomaly labels.
    pub fn strategies_needing_labels(&self) -> Vec<&str> {
        self.strategies
            .iter()
            .filter(|s| s.objective.needs_labels())
            .map(|s| s.name.as_str())
            .collect()
    }

    /// The config as it decides results, as JSON: everything but the run name, the worker
    /// threads and where files are (dataset files are identified by their content instead).
    pub fn decisive_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.remove("name");
            map.remove("jobs");
            map.remove("registry");
            if let Some(serde_json::Value::Array(datasets)) = map.get_mut("datasets") {
                for (d, entry) in datasets.iter_mut().zip(&self.datasets) {
                    if let Some(d) = d.as_object_mut() {
                        d.remove("source");
                        d.insert("name".into(), entry.display_name().into());
                    }
                }
            }
        }
        value
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Budget;

    fn parse(yaml: &str) -> Result<RunConfig, ConfigError> {
        RunConfig::from_yaml_str(yaml, "test.yaml")
    }

    fn key_of(yaml: &str) -> String {
        match parse(yaml) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("{yaml}: expected an error naming a key, got {other:?}"),
        }
    }

    const MINIMAL: &str = "name: t\ndatasets: [wbc]\nstrategies:\n  - kind: grid\n";

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.seeds, [0]);
        assert_eq!(c.fit, FitSettings::default());
        assert_eq!(c.objective, Objective::ValAuc);
        assert_eq!(c.cv_folds, 5);
        assert_eq!(c.registry, None);
        assert!(c.metrics.is_empty());
        assert!(!c.measures_cv());
        assert_eq!(c.strategies[0].budget, Budget::default());
    }

    #[test]
    fn seeds_and_extra_metrics() {
        let c = parse(&MINIMAL.replace("name: t", "name: t\nseeds: [3, 1]\nmetrics: [cv_loglik]"))
            .unwrap();
        assert_eq!(c.seeds, [3, 1]);
        assert!(c.measures_cv());
        let c = parse(&MINIMAL.replace("name: t", "name: t\nseed: 9")).unwrap();
        assert_eq!(c.seeds, [9]);
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let c = RunConfig::from_yaml_str_in(
            "name: t\nregistry: ../datasets/r.yaml\ndatasets: [{path: d/a.csv}]\nstrategies: [{kind: grid}]\n",
            "cfg/t.yaml",
            Path::new("cfg"),
        )
        .unwrap();
        assert_eq!(c.registry, Some(PathBuf::from("cfg/../datasets/r.yaml")));
        assert_eq!(
            c.datasets[0].source,
            DatasetSource::File(PathBuf::from("cfg/d/a.csv"))
        );
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
        let err = parse("name: t\ndatasets: [{pth: a.csv}]\nstrategies: [{kind: grid}]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`pth`") && err.contains("datasets[0]"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                "name: 'a b'\ndatasets: [wbc]\nstrategies: [{kind: grid}]\n",
                "name",
            ),
            (
                "name: t\ndatasets: []\nstrategies: [{kind: grid}]\n",
                "datasets",
            ),
            (
                "name: t\ndatasets: [wbc, wbc]\nstrategies: [{kind: grid}]\n",
                "datasets[1]",
            ),
            ("name: t\ndatasets: [wbc]\nstrategies: []\n", "strategies"),
            (
                "name: t\ndatasets: [wbc]\nfit: {n_init: 0}\nstrategies: [{kind: grid}]\n",
                "fit.n_init",
            ),
            (
                "name: t\ndatasets: [wbc]\nfit: {tol: -1}\nstrategies: [{kind: grid}]\n",
                "fit.tol",
            ),
            (
                "name: t\ndatasets: [wbc]\ncv_folds: 1\nstrategies: [{kind: grid}]\n",
                "cv_folds",
            ),
            (
                "name: t\ndatasets: [wbc]\ncv_max_rows: 3\nstrategies: [{kind: grid}]\n",
                "cv_max_rows",
            ),
            (
                "name: t\ndatasets: [wbc]\nscore_quantile: 1\nstrategies: [{kind: grid}]\n",
                "score_quantile",
            ),
            (
                "name: t\ndatasets: [wbc]\njobs: 0\nstrategies: [{kind: grid}]\n",
                "jobs",
            ),
            (
                "name: t\ndatasets: [wbc]\njobs: 100000\nstrategies: [{kind: grid}]\n",
                "jobs",
            ),
            (
                "name: t\nseed: 1\nseeds: [2]\ndatasets: [wbc]\nstrategies: [{kind: grid}]\n",
                "seeds",
            ),
            (
                "name: t\nseeds: []\ndatasets: [wbc]\nstrategies: [{kind: grid}]\n",
                "seeds",
            ),
            (
                "name: t\nseeds: [1, 1]\ndatasets: [wbc]\nstrategies: [{kind: grid}]\n",
                "seeds[1]",
            ),
            (
                "name: t\ndatasets: [wbc]\ncost_model: {c_alarm: -1, c_missed: 5}\nstrategies: [{kind: grid}]\n",
                "cost_model",
            ),
            (
                "name: t\ndatasets: [wbc]\nprotocol: {split: {method: stratified, train: 0.9, validation: 0.2}}\nstrategies: [{kind: grid}]\n",
                "protocol.split",
            ),
            (
                "name: t\ndatasets: [wbc]\nstrategies: [{kind: random}]\n",
                "strategies[0]",
            ),
            (
                "name: t\ndatasets: [wbc]\nstrategies: [{kind: grid}, {kind: grid}]\n",
                "strategies[1].name",
            ),
            (
                "name: t\ndatasets: [wbc]\nstrategies: [{kind: random, budget: {trials: 0}}]\n",
                "strategies[0]",
            ),
            (
                "name: t\ndatasets: [wbc]\nstrategies: [{kind: random, budget: {time_s: -1}}]\n",
                "strategies[0]",
            ),
            (
                "name: t\ndatasets: [wbc]\nspace: {n_components: {low: 1, high: 18446744073709551615}}\nstrategies: [{kind: grid}]\n",
                "space.n_components.high",
            ),
            (
                "name: t\ndatasets: [wbc]\nspace: {n_components: {low: 1, high: 8, grid: 100000000}}\nstrategies: [{kind: grid}]\n",
                "space.n_components.grid",
            ),
        ];
        for (yaml, key) in cases {
            assert_eq!(key_of(yaml), key, "{yaml}");
        }
    }

    #[test]
    fn threshold_and_fit_limits_name_their_key() {
        for (body, key) in [
            (
                "threshold: {method: linspace, low: 0, high: 1, n: 18446744073709551615}",
                "threshold.n",
            ),
            (
                "threshold: {method: linspace, low: 0, high: 1, n: 0}",
                "threshold.n",
            ),
            (
                "threshold: {method: linspace, low: .nan, high: 1, n: 3}",
                "threshold.low",
            ),
            (
                "threshold: {method: linspace, low: -1.0e308, high: 1.0e308, n: 3}",
                "threshold",
            ),
            (
                "fit: {max_iter: 18446744073709551615, tol: 0}",
                "fit.max_iter",
            ),
            ("fit: {n_init: 18446744073709551615}", "fit.n_init"),
        ] {
            let yaml = format!("name: t\ndatasets: [wbc]\n{body}\nstrategies: [{{kind: grid}}]\n");
            assert_eq!(key_of(&yaml), key, "{yaml}");
        }
        let c = parse("name: t\ndatasets: [wbc]\nthreshold: {method: linspace, low: 0, high: 1, n: 5}\nfit: {max_iter: 1000000, n_init: 10000}\nstrategies: [{kind: grid}]\n").unwrap();
        assert_eq!(
            c.threshold,
            ThresholdSearch::Linspace {
                low: 0.0,
                high: 1.0,
                n: 5
            }
        );
        assert!(parse("name: t\ndatasets: [wbc]\nthreshold: {method: linspace, low: 0, high: 1}\nstrategies: [{kind: grid}]\n").is_err());
    }

    #[test]
    fn absurd_numbers_are_schema_errors_not_overflows() {
        for yaml in [
            "name: t\ndatasets: [wbc]\nstrategies: [{kind: random, budget: {trials: 1.0e30}}]\n",
            "name: t\nseed: -1\ndatasets: [wbc]\nstrategies: [{kind: grid}]\n",
        ] {
            let err = parse(yaml).unwrap_err().to_string();
            assert!(err.contains("test.yaml"), "{err}");
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
        assert_eq!(c.strategies_needing_labels(), ["r1"]);
    }

    #[test]
    fn the_decisive_config_leaves_out_names_threads_and_paths() {
        let a = parse(MINIMAL).unwrap().decisive_json();
        let b = parse(&MINIMAL.replace("name: t", "name: other\njobs: 3")).unwrap();
        assert_eq!(a, b.decisive_json());
        let c = parse(&MINIMAL.replace("name: t", "name: t\nseed: 2")).unwrap();
        assert_ne!(a, c.decisive_json());
        let f1 = RunConfig::from_yaml_str_in(
            "name: t\ndatasets: [{path: a.csv}]\nstrategies: [{kind: grid}]\n",
            "x",
            Path::new("one"),
        )
        .unwrap();
        let f2 = RunConfig::from_yaml_str_in(
            "name: t\ndatasets: [{path: a.csv}]\nstrategies: [{kind: grid}]\n",
            "x",
            Path::new("two"),
        )
        .unwrap();
        assert_eq!(f1.decisive_json(), f2.decisive_json());
    }
}
