//! Vendor records that live under an account (contacts, timeline entries,
//! deals): one page ingest for all of them, which follows a record that
//! moved to another account, removes deleted ones, and carries what they
//! mean for their account (a newer two-way touch, a renewal or churn) into
//! the same batch.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec::{decode, encode};
use super::{keys, Batch, IngestCounts, Result, Store};
use crate::domain::{AccountId, Activity, Contact, Deal, Outcome};

/// A record stored under an account and known to a source by id.
pub trait Child: Serialize + DeserializeOwned + PartialEq + Send + Sync {
    /// Its name in the id map and in messages ("contact").
    const KIND: &'static str;
    /// The key prefix of its records.
    const PREFIX: &'static [u8];
    /// The workspace id.
    fn id(&self) -> u64;
    /// The account it belongs to.
    fn account(&self) -> AccountId;
    /// Where it is stored.
    fn key(&self) -> Vec<u8>;
    /// When it was a two-way touch with the customer, if it was one.
    fn touch(&self) -> Option<DateTime<Utc>> {
        None
    }
    /// The renewal or churn it settles, if it settles one.
    fn outcome(&self) -> Option<Outcome> {
        None
    }
}

impl Child for Contact {
    const KIND: &'static str = "contact";
    const PREFIX: &'static [u8] = keys::CONTACT;
    fn id(&self) -> u64 {
        self.id
    }
    fn account(&self) -> AccountId {
        self.account_id
    }
    fn key(&self) -> Vec<u8> {
        keys::child(keys::CONTACT, self.account_id, self.id)
    }
}

impl Child for Activity {
    const KIND: &'static str = "activity";
    const PREFIX: &'static [u8] = keys::ACTIVITY;
    fn id(&self) -> u64 {
        self.id
    }
    fn account(&self) -> AccountId {
        self.account_id
    }
    fn key(&self) -> Vec<u8> {
        keys::activity(self.account_id, self.at, self.id)
    }
    fn touch(&self) -> Option<DateTime<Utc>> {
        self.kind.is_two_way().then_some(self.at)
    }
}

impl Child for Deal {
    const KIND: &'static str = "deal";
    const PREFIX: &'static [u8] = keys::DEAL;
    fn id(&self) -> u64 {
        self.id
    }
    fn account(&self) -> AccountId {
        self.account_id
    }
    fn key(&self) -> Vec<u8> {
        keys::child(keys::DEAL, self.account_id, self.id)
    }
    fn outcome(&self) -> Option<Outcome> {
        Deal::outcome(self)
    }
}

/// What a page means for one account.
#[derive(Default)]
struct Effect {
    touch: Option<DateTime<Utc>>,
    outcome: Option<Outcome>,
}

impl Store {
    /// The stored key of a source's child record, from the id map. Entries
    /// of 8 bytes (contacts written by schema 1) hold the account id only.
    pub(super) fn child_key<T: Child>(&self, source: &str, id: u64) -> Result<Option<Vec<u8>>> {
        let Some(v) = self.tree.get(keys::external(source, &format!("{}/{id}", T::KIND)))? else { return Ok(None) };
        Ok(Some(match keys::trailing_id(&v) {
            Some(acc) if v.len() == 8 => keys::child(T::PREFIX, acc, id),
            _ => v.to_vec(),
        }))
    }

    /// Writes one page of a source's child records, the ids it deleted and
    /// its cursor in one batch. A record whose account or key changed
    /// leaves its old place; a newer two-way touch moves the account row's
    /// last touch; a closed renewal deal records the account's outcome
    /// when it is newer than the one known.
    pub fn ingest_children<T: Child>(
        &self,
        source: &str,
        records: &[T],
        removed: &[u64],
        cursor: Option<(&str, &[u8])>,
    ) -> Result<IngestCounts> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = Batch::default();
        let counts = self.children_into(&mut b, source, records, removed)?;
        b.put_cursor(source, cursor);
        self.apply(b)?;
        Ok(counts)
    }

    /// The writes of `ingest_children`, into a batch the caller applies
    /// (holding the writer lock).
    pub(super) fn children_into<T: Child>(
        &self,
        b: &mut Batch,
        source: &str,
        records: &[T],
        removed: &[u64],
    ) -> Result<IngestCounts> {
        let mut counts = IngestCounts::default();
        let mut effects: BTreeMap<AccountId, Effect> = BTreeMap::new();
        for r in records {
            let old_key = self.child_key::<T>(source, r.id())?;
            let old: Option<T> = match &old_key {
                Some(k) => self.tree.get(k)?.map(|v| decode(&v, T::KIND)).transpose()?,
                None => None,
            };
            if !counts.tally(old.as_ref(), r) {
                continue;
            }
            let key = r.key();
            if old_key.as_ref() != Some(&key) {
                if let Some(k) = old_key {
                    b.inner.remove(k);
                }
                b.insert(keys::external(source, &format!("{}/{}", T::KIND, r.id())), key.clone());
            }
            b.insert(key, encode(r));
            let e = effects.entry(r.account()).or_default();
            e.touch = e.touch.max(r.touch());
            if let Some(o) = r.outcome() {
                if e.outcome.is_none_or(|have| o.on >= have.on) {
                    e.outcome = Some(o);
                }
            }
        }
        for id in removed {
            if let Some(k) = self.child_key::<T>(source, *id)? {
                if self.tree.contains_key(&k)? {
                    counts.removed += 1;
                }
                b.remove(k);
                b.inner.remove(keys::external(source, &format!("{}/{id}", T::KIND)));
            }
        }
        self.apply_effects(b, &effects)?;
        Ok(counts)
    }

    fn apply_effects(&self, b: &mut Batch, effects: &BTreeMap<AccountId, Effect>) -> Result<()> {
        for (id, e) in effects {
            if let Some(t) = e.touch {
                if let Some(row) = self.row(*id)? {
                    if row.last_touch.is_none_or(|have| t > have) {
                        // Stage, health and ARR are unchanged: no index or
                        // totals move, only the row itself.
                        let row = crate::domain::AccountRow { last_touch: Some(t), ..row };
                        b.insert(keys::with_id(keys::ROW, *id), encode(&row));
                    }
                }
            }
            if let Some(o) = e.outcome {
                if let Some(mut a) = self.account(*id)? {
                    if a.outcome.is_none_or(|have| o.on >= have.on) && a.outcome != Some(o) {
                        a.outcome = Some(o);
                        b.put_account(&a);
                    }
                }
            }
        }
        Ok(())
    }

    /// One account's deals, in id order.
    pub fn deals(&self, id: AccountId) -> Result<Vec<Deal>> {
        self.scan(&keys::with_id(keys::DEAL, id), "deal").collect()
    }
}
