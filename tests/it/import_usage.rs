//! `cockpit import usage FILE` through the real binary: CSV and JSON Lines
//! on a workspace synced from a fake HubSpot and on one built with the
//! store; the imported usage in the rebuilt past; a re-import that changes
//! nothing; and files with a BOM, semicolons, the wrong delimiter, a bad
//! line, future dates, duplicates and unknown accounts.

use crate::common::fixtures;
use crate::fake;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate, Utc};
use cockpit::domain::observed::Signal;
use cockpit::domain::{Account, AccountId, Measure};
use cockpit::store::Store;
use fake::{Crm, Shared};

fn cockpit(dir: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cockpit"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir.join("ws"))
        .args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env("T_CRM", "crm-secret")
        .env_remove("COCKPIT_DATA_DIR")
        .env_remove("COCKPIT_CONFIG")
        .env_remove("COCKPIT_NOW")
        .env("TZ", "UTC")
        .output()
        .expect("run cockpit")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A file in the test's directory.
fn file(dir: &Path, name: &str, body: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn import(dir: &Path, config: &Path, path: &Path) -> Output {
    cockpit(dir, config, &["import", "usage", path.to_str().unwrap()])
}

/// An account at `domain` whose contract started 600 days ago and renews
/// in 200.
fn account(id: u64, name: &str, domain: &str) -> Account {
    Account {
        domain: domain.into(),
        contract_start: today() - Duration::days(600),
        renewal_date: today() + Duration::days(200),
        ..fixtures::account(AccountId(id), name)
    }
}

/// A workspace built with the store: Acme (CRM id 501), two companies
/// called Globex, and Initech; a config whose CRM source is that store's.
struct Built {
    tmp: tempfile::TempDir,
    config: PathBuf,
}

fn built() -> Built {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&tmp.path().join("ws")).unwrap();
        let accounts = [
            ("501".to_string(), account(1, "Acme Inc", "acme.example")),
            ("502".to_string(), account(2, "Globex", "globex.example")),
            ("503".to_string(), account(3, "Globex", "globex-eu.example")),
            ("504".to_string(), account(4, "Initech", "initech.example")),
        ];
        let page = cockpit::engine::ingest::Page { source: "crm", records: &accounts, removed: &[], cursor: None };
        cockpit::engine::ingest::accounts(&store, &page, &[], store.observe(chrono::Utc::now().date_naive())).unwrap();
    }
    let config = file(
        tmp.path(),
        "config.toml",
        "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"http://127.0.0.1:9\"\ntoken_env = \"T_CRM\"\n",
    );
    Built { tmp, config }
}

impl Built {
    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn store(&self) -> Store {
        Store::open(&self.dir().join("ws")).unwrap()
    }

    /// Whether nothing was imported into any account.
    fn untouched(&self) -> bool {
        let s = self.store();
        (1..=4).all(|id| s.observations(AccountId(id)).unwrap().is_empty()) && s.rebuild_pending() == 0
    }
}

