//! Health on a synced book, through the real binary against a fake
//! HubSpot: company properties as inputs, a year of their history read on
//! the first sync and scored day by day, and a backtest over the book's
//! own renewals and churns that finds a signal planted in the data (and
//! none when the outcomes do not follow it).

use crate::fake;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate, Utc};
use cockpit::domain::observed::Signal;
use cockpit::domain::Measure;
use cockpit::store::Store;
use fake::{noon_ms as ms, text, Crm, Shared};
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;

/// A deterministic stream of numbers in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How a company's active users move over the year.
#[derive(Clone, Copy, PartialEq)]
enum Path_ {
    /// Steady around 40 of 50 seats.
    Steady,
    /// Falling from 40 to 8 over the 200 days before `end`.
    Falling { end: NaiveDate },
}

fn users_on(path: Path_, day: NaiveDate, noise: f64) -> f64 {
    let base = match path {
        Path_::Steady => 40.0,
        Path_::Falling { end } => {
            let into = (day - (end - Duration::days(200))).num_days() as f64 / 200.0;
            40.0 - 32.0 * into.clamp(0.0, 1.0)
        }
    };
    (base + noise).round().max(0.0)
}

/// A book of `n` companies, each with a year of weekly `active_users_30d`
/// history and a closed renewal deal. When `planted`, the companies whose
/// renewal was lost are (mostly) the ones whose users fell before it; when
/// not, who renews has nothing to do with usage.
fn book(n: u64, planted: bool, today: NaiveDate) -> Crm {
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    let mut rng = Rng(if planted { 7 } else { 11 });
    for id in 1..=n {
        crm.add(id, &format!("Company {id:03}"), 30_000, 1_700_000_000_000 + id as i64);
        crm.companies.get_mut(&id).unwrap().props.insert("seats".into(), "50".into());
        let close = today - Duration::days(5 + (rng.next() * 240.0) as i64);
        let churned = id % 2 == 0;
        let falls = if planted {
            // Most churns show the fall; some come out of the blue, and a
            // few customers who renew go through a dip of their own.
            if churned {
                rng.next() > 0.12
            } else {
                rng.next() < 0.08
            }
        } else {
            rng.next() < 0.5
        };
        let path = if falls { Path_::Falling { end: close } } else { Path_::Steady };
        for week in 0..53 {
            let day = today - Duration::days(7 * (52 - week));
            let users = users_on(path, day, (rng.next() - 0.5) * 8.0);
            crm.set_with_history(id, "active_users_30d", ms(day), &format!("{users}"));
        }
        let won = if churned { "false" } else { "true" };
        crm.put(
            "deals",
            10_000 + id,
            &[
                ("dealname", "Renewal"),
                ("dealtype", "renewal"),
                ("closedate", &close.to_string()),
                ("hs_is_closed", "true"),
                ("hs_is_closed_won", won),
                ("amount", "30000"),
            ],
            1_700_000_000_000 + id as i64,
            Some(id),
        );
    }
    crm
}

struct World {
    crm: Shared,
    url: String,
    tmp: tempfile::TempDir,
}

async fn world(crm: Crm) -> World {
    let crm: Shared = Arc::new(Mutex::new(crm));
    let url = fake::start(crm.clone()).await;
    World { crm, url, tmp: tempfile::tempdir().unwrap() }
}

