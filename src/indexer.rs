//! Building and updating an index from a corpus directory.
//!
//! One run: take the writer lock, clean up what a crashed run left, decide
//! between a full and an incremental build, stream the corpus through
//! read → hash → parse → tag → split → tantivy documents in batches (a
//! producer prepares the next batches while the current one is tagged and
//! indexed, and tantivy's own threads index), commit, and publish the new
//! generation atomically (see [`crate::generation`]).
//!
//! Memory is bounded by the tantivy writer budget plus a few batches of
//! files (`BATCHES_AHEAD` + 2, each at most `BATCH_FILES` files and about
//! `BATCH_BYTES` of input): the article stream is never held in memory at
//! once, and neither is any per-file or per-article state of a full build.
//! The walk is streamed; the file records go to a scratch file in the
//! staging directory, read back in path order into the manifest; the story
//! table lives in memory-mapped scratch files there (page cache, not heap).
//! What remains is 8 bytes per article (story ids by insertion order) and,
//! for an incremental run, the previous generation's manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;
use tantivy::indexer::UserOperation;
use tantivy::schema::Facet;
use tantivy::{IndexWriter, TantivyDocument, Term};

use crate::article::Article;
use crate::corpus::{self, SourceFile, WalkOptions};
use crate::error::{Error, Result};
use crate::gazetteer::Gazetteer;
use crate::generation::{self, FileRecord, GenerationId, Manifest, RecordSpill, Store};
use crate::passage::{self, Passage, SplitOptions};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::stories::{self, StoryIndex, StoryRecord};
use crate::tagging::{ArticleTags, LearnedPlaces, PlaceCandidate, Tagger};

pub use crate::corpus::Skipped;

/// Default tantivy writer memory budget: 512 MiB over all indexing threads.
pub const DEFAULT_MEMORY_BUDGET: usize = 512 << 20;
/// Default number of generations kept on disk (the live one and one before).
pub const DEFAULT_KEEP: usize = 2;
/// Files processed per batch: bounds memory, and places learned in one
/// batch serve the articles of the same and later batches.
const BATCH_FILES: usize = 512;
/// Bytes of input per batch (a file's size on disk, gzip counted at
/// [`GZIP_RATIO`]): what bounds memory when files hold many articles. A
/// JSON Lines feed of 100 articles is ~400 KB, and 512 of them in each of
/// the batches in flight held 1.3 GB at 1M articles.
const BATCH_BYTES: u64 = 8 << 20;
/// Assumed expansion of gzip input, for [`BATCH_BYTES`].
const GZIP_RATIO: u64 = 4;
/// Marks the gazetteer fingerprint of a generation built without tagging,
/// so that the next run cannot reuse its untagged articles.
const UNTAGGED: &str = "-untagged";
/// The run's scratch files (file records, story tables), inside its
/// staging directory: removed before the generation is published, and with
/// the staging directory when a run fails or crashes.
const SCRATCH_DIR: &str = ".frontline-scratch";
/// Prepared batches waiting to be indexed: enough to keep the producer
/// busy while the name table is built, few enough that memory stays
/// the writer budget plus a handful of batches.
const BATCHES_AHEAD: usize = 3;

/// How to run an index build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The corpus directory to walk.
    pub corpus: PathBuf,
    /// The index directory (created when missing).
    pub index: PathBuf,
    /// A directory of gazetteer files overriding the embedded ones.
    pub schema_dir: Option<PathBuf>,
    /// Rebuild from scratch even when an incremental update is possible.
    pub full: bool,
    /// Fail, and leave the index unchanged, when any file is skipped.
    pub strict: bool,
    /// Follow symbolic links while walking the corpus.
    pub follow_links: bool,
    /// tantivy writer memory budget in bytes, shared by its threads.
    pub memory_budget: usize,
    /// Indexing threads (default: available cores, at most 8).
    pub threads: Option<usize>,
    /// Generations to keep on disk, including the new one (at least 1).
    pub keep: usize,
    /// Wait for another run's writer lock instead of failing at once.
    pub wait_for_lock: bool,
    /// Tag articles (provinces, groups, event dates) and learn places. Only
    /// for measuring what tagging costs: `false` indexes every article with
    /// no tags, and the next run rebuilds fully.
    pub tagging: bool,
}

