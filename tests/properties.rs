//! Property tests (issue 7): the article parsers, the date resolver and the
//! query path, through the public API only.
//!
//! Case counts are kept small (the suite runs in the debug profile); the
//! fuzz targets in `fuzz/` explore the same entry points for longer.

use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use frontline::article::{decode, parse_json, parse_json_lines, parse_text, Parsed};
use frontline::dates::{parse_user_date, resolve, resolve_all};
use frontline::passage::{split, SplitOptions};
use frontline::search::{DateField, Sort, TotalHits};
use frontline::{BuildOptions, Index, Query};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Strategies

/// A word of the kind articles are made of (no sentence punctuation, so a
/// generated paragraph never looks like a syndication notice by accident).
fn word() -> impl Strategy<Value = String> {
    "[A-Za-z][a-z0-9]{0,9}"
}

/// A paragraph of 1 to 40 words, joined by single spaces.
fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..40).prop_map(|w| w.join(" "))
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    // 1900-01-01 ..= 2199-12-31
    (0i64..109_572).prop_map(|d| {
        NaiveDate::from_ymd_opt(1900, 1, 1)
            .unwrap()
            .checked_add_days(Days::new(d as u64))
            .unwrap()
    })
}

fn any_weekday() -> impl Strategy<Value = Weekday> {
    (0u8..7).prop_map(|n| Weekday::try_from(n).unwrap())
}

/// Text that looks like format A more often than random bytes do: a
/// header that may be broken, then lines with blank lines, tabs, `\r`,
/// Unicode and parentheses.
fn format_a_like() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just(String::new()),
        Just(" date 2025-08-21 ".to_string()),
        Just("date 2024-02-29\t".to_string()),
        "[ \t\n]{0,3}date[ \t]{0,2}[0-9-]{0,12}[ \n]?",
    ];
    let line = prop_oneof![
        "[ \t]*",
        "\\PC{0,60}",
        "[a-zA-Z .,()\u{a0}\u{2003}é]{0,80}",
        Just("(Except for the headline, this story has not been edited by X staff and is published from a syndicated feed.)".to_string()),
    ];
    let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\n\n"), Just("\r")];
    (header, prop::collection::vec((line, eol), 0..12)).prop_map(|(h, lines)| {
        let mut s = h;
        for (l, e) in lines {
            s.push_str(&l);
            s.push_str(e);
        }
        s
    })
}

// ---------------------------------------------------------------------------
// Helpers

fn non_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// What holds for any successful parse: at least one article, every
/// paragraph non-empty and trimmed, with no line breaks; passages cover the
/// paragraphs in order, losing nothing but whitespace.
fn check_parsed(parsed: &Parsed) -> Result<(), TestCaseError> {
    for article in &parsed.articles {
        prop_assert!(!article.paragraphs.is_empty());
        for p in &article.paragraphs {
            prop_assert!(!p.text.is_empty());
            prop_assert_eq!(p.text.trim(), p.text.as_str());
            prop_assert!(!p.text.contains('\n'), "{:?}", p.text);
        }
        for pair in article.paragraphs.windows(2) {
            prop_assert!(pair[0].ordinal < pair[1].ordinal);
        }
        let passages = split(article, &SplitOptions::default());
        prop_assert!(!passages.is_empty());
        for p in &passages {
            prop_assert!(!p.text.is_empty());
            prop_assert!(p.paragraph <= p.last_paragraph);
        }
        let from_paragraphs: String = article.paragraphs.iter().map(|p| non_ws(&p.text)).collect();
        let from_passages: String = passages.iter().map(|p| non_ws(&p.text)).collect();
        prop_assert_eq!(from_passages, from_paragraphs);
    }
    for w in &parsed.warnings {
        prop_assert!(!w.reason.contains('\n'), "{:?}", w.reason);
    }
    Ok(())
}

/// Every whitespace-separated word of every paragraph occurs in `source`
/// (paragraphs are the source's lines, trimmed and joined).
fn check_faithful(parsed: &Parsed, source: &str) -> Result<(), TestCaseError> {
    for article in &parsed.articles {
        for p in &article.paragraphs {
            for w in p.text.split_whitespace() {
                prop_assert!(source.contains(w), "{:?} not in the input", w);
            }
        }
    }
    Ok(())
}

