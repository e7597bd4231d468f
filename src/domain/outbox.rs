//! The outbox: writes made in the cockpit that must reach the CRM or the
//! support desk exactly once. Each entry carries an idempotency key that is
//! also written into the note or comment as a marker, so after an ambiguous
//! failure the pusher can look for it before sending again (HubSpot has no
//! idempotency keys, and Zendesk honours them only when creating tickets).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::account::AccountId;
use super::followup::Priority;
use super::health::Band;
use super::lifecycle::Stage;
use super::ticket::TicketStatus;

/// Which system a write goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// The CRM (HubSpot).
    Crm,
    /// The support desk (Zendesk).
    Desk,
}

impl System {
    /// Name for the CSM.
    pub fn label(self) -> &'static str {
        match self {
            System::Crm => "HubSpot",
            System::Desk => "Zendesk",
        }
    }
}

/// One write to make at a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Write {
    /// A note on the account's company (HubSpot note, association 190).
    Note {
        /// The note, plain text.
        body: String,
        /// When it happened (`hs_timestamp`).
        at: DateTime<Utc>,
    },
    /// A task on the account's company (HubSpot task, association 192).
    Task {
        /// The task's subject.
        subject: String,
        /// The task's body.
        body: String,
        /// When it is due (`hs_timestamp`).
        due: DateTime<Utc>,
        /// How urgent (`hs_task_priority`).
        priority: Priority,
    },
    /// A comment and maybe a status change on a ticket (Zendesk `PUT
    /// /api/v2/tickets/{id}` with `safe_update`).
    Ticket {
        /// The vendor's ticket id.
        ticket: u64,
        /// The comment. Every ticket write carries one, private when the
        /// action has nothing to say to the customer, so it can be found.
        body: String,
        /// Whether the customer sees the comment.
        public: bool,
        /// The new status, if it changes.
        status: Option<TicketStatus>,
        /// The ticket's `updated_at` as we last saw it: the desk answers 409
        /// when the ticket changed since.
        updated_stamp: DateTime<Utc>,
    },
    /// The account's lifecycle stage on its company (HubSpot `PATCH` of the
    /// stage property the source maps). Setting a value is idempotent: it
    /// needs no marker.
    Stage {
        /// The stage moved to.
        stage: Stage,
    },
    /// The account's health on its company (`[health.write_back]`), sent
    /// with others in HubSpot batch updates. Setting values is idempotent:
    /// no marker. Kept last: entries on disk name variants by position.
    Health {
        /// The score, 0-100.
        score: u8,
        /// Its band.
        band: Band,
        /// What costs the most points, in words.
        reason: String,
    },
}

impl Write {
    /// The system the write goes to.
    pub fn system(&self) -> System {
        match self {
            Write::Note { .. } | Write::Task { .. } | Write::Stage { .. } | Write::Health { .. } => System::Crm,
            Write::Ticket { .. } => System::Desk,
        }
    }

    /// What the write is, in a few words ("note", "reply on #123").
    pub fn describe(&self) -> String {
        match self {
            Write::Note { .. } => "note".into(),
            Write::Stage { stage } => format!("stage: {}", stage.label()),
            Write::Health { score, band, .. } => format!("health {score} {}", band.key()),
            Write::Task { subject, .. } => format!("task \"{subject}\""),
            Write::Ticket { ticket, public: true, status: None, .. } => format!("reply on #{ticket}"),
            Write::Ticket { ticket, public: true, status: Some(s), .. } => format!("reply on #{ticket}, set {s:?}"),
            Write::Ticket { ticket, public: false, status: None, .. } => format!("internal comment on #{ticket}"),
            Write::Ticket { ticket, public: false, status: Some(s), .. } => format!("set #{ticket} {s:?}"),
        }
        .to_lowercase()
    }

    /// The text the CSM wrote (note, task or comment body); a stage move
    /// has none, and a health write shows its reason.
    pub fn body(&self) -> &str {
        match self {
            Write::Note { body, .. } | Write::Task { body, .. } | Write::Ticket { body, .. } => body,
            Write::Health { reason, .. } => reason,
            Write::Stage { .. } => "",
        }
    }

    /// Whether it creates an object at the vendor (a HubSpot note or task):
    /// a second request for it makes a second copy.
    pub fn creates(&self) -> bool {
        matches!(self, Write::Note { .. } | Write::Task { .. })
    }

    /// Whether it carries text the CSM may edit.
    pub fn has_body(&self) -> bool {
        self.no_edit_reason().is_none()
    }

