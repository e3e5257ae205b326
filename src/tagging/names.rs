//! Finding gazetteer names in folded text.
//!
//! A name only ever tags as whole words ("Idlib", never the "ram" of
//! "program"), so instead of running an automaton over all ~280,000 names
//! across every byte of the text, the text is cut into words and only spans
//! that start and end on word boundaries are looked up in a hash table. At
//! each word the span grows a word at a time while it still begins some
//! name, and the longest span that is a name wins: the leftmost-longest
//! match at word granularity, among the names that the caller's check of
//! the text as written takes (a name it refuses hides nothing). Most words
//! begin no name and cost one bitset test; a span stops growing without a
//! probe when its slot says no longer name starts with it or when the
//! bitset (of every span) rejects the longer span. There is no automaton
//! to build.
//!
//! In an ASCII text the words need not even be folded: [`LowerStarts`]
//! finds the words that may start a name that the tagger keeps (written
//! with a capital or a digit, or a lower-case start such as `al`), and
//! [`NameTable::find_ascii`] folds only those and the words after them
//! while the span grows, finding what [`NameTable::find_all`] finds.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::gazetteer::{
    ascii_word_bits, ascii_word_end, fx_hash, next_bit, push_folded_ascii_gap,
    push_folded_ascii_word,
};

/// A table of folded names (see [`crate::gazetteer::fold`]), each with an id:
/// its position in the list it was built from.
///
/// The embedded gazetteer's table holds ~230,000 spans (~200,000 names,
/// ~140,000 first words, ~90,000 spans of two words or more), and the
/// look-ups are made cheap for the miss: a bitset of every span's hash
/// ([`SpanBits`], 256 KiB) rejects a word that starts no name, and a
/// longer span that no name starts with, before the table is probed, and
/// the table is keyed by the span's 64-bit hash, so a probe touches no
/// string. A hit is checked against a second, independent 32-bit hash of
/// the span kept in its slot ([`span_check`]), not against the name's
/// text: the names are not kept at all. Inside a build, where tantivy's
/// threads share the CPU caches, reading a name back was two more cache
/// misses per name found (its offset, then its bytes), misses that also
/// push tantivy's data out of the caches. A span of text that is not the
/// name is taken for it only if both its hashes equal the name's: odds of
/// about 2^-95 per look-up, where the table's own keys are already a
/// 64-bit hash (two spans of the gazetteer with equal 64-bit hashes, odds
/// ~1e-8 for the whole gazetteer, would make the later one unfindable).
///
/// The spans live in [`SpanSlots`], one 16-byte slot per span, where a probe
/// reads one cache line: inside indexing, tantivy's own tables push the
/// gazetteer out of the CPU caches, and a `HashMap` probe (control bytes,
/// then the bucket) cost two misses. Each slot also says whether a longer
/// name starts with its span, so that growing a span past a name that
/// begins no longer one costs no probe.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    /// Hash of every name and of every leading run of a name's words
    /// ("deir", "deir ez" for "deir ez zor") → the id of the name it is, or
    /// [`PREFIX`].
    spans: SpanSlots,
    /// How many names were added (ids are below it).
    names: usize,
    /// One bit per span: clear means that no name is or starts with that
    /// span (a single word: that no name starts with that word).
    span_bits: SpanBits,
    /// Folded words that may start a name when written in lower case
    /// (see [`NameTable::find_all`]); `None`: any word may.
    lower_starts: Option<Arc<FxHashSet<String>>>,
}

/// A [`NameTable`] being built, a name at a time (see [`NameTable::new`]).
#[derive(Debug)]
pub(crate) struct NameTableBuilder {
    table: NameTable,
    /// The hashes of every span added and of its first word: the span
    /// bitset is sized by their number, known only at the end.
    span_hashes: Vec<(u64, u64)>,
    /// Scratch: the word spans of the name being added.
    words: Vec<(usize, usize)>,
}

impl NameTableBuilder {
    /// A builder sized for about `names` names.
    pub fn with_capacity(names: usize) -> NameTableBuilder {
        NameTableBuilder {
            table: NameTable {
                // Names have ~1.2 spans each, most of them their own: the
                // table is sized for as many spans as names and grows if it
                // must (the embedded gazetteer's 229k spans fit the 512k
                // slots of its ~290k names' entries).
                spans: SpanSlots::with_capacity(names),
                ..NameTable::default()
            },
            span_hashes: Vec::with_capacity(names),
            words: Vec::new(),
        }
    }

    /// Adds `name` with the next id (its position in the order added) and
    /// returns that id. A name added twice keeps its first id in lookups.
    pub fn push(&mut self, name: &str) -> u32 {
        let key = trim_to_words(name);
        self.push_hashed(key, hash(key))
    }

