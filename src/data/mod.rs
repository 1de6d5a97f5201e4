//! The data layer: reading CSV / CSV.gz tables, the dataset registry, splits and
//! standardisation.
//!
//! A dataset goes through three plain steps:
//! 1. [`read_table`] (or [`Registry::read`]) turns a file into a [`Table`] of features, labels
//!    and optional split tags, with errors that name the file, line and column;
//! 2. [`prepare`] splits it by a [`Protocol`] ([`SplitMethod`] + [`TrainOn`]) into train,
//!    validation and test [`Part`]s;
//! 3. the same call fits a [`Standardizer`] on the fit rows (train normal rows by default) and
//!    applies it to every part, giving a [`Prepared`] dataset.
//!
//! ```
//! use gmmtune::data::{prepare, read_table, Protocol, ReadOptions, SplitMethod, TrainOn};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("series.csv");
//! let mut text = String::from("time,value,label\n");
//! for i in 0..20 {
//!     text.push_str(&format!("{i},{},{}\n", i % 5, u8::from(i >= 17)));
//! }
//! std::fs::write(&path, text).unwrap();
//! let options = ReadOptions { exclude_columns: vec!["time".into()], ..ReadOptions::default() };
//! let table = read_table(&path, &options).unwrap();
//! let protocol = Protocol {
//!     split: SplitMethod::Ordered { train_end: 10, validation_end: 15 },
//!     train_on: TrainOn::Normal,
//! };
//! let prepared = prepare(&table, "series", &protocol, 0).unwrap();
//! assert_eq!(prepared.fit_rows.dim(), (10, 1));
//! assert_eq!(prepared.test.n_anomalies(), 3);
//! ```

mod cache;
mod error;
mod fast_read;
mod input;
mod prepare;
mod registry;
mod split;
mod standardize;
mod table;

pub use cache::{load_table, CacheUse, LoadedTable, TableCache, DEFAULT_MIN_FILE_BYTES};
pub use error::{CellProblem, DataError, PartName};
pub use fast_read::{read_table_hashed, HashedTable};
pub use input::sha256_file;
pub use prepare::{prepare, Part, Prepared, Protocol, TrainOn};
pub use registry::{DatasetEntry, Registry, REGISTRY_ENV, REGISTRY_RELATIVE_PATH};
pub use split::{
    stratified_counts, SplitIndices, SplitMethod, DEFAULT_TRAIN_FRACTION,
    DEFAULT_VALIDATION_FRACTION,
};
pub use standardize::Standardizer;
pub use table::{read_header, read_table, read_table_sequential, ReadOptions, SplitTag, Table};
