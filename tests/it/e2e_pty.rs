//! End-to-end tests: the real `cockpit` binary in a pseudo-terminal, read back
//! through a VT100 emulator, driven by key bytes written to the pty master.
//!
//! Every test runs in its own temp dir with HOME and the XDG directories
//! pointing into it, so the user's real config and data are never touched.

use crate::common::fixtures;
use crate::common::pty::{Harness, TIMEOUT};
use crate::fake;

use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::Duration;

use portable_pty::CommandBuilder;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cockpit");

const ESC: &[u8] = b"\x1b";
const TAB: &[u8] = b"\t";
const SHIFT_TAB: &[u8] = b"\x1b[Z";
const ENTER: &[u8] = b"\r";
const CTRL_C: &[u8] = b"\x03";

/// Stage labels as the toast (and the table, where they fit) shows them,
/// in column order, with their JSON keys.
const STAGES: [(&str, &str); 9] = [
    ("Handover", "handover"),
    ("Delivery", "delivery"),
    ("Onboarding", "onboarding"),
    ("Adoption", "adoption"),
    ("Expansion", "expansion"),
    ("Renewal prep", "renewal_prep"),
    ("Renewal signing", "renewal_signing"),
    ("Renewed", "renewed"),
    ("Churned", "churned"),
];

/// A temp dir holding a fake home, config and data dirs, and the workspace.
struct Sandbox {
    dir: tempfile::TempDir,
    /// Open the user's own workspace (synced) instead of the demo.
    synced: bool,
    /// Extra environment (a source's token).
    extra_env: Vec<(String, String)>,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["home", "config", "data", "cache", "state"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create sandbox dir");
        }
        Sandbox { dir, synced: false, extra_env: Vec::new() }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    fn workspace(&self) -> PathBuf {
        self.path("ws")
    }

    /// The environment every run of the binary gets.
    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let mut env = vec![
            ("HOME", self.path("home")),
            ("XDG_CONFIG_HOME", self.path("config")),
            ("XDG_DATA_HOME", self.path("data")),
            ("XDG_CACHE_HOME", self.path("cache")),
            ("XDG_STATE_HOME", self.path("state")),
            ("TZ", "UTC".into()),
        ];
        if !self.synced {
            env.push(("COCKPIT_NOW", DEMO_NOW.into()));
        }
        env
    }

    /// `cockpit --demo --data-dir <ws> ARGS...` with the sandbox environment.
    fn base_args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".into(), self.workspace().display().to_string()];
        if !self.synced {
            args.insert(0, "--demo".into());
        }
        args
    }

    /// Opens the cockpit in a pty of the given size.
    fn spawn(&self, cols: u16, rows: u16) -> Harness {
        self.spawn_with(&[], cols, rows, true)
    }

    /// Runs `cockpit --demo --data-dir <ws> ARGS` in a `cols`x`rows` pty. With
    /// `answer_dsr` false the emulated terminal ignores cursor position queries,
    /// as some terminals do.
    fn spawn_with(&self, args: &[&str], cols: u16, rows: u16, answer_dsr: bool) -> Harness {
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(self.base_args());
        cmd.args(args);
        cmd.cwd(self.dir.path());
        for key in SCRUBBED_ENV {
            cmd.env_remove(key);
        }
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        Harness::start(cmd, cols, rows, answer_dsr)
    }

    /// A headless command (no pty) in the sandbox, not yet run.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(self.base_args()).args(args).current_dir(self.dir.path());
        for key in SCRUBBED_ENV {
            cmd.env_remove(key);
        }
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a headless command (no pty) and returns its stdout; asserts success.
    fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run cockpit");
        assert!(
            out.status.success(),
            "cockpit {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// `accounts --format json [EXTRA...]`, parsed.
    fn accounts_json(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["accounts", "--format", "json"];
        args.extend_from_slice(extra);
        let text = self.cli(&args);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{text}"));
        v["accounts"].as_array().unwrap_or_else(|| panic!("no accounts array in:\n{text}")).clone()
    }
}

/// Variables that could point the binary at the real user's files.
const SCRUBBED_ENV: [&str; 5] = ["COCKPIT_CONFIG", "COCKPIT_DATA_DIR", "COCKPIT_NOW", "NO_COLOR", "RUST_LOG"];

/// The demo's clock: a Thursday morning, so what the demo raises is due
/// inside working hours whatever day the tests run (the clock runs on from
/// it; a synced sandbox keeps the real clock, which its fakes' dates follow).
pub const DEMO_NOW: &str = "2026-11-26T10:00:00Z";

/// Whether the pane numbered `n` titled `title` has the focused (thick) border.
fn focused(screen: &str, n: u8, title: &str) -> bool {
    screen.contains(&format!("┏ {n} {title}"))
}

/// A parsed "Moved NAME: FROM → TO" toast: (name, from index, to index).
fn parse_moved(screen: &str) -> Option<(String, usize, usize)> {
    let line = screen.lines().find(|l| l.contains("Moved ") && l.contains(" → "))?;
    let rest = &line[line.find("Moved ")? + "Moved ".len()..];
    let (head, tail) = rest.split_once(" → ")?;
    let (name, from) = head.rsplit_once(": ")?;
    let from = STAGES.iter().position(|(label, _)| *label == from)?;
    // The longest label that starts the tail ("Renewal prep" before "Renewal").
    let to = (0..STAGES.len()).filter(|&i| tail.starts_with(STAGES[i].0)).max_by_key(|&i| STAGES[i].0.len())?;
    Some((name.to_string(), from, to))
}

/// Accounts table rows (the text from the name to the pane's right border)
/// for accounts called exactly `name` (not "NAME 12").
fn table_rows_for<'a>(screen: &'a str, name: &str) -> Vec<&'a str> {
    screen
        .lines()
        .flat_map(|l| l.match_indices(name).map(move |(i, _)| &l[i..]))
        .map(|row| row.split(['│', '┃']).next().unwrap_or(row))
        .filter(|row| {
            let rest = &row[name.len()..];
            (rest.is_empty() || rest.starts_with(' ')) && !rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
        })
        .collect()
}

fn stage_of(accounts: &[Value], id: u64) -> Option<&str> {
    accounts.iter().find(|a| a["id"].as_u64() == Some(id)).and_then(|a| a["stage"].as_str())
}

