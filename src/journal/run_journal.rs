//! The journal of a whole run: every journal file of a run directory (its own, and those of
//! its shards), read, checked and merged. This is the one reader behind summaries, reports,
//! mining and exports.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::reader::{read_journal, JournalFile};
use super::record::{JournalRecord, TrialRecord, UnitKey, UnitRecord};
use super::JournalError;

/// File name of the trial journal inside a run (or shard) directory.
pub const TRIALS_FILE: &str = "trials.jsonl";
/// File name of the unit journal inside a run (or shard) directory.
pub const UNITS_FILE: &str = "units.jsonl";
/// Sub-directory of a run directory holding one directory per shard.
pub const SHARDS_DIR: &str = "shards";

/// The records of a run, merged from all its journal files and checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunJournal {
    /// Every trial, once, ordered by unit then trial index.
    pub trials: Vec<TrialRecord>,
    /// Every finished unit, once, ordered by unit.
    pub units: Vec<UnitRecord>,
    /// What was tolerated on the way (a cut-off last line, a record present twice), to show.
    pub warnings: Vec<String>,
}

/// The directories of a run that may hold journals: the run directory and each shard's.
pub fn journal_dirs(dir: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let mut dirs = vec![dir.to_path_buf()];
    let shards = dir.join(SHARDS_DIR);
    match std::fs::read_dir(&shards) {
        Ok(entries) => {
            let mut found = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| JournalError::io(&shards, e))?;
                if entry.path().is_dir() {
                    found.push(entry.path());
                }
            }
            found.sort();
            dirs.extend(found);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(JournalError::io(&shards, e)),
    }
    Ok(dirs)
}

impl RunJournal {
    /// Reads every journal of the run in `dir` (see [`journal_dirs`]) and merges them:
    /// a record present twice (the same text) is kept once with a warning; two different
    /// records of one trial or unit, records of another run fingerprint, and trials of one
    /// unit judged by different objectives or measured under different data or protocols are
    /// errors naming the files and lines.
    pub fn load(dir: &Path) -> Result<RunJournal, JournalError> {
        let mut trial_files = Vec::new();
        let mut unit_files = Vec::new();
        for d in journal_dirs(dir)? {
            trial_files.push(read_journal::<TrialRecord>(&d.join(TRIALS_FILE))?);
            unit_files.push(read_journal::<UnitRecord>(&d.join(UNITS_FILE))?);
        }
        RunJournal::merge(trial_files, unit_files)
    }

    /// Merges journal files already read (see [`RunJournal::load`]).
    pub fn merge(
        trial_files: Vec<JournalFile<TrialRecord>>,
        unit_files: Vec<JournalFile<UnitRecord>>,
    ) -> Result<RunJournal, JournalError> {
        let mut warnings = Vec::new();
        let mut run: Option<(String, String)> = None;
        for file in &trial_files {
            check_one_run(file, &mut run)?;
        }
        for file in &unit_files {
            check_one_run(file, &mut run)?;
        }
        let trials = dedupe(
            trial_files,
            |r| (r.unit.clone(), r.trial),
            |(unit, trial)| format!("trial {trial} of {unit}"),
            &mut warnings,
        )?;
        let units = dedupe(
            unit_files,
            |r| (r.unit.clone(), 0),
            |(unit, _)| format!("the end of unit {unit}"),
            &mut warnings,
        )?;
        check_units_agree(&trials)?;
        Ok(RunJournal {
            trials: trials.into_values().collect(),
            units: units.into_values().collect(),
            warnings,
        })
    }

    /// The trials of each unit, in unit order.
    pub fn trials_by_unit(&self) -> BTreeMap<&UnitKey, Vec<&TrialRecord>> {
        let mut out: BTreeMap<&UnitKey, Vec<&TrialRecord>> = BTreeMap::new();
        for r in &self.trials {
            out.entry(&r.unit).or_default().push(r);
        }
        out
    }

    /// The record of a finished unit.
    pub fn unit(&self, key: &UnitKey) -> Option<&UnitRecord> {
        self.units.iter().find(|u| &u.unit == key)
    }

