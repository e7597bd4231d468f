//! Today's follow-up queue: what is due or overdue, most urgent first,
//! with the account context each item needs to be read on its own.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};

use crate::book::Book;
use crate::domain::followup::end_of_day;
use crate::domain::text::sanitize;
use crate::domain::{FollowUp, Priority};
use crate::store::{Store, StoreError};

/// One line of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    /// The follow-up.
    pub follow_up: FollowUp,
    /// The account's name, sanitized.
    pub account: String,
    /// The reason, sanitized.
    pub reason: String,
    /// The account's health, when known.
    pub health: Option<u8>,
    /// The account's ARR.
    pub arr: u64,
}

/// Urgency order: priority first (urgent on top), then the longest overdue.
pub fn rank(items: &mut [QueueItem]) {
    items.sort_by_key(|i| (Reverse(i.follow_up.priority), i.follow_up.due, i.follow_up.id));
}

/// Loads the items actionable at `now` (at most `limit`), ranked.
pub fn load(store: &Store, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueueItem>, StoreError> {
    load_with(store, now, limit, None)
}

/// As `load`, taking account context from a loaded book instead of the
/// store when one is given (no read per item).
pub fn load_with(
    store: &Store,
    now: DateTime<Utc>,
    limit: usize,
    book: Option<&Book>,
) -> Result<Vec<QueueItem>, StoreError> {
    let mut items = Vec::new();
    for f in store.follow_ups_before(end_of_day(now)) {
        let f = f?;
        if !f.is_actionable(now) {
            continue;
        }
        let row = match book.and_then(|b| b.row(f.account_id)) {
            Some(r) => Some(r.clone()),
            None => store.row(f.account_id)?,
        };
        // The account left the workspace (deleted at its source): so did its to-dos.
        let Some(row) = row else { continue };
        items.push(QueueItem {
            account: sanitize(&row.name).into_owned(),
            reason: sanitize(&f.reason).into_owned(),
            health: row.health,
            arr: row.arr,
            follow_up: f,
        });
        if items.len() >= limit {
            break;
        }
    }
    rank(&mut items);
    Ok(items)
}

/// Counts of a loaded queue: (overdue, due later today).
pub fn counts(items: &[QueueItem], now: DateTime<Utc>) -> (usize, usize) {
    let overdue = items.iter().filter(|i| i.follow_up.is_overdue(now)).count();
    (overdue, items.len() - overdue)
}

/// Short label of a priority.
pub fn priority_label(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "urgent",
        Priority::High => "high",
        Priority::Normal => "normal",
        Priority::Low => "low",
    }
}
