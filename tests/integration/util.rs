//! Test helpers: a temp corpus directory and the real `frontline` binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temp directory holding a corpus (`corpus/`) and an index (`index/`).
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Dir {
        Dir::new()
    }
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn corpus(&self) -> PathBuf {
        self.tmp.path().join("corpus")
    }

    pub fn index(&self) -> PathBuf {
        self.tmp.path().join("index")
    }

    /// Writes a corpus file (parents created).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.corpus().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write corpus file");
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.corpus().join(rel)).expect("remove corpus file");
    }

    /// `frontline <args> --index <this index>`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = frontline();
        cmd.args(args).arg("--index").arg(self.index());
        cmd
    }

    /// Indexes the corpus and returns the JSON summary.
    pub fn index_json(&self, extra: &[&str]) -> serde_json::Value {
        let corpus = self.corpus();
        let mut args = vec![
            "index",
            corpus.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = self.cmd(&args).output().expect("run frontline index");
        assert!(
            out.status.success(),
            "index failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("summary is JSON")
    }

    /// Runs `search` with `--format json` and returns the parsed output.
    pub fn search_json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["search"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--format", "json"]);
        if !args.contains(&"--limit") {
            full.extend_from_slice(&["--limit", "1000"]);
        }
        let out = self.cmd(&full).output().expect("run frontline search");
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "search failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("search output is JSON")
    }
}

pub fn frontline() -> Command {
    let mut cmd = Command::cargo_bin("frontline").expect("frontline binary");
    cmd.env_remove("FRONTLINE_INDEX")
        .env_remove("FRONTLINE_CRASH_AT");
    cmd
}

pub fn sample_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-corpus")
}

/// A fresh index of `sample-corpus/`.
pub fn indexed_sample() -> Dir {
    let dir = Dir::new();
    frontline()
        .args([
            "index",
            sample_corpus().to_str().expect("utf-8 path"),
            "--index",
        ])
        .arg(dir.index())
        .assert()
        .success();
    dir
}

/// Article ids of the hits, sorted and unique.
pub fn hit_ids(results: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = results["hits"]
        .as_array()
        .expect("hits array")
        .iter()
        .map(|h| h["article_id"].as_str().expect("article_id").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Gzips bytes (for .gz fixtures).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip finish")
}
