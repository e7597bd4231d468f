use super::*;
use crate::domain::FollowUp;
use crate::store::tests::{now, seed, ticket};
use chrono::Duration;

#[test]
fn a_schema_1_ticket_slot_still_finds_its_follow_up_and_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ws")).unwrap();
    seed(&store);
    let rules = Some(FollowUpRules { now: now(), high_value_arr: 100_000 });
    // As schema 1 wrote it: the slot holds the account only, the follow-up has an `fi` entry.
    let old = crate::domain::followup::ticket_follow_up(&ticket(5, AccountId(1), false), false, now()).unwrap();
    let mut b = Batch::default();
    b.put_ticket(&ticket(5, AccountId(1), false));
    b.insert(keys::external("desk", "ticket/5"), 1u64.to_be_bytes().to_vec());
    b.put_follow_up(&old.into_follow_up(ticket_follow_up_id(5)), None);
    store.apply(b).unwrap();
    assert!(store.ticket_follow_up("desk", 5).unwrap().is_some(), "found through fi");

    // The customer turns frustrated: the item is replaced, the old one and its fi entry go.
    tickets(
        &store,
        &Page { source: "desk", records: &[(ticket(5, AccountId(1), true), None)], removed: &[], cursor: None },
        rules,
    )
    .unwrap();
    let items: Vec<FollowUp> = store.follow_ups_before(now() + Duration::days(30)).map(Result::unwrap).collect();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].kind, crate::domain::FollowUpKind::EscalateManager);
    assert!(store.raw(&keys::follow_up_id(ticket_follow_up_id(5))).unwrap().is_none());
    let slot = store.raw(&keys::external("desk", "ticket/5")).unwrap().unwrap();
    let expect = keys::SlotValue { account: AccountId(1), due: Some(keys::ts(items[0].due)), legacy: false, org: None };
    assert_eq!(keys::read_ticket_slot(&slot), Some(expect));
    assert_eq!(store.ticket_follow_up("desk", 5).unwrap().unwrap().id, items[0].id);

    // A new ticket files its follow-up through its slot alone; deleting it takes both.
    tickets(
        &store,
        &Page { source: "desk", records: &[(ticket(6, AccountId(2), false), None)], removed: &[], cursor: None },
        rules,
    )
    .unwrap();
    assert!(store.raw(&keys::follow_up_id(ticket_follow_up_id(6))).unwrap().is_none());
    assert!(store.ticket_follow_up("desk", 6).unwrap().is_some());
    tickets(&store, &Page { source: "desk", records: &[], removed: &[5, 6], cursor: None }, rules).unwrap();
    assert_eq!(store.follow_ups_before(now() + Duration::days(30)).count(), 0);
    assert_eq!(store.row(AccountId(1)).unwrap().unwrap().open_tickets, 0);
}

#[test]
fn an_unchanged_ticket_teaches_its_slot_its_organization_even_a_schema_1_slot() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ws")).unwrap();
    seed(&store);
    let rules = Some(FollowUpRules { now: now(), high_value_arr: 100_000 });
    let t = ticket(5, AccountId(1), true);
    let item =
        crate::domain::followup::ticket_follow_up(&t, false, now()).unwrap().into_follow_up(ticket_follow_up_id(5));
    let mut b = Batch::default();
    b.put_ticket(&t);
    b.insert(keys::external("desk", "ticket/5"), 1u64.to_be_bytes().to_vec());
    b.put_follow_up(&item, None);
    store.apply(b).unwrap();
    // The same ticket again, now known to belong to organization 11.
    let c = tickets(&store, &Page { source: "desk", records: &[(t, Some(11))], removed: &[], cursor: None }, rules)
        .unwrap();
    assert_eq!(c.unchanged, 1);
    let slot = keys::read_ticket_slot(&store.raw(&keys::external("desk", "ticket/5")).unwrap().unwrap()).unwrap();
    assert_eq!((slot.org, slot.legacy, slot.due), (Some(11), false, Some(keys::ts(item.due))));
    assert!(store.raw(&keys::follow_up_id(item.id)).unwrap().is_none(), "the fi entry goes with the upgrade");
    assert_eq!(store.ticket_follow_up("desk", 5).unwrap().unwrap().id, item.id, "the follow-up is still found");
}
