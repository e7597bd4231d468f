//! The cockpit's state machine driven by actions, on a real demo store.

use crate::common;

use cockpit::book::Book;
use cockpit::domain::{AccountId, Stage};
use cockpit::tui::action::Action;
use cockpit::tui::app::{Mode, Msg, Pane};
use cockpit::tui::effect::Effect;
use cockpit::tui::keymap::KeyMode;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn selecting_in_any_pane_selects_everywhere() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    let first = app.selected().unwrap();
    assert_eq!(app.book.view_row(0).unwrap().id, first);
    // Move in the queue: the table and the kanban follow.
    app.update(Action::FocusQueue);
    app.update(Action::Down);
    let from_queue = app.queue[app.selection.queue_cursor].follow_up.account_id;
    assert_eq!(app.selected(), Some(from_queue));
    assert_eq!(app.book.view_row(app.selection.table_cursor).unwrap().id, from_queue);
    let (stage, pos) = app.book.column_position(from_queue).unwrap();
    assert_eq!((app.selection.kanban_col, app.selection.kanban_rows[app.selection.kanban_col]), (stage.index(), pos));
    assert_eq!(app.health_shown().unwrap().id, from_queue, "health follows the selection");
    // Move in the kanban: the table follows.
    app.update(Action::FocusKanban);
    app.update(Action::Right);
    let id = app.selected().unwrap();
    assert_eq!(app.book.row(id).unwrap().stage.index(), app.selection.kanban_col);
    assert_eq!(app.book.view_row(app.selection.table_cursor).unwrap().id, id);
}

#[test]
fn the_queue_leads_with_its_top_whatever_is_selected() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    // The table's first account is selected at start; the queue shows its own top.
    assert_eq!(app.selection.queue_cursor, 0);
    for _ in 0..5 {
        app.update(Action::Down);
    }
    let picked = app.selected().unwrap();
    assert_eq!(app.selection.queue_cursor, 0, "selecting in the table leaves the queue at its top");
    // Focusing the queue selects its first item's account, the most urgent.
    app.update(Action::FocusQueue);
    let top = app.queue[0].follow_up.account_id;
    assert_eq!(app.selected(), Some(top));
    assert_ne!(top, picked, "the demo's worst health is not its most urgent item");
    assert_eq!(app.selection.queue_cursor, 0);
}

#[test]
fn moving_a_stage_is_stored_and_shown() {
    let (tmp, store) = common::demo_store(150);
    let dir = store.path().to_path_buf();
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusKanban);
    let id = app.selected().unwrap();
    let before = app.book.row(id).unwrap().stage;
    let count_before = app.book.totals().count[before.index()];
    app.update(Action::StageNext);
    app.settle();
    let after = before.next().unwrap();
    assert_eq!(app.book.row(id).unwrap().stage, after);
    assert_eq!(app.book.totals().count[before.index()], count_before - 1);
    assert_eq!(app.selection.kanban_col, after.index(), "the kanban cursor follows the card");
    assert_eq!(app.selected(), Some(id));
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
    assert_eq!(app.selection.kanban_col, Stage::Churned.index());
    let id = app.selected().unwrap();
    app.update(Action::StageNext);
    assert_eq!(app.book.row(id).unwrap().stage, Stage::Churned);
    assert!(app.toasts.last().unwrap().text.contains("already in the Churned column"));
}

