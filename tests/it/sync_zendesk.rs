//! Zendesk sync against a fake desk (and a fake CRM) on 127.0.0.1:
//! matching organizations to CRM accounts, the incremental ticket export,
//! deletions, a repeated cursor and rate limits.

use crate::fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cockpit::domain::TicketStatus;
use cockpit::store::Store;
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::source::{Kind, Source};
use cockpit::sync::{self, Options, SourceReport};
use fake::desk::{Desk, SharedDesk};
use fake::{Crm, Shared};

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct Env {
    desk: SharedDesk,
    crm: Shared,
    sources: Vec<Source>,
    _tmp: tempfile::TempDir,
    store: Store,
}

async fn env() -> Env {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let (crm_env, desk_env) = (format!("COCKPIT_TEST_ZD_CRM_{n}"), format!("COCKPIT_TEST_ZD_DESK_{n}"));
    std::env::set_var(&crm_env, "crm-secret");
    std::env::set_var(&desk_env, "desk-secret");
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    crm.add(1, "Acme Inc", 50_000, 1_700_000_000_000);
    crm.add(2, "Globex", 30_000, 1_700_000_000_001);
    crm.add(3, "Globex", 20_000, 1_700_000_000_002); // two CRM accounts share a name
    crm.add(4, "Initech", 10_000, 1_700_000_000_003);
    crm.companies.get_mut(&4).unwrap().props.insert("domain".into(), "initech.com".into());
    let crm: Shared = Arc::new(Mutex::new(crm));
    let crm_url = fake::start(crm.clone()).await;

    let mut desk = Desk {
        auth: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-secret")),
        page: 100,
        ..Desk::default()
    };
    desk.org(10, "ACME, Inc.", &[], Some("1")); // by external id (the HubSpot id)
    desk.org(11, "Initech Europe", &["initech.com"], None); // by domain
    desk.org(12, "Globex", &[], None); // ambiguous by name
    desk.org(13, "Umbrella", &["umbrella.example"], None); // unmatched
    for id in 1..=150 {
        let org = [10, 11, 12, 13][id as usize % 4];
        desk.ticket(id, Some(org), if id % 3 == 0 { "solved" } else { "open" }, &format!("Question {id}"));
    }
    desk.ticket(999, None, "open", "No organization");
    let desk: SharedDesk = Arc::new(Mutex::new(desk));
    let desk_url = fake::desk::start(desk.clone()).await;

    let sources = vec![
        fake::source("crm", Kind::Hubspot, crm_url, &crm_env, None),
        fake::source("desk", Kind::Zendesk, desk_url, &desk_env, Some("agent@acme.com")),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    Env { desk, crm, sources, _tmp: tmp, store }
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 6,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
        max_wait: Duration::from_secs(5),
    }
}

