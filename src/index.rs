//! [`Index`]: an open, searchable frontline index.
//!
//! ```no_run
//! use frontline::{Index, Query};
//! # fn main() -> frontline::Result<()> {
//! let index = Index::open("frontline-index")?;
//! let results = index.search(&Query::new("raid").province("Idlib").group("ISIS"))?;
//! for hit in &results.hits {
//!     println!("{} {} {}", hit.rank, hit.article_id, hit.text);
//! }
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Serialize;
use tantivy::{IndexReader, ReloadPolicy};

use crate::error::{Error, Result};
use crate::facets::{self, ArticleFacetCollector, FacetCounts, FacetField, Interval};
use crate::gazetteer::Gazetteer;
use crate::generation::{GenerationId, Manifest, ManifestHead, ManifestSummary, Store};
use crate::indexer::{self, BuildOptions, BuildSummary, NoProgress, Progress};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::search::{self, Query, SearchResults};
use crate::similar::SimilarResults;

/// An open index: one generation of an index directory, and a reader on it.
///
/// A long-running program keeps an `Index` open and calls
/// [`Index::reload`] (e.g. every minute, or after a nightly rebuild): it
/// switches to the newest published generation without a restart, and
/// searches already running keep their snapshot.
pub struct Index {
    store: Store,
    generation: GenerationId,
    /// Parsed on first use (see [`Store::schema_version`]).
    manifest: OnceLock<Manifest>,
    /// Read on first use, streamed (see [`Store::manifest_summary`]).
    summary: OnceLock<ManifestSummary>,
    /// Read on first use, streamed (see [`Store::manifest_head`]).
    head: OnceLock<ManifestHead>,
    tantivy: tantivy::Index,
    reader: IndexReader,
    fields: Fields,
    schema_dir: Option<PathBuf>,
    gazetteer: OnceLock<Gazetteer>,
}

/// The result of [`Index::check`].
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The generation directory checked.
    pub path: PathBuf,
    /// The live generation.
    pub generation: GenerationId,
    /// Segments in it.
    pub segments: usize,
    /// Passages read back.
    pub passages: u64,
    /// What is wrong, one line each; empty when the index is sound.
    pub problems: Vec<String>,
}

/// An article and its tags with their evidence, from [`Index::explain`].
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The article as parsed now.
    pub article: crate::article::Article,
    /// Its tags, each with the span and rule that produced it.
    pub tags: crate::tagging::ArticleTags,
}

/// Figures about an index, for `frontline stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// The index directory.
    pub path: PathBuf,
    /// The live generation.
    pub generation: GenerationId,
    /// Schema version of the index.
    pub schema_version: u32,
    /// Corpus directory it was built from.
    pub corpus: PathBuf,
    /// When the generation was committed.
    pub created: chrono::DateTime<chrono::Utc>,
    /// Files indexed.
    pub files: u64,
    /// Articles indexed.
    pub articles: u64,
    /// Passages (tantivy documents) searchable.
    pub passages: u64,
    /// Earliest and latest publication date.
    pub date_span: Option<(NaiveDate, NaiveDate)>,
    /// Provinces with the most articles.
    pub top_provinces: Vec<facets::FacetCount>,
    /// Groups with the most articles.
    pub top_groups: Vec<facets::FacetCount>,
    /// Places learned from the corpus.
    pub learned_places: usize,
    /// Bytes on disk of the live generation.
    pub size_bytes: u64,
}

