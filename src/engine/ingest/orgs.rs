//! A page of a desk's organizations or users: their records (what
//! matching reads), and the contacts end users make on their
//! organization's account.

use std::collections::BTreeMap;

use super::children::children_into;
use super::{IngestCounts, Page};
use crate::domain::{Contact, OrgRecord, UserRecord};
use crate::store::codec::encode;
use crate::store::{keys, Batch, Result, Store};

/// Lands a page of a desk's organizations and its cursor in one batch:
/// their records, with what they are matched on. An organization seen
/// before keeps its link until matching decides again (`engine::merge`).
/// Organizations are never removed from a page (`removed` is ignored).
pub fn orgs(store: &Store, page: &Page<'_, OrgRecord>) -> Result<IngestCounts> {
    let source = page.source;
    let _w = store.write_lock();
    let mut counts = IngestCounts::default();
    let mut b = Batch::default();
    let mut last: BTreeMap<u64, &OrgRecord> = BTreeMap::new();
    for r in page.records {
        last.insert(r.id, r);
    }
    for r in last.into_values() {
        let old = store.org_record(source, r.id)?;
        let new = OrgRecord { link: old.as_ref().map_or(r.link.clone(), |o| o.link.clone()), ..r.clone() };
        if counts.tally(old.as_ref(), &new) {
            b.insert(keys::org(source, r.id), encode(&new));
        }
    }
    b.put_cursor(source, page.cursor);
    store.apply(b)?;
    Ok(counts)
}

/// Lands a page of a desk's users: each user's record (name, email,
/// organization), the contacts end users make on their organization's
/// account (`page.records`), the contacts that leave (`page.removed`),
/// and the cursor, in one batch.
pub fn users(store: &Store, users: &[(u64, UserRecord)], page: &Page<'_, Contact>) -> Result<IngestCounts> {
    let source = page.source;
    let _w = store.write_lock();
    let mut b = Batch::default();
    for (id, u) in users {
        if store.user_record(source, *id)?.as_ref() != Some(u) {
            b.insert(keys::user(source, *id), encode(u));
        }
    }
    let counts = children_into(store, &mut b, source, page.records, page.removed)?;
    b.put_cursor(source, page.cursor);
    store.apply(b)?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrgLink;

    fn page<'a>(source: &'a str, records: &'a [OrgRecord], cursor: Option<(&'a str, &'a [u8])>) -> Page<'a, OrgRecord> {
        Page { source, records, removed: &[], cursor }
    }

    fn org(id: u64, name: &str) -> OrgRecord {
        OrgRecord {
            id,
            name: name.into(),
            domains: vec![format!("{}.com", name.to_lowercase())],
            external_id: None,
            created: None,
            link: OrgLink::Unmatched,
        }
    }

    #[test]
    fn organizations_keep_their_link_when_their_facts_change() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        let c = orgs(&s, &page("desk", &[org(1, "Acme"), org(2, "Globex")], Some(("organizations", b"7")))).unwrap();
        assert_eq!(c.added, 2);
        let mut b = Batch::default();
        let linked = OrgRecord { link: OrgLink::Matched { how: "domain".into() }, ..org(1, "Acme") };
        b.insert(keys::org("desk", 1), encode(&linked));
        s.apply(b).unwrap();
        let renamed = OrgRecord { name: "Acme Europe".into(), ..org(1, "Acme") };
        let c = orgs(&s, &page("desk", &[renamed, org(2, "Globex")], None)).unwrap();
        assert_eq!((c.updated, c.unchanged), (1, 1));
        let got = s.org_record("desk", 1).unwrap().unwrap();
        assert_eq!((got.name.as_str(), got.link), ("Acme Europe", OrgLink::Matched { how: "domain".into() }));
        assert_eq!(s.org_records("desk").count(), 2);
        assert_eq!(s.cursor("desk", "organizations").unwrap().as_deref(), Some(&b"7"[..]));
        assert_eq!(s.desk_sources().unwrap(), vec!["desk".to_string()]);
    }
}
