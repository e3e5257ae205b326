//! Benchmarks for frontline: a deterministic synthetic corpus generator
//! ([`gen`]) shared by the `gen-corpus` and `bench-index` binaries and the
//! criterion `search` bench.
//!
//! Nothing here is part of frontline's public API; it only drives it.

pub mod gen;
pub mod prepared;
pub mod queries;
pub mod rng;
pub mod vocab;

/// Registers frontline's analysis chain on a bare tantivy index as a
/// tantivy user would write it, with tantivy's own `Stemmer`
/// ([`frontline::schema::tantivy_text_analyzer`]): the same tokens as
/// frontline's memoising stemmer, so the indexes match, but the baseline
/// keeps stock tantivy's analysis cost.
pub fn register_stock_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(
        frontline::schema::TEXT_TOKENIZER,
        frontline::schema::tantivy_text_analyzer(),
    );
}

/// Peak resident set size of this process in bytes (`VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kib(&status, "VmHWM:").map(|k| k * 1024)
}

/// Current resident memory of this process in bytes, if known: `VmRSS`,
/// and its anonymous (`RssAnon`: heap, stacks) and file-backed (`RssFile`:
/// mapped index files and the binary, page cache shared with the OS) parts.
pub fn rss_now() -> Option<(u64, u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let total = status_kib(&status, "VmRSS:")? * 1024;
    let anon = status_kib(&status, "RssAnon:")? * 1024;
    let file = status_kib(&status, "RssFile:")? * 1024;
    Some((total, anon, file))
}

/// Samples this process's resident memory every 50 ms on a background
/// thread, keeping the peaks of `RssAnon` (heap: what a memory budget
/// bounds) and `RssFile` (mapped files, e.g. segments being merged: page
/// cache the OS can reclaim). `VmHWM` alone mixes the two.
pub struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<(u64, u64)>,
}

impl RssSampler {
    /// Starts sampling.
    pub fn start() -> RssSampler {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let (mut anon, mut file) = (0, 0);
            loop {
                if let Some((_, a, f)) = rss_now() {
                    anon = anon.max(a);
                    file = file.max(f);
                }
                if flag.load(Ordering::Relaxed) {
                    return (anon, file);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        RssSampler { stop, handle }
    }

    /// Stops sampling; returns the peak `RssAnon` and `RssFile` in bytes.
    pub fn finish(self) -> (u64, u64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.join().unwrap_or((0, 0))
    }
}

/// CPU time (user + system, all threads) this process has used so far, in
/// seconds, if known. On a shared machine the wall time of a run depends on
/// what else runs; its CPU time much less.
pub fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces), from field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports these in clock ticks of USER_HZ, 100 on every platform
    // it supports.
    Some((utime + stime) / 100.0)
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Total size in bytes of the regular files under `dir` (recursively).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            total += dir_size(&entry.path());
        } else {
            total += meta.len();
        }
    }
    total
}

/// The 30 unfiltered queries of the bench query set (`bench-index`,
/// `query-cost`): 15 terms, 8 phrases, 7 AND/OR.
pub const TEXT_QUERIES: [&str; 30] = [
    "airstrike",
    "ceasefire",
    "hostages",
    "drone",
    "checkpoint",
    "refugees",
    "ambush",
    "kidnapping",
    "artillery",
    "peacekeepers",
    "cholera",
    "landmine",
    "curfew",
    "convoy",
    "massacre",
    "\"in the town of\"",
    "\"suicide bomber\"",
    "\"Islamic State\"",
    "\"blamed on\"",
    "\"in neighbouring\"",
    "\"in Syria\"",
    "\"on Wednesday\"",
    "\"people killed\"",
    "drone AND strike",
    "ceasefire OR truce",
    "hostages AND release",
    "(ambush OR raid) AND soldiers",
    "refugees OR displaced",
    "militants AND checkpoint",
    "airstrike AND hospital",
];