impl BuildOptions {
    /// Options with the defaults: incremental, not strict, 512 MiB, keep 2.
    ///
    /// ```
    /// let opts = frontline::BuildOptions::new("sample-corpus", "/tmp/idx");
    /// assert!(!opts.full);
    /// ```
    pub fn new(corpus: impl Into<PathBuf>, index: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            corpus: corpus.into(),
            index: index.into(),
            schema_dir: None,
            full: false,
            strict: false,
            follow_links: false,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            threads: None,
            keep: DEFAULT_KEEP,
            wait_for_lock: false,
            tagging: true,
        }
    }
}

/// Whether a run rebuilt everything or updated the previous generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildMode {
    /// Every file was read, parsed and indexed into a fresh index.
    Full,
    /// Only new, changed and deleted files were processed.
    Incremental,
}

/// What an index run did, for people (text) and schedulers (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct BuildSummary {
    /// The live generation after the run.
    pub generation: GenerationId,
    /// Whether a new generation was published (false when nothing changed).
    pub published: bool,
    /// Full or incremental.
    pub mode: BuildMode,
    /// Why a full rebuild was done, when it was.
    pub full_reason: Option<String>,
    /// Corpus files found by the walk (supported formats only).
    pub files_seen: u64,
    /// Files read and parsed in this run.
    pub files_read: u64,
    /// New files indexed.
    pub added: u64,
    /// Changed files re-indexed.
    pub updated: u64,
    /// Files gone from the corpus whose articles were removed.
    pub deleted: u64,
    /// Files whose content hash had not changed.
    pub unchanged: u64,
    /// Articles indexed in this run.
    pub articles: u64,
    /// Passages indexed in this run.
    pub passages: u64,
    /// Articles in the live index after the run.
    pub total_articles: u64,
    /// Passages in the live index after the run.
    pub total_passages: u64,
    /// Files not indexed, and why.
    pub skipped: Vec<Skipped>,
    /// Problems that did not stop a file from being indexed.
    pub warnings: Vec<Skipped>,
    /// What was cleaned up from crashed runs and old generations.
    pub cleaned: Vec<String>,
    /// Places learned from the corpus so far.
    pub learned_places: usize,
    /// Wall time of the run.
    #[serde(serialize_with = "serialize_secs")]
    pub duration: Duration,
}

