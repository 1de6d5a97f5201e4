//! The report as one self-contained HTML page: charts inline as SVG, styles inline, no
//! scripts, fonts or images from anywhere, so it opens offline and from a mail attachment.
//!
//! The markup is also well-formed XML (void elements closed, attributes quoted), which the
//! tests check with an XML parser; every text from a run goes through [`escape::html`].

use std::fmt::Write as _;

use super::document::{Block, Cell, Document, Table, Tone};
use super::escape::html as esc;
use super::files::{PLOTS_DIR, TABLES_DIR};

/// Styles of the page (system fonts only; readable printed in grey).
const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0; color: #1e1e1e; background: #fff; line-height: 1.45; }
header, nav, main { max-width: 1560px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 18px; }
h1 { font-size: 1.7em; margin: 0.2em 0; }
h2 { font-size: 1.35em; margin-top: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: 0.15em; }
h3 { font-size: 1.1em; }
.sub { color: #555; margin: 0.1em 0; }
nav ol { columns: 3 16em; padding-left: 1.4em; margin: 0.6em 0; }
nav a, a { color: #0b5394; }
section { content-visibility: auto; contain-intrinsic-size: auto 900px; }
p.warning { background: #fff4d6; border-left: 5px solid #b27b00; padding: 6px 10px; }
pre { background: #f5f5f5; padding: 10px; overflow-x: auto; font-size: 0.85em; max-height: 28em; }
.table-wrap { overflow-x: auto; margin: 0.6em 0 0.2em; }
table { border-collapse: collapse; font-size: 0.86em; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #d0d0d0; padding: 3px 7px; vertical-align: top; }
th { background: #ececec; text-align: left; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #f7f7f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.files { font-size: 0.8em; margin: 0 0 1em; color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
figure.plot { margin: 6px 0; }
figure.plot svg { display: block; max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figure.plot figcaption { font-size: 0.78em; color: #555; }
details { border: 1px solid #ddd; border-radius: 4px; padding: 4px 10px; margin: 8px 0; }
details > summary { cursor: pointer; font-weight: 600; font-size: 1.05em; }
@media print { section { content-visibility: visible; } th { position: static; } }
"#;

/// Renders `doc` as a complete HTML page.
///
/// ```
/// use gmmtune::report::document::{Block, Document, Section};
/// use gmmtune::report::html::render;
/// let mut section = Section::new("datasets", "Datasets");
/// section.push(Block::text("<script>alert(1)</script>"));
/// let doc = Document { title: "run".into(), subtitle: vec![], sections: vec![section] };
/// let page = render(&doc);
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"));
/// ```
pub fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(1 << 20);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<meta name=\"generator\" content=\"gmmtune\"/>\n",
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&doc.title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", esc(&doc.title));
    for line in &doc.subtitle {
        let _ = writeln!(out, "<p class=\"sub\">{}</p>", esc(line));
    }
    out.push_str("</header>\n<nav>\n<ol>\n");
    for s in &doc.sections {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            esc(&s.id),
            esc(&s.title)
        );
    }
    out.push_str("</ol>\n</nav>\n<main>\n");
    for s in &doc.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            esc(&s.id),
            esc(&s.title)
        );
        for block in &s.blocks {
            render_block(&mut out, block);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(text, tone) => {
            let class = match tone {
                Tone::Plain => "",
                Tone::Warning => " class=\"warning\"",
            };
            let _ = writeln!(out, "<p{class}>{}</p>", esc(text));
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                let _ = writeln!(out, "<li>{}</li>", esc(item));
            }
            out.push_str("</ul>\n");
        }
        Block::Code(text) => {
            let _ = writeln!(out, "<pre>{}</pre>", esc(text));
        }
        Block::Table(table) => render_table(out, table),
        Block::Charts(charts) => {
            out.push_str("<div class=\"charts\">\n");
            for chart in charts {
                let _ = writeln!(
                    out,
                    "<figure class=\"plot\" id=\"plot-{}\">\n{}\n<figcaption><a href=\"{PLOTS_DIR}/{}.svg\">{}.svg</a></figcaption>\n</figure>",
                    esc(&chart.name),
                    svg_body(&chart.svg),
                    esc(&chart.name),
                    esc(&chart.name)
                );
            }
            out.push_str("</div>\n");
        }
        Block::Group {
            id,
            title,
            open,
            blocks,
        } => {
            let _ = writeln!(
                out,
                "<details id=\"{}\"{}>\n<summary>{}</summary>",
                esc(id),
                if *open { " open=\"open\"" } else { "" },
                esc(title)
            );
            for b in blocks {
                render_block(out, b);
            }
            out.push_str("</details>\n");
        }
    }
}

/// The SVG element of a standalone SVG document (without an XML declaration, if any).
fn svg_body(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(at) => svg[at..].trim_end(),
        None => svg.trim_end(),
    }
}

fn render_table(out: &mut String, table: &Table) {
    out.push_str("<div class=\"table-wrap\">\n<table>\n");
    let _ = writeln!(out, "<caption>{}</caption>", esc(&table.caption));
    out.push_str("<thead><tr>");
    for c in &table.columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            render_cell(out, cell);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    let _ = writeln!(
        out,
        "<p class=\"files\"><a href=\"{TABLES_DIR}/{}.csv\">{}.csv</a> ({} rows)</p>",
        esc(&table.name),
        esc(&table.name),
        table.rows.len()
    );
}

fn render_cell(out: &mut String, cell: &Cell) {
    if cell.numeric {
        let _ = write!(out, "<td class=\"num\">{}</td>", esc(&cell.shown));
    } else {
        let _ = write!(out, "<td>{}</td>", esc(&cell.shown));
    }
}
