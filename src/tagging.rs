//! Tagging: which provinces, armed groups and dates an article is about.
//!
//! One table of every name of the gazetteer (province variants, places,
//! countries, group aliases) is matched, word by word, against the folded
//! text of each paragraph (the longest name starting at each word; see
//! `names.rs`). Matching is candidate-driven: only a word written with a
//! capital or a digit, or one of the few lower-case words a name may start
//! with (`al`, `the`), can start a name that is kept, so in an ASCII
//! paragraph only those words, and the words after them while the span
//! still begins a name, are folded and hashed; any other paragraph is
//! folded whole (both find the same names). Each match is then checked
//! against the original text (proper names start with a capital; short
//! acronyms such as `IS` match only as written) and resolved:
//!
//! - **groups**: an alias gives its canonical group;
//! - **provinces**: a variant gives its province, unless the gazetteer marks
//!   it ambiguous (`Punjab`, `Delta`), which then needs a type word
//!   ("Delta State"), "province of …" or the article's country;
//! - **places**: a town gives its province; a name found in several
//!   countries takes the article's country, and a name that is also an
//!   English word needs a settlement cue ("the town of …");
//! - **learned places**: "the town of Atmeh, in Idlib province" teaches
//!   Atmeh → Syria/Idlib for the whole corpus ([`LearnedPlaces`]);
//! - **background**: a province or group named only in sentences about
//!   other times (another year, another month, "last year", "previously")
//!   is a mention, not an event;
//! - **dates**: see [`crate::dates`]; the event date is the first date
//!   expression of the lead, except that a statement's date ("said on
//!   Tuesday", "on Tuesday published") gives way to an earlier day named
//!   after it ("… it had repelled an attack on Monday").
//!
//! ```
//! use frontline::{article::parse_text, tagging::Tagger, Gazetteer};
//! let g = Gazetteer::load(None).unwrap();
//! let tagger = Tagger::new(&g).unwrap();
//! let a = &parse_text("a.txt", " date 2025-08-21 ISIS fighters attacked a checkpoint near Maiduguri on Wednesday.\n").unwrap().articles[0];
//! let tags = tagger.tag(a);
//! assert_eq!(tags.provinces[0].to_string(), "Nigeria/Borno");
//! assert_eq!(tags.groups, ["Islamic State"]);
//! assert_eq!(tags.event_date.unwrap().to_string(), "2025-08-20");
//! let b = &parse_text("b.txt", " date 2025-08-21 The army said on Thursday it had repelled an attack near Maiduguri on Tuesday.\n").unwrap().articles[0];
//! assert_eq!(tagger.tag(b).event_date.unwrap().to_string(), "2025-08-19");
//! ```

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::article::{Article, ArticleId};
use crate::dates;
use crate::error::{Error, Result};
use crate::gazetteer::{
    alternates, fold, fold_reusing, FoldedText, Gazetteer, PlaceFact, PlaceFacts, Province,
};

mod ids;
pub(crate) mod names;
mod twin;
pub use ids::IdTags;
use ids::{IdEvidence, TagId};
use names::{LowerStarts, NameTable, NameTableBuilder};
pub(crate) use twin::Twin;

/// The rule that produced a tag, shown by `frontline explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A province named explicitly ("Idlib province", "in Idlib").
    ExplicitProvince,
    /// A place from the gazetteer resolved to its province.
    PlaceToProvince,
    /// A place learned from the corpus resolved to its province.
    LearnedPlace,
    /// A country named on its own.
    ExplicitCountry,
    /// A group alias resolved to its canonical name.
    AliasToGroup,
    /// The publication date from the header or metadata.
    PublicationDate,
    /// A weekday ("on Wednesday") resolved against the publication date.
    Weekday,
    /// A relative or month expression ("last month", "in July").
    RelativeDate,
    /// An explicit calendar date in the text.
    ExplicitDate,
}

/// What a tag says: a province, a country, a group or a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum TagValue {
    /// An event province.
    Province(Province),
    /// A province named only as background.
    Mention(Province),
    /// A country (ISO-style common English name).
    Country(String),
    /// An armed group's canonical name.
    Group(String),
    /// The event date.
    EventDate(NaiveDate),
}

/// One tag with the text that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The tag.
    pub tag: TagValue,
    /// The rule used.
    pub rule: Rule,
    /// Ordinal of the paragraph holding the span.
    pub paragraph: u32,
    /// Byte range of the span inside that paragraph's text.
    pub span: (usize, usize),
    /// The span's text.
    pub text: String,
}

/// The tags of a whole article.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleTags {
    /// Event provinces: where the reported events happen. Sorted, unique.
    pub provinces: Vec<Province>,
    /// Provinces named only as background ("In July, a raid in Aleppo
    /// province…"). Sorted, unique, disjoint from `provinces`.
    pub mentions: Vec<Province>,
    /// Countries of the event provinces, and countries named as the place
    /// of events ("in Sudan", "Sudan's"). Sorted, unique.
    pub countries: Vec<String>,
    /// Canonical names of the groups that take part in the reported events.
    /// Sorted, unique.
    pub groups: Vec<String>,
    /// The resolved event date, when the text gives one.
    pub event_date: Option<NaiveDate>,
    /// Every tag with its span and rule, in text order.
    pub evidence: Vec<Evidence>,
}

/// The tags a passage carries itself, from the paragraphs it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassageTags {
    /// Provinces the passage names itself.
    pub provinces: Vec<Province>,
    /// Groups the passage names itself.
    pub groups: Vec<String>,
}

impl ArticleTags {
    /// The provinces and groups named in paragraphs `first..=last` (a
    /// passage's range), whether as events or background.
    pub fn passage_tags(&self, first: u32, last: u32) -> PassageTags {
        // Asked once per passage: sets of references, each distinct value
        // cloned once.
        let mut provinces: BTreeSet<&Province> = BTreeSet::new();
        let mut groups: BTreeSet<&String> = BTreeSet::new();
        for e in self
            .evidence
            .iter()
            .filter(|e| (first..=last).contains(&e.paragraph))
        {
            match &e.tag {
                TagValue::Province(p) | TagValue::Mention(p) => {
                    provinces.insert(p);
                }
                TagValue::Group(g) => {
                    groups.insert(g);
                }
                _ => {}
            }
        }
        PassageTags {
            provinces: provinces.into_iter().cloned().collect(),
            groups: groups.into_iter().cloned().collect(),
        }
    }
}

/// What a name in the table may denote.
#[derive(Debug, Clone, Copy)]
enum Entry {
    Group { id: u32, exact: Option<u32> },
    Province { id: u32, ambiguous: bool },
    Region(u32),
    Country(u32),
    Place(u32),
}

/// Every gazetteer name, folded, in one table built once per gazetteer.
pub struct Matcher {
    names: NameTable,
    /// Folded first words that a name may start with when written in lower
    /// case (`al` of "al-Shabaab", a group alias such as "ex-Seleka"). Any
    /// other lower-case word cannot start a match that [`Tagger::case_ok`]
    /// would keep, so it is not looked up at all (in an ASCII paragraph,
    /// not even folded: see [`names::LowerStarts::candidates`]).
    lower_starts: LowerStarts,
    entries: EntryLists,
    /// Case-sensitive spellings of short acronyms (`IS`, `RSF`).
    exact: Vec<String>,
    /// Folded region name → its provinces.
    regions: Vec<Vec<u32>>,
    /// What tagging needs of the places files.
    places: PlaceFacts,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Matcher({} names)", self.entries.len())
    }
}

/// An alias written in capitals of up to five characters (`IS`, `RSF`,
/// `M23`) matches only as written: "is" is not Islamic State.
fn is_acronym(alias: &str) -> bool {
    let letters: Vec<char> = alias.chars().filter(|c| c.is_alphanumeric()).collect();
    letters.len() <= 5
        && letters.iter().any(|c| c.is_alphabetic())
        && letters
            .iter()
            .all(|c| c.is_uppercase() || c.is_ascii_digit())
}

impl Matcher {
    fn build(g: &Gazetteer) -> Result<Matcher> {
        // Names in a fixed order, folded in parallel (the ~280k folds are a
        // good part of the build), then grouped in that order.
        let mut named: Vec<(&str, Entry)> = Vec::new();
        let mut exact: Vec<String> = Vec::new();
        for (i, group) in g.groups().iter().enumerate() {
            for alias in std::iter::once(&group.name).chain(&group.aliases) {
                let exact_id = is_acronym(alias).then(|| {
                    exact.push(alias.clone());
                    exact.len() as u32 - 1
                });
                let entry = Entry::Group {
                    id: i as u32,
                    exact: exact_id,
                };
                named.push((alias, entry));
            }
        }
        let iso_code =
            Regex::new(r"^[A-Z]{2}-[A-Z0-9]{1,3}$").map_err(|e| Error::Query(e.to_string()))?;
        let mut regions: Vec<Vec<u32>> = Vec::new();
        let mut region_ids: HashMap<String, u32> = HashMap::new();
        for (i, p) in g.provinces().iter().enumerate() {
            for alias in std::iter::once(&p.province.name).chain(&p.aliases) {
                if iso_code.is_match(alias) {
                    continue;
                }
                // Most provinces have no ambiguous names: no fold then.
                let ambiguous = !p.ambiguous.is_empty() && p.ambiguous.contains(&fold(alias));
                named.push((
                    alias,
                    Entry::Province {
                        id: i as u32,
                        ambiguous,
                    },
                ));
            }
            if let Some(region) = &p.region {
                let next = regions.len() as u32;
                let r = *region_ids.entry(fold(region)).or_insert_with(|| {
                    regions.push(Vec::new());
                    next
                });
                regions[r as usize].push(i as u32);
                named.push((region, Entry::Region(r)));
            }
        }
        for (i, c) in g.countries().iter().enumerate() {
            for alias in std::iter::once(&c.name).chain(&c.aliases) {
                if alias.chars().count() > 3 || alias == &c.name {
                    named.push((alias, Entry::Country(i as u32)));
                }
            }
        }
        // The places' names borrowed from the file's text as it is read
        // (no `String` per name), while the cued file is read alongside.
        let places = g.place_facts(|i, row| {
            named.push((row.name, Entry::Place(i)));
            for alt in alternates(row.alternates) {
                if alt.chars().next().is_some_and(char::is_uppercase)
                    && alt.chars().nth(2).is_some()
                {
                    named.push((alt, Entry::Place(i)));
                }
            }
        })?;
        // The words that may start a name written in lower case and still
        // be kept (`case_ok`): a place, province, region or country only
        // after one of the articles (`starts_capitalised`: "al-Bab"), a
        // group whenever a capital follows ("the Resistance Front"), a
        // short acronym never (it is kept only as spelled). Looking up no
        // other lower-case word changes nothing, since a name refused for
        // its case hides nothing (`NameTable::find_all`): "la", "the" of
        // "the State of Palestine" and "is" of "IS" are not looked up.
        let mut lower_starts: rustc_hash::FxHashSet<String> =
            NAME_ARTICLES.iter().map(|a| a.to_string()).collect();
        for (name, entry) in &named {
            if !matches!(entry, Entry::Group { exact: None, .. }) {
                continue;
            }
            let first = name
                .split(|c: char| c.is_whitespace() || c == '-')
                .next()
                .unwrap_or_default();
            lower_starts.insert(fold(first));
        }
        // Folded in parallel chunks, each into one buffer (a `String` per
        // name was ~280k allocations and frees).
        let chunks: Vec<(String, Vec<(usize, usize)>)> = named
            .par_chunks(8192)
            .map(|chunk| {
                let mut keys = String::new();
                let mut spans = Vec::with_capacity(chunk.len());
                let mut buf = String::new();
                for (name, _) in chunk {
                    let key = names::trim_to_words(fold_reusing(name, &mut buf));
                    let start = keys.len();
                    keys.push_str(key);
                    spans.push((start, keys.len()));
                }
                (keys, spans)
            })
            .collect();
        let keys = chunks.iter().flat_map(|(keys, spans)| {
            spans
                .iter()
                .map(move |&(start, end)| keys.get(start..end).unwrap_or_default())
        });
        // Each distinct name once, in first-seen order (deterministic, no
        // sort), with the entries of all its spellings.
        let mut table = NameTableBuilder::with_capacity(named.len());
        let mut found: Vec<(u32, Entry)> = Vec::with_capacity(named.len());
        for ((_, entry), key) in named.iter().zip(keys) {
            if key.chars().filter(|c| c.is_alphanumeric()).nth(1).is_none() {
                continue;
            }
            found.push((table.intern(key), *entry));
        }
        let lower_starts = Arc::new(lower_starts);
        Ok(Matcher {
            entries: EntryLists::new(&found, table.len()),
            names: table.build().with_lower_starts(Arc::clone(&lower_starts)),
            lower_starts: LowerStarts::new(lower_starts),
            exact,
            regions,
            places,
        })
    }
}

/// The gazetteer entries of every name, by name id, in the order they were
/// listed, without repeats of the entry before: one flat list (a `Vec` per
/// name was hundreds of thousands of allocations).
#[derive(Debug, Default)]
struct EntryLists {
    /// Where the entries of each name start in `flat`; one more at the end.
    starts: Vec<u32>,
    flat: Vec<Entry>,
}

