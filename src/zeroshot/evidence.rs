//! What mining and the leave-one-family-out evaluation read: for each dataset and seed, every
//! configuration measured there (by any strategy, once per configuration: equal configurations
//! have equal fit seeds and results), what each strategy selected, and the meta-features of its
//! fit rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::meta_features::MetaFeatures;
use super::ZeroshotError;
use crate::gmm_config::GmmConfig;
use crate::journal::{TrialMetrics, TrialRecord, TrialStatus};

/// A configuration measured on one dataset under one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The configuration.
    pub config: GmmConfig,
    /// Its figures; `None` when the fit failed.
    pub metrics: Option<TrialMetrics>,
}

/// One dataset under one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedEvidence {
    /// The repetition seed.
    pub seed: u64,
    /// Every configuration measured, once each, in the order first journaled.
    pub measured: Vec<Measurement>,
    /// For each strategy of the runs, the index in `measured` of the configuration it selected
    /// by its objective (absent when none of its trials succeeded).
    pub selected: BTreeMap<String, usize>,
    /// Meta-features of the fit rows.
    pub meta: MetaFeatures,
}

impl SeedEvidence {
    /// The index of `config` in `measured`.
    pub fn find(&self, config: &GmmConfig) -> Option<usize> {
        let signature = config.signature();
        self.measured
            .iter()
            .position(|m| m.config.signature() == signature)
    }
}

/// One dataset, every seed.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEvidence {
    /// Name.
    pub name: String,
    /// Family of related datasets (kept together when datasets are held out).
    pub family: String,
    /// Content hash of its data.
    pub sha256: String,
    /// The seeds, in increasing order.
    pub seeds: Vec<SeedEvidence>,
}

/// A run the evidence was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSource {
    /// The run directory, as given.
    pub dir: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The gmmtune version that wrote it.
    pub version: String,
}

/// Everything mining reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Datasets, in the order first met.
    pub datasets: Vec<DatasetEvidence>,
    /// The runs read.
    pub sources: Vec<RunSource>,
    /// The label-free threshold's quantile every trial was measured at.
    pub score_quantile: f64,
}

impl Evidence {
    /// The dataset called `name`.
    pub fn dataset(&self, name: &str) -> Option<&DatasetEvidence> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// The families, in the order first met.
    pub fn families(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.datasets {
            if !out.contains(&d.family) {
                out.push(d.family.clone());
            }
        }
        out
    }

    /// The seeds shared by every dataset.
    pub fn seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = self
            .datasets
            .first()
            .map(|d| d.seeds.iter().map(|s| s.seed).collect())
            .unwrap_or_default();
        seeds.retain(|s| {
            self.datasets
                .iter()
                .all(|d| d.seeds.iter().any(|e| e.seed == *s))
        });
        seeds
    }
}

/// The trials of one dataset and seed, grouped: every configuration once (the first record of
/// it), and what each strategy selected (best objective, earliest among equals, as the summary
/// selects). Two records of one configuration with different figures mean the runs were not
/// measured alike, and are refused.
pub fn group_trials(
    dataset: &str,
    seed: u64,
    records: &[&TrialRecord],
    meta: MetaFeatures,
) -> Result<SeedEvidence, ZeroshotError> {
    let mut measured: Vec<Measurement> = Vec::new();
    let mut by_signature: BTreeMap<String, usize> = BTreeMap::new();
    let mut best: BTreeMap<String, (f64, usize, usize)> = BTreeMap::new();
    for r in records {
        let signature = r.config.signature();
        let metrics = match r.status {
            TrialStatus::Ok => r.metrics.clone(),
            TrialStatus::Failed => None,
        };
        let index = match by_signature.get(&signature) {
            Some(&i) => {
                if measured[i]
                    .metrics
                    .as_ref()
                    .map(|m| (m.val_auc, m.test_auc, m.bic))
                    != metrics.as_ref().map(|m| (m.val_auc, m.test_auc, m.bic))
                {
                    return Err(ZeroshotError::Inconsistent(format!(
                        "dataset `{dataset}`, seed {seed}: configuration {} was measured twice with different figures (runs of different builds or protocols)",
                        r.config
                    )));
                }
                i
            }
            None => {
                by_signature.insert(signature, measured.len());
                measured.push(Measurement {
                    config: r.config.clone(),
                    metrics: metrics.clone(),
                });
                measured.len() - 1
            }
        };
        if let Some(v) = r.objective.to_minimise(r.objective_value)
            && r.status == TrialStatus::Ok
        {
            let entry = best
                .entry(r.unit.strategy.clone())
                .or_insert((v, r.trial, index));
            if (v, r.trial) < (entry.0, entry.1) {
                *entry = (v, r.trial, index);
            }
        }
    }
    Ok(SeedEvidence {
        seed,
        measured,
        selected: best.into_iter().map(|(s, (_, _, i))| (s, i)).collect(),
        meta,
    })
}
