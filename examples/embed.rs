//! # Embedding frontline in an application
//!
//! Builds (or updates) an index from a corpus directory, then searches it
//! with filters, the way a dashboard or a bot would.
//!
//! ```text
//! cargo run --example embed -- sample-corpus /tmp/frontline-example
//! ```

use frontline::{BuildOptions, Index, Query};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let corpus = args.next().unwrap_or_else(|| "sample-corpus".into());
    let index_dir = args
        .next()
        .unwrap_or_else(|| "/tmp/frontline-example".into());

    // Incremental: a second run only re-reads new or changed files.
    let summary = Index::build(&BuildOptions::new(&corpus, &index_dir))?;
    println!(
        "generation {}: {} articles, {} passages",
        summary.generation, summary.total_articles, summary.total_passages
    );

    // Names go through the gazetteer: "Idleb" is Idlib, "ISIS" is Islamic State.
    let mut index = Index::open(&index_dir)?;
    let query = Query::new("raid").province("Idleb").group("ISIS").limit(3);
    let results = index.search(&query)?;
    println!("{} passages match", results.total_hits);
    for hit in &results.hits {
        let date = hit.event_date.map(|d| d.to_string()).unwrap_or_default();
        println!(
            "{}. [{date}] {} ¶{}",
            hit.rank, hit.article_id, hit.paragraph
        );
        // Highlights are byte ranges into `text`.
        for [start, end] in &hit.highlights {
            println!("   match: {}", &hit.text[*start..*end]);
        }
    }

    // A long-running service calls reload() now and then to pick up the
    // nightly rebuild without restarting; running searches keep their
    // snapshot.
    if index.reload()? {
        println!("switched to generation {}", index.generation());
    }
    Ok(())
}
