//! Top passages by score, computing the ranking bonuses (title,
//! proximity, own-facet) only for passages that could still enter the top.
//!
//! A bonus never changes which passages match, only their score. As a
//! `Should` clause of one `BooleanQuery`, tantivy scores it for every
//! matching passage, and the `Count` collector visits every one: the title
//! disjunction (every passage carries its article's title, so its postings
//! are as long as the text's) and the proximity phrase (positions of every
//! query word) made the default ranking cost 1.3-1.8× plain BM25. Here the
//! required part is scored alone; a bonus is looked up (a forward `seek` on
//! its scorer) only when the passage's BM25 score plus the most the bonuses
//! can add beats the current `window`-th best score. The scores are the
//! same sums in the same order as tantivy's `RequiredOptionalScorer` over a
//! sum union, so results are identical to the single `BooleanQuery`.
//!
//! When the required part is one term, the total is counted by
//! [`Weight::count`] (the term's document frequency when the segment has no
//! deletes) and the top passages come from tantivy's block-max pruning
//! (`for_each_pruning`), which skips blocks of postings that cannot beat
//! the threshold. Other queries (AND / OR, phrases, filters, names) are
//! walked once, counting and scoring together.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::query::{
    Bm25StatisticsProvider, Bm25Weight, BooleanQuery, EnableScoring, Occur, PhraseQuery, Query,
    Scorer, TermQuery, Weight,
};
use tantivy::{DocAddress, DocId, Score, Searcher, Term, TERMINATED};

use crate::error::Result;

/// A ranking feature added to the score of a passage that matches the
/// required part of a query.
pub(crate) struct Bonus {
    /// The scored query (its boost included).
    pub query: Box<dyn Query>,
    /// The most it can add to one passage's score.
    pub cap: Cap,
    /// The query matches the article's first passage (which alone carries
    /// per-article fields such as the title) and its score applies to every
    /// passage of the article. Its BM25 statistics count articles, not
    /// passages.
    pub per_article: bool,
}

/// BM25 statistics for per-article fields, which are indexed on one
/// passage per article: scaled by passages per article, so that a title
/// term's idf and the average title length come out as when every passage
/// carried its article's title (schema version 1, whose ranking the
/// relevance test measured).
struct ArticleStats<'a> {
    searcher: &'a Searcher,
    /// Passages ÷ articles.
    per_article: f64,
}

impl ArticleStats<'_> {
    fn scale(&self, n: u64) -> u64 {
        (n as f64 * self.per_article).round() as u64
    }
}

impl Bm25StatisticsProvider for ArticleStats<'_> {
    fn total_num_tokens(&self, field: tantivy::schema::Field) -> tantivy::Result<u64> {
        Ok(self.scale(self.searcher.total_num_tokens(field)?))
    }
    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }
    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self.scale(self.searcher.doc_freq(term)?))
    }
}

/// Name of the fast field holding a passage's position in its article.
const PASSAGE_FIELD: &str = "passage";

/// An upper bound on what a [`Bonus`] adds to one passage's score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cap {
    /// A constant score.
    Const(Score),
    /// `boost` × BM25 over these terms (a disjunction or phrase of them):
    /// at most `boost` × Σ idf(term) × (1 + k1).
    Bm25 { boost: Score, terms: Vec<Term> },
    /// No known bound: always computed.
    Unbounded,
}

impl Cap {
    /// The cap of `boost` × `query` when `query` is made of term, phrase and
    /// boolean queries only (what the query parser builds from plain words);
    /// [`Cap::Unbounded`] otherwise.
    pub fn bm25(query: &dyn Query, boost: Score) -> Cap {
        let mut terms = Vec::new();
        if collect_scored_terms(query, &mut terms) {
            Cap::Bm25 { boost, terms }
        } else {
            Cap::Unbounded
        }
    }

    fn value(&self, stats: &dyn Bm25StatisticsProvider) -> Result<Score> {
        match self {
            Cap::Const(score) => Ok(*score),
            Cap::Unbounded => Ok(Score::INFINITY),
            Cap::Bm25 { boost, terms } => {
                let total_docs = stats.total_num_docs()?;
                let mut sum: Score = 0.0;
                for term in terms {
                    let doc_freq = stats.doc_freq(term)?;
                    // The weight (idf × (1 + k1)) bounds tf / (tf + norm) × weight.
                    let weight =
                        Bm25Weight::for_one_term_without_explain(doc_freq, total_docs, 1.0);
                    let idf_bound = weight.max_score().max(idf(doc_freq, total_docs) * 2.2);
                    sum += idf_bound;
                }
                // A margin for rounding: a loose cap only costs time.
                Ok(boost.abs() * sum * 1.01 + 1e-3)
            }
        }
    }
}

/// BM25's idf, as tantivy computes it.
fn idf(doc_freq: u64, total_docs: u64) -> Score {
    let x = ((total_docs as Score - doc_freq as Score) + 0.5) / (doc_freq as Score + 0.5);
    (1.0 + x).ln()
}