#[test]
fn esc_goes_back_and_never_quits() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::Help);
    assert_eq!(app.mode(), Mode::Help);
    app.update(Action::Back);
    assert_eq!(app.mode(), Mode::Normal);
    // q closes an overlay like any key; it quits only from the panes.
    for overlay in [Action::Help, Action::Detail] {
        app.update(overlay);
        assert_ne!(app.mode(), Mode::Normal);
        app.update(Action::Quit);
        assert_eq!(app.mode(), Mode::Normal);
        assert!(!app.should_quit, "{overlay:?}");
    }
    app.update(Action::Zoom);
    app.update(Action::Back);
    assert!(!app.overlays.zoom);
    app.update(Action::Filter);
    for c in "labs".chars() {
        app.on_event(&key(KeyCode::Char(c)));
    }
    assert_eq!(app.book.filter(), "labs");
    assert!(app.book.view_len() > 0 && app.book.view_len() < 150);
    app.on_event(&key(KeyCode::Enter));
    assert_eq!(app.mode(), Mode::Normal);
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
    assert_eq!(app.focus(), Pane::Health);
    app.update(Action::FocusPrev);
    app.update(Action::FocusPrev);
    assert_eq!(app.focus(), Pane::Queue);
    app.update(Action::FocusAccounts);
    app.update(Action::Bottom);
    assert_eq!(app.selection.table_cursor, 149);
    app.update(Action::Top);
    assert_eq!(app.selection.table_cursor, 0);
    app.selection.table_height.set(20);
    app.update(Action::PageDown);
    assert_eq!(app.selection.table_cursor, 20);
    app.update(Action::SortNext);
    assert_eq!(
        app.book.view_row(app.selection.table_cursor).unwrap().id,
        app.selected().unwrap(),
        "selection survives a re-sort"
    );
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
    let id = app.selected().unwrap();
    let queue = cockpit::queue::load(&store, common::now(), usize::MAX, &Default::default()).unwrap();
    app.on_msg(Msg::Loaded(Box::new(full), queue));
    assert!(app.book.is_complete() && app.queue_complete);
    assert_eq!(app.selected(), Some(id));
    assert_eq!(app.book.view_row(app.selection.table_cursor).unwrap().id, id);
}

#[test]
fn config_and_theme_warnings_show_in_the_status_line() {
    let (_tmp, store) = common::demo_store(20);
    let (theme, mut warnings) = cockpit::tui::theme::Theme::resolve(Some("neon"), None, false);
    assert_eq!(theme.name, "dark", "an unknown theme falls back to the default");
    let (keymap, key_warnings) = cockpit::tui::keymap::Keymap::with_overrides(KeyMode::Normal, [("j", "jump")]);
    warnings.extend(key_warnings);
    let session = cockpit::tui::Session {
        store: store.into(),
        theme,
        keymap,
        bands: cockpit::domain::Bands::default(),
        workspace: "demo".into(),
        data_label: "demo data, offline".into(),
        sources: vec![],
        sync_every: None,
        warnings,
        author: "tester".into(),
        signature: None,
        health_model: cockpit::domain::health_model::Model::builtin(),
        flags: Default::default(),
        replies: cockpit::domain::reply::builtin(),
        config: None,
        calendar: Default::default(),
    };
    let app = cockpit::tui::first_app(session, common::now()).unwrap();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(&app, f)).unwrap();
    let status: String = (0..160).map(|x| term.backend().buffer()[(x, 47)].symbol().to_string()).collect();
    assert!(status.contains("\"jump\" is not an action"), "{status}");
    assert!(status.contains("(+1 more, see the log)"), "{status}");
    // The bad binding was skipped; the default stays.
    let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(app.keymap.action(KeyMode::Normal, &j), Some(Action::Down));
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
    assert!(app.take_effects().is_empty(), "nothing to sync without sources");
    assert!(app.toasts.last().unwrap().text.contains("No sources configured"));
    app.toasts.clear();

    app.status.sources = vec![
        SourceView { name: "crm".into(), last: None, running: None },
        SourceView { name: "desk".into(), last: None, running: None },
    ];
    assert!(status_line(&app).contains("crm · never synced"));
    app.update(Action::Sync);
    assert!(matches!(app.take_effects()[..], [Effect::Sync]));
    assert!(app.status.syncing);
    app.update(Action::Sync);
    assert!(app.take_effects().is_empty(), "one sync at a time");
    app.on_msg(Msg::SyncProgress(cockpit::sync::Progress { source: "crm".into(), object: "companies", done: 300 }));
    assert!(status_line(&app).contains("crm ⟳ 300"), "{}", status_line(&app));
    let ok = SyncStatus { at: common::now() - chrono::Duration::minutes(12), ok: true, message: None };
    let failed = SyncStatus {
        at: common::now() - chrono::Duration::minutes(3),
        ok: false,
        message: Some("desk: cannot reach desk.example (connection failed)".into()),
    };
    app.on_msg(Msg::SyncDone(vec![("crm".into(), ok), ("desk".into(), failed)], true));
    assert!(!app.status.syncing);
    let line = status_line(&app);
    assert!(line.contains("crm ✓ synced 12m ago"), "{line}");
    assert!(line.contains("desk ✗ offline since 3m ago"), "{line}");
    assert!(line.contains("cannot reach desk.example"), "the failure is a toast: {line}");
}

