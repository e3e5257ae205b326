//! Stories: recognising copies of one wire story across outlets.
//!
//! The same report reappears with small edits: a syndication notice, a
//! changed first line, a trimmed last paragraph. Each article gets a MinHash
//! signature over word 3-shingles of its body (32 values from one hash per
//! shingle, "one-permutation" MinHash), cut into 16 bands of 2 rows. Two
//! articles are copies when at least [`MIN_SHARED_BANDS`] of their 16 bands are equal. A band matches with
//! probability J² for shingle Jaccard similarity J, so this accepts copies
//! with J ≥ 0.85 about 98% of the time and J ≤ 0.5 about 3% of the time
//! (binomial tail; `tests` check both sides on real edits).
//!
//! Only the 16 band hashes are kept per article (in the generation
//! manifest), so incremental runs assign new articles to existing stories.
//! A story's id is the article key of its first member, stable as long as
//! that id is.
//!
//! ```
//! use frontline::stories::{signature, StoryIndex};
//! let a = "Gunmen attacked a market in the north of the country on Monday, killing six people and wounding twenty others, officials said. The attackers fled on motorcycles before troops arrived.";
//! let b = "UPDATE: Gunmen attacked a market in the north of the country on Monday, killing six people and wounding twenty others, officials said. The attackers fled on motorcycles before troops arrived.";
//! let mut stories = StoryIndex::default();
//! let s1 = stories.assign(1, &signature(a)).unwrap();
//! let s2 = stories.assign(2, &signature(b)).unwrap();
//! assert_eq!(s1, s2);
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Version of [`signature`]'s computation. Bands of different versions
/// never match, so a change forces a full rebuild (the manifest records it).
pub const SIGNATURE_VERSION: u32 = 2;

/// Number of LSH bands per signature.
pub const BANDS: usize = 16;
const ROWS: usize = 2;
/// Bands two articles must share to count as copies of one story.
pub const MIN_SHARED_BANDS: usize = 8;

/// An article's band hashes.
pub type Signature = [u32; BANDS];

/// Computes the band hashes of a text (lower-cased word 3-shingles).
pub fn signature(text: &str) -> Signature {
    signature_of_parts(std::iter::once(text))
}

/// [`signature`] of the texts joined by any separator that is not a letter
/// or digit (such as the paragraphs of an article joined by newlines),
/// without joining them.
pub fn signature_of_parts<'t>(parts: impl IntoIterator<Item = &'t str>) -> Signature {
    // One hash per word, lower-cased on the fly: no string per word.
    let mut words: Vec<u64> = Vec::new();
    for part in parts {
        if part.is_ascii() {
            ascii_word_hashes(part.as_bytes(), &mut words);
            continue;
        }
        for word in part.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            let hash = if word.is_ascii() {
                word.bytes().fold(FNV_OFFSET, |h, b| {
                    (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME)
                })
            } else {
                fnv1a_continue(FNV_OFFSET, word.to_lowercase().as_bytes())
            };
            words.push(hash);
        }
    }
    bands_of(&words)
}