impl EntryLists {
    /// Groups `(name id, entry)` pairs by name id (ids below `names`),
    /// keeping their order within a name (a stable counting sort).
    fn new(pairs: &[(u32, Entry)], names: usize) -> EntryLists {
        let mut starts = vec![0u32; names + 1];
        for &(id, _) in pairs {
            starts[id as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut slots: Vec<Option<Entry>> = vec![None; pairs.len()];
        for &(id, entry) in pairs {
            let at = &mut next[id as usize];
            slots[*at as usize] = Some(entry);
            *at += 1;
        }
        // The same entry listed twice in a row for a name (two spellings
        // that fold alike) is kept once.
        let mut flat: Vec<Entry> = Vec::with_capacity(pairs.len());
        let mut deduped = Vec::with_capacity(starts.len());
        deduped.push(0);
        for w in starts.windows(2) {
            let first = flat.len();
            for entry in slots[w[0] as usize..w[1] as usize].iter().flatten() {
                if flat[first..]
                    .last()
                    .is_none_or(|kept| !same_entry(entry, kept))
                {
                    flat.push(*entry);
                }
            }
            deduped.push(flat.len() as u32);
        }
        EntryLists {
            starts: deduped,
            flat,
        }
    }

    /// The entries of name `id`.
    fn get(&self, id: u32) -> &[Entry] {
        let id = id as usize;
        match (self.starts.get(id), self.starts.get(id + 1)) {
            (Some(&start), Some(&end)) => {
                self.flat.get(start as usize..end as usize).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    /// How many names.
    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }
}

fn same_entry(a: &Entry, b: &Entry) -> bool {
    match (a, b) {
        (Entry::Place(x), Entry::Place(y)) | (Entry::Country(x), Entry::Country(y)) => x == y,
        (Entry::Province { id: x, .. }, Entry::Province { id: y, .. }) => x == y,
        (Entry::Group { id: x, exact: ex }, Entry::Group { id: y, exact: ey }) => {
            x == y && ex == ey
        }
        _ => false,
    }
}

impl Gazetteer {
    /// The name table (built on first call: about a tenth of a second of
    /// CPU for the embedded gazetteer).
    pub fn matcher(&self) -> Result<&Matcher> {
        let built = self
            .matcher
            .get_or_init(|| Matcher::build(self).map_err(|e| e.to_string()));
        built.as_ref().map_err(|e| Error::Query(e.clone()))
    }
}

/// One place learned from a sentence such as "the town of Atmeh, in Idlib
/// province".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    /// The place name as written.
    pub name: String,
    /// The province the sentence puts it in.
    pub province: Province,
    /// The article that taught it.
    pub article: ArticleId,
}

/// A place a cue sentence names, not yet checked against the places the
/// gazetteer already knows in that province.
#[derive(Debug, Clone)]
pub(crate) struct PlaceCandidate {
    province_id: u32,
    place: Learned,
}

/// What the corpus taught about one place name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedPlace {
    /// The name as first written.
    pub name: String,
    /// `Country/Province` → how many sentences said so.
    pub provinces: BTreeMap<String, u32>,
    /// The first few articles that taught it.
    pub taught_by: Vec<ArticleId>,
}

impl LearnedPlace {
    /// The province to use: the most taught one, when it has at least twice
    /// the votes of any other (a place learned with conflicting provinces is
    /// not used until one clearly dominates).
    pub fn dominant(&self) -> Option<&str> {
        let mut counts: Vec<(&String, &u32)> = self.provinces.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1));
        match counts.as_slice() {
            [] => None,
            [(p, _)] => Some(p.as_str()),
            [(p, first), (_, second), ..] => (**first >= 2 * **second).then_some(p.as_str()),
        }
    }
}

/// Places learned from the corpus, kept with the index (in its manifest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LearnedPlaces {
    places: BTreeMap<String, LearnedPlace>,
}

impl LearnedPlaces {
    /// Records what some articles taught.
    pub fn add_all(&mut self, learned: Vec<Learned>) {
        for l in learned {
            let entry = self
                .places
                .entry(fold(&l.name))
                .or_insert_with(|| LearnedPlace {
                    name: l.name.clone(),
                    ..LearnedPlace::default()
                });
            *entry.provinces.entry(l.province.to_string()).or_default() += 1;
            if entry.taught_by.len() < 5 && !entry.taught_by.contains(&l.article) {
                entry.taught_by.push(l.article);
            }
        }
    }

    /// Number of distinct place names learned.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The learned places, by folded name.
    pub fn iter(&self) -> impl Iterator<Item = &LearnedPlace> {
        self.places.values()
    }
}

/// Tags articles with one gazetteer and the places learned so far.
pub struct Tagger<'g> {
    g: &'g Gazetteer,
    m: &'g Matcher,
    learned_table: NameTable,
    learned: Vec<u32>,
    learned_names: Vec<String>,
}

impl std::fmt::Debug for Tagger<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tagger({} learned places)", self.learned.len())
    }
}

/// Country codes of the countries an article is about.
type Context<'g> = rustc_hash::FxHashSet<&'g str>;

/// The one value `values` yields, however many times; `None` if it yields
/// none or two different ones (the size-one test of a set, without the set).
fn only_one<'a>(mut values: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

/// Population a town needs to set the article's country on its own.
const CONTEXT_TOWN: u64 = 20_000;

/// Population a place needs to tag in an article that names no country and
/// no unambiguous province.
const MIN_UNCONFIRMED_POPULATION: u64 = 1_000;

/// Words that are places somewhere but in conflict reporting are nearly
/// always parts of personal names ("Abu Bakr", "Umm Ahmed"). Sorted (by
/// bytes), as [`DEMONYMS`] is: most names found are asked about both, and
/// a binary search compares a few words where `contains` compared them all.
const PERSONAL_NAME_PARTS: &[&str] = &[
    "Abu", "Ahmad", "Ahmed", "Ali", "Bin", "Hassan", "Hussein", "Ibn", "Ibrahim", "Imam", "Khalid",
    "Mohammed", "Muhammad", "Mustafa", "Omar", "Said", "Salah", "Sheikh", "Umm", "Yusuf",
];

/// Whether `word` is one of `sorted` (a list sorted by bytes).
fn listed(sorted: &[&str], word: &str) -> bool {
    sorted.binary_search(&word).is_ok()
}

/// Nationality words that are also the names of small places somewhere
/// ("Thai", "Malian"): in news they are adjectives. Sorted (by bytes).
const DEMONYMS: &[&str] = &[
    "Afghan",
    "American",
    "Arab",
    "Burkinabe",
    "Burmese",
    "Chadian",
    "Chinese",
    "Colombian",
    "Congolese",
    "Egyptian",
    "Eritrean",
    "Ethiopian",
    "French",
    "German",
    "Haitian",
    "Indian",
    "Iranian",
    "Iraqi",
    "Israeli",
    "Jordanian",
    "Kenyan",
    "Kurdish",
    "Lebanese",
    "Libyan",
    "Malian",
    "Mexican",
    "Nigerian",
    "Nigerien",
    "Pakistani",
    "Palestinian",
    "Russian",
    "Rwandan",
    "Saudi",
    "Somali",
    "Sudanese",
    "Syrian",
    "Thai",
    "Turkish",
    "Ugandan",
    "Ukrainian",
    "Yemeni",
];

/// Verbs that make a city stand for its government ("Kigali denies",
/// "Moscow said"): then it is not where events happen.
const SPEECH_VERBS: &[&str] = &[
    " said",
    " says",
    " denies",
    " denied",
    " accused",
    " accuses",
    " insists",
    " insisted",
    " claimed",
    " claims",
    " announced",
    " warned",
    " rejected",
    " has said",
    " has denied",
];

const TYPE_WORDS: &[&str] = &[
    "province",
    "governorate",
    "state",
    "region",
    "oblast",
    "prefecture",
    "department",
    "county",
    "division",
    "provinces",
    "governorates",
    "states",
    "regions",
];

/// Words whose `of` names a settlement ("the town of Atmeh"), as
/// [`SETTLEMENT_CUE`] spells them.
const SETTLEMENT_KINDS: &[&str] = &[
    "town",
    "village",
    "city",
    "hamlet",
    "settlement",
    "camp",
    "district",
    "area",
    "outskirts",
    "suburb",
    "neighbourhood",
    "neighborhood",
    "locality",
    "market town",
    "border town",
    "border crossing",
];

static SETTLEMENT_CUE: LazyLock<Twin> = LazyLock::new(|| {
    Twin::new(&format!(
        r"\b(?:{})s?\s+of\s+({NAME})",
        SETTLEMENT_KINDS.join("|")
    ))
});

/// The names that follow a settlement cue ("the town of Atmeh"), as byte
/// spans. The same as the spans of [`SETTLEMENT_CUE`]'s group, found without
/// asking the regex for groups, which costs more than the search itself: the
/// name is what follows the cue's `of` and its white space.
///
/// An ASCII text is searched only if [`may_hold_settlement_cue`] says so
/// (nearly no paragraph does).
fn settlement_cues(text: &str) -> Vec<(usize, usize)> {
    if text.is_ascii() && !may_hold_settlement_cue(text.as_bytes()) {
        return Vec::new();
    }
    SETTLEMENT_CUE
        .for_text(text)
        .find_iter(text)
        .filter_map(|m| {
            let cue = m.as_str();
            let mut from = 0;
            while let Some(k) = cue[from..].find("of") {
                let at = from + k;
                let rest = &cue[at + 2..];
                let name = rest.trim_start();
                if cue[..at].ends_with(char::is_whitespace) && name.len() < rest.len() {
                    return Some((m.end() - name.len(), m.end()));
                }
                from = at + 2;
            }
            None
        })
        .collect()
}

/// Whether ASCII `bytes` may hold a match of [`SETTLEMENT_CUE`]'s ASCII
/// twin: false only when no `of` has what every match has around its
/// `\s+of\s+`: before it, white space after a whole word (the cue's `\b`)
/// of letters that ends one of [`SETTLEMENT_KINDS`] (`market town` ends
/// with `town`), with or without
/// the cue's `s`; after it, white space and then a capital or the `a` or
/// `e` of an Arabic article (the first byte of the ASCII [`NAME`]).
fn may_hold_settlement_cue(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"of").any(|at| {
        let after = &bytes[at + 2..];
        let name = after.iter().position(|&b| !is_regex_space(b));
        if !name.is_some_and(|k| k > 0 && matches!(after[k], b'A'..=b'Z' | b'a' | b'e')) {
            return false;
        }
        let before = &bytes[..at];
        let Some(last) = before.iter().rposition(|&b| !is_regex_space(b)) else {
            return false;
        };
        if last + 1 == before.len() {
            return false;
        }
        let word_start = before[..=last]
            .iter()
            .rposition(|b| !b.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        let word = &before[word_start..=last];
        let singular = word.strip_suffix(b"s").unwrap_or(word);
        SETTLEMENT_KINDS.iter().any(|kind| {
            ends_with_word(kind.as_bytes(), word) || ends_with_word(kind.as_bytes(), singular)
        })
    })
}

/// Whether the last word of `phrase` (after its last space) is `word`.
fn ends_with_word(phrase: &[u8], word: &[u8]) -> bool {
    match phrase.len().checked_sub(word.len()) {
        Some(0) => phrase == word,
        Some(k) => phrase[k - 1] == b' ' && &phrase[k..] == word,
        None => false,
    }
}

/// Whether `b` is white space as `\s` of the ASCII twins sees it (with
/// the vertical tab, which `u8::is_ascii_whitespace` leaves out).
fn is_regex_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// A place name as written: one to three capitalised words, with an
/// optional Arabic article (`al-Hol`, `Deir ez-Zor`, `Jisr al-Shughur`).
const NAME: &str = r"(?:(?:al|el|ad|ash|as|ar|an|at|az)[-\s])?\p{Lu}[\p{L}'’]+(?:(?:[-\s](?:al|el|ad|ash|as|ar|an|at|az|ez|es|ech)[-\s]|[-\s])\p{Lu}[\p{L}'’]+){0,2}";
const DIRECTION: &str = r"(?:(?:north|south|east|west|central|north-?east|north-?west|south-?east|south-?west|northern|southern|eastern|western|north-?eastern|north-?western|south-?eastern|south-?western|rural)\s+)?";

/// A word that all [`LEARN`] patterns but the second require.
static TYPE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("province|governorate|state|region|oblast").expect("built-in regex")
});

/// The two groups (the place, the province) of a match of the first
/// [`LEARN`] pattern, `{kinds} of {NAME},? (in|near) (the)? {DIRECTION}
/// {prov} {types}`, read from the match's text; the same as the regex's
/// groups, which the tests check:
///
/// * the place starts after the first `of` between white space (no kind
///   word holds one) and ends before the first `,? (in|near) `: a name's
///   words are capitalised or Arabic articles, never `in` or `near`;
/// * the province is the last word before the type word, and the word
///   before it too when one white-space char apart and not lower case
///   (`in`, `near`, `the` and the directions are the only lower-case words
///   the pattern allows there, and a capitalised word cannot be one of
///   them, so the regex's greedy second word is the only parse).
fn town_of_groups(m: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    let name_start = loop {
        let at = from + m[from..].find("of")?;
        let rest = &m[at + 2..];
        let name = rest.trim_start();
        if m[..at].ends_with(char::is_whitespace) && name.len() < rest.len() {
            break m.len() - name.len();
        }
        from = at + 2;
    };
    let name_end = name_start + name_end_at(&m[name_start..])?;
    // The type word is the match's last word.
    let before_type = m.trim_end_matches(|c: char| !c.is_whitespace());
    let prov_end = before_type.trim_end().len();
    let last_start = m[..prov_end]
        .rfind(char::is_whitespace)
        .map_or(0, |i| i + m[i..].chars().next().map_or(1, char::len_utf8));
    let mut prov_start = last_start;
    let gap = &m[..last_start];
    if let Some(space) = gap.chars().next_back().filter(|c| c.is_whitespace()) {
        let first_end = last_start - space.len_utf8();
        let first_start = m[..first_end]
            .rfind(char::is_whitespace)
            .map_or(0, |i| i + m[i..].chars().next().map_or(1, char::len_utf8));
        let first = &m[first_start..first_end];
        if !first.is_empty() && !first.starts_with(char::is_lowercase) {
            prov_start = first_start;
        }
    }
    Some((&m[name_start..name_end], &m[prov_start..prov_end]))
}

/// Where a place name that starts `text` ends: before the first `,? (in|near)`
/// followed by white space.
fn name_end_at(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = text[i..].chars().next()?;
        if c.is_whitespace() {
            let rest = text[i..].trim_start();
            let word_ok = ["in", "near"].iter().any(|w| {
                rest.strip_prefix(w)
                    .is_some_and(|after| after.starts_with(char::is_whitespace))
            });
            if word_ok {
                return Some(if i > 0 && bytes[i - 1] == b',' {
                    i - 1
                } else {
                    i
                });
            }
        }
        i += c.len_utf8();
    }
    None
}

