//! Writes a deterministic synthetic corpus (see `frontline_bench::gen`).
//!
//! ```text
//! gen-corpus --articles 10000 --out /tmp/fl-10k
//! gen-corpus --out /tmp/fl-10k --add 500
//! gen-corpus --out /tmp/fl-10k --change-percent 1 --seed 7
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Parser;
use frontline_bench::gen::{self, Generator, World};

/// Deterministic synthetic corpus generator for frontline benchmarks.
#[derive(Parser, Debug)]
struct Args {
    /// Articles to generate into a new corpus.
    #[arg(long)]
    articles: Option<u64>,
    /// Corpus directory.
    #[arg(long)]
    out: PathBuf,
    /// Add N articles to an existing generated corpus.
    #[arg(long)]
    add: Option<u64>,
    /// Rewrite P % of the files of an existing corpus in place.
    #[arg(long)]
    change_percent: Option<f64>,
    /// Seed: of the corpus (new corpus) or of the change (--change-percent).
    #[arg(long)]
    seed: Option<u64>,
    /// Gazetteer directory (default: frontline's index-schema/).
    #[arg(long)]
    schema_dir: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let schema_dir = args.schema_dir.unwrap_or_else(gen::default_schema_dir);
    let world = World::load(&schema_dir)?;
    let start = Instant::now();
    let (what, w) = match (args.articles, args.add, args.change_percent) {
        (Some(n), None, None) => {
            let g = Generator::new(world, args.seed.unwrap_or(gen::DEFAULT_SEED));
            ("generated", gen::generate(&g, &args.out, n)?)
        }
        (None, Some(n), None) => ("added", gen::add(world, &args.out, n)?),
        (None, None, Some(p)) => (
            "rewrote",
            gen::change(world, &args.out, p, args.seed.unwrap_or(1))?,
        ),
        _ => bail!("give exactly one of --articles, --add, --change-percent"),
    };
    println!(
        "{what} {} articles in {} files, {} bytes ({:.1} MiB) in {:.1} s",
        w.articles,
        w.files,
        w.bytes,
        w.bytes as f64 / 1048576.0,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
