//! `cockpit account` on a workspace synced from a fake HubSpot through the
//! real binary: mapped company properties show their origin and date,
//! values that are not numbers and short histories say why they are
//! unknown, and names are matched exactly first, then by a unique part.

use crate::fake;

use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate, Utc};
use fake::Crm;
use serde_json::Value;

use fake::noon_ms as ms;

/// Northwind Traders: a year of weekly active users (40 of 50 seats), an
/// invoice status that is text, onboarding at 85%, two contacts (a VP is a
/// key person), a recent call and an open renewal. Northwind Labs shares
/// the first word (and has an escape sequence in its name). Contoso has
/// two weeks of users and no seats.
fn book(today: NaiveDate) -> Crm {
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    let t0 = 1_700_000_000_000;
    crm.add(1001, "Northwind Traders", 60_000, t0);
    crm.add(1002, "Northwind Labs\u{1b}[2J", 20_000, t0);
    crm.add(1003, "Contoso", 10_000, t0);
    crm.companies.get_mut(&1001).unwrap().props.insert("seats".into(), "50".into());
    for week in 0..53 {
        let day = today - Duration::days(7 * (52 - week));
        crm.set_with_history(1001, "active_users_30d", ms(day), "40");
    }
    crm.set_with_history(1001, "days_overdue", ms(today - Duration::days(40)), "0");
    crm.set_with_history(1001, "days_overdue", ms(today - Duration::days(10)), "see invoice");
    crm.set_with_history(1001, "onboarding", ms(today - Duration::days(20)), "85%");
    for day in [today - Duration::days(14), today - Duration::days(7)] {
        crm.set_with_history(1003, "active_users_30d", ms(day), "12");
    }
    let person = |first: &'static str, last: &'static str, title: &'static str, email: &'static str| {
        [("firstname", first), ("lastname", last), ("jobtitle", title), ("email", email)]
    };
    crm.put("contacts", 501, &person("Bo", "Kim", "Analyst", "bo@northwind.example"), t0, Some(1001));
    crm.put("contacts", 502, &person("Ann", "Lee", "VP Operations", "ann@northwind.example"), t0, Some(1001));
    let call_at = (today - Duration::days(3)).and_hms_opt(0, 0, 0).unwrap().and_utc().to_rfc3339();
    crm.put(
        "calls",
        81,
        &[("hs_timestamp", &call_at), ("hs_call_title", "Renewal call \u{1b}[31mred")],
        t0,
        Some(1001),
    );
    crm.put(
        "deals",
        70,
        &[
            ("dealname", "Northwind renewal FY27"),
            ("dealtype", "renewal"),
            ("amount", "60000"),
            ("closedate", "2027-06-30"),
        ],
        t0,
        Some(1001),
    );
    crm
}

struct World {
    tmp: tempfile::TempDir,
    config: PathBuf,
}

impl World {
    async fn synced(crm: Crm) -> World {
        let url = fake::start(Arc::new(Mutex::new(crm))).await;
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("config.toml");
        let text = format!(
            "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{url}\"\ntoken_env = \"T_CRM\"\n\n\
             [source.properties]\nactive_users = \"active_users_30d\"\ndays_past_due = \"days_overdue\"\n\
             onboarding_completion = \"onboarding\"\n"
        );
        std::fs::write(&config, text).unwrap();
        let w = World { tmp, config };
        let out = w.cockpit(&["sync"]).await;
        assert!(out.status.success(), "{}", text_of(&out));
        w
    }

    async fn cockpit(&self, args: &[&str]) -> Output {
        let ws = self.tmp.path().join("ws");
        fake::cockpit(self.tmp.path(), &self.config, &ws, &[("T_CRM", "crm-secret")], args).await
    }

