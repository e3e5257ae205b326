//! Queries: from a [`Query`] to ranked, highlighted [`Hit`]s.
//!
//! The text goes through tantivy's query parser over `text` and `title`
//! (terms are ANDed by default, `OR`, `-term`, `"phrases"`, `field:value`
//! work as in tantivy; the title is indexed on an article's first passage
//! only, so `title:word` matches first passages). Filters are built in code, never through the query
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

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery,
    QueryParser, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::gazetteer::Gazetteer;
use crate::rank::{Bonus, Cap};
use crate::schema::{self, ArticleRecord, Fields};

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

/// The ranking features on top of BM25 over the passage text. Each can be
/// turned off to measure its gain (`docs/benchmarks.md`, "Ranking
/// quality"); all are on by default.
///
/// ```
/// use frontline::search::Ranking;
/// let plain: Ranking = "bm25".parse().unwrap();
/// assert_eq!(plain, Ranking::BM25);
/// let some: Ranking = "title,proximity".parse().unwrap();
/// assert!(some.title && some.proximity && !some.facets);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ranking {
    /// A title match lifts the passages of its article that match too.
    pub title: bool,
    /// A passage that names a filtered province or group itself beats one
    /// that only inherits it from its article.
    pub facets: bool,
    /// Passages where the query words stand close together, in order, rank
    /// above passages where they are scattered.
    pub proximity: bool,
}

impl Ranking {
    /// Plain BM25 over the passage text.
    pub const BM25: Ranking = Ranking {
        title: false,
        facets: false,
        proximity: false,
    };
    /// Every feature (the default).
    pub const FULL: Ranking = Ranking {
        title: true,
        facets: true,
        proximity: true,
    };
}

impl Default for Ranking {
    fn default() -> Ranking {
        Ranking::FULL
    }
}

impl std::str::FromStr for Ranking {
    type Err = Error;

    /// `full`, `bm25`, or a comma-separated list of the features to keep
    /// (`title`, `facets`, `proximity`; `bm25` in a list is a no-op).
    fn from_str(s: &str) -> Result<Ranking> {
        match s.trim() {
            "full" => return Ok(Ranking::FULL),
            "bm25" => return Ok(Ranking::BM25),
            _ => {}
        }
        let mut r = Ranking::BM25;
        for part in s.split(',').map(str::trim) {
            match part {
                "title" => r.title = true,
                "facets" => r.facets = true,
                "proximity" => r.proximity = true,
                "bm25" => {}
                other => {
                    return Err(Error::Query(format!(
                        "unknown ranking feature {other:?}: use full, bm25, or a list of title, facets, proximity"
                    )))
                }
            }
        }
        Ok(r)
    }
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
    all_copies: bool,
    per_article: usize,
    exact: bool,
    ranking: Ranking,
    no_fuzzy: bool,
    /// `None`: [`COUNT_UP_TO`].
    count_up_to: Option<usize>,
}

impl Query {
    /// A query for `text` (tantivy query syntax; may be empty), limit 10.
    pub fn new(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            limit: 10,
            per_article: 2,
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
    /// Shows every copy of a story instead of one hit per story.
    pub fn all_copies(mut self, yes: bool) -> Query {
        self.all_copies = yes;
        self
    }
    /// At most `n` passages per article (0 = no limit). Default 2.
    pub fn per_article(mut self, n: usize) -> Query {
        self.per_article = n;
        self
    }
    /// Turns off name expansion: by default a group alias or province
    /// variant in the query text ("Daesh", "Idleb") also matches passages
    /// tagged with that group or province however they spell it.
    pub fn exact(mut self, yes: bool) -> Query {
        self.exact = yes;
        self
    }
    /// Chooses the ranking features ([`Ranking::FULL`] by default).
    pub fn ranking(mut self, ranking: Ranking) -> Query {
        self.ranking = ranking;
        self
    }
    /// Turns the fuzzy fallback on (default) or off. When a plain query
    /// finds fewer than [`FUZZY_BELOW`] passages and some of its words occur
    /// nowhere in the index, those words are retried with an edit distance
    /// of 1 (2 from 8 letters on) and the results say so
    /// ([`SearchResults::fuzzy`]). A query with enough exact hits is never
    /// rewritten.
    pub fn fuzzy(mut self, yes: bool) -> Query {
        self.no_fuzzy = !yes;
        self
    }
    /// Counts every match, however many (see [`TotalHits`]). By default
    /// counting stops after [`COUNT_UP_TO`] matches when the rest of the
    /// ranking can skip passages that cannot enter the page, and the total
    /// is then a lower bound. Facet counts are always exact.
    pub fn exact_total(mut self, yes: bool) -> Query {
        self.count_up_to = yes.then_some(usize::MAX);
        self
    }
    /// Counts matches exactly up to `n` (at least 1), then reports a lower
    /// bound; [`Query::exact_total`] sets it back to the default or to no
    /// limit.
    pub fn count_up_to(mut self, n: usize) -> Query {
        self.count_up_to = Some(n.max(1));
        self
    }
    /// How many matches are counted exactly.
    fn count_limit(&self) -> usize {
        self.count_up_to.unwrap_or(COUNT_UP_TO)
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
    /// The story id (hex) shared by copies of one wire story.
    pub story: String,
    /// Other articles carrying the same story.
    pub also_in: Vec<StoryCopy>,
}

/// Another copy of a hit's story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoryCopy {
    /// The copy's article id.
    pub article_id: String,
    /// The copy's outlet, when known.
    pub outlet: Option<String>,
}

/// By default a query counts its matches exactly up to this many; past
/// it, the total may be a lower bound ([`TotalHits::AtLeast`]).
pub const COUNT_UP_TO: usize = 10_000;

/// How many passages match a query: exactly, or at least some number when
/// counting stopped early (the query matched more than
/// [`Query::count_up_to`] passages, [`COUNT_UP_TO`] by default, and the
/// rest of its matches could be ranked without visiting all of them, or
/// counted more cheaply as a lower bound).
/// [`Query::exact_total`] always counts.
///
/// In JSON it is two fields of the results: `total_hits` (the number) and
/// `total_hits_exact` (false for a lower bound).
///
/// ```
/// use frontline::search::TotalHits;
/// assert_eq!(TotalHits::AtLeast(10_000).to_string(), "10000+");
/// assert_eq!(TotalHits::Exact(1234).to_string(), "1234");
/// assert!(TotalHits::AtLeast(10_000).value() >= 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalHits {
    /// Exactly this many.
    Exact(usize),
    /// This many or more: counting stopped at the count limit (or, for
    /// `a OR b`, took the most frequent word's count once that reached it).
    AtLeast(usize),
}

impl TotalHits {
    /// The count: exact, or a lower bound.
    pub fn value(self) -> usize {
        match self {
            TotalHits::Exact(n) | TotalHits::AtLeast(n) => n,
        }
    }
    /// Whether [`Self::value`] is the exact count.
    pub fn is_exact(self) -> bool {
        matches!(self, TotalHits::Exact(_))
    }
}

