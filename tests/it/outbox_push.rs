//! The pusher against a fake HubSpot and Zendesk on 127.0.0.1: the exact
//! requests, replays after lost answers and crashes that never write
//! twice, writes a vendor applies very late (held by the fake, applied on
//! the test's clock) that never leave a duplicate, conflicts, credentials,
//! backoff and the stamp a second write on the same ticket carries.

use crate::common::fixtures::{self, account};
use crate::fake;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use cockpit::domain::followup_action::{self, EscalateTo, FollowUpAction};
use cockpit::domain::outbox::{OutboxEntry, OutboxState, Write};
use cockpit::domain::{AccountId, FollowUp, FollowUpKind, Priority, Stage, Ticket};
use cockpit::store::{Batch, Store};
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::push::{self, Outcome, PushPolicy, PushReport};
use cockpit::sync::source::{Kind, RawSource, Source};
use fake::writes::{Fault, Lands, SharedWrites, Writes};
use serde_json::{json, Value};

static NEXT: AtomicUsize = AtomicUsize::new(0);

const TICKET: u64 = 35436;
const ACME: AccountId = AccountId(1);
const DESK_ONLY: AccountId = AccountId(2);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

/// The ticket's `updated_at` as the store and the desk first know it.
fn seen_stamp() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

struct Env {
    vendors: SharedWrites,
    sources: Vec<Source>,
    crm_env: String,
    clock: Arc<Mutex<DateTime<Utc>>>,
    policy: PushPolicy,
    _tmp: tempfile::TempDir,
    store: Store,
}

/// Ticket 35436 on Acme: the customer wrote two days ago, we answered at
/// the stamp the store and the desk first know.
fn ticket() -> Ticket {
    Ticket {
        created_at: seen_stamp() - chrono::Duration::days(3),
        last_customer_reply: Some(seen_stamp() - chrono::Duration::days(2)),
        last_agent_reply: Some(seen_stamp()),
        ..fixtures::ticket(TICKET, ACME, "Export fails", seen_stamp())
    }
}

/// Lands a page of accounts as a sync does (no links, no removals).
fn accounts(store: &Store, source: &str, records: &[(String, cockpit::domain::Account)]) {
    let page = cockpit::engine::ingest::Page { source, records, removed: &[], cursor: None };
    cockpit::engine::ingest::accounts(store, &page, &[], store.observe(Utc::now().date_naive())).unwrap();
}

fn quick() -> PushPolicy {
    PushPolicy {
        http: RetryPolicy {
            attempts: 2,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            timeout: Duration::from_millis(500),
            max_wait: Duration::from_secs(1),
        },
        max_attempts: 3,
        batch: 50,
        checks: vec![],
        watch: vec![],
    }
}

fn minutes(m: &[i64]) -> Vec<chrono::Duration> {
    m.iter().map(|m| chrono::Duration::minutes(*m)).collect()
}

/// The shipped schedules (looks at 1, 5, 15 and 60 minutes before any
/// resend; a resend watched for a day), with the tests' short client
/// timeout so a held request costs the test a moment, not 20 s.
fn shipped() -> PushPolicy {
    let d = PushPolicy::default();
    assert_eq!(d.checks, minutes(&[1, 5, 15, 60]), "the documented schedule");
    assert_eq!(d.watch_ends(t0()), t0() + chrono::Duration::hours(24), "watched for a day");
    PushPolicy { http: quick().http, ..d }
}

