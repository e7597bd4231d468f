//! Moving a support organization's records when its match changes: an
//! account of its own merged into the CRM account that now matches it,
//! or the organization's tickets and people moved off an account it no
//! longer clearly matches. Changes land many to a batch (never two that
//! touch the same account), and every derived figure of the accounts a
//! change touches is recomputed in its batch.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::outbox::{OutboxEntry, OutboxState, System, Write};
use crate::domain::rating::SurveyRating;
use crate::domain::{
    Account, AccountId, AccountRow, Activity, Contact, Deal, FollowUp, FollowUpState, NpsResponse, OrgRecord,
    SupportOnly, Ticket,
};
use crate::store::codec::encode;
use crate::store::pages::PageCache;
use crate::store::{keys, Batch, Result, StageTotals, Store, UndoRecord};
use crate::sync::zendesk::{desk_user_of, user_contact_id};

/// Changes filed per batch at most.
const PER_BATCH: usize = 2_000;

/// Where an organization's records should live.
#[derive(Debug, Clone)]
pub enum Target {
    /// On this (CRM) account.
    Account(AccountId),
    /// On an account of its own: its current one when it keeps it, else
    /// this new account (with an id no account has).
    Own(Box<Account>),
}

/// One organization to file.
#[derive(Debug, Clone)]
pub struct Change {
    /// The organization, with the link matching decided.
    pub record: OrgRecord,
    /// Where its records should live.
    pub target: Target,
    /// The account it is on now is its own (its mark names it): kept when
    /// it stays apart.
    pub own: bool,
    /// No other organization lives on that account: merged whole when the
    /// organization leaves it (else only its tickets and people move).
    pub exclusive: bool,
    /// Its users (id and record), when it moves: an end user the account it
    /// left knew by email (so had no contact of their own) becomes one on
    /// the account it moves to, unless that one knows them too.
    pub users: Vec<(u64, crate::domain::UserRecord)>,
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

/// What the changes of one batch share: the batch, the totals it carries,
/// the pages it rewrites (each once), and the outbox read once.
struct Chunk {
    b: Batch,
    totals: StageTotals,
    pages: PageCache,
    /// Accounts a change of this batch reads or writes as a whole.
    touched: BTreeSet<AccountId>,
    len: usize,
}

/// Files desk organization `change.record` (from `source`) on its target,
/// moving its records there from wherever they live now (see
/// `relink_many`).
pub fn relink_org(store: &Store, source: &str, change: Change, sources: &[String]) -> Result<Relinked> {
    Ok(relink_many(store, source, std::slice::from_ref(&change), sources)?.remove(0))
}

/// Files desk organizations on their targets, moving their records
/// there from wherever they live now, a few thousand to a batch (a
/// first sync of 100,000 organizations, or the 100,000 merges after a
/// CRM outage, writes a few dozen batches).
///
/// An account of its own that an organization leaves is merged whole
/// into its target when it had it to itself (`own` and `exclusive`):
/// tickets, people, timeline, deals, NPS answers, follow-ups with their
/// states, outbox entries; its id then resolves to the target.
/// Otherwise only what is the organization's moves: its tickets (their
/// slots name it) and its users' contacts. `sources` are every source
/// whose id map may point at moved records.
pub fn relink_many(store: &Store, source: &str, changes: &[Change], sources: &[String]) -> Result<Vec<Relinked>> {
    Merge { store, sources }.relink_many(source, changes)
}

/// Merges accounts whole (`from` into `into`, each pair), many to a
/// batch: an account of its own left behind by its organization.
/// `sources` are every source whose id map may point at moved records.
pub fn merge_accounts(store: &Store, pairs: &[(AccountId, AccountId)], sources: &[String]) -> Result<()> {
    Merge { store, sources }.merge_accounts(pairs)
}

/// A run of merges and relinks: the store, and every source whose id map
/// may point at the records they move.
struct Merge<'s> {
    store: &'s Store,
    sources: &'s [String],
}

