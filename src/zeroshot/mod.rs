//! Zero-shot best practice: GMM settings mined once across many datasets and applied to a new
//! dataset without its labels and without searching.
//!
//! * [`meta_features`]: label-free figures of a dataset's fit rows, to match a new dataset with
//!   the mining datasets it resembles;
//! * [`evidence`] and [`runs`]: what mining reads, from the journals of runs (every
//!   configuration measured per dataset and seed) and the data they name, rebuilt exactly;
//! * [`regret`]: regret and rank tables;
//! * [`mine`]: the single best practice, FLAML's greedy portfolio, neighbours and
//!   per-hyperparameter rules, written as a [`Portfolio`] file;
//! * [`lofo`]: the leave-one-family-out evaluation against label-free and label-using
//!   baselines, read from the same trials, with [`stats`] (Wilcoxon, Friedman) and [`report`]
//!   tables.
//!
//! The `zeroshot` run strategy ([`crate::search`]) applies a portfolio to a unit's data.

pub mod apply;
pub mod evidence;
pub mod lofo;
pub mod meta_features;
pub mod mine;
pub mod portfolio;
pub mod regret;
pub mod report;
pub mod runs;
pub mod stats;

use thiserror::Error;

pub use evidence::Evidence;
pub use portfolio::{Portfolio, PortfolioError};

/// Errors of mining and evaluation.
#[derive(Debug, Error)]
pub enum ZeroshotError {
    /// Nothing to mine.
    #[error("{0}")]
    NoEvidence(String),
    /// Every trial of a dataset and seed failed.
    #[error(
        "dataset `{dataset}`, seed {seed}: every trial failed, so it has no best configuration to measure regret against; drop it from the runs mined or fix its data"
    )]
    AllFailed {
        /// The dataset.
        dataset: String,
        /// The seed.
        seed: u64,
    },
    /// Records that cannot be compared.
    #[error("{0}")]
    Inconsistent(String),
    /// A run directory or its data could not be read.
    #[error("{0}")]
    Run(String),
    /// The meta-features of a dataset are undefined.
    #[error("dataset `{dataset}`, seed {seed}: {source}")]
    MetaFeatures {
        /// The dataset.
        dataset: String,
        /// The seed.
        seed: u64,
        /// Why.
        #[source]
        source: meta_features::MetaFeatureError,
    },
    /// A portfolio could not be used.
    #[error(transparent)]
    Portfolio(#[from] PortfolioError),
    /// A table could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}
