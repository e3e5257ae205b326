//! Articles: the unit a corpus file yields, before tagging.
//!
//! Parsing of the two input formats lives here too: format A (plain text with
//! a ` date YYYY-MM-DD ` header) and format B (JSON / JSON Lines).

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A stable article identifier: the file's path relative to the corpus root
/// (`syria/atmeh-raid.txt`), and for JSON inputs `path.jsonl#<id or line>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleId(pub String);

impl std::fmt::Display for ArticleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One blank-line-separated paragraph of an article body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    /// 0-based position among the body's paragraphs (after the date header),
    /// counted before boilerplate removal so it points into the source file.
    pub ordinal: u32,
    /// The paragraph text: its lines joined by single spaces, trimmed.
    pub text: String,
}

/// A parsed article, ready for tagging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Stable id (see [`ArticleId`]).
    pub id: ArticleId,
    /// The source file, relative to the corpus root, `/`-separated.
    pub source_path: String,
    /// The JSON title, else the first sentence of the body.
    pub title: String,
    /// Publication date and time, when known.
    pub published: Option<DateTime<Utc>>,
    /// The outlet: JSON `source`, or the outlet a syndication notice names.
    pub outlet: Option<String>,
    /// The article URL, when given.
    pub url: Option<String>,
    /// Body paragraphs, boilerplate removed.
    pub paragraphs: Vec<Paragraph>,
}

/// Articles longer than this (in bytes of body text) are truncated at a
/// paragraph boundary, with a warning: one scraped page of megabytes must
/// not exhaust memory or drown the ranking.
pub const MAX_ARTICLE_BYTES: usize = 1024 * 1024;

/// A problem with part of a file that did not stop the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// The 1-based line (JSON Lines) or array position (JSON) concerned.
    pub line: Option<usize>,
    /// A one-line reason.
    pub reason: String,
}

impl ParseWarning {
    /// `path:line`, or `path` when the warning is about the whole file.
    pub fn location(&self, path: &str) -> String {
        match self.line {
            Some(line) => format!("{path}:{line}"),
            None => path.to_string(),
        }
    }
}

/// The articles of one file and the warnings met on the way.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Articles in file order.
    pub articles: Vec<Article>,
    /// Non-fatal problems.
    pub warnings: Vec<ParseWarning>,
}

/// Decodes a file's bytes to text: UTF-8 (a BOM is dropped), else
/// Windows-1252, which also covers Latin-1. The second value is a note to
/// report when the fallback was used. Empty and binary files are errors.
///
/// ```
/// use frontline::article::decode;
/// assert_eq!(decode(b"caf\xe9").unwrap().0, "café");
/// assert!(decode(b"\x00\x01binary").is_err());
/// ```
pub fn decode(bytes: &[u8]) -> Result<(String, Option<String>), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("empty file".into());
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err("binary file (NUL bytes), not text".into());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), None)),
        Err(e) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            let note = format!(
                "not valid UTF-8 (byte {}), read as Windows-1252",
                e.valid_up_to()
            );
            Ok((text.into_owned(), Some(note)))
        }
    }
}

/// Parses format A: optional leading whitespace, `date YYYY-MM-DD`, a space,
/// then the body; paragraphs split by blank lines; a trailing syndication
/// notice is dropped and its outlet kept.
///
/// ```
/// use frontline::article::parse_text;
/// let parsed = parse_text("a.txt", " date 2025-08-21 Troops raided a house.\n\nTwo died.\n\n(Except for the headline, this story has not been edited by NDTV staff and is published from a syndicated feed.)\n").unwrap();
/// let a = &parsed.articles[0];
/// assert_eq!(a.paragraphs.len(), 2);
/// assert_eq!(a.outlet.as_deref(), Some("NDTV"));
/// assert_eq!(a.title, "Troops raided a house.");
/// ```
pub fn parse_text(rel_path: &str, text: &str) -> Result<Parsed, String> {
    let mut warnings = Vec::new();
    let trimmed = text.trim_start();
    let (published, body) = match split_date_header(trimmed) {
        Some((date, body)) => (Some(date), body),
        None => {
            let reason = if trimmed.starts_with("date ") {
                "the date header is not a valid YYYY-MM-DD date; date unknown"
            } else {
                "no `date YYYY-MM-DD` header; date unknown"
            };
            warnings.push(ParseWarning {
                line: None,
                reason: reason.into(),
            });
            (None, trimmed)
        }
    };
    let mut article = build_article(
        ArticleId(rel_path.to_string()),
        rel_path,
        body,
        RawMeta {
            published: published.map(midnight),
            ..RawMeta::default()
        },
        &mut warnings,
        None,
    )
    .ok_or("no text after the date header")?;
    article.source_path = rel_path.to_string();
    Ok(Parsed {
        articles: vec![article],
        warnings,
    })
}

