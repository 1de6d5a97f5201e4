//! Reading a numeric table from CSV or gzip-compressed CSV.
//!
//! The first line is the header. Every column is a feature except the label column, the split
//! column and the excluded columns. Feature and label cells must be finite numbers; a label is an
//! anomaly when it is not zero. Blank lines are skipped; fields may be quoted; blanks around a
//! number are ignored.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::error::{CellProblem, DataError};
use super::input::Input;

const READ_BUFFER: usize = 1 << 16;
const MAX_CELL_TEXT: usize = 60;

/// Which columns [`read_table`] treats as label, split and excluded.
///
/// ```
/// use gmmtune::data::ReadOptions;
/// let options = ReadOptions {
///     label_column: Some("anomaly".into()),
///     require_label: true,
///     exclude_columns: vec!["timestamp".into()],
///     ..ReadOptions::default()
/// };
/// assert_eq!(options.split_column.as_deref(), Some("split"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadOptions {
    /// Name of the label column (0 = normal, any other number = anomaly). `None`: no labels.
    pub label_column: Option<String>,
    /// Fail when the label column is absent (otherwise the table simply has no labels).
    pub require_label: bool,
    /// Columns that are neither features nor labels (timestamps, identifiers); each must exist.
    pub exclude_columns: Vec<String>,
    /// Name of a column of `train` / `validation` / `test` values, used only when present.
    pub split_column: Option<String>,
}

impl Default for ReadOptions {
    /// Label column `label` (optional), nothing excluded, split column `split` when present.
    fn default() -> Self {
        ReadOptions {
            label_column: Some("label".to_owned()),
            require_label: false,
            exclude_columns: Vec::new(),
            split_column: Some("split".to_owned()),
        }
    }
}

/// The part a row belongs to, as given by a split column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitTag {
    /// Training rows.
    Train,
    /// Validation rows (threshold and model selection).
    Validation,
    /// Test rows (final figures).
    Test,
}

impl SplitTag {
    /// The canonical spelling: `train`, `validation` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitTag::Train => "train",
            SplitTag::Validation => "validation",
            SplitTag::Test => "test",
        }
    }

    pub(super) fn parse_bytes(text: &[u8]) -> Option<SplitTag> {
        let text = text.trim_ascii();
        let is = |word: &str| text.eq_ignore_ascii_case(word.as_bytes());
        if is("train") || is("training") {
            Some(SplitTag::Train)
        } else if is("validation") || is("val") || is("valid") {
            Some(SplitTag::Validation)
        } else if is("test") || is("testing") {
            Some(SplitTag::Test)
        } else {
            None
        }
    }
}

impl fmt::Display for SplitTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SplitTag {
    type Err = String;

    /// Accepts `train`/`training`, `validation`/`val`/`valid`, `test`/`testing`, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SplitTag::parse_bytes(s.as_bytes()).ok_or_else(|| {
            format!("unknown split value `{s}` (expected train, validation or test)")
        })
    }
}

/// A numeric table read from a file: features, optional labels, optional split tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The path the table was read from, as given.
    pub source: String,
    /// Names of the feature columns, in file order.
    pub feature_names: Vec<String>,
    /// One row per data line, one column per feature.
    pub features: Array2<f64>,
    /// `true` for anomalies (label not 0); `None` when the file has no label column.
    pub labels: Option<Vec<bool>>,
    /// Split tags from the split column, when the file has one.
    pub split: Option<Vec<SplitTag>>,
}