impl World {
    fn config(&self) -> PathBuf {
        let path = self.tmp.path().join("config.toml");
        let text = format!(
            "# The fakes date everything from the real clock: around the clock, what
             # the sync raises is due today whatever day the tests run.\n\
             [working_hours]\nstart = \"00:00\"\nend = \"24:00\"\n\
             days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\n\
             [[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{}\"\ntoken_env = \"T_CRM\"\n\n\
             [source.properties]\nactive_users = \"active_users_30d\"\ndays_past_due = \"days_overdue\"\n\
             onboarding_completion = \"onboarding\"\n\n[source.metrics]\nreports_run = \"reports_30d\"\n",
            self.url
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn workspace(&self) -> PathBuf {
        self.tmp.path().join("ws")
    }

    async fn cockpit(&self, config: &Path, args: &[&str]) -> Output {
        fake::cockpit(self.tmp.path(), config, &self.workspace(), &[("T_CRM", "crm-secret")], args).await
    }
}

async fn backtest(w: &World, config: &Path) -> Value {
    let out = w.cockpit(config, &["health", "backtest", "--format", "json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn auc(report: &Value) -> f64 {
    report["groups"][0]["figures"]["auc"].as_f64().unwrap_or_else(|| panic!("no AUC in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_planted_in_the_crm_is_found_by_the_backtest_after_one_sync() {
    let today = Utc::now().date_naive();
    let w = world(book(160, true, today)).await;
    let config = w.config();
    let out = w.cockpit(&config, &["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let report = backtest(&w, &config).await;
    assert_eq!(report["outcomes"], 160, "{report}");
    assert_eq!(report["unscored"], 0, "every outcome has a score 90 days before it: {report}");
    let found = auc(&report);
    assert!(found >= 0.8, "AUC {found}: {report}");
    let shuffled = report["shuffled"]["mean_auc"].as_f64().unwrap();
    assert!((0.4..=0.6).contains(&shuffled), "shuffled outcomes score about 0.5: {shuffled}");
    eprintln!("planted signal after one sync: AUC {found:.3}, shuffled {shuffled:.3}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_that_do_not_follow_the_data_score_about_chance() {
    let today = Utc::now().date_naive();
    let w = world(book(160, false, today)).await;
    let config = w.config();
    assert!(w.cockpit(&config, &["sync"]).await.status.success());
    let found = auc(&backtest(&w, &config).await);
    assert!((0.35..=0.65).contains(&found), "AUC {found} on outcomes unrelated to usage");
    eprintln!("outcomes unrelated to usage: AUC {found:.3}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_brings_a_year_of_history_and_the_flags_fire_on_it() {
    let today = Utc::now().date_naive();
    let mut crm = book(6, true, today);
    // Company 1: users falling now, no outcome yet: a usage drop.
    for week in 0..53 {
        let day = today - Duration::days(7 * (52 - week));
        let users = users_on(Path_::Falling { end: today + Duration::days(20) }, day, 0.0);
        crm.set_with_history(1, "active_users_30d", ms(day), &format!("{users}"));
    }
    crm.companies.get_mut(&1).unwrap().props.insert("days_overdue".into(), "0".into());
    // Company 3: more users than seats, and an invoice 21 days late.
    crm.set_with_history(3, "active_users_30d", ms(today) + 60_000, "61");
    crm.companies.get_mut(&3).unwrap().props.insert("days_overdue".into(), "21".into());
    crm.companies.get_mut(&3).unwrap().props.insert("onboarding".into(), "85%".into());
    crm.companies.get_mut(&3).unwrap().props.insert("reports_30d".into(), "120".into());
    // Company 5: values a CRM really sends that are not numbers.
    crm.companies.get_mut(&5).unwrap().props.insert("days_overdue".into(), "see invoice".into());
    crm.companies.get_mut(&5).unwrap().props.insert("reports_30d".into(), "n/a".into());
    let w = world(crm).await;
    let config = w.config();
    let out = w.cockpit(&config, &["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let summary = text(&out);
    assert!(summary.contains("property days_overdue: 1 company sent a value that is not a number"), "{summary}");
    assert!(summary.contains("property reports_30d: 1 company sent a value that is not a number"), "{summary}");
    assert!(summary.contains("\"see invoice\" is not a number"), "{summary}");

    let today_out = w.cockpit(&config, &["today", "--format", "json"]).await;
    assert!(today_out.status.success(), "{}", text(&today_out));
    let queue: Value = serde_json::from_slice(&today_out.stdout).unwrap();
    let reasons: Vec<(String, String)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["account"].as_str().unwrap_or("").to_string(), i["reason"].as_str().unwrap_or("").to_string()))
        .collect();
    let has = |account: &str, words: &str| reasons.iter().any(|(a, r)| a == account && r.contains(words));
    assert!(has("Company 001", "a sudden drop"), "usage drop: {reasons:?}");
    assert!(has("Company 003", "paying overages"), "overage: {reasons:?}");
    assert!(has("Company 003", "past due"), "past due: {reasons:?}");

    let store = Store::open(&w.workspace()).unwrap();
    let id = store.external_id("crm", "1").unwrap().unwrap();
    let history = store.health_history(id, today - Duration::days(364), today).unwrap();
    let scored = history.scores.iter().filter(|s| s.is_some()).count();
    assert!(scored >= 360, "a year of daily scores from the first sync: {scored}");
    let row = store.row(id).unwrap().unwrap();
    assert!(row.health_7d_ago.is_some() && row.health_30d_ago.is_some(), "{row:?}");
    assert!(row.health.unwrap() < history.at(today - Duration::days(200)).unwrap(), "the fall shows in the score");
    let year_ago = store.day_signals(id, today - Duration::days(300)).unwrap().unwrap();
    assert_eq!(year_ago.get(Measure::Seats), Some(0.8), "40 of 50 seats, as the history said then");

    let c3 = store.external_id("crm", "3").unwrap().unwrap();
    let now = store.day_signals(c3, today).unwrap().unwrap();
    assert_eq!(now.get(Measure::Billing), Some(21.0));
    assert_eq!(now.get(Measure::Onboarding), Some(0.85));
    assert!(now.get(Measure::Seats).unwrap() > 1.2);
    let obs = store.observations(c3).unwrap();
    let users = obs.best(&Signal::ActiveUsers, today).unwrap();
    assert_eq!(users.origin, "crm:active_users_30d");
    assert_eq!(obs.at(&Signal::Metric("reports_run".into()), today), Some(120.0));
    let c5 = store.external_id("crm", "5").unwrap().unwrap();
    let five = store.day_signals(c5, today).unwrap().unwrap();
    assert_eq!(five.get(Measure::Billing), None, "text is unknown, never zero");
    drop(store);

    // A later sync reads only what changed, and adds today's value on top.
    let requests_before = w.crm.lock().unwrap().history_pages;
    {
        let mut crm = w.crm.lock().unwrap();
        crm.set_with_history(3, "active_users_30d", ms(today) + 120_000, "30");
        crm.companies.get_mut(&3).unwrap().modified = Utc::now().timestamp_millis();
    }
    let out = w.cockpit(&config, &["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.crm.lock().unwrap().history_pages, requests_before, "history is read once, not every sync");
    let store = Store::open(&w.workspace()).unwrap();
    let now = store.day_signals(c3, today).unwrap().unwrap();
    assert_eq!(now.get(Measure::Seats), Some(0.6));
    assert_eq!(store.rebuild_pending(), 0);
    drop(store);

    // --full reads the history again.
    let out = w.cockpit(&config, &["sync", "--full"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(w.crm.lock().unwrap().history_pages > requests_before);
    let _ = DAY_MS;
}