#[test]
fn navigate_move_quit_and_persist() {
    let sb = Sandbox::new();
    // Creates the demo workspace headlessly, as a baseline to compare with.
    let before = sb.accounts_json(&[]);
    assert_eq!(before.len(), 150, "the demo has 150 accounts");
    let mut h = sb.spawn(160, 48);
    let screen = h.wait_for_panes();
    assert!(screen.contains("demo"), "status line should say demo\n{screen}");
    assert!(screen.contains("? help") && screen.contains("q quit"), "key hints missing\n{screen}");
    assert!(focused(&screen, 1, "Accounts"), "accounts pane should start focused\n{screen}");

    for _ in 0..3 {
        h.send(b"j");
    }
    h.send(TAB);
    h.wait_for("health pane focused after Tab", |s| focused(s, 2, "Health"));
    h.send(SHIFT_TAB);
    h.wait_for("accounts pane focused after Shift-Tab", |s| focused(s, 1, "Accounts"));

    h.send(b"?");
    h.wait_for("help overlay", |s| s.contains(" Keys ") && s.contains("move account to next stage"));
    h.send(ESC);
    h.wait_for("help overlay closed", |s| !s.contains(" Keys ") && s.contains("Accounts"));
    // Esc must not quit: no screen shows that it did not, so give it the time to.
    h.assert_still_running_for(Duration::from_millis(200));

    h.send(b"3");
    h.wait_for("kanban focused after 3", |s| focused(s, 3, "Lifecycle"));
    h.send(b">");
    let screen = h.wait_for("a move toast, the churn question or the last-column warning", |s| {
        parse_moved(s).is_some() || s.contains("is already in the") || s.contains("to Churned?")
    });
    if screen.contains("to Churned?") {
        // A renewed account: the churn asks first; a step back instead.
        h.send(ESC);
        h.wait_for_text("Not moved: ");
    }
    let (name, from, to) = match parse_moved(&screen) {
        Some(m) => m,
        None => {
            // The selected account was in the last column: move it back instead.
            h.send(b"<");
            let screen = h.wait_for("a move toast after <", |s| parse_moved(s).is_some());
            parse_moved(&screen).expect("parsed toast")
        }
    };
    eprintln!("moved {name:?}: {} → {}", STAGES[from].0, STAGES[to].0);
    assert_eq!(from.abs_diff(to), 1, "a move goes one column: {} → {}", STAGES[from].0, STAGES[to].0);

    h.send(b"q");
    h.assert_clean_exit();
    drop(h);

    // The move is in the workspace: the headless command sees it, and it is
    // the only change.
    let matches = sb.accounts_json(&["--filter", &name]);
    assert!(
        matches.iter().any(|a| a["name"] == name.as_str() && a["stage"] == STAGES[to].1),
        "--filter {name:?} shows no {name:?} in stage {:?}: {matches:?}",
        STAGES[to].1
    );
    assert!(matches.len() < before.len(), "--filter {name:?} did not narrow the list");
    let after = sb.accounts_json(&[]);
    assert_eq!(after.len(), 150, "the demo has 150 accounts");
    let changed: Vec<&Value> =
        after.iter().filter(|a| stage_of(&before, a["id"].as_u64().expect("id")) != a["stage"].as_str()).collect();
    assert_eq!(changed.len(), 1, "exactly one account changed stage: {changed:?}");
    let id = changed[0]["id"].as_u64().expect("id");
    assert_eq!(changed[0]["name"], name.as_str());
    assert_eq!(stage_of(&before, id), Some(STAGES[from].1));
    assert_eq!(stage_of(&after, id), Some(STAGES[to].1));

    // A fresh cockpit shows the account in its new stage.
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.send(b"/");
    for c in name.bytes() {
        h.send(&[c]);
    }
    h.send(ENTER);
    // At 160 columns the table has room for the full label.
    let label = STAGES[to].0;
    h.wait_for(&format!("a table row for {name:?} in stage {label}"), |s| {
        table_rows_for(s, &name).iter().any(|row| row.contains(&format!(" {label} ")))
    });
    h.send(CTRL_C);
    h.assert_clean_exit();
}

#[test]
fn esc_never_quits_and_ctrl_c_does() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(80, 24);
    h.wait_for_panes();
    // Three lone Escs (`send` leaves a gap after each, so none reads as Alt).
    for _ in 0..3 {
        h.send(ESC);
    }
    // None may quit: no screen shows that it did not, so give them the time to.
    h.assert_still_running_for(Duration::from_millis(300));
    let screen = h.screen_text();
    assert!(screen.contains("Accounts"), "panes gone after Esc\n{}", h.dump());
    assert!(h.screen().alternate_screen(), "left the alternate screen on Esc");

    h.send(CTRL_C);
    h.assert_clean_exit();
}

/// Each problem of the config is a toast in the cockpit, and in the log the
/// status line points at for the ones it cannot show.
#[test]
fn config_problems_are_toasts_and_all_in_the_log() {
    let sb = Sandbox::new();
    let dir = sb.path("config").join("cockpit");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "colour = \"blue\"\n[sync]\nevery_minutes = \"ten\"\n[[source]]\nname = \"crm\"\nkind = \"hubspot\"\ntokn_env = \"X\"\n",
    )
    .unwrap();
    let mut h = sb.spawn(200, 40);
    let screen = h.wait_for_text("(+2 more, see the log)");
    assert!(screen.contains("unknown key \"tokn_env\" in [[source]] \"crm\""), "the newest shows:\n{}", h.dump());
    h.send(b"q");
    h.assert_clean_exit();
    let log = std::fs::read_to_string(sb.workspace().join("cockpit.log")).unwrap();
    for want in [
        "config.toml:1:1: unknown key \"colour\" at the top level",
        "config.toml:3:17: sync.every_minutes must be a whole number",
        "config.toml:7:1: unknown key \"tokn_env\" in [[source]] \"crm\"; did you mean \"token_env\"?",
    ] {
        assert_eq!(log.matches(want).count(), 1, "{want:?} once in the log:\n{log}");
    }
}

#[test]
fn resize_small_and_back() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();

    h.resize(60, 20);
    h.wait_for_text("Terminal too small");
    // A tiny terminal must not end the session: give it the time to.
    h.assert_still_running_for(Duration::from_millis(100));

    h.resize(80, 24);
    h.wait_for("panes redrawn at 80x24", |s| !s.contains("Terminal too small") && s.contains("Accounts"));
    h.wait_for_panes();

    h.send(b"q");
    h.assert_clean_exit();
}

#[test]
fn toast_and_table_parsing() {
    let screen = " cockpit Demo · demo data │ Moved Northwind Labs: Renewal prep → Renewal signing   Mon 01 Jan";
    assert_eq!(parse_moved(screen), Some(("Northwind Labs".into(), 5, 6)));
    let screen = "│ Moved A: B → C │";
    assert_eq!(parse_moved(screen), None);
    let screen = "┃Northwind Labs  SMB $12k  71↑ Expand   40d   2   3d┃┌ 2 Health · Northwind Labs ───┐\n\
                  ┃Northwind Labs 12  SMB $1k  50↑ Adopt   4d   2   3d┃";
    let rows = table_rows_for(screen, "Northwind Labs");
    assert_eq!(rows.len(), 2, "the table row and the health title, not \"Labs 12\": {rows:?}");
    assert!(rows[0].split_whitespace().any(|w| w == "Expand"));
}

/// A terminal that never answers the cursor position query makes startup fail;
/// the app must still leave the terminal as it found it.
/// Some terminals never answer a cursor-position query; start-up must not
/// depend on one (it once did, and left the terminal in raw mode).
#[test]
fn starts_without_a_cursor_position_reply() {
    let sb = Sandbox::new();
    let mut h = sb.spawn_with(&[], 80, 24, false);
    h.wait_for_panes();
    h.send(b"q");
    let status = h.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let screen = h.screen();
    assert!(!screen.alternate_screen(), "left on the alternate screen");
    assert!(!screen.hide_cursor(), "cursor left hidden");
    assert!(!screen.bracketed_paste(), "bracketed paste left on");
}

