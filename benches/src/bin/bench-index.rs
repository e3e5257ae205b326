//! Indexing and query benchmark: frontline against bare tantivy and SQLite
//! FTS5 on the same corpus, in one run.
//!
//! ```text
//! bench-index --corpus /tmp/fl-10k --sqlite --json /tmp/fl-10k.json
//! bench-index --corpus /tmp/fl-100k --incremental 1
//! bench-index --corpus /tmp/fl-10k --share-rounds 8
//! ```
//!
//! Each engine indexes in a child process (this binary with `--only`), so
//! its peak RSS (`VmHWM`) is its own. The bare engines' input (walked,
//! parsed, split and tagged by frontline, untimed) is prepared once by a
//! `prepare` child into a file in the work directory, which the tantivy and
//! FTS5 children stream inside their timed section: nothing holds the whole
//! corpus in memory, so 1M articles fit. Two more children open the
//! frontline and tantivy indexes for search and report their resident
//! memory. Queries then run in this process against the finished indexes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use frontline::corpus::{self, WalkOptions};
use frontline::passage::{self, SplitOptions};
use frontline::tagging::{ArticleTags, LearnedPlaces, Tagger};
use frontline::{Article, BuildOptions, Gazetteer, Index};
use serde_json::{json, Value};
use tantivy::schema::Facet;
use tantivy::TantivyDocument;

use frontline_bench::gen::World;
use frontline_bench::prepared::{PassageReader, PassageWriter, Prepared};
use frontline_bench::queries::{self, BenchQuery};
use frontline_bench::{cpu_secs, dir_size, peak_rss_bytes, rss_now, RssSampler};

// The `frontline` binary's allocator, here for every engine's child alike,
// so the ratios compare engines and not allocators.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// frontline vs bare tantivy vs SQLite FTS5: indexing and queries.
#[derive(Parser, Debug)]
struct Args {
    /// Corpus directory (from gen-corpus).
    #[arg(long)]
    corpus: PathBuf,
    /// Also index and query with SQLite FTS5.
    #[arg(long)]
    sqlite: bool,
    /// Index each engine this many times; the fastest run is reported.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Timed passes over the 50 queries (after one warm-up pass).
    #[arg(long, default_value_t = 20)]
    passes: usize,
    /// Timed passes for FTS5 only (default: --passes; 0 skips FTS5 queries,
    /// warm-up included). FTS5 is 10-50× slower per query than the others.
    #[arg(long)]
    fts5_passes: Option<usize>,
    /// Writer memory budget in MiB (frontline and tantivy).
    #[arg(long, default_value_t = 512)]
    memory_mib: usize,
    /// Indexing threads (frontline and tantivy; default: available cores).
    #[arg(long)]
    threads: Option<usize>,
    /// After the full build, rewrite P % of the files and time an
    /// incremental frontline build. Modifies the corpus in place!
    #[arg(long)]
    incremental: Option<f64>,
    /// Working directory for the indexes (default: a fresh one in /tmp).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep the bare engines' prepared passages (`prepared.bin` in the work
    /// directory) after the run, e.g. to index them again with
    /// `--only sqlite --work DIR` later.
    #[arg(long)]
    keep_prepared: bool,
    /// Reuse `prepared.bin` (and its `prepared.json` report) left in the
    /// work directory by an earlier run with `--keep-prepared` on the same
    /// corpus, instead of preparing again. Only valid if the tagger's output
    /// has not changed since.
    #[arg(long)]
    reuse_prepared: bool,
    /// Skip the query benchmark.
    #[arg(long)]
    no_queries: bool,
    /// Also index with frontline's tagging switched off
    /// (`BuildOptions::tagging = false`), to report the share of indexing
    /// time that tagging costs on the same corpus.
    #[arg(long)]
    untagged: bool,
    /// Only measure tagging's share of indexing CPU: build the corpus with
    /// and without tagging, alternating, this many rounds each, and print
    /// the mean, median and spread of both builds' CPU and wall time and
    /// the share, (tagged - untagged) / tagged, of their means. Alternating
    /// keeps a shared machine's drift out of the ratio.
    #[arg(long)]
    share_rounds: Option<usize>,
    /// Internal: index with one engine only and print a JSON line.
    #[arg(long, hide = true)]
    only: Option<String>,
}

fn threads(args: &Args) -> usize {
    args.threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .clamp(1, 8)
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(engine) = args.only.clone() {
        let work = args.work.clone().context("--only needs --work")?;
        let result = match engine.as_str() {
            "frontline" => child_frontline(&args, &work, true)?,
            "frontline-untagged" => child_frontline(&args, &work, false)?,
            "prepare" => child_prepare(&args, &work)?,
            "tantivy" | "sqlite" => child_prepared(&args, &work, &engine)?,
            "open-frontline" | "open-tantivy" => child_open(&work, &engine)?,
            "fts5-queries" => child_fts5_queries(&args, &work)?,
            other => bail!("unknown engine {other}"),
        };
        println!("RESULT {result}");
        return Ok(());
    }
    parent(args)
}

// ---------------------------------------------------------------- children

