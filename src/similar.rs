//! More like this: the articles that report the same or related events as
//! a given one.
//!
//! A candidate passage must share distinctive words with the article (its
//! 25 terms (`MAX_QUERY_TERMS`) of highest tf-idf, as tantivy's more-like-this
//! chooses them, ties broken by the term so that the same article always
//! gives the same query); it then gains a fixed bonus for each thing it shares
//! with the article: an event province, an armed group, an event date
//! within [`NEAR_DAYS`] days. Articles are ranked by their best passage.
//! Copies of the article's own story are kept and marked `same_story`.
//!
//! ```no_run
//! # fn main() -> frontline::Result<()> {
//! let index = frontline::Index::open("frontline-index")?;
//! for s in index.similar("syria/idlib-raid.txt", 5)?.similar {
//!     println!("{:.2} {} {}", s.score, s.article_id, s.title);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::{DocAddress, Searcher, Term};

use crate::error::{Error, Result};
use crate::schema::Fields;
use crate::search::{day_start, facet_filter, Hit, HitReader};

/// Event dates at most this many days apart count as near.
pub const NEAR_DAYS: i64 = 7;

/// Bonus for each shared event province or group, and for a near date
/// (about one distinctive shared word's weight).
const SHARED_BONUS: f32 = 1.0;

/// Words of the article used to find others (tantivy's default is 25).
const MAX_QUERY_TERMS: usize = 25;

/// An article like the one asked about.
#[derive(Debug, Clone, Serialize)]
pub struct Similar {
    /// Score of its best passage.
    pub score: f32,
    /// The article's id.
    pub article_id: String,
    /// Its title.
    pub title: String,
    /// Its outlet, when known.
    pub outlet: Option<String>,
    /// Its event date (falling back to the publication date).
    pub event_date: Option<NaiveDate>,
    /// Days between its event date and the article's, when both are known.
    pub days_apart: Option<i64>,
    /// A copy of the same wire story.
    pub same_story: bool,
    /// Event provinces it shares with the article.
    pub shared_provinces: Vec<String>,
    /// Armed groups it shares with the article.
    pub shared_groups: Vec<String>,
    /// Its passage most like the article.
    pub passage: String,
}

/// The answer of [`crate::Index::similar`].
#[derive(Debug, Clone, Serialize)]
pub struct SimilarResults {
    /// The article asked about.
    pub article_id: String,
    /// Its title.
    pub title: String,
    /// Its event provinces, groups and event date, as matched against.
    pub provinces: Vec<String>,
    /// Its armed groups.
    pub groups: Vec<String>,
    /// Its event date.
    pub event_date: Option<NaiveDate>,
    /// The most similar articles, best first.
    pub similar: Vec<Similar>,
    /// Milliseconds spent.
    pub took_ms: f64,
}