/// Whether `text` has a comma, white space, `a` or `an` and white space
/// again (", a town in"), which the second [`LEARN`] pattern requires. (A
/// bare `a` let ", and" and ", according to" through: a quarter of all
/// paragraphs, against one in twenty-five.)
fn has_comma_article(text: &str) -> bool {
    memchr::memchr_iter(b',', text.as_bytes()).any(|i| {
        let rest = &text[i + 1..];
        let after_space = rest.trim_start();
        after_space.len() < rest.len()
            && ["a", "an"].iter().any(|article| {
                after_space
                    .strip_prefix(article)
                    .is_some_and(|r| r.starts_with(char::is_whitespace))
            })
    })
}

/// Whether ASCII `before` ends with white space after a word written with
/// a capital, as it does before the type word of every match of [`LEARN`]
/// patterns 0, 2 and 3: the province's last word (`\p{Lu}[\p{L}'’-]+`,
/// with white space before it) and `\s+`. White space is `\s` of the
/// ASCII twins (with the vertical tab, which `u8::is_ascii_whitespace`
/// leaves out).
fn capital_word_before(before: &[u8]) -> bool {
    let space = |b: &u8| is_regex_space(*b);
    let Some(last) = before.iter().rposition(|b| !space(b)) else {
        return false;
    };
    if last + 1 == before.len() {
        return false;
    }
    let start = before[..last].iter().rposition(space).map_or(0, |i| i + 1);
    before[start].is_ascii_uppercase()
}

/// The groups (place, province) of the matches of [`LEARN`] patterns 0, 2
/// and 3 in `text`, per pattern in text order: the same as each pattern's
/// `captures_iter` over the whole text (the tests check it), found by
/// asking at each type word whether a match ends there.
///
/// Every match ends with white space and a type word (`TYPE_WORD`, case
/// sensitive; `find_iter` finds every one after white space: one it skips
/// starts inside another, after a letter) after a capitalised word (which [`capital_word_before`]
/// checks first). At each such type word, [`TYPED_CUE_AT_END`] on the text
/// cut after it (for patterns 2 and 3, only when [`IN_CUES_AT_END`] finds
/// something) finds the leftmost start, at or after the end of the
/// pattern's last match, of a match ending there (nothing in the patterns
/// looks past the type word, and `\b` at their start sees the text
/// before). Why these are exactly the matches of a whole-text search, for
/// one pattern: let `N` (from `s` to `e`) be the next match a whole-text
/// search finds after the last one.
/// (a) No match ends before `e` and starts at or after `s`: it would hold
/// a type word right after white space inside `N`, but the words after
/// white space inside a match are the patterns' own (`of`, `in`, `near`,
/// `the`, directions, Arabic articles, capitalised names), none of which
/// starts with a type word. So nothing is found at the type words before
/// `e`: a match found there would start at or after `s` (`N` is the
/// leftmost) and end before `e`. (b) At `e`, `N` ends there and nothing
/// starts earlier, so the leftmost start is `s`; the groups are read with
/// the pattern itself from `s` on the cut text, where `N`, the match a
/// whole-text search prefers from `s`, is still there and preferred.
fn typed_cues(text: &str) -> [Vec<(&str, &str)>; 3] {
    let mut out: [Vec<(&str, &str)>; 3] = Default::default();
    let ascii = text.is_ascii();
    let ending = TYPED_CUE_AT_END.each_ref().map(|twin| twin.get(ascii));
    let patterns = [0, 2, 3].map(|k| LEARN[k].get(ascii));
    let in_cues = IN_CUES_AT_END.get(ascii);
    // Where each pattern's next match may start (the end of its last one).
    let mut next = [0; 3];
    for word in TYPE_WORD.find_iter(text) {
        // (Only ASCII text is checked before asking the regexes.)
        if ascii && !capital_word_before(&text.as_bytes()[..word.start()]) {
            continue;
        }
        let upto = &text[..word.end()];
        // Patterns 2 and 3 only if one of them may end here.
        let from = next[1].min(next[2]);
        let in_cue = from < word.start() && in_cues.find_at(upto, from).is_some();
        for i in 0..3 {
            // A match ending here holds the white space before the word.
            if next[i] >= word.start() || i > 0 && !in_cue {
                continue;
            }
            let Some(m) = ending[i].find_at(upto, next[i]) else {
                continue;
            };
            next[i] = m.end();
            let groups = if i == 0 {
                // Read from the match's text: asking the regex for them
                // ran its backtracker over every match (the common cue).
                town_of_groups(m.as_str())
            } else {
                patterns[i]
                    .captures_at(upto, m.start())
                    .and_then(|caps| Some((caps.get(1)?.as_str(), caps.get(2)?.as_str())))
            };
            out[i].extend(groups);
        }
    }
    out
}

/// Place learning's cues, as patterns (see [`LEARN`]).
fn learn_patterns() -> [String; 4] {
    let prov = r"(\p{Lu}[\p{L}'’-]+(?:\s\p{Lu}[\p{L}'’-]+)?)";
    let types = r"(?:province|governorate|state|region|oblast)";
    let kinds = r"(?:town|village|city|hamlet|settlement|camp|district|border town|market town)";
    [
        // the town of Atmeh, in Idlib province / the village of X in northern Y governorate
        format!(
            r"\b{kinds}\s+of\s+({NAME}),?\s+(?:in|near)\s+(?:the\s+)?{DIRECTION}{prov}\s+{types}"
        ),
        // Sarmada, a town in northern Idlib (province)
        format!(
            r"\b({NAME}),\s+an?\s+(?:small\s+|large\s+|frontline\s+|rebel-held\s+|government-held\s+)?{kinds}\s+(?:in|near)\s+(?:the\s+)?{DIRECTION}{prov}(?:\s+{types})?"
        ),
        // in Barisha in Idlib province / in X, Y governorate
        format!(r"\bin\s+({NAME}),?\s+in\s+(?:the\s+)?{DIRECTION}{prov}\s+{types}"),
        format!(r"\bin\s+({NAME}),\s+{prov}\s+{types}"),
    ]
}

static LEARN: LazyLock<Vec<Twin>> =
    LazyLock::new(|| learn_patterns().iter().map(|p| Twin::new(p)).collect());

/// [`LEARN`] patterns 0, 2 and 3 anchored at the end of the text (`$`),
/// which the regex crate searches backwards from the end (its "reverse
/// anchored" strategy): asked whether a match ends at a type word, it
/// reads back from the type word only as far as a match could reach,
/// usually a word or two.
static TYPED_CUE_AT_END: LazyLock<[Twin; 3]> = LazyLock::new(|| {
    let [p0, _, p2, p3] = learn_patterns();
    [p0, p2, p3].map(|p| Twin::new(&format!("(?:{p})$")))
});

/// [`LEARN`] patterns 2 and 3 together, anchored at the end like
/// [`TYPED_CUE_AT_END`]: both start with `in` and rarely match, so one
/// search tells that neither does (a match of either is one of this).
static IN_CUES_AT_END: LazyLock<Twin> = LazyLock::new(|| {
    let [_, _, p2, p3] = learn_patterns();
    Twin::new(&format!("(?:{p2}|{p3})$"))
});

static BACKGROUND_CUE: LazyLock<Twin> = LazyLock::new(|| {
    Twin::new(
        r"(?i)\b(?:last (?:year|month|week)|previous(?:ly)?|in the past|years ago|months ago|a year ago|earlier this year|in recent (?:years|months)|since (?:19|20)\d\d|in (?:19|20)\d\d|(?:19|20)\d0s|originated|after (?:losing|the fall of)|similar (?:raid|attack|strike|operation)s?)\b",
    )
});

static YEAR: LazyLock<Twin> = LazyLock::new(|| Twin::new(r"\b(?:19|20)\d\d\b"));

/// Four digits that start with 19 or 20, which every match of [`YEAR`] and
/// of [`BACKGROUND_CUE`]'s alternatives with digits (`since 1990`, `in
/// 2019`, `1990s`) holds: most sentences have none, and this search (a
/// literal prefilter, no word boundaries) is cheaper than either.
static YEAR_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:19|20)\d\d").expect("built-in regex"));

/// The words of [`BACKGROUND_WORDS`] that every match of
/// [`BACKGROUND_CUE`]'s alternatives without digits holds, in lower case:
/// `last ` (last year, month, week), `ious` (previous, previously), `past`
/// (in the past), `ago` (years, months, a year ago), `earlier` (earlier
/// this year), `recent ` (in recent years, months), `originat`, `after
/// losing`, `after the fall of`, `similar `.
const CUE_WORDS: [&str; 10] = [
    "last ",
    "ious",
    "past",
    "ago",
    "earlier",
    "recent ",
    "originat",
    "after losing",
    "after the fall of",
    "similar ",
];

/// [`CUE_WORDS`], searched (Teddy) in the lower-cased text of an ASCII
/// sentence, where the cue's `(?i)` is ASCII case folding. `None` where
/// Teddy is not available (then every regex is searched).
static BACKGROUND_WORDS: LazyLock<Option<aho_corasick::packed::Searcher>> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .builder()
        .extend(CUE_WORDS)
        .build()
});

/// [`MONTH_NAMES`](dates::MONTH_NAMES), searched (Teddy) in an ASCII sentence as written: the
/// same question as a regex of the twelve names asks (whether one occurs),
/// without the regex's per-search overhead. `None` where Teddy is not
/// available (then [`MONTH_NAME`] is searched).
static MONTH_WORDS: LazyLock<Option<aho_corasick::packed::Searcher>> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .builder()
        .extend(dates::MONTH_NAMES)
        .build()
});

/// What a sentence may hold that [`is_background_with`]'s regexes look for.
struct BackgroundHints {
    /// Whether [`YEAR_DIGITS`] matches: [`YEAR`] and the cue's
    /// alternatives with digits need it.
    year_digits: bool,
    /// One of [`CUE_WORDS`] (in any case): the cue's other alternatives
    /// need one.
    cue_word: bool,
    /// One of [`MONTH_NAMES`](dates::MONTH_NAMES) as written there: [`MONTH_NAME`] needs one.
    month_word: bool,
}

/// Where a paragraph holds what [`is_background_with`]'s regexes look for,
/// found once per paragraph (the tagger asks about most of its sentences):
/// the starts of the [`YEAR_DIGITS`] matches, of the [`CUE_WORDS`] in the
/// lower-cased text and of the [`MONTH_NAMES`](dates::MONTH_NAMES) as written, each by one
/// search of the whole paragraph.
///
/// A sentence holds one of them exactly when one of these starts lies in
/// it: none of the words or digits holds a sentence's end (`.`, `!`, `?`),
/// so no match crosses from one sentence into the next, and a
/// left-to-right search of non-overlapping matches that finds none starting
/// in a sentence found none in the sentences before that reached into it,
/// so it would have found the sentence's own.
#[derive(Default)]
struct BackgroundScan {
    /// The paragraph scanned (an index into the article's paragraphs).
    paragraph: Option<usize>,
    /// Not ASCII, or no Teddy: every sentence gets all-true hints but for
    /// the year digits, which its own search answers.
    unscanned: bool,
    /// The paragraph lower-cased.
    lowered: Vec<u8>,
    years: Vec<usize>,
    cues: Vec<usize>,
    months: Vec<usize>,
}

impl BackgroundScan {
    /// Scans `text`, paragraph `paragraph` of the article, unless it is the
    /// one scanned last.
    fn scan(&mut self, paragraph: usize, text: &str) {
        if self.paragraph == Some(paragraph) {
            return;
        }
        self.paragraph = Some(paragraph);
        self.years.clear();
        self.cues.clear();
        self.months.clear();
        let (Some(words), Some(months)) = (&*BACKGROUND_WORDS, &*MONTH_WORDS) else {
            self.unscanned = true;
            return;
        };
        self.unscanned = !text.is_ascii();
        if self.unscanned {
            return;
        }
        let lowered = &mut self.lowered;
        lowered.clear();
        lowered.resize(text.len(), 0);
        let mut digits = false;
        for (lower, &b) in lowered.iter_mut().zip(text.as_bytes()) {
            *lower = b.to_ascii_lowercase();
            digits |= b.is_ascii_digit();
        }
        if digits {
            self.years
                .extend(YEAR_DIGITS.find_iter(text).map(|m| m.start()));
        }
        self.cues
            .extend(words.find_iter(&lowered[..]).map(|m| m.start()));
        self.months
            .extend(months.find_iter(text).map(|m| m.start()));
    }

    /// The hints of the scanned paragraph's sentence `start..end`.
    fn hints(&self, text: &str, start: usize, end: usize) -> BackgroundHints {
        if self.unscanned {
            return BackgroundHints {
                year_digits: YEAR_DIGITS.is_match(&text[start..end]),
                cue_word: true,
                month_word: true,
            };
        }
        let within = |starts: &[usize]| {
            starts
                .get(starts.partition_point(|&p| p < start))
                .is_some_and(|&p| p < end)
        };
        BackgroundHints {
            year_digits: within(&self.years),
            cue_word: within(&self.cues),
            month_word: within(&self.months),
        }
    }
}

static MONTH_NAME: LazyLock<Twin> = LazyLock::new(|| {
    Twin::new(&format!(
        r"\b(?:In|in|Since|since|By|by|During|during)\s+({})\b",
        dates::MONTH_NAMES.join("|")
    ))
});

