//! The pusher: works through the outbox in id order and sends each due
//! write to HubSpot or Zendesk exactly once. Before a request leaves, the
//! entry is marked on disk; after any answer that never came, the marker is
//! looked for at the vendor before anything is sent again, at growing
//! intervals for a HubSpot create (its search lags, and a busy HubSpot may
//! apply a request minutes late). A create that had to be sent again is
//! watched for a day: a copy that an earlier request makes later still is
//! archived, keeping the earliest. A ticket update carries the ticket's
//! stamp, so a late first request and its resend cannot both apply.

pub mod crm;
pub mod desk;
mod health;
mod look;
mod watch;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::http::{Answer, Client, RetryPolicy, SendFailure};
use super::source::{Kind, Source};
use crate::domain::outbox::{backoff, moment, next_point, watch_note, OutboxEntry, OutboxState, System, Write};
use crate::domain::text::sanitize;
use crate::engine::writer::Writer;
use crate::store::{Store, StoreError};
use look::{check, Found};
use watch::{reconcile, watch, Watch};

/// How hard the pusher tries.
#[derive(Debug, Clone)]
pub struct PushPolicy {
    /// Timeouts (each request is sent once; `attempts` is not used).
    pub http: RetryPolicy,
    /// Attempts before an entry is given up and left to the CSM.
    pub max_attempts: u32,
    /// Entries handled per push at most.
    pub batch: usize,
    /// When an unanswered note or task is looked for by its marker,
    /// counted from the moment its request left. It is sent again only
    /// once the last of these finds nothing: HubSpot's search lags its
    /// writes, and a stalled HubSpot may apply a request minutes late.
    pub checks: Vec<Duration>,
    /// When a note or task that was sent again is searched for copies,
    /// counted from the resend; the watch ends with the last. An earlier
    /// request may still be applied meanwhile: its copy is archived.
    pub watch: Vec<Duration>,
}

impl PushPolicy {
    /// When the watch of a create sent again at `since` ends.
    pub fn watch_ends(&self, since: DateTime<Utc>) -> DateTime<Utc> {
        since + self.watch.iter().max().copied().unwrap_or_else(Duration::zero)
    }
}

impl Default for PushPolicy {
    fn default() -> Self {
        PushPolicy {
            http: RetryPolicy { timeout: std::time::Duration::from_secs(20), ..RetryPolicy::default() },
            max_attempts: 8,
            batch: 50,
            checks: [1, 5, 15, 60].map(Duration::minutes).to_vec(),
            watch: [1, 5, 15, 60, 4 * 60, 24 * 60].map(Duration::minutes).to_vec(),
        }
    }
}

/// What happened to one entry in a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Landed now; the vendor's id.
    Sent(String),
    /// It had landed before (found by its marker); the vendor's id.
    AlreadyThere(String),
    /// Not sent this time; tried again later.
    Retrying(String),
    /// An earlier request got no answer and its marker is not visible yet.
    Checking,
    /// A copy made late by an earlier request was archived; what happened.
    Archived(String),
    /// Looked for late copies after a resend: nothing new.
    Watched,
    /// Landed more than once where a copy cannot be removed (a Zendesk
    /// comment); what happened and what to do.
    Duplicate(String),
    /// Given up or refused: the CSM decides.
    Failed(String),
    /// The ticket changed at the desk since: the CSM decides.
    Conflict(String),
    /// No source of its kind is configured (offline or demo): it waits.
    Waiting(String),
}

/// What a push did, entry by entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Entry id and outcome, in the order handled.
    pub outcomes: Vec<(u64, Outcome)>,
}

impl PushReport {
    /// How many outcomes match.
    pub fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| pick(o)).count()
    }

    /// One line for the CSM ("2 sent, 1 failed"), or None when nothing was due.
    pub fn summary(&self) -> Option<String> {
        let parts = [
            (self.count(|o| matches!(o, Outcome::Sent(_) | Outcome::AlreadyThere(_))), "sent"),
            (self.count(|o| matches!(o, Outcome::Archived(_))), "with a late copy archived"),
            (self.count(|o| matches!(o, Outcome::Duplicate(_))), "landed twice (the outbox says where)"),
            (self.count(|o| matches!(o, Outcome::Retrying(_) | Outcome::Checking)), "to retry"),
            (self.count(|o| matches!(o, Outcome::Waiting(_))), "waiting for a source"),
            (self.count(|o| matches!(o, Outcome::Failed(_))), "failed"),
            (self.count(|o| matches!(o, Outcome::Conflict(_))), "in conflict"),
        ];
        let text: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        (!text.is_empty()).then(|| text.join(", "))
    }
}

