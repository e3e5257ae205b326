//! End-to-end tests of the `frontline` binary on hand-made corpora.

use crate::util::{gzip, hit_ids, Dir};
use predicates::prelude::*;

/// Format A: leading space, date header, paragraphs, a syndication notice.
const SARMADA: &str = " date 2025-03-12 Security forces raided a house in the town of Sarmada, in Idlib province, \
on Tuesday and detained two suspected Islamic State members, a local official said.\n\n\
The raid followed weeks of surveillance, the official added. Residents said drones circled overhead for hours.\n\n\
(Except for the headline, this story has not been edited by Frontier Daily staff and is published from a syndicated feed.)\n";

/// Format A with no trailing newline and a group alias.
const MOSUL: &str = " date 2025-04-02 Iraqi troops killed three ISIS fighters in a raid west of Mosul on Tuesday, \
the military said in a statement.\n\nThe operation targeted a cell blamed for attacks on shepherds in the desert.";

const JSONL: &str = concat!(
    r#"{"id":"a1","title":"Drone strike hits convoy near El Fasher","source":"Sahel Wire","published":"2025-05-06T08:00:00Z","url":"https://example.org/a1","body":"A drone strike hit a convoy of Rapid Support Forces vehicles near El Fasher on Monday, witnesses said.\n\nThe RSF did not comment on losses."}"#,
    "\n",
    r#"{"title":"No id here","published":"2025-05-07","text":"Al-Shabaab fighters attacked a checkpoint outside Mogadishu overnight, police said.\n\nTwo officers were wounded in the exchange of fire."}"#,
    "\n",
    "{this line is broken\n",
);

const JSON_ARRAY: &str = r#"[{"id":"x","published":"2025-06-01","body":"Houthi forces fired a missile towards Marib city on Sunday, Yemeni officials said."}]"#;

fn mixed_corpus() -> Dir {
    let dir = Dir::new();
    dir.write("syria/sarmada.txt", SARMADA);
    dir.write("iraq/mosul.txt", MOSUL);
    dir.write("wires/may.jsonl", JSONL);
    dir.write("wires/june.json", JSON_ARRAY);
    dir.write("gz/sarmada-copy.txt.gz", gzip(SARMADA.as_bytes()));
    dir.write("notes/readme.md", "not an article");
    dir.write(
        ".hidden/ignored.txt",
        " date 2025-01-01 Hidden files are never read.",
    );
    dir
}

#[test]
fn indexes_every_format_and_reports_counts() {
    let dir = mixed_corpus();
    let summary = dir.index_json(&[]);
    assert_eq!(summary["files_seen"], 5, "{summary:#}");
    assert_eq!(summary["files_read"], 5);
    // sarmada, copy, mosul, 2 good JSONL lines, 1 JSON array element.
    assert_eq!(summary["articles"], 6);
    assert_eq!(summary["published"], true);
    assert_eq!(summary["mode"], "full");
    let warnings = summary["warnings"].to_string();
    assert!(
        warnings.contains("wires/may.jsonl:3"),
        "broken JSONL line is named: {warnings}"
    );
}

#[test]
fn article_ids_follow_the_documented_scheme() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    // The gzip copy is the same story: --all-copies lists both.
    let all = dir.search_json(&["", "--all-copies"]);
    let ids = hit_ids(&all);
    for expected in [
        "gz/sarmada-copy.txt.gz",
        "iraq/mosul.txt",
        "syria/sarmada.txt",
        "wires/june.json#x",
        "wires/may.jsonl#2",
        "wires/may.jsonl#a1",
    ] {
        assert!(
            ids.contains(&expected.to_string()),
            "{expected} missing from {ids:?}"
        );
    }
}

#[test]
fn syndication_notice_is_not_indexed_but_names_the_outlet() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    let results = dir.search_json(&["syndicated"]);
    assert_eq!(results["total_hits"], 0, "{results:#}");
    let results = dir.search_json(&["surveillance"]);
    let hit = &results["hits"][0];
    assert_eq!(hit["outlet"], "Frontier Daily");
    assert_eq!(hit["date"], "2025-03-12");
    assert_eq!(hit["paragraph"], 1);
}

#[test]
fn json_hit_has_the_documented_shape() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    let results = dir.search_json(&["convoy"]);
    assert_eq!(results["query"], "convoy");
    assert_eq!(results["total_hits"], 1);
    let hit = &results["hits"][0];
    for key in [
        "article_id",
        "paragraph",
        "score",
        "date",
        "title",
        "outlet",
        "provinces",
        "groups",
        "text",
        "highlights",
    ] {
        assert!(hit.get(key).is_some(), "hit lacks {key}: {hit:#}");
    }
    assert_eq!(hit["article_id"], "wires/may.jsonl#a1");
    assert_eq!(hit["title"], "Drone strike hits convoy near El Fasher");
    assert_eq!(hit["outlet"], "Sahel Wire");
    let text = hit["text"].as_str().unwrap();
    let [start, end] = [
        hit["highlights"][0][0].as_u64().unwrap(),
        hit["highlights"][0][1].as_u64().unwrap(),
    ];
    assert_eq!(&text[start as usize..end as usize], "convoy");
}

