//! Snapshots of the whole screen and of each pane on ratatui's TestBackend,
//! at 80x24 and 160x48, in the dark and high-contrast themes. Text-only
//! snapshots pin the layout; the styled ones pin the themes.

use crate::common;
use crate::common::screen::{styled, text};

use cockpit::tui::action::Action;
use cockpit::tui::app::App;
use cockpit::tui::{panes, view};
use common::Cockpit;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::Terminal;

/// The screen once the reads and edits the updates asked for are in.
fn screen(app: &mut Cockpit, w: u16, h: u16) -> Buffer {
    app.settle();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::draw(app, f)).unwrap();
    term.backend().buffer().clone()
}

#[test]
fn whole_screen_at_both_sizes_and_themes() {
    for theme in ["dark", "high-contrast"] {
        let (_tmp, store) = common::demo_store(150);
        let mut app = common::app(store, common::theme(theme));
        for (w, h) in [(80, 24), (160, 48)] {
            let buf = screen(&mut app, w, h);
            insta::assert_snapshot!(format!("screen_{theme}_{w}x{h}"), styled(&buf));
        }
    }
}

#[test]
fn each_pane_focused() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::Down);
    app.update(Action::Down);
    let area = Rect::new(0, 0, 72, 16);
    type Render = fn(&App, Rect, &mut Buffer);
    let panes: [(&str, Action, Render); 4] = [
        ("accounts", Action::FocusAccounts, panes::accounts::render),
        ("health", Action::FocusHealth, panes::health::render),
        ("kanban", Action::FocusKanban, panes::kanban::render),
        ("queue", Action::FocusQueue, panes::queue::render),
    ];
    for (name, focus, render) in panes {
        app.update(focus);
        app.settle();
        let mut buf = Buffer::empty(area);
        render(&app, area, &mut buf);
        insta::assert_snapshot!(format!("pane_{name}"), text(&buf));
    }
}

#[test]
fn help_overlay_filter_and_zoom() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::Help);
    insta::assert_snapshot!("help_overlay", text(&screen(&mut app, 100, 32)));
    let small = text(&screen(&mut app, 80, 24));
    // The help lists the panes' keymap; the other modes name their keys in their own footers.
    for a in cockpit::tui::keymap::KeyMode::Normal.actions() {
        assert!(small.contains(a.describe().split(':').next().unwrap()), "{a:?} missing from help at 80x24");
    }
    app.update(Action::Back);
    app.update(Action::Filter);
    for c in "energy".chars() {
        app.on_event(&key(c));
    }
    insta::assert_snapshot!("filtered_80x24", text(&screen(&mut app, 80, 24)));
    app.on_event(&ratatui::crossterm::event::Event::Key(ratatui::crossterm::event::KeyCode::Enter.into()));
    app.update(Action::FocusKanban);
    app.update(Action::Zoom);
    insta::assert_snapshot!("kanban_zoomed_120x30", text(&screen(&mut app, 120, 30)));
}

#[test]
fn metrics_overlay() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::Metrics);
    // Computed here rather than on a thread: the figures, not the timing, are pinned.
    let job = app
        .settle()
        .into_iter()
        .find_map(|e| match e {
            cockpit::tui::effect::Effect::Metrics(job) => Some(job),
            _ => None,
        })
        .unwrap();
    let msg = job.run(&app.store);
    app.on_msg(msg);
    insta::assert_snapshot!("metrics_overlay", text(&screen(&mut app, 100, 32)));
    let small = text(&screen(&mut app, 80, 24));
    for want in ["Net revenue retention", "Within 90 days", "ROC AUC"] {
        assert!(small.contains(want), "{want} missing at 80x24:\n{small}");
    }
}

#[test]
fn too_small_says_so() {
    let (_tmp, store) = common::demo_store(20);
    let mut app = common::app(store, common::theme("dark"));
    let t = text(&screen(&mut app, 60, 20));
    assert!(t.contains("Terminal too small: 60x20"), "{t}");
    for (w, h) in [(1, 1), (79, 24), (80, 23), (80, 24), (200, 60)] {
        screen(&mut app, w, h); // never panics at any size
    }
}

fn key(c: char) -> ratatui::crossterm::event::Event {
    ratatui::crossterm::event::Event::Key(ratatui::crossterm::event::KeyCode::Char(c).into())
}

#[test]
fn queue_item_detail_reply_editor_and_outbox() {
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let press = |app: &mut Cockpit, code: KeyCode, mods: KeyModifiers| {
        app.on_event(&Event::Key(KeyEvent::new(code, mods)));
        app.settle();
    };
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusQueue);
    app.update(Action::Top);
    let pos = app
        .queue
        .iter()
        .position(|q| {
            q.follow_up.ticket_id.is_some_and(|t| {
                app.store.tickets(q.follow_up.account_id).unwrap().iter().any(|x| x.id == t && x.status.is_open())
            })
        })
        .unwrap();
    for _ in 0..pos {
        app.update(Action::Down);
    }
    app.update(Action::Detail);
    insta::assert_snapshot!("queue_item_detail", text(&screen(&mut app, 120, 40)));
    app.update(Action::Back);
    press(&mut app, KeyCode::Char('R'), KeyModifiers::NONE);
    insta::assert_snapshot!("reply_picker", text(&screen(&mut app, 100, 30)));
    press(&mut app, KeyCode::Char('1'), KeyModifiers::NONE);
    insta::assert_snapshot!("reply_editor", text(&screen(&mut app, 100, 30)));
    press(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    app.update(Action::Outbox);
    insta::assert_snapshot!("outbox_overlay", text(&screen(&mut app, 120, 30)));
}
