//! Whole-corpus indexing benchmark: frontline's full path against bare
//! tantivy indexing the same passages with the same schema, in one run.
//!
//! ```text
//! cargo bench --bench index                      # 5,000 articles
//! FRONTLINE_BENCH_ARTICLES=50000 cargo bench --bench index
//! ```
//!
//! The corpus is synthetic and deterministic: paragraphs of the sample
//! corpus recombined (so the text carries real places, aliases and dates),
//! written as format A files, 100 per directory. Printed: absolute times,
//! throughput and the ratios `docs/benchmarks.md` records.

use std::path::Path;
use std::time::Instant;

use frontline::corpus::{self, WalkOptions};
use frontline::passage::{self, SplitOptions};
use frontline::tagging::{LearnedPlaces, Tagger};
use frontline::{BuildOptions, Gazetteer, Index};
use tantivy::doc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("FRONTLINE_BENCH_ARTICLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000);
    let tmp = tempfile::tempdir()?;
    let corpus_dir = tmp.path().join("corpus");
    let bytes = generate(Path::new("sample-corpus"), &corpus_dir, n)?;
    println!("corpus: {n} articles, {:.1} MiB", bytes as f64 / 1048576.0);

    // (1) frontline: walk, read, parse, tag, split, index, publish.
    let start = Instant::now();
    let mut opts = BuildOptions::new(&corpus_dir, tmp.path().join("frontline"));
    opts.full = true;
    let summary = Index::build(&opts)?;
    let t_frontline = start.elapsed().as_secs_f64();

    // (2) walk + read + parse + split only (what any engine needs first).
    let start = Instant::now();
    let (files, _) = corpus::walk(&corpus_dir, &WalkOptions::default())?;
    let mut articles = Vec::new();
    for f in &files {
        if let Ok(b) = corpus::read(f) {
            articles.extend(corpus::parse(f, &b).articles);
        }
    }
    let split: Vec<_> = articles
        .iter()
        .map(|a| passage::split(a, &SplitOptions::default()))
        .collect();
    let t_parse = start.elapsed().as_secs_f64();

    // (3) tagging alone, one thread, including the name automaton build.
    let start = Instant::now();
    let gazetteer = Gazetteer::load(None)?;
    let tagger = Tagger::with_learned(&gazetteer, &LearnedPlaces::default())?;
    let t_automaton = start.elapsed().as_secs_f64();
    let mut tagged = 0usize;
    for a in &articles {
        tagged += tagger.tag(a).provinces.len();
    }
    let t_tag = start.elapsed().as_secs_f64();

    // (4) bare tantivy: the same schema and analyzer, the same passages and
    // article fields, no tags; same memory budget, tantivy's own threads.
    let start = Instant::now();
    let (schema, f) = frontline::schema::build_schema();
    let dir = tmp.path().join("bare");
    std::fs::create_dir_all(&dir)?;
    let index = tantivy::Index::builder()
        .schema(schema)
        .settings(frontline::schema::index_settings())
        .create_in_dir(&dir)?;
    // Stock tantivy's analysis (its own stemmer): the baseline a tantivy
    // user would write; the tokens are the same as frontline's.
    index.tokenizers().register(
        frontline::schema::TEXT_TOKENIZER,
        frontline::schema::tantivy_text_analyzer(),
    );
    let mut writer: tantivy::IndexWriter = index.writer(opts.memory_budget)?;
    let mut passages = 0usize;
    for (a, ps) in articles.iter().zip(&split) {
        for p in ps {
            writer.add_document(doc!(
                f.article_id => a.id.0.as_str(),
                f.source_path => a.source_path.as_str(),
                f.title => a.title.as_str(),
                f.text => p.text.as_str(),
                f.paragraph => u64::from(p.paragraph),
            ))?;
            passages += 1;
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    let t_bare = start.elapsed().as_secs_f64();

    let mib = bytes as f64 / 1048576.0;
    println!(
        "passages: frontline {} / bare {passages}; {tagged} province tags",
        summary.total_passages
    );
    println!("{:<44} {:>8} {:>10}", "path", "seconds", "MiB/s");
    for (name, t) in [
        ("frontline index (walk+parse+tag+index)", t_frontline),
        ("parse + split only", t_parse),
        ("tagging only (1 thread, incl. automaton)", t_tag),
        ("  of which building the name automaton", t_automaton),
        ("bare tantivy (pre-split passages)", t_bare),
        (
            "bare tantivy + parse (same work, no tags)",
            t_bare + t_parse,
        ),
    ] {
        println!("{name:<44} {t:>8.2} {:>10.1}", mib / t);
    }
    println!(
        "ratios: frontline throughput / (parse + bare tantivy) = {:.2}; tagging CPU / frontline wall = {:.2}",
        (t_bare + t_parse) / t_frontline,
        t_tag / t_frontline
    );
    Ok(())
}

/// Writes `n` articles recombined from the sample corpus's paragraphs.
fn generate(sample: &Path, out: &Path, n: usize) -> Result<u64, Box<dyn std::error::Error>> {
    let (files, _) = corpus::walk(sample, &WalkOptions::default())?;
    let mut paragraphs = Vec::new();
    for f in &files {
        let b = corpus::read(f).map_err(|s| s.reason)?;
        for a in corpus::parse(f, &b).articles {
            paragraphs.extend(a.paragraphs.into_iter().map(|p| p.text));
        }
    }
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut total = 0u64;
    for i in 0..n {
        let dir = out.join(format!("{:04}", i / 100));
        std::fs::create_dir_all(&dir)?;
        let day = 1 + next(28);
        let month = 1 + next(12);
        let mut text = format!(" date 2025-{month:02}-{day:02} ");
        let count = 4 + next(7);
        for k in 0..count {
            if k > 0 {
                text.push_str("\n\n");
            }
            text.push_str(&paragraphs[next(paragraphs.len())]);
        }
        text.push('\n');
        total += text.len() as u64;
        std::fs::write(dir.join(format!("a{i:06}.txt")), text)?;
    }
    Ok(total)
}
