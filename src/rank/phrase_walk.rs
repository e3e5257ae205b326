//! A scorer for a plain phrase (distinct terms, adjacent, no slop) that
//! walks every posting block of its terms in order, for the walk of
//! [`super::top_by_score`], which checks the positions of every passage
//! holding all the words until it has counted enough matches.
//!
//! tantivy's `PhraseScorer` finds a doc's positions through
//! `SegmentPostings::positions`, which sums the frequencies of the docs
//! before it in the block on every call (64 on average) and seeks each
//! term by its skip list. Over 400k passages holding both words of
//! `"people killed"` at 1M that sum was a fifth of the query. Here each
//! block's frequencies are summed once, and the position offset of each
//! block is carried from the previous one, so the blocks are read in
//! order, none skipped. The matches, their counts and their scores are
//! tantivy's: the same positions intersected, the same BM25 weight and
//! field norms.

use tantivy::directory::CompositeFile;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::positions::PositionReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{Bm25Weight, PhraseQuery, Scorer};
use tantivy::schema::IndexRecordOption;
use tantivy::{Directory, DocId, DocSet, Score, Searcher, TantivyError, TERMINATED};

/// One term of the phrase: its postings, a block at a time, and its
/// positions.
struct TermBlocks {
    block: BlockSegmentPostings,
    positions: PositionReader,
    /// The position offset of the first doc of the loaded block.
    base: u64,
    /// `prefix[i]`: the frequencies of the block's docs before `i`.
    prefix: Vec<u32>,
    /// The doc's index in the block.
    at: usize,
    /// Added to each position: the phrase's last offset minus this
    /// term's, so that a match puts every term at the same position.
    shift: u32,
}

impl TermBlocks {
    fn load_prefix(&mut self) {
        self.prefix.clear();
        let mut sum = 0u32;
        for &freq in self.block.freqs() {
            self.prefix.push(sum);
            sum += freq;
        }
        self.prefix.push(sum);
    }

    /// Moves to the first doc at or after `target`, block by block, doc
    /// by doc: the terms of a costly phrase are dense, and a binary search
    /// of the block cost more than it skipped.
    fn seek(&mut self, target: DocId) -> DocId {
        loop {
            let docs = self.block.docs();
            while let Some(&doc) = docs.get(self.at) {
                if doc >= target {
                    return doc;
                }
                self.at += 1;
            }
            if docs.is_empty() {
                return TERMINATED;
            }
            self.base += u64::from(self.prefix[docs.len()]);
            self.block.advance();
            self.at = 0;
            self.load_prefix();
        }
    }

    /// The doc's positions, shifted, into the start of `out` (grown if
    /// needed, never shrunk: resizing it for every doc cost a tenth of the
    /// walk); returns how many.
    fn positions(&mut self, out: &mut Vec<u32>) -> usize {
        let freq = self.block.freqs()[self.at] as usize;
        if out.len() < freq {
            out.resize(freq, 0);
        }
        let offset = self.base + u64::from(self.prefix[self.at]);
        self.positions.read(offset, &mut out[..freq]);
        let mut position = self.shift;
        for delta in &mut out[..freq] {
            position += *delta;
            *delta = position;
        }
        freq
    }
}

/// The phrase's matches in one segment, with tantivy's phrase scores.
pub(super) struct PhraseWalk {
    terms: Vec<TermBlocks>,
    doc: DocId,
    count: u32,
    fieldnorms: FieldNormReader,
    weight: Bm25Weight,
    left: Vec<u32>,
    right: Vec<u32>,
}

impl PhraseWalk {
    /// For a required part that is exactly `PhraseQuery::new(terms)` (each
    /// term at its index, no slop) with distinct terms, all present in the
    /// segment, scored as tantivy scores it from `searcher`'s statistics;
    /// `None` otherwise (tantivy's scorer is used).
    pub(super) fn open(
        searcher: &Searcher,
        required: &dyn tantivy::query::Query,
        reader: &tantivy::SegmentReader,
    ) -> tantivy::Result<Option<PhraseWalk>> {
        let Some(phrase) = required.downcast_ref::<PhraseQuery>() else {
            return Ok(None);
        };
        let weight = Bm25Weight::for_terms(searcher, &phrase.phrase_terms())?.boost_by(1.0);
        PhraseWalk::with_weight(searcher, phrase, reader, weight)
    }