#[test]
fn metrics_overlay_computes_off_the_ui_thread_and_closes() {
    use cockpit::tui::metrics::MetricsState;
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    let screen = |app: &cockpit::tui::app::App| {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 32)).unwrap();
        term.draw(|f| cockpit::tui::view::draw(app, f)).unwrap();
        let buf = term.backend().buffer().clone();
        (0..32)
            .map(|y| (0..100).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n")
            .collect::<String>()
    };
    app.update(Action::Metrics);
    assert_eq!(app.mode(), Mode::Metrics);
    assert!(matches!(app.overlays.metrics.state, MetricsState::Computing));
    assert!(screen(&mut app).contains("computing…"));

    // What the event loop does: hand the job to a thread, then apply its message.
    let job = metrics_job(&mut app).expect("opening the overlay asks for the figures");
    let (from, to, seq) = (job.from, job.to, job.seq);
    assert_eq!((from, to), (common::now().date_naive() - chrono::Duration::days(29), common::now().date_naive()));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    cockpit::tui::metrics::spawn(app.store.clone(), job, tx);
    app.on_msg(rx.blocking_recv().expect("the job answers"));
    let MetricsState::Ready(view) = &app.overlays.metrics.state else {
        panic!("no figures: {:?}", app.overlays.metrics.state)
    };
    let direct = cockpit::report::metrics::compute(&app.store, app.bands, from, to, to).unwrap();
    assert_eq!(view.report, direct, "the overlay shows what `cockpit metrics` computes");
    assert!(view.backtest_lines.iter().any(|l| l.contains("ROC AUC")), "{:?}", view.backtest_lines);
    assert!(view.backtest_lines.iter().any(|l| l.contains("better than chance")), "{:?}", view.backtest_lines);
    let model = cockpit::domain::health_model::Model::builtin();
    assert_eq!(app.status.model_label, format!("{} v{}", model.name, model.version));
    let text = screen(&mut app);
    for want in ["Net revenue retention", "Logo churn, customer-days", "NPS", "Within 90 days", "ROC AUC"] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert!(text.contains(&format!("model {}", app.status.model_label)), "{text}");

    app.update(Action::Back);
    assert_eq!(app.mode(), Mode::Normal);
    assert!(!screen(&mut app).contains("Net revenue retention"));

    // Reopening recomputes; an answer to an older opening is dropped.
    let stale = view_of(&app);
    app.update(Action::Metrics);
    assert!(matches!(app.overlays.metrics.state, MetricsState::Computing));
    app.on_msg(Msg::Metrics(seq, Ok(stale)));
    assert!(matches!(app.overlays.metrics.state, MetricsState::Computing), "a stale answer must not show");
    let job = metrics_job(&mut app).unwrap();
    app.on_msg(Msg::Metrics(job.seq, Err("Could not compute the metrics: disk full".into())));
    assert!(screen(&mut app).contains("Could not compute the metrics: disk full"));
    // q and m close the overlay too; q does not quit from it.
    app.update(Action::Quit);
    assert_eq!(app.mode(), Mode::Normal);
    assert!(!app.should_quit);
    app.update(Action::Metrics);
    app.on_event(&key(KeyCode::Char('m')));
    assert_eq!(app.mode(), Mode::Normal);
}

