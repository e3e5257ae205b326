//! The tantivy schema: one document per passage.
//!
//! `index-schema/schema.json` describes the same fields for people; a test
//! checks that the two agree. Bump [`SCHEMA_VERSION`] whenever a field, an
//! option or the tokenizer changes: an index records the version it was
//! built with and [`crate::Index::open`] refuses any other.
//!
//! ```
//! let (schema, fields) = frontline::schema::build_schema();
//! assert_eq!(schema.get_field_name(fields.text), "text");
//! ```

use tantivy::schema::{
    DateOptions, DateTimePrecision, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer};

use crate::stemmer::CachedStemmer;
use crate::tokenizer::WordTokenizer;

/// Version of the document layout and analysis chain. Indexes built with
/// another version must be rebuilt.
///
/// Version 2: per-article fields (`title`, `outlet`, `url`) are on the
/// article's first passage only, an article's passages are contiguous in
/// one segment (so the first passage is `doc - passage`), and values that
/// fast columns hold (ids, dates, ordinals, story, facets) are not stored.
///
/// Version 3: the article's facets (`province`, `mention`, `group`,
/// `country`) are on its first passage only, as the title is; search
/// filters and facet counts ([`crate::facets`]) read them there for every
/// passage of the article.
///
/// Version 4: the passage's own tags (`passage_province`, `passage_group`)
/// are raw keyword fields holding `Country/Province` and `Group` as hits
/// show them ([`own_tag_term`]), not facets: they are only ever matched
/// whole and shown, and a facet field also indexes every prefix of its
/// path (the root and the country) and fills a fast column, work nothing
/// read (about 30k instructions per article at indexing).
pub const SCHEMA_VERSION: u32 = 4;

/// Name under which [`text_analyzer`] is registered in every index.
pub const TEXT_TOKENIZER: &str = "frontline_en";

/// The field handles of the passage schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Article id (raw string): delete and collapse key.
    pub article_id: Field,
    /// Stable 64-bit hash of the article id, a fast field for counting
    /// distinct articles without touching the doc store.
    pub article_key: Field,
    /// Source file relative to the corpus root (raw string): incremental
    /// rebuilds delete a changed file's passages by this term.
    pub source_path: Field,
    /// Article title, tokenized and stored, on the article's first passage
    /// only (passage 0).
    pub title: Field,
    /// Passage text, tokenized with positions (phrases) and stored.
    pub text: Field,
    /// Ordinal of the source paragraph the passage starts at.
    pub paragraph: Field,
    /// Position of the passage within its article.
    pub passage: Field,
    /// Publication date.
    pub published: Field,
    /// Event date, falling back to the publication date.
    pub event_date: Field,
    /// Outlet name (raw string), on the first passage only.
    pub outlet: Field,
    /// Article URL (stored only), on the first passage only.
    pub url: Field,
    /// The article's event provinces, `/Country/Province`, on the article's first passage only
    /// (passage 0): the article's other passages inherit them from it.
    pub province: Field,
    /// Every province the article names, `/Country/Province`, on the article's first passage only
    /// (passage 0): the article's other passages inherit them from it.
    pub mention: Field,
    /// Provinces the passage names itself, `Country/Province` (one raw
    /// term each, see [`own_tag_term`]), stored.
    pub passage_province: Field,
    /// The article's groups, `/Canonical Name`, on the article's first passage only
    /// (passage 0): the article's other passages inherit them from it.
    pub group: Field,
    /// Groups the passage names itself, by canonical name (one raw term
    /// each, see [`own_tag_term`]), stored.
    pub passage_group: Field,
    /// The article's countries, `/Country`, on the article's first passage only
    /// (passage 0): the article's other passages inherit them from it.
    pub country: Field,
    /// Near-duplicate story id: copies of one wire story share it.
    pub story: Field,
    /// Stored only, on the article's first passage: the article id and
    /// tags as JSON ([`ArticleRecord`]), so that showing a hit needs no
    /// dictionary lookups in fast columns.
    pub article: Field,
}

/// What the `article` field stores (as JSON) on an article's first
/// passage. Facet values are written `Country/Province`, as [`Hit`]s show
/// them.
///
/// [`Hit`]: crate::Hit
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArticleRecord {
    /// The article id.
    pub id: String,
    /// Event provinces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provinces: Vec<String>,
    /// Provinces named only as background.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Armed groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Countries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
}

