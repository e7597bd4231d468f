//! Stripe sync against a fake Stripe (and a fake HubSpot) on 127.0.0.1:
//! customers matched to accounts, MRR, plan, seats and days past due as
//! observations, the past-due and expiring-card follow-ups, involuntary
//! churn, currencies, the events feed, an expired cursor, 429s and a key
//! without permission.

use crate::fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Datelike, Utc};
use cockpit::domain::observed::{epoch_days, Point, Signal};
use cockpit::domain::signals::{inputs_at, Records};
use cockpit::domain::{AccountId, Measure};
use cockpit::store::Store;
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::source::{Kind, RawBilling, RawSource, Source};
use cockpit::sync::{self, Options, SourceReport};
use fake::stripe::SharedStripe;
use fake::{Crm, Shared};

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct Env {
    stripe: SharedStripe,
    _crm: Shared,
    sources: Vec<Source>,
    key_env: String,
    _tmp: tempfile::TempDir,
    store: Store,
}

const DAY: i64 = 86_400;

/// A book of four CRM accounts and Stripe customers matching them in every way.
async fn env_at(clock_days_ago: i64) -> Env {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let (crm_env, key_env) = (format!("COCKPIT_TEST_ST_CRM_{n}"), format!("COCKPIT_TEST_STRIPE_KEY_{n}"));
    std::env::set_var(&crm_env, "crm-secret");
    std::env::set_var(&key_env, "sk_test_secret");
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    crm.add(1, "Acme Inc", 50_000, 1_700_000_000_000);
    crm.add(2, "Globex", 30_000, 1_700_000_000_001);
    crm.add(3, "Globex", 20_000, 1_700_000_000_002); // two accounts share a name
    crm.add(4, "Initech", 10_000, 1_700_000_000_003);
    crm.companies.get_mut(&4).unwrap().props.insert("domain".into(), "initech.com".into());
    let crm: Shared = Arc::new(Mutex::new(crm));
    let crm_url = fake::start(crm.clone()).await;

    let now = Utc::now().timestamp();
    let mut s = fake::stripe::new("sk_test_secret");
    s.clock = now - clock_days_ago * DAY;
    let today = Utc::now().date_naive();
    // Acme by its CRM id; its card runs out at the end of this month.
    s.customer("cus_acme", "ACME Billing", "billing@elsewhere.net", Some("1"), Some((today.month(), today.year())));
    s.subscription("sub_pro", "cus_acme", "active", Some("Pro"), "prod_pro", 5_000, 10, "month", "usd");
    s.product("prod_addon", "Analytics add-on");
    s.subscription("sub_addon", "cus_acme", "active", None, "prod_addon", 120_000, 1, "year", "usd");
    s.invoice("in_late", "cus_acme", "open", 5_000, Some(now - 20 * DAY));
    // Initech by its email domain, billed in euros; its card is good for years.
    s.customer("cus_ini", "Initech GmbH", "ap@initech.com", None, Some((1, today.year() + 3)));
    s.subscription("sub_ini", "cus_ini", "active", Some("Team"), "prod_team", 10_000, 5, "month", "eur");
    // Globex by name: two accounts have it.
    s.customer("cus_glob", "Globex", "pay@globex-billing.net", None, None);
    // Unmatched: a domain and a CRM id no account has.
    s.customer("cus_umb", "Umbrella", "x@umbrella.example", None, None);
    s.customer("cus_hoo", "Hooli", "x@hooli.example", Some("999"), None);
    // Globex (the second) by CRM id, billed in pounds with no rate set.
    s.customer("cus_glob3", "Globex UK", "uk@globex.example", Some("3"), None);
    s.subscription("sub_gbp", "cus_glob3", "active", Some("Pro"), "prod_pro", 4_000, 3, "month", "gbp");
    let stripe: SharedStripe = Arc::new(Mutex::new(s));
    let stripe_url = fake::stripe::start(stripe.clone()).await;

    let billing = RawSource {
        metrics: Default::default(),
        name: Some("billing".into()),
        kind: Kind::Stripe,
        base_url: Some(stripe_url),
        token_env: Some(key_env.clone()),
        email: None,
        properties: Default::default(),
        requests_per_minute: Some(100_000),
        exports_per_minute: None,
    }
    .check_with(RawBilling {
        match_metadata: Some("hubspot_company_id".into()),
        currency: Some("usd".into()),
        rates: [("eur".to_string(), 1.08)].into_iter().collect(),
    })
    .unwrap();
    let sources = vec![fake::source("crm", Kind::Hubspot, crm_url, &crm_env, None), billing];
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    Env { stripe, _crm: crm, sources, key_env, _tmp: tmp, store }
}

