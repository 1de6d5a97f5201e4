//! Evaluation of anomaly scores: ranking metrics and the course's cost model.
//!
//! Scores follow one convention everywhere: **higher = more anomalous** (for a GMM, the negative
//! log-likelihood); labels are `true` for an anomaly.
//! * [`roc_auc`], [`average_precision`]: threshold-free, as scikit-learn computes them.
//! * [`CostModel`]: the point-wise cost model with a symmetric tolerance in rows (the course's
//!   `HPCMetrics`), with [`CostModel::optimise_threshold`] to pick an alarm threshold on
//!   validation data ([`ThresholdSearch`]) and report it as a [`ThresholdChoice`].

mod cost;
mod error;
mod profile;
mod ranking;
mod threshold;

pub use cost::{CostCounts, CostModel};
pub use error::EvalError;
pub use ranking::{average_precision, roc_auc};
pub use threshold::{linspace, ThresholdChoice, ThresholdSearch};