/// Finds up to `limit` articles like `article_id`.
pub(crate) fn similar(
    searcher: &Searcher,
    fields: &Fields,
    article_id: &str,
    limit: usize,
) -> Result<SimilarResults> {
    let started = std::time::Instant::now();
    let source = article_passages(searcher, fields, article_id)?;
    let query = build(searcher, fields, &source, article_id)?;
    let top = searcher.search(&query, &TopDocs::with_limit(500).order_by_score())?;
    let mut best: HashMap<String, (f32, DocAddress)> = HashMap::new();
    // Group passages by article through the `article_id` fast column: only
    // the articles listed have their stored fields read.
    let mut ids: HashMap<u32, Option<StrColumn>> = HashMap::new();
    for (score, addr) in top {
        let column = match ids.entry(addr.segment_ord) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
                e.insert(ff.str("article_id")?)
            }
        };
        let mut id = String::new();
        if let Some(column) = column {
            if let Some(ord) = column.term_ords(addr.doc_id).next() {
                column
                    .ord_to_str(ord, &mut id)
                    .map_err(|e| Error::Tantivy(e.into()))?;
            }
        }
        best.entry(id)
            .and_modify(|b| {
                if score > b.0 {
                    *b = (score, addr);
                }
            })
            .or_insert((score, addr));
    }
    let mut ranked: Vec<(String, (f32, DocAddress))> = best.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let mut similar = Vec::new();
    let mut reader = HitReader::new(searcher, fields);
    for (_, (score, addr)) in ranked.into_iter().take(limit) {
        similar.push(describe(reader.hit(addr, 0, score)?, &source));
    }
    Ok(SimilarResults {
        article_id: article_id.to_string(),
        title: source.title.clone(),
        provinces: source.provinces.clone(),
        groups: source.groups.clone(),
        event_date: source.event_date,
        similar,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// What the article asked about is made of.
struct Source {
    texts: Vec<String>,
    title: String,
    provinces: Vec<String>,
    groups: Vec<String>,
    event_date: Option<NaiveDate>,
    story: String,
}

fn article_passages(searcher: &Searcher, fields: &Fields, article_id: &str) -> Result<Source> {
    let term = Term::from_field_text(fields.article_id, article_id);
    let query = TermQuery::new(term, IndexRecordOption::Basic);
    let docs = searcher.search(&query, &TopDocs::with_limit(10_000).order_by_score())?;
    let mut hits = Vec::with_capacity(docs.len());
    let mut reader = HitReader::new(searcher, fields);
    for (_, addr) in docs {
        hits.push(reader.hit(addr, 0, 0.0)?);
    }
    let first = hits.first().cloned().ok_or_else(|| {
        Error::Query(format!(
            "no article {article_id:?} in this index (ids are as `search` prints them)"
        ))
    })?;
    Ok(Source {
        texts: hits.into_iter().map(|h| h.text).collect(),
        title: first.title,
        provinces: first.provinces,
        groups: first.groups,
        event_date: first.event_date.or(first.date),
        story: first.story,
    })
}

/// The article's most distinctive words as a disjunction: its terms (as
/// the text field indexes them, 3 bytes or more) scored term frequency ×
/// idf, the best [`MAX_QUERY_TERMS`], each boosted by its score relative to
/// the best. The same choice as tantivy's `MoreLikeThisQuery`, which picks
/// among equal scores in hash-map order, so that one article's similar list
/// changed from run to run; here ties go by the term.
fn distinctive_terms(
    searcher: &Searcher,
    fields: &Fields,
    source: &Source,
) -> Result<BooleanQuery> {
    let mut analyzer = crate::schema::text_analyzer();
    let mut frequencies: HashMap<String, usize> = HashMap::new();
    for text in &source.texts {
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let token = &stream.token().text;
            if token.len() >= 3 {
                *frequencies.entry(token.clone()).or_insert(0) += 1;
            }
        }
    }
    let docs = searcher.num_docs();
    let mut scored: Vec<(f32, String)> = Vec::with_capacity(frequencies.len());
    for (word, tf) in frequencies {
        let df = searcher.doc_freq(&Term::from_field_text(fields.text, &word))?;
        if df == 0 || df > docs {
            continue;
        }
        // BM25's idf, as more-like-this uses it.
        let idf = (1.0 + ((docs - df) as f32 + 0.5) / (df as f32 + 0.5)).ln();
        scored.push((tf as f32 * idf, word));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.truncate(MAX_QUERY_TERMS);
    let best = scored.first().map_or(1.0, |(score, _)| *score);
    let clauses: Vec<(Occur, Box<dyn Query>)> = scored
        .into_iter()
        .map(|(score, word)| {
            let term = TermQuery::new(
                Term::from_field_text(fields.text, &word),
                IndexRecordOption::Basic,
            );
            let boosted: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(term), score / best));
            (Occur::Should, boosted)
        })
        .collect();
    Ok(BooleanQuery::new(clauses))
}

fn build(
    searcher: &Searcher,
    fields: &Fields,
    source: &Source,
    article_id: &str,
) -> Result<BooleanQuery> {
    let mlt = distinctive_terms(searcher, fields, source)?;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(mlt))];
    let bonus = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
        (
            Occur::Should,
            Box::new(ConstScoreQuery::new(q, SHARED_BONUS)),
        )
    };
    for p in &source.provinces {
        let facet = Facet::from_text(&format!("/{p}")).ok();
        clauses.extend(facet.map(|f| bonus(facet_filter(Some(fields.province), None, &[f]))));
    }
    for g in &source.groups {
        clauses.push(bonus(facet_filter(
            Some(fields.group),
            None,
            &[Facet::from_path([g])],
        )));
    }
    if let Some(date) = source.event_date {
        let day = |offset: i64| {
            let d = date + chrono::Duration::days(offset);
            Term::from_field_date(fields.event_date, day_start(d))
        };
        let range = RangeQuery::new(
            std::ops::Bound::Included(day(-NEAR_DAYS)),
            std::ops::Bound::Excluded(day(NEAR_DAYS + 1)),
        );
        clauses.push(bonus(Box::new(range)));
    }
    let own = Term::from_field_text(fields.article_id, article_id);
    clauses.push((
        Occur::MustNot,
        Box::new(TermQuery::new(own, IndexRecordOption::Basic)),
    ));
    Ok(BooleanQuery::new(clauses))
}

fn describe(hit: Hit, source: &Source) -> Similar {
    let event_date = hit.event_date.or(hit.date);
    let shared = |mine: &[String], theirs: &[String]| -> Vec<String> {
        theirs
            .iter()
            .filter(|x| mine.contains(x))
            .cloned()
            .collect()
    };
    Similar {
        score: hit.score,
        days_apart: event_date
            .zip(source.event_date)
            .map(|(a, b)| (a - b).num_days().abs()),
        same_story: hit.story == source.story,
        shared_provinces: shared(&source.provinces, &hit.provinces),
        shared_groups: shared(&source.groups, &hit.groups),
        article_id: hit.article_id,
        title: hit.title,
        outlet: hit.outlet,
        event_date,
        passage: hit.text,
    }
}
