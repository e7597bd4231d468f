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
fn a_generated_workspace_leaves_nothing_for_the_pass_after_a_change() {
    // Generated scored: the first start scores no account again (it scored
    // the whole book in the background, as if every account had changed).
    let (_t, store, _) = demo();
    let (flags, bands) = (FlagRules::default(), Bands::default());
    let rules = crate::store::HealthRules { model: Model::builtin_ref(), flags: &flags, bands: &bands };
    let mut pass = crate::store::SincePass::default();
    while store.since_step(rules, now(), &mut pass, 1_000).unwrap() {}
    assert_eq!(pass.report.scored, 0);
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

#[test]
fn the_demo_is_not_circular_risk_shows_in_some_signals_and_not_others() {
    let (_t, store, _) = demo();
    let model = Model::builtin_ref();
    let r = crate::report::backtest::compute(&store, model, Bands::default(), 90, None).unwrap();
    let auc = r.overall().and_then(|f| f.auc).unwrap();
    assert!(auc > 0.6, "the model still finds the usage story: AUC {auc}");
    assert!(auc < 0.9, "but the demo is not drawn to agree with the model: AUC {auc}");
    assert_eq!(r.with_inputs, r.outcomes, "every outcome kept its inputs");
    let of = |m: Measure| r.measures.iter().find(|f| f.measure == m).unwrap();
    // Usage falls before churns: alone it predicts, and the model loses without it.
    let usage = of(Measure::Usage);
    assert!(usage.auc_alone.unwrap() > 0.6 && usage.drop.unwrap() > 0.0, "{usage:?}");
    // Some weighed inputs say nothing here.
    let flat: Vec<_> = r
        .measures
        .iter()
        .filter(|f| f.known * 2 >= r.outcomes && f.auc_alone.is_some_and(|a| (0.4..=0.6).contains(&a)))
        .map(|f| f.measure)
        .collect();
    assert!(!flat.is_empty(), "no weighed input is noise: {:?}", r.measures);
}

#[test]
fn the_outcome_depends_on_the_story_not_on_the_model() {
    // Many accounts, so rates are stable: churns with no warning in usage
    // are common, and falling usage is far from a sentence.
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    generate(&store, &DemoSpec { accounts: 1200, seed: DEFAULT_SEED, now: now() }).unwrap();
    let (mut churned, mut quiet_churns, mut renewed, mut falling_renewals) = (0, 0, 0, 0);
    for a in store.accounts().map(Result::unwrap) {
        let Some(o) = a.outcome else { continue };
        let at = o.on - Duration::days(90);
        let Some(usage) = store.day_signals(a.id, at).unwrap().and_then(|d| d.get(Measure::Usage)) else { continue };
        match o.kind {
            OutcomeKind::Churned => {
                churned += 1;
                quiet_churns += usize::from(usage >= 0.97);
            }
            OutcomeKind::Renewed => {
                renewed += 1;
                falling_renewals += usize::from(usage < 0.9);
            }
        }
    }
    assert!(churned > 100 && renewed > 100, "{churned} churned, {renewed} renewed");
    let quiet = quiet_churns as f64 / churned as f64;
    assert!(quiet > 0.2, "churns out of the blue (or with a late warning): {quiet}");
    assert!(falling_renewals > 5, "some renew despite falling usage: {falling_renewals}");
}
