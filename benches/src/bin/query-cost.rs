//! Runs one query N times in-process, for instruction counting under
//! callgrind (`valgrind --tool=callgrind query-cost INDEX MODE QUERY N`:
//! the cost of one query is (count at N) − (count at 0), ÷ N; one
//! warm-up query always runs first), or times
//! the 30 text queries of `bench-index` with `--list`.
//!
//! Modes: `frontline` (default options), `r:<ranking>` (`exact(true)` and
//! that [`frontline::Ranking`]), `tantivy` (conjunctive `QueryParser` over
//! `text`, `Count` + `TopDocs(10)`, stored doc and snippet per hit, as
//! `bench-index` does).

use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::snippet::SnippetGenerator;
use tantivy::TantivyDocument;

fn run(
    index: &frontline::Index,
    searcher: &tantivy::Searcher,
    mode: &str,
    text: &str,
) -> Result<usize> {
    let t = index.tantivy();
    let f = index.fields();
    match mode {
        "frontline" => Ok(index.search(&frontline::Query::new(text))?.total_hits),
        m if m.starts_with("r:") => {
            let r: frontline::Ranking = m[2..].parse()?;
            let q = frontline::Query::new(text).exact(true).ranking(r);
            Ok(index.search(&q)?.total_hits)
        }
        "tantivy" => {
            let mut p = QueryParser::for_index(t, vec![f.text]);
            p.set_conjunction_by_default();
            let q = p.parse_query(text)?;
            let (count, top) =
                searcher.search(&q, &(Count, TopDocs::with_limit(10).order_by_score()))?;
            let sg = SnippetGenerator::create(searcher, &*q, f.text)?;
            for (_, addr) in top {
                let d: TantivyDocument = searcher.doc(addr)?;
                std::hint::black_box(sg.snippet_from_doc(&d).to_html());
            }
            Ok(count)
        }
        other => Err(anyhow!("unknown mode {other:?}")),
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let index_dir = args
        .first()
        .context("usage: query-cost INDEX MODE QUERY N | INDEX --list REPS")?;
    let index = frontline::Index::open(index_dir)?;
    let searcher = index.tantivy().reader()?.searcher();
    if args.get(1).map(String::as_str) == Some("--dump") {
        return dump(&index);
    }
    if args.get(1).map(String::as_str) == Some("--list") {
        let reps: usize = args.get(2).map_or(Ok(20), |s| s.parse())?;
        println!("query\thits\tfrontline_ms\ttantivy_ms\tratio");
        for text in frontline_bench::TEXT_QUERIES {
            let mut best = [f64::MAX; 2];
            let mut hits = 0;
            for _ in 0..reps {
                for (i, mode) in ["frontline", "tantivy"].into_iter().enumerate() {
                    let started = Instant::now();
                    let n = run(&index, &searcher, mode, text)?;
                    best[i] = best[i].min(started.elapsed().as_secs_f64() * 1000.0);
                    if i == 1 {
                        hits = n;
                    }
                }
            }
            println!(
                "{text}\t{hits}\t{:.3}\t{:.3}\t{:.2}",
                best[0],
                best[1],
                best[0] / best[1]
            );
        }
        return Ok(());
    }
    let mode = args.get(1).context("missing MODE")?;
    let text = args.get(2).context("missing QUERY")?;
    let n: usize = args.get(3).map_or(Ok(1), |s| s.parse())?;
    // One warm-up query: lazy loads (the gazetteer, mmaps) are not per-query.
    for _ in 0..=n {
        std::hint::black_box(run(&index, &searcher, mode, text)?);
    }
    Ok(())
}

/// Prints the results of many query variants as JSON lines (timings
/// zeroed), to diff two builds' answers.
fn dump(index: &frontline::Index) -> Result<()> {
    let extra = [
        "attack killed",
        "fighters",
        "Islamic State raid",
        "Daesh ambush",
        "attack -killed",
        "title:attack",
        "raid NEAR/3 village",
        "civilians killed airstrike",
    ];
    let texts = frontline_bench::TEXT_QUERIES.iter().chain(extra.iter());
    for text in texts {
        let base = frontline::Query::new(*text);
        let variants = [
            base.clone(),
            base.clone().limit(30).offset(7),
            base.clone().exact(true).ranking(frontline::Ranking::BM25),
            base.clone().all_copies(true).per_article(0),
            base.clone().province("Idlib"),
            base.clone()
                .group("Islamic State")
                .from(chrono::NaiveDate::from_ymd_opt(2021, 1, 1).context("date")?),
        ];
        for (i, q) in variants.iter().enumerate() {
            match index.search(q) {
                Ok(mut r) => {
                    r.took_ms = 0.0;
                    println!("{text}#{i}\t{}", serde_json::to_string(&r)?);
                }
                Err(e) => println!("{text}#{i}\terror {e}"),
            }
        }
    }
    Ok(())
}
