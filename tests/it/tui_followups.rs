//! One-key actions on the follow-up queue, on a real demo store: each is
//! stored with its timeline entry and outbox writes, and undo takes it back.

use crate::common;
use crate::common::Cockpit;

use chrono::Duration;
use cockpit::domain::outbox::{OutboxState, Write};
use cockpit::domain::{ActivityKind, FollowUpState, TicketStatus};
use cockpit::tui::action::Action;
use cockpit::tui::app::Mode;
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
        key(app, if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
}

fn queue_app() -> (tempfile::TempDir, Cockpit) {
    let (tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusQueue);
    assert!(app.queue.len() >= 5, "the demo has a morning queue");
    app.update(Action::Top);
    (tmp, app)
}

/// Moves the queue cursor to the first item on an open ticket; its position.
fn to_an_open_ticket(app: &mut Cockpit) -> usize {
    let pos = app
        .queue
        .iter()
        .position(|q| {
            q.follow_up.ticket_id.is_some_and(|t| {
                app.store.tickets(q.follow_up.account_id).unwrap().iter().any(|x| x.id == t && x.status.is_open())
            })
        })
        .expect("the demo queue has an item on an open ticket");
    for _ in 0..pos {
        app.update(Action::Down);
    }
    pos
}

fn cursor_item(app: &Cockpit) -> cockpit::domain::FollowUp {
    app.queue[app.selection.queue_cursor].follow_up.to_follow_up()
}

fn stored(app: &Cockpit, id: u64) -> cockpit::domain::FollowUp {
    let f = app.queue.iter().map(|q| &q.follow_up).find(|f| f.id == id).cloned();
    let due = f.map(|f| f.due).unwrap_or(common::now() + Duration::days(400));
    app.store.follow_ups_before(due + Duration::days(400)).map(Result::unwrap).find(|f| f.id == id).unwrap()
}

#[test]
fn done_leaves_the_queue_is_on_the_timeline_and_undo_brings_it_back() {
    let (_tmp, mut app) = queue_app();
    let item = cursor_item(&app);
    let at = app.selection.queue_cursor;
    key(&mut app, KeyCode::Char('d'));
    assert!(!app.queue.iter().any(|q| q.follow_up.id == item.id));
    assert!(matches!(stored(&app, item.id).state, FollowUpState::Done { .. }));
    let timeline = app.store.activities(item.account_id).unwrap();
    let last = timeline.iter().find(|a| a.summary.starts_with("Done: ")).expect("a timeline entry");
    assert_eq!((last.kind, last.author.as_str()), (ActivityKind::Task, "tester"));
    assert!(app.toasts.last().unwrap().text.contains("u undoes"));

    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.queue.iter().position(|q| q.follow_up.id == item.id), Some(at), "back in its place");
    assert_eq!(stored(&app, item.id).state, FollowUpState::Open);
    assert!(!app.store.activities(item.account_id).unwrap().iter().any(|a| a.summary.starts_with("Done: ")));
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.toasts.last().unwrap().text, "Nothing to undo");
}

#[test]
fn snooze_presets_and_dates_with_a_reason() {
    let (_tmp, mut app) = queue_app();
    let item = cursor_item(&app);
    key(&mut app, KeyCode::Char('p'));
    assert_eq!(app.mode(), Mode::Pick);
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.mode(), Mode::Compose);
    typed(&mut app, "waiting on their IT");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.mode(), Mode::Normal);
    // Three days from Thursday 10:00 is Sunday: back Monday at the start of work.
    let monday_9 = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap();
    assert_eq!(stored(&app, item.id).state, FollowUpState::Snoozed { until: monday_9 });
    let entry = app.store.activities(item.account_id).unwrap().into_iter().find(|a| a.summary.starts_with("Snoozed"));
    assert!(entry.unwrap().summary.contains("(waiting on their IT)"));

    // Until a date: a bad date is refused, a good one asks for the reason.
    let next = cursor_item(&app);
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('d'));
    typed(&mut app, "next week");
    key(&mut app, KeyCode::Enter);
    assert!(app.toasts.last().unwrap().text.contains("is not a date"));
    assert_eq!(stored(&app, next.id).state, next.state);
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('d'));
    typed(&mut app, "2026-12-24");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    // A Thursday: back at the start of work (09:00 in the test's zone, UTC).
    let until = chrono::NaiveDate::from_ymd_opt(2026, 12, 24).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
    assert_eq!(stored(&app, next.id).state, FollowUpState::Snoozed { until });
}

