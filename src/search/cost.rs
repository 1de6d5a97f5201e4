//! What a trial will cost, known before it is fitted, and the gate that keeps CFO cost-frugal
//! on big data.
//!
//! **Work model.** [`trial_work`] counts the multiply-adds of one trial from the shape of the
//! data ([`WorkShape`]: rows fitted, rows scored, features, fits per trial) and the
//! configuration: the initialisation, `n_iter + 1` EM passes over the fit rows (the first
//! M-step included) and the scoring pass over every row. Per fit row and EM iteration, with
//! `K` components, `d` features and `c` = [`ROW_COMPONENT_OVERHEAD`] for the exponentials and
//! the log-sum-exp:
//!
//! | covariance | per row and iteration | per iteration (any rows) |
//! |---|---|---|
//! | spherical | `K (3d + c)` | — |
//! | diag | `K (4d + c)` | — |
//! | tied | `d² + K (3d + c)` (one whitening of the row, one outer product) | `d³ / 3` |
//! | full | `K (d² + 2d + c)` (a triangular solve and an outer product per component) | `K d³ / 3` |
//!
//! The model is a pure function of the configuration, the data shape and the iteration count,
//! so decisions taken from it are reproducible: a resumed run, a run on another machine or
//! under another load takes the same path. Measured fit seconds would not be.
//!
//! **Iterations.** Before a configuration is fitted its EM iteration count is predicted from
//! those measured in the same search ([`IterationMemory`]): the iterations of the nearest
//! fitted configuration with the same covariance type and at most twice or half the
//! components, else a prior that grows with the number of components.
//!
//! **Gate.** [`CostGate`] admits a proposal when its predicted work is at most
//! `max(free_work, spend_ratio × work spent)`, the work spent being the modelled work of every
//! trial told so far (with its measured iterations). So no trial costs more than
//! `spend_ratio` times everything before it (a move no dearer than its incumbent always
//! passes). On data of fewer than `min_rows` fit rows the gate stays open, so a search on small
//! data is FLAML's CFO exactly.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::space::{GmmConfig, SearchError};
use super::trial::TrialSettings;
use crate::data::Prepared;
use crate::gmm::{CovarianceType, InitMethod};

/// Multiply-add equivalents per row and component of an EM pass besides the distance terms
/// (an exponential, a logarithm and the log-sum-exp bookkeeping).
pub const ROW_COMPONENT_OVERHEAD: f64 = 30.0;

/// Multiply-add equivalents per scored row of a trial's measurement besides the likelihood
/// (sorting for the AUC, the average precision and the threshold search).
pub const ROW_MEASURE_OVERHEAD: f64 = 50.0;

/// Lloyd iterations assumed for a `kmeans` initialisation (their number is not recorded).
pub const KMEANS_ITERATIONS: f64 = 10.0;

/// What the work of one trial scales with.
///
/// ```
/// use gmmtune::search::WorkShape;
/// let shape = WorkShape::new(6_000, 10_000, 8, 100);
/// assert_eq!(shape.fits_per_trial, 1.0);
/// assert_eq!(shape.with_fits_per_trial(6.0).fits_per_trial, 6.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkShape {
    /// Rows the mixture is fitted on.
    pub fit_rows: usize,
    /// Rows scored after the fit (train, validation and test parts).
    pub scored_rows: usize,
    /// Features.
    pub features: usize,
    /// EM iteration cap (`fit.max_iter`).
    pub max_iter: usize,
    /// Full fits per trial: `n_init`, times the extra fits of a cross-validated likelihood.
    pub fits_per_trial: f64,
}

impl WorkShape {
    /// A shape with one fit per trial.
    pub fn new(fit_rows: usize, scored_rows: usize, features: usize, max_iter: usize) -> Self {
        WorkShape {
            fit_rows,
            scored_rows,
            features,
            max_iter,
            fits_per_trial: 1.0,
        }
    }

    /// The shape of a trial on `data` under `settings`: `n_init` fits, and with a
    /// cross-validated likelihood `cv_folds - 1` more fits' worth of rows.
    pub fn of(data: &Prepared, settings: &TrialSettings) -> Self {
        let scored = data.train.x.nrows() + data.validation.x.nrows() + data.test.x.nrows();
        let cv = if settings.measure_cv {
            settings.cv_folds.saturating_sub(1) as f64
        } else {
            0.0
        };
        WorkShape::new(
            data.fit_rows.nrows(),
            scored,
            data.fit_rows.ncols(),
            settings.fit.max_iter,
        )
        .with_fits_per_trial(settings.fit.n_init.max(1) as f64 * (1.0 + cv))
    }