impl Table {
    /// Number of data rows.
    pub fn n_rows(&self) -> usize {
        self.features.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// Number of rows labelled anomalous (0 when the table has no labels).
    pub fn n_anomalies(&self) -> usize {
        self.labels
            .as_ref()
            .map_or(0, |labels| labels.iter().filter(|&&a| a).count())
    }
}

/// Reads a CSV or gzip-compressed CSV file with a header line into a [`Table`].
///
/// A file that starts with the gzip magic bytes is decompressed on the fly (whatever its name);
/// a file named `*.gz` without them is reported as [`DataError::NotGzip`]. Rows are parsed in
/// parallel blocks (see [`read_table_hashed`](super::read_table_hashed)); the result, and every
/// error message, is the same as [`read_table_sequential`]'s.
///
/// ```
/// use gmmtune::data::{read_table, ReadOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("toy.csv");
/// std::fs::write(&path, "a,b,label\n1,2,0\n3,4,1\n").unwrap();
/// let table = read_table(&path, &ReadOptions::default()).unwrap();
/// assert_eq!(table.feature_names, ["a", "b"]);
/// assert_eq!(table.labels, Some(vec![false, true]));
/// ```
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table, DataError> {
    super::fast_read::read_fast(path, options, false).map(|(table, _)| table)
}

/// Reads a table with one sequential CSV reader, row after row: the reference the parallel
/// reader of [`read_table`] is checked against and falls back to (for a corrupt gzip stream).
///
/// ```
/// use gmmtune::data::{read_table, read_table_sequential, ReadOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("toy.csv");
/// std::fs::write(&path, "a,\"b\",label\r\n1,\"2\",0\r\n3,4,1").unwrap();
/// let options = ReadOptions::default();
/// assert_eq!(
///     read_table_sequential(&path, &options).unwrap(),
///     read_table(&path, &options).unwrap()
/// );
/// ```
pub fn read_table_sequential(path: &Path, options: &ReadOptions) -> Result<Table, DataError> {
    read_sequential(path, options, false).map(|(table, _)| table)
}

/// [`read_table_sequential`], with the SHA-256 of the file's bytes when `hash` is set.
pub(super) fn read_sequential(
    path: &Path,
    options: &ReadOptions,
    hash: bool,
) -> Result<(Table, Option<String>), DataError> {
    let input = Input::open(path, hash)?;
    let mut reader = csv_reader(input);
    let mut record = csv::ByteRecord::new();
    if !read_record(&mut reader, &mut record, path, 0)? {
        return Err(DataError::EmptyFile {
            path: path.to_owned(),
        });
    }
    let header = parse_header(&record, path)?;
    let layout = Layout::new(&header, options, path)?;
    let mut columns = Columns::default();
    read_rows(&mut reader, 0, &layout, path, &mut columns)?;
    let digest = reader
        .into_inner()
        .finish()
        .map_err(|source| DataError::Read {
            path: path.to_owned(),
            line: None,
            source,
        })?;
    Ok((columns.into_table(path, layout)?, digest))
}

/// A CSV reader with the settings every reader of a table uses.
pub(super) fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(READ_BUFFER)
        .from_reader(input)
}

/// The values read so far: features row-major, labels and split tags.
#[derive(Debug, Default)]
pub(super) struct Columns {
    pub(super) values: Vec<f64>,
    pub(super) labels: Vec<bool>,
    pub(super) tags: Vec<SplitTag>,
    pub(super) rows: usize,
}

impl Columns {
    /// Appends the rows of `other`.
    pub(super) fn append(&mut self, other: Columns) {
        self.values.extend_from_slice(&other.values);
        self.labels.extend_from_slice(&other.labels);
        self.tags.extend_from_slice(&other.tags);
        self.rows += other.rows;
    }

    /// The table of these rows; [`DataError::NoDataRows`] when there are none.
    pub(super) fn into_table(self, path: &Path, layout: Layout) -> Result<Table, DataError> {
        if self.rows == 0 {
            return Err(DataError::NoDataRows {
                path: path.to_owned(),
            });
        }
        let features = Array2::from_shape_vec((self.rows, layout.feature_names.len()), self.values)
            .expect("every accepted row contributes exactly one value per feature column");
        Ok(Table {
            source: path.display().to_string(),
            feature_names: layout.feature_names,
            features,
            labels: layout.has_label.then_some(self.labels),
            split: layout.has_split.then_some(self.tags),
        })
    }
}

