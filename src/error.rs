//! The library's error type.
//!
//! Messages are lowercase, without trailing punctuation, and name the file or
//! the input that caused them, so the CLI can print them as one line.

use std::path::PathBuf;

/// Everything that can go wrong in frontline's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A corpus file could not be parsed as an article.
    #[error("{path}: {reason}")]
    Parse {
        /// The file that failed.
        path: PathBuf,
        /// Why it failed, in a few words.
        reason: String,
    },
    /// A gazetteer or schema data file is malformed.
    #[error("{path}:{line}: {reason}")]
    Gazetteer {
        /// The data file (or `<embedded>/name` for the built-in defaults).
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// A province, group or country name given as a filter is not known.
    #[error("unknown {kind} {name:?}{}", suggest(.suggestions))]
    UnknownName {
        /// `province`, `group` or `country`.
        kind: &'static str,
        /// The name as the user wrote it.
        name: String,
        /// Close known names, best first.
        suggestions: Vec<String>,
    },
    /// A query string or query option is invalid.
    #[error("invalid query: {0}")]
    Query(String),
    /// No index exists at the given path.
    #[error("no frontline index at {0} (build one with `frontline index CORPUS_DIR --index {0}`)")]
    IndexNotFound(PathBuf),
    /// The index was written by an incompatible version of frontline.
    #[error("index at {path} has schema version {found}, this frontline reads version {expected}: rebuild it with `frontline index CORPUS_DIR --full`")]
    IncompatibleIndex {
        /// The index directory.
        path: PathBuf,
        /// Version recorded in the index.
        found: String,
        /// Version this build understands.
        expected: u32,
    },
    /// The index is damaged or not a frontline index.
    #[error("index at {path} is unreadable: {reason} (rebuild it with `frontline index CORPUS_DIR --full`)")]
    CorruptIndex {
        /// The index directory.
        path: PathBuf,
        /// What was found to be wrong.
        reason: String,
    },
    /// Another process holds the index's writer lock.
    #[error("index at {0} is locked by another `frontline index` run (use --wait to wait for it)")]
    LockHeld(PathBuf),
    /// Under `--strict`, files were skipped, so nothing was published.
    #[error("{} file(s) skipped under --strict: the index was not changed", .0.skipped.len())]
    Strict(Box<crate::indexer::BuildSummary>),
    /// An error from tantivy.
    #[error("search engine: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", suggestions.join(", "))
    }
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for `Result<T, frontline::Error>`.
pub type Result<T> = std::result::Result<T, Error>;
