//! Loading the datasets of a plan: each file read once and hashed, then split and standardised
//! once per seed (once for all seeds when the split does not use the seed).

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::RunConfig;
#[cfg(doc)]
use crate::data::DEFAULT_MIN_FILE_BYTES;
use crate::data::{load_table, prepare, CacheUse, Prepared, SplitMethod, TableCache};
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
    /// Whether the table came from the cache.
    pub cache: CacheUse,
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

/// The environment variable that moves the table cache of runs (or turns it off with `off`).
pub const CACHE_DIR_ENV: &str = "GMMTUNE_CACHE_DIR";

/// The table cache of a run in `run_dir`: `$GMMTUNE_CACHE_DIR` when set (`off`: no cache), else
/// `run_dir/cache`. Only data files of at least [`DEFAULT_MIN_FILE_BYTES`] are cached.
///
/// ```
/// use std::path::Path;
/// // SAFETY: the example's process has no other thread reading the environment.
/// unsafe { std::env::remove_var(gmmtune::run::CACHE_DIR_ENV) };
/// let cache = gmmtune::run::table_cache(Path::new("reports/big")).unwrap();
/// assert_eq!(cache.dir(), Path::new("reports/big/cache"));
/// ```
pub fn table_cache(run_dir: &Path) -> Option<TableCache> {
    cache_for(run_dir, std::env::var_os(CACHE_DIR_ENV))
}

/// The table cache of a run in `run_dir` when the environment variable holds `setting`.
fn cache_for(run_dir: &Path, setting: Option<std::ffi::OsString>) -> Option<TableCache> {
    match setting {
        Some(value) if value == "off" => None,
        Some(value) if !value.is_empty() => Some(TableCache::new(value)),
        _ => Some(TableCache::new(run_dir.join("cache"))),
    }
}

/// Loads (through `cache`), hashes, splits and standardises every dataset of `plan`, in
/// parallel, and checks each against the config; the first error stops.
pub fn load_datasets(
    config: &RunConfig,
    plan: &Plan,
    cache: Option<&TableCache>,
) -> Result<Vec<LoadedDataset>, RunError> {
    plan.datasets
        .par_iter()
        .enumerate()
        .map(|(index, planned)| {
            let to_err = |source| RunError::Data {
                dataset: planned.name.clone(),
                source: Box::new(source),
            };
            let loaded = load_table(&planned.path, &planned.read_options, cache).map_err(to_err)?;
            let table = loaded.table;
            let stamp = DataStamp {
                sha256: loaded.sha256,
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
                cache: loaded.cache,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_directory_follows_the_environment() {
        let run_dir = Path::new("reports/x");
        assert_eq!(cache_for(run_dir, Some("off".into())), None);
        let shared = cache_for(run_dir, Some("/var/cache/gmmtune".into())).unwrap();
        assert_eq!(shared.dir(), Path::new("/var/cache/gmmtune"));
        for unset in [None, Some("".into())] {
            let own = cache_for(run_dir, unset).unwrap();
            assert_eq!(own.dir(), run_dir.join("cache"));
        }
    }
}
