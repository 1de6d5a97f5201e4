//! Writing a report into a directory: `report.html`, `report.md`, `plots/NAME.svg` per chart
//! and `tables/NAME.csv` per table. Each file is written to a temporary name and renamed, so a
//! browser reloading the page during a run never reads half a file; charts and tables of an
//! earlier build that the new one no longer has are removed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::document::{Block, Document, Table};
use super::{html, markdown, ReportError};

/// The HTML page.
pub const HTML_FILE: &str = "report.html";
/// The Markdown page.
pub const MARKDOWN_FILE: &str = "report.md";
/// Directory of the charts, beside the pages.
pub const PLOTS_DIR: &str = "plots";
/// Directory of the tables' CSV files, beside the pages.
pub const TABLES_DIR: &str = "tables";

/// What [`write_document`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The HTML page.
    pub html: PathBuf,
    /// The Markdown page.
    pub markdown: PathBuf,
    /// Charts written.
    pub charts: usize,
    /// Tables written.
    pub tables: usize,
    /// Size of the HTML page in bytes.
    pub html_bytes: usize,
}

/// Writes `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| ReportError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ReportError::io(path, e))
}

fn collect<'a>(
    blocks: &'a [Block],
    charts: &mut Vec<&'a crate::plot::NamedSvg>,
    tables: &mut Vec<&'a Table>,
) {
    for block in blocks {
        match block {
            Block::Table(t) => tables.push(t),
            Block::Charts(c) => charts.extend(c.iter()),
            Block::Group { blocks, .. } => collect(blocks, charts, tables),
            _ => {}
        }
    }
}

/// Writes a table as CSV (header = its columns, cells = their raw values).
pub fn write_csv(path: &Path, table: &Table) -> Result<(), ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::io(path, e);
    writer.write_record(&table.columns).map_err(err)?;
    for row in &table.rows {
        writer
            .write_record(row.iter().map(|c| c.raw.as_str()))
            .map_err(err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ReportError::io(path, e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Removes the files with extension `ext` in `dir` whose stems are not in `keep`.
fn remove_stale(dir: &Path, ext: &str, keep: &HashSet<String>) -> Result<(), ReportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| ReportError::io(dir, e))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some(ext) {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if !keep.contains(&stem) {
            std::fs::remove_file(&path).map_err(|e| ReportError::io(&path, e))?;
        }
    }
    Ok(())
}

/// Writes `doc` into `dir` (created if needed).
///
/// # Errors
/// [`ReportError::Io`] naming the file that could not be written.
pub fn write_document(dir: &Path, doc: &Document) -> Result<Written, ReportError> {
    let plots = dir.join(PLOTS_DIR);
    let tables_dir = dir.join(TABLES_DIR);
    for d in [dir, plots.as_path(), tables_dir.as_path()] {
        std::fs::create_dir_all(d).map_err(|e| ReportError::io(d, e))?;
    }
    let mut charts = Vec::new();
    let mut tables = Vec::new();
    for s in &doc.sections {
        collect(&s.blocks, &mut charts, &mut tables);
    }
    let mut chart_names = HashSet::new();
    for chart in &charts {
        if !chart_names.insert(chart.name.clone()) {
            return Err(ReportError::Duplicate(format!("chart {}", chart.name)));
        }
        write_atomic(
            &plots.join(format!("{}.svg", chart.name)),
            chart.svg.as_bytes(),
        )?;
    }
    let mut table_names = HashSet::new();
    for table in &tables {
        if !table_names.insert(table.name.clone()) {
            return Err(ReportError::Duplicate(format!("table {}", table.name)));
        }
        write_csv(&tables_dir.join(format!("{}.csv", table.name)), table)?;
    }
    remove_stale(&plots, "svg", &chart_names)?;
    remove_stale(&tables_dir, "csv", &table_names)?;
    let page = html::render(doc);
    let html_path = dir.join(HTML_FILE);
    write_atomic(&html_path, page.as_bytes())?;
    let md_path = dir.join(MARKDOWN_FILE);
    write_atomic(&md_path, markdown::render(doc).as_bytes())?;
    Ok(Written {
        html: html_path,
        markdown: md_path,
        charts: charts.len(),
        tables: tables.len(),
        html_bytes: page.len(),
    })
}
