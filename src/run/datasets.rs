//! Loading the datasets of a plan: each file read once and hashed, then split and standardised
//! once per seed (once for all seeds when the split does not use the seed).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::RunConfig;
use crate::data::{prepare, read_table, DataError, Prepared, SplitMethod};
use crate::journal::DataStamp;
use crate::plan::Plan;
use crate::search::seed::derive_seed;

use super::RunError;

/// A dataset of the plan, loaded.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    /// Index into the plan's datasets.
    pub index: usize,
    /// What was read (content hash, size, labels).
    pub stamp: DataStamp,
    /// Feature column names.
    pub feature_names: Vec<String>,
    /// The prepared data of each seed of the config, in the config's order, with the split
    /// seed used.
    pub by_seed: Vec<(u64, u64, Arc<Prepared>)>,
}

impl LoadedDataset {
    /// The prepared data and split seed of `seed`.
    pub fn for_seed(&self, seed: u64) -> Option<(u64, &Prepared)> {
        self.by_seed
            .iter()
            .find(|(s, _, _)| *s == seed)
            .map(|(_, split_seed, p)| (*split_seed, p.as_ref()))
    }
}

/// Seed of the split of `dataset` in a unit of seed `seed`.
pub fn split_seed(seed: u64, dataset: &str) -> u64 {
    derive_seed(seed, &["split", dataset], 0)
}

/// SHA-256 of a file's bytes, in hex.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "abc").unwrap();
/// assert_eq!(
///     gmmtune::run::sha256_file(&path).unwrap(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::opening(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| DataError::opening(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Loads, hashes, splits and standardises every dataset of `plan`, in parallel, and checks each
/// against the config; the first error stops.
pub fn load_datasets(config: &RunConfig, plan: &Plan) -> Result<Vec<LoadedDataset>, RunError> {
    plan.datasets
        .par_iter()
        .enumerate()
        .map(|(index, planned)| {
            let to_err = |source| RunError::Data {
                dataset: planned.name.clone(),
                source: Box::new(source),
            };
            let table = read_table(&planned.path, &planned.read_options).map_err(to_err)?;
            let stamp = DataStamp {
                sha256: sha256_file(&planned.path).map_err(to_err)?,
                rows: table.n_rows(),
                features: table.n_features(),
                labelled: table.labels.is_some(),
            };
            let seeded = matches!(planned.protocol.split, SplitMethod::Stratified { .. });
            let mut by_seed: Vec<(u64, u64, Arc<Prepared>)> = Vec::new();
            for &seed in &config.seeds {
                let split = split_seed(seed, &planned.name);
                let prepared = match by_seed.first() {
                    Some((_, _, first)) if !seeded => Arc::clone(first),
                    _ => {
                        let p = prepare(&table, &planned.name, &planned.protocol, split)
                            .map_err(to_err)?;
                        plan.check_loaded(config, index, &p)?;
                        Arc::new(p)
                    }
                };
                by_seed.push((seed, split, prepared));
            }
            Ok(LoadedDataset {
                index,
                stamp,
                feature_names: table.feature_names.clone(),
                by_seed,
            })
        })
        .collect()
}
