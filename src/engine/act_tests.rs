use super::*;
use crate::domain::followup_action::FollowUpAction;
use crate::domain::outbox::{OutboxState, Write};
use crate::domain::{
    Account, FollowUpKind, FollowUpState, OutcomeKind, Priority, Segment, Stage, Team, TicketPriority, TicketStatus,
};
use crate::store::codec::encode;
use crate::store::StageTotals;
use chrono::{Duration, TimeZone};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

fn dana() -> Author {
    Author::new("dana", now())
}

fn store_with_a_ticket() -> (tempfile::TempDir, Store, FollowUp) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ws")).unwrap();
    let today = now().date_naive();
    let account = Account {
        id: AccountId(1),
        name: "Acme".into(),
        domain: "acme.com".into(),
        segment: Segment::MidMarket,
        industry: "Retail".into(),
        region: "EMEA".into(),
        owner: "Dana".into(),
        plan: "Pro".into(),
        seats: 20,
        arr: 40_000,
        contract_start: today - Duration::days(100),
        renewal_date: today + Duration::days(265),
        stage: Stage::Adoption,
        key_people: vec![],
        outcome: None,
    };
    let ticket = Ticket {
        id: 35436,
        account_id: AccountId(1),
        subject: "Export fails".into(),
        status: TicketStatus::Open,
        priority: TicketPriority::Normal,
        team: Team::Unassigned,
        requester: "Ana Lima".into(),
        created_at: now() - Duration::days(8),
        updated_at: now() - Duration::days(6),
        last_customer_reply: Some(now() - Duration::days(8)),
        last_agent_reply: Some(now() - Duration::days(6)),
        seen_by_customer: true,
        complex: false,
        frustrated: false,
        bug: false,
        escalated: false,
        follow_ups_sent: 1,
    };
    let row = crate::domain::rollup::derive_row(&account, &Default::default(), std::slice::from_ref(&ticket), &[]);
    assert_eq!(row.open_tickets, 1);
    let item = FollowUp {
        id: 9,
        account_id: AccountId(1),
        ticket_id: Some(ticket.id),
        kind: FollowUpKind::TicketClose,
        reason: "No answer for 6 days to 'Export fails'".into(),
        due: now() - Duration::hours(2),
        priority: Priority::Normal,
        state: FollowUpState::Open,
    };
    let mut b = Batch::default();
    let mut totals = StageTotals::default();
    b.put_account(&account);
    b.put_row(None, &row, &mut totals);
    b.put_totals(&totals);
    b.put_ticket(&ticket);
    b.put_follow_up(&item, None);
    store.apply(b).unwrap();
    (dir, store, item)
}

