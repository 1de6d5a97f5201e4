//! gmmtune: AutoML for Gaussian-mixture anomaly detection.
//!
//! Data flows one way: a YAML [`config`] names datasets and strategies; [`data`] loads, splits
//! and standardises each dataset; [`gmm`] fits Gaussian mixtures with its own EM engine;
//! [`eval`] turns scores into ROC AUC, average precision and cost-model figures; [`search`]
//! proposes configurations and journals every trial; [`report`] summarises the journal.

pub mod config;
pub mod data;
pub mod eval;
pub mod explore;
pub mod gmm;
pub mod gmm_config;
pub mod journal;
pub mod linalg;
pub mod model_file;
pub mod plan;
pub mod plot;
pub mod report;
pub mod run;
pub mod search;
pub mod zeroshot;
