//! The 50-query bench set (the 30 [`TEXT_QUERIES`](crate::TEXT_QUERIES)
//! and 20 filtered ones) as frontline queries and as bare tantivy queries,
//! shared by `bench-index` and `query-cost`.

use std::collections::BTreeSet;
use std::ops::Bound;

use anyhow::Result;
use chrono::NaiveDate;
use frontline::Gazetteer;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{Facet, IndexRecordOption, Value as _};
use tantivy::snippet::SnippetGenerator;
use tantivy::{TantivyDocument, Term};

use crate::gen::World;

/// One benchmark query: text plus optional filters.
#[derive(Debug, Clone)]
pub struct BenchQuery {
    /// Query text.
    pub text: String,
    /// Province filter: the name given to frontline, the facet to bare
    /// tantivy.
    pub province: Option<(String, Facet)>,
    /// Group filter, likewise.
    pub group: Option<(String, Facet)>,
    /// First day (inclusive) of the event date.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive) of the event date.
    pub to: Option<NaiveDate>,
}

impl BenchQuery {
    /// A query of `text` alone, without filters.
    pub fn text(text: &str) -> BenchQuery {
        BenchQuery {
            text: text.into(),
            province: None,
            group: None,
            from: None,
            to: None,
        }
    }

    /// Any filter set.
    pub fn is_filtered(&self) -> bool {
        self.province.is_some() || self.group.is_some() || self.from.is_some() || self.to.is_some()
    }

    /// A short label: the text and its filters.
    pub fn label(&self) -> String {
        let mut s = self.text.clone();
        if let Some((p, _)) = &self.province {
            s.push_str(&format!(" [province {p}]"));
        }
        if let Some((g, _)) = &self.group {
            s.push_str(&format!(" [group {g}]"));
        }
        if self.from.is_some() || self.to.is_some() {
            let d = |d: Option<NaiveDate>| d.map_or("..".to_string(), |d| d.to_string());
            s.push_str(&format!(" [{}..{}]", d(self.from), d(self.to)));
        }
        s
    }

    /// The frontline query (default options, limit 10).
    pub fn frontline(&self) -> frontline::Query {
        let mut fq = frontline::Query::new(self.text.clone()).limit(10);
        if let Some((name, _)) = &self.province {
            fq = fq.province(name.clone());
        }
        if let Some((name, _)) = &self.group {
            fq = fq.group(name.clone());
        }
        if let Some(d) = self.from {
            fq = fq.from(d);
        }
        if let Some(d) = self.to {
            fq = fq.to(d);
        }
        fq
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The fixed 50 queries. Filter names are the generator's most frequent
/// provinces and groups (real names from `index-schema/`).
pub fn query_set(gaz: &Gazetteer) -> Result<Vec<BenchQuery>> {
    let mut set: Vec<BenchQuery> = crate::TEXT_QUERIES
        .into_iter()
        .map(BenchQuery::text)
        .collect();
    let world = World::load_default()?;
    // The first province (by Zipf rank) of the 8 most reported countries,
    // and the first group of each.
    let mut provinces = Vec::new();
    let mut groups = BTreeSet::new();
    let mut group_list = Vec::new();
    for c in world.countries.iter().take(8) {
        let p = &c.provinces[0];
        let resolved = gaz.resolve_provinces(&format!("{}/{}", p.country, p.name))?;
        provinces.push((p.name.clone(), resolved[0].facet()));
        if let Some(&g) = c.groups.first() {
            let name = world.groups[g].name.clone();
            if groups.insert(name.clone()) {
                let canonical = gaz.resolve_group(&name)?;
                group_list.push((name, Facet::from_path([canonical.as_str()])));
            }
        }
    }
    let terms = ["attack", "killed", "civilian", "fighters", "displaced"];
    for i in 0..20 {
        let mut bq = BenchQuery::text(terms[i % terms.len()]);
        match i % 4 {
            0 => bq.province = Some(provinces[i / 4 % provinces.len()].clone()),
            1 => bq.group = Some(group_list[i / 4 % group_list.len()].clone()),
            2 => {
                bq.province = Some(provinces[(i / 4 + 3) % provinces.len()].clone());
                bq.from = Some(date(2021 + (i / 4) as i32 % 4, 1, 1));
                bq.to = Some(date(2022 + (i / 4) as i32 % 4, 6, 30));
            }
            _ => {
                bq.from = Some(date(2020 + (i / 4) as i32, 3, 1));
                bq.to = Some(date(2020 + (i / 4) as i32, 9, 30));
                if i % 8 == 7 {
                    bq.group = Some(group_list[(i / 8) % group_list.len()].clone());
                }
            }
        }
        set.push(bq);
    }
    Ok(set)
}

/// The passages tagged `facet` in the article facet field `article` (on
/// every passage in the bare index) or naming it in their own tag field
/// `own` (a raw term, schema version 4).
fn facet_filter(
    article: tantivy::schema::Field,
    own: tantivy::schema::Field,
    facet: &Facet,
) -> Box<dyn tantivy::query::Query> {
    let clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)> = [
        Term::from_facet(article, facet),
        frontline::schema::own_tag_term(own, facet),
    ]
    .into_iter()
    .map(|term| {
        let tq: Box<dyn tantivy::query::Query> =
            Box::new(TermQuery::new(term, IndexRecordOption::Basic));
        (Occur::Should, tq)
    })
    .collect();
    Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(clauses)),
        0.0,
    ))
}

fn day_secs(d: NaiveDate) -> i64 {
    d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

/// Bare tantivy, as `bench-index` runs it: QueryParser (AND by default)
/// over `text`, facet term filters, a date `RangeQuery`; `Count` +
/// `TopDocs` by score; a snippet of `text` and the title per hit (what
/// frontline shows). Returns the count.
pub fn bare_search(
    index: &tantivy::Index,
    searcher: &tantivy::Searcher,
    f: &frontline::schema::Fields,
    b: &BenchQuery,
) -> Result<usize> {
    let mut parser = QueryParser::for_index(index, vec![f.text]);
    parser.set_conjunction_by_default();
    let text_query = parser.parse_query(&b.text)?;
    let mut clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)> =
        vec![(Occur::Must, text_query.box_clone())];
    if let Some((_, facet)) = &b.province {
        clauses.push((
            Occur::Must,
            facet_filter(f.province, f.passage_province, facet),
        ));
    }
    if let Some((_, facet)) = &b.group {
        clauses.push((Occur::Must, facet_filter(f.group, f.passage_group, facet)));
    }
    if b.from.is_some() || b.to.is_some() {
        let secs = |d: NaiveDate| tantivy::DateTime::from_timestamp_secs(day_secs(d));
        let lower = b.from.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_date(f.event_date, secs(d)))
        });
        let upper =
            b.to.and_then(|d| d.succ_opt())
                .map_or(Bound::Unbounded, |d| {
                    Bound::Excluded(Term::from_field_date(f.event_date, secs(d)))
                });
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(
                Box::new(RangeQuery::new(lower, upper)),
                0.0,
            )),
        ));
    }
    let query = BooleanQuery::new(clauses);
    let (count, top) =
        searcher.search(&query, &(Count, TopDocs::with_limit(10).order_by_score()))?;
    let snippets = SnippetGenerator::create(searcher, &*text_query, f.text)?;
    for (_score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        std::hint::black_box(snippets.snippet_from_doc(&doc).to_html());
        std::hint::black_box(doc.get_first(f.title).and_then(|v| v.as_str()));
    }
    Ok(count)
}
