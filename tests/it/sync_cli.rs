//! `cockpit sync` as the real binary against a fake HubSpot and Zendesk on
//! 127.0.0.1: exit codes, what the summary and `--report` say about
//! organizations kept apart, how `accounts` shows them, and a config with
//! mistakes that still syncs its valid source.

use crate::fake;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use fake::desk::{Desk, SharedDesk};
use fake::{Crm, Shared};

struct World {
    crm: Shared,
    desk: SharedDesk,
    crm_url: String,
    desk_url: String,
    tmp: tempfile::TempDir,
}

async fn world() -> World {
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    crm.add(1, "Acme Inc", 50_000, 1_700_000_000_000);
    crm.add(2, "Globex", 30_000, 1_700_000_000_001);
    crm.add(3, "Globex", 20_000, 1_700_000_000_002);
    let mut desk = Desk {
        auth: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-secret")),
        page: 100,
        ..Desk::default()
    };
    desk.org(10, "ACME, Inc.", &[], Some("1"));
    desk.org(12, "Globex", &[], None); // two companies by that name
    desk.org(13, "Umbrella", &["umbrella.example"], None); // none
    for id in 1..=9 {
        desk.ticket(id, Some([10, 12, 13][id as usize % 3]), "open", &format!("Question {id}"));
    }
    let crm: Shared = Arc::new(Mutex::new(crm));
    let desk: SharedDesk = Arc::new(Mutex::new(desk));
    let crm_url = fake::start(crm.clone()).await;
    let desk_url = fake::desk::start(desk.clone()).await;
    World { crm, desk, crm_url, desk_url, tmp: tempfile::tempdir().unwrap() }
}

impl World {
    fn config(&self, extra: &str) -> PathBuf {
        let path = self.tmp.path().join("config.toml");
        let text = format!(
            "{extra}\n[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{}\"\ntoken_env = \"T_CRM\"\n\n\
             [[source]]\nname = \"desk\"\nkind = \"zendesk\"\nbase_url = \"{}\"\nemail = \"agent@acme.com\"\ntoken_env = \"T_DESK\"\n",
            self.crm_url, self.desk_url
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn cockpit(&self, config: &Path, args: &[&str]) -> Output {
        let mut all = vec![
            "--config".to_string(),
            config.display().to_string(),
            "--data-dir".into(),
            self.tmp.path().join("ws").display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        let home = self.tmp.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_cockpit"))
                .args(&all)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join("xdg"))
                .env("T_CRM", "crm-secret")
                .env("T_DESK", "desk-secret")
                .env_remove("COCKPIT_DATA_DIR")
                .env_remove("COCKPIT_CONFIG")
                .env_remove("COCKPIT_NOW")
                .env("TZ", "UTC")
                .output()
                .expect("run cockpit")
        })
        .await
        .unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_kept_apart_are_counted_listed_and_shown() {
    let w = world().await;
    let config = w.config("");
    let o = w.cockpit(&config, &["sync"]).await;
    assert!(o.status.success(), "{}\n{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("organizations") && out.contains("1 ambiguous, 1 unmatched"), "{out}");
    assert!(out.contains("never merged"), "{out}");

    let o = w.cockpit(&config, &["sync", "--report"]).await;
    let out = text(&o.stdout);
    assert!(out.contains("ambiguous 12: \"Globex\" matches 2 accounts by name"), "{out}");
    assert!(out.contains("unmatched 13: \"Umbrella\" matches no CRM account"), "{out}");

    let o = w.cockpit(&config, &["accounts", "--format", "json"]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let doc: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 5, "3 companies and 2 organizations of their own");
    let by_state = |state: &str| accounts.iter().filter(|a| a["support_only"]["state"] == state).count();
    assert_eq!((by_state("ambiguous"), by_state("unmatched")), (1, 1));
    let acme = accounts.iter().find(|a| a["name"] == "Acme Inc").unwrap();
    assert!(acme["support_only"].is_null());
    assert_eq!(acme["open_tickets"], 3);
    let o = w.cockpit(&config, &["accounts"]).await;
    assert!(text(&o.stdout).contains("Globex [ambiguous]"), "{}", text(&o.stdout));
    let _ = (&w.crm, &w.desk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_stopped_early_exits_1_naming_the_source_and_the_object() {
    let w = world().await;
    let config = w.config("");
    {
        let mut d = w.desk.lock().unwrap();
        d.page = 3;
        d.stuck_cursor = true;
    }
    let o = w.cockpit(&config, &["sync"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(err.contains("error: desk: Zendesk kept paging tickets without reaching the end"), "{err}");
    assert!(text(&o.stdout).contains("stopped early"), "{}", text(&o.stdout));

    w.desk.lock().unwrap().stuck_cursor = false;
    w.crm.lock().unwrap().endless_paging = true;
    let o = w.cockpit(&config, &["sync", "--full"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("crm: HubSpot kept paging companies"), "{}", text(&o.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_mistakes_still_syncs_its_valid_sources() {
    let w = world().await;
    // An unknown key, a value of the wrong type, and two valid sources.
    let config = w.config("colour = \"blue\"\n[sync]\nevery_minutes = \"ten\"\n");
    let o = w.cockpit(&config, &["sync"]).await;
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{out}\n{err}");
    assert!(err.contains(":1:1: ") && err.contains("colour"), "{err}");
    assert!(err.contains("every_minutes"), "{err}");
    assert!(!out.contains("no sources are configured"), "{out}");
    assert!(out.contains("crm:") && out.contains("desk:"), "{out}");
    let o = w.cockpit(&config, &["config", "check"]).await;
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(text(&o.stderr).lines().filter(|l| l.contains("config.toml:")).count(), 2, "{}", text(&o.stderr));
}