#[test]
fn filters_accept_aliases_and_variants() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    let by_variant = dir.search_json(&["raid", "--province", "Idleb", "--all-copies"]);
    assert_eq!(
        hit_ids(&by_variant),
        ["gz/sarmada-copy.txt.gz", "syria/sarmada.txt"]
    );
    // By default the copy is folded into the hits' `also_in`.
    let collapsed = dir.search_json(&["raid", "--province", "Idleb"]);
    assert_eq!(hit_ids(&collapsed).len(), 1, "{collapsed:#}");
    assert_eq!(
        collapsed["hits"][0]["also_in"].as_array().map(Vec::len),
        Some(1)
    );
    let by_alias = dir.search_json(&["", "--group", "ISIL"]);
    let ids = hit_ids(&by_alias);
    assert!(ids.contains(&"iraq/mosul.txt".to_string()), "{ids:?}");
    let rsf = dir.search_json(&["", "--group", "RSF", "--province", "North Darfur"]);
    assert_eq!(hit_ids(&rsf), ["wires/may.jsonl#a1"]);
}

#[test]
fn date_filters_are_inclusive_days() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    let results = dir.search_json(&[
        "",
        "--date-field",
        "published",
        "--from",
        "2025-05-06",
        "--to",
        "2025-05-07",
    ]);
    assert_eq!(
        hit_ids(&results),
        ["wires/may.jsonl#2", "wires/may.jsonl#a1"]
    );
}

#[test]
fn unknown_province_is_named_in_a_one_line_error() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    dir.cmd(&["search", "raid", "--province", "Idlibb"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown province \"Idlibb\""))
        .stderr(predicate::str::contains("Idlib"));
}

#[test]
fn bad_query_syntax_is_a_clear_error() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    dir.cmd(&["search", "nosuchfield:raid"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("frontline: invalid query"));
    dir.cmd(&[
        "search",
        "raid",
        "--from",
        "2025-09-01",
        "--to",
        "2025-08-01",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "--from 2025-09-01 is after --to 2025-08-01",
    ));
    dir.cmd(&["search", "raid", "--from", "2025-02-30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2025-02-30"));
}

#[test]
fn broken_file_is_skipped_and_named_and_strict_fails() {
    let dir = mixed_corpus();
    dir.write("broken/bad.json", "{ not json at all");
    let summary = dir.index_json(&[]);
    let skipped = summary["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{summary:#}");
    assert_eq!(skipped[0]["path"], "broken/bad.json");
    // --strict: exit 1 and nothing published; the previous index still answers.
    dir.write(
        "iraq/new.txt",
        " date 2025-07-01 A new report about Anbar province.",
    );
    let corpus = dir.corpus();
    dir.cmd(&["index", corpus.to_str().unwrap(), "--strict"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("broken/bad.json"));
    let results = dir.search_json(&["Anbar"]);
    assert_eq!(results["total_hits"], 0, "strict run must not publish");
}

#[test]
fn text_output_has_a_header_and_the_passage() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    dir.cmd(&["search", "convoy"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 hit for \"convoy\""))
        .stdout(predicate::str::contains("wires/may.jsonl#a1"))
        .stdout(predicate::str::contains("A drone strike hit a convoy"));
}

#[test]
fn csv_and_ndjson_outputs() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    let out = dir
        .cmd(&["search", "convoy", "--format", "csv"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("rank,score,date,event_date,article_id"),
        "{text}"
    );
    let out = dir
        .cmd(&["search", "raid", "--format", "ndjson"])
        .output()
        .unwrap();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let hit: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(hit["article_id"].is_string());
    }
}

#[test]
fn facets_count_articles_not_passages() {
    let dir = mixed_corpus();
    dir.index_json(&[]);
    let out = dir
        .cmd(&["facets", "--field", "province", "--format", "json"])
        .output()
        .unwrap();
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let idlib = counts["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"] == "Syria/Idlib")
        .expect("Idlib counted");
    assert_eq!(idlib["articles"], 2, "{counts:#}");
}

#[test]
fn missing_index_says_how_to_build_one() {
    let dir = Dir::new();
    dir.cmd(&["search", "raid"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no frontline index"))
        .stderr(predicate::str::contains("frontline index CORPUS_DIR"));
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "index",
        "search",
        "facets",
        "stats",
        "generations",
        "rollback",
    ] {
        crate::util::frontline()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
}
