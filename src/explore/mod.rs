//! The model explorer: look at one fitted mixture and choose its size.
//!
//! * [`model_views`]: the charts of one model on one dataset: log-density heatmap with
//!   contours, components (points by most responsible component, means, 1/2/3σ ellipses),
//!   uncertainty (entropy of the responsibilities), anomalies beyond a [`ThresholdRule`], and
//!   the EM lower bound per iteration. Data with more than two features is shown on its first
//!   two principal components ([`Pca`]), with the mixture projected onto them
//!   ([`PlotSpace`]); two-feature data is shown in the units the user gave.
//! * [`select`]: fits every candidate size and covariance type, tabulates BIC, AIC and the
//!   k-fold held-out log-likelihood, and plots them against `n_components`.
//! * [`ThresholdRule`]: a fixed value, a quantile of the training scores, or the cost-optimal
//!   threshold when labels are known.

mod error;
mod pca;
mod select;
mod space;
mod threshold;
mod views;

pub use error::ExploreError;
pub use pca::Pca;
pub use select::{
    select, Candidate, Criterion, SelectSettings, Selection, SelectionRow, MAX_CANDIDATES,
};
pub use space::{component_covariance, PlotSpace, Units};
pub use threshold::{response_entropy, Threshold, ThresholdRule};
pub use views::{model_views, ViewInput, ViewOptions};