    /// Why its text cannot be edited, for the CSM, when it cannot.
    pub fn no_edit_reason(&self) -> Option<&'static str> {
        match self {
            Write::Stage { .. } => Some("a stage move has no text to edit; move the stage again instead"),
            Write::Health { .. } => {
                Some("a health write comes from the daily pass; it cannot be edited, only discarded")
            }
            Write::Note { .. } | Write::Task { .. } | Write::Ticket { .. } => None,
        }
    }

    /// Whether it is a health write (pushed in batches, one pending per
    /// account at most).
    pub fn is_health(&self) -> bool {
        matches!(self, Write::Health { .. })
    }

    /// Replaces the text (an edit from the outbox view).
    pub fn set_body(&mut self, text: String) {
        match self {
            Write::Note { body, .. } | Write::Task { body, .. } | Write::Ticket { body, .. } => *body = text,
            Write::Stage { .. } | Write::Health { .. } => {}
        }
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its turn (or for the network).
    Pending,
    /// A request left and no answer came back (timeout, reset, crash): the
    /// write may or may not have landed. Before sending again the pusher
    /// looks for the marker.
    Unsure {
        /// When the request left.
        since: DateTime<Utc>,
    },
    /// Landed at the vendor.
    Sent {
        /// When.
        at: DateTime<Utc>,
        /// The vendor's id of what was created or changed.
        remote: String,
    },
    /// The vendor refused it, or retries ran out; the CSM decides (retry,
    /// edit or discard).
    Failed {
        /// Why, for the CSM.
        reason: String,
    },
    /// The ticket changed at the desk since we saw it (HTTP 409): nothing
    /// was overwritten; the CSM decides.
    Conflict {
        /// What changed, for the CSM.
        detail: String,
    },
    /// A note or task sent again after its checks found nothing: the
    /// vendor may still apply an earlier request, however late. Until the
    /// watch ends, copies carrying its marker are looked for and all but
    /// the earliest archived.
    Watching {
        /// When the last request for it left; the watch runs from here.
        since: DateTime<Utc>,
        /// The copy kept, once one is known: when it was seen, its id.
        kept: Option<(DateTime<Utc>, String)>,
        /// Later copies archived, with when; listed on disk before the
        /// archive request leaves.
        archived: Vec<(String, DateTime<Utc>)>,
    },
    /// Landed, and how is worth telling: found by its marker after an
    /// answer that never came, late copies archived after a resend, or a
    /// duplicate comment the desk cannot delete.
    Settled {
        /// When it was known to have landed.
        at: DateTime<Utc>,
        /// The vendor's id of what is kept.
        remote: String,
        /// What happened, for the CSM.
        note: String,
    },
}

impl OutboxState {
    /// Short label for lists.
    pub fn label(&self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Unsure { .. } => "checking",
            OutboxState::Sent { .. } => "sent",
            OutboxState::Failed { .. } => "failed",
            OutboxState::Conflict { .. } => "conflict",
            OutboxState::Watching { kept: None, .. } => "checking",
            OutboxState::Watching { kept: Some(_), .. } => "watching",
            OutboxState::Settled { .. } => "sent",
        }
    }

    /// Whether the pusher works on it without the CSM.
    pub fn is_pushable(&self) -> bool {
        matches!(self, OutboxState::Pending | OutboxState::Unsure { .. } | OutboxState::Watching { .. })
    }

    /// Whether it reached the vendor (a watched one may still be checked
    /// for late copies).
    pub fn landed(&self) -> bool {
        self.remote().is_some()
    }

    /// The vendor's id of what it made or changed, once landed.
    pub fn remote(&self) -> Option<&str> {
        match self {
            OutboxState::Sent { remote, .. } | OutboxState::Settled { remote, .. } => Some(remote),
            OutboxState::Watching { kept: Some((_, remote)), .. } => Some(remote),
            _ => None,
        }
    }

    /// Whether its text may still change: nothing of it may have left.
    pub fn is_editable(&self) -> bool {
        matches!(self, OutboxState::Pending | OutboxState::Failed { .. } | OutboxState::Conflict { .. })
    }

    /// Whether the CSM has to act on it.
    pub fn needs_attention(&self) -> bool {
        matches!(self, OutboxState::Failed { .. } | OutboxState::Conflict { .. })
    }
}

/// One write waiting to reach, or having reached, a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Outbox id: increasing, so entries push in the order they were made.
    pub id: u64,
    /// Idempotency key, also written into the body as the marker.
    pub key: String,
    /// The account.
    pub account_id: AccountId,
    /// The timeline entry it came from (made at `created`). Once a note or
    /// task lands it takes the vendor's id, so the next sync updates that
    /// entry instead of adding a second one.
    pub activity: u64,
    /// What to write.
    pub write: Write,
    /// Where it stands.
    pub state: OutboxState,
    /// Requests made so far.
    pub attempts: u32,
    /// Not before this moment (backoff).
    pub next_attempt: DateTime<Utc>,
    /// When the CSM made it.
    pub created: DateTime<Utc>,
    /// The last transient error, for the outbox view.
    pub last_error: Option<String>,
}

impl OutboxEntry {
    /// A new pending entry; the key derives from the id and the moment so
    /// it is unique across workspaces too.
    pub fn new(id: u64, account_id: AccountId, activity: u64, write: Write, now: DateTime<Utc>) -> OutboxEntry {
        OutboxEntry {
            id,
            key: idempotency_key(id, now),
            account_id,
            activity,
            write,
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt: now,
            created: now,
            last_error: None,
        }
    }