/// A CRM fake on 127.0.0.1 taking `token`, holding companies 1..=`n`
/// ("Company 0001", ...), and its address.
fn crm_with_companies(rt: &tokio::runtime::Runtime, token: &str, n: u64) -> (fake::Shared, String) {
    let mut crm = fake::Crm { token: token.into(), ..fake::Crm::default() };
    for id in 1..=n {
        crm.add(id, &format!("Company {id:04}"), 10_000 * id, 1_700_000_000_000 + id as i64);
    }
    let crm = std::sync::Arc::new(std::sync::Mutex::new(crm));
    let url = rt.block_on(fake::start(crm.clone()));
    (crm, url)
}

/// The cockpit syncs a configured source in the background on start and on
/// `r`, shows it in the status line, and stays usable when the source fails.
#[test]
fn background_sync_fills_the_cockpit_and_survives_an_outage() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (crm, url) = crm_with_companies(&rt, "e2e-secret", 5);

    let mut sb = Sandbox::new();
    sb.synced = true;
    sb.extra_env.push(("COCKPIT_E2E_TOKEN".into(), "e2e-secret".into()));
    let config_dir = sb.path("config").join("cockpit");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "[sync]\nevery_minutes = 0\n\n[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{url}\"\ntoken_env = \"COCKPIT_E2E_TOKEN\"\n"
        ),
    )
    .unwrap();
    let mut h = sb.spawn(160, 48);
    h.wait_for("the first sync", |s| s.contains("crm ✓ synced") && s.contains("Company 0005"));

    crm.lock().unwrap().add(6, "Company 0006", 60_000, 1_900_000_000_000);
    h.send(b"r");
    h.wait_for_text("Company 0006");

    crm.lock().unwrap().token = "revoked".into();
    h.send(b"r");
    let screen = h.wait_for("the offline badge", |s| s.contains("crm ✗ offline"));
    assert!(screen.contains("Company 0003"), "the cache stays usable:\n{screen}");
    assert!(!screen.contains("e2e-secret"), "the token never reaches the screen");
    h.send(b"q");
    h.assert_clean_exit();
}

/// Two CRM companies with one name, synced into a real workspace, are told
/// apart by their domains in the cockpit; a third keeps its plain name.
#[test]
fn twins_from_a_sync_are_told_apart_by_their_domains() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut crm = fake::Crm { token: "e2e-secret".into(), ..fake::Crm::default() };
    for (id, name, domain) in [(1, "Acme", "acme.io"), (2, "Acme", "acme-corp.com"), (3, "Bolt Freight", "")] {
        crm.add(id, name, 10_000 * id, 1_700_000_000_000 + id as i64);
        crm.companies.get_mut(&id).unwrap().props.insert("domain".into(), domain.into());
    }
    let url = rt.block_on(fake::start(std::sync::Arc::new(std::sync::Mutex::new(crm))));
    let mut sb = Sandbox::new();
    sb.synced = true;
    sb.extra_env.push(("COCKPIT_E2E_TOKEN".into(), "e2e-secret".into()));
    let config_dir = sb.path("config").join("cockpit");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "[sync]\nevery_minutes = 0\n\n[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{url}\"\ntoken_env = \"COCKPIT_E2E_TOKEN\"\n"
        ),
    )
    .unwrap();
    let mut h = sb.spawn(160, 48);
    let screen = h.wait_for("both twins told apart after the sync", |s| {
        s.contains("crm ✓ synced") && s.contains("Acme (acme.io)") && s.contains("Acme (acme-corp.com)")
    });
    assert!(screen.contains("Bolt Freight ") && !screen.contains("Bolt Freight ("), "no tag without a twin:\n{screen}");
    h.send(b"q");
    h.assert_clean_exit();
    // A restart draws them apart from its first frame.
    let mut h = sb.spawn(160, 48);
    h.wait_for("the twins at the next start", |s| s.contains("Acme (acme.io)") && s.contains("Acme (acme-corp.com)"));
    h.send(b"q");
    h.assert_clean_exit();
}

/// The ids of `cockpit today --format json`.
fn today_ids(sb: &Sandbox) -> Vec<u64> {
    let text = sb.cli(&["today", "--format", "json"]);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{text}"));
    v["items"].as_array().expect("items").iter().map(|i| i["id"].as_u64().expect("id")).collect()
}

/// A stand-in for the CSM's editor: writes a note into the file it is given.
fn fake_editor(sb: &mut Sandbox, text: &str) {
    let script = sb.path("editor.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s' '{text}' > \"$1\"\n")).expect("write editor");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod editor");
    }
    for var in ["VISUAL", "EDITOR"] {
        sb.extra_env.push((var.into(), script.display().to_string()));
    }
}

#[test]
fn clear_five_queue_items_add_a_note_in_the_editor_and_find_it_all_after_a_restart() {
    let mut sb = Sandbox::new();
    fake_editor(&mut sb, "Renewal call booked for Tuesday");
    let before = today_ids(&sb);
    assert!(before.len() >= 10, "the demo has a morning queue: {}", before.len());

    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"g");
    // 1: done.
    h.send(b"d");
    h.wait_for_text("Done: ");
    // 2: snoozed a day, no reason.
    h.send(b"p");
    h.wait_for_text(" Snooze ");
    h.send(b"1");
    h.wait_for_text("why?");
    h.send(ENTER);
    h.wait_for_text("Snoozed: ");
    // 3: a call logged inline.
    h.send(b"L");
    h.wait_for_text(" Log a touch ");
    h.send(b"c");
    h.wait_for_text("Log a call");
    for c in b"Budget approved" {
        h.send(&[*c]);
    }
    h.send(b"\x13");
    h.wait_for_text("Call logged: ");
    // 4 and 5: marked together, done in one key.
    h.send(b" ");
    h.send(b" ");
    h.wait_for_text("2 marked");
    h.send(b"d");
    h.wait_for_text("Done on 2 items");
    // A note through the editor.
    h.send(b"N");
    h.wait_for_text("Note added: ");
    let screen = h.wait_for_text("outbox 2");
    assert!(h.screen().alternate_screen(), "back on the cockpit's screen\n{screen}");
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);

    // The queue as left: five items fewer, none added.
    let after = today_ids(&sb);
    assert_eq!(after.len(), before.len() - 5, "five items were cleared");
    assert!(after.iter().all(|id| before.contains(id)));

    // Offline restart: the outbox still holds the call and the note.
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.wait_for_text("outbox 2");
    h.send(b"o");
    // The counts are known at once; the list lands when its read does.
    let screen = h.wait_for("the outbox's two entries", |s| {
        s.contains(" Outbox · 2 pending ") && !s.contains("Reading the outbox")
    });
    assert!(screen.contains("Call logged: Budget"), "{screen}");
    assert!(screen.contains("Renewal call booked"), "{screen}");
    // The selected entry's full text shows below the list.
    h.send(b"j");
    h.wait_for_text("Renewal call booked for Tuesday");
    h.send(ESC);
    h.send(b"q");
    h.assert_clean_exit();
}

/// `cockpit today --format json` with the clock at `now`, parsed.
fn today_at(sb: &Sandbox, now: &str) -> Value {
    let out = sb.command(&["today", "--format", "json"]).env("COCKPIT_NOW", now).output().expect("run cockpit");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("today JSON")
}

