//! Measuring the tagger against hand-labelled articles.
//!
//! A labels file (`expected.json`) lists, for each article id, the event
//! provinces, background mentions, countries, groups and event date a
//! careful reader finds. [`evaluate`] tags the corpus the way an index run
//! does (learning places from the whole corpus first) and reports micro
//! precision and recall per kind of tag, with every disagreement, so that
//! users can measure the tagger on their own corpus.
//!
//! ```no_run
//! use std::path::Path;
//! let report = frontline::eval::evaluate(
//!     Path::new("sample-corpus/expected.json"),
//!     Path::new("sample-corpus"),
//!     None,
//! ).unwrap();
//! println!("province precision {:.3}", report.provinces.precision());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::corpus::{self, WalkOptions};
use crate::error::{Error, Result};
use crate::gazetteer::Gazetteer;
use crate::tagging::{ArticleTags, LearnedPlaces, Tagger};

/// One labelled article of `expected.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Expected {
    /// Article id.
    pub id: String,
    /// Publication date.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Event date.
    #[serde(default)]
    pub event_date: Option<NaiveDate>,
    /// Event provinces, `Country/Province`.
    #[serde(default)]
    pub provinces: Vec<String>,
    /// Background provinces.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// Countries.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Canonical group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Outlet.
    #[serde(default)]
    pub outlet: Option<String>,
}

/// Counts for one kind of tag.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Score {
    /// Tags both expected and found.
    pub true_positives: u32,
    /// Tags found but not expected.
    pub false_positives: u32,
    /// Tags expected but not found.
    pub false_negatives: u32,
}

impl Score {
    /// Found tags that are right (1 when nothing was found).
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Expected tags that were found (1 when nothing was expected).
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    fn add(&mut self, expected: &BTreeSet<String>, found: &BTreeSet<String>) {
        self.true_positives += expected.intersection(found).count() as u32;
        self.false_positives += found.difference(expected).count() as u32;
        self.false_negatives += expected.difference(found).count() as u32;
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// One disagreement between the labels and the tagger.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// Article id.
    pub id: String,
    /// `provinces`, `mentions`, `countries`, `groups`, `event_date`.
    pub field: &'static str,
    /// What the labels say (missing from the tags).
    pub expected: Vec<String>,
    /// What the tagger said (not in the labels).
    pub found: Vec<String>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Articles compared.
    pub articles: usize,
    /// Event provinces.
    pub provinces: Score,
    /// Background mentions.
    pub mentions: Score,
    /// Countries.
    pub countries: Score,
    /// Groups.
    pub groups: Score,
    /// Event dates (a date is one tag).
    pub event_dates: Score,
    /// Labelled ids with no article in the corpus.
    pub missing: Vec<String>,
    /// Every disagreement.
    pub mismatches: Vec<Mismatch>,
}

/// Tags `corpus` and compares with the labels in `expected`.
pub fn evaluate(expected: &Path, corpus_dir: &Path, schema_dir: Option<&Path>) -> Result<Report> {
    let text = std::fs::read_to_string(expected).map_err(|e| Error::io(expected, e))?;
    let labels: Vec<Expected> = serde_json::from_str(&text).map_err(|e| Error::Parse {
        path: expected.to_path_buf(),
        reason: format!("not a labels file: {e}"),
    })?;
    let gazetteer = Gazetteer::load(schema_dir)?;
    let (files, _) = corpus::walk(corpus_dir, &WalkOptions::default())?;
    let mut articles = Vec::new();
    for file in &files {
        if let Ok(bytes) = corpus::read(file) {
            articles.extend(corpus::parse(file, &bytes).articles);
        }
    }
    let mut learned = LearnedPlaces::default();
    for article in &articles {
        learned.add_all(Tagger::learn_places(&gazetteer, article));
    }
    let tagger = Tagger::with_learned(&gazetteer, &learned)?;
    let tags: BTreeMap<String, ArticleTags> = articles
        .iter()
        .map(|a| (a.id.0.clone(), tagger.tag(a)))
        .collect();
    Ok(compare(&labels, &tags))
}

fn compare(labels: &[Expected], tags: &BTreeMap<String, ArticleTags>) -> Report {
    let mut report = Report {
        articles: 0,
        provinces: Score::default(),
        mentions: Score::default(),
        countries: Score::default(),
        groups: Score::default(),
        event_dates: Score::default(),
        missing: Vec::new(),
        mismatches: Vec::new(),
    };
    for label in labels {
        let Some(found) = tags.get(&label.id) else {
            report.missing.push(label.id.clone());
            continue;
        };
        report.articles += 1;
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        let names = |v: &[crate::gazetteer::Province]| v.iter().map(|p| p.to_string()).collect();
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).into_iter().collect();
        let fields: [(&'static str, BTreeSet<String>, BTreeSet<String>, &mut Score); 5] = [
            (
                "provinces",
                set(&label.provinces),
                names(&found.provinces),
                &mut report.provinces,
            ),
            (
                "mentions",
                set(&label.mentions),
                names(&found.mentions),
                &mut report.mentions,
            ),
            (
                "countries",
                set(&label.countries),
                set(&found.countries),
                &mut report.countries,
            ),
            (
                "groups",
                set(&label.groups),
                set(&found.groups),
                &mut report.groups,
            ),
            (
                "event_date",
                date(label.event_date),
                date(found.event_date),
                &mut report.event_dates,
            ),
        ];
        for (field, expected, found, score) in fields {
            score.add(&expected, &found);
            if expected != found {
                report.mismatches.push(Mismatch {
                    id: label.id.clone(),
                    field,
                    expected: expected.difference(&found).cloned().collect(),
                    found: found.difference(&expected).cloned().collect(),
                });
            }
        }
    }
    report
}