impl<'g> Tagger<'g> {
    /// A tagger with no learned places.
    pub fn new(g: &'g Gazetteer) -> Result<Tagger<'g>> {
        Tagger::with_learned(g, &LearnedPlaces::default())
    }

    /// A tagger that also uses the places learned so far.
    pub fn with_learned(g: &'g Gazetteer, learned: &LearnedPlaces) -> Result<Tagger<'g>> {
        let mut tagger = Tagger {
            g,
            m: g.matcher()?,
            learned_table: NameTable::default(),
            learned: Vec::new(),
            learned_names: Vec::new(),
        };
        tagger.update_learned(learned)?;
        Ok(tagger)
    }

    /// Switches to the places learned so far, rebuilding the learned-name
    /// table only when the names or their dominant provinces changed
    /// (most batches of a run learn nothing new). Returns whether it did.
    pub fn update_learned(&mut self, learned: &LearnedPlaces) -> Result<bool> {
        let mut provinces = Vec::new();
        let mut display = Vec::new();
        for place in learned.iter() {
            let Some(province) = place.dominant().and_then(|p| province_id(self.g, p)) else {
                continue;
            };
            provinces.push(province);
            display.push(place.name.clone());
        }
        if provinces == self.learned && display == self.learned_names {
            return Ok(false);
        }
        let names: Vec<String> = display.iter().map(|name| fold(name)).collect();
        self.learned_table =
            NameTable::new(&names).with_lower_starts(Arc::clone(self.m.lower_starts.set()));
        self.learned = provinces;
        self.learned_names = display;
        Ok(true)
    }

    /// The places an article teaches ("the town of Atmeh, in Idlib
    /// province"): names that are not already known places of that province.
    pub fn learn_places(g: &Gazetteer, article: &Article) -> Vec<Learned> {
        Tagger::confirm_places(g, Tagger::place_candidates(g, article))
    }

    /// The first half of [`Tagger::learn_places`], which does not need the
    /// name table (so it can run while the table is being built):
    /// the cue sentences whose province the gazetteer knows.
    pub(crate) fn place_candidates(g: &Gazetteer, article: &Article) -> Vec<PlaceCandidate> {
        let mut out = Vec::new();
        for p in &article.paragraphs {
            // Patterns 0, 2 and 3 end with a type word: they are asked
            // only at the type words (see `typed_cues`).
            let [town_of, in_in, in_comma] = typed_cues(&p.text);
            // Pattern 1 needs ", a " or ", an ": most paragraphs have none.
            let appositive: Vec<(&str, &str)> = if has_comma_article(&p.text) {
                LEARN[1]
                    .for_text(&p.text)
                    .captures_iter(&p.text)
                    .filter_map(|caps| Some((caps.get(1)?.as_str(), caps.get(2)?.as_str())))
                    .collect()
            } else {
                Vec::new()
            };
            for (name, prov) in [town_of, appositive, in_in, in_comma].into_iter().flatten() {
                let name = name.trim();
                let ids = g.province_ids(&fold(prov));
                let [id] = ids else { continue };
                if !g.province_ids(&fold(name)).is_empty() {
                    continue;
                }
                out.push(PlaceCandidate {
                    province_id: *id,
                    place: Learned {
                        name: name.to_string(),
                        province: g.provinces()[*id as usize].province.clone(),
                        article: article.id.clone(),
                    },
                });
            }
        }
        out
    }

    /// The second half of [`Tagger::learn_places`]: drops the candidates
    /// that are already known places of their province.
    pub(crate) fn confirm_places(g: &Gazetteer, candidates: Vec<PlaceCandidate>) -> Vec<Learned> {
        candidates
            .into_iter()
            .filter(|c| !known_place_in(g, &c.place.name, c.province_id))
            .map(|c| c.place)
            .collect()
    }

    /// Tags one article.
    pub fn tag(&self, article: &Article) -> ArticleTags {
        self.tag_ids(article).to_article_tags()
    }

    /// Tags one article, as indexes into the gazetteer: the same tags as
    /// [`Tagger::tag`] without their strings, which is what indexing uses.
    pub fn tag_ids<'a>(&'a self, article: &'a Article) -> IdTags<'a> {
        // The fold's buffers are the thread's, reused from article to
        // article (allocating them per article cost more than their use).
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.tag_with(article, &mut scratch),
            Err(_) => self.tag_with(article, &mut Scratch::default()),
        })
    }

    fn tag_with<'a>(&'a self, article: &'a Article, scratch: &mut Scratch) -> IdTags<'a> {
        let published = article.published.map(|d| d.date_naive());
        // About one name per sixty bytes of text: sized once rather than
        // grown by doubling (each growth a copy of every hit so far).
        let bytes: usize = article.paragraphs.iter().map(|p| p.text.len()).sum();
        let mut hits = Vec::with_capacity(bytes / 48);
        // The sentences' buffer is the thread's, reused from article to
        // article.
        let mut sentences = std::mem::take(&mut scratch.sentences);
        sentences.clear();
        for (i, p) in article.paragraphs.iter().enumerate() {
            let first_sentence = sentences.len();
            split_sentences(&p.text, |start, end| {
                sentences.push(Sentence {
                    paragraph: i,
                    start,
                    end,
                    background: OnceCell::new(),
                });
            });
            self.find_spans(&p.text, scratch);
            self.find_names(
                p.ordinal,
                &p.text,
                scratch,
                first_sentence,
                &sentences,
                &mut hits,
            );
        }
        let context = self.context_countries(&hits);
        // Whether a sentence is background is asked only of sentences that
        // name something (its regexes are a good part of tagging's cost).
        let scan = &mut scratch.background;
        scan.paragraph = None;
        let mut is_background_sentence = |s: &Sentence| {
            *s.background.get_or_init(|| {
                let p = &article.paragraphs[s.paragraph];
                if p.ordinal == 0 {
                    return false;
                }
                scan.scan(s.paragraph, &p.text);
                let hints = scan.hints(&p.text, s.start, s.end);
                is_background_with(&p.text[s.start..s.end], published, hints)
            })
        };
        let mut evidence = Vec::with_capacity(hits.len());
        for hit in &hits {
            if let Some((tag, rule)) = self.resolve(hit, &context) {
                let background = sentences
                    .get(hit.sentence)
                    .is_some_and(&mut is_background_sentence);
                let tag = match tag {
                    TagId::Province(p) if background => TagId::Mention(p),
                    other => other,
                };
                evidence.push(IdEvidence {
                    tag,
                    rule,
                    paragraph: hit.paragraph,
                    span: hit.span,
                    text: hit.text,
                    background,
                    located: hit.located,
                });
            }
        }
        scratch.sentences = sentences;
        let mut tags = IdTags::aggregate(self.g, evidence);
        if let Some((date, ev)) = self.event_date(article, published) {
            tags.set_event_date(date, ev);
        }
        tags
    }

    /// The gazetteer's names and the learned places in `text`, as spans of
    /// `text` with their ids, into `scratch.names` and `scratch.learned`.
    ///
    /// An ASCII paragraph (nearly all of them) is not folded whole: only the
    /// words that may start a name are (capitalised, a digit, or one of the
    /// lower-case starts), with the words after them while the span still
    /// begins a name. Any other paragraph is folded whole and every word
    /// looked up. Both find the same names: the words a candidate scan
    /// skips are those [`NameTable::find_all`] would skip unhashed.
    fn find_spans(&self, text: &str, scratch: &mut Scratch) {
        let starts = &self.m.lower_starts;
        let Scratch {
            folded,
            hashes,
            candidates,
            buf,
            bits,
            found,
            names: name_spans,
            learned: learned_spans,
            ..
        } = scratch;
        name_spans.clear();
        learned_spans.clear();
        let bytes = text.as_bytes();
        if text.is_ascii()
            && self.m.names.uses_lower_starts(starts)
            && self.learned_table.uses_lower_starts(starts)
        {
            starts.candidates(bytes, candidates, buf, bits);
            let span = |f: &names::FoundAt| (f.start, f.end, f.id);
            let written = |f: &names::FoundAt| text.get(f.start..f.end).unwrap_or_default();
            self.m.names.find_ascii(bytes, candidates, buf, found, |f| {
                self.name_case_ok(f.id, written(f))
            });
            name_spans.extend(found.iter().map(span));
            self.learned_table
                .find_ascii(bytes, candidates, buf, found, |f| {
                    starts_capitalised(written(f))
                });
            learned_spans.extend(found.iter().map(span));
            return;
        }
        folded.refill(text);
        names::hash_words(&folded.text, &folded.words, hashes);
        let FoldedText {
            text: folded,
            words,
            word_offsets,
            ..
        } = &*folded;
        // Whether word `k` is written in lower case: then it may start a
        // name only if it is one of the matcher's `lower_starts`.
        let written_lower = |k: usize| {
            word_offsets
                .get(k)
                .and_then(|&(o, _)| text.get(o..))
                .and_then(|w| w.chars().next())
                .is_some_and(char::is_lowercase)
        };
        let original = |m: names::Found| {
            original_span(folded, word_offsets, text, m).map(|(s, e)| (s, e, m.id))
        };
        let written = |m: &names::Found| original(*m).and_then(|(s, e, _)| text.get(s..e));
        name_spans.extend(
            self.m
                .names
                .find_all(folded, words, hashes, written_lower, |m| {
                    written(m).is_some_and(|w| self.name_case_ok(m.id, w))
                })
                .into_iter()
                .filter_map(original),
        );
        learned_spans.extend(
            self.learned_table
                .find_all(folded, words, hashes, written_lower, |m| {
                    written(m).is_some_and(starts_capitalised)
                })
                .into_iter()
                .filter_map(original),
        );
    }