    /// As [`Self::open`], scored with `weight` (what tantivy's phrase
    /// scorer would get: its statistics, boosts applied).
    pub(super) fn with_weight(
        searcher: &Searcher,
        phrase: &PhraseQuery,
        reader: &tantivy::SegmentReader,
        weight: Bm25Weight,
    ) -> tantivy::Result<Option<PhraseWalk>> {
        let terms = phrase.phrase_terms();
        // tantivy exposes neither the offsets nor the slop: a phrase built
        // from the terms alone must print the same.
        if format!("{phrase:?}") != format!("{:?}", PhraseQuery::new(terms.clone())) {
            return Ok(None);
        }
        if !super::all_distinct(&terms) {
            return Ok(None);
        }
        let field = phrase.field();
        let inverted = reader.inverted_index(field)?;
        let path = format!("{}.pos", reader.segment_id().uuid_string());
        let file = searcher
            .index()
            .directory()
            .open_read(std::path::Path::new(&path))
            .map_err(TantivyError::from)?;
        let Some(positions) = CompositeFile::open(&file)
            .map_err(TantivyError::from)?
            .open_read(field)
        else {
            return Ok(None);
        };
        let last = terms.len() - 1;
        let mut blocks = Vec::with_capacity(terms.len());
        for (offset, term) in terms.iter().enumerate() {
            let Some(info) = inverted.get_term_info(term).map_err(TantivyError::from)? else {
                return Ok(None);
            };
            let block = inverted
                .read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)
                .map_err(TantivyError::from)?;
            let bytes = positions
                .read_bytes_slice(info.positions_range.clone())
                .map_err(TantivyError::from)?;
            let mut term = TermBlocks {
                block,
                positions: PositionReader::open(bytes).map_err(TantivyError::from)?,
                base: 0,
                prefix: Vec::with_capacity(129),
                at: 0,
                shift: (last - offset) as u32,
            };
            term.load_prefix();
            blocks.push(term);
        }
        let mut walk = PhraseWalk {
            terms: blocks,
            doc: 0,
            count: 0,
            fieldnorms: match reader.fieldnorms_readers().get_field(field)? {
                Some(norms) => norms,
                None => FieldNormReader::constant(reader.max_doc(), 1),
            },
            weight,
            left: Vec::new(),
            right: Vec::new(),
        };
        walk.doc = walk.next_match(0);
        Ok(Some(walk))
    }

    /// The first doc at or after `target` holding every term.
    fn next_candidate(&mut self, mut target: DocId) -> DocId {
        'again: loop {
            for term in &mut self.terms {
                let doc = term.seek(target);
                if doc != target {
                    if doc == TERMINATED {
                        return TERMINATED;
                    }
                    target = doc;
                    continue 'again;
                }
            }
            return target;
        }
    }

    /// The first doc at or after `target` where the phrase occurs, with
    /// its number of occurrences in `count`.
    fn next_match(&mut self, mut target: DocId) -> DocId {
        loop {
            let doc = self.next_candidate(target);
            if doc == TERMINATED {
                return TERMINATED;
            }
            self.count = self.occurrences();
            if self.count > 0 {
                return doc;
            }
            target = doc + 1;
        }
    }

    /// The positions shared by every term (shifted), as tantivy counts
    /// them: the first term's, intersected with each next term's.
    fn occurrences(&mut self) -> u32 {
        let (first, rest) = self.terms.split_at_mut(1);
        let mut shared = first[0].positions(&mut self.left);
        for term in rest {
            if shared == 0 {
                return 0;
            }
            let len = term.positions(&mut self.right);
            let right = &self.right[..len];
            let mut kept = 0;
            let mut j = 0;
            for i in 0..shared {
                let p = self.left[i];
                while j < right.len() && right[j] < p {
                    j += 1;
                }
                if j < right.len() && right[j] == p {
                    self.left[kept] = p;
                    kept += 1;
                }
            }
            shared = kept;
        }
        shared as u32
    }
}

