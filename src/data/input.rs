//! Opening a data file: gzip detection by magic bytes, and an optional SHA-256 of the file's
//! raw bytes computed while they are read, so a file is hashed and parsed in one pass.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::error::DataError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const READ_BUFFER: usize = 1 << 16;

/// A file's bytes, hashed as they are read when asked to.
pub(super) struct HashingFile {
    file: File,
    hasher: Option<Sha256>,
}

impl Read for HashingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The decompressed content of a data file.
pub(super) enum Input {
    /// A file without the gzip magic bytes, read as it is.
    Plain(BufReader<HashingFile>),
    /// A gzip file (one or more members).
    Gzip(Box<MultiGzDecoder<BufReader<HashingFile>>>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(reader) => reader.read(buf),
            Input::Gzip(reader) => reader.read(buf),
        }
    }
}

impl Input {
    /// Opens `path`; with `hash`, the raw bytes read are hashed for [`Input::finish`].
    ///
    /// A file that starts with the gzip magic bytes is decompressed (whatever its name); a file
    /// named `*.gz` without them is [`DataError::NotGzip`]; an empty file is
    /// [`DataError::EmptyFile`].
    pub(super) fn open(path: &Path, hash: bool) -> Result<Input, DataError> {
        let file = File::open(path).map_err(|source| DataError::opening(path, source))?;
        let hashing = HashingFile {
            file,
            hasher: hash.then(Sha256::new),
        };
        let mut buffered = BufReader::with_capacity(READ_BUFFER, hashing);
        let head = buffered.fill_buf().map_err(|source| DataError::Read {
            path: path.to_owned(),
            line: None,
            source,
        })?;
        if head.is_empty() {
            return Err(DataError::EmptyFile {
                path: path.to_owned(),
            });
        }
        let has_magic = head.len() >= 2 && head[..2] == GZIP_MAGIC;
        if has_magic {
            Ok(Input::Gzip(Box::new(MultiGzDecoder::new(buffered))))
        } else if has_gz_extension(path) {
            Err(DataError::NotGzip {
                path: path.to_owned(),
            })
        } else {
            Ok(Input::Plain(buffered))
        }
    }

    /// Reads the raw file to its end and returns the hex SHA-256 of all its bytes (`None` when
    /// the input was opened without hashing).
    pub(super) fn finish(self) -> io::Result<Option<String>> {
        let mut raw = match self {
            Input::Plain(reader) => reader,
            Input::Gzip(decoder) => decoder.into_inner(),
        };
        io::copy(&mut raw, &mut io::sink())?;
        Ok(raw.into_inner().hasher.map(|h| hex(&h.finalize())))
    }
}

fn has_gz_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"))
}

/// Lower-case hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// SHA-256 of a file's bytes, in hex.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "abc").unwrap();
/// assert_eq!(
///     gmmtune::data::sha256_file(&path).unwrap(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    let mut file = File::open(path).map_err(|e| DataError::opening(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| DataError::opening(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}
