//! Deterministic synthetic corpus: format A `.txt` files under `YYYY/MM/`
//! (80 % of articles) and JSON Lines files of 100 articles (20 %).
//!
//! Article `i` depends only on the seed, `i` and the gazetteer files in
//! `index-schema/`, so a corpus can be written as a stream (1M articles never
//! sit in memory), extended (`--add`) and partly rewritten (`--change-percent`)
//! reproducibly. About 3 % of articles are syndicated near-duplicates of an
//! earlier one: same paragraphs, a new first sentence, another notice.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{Datelike, Duration, NaiveDate};

use crate::rng::{Rng, Zipf};
use crate::vocab::{ranked_words, OUTLETS, WEEKDAYS};

/// The default corpus seed.
pub const DEFAULT_SEED: u64 = 0x00F0_271E_2026;
/// Articles per JSON Lines file.
pub const JSONL_BLOCK: u64 = 100;
/// Hidden state file (the corpus walk skips hidden files).
pub const STATE_FILE: &str = ".gen-corpus.json";

/// The conflict countries the corpus is about (ISO codes, most reported first).
pub const COUNTRIES: [&str; 25] = [
    "SY", "UA", "SD", "SO", "IQ", "YE", "AF", "ML", "BF", "NG", "CD", "MM", "PK", "ET", "NE", "LY",
    "CF", "MZ", "SS", "PH", "CO", "MX", "CM", "LB", "TD",
];

/// A province of a conflict country, with the names to write it with.
#[derive(Debug, Clone)]
pub struct ProvinceInfo {
    /// Country name as in `provinces.tsv`.
    pub country: String,
    /// Canonical province name (what `Query::province` accepts).
    pub name: String,
    /// Spelling variants and aliases (ASCII, no ISO codes).
    pub variants: Vec<String>,
    /// Towns of the province, most populous first.
    pub towns: Vec<String>,
}

/// A country with its provinces and the groups active there.
#[derive(Debug, Clone)]
pub struct CountryInfo {
    /// ISO code.
    pub code: String,
    /// Country name.
    pub name: String,
    /// Provinces that have at least one town.
    pub provinces: Vec<ProvinceInfo>,
    /// Indices into [`World::groups`].
    pub groups: Vec<usize>,
}

/// An armed group with its aliases.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// Canonical name (what `Query::group` accepts).
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
}

/// Everything the generator draws from.
#[derive(Debug, Clone)]
pub struct World {
    /// Ranked words.
    pub words: Vec<String>,
    zipf: Zipf,
    /// Conflict countries, in [`COUNTRIES`] order.
    pub countries: Vec<CountryInfo>,
    country_zipf: Zipf,
    /// All groups of `groups.tsv` with a conflict country.
    pub groups: Vec<GroupInfo>,
}

/// Reads a TSV with a header into maps keyed by column name.
fn read_tsv(path: &Path) -> Result<Vec<HashMap<String, String>>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t').chain(std::iter::repeat("")))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect())
}

fn usable_variant(s: &str) -> bool {
    s.is_ascii()
        && !s.is_empty()
        && !s.contains(|c: char| c.is_ascii_digit())
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.split_whitespace().count() <= 4
}

