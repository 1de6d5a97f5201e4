//! Reports computed from a run's journal: the per-unit summary (JSON and CSV), and the report
//! pages (`report.html`, one self-contained file; `report.md` with its charts as SVG files;
//! a CSV per table) of one run or of several runs compared.
//!
//! The pieces, in the order data flows:
//! * [`model`]: what a report shows, from run manifests and journals only;
//! * [`stats`], [`curves`], [`history`], [`effects`], [`comparison`]: the figures;
//! * [`refit`]: the selected models rebuilt (data checked by content hash) for their ROC and
//!   cost curves, with a cache for the rebuilds during a run;
//! * [`charts`]: the charts, drawn with [`crate::plot`];
//! * [`build`]: the sections of the page; [`compare`]: several runs in one report;
//!   [`zeroshot`]: the zero-shot evaluation's section;
//! * [`document`], [`html`], [`markdown`], [`files`]: the page as a value, its two renderings
//!   and the files written; [`escape`] and [`slug`]: text and file names from a run, made safe.
//!
//! ```no_run
//! use gmmtune::report::{build_run_report, ReportOptions};
//! let built = build_run_report(std::path::Path::new("reports/quickstart"), &ReportOptions::default(), None)?;
//! println!("{}", built.written.html.display());
//! # Ok::<(), gmmtune::report::ReportError>(())
//! ```

pub mod build;
pub mod charts;
pub mod compare;
pub mod comparison;
pub mod curves;
pub mod document;
pub mod effects;
pub mod escape;
pub mod files;
pub mod history;
pub mod html;
pub mod markdown;
pub mod model;
pub mod refit;
pub mod slug;
pub mod stats;
pub mod summary;
pub mod zeroshot;

use std::path::Path;

use thiserror::Error;

pub use build::{build_document, build_run_report, BuiltReport, ReportOptions};
pub use compare::{build_compare_report, compare_model};
pub use refit::CurveCache;

use crate::plot::PlotError;
use crate::run::RunError;

/// Errors building or writing a report.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A run directory could not be read.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A chart could not be drawn.
    #[error("chart {name}: {source}")]
    Plot {
        /// The chart.
        name: String,
        /// Why.
        #[source]
        source: PlotError,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Two charts or tables of one report got the same file name (a bug in the report code).
    #[error("two report files are named {0}")]
    Duplicate(String),
    /// Units finished but their trials are gone.
    #[error(
        "{dir}: {units_file} lists {units} finished unit(s) but {trials} is missing or empty, so the report cannot be rebuilt; restore the trial journal (a report committed without it is already complete and needs no rebuild)"
    )]
    MissingTrials {
        /// The run directory.
        dir: String,
        /// Finished units.
        units: usize,
        /// The trial journal.
        trials: String,
        /// The unit journal.
        units_file: String,
    },
    /// Runs that cannot be compared.
    #[error("these runs cannot be compared: {}", .0.join("; "))]
    Incomparable(Vec<String>),
    /// The zero-shot tables could not be read.
    #[error("{path}: {message}")]
    Zeroshot {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> ReportError {
        ReportError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}
