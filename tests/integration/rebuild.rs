//! Nightly rebuilds: incremental equals full, atomic switch-over, one
//! writer at a time, and crashes at any point leave a searchable index.

use std::process::Stdio;
use std::time::Duration;

use crate::util::{hit_ids, Dir};
use predicates::prelude::*;

fn report(n: usize, province: &str, group: &str) -> String {
    format!(
        " date 2025-0{}-1{} Fighters from {group} attacked a police post in {province} province on Monday, \
officials said, in the latest raid of its kind this month.\n\n\
Report number {n} said the attackers withdrew before dawn. Local elders called for more patrols on the roads.\n",
        1 + n % 8,
        n % 10
    )
}

fn corpus(dir: &Dir, n: usize) {
    let provinces = ["Idlib", "Borno", "Nineveh", "Anbar", "Marib"];
    let groups = [
        "Islamic State",
        "Boko Haram",
        "ISWAP",
        "Houthis",
        "al-Shabaab",
    ];
    for i in 0..n {
        dir.write(
            &format!("batch{}/report-{i:04}.txt", i % 3),
            report(i, provinces[i % 5], groups[i % 5]),
        );
    }
}

/// Every passage with its tags, in a stable order: the observable content.
fn snapshot(dir: &Dir) -> Vec<String> {
    let all = dir.search_json(&["", "--limit", "100000", "--all-copies"]);
    let mut rows: Vec<String> = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{} {} {} {} {} {}",
                h["article_id"],
                h["paragraph"],
                h["provinces"],
                h["groups"],
                h["event_date"],
                h["text"]
            )
        })
        .collect();
    rows.sort();
    rows
}

/// A generation built without tagging (a benchmark switch of the library)
/// holds untagged articles: the next run must not reuse them.
#[test]
fn a_run_after_an_untagged_build_rebuilds_everything() {
    let dir = Dir::new();
    corpus(&dir, 6);
    let mut opts = frontline::BuildOptions::new(dir.corpus(), dir.index());
    opts.tagging = false;
    let untagged = frontline::Index::build(&opts).unwrap();
    assert!(untagged.published);
    assert!(snapshot(&dir).iter().all(|row| row.contains(" [] [] ")));

    let next = dir.index_json(&[]);
    assert_eq!(next["mode"], "full", "{next:#}");
    assert_eq!(
        next["full_reason"],
        "the previous generation was built without tagging"
    );
    assert!(snapshot(&dir).iter().all(|row| !row.contains(" [] [] ")));
}

