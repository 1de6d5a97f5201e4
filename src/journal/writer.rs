//! Appending records: one line per record, written whole and flushed at once.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::JournalError;

/// A last line cut off by an interruption, dropped when a journal is opened or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTail {
    /// The journal file.
    pub path: PathBuf,
    /// Its line number (from 1).
    pub line: usize,
    /// How many bytes it held.
    pub bytes: usize,
}

impl std::fmt::Display for DroppedTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, line {}: dropped a record cut off by an interruption ({} bytes); its trial runs again",
            self.path.display(),
            self.line,
            self.bytes
        )
    }
}

/// An append-only JSON-lines file.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: Mutex<File>,
}

impl JournalWriter {
    /// Opens `path` for appending, creating it (and its directory) if needed. A last line cut
    /// off by an interruption (no final newline) is removed first and reported, so the records
    /// appended next start on a line of their own.
    pub fn open(path: &Path) -> Result<(JournalWriter, Option<DroppedTail>), JournalError> {
        let io = |source| JournalError::io(path, source);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut dropped = None;
        match std::fs::read(path) {
            Ok(bytes) if bytes.last().is_some_and(|&b| b != b'\n') => {
                let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_len(keep as u64))
                    .map_err(io)?;
                dropped = Some(DroppedTail {
                    path: path.to_path_buf(),
                    line: bytes[..keep].iter().filter(|&&b| b == b'\n').count() + 1,
                    bytes: bytes.len() - keep,
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        Ok((
            JournalWriter {
                path: path.to_path_buf(),
                file: Mutex::new(file),
            },
            dropped,
        ))
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as a line (a single write) and flushes it to the operating system.
    pub fn append<T: Serialize>(&self, record: &T) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| JournalError::io(&self.path, std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|source| JournalError::io(&self.path, source))
    }
}