    /// The marker written into the note or comment.
    pub fn marker(&self) -> String {
        marker(&self.key)
    }

    /// The body as sent: the CSM's text, then the marker on its own line.
    pub fn body_with_marker(&self) -> String {
        format!("{}\n\n{}", self.write.body().trim_end(), self.marker())
    }
}

/// An idempotency key: `ck`, the moment and the id in hex, joined by an
/// `x`. Letters and digits only, so a vendor's search sees one token.
pub fn idempotency_key(id: u64, now: DateTime<Utc>) -> String {
    format!("ck{:x}x{:x}", now.timestamp_millis(), id)
}

/// The marker for a key, as it appears in a note or comment.
pub fn marker(key: &str) -> String {
    format!("[cockpit ref {key}]")
}

/// The first moment of `schedule` (offsets from `since`) after `now`, if
/// any is left: when to look again.
pub fn next_point(since: DateTime<Utc>, now: DateTime<Utc>, schedule: &[Duration]) -> Option<DateTime<Utc>> {
    schedule.iter().map(|d| since + *d).filter(|t| *t > now).min()
}

/// A moment for the CSM, to the second.
pub fn moment(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// What a watch did so far, for the CSM: the resend, the late copies
/// archived and the one kept.
pub fn watch_note(since: DateTime<Utc>, kept: Option<&str>, archived: &[(String, DateTime<Utc>)]) -> String {
    let mut note = format!("sent again at {} after its checks found nothing", moment(since));
    for (id, at) in archived {
        note.push_str(&format!(
            "; a late copy {id} made by an earlier request was archived at {} (HubSpot's recycling bin)",
            moment(*at)
        ));
    }
    if let Some(kept) = kept {
        note.push_str(&format!("; {kept} is kept"));
    }
    note
}

/// Backoff before attempt `n + 1` after `n` failed ones: 30 s doubling up
/// to an hour, so a laptop offline for days does not spin.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 30i64.saturating_mul(1 << attempts.saturating_sub(1).min(7));
    Duration::seconds(secs.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
    }

    #[test]
    fn marker_is_in_the_body_once() {
        let e = OutboxEntry::new(5, AccountId(1), 9, Write::Note { body: "Called Ana.\n".into(), at: now() }, now());
        let body = e.body_with_marker();
        assert!(body.starts_with("Called Ana.\n\n[cockpit ref ck"));
        assert!(e.key.chars().all(|c| c.is_ascii_alphanumeric()), "{}", e.key);
        assert_eq!(body.matches(&e.key).count(), 1);
        assert_ne!(e.key, OutboxEntry::new(6, AccountId(1), 9, e.write.clone(), now()).key);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(40), Duration::seconds(3600));
    }

    #[test]
    fn schedules_give_the_next_moment_left() {
        let s = [Duration::minutes(1), Duration::minutes(5), Duration::minutes(15), Duration::minutes(60)];
        let t = now();
        assert_eq!(next_point(t, t, &s), Some(t + Duration::minutes(1)));
        assert_eq!(next_point(t, t + Duration::minutes(1), &s), Some(t + Duration::minutes(5)));
        assert_eq!(next_point(t, t + Duration::seconds(301), &s), Some(t + Duration::minutes(15)));
        assert_eq!(next_point(t, t + Duration::minutes(60), &s), None, "the last check is done");
        assert_eq!(next_point(t, t, &[]), None);
    }

    #[test]
    fn states_say_whether_it_landed_and_may_change() {
        let w = |kept: Option<&str>| OutboxState::Watching {
            since: now(),
            kept: kept.map(|k| (now(), k.to_string())),
            archived: vec![],
        };
        assert_eq!((w(None).label(), w(None).landed(), w(None).is_pushable()), ("checking", false, true));
        assert_eq!((w(Some("9")).label(), w(Some("9")).remote()), ("watching", Some("9")));
        let settled = OutboxState::Settled { at: now(), remote: "9".into(), note: "x".into() };
        assert_eq!((settled.label(), settled.landed(), settled.is_pushable()), ("sent", true, false));
        assert!(!w(None).is_editable() && !settled.is_editable() && OutboxState::Pending.is_editable());
        let archived = vec![("502".to_string(), now() + Duration::minutes(5))];
        assert_eq!(
            watch_note(now(), Some("501"), &archived),
            "sent again at 2026-11-26 09:00:00 UTC after its checks found nothing; a late copy 502 made by an earlier request was archived at 2026-11-26 09:05:00 UTC (HubSpot's recycling bin); 501 is kept"
        );
    }

    #[test]
    fn describe_names_the_write() {
        let w = Write::Ticket {
            ticket: 42,
            body: "x".into(),
            public: false,
            status: Some(TicketStatus::Solved),
            updated_stamp: now(),
        };
        assert_eq!(w.describe(), "set #42 solved");
        assert_eq!(w.system(), System::Desk);
    }
}