impl std::fmt::Display for TotalHits {
    /// The number, followed by `+` when it is a lower bound.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TotalHits::Exact(n) => write!(f, "{n}"),
            TotalHits::AtLeast(n) => write!(f, "{n}+"),
        }
    }
}

impl Serialize for TotalHits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = s.serialize_struct("TotalHits", 2)?;
        fields.serialize_field("total_hits", &self.value())?;
        fields.serialize_field("total_hits_exact", &self.is_exact())?;
        fields.end()
    }
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The query text as given.
    pub query: String,
    /// Passages matching in total (not only the returned page): exact, or a
    /// lower bound past [`Query::count_up_to`] matches. Serialized as
    /// `total_hits` and `total_hits_exact`.
    #[serde(flatten)]
    pub total_hits: TotalHits,
    /// The returned page of hits.
    pub hits: Vec<Hit>,
    /// Milliseconds spent searching.
    pub took_ms: f64,
    /// Set when the exact query found too little and the hits come from the
    /// fuzzy fallback instead.
    pub fuzzy: Option<FuzzyNote>,
}

/// How the fuzzy fallback rewrote a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuzzyNote {
    /// Query words found nowhere in the index, which were matched fuzzily.
    pub unknown: Vec<String>,
    /// The words of the returned passages that matched them instead.
    pub matched: Vec<String>,
    /// Passages the exact query matched (fewer than [`FUZZY_BELOW`], so
    /// counted exactly).
    pub exact_hits: usize,
}

/// A plain query with fewer exact hits than this tries the fuzzy fallback.
pub const FUZZY_BELOW: usize = 3;

/// Parses the query text and builds the filter clauses.
pub(crate) struct Compiled {
    /// What a passage must match (text, expanded names, filters), with its
    /// BM25 score.
    pub query: Box<dyn tantivy::query::Query>,
    /// Ranking features added to the score of a passage that matches
    /// `query` (title, proximity, own-facet bonus); they never change which
    /// passages match.
    pub bonuses: Vec<Bonus>,
    /// Term queries that match every passage `query` matches and score each
    /// at least as high, when there are such (see
    /// [`crate::rank::upper_bound`]): what lets the ranking skip passages
    /// once the total need not be exact.
    pub upper: Option<Box<dyn tantivy::query::Query>>,
    pub has_text: bool,
    /// Analyzed terms matched with an edit distance (the fuzzy fallback).
    pub fuzzy: Vec<(String, u8)>,
}

pub(crate) fn compile(
    q: &Query,
    index: &tantivy::Index,
    fields: &Fields,
    gazetteer: &Gazetteer,
) -> Result<Compiled> {
    compile_with(q, index, fields, gazetteer, &HashSet::new())
}

/// Like [`compile`], matching the analyzed terms in `fuzzy` with an edit
/// distance instead of exactly.
pub(crate) fn compile_with(
    q: &Query,
    index: &tantivy::Index,
    fields: &Fields,
    gazetteer: &Gazetteer,
    fuzzy: &HashSet<String>,
) -> Result<Compiled> {
    let mut clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
    let mut bonuses: Vec<Bonus> = Vec::new();
    let text = q.text.trim();
    let has_text = !text.is_empty();
    let mut fuzzed = Vec::new();
    // The text's clauses, for the upper bound; `None` once a clause
    // (an expanded name) scores in a way it cannot bound.
    let mut bounded: Option<Vec<Box<dyn tantivy::query::Query>>> = Some(Vec::new());
    if has_text {
        check_syntax(text)?;
        let text = rewrite_near(text)?;
        let (rest, names) = if q.exact {
            (text.to_string(), Vec::new())
        } else {
            expand_names(&text, gazetteer)
        };
        if !rest.trim().is_empty() {
            let (text_clauses, text_bonuses, f) =
                parse_text(&rest, index, fields, q.ranking, fuzzy)?;
            if let Some(bounded) = bounded.as_mut() {
                bounded.extend(text_clauses.iter().map(|(_, c)| c.box_clone()));
            }
            clauses.extend(text_clauses);
            bonuses.extend(text_bonuses);
            fuzzed = f;
        }
        for (written, facets, field) in names {
            bounded = None;
            let field = if field == "group" {
                fields.passage_group
            } else {
                fields.passage_province
            };
            clauses.push((
                Occur::Must,
                name_clause(&written, field, &facets, index, fields)?,
            ));
        }
    }
    let bonus_on = has_text && q.ranking.facets;
    // Filters do not score; a passage that names a filtered province or
    // group itself gets a fixed bonus over one that only inherits it from its
    // article.
    let mut filter = |article: Option<Field>, own: Option<Field>, facets: Vec<Facet>| {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(
                facet_filter(article, own, &facets),
                0.0,
            )),
        ));
        if let Some(own) = own.filter(|_| bonus_on) {
            let bonus = ConstScoreQuery::new(own_tag_any(own, &facets), PASSAGE_FACET_BONUS);
            bonuses.push(Bonus {
                query: Box::new(bonus),
                cap: Cap::Const(PASSAGE_FACET_BONUS),
                per_article: false,
                seekable: true,
                phrase: None,
            });
        }
    };
    if !q.provinces.is_empty() {
        let mut facets = Vec::new();
        for name in &q.provinces {
            facets.extend(gazetteer.resolve_provinces(name)?.iter().map(|p| p.facet()));
        }
        filter(Some(fields.province), Some(fields.passage_province), facets);
    }
    if !q.groups.is_empty() {
        let mut facets = Vec::new();
        for name in &q.groups {
            facets.push(Facet::from_path([gazetteer.resolve_group(name)?]));
        }
        filter(Some(fields.group), Some(fields.passage_group), facets);
    }
    if !q.countries.is_empty() {
        let mut facets = Vec::new();
        for name in &q.countries {
            facets.push(Facet::from_path([gazetteer.resolve_country(name)?]));
        }
        filter(Some(fields.country), None, facets);
    }
    if let Some(range) = date_range(q)? {
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(range, 0.0))));
    }
    let query: Box<dyn tantivy::query::Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    };
    // Every other clause is a filter scoring 0.
    let upper = bounded.and_then(|text| {
        let text: Vec<&dyn tantivy::query::Query> = text.iter().map(|c| c.as_ref()).collect();
        crate::rank::upper_bound(&text)
    });
    Ok(Compiled {
        query,
        bonuses,
        upper,
        has_text,
        fuzzy: fuzzed,
    })
}

/// Score of a passage that matches an expanded name through its tags
/// rather than its words (about one strong term's BM25).
const EXPANSION_SCORE: f32 = 1.5;

