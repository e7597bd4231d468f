//! Space for what matters: the table's widths, the queue's kind column, the
//! board's readable cards, one label per stage, the zoomed health chart,
//! names told apart, churned accounts kept apart, the whole reply picker
//! and the sort arrow, drawn on ratatui's TestBackend over the demo.

use crate::common;
use crate::common::screen::text;

use cockpit::book::SortKey;
use cockpit::domain::reply::Template;
use cockpit::domain::{AccountRow, FollowUpKind, Stage};
use cockpit::tui::action::Action;
use cockpit::tui::{panes, view};
use common::Cockpit;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode};
use ratatui::layout::Rect;
use ratatui::Terminal;

fn screen(app: &mut Cockpit, w: u16, h: u16) -> String {
    app.settle();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view::draw(app, f)).unwrap();
    text(term.backend().buffer())
}

/// The accounts pane alone, `w` wide.
fn table(app: &Cockpit, w: u16, h: u16) -> String {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    panes::accounts::render(app, area, &mut buf);
    text(&buf)
}

fn demo() -> (tempfile::TempDir, Cockpit) {
    let (tmp, store) = common::demo_store(150);
    (tmp, common::app(store, common::theme("dark")))
}

#[test]
fn the_screen_at_the_smallest_and_a_wide_size() {
    let (_tmp, mut app) = demo();
    for (w, h) in [(80, 24), (200, 60)] {
        insta::assert_snapshot!(format!("space_screen_{w}x{h}"), screen(&mut app, w, h));
    }
    // The name gets its cap, and the reasons the rest, at 200 wide.
    let wide = screen(&mut app, 200, 60);
    let header = wide.lines().nth(1).unwrap();
    assert!(header.contains("Follow-up"), "{header}");
    assert_eq!(header.find("Seg").unwrap() - header.find("Name").unwrap(), 31, "name column capped:\n{header}");
    assert!(!wide.contains("RenSign") && !wide.contains("Handovr"), "one label per stage");
    assert!(wide.contains("Renewal signing"), "the full label where it fits");
}

#[test]
fn zoomed_health_fills_the_width_with_dates_and_thresholds() {
    let (_tmp, mut app) = demo();
    app.update(Action::FocusHealth);
    app.update(Action::Zoom);
    for (w, h) in [(80, 24), (200, 60)] {
        let s = screen(&mut app, w, h);
        insta::assert_snapshot!(format!("space_health_zoomed_{w}x{h}"), s);
        let lines: Vec<&str> = s.lines().collect();
        // The dates: the first and last of the 90 days under the chart's edges.
        let axis = lines.iter().find(|l| l.matches("2026-").count() >= 2).expect("a date axis");
        assert!(axis.contains("2026-08-29") && axis.contains("2026-11-26"), "{axis}");
        // Both thresholds in the gutter.
        assert!(lines.iter().any(|l| l.starts_with("┃70 ")) && lines.iter().any(|l| l.starts_with("┃40 ")), "{s}");
        // Bars reach the right edge: the last day is not left of a blank half.
        let bottom_bar = lines.iter().rev().find(|l| l.contains('█')).unwrap();
        let inner: Vec<char> = bottom_bar.chars().collect();
        assert_eq!(inner[inner.len() - 2], '█', "the chart runs to the right edge at {w}x{h}:\n{bottom_bar}");
        assert_eq!(inner[4], '█', "and starts at the left edge at {w}x{h}:\n{bottom_bar}");
    }
}

#[test]
fn the_board_keeps_cards_readable_and_scrolls_its_columns() {
    let (_tmp, mut app) = demo();
    app.update(Action::FocusKanban);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("Lifecycle · stages 1-5 of 9"), "{s}");
    assert!(s.contains("●Jasper Pharma "), "cards of 14 characters:\n{s}");
    for _ in 0..8 {
        app.update(Action::Right);
    }
    let s = screen(&mut app, 80, 24);
    insta::assert_snapshot!("space_board_scrolled_80x24", s);
    assert!(s.contains("Lifecycle · stages 5-9 of 9"), "{s}");
    assert!(s.contains("◀Expansion"), "an arrow says columns are off to the left:\n{s}");
    // Churned cards: no stale band dot.
    assert!(s.matches("│×").count() >= 2, "churned cards marked ×:\n{s}");
    // Zoomed at 200 wide, all nine fit.
    app.update(Action::Zoom);
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("┏ 3 Lifecycle ━"), "{s}");
    assert!(s.contains("Handover") && s.contains("Churned"), "{s}");
    let dated = s.lines().filter(|l| l.contains('×') && (l.contains(" 2026-") || l.contains(" 2025-"))).count();
    assert!(dated >= 3, "a churned card shows the day it left:\n{s}");
}

