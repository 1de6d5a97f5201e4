//! The journal: a run's source of truth. One JSON object per finished trial in `trials.jsonl`
//! and one per finished unit (dataset × strategy × seed) in `units.jsonl`, each appended and
//! flushed as soon as it exists. Every record says what it was measured under (run
//! fingerprint, gmmtune version, data content hash, protocol and split seed), so summaries,
//! reports, mining and merges of shards read the journals alone, and refuse what differs.
//!
//! ```
//! use gmmtune::journal::{read_journal, JournalWriter, UnitRecord};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("units.jsonl");
//! let (writer, dropped) = JournalWriter::open(&path).unwrap();
//! assert!(dropped.is_none());
//! drop(writer);
//! let file = read_journal::<UnitRecord>(&path).unwrap();
//! assert!(file.records.is_empty());
//! ```

pub mod float;
mod reader;
mod record;
mod run_journal;
mod writer;

use std::path::Path;

use thiserror::Error;

pub use reader::{read_journal, JournalFile};
pub use record::{
    DataStamp, JournalRecord, ProtocolStamp, RecordContext, StopReason, TrialMetrics, TrialRecord,
    TrialStatus, UnitKey, UnitRecord, DEFAULT_SCORE_QUANTILE, GMMTUNE_VERSION, JOURNAL_FORMAT,
};
pub use run_journal::{
    check_comparable, journal_dirs, RunJournal, SHARDS_DIR, TRIALS_FILE, UNITS_FILE,
};
pub use writer::{DroppedTail, JournalWriter};

#[cfg(test)]
pub(crate) use record::testing;

/// Errors reading, merging or writing journals.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a journal record.
    #[error(
        "{path}, line {line}: not a journal record ({message}); the file was edited or corrupted: restore it, or move the run directory away to start afresh"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// Line number, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A record of another journal format.
    #[error("{path}, line {line}: a record of journal format {found}, and this gmmtune ({version}) reads format {expected}: open it with the gmmtune that wrote it, or run again into a new directory", version = GMMTUNE_VERSION, expected = JOURNAL_FORMAT)]
    Format {
        /// The file.
        path: String,
        /// Line number, from 1.
        line: usize,
        /// The format found.
        found: String,
    },
    /// Records that cannot belong together.
    #[error("{other} does not fit with {first}: {what}")]
    Mixed {
        /// Where the first record is.
        first: String,
        /// Where the conflicting one is.
        other: String,
        /// What differs.
        what: String,
    },
}

impl JournalError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> JournalError {
        JournalError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
