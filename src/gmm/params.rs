//! Hyperparameters of a Gaussian mixture and their check (`GmmParams` -> `GmmValidParams`).
//!
//! The defaults are scikit-learn's `GaussianMixture` defaults: one full-covariance component,
//! `tol` 1e-3, `reg_covar` 1e-6, `max_iter` 100, `n_init` 1, k-means initialisation.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::GmmError;

/// Shape of each component's covariance, as scikit-learn's `covariance_type`.
///
/// The order of the variants is the cost order used by the search (cheapest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CovarianceType {
    /// One variance per component.
    Spherical,
    /// One variance per component and feature.
    Diag,
    /// One full matrix shared by all components.
    Tied,
    /// One full matrix per component.
    Full,
}

impl CovarianceType {
    /// All types, cheapest first.
    pub const ALL: [CovarianceType; 4] = [
        CovarianceType::Spherical,
        CovarianceType::Diag,
        CovarianceType::Tied,
        CovarianceType::Full,
    ];

    /// The name scikit-learn and the configs use.
    pub fn as_str(self) -> &'static str {
        match self {
            CovarianceType::Spherical => "spherical",
            CovarianceType::Diag => "diag",
            CovarianceType::Tied => "tied",
            CovarianceType::Full => "full",
        }
    }
}

impl fmt::Display for CovarianceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CovarianceType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CovarianceType::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown covariance type `{s}` (expected full, tied, diag or spherical)")
            })
    }
}

/// How the responsibilities of the first EM iteration are built, as scikit-learn's `init_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InitMethod {
    /// k distinct rows drawn at random, one-hot responsibilities for those rows only.
    #[serde(rename = "random_from_data")]
    RandomFromData,
    /// Uniform random responsibilities, each row normalised to sum to one.
    #[serde(rename = "random")]
    Random,
    /// k-means++ seeding only: one-hot responsibilities for the k seed rows.
    #[serde(rename = "k-means++")]
    KMeansPlusPlus,
    /// Labels of a full k-means run (k-means++ seeding, Lloyd iterations, one run).
    #[serde(rename = "kmeans")]
    KMeans,
}

impl InitMethod {
    /// All methods, cheapest first.
    pub const ALL: [InitMethod; 4] = [
        InitMethod::RandomFromData,
        InitMethod::Random,
        InitMethod::KMeansPlusPlus,
        InitMethod::KMeans,
    ];

    /// The name scikit-learn and the configs use.
    pub fn as_str(self) -> &'static str {
        match self {
            InitMethod::RandomFromData => "random_from_data",
            InitMethod::Random => "random",
            InitMethod::KMeansPlusPlus => "k-means++",
            InitMethod::KMeans => "kmeans",
        }
    }
}

impl fmt::Display for InitMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InitMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InitMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown init `{s}` (expected kmeans, k-means++, random or random_from_data)"
                )
            })
    }
}

/// User-given initial precisions, shaped like scikit-learn's `precisions_init`:
/// full K×d×d, tied d×d, diag K×d, spherical K.
#[derive(Debug, Clone, PartialEq)]
pub enum PrecisionsInit {
    /// One d×d precision matrix per component.
    Full(ndarray::Array3<f64>),
    /// One d×d precision matrix shared by all components.
    Tied(Array2<f64>),
    /// One precision per component and feature.
    Diag(Array2<f64>),
    /// One precision per component.
    Spherical(Array1<f64>),
}

/// Checked hyperparameters; only [`GmmParams::check`] makes one, so a value of this type is
/// always valid apart from what depends on the data (checked when fitting).
#[derive(Debug, Clone, PartialEq)]
pub struct GmmValidParams {
    pub(crate) n_components: usize,
    pub(crate) covariance_type: CovarianceType,
    pub(crate) tol: f64,
    pub(crate) reg_covar: f64,
    pub(crate) max_iter: usize,
    pub(crate) n_init: usize,
    pub(crate) init: InitMethod,
    pub(crate) seed: u64,
    pub(crate) weights_init: Option<Array1<f64>>,
    pub(crate) means_init: Option<Array2<f64>>,
    pub(crate) precisions_init: Option<PrecisionsInit>,
}

impl GmmValidParams {
    /// Number of mixture components.
    pub fn n_components(&self) -> usize {
        self.n_components
    }
    /// Covariance shape.
    pub fn covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }
    /// Convergence threshold on the change of the mean log-likelihood lower bound.
    pub fn tol(&self) -> f64 {
        self.tol
    }
    /// Non-negative regularisation added to the covariance diagonals.
    pub fn reg_covar(&self) -> f64 {
        self.reg_covar
    }
    /// Maximum EM iterations per initialisation.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }
    /// Number of initialisations; the best lower bound wins.
    pub fn n_init(&self) -> usize {
        self.n_init
    }
    /// Initialisation method.
    pub fn init(&self) -> InitMethod {
        self.init
    }
    /// Seed of the random stream used by initialisation.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// User-given initial weights.
    pub fn weights_init(&self) -> Option<&Array1<f64>> {
        self.weights_init.as_ref()
    }
    /// User-given initial means.
    pub fn means_init(&self) -> Option<&Array2<f64>> {
        self.means_init.as_ref()
    }
    /// User-given initial precisions.
    pub fn precisions_init(&self) -> Option<&PrecisionsInit> {
        self.precisions_init.as_ref()
    }
}

