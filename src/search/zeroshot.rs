//! The `zeroshot` strategy: a mined portfolio applied to the unit's dataset, with no search.
//!
//! The dataset's label-free meta-features (of its fit rows) order the portfolio's
//! configurations ([`crate::zeroshot::apply::candidates`]); the strategy proposes the first
//! `k`. With `select: none` it proposes one and, only if that fit fails, the next (no labels
//! are read); with `select: bic | cv_loglik | val_auc` the unit's objective is that figure, so
//! the run selects among the `k` by it (`val_auc` reads validation labels). When the
//! meta-features are undefined for the dataset (too few rows, every feature constant), the
//! single best practice comes first: the documented fallback.

use std::path::PathBuf;

use super::space::GmmConfig;
use super::strategy::{Concurrency, Strategy};
use super::SearchError;
use crate::data::Prepared;
use crate::zeroshot::apply::{candidates, Choose, Select};
use crate::zeroshot::meta_features::meta_features;
use crate::zeroshot::Portfolio;

/// Default number of configurations fitted (see `reports/zeroshot/summary.md`).
pub const DEFAULT_K: usize = 3;
/// Default selection among them: the label-free one the evaluation found best.
pub const DEFAULT_SELECT: Select = Select::CvLoglik;
/// Default number of nearest mining datasets whose regrets order the portfolio.
pub const DEFAULT_NEIGHBOURS: usize = 3;

/// Reads the portfolio a strategy names, or the shipped one.
pub fn load_portfolio(path: Option<&PathBuf>) -> Result<Portfolio, SearchError> {
    match path {
        None => Ok(Portfolio::builtin()),
        Some(p) => Portfolio::load(p).map_err(|e| SearchError::InvalidStrategy {
            key: "strategy.portfolio".into(),
            reason: e.to_string(),
        }),
    }
}

/// Checks the options of a zero-shot strategy and its portfolio.
pub fn check(
    portfolio: Option<&PathBuf>,
    k: usize,
    select: Select,
    neighbours: usize,
) -> Result<Portfolio, SearchError> {
    let bad = |key: &str, reason: &str| SearchError::InvalidStrategy {
        key: format!("strategy.{key}"),
        reason: reason.into(),
    };
    if k == 0 {
        return Err(bad("k", "k must be at least 1"));
    }
    if neighbours == 0 {
        return Err(bad("neighbours", "neighbours must be at least 1"));
    }
    if select == Select::None && k > 1 {
        return Err(bad(
            "select",
            "`select: none` fits one configuration: with k > 1 choose between them with `select: bic`, `cv_loglik` or `val_auc`",
        ));
    }
    load_portfolio(portfolio)
}

/// The zero-shot strategy of one unit.
#[derive(Debug, Clone)]
pub struct Zeroshot {
    order: Vec<GmmConfig>,
    k: usize,
    select: Select,
    issued: usize,
    failures: usize,
}

impl Zeroshot {
    /// The strategy for the unit whose data is `data`.
    pub fn new(
        portfolio: &Portfolio,
        data: &Prepared,
        choose: Choose,
        neighbours: usize,
        k: usize,
        select: Select,
    ) -> Zeroshot {
        let meta = meta_features(data.fit_rows.view()).ok();
        Zeroshot {
            order: candidates(portfolio, meta.as_ref(), choose, neighbours),
            k,
            select,
            issued: 0,
            failures: 0,
        }
    }

    /// The configurations in the order they are tried.
    pub fn order(&self) -> &[GmmConfig] {
        &self.order
    }
}

impl Strategy for Zeroshot {
    fn name(&self) -> &'static str {
        "zeroshot"
    }

    fn ask(&mut self) -> Option<GmmConfig> {
        let replacing = if self.select == Select::None {
            self.failures
        } else {
            0
        };
        if self.issued >= self.k + replacing {
            return None;
        }
        let config = self.order.get(self.issued).cloned();
        if config.is_some() {
            self.issued += 1;
        }
        config
    }

    fn tell(&mut self, _config: &GmmConfig, objective: Option<f64>, _cost: f64) {
        if objective.is_none() {
            self.failures += 1;
        }
    }

    fn concurrency(&self) -> Concurrency {
        Concurrency::InOrder(self.k)
    }
}
