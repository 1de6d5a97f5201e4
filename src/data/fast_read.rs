//! The parallel reader behind [`read_table`](super::read_table).
//!
//! The file is decompressed once, in blocks of whole lines (8 MiB by default); while one block
//! is decompressed, the previous one is cut into pieces at line breaks and the pieces are
//! parsed in parallel. The raw bytes are hashed as they are read, so a file is read once for
//! both its content hash and its values.
//!
//! Without quotes, a CSV line is its fields split at commas, a line ends at `\n`, `\r\n` or a
//! lone `\r`, and empty lines are skipped: exactly what the sequential CSV reader does. The
//! first quote in a block hands that block and everything after it to the sequential reader
//! (the rows before it stay parsed), so quoted fields, even across lines, read as they always
//! did. The header is always read by the CSV reader. Errors name the same line as the
//! sequential reader's, found from the row's byte offset by the same line counter; a header
//! problem or a corrupt stream is left to the sequential reader, which reports it as before.

use std::io::{self, Cursor, Read};
use std::path::Path;

use rayon::prelude::*;

use super::error::{CellProblem, DataError};
use super::input::Input;
use super::table::{
    csv_reader, locate_line, parse_header, parse_number, read_record, read_rows, read_sequential,
    Columns, Layout, ReadOptions, Role, SplitTag, Table,
};

/// Bytes of decompressed text per block.
const BLOCK_BYTES: usize = 8 << 20;
/// Smallest piece of a block parsed by one task.
const MIN_PIECE_BYTES: usize = 1 << 16;

/// A table with the SHA-256 of the file it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct HashedTable {
    /// The table, as [`read_table`](super::read_table) gives it.
    pub table: Table,
    /// Lower-case hex SHA-256 of the file's bytes (compressed bytes for a gzip file).
    pub sha256: String,
}

/// Reads a table and hashes its file in the same pass.
///
/// ```
/// use gmmtune::data::{read_table_hashed, sha256_file, ReadOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("toy.csv");
/// std::fs::write(&path, "a,label\n1,0\n2,1\n").unwrap();
/// let read = read_table_hashed(&path, &ReadOptions::default()).unwrap();
/// assert_eq!(read.table.n_rows(), 2);
/// assert_eq!(read.sha256, sha256_file(&path).unwrap());
/// ```
pub fn read_table_hashed(path: &Path, options: &ReadOptions) -> Result<HashedTable, DataError> {
    let (table, sha256) = read_fast(path, options, true)?;
    Ok(HashedTable {
        table,
        sha256: sha256.expect("a hashed read returns the file's hash"),
    })
}

/// Reads `path` block-parallel; with `hash`, also returns the file's SHA-256.
pub(super) fn read_fast(
    path: &Path,
    options: &ReadOptions,
    hash: bool,
) -> Result<(Table, Option<String>), DataError> {
    read_blocks(path, options, hash, BLOCK_BYTES)
}

/// What the parallel reader could not settle itself.
enum Fallback {
    /// A problem the sequential reader reports (header, empty input, corrupt stream).
    Sequential,
}

/// [`read_fast`] with blocks of `block_bytes` (small in tests, to put boundaries everywhere).
pub(super) fn read_blocks(
    path: &Path,
    options: &ReadOptions,
    hash: bool,
    block_bytes: usize,
) -> Result<(Table, Option<String>), DataError> {
    let input = Input::open(path, hash)?;
    match parse_blocks(path, options, input, block_bytes) {
        Ok(Ok(read)) => Ok(read),
        Ok(Err(error)) => Err(error),
        Err(Fallback::Sequential) => read_sequential(path, options, hash),
    }
}