/// Unchecked hyperparameters: a consuming builder, then [`GmmParams::check`].
///
/// ```
/// use gmmtune::gmm::{CovarianceType, GmmParams, InitMethod};
/// let params = GmmParams::new(3)
///     .covariance_type(CovarianceType::Diag)
///     .init(InitMethod::KMeansPlusPlus)
///     .reg_covar(1e-4)
///     .seed(7)
///     .check()
///     .expect("valid parameters");
/// assert_eq!(params.n_components(), 3);
///
/// let err = GmmParams::new(2).reg_covar(-1.0).check().unwrap_err();
/// assert!(err.to_string().contains("reg_covar"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GmmParams(GmmValidParams);

impl Default for GmmParams {
    fn default() -> Self {
        GmmParams::new(1)
    }
}

impl GmmParams {
    /// scikit-learn's defaults with `n_components` components and seed 0.
    pub fn new(n_components: usize) -> Self {
        GmmParams(GmmValidParams {
            n_components,
            covariance_type: CovarianceType::Full,
            tol: 1e-3,
            reg_covar: 1e-6,
            max_iter: 100,
            n_init: 1,
            init: InitMethod::KMeans,
            seed: 0,
            weights_init: None,
            means_init: None,
            precisions_init: None,
        })
    }

    /// Sets the covariance shape.
    pub fn covariance_type(mut self, covariance_type: CovarianceType) -> Self {
        self.0.covariance_type = covariance_type;
        self
    }
    /// Sets the convergence threshold (≥ 0).
    pub fn tol(mut self, tol: f64) -> Self {
        self.0.tol = tol;
        self
    }
    /// Sets the covariance regularisation (≥ 0).
    pub fn reg_covar(mut self, reg_covar: f64) -> Self {
        self.0.reg_covar = reg_covar;
        self
    }
    /// Sets the maximum number of EM iterations (0 keeps the initial parameters).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.0.max_iter = max_iter;
        self
    }
    /// Sets the number of initialisations (≥ 1).
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.0.n_init = n_init;
        self
    }
    /// Sets the initialisation method.
    pub fn init(mut self, init: InitMethod) -> Self {
        self.0.init = init;
        self
    }
    /// Sets the seed of the initialisation's random stream.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Sets initial weights (length K, non-negative, summing to 1).
    pub fn weights_init(mut self, weights: Array1<f64>) -> Self {
        self.0.weights_init = Some(weights);
        self
    }
    /// Sets initial means (K×d).
    pub fn means_init(mut self, means: Array2<f64>) -> Self {
        self.0.means_init = Some(means);
        self
    }
    /// Sets initial precisions (shaped by the covariance type).
    pub fn precisions_init(mut self, precisions: PrecisionsInit) -> Self {
        self.0.precisions_init = Some(precisions);
        self
    }

    /// Checks every value that does not depend on the data.
    pub fn check(self) -> Result<GmmValidParams, GmmError> {
        let p = &self.0;
        let invalid =
            |name: &'static str, value: String, reason: &str| GmmError::InvalidParameter {
                name,
                value,
                reason: reason.to_string(),
            };
        if p.n_components == 0 {
            return Err(invalid("n_components", "0".into(), "must be at least 1"));
        }
        if !(p.tol >= 0.0 && p.tol.is_finite()) {
            return Err(invalid(
                "tol",
                p.tol.to_string(),
                "must be a finite number ≥ 0",
            ));
        }
        if !(p.reg_covar >= 0.0 && p.reg_covar.is_finite()) {
            return Err(invalid(
                "reg_covar",
                p.reg_covar.to_string(),
                "must be a finite number ≥ 0 (1e-6 is scikit-learn's default)",
            ));
        }
        if p.n_init == 0 {
            return Err(invalid("n_init", "0".into(), "must be at least 1"));
        }
        let k = p.n_components;
        if let Some(w) = &p.weights_init {
            if w.len() != k {
                return Err(invalid(
                    "weights_init",
                    format!("{} values", w.len()),
                    &format!("must have n_components = {k} values"),
                ));
            }
            if w.iter().any(|&v| !(v.is_finite() && v >= 0.0)) {
                return Err(invalid(
                    "weights_init",
                    format!("{w}"),
                    "must be finite and ≥ 0",
                ));
            }
            let total: f64 = w.sum();
            if (total - 1.0).abs() > 1e-6 {
                return Err(invalid(
                    "weights_init",
                    format!("sum {total}"),
                    "must sum to 1",
                ));
            }
        }
        if let Some(m) = &p.means_init {
            if m.nrows() != k {
                return Err(invalid(
                    "means_init",
                    format!("{}×{}", m.nrows(), m.ncols()),
                    &format!("must have n_components = {k} rows"),
                ));
            }
            if m.iter().any(|v| !v.is_finite()) {
                return Err(invalid(
                    "means_init",
                    "non-finite value".into(),
                    "must be finite",
                ));
            }
        }
        if let Some(prec) = &p.precisions_init {
            check_precisions_init(prec, p.covariance_type, k)?;
        }
        Ok(self.0)
    }
}