impl World {
    /// Loads the gazetteer files from `schema_dir` (frontline's
    /// `index-schema/`).
    pub fn load(schema_dir: &Path) -> Result<World> {
        let words = ranked_words();
        let zipf = Zipf::new(words.len(), 1.0);
        let mut countries: Vec<CountryInfo> = COUNTRIES
            .iter()
            .map(|c| CountryInfo {
                code: c.to_string(),
                name: String::new(),
                provinces: Vec::new(),
                groups: Vec::new(),
            })
            .collect();
        let slot = |code: &str| COUNTRIES.iter().position(|c| *c == code);
        for row in read_tsv(&schema_dir.join("provinces.tsv"))? {
            let Some(i) = slot(&row["country_code"]) else {
                continue;
            };
            countries[i].name = row["country"].clone();
            let variants = row["aliases"]
                .split('|')
                .filter(|a| usable_variant(a) && !a.to_lowercase().contains("governorate"))
                .map(str::to_string)
                .collect();
            countries[i].provinces.push(ProvinceInfo {
                country: row["country"].clone(),
                name: row["province"].clone(),
                variants,
                towns: Vec::new(),
            });
        }
        let mut towns: Vec<(u64, usize, String, String)> = Vec::new();
        for row in read_tsv(&schema_dir.join("places.tsv"))? {
            let Some(i) = slot(&row["country_code"]) else {
                continue;
            };
            let population = row["population"].parse().unwrap_or(0u64);
            let name = if row["name"].is_ascii() {
                row["name"].clone()
            } else {
                row.get("ascii_name").cloned().unwrap_or_default()
            };
            if usable_variant(&name) && !row["province"].is_empty() {
                towns.push((population, i, row["province"].clone(), name));
            }
        }
        towns.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.3.cmp(&b.3)));
        for (_, i, province, name) in towns {
            if let Some(p) = countries[i]
                .provinces
                .iter_mut()
                .find(|p| p.name == province)
            {
                if p.towns.len() < 12 {
                    p.towns.push(name);
                }
            }
        }
        for c in &mut countries {
            c.provinces.retain(|p| !p.towns.is_empty());
        }
        let mut groups = Vec::new();
        for row in read_tsv(&schema_dir.join("groups.tsv"))? {
            let codes: Vec<usize> = row["countries"]
                .split([',', '|', ';', ' '])
                .filter_map(slot)
                .collect();
            if codes.is_empty() {
                continue;
            }
            let id = groups.len();
            groups.push(GroupInfo {
                name: row["name"].clone(),
                aliases: row["aliases"]
                    .split('|')
                    .filter(|a| a.is_ascii() && a.len() > 3)
                    .map(str::to_string)
                    .collect(),
            });
            for i in codes {
                countries[i].groups.push(id);
            }
        }
        countries.retain(|c| !c.provinces.is_empty());
        if countries.is_empty() {
            bail!("no conflict country found in {}", schema_dir.display());
        }
        let country_zipf = Zipf::new(countries.len(), 0.8);
        Ok(World {
            words,
            zipf,
            countries,
            country_zipf,
            groups,
        })
    }

    /// The world from frontline's own `index-schema/` next to this crate.
    pub fn load_default() -> Result<World> {
        World::load(&default_schema_dir())
    }

    fn word(&self, rng: &mut Rng) -> &str {
        &self.words[self.zipf.sample(rng)]
    }
}

/// `index-schema/` of the frontline checkout this crate sits in.
pub fn default_schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../index-schema")
}

/// One generated article.
#[derive(Debug, Clone)]
pub struct GenArticle {
    /// Article number.
    pub index: u64,
    /// Headline (JSON Lines only; format A titles come from the first sentence).
    pub title: String,
    /// Outlet.
    pub source: String,
    /// Publication date.
    pub published: NaiveDate,
    /// Paragraphs (the syndication notice, if any, is the last one).
    pub paragraphs: Vec<String>,
}

/// What an article is about: drives its names.
struct Topic<'w> {
    country: &'w CountryInfo,
    province: &'w ProvinceInfo,
    other: &'w ProvinceInfo,
    group: Option<&'w GroupInfo>,
    published: NaiveDate,
}

fn capitalize(s: &mut String) {
    if let Some(c) = s.chars().next() {
        let upper: String = c.to_uppercase().collect();
        s.replace_range(..c.len_utf8(), &upper);
    }
}

fn province_name(p: &ProvinceInfo, rng: &mut Rng) -> String {
    if !p.variants.is_empty() && rng.chance(0.25) {
        rng.pick(&p.variants).clone()
    } else {
        p.name.clone()
    }
}

fn group_name(g: &GroupInfo, rng: &mut Rng) -> String {
    if !g.aliases.is_empty() && rng.chance(0.4) {
        rng.pick(&g.aliases).clone()
    } else {
        g.name.clone()
    }
}

