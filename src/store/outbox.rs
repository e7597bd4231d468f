//! The outbox the pusher works through (claim on disk before a send,
//! retry, edit, discard, rebase). The actions that fill it are `engine::act`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::codec::encode;
use super::{keys, Batch, Result, Store, StoreError};
use crate::domain::outbox::{OutboxEntry, OutboxState};
use crate::domain::{AccountId, Activity, Ticket};

/// Counts of the outbox by state, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxCounts {
    /// Waiting or being checked.
    pub pending: usize,
    /// Failed: the CSM decides.
    pub failed: usize,
    /// Conflicted: the CSM decides.
    pub conflict: usize,
    /// Landed.
    pub sent: usize,
    /// Discarded by the CSM: never sent (not in the outbox any more).
    pub discarded: usize,
}

impl OutboxCounts {
    /// Counts one entry in its state.
    pub fn count(&mut self, state: &OutboxState) {
        match state {
            OutboxState::Pending | OutboxState::Unsure { .. } | OutboxState::Watching { kept: None, .. } => {
                self.pending += 1
            }
            OutboxState::Failed { .. } => self.failed += 1,
            OutboxState::Conflict { .. } => self.conflict += 1,
            OutboxState::Sent { .. } | OutboxState::Settled { .. } | OutboxState::Watching { kept: Some(_), .. } => {
                self.sent += 1
            }
        }
    }
}

impl Store {
    /// Accounts whose stage move has not reached the CRM (pending, failed
    /// or in conflict): a sync keeps their local stage meanwhile, so a move
    /// made offline is not undone by the next sync.
    pub fn stage_moves_in_flight(&self) -> Result<BTreeSet<AccountId>> {
        let mut out = BTreeSet::new();
        for e in self.scan::<OutboxEntry>(keys::OUTBOX, "outbox entry") {
            let e = e?;
            if matches!(e.write, crate::domain::outbox::Write::Stage { .. })
                && !matches!(e.state, OutboxState::Sent { .. })
            {
                out.insert(e.account_id);
            }
        }
        Ok(out)
    }

