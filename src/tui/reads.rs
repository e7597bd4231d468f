//! What the screen needs from the store beyond the book and the queue: the
//! selected account's health, timeline and tickets, the outbox, the kept
//! drafts. The job runner reads them off the event loop and hands them back
//! as a `Msg`, so no keystroke waits on the disk; `App` holds no store.

use chrono::{DateTime, Duration, Utc};

use super::full_read::{self, FullAccount};
use crate::domain::conversation::Conversation;
use crate::domain::explain::Explanation;
use crate::domain::health_model::Model;
use crate::domain::outbox::OutboxEntry;
use crate::domain::reply::Requester;
use crate::domain::text::sanitize;
use crate::domain::{AccountId, HealthHistory, Ticket};
use crate::store::{Draft, OutboxCounts, Store};

/// Timeline entries the health pane's read keeps (the account view reads
/// the whole timeline, a page at a time).
pub const TIMELINE_SHOWN: usize = 6;

/// Days of history the health pane draws.
pub const HEALTH_DAYS: i64 = 90;

/// An account's health as the health pane and the detail show it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HealthView {
    /// Whose.
    pub id: AccountId,
    /// Daily scores ending at the latest scored day.
    pub history: HealthHistory,
    /// Why the latest score is what it is, and what moved it in a week.
    pub explanation: Option<Explanation>,
    /// The CSM's sentiment on the account, when set.
    pub sentiment: Option<crate::domain::signals::Sentiment>,
    /// The latest timeline entries, newest first.
    pub timeline: Vec<crate::domain::Activity>,
}

/// A read the screen asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The account's health, timeline and tickets, as of `now`.
    Account {
        /// Whose.
        id: AccountId,
        /// The screen's clock (the history ends on its day).
        now: DateTime<Utc>,
        /// The ask's number, which its answer carries.
        seq: u64,
    },
    /// Every outbox entry, for the outbox view.
    Outbox,
    /// The outbox counts, for the status line.
    OutboxCounts,
    /// The drafts kept from an earlier session, to open the next.
    Drafts,
    /// The account an account was merged into.
    Resolve(AccountId),
    /// Everything the account view shows of an account, as of `now`.
    Full {
        /// Whose.
        id: AccountId,
        /// The screen's clock.
        now: DateTime<Utc>,
        /// The ask's number, which its answer carries.
        seq: u64,
    },
    /// The next page of an account's timeline, older than an entry.
    TimelinePage {
        /// Whose.
        id: AccountId,
        /// The oldest entry read so far (its moment and id).
        before: (DateTime<Utc>, u64),
        /// The account view's read it extends.
        seq: u64,
    },
    /// A ticket's conversation as kept.
    Conversation(u64),
    /// The recent actions, for the undo list.
    UndoHistory,
}

/// What a read found.
#[derive(Debug)]
pub enum ReadAnswer {
    /// An account's view, with the number of its ask.
    Account(Box<AccountView>, u64),
    /// The outbox, or why it could not be read.
    Outbox(Result<Vec<OutboxEntry>, String>),
    /// The counts (an unreadable outbox keeps the old counts).
    OutboxCounts(Option<OutboxCounts>),
    /// The kept drafts, oldest first, or why they could not be read.
    Drafts(Result<Vec<(u64, Draft)>, String>),
    /// The account it became (none when it cannot be read).
    Resolved(AccountId, Option<AccountId>),
    /// The account view's account, with the number of its ask.
    Full(Box<FullAccount>, u64),
    /// More of a timeline: the entries, whether older ones remain, and
    /// the number of the account view's read.
    TimelinePage(AccountId, Result<(Vec<crate::domain::Activity>, bool), String>, u64),
    /// A ticket's kept conversation (none: never read), or why it could not be read.
    Conversation(u64, Result<Option<Conversation>, String>),
    /// The recent actions, newest first, or why they could not be read.
    UndoHistory(Result<Vec<crate::engine::act::HistoryItem>, String>),
}

/// One account as the health pane, the detail and the queue's ticket
/// actions need it.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// The health pane's view.
    pub health: HealthView,
    /// The account's tickets with their requesters named.
    pub tickets: Vec<TicketView>,
    /// What could not be read, for a toast.
    pub trouble: Option<String>,
}

/// A ticket with who opened it, as the CSM reads them.
#[derive(Debug, Clone)]
pub struct TicketView {
    /// The ticket as stored.
    pub ticket: Ticket,
    /// "Ana Lima <ana@acme.com>", or the desk's id with a word on why.
    pub shown: String,
    /// Their names, for a reply's greeting.
    pub requester: Requester,
}

