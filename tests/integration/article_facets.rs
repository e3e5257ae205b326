//! Issue 3, schema version 3: an article's facets (`province`, `group`,
//! `country`) are indexed on its first passage only. Filters, facet counts
//! and timelines must still give them to every passage of the article.
//! These tests search for a word that only an article's third passage
//! holds (a passage that names no place or group itself), in segments of
//! many articles, after merges and after incremental updates that delete
//! articles: a filter or a count that read the passage's own document
//! would find nothing.

use std::collections::BTreeMap;

use crate::util::Dir;

/// (name in a filter, facet as hits show it, country) of the articles'
/// event provinces.
const PROVINCES: [(&str, &str, &str); 4] = [
    ("Idlib", "Syria/Idlib", "Syria"),
    ("Borno", "Nigeria/Borno", "Nigeria"),
    ("Nineveh", "Iraq/Nineveh", "Iraq"),
    ("Marib", "Yemen/Marib", "Yemen"),
];

const GROUPS: [&str; 4] = ["Islamic State", "Boko Haram", "al-Shabaab", "Houthis"];

/// An article of three passages: the lead names its province (`p`) and
/// group (`g`); the second and third name neither, and only the third
/// holds the word "wombat".
fn article(n: usize, p: usize, g: usize) -> String {
    format!(
        " date 2025-0{}-1{} Fighters from {} attacked a police post in {} province on Monday, \
officials said, in the latest raid of its kind this month.\n\n\
Report number {n} said the attackers withdrew before dawn. Local elders called for more \
patrols on the roads and asked for help with the harvest {n}.\n\n\
Residents counted wombat tracks beside crater {n} afterwards, and the market stayed closed \
for the rest of the week while traders waited.\n",
        1 + n % 8,
        n % 10,
        GROUPS[g],
        PROVINCES[p].0,
    )
}

/// The corpus as a model: file name -> (province, group) indices.
type Model = BTreeMap<String, (usize, usize)>;

fn write(dir: &Dir, model: &mut Model, name: &str, n: usize, p: usize, g: usize) {
    dir.write(name, article(n, p, g));
    model.insert(name.to_string(), (p, g));
}

/// Every hit of `search wombat` with the filter: its article's passage 2
/// (the only passage holding the word), one per article of the model that
/// has the province / group.
fn check_filters(dir: &Dir, model: &Model) {
    for (p, (name, facet, country)) in PROVINCES.iter().enumerate() {
        let expected: Vec<&str> = model
            .iter()
            .filter(|(_, &(mp, _))| mp == p)
            .map(|(f, _)| f.as_str())
            .collect();
        for filter in [["--province", name], ["--country", country]] {
            let mut args = vec!["wombat", "--all-copies", "--per-article", "0"];
            args.extend_from_slice(&filter);
            let results = dir.search_json(&args);
            assert_eq!(
                results["total_hits"],
                expected.len(),
                "{filter:?}: {results:#}"
            );
            let hits = results["hits"].as_array().unwrap();
            let mut ids: Vec<&str> = hits
                .iter()
                .map(|h| h["article_id"].as_str().unwrap())
                .collect();
            ids.sort();
            assert_eq!(ids, expected, "{filter:?}");
            for hit in hits {
                assert_eq!(hit["passage"], 2, "{hit:#}");
                assert_eq!(hit["passage_provinces"], serde_json::json!([]), "{hit:#}");
                assert_eq!(hit["provinces"], serde_json::json!([facet]), "{hit:#}");
                assert_eq!(hit["countries"], serde_json::json!([country]), "{hit:#}");
            }
        }
    }
    for (g, group) in GROUPS.iter().enumerate() {
        let expected = model.values().filter(|&&(_, mg)| mg == g).count();
        let results = dir.search_json(&["wombat", "--group", group, "--all-copies"]);
        assert_eq!(results["total_hits"], expected, "{group}: {results:#}");
        for hit in results["hits"].as_array().unwrap() {
            assert_eq!(hit["passage"], 2, "{hit:#}");
            assert_eq!(hit["groups"], serde_json::json!([group]), "{hit:#}");
        }
    }
}

