//! Event dates: resolving "on Wednesday", "last month" or "Aug. 14"
//! against the publication date.
//!
//! Wire reports date events relative to the day they are filed. The rules
//! (each tested below):
//!
//! - a weekday ("on Wednesday", "early on Wednesday", "Wednesday night") is
//!   the latest such day on or before the publication date;
//! - "yesterday" is the day before, "today", "this morning" and "overnight"
//!   the publication day;
//! - a month and day ("Aug. 14", "14 August", "August 14, 2025") is that
//!   day in the publication year, or the year before when that would be in
//!   the future;
//! - a month alone ("in July") and "last month" are the first day of that
//!   month (analysts filter by ranges, so a month-level date is kept at the
//!   month's start);
//! - "last week" is seven days before.
//!
//! ```
//! use chrono::NaiveDate;
//! use frontline::dates::resolve;
//! let thursday = NaiveDate::from_ymd_opt(2025, 8, 21).unwrap();
//! let found = resolve("US forces raided a house on Wednesday.", Some(thursday)).unwrap();
//! assert_eq!(found.date, NaiveDate::from_ymd_opt(2025, 8, 20).unwrap());
//! ```

use std::sync::LazyLock;

use crate::tagging::{Rule, Twin};
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// A date expression found in a text and the day it denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDate {
    /// The resolved day.
    pub date: NaiveDate,
    /// Which rule resolved it.
    pub rule: Rule,
    /// Byte span of the expression in the text.
    pub span: (usize, usize),
}

const MONTHS: &str = r"Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sep(?:tember|t\.|t|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?";

static DATE_EXPR: LazyLock<Twin> = LazyLock::new(|| {
    let pattern = format!(
        r"(?x)
        \b(?P<md_month>{MONTHS})\s+(?P<md_day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<md_year>(?:19|20)\d\d)\b)?
      | \b(?P<dm_day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dm_month>{MONTHS})(?:\s+(?P<dm_year>(?:19|20)\d\d))?\b
      | \b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b
      | \b(?P<yesterday>[Yy]esterday)\b
      | \b(?P<today>[Tt]oday|[Tt]his\s+morning|[Oo]vernight|[Tt]onight)\b
      | \b(?P<last_week>[Ll]ast\s+week)\b
      | \b(?P<last_month>[Ll]ast\s+month)\b
      | \b(?:[Ii]n|[Ss]ince|[Ee]arly|[Ll]ate|[Mm]id-?)\s+(?P<month_only>{month_names})\b(?:\s+(?P<mo_year>(?:19|20)\d\d)\b)?
    ",
        month_names = MONTH_NAMES.join("|"),
    );
    // The pattern is a constant: a failure here is a bug caught by every
    // test. ASCII text is searched with Unicode off (see `Twin`).
    Twin::new(&pattern)
});

/// Finds the first date expression in `text` that resolves against the
/// publication date `published` (without one, only expressions that carry
/// their year resolve).
pub fn resolve(text: &str, published: Option<NaiveDate>) -> Option<FoundDate> {
    resolve_all(text, published).into_iter().next()
}

/// Every date expression of `text` that resolves, in text order.
pub fn resolve_all(text: &str, published: Option<NaiveDate>) -> Vec<FoundDate> {
    resolve_each(text, published).collect()
}

/// Words that every match of [`DATE_EXPR`] holds: a month's first three
/// letters (every month name and abbreviation starts with them), `day`
/// (weekdays, yesterday, today), `morning`, `vernight`, `onight`, `week`,
/// `month`. A text with none has no date expression, and this search
/// (Teddy) is much cheaper than the pattern's, whose alternatives may start
/// at any digit. `None` where Teddy is not available.
static DATE_WORDS: LazyLock<Option<aho_corasick::packed::Searcher>> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .builder()
        .extend([
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            "day", "morning", "vernight", "onight", "week", "month",
        ])
        .build()
});

/// [`resolve_all`] one at a time, for callers that stop early (the event
/// date): each match is searched for only when asked for.
pub(crate) fn resolve_each(
    text: &str,
    published: Option<NaiveDate>,
) -> impl Iterator<Item = FoundDate> + '_ {
    let none = DATE_WORDS
        .as_ref()
        .is_some_and(|words| words.find(text).is_none());
    let text = if none { "" } else { text };
    let regex = DATE_EXPR.for_text(text);
    regex.find_iter(text).filter_map(move |m| {
        // A weekday's name (most leads' date) is the whole match of its
        // alternative and of no other, so it needs no groups; any other
        // match asks for them from its start, where the search finds it
        // again (it is the leftmost match from there, as from where the
        // iteration looked).
        let (date, rule) = match weekday_named(m.as_str()) {
            Some(weekday) => (weekday_before(weekday, published?)?, Rule::Weekday),
            None => resolve_captures(&regex.captures_at(text, m.start())?, published)?,
        };
        Some(FoundDate {
            date,
            rule,
            span: (m.start(), m.end()),
        })
    })
}

