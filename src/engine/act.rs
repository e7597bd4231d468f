//! A CSM's one-key actions and stage moves, applied locally in one batch
//! (the item, the timeline, the ticket, the row, the outbox entries and
//! the undo record land together or not at all), and their undo.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::domain::followup_action::{plan, FollowUpAction, TICKET_ONLY};
use crate::domain::outbox::{OutboxEntry, System, Write};
use crate::domain::{
    AccountId, AccountRow, Activity, ActivityKind, ChurnReason, FollowUp, FollowUpState, Outcome, Stage, Ticket,
};
use crate::store::{keys, Batch, Result, Store, StoreError, UndoEntry, UndoRecord};

/// Who made a change and when.
#[derive(Debug, Clone)]
pub struct Author {
    /// The name on timeline entries.
    pub name: String,
    /// The moment of the change.
    pub at: DateTime<Utc>,
    /// The user's day at that moment (the day an outcome is recorded on).
    pub day: chrono::NaiveDate,
}

impl Author {
    /// `name` acting at `at`, on the UTC day.
    pub fn new(name: &str, at: DateTime<Utc>) -> Author {
        Author { name: name.to_string(), at, day: at.date_naive() }
    }

    /// `name` acting at `at`, on the user's day.
    pub fn on(name: &str, at: DateTime<Utc>, cal: &crate::domain::calendar::Calendar) -> Author {
        Author { name: name.to_string(), at, day: cal.day(at) }
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

/// An action the history cannot take back, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What it did ("reply to Acme").
    pub what: String,
    /// Why it cannot be taken back ("Zendesk already has it").
    pub why: String,
}

impl Refusal {
    /// The sentence for the CSM.
    pub fn message(&self) -> String {
        format!("Cannot undo the {}: {}; correct it there or add a note", self.what, self.why)
    }
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    /// Taken back.
    Undone {
        /// What each action taken back did, newest first.
        done: Vec<String>,
        /// The accounts they touched.
        accounts: Vec<AccountId>,
        /// The items as they are again.
        restored: Vec<FollowUp>,
        /// Newer actions passed over because they cannot be taken back.
        kept: Vec<Refusal>,
    },
    /// Nothing to undo.
    Nothing,
    /// Nothing was taken back: the action asked for cannot be.
    Refused(Refusal),
}

/// Whether an action of the history can still be taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanUndo {
    /// Yes.
    Yes,
    /// No: one of its writes left for a vendor (or may have).
    Reached(System),
    /// No: a newer action that cannot be taken back changed the same
    /// item, ticket or account.
    After {
        /// What the newer action did.
        newer: String,
        /// Where that one went.
        system: System,
    },
}

impl CanUndo {
    /// Why not, in words; `None` when it can be.
    pub fn why_not(&self) -> Option<String> {
        match self {
            CanUndo::Yes => None,
            CanUndo::Reached(s) => Some(format!("{} already has it", s.label())),
            CanUndo::After { newer, system } => Some(format!(
                "the {newer} made after it changed the same records and {} already has it",
                system.label()
            )),
        }
    }
}

/// One action of the history, as the undo list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// Its sequence (`undo_to` takes it).
    pub seq: u64,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// What it did.
    pub what: String,
    /// Whether it can still be taken back.
    pub can: CanUndo,
}

/// What a move to Churned records: why the customer left, in the CSM's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChurnWhy {
    /// Voluntary or involuntary.
    pub reason: ChurnReason,
    /// A short note, possibly empty.
    pub note: String,
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
        // A task is the account's: one however many of its items are marked.
        let shared = !p.writes.is_empty() || p.touch || p.ticket.is_some() || p.create.is_some();
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
        if let Some(draft) = p.create {
            let f = draft.into_follow_up(store.next_id()?);
            b.put_follow_up(&f, None);
            undo.created.push(f.clone());
            report.changed.push(f);
        }
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
    let what = describe(store, action, items, report.applied)?;
    store.push_undo(&mut b, &UndoEntry { at: now, what, record: undo })?;
    store.apply(b)?;
    // On disk before the CSM moves on: a crash or kill -9 right after
    // the toast must not lose the action or its outbox entries.
    store.flush()?;
    Ok(report)
}

