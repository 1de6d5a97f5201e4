//! A binary cache of parsed tables, so a large CSV.gz is decompressed and parsed once and later
//! runs read its columns back.
//!
//! An entry is keyed by the SHA-256 of the data file's bytes and by the read options (label,
//! split and excluded columns) with the format version: `<sha256>-<options key>.gmmtable` in the
//! cache directory. Its header repeats the key, the shape and the column names, and a SHA-256
//! of everything before it closes the file. An entry is used only when all of it checks out
//! (magic, version, key, length, checksum, finite values, labels 0/1, known split tags);
//! anything else is ignored, the table is parsed from the data file and the entry rewritten.
//! Entries are written to a temporary file and renamed, so readers (other processes, shards)
//! never see half an entry.
//!
//! Layout (little-endian): magic `GMMTABLE`, version `u32`, data SHA-256 (32 bytes), options
//! key (32 bytes), rows `u64`, features `u64`, flags `u8` (1 = labels, 2 = split tags), per
//! feature name a `u32` length and its UTF-8 bytes, the features row-major as `f64`, a label
//! byte per row, a split tag byte per row, then the SHA-256 of all the bytes before it.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::Array2;
use sha2::{Digest, Sha256};

use super::error::DataError;
use super::fast_read::read_table_hashed;
use super::input::{hex, sha256_file};
use super::table::{ReadOptions, SplitTag, Table};

const MAGIC: &[u8; 8] = b"GMMTABLE";
const VERSION: u32 = 1;
const CHECKSUM_BYTES: u64 = 32;
const IO_CHUNK: usize = 1 << 20;

/// Data files smaller than this (on disk) are not cached by default: reading them is quick.
pub const DEFAULT_MIN_FILE_BYTES: u64 = 16 << 20;

/// Where parsed tables are cached, and from which file size on.
///
/// ```
/// use gmmtune::data::{load_table, CacheUse, ReadOptions, TableCache};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("toy.csv");
/// std::fs::write(&path, "a,label\n1,0\n2,1\n").unwrap();
/// let cache = TableCache::new(dir.path().join("cache")).with_min_file_bytes(0);
/// let options = ReadOptions::default();
/// let first = load_table(&path, &options, Some(&cache)).unwrap();
/// assert_eq!(first.cache, CacheUse::Written { replaced: None });
/// let again = load_table(&path, &options, Some(&cache)).unwrap();
/// assert_eq!(again.cache, CacheUse::Hit);
/// assert_eq!(again.table, first.table);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCache {
    dir: PathBuf,
    min_file_bytes: u64,
}

impl TableCache {
    /// A cache in `dir` (created when the first entry is written) for files of at least
    /// [`DEFAULT_MIN_FILE_BYTES`].
    pub fn new(dir: impl Into<PathBuf>) -> TableCache {
        TableCache {
            dir: dir.into(),
            min_file_bytes: DEFAULT_MIN_FILE_BYTES,
        }
    }

    /// The same cache for files of at least `bytes` on disk.
    pub fn with_min_file_bytes(self, bytes: u64) -> TableCache {
        TableCache {
            min_file_bytes: bytes,
            ..self
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry of the data with SHA-256 `sha256` read with `options`.
    pub fn entry_path(&self, sha256: &str, options: &ReadOptions) -> PathBuf {
        let key = hex(&options_key(options));
        self.dir.join(format!("{sha256}-{}.gmmtable", &key[..16]))
    }
}

/// What the cache did for one [`load_table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    /// No cache, or a file below the cache's size limit: parsed from the data file.
    Off,
    /// Read from the cache.
    Hit,
    /// Parsed from the data file and written to the cache; `replaced` says why an entry that was
    /// there was not used.
    Written {
        /// Why the previous entry was rejected, when there was one.
        replaced: Option<String>,
    },
    /// Parsed from the data file; the cache could not be written (the reason says why). The table
    /// is complete all the same.
    NotWritten {
        /// What went wrong.
        reason: String,
    },
}

/// A table with the SHA-256 of its file and what the cache did.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTable {
    /// The table: the same whether read from the cache or parsed.
    pub table: Table,
    /// Lower-case hex SHA-256 of the data file.
    pub sha256: String,
    /// Whether the cache was used.
    pub cache: CacheUse,
}

