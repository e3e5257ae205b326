//! The query path: query text, filter names and date strings as a user
//! gives them, against a small real index built once.
//!
//! Input layout: the bytes (lossily decoded) split at `\u{1}`; field 0 is
//! the query text, then province, group, country, `--from`, `--to`
//! strings; empty fields are left out. The first byte's bits pick sort,
//! date field, exact and all-copies.
#![no_main]

use std::sync::OnceLock;

use frontline::dates::parse_user_date;
use frontline::search::{DateField, Sort};
use frontline::{BuildOptions, Index, Query};
use libfuzzer_sys::fuzz_target;

const ARTICLES: &[(&str, &str)] = &[
    (
        "syria/raid.txt",
        " date 2025-08-21 Gunmen of the Islamic State attacked a checkpoint \
         in Idlib province on Wednesday, killing three soldiers.\n\n\
         The army said it had sent reinforcements to the town of Saraqib.\n",
    ),
    (
        "somalia/ambush.txt",
        " date 2025-03-04 Al-Shabaab fighters ambushed a convoy near \
         Mogadishu yesterday, officials said.\n\n\
         \"We lost two vehicles,\" a commander told reporters by phone.\n",
    ),
    (
        "mali/wire.jsonl",
        "{\"id\": \"x1\", \"title\": \"Drone strike in Mopti\", \
         \"published\": \"2024-12-30T10:00:00Z\", \"body\": \
         \"A drone strike hit a market in the Mopti region on Monday.\\n\\nResidents fled.\"}\n",
    ),
];

fn index() -> &'static Index {
    static INDEX: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let corpus = dir.path().join("corpus");
            for (path, text) in ARTICLES {
                let path = corpus.join(path);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(path, text).expect("write");
            }
            let mut opts = BuildOptions::new(&corpus, dir.path().join("index"));
            opts.threads = Some(1);
            opts.memory_budget = 20 << 20;
            Index::build(&opts).expect("build");
            let index = Index::open(dir.path().join("index")).expect("open");
            (dir, index)
        })
        .1
}

fuzz_target!(
    // Build the index (and load the gazetteer) before the first input, so
    // that one-off cost is not reported as a slow unit.
    init: {
        let _ = index().gazetteer().expect("gazetteer");
    },
    |data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('\u{1}');
    let mut q = Query::new(parts.next().unwrap_or(""))
        .sort(if flags & 1 != 0 {
            Sort::Date
        } else {
            Sort::Relevance
        })
        .date_field(if flags & 2 != 0 {
            DateField::Published
        } else {
            DateField::Event
        })
        .exact(flags & 4 != 0)
        .all_copies(flags & 8 != 0)
        .limit(usize::from(flags >> 4))
        .offset(usize::from(flags >> 6));
    let fields: Vec<&str> = parts.collect();
    let get = |i: usize| fields.get(i).copied().filter(|s| !s.is_empty());
    if let Some(p) = get(0) {
        q = q.province(p);
    }
    if let Some(g) = get(1) {
        q = q.group(g);
    }
    if let Some(c) = get(2) {
        q = q.country(c);
    }
    for (i, is_from) in [(3, true), (4, false)] {
        let Some(s) = get(i) else { continue };
        match parse_user_date(s) {
            Ok(d) if is_from => q = q.from(d),
            Ok(d) => q = q.to(d),
            Err(e) => assert!(!e.contains('\n') || s.contains('\n'), "{e}"),
        }
    }
    match index().search(&q) {
        Ok(results) => {
            assert!(results.hits.len() <= q_limit(flags));
            for hit in &results.hits {
                for [start, end] in &hit.highlights {
                    assert!(start < end && *end <= hit.text.len());
                    assert!(hit.text.is_char_boundary(*start) && hit.text.is_char_boundary(*end));
                }
            }
        }
        Err(e) => {
            // The CLI prints errors on one line.
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains('\n'), "{msg}");
        }
    }
});

fn q_limit(flags: u8) -> usize {
    usize::from(flags >> 4)
}
