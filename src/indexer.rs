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
//! once, and neither is any per-file or per-article state, in a full or an
//! incremental run. The walk is streamed; the file records go to a scratch
//! file in the staging directory, read back in path order into the
//! manifest; the story table lives in memory-mapped scratch files there
//! (page cache, not heap). An incremental run reads the previous
//! manifest's file list from disk, never whole: once to seed the story
//! table, once joined with the walk (both in path order: the base records
//! the join passes over are the vanished files, spilled to scratch too),
//! and once merged into the new manifest. What remains is 8 bytes per
//! article (story ids by insertion order).

use std::collections::{BTreeMap, BTreeSet, HashSet};
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
use crate::generation::{
    self, FileRecord, GenerationId, Manifest, ManifestFiles, ManifestHead, RecordSpill, Store,
};
use crate::passage::{self, Passage, SplitOptions};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::stories::{self, StoryIndex, StoryRecord};
use crate::tagging::{IdTags, LearnedPlaces, PlaceCandidate, Tagger};

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
    /// Read and hash every file, even one whose size and modification time
    /// are those the previous run recorded (see [`corpus::Stamp`]): for a
    /// corpus whose files may be rewritten with the same size and time.
    pub rehash: bool,
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
            rehash: false,
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
    let current = store.current()?;
    // After a rollback the live generation is not the newest: never reuse a
    // number that is still on disk.
    let newest = store.generations()?.last().map_or(0, |g| g.0);
    let id = GenerationId(newest.max(current.map_or(0, |g| g.0)) + 1);
    // The previous manifest is never held whole. One pass reads its head
    // and, unless the run is bound to be full, seeds the story table
    // (scratch files of the staging directory) with its articles; the run
    // streams its file list again from disk.
    let scratch = store.staging_dir(id).join(SCRATCH_DIR);
    let (previous, seeded) = match current {
        None => (None, None),
        Some(live) if !opts.full && opts.tagging => {
            let mut seeded = Seeded::new(&scratch)?;
            match store.manifest_head_with(live, &mut |_, record| seeded.add(&record)) {
                Ok(head) => (Some(head), Some(seeded)),
                Err(e) => {
                    // Nothing was built: leave no half-built generation.
                    drop(seeded);
                    let _ = std::fs::remove_dir_all(store.staging_dir(id));
                    return Err(e);
                }
            }
        }
        Some(live) => (Some(store.manifest_head(live)?), None),
    };
    let full_reason = full_rebuild_reason(opts, previous.as_ref(), &gazetteer);
    let (base, seeded) = if full_reason.is_none() {
        (previous.as_ref(), seeded)
    } else {
        // Its files go with it.
        drop(seeded);
        (None, None)
    };

    let mut run = Run::start(opts, &store, id, base, seeded, &gazetteer)?;
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
    let walked = match run.index_files(store.clone(), walk, progress) {
        Ok(walked) => walked,
        Err(e) => return Err(run.writer_failure(e)),
    };
    let files_seen = walked.seen;
    run.delete_vanished(walked.vanished, &walked.late)?;
    progress.finish();

    let summary_base = run.counts(id, full_reason.clone(), files_seen);
    if opts.strict && !run.skipped.is_empty() {
        let summary = run.abandon(summary_base, started);
        let _ = std::fs::remove_dir_all(store.staging_dir(id));
        return Err(Error::Strict(Box::new(summary)));
    }
    // New stamps alone (files touched, or a base written before stamps)
    // publish nothing: they are recorded with the next change, and until
    // then those files are read again.
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
    // The base's file list is read again, from disk, into the new manifest.
    let base_generation = base.map(|m| m.generation);
    let mut summary = committed.publish(summary_base, base_generation, &store)?;
    for gone in store.prune(opts.keep)? {
        cleaned.push(format!("removed old generation {}", gone.dir_name()));
    }
    summary.cleaned = cleaned;
    summary.duration = started.elapsed();
    Ok(summary)
}

