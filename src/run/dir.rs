//! The run directory: a new run, a resumed one, or a new generation of a changed one.
//!
//! * A new run needs an empty (or new) directory, or one without results.
//! * `--resume` continues the run found there only when its manifest has the same fingerprint;
//!   otherwise the error lists what differs. A journal without its manifest cannot be proven to
//!   be the same run and is not resumed.
//! * `--resume --force` onto a changed config (or a journal without a manifest) keeps
//!   everything found: it moves into `generations/<n>/` and a new generation starts. Results of
//!   the old generations are reused where the data, protocol, seed and configuration are the
//!   same (marked `reused` in the new journal), and never mixed into it otherwise.

use std::path::{Path, PathBuf};

use crate::journal::{RunJournal, TrialRecord, UnitRecord, TRIALS_FILE, UNITS_FILE};

use super::manifest::{RunManifest, MANIFEST_FILE};
use super::RunError;

/// Sub-directory of a run directory holding its earlier generations.
pub const GENERATIONS_DIR: &str = "generations";

/// A run directory ready to be written.
#[derive(Debug, Clone, Default)]
pub struct OpenedRun {
    /// The directory.
    pub dir: PathBuf,
    /// Its generation.
    pub generation: u32,
    /// Trials this run already journaled.
    pub previous_trials: Vec<TrialRecord>,
    /// Units this run already finished.
    pub previous_units: Vec<UnitRecord>,
    /// Trials of earlier generations, whose results may be reused.
    pub reusable: Vec<TrialRecord>,
    /// What to tell the user (an archived generation, cut-off records dropped).
    pub notes: Vec<String>,
}

fn has_results(dir: &Path) -> bool {
    let nonempty = |name: &str| {
        std::fs::metadata(dir.join(name))
            .map(|m| m.len() > 0)
            .unwrap_or(false)
    };
    nonempty(TRIALS_FILE) || nonempty(UNITS_FILE) || dir.join(crate::journal::SHARDS_DIR).is_dir()
}

/// Opens `dir` for the run described by `manifest`.
pub fn open_run_dir(
    dir: &Path,
    manifest: &RunManifest,
    resume: bool,
    force: bool,
) -> Result<OpenedRun, RunError> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
    let found = RunManifest::read(dir)?;
    let results = has_results(dir);
    let mut opened = OpenedRun {
        dir: dir.to_path_buf(),
        generation: 1,
        ..OpenedRun::default()
    };
    if results && !resume {
        return Err(RunError::ResultsExist {
            dir: dir.display().to_string(),
        });
    }
    let mut manifest = manifest.clone();
    match (&found, results) {
        (Some(old), _) if old.fingerprint == manifest.fingerprint => {
            opened.generation = old.generation;
            let journal = RunJournal::load(dir)?;
            opened.notes.extend(journal.warnings);
            opened.previous_trials = journal.trials;
            opened.previous_units = journal.units;
        }
        (Some(old), true) if !force => {
            return Err(RunError::ConfigChanged {
                dir: dir.display().to_string(),
                differences: old.differences(&manifest),
            });
        }
        (None, true) if !force => {
            return Err(RunError::NoManifest {
                dir: dir.display().to_string(),
            });
        }
        (found, true) => {
            let generation = archive_generation(dir)?;
            opened.notes.push(format!(
                "the results found in {} ({}) moved to {}/{generation}/; a new generation starts, reusing their trials where data, protocol, seed and configuration are the same",
                dir.display(),
                match found {
                    Some(old) => old.differences(&manifest).join("; "),
                    None => "a journal without run.json".into(),
                },
                GENERATIONS_DIR
            ));
            opened.generation = generation + 1;
        }
        // A manifest without results (a run stopped before its first trial), or nothing:
        // start afresh.
        (_, false) => {
            for stale in [UNITS_FILE, TRIALS_FILE] {
                let _ = std::fs::remove_file(dir.join(stale));
            }
            opened.generation = found.as_ref().map_or(1, |m| m.generation);
        }
    }
    opened.reusable = read_generations(dir, &mut opened.notes)?;
    manifest.generation = opened.generation;
    manifest.write(dir)?;
    Ok(opened)
}

/// The generations archived in `dir`, oldest first.
pub fn generations(dir: &Path) -> Result<Vec<(u32, PathBuf)>, RunError> {
    let root = dir.join(GENERATIONS_DIR);
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RunError::io(&root, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RunError::io(&root, e))?;
        if let Some(n) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Moves everything of the current generation of `dir` into `generations/<n>/`; returns `n`.
fn archive_generation(dir: &Path) -> Result<u32, RunError> {
    let current = RunManifest::read(dir)?.map_or(1, |m| m.generation);
    let taken = generations(dir)?.last().map_or(0, |(n, _)| *n);
    let n = current.max(taken + 1);
    let target = dir.join(GENERATIONS_DIR).join(n.to_string());
    std::fs::create_dir_all(&target).map_err(|e| RunError::io(&target, e))?;
    let entries = std::fs::read_dir(dir).map_err(|e| RunError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| RunError::io(dir, e))?;
        if entry.file_name() == GENERATIONS_DIR {
            continue;
        }
        let to = target.join(entry.file_name());
        std::fs::rename(entry.path(), &to).map_err(|e| RunError::io(&entry.path(), e))?;
    }
    Ok(n)
}

/// Every trial of the archived generations of `dir`.
fn read_generations(dir: &Path, notes: &mut Vec<String>) -> Result<Vec<TrialRecord>, RunError> {
    let mut out = Vec::new();
    for (_, path) in generations(dir)? {
        if !path.join(MANIFEST_FILE).exists() && !path.join(TRIALS_FILE).exists() {
            continue;
        }
        // Reuse saves fits and never changes a result, so a generation that cannot be read
        // (another journal format, a damaged file) is only not reused.
        match RunJournal::load(&path) {
            Ok(journal) => {
                notes.extend(journal.warnings);
                out.extend(journal.trials);
            }
            Err(e) => notes.push(format!(
                "the trials of {} are not reused: {e}",
                path.display()
            )),
        }
    }
    Ok(out)
}
