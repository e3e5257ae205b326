//! The sample corpus: the acceptance search, tagging quality against the
//! hand labels, learned places and explanations.

use predicates::prelude::*;

use crate::util::{frontline, indexed_sample, sample_corpus};

#[test]
fn raid_in_idlib_by_islamic_state_returns_only_such_passages_highlighted() {
    let dir = indexed_sample();
    let results = dir.search_json(&[
        "raid",
        "--province",
        "Idlib",
        "--group",
        "Islamic State",
        "--all-copies",
    ]);
    let hits = results["hits"].as_array().unwrap();
    assert!(hits.len() >= 6, "{results:#}");
    for hit in hits {
        let tagged =
            |field: &str, value: &str| hit[field].as_array().unwrap().iter().any(|v| v == value);
        assert!(
            tagged("provinces", "Syria/Idlib") || tagged("passage_provinces", "Syria/Idlib"),
            "{hit:#}"
        );
        assert!(tagged("groups", "Islamic State"), "{hit:#}");
        let text = hit["text"].as_str().unwrap();
        let spans = hit["highlights"].as_array().unwrap();
        assert!(!spans.is_empty(), "highlighted: {hit:#}");
        for span in spans {
            let (s, e) = (
                span[0].as_u64().unwrap() as usize,
                span[1].as_u64().unwrap() as usize,
            );
            assert!(
                text[s..e].to_lowercase().starts_with("raid"),
                "{}",
                &text[s..e]
            );
        }
    }
    // HTS articles in Idlib and IS articles elsewhere are not in it.
    let ids = crate::util::hit_ids(&results);
    assert!(!ids.iter().any(|id| id.contains("hts-")), "{ids:?}");
    assert!(
        !ids.iter()
            .any(|id| id.contains("mosul") || id.contains("deir-ezzor")),
        "{ids:?}"
    );
}

#[test]
fn variants_and_aliases_find_the_same_articles() {
    let dir = indexed_sample();
    let canonical = crate::util::hit_ids(&dir.search_json(&[
        "",
        "--province",
        "Idlib",
        "--group",
        "Islamic State",
    ]));
    let variant =
        crate::util::hit_ids(&dir.search_json(&["", "--province", "Idleb", "--group", "Daesh"]));
    assert_eq!(canonical, variant);
    // El Fasher is the only North Darfur name in those reports.
    let rsf = crate::util::hit_ids(&dir.search_json(&[
        "",
        "--province",
        "North Darfur",
        "--group",
        "RSF",
    ]));
    assert!(
        rsf.contains(&"sudan/el-fasher-shelling.txt".to_string()),
        "{rsf:?}"
    );
    // A background mention does not make an Aleppo article, but the passage is found.
    let aleppo = dir.search_json(&["raid", "--province", "Aleppo"]);
    assert_eq!(
        aleppo["hits"][0]["article_id"],
        "syria/sarmada-isil-arrest.txt"
    );
    assert_eq!(
        aleppo["hits"][0]["provinces"],
        serde_json::json!(["Syria/Idlib"])
    );
    assert_eq!(
        aleppo["hits"][0]["mentions"],
        serde_json::json!(["Syria/Aleppo"])
    );
}

/// Runs `frontline eval` on a labelled corpus and checks every figure.
fn assert_tagging_quality(corpus: &std::path::Path, min: f64) {
    let out = frontline()
        .args(["eval"])
        .arg(corpus.join("expected.json"))
        .arg("--corpus")
        .arg(corpus)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["articles"], 64);
    assert_eq!(report["missing"].as_array().unwrap().len(), 0);
    for field in ["provinces", "groups", "event_dates", "countries"] {
        let s = &report[field];
        let (tp, fp, fneg) = (
            s["true_positives"].as_f64().unwrap(),
            s["false_positives"].as_f64().unwrap(),
            s["false_negatives"].as_f64().unwrap(),
        );
        let (precision, recall) = (tp / (tp + fp), tp / (tp + fneg));
        assert!(
            precision >= min && recall >= min,
            "{}: {field} precision {precision:.3} recall {recall:.3} (minimum {min})",
            corpus.display()
        );
    }
}

/// The sample corpus was labelled by another writer and only lightly tuned
/// on: the bar of 0.90 (reached: 0.91-1.00, docs/benchmarks.md).
#[test]
fn tagging_meets_ninety_percent_precision_and_recall_on_the_sample_labels() {
    assert_tagging_quality(&sample_corpus(), 0.90);
    // The same check through the CLI flag scripts use.
    frontline()
        .arg("eval")
        .arg(sample_corpus().join("expected.json"))
        .arg("--corpus")
        .arg(sample_corpus())
        .args(["--min", "0.9"])
        .assert()
        .success()
        .stdout(predicate::str::contains("precision"));
}

/// The corpus the tagging rules were developed on: a regression guard.
#[test]
fn tagging_keeps_its_figures_on_the_tuning_corpus() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tuning-corpus");
    assert_tagging_quality(&corpus, 0.95);
}

#[test]
fn places_are_learned_from_the_corpus_and_explained() {
    let dir = indexed_sample();
    dir.cmd(&["places", "--learned"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Atmeh").and(predicate::str::contains("Syria/Idlib")));
    // The aid-convoy report names only Atmeh.
    dir.cmd(&["explain", "syria/atmeh-aid-convoy.txt"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("learned-place").and(predicate::str::contains("Syria/Idlib")),
        );
    dir.cmd(&["explain", "no/such-article.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no article"));
}

#[test]
fn facets_count_articles_and_respect_filters() {
    let dir = indexed_sample();
    let out = dir
        .cmd(&[
            "facets",
            "--field",
            "group",
            "--country",
            "Syria",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = counts.to_string();
    assert!(
        text.contains("Islamic State") && text.contains("Hayat Tahrir al-Sham"),
        "{text}"
    );
    assert!(!text.contains("Houthis"), "{text}");
    dir.cmd(&[
        "facets",
        "--field",
        "date",
        "--interval",
        "month",
        "--format",
        "csv",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("2025-08"));
    // The Baidoa bombing is in the corpus twice (a wire story and its
    // syndicated copy): two articles, one story, on its day.
    let out = dir
        .cmd(&[
            "facets",
            "car bomb",
            "--province",
            "Bay",
            "--field",
            "date",
            "--interval",
            "day",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let timeline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(timeline["total_articles"], 2, "{timeline}");
    assert_eq!(timeline["total_stories"], 1, "{timeline}");
    assert_eq!(timeline["counts"][0]["value"], "2025-05-17");
    assert_eq!(timeline["counts"][0]["stories"], 1);
}
