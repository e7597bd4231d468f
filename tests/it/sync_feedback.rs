//! Survey answers and support ratings against fakes on 127.0.0.1: HubSpot
//! survey responses (`feedback_submissions`, associated to contacts) become
//! NPS answers and ratings on the account of the answering contact's
//! company; Zendesk ticket ratings (`satisfaction_rating`) become the
//! support-satisfaction input, and a bad one raises one follow-up.

use crate::fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as Wait;

use chrono::{DateTime, Duration, Utc};
use cockpit::domain::flags::FlagRules;
use cockpit::domain::health_model::Model;
use cockpit::domain::{AccountId, Bands, FollowUp, FollowUpKind, Measure};
use cockpit::store::{HealthRules, Store};
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::source::{Kind, Source};
use cockpit::sync::{self, ObjectReport, Options, SourceReport};
use fake::desk::{Desk, SharedDesk};
use fake::{Crm, Shared};

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct Env {
    crm: Shared,
    desk: SharedDesk,
    sources: Vec<Source>,
    _tmp: tempfile::TempDir,
    store: Store,
    now: DateTime<Utc>,
}

fn ms(t: DateTime<Utc>) -> String {
    t.timestamp_millis().to_string()
}

/// Adds a survey answer by `contact`, given at `at`.
fn answer(crm: &mut Crm, id: u64, kind: &str, value: &str, comment: &str, contact: u64, at: DateTime<Utc>) {
    let at_ms = ms(at);
    let props = [
        ("hs_survey_type", kind),
        ("hs_survey_name", "Customer pulse"),
        ("hs_value", value),
        ("hs_content", comment),
        ("hs_submission_timestamp", at_ms.as_str()),
    ];
    crm.put("feedback_submissions", id, &props, at.timestamp_millis(), Some(contact));
}

/// Acme (company 1, contact 101) and Globex (company 2, contact 102) with
/// their survey answers; Acme's desk organization with four tickets, two
/// of them rated.
async fn env() -> Env {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let (crm_env, desk_env) = (format!("COCKPIT_TEST_FB_CRM_{n}"), format!("COCKPIT_TEST_FB_DESK_{n}"));
    std::env::set_var(&crm_env, "crm-secret");
    std::env::set_var(&desk_env, "desk-secret");
    let now = Utc::now();
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    crm.add(1, "Acme", 50_000, 1_700_000_000_000);
    crm.add(2, "Globex", 30_000, 1_700_000_000_001);
    for (id, company, name) in [(101, 1, "Ann"), (102, 2, "Bo")] {
        crm.put(
            "contacts",
            id,
            &[("firstname", name), ("email", "x@example.com")],
            1_700_000_000_000 + id as i64,
            Some(company),
        );
    }
    answer(&mut crm, 201, "NPS", "9", "Love the new reports", 101, now - Duration::days(200));
    answer(&mut crm, 202, "NPS", "3", "Too slow since the upgrade", 102, now - Duration::days(10));
    answer(&mut crm, 203, "NPS", "11", "", 101, now - Duration::days(9));
    answer(&mut crm, 204, "CSAT", "2", "", 101, now - Duration::days(5));
    answer(&mut crm, 205, "CSAT", "0", "Nobody called back", 101, now - Duration::days(6));
    // Contact 103 is not synced yet: the answer waits for it.
    answer(&mut crm, 206, "NPS", "8", "Getting better", 103, now - Duration::days(100));
    answer(&mut crm, 207, "CUSTOM", "4", "", 101, now - Duration::days(3));
    let crm: Shared = Arc::new(Mutex::new(crm));
    let crm_url = fake::start(crm.clone()).await;

    let mut desk = Desk {
        auth: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-secret")),
        page: 100,
        ..Desk::default()
    };
    desk.org(10, "Acme", &[], Some("1"));
    for id in 1..=4 {
        desk.ticket(id, Some(10), "solved", &format!("Question {id}"));
    }
    desk.rate(1, "good", "Quick and kind", now - Duration::days(3));
    desk.rate(2, "bad", "Three weeks \u{1b}[31mfor an answer", now - Duration::days(2));
    desk.rate(3, "offered", "", now - Duration::days(2));
    let desk: SharedDesk = Arc::new(Mutex::new(desk));
    let desk_url = fake::desk::start(desk.clone()).await;
    let sources = vec![
        fake::source("crm", Kind::Hubspot, crm_url, &crm_env, None),
        fake::source("desk", Kind::Zendesk, desk_url, &desk_env, Some("agent@acme.com")),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    Env { crm, desk, sources, _tmp: tmp, store, now }
}

async fn run(e: &Env, full: bool) -> Vec<SourceReport> {
    let policy = RetryPolicy {
        attempts: 4,
        base: Wait::from_millis(10),
        cap: Wait::from_millis(50),
        timeout: Wait::from_secs(2),
        max_wait: Wait::from_secs(5),
    };
    let opts = Options { full, only: None, policy: Some(policy) };
    let reports = sync::run(&e.store, &e.sources, &opts, &|_| {}).await.unwrap();
    for r in &reports {
        assert!(r.error.is_none(), "{}: {:?}", r.source, r.error);
    }
    reports
}

fn object<'a>(reports: &'a [SourceReport], name: &str) -> &'a ObjectReport {
    reports.iter().flat_map(|r| &r.objects).find(|o| o.object == name).expect("reported")
}