#[test]
fn a_note_goes_to_the_timeline_and_the_outbox_once_per_account() {
    let (_tmp, mut app) = queue_app();
    // Mark two items of one account when the demo has them, else two items.
    let first = cursor_item(&app);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.overlays.marked.len(), 2);
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.mode(), Mode::Compose);
    typed(&mut app, "Spoke to Ana.\nRenewal on track.");
    ctrl(&mut app, 's');
    assert_eq!(app.mode(), Mode::Normal);
    let outbox = app.store.outbox().unwrap();
    let accounts: std::collections::BTreeSet<_> = app.store.outbox().unwrap().iter().map(|e| e.account_id).collect();
    assert_eq!(outbox.len(), accounts.len(), "one note per account");
    let e = outbox.iter().find(|e| e.account_id == first.account_id).unwrap();
    assert_eq!(e.state, OutboxState::Pending);
    assert!(matches!(&e.write, Write::Note { body, .. } if body == "Spoke to Ana.\nRenewal on track."));
    assert!(e.body_with_marker().ends_with(&format!("[cockpit ref {}]", e.key)));
    assert_eq!(app.status.outbox_counts.pending, outbox.len());
    // A note does not finish the items; the marks stay for the next action.
    assert_eq!(stored(&app, first.id).state, FollowUpState::Open);
    let note = app
        .store
        .activities(first.account_id)
        .unwrap()
        .into_iter()
        .find(|a| a.kind == ActivityKind::Note && a.author == "tester");
    assert_eq!(note.unwrap().summary, "Spoke to Ana.");
    // Done on both, then one undo takes both back.
    key(&mut app, KeyCode::Char('d'));
    assert!(app.overlays.marked.is_empty());
    assert!(app.toasts.last().unwrap().text.starts_with("Done on 2 items"));
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(stored(&app, first.id).state, FollowUpState::Open);
    // The note itself is still pending: undo takes it back too, a step further.
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.toasts.last().unwrap().text, "Undone: note on 2 items");
    assert!(app.store.outbox().unwrap().is_empty(), "its writes with it");
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.toasts.last().unwrap().text, "Nothing to undo");
}

#[test]
fn reply_with_a_saved_reply_then_the_outbox_shows_it() {
    let (_tmp, mut app) = queue_app();
    let pos = to_an_open_ticket(&mut app);
    assert_eq!(app.selection.queue_cursor, pos);
    let item = app.queue[pos].follow_up.to_follow_up();
    let ticket_id = item.ticket_id.unwrap();
    let ticket = app.store.tickets(item.account_id).unwrap().into_iter().find(|t| t.id == ticket_id).unwrap();
    key(&mut app, KeyCode::Char('R'));
    assert_eq!(app.mode(), Mode::Pick);
    key(&mut app, KeyCode::Char('1'));
    assert_eq!(app.mode(), Mode::Compose);
    let first_name = ticket.requester.split_whitespace().next().unwrap().to_string();
    let text = app.overlays.composer.as_ref().unwrap().text();
    assert!(text.starts_with(&format!("Hi {first_name},")), "{text}");
    assert!(text.ends_with("Tess Tester"), "signed with the configured author: {text}");
    ctrl(&mut app, 's');
    let e = app.store.outbox().unwrap().pop().unwrap();
    match &e.write {
        Write::Ticket { ticket: id, public, status, updated_stamp, .. } => {
            assert_eq!((*id, *public, *status), (ticket_id, true, Some(TicketStatus::Pending)));
            assert_eq!(*updated_stamp, ticket.updated_at);
        }
        other => panic!("{other:?}"),
    }
    let local = app.store.tickets(item.account_id).unwrap().into_iter().find(|t| t.id == ticket_id).unwrap();
    assert_eq!((local.status, local.last_agent_reply), (TicketStatus::Pending, Some(common::now())));
    assert!(matches!(stored(&app, item.id).state, FollowUpState::Done { .. }));

    key(&mut app, KeyCode::Char('o'));
    assert_eq!(app.mode(), Mode::Outbox);
    assert_eq!(app.overlays.outbox.entries.len(), 1);
    // Edit it, then discard it.
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(app.mode(), Mode::Compose);
    typed(&mut app, "\nPS: call me");
    ctrl(&mut app, 's');
    assert_eq!(app.mode(), Mode::Outbox);
    assert!(app.store.outbox_entry(e.id).unwrap().unwrap().write.body().ends_with("PS: call me"));
    // Discarding asks first; n keeps it.
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode(), Mode::Confirm);
    assert!(screen_text(&app).contains("Discard this write to Zendesk"), "{}", screen_text(&app));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.mode(), Mode::Outbox);
    assert_eq!(app.store.outbox().unwrap().len(), 1, "kept");
    key(&mut app, KeyCode::Char('x'));
    key(&mut app, KeyCode::Char('y'));
    assert!(app.store.outbox().unwrap().is_empty());
    let toast = &app.toasts.last().unwrap().text;
    assert!(toast.starts_with("Discarded, not sent: the write to Zendesk (reply on #"), "{toast}");
    app.toasts.clear();
    let shown = screen_text(&app);
    assert!(shown.contains("1 discarded, not sent"), "{shown}");
    assert!(!shown.contains("every note, reply and status change reached its vendor"), "{shown}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Normal);
}

