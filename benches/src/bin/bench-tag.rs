//! Tagging alone: the cost of building the name table and of tagging each
//! article, on one thread, so that a change to the tagger can be measured
//! without tantivy's indexing threads in the way.
//!
//! ```text
//! bench-tag --corpus /tmp/fl-10k                 # every article, 3 passes
//! bench-tag --corpus /tmp/fl-10k --articles 1000 --passes 1
//! ```
//!
//! Times are CPU seconds of this process (`/proc/self/stat`), which a shared
//! machine disturbs less than wall time. For counts independent of the
//! machine's load, run it under `valgrind --tool=cachegrind --cache-sim=no`
//! with two article counts and take the difference ÷ the extra articles
//! (the table build and the corpus parse cancel out).
//!
//! `--dump FILE` writes each article's tags (with their evidence) and the
//! places it teaches as one JSON line, so that a change to the tagger can be
//! checked to leave every tag as it was (`cmp` two dumps).

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use frontline::corpus::{self, WalkOptions};
use frontline::tagging::{LearnedPlaces, Tagger};
use frontline::Gazetteer;
use frontline_bench::cpu_secs;

/// Tagging alone: name table build, then tagging and place learning per article.
#[derive(Parser, Debug)]
struct Args {
    /// Corpus directory (from gen-corpus, or any corpus frontline reads).
    #[arg(long)]
    corpus: PathBuf,
    /// Tag only the first N articles (in walk order).
    #[arg(long)]
    articles: Option<usize>,
    /// Timed passes over the articles.
    #[arg(long, default_value_t = 3)]
    passes: usize,
    /// Also write every article's tags and learned places, one JSON line
    /// per article, to this file (untimed, before the passes).
    #[arg(long)]
    dump: Option<PathBuf>,
}

fn cpu() -> f64 {
    cpu_secs().unwrap_or(0.0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (files, _) = corpus::walk(&args.corpus, &WalkOptions::default())
        .with_context(|| format!("cannot walk {}", args.corpus.display()))?;
    let mut articles = Vec::new();
    for f in &files {
        if let Ok(bytes) = corpus::read(f) {
            articles.extend(corpus::parse(f, &bytes).articles);
        }
    }
    articles.truncate(args.articles.unwrap_or(usize::MAX));
    let paragraphs: usize = articles.iter().map(|a| a.paragraphs.len()).sum();
    let bytes: usize = articles
        .iter()
        .flat_map(|a| &a.paragraphs)
        .map(|p| p.text.len())
        .sum();
    println!(
        "{} articles, {paragraphs} paragraphs, {bytes} bytes of paragraph text",
        articles.len()
    );

    let (cpu0, wall0) = (cpu(), Instant::now());
    let gazetteer = Gazetteer::load(None)?;
    let tagger = Tagger::with_learned(&gazetteer, &LearnedPlaces::default())?;
    println!(
        "name table build: {:.2} s CPU, {:.2} s wall",
        cpu() - cpu0,
        wall0.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.dump {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::new(file);
        for a in &articles {
            let learned: Vec<_> = Tagger::learn_places(&gazetteer, a)
                .into_iter()
                .map(|l| (l.name, l.province.to_string(), l.article.to_string()))
                .collect();
            let line = serde_json::json!({
                "article": a.id.to_string(),
                "tags": tagger.tag(a),
                "learned": learned,
            });
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    let n = articles.len().max(1) as f64;
    for pass in 1..=args.passes {
        let (cpu0, wall0) = (cpu(), Instant::now());
        let provinces: usize = articles.iter().map(|a| tagger.tag(a).provinces.len()).sum();
        let tag_cpu = cpu() - cpu0;
        let tag_wall = wall0.elapsed().as_secs_f64();
        // What indexing calls: the same tags as indexes, without strings.
        let cpu_ids = cpu();
        let id_provinces: usize = articles
            .iter()
            .map(|a| tagger.tag_ids(a).province_ids().len())
            .sum();
        let ids_cpu = cpu() - cpu_ids;
        anyhow::ensure!(
            id_provinces == provinces,
            "tag_ids found {id_provinces} province tags, tag {provinces}"
        );
        let cpu1 = cpu();
        let learned: usize = articles
            .iter()
            .map(|a| Tagger::learn_places(&gazetteer, a).len())
            .sum();
        let learn_cpu = cpu() - cpu1;
        println!(
            "pass {pass}: tag {} articles {:.2} s CPU ({:.2} wall), {:.1} µs/article \
             (as indexes, for indexing: {:.1} µs/article); \
             learn places {:.2} s CPU, {:.1} µs/article; {provinces} province tags, {learned} places learned",
            articles.len(),
            tag_cpu,
            tag_wall,
            tag_cpu * 1e6 / n,
            ids_cpu * 1e6 / n,
            learn_cpu,
            learn_cpu * 1e6 / n,
        );
    }
    Ok(())
}
