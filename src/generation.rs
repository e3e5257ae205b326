//! Generations: how an index directory stays readable while it is rebuilt.
//!
//! ```text
//! INDEX_DIR/
//!   CURRENT          one line: the live generation's directory name
//!   .writer.lock     OS file lock held by the one running `frontline index`
//!   gen-000007/      a complete tantivy index + manifest.json
//!   gen-000008.tmp/  a generation being built (removed if a run crashed)
//! ```
//!
//! A run builds generation N+1 in `gen-N+1.tmp/` (an incremental run starts
//! from hard links to generation N's files: tantivy never rewrites a segment
//! file in place, so the two generations cannot disturb each other), commits,
//! fsyncs, renames it to `gen-N+1/` and then replaces `CURRENT` by
//! write-to-temp + rename. The rename of `CURRENT` is the single switch-over
//! step: a crash before it leaves generation N live and untouched, a crash
//! after it leaves N+1 complete. Readers that opened N keep their files (open
//! mmaps survive deletion) until they reload.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File in the index directory naming the live generation.
pub const CURRENT_FILE: &str = "CURRENT";
/// Manifest file inside each generation directory.
pub const MANIFEST_FILE: &str = "manifest.json";
const LOCK_FILE: &str = ".writer.lock";
const GEN_PREFIX: &str = "gen-";
const TMP_SUFFIX: &str = ".tmp";

/// A generation number: 1 for the first build, +1 per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GenerationId(pub u64);

impl GenerationId {
    /// The generation's directory name, `gen-000007`.
    pub fn dir_name(self) -> String {
        format!("{GEN_PREFIX}{:06}", self.0)
    }

    fn parse_dir_name(name: &str) -> Option<GenerationId> {
        let digits = name.strip_prefix(GEN_PREFIX)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(GenerationId)
    }
}

impl std::fmt::Display for GenerationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What an index run recorded about one corpus file, to detect changes.
///
/// A manifest holds it compactly, as `[articles, passages, "BLOB"]`, or
/// `[articles, passages, "BLOB", [size, secs, nanos]]` with a stamp: BLOB
/// is the standard base64 (padded) of the content hash's 32 bytes followed,
/// for each article, by its story id (8 bytes) and its
/// [`crate::stories::BANDS`] band hashes (4 bytes each), little-endian.
/// The object form written before (`{"hash": "64 hex digits", "articles":
/// 1, "passages": 8, "stories": [{"story": .., "bands": [..]}]}`) is still
/// read, so older indexes open, and are rewritten compactly by their next
/// run.
///
/// ```
/// use frontline::generation::FileRecord;
/// use frontline::stories::{StoryRecord, BANDS};
/// let record = FileRecord {
///     hash: frontline::corpus::content_hash(b"abc"),
///     articles: 1,
///     passages: 3,
///     stories: vec![StoryRecord { story: 7, bands: [1; BANDS] }],
///     stamp: None,
/// };
/// let json = serde_json::to_string(&record)?;
/// assert!(json.starts_with("[1,3,\""));
/// assert_eq!(serde_json::from_str::<FileRecord>(&json)?, record);
/// let stamp = frontline::corpus::Stamp { size: 9, secs: 1_700_000_000, nanos: 5 };
/// let stamped = FileRecord { stamp: Some(stamp), ..record };
/// let json = serde_json::to_string(&stamped)?;
/// assert!(json.ends_with("\",[9,1700000000,5]]"));
/// assert_eq!(serde_json::from_str::<FileRecord>(&json)?, stamped);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Content hash of the file's bytes.
    pub hash: crate::corpus::ContentHash,
    /// Articles indexed from it.
    pub articles: u32,
    /// Passages indexed from it.
    pub passages: u32,
    /// Story assignment of each article, in file order (see [`crate::stories`]).
    pub stories: Vec<crate::stories::StoryRecord>,
    /// The file's size and modification time when it was read, if they
    /// can be trusted (see [`crate::corpus::Stamp`]): the next run skips
    /// reading the file when they are unchanged.
    pub stamp: Option<crate::corpus::Stamp>,
}

/// Bytes of one article's story in a record's blob.
const STORY_BYTES: usize = 8 + 4 * crate::stories::BANDS;

/// Bytes of the content hash at the start of a record's blob.
const HASH_BYTES: usize = 32;

impl FileRecord {
    /// The base64 blob of the compact form: hash, then the stories.
    fn blob(&self) -> String {
        use base64::Engine as _;
        let mut bytes = Vec::with_capacity(HASH_BYTES + STORY_BYTES * self.stories.len());
        bytes.extend_from_slice(&self.hash.0);
        for story in &self.stories {
            bytes.extend_from_slice(&story.story.to_le_bytes());
            for band in story.bands {
                bytes.extend_from_slice(&band.to_le_bytes());
            }
        }
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// A record from the compact form's fields.
    fn from_blob(
        articles: u32,
        passages: u32,
        blob: &str,
    ) -> std::result::Result<FileRecord, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(blob)
            .map_err(|e| format!("file record {blob:.20?}... is not base64: {e}"))?;
        if bytes.len() < HASH_BYTES || !(bytes.len() - HASH_BYTES).is_multiple_of(STORY_BYTES) {
            return Err(format!(
                "file record of {} bytes is not a content hash and whole stories",
                bytes.len()
            ));
        }
        let (hash, rest) = bytes.split_at(HASH_BYTES);
        let mut record = FileRecord {
            hash: crate::corpus::ContentHash([0; HASH_BYTES]),
            articles,
            passages,
            stories: Vec::with_capacity(rest.len() / STORY_BYTES),
            stamp: None,
        };
        record.hash.0.copy_from_slice(hash);
        for chunk in rest.chunks_exact(STORY_BYTES) {
            let (id, bands) = chunk.split_at(8);
            let mut story = [0u8; 8];
            story.copy_from_slice(id);
            let mut out = crate::stories::StoryRecord {
                story: u64::from_le_bytes(story),
                bands: [0; crate::stories::BANDS],
            };
            for (band, bytes) in out.bands.iter_mut().zip(bands.chunks_exact(4)) {
                let mut b = [0u8; 4];
                b.copy_from_slice(bytes);
                *band = u32::from_le_bytes(b);
            }
            record.stories.push(out);
        }
        Ok(record)
    }
}

