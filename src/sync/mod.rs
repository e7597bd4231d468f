//! Sync: pulls CRM and support-desk records over HTTP into the store, page
//! by page, each page committed atomically with its cursor, so a crash, a
//! kill or a dropped connection resumes from the last committed page.

pub mod conversation;
pub mod http;
pub mod hubspot;
pub mod matching;
pub mod paging;
pub mod push;
pub mod ratelimit;
pub mod relink;
pub mod source;
pub mod stripe;
pub mod zendesk;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::engine::ingest::IngestCounts;
use crate::engine::writer::Writer;
use crate::store::{Store, SyncStatus, WorkspaceMeta};
use http::{Client, RetryPolicy, SyncError};
use source::{Kind, Source};

/// A record that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The vendor's id.
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What happened to one object type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectReport {
    /// "companies", "tickets", ...
    pub object: &'static str,
    /// Added / updated / unchanged / removed.
    pub counts: IngestCounts,
    /// Records skipped with their reason.
    pub skipped: Vec<Skipped>,
    /// Organizations that match no CRM account (accounts of their own
    /// until one does): every one the workspace holds, not only this run's.
    pub unmatched: Vec<Skipped>,
    /// Organizations kept apart because their match is not clear (several
    /// accounts fit, or another organization claims the same account):
    /// every one the workspace holds.
    pub ambiguous: Vec<Skipped>,
    /// Anything else the CSM should know (a type that could not be read).
    pub notes: Vec<String>,
    /// Mapped property values that were not usable numbers, by property:
    /// how many, and the first one with its record.
    pub unreadable: std::collections::BTreeMap<String, (u64, String)>,
}

impl ObjectReport {
    /// An empty report for an object type.
    pub fn new(object: &'static str) -> ObjectReport {
        ObjectReport { object, ..ObjectReport::default() }
    }

    /// Records handled so far.
    pub fn seen(&self) -> u64 {
        let c = &self.counts;
        c.added + c.updated + c.unchanged + self.skipped.len() as u64
    }
}

/// A progress tick, for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Source name.
    pub source: String,
    /// Object type.
    pub object: &'static str,
    /// Records handled so far.
    pub done: u64,
}

/// The outcome of one source's sync.
#[derive(Debug)]
pub struct SourceReport {
    /// Source name.
    pub source: String,
    /// Per object type.
    pub objects: Vec<ObjectReport>,
    /// Requests sent and how many were retries.
    pub requests: (u64, u64),
    /// Wall time.
    pub duration: Duration,
    /// Why it stopped early, if it did (what was committed stays).
    pub error: Option<SyncError>,
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Re-read everything instead of only changes.
    pub full: bool,
    /// Only this source.
    pub only: Option<String>,
    /// Retry and timeout policy.
    pub policy: Option<RetryPolicy>,
}

/// The client for a source, paced at its configured or documented rate.
pub(crate) fn client_for(source: &Source, policy: RetryPolicy) -> Client {
    if let Some(n) = source.requests_per_minute {
        return Client::new(source.clone(), policy, n as usize, Duration::from_secs(60));
    }
    match source.kind {
        // HubSpot allows 100-190 requests per 10 s per app: stay at the floor.
        Kind::Hubspot => Client::new(source.clone(), policy, 100, Duration::from_secs(10)),
        // Zendesk's lowest plan allows 200 a minute (the incremental
        // exports have a limit of their own, kept by the desk sync).
        Kind::Zendesk => Client::new(source.clone(), policy, 200, Duration::from_secs(60)),
        // Stripe allows 25 reads a second in test mode (100 live).
        Kind::Stripe => Client::new(source.clone(), policy, 25, Duration::from_secs(1)),
    }
}

/// Refuses to mix synced data into the demo, and names a new workspace.
fn prepare(writer: &Writer, now: DateTime<Utc>) -> Result<(), String> {
    let store = writer.store();
    match store.workspace().map_err(|e| e.to_string())? {
        Some(meta) if meta.demo_seed.is_some() => Err(format!(
            "{} is the demo workspace; sync into your own workspace (drop --demo, or pick another --data-dir)",
            store.path().display()
        )),
        Some(_) => Ok(()),
        None => {
            let name = store
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "workspace".into());
            let meta = WorkspaceMeta { name, demo_seed: None, created: now };
            writer.run(|s| s.set_workspace(&meta)).map_err(|e| e.to_string())
        }
    }
}

