use super::*;
use crate::domain::observed::{Point, Signal};
use crate::domain::outbox::{OutboxEntry, Write};
use crate::domain::rating::{Rating, SurveyRating, Verdict};
use crate::domain::{ActivityKind, FollowUpKind, OrgLink, Priority, Stage, UserRecord};
use crate::engine::ingest::{self, Page};
use crate::store::tests::{account, now, ticket};
use crate::store::FollowUpRules;
use chrono::Duration;

const CRM: &str = "crm";
const DESK: &str = "desk";

fn sources() -> Vec<String> {
    vec![CRM.to_string(), DESK.to_string()]
}

fn org(id: u64, link: OrgLink) -> OrgRecord {
    OrgRecord {
        id,
        name: format!("Org {id}"),
        domains: vec![format!("org{id}.example")],
        external_id: None,
        created: Some(now().date_naive() - Duration::days(400)),
        link,
    }
}

/// A CRM account (id 1) and desk organization 13 on an account of its own (id 50).
fn workspace() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let page =
        Page { source: CRM, records: &[("101".into(), account(1, Stage::Adoption))], removed: &[], cursor: None };
    ingest::accounts(&s, &page, &[], s.observe(chrono::Utc::now().date_naive())).unwrap();
    let own = crate::sync::relink::own_account(&org(13, OrgLink::Unmatched), AccountId(50), now().date_naive());
    file(&s, &org(13, OrgLink::Unmatched), Target::Own(Box::new(own)), false, false);
    (tmp, s)
}

/// Files an organization (see `relink_org`).
fn file(s: &Store, rec: &OrgRecord, target: Target, own: bool, exclusive: bool) -> Relinked {
    relink_org(s, DESK, Change { record: rec.clone(), target, own, exclusive, users: vec![] }, &sources()).unwrap()
}

fn rules() -> Option<FollowUpRules> {
    Some(FollowUpRules { now: now(), high_value_arr: 100_000 })
}

