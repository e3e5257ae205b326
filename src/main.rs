//! The `frontline` command: argument parsing and dispatch only. The work is
//! done by the `frontline` library; rendering lives in `cli/`.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, documented in `--help` and the README.
mod exit {
    /// Success (search: at least one hit; index: published or up to date).
    pub const OK: u8 = 0;
    /// Search found nothing; `index --strict` skipped files (index unchanged).
    pub const NOTHING: u8 = 1;
    /// Any error: bad arguments, bad query, unreadable index, I/O failure.
    pub const ERROR: u8 = 2;
    /// Another `frontline index` holds the index's writer lock.
    pub const LOCKED: u8 = 3;
}

const AFTER_HELP: &str = "\
Exit codes: 0 success (index: even with skipped files, unless --skipped-exit CODE); 1 no hits
(search) or files skipped under --strict (index, nothing changed); 2 error; 3 index locked by
another `frontline index` run.

The index directory defaults to $FRONTLINE_INDEX, else ./frontline-index.";

/// Full-text search for conflict reporting: index news and wire reports,
/// tag them with provinces, armed groups and dates, and find the passages
/// that answer "what happened where, and by whom".
#[derive(Parser)]
#[command(name = "frontline", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build or update the index from a corpus directory.
    #[command(
        after_help = "Example:\n  frontline index sample-corpus --index /tmp/idx\n\n\
Reads .txt (format A: ` date YYYY-MM-DD ` header), .json, .jsonl/.ndjson, and the same gzipped.
An existing index is updated incrementally (new, changed and deleted files only) and the new
generation is published atomically: searches never see a half-built index."
    )]
    Index(IndexArgs),
    /// Search passages.
    #[command(
        after_help = "Examples:\n  frontline search raid --province Idlib --group \"Islamic State\"\n  \
frontline search '\"suicide bombing\"' --country Somalia --from 2025-01-01 --format json\n  \
frontline search '' --group RSF --province 'North Darfur' --limit 20   # newest first\n\n\
Query syntax (tantivy): terms are ANDed; OR, -term, \"phrase\", \"phrase\"~2 (slop), title:word,
and `raid NEAR/5 Idlib` (both words, in either order, at most 5 words apart; NEAR alone: 5).
Ranking: BM25 over the passage, plus a title match, a passage that names the filtered province
or group itself, and the query words standing close together (see --ranking).
Names: a group alias or province variant in a plain query (Daesh, ISIS, Idleb) also matches
passages tagged with that group or province however they spell it; --exact turns this off.
Typos: when a plain query finds fewer than 3 passages and some of its words occur nowhere in
the index, they are matched within 1 edit (2 from 8 letters) and the output says so.
--province matches a passage when its article's events are in that province or the passage
itself names it. Names accept any alias or spelling variant (Idleb, ISIS, Daesh, RSF)."
    )]
    Search(SearchArgs),
    /// Count matching articles per province, group, country or date.
    #[command(
        after_help = "Examples:\n  frontline facets --field group --country Syria\n  \
frontline facets raid --field date --interval week --group ISIS --format csv"
    )]
    Facets(FacetsArgs),
    /// Show what an index holds.
    #[command(after_help = "Example:\n  frontline stats --index /tmp/idx")]
    Stats(StatsArgs),
    /// Show every tag of an article with the text span and rule behind it.
    #[command(
        after_help = "Example:\n  frontline explain syria/idlib-raid.txt --index /tmp/idx\n\n\
Re-reads the article from the corpus the index was built from and tags it again with the
index's gazetteer and learned places, so you can see why it was tagged and fix the gazetteer."
    )]
    Explain(ExplainArgs),
    /// Find articles reporting the same or related events as one article.
    #[command(
        after_help = "Example:\n  frontline similar syria/idlib-raid.txt --index /tmp/idx --limit 5\n\n\
Candidates must share distinctive words with the article (more-like-this over its whole text);
each shared event province, armed group and event date within 7 days adds to their score.
Copies of the article's own wire story are listed too, marked `same story`. Exits 1 when
nothing is similar."
    )]
    Similar(SimilarArgs),
    /// List places: those learned from the corpus ("the town of X, in Y province").
    #[command(
        after_help = "Example:\n  frontline places --learned --index /tmp/idx\n\n\
A place learned with conflicting provinces is used only once one province has at least twice
the votes of any other; such places are marked `(unused)`."
    )]
    Places(PlacesArgs),
    /// Measure the tagger against hand-labelled articles (precision and recall).
    #[command(
        after_help = "Example:\n  frontline eval sample-corpus/expected.json --corpus sample-corpus\n\n\
The labels file is a JSON array of {id, date, event_date, provinces, mentions, countries,
groups}; see sample-corpus/expected.json. Exits 1 when a figure is below --min."
    )]
    Eval(EvalArgs),
    /// Verify an index: segment checksums and every stored passage.
    #[command(
        after_help = "Example:\n  frontline check --index /var/lib/frontline/index\n\n\
Exits 0 when the index is sound, 2 when it is damaged (then `frontline rollback` to the
previous generation, or rebuild with `frontline index CORPUS_DIR --full`)."
    )]
    Check(StatsArgs),
    /// List the generations kept in an index directory.
    #[command(after_help = "Example:\n  frontline generations --index /var/lib/frontline/index")]
    Generations(StatsArgs),
    /// Make an earlier generation live again.
    #[command(
        after_help = "Example:\n  frontline rollback --index /var/lib/frontline/index          # to the previous one\n  \
frontline rollback --index /var/lib/frontline/index --to 41"
    )]
    Rollback(RollbackArgs),
}