impl DocSet for PhraseWalk {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.next_match(self.doc + 1);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.terms
            .iter()
            .map(|t| t.block.doc_freq())
            .min()
            .unwrap_or(0)
    }
}

impl Scorer for PhraseWalk {
    fn score(&mut self) -> Score {
        self.weight
            .score(self.fieldnorms.fieldnorm_id(self.doc), self.count)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::query::{EnableScoring, Query};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{doc, Index, Term};

    use super::*;

    /// Every (doc, score) `scorer` walks to.
    fn walk(scorer: &mut dyn Scorer) -> Vec<(DocId, Score)> {
        let mut out = Vec::new();
        while scorer.doc() != TERMINATED {
            out.push((scorer.doc(), scorer.score()));
            scorer.advance();
        }
        out
    }

    /// Word-salad documents over a small vocabulary (postings of many
    /// blocks, several positions per doc), in several segments, a few
    /// docs deleted: the walk gives tantivy's matches and scores.
    #[test]
    fn phrase_walk_matches_and_scores_as_tantivy_phrase_scorer() {
        let mut schema = Schema::builder();
        let text = schema.add_text_field("text", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let words = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let mut state = 12345u64;
        for segment in 0..3 {
            for _ in 0..3_000 {
                let mut body = String::new();
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = 1 + (state >> 33) % 40;
                for _ in 0..len {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // Skewed: "a" and "b" are dense, "h" rare.
                    let r = (state >> 33) % 64;
                    let w = words[(r * r / 512) as usize % words.len()];
                    body.push_str(w);
                    body.push(' ');
                }
                writer.add_document(doc!(text => body)).unwrap();
            }
            if segment == 1 {
                writer.delete_term(Term::from_field_text(text, "h"));
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() >= 2);
        let phrases: &[&[&str]] = &[
            &["a", "b"],
            &["b", "a"],
            &["a", "c"],
            &["c", "d", "e"],
            &["a", "b", "c", "d"],
            &["g", "h"],
            &["h", "a", "b"],
        ];
        let mut matched = 0;
        for words in phrases {
            let terms: Vec<Term> = words
                .iter()
                .map(|w| Term::from_field_text(text, w))
                .collect();
            let phrase = PhraseQuery::new(terms);
            let weight = phrase
                .weight(EnableScoring::enabled_from_searcher(&searcher))
                .unwrap();
            for reader in searcher.segment_readers() {
                let expected = walk(weight.scorer(reader, 1.0).unwrap().as_mut());
                let mut ours = PhraseWalk::open(&searcher, &phrase, reader)
                    .unwrap()
                    .unwrap();
                assert_eq!(walk(&mut ours), expected, "{words:?}");
                matched += expected.len();
            }
        }
        assert!(matched > 1_000, "{matched}");

        // Not handled: repeated terms, slop, gaps, an absent term.
        let term = |w: &str| Term::from_field_text(text, w);
        let reader = &searcher.segment_readers()[0];
        let declined = |query: &PhraseQuery| {
            PhraseWalk::open(&searcher, query, reader)
                .unwrap()
                .is_none()
        };
        assert!(declined(&PhraseQuery::new(vec![term("a"), term("a")])));
        let mut slop = PhraseQuery::new(vec![term("a"), term("b")]);
        slop.set_slop(1);
        assert!(declined(&slop));
        assert!(declined(&PhraseQuery::new_with_offset(vec![
            (0, term("a")),
            (2, term("b"))
        ])));
        assert!(declined(&PhraseQuery::new(vec![term("a"), term("zzz")])));
    }
}
