//! `run.json`: what a run is. The config as checked, each dataset with its content hash and
//! the protocol it gets, the gmmtune version, and the fingerprint of all that decides results.
//! A run directory is resumed only under the same fingerprint; when it differs, the manifest
//! says what differs.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::data::Protocol;
use crate::eval::CostModel;
use crate::journal::{GMMTUNE_VERSION, JOURNAL_FORMAT};
use crate::plan::Plan;
use crate::search::seed::stable_hash;

use super::datasets::LoadedDataset;
use super::RunError;

/// File name of the manifest inside a run directory.
pub const MANIFEST_FILE: &str = "run.json";

/// One dataset of a run, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetManifest {
    /// Name in results.
    pub name: String,
    /// The file read, absolute (informative: the content hash identifies the data).
    pub path: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Rows read.
    pub rows: usize,
    /// Feature columns.
    pub features: usize,
    /// Feature column names.
    pub feature_names: Vec<String>,
    /// Whether it has labels.
    pub labelled: bool,
    /// Anomalous rows (0 without labels).
    pub anomalies: usize,
    /// Its family.
    pub family: String,
    /// Whether it is a time series.
    pub ordered: bool,
    /// Label column read.
    pub label_column: Option<String>,
    /// Columns left out.
    pub exclude_columns: Vec<String>,
    /// Its protocol.
    pub protocol: Protocol,
    /// Its cost model.
    pub cost_model: CostModel,
    /// Why its protocol differs from the run's, if it does.
    pub note: Option<String>,
}

/// The manifest of a run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunManifest {
    /// Run name.
    pub name: String,
    /// Fingerprint of what decides the results (config, data, version).
    pub fingerprint: String,
    /// gmmtune version that wrote it.
    pub version: String,
    /// Journal format of its records.
    pub journal_format: u32,
    /// Generation of the journal (1 for a new run; `--force` starts the next one).
    pub generation: u32,
    /// The registry dataset names were resolved in.
    pub registry: Option<String>,
    /// The config as checked (all defaults filled in).
    pub config: serde_json::Value,
    /// The datasets.
    pub datasets: Vec<DatasetManifest>,
    /// Strategy names, in config order.
    pub strategies: Vec<String>,
    /// The repetition seeds, in config order.
    pub seeds: Vec<u64>,
    /// For the manifest of a shard: which shard, and the groups (dataset, seed) it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardManifest>,
}

/// The part of a run one shard runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardManifest {
    /// The shard's index, from 0.
    pub index: usize,
    /// How many shards the run has.
    pub count: usize,
    /// The groups (dataset, seed) it runs, each with every strategy.
    pub groups: Vec<(String, u64)>,
}

impl RunManifest {
    /// The manifest of `config` over its loaded datasets (generation 1).
    pub fn new(config: &RunConfig, plan: &Plan, loaded: &[LoadedDataset]) -> RunManifest {
        let datasets: Vec<DatasetManifest> = loaded
            .iter()
            .map(|l| {
                let planned = &plan.datasets[l.index];
                let first = &l.by_seed[0].2;
                DatasetManifest {
                    name: planned.name.clone(),
                    // Absolute, so an export finds the file from any directory.
                    path: std::path::absolute(&planned.path)
                        .unwrap_or_else(|_| planned.path.clone())
                        .display()
                        .to_string(),
                    sha256: l.stamp.sha256.clone(),
                    rows: l.stamp.rows,
                    features: l.stamp.features,
                    feature_names: l.feature_names.clone(),
                    labelled: l.stamp.labelled,
                    anomalies: first.train.n_anomalies()
                        + first.validation.n_anomalies()
                        + first.test.n_anomalies(),
                    family: planned.family.clone(),
                    ordered: planned.ordered,
                    label_column: l
                        .stamp
                        .labelled
                        .then(|| planned.read_options.label_column.clone())
                        .flatten(),
                    exclude_columns: planned.read_options.exclude_columns.clone(),
                    protocol: planned.protocol,
                    cost_model: planned.cost_model,
                    note: planned.note.clone(),
                }
            })
            .collect();
        let decisive = serde_json::json!({
            "config": config.decisive_json(),
            "datasets": datasets.iter().map(|d| serde_json::json!({
                "name": d.name,
                "sha256": d.sha256,
                "label_column": d.label_column,
                "exclude_columns": d.exclude_columns,
                "ordered": d.ordered,
                "protocol": d.protocol,
                "cost_model": d.cost_model,
            })).collect::<Vec<_>>(),
            "version": GMMTUNE_VERSION,
            "journal_format": JOURNAL_FORMAT,
        });
        RunManifest {
            name: config.name.clone(),
            fingerprint: format!("{:016x}", stable_hash(&decisive.to_string())),
            version: GMMTUNE_VERSION.to_string(),
            journal_format: JOURNAL_FORMAT,
            generation: 1,
            registry: plan.registry.as_ref().map(|p| p.display().to_string()),
            config: serde_json::to_value(config).unwrap_or(serde_json::Value::Null),
            datasets,
            strategies: config.strategies.iter().map(|s| s.name.clone()).collect(),
            seeds: config.seeds.clone(),
            shard: None,
        }
    }