#[test]
fn closing_a_ticket_lands_in_one_batch_and_undo_restores_everything() {
    let (_dir, store, item) = store_with_a_ticket();
    let close = FollowUpAction::CloseTicket { body: "No answer since the 20th; closing.".into() };
    let report = apply(&store, std::slice::from_ref(&item), &close, &dana()).unwrap();
    assert_eq!((report.applied, report.skipped.len(), report.queued), (1, 0, 1));
    assert!(matches!(report.changed[0].state, FollowUpState::Done { .. }));
    assert_eq!(store.tickets(AccountId(1)).unwrap()[0].status, TicketStatus::Solved);
    assert_eq!(store.row(AccountId(1)).unwrap().unwrap().open_tickets, 0);
    assert!(matches!(store.follow_up(9).unwrap().unwrap().state, FollowUpState::Done { .. }));
    let entries = store.outbox().unwrap();
    assert_eq!(entries.len(), 1);
    assert!(matches!(
        &entries[0].write,
        Write::Ticket { ticket: 35436, public: false, status: Some(TicketStatus::Solved), .. }
    ));
    assert_eq!(store.outbox_counts().unwrap().pending, 1);
    assert_eq!(store.last_action().unwrap().as_deref(), Some("ticket closed"));

    // Closing again is refused: the ticket is solved now.
    let again = apply(&store, std::slice::from_ref(&item), &close, &dana()).unwrap();
    assert_eq!((again.applied, again.skipped.len()), (0, 1));
    assert!(again.skipped[0].contains("already solved"), "{:?}", again.skipped);

    match undo(&store).unwrap() {
        UndoOutcome::Undone { done, accounts, restored, kept } => {
            assert_eq!((done, accounts), (vec!["ticket close on Acme".to_string()], vec![AccountId(1)]));
            assert_eq!(restored, vec![item.clone()]);
            assert!(kept.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.tickets(AccountId(1)).unwrap()[0].status, TicketStatus::Open);
    assert_eq!(store.row(AccountId(1)).unwrap().unwrap().open_tickets, 1);
    assert_eq!(store.follow_up(9).unwrap().unwrap().state, FollowUpState::Open);
    assert!(store.outbox().unwrap().is_empty());
    assert!(!store.activities(AccountId(1)).unwrap().iter().any(|a| a.summary.starts_with("Closed")));
    assert_eq!(undo(&store).unwrap(), UndoOutcome::Nothing);
}

#[test]
fn a_stage_move_is_undone_with_its_totals_and_timeline() {
    let (_dir, store, _) = store_with_a_ticket();
    set_stage(&store, AccountId(1), Stage::Expansion, &dana()).unwrap();
    assert_eq!(store.stage_totals().unwrap().count[Stage::Expansion.index()], 1);
    assert!(matches!(undo(&store).unwrap(), UndoOutcome::Undone { .. }));
    assert_eq!(store.account(AccountId(1)).unwrap().unwrap().stage, Stage::Adoption);
    assert_eq!(store.row(AccountId(1)).unwrap().unwrap().stage, Stage::Adoption);
    let totals = store.stage_totals().unwrap();
    assert_eq!((totals.count[Stage::Adoption.index()], totals.count[Stage::Expansion.index()]), (1, 0));
    assert!(store.activities(AccountId(1)).unwrap().is_empty());
}

#[test]
fn a_claim_is_on_disk_before_the_request_and_blocks_undo_edit_and_discard() {
    let (_dir, store, item) = store_with_a_ticket();
    apply(&store, &[item], &FollowUpAction::Note { body: "Called Ana".into() }, &dana()).unwrap();
    let id = store.outbox().unwrap()[0].id;
    let before = store.outbox_claim(id, now()).unwrap().unwrap();
    assert_eq!(before.state, OutboxState::Pending);
    let claimed = store.outbox_entry(id).unwrap().unwrap();
    assert_eq!((claimed.state.clone(), claimed.attempts), (OutboxState::Unsure { since: now() }, 1));
    // Claimed again (a crash came between): handed out as unsure, to be checked.
    assert_eq!(store.outbox_claim(id, now()).unwrap().unwrap().state, OutboxState::Unsure { since: now() });
    match undo(&store).unwrap() {
        UndoOutcome::Refused(r) => {
            assert_eq!(
                r.message(),
                "Cannot undo the note on Acme: HubSpot already has it; correct it there or add a note"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(store.outbox_edit(id, "x").is_err());
    assert!(store.outbox_discard(id).is_err());
    assert!(store.outbox_retry(id, now(), None).is_err());

    // Backed off: not claimable before its time; failed: retry makes it pending again.
    let mut e = store.outbox_entry(id).unwrap().unwrap();
    e.state = OutboxState::Pending;
    e.next_attempt = now() + Duration::minutes(5);
    store.outbox_put(&e).unwrap();
    assert!(store.outbox_claim(id, now()).unwrap().is_none());
    e.state = OutboxState::Failed { reason: "HTTP 401".into() };
    store.outbox_put(&e).unwrap();
    assert!(store.outbox_claim(id, now() + Duration::hours(1)).unwrap().is_none(), "failed waits for the CSM");
    let retried = store.outbox_retry(id, now(), None).unwrap();
    assert_eq!((retried.state, retried.attempts, retried.next_attempt), (OutboxState::Pending, 0, now()));
    assert!(store.outbox_edit(id, "  ").is_err(), "empty text is refused");
    assert_eq!(store.outbox_edit(id, "Called Ana twice\n").unwrap().write.body(), "Called Ana twice");
    store.outbox_discard(id).unwrap();
    assert!(store.outbox().unwrap().is_empty());
}

#[test]
fn the_reverse_id_map_finds_the_company_also_in_older_workspaces() {
    let (_dir, store, _) = store_with_a_ticket();
    let mut b = Batch::default();
    b.insert(keys::external("crm", "ticket/4"), AccountId(1).0.to_be_bytes().to_vec());
    b.insert(keys::external("crm", "777"), AccountId(1).0.to_be_bytes().to_vec());
    store.apply(b).unwrap();
    assert_eq!(store.external_of(AccountId(1), "crm").unwrap().as_deref(), Some("777"));
    assert_eq!(store.external_of(AccountId(2), "crm").unwrap(), None);
    let mut b = Batch::default();
    b.insert(keys::external_of(AccountId(1), "crm"), b"778".to_vec());
    store.apply(b).unwrap();
    assert_eq!(store.external_of(AccountId(1), "crm").unwrap().as_deref(), Some("778"));
}

#[test]
fn done_on_two_items_of_one_account_logs_both_and_a_note_goes_once() {
    let (_dir, store, first) = store_with_a_ticket();
    let second = FollowUp {
        id: 10,
        ticket_id: None,
        kind: FollowUpKind::CheckIn,
        reason: "Quarterly check-in".into(),
        ..first.clone()
    };
    let mut b = Batch::default();
    b.put_follow_up(&second, None);
    store.apply(b).unwrap();
    let both = [first.clone(), second.clone()];
    let r = apply(&store, &both, &FollowUpAction::Note { body: "Shared context".into() }, &dana()).unwrap();
    assert_eq!((r.applied, r.queued), (2, 1), "one note for the account");
    let r = apply(&store, &both, &FollowUpAction::Done, &dana()).unwrap();
    assert_eq!(r.changed.len(), 2);
    let done: Vec<String> = store
        .activities(AccountId(1))
        .unwrap()
        .into_iter()
        .filter(|a| a.summary.starts_with("Done: "))
        .map(|a| a.summary)
        .collect();
    assert_eq!(done.len(), 2, "each item is on the timeline: {done:?}");
}

#[test]
fn a_watched_entry_is_neither_retried_edited_nor_discarded_and_v1_entries_read_on() {
    let (_dir, store, item) = store_with_a_ticket();
    apply(&store, &[item], &FollowUpAction::Note { body: "Called Ana".into() }, &dana()).unwrap();
    let mut e = store.outbox().unwrap()[0].clone();
    e.state = OutboxState::Watching { since: now(), kept: Some((now(), "501".into())), archived: vec![] };
    store.outbox_put(&e).unwrap();
    assert!(store.outbox_retry(e.id, now(), None).is_err());
    assert!(store.outbox_edit(e.id, "x").is_err());
    let refused = store.outbox_discard(e.id).unwrap_err().to_string();
    assert!(refused.contains("watched for a late copy"), "{refused}");
    assert_eq!((store.outbox_counts().unwrap().sent, store.outbox_counts().unwrap().pending), (1, 0));
    assert!(store.outbox_claim(e.id, now()).unwrap().is_some(), "the pusher looks at it when due");
    e.state = OutboxState::Watching { since: now(), kept: None, archived: vec![] };
    store.outbox_put(&e).unwrap();
    assert_eq!(store.outbox_counts().unwrap().pending, 1, "not known to have landed yet");
    assert!(store.outbox_discard(e.id).is_err());

    // A workspace written before these states (schema 1) opens and reads as it was.
    e.state = OutboxState::Unsure { since: now() };
    store.outbox_put(&e).unwrap();
    let mut b = Batch::default();
    b.insert(keys::SCHEMA.to_vec(), 1u32.to_be_bytes().to_vec());
    store.apply(b).unwrap();
    store.flush().unwrap();
    let path = store.path().to_path_buf();
    drop(store);
    let reopened = Store::open(&path).unwrap();
    assert_eq!(reopened.schema(), crate::store::migrate::CURRENT);
    assert_eq!(reopened.outbox_entry(e.id).unwrap().unwrap(), e);
}

#[test]
fn a_pushers_outcome_keeps_the_account_a_merge_moved_the_entry_to() {
    let (_dir, store, _item) = store_with_a_ticket();
    let write = Write::Note { body: "Called".into(), at: now() };
    let entry = OutboxEntry::new(77, AccountId(1), 3, write, now());
    store.outbox_put(&entry).unwrap();
    // A merge moves the entry to account 9 while a push has it in hand.
    let mut moved = entry.clone();
    moved.account_id = AccountId(9);
    let mut b = Batch::default();
    b.insert(keys::outbox(77), encode(&moved));
    store.apply(b).unwrap();
    let mut outcome = entry;
    outcome.state = OutboxState::Sent { at: now(), remote: "501".into() };
    store.outbox_put(&outcome).unwrap();
    let stored = store.outbox_entry(77).unwrap().unwrap();
    assert_eq!(stored.account_id, AccountId(9));
    assert!(matches!(stored.state, OutboxState::Sent { .. }));
}

#[test]
fn set_stage_moves_row_index_totals_and_logs_it() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path()).unwrap();
        crate::store::tests::seed(&s);
        let r = set_stage(&s, AccountId(2), Stage::Expansion, &Author::new("Dana", now())).unwrap();
        assert_eq!(r.stage, Stage::Expansion);
        s.flush().unwrap();
    }
    let s = Store::open(tmp.path()).unwrap();
    assert_eq!(s.account(AccountId(2)).unwrap().unwrap().stage, Stage::Expansion);
    assert_eq!(s.row(AccountId(2)).unwrap().unwrap().stage, Stage::Expansion);
    let adoption: Vec<u64> = s.stage_rows(Stage::Adoption, 10).unwrap().iter().map(|r| r.id.0).collect();
    assert_eq!(adoption, vec![1]);
    assert_eq!(s.stage_rows(Stage::Expansion, 10).unwrap()[0].id, AccountId(2));
    let t = s.stage_totals().unwrap();
    assert_eq!((t.count[Stage::Adoption.index()], t.count[Stage::Expansion.index()]), (1, 1));
    assert_eq!(t.arr[Stage::Expansion.index()], 20_000);
    let log = s.activities(AccountId(2)).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].summary, "Moved from Adoption to Expansion");
    assert!(matches!(
        set_stage(&s, AccountId(99), Stage::Expansion, &Author::new("x", now())),
        Err(StoreError::NoAccount(99))
    ));
}