impl Serialize for FileRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.stamp {
            None => (self.articles, self.passages, self.blob()).serialize(s),
            Some(t) => {
                let stamp = (t.size, t.secs, t.nanos);
                (self.articles, self.passages, self.blob(), stamp).serialize(s)
            }
        }
    }
}

/// A file record in the object form manifests were written in before the
/// compact one.
#[derive(Deserialize)]
struct ObjectRecord {
    hash: crate::corpus::ContentHash,
    articles: u32,
    passages: u32,
    #[serde(default)]
    stories: Vec<crate::stories::StoryRecord>,
    #[serde(default)]
    stamp: Option<crate::corpus::Stamp>,
}

impl<'de> Deserialize<'de> for FileRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(RecordVisitor)
    }
}

/// Reads a file record in either form.
struct RecordVisitor;

impl<'de> serde::de::Visitor<'de> for RecordVisitor {
    type Value = FileRecord;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a file record ([articles, passages, \"base64\"] or an object)")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<FileRecord, A::Error> {
        use serde::de::Error as _;
        let FileCounts { articles, passages } = seq_counts(&mut seq)?;
        let missing = || A::Error::invalid_length(0, &"[articles, passages, \"base64\"]");
        let blob: std::borrow::Cow<'de, str> = seq.next_element()?.ok_or_else(missing)?;
        let stamp: Option<(u64, i64, u32)> = seq.next_element()?;
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(
                5,
                &"[articles, passages, \"base64\", [size, secs, nanos]]",
            ));
        }
        let mut record =
            FileRecord::from_blob(articles, passages, &blob).map_err(A::Error::custom)?;
        record.stamp = stamp.map(|(size, secs, nanos)| crate::corpus::Stamp { size, secs, nanos });
        Ok(record)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        map: A,
    ) -> std::result::Result<FileRecord, A::Error> {
        let old = ObjectRecord::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(FileRecord {
            hash: old.hash,
            articles: old.articles,
            passages: old.passages,
            stories: old.stories,
            stamp: old.stamp,
        })
    }
}

/// Everything a generation knows about itself besides the tantivy index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`crate::schema::SCHEMA_VERSION`] of the build.
    pub schema_version: u32,
    /// The frontline version that wrote it.
    pub frontline_version: String,
    /// [`crate::Gazetteer::fingerprint`] of the data used for tagging.
    pub gazetteer: String,
    /// This generation's number.
    pub generation: GenerationId,
    /// When it was committed.
    pub created: DateTime<Utc>,
    /// The corpus directory it was built from.
    pub corpus: PathBuf,
    /// Places learned from the corpus (see [`crate::tagging`]). Written
    /// before `files`, so that reading the head can stop there (manifests
    /// before session 9 wrote it after).
    #[serde(default)]
    pub learned_places: crate::tagging::LearnedPlaces,
    /// [`crate::stories::SIGNATURE_VERSION`] of the story bands in `files`
    /// (0: written before versions were recorded).
    #[serde(default)]
    pub signature_version: u32,
    /// Indexed files by path relative to the corpus root, last in the file.
    pub files: BTreeMap<String, FileRecord>,
}

impl Manifest {
    /// Total articles over all files.
    pub fn articles(&self) -> u64 {
        self.files.values().map(|f| u64::from(f.articles)).sum()
    }

    /// Total passages over all files.
    pub fn passages(&self) -> u64 {
        self.files.values().map(|f| u64::from(f.passages)).sum()
    }
}

/// A manifest without its file list: what a run needs to decide between a
/// full and an incremental build, read in one pass that keeps none of the
/// files (a million of them are ~300 MB of JSON, and as a map about as
/// much again on the heap). The files are read with
/// [`Store::manifest_files`].
#[derive(Debug, Clone)]
pub struct ManifestHead {
    /// [`crate::schema::SCHEMA_VERSION`] of the build.
    pub schema_version: u32,
    /// The frontline version that wrote it.
    pub frontline_version: String,
    /// [`crate::Gazetteer::fingerprint`] of the data used for tagging.
    pub gazetteer: String,
    /// This generation's number.
    pub generation: GenerationId,
    /// When it was committed.
    pub created: DateTime<Utc>,
    /// The corpus directory it was built from.
    pub corpus: PathBuf,
    /// Places learned from the corpus (see [`crate::tagging`]).
    pub learned_places: crate::tagging::LearnedPlaces,
    /// [`crate::stories::SIGNATURE_VERSION`] of the story bands.
    pub signature_version: u32,
}

/// A manifest's head with its file list counted, not kept: what
/// inspection (`frontline stats`, `generations`) needs, read in one pass
/// whose memory does not grow with the corpus (see
/// [`Store::manifest_summary`]).
#[derive(Debug, Clone)]
pub struct ManifestSummary {
    /// The head fields.
    pub head: ManifestHead,
    /// Indexed files (records in the file list).
    pub files: u64,
    /// Total articles over all files, as [`Manifest::articles`].
    pub articles: u64,
    /// Total passages over all files, as [`Manifest::passages`].
    pub passages: u64,
}

/// Receives the file records of a manifest in the order of the file (an
/// error message stops the read).
type OnFile<'f> = &'f mut dyn FnMut(String, FileRecord) -> std::result::Result<(), String>;

/// Receives the path and the article and passage counts of each file
/// record, in the order of the file, without the rest of the record (an
/// error message stops the read).
type OnCounts<'f> = &'f mut dyn FnMut(&str, FileCounts) -> std::result::Result<(), String>;

/// The counts of a file record (in either form); its other fields are
/// skipped undecoded.
#[derive(Debug, Clone, Copy, Deserialize)]
struct FileCounts {
    articles: u32,
    passages: u32,
}

/// The first two elements of a compact file record: its counts.
fn seq_counts<'de, A: serde::de::SeqAccess<'de>>(
    seq: &mut A,
) -> std::result::Result<FileCounts, A::Error> {
    use serde::de::Error as _;
    let missing = || A::Error::invalid_length(0, &"[articles, passages, \"base64\"]");
    let articles: u32 = seq.next_element()?.ok_or_else(missing)?;
    let passages: u32 = seq.next_element()?.ok_or_else(missing)?;
    Ok(FileCounts { articles, passages })
}

/// The counts of a file record, read from either form.
struct AnyCounts(FileCounts);

impl<'de> Deserialize<'de> for AnyCounts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(CountsVisitor)
    }
}

/// Reads the counts of a file record in either form.
struct CountsVisitor;