/// The word hashes of [`signature_of_parts`] for an ASCII text, nearly
/// every paragraph: the same words (runs of ASCII letters and digits) and
/// hashes, byte by byte instead of char by char (the `split` searcher was
/// most of the signature's cost, ~4 % of indexing CPU).
fn ascii_word_hashes(text: &[u8], words: &mut Vec<u64>) {
    let mut hash = FNV_OFFSET;
    let mut in_word = false;
    for &b in text {
        if b.is_ascii_alphanumeric() {
            hash = (hash ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
            in_word = true;
        } else if in_word {
            words.push(hash);
            hash = FNV_OFFSET;
            in_word = false;
        }
    }
    if in_word {
        words.push(hash);
    }
}

/// The bands of a text given the hashes of its words, in order.
fn bands_of(words: &[u64]) -> Signature {
    let mut bands = [0u32; BANDS];
    if words.len() < 3 {
        return bands;
    }
    // One-permutation MinHash: each shingle is hashed once and falls into
    // one of the 32 bins by its top bits; a bin keeps its minimum. Two texts
    // agree on a bin with probability ≈ their Jaccard similarity, like
    // 32 independent hash functions, at a 32nd of the cost (those were 7-14 %
    // of indexing CPU).
    let mut mins = [u64::MAX; BINS];
    for w in words.windows(3) {
        let h = mix(w[0] ^ w[1].rotate_left(21) ^ w[2].rotate_left(42));
        let bin = (h >> (64 - BIN_BITS)) as usize;
        mins[bin] = mins[bin].min(h);
    }
    densify(&mut mins);
    for (b, band) in bands.iter_mut().enumerate() {
        let rows = &mins[b * ROWS..(b + 1) * ROWS];
        let h = rows.iter().fold(FNV_OFFSET, |acc, r| mix(acc ^ r));
        *band = (h >> 32) as u32;
    }
    bands
}

const BIN_BITS: u32 = 5;
const BINS: usize = 1 << BIN_BITS;
const _: () = assert!(BINS == BANDS * ROWS);

/// Fills the bins no shingle fell into (short texts) from the next filled
/// bin to the right, mixed with the distance ("rotation" densification,
/// Shrivastava & Li 2014), so that two copies of a short text still agree
/// where they should. At least one bin is filled when this is called.
fn densify(mins: &mut [u64; BINS]) {
    let filled = *mins;
    for (i, min) in mins.iter_mut().enumerate() {
        if *min != u64::MAX {
            continue;
        }
        if let Some(distance) = (1..BINS).find(|d| filled[(i + d) % BINS] != u64::MAX) {
            let donor = filled[(i + distance) % BINS];
            *min = mix(donor ^ (distance as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv1a_continue(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME))
}

/// splitmix64 finalizer: cheap, well-mixed, deterministic everywhere.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A story assignment kept with the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryRecord {
    /// The story id (article key of the story's first member).
    pub story: u64,
    /// The article's band hashes.
    pub bands: Signature,
}

/// Finds the story of each new article among those seen before.
///
/// Sized for corpora of millions of articles: it keeps no signatures, only
/// each article's story id (8 bytes) and its 16 band entries (8 bytes each)
/// in an open-addressing multimap, about 220 bytes per article in all. The
/// map is split into 256 tables (`SHARDS`) that grow one at a time, so growing
/// never holds two copies of the whole map.
///
/// [`StoryIndex::default`] keeps the tables on the heap;
/// [`StoryIndex::in_dir`] keeps them in memory-mapped files, so that an
/// index run's memory does not grow with the corpus: their pages are page
/// cache, which the kernel can write back and reclaim.
#[derive(Debug)]
pub struct StoryIndex {
    shards: Vec<Shard>,
    /// Slot (order of insertion) → story id.
    stories: Vec<u64>,
    /// Where file-backed tables live (`None`: on the heap).
    dir: Option<PathBuf>,
}

const SHARDS: usize = 256;

impl Default for StoryIndex {
    fn default() -> Self {
        StoryIndex {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            stories: Vec::new(),
            dir: None,
        }
    }
}

impl StoryIndex {
    /// An empty index whose tables are files in `dir` (created if
    /// missing). The files are scratch: the caller removes `dir` when done
    /// (an index run keeps it in its staging directory).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Result<StoryIndex> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(StoryIndex {
            dir: Some(dir),
            ..StoryIndex::default()
        })
    }

    /// Adds an article seen in an earlier run with its known story.
    ///
    /// Fails only when a file-backed table cannot grow (disk full).
    pub fn insert(&mut self, record: StoryRecord) -> Result<()> {
        let Ok(slot) = u32::try_from(self.stories.len()) else {
            // Past 4 billion articles new ones simply start their own story.
            return Ok(());
        };
        if slot == u32::MAX {
            return Ok(());
        }
        self.stories.push(record.story);
        // An empty text's bands are all zero and never match (see `find`):
        // kept out so that thousands of them do not pile up on one key.
        if record.bands.iter().all(|b| *b == 0) {
            return Ok(());
        }
        for (b, band) in record.bands.iter().enumerate() {
            let key = band_key(b, *band);
            let shard = shard_of(key);
            self.shards[shard].insert(key, slot, self.dir.as_deref(), shard)?;
        }
        Ok(())
    }

    /// Returns the story of a new article (`key` = its article key) and
    /// remembers it: an existing story when a copy is found, else a new one.
    ///
    /// Fails only when a file-backed table cannot grow (disk full).
    pub fn assign(&mut self, key: u64, bands: &Signature) -> Result<u64> {
        let story = self.find(bands).unwrap_or(key);
        self.insert(StoryRecord {
            story,
            bands: *bands,
        })?;
        Ok(story)
    }

    /// Number of articles the index knows.
    pub fn len(&self) -> usize {
        self.stories.len()
    }

    /// Whether the index knows no article.
    pub fn is_empty(&self) -> bool {
        self.stories.is_empty()
    }

    /// The story of the earliest article sharing the most bands (at least
    /// [`MIN_SHARED_BANDS`]) with `bands`.
    fn find(&self, bands: &Signature) -> Option<u64> {
        if bands.iter().all(|b| *b == 0) {
            return None;
        }
        let mut slots: Vec<u32> = Vec::new();
        for (b, band) in bands.iter().enumerate() {
            let key = band_key(b, *band);
            self.shards[shard_of(key)].get_all(key, &mut slots);
        }
        slots.sort_unstable();
        let mut best: Option<(usize, u32)> = None;
        for run in slots.chunk_by(|a, b| a == b) {
            let n = run.len();
            // Runs come in slot order: only a strictly larger count wins,
            // so ties go to the earliest article.
            if n >= MIN_SHARED_BANDS && best.is_none_or(|(m, _)| n > m) {
                best = Some((n, run[0]));
            }
        }
        best.and_then(|(_, slot)| self.stories.get(slot as usize).copied())
    }
}

