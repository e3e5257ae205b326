//! The gazetteer: provinces, places, countries and armed groups.
//!
//! The data are the tab-separated files of `index-schema/` (see its
//! README): they are embedded in the binary as the default, and a directory
//! given with `--schema-dir` overrides them file by file. Loading is cheap
//! (provinces, countries and groups); the places tables and the name
//! table used for tagging are built on first use, so that a search,
//! which only resolves filter names, does not pay for them.
//!
//! ```
//! use frontline::Gazetteer;
//! let g = Gazetteer::load(None).unwrap();
//! let idlib = g.resolve_provinces("Idleb").unwrap();
//! assert_eq!(idlib[0].to_string(), "Syria/Idlib");
//! assert_eq!(g.resolve_group("ISIS").unwrap(), "Islamic State");
//! assert!(g.resolve_provinces("Narnia").is_err());
//! ```

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use crate::error::{Error, Result};

/// A first-level administrative division and its country: the value of the
/// `province` facets (`/Syria/Idlib`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Province {
    /// Country name, as in `countries.tsv` (`Syria`, `DR Congo`).
    pub country: String,
    /// Canonical province name (`Idlib`, `North Darfur`).
    pub name: String,
}

impl Province {
    /// The tantivy facet `/Country/Province`.
    ///
    /// ```
    /// use frontline::Province;
    /// let p = Province { country: "Syria".into(), name: "Idlib".into() };
    /// assert_eq!(p.facet().to_string(), "/Syria/Idlib");
    /// ```
    pub fn facet(&self) -> tantivy::schema::Facet {
        tantivy::schema::Facet::from_path([self.country.as_str(), self.name.as_str()])
    }
}

impl std::fmt::Display for Province {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.country, self.name)
    }
}

/// The data files, in the order they are fingerprinted.
const FILES: [(&str, &str); 5] = [
    (
        "countries.tsv",
        include_str!("../index-schema/countries.tsv"),
    ),
    (
        "provinces.tsv",
        include_str!("../index-schema/provinces.tsv"),
    ),
    ("groups.tsv", include_str!("../index-schema/groups.tsv")),
    ("places.tsv", include_str!("../index-schema/places.tsv")),
    (
        "places-cued.tsv",
        include_str!("../index-schema/places-cued.tsv"),
    ),
];

/// A row of `provinces.tsv`.
#[derive(Debug, Clone)]
pub struct ProvinceEntry {
    /// The province and its country.
    pub province: Province,
    /// ISO 3166-1 alpha-2 code of the country.
    pub country_code: String,
    /// Spelling variants (the canonical name is not repeated).
    pub aliases: Vec<String>,
    /// Folded names that must not tag on their own.
    pub ambiguous: Vec<String>,
    /// A larger unit news uses (`Gaza Strip`), if any.
    pub region: Option<String>,
    /// Names of the second-level units inside.
    pub subdivisions: Vec<String>,
}

/// A row of `countries.tsv`.
#[derive(Debug, Clone)]
pub struct CountryEntry {
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
    /// Common English name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
}

/// A row of `groups.tsv`.
#[derive(Debug, Clone)]
pub struct GroupEntry {
    /// Canonical name (`Islamic State`).
    pub name: String,
    /// Aliases as written in news (`IS`, `ISIS`, `Daesh`…).
    pub aliases: Vec<String>,
    /// `non-state armed group`, `militia`, `state force`…
    pub kind: String,
    /// ISO codes of the countries it operates in.
    pub countries: Vec<String>,
}

/// A row of `places.tsv` or `places-cued.tsv`.
#[derive(Debug, Clone)]
pub struct PlaceEntry {
    /// The name as GeoNames writes it.
    pub name: String,
    /// Other spellings.
    pub alternate_names: Vec<String>,
    /// Index of its province in [`Gazetteer::provinces`].
    pub province: u32,
    /// Population (0 when unknown).
    pub population: u64,
    /// The name is also a lower-case English word: never tag it alone.
    pub word: bool,
    /// A bigger namesake exists elsewhere: needs the article's country.
    pub elsewhere: bool,
}

/// The places tables, loaded on first use.
#[derive(Debug, Default)]
pub struct Places {
    /// Places that may tag on their own (`places.tsv`).
    pub places: Vec<PlaceEntry>,
    /// Places that tag only after a settlement cue (`places-cued.tsv`).
    pub cued: Vec<PlaceEntry>,
    /// Folded name → indexes into `cued`.
    pub cued_by_name: HashMap<String, Vec<u32>>,
}

/// What tagging needs of a row of `places.tsv` (see
/// [`Gazetteer::place_facts`]): not its names, which the name table holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaceFact {
    /// Index of its province in [`Gazetteer::provinces`].
    pub province: u32,
    /// Population (0 when unknown).
    pub population: u64,
    /// The name is also a lower-case English word: never tag it alone.
    pub word: bool,
    /// A bigger namesake exists elsewhere: needs the article's country.
    pub elsewhere: bool,
}

impl PlaceFact {
    fn of(row: &PlaceRow<'_>) -> PlaceFact {
        PlaceFact {
            province: row.province,
            population: row.population,
            word: row.word,
            elsewhere: row.elsewhere,
        }
    }
}

/// The places tables as tagging uses them ([`Gazetteer::place_facts`]):
/// [`Places`] without the names.
#[derive(Debug, Default)]
pub(crate) struct PlaceFacts {
    /// The rows of `places.tsv`, in file order.
    pub places: Vec<PlaceFact>,
    /// The province of each row of `places-cued.tsv`, in file order.
    pub cued: Vec<u32>,
    /// Folded name → indexes into `cued` (as [`Places::cued_by_name`]).
    pub cued_by_name: FoldedLists,
}

/// A row of a places file, borrowed from its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaceRow<'a> {
    /// The name as GeoNames writes it (trimmed).
    pub name: &'a str,
    /// The `alternate_names` cell as written: see [`alternates`].
    pub alternates: &'a str,
    /// Index of its province in [`Gazetteer::provinces`].
    pub province: u32,
    /// Population (0 when unknown).
    pub population: u64,
    /// Flagged `word`.
    pub word: bool,
    /// Flagged `elsewhere`.
    pub elsewhere: bool,
}

/// The names of a `|`-separated cell, trimmed, empty ones left out (what
/// [`PlaceEntry::alternate_names`] holds), borrowed from the cell.
pub(crate) fn alternates(cell: &str) -> impl Iterator<Item = &str> {
    cell.split('|').map(trim).filter(|s| !s.is_empty())
}

/// A map from folded names to lists of ids, each id at most once per name,
/// in the order they were added: the names in one `String`, the lists in
/// one `Vec`, found through an open-addressing table of name indexes (a
/// `HashMap<String, Vec<u32>>` of the hundred thousand cued place names
/// was two allocations per name).
#[derive(Debug, Default)]
pub(crate) struct FoldedLists {
    names: StrList,
    /// Index of a name + 1 at its hash's slot or after it; 0: empty.
    slots: Vec<u32>,
    /// Where the ids of each name start in `ids`; one more at the end.
    starts: Vec<u32>,
    ids: Vec<u32>,
}

/// [`FoldedLists`] being built.
pub(crate) struct FoldedListsBuilder {
    lists: FoldedLists,
    /// `(name index, id)` in the order added.
    pairs: Vec<(u32, u32)>,
    /// The last id added to each name.
    last: Vec<u32>,
}

impl FoldedLists {
    /// An empty builder.
    pub fn builder() -> FoldedListsBuilder {
        FoldedListsBuilder {
            lists: FoldedLists {
                slots: vec![0; 1 << 10],
                ..FoldedLists::default()
            },
            pairs: Vec::new(),
            last: Vec::new(),
        }
    }

