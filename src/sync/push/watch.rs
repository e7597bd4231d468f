//! The watch of a note or task that was sent again: an earlier request may
//! still be applied by HubSpot, however late, so its copies are looked for
//! until the watch ends, the earliest kept and the others archived.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};

use super::look::copies;
use super::{adopt_activity, crm, exchange, judge, send, Outcome, Problem, PushPolicy, Step};
use crate::domain::outbox::{backoff, moment, next_point, watch_note, OutboxEntry, OutboxState};
use crate::engine::writer::Writer;
use crate::store::StoreError;
use crate::sync::http::Client;

/// Where the watch of a resent create stands.
#[derive(Debug, Clone)]
pub(super) struct Watch {
    /// When the last request left; the watch runs from here.
    pub(super) since: DateTime<Utc>,
    /// The copy kept, once known: when it was seen, its id.
    pub(super) kept: Option<(DateTime<Utc>, String)>,
    /// Later copies archived, with when.
    pub(super) archived: Vec<(String, DateTime<Utc>)>,
}

impl Watch {
    /// The entry's state for this watch.
    pub(super) fn state(&self) -> OutboxState {
        OutboxState::Watching { since: self.since, kept: self.kept.clone(), archived: self.archived.clone() }
    }
}

/// A round of a watched create: look for every copy; when none is there
/// yet and the checks found nothing, send once more (watched from then).
pub(super) async fn watch(
    writer: &Writer,
    client: &Client,
    before: &OutboxEntry,
    w: Watch,
    now: DateTime<Utc>,
    policy: &PushPolicy,
) -> Result<Step, StoreError> {
    let ids = match copies(client, before).await {
        Ok(ids) => ids,
        Err(p) if w.kept.is_none() => return Ok(Step::Check(p)),
        Err(p) => {
            // It landed: a failed look never fails the entry, it is
            // simply looked at again.
            let mut e = before.clone();
            e.attempts += 1;
            let m = format!("could not look for late copies at HubSpot: {}", p.text());
            e.last_error = Some(m.clone());
            e.next_attempt = now + backoff(e.attempts);
            return Ok(Step::Watched(Box::new(e), Outcome::Retrying(m)));
        }
    };
    if ids.is_empty() && w.kept.is_none() {
        if let Some(at) = next_point(w.since, now, &policy.checks) {
            return Ok(Step::NotYet(at));
        }
        let mut again = before.clone();
        again.attempts += 1;
        again.state = Watch { since: now, ..w }.state();
        writer.run(|s| s.outbox_put(&again))?;
        writer.run(|s| s.flush())?;
        return Ok(match send(writer, client, before).await? {
            Ok(Step::Sent { remote, found, rebase, note, duplicate, .. }) => {
                Step::Sent { remote, found, rebase, resent: Some(now), note, duplicate }
            }
            Ok(step) => step,
            Err(p) => Step::Resend(p, now),
        });
    }
    reconcile(writer, client, before, w, ids, now, policy).await
}

/// Keeps the earliest of the copies carrying the marker (`ids`, earliest
/// first) and archives the others, listed on disk before the archive
/// requests leave (a crash then finds them again and archives them again).
/// Ends the watch after its last round.
pub(super) async fn reconcile(
    writer: &Writer,
    client: &Client,
    before: &OutboxEntry,
    mut w: Watch,
    ids: Vec<String>,
    now: DateTime<Utc>,
    policy: &PushPolicy,
) -> Result<Step, StoreError> {
    let mut e = before.clone();
    e.attempts += 1;
    e.last_error = None;
    let mut outcome = Outcome::Watched;
    // Our own copy not visible (the search lags, or it was removed at
    // HubSpot): nothing is archived on that evidence.
    let ours_visible = w.kept.as_ref().is_none_or(|(_, k)| ids.contains(k));
    if let (true, Some(keep)) = (ours_visible, ids.first()) {
        let keep = keep.clone();
        let extra = &ids[1..];
        let was = w.kept.as_ref().map(|(_, k)| k.clone());
        let at = w.kept.as_ref().map_or(now, |(t, _)| *t);
        w.kept = Some((at, keep.clone()));
        for x in extra {
            if !w.archived.iter().any(|(id, _)| id == x) {
                w.archived.push((x.clone(), now));
            }
        }
        if !extra.is_empty() {
            e.state = w.state();
            writer.run(|s| s.outbox_put(&e))?;
            writer.run(|s| s.flush())?;
            for x in extra {
                if let Err(p) = archive(client, before, x).await {
                    // Still listed, and found again next round.
                    let m =
                        format!("could not archive the late copy {x} at HubSpot yet ({}); it is tried again", p.text());
                    e.last_error = Some(m.clone());
                    e.next_attempt = now + backoff(e.attempts);
                    if was.as_deref() != Some(keep.as_str()) {
                        adopt_activity(writer, client, before, was.as_deref(), &keep)?;
                    }
                    return Ok(Step::Watched(Box::new(e), Outcome::Retrying(m)));
                }
            }
            tracing::warn!(entry = e.id, kept = %keep, archived = ?extra, "archived late copies of a resent write");
            outcome = Outcome::Archived(watch_note(w.since, Some(&keep), &w.archived));
        } else if was.is_none() {
            outcome = Outcome::AlreadyThere(keep.clone());
        }
        if was.as_deref() != Some(keep.as_str()) {
            adopt_activity(writer, client, before, was.as_deref(), &keep)?;
        }
    }
    e.state = w.state();
    match (next_point(w.since, now, &policy.watch), &w.kept) {
        (Some(at), _) => e.next_attempt = at,
        (None, Some((at, remote))) => {
            let note = format!(
                "{}; watched for late copies until {}",
                watch_note(w.since, Some(remote), &w.archived),
                moment(now)
            );
            e.state = OutboxState::Settled { at: *at, remote: remote.clone(), note };
        }
        // No copy seen at all yet: keep looking.
        (None, None) => e.next_attempt = now + backoff(e.attempts),
    }
    Ok(Step::Watched(Box::new(e), outcome))
}

/// Archives one copy of a note or task. HubSpot answers 204 with no body;
/// one already gone (404) counts as archived.
async fn archive(client: &Client, e: &OutboxEntry, id: &str) -> Result<(), Problem> {
    let path = crm::archive_path(e, id).expect("a CRM create");
    let answer = exchange(client, Method::DELETE, &path, None).await?;
    if answer.status.is_success() || answer.status == StatusCode::NOT_FOUND {
        return Ok(());
    }
    judge(client, answer).map(|_| ())
}