/// One 32-bit key per (band number, band hash). Two different pairs share
/// a key with probability 2⁻³², and a false match needs eight of them.
fn band_key(band: usize, hash: u32) -> u32 {
    hash ^ (band as u32).wrapping_mul(0x9E37_79B9)
}

fn shard_of(key: u32) -> usize {
    (key >> 24) as usize % SHARDS
}

/// A linear-probing multimap from band key to slot: `key << 32 | slot + 1`
/// per entry, `EMPTY` (zero) for a free one, so that a new table is all
/// zero pages (calloc'ed, or a sparse file) and costs nothing until used.
/// Equal keys (copies of one story) sit next to each other in probe order.
#[derive(Debug, Default)]
struct Shard {
    entries: Table,
    len: usize,
}

const EMPTY: u64 = 0;

/// A shard's slots: on the heap, or in a memory-mapped scratch file.
#[derive(Debug, Default)]
enum Table {
    #[default]
    Empty,
    Heap(Vec<u64>),
    Mapped(MappedTable),
}

/// A file of `u64`s mapped read-write; the file is deleted when dropped
/// (the mapping alone keeps its pages until then).
#[derive(Debug)]
struct MappedTable {
    map: memmap2::MmapMut,
    path: PathBuf,
}

impl MappedTable {
    fn create(path: PathBuf, len: usize) -> Result<MappedTable> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // A sparse file: reads as zeros (EMPTY) without being written.
        file.set_len((len * 8) as u64)
            .map_err(|e| Error::io(&path, e))?;
        // SAFETY: the file was just created in the run's private scratch
        // directory (under the writer lock) and nothing else opens it; the
        // map is dropped before the file is removed.
        let map = unsafe { memmap2::MmapMut::map_mut(&file) }.map_err(|e| Error::io(&path, e))?;
        Ok(MappedTable { map, path })
    }
}

impl Drop for MappedTable {
    fn drop(&mut self) {
        // Scratch: a failure leaves a file that the run's cleanup of its
        // staging directory removes.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Table {
    fn slots(&self) -> &[u64] {
        match self {
            Table::Empty => &[],
            Table::Heap(v) => v,
            // An mmap is page-aligned, so the u64 view is aligned too.
            Table::Mapped(m) => u64s(&m.map),
        }
    }

    fn slots_mut(&mut self) -> &mut [u64] {
        match self {
            Table::Empty => &mut [],
            Table::Heap(v) => v,
            Table::Mapped(m) => u64s_mut(&mut m.map),
        }
    }
}

fn u64s(bytes: &[u8]) -> &[u64] {
    // SAFETY: every bit pattern is a valid u64; `align_to` returns the
    // aligned middle part, which is all of a page-aligned mapping.
    let (head, body, _) = unsafe { bytes.align_to::<u64>() };
    debug_assert!(head.is_empty());
    body
}

fn u64s_mut(bytes: &mut [u8]) -> &mut [u64] {
    // SAFETY: as in `u64s`.
    let (head, body, _) = unsafe { bytes.align_to_mut::<u64>() };
    debug_assert!(head.is_empty());
    body
}

impl Shard {
    fn insert(&mut self, key: u32, slot: u32, dir: Option<&Path>, shard: usize) -> Result<()> {
        // At most 80 % full: linear probing stays within a cache line or two.
        let capacity = self.entries.slots().len();
        if (self.len + 1) * 5 > capacity * 4 {
            self.grow(dir, shard)?;
        }
        put(
            self.entries.slots_mut(),
            u64::from(key) << 32 | (u64::from(slot) + 1),
        );
        self.len += 1;
        Ok(())
    }