#[test]
fn an_own_account_merges_whole_into_the_crm_account_that_now_matches() {
    let (_tmp, s) = workspace();
    let (crm, own) = (AccountId(1), AccountId(50));
    assert!(s.support_only(own).unwrap().is_some());
    // Its records: two tickets (one open with a follow-up), a person, a
    // note the CSM wrote, a raised flag and a note waiting in the outbox.
    let open = ticket(7, own, true);
    let mut solved = ticket(8, own, false);
    solved.status = crate::domain::TicketStatus::Solved;
    ingest::tickets(
        &s,
        &Page { source: DESK, records: &[(open, Some(13)), (solved, Some(13))], removed: &[], cursor: None },
        rules(),
    )
    .unwrap();
    let ana = UserRecord {
        name: "Ana Lima".into(),
        email: "ana@org13.example".into(),
        org: Some(13),
        title: String::new(),
        contact: true,
    };
    let contact = Contact {
        id: crate::sync::zendesk::user_contact_id(99),
        account_id: own,
        name: "Ana Lima".into(),
        email: ana.email.clone(),
        title: String::new(),
        key_person: false,
    };
    let page = Page { source: DESK, records: std::slice::from_ref(&contact), removed: &[], cursor: None };
    ingest::users(&s, &[(99, ana)], &page).unwrap();
    let note = Activity {
        id: 900,
        account_id: own,
        at: now() - Duration::hours(1),
        kind: ActivityKind::Call,
        summary: "Called Ana".into(),
        author: "Dana".into(),
    };
    let silence = FollowUp {
        id: 901,
        account_id: own,
        ticket_id: None,
        kind: FollowUpKind::HealthRisk,
        reason: "Silent for 40 days".into(),
        due: now(),
        priority: Priority::High,
        state: FollowUpState::Open,
    };
    let mut entry = OutboxEntry::new(902, own, 900, Write::Note { body: "Called Ana".into(), at: note.at }, now());
    entry.state = OutboxState::Failed {
        reason: "this account is not linked to a HubSpot company (source \"crm\"); sync it from HubSpot or discard the entry"
            .into(),
    };
    let mut b = Batch::default();
    b.put_activity(&note);
    b.put_follow_up(&silence, None);
    b.insert(keys::flag(own, 3), 901u64.to_be_bytes().to_vec());
    b.insert(keys::outbox(902), encode(&entry));
    s.apply(b).unwrap();
    let ticket_item = s.ticket_follow_up(DESK, 7).unwrap().expect("the open ticket has a follow-up");
    // What a usage file reported for it, a CSAT answer, the health last
    // written back for it.
    let today = now().date_naive();
    let mut o = s.observe(today);
    let users = Point { day: today - Duration::days(3), value: Some(9.0) };
    assert!(o.add(own, &Signal::ActiveUsers, "import", "import:u.csv:active_users", [users]).unwrap());
    let mut b = Batch::default();
    o.flush_into(&mut b).unwrap();
    let rating = SurveyRating {
        id: 77,
        account_id: own,
        rating: Rating { at: now(), verdict: Verdict::Bad, comment: "slow".into() },
    };
    b.insert(keys::child(keys::SURVEY_RATING, own, 77), encode(&rating));
    b.insert(keys::external(CRM, "rating/77"), keys::child(keys::SURVEY_RATING, own, 77));
    b.insert(keys::with_id(keys::HEALTH_WRITTEN, own), vec![1]);
    b.insert(keys::with_id(keys::HEALTH_WRITTEN, crm), vec![1]);
    let health = Write::Health { score: 20, band: crate::domain::Band::Red, reason: "own account's".into() };
    b.insert(keys::outbox(903), encode(&OutboxEntry::new(903, own, 0, health, now())));
    s.apply(b).unwrap();

    let linked = OrgRecord { link: OrgLink::Matched { how: "domain".into() }, ..org(13, OrgLink::Unmatched) };
    let done = file(&s, &linked, Target::Account(crm), true, true);
    assert_eq!((done.account, done.merged, done.tickets), (Some(crm), Some(own), 2));

    // Everything is on the CRM account now, and the own account is gone.
    let tickets = s.tickets(crm).unwrap();
    assert_eq!(tickets.iter().map(|t| t.id).collect::<Vec<_>>(), vec![7, 8]);
    assert!(tickets.iter().all(|t| t.account_id == crm));
    assert!(s.tickets(own).unwrap().is_empty());
    assert_eq!(s.contacts(crm).unwrap().len(), 1);
    assert_eq!(s.activities(crm).unwrap()[0].summary, "Called Ana");
    assert!(s.account(own).unwrap().is_none() && s.row(own).unwrap().is_none());
    assert!(s.support_only(own).unwrap().is_none());
    assert_eq!(s.resolve(own).unwrap(), crm, "the old id resolves");
    assert_eq!(s.external_id(DESK, "org/13").unwrap(), Some(crm));
    assert_eq!(s.org_record(DESK, 13).unwrap().unwrap().link, OrgLink::Matched { how: "domain".into() });
    // Items keep their state and follow the account.
    let moved = s.ticket_follow_up(DESK, 7).unwrap().unwrap();
    assert_eq!((moved.id, moved.account_id, moved.state), (ticket_item.id, crm, ticket_item.state));
    assert_eq!(s.follow_up(901).unwrap().unwrap().account_id, crm);
    assert!(s.raw(&keys::flag(crm, 3)).unwrap().is_some());
    // The note that could not reach HubSpot goes out now.
    let e = s.outbox_entry(902).unwrap().unwrap();
    assert_eq!((e.account_id, e.state), (crm, OutboxState::Pending));
    // Observations, their rebuild mark and CRM survey answers move; what
    // was written back for the old account is forgotten.
    assert_eq!(s.observations(crm).unwrap().at(&Signal::ActiveUsers, today), Some(9.0));
    assert!(s.observations(own).unwrap().is_empty());
    let year_ago = chrono::Utc::now().date_naive() - Duration::days(365);
    assert_eq!(s.rebuild_mark(crm).unwrap(), Some(year_ago), "the target's year is rebuilt");
    assert_eq!(s.rebuild_mark(own).unwrap(), None);
    assert_eq!(s.ratings(crm, &[], now() - Duration::days(1)).unwrap().len(), 1);
    assert!(s.ratings(own, &[], now() - Duration::days(1)).unwrap().is_empty());
    let filed = s.raw(&keys::external(CRM, "rating/77")).unwrap().unwrap();
    assert_eq!(filed.as_ref(), keys::child(keys::SURVEY_RATING, crm, 77).as_slice());
    assert!(!s.contains(&keys::with_id(keys::HEALTH_WRITTEN, own)).unwrap());
    assert!(!s.contains(&keys::with_id(keys::HEALTH_WRITTEN, crm)).unwrap(), "written again once scored");
    assert!(s.outbox_entry(903).unwrap().is_none(), "its health never lands on the CRM account's company");
    // Derived figures are recomputed; the board counts one account.
    let row = s.row(crm).unwrap().unwrap();
    assert_eq!(row.open_tickets, 1);
    assert_eq!(row.last_touch, Some(note.at), "the logged call is the newest two-way touch");
    assert_eq!(s.stage_totals().unwrap().accounts(), 1);
    // Tickets synced later land on the CRM account through the moved slot.
    let mut again = ticket(7, crm, true);
    again.subject = "Export still fails".into();
    ingest::tickets(&s, &Page { source: DESK, records: &[(again, Some(13))], removed: &[], cursor: None }, rules())
        .unwrap();
    assert_eq!(s.tickets(crm).unwrap().len(), 2);
}