    /// The id of `name` if it was added already (the same text once
    /// trimmed), or [`NameTableBuilder::push`]: one probe of the table the
    /// lookups use instead of a map of every name beside it. (Were two
    /// names' 64-bit hashes equal, the later could not be found in the
    /// table either way; it gets a new id at each addition then.)
    pub fn intern(&mut self, name: &str) -> u32 {
        let key = trim_to_words(name);
        let h = hash(key);
        match self.table.lookup_hashed(h, key.as_bytes()) {
            Some((id, _)) if id != PREFIX => id,
            _ => self.push_hashed(key, h),
        }
    }

    /// How many names were added.
    pub fn len(&self) -> usize {
        self.table.names
    }

    /// [`NameTableBuilder::push`] of a trimmed `key` whose hash is `h`.
    fn push_hashed(&mut self, key: &str, h: u64) -> u32 {
        let table = &mut self.table;
        let id = table.names as u32;
        table.names += 1;
        word_spans_into(key, &mut self.words);
        let (Some(&(_, first_end)), Some(&(_, last_end))) = (self.words.first(), self.words.last())
        else {
            return id;
        };
        let first = hash(&key[..first_end]);
        for &(_, end) in &self.words[..self.words.len() - 1] {
            let prefix = hash(&key[..end]);
            self.span_hashes.push((first, prefix));
            table
                .spans
                .insert(prefix, span_check(&key.as_bytes()[..end]), PREFIX, false);
        }
        // A name keeps the first id it was listed with, and replaces a
        // prefix of a longer name.
        let whole = if last_end == key.len() {
            h
        } else {
            hash(&key[..last_end])
        };
        self.span_hashes.push((first, whole));
        table
            .spans
            .insert(whole, span_check(&key.as_bytes()[..last_end]), id, true);
        id
    }

    /// The table, its span bitset sized by the number of spans and its slots
    /// by the spans it holds (the builder's were sized by an estimate of
    /// the names, often twice what they fill: half the slots means half the
    /// memory a probe's cache misses are spread over).
    pub fn build(self) -> NameTable {
        let mut table = self.table;
        table.spans = table.spans.compacted();
        table.span_bits = SpanBits::new(&self.span_hashes, table.spans.len);
        table
    }
}

/// The id of a span that begins names but is not one itself.
const PREFIX: u32 = u32::MAX;

/// A bitset of a table's spans, one bit per span, blocked by first word:
/// a span's bit is in the 512-bit line that its first word's hash picks,
/// at the place its own hash picks there.
///
/// Inside a build tantivy pushes the bitset out of the CPU caches, and a
/// test is then a cache miss; blocked this way, the test before growing a
/// span ("the monitors" after "the") reads the line that the test of its
/// first word has just read. A first word with many longer names ("el",
/// "al", "san") fills its line and lets more spans through to the table,
/// which only costs probes: in the 10k corpus the bitset stops 70 growth
/// steps per article, against 71 unblocked.
#[derive(Debug, Default)]
struct SpanBits {
    lines: Vec<Line>,
    /// `64 - log2(lines.len())`: a first word's line is its hash's top bits.
    shift: u32,
}

/// A cache line of bits.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Line([u64; 8]);

impl SpanBits {
    /// The bits of `spans` (first word's hash, span's hash; a span may be
    /// listed more than once), `distinct` of them, about 8 bits per span
    /// (~10 % set).
    fn new(spans: &[(u64, u64)], distinct: usize) -> SpanBits {
        let bits = (distinct * 8).next_power_of_two().max(1 << 10);
        let lines = bits / 512;
        let mut set = SpanBits {
            lines: vec![Line::default(); lines],
            shift: 64 - lines.trailing_zeros(),
        };
        for &(first, h) in spans {
            let (line, word, bit) = set.place(first, h);
            if let Some(w) = set.lines.get_mut(line).and_then(|l| l.0.get_mut(word)) {
                *w |= 1 << bit;
            }
        }
        set
    }

    /// The line, word of the line and bit of the word of a span.
    #[inline]
    fn place(&self, first: u64, h: u64) -> (usize, usize, u32) {
        // The shift is below 64 (there are at least two lines).
        let line = first.checked_shr(self.shift).unwrap_or(0) as usize;
        let at = (h & 511) as usize;
        (line, at / 64, (at % 64) as u32)
    }

    /// Whether a span whose hash is `h` and whose first word's hash is
    /// `first` (`h` itself for a word) may be in the table: false is
    /// certain.
    #[inline]
    fn may_hold(&self, first: u64, h: u64) -> bool {
        let (line, word, bit) = self.place(first, h);
        self.lines
            .get(line)
            .and_then(|l| l.0.get(word))
            .is_some_and(|w| w >> bit & 1 == 1)
    }
}

/// One name found in the text: byte span of the folded text, the indices
/// of its first and last words, and the name's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub start: usize,
    pub end: usize,
    pub first_word: usize,
    pub last_word: usize,
    pub id: u32,
}