impl Index {
    /// Opens the live generation of the index at `path`, with the embedded
    /// gazetteer for resolving filter names.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        Index::open_with(path, None)
    }

    /// Like [`Index::open`], resolving filter names with the gazetteer files
    /// of `schema_dir` (use the same directory the index was built with).
    pub fn open_with(path: impl AsRef<Path>, schema_dir: Option<&Path>) -> Result<Index> {
        let root = path.as_ref().to_path_buf();
        let store = Store::new(&root);
        let generation = current_generation(&store)?;
        let version = store.schema_version(generation)?;
        if version != SCHEMA_VERSION {
            return Err(Error::IncompatibleIndex {
                path: root,
                found: version.to_string(),
                expected: SCHEMA_VERSION,
            });
        }
        let dir = store.generation_dir(generation);
        let corrupt = |e: tantivy::TantivyError| Error::CorruptIndex {
            path: dir.clone(),
            reason: e.to_string(),
        };
        let tantivy = tantivy::Index::open_in_dir(&dir).map_err(corrupt)?;
        schema::register_tokenizers(&tantivy);
        let (expected, fields) = schema::build_schema();
        if tantivy.schema() != expected {
            return Err(Error::IncompatibleIndex {
                path: root,
                found: format!("{version} (fields differ)"),
                expected: SCHEMA_VERSION,
            });
        }
        let reader = tantivy
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(corrupt)?;
        Ok(Index {
            store,
            generation,
            manifest: OnceLock::new(),
            summary: OnceLock::new(),
            head: OnceLock::new(),
            tantivy,
            reader,
            fields,
            schema_dir: schema_dir.map(Path::to_path_buf),
            gazetteer: OnceLock::new(),
        })
    }

    /// Builds or incrementally updates an index (see [`crate::indexer`]).
    ///
    /// ```no_run
    /// let summary = frontline::Index::build(&frontline::BuildOptions::new("sample-corpus", "idx"))?;
    /// println!("{} articles, {} passages", summary.total_articles, summary.total_passages);
    /// # Ok::<(), frontline::Error>(())
    /// ```
    pub fn build(opts: &BuildOptions) -> Result<BuildSummary> {
        indexer::build(opts, &NoProgress)
    }

    /// [`Index::build`] reporting progress.
    pub fn build_with_progress(
        opts: &BuildOptions,
        progress: &dyn Progress,
    ) -> Result<BuildSummary> {
        indexer::build(opts, progress)
    }

    /// Switches to the newest published generation if there is one.
    /// Returns whether the generation changed.
    pub fn reload(&mut self) -> Result<bool> {
        let latest = current_generation(&self.store)?;
        if latest == self.generation {
            return Ok(false);
        }
        let schema_dir = self.schema_dir.clone();
        *self = Index::open_with(self.store.root(), schema_dir.as_deref())?;
        Ok(true)
    }

    /// The generation this handle reads.
    pub fn generation(&self) -> GenerationId {
        self.generation
    }

    /// The generation's whole manifest (files, gazetteer fingerprint,
    /// learned places), parsed on first use and kept.
    ///
    /// This loads every file record with its story bands: at a million
    /// articles that is ~300 MB of JSON and more than twice that on the
    /// heap. For the head fields and the totals use
    /// [`Index::manifest_head`] or [`Index::manifest_summary`], which keep
    /// no record.
    pub fn manifest(&self) -> Result<&Manifest> {
        if let Some(m) = self.manifest.get() {
            return Ok(m);
        }
        let loaded = self.store.manifest(self.generation)?;
        Ok(self.manifest.get_or_init(|| loaded))
    }

    /// The generation manifest's head fields (corpus, creation time,
    /// gazetteer fingerprint, learned places, ...) without its file list:
    /// read on first use in one streamed pass that keeps no file record
    /// and, in a manifest that holds its head first, stops at the file
    /// list (see [`Store::manifest_head`]).
    ///
    /// ```no_run
    /// let index = frontline::Index::open("frontline-index")?;
    /// let head = index.manifest_head()?;
    /// println!("built from {} with {} learned places", head.corpus.display(), head.learned_places.len());
    /// # Ok::<(), frontline::Error>(())
    /// ```
    pub fn manifest_head(&self) -> Result<&ManifestHead> {
        if let Some(s) = self.summary.get() {
            return Ok(&s.head);
        }
        if let Some(h) = self.head.get() {
            return Ok(h);
        }
        let loaded = self.store.manifest_head(self.generation)?;
        Ok(self.head.get_or_init(|| loaded))
    }

    /// The generation manifest's head with its files, articles and
    /// passages counted (see [`Store::manifest_summary`]): read on first
    /// use in one streamed pass, kept (it holds no file record). Cheap in
    /// memory whatever the corpus size, unlike [`Index::manifest`].
    ///
    /// ```no_run
    /// let index = frontline::Index::open("frontline-index")?;
    /// let summary = index.manifest_summary()?;
    /// println!("{} files, {} articles", summary.files, summary.articles);
    /// # Ok::<(), frontline::Error>(())
    /// ```
    pub fn manifest_summary(&self) -> Result<&ManifestSummary> {
        if let Some(s) = self.summary.get() {
            return Ok(s);
        }
        let loaded = match self.manifest.get() {
            // Already in memory: counted from there.
            Some(m) => ManifestSummary {
                head: ManifestHead {
                    schema_version: m.schema_version,
                    frontline_version: m.frontline_version.clone(),
                    gazetteer: m.gazetteer.clone(),
                    generation: m.generation,
                    created: m.created,
                    corpus: m.corpus.clone(),
                    learned_places: m.learned_places.clone(),
                    signature_version: m.signature_version,
                },
                files: m.files.len() as u64,
                articles: m.articles(),
                passages: m.passages(),
            },
            None => self.store.manifest_summary(self.generation)?,
        };
        Ok(self.summary.get_or_init(|| loaded))
    }

    /// Whether the generation indexed the corpus file `rel_path`: looked up
    /// in the tantivy index (`source_path`), and only for a file with no
    /// live passage (e.g. one with no article) in the manifest, streamed.
    fn lists_file(&self, rel_path: &str) -> Result<bool> {
        let term = tantivy::Term::from_field_text(self.fields.source_path, rel_path);
        let query = tantivy::query::TermQuery::new(term, tantivy::schema::IndexRecordOption::Basic);
        let passages = self
            .reader
            .searcher()
            .search(&query, &tantivy::collector::Count)
            .map_err(|e| self.damaged(e.into()))?;
        if passages > 0 {
            return Ok(true);
        }
        if let Some(m) = self.manifest.get() {
            return Ok(m.files.contains_key(rel_path));
        }
        self.store.manifest_lists(self.generation, rel_path)
    }

    /// The underlying tantivy index (for benchmarks and advanced use).
    pub fn tantivy(&self) -> &tantivy::Index {
        &self.tantivy
    }

    /// The schema's field handles.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The gazetteer used to resolve filter names, loaded on first use.
    pub fn gazetteer(&self) -> Result<&Gazetteer> {
        if let Some(g) = self.gazetteer.get() {
            return Ok(g);
        }
        let loaded = Gazetteer::load(self.schema_dir.as_deref())?;
        Ok(self.gazetteer.get_or_init(|| loaded))
    }

    /// Runs a query. A plain query with fewer than
    /// [`search::FUZZY_BELOW`] hits whose words occur nowhere in the index
    /// is retried with those words matched fuzzily (see [`Query::fuzzy`]);
    /// the results then carry a [`search::FuzzyNote`].
    pub fn search(&self, query: &Query) -> Result<SearchResults> {
        let gazetteer = self.gazetteer()?;
        let compiled = search::compile(query, &self.tantivy, &self.fields, gazetteer)?;
        let searcher = self.reader.searcher();
        let exact = search::execute(query, &searcher, &self.tantivy, &self.fields, &compiled)
            .map_err(|e| self.damaged(e))?;
        if exact.total_hits.value() >= search::FUZZY_BELOW {
            return Ok(exact);
        }
        let unknown =
            search::unknown_terms(query, &searcher, &self.tantivy, &self.fields, gazetteer)?;
        if unknown.is_empty() {
            return Ok(exact);
        }
        let fuzzy = search::compile_with(query, &self.tantivy, &self.fields, gazetteer, &unknown)?;
        let mut results = search::execute(query, &searcher, &self.tantivy, &self.fields, &fuzzy)
            .map_err(|e| self.damaged(e))?;
        if results.total_hits.value() <= exact.total_hits.value() {
            return Ok(exact);
        }
        if let Some(note) = results.fuzzy.as_mut() {
            note.exact_hits = exact.total_hits.value();
        }
        results.took_ms += exact.took_ms;
        Ok(results)
    }

    /// Up to `limit` articles that report the same or related events as
    /// `article_id` (see [`crate::similar`] for how they are ranked).
    pub fn similar(&self, article_id: &str, limit: usize) -> Result<SimilarResults> {
        let searcher = self.reader.searcher();
        crate::similar::similar(&searcher, &self.fields, article_id, limit)
            .map_err(|e| self.damaged(e))
    }

    /// Counts matching articles per value of `field` (date: per `interval`).
    /// `top` keeps the N largest values (the N latest buckets for dates).
    pub fn facets(
        &self,
        query: &Query,
        field: FacetField,
        interval: Interval,
        top: Option<usize>,
    ) -> Result<FacetCounts> {
        let compiled = search::compile(query, &self.tantivy, &self.fields, self.gazetteer()?)?;
        let collector = match field {
            FacetField::Province => facet_collector("province", None),
            FacetField::Group => facet_collector("group", None),
            FacetField::Country => facet_collector("country", None),
            FacetField::Date => facet_collector(query.date_field_name(), Some(interval)),
        };
        let fruit = self
            .reader
            .searcher()
            .search(compiled.query.as_ref(), &collector)?;
        Ok(facets::finish(query.text(), field, fruit, top))
    }

    /// Why an article carries its tags: re-reads it from the corpus the
    /// index was built from and tags it again with the index's gazetteer and
    /// learned places, keeping every span and rule.
    pub fn explain(&self, article_id: &str) -> Result<Explanation> {
        let file = article_id.split('#').next().unwrap_or(article_id);
        if !self.lists_file(file)? {
            return Err(Error::Query(format!(
                "no article {article_id:?} in this index (ids are paths relative to the corpus root, as `search` prints them)"
            )));
        }
        let head = self.manifest_head()?;
        let path = head.corpus.join(file);
        let (format, gzip) = crate::corpus::Format::from_name(file)
            .ok_or_else(|| Error::Query(format!("{file}: not an article file")))?;
        let source = crate::corpus::SourceFile {
            size: 0,
            stamp: None,
            path: path.clone(),
            rel_path: file.to_string(),
            format,
            gzip,
        };
        let bytes = crate::corpus::read(&source).map_err(|s| Error::Parse {
            path: path.clone(),
            reason: s.reason,
        })?;
        let parsed = crate::corpus::parse(&source, &bytes);
        let article = parsed
            .articles
            .into_iter()
            .find(|a| a.id.0 == article_id)
            .ok_or_else(|| Error::Parse {
                path: path.clone(),
                reason: format!("the file no longer holds article {article_id:?}"),
            })?;
        let tagger = crate::tagging::Tagger::with_learned(self.gazetteer()?, &head.learned_places)?;
        let tags = tagger.tag(&article);
        Ok(Explanation { article, tags })
    }

    /// Verifies the live generation: every segment file against its
    /// checksum, then every stored passage is read back. Damage is reported,
    /// not fixed: `frontline rollback` or `frontline index --full` fix it.
    pub fn check(&self) -> Result<CheckReport> {
        let dir = self.store.generation_dir(self.generation);
        let mut problems = Vec::new();
        match self.tantivy.validate_checksum() {
            Ok(damaged) => {
                let mut damaged: Vec<String> =
                    damaged.iter().map(|p| p.display().to_string()).collect();
                damaged.sort();
                problems.extend(
                    damaged
                        .into_iter()
                        .map(|f| format!("{f}: checksum mismatch")),
                );
            }
            Err(e) => problems.push(format!("cannot read the segment list: {e}")),
        }
        let searcher = self.reader.searcher();
        let mut passages = 0u64;
        for segment in searcher.segment_readers() {
            let id = segment.segment_id().uuid_string();
            match segment.get_store_reader(16) {
                Ok(store) => {
                    for doc in store.iter::<tantivy::TantivyDocument>(segment.alive_bitset()) {
                        match doc {
                            Ok(_) => passages += 1,
                            Err(e) => {
                                problems
                                    .push(format!("segment {id}: stored passage unreadable: {e}"));
                                break;
                            }
                        }
                    }
                }
                Err(e) => problems.push(format!("segment {id}: document store unreadable: {e}")),
            }
        }
        Ok(CheckReport {
            path: dir,
            generation: self.generation,
            segments: searcher.segment_readers().len(),
            passages,
            problems,
        })
    }

    /// Figures about the index.
    pub fn stats(&self) -> Result<Stats> {
        let all = Query::new("");
        let top_provinces = self.facets(&all, FacetField::Province, Interval::Month, Some(10))?;
        let top_groups = self.facets(&all, FacetField::Group, Interval::Month, Some(10))?;
        // The first and last buckets of a day timeline of all articles,
        // without counting them.
        let published = all.clone().date_field(search::DateField::Published);
        let compiled = search::compile(&published, &self.tantivy, &self.fields, self.gazetteer()?)?;
        let span = facets::DaySpanCollector {
            field: published.date_field_name().to_string(),
        };
        let days = self
            .reader
            .searcher()
            .search(compiled.query.as_ref(), &span)?;
        let date_span = days.and_then(|(a, b)| {
            NaiveDate::parse_from_str(&a, "%Y-%m-%d")
                .ok()
                .zip(NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok())
        });
        let dir = self.store.generation_dir(self.generation);
        let summary = self.manifest_summary()?;
        let manifest = &summary.head;
        Ok(Stats {
            path: self.store.root().to_path_buf(),
            generation: self.generation,
            schema_version: manifest.schema_version,
            corpus: manifest.corpus.clone(),
            created: manifest.created,
            files: summary.files,
            articles: summary.articles,
            passages: self.reader.searcher().num_docs(),
            date_span,
            top_provinces: top_provinces.counts,
            top_groups: top_groups.counts,
            learned_places: manifest.learned_places.len(),
            size_bytes: dir_size(&dir),
        })
    }
}