#[test]
fn a_task_added_from_the_table_waits_in_upcoming_and_is_due_when_the_clock_reaches_it() {
    let mut sb = Sandbox::new();
    let upcoming = today_at(&sb, DEMO_NOW)["upcoming"].as_u64().expect("upcoming");
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.send(b"1");
    h.wait_for("accounts focused", |s| focused(s, 1, "Accounts"));
    h.send(b"t");
    h.wait_for_text(": what? (Enter)");
    h.send(b"Send the QBR deck");
    h.send(ENTER);
    h.wait_for_text("Due? (tomorrow 10:00");
    h.send(b"tomorrow 10:00");
    h.send(ENTER);
    h.wait_for_text("Priority of \"Send the QBR deck\", due Fri 27 Nov 10:00");
    h.send(b"u");
    let screen = h.wait_for_text("due Fri 27 Nov 10:00 (in Upcoming)");
    assert!(screen.contains("Task added for "), "{screen}");
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);
    let now = today_at(&sb, DEMO_NOW);
    assert_eq!(now["upcoming"].as_u64(), Some(upcoming + 1), "waiting in Upcoming");
    assert!(!now["items"].as_array().unwrap().iter().any(|i| i["kind"] == "task"), "not due today");

    // The next day, five minutes past its moment: it is due.
    let next = "2026-11-27T10:05:00Z";
    let today = today_at(&sb, next);
    let task = today["items"].as_array().unwrap().iter().find(|i| i["kind"] == "task").cloned();
    let task = task.unwrap_or_else(|| panic!("the task is listed: {today}"));
    assert_eq!(
        (task["reason"].as_str(), task["section"].as_str(), task["priority"].as_str()),
        (Some("Send the QBR deck"), Some("overdue"), Some("urgent"))
    );
    assert_eq!(task["due"], "2026-11-27T10:00:00+00:00");
    sb.extra_env.push(("COCKPIT_NOW".into(), next.into()));
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    // Its queue row: five minutes overdue, kind "task", the subject as reason.
    h.wait_for("the task in the queue", |s| {
        s.lines().any(|l| l.contains("-5m") && l.contains(" task ") && l.contains("Send the QBR deck"))
    });
    h.send(b"q");
    h.assert_clean_exit();
}

/// A synced workspace (three companies from a fake HubSpot) with one
/// follow-up due on Company 0001, whose HubSpot source then points at
/// `push_url`; the sandbox's editor writes `note`.
fn synced_with_an_item(rt: &tokio::runtime::Runtime, note: &str) -> (Sandbox, cockpit::domain::AccountId) {
    let (_crm, url) = crm_with_companies(rt, "kill-secret", 3);
    let mut sb = Sandbox::new();
    sb.synced = true;
    sb.extra_env.push(("COCKPIT_E2E_TOKEN".into(), "kill-secret".into()));
    fake_editor(&mut sb, note);
    point_crm_at(&sb, &url);
    let mut cmd = Command::new(BIN);
    cmd.args(sb.base_args()).arg("sync").env("COCKPIT_E2E_TOKEN", "kill-secret");
    for key in SCRUBBED_ENV {
        cmd.env_remove(key);
    }
    for (k, v) in sb.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cockpit sync");
    assert!(out.status.success(), "sync failed: {}", String::from_utf8_lossy(&out.stderr));

    let store = cockpit::store::Store::open(&sb.workspace()).expect("open the synced workspace");
    let account = store.external_id("crm", "1").unwrap().expect("Company 0001 is synced");
    let now = chrono::Utc::now();
    let item = cockpit::domain::FollowUp {
        priority: cockpit::domain::Priority::Urgent,
        ..fixtures::follow_up(77, account, "Check in before the quarter closes", now - chrono::Duration::hours(1))
    };
    let mut b = cockpit::store::Batch::default();
    b.put_follow_up(&item, None);
    store.apply(b).unwrap();
    store.flush().unwrap();
    drop(store);
    (sb, account)
}

/// Writes the config with the HubSpot source at `url` (no background syncs).
fn point_crm_at(sb: &Sandbox, url: &str) {
    let dir = sb.path("config").join("cockpit");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[sync]\nevery_minutes = 0\n\n[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"{url}\"\ntoken_env = \"COCKPIT_E2E_TOKEN\"\n"
        ),
    )
    .unwrap();
}

/// The fake that takes notes, with the source's token.
fn notes_server(rt: &tokio::runtime::Runtime) -> (fake::writes::SharedWrites, String) {
    let w = fake::writes::Writes { bearer: "Bearer kill-secret".into(), ..fake::writes::Writes::default() };
    let w = std::sync::Arc::new(std::sync::Mutex::new(w));
    let url = rt.block_on(fake::writes::start(w.clone()));
    (w, url)
}

/// Opens the cockpit, adds a note on the queue's item through the editor,
/// and returns the running harness.
fn note_from_the_queue(sb: &Sandbox) -> Harness {
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for_text("Check in before the quarter closes");
    h.send(b"g");
    h.send(b"N");
    h.wait_for_text("Note added: Company 0001");
    h
}

fn kill_9(h: &mut Harness) {
    let pid = h.pid();
    let status = Command::new("kill").args(["-9", &pid.to_string()]).status().expect("run kill");
    assert!(status.success());
    let exit = h.wait_exit(TIMEOUT);
    assert!(!exit.success(), "killed, not exited");
}

fn outbox_json(sb: &Sandbox) -> Vec<Value> {
    let mut cmd = Command::new(BIN);
    cmd.args(sb.base_args()).args(["outbox", "list", "--all", "--format", "json"]);
    for key in SCRUBBED_ENV {
        cmd.env_remove(key);
    }
    for (k, v) in sb.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cockpit outbox");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("outbox JSON");
    v["entries"].as_array().cloned().unwrap_or_else(|| panic!("no entries in {v}"))
}

fn push_now(sb: &Sandbox) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(sb.base_args()).args(["outbox", "push"]);
    for key in SCRUBBED_ENV {
        cmd.env_remove(key);
    }
    for (k, v) in sb.env() {
        cmd.env(k, v);
    }
    for (k, v) in &sb.extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cockpit outbox push");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn kill_9_between_the_local_note_and_its_push_then_it_lands_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sb, _) = synced_with_an_item(&rt, "Quarter review booked");
    // HubSpot is unreachable: the note is kept, its push fails and waits.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    point_crm_at(&sb, &dead);
    let mut h = note_from_the_queue(&sb);
    h.wait_for_text("outbox 1");
    kill_9(&mut h);
    drop(h);

    let entries = outbox_json(&sb);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["state"], "pending", "{entries:?}");

    // The network is back: one push sends it, once.
    let (vendor, url) = notes_server(&rt);
    point_crm_at(&sb, &url);
    let said = push_now(&sb);
    assert!(said.contains("1 sent"), "{said}");
    push_now(&sb);
    let w = vendor.lock().unwrap();
    let creates = w.requests("POST /crm/v3/objects/notes");
    assert_eq!(creates.len(), 1, "exactly one note reached HubSpot");
    let body = creates[0].body["properties"]["hs_note_body"].as_str().unwrap().to_string();
    assert!(body.starts_with("Quarter review booked"), "{body}");
    drop(w);
    assert_eq!(outbox_json(&sb)[0]["state"], "sent");
}