    /// The same shape with `fits` full fits per trial.
    pub fn with_fits_per_trial(mut self, fits: f64) -> Self {
        self.fits_per_trial = fits;
        self
    }
}

/// Modelled multiply-adds of one trial of `config` on data of `shape` whose EM takes `n_iter`
/// iterations (see the module documentation).
///
/// ```
/// use gmmtune::search::{trial_work, GmmConfig, WorkShape};
/// use gmmtune::gmm::{CovarianceType, InitMethod};
/// let shape = WorkShape::new(10_000, 20_000, 20, 100);
/// let config = |k, covariance_type| GmmConfig {
///     n_components: k,
///     covariance_type,
///     reg_covar: 1e-6,
///     init: InitMethod::RandomFromData,
/// };
/// let spherical = trial_work(&shape, &config(8, CovarianceType::Spherical), 20);
/// let full = trial_work(&shape, &config(8, CovarianceType::Full), 20);
/// assert!(full > 3.0 * spherical);
/// assert!(trial_work(&shape, &config(8, CovarianceType::Full), 40) > full);
/// ```
pub fn trial_work(shape: &WorkShape, config: &GmmConfig, n_iter: usize) -> f64 {
    let k = config.n_components.max(1) as f64;
    let d = shape.features.max(1) as f64;
    let n = shape.fit_rows as f64;
    let c = ROW_COMPONENT_OVERHEAD;
    let (per_row, per_pass) = match config.covariance_type {
        CovarianceType::Spherical => (k * (3.0 * d + c), 0.0),
        CovarianceType::Diag => (k * (4.0 * d + c), 0.0),
        CovarianceType::Tied => (d * d + k * (3.0 * d + c), d * d * d / 3.0),
        CovarianceType::Full => (k * (d * d + 2.0 * d + c), k * d * d * d / 3.0),
    };
    let seeding = if k > 1.0 {
        k * (2.0 + k.ln()) * 2.0 * d
    } else {
        2.0 * d
    };
    let init_per_row = match config.init {
        InitMethod::RandomFromData => 0.0,
        InitMethod::Random => k,
        InitMethod::KMeansPlusPlus => seeding,
        InitMethod::KMeans => seeding + KMEANS_ITERATIONS * k * 3.0 * d,
    };
    let passes = n_iter as f64 + 1.0;
    let fit = n * (init_per_row + passes * per_row) + passes * per_pass;
    let score_per_row = match config.covariance_type {
        CovarianceType::Spherical | CovarianceType::Diag => k * (2.0 * d + c),
        CovarianceType::Tied => d * d / 2.0 + k * (2.0 * d + c),
        CovarianceType::Full => k * (d * d / 2.0 + 2.0 * d + c),
    };
    let score = shape.scored_rows as f64 * (score_per_row + ROW_MEASURE_OVERHEAD);
    shape.fits_per_trial * fit + score
}

/// The EM iterations measured so far in one search, to predict those of a configuration not
/// fitted yet.
///
/// ```
/// use gmmtune::search::{GmmConfig, IterationMemory};
/// use gmmtune::gmm::CovarianceType;
/// let mut memory = IterationMemory::default();
/// let config = |k| GmmConfig { n_components: k, covariance_type: CovarianceType::Diag, ..GmmConfig::default() };
/// assert_eq!(memory.predict(&config(1), 100), 3); // the prior
/// memory.record(&config(8), 42);
/// assert_eq!(memory.predict(&config(12), 100), 42); // the nearest measured neighbour
/// assert_eq!(memory.predict(&config(32), 100), IterationMemory::prior(32, 100));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IterationMemory {
    measured: Vec<(CovarianceType, usize, usize)>,
}

impl IterationMemory {
    /// Remembers that `config` took `n_iter` EM iterations.
    pub fn record(&mut self, config: &GmmConfig, n_iter: usize) {
        self.measured
            .push((config.covariance_type, config.n_components, n_iter));
    }