#[test]
fn a_logged_call_is_a_touch_and_undo_refuses_once_a_write_left() {
    let (_tmp, mut app) = queue_app();
    let item = cursor_item(&app);
    key(&mut app, KeyCode::Char('L'));
    key(&mut app, KeyCode::Char('c'));
    typed(&mut app, "Budget approved for next year");
    ctrl(&mut app, 's');
    assert_eq!(app.store.row(item.account_id).unwrap().unwrap().last_touch, Some(common::now()));
    assert_eq!(app.book.row(item.account_id).unwrap().last_touch, Some(common::now()));
    let call = app
        .store
        .activities(item.account_id)
        .unwrap()
        .into_iter()
        .find(|a| a.kind == ActivityKind::Call && a.author == "tester");
    assert_eq!(call.unwrap().summary, "Budget approved for next year");
    // The pusher claims the note: it may have reached HubSpot, so undo says so.
    let e = app.store.outbox().unwrap().pop().unwrap();
    assert!(app.store.outbox_claim(e.id, common::now()).unwrap().is_some());
    key(&mut app, KeyCode::Char('u'));
    let toast = &app.toasts.last().unwrap().text;
    assert!(toast.starts_with("Cannot undo the logged call on "), "{toast}");
    assert!(toast.contains(": HubSpot already has it; correct it there or add a note"), "{toast}");
    assert!(matches!(stored(&app, item.id).state, FollowUpState::Done { .. }));
}

#[test]
fn done_needs_the_queue_focused_and_reply_needs_a_ticket() {
    let (_tmp, mut app) = queue_app();
    app.update(Action::FocusAccounts);
    key(&mut app, KeyCode::Char('d'));
    assert!(app.toasts.last().unwrap().text.contains("Done is for queue items: focus the follow-up queue"));
    app.update(Action::FocusQueue);
    let pos = app.queue.iter().position(|q| q.follow_up.ticket_id.is_none()).unwrap();
    for _ in 0..pos {
        app.update(Action::Down);
    }
    assert_eq!(app.selection.queue_cursor, pos);
    key(&mut app, KeyCode::Char('R'));
    assert_eq!(app.mode(), Mode::Normal);
    assert!(app.toasts.last().unwrap().text.contains("no ticket"));
    // Esc in the editor saves nothing.
    key(&mut app, KeyCode::Char('n'));
    typed(&mut app, "draft");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Normal);
    assert!(app.store.outbox().unwrap().is_empty());
}

