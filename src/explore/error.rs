//! Errors of the model explorer.

use thiserror::Error;

use crate::data::DataError;
use crate::gmm::GmmError;
use crate::plot::PlotError;

/// What can go wrong exploring or selecting a model.
#[derive(Debug, Error)]
pub enum ExploreError {
    /// The data does not have the model's features.
    #[error(
        "the data has {found} feature columns but the model was fitted on {expected} ([{names}]); pass the same columns (--exclude / --label-column)"
    )]
    FeatureMismatch {
        expected: usize,
        found: usize,
        names: String,
    },
    /// Too few features or rows for the charts or the selection.
    #[error("{0}")]
    TooLittleData(String),
    /// A feature has one value in every row.
    #[error(
        "column `{name}` is constant (every row is {value}); a Gaussian mixture cannot model it: leave it out with --exclude {name}"
    )]
    ConstantColumn { name: String, value: f64 },
    /// The candidate sizes are empty or too large.
    #[error("--n-components: {0}")]
    BadCandidates(String),
    /// A threshold could not be set.
    #[error("--threshold: {0}")]
    BadThreshold(String),
    /// The mixture rejected the data or the parameters.
    #[error(transparent)]
    Gmm(#[from] GmmError),
    /// The data could not be transformed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A chart could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
}
