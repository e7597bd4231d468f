//! `cockpit sync`: a headless sync with a progress line on stderr and a
//! summary at the end, then a push of the outbox; exits non-zero when a
//! source failed.

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use super::error::{ConfigError, SyncFailed};
use super::{CliResult, Error};
use crate::config::Config;
use crate::domain::text::sanitize;
use crate::store::{Store, StoreError};
use crate::sync::push::{self, Outcome, PushPolicy};
use crate::sync::{self, Options, Progress};
use chrono::Utc;

/// Runs the sync and prints its summary.
pub fn run(store: &Store, config: &Config, only: Option<String>, full: bool, report: bool) -> CliResult {
    // What the config cannot do, said as a config problem before any work.
    if config.sources.is_empty() {
        return Err(ConfigError::NoSources.into());
    }
    if let Some(name) = only.as_ref().filter(|o| !config.sources.iter().any(|s| &s.name == *o)) {
        return Err(ConfigError::NoSuchSource(name.clone()).into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e, ""))?;
    let last_print = Mutex::new(Instant::now());
    let progress = |p: Progress| {
        let mut last = last_print.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed().as_millis() >= 200 {
            *last = Instant::now();
            eprint!("\r{}: {} {} ...   ", p.source, p.done, p.object);
            let _ = std::io::stderr().flush();
        }
    };
    let opts = Options { full, only, policy: None };
    let mut reports = runtime.block_on(sync::run(store, &config.sources, &opts, &progress))?;
    eprint!("\r{:60}\r", "");
    let mut failed = SyncFailed::default();
    for r in &mut reports {
        let (requests, retries) = r.requests;
        println!(
            "{}: {} requests ({} retries) in {:.1} s{}",
            r.source,
            requests,
            retries,
            r.duration.as_secs_f64(),
            if r.error.is_some() { " — stopped early" } else { "" }
        );
        for o in &r.objects {
            let c = o.counts;
            let mut unmatched = String::new();
            if !o.ambiguous.is_empty() {
                unmatched.push_str(&format!(", {} ambiguous", o.ambiguous.len()));
            }
            if !o.unmatched.is_empty() {
                unmatched.push_str(&format!(", {} unmatched", o.unmatched.len()));
            }
            println!(
                "  {:<13} {} added, {} updated, {} unchanged, {} removed, {} skipped{unmatched}",
                o.object,
                c.added,
                c.updated,
                c.unchanged,
                c.removed,
                o.skipped.len()
            );
            for n in &o.notes {
                // Notes can quote a vendor's ids and words.
                println!("    {}", sanitize(n));
            }
            // Vendor text: sanitized like every other value it sent.
            for (prop, (n, first)) in &o.unreadable {
                println!(
                    "    property {}: {n} compan{} sent a value that is not a number, left unknown from that day (first: {}); fix it in the CRM or map another property",
                    sanitize(prop),
                    if *n == 1 { "y" } else { "ies" },
                    sanitize(first)
                );
            }
            let shown = if report { usize::MAX } else { 10 };
            // Ids and reasons quote the vendor's text: never let it drive the terminal.
            for s in o.skipped.iter().take(shown) {
                println!("    skipped {}: {}", sanitize(&s.id), sanitize(&s.reason));
            }
            if o.skipped.len() > shown {
                println!("    ... and {} more (`cockpit sync --report` lists them all)", o.skipped.len() - shown);
            }
            if report {
                for u in &o.ambiguous {
                    println!("    ambiguous {}: {}", sanitize(&u.id), sanitize(&u.reason));
                }
                for u in &o.unmatched {
                    println!("    unmatched {}: {}", sanitize(&u.id), sanitize(&u.reason));
                }
            } else if !o.unmatched.is_empty() || !o.ambiguous.is_empty() {
                println!(
                    "    (kept as accounts of their own, never merged; `cockpit sync --report` lists them with why)"
                );
            }
        }
        if let Some(e) = r.error.take() {
            failed.sources.push(e);
        }
    }
    // Writes made while offline go out once the sources answer again.
    failed.push = push_with(&runtime, store, config).err();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.into())
    }
}

/// Pushes the outbox and prints what happened (after a sync's daily pass
/// queued the health for HubSpot).
pub fn push_outbox(store: &Store, config: &Config) -> CliResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e, ""))?;
    push_with(&runtime, store, config).map_err(|e| SyncFailed { sources: Vec::new(), push: Some(e) }.into())
}

fn push_with(runtime: &tokio::runtime::Runtime, store: &Store, config: &Config) -> Result<(), StoreError> {
    let pushed = runtime.block_on(push::push(store, &config.sources, &Utc::now, &PushPolicy::default()));
    match pushed {
        Ok(p) => {
            if let Some(s) = p.summary() {
                let attention = p.count(|o| matches!(o, Outcome::Failed(_) | Outcome::Conflict(_))) > 0;
                println!("outbox: {s}{}", if attention { " (`cockpit outbox` lists them)" } else { "" });
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}