fn render_format_a(date: NaiveDate, paragraphs: &[String], breaks: &[bool]) -> String {
    let mut out = format!(" date {date} ");
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        // Wrap some lines, with trailing blanks the parser must drop.
        for (j, w) in p.split(' ').enumerate() {
            if j > 0 {
                let wrap = breaks.get((i + j) % breaks.len().max(1)) == Some(&true);
                out.push_str(if wrap { " \t\n  " } else { " " });
            }
            out.push_str(w);
        }
    }
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------
// Parsers: any input parses or errors cleanly

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_and_parse_as_text(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok((text, _)) = decode(&bytes) {
            if let Ok(parsed) = parse_text("p.txt", &text) {
                prop_assert_eq!(parsed.articles.len(), 1);
                check_parsed(&parsed)?;
                check_faithful(&parsed, &text)?;
            }
        }
    }

    #[test]
    fn format_a_like_text_parses_or_errors(text in format_a_like()) {
        match parse_text("p.txt", &text) {
            Ok(parsed) => {
                prop_assert_eq!(parsed.articles.len(), 1);
                check_parsed(&parsed)?;
                check_faithful(&parsed, &text)?;
            }
            Err(e) => prop_assert!(!e.contains('\n')),
        }
    }

    #[test]
    fn any_bytes_parse_as_json_and_json_lines(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        for result in [parse_json("p.json", &text), parse_json_lines("p.jsonl", &text)] {
            match result {
                Ok(parsed) => check_parsed(&parsed)?,
                Err(e) => prop_assert!(!e.contains('\n')),
            }
        }
    }

    #[test]
    fn json_like_values_parse_or_error(
        fields in prop::collection::vec(
            (
                prop_oneof![Just("id"), Just("body"), Just("text"), Just("title"),
                            Just("published"), Just("date"), Just("source"), Just("url")],
                prop_oneof![
                    "\\PC{0,40}".prop_map(serde_json::Value::from),
                    any::<i64>().prop_map(serde_json::Value::from),
                    any::<f64>().prop_map(serde_json::Value::from),
                    Just(serde_json::Value::Null),
                    "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?"
                        .prop_map(serde_json::Value::from),
                ],
            ),
            0..8,
        ),
        as_array in any::<bool>(),
    ) {
        let obj: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let value = serde_json::Value::Object(obj);
        let line = value.to_string();
        let text = if as_array { format!("[{line}, {line}]") } else { line.clone() };
        let parsed = parse_json("p.json", &text).unwrap();
        check_parsed(&parsed)?;
        let parsed_lines = parse_json_lines("p.jsonl", &format!("{line}\n{line}\n")).unwrap();
        check_parsed(&parsed_lines)?;
        prop_assert_eq!(parsed_lines.articles.len() % 2, 0);
    }
}