/// Why a request did not do what it should, and what that means.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    /// Nothing happened; later may work (no connection, 429, 500, 503).
    Transient(String),
    /// It may have happened (timeout, reset, 502, 504).
    Ambiguous(String),
    /// Refused for good (credentials, or the request itself).
    Refused(String),
    /// The ticket changed since (409).
    Conflict(String),
}

impl Problem {
    fn text(&self) -> &str {
        match self {
            Problem::Transient(m) | Problem::Ambiguous(m) | Problem::Refused(m) | Problem::Conflict(m) => m,
        }
    }
}

/// What one attempt came to.
enum Step {
    /// Sent (or found sent).
    Sent {
        /// The vendor's id.
        remote: String,
        /// Found by its marker rather than answered now.
        found: bool,
        /// The stamp move for a ticket write.
        rebase: Option<(DateTime<Utc>, DateTime<Utc>)>,
        /// A create sent again at this moment: watched from then.
        resent: Option<DateTime<Utc>>,
        /// How it landed, when worth telling.
        note: Option<String>,
        /// It is at the vendor more than once and cannot be removed.
        duplicate: bool,
    },
    /// The send failed.
    Send(Problem),
    /// A create's resend at this moment failed.
    Resend(Problem, DateTime<Utc>),
    /// The marker check failed: nothing was sent this time.
    Check(Problem),
    /// Not found yet, but too recent to be sure: look again at this moment.
    NotYet(DateTime<Utc>),
    /// A watch round: the entry as it now stands, and what to say.
    Watched(Box<OutboxEntry>, Outcome),
}

/// Pushes that are under way, by workspace: a second push of the same
/// workspace (the cockpit's timer and a key press) would claim the same
/// `Unsure` entries, so it steps aside.
static PUSHING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

struct Busy(PathBuf);

impl Busy {
    fn take(store: &Store) -> Option<Busy> {
        let mut set = PUSHING.lock().unwrap_or_else(|p| p.into_inner());
        let path = store.path().to_path_buf();
        set.insert(path.clone()).then_some(Busy(path))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        PUSHING.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.0);
    }
}

/// The clients of one push: the first configured source of each kind, and
/// the HubSpot source health is written to.
struct Vendors {
    crm: Option<Client>,
    desk: Option<Client>,
    health: Option<Client>,
}

impl Vendors {
    fn new(sources: &[Source], policy: &PushPolicy) -> Vendors {
        let client = |s: &Source| super::client_for(s, policy.http);
        let first = |k: Kind| sources.iter().find(|s| s.kind == k).map(client);
        let health = sources.iter().find(|s| s.kind == Kind::Hubspot && s.write_back.is_some()).map(client);
        Vendors { crm: first(Kind::Hubspot), desk: first(Kind::Zendesk), health }
    }

    fn for_system(&self, s: System) -> Option<&Client> {
        match s {
            System::Crm => self.crm.as_ref(),
            System::Desk => self.desk.as_ref(),
        }
    }
}

/// Pushes the due entries (at most `policy.batch`, oldest first) to the
/// configured sources; `clock` gives the moment (tests move it). Entries
/// for a system with no configured source wait, untouched. The outbox's
/// states are written by a writer of the push's own (a command that owns
/// the workspace).
pub async fn push(
    store: &Store,
    sources: &[Source],
    clock: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    policy: &PushPolicy,
) -> Result<PushReport, StoreError> {
    let writer = Writer::spawn(store.clone());
    push_with(&writer, sources, clock, policy).await
}