/// Finds group aliases and province variants in a plain query ("Daesh
/// ambush", "idleb raid"): returns the rest of the text and each name with
/// the facets it stands for. Queries using the query language (quotes,
/// fields, parentheses, operators) are left alone.
#[allow(clippy::type_complexity)]
fn expand_names(text: &str, g: &Gazetteer) -> (String, Vec<(String, Vec<Facet>, &'static str)>) {
    if !is_plain(text) {
        return (text.to_string(), Vec::new());
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut rest = Vec::new();
    let mut names = Vec::new();
    let mut i = 0;
    'words: while i < words.len() {
        for n in (1..=4.min(words.len() - i)).rev() {
            let candidate = words[i..i + n].join(" ");
            let short = candidate.chars().count() <= 3;
            let has_capital = candidate.chars().any(char::is_uppercase);
            // "is", "ada": short names only as written in capitals.
            if short
                && !candidate
                    .chars()
                    .all(|c| !c.is_alphabetic() || c.is_uppercase())
            {
                continue;
            }
            if let Some(group) = g.lookup_group(&candidate) {
                let facet = Facet::from_path([group]);
                names.push((candidate, vec![facet], "group"));
                i += n;
                continue 'words;
            }
            let long_enough = has_capital || candidate.chars().count() >= 5;
            if long_enough {
                if let [province] = g.lookup_provinces(&candidate).as_slice() {
                    names.push((candidate, vec![province.facet()], "province"));
                    i += n;
                    continue 'words;
                }
            }
        }
        rest.push(words[i]);
        i += 1;
    }
    (rest.join(" "), names)
}

/// Plain words, without the query language (quotes, fields, parentheses,
/// operators): the queries that name expansion, proximity and the fuzzy
/// fallback rewrite.
fn is_plain(text: &str) -> bool {
    !text.contains(['"', ':', '(', ')', '^', '~', '*', '[', '/'])
        && !text
            .split_whitespace()
            .any(|w| matches!(w, "AND" | "OR" | "NOT" | "NEAR") || w.starts_with(['-', '+']))
}

/// Words at most this far apart match `a NEAR b` without a distance.
pub const NEAR_DEFAULT: u32 = 5;

static NEAR: LazyLock<Regex> = LazyLock::new(|| {
    // The pattern is a literal and known to compile.
    #[allow(clippy::unwrap_used)]
    Regex::new(r#"([^\s"()]+)\s+NEAR(/\S*)?\s+([^\s"()]+)"#).unwrap()
});

/// Rewrites `a NEAR/n b` (either order, at most `n` words apart; `NEAR`
/// alone means [`NEAR_DEFAULT`]) into the phrase-with-slop syntax that
/// tantivy's parser understands.
fn rewrite_near(text: &str) -> Result<std::borrow::Cow<'_, str>> {
    if !text.contains("NEAR") {
        return Ok(text.into());
    }
    let mut bad = None;
    let out = NEAR.replace_all(text, |c: &regex::Captures| {
        let (a, b) = (&c[1], &c[3]);
        let n = match c.get(2).map(|m| &m.as_str()[1..]) {
            None => NEAR_DEFAULT,
            Some(digits) => digits.parse::<u32>().unwrap_or_else(|_| {
                bad = Some(format!(
                    "`NEAR/` wants a number of words, as in `raid NEAR/5 Idlib`, not `NEAR/{digits}`"
                ));
                0
            }),
        };
        format!("(\"{a} {b}\"~{n} OR \"{b} {a}\"~{n})")
    });
    match bad {
        Some(msg) => Err(Error::Query(msg)),
        None => Ok(out),
    }
}

/// The passage says the name as written, or is tagged with what it means.
fn name_clause(
    written: &str,
    tag_field: Field,
    facets: &[Facet],
    index: &tantivy::Index,
    fields: &Fields,
) -> Result<Box<dyn tantivy::query::Query>> {
    let parser = QueryParser::for_index(index, vec![fields.text]);
    let phrase = parser
        .parse_query(&format!("\"{}\"", written.replace('"', "")))
        .map_err(|e| Error::Query(format!("{e} in {written:?}")))?;
    let tagged = ConstScoreQuery::new(own_tag_any(tag_field, facets), EXPANSION_SCORE);
    Ok(Box::new(crate::rank::SeekUnion::new(vec![
        phrase,
        Box::new(tagged),
    ])))
}

/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;

/// Catches the mistakes people make before tantivy's parser does, to point
/// at the problem: unbalanced quotes or parentheses, a dangling operator,
/// control characters, a query too long to be meant.
fn check_syntax(text: &str) -> Result<()> {
    let err = |msg: String| Err(Error::Query(msg));
    if text.len() > MAX_QUERY_BYTES {
        return err(format!(
            "the query is {} bytes long; the limit is {MAX_QUERY_BYTES}",
            text.len()
        ));
    }
    if let Some((i, c)) = text.char_indices().find(|(_, c)| c.is_control()) {
        return err(format!("control character {c:?} at byte {i}"));
    }
    let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
    if quotes.len() % 2 == 1 {
        let last = quotes[quotes.len() - 1];
        return err(format!(
            "unbalanced double quote at byte {last}: {}",
            caret(text, last)
        ));
    }
    let mut open = Vec::new();
    let mut in_phrase = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_phrase = !in_phrase,
            '(' if !in_phrase => open.push(i),
            ')' if !in_phrase && open.pop().is_none() => {
                return err(format!("unmatched `)` at byte {i}: {}", caret(text, i)));
            }
            _ => {}
        }
    }
    if let Some(&i) = open.last() {
        return err(format!("unclosed `(` at byte {i}: {}", caret(text, i)));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    for op in ["AND", "OR", "NEAR"] {
        if words.first() == Some(&op) || words.last() == Some(&op) {
            return err(format!("`{op}` needs a term on both sides"));
        }
    }
    Ok(())
}

/// The query with a marker before byte `at`, for error messages.
fn caret(text: &str, at: usize) -> String {
    let at = (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}»{}", &text[..at], &text[at..])
}

/// Score added to a passage that names a filtered province or group itself.
const PASSAGE_FACET_BONUS: f32 = 0.5;

/// Weight of a title match: the title, indexed on the article's first
/// passage, is scored once per article and lifts the article's passages
/// that match themselves (`rank.rs`), but never makes a passage match on
/// its own.
const TITLE_BOOST: f32 = 0.5;

/// Slop of the proximity bonus: the query words in order with at most this
/// many other words among them.
const PROXIMITY_SLOP: u32 = 3;

/// Weight of the proximity bonus (a phrase match scores like its terms).
const PROXIMITY_BOOST: f32 = 0.5;

type Clauses = Vec<(Occur, Box<dyn tantivy::query::Query>)>;

/// Analyzed terms matched fuzzily, with their edit distance.
type Fuzzed = Vec<(String, u8)>;