/// A facet as hits show it: `Country/Province`, `Group`.
pub fn facet_display(facet: &tantivy::schema::Facet) -> String {
    facet.encoded_str().replace('\u{0}', "/")
}

/// The term of a passage's own tag (`passage_province`, `passage_group`)
/// for `facet`: its [`facet_display`] form, one raw term.
///
/// ```
/// use tantivy::schema::Facet;
/// let (_, fields) = frontline::schema::build_schema();
/// let facet = Facet::from_path(["Syria", "Idlib"]);
/// let term = frontline::schema::own_tag_term(fields.passage_province, &facet);
/// assert_eq!(term.value().as_str(), Some("Syria/Idlib"));
/// ```
pub fn own_tag_term(field: Field, facet: &tantivy::schema::Facet) -> tantivy::Term {
    tantivy::Term::from_field_text(field, &facet_display(facet))
}

/// Builds the passage schema and returns it with its field handles.
pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_indexing = TextFieldIndexing::default()
        .set_tokenizer(TEXT_TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text_opts = TextOptions::default()
        .set_indexing_options(text_indexing)
        .set_stored();
    // Dates, ordinals, ids and facets are read from their fast columns
    // (`search::load_hit`): storing them too would repeat them in every
    // passage's stored document.
    let date_opts = DateOptions::from(tantivy::schema::INDEXED)
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let u64_fast = NumericOptions::default().set_fast();
    let facet = FacetOptions::default();
    let fields = Fields {
        article_id: b.add_text_field("article_id", STRING | FAST),
        article_key: b.add_u64_field("article_key", FAST),
        source_path: b.add_text_field("source_path", STRING),
        title: b.add_text_field("title", text_opts.clone()),
        text: b.add_text_field("text", text_opts),
        paragraph: b.add_u64_field("paragraph", u64_fast.clone()),
        // Indexed so that the number of articles (passage 0) is a doc freq.
        passage: b.add_u64_field("passage", u64_fast.clone().set_indexed()),
        published: b.add_date_field("published", date_opts.clone()),
        event_date: b.add_date_field("event_date", date_opts),
        outlet: b.add_text_field("outlet", STRING | STORED),
        url: b.add_text_field("url", STORED),
        province: b.add_facet_field("province", facet.clone()),
        mention: b.add_facet_field("mention", facet.clone()),
        // A passage's own tags are stored with it (usually none); the
        // article's tags are in `article` on its first passage.
        passage_province: b.add_text_field("passage_province", STRING | STORED),
        group: b.add_facet_field("group", facet.clone()),
        passage_group: b.add_text_field("passage_group", STRING | STORED),
        country: b.add_facet_field("country", facet),
        story: b.add_u64_field("story", u64_fast.set_indexed()),
        article: b.add_text_field("article", STORED),
    };
    (b.build(), fields)
}

/// Uncompressed size of a doc-store block.
pub const DOCSTORE_BLOCK_BYTES: usize = 64 * 1024;

/// How frontline creates a tantivy index: the document store compressed
/// with zstd (level 3) instead of tantivy's default LZ4, in 64 KiB blocks
/// instead of 16 KiB. Stored passage text is most of an index (its `.store`
/// files were 58 % of a 100k-article index with LZ4); zstd shrinks it by
/// about half for a few percent more indexing CPU, and the larger blocks
/// by another 12 % (10k corpus: 16.9 -> 14.9 MB) for about 1 % more
/// instructions per query (a hit's article and story copies tend to share
/// blocks). See docs/benchmarks.md, "Index size" and "Query cost and index
/// size (2026-11-30, session 4)".
///
/// ```
/// let settings = frontline::schema::index_settings();
/// assert!(matches!(
///     settings.docstore_compression,
///     tantivy::store::Compressor::Zstd(_)
/// ));
/// ```
pub fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(3),
        }),
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..tantivy::IndexSettings::default()
    }
}

