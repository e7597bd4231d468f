//! Today's follow-up queue: what is due or overdue, highest rank first
//! (see `domain::ranking`), with the account context each item needs to
//! be read, and its place explained, on its own.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::book::Book;
use crate::domain::calendar::{Bounds, Calendar, Section};
use crate::domain::followup::FollowUpState;
use crate::domain::ranking::{self, Rank, Signals};
use crate::domain::text::sanitize;
use crate::domain::{AccountRow, Bands, FollowUp, Priority, Segment};
use crate::store::{Store, StoreError};

/// One line of the queue. Its texts are shared: the items loaded together
/// hold one copy of each distinct reason and of each account's name (see
/// `Texts`), so 150,000 items cost about 120 bytes each.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueueItem {
    /// The follow-up, its reason as stored (raw).
    pub follow_up: FollowUp<Arc<str>>,
    /// When it comes up for the user: its due time moved to the next
    /// working hour when it fell outside them, or the end of its snooze.
    pub due: DateTime<Utc>,
    /// The account's name, sanitized.
    pub account: Arc<str>,
    /// The reason, sanitized.
    pub reason: Arc<str>,
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

/// One shared copy of each distinct text (reason or name) of the items
/// loaded together.
#[derive(Debug, Default)]
pub struct Texts(HashSet<Arc<str>>);

impl Texts {
    /// The shared copy of `text`.
    pub fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        self.0.insert(shared.clone());
        shared
    }

    /// The shared copy of `text` made safe to draw.
    fn sanitized(&mut self, text: &Arc<str>) -> Arc<str> {
        match sanitize(text) {
            Cow::Borrowed(_) => text.clone(),
            Cow::Owned(clean) => self.get(&clean),
        }
    }
}

impl QueueItem {
    /// An item with its account's context, due on the user's calendar.
    pub fn new(follow_up: FollowUp, row: &AccountRow, cal: &Calendar) -> QueueItem {
        QueueItem::with_texts(follow_up, row, &mut Texts::default(), cal)
    }

    /// As `new`, sharing the reason and the name with the other items made
    /// with the same `texts`.
    pub fn with_texts(follow_up: FollowUp, row: &AccountRow, texts: &mut Texts, cal: &Calendar) -> QueueItem {
        let raw = texts.get(&follow_up.reason);
        let name = texts.get(&row.name);
        QueueItem {
            due: follow_up.comes_up(cal).unwrap_or(follow_up.due),
            account: texts.sanitized(&name),
            reason: texts.sanitized(&raw),
            health: row.health,
            arr: row.arr,
            renewal_date: Some(row.renewal_date),
            segment: row.segment,
            follow_up: follow_up.map_reason(|_| raw),
        }
    }

    /// The same item for an account with no contract to renew.
    pub fn without_renewal(self) -> QueueItem {
        QueueItem { renewal_date: None, ..self }
    }

    /// Whether it is past due at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.due < now
    }

    /// Its section of the queue within `bounds`, if it is in it.
    pub fn section(&self, bounds: &Bounds) -> Option<Section> {
        self.follow_up.section_at(self.due, bounds)
    }

    /// The same item on another calendar (the config changed between the
    /// session that kept it and this one).
    pub fn on(mut self, cal: &Calendar) -> QueueItem {
        self.due = self.follow_up.comes_up(cal).unwrap_or(self.follow_up.due);
        self
    }

    /// What the ranking looks at.
    pub fn signals(&self) -> Signals {
        let f = &self.follow_up;
        Signals {
            kind: f.kind,
            priority: f.priority,
            due: self.due,
            health: self.health,
            arr: self.arr,
            renewal_date: self.renewal_date,
        }
    }
}

/// The item's score and its parts at `now` (band names from the default bands).
pub fn score(item: &QueueItem, now: DateTime<Utc>, cal: &Calendar) -> Rank {
    ranking::rank(&item.signals(), &Bands::default(), now, cal)
}

