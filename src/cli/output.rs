//! Rendering: text for people, JSON/NDJSON/CSV for scripts.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

use frontline::generation::Store;
use frontline::{BuildSummary, FacetCounts, Hit, Interval, Query, SearchResults, Stats};

/// Output formats of `search`.
#[derive(Clone, Copy, ValueEnum)]
pub enum HitFormat {
    /// Wrapped passages with highlights, for people.
    Text,
    /// One JSON object `{query, total_hits, total_hits_exact, hits: [...]}`.
    Json,
    /// One JSON object per hit per line.
    Ndjson,
    /// A header row and one row per hit.
    Csv,
}

/// Output formats of `facets`.
#[derive(Clone, Copy, ValueEnum)]
pub enum TableFormat {
    /// Aligned counts with bars, for people.
    Text,
    /// One JSON object.
    Json,
    /// value,articles,passages.
    Csv,
}

/// Pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Columns `--fields` accepts, in the default CSV order.
pub const HIT_FIELDS: [&str; 19] = [
    "rank",
    "score",
    "date",
    "event_date",
    "article_id",
    "paragraph",
    "passage",
    "title",
    "outlet",
    "url",
    "provinces",
    "mentions",
    "passage_provinces",
    "groups",
    "countries",
    "text",
    "highlights",
    "story",
    "also_in",
];

/// The columns of the CSV output when `--fields` is not given.
const DEFAULT_CSV: [&str; 12] = [
    "rank",
    "score",
    "date",
    "event_date",
    "article_id",
    "paragraph",
    "title",
    "outlet",
    "provinces",
    "groups",
    "countries",
    "text",
];

/// Parses one `--fields` name.
pub fn parse_field(s: &str) -> Result<String, String> {
    let name = s.trim();
    if HIT_FIELDS.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "unknown field {name:?}; fields: {}",
            HIT_FIELDS.join(", ")
        ))
    }
}

/// Prints search results in the chosen format; `fields` (when not empty)
/// picks the columns of csv, ndjson and json hits.
pub fn print_hits(
    results: &SearchResults,
    query: &Query,
    format: HitFormat,
    fields: &[String],
) -> Result<()> {
    match format {
        HitFormat::Json => {
            let mut value = serde_json::to_value(results)?;
            if let Some(hits) = value.get_mut("hits").and_then(|h| h.as_array_mut()) {
                for hit in hits {
                    keep_fields(hit, fields);
                }
            }
            print_json(&value)
        }
        HitFormat::Ndjson => {
            let mut out = std::io::stdout().lock();
            for hit in &results.hits {
                let mut value = serde_json::to_value(hit)?;
                keep_fields(&mut value, fields);
                serde_json::to_writer(&mut out, &value)?;
                writeln!(out)?;
            }
            Ok(())
        }
        HitFormat::Csv => print_hits_csv(results, fields),
        HitFormat::Text => print_hits_text(results, query),
    }
}

/// Drops the keys of a hit object not in `fields`, keeping their order of
/// the JSON output (an empty list keeps everything).
fn keep_fields(hit: &mut serde_json::Value, fields: &[String]) {
    if fields.is_empty() {
        return;
    }
    if let Some(map) = hit.as_object_mut() {
        map.retain(|k, _| fields.iter().any(|f| f == k));
    }
}

fn print_hits_csv(results: &SearchResults, fields: &[String]) -> Result<()> {
    let columns: Vec<&str> = if fields.is_empty() {
        DEFAULT_CSV.to_vec()
    } else {
        fields.iter().map(String::as_str).collect()
    };
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record(&columns)?;
    for h in &results.hits {
        w.write_record(columns.iter().map(|c| csv_cell(h, c)))?;
    }
    w.flush()?;
    Ok(())
}