    /// The run fingerprint all records share (`None` for an empty journal).
    pub fn fingerprint(&self) -> Option<&str> {
        self.trials
            .first()
            .map(|r| r.context.run.as_str())
            .or_else(|| self.units.first().map(|u| u.context.run.as_str()))
    }
}

fn check_one_run<T: JournalRecord>(
    file: &JournalFile<T>,
    run: &mut Option<(String, String)>,
) -> Result<(), JournalError> {
    for (i, record) in file.records.iter().enumerate() {
        match run {
            None => *run = Some((record.run().to_string(), file.locate(i))),
            Some((fingerprint, first)) if fingerprint != record.run() => {
                return Err(JournalError::Mixed {
                    first: first.clone(),
                    other: file.locate(i),
                    what: format!(
                        "run fingerprints differ ({fingerprint} and {}): the journals come from different runs",
                        record.run()
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn dedupe<T: JournalRecord + PartialEq>(
    files: Vec<JournalFile<T>>,
    key: impl Fn(&T) -> (UnitKey, usize),
    describe: impl Fn(&(UnitKey, usize)) -> String,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<(UnitKey, usize), T>, JournalError> {
    let mut out: BTreeMap<(UnitKey, usize), T> = BTreeMap::new();
    let mut where_from: HashMap<(UnitKey, usize), String> = HashMap::new();
    for file in files {
        if let Some(tail) = &file.dropped_tail {
            warnings.push(tail.to_string());
        }
        let located: Vec<String> = (0..file.records.len()).map(|i| file.locate(i)).collect();
        for (record, at) in file.records.into_iter().zip(located) {
            let k = key(&record);
            match out.get(&k) {
                None => {
                    where_from.insert(k.clone(), at);
                    out.insert(k, record);
                }
                Some(kept) if *kept == record => warnings.push(format!(
                    "{at}: the same record as {}; kept once",
                    where_from[&k]
                )),
                Some(_) => {
                    return Err(JournalError::Mixed {
                        first: where_from[&k].clone(),
                        other: at,
                        what: format!("two different records of {}", describe(&k)),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The trials of one unit share its objective, data and protocol.
fn check_units_agree(trials: &BTreeMap<(UnitKey, usize), TrialRecord>) -> Result<(), JournalError> {
    let mut first: HashMap<&UnitKey, &TrialRecord> = HashMap::new();
    for r in trials.values() {
        let Some(f) = first.get(&r.unit) else {
            first.insert(&r.unit, r);
            continue;
        };
        let differs = if f.objective != r.objective {
            Some(format!(
                "objectives differ ({} and {})",
                f.objective.as_str(),
                r.objective.as_str()
            ))
        } else if f.context.data != r.context.data {
            Some("the data differ (content hashes)".to_string())
        } else if f.context.protocol != r.context.protocol {
            Some("the protocols differ".to_string())
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(JournalError::Mixed {
                first: format!("{}, trial {}", f.unit, f.trial),
                other: format!("trial {}", r.trial),
                what: format!("within one unit, {what}"),
            });
        }
    }
    Ok(())
}

/// Checks that trial records gathered from several runs can be compared: per dataset name one
/// data content hash, and per dataset one protocol (the split seed aside, which differs between
/// seeds). Returns the first disagreement as an error.
pub fn check_comparable<'a>(
    records: impl IntoIterator<Item = &'a TrialRecord>,
) -> Result<(), JournalError> {
    let mut first: HashMap<&str, &TrialRecord> = HashMap::new();
    for r in records {
        let Some(f) = first.get(r.unit.dataset.as_str()) else {
            first.insert(&r.unit.dataset, r);
            continue;
        };
        let what = if f.context.data != r.context.data {
            format!(
                "dataset `{}` was read from different data (sha256 {} and {})",
                r.unit.dataset, f.context.data.sha256, r.context.data.sha256
            )
        } else if !f.context.protocol.same_protocol_as(&r.context.protocol) {
            format!(
                "dataset `{}` was measured under different protocols",
                r.unit.dataset
            )
        } else {
            continue;
        };
        return Err(JournalError::Mixed {
            first: format!("run {} ({})", f.context.run, f.unit),
            other: format!("run {} ({})", r.context.run, r.unit),
            what,
        });
    }
    Ok(())
}
