//! The account view on the demo: each section scrolled into view at 80x24
//! and 160x48 in two themes (styled snapshots), the conversation of a
//! ticket, and its keys: sections, scrolling to the timeline's end, the
//! kind filter, replies and closes on the ticket under the cursor.

use crate::common;
use crate::common::screen::{styled, text};

use cockpit::domain::AccountId;
use cockpit::tui::account_view::Section;
use cockpit::tui::action::Action;
use cockpit::tui::app::{Mode, Pane};
use cockpit::tui::effect::Effect;
use cockpit::tui::view;
use common::Cockpit;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

pub fn screen(app: &mut Cockpit, w: u16, h: u16) -> Buffer {
    app.settle();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::draw(app, f)).unwrap();
    term.backend().buffer().clone()
}

fn press(app: &mut Cockpit, code: KeyCode) {
    app.on_event(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    app.settle();
}

/// A demo account with something in every section: open and solved
/// tickets, NPS answers, contacts, a timeline.
pub fn rich_account(app: &Cockpit) -> AccountId {
    let store = &app.store;
    (1..=150)
        .map(AccountId)
        .filter(|id| {
            let t = store.tickets(*id).unwrap();
            t.iter().any(|t| t.status.is_open()) && t.iter().any(|t| !t.status.is_open())
        })
        .max_by_key(|id| {
            (
                store.nps(*id).unwrap().len().min(2),
                store.activities(*id).unwrap().len().min(12),
                std::cmp::Reverse(id.0),
            )
        })
        .expect("the demo has such an account")
}

/// The cockpit with the account view open on `id` from the accounts table.
fn opened(theme: &str, id: Option<AccountId>) -> (tempfile::TempDir, Cockpit, AccountId) {
    let (tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme(theme));
    let id = id.unwrap_or_else(|| rich_account(&app));
    app.select(id);
    app.update(Action::FocusAccounts);
    app.update(Action::Open);
    app.settle();
    assert_eq!(app.mode(), Mode::Account);
    (tmp, app, id)
}

#[test]
fn each_section_at_both_sizes_in_two_themes() {
    for theme in ["dark", "high-contrast"] {
        for (w, h) in [(80, 24), (160, 48)] {
            let (_tmp, mut app, _) = opened(theme, None);
            let mut all = String::new();
            for (i, s) in Section::ALL.iter().enumerate() {
                if i > 0 {
                    app.update(Action::NextSection);
                }
                let buf = screen(&mut app, w, h);
                let t = text(&buf);
                // The section is scrolled into view: its heading is the first line of the body.
                let body_top = t.lines().nth(2).unwrap_or_default();
                assert!(body_top.contains(&format!("── {}", s.title())), "{s:?} not at the top at {w}x{h}:\n{t}");
                all.push_str(&format!("=== {} ===\n", s.title()));
                all.push_str(&styled(&buf));
            }
            insta::assert_snapshot!(format!("account_view_{theme}_{w}x{h}"), all);
        }
    }
}

#[test]
fn a_tickets_conversation_and_back() {
    for (w, h) in [(80, 24), (160, 48)] {
        let (_tmp, mut app, id) = opened("dark", None);
        for _ in 0..2 {
            app.update(Action::NextSection);
        }
        screen(&mut app, w, h);
        // Down onto the first ticket (open ones come first), then enter.
        app.update(Action::Down);
        app.update(Action::Open);
        let effects = app.settle();
        assert!(effects.is_empty(), "the demo keeps its conversations: nothing to fetch: {effects:?}");
        let t = text(&screen(&mut app, w, h));
        assert!(t.contains("Conversation on #") && t.contains("kept as of"), "{t}");
        assert!(t.contains("public reply"), "{t}");
        insta::assert_snapshot!(format!("account_view_conversation_{w}x{h}"), t);
        // esc goes back to the sections, a second one closes the view.
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.mode(), Mode::Account);
        assert!(!text(&screen(&mut app, w, h)).contains("Conversation on #"));
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.mode(), Mode::Normal);
        assert!(!app.should_quit);
        assert_eq!(app.selected(), Some(id));
    }
}

#[test]
fn the_timeline_scrolls_to_its_last_entry_and_filters_by_kind() {
    let (_tmp, mut app, id) = opened("dark", None);
    let oldest = app.store.activities(id).unwrap().into_iter().next().unwrap();
    press(&mut app, KeyCode::Char('G'));
    let t = text(&screen(&mut app, 80, 24));
    let summary = cockpit::domain::text::sanitize(&oldest.summary).into_owned();
    let first_words: String = summary.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    assert!(t.contains(&oldest.at.format("%Y-%m-%d %H:%M").to_string()), "the oldest entry's moment:\n{t}");
    assert!(t.contains(&first_words), "the oldest entry's text ({first_words}):\n{t}");
    // t shows one kind at a time, then all again.
    let kinds: std::collections::BTreeSet<_> =
        app.store.activities(id).unwrap().iter().map(|a| a.kind.label()).collect();
    press(&mut app, KeyCode::Char('t'));
    let t = text(&screen(&mut app, 80, 24));
    let first = cockpit::tui::account_view::KINDS.into_iter().find(|k| kinds.contains(k.label())).unwrap();
    assert!(t.contains("── Timeline") && t.contains(&format!("{} only", first.label())), "{t}");
    for _ in 0..kinds.len() {
        press(&mut app, KeyCode::Char('t'));
    }
    assert!(text(&screen(&mut app, 80, 24)).contains("all kinds"));
}