fn metrics_job(app: &mut common::Cockpit) -> Option<cockpit::tui::metrics::MetricsJob> {
    app.settle().into_iter().find_map(|e| match e {
        Effect::Metrics(job) => Some(job),
        _ => None,
    })
}

fn view_of(app: &cockpit::tui::app::App) -> Box<cockpit::tui::metrics::MetricsView> {
    match &app.overlays.metrics.state {
        cockpit::tui::metrics::MetricsState::Ready(v) => v.clone(),
        other => panic!("no figures: {other:?}"),
    }
}

/// The whole screen as text at 100x40.
fn screen(app: &mut common::Cockpit) -> String {
    app.settle();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 40)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(app, f)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..40).map(|y| (0..100).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n").collect()
}

#[test]
fn detail_explains_the_score_and_sentiment_moves_it_at_once() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    let id = app.selected().unwrap();
    let before = app.book.row(id).unwrap().health;
    let view = app.health_shown().expect("health of the selection");
    let e = view.explanation.as_ref().expect("the demo keeps each day's inputs");
    let points: f32 = e.contributions.iter().map(|c| c.points).sum();
    assert!((points - before.unwrap() as f32).abs() <= 1.0, "factors add up to the score: {points} vs {before:?}");
    assert!(e.then.is_some(), "a week-old day to compare with");

    app.update(Action::Detail);
    assert_eq!(app.mode(), Mode::Account);
    let text = screen(&mut app);
    for want in ["Why: the factors on", "model default v3", "What moved since last week", "points", "Sentiment"] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    app.update(Action::Back);
    assert_eq!(app.mode(), Mode::Normal);

    // f then 1: the worried CSM's read lands and the score drops now.
    app.on_event(&key(KeyCode::Char('f')));
    assert_eq!(app.mode(), Mode::Sentiment);
    app.on_event(&key(KeyCode::Char('1')));
    assert_eq!(app.mode(), Mode::Normal);
    app.settle();
    let after = app.book.row(id).unwrap().health;
    assert!(after < before, "{after:?} vs {before:?}");
    assert!(app.toasts.last().unwrap().text.contains("Sentiment 1/5 recorded"), "{:?}", app.toasts.last());
    let view = app.health_shown().unwrap();
    assert_eq!(view.sentiment.as_ref().map(|s| (s.value, s.by.as_str())), Some((1, "tester")));
    assert_eq!(app.store.row(id).unwrap().unwrap().health, after, "stored, not only shown");

    // Any other key leaves the sentiment alone.
    app.on_event(&key(KeyCode::Char('f')));
    app.on_event(&key(KeyCode::Char('x')));
    assert_eq!(app.mode(), Mode::Normal);
    assert_eq!(app.book.row(id).unwrap().health, after);
}