    fn find_names<'t>(
        &'t self,
        paragraph: u32,
        text: &'t str,
        scratch: &Scratch,
        first_sentence: usize,
        sentences: &[Sentence],
        hits: &mut Vec<Hit<'t>>,
    ) {
        let sentence_of = |start: usize| {
            sentences[first_sentence..]
                .iter()
                .position(|s| start < s.end)
                .map_or(sentences.len().saturating_sub(1), |i| first_sentence + i)
        };
        let cues = settlement_cues(text);
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for &(start, end, id) in &scratch.names {
            let written = &text[start..end];
            // A name in the possessive is an owner, not the scene or the
            // actor of the event ("Russia's defence ministry", "once
            // al-Qaeda's affiliate"): it does not tag, and no shorter name
            // inside it does either ("the Kurdistan Region's forces" is not
            // Iran's Kurdistan province).
            if is_possessive(&text[end..]) {
                continue;
            }
            // Borrowed from the matcher when every entry passes, as for
            // most names: a `Vec` only when the case drops some.
            let all = self.m.entries.get(id);
            let entries: Cow<'t, [Entry]> = if all.iter().all(|e| self.case_ok(e, written)) {
                Cow::Borrowed(all)
            } else {
                Cow::Owned(
                    all.iter()
                        .copied()
                        .filter(|e| self.case_ok(e, written))
                        .collect(),
                )
            };
            if entries.is_empty() {
                continue;
            }
            taken.push((start, end));
            hits.push(Hit {
                metonym: is_metonym(&text[..start], &text[end..]),
                feature: is_feature_or_person(&text[..start], &text[end..]),
                descriptive: is_descriptive(&text[..start], &text[end..]),
                located: is_located(&text[..start]),
                paragraph,
                sentence: sentence_of(start),
                span: (start, end),
                text: written,
                entries,
                type_word: followed_by_type_word(&text[end..])
                    || preceded_by_type_of(&text[..start]),
                settlement: cues.iter().any(|&(s, e)| s <= start && end <= e),
                learned: None,
                cued: Vec::new(),
            });
        }
        // (The scan kept only learned places written with a capital.)
        for &(start, end, id) in &scratch.learned {
            if overlaps(&taken, start, end) || is_possessive(&text[end..]) {
                continue;
            }
            taken.push((start, end));
            hits.push(Hit {
                learned: Some(self.learned[id as usize]),
                ..Hit::plain(paragraph, sentence_of(start), text, (start, end))
            });
        }
        // Villages of the noisy table tag only after a settlement cue.
        let places = &self.m.places;
        for &(start, end) in &cues {
            if overlaps(&taken, start, end) {
                continue;
            }
            let Some(ids) = places.cued_by_name.get(&fold(&text[start..end])) else {
                continue;
            };
            hits.push(Hit {
                settlement: true,
                cued: ids.iter().map(|&i| places.cued[i as usize]).collect(),
                ..Hit::plain(paragraph, sentence_of(start), text, (start, end))
            });
        }
        hits.sort_by_key(|h| (h.paragraph, h.span.0));
    }

    /// Whether any entry of name `id` takes the name as `written` (see
    /// [`Tagger::case_ok`]): a name that none takes is not a match, and
    /// hides nothing from the scan.
    fn name_case_ok(&self, id: u32, written: &str) -> bool {
        self.m
            .entries
            .get(id)
            .iter()
            .any(|e| self.case_ok(e, written))
    }

    /// Checks a match against the text as written: proper names start with
    /// a capital (after an optional `al-`), acronyms match exactly.
    fn case_ok(&self, entry: &Entry, written: &str) -> bool {
        // Most names are written with a capital first, which every entry
        // takes but a short acronym's: settled without reading the group.
        let capital = written
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_uppercase);
        match entry {
            Entry::Group { exact: Some(i), .. } => written == self.m.exact[*i as usize],
            _ if capital => true,
            Entry::Group { id, .. } => {
                let group = &self.g.groups()[*id as usize];
                let needs_capital = group.name.chars().any(char::is_uppercase);
                !needs_capital || written.chars().any(char::is_uppercase)
            }
            _ => starts_capitalised(written),
        }
    }

    /// Countries the article is about, used to settle ambiguous names.
    ///
    /// Strong evidence first: unambiguous provinces, learned places and
    /// countries named as a place ("in Sudan"). Only when there is none do
    /// weaker hints count: any country named, and towns whose sizeable
    /// namesakes are all in one country. (Letting every town vote would let
    /// a namesake vote for itself: "Port" for Réunion.)
    fn context_countries(&self, hits: &[Hit<'_>]) -> Context<'g> {
        let mut strong = Context::default();
        let mut weak = Context::default();
        let places = &self.m.places;
        for hit in hits.iter().filter(|h| !h.metonym) {
            if let Some(p) = hit.learned {
                strong.insert(self.country_code(p));
            }
            for e in hit.entries.iter() {
                match *e {
                    Entry::Country(i) => {
                        let code = self.g.countries()[i as usize].code.as_str();
                        if hit.located {
                            strong.insert(code);
                        } else {
                            weak.insert(code);
                        }
                    }
                    Entry::Province {
                        id,
                        ambiguous: false,
                    } if hit.type_word || !self.has_foreign_place(hit, id) => {
                        strong.insert(self.country_code(id));
                    }
                    // "the Gaza Strip", "the West Bank": the country is clear.
                    Entry::Region(r) => {
                        for &id in &self.m.regions[r as usize] {
                            strong.insert(self.country_code(id));
                        }
                    }
                    _ => {}
                }
            }
            let big = only_one(
                hit.entries
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Place(i) => Some(&places.places[*i as usize]),
                        _ => None,
                    })
                    .filter(|p| !p.word && p.population >= CONTEXT_TOWN)
                    .map(|p| self.country_code(p.province)),
            );
            // Whether the name is usable asked only of a big town.
            if let Some(code) = big {
                if !is_short_acronym(hit.text) && !listed(DEMONYMS, hit.text) {
                    weak.insert(code);
                }
            }
        }
        if strong.is_empty() {
            weak
        } else {
            strong
        }
    }

    /// Whether the name is also a place in another country than province
    /// `id`'s ("Beni": a Bolivian department, a Congolese town).
    fn has_foreign_place(&self, hit: &Hit<'_>, id: u32) -> bool {
        let places = &self.m.places;
        let country = self.country_code(id);
        hit.entries.iter().any(|e| {
            matches!(e, Entry::Place(i)
                if self.country_code(places.places[*i as usize].province) != country)
        })
    }

    /// Whether the name is also a city of 100,000 or more.
    fn is_city(&self, hit: &Hit) -> bool {
        let places = &self.m.places;
        hit.entries.iter().any(
            |e| matches!(e, Entry::Place(i) if places.places[*i as usize].population >= 100_000),
        )
    }

    fn country_code(&self, province: u32) -> &'g str {
        &self.g.provinces()[province as usize].country_code
    }

    /// Decides what one match denotes, by priority: group, province,
    /// country, place.
    fn resolve(&self, hit: &Hit<'_>, context: &Context<'_>) -> Option<(TagId, Rule)> {
        if let Some(p) = hit.learned {
            return Some((TagId::Province(p), Rule::LearnedPlace));
        }
        if !hit.cued.is_empty() {
            let p = self.pick_by_context(&hit.cued, context)?;
            return Some((TagId::Province(p), Rule::PlaceToProvince));
        }
        if hit.descriptive {
            return None;
        }
        if let Some(Entry::Group { id, .. }) = hit
            .entries
            .iter()
            .find(|e| matches!(e, Entry::Group { .. }))
        {
            return Some((TagId::Group(*id), Rule::AliasToGroup));
        }
        if let Some(p) = self.resolve_province(hit, context) {
            return Some((TagId::Province(p), Rule::ExplicitProvince));
        }
        if let Some(Entry::Country(i)) = hit.entries.iter().find(|e| matches!(e, Entry::Country(_)))
        {
            return Some((TagId::Country(*i), Rule::ExplicitCountry));
        }
        let p = self.resolve_place(hit, context)?;
        Some((TagId::Province(p), Rule::PlaceToProvince))
    }

    fn resolve_province(&self, hit: &Hit<'_>, context: &Context<'_>) -> Option<u32> {
        // Only a city stands for a government ("Kyiv did not confirm");
        // "officials in Norte de Santander said" is still a place.
        if hit.metonym && self.is_city(hit) {
            return None;
        }
        let mut clear = Vec::new();
        let mut ambiguous = Vec::new();
        for e in hit.entries.iter() {
            match *e {
                Entry::Province {
                    id,
                    ambiguous: false,
                } => clear.push(id),
                Entry::Province {
                    id,
                    ambiguous: true,
                } => ambiguous.push(id),
                Entry::Region(r) => {
                    // A region ("Gaza Strip") tags its first governorate only
                    // when the text says nothing finer; keep it as context.
                    let ids = &self.m.regions[r as usize];
                    return (ids.len() == 1).then(|| ids[0]);
                }
                _ => {}
            }
        }
        if let [id] = clear.as_slice() {
            // "Beni" is a Bolivian department and a Congolese town: in an
            // article about Congo the town wins.
            // A province of a country the article is not about ("Geneva"
            // where envoys met) needs its type word to count.
            let foreign = !context.is_empty() && !context.contains(self.country_code(*id));
            if foreign && (self.resolve_place(hit, context).is_some() || !hit.type_word) {
                return None;
            }
            return Some(*id);
        }
        let candidates: Vec<u32> = clear.into_iter().chain(ambiguous).collect();
        if candidates.is_empty() {
            return None;
        }
        let in_context: Vec<u32> = candidates
            .iter()
            .copied()
            .filter(|&id| context.contains(self.country_code(id)))
            .collect();
        match (in_context.as_slice(), hit.type_word) {
            ([id], _) => Some(*id),
            ([], true) if candidates.len() == 1 => Some(candidates[0]),
            _ => None,
        }
    }

    fn resolve_place(&self, hit: &Hit<'_>, context: &Context<'_>) -> Option<u32> {
        let places = &self.m.places;
        if listed(PERSONAL_NAME_PARTS, hit.text)
            || listed(DEMONYMS, hit.text)
            || is_short_acronym(hit.text)
            || hit.metonym
            || hit.feature
        {
            return None;
        }
        // Iterators walked again rather than collected: this runs for most
        // hits, and the lists are short.
        let candidates = || {
            hit.entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Place(i) => Some(&places.places[*i as usize]),
                    _ => None,
                })
                .filter(|p| !p.word || hit.settlement)
        };
        let best = |list: &mut dyn Iterator<Item = &PlaceFact>| {
            list.max_by_key(|p| p.population).map(|p| p.province)
        };
        let in_context =
            || candidates().filter(|p| context.contains(self.country_code(p.province)));
        if in_context().next().is_some() {
            return best(&mut in_context());
        }
        // A place outside the countries the article is about is far more
        // often a namesake ("Thai", "Malian", "Port") than a second theatre.
        if !context.is_empty() {
            return None;
        }
        let plain =
            || candidates().filter(|p| !p.elsewhere && p.population >= MIN_UNCONFIRMED_POPULATION);
        if only_one(plain().map(|p| self.country_code(p.province))).is_some() {
            best(&mut plain())
        } else {
            None
        }
    }

    fn pick_by_context(&self, provinces: &[u32], context: &Context<'_>) -> Option<u32> {
        let mut unique: Vec<u32> = provinces.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let in_context: Vec<u32> = unique
            .iter()
            .copied()
            .filter(|&p| context.contains(self.country_code(p)))
            .collect();
        match (in_context.as_slice(), unique.as_slice()) {
            ([p], _) | ([], [p]) => Some(*p),
            _ => None,
        }
    }

    /// The event date: the first date expression of the lead paragraph (or
    /// the second), else the publication date.
    fn event_date(
        &self,
        article: &Article,
        published: Option<NaiveDate>,
    ) -> Option<(NaiveDate, Evidence)> {
        for p in article.paragraphs.iter().take(2) {
            // Lazily: the search stops at the date it settles on.
            let mut candidates = dates::resolve_each(&p.text, published).filter(|f| {
                published
                    .is_none_or(|d| f.date <= d && d.signed_duration_since(f.date).num_days() <= 62)
            });
            // "The army said on Tuesday it had repelled an attack on Monday":
            // the first date is the statement's; an earlier day named later
            // in the paragraph is the event's.
            let found = match candidates.next() {
                Some(first) if is_statement_date(&p.text, first.span) => {
                    candidates.find(|f| f.date <= first.date).or(Some(first))
                }
                first => first,
            };
            if let Some(f) = found {
                return Some((
                    f.date,
                    Evidence {
                        tag: TagValue::EventDate(f.date),
                        rule: f.rule,
                        paragraph: p.ordinal,
                        span: f.span,
                        text: p.text[f.span.0..f.span.1].to_string(),
                    },
                ));
            }
        }
        let date = published?;
        Some((
            date,
            Evidence {
                tag: TagValue::EventDate(date),
                rule: Rule::PublicationDate,
                paragraph: 0,
                span: (0, 0),
                text: String::new(),
            },
        ))
    }

    /// The learned place names this tagger uses.
    pub fn learned_names(&self) -> &[String] {
        &self.learned_names
    }
}

/// Buffers that [`Tagger::tag`] reuses from article to article.
#[derive(Default)]
struct Scratch {
    /// A paragraph that is not ASCII, folded whole.
    folded: FoldedText,
    /// The hash of each word of `folded`.
    hashes: Vec<u64>,
    /// The words of an ASCII paragraph that may start a name.
    candidates: Vec<names::Candidate>,
    /// Folded spans being looked up.
    buf: Vec<u8>,
    /// Which bytes of an ASCII paragraph are letters or digits.
    bits: Vec<u64>,
    found: Vec<names::FoundAt>,
    /// The paragraph's gazetteer names: start, end, name id.
    names: Vec<(usize, usize, u32)>,
    /// The paragraph's learned places: start, end, index in `learned`.
    learned: Vec<(usize, usize, u32)>,
    /// What the paragraph of the sentences asked about holds.
    background: BackgroundScan,
    /// The article's sentences (taken while it is tagged).
    sentences: Vec<Sentence>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

struct Sentence {
    /// Index of the paragraph in the article.
    paragraph: usize,
    start: usize,
    end: usize,
    background: OnceCell<bool>,
}

/// A name found in a paragraph; `'t` is the paragraph text's lifetime.
struct Hit<'t> {
    /// A city standing for its government ("Moscow said").
    metonym: bool,
    /// A place name used for a river, valley… ("the Juba valley") or inside
    /// a person's name ("Abdullahi Nur").
    feature: bool,
    /// Named as a descriptor, not an actor ("al-Qaeda-linked",
    /// "allegiance to the Islamic State").
    descriptive: bool,
    /// Preceded by a preposition of place ("in Sudan"): a country named as
    /// the place of events.
    located: bool,
    paragraph: u32,
    sentence: usize,
    span: (usize, usize),
    /// The name as written (a slice of the paragraph: copied only into the
    /// evidence of a hit that tags).
    text: &'t str,
    /// The name's gazetteer entries that its case allows (borrowed from
    /// the matcher when that is all of them).
    entries: Cow<'t, [Entry]>,
    type_word: bool,
    settlement: bool,
    learned: Option<u32>,
    cued: Vec<u32>,
}

impl<'t> Hit<'t> {
    /// A hit on `text[span]` with no gazetteer entries and no context flags
    /// (learned places and cued villages fill in their own field).
    fn plain(paragraph: u32, sentence: usize, text: &'t str, span: (usize, usize)) -> Hit<'t> {
        Hit {
            metonym: false,
            feature: false,
            descriptive: false,
            located: false,
            paragraph,
            sentence,
            span,
            text: &text[span.0..span.1],
            entries: Cow::Borrowed(&[]),
            type_word: false,
            settlement: false,
            learned: None,
            cued: Vec::new(),
        }
    }
}

fn province_id(g: &Gazetteer, display: &str) -> Option<u32> {
    let (country, name) = display.split_once('/')?;
    g.province_ids(&fold(name))
        .iter()
        .copied()
        .find(|&i| g.provinces()[i as usize].province.country == country)
}

fn known_place_in(g: &Gazetteer, name: &str, province: u32) -> bool {
    let Ok(m) = g.matcher() else { return false };
    let places = &m.places;
    let key = fold(name);
    m.names.get(&key).is_some_and(|id| {
        m.entries.get(id).iter().any(
            |e| matches!(e, Entry::Place(i) if places.places[*i as usize].province == province),
        )
    })
}

/// Maps a match in folded text back to the original, checking that it is a
/// whole word there.
fn original_span(
    folded: &str,
    word_offsets: &[(usize, usize)],
    text: &str,
    m: names::Found,
) -> Option<(usize, usize)> {
    let (start, end) = (m.start, m.end);
    let before = folded[..start].chars().next_back();
    let after = folded[end..].chars().next();
    if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
        return None;
    }
    let o_start = word_offsets.get(m.first_word)?.0;
    let o_end_raw = word_offsets.get(m.last_word)?.1;
    // The folded end maps to the start of the next kept character; trim the
    // dropped separators (apostrophes, hyphens, spaces) in between.
    let o_end = text[..o_end_raw]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphanumeric())
        .map_or(o_end_raw, |(i, c)| i + c.len_utf8());
    let before_orig = text[..o_start].chars().next_back();
    if before_orig.is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    (o_start < o_end).then_some((o_start, o_end))
}

/// A city standing for its government: "Moscow said", "a claim Kyiv did
/// not confirm", "the federal government in Baghdad".
fn is_metonym(before: &str, after: &str) -> bool {
    const AUXILIARIES: &[&str] = &[
        " did ", " does ", " has ", " had ", " will ", " would ", " wants", " hopes",
    ];
    const GOVERNMENT: &[&str] = &["government in", "leadership in"];
    let before = before.trim_end();
    starts_with_any(after, SPEECH_VERBS)
        || starts_with_any(after, AUXILIARIES)
        || (may_end_with(before, b"n")
            && GOVERNMENT
                .iter()
                .any(|g| text_lower_ends_with(before, g, false)))
}

/// Whether `after` starts with one of `words` (each at least two bytes
/// long). Asked of every name, nearly always in vain: the second byte
/// rejects most words before a full comparison.
fn starts_with_any(after: &str, words: &[&str]) -> bool {
    let second = after.as_bytes().get(1);
    words
        .iter()
        .any(|w| w.as_bytes().get(1) == second && after.starts_with(w))
}

/// Whether `text` may end, once lower-cased, with a suffix whose last byte
/// is one of `lasts`: false only when its last byte is ASCII and none of
/// them (as [`text_lower_ends_with`] decides first). The context checks ask
/// this once for a list of suffixes that share few last bytes.
fn may_end_with(text: &str, lasts: &[u8]) -> bool {
    match text.as_bytes().last() {
        Some(&b) if b.is_ascii() => lasts.contains(&b.to_ascii_lowercase()),
        _ => true,
    }
}

