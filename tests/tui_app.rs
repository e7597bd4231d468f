//! The cockpit's state machine driven by actions, on a real demo store.

mod common;

use cockpit::book::Book;
use cockpit::domain::{AccountId, Stage};
use cockpit::tui::action::Action;
use cockpit::tui::app::{Mode, Msg, Pane};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn selecting_in_any_pane_selects_everywhere() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    let first = app.selected.unwrap();
    assert_eq!(app.book.view_row(0).unwrap().id, first);
    // Move in the queue: the table and the kanban follow.
    app.update(Action::FocusQueue);
    app.update(Action::Down);
    let from_queue = app.queue[app.queue_cursor].follow_up.account_id;
    assert_eq!(app.selected, Some(from_queue));
    assert_eq!(app.book.view_row(app.table_cursor).unwrap().id, from_queue);
    let (stage, pos) = app.book.column_position(from_queue).unwrap();
    assert_eq!((app.kanban_col, app.kanban_rows[app.kanban_col]), (stage.index(), pos));
    assert_eq!(app.health.as_ref().unwrap().id, from_queue, "health follows the selection");
    // Move in the kanban: the table follows.
    app.update(Action::FocusKanban);
    app.update(Action::Right);
    let id = app.selected.unwrap();
    assert_eq!(app.book.row(id).unwrap().stage.index(), app.kanban_col);
    assert_eq!(app.book.view_row(app.table_cursor).unwrap().id, id);
}

#[test]
fn moving_a_stage_is_stored_and_shown() {
    let (tmp, store) = common::demo_store(150);
    let dir = store.path().to_path_buf();
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusKanban);
    let id = app.selected.unwrap();
    let before = app.book.row(id).unwrap().stage;
    let count_before = app.book.totals().count[before.index()];
    app.update(Action::StageNext);
    let after = before.next().unwrap();
    assert_eq!(app.book.row(id).unwrap().stage, after);
    assert_eq!(app.book.totals().count[before.index()], count_before - 1);
    assert_eq!(app.kanban_col, after.index(), "the kanban cursor follows the card");
    assert_eq!(app.selected, Some(id));
    assert!(app.toasts.last().unwrap().text.contains(after.label()));
    drop(app);
    let store = cockpit::store::Store::open(&dir).unwrap();
    assert_eq!(store.account(id).unwrap().unwrap().stage, after);
    assert_eq!(store.row(id).unwrap().unwrap().stage, after);
    drop(tmp);
}

#[test]
fn churned_is_the_last_column() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusKanban);
    for _ in 0..9 {
        app.update(Action::Right);
    }
    assert_eq!(app.kanban_col, Stage::Churned.index());
    let id = app.selected.unwrap();
    app.update(Action::StageNext);
    assert_eq!(app.book.row(id).unwrap().stage, Stage::Churned);
    assert!(app.toasts.last().unwrap().text.contains("already in the Churned column"));
}

#[test]
fn esc_goes_back_and_never_quits() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::Help);
    assert_eq!(app.mode, Mode::Help);
    app.update(Action::Back);
    assert_eq!(app.mode, Mode::Normal);
    app.update(Action::Zoom);
    app.update(Action::Back);
    assert!(!app.zoom);
    app.update(Action::Filter);
    for c in "labs".chars() {
        app.on_event(&key(KeyCode::Char(c)));
    }
    assert_eq!(app.book.filter(), "labs");
    assert!(app.book.view_len() > 0 && app.book.view_len() < 150);
    app.on_event(&key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.book.filter(), "labs", "enter keeps the filter");
    app.on_event(&key(KeyCode::Esc));
    assert_eq!(app.book.filter(), "", "esc clears it");
    for _ in 0..5 {
        app.on_event(&key(KeyCode::Esc));
    }
    assert!(!app.should_quit);
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert!(app.should_quit);
}

#[test]
fn focus_keys_and_paging() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusNext);
    assert_eq!(app.focus, Pane::Health);
    app.update(Action::FocusPrev);
    app.update(Action::FocusPrev);
    assert_eq!(app.focus, Pane::Queue);
    app.update(Action::FocusAccounts);
    app.update(Action::Bottom);
    assert_eq!(app.table_cursor, 149);
    app.update(Action::Top);
    assert_eq!(app.table_cursor, 0);
    app.table_height.set(20);
    app.update(Action::PageDown);
    assert_eq!(app.table_cursor, 20);
    app.update(Action::SortNext);
    assert_eq!(app.book.view_row(app.table_cursor).unwrap().id, app.selected.unwrap(), "selection survives a re-sort");
}