/// Weekly rows for `weeks` weeks up to today: (day, week index).
fn weeks(n: i64) -> impl Iterator<Item = (NaiveDate, i64)> {
    (0..n).map(move |w| (today() - Duration::days(7 * (n - 1 - w)), w))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_on_a_synced_workspace_fills_the_past_and_a_second_import_changes_nothing() {
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    for id in 1..=3 {
        crm.add(id, &format!("Company {id}"), 30_000, 1_700_000_000_000 + id as i64);
        crm.companies.get_mut(&id).unwrap().props.insert("seats".into(), "50".into());
    }
    let crm: Shared = Arc::new(Mutex::new(crm));
    let url = fake::start(crm.clone()).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let config = file(
        &dir,
        "config.toml",
        format!("[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{url}\"\ntoken_env = \"T_CRM\"\n"),
    );
    let run = |args: Vec<String>| {
        let (dir, config) = (dir.clone(), config.clone());
        tokio::task::spawn_blocking(move || {
            cockpit(&dir, &config, &args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let o = run(vec!["sync".into()]).await.unwrap();
    assert!(o.status.success(), "{}{}", out(&o), err(&o));

    // Company 1 reports its own usage trend; company 2 only active users,
    // whose trend is read against their own past; 99 is not in the CRM.
    let mut csv = String::from("account_id,date,active_users,usage_trend,reports_run\n");
    for (day, w) in weeks(20) {
        csv += &format!("1,{day},40,0.9,{}\n", 100 + w);
        csv += &format!("2,{day}T09:30:00Z,{},,\n", if w < 17 { 40 } else { 20 });
        csv += &format!("99,{day},3,,\n");
    }
    let path = file(&dir, "usage.csv", &csv);
    let first = today() - Duration::days(7 * 19);
    let o = run(vec!["import".into(), "usage".into(), path.display().to_string()]).await.unwrap();
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    let said = out(&o);
    assert!(
        said.contains(
            "Read usage.csv (CSV, comma-separated): 60 rows, columns active_users, usage_trend, metric:reports_run"
        ),
        "{said}"
    );
    assert!(said.contains("1 account in usage.csv is not in this workspace; its 20 rows left out:"), "{said}");
    assert!(said.contains("  account_id \"99\" (line 4, 20 rows)"), "{said}");
    assert!(said.contains("Imported 40 rows for 2 accounts: 4 series changed on 2 accounts"), "{said}");
    assert!(said.contains(&format!("History rebuilt from {first}: 2 accounts")), "{said}");

    let store = Store::open(&dir.join("ws")).unwrap();
    let c1 = store.external_id("crm", "1").unwrap().unwrap();
    let c2 = store.external_id("crm", "2").unwrap().unwrap();
    let past = today() - Duration::days(60);
    let day1 = store.day_signals(c1, past).unwrap().expect("a rebuilt past day");
    assert_eq!(day1.get(Measure::Seats), Some(0.8), "40 of 50 seats");
    assert_eq!(day1.get(Measure::Usage), Some(0.9), "the file's own usage trend");
    let day2 = store.day_signals(c2, past).unwrap().unwrap();
    assert_eq!(day2.get(Measure::Seats), Some(0.8));
    assert_eq!(day2.get(Measure::Usage), Some(1.0), "steady users against their own past");
    let now2 = store.day_signals(c2, today()).unwrap().unwrap();
    assert_eq!(now2.get(Measure::Seats), Some(0.4));
    assert!(now2.get(Measure::Usage).unwrap() < 0.7, "{now2:?}");
    let obs = store.observations(c1).unwrap();
    let reports = obs.series.iter().find(|(s, _)| s.key() == "metric:reports_run").map(|(_, o)| o).unwrap();
    assert_eq!(reports.origin, "import:usage.csv:reports_run");
    assert_eq!(obs.at(&Signal::Metric("reports_run".into()), today()), Some(119.0));
    assert_eq!(obs.best(&Signal::ActiveUsers, today()).unwrap().origin, "import:usage.csv:active_users");
    let history = store.health_history(c2, today() - Duration::days(364), today()).unwrap();
    assert!(history.at(first).is_some() && history.at(past).is_some(), "the past is scored");
    let before = (obs, store.observations(c2).unwrap(), history);
    drop(store);

    // The same file again: nothing changes, and it says so.
    let o = run(vec!["import".into(), "usage".into(), path.display().to_string()]).await.unwrap();
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("Nothing changed: every value in usage.csv is already in the workspace (2 accounts)."));
    assert!(!out(&o).contains("History rebuilt"), "{}", out(&o));
    let store = Store::open(&dir.join("ws")).unwrap();
    let after = (
        store.observations(c1).unwrap(),
        store.observations(c2).unwrap(),
        store.health_history(c2, today() - Duration::days(364), today()).unwrap(),
    );
    assert_eq!(before.0, after.0);
    assert_eq!(before.1, after.1);
    assert_eq!(before.2.scores, after.2.scores);
    assert_eq!(store.rebuild_pending(), 0);
}

#[test]
fn json_lines_by_domain_and_name_with_unknown_and_ambiguous_accounts_listed() {
    let w = built();
    let mut lines = String::new();
    for (day, w) in weeks(10) {
        lines += &format!("{{\"domain\": \"https://www.Acme.example/\", \"date\": \"{day}\", \"active_users\": 15, \"seats\": 30, \"logins\": {}}}\n", 50 + w);
        lines += &format!("{{\"name\": \"Initech\", \"date\": \"{day}\", \"active_users\": 5}}\n");
    }
    lines += &format!("{{\"name\": \"Globex\", \"date\": \"{}\", \"active_users\": 5}}\n", today());
    lines += &format!("\n{{\"domain\": \"nope.example\", \"date\": \"{}\", \"active_users\": 5}}\n", today());
    let path = file(w.dir(), "usage.jsonl", lines);
    let o = import(w.dir(), &w.config, &path);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    let said = out(&o);
    assert!(said.contains("Read usage.jsonl (JSON Lines): 22 rows"), "{said}");
    assert!(said.contains("2 accounts in usage.jsonl are not in this workspace; their 2 rows left out:"), "{said}");
    assert!(
        said.contains("  name \"Globex\": matches 2 accounts, use account_id to say which (line 21, 1 row)"),
        "{said}"
    );
    assert!(said.contains("  domain \"nope.example\" (line 23, 1 row)"), "{said}");

    let store = w.store();
    let past = today() - Duration::days(30);
    let acme = store.day_signals(AccountId(1), past).unwrap().unwrap();
    assert_eq!(acme.get(Measure::Seats), Some(0.5), "15 of the file's 30 seats");
    let initech = store.day_signals(AccountId(4), past).unwrap().unwrap();
    assert_eq!(initech.get(Measure::Seats), Some(0.25), "5 of the account's 20 seats");
    let obs = store.observations(AccountId(1)).unwrap();
    assert_eq!(obs.at(&Signal::Metric("logins".into()), today()), Some(59.0));
    assert_eq!(obs.at(&Signal::Seats, past), Some(30.0));
    assert!(
        store.observations(AccountId(2)).unwrap().is_empty() && store.observations(AccountId(3)).unwrap().is_empty()
    );
}

#[test]
fn a_bom_and_semicolons_with_decimal_commas_are_read() {
    let w = built();
    let day = today() - Duration::days(3);
    let body = format!("\u{feff}account_id;date;active_users;usage_trend\r\n501;{day};12;0,75\r\n");
    let o = import(w.dir(), &w.config, &file(w.dir(), "usage.csv", body));
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("(CSV, semicolon-separated): 1 row, columns active_users, usage_trend."), "{}", out(&o));
    let store = w.store();
    let obs = store.observations(AccountId(1)).unwrap();
    assert_eq!(obs.at(&Signal::UsageTrend, today()), Some(0.75));
    assert_eq!(store.day_signals(AccountId(1), day).unwrap().unwrap().get(Measure::Usage), Some(0.75));
    drop(store);
    // JSON Lines known by their content, behind a BOM.
    let body = format!("\u{feff}{{\"name\": \"Initech\", \"date\": \"{day}\", \"active_users\": 4}}\n");
    let o = import(w.dir(), &w.config, &file(w.dir(), "usage.txt", body));
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("Read usage.txt (JSON Lines): 1 row"), "{}", out(&o));
    assert_eq!(w.store().observations(AccountId(4)).unwrap().at(&Signal::ActiveUsers, day), Some(4.0));
}

#[test]
fn the_wrong_delimiter_is_named_and_nothing_is_applied() {
    let w = built();
    let day = today() - Duration::days(3);
    let o = import(
        w.dir(),
        &w.config,
        &file(w.dir(), "pipes.csv", format!("domain|date|active_users\nacme.example|{day}|3\n")),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("pipes.csv: the header row (line 1) is split by pipe (|), which cockpit does not read"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("nothing was imported"), "{}", err(&o));
    // A header split by semicolons over rows split by commas.
    let body = format!("domain;date;active_users\nacme.example;{day};3\ninitech.example,{day},4\n");
    let o = import(w.dir(), &w.config, &file(w.dir(), "mixed.csv", body));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("mixed.csv line 3: has 1 value where the header has 3 columns: it seems split by comma while the header uses semicolon"),
        "{}",
        err(&o)
    );
    assert!(w.untouched());
}

#[test]
fn a_bad_line_in_the_middle_is_named_and_nothing_is_applied() {
    let w = built();
    let mut csv = String::from("domain,date,active_users,seats\n");
    for (day, n) in weeks(9) {
        let users = if n == 4 { "about 12".to_string() } else { (10 + n).to_string() };
        csv += &format!("acme.example,{day},{users},20\n");
    }
    csv += &format!("initech.example,{},-2,20\n", today());
    let o = import(w.dir(), &w.config, &file(w.dir(), "usage.csv", csv));
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("usage.csv line 6, active_users: \"about 12\" is not a number: write a plain number"), "{e}");
    assert!(e.contains("usage.csv line 11, active_users: -2 is negative"), "{e}");
    assert!(e.contains("error: 2 problems on 2 lines of usage.csv; nothing was imported: fix them"), "{e}");
    assert!(out(&o).is_empty(), "{}", out(&o));
    assert!(w.untouched());
}

#[test]
fn future_and_unreadable_dates_are_refused() {
    let w = built();
    let later = today() + Duration::days(3);
    let body = format!("name,date,active_users\nAcme Inc,{},3\nAcme Inc,{later},4\nAcme Inc,03/02/2026,4\n", today());
    let o = import(w.dir(), &w.config, &file(w.dir(), "usage.csv", body));
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains(&format!("usage.csv line 3, date: {later} is in the future")), "{e}");
    assert!(e.contains("usage.csv line 4, date: \"03/02/2026\" is not a date: write it as YYYY-MM-DD"), "{e}");
    assert!(w.untouched());
}

