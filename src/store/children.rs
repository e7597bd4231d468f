//! Vendor records that live under an account (contacts, timeline entries,
//! deals): their keys, where a source's id map files them, and reads. Their
//! page ingest is `engine::ingest::children`.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{keys, Result, Store};
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

impl Store {
    /// The stored key of a source's child record, from the id map. Entries
    /// of 8 bytes (contacts written by schema 1) hold the account id only.
    pub(crate) fn child_key<T: Child>(&self, source: &str, id: u64) -> Result<Option<Vec<u8>>> {
        let Some(v) = self.tree.get(keys::external(source, &format!("{}/{id}", T::KIND)))? else { return Ok(None) };
        Ok(Some(match keys::trailing_id(&v) {
            Some(acc) if v.len() == 8 => keys::child(T::PREFIX, acc, id),
            _ => v.to_vec(),
        }))
    }

    /// A page of one account's timeline, newest first: up to `limit`
    /// entries older than `before` (the last entry of the page before, by
    /// its moment and id; none: from the newest), and whether older ones
    /// remain. A long timeline is read a page at a time, never whole.
    pub fn timeline_page(
        &self,
        id: AccountId,
        before: Option<(DateTime<Utc>, u64)>,
        limit: usize,
    ) -> Result<(Vec<Activity>, bool)> {
        let prefix = keys::with_id(keys::ACTIVITY, id);
        let end = match before {
            Some((at, activity)) => keys::activity(id, at, activity),
            None => {
                // Just past every key of the account: its prefix with the
                // last byte raised (ids are never u64::MAX).
                let mut end = prefix.clone();
                end.push(0xff);
                end
            }
        };
        let mut out = Vec::with_capacity(limit.min(1024));
        let mut more = false;
        for kv in self.tree.range(prefix.clone()..end).rev() {
            let (_, v) = kv?;
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(super::codec::decode(&v, "activity")?);
        }
        Ok((out, more))
    }

    /// One account's deals, in id order.
    pub fn deals(&self, id: AccountId) -> Result<Vec<Deal>> {
        self.scan(&keys::with_id(keys::DEAL, id), "deal").collect()
    }
}
