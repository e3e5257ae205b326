//! Hostile input: scraped corpora and anything users type. Nothing panics,
//! every problem is named, the rest is indexed.

use predicates::prelude::*;

use crate::util::{gzip, hit_ids, Dir};

const GOOD: &str =
    " date 2025-03-01 Gunmen attacked a checkpoint near Maiduguri on Friday, police said.\n";

/// Every kind of bad file a scrape produces, next to one good article.
fn hostile_corpus() -> Dir {
    let dir = Dir::new();
    dir.write("good.txt", GOOD);
    dir.write("empty.txt", "");
    dir.write("blank.txt", "  \n\n \n");
    dir.write("binary.txt", [0u8, 159, 146, 150, 0, 1, 2, 3]);
    // "Café" and a curly apostrophe in Windows-1252.
    dir.write(
        "latin1.txt",
        b" date 2025-03-02 Fighters stormed the Caf\xe9 Nour in Kidal\x92s market on Sunday.\n"
            .as_slice(),
    );
    dir.write(
        "nodate.txt",
        "Clashes erupted in Mogadishu overnight, residents said.\n",
    );
    dir.write(
        "baddate.txt",
        " date 2025-02-30 Shelling hit Kharkiv on Monday, the governor said.\n",
    );
    dir.write(
        "feed.jsonl",
        concat!(
            r#"{"id":"ok","published":"2025-03-03","body":"A convoy was ambushed near Gao on Monday."}"#,
            "\n{\"id\": \"broken\", \"body\": \n",
            r#"{"id":"nobody","published":"2025-03-03"}"#,
            "\n",
            r#"{"id":"weird-date","published":"yesterday","body":"Drone strikes hit Hodeidah port."}"#,
            "\n"
        ),
    );
    dir.write("allbad.jsonl", "{not json\n[also not\n");
    dir.write("broken.txt.gz", b"this is not gzip data".as_slice());
    dir.write(
        "ok.txt.gz",
        gzip(GOOD.replace("Friday", "Saturday").as_bytes()),
    );
    // One 3 MiB line: truncated to the article cap, never held twice.
    let huge = format!(
        " date 2025-03-04 {}\n",
        "Militants attacked the village again. ".repeat(80_000)
    );
    dir.write("huge.txt", huge);
    dir.write(
        "scripts.txt",
        " date 2025-03-05 Reports in Arabic (هجوم على نقطة تفتيش), Russian (обстрел Харькова) \
and Burmese (တိုက်ပွဲ) described attacks near Myawaddy on Tuesday.\n",
    );
    dir
}

#[test]
fn every_bad_file_is_skipped_or_read_with_a_named_fallback() {
    let dir = hostile_corpus();
    let summary = dir.index_json(&[]);
    let skipped: Vec<(String, String)> = summary["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let skipped_paths: Vec<&str> = skipped.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        skipped_paths,
        [
            "allbad.jsonl",
            "binary.txt",
            "blank.txt",
            "broken.txt.gz",
            "empty.txt"
        ],
        "{skipped:#?}"
    );
    let reason = |p: &str| {
        skipped
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, r)| r.clone())
            .unwrap()
    };
    assert!(reason("empty.txt").contains("empty"));
    assert!(reason("binary.txt").contains("binary"));
    assert!(reason("broken.txt.gz").contains("gzip"));
    assert!(reason("allbad.jsonl").contains("JSON"));

    let warnings = summary["warnings"].to_string();
    for expected in [
        "latin1.txt",
        "Windows-1252",
        "nodate.txt",
        "baddate.txt",
        "feed.jsonl:2",
        "feed.jsonl:3",
        "feed.jsonl:4",
        "huge.txt",
        "truncated",
    ] {
        assert!(
            warnings.contains(expected),
            "warnings lack {expected}: {warnings}"
        );
    }
    // good, latin1, nodate, baddate, feed (ok + weird-date), ok.gz, huge, scripts
    assert_eq!(summary["articles"], 9, "{summary:#}");
    assert_eq!(summary["files_seen"], 13);
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 5);

    // The fallback decoded text is searchable as written.
    assert_eq!(hit_ids(&dir.search_json(&["Café"])), ["latin1.txt"]);
    assert_eq!(hit_ids(&dir.search_json(&["обстрел"])), ["scripts.txt"]);
    assert_eq!(
        hit_ids(&dir.search_json(&["Hodeidah"])),
        ["feed.jsonl#weird-date"]
    );
}

