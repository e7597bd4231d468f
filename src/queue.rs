//! Today's follow-up queue: what is due or overdue, highest rank first
//! (see `domain::ranking`), with the account context each item needs to
//! be read, and its place explained, on its own.

use std::cmp::Reverse;

use chrono::{DateTime, NaiveDate, Utc};

use crate::book::Book;
use crate::domain::followup::{end_of_day, FollowUpState};
use crate::domain::ranking::{self, Rank, Signals};
use crate::domain::text::sanitize;
use crate::domain::{AccountRow, Bands, FollowUp, Priority, Segment};
use crate::store::{Store, StoreError};

/// One line of the queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The account's renewal date (none for a support organization of its
    /// own: it has no contract).
    pub renewal_date: Option<NaiveDate>,
    /// The account's segment.
    pub segment: Segment,
}

impl QueueItem {
    /// An item with its account's context.
    pub fn new(follow_up: FollowUp, row: &AccountRow) -> QueueItem {
        QueueItem {
            account: sanitize(&row.name).into_owned(),
            reason: sanitize(&follow_up.reason).into_owned(),
            health: row.health,
            arr: row.arr,
            renewal_date: Some(row.renewal_date),
            segment: row.segment,
            follow_up,
        }
    }

    /// The same item for an account with no contract to renew.
    pub fn without_renewal(self) -> QueueItem {
        QueueItem { renewal_date: None, ..self }
    }

    /// What the ranking looks at.
    pub fn signals(&self) -> Signals {
        let f = &self.follow_up;
        Signals {
            kind: f.kind,
            priority: f.priority,
            due: f.due,
            health: self.health,
            arr: self.arr,
            renewal_date: self.renewal_date,
        }
    }
}

/// The item's score and its parts at `now` (band names from the default bands).
pub fn score(item: &QueueItem, now: DateTime<Utc>) -> Rank {
    ranking::rank(&item.signals(), &Bands::default(), now)
}

/// Why the item sits where it does, one line per part ("overdue by 2 days
/// (+40)", "health 34, red (+26)", ...) and the total last.
pub fn explain(item: &QueueItem, now: DateTime<Utc>) -> Vec<String> {
    score(item, now).lines()
}

/// As `explain`, naming the health band by the workspace's own bands.
pub fn explain_with(item: &QueueItem, bands: &Bands, now: DateTime<Utc>) -> Vec<String> {
    ranking::rank(&item.signals(), bands, now).lines()
}

/// Rank order at `now`: highest score first; at an equal score (the
/// points are whole numbers) the lower health, then the higher ARR, then
/// the longest overdue, then the oldest item.
pub fn rank(items: &mut [QueueItem], now: DateTime<Utc>) {
    items.sort_by_cached_key(|i| rank_key(i, now));
}

type RankKey = (Reverse<i64>, u16, Reverse<u64>, DateTime<Utc>, u64);

fn rank_key(i: &QueueItem, now: DateTime<Utc>) -> RankKey {
    let health = i.health.map_or(u16::MAX, u16::from);
    (Reverse(score(i, now).score.into()), health, Reverse(i.arr), i.follow_up.due, i.follow_up.id)
}

/// Puts an item where the ranking wants it in an already ranked queue,
/// without re-ranking the rest (an undo at 100,000 accounts stays instant).
pub fn insert_ranked(items: &mut Vec<QueueItem>, item: QueueItem, now: DateTime<Utc>) {
    let at = ranked_place(items, &item, now);
    items.insert(at, item);
}

/// Where `item` goes in ranked `items`.
pub fn ranked_place(items: &[QueueItem], item: &QueueItem, now: DateTime<Utc>) -> usize {
    let key = rank_key(item, now);
    items.partition_point(|i| rank_key(i, now) < key)
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
    let mut items = read(store, end_of_day(now), limit, book, |f| f.is_actionable(now))?;
    rank(&mut items, now);
    Ok(items)
}

/// The first `limit` items not done, in due order, whatever their day: a
/// later start picks the ones actionable then (`from_kept`).
pub fn kept(store: &Store, limit: usize) -> Result<Vec<QueueItem>, StoreError> {
    read(store, DateTime::<Utc>::MAX_UTC, limit, None, |f| !matches!(f.state, FollowUpState::Done { .. }))
}

