//! Facet filters read straight from their terms' block postings (see
//! [`FacetFilter`]), joining an article's facets, held by its first
//! passage only, to all of its passages.

use tantivy::columnar::{Column, ColumnIndex};
use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Term, TERMINATED};

use super::PASSAGE_FIELD;

/// A facet filter: the passages of the articles holding any of its
/// article facet terms, and the passages holding any of its passage facet
/// terms themselves; unscored (it stands under a `ConstScoreQuery`, which
/// sets the score).
///
/// An article's facets (`province`, `group`, `country`, `mention`) are
/// indexed on its first passage only (schema version 3): an article's
/// passages are contiguous in one segment, first passage first, so the
/// first passage of doc `d` is `d - passage(d)`. The scorer walks the
/// article terms' postings (first passages) and yields each matching
/// article's passages, a block join.
///
/// Its scorer reads the terms' block postings itself, docs only: a union
/// of term scorers ([`SeekUnion`](super::SeekUnion), tantivy's buffered
/// union) pays a dynamic call and a term scorer's bookkeeping per doc, and
/// a filter that leads its intersection steps through every doc it holds
/// (`fighters [province Central Darfur]`: 179k per query).
#[derive(Debug, Clone)]
pub(crate) struct FacetFilter {
    /// Terms of article facets, on articles' first passages.
    article_terms: Vec<Term>,
    /// Terms of the passage's own facets.
    passage_terms: Vec<Term>,
}

impl FacetFilter {
    /// Passages of the articles holding any of `article_terms` (on their
    /// first passage), and passages holding any of `passage_terms`.
    pub(crate) fn new(article_terms: Vec<Term>, passage_terms: Vec<Term>) -> FacetFilter {
        FacetFilter {
            article_terms,
            passage_terms,
        }
    }
}

impl Query for FacetFilter {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(FacetFilterWeight {
            article_terms: self.article_terms.clone(),
            passage_terms: self.passage_terms.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in self.article_terms.iter().chain(&self.passage_terms) {
            visitor(term, false);
        }
    }
}

struct FacetFilterWeight {
    article_terms: Vec<Term>,
    passage_terms: Vec<Term>,
}

/// The cursors of the terms that have postings in the segment.
fn cursors(reader: &tantivy::SegmentReader, terms: &[Term]) -> tantivy::Result<Vec<Cursor>> {
    let mut cursors = Vec::with_capacity(terms.len());
    for term in terms {
        let field = reader.inverted_index(term.field())?;
        if let Some(block) = field.read_block_postings(term, IndexRecordOption::Basic)? {
            cursors.push(Cursor::new(block));
        }
    }
    Ok(cursors)
}

impl FacetFilterWeight {
    fn docs(&self, reader: &tantivy::SegmentReader) -> tantivy::Result<FacetDocs> {
        let own = Union::new(cursors(reader, &self.passage_terms)?);
        let firsts = Union::new(cursors(reader, &self.article_terms)?);
        // The cost and size hint of a union of term scorers over the
        // passages (their postings' lengths summed), which order an
        // intersection's clauses: an article term's postings count
        // articles, so they count for the segment's mean passages per
        // article (the same figure as when every passage held the
        // article's facets, up to how long those articles are).
        let own_docs: u64 = own
            .cursors
            .iter()
            .map(|c| u64::from(c.block.doc_freq()))
            .sum();
        let first_docs: u64 = firsts
            .cursors
            .iter()
            .map(|c| u64::from(c.block.doc_freq()))
            .sum();
        let (articles, article_docs) = if firsts.cursors.is_empty() {
            (None, 0)
        } else {
            let passage = reader.schema().get_field(PASSAGE_FIELD)?;
            let first_passages = reader
                .inverted_index(passage)?
                .doc_freq(&Term::from_field_u64(passage, 0))?;
            let max_doc = reader.max_doc();
            let docs = if first_passages == 0 {
                first_docs
            } else {
                first_docs * u64::from(max_doc) / u64::from(first_passages)
            };
            let articles = Articles {
                doc: firsts.doc,
                firsts,
                positions: Positions::open(reader)?,
                max_doc,
            };
            (Some(articles), docs)
        };
        let cost = own_docs + article_docs;
        let size_hint = u32::try_from(cost).unwrap_or(u32::MAX);
        let mut docs = FacetDocs {
            own,
            articles,
            doc: 0,
            cost,
            size_hint,
        };
        docs.settle();
        Ok(docs)
    }
}

impl Weight for FacetFilterWeight {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        _boost: Score,
    ) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.docs(reader)?))
    }

    fn explain(
        &self,
        reader: &tantivy::SegmentReader,
        doc: DocId,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        use tantivy::DocSet;
        if self.docs(reader)?.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(tantivy::query::Explanation::new("facet filter", 0.0))
    }
}