    /// Reads the manifest of the run in `dir`; `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<RunManifest>, RunError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RunError::io(&path, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| RunError::Manifest {
                path: path.display().to_string(),
                message: e.to_string(),
            })
    }

    /// Writes the manifest into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), RunError> {
        let path = dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| RunError::io(&path, e))?;
        std::fs::write(&path, text + "\n").map_err(|e| RunError::io(&path, e))
    }

    /// Every unit of the run, in run order (dataset, seed, strategy).
    pub fn units(&self) -> Vec<crate::journal::UnitKey> {
        let mut out = Vec::new();
        for d in &self.datasets {
            for &seed in &self.seeds {
                for s in &self.strategies {
                    out.push(crate::journal::UnitKey {
                        dataset: d.name.clone(),
                        strategy: s.clone(),
                        seed,
                    });
                }
            }
        }
        out
    }

    /// The dataset called `name`.
    pub fn dataset(&self, name: &str) -> Option<&DatasetManifest> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// What differs between `self` (the run found) and `other` (the run asked), in words; empty
    /// when the fingerprints agree.
    pub fn differences(&self, other: &RunManifest) -> Vec<String> {
        let mut out = Vec::new();
        if self.fingerprint == other.fingerprint {
            return out;
        }
        if self.version != other.version {
            out.push(format!(
                "gmmtune version: {} wrote the run, this is {}",
                self.version, other.version
            ));
        }
        for d in &self.datasets {
            match other.dataset(&d.name) {
                None => out.push(format!("dataset `{}` is no longer in the config", d.name)),
                Some(o) => {
                    if d.sha256 != o.sha256 {
                        out.push(format!(
                            "dataset `{}`: the data changed (sha256 {} then, {} now)",
                            d.name,
                            short(&d.sha256),
                            short(&o.sha256)
                        ));
                    }
                    if d.protocol != o.protocol {
                        out.push(format!("dataset `{}`: the protocol changed", d.name));
                    }
                    if d.cost_model != o.cost_model {
                        out.push(format!("dataset `{}`: the cost model changed", d.name));
                    }
                    if d.label_column != o.label_column || d.exclude_columns != o.exclude_columns {
                        out.push(format!(
                            "dataset `{}`: the label or excluded columns changed",
                            d.name
                        ));
                    }
                }
            }
        }
        for o in &other.datasets {
            if self.dataset(&o.name).is_none() {
                out.push(format!("dataset `{}` is new in the config", o.name));
            }
        }
        let mut keys = Vec::new();
        diff_json("", &self.config, &other.config, &mut keys);
        keys.retain(|k| {
            !k.starts_with("name") && !k.starts_with("jobs") && !k.starts_with("datasets")
        });
        if !keys.is_empty() {
            out.push(format!("config keys changed: {}", keys.join(", ")));
        }
        if out.is_empty() {
            out.push("the fingerprints differ".into());
        }
        out
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// The dotted paths at which two JSON values differ.
fn diff_json(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_json(&path, u, v, out),
                    _ => out.push(path),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff_json(&format!("{prefix}[{i}]"), u, v, out);
            }
        }
        _ if a != b => out.push(prefix.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_differences_are_named_by_path() {
        let a = serde_json::json!({"space": {"n_components": {"low": 1, "high": 8}}, "seeds": [0], "fit": {"tol": 0.001}});
        let b = serde_json::json!({"space": {"n_components": {"low": 1, "high": 16}}, "seeds": [0, 1], "fit": {"tol": 0.001}});
        let mut out = Vec::new();
        diff_json("", &a, &b, &mut out);
        assert_eq!(out, ["seeds", "space.n_components.high"]);
    }
}