fn parse_text(
    text: &str,
    index: &tantivy::Index,
    fields: &Fields,
    ranking: Ranking,
    fuzzy: &HashSet<String>,
) -> Result<(Clauses, Vec<Bonus>, Fuzzed)> {
    let mut fuzzed = Vec::new();
    let main = if fuzzy.is_empty() || !is_plain(text) {
        let mut parser = QueryParser::for_index(index, vec![fields.text]);
        parser.set_conjunction_by_default();
        let parsed = parser
            .parse_query(text)
            .map_err(|e| Error::Query(format!("{e} in {text:?}")))?;
        crate::exclusion::guard_exclusions(parsed)
    } else {
        let (query, f) = fuzzy_conjunction(text, index, fields, fuzzy)?;
        fuzzed = f;
        query
    };
    let mut bonuses = Vec::new();
    if ranking.title {
        // Any title term lifts the passage (disjunction); title errors are
        // already reported by the main parse.
        let title_parser = QueryParser::for_index(index, vec![fields.title]);
        let (title, _) = title_parser.parse_query_lenient(text);
        let title = crate::exclusion::guard_exclusions(title);
        let cap = Cap::bm25(title.as_ref(), TITLE_BOOST);
        let seekable = title.is::<TermQuery>() || title.is::<PhraseQuery>();
        let phrase = title
            .downcast_ref::<PhraseQuery>()
            .map(|p| (p.clone(), TITLE_BOOST));
        bonuses.push(Bonus {
            query: Box::new(BoostQuery::new(title, TITLE_BOOST)),
            cap,
            per_article: true,
            seekable,
            phrase,
        });
    }
    if ranking.proximity && is_plain(text) {
        let terms = analyze(index, fields.text, text)?;
        if terms.len() > 1 {
            let terms: Vec<(usize, Term)> = terms
                .into_iter()
                .map(|(pos, t)| (pos, Term::from_field_text(fields.text, &t)))
                .collect();
            let plain: Vec<Term> = terms.iter().map(|(_, t)| t.clone()).collect();
            let near = PhraseQuery::new_with_offset_and_slop(terms, PROXIMITY_SLOP);
            bonuses.push(Bonus {
                cap: Cap::proximity(main.as_ref(), &near, &plain, PROXIMITY_BOOST),
                query: Box::new(BoostQuery::new(Box::new(near), PROXIMITY_BOOST)),
                per_article: false,
                seekable: true,
                phrase: None,
            });
        }
    }
    Ok((vec![(Occur::Must, main)], bonuses, fuzzed))
}

/// The analyzed terms of `text` in `field`, with their positions.
fn analyze(index: &tantivy::Index, field: Field, text: &str) -> Result<Vec<(usize, String)>> {
    let mut analyzer = index.tokenizer_for_field(field)?;
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        let token = stream.token();
        terms.push((token.position, token.text.clone()));
    }
    Ok(terms)
}

/// Edit distance allowed for a fuzzy term: typos grow with length.
fn fuzzy_distance(term: &str) -> u8 {
    if term.chars().count() >= 8 {
        2
    } else {
        1
    }
}

/// Fewest letters a word needs to be matched fuzzily; shorter words have
/// too many neighbours to guess from.
const FUZZY_MIN_CHARS: usize = 4;

/// Every word of a plain query must match; those in `fuzzy` within their
/// edit distance.
fn fuzzy_conjunction(
    text: &str,
    index: &tantivy::Index,
    fields: &Fields,
    fuzzy: &HashSet<String>,
) -> Result<(Box<dyn tantivy::query::Query>, Fuzzed)> {
    let mut must: Clauses = Vec::new();
    let mut fuzzed = Vec::new();
    for (_, t) in analyze(index, fields.text, text)? {
        let term = Term::from_field_text(fields.text, &t);
        if fuzzy.contains(&t) {
            let d = fuzzy_distance(&t);
            must.push((Occur::Must, Box::new(FuzzyTermQuery::new(term, d, true))));
            fuzzed.push((t, d));
        } else {
            let exact = TermQuery::new(term, IndexRecordOption::WithFreqs);
            must.push((Occur::Must, Box::new(exact)));
        }
    }
    Ok((Box::new(BooleanQuery::new(must)), fuzzed))
}

/// The analyzed words of a plain query that occur in no passage: the
/// candidates for the fuzzy fallback.
pub(crate) fn unknown_terms(
    q: &Query,
    searcher: &Searcher,
    index: &tantivy::Index,
    fields: &Fields,
    gazetteer: &Gazetteer,
) -> Result<HashSet<String>> {
    let text = q.text.trim();
    let mut unknown = HashSet::new();
    if q.no_fuzzy || text.is_empty() || !is_plain(text) {
        return Ok(unknown);
    }
    let rest = if q.exact {
        text.to_string()
    } else {
        expand_names(text, gazetteer).0
    };
    for (_, t) in analyze(index, fields.text, &rest)? {
        if t.chars().count() < FUZZY_MIN_CHARS {
            continue;
        }
        if searcher.doc_freq(&Term::from_field_text(fields.text, &t))? == 0 {
            unknown.insert(t);
        }
    }
    Ok(unknown)
}

/// Passages that name any of `facets` themselves, in the passage's own
/// tag field `own` (`passage_province`, `passage_group`): a
/// [`SeekUnion`](crate::rank::SeekUnion), cheap to seek into when the
/// query's words lead an intersection.
pub(crate) fn own_tag_any(own: Field, facets: &[Facet]) -> Box<dyn tantivy::query::Query> {
    let should: Vec<Box<dyn tantivy::query::Query>> = facets
        .iter()
        .map(|facet| -> Box<dyn tantivy::query::Query> {
            let term = schema::own_tag_term(own, facet);
            Box::new(TermQuery::new(term, IndexRecordOption::Basic))
        })
        .collect();
    Box::new(crate::rank::SeekUnion::new(should))
}

/// Passages of the articles tagged with any of `facets` in the article
/// facet field `article` (which only an article's first passage holds), or
/// that name one themselves in the passage's own tag field `own`, as a
/// filter (unscored: under a `ConstScoreQuery`): see
/// [`FacetFilter`](crate::rank::FacetFilter).
pub(crate) fn facet_filter(
    article: Option<Field>,
    own: Option<Field>,
    facets: &[Facet],
) -> Box<dyn tantivy::query::Query> {
    let article_terms = article.map_or_else(Vec::new, |field| {
        facets
            .iter()
            .map(|facet| Term::from_facet(field, facet))
            .collect()
    });
    let own_terms = own.map_or_else(Vec::new, |field| {
        facets
            .iter()
            .map(|facet| schema::own_tag_term(field, facet))
            .collect()
    });
    Box::new(crate::rank::FacetFilter::new(article_terms, own_terms))
}

pub(crate) fn day_start(date: NaiveDate) -> tantivy::DateTime {
    let secs = date
        .and_hms_opt(0, 0, 0)
        .map_or(0, |dt| dt.and_utc().timestamp());
    crate::schema::tantivy_date_from_secs(secs)
}