#[test]
fn strict_turns_skips_into_a_failure_that_changes_nothing() {
    let dir = hostile_corpus();
    dir.cmd(&["index", dir.corpus().to_str().unwrap(), "--strict"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("skipped under --strict"));
    assert!(!dir.index().join("CURRENT").exists(), "nothing published");
    // Without --strict the same run publishes; a scheduler that wants to
    // see "success with skipped files" asks for its own exit code.
    let corpus = dir.corpus();
    let corpus = corpus.to_str().unwrap();
    dir.cmd(&["index", corpus, "--skipped-exit", "4"])
        .assert()
        .code(4);
    assert!(dir.index().join("CURRENT").exists(), "published");
    dir.cmd(&["search", "", "--limit", "1"]).assert().success();
    // Nothing skipped, nothing changed: a plain 0 even with the flag.
    let clean = Dir::new();
    clean.write("a.txt", GOOD);
    let clean_corpus = clean.corpus();
    clean
        .cmd(&[
            "index",
            clean_corpus.to_str().unwrap(),
            "--skipped-exit",
            "4",
        ])
        .assert()
        .code(0);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_not_followed_forever() {
    let dir = Dir::new();
    dir.write("a/report.txt", GOOD);
    std::os::unix::fs::symlink(dir.corpus().join("a"), dir.corpus().join("a/loop")).unwrap();
    let summary = dir.index_json(&["--follow-links"]);
    assert_eq!(summary["articles"], 1, "{summary:#}");
    let skipped = summary["skipped"].to_string();
    assert!(skipped.contains("symlink loop"), "{skipped}");
    // Without --follow-links the link is not even looked at.
    let dir2 = Dir::new();
    dir2.write("a/report.txt", GOOD);
    std::os::unix::fs::symlink(dir2.corpus().join("a"), dir2.corpus().join("a/loop")).unwrap();
    let summary = dir2.index_json(&[]);
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 0);
}

#[test]
fn bad_queries_get_one_line_errors_that_point_at_the_problem() {
    let dir = Dir::new();
    dir.write("good.txt", GOOD);
    dir.index_json(&[]);
    let long = "raid ".repeat(20_000);
    let cases: [(&[&str], &str); 9] = [
        (&["\"suicide bombing"], "unbalanced double quote"),
        (&["(raid OR ambush"], "unclosed `(`"),
        (&["raid)"], "unmatched `)`"),
        (&["raid AND"], "`AND` needs a term"),
        (&["nosuchfield:raid"], "nosuchfield"),
        (&["raid", "--from", "2025-02-30"], "no day 30"),
        (
            &["raid", "--from", "2025-09-01", "--to", "2025-08-01"],
            "after --to",
        ),
        (&["raid\u{7}"], "control character"),
        (&[long.as_str()], "limit is"),
    ];
    for (args, expected) in cases {
        let mut full = vec!["search"];
        full.extend_from_slice(args);
        let out = dir.cmd(&full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // An empty query with no filters lists passages, newest first.
    dir.cmd(&["search", ""]).assert().success();
}

#[test]
fn damaged_indexes_give_a_clear_error_and_check_finds_them() {
    let dir = Dir::new();
    dir.write("good.txt", GOOD);
    dir.index_json(&[]);
    dir.cmd(&["check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));

    let generation = std::fs::read_dir(dir.index())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("gen-"))
        .unwrap();
    let mut flipped = false;
    for entry in std::fs::read_dir(&generation)
        .unwrap()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_string())
            .unwrap_or_default();
        if ["store", "idx", "term"].contains(&ext.as_str()) {
            let mut bytes = std::fs::read(&path).unwrap();
            let len = bytes.len();
            for b in &mut bytes[len / 4..len * 3 / 4] {
                *b ^= 0xA5;
            }
            std::fs::write(&path, bytes).unwrap();
            flipped = true;
        }
    }
    assert!(flipped);
    for cmd in [&["search", "checkpoint"][..], &["check"][..]] {
        let out = dir.cmd(cmd).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {stdout} {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("--full") || stdout.contains("--full"),
            "{cmd:?} says how to recover: {stdout} {stderr}"
        );
    }
}

#[test]
fn indexes_that_are_missing_empty_or_foreign_are_named() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.index()).unwrap();
    dir.cmd(&["search", "raid"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no frontline index"));
    std::fs::write(dir.index().join("meta.json"), "{}").unwrap();
    dir.cmd(&["stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("frontline index"));
}
