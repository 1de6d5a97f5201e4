//! The ask/tell [`Strategy`] trait, the YAML strategy section ([`StrategySpec`]) and
//! [`build_strategy`], plus the simplest strategy, a [`FixedList`] of configurations.

use serde::{Deserialize, Serialize};

use super::cfo::Cfo;
use super::cost::{CostFrugalSpec, WorkShape};
use super::grid::GridSearch;
use super::random::RandomSearch;
use super::space::{GmmConfig, SearchError, SearchSpace};
use super::zeroshot::{self, Zeroshot, DEFAULT_K, DEFAULT_NEIGHBOURS, DEFAULT_SELECT};
use crate::data::Prepared;
use crate::gmm::{CovarianceType, InitMethod};
use crate::zeroshot::apply::{Choose, Select};

/// A search strategy: proposes configurations (`ask`) and learns from their results (`tell`).
///
/// ```
/// use gmmtune::search::{build_strategy, SearchSpaceSpec, StrategySpec};
/// let space = SearchSpaceSpec::default().check().unwrap();
/// let mut strategy = build_strategy(&StrategySpec::Random, &space, 7).unwrap();
/// let config = strategy.ask().expect("random search never runs out");
/// strategy.tell(&config, Some(0.25), 0.01);
/// assert_eq!(strategy.name(), "random");
/// ```
pub trait Strategy: Send {
    /// Short name: `fixed`, `grid`, `random` or `cfo`.
    fn name(&self) -> &'static str;
    /// Next configuration, or `None` when the strategy is exhausted (grid done, fixed list
    /// done, CFO stopped after `max_failure` consecutive proposals it had to drop).
    fn ask(&mut self) -> Option<GmmConfig>;
    /// Result of a configuration this strategy proposed: `objective` is minimised (`None` =
    /// failed trial), `cost` = fit seconds.
    fn tell(&mut self, config: &GmmConfig, objective: Option<f64>, cost: f64);
    /// How the driver may run this strategy's trials at once; see [`Concurrency`].
    fn concurrency(&self) -> Concurrency {
        Concurrency::Independent
    }
    /// As [`Strategy::tell`], with the EM iterations the fit took (`None`: failed); the driver
    /// tells results this way. Strategies that do not predict costs ignore `n_iter`.
    fn tell_measured(
        &mut self,
        config: &GmmConfig,
        objective: Option<f64>,
        cost: f64,
        _n_iter: Option<usize>,
    ) {
        self.tell(config, objective, cost);
    }
    /// The shape of the data the unit searches, given by the driver before the first `ask`
    /// (CFO's cost gate predicts trial costs from it); ignored by default.
    fn set_work_shape(&mut self, _shape: WorkShape) {}
}

/// How many trials of one strategy the driver may run at once, and how.
///
/// ```
/// use gmmtune::search::{build_strategy, Concurrency, SearchSpaceSpec, StrategySpec};
/// let space = SearchSpaceSpec::default().check().unwrap();
/// let grid = build_strategy(&StrategySpec::Random, &space, 1).unwrap();
/// assert_eq!(grid.concurrency(), Concurrency::Independent);
/// let cfo: StrategySpec = serde_norway::from_str("kind: cfo\nconcurrent_trials: 2\n").unwrap();
/// let cfo = build_strategy(&cfo, &space, 1).unwrap();
/// assert_eq!(cfo.concurrency(), Concurrency::InOrder(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// Proposals never depend on results (fixed, grid, random): trials run on every worker
    /// as they free up, and the results do not depend on the number of workers.
    Independent,
    /// Proposals depend on results (CFO): up to `n` (at least 1) trials are in flight (as far
    /// as `jobs` allows), results are told in the order asked, and trial `t + n` is asked right
    /// after trial `t` is told (a sliding window). The sequence of asks and tells, and so the
    /// search path, is the same whatever `jobs` is or whichever trial finishes first.
    InOrder(usize),
}

/// Default number of consecutive dropped proposals that ends a CFO search (FLAML's
/// `max_failure`).
pub const DEFAULT_MAX_FAILURE: usize = 100;

/// Default number of CFO proposals evaluated at once: FLOW2 probes a direction and its
/// opposite, so two trials run side by side.
pub const DEFAULT_CONCURRENT_TRIALS: usize = 2;

fn default_max_failure() -> usize {
    DEFAULT_MAX_FAILURE
}

