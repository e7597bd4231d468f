//! Drafts on a real demo store: what the CSM was writing when the session
//! ended is kept, opens again in the editor at the next start, and leaves
//! only by the CSM's ctrl-s or esc.

use crate::common;
use crate::common::Cockpit;

use cockpit::domain::followup_action::FollowUpAction;
use cockpit::domain::ActivityKind;
use cockpit::store::{Draft, DraftKind, Store};
use cockpit::tui::action::Action;
use cockpit::tui::app::{Mode, Pane};
use cockpit::tui::compose::Purpose;
use cockpit::tui::drafts::Kept;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn key(app: &mut Cockpit, code: KeyCode) {
    app.on_event(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    app.settle();
}

fn ctrl(app: &mut Cockpit, c: char) {
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
    app.settle();
}

fn typed(app: &mut Cockpit, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// A session on `store` with the queue focused on its first item.
fn session(store: &Store) -> Cockpit {
    let mut app = common::app(store.clone(), common::theme("dark"));
    if app.mode() == Mode::Normal {
        app.update(Action::FocusQueue);
        app.update(Action::Top);
    }
    app
}

/// What the session's way out does: keep the open text through the writer.
fn keep(app: &mut Cockpit) -> Option<cockpit::tui::drafts::Kept> {
    let writer = cockpit::engine::writer::Writer::spawn(app.store.clone());
    app.keep_draft(&writer)
}

fn last_toast(app: &Cockpit) -> String {
    app.toasts.last().map(|t| t.text.clone()).unwrap_or_default()
}

fn notes_saying(store: &Store, account: cockpit::domain::AccountId, text: &str) -> usize {
    store.activities(account).unwrap().iter().filter(|a| a.summary.contains(text)).count()
}

#[test]
fn a_kept_note_opens_again_and_is_sent_only_by_ctrl_s() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = session(&store);
    let item = app.queue[app.selection.queue_cursor].follow_up.to_follow_up();
    key(&mut app, KeyCode::Char('n'));
    typed(&mut app, "Renewal at risk");
    let title = app.overlays.composer.as_ref().unwrap().title.clone();
    assert_eq!(keep(&mut app), Some(Kept::Saved(title.clone())));
    drop(app);
    assert_eq!(notes_saying(&store, item.account_id, "Renewal at risk"), 0, "kept, not sent");

    let mut app = session(&store);
    assert_eq!(app.mode(), Mode::Compose, "the editor is open with the draft");
    let c = app.overlays.composer.as_ref().unwrap();
    assert_eq!(c.text(), "Renewal at risk");
    assert_eq!(c.title, format!("{title} · kept draft"));
    assert_eq!(app.overlays.targets_pending, vec![item.clone()]);
    assert_eq!((app.focus(), app.selected()), (Pane::Queue, Some(item.account_id)));
    assert!(last_toast(&app).starts_with("A note you were writing was kept: ctrl-s saves it"), "{}", last_toast(&app));

    // Ending again with the text untouched keeps the draft as it is.
    assert_eq!(keep(&mut app), None);
    assert_eq!(store.drafts().unwrap().len(), 1);

    // Changed, then ended again: the same draft is updated, not doubled.
    typed(&mut app, ", call Ana");
    assert!(matches!(keep(&mut app), Some(Kept::Saved(t)) if t == title), "the title has no kept mark twice");
    let kept = store.drafts().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].1.kind, kept[0].1.text.as_str()), (DraftKind::Note, "Renewal at risk, call Ana"));

    ctrl(&mut app, 's');
    assert_eq!(app.mode(), Mode::Normal);
    assert!(last_toast(&app).starts_with("Note added: "), "{}", last_toast(&app));
    assert_eq!(notes_saying(&store, item.account_id, "Renewal at risk, call Ana"), 1);
    assert!(store.drafts().unwrap().is_empty(), "sent, so no longer kept");
    assert_eq!(keep(&mut app), None);
}

