use super::*;
use crate::domain::{Measure, Segment};
use chrono::TimeZone;
use chrono::{Datelike, Duration, NaiveDate};

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

pub(crate) fn account(id: u64, stage: Stage) -> Account {
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
        arr: 10_000 * id,
        contract_start: today - Duration::days(100),
        renewal_date: today + Duration::days(265),
        stage,
        key_people: vec![],
        outcome: None,
    }
}

pub(crate) fn row(a: &Account, health: Option<u8>) -> AccountRow {
    AccountRow {
        id: a.id,
        name: a.name.clone(),
        segment: a.segment,
        arr: a.arr,
        stage: a.stage,
        renewal_date: a.renewal_date,
        health,
        health_7d_ago: None,
        health_30d_ago: None,
        open_tickets: 0,
        last_touch: None,
    }
}

pub(crate) fn seed(store: &Store) {
    let mut b = Batch::default();
    let mut totals = StageTotals::default();
    for (id, stage, health) in
        [(1, Stage::Adoption, Some(80)), (2, Stage::Adoption, Some(20)), (3, Stage::Onboarding, None)]
    {
        let a = account(id, stage);
        b.put_account(&a);
        b.put_row(None, &row(&a, health), &mut totals);
    }
    b.put_totals(&totals);
    store.apply(b).unwrap();
}

#[test]
fn creates_private_dir_and_reopens_after_close() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    {
        let s = Store::open(&dir).unwrap();
        assert_eq!(s.schema(), migrate::CURRENT);
        seed(&s);
        s.set_workspace(&WorkspaceMeta { name: "t".into(), demo_seed: Some(1), created: now() }).unwrap();
        s.flush().unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let s = Store::open(&dir).unwrap();
    assert_eq!(s.workspace().unwrap().unwrap().name, "t");
    assert_eq!(s.account(AccountId(2)).unwrap().unwrap().name, "Account 2");
    assert_eq!(s.rows().count(), 3);
}

#[test]
fn tightens_an_open_directory() {
    let tmp = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        drop(Store::open(tmp.path()).unwrap());
        assert_eq!(std::fs::metadata(tmp.path()).unwrap().permissions().mode() & 0o777, 0o700);
    }
}

#[test]
fn second_open_says_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let _first = Store::open(tmp.path()).unwrap();
    let err = Store::open(tmp.path()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("already open in another running cockpit"));
}

#[test]
fn newer_schema_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path()).unwrap();
        s.tree.insert(keys::SCHEMA, &(migrate::CURRENT + 1).to_be_bytes()).unwrap();
        s.flush().unwrap();
    }
    let err = Store::open(tmp.path()).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == migrate::CURRENT + 1));
    assert!(err.to_string().contains("upgrade cockpit"));
}

#[test]
fn older_schema_without_a_step_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path()).unwrap();
        s.tree.insert(keys::SCHEMA, &0u32.to_be_bytes()).unwrap();
        s.flush().unwrap();
    }
    assert!(matches!(Store::open(tmp.path()).unwrap_err(), StoreError::NoMigration { from: 0 }));
}

#[test]
fn a_file_where_the_directory_should_be_is_unreadable() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&file).unwrap_err();
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"));
}

#[test]
fn indexes_serve_the_default_order_and_kanban() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    seed(&s);
    let ids: Vec<u64> = s.first_rows(10).unwrap().iter().map(|r| r.id.0).collect();
    assert_eq!(ids, vec![2, 1, 3], "lowest health first, no score last");
    assert_eq!(s.first_rows(1).unwrap().len(), 1);
    let col: Vec<u64> = s.stage_rows(Stage::Adoption, 10).unwrap().iter().map(|r| r.id.0).collect();
    assert_eq!(col, vec![2, 1]);
    let t = s.stage_totals().unwrap();
    assert_eq!(t.count[Stage::Adoption.index()], 2);
    assert_eq!(t.arr[Stage::Adoption.index()], 30_000);
    assert_eq!(t.accounts(), 3);
}