#[test]
fn an_organization_leaving_a_crm_account_takes_only_its_own_records() {
    let (_tmp, s) = workspace();
    let crm = AccountId(1);
    // Organizations 11 and 12 both live on the CRM account.
    for o in [11, 12] {
        let linked = org(o, OrgLink::Matched { how: "domain".into() });
        file(&s, &linked, Target::Account(crm), false, false);
    }
    let t = |id, o| (ticket(id, crm, false), Some(o));
    ingest::tickets(
        &s,
        &Page { source: DESK, records: &[t(1, 11), t(2, 11), t(3, 12)], removed: &[], cursor: None },
        rules(),
    )
    .unwrap();
    let user = |id: u64, o| {
        let c = Contact {
            id: crate::sync::zendesk::user_contact_id(id),
            account_id: crm,
            name: format!("U{id}"),
            email: format!("u{id}@x.example"),
            title: String::new(),
            key_person: false,
        };
        (
            (
                id,
                UserRecord {
                    name: c.name.clone(),
                    email: c.email.clone(),
                    org: Some(o),
                    title: String::new(),
                    contact: true,
                },
            ),
            c,
        )
    };
    let (u1, c1) = user(1, 11);
    let (u2, c2) = user(2, 12);
    ingest::users(&s, &[u1, u2], &Page { source: DESK, records: &[c1, c2], removed: &[], cursor: None }).unwrap();
    assert_eq!(s.row(crm).unwrap().unwrap().open_tickets, 3);

    // Organization 11 turns out ambiguous: it gets an account of its own.
    let apart = org(11, OrgLink::Ambiguous { why: "shares its domain".into() });
    let new = crate::sync::relink::own_account(&apart, AccountId(60), now().date_naive());
    let done = file(&s, &apart, Target::Own(Box::new(new)), false, false);
    assert_eq!((done.created, done.tickets, done.contacts), (Some(AccountId(60)), 2, 1));
    let ids = |a| s.tickets(a).unwrap().iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(AccountId(60)), vec![1, 2]);
    assert_eq!(ids(crm), vec![3]);
    assert_eq!(s.contacts(AccountId(60)).unwrap()[0].name, "U1");
    assert_eq!(s.contacts(crm).unwrap()[0].name, "U2");
    assert_eq!(s.row(crm).unwrap().unwrap().open_tickets, 1);
    assert_eq!(s.row(AccountId(60)).unwrap().unwrap().open_tickets, 2);
    let mark = s.support_only(AccountId(60)).unwrap().unwrap();
    assert!(mark.is_ambiguous() && mark.org == 11);
    assert!(s.account(crm).unwrap().is_some(), "the CRM account stays");
    assert_eq!(s.stage_totals().unwrap().accounts(), 3);
}

#[test]
fn an_archived_company_leaves_its_organizations_records_for_matching_to_move() {
    let (_tmp, s) = workspace();
    let crm = AccountId(1);
    let linked = org(11, OrgLink::Matched { how: "domain".into() });
    file(&s, &linked, Target::Account(crm), false, true);
    ingest::tickets(
        &s,
        &Page { source: DESK, records: &[(ticket(1, crm, true), Some(11))], removed: &[], cursor: None },
        rules(),
    )
    .unwrap();
    assert!(s.ticket_follow_up(DESK, 1).unwrap().is_some(), "a frustrated customer's ticket has a follow-up");
    let page = Page { source: CRM, records: &[], removed: &["101".into()], cursor: None };
    ingest::accounts(&s, &page, &[], s.observe(chrono::Utc::now().date_naive())).unwrap();
    assert!(s.account(crm).unwrap().is_none());
    assert_eq!(s.tickets(crm).unwrap().len(), 1, "the desk's ticket waits for matching");
    // Matching finds no CRM account for it now: an account of its own,
    // with an id no account ever had.
    let apart = org(11, OrgLink::Unmatched);
    let new = crate::sync::relink::own_account(&apart, AccountId(70), now().date_naive());
    let done = file(&s, &apart, Target::Own(Box::new(new)), false, true);
    assert_eq!(done.tickets, 1);
    assert_eq!(s.tickets(AccountId(70)).unwrap().len(), 1);
    assert!(s.tickets(crm).unwrap().is_empty());
    assert_eq!(s.row(AccountId(70)).unwrap().unwrap().open_tickets, 1);
    assert_eq!(s.ticket_follow_up(DESK, 1).unwrap().expect("moved with its ticket").account_id, AccountId(70));
    // Creating an account of its own over an existing id is refused.
    let clash = crate::sync::relink::own_account(&org(12, OrgLink::Unmatched), AccountId(70), now().date_naive());
    let refused = relink_org(
        &s,
        DESK,
        Change {
            record: org(12, OrgLink::Unmatched),
            target: Target::Own(Box::new(clash)),
            own: false,
            exclusive: false,
            users: vec![],
        },
        &sources(),
    );
    assert!(refused.is_err());
}