#[test]
fn first_frame_order_matches_the_full_book() {
    let (_tmp, store) = common::demo_store(500);
    let first = Book::load_first(&store, 50).unwrap();
    assert!(!first.is_complete());
    let full = Book::load(&store).unwrap();
    let a: Vec<AccountId> = first.view_slice(0, 50).map(|r| r.id).collect();
    let b: Vec<AccountId> = full.view_slice(0, 50).map(|r| r.id).collect();
    assert_eq!(a, b);
    assert_eq!(first.total(), 500);
    for stage in Stage::ALL {
        let n = first.column_len(stage).min(20);
        let a: Vec<AccountId> = first.column_slice(stage, 0, n).map(|r| r.id).collect();
        let b: Vec<AccountId> = full.column_slice(stage, 0, n).map(|r| r.id).collect();
        assert_eq!(a, b, "{stage:?}");
    }
    // The UI swaps in the full book without losing the selection.
    let mut app = common::app(store.clone(), common::theme("dark"));
    app.update(Action::Down);
    let id = app.selected.unwrap();
    let queue = cockpit::queue::load(&store, common::now(), usize::MAX).unwrap();
    app.on_msg(Msg::Loaded(Box::new(full), queue));
    assert!(app.book.is_complete() && app.queue_complete);
    assert_eq!(app.selected, Some(id));
    assert_eq!(app.book.view_row(app.table_cursor).unwrap().id, id);
}

#[test]
fn config_and_theme_warnings_show_in_the_status_line() {
    let (_tmp, store) = common::demo_store(20);
    let (theme, mut warnings) = cockpit::tui::theme::Theme::resolve(Some("neon"), None, false);
    assert_eq!(theme.name, "dark", "an unknown theme falls back to the default");
    let (keymap, key_warnings) = cockpit::tui::keymap::Keymap::with_overrides([("j", "jump")]);
    warnings.extend(key_warnings);
    let session = cockpit::tui::Session {
        store,
        theme,
        keymap,
        bands: cockpit::domain::Bands::default(),
        workspace: "demo".into(),
        data_label: "demo data, offline".into(),
        sources: vec![],
        sync_every: None,
        warnings,
        author: "tester".into(),
    };
    let app = cockpit::tui::first_app(session, common::now()).unwrap();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(&app, f)).unwrap();
    let status: String = (0..160).map(|x| term.backend().buffer()[(x, 47)].symbol().to_string()).collect();
    assert!(status.contains("\"jump\" is not an action"), "{status}");
    assert!(status.contains("(+1 more, see the log)"), "{status}");
    // The bad binding was skipped; the default stays.
    assert_eq!(app.keymap.action(&KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
}

#[test]
fn status_line_shows_sync_progress_freshness_and_offline() {
    use cockpit::store::SyncStatus;
    use cockpit::tui::app::SourceView;
    let (_tmp, store) = common::demo_store(20);
    let mut app = common::app(store, common::theme("dark"));
    let status_line = |app: &cockpit::tui::app::App| {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        term.draw(|f| cockpit::tui::view::draw(app, f)).unwrap();
        (0..160).map(|x| term.backend().buffer()[(x, 47)].symbol().to_string()).collect::<String>()
    };
    assert!(status_line(&app).contains("demo data, offline"));
    app.update(Action::Sync);
    assert!(!app.sync_requested, "nothing to sync without sources");
    assert!(app.toasts.last().unwrap().text.contains("No sources configured"));
    app.toasts.clear();

    app.sources = vec![
        SourceView { name: "crm".into(), last: None, running: None },
        SourceView { name: "desk".into(), last: None, running: None },
    ];
    assert!(status_line(&app).contains("crm · never synced"));
    app.update(Action::Sync);
    assert!(app.sync_requested);
    app.syncing = true;
    app.on_msg(Msg::SyncProgress(cockpit::sync::Progress { source: "crm".into(), object: "companies", done: 300 }));
    assert!(status_line(&app).contains("crm ⟳ 300"), "{}", status_line(&app));
    let ok = SyncStatus { at: common::now() - chrono::Duration::minutes(12), ok: true, message: None };
    let failed = SyncStatus {
        at: common::now() - chrono::Duration::minutes(3),
        ok: false,
        message: Some("desk: cannot reach desk.example (connection failed)".into()),
    };
    app.on_msg(Msg::SyncDone(vec![("crm".into(), ok), ("desk".into(), failed)]));
    assert!(!app.syncing);
    let line = status_line(&app);
    assert!(line.contains("crm ✓ synced 12m ago"), "{line}");
    assert!(line.contains("desk ✗ offline since 3m ago"), "{line}");
    assert!(line.contains("cannot reach desk.example"), "the failure is a toast: {line}");
}
