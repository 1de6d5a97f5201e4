//! Errors of the data layer: reading tables, the dataset registry, splits and standardisation.

use std::path::PathBuf;

use thiserror::Error;

/// Why a cell could not be used as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellProblem {
    /// The cell is empty (or only blanks).
    Empty,
    /// The text is not a decimal number.
    NotANumber,
    /// The text parses to NaN.
    NaN,
    /// The text parses to an infinite value.
    Infinite,
}

impl CellProblem {
    /// A short description used inside error messages.
    pub fn describe(self) -> &'static str {
        match self {
            CellProblem::Empty => "empty cell",
            CellProblem::NotANumber => "not a number",
            CellProblem::NaN => "NaN is not allowed",
            CellProblem::Infinite => "infinite value is not allowed",
        }
    }
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// One of the three parts of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartName {
    /// The training part.
    Train,
    /// The validation part.
    Validation,
    /// The test part.
    Test,
}

impl std::fmt::Display for PartName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PartName::Train => "train",
            PartName::Validation => "validation",
            PartName::Test => "test",
        })
    }
}

/// Everything that can go wrong while loading, splitting or standardising a dataset.
///
/// Every message names the file (or the dataset and its file) and, where it applies, the 1-based
/// line (the header is line 1), the column name and a way to fix the problem.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file does not exist.
    #[error("{}: file not found; check the path (relative paths are resolved against the current directory, registry paths against the registry file)", path.display())]
    FileNotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, a truncated or corrupt gzip stream, ...).
    #[error("{}{}: cannot read the file: {source}; check that it is readable and, if gzip-compressed, intact (`gzip -t`)", path.display(), line.map(|l| format!(", near line {l}")).unwrap_or_default())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The line being read when the failure happened, when known.
        line: Option<u64>,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file name ends in `.gz` but the content is not gzip data.
    #[error("{}: the name ends in .gz but the file does not start with the gzip magic bytes; recompress it with gzip or drop the .gz extension", path.display())]
    NotGzip {
        /// The path as given.
        path: PathBuf,
    },
    /// The file (after decompression) holds no lines at all.
    #[error("{}: the file is empty; expected a header line naming the columns followed by data rows", path.display())]
    EmptyFile {
        /// The path as given.
        path: PathBuf,
    },
    /// The file has a header but no data rows.
    #[error("{}: the file has a header (line 1) but no data rows; add at least one row", path.display())]
    NoDataRows {
        /// The path as given.
        path: PathBuf,
    },
    /// The first line holds only numbers: the header line is missing.
    #[error("{}, line 1: no header; the first line holds only numbers ({first_fields}); add a header line naming every column (for example f0,f1,...,label)", path.display())]
    MissingHeader {
        /// The path as given.
        path: PathBuf,
        /// The start of the first line, for the message.
        first_fields: String,
    },
    /// A header field is empty.
    #[error("{}, line 1: column {position} has an empty name; give every column a name in the header", path.display())]
    EmptyColumnName {
        /// The path as given.
        path: PathBuf,
        /// 1-based position of the column.
        position: usize,
    },
    /// Two header fields have the same name.
    #[error("{}, line 1: duplicate column name `{name}` (columns {first} and {second}); rename one of them", path.display())]
    DuplicateColumn {
        /// The path as given.
        path: PathBuf,
        /// The repeated name.
        name: String,
        /// 1-based position of the first occurrence.
        first: usize,
        /// 1-based position of the second occurrence.
        second: usize,
    },
    /// The label column is required but absent.
    #[error("{}: label column `{label}` not found; the columns are: {available}; set the label column to one of them", path.display())]
    MissingLabelColumn {
        /// The path as given.
        path: PathBuf,
        /// The label column asked for.
        label: String,
        /// The header's column names, comma separated.
        available: String,
    },
    /// A column listed in `exclude_columns` is not in the header.
    #[error("{}: excluded column `{column}` not found; the columns are: {available}; fix the name in exclude_columns", path.display())]
    ExcludedColumnNotFound {
        /// The path as given.
        path: PathBuf,
        /// The column asked to exclude.
        column: String,
        /// The header's column names, comma separated.
        available: String,
    },
    /// After removing the label, split and excluded columns nothing is left.
    #[error("{}: no feature columns left after removing the label, split and excluded columns (columns: {available})", path.display())]
    NoFeatureColumns {
        /// The path as given.
        path: PathBuf,
        /// The header's column names, comma separated.
        available: String,
    },
    /// A row has a different number of fields than the header.
    #[error("{}, line {line}: expected {expected} fields (as in the header) but found {found}; fix the row's separators or quoting", path.display())]
    RaggedRow {
        /// The path as given.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// Number of header fields.
        expected: usize,
        /// Number of fields in the row.
        found: usize,
    },
    /// A feature or label cell is empty, not a number, NaN or infinite.
    #[error("{}, line {line}, column `{column}`: {problem} (cell text: \"{text}\"); every feature and label cell must be a finite number{hint}", path.display())]
    InvalidCell {
        /// The path as given.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// Name of the column.
        column: String,
        /// The cell's text (shortened when long).
        text: String,
        /// What is wrong with it.
        problem: CellProblem,
        /// Extra advice (may be empty).
        hint: String,
    },
    /// A cell of the split column is not train, validation or test.
    #[error("{}, line {line}, column `{column}`: bad split value \"{text}\"; expected train, validation (or val) or test", path.display())]
    InvalidSplitValue {
        /// The path as given.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// Name of the split column.
        column: String,
        /// The cell's text (shortened when long).
        text: String,
    },
    /// The CSV syntax is broken in a way not covered above.
    #[error("{}{}: malformed CSV: {message}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Csv {
        /// The path as given.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<u64>,
        /// The parser's description.
        message: String,
    },
    /// The registry file is not valid YAML or does not match the registry schema.
    #[error("{}: invalid dataset registry: {message}", path.display())]
    RegistryParse {
        /// The registry file.
        path: PathBuf,
        /// The parser's description (with line and column).
        message: String,
    },
    /// A registry entry is inconsistent.
    #[error("{}: dataset `{name}`: {reason}", path.display())]
    RegistryEntry {
        /// The registry file.
        path: PathBuf,
        /// The entry's name.
        name: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The split parameters are invalid regardless of the data.
    #[error("invalid split: {reason}")]
    InvalidSplit {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Ordered split bounds do not fit the table.
    #[error(
        "dataset `{dataset}` ({source_path}): ordered split train_end = {train_end}, validation_end = {validation_end} does not fit {rows} rows: {reason}"
    )]
    OrderedBounds {
        /// Dataset name.
        dataset: String,
        /// The table's file.
        source_path: String,
        /// The train bound asked for.
        train_end: usize,
        /// The validation bound asked for.
        validation_end: usize,
        /// Rows in the table.
        rows: usize,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A column split was asked for but the table has no split column.
    #[error(
        "dataset `{dataset}` ({source_path}): split method `column` needs a split column, but the table has none; add a column named `split` holding train, validation or test for each row, or choose another split method"
    )]
    MissingSplitColumn {
        /// Dataset name.
        dataset: String,
        /// The table's file.
        source_path: String,
    },
    /// The table has no labels, which splitting and evaluation need.
    #[error(
        "dataset `{dataset}` ({source_path}): the table has no labels; set its label column (a column of 0 = normal, non-zero = anomaly)"
    )]
    MissingLabels {
        /// Dataset name.
        dataset: String,
        /// The table's file.
        source_path: String,
    },
    /// The training part holds no normal rows while the model is to be fitted on normal rows only.
    #[error(
        "dataset `{dataset}` ({source_path}): the train part has {train_rows} rows but none is normal (label 0), so there is nothing to fit with train_on: normal; use train_on: all or change the split"
    )]
    NoNormalTrainRows {
        /// Dataset name.
        dataset: String,
        /// The table's file.
        source_path: String,
        /// Rows in the train part.
        train_rows: usize,
    },
    /// A table built in code has fields of mismatched lengths.
    #[error("dataset `{dataset}` ({source_path}): inconsistent table: {reason}")]
    InconsistentTable {
        /// Dataset name.
        dataset: String,
        /// The table's file.
        source_path: String,
        /// Which lengths disagree.
        reason: String,
    },
    /// A part of the split has no rows.
    #[error(
        "dataset `{dataset}` ({source_path}): the {part} part has no rows ({rows} rows in the table); {hint}"
    )]
    EmptyPart {
        /// Dataset name.
        dataset: String,
        /// The table's file.
        source_path: String,
        /// Which part.
        part: PartName,
        /// Rows in the table.
        rows: usize,
        /// How to fix it.
        hint: String,
    },
    /// A matrix given to a fitted standardiser has the wrong number of columns.
    #[error(
        "standardizer was fitted on {expected} features but the data has {found} columns; transform data with the same columns as the data it was fitted on"
    )]
    WidthMismatch {
        /// Features the standardiser was fitted on.
        expected: usize,
        /// Columns given.
        found: usize,
    },
}

impl DataError {
    /// The error for a file that could not be opened or read: `FileNotFound` when it does not
    /// exist, `Read` otherwise.
    pub(crate) fn opening(path: &std::path::Path, source: std::io::Error) -> DataError {
        match source.kind() {
            std::io::ErrorKind::NotFound => DataError::FileNotFound {
                path: path.to_owned(),
            },
            _ => DataError::Read {
                path: path.to_owned(),
                line: None,
                source,
            },
        }
    }
}