#[test]
fn duplicates_that_agree_pass_and_ones_that_conflict_are_refused() {
    let w = built();
    let day = today() - Duration::days(10);
    // The same row twice, and by id and by domain: one account, one value.
    let same = format!("account_id,domain,date,active_users\n501,,{day},7\n501,,{day},7\n,acme.example,{day},7\n");
    let o = import(w.dir(), &w.config, &file(w.dir(), "same.csv", same));
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert_eq!(w.store().observations(AccountId(1)).unwrap().at(&Signal::ActiveUsers, day), Some(7.0));

    let w = built();
    let clash = format!("account_id,domain,date,active_users\n501,,{day},7\n,acme.example,{day}T16:00:00Z,9\n");
    let o = import(w.dir(), &w.config, &file(w.dir(), "clash.csv", clash));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains(&format!(
            "clash.csv line 3, active_users: 9 conflicts with 7 on line 2 for the same account on {day}; keep one"
        )),
        "{}",
        err(&o)
    );
    assert!(w.untouched());
}

#[test]
fn a_file_whose_accounts_are_all_unknown_fails_and_lists_them() {
    let w = built();
    let day = today() - Duration::days(1);
    let body = format!("domain,date,active_users\nnope.example,{day},3\nother.example,{day},3\n");
    let o = import(w.dir(), &w.config, &file(w.dir(), "usage.csv", body));
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("2 accounts in usage.csv are not in this workspace"), "{}", out(&o));
    assert!(out(&o).contains("  domain \"other.example\" (line 3, 1 row)"), "{}", out(&o));
    assert!(err(&o).contains("none of its accounts is in this workspace; check the account column"), "{}", err(&o));
    assert!(w.untouched());
}

#[test]
fn a_missing_account_column_is_named() {
    let w = built();
    let o = import(
        w.dir(),
        &w.config,
        &file(w.dir(), "usage.csv", format!("company,date,active_users\nAcme,{},3\n", today())),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("usage.csv: no account column: the header needs account_id (the HubSpot company id), domain or name; it has company, date, active_users"), "{}", err(&o));
    assert!(w.untouched());
}