impl NameTable {
    /// Builds the table; `names[i]` gets id `i`. Names are keyed from their
    /// first to their last letter or digit (a name can only match on word
    /// boundaries, so punctuation around it can never be part of a match).
    /// A name listed twice keeps its first id.
    pub fn new<S: AsRef<str>>(names: &[S]) -> NameTable {
        let mut builder = NameTableBuilder::with_capacity(names.len());
        for name in names {
            builder.push(name.as_ref());
        }
        builder.build()
    }

    /// The table where a word written in lower case may start a name only
    /// if `lower_starts` holds it (folded); see [`NameTable::find_all`].
    pub fn with_lower_starts(mut self, lower_starts: Arc<FxHashSet<String>>) -> NameTable {
        self.lower_starts = Some(lower_starts);
        self
    }

    /// Whether `word` (folded) may start a name when written in lower case.
    fn lower_may_start(&self, word: &str) -> bool {
        self.lower_starts
            .as_ref()
            .is_none_or(|set| set.contains(word))
    }

    /// Whether a span whose hash is `h` and whose first word's hash is
    /// `first` may be in the table (see [`SpanBits::may_hold`]).
    #[inline]
    fn may_be_span(&self, first: u64, h: u64) -> bool {
        self.span_bits.may_hold(first, h)
    }

    /// What `span` is: `None` (begins no name), `Some(PREFIX)` or a name id.
    fn lookup(&self, span: &str) -> Option<u32> {
        self.lookup_hashed(hash(span), span.as_bytes())
            .map(|(id, _)| id)
    }

    /// [`NameTable::lookup`] of a span whose hash is `h`, with whether a
    /// longer name starts with it (always so for a [`PREFIX`]).
    // Always inlined: it is find_ascii's inner loop, and whether the
    // compiler inlined it moved with unrelated edits elsewhere in the
    // crate (1 % of tag_ids' instructions).
    #[inline(always)]
    fn lookup_hashed(&self, h: u64, span: &[u8]) -> Option<(u32, bool)> {
        let slot = self.spans.get(h)?;
        // The check is hashed only when the 64-bit hash matched: on a hit.
        (slot.check() == span_check(span)).then(|| (slot.id, slot.longer()))
    }

    /// The id of a name given whole (already folded).
    pub fn get(&self, folded: &str) -> Option<u32> {
        self.lookup(trim_to_words(folded))
            .filter(|&id| id != PREFIX)
    }

    /// Every name in `folded`, whose words are `words` (byte spans of its
    /// runs of letters and digits) with hashes `hashes` (see
    /// [`hash_words`]; shared by the tables searched in the same text),
    /// left to right, without overlaps: at each word, the longest name
    /// starting there that `accept` takes; the search goes on after it. A
    /// word for which `written_lower(word index)` is true (it is written in
    /// lower case) starts a name only if it is one of the table's
    /// lower-case starts ([`NameTable::with_lower_starts`]): a cheap filter
    /// before the table.
    ///
    /// `accept` is the caller's check of a name as written (its case): a
    /// name it refuses is no match at all, so it hides neither a shorter
    /// name at the same word nor the names inside it ("the State of
    /// Palestine", a country's alias that only matches written with a
    /// capital, must not hide "State of Palestine").
    pub fn find_all(
        &self,
        folded: &str,
        words: &[(usize, usize)],
        hashes: &[u64],
        written_lower: impl Fn(usize) -> bool,
        accept: impl Fn(&Found) -> bool,
    ) -> Vec<Found> {
        let mut found = Vec::new();
        if self.names == 0 {
            return found;
        }
        let mut i = 0;
        while let Some(&(start, first_end)) = words.get(i) {
            // Most words start no name: the bitset answers before the word
            // is even sliced out of the text.
            let h = match hashes.get(i) {
                Some(&h) => h,
                None => hash(&folded[start..first_end]),
            };
            if !self.may_be_span(h, h)
                || (written_lower(i) && !self.lower_may_start(&folded[start..first_end]))
            {
                i += 1;
                continue;
            }
            // Grow the span a word at a time while it still begins a name,
            // pushing each name it is; the longest that `accept` takes is
            // kept.
            let here = found.len();
            for (j, &(_, end)) in words.iter().enumerate().skip(i) {
                match self.lookup(&folded[start..end]) {
                    None => break,
                    Some(PREFIX) => {}
                    Some(id) => found.push(Found {
                        start,
                        end,
                        first_word: i,
                        last_word: j,
                        id,
                    }),
                }
            }
            match longest_accepted(&mut found, here, &accept) {
                Some(hit) => i = hit.last_word + 1,
                None => i += 1,
            }
        }
        found
    }
}

/// A word of an ASCII paragraph that may start a name (see
/// [`LowerStarts::candidates`]): where it starts and ends in the text, how
/// many apostrophes inside it its fold drops, and the hash of its folded
/// form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub dropped: usize,
    pub hash: u64,
}