    fn grow(&mut self, dir: Option<&Path>, shard: usize) -> Result<()> {
        let capacity = (self.entries.slots().len() * 2).max(64);
        let mut table = match dir {
            None => Table::Heap(vec![EMPTY; capacity]),
            Some(dir) => {
                let path = dir.join(format!("stories-{shard:03}-{capacity}.bin"));
                Table::Mapped(MappedTable::create(path, capacity)?)
            }
        };
        let slots = table.slots_mut();
        for entry in self.entries.slots().iter().filter(|e| **e != EMPTY) {
            put(slots, *entry);
        }
        self.entries = table;
        Ok(())
    }

    fn get_all(&self, key: u32, out: &mut Vec<u32>) {
        let entries = self.entries.slots();
        if entries.is_empty() {
            return;
        }
        let mask = entries.len() - 1;
        let mut pos = home(key, mask);
        loop {
            let entry = entries[pos];
            if entry == EMPTY {
                return;
            }
            if (entry >> 32) as u32 == key {
                out.push((entry as u32) - 1);
            }
            pos = (pos + 1) & mask;
        }
    }
}

fn put(entries: &mut [u64], entry: u64) {
    let mask = entries.len() - 1;
    let mut pos = home((entry >> 32) as u32, mask);
    while entries[pos] != EMPTY {
        pos = (pos + 1) & mask;
    }
    entries[pos] = entry;
}

/// Where a key's probe starts: its low bits (the top byte chose the shard,
/// and band hashes are uniformly spread already).
fn home(key: u32, mask: usize) -> usize {
    key as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "Fighters loyal to the armed group stormed two villages near the river crossing before dawn, \
residents said, setting fire to grain stores and driving off cattle. A local administrator said at least eleven \
people were killed and dozens of families fled towards the district town, where aid workers reported shortages of \
water and medicine. The army said it had sent reinforcements and was pursuing the attackers into the forest. \
Humanitarian agencies have warned that repeated raids on farming communities threaten the coming harvest and \
could push thousands more people into hunger in a region already hosting many displaced families.";

    #[test]
    fn edited_copies_share_a_story() {
        let copy = format!("UPDATED with army statement. {BODY} (This story has not been edited by Example Times staff and is auto-generated from a syndicated feed.)");
        let mut idx = StoryIndex::default();
        let a = idx.assign(1, &signature(BODY)).unwrap();
        let b = idx.assign(2, &signature(&copy)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, 1);
    }

    #[test]
    fn different_reports_on_the_same_topic_do_not() {
        let other = "Fighters attacked a village near the river on Tuesday, residents said, and the army sent \
reinforcements. Aid workers reported shortages of water in the district town, and agencies warned about the harvest. \
The administrator said four people were killed and cattle were stolen, while families fled into the forest.";
        let mut idx = StoryIndex::default();
        let a = idx.assign(1, &signature(BODY)).unwrap();
        let b = idx.assign(2, &signature(other)).unwrap();
        assert_ne!(a, b);
    }

    /// The signature computed the plain way (a string per word, the text
    /// joined): the word hashing without copies must give the same bands.
    fn reference_signature(text: &str) -> Signature {
        let words: Vec<u64> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| fnv1a_continue(FNV_OFFSET, w.to_lowercase().as_bytes()))
            .collect();
        bands_of(&words)
    }

    #[test]
    fn short_copies_match_and_short_reports_do_not() {
        let a = "Two soldiers were killed when a roadside bomb hit their patrol near the border crossing on Friday.";
        let b = "Two soldiers were killed when a roadside bomb hit their patrol near the border crossing on Friday, the army said.";
        let c = "Three policemen were wounded when gunmen fired on their checkpoint outside the provincial capital on Sunday.";
        let mut idx = StoryIndex::default();
        assert_eq!(idx.assign(1, &signature(a)).unwrap(), 1);
        assert_eq!(idx.assign(2, &signature(b)).unwrap(), 1);
        assert_eq!(idx.assign(3, &signature(c)).unwrap(), 3);
        assert!(signature(a).iter().all(|band| *band != 0));
    }