#[derive(Args)]
struct IndexLocation {
    /// Index directory [default: $FRONTLINE_INDEX, else ./frontline-index]
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
}

impl IndexLocation {
    fn path(&self) -> PathBuf {
        self.index
            .clone()
            .or_else(|| std::env::var_os("FRONTLINE_INDEX").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("frontline-index"))
    }
}

#[derive(Args)]
struct IndexArgs {
    /// The corpus directory to index.
    corpus: PathBuf,
    #[command(flatten)]
    location: IndexLocation,
    /// Rebuild from scratch instead of updating incrementally.
    #[arg(long)]
    full: bool,
    /// Read and hash every file. By default an incremental run skips a
    /// file whose size and modification time are those recorded when it
    /// was last read; use this when files may be rewritten with both kept.
    #[arg(long)]
    rehash: bool,
    /// Fail (exit 1, index unchanged) if any file is skipped.
    #[arg(long)]
    strict: bool,
    /// Exit with this code instead of 0 when the run published but skipped
    /// files, so a scheduler can tell "success with skipped files" from a
    /// clean run without failing it (e.g. `--skipped-exit 4`, with
    /// `SuccessExitStatus=4` in a systemd unit).
    #[arg(long, value_name = "CODE", default_value_t = 0)]
    skipped_exit: u8,
    /// Follow symbolic links in the corpus.
    #[arg(long)]
    follow_links: bool,
    /// Gazetteer directory overriding the embedded index-schema/ files.
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// Writer memory budget in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    memory: usize,
    /// Indexing threads [default: number of cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Generations to keep on disk, the new one included.
    #[arg(long, value_name = "N", default_value_t = 2)]
    keep: usize,
    /// Wait for another run's lock instead of exiting with code 3.
    #[arg(long)]
    wait: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum SummaryFormat {
    Text,
    Json,
}

/// Filters shared by `search` and `facets`.
#[derive(Args)]
struct Filters {
    /// Keep passages about this province (repeatable; any alias or variant).
    #[arg(long, value_name = "NAME")]
    province: Vec<String>,
    /// Keep passages about this armed group (repeatable; any alias).
    #[arg(long, value_name = "NAME")]
    group: Vec<String>,
    /// Keep passages of articles about this country (repeatable).
    #[arg(long, value_name = "NAME")]
    country: Vec<String>,
    /// First day, inclusive (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = cli::parse_date)]
    from: Option<chrono::NaiveDate>,
    /// Last day, inclusive (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = cli::parse_date)]
    to: Option<chrono::NaiveDate>,
    /// Date used by --from/--to and date sorting.
    #[arg(long, value_enum, default_value_t = DateFieldArg::Event)]
    date_field: DateFieldArg,
    /// Gazetteer directory used to resolve names (as given to `index`).
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DateFieldArg {
    /// The event date, falling back to the publication date.
    Event,
    /// The publication date.
    Published,
}

#[derive(Args)]
struct SearchArgs {
    /// Query text (tantivy syntax); empty with filters lists newest first.
    query: String,
    #[command(flatten)]
    location: IndexLocation,
    #[command(flatten)]
    filters: Filters,
    /// Maximum hits.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Hits to skip (paging).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Result order (date: newest first, for monitoring).
    #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
    sort: SortArg,
    /// Show every copy of a syndicated story, not one hit per story.
    #[arg(long)]
    all_copies: bool,
    /// At most N passages per article (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 2)]
    per_article: usize,
    /// Match names only as written. By default a group alias or province
    /// variant in the query ("Daesh ambush", "Idleb") also matches passages
    /// tagged with that group or province, whatever spelling they use.
    #[arg(long)]
    exact: bool,
    /// Never retry unknown words fuzzily. By default, when a plain query
    /// finds fewer than 3 passages and some of its words occur nowhere in
    /// the index, those words are matched within 1 edit (2 from 8 letters)
    /// and the output says so.
    #[arg(long)]
    no_fuzzy: bool,
    /// Count every match. By default counting stops after 10000 matches
    /// when the rest can be ranked without visiting them all, and the
    /// total is shown as a lower bound ("10000+ hits"; in JSON
    /// `total_hits_exact` is false).
    #[arg(long)]
    exact_total: bool,
    /// Ranking features on top of BM25: `full` (default), `bm25` (plain
    /// BM25), or a list of `title`, `facets`, `proximity`.
    #[arg(long, value_name = "LIST", default_value = "full", value_parser = cli::parse_ranking)]
    ranking: frontline::Ranking,
    /// Output format.
    #[arg(long, value_enum, default_value_t = cli::output::HitFormat::Text)]
    format: cli::output::HitFormat,
    /// Columns of csv/ndjson/json hits, comma-separated (default: all).
    /// Names as in the JSON output: rank, score, date, event_date,
    /// article_id, paragraph, passage, title, outlet, url, provinces,
    /// mentions, passage_provinces, groups, countries, text, highlights,
    /// story, also_in.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = cli::output::parse_field)]
    fields: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    Relevance,
    Date,
}

#[derive(Args)]
struct FacetsArgs {
    /// Query text (optional).
    #[arg(default_value = "")]
    query: String,
    #[command(flatten)]
    location: IndexLocation,
    #[command(flatten)]
    filters: Filters,
    /// What to count by.
    #[arg(long, value_enum, default_value_t = FacetFieldArg::Province)]
    field: FacetFieldArg,
    /// Bucket width for --field date.
    #[arg(long, value_enum, default_value_t = IntervalArg::Month)]
    interval: IntervalArg,
    /// Keep the N largest values (the N latest buckets for dates).
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = cli::output::TableFormat::Text)]
    format: cli::output::TableFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum FacetFieldArg {
    Province,
    Group,
    Country,
    Date,
}

#[derive(Clone, Copy, ValueEnum)]
enum IntervalArg {
    Day,
    Week,
    Month,
    Year,
}

#[derive(Args)]
struct StatsArgs {
    #[command(flatten)]
    location: IndexLocation,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Args)]