    /// Iterations assumed for `n_components` without a measured neighbour: 3 for one
    /// component (EM settles in a couple of steps), else `15 + 5 log2 K` (from 20 at 2
    /// components to 40 at 32, about the medians gmmtune measures with `tol: 1e-3`), capped at
    /// `max_iter`.
    pub fn prior(n_components: usize, max_iter: usize) -> usize {
        let guess = if n_components <= 1 {
            3.0
        } else {
            15.0 + 5.0 * (n_components as f64).log2()
        };
        (guess.round() as usize).clamp(1, max_iter.max(1))
    }

    /// The predicted EM iterations of `config`: those of the measured configuration with the
    /// same covariance type nearest in `log2 K` (at most one doubling away; the latest of
    /// equally near ones), else [`IterationMemory::prior`].
    pub fn predict(&self, config: &GmmConfig, max_iter: usize) -> usize {
        let log_k = (config.n_components.max(1) as f64).log2();
        let mut best: Option<(f64, usize)> = None;
        for &(cov, k, n_iter) in &self.measured {
            if cov != config.covariance_type {
                continue;
            }
            let distance = ((k.max(1) as f64).log2() - log_k).abs();
            if distance <= 1.0 && best.is_none_or(|(b, _)| distance <= b) {
                best = Some((distance, n_iter));
            }
        }
        match best {
            Some((_, n_iter)) => n_iter.clamp(1, max_iter.max(1)),
            None => Self::prior(config.n_components, max_iter),
        }
    }
}

/// Default of [`CostFrugal::spend_ratio`].
pub const DEFAULT_SPEND_RATIO: f64 = 1.0;
/// Default of [`CostFrugal::free_work`]: about 10 ms of EM at the speeds gmmtune reaches.
pub const DEFAULT_FREE_WORK: f64 = 3.0e7;
/// Default of [`CostFrugal::min_rows`]: above every shipped set of the default benchmark list
/// (the largest, mammography, fits about 6,600 rows), so the gate acts on big data only.
pub const DEFAULT_MIN_ROWS: usize = 10_000;

/// Settings of CFO's cost gate (`cost_frugal` in a `cfo` strategy).
///
/// In YAML: `cost_frugal: true` (the defaults), `cost_frugal: false` (FLAML's CFO as it is:
/// every proposal is fitted), or a map of the settings to change:
///
/// ```
/// use gmmtune::search::CostFrugalSpec;
/// let on: CostFrugalSpec = serde_norway::from_str("true").unwrap();
/// assert_eq!(on, CostFrugalSpec::default());
/// let off: CostFrugalSpec = serde_norway::from_str("false").unwrap();
/// assert_eq!(off, CostFrugalSpec::Off);
/// let tuned: CostFrugalSpec = serde_norway::from_str("{spend_ratio: 0.5}").unwrap();
/// assert_eq!(tuned.settings().unwrap().spend_ratio, 0.5);
/// assert!(serde_norway::from_str::<CostFrugalSpec>("{spend: 0.5}").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CostFrugalSpec {
    /// Every proposal is fitted, as FLAML's CFO does.
    Off,
    /// Proposals predicted to cost too much are held back (see [`CostGate`]).
    On(CostFrugal),
}

impl Default for CostFrugalSpec {
    fn default() -> Self {
        CostFrugalSpec::On(CostFrugal::default())
    }
}

impl CostFrugalSpec {
    /// The gate's settings, or `None` when it is off.
    pub fn settings(&self) -> Option<CostFrugal> {
        match self {
            CostFrugalSpec::Off => None,
            CostFrugalSpec::On(settings) => Some(*settings),
        }
    }
}

/// The settings of a [`CostGate`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostFrugal {
    /// A proposal may cost at most this many times the work already spent by the search.
    #[serde(default = "default_spend_ratio")]
    pub spend_ratio: f64,
    /// Work (multiply-adds of [`trial_work`]) below which a proposal is always fitted.
    #[serde(default = "default_free_work")]
    pub free_work: f64,
    /// Whether a move that costs too much is first tried at 1/2, 1/4 and 1/8 of its length.
    #[serde(default = "default_shorten")]
    pub shorten: bool,
    /// Fit rows below which the gate stays open: on smaller data every trial is cheap, and
    /// CFO runs exactly as FLAML's.
    #[serde(default = "default_min_rows")]
    pub min_rows: usize,
}

