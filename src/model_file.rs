//! The file `gmmtune fit` writes and `gmmtune score` reads: a fitted mixture (scikit-learn-shaped
//! fields at the top level), the feature names it was fitted on and, when the data was
//! standardised, the mean and scale that `score` applies again.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::Standardizer;
use crate::gmm::GaussianMixture;

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
}

impl ModelFile {
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
        if let Some(s) = &file.standardization {
            if s.mean.len() != d || s.scale.len() != d {
                return Err(invalid(format!(
                    "its standardization has {} means and {} scales for {d} features",
                    s.mean.len(),
                    s.scale.len()
                )));
            }
        }
        Ok(file)
    }
}
