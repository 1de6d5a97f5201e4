//! The file `gmmtune fit` writes and `gmmtune score` reads: a fitted mixture (scikit-learn-shaped
//! fields at the top level), the feature names it was fitted on, when the data was
//! standardised the mean and scale that `score` applies again, and the quantiles of the
//! training rows' anomaly scores (for thresholds such as `quantile:0.99`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use ndarray::ArrayView2;

use crate::data::Standardizer;
use crate::gmm::{GaussianMixture, GmmError};

/// Probabilities at which [`ScoreQuantiles`] records the training scores: 0, 0.001, …, 1.
pub const QUANTILE_STEPS: usize = 1000;

/// Quantiles of the anomaly scores (−log-likelihood) of the rows a model was fitted on, at the
/// probabilities `i / 1000` for `i = 0..=1000`, each computed as numpy's default
/// (`np.quantile(scores, i / 1000)`, linear interpolation between order statistics).
///
/// ```
/// use gmmtune::model_file::ScoreQuantiles;
/// let q = ScoreQuantiles::from_scores(&[3.0, 1.0, 2.0, 4.0]).unwrap();
/// assert_eq!(q.at(0.0), Some(1.0));
/// assert_eq!(q.at(0.5), Some(2.5));
/// assert_eq!(q.at(1.0), Some(4.0));
/// assert_eq!(q.at(1.5), None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreQuantiles {
    /// Number of scores they were computed from.
    pub n_rows: usize,
    /// `QUANTILE_STEPS + 1` increasing values.
    pub values: Vec<f64>,
}

impl ScoreQuantiles {
    /// The quantiles of `scores` (finite ones only); `None` when none is finite.
    pub fn from_scores(scores: &[f64]) -> Option<ScoreQuantiles> {
        let mut sorted: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let values = (0..=QUANTILE_STEPS)
            .map(|i| numpy_quantile(&sorted, i as f64 / QUANTILE_STEPS as f64))
            .collect();
        Some(ScoreQuantiles {
            n_rows: sorted.len(),
            values,
        })
    }

    /// The quantile at probability `q` in `[0, 1]`: exact on the grid of steps of 0.001 and
    /// linearly interpolated between its points; `None` outside `[0, 1]`.
    pub fn at(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) || self.values.len() != QUANTILE_STEPS + 1 {
            return None;
        }
        let position = q * QUANTILE_STEPS as f64;
        let nearest = position.round();
        if (position - nearest).abs() < 1e-9 {
            return Some(self.values[nearest as usize]);
        }
        let low = position.floor() as usize;
        let f = position - low as f64;
        Some(self.values[low] + (self.values[low + 1] - self.values[low]) * f)
    }
}

/// numpy's `quantile` with the default `linear` method on sorted values.
pub fn numpy_quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let low = h.floor() as usize;
    let high = (low + 1).min(sorted.len() - 1);
    let f = h - low as f64;
    sorted[low] + (sorted[high] - sorted[low]) * f
}

/// Errors reading or writing a model file.
#[derive(Debug, Error)]
pub enum ModelFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a gmmtune model.
    #[error("{path} is not a gmmtune model file: {message}")]
    Invalid { path: String, message: String },
}

/// A fitted model with what is needed to score new rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    /// The mixture.
    #[serde(flatten)]
    pub model: GaussianMixture,
    /// Feature columns, in order.
    pub feature_names: Vec<String>,
    /// Mean and scale applied before fitting, if the data was standardised.
    #[serde(default)]
    pub standardization: Option<Standardizer>,
    /// Quantiles of the training rows' anomaly scores (absent in files of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_score_quantiles: Option<ScoreQuantiles>,
}

impl ModelFile {
    /// A model file for `model`, fitted on `rows` (in the model's units, that is after
    /// `standardization`), recording the quantiles of their anomaly scores.
    ///
    /// # Errors
    /// As [`GaussianMixture::score_samples`] when `rows` does not fit the model.
    pub fn fitted(
        model: GaussianMixture,
        feature_names: Vec<String>,
        standardization: Option<Standardizer>,
        rows: ArrayView2<f64>,
    ) -> Result<ModelFile, GmmError> {
        let scores: Vec<f64> = model.score_samples(rows)?.iter().map(|ll| -ll).collect();
        Ok(ModelFile {
            model,
            feature_names,
            standardization,
            training_score_quantiles: ScoreQuantiles::from_scores(&scores),
        })
    }

    /// Rows in the model's units: `x` standardised as the model's data was, or `x` itself.
    ///
    /// # Errors
    /// When `x` does not have the model's number of columns.
    pub fn to_model_units(
        &self,
        x: ArrayView2<f64>,
    ) -> Result<ndarray::Array2<f64>, crate::data::DataError> {
        match &self.standardization {
            Some(s) => s.transform(x),
            None => Ok(x.to_owned()),
        }
    }

    /// Writes the model as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| ModelFileError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|source| ModelFileError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model, checking its shapes.
    pub fn load(path: &Path) -> Result<ModelFile, ModelFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let invalid = |message: String| ModelFileError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let file: ModelFile = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let d = file.model.n_features();
        if file.feature_names.len() != d {
            return Err(invalid(format!(
                "it names {} features but its means have {d} columns",
                file.feature_names.len()
            )));
        }
        if let Some(q) = &file.training_score_quantiles
            && (q.values.len() != QUANTILE_STEPS + 1
                || q.values
                    .windows(2)
                    .any(|w| w[1] < w[0] || w[0].is_nan() || w[1].is_nan()))
        {
            return Err(invalid(format!(
                "its training_score_quantiles must hold {} increasing values",
                QUANTILE_STEPS + 1
            )));
        }
        if let Some(s) = &file.standardization
            && (s.mean.len() != d || s.scale.len() != d)
        {
            return Err(invalid(format!(
                "its standardization has {} means and {} scales for {d} features",
                s.mean.len(),
                s.scale.len()
            )));
        }
        Ok(file)
    }
}
