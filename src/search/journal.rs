//! The journal: the run's source of truth. One JSON object per finished trial in `trials.jsonl`
//! and one per finished unit (dataset × strategy) in `units.jsonl`, each appended and flushed as
//! soon as it exists. Summaries and reports are recomputed from these files; an interrupted run
//! resumes by replaying them.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::trial::TrialMetrics;
use super::{GmmConfig, Objective};

/// File name of the trial journal inside a run directory.
pub const TRIALS_FILE: &str = "trials.jsonl";
/// File name of the unit journal inside a run directory.
pub const UNITS_FILE: &str = "units.jsonl";

/// Errors reading or writing a journal.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A line in the middle of a journal is not a record (the last line may be cut off by an
    /// interruption and is skipped instead).
    #[error("{path}, line {line}: not a journal record ({message}); the file was edited or corrupted: move it away to start afresh")]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
}

/// Whether a trial produced metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialStatus {
    /// The fit and the measurements succeeded.
    Ok,
    /// The fit failed (for example an ill-defined covariance); `error` says why.
    Failed,
}

/// One finished trial, immutable once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Dataset name.
    pub dataset: String,
    /// Strategy name (unique within the run).
    pub strategy: String,
    /// Index of the trial within its dataset × strategy unit, from 0.
    pub trial: usize,
    /// The configuration evaluated.
    pub config: GmmConfig,
    /// Seed of the fit.
    pub seed: u64,
    /// Outcome.
    pub status: TrialStatus,
    /// Error message of a failed trial.
    pub error: Option<String>,
    /// The objective this trial was judged by.
    pub objective: Objective,
    /// Its natural value (`None` when undefined or failed).
    pub objective_value: Option<f64>,
    /// Seconds spent fitting.
    pub fit_seconds: f64,
    /// Seconds since the unit started when the trial finished.
    pub elapsed_s: f64,
    /// Metrics of a successful trial (flattened into the record).
    #[serde(flatten)]
    pub metrics: Option<TrialMetrics>,
}

/// Why a unit stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The trial budget was used.
    TrialBudget,
    /// The time budget was used (checked before each trial).
    TimeBudget,
    /// The strategy had nothing more to propose.
    Exhausted,
}

/// One finished unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// Dataset name.
    pub dataset: String,
    /// Strategy name.
    pub strategy: String,
    /// Why it stopped.
    pub reason: StopReason,
    /// Trials it ran.
    pub trials: usize,
    /// Wall seconds it took.
    pub elapsed_s: f64,
    /// Seconds past the time budget (0 without one).
    pub time_overshoot_s: f64,
}

/// An append-only JSON-lines file; each record is written whole and flushed at once.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: Mutex<File>,
}

impl JournalWriter {
    /// Opens `path` for appending, creating it if needed. A last line cut off by an
    /// interruption is removed first, so the records appended next start on a line of their own.
    pub fn open(path: &Path) -> Result<JournalWriter, JournalError> {
        let io = |source| JournalError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Ok(bytes) = std::fs::read(path) {
            if bytes.last().is_some_and(|&b| b != b'\n') {
                let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_len(keep as u64))
                    .map_err(io)?;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        Ok(JournalWriter {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Appends one record as a line and flushes it to the operating system.
    pub fn append<T: Serialize>(&self, record: &T) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(record).map_err(|e| JournalError::Io {
            path: self.path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|source| JournalError::Io {
                path: self.path.display().to_string(),
                source,
            })
    }
}

/// Reads every record of a JSON-lines journal. A missing file is an empty journal; a last line
/// that does not parse (cut off by an interruption) is skipped; any other bad line is an error.
pub fn read_records<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, JournalError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(JournalError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| JournalError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => records.push(r),
            Err(_) if Some(i) == last => {}
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path: path.display().to_string(),
                    line: i + 1,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};

    fn record(trial: usize) -> TrialRecord {
        TrialRecord {
            dataset: "wbc".into(),
            strategy: "grid".into(),
            trial,
            config: GmmConfig {
                n_components: 2,
                covariance_type: CovarianceType::Diag,
                reg_covar: 1e-6,
                init: InitMethod::KMeans,
            },
            seed: 7,
            status: TrialStatus::Ok,
            error: None,
            objective: Objective::ValAuc,
            objective_value: Some(0.9),
            fit_seconds: 0.01,
            elapsed_s: 0.02,
            metrics: Some(TrialMetrics {
                val_auc: Some(0.9),
                ..TrialMetrics::default()
            }),
        }
    }

    #[test]
    fn records_round_trip_and_carry_the_flat_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let writer = JournalWriter::open(&path).unwrap();
        writer.append(&record(0)).unwrap();
        writer.append(&record(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        for key in [
            "dataset",
            "strategy",
            "trial",
            "config",
            "seed",
            "status",
            "error",
            "fit_seconds",
            "val_auc",
            "test_auc",
            "threshold",
            "val_cost",
            "bic",
        ] {
            assert!(first.get(key).is_some(), "missing {key} in {first}");
        }
        let back: Vec<TrialRecord> = read_records(&path).unwrap();
        assert_eq!(back, vec![record(0), record(1)]);
    }

    #[test]
    fn floats_read_back_bit_for_bit() {
        // A resumed search is told the journaled results again; one ulp off on a near-tie
        // moves the incumbent and the whole path after it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let writer = JournalWriter::open(&path).unwrap();
        let mut written = Vec::new();
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for trial in 0..300 {
            bits = bits
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
            let mut r = record(trial);
            r.objective_value = Some(unit);
            r.fit_seconds = unit * 1e-3;
            r.config.reg_covar = 1e-6 * 10f64.powf(5.0 * unit);
            writer.append(&r).unwrap();
            written.push(r);
        }
        let back: Vec<TrialRecord> = read_records(&path).unwrap();
        for (w, b) in written.iter().zip(&back) {
            assert_eq!(
                w.objective_value.map(f64::to_bits),
                b.objective_value.map(f64::to_bits)
            );
            assert_eq!(w.fit_seconds.to_bits(), b.fit_seconds.to_bits());
            assert_eq!(w.config.reg_covar.to_bits(), b.config.reg_covar.to_bits());
        }
    }

    #[test]
    fn a_cut_off_last_line_is_skipped_but_a_bad_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let good = serde_json::to_string(&record(0)).unwrap();
        std::fs::write(&path, format!("{good}\n{}", &good[..good.len() / 2])).unwrap();
        let back: Vec<TrialRecord> = read_records(&path).unwrap();
        assert_eq!(back.len(), 1);
        std::fs::write(&path, format!("{}\n{good}\n", &good[..10])).unwrap();
        let err = read_records::<TrialRecord>(&path).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn reopening_drops_a_cut_off_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let good = serde_json::to_string(&record(0)).unwrap();
        std::fs::write(&path, format!("{good}\n{}", &good[..good.len() / 2])).unwrap();
        let writer = JournalWriter::open(&path).unwrap();
        writer.append(&record(1)).unwrap();
        let back: Vec<TrialRecord> = read_records(&path).unwrap();
        assert_eq!(back, vec![record(0), record(1)]);
    }

    #[test]
    fn a_missing_journal_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let back: Vec<UnitRecord> = read_records(&dir.path().join("none.jsonl")).unwrap();
        assert!(back.is_empty());
    }
}