fn date_range(q: &Query) -> Result<Option<Box<dyn tantivy::query::Query>>> {
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from > to {
            return Err(Error::Query(format!("--from {from} is after --to {to}")));
        }
    }
    if q.from.is_none() && q.to.is_none() {
        return Ok(None);
    }
    let lower = q
        .from
        .map_or(Bound::Unbounded, |d| Bound::Included(day_start(d)));
    let upper = match q.to.and_then(|d| d.succ_opt()) {
        Some(next) => Bound::Excluded(day_start(next)),
        None => Bound::Unbounded,
    };
    Ok(Some(Box::new(DateFilter {
        name: q.date_field.name(),
        lower,
        upper,
    })))
}

/// Passages whose date (a fast field) is within bounds: what tantivy's
/// `RangeQuery` on a date fast field matches, with the same cost
/// estimates, but a segment's first match is looked for once per search.
///
/// tantivy's range scorer, when created, scans the date column from the
/// segment's first passage until it finds a match (for a range in the
/// latest years, most of the column: the corpus is indexed in path
/// order). A search that counts then prunes creates the required query's
/// scorer up to four times per segment (the walk, the two title passes
/// and the pruned pass), so it scanned the column up to four times.
#[derive(Debug, Clone)]
pub(crate) struct DateFilter {
    /// The date fast field.
    name: &'static str,
    lower: Bound<tantivy::DateTime>,
    upper: Bound<tantivy::DateTime>,
}

impl tantivy::query::Query for DateFilter {
    fn weight(
        &self,
        _scoring: tantivy::query::EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        use tantivy::columnar::MonotonicallyMappableToU64;
        Ok(Box::new(DateFilterWeight {
            name: self.name,
            lower: self.lower.map(|d| d.to_u64()),
            upper: self.upper.map(|d| d.to_u64()),
            first: std::sync::Mutex::new(HashMap::new()),
        }))
    }
}

struct DateFilterWeight {
    name: &'static str,
    lower: Bound<u64>,
    upper: Bound<u64>,
    /// Each segment's first match, once found.
    first: std::sync::Mutex<HashMap<tantivy::index::SegmentId, tantivy::DocId>>,
}

impl DateFilterWeight {
    /// The matching values, as tantivy's `bound_to_value_range`
    /// computes them for its range scorer; `None` if none can match.
    fn value_range(&self, min: u64) -> Option<std::ops::RangeInclusive<u64>> {
        let start = match self.lower {
            Bound::Included(v) => v,
            Bound::Excluded(v) => v.checked_add(1)?,
            Bound::Unbounded => min,
        }
        .max(min);
        let end = match self.upper {
            Bound::Included(v) => v,
            Bound::Excluded(v) => v.checked_sub(1)?,
            Bound::Unbounded => u64::MAX,
        };
        (start <= end).then_some(start..=end)
    }
}

impl tantivy::query::Weight for DateFilterWeight {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        boost: tantivy::Score,
    ) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        use tantivy::columnar::{Cardinality, ColumnType};
        use tantivy::query::{AllScorer, ConstScorer, EmptyScorer};
        let found = reader
            .fast_fields()
            .u64_lenient_for_type(Some(&[ColumnType::DateTime]), self.name)?;
        let Some((column, _)) = found else {
            return Ok(Box::new(EmptyScorer));
        };
        let (min, max) = (column.min_value(), column.max_value());
        let Some(range) = self.value_range(min) else {
            return Ok(Box::new(EmptyScorer));
        };
        if min >= *range.start()
            && max <= *range.end()
            && column.index.get_cardinality() == Cardinality::Full
        {
            let all = AllScorer::new(column.num_docs());
            return Ok(if boost != 1.0 {
                Box::new(ConstScorer::new(all, boost))
            } else {
                Box::new(all)
            });
        }
        if *range.start() > max || *range.end() < min {
            // As tantivy: a doc set that matches nothing, at its cost.
            let none = DateDocs::at(column, range, tantivy::TERMINATED);
            return Ok(Box::new(ConstScorer::new(none, boost)));
        }
        let segment = reader.segment_id();
        let known = self
            .first
            .lock()
            .ok()
            .and_then(|m| m.get(&segment).copied());
        let docs = match known {
            Some(first) => DateDocs::at(column, range, first),
            None => {
                let docs = DateDocs::from_start(column, range);
                if let Ok(mut first) = self.first.lock() {
                    first.insert(segment, tantivy::DocSet::doc(&docs));
                }
                docs
            }
        };
        Ok(Box::new(ConstScorer::new(docs, boost)))
    }

    fn explain(
        &self,
        reader: &tantivy::SegmentReader,
        doc: tantivy::DocId,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if tantivy::DocSet::seek(&mut scorer, doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(tantivy::query::Explanation::new("DateFilter", 1.0))
    }
}

/// The docs of one segment whose date column holds a value in `range`,
/// read from the column in growing windows, as tantivy's range doc set
/// does.
struct DateDocs {
    column: Column<u64>,
    range: std::ops::RangeInclusive<u64>,
    /// Matches found in the last window read, and the current one.
    found: Vec<tantivy::DocId>,
    at: usize,
    /// The next doc to read from the column.
    next: tantivy::DocId,
    window: u32,
}

/// tantivy's first and largest windows (`fast_field_range_doc_set.rs`).
const DATE_WINDOW: u32 = 128;
const DATE_MAX_WINDOW: u32 = 100_000;

impl DateDocs {
    /// Positioned on the first match, found by reading from doc 0.
    fn from_start(column: Column<u64>, range: std::ops::RangeInclusive<u64>) -> DateDocs {
        let mut docs = DateDocs {
            column,
            range,
            found: Vec::with_capacity(32),
            at: 0,
            next: 0,
            window: DATE_WINDOW,
        };
        docs.read();
        docs
    }

    /// Positioned on `first`, a match found before (or `TERMINATED`).
    fn at(
        column: Column<u64>,
        range: std::ops::RangeInclusive<u64>,
        first: tantivy::DocId,
    ) -> DateDocs {
        let end = column.num_docs();
        let mut found = Vec::with_capacity(32);
        if first < end {
            found.push(first);
        }
        DateDocs {
            column,
            range,
            found,
            at: 0,
            next: first.saturating_add(1).min(end),
            window: DATE_WINDOW,
        }
    }

    /// Reads windows of the column from `next` until one holds a match or
    /// the column ends.
    fn read(&mut self) {
        let end = self.column.num_docs();
        self.found.clear();
        self.at = 0;
        while self.found.is_empty() && self.next < end {
            let stop = self.next.saturating_add(self.window).min(end);
            self.column.get_docids_for_value_range(
                self.range.clone(),
                self.next..stop,
                &mut self.found,
            );
            self.next = stop;
            self.window = self.window.saturating_mul(2).min(DATE_MAX_WINDOW);
        }
    }
}

impl tantivy::DocSet for DateDocs {
    fn advance(&mut self) -> tantivy::DocId {
        self.at += 1;
        if self.at >= self.found.len() {
            self.read();
        }
        self.doc()
    }