    async fn json(&self, who: &str) -> Value {
        let out = self.cockpit(&["account", who, "--format", "json"]).await;
        assert!(out.status.success(), "{}", text_of(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

use fake::text as text_of;

fn input<'a>(doc: &'a Value, key: &str) -> &'a Value {
    doc["inputs"].as_array().unwrap().iter().find(|i| i["input"] == key).unwrap_or_else(|| panic!("no {key}: {doc}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_inputs_show_their_origin_and_date_and_why_the_others_are_unknown() {
    let today = Utc::now().date_naive();
    let w = World::synced(book(today)).await;
    // Equal values collapse: 40 users is in force since the first week.
    let first_week = (today - Duration::days(364)).to_string();

    // By the CRM's id.
    let doc = w.json("1001").await;
    assert_eq!(doc["account"]["name"], "Northwind Traders");
    assert_eq!(doc["account"]["external_ids"][0], serde_json::json!({ "source": "crm", "id": "1001" }));
    let seats = input(&doc, "seat_utilisation");
    assert_eq!(seats["value"], 0.8, "{seats}");
    assert_eq!(seats["basis"][0]["kind"], "reported");
    assert_eq!(seats["basis"][0]["origin"], "crm:active_users_30d");
    assert_eq!(seats["basis"][0]["since"], first_week.as_str(), "the day of the point in force: {seats}");
    assert_eq!(seats["basis"][0]["checked"], today.to_string().as_str(), "confirmed by today's sync: {seats}");
    assert_eq!(seats["basis"][1]["origin"], "crm:seats", "seats as the CRM reports them: {seats}");
    let usage = input(&doc, "usage_trend");
    assert_eq!((usage["value"].as_f64(), &usage["basis"][0]["kind"]), (Some(1.0), &Value::from("trend")), "{usage}");
    assert_eq!(usage["basis"][0]["baseline_days"], 90);
    let billing = input(&doc, "days_past_due");
    assert_eq!(billing["known"], false);
    assert_eq!(billing["unknown"]["reason"], "not_a_number", "{billing}");
    assert_eq!(billing["unknown"]["origin"], "crm:days_overdue");
    let ten_days_ago = (today - Duration::days(10)).to_string();
    assert_eq!(billing["date"], ten_days_ago.as_str());
    assert_eq!(
        billing["source"],
        format!("crm:days_overdue sent a value that was not a number on {ten_days_ago}").as_str()
    );
    let onboarding = input(&doc, "onboarding_completion");
    assert_eq!(
        (onboarding["value"].as_f64(), onboarding["basis"][0]["origin"].as_str()),
        (Some(0.85), Some("crm:onboarding"))
    );
    assert_eq!(onboarding["date"], (today - Duration::days(20)).to_string().as_str());
    let contact = input(&doc, "days_since_contact");
    assert_eq!(contact["value"], 3.0, "{contact}");
    assert_eq!(contact["basis"][0]["kind"], "activity");
    assert_eq!(contact["basis"][0]["activity"], "call");
    assert!(!contact["source"].as_str().unwrap().contains('\u{1b}'), "vendor text is sanitized: {contact}");
    assert_eq!(input(&doc, "nps")["unknown"]["reason"], "no_nps_answer");
    assert_eq!(input(&doc, "days_since_login")["unknown"]["reason"], "no_source");
    // The score with its factors, a year of history, the people and records.
    assert!(doc["score"]["factors"].as_array().unwrap().iter().any(|f| f["input"] == "seat_utilisation"));
    assert!(doc["score"]["missing"].as_array().unwrap().iter().any(|m| m == "days_past_due"), "{}", doc["score"]);
    let scores = doc["history"]["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 365);
    assert!(scores.iter().filter(|s| s.is_u64()).count() >= 360, "a year of scores from the first sync");
    assert_eq!(doc["contacts"][0]["name"], "Ann Lee", "key people first: {}", doc["contacts"]);
    assert_eq!(doc["contacts"][0]["key_person"], true);
    assert_eq!(doc["deals"][0]["name"], "Northwind renewal FY27");
    assert_eq!(doc["timeline"][0]["kind"], "call");
    assert_eq!(doc["timeline"][0]["summary"], "Renewal call red");

    // The table and the Markdown say the same.
    let out = w.cockpit(&["account", "northwind traders"]).await;
    assert!(out.status.success(), "{}", text_of(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.starts_with("Northwind Traders  (account "), "{table}");
    let line = |key: &str| table.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{key}: {table}"));
    assert!(line("seat_utilisation").contains("80%  crm:active_users_30d reported 40; crm:seats reported 50"));
    assert!(line("seat_utilisation").ends_with(&first_week), "{}", line("seat_utilisation"));
    assert!(line("days_past_due").contains("unknown  crm:days_overdue sent a value that was not a number on"));
    assert!(!table.contains('\u{1b}'), "no escape reaches the terminal");
    assert!(table.contains("\nTimeline (1, most recent first)\n"), "{table}");
    let md = w.cockpit(&["account", "NORTHWIND TRADERS", "--format", "markdown"]).await;
    let md = String::from_utf8_lossy(&md.stdout).into_owned();
    assert!(md.starts_with("# Northwind Traders\n"), "{md}");
    assert!(
        md.contains("| seat_utilisation | 80% | crm:active_users_30d reported 40; crm:seats reported 50 |"),
        "{md}"
    );
    assert!(md.contains("## Health, "), "{md}");

    // Two weeks of users: no trend yet, and no seats to divide by.
    let doc = w.json("contoso").await;
    let usage = input(&doc, "usage_trend");
    assert_eq!(usage["unknown"]["reason"], "short_history", "{usage}");
    assert!(usage["source"].as_str().unwrap().starts_with("not enough history for a trend (needs 28 days"));
    assert_eq!(input(&doc, "seat_utilisation")["unknown"]["reason"], "no_seats");

    // A part of two names is ambiguous: both listed with their ids, exit 2.
    let out = w.cockpit(&["account", "northwind"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text_of(&out));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("\"northwind\" matches 2 accounts"), "{err}");
    assert!(err.contains("Northwind Traders") && err.contains("Northwind Labs"), "{err}");
    assert!(!err.contains('\u{1b}'), "names are sanitized: {err:?}");
    let out = w.cockpit(&["account", "initech"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account matches \"initech\""), "{}", text_of(&out));
}