fn default_min_rows() -> usize {
    DEFAULT_MIN_ROWS
}

fn default_shorten() -> bool {
    true
}

fn default_spend_ratio() -> f64 {
    DEFAULT_SPEND_RATIO
}
fn default_free_work() -> f64 {
    DEFAULT_FREE_WORK
}

impl Default for CostFrugal {
    fn default() -> Self {
        CostFrugal {
            spend_ratio: DEFAULT_SPEND_RATIO,
            free_work: DEFAULT_FREE_WORK,
            shorten: true,
            min_rows: DEFAULT_MIN_ROWS,
        }
    }
}

impl CostFrugal {
    /// Checks the values; errors name `strategy.cost_frugal.<key>`.
    pub fn check(&self) -> Result<(), SearchError> {
        let error = |key: &str, reason: String| SearchError::InvalidStrategy {
            key: format!("strategy.cost_frugal.{key}"),
            reason,
        };
        if !(self.spend_ratio.is_finite() && self.spend_ratio > 0.0) {
            return Err(error(
                "spend_ratio",
                format!(
                    "must be a finite number > 0 (1 = a trial may cost as much as all before it), got {}",
                    self.spend_ratio
                ),
            ));
        }
        if !(self.free_work.is_finite() && self.free_work >= 0.0) {
            return Err(error(
                "free_work",
                format!("must be a finite number >= 0, got {}", self.free_work),
            ));
        }
        Ok(())
    }
}

impl Serialize for CostFrugalSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CostFrugalSpec::Off => serializer.serialize_bool(false),
            CostFrugalSpec::On(settings) => settings.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for CostFrugalSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = CostFrugalSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "true, false or a map of `spend_ratio`, `free_work`, `shorten`, `min_rows`",
                )
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Self::Value, E> {
                Ok(if on {
                    CostFrugalSpec::default()
                } else {
                    CostFrugalSpec::Off
                })
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                CostFrugal::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(CostFrugalSpec::On)
                    .map_err(|e| de::Error::custom(format!("strategy.cost_frugal: {e}")))
            }
        }
        deserializer.deserialize_any(SpecVisitor)
    }
}

/// CFO's cost gate: holds back a proposal whose predicted work exceeds
/// `max(free_work, spend_ratio × work spent)` (see the module documentation).
///
/// ```
/// use gmmtune::search::{CostFrugal, CostGate, GmmConfig, WorkShape};
/// use gmmtune::gmm::CovarianceType;
/// let mut gate = CostGate::new(CostFrugal { free_work: 0.0, ..CostFrugal::default() });
/// let mut small = gate.clone();
/// small.set_shape(WorkShape::new(5_000, 8_000, 10, 100)); // below `min_rows`: open
/// assert_eq!(small.predicted_work(&GmmConfig::default()), None);
/// gate.set_shape(WorkShape::new(100_000, 160_000, 10, 100));
/// let corner = GmmConfig { n_components: 1, covariance_type: CovarianceType::Spherical, ..GmmConfig::default() };
/// let big = GmmConfig { n_components: 32, covariance_type: CovarianceType::Full, ..GmmConfig::default() };
/// gate.record(&corner, Some(3));
/// assert!(gate.admits(&corner));
/// assert!(!gate.admits(&big));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CostGate {
    settings: CostFrugal,
    shape: Option<WorkShape>,
    iterations: IterationMemory,
    spent: f64,
}

impl CostGate {
    /// A gate with `settings`; it admits everything until [`CostGate::set_shape`] gives it
    /// data of at least `min_rows` fit rows.
    pub fn new(settings: CostFrugal) -> Self {
        CostGate {
            settings,
            shape: None,
            iterations: IterationMemory::default(),
            spent: 0.0,
        }
    }

    /// The shape of the data the search runs on; below `min_rows` fit rows the gate stays
    /// open (predicts nothing, admits everything).
    pub fn set_shape(&mut self, shape: WorkShape) {
        self.shape = (shape.fit_rows >= self.settings.min_rows).then_some(shape);
    }

    /// Predicted work of `config` (`None` before the shape is known).
    pub fn predicted_work(&self, config: &GmmConfig) -> Option<f64> {
        let shape = self.shape.as_ref()?;
        let n_iter = self.iterations.predict(config, shape.max_iter);
        Some(trial_work(shape, config, n_iter))
    }