#[test]
fn a_ticket_only_reply_lands_on_the_ticket_and_the_outbox_and_undoes_without_touching_any_item() {
    let (_dir, store, item) = store_with_a_ticket();
    let ticket = store.tickets(AccountId(1)).unwrap().remove(0);
    let bare = crate::domain::followup_action::ticket_only(&ticket, now());
    let reply = FollowUpAction::Reply { body: "Any news on the export?".into() };
    let report = apply(&store, &[bare], &reply, &dana()).unwrap();
    assert_eq!((report.applied, report.queued), (1, 1), "{report:?}");
    assert!(report.changed.is_empty(), "no item is stored for it, so none changes");
    let t = store.tickets(AccountId(1)).unwrap().remove(0);
    assert_eq!(t.status, TicketStatus::Pending);
    assert_eq!(t.last_agent_reply, Some(now()));
    let stored = store.get::<FollowUp>(&keys::follow_up(item.due, item.id), "follow-up").unwrap().unwrap();
    assert_eq!(stored.state, FollowUpState::Open, "the queue's own item is left as it was");
    assert!(store.get::<FollowUp>(&keys::follow_up(now(), TICKET_ONLY), "follow-up").unwrap().is_none());
    let entries = store.outbox().unwrap();
    assert!(matches!(&entries[0].write, Write::Ticket { public: true, ticket: 35436, .. }), "{entries:?}");
    assert!(matches!(undo(&store).unwrap(), UndoOutcome::Undone { .. }));
    assert_eq!(store.tickets(AccountId(1)).unwrap()[0].status, TicketStatus::Open);
    assert!(store.outbox().unwrap().is_empty());
}