// ---------------------------------------------------------------------------
// Parsers: round trips

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Format A: date and paragraphs come back, lines of a paragraph joined
    /// by single spaces (the documented normalisation).
    #[test]
    fn format_a_round_trips(
        date in any_date(),
        paragraphs in prop::collection::vec(paragraph(), 1..8),
        breaks in prop::collection::vec(any::<bool>(), 1..16),
    ) {
        let text = render_format_a(date, &paragraphs, &breaks);
        let parsed = parse_text("r.txt", &text).unwrap();
        prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let a = &parsed.articles[0];
        prop_assert_eq!(a.published.map(|d| d.date_naive()), Some(date));
        let got: Vec<&str> = a.paragraphs.iter().map(|p| p.text.as_str()).collect();
        prop_assert_eq!(got, paragraphs.iter().map(String::as_str).collect::<Vec<_>>());
        let ordinals: Vec<u32> = a.paragraphs.iter().map(|p| p.ordinal).collect();
        prop_assert_eq!(ordinals, (0..paragraphs.len() as u32).collect::<Vec<_>>());
        check_parsed(&parsed)?;
    }

    /// Paragraphs between the merge and the cut thresholds are passages
    /// as they are, one each.
    #[test]
    fn mid_sized_paragraphs_are_passages_unchanged(
        paragraphs in prop::collection::vec(
            paragraph().prop_filter("60..1500 bytes", |p| (60..1500).contains(&p.len())),
            1..6,
        ),
    ) {
        let text = render_format_a(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(), &paragraphs, &[false]);
        let a = &parse_text("m.txt", &text).unwrap().articles[0];
        let passages = split(a, &SplitOptions::default());
        let got: Vec<&str> = passages.iter().map(|p| p.text.as_str()).collect();
        prop_assert_eq!(got, paragraphs.iter().map(String::as_str).collect::<Vec<_>>());
        for (i, p) in passages.iter().enumerate() {
            prop_assert_eq!((p.paragraph, p.last_paragraph, p.ordinal), (i as u32, i as u32, i as u32));
        }
    }

    /// Format B: one object, an array, and JSON Lines give back the body's
    /// paragraphs, the title, the date and the ids.
    #[test]
    fn json_round_trips(
        articles in prop::collection::vec(
            (any_date(), "[a-z0-9]{1,8}", paragraph(), prop::collection::vec(paragraph(), 1..5)),
            1..5,
        ),
    ) {
        let values: Vec<serde_json::Value> = articles
            .iter()
            .map(|(date, id, title, paragraphs)| {
                serde_json::json!({
                    "id": id,
                    "title": title,
                    "published": format!("{date}T12:00:00+02:00"),
                    "body": paragraphs.join("\n\n"),
                })
            })
            .collect();
        let lines: String = values.iter().map(|v| format!("{v}\n")).collect();
        let as_array = serde_json::Value::Array(values.clone()).to_string();
        for parsed in [
            parse_json_lines("b.jsonl", &lines).unwrap(),
            parse_json("b.json", &as_array).unwrap(),
        ] {
            prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
            prop_assert_eq!(parsed.articles.len(), articles.len());
            for (a, (date, id, title, paragraphs)) in parsed.articles.iter().zip(&articles) {
                let suffix = format!("#{id}");
                prop_assert!(a.id.0.ends_with(&suffix));
                prop_assert_eq!(&a.title, title);
                prop_assert_eq!(a.published.map(|d| d.date_naive()), Some(*date));
                let got: Vec<&str> = a.paragraphs.iter().map(|p| p.text.as_str()).collect();
                prop_assert_eq!(got, paragraphs.iter().map(String::as_str).collect::<Vec<_>>());
            }
        }
        let single = parse_json("one.json", &values[0].to_string()).unwrap();
        prop_assert_eq!(single.articles.len(), 1);
        prop_assert_eq!(single.articles[0].id.0.as_str(), format!("one.json#{}", articles[0].1));
    }
}