/// Pushes as `push` does, every outbox state written by `writer` in order
/// with the other writes.
pub async fn push_with(
    writer: &Writer,
    sources: &[Source],
    clock: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    policy: &PushPolicy,
) -> Result<PushReport, StoreError> {
    let store = writer.store();
    let mut report = PushReport::default();
    let Some(_busy) = Busy::take(store) else { return Ok(report) };
    let vendors = Vendors::new(sources, policy);
    let start = clock();
    // Health writes go in batches of their own (see `health`).
    let (health_due, due): (Vec<OutboxEntry>, Vec<OutboxEntry>) = store
        .outbox()?
        .into_iter()
        .filter(|e| e.state.is_pushable() && e.next_attempt <= start)
        .partition(|e| e.write.is_health());
    for listed in due.into_iter().take(policy.batch) {
        let system = listed.write.system();
        let Some(client) = vendors.for_system(system) else {
            let why = format!("no {} source is configured; it is sent once one is", system.label());
            report.outcomes.push((listed.id, Outcome::Waiting(why)));
            continue;
        };
        let now = clock();
        // Marked Unsure and on disk before anything leaves.
        let Some(before) = writer.run(|s| s.outbox_claim(listed.id, now))? else { continue };
        let step = attempt(writer, client, &before, now, policy).await?;
        let outcome = record(writer, client, &before, step, now, policy)?;
        report.outcomes.push((before.id, outcome));
    }
    health::push(writer, vendors.health.as_ref(), health_due, clock, policy, &mut report).await?;
    Ok(report)
}

/// A landed HubSpot note or task: its timeline entry takes the id the
/// sync gives that engagement, so the synced copy replaces it. `from` is
/// the copy it follows so far, when the kept copy changes.
fn adopt_activity(
    writer: &Writer,
    client: &Client,
    e: &OutboxEntry,
    from: Option<&str>,
    remote: &str,
) -> Result<(), StoreError> {
    let object = match e.write {
        Write::Note { .. } => crate::sync::hubspot::Object::Notes,
        Write::Task { .. } => crate::sync::hubspot::Object::Tasks,
        _ => return Ok(()),
    };
    let synced = |r: &str| r.parse::<u64>().ok().and_then(|r| crate::sync::hubspot::activity_id(object, r).ok());
    let Some(id) = synced(remote) else { return Ok(()) };
    let mut current = e.clone();
    if let Some(from) = from {
        // Adopted before: the entry goes by that copy's id now.
        let Some(old) = synced(from) else { return Ok(()) };
        current.activity = old;
    }
    writer.run(|s| s.outbox_adopt_activity(&current, &client.source().name, id))
}

/// The ticket's `updated_at` now, at the first Zendesk source: what a
/// retry after a conflict sends, to overwrite knowingly. None when no
/// Zendesk source is configured.
pub async fn fresh_stamp(
    sources: &[Source],
    policy: &PushPolicy,
    ticket: u64,
) -> Result<Option<DateTime<Utc>>, String> {
    let Some(client) = Vendors::new(sources, policy).desk else { return Ok(None) };
    let answer: Value = client.get(&desk::ticket_path(ticket)).await.map_err(|e| e.to_string())?;
    desk::updated_at(&answer)
        .map(Some)
        .ok_or_else(|| format!("{}: the answer for ticket #{ticket} has no readable updated_at", client.source().name))
}