/// The weekday a match of [`DATE_EXPR`] names, if it is its weekday
/// alternative: chrono's parse (as `resolve_captures` reads that group)
/// takes any case and three-letter forms too, but no other alternative's
/// match is a weekday's name or its first three letters (each holds a
/// digit or is one of the relative words and month phrases).
fn weekday_named(text: &str) -> Option<Weekday> {
    text.parse().ok()
}

/// The latest `weekday` on or before `published`.
fn weekday_before(weekday: Weekday, published: NaiveDate) -> Option<NaiveDate> {
    let back =
        (published.weekday().num_days_from_monday() + 7 - weekday.num_days_from_monday()) % 7;
    published.checked_sub_days(Days::new(u64::from(back)))
}

fn resolve_captures(
    caps: &regex::Captures<'_>,
    published: Option<NaiveDate>,
) -> Option<(NaiveDate, Rule)> {
    let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<i32>().ok());
    if let Some(month) = caps.name("md_month").or(caps.name("dm_month")) {
        let month = month_number(month.as_str())?;
        let day = num("md_day").or(num("dm_day"))? as u32;
        let year = num("md_year").or(num("dm_year"));
        return Some((
            day_in_year(year, month, day, published)?,
            Rule::ExplicitDate,
        ));
    }
    if let Some(month) = caps.name("month_only") {
        let month = month_number(month.as_str())?;
        return Some((
            day_in_year(num("mo_year"), month, 1, published)?,
            Rule::RelativeDate,
        ));
    }
    let published = published?;
    if let Some(day) = caps.name("weekday") {
        let weekday: Weekday = day.as_str().parse().ok()?;
        return Some((weekday_before(weekday, published)?, Rule::Weekday));
    }
    if caps.name("yesterday").is_some() {
        return Some((published.pred_opt()?, Rule::RelativeDate));
    }
    if caps.name("today").is_some() {
        return Some((published, Rule::RelativeDate));
    }
    if caps.name("last_week").is_some() {
        return Some((
            published.checked_sub_days(Days::new(7))?,
            Rule::RelativeDate,
        ));
    }
    if caps.name("last_month").is_some() {
        let first = published.with_day(1)?;
        return Some((
            first.checked_sub_months(Months::new(1))?,
            Rule::RelativeDate,
        ));
    }
    None
}

/// `month/day` in `year`, or, without a year, in the publication year (the
/// year before when that day would come after publication).
fn day_in_year(
    year: Option<i32>,
    month: u32,
    day: u32,
    published: Option<NaiveDate>,
) -> Option<NaiveDate> {
    if let Some(year) = year {
        return NaiveDate::from_ymd_opt(year, month, day);
    }
    let published = published?;
    let date = NaiveDate::from_ymd_opt(published.year(), month, day)?;
    if date > published {
        NaiveDate::from_ymd_opt(published.year() - 1, month, day)
    } else {
        Some(date)
    }
}

/// The number of the month a name or abbreviation starts with
/// (`Aug`, `august`, `August` → 8), from its first three letters.
pub(crate) fn month_number(name: &str) -> Option<u32> {
    let key = name.get(..3)?;
    MONTH_NAMES
        .iter()
        .position(|m| {
            m.get(..3)
                .is_some_and(|abbr| abbr.eq_ignore_ascii_case(key))
        })
        .map(|i| i as u32 + 1)
}