/// Reads a table through `cache`: from a valid entry for the file's content hash and `options`
/// when there is one, else from the file (writing the entry for next time).
///
/// The result is the same as [`read_table_hashed`]'s in every case; an error is always the data
/// file's (a broken cache entry is never an error).
pub fn load_table(
    path: &Path,
    options: &ReadOptions,
    cache: Option<&TableCache>,
) -> Result<LoadedTable, DataError> {
    let cache = match cache {
        Some(cache) if file_len(path)? >= cache.min_file_bytes => cache,
        _ => {
            let read = read_table_hashed(path, options)?;
            return Ok(LoadedTable {
                table: read.table,
                sha256: read.sha256,
                cache: CacheUse::Off,
            });
        }
    };
    let sha256 = sha256_file(path)?;
    let entry = cache.entry_path(&sha256, options);
    let replaced = match read_entry(&entry, &sha256, options, path) {
        Ok(table) => {
            return Ok(LoadedTable {
                table,
                sha256,
                cache: CacheUse::Hit,
            });
        }
        Err(EntryProblem::Missing) => None,
        Err(EntryProblem::Invalid(reason)) => Some(reason),
    };
    let read = read_table_hashed(path, options)?;
    let outcome = if read.sha256 != sha256 {
        CacheUse::NotWritten {
            reason: "the data file changed while it was read".to_owned(),
        }
    } else {
        match write_entry(&entry, &read.table, &sha256, options) {
            Ok(()) => CacheUse::Written { replaced },
            Err(error) => CacheUse::NotWritten {
                reason: format!("{}: {error}", entry.display()),
            },
        }
    };
    Ok(LoadedTable {
        table: read.table,
        sha256: read.sha256,
        cache: outcome,
    })
}

fn file_len(path: &Path) -> Result<u64, DataError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|source| DataError::opening(path, source))
}