fn full_rebuild_reason(
    opts: &BuildOptions,
    previous: Option<&ManifestHead>,
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
    base: Option<&'a ManifestHead>,
    /// The run's scratch directory (inside `staging`).
    scratch: PathBuf,
    /// Records of the files parsed by this run, in walk order; with
    /// `removed`, what the new manifest changes in the base's file list
    /// (which is read again from disk and merged with them at the end).
    changed: RecordSpill,
    /// Base files that are no longer in the corpus, in path order.
    removed: RecordSpill,
    /// Articles and passages the new generation will hold.
    total_articles: u64,
    total_passages: u64,
    learned: LearnedPlaces,
    stories: StoryIndex,
    corpus: PathBuf,
    tagging: bool,
    /// Read every file, trusting no stamp ([`BuildOptions::rehash`]).
    rehash: bool,
    split: SplitOptions,
    /// Facets of the gazetteer's provinces and groups (empty untagged).
    facets: TagFacets,
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
    /// Read, and its content unchanged, but the stamp to record is not the
    /// base record's (a base written before stamps, or a file touched).
    Restamped(Option<corpus::Stamp>),
    Parsed {
        hash: corpus::ContentHash,
        stamp: Option<corpus::Stamp>,
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
        base: Option<&'a ManifestHead>,
        seeded: Option<Seeded>,
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
        let seeded = match (seeded, base) {
            (Some(seeded), _) => seeded,
            (None, Some(head)) => seed_from_base(store, head, &scratch)?,
            (None, None) => Seeded::new(&scratch)?,
        };
        Ok(Run {
            staging,
            index,
            writer,
            fields,
            gazetteer,
            base,
            changed: RecordSpill::create(scratch.join("records.jsonl"))?,
            removed: RecordSpill::create(scratch.join("removed.jsonl"))?,
            total_articles: seeded.articles,
            total_passages: seeded.passages,
            learned: base.map(|m| m.learned_places.clone()).unwrap_or_default(),
            stories: seeded.stories,
            scratch,
            corpus: opts.corpus.clone(),
            tagging: opts.tagging,
            rehash: opts.rehash,
            split: SplitOptions::default(),
            facets: match opts.tagging {
                true => TagFacets::new(gazetteer),
                false => TagFacets::default(),
            },
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
    /// stay busy: a producer thread walks the corpus, joins the walk with
    /// the base generation's file list (both in path order, the list read
    /// from disk as it goes), reads and parses the next batches, finds their
    /// place cues and signs them (per-file work, on rayon), while this
    /// thread applies each batch's places and stories in walk order
    /// (sequential, cheap) and tags and indexes it (rayon and tantivy's
    /// threads). Returns what the walk found and the base files it did not.
    fn index_files(
        &mut self,
        store: Store,
        walk: corpus::Walk,
        progress: &dyn Progress,
    ) -> Result<Walked> {
        let gazetteer = self.gazetteer;
        let tagging = self.tagging;
        let trust_stamps = !self.rehash;
        let base_files = match self.base {
            Some(head) => Some(store.manifest_files(head.generation)?),
            None => None,
        };
        let base_generation = self.base.map(|m| m.generation);
        let vanished = RecordSpill::create(self.scratch.join("vanished.jsonl"))?;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
            let producer = scope.spawn(move || -> Result<Walked> {
                let mut seen = 0u64;
                let mut skipped = Vec::new();
                let mut batcher = Batcher::new(BATCH_FILES, BATCH_BYTES);
                let mut cursor = BaseCursor::new(base_files, store, base_generation, vanished);
                let send = |batch: Vec<WalkedFile>| {
                    let outcomes =
                        prepare_batch(&batch, tagging.then_some(gazetteer), trust_stamps, progress);
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
                    let base = cursor.find(&file.rel_path)?;
                    if let Some(full) = batcher.push(WalkedFile { file, base }) {
                        if !send(full) {
                            // The consumer failed: its error is the run's.
                            return Ok(cursor.into_walked(seen, skipped));
                        }
                    }
                }
                crate::failpoint::hit("after-walk");
                if let Some(last) = batcher.finish() {
                    send(last);
                }
                cursor.finish(seen, skipped)
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
            let mut walked = match producer.join() {
                Ok(done) => done?,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            // What the walk could not list comes first, as when the walk
            // was done before indexing.
            self.skipped
                .splice(0..0, std::mem::take(&mut walked.skipped));
            Ok(walked)
        })
    }

    fn process_batch(
        &mut self,
        tagger: Option<&mut Tagger<'a>>,
        batch: &[WalkedFile],
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
                    Ok(passages) => lock(&indexed).push((file.file.rel_path.clone(), passages)),
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
        file: &WalkedFile,
        articles: &[Article],
        stories: &[StoryRecord],
    ) -> Result<u32> {
        if file.base.is_some() {
            self.writer.delete_term(Term::from_field_text(
                self.fields.source_path,
                &file.file.rel_path,
            ));
        }
        let mut passages = 0u32;
        for (article, record) in articles.iter().zip(stories) {
            let tags = tagger.map(|t| t.tag_ids(article));
            let story = record.story;
            // One batch per article: tantivy indexes a batch in one segment,
            // in order, so an article's passages stay contiguous and its
            // first passage (which alone carries the title, outlet, url and
            // the article's facets) is `doc - passage` (schema version 2;
            // facets since 3).
            let batch: Vec<UserOperation> = passage::split(article, &self.split)
                .iter()
                .map(|p| {
                    UserOperation::Add(passage_document(
                        &self.fields,
                        &self.facets,
                        article,
                        tags.as_ref(),
                        p,
                        story,
                    ))
                })
                .collect();
            passages += batch.len() as u32;
            self.writer.run(batch)?;
        }
        Ok(passages)
    }

    fn record(
        &mut self,
        walked: &WalkedFile,
        outcome: FileOutcome,
        passages: &BTreeMap<String, u32>,
        stories: Vec<StoryRecord>,
    ) -> Result<()> {
        let file = &walked.file;
        let base_record = walked.base.as_ref();
        let existed = base_record.is_some();
        match outcome {
            FileOutcome::Unchanged => self.unchanged += 1,
            FileOutcome::Restamped(stamp) => {
                self.unchanged += 1;
                if let Some(old) = base_record {
                    let record = FileRecord {
                        stamp,
                        ..old.clone()
                    };
                    self.changed.push(&file.rel_path, &record)?;
                }
            }
            FileOutcome::Failed(mut skip) => {
                if existed {
                    skip.reason
                        .push_str(" (kept the previously indexed version)");
                }
                self.skipped.push(skip);
            }
            FileOutcome::Parsed {
                hash,
                stamp,
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
                    stamp,
                };
                self.changed.push(&file.rel_path, &record)?;
            }
        }
        Ok(())
    }

    /// Removes the articles of the base files the walk did not find
    /// (`vanished`, in path order). A file the walk could not read
    /// (skipped) is not "vanished", nor one the walk found out of path
    /// order (`late`).
    fn delete_vanished(&mut self, vanished: RecordSpill, late: &BTreeSet<String>) -> Result<()> {
        if self.base.is_none() {
            return Ok(());
        }
        let skipped: HashSet<String> = self.skipped.iter().map(|s| s.path.clone()).collect();
        for item in gone(vanished, &skipped, late)? {
            let (path, record) = item?;
            self.writer
                .delete_term(Term::from_field_text(self.fields.source_path, &path));
            self.removed.push(&path, &record)?;
            self.deleted += 1;
            self.total_articles -= u64::from(record.articles);
            self.total_passages -= u64::from(record.passages);
        }
        Ok(())
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

    /// `e`, or the error that stopped one of tantivy's indexing threads when
    /// `e` only says that one stopped ("index writer was killed"): a full
    /// disk is reported as such. The thread's own error comes out of a
    /// commit attempt, which joins the threads; nothing is committed (the
    /// run fails either way, and its staging directory is removed by the
    /// next run).
    fn writer_failure(&mut self, e: Error) -> Error {
        if !matches!(e, Error::Tantivy(tantivy::TantivyError::ErrorInThread(_))) {
            return e;
        }
        match self.writer.prepare_commit() {
            // Named by the directory being written.
            Err(tantivy::TantivyError::IoError(io)) => Error::io(
                &self.staging,
                std::io::Error::new(io.kind(), io.to_string()),
            ),
            Err(cause) => Error::Tantivy(cause),
            Ok(prepared) => {
                let _ = prepared.abort();
                e
            }
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
    removed: RecordSpill,
    learned: LearnedPlaces,
    corpus: PathBuf,
}

impl Committed {
    /// Writes the manifest (the file list of the base generation, `None`
    /// for a full rebuild, with this run's changes) and publishes the
    /// generation.
    fn publish(
        self,
        summary: BuildSummary,
        base: Option<GenerationId>,
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
        let base_files = match base {
            Some(generation) => Some(store.manifest_files(generation)?),
            None => None,
        };
        let removed = self
            .removed
            .into_records()?
            .map(|item| item.map(|(path, _)| path));
        let files = generation::merge_records(
            base_files.into_iter().flatten(),
            removed,
            self.changed.into_records()?,
        );
        store.write_manifest_streamed(&self.staging, &manifest, files)?;
        drop(manifest);
        std::fs::remove_dir_all(&self.scratch).map_err(|e| Error::io(&self.scratch, e))?;
        crate::failpoint::hit("before-publish");
        store.publish(id)?;
        crate::failpoint::hit("after-current");
        Ok(summary)
    }
}

/// What a run starts from: the story index seeded with the base
/// generation's articles (so that new copies of old stories join them) and
/// the base's totals.
struct Seeded {
    stories: StoryIndex,
    articles: u64,
    passages: u64,
}

impl Seeded {
    /// An empty story index, file-backed in the run's scratch directory.
    fn new(scratch: &std::path::Path) -> Result<Seeded> {
        Ok(Seeded {
            stories: StoryIndex::in_dir(scratch.join("stories"))?,
            articles: 0,
            passages: 0,
        })
    }

    /// Adds a base file's articles.
    fn add(&mut self, record: &FileRecord) -> Result<()> {
        self.articles += u64::from(record.articles);
        self.passages += u64::from(record.passages);
        for story in &record.stories {
            self.stories.insert(*story)?;
        }
        Ok(())
    }
}

/// Seeds the story index from the base generation's file list, read from
/// disk in one pass (when the head was read without seeding).
fn seed_from_base(store: &Store, base: &ManifestHead, scratch: &std::path::Path) -> Result<Seeded> {
    let mut seeded = Seeded::new(scratch)?;
    for item in store.manifest_files(base.generation)? {
        let (_, record) = item?;
        seeded.add(&record)?;
    }
    Ok(seeded)
}

/// The `vanished` records (base files the walk passed) that are really
/// gone: not named by a skip (a file the walk found but could not list or
/// read keeps its indexed version) and not walked out of order (`late`).
/// Walk errors can name a path after the join passed it, so they are
/// looked up at the end, when all of them are known.
fn gone<'s>(
    vanished: RecordSpill,
    skipped: &'s HashSet<String>,
    late: &'s BTreeSet<String>,
) -> Result<impl Iterator<Item = Result<(String, FileRecord)>> + 's> {
    let records = vanished.into_records()?;
    Ok(records.filter(move |item| {
        item.as_ref().map_or(true, |(path, _)| {
            !skipped.contains(path) && !late.contains(path)
        })
    }))
}

/// A walked file with the base generation's record of the same path.
struct WalkedFile {
    file: SourceFile,
    base: Option<FileRecord>,
}

/// What the producer hands back at the end of the walk.
struct Walked {
    /// Files the walk found.
    seen: u64,
    /// What the walk could not list.
    skipped: Vec<Skipped>,
    /// Base records whose paths the walk passed without finding them, in
    /// path order: vanished, unless a skip names them.
    vanished: RecordSpill,
    /// Walked paths that came out of path order, looked up on their own.
    late: BTreeSet<String>,
}

/// The merge-join of the walk with the base generation's file list: both
/// come in path order, so each walked file's base record is found by
/// reading the list forward, and the records passed over are the files
/// the walk did not find. Nothing of the list is held but the next record.
struct BaseCursor {
    files: Option<std::iter::Peekable<ManifestFiles>>,
    store: Store,
    generation: Option<GenerationId>,
    vanished: RecordSpill,
    /// The last walked path and its base record (a path walked twice,
    /// which lossily converted names can give, gets the same record).
    last: Option<(String, Option<FileRecord>)>,
    late: BTreeSet<String>,
}

impl BaseCursor {
    fn new(
        files: Option<ManifestFiles>,
        store: Store,
        generation: Option<GenerationId>,
        vanished: RecordSpill,
    ) -> BaseCursor {
        BaseCursor {
            files: files.map(Iterator::peekable),
            store,
            generation,
            vanished,
            last: None,
            late: BTreeSet::new(),
        }
    }

    /// The base record of the walked file `rel_path` (`None`: a new file).
    fn find(&mut self, rel_path: &str) -> Result<Option<FileRecord>> {
        let Some(files) = self.files.as_mut() else {
            return Ok(None);
        };
        if let Some((last, record)) = &self.last {
            if rel_path == last.as_str() {
                return Ok(record.clone());
            }
            if rel_path < last.as_str() {
                // Out of path order (the walk sorts names by their lossy
                // form, so only ties between two names that are not UTF-8
                // can do this): the list has moved past it, so read it
                // again for this one path, and keep the path from being
                // taken for vanished.
                self.late.insert(rel_path.to_string());
                return self.look_up(rel_path);
            }
        }
        let found = loop {
            match files.peek() {
                Some(Ok((path, _))) if path.as_str() < rel_path => {
                    if let Some(Ok((path, record))) = files.next() {
                        self.vanished.push(&path, &record)?;
                    }
                }
                Some(Ok((path, _))) if path.as_str() == rel_path => {
                    break files.next().and_then(|item| item.ok()).map(|(_, r)| r);
                }
                Some(Err(_)) => {
                    return match files.next() {
                        Some(Err(e)) => Err(e),
                        _ => Ok(None),
                    };
                }
                _ => break None,
            }
        };
        let last = self.last.get_or_insert_with(|| (String::new(), None));
        last.0.clear();
        last.0.push_str(rel_path);
        last.1.clone_from(&found);
        Ok(found)
    }

    /// Finds one path's record by reading the base's file list from the start.
    fn look_up(&self, rel_path: &str) -> Result<Option<FileRecord>> {
        let Some(generation) = self.generation else {
            return Ok(None);
        };
        for item in self.store.manifest_files(generation)? {
            let (path, record) = item?;
            match path.as_str().cmp(rel_path) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => return Ok(Some(record)),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Ends the join: the rest of the base list was not walked.
    fn finish(mut self, seen: u64, skipped: Vec<Skipped>) -> Result<Walked> {
        if let Some(files) = self.files.take() {
            for item in files {
                let (path, record) = item?;
                self.vanished.push(&path, &record)?;
            }
        }
        Ok(self.into_walked(seen, skipped))
    }

    fn into_walked(self, seen: u64, skipped: Vec<Skipped>) -> Walked {
        Walked {
            seen,
            skipped,
            vanished: self.vanished,
            late: self.late,
        }
    }
}

/// Cuts the walked files into batches of at most `max_files` files and
/// about `max_bytes` of input (a bigger file is a batch of its own), in
/// walk order.
struct Batcher {
    max_files: usize,
    max_bytes: u64,
    batch: Vec<WalkedFile>,
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
    fn push(&mut self, walked: WalkedFile) -> Option<Vec<WalkedFile>> {
        let file = &walked.file;
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
        self.batch.push(walked);
        self.bytes = self.bytes.saturating_add(size);
        done
    }

    /// The last batch, unless empty.
    fn finish(self) -> Option<Vec<WalkedFile>> {
        (!self.batch.is_empty()).then_some(self.batch)
    }
}

/// Reads, parses and analyses one batch in parallel: everything about a
/// file that does not depend on the files before it.
///
/// Place cues are looked for only with a gazetteer (when tagging).
fn prepare_batch(
    batch: &[WalkedFile],
    gazetteer: Option<&Gazetteer>,
    trust_stamps: bool,
    progress: &dyn Progress,
) -> Vec<FileOutcome> {
    batch
        .par_iter()
        .map(|walked| {
            let outcome = read_file(&walked.file, walked.base.as_ref(), gazetteer, trust_stamps);
            progress.advance(walked.file.size);
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

/// Reads, hashes and (unless its hash is the base record's) parses a file;
/// with `trust_stamps`, a file whose stamp is the base record's is not
/// even read.
fn read_file(
    file: &SourceFile,
    base: Option<&FileRecord>,
    gazetteer: Option<&Gazetteer>,
    trust_stamps: bool,
) -> FileOutcome {
    if trust_stamps && base.is_some_and(|rec| rec.stamp.is_some() && rec.stamp == file.stamp) {
        return FileOutcome::Unchanged;
    }
    // Taken before the read: a file modified less than `Stamp::QUIET`
    // before it may be modified again within the same timestamp.
    let read_at = std::time::SystemTime::now();
    let bytes = match corpus::read(file) {
        Ok(bytes) => bytes,
        Err(skip) => return FileOutcome::Failed(skip),
    };
    let stamp = file.stamp.filter(|s| s.settled(read_at));
    let hash = corpus::content_hash(&bytes);
    if let Some(rec) = base.filter(|rec| rec.hash == hash) {
        return match rec.stamp == stamp {
            true => FileOutcome::Unchanged,
            false => FileOutcome::Restamped(stamp),
        };
    }
    let parsed = corpus::parse(file, &bytes);
    match parsed.error {
        Some(skip) => FileOutcome::Failed(skip),
        None => FileOutcome::Parsed {
            hash,
            stamp,
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

/// The facets of every province and group of a gazetteer, and their names
/// as hits show them, made once per run: a tagged passage clones these
/// instead of building each from the tag's strings.
#[derive(Debug, Default)]
struct TagFacets {
    /// By index into [`Gazetteer::provinces`].
    provinces: Vec<Facet>,
    /// By index into [`Gazetteer::groups`].
    groups: Vec<Facet>,
    /// [`schema::facet_display`] of `provinces`: the article record's
    /// values and the passage's own `passage_province` terms.
    province_names: Vec<String>,
    /// [`schema::facet_display`] of `groups`.
    group_names: Vec<String>,
}

impl TagFacets {
    fn new(g: &Gazetteer) -> TagFacets {
        let provinces: Vec<Facet> = g.provinces().iter().map(|p| p.province.facet()).collect();
        let groups: Vec<Facet> = g
            .groups()
            .iter()
            .map(|e| Facet::from_path([e.name.as_str()]))
            .collect();
        TagFacets {
            province_names: provinces.iter().map(schema::facet_display).collect(),
            group_names: groups.iter().map(schema::facet_display).collect(),
            provinces,
            groups,
        }
    }

    fn provinces<'f>(&'f self, ids: &'f [u32]) -> impl Iterator<Item = &'f Facet> + 'f {
        ids.iter().filter_map(|&id| self.provinces.get(id as usize))
    }

    fn groups<'f>(&'f self, ids: &'f [u32]) -> impl Iterator<Item = &'f Facet> + 'f {
        ids.iter().filter_map(|&id| self.groups.get(id as usize))
    }

    fn province_names<'f>(&'f self, ids: &'f [u32]) -> impl Iterator<Item = &'f str> + 'f {
        ids.iter()
            .filter_map(|&id| self.province_names.get(id as usize))
            .map(String::as_str)
    }

    fn group_names<'f>(&'f self, ids: &'f [u32]) -> impl Iterator<Item = &'f str> + 'f {
        ids.iter()
            .filter_map(|&id| self.group_names.get(id as usize))
            .map(String::as_str)
    }
}

/// Maps one passage and its article's tags (none when the run does not
/// tag) to its tantivy document.
fn passage_document(
    f: &Fields,
    facets: &TagFacets,
    article: &Article,
    tags: Option<&IdTags>,
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
    if let Some(date) = tags.and_then(IdTags::event_date).or(published) {
        doc.add_date(f.event_date, to_tantivy_date(date));
    }
    if let Some(outlet) = article.outlet.as_ref().filter(|_| first) {
        doc.add_text(f.outlet, outlet);
    }
    if let Some(url) = article.url.as_ref().filter(|_| first) {
        doc.add_text(f.url, url);
    }
    let none: &[u32] = &[];
    let (provinces, mentions, groups) = tags.map_or((none, none, none), |t| {
        (t.province_ids(), t.mention_ids(), t.group_ids())
    });
    let countries: &[&str] = tags.map_or(&[], IdTags::countries);
    if first {
        // The article's facets on its first passage only (schema version
        // 3): filters and facet counts join them to the other passages
        // (`doc - passage`), so tantivy indexes them once per article, not
        // once per passage.
        for facet in facets.provinces(provinces) {
            doc.add_facet(f.province, facet.clone());
        }
        for facet in facets.provinces(mentions) {
            doc.add_facet(f.mention, facet.clone());
        }
        for country in countries {
            doc.add_facet(f.country, Facet::from_path([*country]));
        }
        for facet in facets.groups(groups) {
            doc.add_facet(f.group, facet.clone());
        }
        let display = |ids| facets.province_names(ids).map(str::to_string).collect();
        let record = schema::ArticleRecord {
            id: article.id.0.clone(),
            provinces: display(provinces),
            mentions: display(mentions),
            groups: facets.group_names(groups).map(str::to_string).collect(),
            countries: countries.iter().map(|c| c.to_string()).collect(),
        };
        // Serializing strings to JSON cannot fail.
        if let Ok(json) = serde_json::to_string(&record) {
            doc.add_text(f.article, json);
        }
    }
    if let Some(tags) = tags {
        let (provinces, groups) = tags.passage_ids(p.paragraph, p.last_paragraph);
        // Raw terms, not facets (schema version 4): see `own_tag_term`.
        for name in facets.province_names(&provinces) {
            doc.add_text(f.passage_province, name);
        }
        for name in facets.group_names(&groups) {
            doc.add_text(f.passage_group, name);
        }
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
            stamp: None,
        }
    }

    fn sizes(files: &[SourceFile], max_files: usize, max_bytes: u64) -> Vec<usize> {
        let mut batcher = Batcher::new(max_files, max_bytes);
        let mut out: Vec<usize> = files
            .iter()
            .filter_map(|f| {
                batcher.push(WalkedFile {
                    file: f.clone(),
                    base: None,
                })
            })
            .map(|b| b.len())
            .collect();
        out.extend(batcher.finish().map(|b| b.len()));
        out
    }

    fn record(text: &str, articles: u32) -> FileRecord {
        FileRecord {
            hash: corpus::content_hash(text.as_bytes()),
            articles,
            passages: 2 * articles,
            stories: Vec::new(),
            stamp: None,
        }
    }

    /// What an incremental run decides for each file: joins the walk of
    /// `corpus` with the manifest of a base generation holding `base`
    /// (path, content) and classifies each walked file as a read would.
    /// Writes a previous generation's manifest with `files` and opens its
    /// file list, as an incremental run finds it.
    fn write_base_manifest(
        store: &Store,
        generation: GenerationId,
        corpus: &std::path::Path,
        files: impl Iterator<Item = (String, FileRecord)>,
    ) -> ManifestFiles {
        let gen_dir = store.generation_dir(generation);
        std::fs::create_dir_all(&gen_dir).unwrap();
        let manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            frontline_version: "test".into(),
            gazetteer: "g".into(),
            generation,
            created: chrono::Utc::now(),
            corpus: corpus.to_path_buf(),
            files: files.collect(),
            learned_places: LearnedPlaces::default(),
            signature_version: stories::SIGNATURE_VERSION,
        };
        store.write_manifest(&gen_dir, &manifest).unwrap();
        store.manifest_files(generation).unwrap()
    }

    /// Returns (path, decision) in walk order and the vanished paths.
    fn join(
        corpus: &std::path::Path,
        base: Option<&[(&str, &str)]>,
        walk_skips: &[&str],
    ) -> (Vec<(String, &'static str)>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("index"));
        let generation = GenerationId(1);
        let files = base.map(|base| {
            let files = base
                .iter()
                .map(|(path, text)| (path.to_string(), record(text, 1)));
            write_base_manifest(&store, generation, corpus, files)
        });
        let vanished = RecordSpill::create(dir.path().join("vanished")).unwrap();
        let mut cursor = BaseCursor::new(files, store, Some(generation), vanished);
        let mut decisions = Vec::new();
        let mut seen = 0;
        for file in corpus::Walk::new(corpus, &WalkOptions::default()).unwrap() {
            let file = file.unwrap();
            seen += 1;
            let base = cursor.find(&file.rel_path).unwrap();
            let decision = match (read_file(&file, base.as_ref(), None, true), base.is_some()) {
                (FileOutcome::Unchanged | FileOutcome::Restamped(_), _) => "unchanged",
                (FileOutcome::Parsed { .. }, true) => "changed",
                (FileOutcome::Parsed { .. }, false) => "new",
                (FileOutcome::Failed(_), true) => "skipped, kept",
                (FileOutcome::Failed(_), false) => "skipped",
            };
            decisions.push((file.rel_path, decision));
        }
        let skips = walk_skips
            .iter()
            .map(|s| Skipped::new(*s, "cannot read"))
            .collect();
        let walked = cursor.finish(seen, skips).unwrap();
        assert_eq!(walked.seen, decisions.len() as u64);
        let skipped: HashSet<String> = walked.skipped.iter().map(|s| s.path.clone()).collect();
        let gone: Vec<String> = gone(walked.vanished, &skipped, &walked.late)
            .unwrap()
            .map(|item| item.unwrap().0)
            .collect();
        (decisions, gone)
    }

    const OK: &str = " date 2025-08-21 Gunmen attacked a checkpoint in Idlib.\n";

    #[test]
    fn the_walk_joins_the_base_file_list() {
        let corpus = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = corpus.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        // `a.txt` < `a/…` < `a0.txt` < `b…`: names and directories
        // interleave in path order, as in the manifest.
        write("a.txt", OK);
        write("a/new.txt", OK);
        write("a/same.txt", "same");
        write("a0.txt", "edited");
        write("b/broken.json", "{not json");
        write("b/was-fine.json", "{not json either");
        write("c/same.txt", "c");
        write("d.txt", OK);
        let base: &[(&str, &str)] = &[
            ("a", "a file, now a directory"),
            ("a.txt", OK),
            ("a/gone.txt", "x"),
            ("a/same.txt", "same"),
            ("a0.txt", "before"),
            ("b/gone.txt", "x"),
            ("b/unlistable.txt", "x"),
            ("b/was-fine.json", "[]"),
            ("c/same.txt", "c"),
            ("z/gone.txt", "last"),
        ];
        let (decisions, gone) = join(corpus.path(), Some(base), &["b/unlistable.txt"]);
        let expect = [
            ("a.txt", "unchanged"),
            ("a/new.txt", "new"),
            ("a/same.txt", "unchanged"),
            ("a0.txt", "changed"),
            ("b/broken.json", "skipped"),
            ("b/was-fine.json", "skipped, kept"),
            ("c/same.txt", "unchanged"),
            ("d.txt", "new"),
        ];
        let got: Vec<(&str, &str)> = decisions.iter().map(|(p, d)| (p.as_str(), *d)).collect();
        assert_eq!(got, expect);
        // A skip keeps its file; everything else the walk passed is gone.
        assert_eq!(gone, ["a", "a/gone.txt", "b/gone.txt", "z/gone.txt"]);

        // An empty previous manifest: every file is new, nothing vanished.
        let (decisions, gone) = join(corpus.path(), Some(&[]), &[]);
        assert!(decisions
            .iter()
            .all(|(_, d)| d.starts_with("new") || d.starts_with("skipped")));
        assert_eq!(decisions.len(), 8);
        assert!(gone.is_empty());

        // No base at all (a full build): the same, without a manifest.
        let (decisions, gone) = join(corpus.path(), None, &[]);
        assert_eq!(decisions.iter().filter(|(_, d)| *d == "new").count(), 6);
        assert!(gone.is_empty());
    }

    #[test]
    fn an_empty_walk_vanishes_every_base_file() {
        let corpus = tempfile::tempdir().unwrap();
        let base: &[(&str, &str)] = &[("a.txt", "a"), ("b/c.txt", "c"), ("d.txt", "d")];
        let (decisions, gone) = join(corpus.path(), Some(base), &["d.txt"]);
        assert!(decisions.is_empty());
        assert_eq!(gone, ["a.txt", "b/c.txt"]);
    }

    #[test]
    fn a_path_walked_out_of_order_is_looked_up_and_not_vanished() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let generation = GenerationId(1);
        let base = [("a", 1), ("b", 2), ("c", 3)]
            .into_iter()
            .map(|(p, n)| (p.to_string(), record(p, n)));
        let files = write_base_manifest(&store, generation, std::path::Path::new("/c"), base);
        let vanished = RecordSpill::create(dir.path().join("v")).unwrap();
        let mut cursor = BaseCursor::new(Some(files), store, Some(generation), vanished);
        let articles = |r: Option<FileRecord>| r.map(|r| r.articles);
        assert_eq!(articles(cursor.find("c").unwrap()), Some(3));
        // The same path again gets the same record.
        assert_eq!(articles(cursor.find("c").unwrap()), Some(3));
        assert_eq!(articles(cursor.find("a").unwrap()), Some(1));
        assert_eq!(articles(cursor.find("0").unwrap()), None);
        let walked = cursor.finish(4, Vec::new()).unwrap();
        let gone: Vec<String> = gone(walked.vanished, &HashSet::new(), &walked.late)
            .unwrap()
            .map(|item| item.unwrap().0)
            .collect();
        assert_eq!(gone, ["b"]);
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
