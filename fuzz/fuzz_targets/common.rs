//! Shared by the parser targets: checks that hold for every parsed file,
//! and the tagging / passage steps the indexer runs on parsed articles.

use std::sync::OnceLock;

use frontline::corpus::{self, Format, SourceFile};
use frontline::passage::{split, SplitOptions};
use frontline::tagging::Tagger;
use frontline::Gazetteer;

/// The tagger, built on first use.
pub fn tagger() -> &'static Tagger<'static> {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    static TAGGER: OnceLock<Tagger<'static>> = OnceLock::new();
    TAGGER.get_or_init(|| {
        let g = GAZETTEER.get_or_init(|| Gazetteer::embedded().expect("embedded gazetteer"));
        Tagger::new(g).expect("tagger")
    })
}

/// Runs `bytes` through the indexer's per-file path (decode, parse, split,
/// tag) and checks the parser's promises.
pub fn check_file(bytes: &[u8], rel_path: &str, format: Format) {
    let file = SourceFile {
        path: rel_path.into(),
        rel_path: rel_path.into(),
        format,
        gzip: false,
        size: bytes.len() as u64,
    };
    let parsed = corpus::parse(&file, bytes);
    assert!(parsed.error.is_some() || !parsed.articles.is_empty());
    for skipped in parsed.error.iter().chain(&parsed.warnings) {
        assert!(
            !skipped.reason.contains('\n'),
            "multi-line reason: {skipped:?}"
        );
    }
    for article in &parsed.articles {
        assert!(!article.paragraphs.is_empty());
        for p in &article.paragraphs {
            assert!(!p.text.is_empty());
            assert_eq!(p.text, p.text.trim());
        }
        let passages = split(article, &SplitOptions::default());
        assert!(!passages.is_empty());
        for p in &passages {
            assert!(!p.text.is_empty());
            assert!(p.paragraph <= p.last_paragraph);
        }
        let tags = tagger().tag(article);
        for p in &passages {
            let _ = tags.passage_tags(p.paragraph, p.last_paragraph);
        }
    }
}
