//! Reading a journal file: every line a record of this journal format, or an error that names
//! the file and the line.

use std::path::{Path, PathBuf};

use super::record::{JournalRecord, JOURNAL_FORMAT};
use super::writer::DroppedTail;
use super::JournalError;

/// The records of one journal file, with their line numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalFile<T> {
    /// The file read.
    pub path: PathBuf,
    /// Its records, in file order.
    pub records: Vec<T>,
    /// The line number (from 1) of each record.
    pub lines: Vec<usize>,
    /// A last line cut off by an interruption, which was not read.
    pub dropped_tail: Option<DroppedTail>,
}

impl<T> JournalFile<T> {
    /// `path:line` of record `i`, for messages.
    pub fn locate(&self, i: usize) -> String {
        format!("{}:{}", self.path.display(), self.lines[i])
    }
}

/// Reads every record of a JSON-lines journal. A missing file is an empty journal. A last line
/// without its newline was cut off by an interruption: it is left out and reported in
/// [`JournalFile::dropped_tail`]. Any other line that is not a record of this journal format
/// is an error naming the file and line.
pub fn read_journal<T: JournalRecord>(path: &Path) -> Result<JournalFile<T>, JournalError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(JournalFile {
                path: path.to_path_buf(),
                records: Vec::new(),
                lines: Vec::new(),
                dropped_tail: None,
            });
        }
        Err(source) => return Err(JournalError::io(path, source)),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut file = JournalFile {
        path: path.to_path_buf(),
        records: Vec::new(),
        lines: Vec::new(),
        dropped_tail: None,
    };
    let text = &bytes[..complete];
    let mut line_no = 0;
    for line in text.split(|&b| b == b'\n') {
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        file.records.push(parse_line(line, path, line_no)?);
        file.lines.push(line_no);
    }
    if complete < bytes.len() {
        file.dropped_tail = Some(DroppedTail {
            path: path.to_path_buf(),
            line: text.iter().filter(|&&b| b == b'\n').count() + 1,
            bytes: bytes.len() - complete,
        });
    }
    Ok(file)
}

fn parse_line<T: JournalRecord>(
    line: &[u8],
    path: &Path,
    line_no: usize,
) -> Result<T, JournalError> {
    let error = match serde_json::from_slice::<T>(line) {
        Ok(record) if record.format() == JOURNAL_FORMAT => return Ok(record),
        Ok(record) => {
            return Err(JournalError::Format {
                path: path.display().to_string(),
                line: line_no,
                found: record.format().to_string(),
            });
        }
        Err(e) => e,
    };
    // Not a record of this format: say whether it is another format, or not a record at all.
    let corrupt = |message: String| JournalError::Corrupt {
        path: path.display().to_string(),
        line: line_no,
        message,
    };
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(f) if f == u64::from(JOURNAL_FORMAT) => Err(corrupt(error.to_string())),
        Some(f) => Err(JournalError::Format {
            path: path.display().to_string(),
            line: line_no,
            found: f.to_string(),
        }),
        None if value.get("dataset").is_some() => Err(JournalError::Format {
            path: path.display().to_string(),
            line: line_no,
            found: "1 (records without a `format` field)".into(),
        }),
        None => Err(corrupt(error.to_string())),
    }
}