#[test]
fn only_what_the_csm_wrote_is_kept_and_esc_sets_it_aside_until_emptied() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = session(&store);
    // A pre-filled escalation nobody typed into is no draft.
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(app.mode(), Mode::Compose);
    assert_eq!(keep(&mut app), None);
    typed(&mut app, "a fix by Friday");
    assert!(keep(&mut app).is_some());
    drop(app);

    let mut app = session(&store);
    assert!(app.overlays.composer.as_ref().unwrap().text().ends_with("What is needed: a fix by Friday"));
    assert!(matches!(app.overlays.composer.as_ref().unwrap().purpose, cockpit::tui::compose::Purpose::Escalate { .. }));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Normal);
    assert_eq!(last_toast(&app), "The draft stays for later");
    assert_eq!(store.drafts().unwrap().len(), 1, "esc never throws text away");
    // The same escalation again: the draft is offered back, not a blank one.
    key(&mut app, KeyCode::Char('e'));
    let c = app.overlays.composer.as_ref().unwrap();
    assert!(c.text().ends_with("What is needed: a fix by Friday") && c.title.ends_with("kept draft"), "{c:?}");
    assert!(last_toast(&app).starts_with("Your draft is back"), "{}", last_toast(&app));
    // Emptied, esc forgets it.
    while !app.overlays.composer.as_ref().unwrap().text().is_empty() {
        key(&mut app, KeyCode::Backspace);
    }
    key(&mut app, KeyCode::Esc);
    assert_eq!(last_toast(&app), "The draft was emptied and forgotten");
    assert!(store.drafts().unwrap().is_empty());
    assert_eq!(keep(&mut app), None);
}

#[test]
fn two_kept_drafts_open_one_after_the_other() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = session(&store);
    let other = app.queue[app.selection.queue_cursor + 1].follow_up.to_follow_up();
    key(&mut app, KeyCode::Char('n'));
    typed(&mut app, "first");
    keep(&mut app).unwrap();
    drop(app);
    let second = Draft {
        kind: DraftKind::Log(ActivityKind::Call),
        title: "Log a call: what was said".into(),
        text: "second".into(),
        items: vec![other.clone()],
        saved_at: common::now() + chrono::Duration::minutes(5),
    };
    store.keep_draft(None, &second).unwrap();

    let mut app = common::app(store.clone(), common::theme("dark"));
    assert_eq!(app.overlays.composer.as_ref().unwrap().text(), "first", "the oldest first");
    assert!(last_toast(&app).ends_with("(1 more kept, each opens after this one)"), "{}", last_toast(&app));
    ctrl(&mut app, 's');
    assert_eq!(app.mode(), Mode::Compose, "the next kept draft opens");
    let c = app.overlays.composer.as_ref().unwrap();
    assert_eq!((c.text(), &c.purpose), ("second".to_string(), &Purpose::Log(ActivityKind::Call)));
    assert_eq!(app.overlays.targets_pending, vec![other]);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Normal);
    assert_eq!(store.drafts().unwrap().len(), 1, "set aside, not thrown away");
}
#[test]
fn a_kept_draft_that_cannot_apply_any_more_stays() {
    let (_tmp, store) = common::demo_store(150);
    let app = session(&store);
    let item =
        app.queue.iter().map(|q| q.follow_up.to_follow_up()).find(|f| f.ticket_id.is_some()).expect("a ticket item");
    drop(app);
    let reply = Draft {
        kind: DraftKind::Reply,
        title: "Reply on the ticket".into(),
        text: "Fixed on our side".into(),
        items: vec![item.clone()],
        saved_at: common::now(),
    };
    store.keep_draft(None, &reply).unwrap();
    // Meanwhile the ticket was closed (another session, a colleague).
    let close = FollowUpAction::CloseTicket { body: "Solved by phone".into() };
    assert_eq!(
        cockpit::engine::act::apply(
            &store,
            &[item],
            &close,
            &cockpit::engine::act::Author::new("tester", common::now())
        )
        .unwrap()
        .applied,
        1
    );

    let mut app = session(&store);
    assert_eq!(app.overlays.composer.as_ref().unwrap().text(), "Fixed on our side");
    ctrl(&mut app, 's');
    assert!(last_toast(&app).starts_with("The kept draft stays"), "{}", last_toast(&app));
    assert_eq!(store.drafts().unwrap().len(), 1, "not lost");
    assert_eq!(app.overlays.kept_draft, None, "another editor does not overwrite it");
}