fn split_date_header(text: &str) -> Option<(NaiveDate, &str)> {
    let rest = text.strip_prefix("date")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let date_str = rest.get(..10)?;
    let date = NaiveDate::parse_from_str(date_str, "%Y-%m-%d").ok()?;
    let after = &rest[10..];
    if after.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    Some((date, after))
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Parses format B as JSON Lines: one article object per line; a bad line is
/// a warning and the other lines are kept.
pub fn parse_json_lines(rel_path: &str, text: &str) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut good_lines = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value = match serde_json::from_str::<Value>(line) {
            Ok(value) => value,
            Err(e) => {
                parsed.warnings.push(ParseWarning {
                    line: Some(line_no),
                    reason: format!("invalid JSON, line skipped: {e}"),
                });
                continue;
            }
        };
        good_lines += 1;
        json_article(rel_path, &value, line_no, &mut parsed);
    }
    if good_lines == 0 && !parsed.warnings.is_empty() {
        let first = &parsed.warnings[0];
        return Err(format!(
            "no valid JSON line (line {}: {})",
            first.line.unwrap_or(0),
            first.reason
        ));
    }
    Ok(parsed)
}

/// Parses format B as a JSON file: one article object, or an array of them.
pub fn parse_json(rel_path: &str, text: &str) -> Result<Parsed, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut parsed = Parsed::default();
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_article(rel_path, item, i + 1, &mut parsed);
            }
        }
        Value::Object(_) => json_article(rel_path, &value, 0, &mut parsed),
        _ => return Err("expected a JSON object or an array of objects".into()),
    }
    Ok(parsed)
}

#[derive(Default)]
struct RawMeta {
    title: Option<String>,
    url: Option<String>,
    outlet: Option<String>,
    published: Option<DateTime<Utc>>,
}

/// One JSON article; `position` is its line (JSON Lines) or 1-based array
/// index (JSON), 0 for a lone object.
fn json_article(rel_path: &str, value: &Value, position: usize, parsed: &mut Parsed) {
    let line = (position > 0).then_some(position);
    let mut warn = |reason: String| parsed.warnings.push(ParseWarning { line, reason });
    let Some(obj) = value.as_object() else {
        warn("not a JSON object, skipped".into());
        return;
    };
    let text_field = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let Some(body) = text_field("body").or_else(|| text_field("text")) else {
        warn("no `body` or `text` field, skipped".into());
        return;
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => format!("{rel_path}#{}", s.trim()),
        Some(Value::Number(n)) => format!("{rel_path}#{n}"),
        _ if position == 0 => rel_path.to_string(),
        _ => format!("{rel_path}#{position}"),
    };
    let published = match text_field("published").or_else(|| text_field("date")) {
        Some(s) => match parse_published(&s) {
            Some(dt) => Some(dt),
            None => {
                warn(format!(
                    "`published` {s:?} is not RFC 3339 or YYYY-MM-DD; date unknown"
                ));
                None
            }
        },
        None => None,
    };
    let meta = RawMeta {
        title: text_field("title"),
        url: text_field("url"),
        outlet: text_field("source").or_else(|| text_field("outlet")),
        published,
    };
    let mut warnings = Vec::new();
    let article = build_article(ArticleId(id), rel_path, &body, meta, &mut warnings, line);
    parsed.warnings.extend(warnings);
    match article {
        Some(article) => parsed.articles.push(article),
        None => parsed.warnings.push(ParseWarning {
            line,
            reason: "empty body, skipped".into(),
        }),
    }
}

/// A publication date given as RFC 3339 or as a plain `YYYY-MM-DD` date.
///
/// ```
/// use frontline::article::parse_published;
/// assert!(parse_published("2025-08-21T09:30:00+03:00").is_some());
/// assert!(parse_published("2025-08-21").is_some());
/// assert!(parse_published("2025-02-30").is_none());
/// ```
pub fn parse_published(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(midnight)
}