/// Adds the terms `query` scores to `terms`; false if it holds anything
/// but term, phrase and boolean queries.
fn collect_scored_terms(query: &dyn Query, terms: &mut Vec<Term>) -> bool {
    if let Some(q) = query.downcast_ref::<TermQuery>() {
        terms.push(q.term().clone());
        true
    } else if let Some(q) = query.downcast_ref::<PhraseQuery>() {
        terms.extend(q.phrase_terms());
        true
    } else if let Some(q) = query.downcast_ref::<BooleanQuery>() {
        q.clauses()
            .iter()
            .all(|(_, sub)| collect_scored_terms(sub.as_ref(), terms))
    } else {
        false
    }
}

/// True when `query` is one term: tantivy counts its matches from the doc
/// frequency (segments without deletes) and prunes its postings by
/// block-max scores. For AND / OR of terms, counting is a walk of the
/// docset anyway, and a second, pruned walk cost more than it saved
/// (callgrind, 10k corpus: `attack killed` 3.88M -> 4.50M instructions,
/// `refugees OR displaced` 5.1M -> 6.6M).
fn prunable(query: &dyn Query) -> bool {
    query.downcast_ref::<TermQuery>().is_some()
}

/// The query itself, or the only clause of a `BooleanQuery` of one `Must`
/// clause: tantivy scores the two alike, but prunes only the former
/// (`BooleanWeight::for_each_pruning` does not unwrap a single clause).
fn single_clause(query: &dyn Query) -> &dyn Query {
    match query
        .downcast_ref::<BooleanQuery>()
        .map(BooleanQuery::clauses)
    {
        Some([(Occur::Must, only)]) => single_clause(only.as_ref()),
        _ => query,
    }
}

/// A candidate in the top-`k` heap. The heap's greatest element is the
/// worst candidate: lowest score, then (as tantivy's `TopDocs`) the
/// highest address.
#[derive(Clone, Copy)]
struct Candidate {
    score: Score,
    addr: DocAddress,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.addr.cmp(&other.addr))
    }
}

/// The best `limit` candidates seen so far.
struct Top {
    limit: usize,
    heap: BinaryHeap<Candidate>,
}

impl Top {
    /// The score a new candidate (always at a higher address than those
    /// kept) must beat, if the heap is full.
    fn threshold(&self) -> Option<Score> {
        if self.heap.len() < self.limit {
            return None;
        }
        self.heap.peek().map(|worst| worst.score)
    }

    fn push(&mut self, score: Score, addr: DocAddress) {
        if self.limit == 0 {
            return;
        }
        if let Some(threshold) = self.threshold() {
            if score <= threshold {
                return;
            }
            self.heap.pop();
        }
        self.heap.push(Candidate { score, addr });
    }
}

/// A bonus ready to score: its weight, cap and scope.
struct BonusWeight {
    weight: Box<dyn Weight>,
    cap: Score,
    per_article: bool,
}

/// A per-article bonus's (first passage, score) pairs in doc order, and a
/// cursor into them.
type ArticleScores = (Vec<(DocId, Score)>, usize);

/// The bonuses of one segment: scorers opened on first use.
struct SegmentBonuses<'a> {
    weights: &'a [BonusWeight],
    reader: &'a tantivy::SegmentReader,
    scorers: Vec<Option<Box<dyn Scorer>>>,
    /// Per-article bonuses, scored once per article beforehand: (first
    /// passage, score) in doc order, and a cursor.
    articles: Vec<Option<ArticleScores>>,
    /// The most each bonus adds in this segment.
    caps: Vec<Score>,
    /// Passage positions, for per-article bonuses.
    passage: Option<tantivy::columnar::Column<u64>>,
    error: Option<tantivy::TantivyError>,
}

