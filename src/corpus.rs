//! The corpus: which files of a directory are articles, and how to read them.
//!
//! [`walk`] lists the article files of a corpus directory in a stable order;
//! [`read`] loads one (decompressing gzip, with size caps); [`parse`] turns
//! its bytes into [`Article`]s with the parsers of [`crate::article`].
//! Every problem is a [`Skipped`] value naming the file and the reason, so a
//! broken file never stops a run.
//!
//! ```
//! use frontline::corpus::{walk, read, parse, WalkOptions};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.txt"), " date 2025-08-21 Gunmen attacked a checkpoint.\n").unwrap();
//! let (files, skipped) = walk(dir.path(), &WalkOptions::default()).unwrap();
//! assert!(skipped.is_empty());
//! let parsed = parse(&files[0], &read(&files[0]).unwrap());
//! assert_eq!(parsed.articles[0].id.0, "a.txt");
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde::Serialize;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::article::{self, Article};
use crate::error::{Error, Result};

/// Largest file read, compressed or not (bigger files are skipped).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Largest decompressed size of a gzip file (a guard against gzip bombs).
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

/// File names that sit in a corpus but are not articles: the labels read by
/// `frontline eval`.
const NOT_ARTICLES: &[&str] = &["expected.json"];

/// How to walk a corpus directory.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Follow symbolic links (loops are detected and reported).
    pub follow_links: bool,
}

/// The input format of a file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Format A: plain text with a ` date YYYY-MM-DD ` header (`.txt`).
    Text,
    /// Format B: one JSON article per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// Format B: one JSON article or an array of them (`.json`).
    Json,
}

impl Format {
    /// The format and whether the file is gzip-compressed, from a file name.
    ///
    /// ```
    /// use frontline::corpus::Format;
    /// assert_eq!(Format::from_name("a.jsonl.gz"), Some((Format::JsonLines, true)));
    /// assert_eq!(Format::from_name("notes.md"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<(Format, bool)> {
        let lower = name.to_ascii_lowercase();
        let (stem, gzip) = match lower.strip_suffix(".gz") {
            Some(stem) => (stem, true),
            None => (lower.as_str(), false),
        };
        let format = match Path::new(stem).extension()?.to_str()? {
            "txt" => Format::Text,
            "jsonl" | "ndjson" => Format::JsonLines,
            "json" => Format::Json,
            _ => return None,
        };
        Some((format, gzip))
    }
}

/// A file's size and modification time, as a walk sees them.
///
/// An incremental run takes a file whose stamp is the one the previous run
/// recorded as unchanged without reading it, the quick check of `make` and
/// `rsync`; [`BuildOptions::rehash`](crate::indexer::BuildOptions::rehash)
/// reads and hashes every file instead. A stamp is recorded only when the
/// file had not been modified for [`Stamp::QUIET`] before it was read, so
/// that a file written again within its file system's timestamp
/// granularity is never taken for unchanged.
///
/// ```
/// use frontline::corpus::Stamp;
/// use std::time::{Duration, UNIX_EPOCH};
/// let stamp = Stamp { size: 10, secs: 1_700_000_000, nanos: 5 };
/// let read_at = UNIX_EPOCH + Duration::from_secs(1_700_000_001);
/// assert!(!stamp.settled(read_at));
/// assert!(stamp.settled(read_at + Stamp::QUIET));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time: whole seconds since the Unix epoch (negative
    /// before it).
    pub secs: i64,
    /// Modification time: nanoseconds past `secs`.
    pub nanos: u32,
}

impl Stamp {
    /// How long a file must have been left alone before it was read for
    /// its stamp to be trusted by the next run (coarser than the
    /// timestamps of any common file system).
    pub const QUIET: std::time::Duration = std::time::Duration::from_secs(2);

    /// The stamp of a file from its metadata (`None` where the platform
    /// gives no modification time).
    pub fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        let modified = meta.modified().ok()?;
        let (secs, nanos) = match modified.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => (i64::try_from(after.as_secs()).ok()?, after.subsec_nanos()),
            Err(before) => {
                let before = before.duration();
                let secs = i64::try_from(before.as_secs()).ok()?;
                match before.subsec_nanos() {
                    0 => (-secs, 0),
                    n => (-secs - 1, 1_000_000_000 - n),
                }
            }
        };
        Some(Stamp {
            size: meta.len(),
            secs,
            nanos,
        })
    }

    /// Whether the file had been left alone for [`Stamp::QUIET`] when it
    /// was read at `read_at`.
    pub fn settled(&self, read_at: std::time::SystemTime) -> bool {
        let quiet_since = read_at
            .checked_sub(Stamp::QUIET)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        quiet_since
            .is_some_and(|q| (self.secs, self.nanos) <= (q.as_secs() as i64, q.subsec_nanos()))
    }
}