/// Why the item sits where it does, one line per part ("overdue by 2 days
/// (+40)", "health 34, red (+26)", ...) and the total last.
pub fn explain(item: &QueueItem, now: DateTime<Utc>, cal: &Calendar) -> Vec<String> {
    score(item, now, cal).lines()
}

/// As `explain`, naming the health band by the workspace's own bands.
pub fn explain_with(item: &QueueItem, bands: &Bands, now: DateTime<Utc>, cal: &Calendar) -> Vec<String> {
    ranking::rank(&item.signals(), bands, now, cal).lines()
}

/// Queue order at `now`: Overdue, then Today, then Upcoming. Overdue and
/// Today read highest score first; at an equal score (the points are whole
/// numbers) the lower health, then the higher ARR, then the longest
/// overdue, then the oldest item. Upcoming reads in the order its items
/// come up. Each key is computed once; the items are sorted by position
/// and then moved in place, so ranking the whole queue holds a key an item
/// beside it, not a copy of the item.
pub fn rank(items: &mut [QueueItem], now: DateTime<Utc>, cal: &Calendar) {
    let n = u32::try_from(items.len()).expect("fewer than 4 billion items");
    let bounds = cal.bounds(now);
    let keys: Vec<(u8, i64)> = items.iter().map(|i| lead(i, now, cal, &bounds)).collect();
    let mut order: Vec<u32> = (0..n).collect();
    // Stable, as the ties of `rank_key` leave nothing to it but the id.
    order.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        key_of(&items[a], keys[a]).cmp(&key_of(&items[b], keys[b]))
    });
    drop(keys);
    permute(items, &mut order);
}