#[test]
fn kill_9_while_the_note_is_in_flight_then_the_marker_stops_a_second_create() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sb, _) = synced_with_an_item(&rt, "Escalation call done");
    // HubSpot takes the note but the answer never comes back in time.
    let (vendor, url) = notes_server(&rt);
    vendor
        .lock()
        .unwrap()
        .fault("POST /crm/v3/objects/notes", fake::writes::Fault::ApplyThenSleep(Duration::from_secs(120)));
    point_crm_at(&sb, &url);
    let mut h = note_from_the_queue(&sb);
    h.wait_until("the cockpit's push", || !vendor.lock().unwrap().requests("POST /crm/v3/objects/notes").is_empty());
    kill_9(&mut h);
    drop(h);
    let entries = outbox_json(&sb);
    assert_eq!(entries[0]["state"], "checking", "left unsure on disk: {entries:?}");

    // After the restart the push looks for its marker first and finds it.
    let said = push_now(&sb);
    assert!(said.contains("1 sent"), "{said}");
    let w = vendor.lock().unwrap();
    assert_eq!(w.requests("POST /crm/v3/objects/notes").len(), 1, "no second note");
    assert_eq!(w.requests("POST /crm/v3/objects/notes/search").len(), 1, "the marker was looked for");
    drop(w);
    assert_eq!(outbox_json(&sb)[0]["state"], "sent");
}

/// Opens the demo at 100x30, waits for the first frame, sends `signal` and
/// checks the cockpit exited by itself with 128 + its number and left the
/// terminal as it found it.
fn a_signal_ends_the_cockpit_cleanly(signal: libc::c_int) {
    let sb = Sandbox::new();
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();
    assert_ne!(&h.termios_now(), h.termios_before(), "the measure sees raw mode while the cockpit runs");
    h.signal(signal);
    let status = h.wait_exit(Duration::from_secs(5));
    assert_eq!(status.signal(), None, "killed by the signal instead of exiting: {status:?}\n{}", h.dump());
    assert_eq!(status.exit_code(), 128 + signal as u32, "{status:?}");
    h.assert_terminal_restored();
}

#[test]
fn sigterm_ends_the_cockpit_cleanly() {
    a_signal_ends_the_cockpit_cleanly(libc::SIGTERM);
}

#[test]
fn sighup_ends_the_cockpit_cleanly() {
    a_signal_ends_the_cockpit_cleanly(libc::SIGHUP);
}

#[test]
fn sigint_ends_the_cockpit_cleanly() {
    a_signal_ends_the_cockpit_cleanly(libc::SIGINT);
}

#[test]
fn sigquit_ends_the_cockpit_cleanly() {
    a_signal_ends_the_cockpit_cleanly(libc::SIGQUIT);
}

/// The drafts kept in the sandbox's workspace (the cockpit must be closed).
fn drafts(sb: &Sandbox) -> Vec<cockpit::store::Draft> {
    let store = cockpit::store::Store::open(&sb.workspace()).expect("open the workspace");
    store.drafts().expect("read the drafts").into_iter().map(|(_, d)| d).collect()
}

#[test]
fn a_note_being_written_survives_sigterm_and_opens_again_at_the_next_start() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"n");
    let screen = h.wait_for_text(" Note on ");
    let title = screen.lines().find_map(|l| l.split(" Note on ").nth(1)).expect("title").to_string();
    let account = title.split(['═', '─']).next().unwrap().trim().to_string();
    for c in b"Budget cut" {
        h.send(&[*c]);
    }
    h.wait_for_text("Budget cut");
    h.signal(libc::SIGTERM);
    let status = h.wait_exit(Duration::from_secs(5));
    assert_eq!((status.signal(), status.exit_code()), (None, 143), "{status:?}");
    h.assert_terminal_restored();
    let screen = h.screen_text();
    assert!(screen.contains("was kept as a draft"), "the CSM is told, after the terminal is back\n{screen}");
    drop(h);

    let kept = drafts(&sb);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].kind, cockpit::store::DraftKind::Note);
    assert_eq!(kept[0].text, "Budget cut");
    assert_eq!(kept[0].title, format!("Note on {account}"));
    assert_eq!(kept[0].items.len(), 1, "the queue item it was for");

    // The next start opens it again; only ctrl-s sends it.
    let mut h = sb.spawn(100, 30);
    // A toast says why the editor is open.
    let screen = h.wait_for("the kept draft in the editor", |s| {
        s.contains("kept draft") && s.contains("Budget cut") && s.contains("you were writing was kept")
    });
    assert!(screen.contains(&format!("Note on {account} · kept draft")), "{screen}");
    h.send(b"\x13");
    h.wait_for_text("Note added: ");
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);
    assert!(drafts(&sb).is_empty(), "saved, so no longer kept");
}

/// A closed terminal often sends two hangups in a row (the kernel's and the
/// shell's): the second must neither break the terminal nor lose the draft.
#[test]
fn two_hangups_in_a_row_keep_the_draft_and_the_terminal() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"n");
    h.wait_for_text(" Note on ");
    for c in b"Half a thought" {
        h.send(&[*c]);
    }
    h.wait_for_text("Half a thought");
    h.signal(libc::SIGHUP);
    // The timing under test, not a settle: the second hangup lands while the
    // first one's shutdown runs.
    thread::sleep(Duration::from_millis(5));
    h.signal(libc::SIGHUP);
    let status = h.wait_exit(Duration::from_secs(5));
    assert_eq!((status.signal(), status.exit_code()), (None, 129), "{status:?}");
    h.assert_terminal_restored();
    drop(h);
    let kept = drafts(&sb);
    assert_eq!(kept.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), ["Half a thought"]);
}

/// An editor that writes `text`, says it started (the file `started`) and
/// takes `secs` seconds to close. It starts no other process before the
/// wait: a shell waiting on a child that exits normally outlives a ctrl-c.
fn slow_editor(sb: &mut Sandbox, text: &str, secs: u32) -> PathBuf {
    let started = sb.path("editor-started");
    let script = sb.path("slow-editor.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' '{text}' > \"$1\"\n: > '{}'\nexec sleep {secs}\n", started.display()),
    )
    .expect("write editor");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod editor");
    for var in ["VISUAL", "EDITOR"] {
        sb.extra_env.push((var.into(), script.display().to_string()));
    }
    started
}

fn wait_for_file(h: &Harness, path: &std::path::Path) {
    h.wait_until("the editor to start", || path.exists());
}

/// SIGTERM while `$EDITOR` has the terminal: the cockpit waits for the
/// editor, keeps what it saved as a draft (not sent), and exits cleanly.
#[test]
fn sigterm_while_the_editor_runs_keeps_its_text_as_a_draft() {
    let mut sb = Sandbox::new();
    let started = slow_editor(&mut sb, "Written in the editor", 1);
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"N");
    wait_for_file(&h, &started);
    h.signal(libc::SIGTERM);
    let status = h.wait_exit(Duration::from_secs(8));
    assert_eq!((status.signal(), status.exit_code()), (None, 143), "{status:?}");
    h.assert_terminal_restored();
    drop(h);
    let kept = drafts(&sb);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!((kept[0].kind, kept[0].text.as_str()), (cockpit::store::DraftKind::Note, "Written in the editor"));
    let outbox = sb.cli(&["outbox", "list", "--all", "--format", "json"]);
    assert!(!outbox.contains("Written in the editor"), "kept, never sent: {outbox}");
}

