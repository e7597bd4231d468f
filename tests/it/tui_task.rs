//! A task with a due date from any pane, on a real demo store: asked for in
//! three questions, stored and queued when due, and taken back by undo.

use crate::common;
use crate::common::Cockpit;

use chrono::{Duration, TimeZone, Utc};
use cockpit::domain::calendar::Section;
use cockpit::domain::{ActivityKind, FollowUpKind, Priority};
use cockpit::tui::action::Action;
use cockpit::tui::app::{Level, Mode};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn key(app: &mut Cockpit, code: KeyCode) {
    app.on_event(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    app.settle();
}

fn typed(app: &mut Cockpit, text: &str) {
    for c in text.chars() {
        key(app, if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
}

fn tasks(app: &Cockpit) -> Vec<cockpit::domain::FollowUp> {
    let until = common::now() + Duration::days(30);
    app.store.follow_ups_before(until).map(Result::unwrap).filter(|f| f.kind == FollowUpKind::Task).collect()
}

fn toast(app: &Cockpit) -> (Level, String) {
    let t = app.toasts.last().expect("a toast");
    (t.level, t.text.clone())
}

#[test]
fn a_task_from_the_accounts_table_is_asked_for_stored_queued_and_undone() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusAccounts);
    app.update(Action::Down);
    let account = app.selection.selected.expect("an account selected");
    let name = app.book.row(account).unwrap().name.clone();

    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.overlays.mode, Mode::Compose);
    assert_eq!(app.overlays.composer.as_ref().unwrap().title, format!("Task for {name}: what? (Enter)"));
    typed(&mut app, "Send the QBR deck\n");
    assert!(app.overlays.composer.as_ref().unwrap().title.starts_with("Due? (tomorrow 10:00"));

    // A moment past is refused, and the question stays open with the text.
    typed(&mut app, "today 08:00\n");
    let (level, text) = toast(&app);
    assert_eq!(level, Level::Warning);
    assert!(text.contains("has already passed") && text.ends_with("no task added yet"), "{text}");
    assert_eq!(app.overlays.mode, Mode::Compose);
    assert_eq!(app.overlays.composer.as_ref().unwrap().text(), "today 08:00");
    for _ in 0.."today 08:00".len() {
        key(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "tomorrow 10:00\n");
    assert_eq!(app.overlays.mode, Mode::Pick);
    assert!(tasks(&app).is_empty(), "nothing stored before the last answer");
    // Enter picks normal; no HubSpot source here, so no question about it.
    key(&mut app, KeyCode::Enter);

    let due = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
    let stored = tasks(&app);
    assert_eq!(stored.len(), 1);
    let t = &stored[0];
    assert_eq!(
        (t.account_id, t.reason.as_str(), t.due, t.priority),
        (account, "Send the QBR deck", due, Priority::Normal)
    );
    assert_eq!(
        toast(&app),
        (
            Level::Info,
            format!(
                "Task added for {name}, due Fri 27 Nov 10:00 (in Upcoming) · local only: no HubSpot source is configured · u undoes"
            )
        )
    );
    let queued = app.queue.iter().find(|q| q.follow_up.id == t.id).expect("in the queue");
    assert_eq!(queued.follow_up.section(&app.calendar, &app.calendar.bounds(app.now)), Some(Section::Upcoming));
    let timeline = app.store.activities(account).unwrap();
    assert!(timeline
        .iter()
        .any(|a| a.kind == ActivityKind::Task && a.summary == "Task: Send the QBR deck, due Fri 27 Nov 10:00 UTC"));
    assert!(app.store.outbox().unwrap().iter().all(|e| e.account_id != account), "local only");

    key(&mut app, KeyCode::Char('u'));
    assert!(tasks(&app).is_empty(), "undo removes it");
    assert!(!app.queue.iter().any(|q| q.follow_up.id == t.id), "and takes it out of the queue");
}

#[test]
fn from_the_queue_a_task_goes_on_the_items_account_and_esc_adds_nothing() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusQueue);
    app.update(Action::Top);
    let account = app.queue[app.selection.queue_cursor].follow_up.account_id;
    let name = app.book.row(account).unwrap().name.clone();
    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.overlays.composer.as_ref().unwrap().title, format!("Task for {name}: what? (Enter)"));
    typed(&mut app, "Call back\nin 2h\n");
    key(&mut app, KeyCode::Esc);
    assert_eq!(toast(&app), (Level::Info, "No task added".to_string()));
    assert_eq!(app.overlays.mode, Mode::Normal);
    assert!(tasks(&app).is_empty());
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "Call back\nin 2h\nu");
    let t = tasks(&app);
    assert_eq!((t.len(), t[0].account_id, t[0].priority), (1, account, Priority::Urgent));
    assert_eq!(t[0].due, common::now() + Duration::hours(2));
    let (_, text) = toast(&app);
    assert!(text.contains("(in Today)"), "{text}");
}

#[test]
fn with_a_hubspot_source_the_task_goes_there_too_when_the_csm_says_yes() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.status.has_crm = true;
    app.update(Action::FocusAccounts);
    let account = app.selection.selected.expect("an account selected");
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "Renewal prep\nfri 14:30\nh");
    assert_eq!(app.overlays.mode, Mode::Confirm);
    assert!(app.overlays.confirm.as_ref().unwrap().question.starts_with("Also create it as a HubSpot task? y/n"));
    key(&mut app, KeyCode::Char('y'));
    let outbox: Vec<_> = app.store.outbox().unwrap().into_iter().filter(|e| e.account_id == account).collect();
    let due = Utc.with_ymd_and_hms(2026, 11, 27, 14, 30, 0).unwrap();
    assert!(
        matches!(&outbox[..], [e] if e.write == cockpit::domain::outbox::Write::Task {
            subject: "Renewal prep".into(), body: "Renewal prep".into(), due, priority: Priority::High
        }),
        "{outbox:?}"
    );
    assert!(!toast(&app).1.contains("local only"));
    // A no keeps it local.
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "Second\nfri 15:00\n\nn");
    assert_eq!(tasks(&app).len(), 2);
    assert_eq!(app.store.outbox().unwrap().iter().filter(|e| e.account_id == account).count(), 1);
    assert!(toast(&app).1.contains("· local only ·"), "{}", toast(&app).1);
}