/// One article file found by [`walk`].
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path to open.
    pub path: PathBuf,
    /// The path relative to the corpus root, with `/` separators: the
    /// article id (or its prefix, for JSON files).
    pub rel_path: String,
    /// The input format.
    pub format: Format,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
    /// Size on disk in bytes.
    pub size: u64,
    /// Size and modification time, when the file system gives them.
    pub stamp: Option<Stamp>,
}

/// A file (or part of one) that was not indexed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The path relative to the corpus root (with `:line` for one bad line).
    pub path: String,
    /// A one-line reason, for people.
    pub reason: String,
}

impl Skipped {
    /// A skip record for `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Skipped {
        Skipped {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Lists the article files under `root`, sorted by path.
///
/// Hidden files and directories (a name starting with `.`) are skipped, as
/// are files whose extension is not an input format (`README.md`, images…)
/// and `expected.json` label files. Directories that cannot be read and
/// symlink loops come back as [`Skipped`] entries; only an unreadable root
/// is an error. [`Walk`] gives the same files one at a time.
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<(Vec<SourceFile>, Vec<Skipped>)> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in Walk::new(root, opts)? {
        match entry {
            Ok(file) => files.push(file),
            Err(skip) => skipped.push(skip),
        }
    }
    Ok((files, skipped))
}

/// The files of [`walk`], in the same order, one at a time: an index run
/// streams them instead of holding a million paths.
///
/// The order is that of the relative paths as strings (byte order), the
/// order of the manifest's file list, so that a run can merge the two
/// without sorting: a directory's entries are sorted by name with a `/`
/// after directory names, because its files come after any sibling name
/// that sorts before `/` (`a.txt` < `a/b.txt`).
pub struct Walk {
    root: PathBuf,
    entries: walkdir::FilterEntry<walkdir::IntoIter, fn(&walkdir::DirEntry) -> bool>,
}

impl Walk {
    /// Starts walking `root`; fails only when `root` is not a readable
    /// directory.
    pub fn new(root: &Path, opts: &WalkOptions) -> Result<Walk> {
        let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
        if !meta.is_dir() {
            return Err(Error::Io {
                path: root.to_path_buf(),
                source: std::io::Error::other("not a directory"),
            });
        }
        let keep: fn(&walkdir::DirEntry) -> bool = |e| e.depth() == 0 || !is_hidden(e.file_name());
        let entries = WalkDir::new(root)
            .follow_links(opts.follow_links)
            .sort_by(path_order)
            .into_iter()
            .filter_entry(keep);
        Ok(Walk {
            root: root.to_path_buf(),
            entries,
        })
    }
}

impl Iterator for Walk {
    /// A file, or what could not be walked (an unreadable directory, a
    /// symlink loop, a file that cannot be stat'ed).
    type Item = std::result::Result<SourceFile, Skipped>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let entry = match self.entries.next()? {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e
                        .path()
                        .map_or_else(String::new, |p| relative(&self.root, p));
                    return Some(Err(Skipped::new(path, walk_error_reason(&e))));
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if NOT_ARTICLES.contains(&name.as_ref()) {
                continue;
            }
            let Some((format, gzip)) = Format::from_name(&name) else {
                continue;
            };
            let rel_path = relative(&self.root, entry.path());
            return Some(match entry.metadata() {
                Ok(meta) => Ok(SourceFile {
                    path: entry.path().to_path_buf(),
                    rel_path,
                    format,
                    gzip,
                    size: meta.len(),
                    stamp: Stamp::of(&meta),
                }),
                Err(e) => Err(Skipped::new(rel_path, format!("cannot stat: {e}"))),
            });
        }
    }
}