impl<'de> serde::de::Visitor<'de> for CountsVisitor {
    type Value = AnyCounts;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a file record ([articles, passages, \"base64\"] or an object)")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<AnyCounts, A::Error> {
        let counts = seq_counts(&mut seq)?;
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(AnyCounts(counts))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        map: A,
    ) -> std::result::Result<AnyCounts, A::Error> {
        FileCounts::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(AnyCounts)
    }
}

/// What a manifest read does with the file list.
enum FilesMode<'f> {
    /// Skip it.
    Skip,
    /// Hand each whole record to a callback.
    Records(OnFile<'f>),
    /// Hand each record's path and counts to a callback.
    Counts(OnCounts<'f>),
}

/// Deserializes a [`Manifest`] as a [`ManifestHead`], handing each file
/// record to `files` (or skipping them): the same fields, defaults and
/// unknown-field tolerance as `Manifest`'s derived `Deserialize`.
struct HeadVisitor<'f, 'e> {
    files: FilesMode<'f>,
    /// Where the head goes when the read stops before the file list
    /// (see [`STOP_AT_FILES`]).
    early: &'e mut Option<ManifestHead>,
}

/// The error that stops a head-only read at the file list of a manifest
/// that wrote its head first; never reported.
const STOP_AT_FILES: &str = "frontline: head read, file list not needed";

/// The head fields of a manifest as they are read.
#[derive(Default)]
struct HeadFields {
    schema_version: Option<u32>,
    frontline_version: Option<String>,
    gazetteer: Option<String>,
    generation: Option<GenerationId>,
    created: Option<DateTime<Utc>>,
    corpus: Option<PathBuf>,
    learned_places: Option<crate::tagging::LearnedPlaces>,
    signature_version: Option<u32>,
}

impl HeadFields {
    fn finish<E: serde::de::Error>(self) -> std::result::Result<ManifestHead, E> {
        Ok(ManifestHead {
            schema_version: self
                .schema_version
                .ok_or_else(|| E::missing_field("schema_version"))?,
            frontline_version: self
                .frontline_version
                .ok_or_else(|| E::missing_field("frontline_version"))?,
            gazetteer: self
                .gazetteer
                .ok_or_else(|| E::missing_field("gazetteer"))?,
            generation: self
                .generation
                .ok_or_else(|| E::missing_field("generation"))?,
            created: self.created.ok_or_else(|| E::missing_field("created"))?,
            corpus: self.corpus.ok_or_else(|| E::missing_field("corpus"))?,
            learned_places: self.learned_places.unwrap_or_default(),
            signature_version: self.signature_version.unwrap_or_default(),
        })
    }
}

impl<'de> serde::de::Visitor<'de> for HeadVisitor<'_, '_> {
    type Value = ManifestHead;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a generation manifest")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        mut self,
        mut map: A,
    ) -> std::result::Result<ManifestHead, A::Error> {
        use serde::de::{Error as _, IgnoredAny};
        let mut head = HeadFields::default();
        let mut files_seen = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "schema_version" => head.schema_version = Some(map.next_value()?),
                "frontline_version" => head.frontline_version = Some(map.next_value()?),
                "gazetteer" => head.gazetteer = Some(map.next_value()?),
                "generation" => head.generation = Some(map.next_value()?),
                "created" => head.created = Some(map.next_value()?),
                "corpus" => head.corpus = Some(map.next_value()?),
                "files" => {
                    files_seen = true;
                    match std::mem::replace(&mut self.files, FilesMode::Skip) {
                        mode @ (FilesMode::Records(_) | FilesMode::Counts(_)) => {
                            map.next_value_seed(FilesSeed(mode))?
                        }
                        // A manifest written head first (learned places
                        // before the files) has nothing after the files
                        // that a head read needs: stop here.
                        FilesMode::Skip
                            if head.learned_places.is_some()
                                && head.signature_version.is_some() =>
                        {
                            *self.early = Some(head.finish()?);
                            return Err(A::Error::custom(STOP_AT_FILES));
                        }
                        FilesMode::Skip => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                "learned_places" => head.learned_places = Some(map.next_value()?),
                "signature_version" => head.signature_version = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !files_seen {
            return Err(A::Error::missing_field("files"));
        }
        head.finish()
    }
}

/// The `files` object of a manifest, handed to the callback of its mode:
/// record by record, or path and counts by path and counts.
struct FilesSeed<'f>(FilesMode<'f>);

impl<'de> serde::de::DeserializeSeed<'de> for FilesSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FilesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of file records")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<(), A::Error> {
        use serde::de::Error as _;
        match self.0 {
            FilesMode::Records(on_file) => {
                while let Some((path, record)) = map.next_entry::<String, FileRecord>()? {
                    on_file(path, record).map_err(A::Error::custom)?;
                }
            }
            FilesMode::Counts(on_counts) => {
                while let Some(path) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let AnyCounts(counts) = map.next_value()?;
                    on_counts(&path, counts).map_err(A::Error::custom)?;
                }
            }
            FilesMode::Skip => {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
            }
        }
        Ok(())
    }
}

/// A chunk of file records, as the manifest reader thread sends them.
type RecordChunk = Vec<(String, FileRecord)>;

/// Records per message from the thread that reads a manifest's file list.
const FILES_CHUNK: usize = 256;
/// Messages in flight: the reader stays this far ahead, no further.
const FILES_AHEAD: usize = 4;

/// The file records of a committed generation's manifest, in path order,
/// read from disk as they are consumed (by a thread that parses the JSON
/// a chunk ahead): memory stays a few hundred records whatever the size of
/// the manifest. Dropping it early stops the reader.
pub struct ManifestFiles {
    rx: Option<std::sync::mpsc::Receiver<Result<RecordChunk>>>,
    chunk: std::vec::IntoIter<(String, FileRecord)>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ManifestFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestFiles").finish_non_exhaustive()
    }
}

impl Iterator for ManifestFiles {
    /// A record, or why the file list could not be read (then nothing more).
    type Item = Result<(String, FileRecord)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.chunk.next() {
                return Some(Ok(item));
            }
            let received = self.rx.as_ref()?.recv();
            match received {
                Ok(Ok(chunk)) => self.chunk = chunk.into_iter(),
                Ok(Err(e)) => {
                    self.rx = None;
                    return Some(Err(e));
                }
                // The reader is done.
                Err(_) => {
                    self.rx = None;
                    return None;
                }
            }
        }
    }
}

