//! One-key actions applied locally in one batch (the item, the timeline,
//! the ticket, the row, the outbox entries and the undo record land
//! together or not at all), and the outbox the pusher works through.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codec::encode;
use super::{keys, Batch, Result, Store, StoreError};
use crate::domain::followup_action::{plan, FollowUpAction};
use crate::domain::outbox::{OutboxEntry, OutboxState, System};
use crate::domain::{Account, AccountId, AccountRow, Activity, FollowUp, Ticket};

/// How to take back the last action: everything it changed, as it was.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Accounts as they were (stage moves).
    pub accounts: Vec<Account>,
}

/// What an action did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionReport {
    /// Items it applied to.
    pub applied: usize,
    /// Items it could not apply to, with why.
    pub skipped: Vec<String>,
    /// Writes queued for the vendors.
    pub queued: usize,
    /// The items whose state changed, as they are now.
    pub changed: Vec<FollowUp>,
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    /// Taken back.
    Undone {
        /// The action.
        label: String,
        /// The accounts it touched.
        accounts: Vec<AccountId>,
        /// The items as they are again.
        restored: Vec<FollowUp>,
    },
    /// Nothing to undo.
    Nothing,
    /// A write already left for a vendor: it cannot be taken back from here.
    AlreadySent {
        /// The action.
        label: String,
        /// Where it went.
        system: System,
    },
}