fn default_concurrent_trials() -> usize {
    DEFAULT_CONCURRENT_TRIALS
}

fn default_k() -> usize {
    DEFAULT_K
}

fn default_select() -> Select {
    DEFAULT_SELECT
}

fn default_neighbours() -> usize {
    DEFAULT_NEIGHBOURS
}

/// The strategy section of a config, tagged by `kind`.
///
/// ```
/// use gmmtune::search::StrategySpec;
/// let spec: StrategySpec = serde_norway::from_str("kind: cfo\nmax_failure: 20\nlow_cost: {n_components: 2}\n").unwrap();
/// assert!(matches!(spec, StrategySpec::Cfo { max_failure: 20, .. }));
/// let grid: StrategySpec = serde_norway::from_str("kind: grid\n").unwrap();
/// assert_eq!(grid, StrategySpec::Grid);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "lowercase",
    deny_unknown_fields,
    from = "StrategySpecRepr"
)]
pub enum StrategySpec {
    /// The listed configurations, in order.
    Fixed {
        /// Configurations to evaluate.
        configs: Vec<GmmConfigSpec>,
    },
    /// Every point of the grid (see [`GridSearch`]).
    Grid,
    /// Independent random draws from the space (see [`RandomSearch`]).
    Random,
    /// FLAML's cost-frugal optimisation (see [`Cfo`]).
    Cfo {
        /// Consecutive dropped proposals (duplicates) that end the search.
        #[serde(default = "default_max_failure")]
        max_failure: usize,
        /// Overrides of the low-cost start point.
        #[serde(default)]
        low_cost: LowCostSpec,
        /// Proposals in flight at once (FLAML's `n_concurrent_trials`), told in the order asked.
        #[serde(default = "default_concurrent_trials")]
        concurrent_trials: usize,
        /// The cost gate (on by default; `false` fits every proposal, as FLAML's CFO).
        #[serde(default)]
        cost_frugal: CostFrugalSpec,
    },
    /// A mined portfolio applied to the unit's data without search (see
    /// [`crate::search::Zeroshot`]).
    Zeroshot {
        /// The portfolio file (`None`: the one shipped, `configs/best_practice.yaml`).
        #[serde(default)]
        portfolio: Option<std::path::PathBuf>,
        /// Configurations fitted.
        #[serde(default = "default_k")]
        k: usize,
        /// How the fitted ones are chosen between (`none` needs `k: 1`).
        #[serde(default = "default_select")]
        select: Select,
        /// How the portfolio is ordered for the dataset.
        #[serde(default)]
        choose: Choose,
        /// Nearest mining datasets whose regrets order it.
        #[serde(default = "default_neighbours")]
        neighbours: usize,
    },
}

/// The YAML form of [`StrategySpec`]: `grid` and `random` are empty struct variants here so that
/// unknown fields next to them are rejected too (serde ignores them beside a unit variant).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum StrategySpecRepr {
    Fixed {
        configs: Vec<GmmConfigSpec>,
    },
    Grid {},
    Random {},
    Cfo {
        #[serde(default = "default_max_failure")]
        max_failure: usize,
        #[serde(default)]
        low_cost: LowCostSpec,
        #[serde(default = "default_concurrent_trials")]
        concurrent_trials: usize,
        #[serde(default)]
        cost_frugal: CostFrugalSpec,
    },
    Zeroshot {
        #[serde(default)]
        portfolio: Option<std::path::PathBuf>,
        #[serde(default = "default_k")]
        k: usize,
        #[serde(default = "default_select")]
        select: Select,
        #[serde(default)]
        choose: Choose,
        #[serde(default = "default_neighbours")]
        neighbours: usize,
    },
}

impl From<StrategySpecRepr> for StrategySpec {
    fn from(repr: StrategySpecRepr) -> Self {
        match repr {
            StrategySpecRepr::Fixed { configs } => StrategySpec::Fixed { configs },
            StrategySpecRepr::Grid {} => StrategySpec::Grid,
            StrategySpecRepr::Random {} => StrategySpec::Random,
            StrategySpecRepr::Cfo {
                max_failure,
                low_cost,
                concurrent_trials,
                cost_frugal,
            } => StrategySpec::Cfo {
                max_failure,
                low_cost,
                concurrent_trials,
                cost_frugal,
            },
            StrategySpecRepr::Zeroshot {
                portfolio,
                k,
                select,
                choose,
                neighbours,
            } => StrategySpec::Zeroshot {
                portfolio,
                k,
                select,
                choose,
                neighbours,
            },
        }
    }
}