#[test]
fn queue_kinds_fit_one_column_and_the_reason_starts_after_it() {
    let (_tmp, mut app) = demo();
    let s = screen(&mut app, 200, 60);
    let rows: Vec<&str> = s
        .lines()
        .filter_map(|l| l.rfind("││").map(|i| &l[i + "││".len()..]))
        .filter(|q| q.trim_start().starts_with('-'))
        .collect();
    assert!(rows.len() > 10, "{s}");
    let mut starts = std::collections::BTreeSet::new();
    for queue in &rows {
        // Due, mark, the name's quarter of the 78 columns inside.
        let kind_at = 6 + 1 + 78 / 4 + 1;
        let chars: Vec<char> = queue.chars().collect();
        let reason_at = kind_at + FollowUpKind::LABEL_WIDTH + 1;
        assert_eq!(chars[reason_at - 1], ' ', "a kind never runs into the reason: {queue}");
        starts.insert(chars[kind_at..reason_at].iter().collect::<String>().trim().to_string());
    }
    assert!(starts.len() >= 4, "several kinds drawn: {starts:?}");
}

/// The churned accounts are last in every sort, both ways, and drawn with
/// the day they left, not their last score.
#[test]
fn churned_accounts_stay_last_and_show_when_they_left() {
    let (_tmp, mut app) = demo();
    for _ in 0..SortKey::ALL.len() {
        for _ in 0..2 {
            let stages: Vec<Stage> = app.book.view_slice(0, 1000).map(|r| r.stage).collect();
            let first = stages.iter().position(|s| *s == Stage::Churned).unwrap();
            assert!(stages[first..].iter().all(|s| *s == Stage::Churned), "{:?}", app.book.sort());
            app.update(Action::SortReverse);
        }
        app.update(Action::SortNext);
    }
    app.update(Action::Bottom);
    let id = app.selected().unwrap();
    let row = app.book.row(id).unwrap().clone();
    assert_eq!(row.stage, Stage::Churned);
    let on = app.book.churned_on(id).expect("the demo records the day an account churned");
    let s = screen(&mut app, 200, 60);
    insta::assert_snapshot!("space_churned_selected_200x60", s);
    assert!(s.contains(&format!("churned {on}")), "the health pane says when it left:\n{s}");
    let line = s.lines().find(|l| l.contains(&format!("{on}")) && l.contains("Churned")).expect("its table row");
    assert!(line.contains(" —   Churned"), "no score where a live account has one: {line}");
}

/// ▲ means the live values ascend down the table, ▼ that they descend,
/// for every column `s` reaches and both ways `S` turns it.
#[test]
fn the_sort_arrow_says_the_same_for_every_column() {
    let (_tmp, mut app) = demo();
    let header_of = |key: SortKey| match key {
        SortKey::Name => "Name",
        SortKey::Arr => "ARR",
        SortKey::Health => "Hlth",
        SortKey::Stage => "Stage",
        SortKey::Renewal => "Renew",
        SortKey::Tickets => "Tix",
        SortKey::LastTouch => "Touch",
    };
    let value = |key: SortKey, r: &AccountRow| -> (Option<String>, u64) {
        match key {
            SortKey::Name => (Some(r.name.to_lowercase()), 0),
            SortKey::Arr => (None, r.arr),
            SortKey::Health => (None, r.health.map_or(u64::MAX, u64::from)),
            SortKey::Stage => (None, r.stage.index() as u64),
            SortKey::Renewal => (None, r.renewal_date.to_string().replace('-', "").parse().unwrap()),
            SortKey::Tickets => (None, r.open_tickets as u64),
            SortKey::LastTouch => (None, r.last_touch.map_or(0, |t| t.timestamp() as u64)),
        }
    };
    let mut seen = 0;
    for _ in 0..SortKey::ALL.len() {
        for _ in 0..2 {
            let (key, _) = app.book.sort();
            let live: Vec<AccountRow> = app.book.view_slice(0, 1000).filter(|r| key.tier(r) == 0).cloned().collect();
            let (first, last) = (value(key, &live[0]), value(key, live.last().unwrap()));
            assert_ne!(first, last, "{key:?}: the demo's values differ");
            let want = if first < last { "▲" } else { "▼" };
            let t = table(&app, 120, 6);
            let header = t.lines().nth(1).unwrap();
            assert!(header.contains(&format!("{}{want}", header_of(key))), "{key:?}: {header}");
            assert_eq!(header.matches(['▲', '▼']).count(), 1, "one arrow: {header}");
            assert!(t.lines().next().unwrap().contains(&format!("{} {want}", key.label())), "title: {t}");
            seen += 1;
            app.update(Action::SortReverse);
        }
        app.update(Action::SortNext);
    }
    assert_eq!(seen, 14);
}