/// A phrase naming an entity, and its word count.
fn entity_phrase(world: &World, t: &Topic, rng: &mut Rng) -> String {
    let town = rng.pick(&t.province.towns).clone();
    match rng.below(10) {
        0 => format!(
            "in the town of {town}, in {} province",
            province_name(t.province, rng)
        ),
        1 => format!("in {} province", province_name(t.province, rng)),
        2 => format!("near {town}"),
        3 => {
            let days =
                (t.published.weekday().num_days_from_monday() as usize + 6 - rng.below(3)) % 7;
            format!("on {}", WEEKDAYS[days])
        }
        4 => match t.group {
            Some(g) => format!("{} fighters", group_name(g, rng)),
            None => format!("in {}", t.country.name),
        },
        5 => match t.group {
            Some(g) => format!("blamed on {}", group_name(g, rng)),
            None => format!("in {town}"),
        },
        6 => format!("in {}", t.country.name),
        7 => format!("{} people", 2 + rng.below(60)),
        8 => format!("in neighbouring {}", province_name(t.other, rng)),
        _ => {
            let w = world.word(rng);
            format!("in {town} {w}")
        }
    }
}

fn sentence(world: &World, t: &Topic, rng: &mut Rng) -> (String, usize) {
    let target = rng.range(10, 30);
    let mut s = String::with_capacity(target * 8);
    let mut words = 0;
    while words < target {
        if !s.is_empty() {
            s.push(' ');
        }
        if words > 2 && rng.chance(0.12) {
            let phrase = entity_phrase(world, t, rng);
            words += phrase.split(' ').count();
            s.push_str(&phrase);
        } else {
            s.push_str(world.word(rng));
            words += 1;
            if words + 3 < target && rng.chance(0.05) {
                s.push(',');
            }
        }
    }
    capitalize(&mut s);
    s.push('.');
    (s, words)
}

fn paragraph(world: &World, t: &Topic, rng: &mut Rng) -> String {
    let target = rng.range(40, 100);
    let mut p = String::new();
    let mut words = 0;
    while words < target {
        let (s, n) = sentence(world, t, rng);
        if !p.is_empty() {
            p.push(' ');
        }
        p.push_str(&s);
        words += n;
    }
    p
}

fn notice(outlet: &str) -> String {
    format!(
        "(Except for the headline, this story has not been edited by {outlet} staff and is published from a syndicated feed.)"
    )
}

/// The generator: a world and a seed.
#[derive(Debug, Clone)]
pub struct Generator {
    /// What articles are written from.
    pub world: World,
    /// The corpus seed.
    pub seed: u64,
}

const START: (i32, u32, u32) = (2019, 1, 1);
const DAYS: i64 = 8 * 365 + 1;

impl Generator {
    /// A generator over `world` with `seed`.
    pub fn new(world: World, seed: u64) -> Generator {
        Generator { world, seed }
    }

