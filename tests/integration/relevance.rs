//! Ranking quality: nDCG@10 over the graded judgments of
//! `tests/data/relevance.json` (38 analyst queries on the sample corpus,
//! judged by the corpus writer before the engine ran on them).

use std::collections::HashMap;

use crate::util::{indexed_sample, Dir};

/// Mean nDCG@10 reached when this test was written (docs/benchmarks.md);
/// a ranking change that lowers it fails here.
const MIN_MEAN_NDCG: f64 = 0.64;

fn mean_ndcg(dir: &Dir, extra: &[&str]) -> f64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/relevance.json");
    let queries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut total = 0.0;
    for q in &queries {
        let mut args = vec![
            q["query"].as_str().unwrap().to_string(),
            "--limit".into(),
            "10".into(),
        ];
        for (key, flag) in [
            ("province", "--province"),
            ("group", "--group"),
            ("from", "--from"),
            ("to", "--to"),
        ] {
            if let Some(v) = q[key].as_str() {
                args.push(flag.into());
                args.push(v.into());
            }
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let results = dir.search_json(&args);
        let grades: HashMap<(String, u64), f64> = q["judgments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                let key = (
                    j["article_id"].as_str().unwrap().to_string(),
                    j["paragraph"].as_u64().unwrap(),
                );
                (key, j["grade"].as_f64().unwrap())
            })
            .collect();
        let gain = |g: f64, rank: usize| (2f64.powf(g) - 1.0) / ((rank + 2) as f64).log2();
        let dcg: f64 = results["hits"]
            .as_array()
            .unwrap()
            .iter()
            .take(10)
            .enumerate()
            .map(|(rank, h)| {
                let key = (
                    h["article_id"].as_str().unwrap().to_string(),
                    h["paragraph"].as_u64().unwrap(),
                );
                gain(grades.get(&key).copied().unwrap_or(0.0), rank)
            })
            .sum();
        let mut ideal: Vec<f64> = grades.values().copied().collect();
        ideal.sort_by(|a, b| b.total_cmp(a));
        let idcg: f64 = ideal
            .iter()
            .take(10)
            .enumerate()
            .map(|(r, g)| gain(*g, r))
            .sum();
        total += if idcg > 0.0 { dcg / idcg } else { 1.0 };
    }
    total / queries.len() as f64
}

/// Mean nDCG@10 of each ranking configuration, from plain BM25 up, so the
/// gain of each feature shows (`cargo test relevance -- --nocapture`
/// prints the table recorded in docs/benchmarks.md).
#[test]
fn ranking_keeps_its_ndcg_and_each_feature_is_measured() {
    let dir = indexed_sample();
    let configs: [(&str, &[&str]); 7] = [
        ("plain BM25", &["--ranking", "bm25", "--exact"]),
        ("+ title", &["--ranking", "title", "--exact"]),
        ("+ facets", &["--ranking", "title,facets", "--exact"]),
        ("+ proximity", &["--exact"]),
        ("+ names (default)", &[]),
        ("default without proximity", &["--ranking", "title,facets"]),
        ("BM25 + names only", &["--ranking", "bm25"]),
    ];
    let mut scores = HashMap::new();
    for (name, args) in configs {
        let ndcg = mean_ndcg(&dir, args);
        println!("{name:<28} {ndcg:.3}");
        scores.insert(name, ndcg);
    }
    let default = scores["+ names (default)"];
    assert!(
        default >= MIN_MEAN_NDCG,
        "mean nDCG@10 {default:.3} < {MIN_MEAN_NDCG}"
    );
    assert!(
        default > scores["+ proximity"],
        "name expansion must help: {scores:?}"
    );
    assert!(
        default > scores["plain BM25"],
        "the ranking features must beat plain BM25: {scores:?}"
    );
}