/// One configuration of a fixed list; omitted fields take scikit-learn's defaults
/// (`covariance_type: full`, `reg_covar: 1e-6`, `init: kmeans`), `n_components` is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmmConfigSpec {
    /// Number of components (≥ 1).
    pub n_components: usize,
    /// Covariance shape.
    #[serde(default = "default_covariance_type")]
    pub covariance_type: CovarianceType,
    /// Covariance regularisation (finite, ≥ 0).
    #[serde(default = "default_reg_covar")]
    pub reg_covar: f64,
    /// Initialisation.
    #[serde(default = "default_init")]
    pub init: InitMethod,
}

fn default_covariance_type() -> CovarianceType {
    CovarianceType::Full
}
fn default_reg_covar() -> f64 {
    1e-6
}
fn default_init() -> InitMethod {
    InitMethod::KMeans
}

fn strategy_error(key: impl Into<String>, reason: impl Into<String>) -> SearchError {
    SearchError::InvalidStrategy {
        key: key.into(),
        reason: reason.into(),
    }
}

impl GmmConfigSpec {
    /// Checks the values; `key` is the YAML path used in errors (e.g. `strategy.configs[0]`).
    pub fn check(&self, key: &str) -> Result<GmmConfig, SearchError> {
        if self.n_components < 1 {
            return Err(strategy_error(
                format!("{key}.n_components"),
                "n_components must be at least 1",
            ));
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return Err(strategy_error(
                format!("{key}.reg_covar"),
                format!(
                    "reg_covar must be a finite number >= 0, got {}",
                    self.reg_covar
                ),
            ));
        }
        Ok(GmmConfig {
            n_components: self.n_components,
            covariance_type: self.covariance_type,
            reg_covar: self.reg_covar,
            init: self.init,
        })
    }
}

/// Overrides of CFO's low-cost start point. Unset dimensions use the defaults: the lowest
/// `n_components`, the cheapest covariance type and initialisation; `reg_covar` has no
/// low-cost value and is drawn at random, as FLAML completes a partial low-cost config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowCostSpec {
    /// Low-cost number of components.
    #[serde(default)]
    pub n_components: Option<usize>,
    /// Low-cost covariance type.
    #[serde(default)]
    pub covariance_type: Option<CovarianceType>,
    /// Low-cost regularisation.
    #[serde(default)]
    pub reg_covar: Option<f64>,
    /// Low-cost initialisation.
    #[serde(default)]
    pub init: Option<InitMethod>,
}

/// The most CFO proposals a config may keep in flight at once.
pub const MAX_CONCURRENT_TRIALS: usize = 1024;
/// Builds the strategy `spec` describes over `space`, with all randomness seeded by `seed`, for
/// the unit whose data is `data` (the `zeroshot` strategy reads its fit rows' meta-features).
pub fn build_unit_strategy(
    spec: &StrategySpec,
    space: &SearchSpace,
    seed: u64,
    data: &Prepared,
) -> Result<Box<dyn Strategy>, SearchError> {
    match spec {
        StrategySpec::Zeroshot {
            portfolio,
            k,
            select,
            choose,
            neighbours,
        } => {
            let loaded = zeroshot::check(portfolio.as_ref(), *k, *select, *neighbours)?;
            Ok(Box::new(Zeroshot::new(
                &loaded,
                data,
                *choose,
                *neighbours,
                *k,
                *select,
            )))
        }
        _ => build_strategy(spec, space, seed),
    }
}

/// Checks `spec` over `space` as building it would, without a unit's data (a `zeroshot`
/// strategy's options and portfolio file are checked).
pub fn check_strategy(spec: &StrategySpec, space: &SearchSpace) -> Result<(), SearchError> {
    match spec {
        StrategySpec::Zeroshot {
            portfolio,
            k,
            select,
            neighbours,
            ..
        } => zeroshot::check(portfolio.as_ref(), *k, *select, *neighbours).map(|_| ()),
        _ => build_strategy(spec, space, 0).map(|_| ()),
    }
}

