//! The portfolio file: the best-practice configurations mined across datasets, as YAML a person
//! can read and edit, with where they came from.
//!
//! It holds the single best practice, a small portfolio chosen greedily (FLAML's excess-regret
//! rule), the label-free threshold's quantile, and, for each mining dataset, its label-free
//! meta-features and the regret of every portfolio configuration there, so a new dataset is
//! matched to its nearest mining datasets; plus, per hyperparameter, how each value does with
//! the others at their best, and a rule in one meta-feature where one helped on the mining
//! datasets. [`Portfolio::check`] refuses a file of another format, of another build's
//! meta-features, or whose lists do not fit together, naming the key.
//!
//! ```
//! let portfolio = gmmtune::zeroshot::Portfolio::builtin();
//! assert!(!portfolio.configs.is_empty());
//! assert!(portfolio.best_practice < portfolio.configs.len());
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::evidence::RunSource;
use super::meta_features::{MetaFeatures, META_FEATURE_NAMES};
use super::regret::Score;
use crate::gmm::{CovarianceType, InitMethod};
use crate::gmm_config::GmmConfig;

/// The portfolio file format this build reads and writes.
pub const PORTFOLIO_FORMAT: u32 = 1;

/// The portfolio shipped with gmmtune (`configs/best_practice.yaml`, mined on every shipped
/// ADBench set), used when a zero-shot strategy names no `portfolio`.
pub const BUILTIN_PORTFOLIO: &str = include_str!("../../configs/best_practice.yaml");

/// Why a portfolio file cannot be used.
#[derive(Debug, Error)]
pub enum PortfolioError {
    /// The file could not be read or written.
    #[error("portfolio {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Not a portfolio (the message names the key and position).
    #[error("portfolio {path}: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Made by a build that writes another format, or with other meta-features.
    #[error("portfolio {path}: {message}; mine it again with this gmmtune ({version}): `gmmtune mine RUN_DIR... --output FILE`", version = crate::journal::GMMTUNE_VERSION)]
    Incompatible {
        /// The file.
        path: String,
        /// What differs.
        message: String,
    },
}

/// Where a portfolio came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The runs mined.
    pub runs: Vec<RunSource>,
    /// The mining datasets.
    pub datasets: Vec<String>,
    /// Their families.
    pub families: Vec<String>,
    /// The seeds (each a split and fits of its own).
    pub seeds: Vec<u64>,
    /// The figures regrets were measured in.
    pub score: Score,
    /// FLAML's regret bound of the greedy portfolio.
    pub regret_bound: f64,
    /// Configurations measured on every dataset and seed (the candidates).
    pub candidates: usize,
}

/// The label-free threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelFreeThreshold {
    /// Quantile of the fit rows' anomaly scores a row must exceed to alarm.
    pub quantile: f64,
}

/// How meta-features are compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaFeatureScaling {
    /// Names, in the order of every `meta_features` list of the file.
    pub names: Vec<String>,
    /// The names the distance between datasets uses.
    pub distance: Vec<String>,
    /// Robust centre (median over the mining datasets) of each.
    pub center: Vec<f64>,
    /// Robust scale (interquartile range, 1 where it is 0) of each.
    pub scale: Vec<f64>,
}

/// One configuration of the portfolio and how it did on the mining datasets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioConfig {
    /// The configuration.
    pub config: GmmConfig,
    /// Why it is in the portfolio (`greedy step N`, `best practice`, `scikit-learn default`).
    pub role: String,
    /// Mean regret in AUC over the mining datasets (each the mean over seeds).
    pub mean_regret: f64,
    /// Standard deviation over seeds of the mean regret.
    pub regret_seed_spread: f64,
    /// Mean regret in the cost ratio.
    pub mean_cost_regret: f64,
    /// Mean rank among every configuration measured (1 = best).
    pub mean_rank: f64,
}

/// One mining dataset: its meta-features and how each portfolio configuration did there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neighbour {
    /// The dataset.
    pub dataset: String,
    /// Its family.
    pub family: String,
    /// Its meta-features (mean over seeds; unscaled), in `meta_features.names` order.
    pub meta_features: Vec<f64>,
    /// Regret in AUC of each portfolio configuration (mean over seeds).
    pub regret: Vec<f64>,
    /// Regret in the cost ratio of each portfolio configuration.
    pub cost_regret: Vec<f64>,
    /// Portfolio indices from the lowest regret here to the highest.
    pub choice: Vec<usize>,
}