#[test]
fn health_history_spans_years() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let id = AccountId(1);
    let dec31 = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut y25 = YearSeries::new();
    y25.set(dec31, Some(61));
    let mut y26 = YearSeries::new();
    y26.set(jan1, Some(62));
    // 2025 as written before pages; 2026 in a page.
    let mut b = Batch::default();
    b.put_legacy_series(id, 2025, &y25);
    let mut pages = pages::PageCache::default();
    *pages.series(&s, id, 2026).unwrap() = y26;
    pages.flush_into(&mut b);
    s.apply(b).unwrap();
    let h = s.health_history(id, dec31 - Duration::days(1), jan1 + Duration::days(1)).unwrap();
    assert_eq!(h.scores, vec![None, Some(61), Some(62), None]);
}

mod health {
    use super::*;
    use crate::domain::flags::FlagRules;
    use crate::domain::health_model::{Model, DEFAULT_MODEL};
    use crate::domain::{Activity, ActivityKind, Bands, FollowUpKind, FollowUpState};

    fn rules<'a>(model: &'a Model, flags: &'a FlagRules, bands: &'a Bands) -> HealthRules<'a> {
        HealthRules { model, flags, bands }
    }

    fn call(id: u64, account: AccountId, at: DateTime<Utc>) -> Activity {
        Activity { id, account_id: account, at, kind: ActivityKind::Call, summary: "call".into(), author: "d".into() }
    }

    fn health_flags(s: &Store) -> Vec<FollowUp> {
        s.follow_ups_before(now() + Duration::days(400))
            .map(Result::unwrap)
            .filter(|f| f.kind == FollowUpKind::HealthRisk)
            .collect()
    }

    /// Runs the daily pass on `days` consecutive days with a call `silent`
    /// days before the first, so silence grows past the 30-day line.
    #[test]
    fn daily_pass_scores_each_day_and_raises_a_flag_once_until_it_clears() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        seed(&s);
        let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
        let id = AccountId(1);
        let mut b = Batch::default();
        b.put_activity(&call(1, id, now() - Duration::days(29)));
        s.apply(b).unwrap();

        let r = s.daily_health(rules(&model, &flags, &bands), now()).unwrap();
        assert_eq!(r.scored, 3);
        assert!(health_flags(&s).iter().all(|f| f.account_id != id), "29 days is not silence yet");
        let first = s.row(id).unwrap().unwrap().health.expect("scored today");
        let day = s.day_signals(id, now().date_naive()).unwrap().expect("inputs kept");
        assert_eq!(day.get(Measure::Engagement), Some(29.0));

        let r = s.daily_health(rules(&model, &flags, &bands), now() + Duration::days(1)).unwrap();
        assert_eq!(r.raised, 2, "silence at 30 days, and the mid-market monthly check-in");
        let check_ins: Vec<FollowUp> = s
            .follow_ups_before(now() + Duration::days(400))
            .map(Result::unwrap)
            .filter(|f| f.kind == FollowUpKind::CheckIn)
            .collect();
        assert_eq!(check_ins.len(), 1);
        assert!(
            check_ins[0]
                .reason
                .starts_with("Monthly check-in (mid-market): no two-way contact for 30 days; talk about"),
            "{}",
            check_ins[0].reason
        );
        let raised = health_flags(&s);
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].reason, "no reply from the customer for 30 days");
        let row = s.row(id).unwrap().unwrap();
        assert!(row.health.unwrap() <= first);
        assert_eq!(s.last_daily().unwrap(), Some(now().date_naive() + Duration::days(1)));

        // Done, and still silent: it does not come back.
        let mut done = raised[0].clone();
        done.state = FollowUpState::Done { at: now() + Duration::days(1) };
        let mut b = Batch::default();
        b.put_follow_up(&done, None);
        s.apply(b).unwrap();
        let r = s.daily_health(rules(&model, &flags, &bands), now() + Duration::days(2)).unwrap();
        assert_eq!(r.raised, 0);
        assert_eq!(health_flags(&s).len(), 1);

        // The customer calls: the flag clears; silence again later re-fires.
        let mut b = Batch::default();
        b.put_activity(&call(2, id, now() + Duration::days(3)));
        s.apply(b).unwrap();
        let r = s.daily_health(rules(&model, &flags, &bands), now() + Duration::days(3)).unwrap();
        assert_eq!(r.cleared, 2, "the call clears silence and the check-in");
        let r = s.daily_health(rules(&model, &flags, &bands), now() + Duration::days(33)).unwrap();
        assert_eq!(r.raised, 2, "silence (and the check-in) came back");
        let open: Vec<_> = health_flags(&s).into_iter().filter(|f| f.state == FollowUpState::Open).collect();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].reason, "no reply from the customer for 30 days");

        // Still open the next day: the same item, its reason kept true.
        s.daily_health(rules(&model, &flags, &bands), now() + Duration::days(34)).unwrap();
        let open: Vec<_> = health_flags(&s).into_iter().filter(|f| f.state == FollowUpState::Open).collect();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].reason, "no reply from the customer for 31 days");
    }

    #[test]
    fn a_model_change_rewrites_the_history_and_records_its_version() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        seed(&s);
        let (builtin, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
        let id = AccountId(1);
        let mut b = Batch::default();
        b.put_activity(&call(1, id, now() - Duration::days(20)));
        s.apply(b).unwrap();
        for d in 0..10 {
            s.daily_health(rules(&builtin, &flags, &bands), now() + Duration::days(d)).unwrap();
        }
        let last = now().date_naive() + Duration::days(9);
        let before = s.health_history(id, now().date_naive(), last).unwrap();
        assert_eq!(s.ensure_model(&builtin, last).unwrap(), None, "same model: nothing to do");

        let stricter = DEFAULT_MODEL
            .replace("version = 3", "version = 4")
            .replace("linear = { zero_at = 60, full_at = 7 }", "linear = { zero_at = 30, full_at = 7 }");
        let stricter = Model::parse(&stricter).unwrap();
        let r = s.ensure_model(&stricter, last).unwrap().expect("rescored");
        assert_eq!(r.accounts, 3);
        assert!(r.rewritten >= 3);
        let after = s.health_history(id, now().date_naive(), last).unwrap();
        assert_eq!(after.scores.iter().flatten().count(), 10, "every day rescored, none lost");
        for (a, b) in after.scores.iter().zip(&before.scores) {
            assert!(a.unwrap() <= b.unwrap(), "stricter on silence: {a:?} vs {b:?}");
        }
        assert!(after.scores != before.scores);
        assert_eq!(s.year_series(id, last.year()).unwrap().unwrap().model_version(), 4);
        assert_eq!(s.model_stamp().unwrap().unwrap().version, 4);
        let row = s.row(id).unwrap().unwrap();
        assert_eq!(row.health, after.at(last));
        assert_eq!(row.health_7d_ago, after.at(last - Duration::days(7)));
        // The same scores as a fresh daily pass under the new model would give.
        let check = s.day_signals(id, last).unwrap().unwrap();
        let fresh = stricter.score(&check.inputs(), Stage::Adoption, Segment::MidMarket).score;
        assert_eq!(row.health, fresh);
    }

    #[test]
    fn a_churned_account_loses_its_open_flags() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        seed(&s);
        let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
        let id = AccountId(2);
        let mut b = Batch::default();
        b.put_activity(&call(1, id, now() - Duration::days(40)));
        s.apply(b).unwrap();
        s.daily_health(rules(&model, &flags, &bands), now()).unwrap();
        assert!(health_flags(&s).iter().any(|f| f.account_id == id && f.state == FollowUpState::Open));
        s.set_stage(id, Stage::Churned, "dana", now()).unwrap();
        let r = s.daily_health(rules(&model, &flags, &bands), now() + Duration::days(1)).unwrap();
        assert!(r.cleared >= 1);
        assert!(health_flags(&s).iter().all(|f| f.account_id != id), "no churn warning for a customer who left");
    }

    #[test]
    fn history_kept_before_pages_survives_the_first_daily_pass() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        seed(&s);
        let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
        let id = AccountId(1);
        let today = now().date_naive();
        let mut old = YearSeries::new();
        old.set(today - Duration::days(7), Some(55));
        let mut b = Batch::default();
        b.put_legacy_series(id, today.year(), &old);
        s.apply(b).unwrap();
        s.daily_health(rules(&model, &flags, &bands), now()).unwrap();
        let h = s.health_history(id, today - Duration::days(7), today).unwrap();
        assert_eq!(h.scores[0], Some(55), "the old day is still there");
        assert!(h.scores[7].is_some(), "and today is scored");
        assert_eq!(s.row(id).unwrap().unwrap().health_7d_ago, Some(55));
    }

    #[test]
    fn sentiment_set_from_the_cockpit_moves_the_score_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        seed(&s);
        let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
        let id = AccountId(2);
        s.daily_health(rules(&model, &flags, &bands), now()).unwrap();
        let before = s.row(id).unwrap().unwrap().health.unwrap();
        let row = s.set_sentiment(id, 1, "dana", rules(&model, &flags, &bands), now()).unwrap();
        assert!(row.health.unwrap() < before, "{:?} vs {before}", row.health);
        let m = s.manual_signals(id).unwrap().unwrap();
        assert_eq!(m.sentiment.as_ref().map(|x| (x.value, x.by.as_str())), Some((1, "dana")));
        assert_eq!(s.day_signals(id, now().date_naive()).unwrap().unwrap().get(Measure::Sentiment), Some(1.0));
    }
}