/// One attempt at one claimed entry: the marker check when an earlier
/// attempt may have landed, then the send; for a watched create, a look
/// for copies.
async fn attempt(
    writer: &Writer,
    client: &Client,
    before: &OutboxEntry,
    now: DateTime<Utc>,
    policy: &PushPolicy,
) -> Result<Step, StoreError> {
    if let OutboxState::Watching { since, kept, archived } = &before.state {
        let w = Watch { since: *since, kept: kept.clone(), archived: archived.clone() };
        return watch(writer, client, before, w, now, policy).await;
    }
    // Any earlier attempt (an unanswered one, a crash, or a failure the CSM
    // retried) may have landed: look before sending again.
    let tried = before.state != OutboxState::Pending || before.attempts > 0 || before.last_error.is_some();
    let mut resent = None;
    if tried {
        match check(client, before).await {
            Err(p) => return Ok(Step::Check(p)),
            Ok(Some(Found::Copies(ids))) => {
                // Only the first request ever left, and there it is.
                if matches!(before.state, OutboxState::Unsure { .. }) && ids.len() == 1 {
                    let note = found_note(before, now);
                    return Ok(Step::Sent {
                        remote: ids[0].clone(),
                        found: true,
                        rebase: None,
                        resent: None,
                        note: Some(note),
                        duplicate: false,
                    });
                }
                // More than one request may have left: keep the earliest,
                // archive the others, and watch from now.
                let w = Watch { since: now, kept: None, archived: Vec::new() };
                return reconcile(writer, client, before, w, ids, now, policy).await;
            }
            Ok(Some(Found::Comment { id, stamp, others })) => {
                return Ok(comment_found(before, id, stamp, others, now, None));
            }
            Ok(None) => {}
        }
        if before.write.creates() {
            if let OutboxState::Unsure { since } = before.state {
                // Not visible yet may only mean not applied or not indexed
                // yet: look again later before any resend.
                if let Some(at) = next_point(since, now, &policy.checks) {
                    return Ok(Step::NotYet(at));
                }
            }
            // Sent again: an earlier request may still be applied, so the
            // entry is watched from now, on disk before the request leaves.
            let mut again = before.clone();
            again.attempts += 1;
            again.state = OutboxState::Watching { since: now, kept: None, archived: Vec::new() };
            writer.run(|s| s.outbox_put(&again))?;
            writer.run(|s| s.flush())?;
            resent = Some(now);
        } else if let OutboxState::Unsure { .. } = before.state {
            // Sending again now: a crash during this request must be
            // checked against this moment, not the first one.
            let mut again = before.clone();
            again.attempts += 1;
            again.state = OutboxState::Unsure { since: now };
            writer.run(|s| s.outbox_put(&again))?;
            writer.run(|s| s.flush())?;
        }
    }
    Ok(match (send(writer, client, before).await?, resent) {
        (Ok(Step::Sent { remote, found, rebase, note, duplicate, .. }), Some(at)) => {
            Step::Sent { remote, found, rebase, resent: Some(at), note, duplicate }
        }
        (Ok(step), _) => step,
        (Err(p), Some(at)) => Step::Resend(p, at),
        (Err(Problem::Conflict(m)), None) => {
            // The stamp may have moved because an earlier request for this
            // very comment landed late: look before calling it a conflict,
            // so a retry over the change never writes it twice.
            match check(client, before).await {
                Ok(Some(Found::Comment { id, stamp, others })) => {
                    let why = "Zendesk refused the resend (HTTP 409) because an earlier request for it had landed";
                    comment_found(before, id, stamp, others, now, Some(why))
                }
                _ => Step::Send(Problem::Conflict(m)),
            }
        }
        (Err(p), None) => Step::Send(p),
    })
}

/// What a marker check says for the entry: "no answer came ... found".
fn found_note(e: &OutboxEntry, now: DateTime<Utc>) -> String {
    let vendor = e.write.system().label();
    let lost = match e.state {
        OutboxState::Unsure { since } => format!("no answer came when it was sent at {}; ", moment(since)),
        _ => String::new(),
    };
    format!("{lost}found at {vendor} by its marker at {}, not sent again", moment(now))
}

/// A ticket write found among the ticket's comments: sent, and if it is
/// there more than once, said plainly (Zendesk cannot delete a comment).
fn comment_found(
    e: &OutboxEntry,
    id: String,
    stamp: Option<DateTime<Utc>>,
    others: Vec<String>,
    now: DateTime<Utc>,
    why: Option<&str>,
) -> Step {
    let rebase = match (&e.write, stamp) {
        (Write::Ticket { updated_stamp, .. }, Some(new)) => Some((*updated_stamp, new)),
        _ => None,
    };
    let ticket = match &e.write {
        Write::Ticket { ticket, .. } => *ticket,
        _ => 0,
    };
    let duplicate = !others.is_empty();
    let note = if duplicate {
        format!(
            "the comment is on ticket #{ticket} {} times (comments {id}, {}); Zendesk cannot delete comments, so look at the ticket and redact the extra one, or tell the customer",
            others.len() + 1,
            others.join(", ")
        )
    } else {
        match why {
            Some(why) => format!("{why}; found on ticket #{ticket} by its marker at {}, not sent again", moment(now)),
            None => found_note(e, now),
        }
    };
    Step::Sent { remote: id, found: true, rebase, resent: None, note: Some(note), duplicate }
}