/// One CSV cell: lists joined by `;`, highlights as `start-end`.
fn csv_cell(h: &Hit, column: &str) -> String {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    match column {
        "rank" => h.rank.to_string(),
        "score" => format!("{:.3}", h.score),
        "date" => date(h.date),
        "event_date" => date(h.event_date),
        "article_id" => h.article_id.clone(),
        "paragraph" => h.paragraph.to_string(),
        "passage" => h.passage.to_string(),
        "title" => h.title.clone(),
        "outlet" => h.outlet.clone().unwrap_or_default(),
        "url" => h.url.clone().unwrap_or_default(),
        "provinces" => h.provinces.join(";"),
        "mentions" => h.mentions.join(";"),
        "passage_provinces" => h.passage_provinces.join(";"),
        "groups" => h.groups.join(";"),
        "countries" => h.countries.join(";"),
        "text" => h.text.clone(),
        "highlights" => h
            .highlights
            .iter()
            .map(|[a, b]| format!("{a}-{b}"))
            .collect::<Vec<_>>()
            .join(";"),
        "story" => h.story.clone(),
        "also_in" => h
            .also_in
            .iter()
            .map(|c| c.article_id.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        _ => String::new(),
    }
}

fn print_hits_text(results: &SearchResults, query: &Query) -> Result<()> {
    let color = std::io::stdout().is_terminal();
    let width = console::Term::stdout()
        .size_checked()
        .map_or(100, |(_, w)| usize::from(w))
        .clamp(40, 120);
    let mut out = std::io::stdout().lock();
    let shown = results.hits.len();
    writeln!(
        out,
        "{} hit{} for {:?}{} ({:.1} ms){}",
        results.total_hits,
        if results.total_hits == frontline::TotalHits::Exact(1) {
            ""
        } else {
            "s"
        },
        query.text(),
        describe_filters(query),
        results.took_ms,
        if shown < results.total_hits.value() {
            format!(", showing {shown}")
        } else {
            String::new()
        },
    )?;
    if let Some(note) = &results.fuzzy {
        writeln!(
            out,
            "{} for {}: showing near spellings ({})",
            if note.exact_hits == 0 {
                "No exact match".to_string()
            } else {
                format!("Only {} exact match(es)", note.exact_hits)
            },
            note.unknown.join(", "),
            if note.matched.is_empty() {
                "none on this page".to_string()
            } else {
                note.matched.join(", ")
            },
        )?;
    }
    for h in &results.hits {
        writeln!(out)?;
        let date = h
            .event_date
            .or(h.date)
            .map_or("undated".to_string(), |d| d.to_string());
        writeln!(
            out,
            "{:>3}. {date}  {} ¶{}  score {:.2}",
            h.rank, h.article_id, h.paragraph, h.score
        )?;
        let mut tags = Vec::new();
        if !h.provinces.is_empty() {
            tags.push(h.provinces.join(", "));
        }
        if !h.groups.is_empty() {
            tags.push(h.groups.join(", "));
        }
        if let Some(outlet) = &h.outlet {
            tags.push(outlet.clone());
        }
        if !h.also_in.is_empty() {
            let n = h.also_in.len();
            tags.push(format!(
                "story also in {n} other report{}",
                if n == 1 { "" } else { "s" }
            ));
        }
        if !tags.is_empty() {
            writeln!(out, "     {}", tags.join(" · "))?;
        }
        for line in wrap(&h.text, &h.highlights, width.saturating_sub(5), color) {
            writeln!(out, "     {line}")?;
        }
    }
    Ok(())
}

fn describe_filters(q: &Query) -> String {
    let v = serde_json::to_value(q).unwrap_or_default();
    let mut parts = Vec::new();
    for key in ["provinces", "groups", "countries"] {
        if let Some(list) = v[key].as_array().filter(|l| !l.is_empty()) {
            let names: Vec<&str> = list.iter().filter_map(|x| x.as_str()).collect();
            parts.push(format!(
                "{} {}",
                key.trim_end_matches('s').replace("countrie", "country"),
                names.join("|")
            ));
        }
    }
    for key in ["from", "to"] {
        if let Some(d) = v[key].as_str() {
            parts.push(format!("{key} {d}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", parts.join(", "))
    }
}

/// Wraps `text` at `width` characters, marking highlighted byte ranges in
/// bold (terminal) or leaving them plain (pipes).
fn wrap(text: &str, highlights: &[[usize; 2]], width: usize, color: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_len = 0usize;
    let mut offset = 0usize;
    for word in text.split_inclusive(char::is_whitespace) {
        let start = offset;
        offset += word.len();
        let trimmed = word.trim_end();
        let n = trimmed.chars().count();
        if line_len > 0 && line_len + n > width {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
            line_len = 0;
        }
        line.push_str(&render_word(trimmed, start, highlights, color));
        if word.contains('\n') {
            lines.push(std::mem::take(&mut line));
            line_len = 0;
        } else if trimmed.len() < word.len() {
            line.push(' ');
            line_len += n + 1;
        } else {
            line_len += n;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

fn render_word(word: &str, start: usize, highlights: &[[usize; 2]], color: bool) -> String {
    if !color {
        return word.to_string();
    }
    let end = start + word.len();
    let mut out = String::new();
    let mut pos = 0;
    for &[a, b] in highlights {
        if b <= start || a >= end {
            continue;
        }
        let a = a.saturating_sub(start).max(pos);
        let b = (b - start).min(word.len());
        if a >= b || !word.is_char_boundary(a) || !word.is_char_boundary(b) {
            continue;
        }
        out.push_str(&word[pos..a]);
        out.push_str(&console::style(&word[a..b]).bold().red().to_string());
        pos = b;
    }
    out.push_str(&word[pos..]);
    out
}

/// Prints facet counts; dates as a timeline with bars.
pub fn print_facets(counts: &FacetCounts, interval: Interval, format: TableFormat) -> Result<()> {
    let rows = if counts.field == frontline::FacetField::Date {
        frontline::facets::fill_timeline(counts, interval)
    } else {
        counts.counts.clone()
    };
    match format {
        TableFormat::Json => print_json(&FacetCounts {
            counts: rows,
            ..counts.clone()
        }),
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(["value", "articles", "passages", "stories"])?;
            for c in &rows {
                w.write_record([
                    c.value.clone(),
                    c.articles.to_string(),
                    c.passages.to_string(),
                    c.stories.to_string(),
                ])?;
            }
            w.flush()?;
            Ok(())
        }
        TableFormat::Text => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{} matching articles, {} stories (syndicated copies count once)",
                counts.total_articles, counts.total_stories
            )?;
            let name_width = rows
                .iter()
                .map(|c| c.value.chars().count())
                .max()
                .unwrap_or(0)
                .max(5);
            writeln!(out, "{:<name_width$}  articles  stories", "")?;
            let max = rows.iter().map(|c| c.articles).max().unwrap_or(0).max(1);
            for c in &rows {
                let bar = "█".repeat(((c.articles * 40).div_ceil(max)) as usize);
                writeln!(
                    out,
                    "{:<name_width$}  {:>8}  {:>7}  {bar}",
                    c.value, c.articles, c.stories
                )?;
            }
            Ok(())
        }
    }
}

/// Prints an index run's summary for people.
pub fn print_summary(s: &BuildSummary, strict: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mode = match &s.full_reason {
        Some(reason) => format!("full rebuild ({reason})"),
        None => "incremental update".to_string(),
    };
    for note in &s.cleaned {
        writeln!(out, "recovered: {note}")?;
    }
    writeln!(
        out,
        "{mode}: {} files seen, {} read, {} added, {} updated, {} deleted, {} unchanged",
        s.files_seen, s.files_read, s.added, s.updated, s.deleted, s.unchanged
    )?;
    writeln!(
        out,
        "indexed {} articles, {} passages in {:.2}s",
        s.articles,
        s.passages,
        s.duration.as_secs_f64()
    )?;
    for w in &s.warnings {
        writeln!(out, "warning: {}: {}", w.path, w.reason)?;
    }
    for k in &s.skipped {
        writeln!(out, "skipped: {}: {}", k.path, k.reason)?;
    }
    if !s.skipped.is_empty() {
        writeln!(out, "{} file(s) skipped", s.skipped.len())?;
    }
    if s.published {
        writeln!(
            out,
            "generation {} is live: {} articles, {} passages, {} learned places",
            s.generation, s.total_articles, s.total_passages, s.learned_places
        )?;
    } else if strict && !s.skipped.is_empty() {
        writeln!(out, "--strict: nothing published, the index is unchanged")?;
    } else {
        writeln!(
            out,
            "nothing changed: generation {} stays live",
            s.generation
        )?;
    }
    Ok(())
}

/// Prints index statistics for people.
pub fn print_stats(s: &Stats) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "index       {} (generation {}, schema v{})",
        s.path.display(),
        s.generation,
        s.schema_version
    )?;
    writeln!(out, "corpus      {}", s.corpus.display())?;
    writeln!(
        out,
        "built       {}",
        s.created.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    writeln!(out, "files       {}", s.files)?;
    writeln!(out, "articles    {}", s.articles)?;
    writeln!(out, "passages    {}", s.passages)?;
    match s.date_span {
        Some((a, b)) => writeln!(out, "dates       {a} .. {b}")?,
        None => writeln!(out, "dates       none")?,
    }
    writeln!(
        out,
        "size        {:.1} MiB",
        s.size_bytes as f64 / (1u64 << 20) as f64
    )?;
    writeln!(out, "learned     {} places", s.learned_places)?;
    writeln!(out, "top provinces (articles):")?;
    for c in &s.top_provinces {
        writeln!(out, "  {:>5}  {}", c.articles, c.value)?;
    }
    writeln!(out, "top groups (articles):")?;
    for c in &s.top_groups {
        writeln!(out, "  {:>5}  {}", c.articles, c.value)?;
    }
    Ok(())
}

/// One generation on disk, for `frontline generations`.
#[derive(Serialize)]
pub struct GenerationRow {
    generation: u64,
    live: bool,
    created: Option<chrono::DateTime<chrono::Utc>>,
    articles: Option<u64>,
    files: Option<usize>,
}

/// Lists the generations of a store.
pub fn generations(store: &Store) -> Result<Vec<GenerationRow>> {
    let current = store.current()?;
    if current.is_none() {
        return Err(frontline::Error::IndexNotFound(store.root().to_path_buf()).into());
    }
    let mut rows = Vec::new();
    for id in store.generations()? {
        // Streamed: counting a generation's files keeps none of them.
        let summary = store.manifest_summary(id).ok();
        rows.push(GenerationRow {
            generation: id.0,
            live: Some(id) == current,
            created: summary.as_ref().map(|s| s.head.created),
            articles: summary.as_ref().map(|s| s.articles),
            files: summary.as_ref().map(|s| s.files as usize),
        });
    }
    Ok(rows)
}

/// Prints the generation list for people.
pub fn print_generations(rows: &[GenerationRow]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for r in rows {
        let created = r.created.map_or("(no manifest)".to_string(), |c| {
            c.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        });
        writeln!(
            out,
            "{} {:>6}  {created}  {} articles  {} files",
            if r.live { "*" } else { " " },
            r.generation,
            r.articles.unwrap_or(0),
            r.files.unwrap_or(0)
        )?;
    }
    Ok(())
}

/// Prints the articles like one article, best first.
pub fn print_similar(r: &frontline::SimilarResults) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let date = |d: Option<chrono::NaiveDate>| d.map_or("undated".to_string(), |d| d.to_string());
    writeln!(
        out,
        "{} article{} like {} ({}, {}{}) ({:.1} ms)",
        r.similar.len(),
        if r.similar.len() == 1 { "" } else { "s" },
        r.article_id,
        date(r.event_date),
        r.provinces.join(", "),
        if r.groups.is_empty() {
            String::new()
        } else {
            format!("; {}", r.groups.join(", "))
        },
        r.took_ms,
    )?;
    for (i, s) in r.similar.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{:>3}. {}  {}  score {:.2}{}",
            i + 1,
            date(s.event_date),
            s.article_id,
            s.score,
            if s.same_story { "  (same story)" } else { "" },
        )?;
        let mut shared: Vec<String> = s.shared_provinces.clone();
        shared.extend(s.shared_groups.iter().cloned());
        if let Some(days) = s.days_apart.filter(|d| *d <= frontline::similar::NEAR_DAYS) {
            shared.push(format!(
                "{days} day{} apart",
                if days == 1 { "" } else { "s" }
            ));
        }
        if !s.title.is_empty() {
            writeln!(out, "     {}", s.title)?;
        }
        if !shared.is_empty() {
            writeln!(out, "     shares: {}", shared.join(" · "))?;
        }
    }
    Ok(())
}