async fn run(e: &Env, only: Option<&str>) -> Vec<SourceReport> {
    let opts = Options { full: false, only: only.map(str::to_string), policy: Some(quick()) };
    sync::run(&e.store, &e.sources, &opts, &|_| {}).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_match_crm_accounts_and_tickets_land_on_them() {
    let e = env().await;
    run(&e, Some("crm")).await;
    let r = run(&e, Some("desk")).await.remove(0);
    assert!(r.error.is_none(), "{:?}", r.error);
    let (orgs, tickets) = (&r.objects[0], &r.objects[2]);
    assert_eq!(orgs.counts.added, 4, "four organizations read");
    assert_eq!(orgs.ambiguous.len(), 1, "{:?}", orgs.ambiguous);
    assert!(orgs.ambiguous.iter().any(|u| u.id == "12" && u.reason.contains("matches 2 accounts by name")));
    assert_eq!(orgs.unmatched.len(), 1);
    assert!(orgs.unmatched.iter().any(|u| u.id == "13" && u.reason.contains("matches no CRM account")));
    // The ambiguous and the unmatched one are accounts of their own, marked so.
    for org in ["org/12", "org/13"] {
        let own = e.store.external_id("desk", org).unwrap().unwrap();
        assert!(e.store.support_only(own).unwrap().is_some(), "{org}");
    }
    assert!(e
        .store
        .support_only(e.store.external_id("desk", "org/12").unwrap().unwrap())
        .unwrap()
        .unwrap()
        .is_ambiguous());
    assert_eq!(tickets.counts.added, 150);
    assert_eq!(tickets.skipped.len(), 1, "the ticket without an organization is reported");
    assert_eq!(tickets.skipped[0].id, "999");

    let acme = e.store.external_id("crm", "1").unwrap().unwrap();
    assert_eq!(e.store.external_id("desk", "org/10").unwrap(), Some(acme));
    let initech = e.store.external_id("crm", "4").unwrap().unwrap();
    assert_eq!(e.store.external_id("desk", "org/11").unwrap(), Some(initech));
    // Tickets of org 10 (ids with id % 4 == 0) sit on Acme, and its row counts the open ones.
    let acme_tickets = e.store.tickets(acme).unwrap();
    assert_eq!(acme_tickets.len(), 37);
    let open = acme_tickets.iter().filter(|t| t.status.is_open()).count() as u32;
    let row = e.store.row(acme).unwrap().unwrap();
    assert_eq!(row.open_tickets, open);
    assert_eq!(row.last_touch.unwrap().to_rfc3339(), "2026-11-20T08:00:00+00:00", "last customer activity");
    assert_eq!(e.store.stage_totals().unwrap().accounts(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_export_resumes_and_takes_only_changes() {
    let e = env().await;
    run(&e, None).await;
    let before = e.desk.lock().unwrap().log.iter().filter(|l| l.starts_with("export")).count();
    {
        let mut d = e.desk.lock().unwrap();
        d.ticket(4, Some(10), "solved", "Question 4"); // changed
        d.ticket(200, Some(11), "new", "A new one"); // added
        d.ticket(8, Some(10), "deleted", "Question 8"); // deleted
    }
    let r = run(&e, Some("desk")).await.remove(0);
    assert!(r.error.is_none(), "{:?}", r.error);
    let c = r.objects[2].counts;
    assert_eq!((c.added, c.updated, c.removed), (1, 1, 1), "{c:?}");
    let exports = e.desk.lock().unwrap().log.iter().filter(|l| l.starts_with("export")).count() - before;
    assert_eq!(exports, 1, "one page of changes, from the stored cursor");
    let acme = e.store.external_id("crm", "1").unwrap().unwrap();
    let tickets = e.store.tickets(acme).unwrap();
    assert!(tickets.iter().all(|t| t.id != 8), "the deleted ticket left");
    assert_eq!(tickets.iter().find(|t| t.id == 4).unwrap().status, TicketStatus::Solved);
    let row = e.store.row(acme).unwrap().unwrap();
    assert_eq!(row.open_tickets, tickets.iter().filter(|t| t.status.is_open()).count() as u32);
    // Follow-up requests were built from after_cursor, never after_url.
    assert!(e.desk.lock().unwrap().log.iter().all(|l| !l.contains("do-not-follow")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_cursor_stops_the_run_as_a_failure_and_rate_limits_are_honoured() {
    let e = env().await;
    run(&e, Some("crm")).await;
    {
        let mut d = e.desk.lock().unwrap();
        d.page = 40;
        d.stuck_cursor = true;
        d.faults.push_back((429, vec![("retry-after", "1".into())]));
    }
    let started = std::time::Instant::now();
    let r = run(&e, Some("desk")).await.remove(0);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    let exports = e.desk.lock().unwrap().log.iter().filter(|l| l.starts_with("export")).count();
    assert!(exports <= 4, "stopped on the repeated cursor after {exports} requests");
    // Stopping early is a failure, said with the source, the object and what to do.
    let err = r.error.expect("a sync that stopped early is not a success").to_string();
    assert!(err.starts_with("desk: Zendesk kept paging tickets"), "{err}");
    assert!(err.contains("the cursor \"1\" came back") && err.contains("cockpit sync"), "{err}");
    assert_eq!(r.objects[2].counts.added, 40, "the first page is kept");
    let status = e.store.sync_status("desk").unwrap().unwrap();
    assert!(!status.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_export_that_does_not_move_stops_the_run() {
    let e = env().await;
    e.desk.lock().unwrap().stuck_orgs = true;
    let r = run(&e, Some("desk")).await.remove(0);
    let err = r.error.expect("stopped").to_string();
    assert!(err.contains("kept paging organizations") && err.contains("end_time stayed"), "{err}");
    let requests = e.desk.lock().unwrap().log.iter().filter(|l| l.starts_with("orgs")).count();
    assert_eq!(requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_end_of_the_export_is_quiet_and_later_runs_take_only_changes() {
    let e = env().await;
    run(&e, None).await;
    // Nothing changed: each export answers once with the cursor it was given.
    let r = run(&e, Some("desk")).await.remove(0);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.objects[0].counts.added + r.objects[0].counts.updated, 0);
    let log = e.desk.lock().unwrap().log.clone();
    let orgs: Vec<&String> = log.iter().filter(|l| l.starts_with("orgs")).collect();
    assert_eq!(orgs.len(), 2, "one request a run: {orgs:?}");
    assert!(!orgs[1].contains("\"start_time\": \"0\""), "the second run starts where the first ended: {orgs:?}");
    // A renamed organization comes back alone, and its own account takes the name.
    e.desk.lock().unwrap().org(13, "Umbrella Corp", &["umbrella.example"], None);
    let r = run(&e, Some("desk")).await.remove(0);
    assert_eq!(r.objects[0].counts.updated, 1);
    let own = e.store.external_id("desk", "org/13").unwrap().unwrap();
    assert_eq!(e.store.account(own).unwrap().unwrap().name, "Umbrella Corp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_zendesk_credentials_name_the_variable() {
    let e = env().await;
    e.desk.lock().unwrap().auth = "Basic nope".into();
    let r = run(&e, Some("desk")).await.remove(0);
    let err = r.error.unwrap().to_string();
    assert!(err.contains("HTTP 401") && err.contains("COCKPIT_TEST_ZD_DESK_"), "{err}");
    assert!(!err.contains("desk-secret"));
    let _ = &e.crm;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_tickets_raise_follow_ups_once() {
    let e = env().await;
    {
        let mut d = e.desk.lock().unwrap();
        d.tickets.clear();
        // Pending since our reply on 2026-11-21 (metric sets), customer silent: the 5-day rule.
        d.ticket(7001, Some(13), "pending", "Where is my export?");
        d.ticket(7002, Some(13), "solved", "Thanks!");
    }
    run(&e, None).await;
    let items: Vec<_> =
        e.store.follow_ups_before(chrono::Utc::now() + chrono::Duration::days(1)).map(Result::unwrap).collect();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].ticket_id, Some(7001));
    assert!(items[0].reason.contains("Where is my export?"), "{}", items[0].reason);
    // Syncing the same ticket again does not duplicate it.
    e.desk.lock().unwrap().ticket(7001, Some(13), "pending", "Where is my export?");
    run(&e, Some("desk")).await;
    let again = e.store.follow_ups_before(chrono::Utc::now() + chrono::Duration::days(1)).count();
    assert_eq!(again, 1);
    let slot = e.store.ticket_follow_up("desk", 7001).unwrap().expect("found through the ticket");
    assert_eq!(slot.id, items[0].id);
    // Solved: the condition clears and the item goes.
    e.desk.lock().unwrap().ticket(7001, Some(13), "solved", "Where is my export?");
    run(&e, Some("desk")).await;
    assert_eq!(e.store.follow_ups_before(chrono::Utc::now() + chrono::Duration::days(1)).count(), 0);
    assert!(e.store.ticket_follow_up("desk", 7001).unwrap().is_none());
    // Back to pending, then deleted: the item comes back, then leaves with the ticket.
    e.desk.lock().unwrap().ticket(7001, Some(13), "pending", "Where is my export?");
    run(&e, Some("desk")).await;
    assert_eq!(e.store.follow_ups_before(chrono::Utc::now() + chrono::Duration::days(1)).count(), 1);
    e.desk.lock().unwrap().ticket(7001, Some(13), "deleted", "Where is my export?");
    run(&e, Some("desk")).await;
    assert_eq!(e.store.follow_ups_before(chrono::Utc::now() + chrono::Duration::days(1)).count(), 0);
    assert!(e.store.ticket_follow_up("desk", 7001).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_users_become_contacts_once_and_leave_when_deactivated() {
    let e = env().await;
    {
        let mut crm = e.crm.lock().unwrap();
        crm.put(
            "contacts",
            700,
            &[("firstname", "Ann"), ("lastname", "Lee"), ("email", "ann@acme.com"), ("jobtitle", "CFO")],
            1_700_000_000_000,
            Some(1),
        );
        let mut desk = e.desk.lock().unwrap();
        desk.user(21, "Bob Roe", "bob@acme.com", "end-user", Some(10), true);
        desk.user(22, "Ann Lee", "ANN@acme.com", "end-user", Some(10), true); // known from the CRM
        desk.user(23, "Agent Smith", "smith@vendor.com", "agent", Some(10), true); // staff, not a contact
        desk.user(24, "Walk-in", "walk@in.com", "end-user", None, true);
        desk.user(25, "Zed", "zed@nowhere.com", "end-user", Some(77), true);
    }
    run(&e, Some("crm")).await;
    let r = run(&e, Some("desk")).await.remove(0);
    assert!(r.error.is_none(), "{:?}", r.error);
    let users = &r.objects[1];
    assert_eq!(users.object, "users");
    assert_eq!((users.counts.added, users.counts.unchanged), (1, 1), "{users:?}");
    assert_eq!(users.skipped.len(), 1);
    assert!(users.skipped[0].reason.contains("organization 77 does not exist at Zendesk"), "{:?}", users.skipped);
    assert!(users.notes[0].starts_with("1 end users belong to no organization"), "{:?}", users.notes);
    let acme = e.store.external_id("crm", "1").unwrap().unwrap();
    let mut people: Vec<String> = e.store.contacts(acme).unwrap().into_iter().map(|c| c.name).collect();
    people.sort();
    assert_eq!(people, ["Ann Lee", "Bob Roe"]);

    // Bob is deactivated: the next (incremental) run takes only him, and he leaves.
    let exports_before = e.desk.lock().unwrap().log.iter().filter(|l| l.starts_with("users")).count();
    e.desk.lock().unwrap().user(21, "Bob Roe", "bob@acme.com", "end-user", Some(10), false);
    let r = run(&e, Some("desk")).await.remove(0);
    assert_eq!(r.objects[1].counts.removed, 1);
    let log = e.desk.lock().unwrap().log.clone();
    let resumed = log.iter().filter(|l| l.starts_with("users")).skip(exports_before).all(|l| l.contains("cursor"));
    assert!(resumed, "the users export resumes from its cursor: {log:?}");
    assert_eq!(e.store.contacts(acme).unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_accounts_get_a_daily_score_explained_by_their_records() {
    use cockpit::domain::flags::FlagRules;
    use cockpit::domain::health_model::Model;
    use cockpit::domain::{Bands, Measure};
    use cockpit::store::HealthRules;
    let e = env().await;
    run(&e, Some("crm")).await;
    run(&e, Some("desk")).await;
    let acme = e.store.external_id("crm", "1").unwrap().unwrap();
    assert_eq!(e.store.row(acme).unwrap().unwrap().health, None, "no score before the daily pass");

    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    let now = chrono::Utc::now();
    let r = e.store.daily_health(HealthRules { model: &model, flags: &flags, bands: &bands }, now).unwrap();
    assert_eq!(r.scored, 6);
    let row = e.store.row(acme).unwrap().unwrap();
    let day = e.store.day_signals(acme, now.date_naive()).unwrap().expect("today's inputs kept");
    let open = e.store.tickets(acme).unwrap().iter().filter(|t| t.status.is_open()).count() as f64;
    assert!(day.get(Measure::Support).unwrap() >= open, "open tickets count in the support load");
    assert!(day.get(Measure::Engagement).is_some(), "the last customer reply dates the contact");
    assert_eq!(day.get(Measure::Usage), None, "no product usage from a CRM and a desk: left out, said so");
    let e2 = e.store.explain(acme, &model, now.date_naive()).unwrap().unwrap();
    assert_eq!(e2.scored.score, row.health);
    assert!(e2.scored.missing.contains(&Measure::Usage));
    // The same day twice changes nothing and raises nothing new.
    let again = e.store.daily_health(HealthRules { model: &model, flags: &flags, bands: &bands }, now).unwrap();
    assert_eq!(again.raised, 0);
    assert_eq!(e.store.row(acme).unwrap().unwrap(), row);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_reaching_its_mark_raises_its_follow_up_in_the_same_day_without_a_full_pass() {
    use chrono::TimeZone;
    use cockpit::domain::flags::FlagRules;
    use cockpit::domain::health_model::Model;
    use cockpit::domain::{Bands, FollowUpKind};
    use cockpit::store::{HealthRules, SincePass};
    let e = env().await;
    {
        let mut d = e.desk.lock().unwrap();
        d.tickets.clear();
        // Our answer on 2026-11-21 08:00, the customer's before it.
        d.ticket(7001, Some(13), "pending", "Where is my export?");
        d.ticket(7002, Some(10), "solved", "Another account's question");
    }
    run(&e, None).await;
    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    let rules = HealthRules { model: &model, flags: &flags, bands: &bands };
    let item_of = |store: &Store| {
        store.ticket_follow_up("desk", 7001).unwrap().filter(|f| f.state == cockpit::domain::FollowUpState::Open)
    };
    // The day's full pass an hour before the 48-hour mark: nothing is due.
    let before = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap();
    e.store.daily_health(rules, before).unwrap();
    assert!(item_of(&e.store).is_none(), "{:?}", item_of(&e.store));
    // Later that day, with no sync and no change: only the ticket whose
    // silence reached its mark is looked at, and its follow-up is raised.
    let after = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap();
    let mut pass = SincePass::default();
    while e.store.since_step(rules, after, &mut pass, 1_000).unwrap() {}
    assert_eq!(pass.report.scored, 1, "one account looked at, not the book");
    let item = item_of(&e.store).expect("the 48-hour rule fired on its own");
    assert_eq!(item.kind, FollowUpKind::TicketNoReply);
    // Nothing left to look at until the next mark (the 5-day one).
    let mut again = SincePass::default();
    assert!(!e.store.since_step(rules, after, &mut again, 1_000).unwrap());
    // A sync that changes one ticket marks its account alone.
    e.desk.lock().unwrap().ticket(7002, Some(10), "open", "Another account's question");
    run(&e, Some("desk")).await;
    let mut synced = SincePass::default();
    while e.store.since_step(rules, after, &mut synced, 1_000).unwrap() {}
    assert_eq!(synced.report.scored, 1, "only the account whose ticket changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_not_as_documented_is_skipped_alone_on_pages_read_ahead() {
    let e = env().await;
    run(&e, Some("crm")).await;
    {
        let mut d = e.desk.lock().unwrap();
        d.tickets.clear();
        // One ticket a page: every page after the first is read (and
        // parsed) while the one before it is written.
        d.page = 1;
        d.ticket(8001, Some(10), "open", "First");
        d.ticket(8002, Some(10), "open", "Broken");
        // A status that is not a string: this record alone is skipped.
        let broken = d.tickets.iter_mut().find(|(_, t)| t["id"] == 8002).unwrap();
        broken.1["status"] = serde_json::json!(5);
        d.ticket(8003, None, "open", "Nobody's");
        d.ticket(8004, Some(10), "pending", "Last");
    }
    let r = run(&e, Some("desk")).await.remove(0);
    assert!(r.error.is_none(), "{:?}", r.error);
    let tickets = &r.objects[2];
    assert_eq!(tickets.counts.added, 2, "{tickets:?}");
    let skipped: Vec<(&str, &str)> = tickets.skipped.iter().map(|s| (s.id.as_str(), s.reason.as_str())).collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "8002", "in the export's order");
    assert!(skipped[0].1.starts_with("not a ticket as documented"), "{}", skipped[0].1);
    assert_eq!(skipped[1], ("8003", "it has no organization"));
    let acme = e.store.external_id("crm", "1").unwrap().unwrap();
    let mut landed: Vec<_> = e.store.tickets(acme).unwrap().into_iter().map(|t| (t.id, t.last_agent_reply)).collect();
    landed.sort();
    let agent = Some("2026-11-21T08:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
    // Each page's metric sets go with its own tickets.
    assert_eq!(landed, vec![(8001, agent), (8004, agent)]);
}