fn child_frontline(args: &Args, work: &Path, tagging: bool) -> Result<Value> {
    let dir = work.join(if tagging {
        "frontline"
    } else {
        "frontline-untagged"
    });
    let _ = std::fs::remove_dir_all(&dir);
    let mut opts = BuildOptions::new(&args.corpus, &dir);
    opts.full = true;
    opts.tagging = tagging;
    opts.memory_budget = args.memory_mib << 20;
    opts.threads = Some(threads(args));
    let sampler = RssSampler::start();
    let cpu_before = cpu_secs();
    let start = Instant::now();
    let summary = Index::build(&opts)?;
    let secs = start.elapsed().as_secs_f64();
    let (peak_anon, peak_file) = sampler.finish();
    Ok(json!({
        "secs": secs,
        "cpu_secs": cpu_secs().zip(cpu_before).map(|(a, b)| a - b),
        "articles": summary.total_articles,
        "passages": summary.total_passages,
        "skipped": summary.skipped.len(),
        "peak_rss": peak_rss_bytes(),
        "peak_rss_anon": peak_anon,
        "peak_rss_file": peak_file,
        "size": dir_size(&dir),
    }))
}

/// Where the `prepare` child writes the prepared passages.
fn prepared_path(work: &Path) -> PathBuf {
    work.join("prepared.bin")
}

/// Builds the prepared passages of one article from its passages and tags.
fn prepared_passages(
    a: &Article,
    ps: Vec<frontline::passage::Passage>,
    t: &ArticleTags,
    mut emit: impl FnMut(&Prepared) -> Result<()>,
) -> Result<()> {
    let published = a.published.map(|d| d.timestamp());
    let event_date = t
        .event_date
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
        .or(published);
    let provinces: Vec<Facet> = t.provinces.iter().map(|p| p.facet()).collect();
    let mentions: Vec<Facet> = t.mentions.iter().map(|p| p.facet()).collect();
    let countries: Vec<Facet> = t
        .countries
        .iter()
        .map(|c| Facet::from_path([c.as_str()]))
        .collect();
    let groups: Vec<Facet> = t
        .groups
        .iter()
        .map(|g| Facet::from_path([g.as_str()]))
        .collect();
    for p in ps {
        let own = t.passage_tags(p.paragraph, p.last_paragraph);
        emit(&Prepared {
            article_id: a.id.0.clone(),
            article_key: frontline::schema::article_key(&a.id.0),
            source_path: a.source_path.clone(),
            title: a.title.clone(),
            text: p.text,
            paragraph: u64::from(p.paragraph),
            ordinal: u64::from(p.ordinal),
            published,
            event_date,
            outlet: a.outlet.clone(),
            provinces: provinces.clone(),
            mentions: mentions.clone(),
            countries: countries.clone(),
            groups: groups.clone(),
            passage_provinces: own.provinces.iter().map(|p| p.facet()).collect(),
            passage_groups: own
                .groups
                .iter()
                .map(|g| Facet::from_path([g.as_str()]))
                .collect(),
        })?;
    }
    Ok(())
}

/// The bare engines' preparation, untimed for indexing but timed on its
/// own: walk + read + parse + split (one thread) and tagging (one thread,
/// automaton build separate), one file at a time; every passage is written
/// to `prepared.bin` in the work directory (`write_secs`: encoding and
/// writing it), which the tantivy and FTS5 children then stream.
fn child_prepare(args: &Args, work: &Path) -> Result<Value> {
    let total = Instant::now();
    let path = prepared_path(work);
    let mut out = PassageWriter::create(&path)?;

    let start = Instant::now();
    let (files, _) = corpus::walk(&args.corpus, &WalkOptions::default())?;
    let mut parse = start.elapsed();

    let start = Instant::now();
    let gazetteer = Gazetteer::load(None)?;
    let tagger = Tagger::with_learned(&gazetteer, &LearnedPlaces::default())?;
    let automaton = start.elapsed();

    let split_opts = SplitOptions::default();
    let mut tag = Duration::ZERO;
    let mut articles = 0usize;
    for f in &files {
        let start = Instant::now();
        let Ok(bytes) = corpus::read(f) else {
            continue;
        };
        let parsed = corpus::parse(f, &bytes).articles;
        let split: Vec<_> = parsed
            .iter()
            .map(|a| passage::split(a, &split_opts))
            .collect();
        parse += start.elapsed();
        let start = Instant::now();
        let tags: Vec<ArticleTags> = parsed.iter().map(|a| tagger.tag(a)).collect();
        tag += start.elapsed();
        articles += parsed.len();
        for ((a, ps), t) in parsed.iter().zip(split).zip(&tags) {
            prepared_passages(a, ps, t, |p| out.write(p))?;
        }
    }
    let passages = out.finish()?;
    let total = total.elapsed();
    Ok(json!({
        "articles": articles,
        "passages": passages,
        "parse_secs": parse.as_secs_f64(),
        "automaton_secs": automaton.as_secs_f64(),
        "tag_secs": tag.as_secs_f64(),
        "write_secs": total.saturating_sub(parse + automaton + tag).as_secs_f64(),
        "secs": total.as_secs_f64(),
        "peak_rss": peak_rss_bytes(),
        "size": dir_size_file(&path),
    }))
}

