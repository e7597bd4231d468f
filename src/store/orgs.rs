//! What the store keeps of support organizations and users: their
//! records (to match organizations again whenever the CRM's accounts
//! change, and to greet requesters by name), the accounts that are an
//! organization of their own, and the ids of accounts merged away.

use std::collections::BTreeMap;

use super::codec::decode;
use super::{keys, Batch, Result, Store};
use crate::domain::{AccountId, OrgRecord, SupportOnly, Ticket, UserRecord};

/// Longest chain of merges followed when resolving an old account id.
const MAX_ALIAS_HOPS: usize = 16;

impl Store {
    /// A support organization's record.
    pub fn org_record(&self, source: &str, org: u64) -> Result<Option<OrgRecord>> {
        self.get(&keys::org(source, org), "organization")
    }

    /// Every organization a desk source has sent, in id order.
    pub fn org_records(&self, source: &str) -> impl Iterator<Item = Result<OrgRecord>> + '_ {
        self.scan(&keys::orgs_of(source), "organization")
    }

    /// A support user's record.
    pub fn user_record(&self, source: &str, user: u64) -> Result<Option<UserRecord>> {
        self.get(&keys::user(source, user), "support user")
    }

    /// Every user a desk source has sent, in id order (records that cannot
    /// be read are passed over).
    pub fn user_records(&self, source: &str) -> impl Iterator<Item = (u64, UserRecord)> + '_ {
        let prefix = keys::user(source, 0)[..keys::user(source, 0).len() - 8].to_vec();
        let at = prefix.len();
        self.tree.scan_prefix(prefix).filter_map(move |kv| {
            let (k, v) = kv.ok()?;
            let id = u64::from_be_bytes(k.get(at..at + 8)?.try_into().ok()?);
            Some((id, decode::<UserRecord>(&v, "support user").ok()?))
        })
    }

    /// The person who opened a ticket, from the synced users of any desk
    /// source (the ticket names its requester as `user <id>`).
    pub fn requester(&self, ticket: &Ticket) -> Result<Option<UserRecord>> {
        let Some(id) = ticket.requester.strip_prefix("user ").and_then(|n| n.trim().parse::<u64>().ok()) else {
            return Ok(None);
        };
        for source in self.desk_sources()? {
            if let Some(u) = self.user_record(&source, id)? {
                return Ok(Some(u));
            }
        }
        Ok(None)
    }

    /// The sources that have sent organizations or users.
    pub fn desk_sources(&self) -> Result<Vec<String>> {
        let mut out = super::sources_under(&self.tree, keys::ORG)?;
        for source in super::sources_under(&self.tree, keys::USER)? {
            if !out.contains(&source) {
                out.push(source);
            }
        }
        Ok(out)
    }

    /// Why an account is a support organization of its own, if it is one.
    pub fn support_only(&self, id: AccountId) -> Result<Option<SupportOnly>> {
        self.get(&keys::with_id(keys::SUPPORT_ONLY, id), "support-only mark")
    }

    /// Every account that is a support organization of its own.
    pub fn support_only_accounts(&self) -> Result<BTreeMap<AccountId, SupportOnly>> {
        let mut out = BTreeMap::new();
        for kv in self.tree.scan_prefix(keys::SUPPORT_ONLY) {
            let (k, v) = kv?;
            if let Some(id) = keys::trailing_id(&k) {
                out.insert(id, decode(&v, "support-only mark")?);
            }
        }
        Ok(out)
    }

    /// The account an id stands for now: itself, or the account it was
    /// merged into (an id shown or exported before a merge keeps working).
    pub fn resolve(&self, id: AccountId) -> Result<AccountId> {
        let mut at = id;
        for _ in 0..MAX_ALIAS_HOPS {
            match self.tree.get(keys::with_id(keys::ALIAS, at))?.and_then(|v| keys::trailing_id(&v)) {
                Some(next) => at = next,
                None => return Ok(at),
            }
        }
        Ok(at)
    }

    /// Whether `acc` is organization `org`'s account of its own (its mark
    /// names it; workspaces from before the mark get it when they upgrade).
    pub fn is_own_account(&self, acc: AccountId, source: &str, org: u64) -> Result<bool> {
        Ok(self.support_only(acc)?.is_some_and(|m| m.source == source && m.org == org))
    }

    /// Remembers records a sync skipped (`id`, why), to read them again at
    /// the next sync: their company may arrive, or be fixed, meanwhile.
    pub fn remember_skipped(&self, source: &str, object: &str, skipped: &[(String, String)]) -> Result<()> {
        if skipped.is_empty() {
            return Ok(());
        }
        let mut b = Batch::default();
        for (id, why) in skipped {
            b.insert(keys::skipped(source, object, id), why.as_bytes().to_vec());
        }
        self.apply(b)
    }

    /// Up to `limit` records of an object type a source skipped, oldest id first.
    pub fn skipped_records(&self, source: &str, object: &str, limit: usize) -> Result<Vec<String>> {
        let prefix = keys::skipped_of(source, object);
        let mut out = Vec::new();
        for k in self.tree.scan_prefix(&prefix).keys().take(limit) {
            out.push(String::from_utf8_lossy(&k?[prefix.len()..]).into_owned());
        }
        Ok(out)
    }

    /// Forgets skipped records that landed since, or are gone at the source.
    pub fn forget_skipped(&self, source: &str, object: &str, ids: &[String]) -> Result<()> {
        let mut b = Batch::default();
        for id in ids {
            b.remove(keys::skipped(source, object, id));
        }
        self.apply(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn requesters_are_found_by_their_user_id() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        let ana = UserRecord {
            name: "Ana Lima".into(),
            email: "ana@acme.com".into(),
            org: Some(1),
            title: String::new(),
            contact: true,
        };
        let page = crate::engine::ingest::Page { source: "desk", records: &[], removed: &[], cursor: None };
        crate::engine::ingest::users(&s, &[(99, ana.clone())], &page).unwrap();
        let mut t = crate::store::tests::ticket(5, AccountId(1), false);
        t.requester = "user 99".into();
        assert_eq!(s.requester(&t).unwrap(), Some(ana));
        t.requester = "user 98".into();
        assert_eq!(s.requester(&t).unwrap(), None);
        t.requester = String::new();
        assert_eq!(s.requester(&t).unwrap(), None);
    }

    #[test]
    fn merged_ids_resolve_to_where_they_went() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        let mut b = Batch::default();
        b.insert(keys::with_id(keys::ALIAS, AccountId(3)), 5u64.to_be_bytes().to_vec());
        b.insert(keys::with_id(keys::ALIAS, AccountId(5)), 9u64.to_be_bytes().to_vec());
        s.apply(b).unwrap();
        assert_eq!(s.resolve(AccountId(3)).unwrap(), AccountId(9));
        assert_eq!(s.resolve(AccountId(4)).unwrap(), AccountId(4));
    }
}