#[test]
fn a_note_saved_while_the_health_pass_runs_lands_between_its_steps_and_survives_it() {
    use cockpit::engine::edits::{apply, Author};
    use cockpit::engine::upkeep::{Pass, Upkeep};
    use cockpit::engine::writer::Writer;
    use cockpit::tui::effect::Effect;
    let (_tmp, mut app) = queue_app();
    let id = app.queue[app.selection.queue_cursor].follow_up.account_id;
    let writer = Writer::spawn(app.store.clone());
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // Today's pass again, one account a step: it runs a few hundred steps.
    let done = tx.clone();
    let pass = Upkeep::new(app.health_setup.clone().unwrap(), app.now, Pass::Daily, move |r| {
        done.send(format!("pass {}", r.is_ok())).unwrap()
    });
    writer.steps(pass.with_step_sizes(1, 1, 1));
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)));
    for c in "Call booked for the renewal".chars() {
        app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    assert_eq!(app.mode(), Mode::Normal, "never refused, never waiting");
    let write = app.take_effects().into_iter().find(|e| matches!(e, Effect::Write { .. }));
    let Some(Effect::Write { seq, edit, at }) = write else { panic!("no edit") };
    let by = Author::new("tester", at);
    let answered = tx.clone();
    writer.edit(move |store| {
        let r = apply(store, edit, &by).map(Box::new).map_err(|e| e.to_string());
        Box::new(move || answered.send(format!("edit {}", r.is_ok())).unwrap())
    });
    let first = rx.recv().unwrap();
    let second = rx.recv().unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("edit true", "pass true"), "the edit did not wait for the pass");
    let _ = seq;
    // The pass that ran after the edit kept it: the note and its entry.
    let outbox = app.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].write.body(), "Call booked for the renewal");
    let row = app.store.row(id).unwrap().unwrap();
    assert_eq!(app.store.last_daily().unwrap(), Some(app.now.date_naive()));
    let totals = app.store.stage_totals().unwrap();
    let counted = app.store.rows().filter(|r| r.as_ref().unwrap().stage == row.stage).count() as u64;
    assert_eq!(totals.count[row.stage as usize], counted, "the totals add up after edits between steps");
    let timeline = app.store.activities(id).unwrap();
    assert!(timeline.iter().any(|a| a.summary.contains("Call booked for the renewal")), "{timeline:?}");
}

#[test]
fn a_reply_greets_the_synced_requester_by_name_and_is_not_sent_unsigned() {
    let (_tmp, mut app) = queue_app();
    let pos = to_an_open_ticket(&mut app);
    let item = app.queue[pos].follow_up.to_follow_up();
    let ticket_id = item.ticket_id.unwrap();
    // As a desk sync leaves it: the ticket names its requester by id, and
    // the synced users know who that is.
    let mut ticket = app.store.tickets(item.account_id).unwrap().into_iter().find(|t| t.id == ticket_id).unwrap();
    ticket.requester = "user 380000000126".into();
    let mut b = cockpit::store::Batch::default();
    b.put_ticket(&ticket);
    app.store.apply(b).unwrap();
    let ana = cockpit::domain::UserRecord {
        name: "Ana Lima".into(),
        email: "ana@acme.example".into(),
        org: Some(7),
        title: String::new(),
        contact: true,
    };
    let page = cockpit::engine::ingest::Page { source: "desk", records: &[], removed: &[], cursor: None };
    cockpit::engine::ingest::users(&app.store, &[(380000000126, ana)], &page).unwrap();
    // No `author` in the config: nothing signs the reply.
    app.signature = None;

    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Char('1'));
    assert_eq!(app.mode(), Mode::Compose);
    let c = app.overlays.composer.as_ref().unwrap();
    assert!(c.title.contains("to Ana Lima <ana@acme.example>"), "{}", c.title);
    let text = c.text();
    assert!(text.starts_with("Hi Ana,"), "{text}");
    assert!(text.ends_with("{csm}"), "{text}");
    let before = app.store.outbox().unwrap().len();
    ctrl(&mut app, 's');
    assert_eq!(app.store.outbox().unwrap().len(), before, "an unsigned reply is not sent");
    assert_eq!(app.mode(), Mode::Compose, "the text stays in the editor");
    assert!(app.toasts.iter().any(|t| t.text.contains("{csm}") && t.text.contains("author")), "{:?}", app.toasts);

    // Signed by hand, it goes.
    let c = app.overlays.composer.as_mut().unwrap();
    let signed = c.text().replace("{csm}", "Dana");
    *c = cockpit::tui::compose::Composer::new(cockpit::tui::compose::Purpose::Reply, c.title.clone(), &signed);
    ctrl(&mut app, 's');
    let e = app.store.outbox().unwrap().pop().unwrap();
    assert!(e.write.body().starts_with("Hi Ana,") && e.write.body().ends_with("Dana"), "{}", e.write.body());
}

/// The whole screen as text, rows joined with newlines.
fn screen_text(app: &cockpit::tui::app::App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 40)).unwrap();
    term.draw(|f| cockpit::tui::view::draw(app, f)).unwrap();
    let buf = term.backend().buffer();
    (0..40).map(|y| (0..140).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect()
}