    /// Gives a landed note's or task's timeline entry the id its sync will
    /// bring (`synced_id`, under `source`), so the synced copy replaces it
    /// rather than showing twice.
    pub fn outbox_adopt_activity(&self, e: &OutboxEntry, source: &str, synced_id: u64) -> Result<()> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let old_key = keys::activity(e.account_id, e.created, e.activity);
        let Some(mut a) = self.get::<Activity>(&old_key, "activity")? else { return Ok(()) };
        // A logged call goes out as a note: its entry keeps its own id (and
        // kind), or the synced note would turn the call into a note.
        let same_kind = match e.write {
            crate::domain::outbox::Write::Note { .. } => a.kind == crate::domain::ActivityKind::Note,
            crate::domain::outbox::Write::Task { .. } => a.kind == crate::domain::ActivityKind::Task,
            _ => false,
        };
        if !same_kind {
            return Ok(());
        }
        a.id = synced_id;
        let key = keys::activity(a.account_id, a.at, a.id);
        let mut b = Batch::default();
        b.remove(old_key);
        b.insert(keys::external(source, &format!("activity/{synced_id}")), key.clone());
        b.insert(key, encode(&a));
        self.apply(b)
    }

    /// One outbox entry.
    pub fn outbox_entry(&self, id: u64) -> Result<Option<OutboxEntry>> {
        self.get(&keys::outbox(id), "outbox entry")
    }

    /// Every outbox entry, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.scan(keys::OUTBOX, "outbox entry").collect()
    }

    /// Outbox entries by state.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut c = OutboxCounts::default();
        for e in self.scan::<OutboxEntry>(keys::OUTBOX, "outbox entry") {
            c.count(&e?.state);
        }
        c.discarded = self.discarded()? as usize;
        Ok(c)
    }

    /// How many entries the CSM discarded so far.
    fn discarded(&self) -> Result<u64> {
        Ok(self
            .tree
            .get(keys::DISCARDED)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Claims an entry for a push at `now`: it must be pushable and due.
    /// Its state becomes `Unsure` and is flushed to disk before the request
    /// leaves, so a crash mid-request is found out by the marker check.
    /// Returns the entry as it was (an `Unsure` one needs the check).
    pub fn outbox_claim(&self, id: u64, now: DateTime<Utc>) -> Result<Option<OutboxEntry>> {
        let before = {
            let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let Some(e) = self.outbox_entry(id)? else { return Ok(None) };
            if !e.state.is_pushable() || e.next_attempt > now {
                return Ok(None);
            }
            let mut claimed = e.clone();
            if e.state == OutboxState::Pending {
                claimed.state = OutboxState::Unsure { since: now };
            }
            claimed.attempts += 1;
            self.tree.insert(keys::outbox(id), encode(&claimed))?;
            e
        };
        self.flush()?;
        Ok(Some(before))
    }

    /// Stores an entry's new state (the pusher's outcome). The account is
    /// the stored one: a sync may have merged the account the pusher read
    /// the entry on into another while the request was out.
    pub fn outbox_put(&self, entry: &OutboxEntry) -> Result<()> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let account_id = match self.outbox_entry(entry.id)? {
            Some(stored) => stored.account_id,
            None => entry.account_id,
        };
        let e = OutboxEntry { account_id, ..entry.clone() };
        self.tree.insert(keys::outbox(entry.id), encode(&e))?;
        Ok(())
    }

    fn outbox_change(
        &self,
        id: u64,
        change: impl FnOnce(&mut OutboxEntry) -> std::result::Result<(), String>,
    ) -> Result<OutboxEntry> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut e = self.outbox_entry(id)?.ok_or(StoreError::NoOutboxEntry(id))?;
        change(&mut e).map_err(|why| StoreError::OutboxRefused { id, why })?;
        self.tree.insert(keys::outbox(id), encode(&e))?;
        self.flush()?;
        Ok(e)
    }

    /// Sends a failed or conflicted entry again at the next push (a
    /// conflicted one then overwrites: the CSM has seen the conflict).
    pub fn outbox_retry(&self, id: u64, now: DateTime<Utc>, fresh_stamp: Option<DateTime<Utc>>) -> Result<OutboxEntry> {
        self.outbox_change(id, |e| match e.state {
            OutboxState::Failed { .. } | OutboxState::Conflict { .. } | OutboxState::Pending => {
                if let (Some(s), crate::domain::outbox::Write::Ticket { updated_stamp, .. }) =
                    (fresh_stamp, &mut e.write)
                {
                    *updated_stamp = s;
                }
                e.state = OutboxState::Pending;
                e.attempts = 0;
                e.next_attempt = now;
                Ok(())
            }
            OutboxState::Unsure { .. } | OutboxState::Watching { kept: None, .. } => {
                Err("it is being checked at the vendor; wait for the check".into())
            }
            OutboxState::Sent { .. } | OutboxState::Settled { .. } | OutboxState::Watching { .. } => {
                Err("it already reached the vendor".into())
            }
        })
    }

    /// Replaces the text of an entry that has not left yet.
    pub fn outbox_edit(&self, id: u64, body: &str) -> Result<OutboxEntry> {
        self.outbox_change(id, |e| match e.state {
            _ if !e.write.has_body() => Err(e.write.no_edit_reason().unwrap_or_default().into()),
            OutboxState::Pending | OutboxState::Failed { .. } | OutboxState::Conflict { .. } => {
                if body.trim().is_empty() {
                    return Err("the new text is empty; discard the entry instead".into());
                }
                e.write.set_body(body.trim_end().to_string());
                Ok(())
            }
            OutboxState::Unsure { .. } | OutboxState::Watching { kept: None, .. } => {
                Err("it may already have reached the vendor; wait for the check".into())
            }
            OutboxState::Sent { .. } | OutboxState::Settled { .. } | OutboxState::Watching { .. } => {
                Err("it already reached the vendor".into())
            }
        })
    }

    /// Drops an entry that has not left (or that failed or conflicted).
    pub fn outbox_discard(&self, id: u64) -> Result<OutboxEntry> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let e = self.outbox_entry(id)?.ok_or(StoreError::NoOutboxEntry(id))?;
        match e.state {
            OutboxState::Unsure { .. } | OutboxState::Watching { kept: None, .. } => Err(StoreError::OutboxRefused {
                id,
                why: "it may already have reached the vendor; wait for the check".into(),
            }),
            // Dropping it would stop the watch and leave a late copy behind.
            OutboxState::Watching { .. } => Err(StoreError::OutboxRefused {
                id,
                why: "it is watched for a late copy at the vendor; it can be discarded once the watch ends".into(),
            }),
            _ => {
                // Counted apart, so nothing says it reached its vendor.
                let mut b = sled::Batch::default();
                b.remove(keys::outbox(id));
                b.insert(keys::DISCARDED, &(self.discarded()? + 1).to_be_bytes());
                self.tree.apply_batch(b)?;
                self.flush()?;
                Ok(e)
            }
        }
    }

    /// After our write to `ticket` moved its stamp from `old` to `new`: later
    /// pending writes on that ticket made against `old`, and the local copy
    /// of the ticket if it still shows `old`, take `new`, since our own
    /// write is the only change they did not see (reply then close must not
    /// conflict with itself). Returns how many entries moved.
    pub fn outbox_rebase(
        &self,
        account: AccountId,
        ticket: u64,
        old: DateTime<Utc>,
        new: DateTime<Utc>,
        after: u64,
    ) -> Result<usize> {
        use crate::domain::outbox::Write;
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = Batch::default();
        let mut moved = 0;
        for e in self.scan::<OutboxEntry>(keys::OUTBOX, "outbox entry") {
            let mut e = e?;
            if e.id <= after || e.state != OutboxState::Pending {
                continue;
            }
            if let Write::Ticket { ticket: t, updated_stamp, .. } = &mut e.write {
                if *t == ticket && *updated_stamp == old {
                    *updated_stamp = new;
                    b.insert(keys::outbox(e.id), encode(&e));
                    moved += 1;
                }
            }
        }
        let key = keys::child(keys::TICKET, account, ticket);
        if let Some(mut t) = self.get::<Ticket>(&key, "ticket")? {
            if t.updated_at == old {
                t.updated_at = new;
                b.put_ticket(&t);
            }
        }
        self.apply(b)?;
        Ok(moved)
    }

    /// The account's id at a source (a HubSpot company id), if it came from
    /// or was matched to that source.
    pub fn external_of(&self, id: AccountId, source: &str) -> Result<Option<String>> {
        if let Some(v) = self.tree.get(keys::external_of(id, source))? {
            return Ok(Some(String::from_utf8_lossy(&v).into_owned()));
        }
        // Workspaces synced before the reverse map: find it in the id map.
        let mut prefix = keys::EXTERNAL.to_vec();
        prefix.extend_from_slice(source.as_bytes());
        prefix.push(0);
        for kv in self.tree.scan_prefix(&prefix) {
            let (k, v) = kv?;
            if v.len() == 8 && v.as_ref() == id.0.to_be_bytes() {
                let ext = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                if !ext.starts_with("ticket/") {
                    return Ok(Some(ext));
                }
            }
        }
        Ok(None)
    }
}