    /// The slot of `name` (hashed `h`): where it is, or the empty slot
    /// where it would go. The table is never full (see `push`).
    fn slot(&self, name: &str, h: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match self.slots[i] {
                0 => return i,
                n if self.names.get(n as usize - 1) == Some(name) => return i,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The ids of a folded name, in the order they were added.
    pub fn get(&self, name: &str) -> Option<&[u32]> {
        if self.slots.is_empty() {
            return None;
        }
        let n = self.slots[self.slot(name, fx_hash(name.as_bytes()))] as usize;
        let (&start, &end) = (self.starts.get(n.checked_sub(1)?)?, self.starts.get(n)?);
        self.ids.get(start as usize..end as usize)
    }
}

impl FoldedListsBuilder {
    /// Adds `id` to the list of `name` (folded), unless it is already the
    /// last one there. Ids are added in increasing order, so this keeps
    /// each id once per name, as `Vec::contains` did.
    pub fn push(&mut self, name: &str, id: u32) {
        let t = &mut self.lists;
        // At most half full, so probes stay short and one slot is always
        // empty.
        if (t.names.len() + 1) * 2 > t.slots.len() {
            let mut slots = vec![0; t.slots.len() * 2];
            let mask = slots.len() - 1;
            for n in 1..=t.names.len() as u32 {
                let name = t.names.get(n as usize - 1).unwrap_or_default();
                let mut i = fx_hash(name.as_bytes()) as usize & mask;
                while slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                slots[i] = n;
            }
            t.slots = slots;
        }
        let slot = t.slot(name, fx_hash(name.as_bytes()));
        let index = match t.slots[slot] {
            0 => {
                let index = t.names.push(name);
                t.slots[slot] = index + 1;
                self.last.push(id);
                self.pairs.push((index, id));
                return;
            }
            n => n as usize - 1,
        };
        if self.last[index] != id {
            self.last[index] = id;
            self.pairs.push((index as u32, id));
        }
    }

    /// The map: lists grouped by name, in the order added (a stable
    /// counting sort).
    pub fn build(self) -> FoldedLists {
        let mut lists = self.lists;
        let mut starts = vec![0u32; lists.names.len() + 1];
        for &(name, _) in &self.pairs {
            starts[name as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut ids = vec![0u32; self.pairs.len()];
        for &(name, id) in &self.pairs {
            let at = &mut next[name as usize];
            ids[*at as usize] = id;
            *at += 1;
        }
        lists.starts = starts;
        lists.ids = ids;
        lists
    }
}

/// The 64-bit Fx hash of `bytes`, which the name tables key spans by.
pub(crate) fn fx_hash(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// Strings one after the other in one `String`, found by index: the name
/// tables keep a few hundred thousand names, and a `String` for each was as
/// many allocations (and frees at exit).
#[derive(Debug, Default)]
pub(crate) struct StrList {
    text: String,
    /// Where each string ends in `text` (it starts where the one before it
    /// ends).
    ends: Vec<u32>,
}

impl StrList {
    /// Appends `s`; returns its index.
    pub fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
        self.ends.len() as u32 - 1
    }

    /// The string at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => *self.ends.get(index - 1)? as usize,
        };
        self.text.get(start..end)
    }

    /// How many strings it holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Provinces, countries, groups and places, with name lookups.
pub struct Gazetteer {
    provinces: Vec<ProvinceEntry>,
    countries: Vec<CountryEntry>,
    groups: Vec<GroupEntry>,
    province_names: HashMap<String, Vec<u32>>,
    region_names: HashMap<String, Vec<u32>>,
    country_names: HashMap<String, u32>,
    country_codes: HashMap<String, u32>,
    group_names: HashMap<String, u32>,
    sources: Vec<(String, Cow<'static, str>)>,
    dir: Option<PathBuf>,
    /// Hashed on first use: the place files are tens of megabytes, and a
    /// search never needs the hash, only an index run does.
    fingerprint: OnceLock<String>,
    places: OnceLock<std::result::Result<Places, (String, usize, String)>>,
    pub(crate) matcher: OnceLock<std::result::Result<crate::tagging::Matcher, String>>,
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer")
            .field("provinces", &self.provinces.len())
            .field("countries", &self.countries.len())
            .field("groups", &self.groups.len())
            .field("fingerprint", &self.fingerprint.get())
            .finish()
    }
}

impl Gazetteer {
    /// Loads the embedded data, with each file present in `dir` (if given)
    /// taking the place of the embedded one.
    pub fn load(dir: Option<&Path>) -> Result<Gazetteer> {
        let mut sources = Vec::new();
        for (name, embedded) in FILES {
            let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => Cow::Owned(
                    std::fs::read_to_string(&path).map_err(|e| Error::io(path.clone(), e))?,
                ),
                None => Cow::Borrowed(embedded),
            };
            sources.push((name.to_string(), text));
        }
        let origin = |name: &str| match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            Some(path) => path,
            None => PathBuf::from(format!("(embedded) index-schema/{name}")),
        };
        let countries = parse_countries(&sources[0].1, &origin("countries.tsv"))?;
        let provinces = parse_provinces(&sources[1].1, &origin("provinces.tsv"))?;
        let groups = parse_groups(&sources[2].1, &origin("groups.tsv"))?;
        let mut g = Gazetteer::index(provinces, countries, groups, sources);
        g.dir = dir.map(Path::to_path_buf);
        Ok(g)
    }

    /// The embedded default data (see [`Gazetteer::load`]).
    pub fn embedded() -> Result<Gazetteer> {
        Gazetteer::load(None)
    }

    fn index(
        provinces: Vec<ProvinceEntry>,
        countries: Vec<CountryEntry>,
        groups: Vec<GroupEntry>,
        sources: Vec<(String, Cow<'static, str>)>,
    ) -> Gazetteer {
        let mut province_names: HashMap<String, Vec<u32>> = HashMap::default();
        let mut region_names: HashMap<String, Vec<u32>> = HashMap::default();
        for (i, p) in provinces.iter().enumerate() {
            let i = i as u32;
            for name in std::iter::once(&p.province.name).chain(&p.aliases) {
                let ids = province_names.entry(fold(name)).or_default();
                if !ids.contains(&i) {
                    ids.push(i);
                }
            }
            if let Some(region) = &p.region {
                region_names.entry(fold(region)).or_default().push(i);
            }
        }
        let mut country_names = HashMap::default();
        let mut country_codes = HashMap::default();
        for (i, c) in countries.iter().enumerate() {
            country_codes.insert(c.code.clone(), i as u32);
            for name in std::iter::once(&c.name).chain(&c.aliases) {
                country_names.entry(fold(name)).or_insert(i as u32);
            }
            country_names.entry(fold(&c.code)).or_insert(i as u32);
        }
        let mut group_names = HashMap::default();
        for (i, g) in groups.iter().enumerate() {
            for name in std::iter::once(&g.name).chain(&g.aliases) {
                group_names.entry(fold(name)).or_insert(i as u32);
            }
        }
        Gazetteer {
            provinces,
            countries,
            groups,
            province_names,
            region_names,
            country_names,
            country_codes,
            group_names,
            sources,
            dir: None,
            fingerprint: OnceLock::new(),
            places: OnceLock::new(),
            matcher: OnceLock::new(),
        }
    }

    /// A short hash of all the data files: an index built with different
    /// data is rebuilt in full.
    pub fn fingerprint(&self) -> String {
        self.fingerprint
            .get_or_init(|| {
                let mut hasher = Sha256::new();
                for (name, text) in &self.sources {
                    hasher.update(name.as_bytes());
                    hasher.update([0]);
                    hasher.update(text.as_bytes());
                    hasher.update([0]);
                }
                hasher.finalize()[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .clone()
    }

    /// Every province, in file order.
    pub fn provinces(&self) -> &[ProvinceEntry] {
        &self.provinces
    }

    /// Every country, in file order.
    pub fn countries(&self) -> &[CountryEntry] {
        &self.countries
    }

    /// Every armed group, in file order.
    pub fn groups(&self) -> &[GroupEntry] {
        &self.groups
    }

    /// The country with ISO code `code`.
    pub fn country_by_code(&self, code: &str) -> Option<&CountryEntry> {
        self.country_codes
            .get(code)
            .map(|&i| &self.countries[i as usize])
    }

    /// Indexes of the provinces a folded name may denote.
    pub(crate) fn province_ids(&self, folded: &str) -> &[u32] {
        self.province_names.get(folded).map_or(&[], Vec::as_slice)
    }

    /// Indexes of the provinces a folded region name covers.
    pub(crate) fn region_ids(&self, folded: &str) -> &[u32] {
        self.region_names.get(folded).map_or(&[], Vec::as_slice)
    }

    /// Where a data file came from, for error messages.
    fn origin(&self, name: &str) -> String {
        match self
            .dir
            .as_ref()
            .map(|d| d.join(name))
            .filter(|p| p.exists())
        {
            Some(path) => path.display().to_string(),
            None => format!("(embedded) index-schema/{name}"),
        }
    }

    /// The places tables (parsed on first call). Tagging does not use
    /// them: the name table reads the places files itself
    /// (`Gazetteer::place_facts`), without a `String` per name.
    pub fn places(&self) -> Result<&Places> {
        let loaded = self.places.get_or_init(|| self.load_places());
        loaded
            .as_ref()
            .map_err(|(path, line, reason)| Error::Gazetteer {
                path: path.clone(),
                line: *line,
                reason: reason.clone(),
            })
    }

    fn load_places(&self) -> std::result::Result<Places, (String, usize, String)> {
        let by_key = self.province_keys();
        let named = |file: &'static str| move |(line, reason)| (self.origin(file), line, reason);
        let (places, cued) = rayon::join(
            || parse_places(&self.sources[3].1, &by_key),
            || parse_places(&self.sources[4].1, &by_key),
        );
        let places = places.map_err(named("places.tsv"))?;
        let cued = cued.map_err(named("places-cued.tsv"))?;
        let mut cued_by_name: HashMap<String, Vec<u32>> = HashMap::default();
        for (i, p) in cued.iter().enumerate() {
            for name in std::iter::once(&p.name).chain(&p.alternate_names) {
                let ids = cued_by_name.entry(fold(name)).or_default();
                if !ids.contains(&(i as u32)) {
                    ids.push(i as u32);
                }
            }
        }
        Ok(Places {
            places,
            cued,
            cued_by_name,
        })
    }

    /// `(country code, folded province name)` → province index, the key
    /// the places files name their province by.
    fn province_keys(&self) -> HashMap<(&str, String), u32> {
        self.provinces
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.country_code.as_str(), fold(&p.province.name)), i as u32))
            .collect()
    }

    /// What tagging needs of the places files, read straight from their
    /// text: the facts of every place ([`PlaceFacts`]), and each row of
    /// `places.tsv` passed to `each_place` (its index and its cells,
    /// borrowed from the text) for the name table. The same rows and the
    /// same errors as [`Gazetteer::places`], without its `String` of every
    /// name and `Vec` of every row's alternate names, which a tagging run
    /// never reads (the name table keeps the folded names): about half a
    /// million allocations, and as many frees at exit.
    pub(crate) fn place_facts<'s>(
        &'s self,
        mut each_place: impl FnMut(u32, &PlaceRow<'s>) + Send,
    ) -> Result<PlaceFacts> {
        let by_key = self.province_keys();
        let by_key = &by_key;
        let (places, cued) = rayon::join(
            || {
                let mut facts = Vec::new();
                each_place_row(&self.sources[3].1, by_key, |row| {
                    each_place(facts.len() as u32, &row);
                    facts.push(PlaceFact::of(&row));
                })
                .map(|()| facts)
            },
            || {
                let mut provinces = Vec::new();
                let mut names = FoldedLists::builder();
                let mut buf = String::new();
                each_place_row(&self.sources[4].1, by_key, |row| {
                    let i = provinces.len() as u32;
                    provinces.push(row.province);
                    for name in std::iter::once(row.name).chain(alternates(row.alternates)) {
                        names.push(fold_reusing(name, &mut buf), i);
                    }
                })
                .map(|()| (provinces, names.build()))
            },
        );
        let bad_file = |file: &str, (line, reason)| Error::Gazetteer {
            path: self.origin(file),
            line,
            reason,
        };
        let places = places.map_err(|e| bad_file("places.tsv", e))?;
        let (cued, cued_by_name) = cued.map_err(|e| bad_file("places-cued.tsv", e))?;
        Ok(PlaceFacts {
            places,
            cued,
            cued_by_name,
        })
    }

    /// The provinces a user-given name denotes: a canonical name, a variant
    /// (`Idleb`), `Country/Province`, or a region (`Gaza Strip`, which is
    /// several governorates). A name shared by provinces of several
    /// countries (`Punjab`) gives them all.
    pub fn resolve_provinces(&self, name: &str) -> Result<Vec<Province>> {
        let trimmed = name.trim().trim_matches('/');
        if let Some((country, province)) = trimmed.split_once('/') {
            let country = self.resolve_country(country)?;
            let found: Vec<Province> = self
                .province_ids(&fold(province))
                .iter()
                .map(|&i| self.provinces[i as usize].province.clone())
                .filter(|p| p.country == country)
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
            return Err(self.unknown("province", name, self.province_suggestions(province)));
        }
        let found = self.lookup_provinces(trimmed);
        if found.is_empty() {
            let mut suggestions = self.province_suggestions(trimmed);
            if self.country_names.contains_key(&fold(trimmed)) {
                suggestions.insert(0, format!("--country {trimmed}"));
            }
            return Err(self.unknown("province", name, suggestions));
        }
        Ok(found)
    }

    /// The provinces a plain name or variant denotes, or none; unlike
    /// [`Gazetteer::resolve_provinces`] it computes no suggestions, so it is
    /// cheap enough to try on every word of a query.
    pub fn lookup_provinces(&self, name: &str) -> Vec<Province> {
        let key = fold(name);
        let ids = match self.province_ids(&key) {
            [] => self.region_ids(&key),
            ids => ids,
        };
        let mut found: Vec<Province> = ids
            .iter()
            .map(|&i| self.provinces[i as usize].province.clone())
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// The canonical name of a group given by any alias, in any case, or
    /// `None`; the cheap form of [`Gazetteer::resolve_group`].
    pub fn lookup_group(&self, name: &str) -> Option<&str> {
        let &i = self.group_names.get(&fold(name))?;
        Some(self.groups[i as usize].name.as_str())
    }

    /// The canonical name of a group given by any alias, in any case.
    pub fn resolve_group(&self, name: &str) -> Result<String> {
        match self.lookup_group(name) {
            Some(group) => Ok(group.to_string()),
            None => {
                let names = self
                    .groups
                    .iter()
                    .flat_map(|g| std::iter::once(&g.name).chain(&g.aliases));
                Err(self.unknown("group", name, suggest(name, names)))
            }
        }
    }

    /// The common name of a country given by name, alias or ISO code.
    pub fn resolve_country(&self, name: &str) -> Result<String> {
        match self.country_names.get(&fold(name)) {
            Some(&i) => Ok(self.countries[i as usize].name.clone()),
            None => {
                let names = self.countries.iter().map(|c| &c.name);
                Err(self.unknown("country", name, suggest(name, names)))
            }
        }
    }

    fn province_suggestions(&self, name: &str) -> Vec<String> {
        let names = self.provinces.iter().map(|p| &p.province.name);
        suggest(name, names)
            .into_iter()
            .flat_map(|s| {
                self.province_ids(&fold(&s))
                    .iter()
                    .map(|&i| self.provinces[i as usize].province.to_string())
                    .collect::<Vec<_>>()
            })
            .take(5)
            .collect()
    }

    fn unknown(&self, kind: &'static str, name: &str, suggestions: Vec<String>) -> Error {
        Error::UnknownName {
            kind,
            name: name.to_string(),
            suggestions,
        }
    }
}

/// Up to five names close to `name` (Jaro-Winkler on folded forms).
///
/// Jaro-Winkler costs the product of the two lengths, so a pasted 8 KB name
/// took most of a minute against every province. Pairs whose lengths differ
/// more than fourfold are skipped without scoring: their Jaro similarity is
/// below (1/4 + 2)/3 = 0.75, so with the Winkler prefix bonus (at most
/// 0.4 · (1 − Jaro)) they stay below the 0.85 cut anyway.
fn suggest<'a>(name: &str, names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let key = fold(name);
    let key_len = key.chars().count();
    let mut scored: Vec<(f64, &String)> = Vec::new();
    for n in names {
        let folded = fold(n);
        let len = folded.chars().count();
        if len.max(key_len) > 4 * len.min(key_len) {
            continue;
        }
        let score = strsim::jaro_winkler(&key, &folded);
        if score > 0.85 {
            scored.push((score, n));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, n) in scored {
        if !out.contains(n) {
            out.push(n.clone());
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}

/// Folds a name for lookups: Unicode compatibility decomposition, accents
/// and apostrophes dropped, lower case, hyphens, dots and underscores as
/// spaces, whitespace collapsed. `Ma'rib`, `Marib` and `MARIB` fold alike.
///
/// ```
/// use frontline::gazetteer::fold;
/// assert_eq!(fold("  Dayr az-Zawr "), "dayr az zawr");
/// assert_eq!(fold("Ma'rib"), fold("Marib"));
/// assert_eq!(fold("Idlib's"), "idlib s");
/// assert_eq!(fold("Ḩamāh"), "hamah");
/// ```
pub fn fold(name: &str) -> String {
    // Names are folded by the hundred thousand when the gazetteer loads:
    // skip the offsets and word spans nobody reads.
    FoldedText::build(name, false, false).text
}

/// [`fold`], also giving for every byte of the folded string the offset of
/// the byte of `text` it came from (plus one final entry for the end), so
/// that matches in folded text map back to spans of the original.
pub fn fold_with_offsets(text: &str) -> (String, Vec<usize>) {
    let folded = FoldedText::new(text);
    (folded.text, folded.offsets)
}

/// [`fold`] into `buf`, whose allocation is reused (cleared first): the
/// tables fold a few hundred thousand names per build, and a `String` for
/// each was as many allocations and frees.
pub(crate) fn fold_reusing<'b>(name: &str, buf: &'b mut String) -> &'b str {
    if name.is_ascii() {
        let mut out = std::mem::take(buf).into_bytes();
        out.clear();
        fold_ascii_into(name.as_bytes(), &mut out);
        // Only ASCII was written, so this cannot fail.
        *buf = String::from_utf8(out).unwrap_or_default();
        return buf.as_str();
    }
    let mut out = std::mem::take(buf).into_bytes();
    out.clear();
    let f = Folding {
        out,
        offsets: Vec::new(),
        words: Vec::new(),
        word_offsets: Vec::new(),
        want_words: false,
        want_offsets: false,
        word_start: None,
        word_origin: 0,
        pending_space: false,
    };
    *buf = f.run(name).text;
    buf.as_str()
}

/// [`Folding::run_ascii`]'s rules for the ASCII `bytes`, appended to `out`
/// (ASCII only): nearly every name of the gazetteer is ASCII, and the
/// general fold's set-up, zero-filled buffer and UTF-8 check of its output
/// cost more than folding a short name itself. Bytes, not chars: pushing
/// a `char` re-encodes it as UTF-8 (a branch and a length per byte).
fn fold_ascii_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let mut pending_space = false;
    for (i, &b) in bytes.iter().enumerate() {
        match ASCII_CLASS[usize::from(b)] {
            AsciiClass::Separator => pending_space = out.len() > start,
            AsciiClass::Apostrophe => {
                pending_space |= is_ascii_possessive_s(&bytes[i + 1..]) && out.len() > start;
            }
            class => {
                if pending_space {
                    pending_space = false;
                    out.push(b' ');
                }
                out.push(match class {
                    AsciiClass::Word => WORD_LOWER[usize::from(b)],
                    _ => b,
                });
            }
        }
    }
}

/// A text folded for name matching: [`fold_with_offsets`] plus the byte
/// spans of its words (runs of letters and digits), all in one pass.
#[derive(Debug, Default)]
pub(crate) struct FoldedText {
    /// The folded text.
    pub text: String,
    /// For every byte of `text`, the offset in the original; one more at
    /// the end.
    pub offsets: Vec<usize>,
    /// Byte spans of `text`'s words.
    pub words: Vec<(usize, usize)>,
    /// For each word, `offsets` at its start and at its end: where it
    /// starts in the original, and where what follows it does. A match
    /// starts and ends on word boundaries, so this is all the tagger needs
    /// (see [`FoldedText::refill`]).
    pub word_offsets: Vec<(usize, usize)>,
}

/// What an ASCII byte does when folded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AsciiClass {
    /// A letter or digit: kept, lower-cased, part of a word.
    Word,
    /// White space, hyphen, underscore or dot: at most one space.
    Separator,
    /// `'` or `` ` ``: dropped, or a space before a possessive `s`.
    Apostrophe,
    /// Any other ASCII byte: kept as it is, outside words.
    Other,
    /// A byte of a multi-byte char (the fold steps over whole chars, so
    /// it only ever looks up a char's first byte).
    NonAscii,
}

/// [`AsciiClass`] of every byte value, so that the fold's inner loop makes
/// one table look-up per byte instead of a chain of comparisons.
static ASCII_CLASS: [AsciiClass; 256] = {
    let mut table = [AsciiClass::NonAscii; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_alphanumeric() {
            AsciiClass::Word
        } else {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' | b'-' | b'_' | b'.' => {
                    AsciiClass::Separator
                }
                b'\'' | b'`' => AsciiClass::Apostrophe,
                _ => AsciiClass::Other,
            }
        };
        b += 1;
    }
    table
};

