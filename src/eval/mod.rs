//! Evaluation of anomaly scores: ranking metrics and the course's cost model.
//!
//! Scores follow one convention everywhere: **higher = more anomalous** (for a GMM, the negative
//! log-likelihood); labels are `true` for an anomaly.
//! * [`roc_auc`], [`average_precision`]: threshold-free, as scikit-learn computes them.
//! * [`CostModel`]: the point-wise cost model with a symmetric tolerance in rows (the course's
//!   `HPCMetrics`), with [`CostModel::optimise_threshold`] to pick an alarm threshold on
//!   validation data ([`ThresholdSearch`]) and report it as a [`ThresholdChoice`].
//!
//! ```
//! use gmmtune::eval::{average_precision, roc_auc, CostModel, ThresholdSearch};
//! let validation_scores = [0.2, 0.1, 3.0, 2.5, 0.3, 0.2];
//! let validation_labels = [false, false, true, true, false, false];
//! assert_eq!(roc_auc(&validation_scores, &validation_labels), 1.0);
//! assert_eq!(average_precision(&validation_scores, &validation_labels), 1.0);
//!
//! let model = CostModel::hpc_course(); // c_alarm 1, c_missed 5, tolerance 12 rows
//! let choice =
//!     model.optimise_threshold(&validation_scores, &validation_labels, &ThresholdSearch::CutPoints);
//! assert_eq!(choice.cost, 0.0);
//! // Apply the validation threshold to test data.
//! let test_cost = model.cost(&[0.1, 4.0, 0.2], &[false, true, false], choice.threshold);
//! assert_eq!(test_cost, 0.0);
//! ```

mod cost;
mod error;
mod objective;
mod profile;
mod quantile;
mod ranking;
mod threshold;

pub use cost::{CostCounts, CostModel};
pub use error::EvalError;
pub use objective::Objective;
pub use quantile::quantile;
pub use ranking::{average_precision, roc_auc};
pub use threshold::{linspace, ThresholdChoice, ThresholdSearch};

/// The cost at every threshold at once (the reports draw cost-versus-threshold curves with it).
pub(crate) use profile::CostProfile;
