//! Gaussian mixtures fitted by expectation-maximisation, with scikit-learn's semantics.
//!
//! [`GmmParams`] → [`GmmParams::check`] → [`GmmValidParams::fit`] → [`GaussianMixture`], which
//! scores rows ([`GaussianMixture::score_samples`]), predicts components, gives BIC/AIC,
//! samples, and round-trips through JSON.

mod em;
mod error;
mod estimate;
mod init;
mod kernels;
mod kmeans;
mod model;
mod params;
mod persist;

pub use error::GmmError;
pub use model::{Covariances, GaussianMixture};
pub use params::{CovarianceType, GmmParams, GmmValidParams, InitMethod, PrecisionsInit};