/// One facet term's postings, docs only, read a block at a time.
struct Cursor {
    block: tantivy::postings::BlockSegmentPostings,
    /// The current doc's index in the block.
    at: usize,
    /// The current doc: `TERMINATED` past the last one.
    doc: DocId,
}

impl Cursor {
    fn new(block: tantivy::postings::BlockSegmentPostings) -> Cursor {
        let mut cursor = Cursor {
            block,
            at: 0,
            doc: TERMINATED,
        };
        cursor.doc = cursor.at_doc();
        cursor
    }

    /// The doc at `at` in the block, `TERMINATED` past its docs.
    fn at_doc(&self) -> DocId {
        self.block
            .docs()
            .get(self.at)
            .copied()
            .unwrap_or(TERMINATED)
    }

    /// The doc at `at`, or in the next block when `at` is past this one
    /// (`TERMINATED` past the last block, whose docs are then empty).
    fn settle(&mut self) {
        if self.at >= self.block.docs().len() {
            self.block.advance();
            self.at = 0;
        }
        self.doc = self.at_doc();
    }

    fn advance(&mut self) {
        self.at += 1;
        self.settle();
    }

    fn seek(&mut self, target: DocId) {
        // A few steps within the block, else a search of the block or the
        // skip list and a search of the block it finds.
        let docs = self.block.docs();
        let near = (self.at + 8).min(docs.len());
        while self.at < near && docs[self.at] < target {
            self.at += 1;
        }
        if self.at == near {
            if docs.last().is_some_and(|&last| last >= target) {
                self.at += docs[self.at..].partition_point(|&d| d < target);
            } else {
                // On the padding of the last block when every doc is
                // smaller: `doc` is then `TERMINATED`.
                self.at = self.block.seek(target);
                self.doc = self.at_doc();
                return;
            }
        }
        self.doc = self.block.docs()[self.at];
    }
}

/// The union of some terms' postings, docs only.
struct Union {
    cursors: Vec<Cursor>,
    /// The smallest of the cursors' docs: `TERMINATED` past them all.
    doc: DocId,
}

impl Union {
    fn new(cursors: Vec<Cursor>) -> Union {
        let mut union = Union {
            cursors,
            doc: TERMINATED,
        };
        union.settle();
        union
    }

    fn settle(&mut self) -> DocId {
        self.doc = self
            .cursors
            .iter()
            .map(|c| c.doc)
            .min()
            .unwrap_or(TERMINATED);
        self.doc
    }

