//! What a search optimises, and how a trial's metrics turn into the value it minimises.

use serde::{Deserialize, Serialize};

/// The objective of a strategy.
///
/// ```
/// use gmmtune::eval::Objective;
/// assert_eq!(Objective::default(), Objective::ValAuc);
/// assert!(Objective::ValAuc.higher_is_better());
/// assert!(!Objective::Bic.needs_labels());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// ROC AUC on validation (higher is better).
    #[default]
    ValAuc,
    /// Cost-model cost on validation at the threshold chosen there (lower is better).
    ValCost,
    /// Bayesian information criterion on the training rows (lower is better; no labels).
    Bic,
    /// k-fold held-out mean log-likelihood on the training rows, as scikit-learn's
    /// `GridSearchCV` scores a `GaussianMixture` (higher is better; no labels).
    CvLoglik,
}

impl Objective {
    /// The name used in configs and results.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::ValAuc => "val_auc",
            Objective::ValCost => "val_cost",
            Objective::Bic => "bic",
            Objective::CvLoglik => "cv_loglik",
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Objective::ValAuc | Objective::CvLoglik)
    }

    /// Whether the objective uses anomaly labels.
    pub fn needs_labels(self) -> bool {
        matches!(self, Objective::ValAuc | Objective::ValCost)
    }

    /// The value a strategy minimises, from the objective's natural value; `None` for a missing
    /// or non-finite value (a failed trial or an undefined metric).
    pub fn to_minimise(self, value: Option<f64>) -> Option<f64> {
        let v = value.filter(|v| v.is_finite())?;
        Some(if self.higher_is_better() { -v } else { v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimised_values_order_like_the_objective() {
        let auc = Objective::ValAuc;
        assert!(auc.to_minimise(Some(0.9)) < auc.to_minimise(Some(0.8)));
        let cost = Objective::ValCost;
        assert!(cost.to_minimise(Some(10.0)) < cost.to_minimise(Some(20.0)));
        assert_eq!(auc.to_minimise(Some(f64::NAN)), None);
        assert_eq!(auc.to_minimise(None), None);
    }

    #[test]
    fn names_match_serde() {
        for o in [
            Objective::ValAuc,
            Objective::ValCost,
            Objective::Bic,
            Objective::CvLoglik,
        ] {
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.as_str())
            );
        }
    }
}