struct ExplainArgs {
    /// Article id, as `search` prints it (`syria/atmeh-raid.txt`, `feed.jsonl#a12`).
    article_id: String,
    #[command(flatten)]
    location: IndexLocation,
    /// Gazetteer directory the index was built with (default: embedded).
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Args)]
struct SimilarArgs {
    /// Article id, as `search` prints it (`syria/atmeh-raid.txt`, `feed.jsonl#a12`).
    article_id: String,
    #[command(flatten)]
    location: IndexLocation,
    /// Maximum articles listed.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Args)]
struct EvalArgs {
    /// Labels file (JSON array, one object per article).
    expected: PathBuf,
    /// Corpus directory the ids are relative to.
    #[arg(long, value_name = "DIR")]
    corpus: PathBuf,
    /// Gazetteer directory overriding the embedded data.
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// Fail (exit 1) when a precision or recall of provinces, groups or
    /// event dates is below this.
    #[arg(long, value_name = "RATIO", default_value_t = 0.0)]
    min: f64,
    /// List every disagreement.
    #[arg(long, short)]
    verbose: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Args)]
struct PlacesArgs {
    /// List the places learned from the corpus (the only listing for now).
    #[arg(long, default_value_t = true)]
    learned: bool,
    #[command(flatten)]
    location: IndexLocation,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Args)]