#[test]
fn the_outbox_keys_come_from_the_config_and_the_hints_follow_them() {
    let (_tmp, mut app) = queue_app();
    let text = "[keys.outbox]\n\"X\" = \"discard\"\n\"x\" = \"none\"\n\"D\" = \"down\"\n[keys.editor]\n\"ctrl-w\" = \"submit\"\n";
    let (config, issues) = cockpit::config::parse(text, None);
    assert!(issues.is_empty(), "{issues:?}");
    app.keymap = config.keys;
    // A note through the editor's rebound submit key (ctrl-s still saves too).
    key(&mut app, KeyCode::Char('n'));
    app.toasts.clear();
    let shown = screen_text(&app);
    assert!(shown.lines().last().unwrap().contains("ctrl-w save"), "the editor's hint names the user's key");
    assert!(shown.contains("ctrl-w saves · ctrl-e opens $EDITOR · esc cancels"), "{shown}");
    typed(&mut app, "Renewal on track");
    ctrl(&mut app, 'w');
    assert_eq!(app.mode(), Mode::Normal);
    let e = app.store.outbox().unwrap().pop().expect("the note waits in the outbox");
    key(&mut app, KeyCode::Char('o'));
    assert_eq!(app.mode(), Mode::Outbox);
    app.toasts.clear();
    let shown = screen_text(&app);
    let status = shown.lines().last().unwrap();
    assert!(status.contains("X discard") && !status.contains("x discard"), "{status}");
    assert!(shown.contains("D/k move · r retry · e edit · X discard · esc closes"), "{shown}");
    // x is inert now; X discards.
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode(), Mode::Outbox);
    assert!(app.store.outbox_entry(e.id).unwrap().is_some_and(|e| e.state == OutboxState::Pending));
    app.on_event(&Event::Key(KeyEvent::new(KeyCode::Char('X'), KeyModifiers::SHIFT)));
    assert_eq!(app.mode(), Mode::Confirm, "asked first");
    key(&mut app, KeyCode::Char('y'));
    app.settle();
    assert!(app.store.outbox().unwrap().is_empty(), "discarded");
    // The panes' keymap is untouched: x does nothing there, o still opens the outbox.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::Normal);
}

/// From the accounts table, with no queue item in hand: a note and a
/// logged call land on the selected account; a snooze puts off its items
/// in the queue; done stays a queue key.
#[test]
fn a_note_a_call_and_a_snooze_from_the_table_act_on_the_selected_account() {
    let (_tmp, store) = common::demo_store(150);
    let mut app = common::app(store, common::theme("dark"));
    app.update(Action::FocusAccounts);
    // An account with items in the queue, chosen from the table.
    let bounds = app.calendar.bounds(app.now);
    let id = app
        .queue
        .iter()
        .find(|q| q.section(&bounds) == Some(cockpit::domain::calendar::Section::Overdue))
        .unwrap()
        .follow_up
        .account_id;
    app.select(id);
    let before = app.store.activities(id).unwrap().len();

    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.mode(), Mode::Compose, "{:?}", app.toasts.last());
    typed(&mut app, "Spoke to the new VP");
    ctrl(&mut app, 's');
    assert_eq!(app.mode(), Mode::Normal);
    let outbox = app.store.outbox().unwrap();
    assert!(outbox
        .iter()
        .any(|e| e.account_id == id && matches!(&e.write, Write::Note { body, .. } if body == "Spoke to the new VP")));

    key(&mut app, KeyCode::Char('L'));
    key(&mut app, KeyCode::Char('c'));
    typed(&mut app, "Budget approved");
    ctrl(&mut app, 's');
    let timeline = app.store.activities(id).unwrap();
    assert_eq!(timeline.len(), before + 2, "the note and the call on the account's timeline");
    assert!(timeline.iter().any(|a| a.kind == ActivityKind::Call && a.summary.contains("Budget approved")));
    assert_eq!(app.book.row(id).unwrap().last_touch, Some(app.now), "a call is a two-way touch");

    // Done is a queue key: nothing changes.
    let open: Vec<u64> = app.queue.iter().filter(|q| q.follow_up.account_id == id).map(|q| q.follow_up.id).collect();
    key(&mut app, KeyCode::Char('d'));
    assert!(app.toasts.last().unwrap().text.starts_with("Done is for queue items"));
    // A week's snooze puts off every one of its items.
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('w'));
    key(&mut app, KeyCode::Enter);
    for f in open {
        assert!(matches!(stored(&app, f).state, FollowUpState::Snoozed { .. }), "item {f}");
    }
    // Undo walks back the snooze, the call and the note.
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('u'));
    }
    assert_eq!(app.store.activities(id).unwrap().len(), before);
    assert!(!app.store.outbox().unwrap().iter().any(|e| e.account_id == id));
}
