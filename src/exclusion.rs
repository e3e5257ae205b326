//! Exclusions (`-word`, `-"a phrase"`) that tantivy 0.27 can evaluate
//! without tripping its own debug assertion.
//!
//! tantivy's `Exclude` asks its exclusion set about the first candidate
//! while the exclusion's scorer already sits on its own first match, which
//! may be further on. `PhraseScorer::seek_danger` asserts that it is never
//! asked about a document behind it (tantivy#2811), so `killed -"security
//! forces"` panicked in debug builds (tests, `cargo run`). Release builds
//! give the right answer: nothing lies behind a scorer's position, so the
//! document is not excluded. [`guard_exclusions`] wraps every excluded
//! clause in [`ForwardOnly`], which answers those questions itself, the same
//! way, before the phrase scorer sees them.

use tantivy::query::{BooleanQuery, EnableScoring, Explanation, Occur, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, Term};

/// The same query, with the excluded clauses of every boolean query in it
/// (at any depth) wrapped in [`ForwardOnly`]. Queries that are not boolean
/// are returned as they are.
pub(crate) fn guard_exclusions(query: Box<dyn Query>) -> Box<dyn Query> {
    let Some(boolean) = query.downcast_ref::<BooleanQuery>() else {
        return query;
    };
    let clauses = boolean
        .clauses()
        .iter()
        .map(|(occur, q)| {
            let q = guard_exclusions(q.box_clone());
            match occur {
                Occur::MustNot => (*occur, Box::new(ForwardOnly(q)) as Box<dyn Query>),
                _ => (*occur, q),
            }
        })
        .collect();
    let mut guarded = BooleanQuery::new(clauses);
    guarded.set_minimum_number_should_match(boolean.get_minimum_number_should_match());
    Box::new(guarded)
}

/// A query whose scorer is never asked about a document behind its
/// position: it answers "not there" itself (see the module doc).
#[derive(Debug)]
pub(crate) struct ForwardOnly(Box<dyn Query>);

impl Clone for ForwardOnly {
    fn clone(&self) -> Self {
        ForwardOnly(self.0.box_clone())
    }
}

impl Query for ForwardOnly {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ForwardOnlyWeight(self.0.weight(scoring)?)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct ForwardOnlyWeight(Box<dyn Weight>);

impl Weight for ForwardOnlyWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ForwardOnlyScorer(self.0.scorer(reader, boost)?)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.0.count(reader)
    }
}

struct ForwardOnlyScorer(Box<dyn Scorer>);

impl DocSet for ForwardOnlyScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let doc = self.0.doc();
        if target <= doc {
            return doc;
        }
        self.0.seek(target)
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        let doc = self.0.doc();
        if target < doc {
            // Nothing lies between a scorer's last answer and its position.
            return SeekDangerResult::SeekLowerBound(doc);
        }
        self.0.seek_danger(target)
    }

    fn doc(&self) -> DocId {
        self.0.doc()
    }

    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }

    fn cost(&self) -> u64 {
        self.0.cost()
    }
}

impl Scorer for ForwardOnlyScorer {
    fn score(&mut self) -> Score {
        self.0.score()
    }
}