fn serialize_secs<S: serde::Serializer>(
    d: &Duration,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Receives progress events from a run (the CLI draws a bar with them).
pub trait Progress: Sync {
    /// Whether [`Progress::begin`] should get the corpus totals: they cost
    /// a walk of the corpus before indexing (which streams its own walk).
    fn wants_totals(&self) -> bool {
        false
    }
    /// The corpus holds `files` to look at, `bytes` in total (called only
    /// when [`Progress::wants_totals`]).
    fn begin(&self, _files: u64, _bytes: u64) {}
    /// One more file was handled.
    fn advance(&self, _bytes: u64) {}
    /// Indexing is done; committing and publishing follow.
    fn finish(&self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// Builds or updates the index described by `opts`.
pub fn build(opts: &BuildOptions, progress: &dyn Progress) -> Result<BuildSummary> {
    let started = Instant::now();
    let store = Store::new(&opts.index);
    let _lock = store.lock(opts.wait_for_lock)?;
    let mut cleaned: Vec<String> = store
        .remove_stale_staging()?
        .into_iter()
        .map(|name| format!("removed half-built generation {name}"))
        .collect();
    let gazetteer = Gazetteer::load(opts.schema_dir.as_deref())?;
    let previous = match store.current()? {
        Some(id) => Some(store.manifest(id)?),
        None => None,
    };
    let full_reason = full_rebuild_reason(opts, previous.as_ref(), &gazetteer);
    let base = if full_reason.is_none() {
        previous.as_ref()
    } else {
        None
    };
    // After a rollback the live generation is not the newest: never reuse a
    // number that is still on disk.
    let newest = store.generations()?.last().map_or(0, |g| g.0);
    let id = GenerationId(newest.max(previous.as_ref().map_or(0, |m| m.generation.0)) + 1);

    let mut run = Run::start(opts, &store, id, base, &gazetteer)?;
    let walk_options = WalkOptions {
        follow_links: opts.follow_links,
    };
    if progress.wants_totals() {
        let (mut files, mut bytes) = (0u64, 0u64);
        for file in corpus::Walk::new(&opts.corpus, &walk_options)?.flatten() {
            files += 1;
            bytes += file.size;
        }
        progress.begin(files, bytes);
    }
    let walk = corpus::Walk::new(&opts.corpus, &walk_options)?;
    let files_seen = run.index_files(walk, progress)?;
    run.delete_vanished();
    progress.finish();

    let summary_base = run.counts(id, full_reason.clone(), files_seen);
    if opts.strict && !run.skipped.is_empty() {
        let summary = run.abandon(summary_base, started);
        let _ = std::fs::remove_dir_all(store.staging_dir(id));
        return Err(Error::Strict(Box::new(summary)));
    }
    let nothing_changed = full_reason.is_none()
        && summary_base.added + summary_base.updated + summary_base.deleted == 0;
    if let (true, Some(prev)) = (nothing_changed, previous.as_ref()) {
        let summary = run.abandon(summary_base, started);
        let _ = std::fs::remove_dir_all(store.staging_dir(id));
        return Ok(BuildSummary {
            generation: prev.generation,
            published: false,
            ..summary
        });
    }
    let committed = run.commit_index(id)?;
    // The run is over: its base's file list moves into the new manifest.
    let base_files = if full_reason.is_none() {
        previous.map(|m| m.files)
    } else {
        None
    };
    let mut summary = committed.publish(summary_base, base_files, &store)?;
    for gone in store.prune(opts.keep)? {
        cleaned.push(format!("removed old generation {}", gone.dir_name()));
    }
    summary.cleaned = cleaned;
    summary.duration = started.elapsed();
    Ok(summary)
}

fn full_rebuild_reason(
    opts: &BuildOptions,
    previous: Option<&Manifest>,
    gazetteer: &Gazetteer,
) -> Option<String> {
    let Some(prev) = previous else {
        return Some("no previous generation".into());
    };
    if opts.full {
        return Some("--full requested".into());
    }
    if !opts.tagging {
        return Some("tagging disabled".into());
    }
    if prev.gazetteer.ends_with(UNTAGGED) {
        return Some("the previous generation was built without tagging".into());
    }
    if prev.schema_version != SCHEMA_VERSION {
        return Some(format!(
            "schema version changed ({} -> {SCHEMA_VERSION})",
            prev.schema_version
        ));
    }
    if prev.signature_version != stories::SIGNATURE_VERSION {
        return Some("story signatures changed".into());
    }
    if prev.gazetteer != gazetteer.fingerprint() {
        return Some("gazetteer changed".into());
    }
    if prev.corpus != opts.corpus {
        return Some(format!(
            "corpus directory changed ({} -> {})",
            prev.corpus.display(),
            opts.corpus.display()
        ));
    }
    None
}

/// The state of one index run between start and commit.
struct Run<'a> {
    staging: PathBuf,
    index: tantivy::Index,
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    gazetteer: &'a Gazetteer,
    base: Option<&'a Manifest>,
    /// The base's file paths in order, and which of them the walk found.
    base_paths: Vec<&'a str>,
    present: Vec<bool>,
    /// The run's scratch directory (inside `staging`).
    scratch: PathBuf,
    /// Records of the files parsed by this run, in walk order; with
    /// `removed`, what the new manifest changes in the base's file list
    /// (which is moved into it at the end, not copied).
    changed: RecordSpill,
    /// Base files that are no longer in the corpus.
    removed: BTreeSet<String>,
    /// Articles and passages the new generation will hold.
    total_articles: u64,
    total_passages: u64,
    learned: LearnedPlaces,
    stories: StoryIndex,
    corpus: PathBuf,
    tagging: bool,
    split: SplitOptions,
    skipped: Vec<Skipped>,
    warnings: Vec<Skipped>,
    added: u64,
    updated: u64,
    unchanged: u64,
    deleted: u64,
    files_read: u64,
    articles: u64,
    passages: u64,
}

/// What happened to one file in a batch.
enum FileOutcome {
    Unchanged,
    Parsed {
        hash: corpus::ContentHash,
        articles: Vec<Article>,
        warnings: Vec<Skipped>,
        /// What the articles may teach, in article order (confirmed and
        /// applied in walk order).
        places: Vec<PlaceCandidate>,
        /// Each article's key and story signature, in article order.
        signatures: Vec<(u64, stories::Signature)>,
    },
    Failed(Skipped),
}

impl<'a> Run<'a> {
    fn start(
        opts: &BuildOptions,
        store: &Store,
        id: GenerationId,
        base: Option<&'a Manifest>,
        gazetteer: &'a Gazetteer,
    ) -> Result<Run<'a>> {
        let staging = store.staging_dir(id);
        let (schema, fields) = schema::build_schema();
        let index = match base {
            Some(prev) => {
                generation::link_files(&store.generation_dir(prev.generation), &staging)?;
                tantivy::Index::open_in_dir(&staging)?
            }
            None => {
                std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
                tantivy::Index::builder()
                    .schema(schema)
                    .settings(schema::index_settings())
                    .create_in_dir(&staging)?
            }
        };
        schema::register_tokenizers(&index);
        let threads = opts.threads.unwrap_or_else(default_threads).clamp(1, 8);
        let budget = opts.memory_budget.max(threads * (16 << 20));
        let writer = index.writer_with_num_threads(threads, budget)?;
        let scratch = staging.join(SCRATCH_DIR);
        std::fs::create_dir_all(&scratch).map_err(|e| Error::io(&scratch, e))?;
        let base_paths: Vec<&str> = base
            .into_iter()
            .flat_map(|m| m.files.keys())
            .map(String::as_str)
            .collect();
        Ok(Run {
            staging,
            index,
            writer,
            fields,
            gazetteer,
            base,
            present: vec![false; base_paths.len()],
            base_paths,
            changed: RecordSpill::create(scratch.join("records.jsonl"))?,
            removed: BTreeSet::new(),
            total_articles: base.map_or(0, Manifest::articles),
            total_passages: base.map_or(0, Manifest::passages),
            learned: base.map(|m| m.learned_places.clone()).unwrap_or_default(),
            stories: story_index(base, &scratch)?,
            scratch,
            corpus: opts.corpus.clone(),
            tagging: opts.tagging,
            split: SplitOptions::default(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            added: 0,
            updated: 0,
            unchanged: 0,
            deleted: 0,
            files_read: 0,
            articles: 0,
            passages: 0,
        })
    }

    /// Streams the files through a two-stage pipeline so that both cores
    /// stay busy: a producer thread walks the corpus, reads and parses the
    /// next batches, finds their place cues and signs them (per-file work,
    /// on rayon), while this thread applies each batch's places and stories
    /// in walk order (sequential, cheap) and tags and indexes it (rayon and
    /// tantivy's threads). Returns the number of files the walk found.
    fn index_files(&mut self, walk: corpus::Walk, progress: &dyn Progress) -> Result<u64> {
        let base = self.base;
        let gazetteer = self.gazetteer;
        let tagging = self.tagging;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
            let producer = scope.spawn(move || {
                let mut seen = 0u64;
                let mut skipped = Vec::new();
                let mut batcher = Batcher::new(BATCH_FILES, BATCH_BYTES);
                let send = |batch: Vec<SourceFile>| {
                    let outcomes =
                        prepare_batch(&batch, base, tagging.then_some(gazetteer), progress);
                    // A send fails only when the consumer stopped on an error.
                    tx.send((batch, outcomes)).is_ok()
                };
                for entry in walk {
                    let file = match entry {
                        Ok(file) => file,
                        Err(skip) => {
                            skipped.push(skip);
                            continue;
                        }
                    };
                    seen += 1;
                    if let Some(full) = batcher.push(file) {
                        if !send(full) {
                            return (seen, skipped);
                        }
                    }
                }
                crate::failpoint::hit("after-walk");
                if let Some(last) = batcher.finish() {
                    send(last);
                }
                (seen, skipped)
            });
            // Builds the name table (the place tables' load, about half a
            // second) while the producer runs ahead.
            let mut tagger = if tagging {
                Some(Tagger::with_learned(gazetteer, &self.learned)?)
            } else {
                None
            };
            for (batch, outcomes) in rx {
                self.process_batch(tagger.as_mut(), &batch, outcomes)?;
                crate::failpoint::hit("mid-index");
            }
            let (seen, walk_skipped) = match producer.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            // What the walk could not list comes first, as when the walk
            // was done before indexing.
            self.skipped.splice(0..0, walk_skipped);
            Ok(seen)
        })
    }

    fn process_batch(
        &mut self,
        tagger: Option<&mut Tagger<'a>>,
        batch: &[SourceFile],
        mut outcomes: Vec<FileOutcome>,
    ) -> Result<()> {
        // Learn before tagging so the batch's own articles use what it teaches.
        for outcome in &mut outcomes {
            if let FileOutcome::Parsed { places, .. } = outcome {
                let confirmed = Tagger::confirm_places(self.gazetteer, std::mem::take(places));
                self.learned.add_all(confirmed);
            }
        }
        let assigned = self.assign_stories(&outcomes)?;
        let tagger: Option<&Tagger> = match tagger {
            Some(tagger) => {
                tagger.update_learned(&self.learned)?;
                Some(tagger)
            }
            None => None,
        };
        let indexed = Mutex::new(Vec::new());
        let error = Mutex::new(None);
        batch
            .par_iter()
            .zip(outcomes.par_iter())
            .zip(assigned.par_iter())
            .for_each(|((file, outcome), stories)| {
                let FileOutcome::Parsed { articles, .. } = outcome else {
                    return;
                };
                match self.index_file(tagger, file, articles, stories) {
                    Ok(passages) => lock(&indexed).push((file.rel_path.clone(), passages)),
                    Err(e) => *lock(&error) = Some(e),
                }
            });
        if let Some(e) = lock(&error).take() {
            return Err(e);
        }
        let passages_by_file: BTreeMap<String, u32> = lock(&indexed).drain(..).collect();
        for ((file, outcome), stories) in batch.iter().zip(outcomes).zip(assigned) {
            self.record(file, outcome, &passages_by_file, stories)?;
        }
        Ok(())
    }

    /// Gives every parsed article its story, in walk order so that runs are
    /// deterministic (a hash lookup each; the signatures were computed by
    /// the producer).
    fn assign_stories(&mut self, outcomes: &[FileOutcome]) -> Result<Vec<Vec<StoryRecord>>> {
        let mut assigned = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let FileOutcome::Parsed { signatures, .. } = outcome else {
                assigned.push(Vec::new());
                continue;
            };
            let mut records = Vec::with_capacity(signatures.len());
            for (key, bands) in signatures {
                records.push(StoryRecord {
                    story: self.stories.assign(*key, bands)?,
                    bands: *bands,
                });
            }
            assigned.push(records);
        }
        Ok(assigned)
    }

    /// Deletes the file's old passages (if any) and adds the new ones.
    fn index_file(
        &self,
        tagger: Option<&Tagger>,
        file: &SourceFile,
        articles: &[Article],
        stories: &[StoryRecord],
    ) -> Result<u32> {
        if self
            .base
            .is_some_and(|m| m.files.contains_key(&file.rel_path))
        {
            self.writer.delete_term(Term::from_field_text(
                self.fields.source_path,
                &file.rel_path,
            ));
        }
        let mut passages = 0u32;
        for (article, record) in articles.iter().zip(stories) {
            let tags = tagger.map_or_else(ArticleTags::default, |t| t.tag(article));
            let story = record.story;
            // One batch per article: tantivy indexes a batch in one segment,
            // in order, so an article's passages stay contiguous and its
            // first passage (which alone carries the title, outlet and url)
            // is `doc - passage` (schema version 2).
            let batch: Vec<UserOperation> = passage::split(article, &self.split)
                .iter()
                .map(|p| {
                    UserOperation::Add(passage_document(&self.fields, article, &tags, p, story))
                })
                .collect();
            passages += batch.len() as u32;
            self.writer.run(batch)?;
        }
        Ok(passages)
    }

    fn record(
        &mut self,
        file: &SourceFile,
        outcome: FileOutcome,
        passages: &BTreeMap<String, u32>,
        stories: Vec<StoryRecord>,
    ) -> Result<()> {
        let base_record = self.base.and_then(|m| m.files.get(&file.rel_path));
        let existed = base_record.is_some();
        self.mark_present(&file.rel_path);
        match outcome {
            FileOutcome::Unchanged => self.unchanged += 1,
            FileOutcome::Failed(mut skip) => {
                if existed {
                    skip.reason
                        .push_str(" (kept the previously indexed version)");
                }
                self.skipped.push(skip);
            }
            FileOutcome::Parsed {
                hash,
                articles,
                warnings,
                ..
            } => {
                self.files_read += 1;
                if existed {
                    self.updated += 1;
                } else {
                    self.added += 1;
                }
                let n = passages.get(&file.rel_path).copied().unwrap_or(0);
                self.articles += articles.len() as u64;
                self.passages += u64::from(n);
                self.warnings.extend(warnings);
                if let Some(old) = base_record {
                    self.total_articles -= u64::from(old.articles);
                    self.total_passages -= u64::from(old.passages);
                }
                self.total_articles += articles.len() as u64;
                self.total_passages += u64::from(n);
                let record = FileRecord {
                    hash,
                    articles: articles.len() as u32,
                    passages: n,
                    stories,
                };
                self.changed.push(&file.rel_path, &record)?;
            }
        }
        Ok(())
    }

    /// Notes that the walk found a file of the base generation.
    fn mark_present(&mut self, rel_path: &str) {
        mark_present(&self.base_paths, &mut self.present, rel_path);
    }

    /// Removes the articles of files that are no longer in the corpus. A
    /// file the walk could not read (skipped) is not "vanished".
    fn delete_vanished(&mut self) {
        let Some(base) = self.base else { return };
        for skip in &self.skipped {
            mark_present(&self.base_paths, &mut self.present, &skip.path);
        }
        for (i, (path, record)) in base.files.iter().enumerate() {
            if self.present[i] {
                continue;
            }
            self.writer
                .delete_term(Term::from_field_text(self.fields.source_path, path));
            self.removed.insert(path.clone());
            self.deleted += 1;
            self.total_articles -= u64::from(record.articles);
            self.total_passages -= u64::from(record.passages);
        }
    }

    fn counts(&self, id: GenerationId, full_reason: Option<String>, seen: u64) -> BuildSummary {
        BuildSummary {
            generation: id,
            published: true,
            mode: if full_reason.is_some() {
                BuildMode::Full
            } else {
                BuildMode::Incremental
            },
            full_reason,
            files_seen: seen,
            files_read: self.files_read,
            added: self.added,
            updated: self.updated,
            deleted: self.deleted,
            unchanged: self.unchanged,
            articles: self.articles,
            passages: self.passages,
            total_articles: self.total_articles,
            total_passages: self.total_passages,
            skipped: self.skipped.clone(),
            warnings: self.warnings.clone(),
            cleaned: Vec::new(),
            learned_places: self.learned.len(),
            duration: Duration::ZERO,
        }
    }

    /// Drops the writer without committing: the staging dir is discarded.
    fn abandon(self, summary: BuildSummary, started: Instant) -> BuildSummary {
        drop(self.writer);
        BuildSummary {
            published: false,
            duration: started.elapsed(),
            ..summary
        }
    }

    /// Commits the staging index (not yet published) and hands back what
    /// the manifest needs, so that the base manifest is free to be moved.
    fn commit_index(self, id: GenerationId) -> Result<Committed> {
        let Run {
            staging,
            index,
            mut writer,
            gazetteer,
            scratch,
            changed,
            removed,
            learned,
            stories,
            corpus,
            tagging,
            ..
        } = self;
        // Its scratch files go before the commit needs the memory.
        drop(stories);
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&format!("frontline generation {id}"));
        prepared.commit()?;
        crate::failpoint::hit("after-commit");
        writer.wait_merging_threads()?;
        drop(index);
        Ok(Committed {
            staging,
            gazetteer: if tagging {
                gazetteer.fingerprint()
            } else {
                format!("{}{UNTAGGED}", gazetteer.fingerprint())
            },
            scratch,
            changed,
            removed,
            learned,
            corpus,
        })
    }
}