fn check_precisions_init(
    prec: &PrecisionsInit,
    covariance_type: CovarianceType,
    k: usize,
) -> Result<(), GmmError> {
    let invalid = |reason: String| GmmError::InvalidParameter {
        name: "precisions_init",
        value: format!("{prec:?}").chars().take(60).collect(),
        reason,
    };
    let (matches, shape_ok, values): (bool, bool, Vec<f64>) = match prec {
        PrecisionsInit::Full(a) => (
            covariance_type == CovarianceType::Full,
            a.shape()[0] == k && a.shape()[1] == a.shape()[2],
            a.iter().copied().collect(),
        ),
        PrecisionsInit::Tied(a) => (
            covariance_type == CovarianceType::Tied,
            a.nrows() == a.ncols(),
            a.iter().copied().collect(),
        ),
        PrecisionsInit::Diag(a) => (
            covariance_type == CovarianceType::Diag,
            a.nrows() == k,
            a.iter().copied().collect(),
        ),
        PrecisionsInit::Spherical(a) => (
            covariance_type == CovarianceType::Spherical,
            a.len() == k,
            a.iter().copied().collect(),
        ),
    };
    if !matches {
        return Err(invalid(format!(
            "its shape does not match covariance_type {covariance_type}"
        )));
    }
    if !shape_ok {
        return Err(invalid(format!(
            "wrong shape for {covariance_type} with n_components = {k} (full K×d×d, tied d×d, diag K×d, spherical K)"
        )));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(invalid("values must be finite".into()));
    }
    if matches!(prec, PrecisionsInit::Diag(_) | PrecisionsInit::Spherical(_))
        && values.iter().any(|&v| v <= 0.0)
    {
        return Err(invalid("values must be > 0".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_names(params: GmmParams) -> &'static str {
        match params.check() {
            Err(GmmError::InvalidParameter { name, .. }) => name,
            other => panic!("expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_scikit_learns() {
        let p = GmmParams::default().check().unwrap();
        assert_eq!(p.n_components(), 1);
        assert_eq!(p.covariance_type(), CovarianceType::Full);
        assert_eq!(p.tol(), 1e-3);
        assert_eq!(p.reg_covar(), 1e-6);
        assert_eq!(p.max_iter(), 100);
        assert_eq!(p.n_init(), 1);
        assert_eq!(p.init(), InitMethod::KMeans);
    }

    #[test]
    fn each_bad_value_names_its_parameter() {
        assert_eq!(error_names(GmmParams::new(0)), "n_components");
        assert_eq!(error_names(GmmParams::new(2).tol(-1.0)), "tol");
        assert_eq!(error_names(GmmParams::new(2).tol(f64::NAN)), "tol");
        assert_eq!(error_names(GmmParams::new(2).reg_covar(-1e-6)), "reg_covar");
        assert_eq!(error_names(GmmParams::new(2).n_init(0)), "n_init");
        assert_eq!(
            error_names(GmmParams::new(2).weights_init(Array1::from(vec![0.5, 0.6]))),
            "weights_init"
        );
        assert_eq!(
            error_names(GmmParams::new(2).means_init(Array2::zeros((3, 2)))),
            "means_init"
        );
        assert_eq!(
            error_names(
                GmmParams::new(2)
                    .covariance_type(CovarianceType::Diag)
                    .precisions_init(PrecisionsInit::Spherical(Array1::ones(2)))
            ),
            "precisions_init"
        );
    }

    #[test]
    fn names_round_trip() {
        for c in CovarianceType::ALL {
            assert_eq!(c.as_str().parse::<CovarianceType>().unwrap(), c);
        }
        for m in InitMethod::ALL {
            assert_eq!(m.as_str().parse::<InitMethod>().unwrap(), m);
        }
        assert!("Full".parse::<CovarianceType>().is_err());
        assert_eq!(
            serde_json::to_string(&InitMethod::KMeansPlusPlus).unwrap(),
            "\"k-means++\""
        );
    }
}
