use std::collections::HashSet;

use super::*;
use crate::domain::followup::FollowUpKind;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
}

fn demo() -> (tempfile::TempDir, Store, Generated) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let g = generate(&store, &DemoSpec { accounts: DEFAULT_ACCOUNTS, seed: DEFAULT_SEED, now: now() }).unwrap();
    (tmp, store, g)
}

#[test]
fn same_seed_same_book() {
    let (_a, s1, g1) = demo();
    let (_b, s2, g2) = demo();
    assert_eq!(g1, g2);
    let r1: Vec<_> = s1.rows().map(Result::unwrap).collect();
    let r2: Vec<_> = s2.rows().map(Result::unwrap).collect();
    assert_eq!(r1, r2);
    let tmp = tempfile::tempdir().unwrap();
    let s3 = Store::open(tmp.path()).unwrap();
    generate(&s3, &DemoSpec { accounts: DEFAULT_ACCOUNTS, seed: 7, now: now() }).unwrap();
    let r3: Vec<_> = s3.rows().map(Result::unwrap).collect();
    assert_ne!(r1, r3, "another seed, another book");
}

#[test]
fn covers_every_stage_segment_and_outcome() {
    let (_t, store, g) = demo();
    assert_eq!(g.accounts, DEFAULT_ACCOUNTS);
    let accounts: Vec<Account> = store.accounts().map(Result::unwrap).collect();
    let stages: HashSet<Stage> = accounts.iter().map(|a| a.stage).collect();
    assert_eq!(stages.len(), 9, "every lifecycle stage is populated: {stages:?}");
    let segments: HashSet<Segment> = accounts.iter().map(|a| a.segment).collect();
    assert_eq!(segments.len(), 3);
    let churned =
        accounts.iter().filter(|a| matches!(a.outcome, Some(Outcome { kind: OutcomeKind::Churned, .. }))).count();
    let renewed =
        accounts.iter().filter(|a| matches!(a.outcome, Some(Outcome { kind: OutcomeKind::Renewed, .. }))).count();
    assert!(churned >= 8 && renewed >= 8, "churned {churned}, renewed {renewed}");
    let today = now().date_naive();
    let live = |a: &&Account| a.stage.is_active() && a.stage != Stage::Renewed;
    assert!(accounts.iter().filter(live).any(|a| (31..=90).contains(&a.days_to_renewal(today))));
    assert!(accounts.iter().filter(live).any(|a| (0..=30).contains(&a.days_to_renewal(today))));
    for a in &accounts {
        let contacts = store.contacts(a.id).unwrap();
        assert!(contacts.len() >= 2, "{} has {} contacts", a.name, contacts.len());
        assert_eq!(contacts.iter().filter(|c| c.key_person).count(), 1);
        assert_eq!(a.key_people.len(), 1);
        assert!(store.nps(a.id).unwrap().iter().all(|n| n.score <= 10));
    }
    let totals = store.stage_totals().unwrap();
    assert_eq!(totals.accounts(), DEFAULT_ACCOUNTS);
    assert_eq!(totals.arr.iter().sum::<u64>(), accounts.iter().map(|a| a.arr).sum::<u64>());
}

#[test]
fn a_year_of_history_scored_from_kept_inputs() {
    let (_t, store, _) = demo();
    let today = now().date_naive();
    let model = Model::builtin_ref();
    let mut full_year = 0;
    let mut dropped = 0;
    for row in store.rows().map(Result::unwrap) {
        let h = store.health_history(row.id, today - Duration::days(364), today).unwrap();
        let (last_day, last) = h.latest().expect("every account has history");
        assert_eq!(row.health, Some(last), "row health is the latest score");
        let day = store.day_signals(row.id, last_day).unwrap().expect("the day's inputs are kept");
        let again = model.score(&day.inputs(), day.stage().unwrap(), row.segment).score;
        assert_eq!(again, Some(last), "the stored score is the model's score of the stored inputs");
        if h.scores.iter().flatten().count() == 365 {
            full_year += 1;
        }
        if row.delta_30d().is_some_and(|d| d <= -10) {
            dropped += 1;
        }
    }
    assert!(full_year > 50, "{full_year} accounts with a full year");
    assert!(dropped > 5, "{dropped} accounts with a visible drop");
    assert_eq!(store.model_stamp().unwrap().unwrap().version, model.version);
    assert_eq!(store.ensure_model(model, today).unwrap(), None, "generated under the model in force");
}

#[test]
fn the_daily_pass_on_the_day_of_generation_changes_no_score() {
    let (_t, store, _) = demo();
    let before: Vec<_> = store.rows().map(Result::unwrap).collect();
    let follow_ups =
        |s: &Store| s.follow_ups_before(now() + Duration::days(800)).map(Result::unwrap).collect::<Vec<_>>();
    let items = follow_ups(&store);
    let (flags, bands) = (FlagRules::default(), Bands::default());
    let rules = crate::store::HealthRules { model: Model::builtin_ref(), flags: &flags, bands: &bands };
    let r = store.daily_health(rules, now()).unwrap();
    assert_eq!(r.raised, 0, "the demo raised its flags, lifecycle and ticket follow-ups already");
    assert_eq!(r.cleared, 0);
    let after: Vec<_> = store.rows().map(Result::unwrap).collect();
    assert_eq!(before, after);
    assert_eq!(items, follow_ups(&store), "every follow-up as generated, reasons included");
}

#[test]
fn tickets_in_every_state_and_every_rule_trips() {
    let (_t, store, g) = demo();
    assert!(g.tickets > 200);
    let mut statuses = HashSet::new();
    for a in store.accounts().map(Result::unwrap) {
        for t in store.tickets(a.id).unwrap() {
            statuses.insert(t.status);
        }
    }
    assert_eq!(statuses.len(), TicketStatus::ALL.len());
    // (No onboarding check-in: every demo account in onboarding has had
    // contact since it began.)
    let kinds: HashSet<FollowUpKind> =
        store.follow_ups_before(now() + Duration::days(400)).map(|f| f.unwrap().kind).collect();
    for k in [
        FollowUpKind::TicketNoReply,
        FollowUpKind::TicketSeen,
        FollowUpKind::TicketClose,
        FollowUpKind::EscalateManager,
        FollowUpKind::EscalateEngineering,
        FollowUpKind::Kickoff,
        FollowUpKind::ProficiencyCheck,
        FollowUpKind::NpsSurvey,
        FollowUpKind::RenewalPrep,
        FollowUpKind::RenewalSigning,
        FollowUpKind::HealthRisk,
        FollowUpKind::Upsell,
    ] {
        assert!(kinds.contains(&k), "no {k:?} follow-up in the demo");
    }
}

#[test]
fn ensure_generates_once() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    assert!(ensure(&store, now()).unwrap());
    let id = store.first_rows(1).unwrap()[0].id;
    store.set_stage(id, Stage::Renewed, "t", now()).unwrap();
    assert!(!ensure(&store, now()).unwrap(), "an existing demo is kept, with its edits");
    assert_eq!(store.row(id).unwrap().unwrap().stage, Stage::Renewed);
}
