//! A run split into shards: each shard runs its groups into `shards/<i>-of-<n>/` of the run
//! directory (its own manifest and journals, so no file is shared between processes), and
//! `merge` combines them into the run directory's manifest and summary.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::journal::{journal_dirs, RunJournal, UnitKey, SHARDS_DIR, TRIALS_FILE, UNITS_FILE};
use crate::plan::{assign_shards, Plan, PlannedUnit, Shard};

use super::datasets::LoadedDataset;
use super::manifest::{RunManifest, ShardManifest, MANIFEST_FILE};
use super::RunError;

/// The units of `shard` and its part of the manifest. Groups (a dataset under one seed) stay
/// whole; their expected cost is rows × features², the shape of a full-covariance fit.
pub fn shard_units(
    plan: &Plan,
    loaded: &[LoadedDataset],
    seeds: &[u64],
    shard: Shard,
) -> (Vec<PlannedUnit>, ShardManifest) {
    let mut groups: Vec<(usize, u64)> = Vec::new();
    let mut costs = Vec::new();
    for l in loaded {
        for &seed in seeds {
            groups.push((l.index, seed));
            let d = l.stamp.features as f64;
            costs.push(l.stamp.rows as f64 * d * d);
        }
    }
    let owner = assign_shards(&costs, shard.count);
    let mine: Vec<(usize, u64)> = groups
        .iter()
        .zip(&owner)
        .filter(|&(_, &o)| o == shard.index)
        .map(|(g, _)| *g)
        .collect();
    let units = plan
        .units
        .iter()
        .filter(|u| mine.contains(&(u.dataset, u.seed)))
        .copied()
        .collect();
    let manifest = ShardManifest {
        index: shard.index,
        count: shard.count,
        groups: mine
            .iter()
            .map(|&(d, seed)| (plan.datasets[d].name.clone(), seed))
            .collect(),
    };
    (units, manifest)
}

fn nonempty(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.len() > 0)
        .unwrap_or(false)
}

/// The shard directories of a run, with their shards.
pub fn shard_dirs(run_dir: &Path) -> Result<Vec<(Shard, PathBuf)>, RunError> {
    let mut out = Vec::new();
    for dir in journal_dirs(run_dir)?.into_iter().skip(1) {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shard = Shard::from_dir_name(&name).ok_or_else(|| RunError::Io {
            path: dir.display().to_string(),
            message: "not a shard directory (expected a name like 0-of-4); move it out of shards/"
                .into(),
        })?;
        out.push((shard, dir));
    }
    Ok(out)
}

/// Checks that `run_dir` can take `shard` of the run `manifest` describes: no other run's
/// manifest at its top or in its other shards, no journal of an unsharded run there, no shards
/// of another count.
pub fn check_shard_target(
    run_dir: &Path,
    manifest: &RunManifest,
    shard: Shard,
) -> Result<(), RunError> {
    let fingerprint = &manifest.fingerprint;
    if let Some(top) = RunManifest::read(run_dir)?
        && &top.fingerprint != fingerprint
    {
        return Err(RunError::ConfigChanged {
            dir: run_dir.display().to_string(),
            differences: top.differences(manifest),
        });
    }
    if nonempty(&run_dir.join(TRIALS_FILE)) || nonempty(&run_dir.join(UNITS_FILE)) {
        return Err(RunError::Io {
            path: run_dir.display().to_string(),
            message: "holds the journal of a run made in one process; shard into another directory (--out)".into(),
        });
    }
    let siblings = shard_dirs(run_dir)?;
    for (_, dir) in &siblings {
        if let Some(m) = RunManifest::read(dir)?
            && &m.fingerprint != fingerprint
        {
            let mut differences = vec![format!("its shard {} is of another run", dir.display())];
            differences.extend(m.differences(manifest));
            return Err(RunError::ConfigChanged {
                dir: run_dir.display().to_string(),
                differences,
            });
        }
    }
    if let Some((other, dir)) = siblings.into_iter().find(|(s, _)| s.count != shard.count) {
        return Err(RunError::Io {
            path: dir.display().to_string(),
            message: format!(
                "is a shard of a run split {} ways, and this is shard {shard}: use the same number of shards, or another directory",
                other.count
            ),
        });
    }
    Ok(())
}

/// Checks that `run_dir` holds no shards before a run in one process writes into it.
pub fn check_unsharded_target(run_dir: &Path) -> Result<(), RunError> {
    if run_dir.join(SHARDS_DIR).is_dir() {
        return Err(RunError::Io {
            path: run_dir.display().to_string(),
            message: "holds a sharded run: resume its shards with --shard I/N, and combine them with `gmmtune merge`".into(),
        });
    }
    Ok(())
}

