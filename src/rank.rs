//! Top passages by score, computing the ranking bonuses (title,
//! proximity, own-facet) only for passages that could still enter the top.
//!
//! A bonus never changes which passages match, only their score. As a
//! `Should` clause of one `BooleanQuery`, tantivy scores it for every
//! matching passage, and the `Count` collector visits every one: the title
//! disjunction (every passage carries its article's title, so its postings
//! are as long as the text's) and the proximity phrase (positions of every
//! query word) made the default ranking cost 1.3-1.8× plain BM25. Here the
//! required part is scored alone; a bonus is looked up (a probe of its
//! scorer at that passage) only when the passage's BM25 score plus the most
//! the bonuses can add reaches the current `window`-th best score. The
//! scores are the same sums in the same order as tantivy's
//! `RequiredOptionalScorer` over a sum union, so results are identical to
//! the single `BooleanQuery`.
//!
//! When the required part is one term or a disjunction of 2-3 terms, the
//! total is counted apart (the term's document frequency; for `a OR b`,
//! inclusion-exclusion over unscored intersections) and the top passages
//! come from tantivy's block-max pruning (`for_each_pruning`), after the
//! passages of the articles whose title matched have been ranked first
//! (see [`top_by_score`]). Other queries (AND, phrases, filters, names)
//! are walked once, counting and scoring together, until `count_up_to`
//! matches are counted; past it, a query whose scored terms bound it
//! (phrases, AND, filtered words) has the rest of its matches pruned by
//! block-max over those terms, with positions and filters checked only
//! where the bound can still enter the top, and reports its total as a
//! lower bound.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::query::{
    Bm25StatisticsProvider, Bm25Weight, BooleanQuery, EnableScoring, Occur, PhraseQuery, Query,
    Scorer, TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;

use tantivy::{DocAddress, DocId, Score, Searcher, SeekDangerResult, Term, TERMINATED};

use crate::error::Result;
use crate::search::TotalHits;

mod facet_filter;
mod phrase_walk;