/// The analysis chain for `title` and `text`: split on non-alphanumerics,
/// drop tokens over 40 bytes, lower-case, fold accents (`Idlib` = `İdlib`),
/// and stem English (`raids` = `raid`). Stemming buys recall on inflected
/// verbs and plurals, which analysts rely on; it was the costly step of
/// analysis, hence [`CachedStemmer`]: the same stems as tantivy's
/// `Stemmer::new(Language::English)`, each word stemmed once. The steps
/// before it are [`WordTokenizer`], tantivy's own four steps in one pass
/// over ASCII text.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(CachedStemmer::english())
        .build()
}

/// [`text_analyzer`] as stock tantivy would build it, with tantivy's own
/// `Stemmer`: the same tokens, more slowly. Benchmarks give it to bare
/// tantivy, so that the comparison is with what a tantivy user writes.
///
/// ```
/// use frontline::schema::{tantivy_text_analyzer, text_analyzer};
///
/// let text = "Raids on the Übergang camps";
/// let words = |mut a: tantivy::tokenizer::TextAnalyzer| {
///     let mut stream = a.token_stream(text);
///     let mut words = Vec::new();
///     while let Some(t) = stream.next() {
///         words.push(t.text.clone());
///     }
///     words
/// };
/// assert_eq!(words(text_analyzer()), words(tantivy_text_analyzer()));
/// ```
pub fn tantivy_text_analyzer() -> TextAnalyzer {
    crate::tokenizer::stock_chain()
        .filter(Stemmer::new(Language::English))
        .build()
}

/// [`text_analyzer`] without its stemmer: the words as the stemmer sees
/// them.
pub(crate) fn unstemmed_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(WordTokenizer::default())
}

/// The stemmer of [`text_analyzer`] alone, for one word at a time.
pub(crate) fn word_stemmer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy::tokenizer::RawTokenizer::default())
        .filter(CachedStemmer::english())
        .build()
}

/// Registers frontline's tokenizers on an index. tantivy does not persist
/// tokenizers, so this must run on every open, not only on creation.
pub fn register_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(TEXT_TOKENIZER, text_analyzer());
}

/// A tantivy date from Unix seconds, saturating at the bounds tantivy can
/// represent (i64 nanoseconds: 1677-09-21 to 2262-04-11), as tantivy's own
/// `DateTime::from_utc` does. `DateTime::from_timestamp_secs` multiplies
/// unchecked: a year-9999 date overflowed (a panic in debug builds, a
/// wrapped date in release).
pub(crate) fn tantivy_date_from_secs(secs: i64) -> tantivy::DateTime {
    tantivy::DateTime::from_timestamp_nanos(secs.saturating_mul(1_000_000_000))
}

/// A stable 64-bit key for an article id (first 8 bytes of its SHA-256):
/// stable across runs and Rust versions, unlike `DefaultHasher`.
pub fn article_key(article_id: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(article_id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_json_describes_every_field() {
        let (schema, _) = build_schema();
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../index-schema/schema.json"))
                .expect("schema.json is valid JSON");
        assert_eq!(doc["version"], SCHEMA_VERSION);
        let described: Vec<&str> = doc["fields"]
            .as_array()
            .expect("fields is an array")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        let actual: Vec<&str> = schema.fields().map(|(_, e)| e.name()).collect();
        assert_eq!(described, actual);
    }

    #[test]
    fn stems_keep_the_first_letter_and_never_grow() {
        // The highlighter stems only the words that pass this test.
        let mut unstemmed = unstemmed_analyzer();
        let mut full = text_analyzer();
        let text = "dying lying skies skis hoping news idly gently early only \
                    singly Yemeni yearly agreed feed Ilyas Ça çava naïve Éric \
                    ambushes ambushed bombings retreating fighters' militias";
        let mut words = Vec::new();
        let mut stream = unstemmed.token_stream(text);
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        let mut stems = Vec::new();
        let mut stream = full.token_stream(text);
        while stream.advance() {
            stems.push(stream.token().text.clone());
        }
        assert_eq!(words.len(), stems.len());
        for (word, stem) in words.iter().zip(&stems) {
            assert!(stem.len() <= word.len(), "{word} -> {stem}");
            assert_eq!(stem.chars().next(), word.chars().next(), "{word} -> {stem}");
        }
    }

    #[test]
    fn analyzer_folds_and_stems() {
        let mut a = text_analyzer();
        let mut out = Vec::new();
        let mut stream = a.token_stream("Raids near İdlib");
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        assert_eq!(out, ["raid", "near", "idlib"]);
    }
}
