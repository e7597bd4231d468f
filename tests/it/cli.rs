//! The real binary's headless commands: formats, errors and exit codes.

use crate::common;
use crate::common::bin::{self, stderr, stdout};

use std::path::Path;
use std::process::{Command, Output};

use cockpit::domain::{AccountId, Stage};
use cockpit::store::{Batch, StageTotals, Store};

/// The demo's commands on a Thursday morning: what it raises is due inside
/// working hours whatever day the tests run.
fn cockpit(home: &Path, args: &[&str]) -> Output {
    bin::in_home(home).env("COCKPIT_NOW", "2026-11-26T10:00:00Z").args(args).output().expect("run cockpit")
}

#[test]
fn demo_commands_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let ws = ws.to_str().unwrap();
    let o = cockpit(tmp.path(), &["--demo", "--data-dir", ws, "accounts", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["total"], 150);
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 150);
    for key in ["id", "name", "segment", "arr", "mrr", "health", "band", "stage", "renewal_date", "days_to_renewal"] {
        assert!(accounts[0].get(key).is_some(), "missing {key}");
    }
    let healths: Vec<i64> =
        accounts.iter().filter(|a| a["stage"] != "churned").filter_map(|a| a["health"].as_i64()).collect();
    assert!(healths.windows(2).all(|w| w[0] <= w[1]), "worst health first");

    let o = cockpit(tmp.path(), &["--demo", "--data-dir", ws, "today", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert_eq!(items.len() as u64, doc["overdue"].as_u64().unwrap() + doc["due_today"].as_u64().unwrap());
    assert!(items.iter().all(|i| !i["reason"].as_str().unwrap().is_empty()));
    let ranks: Vec<i64> = items.iter().map(|i| i["rank"].as_i64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "highest rank first: {ranks:?}");
    let why = items[0]["rank_explained"].as_array().unwrap();
    assert_eq!(why.last().unwrap().as_str().unwrap(), format!("score {}", ranks[0]));

    let o = cockpit(tmp.path(), &["--demo", "--data-dir", ws, "today", "--format", "markdown"]);
    let md = stdout(&o);
    assert!(md.starts_with("# Follow-ups for "), "{md}");
    // The digest: grouped by kind, then account with its context, every item once.
    assert!(md.contains("## Escalate to the manager ("), "{md}");
    assert!(md.contains("## Churn risks ("), "{md}");
    let accounts = md.lines().filter(|l| l.starts_with("### ")).count();
    assert!(accounts > 20, "{accounts} account headings");
    assert!(md.lines().filter(|l| l.starts_with("### ")).all(|l| l.contains(" ARR · ")), "{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("- **")).count(), items.len(), "every item once");
    let kinds: u64 = md
        .lines()
        .filter(|l| l.starts_with("## "))
        .map(|l| l.rsplit('(').next().unwrap().trim_end_matches(')').parse::<u64>().unwrap())
        .sum();
    assert_eq!(kinds, items.len() as u64, "the counts per kind add up");

    let o = cockpit(tmp.path(), &["--data-dir", ws, "accounts", "--sort", "arr", "--limit", "3"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 5, "header, rule, three rows");

    let o = cockpit(tmp.path(), &["--data-dir", ws, "accounts", "--sort", "vibes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--sort vibes: unknown column; use one of health, name, arr"), "{}", stderr(&o));
}

#[test]
fn config_check_names_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bad.toml");
    std::fs::write(&cfg, "theme = \"dark\"\n[health.bands]\ngreen = 30\nyellow = 50\n[keys]\n\"j\" = \"jump\"\n")
        .unwrap();
    let o = cockpit(tmp.path(), &["config", "check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:4:10: health.bands.yellow (50) must be below", cfg.display())), "{err}");
    assert!(err.contains(&format!("{}:6:1: [keys] \"jump\" is not an action", cfg.display())), "{err}");
    assert!(err.contains("error: 2 problems in"), "{err}");

    std::fs::write(&cfg, "theme = \"high-contrast\"\n").unwrap();
    let o = cockpit(tmp.path(), &["config", "check", "--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).ends_with(": ok\n"));

    let o = cockpit(tmp.path(), &["config", "check", "--config", tmp.path().join("nope.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("cannot read the config file"));
}

#[test]
fn workspace_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    // A workspace held open by another process.
    let store = Store::open(&ws).unwrap();
    let o = cockpit(tmp.path(), &["--data-dir", ws.to_str().unwrap(), "accounts"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("already open in another running cockpit"), "{}", stderr(&o));
    // Synced data is never replaced by the demo.
    store
        .set_workspace(&cockpit::store::WorkspaceMeta { name: "acme".into(), demo_seed: None, created: common::now() })
        .unwrap();
    drop(store);
    let o = cockpit(tmp.path(), &["--demo", "--data-dir", ws.to_str().unwrap(), "today"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds synced data, not the demo"), "{}", stderr(&o));
    // `demo` never writes into a workspace that has data.
    let o = cockpit(tmp.path(), &["demo", "--accounts", "5", "--data-dir", ws.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already holds a workspace"), "{}", stderr(&o));
    let fresh = tmp.path().join("fresh");
    let o = cockpit(tmp.path(), &["demo", "--accounts", "25", "--seed", "3", "--data-dir", fresh.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(Store::open(&fresh).unwrap().stage_totals().unwrap().accounts(), 25);
}

#[test]
fn hostile_text_never_reaches_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    {
        let store = Store::open(&ws).unwrap();
        cockpit::demo::generate(&store, &cockpit::demo::DemoSpec { accounts: 3, seed: 1, now: common::now() }).unwrap();
        let id = AccountId(1);
        let mut account = store.account(id).unwrap().unwrap();
        let old = store.row(id).unwrap().unwrap();
        account.name = "Evil\u{1b}]0;pwned\u{7} Corp\u{1b}[2J\u{9b}31m".into();
        account.stage = Stage::Adoption;
        let mut row = old.clone();
        row.name = account.name.clone();
        row.stage = Stage::Adoption;
        let mut totals: StageTotals = store.stage_totals().unwrap();
        let mut b = Batch::default();
        b.put_account(&account);
        b.put_row(Some(&old), &row, &mut totals);
        b.put_totals(&totals);
        store.apply(b).unwrap();
        store.flush().unwrap();
    }
    for format in ["table", "json", "markdown"] {
        let o = cockpit(tmp.path(), &["--data-dir", ws.to_str().unwrap(), "accounts", "--format", format]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("Evil Corp"), "{out}");
        assert!(!out.contains('\u{1b}') && !out.contains('\u{9b}') && !out.contains('\u{7}'), "{format}: {out:?}");
    }
    // And on screen.
    let store = Store::open(&ws).unwrap();
    let app = common::app(store, common::theme("dark"));
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(&app, f)).unwrap();
    let cells: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(cells.contains("Evil Corp"));
    assert!(!cells.chars().any(|c| c.is_control()), "control characters reached the screen");
}

#[test]
fn a_health_model_file_is_checked_and_a_bad_one_falls_back_to_the_last_good() {
    let tmp = tempfile::tempdir().unwrap();
    let model = stdout(&cockpit(tmp.path(), &["health", "model"]));
    assert!(model.contains("[[measure]]") && model.contains("version = 3"));
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[health]\nmodel = \"health.toml\"\n").unwrap();
    let health = tmp.path().join("health.toml");
    std::fs::write(&health, model.replace("version = 3", "version = 7")).unwrap();
    let check = |tmp: &Path| cockpit(tmp, &["config", "check", "--config", cfg.to_str().unwrap()]);
    let o = check(tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("health model health.toml: ok (default version 7)"), "{}", stdout(&o));

    // Weights that do not parse, and ranges that overlap: rejected with their lines.
    let broken = model
        .replace("weight = 30\n", "weight = \"heavy\"\n")
        .replace("{ from = 3, to = 7, score = 70 }", "{ from = 2, to = 7, score = 70 }");
    std::fs::write(&health, &broken).unwrap();
    let o = check(tmp.path());
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    let line = broken.lines().position(|l| l.contains("\"heavy\"")).unwrap() + 1;
    assert!(err.contains(&format!("{}:{line}:", health.display())), "{err}");
    assert!(err.contains("using the last good model (version 7)"), "{err}");
    std::fs::write(&health, model.replace("{ from = 3, to = 7, score = 70 }", "{ from = 2, to = 7, score = 70 }"))
        .unwrap();
    let err = stderr(&check(tmp.path()));
    let line = model.lines().position(|l| l.contains("{ from = 3, to = 7, score = 70 }")).unwrap() + 1;
    assert!(err.contains(&format!("{}:{line}:", health.display())) && err.contains("ranges overlap"), "{err}");
}

#[test]
fn metrics_on_the_demo_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let o =
        cockpit(tmp.path(), &["--demo", "metrics", "--from", "2025-11-27", "--to", "2026-11-26", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["days"], 365);
    let c = &v["customers"];
    let (start, churned) = (c["at_start"].as_f64().unwrap(), c["churned"].as_f64().unwrap());
    assert!(start > 0.0 && churned > 0.0, "the demo has a year of churn: {v}");
    let simple = v["logo_churn_simple_pct"].as_f64().unwrap();
    assert!((simple - 100.0 * churned / start).abs() < 1e-9);
    assert!((v["renewal_rate_pct"].as_f64().unwrap() - (100.0 - simple)).abs() < 1e-9);
    let nps = &v["nps"];
    let answers = nps["answers"].as_u64().unwrap();
    assert_eq!(answers, ["promoters", "passives", "detractors"].iter().map(|k| nps[k].as_u64().unwrap()).sum::<u64>());
    let h = &v["health"];
    let by_segment: u64 = h["by_segment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| ["green", "yellow", "red"].iter().map(|k| s[k].as_u64().unwrap()).sum::<u64>())
        .sum();
    assert_eq!(by_segment, ["green", "yellow", "red"].iter().map(|k| h[k].as_u64().unwrap()).sum::<u64>());
    let r = &v["arr_up_for_renewal"];
    assert!(r["30d"].as_u64() <= r["60d"].as_u64() && r["60d"].as_u64() <= r["90d"].as_u64());

    let o = cockpit(tmp.path(), &["--demo", "metrics", "--from", "2026-02-01", "--to", "2026-01-01"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is after --to"), "{}", stderr(&o));
    let o = cockpit(tmp.path(), &["--demo", "metrics", "--format", "markdown"]);
    assert!(stdout(&o).contains("| logo churn |"), "{}", stdout(&o));
}

#[test]
fn backtest_on_the_demo_finds_a_real_signal_and_a_broken_model_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--demo", "health", "backtest", "--format", "json"];
        all.extend_from_slice(args);
        let o = cockpit(tmp.path(), &all);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let doc = run(&[]);
    assert_eq!(doc["horizon_days"], 90);
    assert_eq!(doc["version"], 3);
    let all = &doc["groups"][0];
    assert_eq!(all["segment"], "all");
    let f = &all["figures"];
    assert!(f["churned"].as_u64().unwrap() >= 8 && f["renewed"].as_u64().unwrap() >= 8, "{f}");
    let auc = f["auc"].as_f64().unwrap();
    assert!(auc > 0.6, "the built-in model predicts churn on the demo: AUC {auc}");
    assert!(auc < 0.9, "the demo is not drawn to agree with the model: AUC {auc}");
    let measures = doc["measures"].as_array().unwrap();
    assert!(measures.iter().any(|m| m["measure"] == "usage_trend" && m["auc_alone"].as_f64().unwrap() > 0.6), "{doc}");
    assert_eq!(doc["with_inputs"], doc["outcomes"]);
    let shuffled = &doc["shuffled"];
    assert!((shuffled["mean_auc"].as_f64().unwrap() - 0.5).abs() < 0.05, "{shuffled}");
    assert!(shuffled["p_value"].as_f64().unwrap() < 0.05, "{shuffled}");
    assert!(doc["groups"].as_array().unwrap().len() >= 3, "per segment too");

    // A model with every line turned around, replayed on the same stored
    // inputs, predicts churn backwards.
    let inverted = cockpit::domain::health_model::DEFAULT_MODEL
        .lines()
        .map(|l| match (l.find("zero_at = "), l.find(", full_at = ")) {
            (Some(a), Some(b)) => {
                let zero = &l[a + 10..b];
                let full = l[b + 12..].trim_end_matches(" }").trim_end_matches('}').trim();
                format!("{}zero_at = {full}, full_at = {zero} }}", &l[..a])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("version = 3", "version = 99");
    let path = tmp.path().join("inverted.toml");
    std::fs::write(&path, inverted).unwrap();
    let doc = run(&["--model", path.to_str().unwrap()]);
    assert_eq!(doc["replayed"], true);
    assert_eq!(doc["version"], 99);
    let auc = doc["groups"][0]["figures"]["auc"].as_f64().unwrap();
    assert!(auc < 0.4, "an inverted model scores churners high: AUC {auc}");
    let o = cockpit(tmp.path(), &["--demo", "health", "backtest", "--model", path.to_str().unwrap()]);
    // Never called better than chance; called inverted when the 43 demo
    // outcomes make it significant (the wording itself is unit-tested).
    let said = stdout(&o);
    assert!(!said.contains("better than chance"), "{said}");
    assert!(said.contains("worse than chance (inverted") || said.contains("not distinguishable from chance"), "{said}");

    let o = cockpit(tmp.path(), &["--demo", "health", "backtest"]);
    let text = stdout(&o);
    assert!(text.contains("Health backtest: model default v3, horizon 90 days"), "{text}");
    assert!(text.contains("better than chance"), "{text}");
    assert!(text.contains("AUC alone") && text.contains("usage_trend"), "the per-measure table: {text}");
    let o = cockpit(tmp.path(), &["--demo", "health", "backtest", "--horizon", "soon"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("for example 90d"), "{}", stderr(&o));
}

#[test]
fn the_outbox_lists_edits_pushes_and_discards() {
    use cockpit::domain::followup_action::FollowUpAction;
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let ws_s = ws.to_str().unwrap();
    assert!(cockpit(tmp.path(), &["--demo", "--data-dir", ws_s, "accounts", "--limit", "1"]).status.success());
    let id = {
        let store = Store::open(&ws).unwrap();
        let far = chrono::Utc::now() + chrono::Duration::days(3650);
        let item = store.follow_ups_before(far).next().unwrap().unwrap();
        let action = FollowUpAction::Note { body: "Called Ana.".into() };
        cockpit::engine::act::apply(
            &store,
            &[item],
            &action,
            &cockpit::engine::act::Author::new("tester", chrono::Utc::now()),
        )
        .unwrap();
        store.outbox().unwrap()[0].id
    };
    let id_s = id.to_string();

    let o = cockpit(tmp.path(), &["--data-dir", ws_s, "outbox"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("State") && out.contains("pending") && out.contains("note to HubSpot"), "{out}");
    let o = cockpit(tmp.path(), &["--data-dir", ws_s, "outbox", "list", "--all", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["entries"][0]["id"], id);
    assert_eq!(doc["entries"][0]["state"], "pending");
    assert_eq!(doc["counts"]["pending"], 1);

    let edit = |editor: &str| {
        Command::new(env!("CARGO_BIN_EXE_cockpit"))
            .args(["--data-dir", ws_s, "outbox", "edit", &id_s])
            .env("HOME", tmp.path())
            .env("XDG_CONFIG_HOME", tmp.path().join("config"))
            .env_remove("VISUAL")
            .env("EDITOR", editor)
            .output()
            .unwrap()
    };
    let o = edit("sed -i -e s/Called/Phoned/");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = edit("cp /dev/null");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the new text is empty; discard the entry instead"), "{}", stderr(&o));
    assert_eq!(Store::open(&ws).unwrap().outbox_entry(id).unwrap().unwrap().write.body(), "Phoned Ana.");

    // The demo never pushes: the write waits.
    let o = cockpit(tmp.path(), &["--data-dir", ws_s, "outbox", "push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("waiting: no HubSpot source is configured"), "{}", stdout(&o));

    let o = cockpit(tmp.path(), &["--data-dir", ws_s, "outbox", "retry", "999"]);
    assert!(stderr(&o).contains("the outbox has no entry 999"), "{}", stderr(&o));
    let o = cockpit(tmp.path(), &["--data-dir", ws_s, "outbox", "discard", &id_s]);
    assert!(stdout(&o).contains("it was never sent"), "{}", stdout(&o));
    assert!(stdout(&cockpit(tmp.path(), &["--data-dir", ws_s, "outbox"])).starts_with("Nothing waiting"));
}

#[test]
fn one_account_by_id_or_name_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let ws = ws.to_str().unwrap();
    let o = cockpit(tmp.path(), &["--demo", "--data-dir", ws, "accounts", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let accounts = doc["accounts"].as_array().unwrap();
    let worst = &accounts[0];
    let id = worst["id"].as_u64().unwrap().to_string();
    let name = worst["name"].as_str().unwrap().to_string();

    let o = cockpit(tmp.path(), &["--data-dir", ws, "account", &id, "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let one: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(one["account"]["name"], name.as_str());
    assert_eq!(one["health"]["score"], worst["health"], "the same score as the accounts table");
    let inputs = one["inputs"].as_array().unwrap();
    let keys: Vec<&str> = inputs.iter().map(|i| i["input"].as_str().unwrap()).collect();
    assert_eq!(&keys[..4], ["usage_trend", "seat_utilisation", "days_since_contact", "support_load"]);
    for i in inputs {
        let known = i["known"].as_bool().unwrap();
        assert_eq!(i["value"].is_null(), !known, "{i}");
        assert_eq!(i["unknown"].is_null(), known, "{i}");
        assert!(!i["source"].as_str().unwrap().is_empty(), "every input says where it comes from or why not: {i}");
    }
    let support = inputs.iter().find(|i| i["input"] == "support_load").unwrap();
    let open = one["open_tickets"].as_array().unwrap();
    let escalated = open.iter().filter(|t| t["escalated"] == true).count();
    assert_eq!(support["value"].as_f64(), Some((open.len() + 2 * escalated) as f64), "{support}");
    assert_eq!(support["basis"].as_array().unwrap().len(), open.len());
    let score = &one["score"];
    let points: f64 = score["factors"].as_array().unwrap().iter().map(|f| f["points"].as_f64().unwrap()).sum();
    assert!((points - score["score"].as_f64().unwrap()).abs() <= 1.0, "the points add up to the score: {score}");
    assert_eq!(one["history"]["scores"].as_array().unwrap().len(), 365);
    let timeline: Vec<&str> = one["timeline"].as_array().unwrap().iter().map(|a| a["at"].as_str().unwrap()).collect();
    assert!(timeline.windows(2).all(|w| w[0] >= w[1]), "most recent first: {timeline:?}");
    let nps: Vec<&str> = one["nps"].as_array().unwrap().iter().map(|n| n["on"].as_str().unwrap()).collect();
    assert!(nps.windows(2).all(|w| w[0] >= w[1]), "most recent first: {nps:?}");

    // By name, in any case: the table.
    let o = cockpit(tmp.path(), &["--data-dir", ws, "account", &name.to_uppercase()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.starts_with(&format!("{name}  (account {id}")), "{table}");
    for section in ["\nInputs (as of ", "\nScore ", "\nHealth, ", "\nContacts (", "\nOpen tickets (", "\nTimeline ("] {
        assert!(table.contains(section), "{section}: {table}");
    }
    let months = table.lines().filter(|l| l.len() > 8 && l.as_bytes()[4] == b'-' && l[..4].parse::<u32>().is_ok());
    assert!(months.count() >= 12, "a row per month of the year: {table}");

    let o = cockpit(tmp.path(), &["--data-dir", ws, "account", &id, "--format", "markdown"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.starts_with(&format!("# {name}\n")), "{md}");
    assert!(md.contains("| Input | Value | Source | Date |"), "{md}");
    assert!(md.contains("\n## Timeline ("), "{md}");

    // A word several names share lists them with their ids and exits 2.
    let names: Vec<String> = accounts.iter().map(|a| a["name"].as_str().unwrap().to_string()).collect();
    let word = names
        .iter()
        .filter_map(|n| n.split_whitespace().last())
        .find(|w| names.iter().filter(|n| n.to_lowercase().contains(&w.to_lowercase())).count() >= 2)
        .expect("the demo has names sharing a word")
        .to_lowercase();
    let o = cockpit(tmp.path(), &["--data-dir", ws, "account", &word]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let listed = err.lines().filter(|l| l.split_whitespace().next().is_some_and(|t| t.parse::<u64>().is_ok()));
    assert!(listed.count() >= 2, "{err}");
    assert!(stdout(&o).is_empty());

    let o = cockpit(tmp.path(), &["--data-dir", ws, "account", "no such company anywhere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error: no account matches \"no such company anywhere\""), "{}", stderr(&o));
}

/// Every status the README's exit-code table documents, each from a real
/// run of the binary meeting that kind of failure.
#[test]
fn each_kind_of_failure_exits_with_its_own_status() {
    let tmp = tempfile::tempdir().unwrap();
    let workspace = |name: &str| {
        let ws = tmp.path().join(name);
        Store::open(&ws).unwrap().flush().unwrap();
        ws
    };
    let ws = workspace("ws");
    let ws_s = ws.to_str().unwrap();
    let run = |args: &[&str]| cockpit(tmp.path(), args);
    let status = |o: &Output| (o.status.code(), stderr(o));

    // 0: done.
    let o = run(&["--data-dir", ws_s, "accounts"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // 1: the work failed (nothing matched; a file that cannot be read).
    let (code, err) = status(&run(&["--data-dir", ws_s, "account", "nobody"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("error: no account matches \"nobody\""), "{err}");
    let missing = tmp.path().join("usage.csv");
    let (code, err) = status(&run(&["--data-dir", ws_s, "import", "usage", missing.to_str().unwrap()]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with(&format!("error: cannot read {}: ", missing.display())), "{err}");
    assert!(err.ends_with("; check the path\n") && err.lines().count() == 1, "{err}");

    // 2: the request cannot be served as given.
    let (code, err) = status(&run(&["--data-dir", ws_s, "accounts", "--sort", "vibes"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("error: --sort vibes: unknown column"), "{err}");

    // 3: the config cannot be used (a file that does not read; no source to sync).
    let nope = tmp.path().join("nope.toml");
    let (code, err) = status(&run(&["--config", nope.to_str().unwrap(), "--data-dir", ws_s, "today"]));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.starts_with(&format!("error: cannot read the config file {}", nope.display())), "{err}");
    let (code, err) = status(&run(&["--data-dir", ws_s, "sync"]));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("error: no sources are configured; add a [[source]] table"), "{err}");

    // 4: another process holds the workspace and no cockpit answers for it.
    {
        let _held = Store::open(&ws).unwrap();
        let (code, err) = status(&run(&["--data-dir", ws_s, "today"]));
        assert_eq!(code, Some(4), "{err}");
        assert!(err.contains("already open in another running cockpit"), "{err}");
    }

    // 5: damaged (the records could not be read back: no schema version).
    let broken = workspace("broken");
    {
        let db = sled::Config::new().path(broken.join("db")).open().unwrap();
        db.open_tree("cockpit").unwrap().remove(cockpit::store::keys::SCHEMA).unwrap();
        db.flush().unwrap();
    }
    let (code, err) = status(&run(&["--data-dir", broken.to_str().unwrap(), "accounts"]));
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("is damaged") && err.contains("nothing was changed"), "{err}");

    // 6: written by a newer cockpit.
    let newer = workspace("newer");
    {
        let db = sled::Config::new().path(newer.join("db")).open().unwrap();
        let next = cockpit::store::migrate::CURRENT + 1;
        db.open_tree("cockpit").unwrap().insert(cockpit::store::keys::SCHEMA, &next.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let (code, err) = status(&run(&["--data-dir", newer.to_str().unwrap(), "accounts"]));
    assert_eq!(code, Some(6), "{err}");
    assert!(err.starts_with("error: this workspace was written by a newer cockpit"), "{err}");
}

/// `COCKPIT_LOG=debug` adds the causes under the message, as the code
/// names them; without it, the message alone.
#[test]
fn debug_logging_shows_the_causes_under_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let missing = tmp.path().join("usage.csv");
    let args = ["--data-dir", ws.to_str().unwrap(), "import", "usage", missing.to_str().unwrap()];
    let plain = cockpit(tmp.path(), &args);
    let debug = bin::in_home(tmp.path()).env("COCKPIT_LOG", "debug").args(args).output().unwrap();
    assert_eq!(plain.status.code(), Some(1));
    assert_eq!(debug.status.code(), Some(1));
    let (plain, debug) = (stderr(&plain), stderr(&debug));
    assert_eq!(plain.lines().count(), 1, "{plain}");
    let mut lines = debug.lines();
    assert_eq!(lines.next(), plain.lines().next(), "the same message first");
    let cause = lines.next().unwrap_or_default();
    assert!(cause.starts_with("  caused by: Os {") && cause.contains("kind: NotFound"), "{debug}");
}
