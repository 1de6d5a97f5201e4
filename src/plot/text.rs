//! Text that reaches the SVG: one clean-up step and stable number formatting.
//!
//! plotters' SVG backend escapes `<`, `>`, `&`, `"` and `'` in every text and attribute it
//! writes (`plotters-svg` 0.3.7, `SVGBackend::escape_and_push`), so markup in a dataset name
//! shows as text. It passes control characters through, and those make the file invalid XML;
//! [`clean`] replaces them, and every title, label, legend entry and category name goes through
//! it on the way into a chart.

/// The longest text kept in a legend entry or tick label; longer ones end in "…".
pub const MAX_LABEL_CHARS: usize = 40;

/// Replaces characters XML 1.0 does not allow (C0 controls other than tab, and U+FFFE/U+FFFF)
/// and line breaks by a space, so any text makes a well-formed SVG.
///
/// ```
/// use gmmtune::plot::clean_text;
/// assert_eq!(clean_text("a\u{1b}b\nc"), "a b c");
/// assert_eq!(clean_text("<script>"), "<script>"); // escaped later, by the SVG backend
/// ```
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if (c as u32) < 0x20 || c == '\u{7f}' => ' ',
            '\u{fffe}' | '\u{ffff}' => ' ',
            c => c,
        })
        .collect()
}

/// [`clean`], then cut to [`MAX_LABEL_CHARS`] characters.
pub(crate) fn label(text: &str) -> String {
    let text = clean(text);
    if text.chars().count() <= MAX_LABEL_CHARS {
        text
    } else {
        let mut cut: String = text.chars().take(MAX_LABEL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// Formats a tick value with the decimals its step needs, the same way on every machine:
/// plain notation between 1e-4 and 1e6, scientific outside; `-0` prints as `0`.
///
/// ```
/// use gmmtune::plot::format_tick;
/// assert_eq!(format_tick(0.5, 0.25), "0.50");
/// assert_eq!(format_tick(-0.0, 1.0), "0");
/// assert_eq!(format_tick(2_000_000.0, 1_000_000.0), "2e6");
/// ```
pub fn format_tick(value: f64, step: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    if !(1e-4..1e6).contains(&magnitude) {
        return format_scientific(value);
    }
    let step = step.abs();
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 10.0) as usize
    } else {
        0
    };
    // A step like 0.25 needs two decimals: add one while rounding to `decimals` loses it.
    let mut decimals = decimals;
    while decimals < 10
        && ((step * 10f64.powi(decimals as i32)).round() - step * 10f64.powi(decimals as i32)).abs()
            > 1e-6
    {
        decimals += 1;
    }
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".into()
    } else {
        text
    }
}

/// `1.5e-7`, `2e6`: the shortest mantissa that round-trips to three significant digits.
fn format_scientific(value: f64) -> String {
    let exponent = value.abs().log10().floor() as i32;
    let mantissa = value / 10f64.powi(exponent);
    let mut m = format!("{mantissa:.2}");
    while m.contains('.') && (m.ends_with('0') || m.ends_with('.')) {
        m.pop();
    }
    format!("{m}e{exponent}")
}

/// Formats a value for a title or table: up to `significant` significant digits, plain or
/// scientific as [`format_tick`] decides, trailing zeros removed.
///
/// ```
/// use gmmtune::plot::format_value;
/// assert_eq!(format_value(1234.5678, 4), "1235");
/// assert_eq!(format_value(0.012345, 3), "0.0123");
/// assert_eq!(format_value(-3.0, 3), "-3");
/// ```
pub fn format_value(value: f64, significant: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    if !(1e-4..1e7).contains(&magnitude) {
        return format_scientific(value);
    }
    let digits_left = magnitude.log10().floor() as i32 + 1;
    let decimals = (significant as i32 - digits_left).max(0) as usize;
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(clean("x\u{0}y\u{ffff}"), "x y ");
        assert_eq!(clean("é ∑ 日本"), "é ∑ 日本");
    }

    #[test]
    fn long_labels_are_cut() {
        let long = "a".repeat(100);
        let cut = label(&long);
        assert_eq!(cut.chars().count(), MAX_LABEL_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn ticks_use_the_step_decimals() {
        assert_eq!(format_tick(1.0, 0.5), "1.0");
        assert_eq!(format_tick(10.0, 5.0), "10");
        assert_eq!(format_tick(0.3, 0.1), "0.3");
        assert_eq!(format_tick(-1250.0, 250.0), "-1250");
        assert_eq!(format_tick(1e-7, 1e-7), "1e-7");
        assert_eq!(format_tick(0.00001 - 0.00001, 0.1), "0");
        assert_eq!(format_tick(1.5e-5, 1e-5), "1.5e-5");
    }
}
