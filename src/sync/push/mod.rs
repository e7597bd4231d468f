//! The pusher: works through the outbox in id order and sends each due
//! write to HubSpot or Zendesk exactly once. Before a request leaves, the
//! entry is marked `Unsure` on disk; after any answer that never came, the
//! next attempt first looks for the entry's marker at the vendor, so a
//! write that did land is recorded as sent instead of made twice.

pub mod crm;
pub mod desk;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::http::{Answer, Client, RetryPolicy, SendFailure};
use super::source::{Kind, Source};
use crate::domain::outbox::{backoff, OutboxEntry, OutboxState, System, Write};
use crate::domain::text::sanitize;
use crate::store::{Store, StoreError};

/// How hard the pusher tries.
#[derive(Debug, Clone, Copy)]
pub struct PushPolicy {
    /// Timeouts (each request is sent once; `attempts` is not used).
    pub http: RetryPolicy,
    /// Attempts before an entry is given up and left to the CSM.
    pub max_attempts: u32,
    /// Entries handled per push at most.
    pub batch: usize,
    /// How long HubSpot's search may take to show a new note or task: an
    /// unanswered create younger than this is not sent again yet, since
    /// not finding it may only mean it is not indexed yet.
    pub settle: Duration,
}

impl Default for PushPolicy {
    fn default() -> Self {
        PushPolicy {
            http: RetryPolicy { timeout: std::time::Duration::from_secs(20), ..RetryPolicy::default() },
            max_attempts: 8,
            batch: 50,
            settle: Duration::seconds(60),
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

/// What one attempt came to.
enum Step {
    /// Sent (or found sent); the stamp move for a ticket write.
    Sent { remote: String, found: bool, rebase: Option<(DateTime<Utc>, DateTime<Utc>)> },
    /// The send failed.
    Send(Problem),
    /// The marker check failed: nothing was sent this time.
    Check(Problem),
    /// Not found yet, but too recent to be sure: look again at this moment.
    NotYet(DateTime<Utc>),
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

/// The clients of one push: the first configured source of each kind.
struct Vendors {
    crm: Option<Client>,
    desk: Option<Client>,
}

impl Vendors {
    fn new(sources: &[Source], policy: &PushPolicy) -> Vendors {
        let first = |k: Kind| sources.iter().find(|s| s.kind == k).map(|s| super::client_for(s, policy.http));
        Vendors { crm: first(Kind::Hubspot), desk: first(Kind::Zendesk) }
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
/// for a system with no configured source wait, untouched.
pub async fn push(
    store: &Store,
    sources: &[Source],
    clock: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    policy: &PushPolicy,
) -> Result<PushReport, StoreError> {
    let mut report = PushReport::default();
    let Some(_busy) = Busy::take(store) else { return Ok(report) };
    let vendors = Vendors::new(sources, policy);
    let start = clock();
    let due: Vec<OutboxEntry> = store
        .outbox()?
        .into_iter()
        .filter(|e| e.state.is_pushable() && e.next_attempt <= start)
        .take(policy.batch)
        .collect();
    for listed in due {
        let system = listed.write.system();
        let Some(client) = vendors.for_system(system) else {
            let why = format!("no {} source is configured; it is sent once one is", system.label());
            report.outcomes.push((listed.id, Outcome::Waiting(why)));
            continue;
        };
        let now = clock();
        // Marked Unsure and on disk before anything leaves.
        let Some(before) = store.outbox_claim(listed.id, now)? else { continue };
        let step = attempt(store, client, &before, now, policy).await?;
        let outcome = record(store, &before, step, now, policy)?;
        if let Outcome::Sent(remote) | Outcome::AlreadyThere(remote) = &outcome {
            adopt_activity(store, client, &before, remote)?;
        }
        report.outcomes.push((before.id, outcome));
    }
    Ok(report)
}

/// A landed HubSpot note or task: its timeline entry takes the id the
/// sync gives that engagement, so the synced copy replaces it.
fn adopt_activity(store: &Store, client: &Client, e: &OutboxEntry, remote: &str) -> Result<(), StoreError> {
    let object = match e.write {
        Write::Note { .. } => crate::sync::hubspot::Object::Notes,
        Write::Task { .. } => crate::sync::hubspot::Object::Tasks,
        _ => return Ok(()),
    };
    let Some(id) = remote.parse::<u64>().ok().and_then(|r| crate::sync::hubspot::activity_id(object, r).ok()) else {
        return Ok(());
    };
    store.outbox_adopt_activity(e, &client.source().name, id)
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
/// attempt may have landed, then the send.
async fn attempt(
    store: &Store,
    client: &Client,
    before: &OutboxEntry,
    now: DateTime<Utc>,
    policy: &PushPolicy,
) -> Result<Step, StoreError> {
    // Any earlier attempt (an unanswered one, a crash, or a failure the CSM
    // retried) may have landed: look before sending again.
    let tried = before.state != OutboxState::Pending || before.attempts > 0 || before.last_error.is_some();
    if tried {
        match check(client, before).await {
            Err(p) => return Ok(Step::Check(p)),
            Ok(Some((remote, stamp))) => {
                let rebase = match (&before.write, stamp) {
                    (Write::Ticket { updated_stamp, .. }, Some(new)) => Some((*updated_stamp, new)),
                    _ => None,
                };
                return Ok(Step::Sent { remote, found: true, rebase });
            }
            Ok(None) => {}
        }
        if let OutboxState::Unsure { since } = before.state {
            // HubSpot's search lags its writes: a young create may just
            // not be indexed yet.
            let created = before.write.system() == System::Crm && before.write.has_body();
            if created && now < since + policy.settle {
                return Ok(Step::NotYet(since + policy.settle));
            }
            // Sending again now: a crash during this request must be
            // checked against this moment, not the first one.
            let mut again = before.clone();
            again.attempts += 1;
            again.state = OutboxState::Unsure { since: now };
            store.outbox_put(&again)?;
            store.flush()?;
        }
    }
    Ok(match send(store, client, before).await? {
        Ok(step) => step,
        Err(p) => Step::Send(p),
    })
}

/// Sends the write. The outer error is the store's; the inner, the vendor's.
async fn send(store: &Store, client: &Client, e: &OutboxEntry) -> Result<Result<Step, Problem>, StoreError> {
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
                Ok(Step::Sent { remote, found: false, rebase: None })
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
            Ok(request(client, Method::PATCH, &path, Some(&body)).await.map(|_| Step::Sent {
                remote: company,
                found: false,
                rebase: None,
            }))
        }
        Write::Ticket { ticket, updated_stamp, .. } => {
            let (path, body) = desk::update(e).expect("a ticket write");
            Ok(request(client, Method::PUT, &path, Some(&body)).await.map(|answer| {
                let rebase = desk::updated_at(&answer).map(|new| (*updated_stamp, new));
                Step::Sent { remote: desk::remote_id(&answer, *ticket), found: false, rebase }
            }))
        }
    }
}

/// Looks for the entry's marker at the vendor: the id of what carries it,
/// and for a ticket the stamp our write left if nothing changed since.
async fn check(client: &Client, e: &OutboxEntry) -> Result<Option<(String, Option<DateTime<Utc>>)>, Problem> {
    match &e.write {
        Write::Note { .. } | Write::Task { .. } => {
            let (path, body) = crm::search(e).expect("a CRM write");
            let answer = request(client, Method::POST, &path, Some(&body)).await?;
            Ok(crm::found(e, &answer).map(|id| (id, None)))
        }
        // Setting a property twice is harmless: nothing to look for.
        Write::Stage { .. } => Ok(None),
        Write::Ticket { ticket, .. } => {
            let marker = e.marker();
            let mut after: Option<String> = None;
            // Newest first: ours is among the latest, a few pages at most.
            for _ in 0..5 {
                let answer =
                    request(client, Method::GET, &desk::comments_path(*ticket, after.as_deref()), None).await?;
                let (found, next) = desk::find_comment(&answer, &marker);
                if let Some(f) = found {
                    // Our comment's moment is the ticket's stamp only if
                    // nothing changed it since.
                    let t = request(client, Method::GET, &desk::ticket_path(*ticket), None).await?;
                    let stamp = desk::updated_at(&t).filter(|u| Some(*u) == f.created_at);
                    return Ok(Some((f.id, stamp)));
                }
                match next {
                    Some(c) => after = Some(c),
                    None => return Ok(None),
                }
            }
            Ok(None)
        }
    }
}

/// Sends one request and reads a JSON answer, sorting every failure.
async fn request(client: &Client, method: Method, path: &str, body: Option<&Value>) -> Result<Value, Problem> {
    let vendor = client.source().kind.label();
    let answer = client.send_once(method, path, body).await.map_err(|f| match f {
        SendFailure::Setup(e) => Problem::Refused(e.to_string()),
        SendFailure::NotSent { .. } => Problem::Transient(format!("{vendor}: {f}; you may be offline")),
        SendFailure::Ambiguous { .. } => Problem::Ambiguous(format!("{vendor}: {f}")),
    })?;
    judge(client, answer)
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
    store: &Store,
    before: &OutboxEntry,
    step: Step,
    now: DateTime<Utc>,
    policy: &PushPolicy,
) -> Result<Outcome, StoreError> {
    let vendor = before.write.system().label();
    let mut e = before.clone();
    e.attempts += 1;
    let outcome = match step {
        Step::Sent { remote, found, rebase } => {
            e.state = OutboxState::Sent { at: now, remote: remote.clone() };
            e.last_error = None;
            store.outbox_put(&e)?;
            if let (Write::Ticket { ticket, .. }, Some((old, new))) = (&e.write, rebase) {
                let moved = store.outbox_rebase(e.account_id, *ticket, old, new, e.id)?;
                tracing::info!(entry = e.id, ticket, moved, "later writes on the ticket take its new stamp");
            }
            return Ok(if found { Outcome::AlreadyThere(remote) } else { Outcome::Sent(remote) });
        }
        Step::NotYet(at) => {
            // Stays Unsure with its first moment, looked at again later.
            e.state = before.state.clone();
            e.next_attempt = at;
            Outcome::Checking
        }
        Step::Send(Problem::Ambiguous(m)) => {
            let unsure = OutboxState::Unsure { since: now };
            later(&mut e, unsure, format!("{m}; it is checked at {vendor} before any resend"), now, policy)
        }
        Step::Send(Problem::Transient(m)) => later(&mut e, OutboxState::Pending, m, now, policy),
        Step::Check(Problem::Transient(m) | Problem::Ambiguous(m)) => {
            // Nothing was sent: whatever it was before, it still is.
            let m = format!("could not check whether it already reached {vendor}: {m}");
            let state = before.state.clone();
            later(&mut e, state, m, now, policy)
        }
        Step::Send(Problem::Refused(m)) | Step::Check(Problem::Refused(m) | Problem::Conflict(m)) => {
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
    store.outbox_put(&e)?;
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