fn parse_blocks(
    path: &Path,
    options: &ReadOptions,
    input: Input,
    block_bytes: usize,
) -> Result<Result<(Table, Option<String>), DataError>, Fallback> {
    let mut blocks = Blocks::new(input, block_bytes);
    let first = blocks.next().map_err(|_| Fallback::Sequential)?;
    let first = first.ok_or(Fallback::Sequential)?;
    let (layout, header_end) = read_layout(&first.bytes, path, options)?;
    if header_end >= first.bytes.len() && !blocks.at_end() {
        // The header may go on in the next block (a quoted name with line breaks).
        return Err(Fallback::Sequential);
    }
    let pieces = 4 * rayon::current_num_threads();
    let mut columns = Columns::default();
    let mut current = Some((first, header_end));
    while let Some((block, skip)) = current.take() {
        let data = &block.bytes[skip..];
        let start = block.start + skip as u64;
        if memchr::memchr(b'"', data).is_some() {
            let rest = Cursor::new(data).chain(Cursor::new(std::mem::take(&mut blocks.carry)));
            let mut reader = csv_reader(rest.chain(&mut blocks.input));
            return match read_rows(&mut reader, start, &layout, path, &mut columns) {
                Err(DataError::Read { .. }) => Err(Fallback::Sequential),
                Err(error) => Ok(Err(error)),
                Ok(()) => {
                    drop(reader);
                    finish(blocks.input, columns, path, layout)
                }
            };
        }
        let (next, parsed) = rayon::join(
            || blocks.next(),
            || parse_block(data, start, &layout, pieces),
        );
        for piece in parsed {
            match piece {
                Ok(part) => columns.append(part),
                Err(row) => {
                    let line = locate_line(path, row.offset).ok_or(Fallback::Sequential)?;
                    return Ok(Err(row.into_error(path, line, &layout)));
                }
            }
        }
        current = next.map_err(|_| Fallback::Sequential)?.map(|b| (b, 0));
    }
    finish(blocks.input, columns, path, layout)
}

/// The table of `columns` and the hash of the input, read to its end.
fn finish(
    input: Input,
    columns: Columns,
    path: &Path,
    layout: Layout,
) -> Result<Result<(Table, Option<String>), DataError>, Fallback> {
    let digest = input.finish().map_err(|_| Fallback::Sequential)?;
    Ok(columns
        .into_table(path, layout)
        .map(|table| (table, digest)))
}

/// The layout from the header record at the start of `bytes`, and where the data begins.
fn read_layout(
    bytes: &[u8],
    path: &Path,
    options: &ReadOptions,
) -> Result<(Layout, usize), Fallback> {
    let mut reader = csv_reader(bytes);
    let mut record = csv::ByteRecord::new();
    match read_record(&mut reader, &mut record, path, 0) {
        Ok(true) => {}
        _ => return Err(Fallback::Sequential),
    }
    let header = parse_header(&record, path).map_err(|_| Fallback::Sequential)?;
    let layout = Layout::new(&header, options, path).map_err(|_| Fallback::Sequential)?;
    let end = usize::try_from(reader.position().byte()).map_err(|_| Fallback::Sequential)?;
    Ok((layout, end.min(bytes.len())))
}

/// A run of whole lines of the decompressed file.
struct Block {
    bytes: Vec<u8>,
    /// Offset of the first byte in the decompressed file.
    start: u64,
}

/// Cuts the decompressed input into blocks that end right after a line break (or at the end).
struct Blocks {
    input: Input,
    /// Bytes read after the last line break of the previous block.
    carry: Vec<u8>,
    /// Offset of the next block.
    offset: u64,
    block_bytes: usize,
    exhausted: bool,
}

impl Blocks {
    fn new(input: Input, block_bytes: usize) -> Blocks {
        Blocks {
            input,
            carry: Vec::new(),
            offset: 0,
            block_bytes: block_bytes.max(1),
            exhausted: false,
        }
    }

    fn at_end(&self) -> bool {
        self.exhausted && self.carry.is_empty()
    }