#[test]
fn an_edit_shows_at_once_and_its_toast_waits_for_the_writer() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusKanban);
    let id = app.selected().unwrap();
    let before = app.book.row(id).unwrap().stage;
    app.update(Action::StageNext);
    // On screen at once, not yet stored, no word yet.
    assert_eq!(app.book.row(id).unwrap().stage, before.next().unwrap());
    assert_eq!(app.store.row(id).unwrap().unwrap().stage, before);
    assert!(!app.toasts.iter().any(|t| t.text.contains("Moved")));
    let effects = app.take_effects();
    let [Effect::Write { seq, edit, at }] = &effects[..] else { panic!("one edit for the writer: {effects:?}") };
    // The writer applies it and answers; then the toast says so.
    let by = cockpit::engine::edits::Author::new("tester", *at);
    let applied = cockpit::engine::edits::apply(&app.store, edit.clone(), &by).unwrap();
    app.on_msg(Msg::Written(*seq, Ok(Box::new(applied))));
    assert_eq!(app.store.row(id).unwrap().unwrap().stage, before.next().unwrap());
    assert!(app.toasts.last().unwrap().text.contains("Moved"), "{:?}", app.toasts.last());
    // The move goes to HubSpot with the next push; the rest are rereads of
    // what it changed (the timeline, the outbox counts), off the event loop.
    let effects = app.take_effects();
    assert_eq!(effects.iter().filter(|e| matches!(e, Effect::Push)).count(), 1, "{effects:?}");
    assert!(effects.iter().all(|e| matches!(e, Effect::Push | Effect::Read(_))), "{effects:?}");
    // A refused edit puts the screen back as stored.
    app.update(Action::StageNext);
    let effects = app.take_effects();
    let [Effect::Write { seq, .. }] = &effects[..] else { panic!("{effects:?}") };
    app.on_msg(Msg::Written(*seq, Err("the disk is full".into())));
    assert_eq!(app.book.row(id).unwrap().stage, before.next().unwrap());
    assert!(app.toasts.last().unwrap().text.contains("the disk is full"), "{:?}", app.toasts.last());
}

#[test]
fn support_organizations_of_their_own_are_marked_filterable_and_explained() {
    use cockpit::domain::{OrgLink, OrgRecord};
    use cockpit::engine::merge::{relink_org, Change, Target};
    let (_tmp, store) = common::demo_store(30);
    let first = store.first_rows(1).unwrap()[0].clone();
    // That account is a support organization kept apart: two companies fit it.
    let record = OrgRecord {
        id: 77,
        name: first.name.clone(),
        domains: vec![],
        external_id: None,
        created: None,
        link: OrgLink::Ambiguous { why: "\"X\" matches 2 accounts by name (A, B); kept as its own account".into() },
    };
    let change = Change { record, target: Target::Account(first.id), own: false, exclusive: true, users: vec![] };
    relink_org(&store, "support", change, &[]).unwrap();
    let mut app = common::app(store, common::theme("dark"));
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(&app, f)).unwrap();
    let screen: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains("⚑ambiguous"), "the table marks it");
    // The filter finds it by its mark.
    app.book.set_filter("ambiguous");
    assert_eq!(app.book.view_len(), 1);
    assert_eq!(app.book.view_row(0).unwrap().id, first.id);
    // The detail says why, and that it has no contract.
    app.selection.selected = Some(first.id);
    app.update(Action::Detail);
    // The account view reads off the event loop: its answer first.
    app.settle();
    term.draw(|f| cockpit::tui::view::draw(&app, f)).unwrap();
    let screen: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains("Support only"), "{screen}");
    assert!(screen.contains("kept apart"), "{screen}");
    assert!(!screen.contains("renews"), "no renewal for an account with no contract");
}

#[test]
fn an_account_merged_away_stays_selected_as_the_account_it_became() {
    use cockpit::domain::{OrgLink, OrgRecord};
    use cockpit::engine::merge::{relink_org, Change, Target};
    let (_tmp, store) = common::demo_store(30);
    let rows = store.first_rows(2).unwrap();
    let (gone, stays) = (rows[0].id, rows[1].id);
    let org = |link| OrgRecord { id: 5, name: "X".into(), domains: vec![], external_id: None, created: None, link };
    // The first account is organization 5's own; the second, a CRM account.
    let mark = Change {
        record: org(OrgLink::Unmatched),
        target: Target::Account(gone),
        own: false,
        exclusive: true,
        users: vec![],
    };
    relink_org(&store, "support", mark, &[]).unwrap();
    let mut app = common::app(store, common::theme("dark"));
    app.selection.selected = Some(gone);
    // Its CRM account arrives: the own account merges into it.
    let matched = OrgRecord { link: OrgLink::Matched { how: "domain".into() }, ..org(OrgLink::Unmatched) };
    let merge = Change { record: matched, target: Target::Account(stays), own: true, exclusive: true, users: vec![] };
    let done = relink_org(&app.store, "support", merge, &[]).unwrap();
    assert_eq!(done.merged, Some(gone));
    let book = Book::load(&app.store).unwrap();
    let queue = cockpit::queue::load(&app.store, common::now(), usize::MAX, &Default::default()).unwrap();
    app.on_msg(Msg::Loaded(Box::new(book), queue));
    // Which account it became is read off the event loop.
    app.settle();
    assert_eq!(app.selected(), Some(stays));
}

