//! Query features beyond plain BM25: the fuzzy fallback, NEAR, column
//! picking, `similar`, ranking switches and deterministic ties, on the
//! sample corpus.

use predicates::str::contains;

use crate::util::indexed_sample;

fn ids(results: &serde_json::Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| format!("{}#{}", h["article_id"].as_str().unwrap(), h["passage"]))
        .collect()
}

#[test]
fn typos_in_rare_words_fall_back_to_fuzzy_matching_and_say_so() {
    let dir = indexed_sample();
    // "Sarmda" is in no passage: the fallback finds "Sarmada" and says so.
    let fuzzy = dir.search_json(&["Sarmda"]);
    assert!(fuzzy["total_hits"].as_u64().unwrap() > 0);
    assert_eq!(fuzzy["fuzzy"]["unknown"], serde_json::json!(["sarmda"]));
    assert_eq!(fuzzy["fuzzy"]["matched"], serde_json::json!(["sarmada"]));
    assert_eq!(fuzzy["fuzzy"]["exact_hits"], 0);
    for hit in fuzzy["hits"].as_array().unwrap() {
        let text = hit["text"].as_str().unwrap();
        let [a, b] = [0, 1].map(|i| hit["highlights"][0][i].as_u64().unwrap() as usize);
        assert_eq!(&text[a..b], "Sarmada");
    }
    let text = dir.cmd(&["search", "Sarmda"]).assert().success();
    let stdout = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(
        stdout.contains("No exact match for sarmda: showing near spellings (sarmada)"),
        "{stdout}"
    );
    // A query with good exact hits is never rewritten.
    let exact = dir.search_json(&["Sarmada"]);
    assert!(exact["fuzzy"].is_null());
    assert!(exact["total_hits"].as_u64().unwrap() >= 3);
    // --no-fuzzy keeps the empty answer.
    let off = dir.search_json(&["Sarmda", "--no-fuzzy"]);
    assert_eq!(off["total_hits"], 0);
    assert!(off["fuzzy"].is_null());
    // Words that exist are kept exact: no fuzzy "raid" widening to "said".
    let mixed = dir.search_json(&["raid Sarmda"]);
    for hit in mixed["hits"].as_array().unwrap() {
        let text = hit["text"].as_str().unwrap().to_lowercase();
        assert!(text.contains("raid"), "{text}");
    }
}

#[test]
fn near_matches_words_close_together_in_either_order() {
    let dir = indexed_sample();
    let near = dir.search_json(&["hideout NEAR/3 Sarmada", "--all-copies"]);
    let reversed = dir.search_json(&["Sarmada NEAR/3 hideout", "--all-copies"]);
    assert!(near["total_hits"].as_u64().unwrap() > 0);
    assert_eq!(ids(&near), ids(&reversed));
    // Both words in one passage but far apart: AND matches, NEAR/1 doesn't.
    let and = dir.search_json(&["raided Sarmada", "--all-copies"]);
    let tight = dir.search_json(&["raided NEAR/1 Sarmada", "--all-copies"]);
    assert!(tight["total_hits"].as_u64().unwrap() < and["total_hits"].as_u64().unwrap());
    dir.cmd(&["search", "raid NEAR/five Idlib"])
        .assert()
        .code(2)
        .stderr(contains("`NEAR/` wants a number"));
}

#[test]
fn fields_picks_the_columns_of_csv_and_ndjson() {
    let dir = indexed_sample();
    let csv = dir
        .cmd(&[
            "search",
            "raid",
            "--format",
            "csv",
            "--fields",
            "article_id,story,score",
            "--limit",
            "3",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&csv.get_output().stdout).to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "article_id,story,score");
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1].split(',').count(), 3);
    let nd = dir
        .cmd(&[
            "search",
            "raid",
            "--format",
            "ndjson",
            "--fields",
            "article_id,passage_provinces",
        ])
        .assert()
        .success();
    for line in String::from_utf8_lossy(&nd.get_output().stdout).lines() {
        let hit: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&String> = hit.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["article_id", "passage_provinces"]);
    }
    dir.cmd(&[
        "search",
        "raid",
        "--format",
        "csv",
        "--fields",
        "article,score",
    ])
    .assert()
    .code(2)
    .stderr(contains("unknown field \"article\""));
}