/// Ctrl-c typed while an editor that leaves it to the terminal runs is the
/// editor's: it stops the editor, and the cockpit goes on with the text.
#[test]
fn ctrl_c_in_the_editor_is_the_editors_not_the_cockpits() {
    let mut sb = Sandbox::new();
    let started = slow_editor(&mut sb, "never read back", 30);
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"n");
    h.wait_for_text(" Note on ");
    for c in b"Typed inline" {
        h.send(&[*c]);
    }
    h.send(b"\x05");
    wait_for_file(&h, &started);
    // Cooked mode while the editor runs: the terminal turns this into SIGINT
    // for the foreground process group, the cockpit included.
    h.send(CTRL_C);
    let screen = h.wait_for("back in the inline editor", |s| s.contains("exited with") && s.contains("Typed inline"));
    assert!(h.screen().alternate_screen(), "the cockpit goes on\n{screen}");
    h.assert_running();
    h.send(ESC);
    h.wait_for_text("kept as a draft");
    h.send(b"q");
    h.assert_clean_exit();
    let kept = drafts(&sb);
    assert_eq!(kept.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), ["Typed inline"], "esc set it aside");
}

/// Runs the demo with a panic injected at `point` (debug builds).
fn with_panic_at(point: &str) -> (Sandbox, Harness) {
    let mut sb = Sandbox::new();
    sb.extra_env.push(("COCKPIT_DEBUG_PANIC".into(), point.into()));
    let h = sb.spawn(100, 30);
    (sb, h)
}

/// Asserts the session ended after a panic: status 101, the terminal as it
/// was, and the message on the main screen.
fn assert_ended_by_a_panic(h: &mut Harness, part: &str) {
    let status = h.wait_exit(Duration::from_secs(8));
    assert_eq!((status.signal(), status.exit_code()), (None, 101), "{status:?}\n{}", h.dump());
    h.assert_terminal_restored();
    let screen = h.screen_text();
    assert!(screen.contains(&format!("internal error in {part} (thread ")), "{}", h.dump());
    assert!(screen.contains("cockpit.log"), "{}", h.dump());
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the panic is injected in debug builds only")]
fn a_panic_in_the_input_thread_ends_the_session_cleanly() {
    let (_sb, mut h) = with_panic_at("input");
    h.wait_for_panes();
    h.send(b"j");
    assert_ended_by_a_panic(&mut h, "the keyboard reader");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the panic is injected in debug builds only")]
fn an_uncaught_panic_in_background_work_ends_the_session_cleanly() {
    let (_sb, mut h) = with_panic_at("load");
    assert_ended_by_a_panic(&mut h, "background work");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the panic is injected in debug builds only")]
fn a_caught_background_panic_is_a_message_and_the_session_goes_on() {
    let (_sb, mut h) = with_panic_at("metrics");
    h.wait_for_panes();
    h.send(b"m");
    let screen = h.wait_for_text("an internal error stopped it");
    assert!(!screen.contains("panicked"), "nothing printed over the screen\n{screen}");
    h.assert_running();
    h.send(ESC);
    h.send(b"q");
    h.assert_clean_exit();
}

#[test]
fn commands_beside_an_open_cockpit_answer_as_after_it_quits() {
    let sb = Sandbox::new();
    // The demo exists before the cockpit opens, so both sides read the same day.
    sb.cli(&["today", "--format", "json"]);
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    let socket = sb.workspace().join("cockpit.sock");
    h.wait_until("the command socket", || socket.exists());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only the owner may talk to the cockpit");
    }
    let today_beside = sb.cli(&["today", "--format", "json"]);
    let accounts_beside = sb.cli(&["accounts", "--format", "json", "--limit", "7"]);
    let outbox_beside = sb.cli(&["outbox"]);
    // What needs the workspace to itself says so, and what to do.
    let refused = sb.command(&["health", "recompute"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(4), "busy");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("needs the workspace to itself") && said.contains("quit"), "{said}");
    h.assert_running();

    h.send(b"q");
    h.assert_clean_exit();
    assert!(!socket.exists(), "the socket goes with the cockpit");
    let today_after = sb.cli(&["today", "--format", "json"]);
    // The same JSON, but for the moment it was made (and the minutes an
    // item due just now has been overdue).
    let same = |text: &str| {
        let mut doc: Value = serde_json::from_str(text).expect("JSON");
        doc.as_object_mut().unwrap().remove("generated_at").expect("a generated_at field");
        let minutes = |s: &str| s.starts_with("overdue by ") && s.contains(" min ");
        for item in doc["items"].as_array_mut().unwrap() {
            item["rank_explained"].as_array_mut().unwrap().retain(|l| !minutes(l.as_str().unwrap()));
        }
        doc
    };
    assert!(same(&today_beside)["items"].as_array().unwrap().len() > 10, "{today_beside}");
    assert_eq!(same(&today_beside), same(&today_after), "the same JSON beside the cockpit as after it quits");
    let undated = |text: &str| {
        let mut doc: Value = serde_json::from_str(text).expect("JSON");
        doc.as_object_mut().unwrap().remove("generated_at").expect("a generated_at field");
        doc
    };
    let accounts_after = sb.cli(&["accounts", "--format", "json", "--limit", "7"]);
    assert_eq!(undated(&accounts_beside), undated(&accounts_after));
    assert_eq!(outbox_beside, sb.cli(&["outbox"]));
}

/// A synced workspace: each close keeps the first frame (the headless sync
/// and the cockpit alike), the next start draws it, a sync run between two
/// sessions shows in the next first frame (never the frame kept before
/// it), and a second cockpit beside a running one is refused without
/// drawing the kept frame.
#[test]
fn the_first_frame_kept_at_close_follows_a_sync_between_sessions() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (crm, url) = crm_with_companies(&rt, "frame-secret", 3);
    let mut sb = Sandbox::new();
    sb.synced = true;
    sb.extra_env.push(("COCKPIT_E2E_TOKEN".into(), "frame-secret".into()));
    point_crm_at(&sb, &url);
    let kept = sb.workspace().join(cockpit::tui::first_frame::FILE);
    let sync = |sb: &Sandbox| {
        let out = sb.command(&["sync"]).env("COCKPIT_E2E_TOKEN", "frame-secret").output().expect("run cockpit sync");
        assert!(out.status.success(), "sync failed: {}", String::from_utf8_lossy(&out.stderr));
    };
    // The cockpit says in its log when it drew the frame kept.
    sb.extra_env.push(("COCKPIT_LOG".into(), "debug".into()));
    let log = sb.workspace().join("cockpit.log");
    let drawn_from_kept =
        || std::fs::read_to_string(&log).unwrap_or_default().matches("kept first frame drawn").count();
    sync(&sb);
    assert!(kept.exists(), "the sync kept the first frame as it closed");

    let mut h = sb.spawn(160, 48);
    let screen = h.wait_for_panes();
    assert!(screen.contains("Company 0002"), "{screen}");
    assert_eq!(drawn_from_kept(), 1, "drawn from the frame the sync kept");
    // Beside it, a second cockpit is refused; the kept frame is not drawn.
    let mut second = sb.spawn(160, 48);
    let status = second.wait_exit(TIMEOUT);
    assert_eq!(status.exit_code(), 4, "{}", second.raw_text());
    assert!(second.raw_text().contains("already open"), "{}", second.raw_text());
    assert!(!second.raw_text().contains("Company 0002"), "{}", second.raw_text());
    h.send(b"q");
    h.assert_clean_exit();

    // The CRM renames a company; a sync from cron brings it between sessions.
    crm.lock().unwrap().add(2, "Renamed Holdings", 20_000, 1_800_000_000_000);
    sync(&sb);
    let mut h = sb.spawn(160, 48);
    let screen = h.wait_for_panes();
    assert!(screen.contains("Renamed Holdings"), "the first frame shows the sync:\n{screen}");
    assert!(!screen.contains("Company 0002"), "never the frame kept before the sync:\n{screen}");
    assert_eq!(drawn_from_kept(), 2, "drawn from the frame the second sync kept");
    h.send(b"q");
    h.assert_clean_exit();
}

// ---- No one-key accidents: the churn question, multi-step undo, drafts set
// aside with esc, ctrl-c in the editor, discarding an outbox write. ----

/// `cockpit metrics --format json`'s customers counts.
fn metrics_customers(sb: &Sandbox) -> Value {
    let v: Value = serde_json::from_str(&sb.cli(&["metrics", "--format", "json"])).expect("metrics JSON");
    v["customers"].clone()
}

/// Types text into the cockpit, a key at a time.
fn type_text(h: &mut Harness, text: &str) {
    for c in text.bytes() {
        h.send(&[c]);
    }
}

/// Filters the table down to the account called `name` and selects it.
fn select_by_name(h: &mut Harness, name: &str) {
    h.send(b"/");
    type_text(h, name);
    h.send(ENTER);
    h.wait_for(&format!("{name} selected"), |s| s.contains(&format!("Health · {name}")));
}

#[test]
fn a_move_to_churned_asks_for_the_reason_records_it_and_the_metrics_count_it() {
    let sb = Sandbox::new();
    let accounts = sb.accounts_json(&[]);
    // A renewed account whose name no other account has (the filter finds it alone).
    let name = accounts
        .iter()
        .filter(|a| a["stage"] == "renewed")
        .filter_map(|a| a["name"].as_str())
        .find(|n| accounts.iter().filter(|b| b["name"].as_str().is_some_and(|m| m.contains(n))).count() == 1)
        .expect("a renewed account with a name of its own")
        .to_string();
    let before = metrics_customers(&sb);

    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    select_by_name(&mut h, &name);
    // esc on the question: nothing is written.
    h.send(b">");
    h.wait_for_text(&format!("Move {name} to Churned?"));
    h.send(ESC);
    h.wait_for_text(&format!("Not moved: {name} stays in Renewed"));
    // v, a note, enter: moved, with the reason recorded.
    h.send(b">");
    let screen = h.wait_for_text("involuntary: payment failed");
    assert!(screen.contains("voluntary: chose to leave"), "{screen}");
    h.send(b"v");
    h.wait_for_text(&format!("{name} leaves (voluntary)"));
    type_text(&mut h, "Moved to a competitor");
    h.send(ENTER);
    h.wait_for_text("voluntary churn recorded on");
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);

    let after = sb.accounts_json(&["--filter", &name]);
    assert_eq!(after[0]["stage"], "churned", "{after:?}");
    let now = metrics_customers(&sb);
    assert_eq!(now["churned"].as_u64().unwrap(), before["churned"].as_u64().unwrap() + 1, "{before} → {now}");
    assert_eq!(now["churned_voluntary"].as_u64().unwrap(), before["churned_voluntary"].as_u64().unwrap() + 1);
    assert_eq!(now["churned_involuntary"], before["churned_involuntary"]);
    let store = cockpit::store::Store::open(&sb.workspace()).unwrap();
    let id = cockpit::domain::AccountId(after[0]["id"].as_u64().unwrap());
    let outcome = store.account(id).unwrap().unwrap().outcome.unwrap();
    assert_eq!(
        (outcome.reason, outcome.note.as_str()),
        (Some(cockpit::domain::ChurnReason::Voluntary), "Moved to a competitor")
    );
    let stage_writes = store.outbox().unwrap().into_iter().filter(|e| e.account_id == id).count();
    assert_eq!(stage_writes, 1, "the cancelled question queued nothing");
    let timeline = store.activities(id).unwrap();
    assert!(timeline.last().unwrap().summary.ends_with("voluntary churn (Moved to a competitor)"), "{timeline:?}");
}