/// One value of a hyperparameter, the others at the best practice's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueStudy {
    /// The value, as in a config file.
    pub value: String,
    /// Mean rank among the values of this hyperparameter (1 = best).
    pub mean_rank: f64,
    /// Mean regret in AUC.
    pub mean_regret: f64,
    /// Standard deviation over seeds of the mean regret.
    pub regret_seed_spread: f64,
}

/// A hyperparameter's value as a step in one meta-feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule in words.
    pub text: String,
    /// The meta-feature.
    pub feature: String,
    /// The step.
    pub threshold: f64,
    /// The value below the step.
    pub below: String,
    /// The value at or above it.
    pub above: String,
    /// Mean regret on the mining datasets with the rule.
    pub mining_regret: f64,
    /// Mean regret on the mining datasets with the best constant.
    pub constant_regret: f64,
}

/// What the mining datasets say about one hyperparameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperparameterStudy {
    /// `n_components`, `covariance_type`, `reg_covar` or `init`.
    pub name: String,
    /// The best constant value (the best practice's).
    pub best: String,
    /// Each value of the candidates.
    pub values: Vec<ValueStudy>,
    /// A rule that lowered the regret on the mining datasets, if one did.
    pub rule: Option<Rule>,
}

/// A mined portfolio (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portfolio {
    /// File format ([`PORTFOLIO_FORMAT`]).
    pub format: u32,
    /// The gmmtune that mined it.
    pub gmmtune_version: String,
    /// What it is, in words.
    pub description: String,
    /// Where it came from.
    pub provenance: Provenance,
    /// The label-free threshold its trials were measured with.
    pub label_free_threshold: LabelFreeThreshold,
    /// Meta-feature names, distance and scaling.
    pub meta_features: MetaFeatureScaling,
    /// Index in `configs` of the single best practice (lowest mean regret, ties by mean rank).
    pub best_practice: usize,
    /// Index in `configs` of scikit-learn's default, when it was a candidate.
    pub sklearn_default: Option<usize>,
    /// The portfolio.
    pub configs: Vec<PortfolioConfig>,
    /// The mining datasets.
    pub neighbours: Vec<Neighbour>,
    /// Per hyperparameter, the value that does best and any rule.
    pub hyperparameters: Vec<HyperparameterStudy>,
}

impl Portfolio {
    /// Reads and checks a portfolio file.
    pub fn load(path: &Path) -> Result<Portfolio, PortfolioError> {
        let text = std::fs::read_to_string(path).map_err(|source| PortfolioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Portfolio::from_yaml_str(&text, &path.display().to_string())
    }

    /// Parses and checks a portfolio; `origin` names it in errors.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Portfolio, PortfolioError> {
        #[derive(Deserialize)]
        struct Head {
            format: Option<serde_norway::Value>,
        }
        let head: Head = serde_norway::from_str(text).map_err(|e| PortfolioError::Malformed {
            path: origin.into(),
            message: e.to_string(),
        })?;
        match head.format.as_ref().and_then(serde_norway::Value::as_u64) {
            Some(f) if f == u64::from(PORTFOLIO_FORMAT) => {}
            Some(f) => {
                return Err(PortfolioError::Incompatible {
                    path: origin.into(),
                    message: format!(
                        "`format: {f}` is not the portfolio format this gmmtune reads ({PORTFOLIO_FORMAT})"
                    ),
                });
            }
            None => {
                return Err(PortfolioError::Malformed {
                    path: origin.into(),
                    message: format!(
                        "no `format: {PORTFOLIO_FORMAT}` key: not a portfolio written by `gmmtune mine`"
                    ),
                });
            }
        }
        let portfolio: Portfolio =
            serde_norway::from_str(text).map_err(|e| PortfolioError::Malformed {
                path: origin.into(),
                message: e.to_string(),
            })?;
        portfolio.check(origin)?;
        Ok(portfolio)
    }

    /// The portfolio shipped with gmmtune ([`BUILTIN_PORTFOLIO`]).
    pub fn builtin() -> Portfolio {
        Portfolio::from_yaml_str(BUILTIN_PORTFOLIO, "configs/best_practice.yaml (built in)")
            .expect("the shipped portfolio is checked by the tests")
    }