/// A name found in an ASCII text by [`NameTable::find_ascii`]: where it
/// starts and ends in the text (at its first and after its last letter or
/// digit), and the name's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FoundAt {
    pub start: usize,
    pub end: usize,
    pub id: u32,
}

/// The folded words that may start a name when written in lower case
/// (shared by the tables searched in the same text), with a filter on a
/// word's length and first eight bytes that rejects nearly every other
/// lower-case word before it is folded or hashed.
#[derive(Debug, Default)]
pub(crate) struct LowerStarts {
    set: Arc<FxHashSet<String>>,
    /// The words of `set`, as bytes (looked up without a UTF-8 check), with
    /// the hash the name tables key them by: a lower-case candidate costs
    /// one hash of its folded form, not two.
    hashes: FxHashMap<Box<[u8]>, u64>,
    /// One bit per [`sketch`] of a word: clear means no word of `set` has
    /// that sketch. The set has a few hundred words: a 64 Kibit filter
    /// passes a word or two in a hundred that is not in it.
    sketches: Vec<u64>,
}

/// The fold of the ASCII word `text[start..end]`, made of letters and
/// digits only (no apostrophe inside), as the first `end - start` bytes of
/// the result: sixteen bytes of the text lower-cased at once, which
/// [`push_folded_ascii_word`] would fold one at a time. Setting bit `0x20`
/// is exact on letters and digits: it turns a capital into its small
/// letter and leaves small letters and digits (`0x30..=0x39`) as they are.
/// `None` when the word is longer than sixteen bytes or fewer than sixteen
/// bytes of text are left from its start.
#[inline]
fn lower_alnum16(text: &[u8], start: usize, end: usize) -> Option<[u8; 16]> {
    const LOWER: u128 = u128::from_le_bytes([0x20; 16]);
    if end - start > 16 {
        return None;
    }
    let bytes: [u8; 16] = text.get(start..start + 16)?.try_into().ok()?;
    Some((u128::from_le_bytes(bytes) | LOWER).to_le_bytes())
}

/// [`push_folded_ascii_word`] of the word `text[start..end]`, which has
/// `dropped` apostrophes inside: sixteen bytes at once when it has none
/// ([`lower_alnum16`]).
#[inline]
fn push_folded_word(text: &[u8], start: usize, (end, dropped): (usize, usize), out: &mut Vec<u8>) {
    match lower_alnum16(text, start, end).filter(|_| dropped == 0) {
        Some(lowered) => out.extend_from_slice(lowered.get(..end - start).unwrap_or_default()),
        None => push_folded_ascii_word(text, start, end, out),
    }
}

/// Eight bytes with bit `0x20` set: or-ed with eight ASCII letters or
/// digits, their lower-case forms.
const LOWER8: u64 = u64::from_le_bytes([0x20; 8]);

/// The first eight bytes of `word` (all of it if shorter, zero-padded),
/// each with bit `0x20` set: for a folded word, or a word of letters and
/// digits in any case, its first eight folded bytes.
fn sketch_key(word: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    for (k, &b) in key.iter_mut().zip(word) {
        *k = b | 0x20;
    }
    u64::from_le_bytes(key)
}

