//! The fault matrix: the real sync against a fake HubSpot and a fake
//! Zendesk on 127.0.0.1, with a fault injected on the CRM while the desk
//! answers. Whatever fails first, once the fault clears the next sync (and
//! `sync --full`) leaves the cache equal to one clean sync: the same
//! accounts, none twice, the same tickets and people on each.

use crate::common::fixtures;
use crate::fake;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cockpit::domain::{Account, AccountId, Stage, Ticket, TicketStatus};
use cockpit::store::Store;
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::source::{Kind, Source};
use cockpit::sync::{self, Options, SourceReport};
use fake::desk::{Desk, SharedDesk};
use fake::{Crm, Fault, Shared};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Companies 1..=30 in the CRM.
const COMPANIES: u64 = 30;

struct Vendors {
    crm: Shared,
    desk: SharedDesk,
    sources: Vec<Source>,
}

/// The CRM's companies and the desk's organizations, tickets and users.
///
/// Organizations 101..=124 each match one company: every third by external
/// id, the others by domain or by name. Organization 200 matches nothing;
/// 201 and 202 both claim company 25's domain; 203 is named like two
/// companies at once.
async fn vendors() -> Vendors {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let (crm_env, desk_env) = (format!("COCKPIT_TEST_FM_CRM_{n}"), format!("COCKPIT_TEST_FM_DESK_{n}"));
    std::env::set_var(&crm_env, "crm-secret");
    std::env::set_var(&desk_env, "desk-secret");
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    for id in 1..=COMPANIES {
        crm.add(id, &format!("Company {id:02}"), 5_000 * id, 1_700_000_000_000 + id as i64);
        crm.companies.get_mut(&id).unwrap().props.insert("domain".into(), format!("c{id}.example"));
    }
    for id in [26, 27] {
        crm.companies.get_mut(&id).unwrap().props.insert("name".into(), "Twin Corp".into());
    }
    // Company 7 has a person in the CRM: skipped while company 7 is, read
    // again once it lands.
    crm.put(
        "contacts",
        9007,
        &[("firstname", "Crm"), ("lastname", "Seven"), ("email", "crm7@x.example")],
        1_700_000_000_000,
        Some(7),
    );
    // Company 4 knows the person the desk also has: one person, not two.
    crm.put(
        "contacts",
        9004,
        &[("firstname", "Person"), ("lastname", "104"), ("email", "p104@x.example")],
        1_700_000_000_000,
        Some(4),
    );
    let mut desk = Desk {
        auth: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-secret")),
        page: 25,
        ..Desk::default()
    };
    for i in 1..=24u64 {
        let org = 100 + i;
        match i % 3 {
            0 => desk.org(org, &format!("Support {i}"), &[], Some(&i.to_string())),
            1 => desk.org(org, &format!("Support {i}"), &[&format!("c{i}.example")], None),
            _ => desk.org(org, &format!("Company {i:02} Inc."), &[], None),
        }
    }
    desk.org(200, "Lonely Co", &["lonely.example"], None);
    desk.org(201, "Company 25 US", &["c25.example"], None);
    desk.org(202, "Company 25 EU", &["c25.example"], None);
    desk.org(203, "Twin", &[], None);
    let orgs: Vec<u64> = desk.orgs.keys().copied().collect();
    for org in &orgs {
        for k in 0..3 {
            let status = ["open", "pending", "solved"][k as usize];
            desk.ticket(org * 10 + k, Some(*org), status, &format!("Question {k} from {org}"));
        }
        desk.user(5000 + org, &format!("Person {org}"), &format!("p{org}@x.example"), "end-user", Some(*org), true);
    }
    let crm: Shared = Arc::new(Mutex::new(crm));
    let desk: SharedDesk = Arc::new(Mutex::new(desk));
    let (crm_url, desk_url) = (fake::start(crm.clone()).await, fake::desk::start(desk.clone()).await);
    let sources = vec![
        fake::source("crm", Kind::Hubspot, crm_url, &crm_env, None),
        fake::source("desk", Kind::Zendesk, desk_url, &desk_env, Some("agent@acme.com")),
    ];
    Vendors { crm, desk, sources }
}

/// A ticket as older versions stored it from the desk's export record.
fn ticket(t: &serde_json::Value, account: AccountId) -> Ticket {
    let time = |k: &str| chrono::DateTime::parse_from_rfc3339(t[k].as_str().unwrap()).unwrap().to_utc();
    Ticket {
        status: match t["status"].as_str().unwrap() {
            "open" => TicketStatus::Open,
            "pending" => TicketStatus::Pending,
            _ => TicketStatus::Solved,
        },
        requester: format!("user {}", t["requester_id"]),
        created_at: time("created_at"),
        ..fixtures::ticket(t["id"].as_u64().unwrap(), account, t["subject"].as_str().unwrap(), time("updated_at"))
    }
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        timeout: Duration::from_millis(800),
        max_wait: Duration::from_secs(2),
    }
}

