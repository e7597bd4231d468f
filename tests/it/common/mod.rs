//! Shared fixtures: a demo workspace in a temp dir at a fixed moment, the
//! cockpit's state over it, records with defaults, and the binary in a home
//! of its own or in a pseudo-terminal.

#![allow(dead_code)]

pub mod bin;
pub mod fixtures;
pub mod pty;
pub mod screen;

use chrono::{DateTime, TimeZone, Utc};
use cockpit::demo::{self, DemoSpec};
use cockpit::domain::Bands;
use cockpit::store::Store;
use cockpit::tui::app::App;
use cockpit::tui::keymap::Keymap;
use cockpit::tui::theme::Theme;
use cockpit::tui::{first_app, Session};

/// The moment every fixture is generated and viewed at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
}

/// A fresh demo workspace of `accounts` accounts.
pub fn demo_store(accounts: u64) -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    demo::generate(&store, &DemoSpec { accounts, seed: demo::DEFAULT_SEED, now: now() }).unwrap();
    (tmp, store)
}

/// The cockpit's state with the store its effects are carried out on: the
/// app holds no store (the event loop never reads it), so a test settles
/// the edits and reads an update asked for with `settle`.
pub struct Cockpit {
    /// The UI state.
    pub app: App,
    /// The workspace.
    pub store: Store,
}

impl Cockpit {
    /// Carries out the pending edits and reads here and now; returns the
    /// other effects.
    pub fn settle(&mut self) -> Vec<cockpit::tui::effect::Effect> {
        cockpit::tui::jobs::settle_inline(&mut self.app, &self.store)
    }
}

impl std::ops::Deref for Cockpit {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl std::ops::DerefMut for Cockpit {
    fn deref_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

/// The cockpit's first-frame state over a store, in a theme.
pub fn app(store: Store, theme: Theme) -> Cockpit {
    Cockpit { app: first_app(session(store.clone().into(), theme), now()).unwrap(), store }
}

/// What the demo's cockpit starts with, over a workspace open or opening.
pub fn session(store: cockpit::tui::Opening, theme: Theme) -> Session {
    Session {
        store,
        theme,
        keymap: Keymap::default(),
        bands: Bands::default(),
        workspace: "demo".into(),
        data_label: "demo data, offline".into(),
        sources: vec![],
        sync_every: None,
        warnings: vec![],
        author: "tester".into(),
        signature: Some("Tess Tester".into()),
        health_model: cockpit::domain::health_model::Model::builtin(),
        flags: Default::default(),
        replies: cockpit::domain::reply::builtin(),
        config: None,
        calendar: Default::default(),
    }
}

/// A named built-in theme.
pub fn theme(name: &str) -> Theme {
    let (t, warnings) = Theme::load(name, None);
    assert!(warnings.is_empty(), "{warnings:?}");
    t
}