#[test]
fn undo_takes_back_a_note_a_snooze_and_a_stage_move_one_after_the_other() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"g");
    h.send(b"n");
    let screen = h.wait_for_text(" Note on ");
    let title = screen.lines().find_map(|l| l.split(" Note on ").nth(1)).expect("title").to_string();
    let account = title.split(['═', '─']).next().unwrap().trim().to_string();
    type_text(&mut h, "Undo me");
    h.send(b"\x13");
    h.wait_for_text(&format!("Note added: {account}"));
    h.send(b"p");
    h.send(b"1");
    h.wait_for_text("why? (Enter)");
    h.send(ENTER);
    h.wait_for_text(&format!("Snoozed: {account}"));
    // The stage move: back a column (forward from the first one).
    h.send(b"<");
    let screen = h.wait_for("a move or the first-column warning", |s| {
        parse_moved(s).is_some() || s.contains("is already in the")
    });
    if parse_moved(&screen).is_none() {
        h.send(b">");
        h.wait_for("a move toast", |s| parse_moved(s).is_some());
    }
    // The list shows all three, newest first.
    h.send(b"U");
    let list = h.wait_for_text("Recent actions · 3");
    let (stage_at, snooze_at, note_at) = (
        list.find("stage move of").expect("stage move listed"),
        list.find("snooze on").expect("snooze listed"),
        list.find("note on").expect("note listed"),
    );
    assert!(stage_at < snooze_at && snooze_at < note_at, "newest first:\n{list}");
    h.send(ESC);
    h.send(b"u");
    h.wait_for_text("Undone: stage move of");
    h.send(b"u");
    h.wait_for_text(&format!("Undone: snooze on {account}"));
    h.send(b"u");
    h.wait_for_text(&format!("Undone: note on {account}"));
    h.send(b"u");
    h.wait_for_text("Nothing to undo");
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);

    let store = cockpit::store::Store::open(&sb.workspace()).unwrap();
    assert!(store.outbox().unwrap().is_empty(), "the note's and the move's writes went with them");
    assert!(store.undo_history().unwrap().is_empty());
    let notes = store.accounts().map(|a| a.unwrap().id).flat_map(|id| store.activities(id).unwrap());
    assert!(!notes.into_iter().any(|a| a.summary == "Undo me" || a.author == "me" && a.summary.starts_with("Moved")));
}

