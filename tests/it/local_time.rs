//! The user's clock: their zone's day, working hours, and snoozes that land
//! at the start of work, checked through the binary and the cockpit's state.

use chrono::{DateTime, TimeZone, Utc};
use cockpit::domain::calendar::{Calendar, Section, WorkingHours};
use cockpit::domain::FollowUpState;
use cockpit::tui::action::Action;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;

use crate::common::{self, bin};

/// Friday 27 November 2026 at 16:00 in Los Angeles: Saturday in UTC.
const FRIDAY_4PM_LA: &str = "2026-11-27T16:00:00-08:00";

fn friday_4pm() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(FRIDAY_4PM_LA).unwrap().with_timezone(&Utc)
}

fn la() -> Calendar {
    Calendar { zone: chrono_tz::America::Los_Angeles, hours: WorkingHours::default() }
}

fn today_json(home: &std::path::Path, tz: &str) -> Value {
    let ws = home.join("ws");
    let out = bin::in_home(home)
        .env("TZ", tz)
        .env("COCKPIT_NOW", FRIDAY_4PM_LA)
        .args(["--demo", "--data-dir", ws.to_str().unwrap(), "today", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", bin::stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn friday_afternoon_in_los_angeles_shows_fridays_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = today_json(tmp.path(), "America/Los_Angeles");
    assert_eq!(doc["day"], "2026-11-27", "the local day, not Saturday in UTC");
    assert_eq!(doc["timezone"], "America/Los_Angeles");
    assert!(doc["generated_at"].as_str().unwrap().ends_with("-08:00"), "{}", doc["generated_at"]);
    let items = doc["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let end_of_friday = DateTime::parse_from_rfc3339("2026-11-28T00:00:00-08:00").unwrap();
    for i in items {
        let due = DateTime::parse_from_rfc3339(i["due"].as_str().unwrap()).unwrap();
        let there = la().local(due.with_timezone(&Utc));
        assert_eq!(due.to_rfc3339(), there.to_rfc3339(), "times are local (PST or PDT)");
        assert!(due < end_of_friday, "nothing of Saturday: {}", i["due"]);
        assert!(matches!(i["section"].as_str(), Some("overdue" | "today")), "{i}");
        // Items fall due inside working hours (09:00-17:00, Monday-Friday).
        let local = due.naive_local();
        assert!(
            (9..17).contains(&chrono::Timelike::hour(&local))
                && chrono::Datelike::weekday(&local).num_days_from_monday() < 5,
            "due in working hours: {}",
            i["due"]
        );
    }
    assert!(doc["upcoming"].as_u64().unwrap() > 0, "what the demo raised tonight waits for Monday");

    // The same workspace in UTC at the same instant: Saturday, and the
    // items raised since Friday's end of work wait for Monday.
    let utc = today_json(tmp.path(), "UTC");
    assert_eq!(utc["day"], "2026-11-28");
    assert_eq!(utc["due_today"], 0, "nothing falls due on a Saturday");
}

#[test]
fn a_one_day_snooze_at_four_on_friday_lands_on_monday_at_nine() {
    let (_tmp, store) = common::demo_store(60);
    let mut session = common::session(store.clone().into(), common::theme("dark"));
    session.calendar = la();
    let app = cockpit::tui::first_app(session, friday_4pm()).unwrap();
    let mut app = common::Cockpit { app, store };
    // The status line's clock is the user's.
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(&app, f)).unwrap();
    let status: String = (0..160).map(|x| term.backend().buffer()[(x, 47)].symbol().to_string()).collect();
    assert!(status.contains("Fri 27 Nov 16:00 PST"), "{status}");
    app.update(Action::FocusQueue);
    app.update(Action::Top);
    let item = app.queue[app.selection.queue_cursor].follow_up.id;
    for code in [KeyCode::Char('p'), KeyCode::Char('1'), KeyCode::Enter] {
        app.on_event(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        app.settle();
    }
    let monday_9_la = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();
    let stored = app.store.follow_ups_before(friday_4pm() + chrono::Duration::days(400)).map(Result::unwrap);
    let f = stored.into_iter().find(|f| f.id == item).unwrap();
    assert_eq!(f.state, FollowUpState::Snoozed { until: monday_9_la });
    let said = app.store.activities(f.account_id).unwrap();
    assert!(said.iter().any(|a| a.summary.starts_with("Snoozed until 2026-11-30 09:00 PST")), "{said:?}");
    // It waits in Upcoming, shown at its local hour.
    let q = app.queue.iter().find(|q| q.follow_up.id == item).expect("still in the week's queue");
    assert_eq!(q.section(&la().bounds(friday_4pm())), Some(Section::Upcoming));
    assert_eq!(la().short(q.due, friday_4pm()), "Mon 09:00");
}

#[test]
fn the_queue_moves_items_across_sections_as_the_clock_runs() {
    let (_tmp, store) = common::demo_store(60);
    let mut app = common::app(store, common::theme("dark"));
    let counts = app.queue_index.counts();
    assert!(counts.overdue > 0 && counts.today > 0, "{counts:?}");
    // A Thursday at 09:30 UTC; by 18:00 everything due today is overdue.
    let evening = common::now() + chrono::Duration::hours(8) + chrono::Duration::minutes(30);
    app.tick(evening);
    let after = app.queue_index.counts();
    assert_eq!(after.today, 0, "{after:?}");
    assert_eq!(after.overdue, counts.overdue + counts.today);
    // The queue is in section order again: every overdue item first.
    let bounds = app.calendar.bounds(evening);
    let sections: Vec<Section> = app.queue.iter().filter_map(|q| q.section(&bounds)).collect();
    assert!(sections.windows(2).all(|w| w[0] <= w[1]), "sections in order");
}