    #[test]
    fn signature_matches_the_plain_computation() {
        let texts = [
            BODY,
            "",
            "a b",
            "one two three",
            "ÉTAT Islamique a revendiqué l'attaque à Ménaka — ΟΔΟΣ ΣΟΦΟΣ, İstanbul; ﬁghters",
            "al-Shabaab fighters, 12 killed; Deir ez-Zor\n\nMaiduguri   (AFP)",
        ];
        for text in texts {
            assert_eq!(signature(text), reference_signature(text), "{text:?}");
        }
        let paragraphs = ["First paragraph, with words.", "Second one here", "third"];
        assert_eq!(
            signature_of_parts(paragraphs),
            reference_signature(&paragraphs.join("\n"))
        );
    }

    proptest::proptest! {
        #[test]
        fn ascii_and_mixed_texts_hash_like_the_plain_computation(
            parts in proptest::collection::vec("[ -~\t\n]{0,120}|[a-zé ΣΟ,.]{0,40}", 1..5)
        ) {
            let joined = parts.join("\n");
            proptest::prop_assert_eq!(
                signature_of_parts(parts.iter().map(String::as_str)),
                reference_signature(&joined)
            );
        }
    }

    /// The first `StoryIndex`: a `HashMap` from (band, hash) to slots.
    /// The compact one must choose exactly the same stories.
    #[derive(Default)]
    struct ReferenceIndex {
        buckets: std::collections::HashMap<(u8, u32), Vec<usize>>,
        members: Vec<StoryRecord>,
    }

    impl ReferenceIndex {
        fn assign(&mut self, key: u64, bands: &Signature) -> u64 {
            let mut shared: std::collections::HashMap<usize, usize> = Default::default();
            if bands.iter().any(|b| *b != 0) {
                for (b, band) in bands.iter().enumerate() {
                    for slot in self.buckets.get(&(b as u8, *band)).into_iter().flatten() {
                        *shared.entry(*slot).or_default() += 1;
                    }
                }
            }
            let story = shared
                .into_iter()
                .filter(|(_, n)| *n >= MIN_SHARED_BANDS)
                .max_by_key(|(slot, n)| (*n, std::cmp::Reverse(*slot)))
                .map_or(key, |(slot, _)| self.members[slot].story);
            let slot = self.members.len();
            for (b, band) in bands.iter().enumerate() {
                self.buckets.entry((b as u8, *band)).or_default().push(slot);
            }
            self.members.push(StoryRecord {
                story,
                bands: *bands,
            });
            story
        }
    }

    #[test]
    fn compact_index_assigns_like_the_reference() {
        // Random signatures and edited copies of earlier ones (0 to 12 of
        // the 16 bands changed), so both sides of MIN_SHARED_BANDS and
        // copies of copies occur; a few empty texts too (never copied: a
        // real signature is all zeros or has no zero band).
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state = mix(state);
            state
        };
        let mut seen: Vec<Signature> = Vec::new();
        let (mut compact, mut reference) = (StoryIndex::default(), ReferenceIndex::default());
        let scratch = tempfile::tempdir().unwrap();
        let mut mapped = StoryIndex::in_dir(scratch.path().join("stories")).unwrap();
        let mut joined = 0;
        for key in 0..20_000u64 {
            let mut bands: Signature = std::array::from_fn(|_| next() as u32);
            let roll = next() % 100;
            if roll < 2 {
                bands = [0; BANDS];
            } else if roll < 40 && !seen.is_empty() {
                bands = seen[(next() % seen.len() as u64) as usize];
                for _ in 0..next() % 13 {
                    bands[(next() % BANDS as u64) as usize] = next() as u32;
                }
            }
            if bands.iter().any(|b| *b != 0) {
                seen.push(bands);
            }
            let story = compact.assign(key, &bands).unwrap();
            assert_eq!(story, reference.assign(key, &bands), "article {key}");
            assert_eq!(story, mapped.assign(key, &bands).unwrap(), "article {key}");
            joined += usize::from(story != key);
        }
        assert_eq!(compact.len(), 20_000);
        assert!(joined > 3_000, "only {joined} copies joined a story");
        // One file per shard while in use (the grown-out ones are gone),
        // none once the index is dropped.
        let files = || {
            std::fs::read_dir(scratch.path().join("stories"))
                .unwrap()
                .count()
        };
        assert_eq!(files(), SHARDS);
        drop(mapped);
        assert_eq!(files(), 0);
    }

    #[test]
    fn empty_text_never_matches() {
        let mut idx = StoryIndex::default();
        assert_eq!(idx.assign(1, &signature("")).unwrap(), 1);
        assert_eq!(idx.assign(2, &signature("a b")).unwrap(), 2);
    }
}