    /// The next block, `None` at the end of the input.
    fn next(&mut self) -> io::Result<Option<Block>> {
        let mut bytes = std::mem::take(&mut self.carry);
        let mut target = self.block_bytes.max(bytes.len() + 1);
        loop {
            let mut filled = bytes.len();
            bytes.resize(target, 0);
            while !self.exhausted && filled < target {
                match self.input.read(&mut bytes[filled..]) {
                    Ok(0) => self.exhausted = true,
                    Ok(n) => filled += n,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            bytes.truncate(filled);
            if self.exhausted {
                break;
            }
            if let Some(last_break) = memchr::memrchr2(b'\n', b'\r', &bytes) {
                self.carry = bytes.split_off(last_break + 1);
                break;
            }
            // A line longer than a block: read on until it ends.
            target *= 2;
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        let start = self.offset;
        self.offset += bytes.len() as u64;
        Ok(Some(Block { bytes, start }))
    }
}

/// The first problem of a row, found by the parallel parser.
struct RowError {
    /// Offset of the row's first byte in the decompressed file.
    offset: u64,
    problem: RowProblem,
}

enum RowProblem {
    Ragged {
        found: usize,
    },
    Cell {
        index: usize,
        text: Vec<u8>,
        problem: CellProblem,
    },
    Split {
        index: usize,
        text: Vec<u8>,
    },
}

impl RowError {
    /// The error the sequential reader gives for the same row.
    fn into_error(self, path: &Path, line: u64, layout: &Layout) -> DataError {
        match self.problem {
            RowProblem::Ragged { found } => DataError::RaggedRow {
                path: path.to_owned(),
                line,
                expected: layout.roles.len(),
                found,
            },
            RowProblem::Cell {
                index,
                text,
                problem,
            } => layout.invalid_cell(path, line, index, &text, problem),
            RowProblem::Split { index, text } => layout.invalid_split(path, line, index, &text),
        }
    }
}

/// Parses the quote-free `data` (starting at offset `start`) in about `pieces` parallel pieces;
/// the pieces' results in file order.
fn parse_block(
    data: &[u8],
    start: u64,
    layout: &Layout,
    pieces: usize,
) -> Vec<Result<Columns, RowError>> {
    let bounds = piece_bounds(data, pieces);
    bounds
        .par_iter()
        .map(|&(from, to)| parse_piece(&data[from..to], start + from as u64, layout))
        .collect()
}

/// Cuts `data` into about `pieces` ranges that each end right after a line break (the last one
/// at the end of `data`).
fn piece_bounds(data: &[u8], pieces: usize) -> Vec<(usize, usize)> {
    let size = (data.len() / pieces.max(1)).max(MIN_PIECE_BYTES);
    let mut bounds = Vec::new();
    let mut from = 0;
    while from < data.len() {
        let aim = from.saturating_add(size);
        let to = if aim >= data.len() {
            data.len()
        } else {
            memchr::memchr2(b'\n', b'\r', &data[aim..]).map_or(data.len(), |i| aim + i + 1)
        };
        bounds.push((from, to));
        from = to;
    }
    bounds
}

/// Parses the quote-free lines of `bytes` (starting at offset `start`); stops at the first bad
/// row.
fn parse_piece(bytes: &[u8], start: u64, layout: &Layout) -> Result<Columns, RowError> {
    let n_columns = layout.roles.len();
    let mut out = Columns::default();
    let mut fields: Vec<&[u8]> = Vec::with_capacity(n_columns);
    let mut position = 0;
    while position < bytes.len() {
        let end =
            memchr::memchr2(b'\n', b'\r', &bytes[position..]).map_or(bytes.len(), |i| position + i);
        let line = &bytes[position..end];
        let offset = start + position as u64;
        position = end + 1;
        if line.is_empty() {
            continue;
        }
        fields.clear();
        fields.extend(line.split(|&b| b == b','));
        if fields.len() != n_columns {
            return Err(RowError {
                offset,
                problem: RowProblem::Ragged {
                    found: fields.len(),
                },
            });
        }
        for (index, field) in fields.iter().enumerate() {
            let cell_error = |problem| RowError {
                offset,
                problem: RowProblem::Cell {
                    index,
                    text: field.to_vec(),
                    problem,
                },
            };
            match layout.roles[index] {
                Role::Feature => out.values.push(parse_number(field).map_err(cell_error)?),
                Role::Label => out
                    .labels
                    .push(parse_number(field).map_err(cell_error)? != 0.0),
                Role::Split => {
                    let tag = SplitTag::parse_bytes(field).ok_or_else(|| RowError {
                        offset,
                        problem: RowProblem::Split {
                            index,
                            text: field.to_vec(),
                        },
                    })?;
                    out.tags.push(tag);
                }
                Role::Excluded => {}
            }
        }
        out.rows += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_table_sequential;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// The sequential reader's result as text (a table or the error message).
    fn outcome(result: Result<Table, DataError>) -> Result<Table, String> {
        result.map_err(|e| e.to_string())
    }

    /// Checks that the parallel reader, with blocks of every small size, agrees with the
    /// sequential reader on `text` (plain and gzip-compressed): same table or same message.
    fn agree(text: &str, options: &ReadOptions) -> Result<Table, String> {
        let dir = tempfile::tempdir().unwrap();
        let plain = write(&dir, "t.csv", text.as_bytes());
        let packed = write(&dir, "t.csv.gz", &gzip(text.as_bytes()));
        let expected = outcome(read_table_sequential(&plain, options));
        for path in [&plain, &packed] {
            let want = outcome(read_table_sequential(path, options));
            let digest = crate::data::sha256_file(path).unwrap();
            let short = 1..=text.len().min(64) + 1;
            let long = (66..=text.len() + 1).step_by(5);
            for block in short.chain(long).chain([BLOCK_BYTES]) {
                let got = read_blocks(path, options, true, block);
                let (table, hash) = match got {
                    Ok((table, hash)) => (Ok(table), hash),
                    Err(error) => (Err(error.to_string()), None),
                };
                assert_eq!(table, want, "block {block}, {}:\n{text:?}", path.display());
                if table.is_ok() {
                    assert_eq!(hash.as_deref(), Some(digest.as_str()));
                }
            }
        }
        expected
    }

    fn many_rows(rows: usize) -> String {
        let mut text = String::from("x,y,label\n");
        for i in 0..rows {
            let label = u8::from(i % 7 == 0);
            text.push_str(&format!("{i},-{i}.25,{label}\n"));
        }
        text
    }

    #[test]
    fn agrees_on_plain_rows_and_line_endings() {
        let options = ReadOptions::default();
        let table = agree("a,b,label\n1,2,0\n3,4.5,1\n", &options).unwrap();
        assert_eq!(table.features, ndarray::array![[1.0, 2.0], [3.0, 4.5]]);
        for ending in ["\n", "\r\n", "\r"] {
            let text = ["a,b,label", "1,2,0", "", "", "3, 4 ,1", "-5e-3,6,0"].join(ending);
            assert_eq!(agree(&text, &options).unwrap().n_rows(), 3);
            // With and without a final line break.
            assert_eq!(agree(&(text + ending), &options).unwrap().n_rows(), 3);
        }
        let table = agree("\n\r\na,label\r\n\r\n1,0\n\n", &options).unwrap();
        assert_eq!(table.n_rows(), 1);
    }

    #[test]
    fn agrees_on_quotes_anywhere() {
        let options = ReadOptions {
            exclude_columns: vec!["name".into()],
            ..ReadOptions::default()
        };
        let texts = [
            "\"name\",\"a\",\"label\"\n\"x\",1,0\ny,2,1\n",
            "name,a,label\nx,1,0\ny,2,1\n\"two\nlines\",3,0\nz,4,0\n",
            "name,a,label\nx,1,0\n\"q\"\"uote\",\"5\",1\nw,6,0",
            "name,\"a\nb\",label\nx,1,0\n",
        ];
        for text in texts {
            agree(text, &options).unwrap();
        }
        // A quote left open swallows the rest of the file into one field.
        let msg = agree("name,a,label\nx,1,0\n\"open,2,0\nz,3,0\n", &options).unwrap_err();
        assert!(msg.contains("line 3") && msg.contains("found 1"), "{msg}");
        let msg = agree("name,a,label\n\"t\nwo\",1,0\nx,y,0\n", &options).unwrap_err();
        assert!(
            msg.contains("line 4") && msg.contains("column `a`"),
            "{msg}"
        );
    }

    #[test]
    fn bad_rows_at_any_block_boundary_name_the_same_line() {
        let options = ReadOptions::default();
        let good = many_rows(40);
        let lines: Vec<&str> = good.lines().collect();
        for bad_line in [2, 17, 41] {
            for bad in [
                "1,x,0", "1,,0", "1,2", "1,2,0,4", "1,NaN,0", "1,2,yes", "1,inf,0",
            ] {
                let mut rows = lines.clone();
                rows[bad_line - 1] = bad;
                let msg = agree(&(rows.join("\r\n") + "\r\n"), &options).unwrap_err();
                assert!(msg.contains(&format!("line {bad_line}")), "{bad}: {msg}");
            }
        }
        // Two bad rows: the first one is reported.
        let mut rows = lines.clone();
        rows[30] = "1,bad,0";
        rows[10] = "1,2";
        let msg = agree(&rows.join("\n"), &options).unwrap_err();
        assert!(
            msg.contains("line 11") && msg.contains("expected 3"),
            "{msg}"
        );
    }

    #[test]
    fn agrees_on_split_columns_and_header_problems() {
        let options = ReadOptions::default();
        agree("a,label,split\n1,0,train\n2,0,VAL\n3,1,test", &options).unwrap();
        let msg = agree("a,label,split\n1,0,train\n1,0,holdout\n", &options).unwrap_err();
        assert!(msg.contains("line 3") && msg.contains("holdout"), "{msg}");
        for text in [
            "a,b\n",
            "1,2\n3,4\n",
            "a,a\n1,2\n",
            "\n\n",
            "label\n1\n",
            "\u{feff}a\n1\n",
        ] {
            agree(text, &options).ok();
        }
        let required = ReadOptions {
            require_label: true,
            ..ReadOptions::default()
        };
        assert!(agree("a,b\n1,2\n", &required).is_err());
    }

    #[test]
    fn blocks_are_parsed_in_pieces_in_file_order() {
        let text = many_rows(60_000);
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "big.csv", text.as_bytes());
        let options = ReadOptions::default();
        let want = read_table_sequential(&path, &options).unwrap();
        assert!(text.len() > 8 * MIN_PIECE_BYTES);
        for block in [MIN_PIECE_BYTES - 3, 3 * MIN_PIECE_BYTES + 5, BLOCK_BYTES] {
            let (got, _) = read_blocks(&path, &options, false, block).unwrap();
            assert_eq!(got, want);
        }
        let bounds = piece_bounds(text.as_bytes(), 8);
        assert!(bounds.len() > 1);
        assert!(bounds.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(bounds[..bounds.len() - 1]
            .iter()
            .all(|&(_, to)| text.as_bytes()[to - 1] == b'\n'));
    }

    #[test]
    fn corrupt_gzip_is_reported_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut packed = gzip(many_rows(2_000).as_bytes());
        let middle = packed.len() / 2;
        packed.truncate(middle);
        let path = write(&dir, "cut.csv.gz", &packed);
        let options = ReadOptions::default();
        let want = read_table_sequential(&path, &options)
            .unwrap_err()
            .to_string();
        for block in [100, BLOCK_BYTES] {
            let got = read_blocks(&path, &options, true, block).unwrap_err();
            assert_eq!(got.to_string(), want);
        }
    }
}