/// A place name that names a geographic feature ("the Juba valley") or is
/// part of a person's name ("Captain Abdullahi Nur": the word before is a
/// capitalised name inside a sentence).
fn is_feature_or_person(before: &str, after: &str) -> bool {
    const FEATURES: &[&str] = &[
        " valley",
        " river",
        " mountains",
        " desert",
        " sea",
        " strait",
        " gulf",
        " lake",
        " basin",
        " plain",
        " dam",
    ];
    // Every feature word follows a space: most names are not followed by
    // one. The next byte, when ASCII, rejects most of them at once.
    if after.starts_with(' ') {
        let second = after.as_bytes().get(1).copied();
        let may_start = |f: &str| match second {
            Some(b) if b.is_ascii() => f.as_bytes().get(1) == Some(&b.to_ascii_lowercase()),
            _ => true,
        };
        if FEATURES
            .iter()
            .filter(|f| may_start(f))
            .any(|f| lower_starts_with(after, f))
        {
            return true;
        }
    }
    let trimmed = before.trim_end_matches(' ');
    if trimmed.len() == before.len() {
        return false; // no space: hyphenated or start of text
    }
    // The previous word runs from the last space of `trimmed` (a space
    // byte is never inside a multi-byte char, so bytes find it exactly).
    let space = trimmed.as_bytes().iter().rposition(|&b| b == b' ');
    let previous = &trimmed[space.map_or(0, |i| i + 1)..];
    let capitalised_name = previous.chars().next().is_some_and(char::is_uppercase)
        && previous.chars().all(char::is_alphabetic)
        && previous.chars().count() > 2;
    // A capitalised word at the start of a sentence proves nothing: the
    // word before it (up to the space before) must not end one.
    let mid_sentence = space.is_some_and(|i| {
        !matches!(
            trimmed.as_bytes()[..i].last(),
            Some(b'.' | b'!' | b'?' | b'"')
        )
    });
    capitalised_name && mid_sentence && !NAME_PREFIX_OK.contains(&previous)
}

/// Capitalised words that may stand before a place name.
const NAME_PREFIX_OK: &[&str] = &[
    "North",
    "South",
    "East",
    "West",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Upper",
    "Lower",
    "Greater",
    "New",
    "Old",
    "Port",
    "Fort",
    "Saint",
    "San",
    "Santa",
    "Al",
    "El",
    "Tel",
    "Tal",
    "Deir",
    "Ras",
    "Jisr",
    "Khan",
    "Bab",
    "Ain",
    "Umm",
    "Abu",
    "Bir",
    "Kafr",
    "Mount",
    "Lake",
    "Camp",
    "Greater",
    "The",
    "In",
    "At",
    "Near",
    "From",
    "Of",
    "To",
    "Syrian",
    "Iraqi",
    "Yemeni",
    "Somali",
    "Sudanese",
    "Malian",
    "Nigerian",
    "Afghan",
    "Pakistani",
    "Congolese",
    "Ukrainian",
    "Russian",
    "Israeli",
    "Palestinian",
    "Lebanese",
    "Kurdish",
    "Turkish",
    "Burmese",
    "Libyan",
    "Ethiopian",
    "Mexican",
    "Colombian",
    "Haitian",
];

fn is_descriptive(before: &str, after: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "-linked",
        "-affiliated",
        "-aligned",
        "-allied",
        "-inspired",
        "-backed",
        "-style",
        " affiliate",
        " offshoot",
        " splinter",
    ];
    const PREFIXES: &[&str] = &[
        "allegiance to",
        "allegiance to the",
        "loyal to",
        "inspired by",
    ];
    let before = before.trim_end();
    starts_with_any(after, SUFFIXES)
        || (may_end_with(before, b"oey")
            && PREFIXES
                .iter()
                .any(|p| text_lower_ends_with(before, p, false)))
}

fn is_located(before: &str) -> bool {
    const PREPOSITIONS: &[&str] = &[" in", " across", " inside", " into", " throughout"];
    let before = before.trim_end();
    // As if the text before began with a space: " in" matches "In" alone.
    may_end_with(before, b"nseot")
        && PREPOSITIONS
            .iter()
            .any(|p| text_lower_ends_with(before, p, true))
}

/// Whether `text`, with a space before it if `spaced`, ends with `suffix`
/// (ASCII, lower case) once lower-cased; [`lower_ends_with`] with a fast
/// path. The context checks ask this a dozen times per name, nearly always
/// of ASCII text: an ASCII char lower-cases to exactly one ASCII char, so
/// when the last `suffix.len()` bytes are ASCII they alone decide.
#[inline]
fn text_lower_ends_with(text: &str, suffix: &str, spaced: bool) -> bool {
    let (bytes, want) = (text.as_bytes(), suffix.as_bytes());
    // Asked about a thousand times per article, nearly always in vain, and
    // the last char decides most: an ASCII last char lower-cases to one
    // ASCII char, which must be the suffix's last byte.
    if let (Some(&last), Some(&wanted)) = (bytes.last(), want.last()) {
        if last.is_ascii() && last.to_ascii_lowercase() != wanted {
            return false;
        }
    }
    let tail = &bytes[bytes.len().saturating_sub(want.len())..];
    if tail.is_ascii() {
        if tail.len() == want.len() {
            return tail.eq_ignore_ascii_case(want);
        }
        // All of `text` is ASCII and shorter than `suffix`: only the space
        // before it can make up the difference.
        return spaced
            && want.len() == tail.len() + 1
            && want.first() == Some(&b' ')
            && tail.eq_ignore_ascii_case(&want[1..]);
    }
    text_lower_ends_with_chars(text, suffix, spaced)
}

/// [`text_lower_ends_with`] char by char, for a tail that is not ASCII
/// (rare: kept out of line so that the ASCII path inlines small).
#[cold]
#[inline(never)]
fn text_lower_ends_with_chars(text: &str, suffix: &str, spaced: bool) -> bool {
    if spaced {
        lower_ends_with(text.chars().rev().chain(std::iter::once(' ')), suffix)
    } else {
        lower_ends_with(text.chars().rev(), suffix)
    }
}

/// Whether the text whose characters `rev` yields from the end, once
/// lower-cased, ends with `suffix` (ASCII, lower case). Lower-casing only
/// the characters compared gives the same answer as lower-casing the text:
/// the one context-dependent mapping (final sigma) never yields ASCII.
fn lower_ends_with(rev: impl Iterator<Item = char>, suffix: &str) -> bool {
    let mut want = suffix.bytes().rev();
    for c in rev {
        for l in c.to_lowercase().rev() {
            match want.next() {
                None => return true,
                Some(w) if l == char::from(w) => {}
                Some(_) => return false,
            }
        }
    }
    want.next().is_none()
}

/// Whether `text`, once lower-cased, starts with `prefix` (ASCII, lower
/// case); see [`lower_ends_with`].
fn lower_starts_with(text: &str, prefix: &str) -> bool {
    // As in `text_lower_ends_with`: ASCII bytes decide alone.
    let head = &text.as_bytes()[..text.len().min(prefix.len())];
    if head.is_ascii() {
        return head.len() == prefix.len() && head.eq_ignore_ascii_case(prefix.as_bytes());
    }
    let mut want = prefix.bytes();
    for c in text.chars() {
        for l in c.to_lowercase() {
            match want.next() {
                None => return true,
                Some(w) if l == char::from(w) => {}
                Some(_) => return false,
            }
        }
    }
    want.next().is_none()
}

/// Whether `after`, the text after a name, starts with a possessive `'s`.
fn is_possessive(after: &str) -> bool {
    let mut chars = after.chars();
    chars.next().is_some_and(|c| matches!(c, '\'' | '’'))
        && matches!(chars.next(), Some('s' | 'S'))
        && !chars.next().is_some_and(char::is_alphanumeric)
}

/// A written form like `UN` or `US`: an acronym, never a place.
fn is_short_acronym(written: &str) -> bool {
    // Asked of every name: the first char that is not a capital (the
    // second of most names), or a fourth char, settles it.
    let mut chars = 0;
    for c in written.chars() {
        chars += 1;
        if chars > 3 || !c.is_uppercase() {
            return false;
        }
    }
    true
}

fn overlaps(taken: &[(usize, usize)], start: usize, end: usize) -> bool {
    taken.iter().any(|&(s, e)| start < e && s < end)
}

/// Arabic articles that may start a proper name in lower case (al-Bab).
const NAME_ARTICLES: &[&str] = &["al", "el", "ad", "ash", "as", "ar", "an", "at", "az"];

/// Whether a name as written starts with a capital, after an optional
/// Arabic article (`al-Bab`, `el Fasher`).
fn starts_capitalised(written: &str) -> bool {
    // Asked of every name found, once per entry: every article starts with
    // a small `a` or `e`, so any other first byte settles it at once (an
    // ASCII letter is the first letter; most names start with a capital).
    match written.as_bytes().first() {
        Some(b) if b.is_ascii_alphabetic() && !matches!(b, b'a' | b'e') => {
            return b.is_ascii_uppercase()
        }
        _ => {}
    }
    let rest = [
        "al-", "el-", "ad-", "ash-", "as-", "ar-", "an-", "at-", "az-", "al ", "el ",
    ]
    .iter()
    .find_map(|p| written.strip_prefix(p))
    .unwrap_or(written);
    rest.chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_uppercase)
}

fn followed_by_type_word(after: &str) -> bool {
    let rest = after.trim_start_matches([' ', '\'', '’']);
    let word = &rest[..rest
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(rest.len())];
    if word.is_ascii() {
        // Asked of every name: compare without building a lower-case copy.
        return TYPE_WORDS.iter().any(|t| t.eq_ignore_ascii_case(word));
    }
    TYPE_WORDS.contains(&word.to_lowercase().as_str())
}

fn preceded_by_type_of(before: &str) -> bool {
    let before = before.trim_end();
    may_end_with(before, b"f")
        && [
            "province of",
            "governorate of",
            "state of",
            "region of",
            "oblast of",
        ]
        .iter()
        .any(|p| text_lower_ends_with(before, p, false))
}

/// Sentence byte ranges of a paragraph, each given to `out` in order.
fn split_sentences(text: &str, mut out: impl FnMut(usize, usize)) {
    let mut start = 0;
    // The three marks are ASCII, so their bytes never occur inside another
    // character; memchr finds them far faster than decoding every char.
    for i in memchr::memchr3_iter(b'.', b'!', b'?', text.as_bytes()) {
        let next = text[i + 1..].chars().next();
        if next.is_none_or(char::is_whitespace) && !crate::article::is_abbreviation(&text[start..i])
        {
            out(start, i + 1);
            start = i + 1;
        }
    }
    if start < text.len() {
        out(start, text.len());
    }
}

static SAID_BEFORE: LazyLock<Twin> = LazyLock::new(|| {
    Twin::new(
        r"(?i)\b(?:said|says|announced|reported|confirmed|claimed|published|stated|told reporters|added)\s+(?:(?:late|early)\s+)?(?:on\s+)?$",
    )
});

static SAID_AFTER: LazyLock<Twin> = LazyLock::new(|| {
    Twin::new(
        r"^\s+(?:said|announced|reported|confirmed|claimed|published|released|named|denied)\b",
    )
});

/// Whether the date expression at `span` dates a statement about the
/// events ("said on Tuesday", "on Tuesday published") rather than them.
fn is_statement_date(text: &str, span: (usize, usize)) -> bool {
    let before = text.get(..span.0).unwrap_or_default();
    let after = text.get(span.1..).unwrap_or_default();
    SAID_BEFORE.for_text(before).is_match(before) || SAID_AFTER.for_text(after).is_match(after)
}

/// Whether a sentence is about another time than the reported events.
#[cfg(test)]
fn is_background(sentence: &str, published: Option<NaiveDate>) -> bool {
    let mut scan = BackgroundScan::default();
    scan.scan(0, sentence);
    is_background_with(sentence, published, scan.hints(sentence, 0, sentence.len()))
}

