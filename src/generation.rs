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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Content hash of the file's bytes.
    pub hash: crate::corpus::ContentHash,
    /// Articles indexed from it.
    pub articles: u32,
    /// Passages indexed from it.
    pub passages: u32,
    /// Story assignment of each article, in file order (see [`crate::stories`]).
    #[serde(default)]
    pub stories: Vec<crate::stories::StoryRecord>,
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
    /// Indexed files by path relative to the corpus root.
    pub files: BTreeMap<String, FileRecord>,
    /// Places learned from the corpus (see [`crate::tagging`]).
    #[serde(default)]
    pub learned_places: crate::tagging::LearnedPlaces,
    /// [`crate::stories::SIGNATURE_VERSION`] of the story bands in `files`
    /// (0: written before versions were recorded).
    #[serde(default)]
    pub signature_version: u32,
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
    files: FileStream<'a>,
    learned_places: &'a crate::tagging::LearnedPlaces,
    signature_version: u32,
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
/// any) less the `removed` paths, with `changed` (in path order) replacing
/// or adding records. A merge of two sorted streams: nothing is copied
/// into a new map.
pub fn merge_records<'a>(
    base: Option<BTreeMap<String, FileRecord>>,
    removed: &'a std::collections::BTreeSet<String>,
    changed: impl Iterator<Item = Result<(String, FileRecord)>> + 'a,
) -> impl Iterator<Item = Result<(String, FileRecord)>> + 'a {
    let mut base = base
        .unwrap_or_default()
        .into_iter()
        .filter(move |(path, _)| !removed.contains(path))
        .peekable();
    let mut changed = changed.peekable();
    std::iter::from_fn(move || {
        let next_changed = match changed.peek() {
            None => return base.next().map(Ok),
            Some(Err(_)) => return changed.next(),
            Some(Ok((path, _))) => path,
        };
        match base.peek() {
            Some((path, _)) if path < next_changed => base.next().map(Ok),
            Some((path, _)) if path == next_changed => {
                // The run's record replaces the base's.
                base.next();
                changed.next()
            }
            _ => changed.next(),
        }
    })
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
            None => Ok(self.manifest(id)?.schema_version),
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
            files: FileStream {
                files: std::cell::RefCell::new(&mut files),
                failure: &failure,
            },
            learned_places: &manifest.learned_places,
            signature_version: manifest.signature_version,
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
    store.manifest(target)?;
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
        let again = serde_json::to_string(&record).unwrap();
        assert!(
            again.starts_with(&format!(r#"{{"hash":"{hex}","#)),
            "{again}"
        );
        let bad = json.replace("ba78", "zz78");
        let err = serde_json::from_str::<FileRecord>(&bad).unwrap_err();
        assert!(err.to_string().contains("not 64 hex digits"), "{err}");
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
        let base: BTreeMap<String, FileRecord> = [("a", 1), ("c", 3), ("d", 4), ("f", 6)]
            .into_iter()
            .map(|(p, n)| (p.to_string(), record(n)))
            .collect();
        let removed = std::collections::BTreeSet::from(["d".to_string()]);
        let changed = [("b", 20), ("c", 30), ("g", 70)]
            .into_iter()
            .map(|(p, n)| Ok((p.to_string(), record(n))));
        let merged: Vec<(String, u32)> = merge_records(Some(base), &removed, changed)
            .map(|item| item.map(|(p, r)| (p, r.articles)).unwrap())
            .collect();
        let expect = [("a", 1), ("b", 20), ("c", 30), ("f", 6), ("g", 70)];
        assert_eq!(merged, expect.map(|(p, n)| (p.to_string(), n)));
        // A full rebuild: no base.
        let only = merge_records(None, &removed, std::iter::once(Ok(("x".into(), record(1)))));
        assert_eq!(only.count(), 1);
    }

    #[test]
    fn streamed_manifest_is_the_whole_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let files: BTreeMap<String, FileRecord> = [("a", 1), ("b/c.txt", 2)]
            .into_iter()
            .map(|(p, n)| (p.to_string(), record(n)))
            .collect();
        let mut manifest = Manifest {
            schema_version: 9,
            frontline_version: "0.1.0".into(),
            gazetteer: "g".into(),
            generation: GenerationId(3),
            created: Utc::now(),
            corpus: PathBuf::from("/corpus"),
            files: files.clone(),
            learned_places: Default::default(),
            signature_version: 2,
        };
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