/// Reads the remaining records of `reader` into `columns`. `base` is the offset, in the
/// decompressed file, of the reader's first byte (for the line numbers of errors).
pub(super) fn read_rows<R: Read>(
    reader: &mut csv::Reader<R>,
    base: u64,
    layout: &Layout,
    path: &Path,
    columns: &mut Columns,
) -> Result<(), DataError> {
    let mut record = csv::ByteRecord::new();
    let n_features = layout.feature_names.len();
    while read_record(reader, &mut record, path, base)? {
        if record.len() != layout.roles.len() {
            return Err(DataError::RaggedRow {
                path: path.to_owned(),
                line: record_line(&record, path, base),
                expected: layout.roles.len(),
                found: record.len(),
            });
        }
        columns.values.reserve(n_features);
        for (index, field) in record.iter().enumerate() {
            let line = || record_line(&record, path, base);
            match layout.roles[index] {
                Role::Feature => {
                    let value = parse_number(field).map_err(|problem| {
                        layout.invalid_cell(path, line(), index, field, problem)
                    })?;
                    columns.values.push(value);
                }
                Role::Label => {
                    let value = parse_number(field).map_err(|problem| {
                        layout.invalid_cell(path, line(), index, field, problem)
                    })?;
                    columns.labels.push(value != 0.0);
                }
                Role::Split => {
                    let tag = SplitTag::parse_bytes(field)
                        .ok_or_else(|| layout.invalid_split(path, line(), index, field))?;
                    columns.tags.push(tag);
                }
                Role::Excluded => {}
            }
        }
        columns.rows += 1;
    }
    Ok(())
}

/// Reads only the header line of a CSV or CSV.gz file and returns its column names.
///
/// Cheap even for very large files; the same header checks as [`read_table`] apply (no empty or
/// duplicate names, not all numeric).
pub fn read_header(path: &Path) -> Result<Vec<String>, DataError> {
    let input = open_input(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    if !read_record(&mut reader, &mut record, path, 0)? {
        return Err(DataError::EmptyFile {
            path: path.to_owned(),
        });
    }
    parse_header(&record, path)
}

/// What a column is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Feature,
    Label,
    Split,
    Excluded,
}

/// The role of every column, resolved from the header and the options.
pub(super) struct Layout {
    pub(super) header: Vec<String>,
    pub(super) roles: Vec<Role>,
    pub(super) feature_names: Vec<String>,
    pub(super) has_label: bool,
    pub(super) has_split: bool,
}

impl Layout {
    pub(super) fn new(
        header: &[String],
        options: &ReadOptions,
        path: &Path,
    ) -> Result<Layout, DataError> {
        let position = |name: &str| header.iter().position(|h| h == name);
        let mut roles = vec![Role::Feature; header.len()];
        for column in &options.exclude_columns {
            let index = position(column).ok_or_else(|| DataError::ExcludedColumnNotFound {
                path: path.to_owned(),
                column: column.clone(),
                available: header.join(", "),
            })?;
            roles[index] = Role::Excluded;
        }
        let mut has_label = false;
        if let Some(label) = &options.label_column {
            match position(label) {
                Some(index) => {
                    roles[index] = Role::Label;
                    has_label = true;
                }
                None if options.require_label => {
                    return Err(DataError::MissingLabelColumn {
                        path: path.to_owned(),
                        label: label.clone(),
                        available: header.join(", "),
                    });
                }
                None => {}
            }
        }
        let mut has_split = false;
        if let Some(split) = &options.split_column
            && let Some(index) = position(split)
            && roles[index] == Role::Feature
        {
            roles[index] = Role::Split;
            has_split = true;
        }
        let feature_names: Vec<String> = header
            .iter()
            .zip(&roles)
            .filter(|(_, role)| **role == Role::Feature)
            .map(|(name, _)| name.clone())
            .collect();
        if feature_names.is_empty() {
            return Err(DataError::NoFeatureColumns {
                path: path.to_owned(),
                available: header.join(", "),
            });
        }
        Ok(Layout {
            header: header.to_vec(),
            roles,
            feature_names,
            has_label,
            has_split,
        })
    }
}

/// Opens the file, transparently decompressing gzip.
fn open_input(path: &Path) -> Result<Input, DataError> {
    Input::open(path, false)
}

/// Reads the next record; `Ok(false)` at the end of the input.
pub(super) fn read_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    path: &Path,
    base: u64,
) -> Result<bool, DataError> {
    reader
        .read_byte_record(record)
        .map_err(|error| csv_error(error, path, base))
}