/// The manifest of the run in `dir`: its own, or (before a merge) the one its shards share,
/// without the shard part. Shards of different runs are refused.
pub fn run_manifest(dir: &Path) -> Result<RunManifest, RunError> {
    let top = RunManifest::read(dir)?;
    let mut found: Option<(RunManifest, PathBuf)> = None;
    for (_, shard_dir) in shard_dirs(dir)? {
        let Some(m) = RunManifest::read(&shard_dir)? else {
            continue;
        };
        match &found {
            Some((first, at)) if first.fingerprint != m.fingerprint => {
                return Err(RunError::ConfigChanged {
                    dir: dir.display().to_string(),
                    differences: vec![format!(
                        "its shards belong to different runs: {} ({}) and {} ({})",
                        at.display(),
                        first.fingerprint,
                        shard_dir.display(),
                        m.fingerprint
                    )],
                });
            }
            Some(_) => {}
            None => found = Some((m, shard_dir)),
        }
    }
    match (top, found) {
        (Some(top), Some((shard, at))) if top.fingerprint != shard.fingerprint => {
            Err(RunError::ConfigChanged {
                dir: dir.display().to_string(),
                differences: vec![format!(
                    "its run.json is of run {} and its shard {} of run {}",
                    top.fingerprint,
                    at.display(),
                    shard.fingerprint
                )],
            })
        }
        (Some(top), _) => Ok(top),
        (None, Some((mut shard, _))) => {
            shard.shard = None;
            Ok(shard)
        }
        (None, None) => Err(RunError::NotARun {
            dir: dir.display().to_string(),
        }),
    }
}

/// Where a unit of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    /// Its end is journaled.
    Done,
    /// It has trials but no end, and its journal was written to in the last two minutes.
    Running,
    /// It has trials but no end, and its journal has been quiet for two minutes or more
    /// (interrupted, or killed: resume its shard).
    Stopped,
    /// Nothing of it is journaled.
    Missing,
}

impl UnitState {
    /// The word used in `gmmtune status`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitState::Done => "done",
            UnitState::Running => "running",
            UnitState::Stopped => "stopped",
            UnitState::Missing => "missing",
        }
    }
}

/// One unit's state, and the shard that runs it (for a sharded run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitStatus {
    /// The unit.
    pub unit: UnitKey,
    /// Where it stands.
    pub state: UnitState,
    /// Its trials journaled so far.
    pub trials: usize,
    /// Its shard.
    pub shard: Option<Shard>,
}

/// The state of every unit of the run in `dir`.
pub fn status(dir: &Path) -> Result<Vec<UnitStatus>, RunError> {
    let manifest = run_manifest(dir)?;
    let journal = RunJournal::load(dir)?;
    let mut owner: Vec<((String, u64), Shard, PathBuf)> = Vec::new();
    for (shard, shard_dir) in shard_dirs(dir)? {
        if let Some(m) = RunManifest::read(&shard_dir)? {
            for g in m.shard.map(|s| s.groups).unwrap_or_default() {
                owner.push((g, shard, shard_dir.clone()));
            }
        }
    }
    let recent = |journal_dir: &Path| {
        std::fs::metadata(journal_dir.join(TRIALS_FILE))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < Duration::from_secs(120))
    };
    let by_unit = journal.trials_by_unit();
    Ok(manifest
        .units()
        .into_iter()
        .map(|unit| {
            let trials = by_unit.get(&unit).map_or(0, Vec::len);
            let own = owner
                .iter()
                .find(|((d, s), _, _)| *d == unit.dataset && *s == unit.seed);
            let state = if journal.unit(&unit).is_some() {
                UnitState::Done
            } else if trials == 0 {
                UnitState::Missing
            } else if recent(own.map_or(dir, |(_, _, d)| d.as_path())) {
                UnitState::Running
            } else {
                UnitState::Stopped
            };
            UnitStatus {
                unit,
                state,
                trials,
                shard: own.map(|(_, s, _)| *s),
            }
        })
        .collect())
}

/// Writes the run's manifest at the top of a sharded run directory (the shards' common one),
/// after checking the shards belong to one run. Returns it.
pub fn merge_manifest(dir: &Path) -> Result<RunManifest, RunError> {
    let manifest = run_manifest(dir)?;
    if !dir.join(MANIFEST_FILE).exists() {
        manifest.write(dir)?;
    }
    Ok(manifest)
}
