//! Moving a support organization's records when its match changes: an
//! account of its own merged into the CRM account that now matches it,
//! or the organization's tickets and people moved off an account it no
//! longer clearly matches. Each change is one batch, and every derived
//! figure of the accounts it touches is recomputed in that batch.

use std::collections::BTreeSet;

use super::codec::encode;
use super::outbox::UndoRecord;
use super::pages::PageCache;
use super::{keys, Batch, Result, StageTotals, Store};
use crate::domain::outbox::{OutboxState, System};
use crate::domain::{
    Account, AccountId, AccountRow, Activity, Contact, Deal, FollowUp, FollowUpState, NpsResponse, OrgRecord,
    SupportOnly, Ticket,
};
use crate::sync::zendesk::user_contact_id;

/// Organizations seen for the first time filed per batch.
const NEW_PER_BATCH: usize = 2_000;

/// Where an organization's records should live.
#[derive(Debug, Clone)]
pub enum Target {
    /// On this (CRM) account.
    Account(AccountId),
    /// On an account of its own: its current one when it has one, else
    /// this new account.
    Own(Account),
}

/// What a relink did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relinked {
    /// The account the organization's records live on now.
    pub account: Option<AccountId>,
    /// An account of its own that was merged away into `account`.
    pub merged: Option<AccountId>,
    /// A new account of its own created for it.
    pub created: Option<AccountId>,
    /// Tickets that moved.
    pub tickets: usize,
    /// People that moved.
    pub contacts: usize,
}

/// The records moved by one change, to recompute the rows they touch.
#[derive(Default)]
struct Moved {
    tickets: Vec<Ticket>,
    activities: Vec<Activity>,
    ticket_ids: BTreeSet<u64>,
}