/// `(value, articles, passages)` of a `facets` answer.
fn facet_counts(dir: &Dir, args: &[&str]) -> Vec<(String, u64, u64)> {
    let mut full = vec!["facets"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", "json"]);
    let out = dir.cmd(&full).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    counts["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().to_string(),
                c["articles"].as_u64().unwrap(),
                c["passages"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Facet counts of the passages holding "wombat" (one per article) and of
/// every passage (three per article), and a filtered timeline.
fn check_counts(dir: &Dir, model: &Model) {
    let per_province = |p: usize| model.values().filter(|&&(mp, _)| mp == p).count() as u64;
    let mut expected: Vec<(String, u64, u64)> = (0..PROVINCES.len())
        .filter(|&p| per_province(p) > 0)
        .map(|p| (PROVINCES[p].1.to_string(), per_province(p), per_province(p)))
        .collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert_eq!(
        facet_counts(dir, &["wombat", "--field", "province"]),
        expected
    );
    let every: Vec<(String, u64, u64)> = expected
        .iter()
        .map(|(v, a, _)| (v.clone(), *a, 3 * a))
        .collect();
    assert_eq!(facet_counts(dir, &["", "--field", "province"]), every);
    let countries: Vec<(String, u64, u64)> = facet_counts(dir, &["wombat", "--field", "country"]);
    let mut by_country: Vec<(String, u64, u64)> = expected
        .iter()
        .map(|(v, a, n)| (v.split('/').next().unwrap().to_string(), *a, *n))
        .collect();
    by_country.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert_eq!(countries, by_country);
    for (g, group) in GROUPS.iter().enumerate() {
        let n = model.values().filter(|&&(_, mg)| mg == g).count() as u64;
        let counts = facet_counts(dir, &["wombat", "--field", "group"]);
        let found = counts.iter().find(|(v, ..)| v == group);
        assert_eq!(found.map(|(_, a, p)| (*a, *p)), (n > 0).then_some((n, n)));
        // A timeline of the group's articles counts each once.
        let timeline = facet_counts(
            dir,
            &[
                "wombat",
                "--group",
                group,
                "--field",
                "date",
                "--interval",
                "year",
            ],
        );
        let total: u64 = timeline.iter().map(|(_, a, _)| a).sum();
        assert_eq!(total, n, "{group}: {timeline:?}");
    }
}

fn live_schema_version(dir: &Dir) -> u64 {
    let index = frontline::Index::open(dir.index()).unwrap();
    index.stats().unwrap().schema_version.into()
}

fn segments(dir: &Dir) -> usize {
    let index = frontline::Index::open(dir.index()).unwrap();
    index.tantivy().searchable_segment_ids().unwrap().len()
}

#[test]
fn filters_and_counts_give_an_articles_facets_to_all_its_passages() {
    let dir = Dir::new();
    let mut model = Model::new();
    // Many articles per segment; provinces and groups not in step.
    for n in 0..40 {
        write(
            &dir,
            &mut model,
            &format!("a/r{n:03}.txt"),
            n,
            n % 4,
            (n / 2) % 4,
        );
    }
    assert_eq!(dir.index_json(&[])["mode"], "full");
    check_filters(&dir, &model);
    check_counts(&dir, &model);
}

#[test]
fn filters_and_counts_hold_after_merges_and_incremental_deletes() {
    let dir = Dir::new();
    let mut model = Model::new();
    for n in 0..24 {
        write(&dir, &mut model, &format!("a/r{n:03}.txt"), n, n % 4, n % 4);
    }
    dir.index_json(&[]);
    // Runs that each add, change and delete articles: each commits a
    // segment and deletes passages from earlier ones, until tantivy's merge
    // policy merges them.
    let mut runs = 0;
    for round in 0..10 {
        let n = 100 + round;
        write(
            &dir,
            &mut model,
            &format!("b/new{round:02}.txt"),
            n,
            round % 4,
            (round + 1) % 4,
        );
        let changed = format!("a/r{:03}.txt", round * 2);
        write(
            &dir,
            &mut model,
            &changed,
            n + 50,
            (round + 3) % 4,
            (round + 2) % 4,
        );
        let gone = format!("a/r{:03}.txt", round * 2 + 1);
        dir.remove(&gone);
        model.remove(&gone);
        let summary = dir.index_json(&[]);
        assert_eq!(summary["mode"], "incremental", "{summary:#}");
        assert_eq!(summary["deleted"], 1, "{summary:#}");
        runs += 1;
    }
    assert!(
        segments(&dir) < runs,
        "no merge happened: {} segments",
        segments(&dir)
    );
    check_filters(&dir, &model);
    check_counts(&dir, &model);
    // The same passages as a full rebuild of the same corpus finds (scores
    // and story ids may differ: deleted passages stay in BM25's statistics
    // until merged, and stories keep their first assignment).
    let passages = |dir: &Dir| -> Vec<String> {
        let results = dir.search_json(&["wombat", "--province", "Idlib", "--all-copies"]);
        let mut rows: Vec<String> = results["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| format!("{} {} {}", h["article_id"], h["passage"], h["provinces"]))
            .collect();
        rows.sort();
        rows
    };
    let incremental = passages(&dir);
    dir.index_json(&["--full"]);
    check_filters(&dir, &model);
    check_counts(&dir, &model);
    assert_eq!(passages(&dir), incremental);
}

/// An index of an older schema version is refused with a clear error, and
/// the next `frontline index` rebuilds it in full (never a mix of the two
/// layouts).
#[test]
fn an_index_of_an_older_schema_version_is_refused_and_rebuilt_in_full() {
    let now = frontline::schema::SCHEMA_VERSION;
    let older = now - 1;
    let dir = Dir::new();
    let mut model = Model::new();
    for n in 0..6 {
        write(&dir, &mut model, &format!("a/r{n:03}.txt"), n, n % 4, n % 4);
    }
    dir.index_json(&[]);
    let current = std::fs::read_to_string(dir.index().join("CURRENT")).unwrap();
    let path = dir.index().join(current.trim()).join("manifest.json");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let old = manifest.replacen(
        &format!("{{\"schema_version\":{now},"),
        &format!("{{\"schema_version\":{older},"),
        1,
    );
    assert_ne!(old, manifest);
    std::fs::write(&path, old).unwrap();

    let out = dir.cmd(&["search", "wombat"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "schema version {older}, this frontline reads version {now}"
        )),
        "{err}"
    );

    write(&dir, &mut model, "a/late.txt", 9, 1, 1);
    let summary = dir.index_json(&[]);
    assert_eq!(summary["mode"], "full", "{summary:#}");
    assert_eq!(
        summary["full_reason"],
        format!("schema version changed ({older} -> {now})")
    );
    assert_eq!(live_schema_version(&dir), u64::from(now));
    check_filters(&dir, &model);
    check_counts(&dir, &model);
}