async fn sync(store: &Store, v: &Vendors, full: bool) -> Vec<SourceReport> {
    let opts = Options { full, only: None, policy: Some(quick()) };
    sync::run(store, &v.sources, &opts, &|_| {}).await.unwrap()
}

/// One account as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    arr: u64,
    tickets: Vec<u64>,
    open: u32,
    /// Emails of its people.
    people: Vec<String>,
    link: String,
    last_touch: Option<chrono::DateTime<chrono::Utc>>,
    /// Its follow-ups: (ticket, kind, state).
    items: Vec<String>,
}

/// The cache keyed by what each account is at the vendors (a CRM company,
/// or a desk organization of its own), so two caches built in different
/// orders compare equal when they hold the same book.
fn cache(store: &Store) -> BTreeMap<String, Seen> {
    let mut out = BTreeMap::new();
    let accounts: Vec<Account> = store.accounts().map(Result::unwrap).collect();
    let far = chrono::Utc::now() + chrono::Duration::days(3650);
    let mut items: BTreeMap<AccountId, Vec<String>> = BTreeMap::new();
    for f in store.follow_ups_before(far) {
        let f = f.unwrap();
        items.entry(f.account_id).or_default().push(format!("{:?} {:?} {:?}", f.ticket_id, f.kind, f.state));
    }
    consistent(store, &accounts);
    for a in &accounts {
        let key = match (store.external_of(a.id, "crm").unwrap(), store.support_only(a.id).unwrap()) {
            (Some(company), None) => format!("company {company}"),
            (None, Some(s)) => format!("organization {}", s.org),
            other => panic!("account {} ({}) is neither a company nor an organization: {other:?}", a.id.0, a.name),
        };
        let mut tickets: Vec<u64> = store.tickets(a.id).unwrap().iter().map(|t| t.id).collect();
        tickets.sort();
        let row = store.row(a.id).unwrap().expect("every account has a row");
        let link = store.support_only(a.id).unwrap().map(|s| s.link.label()).unwrap_or_default();
        let mut people: Vec<String> = store.contacts(a.id).unwrap().into_iter().map(|c| c.email).collect();
        people.sort();
        let mut its = items.remove(&a.id).unwrap_or_default();
        its.sort();
        let seen = Seen {
            name: a.name.clone(),
            arr: a.arr,
            open: row.open_tickets,
            tickets,
            people,
            link,
            last_touch: row.last_touch,
            items: its,
        };
        assert!(out.insert(key.clone(), seen).is_none(), "{key} is in the cache twice");
    }
    assert!(items.is_empty(), "follow-ups of accounts that are gone: {items:?}");
    out
}

/// Every account has one row, the default order and the board index every
/// row once, and the totals count each stage's rows and ARR.
fn consistent(store: &Store, accounts: &[Account]) {
    let rows: Vec<cockpit::domain::AccountRow> = store.rows().map(Result::unwrap).collect();
    let ids = |rs: &[cockpit::domain::AccountRow]| {
        let mut v: Vec<u64> = rs.iter().map(|r| r.id.0).collect();
        v.sort();
        v
    };
    let mut account_ids: Vec<u64> = accounts.iter().map(|a| a.id.0).collect();
    account_ids.sort();
    assert_eq!(ids(&rows), account_ids, "one row per account");
    assert_eq!(ids(&store.first_rows(usize::MAX).unwrap()), account_ids, "the default order lists every row once");
    let totals = store.stage_totals().unwrap();
    for stage in Stage::ALL {
        let column = store.stage_rows(stage, usize::MAX).unwrap();
        let here: Vec<_> = rows.iter().filter(|r| r.stage == stage).cloned().collect();
        assert_eq!(ids(&column), ids(&here), "the {stage:?} column");
        assert_eq!(totals.count[stage.index()], here.len() as u64, "{stage:?} count");
        assert_eq!(totals.arr[stage.index()], here.iter().map(|r| r.arr).sum::<u64>(), "{stage:?} ARR");
    }
}

/// The cache one clean first sync gives.
async fn clean() -> BTreeMap<String, Seen> {
    clean_with(|_| {}).await
}