struct RollbackArgs {
    #[command(flatten)]
    location: IndexLocation,
    /// Generation to make live [default: the one before the live one].
    #[arg(long, value_name = "GEN")]
    to: Option<u64>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A bad flag value is one line ("error: invalid value '2025-02-30'
        // for '--from <DATE>': there is no day 30 in 2025-02"); other usage
        // errors keep clap's tips.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let rendered = e.render().to_string();
            eprintln!("{}", rendered.lines().next().unwrap_or("invalid value"));
            return ExitCode::from(exit::ERROR);
        }
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(exit::OK);
            }
            eprintln!("frontline: {}", message(&err));
            let locked = matches!(
                err.downcast_ref::<frontline::Error>(),
                Some(frontline::Error::LockHeld(_))
            );
            ExitCode::from(if locked { exit::LOCKED } else { exit::ERROR })
        }
    }
}

/// The error and its causes on one line, each cause that the message so
/// far already spells out left out (the library's errors print their
/// source in their own message).
fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Index(args) => run_index(args),
        Command::Search(args) => run_search(args),
        Command::Facets(args) => run_facets(args),
        Command::Stats(args) => {
            let index = frontline::Index::open(args.location.path())?;
            let stats = index.stats()?;
            match args.format {
                SummaryFormat::Text => cli::output::print_stats(&stats)?,
                SummaryFormat::Json => cli::output::print_json(&stats)?,
            }
            Ok(exit::OK)
        }
        Command::Explain(args) => {
            let index =
                frontline::Index::open_with(args.location.path(), args.schema_dir.as_deref())?;
            let explanation = index.explain(&args.article_id)?;
            match args.format {
                SummaryFormat::Text => cli::output::print_explanation(&explanation)?,
                SummaryFormat::Json => cli::output::print_json(&explanation)?,
            }
            Ok(exit::OK)
        }
        Command::Similar(args) => {
            let index = frontline::Index::open(args.location.path())?;
            let results = index.similar(&args.article_id, args.limit)?;
            match args.format {
                SummaryFormat::Text => cli::output::print_similar(&results)?,
                SummaryFormat::Json => cli::output::print_json(&results)?,
            }
            Ok(if results.similar.is_empty() {
                exit::NOTHING
            } else {
                exit::OK
            })
        }
        Command::Eval(args) => {
            let report = frontline::eval::evaluate(
                &args.expected,
                &args.corpus,
                args.schema_dir.as_deref(),
            )?;
            match args.format {
                SummaryFormat::Text => cli::output::print_eval(&report, args.verbose)?,
                SummaryFormat::Json => cli::output::print_json(&report)?,
            }
            let scores = [report.provinces, report.groups, report.event_dates];
            let below = scores
                .iter()
                .any(|s| s.precision() < args.min || s.recall() < args.min);
            Ok(if below { exit::NOTHING } else { exit::OK })
        }
        Command::Check(args) => {
            let index = frontline::Index::open(args.location.path())?;
            let report = index.check()?;
            match args.format {
                SummaryFormat::Text => cli::output::print_check(&report)?,
                SummaryFormat::Json => cli::output::print_json(&report)?,
            }
            Ok(if report.problems.is_empty() {
                exit::OK
            } else {
                exit::ERROR
            })
        }
        Command::Places(args) => {
            let index = frontline::Index::open(args.location.path())?;
            let learned = &index.manifest_head()?.learned_places;
            match args.format {
                SummaryFormat::Text => cli::output::print_learned(learned)?,
                SummaryFormat::Json => cli::output::print_json(learned)?,
            }
            Ok(exit::OK)
        }
        Command::Generations(args) => {
            let store = frontline::generation::Store::new(args.location.path());
            let list = cli::output::generations(&store)?;
            match args.format {
                SummaryFormat::Text => cli::output::print_generations(&list)?,
                SummaryFormat::Json => cli::output::print_json(&list)?,
            }
            Ok(exit::OK)
        }
        Command::Rollback(args) => {
            let store = frontline::generation::Store::new(args.location.path());
            let target =
                frontline::generation::rollback(&store, args.to.map(frontline::GenerationId))?;
            println!("generation {target} is live");
            Ok(exit::OK)
        }
    }
}