/// Every ASCII letter or digit lower-cased, every other byte 0: the inner
/// loop of [`Folding::run_ascii`] tests and lower-cases a byte with one
/// look-up.
static WORD_LOWER: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() {
            table[b] = byte.to_ascii_lowercase();
        }
        b += 1;
    }
    table
};

impl FoldedText {
    /// Folds `original` with every span: words, word offsets and the
    /// offset of every byte.
    pub fn new(original: &str) -> FoldedText {
        FoldedText::build(original, true, true)
    }

    /// Folds `original` into this value, reusing its buffers (the tagger
    /// folds every paragraph: one set of buffers per article, not three
    /// allocations per paragraph). Fills the words and their offsets but
    /// not `offsets`, which would cost a write of eight bytes per byte of
    /// text that nothing reads.
    pub fn refill(&mut self, original: &str) {
        let mut out = std::mem::take(&mut self.text).into_bytes();
        out.clear();
        let mut words = std::mem::take(&mut self.words);
        words.clear();
        let mut word_offsets = std::mem::take(&mut self.word_offsets);
        word_offsets.clear();
        let f = Folding {
            out,
            offsets: Vec::new(),
            words,
            word_offsets,
            want_words: true,
            want_offsets: false,
            word_start: None,
            word_origin: 0,
            pending_space: false,
        };
        *self = f.run(original);
    }