pub(crate) use facet_filter::{FacetFilter, Positions};

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
    /// Its scorer answers "does this doc match, and how well" without
    /// reading far ahead (a term, a phrase): a walk may then score a
    /// per-article bonus on demand. A union's scorer refills a window of
    /// 4,096 docs on every seek far ahead, which cost more than scoring
    /// every title at once (`civilians killed airstrike`: +36 %).
    pub seekable: bool,
    /// The query is this phrase boosted by this much: a pass that scores
    /// every match in a segment may read it with a [`phrase_walk`]
    /// (a title phrase of common words matches 100k articles at 1M).
    pub phrase: Option<(PhraseQuery, Score)>,
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
    /// At most this fraction of the score of the passage's required part
    /// (see [`Cap::proximity`]).
    Relative(Score),
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

    /// The cap of `boost` × a phrase with slop over `terms` (in order,
    /// repeats kept) when the required part of the query is the
    /// conjunction of exactly these terms, each a BM25 term query on the
    /// same field; [`Cap::bm25`] of `phrase` otherwise.
    ///
    /// Such a phrase scores BM25 with the sum of its terms' idf and its
    /// match count as frequency, and a match takes one position of each
    /// term, so its count is at most the smallest term frequency. BM25's
    /// frequency factor grows with the frequency and the field norm is the
    /// passage's for all of them, so the phrase's factor is at most every
    /// term's, hence at most their idf-weighted mean, and the phrase scores
    /// at most the sum of the term scores: `boost` × the required part's
    /// score, which can only add non-negative clauses (filters, names) to
    /// those terms.
    pub fn proximity(
        required: &dyn Query,
        phrase: &PhraseQuery,
        terms: &[Term],
        boost: Score,
    ) -> Cap {
        let mut required_terms = Vec::new();
        let conjunction = match required.downcast_ref::<BooleanQuery>() {
            Some(q) => {
                q.clauses()
                    .iter()
                    .all(|(occur, sub)| match sub.downcast_ref::<TermQuery>() {
                        Some(t) if *occur == Occur::Must => {
                            required_terms.push(t.term().clone());
                            true
                        }
                        _ => false,
                    })
            }
            None => false,
        };
        let mut sorted = terms.to_vec();
        sorted.sort();
        required_terms.sort();
        if conjunction && boost >= 0.0 && sorted == required_terms {
            Cap::Relative(boost)
        } else {
            Cap::bm25(phrase, boost)
        }
    }

    /// The absolute cap; a relative cap's fraction is [`Self::fraction`].
    fn value(&self, stats: &dyn Bm25StatisticsProvider) -> Result<Score> {
        match self {
            Cap::Const(score) => Ok(*score),
            Cap::Relative(_) => Ok(0.0),
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

impl Cap {
    /// The relative part of the cap: at most this fraction of the base
    /// score (with a margin for rounding).
    fn fraction(&self) -> Score {
        match self {
            Cap::Relative(boost) => boost * 1.001,
            _ => 0.0,
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

/// How the matches of the required part are counted when its top
/// passages come from tantivy's block-max pruning (`for_each_pruning`),
/// which skips postings that cannot enter the top and so cannot count.
enum Counter {
    /// One term: [`Weight::count`], the term's document frequency when the
    /// segment has no deletes.
    Term(Box<dyn Weight>),
    /// A disjunction of 2 or 3 terms (`a OR b`), counted by
    /// inclusion-exclusion: |a ∪ b| = |a| + |b| − |a ∩ b|. Document
    /// frequencies are free and an intersection counted without scores
    /// (the rarer term drives, the other seeks) costs much less than
    /// scoring the union. Each subset of the terms, with its sign.
    Union {
        /// Every non-empty subset of the terms: its (unscored) weight and
        /// +1 for odd sizes, −1 for even ones.
        parts: Vec<(Box<dyn Weight>, i64)>,
        /// The whole disjunction, unscored: counted by walking it in
        /// segments with deletes.
        walk: Box<dyn Weight>,
    },
}

impl Counter {
    /// A counter for `query` if tantivy can prune it (one term, or a
    /// disjunction of 2-3 terms, which block-max WAND prunes); `None` for
    /// everything else (AND, phrases, filters, names, mixed operators),
    /// which is walked once, counting and scoring together. For AND, a
    /// count is a walk of the intersection anyway; counting it unscored
    /// and then pruning a second walk (`block_wand_intersection`) cost
    /// more than one scored walk on all but the most frequent word pairs
    /// (callgrind, 100k corpus: `hostages AND release` 7.8M -> 9.7M
    /// instructions, `civilians killed airstrike` 13.3M -> 26.3M;
    /// `drone AND strike` 11.0M -> 7.8M).
    fn for_query(query: &dyn Query, searcher: &Searcher) -> Result<Option<Counter>> {
        let unscored = EnableScoring::disabled_from_searcher(searcher);
        if query.downcast_ref::<TermQuery>().is_some() {
            return Ok(Some(Counter::Term(query.weight(unscored)?)));
        }
        let Some(boolean) = query.downcast_ref::<BooleanQuery>() else {
            return Ok(None);
        };
        let clauses = boolean.clauses();
        let all_terms = |wanted: Occur| {
            clauses
                .iter()
                .all(|(occur, sub)| *occur == wanted && sub.downcast_ref::<TermQuery>().is_some())
        };
        if !all_terms(Occur::Should) {
            return Ok(None);
        }
        let terms: Vec<Term> = clauses
            .iter()
            .filter_map(|(_, sub)| sub.downcast_ref::<TermQuery>())
            .map(|t| t.term().clone())
            .collect();
        if !(2..=3).contains(&terms.len()) {
            return Ok(None);
        }
        let mut parts = Vec::new();
        for subset in 1..(1u32 << terms.len()) {
            let clauses: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .enumerate()
                .filter(|(i, _)| subset & (1 << i) != 0)
                .map(|(_, term)| {
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic));
                    (Occur::Must, q)
                })
                .collect();
            let sign = if subset.count_ones() % 2 == 1 { 1 } else { -1 };
            parts.push((BooleanQuery::new(clauses).weight(unscored)?, sign));
        }
        Ok(Some(Counter::Union {
            parts,
            walk: query.weight(unscored)?,
        }))
    }

    /// The number of live documents of the segment that match, exactly
    /// (`true`) or, when that is `enough` or more, possibly a lower bound
    /// (`false`): a disjunction matches at least as many documents as its
    /// most frequent term, which costs nothing to count, where the
    /// intersections of inclusion-exclusion cost a walk.
    fn count(&self, reader: &tantivy::SegmentReader, enough: usize) -> Result<(usize, bool)> {
        match self {
            Counter::Term(weight) => Ok((weight.count(reader)? as usize, true)),
            Counter::Union { walk, .. } if reader.has_deletes() => {
                Ok((walk.count(reader)? as usize, true))
            }
            Counter::Union { parts, .. } => {
                // The single terms come first (subsets 1, 2 and 4 are at
                // 0, 1 and 3).
                let mut most = 0;
                for at in [0, 1, 3] {
                    if let Some((weight, _)) = parts.get(at) {
                        most = most.max(weight.count(reader)? as usize);
                    }
                }
                if most >= enough {
                    return Ok((most, false));
                }
                let mut total: i64 = 0;
                for (weight, sign) in parts {
                    total += sign * i64::from(weight.count(reader)?);
                }
                Ok((usize::try_from(total).unwrap_or(0), true))
            }
        }
    }
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
    /// The score a new candidate must reach (ties are broken by address),
    /// if the heap is full.
    fn threshold(&self) -> Option<Score> {
        if self.heap.len() < self.limit {
            return None;
        }
        self.heap.peek().map(|worst| worst.score)
    }

    /// Whether a candidate would be kept (see [`Self::push`]).
    fn would_enter(&self, score: Score, addr: DocAddress) -> bool {
        self.limit > 0
            && (self.heap.len() < self.limit
                || self
                    .heap
                    .peek()
                    .is_some_and(|worst| Candidate { score, addr } < *worst))
    }

    /// Keeps the candidate if it beats the worst kept one: a higher score,
    /// or an equal score at a lower address (as tantivy's `TopDocs`).
    /// Candidates may come in any address order.
    fn push(&mut self, score: Score, addr: DocAddress) {
        if self.limit == 0 {
            return;
        }
        let candidate = Candidate { score, addr };
        if self.heap.len() >= self.limit {
            match self.heap.peek() {
                Some(worst) if candidate < *worst => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(candidate);
    }
}

/// A bonus ready to score: its weight, cap and scope.
struct BonusWeight {
    weight: Box<dyn Weight>,
    cap: Score,
    /// The part of the cap proportional to the base score.
    fraction: Score,
    per_article: bool,
    seekable: bool,
    /// The bonus's phrase and the BM25 weight tantivy scores it with.
    phrase: Option<(PhraseQuery, Bm25Weight)>,
}

/// A bonus scorer asked about given docs only, in strictly increasing
/// order. `seek` would move to the next match at or after a doc: for the
/// proximity phrase that checks the positions of every doc holding all the
/// words until one matches, though only the candidate was asked about.
/// `seek_danger` checks the target alone (and may then leave the scorer
/// where only further `seek_danger` calls with greater targets are
/// allowed, which is all this makes).
struct Probe {
    scorer: Box<dyn Scorer>,
    /// No match below this doc.
    lower: DocId,
    /// The scorer stands on a match at `lower`.
    on_match: bool,
}

impl Probe {
    fn new(scorer: Box<dyn Scorer>) -> Probe {
        let lower = scorer.doc();
        Probe {
            scorer,
            lower,
            on_match: lower != TERMINATED,
        }
    }

    /// The score at `doc` if it matches.
    fn score_at(&mut self, doc: DocId) -> Option<Score> {
        if doc < self.lower || doc == TERMINATED {
            return None;
        }
        if doc > self.lower || !self.on_match {
            match self.scorer.seek_danger(doc) {
                SeekDangerResult::Found => {
                    self.lower = doc;
                    self.on_match = true;
                }
                SeekDangerResult::SeekLowerBound(next) => {
                    self.lower = next.max(doc + 1);
                    self.on_match = false;
                    return None;
                }
            }
        }
        Some(self.scorer.score())
    }
}

/// Divides the articles a per-article bonus matches in a segment into the
/// number a walk may score on demand before all are scored (see
/// [`SegmentBonuses::open`]).
const ON_DEMAND_SHARE: usize = 16;

/// [`ON_DEMAND_SHARE`], which the tests vary to exercise every path.
fn on_demand_share() -> usize {
    #[cfg(test)]
    {
        tests::ON_DEMAND_SHARE_FOR_TEST.with(|share| share.get())
    }
    #[cfg(not(test))]
    {
        ON_DEMAND_SHARE
    }
}

/// The per-article bonus of a walk, read on demand: the articles it
/// matches are found near the walk's matches only (a doc-only cursor that
/// skips the rest of its postings), and scored only where asked.
struct OnDemand {
    /// Which bonus.
    index: usize,
    /// The bonus's matches (first passages), doc only, in increasing order.
    cursor: Box<dyn Scorer>,
    /// The largest match of `cursor` at or before the last doc asked about.
    last: Option<DocId>,
    /// Its scorer, probed at first passages in increasing order.
    probe: Probe,
    /// The last article scored, and its score.
    scored: Option<(DocId, Score)>,
    /// How many more articles to score this way before scoring them all.
    left: usize,
}

/// Every match of a per-article bonus's scorer (first passages) with its
/// score, in doc order, and the largest score.
fn score_articles(mut scorer: Box<dyn Scorer>) -> (Vec<(DocId, Score)>, Score) {
    // The length of a term's postings (an estimate for others): the vector
    // is filled without growing.
    let mut scores = Vec::with_capacity(scorer.size_hint() as usize);
    let mut max: Score = 0.0;
    let mut doc = scorer.doc();
    while doc != TERMINATED {
        let score = scorer.score();
        max = max.max(score);
        scores.push((doc, score));
        doc = scorer.advance();
    }
    (scores, max)
}

/// A scorer of every match of `bonus` in the segment that reads a phrase
/// with a [`phrase_walk::PhraseWalk`], if it can: the same matches and
/// scores as the bonus's own scorer.
fn walk(
    searcher: &Searcher,
    bonus: &BonusWeight,
    reader: &tantivy::SegmentReader,
) -> tantivy::Result<Option<Box<dyn Scorer>>> {
    let Some((phrase, bm25)) = &bonus.phrase else {
        return Ok(None);
    };
    let walk = phrase_walk::PhraseWalk::with_weight(searcher, phrase, reader, bm25.clone())?;
    Ok(walk.map(|w| Box::new(w) as Box<dyn Scorer>))
}

/// The bonuses of one segment: scorers opened on first use.
struct SegmentBonuses<'a> {
    searcher: &'a Searcher,
    weights: &'a [BonusWeight],
    reader: &'a tantivy::SegmentReader,
    scorers: Vec<Option<Probe>>,
    /// Per-article bonuses, scored once per article beforehand: (first
    /// passage, score) in doc order. `None` for the others, and for the
    /// one read `on_demand`.
    articles: Vec<Option<Vec<(DocId, Score)>>>,
    /// The per-article bonus a walk reads on demand (see [`Self::open`]).
    on_demand: Option<OnDemand>,
    /// The most each bonus adds in this segment.
    caps: Vec<Score>,
    /// Passage positions, for per-article bonuses.
    passage: Option<tantivy::columnar::Column<u64>>,
    /// The largest passage position in the segment: a passage is at most
    /// this far from its article's first passage.
    max_passage: u64,
    /// The first passages of the articles some per-article bonus scored,
    /// in doc order, and a cursor for [`Self::scored_start`].
    starts: Vec<DocId>,
    next_start: usize,
    error: Option<tantivy::TantivyError>,
}

impl<'a> SegmentBonuses<'a> {
    /// Lists the articles each per-article bonus matches in the segment
    /// (their postings hold one passage per article, so this is short).
    ///
    /// Eagerly, it scores them all and takes their exact maximum as the
    /// cap, much tighter than the idf bound: the pruned passes need both
    /// (they rank title articles by their scores first). For a walk
    /// (`on_demand`: it asks about the articles of its matches only, in
    /// doc order), a lone per-article bonus with a finite cap is read on
    /// demand (see [`OnDemand`]), under its idf cap, until the walk has
    /// scored a sixteenth of its articles; then all are scored. A rare
    /// filter's walk meets a few hundred of the tens of thousands of
    /// articles whose title holds a common word, and listing and scoring
    /// them all read that many title postings and field norms per query;
    /// a walk over most of them is better served by the exact cap, which
    /// lets it skip more.
    fn open(
        searcher: &'a Searcher,
        weights: &'a [BonusWeight],
        reader: &'a tantivy::SegmentReader,
        on_demand: bool,
    ) -> Result<Self> {
        let mut caps = Vec::with_capacity(weights.len());
        let mut articles = Vec::with_capacity(weights.len());
        let mut lazy = None;
        let mut passage = None;
        let lone = weights.iter().filter(|b| b.per_article).count() == 1;
        for (i, bonus) in weights.iter().enumerate() {
            if !bonus.per_article {
                caps.push(bonus.cap);
                articles.push(None);
                continue;
            }
            if passage.is_none() {
                passage = Some(reader.fast_fields().u64(PASSAGE_FIELD)?);
            }
            let scorer = bonus.weight.scorer(reader, 1.0)?;
            // How many articles to score on demand before scoring all (the
            // size hint of a term's postings is their length); none if too
            // few to be worth it.
            let left = scorer.size_hint() as usize / on_demand_share();
            if on_demand && lone && bonus.seekable && left > 0 && bonus.cap.is_finite() {
                caps.push(bonus.cap);
                articles.push(None);
                lazy = Some(OnDemand {
                    index: i,
                    cursor: scorer,
                    last: None,
                    probe: Probe::new(bonus.weight.scorer(reader, 1.0)?),
                    scored: None,
                    left,
                });
                continue;
            }
            let (scores, max) = match walk(searcher, bonus, reader)? {
                Some(walk) => score_articles(walk),
                None => score_articles(scorer),
            };
            caps.push(max);
            articles.push(Some(scores));
        }
        let per_article: Vec<&Vec<(DocId, Score)>> = articles.iter().flatten().collect();
        let starts: Vec<DocId> = match per_article.as_slice() {
            // One bonus's docs (the title's, usually the only one) are
            // sorted and distinct already.
            [one] => one.iter().map(|&(doc, _)| doc).collect(),
            several => {
                let mut starts: Vec<DocId> = several
                    .iter()
                    .flat_map(|scores| scores.iter().map(|&(doc, _)| doc))
                    .collect();
                starts.sort_unstable();
                starts.dedup();
                starts
            }
        };
        let max_passage = passage.as_ref().map_or(0, |c| c.max_value());
        Ok(SegmentBonuses {
            searcher,
            weights,
            reader,
            scorers: weights.iter().map(|_| None).collect(),
            articles,
            on_demand: lazy,
            caps,
            passage,
            max_passage,
            starts,
            next_start: 0,
            error: None,
        })
    }

    /// The first passage of `doc`'s article if a per-article bonus scored
    /// that article. Docs must come in increasing order. The passage
    /// column is read only for docs close enough after a scored article's
    /// first passage.
    fn scored_start(&mut self, doc: DocId) -> Option<DocId> {
        if let Some(lazy) = self.on_demand.as_mut() {
            // The bonus's last match at or before `doc`, skipping (by the
            // postings' skip list) those too far before it to matter.
            let reach = DocId::try_from(self.max_passage).unwrap_or(DocId::MAX);
            let nearest = doc.saturating_sub(reach);
            if lazy.cursor.doc() < nearest {
                lazy.cursor.seek(nearest);
            }
            while lazy.cursor.doc() <= doc {
                lazy.last = Some(lazy.cursor.doc());
                lazy.cursor.advance();
            }
            let start = lazy.last.filter(|&s| s >= nearest)?;
            return (self.article_start(doc) == start).then_some(start);
        }
        while self
            .starts
            .get(self.next_start + 1)
            .is_some_and(|&s| s <= doc)
        {
            self.next_start += 1;
        }
        let start = *self.starts.get(self.next_start)?;
        if start > doc || u64::from(doc - start) > self.max_passage {
            return None;
        }
        (self.article_start(doc) == start).then_some(start)
    }

    /// The first passage of `doc`'s article: `doc - passage`, because an
    /// article's passages are contiguous in one segment.
    fn article_start(&self, doc: DocId) -> DocId {
        let back = self
            .passage
            .as_ref()
            .and_then(|c| c.first(doc))
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0);
        doc.saturating_sub(back)
    }

    /// Scores every article of the bonus read on demand and makes its cap
    /// the exact maximum, as an eager [`Self::open`] would have: what the
    /// pruned passes need, whose order is not the walk's.
    fn score_all(&mut self) -> tantivy::Result<()> {
        let Some(lazy) = self.on_demand.take() else {
            return Ok(());
        };
        // A fresh scorer, as `open` scores eagerly: the same scores (some
        // already known, computed again), the same exact cap.
        let bonus = &self.weights[lazy.index];
        let scorer = match walk(self.searcher, bonus, self.reader)? {
            Some(walk) => walk,
            None => bonus.weight.scorer(self.reader, 1.0)?,
        };
        let (scores, max) = score_articles(scorer);
        self.starts = scores.iter().map(|&(doc, _)| doc).collect();
        self.next_start = 0;
        self.caps[lazy.index] = max;
        self.articles[lazy.index] = Some(scores);
        Ok(())
    }

    /// The score of the bonus read on demand for the article whose first
    /// passage is `start` (one of its matches), asked in increasing order.
    fn score_on_demand(&mut self, start: DocId) -> tantivy::Result<Score> {
        let Some(lazy) = self.on_demand.as_mut() else {
            return Ok(0.0);
        };
        if let Some((doc, score)) = lazy.scored {
            if doc == start {
                return Ok(score);
            }
        }
        let score = lazy.probe.score_at(start);
        debug_assert!(score.is_some(), "an article the bonus matches");
        let score = score.unwrap_or(0.0);
        lazy.scored = Some((start, score));
        lazy.left = lazy.left.saturating_sub(1);
        if lazy.left == 0 {
            self.score_all()?;
        }
        Ok(score)
    }

    /// Each of `starts` (first passages, in doc order) with the sum of its
    /// article's per-article bonuses (every score known: see
    /// [`Self::score_all`]). One merge per bonus list rather than a binary
    /// search per article: a common title phrase matches 100k articles
    /// of a 1M segment. The sums add the bonuses in the same order as
    /// [`Self::score`].
    fn article_bonuses(&self, starts: &[DocId]) -> Vec<(DocId, Score)> {
        debug_assert!(self.on_demand.is_none());
        let mut sums: Vec<(DocId, Score)> = starts.iter().map(|&s| (s, 0.0)).collect();
        for scores in self.articles.iter().flatten() {
            let mut at = 0;
            for (start, sum) in &mut sums {
                while scores.get(at).is_some_and(|&(d, _)| d < *start) {
                    at += 1;
                }
                if let Some(&(d, score)) = scores.get(at) {
                    if d == *start {
                        *sum += score;
                    }
                }
            }
        }
        sums
    }

    /// The most a passage's own part can score (a base score of at most
    /// `best` and the per-passage bonuses), with margins for rounding.
    fn own_cap(&self, best: Score) -> Score {
        let best = best * (1.0 + 1e-4);
        (best + self.cap(false, best)) * (1.0 + 1e-4)
    }

    /// The most the bonuses add to a passage whose required part scored
    /// `base`, with or without the per-article ones.
    fn cap(&self, per_article: bool, base: Score) -> Score {
        let (absolute, fraction) = self.cap_parts(per_article);
        absolute + fraction * base
    }

    /// The bonuses' caps as a constant and a fraction of the base score.
    fn cap_parts(&self, per_article: bool) -> (Score, Score) {
        let mut absolute: Score = 0.0;
        let mut fraction: Score = 0.0;
        for (bonus, cap) in self.weights.iter().zip(&self.caps) {
            if per_article || !bonus.per_article {
                absolute += cap;
                fraction += bonus.fraction;
            }
        }
        (absolute, fraction)
    }

    /// Forgets the per-passage bonus scorers' positions, to score docs
    /// from the start of the segment again.
    fn rewind(&mut self) {
        for slot in &mut self.scorers {
            *slot = None;
        }
    }

    /// The score of `doc` (which `base` scored), bonuses added, or `None`
    /// if even the largest bonuses could not lift it to `threshold`.
    /// `start` is the first passage of `doc`'s article when it has
    /// per-article bonuses, `None` when it has none (they add nothing).
    /// Docs must come in increasing order (until [`Self::rewind`]).
    fn score(
        &mut self,
        doc: DocId,
        base: Score,
        start: Option<DocId>,
        threshold: Option<Score>,
    ) -> Option<Score> {
        let mut remaining = self.cap(start.is_some(), base);
        let mut extra: Score = 0.0;
        for (i, bonus) in self.weights.iter().enumerate() {
            if bonus.per_article && start.is_none() {
                continue;
            }
            if threshold.is_some_and(|t| base + (extra + remaining) < t) {
                return None;
            }
            remaining -= self.caps[i] + bonus.fraction * base;
            if bonus.per_article {
                let Some(start) = start else {
                    continue;
                };
                if let Some(scores) = &self.articles[i] {
                    if let Ok(at) = scores.binary_search_by_key(&start, |&(d, _)| d) {
                        extra += scores[at].1;
                    }
                    continue;
                }
                // `start` came from `scored_start`: one of the bonus's
                // matches.
                match self.score_on_demand(start) {
                    Ok(score) => extra += score,
                    Err(e) => {
                        self.error.get_or_insert(e);
                        return None;
                    }
                }
                continue;
            }
            let slot = &mut self.scorers[i];
            if slot.is_none() {
                match bonus.weight.scorer(self.reader, 1.0) {
                    Ok(scorer) => *slot = Some(Probe::new(scorer)),
                    Err(e) => {
                        self.error.get_or_insert(e);
                        return None;
                    }
                }
            }
            let Some(probe) = slot.as_mut() else {
                continue;
            };
            if let Some(score) = probe.score_at(doc) {
                extra += score;
            }
        }
        // The same sum, in the same order, as a sum union of `Should`
        // clauses added to a required scorer.
        Some(base + extra)
    }
}

/// A disjunction (`Should` clauses only) whose scorer seeks by seeking each
/// clause, for unions that an intersection seeks into: a facet filter
/// (province or passage province) led by a query word, a name's phrase or
/// tag. tantivy's union scorer refills a window of 4,096 docs on every
/// seek far ahead, evaluating every clause (a phrase's positions
/// included) across it. The score is the sum of the matching clauses' in
/// clause order, from zero, as tantivy's `SumCombiner` adds them.
#[derive(Debug)]
pub(crate) struct SeekUnion {
    clauses: Vec<Box<dyn Query>>,
}

impl Clone for SeekUnion {
    fn clone(&self) -> SeekUnion {
        SeekUnion {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl SeekUnion {
    pub(crate) fn new(clauses: Vec<Box<dyn Query>>) -> SeekUnion {
        SeekUnion { clauses }
    }
}

impl Query for SeekUnion {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|q| q.weight(scoring))
            .collect::<tantivy::Result<_>>()?;
        Ok(Box::new(SeekUnionWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for clause in &self.clauses {
            clause.query_terms(visitor);
        }
    }
}

struct SeekUnionWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for SeekUnionWeight {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Box<dyn Scorer>> {
        let children: Vec<Box<dyn Scorer>> = self
            .weights
            .iter()
            .map(|w| w.scorer(reader, boost))
            .collect::<tantivy::Result<_>>()?;
        let doc = children.iter().map(|c| c.doc()).min().unwrap_or(TERMINATED);
        Ok(Box::new(SeekUnionScorer { children, doc }))
    }

    fn explain(
        &self,
        reader: &tantivy::SegmentReader,
        doc: DocId,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        let mut explanation = tantivy::query::Explanation::new("sum of", scorer.score());
        for weight in &self.weights {
            if let Ok(child) = weight.explain(reader, doc) {
                explanation.add_detail(child);
            }
        }
        Ok(explanation)
    }
}

struct SeekUnionScorer {
    children: Vec<Box<dyn Scorer>>,
    doc: DocId,
}

impl SeekUnionScorer {
    fn settle(&mut self) -> DocId {
        self.doc = self
            .children
            .iter()
            .map(|c| c.doc())
            .min()
            .unwrap_or(TERMINATED);
        self.doc
    }
}

impl tantivy::DocSet for SeekUnionScorer {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        for child in &mut self.children {
            if child.doc() == current {
                child.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for child in &mut self.children {
            if child.doc() < target {
                child.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.children
            .iter()
            .map(|c| c.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.children.iter().map(|c| c.cost()).sum()
    }
}

impl Scorer for SeekUnionScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        let mut sum: Score = 0.0;
        for child in &mut self.children {
            if child.doc() == doc {
                sum += child.score();
            }
        }
        sum
    }
}

/// Scores the required part on the matching passages of one article at a
/// time (pass 1 of [`top_by_score`]): the query's own scorer, or for a
/// disjunction one scorer per term, because a union scorer's `seek` far
/// ahead refills a window of 4,096 docs, scoring all its matches.
enum ArticleScorer {
    One(Box<dyn Scorer>),
    Terms(Vec<Box<dyn Scorer>>),
}

impl ArticleScorer {
    /// The matching passages of the article whose first passage is
    /// `start`, with their scores, in doc order. Articles must come in
    /// increasing order.
    fn matches(&mut self, start: DocId, bonuses: &SegmentBonuses, out: &mut Vec<(DocId, Score)>) {
        out.clear();
        let in_article = |doc: DocId| doc != TERMINATED && bonuses.article_start(doc) == start;
        match self {
            ArticleScorer::One(scorer) => {
                let mut doc = scorer.doc();
                if doc < start {
                    doc = scorer.seek(start);
                }
                while in_article(doc) {
                    out.push((doc, scorer.score()));
                    doc = scorer.advance();
                }
            }
            ArticleScorer::Terms(scorers) => {
                let mut parts: Vec<(DocId, usize, Score)> = Vec::new();
                for (i, scorer) in scorers.iter_mut().enumerate() {
                    let mut doc = scorer.doc();
                    if doc < start {
                        doc = scorer.seek(start);
                    }
                    while in_article(doc) {
                        parts.push((doc, i, scorer.score()));
                        doc = scorer.advance();
                    }
                }
                // Summed in clause order, from zero, as tantivy's
                // `SumCombiner` does in a union.
                parts.sort_by_key(|&(doc, i, _)| (doc, i));
                for (doc, _, score) in parts {
                    match out.last_mut() {
                        Some((last, sum)) if *last == doc => *sum += score,
                        _ => out.push((doc, 0.0 + score)),
                    }
                }
            }
        }
    }
}

/// The bonuses' weights and caps; per-article ones with [`ArticleStats`].
fn bonus_weights(searcher: &Searcher, bonuses: &[Bonus]) -> Result<Vec<BonusWeight>> {
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
        let stats: &dyn Bm25StatisticsProvider = if bonus.per_article {
            &articles
        } else {
            searcher
        };
        let scoring = EnableScoring::enabled_from_statistics_provider(stats, searcher);
        // As `BoostWeight` passes its boost to the phrase's weight.
        let phrase = match &bonus.phrase {
            Some((phrase, boost)) => {
                let bm25 = Bm25Weight::for_terms(stats, &phrase.phrase_terms())?;
                Some((phrase.clone(), bm25.boost_by(1.0 * boost)))
            }
            None => None,
        };
        bonus_weights.push(BonusWeight {
            weight: bonus.query.weight(scoring)?,
            cap: bonus.cap.value(stats)?,
            fraction: bonus.cap.fraction(),
            per_article: bonus.per_article,
            seekable: bonus.seekable,
            phrase,
        });
    }
    Ok(bonus_weights)
}

/// The total number of passages matching `required` and the best `limit`
/// of them by BM25 plus bonuses, ordered by score then address (as
/// `(Count, TopDocs::order_by_score())` over `required` with the bonuses
/// as `Should` clauses would return them).
///
/// A query that tantivy can prune (one term, a disjunction of terms) is
/// ranked in two passes per segment. First the passages of the articles
/// a per-article bonus (the title) scored: a second scorer of `required`
/// seeks to each such article's first passage and scores the article's
/// matching passages, bonuses included. These are few (titles are short)
/// and usually the best, so the window fills with high scores. Then every
/// other matching passage, which can get only the per-passage bonuses
/// (proximity, own facet): their caps, not the title's, are all that
/// stands between the window's threshold and tantivy's block-max pruning.
/// Other queries are walked once; the passage column is read (to find a
/// passage's article) only near articles the title scored.
///
/// The walk counts, and the total is exact, unless more than
/// `count_up_to` passages match and the rest can be pruned: `upper` (see
/// [`upper_bound`]) exists, walking it is no dearer than walking
/// `required`, and no bonus is capped relative to the base score. Then
/// the walk stops at the cap and [`prune_rest`] ranks what is left
/// without counting it; the total is [`TotalHits::AtLeast`] the cap.
/// The passages returned are the same either way.
pub(crate) fn top_by_score(
    searcher: &Searcher,
    required: &dyn Query,
    upper: Option<&dyn Query>,
    bonuses: &[Bonus],
    limit: usize,
    count_up_to: usize,
) -> Result<(TotalHits, Vec<(Score, DocAddress)>)> {
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let required = single_clause(required);
    let weight = required.weight(scoring)?;
    let upper_weight = match upper {
        Some(q) => Some(q.weight(scoring)?),
        None => None,
    };
    // Set once counting stopped at `count_up_to`: the total is then a
    // lower bound.
    let mut capped = false;
    let bonus_weights = bonus_weights(searcher, bonuses)?;
    let counter = Counter::for_query(required, searcher)?;
    // A disjunction's terms, each scored on its own in pass 1.
    let union_terms = match (&counter, required.downcast_ref::<BooleanQuery>()) {
        (Some(Counter::Union { .. }), Some(q)) => Some(
            q.clauses()
                .iter()
                .map(|(_, sub)| sub.weight(scoring))
                .collect::<tantivy::Result<Vec<_>>>()?,
        ),
        _ => None,
    };
    let mut top = Top {
        limit,
        heap: BinaryHeap::with_capacity(limit + 1),
    };
    let mut total = 0usize;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let segment_ord = ord as u32;
        let alive = reader.alive_bitset();
        let is_alive = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
        // The walk asks about the articles of its matches only.
        let mut bonuses =
            SegmentBonuses::open(searcher, &bonus_weights, reader, counter.is_none())?;

        let Some(counter) = &counter else {
            // Walked once, counting and scoring together, until `count_up_to`
            // matches are counted if the rest can be pruned.
            let (absolute, fraction) = bonuses.cap_parts(true);
            let (own_absolute, own_fraction) = bonuses.cap_parts(false);
            let mut scorer = weight.scorer(reader, 1.0)?;
            // Pruning pays when walking the bound costs no more than
            // walking the query (a filter rarer than the words leads the
            // query's own walk better) and no bonus is capped relative to
            // the base score (the proximity of plain words: block-max is
            // then left a third less of the threshold, and skips little).
            let prunable = match &upper_weight {
                Some(upper) if fraction == 0.0 => {
                    upper.scorer(reader, 1.0)?.cost() <= scorer.cost()
                }
                _ => false,
            };
            let mut rest_from = None;
            if prunable && total >= count_up_to {
                capped = true;
                rest_from = Some(0);
            } else if let Some(walk) = phrase_walk::PhraseWalk::open(searcher, required, reader)? {
                // The same matches and scores, their positions read for less.
                scorer = Box::new(walk);
            }
            let mut doc = if rest_from.is_some() {
                TERMINATED
            } else {
                scorer.doc()
            };
            while doc != TERMINATED {
                if is_alive(doc) {
                    if prunable && total >= count_up_to {
                        // A match beyond the cap: stop counting here.
                        capped = true;
                        rest_from = Some(doc);
                        break;
                    }
                    total += 1;
                    let base = scorer.score();
                    let threshold = top.threshold();
                    if threshold.is_none_or(|t| base + absolute + fraction * base >= t) {
                        let start = bonuses.scored_start(doc);
                        // Most passages are in no article the title
                        // scored: only the per-passage caps can lift them.
                        // (`SegmentBonuses::score`'s first test, the same
                        // float operations, or a score below `t` that
                        // `Top::push` would drop.)
                        let hopeless = start.is_none()
                            && threshold
                                .is_some_and(|t| base + (own_absolute + own_fraction * base) < t);
                        if !hopeless {
                            if let Some(score) = bonuses.score(doc, base, start, threshold) {
                                top.push(score, DocAddress::new(segment_ord, doc));
                            }
                        }
                    }
                }
                doc = scorer.advance();
            }
            if let (Some(from), Some(upper)) = (rest_from, &upper_weight) {
                bonuses.score_all()?;
                prune_rest(
                    searcher,
                    required,
                    reader,
                    segment_ord,
                    from,
                    weight.as_ref(),
                    upper.as_ref(),
                    &mut bonuses,
                    &mut top,
                )?;
            }
            if let Some(e) = bonuses.error {
                return Err(e.into());
            }
            continue;
        };
        let (count, exact) = counter.count(reader, count_up_to.saturating_sub(total))?;
        total += count;
        capped |= !exact;

        // Pruned, in two passes. Pass 1: the passages of the articles a
        // per-article bonus scored.
        let mut done: Vec<DocId> = Vec::new();
        if !bonuses.starts.is_empty() {
            let mut scorer = match &union_terms {
                Some(weights) => ArticleScorer::Terms(
                    weights
                        .iter()
                        .map(|w| w.scorer(reader, 1.0))
                        .collect::<tantivy::Result<_>>()?,
                ),
                None => ArticleScorer::One(weight.scorer(reader, 1.0)?),
            };
            let mut matches = Vec::new();
            for i in 0..bonuses.starts.len() {
                let start = bonuses.starts[i];
                scorer.matches(start, &bonuses, &mut matches);
                for &(doc, base) in &matches {
                    if !is_alive(doc) {
                        continue;
                    }
                    done.push(doc);
                    let threshold = top.threshold();
                    if threshold.is_none_or(|t| base + bonuses.cap(true, base) >= t) {
                        if let Some(score) = bonuses.score(doc, base, Some(start), threshold) {
                            top.push(score, DocAddress::new(segment_ord, doc));
                        }
                    }
                }
            }
            bonuses.rewind();
        }

        // Pass 2: every other passage; per-article bonuses add nothing.
        let (absolute, fraction) = bonuses.cap_parts(false);
        // The base score a passage needs to have a chance: ties count (a
        // lower address wins them), hence the next float down, since
        // pruning keeps only scores above its threshold.
        let needed = |top: &Top| {
            top.threshold().map_or(Score::MIN, |t| {
                ((t - absolute) / (1.0 + fraction)).next_down()
            })
        };
        let mut next_done = 0;
        let start = needed(&top);
        weight.for_each_pruning(start, reader, &mut |doc, base| {
            while done.get(next_done).is_some_and(|&d| d < doc) {
                next_done += 1;
            }
            if done.get(next_done) != Some(&doc) && is_alive(doc) {
                if let Some(score) = bonuses.score(doc, base, None, top.threshold()) {
                    top.push(score, DocAddress::new(segment_ord, doc));
                }
            }
            needed(&top)
        })?;
        if let Some(e) = bonuses.error {
            return Err(e.into());
        }
    }
    let mut docs: Vec<Candidate> = top.heap.into_vec();
    docs.sort();
    let total = if capped {
        TotalHits::AtLeast(total)
    } else {
        TotalHits::Exact(total)
    };
    Ok(docs
        .into_iter()
        .map(|c| (c.score, c.addr))
        .collect::<Vec<_>>())
    .map(|docs| (total, docs))
}

/// Articles as (first passage, per-article bonus).
type Articles = Vec<(DocId, Score)>;

/// The articles (first passage, per-article bonus; in doc order) split
/// in two, each in doc order: the `limit` with the largest bonuses
/// (ranked first, to raise the window's threshold early; ties to the
/// lower doc), and the others. The others keep their order rather than
/// being sorted again: with a common title phrase they are 100k.
fn by_title(articles: &[(DocId, Score)], limit: usize) -> (Articles, Articles) {
    if articles.len() <= limit {
        return (articles.to_vec(), Vec::new());
    }
    if limit == 0 {
        return (Vec::new(), articles.to_vec());
    }
    let mut first = articles.to_vec();
    first.select_nth_unstable_by(limit - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    first.truncate(limit);
    first.sort_unstable_by_key(|&(doc, _)| doc);
    let mut next = 0;
    let rest = articles
        .iter()
        .copied()
        .filter(|&(doc, _)| {
            let chosen = first.get(next).is_some_and(|&(f, _)| f == doc);
            next += usize::from(chosen);
            !chosen
        })
        .collect();
    (first, rest)
}

/// The largest score `upper` gives a passage of the segment (a top-1
/// search, which block-max makes cheap).
fn best_bound(upper: &dyn Weight, reader: &tantivy::SegmentReader) -> Result<Score> {
    let mut best: Score = 0.0;
    upper.for_each_pruning(0.0, reader, &mut |_, score| {
        best = best.max(score);
        best
    })?;
    Ok(best)
}

/// Pass 1 of [`prune_rest`] over `articles` (first passage and
/// per-article bonus, in doc order): every match of `weight` in them from `from` on,
/// with every bonus. With `best` (the most `upper` scores in the segment),
/// an article whose per-article bonus plus `best` and the per-passage caps
/// cannot reach the window's threshold is skipped: its passages can enter
/// neither here nor in pass 2, where they get less.
#[allow(clippy::too_many_arguments)]
fn rank_articles(
    searcher: &Searcher,
    required: &dyn Query,
    reader: &tantivy::SegmentReader,
    segment_ord: u32,
    from: DocId,
    weight: &dyn Weight,
    upper: &dyn Weight,
    bonuses: &mut SegmentBonuses,
    top: &mut Top,
    articles: &[(DocId, Score)],
    best: Option<Score>,
    done: &mut Vec<DocId>,
) -> Result<()> {
    let alive = reader.alive_bitset();
    let is_alive = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
    let mut candidates = upper.scorer(reader, 1.0)?;
    let mut real = Probe::new(weight.scorer(reader, 1.0)?);
    // With per-article bonuses only (known scores), a phrase's exact
    // bound plus them bounds the passage's score exactly.
    let mut phrase = if bonuses.weights.iter().all(|b| b.per_article) {
        PhraseBound::open(searcher, required, reader)?
    } else {
        None
    };
    // The most a passage's own part (base and per-passage bonuses) can
    // score, with a margin for rounding.
    let own = best.map(|b| bonuses.own_cap(b));
    for &(start, article_bonus) in articles {
        if let (Some(own), Some(t)) = (own, top.threshold()) {
            if (article_bonus + own) * (1.0 + 1e-4) < t {
                continue;
            }
        }
        let first = start.max(from);
        let mut doc = candidates.doc();
        if doc < first {
            doc = candidates.seek(first);
        }
        while doc != TERMINATED && bonuses.article_start(doc) == start {
            if let Some(phrase) = phrase.as_mut() {
                let bound = bonuses.score(doc, phrase.at(doc), Some(start), None);
                if bound.is_some_and(|b| !top.would_enter(b, DocAddress::new(segment_ord, doc))) {
                    // Cannot enter now, nor later with a lower score.
                    done.push(doc);
                    doc = candidates.advance();
                    continue;
                }
            }
            if is_alive(doc) {
                if let Some(base) = real.score_at(doc) {
                    done.push(doc);
                    let threshold = top.threshold();
                    if threshold.is_none_or(|t| base + bonuses.cap(true, base) >= t) {
                        if let Some(score) = bonuses.score(doc, base, Some(start), threshold) {
                            top.push(score, DocAddress::new(segment_ord, doc));
                        }
                    }
                }
            }
            doc = candidates.advance();
        }
    }
    bonuses.rewind();
    Ok(())
}

/// Ranks the matches of `weight` at or after `from` in one segment without
/// counting them: once [`top_by_score`] has counted enough, what is left
/// only has to find the passages that can still enter the window.
///
/// `upper` matches every passage `weight` matches and scores it at least
/// as high (see [`upper_bound`]), and tantivy prunes it by block-max
/// (`for_each_pruning`: block-max WAND for one term,
/// `block_wand_intersection` for a conjunction of terms). The real query
/// is probed only at the passages whose bound can still reach the window;
/// its positions (phrases) and filters are checked there alone. As in the
/// pruned passes of [`top_by_score`], the passages of articles whose title
/// scored are ranked first, with every bonus, and the bound left for the
/// rest excludes the title's cap.
#[allow(clippy::too_many_arguments)]
fn prune_rest(
    searcher: &Searcher,
    required: &dyn Query,
    reader: &tantivy::SegmentReader,
    segment_ord: u32,
    from: DocId,
    weight: &dyn Weight,
    upper: &dyn Weight,
    bonuses: &mut SegmentBonuses,
    top: &mut Top,
) -> Result<()> {
    let alive = reader.alive_bitset();
    let is_alive = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
    // Pass 1: the matches in the articles the title scored, from `from` on.
    // `done`: the passages settled here, which pass 2 skips.
    let mut done: Vec<DocId> = Vec::new();
    let starts: Vec<DocId> = bonuses
        .starts
        .iter()
        .copied()
        .filter(|&start| u64::from(start) + bonuses.max_passage >= u64::from(from))
        .collect();
    if !starts.is_empty() {
        // These articles are as many as the titles that match, which grow
        // with the corpus. The `limit` with the best titles go first, to
        // raise the threshold; then any article whose title plus the
        // segment's best bound cannot reach it is skipped.
        let (first, rest) = by_title(&bonuses.article_bonuses(&starts), top.limit);
        let mut rank =
            |articles: &[(DocId, Score)], bound: Option<Score>, done: &mut Vec<DocId>| {
                rank_articles(
                    searcher,
                    required,
                    reader,
                    segment_ord,
                    from,
                    weight,
                    upper,
                    bonuses,
                    top,
                    articles,
                    bound,
                    done,
                )
            };
        rank(&first, None, &mut done)?;
        if !rest.is_empty() {
            rank(&rest, Some(best_bound(upper, reader)?), &mut done)?;
            done.sort_unstable();
        }
    }

    // Pass 2: every other match, by block-max over the bound.
    let (absolute, fraction) = bonuses.cap_parts(false);
    // The bound a passage needs: the base score needed (as in
    // `top_by_score`), loosened for the rounding of a sum computed in
    // another order.
    let needed = |top: &Top| {
        top.threshold().map_or(Score::MIN, |t| {
            let base = ((t - absolute) / (1.0 + fraction)).next_down();
            base - base.abs() * 1e-4
        })
    };
    let mut real = Probe::new(weight.scorer(reader, 1.0)?);
    // With no bonus left to add, a phrase's exact bound settles most
    // candidates, ties included (a tie at a higher address never enters),
    // without reading positions.
    let mut phrase = if absolute == 0.0 && fraction == 0.0 {
        PhraseBound::open(searcher, required, reader)?
    } else {
        None
    };
    let mut next_done = 0;
    let start = needed(top);
    upper.for_each_pruning(start, reader, &mut |doc, _bound| {
        if doc < from {
            return needed(top);
        }
        while done.get(next_done).is_some_and(|&d| d < doc) {
            next_done += 1;
        }
        if let Some(phrase) = phrase.as_mut() {
            if !top.would_enter(phrase.at(doc), DocAddress::new(segment_ord, doc)) {
                return needed(top);
            }
        }
        if done.get(next_done) != Some(&doc) && is_alive(doc) {
            if let Some(base) = real.score_at(doc) {
                if let Some(score) = bonuses.score(doc, base, None, top.threshold()) {
                    top.push(score, DocAddress::new(segment_ord, doc));
                }
            }
        }
        needed(top)
    })?;
    Ok(())
}

/// The most a phrase can score at a passage holding all its terms,
/// computed as tantivy scores the phrase but with the smallest of the
/// terms' frequencies in place of the phrase's match count (which is at
/// most that): the same float operations on a larger frequency, so never
/// below the phrase's score, not even by rounding. Checking it costs a
/// look-up in each term's postings instead of reading their positions.
struct PhraseBound {
    postings: Vec<tantivy::postings::SegmentPostings>,
    fieldnorms: tantivy::fieldnorm::FieldNormReader,
    weight: Bm25Weight,
}

/// Whether no term of a phrase is repeated (the phrase scorers here
/// handle only such phrases).
fn all_distinct(terms: &[Term]) -> bool {
    let mut distinct = terms.to_vec();
    distinct.sort();
    distinct.dedup();
    distinct.len() == terms.len()
}

impl PhraseBound {
    /// For a required part that is one phrase of distinct terms (what
    /// the ranking scores is then the phrase alone).
    fn open(
        searcher: &Searcher,
        required: &dyn Query,
        reader: &tantivy::SegmentReader,
    ) -> Result<Option<PhraseBound>> {
        let Some(phrase) = required.downcast_ref::<PhraseQuery>() else {
            return Ok(None);
        };
        let terms = phrase.phrase_terms();
        if !all_distinct(&terms) {
            return Ok(None);
        }
        let field = phrase.field();
        let inverted = reader.inverted_index(field)?;
        let mut postings = Vec::with_capacity(terms.len());
        for term in &terms {
            match inverted
                .read_postings(term, IndexRecordOption::WithFreqs)
                .map_err(tantivy::TantivyError::from)?
            {
                Some(p) => postings.push(p),
                None => return Ok(None),
            }
        }
        Ok(Some(PhraseBound {
            postings,
            fieldnorms: reader.get_fieldnorms_reader(field)?,
            weight: Bm25Weight::for_terms(searcher, &terms)?.boost_by(1.0),
        }))
    }

    /// The bound at `doc`, which every term's postings hold; docs in
    /// increasing order.
    fn at(&mut self, doc: DocId) -> Score {
        use tantivy::postings::Postings;
        use tantivy::DocSet;
        let mut freq = u32::MAX;
        for postings in &mut self.postings {
            if postings.doc() < doc {
                postings.seek(doc);
            }
            freq = freq.min(postings.term_freq());
        }
        self.weight.score(self.fieldnorms.fieldnorm_id(doc), freq)
    }
}

/// A query that matches every passage `required` matches and scores each
/// at least as high, made of term queries only, so that tantivy can prune
/// it by block-max: the conjunction of the distinct terms `required`
/// scores, when it is built of term queries, phrases, conjunctions,
/// exclusions and unscored filters (`filtered`: the caller has checked
/// they score 0) and no term is scored twice. `None` otherwise (a
/// disjunction, a fuzzy word, an expanded name).
///
/// A phrase scores BM25 with the sum of its terms' idf and its match count
/// as frequency, and its count is at most each term's frequency (a match
/// takes one position of each), so it scores at most the sum of its terms'
/// scores (see [`Cap::proximity`]); an exclusion or a filter adds nothing.
pub(crate) fn upper_bound(text: &[&dyn Query]) -> Option<Box<dyn Query>> {
    let mut terms = Vec::new();
    for query in text {
        if !bound_terms(*query, &mut terms) {
            return None;
        }
    }
    let count = terms.len();
    terms.sort();
    terms.dedup();
    if terms.len() != count || terms.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|term| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
            (Occur::Must, q)
        })
        .collect();
    if clauses.len() == 1 {
        return clauses.pop().map(|(_, q)| q);
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// Adds the terms `query` scores to `terms`, for [`upper_bound`]; false if
/// it holds anything but terms, phrases, conjunctions and exclusions.
fn bound_terms(query: &dyn Query, terms: &mut Vec<Term>) -> bool {
    if let Some(q) = query.downcast_ref::<TermQuery>() {
        terms.push(q.term().clone());
        true
    } else if let Some(q) = query.downcast_ref::<PhraseQuery>() {
        terms.extend(q.phrase_terms());
        true
    } else if let Some(q) = query.downcast_ref::<BooleanQuery>() {
        let mut scored = false;
        for (occur, sub) in q.clauses() {
            match occur {
                Occur::Must => {
                    if !bound_terms(sub.as_ref(), terms) {
                        return false;
                    }
                    scored = true;
                }
                Occur::MustNot => {}
                Occur::Should => return false,
            }
        }
        scored
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::HashMap;

    use super::*;
    use crate::search::{compile, Query as Request};

    /// The split of session 8: every article scored into a vector, the
    /// `limit` best selected, both parts sorted.
    fn by_title_sorting(articles: &[(DocId, Score)], limit: usize) -> (Articles, Articles) {
        if articles.len() <= limit {
            return (articles.to_vec(), Vec::new());
        }
        let mut scored: Vec<(Score, DocId)> = articles.iter().map(|&(d, s)| (s, d)).collect();
        if limit > 0 {
            scored
                .select_nth_unstable_by(limit - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        let mut first: Articles = scored[..limit].iter().map(|&(s, d)| (d, s)).collect();
        let mut rest: Articles = scored[limit..].iter().map(|&(s, d)| (d, s)).collect();
        first.sort_unstable_by_key(|&(d, _)| d);
        rest.sort_unstable_by_key(|&(d, _)| d);
        (first, rest)
    }

    proptest::proptest! {
        /// Ties (few distinct scores) included.
        #[test]
        fn by_title_splits_as_sorting_both_parts(
            docs in proptest::collection::btree_set(0u32..5_000, 0..300),
            scores in proptest::collection::vec(0u8..6, 300),
            limit in 0usize..60,
        ) {
            let articles: Articles = docs
                .iter()
                .zip(&scores)
                .map(|(&d, &s)| (d, Score::from(s) * 0.5))
                .collect();
            proptest::prop_assert_eq!(by_title(&articles, limit), by_title_sorting(&articles, limit));
        }
    }

    /// Every matching passage scored with every bonus, sorted, cut at
    /// `limit`: what [`top_by_score`] must return, without its pruning.
    fn exhaustive(
        searcher: &Searcher,
        required: &dyn Query,
        bonuses: &[Bonus],
        limit: usize,
    ) -> (usize, Vec<(Score, DocAddress)>) {
        let weights = bonus_weights(searcher, bonuses).unwrap();
        let required = single_clause(required);
        let weight = required
            .weight(EnableScoring::enabled_from_searcher(searcher))
            .unwrap();
        let mut all = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let scores: Vec<HashMap<DocId, Score>> = weights
                .iter()
                .map(|b| {
                    let mut scorer = b.weight.scorer(reader, 1.0).unwrap();
                    let mut map = HashMap::new();
                    while scorer.doc() != TERMINATED {
                        map.insert(scorer.doc(), scorer.score());
                        scorer.advance();
                    }
                    map
                })
                .collect();
            let passage = reader.fast_fields().u64(PASSAGE_FIELD).unwrap();
            let mut scorer = weight.scorer(reader, 1.0).unwrap();
            while scorer.doc() != TERMINATED {
                let doc = scorer.doc();
                if reader.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                    let start = doc - passage.first(doc).unwrap() as DocId;
                    let mut extra: Score = 0.0;
                    for (bonus, map) in weights.iter().zip(&scores) {
                        let at = if bonus.per_article { start } else { doc };
                        if let Some(score) = map.get(&at) {
                            extra += score;
                        }
                    }
                    all.push(Candidate {
                        score: scorer.score() + extra,
                        addr: DocAddress::new(ord as u32, doc),
                    });
                }
                scorer.advance();
            }
        }
        all.sort();
        let total = all.len();
        all.truncate(limit);
        (total, all.into_iter().map(|c| (c.score, c.addr)).collect())
    }

    fn requests() -> Vec<Request> {
        let texts = [
            "attack",
            "killed",
            "raid OR attack",
            "ambush OR raid OR killed",
            "killed OR nosuchwordanywhere",
            "attack killed",
            "Islamic State raid",
            "\"security forces\"",
            "raid -killed",
            "civilians killed airstrike",
            "killed killed",
            "al-Shabaab attack",
            "\"killed in\"",
            "\"in the town of\"",
            "\"security forces\" killed",
            "title:attack killed",
        ];
        let mut requests = Vec::new();
        for text in texts {
            requests.push(Request::new(text));
            requests.push(Request::new(text).province("Idlib"));
            requests.push(Request::new(text).ranking(crate::Ranking::BM25));
            requests.push(Request::new(text).exact(true));
        }
        requests
    }

    thread_local! {
        /// [`ON_DEMAND_SHARE`] in this test thread.
        pub(super) static ON_DEMAND_SHARE_FOR_TEST: Cell<usize> = const { Cell::new(ON_DEMAND_SHARE) };
    }

    /// [`check_one_share`] with per-article bonuses scored eagerly (the
    /// sample corpus has few titles per word), wholly on demand, and on
    /// demand until half are asked about.
    fn check_all(index: &crate::Index, searcher: &Searcher) {
        for share in [ON_DEMAND_SHARE, 1, 2] {
            ON_DEMAND_SHARE_FOR_TEST.with(|s| s.set(share));
            check_one_share(index, searcher);
        }
        ON_DEMAND_SHARE_FOR_TEST.with(|s| s.set(ON_DEMAND_SHARE));
    }

    fn check_one_share(index: &crate::Index, searcher: &Searcher) {
        let gazetteer = index.gazetteer().unwrap();
        let mut checked = 0;
        let mut capped = 0;
        for request in requests() {
            let compiled = compile(&request, index.tantivy(), index.fields(), gazetteer).unwrap();
            for limit in [1, 3, 10, 50] {
                let want = exhaustive(searcher, compiled.query.as_ref(), &compiled.bonuses, limit);
                let rank = |count_up_to| {
                    top_by_score(
                        searcher,
                        compiled.query.as_ref(),
                        compiled.upper.as_deref(),
                        &compiled.bonuses,
                        limit,
                        count_up_to,
                    )
                    .unwrap()
                };
                let (total, docs) = rank(usize::MAX);
                assert_eq!(
                    (total, &docs),
                    (TotalHits::Exact(want.0), &want.1),
                    "{:?}, limit {limit}",
                    request.text()
                );
                checked += usize::from(want.0 > limit);
                // Counting stopped early: the same passages, and a total
                // that is exact or a lower bound at the cap.
                for cap in [1, 4, 25] {
                    let (total, docs) = rank(cap);
                    assert_eq!(
                        docs,
                        want.1,
                        "{:?}, limit {limit}, cap {cap}",
                        request.text()
                    );
                    match total {
                        TotalHits::Exact(n) => assert_eq!(n, want.0),
                        TotalHits::AtLeast(n) => {
                            assert!(n >= cap && n <= want.0, "{:?}", request.text());
                            capped += 1;
                        }
                    }
                }
            }
        }
        assert!(
            checked > 20,
            "too few queries with more matches than the limit"
        );
        assert!(capped > 50, "too few capped counts: {capped}");
    }

    /// The pruned two-pass ranking and the inclusion-exclusion counts give
    /// exactly the exhaustive answer, also once articles are deleted.
    #[test]
    fn pruned_ranking_and_counts_equal_scoring_every_match() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-corpus");
        let mut opts = crate::BuildOptions::new(corpus, dir.path());
        opts.threads = Some(1);
        crate::Index::build(&opts).unwrap();
        let index = crate::Index::open(dir.path()).unwrap();
        let searcher = index.tantivy().reader().unwrap().searcher();
        check_all(&index, &searcher);

        // The proximity bonus of plain words is capped relative to their
        // score; with a hyphenated word (a phrase in the required part) it
        // is not.
        let gazetteer = index.gazetteer().unwrap();
        let proximity_cap = |text: &str| {
            let request = Request::new(text).exact(true);
            let compiled = compile(&request, index.tantivy(), index.fields(), gazetteer).unwrap();
            compiled.bonuses.last().unwrap().cap.clone()
        };
        assert_eq!(proximity_cap("attack killed"), Cap::Relative(0.5));
        assert!(matches!(
            proximity_cap("al-Shabaab attack"),
            Cap::Bm25 { .. }
        ));

        // Delete a few articles that match: segments with deletes count
        // and skip differently.
        let hits = index
            .search(&Request::new("killed OR raid").all_copies(true).limit(5))
            .unwrap()
            .hits;
        assert!(hits.len() >= 3);
        let mut writer: tantivy::IndexWriter = index.tantivy().writer(15_000_000).unwrap();
        for hit in &hits[..3] {
            writer.delete_term(Term::from_field_text(
                index.fields().article_id,
                &hit.article_id,
            ));
        }
        writer.commit().unwrap();
        let searcher = index.tantivy().reader().unwrap().searcher();
        assert!(searcher.segment_readers().iter().any(|r| r.has_deletes()));
        check_all(&index, &searcher);
    }

    /// (doc, score) of every match of `query`, walking or, with `lead`,
    /// seeking to each match of `lead` (as an intersection does).
    fn matches(
        searcher: &Searcher,
        query: &dyn Query,
        lead: Option<&dyn Query>,
    ) -> Vec<(DocId, Score)> {
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let weight = query.weight(scoring).unwrap();
        let mut out = Vec::new();
        for reader in searcher.segment_readers() {
            let mut scorer = weight.scorer(reader, 1.0).unwrap();
            let Some(lead) = lead else {
                while scorer.doc() != TERMINATED {
                    out.push((scorer.doc(), scorer.score()));
                    scorer.advance();
                }
                continue;
            };
            let mut leader = lead.weight(scoring).unwrap().scorer(reader, 1.0).unwrap();
            while leader.doc() != TERMINATED {
                let target = leader.doc();
                let mut doc = scorer.doc();
                if doc < target {
                    doc = scorer.seek(target);
                }
                if doc == target {
                    out.push((target, scorer.score()));
                }
                leader.advance();
            }
        }
        out
    }

    #[test]
    fn seek_union_matches_and_scores_as_a_boolean_disjunction() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-corpus");
        crate::Index::build(&crate::BuildOptions::new(corpus, dir.path())).unwrap();
        let index = crate::Index::open(dir.path()).unwrap();
        let searcher = index.tantivy().reader().unwrap().searcher();
        let text = index.fields().text;
        let term = |w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(text, w),
                IndexRecordOption::WithFreqs,
            ))
        };
        let phrase: Box<dyn Query> = Box::new(PhraseQuery::new(vec![
            Term::from_field_text(text, "secur"),
            Term::from_field_text(text, "forc"),
        ]));
        let unions: Vec<Vec<Box<dyn Query>>> = vec![
            vec![phrase.box_clone(), term("kill")],
            vec![term("raid"), term("attack"), term("kill")],
            vec![term("raid")],
        ];
        for clauses in unions {
            let boolean = BooleanQuery::new(
                clauses
                    .iter()
                    .map(|q| (Occur::Should, q.box_clone()))
                    .collect(),
            );
            let seek = SeekUnion::new(clauses);
            let walked = matches(&searcher, &seek, None);
            assert!(walked.len() > 5);
            assert_eq!(walked, matches(&searcher, &boolean, None));
            let lead = term("villag");
            assert_eq!(
                matches(&searcher, &seek, Some(lead.as_ref())),
                matches(&searcher, &boolean, Some(lead.as_ref()))
            );
        }
    }

    #[test]
    fn facet_filter_matches_what_its_union_matches() {
        use tantivy::schema::{Schema, STRING};
        use tantivy::DocSet;
        // Postings of many blocks (128 docs each), dense and sparse,
        // overlapping, in two segments.
        let mut schema = Schema::builder();
        let tag = schema.add_text_field("tag", STRING);
        let index = tantivy::Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let tags = |d: u32| -> Vec<&'static str> {
            let mut out = vec!["all"];
            if d.is_multiple_of(3) {
                out.push("three");
            }
            if d.is_multiple_of(7) || (2_000..2_600).contains(&d) {
                out.push("seven");
            }
            if d % 401 == 5 {
                out.push("rare");
            }
            out
        };
        for segment in 0..2u32 {
            for d in 0..6_000u32 {
                let mut doc = tantivy::TantivyDocument::default();
                for t in tags(d + segment) {
                    doc.add_text(tag, t);
                }
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let term = |w: &str| Term::from_field_text(tag, w);
        let filters = [
            vec!["three", "seven"],
            vec!["rare"],
            vec!["seven", "rare", "three", "absent"],
            vec!["absent"],
        ];
        for names in filters {
            let terms: Vec<Term> = names.iter().map(|w| term(w)).collect();
            let union = SeekUnion::new(
                terms
                    .iter()
                    .map(|t| {
                        let q: Box<dyn Query> =
                            Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
                        q
                    })
                    .collect(),
            );
            let filter = FacetFilter::new(Vec::new(), terms);
            let docs = |found: Vec<(DocId, Score)>| -> Vec<DocId> {
                found.into_iter().map(|(d, _)| d).collect()
            };
            assert_eq!(
                docs(matches(&searcher, &filter, None)),
                docs(matches(&searcher, &union, None)),
                "{names:?}"
            );
            for lead in ["all", "three", "seven", "rare"] {
                let lead = TermQuery::new(term(lead), IndexRecordOption::Basic);
                assert_eq!(
                    docs(matches(&searcher, &filter, Some(&lead))),
                    docs(matches(&searcher, &union, Some(&lead))),
                    "{names:?}"
                );
            }
            // Seeks by steps of every size, as intersections make them.
            let scoring = EnableScoring::enabled_from_searcher(&searcher);
            for reader in searcher.segment_readers() {
                for step in [1u32, 2, 5, 64, 127, 128, 129, 300, 1_000, 4_000] {
                    let mut a = filter.weight(scoring).unwrap().scorer(reader, 1.0).unwrap();
                    let mut b = union.weight(scoring).unwrap().scorer(reader, 1.0).unwrap();
                    assert_eq!(a.cost(), b.cost());
                    assert_eq!(a.size_hint(), b.size_hint());
                    let mut target = 0;
                    while target < 6_010 {
                        assert_eq!(a.seek(target), b.seek(target), "{names:?} {step} {target}");
                        target += step;
                    }
                    assert_eq!(a.seek(TERMINATED), TERMINATED);
                }
            }
        }
    }

    /// An article's facets on its first passage only (schema version 3):
    /// the filter matches what a union over the same facets written on
    /// every passage matches, walking or seeking by steps of every size,
    /// with articles of one to a dozen passages over block boundaries, two
    /// segments, deleted articles and a merge.
    #[test]
    fn facet_filter_joins_first_passages_to_their_articles() {
        use tantivy::schema::{Field, NumericOptions, Schema, STRING};
        use tantivy::DocSet;
        let mut schema = Schema::builder();
        let passage = schema.add_u64_field(
            PASSAGE_FIELD,
            NumericOptions::default().set_fast().set_indexed(),
        );
        let article = schema.add_text_field("article", STRING);
        // The article's tags on its first passage, and on every passage
        // (the reference), and the passage's own tags.
        let first_tag = schema.add_text_field("first_tag", STRING);
        let every_tag = schema.add_text_field("every_tag", STRING);
        let own_tag = schema.add_text_field("own_tag", STRING);
        let index = tantivy::Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let article_tags = |a: u32| -> Vec<&'static str> {
            let mut out = Vec::new();
            if a.is_multiple_of(3) {
                out.push("three");
            }
            if a.is_multiple_of(5) || (300..340).contains(&a) {
                out.push("five");
            }
            if a % 97 == 4 {
                out.push("rare");
            }
            out
        };
        let mut articles = 0u32;
        for _segment in 0..2 {
            for _ in 0..700 {
                let a = articles;
                articles += 1;
                let len = 1 + (a * 7 + a / 3) % 12;
                let batch: Vec<_> = (0..len)
                    .map(|p| {
                        let mut doc = tantivy::TantivyDocument::default();
                        doc.add_u64(passage, u64::from(p));
                        doc.add_text(article, a.to_string());
                        for t in article_tags(a) {
                            if p == 0 {
                                doc.add_text(first_tag, t);
                            }
                            doc.add_text(every_tag, t);
                        }
                        if (a + p).is_multiple_of(11) {
                            doc.add_text(own_tag, "five");
                        }
                        tantivy::indexer::UserOperation::Add(doc)
                    })
                    .collect();
                writer.run(batch).unwrap();
            }
            writer.commit().unwrap();
        }
        let filters = [
            vec!["three", "five"],
            vec!["rare"],
            vec!["five", "rare", "three", "absent"],
            vec!["absent"],
        ];
        let check = |searcher: &Searcher| {
            for names in &filters {
                for own in [false, true] {
                    let terms = |field: Field| -> Vec<Term> {
                        names
                            .iter()
                            .map(|w| Term::from_field_text(field, w))
                            .collect()
                    };
                    let own_terms = if own { terms(own_tag) } else { Vec::new() };
                    let reference = SeekUnion::new(
                        terms(every_tag)
                            .into_iter()
                            .chain(own_terms.clone())
                            .map(|t| {
                                let q: Box<dyn Query> =
                                    Box::new(TermQuery::new(t, IndexRecordOption::Basic));
                                q
                            })
                            .collect(),
                    );
                    let filter = FacetFilter::new(terms(first_tag), own_terms);
                    let docs = |found: Vec<(DocId, Score)>| -> Vec<DocId> {
                        found.into_iter().map(|(d, _)| d).collect()
                    };
                    let walked = docs(matches(searcher, &filter, None));
                    assert_eq!(
                        walked,
                        docs(matches(searcher, &reference, None)),
                        "{names:?}"
                    );
                    for lead in ["three", "five", "rare"] {
                        let lead = TermQuery::new(
                            Term::from_field_text(every_tag, lead),
                            IndexRecordOption::Basic,
                        );
                        assert_eq!(
                            docs(matches(searcher, &filter, Some(&lead))),
                            docs(matches(searcher, &reference, Some(&lead))),
                            "{names:?}"
                        );
                    }
                    let scoring = EnableScoring::enabled_from_searcher(searcher);
                    for reader in searcher.segment_readers() {
                        for step in [1u32, 2, 3, 5, 11, 64, 127, 128, 129, 300, 1_000] {
                            let mut a =
                                filter.weight(scoring).unwrap().scorer(reader, 1.0).unwrap();
                            let mut b = reference
                                .weight(scoring)
                                .unwrap()
                                .scorer(reader, 1.0)
                                .unwrap();
                            let mut target = 0;
                            while target < reader.max_doc() + 10 {
                                assert_eq!(
                                    a.seek(target),
                                    b.seek(target),
                                    "{names:?} {step} {target}"
                                );
                                target += step;
                            }
                            assert_eq!(a.seek(TERMINATED), TERMINATED);
                        }
                        // The cost of the union over every passage, up to
                        // how long the matching articles are.
                        let a = filter.weight(scoring).unwrap().scorer(reader, 1.0).unwrap();
                        let b = reference
                            .weight(scoring)
                            .unwrap()
                            .scorer(reader, 1.0)
                            .unwrap();
                        let (a, b) = (a.cost() as f64, b.cost() as f64);
                        assert!(a >= b * 0.7 && a <= b * 1.3 + 12.0, "{names:?} {a} {b}");
                    }
                }
            }
        };
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        check(&searcher);
        // Deleted articles (all their passages) and a merge.
        for a in (0..articles).step_by(4) {
            writer.delete_term(Term::from_field_text(article, &a.to_string()));
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().iter().all(|r| r.has_deletes()));
        check(&searcher);
        let segments = index.searchable_segment_ids().unwrap();
        writer.merge(&segments).wait().unwrap();
        writer.wait_merging_threads().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        check(&searcher);
    }

    #[test]
    fn ties_go_to_the_lower_address_whatever_the_order_of_arrival() {
        let mut top = Top {
            limit: 2,
            heap: BinaryHeap::new(),
        };
        top.push(1.0, DocAddress::new(0, 9));
        top.push(2.0, DocAddress::new(0, 5));
        top.push(1.0, DocAddress::new(0, 3));
        top.push(1.0, DocAddress::new(0, 7));
        let mut kept: Vec<Candidate> = top.heap.into_vec();
        kept.sort();
        let kept: Vec<_> = kept.iter().map(|c| (c.score, c.addr.doc_id)).collect();
        assert_eq!(kept, vec![(2.0, 5), (1.0, 3)]);
    }
}
