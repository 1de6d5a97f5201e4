//! Escaping text taken from a run (dataset and strategy names, paths, config values, error
//! messages) on its way into HTML and Markdown, in one place. SVG text is escaped by the plot
//! module ([`crate::plot::clean_text`] and plotters' SVG backend).

/// Escapes `text` for HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and
/// `'` become entities, and characters XML does not allow (C0 controls other than tab, line
/// feed and carriage return, and U+FFFE/U+FFFF) become U+FFFD, so the page stays well-formed.
///
/// ```
/// use gmmtune::report::escape::html;
/// assert_eq!(html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
/// assert_eq!(html("a \"b\" & 'c'"), "a &quot;b&quot; &amp; &#39;c&#39;");
/// assert_eq!(html("x\u{1b}y"), "x\u{fffd}y");
/// ```
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text` for a Markdown paragraph or table cell: every ASCII punctuation character
/// that Markdown or inline HTML could read as syntax gets a backslash (so `<script>` shows as
/// text), line breaks become spaces (a table row is one line) and control characters become
/// U+FFFD.
///
/// ```
/// use gmmtune::report::escape::markdown;
/// assert_eq!(markdown("<script>alert(1)</script>"), "\\<script\\>alert(1)\\</script\\>");
/// assert_eq!(markdown("a|b *c* [d](e)"), "a\\|b \\*c\\* \\[d\\](e)");
/// assert_eq!(markdown("two\nlines"), "two lines");
/// ```
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '&'
            | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for a Markdown code block: control characters replaced, and a fence longer than any
/// run of backticks inside, so nothing can close the block early.
///
/// ```
/// use gmmtune::report::escape::markdown_fence;
/// assert_eq!(markdown_fence("a ``` b"), "````");
/// assert_eq!(markdown_fence("plain"), "```");
/// ```
pub fn markdown_fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escape_leaves_no_markup() {
        let nasty = "<img src=x onerror=\"alert(1)\">&amp;</title>";
        let escaped = html(nasty);
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('"'));
        assert!(escaped.contains("&amp;amp;"));
        assert_eq!(html("é ∑ 日本"), "é ∑ 日本");
    }

    #[test]
    fn markdown_escape_covers_inline_html_and_tables() {
        let escaped = markdown("<b>|`x`");
        assert_eq!(escaped, "\\<b\\>\\|\\`x\\`");
    }
}
