//! A page of the records that live under an account (contacts, timeline,
//! deals, NPS answers, survey ratings): each filed under its account, and
//! the account's last touch and renewal outcome moved when a record says so.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{IngestCounts, Page};
use crate::domain::{AccountId, Outcome};
use crate::store::codec::encode;
use crate::store::{keys, Batch, Child, Result, Store};

/// What a page means for one account.
#[derive(Default)]
struct Effect {
    touch: Option<DateTime<Utc>>,
    outcome: Option<Outcome>,
}

/// Writes one page of a source's child records, the ids it deleted and
/// its cursor in one batch. A record whose account or key changed
/// leaves its old place; a newer two-way touch moves the account row's
/// last touch; a closed renewal deal records the account's outcome
/// when it is newer than the one known.
pub fn children<T: Child>(store: &Store, page: &Page<'_, T>) -> Result<IngestCounts> {
    let _w = store.write_lock();
    let mut b = Batch::default();
    let counts = children_into(store, &mut b, page.source, page.records, page.removed)?;
    b.put_cursor(page.source, page.cursor);
    store.apply(b)?;
    Ok(counts)
}

/// The writes of `children`, into a batch the caller applies (holding
/// the writer lock).
pub(super) fn children_into<T: Child>(
    store: &Store,
    b: &mut Batch,
    source: &str,
    records: &[T],
    removed: &[u64],
) -> Result<IngestCounts> {
    let mut counts = IngestCounts::default();
    let mut effects: BTreeMap<AccountId, Effect> = BTreeMap::new();
    for r in records {
        let old_key = store.child_key::<T>(source, r.id())?;
        let old: Option<T> = match &old_key {
            Some(k) => store.get(k, T::KIND)?,
            None => None,
        };
        if !counts.tally(old.as_ref(), r) {
            continue;
        }
        let key = r.key();
        if old_key.as_ref() != Some(&key) {
            if let Some(k) = old_key {
                b.remove(k);
            }
            b.insert(keys::external(source, &format!("{}/{}", T::KIND, r.id())), key.clone());
        }
        b.insert(key, encode(r));
        let e = effects.entry(r.account()).or_default();
        e.touch = e.touch.max(r.touch());
        if let Some(o) = r.outcome() {
            if e.outcome.as_ref().is_none_or(|have| o.on >= have.on) {
                e.outcome = Some(o);
            }
        }
    }
    for id in removed {
        if let Some(k) = store.child_key::<T>(source, *id)? {
            if store.contains(&k)? {
                counts.removed += 1;
            }
            b.remove(k);
            b.remove(keys::external(source, &format!("{}/{id}", T::KIND)));
        }
    }
    apply_effects(store, b, &effects)?;
    Ok(counts)
}

fn apply_effects(store: &Store, b: &mut Batch, effects: &BTreeMap<AccountId, Effect>) -> Result<()> {
    for (id, e) in effects {
        if let Some(t) = e.touch {
            if let Some(row) = store.row(*id)? {
                if row.last_touch.is_none_or(|have| t > have) {
                    // Stage, health and ARR are unchanged: no index or
                    // totals move, only the row itself.
                    let row = crate::domain::AccountRow { last_touch: Some(t), ..row };
                    b.put_row_in_place(&row);
                }
            }
        }
        if let Some(o) = &e.outcome {
            if let Some(mut a) = store.account(*id)? {
                // The same outcome on the same day is the one already there
                // (with the CSM's reason and note, which a deal has not).
                let same = a.outcome.as_ref().is_some_and(|have| have.kind == o.kind && have.on == o.on);
                if a.outcome.as_ref().is_none_or(|have| o.on >= have.on) && !same {
                    a.outcome = Some(o.clone());
                    b.put_account(&a);
                }
            }
        }
    }
    Ok(())
}
