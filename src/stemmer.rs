//! An English stemmer that remembers its answers.
//!
//! Snowball stemming is the costliest step of tantivy's analysis: about a
//! sixth of frontline's whole indexing CPU went to tantivy's `Stemmer`
//! (see `docs/benchmarks.md`, "Stemming with a memo"). News text draws
//! most of its tokens from a few thousand words, so [`CachedStemmer`]
//! stems each distinct word once per analyzer and looks the rest up. Its
//! output is exactly tantivy's `Stemmer::new(Language::English)` (the same
//! `frostem` algorithm); only the time differs.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// How many distinct words one analyzer remembers before it starts over.
/// At about 60 bytes an entry this is ~2 MiB per analyzer (tantivy keeps
/// one per indexing thread and field); news vocabularies put well over
/// 95 % of their tokens in the most frequent 32k words, so a rare restart
/// costs a few thousand stems.
const CAPACITY: usize = 1 << 15;

/// A [`TokenFilter`] that stems English words like tantivy's
/// `Stemmer::new(Language::English)`, with a memo of the words it has seen.
///
/// Tokens are expected to be lower-cased beforehand, as for tantivy's
/// stemmer.
///
/// ```
/// use frontline::stemmer::CachedStemmer;
/// use tantivy::tokenizer::{LowerCaser, SimpleTokenizer, TextAnalyzer};
///
/// let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
///     .filter(LowerCaser)
///     .filter(CachedStemmer::english())
///     .build();
/// let mut stream = analyzer.token_stream("Raids and raiding");
/// let mut words = Vec::new();
/// while let Some(token) = stream.next() {
///     words.push(token.text.clone());
/// }
/// assert_eq!(words, ["raid", "and", "raid"]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedStemmer;

impl CachedStemmer {
    /// The English stemmer (Snowball's `english`, as tantivy's
    /// `Language::English`).
    pub fn english() -> CachedStemmer {
        CachedStemmer
    }
}

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner: tokenizer,
            memo: Memo::default(),
        }
    }
}

/// The tokenizer [`CachedStemmer`] wraps around the one before it.
pub struct CachedStemmerFilter<T> {
    inner: T,
    memo: Memo,
}

impl<T: Clone> Clone for CachedStemmerFilter<T> {
    /// A clone serves another thread or segment: it starts with an empty
    /// memo rather than copying up to 32k entries (`CAPACITY`).
    fn clone(&self) -> Self {
        CachedStemmerFilter {
            inner: self.inner.clone(),
            memo: Memo::default(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            memo: &mut self.memo,
        }
    }
}

/// The token stream of [`CachedStemmerFilter`].
pub struct CachedStemmerStream<'a, T> {
    tail: T,
    memo: &'a mut Memo,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        self.memo.stem_in_place(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Word → stem, `None` when the stem is the word itself (most words, and
/// no second allocation for them).
struct Memo {
    stemmer: frostem::Stemmer,
    stems: FxHashMap<Box<str>, Option<Box<str>>>,
}

impl Default for Memo {
    fn default() -> Memo {
        Memo {
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
            stems: FxHashMap::default(),
        }
    }
}

impl Memo {
    fn stem_in_place(&mut self, word: &mut String) {
        if let Some(stem) = self.stems.get(word.as_str()) {
            if let Some(stem) = stem {
                word.clear();
                word.push_str(stem);
            }
            return;
        }
        let stem = match self.stemmer.stem(word) {
            Cow::Borrowed(same) if same.len() == word.len() => None,
            other => Some(Box::<str>::from(other.as_ref())),
        };
        if self.stems.len() >= CAPACITY {
            self.stems.clear();
        }
        let key = Box::<str>::from(word.as_str());
        if let Some(stem) = &stem {
            word.clear();
            word.push_str(stem);
        }
        self.stems.insert(key, stem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::tests::tokens;
    use proptest::prelude::*;
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    fn pair() -> (TextAnalyzer, TextAnalyzer) {
        let cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(CachedStemmer::english())
            .build();
        let stock = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        (cached, stock)
    }

    #[test]
    fn memo_restarts_when_full_and_keeps_answering_the_same() {
        let mut memo = Memo::default();
        for i in 0..CAPACITY + 10 {
            let mut word = format!("raiding{i}");
            memo.stem_in_place(&mut word);
        }
        assert!(memo.stems.len() <= CAPACITY);
        for word in ["raiding", "raids", "killed", "the", "generalisations"] {
            let mut first = word.to_string();
            memo.stem_in_place(&mut first);
            let mut second = word.to_string();
            memo.stem_in_place(&mut second);
            let stock = frostem::Stemmer::new(frostem::Algorithm::English).stem(word);
            assert_eq!((first.as_str(), second.as_str()), (&*stock, &*stock));
        }
    }

    proptest! {
        /// Same tokens, offsets and positions as tantivy's own stemmer, on
        /// text whose words repeat (memo hits) and vary (misses), in one
        /// analyzer reused across texts as tantivy reuses it.
        #[test]
        fn same_tokens_as_tantivys_stemmer(
            texts in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        Just("raids".to_string()),
                        Just("killed".to_string()),
                        Just("generously".to_string()),
                        Just("Übergänge".to_string()),
                        "[a-zA-Zé]{1,12}",
                    ],
                    0..30,
                ),
                1..6,
            )
        ) {
            let (mut cached, mut stock) = pair();
            for words in texts {
                let text = words.join(" ");
                prop_assert_eq!(tokens(&mut cached, &text), tokens(&mut stock, &text));
            }
        }
    }
}