async fn env() -> Env {
    env_at(0).await
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

async fn run_opts(e: &Env, only: &str, full: bool) -> SourceReport {
    let opts = Options { full, only: Some(only.into()), policy: Some(quick()) };
    sync::run(&e.store, &e.sources, &opts, &|_| {}).await.unwrap().remove(0)
}

async fn run(e: &Env, only: &str) -> SourceReport {
    run_opts(e, only, false).await
}

/// Both sources, the CRM first; the Stripe report.
async fn both(e: &Env) -> SourceReport {
    let crm = run(e, "crm").await;
    assert!(crm.error.is_none(), "{:?}", crm.error);
    let r = run(e, "billing").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    r
}

fn account(e: &Env, crm_id: &str) -> AccountId {
    e.store.external_id("crm", crm_id).unwrap().unwrap()
}

fn value(e: &Env, id: AccountId, s: Signal) -> Option<f64> {
    e.store.observations(id).unwrap().at(&s, Utc::now().date_naive())
}

fn origin(e: &Env, id: AccountId, s: Signal) -> String {
    e.store.observations(id).unwrap().best(&s, Utc::now().date_naive()).map(|o| o.origin.clone()).unwrap_or_default()
}

fn log_since(e: &Env, from: usize) -> Vec<String> {
    e.stripe.lock().unwrap().log[from..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_match_by_crm_id_domain_and_name_and_billing_lands_as_inputs() {
    let e = env().await;
    let r = both(&e).await;
    let customers = &r.objects[0];
    assert_eq!(customers.ambiguous.len(), 1, "{:?}", customers.ambiguous);
    assert!(customers.ambiguous[0].id.starts_with("cus_glob ") && customers.ambiguous[0].reason.contains("2 accounts"));
    let unmatched: Vec<&str> = customers.unmatched.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(unmatched, ["cus_hoo (Hooli)", "cus_umb (Umbrella)"], "{:?}", customers.unmatched);
    assert!(customers.unmatched[0].reason.contains("CRM id \"999\" is no account's"), "{:?}", customers.unmatched);
    // Listed, never made into accounts.
    assert_eq!(e.store.accounts().count(), 4);

    let (acme, initech, globex3) = (account(&e, "1"), account(&e, "4"), account(&e, "3"));
    // 10 x $50 a month + $1,200 a year.
    assert_eq!(value(&e, acme, Signal::Mrr), Some(600.0));
    assert_eq!(origin(&e, acme, Signal::Mrr), "stripe:subscriptions");
    assert_eq!(value(&e, acme, Signal::Seats), Some(11.0), "10 Pro seats and one add-on");
    // Unpaid since the invoice's due date: the days count on between syncs.
    let due = epoch_days(Utc::now().date_naive() - chrono::Duration::days(20));
    assert_eq!(value(&e, acme, Signal::OverdueSince), Some(due));
    assert_eq!(origin(&e, acme, Signal::OverdueSince), "stripe:invoices");
    assert_eq!(e.store.account(acme).unwrap().unwrap().plan, "Pro", "the largest subscription names the plan");
    // 5 x EUR 100 at 1.08.
    assert!((value(&e, initech, Signal::Mrr).unwrap() - 540.0).abs() < 1e-9);
    assert_eq!(value(&e, initech, Signal::OverdueSince), Some(0.0));
    // Pounds without a rate: listed with what to add, MRR left unknown.
    assert_eq!(value(&e, globex3, Signal::Mrr), None);
    assert!(
        customers.skipped.iter().any(|s| s.id == "sub_gbp" && s.reason.contains("add `gbp = ")),
        "{:?}",
        customers.skipped
    );
    assert_eq!(value(&e, globex3, Signal::Seats), Some(3.0), "seats do not need a rate");

    // Seat utilisation and days past due are known inputs, from Stripe.
    let today = Utc::now().date_naive();
    let mut obs = e.store.observe(today);
    obs.add(acme, &Signal::ActiveUsers, "usage", "import:usage.csv", [Point { day: today, value: Some(22.0) }])
        .unwrap();
    let mut batch = cockpit::store::Batch::default();
    obs.flush_into(&mut batch).unwrap();
    e.store.apply(batch).unwrap();
    let a = e.store.account(acme).unwrap().unwrap();
    let observed = e.store.observations(acme).unwrap();
    let records = Records {
        account: &a,
        tickets: &[],
        activities: &[],
        nps: &[],
        manual: None,
        observed: Some(&observed),
        ratings: &[],
    };
    let inputs = inputs_at(&records, Utc::now());
    assert_eq!(inputs.get(Measure::Seats), Some(2.0), "22 active users on 11 seats");
    assert_eq!(inputs.get(Measure::Billing), Some(20.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_pass_flags_past_due_and_the_expiring_card_once() {
    use cockpit::domain::flags::FlagRules;
    use cockpit::domain::health_model::Model;
    use cockpit::domain::Bands;
    use cockpit::store::HealthRules;
    let e = env().await;
    both(&e).await;
    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    let rules = || HealthRules { model: &model, flags: &flags, bands: &bands };
    let acme = account(&e, "1");
    let items = |e: &Env| -> Vec<String> {
        let far = Utc::now() + chrono::Duration::days(400);
        e.store.follow_ups_before(far).map(|f| f.unwrap()).filter(|f| f.account_id == acme).map(|f| f.reason).collect()
    };
    e.store.daily_health(rules(), Utc::now()).unwrap();
    let first = items(&e);
    assert_eq!(first.iter().filter(|r| r.contains("20 days past due")).count(), 1, "{first:?}");
    assert_eq!(first.iter().filter(|r| r.contains("card on file expires")).count(), 1, "{first:?}");
    let initech = account(&e, "4");
    assert!(
        !e.store.follow_ups_before(Utc::now() + chrono::Duration::days(400)).any(|f| f.unwrap().account_id == initech),
        "a card good for years raises nothing"
    );
    // Another sync and the next days' passes: still one item per card expiry.
    run_opts(&e, "billing", true).await;
    e.store.daily_health(rules(), Utc::now() + chrono::Duration::days(1)).unwrap();
    e.store.daily_health(rules(), Utc::now() + chrono::Duration::days(2)).unwrap();
    let later = items(&e);
    assert_eq!(later.iter().filter(|r| r.contains("card on file")).count(), 1, "{later:?}");
    assert_eq!(later.iter().filter(|r| r.contains("past due")).count(), 1, "{later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_cancelled_for_non_payment_is_an_involuntary_churn_recorded_once() {
    let e = env().await;
    let two_days_ago = Utc::now().timestamp() - 2 * DAY;
    {
        let mut s = e.stripe.lock().unwrap();
        s.subscription("sub_old", "cus_ini", "active", Some("Legacy"), "prod_team", 20_000, 1, "month", "usd");
        s.cancel("sub_old", "payment_failed", two_days_ago);
        s.subscription("sub_quit", "cus_ini", "active", Some("Extra"), "prod_team", 1_000, 1, "month", "usd");
        s.cancel("sub_quit", "cancellation_requested", two_days_ago);
    }
    both(&e).await;
    let initech = account(&e, "4");
    let churns = |e: &Env| -> Vec<String> {
        e.store.activities(initech).unwrap().into_iter().map(|a| a.summary).filter(|s| s.contains("churn")).collect()
    };
    let recorded = churns(&e);
    assert_eq!(recorded.len(), 1, "only the cancellation for non-payment: {recorded:?}");
    assert!(recorded[0].contains("sub_old (Legacy) for non-payment, 200 USD/month lost"), "{recorded:?}");
    assert_eq!(value(&e, initech, Signal::InvoluntaryChurn), Some(1.0));
    let day = (Utc::now() - chrono::Duration::days(2)).date_naive();
    assert_eq!(e.store.observations(initech).unwrap().at(&Signal::InvoluntaryChurn, day), Some(1.0));
    assert_eq!(
        e.store.observations(initech).unwrap().at(&Signal::InvoluntaryChurn, day - chrono::Duration::days(1)),
        None,
        "counted from the day it happened"
    );
    run_opts(&e, "billing", true).await;
    assert_eq!(churns(&e).len(), 1, "a second full read records it once");
    assert_eq!(value(&e, initech, Signal::InvoluntaryChurn), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_run_reads_the_events_and_only_the_customers_they_touch() {
    let e = env().await;
    both(&e).await;
    let acme = account(&e, "1");
    let from = e.stripe.lock().unwrap().log.len();
    {
        let mut s = e.stripe.lock().unwrap();
        s.subscription("sub_pro", "cus_acme", "active", Some("Pro"), "prod_pro", 5_000, 14, "month", "usd");
        s.invoice("in_late", "cus_acme", "paid", 0, Some(Utc::now().timestamp() - 20 * DAY));
    }
    let r = run(&e, "billing").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let log = log_since(&e, from);
    assert!(log.iter().any(|l| l.starts_with("GET /v1/events?") && l.contains("ending_before=evt_")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("types[]=invoice.paid")), "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("GET /v1/customers?")), "no full listing: {log:?}");
    assert!(log.iter().any(|l| l.starts_with("GET /v1/customers/cus_acme")), "{log:?}");
    assert!(!log.iter().any(|l| l.contains("cus_ini")), "an untouched customer is not read: {log:?}");
    assert_eq!(value(&e, acme, Signal::Seats), Some(15.0));
    assert_eq!(value(&e, acme, Signal::Mrr), Some(800.0));
    assert_eq!(value(&e, acme, Signal::OverdueSince), Some(0.0), "paid");
    // Nothing new: one request, nothing changes.
    let from = e.stripe.lock().unwrap().log.len();
    let r = run(&e, "billing").await;
    assert_eq!(log_since(&e, from).len(), 1);
    assert!(r.objects[0].notes.iter().any(|n| n.contains("no change")), "{:?}", r.objects[0].notes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_older_than_stripe_keeps_events_lists_everything_again() {
    // Every event is 40 days old: past Stripe's 30 days.
    let e = env_at(41).await;
    both(&e).await;
    let from = e.stripe.lock().unwrap().log.len();
    let r = run(&e, "billing").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let log = log_since(&e, from);
    assert!(log.iter().any(|l| l.starts_with("GET /v1/customers?")), "listed again: {log:?}");
    assert!(!log.iter().any(|l| l.contains("ending_before")), "{log:?}");
    assert!(r.objects[0].notes.iter().any(|n| n.contains("40 days old")), "{:?}", r.objects[0].notes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stripe_no_longer_knows_lists_everything_again() {
    let e = env().await;
    both(&e).await;
    {
        let mut s = e.stripe.lock().unwrap();
        let ids: Vec<String> = s.events.iter().map(|ev| ev["id"].as_str().unwrap().to_string()).collect();
        s.forgotten = ids;
        s.subscription("sub_pro", "cus_acme", "active", Some("Pro"), "prod_pro", 5_000, 12, "month", "usd");
    }
    let from = e.stripe.lock().unwrap().log.len();
    let r = run(&e, "billing").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(log_since(&e, from).iter().any(|l| l.starts_with("GET /v1/customers?")));
    assert!(r.objects[0].notes.iter().any(|n| n.contains("no longer knows")), "{:?}", r.objects[0].notes);
    assert_eq!(value(&e, account(&e, "1"), Signal::Seats), Some(13.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_not_yet_due_turns_late_by_itself_without_another_sync() {
    let e = env().await;
    {
        let mut s = e.stripe.lock().unwrap();
        // Initech's invoice falls due in five days.
        s.invoice("in_ini", "cus_ini", "open", 9_000, Some(Utc::now().timestamp() + 5 * DAY));
    }
    both(&e).await;
    let initech = account(&e, "4");
    let a = e.store.account(initech).unwrap().unwrap();
    let observed = e.store.observations(initech).unwrap();
    let records = Records {
        account: &a,
        tickets: &[],
        activities: &[],
        nps: &[],
        manual: None,
        observed: Some(&observed),
        ratings: &[],
    };
    let billing = |days: i64| inputs_at(&records, Utc::now() + chrono::Duration::days(days)).get(Measure::Billing);
    assert_eq!(billing(0), Some(0.0), "not due yet");
    assert_eq!(billing(25), Some(20.0), "twenty days late, though Stripe sent no event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_gone_at_a_relist_takes_its_late_invoice_with_it() {
    let e = env_at(41).await;
    both(&e).await;
    let acme = account(&e, "1");
    assert!(value(&e, acme, Signal::OverdueSince).unwrap() > 0.0, "its invoice is late");
    {
        let mut s = e.stripe.lock().unwrap();
        s.customers.retain(|c| c["id"] != "cus_acme");
        s.subscriptions.retain(|x| x["customer"] != "cus_acme");
        s.invoices.retain(|x| x["customer"] != "cus_acme");
    }
    // The cursor is 40 days old: everything is listed again.
    let r = run(&e, "billing").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(value(&e, acme, Signal::OverdueSince), Some(0.0), "nothing unpaid any more");
    assert_eq!(value(&e, acme, Signal::Mrr), Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_and_a_503_are_waited_out() {
    let e = env().await;
    run(&e, "crm").await;
    {
        let mut s = e.stripe.lock().unwrap();
        s.page = 2; // several pages per list
        for _ in 0..4 {
            s.faults.push_back((429, vec![]));
        }
        s.faults.push_back((503, vec![("stripe-should-retry", "true".into())]));
    }
    let r = run(&e, "billing").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.requests.1, 5, "five retries");
    assert_eq!(value(&e, account(&e, "1"), Signal::Mrr), Some(600.0), "every page read");
    // Stripe saying a retry cannot help stops at once.
    e.stripe.lock().unwrap().faults.push_back((500, vec![("stripe-should-retry", "false".into())]));
    let r = run_opts(&e, "billing", true).await;
    let err = r.error.expect("stopped").to_string();
    assert!(err.contains("HTTP 500") && err.contains("after 1 attempts"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_permission_names_its_variable_and_what_it_needs() {
    let e = env().await;
    run(&e, "crm").await;
    e.stripe.lock().unwrap().forbidden.push("/v1/subscriptions");
    let r = run(&e, "billing").await;
    let err = r.error.expect("refused").to_string();
    assert!(err.contains(&e.key_env), "{err}");
    assert!(err.contains("reading subscriptions (HTTP 403)"), "{err}");
    assert!(err.contains("Read access to Customers, Subscriptions, Invoices"), "{err}");
    assert!(!err.contains("sk_test_secret"), "{err}");
    assert!(e.store.cursor("billing", "events").unwrap().is_none(), "nothing half-landed");
    // A wrong key says so, and where it goes.
    std::env::set_var(&e.key_env, "sk_test_wrong");
    let err = run(&e, "billing").await.error.expect("refused").to_string();
    assert!(err.contains("HTTP 401") && err.contains("key is not valid") && err.contains(&e.key_env), "{err}");
    assert!(!err.contains("sk_test_wrong"), "{err}");
}