// ---------------------------------------------------------------------------
// Dates

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// "on <Weekday>" is the latest such day on or before publication: the
    /// same day when the weekdays agree, else within the six days before.
    #[test]
    fn weekday_is_the_latest_such_day_up_to_publication(
        published in any_date(),
        weekday in any_weekday(),
        early in any::<bool>(),
    ) {
        let name = format!("{weekday:?}"); // "Mon"
        let full = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            [weekday.num_days_from_monday() as usize];
        prop_assert!(full.starts_with(&name));
        let text = if early {
            format!("Fighters attacked the base early on {full} and withdrew.")
        } else {
            format!("Fighters attacked the base on {full} night.")
        };
        let found = resolve(&text, Some(published)).unwrap();
        prop_assert_eq!(found.date.weekday(), weekday);
        prop_assert!(found.date <= published);
        prop_assert!((published - found.date).num_days() < 7);
        prop_assert_eq!(found.date == published, published.weekday() == weekday);
        prop_assert_eq!(&text[found.span.0..found.span.1], full);
    }

    #[test]
    fn yesterday_is_the_day_before(published in any_date()) {
        let found = resolve("Two soldiers died yesterday.", Some(published)).unwrap();
        prop_assert_eq!(Some(found.date), published.pred_opt());
    }

    /// A month and day without a year is within the year up to publication.
    #[test]
    fn month_day_without_year_is_in_the_past_year(
        published in any_date(),
        month in 1u32..=12,
        day in 1u32..=31,
    ) {
        let names = ["January", "February", "March", "April", "May", "June", "July",
                     "August", "September", "October", "November", "December"];
        let text = format!("The raid on {} {day} killed four.", names[month as usize - 1]);
        if let Some(found) = resolve(&text, Some(published)) {
            prop_assert_eq!((found.date.month(), found.date.day()), (month, day));
            prop_assert!(found.date <= published);
            prop_assert!((published - found.date).num_days() < 366);
        }
    }

    /// Any text, with or without a publication date: no panic, spans on
    /// char boundaries and in order, `resolve` is the first of
    /// `resolve_all`.
    #[test]
    fn any_text_resolves_cleanly(text in "\\PC{0,200}", published in prop::option::of(any_date())) {
        let all = resolve_all(&text, published);
        for f in &all {
            prop_assert!(f.span.0 < f.span.1 && f.span.1 <= text.len());
            prop_assert!(text.is_char_boundary(f.span.0) && text.is_char_boundary(f.span.1));
        }
        for pair in all.windows(2) {
            prop_assert!(pair[0].span.1 <= pair[1].span.0);
        }
        prop_assert_eq!(resolve(&text, published), all.first().cloned());
    }

    /// Every valid date in `YYYY-MM-DD` form round-trips through chrono's
    /// formatting; `YYYY-MM` and `YYYY` are the first day.
    #[test]
    fn user_dates_round_trip(days in 0i64..3_287_182) {
        // 1000-01-01 ..= 9999-12-31
        let date = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap()
            .checked_add_days(Days::new(days as u64)).unwrap();
        prop_assert_eq!(parse_user_date(&date.format("%Y-%m-%d").to_string()), Ok(date));
        prop_assert_eq!(parse_user_date(&format!("  {date}\t")), Ok(date));
        let first_of_month = date.with_day(1).unwrap();
        prop_assert_eq!(parse_user_date(&date.format("%Y-%m").to_string()), Ok(first_of_month));
        let first_of_year = first_of_month.with_month(1).unwrap();
        prop_assert_eq!(parse_user_date(&date.format("%Y").to_string()), Ok(first_of_year));
    }

    /// Year-month-day triples are accepted exactly when they are a date.
    #[test]
    fn user_dates_accept_exactly_the_valid_ones(y in 1000i32..=9999, m in 0u32..=14, d in 0u32..=33) {
        let s = format!("{y:04}-{m:02}-{d:02}");
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => prop_assert_eq!(parse_user_date(&s), Ok(date)),
            None => {
                let err = parse_user_date(&s).unwrap_err();
                prop_assert!(err.contains(&s) && !err.contains('\n'), "{}", err);
            }
        }
    }

    #[test]
    fn any_string_is_a_user_date_or_a_one_line_error(s in any::<String>()) {
        if let Err(e) = parse_user_date(&s) {
            prop_assert!(!e.contains('\n'), "{}", e);
        }
    }
}

// ---------------------------------------------------------------------------
// The query path over a tiny real index

const ARTICLES: &[(&str, &str)] = &[
    (
        "syria/checkpoint.txt",
        " date 2025-08-21 Gunmen attacked an army checkpoint in Idlib province on Wednesday, killing three soldiers.\n\nThe attackers fled towards the hills, a local official said.\n",
    ),
    (
        "somalia/convoy.txt",
        " date 2025-03-04 Al-Shabaab fighters ambushed a supply convoy near Mogadishu yesterday.\n\nTwo trucks burned on the road, witnesses said.\n",
    ),
    (
        "typo/far-future.txt",
        // A mistyped year beyond what tantivy's i64-nanosecond dates hold.
        " date 9999-12-31 Militia fighters shelled a village on Monday, wounding a shepherd.\n",
    ),
    (
        "mali/market.jsonl",
        "{\"id\": \"m1\", \"title\": \"Drone strike on a market\", \"published\": \"2024-12-30\", \"body\": \"A drone strike hit a crowded market in the Mopti region on Monday.\\n\\nResidents fled the town.\"}\n",
    ),
];