/// A second account (id 2) with an open item of its own, beside Acme's.
fn add_beta(store: &Store) -> FollowUp {
    let mut a = store.account(AccountId(1)).unwrap().unwrap();
    a.id = AccountId(2);
    a.name = "Beta".into();
    let mut row = store.row(AccountId(1)).unwrap().unwrap();
    row.id = AccountId(2);
    row.name = "Beta".into();
    row.open_tickets = 0;
    let item = FollowUp {
        id: 19,
        account_id: AccountId(2),
        ticket_id: None,
        kind: FollowUpKind::CheckIn,
        reason: "Monthly check-in".into(),
        due: now() - Duration::hours(1),
        priority: Priority::Normal,
        state: FollowUpState::Open,
    };
    let mut b = Batch::default();
    let mut totals = store.stage_totals().unwrap();
    b.put_account(&a);
    b.put_row(None, &row, &mut totals);
    b.put_totals(&totals);
    b.put_follow_up(&item, None);
    store.apply(b).unwrap();
    item
}

#[test]
fn undo_walks_back_three_actions_one_at_a_time_newest_first() {
    let (_dir, store, item) = store_with_a_ticket();
    let touch = store.row(AccountId(1)).unwrap().unwrap().last_touch;
    let later = |m| Author::new("dana", now() + Duration::minutes(m));
    apply(&store, std::slice::from_ref(&item), &FollowUpAction::Note { body: "Called Ana".into() }, &later(1)).unwrap();
    let snooze =
        FollowUpAction::Snooze { until: now() + Duration::days(1), reason: String::new(), zone: chrono_tz::Tz::UTC };
    apply(&store, std::slice::from_ref(&item), &snooze, &later(2)).unwrap();
    set_stage(&store, AccountId(1), Stage::Expansion, &later(3)).unwrap();
    let listed: Vec<String> = history(&store).unwrap().into_iter().map(|h| h.what).collect();
    assert_eq!(
        listed,
        ["stage move of Acme: Adoption → Expansion", "snooze on Acme (close?)", "note on Acme"],
        "newest first"
    );
    let undone = |o: UndoOutcome| match o {
        UndoOutcome::Undone { done, .. } => done,
        other => panic!("{other:?}"),
    };
    assert_eq!(undone(undo(&store).unwrap()), ["stage move of Acme: Adoption → Expansion"]);
    assert_eq!(store.account(AccountId(1)).unwrap().unwrap().stage, Stage::Adoption);
    assert_eq!(undone(undo(&store).unwrap()), ["snooze on Acme (close?)"]);
    assert_eq!(store.follow_up(9).unwrap().unwrap().state, FollowUpState::Open);
    assert_eq!(undone(undo(&store).unwrap()), ["note on Acme"]);
    assert!(store.outbox().unwrap().is_empty(), "the note's write went with it");
    assert!(store.activities(AccountId(1)).unwrap().is_empty());
    assert_eq!(store.row(AccountId(1)).unwrap().unwrap().last_touch, touch, "the row as it was");
    assert_eq!(undo(&store).unwrap(), UndoOutcome::Nothing);
}

