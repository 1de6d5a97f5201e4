//! File names made from dataset and strategy names, which may hold any printable text
//! (`<`, `/`, spaces, non-Latin letters).

use std::collections::HashSet;

use crate::search::seed::stable_hash;

/// The longest slug kept before its hash suffix.
const MAX_SLUG_CHARS: usize = 48;

/// A file-name-safe form of `name`: lowercase ASCII letters, digits and `-`, at most
/// 48 characters plus, when anything had to change, `-` and six hex digits of a stable hash of
/// `name`, so different names give different slugs.
///
/// ```
/// use gmmtune::report::slug::slug;
/// assert_eq!(slug("wbc"), "wbc");
/// assert!(slug("satimage_2").starts_with("satimage-2-"));
/// assert!(slug("<script>alert(1)</script>").starts_with("script-alert-1-script-"));
/// assert_ne!(slug("a/b"), slug("a b"));
/// assert!(slug("日本").starts_with("x-"));
/// ```
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.len() > MAX_SLUG_CHARS {
        out.truncate(MAX_SLUG_CHARS);
        while out.ends_with('-') {
            out.pop();
        }
    }
    if out == name && !out.is_empty() {
        return out;
    }
    if out.is_empty() {
        out.push('x');
    }
    format!("{out}-{:06x}", stable_hash(name) & 0xff_ffff)
}

/// Hands out slugs that are unique within one report: a slug met again gets `-2`, `-3`, ….
///
/// ```
/// use gmmtune::report::slug::Slugs;
/// let mut slugs = Slugs::default();
/// assert_eq!(slugs.unique("roc-wbc"), "roc-wbc");
/// assert_eq!(slugs.unique("roc-wbc"), "roc-wbc-2");
/// ```
#[derive(Debug, Default)]
pub struct Slugs {
    taken: HashSet<String>,
}

impl Slugs {
    /// `wanted`, or `wanted-N` with the smallest free N.
    pub fn unique(&mut self, wanted: &str) -> String {
        if self.taken.insert(wanted.to_string()) {
            return wanted.to_string();
        }
        (2..)
            .map(|n| format!("{wanted}-{n}"))
            .find(|s| self.taken.insert(s.clone()))
            .expect("an unbounded range has a free name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        for name in [
            "../../etc/passwd",
            "a\u{0}b",
            "CON",
            "x".repeat(300).as_str(),
            " ",
            "",
        ] {
            let s = slug(name);
            assert!(!s.is_empty() && s.len() <= MAX_SLUG_CHARS + 7, "{s}");
            assert!(s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert!(!s.starts_with('-'));
        }
        assert_ne!(slug("Wbc"), slug("wbc"));
    }
}