fn run_index(args: IndexArgs) -> anyhow::Result<u8> {
    let mut opts = frontline::BuildOptions::new(&args.corpus, args.location.path());
    opts.full = args.full;
    opts.rehash = args.rehash;
    opts.strict = args.strict;
    opts.follow_links = args.follow_links;
    opts.schema_dir = args.schema_dir;
    opts.memory_budget = args.memory.saturating_mul(1 << 20);
    opts.threads = args.threads;
    opts.keep = args.keep;
    opts.wait_for_lock = args.wait;
    let progress = cli::progress::Bar::new(args.quiet);
    let result = frontline::Index::build_with_progress(&opts, &progress);
    progress.clear();
    let (summary, code) = match result {
        Ok(summary) if !summary.skipped.is_empty() => (summary, args.skipped_exit),
        Ok(summary) => (summary, exit::OK),
        Err(frontline::Error::Strict(summary)) => {
            eprintln!("frontline: {}", frontline::Error::Strict(summary.clone()));
            (*summary, exit::NOTHING)
        }
        Err(e) => return Err(e.into()),
    };
    match args.format {
        SummaryFormat::Text => cli::output::print_summary(&summary, args.strict)?,
        SummaryFormat::Json => cli::output::print_json(&summary)?,
    }
    Ok(code)
}

fn build_query(text: &str, f: &Filters) -> frontline::Query {
    let mut q = frontline::Query::new(text).date_field(match f.date_field {
        DateFieldArg::Event => frontline::DateField::Event,
        DateFieldArg::Published => frontline::DateField::Published,
    });
    for p in &f.province {
        q = q.province(p);
    }
    for g in &f.group {
        q = q.group(g);
    }
    for c in &f.country {
        q = q.country(c);
    }
    if let Some(d) = f.from {
        q = q.from(d);
    }
    if let Some(d) = f.to {
        q = q.to(d);
    }
    q
}

fn run_search(args: SearchArgs) -> anyhow::Result<u8> {
    let index =
        frontline::Index::open_with(args.location.path(), args.filters.schema_dir.as_deref())?;
    let query = build_query(&args.query, &args.filters)
        .limit(args.limit)
        .offset(args.offset)
        .all_copies(args.all_copies)
        .per_article(args.per_article)
        .exact(args.exact)
        .fuzzy(!args.no_fuzzy)
        .exact_total(args.exact_total)
        .ranking(args.ranking)
        .sort(match args.sort {
            SortArg::Relevance => frontline::Sort::Relevance,
            SortArg::Date => frontline::Sort::Date,
        });
    let results = index.search(&query)?;
    cli::output::print_hits(&results, &query, args.format, &args.fields)?;
    Ok(if results.total_hits.value() == 0 {
        exit::NOTHING
    } else {
        exit::OK
    })
}

fn run_facets(args: FacetsArgs) -> anyhow::Result<u8> {
    let index =
        frontline::Index::open_with(args.location.path(), args.filters.schema_dir.as_deref())?;
    let query = build_query(&args.query, &args.filters);
    let field = match args.field {
        FacetFieldArg::Province => frontline::FacetField::Province,
        FacetFieldArg::Group => frontline::FacetField::Group,
        FacetFieldArg::Country => frontline::FacetField::Country,
        FacetFieldArg::Date => frontline::FacetField::Date,
    };
    let interval = match args.interval {
        IntervalArg::Day => frontline::Interval::Day,
        IntervalArg::Week => frontline::Interval::Week,
        IntervalArg::Month => frontline::Interval::Month,
        IntervalArg::Year => frontline::Interval::Year,
    };
    let counts = index.facets(&query, field, interval, args.top)?;
    cli::output::print_facets(&counts, interval, args.format)?;
    Ok(exit::OK)
}

// jemalloc instead of the system allocator: on a 100k-article build it cut
// indexing CPU by 10-15 % and peak memory by 8 %, and at 300k glibc's
// arenas kept freed writer pages resident (see docs/benchmarks.md,
// "Indexing memory at scale"). The library leaves the choice to embedders.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn an_error_that_prints_its_source_prints_it_once() {
        let io = std::io::Error::other("No space left on device");
        let err = anyhow::Error::from(frontline::Error::io("/srv/index", io));
        assert_eq!(message(&err), "/srv/index: No space left on device");
        let wrapped = err.context("indexing /srv/corpus");
        assert_eq!(
            message(&wrapped),
            "indexing /srv/corpus: /srv/index: No space left on device"
        );
    }
}