#[test]
fn a_draft_set_aside_with_esc_survives_a_restart_and_ctrl_c_in_the_editor_asks() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(100, 30);
    h.wait_for_panes();
    h.send(b"4");
    h.wait_for("queue focused", |s| focused(s, 4, "Follow-ups"));
    h.send(b"n");
    h.wait_for_text(" Note on ");
    type_text(&mut h, "Call Ana");
    h.wait_for_text("Call Ana");
    h.send(ESC);
    h.wait_for_text("kept as a draft");
    assert!(!h.screen_text().contains("╔ Note on "), "the editor closed\n{}", h.dump());
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);
    assert_eq!(drafts(&sb).iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), ["Call Ana"]);

    // The next start opens it again.
    let mut h = sb.spawn(100, 30);
    h.wait_for("the draft in the editor", |s| s.contains("kept draft") && s.contains("Call Ana"));
    // ctrl-c asks; n goes back to the editor with the text.
    h.send(CTRL_C);
    h.wait_for_text("Quit? Your draft is kept. y/n");
    h.assert_still_running_for(Duration::from_millis(200));
    h.send(b"n");
    h.wait_for("back in the editor", |s| !s.contains("Quit?") && s.contains("Call Ana"));
    type_text(&mut h, " today");
    h.wait_for_text("Call Ana today");
    h.send(CTRL_C);
    h.wait_for_text("Quit? Your draft is kept. y/n");
    h.send(b"y");
    h.assert_clean_exit();
    drop(h);
    assert_eq!(drafts(&sb).iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), ["Call Ana today"]);
}

#[test]
fn a_synced_churn_goes_to_the_outbox_only_once_confirmed_and_discarding_it_asks() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_crm, url) = crm_with_companies(&rt, "guard-secret", 3);
    let mut sb = Sandbox::new();
    sb.synced = true;
    point_crm_at(&sb, &url);
    let out = sb.command(&["sync"]).env("COCKPIT_E2E_TOKEN", "guard-secret").output().expect("run cockpit sync");
    assert!(out.status.success(), "sync failed: {}", String::from_utf8_lossy(&out.stderr));
    // Company 0001 renewed (as the CSM left it), nothing waiting.
    {
        let store = cockpit::store::Store::open(&sb.workspace()).unwrap();
        let id = store.external_id("crm", "1").unwrap().expect("Company 0001 is synced");
        let mut a = store.account(id).unwrap().unwrap();
        let old = store.row(id).unwrap().unwrap();
        a.stage = cockpit::domain::Stage::Renewed;
        let row = cockpit::domain::AccountRow { stage: a.stage, ..old.clone() };
        let mut totals = store.stage_totals().unwrap();
        let mut b = cockpit::store::Batch::default();
        b.put_account(&a);
        b.put_row(Some(&old), &row, &mut totals);
        b.put_totals(&totals);
        store.apply(b).unwrap();
        store.flush().unwrap();
        assert!(store.outbox().unwrap().is_empty());
    }
    // Opened without the token: the write waits in the outbox for the CSM to see.
    let mut h = sb.spawn(160, 48);
    h.wait_for_panes();
    select_by_name(&mut h, "Company 0001");
    h.send(b">");
    h.wait_for_text("Move Company 0001 to Churned?");
    h.send(b"i");
    h.wait_for_text("Company 0001 leaves (involuntary)");
    assert!(outbox_json(&sb).is_empty(), "nothing queued before the CSM confirms");
    h.send(ENTER);
    // Without its token the push fails at once: the write waits for the CSM.
    h.wait_until("the churn's write in the outbox", || outbox_json(&sb).len() == 1);
    let queued = outbox_json(&sb);
    assert_eq!(queued[0]["what"].as_str(), Some("stage: churned"), "{queued:?}");
    assert!(matches!(queued[0]["state"].as_str(), Some("pending" | "failed")), "{queued:?}");

    h.send(b"o");
    h.wait_for_text("stage: churned");
    h.send(b"x");
    h.wait_for_text("Discard this write to HubSpot (stage: churned)? It will not be sent. y/n");
    h.send(b"y");
    // (Other toasts may sit before it and cut the account's name off.)
    h.wait_for_text("Discarded, not sent: the write to HubSpot (stage: churned) for Compa");
    h.wait_for_text("1 discarded, not sent");
    h.send(ESC);
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);
    let v: Value = serde_json::from_str(&sb.cli(&["outbox", "--format", "json"])).unwrap();
    assert_eq!(v["counts"]["discarded"], 1, "{v}");
    assert!(outbox_json(&sb).is_empty(), "never sent");
    let text = sb.cli(&["outbox"]);
    assert!(text.contains("1 discarded, not sent") && text.contains("every other write reached its vendor"), "{text}");
}

/// From the board, `enter` opens the account view of the selected card;
/// `]` jumps through the sections to the timeline, `G` scrolls to its last
/// (oldest) entry, and a ticket's conversation opens on `enter`; `esc`
/// goes back a step at a time and never quits.
#[test]
fn open_an_account_from_the_board_scroll_its_timeline_to_the_end_and_read_a_conversation() {
    let sb = Sandbox::new();
    let mut h = sb.spawn(80, 24);
    h.wait_for_panes();
    h.send(b"3");
    h.wait_for("kanban focused after 3", |s| focused(s, 3, "Lifecycle"));
    h.send(ENTER);
    let screen =
        h.wait_for("the account view", |s| s.contains(" Overview  Contacts  Tickets") && s.contains("── Overview"));
    let name =
        screen.lines().next().unwrap().trim_start_matches('╔').trim().split(" ═").next().unwrap().trim().to_string();
    assert!(!name.is_empty(), "{screen}");
    for _ in 0..5 {
        h.send(b"]");
    }
    h.wait_for("the timeline section", |s| s.contains("── Timeline"));
    h.send(b"G");
    // The timeline ends where the outbox section begins: its heading shows
    // once the last entry is on screen.
    let at_end = h.wait_for("the end of the timeline", |s| s.contains("── Outbox"));
    // The tickets, and the first one's conversation.
    // `[` from inside the outbox section goes to its heading first.
    for _ in 0..5 {
        h.send(b"[");
    }
    h.wait_for("the tickets section", |s| s.lines().nth(2).is_some_and(|l| l.contains("── Tickets")));
    h.send(b"j");
    h.send(ENTER);
    let conversation = h.wait_for("a conversation", |s| s.contains("Conversation on #") && s.contains("kept as of"));
    assert!(conversation.contains("public reply"), "{conversation}");
    h.send(ESC);
    h.wait_for("back to the sections", |s| !s.contains("Conversation on #") && s.contains("── Tickets"));
    h.send(ESC);
    h.wait_for("back to the board", |s| focused(s, 3, "Lifecycle"));
    h.assert_still_running_for(Duration::from_millis(200));
    h.send(b"q");
    h.assert_clean_exit();
    drop(h);

    // The last entry on screen was the account's oldest (of any account of that name).
    let ids: Vec<u64> = sb
        .accounts_json(&["--filter", &name])
        .iter()
        .filter(|a| a["name"] == name.as_str())
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert!(!ids.is_empty(), "no account named {name:?}");
    let shown = ids.iter().any(|id| {
        let doc: Value = serde_json::from_str(&sb.cli(&["account", &id.to_string(), "--format", "json"])).unwrap();
        let oldest = doc["timeline"].as_array().unwrap().last().cloned().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(oldest["at"].as_str().unwrap()).unwrap();
        let words: Vec<&str> = oldest["summary"].as_str().unwrap().split_whitespace().take(3).collect();
        at_end.contains(&at.format("%Y-%m-%d %H:%M").to_string()) && at_end.contains(&words.join(" "))
    });
    assert!(shown, "the oldest entry of {name:?} is not on the last screen:\n{at_end}");
}
