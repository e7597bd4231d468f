//! A page of a desk's tickets: each filed on its account with its
//! follow-up slot, and the rows of the accounts they touch re-derived.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{IngestCounts, Page};
use crate::domain::{AccountId, AccountRow, Ticket};
use crate::store::{keys, ticket_ext, ticket_follow_up_id, Batch, FollowUpRules, Result, Store};

/// Writes one page of a source's tickets (each with the support
/// organization it belongs to, when it has one), the ones it deleted
/// and its cursor in one batch, and re-derives the rows of every
/// account they touch (open tickets, last touch) in that same batch.
/// Ticket ids are the vendor's; `ext` names each ticket for the id map.
/// With `rules`, each ticket's follow-up slot is set as they say.
pub fn tickets(
    store: &Store,
    page: &Page<'_, (Ticket, Option<u64>)>,
    rules: Option<FollowUpRules>,
) -> Result<IngestCounts> {
    let Page { source, records: upserts, removed: deletions, cursor } = *page;
    /// What a page does to one account's derived figures.
    #[derive(Default)]
    struct Effect<'t> {
        open_delta: i64,
        newest_reply: Option<DateTime<Utc>>,
        // A ticket left this account: its last touch must be recounted.
        lost: bool,
        touched: BTreeSet<u64>,
        arrived: Vec<&'t Ticket>,
    }
    let _w = store.write_lock();
    let mut counts = IngestCounts::default();
    let mut b = Batch::default();
    let mut effects: BTreeMap<AccountId, Effect> = BTreeMap::new();
    let open = |t: &Ticket| i64::from(t.status.is_open());
    // A ticket listed twice in one page counts once, as its last copy.
    let mut last_copy: BTreeMap<u64, (&Ticket, Option<u64>)> = BTreeMap::new();
    // Each account's row is read once per page: for the high-value test
    // here and for the derived figures below.
    let mut rows: BTreeMap<AccountId, Option<AccountRow>> = BTreeMap::new();
    for (t, org) in upserts {
        last_copy.insert(t.id, (t, *org));
    }
    for (t, org) in last_copy.into_values() {
        let slot = store.ticket_slot(source, t.id)?;
        let before = slot.as_ref().map(|s| s.account);
        let old: Option<Ticket> = match before {
            Some(acc) => store.get(&keys::child(keys::TICKET, acc, t.id), "ticket")?,
            None => None,
        };
        if !counts.tally(old.as_ref(), t) {
            // Unchanged, but a slot written before organizations were
            // recorded learns its organization (a schema-1 slot takes its
            // follow-up's due time from `fi` and drops that entry).
            if let Some(s) = slot.filter(|s| (s.legacy || s.org != org) && s.account == t.account_id) {
                let due = match s.legacy {
                    true => {
                        let id = ticket_follow_up_id(t.id);
                        let due =
                            store.raw(&keys::follow_up_id(id))?.and_then(|d| <[u8; 8]>::try_from(d.as_ref()).ok());
                        b.remove(keys::follow_up_id(id));
                        due
                    }
                    false => s.due,
                };
                b.insert(keys::external(source, &ticket_ext(t.id)), keys::ticket_slot(s.account, due, org));
            }
            continue;
        }
        if let (Some(prev), Some(o)) = (before, &old) {
            let e = effects.entry(prev).or_default();
            e.open_delta -= open(o);
            e.touched.insert(t.id);
            if prev != t.account_id {
                b.remove_ticket(prev, t.id);
                e.lost = true;
            }
        }
        b.put_ticket(t);
        let mut due = slot.as_ref().and_then(|s| s.due);
        if let Some(r) = &rules {
            let row = match rows.entry(t.account_id) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => v.insert(store.row(t.account_id)?),
            };
            let draft = row.as_ref().and_then(|row| {
                let high = crate::domain::followup::is_high_value(row.segment, row.arr, r.high_value_arr);
                crate::domain::followup::ticket_follow_up(t, high, r.now)
            });
            due = store.put_ticket_follow_up(&mut b, t.id, draft, slot.as_ref())?;
        }
        let slot_value = match &slot {
            // Without rules a schema-1 slot keeps its form: its
            // follow-up is still found through `fi`.
            Some(s) if s.legacy && rules.is_none() => {
                (s.account != t.account_id).then(|| t.account_id.0.to_be_bytes().to_vec())
            }
            Some(s) if !s.legacy && s.account == t.account_id && s.due == due && s.org == org => None,
            _ => Some(keys::ticket_slot(t.account_id, due, org)),
        };
        if let Some(v) = slot_value {
            b.insert(keys::external(source, &ticket_ext(t.id)), v);
        }
        let e = effects.entry(t.account_id).or_default();
        e.open_delta += open(t);
        e.newest_reply = e.newest_reply.max(t.last_customer_reply);
        e.touched.insert(t.id);
        e.arrived.push(t);
    }
    for id in deletions {
        let Some(slot) = store.ticket_slot(source, *id)? else { continue };
        let acc = slot.account;
        counts.removed += 1;
        let key = keys::child(keys::TICKET, acc, *id);
        let e = effects.entry(acc).or_default();
        if let Some(old) = store.get::<Ticket>(&key, "ticket")? {
            e.open_delta -= open(&old);
        }
        e.lost = true;
        e.touched.insert(*id);
        b.remove(key);
        // The follow-up goes with the ticket, rules or not.
        store.put_ticket_follow_up(&mut b, *id, None, Some(&slot))?;
        b.remove(keys::external(source, &ticket_ext(*id)));
    }
    let mut totals = store.stage_totals()?;
    for (acc, e) in effects {
        let cached = rows.remove(&acc);
        let Some(old_row) = (match cached {
            Some(row) => row,
            None => store.row(acc)?,
        }) else {
            continue;
        };
        let mut row = old_row.clone();
        // Counted incrementally: an account with thousands of tickets
        // costs the same as one with a few.
        row.open_tickets = (old_row.open_tickets as i64 + e.open_delta).max(0) as u32;
        row.last_touch = if e.lost {
            let mut tickets: Vec<Ticket> =
                store.tickets(acc)?.into_iter().filter(|t| !e.touched.contains(&t.id)).collect();
            tickets.extend(e.arrived.iter().map(|t| (*t).clone()));
            crate::domain::rollup::last_touch(&tickets, &store.activities(acc)?)
        } else {
            row.last_touch.max(e.newest_reply)
        };
        if row != old_row {
            b.put_row(Some(&old_row), &row, &mut totals);
        }
    }
    b.put_totals(&totals);
    b.put_cursor(source, cursor);
    store.apply(b)?;
    Ok(counts)
}

#[cfg(test)]
impl Store {
    /// `tickets` with loose arguments, for the store's own tests that
    /// predate this module (store/tests.rs, store/health_tests.rs).
    pub(crate) fn ingest_tickets(
        &self,
        source: &str,
        upserts: &[(Ticket, Option<u64>)],
        deletions: &[u64],
        cursor: Option<(&str, &[u8])>,
        rules: Option<FollowUpRules>,
    ) -> Result<IngestCounts> {
        tickets(self, &Page { source, records: upserts, removed: deletions, cursor }, rules)
    }
}

#[cfg(test)]
#[path = "tickets_tests.rs"]
mod tests;