fn build_article(
    id: ArticleId,
    rel_path: &str,
    body: &str,
    meta: RawMeta,
    warnings: &mut Vec<ParseWarning>,
    line: Option<usize>,
) -> Option<Article> {
    let mut texts = split_paragraphs(body);
    let mut outlet = meta.outlet;
    while let Some(last) = texts.last() {
        match syndication_outlet(last) {
            Some(named) => {
                if outlet.is_none() {
                    outlet = named;
                }
                texts.pop();
            }
            None => break,
        }
    }
    let mut total = 0usize;
    let mut paragraphs = Vec::with_capacity(texts.len());
    for (i, text) in texts.into_iter().enumerate() {
        total += text.len();
        if total > MAX_ARTICLE_BYTES && !paragraphs.is_empty() {
            warnings.push(ParseWarning {
                line,
                reason: format!(
                    "article over {} KiB, truncated after paragraph {}",
                    MAX_ARTICLE_BYTES >> 10,
                    i
                ),
            });
            break;
        }
        let text = if text.len() > MAX_ARTICLE_BYTES {
            warnings.push(ParseWarning {
                line,
                reason: format!("paragraph over {} KiB, truncated", MAX_ARTICLE_BYTES >> 10),
            });
            truncate_at_char(&text, MAX_ARTICLE_BYTES).to_string()
        } else {
            text
        };
        paragraphs.push(Paragraph {
            ordinal: i as u32,
            text,
        });
    }
    let first = paragraphs.first()?;
    let title = meta.title.unwrap_or_else(|| first_sentence(&first.text));
    Some(Article {
        id,
        source_path: rel_path.to_string(),
        title,
        published: meta.published,
        outlet,
        url: meta.url,
        paragraphs,
    })
}

/// Splits a body into paragraphs at blank lines, joining each paragraph's
/// lines with single spaces.
fn split_paragraphs(body: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

static SYNDICATION: LazyLock<Regex> = LazyLock::new(|| {
    // "(Except for the headline, this story has not been edited by NDTV staff
    // and is published from a syndicated feed.)" and its common variants.
    Regex::new(r"(?i)^\(?\s*(?:except for the headline,\s*)?this (?:story|article|report) (?:has not been|was not|is not) edited by (.{1,60}?)\s+(?:staff|team|editors)\b.*(?:syndicated|agency|wire) feed\.?\s*\)?\s*$")
        .unwrap_or_else(|e| panic!("invalid built-in regex: {e}"))
});

static SYNDICATION_LOOSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\(?\s*(?:this (?:story|article) (?:is|was) )?(?:published|auto-generated|generated) from an? (?:syndicated|agency|wire) feed\.?\s*\)?\s*$")
        .unwrap_or_else(|e| panic!("invalid built-in regex: {e}"))
});

/// `Some(outlet)` when a paragraph is a syndication notice (the outlet it
/// names, if any), `None` when it is content.
///
/// ```
/// use frontline::article::syndication_outlet;
/// let notice = "(Except for the headline, this story has not been edited by NDTV staff and is published from a syndicated feed.)";
/// assert_eq!(syndication_outlet(notice), Some(Some("NDTV".to_string())));
/// assert_eq!(syndication_outlet("Troops raided a house."), None);
/// ```
pub fn syndication_outlet(paragraph: &str) -> Option<Option<String>> {
    if paragraph.len() > 400 {
        return None;
    }
    if let Some(caps) = SYNDICATION.captures(paragraph) {
        let outlet = caps.get(1).map(|m| m.as_str().trim().to_string());
        return Some(outlet.filter(|o| !o.is_empty()));
    }
    SYNDICATION_LOOSE.is_match(paragraph).then_some(None)
}

/// The first sentence of a paragraph (at most about 200 bytes), the title of
/// an article that has none.
pub fn first_sentence(text: &str) -> String {
    const MAX: usize = 200;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, b'.' | b'!' | b'?') {
            let next = text[i + 1..].chars().next();
            let after = text[i + 1..].trim_start().chars().next();
            let ends = next.is_none_or(char::is_whitespace)
                && after.is_none_or(|c| c.is_uppercase() || c == '"' || c == '\u{201c}');
            if ends && !is_abbreviation(&text[..i]) {
                return text[..=i].to_string();
            }
        }
        if i >= MAX {
            break;
        }
    }
    let cut = truncate_at_char(text, MAX);
    if cut.len() < text.len() {
        let cut = cut.rsplit_once(' ').map_or(cut, |(head, _)| head);
        format!("{cut}…")
    } else {
        cut.to_string()
    }
}