/// Carries out a read on `store` (on a job thread, never the event loop).
pub fn read(store: &Store, read: Read, model: &Model) -> ReadAnswer {
    match read {
        Read::Account { id, now, seq } => ReadAnswer::Account(Box::new(account(store, id, model, now)), seq),
        Read::Outbox => ReadAnswer::Outbox(store.outbox().map_err(|e| e.to_string())),
        Read::OutboxCounts => ReadAnswer::OutboxCounts(
            store.outbox_counts().map_err(|e| tracing::warn!("outbox counts could not be read: {e}")).ok(),
        ),
        Read::Drafts => ReadAnswer::Drafts(store.drafts().map_err(|e| e.to_string())),
        Read::Resolve(id) => ReadAnswer::Resolved(id, store.resolve(id).ok()),
        Read::Full { id, now, seq } => ReadAnswer::Full(Box::new(full_read::read(store, id, model, now)), seq),
        Read::TimelinePage { id, before, seq } => ReadAnswer::TimelinePage(
            id,
            store.timeline_page(id, Some(before), full_read::TIMELINE_PAGE).map_err(|e| e.to_string()),
            seq,
        ),
        Read::Conversation(ticket) => {
            ReadAnswer::Conversation(ticket, store.conversation(ticket).map_err(|e| e.to_string()))
        }
        Read::UndoHistory => ReadAnswer::UndoHistory(crate::engine::act::history(store).map_err(|e| e.to_string())),
    }
}

/// The account's health over the last 90 days, why it is what it is, its
/// latest timeline entries and its tickets.
pub fn account(store: &Store, id: AccountId, model: &Model, now: DateTime<Utc>) -> AccountView {
    let mut trouble = None;
    let today = now.date_naive();
    let explanation = store.explain(id, model, today).unwrap_or_else(|e| {
        trouble = Some(format!("Could not read health: {e}"));
        None
    });
    // The 90 days up to today; moved back only when the last score is
    // older than today but within the month (one read in the usual case).
    let days = Duration::days(HEALTH_DAYS - 1);
    let mut history = store.health_history(id, today - days, today).unwrap_or_default();
    let end = history.latest().map(|(d, _)| d).filter(|d| *d >= today - Duration::days(29)).unwrap_or(today);
    if end != today {
        history = store.health_history(id, end - days, end).unwrap_or_default();
    }
    let sentiment = store.manual_signals(id).ok().flatten().and_then(|m| m.sentiment);
    let mut timeline = store.activities(id).unwrap_or_default();
    timeline.reverse();
    timeline.truncate(TIMELINE_SHOWN);
    let tickets = match store.tickets(id) {
        Ok(ts) => ts.into_iter().map(|t| ticket_view(store, t)).collect(),
        Err(e) => {
            trouble.get_or_insert(format!("Could not read the tickets: {e}"));
            Vec::new()
        }
    };
    AccountView { health: HealthView { id, history, explanation, sentiment, timeline }, tickets, trouble }
}

/// Names who opened a ticket: "Ana Lima <ana@acme.com>" from the synced
/// users, else the desk's id with a word on why.
pub(super) fn ticket_view(store: &Store, ticket: Ticket) -> TicketView {
    let (shown, requester) = match store.requester(&ticket) {
        Ok(Some(u)) => {
            let shown = match (u.name.trim(), u.email.trim()) {
                ("", "") => sanitize(&ticket.requester).into_owned(),
                ("", email) => sanitize(email).into_owned(),
                (name, "") => sanitize(name).into_owned(),
                (name, email) => format!("{} <{}>", sanitize(name), sanitize(email)),
            };
            let first = u.first_name().map(|f| sanitize(f).into_owned());
            let name = Some(sanitize(u.name.trim()).into_owned()).filter(|n| !n.is_empty());
            (shown, Requester { first_name: first, name })
        }
        // A desk id the synced users do not know.
        Ok(None) if is_desk_id(&ticket.requester) => {
            (format!("{} (name not synced)", sanitize(&ticket.requester)), Requester::default())
        }
        // A name as written on the ticket (the demo, older caches).
        Ok(None) => {
            let name = sanitize(ticket.requester.trim()).into_owned();
            let first = name.split_whitespace().next().filter(|f| !f.contains('@')).map(str::to_string);
            (name.clone(), Requester { first_name: first, name: Some(name).filter(|n| !n.is_empty()) })
        }
        Err(e) => {
            tracing::warn!(ticket = ticket.id, "could not read who opened the ticket: {e}");
            (sanitize(&ticket.requester).into_owned(), Requester::default())
        }
    };
    TicketView { ticket, shown, requester }
}

/// Whether a ticket's requester is the desk's id (`user 380000000126`).
fn is_desk_id(requester: &str) -> bool {
    requester.strip_prefix("user ").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desk_ids_are_told_from_names() {
        assert!(is_desk_id("user 380000000126"));
        assert!(!is_desk_id("user "));
        assert!(!is_desk_id("Ana Lima"));
        assert!(!is_desk_id("user 12a"));
    }
}