    fn seek(&mut self, target: tantivy::DocId) -> tantivy::DocId {
        if self.doc() >= target {
            return self.doc();
        }
        if self.found.last().is_some_and(|&last| last >= target) {
            self.at = self.found.partition_point(|&d| d < target);
            return self.doc();
        }
        // What lies between the window read and `target` is skipped.
        self.next = self.next.max(target);
        self.window = DATE_WINDOW;
        self.read();
        self.doc()
    }

    fn seek_danger(&mut self, target: tantivy::DocId) -> tantivy::SeekDangerResult {
        if target >= self.column.num_docs() {
            return tantivy::SeekDangerResult::SeekLowerBound(tantivy::TERMINATED);
        }
        // One value looked up, as tantivy's range doc set does.
        let range = &self.range;
        if self
            .column
            .values_for_doc(target)
            .any(|v| range.contains(&v))
        {
            self.found.clear();
            self.found.push(target);
            self.at = 0;
            self.next = target + 1;
            self.window = DATE_WINDOW;
            tantivy::SeekDangerResult::Found
        } else {
            tantivy::SeekDangerResult::SeekLowerBound(target + 1)
        }
    }

    fn doc(&self) -> tantivy::DocId {
        self.found
            .get(self.at)
            .copied()
            .unwrap_or(tantivy::TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        // tantivy's estimates, which order an intersection's clauses.
        self.column.num_docs() / 10
    }

    fn cost(&self) -> u64 {
        (self.column.num_docs() as f64 * 0.8) as u64
    }
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
    let wanted = q.offset.saturating_add(q.limit.max(1));
    let by_date = q.sort == Sort::Date || !compiled.has_text;
    let query = compiled.query.as_ref();
    // Collapsing drops hits, so fetch more than a page and widen until the
    // page is full or the matches run out.
    let mut window = wanted.saturating_mul(4).max(50);
    let (total_hits, page) = loop {
        let (total, mut candidates) = if by_date {
            top_by_date(searcher, query, window, q.date_field)?
        } else {
            crate::rank::top_by_score(
                searcher,
                query,
                compiled.upper.as_deref(),
                &compiled.bonuses,
                window,
                q.count_limit(),
            )?
        };
        break_ties(searcher, &mut candidates, by_date.then_some(q.date_field))?;
        let kept = collapse(searcher, &candidates, q)?;
        // Every match is a candidate when the window was not filled.
        let all_seen =
            candidates.len() < window || (total.is_exact() && candidates.len() >= total.value());
        if kept.len() >= wanted || all_seen {
            break (total, kept);
        }
        window = window.saturating_mul(4);
    };
    let mut marker = Highlighter {
        terms: highlight_terms(compiled, fields.text),
        fuzzy: compiled.fuzzy.clone(),
        analyzer: index.tokenizer_for_field(fields.text)?,
        unstemmed: crate::schema::unstemmed_analyzer(),
        stemmer: crate::schema::word_stemmer(),
        fuzzy_matched: std::collections::BTreeSet::new(),
    };
    let mut hits = Vec::with_capacity(q.limit);
    let mut reader = HitReader::new(searcher, fields);
    for (i, (score, addr)) in page.into_iter().enumerate().skip(q.offset).take(q.limit) {
        let mut hit = reader.hit(addr, i + 1, score)?;
        hit.highlights = marker.highlights(&hit.text);
        hit.also_in = story_copies(searcher, fields, &mut reader, &hit)?;
        hits.push(hit);
    }
    let fuzzy = (!compiled.fuzzy.is_empty()).then(|| FuzzyNote {
        unknown: compiled.fuzzy.iter().map(|(t, _)| t.clone()).collect(),
        matched: marker.fuzzy_matched.into_iter().collect(),
        exact_hits: 0,
    });
    Ok(SearchResults {
        query: q.text.clone(),
        total_hits,
        hits,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        fuzzy,
    })
}

/// The total and the newest `window` matches (scores 0): ranking bonuses
/// play no part.
fn top_by_date(
    searcher: &Searcher,
    query: &dyn tantivy::query::Query,
    window: usize,
    date_field: DateField,
) -> Result<(TotalHits, Vec<(f32, DocAddress)>)> {
    let collector = TopDocs::with_limit(window)
        .order_by_fast_field::<tantivy::DateTime>(date_field.name(), Order::Desc);
    let (count, docs) = searcher.search(query, &(Count, collector))?;
    Ok((
        TotalHits::Exact(count),
        docs.into_iter().map(|(_, addr)| (0.0, addr)).collect(),
    ))
}

/// Orders equal scores (or equal dates) by article and passage. Segment
/// order, and so tantivy's own tie order, depends on which indexing thread
/// wrote what: without this, two builds of one corpus rank identical
/// syndicated passages differently.
fn break_ties(
    searcher: &Searcher,
    candidates: &mut [(f32, DocAddress)],
    date: Option<DateField>,
) -> Result<()> {
    let mut columns = SegmentColumns::new(searcher, ["article_key", "passage"]);
    let mut dates: HashMap<u32, Column<tantivy::DateTime>> = HashMap::new();
    let mut keyed = Vec::with_capacity(candidates.len());
    for &(score, addr) in candidates.iter() {
        let primary = match date {
            Some(field) => {
                let column = match dates.entry(addr.segment_ord) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
                        e.insert(ff.date(field.name())?)
                    }
                };
                column
                    .first(addr.doc_id)
                    .map_or(i64::MIN, |d| d.into_timestamp_secs())
            }
            None => 0,
        };
        let [key, passage] = columns.get(addr)?;
        keyed.push((
            (score, addr),
            primary,
            key.unwrap_or(0),
            passage.unwrap_or(0),
        ));
    }
    keyed.sort_by(|a, b| {
        b.0 .0
            .total_cmp(&a.0 .0)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    for (slot, (c, ..)) in candidates.iter_mut().zip(keyed) {
        *slot = c;
    }
    Ok(())
}

/// `u64` fast-field columns read for ranked documents, opened once per
/// segment.
pub(crate) struct SegmentColumns<'s, const N: usize> {
    searcher: &'s Searcher,
    names: [&'static str; N],
    open: HashMap<u32, Vec<Column<u64>>>,
}

impl<'s, const N: usize> SegmentColumns<'s, N> {
    pub(crate) fn new(searcher: &'s Searcher, names: [&'static str; N]) -> Self {
        SegmentColumns {
            searcher,
            names,
            open: HashMap::new(),
        }
    }

    /// The first value of each field for one document (`None` if absent).
    pub(crate) fn get(&mut self, addr: DocAddress) -> Result<[Option<u64>; N]> {
        let columns = match self.open.entry(addr.segment_ord) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let ff = self.searcher.segment_reader(addr.segment_ord).fast_fields();
                let columns = self
                    .names
                    .iter()
                    .map(|name| ff.u64(name))
                    .collect::<tantivy::Result<Vec<_>>>()?;
                e.insert(columns)
            }
        };
        Ok(std::array::from_fn(|i| {
            columns.get(i).and_then(|c| c.first(addr.doc_id))
        }))
    }
}

