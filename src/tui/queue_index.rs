//! The queue's index, one part of the app's state: where each account's
//! first item sits in the ranked queue, and how many items are overdue and
//! due later today, kept in step as items leave and come back, so that
//! following a selection and drawing the counts never walk the whole queue.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::calendar::{Bounds, Calendar};
use crate::domain::{AccountId, FollowUp};
use crate::queue::{Counts, QueueItem};

/// First queue position per account, and the queue's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueIndex {
    first: HashMap<AccountId, usize>,
    /// Items per section.
    counts: Counts,
}

/// Each account's first position in the queue.
fn first_positions(queue: &[QueueItem]) -> HashMap<AccountId, usize> {
    // Not one slot per item: the items are some 2 per account, and a map
    // sized by the items held 4 MB at 158,000 of them.
    let mut index = HashMap::new();
    for (i, q) in queue.iter().enumerate() {
        index.entry(q.follow_up.account_id).or_insert(i);
    }
    index
}

impl QueueIndex {
    /// The index of a whole queue within `bounds`.
    pub fn new(queue: &[QueueItem], bounds: &Bounds) -> QueueIndex {
        QueueIndex { first: first_positions(queue), counts: crate::queue::counts(queue, bounds) }
    }

    /// Counts again (items turn overdue as the clock moves).
    pub fn recount(&mut self, queue: &[QueueItem], bounds: &Bounds) {
        self.counts = crate::queue::counts(queue, bounds);
    }

    /// Items per section.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The position of the account's first item.
    pub fn first(&self, id: AccountId) -> Option<usize> {
        self.first.get(&id).copied()
    }

    /// Takes the items with these ids out of the queue and puts `back`
    /// (those still actionable) in their ranked places, keeping the index
    /// and counts in step: no pass over the whole queue per keystroke
    /// beyond the index's positions.
    pub fn requeue(
        &mut self,
        queue: &mut Vec<QueueItem>,
        out: &[FollowUp],
        back: Vec<QueueItem>,
        now: DateTime<Utc>,
        cal: &Calendar,
    ) {
        let bounds = cal.bounds(now);
        for f in out {
            // An account's items all sit at or after its first position.
            let Some(&first) = self.first.get(&f.account_id) else { continue };
            let Some(i) = queue[first..].iter().position(|q| q.follow_up.id == f.id).map(|j| first + j) else {
                continue;
            };
            let gone = queue.remove(i);
            self.counts.add(gone.section(&bounds), -1);
            for v in self.first.values_mut() {
                if *v > i {
                    *v -= 1;
                }
            }
            let account = gone.follow_up.account_id;
            if self.first.get(&account) == Some(&i) {
                match queue[i..].iter().position(|q| q.follow_up.account_id == account) {
                    Some(j) => {
                        self.first.insert(account, i + j);
                    }
                    None => {
                        self.first.remove(&account);
                    }
                }
            }
        }
        for item in back {
            let at = crate::queue::ranked_place(queue, &item, now, cal);
            for v in self.first.values_mut() {
                if *v >= at {
                    *v += 1;
                }
            }
            let account = item.follow_up.account_id;
            self.first.entry(account).and_modify(|v| *v = (*v).min(at)).or_insert(at);
            self.counts.add(item.section(&bounds), 1);
            queue.insert(at, item);
        }
        debug_assert_eq!(self.first, first_positions(queue), "the index follows the queue");
    }
}
