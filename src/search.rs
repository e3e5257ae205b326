//! Queries: from a [`Query`] to ranked, highlighted [`Hit`]s.
//!
//! The text goes through tantivy's query parser over `text` and `title`
//! (terms are ANDed by default, `OR`, `-term`, `"phrases"`, `field:value`
//! work as in tantivy). Filters are built in code, never through the query
//! parser, so dates need no RFC 3339 and names are resolved through the
//! gazetteer first:
//!
//! * `--province X` matches a passage when its article's **event**
//!   provinces include X or the passage itself names X (a background
//!   mention elsewhere in the article is not enough);
//! * `--group G` likewise with the article's groups and the passage's own;
//! * `--country C` matches the article's countries;
//! * several values of one filter are alternatives (OR); different
//!   filters must all hold (AND);
//! * `--from`/`--to` are inclusive days on the event date (which falls back
//!   to the publication date) or, with [`DateField::Published`], on the
//!   publication date.

use std::collections::HashSet;
use std::ops::Bound;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::gazetteer::Gazetteer;
use crate::schema::Fields;

/// Which date `--from`/`--to` and date sorting use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateField {
    /// The event date, falling back to the publication date.
    #[default]
    Event,
    /// The publication date.
    Published,
}

impl DateField {
    fn name(self) -> &'static str {
        match self {
            DateField::Event => "event_date",
            DateField::Published => "published",
        }
    }
}

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (BM25); the default when there is query text.
    #[default]
    Relevance,
    /// Newest first; the order when the query text is empty.
    Date,
}

/// A search request: query text, filters and paging.
///
/// ```
/// use frontline::Query;
/// let q = Query::new("raid").province("Idleb").group("ISIS").limit(5);
/// assert_eq!(q.text(), "raid");
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct Query {
    text: String,
    provinces: Vec<String>,
    groups: Vec<String>,
    countries: Vec<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    date_field: DateField,
    limit: usize,
    offset: usize,
    sort: Sort,
}

impl Query {
    /// A query for `text` (tantivy query syntax; may be empty), limit 10.
    pub fn new(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            limit: 10,
            ..Query::default()
        }
    }
    /// Keeps passages about this province (any name, alias or variant).
    pub fn province(mut self, name: impl Into<String>) -> Query {
        self.provinces.push(name.into());
        self
    }
    /// Keeps passages about this armed group (any alias).
    pub fn group(mut self, name: impl Into<String>) -> Query {
        self.groups.push(name.into());
        self
    }
    /// Keeps passages of articles about this country.
    pub fn country(mut self, name: impl Into<String>) -> Query {
        self.countries.push(name.into());
        self
    }
    /// Keeps passages dated on or after this day.
    pub fn from(mut self, date: NaiveDate) -> Query {
        self.from = Some(date);
        self
    }
    /// Keeps passages dated on or before this day.
    pub fn to(mut self, date: NaiveDate) -> Query {
        self.to = Some(date);
        self
    }
    /// Chooses the date that `from`/`to` and date sorting use.
    pub fn date_field(mut self, field: DateField) -> Query {
        self.date_field = field;
        self
    }
    /// Maximum number of hits returned.
    pub fn limit(mut self, n: usize) -> Query {
        self.limit = n;
        self
    }
    /// Number of hits skipped before the first one returned.
    pub fn offset(mut self, n: usize) -> Query {
        self.offset = n;
        self
    }
    /// Result order.
    pub fn sort(mut self, sort: Sort) -> Query {
        self.sort = sort;
        self
    }
    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// One matching passage.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// 1-based rank in the whole result list (offset included).
    pub rank: usize,
    /// Ranking score (BM25; 0 when sorted by date without text).
    pub score: f32,
    /// The article's id.
    pub article_id: String,
    /// Ordinal of the source paragraph the passage starts at.
    pub paragraph: u64,
    /// Position of the passage in its article.
    pub passage: u64,
    /// Publication date.
    pub date: Option<NaiveDate>,
    /// Event date (falls back to the publication date).
    pub event_date: Option<NaiveDate>,
    /// Article title.
    pub title: String,
    /// Outlet, when known.
    pub outlet: Option<String>,
    /// URL, when known.
    pub url: Option<String>,
    /// The article's event provinces, `Country/Province`.
    pub provinces: Vec<String>,
    /// Every province the article names.
    pub mentions: Vec<String>,
    /// Provinces this passage names itself.
    pub passage_provinces: Vec<String>,
    /// The article's armed groups.
    pub groups: Vec<String>,
    /// The article's countries.
    pub countries: Vec<String>,
    /// The passage text.
    pub text: String,
    /// Byte ranges `[start, end)` of matched terms in `text`.
    pub highlights: Vec<[usize; 2]>,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The query text as given.
    pub query: String,
    /// Passages matching in total (not only the returned page).
    pub total_hits: usize,
    /// The returned page of hits.
    pub hits: Vec<Hit>,
    /// Milliseconds spent searching.
    pub took_ms: f64,
}