/// What an action did, in words, for the undo list ("note on Acme",
/// "reply to Acme", "done on 3 items").
fn describe(store: &Store, action: &FollowUpAction, items: &[FollowUp], applied: usize) -> Result<String> {
    let noun = match action {
        FollowUpAction::Done => "done",
        FollowUpAction::Snooze { .. } => "snooze",
        FollowUpAction::Note { .. } => "note",
        FollowUpAction::Reply { .. } => "reply",
        FollowUpAction::Escalate { .. } => "escalation",
        FollowUpAction::CloseTicket { .. } => "ticket close",
        FollowUpAction::Log { kind: ActivityKind::Meeting, .. } => "logged meeting",
        FollowUpAction::Log { kind: ActivityKind::Email, .. } => "logged email",
        FollowUpAction::Log { .. } => "logged call",
        FollowUpAction::Task { .. } => "task",
    };
    let to = if matches!(action, FollowUpAction::Reply { .. }) { "to" } else { "on" };
    let accounts: BTreeSet<AccountId> = items.iter().map(|f| f.account_id).collect();
    // A task is made once per account, however many of its items it came from.
    let applied = if matches!(action, FollowUpAction::Task { .. }) { accounts.len() } else { applied };
    Ok(match (applied, accounts.iter().next()) {
        (1, Some(id)) => {
            let name = store.row(*id)?.map_or_else(|| format!("account {}", id.0), |r| r.name);
            let name = crate::domain::text::sanitize(&name);
            // Done and snooze say which item: an account may have several.
            match items.first() {
                Some(f) if matches!(action, FollowUpAction::Done | FollowUpAction::Snooze { .. }) => {
                    format!("{noun} {to} {name} ({})", f.kind.label())
                }
                _ => format!("{noun} {to} {name}"),
            }
        }
        (n, _) => format!("{noun} on {n} items"),
    })
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

/// Moves an account to another lifecycle stage as `by`, with no churn
/// reason (see [`move_stage`]).
pub fn set_stage(store: &Store, id: AccountId, stage: Stage, by: &Author) -> Result<AccountRow> {
    move_stage(store, id, stage, None, by)
}

/// Moves an account to another lifecycle stage as `by`: the account (its
/// stage and the outcome the move stands for: a churn with `churn`'s
/// reason and note, a renewal, or none left stale), its row, the indexes,
/// the totals, a timeline entry, the write queued for the CRM and the undo
/// record change in one batch.
pub fn move_stage(
    store: &Store,
    id: AccountId,
    stage: Stage,
    churn: Option<&ChurnWhy>,
    by: &Author,
) -> Result<AccountRow> {
    let _w = store.write_lock();
    let mut account = store.account(id)?.ok_or(StoreError::NoAccount(id.0))?;
    let old_row = store.row(id)?.ok_or(StoreError::NoAccount(id.0))?;
    let before = account.clone();
    let from = account.stage;
    account.stage = stage;
    let on = by.day;
    account.outcome =
        Outcome::after_move(account.outcome.take(), from, stage, on, churn.map(|c| (c.reason, c.note.as_str())));
    let mut row = old_row.clone();
    row.stage = stage;
    let mut totals = store.stage_totals()?;
    let mut w = Batch::default();
    w.put_account(&account);
    w.put_row(Some(&old_row), &row, &mut totals);
    w.put_totals(&totals);
    let mut summary = format!("Moved from {} to {}", from.label(), stage.label());
    let mut what =
        format!("stage move of {}: {} → {}", crate::domain::text::sanitize(&account.name), from.label(), stage.label());
    if let Some(c) = churn.filter(|_| stage == Stage::Churned) {
        summary.push_str(&format!(": {} churn", c.reason.label()));
        what.push_str(&format!(" ({})", c.reason.label()));
        if !c.note.trim().is_empty() {
            summary.push_str(&format!(" ({})", c.note.trim()));
        }
    }
    let activity = Activity {
        id: store.next_id()?,
        account_id: id,
        at: by.at,
        kind: ActivityKind::StageChange,
        summary,
        author: by.name.clone(),
    };
    w.put_activity(&activity);
    let write = Write::Stage { stage };
    let entry = OutboxEntry::new(store.next_id()?, account.id, activity.id, write, activity.at);
    w.put_outbox(&entry);
    let undo = UndoRecord {
        label: "stage move".into(),
        activities: vec![(activity.account_id, activity.at, activity.id)],
        outbox: vec![entry.id],
        rows: vec![old_row],
        accounts: vec![before],
        ..Default::default()
    };
    store.push_undo(&mut w, &UndoEntry { at: by.at, what, record: undo })?;
    store.apply(w)?;
    store.flush()?;
    Ok(row)
}

/// Whether a record's writes all stayed home (pending, failed or in
/// conflict: none reached a vendor); else the vendor one went to.
fn reached(store: &Store, record: &UndoRecord) -> Result<Option<System>> {
    for id in &record.outbox {
        if let Some(e) = store.outbox_entry(*id)? {
            if !e.state.is_editable() {
                return Ok(Some(e.write.system()));
            }
        }
    }
    Ok(None)
}

/// The undo history, newest first, each with whether it can still be
/// taken back: not once a write of its reached a vendor, nor when a newer
/// action that cannot be taken back changed the same records.
pub fn history(store: &Store) -> Result<Vec<HistoryItem>> {
    Ok(history_with(store)?.into_iter().map(|(item, _)| item).collect())
}

fn history_with(store: &Store) -> Result<Vec<(HistoryItem, UndoRecord)>> {
    let mut out: Vec<(HistoryItem, UndoRecord)> = Vec::new();
    for (seq, entry) in store.undo_history()? {
        let can = match reached(store, &entry.record)? {
            Some(system) => CanUndo::Reached(system),
            None => {
                let blocker = out.iter().find(|(newer, r)| newer.can != CanUndo::Yes && entry.record.overlaps(r));
                match blocker {
                    Some((newer, _)) => {
                        let system = match &newer.can {
                            CanUndo::Reached(s) | CanUndo::After { system: s, .. } => *s,
                            CanUndo::Yes => unreachable!("filtered above"),
                        };
                        CanUndo::After { newer: newer.what.clone(), system }
                    }
                    None => CanUndo::Yes,
                }
            }
        };
        out.push((HistoryItem { seq, at: entry.at, what: entry.what, can }, entry.record));
    }
    Ok(out)
}

/// Takes back the newest action that can still be taken back, saying
/// which newer ones it passed over and why.
pub fn undo(store: &Store) -> Result<UndoOutcome> {
    let _w = store.write_lock();
    let all = history_with(store)?;
    let Some(target) = all.iter().find(|(i, _)| i.can == CanUndo::Yes).map(|(i, _)| i.seq) else {
        return Ok(match all.into_iter().next() {
            Some((newest, _)) => UndoOutcome::Refused(refusal(&newest)),
            None => UndoOutcome::Nothing,
        });
    };
    undo_down_to(store, all, target)
}

/// Takes back every action that can be, newest first, down to and with
/// `seq`; when `seq` itself cannot be taken back nothing changes.
pub fn undo_to(store: &Store, seq: u64) -> Result<UndoOutcome> {
    let _w = store.write_lock();
    let all = history_with(store)?;
    match all.iter().find(|(i, _)| i.seq == seq) {
        None => Ok(UndoOutcome::Nothing),
        Some((i, _)) if i.can != CanUndo::Yes => Ok(UndoOutcome::Refused(refusal(i))),
        Some(_) => undo_down_to(store, all, seq),
    }
}

fn refusal(item: &HistoryItem) -> Refusal {
    Refusal { what: item.what.clone(), why: item.can.why_not().unwrap_or_default() }
}

/// Takes back the actions of `all` (newest first) down to `seq`, one batch
/// each, passing over those that cannot be. Under the write lock.
fn undo_down_to(store: &Store, all: Vec<(HistoryItem, UndoRecord)>, seq: u64) -> Result<UndoOutcome> {
    let (mut done, mut kept) = (Vec::new(), Vec::new());
    let mut accounts: BTreeSet<AccountId> = BTreeSet::new();
    let mut restored: BTreeMap<u64, FollowUp> = BTreeMap::new();
    for (item, record) in all {
        if item.can != CanUndo::Yes {
            kept.push(refusal(&item));
        } else {
            take_back(store, item.seq, &record)?;
            accounts.extend(record.follow_ups.iter().map(|f| f.account_id));
            accounts.extend(record.rows.iter().map(|r| r.id));
            accounts.extend(record.activities.iter().map(|a| a.0));
            accounts.extend(record.created.iter().map(|f| f.account_id));
            // An older snapshot of the same item is how it is now.
            restored.extend(record.follow_ups.into_iter().map(|f| (f.id, f)));
            // An item it created is gone: given back done, so the screen
            // takes it out of the queue.
            restored.extend(record.created.into_iter().map(|mut f| {
                f.state = FollowUpState::Done { at: item.at };
                (f.id, f)
            }));
            done.push(item.what);
        }
        if item.seq == seq {
            break;
        }
    }
    store.flush()?;
    Ok(UndoOutcome::Undone {
        done,
        accounts: accounts.into_iter().collect(),
        restored: restored.into_values().collect(),
        kept,
    })
}

/// Takes back one action of the history in one batch.
fn take_back(store: &Store, seq: u64, undo: &UndoRecord) -> Result<()> {
    let mut b = Batch::default();
    for id in &undo.outbox {
        b.remove_outbox(*id);
    }
    for f in &undo.follow_ups {
        // Only the state changed, so the key is the same.
        b.put_follow_up_state(f);
    }
    for (acc, at, id) in &undo.activities {
        b.remove_activity(*acc, *at, *id);
    }
    for f in &undo.created {
        // Its due never changes (a snooze keeps it), so neither does its key.
        b.remove_follow_up(f);
    }
    for t in &undo.tickets {
        b.put_ticket(t);
    }
    for old in &undo.accounts {
        // A sync may have changed the rest since: only what a move changed goes back.
        if let Some(mut a) = store.account(old.id)? {
            a.stage = old.stage;
            a.outcome = old.outcome.clone();
            b.put_account(&a);
        }
    }
    if !undo.rows.is_empty() {
        let mut totals = store.stage_totals()?;
        for old in &undo.rows {
            let Some(current) = store.row(old.id)? else { continue };
            // Health may have moved since (the daily pass), and a sync may
            // have renamed it: only what an action changes goes back.
            let restored = AccountRow {
                stage: old.stage,
                last_touch: old.last_touch,
                open_tickets: old.open_tickets,
                ..current.clone()
            };
            b.put_row(Some(&current), &restored, &mut totals);
        }
        b.put_totals(&totals);
    }
    b.remove_undo(seq);
    store.apply(b)
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