#[test]
fn the_history_survives_a_reopen_and_keeps_the_last_fifty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws");
    {
        let (_d, seeded, _) = store_with_a_ticket();
        drop(seeded);
    }
    let store = Store::open(&path).unwrap();
    let account = Account {
        id: AccountId(1),
        name: "Acme".into(),
        domain: String::new(),
        segment: Segment::Smb,
        industry: String::new(),
        region: String::new(),
        owner: String::new(),
        plan: "Pro".into(),
        seats: 1,
        arr: 1_000,
        contract_start: now().date_naive(),
        renewal_date: now().date_naive() + Duration::days(300),
        stage: Stage::Adoption,
        key_people: vec![],
        outcome: None,
    };
    let row = crate::domain::rollup::derive_row(&account, &Default::default(), &[], &[]);
    let mut b = Batch::default();
    let mut totals = StageTotals::default();
    b.put_account(&account);
    b.put_row(None, &row, &mut totals);
    b.put_totals(&totals);
    store.apply(b).unwrap();
    for i in 0..(crate::store::UNDO_KEPT + 5) {
        let to = if i % 2 == 0 { Stage::Expansion } else { Stage::Adoption };
        set_stage(&store, AccountId(1), to, &Author::new("dana", now() + Duration::minutes(i as i64))).unwrap();
    }
    drop(store);
    let store = Store::open(&path).unwrap();
    let h = history(&store).unwrap();
    assert_eq!(h.len(), crate::store::UNDO_KEPT, "bounded");
    assert!(h.len() >= 20);
    assert_eq!(h[0].at, now() + Duration::minutes(crate::store::UNDO_KEPT as i64 + 4), "the newest kept");
    assert!(h.iter().all(|i| i.can == CanUndo::Yes));
    // Twenty in a row, each one step back.
    for _ in 0..20 {
        assert!(matches!(undo(&store).unwrap(), UndoOutcome::Undone { .. }));
    }
    assert_eq!(history(&store).unwrap().len(), crate::store::UNDO_KEPT - 20);
}

