//! Applying a portfolio to a dataset: which configurations to fit, in order, from its
//! label-free meta-features; and how the fitted ones are chosen between.
//!
//! ```
//! use gmmtune::zeroshot::apply::{candidates, Choose};
//! use gmmtune::zeroshot::meta_features::meta_features;
//! use gmmtune::zeroshot::Portfolio;
//! let portfolio = Portfolio::builtin();
//! let x = ndarray::Array2::from_shape_fn((300, 4), |(i, j)| ((i * 7 + j * 13) % 29) as f64);
//! let meta = meta_features(x.view()).unwrap();
//! let order = candidates(&portfolio, Some(&meta), Choose::Nearest, 3);
//! assert_eq!(order.len(), portfolio.configs.len());
//! // Without meta-features the single best practice comes first.
//! let fallback = candidates(&portfolio, None, Choose::Nearest, 3);
//! assert_eq!(fallback[0], portfolio.configs[portfolio.best_practice].config);
//! ```

use serde::{Deserialize, Serialize};

use super::meta_features::MetaFeatures;
use super::portfolio::Portfolio;
use crate::eval::Objective;
use crate::gmm_config::GmmConfig;

/// How the portfolio orders its configurations for a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choose {
    /// By the mean regret over the nearest mining datasets (FLAML's zero-shot rule with 1).
    Nearest,
    /// The best practice with the per-hyperparameter rules applied, then as `best_practice`
    /// (the default: the label-free order the leave-one-family-out evaluation found best).
    #[default]
    Rules,
    /// The single best practice, then the portfolio's order.
    BestPractice,
}

impl Choose {
    /// The name in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Choose::Nearest => "nearest",
            Choose::Rules => "rules",
            Choose::BestPractice => "best_practice",
        }
    }
}

/// How the fitted configurations are chosen between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// No choice: the first configuration that fits (no labels at all).
    #[default]
    None,
    /// Lowest BIC on the fit rows (no labels).
    Bic,
    /// Highest k-fold held-out log-likelihood of the fit rows (no labels).
    CvLoglik,
    /// Highest validation AUC (uses validation labels).
    ValAuc,
}

impl Select {
    /// The name in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Select::None => "none",
            Select::Bic => "bic",
            Select::CvLoglik => "cv_loglik",
            Select::ValAuc => "val_auc",
        }
    }

    /// The objective a unit using this selection is judged by. `none` fits one configuration,
    /// so nothing is chosen by it: it is recorded as `bic`, which needs no labels.
    pub fn objective(self) -> Objective {
        match self {
            Select::None | Select::Bic => Objective::Bic,
            Select::CvLoglik => Objective::CvLoglik,
            Select::ValAuc => Objective::ValAuc,
        }
    }

    /// Whether it reads anomaly labels.
    pub fn needs_labels(self) -> bool {
        self == Select::ValAuc
    }
}

/// Every portfolio configuration, in the order to try them on a dataset with meta-features
/// `meta` (`None` when they are undefined for it: then the single best practice comes first,
/// the documented fallback). `neighbours` is used by [`Choose::Nearest`].
pub fn candidates(
    portfolio: &Portfolio,
    meta: Option<&MetaFeatures>,
    choose: Choose,
    neighbours: usize,
) -> Vec<GmmConfig> {
    let best_first = || -> Vec<GmmConfig> {
        let mut order: Vec<usize> = (0..portfolio.configs.len()).collect();
        order.sort_by_key(|&c| (c != portfolio.best_practice, c));
        order
            .into_iter()
            .map(|c| portfolio.configs[c].config.clone())
            .collect()
    };
    let mut out = match (meta, choose) {
        (None, _) | (_, Choose::BestPractice) => best_first(),
        (Some(meta), Choose::Nearest) => portfolio
            .ranked(meta, neighbours)
            .into_iter()
            .map(|c| portfolio.configs[c].config.clone())
            .collect(),
        (Some(meta), Choose::Rules) => {
            let mut list = vec![portfolio.rule_config(meta)];
            list.extend(best_first());
            list
        }
    };
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.signature()));
    out
}