/// A committed staging index waiting for its manifest and publication.
struct Committed {
    staging: PathBuf,
    gazetteer: String,
    scratch: PathBuf,
    changed: RecordSpill,
    removed: BTreeSet<String>,
    learned: LearnedPlaces,
    corpus: PathBuf,
}

impl Committed {
    /// Writes the manifest (the base's file list, `None` for a full
    /// rebuild, with this run's changes) and publishes the generation.
    fn publish(
        self,
        summary: BuildSummary,
        base_files: Option<BTreeMap<String, FileRecord>>,
        store: &Store,
    ) -> Result<BuildSummary> {
        let id = summary.generation;
        let manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            frontline_version: env!("CARGO_PKG_VERSION").to_string(),
            gazetteer: self.gazetteer,
            generation: id,
            created: chrono::Utc::now(),
            corpus: self.corpus,
            // Streamed by `write_manifest_streamed`.
            files: BTreeMap::new(),
            learned_places: self.learned,
            signature_version: stories::SIGNATURE_VERSION,
        };
        let files =
            generation::merge_records(base_files, &self.removed, self.changed.into_records()?);
        store.write_manifest_streamed(&self.staging, &manifest, files)?;
        drop(manifest);
        std::fs::remove_dir_all(&self.scratch).map_err(|e| Error::io(&self.scratch, e))?;
        crate::failpoint::hit("before-publish");
        store.publish(id)?;
        crate::failpoint::hit("after-current");
        Ok(summary)
    }
}