fn csv_error(error: csv::Error, path: &Path, base: u64) -> DataError {
    let line = error
        .position()
        .map(|p| locate_line(path, base + p.byte()).unwrap_or(p.line()));
    match error.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Read {
            path: path.to_owned(),
            line,
            source,
        },
        other => DataError::Csv {
            path: path.to_owned(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// The 1-based line on which `record` starts. Only called when reporting an error.
fn record_line(record: &csv::ByteRecord, path: &Path, base: u64) -> u64 {
    record.position().map_or(0, |p| {
        locate_line(path, base + p.byte()).unwrap_or(p.line())
    })
}

/// The 1-based line of the first content byte at or after `offset`, counting `\n`, `\r\n` and a
/// lone `\r` as one line break each.
///
/// The CSV parser's own line numbers are off after blank lines and for CRLF or CR line endings
/// (its record offset points at the line break that ends the previous record), so the line is
/// recomputed by scanning the (decompressed) file again. That only happens for an error.
pub(super) fn locate_line(path: &Path, offset: u64) -> Option<u64> {
    let mut input = BufReader::new(open_input(path).ok()?);
    let mut breaks = 0u64;
    let mut position = 0u64;
    let mut previous = 0u8;
    loop {
        let buffer = input.fill_buf().ok()?;
        if buffer.is_empty() {
            return Some(breaks + 1);
        }
        for &byte in buffer {
            let is_break_byte = byte == b'\n' || byte == b'\r';
            if position >= offset && !is_break_byte {
                return Some(breaks + 1);
            }
            if byte == b'\r' || (byte == b'\n' && previous != b'\r') {
                breaks += 1;
            }
            previous = byte;
            position += 1;
        }
        let consumed = buffer.len();
        input.consume(consumed);
    }
}

pub(super) fn parse_header(
    record: &csv::ByteRecord,
    path: &Path,
) -> Result<Vec<String>, DataError> {
    let names: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let field = if index == 0 {
                field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
            } else {
                field
            };
            String::from_utf8_lossy(field.trim_ascii()).into_owned()
        })
        .collect();
    // A headerless file first: its numbers would otherwise look like empty or duplicate names.
    let numeric = |name: &String| name.is_empty() || name.parse::<f64>().is_ok();
    if names.iter().all(numeric) && names.iter().any(|name| !name.is_empty()) {
        let mut first_fields = names.iter().take(5).cloned().collect::<Vec<_>>().join(",");
        if names.len() > 5 {
            first_fields.push_str(",...");
        }
        return Err(DataError::MissingHeader {
            path: path.to_owned(),
            first_fields,
        });
    }
    for (index, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(DataError::EmptyColumnName {
                path: path.to_owned(),
                position: index + 1,
            });
        }
        if let Some(first) = names[..index].iter().position(|n| n == name) {
            return Err(DataError::DuplicateColumn {
                path: path.to_owned(),
                name: name.clone(),
                first: first + 1,
                second: index + 1,
            });
        }
    }
    Ok(names)
}

/// Parses a finite number; blanks around it are ignored.
pub(super) fn parse_number(field: &[u8]) -> Result<f64, CellProblem> {
    let text = field.trim_ascii();
    if text.is_empty() {
        return Err(CellProblem::Empty);
    }
    let value: f64 = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CellProblem::NotANumber)?;
    if value.is_nan() {
        Err(CellProblem::NaN)
    } else if value.is_infinite() {
        Err(CellProblem::Infinite)
    } else {
        Ok(value)
    }
}

fn cell_text(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    if text.chars().count() > MAX_CELL_TEXT {
        let short: String = text.chars().take(MAX_CELL_TEXT).collect();
        format!("{short}...")
    } else {
        text.into_owned()
    }
}

impl Layout {
    /// The error for the cell of column `index` on `line` that is not a usable number.
    pub(super) fn invalid_cell(
        &self,
        path: &Path,
        line: u64,
        index: usize,
        field: &[u8],
        problem: CellProblem,
    ) -> DataError {
        let hint = match (self.roles[index], problem) {
            (Role::Label, _) => "; labels are 0 for normal rows and any other number for anomalies",
            (_, CellProblem::NotANumber) => {
                "; if this column is not a feature (a timestamp, an identifier), list it in exclude_columns"
            }
            (_, CellProblem::Empty | CellProblem::NaN) => {
                "; fill in or drop rows with missing values before loading"
            }
            (_, CellProblem::Infinite) => "; replace infinite values before loading",
        };
        DataError::InvalidCell {
            path: PathBuf::from(path),
            line,
            column: self.header[index].clone(),
            text: cell_text(field),
            problem,
            hint: hint.to_owned(),
        }
    }

