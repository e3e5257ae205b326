//! The word tokenizer of frontline's text fields.
//!
//! Before stemming, frontline's analysis is stock tantivy: `SimpleTokenizer`,
//! then `RemoveLongFilter::limit(40)`, `AsciiFoldingFilter` and
//! `LowerCaser`. Each of those steps walks every token again (the
//! tokenizer char by char), and together they were about a twentieth of
//! indexing's instructions. On an ASCII text, nearly every passage of a
//! news corpus, the four steps reduce to: cut the bytes into runs of ASCII
//! letters and digits, skip runs of 40 bytes or more, lower-case the rest.
//! [`WordTokenizer`] does that in one pass and hands any other text to the
//! stock chain, so its tokens are the stock chain's exactly: text, offsets
//! and positions (a skipped long word still takes a position); a property
//! test checks this.

use tantivy::tokenizer::{
    AsciiFoldingFilter, BoxTokenStream, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    TextAnalyzer, TextAnalyzerBuilder, Token, TokenStream, Tokenizer,
};

/// Words of this many bytes or more are dropped, as by
/// `RemoveLongFilter::limit(40)`.
const MAX_WORD_BYTES: usize = 40;

/// tantivy's `SimpleTokenizer`, `RemoveLongFilter::limit(40)`,
/// `AsciiFoldingFilter` and `LowerCaser`, in one pass over ASCII text.
///
/// ```
/// use frontline::tokenizer::WordTokenizer;
/// use tantivy::tokenizer::TextAnalyzer;
///
/// let mut analyzer = TextAnalyzer::from(WordTokenizer::default());
/// let mut stream = analyzer.token_stream("RSF fighters shelled El-Fasher");
/// let mut words = Vec::new();
/// while let Some(token) = stream.next() {
///     words.push((token.text.clone(), token.position));
/// }
/// assert_eq!(
///     words,
///     [("rsf".into(), 0), ("fighters".into(), 1), ("shelled".into(), 2), ("el".into(), 3), ("fasher".into(), 4)]
/// );
/// ```
#[derive(Clone)]
pub struct WordTokenizer {
    token: Token,
    /// The stock chain, for text that is not all ASCII.
    stock: TextAnalyzer,
}

impl Default for WordTokenizer {
    fn default() -> WordTokenizer {
        WordTokenizer {
            token: Token::default(),
            stock: stock_chain().build(),
        }
    }
}

/// The steps [`WordTokenizer`] stands for, as tantivy builds them (the
/// benchmarks' bare tantivy uses them too).
pub(crate) fn stock_chain() -> TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(AsciiFoldingFilter)
        .filter(LowerCaser)
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        if text.is_ascii() {
            self.token.reset();
            WordStream::Ascii {
                bytes: text.as_bytes(),
                text,
                next: 0,
                token: &mut self.token,
            }
        } else {
            WordStream::Stock(self.stock.token_stream(text))
        }
    }
}

/// The token stream of [`WordTokenizer`].
pub enum WordStream<'a> {
    /// An ASCII text, cut here.
    Ascii {
        /// The text's bytes.
        bytes: &'a [u8],
        /// The same text.
        text: &'a str,
        /// Where the search for the next word starts.
        next: usize,
        /// The current token.
        token: &'a mut Token,
    },
    /// Any other text, through the stock chain.
    Stock(BoxTokenStream<'a>),
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        match self {
            WordStream::Stock(stream) => stream.advance(),
            WordStream::Ascii {
                bytes,
                text,
                next,
                token,
            } => advance_ascii(bytes, text, next, token),
        }
    }

    fn token(&self) -> &Token {
        match self {
            WordStream::Ascii { token, .. } => token,
            WordStream::Stock(stream) => stream.token(),
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        match self {
            WordStream::Ascii { token, .. } => token,
            WordStream::Stock(stream) => stream.token_mut(),
        }
    }
}

/// Whether a byte is an ASCII letter or digit, by table: the range checks
/// of `is_ascii_alphanumeric` cost twice as much per byte.
static IN_WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// The next kept word of `text` (`bytes`) from `next` into `token`.
fn advance_ascii(bytes: &[u8], text: &str, next: &mut usize, token: &mut Token) -> bool {
    loop {
        // As `SimpleTokenizer`: every word, kept or not, takes a position,
        // and so does the final, failed call.
        token.text.clear();
        token.position = token.position.wrapping_add(1);
        let Some(start) = bytes[*next..]
            .iter()
            .position(|&b| IN_WORD[usize::from(b)])
            .map(|k| *next + k)
        else {
            *next = bytes.len();
            return false;
        };
        let end = bytes[start..]
            .iter()
            .position(|&b| !IN_WORD[usize::from(b)])
            .map_or(bytes.len(), |k| start + k);
        *next = end;
        if end - start >= MAX_WORD_BYTES {
            continue;
        }
        token.offset_from = start;
        token.offset_to = end;
        token.text.push_str(&text[start..end]);
        token.text.make_ascii_lowercase();
        return true;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every token of `text`: its text, offsets and position (shared with
    /// the stemmer's tests).
    pub(crate) fn tokens(
        analyzer: &mut TextAnalyzer,
        text: &str,
    ) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    proptest! {
        #[test]
        fn tokens_are_the_stock_chains(
            texts in proptest::collection::vec(
                "([A-Za-z0-9]{0,45}[ ,.'\\-_\\n]{0,3}){0,12}|[a-zÉéßİΣ ,0-9]{0,30}",
                1..4,
            )
        ) {
            // One analyzer of each kind for all texts: a stream must not
            // inherit anything from the one before.
            let mut fast = TextAnalyzer::from(WordTokenizer::default());
            let mut stock = stock_chain().build();
            for text in &texts {
                prop_assert_eq!(tokens(&mut fast, text), tokens(&mut stock, text), "{:?}", text);
            }
        }
    }

    #[test]
    fn long_words_are_dropped_but_keep_their_position() {
        let long = "a".repeat(40);
        let text = format!("one {long} two {} three", "b".repeat(39));
        let mut fast = TextAnalyzer::from(WordTokenizer::default());
        let got = tokens(&mut fast, &text);
        let words: Vec<(&str, usize)> = got.iter().map(|t| (t.0.as_str(), t.3)).collect();
        assert_eq!(words[0], ("one", 0));
        assert_eq!(words[1], ("two", 2));
        assert_eq!(words[3], ("three", 4));
        assert_eq!(got, tokens(&mut stock_chain().build(), &text));
    }
}