    /// Folds `original`; its words and their offsets only if `words`, the
    /// offset of every byte only if `offsets`.
    fn build(original: &str, words: bool, offsets: bool) -> FoldedText {
        let f = Folding {
            out: Vec::with_capacity(original.len()),
            offsets: Vec::new(),
            words: Vec::new(),
            word_offsets: Vec::new(),
            want_words: words,
            want_offsets: offsets,
            word_start: None,
            word_origin: 0,
            pending_space: false,
        };
        f.run(original)
    }
}

/// The state of [`FoldedText::new`].
struct Folding {
    out: Vec<u8>,
    offsets: Vec<usize>,
    words: Vec<(usize, usize)>,
    word_offsets: Vec<(usize, usize)>,
    /// Whether to fill `words` and `word_offsets`.
    want_words: bool,
    /// Whether to fill `offsets`.
    want_offsets: bool,
    /// Where the current word starts in `out`, if inside one.
    word_start: Option<usize>,
    /// Where the current word starts in the original.
    word_origin: usize,
    pending_space: bool,
}

impl Folding {
    fn run(mut self, original: &str) -> FoldedText {
        if original.is_ascii() {
            return self.run_ascii(original.as_bytes());
        }
        let bytes = original.as_bytes();
        self.out.reserve(bytes.len());
        if self.want_words {
            self.words.reserve(bytes.len() / 5);
            self.word_offsets.reserve(bytes.len() / 5);
        }
        if self.want_offsets {
            self.offsets.reserve(bytes.len() + 1);
        }
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            // ASCII, nearly all of the text, byte by byte; anything else as
            // a char (any byte under 0x80 is a whole char in UTF-8).
            match ASCII_CLASS[usize::from(b)] {
                AsciiClass::Word => i = self.push_ascii_word(i, bytes),
                AsciiClass::Separator => {
                    self.separator();
                    i += 1;
                }
                AsciiClass::Apostrophe => {
                    self.apostrophe(&original[i + 1..]);
                    i += 1;
                }
                AsciiClass::Other => {
                    // Not a letter: lower-casing leaves it as it is.
                    self.push_byte(i, b, false);
                    i += 1;
                }
                AsciiClass::NonAscii => {
                    let Some(c) = original[i..].chars().next() else {
                        break;
                    };
                    let next = i + c.len_utf8();
                    self.non_ascii(i, c, &original[next..]);
                    i = next;
                }
            }
        }
        self.finish(original.len())
    }

    /// [`Folding::run`] for an ASCII text, nearly every paragraph of a news
    /// corpus: the same steps with the state in locals and the output
    /// written in place (folded ASCII is never longer than the original: a
    /// space stands for at least one separator), about a third of the
    /// instructions of the general loop.
    fn run_ascii(mut self, bytes: &[u8]) -> FoldedText {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        out.resize(bytes.len(), 0);
        // Invariant: w <= i, so `out[w]` is in bounds.
        let mut w = 0;
        let mut i = 0;
        let mut pending_space = false;
        let mut word_start: Option<usize> = None;
        let mut word_origin = 0;
        while let Some(&b) = bytes.get(i) {
            let class = ASCII_CLASS[usize::from(b)];
            match class {
                AsciiClass::Separator => {
                    pending_space = w > 0;
                    i += 1;
                    continue;
                }
                AsciiClass::Apostrophe => {
                    let rest = &bytes[i + 1..];
                    let possessive = matches!(rest.first(), Some(b's' | b'S'))
                        && !rest.get(1).is_some_and(u8::is_ascii_alphanumeric);
                    pending_space |= possessive && w > 0;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            if pending_space {
                // The space ends the word before it and maps to what follows.
                pending_space = false;
                if let Some(s) = word_start.take() {
                    if self.want_words {
                        self.words.push((s, w));
                        self.word_offsets.push((word_origin, i));
                    }
                }
                out[w] = b' ';
                w += 1;
                if self.want_offsets {
                    self.offsets.push(i);
                }
            }
            if class == AsciiClass::Word {
                if word_start.is_none() {
                    word_start = Some(w);
                    word_origin = i;
                }
                let from = i;
                // Scanned, lower-cased and copied in one pass; zipped
                // iterators need no bounds checks.
                let mut run = 0;
                for (&c, o) in bytes[i..].iter().zip(&mut out[w..]) {
                    let lower = WORD_LOWER[usize::from(c)];
                    if lower == 0 {
                        break;
                    }
                    *o = lower;
                    run += 1;
                }
                w += run;
                i += run;
                if self.want_offsets {
                    self.offsets.extend(from..i);
                }
            } else {
                // Any other ASCII byte: kept as it is, outside words.
                if let Some(s) = word_start.take() {
                    if self.want_words {
                        self.words.push((s, w));
                        self.word_offsets.push((word_origin, i));
                    }
                }
                out[w] = b;
                w += 1;
                if self.want_offsets {
                    self.offsets.push(i);
                }
                i += 1;
            }
        }
        out.truncate(w);
        self.out = out;
        self.word_start = word_start;
        self.word_origin = word_origin;
        self.finish(bytes.len())
    }

    /// A char outside ASCII at offset `at`, `rest` the text after it.
    #[cold]
    fn non_ascii(&mut self, at: usize, c: char, rest: &str) {
        if is_apostrophe(c) {
            self.apostrophe(rest);
        } else if c.is_whitespace() || matches!(c, '\u{2010}'..='\u{2015}') {
            self.separator();
        } else {
            // The space goes in even if the char folds to nothing (a lone
            // combining mark), as folding always did.
            self.flush_space(at);
            for d in std::iter::once(c).nfkd().filter(|d| !is_combining_mark(*d)) {
                for l in d.to_lowercase() {
                    let mut buf = [0u8; 4];
                    for &byte in l.encode_utf8(&mut buf).as_bytes() {
                        self.push_byte(at, byte, l.is_alphanumeric());
                    }
                }
            }
        }
    }

    fn apostrophe(&mut self, rest: &str) {
        // A possessive stays a word apart ("the Kurdistan Region's forces"
        // names the Kurdistan Region); elsewhere the apostrophe just goes
        // (Ma'rib, Marib).
        self.pending_space |= is_possessive_s(rest) && !self.out.is_empty();
    }

    fn separator(&mut self) {
        self.pending_space = !self.out.is_empty();
    }

    /// The run of ASCII letters and digits at offset `at` of `bytes`, copied
    /// and lower-cased as a whole; returns where the run ends.
    #[inline]
    fn push_ascii_word(&mut self, at: usize, bytes: &[u8]) -> usize {
        self.flush_space(at);
        if self.word_start.is_none() {
            self.word_start = Some(self.out.len());
            self.word_origin = at;
        }
        let end = bytes[at..]
            .iter()
            .position(|&b| ASCII_CLASS[usize::from(b)] != AsciiClass::Word)
            .map_or(bytes.len(), |n| at + n);
        let from = self.out.len();
        self.out.extend_from_slice(&bytes[at..end]);
        self.out[from..].make_ascii_lowercase();
        if self.want_offsets {
            self.offsets.extend(at..end);
        }
        end
    }

    /// Writes the pending space, if any, with the offset of what follows it.
    #[inline]
    fn flush_space(&mut self, at: usize) {
        if self.pending_space {
            self.pending_space = false;
            self.push_unspaced(at, b' ', false);
        }
    }

    #[inline]
    fn push_byte(&mut self, at: usize, byte: u8, word: bool) {
        self.flush_space(at);
        self.push_unspaced(at, byte, word);
    }

    /// [`Folding::push_byte`] once the pending space is written.
    #[inline]
    fn push_unspaced(&mut self, at: usize, byte: u8, word: bool) {
        match (word, self.word_start) {
            (true, None) => {
                self.word_start = Some(self.out.len());
                self.word_origin = at;
            }
            (false, Some(s)) => {
                if self.want_words {
                    self.words.push((s, self.out.len()));
                    self.word_offsets.push((self.word_origin, at));
                }
                self.word_start = None;
            }
            _ => {}
        }
        self.out.push(byte);
        if self.want_offsets {
            self.offsets.push(at);
        }
    }

    fn finish(mut self, end: usize) -> FoldedText {
        if self.want_words {
            if let Some(s) = self.word_start {
                self.words.push((s, self.out.len()));
                self.word_offsets.push((self.word_origin, end));
            }
        }
        if self.want_offsets {
            self.offsets.push(end);
        }
        // Only whole chars were pushed, so this never fails.
        let text = String::from_utf8(self.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        FoldedText {
            text,
            offsets: self.offsets,
            words: self.words,
            word_offsets: self.word_offsets,
        }
    }
}

/// Whether the ASCII byte `b` is a letter or digit: part of a word of the
/// fold.
#[inline]
pub(crate) fn is_ascii_word_byte(b: u8) -> bool {
    ASCII_CLASS[usize::from(b)] == AsciiClass::Word
}

/// Where the word of the fold that starts at `start` of the ASCII `bytes`
/// ends in `bytes` (after its last letter or digit), and how many
/// apostrophes inside it the fold drops. A word goes on across those
/// apostrophes (`Ma'rib` is one word) but not across a possessive
/// (`Idlib's` is two). This is [`Folding::run_ascii`]'s rule, applied to
/// one word, so that the tagger can fold only the words that may start a
/// name instead of every paragraph whole.
#[inline]
pub(crate) fn ascii_word_end(bytes: &[u8], start: usize) -> (usize, usize) {
    let mut i = start;
    let mut dropped = 0;
    loop {
        i = ascii_run_end(bytes, i, false);
        let mut k = i;
        while let Some(&(b'\'' | b'`')) = bytes.get(k) {
            k += 1;
        }
        // Only the last apostrophe of a run can be possessive: the others
        // are followed by an apostrophe.
        let continues = k > i
            && bytes.get(k).is_some_and(|&b| is_ascii_word_byte(b))
            && !is_ascii_possessive_s(&bytes[k..]);
        if !continues {
            return (i, dropped);
        }
        dropped += k - i;
        i = k;
    }
}

/// The high bit of each byte of `chunk` (eight ASCII bytes) that is a
/// letter or digit: range tests on all eight bytes at once, which cannot
/// carry from byte to byte since every byte is below 0x80.
#[inline]
fn word_bytes_mask(chunk: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Each byte's high bit: whether the byte is in `lo..=hi`.
    let in_range = |x: u64, lo: u8, hi: u8| {
        (x + ONES * u64::from(0x80 - lo)) & !(x + ONES * u64::from(0x7f - hi)) & HIGH
    };
    // Setting bit 0x20 maps capitals onto small letters (and no other
    // byte onto one).
    in_range(chunk | (ONES * 0x20), b'a', b'z') | in_range(chunk, b'0', b'9')
}

/// One bit per byte of the ASCII `bytes`, bit `i % 64` of `out[i / 64]`:
/// whether it is a letter or digit (into `out`, cleared first). Eight bytes
/// at a time, so that the tagger can step from word to word of a
/// paragraph with a few bit operations per word instead of a test per byte.
pub(crate) fn ascii_word_bits(bytes: &[u8], out: &mut Vec<u64>) {
    out.clear();
    for block in bytes.chunks(64) {
        let mut bits = 0u64;
        let mut chunks = block.chunks_exact(8);
        let mut shift = 0;
        for chunk in &mut chunks {
            let mut arr = [0u8; 8];
            arr.copy_from_slice(chunk);
            let high = word_bytes_mask(u64::from_le_bytes(arr));
            // Byte k's high bit to bit k: the products of the eight bits
            // land on distinct bits of the top byte.
            let packed = ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
            bits |= packed << shift;
            shift += 8;
        }
        for (k, &b) in chunks.remainder().iter().enumerate() {
            if is_ascii_word_byte(b) {
                bits |= 1 << (shift + k);
            }
        }
        out.push(bits);
    }
}

/// The first offset from `from` whose bit in `bits` (see [`ascii_word_bits`]
/// of a text `len` bytes long) is `set`, or `len`.
#[inline]
pub(crate) fn next_bit(bits: &[u64], from: usize, len: usize, set: bool) -> usize {
    let flip = if set { 0 } else { u64::MAX };
    let mut k = from / 64;
    let Some(&first) = bits.get(k) else {
        return len;
    };
    let mut word = (first ^ flip) & (u64::MAX << (from % 64));
    loop {
        if word != 0 {
            return (k * 64 + word.trailing_zeros() as usize).min(len);
        }
        k += 1;
        match bits.get(k) {
            Some(&w) => word = w ^ flip,
            None => return len,
        }
    }
}

/// The first offset from `from` of the ASCII `bytes` whose byte is a
/// letter or digit if `word` (the next word), is not one otherwise (the
/// end of this word's run), or `bytes.len()`. Eight bytes at a time: the
/// tagger steps over every word of a paragraph this way.
#[inline]
pub(crate) fn ascii_run_end(bytes: &[u8], from: usize, word: bool) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut arr = [0u8; 8];
        arr.copy_from_slice(chunk);
        let words = word_bytes_mask(u64::from_le_bytes(arr));
        let stop = if word { words } else { !words & HIGH };
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while bytes.get(i).is_some_and(|&b| is_ascii_word_byte(b) != word) {
        i += 1;
    }
    i
}

/// Appends the folded form of the word `bytes[start..end]` (see
/// [`ascii_word_end`]): its letters and digits, lower-cased, without the
/// apostrophes inside it.
#[inline]
pub(crate) fn push_folded_ascii_word(bytes: &[u8], start: usize, end: usize, out: &mut Vec<u8>) {
    for &b in &bytes[start..end] {
        let lower = WORD_LOWER[usize::from(b)];
        if lower != 0 {
            out.push(lower);
        }
    }
}

/// What the fold of the ASCII `bytes` writes between the word that ends at
/// `end` (see [`ascii_word_end`]) and the next word: appended to `out` (the
/// space standing for separators, and other punctuation as it is). Returns
/// the start of the next word, if any.
pub(crate) fn push_folded_ascii_gap(bytes: &[u8], end: usize, out: &mut Vec<u8>) -> Option<usize> {
    // A word was just written, so a separator always leaves a space.
    let mut pending_space = false;
    let mut i = end;
    while let Some(&b) = bytes.get(i) {
        match ASCII_CLASS[usize::from(b)] {
            AsciiClass::Separator => pending_space = true,
            AsciiClass::Apostrophe => pending_space |= is_ascii_possessive_s(&bytes[i + 1..]),
            class => {
                if pending_space {
                    pending_space = false;
                    out.push(b' ');
                }
                if class == AsciiClass::Word {
                    return Some(i);
                }
                out.push(b);
            }
        }
        i += 1;
    }
    None
}

/// [`is_possessive_s`] of ASCII bytes.
#[inline]
fn is_ascii_possessive_s(rest: &[u8]) -> bool {
    matches!(rest.first(), Some(b's' | b'S')) && !rest.get(1).is_some_and(u8::is_ascii_alphanumeric)
}

/// Whether `rest`, the text after an apostrophe, starts with a lone `s`.
fn is_possessive_s(rest: &str) -> bool {
    let mut chars = rest.chars();
    matches!(chars.next(), Some('s' | 'S')) && !chars.next().is_some_and(char::is_alphanumeric)
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{02bc}'
            | '\u{02bb}'
            | '\u{02be}'
            | '\u{02bf}'
            | '\u{00b4}'
    )
}