/// The reads an update asked for, and the other effects dropped.
fn reads_asked(app: &mut common::Cockpit) -> Vec<cockpit::tui::reads::Read> {
    app.take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Read(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The screen as it is, without settling what is asked for.
fn screen_as_is(app: &cockpit::tui::app::App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 40)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(app, f)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..40).map(|y| (0..100).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n").collect()
}

#[test]
fn a_keystroke_asks_for_reads_and_an_answer_older_than_a_change_is_dropped() {
    use cockpit::tui::reads::{self, Read};
    let model = cockpit::domain::health_model::Model::builtin();
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    let first = app.selected().unwrap();
    assert!(app.selected_health().is_some(), "the first frame's health is read before the screen");
    app.update(Action::Down);
    let second = app.selected().unwrap();
    assert_ne!(first, second);
    // The key only asked: nothing of the new account's health yet.
    assert!(app.selected_health().is_none());
    assert!(screen_as_is(&app).contains("Reading…"));
    let asked = reads_asked(&mut app);
    let [Read::Account { id, .. }] = &asked[..] else { panic!("{asked:?}") };
    assert_eq!(*id, second);
    // Before that read is answered, the CSM records a sentiment on it.
    let before_change = reads::read(&app.store, asked[0].clone(), &model);
    app.on_event(&key(KeyCode::Char('f')));
    app.on_event(&key(KeyCode::Char('1')));
    let effects = app.take_effects();
    let Some(Effect::Write { seq, edit, at }) = effects.into_iter().find(|e| matches!(e, Effect::Write { .. })) else {
        panic!("no edit")
    };
    let by = cockpit::engine::edits::Author::new("tester", at);
    let applied = cockpit::engine::edits::apply(&app.store, edit, &by).unwrap();
    app.on_msg(Msg::Written(seq, Ok(Box::new(applied))));
    let reread = reads_asked(&mut app);
    let again = reread.iter().find(|r| matches!(r, Read::Account { id, .. } if *id == second)).expect("a reread");
    // The answer read before the change arrives late: it is not shown.
    app.on_msg(Msg::Read(before_change));
    assert!(app.selected_health().is_none(), "an answer older than the change was shown");
    let answer = reads::read(&app.store, again.clone(), &model);
    app.on_msg(Msg::Read(answer));
    let shown = app.selected_health().expect("the reread is shown");
    assert_eq!(shown.id, second);
    assert!(shown.sentiment.is_some(), "the reread sees the sentiment");
    assert!(!screen_as_is(&app).contains("Reading…"));
}

#[test]
fn a_reply_waits_for_its_ticket_to_be_read_and_then_goes_on() {
    reply_waiting_for_its_ticket(false);
}

#[test]
fn a_reply_waiting_for_its_ticket_is_dropped_when_the_csm_moves_on() {
    reply_waiting_for_its_ticket(true);
}

/// A reply on an item whose ticket is not read yet, answered in place (or
/// after the CSM moved to the next item, when `moves`).
fn reply_waiting_for_its_ticket(moves: bool) {
    use cockpit::tui::reads::{self, Read};
    let model = cockpit::domain::health_model::Model::builtin();
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    let mut read = vec![app.selected()];
    app.update(Action::FocusQueue);
    app.update(Action::Top);
    app.settle();
    read.push(app.selected());
    // An item on a ticket of an account not read yet.
    let at = app
        .queue
        .iter()
        .position(|q| q.follow_up.ticket_id.is_some() && !read.contains(&Some(q.follow_up.account_id)))
        .expect("an item on a ticket");
    let item = app.queue[at].follow_up.to_follow_up();
    let mut asked = Vec::new();
    while app.selection.queue_cursor < at {
        app.update(Action::Down);
        asked.extend(reads_asked(&mut app));
    }
    assert_eq!(app.queue[app.selection.queue_cursor].follow_up.id, item.id);
    app.on_event(&key(KeyCode::Char('R')));
    asked.extend(reads_asked(&mut app));
    // Its ticket is not read yet: no picker, and no "no ticket" either.
    assert!(app.overlays.picker.is_none());
    assert_eq!(app.mode(), Mode::Normal);
    assert!(!app.toasts.iter().any(|t| t.text.contains("no ticket")), "{:?}", app.toasts);
    let read = asked
        .into_iter()
        .rev()
        .find(|r| matches!(r, Read::Account { id, .. } if *id == item.account_id))
        .expect("the item's account is read");
    if moves {
        app.update(Action::Down);
        assert_ne!(app.queue[app.selection.queue_cursor].follow_up.id, item.id);
    }
    // The next item's own read (for the health pane), answered later.
    let next_reads = if moves { reads_asked(&mut app) } else { Vec::new() };
    let answer = reads::read(&app.store, read, &model);
    app.on_msg(Msg::Read(answer));
    if moves {
        // Never run on what the screen shows now: no picker, no word about
        // the other item's ticket, no read asked for it.
        assert_eq!(app.mode(), Mode::Normal, "the reply moved to another item");
        assert!(app.overlays.picker.is_none());
        assert!(!app.toasts.iter().any(|t| t.text.contains("ticket")), "{:?}", app.toasts);
        assert!(reads_asked(&mut app).is_empty(), "the reply went on to the next item");
        for r in next_reads {
            let answer = reads::read(&app.store, r, &model);
            app.on_msg(Msg::Read(answer));
        }
        assert!(app.overlays.picker.is_none(), "the reply opened on the next item");
        return;
    }
    assert_eq!(app.mode(), Mode::Pick, "the reply goes on once its ticket is read");
    assert!(app.overlays.picker.is_some());
}

/// The screen drawn from the first frame kept at close is the one the
/// database gives, health pane included (300 accounts: more than a page).
#[test]
fn the_first_frame_kept_at_close_draws_what_the_database_would() {
    use cockpit::tui::first_frame::{keep, FirstFrame};
    let (tmp, store) = common::demo_store(300);
    let ws = tmp.path().join("ws");
    let text = |app: &cockpit::tui::app::App| {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        term.draw(|f| cockpit::tui::view::draw(app, f)).unwrap();
        let buf = term.backend().buffer().clone();
        (0..48)
            .map(|y| (0..160).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n")
            .collect::<String>()
    };
    let from_db = text(&common::app(store.clone(), common::theme("dark")).app);
    assert!(from_db.contains("Pulling down") || from_db.contains("Since last week"), "{from_db}");
    keep(store, &[], cockpit::domain::health_model::Model::builtin_ref(), common::now());
    let frame = FirstFrame::load(&ws).expect("kept at close, nothing written since");
    let open = {
        let ws = ws.clone();
        std::thread::spawn(move || cockpit::store::Store::open(&ws))
    };
    let opening = cockpit::tui::Opening::Behind { dir: ws, frame: Box::new(frame), open };
    let app = cockpit::tui::first_app(common::session(opening, common::theme("dark")), common::now()).unwrap();
    assert_eq!(text(&app), from_db);
}