/// Words that occur in the indexed passages.
const VOCABULARY: &[&str] = &[
    "gunmen",
    "checkpoint",
    "soldiers",
    "attackers",
    "hills",
    "official",
    "fighters",
    "ambushed",
    "convoy",
    "trucks",
    "road",
    "witnesses",
    "drone",
    "market",
    "residents",
    "town",
    "Mogadishu",
    "Mopti",
    "Idlib",
    "shepherd",
];

fn index() -> &'static Index {
    static INDEX: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let corpus = dir.path().join("corpus");
            for (path, text) in ARTICLES {
                let path = corpus.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            let mut opts = BuildOptions::new(&corpus, dir.path().join("index"));
            opts.threads = Some(1);
            opts.memory_budget = 20 << 20;
            let summary = Index::build(&opts).unwrap();
            assert_eq!(summary.total_articles, 4);
            let index = Index::open(dir.path().join("index")).unwrap();
            (dir, index)
        })
        .1
}

/// The search path's contract: a result, or an error that prints on one
/// line; highlights are valid byte ranges of the hit's text.
fn check_search(q: &Query) -> Result<(), TestCaseError> {
    match index().search(q) {
        Ok(results) => {
            for hit in &results.hits {
                for &[start, end] in &hit.highlights {
                    prop_assert!(start < end && end <= hit.text.len());
                    prop_assert!(
                        hit.text.is_char_boundary(start) && hit.text.is_char_boundary(end)
                    );
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.is_empty() && !msg.contains('\n'), "{}", msg);
        }
    }
    Ok(())
}

/// Query text with what breaks parsers: quotes, parentheses, operators,
/// fields, control characters, any Unicode.
fn query_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(VOCABULARY).prop_map(str::to_string),
        2 => prop::sample::select(vec![
            "\"", "(", ")", "AND", "OR", "NOT", "NEAR", "-", "+", "*", "~2", "^3", ":",
            "title:", "text:", "[", "]", "{", "}", "TO", "IN", "\\", "'", "Daesh", "ISIS",
            "Idleb", "al-Shabaab", "\u{0}", "\u{7}", "\n", "\u{feff}", "é", "ب",
        ]).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_query_text_is_a_result_or_a_one_line_error(text in query_text(), sort_by_date in any::<bool>()) {
        let sort = if sort_by_date { Sort::Date } else { Sort::Relevance };
        check_search(&Query::new(text).sort(sort))?;
    }

    #[test]
    fn arbitrary_strings_are_a_result_or_a_one_line_error(text in any::<String>()) {
        check_search(&Query::new(text))?;
    }

    #[test]
    fn long_queries_are_a_result_or_a_one_line_error(unit in "\\PC{1,8}", n in 1usize..3000) {
        check_search(&Query::new(unit.repeat(n)))?;
    }

    /// Plain words of the corpus always run and find something.
    #[test]
    fn indexed_words_find_their_passages(words in prop::collection::vec(prop::sample::select(VOCABULARY), 1..2)) {
        let results = index().search(&Query::new(words.join(" "))).unwrap();
        prop_assert!(results.total_hits.value() >= 1, "{:?}", words);
    }

    /// Filters: any names and any dates run or fail with a one-line error.
    #[test]
    fn any_filters_are_a_result_or_a_one_line_error(
        province in prop::option::of("\\PC{0,30}"),
        group in prop::option::of(prop_oneof![Just("ISIS".to_string()), "\\PC{0,30}"]),
        country in prop::option::of(prop_oneof![Just("Syria".to_string()), "\\PC{0,30}"]),
        from in prop::option::of(any::<i32>()),
        to in prop::option::of(any::<i32>()),
        published in any::<bool>(),
    ) {
        let mut q = Query::new("").date_field(if published { DateField::Published } else { DateField::Event });
        if let Some(p) = province { q = q.province(p); }
        if let Some(g) = group { q = q.group(g); }
        if let Some(c) = country { q = q.country(c); }
        let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n % 3_652_059);
        if let Some(d) = from.and_then(day) { q = q.from(d); }
        if let Some(d) = to.and_then(day) { q = q.to(d); }
        check_search(&q)?;
    }
}

