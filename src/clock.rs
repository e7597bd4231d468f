//! The process's clock: the system's, or one started at a given time with
//! `--now` that runs on from there (to replay a day, and for tests that
//! need a Friday afternoon).

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};

static OFFSET: OnceLock<Duration> = OnceLock::new();

/// Starts the clock at `start`; it runs on at the system's pace. Only the
/// first call counts.
pub fn start_at(start: DateTime<Utc>) {
    let _ = OFFSET.set(start - Utc::now());
}

/// The time now on the process's clock.
pub fn now() -> DateTime<Utc> {
    Utc::now() + OFFSET.get().copied().unwrap_or_default()
}

/// Whether the clock was set with `--now`.
pub fn is_set() -> bool {
    OFFSET.get().is_some()
}
