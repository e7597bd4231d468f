//! The real binary with a config holding mistakes: each costs only itself,
//! `config check` lists them all where they are, and every headless command
//! says them on stderr and still works.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::bin::{self, stderr, stdout};

/// An unknown top-level key, a misspelt key in a source, a wrong type, and
/// one valid source whose token variable is never set.
const MISTAKES: &str = "colour = \"blue\"\n\
                        \n\
                        [sync]\n\
                        every_minutes = \"ten\"\n\
                        \n\
                        [[source]]\n\
                        name = \"crm\"\n\
                        kind = \"hubspot\"\n\
                        tokn_env = \"CRM_TOKEN\"\n\
                        token_env = \"COCKPIT_CONFIG_TEST_NEVER_SET\"\n";

fn cockpit(home: &Path, args: &[&str]) -> Output {
    bin::in_home(home).args(args).env_remove("COCKPIT_CONFIG_TEST_NEVER_SET").output().expect("run cockpit")
}

/// A temp dir with the config written in it.
fn with_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    (tmp, cfg)
}

/// The three problems of MISTAKES as `path:line:column: message`.
fn expected(cfg: &Path) -> [String; 3] {
    let p = cfg.display();
    [
        format!("{p}:1:1: unknown key \"colour\" at the top level (ignored)"),
        format!(
            "{p}:4:17: sync.every_minutes must be a whole number from 0 to 10080, not text; using the default (15)"
        ),
        format!("{p}:9:1: unknown key \"tokn_env\" in [[source]] \"crm\"; did you mean \"token_env\"? (ignored)"),
    ]
}

#[test]
fn config_check_lists_every_problem_where_it_is_and_fails() {
    let (tmp, cfg) = with_config(MISTAKES);
    let o = cockpit(tmp.path(), &["config", "check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "warnings count as problems");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "three problems and the summary:\n{err}");
    for (line, want) in lines.iter().zip(expected(&cfg)) {
        assert!(line.starts_with(&want), "{line}\nwanted it to start with\n{want}");
    }
    assert_eq!(lines[3], format!("error: 3 problems in {}", cfg.display()));

    // Fixed, the same file is clean.
    let fixed =
        "[sync]\nevery_minutes = 10\n\n[[source]]\nname = \"crm\"\nkind = \"hubspot\"\ntoken_env = \"CRM_TOKEN\"\n";
    std::fs::write(&cfg, fixed).unwrap();
    let o = cockpit(tmp.path(), &["config", "check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}: ok\n", cfg.display()));
}

#[test]
fn a_syntax_error_says_the_whole_file_is_unused() {
    let (tmp, cfg) = with_config("[sync]\nevery_minutes = = 3\n");
    let o = cockpit(tmp.path(), &["config", "check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.starts_with(&format!("{}:2:17: ", cfg.display())), "{err}");
    assert!(err.contains("not valid TOML, so none of the file is used"), "{err}");
}

#[test]
fn a_headless_command_says_the_problems_and_still_works() {
    let (tmp, cfg) = with_config(MISTAKES);
    let ws = tmp.path().join("ws");
    let o = cockpit(
        tmp.path(),
        &["--config", cfg.to_str().unwrap(), "--data-dir", ws.to_str().unwrap(), "today", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 3, "{err}");
    for (line, want) in warnings.iter().zip(expected(&cfg)) {
        assert!(line.starts_with(&format!("warning: {want}")), "{line}");
    }
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is only the JSON");
    assert!(doc["items"].is_array());
    // The log holds them too.
    let log = std::fs::read_to_string(ws.join("cockpit.log")).unwrap();
    for want in expected(&cfg) {
        assert!(log.contains(&want), "{want} not in the log:\n{log}");
    }
}

#[test]
fn sync_uses_the_valid_source_despite_the_mistakes() {
    let (tmp, cfg) = with_config(MISTAKES);
    let ws = tmp.path().join("ws");
    let o = cockpit(tmp.path(), &["--config", cfg.to_str().unwrap(), "--data-dir", ws.to_str().unwrap(), "sync"]);
    let err = stderr(&o);
    assert!(!err.contains("no sources are configured"), "{err}");
    assert!(err.contains("warning: ") && err.contains("did you mean \"token_env\""), "{err}");
    // It tried the source: without its token it stops, naming the variable.
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("error: crm: the environment variable COCKPIT_CONFIG_TEST_NEVER_SET is not set"), "{err}");
}

#[test]
fn a_pasted_token_is_never_printed() {
    let secret = "pat-na1-0000feed-beef";
    let text = format!(
        "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\ntoken_env = \"{secret}\"\n\n\
         [[source]]\nname = \"other\"\nkind = \"hubspot\"\ntokn_env = \"{secret}\"\nbase_url = \"{secret}\"\n"
    );
    let (tmp, cfg) = with_config(&text);
    let ws = tmp.path().join("ws");
    for args in [
        vec!["config", "check", "--config", cfg.to_str().unwrap()],
        vec!["--config", cfg.to_str().unwrap(), "--data-dir", ws.to_str().unwrap(), "accounts"],
    ] {
        let o = cockpit(tmp.path(), &args);
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(err.contains(&format!("{}:4:1: source \"crm\": token_env must be the NAME", cfg.display())), "{err}");
        assert!(err.contains(&format!("{}:10:1: source \"other\": base_url is not a URL", cfg.display())), "{err}");
        assert!(!out.contains(secret) && !err.contains(secret), "{args:?}:\n{out}\n{err}");
    }
    let log = std::fs::read_to_string(ws.join("cockpit.log")).unwrap();
    assert!(log.contains("token_env must be the NAME") && !log.contains(secret), "{log}");
}

#[test]
fn a_bad_key_in_a_modes_table_is_placed_and_the_default_stays() {
    use cockpit::config::keys::KeyMode;
    use cockpit::tui::action::Action;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let text = "[keys]\n\"ctrl-n\" = \"down\"\n\n[keys.outbox]\n\"x\" = \"quit\"\n\"hyper-x\" = \"retry\"\n\"R\" = \"retry\"\n\n[keys.outbx]\n\"y\" = \"close\"\n";
    let (tmp, cfg) = with_config(text);
    let o = cockpit(tmp.path(), &["config", "check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "a config with problems exits 3");
    let err = stderr(&o);
    let p = cfg.display();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{p}:5:1: [keys.outbox] \"quit\" is not an action of [keys.outbox]; its actions are: down, up, retry, \
                 edit, discard, close; binding skipped"
            )
            .as_str(),
            &format!(
                "{p}:6:1: [keys.outbox] \"hyper-x\" is not a key (try \"j\", \"ctrl-d\", \"shift-tab\", \"pagedown\", \
                 \"f5\"); binding skipped"
            ),
            &format!(
                "{p}:9:7: [keys.outbx] is not a mode with keys; did you mean \"outbox\"? the modes are: filter, \
                 sentiment, outbox, help, account, metrics, editor, picker, undo, confirm (ignored)"
            ),
            &format!("error: 3 problems in {p}"),
        ],
        "{err}"
    );
    // What was good is used; what was bad leaves the default in place.
    let (config, _) = cockpit::config::parse(text, None);
    let k = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    assert_eq!(config.keys.action(KeyMode::Outbox, &k('x')), Some(Action::Discard));
    assert_eq!(config.keys.action(KeyMode::Outbox, &k('R')), Some(Action::Retry));
    assert_eq!(config.keys.action(KeyMode::Help, &k('y')), None);
    let ctrl_n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL);
    assert_eq!(config.keys.action(KeyMode::Normal, &ctrl_n), Some(Action::Down));
}
