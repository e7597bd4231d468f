//! Queueing the health for the CRM on a real store: only changes are
//! queued, a newer write replaces an older one not yet on its way, churned
//! and support-only accounts are left out, and the CSM's undo is untouched.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::domain::flags::FlagRules;
use crate::domain::health_model::Model;
use crate::domain::outbox::{OutboxEntry, OutboxState, Write};
use crate::domain::rollup::derive_row;
use crate::domain::write_back::WriteBack;
use crate::domain::{Account, AccountId, Activity, ActivityKind, Band, Bands, Segment, Stage};
use crate::engine::act::UndoOutcome;
use crate::store::{HealthRules, StageTotals};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

fn account(id: u64, stage: Stage) -> Account {
    let today = now().date_naive();
    Account {
        id: AccountId(id),
        name: format!("Account {id}"),
        domain: format!("a{id}.example"),
        segment: Segment::MidMarket,
        industry: "Retail".into(),
        region: "EMEA".into(),
        owner: "Dana".into(),
        plan: "Pro".into(),
        seats: 20,
        arr: 20_000,
        contract_start: today - Duration::days(200),
        renewal_date: today + Duration::days(200),
        stage,
        key_people: vec![],
        outcome: None,
    }
}

/// Account 1 live, 2 churned, 3 a support organization of its own; each
/// with a call 10 days ago, scored today.
fn scored() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let mut b = Batch::default();
    let mut totals = StageTotals::default();
    for a in [account(1, Stage::Adoption), account(2, Stage::Churned), account(3, Stage::Adoption)] {
        b.put_account(&a);
        b.put_row(None, &derive_row(&a, &Default::default(), &[], &[]), &mut totals);
        b.put_activity(&Activity {
            id: 100 + a.id.0,
            account_id: a.id,
            at: now() - Duration::days(10),
            kind: ActivityKind::Call,
            summary: "call".into(),
            author: "Dana".into(),
        });
    }
    b.put_totals(&totals);
    b.insert(keys::with_id(keys::SUPPORT_ONLY, AccountId(3)), Vec::new());
    s.apply(b).unwrap();
    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    s.daily_health(HealthRules { model: &model, flags: &flags, bands: &bands }, now()).unwrap();
    (tmp, s)
}

fn wb() -> WriteBack {
    WriteBack {
        score: Some("cockpit_health_score".into()),
        band: Some("cockpit_health_band".into()),
        reason: Some("cockpit_health_reason".into()),
        source: None,
    }
}

fn health(s: &Store) -> Vec<OutboxEntry> {
    s.outbox().unwrap().into_iter().filter(|e| e.write.is_health()).collect()
}

#[test]
fn only_changes_are_queued_and_a_newer_write_replaces_the_waiting_one() {
    let (_tmp, s) = scored();
    let model = Model::builtin();
    let r =
        queue_health_writes(&s, &WriteBackRules { write_back: &wb(), model: &model, bands: &Bands::default() }, now())
            .unwrap();
    assert_eq!((r.queued, r.replaced, r.unchanged), (1, 0, 0), "churned and support-only accounts are not written");
    let first = health(&s);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].account_id, AccountId(1));
    let Write::Health { score, band, reason } = &first[0].write else { panic!("{first:?}") };
    assert_eq!(Some(*score), s.row(AccountId(1)).unwrap().unwrap().health, "the score shown is the score written");
    assert_eq!(first[0].write.describe(), format!("health {score} {}", band.key()));
    assert!(!reason.is_empty());
    assert_eq!(s.health_written(AccountId(1)).unwrap().map(|v| v.score), Some(*score));

    let again =
        queue_health_writes(&s, &WriteBackRules { write_back: &wb(), model: &model, bands: &Bands::default() }, now())
            .unwrap();
    assert_eq!((again.queued, again.unchanged), (0, 1), "nothing changed: nothing queued");
    assert_eq!(health(&s), first);

    // Stricter bands: the band changes, the waiting write is replaced.
    let strict = Bands { green: 100, yellow: 99 };
    let r =
        queue_health_writes(&s, &WriteBackRules { write_back: &wb(), model: &model, bands: &strict }, now()).unwrap();
    assert_eq!((r.queued, r.replaced), (1, 1));
    let now_pending = health(&s);
    assert_eq!(now_pending.len(), 1, "never two pending: {now_pending:?}");
    assert!(matches!(now_pending[0].write, Write::Health { band: Band::Red, .. }));
    assert!(now_pending[0].id > first[0].id, "the newer one goes later");

    // A band-only write-back does not care that the reason or score moved.
    let band_only = WriteBack { band: Some("b".into()), ..WriteBack::default() };
    assert_eq!(
        queue_health_writes(&s, &WriteBackRules { write_back: &band_only, model: &model, bands: &strict }, now())
            .unwrap()
            .queued,
        0
    );
}

#[test]
fn a_write_on_its_way_is_kept_and_undo_is_untouched() {
    let (_tmp, s) = scored();
    let model = Model::builtin();
    crate::engine::act::set_stage(&s, AccountId(1), Stage::Expansion, &crate::engine::act::Author::new("Dana", now()))
        .unwrap();
    queue_health_writes(&s, &WriteBackRules { write_back: &wb(), model: &model, bands: &Bands::default() }, now())
        .unwrap();
    let sent = health(&s)[0].clone();
    s.outbox_claim(sent.id, now()).unwrap().expect("due");
    // Two changes while the first request is out: one pending besides it.
    for bands in [Bands { green: 100, yellow: 99 }, Bands { green: 2, yellow: 1 }] {
        queue_health_writes(&s, &WriteBackRules { write_back: &wb(), model: &model, bands: &bands }, now()).unwrap();
    }
    let entries = health(&s);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(matches!(entries[0].state, OutboxState::Unsure { .. }) && entries[0].id == sent.id);
    assert_eq!(
        (entries[1].state.clone(), entries[1].write.describe().ends_with("green")),
        (OutboxState::Pending, true)
    );
    // The CSM's stage move is still theirs to take back, health writes aside.
    match crate::engine::act::undo(&s).unwrap() {
        UndoOutcome::Undone { done, .. } => assert!(done[0].starts_with("stage move"), "{done:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(health(&s).len(), 2, "undo leaves the health writes alone");
    assert!(s.outbox().unwrap().iter().all(|e| e.write.is_health()), "the stage write went with the undo");
}