/// The key of the read options (with the format version) in an entry.
fn options_key(options: &ReadOptions) -> [u8; 32] {
    let text = serde_json::to_string(options).expect("read options serialise");
    let mut hasher = Sha256::new();
    hasher.update(VERSION.to_le_bytes());
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

fn raw_sha256(sha256: &str) -> Option<[u8; 32]> {
    if sha256.len() != 64 {
        return None;
    }
    let mut raw = [0u8; 32];
    for (i, byte) in raw.iter_mut().enumerate() {
        *byte = u8::from_str_radix(sha256.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(raw)
}

const LABELS: u8 = 1;
const SPLIT: u8 = 2;

fn tag_byte(tag: SplitTag) -> u8 {
    match tag {
        SplitTag::Train => 0,
        SplitTag::Validation => 1,
        SplitTag::Test => 2,
    }
}

fn byte_tag(byte: u8) -> Option<SplitTag> {
    match byte {
        0 => Some(SplitTag::Train),
        1 => Some(SplitTag::Validation),
        2 => Some(SplitTag::Test),
        _ => None,
    }
}

/// Why an entry is not used.
#[derive(Debug)]
enum EntryProblem {
    /// There is none.
    Missing,
    /// It is there but not valid for this data.
    Invalid(String),
}

fn invalid(reason: impl Into<String>) -> EntryProblem {
    EntryProblem::Invalid(reason.into())
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    fn exact(&mut self, buf: &mut [u8]) -> Result<(), EntryProblem> {
        self.inner
            .read_exact(buf)
            .map_err(|e| invalid(format!("cannot read the entry: {e}")))?;
        self.hasher.update(&*buf);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EntryProblem> {
        let mut buf = [0u8; N];
        self.exact(&mut buf)?;
        Ok(buf)
    }

    fn u64(&mut self) -> Result<u64, EntryProblem> {
        self.array().map(u64::from_le_bytes)
    }
}

/// Reads and checks the entry at `entry`.
fn read_entry(
    entry: &Path,
    sha256: &str,
    options: &ReadOptions,
    source: &Path,
) -> Result<Table, EntryProblem> {
    let file = match File::open(entry) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(EntryProblem::Missing),
        Err(e) => return Err(invalid(format!("cannot open the entry: {e}"))),
    };
    let length = file
        .metadata()
        .map_err(|e| invalid(format!("cannot read the entry: {e}")))?
        .len();
    let mut reader = Hashing {
        inner: BufReader::with_capacity(IO_CHUNK, file),
        hasher: Sha256::new(),
    };
    if &reader.array::<8>()? != MAGIC {
        return Err(invalid("not a gmmtune table cache entry"));
    }
    let version = u32::from_le_bytes(reader.array()?);
    if version != VERSION {
        return Err(invalid(format!(
            "format version {version}, expected {VERSION}"
        )));
    }
    if Some(reader.array::<32>()?) != raw_sha256(sha256) {
        return Err(invalid("the entry is of other data"));
    }
    if reader.array::<32>()? != options_key(options) {
        return Err(invalid("the entry is of other read options"));
    }
    let rows = reader.u64()?;
    let features = reader.u64()?;
    let flags = reader.array::<1>()?[0];
    if rows == 0 || features == 0 || flags & !(LABELS | SPLIT) != 0 {
        return Err(invalid("bad shape or flags"));
    }
    let per_row = |flag: u8| if flags & flag != 0 { rows } else { 0 };
    let mut header_bytes = 8 + 4 + 32 + 32 + 8 + 8 + 1;
    let mut names = Vec::new();
    for _ in 0..features {
        let len = u64::from(u32::from_le_bytes(reader.array()?));
        header_bytes += 4 + len;
        if header_bytes > length {
            return Err(invalid("the entry is cut short"));
        }
        let mut name = vec![0u8; len as usize];
        reader.exact(&mut name)?;
        names.push(String::from_utf8(name).map_err(|_| invalid("a column name is not UTF-8"))?);
    }
    let expected = rows
        .checked_mul(features)
        .and_then(|n| n.checked_mul(8))
        .and_then(|n| n.checked_add(per_row(LABELS) + per_row(SPLIT)))
        .and_then(|n| n.checked_add(header_bytes + CHECKSUM_BYTES));
    if expected != Some(length) {
        return Err(invalid(format!(
            "{length} bytes, expected {} for its header",
            expected.map_or("more".to_owned(), |n| n.to_string())
        )));
    }
    let n_values = (rows * features) as usize;
    let mut values = Vec::with_capacity(n_values);
    let mut chunk = vec![0u8; IO_CHUNK];
    while values.len() < n_values {
        let take = ((n_values - values.len()) * 8).min(IO_CHUNK);
        reader.exact(&mut chunk[..take])?;
        for bytes in chunk[..take].chunks_exact(8) {
            let value = f64::from_le_bytes(bytes.try_into().expect("8 bytes"));
            if !value.is_finite() {
                return Err(invalid("a value is not finite"));
            }
            values.push(value);
        }
    }
    let mut row_bytes = |flag: u8| -> Result<Option<Vec<u8>>, EntryProblem> {
        if flags & flag == 0 {
            return Ok(None);
        }
        let mut bytes = vec![0u8; rows as usize];
        reader.exact(&mut bytes)?;
        Ok(Some(bytes))
    };
    let labels = row_bytes(LABELS)?
        .map(|bytes| {
            bytes
                .into_iter()
                .map(|b| match b {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(invalid("a label byte is not 0 or 1")),
                })
                .collect::<Result<Vec<bool>, _>>()
        })
        .transpose()?;
    let split = row_bytes(SPLIT)?
        .map(|bytes| {
            bytes
                .into_iter()
                .map(|b| byte_tag(b).ok_or_else(|| invalid("a split tag byte is unknown")))
                .collect::<Result<Vec<SplitTag>, _>>()
        })
        .transpose()?;
    let computed: [u8; 32] = reader.hasher.finalize_reset().into();
    let mut stored = [0u8; 32];
    reader
        .inner
        .read_exact(&mut stored)
        .map_err(|e| invalid(format!("cannot read the entry: {e}")))?;
    if stored != computed {
        return Err(invalid("checksum mismatch (the entry is corrupt)"));
    }
    let features = Array2::from_shape_vec((rows as usize, features as usize), values)
        .map_err(|_| invalid("bad shape"))?;
    Ok(Table {
        source: source.display().to_string(),
        feature_names: names,
        features,
        labels,
        split,
    })
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }
}

/// Writes the entry of `table` to `entry` (through a temporary file renamed into place).
fn write_entry(entry: &Path, table: &Table, sha256: &str, options: &ReadOptions) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = entry.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = entry.with_extension(format!(
        "tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_entry_to(&temporary, table, sha256, options)
        .and_then(|()| std::fs::rename(&temporary, entry));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn write_entry_to(
    path: &Path,
    table: &Table,
    sha256: &str,
    options: &ReadOptions,
) -> io::Result<()> {
    let raw = raw_sha256(sha256)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad SHA-256 text"))?;
    let mut out = HashingWriter {
        inner: BufWriter::with_capacity(IO_CHUNK, File::create(path)?),
        hasher: Sha256::new(),
    };
    let flags = if table.labels.is_some() { LABELS } else { 0 }
        | if table.split.is_some() { SPLIT } else { 0 };
    out.put(MAGIC)?;
    out.put(&VERSION.to_le_bytes())?;
    out.put(&raw)?;
    out.put(&options_key(options))?;
    out.put(&(table.n_rows() as u64).to_le_bytes())?;
    out.put(&(table.n_features() as u64).to_le_bytes())?;
    out.put(&[flags])?;
    for name in &table.feature_names {
        let len = u32::try_from(name.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "column name too long"))?;
        out.put(&len.to_le_bytes())?;
        out.put(name.as_bytes())?;
    }
    let mut chunk = Vec::with_capacity(IO_CHUNK);
    for value in table.features.iter() {
        chunk.extend_from_slice(&value.to_le_bytes());
        if chunk.len() == IO_CHUNK {
            out.put(&chunk)?;
            chunk.clear();
        }
    }
    out.put(&chunk)?;
    if let Some(labels) = &table.labels {
        let bytes: Vec<u8> = labels.iter().map(|&a| u8::from(a)).collect();
        out.put(&bytes)?;
    }
    if let Some(split) = &table.split {
        let bytes: Vec<u8> = split.iter().map(|&t| tag_byte(t)).collect();
        out.put(&bytes)?;
    }
    let checksum: [u8; 32] = out.hasher.finalize_reset().into();
    out.inner.write_all(&checksum)?;
    out.inner
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(text: &str) -> (tempfile::TempDir, PathBuf, TableCache) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        std::fs::write(&path, text).unwrap();
        let cache = TableCache::new(dir.path().join("cache")).with_min_file_bytes(0);
        (dir, path, cache)
    }

    const TEXT: &str = "a,b,label,split\n1,2.5,0,train\n-3e2,4,1,val\n0.1,0.2,0,test\n";

    #[test]
    fn an_entry_gives_back_the_same_table() {
        let (_dir, path, cache) = setup(TEXT);
        let options = ReadOptions::default();
        let parsed = crate::data::read_table_hashed(&path, &options).unwrap();
        let first = load_table(&path, &options, Some(&cache)).unwrap();
        assert_eq!(first.cache, CacheUse::Written { replaced: None });
        let entry = cache.entry_path(&parsed.sha256, &options);
        assert!(entry.exists());
        let hit = load_table(&path, &options, Some(&cache)).unwrap();
        assert_eq!(hit.cache, CacheUse::Hit);
        assert_eq!(hit.table, parsed.table);
        assert_eq!(hit.sha256, parsed.sha256);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);
    }

    #[test]
    fn entries_depend_on_content_and_options() {
        let (_dir, path, cache) = setup(TEXT);
        let options = ReadOptions::default();
        load_table(&path, &options, Some(&cache)).unwrap();
        let other = ReadOptions {
            label_column: None,
            ..ReadOptions::default()
        };
        let read = load_table(&path, &other, Some(&cache)).unwrap();
        assert_eq!(read.cache, CacheUse::Written { replaced: None });
        assert_eq!(read.table.feature_names, ["a", "b", "label"]);
        std::fs::write(&path, TEXT.replace("2.5", "2.75")).unwrap();
        let changed = load_table(&path, &options, Some(&cache)).unwrap();
        assert_eq!(changed.cache, CacheUse::Written { replaced: None });
        assert_eq!(changed.table.features[[0, 1]], 2.75);
    }

    #[test]
    fn a_broken_entry_is_ignored_and_rewritten() {
        let (_dir, path, cache) = setup(TEXT);
        let options = ReadOptions::default();
        let good = load_table(&path, &options, Some(&cache)).unwrap();
        let entry = cache.entry_path(&good.sha256, &options);
        let bytes = std::fs::read(&entry).unwrap();
        let value_at = bytes.len() - 32 - 6 - 8 * 6;
        let mut cases: Vec<(Vec<u8>, &str)> = vec![
            (bytes[..bytes.len() - 1].to_vec(), "expected"),
            ([bytes.as_slice(), b"x"].concat(), "expected"),
            (Vec::new(), "cannot read"),
            (b"GMMTABLX".to_vec(), "not a gmmtune"),
        ];
        let mut flipped = bytes.clone();
        flipped[value_at] ^= 1;
        cases.push((flipped, "checksum"));
        let mut version = bytes.clone();
        version[8] = 9;
        cases.push((version, "version"));
        let mut key = bytes.clone();
        key[12] ^= 0xff;
        cases.push((key, "other data"));
        let mut rows = bytes.clone();
        rows[76 + 7] = 0x7f;
        cases.push((rows, "expected"));
        let mut nan = bytes.clone();
        nan[value_at..value_at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
        cases.push((nan, "not finite"));
        for (broken, why) in cases {
            std::fs::write(&entry, &broken).unwrap();
            let read = load_table(&path, &options, Some(&cache)).unwrap();
            match &read.cache {
                CacheUse::Written {
                    replaced: Some(reason),
                } => assert!(reason.contains(why), "{why}: {reason}"),
                other => panic!("{why}: {other:?}"),
            }
            assert_eq!(read.table, good.table);
            assert_eq!(std::fs::read(&entry).unwrap(), bytes, "{why}");
        }
    }

    #[test]
    fn small_files_and_no_cache_read_directly() {
        let (_dir, path, cache) = setup(TEXT);
        let options = ReadOptions::default();
        let big_only = cache.clone().with_min_file_bytes(1 << 20);
        let read = load_table(&path, &options, Some(&big_only)).unwrap();
        assert_eq!(read.cache, CacheUse::Off);
        assert!(!cache.dir().exists());
        assert_eq!(load_table(&path, &options, None).unwrap().table, read.table);
    }

    #[test]
    fn errors_are_the_data_files_and_an_unwritable_cache_is_reported() {
        let (dir, path, cache) = setup("a,label\n1,0\nx,0\n");
        let err = load_table(&path, &ReadOptions::default(), Some(&cache)).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        std::fs::write(&path, TEXT).unwrap();
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, "").unwrap();
        let cache = TableCache::new(&blocked).with_min_file_bytes(0);
        let read = load_table(&path, &ReadOptions::default(), Some(&cache)).unwrap();
        assert!(
            matches!(read.cache, CacheUse::NotWritten { .. }),
            "{read:?}"
        );
        assert_eq!(read.table.n_rows(), 3);
    }
}
