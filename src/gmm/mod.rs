//! Gaussian mixtures fitted by expectation-maximisation, with scikit-learn's semantics.

mod error;
mod params;

pub use error::GmmError;
pub use params::{CovarianceType, GmmParams, GmmValidParams, InitMethod, PrecisionsInit};