/// `frontline explain`: the article's tags, then every piece of evidence.
pub fn print_explanation(e: &frontline::Explanation) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let a = &e.article;
    let t = &e.tags;
    let date = a
        .published
        .map(|d| d.date_naive().to_string())
        .unwrap_or_else(|| "unknown".into());
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    writeln!(out, "{}  ({})", a.id, a.title)?;
    writeln!(out, "  published   {date}")?;
    writeln!(
        out,
        "  event date  {}",
        t.event_date.map_or("-".into(), |d| d.to_string())
    )?;
    writeln!(
        out,
        "  provinces   {}",
        list(t.provinces.iter().map(ToString::to_string).collect())
    )?;
    writeln!(
        out,
        "  mentions    {}",
        list(t.mentions.iter().map(ToString::to_string).collect())
    )?;
    writeln!(out, "  countries   {}", list(t.countries.clone()))?;
    writeln!(out, "  groups      {}", list(t.groups.clone()))?;
    writeln!(out, "  outlet      {}", a.outlet.as_deref().unwrap_or("-"))?;
    writeln!(out, "\nevidence (paragraph, span, rule → tag):")?;
    for ev in &t.evidence {
        let rule = serde_json::to_value(ev.rule)?;
        let tag = match &ev.tag {
            frontline::tagging::TagValue::Province(p) => format!("province {p}"),
            frontline::tagging::TagValue::Mention(p) => {
                format!("mention {p} (background sentence)")
            }
            frontline::tagging::TagValue::Country(c) => format!("country {c}"),
            frontline::tagging::TagValue::Group(g) => format!("group {g}"),
            frontline::tagging::TagValue::EventDate(d) => format!("event date {d}"),
        };
        writeln!(
            out,
            "  ¶{:<3} {:>5}..{:<5} {:<18} {:?} → {tag}",
            ev.paragraph,
            ev.span.0,
            ev.span.1,
            rule.as_str().unwrap_or(""),
            ev.text
        )?;
    }
    Ok(())
}