/// The live generation's manifest.
fn live_manifest(dir: &Dir) -> serde_json::Value {
    let current = std::fs::read_to_string(dir.index().join("CURRENT")).unwrap();
    let path = dir.index().join(current.trim()).join("manifest.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Story bands of another signature version never match new ones, so a
/// manifest from before the current version forces a full rebuild.
#[test]
fn older_story_signatures_force_a_full_rebuild() {
    let dir = Dir::new();
    corpus(&dir, 4);
    dir.index_json(&[]);
    let current = std::fs::read_to_string(dir.index().join("CURRENT")).unwrap();
    let path = dir.index().join(current.trim()).join("manifest.json");
    let mut manifest = live_manifest(&dir);
    assert_eq!(manifest["signature_version"], 2);
    manifest
        .as_object_mut()
        .unwrap()
        .remove("signature_version");
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    dir.write("batch0/late.txt", report(50, "Hasakah", "PKK"));
    let next = dir.index_json(&[]);
    assert_eq!(next["mode"], "full", "{next:#}");
    assert_eq!(next["full_reason"], "story signatures changed");
    assert_eq!(live_manifest(&dir)["signature_version"], 2);
}

#[test]
fn incremental_update_equals_full_rebuild() {
    let dir = Dir::new();
    corpus(&dir, 30);
    let first = dir.index_json(&[]);
    assert_eq!(first["mode"], "full");
    assert_eq!(first["added"], 30);

    dir.write(
        "batch0/new.txt",
        report(99, "Hasakah", "Syrian Democratic Forces"),
    );
    dir.write("batch1/report-0001.txt", report(77, "Kidal", "JNIM"));
    dir.remove("batch2/report-0002.txt");
    let second = dir.index_json(&[]);
    assert_eq!(second["mode"], "incremental", "{second:#}");
    assert_eq!(
        (
            second["added"].as_u64(),
            second["updated"].as_u64(),
            second["deleted"].as_u64(),
            second["unchanged"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(28)),
        "{second:#}"
    );
    let incremental = snapshot(&dir);
    let incremental_files = files_without_stamps(&dir);
    assert_eq!(incremental_files.as_object().unwrap().len(), 30);

    let full = dir.index_json(&["--full"]);
    assert_eq!(full["mode"], "full");
    assert_eq!(full["full_reason"], "--full requested");
    assert_eq!(snapshot(&dir), incremental);
    assert_eq!(files_without_stamps(&dir), incremental_files);
    assert_eq!(
        hit_ids(&dir.search_json(&["Kidal"])),
        ["batch1/report-0001.txt"]
    );
    assert_eq!(
        dir.search_json(&["\"Report number 2 said\""])["total_hits"],
        0
    );
}

/// Issue 6: an incremental run joins the sorted walk with the previous
/// manifest read from disk. Files and directories whose names interleave
/// in path order (`batch0.txt` < `batch0/…` < `batch0b.txt`), new, changed,
/// unchanged, removed and broken files all get what a lookup in the whole
/// manifest gave them, and the result equals a full rebuild.
#[test]
fn incremental_run_streams_the_previous_manifest() {
    let dir = Dir::new();
    corpus(&dir, 12);
    dir.write("batch0.txt", report(40, "Kidal", "JNIM"));
    dir.write("batch0b.txt", report(41, "Mopti", "JNIM"));
    dir.write("batch1/deep/x.txt", report(42, "Anbar", "Islamic State"));
    dir.write("zz/last.txt", report(43, "Marib", "Houthis"));
    let wire = |title: &str| {
        format!(
            r#"{{"id": "w-1", "title": "{title}", "published": "2025-07-02",
            "body": "Gunmen attacked a checkpoint in Kandahar province on Tuesday, officials said."}}"#
        )
    };
    dir.write("batch2/wire.json", wire("Checkpoint attacked"));
    let first = dir.index_json(&[]);
    assert_eq!(first["added"], 17, "{first:#}");

    dir.write("batch0.txt", report(50, "Hasakah", "PKK"));
    dir.write(
        "batch0/report-0003.5.txt",
        report(51, "Borno", "Boko Haram"),
    );
    dir.write("batch1.txt", report(52, "Nineveh", "Islamic State"));
    dir.remove("batch0b.txt");
    dir.remove("batch1/deep/x.txt");
    dir.remove("zz/last.txt");
    dir.write("batch2/broken.json", "{\"title\": ");
    dir.write("batch2/wire.json", "[{\"title\": ");
    let second = dir.index_json(&[]);
    assert_eq!(second["mode"], "incremental", "{second:#}");
    let counts = ["added", "updated", "deleted", "unchanged"].map(|k| second[k].as_u64());
    assert_eq!(counts, [Some(2), Some(1), Some(3), Some(12)], "{second:#}");
    let skipped = second["skipped"].to_string();
    assert!(skipped.contains("batch2/broken.json"), "{second:#}");
    assert!(
        skipped.contains("batch2/wire.json")
            && skipped.contains("kept the previously indexed version"),
        "{second:#}"
    );
    assert_eq!(second["total_articles"], 16, "{second:#}");
    assert_eq!(hit_ids(&dir.search_json(&["Mopti"])), Vec::<String>::new());
    assert_eq!(hit_ids(&dir.search_json(&["Hasakah"])), ["batch0.txt"]);
    assert_eq!(dir.search_json(&["Kandahar"])["total_hits"], 1);

    // Without the kept file, the incremental index is a full rebuild's.
    dir.remove("batch2/wire.json");
    let third = dir.index_json(&[]);
    assert_eq!(third["deleted"], 1, "{third:#}");
    let incremental = snapshot(&dir);
    let files = files_without_story_ids(&dir);
    let full = dir.index_json(&["--full"]);
    assert_eq!(full["total_articles"], third["total_articles"]);
    assert_eq!(snapshot(&dir), incremental);
    // Story ids are the first member's key, and the first member of a
    // story can be a file this test removed: a rebuild names it anew.
    assert_eq!(files_without_story_ids(&dir), files);
}

/// The live generation's file records, read with the library (a manifest
/// writes them compactly, in base64).
fn live_records(
    dir: &Dir,
) -> std::collections::BTreeMap<String, frontline::generation::FileRecord> {
    let store = frontline::generation::Store::new(dir.index());
    store
        .manifest(store.current().unwrap().unwrap())
        .unwrap()
        .files
}

/// The live manifest's file list as JSON, without the files' stamps (when
/// a file was read and whether it had been left alone long enough before,
/// not what it holds), and without story ids unless `story_ids`.
fn files_json(dir: &Dir, story_ids: bool) -> serde_json::Value {
    let files: serde_json::Map<String, serde_json::Value> = live_records(dir)
        .iter()
        .map(|(path, record)| {
            let stories: Vec<_> = record
                .stories
                .iter()
                .map(|s| match story_ids {
                    true => serde_json::json!({"story": s.story, "bands": s.bands.to_vec()}),
                    false => serde_json::json!({"bands": s.bands.to_vec()}),
                })
                .collect();
            let record = serde_json::json!({
                "hash": record.hash.to_string(),
                "articles": record.articles,
                "passages": record.passages,
                "stories": stories,
            });
            (path.clone(), record)
        })
        .collect();
    serde_json::Value::Object(files)
}

/// The live manifest's file list without the files' stamps.
fn files_without_stamps(dir: &Dir) -> serde_json::Value {
    files_json(dir, true)
}

/// The live manifest's file list with each article's story id left out.
fn files_without_story_ids(dir: &Dir) -> serde_json::Value {
    files_json(dir, false)
}

/// Starts `frontline index` (with `extra` arguments), kills it after
/// `delay_ms` and returns what a search then sees.
fn index_killed_after(dir: &Dir, extra: &[&str], delay_ms: u64) -> Vec<String> {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("frontline"))
        .args([
            "index",
            dir.corpus().to_str().unwrap(),
            "--index",
            dir.index().to_str().unwrap(),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = child.kill();
    let _ = child.wait();
    snapshot(dir)
}

/// Killing an incremental run (its manifest reader thread included) at any
/// moment leaves the last good generation searchable.
#[test]
fn sigkill_during_an_incremental_run_leaves_a_searchable_index() {
    let dir = Dir::new();
    corpus(&dir, 200);
    dir.index_json(&[]);
    let before = snapshot(&dir);
    for i in 200..400 {
        dir.write(
            &format!("late/report-{i:04}.txt"),
            report(i, "Idlib", "PKK"),
        );
    }
    dir.remove("batch0/report-0000.txt");
    for delay_ms in [5u64, 40, 150] {
        let now = index_killed_after(&dir, &[], delay_ms);
        assert!(
            now == before || now.len() == before.len() + 400 - 2,
            "after a kill at {delay_ms} ms the index is the old or the new one, got {} passages",
            now.len()
        );
    }
    let summary = dir.index_json(&[]);
    assert_eq!(summary["total_articles"], 399, "{summary:#}");
}

#[test]
fn unchanged_corpus_publishes_nothing() {
    let dir = Dir::new();
    corpus(&dir, 5);
    let first = dir.index_json(&[]);
    let again = dir.index_json(&[]);
    assert_eq!(again["published"], false);
    assert_eq!(again["generation"], first["generation"]);
    assert_eq!(again["unchanged"], 5);
}

/// Sets a corpus file's modification time `ago` in the past.
fn age(dir: &Dir, rel: &str, ago: Duration) {
    set_modified(dir, rel, std::time::SystemTime::now() - ago);
}

/// Dates a file a minute ahead, as if it had just been written: it is
/// never [settled](frontline::corpus::Stamp::settled) however slowly the
/// next run starts (on a loaded machine a run may read a file written
/// "just now" more than `Stamp::QUIET` later).
fn just_written(dir: &Dir, rel: &str) {
    set_modified(
        dir,
        rel,
        std::time::SystemTime::now() + Duration::from_secs(60),
    );
}

fn set_modified(dir: &Dir, rel: &str, when: std::time::SystemTime) {
    let file = std::fs::File::options()
        .write(true)
        .open(dir.corpus().join(rel))
        .unwrap();
    file.set_modified(when).unwrap();
}

/// The stamp the live manifest records for a file.
fn stamp(dir: &Dir, rel: &str) -> Option<frontline::corpus::Stamp> {
    live_records(dir).get(rel).and_then(|r| r.stamp)
}

/// An incremental run does not read a file whose size and modification
/// time are those recorded when it was last read (if it had been left
/// alone for a while then); `--rehash` reads every file.
#[test]
fn unchanged_stamps_skip_reading_and_rehash_reads_everything() {
    let dir = Dir::new();
    corpus(&dir, 6);
    let old = Duration::from_secs(3600);
    for i in 0..5 {
        age(&dir, &format!("batch{}/report-{i:04}.txt", i % 3), old);
    }
    just_written(&dir, "batch2/report-0005.txt");
    dir.index_json(&[]);
    let recorded = stamp(&dir, "batch0/report-0000.txt").expect("an old file gets a stamp");
    // Written just now: its time may not be final, so no stamp is kept.
    assert_eq!(stamp(&dir, "batch2/report-0005.txt"), None);

    // The same size and time, different words: trusted, not read.
    let rel = "batch0/report-0000.txt";
    let text = report(0, "Idlib", "Islamic State");
    let changed = text.replace("police post", "army post");
    let changed = format!("{changed:<width$}", width = text.len());
    assert_eq!(changed.len(), text.len());
    dir.write(rel, changed);
    let when = std::time::SystemTime::UNIX_EPOCH
        + Duration::new(recorded.secs.try_into().unwrap(), recorded.nanos);
    let file = std::fs::File::options()
        .write(true)
        .open(dir.corpus().join(rel))
        .unwrap();
    file.set_modified(when).unwrap();
    let quick = dir.index_json(&[]);
    assert_eq!(quick["published"], false);
    assert_eq!(quick["files_read"], 0);
    assert_eq!(quick["unchanged"], 6);
    assert_eq!(
        dir.search_json(&["\"army post\""])["total_hits"],
        0,
        "the rewritten file was not read"
    );

    // --rehash reads it and finds the change.
    let rehashed = dir.index_json(&["--rehash"]);
    assert_eq!(rehashed["published"], true);
    assert_eq!(rehashed["updated"], 1);
    assert_eq!(rehashed["files_read"], 1);
    assert_eq!(dir.search_json(&["\"army post\""])["total_hits"], 1);

    // A change that moves the time is found without --rehash.
    let rel = "batch1/report-0001.txt";
    dir.write(
        rel,
        report(1, "Borno", "Boko Haram") + "\nA third paragraph.\n",
    );
    just_written(&dir, rel);
    let normal = dir.index_json(&[]);
    assert_eq!(normal["updated"], 1);
    assert_eq!(stamp(&dir, rel), None);
}

#[test]
fn second_writer_is_refused_with_exit_code_3() {
    use fs2::FileExt;
    let dir = Dir::new();
    corpus(&dir, 3);
    dir.index_json(&[]);
    let lock = std::fs::File::create(dir.index().join(".writer.lock")).unwrap();
    lock.try_lock_exclusive().unwrap();
    let corpus = dir.corpus();
    dir.cmd(&["index", corpus.to_str().unwrap()])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("locked by another"));
    lock.unlock().unwrap();
    dir.cmd(&["index", corpus.to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn crash_at_any_point_leaves_the_last_good_index() {
    for point in [
        "after-walk",
        "mid-index",
        "after-commit",
        "before-publish",
        "before-current",
        "after-current",
    ] {
        let dir = Dir::new();
        corpus(&dir, 12);
        dir.index_json(&[]);
        let before = snapshot(&dir);
        dir.write("batch0/late.txt", report(50, "Hasakah", "PKK"));
        let corpus_path = dir.corpus();
        let out = dir
            .cmd(&["index", corpus_path.to_str().unwrap()])
            .env("FRONTLINE_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{point}: the run should have crashed"
        );
        let after = snapshot(&dir);
        if point == "after-current" {
            assert_eq!(
                after.len(),
                before.len() + 2,
                "{point}: new generation is live"
            );
        } else {
            assert_eq!(after, before, "{point}: old generation still answers");
        }
        let recovery = dir.index_json(&[]);
        if !["after-current", "before-current"].contains(&point) {
            let cleaned = recovery["cleaned"].to_string();
            assert!(cleaned.contains("half-built"), "{point}: {recovery:#}");
        }
        assert_eq!(dir.search_json(&["Hasakah"])["total_hits"], 1, "{point}");
    }
}

#[test]
fn sigkill_during_a_run_leaves_a_searchable_index() {
    let dir = Dir::new();
    corpus(&dir, 40);
    dir.index_json(&[]);
    let before = snapshot(&dir);
    corpus(&dir, 400);
    for delay_ms in [5u64, 40, 150] {
        let now = index_killed_after(&dir, &["--full"], delay_ms);
        assert!(
            now == before || now.len() == 800,
            "after a kill at {delay_ms} ms the index is the old or the new one, got {} passages",
            now.len()
        );
    }
    let summary = dir.index_json(&[]);
    assert_eq!(summary["total_articles"], 400, "{summary:#}");
}

#[test]
fn searches_during_a_rebuild_see_old_or_new() {
    let dir = Dir::new();
    corpus(&dir, 30);
    dir.index_json(&[]);
    corpus(&dir, 300);
    let corpus_path = dir.corpus();
    let index_path = dir.index();
    let writer = std::thread::spawn(move || {
        crate::util::frontline()
            .args([
                "index",
                corpus_path.to_str().unwrap(),
                "--index",
                index_path.to_str().unwrap(),
                "--full",
            ])
            .assert()
            .success();
    });
    let mut seen = std::collections::BTreeSet::new();
    while !writer.is_finished() {
        let results = dir.search_json(&["police"]);
        seen.insert(results["total_hits"].as_u64().unwrap());
    }
    writer.join().unwrap();
    seen.insert(dir.search_json(&["police"])["total_hits"].as_u64().unwrap());
    assert!(seen.iter().all(|n| *n == 30 || *n == 300), "{seen:?}");
    assert!(seen.contains(&300));
}

#[test]
fn generations_and_rollback() {
    let dir = Dir::new();
    corpus(&dir, 4);
    dir.index_json(&[]);
    dir.write("batch0/extra.txt", report(60, "Hasakah", "PKK"));
    dir.index_json(&[]);
    dir.cmd(&["generations"])
        .assert()
        .success()
        .stdout(predicate::str::contains("*      2"));
    dir.cmd(&["rollback"])
        .assert()
        .success()
        .stdout("generation 1 is live\n");
    assert_eq!(dir.search_json(&["Hasakah"])["total_hits"], 0);
    // The next run builds generation 3 from generation 1 and picks up the file again.
    let summary = dir.index_json(&[]);
    assert_eq!(summary["generation"], 3);
    assert_eq!(dir.search_json(&["Hasakah"])["total_hits"], 1);
}