    /// The YAML text of the portfolio.
    pub fn to_yaml(&self) -> String {
        let header = "# gmmtune portfolio: best-practice GMM configurations mined across datasets.\n\
             # `configs` is the portfolio; `best_practice` and `sklearn_default` index it. Each\n\
             # `neighbours` entry is a mining dataset: its label-free meta-features (names in\n\
             # `meta_features.names`) and the regret in AUC of every portfolio configuration there.\n\
             # Use it with a run strategy `{kind: zeroshot, portfolio: THIS_FILE}`.\n";
        header.to_string() + &serde_norway::to_string(self).expect("a portfolio serialises")
    }

    /// Writes the portfolio to `path`.
    pub fn save(&self, path: &Path) -> Result<(), PortfolioError> {
        std::fs::write(path, self.to_yaml()).map_err(|source| PortfolioError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Checks that the parts of the file fit together and with this build.
    pub fn check(&self, origin: &str) -> Result<(), PortfolioError> {
        let bad = |key: &str, message: String| PortfolioError::Malformed {
            path: origin.into(),
            message: format!("`{key}`: {message}"),
        };
        let names: Vec<&str> = self
            .meta_features
            .names
            .iter()
            .map(String::as_str)
            .collect();
        if names != META_FEATURE_NAMES {
            return Err(PortfolioError::Incompatible {
                path: origin.into(),
                message: format!(
                    "its meta-features ({}) are not the ones this gmmtune computes ({})",
                    names.join(", "),
                    META_FEATURE_NAMES.join(", ")
                ),
            });
        }
        let m = names.len();
        for (key, len) in [
            ("meta_features.center", self.meta_features.center.len()),
            ("meta_features.scale", self.meta_features.scale.len()),
        ] {
            if len != m {
                return Err(bad(key, format!("{len} values for {m} meta-features")));
            }
        }
        if let Some(i) = self
            .meta_features
            .scale
            .iter()
            .position(|s| s.is_nan() || *s <= 0.0)
        {
            return Err(bad(
                &format!("meta_features.scale[{i}]"),
                "scales must be positive".into(),
            ));
        }
        if self.meta_features.distance.is_empty() {
            return Err(bad(
                "meta_features.distance",
                "name at least one meta-feature".into(),
            ));
        }
        if let Some(n) = self
            .meta_features
            .distance
            .iter()
            .find(|n| !names.contains(&n.as_str()))
        {
            return Err(bad(
                "meta_features.distance",
                format!(
                    "`{n}` is not a meta-feature (they are {})",
                    names.join(", ")
                ),
            ));
        }
        let k = self.configs.len();
        if k == 0 {
            return Err(bad("configs", "the portfolio is empty".into()));
        }
        for (i, c) in self.configs.iter().enumerate() {
            if c.config.n_components == 0
                || !(c.config.reg_covar.is_finite() && c.config.reg_covar >= 0.0)
            {
                return Err(bad(
                    &format!("configs[{i}].config"),
                    "n_components must be at least 1 and reg_covar finite and >= 0".into(),
                ));
            }
        }
        if self.best_practice >= k {
            return Err(bad(
                "best_practice",
                format!("index {} of a portfolio of {k}", self.best_practice),
            ));
        }
        if let Some(d) = self.sklearn_default.filter(|&d| d >= k) {
            return Err(bad(
                "sklearn_default",
                format!("index {d} of a portfolio of {k}"),
            ));
        }
        if !(self.label_free_threshold.quantile > 0.0 && self.label_free_threshold.quantile < 1.0) {
            return Err(bad(
                "label_free_threshold.quantile",
                "a quantile strictly between 0 and 1".into(),
            ));
        }
        for (i, n) in self.neighbours.iter().enumerate() {
            let key = |f: &str| format!("neighbours[{i}].{f}");
            if n.meta_features.len() != m || n.meta_features.iter().any(|v| !v.is_finite()) {
                return Err(bad(
                    &key("meta_features"),
                    format!("{m} finite values expected"),
                ));
            }
            if n.regret.len() != k || n.cost_regret.len() != k {
                return Err(bad(
                    &key("regret"),
                    format!("one regret per portfolio configuration ({k}) expected"),
                ));
            }
            if n.choice.iter().any(|&c| c >= k) {
                return Err(bad(&key("choice"), format!("indices below {k} expected")));
            }
        }
        for (i, h) in self.hyperparameters.iter().enumerate() {
            if let Some(rule) = &h.rule {
                let key = format!("hyperparameters[{i}].rule");
                if !names.contains(&rule.feature.as_str()) {
                    return Err(bad(
                        &key,
                        format!("`{}` is not a meta-feature", rule.feature),
                    ));
                }
                for value in [&rule.below, &rule.above] {
                    set_hyperparameter(&mut GmmConfig::default(), &h.name, value)
                        .map_err(|e| bad(&key, e))?;
                }
            }
        }
        Ok(())
    }

    /// The mining datasets from the nearest to `meta` to the farthest, with their distances
    /// (Euclidean over the `distance` meta-features, each scaled robustly).
    pub fn nearest(&self, meta: &MetaFeatures) -> Vec<(usize, f64)> {
        let used: Vec<usize> = self
            .meta_features
            .distance
            .iter()
            .filter_map(|n| self.meta_features.names.iter().position(|m| m == n))
            .collect();
        let scaled = |values: &[f64], j: usize| {
            (values[j] - self.meta_features.center[j]) / self.meta_features.scale[j]
        };
        let mut out: Vec<(usize, f64)> = self
            .neighbours
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let d2: f64 = used
                    .iter()
                    .map(|&j| (scaled(&meta.values, j) - scaled(&n.meta_features, j)).powi(2))
                    .sum();
                (i, d2.sqrt())
            })
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Portfolio indices ordered for a dataset with meta-features `meta`: by the mean regret
    /// over its `neighbours` nearest mining datasets (at least 1), the earlier index among
    /// equals. Without neighbours, the best practice first, then the portfolio's order.
    pub fn ranked(&self, meta: &MetaFeatures, neighbours: usize) -> Vec<usize> {
        let near: Vec<usize> = self
            .nearest(meta)
            .into_iter()
            .take(neighbours.max(1))
            .map(|(i, _)| i)
            .collect();
        let mut order: Vec<usize> = (0..self.configs.len()).collect();
        if near.is_empty() {
            order.sort_by_key(|&c| (c != self.best_practice, c));
            return order;
        }
        let score = |c: usize| -> f64 {
            near.iter()
                .map(|&n| self.neighbours[n].regret[c])
                .sum::<f64>()
                / near.len() as f64
        };
        order.sort_by(|&a, &b| score(a).total_cmp(&score(b)).then(a.cmp(&b)));
        order
    }

    /// The best practice with every hyperparameter rule applied to `meta`.
    pub fn rule_config(&self, meta: &MetaFeatures) -> GmmConfig {
        let mut config = self.configs[self.best_practice].config.clone();
        for h in &self.hyperparameters {
            if let Some(rule) = &h.rule {
                let value = match meta.get(&rule.feature) {
                    Some(v) if v < rule.threshold => &rule.below,
                    _ => &rule.above,
                };
                set_hyperparameter(&mut config, &h.name, value)
                    .expect("rules are checked when the portfolio is read");
            }
        }
        config
    }
}

/// Sets hyperparameter `name` of `config` to `value` (as written in a config file).
pub fn set_hyperparameter(config: &mut GmmConfig, name: &str, value: &str) -> Result<(), String> {
    let bad = |what: &str| format!("`{value}` is not a value of {name} ({what})");
    match name {
        "n_components" => {
            config.n_components = value
                .parse::<usize>()
                .ok()
                .filter(|&k| k >= 1)
                .ok_or_else(|| bad("an integer >= 1"))?;
        }
        "covariance_type" => {
            config.covariance_type = value
                .parse::<CovarianceType>()
                .map_err(|_| bad("spherical, diag, tied or full"))?;
        }
        "reg_covar" => {
            config.reg_covar = value
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| bad("a finite number >= 0"))?;
        }
        "init" => {
            config.init = value
                .parse::<InitMethod>()
                .map_err(|_| bad("kmeans, k-means++, random or random_from_data"))?;
        }
        _ => {
            return Err(format!(
                "`{name}` is not a hyperparameter (n_components, covariance_type, reg_covar, init)"
            ));
        }
    }
    Ok(())
}

/// Hyperparameter `name` of `config`, as written in a config file.
pub fn hyperparameter(config: &GmmConfig, name: &str) -> String {
    match name {
        "n_components" => config.n_components.to_string(),
        "covariance_type" => config.covariance_type.to_string(),
        "reg_covar" => format!("{:e}", config.reg_covar),
        _ => config.init.to_string(),
    }
}

/// The four hyperparameters, in the order of the tables.
pub const HYPERPARAMETERS: [&str; 4] = ["n_components", "covariance_type", "reg_covar", "init"];