/// Counts of the outbox by state, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting or being checked.
    pub pending: usize,
    /// Failed: the CSM decides.
    pub failed: usize,
    /// Conflicted: the CSM decides.
    pub conflict: usize,
    /// Landed.
    pub sent: usize,
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
    fn follow_up_at_key(&self, f: &FollowUp) -> Result<Option<FollowUp>> {
        self.get(&keys::follow_up(f.due, f.id), "follow-up")
    }

    /// Applies `action` to `items` at `now`, as `author`: each item's state,
    /// a timeline entry, the local ticket and row changes and the outbox
    /// entries, with the undo record, in one batch. Account-level writes
    /// (notes, logged calls) are made once per account and ticket writes
    /// once per ticket, however many of its items are selected.
    pub fn apply_action(
        &self,
        items: &[FollowUp],
        action: &FollowUpAction,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<ActionReport> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = ActionReport::default();
        let mut b = Batch::default();
        let mut undo = UndoRecord::default();
        let mut rows: BTreeMap<AccountId, (AccountRow, AccountRow)> = BTreeMap::new();
        let mut tickets: BTreeMap<u64, Ticket> = BTreeMap::new();
        let mut accounts_written: BTreeSet<AccountId> = BTreeSet::new();
        let mut tickets_written: BTreeSet<u64> = BTreeSet::new();
        for item in items {
            // The item as stored now: the queue on screen may be a moment old.
            let Some(current) = self.follow_up_at_key(item)? else {
                report.skipped.push(format!("{}: no longer in the queue", item.reason));
                continue;
            };
            let ticket = match current.ticket_id {
                Some(t) => match tickets.get(&t) {
                    Some(t) => Some(t.clone()),
                    None => self.get::<Ticket>(&keys::child(keys::TICKET, current.account_id, t), "ticket")?,
                },
                None => None,
            };
            let p = match plan(action, &current, ticket.as_ref(), now) {
                Ok(p) => p,
                Err(e) => {
                    report.skipped.push(format!("{}: {e}", current.reason));
                    continue;
                }
            };
            report.applied += 1;
            if let Some(state) = p.state {
                let mut f = current.clone();
                f.state = state;
                b.insert(keys::follow_up(f.due, f.id), encode(&f));
                undo.follow_ups.push(current.clone());
                report.changed.push(f);
            }
            // Writes about the account go once per account; about a ticket,
            // once per ticket. A local change (done, snooze) is logged per item.
            let shared = !p.writes.is_empty() || p.touch || p.ticket.is_some();
            let first_for_target = !shared
                || match current.ticket_id {
                    Some(t) if action.needs_ticket() || matches!(action, FollowUpAction::Escalate { .. }) => {
                        tickets_written.insert(t)
                    }
                    _ => accounts_written.insert(current.account_id),
                };
            if !first_for_target {
                continue;
            }
            let activity = Activity {
                id: self.next_id()?,
                account_id: current.account_id,
                at: now,
                kind: p.timeline.0,
                summary: p.timeline.1,
                author: author.to_string(),
            };
            b.put_activity(&activity);
            undo.activities.push((activity.account_id, activity.at, activity.id));
            if let Some(changed) = p.ticket {
                let before = ticket.expect("a ticket change comes from a ticket");
                if !tickets.contains_key(&before.id) {
                    undo.tickets.push(before.clone());
                }
                let closed_now = before.status.is_open() && !changed.status.is_open();
                if closed_now {
                    self.touch_row(&mut rows, current.account_id, |r| {
                        r.open_tickets = r.open_tickets.saturating_sub(1);
                    })?;
                }
                b.put_ticket(&changed);
                tickets.insert(changed.id, changed);
            }
            if p.touch {
                self.touch_row(&mut rows, current.account_id, |r| r.last_touch = r.last_touch.max(Some(now)))?;
            }
            for w in p.writes {
                let entry = OutboxEntry::new(self.next_id()?, current.account_id, activity.id, w, now);
                b.insert(keys::outbox(entry.id), encode(&entry));
                undo.outbox.push(entry.id);
                report.queued += 1;
            }
        }
        if report.applied == 0 {
            return Ok(report);
        }
        if !rows.is_empty() {
            let mut totals = self.stage_totals()?;
            for (old, new) in rows.values() {
                b.put_row(Some(old), new, &mut totals);
                undo.rows.push(old.clone());
            }
            b.put_totals(&totals);
        }
        undo.label = if report.applied == 1 {
            action.label().to_string()
        } else {
            format!("{} on {} items", action.label(), report.applied)
        };
        b.insert(keys::UNDO.to_vec(), encode(&undo));
        self.apply(b)?;
        // On disk before the CSM moves on: a crash or kill -9 right after
        // the toast must not lose the action or its outbox entries.
        self.flush()?;
        Ok(report)
    }

    /// Reads a row once per action and changes it in place.
    fn touch_row(
        &self,
        rows: &mut BTreeMap<AccountId, (AccountRow, AccountRow)>,
        id: AccountId,
        change: impl FnOnce(&mut AccountRow),
    ) -> Result<()> {
        if let std::collections::btree_map::Entry::Vacant(v) = rows.entry(id) {
            let Some(row) = self.row(id)? else { return Ok(()) };
            v.insert((row.clone(), row));
        }
        if let Some((_, new)) = rows.get_mut(&id) {
            change(new);
        }
        Ok(())
    }

    /// Queues a stage move for the CRM and records how to undo it (inside
    /// `set_stage`'s batch).
    pub(super) fn stage_move_writes(
        &self,
        b: &mut Batch,
        account: &Account,
        row: &AccountRow,
        activity: &Activity,
        stage: crate::domain::Stage,
    ) -> Result<()> {
        let write = crate::domain::outbox::Write::Stage { stage };
        let entry = OutboxEntry::new(self.next_id()?, account.id, activity.id, write, activity.at);
        b.insert(keys::outbox(entry.id), encode(&entry));
        let undo = UndoRecord {
            label: "stage move".into(),
            activities: vec![(activity.account_id, activity.at, activity.id)],
            outbox: vec![entry.id],
            rows: vec![row.clone()],
            accounts: vec![account.clone()],
            ..Default::default()
        };
        b.insert(keys::UNDO.to_vec(), encode(&undo));
        Ok(())
    }

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

    /// The label of the action `undo` would take back.
    pub fn last_action(&self) -> Result<Option<String>> {
        Ok(self.get::<UndoRecord>(keys::UNDO, "undo record")?.map(|u| u.label))
    }

    /// Takes back the last action, unless one of its writes already left
    /// for a vendor (then nothing changes and the CSM is told).
    pub fn undo(&self) -> Result<UndoOutcome> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let Some(undo) = self.get::<UndoRecord>(keys::UNDO, "undo record")? else { return Ok(UndoOutcome::Nothing) };
        let mut b = Batch::default();
        for id in &undo.outbox {
            match self.outbox_entry(*id)? {
                Some(e) if e.state != OutboxState::Pending => {
                    return Ok(UndoOutcome::AlreadySent { label: undo.label, system: e.write.system() });
                }
                Some(_) => b.remove(keys::outbox(*id)),
                None => {}
            }
        }
        for f in &undo.follow_ups {
            // Only the state changed, so the key is the same.
            b.insert(keys::follow_up(f.due, f.id), encode(f));
        }
        for (acc, at, id) in &undo.activities {
            b.remove(keys::activity(*acc, *at, *id));
        }
        for t in &undo.tickets {
            b.put_ticket(t);
        }
        for a in &undo.accounts {
            b.put_account(a);
        }
        if !undo.rows.is_empty() {
            let mut totals = self.stage_totals()?;
            for old in &undo.rows {
                let current = self.row(old.id)?;
                let mut restored = old.clone();
                // Health may have moved since (the daily pass): keep it.
                if let Some(c) = &current {
                    restored.health = c.health;
                    restored.health_7d_ago = c.health_7d_ago;
                    restored.health_30d_ago = c.health_30d_ago;
                }
                b.put_row(current.as_ref(), &restored, &mut totals);
            }
            b.put_totals(&totals);
        }
        b.remove(keys::UNDO.to_vec());
        self.apply(b)?;
        self.flush()?;
        let mut accounts: Vec<AccountId> = undo.follow_ups.iter().map(|f| f.account_id).collect();
        accounts.extend(undo.rows.iter().map(|r| r.id));
        accounts.sort();
        accounts.dedup();
        Ok(UndoOutcome::Undone { label: undo.label, accounts, restored: undo.follow_ups })
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
        Ok(c)
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
                self.tree.remove(keys::outbox(id))?;
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

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