// ---------------------------------------------------------------------------
// Regressions

/// Found by `any_filters_are_a_result_or_a_one_line_error`: a `--to` in
/// year 0 (or a `--from` after 2262) overflowed tantivy's
/// `DateTime::from_timestamp_secs` (a panic in debug builds, a wrapped
/// bound in release). Bounds now saturate.
#[test]
fn regression_out_of_range_filter_dates() {
    let year_0 = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
    let year_9999 = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    assert_eq!(
        index()
            .search(&Query::new("").to(year_0))
            .unwrap()
            .total_hits,
        TotalHits::Exact(0)
    );
    // Both bounds past tantivy's range: runs, and matches nothing (the
    // year-9999 article is stored at tantivy's latest second, which is
    // before the saturated bound).
    let q = Query::new("")
        .from(year_9999)
        .to(year_9999)
        .date_field(DateField::Published);
    assert_eq!(index().search(&q).unwrap().total_hits, TotalHits::Exact(0));
    let q = Query::new("village").from(NaiveDate::from_ymd_opt(2262, 1, 1).unwrap());
    assert_eq!(index().search(&q).unwrap().total_hits, TotalHits::Exact(1));
    let q = Query::new("").to(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
    assert_eq!(index().search(&q).unwrap().total_hits, TotalHits::Exact(4));
}

/// Same bug on the indexing side: an article dated 9999-12-31 overflowed
/// while its passage document was built (the build panicked in debug).
#[test]
fn regression_article_dated_beyond_2262_is_indexed() {
    let results = index().search(&Query::new("shepherd")).unwrap();
    assert_eq!(results.total_hits, TotalHits::Exact(1));
    let hit = &results.hits[0];
    assert_eq!(hit.article_id, "typo/far-future.txt");
    assert_eq!(hit.date, NaiveDate::from_ymd_opt(2262, 4, 11));
}

/// Counting stops at `count_up_to` only when the rest of the ranking can
/// skip passages: the hits are the same as with every match counted, and
/// the total says it is a lower bound (in JSON too). On the sample corpus.
#[test]
fn bounded_totals_keep_the_hits_and_say_they_are_lower_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-corpus");
    Index::build(&BuildOptions::new(corpus, dir.path())).unwrap();
    let index = Index::open(dir.path()).unwrap();
    let page = |r: &frontline::SearchResults| {
        r.hits
            .iter()
            .map(|h| (h.article_id.clone(), h.passage, h.score))
            .collect::<Vec<_>>()
    };
    let mut bounded = 0;
    for text in [
        "\"security forces\"",
        "\"killed in\"",
        "killed",
        "killed AND village",
        "attack killed",
    ] {
        let exact = index
            .search(&Query::new(text).exact_total(true).limit(20))
            .unwrap();
        let capped = index
            .search(&Query::new(text).count_up_to(2).limit(20))
            .unwrap();
        assert!(exact.total_hits.is_exact(), "{text}");
        assert_eq!(page(&capped), page(&exact), "{text}");
        match capped.total_hits {
            TotalHits::Exact(n) => assert_eq!(n, exact.total_hits.value(), "{text}"),
            TotalHits::AtLeast(n) => {
                // At least the cap, and a true lower bound. Not exactly the
                // cap: a segment where pruning does not pay counts all its
                // matches, and which segment that is depends on how the
                // build's threads split the passages.
                assert!(n >= 2 && n <= exact.total_hits.value(), "{text}: {n}");
                let json = serde_json::to_value(&capped).unwrap();
                assert_eq!(json["total_hits"], n);
                assert_eq!(json["total_hits_exact"], false);
                assert_eq!(capped.total_hits.to_string(), format!("{n}+"));
                bounded += 1;
            }
        }
    }
    assert!(bounded >= 2, "too few bounded totals: {bounded}");
}