/// Moves `items[order[k]]` to position `k` for every `k`, in place,
/// following each cycle of the permutation once (`order` is spent).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..order.len() {
        let mut k = start;
        loop {
            let from = order[k] as usize;
            // A position done (or already right) points at itself.
            order[k] = k as u32;
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

type RankKey = (u8, i64, u16, Reverse<u64>, DateTime<Utc>, u64);

/// The first parts of an item's place: its section (items outside the
/// queue last), then minus its score, or when it comes up in Upcoming.
fn lead(i: &QueueItem, now: DateTime<Utc>, cal: &Calendar, bounds: &Bounds) -> (u8, i64) {
    match i.section(bounds) {
        Some(Section::Upcoming) => (2, i.due.timestamp()),
        Some(s) => (s as u8, -i64::from(score(i, now, cal).score)),
        None => (3, i.due.timestamp()),
    }
}

fn rank_key(i: &QueueItem, now: DateTime<Utc>, cal: &Calendar, bounds: &Bounds) -> RankKey {
    key_of(i, lead(i, now, cal, bounds))
}

fn key_of(i: &QueueItem, lead: (u8, i64)) -> RankKey {
    let health = i.health.map_or(u16::MAX, u16::from);
    (lead.0, lead.1, health, Reverse(i.arr), i.due, i.follow_up.id)
}

/// Puts an item where the ranking wants it in an already ranked queue,
/// without re-ranking the rest (an undo at 100,000 accounts stays instant).
pub fn insert_ranked(items: &mut Vec<QueueItem>, item: QueueItem, now: DateTime<Utc>, cal: &Calendar) {
    let at = ranked_place(items, &item, now, cal);
    items.insert(at, item);
}

/// Where `item` goes in ranked `items`.
pub fn ranked_place(items: &[QueueItem], item: &QueueItem, now: DateTime<Utc>, cal: &Calendar) -> usize {
    let bounds = cal.bounds(now);
    let key = rank_key(item, now, cal, &bounds);
    items.partition_point(|i| rank_key(i, now, cal, &bounds) < key)
}

/// Loads the queue at `now` on the user's calendar (at most `limit`
/// items): overdue, due today, and upcoming within a week, ranked.
pub fn load(store: &Store, now: DateTime<Utc>, limit: usize, cal: &Calendar) -> Result<Vec<QueueItem>, StoreError> {
    load_with(store, now, limit, None, cal)
}

/// As `load`, taking account context from a loaded book instead of the
/// store when one is given (no read per item).
pub fn load_with(
    store: &Store,
    now: DateTime<Utc>,
    limit: usize,
    book: Option<&Book>,
    cal: &Calendar,
) -> Result<Vec<QueueItem>, StoreError> {
    let bounds = cal.bounds(now);
    // Working hours only ever move a due time later: every item of the
    // queue was due by the horizon as stored.
    let mut items = read(store, bounds.horizon, limit, book, cal, |f| f.section(cal, &bounds).is_some())?;
    rank(&mut items, now, cal);
    Ok(items)
}

/// The first `limit` items not done, in due order, whatever their day: a
/// later start picks the ones in its queue then (`from_kept`).
pub fn kept(store: &Store, limit: usize, cal: &Calendar) -> Result<Vec<QueueItem>, StoreError> {
    read(store, DateTime::<Utc>::MAX_UTC, limit, None, cal, |f| !matches!(f.state, FollowUpState::Done { .. }))
}

/// The items of `kept` in the queue at `now` (at most `limit`), ranked.
pub fn from_kept(kept: Vec<QueueItem>, now: DateTime<Utc>, limit: usize, cal: &Calendar) -> Vec<QueueItem> {
    let bounds = cal.bounds(now);
    let mut items: Vec<QueueItem> =
        kept.into_iter().map(|i| i.on(cal)).filter(|i| i.section(&bounds).is_some()).take(limit).collect();
    rank(&mut items, now, cal);
    items
}

/// Follow-ups due before `before` that `keep` accepts (at most `limit`),
/// in due order, each with its account's context. The items are gathered
/// in blocks and moved once into a vector of their exact number: a vector
/// grown by doubling would hold up to twice the queue, and copy it.
fn read(
    store: &Store,
    before: DateTime<Utc>,
    limit: usize,
    book: Option<&Book>,
    cal: &Calendar,
    keep: impl Fn(&FollowUp) -> bool,
) -> Result<Vec<QueueItem>, StoreError> {
    let mut texts = Texts::default();
    let mut items = Blocks::default();
    for f in store.follow_ups_before(before) {
        let f = f?;
        if !keep(&f) {
            continue;
        }
        let read;
        let row = match book.and_then(|b| b.row(f.account_id)) {
            Some(r) => r,
            // The account left the workspace (deleted at its source): so did its to-dos.
            None => match store.row(f.account_id)? {
                Some(r) => {
                    read = r;
                    &read
                }
                None => continue,
            },
        };
        let support_only = match book {
            Some(b) => b.support_only(row.id).is_some(),
            None => store.support_only(row.id)?.is_some(),
        };
        let item = QueueItem::with_texts(f, row, &mut texts, cal);
        items.push(if support_only { item.without_renewal() } else { item });
        if items.len() >= limit {
            break;
        }
    }
    drop(texts);
    Ok(items.into_vec())
}

/// Items gathered in fixed blocks, for a count not known ahead.
struct Blocks<T> {
    full: Vec<Vec<T>>,
    open: Vec<T>,
    len: usize,
}

impl<T> Default for Blocks<T> {
    fn default() -> Blocks<T> {
        Blocks { full: Vec::new(), open: Vec::new(), len: 0 }
    }
}

impl<T> Blocks<T> {
    /// Items a block holds: small beside the queue, large enough that the
    /// list of blocks stays short.
    const BLOCK: usize = 4096;

    fn push(&mut self, item: T) {
        if self.open.capacity() == 0 {
            self.open.reserve_exact(Self::BLOCK);
        }
        self.open.push(item);
        self.len += 1;
        if self.open.len() == Self::BLOCK {
            self.full.push(std::mem::take(&mut self.open));
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// One vector of exactly the items, in order; each block is freed as
    /// soon as it is moved.
    fn into_vec(self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for block in self.full {
            out.extend(block);
        }
        out.extend(self.open);
        out
    }
}

/// Counts of a loaded queue by section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Past due.
    pub overdue: usize,
    /// Due later today.
    pub today: usize,
    /// Due, or back from a snooze, within the week.
    pub upcoming: usize,
}

impl Counts {
    /// Counts `item` in (`by` = 1) or out (`by` = -1) of its section.
    pub fn add(&mut self, section: Option<Section>, by: isize) {
        let slot = match section {
            Some(Section::Overdue) => &mut self.overdue,
            Some(Section::Today) => &mut self.today,
            Some(Section::Upcoming) => &mut self.upcoming,
            None => return,
        };
        *slot = slot.saturating_add_signed(by);
    }
}

/// Counts of a loaded queue within `bounds`.
pub fn counts(items: &[QueueItem], bounds: &Bounds) -> Counts {
    let mut c = Counts::default();
    for i in items {
        c.add(i.section(bounds), 1);
    }
    c
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
            due,
            follow_up: follow_up.map_reason(Arc::from),
            account: format!("A{id}").into(),
            reason: "r".into(),
            health,
            arr,
            renewal_date: Some(now().date_naive() + Duration::days(200)),
            segment: Segment::MidMarket,
        }
    }

    fn order(mut items: Vec<QueueItem>) -> Vec<u64> {
        rank(&mut items, now(), &Calendar::utc());
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
        // Sections first: an urgent item due today comes after a normal one
        // just overdue, and before a normal one due today.
        assert_eq!(
            order(vec![
                item(3, later_today, p, Some(60), 20_000),
                item(1, late, p, Some(60), 20_000),
                item(2, later_today, Priority::Urgent, Some(60), 20_000)
            ]),
            vec![1, 2, 3]
        );
        // Upcoming reads in the order its items come up, whatever their score.
        let tomorrow = now() + Duration::days(1);
        assert_eq!(
            order(vec![
                item(4, tomorrow + Duration::hours(2), Priority::Urgent, Some(10), 90_000),
                item(5, tomorrow, Priority::Low, Some(90), 1_000),
                item(6, later_today, Priority::Low, Some(90), 1_000),
            ]),
            vec![6, 5, 4]
        );
    }

    #[test]
    fn an_item_raised_outside_working_hours_waits_for_them() {
        // Raised on Saturday at 03:00 in Paris: due Monday at nine, upcoming
        // all weekend rather than overdue.
        let cal = Calendar { zone: chrono_tz::Europe::Paris, ..Calendar::utc() };
        let saturday = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
        let mut i = item(1, saturday, Priority::Normal, Some(50), 1_000);
        i = i.on(&cal);
        assert_eq!(cal.local(i.due).format("%a %H:%M").to_string(), "Mon 09:00");
        let sunday_noon = saturday + Duration::hours(34);
        assert_eq!(i.section(&cal.bounds(sunday_noon)), Some(Section::Upcoming));
        assert!(!i.is_overdue(sunday_noon));
        let monday_ten = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        assert_eq!(i.section(&cal.bounds(monday_ten)), Some(Section::Overdue));
        assert!(explain(&i, monday_ten, &cal)[1].starts_with("overdue by 1 h"), "{:?}", explain(&i, monday_ten, &cal));
    }

    #[test]
    fn the_explanation_names_every_part_and_the_total() {
        let i = item(1, now() - Duration::days(2), Priority::High, Some(34), 120_000);
        assert_eq!(
            explain(&i, now(), &Calendar::utc()),
            vec![
                "Check-ins, high priority (+25)",
                "overdue by 2 days (+40)",
                "health 34, red (+26)",
                "ARR $120k (+10)",
                "renews in 200 days (+0)",
                "score 101",
            ]
        );
        assert_eq!(score(&i, now(), &Calendar::utc()).score, 101);
    }

    #[test]
    fn rank_gives_the_order_of_the_rank_key() {
        // Many ties (few healths, ARRs and due times) so every part of the key decides somewhere.
        let mut items = Vec::new();
        for id in 0..3_000u64 {
            let due = now() + Duration::hours((id * 7 % 11) as i64 - 6);
            let priority = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent][(id % 4) as usize];
            let health = [None, Some(20), Some(34), Some(35), Some(80)][(id * 3 % 5) as usize];
            items.push(item(10_000 - id, due, priority, health, 10_000 * (id % 3)));
        }
        let mut expected = items.clone();
        let cal = Calendar::utc();
        let bounds = cal.bounds(now());
        expected.sort_by_cached_key(|i| rank_key(i, now(), &cal, &bounds));
        rank(&mut items, now(), &cal);
        let ids = |v: &[QueueItem]| v.iter().map(|i| i.follow_up.id).collect::<Vec<_>>();
        assert_eq!(ids(&items), ids(&expected));
    }

    #[test]
    fn permute_moves_each_item_to_its_place() {
        for n in [0usize, 1, 2, 3, 10, 257] {
            // A shuffle (Fisher-Yates on a fixed LCG): cycles of many lengths.
            let mut order: Vec<u32> = (0..n as u32).collect();
            let mut seed = 0x2545_f491_u64;
            for i in (1..n).rev() {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                order.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let mut items: Vec<String> = (0..n).map(|k| format!("item {k}")).collect();
            let expected: Vec<String> = order.iter().map(|&k| items[k as usize].clone()).collect();
            permute(&mut items, &mut order.clone());
            assert_eq!(items, expected, "n = {n}");
        }
    }

    #[test]
    fn blocks_keep_order_and_count_across_blocks() {
        let mut b = Blocks::default();
        let n = Blocks::<u32>::BLOCK * 2 + 5;
        (0..n as u32).for_each(|i| b.push(i));
        assert_eq!(b.len(), n);
        let v = b.into_vec();
        assert_eq!((v.len(), v.capacity()), (n, n), "exactly sized");
        assert!(v.iter().enumerate().all(|(i, &x)| x as usize == i));
        assert!(Blocks::<u32>::default().into_vec().is_empty());
    }

    #[test]
    fn items_loaded_together_share_their_texts() {
        let row = |id: u64, name: &str| AccountRow {
            id: AccountId(id),
            name: name.into(),
            segment: Segment::Smb,
            arr: 1,
            stage: crate::domain::Stage::Adoption,
            renewal_date: now().date_naive(),
            health: None,
            health_7d_ago: None,
            health_30d_ago: None,
            open_tickets: 0,
            last_touch: None,
        };
        let follow_up = |id: u64, reason: &str| {
            Draft {
                account_id: AccountId(id),
                ticket_id: None,
                kind: FollowUpKind::CheckIn,
                reason: reason.into(),
                due: now(),
                priority: Priority::Normal,
            }
            .into_follow_up(id)
        };
        let mut texts = Texts::default();
        let cal = Calendar::utc();
        let a = QueueItem::with_texts(follow_up(1, "Renewal in 90 days"), &row(1, "Acme"), &mut texts, &cal);
        let b = QueueItem::with_texts(follow_up(2, "Renewal in 90 days"), &row(1, "Acme"), &mut texts, &cal);
        let c =
            QueueItem::with_texts(follow_up(3, "Bad \u{1b}[2Jrating"), &row(2, "Bolt \u{1b}[31m"), &mut texts, &cal);
        assert!(Arc::ptr_eq(&a.reason, &b.reason) && Arc::ptr_eq(&a.account, &b.account));
        assert!(Arc::ptr_eq(&a.reason, &a.follow_up.reason), "a clean reason is the stored one");
        assert_eq!((&*c.reason, &*c.follow_up.reason), ("Bad rating", "Bad \u{1b}[2Jrating"));
        assert_eq!(&*c.account, "Bolt ");
        assert_eq!(c, QueueItem::new(follow_up(3, "Bad \u{1b}[2Jrating"), &row(2, "Bolt \u{1b}[31m"), &cal));
        assert_eq!(c.follow_up.to_follow_up(), follow_up(3, "Bad \u{1b}[2Jrating"));
    }
}