/// `frontline places --learned`.
pub fn print_learned(learned: &frontline::tagging::LearnedPlaces) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if learned.is_empty() {
        writeln!(out, "no places learned from this corpus")?;
        return Ok(());
    }
    for place in learned.iter() {
        let provinces: Vec<String> = place
            .provinces
            .iter()
            .map(|(p, n)| format!("{p} ×{n}"))
            .collect();
        let used = if place.dominant().is_some() {
            ""
        } else {
            "  (unused: conflicting provinces)"
        };
        let taught: Vec<&str> = place.taught_by.iter().map(|a| a.0.as_str()).collect();
        writeln!(
            out,
            "{:<24} {}{used}\n{:<24} taught by {}",
            place.name,
            provinces.join(", "),
            "",
            taught.join(", ")
        )?;
    }
    Ok(())
}

/// `frontline eval`: a precision/recall table, then the disagreements.
pub fn print_eval(r: &frontline::eval::Report, verbose: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} labelled articles compared", r.articles)?;
    writeln!(
        out,
        "{:<12} {:>9} {:>7} {:>5} {:>5} {:>5}",
        "tag", "precision", "recall", "tp", "fp", "fn"
    )?;
    let rows = [
        ("provinces", r.provinces),
        ("mentions", r.mentions),
        ("countries", r.countries),
        ("groups", r.groups),
        ("event dates", r.event_dates),
    ];
    for (name, s) in rows {
        writeln!(
            out,
            "{name:<12} {:>9.3} {:>7.3} {:>5} {:>5} {:>5}",
            s.precision(),
            s.recall(),
            s.true_positives,
            s.false_positives,
            s.false_negatives
        )?;
    }
    for id in &r.missing {
        writeln!(out, "missing from the corpus: {id}")?;
    }
    if verbose {
        for m in &r.mismatches {
            writeln!(
                out,
                "{} {}: expected {:?}, found {:?}",
                m.id, m.field, m.expected, m.found
            )?;
        }
    } else if !r.mismatches.is_empty() {
        writeln!(
            out,
            "{} disagreements (--verbose lists them)",
            r.mismatches.len()
        )?;
    }
    Ok(())
}

/// `frontline check`.
pub fn print_check(r: &frontline::CheckReport) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "generation {} ({}): {} segments, {} passages read back",
        r.generation,
        r.path.display(),
        r.segments,
        r.passages
    )?;
    if r.problems.is_empty() {
        writeln!(out, "ok")?;
    } else {
        for p in &r.problems {
            writeln!(out, "damaged: {p}")?;
        }
        writeln!(
            out,
            "fix: `frontline rollback` to the previous generation, or `frontline index CORPUS_DIR --full`"
        )?;
    }
    Ok(())
}