/// Indexes the prepared passages with bare tantivy or FTS5. The timed
/// section streams `prepared.bin` (decoding included).
fn child_prepared(args: &Args, work: &Path, engine: &str) -> Result<Value> {
    let prepared = prepared_path(work);
    let rss_before = peak_rss_bytes();
    let sampler = RssSampler::start();
    let cpu_before = cpu_secs();
    let (secs, size, passages) = if engine == "tantivy" {
        let dir = work.join("tantivy");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let start = Instant::now();
        let n = index_tantivy(&prepared, &dir, args.memory_mib << 20, threads(args))?;
        (start.elapsed().as_secs_f64(), dir_size(&dir), n)
    } else {
        let path = work.join("fts5.sqlite");
        let _ = std::fs::remove_file(&path);
        let start = Instant::now();
        let n = index_sqlite(&prepared, &path)?;
        (start.elapsed().as_secs_f64(), dir_size_file(&path), n)
    };
    let (peak_anon, peak_file) = sampler.finish();
    Ok(json!({
        "secs": secs,
        "cpu_secs": cpu_secs().zip(cpu_before).map(|(a, b)| a - b),
        "passages": passages,
        "peak_rss": peak_rss_bytes(),
        "peak_rss_before_indexing": rss_before,
        "peak_rss_anon": peak_anon,
        "peak_rss_file": peak_file,
        "size": size,
    }))
}

fn dir_size_file(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn tantivy_date(secs: i64) -> tantivy::DateTime {
    tantivy::DateTime::from_timestamp_secs(secs)
}

/// Bare tantivy: frontline's schema and analyzer, the same field values
/// (tags computed beforehand, streamed from `prepared`), one commit, wait
/// for merges. Returns the number of passages indexed.
fn index_tantivy(prepared: &Path, dir: &Path, budget: usize, threads: usize) -> Result<u64> {
    let mut input = PassageReader::open(prepared)?;
    let (schema, f) = frontline::schema::build_schema();
    // The same doc-store settings as frontline, so sizes and times compare.
    let index = tantivy::Index::builder()
        .schema(schema)
        .settings(frontline::schema::index_settings())
        .create_in_dir(dir)?;
    frontline_bench::register_stock_tokenizers(&index);
    let budget = budget.max(threads * (16 << 20));
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(threads, budget)?;
    let mut p = Prepared::default();
    let mut n = 0;
    while input.next_into(&mut p)? {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.article_id, &p.article_id);
        doc.add_u64(f.article_key, p.article_key);
        doc.add_text(f.source_path, &p.source_path);
        doc.add_text(f.title, &p.title);
        doc.add_text(f.text, &p.text);
        doc.add_u64(f.paragraph, p.paragraph);
        doc.add_u64(f.passage, p.ordinal);
        doc.add_u64(f.story, p.article_key);
        if let Some(d) = p.published {
            doc.add_date(f.published, tantivy_date(d));
        }
        if let Some(d) = p.event_date {
            doc.add_date(f.event_date, tantivy_date(d));
        }
        if let Some(o) = &p.outlet {
            doc.add_text(f.outlet, o);
        }
        for (field, facets) in [
            (f.province, &mut p.provinces),
            (f.mention, &mut p.mentions),
            (f.country, &mut p.countries),
            (f.group, &mut p.groups),
        ] {
            for facet in facets.drain(..) {
                doc.add_facet(field, facet);
            }
        }
        // The passage's own tags are raw terms (schema version 4).
        for (field, facets) in [
            (f.passage_province, &p.passage_provinces),
            (f.passage_group, &p.passage_groups),
        ] {
            for facet in facets {
                doc.add_text(field, frontline::schema::facet_display(facet));
            }
        }
        writer.add_document(doc)?;
        n += 1;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(n)
}

/// A facet as one FTS5 token (`/Syria/Idlib` → `fsyriaidlib`).
fn facet_token(f: &Facet) -> String {
    let mut s = String::from("f");
    s.extend(
        f.to_string()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase()),
    );
    s
}

fn facet_tokens(a: &[Facet], b: &[Facet]) -> String {
    a.iter()
        .chain(b)
        .map(facet_token)
        .collect::<Vec<_>>()
        .join(" ")
}

const FTS_SCHEMA: &str = "CREATE VIRTUAL TABLE passages USING fts5(
    text, title, province, grp, article_id UNINDEXED, event_date UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2')";