    /// The most work a proposal may take now.
    pub fn allowance(&self) -> f64 {
        self.settings
            .free_work
            .max(self.settings.spend_ratio * self.spent)
    }

    /// Whether `config` may be fitted now.
    pub fn admits(&self, config: &GmmConfig) -> bool {
        self.predicted_work(config)
            .is_none_or(|work| work <= self.allowance())
    }

    /// Whether `config`, a move of a local search from `incumbent`, may be fitted now: when
    /// [`CostGate::admits`] it, or when it is predicted to cost no more than the incumbent
    /// (a move that does not raise the cost is never held back, so a search whose first
    /// trials are still running, with nothing spent yet, can move sideways).
    pub fn admits_move(&self, config: &GmmConfig, incumbent: &GmmConfig) -> bool {
        match (self.predicted_work(config), self.predicted_work(incumbent)) {
            (Some(work), Some(floor)) => work <= self.allowance().max(floor),
            _ => true,
        }
    }

    /// A trial of `config` was told, with its EM iterations (`None`: failed or not recorded;
    /// its work is then the predicted one).
    pub fn record(&mut self, config: &GmmConfig, n_iter: Option<usize>) {
        let Some(shape) = self.shape else {
            return;
        };
        let n_iter = match n_iter {
            Some(n) => {
                self.iterations.record(config, n);
                n
            }
            None => self.iterations.predict(config, shape.max_iter),
        };
        self.spent += trial_work(&shape, config, n_iter);
    }

    /// Modelled work of every trial recorded.
    pub fn spent(&self) -> f64 {
        self.spent
    }

