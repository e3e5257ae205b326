//! Issue 6: inspecting an index (`stats`, `places --learned`, `explain`,
//! `generations`) reads the manifest's head and totals streamed, never the
//! whole file list; the figures are those of the whole manifest.

use frontline::generation::Store;
use predicates::prelude::*;

use crate::util::{indexed_sample, Dir};

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
    // Cut inside the file list: the head before it still reads.
    let files_at = bytes.windows(8).position(|w| w == b"\"files\":").unwrap();
    assert!(files_at < bytes.len() / 2);
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = store.manifest_summary(live).unwrap_err().to_string();
    assert!(err.contains("manifest.json"), "{err}");
    dir.cmd(&["stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest.json"));
    // The learned places come before the file list: still readable.
    dir.cmd(&["places", "--learned"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Atmeh"));
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

/// A copy of `sample-corpus/`, indexed: a corpus the test may change.
fn indexed_sample_copy() -> Dir {
    let dir = Dir::new();
    let from = crate::util::sample_corpus();
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&from).unwrap();
            dir.write(rel.to_str().unwrap(), std::fs::read(entry.path()).unwrap());
        }
    }
    // Files written just before a run get no stamp (`corpus::Stamp::QUIET`):
    // dated a minute back, every file is stamped whatever the machine's load.
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for entry in walkdir::WalkDir::new(dir.corpus()) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let file = std::fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap();
            file.set_modified(past).unwrap();
        }
    }
    dir.index_json(&[]);
    dir
}

/// The live manifest's path and text.
fn live_manifest(dir: &Dir) -> (std::path::PathBuf, String) {
    let store = Store::new(dir.index());
    let live = store.current().unwrap().unwrap();
    let path = store
        .generation_dir(live)
        .join(frontline::generation::MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

/// Rewrites the live manifest as frontline wrote it before session 9:
/// file records as objects (hash in hex, bands as decimals), the learned
/// places after the file list.
fn write_old_manifest(dir: &Dir) {
    use serde_json::{json, to_string};
    let store = Store::new(dir.index());
    let m = store.manifest(store.current().unwrap().unwrap()).unwrap();
    let files: Vec<String> = m
        .files
        .iter()
        .map(|(path, r)| {
            let stories: Vec<serde_json::Value> = r
                .stories
                .iter()
                .map(|s| json!({"story": s.story, "bands": s.bands}))
                .collect();
            let record = json!({
                "hash": r.hash.to_string(),
                "articles": r.articles,
                "passages": r.passages,
                "stories": stories,
            });
            format!("{}:{record}", to_string(path).unwrap())
        })
        .collect();
    let text = format!(
        r#"{{"schema_version":{},"frontline_version":{},"gazetteer":{},"generation":{},"created":{},"corpus":{},"files":{{{}}},"learned_places":{},"signature_version":{}}}"#,
        m.schema_version,
        to_string(&m.frontline_version).unwrap(),
        to_string(&m.gazetteer).unwrap(),
        m.generation,
        to_string(&m.created).unwrap(),
        to_string(&m.corpus).unwrap(),
        files.join(","),
        to_string(&m.learned_places).unwrap(),
        m.signature_version,
    );
    let (path, _) = live_manifest(dir);
    std::fs::write(path, text).unwrap();
}

/// What inspection and search print, less the generation's size on disk.
fn inspect(dir: &Dir) -> Vec<String> {
    let run = |args: &[&str]| {
        let out = dir.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut stats: serde_json::Value =
        serde_json::from_str(&run(&["stats", "--format", "json"])).unwrap();
    stats.as_object_mut().unwrap().remove("size_bytes");
    let mut search: serde_json::Value =
        serde_json::from_str(&run(&["search", "raid", "--format", "json"])).unwrap();
    search.as_object_mut().unwrap().remove("took_ms");
    vec![
        stats.to_string(),
        run(&["places", "--learned", "--format", "json"]),
        run(&["explain", "syria/atmeh-aid-convoy.txt", "--format", "json"]),
        run(&["generations", "--format", "json"]),
        search.to_string(),
    ]
}

/// Issue 6: manifests hold file records compactly and their head first;
/// an index whose manifest is in the earlier form opens, answers the
/// same, and its next run writes the compact form.
#[test]
fn manifests_of_the_earlier_form_are_read_and_replaced() {
    let dir = indexed_sample_copy();
    let (_, compact) = live_manifest(&dir);
    let files_at = compact.find(r#""files":{"#).unwrap();
    assert!(compact.find(r#""learned_places":"#).unwrap() < files_at);
    assert!(compact[files_at..].contains(r#"":[1,"#), "{compact:.400}");
    assert!(!compact.contains(r#""bands""#));
    let before = inspect(&dir);
    let manifest = frontline::Index::open(dir.index())
        .unwrap()
        .manifest()
        .unwrap()
        .clone();

    write_old_manifest(&dir);
    let (_, old) = live_manifest(&dir);
    assert!(old.contains(r#""bands":["#) && old.len() > compact.len());
    assert_eq!(inspect(&dir), before);
    let index = frontline::Index::open(dir.index()).unwrap();
    let reread = index.manifest().unwrap();
    // The old form has no stamps; everything else is read back.
    assert!(manifest.files.values().all(|r| r.stamp.is_some()));
    let unstamped =
        |files: &std::collections::BTreeMap<String, frontline::generation::FileRecord>| {
            files
                .iter()
                .map(|(path, r)| {
                    (
                        path.clone(),
                        frontline::generation::FileRecord {
                            stamp: None,
                            ..r.clone()
                        },
                    )
                })
                .collect::<Vec<_>>()
        };
    assert_eq!(unstamped(&reread.files), unstamped(&manifest.files));
    assert_eq!(reread.learned_places, manifest.learned_places);
    assert_eq!(index.manifest_head().unwrap().corpus, manifest.corpus);

    // The next run reads the old manifest, keeps every unchanged file and
    // writes the compact form.
    let path = "syria/atmeh-aid-convoy.txt";
    let text = std::fs::read_to_string(dir.corpus().join(path)).unwrap();
    dir.write(
        path,
        format!("{text}\nAid workers said the convoy was delayed.\n"),
    );
    let run = dir.index_json(&[]);
    assert_eq!(run["mode"], "incremental", "{run:#}");
    assert_eq!(run["updated"], 1, "{run:#}");
    assert_eq!(run["unchanged"], manifest.files.len() as u64 - 1, "{run:#}");
    let (_, next) = live_manifest(&dir);
    assert!(!next.contains(r#""bands""#) && next.contains(r#""learned_places":"#));
    let index = frontline::Index::open(dir.index()).unwrap();
    let after = index.manifest().unwrap();
    assert_eq!(after.files.len(), manifest.files.len());
    for (file, record) in &manifest.files {
        if file != path {
            assert_eq!(after.files.get(file), Some(record), "{file}");
        }
    }
    assert_eq!(after.learned_places, manifest.learned_places);
}