fn daily(e: &Env, now: DateTime<Utc>) {
    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    e.store.daily_health(HealthRules { model: &model, flags: &flags, bands: &bands }, now).unwrap();
}

fn follow_ups(e: &Env) -> Vec<FollowUp> {
    e.store.follow_ups_before(e.now + Duration::days(400)).map(|f| f.unwrap()).collect()
}

fn account(e: &Env, company: &str) -> AccountId {
    e.store.external_id("crm", company).unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nps_answers_and_ratings_land_on_their_accounts_and_feed_health() {
    let e = env().await;
    let reports = run(&e, false).await;
    let (acme, globex) = (account(&e, "1"), account(&e, "2"));

    // NPS answers with their comments, on the answering contact's company.
    let nps = e.store.nps(acme).unwrap();
    assert_eq!(nps.len(), 1, "{nps:?}");
    assert_eq!((nps[0].score, nps[0].comment.as_str()), (9, "Love the new reports"));
    assert_eq!(nps[0].on, (e.now - Duration::days(200)).date_naive());
    let nps = e.store.nps(globex).unwrap();
    assert_eq!((nps.len(), nps[0].score, nps[0].comment.as_str()), (1, 3, "Too slow since the upgrade"));

    // The answer out of range and the one whose contact is not synced are
    // reported; the custom survey's is noted, not skipped.
    let fb = object(&reports, "feedback_submissions");
    let why = |id: &str| fb.skipped.iter().find(|s| s.id == id).map(|s| s.reason.clone());
    let out_of_range = why("203").expect("203 skipped");
    assert!(out_of_range.contains("NPS answer \"11\" is not a whole number from 0 to 10"), "{out_of_range}");
    assert!(why("206").expect("206 skipped").contains("contact 103 is not in the cache"));
    assert_eq!(fb.skipped.len(), 2, "{:?}", fb.skipped);
    assert!(fb.notes.iter().any(|n| n.starts_with("1 answer(s) to custom")), "{:?}", fb.notes);
    assert_eq!(fb.counts.added, 4, "two NPS answers and two CSAT answers");

    daily(&e, e.now);
    // The detractor flag fires on Globex, and not on Acme (a promoter).
    let raised = follow_ups(&e);
    let detractor = |id: AccountId| raised.iter().any(|f| f.account_id == id && f.reason.contains("(detractor)"));
    assert!(detractor(globex), "{raised:?}");
    assert!(!detractor(acme));

    // Support satisfaction: ticket 1 good, ticket 2 bad, CSAT 2 good, CSAT 0
    // bad (ticket 3 was only offered a survey): half of them good.
    let today = e.store.day_signals(acme, e.now.date_naive()).unwrap().unwrap();
    assert_eq!(today.get(Measure::SupportCsat), Some(0.5), "{today:?}");
    assert_eq!(today.get(Measure::Satisfaction), Some(9.0));
    let globex_today = e.store.day_signals(globex, e.now.date_naive()).unwrap().unwrap();
    assert_eq!(globex_today.get(Measure::SupportCsat), None, "no ratings: unknown, not zero");
    assert_eq!(globex_today.get(Measure::Satisfaction), Some(3.0));

    // The answers' dates feed the rebuilt history: the promoter's answer of
    // 200 days ago counts 150 days ago, and not before it was given.
    let then = e.store.day_signals(acme, (e.now - Duration::days(150)).date_naive()).unwrap().unwrap();
    assert_eq!(then.get(Measure::Satisfaction), Some(9.0), "{then:?}");
    assert_eq!(then.get(Measure::SupportCsat), None, "no rating in the 90 days before that day");
    if let Some(before) = e.store.day_signals(acme, (e.now - Duration::days(250)).date_naive()).unwrap() {
        assert_eq!(before.get(Measure::Satisfaction), None);
    }
    let five_ago = e.store.day_signals(acme, (e.now - Duration::days(5)).date_naive()).unwrap().unwrap();
    assert_eq!(
        five_ago.get(Measure::SupportCsat),
        Some(0.5),
        "CSAT 2 and 0 were given by then; the tickets were rated later: {five_ago:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rating_raises_one_follow_up_quoting_the_customer() {
    let e = env().await;
    let reports = run(&e, false).await;
    assert!(object(&reports, "tickets").notes.iter().any(|n| n.starts_with("1 bad rating(s)")));
    let acme = account(&e, "1");
    let bad: Vec<FollowUp> = follow_ups(&e).into_iter().filter(|f| f.kind == FollowUpKind::BadRating).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!((bad[0].account_id, bad[0].ticket_id), (acme, Some(2)));
    assert_eq!(
        bad[0].reason, "Bad support rating on \"Question 2\" (\"Three weeks for an answer\"): call to make it right",
        "the comment quoted, its escape sequence gone"
    );
    assert!(bad[0].is_actionable(&around_the_clock(), e.now), "in the queue today");

    // The ticket changes again, a full sync reads everything again and the
    // daily pass runs: still the one follow-up, and the rating keeps its day.
    let first = e.store.ticket_rating(2).unwrap().unwrap();
    e.desk.lock().unwrap().touch(2, e.now - Duration::hours(1));
    run(&e, false).await;
    run(&e, true).await;
    daily(&e, e.now);
    let again: Vec<FollowUp> = follow_ups(&e).into_iter().filter(|f| f.kind == FollowUpKind::BadRating).collect();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(e.store.ticket_rating(2).unwrap().unwrap(), first);

    // A ticket rated bad long ago counts in the input but raises nothing.
    e.desk.lock().unwrap().ticket(5, Some(10), "solved", "Old question");
    e.desk.lock().unwrap().rate(5, "bad", "meh", e.now - Duration::days(60));
    run(&e, false).await;
    let bad: Vec<FollowUp> = follow_ups(&e).into_iter().filter(|f| f.kind == FollowUpKind::BadRating).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    daily(&e, e.now);
    let today = e.store.day_signals(acme, e.now.date_naive()).unwrap().unwrap();
    assert_eq!(today.get(Measure::SupportCsat), Some(0.4), "2 good of 5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_whose_contact_arrives_later_lands_on_the_next_sync() {
    let e = env().await;
    run(&e, false).await;
    daily(&e, e.now);
    let globex = account(&e, "2");
    assert_eq!(e.store.nps(globex).unwrap().len(), 1);
    // Contact 103 joins Globex; answer 206 itself does not change.
    e.crm.lock().unwrap().put("contacts", 103, &[("firstname", "Cy")], 1_800_000_000_000, Some(2));
    let reports = run(&e, false).await;
    let fb = object(&reports, "feedback_submissions");
    assert!(fb.skipped.iter().all(|s| s.id != "206"), "{:?}", fb.skipped);
    assert!(fb.notes.iter().any(|n| n.contains("read again and landed")), "{:?}", fb.notes);
    let nps = e.store.nps(globex).unwrap();
    let late = nps.iter().find(|n| n.score == 8).expect("answer 206 landed");
    assert_eq!((late.comment.as_str(), late.on), ("Getting better", (e.now - Duration::days(100)).date_naive()));
    // Its day is in the past: the history is rebuilt from it.
    daily(&e, e.now);
    let day = |d: i64| e.store.day_signals(globex, (e.now - Duration::days(d)).date_naive()).unwrap().unwrap();
    assert_eq!(day(50).get(Measure::Satisfaction), Some(8.0), "the late answer counts from its day");
    assert_eq!(day(5).get(Measure::Satisfaction), Some(3.0));
    assert_eq!(day(5).get(Measure::NpsTrend), Some(-5.0), "3 after 8");
    // The out-of-range answer stays reported, never landed.
    assert!(fb.skipped.iter().any(|s| s.id == "203"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_the_survey_scope_is_a_note_not_a_failure() {
    let e = env().await;
    e.crm.lock().unwrap().forbidden.push("feedback_submissions");
    let reports = run(&e, false).await;
    let fb = object(&reports, "feedback_submissions");
    assert!(fb.notes.iter().any(|n| n.contains("crm.objects.feedback_submissions.read")), "{:?}", fb.notes);
    assert!(e.store.nps(account(&e, "1")).unwrap().is_empty());
    // The desk's ratings still count.
    daily(&e, e.now);
    let today = e.store.day_signals(account(&e, "1"), e.now.date_naive()).unwrap().unwrap();
    assert_eq!(today.get(Measure::SupportCsat), Some(0.5), "ticket 1 good, ticket 2 bad");
}

/// A calendar on which nothing waits for working hours: the fakes date
/// everything from the real clock, whatever day the tests run.
fn around_the_clock() -> cockpit::domain::calendar::Calendar {
    cockpit::domain::calendar::Calendar {
        hours: cockpit::domain::calendar::WorkingHours::always(),
        ..Default::default()
    }
}