/// Keeps one article per story (the best-ranked copy) unless `all_copies`,
/// and at most `per_article` passages per article, in rank order.
fn collapse(
    searcher: &Searcher,
    candidates: &[(f32, DocAddress)],
    q: &Query,
) -> Result<Vec<(f32, DocAddress)>> {
    let mut columns = SegmentColumns::new(searcher, ["article_key", "story"]);
    let mut story_owner: HashMap<u64, u64> = HashMap::new();
    let mut per_article: HashMap<u64, usize> = HashMap::new();
    let mut kept = Vec::new();
    for &(score, addr) in candidates {
        let [key, story] = columns.get(addr)?;
        let key = key.unwrap_or(0);
        let story = story.unwrap_or(key);
        if !q.all_copies && *story_owner.entry(story).or_insert(key) != key {
            continue;
        }
        let n = per_article.entry(key).or_insert(0);
        if q.per_article > 0 && *n >= q.per_article {
            continue;
        }
        *n += 1;
        kept.push((score, addr));
    }
    Ok(kept)
}

/// The other articles of a hit's story (at most 20), with their outlets.
fn story_copies(
    searcher: &Searcher,
    f: &Fields,
    reader: &mut HitReader,
    hit: &Hit,
) -> Result<Vec<StoryCopy>> {
    let Ok(story) = u64::from_str_radix(&hit.story, 16) else {
        return Ok(Vec::new());
    };
    let query = TermQuery::new(
        Term::from_field_u64(f.story, story),
        IndexRecordOption::Basic,
    );
    let docs = searcher.search(&query, &TopDocs::with_limit(200).order_by_score())?;
    let mut copies: Vec<StoryCopy> = Vec::new();
    // Every passage of every copy matches: read each article once, telling
    // passages apart by the `article_key` fast field.
    let mut keys = SegmentColumns::new(searcher, ["article_key"]);
    let mut seen = HashSet::new();
    for (_, addr) in docs {
        let [key] = keys.get(addr)?;
        if key.is_some_and(|k| !seen.insert(k)) {
            continue;
        }
        let head = reader.article(addr)?;
        let id = head.record.id;
        if id == hit.article_id || copies.iter().any(|c| c.article_id == id) {
            continue;
        }
        copies.push(StoryCopy {
            article_id: id,
            outlet: head.outlet,
        });
        if copies.len() == 20 {
            break;
        }
    }
    copies.sort_by(|a, b| a.article_id.cmp(&b.article_id));
    Ok(copies)
}

/// The analyzed terms a query (bonuses included) looks for in `field`,
/// for highlighting.
fn highlight_terms(compiled: &Compiled, field: Field) -> HashSet<String> {
    let mut terms = HashSet::new();
    let queries = std::iter::once(compiled.query.as_ref())
        .chain(compiled.bonuses.iter().map(|b| b.query.as_ref()));
    for query in queries {
        query.query_terms(&mut |term, _| {
            if term.field() == field {
                if let Some(text) = term.value().as_str() {
                    terms.insert(text.to_string());
                }
            }
        });
    }
    terms
}

/// Finds the words of a passage that the query matched.
struct Highlighter {
    /// Analyzed terms matched exactly.
    terms: HashSet<String>,
    /// Analyzed terms matched within an edit distance.
    fuzzy: Vec<(String, u8)>,
    analyzer: tantivy::tokenizer::TextAnalyzer,
    /// The analysis chain without its stemmer, and the stemmer alone.
    unstemmed: tantivy::tokenizer::TextAnalyzer,
    stemmer: tantivy::tokenizer::TextAnalyzer,
    /// The passage words (lower-cased) that matched a fuzzy term.
    fuzzy_matched: std::collections::BTreeSet<String>,
}

impl Highlighter {
    /// Byte ranges of the tokens of `text` whose analyzed form is a query
    /// term. Tokenizing the passage again is cheap (it is short) and, unlike
    /// tantivy's snippet generator, keeps every occurrence in the passage.
    fn highlights(&mut self, text: &str) -> Vec<[usize; 2]> {
        let mut ranges = Vec::new();
        if self.terms.is_empty() && self.fuzzy.is_empty() {
            return ranges;
        }
        if self.fuzzy.is_empty() {
            // Stemming is most of the cost of analyzing a passage, and an
            // English stem keeps its word's first letter and is never
            // longer than it: only words that pass that test can stem to a
            // query term, and only they are stemmed.
            let Highlighter {
                terms,
                unstemmed,
                stemmer,
                ..
            } = self;
            let mut stream = unstemmed.token_stream(text);
            while stream.advance() {
                let token = stream.token();
                let word = token.text.as_str();
                let first = word.chars().next();
                let may_match = terms
                    .iter()
                    .any(|t| word.len() >= t.len() && t.chars().next() == first);
                if !may_match {
                    continue;
                }
                let mut stem = stemmer.token_stream(word);
                if stem.advance() && terms.contains(&stem.token().text) {
                    ranges.push([token.offset_from, token.offset_to]);
                }
            }
            return ranges;
        }
        let mut stream = self.analyzer.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            let range = [token.offset_from, token.offset_to];
            if self.terms.contains(&token.text) {
                ranges.push(range);
            } else if self
                .fuzzy
                .iter()
                .any(|(t, d)| strsim::damerau_levenshtein(t, &token.text) <= usize::from(*d))
            {
                if let Some(word) = text.get(token.offset_from..token.offset_to) {
                    self.fuzzy_matched.insert(word.to_lowercase());
                }
                ranges.push(range);
            }
        }
        ranges
    }
}

/// Reads hits: the passage's text and own tags from the doc store; the
/// article's id, title, outlet, url and tags from its first passage's
/// stored document (`doc - passage`: an article's passages are contiguous
/// in one segment); dates, ordinals and story from fast columns, opened
/// once per segment.
pub(crate) struct HitReader<'s> {
    searcher: &'s Searcher,
    fields: Fields,
    segments: HashMap<u32, SegmentValues>,
    /// The last article read, by its first passage.
    article: Option<(DocAddress, ArticleHead)>,
}

/// The fast columns of one segment that a hit shows.
struct SegmentValues {
    paragraph: Column<u64>,
    passage: Column<u64>,
    story: Column<u64>,
    published: Column<tantivy::DateTime>,
    event_date: Column<tantivy::DateTime>,
}

/// What an article's first passage stores for the whole article.
#[derive(Clone, Default)]
pub(crate) struct ArticleHead {
    pub record: ArticleRecord,
    pub title: String,
    pub outlet: Option<String>,
    pub url: Option<String>,
}