    /// The error for the split cell of column `index` on `line` that names no part.
    pub(super) fn invalid_split(
        &self,
        path: &Path,
        line: u64,
        index: usize,
        field: &[u8],
    ) -> DataError {
        DataError::InvalidSplitValue {
            path: path.to_owned(),
            line,
            column: self.header[index].clone(),
            text: cell_text(field),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(text: &str, options: &ReadOptions) -> Result<Table, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "t.csv", text);
        read_table(&path, options)
    }

    fn message(text: &str, options: &ReadOptions) -> String {
        read(text, options).unwrap_err().to_string()
    }

    #[test]
    fn reads_features_labels_and_split() {
        let text = "x, y ,label,split\n1,2.5,0,train\n-3e2, 4 ,2,VAL\n\n5,6,0,test\n";
        let table = read(text, &ReadOptions::default()).unwrap();
        assert_eq!(table.feature_names, ["x", "y"]);
        assert_eq!(
            table.features,
            ndarray::array![[1.0, 2.5], [-300.0, 4.0], [5.0, 6.0]]
        );
        assert_eq!(table.labels, Some(vec![false, true, false]));
        assert_eq!(
            table.split,
            Some(vec![SplitTag::Train, SplitTag::Validation, SplitTag::Test])
        );
        assert_eq!(table.n_anomalies(), 1);
    }

    #[test]
    fn label_optional_unless_required() {
        let table = read("a,b\n1,2\n", &ReadOptions::default()).unwrap();
        assert_eq!(table.labels, None);
        assert_eq!(table.feature_names, ["a", "b"]);
        let required = ReadOptions {
            require_label: true,
            ..ReadOptions::default()
        };
        let msg = message("a,b\n1,2\n", &required);
        assert!(msg.contains("label column `label` not found"), "{msg}");
        assert!(msg.contains("a, b"), "{msg}");
    }

    #[test]
    fn no_label_column_makes_label_a_feature() {
        let options = ReadOptions {
            label_column: None,
            ..ReadOptions::default()
        };
        let table = read("a,label\n1,2\n", &options).unwrap();
        assert_eq!(table.feature_names, ["a", "label"]);
        assert_eq!(table.labels, None);
    }

    #[test]
    fn excluded_columns_are_dropped_and_must_exist() {
        let options = ReadOptions {
            exclude_columns: vec!["t".into()],
            ..ReadOptions::default()
        };
        let table = read("t,a,label\n2020-01-01,1,0\n", &options).unwrap();
        assert_eq!(table.feature_names, ["a"]);
        let options = ReadOptions {
            exclude_columns: vec!["time".into()],
            ..ReadOptions::default()
        };
        let msg = message("t,a,label\n1,1,0\n", &options);
        assert!(msg.contains("excluded column `time` not found"), "{msg}");
        assert!(msg.contains("t, a, label"), "{msg}");
    }