/// Syncs the configured sources (concurrently), each until done or until
/// an error stops it; what was committed stays either way. Writes go
/// through a writer of the run's own (a command that owns the workspace).
pub async fn run(
    store: &Store,
    sources: &[Source],
    opts: &Options,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<SourceReport>, String> {
    let writer = Writer::spawn(store.clone());
    run_with(&writer, sources, opts, progress).await
}

/// Syncs as `run` does, every page written by `writer` in order with the
/// other writes (the cockpit's edits, its health passes).
pub async fn run_with<'a>(
    writer: &'a Writer,
    sources: &'a [Source],
    opts: &Options,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<SourceReport>, String> {
    let store = writer.store();
    let now = Utc::now();
    let chosen: Vec<&Source> = sources.iter().filter(|s| opts.only.as_ref().is_none_or(|o| *o == s.name)).collect();
    if chosen.is_empty() {
        return Err(match &opts.only {
            Some(name) => format!("no source named \"{name}\" in the config (`cockpit config check` lists problems)"),
            None => {
                "no sources are configured; add a [[source]] table to the config (see `cockpit config example`)".into()
            }
        });
    }
    prepare(writer, now)?;
    // A first sync (or a full one) brings the past: every account's year
    // of daily inputs is rebuilt from it once the sources have run.
    // Billing brings today's figures, not a past: it never asks for one.
    let mut history = Vec::new();
    for s in chosen.iter().filter(|s| s.kind != Kind::Stripe) {
        if opts.full || !store.history_read(&s.name).map_err(|e| e.to_string())? {
            history.push(s.name.clone());
        }
    }
    let policy = opts.policy.unwrap_or_default();
    let crm: Vec<String> = sources.iter().filter(|s| s.kind == Kind::Hubspot).map(|s| s.name.clone()).collect();
    let all: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    let (crm, all) = (&crm, &all);
    let one = |source: &'a Source| async move {
        let started = Instant::now();
        let client = client_for(source, policy);
        let mut objects = Vec::new();
        let result = match source.kind {
            Kind::Hubspot => {
                let sync = hubspot::HubspotSync::new(&client, writer, now.date_naive(), progress);
                sync.run(opts.full, &mut objects).await
            }
            Kind::Zendesk => {
                let sync = zendesk::DeskSync::new(&client, writer, now, crm, all, progress);
                sync.run(opts.full, &mut objects).await
            }
            Kind::Stripe => {
                let sync = stripe::StripeSync::new(&client, writer, now, crm, progress);
                sync.run(opts.full, &mut objects).await
            }
        };
        if let Err(e) = &result {
            tracing::warn!(source = %source.name, error = %e, "sync stopped");
        }
        let status =
            SyncStatus { at: Utc::now(), ok: result.is_ok(), message: result.as_ref().err().map(|e| e.to_string()) };
        if let Err(e) = writer.run(|s| s.set_sync_status(&source.name, &status)) {
            tracing::warn!(source = %source.name, error = %e, "could not record the sync status");
        }
        SourceReport {
            source: source.name.clone(),
            objects,
            requests: client.counters(),
            duration: started.elapsed(),
            error: result.err(),
        }
    };
    // CRM sources first, side by side: support organizations are matched
    // against the accounts they bring. Then the support desks.
    let mut reports = Vec::new();
    let runs: Vec<_> = chosen.iter().filter(|s| s.kind == Kind::Hubspot).map(|s| one(s)).collect();
    reports.extend(join_all(runs).await);
    // Accounts the CRM brought or changed may now match organizations a
    // desk sent earlier: match those again now, for desks not syncing in
    // this run (the ones that do match again after their organizations).
    for desk in sources.iter().filter(|s| s.kind == Kind::Zendesk && !chosen.iter().any(|c| c.name == s.name)) {
        match relink::rematch(writer, &desk.name, crm, all, now.date_naive()) {
            Ok(r) if r.merged + r.moved + r.linked > 0 => {
                tracing::info!(desk = %desk.name, ?r, "organizations matched again")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(desk = %desk.name, error = %e, "could not match organizations again"),
        }
    }
    // Billing sources match customers to the CRM's accounts too.
    let runs: Vec<_> = chosen.iter().filter(|s| s.kind != Kind::Hubspot).map(|s| one(s)).collect();
    reports.extend(join_all(runs).await);
    if !history.is_empty() {
        let from = now.date_naive() - chrono::Duration::days(crate::store::HISTORY_DAYS - 1);
        writer.run(|s| s.mark_all_for_rebuild(from)).map_err(|e| e.to_string())?;
        // Once per source, even when the run stopped early: a source that
        // keeps failing must not rebuild the whole book at every sync. What
        // lands later still gets its past: new accounts and dated
        // observations mark themselves.
        for r in reports.iter().filter(|r| history.contains(&r.source)) {
            writer.run(|s| s.set_history_read(&r.source, now.date_naive())).map_err(|e| e.to_string())?;
        }
    }
    writer.run(|s| s.flush()).map_err(|e| e.to_string())?;
    Ok(reports)
}

/// Lands one page while the next is on its way: the request for page N+1
/// runs (and its body is parsed) on another worker while page N is
/// written, so reading and writing overlap.
async fn overlap<T, F>(next: Option<F>, land: impl FnOnce() -> Result<(), SyncError>) -> Result<Option<T>, SyncError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, SyncError>> + Send + 'static,
{
    let Some(fetch) = next else { return land().map(|()| None) };
    let handle = tokio::spawn(fetch);
    if let Err(e) = land() {
        handle.abort();
        return Err(e);
    }
    match handle.await {
        Ok(fetched) => fetched.map(Some),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => unreachable!("the fetch is only aborted after a failed write: {e}"),
    }
}

/// Polls futures together (a tiny `join_all`, to avoid a crate for it).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("every future finished")).collect()
}