/// The items of `kept` actionable at `now` (at most `limit`), ranked.
pub fn from_kept(kept: Vec<QueueItem>, now: DateTime<Utc>, limit: usize) -> Vec<QueueItem> {
    let mut items: Vec<QueueItem> = kept.into_iter().filter(|i| i.follow_up.is_actionable(now)).take(limit).collect();
    rank(&mut items, now);
    items
}

/// Follow-ups due before `before` that `keep` accepts (at most `limit`),
/// in due order, each with its account's context.
fn read(
    store: &Store,
    before: DateTime<Utc>,
    limit: usize,
    book: Option<&Book>,
    keep: impl Fn(&FollowUp) -> bool,
) -> Result<Vec<QueueItem>, StoreError> {
    let mut items = Vec::new();
    for f in store.follow_ups_before(before) {
        let f = f?;
        if !keep(&f) {
            continue;
        }
        let row = match book.and_then(|b| b.row(f.account_id)) {
            Some(r) => Some(r.clone()),
            None => store.row(f.account_id)?,
        };
        // The account left the workspace (deleted at its source): so did its to-dos.
        let Some(row) = row else { continue };
        let support_only = match book {
            Some(b) => b.support_only(row.id).is_some(),
            None => store.support_only(row.id)?.is_some(),
        };
        let item = QueueItem::new(f, &row);
        items.push(if support_only { item.without_renewal() } else { item });
        if items.len() >= limit {
            break;
        }
    }
    Ok(items)
}

/// Counts of a loaded queue: (overdue, due later today).
pub fn counts(items: &[QueueItem], now: DateTime<Utc>) -> (usize, usize) {
    let overdue = items.iter().filter(|i| i.follow_up.is_overdue(now)).count();
    (overdue, items.len() - overdue)
}

/// Short label of a priority.
pub fn priority_label(p: Priority) -> &'static str {
    p.label()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::followup::Draft;
    use crate::domain::{AccountId, FollowUpKind};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
    }

    fn item(id: u64, due: DateTime<Utc>, priority: Priority, health: Option<u8>, arr: u64) -> QueueItem {
        let follow_up = Draft {
            account_id: AccountId(id),
            ticket_id: None,
            kind: FollowUpKind::CheckIn,
            reason: "r".into(),
            due,
            priority,
        }
        .into_follow_up(id);
        QueueItem {
            follow_up,
            account: format!("A{id}"),
            reason: "r".into(),
            health,
            arr,
            renewal_date: Some(now().date_naive() + Duration::days(200)),
            segment: Segment::MidMarket,
        }
    }

    fn order(mut items: Vec<QueueItem>) -> Vec<u64> {
        rank(&mut items, now());
        items.iter().map(|i| i.follow_up.id).collect()
    }

    #[test]
    fn overdue_beats_due_today_and_lower_health_breaks_a_tie() {
        let p = Priority::Normal;
        let later_today = now() + Duration::hours(3);
        let late = now() - Duration::hours(3);
        assert_eq!(
            order(vec![item(1, later_today, p, Some(60), 20_000), item(2, late, p, Some(60), 20_000)]),
            vec![2, 1]
        );
        // 34 and 35 score the same points: the lower health still comes first.
        assert_eq!(order(vec![item(1, late, p, Some(35), 20_000), item(2, late, p, Some(34), 20_000)]), vec![2, 1]);
        assert_eq!(order(vec![item(1, late, p, Some(50), 20_000), item(2, late, p, Some(50), 90_000)]), vec![2, 1]);
        assert_eq!(order(vec![item(1, late, p, None, 20_000), item(2, late, p, Some(90), 20_000)]), vec![2, 1]);
        // An urgent item due today outranks a normal one just overdue.
        assert_eq!(
            order(vec![item(1, late, p, Some(60), 20_000), item(2, later_today, Priority::Urgent, Some(60), 20_000)]),
            vec![2, 1]
        );
    }

    #[test]
    fn the_explanation_names_every_part_and_the_total() {
        let i = item(1, now() - Duration::days(2), Priority::High, Some(34), 120_000);
        assert_eq!(
            explain(&i, now()),
            vec![
                "Check-ins, high priority (+25)",
                "overdue by 2 days (+40)",
                "health 34, red (+26)",
                "ARR $120k (+10)",
                "renews in 200 days (+0)",
                "score 101",
            ]
        );
        assert_eq!(score(&i, now()).score, 101);
    }
}