    #[test]
    fn cell_errors_name_line_column_and_text() {
        let msg = message("a,b,label\n1,2,0\n1,x1,0\n", &ReadOptions::default());
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("column `b`"), "{msg}");
        assert!(msg.contains("\"x1\""), "{msg}");
        assert!(msg.contains("not a number"), "{msg}");
        let msg = message("a,b,label\n1,,0\n", &ReadOptions::default());
        assert!(
            msg.contains("line 2") && msg.contains("empty cell"),
            "{msg}"
        );
        let msg = message("a,b,label\n1,NaN,0\n", &ReadOptions::default());
        assert!(msg.contains("NaN is not allowed"), "{msg}");
        let msg = message("a,b,label\n1,-inf,0\n", &ReadOptions::default());
        assert!(msg.contains("infinite"), "{msg}");
        let msg = message("a,b,label\n1,2,yes\n", &ReadOptions::default());
        assert!(
            msg.contains("column `label`") && msg.contains("labels are 0"),
            "{msg}"
        );
    }

    #[test]
    fn crlf_and_quoted_fields() {
        let text = "\"a\",\"b, c\",label\r\n\"1.5\", 2 ,0\r\n3,4,1\r\n";
        let table = read(text, &ReadOptions::default()).unwrap();
        assert_eq!(table.feature_names, ["a", "b, c"]);
        assert_eq!(table.features, ndarray::array![[1.5, 2.0], [3.0, 4.0]]);
        let msg = message("a,label\r\n1,0\r\nx,0\r\n", &ReadOptions::default());
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn line_numbers_count_blank_lines() {
        let msg = message("a,label\n1,0\n\n\n2,0\nz,0\n", &ReadOptions::default());
        assert!(msg.contains("line 6"), "{msg}");
        // The first row after blank lines.
        let msg = message("a,label\n1,0\n\n\nz,0\n", &ReadOptions::default());
        assert!(msg.contains("line 5"), "{msg}");
        for ending in ["\r\n", "\r"] {
            let text = ["a,label", "1,0", "", "2,0", "z,0", ""].join(ending);
            let msg = message(&text, &ReadOptions::default());
            assert!(msg.contains("line 5"), "{ending:?}: {msg}");
            let text = ["a,b,label", "1,2,0", "1,2", ""].join(ending);
            let msg = message(&text, &ReadOptions::default());
            assert!(msg.contains("line 3"), "{ending:?}: {msg}");
        }
    }

    #[test]
    fn line_of_a_row_spanning_lines_is_its_first_line() {
        let msg = message(
            "name,a,label\n\"two\nlines\",1,0\nx,y,0\n",
            &ReadOptions {
                exclude_columns: vec!["name".into()],
                ..ReadOptions::default()
            },
        );
        assert!(
            msg.contains("line 4") && msg.contains("column `a`"),
            "{msg}"
        );
    }

    #[test]
    fn ragged_rows_are_rejected() {
        let msg = message("a,b,label\n1,2,0\n1,2\n", &ReadOptions::default());
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("expected 3 fields"), "{msg}");
        assert!(msg.contains("found 2"), "{msg}");
    }

    #[test]
    fn header_problems() {
        let msg = message("", &ReadOptions::default());
        assert!(msg.contains("the file is empty"), "{msg}");
        let msg = message("1,2,3\n4,5,6\n", &ReadOptions::default());
        assert!(msg.contains("no header"), "{msg}");
        let msg = message("0,0,,1\n4,5,6,7\n", &ReadOptions::default());
        assert!(
            msg.contains("no header") && msg.contains("(0,0,,1)"),
            "{msg}"
        );
        let msg = message("a,b,a\n1,2,3\n", &ReadOptions::default());
        assert!(msg.contains("duplicate column name `a`"), "{msg}");
        assert!(msg.contains("columns 1 and 3"), "{msg}");
        let msg = message("a,,b\n1,2,3\n", &ReadOptions::default());
        assert!(msg.contains("column 2 has an empty name"), "{msg}");
        let msg = message("a,b\n", &ReadOptions::default());
        assert!(msg.contains("no data rows"), "{msg}");
        let msg = message("label\n1\n", &ReadOptions::default());
        assert!(msg.contains("no feature columns"), "{msg}");
    }

    #[test]
    fn bad_split_value() {
        let msg = message(
            "a,label,split\n1,0,train\n1,0,holdout\n",
            &ReadOptions::default(),
        );
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("column `split`"), "{msg}");
        assert!(msg.contains("\"holdout\""), "{msg}");
    }

    #[test]
    fn gzip_by_magic_and_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.data");
        let mut encoder = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        encoder.write_all(b"a,label\n1,0\n2,1\n").unwrap();
        encoder.finish().unwrap();
        let table = read_table(&path, &ReadOptions::default()).unwrap();
        assert_eq!(table.n_rows(), 2);
        let fake = write(&dir, "plain.csv.gz", "a,label\n1,0\n");
        let msg = read_table(&fake, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("gzip magic"), "{msg}");
    }

    #[test]
    fn missing_file_is_named() {
        let err = read_table(Path::new("no/such/file.csv"), &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, DataError::FileNotFound { .. }));
        assert!(err.to_string().contains("no/such/file.csv"));
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let table = read("\u{feff}a,label\n1,0\n", &ReadOptions::default()).unwrap();
        assert_eq!(table.feature_names, ["a"]);
    }

    #[test]
    fn header_only_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "h.csv", "a,b,label\n1,2,0\n");
        assert_eq!(read_header(&path).unwrap(), ["a", "b", "label"]);
    }

    #[test]
    fn split_tag_spellings() {
        assert_eq!("Training".parse::<SplitTag>(), Ok(SplitTag::Train));
        assert_eq!("valid".parse::<SplitTag>(), Ok(SplitTag::Validation));
        assert_eq!(" TEST ".parse::<SplitTag>(), Ok(SplitTag::Test));
        assert!("dev".parse::<SplitTag>().is_err());
    }
}
