//! # An analyst's brief: what happened where, and by whom
//!
//! For one province and period, the library gives what a situation report
//! needs: who was active (group facets, counting articles and stories),
//! when (a weekly timeline), the best evidence (ranked, highlighted
//! passages, one per story), and for the top report, the other reports of
//! the same events (`similar`).
//!
//! ```text
//! cargo run --example embed -- sample-corpus /tmp/frontline-example   # build
//! cargo run --example brief -- /tmp/frontline-example Idlib 2025-07-01 2025-09-30
//! ```

use chrono::NaiveDate;
use frontline::{FacetField, Index, Interval, Query};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let index_dir = args
        .next()
        .unwrap_or_else(|| "/tmp/frontline-example".into());
    let province = args.next().unwrap_or_else(|| "Idlib".into());
    let from: NaiveDate = args.next().as_deref().unwrap_or("2025-07-01").parse()?;
    let to: NaiveDate = args.next().as_deref().unwrap_or("2025-09-30").parse()?;
    let index = Index::open(&index_dir)?;
    let scope = Query::new("").province(&province).from(from).to(to);

    let groups = index.facets(&scope, FacetField::Group, Interval::Month, Some(5))?;
    println!(
        "{province}, {from} to {to}: {} articles, {} stories",
        groups.total_articles, groups.total_stories
    );
    for c in &groups.counts {
        println!(
            "  {:<30} {:>3} articles {:>3} stories",
            c.value, c.articles, c.stories
        );
    }

    let weeks = index.facets(&scope, FacetField::Date, Interval::Week, None)?;
    for c in &weeks.counts {
        println!("  {}  {}", c.value, "#".repeat(c.stories as usize));
    }

    // The same scope with words: the best passage of each story first.
    let attacks = Query::new("attack OR raid OR strike")
        .province(&province)
        .from(from)
        .to(to);
    let results = index.search(&attacks.limit(3).per_article(1))?;
    for hit in &results.hits {
        let date = hit.event_date.map(|d| d.to_string()).unwrap_or_default();
        println!(
            "\n{date} {} (also in {} reports)",
            hit.article_id,
            hit.also_in.len()
        );
        println!("  {}", hit.text);
    }

    if let Some(top) = results.hits.first() {
        println!("\nReports like {}:", top.article_id);
        for s in index.similar(&top.article_id, 3)?.similar {
            println!(
                "  {:.1}  {}  {}",
                s.score,
                s.article_id,
                s.shared_groups.join(", ")
            );
        }
    }
    Ok(())
}
