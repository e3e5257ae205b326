//! Search latency on a ≥100k-passage index: frontline's search (with and
//! without filters, collapsed and all copies), facet counts, and plain
//! tantivy `TopDocs` on the same tantivy index.
//!
//! ```text
//! cargo bench -p frontline-bench --bench search
//! FL_BENCH_ARTICLES=15000 FL_BENCH_DIR=/tmp/fl-search-bench cargo bench -p frontline-bench --bench search
//! ```
//!
//! The corpus and index are built once and cached under
//! `$FL_BENCH_DIR/<articles>/` (default `/tmp/fl-search-bench`).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use frontline::{BuildOptions, FacetField, Index, Interval, Query};
use frontline_bench::gen::{self, Generator, World};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;

fn cached_index() -> Index {
    let n: u64 = std::env::var("FL_BENCH_ARTICLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15_000);
    let root = std::env::var("FL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/tmp/fl-search-bench"))
        .join(n.to_string());
    let corpus = root.join("corpus");
    let index = root.join("index");
    if !corpus.join(gen::STATE_FILE).exists() {
        let _ = std::fs::remove_dir_all(&corpus);
        let world = World::load_default().expect("gazetteer files");
        let g = Generator::new(world, gen::DEFAULT_SEED);
        gen::generate(&g, &corpus, n).expect("corpus written");
    }
    // An index cached by an older build (another schema version) is rebuilt.
    if index.join("CURRENT").exists() && Index::open(&index).is_err() {
        let _ = std::fs::remove_dir_all(&index);
    }
    if !index.join("CURRENT").exists() {
        let mut opts = BuildOptions::new(&corpus, &index);
        opts.full = true;
        let summary = Index::build(&opts).expect("index built");
        eprintln!(
            "built {}: {} articles, {} passages",
            index.display(),
            summary.total_articles,
            summary.total_passages
        );
    }
    Index::open(&index).expect("index opens")
}

fn bench(c: &mut Criterion) {
    let index = cached_index();
    let stats = index.stats().expect("stats");
    eprintln!(
        "index: {} articles, {} passages",
        stats.articles, stats.passages
    );
    let world = World::load_default().expect("gazetteer files");
    let province = world.countries[0].provinces[0].name.clone();
    let group = world.groups[world.countries[0].groups[0]].name.clone();
    let from = chrono::NaiveDate::from_ymd_opt(2022, 1, 1).expect("date");
    let to = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");

    let mut g = c.benchmark_group("search");
    g.sample_size(25)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));

    let plain = Query::new("attack killed").limit(10);
    g.bench_function("frontline/no_filters", |b| {
        b.iter(|| index.search(&plain).expect("search"))
    });
    let filtered = Query::new("attack")
        .province(province.clone())
        .group(group.clone())
        .from(from)
        .to(to)
        .limit(10);
    g.bench_function("frontline/province+group+dates", |b| {
        b.iter(|| index.search(&filtered).expect("search"))
    });
    let collapsed = Query::new("fighters").limit(10);
    let copies = Query::new("fighters").limit(10).all_copies(true);
    g.bench_function("frontline/collapsed", |b| {
        b.iter(|| index.search(&collapsed).expect("search"))
    });
    g.bench_function("frontline/all_copies", |b| {
        b.iter(|| index.search(&copies).expect("search"))
    });
    let facet_q = Query::new("attack");
    g.bench_function("frontline/facets_province", |b| {
        b.iter(|| {
            index
                .facets(&facet_q, FacetField::Province, Interval::Month, Some(20))
                .expect("facets")
        })
    });
    g.bench_function("frontline/facets_date_month", |b| {
        b.iter(|| {
            index
                .facets(&facet_q, FacetField::Date, Interval::Month, None)
                .expect("facets")
        })
    });

    // Plain tantivy on the very same index: parse + Count + TopDocs by score,
    // no filters, no stored fields, no highlighting.
    let tindex = index.tantivy();
    let fields = *index.fields();
    let reader = tindex.reader().expect("reader");
    let mut parser = QueryParser::for_index(tindex, vec![fields.text]);
    parser.set_conjunction_by_default();
    g.bench_function("tantivy/topdocs_no_filters", |b| {
        b.iter(|| {
            let q = parser.parse_query("attack killed").expect("parse");
            reader
                .searcher()
                .search(&q, &(Count, TopDocs::with_limit(10).order_by_score()))
                .expect("search")
        })
    });
    g.bench_function("tantivy/topdocs_with_docs", |b| {
        b.iter(|| {
            let q = parser.parse_query("attack killed").expect("parse");
            let searcher = reader.searcher();
            let top = searcher
                .search(&q, &TopDocs::with_limit(10).order_by_score())
                .expect("search");
            for (_, addr) in top {
                let _doc: tantivy::TantivyDocument = searcher.doc(addr).expect("doc");
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