/// Parses the query text and builds the filter clauses.
pub(crate) struct Compiled {
    pub query: Box<dyn tantivy::query::Query>,
    pub has_text: bool,
}

pub(crate) fn compile(
    q: &Query,
    index: &tantivy::Index,
    fields: &Fields,
    gazetteer: &Gazetteer,
) -> Result<Compiled> {
    let mut clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
    let text = q.text.trim();
    let has_text = !text.is_empty();
    if has_text {
        clauses.push((Occur::Must, parse_text(text, index, fields)?));
    }
    if !q.provinces.is_empty() {
        let mut facets = Vec::new();
        for name in &q.provinces {
            facets.extend(gazetteer.resolve_provinces(name)?.iter().map(|p| p.facet()));
        }
        clauses.push((
            Occur::Must,
            facet_any(&[fields.province, fields.passage_province], &facets),
        ));
    }
    if !q.groups.is_empty() {
        let mut facets = Vec::new();
        for name in &q.groups {
            facets.push(Facet::from_path([gazetteer.resolve_group(name)?]));
        }
        clauses.push((
            Occur::Must,
            facet_any(&[fields.group, fields.passage_group], &facets),
        ));
    }
    if !q.countries.is_empty() {
        let mut facets = Vec::new();
        for name in &q.countries {
            facets.push(Facet::from_path([gazetteer.resolve_country(name)?]));
        }
        clauses.push((Occur::Must, facet_any(&[fields.country], &facets)));
    }
    if let Some(range) = date_range(q, fields)? {
        clauses.push((Occur::Must, range));
    }
    let query: Box<dyn tantivy::query::Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    };
    Ok(Compiled { query, has_text })
}

fn parse_text(
    text: &str,
    index: &tantivy::Index,
    fields: &Fields,
) -> Result<Box<dyn tantivy::query::Query>> {
    let mut parser = QueryParser::for_index(index, vec![fields.text, fields.title]);
    parser.set_conjunction_by_default();
    // The title is repeated on every passage of its article: a title match
    // should lift the article's passages without drowning the passage's own
    // text match.
    parser.set_field_boost(fields.title, 0.5);
    parser
        .parse_query(text)
        .map_err(|e| Error::Query(format!("{e} in {text:?}")))
}

