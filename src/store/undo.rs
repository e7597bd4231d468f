//! The undo history: the recent actions, each with what it did in words
//! and everything it changed as it was, kept by the writer under `uh` so
//! it survives a restart. Bounded: the oldest go past [`UNDO_KEPT`].
//! Taking them back is `engine::act`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codec::encode;
use super::{keys, Batch, Result, Store};
use crate::domain::{Account, AccountId, AccountRow, FollowUp, Ticket};

/// How many recent actions the history keeps.
pub const UNDO_KEPT: usize = 50;

/// How to take back one action: everything it changed, as it was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UndoRecord {
    /// What was done, for the toast ("done on 3 items").
    pub label: String,
    /// Items as they were.
    pub follow_ups: Vec<FollowUp>,
    /// Timeline entries it added: account, moment, id.
    pub activities: Vec<(AccountId, DateTime<Utc>, u64)>,
    /// Outbox entries it queued.
    pub outbox: Vec<u64>,
    /// Rows as they were.
    pub rows: Vec<AccountRow>,
    /// Tickets as they were.
    pub tickets: Vec<Ticket>,
    /// Accounts as they were (stage moves: the stage and the outcome).
    pub accounts: Vec<Account>,
    /// Follow-ups it created (tasks), as created: taking it back removes them.
    pub created: Vec<FollowUp>,
}

/// One action in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoEntry {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// What it did, in words ("note on Acme").
    pub what: String,
    /// How to take it back.
    pub record: UndoRecord,
}

impl UndoRecord {
    /// Whether taking this back would change something `newer` changed too
    /// (an item, a ticket or an account's row or record), so one cannot be
    /// taken back past the other.
    pub fn overlaps(&self, newer: &UndoRecord) -> bool {
        let accounts = |r: &UndoRecord| -> std::collections::BTreeSet<AccountId> {
            r.rows.iter().map(|x| x.id).chain(r.accounts.iter().map(|a| a.id)).collect()
        };
        let mine = accounts(self);
        // An item it created that a newer action changed counts as its own.
        self.follow_ups.iter().chain(&self.created).any(|f| newer.follow_ups.iter().any(|g| g.id == f.id))
            || self.tickets.iter().any(|t| newer.tickets.iter().any(|u| u.id == t.id))
            || accounts(newer).iter().any(|a| mine.contains(a))
    }
}

impl Batch {
    /// Stores an action in the undo history under `seq`.
    pub fn put_undo(&mut self, seq: u64, entry: &UndoEntry) {
        self.insert(keys::undo_entry(seq), encode(entry));
    }

    /// Forgets an action of the history (taken back).
    pub fn remove_undo(&mut self, seq: u64) {
        self.remove(keys::undo_entry(seq));
    }
}

impl Store {
    /// The undo history, newest first, with each action's sequence.
    pub fn undo_history(&self) -> Result<Vec<(u64, UndoEntry)>> {
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix(keys::UNDO_HISTORY).rev() {
            let (k, v) = kv?;
            let seq = <[u8; 8]>::try_from(&k[keys::UNDO_HISTORY.len()..]).map(u64::from_be_bytes).unwrap_or(0);
            out.push((seq, super::codec::decode(&v, "undo history entry")?));
        }
        Ok(out)
    }

    /// Adds an action to the history in `b` (under a new sequence), and
    /// forgets the oldest beyond [`UNDO_KEPT`]. Call under the write lock.
    pub fn push_undo(&self, b: &mut Batch, entry: &UndoEntry) -> Result<u64> {
        let seq = self.next_id()?;
        b.put_undo(seq, entry);
        let kept: Vec<sled::IVec> = self.tree.scan_prefix(keys::UNDO_HISTORY).keys().collect::<sled::Result<_>>()?;
        // The new one makes `kept.len() + 1`.
        for k in kept.iter().take((kept.len() + 1).saturating_sub(UNDO_KEPT)) {
            b.remove(k.to_vec());
        }
        Ok(seq)
    }

    /// The label of the newest action in the history.
    pub fn last_action(&self) -> Result<Option<String>> {
        Ok(self.undo_history()?.into_iter().next().map(|(_, e)| e.record.label))
    }
}