impl<'s> HitReader<'s> {
    pub(crate) fn new(searcher: &'s Searcher, fields: &Fields) -> Self {
        HitReader {
            searcher,
            fields: *fields,
            segments: HashMap::new(),
            article: None,
        }
    }

    fn segment(&mut self, ord: u32) -> Result<&SegmentValues> {
        match self.segments.entry(ord) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let ff = self.searcher.segment_reader(ord).fast_fields();
                Ok(e.insert(SegmentValues {
                    paragraph: ff.u64("paragraph")?,
                    passage: ff.u64("passage")?,
                    story: ff.u64("story")?,
                    published: ff.date("published")?,
                    event_date: ff.date("event_date")?,
                }))
            }
        }
    }

    /// The address of the first passage of `addr`'s article, which holds
    /// the article's stored fields.
    fn first_passage(&mut self, addr: DocAddress) -> Result<DocAddress> {
        let passage = self.segment(addr.segment_ord)?.passage.first(addr.doc_id);
        let back = passage.and_then(|p| u32::try_from(p).ok()).unwrap_or(0);
        Ok(DocAddress::new(
            addr.segment_ord,
            addr.doc_id.saturating_sub(back),
        ))
    }

    /// The stored per-article fields of `addr`'s article.
    pub(crate) fn article(&mut self, addr: DocAddress) -> Result<ArticleHead> {
        let first = self.first_passage(addr)?;
        if let Some((at, head)) = &self.article {
            if *at == first {
                return Ok(head.clone());
            }
        }
        let f = self.fields;
        let doc: TantivyDocument = self.searcher.doc(first)?;
        let record = stored_text(&doc, f.article)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        let head = ArticleHead {
            record,
            title: stored_text(&doc, f.title).unwrap_or_default(),
            outlet: stored_text(&doc, f.outlet),
            url: stored_text(&doc, f.url),
        };
        self.article = Some((first, head.clone()));
        Ok(head)
    }

    /// The hit for the passage at `addr`.
    pub(crate) fn hit(&mut self, addr: DocAddress, rank: usize, score: f32) -> Result<Hit> {
        let f = self.fields;
        let head = self.article(addr)?;
        let doc: TantivyDocument = self.searcher.doc(addr)?;
        let seg = self.segment(addr.segment_ord)?;
        let doc_id = addr.doc_id;
        let date = |column: &Column<tantivy::DateTime>| column.first(doc_id).and_then(to_date);
        let own = |field| -> Vec<String> {
            doc.get_all(field)
                .filter_map(|v| v.as_str())
                .map(str::to_string)
                .collect()
        };
        Ok(Hit {
            rank,
            score,
            article_id: head.record.id,
            paragraph: seg.paragraph.first(doc_id).unwrap_or(0),
            passage: seg.passage.first(doc_id).unwrap_or(0),
            date: date(&seg.published),
            event_date: date(&seg.event_date),
            title: head.title,
            outlet: head.outlet,
            url: head.url,
            provinces: head.record.provinces,
            mentions: head.record.mentions,
            passage_provinces: own(f.passage_province),
            groups: head.record.groups,
            countries: head.record.countries,
            text: stored_text(&doc, f.text).unwrap_or_default(),
            highlights: Vec::new(),
            story: format!("{:016x}", seg.story.first(doc_id).unwrap_or(0)),
            also_in: Vec::new(),
        })
    }
}

fn stored_text(doc: &TantivyDocument, field: Field) -> Option<String> {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .map(str::to_string)
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

#[cfg(test)]
mod tests {
    use std::ops::Bound;

    use chrono::NaiveDate;
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, Occur, Query as _, RangeQuery, TermQuery};
    use tantivy::schema::IndexRecordOption;
    use tantivy::{DocSet, Term};

    use super::{day_start, DateFilter};

    /// `DateFilter` matches what tantivy's `RangeQuery` on the same date
    /// fast field matches: alone (a walk), led by a word (seeks), and
    /// with its scorer created again in one search (the cached first
    /// match).
    #[test]
    fn date_filter_matches_what_range_query_matches() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-corpus");
        crate::Index::build(&crate::BuildOptions::new(corpus, dir.path())).unwrap();
        let index = crate::Index::open(dir.path()).unwrap();
        let searcher = index.tantivy().reader().unwrap().searcher();
        let fields = index.fields();
        let day = |y, m, d| day_start(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let bounds = [
            (
                Bound::Included(day(2024, 1, 1)),
                Bound::Excluded(day(2024, 7, 1)),
            ),
            (Bound::Included(day(2025, 3, 1)), Bound::Unbounded),
            (Bound::Unbounded, Bound::Excluded(day(2023, 1, 1))),
            (Bound::Included(day(2030, 1, 1)), Bound::Unbounded),
            (Bound::Unbounded, Bound::Excluded(day(1990, 1, 1))),
        ];
        let mut matched = 0;
        for (name, field) in [
            ("event_date", fields.event_date),
            ("published", fields.published),
        ] {
            for (lower, upper) in bounds {
                let ours = DateFilter { name, lower, upper };
                let theirs = RangeQuery::new(
                    lower.map(|d| Term::from_field_date(field, d)),
                    upper.map(|d| Term::from_field_date(field, d)),
                );
                let word = TermQuery::new(
                    Term::from_field_text(fields.text, "kill"),
                    IndexRecordOption::WithFreqs,
                );
                let led = |q: Box<dyn tantivy::query::Query>| {
                    BooleanQuery::new(vec![
                        (
                            Occur::Must,
                            Box::new(word.clone()) as Box<dyn tantivy::query::Query>,
                        ),
                        (Occur::Must, q),
                    ])
                };
                let docs =
                    |q: &dyn tantivy::query::Query| searcher.search(q, &DocSetCollector).unwrap();
                let want = docs(&theirs);
                assert_eq!(docs(&ours), want, "{name} {lower:?} {upper:?}");
                matched += want.len();
                assert_eq!(
                    docs(&led(Box::new(ours.clone()))),
                    docs(&led(Box::new(theirs.clone()))),
                    "{name} {lower:?} {upper:?} led by a word"
                );
                // Scorers created again reuse the first match found.
                let scoring = tantivy::query::EnableScoring::disabled_from_searcher(&searcher);
                let weight = ours.weight(scoring).unwrap();
                let reference = theirs.weight(scoring).unwrap();
                for reader in searcher.segment_readers() {
                    for _ in 0..2 {
                        let mut a = weight.scorer(reader, 1.0).unwrap();
                        let mut b = reference.scorer(reader, 1.0).unwrap();
                        let mut target = 0;
                        while b.doc() != tantivy::TERMINATED {
                            assert_eq!(a.doc(), b.doc());
                            target = (b.doc() + 1).max(target + 3);
                            assert_eq!(a.seek(target), b.seek(target));
                        }
                        assert_eq!(a.doc(), tantivy::TERMINATED);
                    }
                }
            }
        }
        assert!(matched > 0, "no range matched anything");
    }
}
