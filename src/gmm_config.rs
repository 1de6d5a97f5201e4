//! The hyperparameters of one Gaussian mixture as the searches, the journal and the zero-shot
//! portfolios see them: the searched [`GmmConfig`] and the fixed EM [`FitSettings`] of a run.
//! Both are plain data, below every module that stores or proposes them.
//!
//! ```
//! use gmmtune::gmm_config::{FitSettings, GmmConfig};
//! let config = GmmConfig::default(); // scikit-learn's GaussianMixture defaults
//! let params = config.params(&FitSettings::default(), 7);
//! let x = ndarray::array![[0.0, 1.0], [1.0, 0.5], [0.2, 0.1], [0.9, 0.8]];
//! let model = params.check().unwrap().fit(x.view()).unwrap();
//! assert_eq!(model.n_components(), 1);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gmm::{CovarianceType, GmmParams, InitMethod};

/// One complete GMM configuration, as proposed by a strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmmConfig {
    /// Number of mixture components.
    pub n_components: usize,
    /// Covariance shape.
    pub covariance_type: CovarianceType,
    /// Regularisation added to the covariance diagonals.
    pub reg_covar: f64,
    /// Initialisation method.
    pub init: InitMethod,
}

impl Default for GmmConfig {
    /// scikit-learn's `GaussianMixture` defaults.
    fn default() -> Self {
        GmmConfig {
            n_components: 1,
            covariance_type: CovarianceType::Full,
            reg_covar: 1e-6,
            init: InitMethod::KMeans,
        }
    }
}

impl GmmConfig {
    /// Canonical key of the configuration, used to recognise a configuration again (dedup,
    /// resume). `reg_covar` is printed with the shortest representation that reads back to the
    /// same `f64`, so two configurations share a signature exactly when they are equal.
    ///
    /// ```
    /// use gmmtune::gmm_config::GmmConfig;
    /// let c = GmmConfig::default();
    /// assert_eq!(c.signature(), "n_components=1;covariance_type=full;reg_covar=1e-6;init=kmeans");
    /// ```
    pub fn signature(&self) -> String {
        format!(
            "n_components={};covariance_type={};reg_covar={:e};init={}",
            self.n_components, self.covariance_type, self.reg_covar, self.init
        )
    }

    /// The estimator parameters of this configuration under the EM `fit` settings and `seed`.
    pub fn params(&self, fit: &FitSettings, seed: u64) -> GmmParams {
        GmmParams::new(self.n_components)
            .covariance_type(self.covariance_type)
            .reg_covar(self.reg_covar)
            .init(self.init)
            .max_iter(fit.max_iter)
            .tol(fit.tol)
            .n_init(fit.n_init)
            .seed(seed)
    }
}

impl fmt::Display for GmmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n_components={} covariance_type={} reg_covar={:e} init={}",
            self.n_components, self.covariance_type, self.reg_covar, self.init
        )
    }
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