impl Drop for ManifestFiles {
    fn drop(&mut self) {
        // Closing the channel makes the reader's next send fail, which
        // stops its parse; then it is joined so no thread outlives us.
        self.rx = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// [`Manifest`]'s serialized form with the file list streamed: the same
/// fields in the same order.
#[derive(Serialize)]
struct ManifestOut<'a> {
    schema_version: u32,
    frontline_version: &'a str,
    gazetteer: &'a str,
    generation: GenerationId,
    created: &'a DateTime<Utc>,
    corpus: &'a Path,
    learned_places: &'a crate::tagging::LearnedPlaces,
    signature_version: u32,
    files: FileStream<'a>,
}

type RecordIter<'a> = dyn Iterator<Item = Result<(String, FileRecord)>> + 'a;

/// Serializes as a JSON object the records an iterator gives (once).
struct FileStream<'a> {
    files: std::cell::RefCell<&'a mut RecordIter<'a>>,
    failure: &'a std::cell::RefCell<Option<Error>>,
}

impl Serialize for FileStream<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap};
        let mut map = s.serialize_map(None)?;
        for item in &mut **self.files.borrow_mut() {
            match item {
                Ok((path, record)) => map.serialize_entry(&path, &record)?,
                Err(e) => {
                    let message = e.to_string();
                    *self.failure.borrow_mut() = Some(e);
                    return Err(S::Error::custom(message));
                }
            }
        }
        map.end()
    }
}

/// File records in path order, as [`RecordSpill::into_records`] reads them.
pub type Records = Box<dyn Iterator<Item = Result<(String, FileRecord)>>>;

/// The file records of an index run, written to a scratch file as the run
/// goes (in walk order, which is path order) and read back to write the
/// manifest: a million records is ~300 MB on the heap.
#[derive(Debug)]
pub struct RecordSpill {
    path: PathBuf,
    out: std::io::BufWriter<File>,
    last: Option<String>,
    sorted: bool,
    len: u64,
}

impl RecordSpill {
    /// Creates (or truncates) the scratch file `path`.
    pub fn create(path: impl Into<PathBuf>) -> Result<RecordSpill> {
        let path = path.into();
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(RecordSpill {
            path,
            out: std::io::BufWriter::with_capacity(1 << 16, file),
            last: None,
            sorted: true,
            len: 0,
        })
    }

    /// Appends the record of the file at `rel_path`. A later record for
    /// the same path replaces the earlier one.
    pub fn push(&mut self, rel_path: &str, record: &FileRecord) -> Result<()> {
        if self.last.as_deref().is_some_and(|last| last >= rel_path) {
            // Only paths that were not valid UTF-8 (lossily converted) can
            // come out of order; reading back then sorts in memory.
            self.sorted = false;
        }
        let last = self.last.get_or_insert_with(String::new);
        last.clear();
        last.push_str(rel_path);
        serde_json::to_writer(&mut self.out, &(rel_path, record))
            .map_err(std::io::Error::other)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| Error::io(&self.path, e))?;
        self.len += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no record was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Flushes the file and reads the records back in path order.
    pub fn into_records(mut self) -> Result<Records> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let path = self.path;
        let reader = std::io::BufReader::with_capacity(1 << 16, file);
        let records = serde_json::Deserializer::from_reader(reader)
            .into_iter::<(String, FileRecord)>()
            .map(move |item| {
                item.map_err(|e| {
                    let cause = std::io::Error::other(format!("unreadable file record: {e}"));
                    Error::io(path.clone(), cause)
                })
            });
        if self.sorted {
            return Ok(Box::new(records));
        }
        let mut sorted = BTreeMap::new();
        for item in records {
            let (path, record) = item?;
            sorted.insert(path, record);
        }
        Ok(Box::new(sorted.into_iter().map(Ok)))
    }
}

/// The file list of a new generation: the base generation's records (if
/// any) less the `removed` paths, with `changed` replacing or adding
/// records. All three come in path order (`removed` a subsequence of
/// `base`), so this is a merge of sorted streams: nothing is copied into a
/// new map, and the base can be read from disk as it goes
/// ([`Store::manifest_files`]).
pub fn merge_records<'a>(
    base: impl Iterator<Item = Result<(String, FileRecord)>> + 'a,
    removed: impl Iterator<Item = Result<String>> + 'a,
    changed: impl Iterator<Item = Result<(String, FileRecord)>> + 'a,
) -> impl Iterator<Item = Result<(String, FileRecord)>> + 'a {
    let mut base = Subtract {
        base,
        removed: removed.peekable(),
    }
    .peekable();
    let mut changed = changed.peekable();
    std::iter::from_fn(move || {
        let next_changed = match changed.peek() {
            None => return base.next(),
            Some(Err(_)) => return changed.next(),
            Some(Ok((path, _))) => path,
        };
        match base.peek() {
            Some(Err(_)) => base.next(),
            Some(Ok((path, _))) if path < next_changed => base.next(),
            Some(Ok((path, _))) if path == next_changed => {
                // The run's record replaces the base's.
                base.next();
                changed.next()
            }
            _ => changed.next(),
        }
    })
}

/// The records of `base` whose paths are not in `removed` (both sorted).
struct Subtract<B, R: Iterator> {
    base: B,
    removed: std::iter::Peekable<R>,
}

impl<B, R> Iterator for Subtract<B, R>
where
    B: Iterator<Item = Result<(String, FileRecord)>>,
    R: Iterator<Item = Result<String>>,
{
    type Item = Result<(String, FileRecord)>;

    fn next(&mut self) -> Option<Self::Item> {
        'base: loop {
            let (path, record) = match self.base.next()? {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            // A removed path that the base does not hold removes nothing.
            loop {
                match self.removed.peek() {
                    Some(Ok(gone)) if *gone < path => {
                        self.removed.next();
                    }
                    Some(Ok(gone)) if *gone == path => {
                        self.removed.next();
                        continue 'base;
                    }
                    Some(Err(_)) => return self.removed.next().and_then(|r| r.err()).map(Err),
                    _ => return Some(Ok((path, record))),
                }
            }
        }
    }
}

