//! Facet counts and timelines over the articles that match a query.
//!
//! tantivy's `FacetCollector` counts documents, and a document here is a
//! passage, so a long article would weigh more than a short one. This
//! module's collector counts distinct articles per value (and, beside it,
//! distinct stories, so syndicated copies count once, and passages),
//! reading only fast fields: the facet column, `article_key` and `story`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::fastfield::FacetReader;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::error::{Error, Result};
use crate::rank::Positions;

/// What to count matching articles by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FacetField {
    /// Event provinces, `Country/Province`.
    Province,
    /// Armed groups.
    Group,
    /// Countries.
    Country,
    /// Dates, bucketed by an [`Interval`].
    Date,
}

impl std::str::FromStr for FacetField {
    type Err = Error;
    fn from_str(s: &str) -> Result<FacetField> {
        match s {
            "province" => Ok(FacetField::Province),
            "group" => Ok(FacetField::Group),
            "country" => Ok(FacetField::Country),
            "date" => Ok(FacetField::Date),
            other => Err(Error::Query(format!(
                "unknown facet field {other:?} (expected province, group, country or date)"
            ))),
        }
    }
}

/// Bucket width of a date timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// `2025-08-20`.
    Day,
    /// ISO week, `2025-W34`.
    Week,
    /// `2025-08`.
    #[default]
    Month,
    /// `2025`.
    Year,
}

impl Interval {
    /// The bucket label of a date.
    pub fn label(self, date: NaiveDate) -> String {
        match self {
            Interval::Day => date.format("%Y-%m-%d").to_string(),
            Interval::Week => {
                let week = date.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Interval::Month => date.format("%Y-%m").to_string(),
            Interval::Year => date.year().to_string(),
        }
    }
}

/// Matching articles (and passages) for one facet value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    /// The value: `Syria/Idlib`, `Islamic State`, `Syria`, `2025-08`.
    pub value: String,
    /// Distinct matching articles with this value.
    pub articles: u64,
    /// Distinct stories among them: copies of one wire story count once.
    pub stories: u64,
    /// Matching passages with this value.
    pub passages: u64,
}

/// The answer to a facet request.
#[derive(Debug, Clone, Serialize)]
pub struct FacetCounts {
    /// The query text.
    pub query: String,
    /// The counted field.
    pub field: FacetField,
    /// Distinct matching articles, with or without a value.
    pub total_articles: u64,
    /// Distinct stories among them.
    pub total_stories: u64,
    /// Counts, most articles first (by date ascending for timelines).
    pub counts: Vec<FacetCount>,
}

/// What one value has collected.
#[derive(Default)]
pub(crate) struct Seen {
    articles: HashSet<u64>,
    stories: HashSet<u64>,
    passages: u64,
    /// The last article added: an article's passages are mostly adjacent
    /// documents, so this skips most hash-set inserts.
    last: Option<u64>,
}

impl Seen {
    fn add(&mut self, article: u64, story: u64) {
        self.passages += 1;
        if self.last == Some(article) {
            return;
        }
        self.last = Some(article);
        self.articles.insert(article);
        self.stories.insert(story);
    }

    fn merge(&mut self, other: Seen) {
        self.articles.extend(other.articles);
        self.stories.extend(other.stories);
        self.passages += other.passages;
    }
}

/// Per value label, what was seen.
type Tally = HashMap<String, Seen>;

/// Counts distinct articles per value of a facet field or date bucket.
pub(crate) struct ArticleFacetCollector {
    pub field: String,
    pub interval: Option<Interval>,
}

pub(crate) struct SegmentTally {
    source: Source,
    keys: Column<u64>,
    /// Where each passage's article starts: its facets are there.
    positions: Positions,
    stories: Column<u64>,
    /// Per facet ordinal (dense within a segment), what was seen.
    by_ord: Vec<Seen>,
    /// Per date bucket (see [`bucket`]): a date in it, and what was seen.
    by_bucket: HashMap<i64, (NaiveDate, Seen)>,
    all: Seen,
}

enum Source {
    Facet(FacetReader),
    Date(Column<tantivy::DateTime>, Interval),
}