#[test]
fn keys_of_the_panes_do_not_leak_and_q_never_quits() {
    let (_tmp, mut app, _) = opened("dark", None);
    press(&mut app, KeyCode::Char('q'));
    assert_eq!(app.mode(), Mode::Normal, "q closes the view");
    assert!(!app.should_quit);
    // Opened from the queue: on the item's account, and back to the queue.
    app.update(Action::FocusQueue);
    app.update(Action::Down);
    let item = app.queue[app.selection.queue_cursor].follow_up.account_id;
    press(&mut app, KeyCode::Char('i'));
    assert_eq!(app.mode(), Mode::Account);
    assert_eq!(app.overlays.account.as_ref().unwrap().id, item);
    let t = text(&screen(&mut app, 120, 40));
    assert!(t.contains("Opened on the follow-up"), "{t}");
    press(&mut app, KeyCode::Char('j'));
    let order = app.book.sort();
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.mode(), Mode::Account, "a pane key does nothing here");
    assert_eq!(app.book.sort(), order, "the table's sort is not the view's key");
    press(&mut app, KeyCode::Char('i'));
    assert_eq!((app.mode(), app.focus()), (Mode::Normal, Pane::Queue));
}

#[test]
fn reply_and_close_act_on_the_ticket_under_the_cursor() {
    let (_tmp, mut app, id) = opened("dark", None);
    // The first open ticket the view lists, and whether the queue has an item for it.
    let open: Vec<_> = app.store.tickets(id).unwrap().into_iter().filter(|t| t.status.is_open()).collect();
    assert!(!open.is_empty());
    app.update(Action::NextSection);
    app.update(Action::NextSection);
    screen(&mut app, 160, 48);
    // Not on a ticket: a word on where to go.
    press(&mut app, KeyCode::Char('R'));
    assert!(app.toasts.last().unwrap().text.contains("Put the cursor on a ticket"), "{:?}", app.toasts.last());
    press(&mut app, KeyCode::Char('j'));
    let layout_ticket = {
        let full = app.overlays.account.as_ref().unwrap().full.as_ref().unwrap();
        cockpit::tui::panes::account_lines::ordered(&full.tickets)[0].ticket.id
    };
    assert!(text(&screen(&mut app, 160, 48)).contains(&format!("#{layout_ticket} ")));
    let ticket = app.store.tickets(id).unwrap().into_iter().find(|t| t.id == layout_ticket).unwrap();
    assert!(ticket.status.is_open(), "open tickets come first");
    // c closes it with an internal comment, through the queue's close flow.
    press(&mut app, KeyCode::Char('c'));
    assert_eq!(app.mode(), Mode::Compose, "the close editor opens over the view");
    let t = text(&screen(&mut app, 160, 48));
    assert!(t.contains(&format!("Close #{}", ticket.id)), "{t}");
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let effects = app.settle();
    assert!(effects.iter().any(|e| matches!(e, Effect::Push)), "a write for the desk: {effects:?}");
    assert_eq!(app.mode(), Mode::Account, "back in the view");
    let stored = app.store.tickets(id).unwrap().into_iter().find(|t| t.id == ticket.id).unwrap();
    assert_eq!(stored.status, cockpit::domain::TicketStatus::Solved);
    let outbox = app.store.outbox().unwrap();
    assert!(outbox
        .iter()
        .any(|e| matches!(&e.write, cockpit::domain::outbox::Write::Ticket { ticket: t, .. } if *t == ticket.id)));
    // The view was read again: the ticket shows solved, and its outbox entry is listed.
    let t = text(&screen(&mut app, 160, 48));
    assert!(t.contains("Solved: no rule applies"), "{t}");
    for _ in 0..4 {
        app.update(Action::NextSection);
    }
    let t = text(&screen(&mut app, 160, 48));
    assert!(t.contains("pending") && t.contains(&format!("#{}", ticket.id)), "{t}");
    // No queue item was made for it.
    assert!(app.queue.iter().all(|q| q.follow_up.id != cockpit::domain::followup_action::TICKET_ONLY));
}

/// The account view acts on its account as the table does: a note, a
/// stage move and a task, each landing on the account shown, the view
/// staying open.
#[test]
fn a_note_a_stage_move_and_a_task_from_the_account_view() {
    let (_tmp, mut app, id) = opened("dark", None);
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.mode(), Mode::Compose, "{:?}", app.toasts.last());
    for c in "Met their new CFO".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    app.settle();
    assert_eq!(app.mode(), Mode::Account, "back in the view");
    assert!(app.store.outbox().unwrap().iter().any(|e| e.account_id == id), "the note is queued for the CRM");
    assert!(app.store.activities(id).unwrap().iter().any(|a| a.summary == "Met their new CFO"));

    let before = app.book.row(id).unwrap().stage;
    press(&mut app, KeyCode::Char('>'));
    let after = app.store.account(id).unwrap().unwrap().stage;
    assert_eq!(Some(after), before.next(), "moved one stage on");
    assert_eq!(app.mode(), Mode::Account);

    press(&mut app, KeyCode::Char('T'));
    assert_eq!(app.mode(), Mode::Compose);
    let name = app.book.row(id).unwrap().name.clone();
    assert!(app.overlays.composer.as_ref().unwrap().title.contains(&name), "the task is for the account shown");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Account);
}