/// Sets the flag of `rel_path` in `present`, if it is one of the base
/// generation's (sorted) `base_paths`.
fn mark_present(base_paths: &[&str], present: &mut [bool], rel_path: &str) {
    if let Ok(i) = base_paths.binary_search(&rel_path) {
        present[i] = true;
    }
}

/// Seeds the story index (file-backed, in the run's scratch directory)
/// with the previous generation's articles, so new copies of old stories
/// join them.
fn story_index(base: Option<&Manifest>, scratch: &std::path::Path) -> Result<StoryIndex> {
    let mut index = StoryIndex::in_dir(scratch.join("stories"))?;
    for record in base
        .iter()
        .flat_map(|m| m.files.values())
        .flat_map(|f| &f.stories)
    {
        index.insert(*record)?;
    }
    Ok(index)
}

/// Cuts the walked files into batches of at most `max_files` files and
/// about `max_bytes` of input (a bigger file is a batch of its own), in
/// walk order.
struct Batcher {
    max_files: usize,
    max_bytes: u64,
    batch: Vec<SourceFile>,
    bytes: u64,
}

impl Batcher {
    fn new(max_files: usize, max_bytes: u64) -> Batcher {
        Batcher {
            max_files: max_files.max(1),
            max_bytes,
            batch: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds the next file; returns the batch it does not fit in, if any.
    fn push(&mut self, file: SourceFile) -> Option<Vec<SourceFile>> {
        let size = if file.gzip {
            file.size.saturating_mul(GZIP_RATIO)
        } else {
            file.size
        };
        let full = !self.batch.is_empty()
            && (self.batch.len() >= self.max_files
                || self.bytes.saturating_add(size) > self.max_bytes);
        let done = if full {
            self.bytes = 0;
            Some(std::mem::take(&mut self.batch))
        } else {
            None
        };
        self.batch.push(file);
        self.bytes = self.bytes.saturating_add(size);
        done
    }

    /// The last batch, unless empty.
    fn finish(self) -> Option<Vec<SourceFile>> {
        (!self.batch.is_empty()).then_some(self.batch)
    }
}

/// Reads, parses and analyses one batch in parallel: everything about a
/// file that does not depend on the files before it.
///
/// Place cues are looked for only with a gazetteer (when tagging).
fn prepare_batch(
    batch: &[SourceFile],
    base: Option<&Manifest>,
    gazetteer: Option<&Gazetteer>,
    progress: &dyn Progress,
) -> Vec<FileOutcome> {
    batch
        .par_iter()
        .map(|file| {
            let outcome = read_file(file, base, gazetteer);
            progress.advance(file.size);
            outcome
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock means a worker panicked; its data is still usable here.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn read_file(
    file: &SourceFile,
    base: Option<&Manifest>,
    gazetteer: Option<&Gazetteer>,
) -> FileOutcome {
    let bytes = match corpus::read(file) {
        Ok(bytes) => bytes,
        Err(skip) => return FileOutcome::Failed(skip),
    };
    let hash = corpus::content_hash(&bytes);
    if base
        .and_then(|m| m.files.get(&file.rel_path))
        .is_some_and(|rec| rec.hash == hash)
    {
        return FileOutcome::Unchanged;
    }
    let parsed = corpus::parse(file, &bytes);
    match parsed.error {
        Some(skip) => FileOutcome::Failed(skip),
        None => FileOutcome::Parsed {
            hash,
            places: gazetteer.map_or_else(Vec::new, |g| {
                parsed
                    .articles
                    .iter()
                    .flat_map(|a| Tagger::place_candidates(g, a))
                    .collect()
            }),
            signatures: parsed
                .articles
                .iter()
                .map(|a| (schema::article_key(&a.id.0), article_signature(a)))
                .collect(),
            articles: parsed.articles,
            warnings: parsed.warnings,
        },
    }
}

/// The story signature of the article's body: its paragraphs, in order
/// (joining them with a newline would give the same words, hence shingles).
fn article_signature(article: &Article) -> stories::Signature {
    stories::signature_of_parts(article.paragraphs.iter().map(|p| p.text.as_str()))
}

fn to_tantivy_date(date: NaiveDate) -> tantivy::DateTime {
    let secs = date
        .and_hms_opt(0, 0, 0)
        .map_or(0, |dt| dt.and_utc().timestamp());
    schema::tantivy_date_from_secs(secs)
}

/// Maps one tagged passage to its tantivy document.
fn passage_document(
    f: &Fields,
    article: &Article,
    tags: &ArticleTags,
    p: &Passage,
    story: u64,
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.article_id, &article.id.0);
    doc.add_u64(f.article_key, schema::article_key(&article.id.0));
    doc.add_text(f.source_path, &article.source_path);
    let first = p.ordinal == 0;
    if first {
        doc.add_text(f.title, &article.title);
    }
    doc.add_text(f.text, &p.text);
    doc.add_u64(f.paragraph, u64::from(p.paragraph));
    doc.add_u64(f.passage, u64::from(p.ordinal));
    doc.add_u64(f.story, story);
    let published = article.published.map(|dt| dt.date_naive());
    if let Some(date) = article.published {
        doc.add_date(
            f.published,
            schema::tantivy_date_from_secs(date.timestamp()),
        );
    }
    if let Some(date) = tags.event_date.or(published) {
        doc.add_date(f.event_date, to_tantivy_date(date));
    }
    if let Some(outlet) = article.outlet.as_ref().filter(|_| first) {
        doc.add_text(f.outlet, outlet);
    }
    if let Some(url) = article.url.as_ref().filter(|_| first) {
        doc.add_text(f.url, url);
    }
    for province in &tags.provinces {
        doc.add_facet(f.province, province.facet());
    }
    for province in &tags.mentions {
        doc.add_facet(f.mention, province.facet());
    }
    for country in &tags.countries {
        doc.add_facet(f.country, Facet::from_path([country.as_str()]));
    }
    for group in &tags.groups {
        doc.add_facet(f.group, Facet::from_path([group.as_str()]));
    }
    if first {
        let record = schema::ArticleRecord {
            id: article.id.0.clone(),
            provinces: tags
                .provinces
                .iter()
                .map(|p| schema::facet_display(&p.facet()))
                .collect(),
            mentions: tags
                .mentions
                .iter()
                .map(|p| schema::facet_display(&p.facet()))
                .collect(),
            groups: tags.groups.clone(),
            countries: tags.countries.clone(),
        };
        // Serializing strings to JSON cannot fail.
        if let Ok(json) = serde_json::to_string(&record) {
            doc.add_text(f.article, json);
        }
    }
    let own = tags.passage_tags(p.paragraph, p.last_paragraph);
    for province in &own.provinces {
        doc.add_facet(f.passage_province, province.facet());
    }
    for group in &own.groups {
        doc.add_facet(f.passage_group, Facet::from_path([group.as_str()]));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Format;

    fn file(size: u64, gzip: bool) -> SourceFile {
        SourceFile {
            path: PathBuf::from("x"),
            rel_path: "x".into(),
            format: Format::Text,
            gzip,
            size,
        }
    }

    fn sizes(files: &[SourceFile], max_files: usize, max_bytes: u64) -> Vec<usize> {
        let mut batcher = Batcher::new(max_files, max_bytes);
        let mut out: Vec<usize> = files
            .iter()
            .filter_map(|f| batcher.push(f.clone()))
            .map(|b| b.len())
            .collect();
        out.extend(batcher.finish().map(|b| b.len()));
        out
    }

    #[test]
    fn batches_are_cut_by_count_and_by_bytes() {
        let small: Vec<_> = (0..10).map(|_| file(10, false)).collect();
        assert_eq!(sizes(&small, 4, 1000), [4, 4, 2]);
        assert_eq!(sizes(&small, 100, 35), [3, 3, 3, 1]);
        // A file bigger than the byte budget is a batch of its own.
        let mixed = [file(10, false), file(500, false), file(10, false)];
        assert_eq!(sizes(&mixed, 100, 100), [1, 1, 1]);
        // Gzip input counts at its expanded size.
        let gz: Vec<_> = (0..4).map(|_| file(10, true)).collect();
        assert_eq!(sizes(&gz, 100, 80), [2, 2]);
        assert_eq!(sizes(&[], 4, 100), Vec::<usize>::new());
    }
}