/// A TSV table read by header names.
///
/// The cells of every row are kept in one vector (the places files have
/// about two hundred thousand rows: a `Vec` per row was as many
/// allocations), and lines and tabs are found with `memchr`.
struct Table<'a> {
    columns: Vec<&'a str>,
    cells: Vec<&'a str>,
    /// Line number, first cell and cell count of each row.
    rows: Vec<(usize, u32, u32)>,
}

impl<'a> Table<'a> {
    fn parse(text: &'a str, required: &[&str]) -> std::result::Result<Table<'a>, (usize, String)> {
        let (mut table, rows) = Table::header(text, required)?;
        table.cells.reserve(text.len() / 8);
        table.rows.reserve(text.len() / 40);
        for (n, line) in rows {
            let first = table.cells.len();
            split_tabs(line, &mut table.cells);
            let count = table.cells.len() - first;
            table.rows.push((n, first as u32, count as u32));
        }
        Ok(table)
    }

    /// The table's header (a table without rows) and its data lines with
    /// their line numbers, not yet split: a caller that reads each row once
    /// splits it into a reused vector instead of keeping every cell (the
    /// places files' cells were ~17 MB of short-lived memory per build).
    #[allow(clippy::type_complexity)]
    fn header(
        text: &'a str,
        required: &[&str],
    ) -> std::result::Result<(Table<'a>, impl Iterator<Item = (usize, &'a str)>), (usize, String)>
    {
        let mut lines = lines(text).enumerate();
        let (_, header) = lines.next().ok_or((1, "empty file".to_string()))?;
        let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
        for name in required {
            if !columns.contains(name) {
                return Err((1, format!("missing column `{name}` in the header")));
            }
        }
        let table = Table {
            columns,
            cells: Vec::new(),
            rows: Vec::new(),
        };
        let rows = lines
            .filter(|(_, l)| !is_blank(l) && !l.starts_with('#'))
            .map(|(n, line)| (n + 1, line));
        Ok((table, rows))
    }