/// [`is_background_with`] given what the sentence holds: most sentences name no
/// year and none of the cue's words, which [`BackgroundScan`] shows before
/// the regexes read every byte.
fn is_background_with(
    sentence: &str,
    published: Option<NaiveDate>,
    hints: BackgroundHints,
) -> bool {
    let year_digits = hints.year_digits;
    if (year_digits || hints.cue_word) && BACKGROUND_CUE.for_text(sentence).is_match(sentence) {
        return true;
    }
    let Some(published) = published else {
        return false;
    };
    if year_digits
        && YEAR
            .for_text(sentence)
            .find_iter(sentence)
            .filter_map(|m| m.as_str().parse::<i32>().ok())
            .any(|y| y < published.year())
    {
        return true;
    }
    if !hints.month_word {
        return false;
    }
    // The group is the match's last word (a month's name, all letters,
    // after white space): read without asking the regex for groups.
    MONTH_NAME.for_text(sentence).find_iter(sentence).any(|m| {
        let text = m.as_str();
        let month = &text[text
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len()..];
        dates::month_number(month).is_some_and(|m| m != published.month())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "the State of Palestine" is a country alias that only a capital
    /// "The" can start (`starts_capitalised`): written inside a sentence it
    /// is refused, and must not hide the alias "State of Palestine" inside
    /// it, in an ASCII paragraph (the candidate scan) or not (the fold).
    #[test]
    fn a_name_refused_for_its_case_hides_no_name_inside_it() {
        let g = Gazetteer::load(None).unwrap();
        let tagger = Tagger::new(&g).unwrap();
        for text in [
            "Shelling hit a school in the State of Palestine on Tuesday.",
            "Shelling hit a school in the State of Palestine on Tuesday, José said.",
        ] {
            let file = format!(" date 2025-08-21 {text}\n");
            let a = &crate::article::parse_text("a.txt", &file).unwrap().articles[0];
            let evidence = tagger.tag(a).evidence;
            let palestine = TagValue::Country("Palestine".to_string());
            assert!(
                evidence
                    .iter()
                    .any(|e| e.text == "State of Palestine" && e.tag == palestine),
                "{text}: {evidence:?}"
            );
        }
    }

    /// Places files given with `--schema-dir` take the place of the
    /// embedded ones in the tables the tagger builds, and a bad one fails
    /// the build with the file and line.
    #[test]
    fn a_users_places_files_replace_the_embedded_ones() {
        let dir = tempfile::tempdir().unwrap();
        let header =
            "name\tascii_name\talternate_names\tcountry_code\tprovince\tpopulation\tflags\n";
        std::fs::write(
            dir.path().join("places.tsv"),
            format!("{header}Zorblat\tZorblat\tZorblatville|zorb\tSY\tIdlib\t50000\t\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("places-cued.tsv"),
            format!("{header}Quxhamlet\tQuxhamlet\t\tYE\tMarib\t\t\n"),
        )
        .unwrap();
        let g = Gazetteer::load(Some(dir.path())).unwrap();
        let tagger = Tagger::new(&g).unwrap();
        let tag = |text: &str| {
            let file = format!(" date 2025-08-21 {text}\n");
            let a = &crate::article::parse_text("a.txt", &file).unwrap().articles[0];
            let tags = tagger.tag(a);
            tags.provinces
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(tag("Shelling hit Zorblat on Tuesday."), ["Syria/Idlib"]);
        assert_eq!(
            tag("Shelling hit Zorblatville on Tuesday."),
            ["Syria/Idlib"]
        );
        assert_eq!(
            tag("Fighters entered the village of Quxhamlet on Tuesday."),
            ["Yemen/Marib"]
        );
        // Sarmin is a place of the embedded places.tsv only.
        assert!(tag("Shelling hit the town of Sarmin on Tuesday.").is_empty());

        std::fs::write(
            dir.path().join("places-cued.tsv"),
            format!("{header}Quxhamlet\tQuxhamlet\t\tYE\tNowhere\t\t\n"),
        )
        .unwrap();
        let g = Gazetteer::load(Some(dir.path())).unwrap();
        let err = Tagger::new(&g).unwrap_err().to_string();
        assert!(
            err.contains("places-cued.tsv") && err.contains("Nowhere"),
            "{err}"
        );
    }

    /// `listed` binary-searches these lists: out of order, a word in them
    /// could be missed.
    #[test]
    fn the_word_lists_are_sorted_and_found() {
        for list in [PERSONAL_NAME_PARTS, DEMONYMS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(list.iter().all(|w| listed(list, w)));
        }
        assert!(!listed(DEMONYMS, "Syria"));
        assert!(!listed(PERSONAL_NAME_PARTS, "abu"));
    }

    /// The Unicode forms are compiled only when a non-ASCII text needs
    /// them: compile each here.
    #[test]
    fn every_pattern_compiles_in_both_forms() {
        let twins = [
            &*SETTLEMENT_CUE,
            &*BACKGROUND_CUE,
            &*YEAR,
            &*MONTH_NAME,
            &*SAID_BEFORE,
            &*SAID_AFTER,
        ];
        for twin in twins
            .into_iter()
            .chain(LEARN.iter())
            .chain(TYPED_CUE_AT_END.iter())
            .chain([&*IN_CUES_AT_END])
        {
            assert!(!twin.unicode().is_match(""));
            assert!(!twin.for_text("").is_match(""));
        }
    }

    #[test]
    fn settlement_cues_are_the_regex_group() {
        let texts = [
            "Fighting in the town of Atmeh and the villages of al-Bab, near the border crossing of Bab al-Hawa.",
            "The outskirts\tof\n Deir ez-Zor, a market town of Ma'arrat al-Nu'man, the camp of Of Town.",
            "The town of of, the city of  Raqqa, the neighbourhood of Sheikh Maqsoud in Aleppo",
        ];
        for text in texts {
            let with_groups: Vec<(usize, usize)> = SETTLEMENT_CUE
                .for_text(text)
                .captures_iter(text)
                .filter_map(|c| c.get(1).map(|m| (m.start(), m.end())))
                .collect();
            assert!(!with_groups.is_empty());
            assert_eq!(settlement_cues(text), with_groups, "{text}");
        }
    }

    /// The settlement cues' spans as the regex's group gives them, over the
    /// whole text (what `settlement_cues` was before its checks).
    fn settlement_cues_by_regex(text: &str) -> Vec<(usize, usize)> {
        SETTLEMENT_CUE
            .for_text(text)
            .captures_iter(text)
            .filter_map(|c| c.get(1).map(|m| (m.start(), m.end())))
            .collect()
    }

    /// The person half of `is_feature_or_person` as it was before it found
    /// the previous word by its bytes (`after` empty: no feature word).
    fn is_person_by_split(before: &str) -> bool {
        let trimmed = before.trim_end_matches(' ');
        if trimmed.len() == before.len() {
            return false;
        }
        let mut words = trimmed.rsplit(' ');
        let previous = words.next().unwrap_or("");
        let before_previous = words.next();
        let capitalised_name = previous.chars().next().is_some_and(char::is_uppercase)
            && previous.chars().all(char::is_alphabetic)
            && previous.chars().count() > 2;
        let mid_sentence = before_previous.is_some_and(|w| !w.ends_with(['.', '!', '?', '"']));
        capitalised_name && mid_sentence && !NAME_PREFIX_OK.contains(&previous)
    }

    /// Every kind of [`SETTLEMENT_CUE`] (as its pattern spells them out)
    /// passes [`may_hold_settlement_cue`], which reads [`SETTLEMENT_KINDS`]
    /// as the pattern is built from them.
    #[test]
    fn every_settlement_kind_passes_the_check() {
        let pattern = SETTLEMENT_CUE.unicode().as_str();
        let kinds = pattern
            .split_once("(?:")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(kinds, _)| kinds)
            .unwrap();
        let mut n = 0;
        for kind in kinds.split('|') {
            for kind in [kind.replace("u?", "u"), kind.replace("u?", "")] {
                for plural in ["", "s"] {
                    let text =
                        format!("the {kind}{plural} of Atmeh and the {kind}{plural} of al-Bab");
                    let found = settlement_cues(&text);
                    assert_eq!(found.len(), 2, "{text}");
                    assert_eq!(found, settlement_cues_by_regex(&text), "{text}");
                    n += 1;
                }
            }
        }
        assert!(n >= 60, "{n} kinds");
    }

    #[test]
    fn short_acronyms_are_three_capitals_at_most() {
        for (written, want) in [
            ("", true),
            ("UN", true),
            ("USA", true),
            ("USAF", false),
            ("Un", false),
            ("ÉU", true),
            ("ÉUAX", false),
            ("U1", false),
        ] {
            let oracle = written.chars().count() <= 3 && written.chars().all(|c| c.is_uppercase());
            assert_eq!(oracle, want, "{written:?}");
            assert_eq!(is_short_acronym(written), want, "{written:?}");
        }
    }

    /// The context checks once lower-cased the whole text before or after
    /// a name; comparing only the characters needed must answer the same.
    #[test]
    fn town_of_groups_are_the_regex_groups() {
        let kinds = ["town", "village", "border town", "camp"];
        let names = [
            "Atmeh",
            "al-Hol",
            "Jisr al-Shughur",
            "Deir ez-Zor",
            "Ras Al Ain",
            "Dar'a",
            "Kafr Nabl Sud",
            "\u{c9}l Ob\u{e9}id",
        ];
        let joins = [", in ", " in ", ",  near ", " near\u{a0}", "\u{a0}in "];
        let places = [
            "Idlib",
            "the Idlib",
            "northern Idlib",
            "the north-western Upper Nile",
            "Upper Nile",
            "rural Deir-ez-Zor",
            "South\u{a0}Kordofan",
            "\u{c9}quateur",
        ];
        let types = [" province", "  state", "\u{a0}governorate"];
        let mut checked = 0;
        for kind in kinds {
            for name in names {
                for join in joins {
                    for place in places {
                        for ty in types {
                            let text = format!(
                                "Fighters entered the {kind} of {name}{join}{place}{ty} on Monday."
                            );
                            for twin in [LEARN[0].unicode(), LEARN[0].for_text(&text)] {
                                for caps in twin.captures_iter(&text) {
                                    let whole = caps.get(0).map(|m| m.as_str());
                                    let groups = caps
                                        .get(1)
                                        .zip(caps.get(2))
                                        .map(|(n, p)| (n.as_str(), p.as_str()));
                                    assert_eq!(whole.and_then(town_of_groups), groups, "{text:?}");
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} matches checked");
    }

    /// What `typed_cues` must find: each pattern's matches over the whole
    /// text, with their groups read as `place_candidates` read them before.
    fn typed_cues_by_whole_search(text: &str) -> [Vec<(&str, &str)>; 3] {
        let groups = |k: usize| -> Vec<(&str, &str)> {
            let re = LEARN[k].for_text(text);
            if k == 0 {
                re.find_iter(text)
                    .filter_map(|m| town_of_groups(m.as_str()))
                    .collect()
            } else {
                re.captures_iter(text)
                    .filter_map(|caps| Some((caps.get(1)?.as_str(), caps.get(2)?.as_str())))
                    .collect()
            }
        };
        [groups(0), groups(2), groups(3)]
    }

    proptest::proptest! {
        /// `typed_cues` finds type words with `find_iter`, which skips one
        /// that starts inside another ("oblastate"): such a one is after a
        /// letter, never after white space as in a match.
        #[test]
        fn type_words_after_white_space_are_all_found(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "province", "governorate", "state", "region", "oblast", "ob", "la", "st",
                    "ate", "re", "gion", " ", "\t", "x",
                ]),
                0..12,
            )
        ) {
            let text: String = pieces.concat();
            let found: Vec<usize> = TYPE_WORD.find_iter(&text).map(|m| m.start()).collect();
            for (p, _) in text.char_indices() {
                let after_space = text[..p].ends_with(char::is_whitespace);
                let starts_word = ["province", "governorate", "state", "region", "oblast"]
                    .iter()
                    .any(|w| text[p..].starts_with(w));
                if after_space && starts_word {
                    proptest::prop_assert!(found.contains(&p), "{:?} at {}", text, p);
                }
            }
        }
    }

    #[test]
    fn typed_cues_are_the_whole_text_matches() {
        for text in [
            "Fighters entered the town of Atmeh, in Idlib province on Monday.",
            "the village of Kafr Nabl in northern Idlib governorate, in Barisha in Idlib province",
            "in Sarmada, Idlib province and in Tal Abyad, Raqqa governorate.",
            "the camp of al-Hol near the rural Al Hasakah region statement",
            "the town of Kregion in Idlib Province region in X, Y state",
            "in Ḥama, Ḥama governorate; the city of Éloka in Lagunes  state",
            "town of A in B C province in D in E oblast",
            "",
            "province",
            " province",
        ] {
            assert_eq!(
                typed_cues(text),
                typed_cues_by_whole_search(text),
                "{text:?}"
            );
        }
    }

    /// `is_background` as it was before its literal searches: every regex
    /// on every sentence.
    fn is_background_by_regexes(sentence: &str, published: Option<NaiveDate>) -> bool {
        if BACKGROUND_CUE.for_text(sentence).is_match(sentence) {
            return true;
        }
        let Some(published) = published else {
            return false;
        };
        if YEAR
            .for_text(sentence)
            .find_iter(sentence)
            .filter_map(|m| m.as_str().parse::<i32>().ok())
            .any(|y| y < published.year())
        {
            return true;
        }
        MONTH_NAME
            .for_text(sentence)
            .captures_iter(sentence)
            .any(|c| {
                let month = c.get(1).map_or("", |m| m.as_str());
                month_number(month).is_some_and(|m| m != published.month())
            })
    }

    fn month_number(name: &str) -> Option<u32> {
        dates::MONTH_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| i as u32 + 1)
    }

    #[test]
    fn background_literals_are_in_every_cue() {
        for sentence in [
            "Last year the group attacked.",
            "It had PREVIOUSLY been shelled.",
            "as in the Past",
            "two years ago",
            "Months Ago",
            "a year ago",
            "earlier this year",
            "in recent months",
            "since 1990",
            "in 2019",
            "the 1990s",
            "the war originated there",
            "after losing the town",
            "after the fall of Kabul",
            "a similar raid",
            "Similar Strikes",
            "raids in 2024 and in May",
            "since  1990",
        ] {
            let published = NaiveDate::from_ymd_opt(2025, 8, 21);
            assert_eq!(
                is_background(sentence, published),
                is_background_by_regexes(sentence, published),
                "{sentence:?}"
            );
            if BACKGROUND_CUE.for_text(sentence).is_match(sentence) {
                let mut scan = BackgroundScan::default();
                scan.scan(0, sentence);
                let hints = scan.hints(sentence, 0, sentence.len());
                assert!(hints.cue_word || hints.year_digits, "{sentence:?}");
            }
        }
    }

    /// Texts of up to `max` of `words`, each followed by one of `gaps`.
    fn words_and_gaps(
        words: Vec<&'static str>,
        gaps: Vec<&'static str>,
        max: usize,
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        proptest::collection::vec(
            (
                proptest::sample::select(words),
                proptest::sample::select(gaps),
            ),
            0..max,
        )
        .prop_map(|pieces| pieces.iter().flat_map(|(w, s)| [*w, *s]).collect())
    }

    proptest::proptest! {
        #[test]
        fn typed_cues_agree_with_whole_text_searches(
            text in words_and_gaps(
                vec![
                        "the", "town", "border town", "of", "village", "city", "camp", "in",
                        "near", "Idlib", "Aleppo", "Deir", "ez", "Zor", "al", "Al", "Hol",
                        "Jisr", "Shughur", "province", "governorate", "state", "region",
                        "oblast", "Province", "provinces", "statement", "Kregion", "northern",
                        "north-east", "rural", "a", "an", "Atmeh", "Barisha", "Dar'a", "said",
                        "Ḥama", "Raqqa’s", "Upper", "Nile", "IN", "in-", "x1",
                        "the town of Atmeh", "in Idlib province", "in Barisha", "Idlib state",
                        "village of Deir ez-Zor", "near the north-east", "in al-Bab,",
                    ],
                vec![
                        " ", " ", " ", "  ", ", ", ",", "-", "\n", ". ", "\u{a0}", " (", "’",
                        "",
                    ],
                40,
            )
        ) {
            proptest::prop_assert_eq!(typed_cues(&text), typed_cues_by_whole_search(&text), "{:?}", text);
            // The same text without its non-ASCII characters (ASCII twins,
            // and the capital check before the type word).
            let ascii: String = text.chars().filter(char::is_ascii).collect();
            proptest::prop_assert_eq!(typed_cues(&ascii), typed_cues_by_whole_search(&ascii), "{:?}", ascii);
        }

        #[test]
        fn settlement_cue_checks_keep_every_regex_match(
            text in words_and_gaps(
                vec![
                        "the", "town", "towns", "of", "village", "city", "citys", "camp",
                        "area", "areas", "border", "crossing", "market", "downtown", "2town",
                        "_town", "'town", "outskirts", "neighborhood", "neighbourhood", "in",
                        "Idlib", "Atmeh", "Al", "al", "el", "ash", "Deir", "ez", "Zor", "Of",
                        "Al'town", "A", "an", "e", "Ḥama", "Éire", "said",
                    ],
                vec![
                        " ", " ", " ", "  ", ", ", "-", "\n", "\t", "\u{b}", ". ", "'", "",
                        "\u{a0}",
                    ],
                30,
            )
        ) {
            proptest::prop_assert_eq!(settlement_cues(&text), settlement_cues_by_regex(&text), "{:?}", text);
            let ascii: String = text.chars().filter(char::is_ascii).collect();
            proptest::prop_assert_eq!(settlement_cues(&ascii), settlement_cues_by_regex(&ascii), "{:?}", ascii);
        }

        #[test]
        fn person_check_agrees_with_splitting_words(
            before in "[ a-zA-Z.!?\"é]{0,24}",
        ) {
            proptest::prop_assert_eq!(
                is_feature_or_person(&before, ""),
                is_person_by_split(&before),
                "{:?}", before
            );
        }

        #[test]
        fn background_literals_agree_with_the_regexes(
            pieces in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "last", "year", "month", "week", "previous", "previously", "in", "the",
                        "past", "years", "months", "ago", "a", "earlier", "this", "recent",
                        "since", "1990", "2019", "20", "19", "1990s", "2020s", "originated",
                        "after", "losing", "fall", "of", "similar", "raid", "attacks", "May",
                        "August", "By", "during", "Kabul", "é", "strikes", "Mayor", "may",
                        "march", "March", "Since", "ag", "October", "OCTOBER", "December",
                    ]),
                    proptest::sample::select(vec![" ", " ", " ", "  ", ", ", ". ", "-", "", "\n"]),
                    proptest::bool::ANY,
                ),
                0..16,
            ),
            month in 1u32..=12,
        ) {
            // Words in any case: the cue is `(?i)`.
            let sentence: String = pieces
                .iter()
                .flat_map(|(w, sep, upper)| {
                    let w = if *upper { w.to_uppercase() } else { w.to_string() };
                    [w, sep.to_string()]
                })
                .collect();
            for published in [None, NaiveDate::from_ymd_opt(2025, month, 1)] {
                proptest::prop_assert_eq!(
                    is_background(&sentence, published),
                    is_background_by_regexes(&sentence, published),
                    "{:?}", sentence
                );
            }
        }
    }

    #[test]
    fn partial_lower_casing_answers_like_full_lower_casing() {
        let texts = [
            "",
            "in",
            "IN",
            " In",
            "the Government In",
            "fighters loyal to",
            "ΟΔΟΣ in",
            "é in",
            "éin",
            "n",
            "forces LOYAL TO",
            "\u{212A}",
            "ΟΔΟΣ",
            "İn",
            "\u{212A}abul province of",
            "STATE OF",
            " Valley of the Kings",
            "İstanbul",
            "Σ valley",
        ];
        let patterns = [
            "in",
            " in",
            "government in",
            "loyal to",
            "state of",
            " valley",
            "σ",
            "i",
        ];
        for text in texts {
            for p in patterns.iter().filter(|p| p.is_ascii()) {
                assert_eq!(
                    lower_ends_with(text.chars().rev(), p),
                    text.to_lowercase().ends_with(p),
                    "{text:?} ends with {p:?}"
                );
                assert_eq!(
                    lower_starts_with(text, p),
                    text.to_lowercase().starts_with(p),
                    "{text:?} starts with {p:?}"
                );
                let spaced = text.chars().rev().chain(std::iter::once(' '));
                assert_eq!(
                    lower_ends_with(spaced, p),
                    format!(" {}", text.to_lowercase()).ends_with(p),
                    "' {text:?}' ends with {p:?}"
                );
                assert_eq!(
                    text_lower_ends_with(text, p, false),
                    text.to_lowercase().ends_with(p),
                    "{text:?} ends with {p:?} (fast path)"
                );
                assert_eq!(
                    text_lower_ends_with(text, p, true),
                    format!(" {}", text.to_lowercase()).ends_with(p),
                    "' {text:?}' ends with {p:?} (fast path)"
                );
            }
        }
    }

    /// The names of a small table in `text`, found both ways: folding the
    /// whole text and looking up every word (as for any paragraph that is
    /// not ASCII), and from the candidate words of an ASCII text.
    type Spans = Vec<(usize, usize, u32)>;

    fn both_ways(
        names: &[&str],
        lower: &[&str],
        text: &str,
        accept: fn(&str) -> bool,
    ) -> (Spans, Spans) {
        let set: Arc<rustc_hash::FxHashSet<String>> =
            Arc::new(lower.iter().map(|w| w.to_string()).collect());
        let table = NameTable::new(names).with_lower_starts(Arc::clone(&set));
        let starts = LowerStarts::new(set);
        assert!(table.uses_lower_starts(&starts));
        let folded = FoldedText::new(text);
        let mut hashes = Vec::new();
        names::hash_words(&folded.text, &folded.words, &mut hashes);
        let written_lower = |k: usize| {
            folded.word_offsets[k].0 < text.len()
                && text[folded.word_offsets[k].0..]
                    .chars()
                    .next()
                    .is_some_and(char::is_lowercase)
        };
        let whole: Spans = table
            .find_all(&folded.text, &folded.words, &hashes, written_lower, |m| {
                original_span(&folded.text, &folded.word_offsets, text, *m)
                    .is_some_and(|(s, e)| accept(&text[s..e]))
            })
            .into_iter()
            .filter_map(|m| {
                original_span(&folded.text, &folded.word_offsets, text, m)
                    .map(|(s, e)| (s, e, m.id))
            })
            .collect();
        let (mut candidates, mut buf, mut bits, mut found) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        starts.candidates(text.as_bytes(), &mut candidates, &mut buf, &mut bits);
        // Every word the whole fold would look up is a candidate, with the
        // same start and hash, and no other word is.
        let looked_up: Vec<(usize, u64)> = folded
            .words
            .iter()
            .zip(&folded.word_offsets)
            .zip(&hashes)
            .enumerate()
            .filter(|&(k, ((&(s, e), _), _))| {
                !written_lower(k) || lower.contains(&&folded.text[s..e])
            })
            .map(|(_, ((_, &(o, _)), &h))| (o, h))
            .collect();
        let scanned: Vec<(usize, u64)> = candidates.iter().map(|c| (c.start, c.hash)).collect();
        assert_eq!(scanned, looked_up, "candidates of {text:?}");
        table.find_ascii(text.as_bytes(), &candidates, &mut buf, &mut found, |f| {
            accept(&text[f.start..f.end])
        });
        let by_candidates: Spans = found.iter().map(|f| (f.start, f.end, f.id)).collect();
        (whole, by_candidates)
    }

    const TEST_NAMES: &[&str] = &[
        "idlib",
        "deir ez zor",
        "deir",
        "al bab",
        "al shabaab",
        "islamic state",
        "the islamic state",
        "is",
        "marib",
        "kilinochchi (town)",
        "homs, syria",
        "s",
        "m23",
        "2nd division",
        "bab",
    ];
    const TEST_LOWER: &[&str] = &["al", "the", "s", "islamic", "m23"];

    /// The checks of a name as written that the scans are tried with: none,
    /// and one that refuses every name written with a small letter first
    /// (as the tagger refuses "the State of Palestine"), so that a refused
    /// name, which must hide nothing, is exercised both ways.
    const ACCEPTS: [fn(&str) -> bool; 2] = [
        |_| true,
        |w| !w.chars().next().is_some_and(char::is_lowercase),
    ];

    #[test]
    fn candidate_words_find_what_the_whole_fold_finds() {
        for text in [
            "",
            "Idlib",
            "idlib and Idlib, (Idlib) Idlib's.",
            "al-Shabaab fighters near al-Bab and Al Bab; al bab",
            "the Islamic State, The Islamic State and IS; is it? islamic state",
            "Ma'rib, Ma`rib, Ma''rib, Ma' rib, Ma'-rib, 'Marib', Marib's",
            "Deir ez-Zor. Deir ez Zor, deir ez zor, Deir-ez. Deir",
            "near Kilinochchi (town) and Kilinochchi (town, Homs, Syria",
            "M23 rebels, m23, 2nd Division, 2nd division",
            "x's s S 's 'S Idlib's's",
            "  -- Idlib --  ",
            "Idlib\tand\nDeir\r\nez\u{b}Zor",
        ] {
            for accept in ACCEPTS {
                let (whole, by_candidates) = both_ways(TEST_NAMES, TEST_LOWER, text, accept);
                assert_eq!(by_candidates, whole, "{text:?}");
            }
        }
    }

    /// The first offset from `from` whose byte is (`want`) or is not a
    /// letter or digit, byte by byte: what the word scans must find.
    fn first_alphanumeric_is(bytes: &[u8], from: usize, want: bool) -> usize {
        bytes[from..]
            .iter()
            .position(|b| b.is_ascii_alphanumeric() == want)
            .map_or(bytes.len(), |n| from + n)
    }

    proptest::proptest! {
        #[test]
        fn candidate_words_agree_on_any_ascii_text(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Idlib", "idlib", "IDLIB", "Deir", "deir", "ez", "Ez", "Zor", "zor", "al",
                    "Al", "AL", "Bab", "bab", "Shabaab", "Islamic", "islamic", "State",
                    "state", "the", "The", "IS", "is", "Is", "Ma", "rib", "Marib", "s", "S",
                    "Kilinochchi", "(town)", "(", ")", "Homs", "Syria", "M23", "m23", "2nd",
                    "Division", "division", "x", "1", "'", "`", "''", "'s", "'S", " ", " ",
                    "ma", "tHe", "th", "d", "Ivoire", "alS", "a",
                    "  ", "-", ".", ",", ", ", ";", "\t", "\n", "_", "&", "\"",
                ]),
                0..64,
            )
        ) {
            let text: String = pieces.concat();
            for accept in ACCEPTS {
                let (whole, by_candidates) = both_ways(TEST_NAMES, TEST_LOWER, &text, accept);
                proptest::prop_assert_eq!(by_candidates, whole, "{:?}", text);
            }
        }

        /// Long texts of random letters, digits, apostrophes and
        /// separators: words of any length, across the scan's 64-byte
        /// blocks and up to the text's end, are the whole fold's words.
        #[test]
        fn candidate_words_agree_on_long_random_texts(
            text in "([a-zA-Z0-9]{1,70}|[ '`.,-]{1,3}){0,40}",
        ) {
            for accept in ACCEPTS {
                let (whole, by_candidates) = both_ways(TEST_NAMES, TEST_LOWER, &text, accept);
                proptest::prop_assert_eq!(by_candidates, whole, "{:?}", text);
            }
        }

        /// Tables of random names, many of them starting others ("ab",
        /// "ab cd", "ab cd ef"), so that growing a span past a name, past a
        /// prefix and into a span no name starts with is each exercised:
        /// the candidate path, which stops growing where the table says no
        /// longer name starts and skips spans the span bitset rejects,
        /// finds what the whole fold finds probing every step.
        #[test]
        fn random_tables_find_the_same_names_both_ways(
            names in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec!["ab", "cd", "ef", "Gh", "the", "al", "x1"]),
                    1..5,
                ),
                0..24,
            ),
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "ab", "Ab", "AB", "cd", "Cd", "ef", "EF", "gh", "Gh", "the", "The",
                    "al", "Al", "x1", "X1", "zz", "'s", "'", " ", " ", " ", "-", ", ", ".",
                ]),
                0..48,
            ),
        ) {
            let names: Vec<String> = names.iter().map(|n| n.join(" ")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let text: String = pieces.concat();
            for accept in ACCEPTS {
                let (whole, by_candidates) = both_ways(&names, &["the", "al", "ab"], &text, accept);
                proptest::prop_assert_eq!(by_candidates, whole, "{:?} in {:?}", names, text);
            }
        }

        /// The first-byte shortcut of `starts_capitalised` answers as the
        /// articles' list does.
        #[test]
        fn starts_capitalised_agrees_with_stripping_every_article(
            written in "[aeAElsdhrntz \\-É1'’]{0,8}",
        ) {
            let rest = NAME_ARTICLES
                .iter()
                .flat_map(|a| [format!("{a}-"), format!("{a} ")])
                .filter(|p| {
                    // The list strips "al " and "el " of the spaced forms only.
                    !p.ends_with(' ') || p == "al " || p == "el "
                })
                .find_map(|p| written.strip_prefix(p.as_str()).map(str::to_string))
                .unwrap_or_else(|| written.clone());
            let slow = rest
                .chars()
                .find(|c| c.is_alphabetic())
                .is_some_and(char::is_uppercase);
            proptest::prop_assert_eq!(starts_capitalised(&written), slow, "{:?}", written);
        }

        #[test]
        fn ascii_runs_end_where_the_bytes_say(
            text in "[ -~]{0,40}",
            from in 0usize..40,
        ) {
            let bytes = text.as_bytes();
            let from = from.min(bytes.len());
            for word in [false, true] {
                proptest::prop_assert_eq!(
                    crate::gazetteer::ascii_run_end(bytes, from, word),
                    first_alphanumeric_is(bytes, from, word)
                );
            }
        }

        #[test]
        fn word_bits_mark_the_letters_and_digits(text in "[\\x00-\\x7f]{0,200}", from in 0usize..200) {
            let bytes = text.as_bytes();
            let mut bits = Vec::new();
            crate::gazetteer::ascii_word_bits(bytes, &mut bits);
            for (i, b) in bytes.iter().enumerate() {
                proptest::prop_assert_eq!(
                    bits[i / 64] >> (i % 64) & 1 == 1,
                    b.is_ascii_alphanumeric(),
                    "byte {} of {:?}", i, text
                );
            }
            let from = from.min(bytes.len());
            for set in [false, true] {
                proptest::prop_assert_eq!(
                    crate::gazetteer::next_bit(&bits, from, bytes.len(), set),
                    first_alphanumeric_is(bytes, from, set)
                );
            }
        }
    }
}