    fn advance(&mut self) -> DocId {
        let current = self.doc;
        if current == TERMINATED {
            return TERMINATED;
        }
        for cursor in &mut self.cursors {
            if cursor.doc == current {
                cursor.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        // An intersection this leads moves it by `seek(doc + 1)`: the
        // cursors below the target are then those on `doc`, one step each.
        if target == self.doc + 1 {
            return self.advance();
        }
        for cursor in &mut self.cursors {
            if cursor.doc < target {
                cursor.seek(target);
            }
        }
        self.settle()
    }
}

/// The passages of the articles whose first passage is in a union of
/// article facet postings (a block join): an article's passages are the
/// docs from its first passage (`passage` 0) to the next first passage.
struct Articles {
    /// The matching articles' first passages; on the current article's.
    firsts: Union,
    positions: Positions,
    max_doc: DocId,
    /// The current passage: `TERMINATED` past the last article.
    doc: DocId,
}

/// A segment's `passage` column: where each passage stands in its article,
/// and so where its article starts (`doc - passage`).
pub(crate) struct Positions {
    column: Column<u64>,
    /// Whether every doc has one value (row = doc).
    full: bool,
}

impl Positions {
    /// The `passage` column of `reader`'s segment.
    pub(crate) fn open(reader: &tantivy::SegmentReader) -> tantivy::Result<Positions> {
        let column = reader.fast_fields().u64(PASSAGE_FIELD)?;
        Ok(Positions {
            full: matches!(column.index, ColumnIndex::Full),
            column,
        })
    }

    /// The position of `doc` in its article.
    pub(crate) fn ordinal(&self, doc: DocId) -> DocId {
        // Every passage has one (a full column: row = doc), read without
        // going through the column index and its iterator.
        let ordinal = if self.full {
            self.column.values.get_val(doc)
        } else {
            self.column.first(doc).unwrap_or(0)
        };
        // Ordinals are small (an article has at most a few thousand
        // passages); one that does not fit makes the doc a first passage.
        DocId::try_from(ordinal).unwrap_or(0)
    }

    /// The first passage of `doc`'s article, which holds its facets.
    pub(crate) fn first(&self, doc: DocId) -> DocId {
        doc - self.ordinal(doc).min(doc)
    }
}

impl Articles {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let next = self.doc + 1;
        if next < self.max_doc && self.positions.ordinal(next) != 0 {
            // The article's next passage.
            self.doc = next;
        } else {
            // Past the article: the next matching article's first passage.
            self.doc = self.firsts.seek(next);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        if target >= self.max_doc {
            self.doc = TERMINATED;
            return TERMINATED;
        }
        let first = self.positions.first(target);
        // `firsts` is on the current article's first passage, at or before
        // `first`; seeking to `first` stays there when the target is in
        // the current article.
        let found = self.firsts.seek(first);
        // The target's article matches, or the next matching one starts
        // after the target.
        self.doc = if found == first { target } else { found };
        self.doc
    }
}

/// A [`FacetFilter`]'s docs read straight from its terms' block postings:
/// docs only, no term frequencies, no dynamic calls per doc. Its score is
/// 0: the filter's `ConstScoreQuery` sets it.
struct FacetDocs {
    /// Passages holding a passage facet term themselves.
    own: Union,
    /// Passages of articles holding an article facet term, if any term.
    articles: Option<Articles>,
    doc: DocId,
    /// The cost and size hint of a union of the terms' scorers as if
    /// every passage held its article's facets (see
    /// [`FacetFilterWeight::docs`]).
    cost: u64,
    size_hint: u32,
}

impl FacetDocs {
    fn settle(&mut self) -> DocId {
        let articles = self.articles.as_ref().map_or(TERMINATED, |a| a.doc);
        self.doc = self.own.doc.min(articles);
        self.doc
    }
}

impl tantivy::DocSet for FacetDocs {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        if current == TERMINATED {
            return TERMINATED;
        }
        if self.own.doc == current {
            self.own.advance();
        }
        if let Some(articles) = self.articles.as_mut().filter(|a| a.doc == current) {
            articles.advance();
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        self.own.seek(target);
        if let Some(articles) = self.articles.as_mut() {
            articles.seek(target);
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.size_hint
    }

    fn cost(&self) -> u64 {
        self.cost
    }
}

impl Scorer for FacetDocs {
    fn score(&mut self) -> Score {
        0.0
    }
}
