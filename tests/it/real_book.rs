//! Issue 12's "done when", through the real binary: a workspace synced from
//! HubSpot, Zendesk and Stripe (fakes on 127.0.0.1 speaking their wire
//! formats) plus a usage file shows, for a typical account, at least eight
//! of the model's inputs known with their sources, a year of daily scores,
//! the usage-drop, past-due and overage flags where they should fire, and a
//! backtest over the book's own renewals and churns.

use crate::fake;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use fake::desk::{Desk, SharedDesk};
use fake::stripe::SharedStripe;
use fake::{noon_ms as ms, text, Crm, Shared};
use serde_json::Value;

struct World {
    _crm: Shared,
    _desk: SharedDesk,
    _stripe: SharedStripe,
    urls: (String, String, String),
    tmp: tempfile::TempDir,
}

/// Forty companies with a year of weekly active users and last logins; half
/// lost their renewal after their users fell, half renewed. Company 3 is
/// the typical account the test reads: calls on its timeline, tickets at the
/// desk, a subscription and a late invoice at Stripe, a usage file row.
async fn world() -> World {
    let today = Utc::now().date_naive();
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    let mut desk = Desk {
        auth: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-secret")),
        page: 100,
        ..Desk::default()
    };
    let mut stripe = fake::stripe::new("sk_test_secret");
    stripe.clock = Utc::now().timestamp();
    for id in 1..=40u64 {
        let name = format!("Company {id:03}");
        crm.add(id, &name, 30_000, 1_700_000_000_000 + id as i64);
        let props = &mut crm.companies.get_mut(&id).unwrap().props;
        props.insert("seats".into(), "50".into());
        props.insert("onboarding".into(), "100%".into());
        let churned = id % 2 == 0;
        let close = today - Duration::days(20 + (id as i64 * 37) % 200);
        let falls = churned != (id % 10 == 1);
        for week in 0..53 {
            let day = today - Duration::days(7 * (52 - week));
            let into = (day - (close - Duration::days(200))).num_days() as f64 / 200.0;
            let users = if falls && id != 3 { 40.0 - 30.0 * into.clamp(0.0, 1.0) } else { 40.0 + (week % 3) as f64 };
            crm.set_with_history(id, "active_users_30d", ms(day), &format!("{users:.0}"));
            crm.set_with_history(id, "reports_30d", ms(day), &format!("{}", 100 + week % 4));
            crm.set_with_history(id, "last_login_date", ms(day), &day.to_string());
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
            ],
            1_700_000_000_000 + id as i64,
            Some(id),
        );
        desk.org(100 + id, &name, &[], Some(&id.to_string()));
        stripe.customer(&format!("cus_{id}"), &name, &format!("ap@c{id}.example"), Some(&id.to_string()), None);
        stripe.subscription(
            &format!("sub_{id}"),
            &format!("cus_{id}"),
            "active",
            Some("Pro"),
            "prod_pro",
            5_000,
            50,
            "month",
            "usd",
        );
    }
    // Company 3: now paying for 50 seats with 61 users, an invoice 20 days late.
    crm.set_with_history(3, "active_users_30d", ms(today) + 60_000, "61");
    stripe.invoice("in_3", "cus_3", "open", 5_000, Some(Utc::now().timestamp() - 20 * 86_400));
    let call = (today - Duration::days(3)).and_hms_opt(15, 0, 0).unwrap().and_utc().timestamp_millis().to_string();
    crm.put("calls", 900, &[("hs_timestamp", &call), ("hs_call_title", "QBR")], 1_700_000_000_500, Some(3));
    desk.ticket(1, Some(103), "open", "Export fails");
    desk.ticket(2, Some(103), "solved", "Login help");
    desk.rate(2, "good", "Quick and kind", Utc::now() - Duration::days(4));
    // NPS from HubSpot surveys, through the answering contact's company:
    // company 3 a promoter, then a passive; company 9 a detractor.
    for (contact, company) in [(301, 3), (309, 9)] {
        crm.put(
            "contacts",
            contact,
            &[("firstname", "Sam"), ("email", "sam@x.example")],
            1_700_000_000_000,
            Some(company),
        );
    }
    let answer = |crm: &mut Crm, id: u64, value: &str, contact: u64, days_ago: i64| {
        let at = Utc::now() - Duration::days(days_ago);
        let at_ms = at.timestamp_millis().to_string();
        let props = [
            ("hs_survey_type", "NPS"),
            ("hs_survey_name", "Quarterly NPS"),
            ("hs_value", value),
            ("hs_content", "comment"),
            ("hs_submission_timestamp", at_ms.as_str()),
        ];
        crm.put("feedback_submissions", id, &props, at.timestamp_millis(), Some(contact));
    };
    answer(&mut crm, 401, "9", 301, 120);
    answer(&mut crm, 402, "8", 301, 10);
    answer(&mut crm, 403, "2", 309, 6);
    // Company 5: its users fall now, its renewal still ahead.
    for week in 0..53 {
        let day = today - Duration::days(7 * (52 - week));
        let users = if week < 40 { 40 } else { 40 - (week - 40) * 3 };
        crm.set_with_history(5, "active_users_30d", ms(day) + 90_000, &users.to_string());
    }
    let crm: Shared = Arc::new(Mutex::new(crm));
    let desk: SharedDesk = Arc::new(Mutex::new(desk));
    let stripe: SharedStripe = Arc::new(Mutex::new(stripe));
    let urls = (
        fake::start(crm.clone()).await,
        fake::desk::start(desk.clone()).await,
        fake::stripe::start(stripe.clone()).await,
    );
    World { _crm: crm, _desk: desk, _stripe: stripe, urls, tmp: tempfile::tempdir().unwrap() }
}

