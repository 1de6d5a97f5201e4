//! Flagging anomalies: the threshold rule, and the entropy of a row's responsibilities.

use std::str::FromStr;

use ndarray::ArrayView1;

use crate::eval::{CostModel, ThresholdSearch};
use crate::model_file::ScoreQuantiles;
use crate::plot::format_value;

use super::ExploreError;

/// How the anomaly threshold on the score (−log-likelihood) is set; a row is flagged when its
/// score is strictly above it.
///
/// Parsed from `7.5` (a value), `quantile:0.99` (of the training scores recorded in the
/// model file) or `cost` (the threshold that minimises the cost model on labelled rows).
///
/// ```
/// use gmmtune::explore::ThresholdRule;
/// assert_eq!("quantile:0.99".parse::<ThresholdRule>(), Ok(ThresholdRule::Quantile(0.99)));
/// assert_eq!("-3".parse::<ThresholdRule>(), Ok(ThresholdRule::Value(-3.0)));
/// assert!("quantile:2".parse::<ThresholdRule>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// This score.
    Value(f64),
    /// This quantile (in `[0, 1]`) of the training rows' scores.
    Quantile(f64),
    /// The cut point that minimises this cost model on the labelled rows shown.
    CostOptimal(CostModel),
}

impl FromStr for ThresholdRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "cost" {
            return Ok(ThresholdRule::CostOptimal(
                CostModel::new(1.0, 5.0, 0).expect("valid costs"),
            ));
        }
        if let Some(q) = s.strip_prefix("quantile:") {
            let q: f64 = q.parse().map_err(|_| {
                format!("`{s}`: the quantile must be a number in [0, 1], e.g. quantile:0.99")
            })?;
            if !(0.0..=1.0).contains(&q) {
                return Err(format!(
                    "`{s}`: the quantile must be in [0, 1], e.g. quantile:0.99"
                ));
            }
            return Ok(ThresholdRule::Quantile(q));
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(ThresholdRule::Value(v)),
            _ => Err(format!(
                "`{s}` is not a threshold: give a score (e.g. 7.5), quantile:Q of the training scores (e.g. quantile:0.99) or cost (needs labels)"
            )),
        }
    }
}

/// A resolved threshold and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// Rows whose score is strictly above it are flagged.
    pub value: f64,
    /// e.g. "0.99 quantile of the training scores".
    pub description: String,
}

impl ThresholdRule {
    /// The threshold for rows with these `scores` (and `labels`, needed by
    /// [`ThresholdRule::CostOptimal`]), using the model's recorded training quantiles.
    ///
    /// # Errors
    /// [`ExploreError::BadThreshold`] when a quantile is asked of a model file without recorded
    /// training scores, or the cost-optimal threshold without labels.
    pub fn resolve(
        &self,
        quantiles: Option<&ScoreQuantiles>,
        scores: &[f64],
        labels: Option<&[bool]>,
    ) -> Result<Threshold, ExploreError> {
        match *self {
            ThresholdRule::Value(value) => Ok(Threshold {
                value,
                description: "given".into(),
            }),
            ThresholdRule::Quantile(q) => {
                let quantiles = quantiles.ok_or_else(|| {
                    ExploreError::BadThreshold(
                        "the model file records no training scores (files written by `gmmtune fit` and `gmmtune select` do); give a value instead, e.g. --threshold 7.5".into(),
                    )
                })?;
                let value = quantiles.at(q).ok_or_else(|| {
                    ExploreError::BadThreshold(format!("quantile {q} is outside [0, 1]"))
                })?;
                Ok(Threshold {
                    value,
                    description: format!("{} quantile of the training scores", format_value(q, 6)),
                })
            }
            ThresholdRule::CostOptimal(cost) => {
                let labels = labels.ok_or_else(|| {
                    ExploreError::BadThreshold(
                        "`cost` needs a label column in the data (--label-column); without labels use quantile:0.99 or a value".into(),
                    )
                })?;
                let choice = cost.optimise_threshold(scores, labels, &ThresholdSearch::CutPoints);
                Ok(Threshold {
                    value: choice.threshold,
                    description: format!(
                        "cost-optimal on these labelled rows (c_alarm {}, c_missed {}, cost {})",
                        format_value(cost.c_alarm, 4),
                        format_value(cost.c_missed, 4),
                        format_value(choice.cost, 6)
                    ),
                })
            }
        }
    }
}

/// Entropy `−Σ p ln p` (nats) of one row of responsibilities: 0 when one component owns the
/// row, `ln K` when all share it equally.
///
/// ```
/// use gmmtune::explore::response_entropy;
/// use ndarray::array;
/// assert_eq!(response_entropy(array![1.0, 0.0].view()), 0.0);
/// assert!((response_entropy(array![0.5, 0.5].view()) - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn response_entropy(p: ArrayView1<f64>) -> f64 {
    -p.iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * v.ln())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_resolve() {
        let scores = [1.0, 2.0, 3.0, 10.0];
        let q = ScoreQuantiles::from_scores(&scores).unwrap();
        let t = ThresholdRule::Quantile(0.5)
            .resolve(Some(&q), &scores, None)
            .unwrap();
        assert_eq!(t.value, 2.5);
        assert!(ThresholdRule::Quantile(0.5)
            .resolve(None, &scores, None)
            .is_err());
        let labels = [false, false, false, true];
        let rule: ThresholdRule = "cost".parse().unwrap();
        let t = rule.resolve(None, &scores, Some(&labels)).unwrap();
        assert_eq!(t.value, 6.5);
        assert!(rule.resolve(None, &scores, None).is_err());
        assert!("abc".parse::<ThresholdRule>().is_err());
        assert!("inf".parse::<ThresholdRule>().is_err());
    }
}