impl Collector for ArticleFacetCollector {
    type Fruit = (Tally, Seen);
    type Child = SegmentTally;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTally> {
        let keys = reader.fast_fields().u64("article_key")?;
        let stories = reader.fast_fields().u64("story")?;
        let positions = Positions::open(reader)?;
        let source = match self.interval {
            Some(interval) => Source::Date(reader.fast_fields().date(&self.field)?, interval),
            None => Source::Facet(reader.facet_reader(&self.field)?),
        };
        Ok(SegmentTally {
            source,
            keys,
            stories,
            positions,
            by_ord: Vec::new(),
            by_bucket: HashMap::new(),
            all: Seen::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<(Tally, Seen)>) -> tantivy::Result<(Tally, Seen)> {
        let mut merged: Tally = HashMap::new();
        let mut all = Seen::default();
        for (tally, seen) in fruits {
            all.merge(seen);
            for (label, seen) in tally {
                merged.entry(label).or_default().merge(seen);
            }
        }
        Ok((merged, all))
    }
}

impl SegmentCollector for SegmentTally {
    type Fruit = (Tally, Seen);

    fn collect(&mut self, doc: DocId, _score: Score) {
        let Some(key) = self.keys.first(doc) else {
            return;
        };
        // An article with no story id is a story of its own.
        let story = self.stories.first(doc).unwrap_or(key);
        self.all.add(key, story);
        match &self.source {
            Source::Facet(reader) => {
                // The article's facets are on its first passage.
                for ord in reader.facet_ords(self.positions.first(doc)) {
                    // Ordinals index the segment's facet dictionary; one
                    // that does not fit in memory cannot occur.
                    let Ok(i) = usize::try_from(ord) else {
                        continue;
                    };
                    if i >= self.by_ord.len() {
                        self.by_ord.resize_with(i + 1, Seen::default);
                    }
                    self.by_ord[i].add(key, story);
                }
            }
            Source::Date(column, interval) => {
                if let Some(date) = column.first(doc).and_then(to_date) {
                    // Labelled once per bucket, at harvest.
                    self.by_bucket
                        .entry(bucket(*interval, date))
                        .or_insert_with(|| (date, Seen::default()))
                        .1
                        .add(key, story);
                }
            }
        }
    }

    fn harvest(self) -> (Tally, Seen) {
        let mut tally: Tally = HashMap::new();
        match &self.source {
            Source::Facet(reader) => {
                let mut facet = Facet::root();
                for (ord, seen) in self.by_ord.into_iter().enumerate() {
                    if seen.passages == 0 {
                        continue;
                    }
                    if reader.facet_from_ord(ord as u64, &mut facet).is_ok() {
                        let label = facet.to_path().join("/");
                        tally.entry(label).or_default().merge(seen);
                    }
                }
            }
            Source::Date(_, interval) => {
                for (date, seen) in self.by_bucket.into_values() {
                    tally.entry(interval.label(date)).or_default().merge(seen);
                }
            }
        }
        (tally, self.all)
    }
}

/// A number that two dates share exactly when [`Interval::label`] gives
/// them the same label.
fn bucket(interval: Interval, date: NaiveDate) -> i64 {
    match interval {
        Interval::Day => i64::from(date.num_days_from_ce()),
        Interval::Week => {
            let week = date.iso_week();
            i64::from(week.year()) * 64 + i64::from(week.week())
        }
        Interval::Month => i64::from(date.year()) * 12 + i64::from(date.month0()),
        Interval::Year => i64::from(date.year()),
    }
}

/// The earliest and latest day labels (`2025-08-20`, in the order of the
/// labels, as a day timeline sorts them) of the documents a query matches
/// that have an article and a date in a date column: what a
/// [`Interval::Day`] timeline's first and last buckets are, without
/// counting articles or stories.
pub(crate) struct DaySpanCollector {
    pub field: String,
}

/// What one segment of a [`DaySpanCollector`] has seen: the distinct days.
pub(crate) struct SegmentDays {
    keys: Column<u64>,
    dates: Column<tantivy::DateTime>,
    /// Distinct days (since the common era) seen.
    days: HashSet<i32>,
    /// The last timestamp seen: an article's passages share their date
    /// and are adjacent, so this skips most set inserts.
    last: Option<tantivy::DateTime>,
}

impl Collector for DaySpanCollector {
    type Fruit = Option<(String, String)>;
    type Child = SegmentDays;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentDays> {
        Ok(SegmentDays {
            keys: reader.fast_fields().u64("article_key")?,
            dates: reader.fast_fields().date(&self.field)?,
            days: HashSet::new(),
            last: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<Option<(String, String)>>,
    ) -> tantivy::Result<Option<(String, String)>> {
        Ok(fruits
            .into_iter()
            .flatten()
            .reduce(|(a, b), (c, d)| (std::cmp::min(a, c), std::cmp::max(b, d))))
    }
}

impl SegmentCollector for SegmentDays {
    type Fruit = Option<(String, String)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        // The same documents as a timeline counts.
        if self.keys.first(doc).is_none() {
            return;
        }
        let Some(dt) = self.dates.first(doc) else {
            return;
        };
        if self.last == Some(dt) {
            return;
        }
        self.last = Some(dt);
        if let Some(date) = to_date(dt) {
            self.days.insert(date.num_days_from_ce());
        }
    }

    fn harvest(self) -> Option<(String, String)> {
        self.days
            .into_iter()
            .filter_map(NaiveDate::from_num_days_from_ce_opt)
            .map(|d| Interval::Day.label(d))
            .fold(None, |span, label| match span {
                None => Some((label.clone(), label)),
                Some((a, b)) => Some((std::cmp::min(a, label.clone()), std::cmp::max(b, label))),
            })
    }
}

fn to_date(dt: tantivy::DateTime) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp(dt.into_timestamp_secs(), 0).map(|d| d.date_naive())
}

/// Turns collected tallies into sorted counts.
pub(crate) fn finish(
    query: &str,
    field: FacetField,
    (tally, all): (Tally, Seen),
    top: Option<usize>,
) -> FacetCounts {
    let mut counts: Vec<FacetCount> = tally
        .into_iter()
        .map(|(value, seen)| FacetCount {
            value,
            articles: seen.articles.len() as u64,
            stories: seen.stories.len() as u64,
            passages: seen.passages,
        })
        .collect();
    if field == FacetField::Date {
        counts.sort_by(|a, b| a.value.cmp(&b.value));
    } else {
        counts.sort_by(|a, b| {
            b.articles
                .cmp(&a.articles)
                .then_with(|| a.value.cmp(&b.value))
        });
    }
    if let Some(n) = top {
        if field == FacetField::Date {
            let skip = counts.len().saturating_sub(n);
            counts.drain(..skip);
        } else {
            counts.truncate(n);
        }
    }
    FacetCounts {
        query: query.to_string(),
        field,
        total_articles: all.articles.len() as u64,
        total_stories: all.stories.len() as u64,
        counts,
    }
}

/// Fills the empty buckets of a timeline so a chart shows gaps as zeros.
pub fn fill_timeline(counts: &FacetCounts, interval: Interval) -> Vec<FacetCount> {
    let parse = |v: &str| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").ok();
    if interval != Interval::Month || counts.counts.is_empty() {
        return counts.counts.clone();
    }
    let known: BTreeMap<&str, &FacetCount> = counts
        .counts
        .iter()
        .map(|c| (c.value.as_str(), c))
        .collect();
    let (Some(first), Some(last)) = (
        counts.counts.first().and_then(|c| parse(&c.value)),
        counts.counts.last().and_then(|c| parse(&c.value)),
    ) else {
        return counts.counts.clone();
    };
    let mut out = Vec::new();
    let mut month = first;
    while month <= last {
        let label = interval.label(month);
        out.push(known.get(label.as_str()).map_or(
            FacetCount {
                value: label.clone(),
                articles: 0,
                stories: 0,
                passages: 0,
            },
            |c| (*c).clone(),
        ));
        let Some(next) = month.checked_add_months(chrono::Months::new(1)) else {
            break;
        };
        month = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two dates share a bucket exactly when they share a label, so
    /// labelling once per bucket gives the per-date labels' counts.
    #[test]
    fn buckets_are_labels() {
        let start = NaiveDate::from_ymd_opt(2019, 12, 20).unwrap();
        let dates: Vec<NaiveDate> = (0..800)
            .map(|d| start + chrono::Days::new(d))
            .chain([NaiveDate::from_ymd_opt(-44, 3, 15).unwrap()])
            .collect();
        for interval in [
            Interval::Day,
            Interval::Week,
            Interval::Month,
            Interval::Year,
        ] {
            for a in &dates {
                for b in dates.iter().step_by(7) {
                    assert_eq!(
                        bucket(interval, *a) == bucket(interval, *b),
                        interval.label(*a) == interval.label(*b),
                        "{interval:?} {a} {b}"
                    );
                }
            }
        }
    }
}