impl World {
    fn config(&self) -> PathBuf {
        let path = self.tmp.path().join("config.toml");
        let (crm, desk, stripe) = &self.urls;
        let text = format!(
            "# The fakes date everything from the real clock: around the clock, what
             # the sync raises is due today whatever day the tests run.\n\
             [working_hours]\nstart = \"00:00\"\nend = \"24:00\"\n\
             days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\n\
             [[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{crm}\"\ntoken_env = \"T_CRM\"\n\
             [source.properties]\nactive_users = \"active_users_30d\"\nonboarding_completion = \"onboarding\"\n\
             last_login = \"last_login_date\"\n[source.metrics]\nreports_run = \"reports_30d\"\n\n\
             [[source]]\nname = \"desk\"\nkind = \"zendesk\"\nbase_url = \"{desk}\"\nemail = \"agent@acme.com\"\n\
             token_env = \"T_DESK\"\n\n\
             [[source]]\nname = \"billing\"\nkind = \"stripe\"\nbase_url = \"{stripe}\"\ntoken_env = \"T_STRIPE\"\n\
             match_metadata = \"hubspot_company_id\"\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn cockpit(&self, config: &Path, args: &[&str]) -> Output {
        let secrets = [("T_CRM", "crm-secret"), ("T_DESK", "desk-secret"), ("T_STRIPE", "sk_test_secret")];
        fake::cockpit(self.tmp.path(), config, &self.tmp.path().join("ws"), &secrets, args).await
    }
}

fn from_nps(known: &[(String, String)]) -> bool {
    ["nps", "nps_trend"].iter().all(|k| known.iter().any(|(i, _)| i == k))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_book_synced_from_three_vendors_and_a_usage_file_has_its_inputs_history_flags_and_backtest() {
    let w = world().await;
    let config = w.config();
    let out = w.cockpit(&config, &["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("history: "), "{}", text(&out));

    // A usage file: exports per account and day from the warehouse.
    let today = Utc::now().date_naive();
    let file = w.tmp.path().join("usage.csv");
    let mut csv = String::from("account_id,date,active_users,exports\n");
    for back in (0..120).step_by(7) {
        csv.push_str(&format!("3,{},61,{}\n", today - Duration::days(back), 20 + back % 5));
    }
    std::fs::write(&file, csv).unwrap();
    let out = w.cockpit(&config, &["import", "usage", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out));

    let out = w.cockpit(&config, &["account", "Company 003", "--format", "json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let known: Vec<(String, String)> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["known"] == true)
        .map(|i| {
            let origin = i["basis"][0]["origin"].as_str().or(i["basis"][0]["kind"].as_str()).unwrap_or("");
            (i["input"].as_str().unwrap().to_string(), origin.to_string())
        })
        .collect();
    assert!(known.len() >= 11, "the inputs known with their sources: {known:?}\n{doc}");
    assert!(from_nps(&known), "NPS and its trend from the survey answers: {known:?}");
    let from = |input: &str| known.iter().find(|(i, _)| i == input).map(|(_, o)| o.clone());
    assert_eq!(from("days_past_due").as_deref(), Some("stripe:invoices"), "{known:?}");
    assert!(from("seat_utilisation").is_some() && from("usage_trend").is_some(), "{known:?}");
    assert_eq!(from("onboarding_completion").as_deref(), Some("crm:onboarding"), "{known:?}");
    assert_eq!(from("days_since_login").as_deref(), Some("crm:last_login_date"), "{known:?}");
    assert!(from("reports_run").is_some(), "a named metric is an input: {known:?}");
    assert!(from("days_since_contact").is_some() && from("support_load").is_some(), "{known:?}");
    let scored = doc["history"]["scores"]
        .as_array()
        .or(doc["scores"].as_array())
        .map(|s| s.iter().filter(|v| !v.is_null()).count())
        .unwrap_or(0);
    assert!(scored >= 360, "a year of daily scores: {scored}");

    let out = w.cockpit(&config, &["today", "--format", "json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let queue: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items: Vec<(String, String)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["account"].as_str().unwrap_or("").to_string(), i["reason"].as_str().unwrap_or("").to_string()))
        .collect();
    let has = |account: &str, words: &str| items.iter().any(|(a, r)| a == account && r.contains(words));
    assert!(has("Company 003", "paying overages"), "overage: {items:?}");
    assert!(has("Company 003", "past due"), "past due: {items:?}");
    assert!(has("Company 005", "a sudden drop"), "usage drop: {items:?}");
    assert!(has("Company 009", "detractor"), "detractor: {items:?}");
    assert!(!has("Company 007", "a sudden drop"), "no drop where users are steady: {items:?}");

    let out = w.cockpit(&config, &["health", "backtest", "--format", "json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcomes"], 40, "{report}");
    let auc = report["groups"][0]["figures"]["auc"].as_f64().unwrap();
    assert!(auc >= 0.8, "the book's own renewals and churns: AUC {auc}");
}