impl Store {
    /// Files desk organization `record` (from `source`) on `target`,
    /// moving its records there from wherever they live now, in one batch.
    ///
    /// An account of its own that the organization leaves is merged whole
    /// into the target when the organization had it to itself
    /// (`exclusive`): tickets, people, timeline, deals, NPS answers,
    /// follow-ups with their states, outbox entries; its id then resolves
    /// to the target. Otherwise only what is the organization's moves: its
    /// tickets (their slots name it) and its users' contacts.
    /// `crm_sources` tell a CRM account from an account of its own in
    /// workspaces written before the latter were marked; `sources` are
    /// every source whose id map may point at moved records.
    pub fn relink_org(
        &self,
        source: &str,
        record: &OrgRecord,
        target: Target,
        exclusive: bool,
        crm_sources: &[String],
        sources: &[String],
    ) -> Result<Relinked> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = Batch::default();
        let mut totals = self.stage_totals()?;
        let done = self.relink_into(&mut b, &mut totals, source, record, &target, exclusive, crm_sources, sources)?;
        b.put_totals(&totals);
        self.apply(b)?;
        Ok(done)
    }

    /// Files organizations seen for the first time on their targets, many
    /// to a batch: a first sync of 100,000 organizations writes a few dozen
    /// batches, not 100,000. Nothing of theirs is filed anywhere yet, so no
    /// change reads what another in the same batch writes (but the totals,
    /// carried along).
    pub fn link_new_orgs(&self, source: &str, new: &[(OrgRecord, Target)]) -> Result<Vec<Relinked>> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(new.len());
        for chunk in new.chunks(NEW_PER_BATCH) {
            let mut b = Batch::default();
            let mut totals = self.stage_totals()?;
            for (record, target) in chunk {
                out.push(self.relink_into(&mut b, &mut totals, source, record, target, true, &[], &[])?);
            }
            b.put_totals(&totals);
            self.apply(b)?;
        }
        Ok(out)
    }

    /// The writes of `relink_org` into a batch and the totals it carries.
    #[allow(clippy::too_many_arguments)]
    fn relink_into(
        &self,
        b: &mut Batch,
        totals: &mut StageTotals,
        source: &str,
        record: &OrgRecord,
        target: &Target,
        exclusive: bool,
        crm_sources: &[String],
        sources: &[String],
    ) -> Result<Relinked> {
        let ext = format!("org/{}", record.id);
        let current = self.external_id(source, &ext)?;
        let mut done = Relinked::default();
        let current_is_own = match current {
            Some(acc) => self.is_own_account(acc, source, record.id, crm_sources)?,
            None => false,
        };
        // An account of its own to keep must still be there (its CRM
        // company may have been archived under it).
        let keep_current = current_is_own && exclusive && self.account(current.expect("own"))?.is_some();
        let mut created_row = None;
        let dest = match target {
            Target::Account(x) => *x,
            Target::Own(_) if keep_current => current.expect("own means there is one"),
            Target::Own(new) => {
                let row = crate::domain::rollup::derive_row(new, &Default::default(), &[], &[]);
                b.put_account(new);
                b.put_row(None, &row, totals);
                created_row = Some(row);
                done.created = Some(new.id);
                new.id
            }
        };
        // An own account keeps the organization's name and domain.
        if let (Target::Own(new), true) = (target, done.created.is_none()) {
            if let Some(mut a) = self.account(dest)? {
                if a.name != new.name || a.domain != new.domain {
                    a.name.clone_from(&new.name);
                    a.domain.clone_from(&new.domain);
                    if let Some(row) = self.row(dest)? {
                        b.put_row(Some(&row), &row.with_account(&a), totals);
                    }
                    b.put_account(&a);
                }
            }
        }
        let mut moved = Moved::default();
        let mut from_kept = None;
        if let Some(from) = current.filter(|f| *f != dest) {
            if current_is_own && exclusive {
                self.merge_whole(b, totals, from, dest, sources, &mut moved)?;
                done.merged = Some(from);
            } else {
                done.contacts = self.move_org_records(b, source, record.id, from, dest, sources, &mut moved)?;
                from_kept = Some(from);
            }
        }
        done.tickets = moved.tickets.len();
        // The links, the record and the mark of an account of its own.
        b.insert(keys::external(source, &ext), dest.0.to_be_bytes().to_vec());
        b.insert(keys::external_of(dest, source), ext.as_bytes().to_vec());
        b.insert(keys::org(source, record.id), encode(record));
        if record.link.is_own() {
            let mark = SupportOnly { source: source.to_string(), org: record.id, link: record.link.clone() };
            b.insert(keys::with_id(keys::SUPPORT_ONLY, dest), encode(&mark));
        }
        // Only a move changes what an account's figures are made of.
        if current.is_some_and(|f| f != dest) {
            self.rederive_row(b, totals, dest, created_row, &moved, true)?;
            if let Some(from) = from_kept {
                self.rederive_row(b, totals, from, None, &moved, false)?;
            }
        }
        done.account = Some(dest);
        Ok(done)
    }

    /// Whether `acc` is organization `org`'s account of its own: marked so,
    /// or (workspaces from before the mark) known to no CRM source.
    pub fn is_own_account(&self, acc: AccountId, source: &str, org: u64, crm_sources: &[String]) -> Result<bool> {
        if let Some(mark) = self.support_only(acc)? {
            return Ok(mark.source == source && mark.org == org);
        }
        for crm in crm_sources {
            if self.tree.get(keys::external_of(acc, crm))?.is_some() {
                return Ok(false);
            }
        }
        Ok(self
            .tree
            .get(keys::external_of(acc, source))?
            .is_some_and(|v| v.as_ref() == format!("org/{org}").as_bytes()))
    }

    /// Moves everything of account `from` onto `into` and removes `from`,
    /// leaving an alias so its id resolves to `into`.
    fn merge_whole(
        &self,
        b: &mut Batch,
        totals: &mut StageTotals,
        from: AccountId,
        into: AccountId,
        sources: &[String],
        moved: &mut Moved,
    ) -> Result<()> {
        for t in self.tickets(from)? {
            self.move_ticket(b, t, into, sources, moved)?;
        }
        for c in self.contacts(from)? {
            self.move_contact(b, c, into, sources)?;
        }
        for a in self.activities(from)? {
            let old = keys::activity(a.account_id, a.at, a.id);
            let a = Activity { account_id: into, ..a };
            let new = keys::activity(into, a.at, a.id);
            b.remove(old.clone());
            b.insert(new.clone(), encode(&a));
            self.repoint(b, sources, &format!("activity/{}", a.id), &old, &new)?;
            moved.activities.push(a);
        }
        for d in self.deals(from)? {
            let old = keys::child(keys::DEAL, from, d.id);
            let d = Deal { account_id: into, ..d };
            let new = keys::child(keys::DEAL, into, d.id);
            b.remove(old.clone());
            b.insert(new.clone(), encode(&d));
            self.repoint(b, sources, &format!("deal/{}", d.id), &old, &new)?;
        }
        for n in self.nps(from)? {
            b.remove(keys::nps(from, n.on, n.id));
            let n = NpsResponse { account_id: into, ..n };
            b.put_nps(&n);
        }
        // The CSM's sentiment and usage figures: the CRM account's own win.
        if let Some(m) = self.manual_signals(from)? {
            if self.manual_signals(into)?.is_none() {
                b.put_manual_signals(into, &m);
            }
            b.remove(keys::with_id(keys::MANUAL, from));
        }
        self.move_raised_items(b, from, into)?;
        self.move_outbox(b, from, into)?;
        if let Some(undo) = self.get::<UndoRecord>(keys::UNDO, "undo record")? {
            // Taking back an action on an account that no longer exists
            // would write to it again: the merge ends the undo.
            if undo_touches(&undo, from) {
                b.remove(keys::UNDO.to_vec());
            }
        }
        // Its own history describes an account that is gone.
        let mut pages = PageCache::default();
        pages.remove(self, from)?;
        pages.flush_into(b);
        for prefix in [keys::SERIES, keys::SNAPSHOT] {
            for k in self.tree.scan_prefix(keys::with_id(prefix, from)).keys() {
                b.remove(k?.to_vec());
            }
        }
        if let Some(row) = self.row(from)? {
            b.remove_row(&row, totals);
        }
        b.remove(keys::with_id(keys::ACCOUNT, from));
        b.remove(keys::with_id(keys::SUPPORT_ONLY, from));
        for k in self.tree.scan_prefix(keys::with_id(keys::EXTERNAL_OF, from)).keys() {
            b.remove(k?.to_vec());
        }
        b.insert(keys::with_id(keys::ALIAS, from), into.0.to_be_bytes().to_vec());
        Ok(())
    }

    /// Moves the organization's own records off `from`: the tickets whose
    /// slot names it and the contacts of its users. Returns the contacts moved.
    #[allow(clippy::too_many_arguments)]
    fn move_org_records(
        &self,
        b: &mut Batch,
        source: &str,
        org: u64,
        from: AccountId,
        into: AccountId,
        sources: &[String],
        moved: &mut Moved,
    ) -> Result<usize> {
        for t in self.tickets(from)? {
            let ours = self.ticket_slot(source, t.id)?.is_some_and(|s| s.org == Some(org));
            if ours {
                self.move_ticket(b, t, into, sources, moved)?;
            }
        }
        let mut contacts = 0;
        for c in self.contacts(from)? {
            let user = c.id & ((1 << 60) - 1);
            let is_user = user_contact_id(user) == c.id;
            if is_user && self.user_record(source, user)?.is_some_and(|u| u.org == Some(org)) {
                self.move_contact(b, c, into, sources)?;
                contacts += 1;
            }
        }
        Ok(contacts)
    }

    /// Refiles a ticket (and its slot and follow-up) under `into`.
    fn move_ticket(
        &self,
        b: &mut Batch,
        t: Ticket,
        into: AccountId,
        sources: &[String],
        moved: &mut Moved,
    ) -> Result<()> {
        b.remove(keys::child(keys::TICKET, t.account_id, t.id));
        let t = Ticket { account_id: into, ..t };
        b.put_ticket(&t);
        for s in sources {
            let Some(slot) = self.ticket_slot(s, t.id)? else { continue };
            let item = match (slot.legacy, slot.due) {
                (true, _) => self.follow_up(super::ticket_follow_up_id(t.id))?,
                (false, Some(due)) => {
                    self.get(&keys::follow_up_at(due, super::ticket_follow_up_id(t.id)), "follow-up")?
                }
                (false, None) => None,
            };
            if let Some(f) = item {
                b.insert(keys::follow_up(f.due, f.id), encode(&FollowUp { account_id: into, ..f }));
            }
            let value =
                if slot.legacy { into.0.to_be_bytes().to_vec() } else { keys::ticket_slot(into, slot.due, slot.org) };
            b.insert(keys::external(s, &super::ticket_ext(t.id)), value);
        }
        moved.ticket_ids.insert(t.id);
        moved.tickets.push(t);
        Ok(())
    }

    /// Refiles a contact under `into`, with its id map entries.
    fn move_contact(&self, b: &mut Batch, c: Contact, into: AccountId, sources: &[String]) -> Result<()> {
        let old = keys::child(keys::CONTACT, c.account_id, c.id);
        let c = Contact { account_id: into, ..c };
        let new = keys::child(keys::CONTACT, into, c.id);
        b.remove(old.clone());
        b.insert(new.clone(), encode(&c));
        self.repoint(b, sources, &format!("contact/{}", c.id), &old, &new)
    }

    /// Points a source's id map entry for a child record at its new key
    /// when it pointed at the old one (an 8-byte entry holds the account).
    fn repoint(&self, b: &mut Batch, sources: &[String], ext: &str, old: &[u8], new: &[u8]) -> Result<()> {
        let old_account = old.get(2..10);
        for s in sources {
            let key = keys::external(s, ext);
            let Some(v) = self.tree.get(&key)? else { continue };
            if v.as_ref() == old || (v.len() == 8 && Some(v.as_ref()) == old_account) {
                b.insert(key, new.to_vec());
            }
        }
        Ok(())
    }

    /// Moves the items an account's flags and lifecycle rules raised. The
    /// target's own item for the same rule wins; the moved one leaves the
    /// queue unless it was done (a done item is history).
    fn move_raised_items(&self, b: &mut Batch, from: AccountId, into: AccountId) -> Result<()> {
        for kv in self.tree.scan_prefix(keys::with_id(keys::FLAG, from)) {
            let (k, v) = kv?;
            b.remove(k.to_vec());
            let (Some(&code), Ok(id)) = (k.last(), <[u8; 8]>::try_from(v.as_ref())) else { continue };
            let Some(f) = self.follow_up(u64::from_be_bytes(id))? else { continue };
            let taken = self.tree.get(keys::flag(into, code))?.is_some();
            let done = matches!(f.state, FollowUpState::Done { .. });
            if taken && !done {
                b.remove_follow_up(&f);
                continue;
            }
            if !taken {
                b.insert(keys::flag(into, code), v.to_vec());
            }
            b.put_follow_up(&FollowUp { account_id: into, ..f }, None);
        }
        Ok(())
    }

    /// Outbox entries follow their account. A note or task that failed
    /// only because the account had no CRM company goes out again.
    fn move_outbox(&self, b: &mut Batch, from: AccountId, into: AccountId) -> Result<()> {
        for e in self.outbox()? {
            if e.account_id != from {
                continue;
            }
            let mut e = e;
            e.account_id = into;
            if let OutboxState::Failed { reason } = &e.state {
                if e.write.system() == System::Crm && reason.contains("not linked to a HubSpot company") {
                    e.state = OutboxState::Pending;
                    e.attempts = 0;
                    e.last_error = Some("the account is now linked to its HubSpot company; sending again".into());
                }
            }
            b.insert(keys::outbox(e.id), encode(&e));
        }
        Ok(())
    }

    /// Recomputes an account's open tickets and last touch from its records
    /// as they will be once the batch lands: `moved` arrive on it when
    /// `gains`, else they leave it. `created` is its row when the batch
    /// creates it.
    fn rederive_row(
        &self,
        b: &mut Batch,
        totals: &mut StageTotals,
        id: AccountId,
        created: Option<AccountRow>,
        moved: &Moved,
        gains: bool,
    ) -> Result<()> {
        let Some(old) = created.or(self.row(id)?) else { return Ok(()) };
        let mut tickets: Vec<Ticket> =
            self.tickets(id)?.into_iter().filter(|t| !moved.ticket_ids.contains(&t.id)).collect();
        let mut activities = self.activities(id)?;
        if gains {
            tickets.extend(moved.tickets.iter().cloned());
            activities.extend(moved.activities.iter().cloned());
        }
        let row = AccountRow {
            open_tickets: tickets.iter().filter(|t| t.status.is_open()).count() as u32,
            last_touch: crate::domain::rollup::last_touch(&tickets, &activities),
            ..old.clone()
        };
        if row != old {
            b.put_row(Some(&old), &row, totals);
        }
        Ok(())
    }
}

/// Whether an undo record would write to `id`.
fn undo_touches(u: &UndoRecord, id: AccountId) -> bool {
    u.follow_ups.iter().any(|f| f.account_id == id)
        || u.activities.iter().any(|(a, _, _)| *a == id)
        || u.rows.iter().any(|r| r.id == id)
        || u.tickets.iter().any(|t| t.account_id == id)
        || u.accounts.iter().any(|a| a.id == id)
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