    /// Every row: its line number and its cells.
    fn rows(&self) -> impl Iterator<Item = (usize, &[&'a str])> + '_ {
        self.rows.iter().map(|&(line, first, count)| {
            let first = first as usize;
            (line, &self.cells[first..first + count as usize])
        })
    }

    fn col(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| *c == name)
            .unwrap_or(usize::MAX)
    }
}

/// `text.lines()`: lines split at `\n`, a `\r` before it dropped.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ended = memchr::memchr_iter(b'\n', text.as_bytes()).map(|end| (end, true));
    let last = (!text.is_empty() && !text.ends_with('\n')).then_some((text.len(), false));
    ended.chain(last).map(move |(end, newline)| {
        // `\n` is one byte of ASCII, so `start` and `end` are char
        // boundaries.
        let line = text.get(start..end).unwrap_or_default();
        start = end + 1;
        match line.strip_suffix('\r') {
            Some(stripped) if newline => stripped,
            _ => line,
        }
    })
}

/// `line.split('\t')`, appended to `cells`.
fn split_tabs<'a>(line: &'a str, cells: &mut Vec<&'a str>) {
    // A byte loop: most cells are a few bytes long, too short for
    // `memchr`'s set-up to pay.
    let mut start = 0;
    for (i, &b) in line.as_bytes().iter().enumerate() {
        if b == b'\t' {
            // A tab is one byte of ASCII, so `start` and `i` are char
            // boundaries.
            cells.push(line.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    cells.push(line.get(start..).unwrap_or_default());
}

/// Whether `line` is empty or white space only, answered from its first
/// byte when that is printable ASCII (every row of the places files: `trim`
/// of a row that ends with an empty cell walked the whole row).
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        Some(b) if b.is_ascii_graphic() => false,
        _ => line.trim().is_empty(),
    }
}

