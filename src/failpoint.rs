//! Crash points for testing crash safety.
//!
//! In debug builds, setting `FRONTLINE_CRASH_AT=<name>` makes the process
//! abort (as a SIGKILL would stop it: no destructors, no cleanup) when it
//! reaches the named point of an index run. Release builds ignore it.
//! Points: `after-walk`, `mid-index`, `after-commit`, `before-publish`,
//! `before-current`, `after-current`. The walk is streamed, so `after-walk`
//! is reached when it ends, while its last batches are still indexed.

/// Aborts the process if `FRONTLINE_CRASH_AT` names this point (debug only).
pub fn hit(point: &str) {
    if cfg!(debug_assertions) && std::env::var("FRONTLINE_CRASH_AT").as_deref() == Ok(point) {
        eprintln!("frontline: crash point {point} reached, aborting");
        std::process::abort();
    }
}
