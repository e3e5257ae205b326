//! Regexes with an ASCII twin.
//!
//! The tagger's patterns are Unicode-aware (`\p{Lu}` for a capital in any
//! script, Unicode `\b`, `\s` and `(?i)`), which makes their automata large:
//! a capital letter alone is hundreds of UTF-8 states. The lazy DFA then
//! keeps building and evicting states, and every capture search clears a
//! bounded backtracker's visited set of (states × span) bits, which was
//! most of the place cues' cost. Nearly every paragraph of a news corpus is
//! pure ASCII, and on an ASCII haystack each Unicode class matches exactly
//! its ASCII members: `\p{Lu}` is `[A-Z]`, `\p{L}` is `[A-Za-z]`, Unicode
//! `\w`, `\d` and `\s` have the ASCII members of their `(?-u)` forms (so
//! `\b` agrees too), and `(?i)` adds only non-ASCII case variants (`K` for
//! `k`). So an ASCII haystack is searched with the same pattern compiled
//! with Unicode off, which finds the same matches with the same groups;
//! any other haystack with the pattern as written.

use std::sync::OnceLock;

use regex::Regex;

/// A pattern compiled twice: as written, and for ASCII haystacks.
#[derive(Debug)]
pub(crate) struct Twin {
    pattern: String,
    /// The pattern as written, compiled when a non-ASCII text first needs
    /// it (the Unicode forms are most of the compile time, ~40 ms per
    /// process, and an English corpus may never need them).
    unicode: OnceLock<Regex>,
    ascii: Regex,
}

impl Twin {
    /// Compiles the ASCII twin of `pattern` (the pattern itself on first
    /// use). The patterns are constants of this crate: a failure is a bug
    /// that every test run shows (see the tests of each pattern's module).
    pub(crate) fn new(pattern: &str) -> Twin {
        Twin {
            pattern: pattern.to_string(),
            unicode: OnceLock::new(),
            ascii: Regex::new(&ascii_pattern(pattern)).expect("built-in regex (ASCII twin)"),
        }
    }

    /// The pattern as written.
    pub(crate) fn unicode(&self) -> &Regex {
        self.unicode
            .get_or_init(|| Regex::new(&self.pattern).expect("built-in regex"))
    }

    /// The regex to search `haystack` with.
    #[inline]
    pub(crate) fn for_text(&self, haystack: &str) -> &Regex {
        self.get(haystack.is_ascii())
    }

    /// The regex to search a haystack with, given whether it is ASCII (for
    /// callers that search one text with several patterns, or parts of it).
    #[inline]
    pub(crate) fn get(&self, ascii: bool) -> &Regex {
        if ascii {
            &self.ascii
        } else {
            self.unicode()
        }
    }
}

/// `pattern` with Unicode off: `\p{Lu}` as `[A-Z]`, `\p{L}` as `A-Za-z`
/// at the start of a class and `[A-Za-z]` elsewhere, and the typographic
/// apostrophe, which no ASCII text holds, dropped from classes.
fn ascii_pattern(pattern: &str) -> String {
    let ascii = pattern
        .replace(r"\p{Lu}", "[A-Z]")
        .replace(r"[\p{L}", "[A-Za-z")
        .replace(r"\p{L}", "[A-Za-z]")
        .replace('’', "");
    format!("(?-u){ascii}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_twins_have_no_unicode_classes_left() {
        let p = ascii_pattern(r"\b(?:al[-\s])?\p{Lu}[\p{L}'’]+(?:\s\p{Lu}[\p{L}'’-]+)?");
        assert_eq!(
            p,
            r"(?-u)\b(?:al[-\s])?[A-Z][A-Za-z']+(?:\s[A-Z][A-Za-z'-]+)?"
        );
        for pattern in [super::super::NAME, super::super::DIRECTION] {
            assert!(!ascii_pattern(pattern).contains(r"\p"), "{pattern}");
        }
        let t = Twin::new(r"(?i)\bthe (\p{Lu}\p{L}+)");
        for text in [
            "in THE Kingdom",
            "the Éire",
            "the Kelvin \u{212A}x",
            "bathe Them",
        ] {
            let a = t
                .unicode()
                .captures(text)
                .map(|c| c.get(1).map(|m| m.range()));
            let b = t
                .for_text(text)
                .captures(text)
                .map(|c| c.get(1).map(|m| m.range()));
            assert_eq!(a, b, "{text}");
        }
    }
}