impl Index {
    /// Turns tantivy's data and I/O errors met while reading into
    /// [`Error::CorruptIndex`], which says how to recover.
    fn damaged(&self, e: Error) -> Error {
        match e {
            Error::Tantivy(
                t @ (tantivy::TantivyError::DataCorruption(_)
                | tantivy::TantivyError::IoError(_)
                | tantivy::TantivyError::OpenReadError(_)
                | tantivy::TantivyError::InternalError(_)),
            ) => Error::CorruptIndex {
                path: self.store.generation_dir(self.generation),
                reason: t.to_string(),
            },
            other => other,
        }
    }
}

fn facet_collector(field: &str, interval: Option<Interval>) -> ArticleFacetCollector {
    ArticleFacetCollector {
        field: field.to_string(),
        interval,
    }
}

/// The live generation, with errors that say what to do.
fn current_generation(store: &Store) -> Result<GenerationId> {
    let root = store.root();
    if !root.is_dir() {
        return Err(Error::IndexNotFound(root.to_path_buf()));
    }
    if let Some(id) = store.current()? {
        return Ok(id);
    }
    if root.join("meta.json").exists() {
        return Err(Error::CorruptIndex {
            path: root.to_path_buf(),
            reason: "this is a bare tantivy index, not a frontline index".into(),
        });
    }
    Err(Error::IndexNotFound(root.to_path_buf()))
}

fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
