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