impl<'a> SegmentBonuses<'a> {
    /// Scores the per-article bonuses of the segment (their postings hold
    /// one passage per article, so this is short) and takes their exact
    /// maximum as their cap, much tighter than the idf bound.
    fn open(weights: &'a [BonusWeight], reader: &'a tantivy::SegmentReader) -> Result<Self> {
        let mut caps = Vec::with_capacity(weights.len());
        let mut articles = Vec::with_capacity(weights.len());
        let mut passage = None;
        for bonus in weights {
            if !bonus.per_article {
                caps.push(bonus.cap);
                articles.push(None);
                continue;
            }
            if passage.is_none() {
                passage = Some(reader.fast_fields().u64(PASSAGE_FIELD)?);
            }
            let mut scorer = bonus.weight.scorer(reader, 1.0)?;
            let mut scores = Vec::new();
            let mut max: Score = 0.0;
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                let score = scorer.score();
                max = max.max(score);
                scores.push((doc, score));
                doc = scorer.advance();
            }
            caps.push(max);
            articles.push(Some((scores, 0)));
        }
        Ok(SegmentBonuses {
            weights,
            reader,
            scorers: weights.iter().map(|_| None).collect(),
            articles,
            caps,
            passage,
            error: None,
        })
    }

    /// The score of `doc` (which `base` scored), bonuses added, or `None`
    /// if even the largest bonuses could not lift it above `threshold`.
    /// Docs must come in increasing order.
    fn score(&mut self, doc: DocId, base: Score, threshold: Option<Score>) -> Option<Score> {
        let mut remaining: Score = self.caps.iter().sum();
        let mut extra: Score = 0.0;
        for (i, bonus) in self.weights.iter().enumerate() {
            if threshold.is_some_and(|t| base + (extra + remaining) <= t) {
                return None;
            }
            remaining -= self.caps[i];
            if let Some((scores, cursor)) = &mut self.articles[i] {
                // Scored on the article's first passage, `doc - passage`:
                // non-decreasing as `doc` grows, because an article's
                // passages are contiguous.
                let back = self
                    .passage
                    .as_ref()
                    .and_then(|c| c.first(doc))
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(0);
                let target = doc.saturating_sub(back);
                while scores.get(*cursor).is_some_and(|&(d, _)| d < target) {
                    *cursor += 1;
                }
                if let Some(&(d, score)) = scores.get(*cursor) {
                    if d == target {
                        extra += score;
                    }
                }
                continue;
            }
            let slot = &mut self.scorers[i];
            if slot.is_none() {
                match bonus.weight.scorer(self.reader, 1.0) {
                    Ok(scorer) => *slot = Some(scorer),
                    Err(e) => {
                        self.error.get_or_insert(e);
                        return None;
                    }
                }
            }
            let Some(scorer) = slot.as_mut() else {
                continue;
            };
            let mut at = scorer.doc();
            if at < doc {
                at = scorer.seek(doc);
            }
            if at == doc {
                extra += scorer.score();
            }
        }
        // The same sum, in the same order, as a sum union of `Should`
        // clauses added to a required scorer.
        Some(base + extra)
    }
}

/// The total number of passages matching `required` and the best `limit`
/// of them by BM25 plus bonuses, ordered by score then address (as
/// `(Count, TopDocs::order_by_score())` over `required` with the bonuses
/// as `Should` clauses would return them).
pub(crate) fn top_by_score(
    searcher: &Searcher,
    required: &dyn Query,
    bonuses: &[Bonus],
    limit: usize,
) -> Result<(usize, Vec<(Score, DocAddress)>)> {
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let required = single_clause(required);
    let weight = required.weight(scoring)?;
    let first_passages = searcher.doc_freq(&Term::from_field_u64(
        searcher.schema().get_field(PASSAGE_FIELD)?,
        0,
    ))?;
    let articles = ArticleStats {
        searcher,
        per_article: searcher.total_num_docs()? as f64 / first_passages.max(1) as f64,
    };
    let mut bonus_weights = Vec::with_capacity(bonuses.len());
    for bonus in bonuses {
        let (cap, weight) = if bonus.per_article {
            let scoring = EnableScoring::enabled_from_statistics_provider(&articles, searcher);
            (bonus.cap.value(&articles)?, bonus.query.weight(scoring)?)
        } else {
            (bonus.cap.value(searcher)?, bonus.query.weight(scoring)?)
        };
        bonus_weights.push(BonusWeight {
            weight,
            cap,
            per_article: bonus.per_article,
        });
    }
    let prune = prunable(required);
    let mut top = Top {
        limit,
        heap: BinaryHeap::with_capacity(limit + 1),
    };
    let mut total = 0usize;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let segment_ord = ord as u32;
        let alive = reader.alive_bitset();
        let mut bonuses = SegmentBonuses::open(&bonus_weights, reader)?;
        let cap_sum: Score = bonuses.caps.iter().sum();
        // The base score a passage needs to have a chance.
        let needed = |top: &Top| top.threshold().map_or(Score::MIN, |t| t - cap_sum);
        let mut offer = |top: &mut Top, doc: DocId, base: Score| {
            if alive.is_some_and(|a| a.is_deleted(doc)) {
                return;
            }
            if let Some(score) = bonuses.score(doc, base, top.threshold()) {
                top.push(score, DocAddress::new(segment_ord, doc));
            }
        };
        if prune {
            total += weight.count(reader)? as usize;
            let start = needed(&top);
            weight.for_each_pruning(start, reader, &mut |doc, base| {
                offer(&mut top, doc, base);
                needed(&top)
            })?;
        } else {
            let mut scorer = weight.scorer(reader, 1.0)?;
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    total += 1;
                    let base = scorer.score();
                    if base > needed(&top) {
                        offer(&mut top, doc, base);
                    }
                }
                doc = scorer.advance();
            }
        }
        if let Some(e) = bonuses.error {
            return Err(e.into());
        }
    }
    let mut docs: Vec<Candidate> = top.heap.into_vec();
    docs.sort();
    Ok(docs
        .into_iter()
        .map(|c| (c.score, c.addr))
        .collect::<Vec<_>>())
    .map(|docs| (total, docs))
}
