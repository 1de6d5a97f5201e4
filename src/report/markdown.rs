//! The report as Markdown, with the charts beside it as SVG files (`plots/NAME.svg`) and each
//! table's CSV linked (`tables/NAME.csv`). Every text from a run goes through
//! [`escape::markdown`](super::escape::markdown).

use std::fmt::Write as _;

use super::document::{Block, Document, Table, Tone};
use super::escape::{markdown as esc, markdown_fence};
use super::files::{PLOTS_DIR, TABLES_DIR};

/// Renders `doc` as Markdown.
///
/// ```
/// use gmmtune::report::document::{Block, Document, Section};
/// use gmmtune::report::markdown::render;
/// let mut section = Section::new("datasets", "Datasets");
/// section.push(Block::text("a | b"));
/// let doc = Document { title: "run".into(), subtitle: vec![], sections: vec![section] };
/// assert!(render(&doc).contains("a \\| b"));
/// ```
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", esc(&doc.title));
    for line in &doc.subtitle {
        let _ = writeln!(out, "{}  ", esc(line));
    }
    out.push('\n');
    for s in &doc.sections {
        let _ = writeln!(out, "- [{}](#{})", esc(&s.title), s.id);
    }
    out.push('\n');
    for s in &doc.sections {
        let _ = writeln!(out, "<a id=\"{}\"></a>\n\n## {}\n", s.id, esc(&s.title));
        for block in &s.blocks {
            render_block(&mut out, block, 3);
        }
    }
    out
}

fn render_block(out: &mut String, block: &Block, level: usize) {
    match block {
        Block::Paragraph(text, Tone::Plain) => {
            let _ = writeln!(out, "{}\n", esc(text));
        }
        Block::Paragraph(text, Tone::Warning) => {
            let _ = writeln!(out, "> **Note:** {}\n", esc(text));
        }
        Block::List(items) => {
            for item in items {
                let _ = writeln!(out, "- {}", esc(item));
            }
            out.push('\n');
        }
        Block::Code(text) => {
            let fence = markdown_fence(text);
            let clean: String = text
                .chars()
                .map(|c| {
                    if (c as u32) < 0x20 && c != '\n' && c != '\t' {
                        '\u{fffd}'
                    } else {
                        c
                    }
                })
                .collect();
            let _ = writeln!(out, "{fence}\n{}\n{fence}\n", clean.trim_end());
        }
        Block::Table(table) => render_table(out, table),
        Block::Charts(charts) => {
            for chart in charts {
                let _ = writeln!(
                    out,
                    "![{}]({PLOTS_DIR}/{}.svg)\n",
                    esc(&chart.title),
                    chart.name
                );
            }
        }
        Block::Group {
            id, title, blocks, ..
        } => {
            let _ = writeln!(
                out,
                "<a id=\"{id}\"></a>\n\n{} {}\n",
                "#".repeat(level.min(6)),
                esc(title)
            );
            for b in blocks {
                render_block(out, b, level + 1);
            }
        }
    }
}

fn render_table(out: &mut String, table: &Table) {
    let _ = writeln!(out, "**{}**\n", esc(&table.caption));
    let header: Vec<String> = table.columns.iter().map(|c| esc(c)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let numeric = table.rows.first().is_some_and(|r| r[i].numeric);
            if numeric {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| esc(&c.shown)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(
        out,
        "\n[{}.csv]({TABLES_DIR}/{}.csv)\n",
        esc(&table.name),
        table.name
    );
}