#[test]
fn undo_passes_over_what_reached_a_vendor_saying_so_and_stops_where_it_shares_records() {
    let (_dir, store, item) = store_with_a_ticket();
    let beta = add_beta(&store);
    let at = |m| Author::new("dana", now() + Duration::minutes(m));
    // Oldest: a snooze on Beta; then a note on Acme that reaches HubSpot.
    let snooze =
        FollowUpAction::Snooze { until: now() + Duration::days(3), reason: String::new(), zone: chrono_tz::Tz::UTC };
    apply(&store, std::slice::from_ref(&beta), &snooze, &at(1)).unwrap();
    apply(&store, std::slice::from_ref(&item), &FollowUpAction::Note { body: "Called".into() }, &at(2)).unwrap();
    let note = store.outbox().unwrap().into_iter().find(|e| e.account_id == AccountId(1)).unwrap();
    store.outbox_claim(note.id, now() + Duration::minutes(3)).unwrap();
    let mut sent = store.outbox_entry(note.id).unwrap().unwrap();
    sent.state = OutboxState::Sent { at: now(), remote: "501".into() };
    store.outbox_put(&sent).unwrap();

    let h = history(&store).unwrap();
    assert_eq!(h[0].can, CanUndo::Reached(crate::domain::outbox::System::Crm));
    assert_eq!(h[1].can, CanUndo::Yes, "Beta's snooze shares nothing with Acme's note");
    match undo(&store).unwrap() {
        UndoOutcome::Undone { done, kept, .. } => {
            assert_eq!(done, ["snooze on Beta (check-in)"]);
            assert_eq!(kept.len(), 1);
            assert_eq!(
                kept[0].message(),
                "Cannot undo the note on Acme: HubSpot already has it; correct it there or add a note"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.follow_up(19).unwrap().unwrap().state, FollowUpState::Open);
    assert!(store.outbox_entry(note.id).unwrap().is_some(), "the sent note stays");
    match undo(&store).unwrap() {
        UndoOutcome::Refused(r) => assert!(r.message().contains("HubSpot already has it"), "{r:?}"),
        other => panic!("{other:?}"),
    }

    // An older action on the account a sent call log changed cannot be
    // taken back past it: the row would lose the call's touch.
    let (_dir2, store, item) = store_with_a_ticket();
    set_stage(&store, AccountId(1), Stage::Expansion, &at(1)).unwrap();
    let call = FollowUpAction::Log { kind: ActivityKind::Call, summary: "Talked renewal".into() };
    apply(&store, std::slice::from_ref(&item), &call, &at(2)).unwrap();
    let note = store.outbox().unwrap().into_iter().find(|e| matches!(e.write, Write::Note { .. })).unwrap();
    store.outbox_claim(note.id, now() + Duration::minutes(3)).unwrap();
    let h = history(&store).unwrap();
    assert!(matches!(&h[1].can, CanUndo::After { newer, .. } if newer == "logged call on Acme"), "{h:?}");
    assert_eq!(
        undo_to(&store, h[1].seq).unwrap(),
        UndoOutcome::Refused(Refusal {
            what: "stage move of Acme: Adoption → Expansion".into(),
            why: "the logged call on Acme made after it changed the same records and HubSpot already has it".into(),
        })
    );
    assert_eq!(store.account(AccountId(1)).unwrap().unwrap().stage, Stage::Expansion, "nothing changed");
}

#[test]
fn undo_to_takes_back_every_action_down_to_the_one_chosen() {
    let (_dir, store, item) = store_with_a_ticket();
    let beta = add_beta(&store);
    let at = |m| Author::new("dana", now() + Duration::minutes(m));
    apply(&store, std::slice::from_ref(&beta), &FollowUpAction::Done, &at(1)).unwrap();
    apply(&store, std::slice::from_ref(&item), &FollowUpAction::Note { body: "a".into() }, &at(2)).unwrap();
    set_stage(&store, AccountId(2), Stage::Expansion, &at(3)).unwrap();
    let h = history(&store).unwrap();
    match undo_to(&store, h[1].seq).unwrap() {
        UndoOutcome::Undone { done, accounts, .. } => {
            assert_eq!(done, ["stage move of Beta: Adoption → Expansion", "note on Acme"]);
            assert_eq!(accounts, vec![AccountId(1), AccountId(2)]);
        }
        other => panic!("{other:?}"),
    }
    let left: Vec<String> = history(&store).unwrap().into_iter().map(|h| h.what).collect();
    assert_eq!(left, ["done on Beta (check-in)"], "the older one stays");
    assert!(matches!(store.follow_up(19).unwrap().unwrap().state, FollowUpState::Done { .. }));
}

#[test]
fn a_churn_records_its_outcome_with_the_reason_and_undo_takes_it_back() {
    let (_dir, store, _) = store_with_a_ticket();
    set_stage(&store, AccountId(1), Stage::Renewed, &dana()).unwrap();
    let renewed = store.account(AccountId(1)).unwrap().unwrap().outcome.unwrap();
    assert_eq!((renewed.kind, renewed.on), (OutcomeKind::Renewed, now().date_naive()), "a renewal is recorded too");
    let why = ChurnWhy { reason: ChurnReason::Involuntary, note: " card declined twice ".into() };
    let later = Author::new("dana", now() + Duration::days(2));
    move_stage(&store, AccountId(1), Stage::Churned, Some(&why), &later).unwrap();
    let a = store.account(AccountId(1)).unwrap().unwrap();
    let o = a.outcome.clone().unwrap();
    assert_eq!(a.stage, Stage::Churned);
    assert_eq!(
        (o.kind, o.on, o.reason, o.note.as_str()),
        (OutcomeKind::Churned, later.at.date_naive(), Some(ChurnReason::Involuntary), "card declined twice")
    );
    let timeline = store.activities(AccountId(1)).unwrap();
    assert_eq!(
        timeline.last().unwrap().summary,
        "Moved from Renewed to Churned: involuntary churn (card declined twice)"
    );
    assert!(store.outbox().unwrap().iter().any(|e| e.write == Write::Stage { stage: Stage::Churned }));
    assert_eq!(history(&store).unwrap()[0].what, "stage move of Acme: Renewed → Churned (involuntary)");

    // The metrics count it on its day.
    let accounts: Vec<Account> = store.accounts().collect::<Result<_>>().unwrap();
    let p = crate::domain::metrics::Period::of(&accounts, &[], later.at.date_naive(), later.at.date_naive());
    assert_eq!((p.churned, p.churned_involuntary, p.churned_voluntary), (1, 1, 0));

    assert!(matches!(undo(&store).unwrap(), UndoOutcome::Undone { .. }));
    let back = store.account(AccountId(1)).unwrap().unwrap();
    assert_eq!((back.stage, back.outcome), (Stage::Renewed, Some(renewed)), "the renewal is back, the churn gone");
    assert!(!store.outbox().unwrap().iter().any(|e| e.write == Write::Stage { stage: Stage::Churned }));
}

fn task(write_back: bool) -> FollowUpAction {
    FollowUpAction::Task {
        subject: "Send the QBR deck".into(),
        due: now() + Duration::days(4) + Duration::hours(1),
        priority: Priority::High,
        write_back,
        zone: chrono_tz::America::Los_Angeles,
    }
}

#[test]
fn a_task_on_an_account_is_stored_queued_logged_and_sent_when_asked() {
    let (_dir, store, _) = store_with_a_ticket();
    let on = crate::domain::followup_action::account_only(AccountId(1), now());
    let report = apply(&store, std::slice::from_ref(&on), &task(true), &dana()).unwrap();
    assert_eq!((report.applied, report.queued, report.changed.len()), (1, 1, 1));
    let created = report.changed[0].clone();
    assert_ne!(created.id, on.id, "a stored id of its own");
    assert_eq!(
        (created.kind, created.reason.as_str(), created.due, created.priority, created.state),
        (
            FollowUpKind::Task,
            "Send the QBR deck",
            now() + Duration::days(4) + Duration::hours(1),
            Priority::High,
            FollowUpState::Open
        )
    );
    assert_eq!(store.follow_up(created.id).unwrap(), Some(created.clone()), "stored, found by id");
    let upcoming: Vec<FollowUp> = store
        .follow_ups_before(now() + Duration::days(30))
        .map(Result::unwrap)
        .filter(|f| f.kind == FollowUpKind::Task)
        .collect();
    assert_eq!(upcoming, vec![created.clone()]);
    let timeline = store.activities(AccountId(1)).unwrap();
    assert_eq!(timeline[0].summary, "Task: Send the QBR deck, due Mon 30 Nov 02:00 PST");
    assert!(matches!(
        &store.outbox().unwrap()[0].write,
        Write::Task { subject, due, priority: Priority::High, .. } if subject == "Send the QBR deck" && *due == created.due
    ));
    assert_eq!(store.undo_history().unwrap()[0].1.what, "task on Acme");
    // The ticket's item was not an action target: it stays as it was.
    assert_eq!(store.follow_up(9).unwrap().unwrap().state, FollowUpState::Open);

    match undo(&store).unwrap() {
        UndoOutcome::Undone { done, accounts, restored, .. } => {
            assert_eq!((done, accounts), (vec!["task on Acme".to_string()], vec![AccountId(1)]));
            assert_eq!(restored.len(), 1);
            assert_eq!(restored[0].id, created.id);
            assert!(matches!(restored[0].state, FollowUpState::Done { .. }), "given back done: off the queue");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.follow_up(created.id).unwrap(), None, "removed");
    assert_eq!(
        store
            .follow_ups_before(now() + Duration::days(30))
            .filter(|f| f.as_ref().unwrap().kind == FollowUpKind::Task)
            .count(),
        0
    );
    assert!(store.outbox().unwrap().is_empty());
    assert!(store.activities(AccountId(1)).unwrap().is_empty());
}

#[test]
fn a_task_from_two_items_of_one_account_is_made_once_and_a_later_done_on_it_undoes_first() {
    let (_dir, store, item) = store_with_a_ticket();
    let mut second = item.clone();
    second.id = 10;
    second.kind = FollowUpKind::CheckIn;
    let mut b = Batch::default();
    b.put_follow_up(&second, None);
    store.apply(b).unwrap();
    let report = apply(&store, &[item, second], &task(false), &dana()).unwrap();
    assert_eq!((report.queued, report.changed.len()), (0, 1), "one task, local only");
    let created = report.changed[0].clone();
    let later = Author::new("dana", now() + Duration::minutes(5));
    apply(&store, std::slice::from_ref(&created), &FollowUpAction::Done, &later).unwrap();
    assert!(matches!(store.follow_up(created.id).unwrap().unwrap().state, FollowUpState::Done { .. }));
    // Down to the task: the done on it goes first, then the task itself.
    let seq = history(&store).unwrap()[1].seq;
    match undo_to(&store, seq).unwrap() {
        UndoOutcome::Undone { done, restored, .. } => {
            assert_eq!(done, ["done on Acme (task)", "task on Acme"]);
            assert!(matches!(restored.iter().find(|f| f.id == created.id).unwrap().state, FollowUpState::Done { .. }));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.follow_up(created.id).unwrap(), None);
}
