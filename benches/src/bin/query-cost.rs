//! Query cost probe: frontline against bare tantivy on the 50 queries of
//! the bench set ([`frontline_bench::queries::query_set`]: the 30 text
//! queries and 20 filtered ones), on the same (frontline) index.
//!
//! ```text
//! query-cost INDEX MODE QUERY N   # QUERY run N times after one warm-up
//!                                 # (also used for the 4 plain multi-word
//!                                 # queries after the 50, `@50`-`@53`)
//! query-cost INDEX --cost N       # the 50 queries, N runs each, both modes
//! query-cost INDEX --list REPS    # wall clock, interleaved, both modes
//! query-cost INDEX --dump         # query variants as JSON, to diff builds
//! ```
//!
//! QUERY is query text or `@i`, the i-th query of the set (0-based, with its
//! filters). Modes: `frontline` (default options), `exact` (default
//! options and `exact_total(true)`: every match counted), `cap:<n>`
//! (default options, matches counted exactly up to n), `r:<ranking>`
//! (`exact(true)` and that [`frontline::Ranking`]), `tantivy`
//! (conjunctive `QueryParser` over `text`, the same filters, `Count` +
//! `TopDocs(10)`, stored doc and snippet per hit, as `bench-index` does).
//! Since schema 3 an article's facets are on its first passage only, and
//! bare tantivy has no join from a passage to its article: its filters
//! here match only first passages and passages that name the value
//! themselves, fewer passages than frontline's, so its *filtered* figures
//! are not the same query. Compare filtered queries with `bench-index`
//! (bare tantivy on its own index, facets on every passage), or against an
//! earlier frontline on the same corpus.
//! With `QC_MODE=<mode>` in the environment, `--cost`, `--list` and
//! `--dump` run that frontline mode in place of `frontline` (e.g.
//! `QC_MODE=exact` for the answers and costs with exact totals).
//!
//! `--cost` is meant for `valgrind --tool=callgrind
//! --dump-before='*cost_marker*'`: before each (query, mode) it calls
//! `cost_marker`, so each dump holds the instructions of N runs of one
//! query in one mode (each query is run once in both modes first, as a
//! warm-up); the order is printed on stdout.

use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use frontline_bench::queries::{bare_search, query_set, BenchQuery};

/// Plain multi-word queries (proximity, name expansion), measured beside
/// the 50 of the set but not counted in its percentiles.
const EXTRA: [&str; 4] = [
    "attack killed",
    "civilians killed airstrike",
    "Islamic State raid",
    "Daesh ambush",
];

fn extra_queries() -> Vec<BenchQuery> {
    EXTRA
        .iter()
        .map(|text| BenchQuery {
            text: text.to_string(),
            province: None,
            group: None,
            from: None,
            to: None,
        })
        .collect()
}

fn run(
    index: &frontline::Index,
    searcher: &tantivy::Searcher,
    mode: &str,
    b: &BenchQuery,
) -> Result<usize> {
    match mode {
        "tantivy" => bare_search(index.tantivy(), searcher, index.fields(), b),
        m => Ok(index
            .search(&with_mode(b.frontline(), m)?)?
            .total_hits
            .value()),
    }
}

/// `q` with the options of a frontline mode (see the module docs).
fn with_mode(q: frontline::Query, mode: &str) -> Result<frontline::Query> {
    match mode {
        "frontline" => Ok(q),
        "exact" => Ok(q.exact_total(true)),
        m if m.starts_with("cap:") => Ok(q.count_up_to(m[4..].parse()?)),
        m if m.starts_with("r:") => {
            let r: frontline::Ranking = m[2..].parse()?;
            Ok(q.exact(true).ranking(r))
        }
        other => Err(anyhow!("unknown mode {other:?}")),
    }
}

