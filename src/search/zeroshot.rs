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

// The defaults are the label-free variant the leave-one-family-out evaluation found best,
// `zs_rules_k3_cv` (reports/zeroshot/summary.md): the best practice with the rules applied,
// the best practice and the next portfolio configuration, chosen by held-out log-likelihood.

/// Default number of configurations fitted.
pub const DEFAULT_K: usize = 3;
/// Default selection among them.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{prepare, Protocol, Table};
    use ndarray::Array2;

    fn prepared(constant: bool) -> Prepared {
        let table = Table {
            source: "mem.csv".into(),
            feature_names: vec!["a".into(), "b".into()],
            features: Array2::from_shape_fn((200, 2), |(i, j)| {
                if constant {
                    1.0
                } else {
                    ((i * (j + 3)) % 23) as f64
                }
            }),
            labels: Some((0..200).map(|i| i % 10 == 0).collect()),
            split: None,
        };
        prepare(&table, "mem", &Protocol::default(), 1).unwrap()
    }

    #[test]
    fn undefined_meta_features_fall_back_to_the_best_practice() {
        let portfolio = Portfolio::builtin();
        let s = Zeroshot::new(
            &portfolio,
            &prepared(true),
            Choose::Nearest,
            3,
            1,
            Select::None,
        );
        assert_eq!(
            s.order()[0],
            portfolio.configs[portfolio.best_practice].config
        );
    }

    #[test]
    fn select_none_replaces_a_failed_fit_and_k_bounds_the_rest() {
        let portfolio = Portfolio::builtin();
        let data = prepared(false);
        let mut one = Zeroshot::new(&portfolio, &data, Choose::Nearest, 3, 1, Select::None);
        let order = one.order().to_vec();
        let first = one.ask().unwrap();
        assert_eq!(first, order[0]);
        assert_eq!(one.concurrency(), Concurrency::InOrder(1));
        one.tell(&first, None, 0.1);
        assert_eq!(one.ask().unwrap(), order[1]);
        one.tell(&order[1], Some(3.0), 0.1);
        assert_eq!(one.ask(), None);
        let mut three = Zeroshot::new(&portfolio, &data, Choose::Nearest, 3, 3, Select::Bic);
        let asked: Vec<GmmConfig> = std::iter::from_fn(|| three.ask()).collect();
        assert_eq!(asked, order[..3.min(order.len())].to_vec());
        three.tell(&asked[0], None, 0.1);
        assert_eq!(three.ask(), None, "a selection keeps to its k");
    }

    #[test]
    fn options_are_checked() {
        assert_eq!(
            check(None, 0, Select::Bic, 1).unwrap_err().key(),
            "strategy.k"
        );
        assert_eq!(
            check(None, 2, Select::None, 1).unwrap_err().key(),
            "strategy.select"
        );
        assert_eq!(
            check(None, 1, Select::None, 0).unwrap_err().key(),
            "strategy.neighbours"
        );
        let missing = PathBuf::from("/nonexistent/portfolio.yaml");
        assert_eq!(
            check(Some(&missing), 1, Select::None, 1).unwrap_err().key(),
            "strategy.portfolio"
        );
    }
}
