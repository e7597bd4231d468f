//! HubSpot sync against a fake CRM on 127.0.0.1: what ends up in the store
//! after full and incremental runs, archived records, and every failure.

use crate::fake;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cockpit::domain::Stage;
use cockpit::store::Store;
use cockpit::sync::http::{RetryPolicy, SyncError};
use cockpit::sync::source::{Kind, RawSource, Source};
use cockpit::sync::{self, Options, SourceReport};
use fake::{Crm, Fault, Shared};

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct Env {
    crm: Shared,
    source: Source,
    _tmp: tempfile::TempDir,
    store: Store,
}

/// A fake CRM with `n` companies (ids 1..=n, modified at 1000 * id) and a
/// fresh workspace; the token lives in a variable of its own.
async fn env(n: u64) -> Env {
    let token_env = format!("COCKPIT_TEST_HUBSPOT_{}", NEXT.fetch_add(1, Ordering::SeqCst));
    std::env::set_var(&token_env, "pat-test-secret");
    let mut crm = Crm { token: "pat-test-secret".into(), ..Crm::default() };
    for id in 1..=n {
        crm.add(id, &format!("Company {id:04}"), 1000 * id, 1_700_000_000_000 + 1000 * id as i64);
    }
    let crm: Shared = Arc::new(Mutex::new(crm));
    let base = fake::start(crm.clone()).await;
    let source = RawSource {
        metrics: Default::default(),
        name: Some("crm".into()),
        kind: Kind::Hubspot,
        base_url: Some(base),
        token_env: Some(token_env),
        email: None,
        properties: BTreeMap::new(),
        requests_per_minute: None,
        exports_per_minute: None,
    }
    .validate()
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    Env { crm, source, _tmp: tmp, store }
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 6,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        timeout: Duration::from_millis(400),
        max_wait: Duration::from_secs(5),
    }
}

async fn sync(e: &Env, full: bool) -> SourceReport {
    let opts = Options { full, only: None, policy: Some(quick()) };
    sync::run(&e.store, std::slice::from_ref(&e.source), &opts, &|_| {}).await.unwrap().remove(0)
}

/// The cache as a comparable list: name -> (arr, stage, renewal).
fn snapshot(store: &Store) -> Vec<(String, u64, Stage, String)> {
    let mut v: Vec<_> = store
        .accounts()
        .map(|a| {
            let a = a.unwrap();
            (a.name, a.arr, a.stage, a.renewal_date.to_string())
        })
        .collect();
    v.sort();
    v
}

