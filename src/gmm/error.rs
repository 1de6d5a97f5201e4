//! Errors of the GMM engine.

use thiserror::Error;

/// Everything that can go wrong when checking parameters, fitting or scoring a mixture.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum GmmError {
    /// A hyperparameter has a value outside its domain; `name` is the parameter's name as the
    /// user spells it (`n_components`, `reg_covar`, ...).
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// The data cannot be fitted or scored as given (too few rows, wrong width, non-finite values).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// A covariance matrix is not positive definite after adding `reg_covar`.
    #[error(
        "ill-defined empirical covariance (component {component}, covariance type {covariance_type}): \
         the matrix is not positive definite; increase reg_covar (now {reg_covar:e}), decrease \
         n_components, or scale the input data (--standardize)"
    )]
    IllDefinedCovariance {
        component: usize,
        covariance_type: String,
        reg_covar: f64,
    },
    /// A model (for example one read from a file) is internally inconsistent.
    #[error("invalid model: {0}")]
    InvalidModel(String),
}