/// The demo has two "Saffron Academy" with one domain: told apart by id.
#[test]
fn duplicate_names_are_told_apart_in_every_pane() {
    let (_tmp, mut app) = demo();
    let twins: Vec<AccountRow> =
        app.book.view_slice(0, 1000).filter(|r| r.name == "Saffron Academy").cloned().collect();
    assert_eq!(twins.len(), 2, "the demo's twins");
    let tags: Vec<String> = twins.iter().map(|r| app.book.tag(r.id).unwrap().to_string()).collect();
    assert_eq!(tags, twins.iter().map(|r| format!("#{}", r.id.0)).collect::<Vec<_>>(), "one domain: the ids");
    // The table, filtered to them, and the health pane of the one selected.
    app.update(Action::Filter);
    for c in "saffron academy".chars() {
        app.on_event(&Event::Key(KeyCode::Char(c).into()));
    }
    app.on_event(&Event::Key(KeyCode::Enter.into()));
    let s = screen(&mut app, 200, 60);
    insta::assert_snapshot!("space_twins_200x60", s);
    for tag in &tags {
        assert!(s.contains(&format!("┃Saffron Academy ({tag})")), "both rows of the table:\n{s}");
    }
    assert!(s.contains(&format!("Health · Saffron Academy ({}", tags[0])), "{s}");
    // Board cards keep the tag when the name must be cut.
    app.update(Action::FocusKanban);
    app.update(Action::Zoom);
    let s = screen(&mut app, 120, 40);
    for tag in &tags {
        let card = format!("… ({tag})");
        assert!(s.lines().any(|l| l.contains("●Saffron") && l.contains(&card)), "{tag} on the board:\n{s}");
    }
}

fn press(app: &mut Cockpit, c: char) {
    app.on_event(&Event::Key(KeyCode::Char(c).into()));
    app.settle();
}

/// The reply picker draws every saved reply at 80x24, and runs on in a
/// second column when they outnumber the rows.
#[test]
fn the_reply_picker_shows_every_reply() {
    for count in [5usize, 30] {
        let (_tmp, store) = common::demo_store(150);
        let mut session = common::session(store.clone().into(), common::theme("dark"));
        let names: Vec<String> = (session.replies.len()..count).map(|i| format!("saved reply {i}")).collect();
        for n in &names {
            session.replies.push(Template { name: n.clone(), text: "Hi {first_name}".into() });
        }
        let all: Vec<String> = session.replies.iter().map(|t| t.name.clone()).collect();
        assert_eq!(all.len(), count);
        let mut app = Cockpit { app: cockpit::tui::first_app(session, common::now()).unwrap(), store };
        app.update(Action::FocusQueue);
        app.update(Action::Top);
        let pos = app.queue.iter().position(|q| q.follow_up.ticket_id.is_some()).unwrap();
        for _ in 0..pos {
            app.update(Action::Down);
        }
        press(&mut app, 'R');
        let s = screen(&mut app, 80, 24);
        if count == 5 {
            insta::assert_snapshot!("space_reply_picker_80x24", s);
        }
        for (i, name) in all.iter().enumerate() {
            let key = ('1'..='9').chain('a'..='z').nth(i).unwrap();
            assert!(s.contains(&format!("{key} {name}")), "{name} (key {key}) missing of {count}:\n{s}");
        }
    }
}