/// Callgrind dumps its counters on entry (`--dump-before`).
#[inline(never)]
fn cost_marker(label: &str) {
    std::hint::black_box(label);
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let index_dir = args
        .first()
        .context("usage: query-cost INDEX MODE QUERY N | INDEX --list REPS | INDEX --cost N")?;
    let index = frontline::Index::open(index_dir)?;
    let searcher = index.tantivy().reader()?.searcher();
    let set = query_set(index.gazetteer()?)?;
    let base = set.len();
    let set: Vec<BenchQuery> = set.into_iter().chain(extra_queries()).collect();
    let frontline_mode = std::env::var("QC_MODE").unwrap_or_else(|_| "frontline".into());
    let modes = [frontline_mode.as_str(), "tantivy"];
    match args.get(1).map(String::as_str) {
        Some("--dump") => return dump(&index, &set, modes[0]),
        Some("--cost") => {
            let n: usize = args.get(2).map_or(Ok(5), |s| s.parse())?;
            for b in &set {
                for mode in modes {
                    run(&index, &searcher, mode, b)?;
                }
            }
            for (i, b) in set.iter().enumerate() {
                for mode in modes {
                    cost_marker(mode);
                    for _ in 0..n {
                        std::hint::black_box(run(&index, &searcher, mode, b)?);
                    }
                    println!("{i}\t{mode}\t{n}\t{}", b.label());
                }
            }
            cost_marker("end");
            return Ok(());
        }
        Some("--list") => {
            let reps: usize = args.get(2).map_or(Ok(20), |s| s.parse())?;
            return list(&index, &searcher, &set, base, reps, modes);
        }
        _ => {}
    }
    let mode = args.get(1).context("missing MODE")?;
    let text = args.get(2).context("missing QUERY")?;
    let n: usize = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let b = match text.strip_prefix('@') {
        Some(i) => set
            .get(i.parse::<usize>()?)
            .cloned()
            .context("no such query in the set")?,
        None => BenchQuery {
            text: text.clone(),
            province: None,
            group: None,
            from: None,
            to: None,
        },
    };
    // One warm-up query: lazy loads (the gazetteer, mmaps) are not per-query.
    for _ in 0..=n {
        std::hint::black_box(run(&index, &searcher, mode, &b)?);
    }
    Ok(())
}

/// Wall clock of the 50 queries, frontline and tantivy interleaved (each
/// query in both modes, then the next), one warm-up pass, then REPS
/// passes. Per query: the minimum of each mode and their ratio; overall:
/// p50/p95/p99 of all samples per mode, as `bench-index` reports them
/// (the 50 of the set only, not the extra queries after them).
fn list(
    index: &frontline::Index,
    searcher: &tantivy::Searcher,
    set: &[BenchQuery],
    base: usize,
    reps: usize,
    modes: [&str; 2],
) -> Result<()> {
    let mut samples: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; set.len()];
    let mut hits = vec![0; set.len()];
    for pass in 0..=reps {
        for (i, b) in set.iter().enumerate() {
            for (k, mode) in modes.into_iter().enumerate() {
                let started = Instant::now();
                let n = run(index, searcher, mode, b)?;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                if pass > 0 {
                    samples[i][k].push(ms);
                }
                if k == 1 {
                    hits[i] = n;
                }
            }
        }
    }
    println!("#\tquery\thits\tfrontline_ms\ttantivy_ms\tratio");
    let mut all: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut filtered: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for (i, b) in set.iter().enumerate() {
        let min = |k: usize| samples[i][k].iter().copied().fold(f64::MAX, f64::min);
        println!(
            "{i}\t{}\t{}\t{:.3}\t{:.3}\t{:.2}",
            b.label(),
            hits[i],
            min(0),
            min(1),
            min(0) / min(1)
        );
        if i >= base {
            continue;
        }
        for k in 0..2 {
            all[k].extend(&samples[i][k]);
            if b.is_filtered() {
                filtered[k].extend(&samples[i][k]);
            }
        }
    }
    let mut p = [[0.0; 4]; 2];
    for k in 0..2 {
        all[k].sort_by(f64::total_cmp);
        filtered[k].sort_by(f64::total_cmp);
        p[k] = [
            percentile(&all[k], 0.5),
            percentile(&all[k], 0.95),
            percentile(&all[k], 0.99),
            percentile(&filtered[k], 0.5),
        ];
        println!(
            "# {}: p50 {:.3} p95 {:.3} p99 {:.3} filtered p50 {:.3} ms",
            modes[k], p[k][0], p[k][1], p[k][2], p[k][3]
        );
    }
    println!(
        "# (filtered: tantivy's filters see only the passages that carry the facet, not the same query; see benches/src/bin/query-cost.rs)"
    );
    println!(
        "# frontline / tantivy: p50 {:.2} p95 {:.2} p99 {:.2} filtered p50 {:.2}",
        p[0][0] / p[1][0],
        p[0][1] / p[1][1],
        p[0][2] / p[1][2],
        p[0][3] / p[1][3]
    );
    Ok(())
}

/// Prints the results of many query variants as JSON lines (timings
/// zeroed), to diff two builds' answers.
fn dump(index: &frontline::Index, set: &[BenchQuery], mode: &str) -> Result<()> {
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
        for (i, q) in variants.into_iter().enumerate() {
            match index.search(&with_mode(q, mode)?) {
                Ok(mut r) => {
                    r.took_ms = 0.0;
                    println!("{text}#{i}\t{}", serde_json::to_string(&r)?);
                }
                Err(e) => println!("{text}#{i}\terror {e}"),
            }
        }
    }
    for (i, b) in set.iter().enumerate().take(50) {
        let mut r = index.search(&with_mode(b.frontline(), mode)?)?;
        r.took_ms = 0.0;
        println!("@{i}\t{}", serde_json::to_string(&r)?);
    }
    Ok(())
}