/// Builds the strategy `spec` describes over `space`, with all randomness seeded by `seed`.
/// A `zeroshot` strategy needs the unit's data: build it with [`build_unit_strategy`].
///
/// Errors name the key: a grid over a range without `grid: N` (`space.reg_covar.grid`), an
/// empty fixed list (`strategy.configs`), a low-cost value outside the space
/// (`strategy.low_cost.n_components`), `max_failure: 0` (`strategy.max_failure`),
/// `concurrent_trials` 0 or above [`MAX_CONCURRENT_TRIALS`] (`strategy.concurrent_trials`), a
/// cost gate setting out of range (`strategy.cost_frugal.spend_ratio`).
pub fn build_strategy(
    spec: &StrategySpec,
    space: &SearchSpace,
    seed: u64,
) -> Result<Box<dyn Strategy>, SearchError> {
    Ok(match spec {
        StrategySpec::Zeroshot { .. } => {
            return Err(strategy_error(
                "strategy.kind",
                "a zeroshot strategy reads the unit's data: build it with build_unit_strategy",
            ));
        }
        StrategySpec::Fixed { configs } => {
            if configs.is_empty() {
                return Err(strategy_error(
                    "strategy.configs",
                    "the list of configurations is empty; give at least one",
                ));
            }
            let configs = configs
                .iter()
                .enumerate()
                .map(|(i, c)| c.check(&format!("strategy.configs[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(FixedList::new(configs))
        }
        StrategySpec::Grid => Box::new(GridSearch::new(space)?),
        StrategySpec::Random => Box::new(RandomSearch::new(space, seed)),
        StrategySpec::Cfo {
            max_failure,
            low_cost,
            concurrent_trials,
            cost_frugal,
        } => {
            if *concurrent_trials == 0 {
                return Err(strategy_error(
                    "strategy.concurrent_trials",
                    "concurrent_trials must be at least 1 (1 = one trial after another)",
                ));
            }
            if *concurrent_trials > MAX_CONCURRENT_TRIALS {
                return Err(strategy_error(
                    "strategy.concurrent_trials",
                    format!(
                        "{concurrent_trials} trials in flight is more than a search keeps (at most {MAX_CONCURRENT_TRIALS})"
                    ),
                ));
            }
            let cfo =
                Cfo::new(space, low_cost, *max_failure, seed)?.with_concurrency(*concurrent_trials);
            Box::new(match cost_frugal.settings() {
                Some(settings) => cfo.with_cost_gate(settings)?,
                None => cfo,
            })
        }
    })
}

/// The given configurations in order, then `None`; results are not used.
#[derive(Debug, Clone)]
pub struct FixedList {
    configs: Vec<GmmConfig>,
    next: usize,
}

impl FixedList {
    /// A strategy that proposes `configs` in order.
    pub fn new(configs: Vec<GmmConfig>) -> Self {
        FixedList { configs, next: 0 }
    }
}

impl Strategy for FixedList {
    fn name(&self) -> &'static str {
        "fixed"
    }
    fn ask(&mut self) -> Option<GmmConfig> {
        let config = self.configs.get(self.next).cloned();
        if config.is_some() {
            self.next += 1;
        }
        config
    }
    fn tell(&mut self, _config: &GmmConfig, _objective: Option<f64>, _cost: f64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_specs_parse_and_reject_unknown_fields() {
        let spec: StrategySpec = serde_norway::from_str(
            "kind: fixed\nconfigs:\n  - {n_components: 3}\n  - {n_components: 2, covariance_type: diag, reg_covar: 1e-3, init: random}\n",
        )
        .unwrap();
        let StrategySpec::Fixed { configs } = &spec else {
            panic!("expected a fixed list, got {spec:?}");
        };
        assert_eq!(
            configs[0].check("c").unwrap(),
            GmmConfig {
                n_components: 3,
                ..GmmConfig::default()
            }
        );
        assert_eq!(configs[1].init, InitMethod::Random);

        let cfo: StrategySpec = serde_norway::from_str("kind: cfo\n").unwrap();
        assert_eq!(
            cfo,
            StrategySpec::Cfo {
                max_failure: 100,
                low_cost: LowCostSpec::default(),
                concurrent_trials: DEFAULT_CONCURRENT_TRIALS,
                cost_frugal: CostFrugalSpec::default(),
            }
        );
        let flaml: StrategySpec =
            serde_norway::from_str("kind: cfo\ncost_frugal: false\n").unwrap();
        assert!(matches!(
            flaml,
            StrategySpec::Cfo {
                cost_frugal: CostFrugalSpec::Off,
                ..
            }
        ));
        assert_eq!(
            serde_norway::from_str::<StrategySpec>("kind: random\n").unwrap(),
            StrategySpec::Random
        );
        for spec in [StrategySpec::Grid, cfo.clone(), flaml] {
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(
                serde_json::from_str::<StrategySpec>(&json).unwrap(),
                spec,
                "{json}"
            );
        }
        for bad in [
            "kind: cfo\nmax_failures: 3\n",
            "kind: cfo\nlow_cost: {n_component: 2}\n",
            "kind: fixed\nconfigs: [{n_components: 2, tol: 1}]\n",
            "kind: fixed\nconfigs: [{covariance_type: full}]\n",
            "kind: annealing\n",
            "kind: grid\nseed: 3\n",
            "kind: random\nmax_failure: 3\n",
            "kind: cfo\ncost_frugal: {ratio: 2}\n",
            "kind: cfo\ncost_frugal: sometimes\n",
        ] {
            assert!(
                serde_norway::from_str::<StrategySpec>(bad).is_err(),
                "{bad} should not parse"
            );
        }
    }

    #[test]
    fn fixed_list_returns_configs_in_order_then_none() {
        let space = SearchSpace::default();
        let spec: StrategySpec = serde_norway::from_str(
            "kind: fixed\nconfigs: [{n_components: 3}, {n_components: 1, init: random}]\n",
        )
        .unwrap();
        let mut s = build_strategy(&spec, &space, 0).unwrap();
        assert_eq!(s.name(), "fixed");
        let first = s.ask().unwrap();
        assert_eq!(first.n_components, 3);
        s.tell(&first, Some(1.0), 0.1);
        assert_eq!(s.ask().unwrap().init, InitMethod::Random);
        assert_eq!(s.ask(), None);
        assert_eq!(s.ask(), None);
    }

    #[test]
    fn build_errors_name_the_key() {
        let space = SearchSpace::default();
        let empty = StrategySpec::Fixed { configs: vec![] };
        assert_eq!(
            build_strategy(&empty, &space, 0).err().unwrap().key(),
            "strategy.configs"
        );
        let bad = StrategySpec::Fixed {
            configs: vec![GmmConfigSpec {
                n_components: 2,
                covariance_type: CovarianceType::Full,
                reg_covar: -1.0,
                init: InitMethod::KMeans,
            }],
        };
        assert_eq!(
            build_strategy(&bad, &space, 0).err().unwrap().key(),
            "strategy.configs[0].reg_covar"
        );
        let no_grid = crate::search::SearchSpaceSpec {
            reg_covar: crate::search::ValueSpec::Range(crate::search::RangeSpec {
                low: 1e-6,
                high: 1e-2,
                log: true,
                grid: None,
            }),
            ..Default::default()
        }
        .check()
        .unwrap();
        assert_eq!(
            build_strategy(&StrategySpec::Grid, &no_grid, 0)
                .err()
                .unwrap()
                .key(),
            "space.reg_covar.grid"
        );
        let cfo = |max_failure, n_components, concurrent_trials| StrategySpec::Cfo {
            max_failure,
            low_cost: LowCostSpec {
                n_components,
                ..Default::default()
            },
            concurrent_trials,
            cost_frugal: CostFrugalSpec::default(),
        };
        let gate = |spend_ratio| StrategySpec::Cfo {
            max_failure: 10,
            low_cost: LowCostSpec::default(),
            concurrent_trials: 2,
            cost_frugal: CostFrugalSpec::On(crate::search::CostFrugal {
                spend_ratio,
                ..Default::default()
            }),
        };
        for (spec, key) in [
            (cfo(0, None, 1), "strategy.max_failure"),
            (cfo(10, None, 0), "strategy.concurrent_trials"),
            (cfo(10, None, usize::MAX), "strategy.concurrent_trials"),
            (cfo(10, Some(64), 2), "strategy.low_cost.n_components"),
            (gate(-1.0), "strategy.cost_frugal.spend_ratio"),
        ] {
            assert_eq!(build_strategy(&spec, &space, 0).err().unwrap().key(), key);
        }
    }

    #[test]
    fn strategies_are_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Box<dyn Strategy>>();
        assert_send::<FixedList>();
        assert_send::<GridSearch>();
        assert_send::<RandomSearch>();
        assert_send::<Cfo>();
    }
}
