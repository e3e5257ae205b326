//! Facet filters read straight from their terms' block postings (see
//! [`FacetFilter`]).

use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Term, TERMINATED};

/// A facet filter: the passages holding any of its facet terms, unscored
/// (it stands under a `ConstScoreQuery`, which sets the score). Its scorer
/// reads the terms' block postings itself, docs only: a union of term
/// scorers ([`SeekUnion`](super::SeekUnion), tantivy's buffered union) pays a dynamic call
/// and a term scorer's bookkeeping per doc, and a filter that leads its
/// intersection steps through every doc it holds (`fighters [province
/// Central Darfur]`: 179k per query).
#[derive(Debug, Clone)]
pub(crate) struct FacetFilter {
    terms: Vec<Term>,
}

impl FacetFilter {
    /// Passages holding any of `terms`.
    pub(crate) fn new(terms: Vec<Term>) -> FacetFilter {
        FacetFilter { terms }
    }
}

impl Query for FacetFilter {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(FacetFilterWeight {
            terms: self.terms.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in &self.terms {
            visitor(term, false);
        }
    }
}

struct FacetFilterWeight {
    terms: Vec<Term>,
}

impl FacetFilterWeight {
    fn docs(&self, reader: &tantivy::SegmentReader) -> tantivy::Result<FacetDocs> {
        let mut cursors = Vec::with_capacity(self.terms.len());
        for term in &self.terms {
            let field = reader.inverted_index(term.field())?;
            if let Some(block) = field.read_block_postings(term, IndexRecordOption::Basic)? {
                cursors.push(Cursor::new(block));
            }
        }
        // The cost and size hint of a union of the terms' scorers (their
        // postings' lengths summed), which order an intersection's
        // clauses: the same order, so the same sums in the same order.
        let cost: u64 = cursors.iter().map(|c| u64::from(c.block.doc_freq())).sum();
        let size_hint = cursors
            .iter()
            .map(|c| c.block.doc_freq())
            .fold(0u32, u32::saturating_add);
        let mut docs = FacetDocs {
            cursors,
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

/// A [`FacetFilter`]'s union read straight from its terms' block postings:
/// docs only, no term frequencies, no dynamic calls per doc. Its score is
/// 0: the filter's `ConstScoreQuery` sets it.
struct FacetDocs {
    cursors: Vec<Cursor>,
    doc: DocId,
    /// The union's cost and size hint as [`SeekUnion`](super::SeekUnion) gives them.
    cost: u64,
    size_hint: u32,
}

impl FacetDocs {
    fn settle(&mut self) -> DocId {
        self.doc = self
            .cursors
            .iter()
            .map(|c| c.doc)
            .min()
            .unwrap_or(TERMINATED);
        self.doc
    }
}

impl tantivy::DocSet for FacetDocs {
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