fn cell<'a>(row: &[&'a str], col: usize) -> &'a str {
    row.get(col).map_or("", |s| trim(s))
}

/// `s.trim()`, answered from two bytes when `s` starts and ends with
/// printable ASCII (a million cells and names are trimmed per load).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split('|')
        .map(trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn bad(path: &Path, (line, reason): (usize, String)) -> Error {
    Error::Gazetteer {
        path: path.display().to_string(),
        line,
        reason,
    }
}

fn parse_countries(text: &str, path: &Path) -> Result<Vec<CountryEntry>> {
    let t =
        Table::parse(text, &["country_code", "country", "aliases"]).map_err(|e| bad(path, e))?;
    let (code, name, aliases) = (t.col("country_code"), t.col("country"), t.col("aliases"));
    let mut out = Vec::new();
    for (line, row) in t.rows() {
        if cell(row, code).is_empty() || cell(row, name).is_empty() {
            return Err(bad(path, (line, "empty country code or name".to_string())));
        }
        out.push(CountryEntry {
            code: cell(row, code).to_string(),
            name: cell(row, name).to_string(),
            aliases: list(cell(row, aliases)),
        });
    }
    Ok(out)
}

fn parse_provinces(text: &str, path: &Path) -> Result<Vec<ProvinceEntry>> {
    let t = Table::parse(text, &["country_code", "country", "province", "aliases"])
        .map_err(|e| bad(path, e))?;
    let cols = [
        "country_code",
        "country",
        "province",
        "aliases",
        "region",
        "ambiguous_aliases",
        "subdivisions",
    ]
    .map(|c| t.col(c));
    let mut out = Vec::new();
    for (line, row) in t.rows() {
        let [code, country, province, aliases, region, ambiguous, subdivisions] =
            cols.map(|c| cell(row, c));
        if code.is_empty() || country.is_empty() || province.is_empty() {
            return Err(bad(path, (line, "empty country or province".to_string())));
        }
        out.push(ProvinceEntry {
            province: Province {
                country: country.to_string(),
                name: province.to_string(),
            },
            country_code: code.to_string(),
            aliases: list(aliases),
            ambiguous: list(ambiguous).iter().map(|a| fold(a)).collect(),
            region: Some(region.to_string()).filter(|r| !r.is_empty()),
            subdivisions: list(subdivisions),
        });
    }
    Ok(out)
}

fn parse_groups(text: &str, path: &Path) -> Result<Vec<GroupEntry>> {
    let t = Table::parse(text, &["name", "aliases"]).map_err(|e| bad(path, e))?;
    let cols = ["name", "aliases", "kind", "countries"].map(|c| t.col(c));
    let mut out = Vec::new();
    for (line, row) in t.rows() {
        let [name, aliases, kind, countries] = cols.map(|c| cell(row, c));
        if name.is_empty() {
            return Err(bad(path, (line, "empty group name".to_string())));
        }
        out.push(GroupEntry {
            name: name.to_string(),
            aliases: list(aliases),
            kind: kind.to_string(),
            countries: list(countries),
        });
    }
    Ok(out)
}

fn parse_places(
    text: &str,
    provinces: &HashMap<(&str, String), u32>,
) -> std::result::Result<Vec<PlaceEntry>, (usize, String)> {
    let mut out = Vec::new();
    each_place_row(text, provinces, |row| {
        out.push(PlaceEntry {
            name: row.name.to_string(),
            alternate_names: alternates(row.alternates).map(str::to_string).collect(),
            province: row.province,
            population: row.population,
            word: row.word,
            elsewhere: row.elsewhere,
        });
    })?;
    Ok(out)
}

/// Every row of a places file, in order, to `each`; stops at the first row
/// whose province is not in `provinces`.
fn each_place_row<'a>(
    text: &'a str,
    provinces: &HashMap<(&str, String), u32>,
    mut each: impl FnMut(PlaceRow<'a>),
) -> std::result::Result<(), (usize, String)> {
    let (t, lines) = Table::header(text, &["name", "country_code", "province"])?;
    let cols = [
        "name",
        "alternate_names",
        "country_code",
        "province",
        "population",
        "flags",
    ]
    .map(|c| t.col(c));
    // Thousands of rows share each province: fold its name once.
    let mut seen: rustc_hash::FxHashMap<(&str, &str), u32> = rustc_hash::FxHashMap::default();
    let mut row = Vec::new();
    for (line, cells) in lines {
        row.clear();
        split_tabs(cells, &mut row);
        let [name, alternates, code, province_name, population, flags] =
            cols.map(|c| cell(&row, c));
        let province = match seen.get(&(code, province_name)) {
            Some(&id) => id,
            None => {
                let Some(&id) = provinces.get(&(code, fold(province_name))) else {
                    return Err((
                        line,
                        format!("province {province_name:?} of {code} is not in provinces.tsv"),
                    ));
                };
                seen.insert((code, province_name), id);
                id
            }
        };
        // Few rows have flags: most skip the two splits.
        let flagged = |flag| !flags.is_empty() && flags.split('|').any(|f| f == flag);
        each(PlaceRow {
            name,
            alternates,
            province,
            population: population.parse().unwrap_or(0),
            word: flagged("word"),
            elsewhere: flagged("elsewhere"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `suggest` without the length shortcut.
    fn suggest_scoring_all(name: &str, names: &[String]) -> Vec<String> {
        let key = fold(name);
        let mut scored: Vec<(f64, &String)> = names
            .iter()
            .map(|n| (strsim::jaro_winkler(&key, &fold(n)), n))
            .filter(|(s, _)| *s > 0.85)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut out: Vec<String> = Vec::new();
        for (_, n) in scored {
            if !out.contains(n) {
                out.push(n.clone());
            }
            if out.len() == 5 {
                break;
            }
        }
        out
    }

    /// The char-by-char folding that [`FoldedText::new`] replaced.
    fn fold_char_by_char(text: &str) -> (String, Vec<usize>) {
        let mut out = String::with_capacity(text.len());
        let mut offsets = Vec::with_capacity(text.len() + 1);
        let mut pending_space = false;
        for (i, c) in text.char_indices() {
            if is_apostrophe(c) {
                pending_space |= is_possessive_s(&text[i + c.len_utf8()..]) && !out.is_empty();
                continue;
            }
            if c.is_whitespace() || matches!(c, '-' | '_' | '.' | '\u{2010}'..='\u{2015}') {
                pending_space = !out.is_empty();
                continue;
            }
            if pending_space {
                out.push(' ');
                offsets.push(i);
                pending_space = false;
            }
            for d in std::iter::once(c).nfkd().filter(|d| !is_combining_mark(*d)) {
                for l in d.to_lowercase() {
                    let start = out.len();
                    out.push(l);
                    offsets.extend(std::iter::repeat_n(i, out.len() - start));
                }
            }
        }
        offsets.push(text.len());
        (out, offsets)
    }

    #[test]
    fn folding_keeps_words_apart_at_separators_and_possessives() {
        let f = FoldedText::new("Dayr az-Zawr's  Ḩamāh, Ma'rib\u{2013}ISIS.");
        assert_eq!(f.text, "dayr az zawr s hamah, marib isis");
        assert_eq!(f.words.len(), 7);
        assert_eq!(&f.text[f.words[6].0..f.words[6].1], "isis");
    }

    /// Each word's offsets are those of its first byte and of the byte
    /// after it, and buffers reused from a longer text (`refill`) give the
    /// same text and words.
    fn check_word_offsets_and_reuse(
        text: &str,
        f: &FoldedText,
        folded: &str,
        offsets: &[usize],
    ) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        let ends: Vec<(usize, usize)> = f
            .words
            .iter()
            .map(|&(s, e)| (offsets[s], offsets[e]))
            .collect();
        prop_assert_eq!(&f.word_offsets, &ends);
        let mut reused = FoldedText::new("Dayr az-Zawr's  Ḩamāh, Ma'rib\u{2013}ISIS and more");
        reused.refill(text);
        prop_assert_eq!(reused.text.as_str(), folded);
        prop_assert_eq!(&reused.words, &f.words);
        prop_assert_eq!(&reused.word_offsets, &ends);
        Ok(())
    }

    proptest! {
        #[test]
        fn tabs_split_like_str_split(line in "[a-z\t é|]{0,40}") {
            let expected: Vec<&str> = line.split('\t').collect();
            let mut cells = vec!["before"];
            split_tabs(&line, &mut cells);
            prop_assert_eq!(&cells[1..], expected.as_slice());
        }

        #[test]
        fn lines_split_like_str_lines(text in "[a\r\n é]{0,40}") {
            let expected: Vec<&str> = text.lines().collect();
            prop_assert_eq!(lines(&text).collect::<Vec<_>>(), expected);
        }
    }

    proptest! {
        /// The byte-wise folding gives the same text, offsets and words as
        /// folding char by char.
        #[test]
        fn bytewise_folding_matches_char_by_char(
            text in "([a-zA-Z0-9 ,.'’`_\\-\t\n]|[ḨāéİßﬁΣς\u{2013}\u{00a0}\u{0301}]|\\PC){0,60}",
        ) {
            let f = FoldedText::new(&text);
            let (folded, offsets) = fold_char_by_char(&text);
            check_word_offsets_and_reuse(&text, &f, &folded, &offsets)?;
            let mut buf = String::from("left over");
            prop_assert_eq!(fold_reusing(&text, &mut buf), folded.as_str());
            // Buffers reused from a longer text leave no offsets behind.
            let mut reused = FoldedText::new("Dayr az-Zawr's  Ḩamāh, Ma'rib\u{2013}ISIS and more");
            reused.refill(&text);
            prop_assert!(reused.offsets.is_empty());
        }

        /// The same for ASCII texts, which take their own path.
        #[test]
        fn ascii_folding_matches_char_by_char(text in "[a-zA-Z0-9 ,.'`_()\\-\t\n]{0,80}") {
            let f = FoldedText::new(&text);
            let (folded, offsets) = fold_char_by_char(&text);
            prop_assert_eq!(&f.text, &folded);
            prop_assert_eq!(&fold(&text), &folded);
            let mut buf = String::from("left over");
            prop_assert_eq!(fold_reusing(&text, &mut buf), folded.as_str());
            prop_assert_eq!(&f.offsets, &offsets);
            // The same word spans as the name table splits its names into.
            prop_assert_eq!(&f.words, &crate::tagging::names::word_spans(&folded));
            check_word_offsets_and_reuse(&text, &f, &folded, &offsets)?;
        }

        /// Skipping pairs of very different lengths changes no suggestion.
        #[test]
        fn length_shortcut_keeps_every_suggestion(
            name in "[abc ]{0,40}",
            names in prop::collection::vec("[abc]{1,12}", 1..40),
        ) {
            prop_assert_eq!(suggest(&name, names.iter()), suggest_scoring_all(&name, &names));
        }
    }

    /// The facts tagging reads of the places files are those of
    /// [`Gazetteer::places`], row for row, and the rows passed on for the
    /// name table are its names.
    #[test]
    fn place_facts_are_the_places_tables_without_names() {
        let g = Gazetteer::embedded().unwrap();
        let places = g.places().unwrap();
        let mut rows = Vec::new();
        let facts = g
            .place_facts(|i, row| rows.push((i, row.name, alternates(row.alternates).count())))
            .unwrap();
        assert_eq!(facts.places.len(), places.places.len());
        assert_eq!(rows.len(), places.places.len());
        for ((fact, p), (i, (at, name, alts))) in facts
            .places
            .iter()
            .zip(&places.places)
            .zip(rows.into_iter().enumerate())
        {
            assert_eq!(at as usize, i);
            assert_eq!(name, p.name);
            assert_eq!(alts, p.alternate_names.len());
            assert_eq!(
                (fact.province, fact.population, fact.word, fact.elsewhere),
                (p.province, p.population, p.word, p.elsewhere)
            );
        }
        let cued: Vec<u32> = places.cued.iter().map(|p| p.province).collect();
        assert_eq!(facts.cued, cued);
        assert_eq!(facts.cued_by_name.names.len(), places.cued_by_name.len());
        for (name, ids) in &places.cued_by_name {
            assert_eq!(facts.cued_by_name.get(name), Some(ids.as_slice()), "{name}");
        }
        assert_eq!(facts.cued_by_name.get("no such place anywhere"), None);
    }

    proptest! {
        /// [`FoldedLists`] answers as the `HashMap<String, Vec<u32>>` it
        /// replaced, names and ids pushed the same way.
        #[test]
        fn folded_lists_answer_like_a_map_of_vecs(
            rows in prop::collection::vec(prop::collection::vec("[ab ]{0,4}", 1..4), 0..300),
            probes in prop::collection::vec("[ab ]{0,4}", 0..20),
        ) {
            let mut map: HashMap<String, Vec<u32>> = HashMap::default();
            let mut lists = FoldedLists::builder();
            for (i, names) in rows.iter().enumerate() {
                for name in names {
                    let ids = map.entry(name.clone()).or_default();
                    if !ids.contains(&(i as u32)) {
                        ids.push(i as u32);
                    }
                    lists.push(name, i as u32);
                }
            }
            let lists = lists.build();
            for name in map.keys().chain(&probes) {
                prop_assert_eq!(lists.get(name), map.get(name).map(Vec::as_slice));
            }
        }
    }

    #[test]
    fn suggestions_for_a_huge_name_are_quick() {
        let g = Gazetteer::embedded().unwrap();
        let name = "abcdefgh".repeat(1000);
        let started = std::time::Instant::now();
        assert!(g.resolve_provinces(&name).is_err());
        assert!(g.resolve_group(&name).is_err());
        assert!(g.resolve_country(&name).is_err());
        // 8 KB took ~50 s (release) against the provinces before.
        assert!(started.elapsed().as_secs() < 10);
    }
}