/// A workspace with Acme (HubSpot company 4242, Zendesk ticket 35436) and
/// a support-only account, and a fake vendor that knows the ticket.
async fn env() -> Env {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let (crm_env, desk_env) = (format!("COCKPIT_TEST_PUSH_CRM_{n}"), format!("COCKPIT_TEST_PUSH_DESK_{n}"));
    std::env::set_var(&crm_env, "pat-push-secret");
    std::env::set_var(&desk_env, "desk-push-secret");
    let clock = Arc::new(Mutex::new(t0()));
    let mut w = Writes {
        bearer: "Bearer pat-push-secret".into(),
        basic: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-push-secret")),
        clock: Some(clock.clone()),
        ..Writes::default()
    };
    w.tickets
        .insert(TICKET, fake::writes::Ticket { status: "open".into(), updated_at: seen_stamp(), comments: vec![] });
    let vendors: SharedWrites = Arc::new(Mutex::new(w));
    let url = fake::writes::start(vendors.clone()).await;
    let raw = |name: &str, kind, env: &str, email: Option<&str>| RawSource {
        metrics: Default::default(),
        name: Some(name.into()),
        kind,
        base_url: Some(url.clone()),
        token_env: Some(env.into()),
        email: email.map(str::to_string),
        properties: BTreeMap::new(),
        requests_per_minute: None,
        exports_per_minute: None,
    };
    let sources = vec![
        raw("crm", Kind::Hubspot, &crm_env, None).validate().unwrap(),
        raw("desk", Kind::Zendesk, &desk_env, Some("agent@acme.com")).validate().unwrap(),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    accounts(&store, "crm", &[("4242".into(), account(ACME, "Acme"))]);
    accounts(&store, "desk", &[("org/7".into(), account(DESK_ONLY, "Umbrella"))]);
    cockpit::engine::ingest::tickets(
        &store,
        &cockpit::engine::ingest::Page { source: "desk", records: &[(ticket(), None)], removed: &[], cursor: None },
        None,
    )
    .unwrap();
    Env { vendors, sources, crm_env, clock, policy: quick(), _tmp: tmp, store }
}

impl Env {
    /// A follow-up on an account (and its ticket), stored in the queue.
    fn item(&self, id: u64, account: AccountId, ticket: Option<u64>) -> FollowUp {
        let f = FollowUp {
            ticket_id: ticket,
            kind: if ticket.is_some() { FollowUpKind::TicketNoReply } else { FollowUpKind::CheckIn },
            ..fixtures::follow_up(id, account, "No reply for 2 days to 'Export fails'", t0())
        };
        let mut b = Batch::default();
        b.put_follow_up(&f, None);
        self.store.apply(b).unwrap();
        f
    }

    fn act(&self, item: &FollowUp, action: FollowUpAction) {
        let r = cockpit::engine::act::apply(
            &self.store,
            std::slice::from_ref(item),
            &action,
            &cockpit::engine::act::Author::new("tester", t0()),
        )
        .unwrap();
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    }

    async fn push(&self) -> PushReport {
        let c = self.clock.clone();
        let clock = move || *c.lock().unwrap();
        push::push(&self.store, &self.sources, &clock, &self.policy).await.unwrap()
    }

    fn later(&self, by: chrono::Duration) {
        *self.clock.lock().unwrap() += by;
    }

    /// Sets the clock to `t0() + by`.
    fn at(&self, by: chrono::Duration) {
        *self.clock.lock().unwrap() = t0() + by;
    }

    /// Live (not archived) notes at HubSpot carrying the entry's marker.
    fn live_notes(&self, e: &OutboxEntry) -> Vec<u64> {
        self.vendors.lock().unwrap().live("notes", &e.marker()).into_iter().map(|(id, _)| id).collect()
    }

    fn entries(&self) -> Vec<OutboxEntry> {
        self.store.outbox().unwrap()
    }

    fn only(&self) -> OutboxEntry {
        let mut all = self.entries();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn requests(&self, route: &str) -> Vec<fake::writes::Req> {
        self.vendors.lock().unwrap().requests(route)
    }

    fn notes(&self) -> usize {
        self.vendors.lock().unwrap().objects.get("notes").map_or(0, Vec::len)
    }

    fn comments(&self) -> Vec<Value> {
        self.vendors.lock().unwrap().tickets[&TICKET].comments.clone()
    }
}

fn sent_remote(e: &OutboxEntry) -> &str {
    match (&e.state, e.state.is_pushable()) {
        (s, false) if s.landed() => s.remote().unwrap(),
        (other, _) => panic!("entry {} is {other:?}, not sent", e.id),
    }
}

/// What a settled entry says happened.
fn note_of(e: &OutboxEntry) -> &str {
    match &e.state {
        OutboxState::Settled { note, .. } => note,
        other => panic!("entry {} is {other:?}, not settled", e.id),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_tasks_and_ticket_writes_go_out_as_documented() {
    let e = env().await;
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Renewal budget approved.".into() });
    let bug = e.item(2, ACME, Some(TICKET));
    e.act(&bug, FollowUpAction::Escalate { to: EscalateTo::Engineering, body: "Steps: export 10k rows".into() });
    let entries = e.entries();
    assert_eq!(entries.len(), 3, "a note, then the ticket comment and the task");

    let report = e.push().await;
    assert_eq!(report.count(|o| matches!(o, Outcome::Sent(_))), 3, "{report:?}");

    let note = &e.requests("POST /crm/v3/objects/notes")[0];
    assert_eq!(note.auth.as_deref(), Some("Bearer pat-push-secret"));
    assert_eq!(note.content_type.as_deref(), Some("application/json"));
    let p = &note.body["properties"];
    assert_eq!(p["hs_note_body"], format!("Renewal budget approved.\n\n{}", entries[0].marker()));
    assert_eq!(p["hs_timestamp"], "2026-11-26T09:00:00.000Z");
    assert_eq!(
        note.body["associations"],
        json!([{"to": {"id": "4242"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}]}])
    );

    let put = &e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json"))[0];
    assert_eq!(put.auth.as_deref().map(|a| a.starts_with("Basic ")), Some(true));
    assert_eq!(put.content_type.as_deref(), Some("application/json"));
    let t = &put.body["ticket"];
    assert_eq!(t["safe_update"], true);
    assert_eq!(t["updated_stamp"], "2026-11-24T10:00:00Z");
    assert_eq!(t["comment"]["public"], false, "an escalation is an internal comment");
    assert!(t.get("status").is_none(), "an escalation leaves the status alone");
    let body = t["comment"]["body"].as_str().unwrap();
    assert!(body.starts_with("Escalated to engineering.\n\nSteps: export 10k rows\n\n[cockpit ref ck"), "{body}");
    assert!(body.ends_with(&entries[1].marker()));

    let task = &e.requests("POST /crm/v3/objects/tasks")[0];
    let p = &task.body["properties"];
    assert_eq!(p["hs_task_subject"], "Bug for engineering: #35436 Export fails");
    assert_eq!(p["hs_task_status"], "NOT_STARTED");
    assert!(p["hs_task_body"].as_str().unwrap().ends_with(&entries[2].marker()));
    assert_eq!(task.body["associations"][0]["types"][0]["associationTypeId"], 192);

    // Each entry records what it made; a fresh entry is sent without a search first.
    let after = e.entries();
    assert_eq!(sent_remote(&after[0]), "501");
    assert_eq!(sent_remote(&after[1]), e.comments()[0]["id"].to_string());
    assert_eq!(sent_remote(&after[2]), "503");
    assert!(e.requests("POST /crm/v3/objects/notes/search").is_empty());
    // Nothing is pushed twice.
    let again = e.push().await;
    assert!(again.outcomes.is_empty(), "{again:?}");
    assert_eq!(e.vendors.lock().unwrap().log.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_reaches_hubspot_due_when_the_csm_said_with_its_priority() {
    let e = env().await;
    let due = t0() + chrono::Duration::days(4) + chrono::Duration::hours(1);
    let task = FollowUpAction::Task {
        subject: "Send the QBR deck".into(),
        due,
        priority: Priority::Low,
        write_back: true,
        zone: chrono_tz::Europe::Paris,
    };
    // On the account, with no queue item at hand.
    e.act(&followup_action::account_only(ACME, t0()), task);
    let entry = e.only();
    let report = e.push().await;
    assert_eq!(report.count(|o| matches!(o, Outcome::Sent(_))), 1, "{report:?}");
    let sent = &e.requests("POST /crm/v3/objects/tasks")[0];
    let p = &sent.body["properties"];
    assert_eq!(p["hs_timestamp"], "2026-11-30T10:00:00.000Z", "the due moment, not when it was made");
    assert_eq!(p["hs_task_subject"], "Send the QBR deck");
    assert_eq!(p["hs_task_priority"], "LOW");
    assert_eq!(p["hs_task_status"], "NOT_STARTED");
    assert_eq!(p["hs_task_body"], format!("Send the QBR deck\n\n{}", entry.marker()));
    assert_eq!(
        sent.body["associations"],
        json!([{"to": {"id": "4242"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}]}])
    );
    assert_eq!(sent_remote(&e.only()), "501");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_whose_answer_was_lost_is_found_by_its_marker_not_made_twice() {
    let e = env().await;
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Called Ana.".into() });
    e.vendors.lock().unwrap().fault("POST /crm/v3/objects/notes", Fault::ApplyThenDrop);

    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Retrying(m) if m.contains("checked at HubSpot")), "{r:?}");
    let entry = e.only();
    assert_eq!(entry.state, OutboxState::Unsure { since: t0() });
    assert_eq!(entry.next_attempt, t0() + chrono::Duration::seconds(30), "backs off");
    assert_eq!(e.notes(), 1, "the note landed though no answer came");

    assert!(e.push().await.outcomes.is_empty(), "not due yet");
    e.later(chrono::Duration::minutes(1));
    let r = e.push().await;
    assert_eq!(r.outcomes, vec![(entry.id, Outcome::AlreadyThere("501".into()))]);
    assert_eq!(sent_remote(&e.only()), "501");
    assert_eq!(e.notes(), 1, "no second note");
    assert_eq!(e.requests("POST /crm/v3/objects/notes").len(), 1, "exactly one create");
    let search = &e.requests("POST /crm/v3/objects/notes/search")[0].body;
    assert_eq!(search["filterGroups"][0]["filters"][0]["value"], entry.key.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_reply_whose_answer_timed_out_is_found_in_the_comments() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Hi Ana, fixed.".into() });
    let route = format!("PUT /api/v2/tickets/{TICKET}.json");
    e.vendors.lock().unwrap().fault(&route, Fault::ApplyThenSleep(Duration::from_millis(1500)));

    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Retrying(m) if m.contains("no answer within")), "{r:?}");
    assert!(matches!(e.only().state, OutboxState::Unsure { .. }));
    e.later(chrono::Duration::minutes(5));
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::AlreadyThere(_)), "{r:?}");
    assert_eq!(e.requests(&route).len(), 1, "exactly one update");
    assert_eq!(e.comments().len(), 1, "one comment");
    assert_eq!(e.requests(&format!("GET /api/v2/tickets/{TICKET}/comments.json")).len(), 1);
    assert_eq!(sent_remote(&e.only()), e.comments()[0]["id"].to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_between_claim_and_answer_the_marker_is_checked_first() {
    let e = env().await;
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Landed before the crash.".into() });
    let landed = e.entries()[0].clone();
    // The request left and landed, then the cockpit died: Unsure on disk.
    assert!(e.store.outbox_claim(landed.id, t0()).unwrap().is_some());
    let props = json!({"hs_note_body": landed.body_with_marker()});
    e.vendors.lock().unwrap().objects.entry("notes".into()).or_default().push((777, props));

    let r = e.push().await;
    assert_eq!(r.outcomes[0], (landed.id, Outcome::AlreadyThere("777".into())));
    assert!(e.requests("POST /crm/v3/objects/notes").is_empty(), "never sent again");

    // One that never left is searched for, then sent once.
    let e = env().await;
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Lost in the crash.".into() });
    let lost = e.only();
    e.store.outbox_claim(lost.id, t0()).unwrap();
    let log_before = e.vendors.lock().unwrap().log.len();
    let r = e.push().await;
    assert_eq!(r.outcomes, vec![(lost.id, Outcome::Sent("501".into()))]);
    let routes: Vec<String> =
        e.vendors.lock().unwrap().log[log_before..].iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(routes, ["POST /crm/v3/objects/notes/search", "POST /crm/v3/objects/notes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_create_is_looked_for_on_its_schedule_before_any_resend() {
    let mut e = env().await;
    e.policy.checks = minutes(&[1, 5]);
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Maybe not indexed yet.".into() });
    let id = e.only().id;
    e.store.outbox_claim(id, t0()).unwrap();
    let r = e.push().await;
    assert_eq!(r.outcomes, vec![(id, Outcome::Checking)]);
    assert!(e.requests("POST /crm/v3/objects/notes").is_empty(), "not resent while the index may lag");
    assert_eq!(e.only().next_attempt, t0() + chrono::Duration::minutes(1));
    assert_eq!(e.only().state, OutboxState::Unsure { since: t0() }, "checked from the moment the request left");
    e.at(chrono::Duration::minutes(1));
    assert_eq!(e.push().await.outcomes, vec![(id, Outcome::Checking)]);
    assert_eq!(e.only().next_attempt, t0() + chrono::Duration::minutes(5));
    e.at(chrono::Duration::minutes(5));
    assert_eq!(e.push().await.outcomes, vec![(id, Outcome::Sent("501".into()))], "the last check found nothing");
    assert_eq!(e.notes(), 1);
    assert_eq!(e.requests("POST /crm/v3/objects/notes/search").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_is_surfaced_then_a_retry_with_a_fresh_stamp_lands() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::CloseTicket { body: "Fixed in 4.2.".into() });
    // Someone answered the customer at the desk meanwhile.
    let changed = {
        let mut w = e.vendors.lock().unwrap();
        let at = w.tick();
        w.tickets.get_mut(&TICKET).unwrap().updated_at = at;
        at
    };
    let r = e.push().await;
    let Outcome::Conflict(detail) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(detail.contains("ticket #35436 changed at Zendesk since you last saw it"), "{detail}");
    assert!(detail.contains("nothing was overwritten"), "{detail}");
    assert!(detail.contains("cockpit outbox retry"), "{detail}");
    let entry = e.only();
    assert!(matches!(entry.state, OutboxState::Conflict { .. }));
    assert!(e.comments().is_empty(), "nothing was written");
    assert!(e.push().await.outcomes.is_empty(), "a conflict waits for the CSM");

    let fresh = push::fresh_stamp(&e.sources, &e.policy, TICKET).await.unwrap();
    assert_eq!(fresh, Some(changed));
    e.store.outbox_retry(entry.id, t0(), fresh).unwrap();
    let r = e.push().await;
    assert!(matches!(r.outcomes[0].1, Outcome::Sent(_)), "{r:?}");
    let puts = e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json"));
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[1].body["ticket"]["updated_stamp"], "2026-11-26T09:00:01Z");
    assert_eq!(puts[1].body["ticket"]["status"], "solved");
    assert_eq!(e.vendors.lock().unwrap().tickets[&TICKET].status, "solved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_fail_the_entry_and_name_the_variable() {
    let e = env().await;
    e.vendors.lock().unwrap().bearer = "Bearer another-token".into();
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "x".into() });
    let r = e.push().await;
    let Outcome::Failed(reason) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(reason.contains("HubSpot refused the credentials (HTTP 401)"), "{reason}");
    assert!(reason.contains(&e.crm_env), "names the variable: {reason}");
    assert!(!reason.contains("pat-push-secret"), "never the secret");
    let entry = e.only();
    assert!(matches!(entry.state, OutboxState::Failed { .. }), "kept for the CSM");
    assert_eq!(entry.write.body(), "x");
    assert!(e.push().await.outcomes.is_empty(), "not retried on its own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_back_off_then_give_up_and_nothing_is_lost() {
    let e = env().await;
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Keep me.".into() });
    {
        let mut w = e.vendors.lock().unwrap();
        for _ in 0..3 {
            w.fault("POST /crm/v3/objects/notes", Fault::Status(503, json!({"message": "down"})));
        }
    }
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Retrying(m) if m.contains("HTTP 503")), "{r:?}");
    let entry = e.only();
    assert_eq!((entry.state.clone(), entry.attempts), (OutboxState::Pending, 1));
    assert_eq!(entry.next_attempt, t0() + chrono::Duration::seconds(30));
    assert!(entry.last_error.as_deref().unwrap().contains("HTTP 503"));

    assert!(e.push().await.outcomes.is_empty(), "waits for its backoff");
    e.later(chrono::Duration::seconds(30));
    assert!(matches!(e.push().await.outcomes[0].1, Outcome::Retrying(_)));
    assert_eq!(e.only().next_attempt, t0() + chrono::Duration::seconds(90), "the backoff doubles");
    e.later(chrono::Duration::seconds(60));
    let r = e.push().await;
    let Outcome::Failed(reason) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(reason.contains("gave up after 3 attempts") && reason.contains("HTTP 503"), "{reason}");
    assert_eq!(e.only().write.body(), "Keep me.", "nothing lost");
    assert_eq!(e.notes(), 0);

    // The CSM retries once HubSpot is back: one note.
    e.store.outbox_retry(e.only().id, *e.clock.lock().unwrap(), None).unwrap();
    assert!(matches!(e.push().await.outcomes[0].1, Outcome::Sent(_)));
    assert_eq!(e.notes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_then_close_on_one_ticket_does_not_conflict_with_itself() {
    let e = env().await;
    let item = e.item(1, ACME, Some(TICKET));
    e.act(&item, FollowUpAction::Reply { body: "Here is the fix.".into() });
    e.act(&item, FollowUpAction::CloseTicket { body: "Solved by the fix.".into() });
    let r = e.push().await;
    assert_eq!(r.count(|o| matches!(o, Outcome::Sent(_))), 2, "{r:?}");
    let puts = e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json"));
    assert_eq!(puts[0].body["ticket"]["updated_stamp"], "2026-11-24T10:00:00Z");
    assert_eq!(puts[0].body["ticket"]["status"], "pending");
    assert_eq!(puts[0].body["ticket"]["comment"]["public"], true);
    // The second carries the stamp the first one's answer returned.
    assert_eq!(puts[1].body["ticket"]["updated_stamp"], "2026-11-26T09:00:01Z");
    assert_eq!(puts[1].body["ticket"]["status"], "solved");
    assert_eq!(puts[1].body["ticket"]["comment"]["public"], false);
    // The local ticket follows, so the next action starts from the new stamp.
    let local = e.store.tickets(ACME).unwrap().into_iter().find(|t| t.id == TICKET).unwrap();
    assert_eq!(local.updated_at, Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 2).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinked_accounts_fail_missing_sources_wait_and_offline_retries() {
    let mut e = env().await;
    e.act(&e.item(1, DESK_ONLY, None), FollowUpAction::Note { body: "Support-only account.".into() });
    e.act(&e.item(2, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Hi".into() });
    e.sources.retain(|s| s.kind == Kind::Hubspot);
    let r = e.push().await;
    let Outcome::Failed(reason) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(reason.contains("not linked to a HubSpot company"), "{reason}");
    assert!(matches!(&r.outcomes[1].1, Outcome::Waiting(w) if w.contains("no Zendesk source")), "{r:?}");
    let entries = e.entries();
    assert_eq!(entries[1].state, OutboxState::Pending, "untouched without a source");
    assert_eq!(entries[1].attempts, 0);

    // Offline: nothing left, so it is simply pending again.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut offline = e.sources[0].clone();
    offline.base_url = url.parse().unwrap();
    offline.kind = Kind::Zendesk;
    offline.auth = cockpit::sync::source::Auth::Bearer { token_env: e.crm_env.clone() };
    e.sources = vec![offline];
    let r = e.push().await;
    let Outcome::Retrying(m) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(m.contains("you may be offline"), "{m}");
    assert_eq!(e.entries()[1].state, OutboxState::Pending, "never sent, so not unsure");
    assert!(matches!(e.entries()[1].write, Write::Ticket { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_move_reaches_the_company_and_holds_against_a_sync_until_then() {
    let e = env().await;
    cockpit::engine::act::set_stage(
        &e.store,
        ACME,
        Stage::Expansion,
        &cockpit::engine::act::Author::new("tester", t0()),
    )
    .unwrap();
    // A sync before the push brings HubSpot's old stage: the move holds.
    let stale = account(ACME, "Acme");
    assert_ne!(stale.stage, Stage::Expansion);
    accounts(&e.store, "crm", &[("4242".into(), stale.clone())]);
    assert_eq!(e.store.account(ACME).unwrap().unwrap().stage, Stage::Expansion, "not undone by the sync");

    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Sent(id) if id == "4242"), "{r:?}");
    let patch = &e.requests("PATCH /crm/v3/objects/companies/4242")[0];
    assert_eq!(patch.body, serde_json::json!({"properties": {"cs_stage": "expansion"}}));
    assert_eq!(patch.auth.as_deref(), Some("Bearer pat-push-secret"));
    // Once there, HubSpot is the truth again.
    accounts(&e.store, "crm", &[("4242".into(), stale.clone())]);
    assert_eq!(e.store.account(ACME).unwrap().unwrap().stage, stale.stage);

    // A lost answer is simply sent again: setting a property twice is harmless.
    cockpit::engine::act::set_stage(
        &e.store,
        ACME,
        Stage::RenewalPrep,
        &cockpit::engine::act::Author::new("tester", t0()),
    )
    .unwrap();
    e.vendors.lock().unwrap().fault("PATCH /crm/v3/objects/companies/4242", fake::writes::Fault::ApplyThenDrop);
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Retrying(_)), "{r:?}");
    e.later(chrono::Duration::minutes(5));
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Sent(_)), "{r:?}");
    assert_eq!(e.requests("PATCH /crm/v3/objects/companies/4242").len(), 3);
    assert!(e.requests("POST /crm/v3/objects/notes/search").is_empty(), "no marker to look for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landed_note_is_not_shown_twice_after_the_next_sync() {
    let e = env().await;
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Spoke to Ana.\nRenewal on track.".into() });
    let r = e.push().await;
    let Outcome::Sent(remote) = &r.outcomes[0].1 else { panic!("{r:?}") };
    let notes = |s: &Store| s.activities(ACME).unwrap().into_iter().filter(|a| a.summary == "Spoke to Ana.").count();
    assert_eq!(notes(&e.store), 1);
    // The sync brings the note back as HubSpot has it: it replaces ours.
    let rec = serde_json::json!({"id": remote, "properties": {
        "hs_timestamp": t0().to_rfc3339(), "hs_note_body": e.only().body_with_marker(), "hubspot_owner_id": "12"}});
    let synced = cockpit::sync::hubspot::activity(cockpit::sync::hubspot::Object::Notes, &rec, ACME).unwrap();
    cockpit::engine::ingest::children(
        &e.store,
        &cockpit::engine::ingest::Page { source: "crm", records: &[synced], removed: &[], cursor: None },
    )
    .unwrap();
    assert_eq!(notes(&e.store), 1, "{:?}", e.store.activities(ACME).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_hubspot_applies_seventy_seconds_after_the_client_gave_up_is_made_once() {
    let mut e = env().await;
    e.policy = shipped();
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Renewal call went well.".into() });
    // HubSpot holds the create and applies it 70 s after it arrived.
    e.vendors
        .lock()
        .unwrap()
        .fault("POST /crm/v3/objects/notes", Fault::Hold(Lands::After(chrono::Duration::seconds(70))));

    let r = e.push().await;
    assert!(
        matches!(&r.outcomes[0].1, Outcome::Retrying(m) if m.contains("checked at HubSpot before any resend")),
        "{r:?}"
    );
    let entry = e.only();
    assert_eq!(entry.state, OutboxState::Unsure { since: t0() });
    assert_eq!(entry.next_attempt, t0() + chrono::Duration::minutes(1), "first looked for after a minute");
    assert!(e.live_notes(&entry).is_empty(), "not applied yet");

    // The cockpit pushes every 30 s; the entry is due at +1 min, +5 min, ...
    for step in 1..=40 {
        e.at(chrono::Duration::seconds(30 * step));
        e.push().await;
    }
    e.vendors.lock().unwrap().land_due();
    assert_eq!(e.live_notes(&entry), [501], "exactly one note at HubSpot");
    assert_eq!(e.requests("POST /crm/v3/objects/notes").len(), 1, "never sent again");
    let searches = e.requests("POST /crm/v3/objects/notes/search");
    assert_eq!(searches.len(), 2, "looked for at +1 min (not there yet) and +5 min (found)");
    let done = e.only();
    assert_eq!(sent_remote(&done), "501");
    assert_eq!(
        note_of(&done),
        "no answer came when it was sent at 2026-11-26 09:00:00 UTC; found at HubSpot by its marker at 2026-11-26 09:05:00 UTC, not sent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_request_applied_after_the_resend_is_archived_and_the_earliest_copy_kept() {
    let mut e = env().await;
    e.policy = shipped();
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Budget approved.".into() });
    // Held until the test lets HubSpot apply it: after the resend.
    e.vendors.lock().unwrap().fault("POST /crm/v3/objects/notes", Fault::Hold(Lands::Manual));
    e.push().await;
    let id = e.only().id;
    for m in [1, 5, 15] {
        e.at(chrono::Duration::minutes(m));
        assert_eq!(e.push().await.outcomes, vec![(id, Outcome::Checking)], "at +{m} min");
    }
    assert!(e.requests("POST /crm/v3/objects/notes").len() == 1, "no resend before the last check");
    e.at(chrono::Duration::minutes(60));
    assert_eq!(e.push().await.outcomes, vec![(id, Outcome::Sent("501".into()))], "the last check found nothing");
    let resent = t0() + chrono::Duration::minutes(60);
    let entry = e.only();
    assert_eq!(entry.state.label(), "watching", "{:?}", entry.state);
    assert_eq!(entry.next_attempt, resent + chrono::Duration::minutes(1));

    // HubSpot now applies the first request as well: a second copy.
    e.vendors.lock().unwrap().release();
    assert_eq!(e.live_notes(&entry), [501, 502]);
    // A later entry is not held up by the watch.
    e.act(&e.item(2, ACME, None), FollowUpAction::Note { body: "Second note.".into() });
    e.at(chrono::Duration::minutes(61));
    let r = e.push().await;
    let Outcome::Archived(said) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(said.contains("a late copy 502 made by an earlier request was archived"), "{said}");
    assert_eq!(r.outcomes[1].1, Outcome::Sent("503".into()), "the next entry went out in the same push");
    let archive = e.requests("DELETE /crm/v3/objects/notes/502");
    assert_eq!(archive.len(), 1);
    assert_eq!(archive[0].auth.as_deref(), Some("Bearer pat-push-secret"));
    assert_eq!(e.live_notes(&entry), [501], "the earliest copy is kept, not archived");

    // Watched until a day after the resend, then settled with the story.
    for m in [65, 75, 120, 300, 24 * 60 + 60] {
        e.at(chrono::Duration::minutes(m));
        e.push().await;
    }
    let done = e.store.outbox_entry(id).unwrap().unwrap();
    assert_eq!(sent_remote(&done), "501");
    assert_eq!(
        note_of(&done),
        "sent again at 2026-11-26 10:00:00 UTC after its checks found nothing; a late copy 502 made by an earlier request was archived at 2026-11-26 10:01:00 UTC (HubSpot's recycling bin); 501 is kept; watched for late copies until 2026-11-27 10:00:00 UTC"
    );
    let looks = e.requests("POST /crm/v3/objects/notes/search").len();
    e.at(chrono::Duration::days(3));
    assert!(e.push().await.outcomes.is_empty(), "the watch has ended");
    assert_eq!(e.requests("POST /crm/v3/objects/notes/search").len(), looks);
    assert_eq!(e.live_notes(&entry), [501]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_is_on_disk_before_it_leaves_and_survives_a_crash_and_a_lost_answer() {
    let mut e = env().await;
    e.policy = shipped();
    e.policy.checks = vec![];
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "Kick-off booked.".into() });
    e.vendors.lock().unwrap().fault("POST /crm/v3/objects/notes", Fault::Hold(Lands::Manual));
    e.push().await;
    e.at(chrono::Duration::minutes(1));
    assert_eq!(e.push().await.outcomes[0].1, Outcome::Sent("501".into()), "resent");
    e.vendors.lock().unwrap().release();
    let entry = e.only();
    let delete = "DELETE /crm/v3/objects/notes/502";

    // The cockpit dies while the archive request is out.
    e.vendors.lock().unwrap().fault(delete, Fault::Hold(Lands::Manual));
    e.at(chrono::Duration::minutes(2));
    {
        let push = e.push();
        tokio::pin!(push);
        while e.requests(delete).is_empty() {
            tokio::select! {
                r = &mut push => panic!("the push should be waiting on the archive: {r:?}"),
                _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    }
    let OutboxState::Watching { kept, archived, .. } = e.only().state else { panic!("{:?}", e.only().state) };
    assert_eq!(kept.map(|k| k.1).as_deref(), Some("501"), "the kept copy is on disk");
    assert_eq!(archived, [("502".to_string(), t0() + chrono::Duration::minutes(2))], "listed before it left");
    assert_eq!(e.live_notes(&entry), [501, 502], "the archive never arrived");

    // After the restart it is archived; then an archive whose answer is lost.
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Archived(_)), "{r:?}");
    assert_eq!(e.live_notes(&entry), [501]);
    e.vendors
        .lock()
        .unwrap()
        .objects
        .get_mut("notes")
        .unwrap()
        .push((777, json!({"hs_note_body": entry.body_with_marker()})));
    e.vendors.lock().unwrap().fault("DELETE /crm/v3/objects/notes/777", Fault::ApplyThenDrop);
    assert_eq!(e.only().next_attempt, t0() + chrono::Duration::minutes(6), "the next look, 5 min after the resend");
    e.at(chrono::Duration::minutes(6));
    let r = e.push().await;
    assert!(
        matches!(&r.outcomes[0].1, Outcome::Retrying(m) if m.contains("could not archive the late copy 777")),
        "{r:?}"
    );
    assert_eq!(e.live_notes(&entry), [501], "archived though no answer came");
    let due = e.only().next_attempt;
    e.clock.lock().unwrap().clone_from(&due);
    assert_eq!(e.push().await.outcomes[0].1, Outcome::Watched, "777 is gone from the search");
    assert_eq!(e.requests(delete).len(), 2);
    assert_eq!(e.requests("DELETE /crm/v3/objects/notes/501").len(), 0, "the kept copy is never archived");
    let OutboxState::Watching { archived, .. } = e.only().state else { panic!() };
    assert_eq!(archived.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["502", "777"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_a_resend_leaves_it_watched_and_both_copies_are_reconciled() {
    let mut e = env().await;
    e.policy = shipped();
    e.policy.checks = vec![];
    e.act(&e.item(1, ACME, None), FollowUpAction::Note { body: "QBR moved.".into() });
    let route = "POST /crm/v3/objects/notes";
    e.vendors.lock().unwrap().fault(route, Fault::Hold(Lands::Manual));
    e.push().await;
    // The resend is out when the cockpit dies.
    e.vendors.lock().unwrap().fault(route, Fault::Hold(Lands::Manual));
    e.at(chrono::Duration::minutes(1));
    {
        let push = e.push();
        tokio::pin!(push);
        while e.requests(route).len() < 2 {
            tokio::select! {
                r = &mut push => panic!("the push should be waiting on the resend: {r:?}"),
                _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    }
    let resent = t0() + chrono::Duration::minutes(1);
    let on_disk = e.only();
    assert_eq!(on_disk.state, OutboxState::Watching { since: resent, kept: None, archived: vec![] });
    assert_eq!(on_disk.state.label(), "checking");
    // HubSpot applies both, late.
    e.vendors.lock().unwrap().release();
    assert_eq!(e.live_notes(&on_disk), [501, 502]);
    e.at(chrono::Duration::minutes(2));
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Archived(m) if m.contains("a late copy 502")), "{r:?}");
    assert_eq!(e.live_notes(&on_disk), [501]);
    assert_eq!(e.requests(route).len(), 2, "nothing sent a third time");
    assert_eq!(e.only().state.remote(), Some("501"));
    assert_eq!(e.only().state.label(), "watching");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_tasks_answered_after_seventy_seconds_are_each_made_once() {
    let mut e = env().await;
    e.policy = shipped();
    let route = "POST /crm/v3/objects/tasks";
    e.vendors.lock().unwrap().fault_every(route, Fault::Hold(Lands::After(chrono::Duration::seconds(70))));
    for i in 0..11 {
        let item = e.item(100 + i, ACME, None);
        e.act(&item, FollowUpAction::Escalate { to: EscalateTo::Manager, body: format!("Escalation {i}") });
    }
    let entries = e.entries();
    assert_eq!(entries.len(), 11);
    // The cockpit's 30 s timer, for two hours.
    for step in 0..=240 {
        e.at(chrono::Duration::seconds(30 * step));
        e.push().await;
    }
    let mut w = e.vendors.lock().unwrap();
    w.land_due();
    for entry in &entries {
        let copies = w.live("tasks", &entry.marker());
        assert_eq!(copies.len(), 1, "task {} exists {} times: {copies:?}", entry.id, copies.len());
    }
    assert_eq!(w.objects["tasks"].len(), 11, "0 duplicates, archived or not");
    assert_eq!(w.requests(route).len(), 11, "none was sent twice");
    drop(w);
    assert!(e.entries().iter().all(|x| x.state.landed() && !x.state.is_pushable()), "{:?}", e.entries());
}

/// `n` comments by the customer, `first` seconds after `base`, one a second.
fn chatter(n: usize, base: DateTime<Utc>, id_from: u64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let at = base + chrono::Duration::seconds(i as i64);
            json!({"id": id_from + i as u64, "type": "Comment", "body": format!("Any news? ({i})"),
                "plain_body": format!("Any news? ({i})"), "public": true,
                "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)})
        })
        .collect()
}

/// A busy ticket: 560 older comments, then `ours` (made at t0 + 1 s), then
/// 650 newer ones, so newest first it is on page 7 and oldest first on page
/// 6, past the five pages the old check read.
fn busy_ticket(e: &Env, ours: &OutboxEntry) -> (u64, DateTime<Utc>) {
    let mut w = e.vendors.lock().unwrap();
    let older = chatter(560, t0() - chrono::Duration::days(6), 100_000);
    let ours_at = t0() + chrono::Duration::seconds(1);
    let mine = json!({"id": 7777, "type": "Comment", "body": ours.body_with_marker(), "plain_body": ours.body_with_marker(),
        "public": true, "created_at": ours_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
    let newer = chatter(650, t0() + chrono::Duration::seconds(2), 200_000);
    let last = t0() + chrono::Duration::seconds(651);
    let t = w.tickets.get_mut(&TICKET).unwrap();
    t.comments = older.into_iter().chain([mine]).chain(newer).collect();
    t.updated_at = last;
    assert!(t.comments.len() > 500);
    (7777, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comment_check_reads_newest_first_and_finds_a_marker_on_page_seven() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Hi Ana, fixed.".into() });
    let entry = e.only();
    // The request left and landed, then the answer was lost (or we crashed).
    e.store.outbox_claim(entry.id, t0()).unwrap();
    let (mine, _) = busy_ticket(&e, &entry);

    let r = e.push().await;
    assert_eq!(r.outcomes, vec![(entry.id, Outcome::AlreadyThere(mine.to_string()))]);
    let pages = e.requests(&format!("GET /api/v2/tickets/{TICKET}/comments.json"));
    assert_eq!(pages.len(), 7, "found on the 7th page newest first, and the 7th reaches older comments");
    for p in &pages {
        assert!(p.path.contains("sort=-created_at") && p.path.contains("page%5Bsize%5D=100"), "{}", p.path);
        assert!(!p.path.contains("sort_order"), "sort_order belongs to offset pagination: {}", p.path);
    }
    assert!(pages[6].path.contains("page%5Bafter%5D="), "paged on by cursor");
    assert!(e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json")).is_empty(), "not sent again");
    assert_eq!(e.comments().iter().filter(|c| c["body"].as_str().unwrap().contains(&entry.marker())).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_over_a_conflict_on_a_busy_ticket_finds_the_comment_already_there() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Here is the fix.".into() });
    let mut entry = e.only();
    // Our first request landed late; the resend met 409 and the CSM was
    // shown a conflict. The CSM retries over "the change" (our own comment).
    let (mine, stamp) = busy_ticket(&e, &entry);
    entry.attempts = 2;
    entry.state = OutboxState::Conflict { detail: "ticket #35436 changed at Zendesk since you last saw it".into() };
    entry.last_error = Some("ticket #35436 changed at Zendesk since you last saw it".into());
    e.store.outbox_put(&entry).unwrap();
    let fresh = push::fresh_stamp(&e.sources, &e.policy, TICKET).await.unwrap();
    assert_eq!(fresh, Some(stamp));
    e.store.outbox_retry(entry.id, t0(), fresh).unwrap();

    let r = e.push().await;
    assert_eq!(r.outcomes, vec![(entry.id, Outcome::AlreadyThere(mine.to_string()))]);
    assert!(e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json")).is_empty(), "the retry sent nothing");
    assert_eq!(e.comments().iter().filter(|c| c["body"].as_str().unwrap().contains(&entry.marker())).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_cursor_that_repeats_fails_the_check_and_sends_nothing() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Hi".into() });
    let entry = e.only();
    e.store.outbox_claim(entry.id, t0()).unwrap();
    {
        let mut w = e.vendors.lock().unwrap();
        w.tickets.get_mut(&TICKET).unwrap().comments = chatter(250, t0() - chrono::Duration::days(1), 1);
        w.repeat_cursor = true;
    }
    let r = e.push().await;
    let Outcome::Retrying(m) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(m.contains("could not check whether it already reached Zendesk"), "{m}");
    assert!(m.contains("gave the same page of ticket #35436's comments twice"), "{m}");
    assert!(e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json")).is_empty(), "never taken for 'not there'");
    assert_eq!(e.requests(&format!("GET /api/v2/tickets/{TICKET}/comments.json")).len(), 2);
    assert!(matches!(e.only().state, OutboxState::Unsure { .. }), "still checking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_resend_refused_because_its_first_request_landed_late_is_sent_not_a_conflict() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Hi Ana, fixed.".into() });
    let route = format!("PUT /api/v2/tickets/{TICKET}.json");
    // Zendesk applies the first request only just before the resend arrives.
    e.vendors.lock().unwrap().fault(&route, Fault::Hold(Lands::BeforeNext(route.clone())));
    let r = e.push().await;
    assert!(matches!(&r.outcomes[0].1, Outcome::Retrying(m) if m.contains("no answer within")), "{r:?}");
    e.later(chrono::Duration::minutes(1));
    let r = e.push().await;
    let entry = e.only();
    assert_eq!(r.outcomes, vec![(entry.id, Outcome::AlreadyThere(e.comments()[0]["id"].to_string()))]);
    assert_eq!(e.requests(&route).len(), 2, "the resend met 409: the ticket had moved under our own comment");
    assert_eq!(e.comments().len(), 1, "one comment");
    assert!(note_of(&entry).starts_with("Zendesk refused the resend (HTTP 409) because an earlier request for it had landed; found on ticket #35436 by its marker"), "{}", note_of(&entry));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_found_twice_is_said_plainly_since_zendesk_cannot_delete_it() {
    let e = env().await;
    e.act(&e.item(1, ACME, Some(TICKET)), FollowUpAction::Reply { body: "Hi Ana".into() });
    let entry = e.only();
    e.store.outbox_claim(entry.id, t0()).unwrap();
    {
        let mut w = e.vendors.lock().unwrap();
        let body = entry.body_with_marker();
        let t = w.tickets.get_mut(&TICKET).unwrap();
        for (id, s) in [(41, 1), (42, 90)] {
            let at = (t0() + chrono::Duration::seconds(s)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            t.comments.push(json!({"id": id, "type": "Comment", "body": body, "plain_body": body, "public": true, "created_at": at}));
        }
    }
    let r = e.push().await;
    let Outcome::Duplicate(said) = &r.outcomes[0].1 else { panic!("{r:?}") };
    assert!(said.contains("the comment is on ticket #35436 2 times (comments 42, 41)"), "{said}");
    assert!(said.contains("Zendesk cannot delete comments"), "{said}");
    let done = e.only();
    assert_eq!(sent_remote(&done), "42");
    assert_eq!(note_of(&done), said);
    assert_eq!(r.summary().unwrap(), "1 landed twice (the outbox says where)");
    assert!(e.requests(&format!("PUT /api/v2/tickets/{TICKET}.json")).is_empty());
}