/// Whether the text before a period ends with an abbreviation ("U.S.",
/// "Aug.", "Mr."), which does not end a sentence.
pub(crate) fn is_abbreviation(before: &str) -> bool {
    // The tagger asks this at every full stop: the last word is found byte
    // by byte while the bytes are ASCII (any char under 0x80 is one byte),
    // char by char only when a multi-byte char comes first.
    let bytes = before.as_bytes();
    let mut from = bytes.len();
    let mut ascii = true;
    while let Some(&b) = from.checked_sub(1).and_then(|k| bytes.get(k)) {
        match b {
            b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b'(' => break,
            0x80.. => {
                ascii = false;
                break;
            }
            _ => from -= 1,
        }
    }
    let word = if ascii {
        &before[from..]
    } else {
        before
            .rsplit(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
    };
    is_abbreviated_word(word)
}

/// Words that end with a full stop without ending a sentence.
const ABBR: [&str; 34] = [
    "Mr", "Mrs", "Ms", "Dr", "Gen", "Col", "Lt", "Maj", "Capt", "Sgt", "Rep", "Sen", "St", "Jan",
    "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "No", "vs",
    "approx", "Gov", "Brig", "Adm", "Pres", "Jr", "Sr",
];

/// A word of up to seven bytes as one integer: its bytes, then its length
/// in the last byte (so no two words share a key); `None` if longer.
const fn word_key(word: &[u8]) -> Option<u64> {
    if word.len() > 7 {
        return None;
    }
    let mut key = [0u8; 8];
    let mut i = 0;
    while i < word.len() {
        key[i] = word[i];
        i += 1;
    }
    key[7] = word.len() as u8;
    Some(u64::from_le_bytes(key))
}

/// [`ABBR`] as [`word_key`]s: the tagger asks about the word before every
/// full stop (some fifty per article), and comparing one integer per
/// abbreviation costs less than comparing strings.
const ABBR_KEYS: [u64; ABBR.len()] = {
    let mut keys = [0u64; ABBR.len()];
    let mut i = 0;
    while i < ABBR.len() {
        keys[i] = match word_key(ABBR[i].as_bytes()) {
            Some(key) => key,
            None => panic!("an abbreviation longer than seven bytes"),
        };
        i += 1;
    }
    keys
};

/// Whether `word`, the last word before a period, is an abbreviation.
fn is_abbreviated_word(word: &str) -> bool {
    word_key(word.as_bytes()).is_some_and(|key| ABBR_KEYS.contains(&key))
        || (word.len() <= 4 && word.contains('.'))
        || (word.len() == 1 && word.chars().all(|c| c.is_ascii_uppercase()))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char
/// boundary.
pub(crate) fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last word as `is_abbreviation` found it before its ASCII path.
    fn last_word_oracle(before: &str) -> &str {
        before
            .rsplit(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
    }

    fn abbreviation_oracle(before: &str) -> bool {
        is_abbreviated_word(last_word_oracle(before))
    }

    #[test]
    fn abbreviations_found_with_and_without_the_ascii_path() {
        for text in [
            "",
            "Mr",
            "said Mr",
            "the U.S",
            "(Gen",
            "in\u{b}Aug",
            "x\u{c}Dr",
            "B",
            "a B",
            "the ab",
            "Sept",
            "approx",
            "\u{a0}Mr",
            "Ḩamāh Mr",
            "the\u{2009}Col",
            "Col\u{a0}",
            "né Dr",
            "(U.N",
            "tab\tSt",
            "line\nNo",
        ] {
            assert_eq!(is_abbreviation(text), abbreviation_oracle(text), "{text:?}");
        }
    }

    /// `is_abbreviated_word` as it was before its integer keys.
    fn abbreviated_word_oracle(word: &str) -> bool {
        ABBR.contains(&word)
            || (word.len() <= 4 && word.contains('.'))
            || (word.len() == 1 && word.chars().all(|c| c.is_ascii_uppercase()))
    }

    #[test]
    fn abbreviation_keys_answer_like_the_list() {
        let mut words: Vec<String> = ABBR.iter().map(|w| w.to_string()).collect();
        for w in ABBR {
            words.push(format!("{w}\0"));
            words.push(format!("{w}x"));
            words.push(w[..w.len() - 1].to_string());
            words.push(w.to_lowercase());
        }
        words.extend(
            [
                "",
                "M",
                "m",
                "a.b",
                "U.S",
                "approxi",
                "approximately",
                "Mr\0\0\0\0\0",
            ]
            .map(String::from),
        );
        for w in &words {
            assert_eq!(is_abbreviated_word(w), abbreviated_word_oracle(w), "{w:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn abbreviation_keys_agree_with_the_list(word in "[A-Za-z.\0é]{0,8}") {
            proptest::prop_assert_eq!(is_abbreviated_word(&word), abbreviated_word_oracle(&word));
        }

        #[test]
        fn abbreviation_matches_the_char_wise_last_word(
            text in "[ a-zA-Z.(\t\u{b}\u{a0}\u{2009}é]{0,12}"
        ) {
            proptest::prop_assert_eq!(is_abbreviation(&text), abbreviation_oracle(&text));
        }
    }
}
