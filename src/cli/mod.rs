//! Binary-only helpers: rendering results and drawing progress.

pub mod output;
pub mod progress;

/// Parses `--ranking`.
pub fn parse_ranking(s: &str) -> Result<frontline::Ranking, String> {
    s.parse().map_err(|e: frontline::Error| e.to_string())
}

/// Parses a date flag (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`) with an error
/// that shows the problem.
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    frontline::dates::parse_user_date(s)
}
