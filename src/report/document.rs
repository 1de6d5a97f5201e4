//! A report as a value: sections of paragraphs, tables, charts and groups, rendered the same
//! way to HTML ([`super::html`]) and Markdown ([`super::markdown`]), with a CSV file per table
//! and an SVG file per chart ([`super::files`]).
//!
//! Texts are stored raw: each renderer escapes them for its format, so a name taken from a run
//! never reaches a page as markup.

use crate::plot::NamedSvg;

/// A whole report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// Page title.
    pub title: String,
    /// Lines under the title (what the report is of, when it was built).
    pub subtitle: Vec<String>,
    /// Sections, in order; each gets an entry in the table of contents.
    pub sections: Vec<Section>,
}

/// One section with an anchor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// HTML id and anchor (a slug).
    pub id: String,
    /// Heading.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

impl Section {
    /// An empty section.
    pub fn new(id: &str, title: &str) -> Section {
        Section {
            id: id.to_string(),
            title: title.to_string(),
            blocks: Vec::new(),
        }
    }

    /// Adds a block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }
}

/// How a paragraph is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Plain text.
    Plain,
    /// Something missing or to be careful about (a data file gone, an unfinished run).
    Warning,
}

/// A piece of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph of text.
    Paragraph(String, Tone),
    /// A bulleted list.
    List(Vec<String>),
    /// Preformatted text (a config).
    Code(String),
    /// A table (also written as CSV).
    Table(Table),
    /// Charts side by side (each also written as SVG).
    Charts(Vec<NamedSvg>),
    /// A titled group that a reader may fold away (a dataset's details).
    Group {
        /// Anchor of the group (a slug).
        id: String,
        /// Its heading.
        title: String,
        /// Whether it is unfolded when the page opens.
        open: bool,
        /// Its content.
        blocks: Vec<Block>,
    },
}

impl Block {
    /// A plain paragraph.
    pub fn text(text: impl Into<String>) -> Block {
        Block::Paragraph(text.into(), Tone::Plain)
    }

    /// A warning paragraph.
    pub fn warning(text: impl Into<String>) -> Block {
        Block::Paragraph(text.into(), Tone::Warning)
    }
}

/// A table with a name (its CSV file stem), a caption, column headers and rows of cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// File stem of its CSV (a slug).
    pub name: String,
    /// Caption.
    pub caption: String,
    /// Column headers (also the CSV header).
    pub columns: Vec<String>,
    /// Rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table.
    pub fn new(name: &str, caption: &str, columns: &[&str]) -> Table {
        Table {
            name: name.to_string(),
            caption: caption.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    ///
    /// # Panics
    /// If the row has not one cell per column (a bug in the code building the table).
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "table {}: a row of {} cells for {} columns",
            self.name,
            row.len(),
            self.columns.len()
        );
        self.rows.push(row);
    }
}

/// One table cell: what the page shows and what the CSV holds (full precision, no units).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Shown on the page.
    pub shown: String,
    /// Written to the CSV.
    pub raw: String,
    /// Right-aligned (numbers).
    pub numeric: bool,
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            shown: text.clone(),
            raw: text,
            numeric: false,
        }
    }

    /// A number shown with `decimals` decimals, written in full; empty when missing.
    pub fn number(value: Option<f64>, decimals: usize) -> Cell {
        match value {
            Some(v) if v.is_finite() => Cell {
                shown: format!("{v:.decimals$}"),
                raw: v.to_string(),
                numeric: true,
            },
            Some(v) => Cell {
                shown: v.to_string(),
                raw: v.to_string(),
                numeric: true,
            },
            None => Cell {
                shown: "–".into(),
                raw: String::new(),
                numeric: true,
            },
        }
    }

    /// A number with `significant` significant digits ([`crate::plot::format_value`]),
    /// written in full; empty when missing.
    pub fn value(value: Option<f64>, significant: usize) -> Cell {
        let mut cell = Cell::number(value, 0);
        if let Some(v) = value.filter(|v| v.is_finite()) {
            cell.shown = crate::plot::format_value(v, significant);
        }
        cell
    }

    /// A count.
    pub fn count(n: usize) -> Cell {
        Cell {
            shown: n.to_string(),
            raw: n.to_string(),
            numeric: true,
        }
    }

    /// A number with its spread: `mean ± sd` on the page; the CSV gets the mean (the spread has
    /// a column of its own where a table needs it).
    pub fn mean_sd(mean: Option<f64>, sd: Option<f64>, decimals: usize) -> Cell {
        let mut cell = Cell::number(mean, decimals);
        if let (Some(_), Some(sd)) = (mean, sd)
            && sd.is_finite()
        {
            cell.shown = format!("{} ± {sd:.decimals$}", cell.shown);
        }
        cell
    }

    /// A shown text with a different CSV value.
    pub fn with_raw(shown: impl Into<String>, raw: impl Into<String>, numeric: bool) -> Cell {
        Cell {
            shown: shown.into(),
            raw: raw.into(),
            numeric,
        }
    }
}