fn facet_any(fields: &[Field], facets: &[Facet]) -> Box<dyn tantivy::query::Query> {
    let mut should: Vec<(Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
    for field in fields {
        for facet in facets {
            let term = Term::from_facet(*field, facet);
            should.push((
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
    }
    Box::new(BooleanQuery::new(should))
}

fn day_start(date: NaiveDate) -> tantivy::DateTime {
    let secs = date
        .and_hms_opt(0, 0, 0)
        .map_or(0, |dt| dt.and_utc().timestamp());
    tantivy::DateTime::from_timestamp_secs(secs)
}

fn date_range(q: &Query, fields: &Fields) -> Result<Option<Box<dyn tantivy::query::Query>>> {
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from > to {
            return Err(Error::Query(format!("--from {from} is after --to {to}")));
        }
    }
    if q.from.is_none() && q.to.is_none() {
        return Ok(None);
    }
    let field = match q.date_field {
        DateField::Event => fields.event_date,
        DateField::Published => fields.published,
    };
    let lower = q.from.map_or(Bound::Unbounded, |d| {
        Bound::Included(Term::from_field_date(field, day_start(d)))
    });
    let upper = match q.to.and_then(|d| d.succ_opt()) {
        Some(next) => Bound::Excluded(Term::from_field_date(field, day_start(next))),
        None => Bound::Unbounded,
    };
    Ok(Some(Box::new(RangeQuery::new(lower, upper))))
}

/// Runs a compiled query and turns the top documents into hits.
pub(crate) fn execute(
    q: &Query,
    searcher: &Searcher,
    index: &tantivy::Index,
    fields: &Fields,
    compiled: &Compiled,
) -> Result<SearchResults> {
    let started = std::time::Instant::now();
    let limit = q.limit.max(1);
    let by_date = q.sort == Sort::Date || !compiled.has_text;
    let query = compiled.query.as_ref();
    let (total_hits, top): (usize, Vec<(f32, DocAddress)>) = if by_date {
        let collector = TopDocs::with_limit(limit)
            .and_offset(q.offset)
            .order_by_fast_field::<tantivy::DateTime>(q.date_field.name(), Order::Desc);
        let (count, docs) = searcher.search(query, &(Count, collector))?;
        (count, docs.into_iter().map(|(_, addr)| (0.0, addr)).collect())
    } else {
        let collector = TopDocs::with_limit(limit)
            .and_offset(q.offset)
            .order_by_score();
        searcher.search(query, &(Count, collector))?
    };
    let terms = highlight_terms(query, fields.text);
    let mut analyzer = index.tokenizer_for_field(fields.text)?;
    let mut hits = Vec::with_capacity(top.len());
    for (i, (score, addr)) in top.into_iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let mut hit = hit_from_doc(&doc, fields, q.offset + i + 1, score);
        hit.highlights = highlights(&mut analyzer, &hit.text, &terms);
        hits.push(hit);
    }
    Ok(SearchResults {
        query: q.text.clone(),
        total_hits,
        hits,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The analyzed terms a query looks for in `field`, for highlighting.
fn highlight_terms(query: &dyn tantivy::query::Query, field: Field) -> HashSet<String> {
    let mut terms = HashSet::new();
    query.query_terms(&mut |term, _| {
        if term.field() == field {
            if let Some(text) = term.value().as_str() {
                terms.insert(text.to_string());
            }
        }
    });
    terms
}

/// Byte ranges of the tokens of `text` whose analyzed form is a query term.
/// Tokenizing the passage again is cheap (it is short) and, unlike
/// tantivy's snippet generator, keeps every occurrence in the whole passage.
fn highlights(
    analyzer: &mut tantivy::tokenizer::TextAnalyzer,
    text: &str,
    terms: &HashSet<String>,
) -> Vec<[usize; 2]> {
    let mut ranges = Vec::new();
    if terms.is_empty() {
        return ranges;
    }
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        if terms.contains(&token.text) {
            ranges.push([token.offset_from, token.offset_to]);
        }
    }
    ranges
}

fn hit_from_doc(doc: &TantivyDocument, f: &Fields, rank: usize, score: f32) -> Hit {
    let text = |field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
    let u64_of = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    let date = |field| doc.get_first(field).and_then(|v| v.as_datetime()).and_then(to_date);
    let facets = |field| -> Vec<String> {
        doc.get_all(field)
            .filter_map(|v| v.as_facet())
            .map(|encoded| encoded.replace('\u{0}', "/"))
            .collect()
    };
    Hit {
        rank,
        score,
        article_id: text(f.article_id).unwrap_or_default(),
        paragraph: u64_of(f.paragraph),
        passage: u64_of(f.passage),
        date: date(f.published),
        event_date: date(f.event_date),
        title: text(f.title).unwrap_or_default(),
        outlet: text(f.outlet),
        url: text(f.url),
        provinces: facets(f.province),
        mentions: facets(f.mention),
        passage_provinces: facets(f.passage_province),
        groups: facets(f.group),
        countries: facets(f.country),
        text: text(f.text).unwrap_or_default(),
        highlights: Vec::new(),
    }
}

fn to_date(dt: tantivy::DateTime) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp(dt.into_timestamp_secs(), 0).map(|d| d.date_naive())
}


impl Query {
    /// The fast-field name of the date this query filters and sorts on.
    pub(crate) fn date_field_name(&self) -> &'static str {
        self.date_field.name()
    }
}
