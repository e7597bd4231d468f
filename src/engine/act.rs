//! A CSM's one-key actions and stage moves, applied locally in one batch
//! (the item, the timeline, the ticket, the row, the outbox entries and
//! the undo record land together or not at all), and their undo.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::domain::followup_action::{plan, FollowUpAction, TICKET_ONLY};
use crate::domain::outbox::{OutboxEntry, OutboxState, System, Write};
use crate::domain::{Account, AccountId, AccountRow, Activity, ActivityKind, FollowUp, Stage, Ticket};
use crate::store::{keys, Batch, Result, Store, StoreError, UndoRecord};

/// Who made a change and when.
#[derive(Debug, Clone)]
pub struct Author {
    /// The name on timeline entries.
    pub name: String,
    /// The moment of the change.
    pub at: DateTime<Utc>,
}

impl Author {
    /// `name` acting at `at`.
    pub fn new(name: &str, at: DateTime<Utc>) -> Author {
        Author { name: name.to_string(), at }
    }
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

/// Applies `action` to `items` as `by`: each item's state, a timeline
/// entry, the local ticket and row changes and the outbox entries, with
/// the undo record, in one batch. Account-level writes (notes, logged
/// calls) are made once per account and ticket writes once per ticket,
/// however many of its items are selected.
pub fn apply(store: &Store, items: &[FollowUp], action: &FollowUpAction, by: &Author) -> Result<ActionReport> {
    let _w = store.write_lock();
    let now = by.at;
    let mut report = ActionReport::default();
    let mut b = Batch::default();
    let mut undo = UndoRecord::default();
    let mut rows: BTreeMap<AccountId, (AccountRow, AccountRow)> = BTreeMap::new();
    let mut tickets: BTreeMap<u64, Ticket> = BTreeMap::new();
    let mut accounts_written: BTreeSet<AccountId> = BTreeSet::new();
    let mut tickets_written: BTreeSet<u64> = BTreeSet::new();
    for item in items {
        // The item as stored now: the queue on screen may be a moment old.
        // A ticket-only item (a reply or close from the account view) is
        // never stored: it stands for its ticket alone.
        let stored = item.id != TICKET_ONLY;
        let current = match stored {
            false => item.clone(),
            true => match store.get::<FollowUp>(&keys::follow_up(item.due, item.id), "follow-up")? {
                Some(current) => current,
                None => {
                    report.skipped.push(format!("{}: no longer in the queue", item.reason));
                    continue;
                }
            },
        };
        let ticket = match current.ticket_id {
            Some(t) => match tickets.get(&t) {
                Some(t) => Some(t.clone()),
                None => store.get::<Ticket>(&keys::child(keys::TICKET, current.account_id, t), "ticket")?,
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
        if let Some(state) = p.state.filter(|_| stored) {
            let mut f = current.clone();
            f.state = state;
            b.put_follow_up_state(&f);
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
            id: store.next_id()?,
            account_id: current.account_id,
            at: now,
            kind: p.timeline.0,
            summary: p.timeline.1,
            author: by.name.clone(),
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
                touch_row(store, &mut rows, current.account_id, |r| {
                    r.open_tickets = r.open_tickets.saturating_sub(1);
                })?;
            }
            b.put_ticket(&changed);
            tickets.insert(changed.id, changed);
        }
        if p.touch {
            touch_row(store, &mut rows, current.account_id, |r| r.last_touch = r.last_touch.max(Some(now)))?;
        }
        for w in p.writes {
            let entry = OutboxEntry::new(store.next_id()?, current.account_id, activity.id, w, now);
            b.put_outbox(&entry);
            undo.outbox.push(entry.id);
            report.queued += 1;
        }
    }
    if report.applied == 0 {
        return Ok(report);
    }
    if !rows.is_empty() {
        let mut totals = store.stage_totals()?;
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
    b.put_undo(&undo);
    store.apply(b)?;
    // On disk before the CSM moves on: a crash or kill -9 right after
    // the toast must not lose the action or its outbox entries.
    store.flush()?;
    Ok(report)
}

/// Reads a row once per action and changes it in place.
fn touch_row(
    store: &Store,
    rows: &mut BTreeMap<AccountId, (AccountRow, AccountRow)>,
    id: AccountId,
    change: impl FnOnce(&mut AccountRow),
) -> Result<()> {
    if let std::collections::btree_map::Entry::Vacant(v) = rows.entry(id) {
        let Some(row) = store.row(id)? else { return Ok(()) };
        v.insert((row.clone(), row));
    }
    if let Some((_, new)) = rows.get_mut(&id) {
        change(new);
    }
    Ok(())
}

/// Moves an account to another lifecycle stage as `by`: the account, its
/// row, the indexes, the totals, a timeline entry, the write queued for
/// the CRM and the undo record change in one batch.
pub fn set_stage(store: &Store, id: AccountId, stage: Stage, by: &Author) -> Result<AccountRow> {
    let _w = store.write_lock();
    let mut account = store.account(id)?.ok_or(StoreError::NoAccount(id.0))?;
    let old_row = store.row(id)?.ok_or(StoreError::NoAccount(id.0))?;
    let before = account.clone();
    let from = account.stage;
    account.stage = stage;
    let mut row = old_row.clone();
    row.stage = stage;
    let mut totals = store.stage_totals()?;
    let mut w = Batch::default();
    w.put_account(&account);
    w.put_row(Some(&old_row), &row, &mut totals);
    w.put_totals(&totals);
    let activity = Activity {
        id: store.next_id()?,
        account_id: id,
        at: by.at,
        kind: ActivityKind::StageChange,
        summary: format!("Moved from {} to {}", from.label(), stage.label()),
        author: by.name.clone(),
    };
    w.put_activity(&activity);
    stage_move_writes(store, &mut w, &before, &old_row, &activity, stage)?;
    store.apply(w)?;
    store.flush()?;
    Ok(row)
}

/// Queues a stage move for the CRM and records how to undo it (inside
/// `set_stage`'s batch).
fn stage_move_writes(
    store: &Store,
    b: &mut Batch,
    account: &Account,
    row: &AccountRow,
    activity: &Activity,
    stage: Stage,
) -> Result<()> {
    let write = Write::Stage { stage };
    let entry = OutboxEntry::new(store.next_id()?, account.id, activity.id, write, activity.at);
    b.put_outbox(&entry);
    let undo = UndoRecord {
        label: "stage move".into(),
        activities: vec![(activity.account_id, activity.at, activity.id)],
        outbox: vec![entry.id],
        rows: vec![row.clone()],
        accounts: vec![account.clone()],
        ..Default::default()
    };
    b.put_undo(&undo);
    Ok(())
}

/// Takes back the last action, unless one of its writes already left for
/// a vendor (then nothing changes and the CSM is told).
pub fn undo(store: &Store) -> Result<UndoOutcome> {
    let _w = store.write_lock();
    let Some(undo) = store.undo_record()? else { return Ok(UndoOutcome::Nothing) };
    let mut b = Batch::default();
    for id in &undo.outbox {
        match store.outbox_entry(*id)? {
            Some(e) if e.state != OutboxState::Pending => {
                return Ok(UndoOutcome::AlreadySent { label: undo.label, system: e.write.system() });
            }
            Some(_) => b.remove_outbox(*id),
            None => {}
        }
    }
    for f in &undo.follow_ups {
        // Only the state changed, so the key is the same.
        b.put_follow_up_state(f);
    }
    for (acc, at, id) in &undo.activities {
        b.remove_activity(*acc, *at, *id);
    }
    for t in &undo.tickets {
        b.put_ticket(t);
    }
    for a in &undo.accounts {
        b.put_account(a);
    }
    if !undo.rows.is_empty() {
        let mut totals = store.stage_totals()?;
        for old in &undo.rows {
            let current = store.row(old.id)?;
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
    b.remove_undo();
    store.apply(b)?;
    store.flush()?;
    let mut accounts: Vec<AccountId> = undo.follow_ups.iter().map(|f| f.account_id).collect();
    accounts.extend(undo.rows.iter().map(|r| r.id));
    accounts.sort();
    accounts.dedup();
    Ok(UndoOutcome::Undone { label: undo.label, accounts, restored: undo.follow_ups })
}

#[cfg(test)]
impl Store {
    /// `set_stage` as `author` at `now`, for the store's own tests that
    /// predate this module (store/health_tests.rs).
    pub(crate) fn set_stage(
        &self,
        id: AccountId,
        stage: Stage,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<AccountRow> {
        set_stage(self, id, stage, &Author::new(author, now))
    }
}

#[cfg(test)]
#[path = "act_tests.rs"]
mod tests;