/// An index directory holding generations.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// A store rooted at `root` (nothing is touched yet).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// The index directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of a committed generation.
    pub fn generation_dir(&self, id: GenerationId) -> PathBuf {
        self.root.join(id.dir_name())
    }

    /// Directory where a generation is built before it is published.
    pub fn staging_dir(&self, id: GenerationId) -> PathBuf {
        self.root.join(format!("{}{TMP_SUFFIX}", id.dir_name()))
    }

    /// The live generation, or `None` for a new, empty store.
    pub fn current(&self) -> Result<Option<GenerationId>> {
        let path = self.root.join(CURRENT_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        GenerationId::parse_dir_name(text.trim())
            .map(Some)
            .ok_or_else(|| Error::CorruptIndex {
                path: self.root.clone(),
                reason: format!(
                    "{CURRENT_FILE} holds {:?}, not a generation name",
                    text.trim()
                ),
            })
    }

    /// Committed generations, oldest first.
    pub fn generations(&self) -> Result<Vec<GenerationId>> {
        let mut ids = Vec::new();
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ids),
            Err(e) => return Err(Error::io(&self.root, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.root, e))?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(GenerationId::parse_dir_name)
            {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Reads a generation's manifest.
    pub fn manifest(&self, id: GenerationId) -> Result<Manifest> {
        let path = self.generation_dir(id).join(MANIFEST_FILE);
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::CorruptIndex {
            path: self.root.clone(),
            reason: format!("{}: {e}", path.display()),
        })
    }

    /// Reads a generation's manifest without its file list (see
    /// [`ManifestHead`]): one pass over the file, keeping no record, that
    /// stops at the file list when the head was written before it (as it
    /// is since session 9; older manifests are read to the end).
    pub fn manifest_head(&self, id: GenerationId) -> Result<ManifestHead> {
        self.read_manifest(id, FilesMode::Skip)
    }

    /// Reads a generation's manifest head and counts its files, articles
    /// and passages (see [`ManifestSummary`]): one pass over the file that
    /// keeps no record and parses of each only its two counts, so memory
    /// stays a buffer whatever the size of the manifest. Use it instead of
    /// [`Store::manifest`] when the head and the totals are enough.
    ///
    /// ```no_run
    /// use frontline::generation::Store;
    /// let store = Store::new("frontline-index");
    /// if let Some(live) = store.current()? {
    ///     let summary = store.manifest_summary(live)?;
    ///     println!("{} files, {} articles", summary.files, summary.articles);
    /// }
    /// # Ok::<(), frontline::Error>(())
    /// ```
    pub fn manifest_summary(&self, id: GenerationId) -> Result<ManifestSummary> {
        let (mut files, mut articles, mut passages) = (0u64, 0u64, 0u64);
        let mut count = |_: &str, c: FileCounts| {
            files += 1;
            articles += u64::from(c.articles);
            passages += u64::from(c.passages);
            Ok(())
        };
        let head = self.read_manifest(id, FilesMode::Counts(&mut count))?;
        Ok(ManifestSummary {
            head,
            files,
            articles,
            passages,
        })
    }

    /// Whether a generation's manifest lists the file `rel_path` (a path
    /// relative to the corpus root), read like [`Store::manifest_summary`]
    /// up to the record (or the end), keeping none.
    pub fn manifest_lists(&self, id: GenerationId, rel_path: &str) -> Result<bool> {
        const FOUND: &str = "found";
        let mut found = false;
        let mut look = |path: &str, _: FileCounts| {
            if path == rel_path {
                found = true;
                // Stops the read: the rest of the file is not needed.
                return Err(FOUND.to_string());
            }
            Ok(())
        };
        let read = self.read_manifest(id, FilesMode::Counts(&mut look));
        match read {
            _ if found => Ok(true),
            Ok(_) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reads a generation's manifest head in one pass that hands every
    /// file record, in the order of the file, to `on_file` instead of
    /// keeping it. An error of `on_file` stops the read and is returned.
    pub fn manifest_head_with(
        &self,
        id: GenerationId,
        on_file: &mut dyn FnMut(String, FileRecord) -> Result<()>,
    ) -> Result<ManifestHead> {
        let mut failure = None;
        let mut visit = |path: String, record: FileRecord| {
            on_file(path, record).map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                message
            })
        };
        let read = self.read_manifest(id, FilesMode::Records(&mut visit));
        // The callback's own error, not the parser's wrapping of it.
        match failure {
            Some(e) => Err(e),
            None => read,
        }
    }

    /// The file records of a generation's manifest, in path order, read
    /// as they are consumed (see [`ManifestFiles`]). A file list out of
    /// path order (never written by frontline) is reported as a corrupt
    /// index.
    pub fn manifest_files(&self, id: GenerationId) -> Result<ManifestFiles> {
        let path = self.generation_dir(id).join(MANIFEST_FILE);
        // Opened here, so that a missing manifest is an error of the call.
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(FILES_AHEAD);
        let store = self.clone();
        let manifest = path.clone();
        let reader = std::thread::Builder::new()
            .name("manifest-files".into())
            .spawn(move || {
                let mut chunk = Vec::with_capacity(FILES_CHUNK);
                let mut last: Option<String> = None;
                let mut stopped = false;
                let mut on_file = |path: String, record: FileRecord| {
                    if last.as_ref().is_some_and(|last| *last >= path) {
                        return Err(format!("file list out of path order at {path:?}"));
                    }
                    last = Some(path.clone());
                    chunk.push((path, record));
                    if chunk.len() == FILES_CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(FILES_CHUNK));
                        if tx.send(Ok(full)).is_err() {
                            // The consumer is gone: stop parsing.
                            stopped = true;
                            return Err("stopped".into());
                        }
                    }
                    Ok(())
                };
                let read = store.parse_manifest(&manifest, file, FilesMode::Records(&mut on_file));
                if stopped {
                    return;
                }
                // The records read before a failure come first.
                if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
                    return;
                }
                if let Err(e) = read {
                    let _ = tx.send(Err(e));
                }
            })
            .map_err(|e| Error::io(&path, e))?;
        Ok(ManifestFiles {
            rx: Some(rx),
            chunk: Vec::new().into_iter(),
            reader: Some(reader),
        })
    }

    fn read_manifest(&self, id: GenerationId, files: FilesMode<'_>) -> Result<ManifestHead> {
        let path = self.generation_dir(id).join(MANIFEST_FILE);
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        self.parse_manifest(&path, file, files)
    }

    /// Parses a manifest from `file` in one streamed pass (a 1 MiB buffer,
    /// never the whole file).
    fn parse_manifest(
        &self,
        path: &Path,
        file: File,
        files: FilesMode<'_>,
    ) -> Result<ManifestHead> {
        use serde::Deserializer as _;
        let reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut de = serde_json::Deserializer::from_reader(reader);
        let mut early = None;
        let parsed = de
            .deserialize_map(HeadVisitor {
                files,
                early: &mut early,
            })
            .and_then(|head| de.end().map(|()| head));
        if let Some(head) = early {
            return Ok(head);
        }
        parsed.map_err(|e| {
            if e.is_io() {
                return Error::io(path, std::io::Error::from(e));
            }
            Error::CorruptIndex {
                path: self.root.clone(),
                reason: format!("{}: {e}", path.display()),
            }
        })
    }

    /// The schema version a generation was written with, read without
    /// parsing the whole manifest: its file list grows with the corpus (a
    /// million files is ~150 MB of JSON), and opening an index for a search
    /// must not cost that. serde writes `schema_version` first; anything
    /// else falls back to the full parse.
    pub fn schema_version(&self, id: GenerationId) -> Result<u32> {
        use std::io::Read;
        let path = self.generation_dir(id).join(MANIFEST_FILE);
        let mut head = Vec::with_capacity(64);
        fs::File::open(&path)
            .and_then(|f| f.take(64).read_to_end(&mut head))
            .map_err(|e| Error::io(&path, e))?;
        let version = std::str::from_utf8(&head)
            .ok()
            .and_then(|h| h.strip_prefix("{\"schema_version\":"))
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse().ok());
        match version {
            Some(v) => Ok(v),
            None => Ok(self.manifest_head(id)?.schema_version),
        }
    }

    /// Writes a manifest whose file list comes from `files` (in path
    /// order, as [`merge_records`] gives it) instead of `manifest.files`,
    /// which is ignored: the same bytes as [`Store::write_manifest`] of the
    /// whole manifest, without a million records in memory.
    pub fn write_manifest_streamed(
        &self,
        dir: &Path,
        manifest: &Manifest,
        files: impl Iterator<Item = Result<(String, FileRecord)>>,
    ) -> Result<()> {
        let mut files = files;
        let failure = std::cell::RefCell::new(None);
        let out = ManifestOut {
            schema_version: manifest.schema_version,
            frontline_version: &manifest.frontline_version,
            gazetteer: &manifest.gazetteer,
            generation: manifest.generation,
            created: &manifest.created,
            corpus: &manifest.corpus,
            learned_places: &manifest.learned_places,
            signature_version: manifest.signature_version,
            files: FileStream {
                files: std::cell::RefCell::new(&mut files),
                failure: &failure,
            },
        };
        let written = atomic_write_with(&dir.join(MANIFEST_FILE), |file| {
            let mut buf = std::io::BufWriter::with_capacity(1 << 16, file);
            serde_json::to_writer(&mut buf, &out).map_err(std::io::Error::other)?;
            buf.flush()
        });
        // A record that could not be read is the error to report, not the
        // serializer's wrapping of it.
        match failure.into_inner() {
            Some(e) => Err(e),
            None => written,
        }
    }

    /// Writes a manifest into a (staging) generation directory, durably.
    pub fn write_manifest(&self, dir: &Path, manifest: &Manifest) -> Result<()> {
        // Streamed: at a million files the JSON is hundreds of megabytes,
        // which must not sit in memory beside the records it comes from.
        atomic_write_with(&dir.join(MANIFEST_FILE), |out| {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
            serde_json::to_writer(&mut out, manifest).map_err(std::io::Error::other)?;
            out.flush()
        })
    }

    /// Publishes a built staging directory as generation `id` and makes it
    /// the live one. The `CURRENT` rename is the commit point.
    pub fn publish(&self, id: GenerationId) -> Result<()> {
        let staging = self.staging_dir(id);
        let target = self.generation_dir(id);
        sync_dir(&staging)?;
        fs::rename(&staging, &target).map_err(|e| Error::io(&staging, e))?;
        sync_dir(&self.root)?;
        crate::failpoint::hit("before-current");
        self.set_current(id)
    }

    /// Points `CURRENT` at an existing generation (also used by rollback).
    pub fn set_current(&self, id: GenerationId) -> Result<()> {
        let line = format!("{}\n", id.dir_name());
        atomic_write(&self.root.join(CURRENT_FILE), line.as_bytes())
    }

    /// Removes staging directories left by crashed runs; returns their names.
    pub fn remove_stale_staging(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Ok(removed);
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(GEN_PREFIX) && name.ends_with(TMP_SUFFIX) {
                fs::remove_dir_all(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                removed.push(name);
            }
        }
        removed.sort();
        Ok(removed)
    }

    /// Deletes all but the newest `keep` generations, never the live one.
    pub fn prune(&self, keep: usize) -> Result<Vec<GenerationId>> {
        let current = self.current()?;
        let all = self.generations()?;
        let keep = keep.max(1);
        let mut removed = Vec::new();
        if all.len() <= keep {
            return Ok(removed);
        }
        for id in &all[..all.len() - keep] {
            if Some(*id) == current {
                continue;
            }
            let dir = self.generation_dir(*id);
            fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            removed.push(*id);
        }
        Ok(removed)
    }

    /// Takes the writer lock: at once, or waiting for it when `wait`.
    /// The OS releases it if the process dies, so no stale lock survives.
    pub fn lock(&self, wait: bool) -> Result<WriterLock> {
        use fs2::FileExt;
        fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let path = self.root.join(LOCK_FILE);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let locked = if wait {
            file.lock_exclusive()
        } else {
            file.try_lock_exclusive()
        };
        match locked {
            Ok(()) => Ok(WriterLock { _file: file }),
            Err(e) if !wait && e.kind() == fs2::lock_contended_error().kind() => {
                Err(Error::LockHeld(self.root.clone()))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

/// Makes an earlier generation live again: `to`, or the newest one older
/// than the live generation. Takes the writer lock so it cannot race a run.
pub fn rollback(store: &Store, to: Option<GenerationId>) -> Result<GenerationId> {
    let _lock = store.lock(false)?;
    let current = store
        .current()?
        .ok_or_else(|| Error::IndexNotFound(store.root().to_path_buf()))?;
    let all = store.generations()?;
    let target = match to {
        Some(id) if all.contains(&id) => id,
        Some(id) => {
            return Err(Error::Query(format!(
                "generation {id} is not on disk (have: {})",
                all.iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
        None => all
            .iter()
            .rev()
            .find(|g| **g < current)
            .copied()
            .ok_or_else(|| Error::Query(format!("no generation older than {current} is kept")))?,
    };
    // Every record is parsed, as a whole read would, but none is kept.
    store.manifest_head_with(target, &mut |_, _| Ok(()))?;
    store.set_current(target)?;
    Ok(target)
}

/// Held while a run writes to a store; released on drop or process death.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// Writes `bytes` to `path` so that readers see the old or the new content,
/// never a mix: temp file in the same directory, fsync, rename, fsync dir.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write_with(path, |file| file.write_all(bytes))
}

/// [`atomic_write`] of whatever `write` writes into the file.
fn atomic_write_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    write(&mut file).map_err(|e| Error::io(&tmp, e))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(dir)
}

/// Fsyncs a directory so a rename inside it survives power loss.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Hard-links every regular file of `from` into the new directory `to`.
/// tantivy writes new files instead of modifying old ones (meta.json and
/// .managed.json are replaced by rename), so the copies stay independent.
pub fn link_files(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let name = entry.file_name();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if !is_file || name.to_string_lossy().starts_with(".tantivy-") {
            continue;
        }
        let dest = to.join(&name);
        if fs::hard_link(entry.path(), &dest).is_err() {
            // Filesystems without hard links: copying is slower but as safe.
            fs::copy(entry.path(), &dest).map_err(|e| Error::io(&dest, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names_round_trip() {
        let id = GenerationId(42);
        assert_eq!(GenerationId::parse_dir_name(&id.dir_name()), Some(id));
        assert_eq!(GenerationId::parse_dir_name("gen-000042.tmp"), None);
        assert_eq!(GenerationId::parse_dir_name("gen-"), None);
    }

    #[test]
    fn file_records_keep_their_manifest_form() {
        // A record as an earlier version wrote it: the hash as 64 hex digits.
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let json = format!(r#"{{"hash":"{hex}","articles":1,"passages":2}}"#);
        let record: FileRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(record.hash, crate::corpus::content_hash(b"abc"));
        assert!(record.stories.is_empty());
        let bad = json.replace("ba78", "zz78");
        let err = serde_json::from_str::<FileRecord>(&bad).unwrap_err();
        assert!(err.to_string().contains("not 64 hex digits"), "{err}");
        // With stories, in the object form.
        let old = serde_json::json!({
            "hash": hex, "articles": 2, "passages": 5,
            "stories": [{"story": u64::MAX, "bands": vec![u32::MAX; crate::stories::BANDS]},
                        {"story": 3, "bands": vec![7u32; crate::stories::BANDS]}],
        });
        let old_len = old.to_string().len();
        let record: FileRecord = serde_json::from_value(old).unwrap();
        assert_eq!(record.stories[0].story, u64::MAX);
        assert_eq!(record.stories[1].bands, [7; crate::stories::BANDS]);

        // Written compactly, and read back the same.
        let compact = serde_json::to_string(&record).unwrap();
        assert!(compact.starts_with("[2,5,\""), "{compact}");
        assert!(compact.len() < old_len, "{compact} against {old_len} bytes");
        assert_eq!(
            serde_json::from_str::<FileRecord>(&compact).unwrap(),
            record
        );
    }

    #[test]
    fn damaged_compact_records_are_errors() {
        let bad = |json: &str| {
            serde_json::from_str::<FileRecord>(json)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(r#"[1,2,"!!"]"#).contains("not base64"));
        // 33 bytes: a hash and one stray byte.
        let odd = format!(r#"[1,2,"{}"]"#, "A".repeat(44));
        assert!(bad(&odd).contains("whole stories"), "{}", bad(&odd));
        assert!(bad(r#"[1,2]"#).contains("invalid length"));
        let hash = "A".repeat(43) + "=";
        // A fourth element is a stamp, and nothing may follow it.
        let not_stamp = format!(r#"[1,2,"{hash}",4]"#);
        assert!(
            bad(&not_stamp).contains("invalid type"),
            "{}",
            bad(&not_stamp)
        );
        let extra = format!(r#"[1,2,"{hash}",[3,4,5],6]"#);
        assert!(bad(&extra).contains("invalid length"), "{}", bad(&extra));
        let stamped = format!(r#"[1,2,"{hash}",[3,-4,5]]"#);
        let stamp = serde_json::from_str::<FileRecord>(&stamped).unwrap().stamp;
        assert_eq!(
            stamp,
            Some(crate::corpus::Stamp {
                size: 3,
                secs: -4,
                nanos: 5
            })
        );
        let ok = format!(r#"[1,2,"{hash}"]"#);
        assert!(serde_json::from_str::<FileRecord>(&ok).is_ok());
    }

    fn record(n: u32) -> FileRecord {
        FileRecord {
            hash: crate::corpus::content_hash(&n.to_le_bytes()),
            articles: n,
            passages: 2 * n,
            stories: vec![crate::stories::StoryRecord {
                story: u64::from(n),
                bands: [n; crate::stories::BANDS],
            }],
            stamp: None,
        }
    }

    fn read_all(spill: RecordSpill) -> Vec<(String, FileRecord)> {
        spill.into_records().unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn spilled_records_read_back_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = RecordSpill::create(dir.path().join("r")).unwrap();
        for (path, n) in [("a.txt", 1), ("a/b \"q\".txt", 2), ("é.txt", 3)] {
            spill.push(path, &record(n)).unwrap();
        }
        assert_eq!(spill.len(), 3);
        let back = read_all(spill);
        let paths: Vec<&str> = back.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a.txt", "a/b \"q\".txt", "é.txt"]);
        assert_eq!(back[1].1, record(2));

        // Out of order (only lossily converted names can be), with a
        // repeated path: sorted on reading, the later record kept.
        let mut spill = RecordSpill::create(dir.path().join("r2")).unwrap();
        for (path, n) in [("b", 1), ("a", 2), ("b", 3)] {
            spill.push(path, &record(n)).unwrap();
        }
        let back = read_all(spill);
        assert_eq!(back, [("a".into(), record(2)), ("b".into(), record(3))]);
    }

    #[test]
    fn merge_adds_replaces_and_removes() {
        let base = [("a", 1), ("c", 3), ("d", 4), ("f", 6), ("h", 8)]
            .into_iter()
            .map(|(p, n)| Ok((p.to_string(), record(n))));
        // "e" is not in the base: removing it removes nothing.
        let removed = ["d", "e", "h"].into_iter().map(|p| Ok(p.to_string()));
        let changed = [("b", 20), ("c", 30), ("g", 70), ("i", 90)]
            .into_iter()
            .map(|(p, n)| Ok((p.to_string(), record(n))));
        let merged: Vec<(String, u32)> = merge_records(base, removed, changed)
            .map(|item| item.map(|(p, r)| (p, r.articles)).unwrap())
            .collect();
        let expect = [
            ("a", 1),
            ("b", 20),
            ("c", 30),
            ("f", 6),
            ("g", 70),
            ("i", 90),
        ];
        assert_eq!(merged, expect.map(|(p, n)| (p.to_string(), n)));
        // A full rebuild: no base.
        let only = merge_records(
            std::iter::empty(),
            std::iter::empty(),
            std::iter::once(Ok(("x".into(), record(1)))),
        );
        assert_eq!(only.count(), 1);
        // A failed read of any stream is passed on.
        fn torn<T>() -> Result<T> {
            Err(Error::io("/r", std::io::Error::other("torn")))
        }
        let base = vec![Ok(("a".to_string(), record(1))), torn()];
        let merged: Vec<_> =
            merge_records(base.into_iter(), std::iter::empty(), std::iter::empty()).collect();
        assert!(merged[1].is_err());
        let base = std::iter::once(Ok(("b".to_string(), record(1))));
        let mut merged = merge_records(base, std::iter::once(torn::<String>()), std::iter::empty());
        assert!(merged.next().is_some_and(|r| r.is_err()));
    }

    fn manifest_with(files: BTreeMap<String, FileRecord>) -> Manifest {
        Manifest {
            schema_version: 9,
            frontline_version: "0.1.0".into(),
            gazetteer: "g".into(),
            generation: GenerationId(3),
            created: Utc::now(),
            corpus: PathBuf::from("/corpus"),
            files,
            learned_places: Default::default(),
            signature_version: 2,
        }
    }

    #[test]
    fn manifest_head_and_files_are_read_as_streams() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let id = GenerationId(3);
        let gen_dir = store.generation_dir(id);
        fs::create_dir_all(&gen_dir).unwrap();
        // More records than one chunk of the reader thread.
        let files: BTreeMap<String, FileRecord> = (0..FILES_CHUNK as u32 * 2 + 7)
            .map(|n| (format!("d/{n:05}.txt"), record(n)))
            .collect();
        let manifest = manifest_with(files.clone());
        store.write_manifest(&gen_dir, &manifest).unwrap();
        let head = store.manifest_head(id).unwrap();
        assert_eq!(
            (
                head.schema_version,
                head.generation,
                head.corpus.as_path(),
                head.signature_version
            ),
            (9, id, Path::new("/corpus"), 2)
        );
        assert_eq!(head.created, manifest.created);
        let read: Vec<(String, FileRecord)> = store
            .manifest_files(id)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(read, files.clone().into_iter().collect::<Vec<_>>());
        // Dropped early: the reader thread stops (the drop joins it).
        let mut early = store.manifest_files(id).unwrap();
        assert!(early.next().is_some());
        drop(early);

        // A manifest without the fields later versions added.
        let mut json: serde_json::Value =
            serde_json::from_slice(&fs::read(gen_dir.join(MANIFEST_FILE)).unwrap()).unwrap();
        let obj = json.as_object_mut().unwrap();
        obj.remove("signature_version");
        obj.remove("learned_places");
        obj.insert("unknown_field".into(), serde_json::json!([1, 2]));
        fs::write(
            gen_dir.join(MANIFEST_FILE),
            serde_json::to_vec(&json).unwrap(),
        )
        .unwrap();
        assert_eq!(store.manifest_head(id).unwrap().signature_version, 0);

        // A file list out of path order, and a torn manifest, are corrupt.
        let text = r#"{"schema_version":2,"frontline_version":"v","gazetteer":"g","generation":3,"created":"2026-01-01T00:00:00Z","corpus":"/c","files":{"b":{"hash":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","articles":1,"passages":1},"a":{"hash":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","articles":1,"passages":1}}}"#;
        fs::write(gen_dir.join(MANIFEST_FILE), text).unwrap();
        assert!(store.manifest_head(id).is_ok());
        let items: Vec<_> = store.manifest_files(id).unwrap().collect();
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("out of path order"), "{err}");
        fs::write(gen_dir.join(MANIFEST_FILE), &text[..text.len() / 2]).unwrap();
        assert!(matches!(
            store.manifest_head(id),
            Err(Error::CorruptIndex { .. })
        ));
        let last = store.manifest_files(id).unwrap().last().unwrap();
        assert!(matches!(last, Err(Error::CorruptIndex { .. })));
        fs::remove_file(gen_dir.join(MANIFEST_FILE)).unwrap();
        assert!(store.manifest_files(id).is_err());
    }

    #[test]
    fn streamed_manifest_is_the_whole_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let files: BTreeMap<String, FileRecord> = [("a", 1), ("b/c.txt", 2)]
            .into_iter()
            .map(|(p, n)| (p.to_string(), record(n)))
            .collect();
        let mut manifest = manifest_with(files.clone());
        let whole = dir.path().join("whole");
        let streamed = dir.path().join("streamed");
        fs::create_dir_all(&whole).unwrap();
        fs::create_dir_all(&streamed).unwrap();
        store.write_manifest(&whole, &manifest).unwrap();
        let records = files.clone().into_iter().map(Ok);
        manifest.files = BTreeMap::new();
        store
            .write_manifest_streamed(&streamed, &manifest, records)
            .unwrap();
        let read = |d: &Path| fs::read(d.join(MANIFEST_FILE)).unwrap();
        assert_eq!(read(&whole), read(&streamed));

        // A record that cannot be read fails the write with its own error.
        let bad = std::iter::once(Err(Error::io("/scratch/r", std::io::Error::other("torn"))));
        let err = store
            .write_manifest_streamed(&streamed, &manifest, bad)
            .unwrap_err();
        assert!(err.to_string().contains("/scratch/r: torn"), "{err}");
        assert_eq!(read(&whole), read(&streamed), "the old manifest stays");
    }

    #[test]
    fn second_lock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let _held = store.lock(false).unwrap();
        assert!(matches!(store.lock(false), Err(Error::LockHeld(_))));
    }

    #[test]
    fn prune_keeps_newest_and_current() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        for n in 1..=4 {
            fs::create_dir_all(store.generation_dir(GenerationId(n))).unwrap();
        }
        store.set_current(GenerationId(1)).unwrap();
        let removed = store.prune(2).unwrap();
        assert_eq!(removed, vec![GenerationId(2)]);
    }
}