/// Sends the write. The outer error is the store's; the inner, the vendor's.
async fn send(writer: &Writer, client: &Client, e: &OutboxEntry) -> Result<Result<Step, Problem>, StoreError> {
    let store = writer.store();
    let sent = |remote: String, rebase| Step::Sent {
        remote,
        found: false,
        rebase,
        resent: None,
        note: None,
        duplicate: false,
    };
    match &e.write {
        Write::Note { .. } | Write::Task { .. } => {
            let source = &client.source().name;
            let Some(company) = store.external_of(e.account_id, source)? else {
                return Ok(Err(Problem::Refused(format!(
                    "this account is not linked to a HubSpot company (source \"{source}\"); sync it from HubSpot or discard the entry"
                ))));
            };
            let (path, body) = crm::create(e, &company).expect("a CRM write");
            Ok(request(client, Method::POST, &path, Some(&body)).await.and_then(|answer| {
                let remote = crm::created_id(&answer).ok_or_else(|| unreadable(client, "the created object's id"))?;
                Ok(sent(remote, None))
            }))
        }
        Write::Stage { stage } => {
            let source = client.source();
            let Some(company) = store.external_of(e.account_id, &source.name)? else {
                return Ok(Err(Problem::Refused(format!(
                    "this account is not linked to a HubSpot company (source \"{}\"); its stage stays local: discard the entry",
                    source.name
                ))));
            };
            let (path, body) = crm::stage_update(*stage, &company, &source.properties.stage);
            Ok(request(client, Method::PATCH, &path, Some(&body)).await.map(|_| sent(company, None)))
        }
        // `push` sends these in batches and never here.
        Write::Health { .. } => Ok(Err(Problem::Transient(
            "a health write goes out in a batch with the others; it is sent at the next push".into(),
        ))),
        Write::Ticket { ticket, updated_stamp, .. } => {
            let (path, body) = desk::update(e).expect("a ticket write");
            Ok(request(client, Method::PUT, &path, Some(&body)).await.map(|answer| {
                let rebase = desk::updated_at(&answer).map(|new| (*updated_stamp, new));
                sent(desk::remote_id(&answer, *ticket), rebase)
            }))
        }
    }
}

/// Sends one request and reads a JSON answer, sorting every failure.
async fn request(client: &Client, method: Method, path: &str, body: Option<&Value>) -> Result<Value, Problem> {
    judge(client, exchange(client, method, path, body).await?)
}