fn requests(e: &Env, what: &str) -> usize {
    e.crm.lock().unwrap().log.iter().filter(|l| l.starts_with(what)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_pages_through_everything() {
    let e = env(250).await;
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let companies = &r.objects[0];
    assert_eq!(companies.counts.added, 250);
    assert!(companies.skipped.is_empty());
    // A first read asks for the property history, which HubSpot serves 50 to a page.
    assert_eq!(requests(&e, "GET companies") - 1, 5, "five pages of 50 (plus one archived list)");
    assert_eq!(e.crm.lock().unwrap().history_pages, 5);
    assert!(e
        .crm
        .lock()
        .unwrap()
        .log
        .iter()
        .any(|l| l.contains("propertiesWithHistory") && l.contains("\"limit\": \"50\"")));
    assert_eq!(r.objects[1].object, "contacts");
    assert_eq!(e.store.stage_totals().unwrap().accounts(), 250);
    let a = e.store.account(e.store.external_id("crm", "42").unwrap().unwrap()).unwrap().unwrap();
    assert_eq!((a.name.as_str(), a.arr, a.stage), ("Company 0042", 42_000, Stage::Adoption));
    assert_eq!(a.renewal_date.to_string(), "2027-06-30");
    // The workspace is named, and the table shows the synced accounts.
    assert!(e.store.workspace().unwrap().unwrap().demo_seed.is_none());
    assert_eq!(e.store.rows().count(), 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_runs_pick_up_only_changes_even_on_one_timestamp() {
    let e = env(120).await;
    sync(&e, false).await;
    let lists_before = requests(&e, "GET companies");
    {
        let mut crm = e.crm.lock().unwrap();
        // 150 new companies all modified at the same millisecond: more than a page.
        let t = 1_800_000_000_000;
        for id in 1000..1150 {
            crm.add(id, &format!("Tied {id}"), 5000, t);
        }
        let c = crm.companies.get_mut(&7).unwrap();
        c.props.insert("arr".into(), "99999".into());
        c.modified = t + 5;
    }
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let c = r.objects[0].counts;
    assert_eq!((c.added, c.updated), (150, 1), "{c:?}");
    assert_eq!(requests(&e, "GET companies") - lists_before, 1, "only the archived list, no full re-read");
    assert_eq!(e.store.stage_totals().unwrap().accounts(), 270);
    let seven = e.store.external_id("crm", "7").unwrap().unwrap();
    assert_eq!(e.store.account(seven).unwrap().unwrap().arr, 99_999);
    // Nothing changed: nothing new, and no loop.
    let r = sync(&e, false).await;
    assert_eq!((r.objects[0].counts.added, r.objects[0].counts.updated), (0, 0));
    assert!(
        r.requests.0 <= 3 * 9,
        "{:?} requests for an idle run: at most two searches and an archived list per type",
        r.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_companies_leave_the_cache() {
    let e = env(30).await;
    sync(&e, false).await;
    {
        let mut crm = e.crm.lock().unwrap();
        crm.companies.get_mut(&3).unwrap().archived = true;
        crm.companies.get_mut(&4).unwrap().archived = true;
    }
    let r = sync(&e, false).await;
    assert_eq!(r.objects[0].counts.removed, 2);
    assert_eq!(e.store.external_id("crm", "3").unwrap(), None);
    assert_eq!(e.store.stage_totals().unwrap().accounts(), 28);
    assert_eq!(e.store.rows().count(), 28);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_server_errors_are_retried() {
    let e = env(150).await;
    {
        let mut crm = e.crm.lock().unwrap();
        let hubspot_429 = Fault::Status(
            429,
            vec![
                ("x-hubspot-ratelimit-remaining", "0".into()),
                ("x-hubspot-ratelimit-interval-milliseconds", "200".into()),
            ],
            r#"{"status":"error","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}"#.into(),
        );
        crm.faults.push_back(hubspot_429);
        crm.faults.push_back(Fault::Status(429, vec![], String::new())); // no hint at all
        crm.faults.push_back(Fault::Status(429, vec![("retry-after", "1".into())], String::new()));
        crm.faults.push_back(Fault::Status(500, vec![], "oops".into()));
        crm.faults.push_back(Fault::Status(502, vec![], "bad gateway".into()));
    }
    let started = std::time::Instant::now();
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.objects[0].counts.added, 150);
    assert!(r.requests.1 >= 5, "retries counted: {:?}", r.requests);
    assert!(started.elapsed() >= Duration::from_millis(1200), "the stated waits were honoured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_limit_stops_without_storming() {
    let e = env(10).await;
    e.crm.lock().unwrap().faults.push_back(Fault::Status(
        429,
        vec![],
        r#"{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY"}"#.into(),
    ));
    let r = sync(&e, false).await;
    assert!(matches!(r.error, Some(SyncError::RateLimited { .. })), "{:?}", r.error);
    assert!(r.error.unwrap().to_string().contains("daily API limit"));
    assert_eq!(r.requests.0, 1, "no retries against a daily limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_garbage_and_bad_credentials_say_what_happened() {
    let e = env(10).await;
    for _ in 0..6 {
        e.crm.lock().unwrap().faults.push_back(Fault::Delay(Duration::from_millis(900)));
    }
    let r = sync(&e, false).await;
    let err = r.error.expect("timed out").to_string();
    assert!(err.contains("no answer within 0.4 s") && err.contains("cache stays usable"), "{err}");
    assert_eq!(e.store.rows().count(), 0);

    e.crm.lock().unwrap().faults.push_back(Fault::Garbage);
    let r = sync(&e, false).await;
    let err = r.error.expect("garbage").to_string();
    assert!(err.contains("is not what HubSpot documents"), "{err}");

    e.crm.lock().unwrap().token = "another-token".into();
    let r = sync(&e, false).await;
    let err = r.error.expect("401").to_string();
    assert!(err.contains("HTTP 401") && err.contains(e.source.auth.env_name()), "{err}");
    assert!(!err.contains("pat-test-secret"), "the secret never appears in an error");

    e.crm.lock().unwrap().token = "pat-test-secret".into();
    let r = sync(&e, false).await;
    assert!(r.error.is_none());
    assert_eq!(e.store.rows().count(), 10, "a later run recovers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_is_skipped_and_reported() {
    let e = env(20).await;
    e.crm.lock().unwrap().companies.get_mut(&5).unwrap().props.insert("arr".into(), "lots".into());
    let r = sync(&e, false).await;
    assert!(r.error.is_none());
    let o = &r.objects[0];
    assert_eq!(o.counts.added, 19);
    assert_eq!(o.skipped.len(), 1);
    assert_eq!(o.skipped[0].id, "5");
    assert!(o.skipped[0].reason.contains("arr = \"lots\" is not a number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_resumes_to_the_same_cache() {
    // One clean run, for reference.
    let clean = env(320).await;
    sync(&clean, false).await;
    // The same data, with the server failing hard after two pages.
    let e = env(320).await;
    {
        let mut crm = e.crm.lock().unwrap();
        crm.faults.push_back(Fault::Delay(Duration::ZERO));
        crm.faults.push_back(Fault::Delay(Duration::ZERO));
        for _ in 0..6 {
            crm.faults.push_back(Fault::Status(503, vec![], "down".into()));
        }
    }
    let r = sync(&e, false).await;
    assert!(matches!(r.error, Some(SyncError::Server { status: 503, .. })), "{:?}", r.error);
    assert_eq!(e.store.rows().count(), 100, "two committed pages of 50 survive");
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.objects[0].counts.added, 220, "resumed after the last committed page");
    assert_eq!(snapshot(&e.store), snapshot(&clean.store));
    assert_eq!(e.store.stage_totals().unwrap(), clean.store.stage_totals().unwrap());
}

/// kill -9 of `cockpit sync` in the middle of a run: the next run finishes
/// the job and the cache equals one clean run's, with nothing duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_sync_then_resume() {
    let clean = env(900).await;
    sync(&clean, false).await;

    let e = env(900).await;
    e.crm.lock().unwrap().latency = Duration::from_millis(150);
    let dir = e.store.path().to_path_buf();
    let config = e._tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{}\"\ntoken_env = \"{}\"\n",
            e.source.base_url.as_str().trim_end_matches('/'),
            e.source.auth.env_name()
        ),
    )
    .unwrap();
    drop(e.store); // the binary takes the workspace lock
    let run = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cockpit"));
        cmd.args(["--data-dir", dir.to_str().unwrap(), "--config", config.to_str().unwrap(), "sync"])
            .env("HOME", e._tmp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    let mut child = run().spawn().unwrap();
    // Let it commit a couple of pages, then kill it without warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while e.crm.lock().unwrap().log.len() < 6 {
        assert!(std::time::Instant::now() < deadline, "the sync never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    {
        let partial = Store::open(&dir).unwrap().rows().count();
        assert!(partial > 0 && partial < 900, "killed mid-run: {partial} of 900 committed");
    }
    e.crm.lock().unwrap().latency = Duration::ZERO;
    let out = run().output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("companies"), "{summary}");
    let store = Store::open(&dir).unwrap();
    assert_eq!(snapshot(&store), snapshot(&clean.store));
    assert_eq!(store.stage_totals().unwrap(), clean.store.stage_totals().unwrap());
    assert_eq!(store.rows().count(), 900);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_land_on_their_company_and_move_with_it() {
    let e = env(3).await;
    {
        let mut crm = e.crm.lock().unwrap();
        let person = |first: &'static str, last: &'static str, title: &'static str| {
            [("firstname", first), ("lastname", last), ("jobtitle", title), ("email", "")]
        };
        let mut ann = person("Ann", "Lee", "VP Operations");
        ann[3].1 = "ann@example.com";
        crm.put("contacts", 501, &ann, 1_700_000_000_000, Some(1));
        crm.put("contacts", 502, &person("Bo", "Kim", "Analyst"), 1_700_000_000_000, Some(1));
        crm.put("contacts", 503, &person("Cy", "Ng", "Head of IT"), 1_700_000_000_000, Some(99));
        crm.put("contacts", 504, &person("Di", "Oz", ""), 1_700_000_000_000, None);
    }
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let contacts = &r.objects[1];
    assert_eq!(contacts.counts.added, 2);
    assert_eq!(contacts.skipped.len(), 2, "{:?}", contacts.skipped);
    assert!(contacts.skipped.iter().any(|s| s.id == "503" && s.reason.contains("company 99 is not in the cache")));
    assert!(contacts.skipped.iter().any(|s| s.id == "504" && s.reason.contains("not associated")));
    let one = e.store.external_id("crm", "1").unwrap().unwrap();
    let people = e.store.contacts(one).unwrap();
    assert_eq!(people.len(), 2);
    let ann = people.iter().find(|c| c.id == 501).unwrap();
    assert_eq!((ann.name.as_str(), ann.email.as_str()), ("Ann Lee", "ann@example.com"));
    assert!(ann.key_person, "a VP is a key person");
    assert!(!people.iter().find(|c| c.id == 502).unwrap().key_person);
    // Ann moves to company 2: she leaves company 1.
    {
        let mut crm = e.crm.lock().unwrap();
        let ann = crm.get_mut("contacts", 501);
        ann.company = Some(2);
        ann.modified = chrono::Utc::now().timestamp_millis();
    }
    let r = sync(&e, false).await;
    assert_eq!(r.objects[1].counts.updated, 1, "only Ann changed: {:?}", r.objects[1]);
    assert!(e.crm.lock().unwrap().log.iter().any(|l| l.starts_with("POST associations contacts")));
    let two = e.store.external_id("crm", "2").unwrap().unwrap();
    assert_eq!(e.store.contacts(one).unwrap().len(), 1);
    assert_eq!(e.store.contacts(two).unwrap()[0].id, 501);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deals_and_engagements_fill_outcomes_and_the_timeline() {
    use cockpit::domain::{ActivityKind, DealKind, DealState, OutcomeKind};
    let e = env(3).await;
    let t0 = 1_700_000_000_000;
    {
        let mut crm = e.crm.lock().unwrap();
        crm.put(
            "deals",
            70,
            &[
                ("dealname", "Company 0001 renewal FY27"),
                ("amount", "1000"),
                ("closedate", "2026-06-30"),
                ("hs_is_closed", "true"),
                ("hs_is_closed_won", "true"),
            ],
            t0,
            Some(1),
        );
        crm.put(
            "deals",
            71,
            &[("dealname", "Company 0002 +20 seats"), ("dealtype", "existingbusiness"), ("amount", "oops")],
            t0,
            Some(2),
        );
        crm.put(
            "notes",
            80,
            &[("hs_timestamp", "2026-11-02T09:00:00Z"), ("hs_note_body", "<p>QBR notes</p>")],
            t0,
            Some(1),
        );
        crm.put(
            "calls",
            81,
            &[("hs_timestamp", "2026-11-10T15:00:00Z"), ("hs_call_title", "Renewal call")],
            t0,
            Some(1),
        );
        crm.put(
            "emails",
            82,
            &[("hs_timestamp", "2026-11-12T15:00:00Z"), ("hs_email_direction", "EMAIL")],
            t0,
            Some(1),
        );
        crm.put(
            "meetings",
            83,
            &[("hs_timestamp", "2026-11-05T15:00:00Z"), ("hs_meeting_title", "Kick-off")],
            t0,
            Some(3),
        );
        crm.forbidden.push("tasks");
    }
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "a type without scope does not stop the sync: {:?}", r.error);
    let names: Vec<&str> = r.objects.iter().map(|o| o.object).collect();
    assert_eq!(
        names,
        ["companies", "contacts", "deals", "notes", "calls", "meetings", "tasks", "emails", "feedback_submissions"]
    );
    let tasks = r.objects.iter().find(|o| o.object == "tasks").unwrap();
    assert!(tasks.notes[0].contains("crm.objects.tasks.read"), "{:?}", tasks.notes);
    let deals = r.objects.iter().find(|o| o.object == "deals").unwrap();
    assert_eq!((deals.counts.added, deals.skipped.len()), (1, 1));
    assert!(deals.skipped[0].reason.contains("amount = \"oops\""));

    let one = e.store.external_id("crm", "1").unwrap().unwrap();
    let d = &e.store.deals(one).unwrap()[0];
    assert_eq!((d.kind, d.state, d.amount), (DealKind::Renewal, DealState::Won, 1000));
    let outcome = e.store.account(one).unwrap().unwrap().outcome.unwrap();
    assert_eq!((outcome.kind, outcome.on.to_string().as_str()), (OutcomeKind::Renewed, "2026-06-30"));
    let timeline = e.store.activities(one).unwrap();
    let kinds: Vec<ActivityKind> = timeline.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [ActivityKind::Note, ActivityKind::Call, ActivityKind::EmailSent], "oldest first");
    assert_eq!(timeline[0].summary, "QBR notes");
    // The call is the last two-way touch: a sent email is not.
    let row = e.store.row(one).unwrap().unwrap();
    assert_eq!(row.last_touch.unwrap().to_rfc3339(), "2026-11-10T15:00:00+00:00");

    // Incremental: the call is rescheduled and the note archived; the
    // renewal is lost after all.
    {
        let mut crm = e.crm.lock().unwrap();
        let later = chrono::Utc::now().timestamp_millis();
        let call = crm.get_mut("calls", 81);
        call.props.insert("hs_timestamp".into(), "2026-11-20T15:00:00Z".into());
        call.modified = later;
        crm.get_mut("notes", 80).archived = true;
        let deal = crm.get_mut("deals", 70);
        deal.props.insert("hs_is_closed_won".into(), "false".into());
        deal.props.insert("closedate".into(), "2026-07-01".into());
        deal.modified = later;
        crm.forbidden.clear();
    }
    let r = sync(&e, false).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let calls = r.objects.iter().find(|o| o.object == "calls").unwrap();
    assert_eq!((calls.counts.added, calls.counts.updated), (0, 1), "{calls:?}");
    assert_eq!(r.objects.iter().find(|o| o.object == "notes").unwrap().counts.removed, 1);
    let timeline = e.store.activities(one).unwrap();
    assert_eq!(timeline.len(), 2, "the note left, the moved call is stored once: {timeline:?}");
    assert_eq!(e.store.row(one).unwrap().unwrap().last_touch.unwrap().to_rfc3339(), "2026-11-20T15:00:00+00:00");
    assert_eq!(e.store.account(one).unwrap().unwrap().outcome.unwrap().kind, OutcomeKind::Churned);
    let three = e.store.external_id("crm", "3").unwrap().unwrap();
    assert_eq!(e.store.activities(three).unwrap()[0].kind, ActivityKind::Meeting);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_paging_is_bounded_and_the_run_fails_naming_the_object() {
    let e = env(150).await;
    e.crm.lock().unwrap().endless_paging = true;
    let started = std::time::Instant::now();
    let r = sync(&e, false).await;
    let err = r.error.expect("paging that never ends is a failure");
    assert!(matches!(err, SyncError::Runaway { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("crm: HubSpot kept paging companies"), "{text}");
    assert!(text.contains("empty pages in a row"), "{text}");
    let requests = e.crm.lock().unwrap().log.iter().filter(|l| l.starts_with("GET companies")).count();
    assert!(requests <= 6, "stopped after {requests} requests");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(snapshot(&e.store).len(), 150, "what was read is kept");
    assert!(!e.store.sync_status("crm").unwrap().unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_that_does_not_move_forward_is_bounded() {
    let e = env(3).await;
    assert!(sync(&e, false).await.error.is_none());
    let searches_before = e.crm.lock().unwrap().log.iter().filter(|l| l.starts_with("POST search companies")).count();
    {
        // 120 companies at one instant: the search by id must page, and this
        // server ignores the id filter, handing back the same page forever.
        let mut c = e.crm.lock().unwrap();
        for id in 10..130 {
            c.add(id, &format!("Same {id}"), 1, 1_800_000_000_000);
        }
        c.search_ignores_id = true;
    }
    let r = sync(&e, false).await;
    let text = r.error.expect("a search that loops is a failure").to_string();
    assert!(text.contains("kept paging companies") && text.contains("not after it"), "{text}");
    let searches =
        e.crm.lock().unwrap().log.iter().filter(|l| l.starts_with("POST search companies")).count() - searches_before;
    assert_eq!(searches, 4, "the stored instant, the next one, its first page, and the page that did not move on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_made_during_a_sync_lands_between_its_pages_and_the_sync_keeps_it() {
    use cockpit::engine::edits::{apply, Author, Edit};
    use cockpit::engine::writer::Writer;
    let e = env(250).await;
    sync(&e, false).await;
    let account = e.store.accounts().map(Result::unwrap).find(|a| a.name == "Company 0250").unwrap();
    let moved = account.stage.next().or(account.stage.prev()).unwrap();
    // The CRM renames every company: the next sync rewrites each account,
    // the last one on its last page.
    {
        let mut crm = e.crm.lock().unwrap();
        for (id, c) in crm.companies.iter_mut() {
            c.props.insert("name".into(), format!("Renamed {id:04}"));
            c.modified = 1_800_000_000_000 + *id as i64;
        }
        crm.latency = Duration::from_millis(150);
    }
    let before = e.crm.lock().unwrap().log.len();
    let writer = Writer::spawn(e.store.clone());
    let (w, source) = (writer.clone(), e.source.clone());
    let syncing = tokio::spawn(async move {
        let opts = Options { full: false, only: None, policy: Some(quick()) };
        sync::run_with(&w, std::slice::from_ref(&source), &opts, &|_| {}).await
    });
    // The first page is in and the next one asked for: the CSM moves the
    // last company's account, whose page has not come yet.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while e.crm.lock().unwrap().log.len() < before + 2 {
        assert!(std::time::Instant::now() < deadline, "the sync never asked for a second page");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let by = Author::new("csm", chrono::Utc::now());
    writer.edit(move |s| {
        let r = apply(s, Edit::Stage { id: account.id, to: moved, churn: None }, &by)
            .map(|_| ())
            .map_err(|e| e.to_string());
        Box::new(move || drop(tx.send(r)))
    });
    rx.await.unwrap().unwrap();
    assert!(!syncing.is_finished(), "the edit was saved while the sync ran, not after it");
    let reports = syncing.await.unwrap().unwrap();
    assert!(reports[0].error.is_none(), "{:?}", reports[0].error);
    let now = e.store.account(account.id).unwrap().unwrap();
    assert_eq!(now.name, "Renamed 0250", "the sync's later page landed");
    assert_eq!(now.stage, moved, "and kept the CSM's move, waiting in the outbox for HubSpot");
    assert_eq!(e.store.row(account.id).unwrap().unwrap().stage, moved);
    let totals = e.store.stage_totals().unwrap();
    let counted = e.store.rows().filter(|r| r.as_ref().unwrap().stage == moved).count() as u64;
    assert_eq!(totals.count[moved.index()], counted, "the totals add up");
}