    fn topic(&self, rng: &mut Rng) -> Topic<'_> {
        let w = &self.world;
        let country = &w.countries[w.country_zipf.sample(rng)];
        let pz = Zipf::new(country.provinces.len(), 1.0);
        let province = &country.provinces[pz.sample(rng)];
        let other = &country.provinces[pz.sample(rng)];
        let group = if !country.groups.is_empty() && rng.chance(0.7) {
            Some(&w.groups[*rng.pick(&country.groups)])
        } else {
            None
        };
        let (y, m, d) = START;
        let start = NaiveDate::from_ymd_opt(y, m, d).expect("valid start date");
        let published = start + Duration::days(rng.below(DAYS as usize) as i64);
        Topic {
            country,
            province,
            other,
            group,
            published,
        }
    }

    /// Article `index`, version `variant` (0 = original; `--change-percent`
    /// rewrites with other variants).
    pub fn article(&self, index: u64, variant: u64) -> GenArticle {
        let mut rng = Rng::for_item(self.seed ^ variant.wrapping_mul(0x9E37), index);
        // About 3 % are syndicated copies of one of the 500 previous articles.
        if index > 10 && variant == 0 && rng.chance(0.03) {
            let back = 1 + rng.below(index.min(500) as usize) as u64;
            return self.near_duplicate(index, index - back, &mut rng);
        }
        self.fresh(index, variant, &mut rng)
    }

    fn fresh(&self, index: u64, variant: u64, rng: &mut Rng) -> GenArticle {
        let t = self.topic(rng);
        let count = rng.range(4, 10);
        let mut paragraphs: Vec<String> = (0..count)
            .map(|_| paragraph(&self.world, &t, rng))
            .collect();
        if variant > 0 {
            paragraphs[0].insert_str(0, &format!("Updated {variant}: "));
        }
        let source = rng.pick(&OUTLETS).to_string();
        if rng.chance(0.25) {
            paragraphs.push(notice(&source));
        }
        let mut title = String::new();
        for _ in 0..rng.range(5, 10) {
            if !title.is_empty() {
                title.push(' ');
            }
            title.push_str(self.world.word(rng));
        }
        title.push_str(&format!(" in {}", province_name(t.province, rng)));
        capitalize(&mut title);
        GenArticle {
            index,
            title,
            source,
            published: t.published,
            paragraphs,
        }
    }

    fn near_duplicate(&self, index: u64, of: u64, rng: &mut Rng) -> GenArticle {
        let mut a = self.article(of, 0);
        a.index = index;
        if a.paragraphs
            .last()
            .is_some_and(|p| p.starts_with("(Except"))
        {
            a.paragraphs.pop();
        }
        // Replace the first sentence of the lead.
        let t = self.topic(rng);
        let (s, _) = sentence(&self.world, &t, rng);
        let lead = &a.paragraphs[0];
        let rest = lead.find(". ").map_or("", |i| &lead[i + 2..]);
        a.paragraphs[0] = format!("{s} {rest}").trim_end().to_string();
        let outlet = loop {
            let o = rng.pick(&OUTLETS);
            if *o != a.source {
                break o.to_string();
            }
        };
        a.paragraphs.push(notice(&outlet));
        a.source = outlet;
        a.published += Duration::days(rng.below(2) as i64);
        a
    }

    /// Whether article `index` goes into a JSON Lines file.
    pub fn is_jsonl(index: u64) -> bool {
        (index / JSONL_BLOCK) % 5 == 4
    }

    /// The file article `index` lives in, relative to the corpus root.
    pub fn rel_path(&self, a: &GenArticle) -> PathBuf {
        if Generator::is_jsonl(a.index) {
            PathBuf::from(format!("feeds/batch-{:06}.jsonl", a.index / JSONL_BLOCK))
        } else {
            PathBuf::from(format!(
                "{:04}/{:02}/a{:07}.txt",
                a.published.year(),
                a.published.month(),
                a.index
            ))
        }
    }

    /// Format A text.
    pub fn format_a(a: &GenArticle) -> String {
        format!(
            " date {} {}\n",
            a.published.format("%Y-%m-%d"),
            a.paragraphs.join("\n\n")
        )
    }

    /// One JSON Lines line (with the newline).
    pub fn json_line(a: &GenArticle) -> String {
        let mut s = serde_json::json!({
            "id": format!("gen-{:07}", a.index),
            "title": a.title,
            "source": a.source,
            "published": a.published.format("%Y-%m-%d").to_string(),
            "body": a.paragraphs.join("\n\n"),
        })
        .to_string();
        s.push('\n');
        s
    }
}

/// Saved generator state (`.gen-corpus.json`).
#[derive(Debug, Clone, Copy)]
pub struct State {
    /// Articles written.
    pub articles: u64,
    /// Seed.
    pub seed: u64,
}

/// Reads the state file of a generated corpus.
pub fn read_state(dir: &Path) -> Result<State> {
    let path = dir.join(STATE_FILE);
    let v: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    Ok(State {
        articles: v["articles"].as_u64().context("articles in state")?,
        seed: v["seed"].as_u64().context("seed in state")?,
    })
}

fn write_state(dir: &Path, s: State) -> Result<()> {
    fs::write(
        dir.join(STATE_FILE),
        serde_json::json!({"articles": s.articles, "seed": s.seed}).to_string(),
    )?;
    Ok(())
}

/// What a generation step wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// Articles written.
    pub articles: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Files written or rewritten.
    pub files: u64,
}