/// The cache one clean first sync gives of the vendors as `change` leaves them.
async fn clean_with(change: impl FnOnce(&mut Crm)) -> BTreeMap<String, Seen> {
    let v = vendors().await;
    change(&mut v.crm.lock().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    for r in sync(&store, &v, false).await {
        assert!(r.error.is_none(), "{}: {:?}", r.source, r.error);
    }
    cache(&store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_sync_matches_every_organization_and_merges_nothing_unclear() {
    let c = clean().await;
    assert_eq!(c.len(), 30 + 4, "30 companies, 4 organizations of their own: {:#?}", c.keys().collect::<Vec<_>>());
    // Each matched organization's tickets and person are on its company.
    for i in 1..=24u64 {
        let org = 100 + i;
        let seen = &c[&format!("company {i}")];
        assert_eq!(seen.tickets, vec![org * 10, org * 10 + 1, org * 10 + 2], "company {i}");
        let mut people = vec![format!("p{org}@x.example")];
        if i == 7 {
            people.insert(0, "crm7@x.example".to_string());
        }
        assert_eq!((seen.open, seen.people.clone()), (2, people), "company {i}");
    }
    // Two organizations claiming one domain: both apart, the company untouched.
    assert!(c["company 25"].tickets.is_empty());
    for org in [201, 202] {
        assert_eq!(c[&format!("organization {org}")].link, "ambiguous");
    }
    assert_eq!(c["organization 203"].link, "ambiguous", "named like two companies");
    assert_eq!(c["organization 200"].link, "support only");
    assert_eq!(c["organization 200"].tickets.len(), 3);
}

/// Injects `fault` on the CRM for the first sync, checks the desk still
/// lands, then clears it: the next sync, and a full one, equal a clean one.
async fn recovers_from(name: &str, fault: impl FnOnce(&mut Crm)) {
    let expected = clean().await;
    let v = vendors().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    fault(&mut v.crm.lock().unwrap());
    let first = sync(&store, &v, false).await;
    assert!(first[0].error.is_some(), "{name}: the CRM run fails");
    assert!(first[1].error.is_none(), "{name}: the desk answers: {:?}", first[1].error);
    let landed: usize = store.accounts().map(|a| store.tickets(a.unwrap().id).unwrap().len()).sum();
    assert_eq!(landed, 28 * 3, "{name}: every ticket landed while the CRM was down");
    {
        let mut crm = v.crm.lock().unwrap();
        crm.faults.clear();
        crm.latency = Duration::ZERO;
    }
    let second = sync(&store, &v, false).await;
    for r in &second {
        assert!(r.error.is_none(), "{name}: {}: {:?}", r.source, r.error);
    }
    assert_eq!(cache(&store), expected, "{name}: the next sync converges");
    for r in sync(&store, &v, true).await {
        assert!(r.error.is_none(), "{name} (--full): {}: {:?}", r.source, r.error);
    }
    assert_eq!(cache(&store), expected, "{name}: --full converges to the same cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_answering_500_during_the_first_sync() {
    recovers_from("500s", |crm| crm.faults.extend((0..50).map(|_| Fault::Status(500, vec![], "{}".into())))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_answering_429_to_every_request() {
    recovers_from("429s", |crm| {
        crm.faults.extend((0..50).map(|_| Fault::Status(429, vec![("retry-after", "0".into())], "{}".into())))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_malformed_companies_page() {
    // 30 companies are one page of 100: the page that comes back garbled.
    recovers_from("garbage page", |crm| crm.faults.push_back(Fault::Garbage)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_timing_out() {
    recovers_from("timeouts", |crm| crm.latency = Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_skipped_as_malformed_until_it_is_fixed() {
    let expected = clean().await;
    let v = vendors().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    v.crm.lock().unwrap().companies.get_mut(&7).unwrap().props.insert("arr".into(), "lots".into());
    let first = sync(&store, &v, false).await;
    assert!(first.iter().all(|r| r.error.is_none()));
    assert_eq!(first[0].objects[0].skipped.len(), 1, "company 7 is skipped and listed");
    let contacts = &first[0].objects[1];
    assert!(contacts.skipped.iter().any(|s| s.id == "9007" && s.reason.contains("company 7")), "{contacts:?}");
    // Its organization (101 + 6 = 107, by domain) waits on an account of its own.
    let own = store.external_id("desk", "org/107").unwrap().unwrap();
    let mark = store.support_only(own).unwrap().expect("an account of its own, marked");
    assert_eq!(mark.link.label(), "support only");
    assert_eq!(store.account(own).unwrap().unwrap().arr, 0);
    {
        let mut crm = v.crm.lock().unwrap();
        // Fixed at HubSpot: its last-modified date moves to now.
        let c = crm.companies.get_mut(&7).unwrap();
        c.props.insert("arr".into(), (5_000 * 7).to_string());
        c.modified = chrono::Utc::now().timestamp_millis();
    }
    let second = sync(&store, &v, false).await;
    assert!(second.iter().all(|r| r.error.is_none()));
    assert!(
        second[1].objects[0].notes.iter().any(|n| n.contains("1 support organization merged")),
        "{:?}",
        second[1].objects[0].notes
    );
    assert_eq!(cache(&store), expected);
    assert_eq!(store.resolve(own).unwrap(), store.external_id("crm", "7").unwrap().unwrap(), "the old id resolves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_synced_alone_later_still_merges_what_the_desk_brought() {
    let expected = clean().await;
    let v = vendors().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let opts = |only: &str| Options { full: false, only: Some(only.into()), policy: Some(quick()) };
    // The desk first, alone: every organization is an account of its own.
    sync::run(&store, &v.sources, &opts("desk"), &|_| {}).await.unwrap();
    assert_eq!(store.support_only_accounts().unwrap().len(), 28);
    // Then the CRM alone: its accounts arrive, and the organizations that
    // match them are merged at once, without the desk.
    let before = v.desk.lock().unwrap().log.len();
    sync::run(&store, &v.sources, &opts("crm"), &|_| {}).await.unwrap();
    assert_eq!(v.desk.lock().unwrap().log.len(), before, "no request to the desk");
    assert_eq!(cache(&store), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_damaged_by_the_old_first_come_matching_converges_with_full() {
    use cockpit::domain::outbox::{OutboxEntry, OutboxState, Write};
    let expected = clean().await;
    let v = vendors().await;
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    // As older versions left it after a CRM outage during the first sync:
    // every organization an account of its own (unmarked), with its
    // tickets and people; then the companies beside them; two
    // organizations that share a domain merged silently into that
    // company; and one organization matched by name to another's account.
    {
        let store = Store::open(&ws).unwrap();
        let opts = |only: &str| Options { full: false, only: Some(only.into()), policy: Some(quick()) };
        sync::run(&store, &v.sources, &opts("crm"), &|_| {}).await.unwrap();
        let today = chrono::Utc::now().date_naive();
        let company25 = store.external_id("crm", "25").unwrap().unwrap();
        let (mut creates, mut links, mut tickets, mut people) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let desk = v.desk.lock().unwrap().orgs.clone();
        let desk_tickets = v.desk.lock().unwrap().tickets.clone();
        let mut lonely = None;
        let mut own_of_101 = None;
        for (id, org) in &desk {
            let name = org["name"].as_str().unwrap().to_string();
            let account = match *id {
                201 | 202 => {
                    links.push((format!("org/{id}"), company25));
                    company25
                }
                203 => {
                    let shared = lonely.expect("200 comes first");
                    links.push((format!("org/{id}"), shared));
                    shared
                }
                _ => {
                    let acc = AccountId(store.next_id().unwrap() + 1);
                    let record = cockpit::domain::OrgRecord {
                        id: *id,
                        name,
                        domains: vec![],
                        external_id: None,
                        created: None,
                        link: cockpit::domain::OrgLink::Unmatched,
                    };
                    let mut a = cockpit::sync::relink::own_account(&record, acc, today);
                    a.stage = Stage::Adoption;
                    creates.push((format!("org/{id}"), a));
                    if *id == 200 {
                        lonely = Some(acc);
                    }
                    if *id == 101 {
                        own_of_101 = Some(acc);
                    }
                    acc
                }
            };
            for (_, t) in desk_tickets.iter().filter(|(_, t)| t["organization_id"] == *id) {
                tickets.push((ticket(t, account), None));
            }
            people.push(cockpit::domain::Contact {
                id: cockpit::sync::zendesk::user_contact_id(5000 + id),
                account_id: account,
                name: format!("Person {id}"),
                email: format!("p{id}@x.example"),
                title: String::new(),
                key_person: false,
            });
        }
        let cursor = Some(("organizations", &b"{\"after\":null}"[..]));
        let page = cockpit::engine::ingest::Page { source: "desk", records: &creates, removed: &[], cursor };
        cockpit::engine::ingest::accounts(&store, &page, &links, store.observe(chrono::Utc::now().date_naive()))
            .unwrap();
        cockpit::engine::ingest::tickets(
            &store,
            &cockpit::engine::ingest::Page { source: "desk", records: &tickets, removed: &[], cursor: None },
            None,
        )
        .unwrap();
        cockpit::engine::ingest::children(
            &store,
            &cockpit::engine::ingest::Page { source: "desk", records: &people, removed: &[], cursor: None },
        )
        .unwrap();
        // A note the CSM wrote on the duplicate, which could not reach HubSpot.
        let own = own_of_101.unwrap();
        let mut entry = OutboxEntry::new(
            store.next_id().unwrap(),
            own,
            1,
            Write::Note { body: "Called them".into(), at: chrono::Utc::now() },
            chrono::Utc::now(),
        );
        entry.state = OutboxState::Failed {
            reason: "this account is not linked to a HubSpot company (source \"crm\"); sync it from HubSpot or discard the entry".into(),
        };
        store.outbox_put(&entry).unwrap();
        assert_eq!(store.accounts().count(), 30 + 25, "the damage: organizations beside their companies");
        store.flush().unwrap();
    }
    // Written by the version before accounts of their own were marked.
    {
        let db = sled::Config::new().path(ws.join("db")).open().unwrap();
        db.open_tree("cockpit").unwrap().insert(cockpit::store::keys::SCHEMA, &2u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(&ws).unwrap();
    for r in sync(&store, &v, true).await {
        assert!(r.error.is_none(), "{}: {:?}", r.source, r.error);
    }
    assert_eq!(cache(&store), expected);
    // The note moved to the company and goes out now.
    let company1 = store.external_id("crm", "1").unwrap().unwrap();
    let e = store.outbox().unwrap().pop().unwrap();
    assert_eq!(e.account_id, company1);
    assert!(matches!(e.state, OutboxState::Pending | OutboxState::Unsure { .. } | OutboxState::Failed { .. }));
    assert!(!matches!(&e.state, OutboxState::Failed { reason } if reason.contains("not linked")), "{:?}", e.state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_company_leaves_its_organization_an_account_of_its_own() {
    let archive = |crm: &mut Crm| crm.companies.get_mut(&4).unwrap().archived = true;
    let expected = clean_with(archive).await;
    assert_eq!(expected["organization 104"].tickets.len(), 3);
    let v = vendors().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    assert!(sync(&store, &v, false).await.iter().all(|r| r.error.is_none()));
    let company4 = store.external_id("crm", "4").unwrap().unwrap();
    archive(&mut v.crm.lock().unwrap());
    assert!(sync(&store, &v, false).await.iter().all(|r| r.error.is_none()));
    // Its organization's tickets and person did not go with the company:
    // they are on an account of its own, with a new id.
    let own = store.external_id("desk", "org/104").unwrap().unwrap();
    assert_ne!(own, company4, "no id of an archived company is reused");
    assert!(store.account(company4).unwrap().is_none());
    assert_eq!(cache(&store), expected);
    assert_eq!(store.row(own).unwrap().unwrap().open_tickets, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_naming_a_company_not_yet_synced_waits_for_it_and_is_never_guessed() {
    let expected = clean().await;
    let v = vendors().await;
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    {
        // Organization 103 names company 3 by external id; company 3 is
        // skipped as malformed, and company 5 shares the name it would
        // be guessed by.
        let mut crm = v.crm.lock().unwrap();
        crm.companies.get_mut(&3).unwrap().props.insert("arr".into(), "lots".into());
        crm.companies.get_mut(&5).unwrap().props.insert("domain".into(), "c5.example".into());
    }
    v.desk.lock().unwrap().org(103, "Company 05", &["c5.example"], Some("3"));
    let first = sync(&store, &v, false).await;
    assert!(first.iter().all(|r| r.error.is_none()));
    let own = store.external_id("desk", "org/103").unwrap().unwrap();
    let mark = store.support_only(own).unwrap().expect("an account of its own while it waits");
    assert!(mark.describe().contains("names CRM company 3"), "{}", mark.describe());
    let company5 = store.external_id("crm", "5").unwrap().unwrap();
    assert!(store.tickets(company5).unwrap().iter().all(|t| t.id / 10 != 103), "not guessed into company 5");
    {
        let mut crm = v.crm.lock().unwrap();
        let c = crm.companies.get_mut(&3).unwrap();
        c.props.insert("arr".into(), "15000".into());
        c.modified = chrono::Utc::now().timestamp_millis();
    }
    v.desk.lock().unwrap().org(103, "Support 3", &[], Some("3"));
    assert!(sync(&store, &v, false).await.iter().all(|r| r.error.is_none()));
    assert_eq!(cache(&store), expected);
}
