//! Articles: the unit a corpus file yields, before tagging.
//!
//! Parsing of the two input formats lives here too: format A (plain text with
//! a ` date YYYY-MM-DD ` header) and format B (JSON / JSON Lines).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// The paragraph text, whitespace-trimmed, internal line breaks kept.
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