/// FTS5: all passages (streamed from `prepared`) in one transaction, then
/// `optimize`. Returns the number of passages indexed.
fn index_sqlite(prepared: &Path, path: &Path) -> Result<u64> {
    let mut input = PassageReader::open(prepared)?;
    let mut db = rusqlite::Connection::open(path)?;
    db.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
    db.execute_batch(FTS_SCHEMA)?;
    let tx = db.transaction()?;
    let mut n = 0;
    {
        let mut insert = tx.prepare(
            "INSERT INTO passages (text, title, province, grp, article_id, event_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut p = Prepared::default();
        while input.next_into(&mut p)? {
            insert.execute(rusqlite::params![
                p.text,
                p.title,
                facet_tokens(&p.provinces, &p.passage_provinces),
                facet_tokens(&p.groups, &p.passage_groups),
                p.article_id,
                p.event_date.unwrap_or(0),
            ])?;
            n += 1;
        }
    }
    tx.commit()?;
    db.execute_batch("INSERT INTO passages(passages) VALUES('optimize');")?;
    Ok(n)
}

/// Resident memory of a process that opens one finished index for search:
/// after opening, after a first query (`attack`, which also loads
/// frontline's gazetteer), after building the query set and after one pass
/// over the 50 queries. `RssFile` is mostly mapped index files (page cache
/// the OS can reclaim), `RssAnon` the process's own heap.
fn child_open(work: &Path, engine: &str) -> Result<Value> {
    let rss = |label: &str, v: &mut serde_json::Map<String, Value>| {
        if let Some((total, anon, file)) = rss_now() {
            v.insert(
                label.into(),
                json!({"rss": total, "anon": anon, "file": file}),
            );
        }
    };
    let mut v = serde_json::Map::new();
    rss("start", &mut v);
    let start = Instant::now();
    if engine == "open-frontline" {
        let fl = Index::open(work.join("frontline"))?;
        v.insert("open_ms".into(), json!(start.elapsed().as_secs_f64() * 1e3));
        rss("open", &mut v);
        let start = Instant::now();
        fl.search(&frontline::Query::new("attack").limit(10))?;
        v.insert(
            "first_query_ms".into(),
            json!(start.elapsed().as_secs_f64() * 1e3),
        );
        rss("first_query", &mut v);
        let set = queries::query_set(fl.gazetteer()?)?;
        rss("query_set", &mut v);
        for b in &set {
            fl.search(&b.frontline())?;
        }
        rss("all_queries", &mut v);
    } else {
        let index = tantivy::Index::open_in_dir(work.join("tantivy"))?;
        frontline_bench::register_stock_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        let (_, fields) = frontline::schema::build_schema();
        let bare = Bare {
            index,
            reader,
            fields,
        };
        v.insert("open_ms".into(), json!(start.elapsed().as_secs_f64() * 1e3));
        rss("open", &mut v);
        let start = Instant::now();
        bare_search(&bare, &BenchQuery::text("attack"))?;
        v.insert(
            "first_query_ms".into(),
            json!(start.elapsed().as_secs_f64() * 1e3),
        );
        rss("first_query", &mut v);
        let gaz = Gazetteer::load(None)?;
        let set = queries::query_set(&gaz)?;
        drop(gaz);
        rss("query_set", &mut v);
        for b in &set {
            bare_search(&bare, b)?;
        }
        rss("all_queries", &mut v);
    }
    v.insert("peak_rss".into(), json!(peak_rss_bytes()));
    Ok(Value::Object(v))
}

/// FTS5's query latency alone, on `fts5.sqlite` in the work directory (for
/// corpora where the other indexes cannot stay on disk beside it): one
/// warm-up pass, then `--fts5-passes` (default `--passes`) timed passes.
fn child_fts5_queries(args: &Args, work: &Path) -> Result<Value> {
    let gaz = Gazetteer::load(None)?;
    let set = queries::query_set(&gaz)?;
    let db = rusqlite::Connection::open(work.join("fts5.sqlite"))?;
    for b in &set {
        fts_search(&db, b)?;
    }
    let mut lat = Vec::new();
    let mut filtered = Vec::new();
    for _ in 0..args.fts5_passes.unwrap_or(args.passes) {
        for b in &set {
            let start = Instant::now();
            fts_search(&db, b)?;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            lat.push(ms);
            if b.province.is_some() || b.group.is_some() || b.from.is_some() {
                filtered.push(ms);
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    filtered.sort_by(f64::total_cmp);
    let mean = lat.iter().sum::<f64>() / lat.len().max(1) as f64;
    Ok(json!({
        "p50": percentile(&lat, 0.5),
        "p95": percentile(&lat, 0.95),
        "p99": percentile(&lat, 0.99),
        "mean": mean,
        "filtered_p50": percentile(&filtered, 0.5),
        "samples": lat.len(),
    }))
}

// ------------------------------------------------------------------ parent

fn run_child(args: &Args, work: &Path, engine: &str) -> Result<Value> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("--corpus")
        .arg(&args.corpus)
        .arg("--work")
        .arg(work)
        .arg("--only")
        .arg(engine)
        .arg("--memory-mib")
        .arg(args.memory_mib.to_string())
        .arg("--threads")
        .arg(threads(args).to_string());
    let out = cmd.output()?;
    if !out.status.success() {
        bail!(
            "{engine} child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .context("no RESULT line from child")?;
    Ok(serde_json::from_str(line)?)
}

/// Best of `repeat` runs (lowest `secs`).
fn best_of(args: &Args, work: &Path, engine: &str) -> Result<Value> {
    let mut best: Option<Value> = None;
    for _ in 0..args.repeat.max(1) {
        let r = run_child(args, work, engine)?;
        eprintln!(
            "  {engine}: {:.2} s wall, {:.2} s CPU, peak RSS {:.0} MiB (sampled peaks: anon {:.0} MiB, file-backed {:.0} MiB)",
            r["secs"].as_f64().unwrap_or(0.0),
            r["cpu_secs"].as_f64().unwrap_or(f64::NAN),
            mib(r["peak_rss"].as_f64().unwrap_or(f64::NAN)),
            mib(r["peak_rss_anon"].as_f64().unwrap_or(f64::NAN)),
            mib(r["peak_rss_file"].as_f64().unwrap_or(f64::NAN))
        );
        eprintln!("  {engine} RESULT {r}");
        if best
            .as_ref()
            .is_none_or(|b| r["secs"].as_f64() < b["secs"].as_f64())
        {
            best = Some(r);
        }
    }
    best.context("no run")
}

/// `--share-rounds`: tagged and untagged builds, alternating.
fn tagging_share(args: &Args, work: &Path, rounds: usize) -> Result<()> {
    let engines = ["frontline", "frontline-untagged"];
    let mut cpu = [Vec::new(), Vec::new()];
    let mut wall = [Vec::new(), Vec::new()];
    for round in 1..=rounds {
        for (i, engine) in engines.iter().enumerate() {
            let r = run_child(args, work, engine)?;
            let (c, w) = (r["cpu_secs"].as_f64(), r["secs"].as_f64());
            let (Some(c), Some(w)) = (c, w) else {
                bail!("{engine} child reported no times: {r}");
            };
            eprintln!("  round {round}/{rounds} {engine}: {c:.2} s CPU, {w:.2} s wall");
            cpu[i].push(c);
            wall[i].push(w);
        }
    }
    for (i, engine) in engines.iter().enumerate() {
        let (c, w) = (Stats::of(&cpu[i]), Stats::of(&wall[i]));
        println!("{engine:<20} CPU {c}   wall {w}");
    }
    let share = |x: &[Vec<f64>; 2]| {
        let (t, u) = (Stats::of(&x[0]).mean, Stats::of(&x[1]).mean);
        (t - u) / t
    };
    println!(
        "tagging's share of indexing: {:.3} of CPU, {:.3} of wall time ({rounds} rounds)",
        share(&cpu),
        share(&wall)
    );
    Ok(())
}

/// Mean, median and population standard deviation of some timings.
struct Stats {
    mean: f64,
    median: f64,
    sd: f64,
}

impl Stats {
    fn of(xs: &[f64]) -> Stats {
        let n = xs.len().max(1) as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = match sorted.len() {
            0 => f64::NAN,
            k if k % 2 == 1 => sorted[k / 2],
            k => (sorted[k / 2 - 1] + sorted[k / 2]) / 2.0,
        };
        Stats { mean, median, sd }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mean {:.3} s, median {:.3} s, sd {:.3} s",
            self.mean, self.median, self.sd
        )
    }
}

fn corpus_bytes(dir: &Path) -> Result<(u64, usize)> {
    let (files, _) = corpus::walk(dir, &WalkOptions::default())?;
    Ok((files.iter().map(|f| f.size).sum(), files.len()))
}

fn mib(b: f64) -> f64 {
    b / 1048576.0
}

fn parent(args: Args) -> Result<()> {
    let work = match &args.work {
        Some(w) => w.clone(),
        None => std::env::temp_dir().join(format!("fl-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work)?;
    if let Some(rounds) = args.share_rounds {
        let measured = tagging_share(&args, &work, rounds.max(1));
        if args.work.is_none() {
            let _ = std::fs::remove_dir_all(&work);
        }
        return measured;
    }
    let (bytes, files) = corpus_bytes(&args.corpus)?;
    println!(
        "corpus {}: {files} files, {bytes} bytes ({:.1} MiB); threads {}, writer budget {} MiB",
        args.corpus.display(),
        mib(bytes as f64),
        threads(&args),
        args.memory_mib
    );
    let mut engines = vec!["frontline", "tantivy"];
    if args.untagged {
        engines.insert(1, "frontline-untagged");
    }
    if args.sqlite {
        engines.push("sqlite");
    }
    let mut results = serde_json::Map::new();
    let partial = |results: &serde_json::Map<String, Value>| -> Result<()> {
        if let Some(path) = &args.json {
            let report = json!({"partial": true, "corpus": args.corpus,
                "corpus_bytes": bytes, "indexing": results});
            std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        }
        Ok(())
    };
    let mut prep = Value::Null;
    for e in &engines {
        if *e == "tantivy" {
            // The bare engines' input, prepared once for both (untimed).
            let report = work.join("prepared.json");
            if args.reuse_prepared && prepared_path(&work).exists() {
                eprintln!("reusing {}", prepared_path(&work).display());
                prep = serde_json::from_slice(&std::fs::read(&report)?)?;
                prep["reused"] = json!(true);
            } else {
                eprintln!("preparing the bare engines' passages (untimed)");
                prep = run_child(&args, &work, "prepare")?;
                std::fs::write(&report, prep.to_string())?;
            }
            eprintln!(
                "  prepare: {:.2} s (parse + split {:.2} s, automaton {:.2} s, tagging {:.2} s, writing {:.2} s), {} passages, {:.0} MiB file, peak RSS {:.0} MiB",
                prep["secs"].as_f64().unwrap_or(f64::NAN),
                prep["parse_secs"].as_f64().unwrap_or(f64::NAN),
                prep["automaton_secs"].as_f64().unwrap_or(f64::NAN),
                prep["tag_secs"].as_f64().unwrap_or(f64::NAN),
                prep["write_secs"].as_f64().unwrap_or(f64::NAN),
                prep["passages"],
                mib(prep["size"].as_f64().unwrap_or(f64::NAN)),
                mib(prep["peak_rss"].as_f64().unwrap_or(f64::NAN))
            );
            results.insert("prepare".into(), prep.clone());
            partial(&results)?;
        }
        eprintln!("indexing: {e}");
        let mut r = best_of(&args, &work, e)?;
        if matches!(*e, "tantivy" | "sqlite") {
            for k in ["articles", "parse_secs", "automaton_secs", "tag_secs"] {
                r[k] = prep[k].clone();
            }
        }
        results.insert(e.to_string(), r);
        partial(&results)?;
    }
    if !args.keep_prepared {
        let _ = std::fs::remove_file(prepared_path(&work));
    }
    let f = &results["frontline"];
    let t = &results["tantivy"];
    let secs = |v: &Value| v["secs"].as_f64().unwrap_or(f64::NAN);
    let articles = f["articles"].as_f64().unwrap_or(0.0);
    println!();
    println!(
        "{:<10} {:>9} {:>9} {:>10} {:>9} {:>10} {:>10} {:>10} {:>9}",
        "engine",
        "passages",
        "seconds",
        "MiB/s",
        "art/s",
        "peak MiB",
        "anon MiB",
        "index MiB",
        "idx/corp"
    );
    for e in &engines {
        let r = &results[*e];
        println!(
            "{:<10} {:>9} {:>9.2} {:>10.2} {:>9.0} {:>10.0} {:>10.0} {:>10.1} {:>9.3}",
            e,
            r["passages"],
            secs(r),
            mib(bytes as f64) / secs(r),
            articles / secs(r),
            mib(r["peak_rss"].as_f64().unwrap_or(0.0)),
            mib(r["peak_rss_anon"].as_f64().unwrap_or(f64::NAN)),
            mib(r["size"].as_f64().unwrap_or(0.0)),
            r["size"].as_f64().unwrap_or(0.0) / bytes as f64
        );
    }
    println!(
        "(bare engines' input prepared beforehand, untimed: {:.1} s, peak RSS {:.0} MiB, {:.0} MiB file streamed by the tantivy and FTS5 timed sections)",
        secs(&prep),
        mib(prep["peak_rss"].as_f64().unwrap_or(0.0)),
        mib(prep["size"].as_f64().unwrap_or(0.0))
    );
    let mut ratios = json!({
        "index_time_frontline_over_tantivy": secs(f) / secs(t),
        "throughput_frontline_over_tantivy": secs(t) / secs(f),
    });
    println!(
        "frontline ÷ tantivy indexing time: {:.2} (throughput {:.2}×)",
        secs(f) / secs(t),
        secs(t) / secs(f)
    );
    let cpu = |v: &Value| v["cpu_secs"].as_f64().unwrap_or(f64::NAN);
    println!(
        "frontline ÷ tantivy indexing CPU time: {:.2} ({:.1} s / {:.1} s); CPU ÷ wall: frontline {:.2}, tantivy {:.2}",
        cpu(f) / cpu(t),
        cpu(f),
        cpu(t),
        cpu(f) / secs(f),
        cpu(t) / secs(t)
    );
    ratios["cpu_time_frontline_over_tantivy"] = json!(cpu(f) / cpu(t));
    if let Some(s) = results.get("sqlite") {
        println!(
            "frontline ÷ FTS5 indexing time: {:.2} (throughput {:.2}×)",
            secs(f) / secs(s),
            secs(s) / secs(f)
        );
        ratios["index_time_frontline_over_fts5"] = json!(secs(f) / secs(s));
        ratios["throughput_frontline_over_fts5"] = json!(secs(s) / secs(f));
    }
    if let Some(u) = results.get("frontline-untagged") {
        println!(
            "frontline untagged ÷ tagged indexing time: {:.2}; tagging's share of indexing time: {:.2}",
            secs(u) / secs(f),
            1.0 - secs(u) / secs(f)
        );
        println!(
            "frontline untagged ÷ tagged indexing CPU time: {:.2}; tagging's share of indexing CPU: {:.2}",
            cpu(u) / cpu(f),
            1.0 - cpu(u) / cpu(f)
        );
        ratios["index_time_untagged_over_tagged"] = json!(secs(u) / secs(f));
        ratios["cpu_time_untagged_over_tagged"] = json!(cpu(u) / cpu(f));
        ratios["tagging_share_of_index_time"] = json!(1.0 - secs(u) / secs(f));
    }
    let parse = prep["parse_secs"].as_f64().unwrap_or(0.0);
    let automaton = prep["automaton_secs"].as_f64().unwrap_or(0.0);
    let tag = prep["tag_secs"].as_f64().unwrap_or(0.0);
    let thr = threads(&args) as f64;
    println!(
        "parse+split (1 thread): {parse:.2} s ({:.1} MiB/s); tagging (1 thread): {tag:.2} s + automaton {automaton:.2} s ({:.0} articles/s)",
        mib(bytes as f64) / parse,
        articles / tag
    );
    println!(
        "tagging CPU ÷ frontline wall: {:.2}; ÷ frontline wall × {thr} threads: {:.2}",
        (tag + automaton) / secs(f),
        (tag + automaton) / (secs(f) * thr)
    );
    ratios["tagging_cpu_over_frontline_wall"] = json!((tag + automaton) / secs(f));
    ratios["tagging_cpu_over_frontline_cpu_capacity"] = json!((tag + automaton) / (secs(f) * thr));

    let mut report = json!({
        "corpus": args.corpus,
        "corpus_bytes": bytes,
        "files": files,
        "threads": threads(&args),
        "memory_mib": args.memory_mib,
        "indexing": results,
    });
    if !args.no_queries {
        let mut open = serde_json::Map::new();
        for e in ["open-frontline", "open-tantivy"] {
            let r = run_child(&args, &work, e)?;
            let m = |stage: &str, k: &str| mib(r[stage][k].as_f64().unwrap_or(f64::NAN));
            println!(
                "{e}: {:.0} ms; RSS MiB (anon + file): process start {:.1} ({:.1} + {:.1}), opened {:.1} ({:.1} + {:.1}), after first query {:.1} ({:.1} + {:.1}) in {:.0} ms, query set built {:.1} ({:.1} + {:.1}), after the 50 queries {:.1} ({:.1} + {:.1}); peak {:.1}",
                r["open_ms"].as_f64().unwrap_or(f64::NAN),
                m("start", "rss"), m("start", "anon"), m("start", "file"),
                m("open", "rss"), m("open", "anon"), m("open", "file"),
                m("first_query", "rss"), m("first_query", "anon"), m("first_query", "file"),
                r["first_query_ms"].as_f64().unwrap_or(f64::NAN),
                m("query_set", "rss"), m("query_set", "anon"), m("query_set", "file"),
                m("all_queries", "rss"), m("all_queries", "anon"), m("all_queries", "file"),
                mib(r["peak_rss"].as_f64().unwrap_or(f64::NAN)),
            );
            open.insert(e.into(), r);
        }
        report["open_for_search"] = Value::Object(open);
        report["queries"] = query_bench(&args, &work)?;
    }
    if let Some(p) = args.incremental {
        report["incremental"] = incremental(&args, &work, p, secs(f))?;
    }
    report["ratios"] = ratios;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    if args.work.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

fn incremental(args: &Args, work: &Path, percent: f64, full_secs: f64) -> Result<Value> {
    let world = World::load_default()?;
    let changed = frontline_bench::gen::change(world, &args.corpus, percent, 7)?;
    let mut opts = BuildOptions::new(&args.corpus, work.join("frontline"));
    opts.full = false;
    opts.memory_budget = args.memory_mib << 20;
    opts.threads = Some(threads(args));
    let start = Instant::now();
    let summary = Index::build(&opts)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "incremental ({percent} % = {} files rewritten): {secs:.2} s, mode {:?}, updated {}, unchanged {}; incremental ÷ full = {:.3}",
        changed.files,
        summary.mode,
        summary.updated,
        summary.unchanged,
        secs / full_secs
    );
    Ok(json!({
        "percent": percent,
        "files_rewritten": changed.files,
        "secs": secs,
        "full_secs": full_secs,
        "ratio": secs / full_secs,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
    }))
}

// ----------------------------------------------------------------- queries

fn day_secs(d: NaiveDate) -> i64 {
    d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

/// The bench set's bare tantivy search on this run's index.
fn bare_search(bare: &Bare, b: &BenchQuery) -> Result<usize> {
    queries::bare_search(&bare.index, &bare.reader.searcher(), &bare.fields, b)
}

struct Bare {
    index: tantivy::Index,
    reader: tantivy::IndexReader,
    fields: frontline::schema::Fields,
}

fn fts_escape_facet(facet: &Facet) -> String {
    facet_token(facet)
}

/// FTS5: MATCH on {text title} plus facet tokens, date on an UNINDEXED
/// column; bm25 order, LIMIT 10, snippet() of the text column.
fn fts_search(db: &rusqlite::Connection, b: &BenchQuery) -> Result<usize> {
    let mut m = format!("{{text title}} : ({})", b.text);
    if let Some((_, facet)) = &b.province {
        m.push_str(&format!(" AND province : {}", fts_escape_facet(facet)));
    }
    if let Some((_, facet)) = &b.group {
        m.push_str(&format!(" AND grp : {}", fts_escape_facet(facet)));
    }
    let from = b.from.map_or(i64::MIN, day_secs);
    let to =
        b.to.and_then(|d| d.succ_opt())
            .map_or(i64::MAX, |d| day_secs(d) - 1);
    let mut stmt = db.prepare_cached(
        "SELECT article_id, title, snippet(passages, 0, '[', ']', '…', 24)
         FROM passages WHERE passages MATCH ?1 AND event_date BETWEEN ?2 AND ?3
         ORDER BY bm25(passages) LIMIT 10",
    )?;
    let rows = stmt.query_map(rusqlite::params![m, from, to], |r| r.get::<_, String>(2))?;
    let mut n = 0;
    for row in rows {
        n += row?.len().min(1);
    }
    Ok(n)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn query_bench(args: &Args, work: &Path) -> Result<Value> {
    let fl = Index::open(work.join("frontline"))?;
    let gaz = fl.gazetteer()?;
    let set = queries::query_set(gaz)?;
    let tdir = work.join("tantivy");
    let index = tantivy::Index::open_in_dir(&tdir)?;
    frontline_bench::register_stock_tokenizers(&index);
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    let (_, fields) = frontline::schema::build_schema();
    let bare = Bare {
        index,
        reader,
        fields,
    };
    let fts5_passes = args.fts5_passes.unwrap_or(args.passes);
    let db = if args.sqlite && fts5_passes > 0 {
        Some(rusqlite::Connection::open(work.join("fts5.sqlite"))?)
    } else {
        None
    };
    let fqs: Vec<frontline::Query> = set.iter().map(BenchQuery::frontline).collect();

    // Warm-up pass, and hit counts for the record.
    let mut empty = Vec::new();
    for (b, fq) in set.iter().zip(&fqs) {
        let r = fl.search(fq)?;
        let t = bare_search(&bare, b)?;
        if r.hits.is_empty() || t == 0 {
            empty.push(b.text.clone());
        }
        if let Some(db) = &db {
            fts_search(db, b)?;
        }
    }
    if !empty.is_empty() {
        eprintln!("queries with no hits in frontline or tantivy: {empty:?}");
    }
    let mut lat: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut filtered: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for pass in 0..args.passes.max(fts5_passes) {
        for (b, fq) in set.iter().zip(&fqs) {
            let is_filtered = b.province.is_some() || b.group.is_some() || b.from.is_some();
            let mut timed = |k: usize, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
                let start = Instant::now();
                f()?;
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                lat[k].push(ms);
                if is_filtered {
                    filtered[k].push(ms);
                }
                Ok(())
            };
            if pass < args.passes {
                timed(0, &mut || fl.search(fq).map(|_| ()).map_err(Into::into))?;
                timed(1, &mut || bare_search(&bare, b).map(|_| ()))?;
            }
            if let (Some(db), true) = (&db, pass < fts5_passes) {
                timed(2, &mut || fts_search(db, b).map(|_| ()))?;
            }
        }
    }
    let names = ["frontline", "tantivy", "fts5"];
    let mut out = serde_json::Map::new();
    println!();
    println!(
        "queries: {} × {} passes (FTS5: {}) after one warm-up pass, latency in ms",
        set.len(),
        args.passes,
        if db.is_some() { fts5_passes } else { 0 }
    );
    println!(
        "{:<10} {:>8} {:>8} {:>8} {:>8} {:>14}",
        "engine", "p50", "p95", "p99", "mean", "filtered p50"
    );
    let mut p = [[f64::NAN; 3]; 3];
    for k in 0..3 {
        if lat[k].is_empty() {
            continue;
        }
        lat[k].sort_by(f64::total_cmp);
        filtered[k].sort_by(f64::total_cmp);
        let mean = lat[k].iter().sum::<f64>() / lat[k].len() as f64;
        p[k] = [
            percentile(&lat[k], 0.5),
            percentile(&lat[k], 0.95),
            percentile(&lat[k], 0.99),
        ];
        let fp50 = percentile(&filtered[k], 0.5);
        println!(
            "{:<10} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>14.3}",
            names[k], p[k][0], p[k][1], p[k][2], mean, fp50
        );
        out.insert(
            names[k].into(),
            json!({"p50": p[k][0], "p95": p[k][1], "p99": p[k][2], "mean": mean, "filtered_p50": fp50}),
        );
    }
    println!(
        "frontline ÷ tantivy: p50 {:.2}, p95 {:.2}, p99 {:.2}",
        p[0][0] / p[1][0],
        p[0][1] / p[1][1],
        p[0][2] / p[1][2]
    );
    if db.is_some() {
        println!(
            "frontline ÷ FTS5:    p50 {:.2}, p95 {:.2}, p99 {:.2}",
            p[0][0] / p[2][0],
            p[0][1] / p[2][1],
            p[0][2] / p[2][2]
        );
    }
    out.insert("queries".into(), json!(set.len()));
    out.insert("passes".into(), json!(args.passes));
    out.insert(
        "fts5_passes".into(),
        json!(db.as_ref().map(|_| fts5_passes)),
    );
    out.insert("no_hits".into(), json!(empty));
    Ok(Value::Object(out))
}