impl Merge<'_> {
    /// See `merge_accounts` (the function).
    fn merge_accounts(&self, pairs: &[(AccountId, AccountId)]) -> Result<()> {
        let _w = self.store.write_lock();
        let mut outbox: BTreeMap<AccountId, Vec<OutboxEntry>> = BTreeMap::new();
        for e in self.store.outbox()? {
            outbox.entry(e.account_id).or_default().push(e);
        }
        let undo = self.store.get::<UndoRecord>(keys::UNDO, "undo record")?;
        let mut chunk: Option<Chunk> = None;
        for (from, into) in pairs {
            if chunk
                .as_ref()
                .is_some_and(|c| c.len >= PER_BATCH || c.touched.contains(from) || c.touched.contains(into))
            {
                self.land_chunk(chunk.take().expect("checked"))?;
            }
            if chunk.is_none() {
                chunk = Some(self.chunk()?);
            }
            let c = chunk.as_mut().expect("made above");
            c.touched.extend([*from, *into]);
            c.len += 1;
            let mut moved = Moved::default();
            self.merge_whole(c, *from, *into, outbox.remove(from).unwrap_or_default(), &mut moved)?;
            self.rederive_row(&mut c.b, &mut c.totals, *into, None, &moved, true)?;
            if undo.as_ref().is_some_and(|u| undo_touches(u, *from)) {
                c.b.remove(keys::UNDO.to_vec());
            }
        }
        if let Some(c) = chunk {
            self.land_chunk(c)?;
        }
        Ok(())
    }

    fn chunk(&self) -> Result<Chunk> {
        Ok(Chunk {
            b: Batch::default(),
            totals: self.store.stage_totals()?,
            pages: PageCache::default(),
            touched: BTreeSet::new(),
            len: 0,
        })
    }

    /// See `relink_many` (the function).
    fn relink_many(&self, source: &str, changes: &[Change]) -> Result<Vec<Relinked>> {
        let _w = self.store.write_lock();
        // The outbox by account, read once: merges move whole accounts' entries.
        let mut outbox: BTreeMap<AccountId, Vec<OutboxEntry>> = BTreeMap::new();
        if changes.iter().any(|c| c.own && c.exclusive) {
            for e in self.store.outbox()? {
                outbox.entry(e.account_id).or_default().push(e);
            }
        }
        let undo = self.store.get::<UndoRecord>(keys::UNDO, "undo record")?;
        let mut undo_ended = false;
        let mut out = Vec::with_capacity(changes.len());
        let mut chunk: Option<Chunk> = None;
        for change in changes {
            let current = self.store.external_id(source, &format!("org/{}", change.record.id))?;
            let whole = self.touches(change, current);
            let clash =
                chunk.as_ref().is_some_and(|c| c.len >= PER_BATCH || whole.iter().any(|a| c.touched.contains(a)));
            if clash {
                self.land_chunk(chunk.take().expect("checked"))?;
            }
            if chunk.is_none() {
                chunk = Some(self.chunk()?);
            }
            let c = chunk.as_mut().expect("made above");
            c.touched.extend(whole);
            c.len += 1;
            let done = self.relink_into(c, source, change, current, &mut outbox)?;
            if let (Some(from), Some(u), false) = (done.merged, &undo, undo_ended) {
                // Taking back an action on an account that no longer exists
                // would write to it again: the merge ends the undo.
                if undo_touches(u, from) {
                    c.b.remove(keys::UNDO.to_vec());
                    undo_ended = true;
                }
            }
            out.push(done);
        }
        if let Some(c) = chunk {
            self.land_chunk(c)?;
        }
        Ok(out)
    }

    /// The accounts a change reads and writes as a whole: none when it
    /// only files a new organization on a CRM account.
    fn touches(&self, change: &Change, current: Option<AccountId>) -> Vec<AccountId> {
        let dest = match &change.target {
            Target::Account(x) => *x,
            Target::Own(new) => new.id,
        };
        match current {
            Some(from) if from != dest => vec![from, dest],
            Some(from) => vec![from],
            None => match change.target {
                Target::Own(_) => vec![dest],
                Target::Account(_) => vec![],
            },
        }
    }

    fn land_chunk(&self, mut c: Chunk) -> Result<()> {
        c.pages.flush_into(&mut c.b);
        c.b.put_totals(&c.totals);
        self.store.apply(c.b)
    }

    /// The writes of one change into its batch.
    fn relink_into(
        &self,
        c: &mut Chunk,
        source: &str,
        change: &Change,
        current: Option<AccountId>,
        outbox: &mut BTreeMap<AccountId, Vec<OutboxEntry>>,
    ) -> Result<Relinked> {
        let record = &change.record;
        let ext = format!("org/{}", record.id);
        let mut done = Relinked::default();
        // An account of its own to keep must still be there (its CRM
        // company may have been archived under it).
        let keep_current = change.own && current.is_some() && self.store.account(current.expect("some"))?.is_some();
        let mut created_row = None;
        let dest = match &change.target {
            Target::Account(x) => *x,
            Target::Own(_) if keep_current => current.expect("kept"),
            Target::Own(new) => {
                if let Some(row) = self.store.row(new.id)? {
                    // Never created over an account that exists.
                    return Err(crate::store::StoreError::Decode {
                        what: "account of its own".into(),
                        detail: format!("id {} is already {}", new.id.0, row.name),
                    });
                }
                let row = crate::domain::rollup::derive_row(new, &Default::default(), &[], &[]);
                c.b.put_account(new);
                c.b.put_row(None, &row, &mut c.totals);
                created_row = Some(row);
                done.created = Some(new.id);
                new.id
            }
        };
        // An own account keeps the organization's name and domain.
        if let (Target::Own(new), true) = (&change.target, done.created.is_none()) {
            if let Some(mut a) = self.store.account(dest)? {
                if a.name != new.name || a.domain != new.domain {
                    a.name.clone_from(&new.name);
                    a.domain.clone_from(&new.domain);
                    if let Some(row) = self.store.row(dest)? {
                        c.b.put_row(Some(&row), &row.with_account(&a), &mut c.totals);
                    }
                    c.b.put_account(&a);
                }
            }
        }
        let mut moved = Moved::default();
        let mut from_kept = None;
        if let Some(from) = current.filter(|f| *f != dest) {
            if change.own && change.exclusive {
                let entries = outbox.remove(&from).unwrap_or_default();
                self.merge_whole(c, from, dest, entries, &mut moved)?;
                done.merged = Some(from);
            } else {
                done.contacts = self.move_org_records(&mut c.b, source, record.id, from, dest, &mut moved)?;
                // It no longer names this account at the desk.
                let key = keys::external_of(from, source);
                if self.store.raw(&key)?.is_some_and(|v| v.as_ref() == ext.as_bytes()) {
                    c.b.remove(key);
                }
                from_kept = Some(from);
            }
        }
        if current.is_some_and(|f| f != dest) {
            done.contacts += self.add_missing_people(&mut c.b, source, dest, &change.users)?;
        }
        done.tickets = moved.tickets.len();
        // The links, the record and the mark of an account of its own.
        c.b.insert(keys::external(source, &ext), dest.0.to_be_bytes().to_vec());
        c.b.insert(keys::external_of(dest, source), ext.as_bytes().to_vec());
        c.b.insert(keys::org(source, record.id), encode(record));
        if record.link.is_own() {
            let mark = SupportOnly { source: source.to_string(), org: record.id, link: record.link.clone() };
            c.b.insert(keys::with_id(keys::SUPPORT_ONLY, dest), encode(&mark));
        }
        // Only a move changes what an account's figures are made of.
        if current.is_some_and(|f| f != dest) {
            self.rederive_row(&mut c.b, &mut c.totals, dest, created_row, &moved, true)?;
            if let Some(from) = from_kept {
                self.rederive_row(&mut c.b, &mut c.totals, from, None, &moved, false)?;
            }
        }
        done.account = Some(dest);
        Ok(done)
    }

    /// Moves everything of account `from` onto `into` and removes `from`,
    /// leaving an alias so its id resolves to `into`. `outbox` are the
    /// outbox entries of `from`.
    fn merge_whole(
        &self,
        c: &mut Chunk,
        from: AccountId,
        into: AccountId,
        outbox: Vec<OutboxEntry>,
        moved: &mut Moved,
    ) -> Result<()> {
        let b = &mut c.b;
        for t in self.store.tickets(from)? {
            self.move_ticket(b, t, into, moved)?;
        }
        // A person the CRM account already knows by email is not added twice
        // (as a desk sync would not have added them).
        let known: BTreeSet<String> =
            self.store.contacts(into)?.iter().filter(|k| !k.email.is_empty()).map(|k| k.email.to_lowercase()).collect();
        for contact in self.store.contacts(from)? {
            if !contact.email.is_empty() && known.contains(&contact.email.to_lowercase()) {
                let old = keys::child(keys::CONTACT, from, contact.id);
                b.remove(old.clone());
                for s in self.sources {
                    let key = keys::external(s, &format!("contact/{}", contact.id));
                    if self.store.raw(&key)?.is_some_and(|v| v.as_ref() == old.as_slice()) {
                        b.remove(key);
                    }
                }
                continue;
            }
            self.move_contact(b, contact, into)?;
        }
        for a in self.store.activities(from)? {
            let old = keys::activity(a.account_id, a.at, a.id);
            let a = Activity { account_id: into, ..a };
            let new = keys::activity(into, a.at, a.id);
            b.remove(old.clone());
            b.insert(new.clone(), encode(&a));
            self.repoint(b, &format!("activity/{}", a.id), &old, &new)?;
            moved.activities.push(a);
        }
        for d in self.store.deals(from)? {
            let old = keys::child(keys::DEAL, from, d.id);
            let d = Deal { account_id: into, ..d };
            let new = keys::child(keys::DEAL, into, d.id);
            b.remove(old.clone());
            b.insert(new.clone(), encode(&d));
            self.repoint(b, &format!("deal/{}", d.id), &old, &new)?;
        }
        for n in self.store.nps(from)? {
            let old = keys::nps(from, n.on, n.id);
            b.remove(old.clone());
            let n = NpsResponse { account_id: into, ..n };
            b.put_nps(&n);
            // A CRM survey answer's id map follows it (demo answers have none).
            self.repoint(b, &format!("nps/{}", n.id), &old, &keys::nps(into, n.on, n.id))?;
        }
        // CSAT and CES answers from the CRM, with their id map.
        let ratings: Vec<SurveyRating> =
            self.store.scan(&keys::with_id(keys::SURVEY_RATING, from), "survey rating").collect::<Result<_>>()?;
        for r in ratings {
            let old = keys::child(keys::SURVEY_RATING, from, r.id);
            let r = SurveyRating { account_id: into, ..r };
            let new = keys::child(keys::SURVEY_RATING, into, r.id);
            b.remove(old.clone());
            b.insert(new.clone(), encode(&r));
            self.repoint(b, &format!("rating/{}", r.id), &old, &new)?;
        }
        // The CSM's sentiment and usage figures: the CRM account's own win.
        if let Some(m) = self.store.manual_signals(from)? {
            if self.store.manual_signals(into)?.is_none() {
                b.put_manual_signals(into, &m);
            }
            b.remove(keys::with_id(keys::MANUAL, from));
        }
        // Observed signals: the CRM account's own series win; the rest move.
        let from_prefix = keys::with_id(keys::OBSERVED, from);
        for kv in self.store.entries_under(&from_prefix) {
            let (k, v) = kv?;
            let mut to = keys::with_id(keys::OBSERVED, into);
            to.extend_from_slice(&k[from_prefix.len()..]);
            if !self.store.contains(&to)? {
                b.insert(to, v.to_vec());
            }
            b.remove(k.to_vec());
        }
        // Its tickets, answers and observations are the target's past now:
        // the target's year is rebuilt from them.
        let year_ago = chrono::Utc::now().date_naive() - chrono::Duration::days(crate::store::HISTORY_DAYS - 1);
        b.insert(keys::with_id(keys::REBUILD, into), keys::day(year_ago).to_vec());
        b.remove(keys::with_id(keys::REBUILD, from));
        // The health last written to the target's company is written again
        // once the merged account is scored.
        b.remove(keys::with_id(keys::HEALTH_WRITTEN, into));
        self.move_raised_items(b, from, into)?;
        move_outbox(b, outbox, into);
        // Its own history describes an account that is gone.
        c.pages.remove(self.store, from)?;
        let b = &mut c.b;
        for prefix in [keys::SERIES, keys::SNAPSHOT] {
            for k in self.store.keys_under(&keys::with_id(prefix, from)) {
                b.remove(k?.to_vec());
            }
        }
        if let Some(row) = self.store.row(from)? {
            b.remove_row(&row, &mut c.totals);
        }
        b.remove(keys::with_id(keys::ACCOUNT, from));
        b.remove(keys::with_id(keys::SUPPORT_ONLY, from));
        // What was last written back to the CRM describes an account that is gone.
        b.remove(keys::with_id(keys::HEALTH_WRITTEN, from));
        for k in self.store.keys_under(&keys::with_id(keys::EXTERNAL_OF, from)) {
            b.remove(k?.to_vec());
        }
        b.insert(keys::with_id(keys::ALIAS, from), into.0.to_be_bytes().to_vec());
        Ok(())
    }

    /// Moves the organization's own records off `from`: the tickets whose
    /// slot names it and the contacts of its users. Returns the contacts moved.
    fn move_org_records(
        &self,
        b: &mut Batch,
        source: &str,
        org: u64,
        from: AccountId,
        into: AccountId,
        moved: &mut Moved,
    ) -> Result<usize> {
        for t in self.store.tickets(from)? {
            let ours = self.store.ticket_slot(source, t.id)?.is_some_and(|s| s.org == Some(org));
            if ours {
                self.move_ticket(b, t, into, moved)?;
            }
        }
        let mut contacts = 0;
        for c in self.store.contacts(from)? {
            let Some(user) = desk_user_of(c.id) else { continue };
            if self.store.user_record(source, user)?.is_some_and(|u| u.org == Some(org)) {
                self.move_contact(b, c, into)?;
                contacts += 1;
            }
        }
        Ok(contacts)
    }

    /// Gives `dest` a contact for each active end user of the organization
    /// that has none anywhere and whose email `dest` does not know yet.
    fn add_missing_people(
        &self,
        b: &mut Batch,
        source: &str,
        dest: AccountId,
        users: &[(u64, crate::domain::UserRecord)],
    ) -> Result<usize> {
        if users.is_empty() {
            return Ok(0);
        }
        let known: BTreeSet<String> =
            self.store.contacts(dest)?.iter().filter(|k| !k.email.is_empty()).map(|k| k.email.to_lowercase()).collect();
        let mut added = 0;
        for (uid, u) in users.iter().filter(|(_, u)| u.contact) {
            let id = user_contact_id(*uid);
            let map = keys::external(source, &format!("contact/{id}"));
            if self.store.contains(&map)? || (!u.email.is_empty() && known.contains(&u.email.to_lowercase())) {
                continue;
            }
            let name = if u.name.trim().is_empty() { u.email.clone() } else { u.name.clone() };
            let contact = Contact {
                id,
                account_id: dest,
                name,
                email: u.email.clone(),
                title: u.title.clone(),
                key_person: false,
            };
            let key = keys::child(keys::CONTACT, dest, id);
            b.insert(key.clone(), encode(&contact));
            b.insert(map, key);
            added += 1;
        }
        Ok(added)
    }

    /// Refiles a ticket (and its slot and follow-up) under `into`.
    fn move_ticket(&self, b: &mut Batch, t: Ticket, into: AccountId, moved: &mut Moved) -> Result<()> {
        b.remove(keys::child(keys::TICKET, t.account_id, t.id));
        let t = Ticket { account_id: into, ..t };
        b.put_ticket(&t);
        for s in self.sources {
            let Some(slot) = self.store.ticket_slot(s, t.id)? else { continue };
            let item = match (slot.legacy, slot.due) {
                (true, _) => self.store.follow_up(crate::store::ticket_follow_up_id(t.id))?,
                (false, Some(due)) => {
                    self.store.get(&keys::follow_up_at(due, crate::store::ticket_follow_up_id(t.id)), "follow-up")?
                }
                (false, None) => None,
            };
            if let Some(f) = item {
                b.insert(keys::follow_up(f.due, f.id), encode(&FollowUp { account_id: into, ..f }));
            }
            let value =
                if slot.legacy { into.0.to_be_bytes().to_vec() } else { keys::ticket_slot(into, slot.due, slot.org) };
            b.insert(keys::external(s, &crate::store::ticket_ext(t.id)), value);
        }
        moved.ticket_ids.insert(t.id);
        moved.tickets.push(t);
        Ok(())
    }

    /// Refiles a contact under `into`, with its id map entries.
    fn move_contact(&self, b: &mut Batch, c: Contact, into: AccountId) -> Result<()> {
        let old = keys::child(keys::CONTACT, c.account_id, c.id);
        let c = Contact { account_id: into, ..c };
        let new = keys::child(keys::CONTACT, into, c.id);
        b.remove(old.clone());
        b.insert(new.clone(), encode(&c));
        self.repoint(b, &format!("contact/{}", c.id), &old, &new)
    }

    /// Points a source's id map entry for a child record at its new key
    /// when it pointed at the old one (an 8-byte entry holds the account).
    fn repoint(&self, b: &mut Batch, ext: &str, old: &[u8], new: &[u8]) -> Result<()> {
        let old_account = old.get(2..10);
        for s in self.sources {
            let key = keys::external(s, ext);
            let Some(v) = self.store.raw(&key)? else { continue };
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
        for kv in self.store.entries_under(&keys::with_id(keys::FLAG, from)) {
            let (k, v) = kv?;
            b.remove(k.to_vec());
            let (Some(&code), Ok(id)) = (k.last(), <[u8; 8]>::try_from(v.as_ref())) else { continue };
            let Some(f) = self.store.follow_up(u64::from_be_bytes(id))? else { continue };
            let taken = self.store.raw(&keys::flag(into, code))?.is_some();
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
        let Some(old) = created.or(self.store.row(id)?) else { return Ok(()) };
        let mut tickets: Vec<Ticket> =
            self.store.tickets(id)?.into_iter().filter(|t| !moved.ticket_ids.contains(&t.id)).collect();
        let mut activities = self.store.activities(id)?;
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

/// Outbox entries follow their account. A note or task that failed only
/// because the account had no CRM company goes out again.
fn move_outbox(b: &mut Batch, entries: Vec<OutboxEntry>, into: AccountId) {
    for mut e in entries {
        // A health write carries the merged-away account's score: it must
        // not land on the target's company (one in flight is left to finish).
        if matches!(e.write, Write::Health { .. }) && !matches!(e.state, OutboxState::Unsure { .. }) {
            b.remove(keys::outbox(e.id));
            continue;
        }
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