/// A word's length and [`sketch_key`], mixed into 16 bits.
#[inline]
fn sketch(len: usize, key: u64) -> usize {
    ((key ^ (len as u64).rotate_right(8)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

impl LowerStarts {
    /// The filter for `set`.
    pub fn new(set: Arc<FxHashSet<String>>) -> LowerStarts {
        let mut sketches = vec![0u64; (1 << 16) / 64];
        for word in set.iter().map(|w| w.as_bytes()) {
            let bit = sketch(word.len(), sketch_key(word));
            sketches[bit / 64] |= 1 << (bit % 64);
        }
        let hashes = set
            .iter()
            .map(|w| (w.as_bytes().into(), fx_hash(w.as_bytes())))
            .collect();
        LowerStarts {
            set,
            hashes,
            sketches,
        }
    }

    /// Whether the word `text[start..end]`, made of letters and digits
    /// only, may be in the set once folded (a cheap test before the set).
    ///
    /// Eight bytes of the text from the word's start are read at once and
    /// cut to the word's length: the same key as [`sketch_key`] of the
    /// word, since or-ing bit `0x20` folds a letter or digit (a word too
    /// near the text's end takes the byte-by-byte way).
    #[inline]
    fn may_hold(&self, text: &[u8], start: usize, end: usize) -> bool {
        let len = end - start;
        let key = match text.get(start..).and_then(<[u8]>::first_chunk::<8>) {
            Some(&bytes) => {
                (u64::from_le_bytes(bytes) | LOWER8) & (u64::MAX >> (64 - 8 * len.min(8)))
            }
            None => sketch_key(text.get(start..end).unwrap_or_default()),
        };
        let bit = sketch(len, key);
        self.sketches
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    /// The set itself.
    pub fn set(&self) -> &Arc<FxHashSet<String>> {
        &self.set
    }

    /// Every word of the ASCII `text` that [`NameTable::find_all`] would
    /// look up with this set as its lower-case starts, in text order, into
    /// `out` (cleared first): words written with a capital or a digit first,
    /// and the lower-case words in the set. Most words of news text are
    /// lower-case and in no name, so they are stepped over without being
    /// folded or hashed. `buf` is scratch.
    ///
    /// The words are read off the bitset of letters and digits
    /// ([`ascii_word_bits`]) a 64-byte block at a time: a word starts at a
    /// set bit whose bit before is clear, and its run ends at the next clear
    /// bit, found in the same block unless the run reaches the block's end.
    /// This visits the same words as stepping from word end to word start
    /// with [`next_bit`]: every run start from the text's start, except the
    /// runs that an apostrophe joins to the word before ("rib" of "Ma'rib"),
    /// which start before the end of the word they are part of.
    pub fn candidates(
        &self,
        text: &[u8],
        out: &mut Vec<Candidate>,
        buf: &mut Vec<u8>,
        bits: &mut Vec<u64>,
    ) {
        out.clear();
        ascii_word_bits(text, bits);
        // Runs that start before this are inside the word before it.
        let mut resume = 0;
        // Whether the last byte of the block before is a letter or digit.
        let mut carry = 0;
        for (k, &block) in bits.iter().enumerate() {
            let mut starts = block & !(block << 1 | carry);
            carry = block >> 63;
            while starts != 0 {
                let at = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let start = k * 64 + at;
                if start < resume {
                    continue;
                }
                // The bits from the start on: the run is their trailing ones.
                let run = (!(block >> at)).trailing_zeros() as usize;
                let end = if at + run < 64 {
                    start + run
                } else {
                    next_bit(bits, start, text.len(), false)
                };
                // An apostrophe may go on with the word (rarely); the sketch
                // of a word with apostrophes inside would need its folded
                // form: such words go straight to the set.
                let apostrophe = matches!(text.get(end), Some(b'\'' | b'`'));
                let lower = text.get(start).is_some_and(u8::is_ascii_lowercase);
                if lower && !apostrophe && !self.may_hold(text, start, end) {
                    continue;
                }
                if apostrophe {
                    resume = self.push_candidate(
                        text,
                        start,
                        ascii_word_end(text, start),
                        lower,
                        out,
                        buf,
                    );
                } else {
                    self.push_candidate(text, start, (end, 0), lower, out, buf);
                }
            }
        }
    }

    /// Pushes the word `text[start..end]`, which has `dropped` apostrophes
    /// inside, to `out` if it is not `lower` case or is in the set, with
    /// the hash of its fold; returns `end`. `buf` is scratch.
    #[inline(never)]
    fn push_candidate(
        &self,
        text: &[u8],
        start: usize,
        (end, dropped): (usize, usize),
        lower: bool,
        out: &mut Vec<Candidate>,
        buf: &mut Vec<u8>,
    ) -> usize {
        let short = lower_alnum16(text, start, end).filter(|_| dropped == 0);
        let folded = match &short {
            Some(lowered) => lowered.get(..end - start).unwrap_or_default(),
            None => {
                buf.clear();
                push_folded_ascii_word(text, start, end, buf);
                buf.as_slice()
            }
        };
        let hash = if lower {
            match self.hashes.get(folded) {
                Some(&h) => h,
                None => return end,
            }
        } else {
            fx_hash(folded)
        };
        out.push(Candidate {
            start,
            end,
            dropped,
            hash,
        });
        end
    }
}

impl NameTable {
    /// Whether this table's lower-case starts are `starts` (or it holds no
    /// name): then [`NameTable::find_ascii`] over `starts`' candidates finds
    /// what [`NameTable::find_all`] finds.
    pub fn uses_lower_starts(&self, starts: &LowerStarts) -> bool {
        self.names == 0
            || self
                .lower_starts
                .as_ref()
                .is_some_and(|set| Arc::ptr_eq(set, starts.set()))
    }

    /// [`NameTable::find_all`] for an ASCII `text`, trying only the words
    /// that may start a name (`candidates`, from
    /// [`LowerStarts::candidates`] with this table's lower-case starts), and
    /// folding only the words of the spans it looks up: the same names, as
    /// offsets in `text`, into `found` (cleared first), `accept` checking
    /// each as [`NameTable::find_all`]'s does. `buf` is scratch.
    pub fn find_ascii(
        &self,
        text: &[u8],
        candidates: &[Candidate],
        buf: &mut Vec<u8>,
        found: &mut Vec<FoundAt>,
        accept: impl Fn(&FoundAt) -> bool,
    ) {
        found.clear();
        if self.names == 0 {
            return;
        }
        // Words up to here are inside the last name found.
        let mut resume = 0;
        for c in candidates {
            if c.start < resume || !self.may_be_span(c.hash, c.hash) {
                continue;
            }
            buf.clear();
            push_folded_word(text, c.start, (c.end, c.dropped), buf);
            let mut end = c.end;
            let mut hash = c.hash;
            // The names starting at this word go on `found` past `here`,
            // shortest first; the longest that `accept` takes is kept.
            let here = found.len();
            // The span grows only while a longer name may start with it:
            // the slot says whether one does, and the span bitset rejects
            // most longer spans ("the monitors" after "the") unprobed.
            // Both only skip probes that would have found nothing.
            while let Some((id, longer)) = self.lookup_hashed(hash, buf) {
                if id != PREFIX {
                    found.push(FoundAt {
                        start: c.start,
                        end,
                        id,
                    });
                }
                // What follows a span that no longer name starts with is
                // not even read.
                if !longer {
                    break;
                }
                let Some(word) = push_folded_ascii_gap(text, end, buf) else {
                    break;
                };
                let word_end = ascii_word_end(text, word);
                push_folded_word(text, word, word_end, buf);
                end = word_end.0;
                hash = fx_hash(buf);
                if !self.may_be_span(c.hash, hash) {
                    break;
                }
            }
            if let Some(hit) = longest_accepted(found, here, &accept) {
                resume = hit.end;
            }
        }
    }
}

/// Keeps, of the names past `here` in `found` (found at one word, shortest
/// first), the longest that `accept` takes, and drops the others; returns
/// it.
fn longest_accepted<T: Copy>(
    found: &mut Vec<T>,
    here: usize,
    accept: impl Fn(&T) -> bool,
) -> Option<T> {
    while found.len() > here {
        let hit = found.pop()?;
        if accept(&hit) {
            found.truncate(here);
            found.push(hit);
            return Some(hit);
        }
    }
    None
}

/// An open-addressing map from span hashes to ids: `(hash, id, check)`
/// slots at `hash & mask` or after it (linear probing, at most three
/// quarters full), four to a cache line, so that a probe reads one line
/// where a `HashMap` reads its control bytes and then its bucket.
#[derive(Debug, Default)]
struct SpanSlots {
    slots: Vec<Slot>,
    mask: usize,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    id: u32,
    /// The span's [`span_check`] (bits 1-31) and, in bit 0, whether a
    /// longer span of the table starts with this one (always so for a
    /// [`PREFIX`]; for a name, whether it also begins a longer one).
    check_longer: u32,
}

impl Slot {
    /// The span's [`span_check`].
    #[inline]
    fn check(&self) -> u32 {
        self.check_longer & !1
    }

    /// Whether a longer span of the table starts with this one.
    #[inline]
    fn longer(&self) -> bool {
        self.check_longer & 1 == 1
    }
}

/// A second hash of a span, independent of its 64-bit key ([`fx_hash`]):
/// a slot holds it so that a look-up is checked without the name's text
/// (see [`NameTable`]). Bit 0 is clear (the slot keeps a flag there).
#[inline]
fn span_check(span: &[u8]) -> u32 {
    use std::hash::BuildHasher;
    // A fixed seed: the same span gets the same check in every table and
    // every run. foldhash mixes differently from rustc-hash's FxHasher, so
    // two spans whose 64-bit keys collide have unrelated checks.
    const STATE: foldhash::fast::FixedState =
        foldhash::fast::FixedState::with_seed(0x6672_6f6e_746c_696e);
    (STATE.hash_one(span) >> 32) as u32 & !1
}

/// The id of an empty slot (no table holds four billion names).
const EMPTY: u32 = u32::MAX - 1;

impl SpanSlots {
    /// How many slots hold `spans` spans at most three quarters full.
    fn slots_for(spans: usize) -> usize {
        (spans * 4 / 3 + 1).next_power_of_two().max(16)
    }

    fn with_capacity(spans: usize) -> SpanSlots {
        let len = SpanSlots::slots_for(spans);
        SpanSlots {
            slots: vec![
                Slot {
                    hash: 0,
                    id: EMPTY,
                    check_longer: 0,
                };
                len
            ],
            mask: len - 1,
            len: 0,
        }
    }

    /// `h`'s slot: where it is, or the empty slot where it would go.
    fn find(&self, h: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = h as usize & self.mask;
        loop {
            let slot = self.slots.get(i)?;
            if slot.id == EMPTY || slot.hash == h {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The slot of `h`, if the table holds it.
    #[inline]
    fn get(&self, h: u64) -> Option<&Slot> {
        let slot = self.slots.get(self.find(h)?)?;
        (slot.id != EMPTY).then_some(slot)
    }

    /// Adds `h` (a span whose [`span_check`] is `check`) with `id` if
    /// absent; if present, `id` replaces a [`PREFIX`] when `name` (a name
    /// keeps its first id and is not made a prefix, but is marked as the
    /// start of a longer span). A span whose hash equals another's but not
    /// its check is not added: it would never be found.
    fn insert(&mut self, h: u64, check: u32, id: u32, name: bool) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let Some(i) = self.find(h) else { return };
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if slot.id == EMPTY {
            *slot = Slot {
                hash: h,
                id,
                check_longer: check | u32::from(!name),
            };
            self.len += 1;
        } else if slot.check() != check {
            // Another span with this 64-bit hash came first.
        } else if name && slot.id == PREFIX {
            slot.id = id;
        } else if !name {
            slot.check_longer |= 1;
        }
    }

    fn grow(&mut self) {
        let spans = self.slots.len().max(12);
        self.rehash(spans);
    }

    /// The same spans in a table sized for them alone.
    fn compacted(mut self) -> SpanSlots {
        if SpanSlots::slots_for(self.len) < self.slots.len() {
            self.rehash(self.len);
        }
        self
    }

    /// Moves every span into a new table sized for `spans` spans.
    fn rehash(&mut self, spans: usize) {
        let old = std::mem::replace(self, SpanSlots::with_capacity(spans));
        for slot in old.slots.into_iter().filter(|s| s.id != EMPTY) {
            if let Some(i) = self.find(slot.hash) {
                self.slots[i] = slot;
                self.len += 1;
            }
        }
    }
}

/// The hash of each word of `folded` (`words` its byte spans) into `out`
/// (cleared first): what [`NameTable::find_all`] needs of the text.
pub(crate) fn hash_words(folded: &str, words: &[(usize, usize)], out: &mut Vec<u64>) {
    out.clear();
    out.extend(words.iter().map(|&(start, end)| hash(&folded[start..end])));
}

fn hash(span: &str) -> u64 {
    fx_hash(span.as_bytes())
}

/// `name` without the punctuation before its first and after its last
/// letter or digit.
pub(crate) fn trim_to_words(name: &str) -> &str {
    // Nearly every name starts and ends with an ASCII letter or digit.
    match (name.as_bytes().first(), name.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => name,
        _ => name.trim_matches(|c: char| !c.is_alphanumeric()),
    }
}

/// Byte spans of the maximal runs of letters and digits.
#[cfg(test)]
pub(crate) fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::with_capacity(text.len() / 5);
    word_spans_into(text, &mut spans);
    spans
}

/// `word_spans` into `spans` (cleared first).
fn word_spans_into(text: &str, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    // Byte by byte when it can be: every name is split once per table
    // build (for an ASCII char the two tests agree).
    if text.is_ascii() {
        runs_into(
            text.bytes()
                .enumerate()
                .map(|(i, b)| (i, b.is_ascii_alphanumeric())),
            text.len(),
            spans,
        );
    } else {
        runs_into(
            text.char_indices().map(|(i, c)| (i, c.is_alphanumeric())),
            text.len(),
            spans,
        );
    }
}

/// The spans of the maximal runs of `true` in `marks` (offset, is a word
/// char), the text being `len` bytes long.
fn runs_into(
    marks: impl Iterator<Item = (usize, bool)>,
    len: usize,
    spans: &mut Vec<(usize, usize)>,
) {
    let mut start = None;
    for (i, word) in marks {
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found<'a, 'b>(t: &NameTable, names: &[&'a str], text: &'b str) -> Vec<(&'a str, &'b str)> {
        let words = word_spans(text);
        let mut hashes = Vec::new();
        hash_words(text, &words, &mut hashes);
        t.find_all(text, &words, &hashes, |_| false, |_| true)
            .into_iter()
            .map(|f| (names[f.id as usize], &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn longest_name_at_a_word_wins_and_only_whole_words_match() {
        let names = [
            "deir ez zor",
            "deir",
            "idlib",
            "ram",
            "al hasakah",
            "kilinochchi (town)",
        ];
        let t = NameTable::new(&names);
        assert_eq!(
            found(
                &t,
                &names,
                "from deir ez zor, idlib and deir, not program or idlibs"
            ),
            [
                ("deir ez zor", "deir ez zor"),
                ("idlib", "idlib"),
                ("deir", "deir")
            ]
        );
        assert_eq!(
            found(&t, &names, "in al hasakah. near kilinochchi (town) x"),
            [
                ("al hasakah", "al hasakah"),
                ("kilinochchi (town)", "kilinochchi (town")
            ]
        );
        // A longer span is tried but missing: the shorter name still matches.
        assert_eq!(found(&t, &names, "deir ez"), [("deir", "deir")]);
        assert_eq!(t.get("idlib"), Some(2));
        assert_eq!(t.get("idl"), None);
    }

    /// Each span's slot says whether a longer name starts with it, as the
    /// names themselves say; every span is in the span bitset.
    #[test]
    fn slots_know_which_spans_longer_names_start_with() {
        let names = [
            "deir ez zor",
            "deir",
            "deir ez",
            "idlib",
            "al hasakah",
            "al",
            "the islamic state",
            "islamic state",
            "islamic state in iraq",
            "a b c d e",
        ];
        let t = NameTable::new(&names);
        let mut spans: Vec<String> = Vec::new();
        for name in names {
            let words: Vec<&str> = name.split(' ').collect();
            for k in 1..=words.len() {
                spans.push(words[..k].join(" "));
            }
        }
        for span in &spans {
            let longer = names
                .iter()
                .any(|n| n.len() > span.len() && n.starts_with(&format!("{span} ")));
            let h = hash(span);
            let first = hash(span.split(' ').next().unwrap());
            assert!(t.may_be_span(first, h), "{span}");
            let (id, flag) = t.lookup_hashed(h, span.as_bytes()).unwrap();
            assert_eq!(flag, longer, "{span}");
            assert_eq!(id == PREFIX, !names.contains(&span.as_str()), "{span}");
        }
        assert_eq!(
            t.lookup_hashed(hash("deir ez zor x"), b"deir ez zor x"),
            None
        );
    }

    /// A look-up is checked by the span's second hash: a span of other
    /// text whose 64-bit key equals a name's is not that name.
    /// A name that the caller's check refuses is no match: the scan takes
    /// the longest name it accepts at the same word, or none, and then
    /// looks at the words inside the refused one.
    #[test]
    fn a_refused_name_hides_neither_a_shorter_one_nor_the_names_inside_it() {
        let names = [
            "the state of palestine",
            "the state",
            "state of palestine",
            "palestine",
            "gaza",
            "gaza city",
        ];
        let t = NameTable::new(&names);
        let text = "in the state of palestine gaza city";
        let words = word_spans(text);
        let mut hashes = Vec::new();
        hash_words(text, &words, &mut hashes);
        // Refuses the names that start with "the", and "gaza city".
        let accept = |f: &Found| {
            let written = &text[f.start..f.end];
            !written.starts_with("the") && written != "gaza city"
        };
        let got: Vec<&str> = t
            .find_all(text, &words, &hashes, |_| false, accept)
            .into_iter()
            .map(|f| names[f.id as usize])
            .collect();
        assert_eq!(got, ["state of palestine", "gaza"]);
    }

    #[test]
    fn a_span_with_a_names_key_but_other_text_is_not_found() {
        let names = ["idlib", "deir ez zor"];
        let t = NameTable::new(&names);
        assert_eq!(t.lookup_hashed(hash("idlib"), b"idlib"), Some((0, false)));
        assert_eq!(t.lookup_hashed(hash("idlib"), b"idleb"), None);
        assert_eq!(
            t.lookup_hashed(hash("deir ez"), b"deir ez"),
            Some((PREFIX, true))
        );
        assert_eq!(t.lookup_hashed(hash("deir ez"), b"deir al"), None);
        assert_ne!(span_check(b"idlib"), span_check(b"idleb"));
        assert_eq!(span_check(b"idlib") & 1, 0);
    }

    #[test]
    fn names_without_letters_and_empty_texts_match_nothing() {
        let names = ["--", "ab"];
        let t = NameTable::new(&names);
        assert!(found(&t, &names, "").is_empty());
        assert!(found(&t, &names, "-- -- --").is_empty());
        assert_eq!(found(&t, &names, "-- ab --"), [("ab", "ab")]);
    }

    proptest::proptest! {
        /// The two fast paths of the candidate scan on one word of letters
        /// and digits anywhere in a text (near its end too, where fewer
        /// than eight or sixteen bytes are left): the sketch test passes
        /// every word of the set whatever the case of its letters, and the
        /// sixteen-byte fold is the byte-by-byte fold.
        #[test]
        fn word_fast_paths_agree_with_the_fold(
            before in "[ -~]{0,20}",
            word in "[a-zA-Z0-9]{1,20}",
            after in "[ -/:-@\\[-`{-~]{0,20}",
            others in proptest::collection::vec("[a-z0-9]{1,12}", 0..8),
        ) {
            let text = format!("{before} {word}{after}");
            let start = before.len() + 1;
            let end = start + word.len();
            let bytes = text.as_bytes();
            let mut folded = Vec::new();
            push_folded_ascii_word(bytes, start, end, &mut folded);
            if let Some(lowered) = lower_alnum16(bytes, start, end) {
                proptest::prop_assert_eq!(&lowered[..end - start], folded.as_slice());
            }
            let set: FxHashSet<String> = others
                .into_iter()
                .chain([String::from_utf8_lossy(&folded).into_owned()])
                .collect();
            let starts = LowerStarts::new(Arc::new(set));
            proptest::prop_assert!(starts.may_hold(bytes, start, end), "{:?}", text);
            proptest::prop_assert_eq!(
                starts.hashes.get(folded.as_slice()).copied(),
                Some(fx_hash(&folded))
            );
        }
    }
}