/// The months' names, January first, as English text writes them.
pub(crate) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Parses a user-given date: `YYYY-MM-DD`, `YYYY-MM` (the first of the
/// month) or `YYYY` (the first of January). Impossible dates such as
/// `2025-02-30` are errors that say why.
///
/// ```
/// use frontline::dates::parse_user_date;
/// assert_eq!(parse_user_date("2025-08").unwrap().to_string(), "2025-08-01");
/// assert!(parse_user_date("2025-02-30").is_err());
/// ```
pub fn parse_user_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    let parts: Vec<&str> = s.split('-').collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let ok_shape = match parts.as_slice() {
        [y] => y.len() == 4,
        [y, m] => y.len() == 4 && m.len() <= 2,
        [y, m, d] => y.len() == 4 && m.len() <= 2 && d.len() <= 2,
        _ => false,
    };
    let (Some(nums), true) = (nums, ok_shape) else {
        return Err(format!(
            "{s:?} is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)"
        ));
    };
    let (year, month, day) = (
        nums[0] as i32,
        nums.get(1).copied().unwrap_or(1),
        nums.get(2).copied().unwrap_or(1),
    );
    if !(1..=12).contains(&month) {
        return Err(format!("{s:?}: there is no month {month}"));
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("{s:?}: there is no day {day} in {year}-{month:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn first(text: &str, published: NaiveDate) -> Option<NaiveDate> {
        resolve(text, Some(published)).map(|f| f.date)
    }

    #[test]
    fn weekdays_resolve_backwards_including_the_same_day() {
        let thursday = d(2025, 8, 21);
        assert_eq!(first("killed on Wednesday", thursday), Some(d(2025, 8, 20)));
        assert_eq!(first("early on Thursday", thursday), Some(thursday));
        assert_eq!(first("on Friday night", thursday), Some(d(2025, 8, 15)));
    }

    #[test]
    fn months_and_days() {
        let pubd = d(2025, 8, 21);
        assert_eq!(first("on Aug. 14 gunmen", pubd), Some(d(2025, 8, 14)));
        assert_eq!(first("on 14 August", pubd), Some(d(2025, 8, 14)));
        assert_eq!(first("on Dec. 3", pubd), Some(d(2024, 12, 3)));
        assert_eq!(first("In July, a raid", pubd), Some(d(2025, 7, 1)));
        assert_eq!(first("last month", d(2025, 1, 10)), Some(d(2024, 12, 1)));
        assert_eq!(first("on March 3, 2019", pubd), Some(d(2019, 3, 3)));
        assert_eq!(first("yesterday", pubd), Some(d(2025, 8, 20)));
    }

    #[test]
    fn no_publication_date_needs_a_year() {
        assert_eq!(resolve("on Wednesday", None), None);
        assert_eq!(
            resolve("on 3 May 2024", None).map(|f| f.date),
            Some(d(2024, 5, 3))
        );
    }

    #[test]
    fn the_date_pattern_compiles_in_both_forms() {
        assert!(!DATE_EXPR.unicode().is_match(""));
        assert!(!DATE_EXPR.for_text("").is_match(""));
    }

    /// `resolve_all` as it was before its literal search: the pattern over
    /// every text.
    fn resolve_all_by_regex(text: &str, published: Option<NaiveDate>) -> Vec<FoundDate> {
        DATE_EXPR
            .for_text(text)
            .captures_iter(text)
            .filter_map(|caps| {
                let m = caps.get(0)?;
                let (date, rule) = resolve_captures(&caps, published)?;
                Some(FoundDate {
                    date,
                    rule,
                    span: (m.start(), m.end()),
                })
            })
            .collect()
    }

    #[test]
    fn every_kind_of_date_expression_holds_a_date_word() {
        let mut texts = vec![
            "on 14 August".to_string(),
            "3rd of May 2024".to_string(),
            "Wednesday".to_string(),
            "yesterday".to_string(),
            "Today".to_string(),
            "this  morning".to_string(),
            "Overnight".to_string(),
            "tonight".to_string(),
            "last week".to_string(),
            "Last month".to_string(),
            "mid June".to_string(),
        ];
        for month in [
            "Jan.",
            "January",
            "Feb",
            "February",
            "Mar.",
            "March",
            "Apr",
            "April",
            "May",
            "June",
            "Jun",
            "July",
            "Jul",
            "Aug.",
            "August",
            "Sep",
            "Sept.",
            "Sept",
            "September",
            "Oct",
            "October",
            "Nov.",
            "November",
            "Dec",
            "December",
        ] {
            texts.push(format!("{month} 14"));
            texts.push(format!("14 {month}"));
            if month.len() > 2
                && !month.ends_with('.')
                && !["Feb", "Apr", "Jun", "Jul", "Sep", "Sept", "Oct", "Dec"].contains(&month)
            {
                texts.push(format!("in {month}"));
            }
        }
        let published = NaiveDate::from_ymd_opt(2025, 8, 21);
        for text in &texts {
            let found = resolve_all(text, published);
            assert!(!found.is_empty(), "{text:?}");
            assert_eq!(found, resolve_all_by_regex(text, published), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn date_words_are_in_every_date_expression(
            pieces in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "Jan.", "January", "Feb", "Mar.", "March", "march", "Apr", "May", "may",
                        "June", "Jun", "July", "Aug.", "August", "Sept.", "Sep", "Oct", "Nov.",
                        "December", "14", "3rd", "21st", "of", "2024", "1999", "Monday",
                        "Wednesday", "Sunday", "yesterday", "Yesterday", "today", "Today",
                        "this", "This", "morning", "overnight", "Overnight", "tonight", "last",
                        "Last", "week", "month", "In", "in", "since", "Early", "late", "mid",
                        "Mid-", "day", "x", "١٤",
                    ]),
                    proptest::sample::select(vec![" ", " ", "  ", ", ", ",", ". ", "-", "", "\u{a0}"]),
                ),
                0..5,
            ),
        ) {
            let text: String = pieces.iter().flat_map(|(w, s)| [*w, *s]).collect();
            let published = NaiveDate::from_ymd_opt(2025, 8, 21);
            for published in [None, published] {
                proptest::prop_assert_eq!(
                    resolve_all(&text, published),
                    resolve_all_by_regex(&text, published),
                    "{:?}", text
                );
            }
        }
    }

    #[test]
    fn words_that_look_like_months_do_not_match() {
        let pubd = d(2025, 8, 21);
        assert_eq!(first("they may attack", pubd), None);
        assert_eq!(first("a march on the capital", pubd), None);
    }
}