/// Sends one request and hands back whatever status came, sorting the
/// failures where no answer came.
async fn exchange(client: &Client, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, Problem> {
    let vendor = client.source().kind.label();
    client.send_once(method, path, body).await.map_err(|f| match f {
        SendFailure::Setup(e) => Problem::Refused(e.to_string()),
        SendFailure::NotSent { .. } => Problem::Transient(format!("{vendor}: {f}; you may be offline")),
        SendFailure::Ambiguous { .. } => Problem::Ambiguous(format!("{vendor}: {f}")),
    })
}

/// What a vendor's status means for the entry.
fn judge(client: &Client, a: Answer) -> Result<Value, Problem> {
    let source = client.source();
    let vendor = source.kind.label();
    let s = a.status;
    if s.is_success() {
        // A write whose answer cannot be read did land: the marker check
        // finds it next time.
        return serde_json::from_slice(&a.body).map_err(|_| unreadable(client, "the answer"));
    }
    let code = s.as_u16();
    Err(match s {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Problem::Refused(format!(
            "{vendor} refused the credentials (HTTP {code}); check the token in {} and its scopes (it needs write access), then retry the entry",
            source.auth.env_name()
        )),
        StatusCode::CONFLICT => Problem::Conflict(vendor_message(&a.body)),
        StatusCode::TOO_MANY_REQUESTS => Problem::Transient(format!("{vendor} is rate limiting requests (HTTP 429)")),
        StatusCode::REQUEST_TIMEOUT | StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => {
            Problem::Ambiguous(format!("{vendor} answered HTTP {code}; the write may or may not have landed"))
        }
        s if s.is_server_error() => Problem::Transient(format!("{vendor} answered HTTP {code}")),
        _ => {
            let msg = vendor_message(&a.body);
            let why = if msg.is_empty() { String::new() } else { format!(": {msg}") };
            Problem::Refused(format!("{vendor} refused it (HTTP {code}{why}); edit or discard the entry"))
        }
    })
}

fn unreadable(client: &Client, what: &str) -> Problem {
    Problem::Ambiguous(format!("{}: {what} could not be read", client.source().kind.label()))
}

/// The vendor's own words from an error body, sanitized and short.
fn vendor_message(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = [&v["message"], &v["description"], &v["error"]["message"], &v["error"]["title"], &v["error"]]
        .into_iter()
        .find_map(|m| m.as_str().filter(|s| !s.trim().is_empty()))
        .map(str::to_string)
        .unwrap_or_default();
    let clean = sanitize(text.trim()).into_owned();
    match clean.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
}

/// Stores what an attempt came to and says it for the report.
fn record(
    writer: &Writer,
    client: &Client,
    before: &OutboxEntry,
    step: Step,
    now: DateTime<Utc>,
    policy: &PushPolicy,
) -> Result<Outcome, StoreError> {
    let vendor = before.write.system().label();
    let mut e = before.clone();
    e.attempts += 1;
    let outcome = match step {
        Step::Sent { remote, found, rebase, resent, note, duplicate } => {
            e.state = match (resent, &note) {
                // A resent create: watched for copies an earlier request
                // may still make.
                (Some(since), _) => match next_point(since, now, &policy.watch) {
                    Some(at) => {
                        e.next_attempt = at;
                        OutboxState::Watching { since, kept: Some((now, remote.clone())), archived: Vec::new() }
                    }
                    None => OutboxState::Settled {
                        at: now,
                        remote: remote.clone(),
                        note: watch_note(since, Some(&remote), &[]),
                    },
                },
                (None, Some(note)) => OutboxState::Settled { at: now, remote: remote.clone(), note: note.clone() },
                (None, None) => OutboxState::Sent { at: now, remote: remote.clone() },
            };
            e.last_error = None;
            writer.run(|s| s.outbox_put(&e))?;
            if let (Write::Ticket { ticket, .. }, Some((old, new))) = (&e.write, rebase) {
                let moved = writer.run(|s| s.outbox_rebase(e.account_id, *ticket, old, new, e.id))?;
                tracing::info!(entry = e.id, ticket, moved, "later writes on the ticket take its new stamp");
            }
            adopt_activity(writer, client, before, None, &remote)?;
            return Ok(match (duplicate, found) {
                (true, _) => {
                    tracing::warn!(entry = e.id, "a ticket comment is at the desk more than once");
                    Outcome::Duplicate(note.unwrap_or_default())
                }
                (false, true) => Outcome::AlreadyThere(remote),
                (false, false) => Outcome::Sent(remote),
            });
        }
        Step::Watched(entry, outcome) => {
            writer.run(|s| s.outbox_put(&entry))?;
            return Ok(outcome);
        }
        Step::NotYet(at) => {
            // Stays as it was (its first moment kept), looked at again later.
            e.state = before.state.clone();
            e.next_attempt = at;
            Outcome::Checking
        }
        Step::Send(Problem::Ambiguous(m)) => {
            let unsure = OutboxState::Unsure { since: now };
            let outcome =
                later(&mut e, unsure, format!("{m}; it is checked at {vendor} before any resend"), now, policy);
            if before.write.creates() {
                // The first look once HubSpot's search may show it.
                e.next_attempt = next_point(now, now, &policy.checks).unwrap_or(e.next_attempt);
            }
            outcome
        }
        Step::Resend(Problem::Ambiguous(m), since) => {
            let watching = OutboxState::Watching { since, kept: None, archived: Vec::new() };
            let outcome =
                later(&mut e, watching, format!("{m}; it is checked at {vendor} before any resend"), now, policy);
            e.next_attempt = next_point(since, now, &policy.checks).unwrap_or(e.next_attempt);
            outcome
        }
        Step::Send(Problem::Transient(m)) | Step::Resend(Problem::Transient(m), _) => {
            later(&mut e, OutboxState::Pending, m, now, policy)
        }
        Step::Check(Problem::Transient(m) | Problem::Ambiguous(m)) => {
            // Nothing was sent: whatever it was before, it still is.
            let m = format!("could not check whether it already reached {vendor}: {m}");
            let state = before.state.clone();
            later(&mut e, state, m, now, policy)
        }
        Step::Send(Problem::Refused(m))
        | Step::Resend(Problem::Refused(m) | Problem::Conflict(m), _)
        | Step::Check(Problem::Refused(m) | Problem::Conflict(m)) => {
            e.state = OutboxState::Failed { reason: m.clone() };
            e.last_error = Some(m.clone());
            Outcome::Failed(m)
        }
        Step::Send(Problem::Conflict(msg)) => {
            let detail = conflict_detail(before, &msg);
            e.state = OutboxState::Conflict { detail: detail.clone() };
            e.last_error = Some(detail.clone());
            Outcome::Conflict(detail)
        }
    };
    writer.run(|s| s.outbox_put(&e))?;
    Ok(outcome)
}

/// Schedules another attempt after the backoff, or gives up after the cap.
fn later(e: &mut OutboxEntry, state: OutboxState, error: String, now: DateTime<Utc>, policy: &PushPolicy) -> Outcome {
    if e.attempts >= policy.max_attempts {
        let reason = format!(
            "gave up after {} attempts ({error}); retry it once {} is reachable (`cockpit outbox retry {}`)",
            e.attempts,
            e.write.system().label(),
            e.id
        );
        e.state = OutboxState::Failed { reason: reason.clone() };
        e.last_error = Some(error);
        return Outcome::Failed(reason);
    }
    e.state = state;
    e.next_attempt = now + backoff(e.attempts);
    e.last_error = Some(error.clone());
    Outcome::Retrying(error)
}

/// The conflict, for the CSM: what happened, that nothing was lost, and
/// the choices.
fn conflict_detail(e: &OutboxEntry, vendor_said: &str) -> String {
    let ticket = match &e.write {
        Write::Ticket { ticket, .. } => format!("ticket #{ticket}"),
        _ => "the record".into(),
    };
    let said = if vendor_said.is_empty() { String::new() } else { format!(" (Zendesk: {vendor_said})") };
    format!(
        "{ticket} changed at Zendesk since you last saw it; nothing was overwritten{said}. Look at the ticket, then retry to send anyway (`cockpit outbox retry {id}`), edit it (`cockpit outbox edit {id}`) or discard it (`cockpit outbox discard {id}`)",
        id = e.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_messages_are_found_cleaned_and_cut() {
        assert_eq!(
            vendor_message(br#"{"status":"error","message":"Property values were not valid"}"#),
            "Property values were not valid"
        );
        assert_eq!(
            vendor_message(br#"{"error":"RecordInvalid","description":"Record validation errors"}"#),
            "Record validation errors"
        );
        assert_eq!(
            vendor_message(br#"{"error":{"title":"Forbidden","message":"You do not have access"}}"#),
            "You do not have access"
        );
        assert_eq!(vendor_message(b"<html>bad gateway</html>"), "");
        assert_eq!(vendor_message("{\"message\":\"a\\u001b[31mred\"}".as_bytes()), "ared");
        let long = format!("{{\"message\":\"{}\"}}", "x".repeat(500));
        assert_eq!(vendor_message(long.as_bytes()).chars().count(), 161);
    }

    #[test]
    fn the_summary_counts_what_matters() {
        let r = PushReport {
            outcomes: vec![
                (1, Outcome::Sent("9".into())),
                (2, Outcome::AlreadyThere("10".into())),
                (3, Outcome::Failed("x".into())),
                (4, Outcome::Waiting("y".into())),
            ],
        };
        assert_eq!(r.summary().unwrap(), "2 sent, 1 waiting for a source, 1 failed");
        assert_eq!(PushReport::default().summary(), None);
    }
}
