//! Issue 6: inspecting an index (`stats`, `places --learned`, `explain`,
//! `generations`) reads the manifest's head and totals streamed, never the
//! whole file list; the figures are those of the whole manifest.

use frontline::generation::Store;
use predicates::prelude::*;

use crate::util::indexed_sample;

#[test]
fn the_manifest_summary_equals_the_whole_manifest() {
    let dir = indexed_sample();
    let index = frontline::Index::open(dir.index()).unwrap();
    let summary = index.manifest_summary().unwrap().clone();
    let head = index.manifest_head().unwrap().clone();

    // A second handle reads the whole manifest first: its summary is
    // counted from memory, and must say the same.
    let whole = frontline::Index::open(dir.index()).unwrap();
    let manifest = whole.manifest().unwrap().clone();
    let from_memory = whole.manifest_summary().unwrap();
    for s in [&summary, from_memory] {
        assert_eq!(s.files, manifest.files.len() as u64);
        assert_eq!(s.articles, manifest.articles());
        assert_eq!(s.passages, manifest.passages());
        assert_eq!(s.head.corpus, manifest.corpus);
        assert_eq!(s.head.created, manifest.created);
        assert_eq!(s.head.generation, manifest.generation);
        assert_eq!(s.head.gazetteer, manifest.gazetteer);
        assert_eq!(s.head.learned_places, manifest.learned_places);
    }
    assert!(summary.files > 10 && summary.articles >= summary.files);
    assert_eq!(head.learned_places, manifest.learned_places);
    assert!(!head.learned_places.is_empty());

    let stats = index.stats().unwrap();
    assert_eq!(stats.files, manifest.files.len() as u64);
    assert_eq!(stats.articles, manifest.articles());
    assert_eq!(stats.passages, manifest.passages());
    assert_eq!(stats.learned_places, manifest.learned_places.len());

    let store = Store::new(dir.index());
    let live = store.current().unwrap().unwrap();
    let first = manifest.files.keys().next().unwrap();
    let last = manifest.files.keys().next_back().unwrap();
    assert!(store.manifest_lists(live, first).unwrap());
    assert!(store.manifest_lists(live, last).unwrap());
    assert!(!store.manifest_lists(live, "no/such-file.txt").unwrap());
    assert_eq!(store.manifest_summary(live).unwrap().files, summary.files);
}

#[test]
fn a_damaged_manifest_is_reported_with_its_path() {
    let dir = indexed_sample();
    let store = Store::new(dir.index());
    let live = store.current().unwrap().unwrap();
    let path = store
        .generation_dir(live)
        .join(frontline::generation::MANIFEST_FILE);
    let bytes = std::fs::read(&path).unwrap();
    // Cut inside the file list: the schema version before it still reads.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = store.manifest_summary(live).unwrap_err().to_string();
    assert!(err.contains("manifest.json"), "{err}");
    dir.cmd(&["stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest.json"));
    dir.cmd(&["places", "--learned"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest.json"));
    // `generations` shows the generation without figures.
    dir.cmd(&["generations"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(no manifest)"));
}

#[test]
fn stats_and_generations_show_the_manifest_totals() {
    let dir = indexed_sample();
    let manifest = frontline::Index::open(dir.index())
        .unwrap()
        .manifest()
        .unwrap()
        .clone();
    let out = dir.cmd(&["stats", "--format", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["files"], manifest.files.len() as u64, "{stats:#}");
    assert_eq!(stats["articles"], manifest.articles(), "{stats:#}");
    assert_eq!(
        stats["learned_places"],
        manifest.learned_places.len() as u64,
        "{stats:#}"
    );
    let out = dir
        .cmd(&["generations", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["files"], manifest.files.len() as u64, "{rows:#}");
    assert_eq!(rows[0]["articles"], manifest.articles(), "{rows:#}");
    assert_eq!(rows[0]["live"], true, "{rows:#}");
}

#[test]
fn stats_date_span_and_tops_are_those_of_the_timelines() {
    let dir = indexed_sample();
    let index = frontline::Index::open(dir.index()).unwrap();
    let stats = index.stats().unwrap();
    let all = frontline::Query::new("");
    let days = index
        .facets(
            &all.clone().date_field(frontline::DateField::Published),
            frontline::FacetField::Date,
            frontline::Interval::Day,
            None,
        )
        .unwrap();
    let day = |i: usize| chrono::NaiveDate::parse_from_str(&days.counts[i].value, "%Y-%m-%d");
    let span = stats.date_span.expect("the sample is dated");
    assert_eq!(span.0, day(0).unwrap());
    assert_eq!(span.1, day(days.counts.len() - 1).unwrap());
    assert!(span.0 < span.1, "{span:?}");
    let provinces = index
        .facets(
            &all,
            frontline::FacetField::Province,
            frontline::Interval::Month,
            Some(10),
        )
        .unwrap();
    assert_eq!(stats.top_provinces, provinces.counts);
    // Each value's passages are its articles' passages: at least one each.
    for c in &stats.top_provinces {
        assert!(c.passages >= c.articles && c.articles >= c.stories, "{c:?}");
    }
}