    /// The settings.
    pub fn settings(&self) -> CostFrugal {
        self.settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(k: usize, covariance_type: CovarianceType, init: InitMethod) -> GmmConfig {
        GmmConfig {
            n_components: k,
            covariance_type,
            reg_covar: 1e-6,
            init,
        }
    }

    #[test]
    fn work_grows_with_components_iterations_rows_and_covariance_cost() {
        let shape = WorkShape::new(50_000, 80_000, 30, 100);
        let w = |k, cov| trial_work(&shape, &config(k, cov, InitMethod::RandomFromData), 20);
        for cov in CovarianceType::ALL {
            assert!(w(16, cov) > 1.9 * w(8, cov) * 0.5, "{cov}");
            assert!(w(16, cov) > w(8, cov), "{cov}");
        }
        // Cost order of the covariance types at d = 30.
        let order: Vec<f64> = CovarianceType::ALL.iter().map(|&c| w(8, c)).collect();
        assert!(order.windows(2).all(|p| p[0] < p[1]), "{order:?}");
        // Full costs about d/3 times spherical per component at high d.
        assert!(w(8, CovarianceType::Full) > 5.0 * w(8, CovarianceType::Spherical));
        let more_rows = WorkShape::new(100_000, 160_000, 30, 100);
        let c = config(4, CovarianceType::Diag, InitMethod::KMeans);
        assert!((trial_work(&more_rows, &c, 10) / trial_work(&shape, &c, 10) - 2.0).abs() < 1e-9);
        // Initialisations in cost order.
        let by_init: Vec<f64> = InitMethod::ALL
            .iter()
            .map(|&i| trial_work(&shape, &config(8, CovarianceType::Diag, i), 10))
            .collect();
        assert!(by_init.windows(2).all(|p| p[0] <= p[1]), "{by_init:?}");
        // Cross-validation multiplies the fits, not the scoring.
        let cv = shape.with_fits_per_trial(5.0);
        let one = trial_work(&shape, &c, 10);
        let five = trial_work(&cv, &c, 10);
        assert!(five > 4.0 * one && five < 5.0 * one);
    }

    #[test]
    fn work_is_exact_on_a_hand_count() {
        // 10 fit rows, 20 scored rows, d = 2, K = 2, spherical, random_from_data, 3 iterations:
        // fit 10 * 4 passes * 2 * (6 + 30) = 2880; score 20 * (2 * (4 + 30) + 50) = 2360.
        let shape = WorkShape::new(10, 20, 2, 100);
        let c = config(2, CovarianceType::Spherical, InitMethod::RandomFromData);
        assert_eq!(trial_work(&shape, &c, 3), 2880.0 + 2360.0);
    }

    #[test]
    fn iterations_come_from_the_nearest_measured_neighbour() {
        let mut memory = IterationMemory::default();
        let diag = |k| config(k, CovarianceType::Diag, InitMethod::Random);
        assert_eq!(memory.predict(&diag(1), 100), 3);
        assert_eq!(memory.predict(&diag(32), 100), 40);
        assert_eq!(memory.predict(&diag(32), 25), 25);
        memory.record(&diag(4), 11);
        memory.record(&diag(6), 17);
        memory.record(&config(6, CovarianceType::Full, InitMethod::Random), 70);
        assert_eq!(memory.predict(&diag(4), 100), 11);
        assert_eq!(memory.predict(&diag(7), 100), 17);
        assert_eq!(memory.predict(&diag(2), 100), 11);
        // More than a doubling away from every diag measurement: the prior.
        assert_eq!(
            memory.predict(&diag(16), 100),
            IterationMemory::prior(16, 100)
        );
        // Equally near: the latest.
        memory.record(&diag(4), 9);
        assert_eq!(memory.predict(&diag(4), 100), 9);
    }

    #[test]
    fn gate_admits_at_most_the_spend_ratio_of_the_work_spent() {
        let shape = WorkShape::new(200_000, 300_000, 3, 100);
        let settings = CostFrugal {
            spend_ratio: 1.0,
            free_work: 0.0,
            shorten: true,
            min_rows: 0,
        };
        let mut gate = CostGate::new(settings);
        let corner = config(1, CovarianceType::Spherical, InitMethod::RandomFromData);
        let wide = config(16, CovarianceType::Spherical, InitMethod::RandomFromData);
        // No shape: no prediction, everything admitted.
        assert!(gate.admits(&wide));
        gate.set_shape(shape);
        assert!(!gate.admits(&corner), "nothing spent and no free work");
        gate.record(&corner, Some(3));
        let spent = trial_work(&shape, &corner, 3);
        assert_eq!(gate.spent(), spent);
        assert!(gate.admits(&corner));
        assert!(!gate.admits(&wide));
        let need = gate.predicted_work(&wide).unwrap();
        while gate.spent() < need {
            gate.record(&corner, Some(3));
        }
        assert!(gate.admits(&wide));
        // A failed trial counts with its predicted work.
        let before = gate.spent();
        gate.record(&wide, None);
        assert_eq!(gate.spent(), before + need);
        // Free work admits small trials whatever was spent.
        let free = CostGate::new(CostFrugal {
            free_work: 1e12,
            ..CostFrugal::default()
        });
        let mut free = free;
        free.set_shape(shape);
        assert!(free.admits(&wide));
        assert_eq!(free.allowance(), 1e12);
    }

    #[test]
    fn settings_parse_check_and_round_trip() {
        let spec: CostFrugalSpec = serde_norway::from_str("{free_work: 1.0e9}").unwrap();
        assert_eq!(
            spec.settings(),
            Some(CostFrugal {
                free_work: 1e9,
                ..CostFrugal::default()
            })
        );
        for spec in [
            CostFrugalSpec::Off,
            CostFrugalSpec::default(),
            CostFrugalSpec::On(CostFrugal {
                spend_ratio: 0.25,
                free_work: 0.0,
                shorten: false,
                min_rows: 0,
            }),
        ] {
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(
                serde_json::from_str::<CostFrugalSpec>(&json).unwrap(),
                spec,
                "{json}"
            );
        }
        let unknown = serde_norway::from_str::<CostFrugalSpec>("{ratio: 2}").unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("strategy.cost_frugal: unknown field `ratio`"),
            "{unknown}"
        );
        assert!(serde_norway::from_str::<CostFrugalSpec>("3").is_err());
        assert!(serde_norway::from_str::<CostFrugalSpec>("off").is_err());
        for (bad, key) in [
            (
                CostFrugal {
                    spend_ratio: 0.0,
                    ..CostFrugal::default()
                },
                "strategy.cost_frugal.spend_ratio",
            ),
            (
                CostFrugal {
                    free_work: f64::NAN,
                    ..CostFrugal::default()
                },
                "strategy.cost_frugal.free_work",
            ),
        ] {
            assert_eq!(bad.check().err().unwrap().key(), key);
        }
    }
}