#[test]
fn follow_ups_come_back_by_due_time() {
    use crate::domain::{FollowUpKind, FollowUpState, Priority};
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let mk = |id: u64, due: DateTime<Utc>| FollowUp {
        id,
        account_id: AccountId(1),
        ticket_id: None,
        kind: FollowUpKind::CheckIn,
        reason: format!("r{id}"),
        due,
        priority: Priority::Normal,
        state: FollowUpState::Open,
    };
    let mut b = Batch::default();
    b.put_follow_up(&mk(1, now() + Duration::days(2)), None);
    b.put_follow_up(&mk(2, now() - Duration::days(2)), None);
    b.put_follow_up(&mk(3, now()), None);
    s.apply(b).unwrap();
    let ids: Vec<u64> = s.follow_ups_before(now() + Duration::days(1)).map(|f| f.unwrap().id).collect();
    assert_eq!(ids, vec![2, 3]);
    // Re-dating removes the old entry.
    let mut moved = mk(2, now() + Duration::days(5));
    moved.state = FollowUpState::Open;
    let mut b = Batch::default();
    b.put_follow_up(&moved, Some(now() - Duration::days(2)));
    s.apply(b).unwrap();
    let ids: Vec<u64> = s.follow_ups_before(now() + Duration::days(1)).map(|f| f.unwrap().id).collect();
    assert_eq!(ids, vec![3]);
    assert_eq!(s.follow_up(2).unwrap().unwrap().due, now() + Duration::days(5));
    assert!(s.follow_up(42).unwrap().is_none());
}