/// The order of two directory entries among their siblings' paths: by
/// name as the relative paths spell it (lossily converted to UTF-8, so
/// that the walk's order is the manifest's even for names that are not
/// UTF-8), a directory's name followed by the `/` of its children's paths.
fn path_order(a: &walkdir::DirEntry, b: &walkdir::DirEntry) -> std::cmp::Ordering {
    let (name_a, name_b) = (
        a.file_name().to_string_lossy(),
        b.file_name().to_string_lossy(),
    );
    let key_a = name_a.bytes().chain(a.file_type().is_dir().then_some(b'/'));
    let key_b = name_b.bytes().chain(b.file_type().is_dir().then_some(b'/'));
    key_a.cmp(key_b)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn walk_error_reason(e: &walkdir::Error) -> String {
    if let Some(ancestor) = e.loop_ancestor() {
        return format!("symlink loop back to {}", ancestor.display());
    }
    match e.io_error() {
        Some(io) => format!("cannot read: {io}"),
        None => e.to_string(),
    }
}

/// Reads a file, decompressing gzip. The bytes are what [`parse`] and
/// [`content_hash`] take.
pub fn read(file: &SourceFile) -> std::result::Result<Vec<u8>, Skipped> {
    let fail = |reason: String| Skipped::new(file.rel_path.clone(), reason);
    let handle = File::open(&file.path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let size = handle
        .metadata()
        .map_err(|e| fail(format!("cannot stat: {e}")))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(fail(format!(
            "file of {} MiB is over the {} MiB limit",
            size >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if file.gzip {
        GzDecoder::new(handle)
            .take(MAX_DECOMPRESSED_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("not valid gzip: {e}")))?;
        if bytes.len() as u64 > MAX_DECOMPRESSED_BYTES {
            return Err(fail(format!(
                "decompresses to more than {} MiB",
                MAX_DECOMPRESSED_BYTES >> 20
            )));
        }
    } else {
        handle
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
    }
    Ok(bytes)
}

/// The SHA-256 of a file's (decompressed) bytes: how an incremental run
/// decides that a file changed.
///
/// ```
/// let hash = frontline::corpus::content_hash(b"abc");
/// assert!(hash.to_string().starts_with("ba7816bf"));
/// ```
pub fn content_hash(bytes: &[u8]) -> ContentHash {
    ContentHash(Sha256::digest(bytes).into())
}

/// A SHA-256 digest, written as 64 lower-case hex digits (in the
/// generation manifest and by `Display`). Kept as bytes: a million-file
/// manifest holds one per file.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.as_bytes(), &mut bytes).map_err(|e| {
            serde::de::Error::custom(format!("content hash {text:?} is not 64 hex digits: {e}"))
        })?;
        Ok(ContentHash(bytes))
    }
}

/// The articles of one file, with what went wrong on the way.
#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    /// The articles, in file order.
    pub articles: Vec<Article>,
    /// Problems that did not stop the file: a missing date header, a bad
    /// JSON line among good ones, a Windows-1252 fallback, a truncation.
    pub warnings: Vec<Skipped>,
    /// Set when the whole file is unusable (empty, binary, invalid JSON):
    /// the file is skipped.
    pub error: Option<Skipped>,
}

/// Parses a file's bytes (from [`read`]) into articles.
pub fn parse(file: &SourceFile, bytes: &[u8]) -> ParsedFile {
    let mut out = ParsedFile::default();
    let text = match article::decode(bytes) {
        Ok((text, note)) => {
            if let Some(note) = note {
                out.warnings.push(Skipped::new(file.rel_path.clone(), note));
            }
            text
        }
        Err(reason) => {
            out.error = Some(Skipped::new(file.rel_path.clone(), reason));
            return out;
        }
    };
    let result = match file.format {
        Format::Text => article::parse_text(&file.rel_path, &text),
        Format::JsonLines => article::parse_json_lines(&file.rel_path, &text),
        Format::Json => article::parse_json(&file.rel_path, &text),
    };
    match result {
        Ok(parsed) => {
            out.articles = parsed.articles;
            out.warnings.extend(
                parsed
                    .warnings
                    .into_iter()
                    .map(|w| Skipped::new(w.location(&file.rel_path), w.reason)),
            );
            if out.articles.is_empty() && out.error.is_none() {
                out.error = Some(Skipped::new(file.rel_path.clone(), "no articles in file"));
            }
        }
        Err(reason) => out.error = Some(Skipped::new(file.rel_path.clone(), reason)),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_order_is_path_order() {
        // `a` (a directory) sorts after `a.txt` and `a-b.txt` as a path
        // prefix (`a/…`), though its name alone sorts first.
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "a/z.txt",
            "a.txt",
            "a-b.txt",
            "a0.txt",
            "b/c/d.txt",
            "b.c.txt",
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, " date 2025-08-21 Text.\n").unwrap();
        }
        let (files, skipped) = walk(dir.path(), &WalkOptions::default()).unwrap();
        assert!(skipped.is_empty());
        let paths: Vec<&str> = files.iter().map(|f| f.rel_path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        assert_eq!(paths, sorted);
        assert_eq!(paths[..3], ["a-b.txt", "a.txt", "a/z.txt"]);
    }
}
