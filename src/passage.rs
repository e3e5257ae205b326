//! Passages: the unit that is indexed and returned by a search.
//!
//! A passage is usually one paragraph. Very short paragraphs (a dateline, a
//! one-line quote) are merged with the next one so that they carry enough
//! context to rank; very long ones (a scraped page with no blank lines) are
//! split at sentence boundaries so that a hit points at the evidence, not at
//! a whole article.
//!
//! ```
//! use frontline::article::parse_text;
//! use frontline::passage::{split, SplitOptions};
//! let a = &parse_text("a.txt", " date 2025-01-02 Short.\n\nA longer paragraph about the attack on the checkpoint near the town.\n").unwrap().articles[0];
//! let passages = split(a, &SplitOptions::default());
//! assert_eq!(passages.len(), 1);
//! assert_eq!((passages[0].paragraph, passages[0].last_paragraph), (0, 1));
//! ```

use crate::article::{is_abbreviation, truncate_at_char, Article};

/// Where passages are cut.
#[derive(Debug, Clone)]
pub struct SplitOptions {
    /// Paragraphs shorter than this (bytes) are merged with the next one.
    pub min_bytes: usize,
    /// Passages are cut at a sentence boundary before exceeding this (bytes).
    pub max_bytes: usize,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            min_bytes: 60,
            max_bytes: 1500,
        }
    }
}

/// One passage of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// Ordinal of the paragraph the passage starts in.
    pub paragraph: u32,
    /// Ordinal of the paragraph it ends in (differs when short paragraphs
    /// were merged).
    pub last_paragraph: u32,
    /// 0-based position of the passage in the article.
    pub ordinal: u32,
    /// The passage text.
    pub text: String,
}

/// Splits an article into passages.
pub fn split(article: &Article, opts: &SplitOptions) -> Vec<Passage> {
    let mut out: Vec<Passage> = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    let max = opts.max_bytes.max(opts.min_bytes + 1);
    for p in &article.paragraphs {
        let (start, text) = match pending.take() {
            Some((start, mut text)) => {
                text.push(' ');
                text.push_str(&p.text);
                (start, text)
            }
            None => (p.ordinal, p.text.clone()),
        };
        if text.len() < opts.min_bytes {
            pending = Some((start, text));
            continue;
        }
        for chunk in chunks(&text, max) {
            out.push(Passage {
                paragraph: start,
                last_paragraph: p.ordinal,
                ordinal: out.len() as u32,
                text: chunk.to_string(),
            });
        }
    }
    if let Some((start, text)) = pending {
        // A short last paragraph joins the previous passage when there is one.
        match out.last_mut() {
            Some(last) if last.text.len() + text.len() < max => {
                last.text.push(' ');
                last.text.push_str(&text);
                last.last_paragraph = article.paragraphs.last().map_or(start, |p| p.ordinal);
            }
            _ => out.push(Passage {
                paragraph: start,
                last_paragraph: article.paragraphs.last().map_or(start, |p| p.ordinal),
                ordinal: out.len() as u32,
                text,
            }),
        }
    }
    out
}

/// Cuts `text` into pieces of at most `max` bytes, at sentence ends when
/// possible, else at a space, else at a char boundary.
fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while rest.len() > max {
        let window = truncate_at_char(rest, max);
        let cut = sentence_cut(window)
            .or_else(|| window.rfind(' ').filter(|&i| i > 0))
            .unwrap_or(window.len());
        out.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The byte offset just after the last sentence end in `window` (past the
/// first third, so pieces are not tiny).
fn sentence_cut(window: &str) -> Option<usize> {
    let floor = window.len() / 3;
    window
        .char_indices()
        .filter(|&(i, c)| {
            i >= floor
                && matches!(c, '.' | '!' | '?')
                && window[i + 1..].starts_with(' ')
                && !is_abbreviation(&window[..i])
        })
        .map(|(i, _)| i + 1)
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paragraph_splits_at_sentences() {
        let sentence = "Fighters attacked the base at dawn and withdrew. ";
        let text = sentence.repeat(100);
        let pieces = chunks(&text, 500);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.len() <= 500 && p.ends_with('.')));
        assert_eq!(pieces.join(" ").len(), text.trim().len());
    }

    #[test]
    fn unbroken_text_splits_on_char_boundaries() {
        let text = "ب".repeat(3000);
        let pieces = chunks(&text, 1001);
        assert!(pieces.iter().all(|p| p.len() <= 1001));
        assert_eq!(pieces.concat(), text);
    }
}