#[test]
fn similar_finds_the_same_event_first_and_skips_the_article_itself() {
    let dir = indexed_sample();
    let out = dir
        .cmd(&[
            "similar",
            "syria/atmeh-raid.txt",
            "--format",
            "json",
            "--limit",
            "5",
        ])
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let similar = r["similar"].as_array().unwrap();
    assert_eq!(similar.len(), 5);
    let ids: Vec<&str> = similar
        .iter()
        .map(|s| s["article_id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"syria/atmeh-raid.txt"));
    // Its follow-up and the other Idlib raids on Islamic State cells come
    // first; every hit shares Idlib with it.
    assert!(ids[..4].contains(&"syria/atmeh-followup.txt"), "{ids:?}");
    for s in similar {
        assert_eq!(
            s["shared_provinces"],
            serde_json::json!(["Syria/Idlib"]),
            "{s}"
        );
    }
    let scores: Vec<f64> = similar
        .iter()
        .map(|s| s["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    dir.cmd(&["similar", "no/such.txt"])
        .assert()
        .code(2)
        .stderr(contains("no article \"no/such.txt\""));
}

#[test]
fn similar_gives_the_same_list_every_time() {
    // tantivy's more-like-this picked among equally scored words in hash-map
    // order: these articles got 2 to 4 different lists in 4 calls.
    let dir = indexed_sample();
    let index = frontline::Index::open(dir.index()).unwrap();
    for id in [
        "nigeria/maiduguri-iswap.txt",
        "general/undated-statement.txt",
        "drc/goma-m23.txt",
    ] {
        let list = |_| -> Vec<String> {
            let r = index.similar(id, 10).unwrap();
            r.similar.into_iter().map(|s| s.article_id).collect()
        };
        let first = list(0);
        assert!(!first.is_empty(), "{id}");
        for run in 1..6 {
            assert_eq!(list(run), first, "{id}, call {run}");
        }
    }
}

#[test]
fn two_builds_of_one_corpus_rank_identically() {
    let (a, b) = (indexed_sample(), indexed_sample());
    for query in ["attack", "", "Islamic State raid", "drone"] {
        let args = ["--all-copies", "--per-article", "0", "--limit", "40"];
        let mut full = vec![query];
        full.extend_from_slice(&args);
        assert_eq!(
            ids(&a.search_json(&full)),
            ids(&b.search_json(&full)),
            "{query:?}"
        );
    }
}

#[test]
fn ranking_switches_change_scores_not_matches() {
    let dir = indexed_sample();
    let full = dir.search_json(&["Islamic State raid", "--exact", "--per-article", "0"]);
    let bm25 = dir.search_json(&[
        "Islamic State raid",
        "--exact",
        "--ranking",
        "bm25",
        "--per-article",
        "0",
    ]);
    assert_eq!(full["total_hits"], bm25["total_hits"]);
    let mut a = ids(&full);
    let mut b = ids(&bm25);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    dir.cmd(&["search", "raid", "--ranking", "title,magic"])
        .assert()
        .code(2)
        .stderr(contains("unknown ranking feature \"magic\""));
}

#[test]
fn totals_are_exact_below_the_count_limit_and_with_exact_total() {
    let dir = indexed_sample();
    let default = dir.search_json(&["\"security forces\""]);
    assert_eq!(default["total_hits_exact"], true, "{default:#}");
    let exact = dir.search_json(&["\"security forces\"", "--exact-total"]);
    assert_eq!(exact["total_hits"], default["total_hits"]);
    assert_eq!(exact["total_hits_exact"], true);
    assert_eq!(ids(&exact), ids(&default));
}

/// An excluded phrase removes exactly the passages that hold it, and never
/// trips tantivy 0.27's phrase-scorer assertion (tantivy#2811: `Exclude`
/// asks the phrase about a passage before its first match; this test runs
/// the debug binary, where that panicked).
#[test]
fn excluded_phrases_remove_exactly_their_passages() {
    let dir = indexed_sample();
    let total = |q: &str| {
        let v = dir.search_json(&[q, "--exact-total", "--limit", "1"]);
        v["total_hits"].as_u64().unwrap()
    };
    for (word, phrase) in [
        ("killed", "\"security forces\""),
        ("said", "\"Islamic State\""),
        ("forces", "\"Rapid Support Forces\""),
        ("forces", "\"the town of\""),
    ] {
        let all = total(word);
        let with = total(&format!("{word} {phrase}"));
        let without = total(&format!("{word} -{phrase}"));
        assert!(with > 0 && with < all, "{word} {phrase}: {with} of {all}");
        assert_eq!(without, all - with, "{word} -{phrase}");
    }
}