#[test]
fn a_damaged_database_is_reported_not_silently_emptied() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path()).unwrap();
        seed(&s);
        s.flush().unwrap();
    }
    // Overwrite the start of sled's data file: its recovery then finds no
    // records, which must not pass for a new, empty workspace.
    let file = tmp.path().join("db").join("db");
    let len = std::fs::metadata(&file).unwrap().len() as usize;
    std::fs::write(&file, vec![0xA5u8; len]).unwrap();
    match Store::open(tmp.path()) {
        Err(StoreError::Corrupt { path, .. }) => assert_eq!(path, tmp.path()),
        Err(other) => assert!(other.to_string().contains(&tmp.path().display().to_string()), "{other}"),
        Ok(s) => panic!("opened a damaged workspace as if fine: {} rows", s.rows().count()),
    }
}

pub(crate) fn ticket(id: u64, account: AccountId, frustrated: bool) -> Ticket {
    Ticket {
        id,
        account_id: account,
        subject: "Export fails".into(),
        status: crate::domain::TicketStatus::Open,
        priority: crate::domain::TicketPriority::Normal,
        team: crate::domain::Team::Unassigned,
        requester: "user 1".into(),
        created_at: now() - Duration::days(6),
        updated_at: now() - Duration::days(3),
        last_customer_reply: Some(now() - Duration::days(6)),
        last_agent_reply: Some(now() - Duration::days(3)),
        seen_by_customer: false,
        complex: false,
        frustrated,
        bug: false,
        escalated: false,
        follow_ups_sent: 0,
    }
}