/// Writes articles `from..to` into `out`, streaming (JSON Lines files are
/// appended to, so `--add` continues a partly filled block).
pub fn write_range(g: &Generator, out: &Path, from: u64, to: u64) -> Result<Written> {
    let mut w = Written::default();
    let mut jsonl: Option<(PathBuf, BufWriter<File>)> = None;
    for i in from..to {
        let a = g.article(i, 0);
        let rel = g.rel_path(&a);
        let path = out.join(&rel);
        if Generator::is_jsonl(i) {
            let line = Generator::json_line(&a);
            if jsonl.as_ref().is_none_or(|(p, _)| *p != path) {
                if let Some((_, mut f)) = jsonl.take() {
                    f.flush()?;
                }
                fs::create_dir_all(path.parent().expect("has parent"))?;
                let f = OpenOptions::new().create(true).append(true).open(&path)?;
                jsonl = Some((path.clone(), BufWriter::new(f)));
                w.files += 1;
            }
            let (_, f) = jsonl.as_mut().expect("opened above");
            f.write_all(line.as_bytes())?;
            w.bytes += line.len() as u64;
        } else {
            let text = Generator::format_a(&a);
            fs::create_dir_all(path.parent().expect("has parent"))?;
            fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            w.bytes += text.len() as u64;
            w.files += 1;
        }
        w.articles += 1;
    }
    if let Some((_, mut f)) = jsonl.take() {
        f.flush()?;
    }
    Ok(w)
}

/// Generates a fresh corpus of `n` articles (the directory must not hold one).
pub fn generate(g: &Generator, out: &Path, n: u64) -> Result<Written> {
    if out.join(STATE_FILE).exists() {
        bail!(
            "{} already holds a generated corpus (use --add or remove it)",
            out.display()
        );
    }
    fs::create_dir_all(out)?;
    let w = write_range(g, out, 0, n)?;
    write_state(
        out,
        State {
            articles: n,
            seed: g.seed,
        },
    )?;
    Ok(w)
}

/// Adds `n` articles to an existing generated corpus.
pub fn add(world: World, out: &Path, n: u64) -> Result<Written> {
    let state = read_state(out)?;
    let g = Generator::new(world, state.seed);
    let w = write_range(&g, out, state.articles, state.articles + n)?;
    write_state(
        out,
        State {
            articles: state.articles + n,
            seed: state.seed,
        },
    )?;
    Ok(w)
}

/// Rewrites `percent` % of the corpus files in place, chosen by `seed`:
/// a format A file gets a new version of its article (same path, same date
/// directory not required: the path is kept); a JSON Lines file gets new
/// versions of all its lines.
pub fn change(world: World, out: &Path, percent: f64, seed: u64) -> Result<Written> {
    let state = read_state(out)?;
    let g = Generator::new(world, state.seed);
    let mut files: Vec<(PathBuf, Vec<u64>)> = Vec::new();
    let mut blocks: Vec<u64> = Vec::new();
    for i in 0..state.articles {
        if Generator::is_jsonl(i) {
            let b = i / JSONL_BLOCK;
            if blocks.last() != Some(&b) {
                blocks.push(b);
                files.push((PathBuf::new(), Vec::new()));
            }
            files.last_mut().expect("pushed").1.push(i);
        } else {
            files.push((PathBuf::new(), vec![i]));
        }
    }
    let mut rng = Rng::new(seed ^ 0xC4A9_6E00);
    let want = ((files.len() as f64) * percent / 100.0).round() as usize;
    // Partial Fisher-Yates: the first `want` entries are the chosen files.
    let mut order: Vec<usize> = (0..files.len()).collect();
    for k in 0..want.min(order.len()) {
        let j = k + rng.below(order.len() - k);
        order.swap(k, j);
    }
    let variant = seed.max(1);
    let mut w = Written::default();
    for &fi in &order[..want.min(order.len())] {
        let indices = &files[fi].1;
        // The path comes from the original article (date directories).
        let original = g.article(indices[0], 0);
        let path = out.join(g.rel_path(&original));
        let mut text = String::new();
        for &i in indices {
            let mut a = g.article(i, variant);
            a.published = g.article(i, 0).published;
            if Generator::is_jsonl(i) {
                text.push_str(&Generator::json_line(&a));
            } else {
                text = Generator::format_a(&a);
            }
            w.articles += 1;
        }
        fs::write(&path, &text).with_context(|| format!("rewriting {}", path.display()))?;
        w.bytes += text.len() as u64;
        w.files += 1;
    }
    Ok(w)
}
