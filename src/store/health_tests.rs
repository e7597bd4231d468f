//! The daily pass with the lifecycle rules and the ticket rules, on a real
//! store in a temporary directory.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

use super::super::{keys, Batch, FollowUpRules, StageTotals, Store};
use super::HealthRules;
use crate::domain::flags::FlagRules;
use crate::domain::health_model::Model;
use crate::domain::rollup::derive_row;
use crate::domain::rules::start_of;
use crate::domain::{
    Account, AccountId, Activity, ActivityKind, Bands, FollowUp, FollowUpKind, FollowUpState, Segment, Stage, Team,
    Ticket, TicketPriority, TicketStatus,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

fn account(id: u64, stage: Stage, signed_ago: i64, renew_in: i64) -> Account {
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
        contract_start: today - Duration::days(signed_ago),
        renewal_date: today + Duration::days(renew_in),
        stage,
        key_people: vec![],
        outcome: None,
    }
}

/// A store holding `accounts`, with a recent call on each so no silence
/// flag or check-in muddles the counts.
fn store(accounts: &[Account]) -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let mut b = Batch::default();
    let mut totals = StageTotals::default();
    for a in accounts {
        b.put_account(a);
        b.put_row(None, &derive_row(a, &Default::default(), &[], &[]), &mut totals);
    }
    b.put_totals(&totals);
    s.apply(b).unwrap();
    (tmp, s)
}

fn pass(s: &Store, at: DateTime<Utc>) -> super::DailyReport {
    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    s.daily_health(HealthRules { model: &model, flags: &flags, bands: &bands }, at).unwrap()
}

fn items(s: &Store, id: AccountId, kind: FollowUpKind) -> Vec<FollowUp> {
    s.follow_ups_before(now() + Duration::days(800))
        .map(Result::unwrap)
        .filter(|f| f.account_id == id && f.kind == kind)
        .collect()
}

fn call(id: u64, account: AccountId, at: DateTime<Utc>) -> Activity {
    Activity { id, account_id: account, at, kind: ActivityKind::Call, summary: "call".into(), author: "d".into() }
}

fn mark_done(s: &Store, f: &FollowUp, at: DateTime<Utc>) {
    let mut done = f.clone();
    done.state = FollowUpState::Done { at };
    let mut b = Batch::default();
    if f.ticket_id.is_some() {
        // Filed through its ticket's slot: no `fi` entry.
        b.insert(keys::follow_up(done.due, done.id), super::encode(&done));
    } else {
        b.put_follow_up(&done, None);
    }
    s.apply(b).unwrap();
}

fn day(n: i64) -> DateTime<Utc> {
    now() + Duration::days(n)
}

#[test]
fn renewal_preparation_is_raised_once_kept_true_and_cleared_with_its_window() {
    let a = account(1, Stage::Adoption, 275, 91);
    let (_t, s) = store(std::slice::from_ref(&a));
    pass(&s, day(0));
    assert!(items(&s, a.id, FollowUpKind::RenewalPrep).is_empty(), "91 days out");
    let survey = items(&s, a.id, FollowUpKind::NpsSurvey);
    assert_eq!(survey.len(), 1, "the pre-renewal survey, no answer on record");
    assert_eq!(survey[0].reason, "Renews in 91 days, no NPS answer yet: survey now, before renewal preparation starts");

    let r = pass(&s, day(1));
    assert_eq!((r.raised, r.cleared), (1, 1), "prep starts at 90 days; the survey window closes");
    assert!(items(&s, a.id, FollowUpKind::NpsSurvey).is_empty(), "an open survey item leaves the queue");
    let prep = items(&s, a.id, FollowUpKind::RenewalPrep);
    assert_eq!(prep.len(), 1);
    assert_eq!(prep[0].due, start_of(a.renewal_date - Duration::days(90)));
    assert_eq!(prep[0].reason, format!("Renews in 90 days ({}): confirm the KP's intent and budget", a.renewal_date));

    // Open the next day: the same item, its reason kept true.
    let r = pass(&s, day(2));
    assert_eq!((r.raised, r.cleared), (0, 0));
    let kept = items(&s, a.id, FollowUpKind::RenewalPrep);
    assert_eq!(kept[0].id, prep[0].id);
    assert!(kept[0].reason.starts_with("Renews in 89 days"), "{}", kept[0].reason);

    // Done while the window holds: not raised again.
    mark_done(&s, &kept[0], day(2));
    assert_eq!(pass(&s, day(3)).raised, 0);
    assert_eq!(items(&s, a.id, FollowUpKind::RenewalPrep).len(), 1);

    // Preparation starts (the condition clears, the done item stays), then
    // the card goes back: the condition returns and raises a new item.
    s.set_stage(a.id, Stage::RenewalPrep, "dana", day(3)).unwrap();
    assert_eq!(pass(&s, day(4)).cleared, 1);
    assert_eq!(items(&s, a.id, FollowUpKind::RenewalPrep).len(), 1, "done stays");
    s.set_stage(a.id, Stage::Adoption, "dana", day(4)).unwrap();
    assert_eq!(pass(&s, day(5)).raised, 1);
    let again = items(&s, a.id, FollowUpKind::RenewalPrep);
    assert_eq!(again.iter().filter(|f| f.state == FollowUpState::Open).count(), 1);
}

#[test]
fn onboarding_gets_its_check_in_until_contact_and_its_proficiency_check_30_days_in() {
    let a = account(1, Stage::Onboarding, 0, 365);
    let (_t, s) = store(std::slice::from_ref(&a));
    // The card moved into onboarding this morning at 08:00.
    let moved = Activity {
        id: 9,
        account_id: a.id,
        at: now() - Duration::hours(1),
        kind: ActivityKind::StageChange,
        summary: "Moved from Delivery to Onboarding".into(),
        author: "dana".into(),
    };
    let mut b = Batch::default();
    b.put_activity(&moved);
    s.apply(b).unwrap();
    pass(&s, day(0));
    let check = items(&s, a.id, FollowUpKind::OnboardingCheckIn);
    assert_eq!(check.len(), 1);
    assert_eq!(check[0].due, moved.at + Duration::hours(48));
    assert!(items(&s, a.id, FollowUpKind::ProficiencyCheck).is_empty());

    // A call is the check-in: the open item leaves the queue.
    let mut b = Batch::default();
    b.put_activity(&call(10, a.id, now() + Duration::hours(3)));
    s.apply(b).unwrap();
    assert_eq!(pass(&s, day(1)).cleared, 1);
    assert!(items(&s, a.id, FollowUpKind::OnboardingCheckIn).is_empty());

    // Keep the account in touch so only the proficiency check is new.
    let mut b = Batch::default();
    b.put_activity(&call(11, a.id, day(28)));
    s.apply(b).unwrap();
    pass(&s, moved.at + Duration::days(30) - Duration::minutes(1));
    assert!(items(&s, a.id, FollowUpKind::ProficiencyCheck).is_empty(), "a minute short of 30 days");
    let r = pass(&s, moved.at + Duration::days(30));
    assert_eq!(r.raised, 1);
    let p = items(&s, a.id, FollowUpKind::ProficiencyCheck);
    assert_eq!(p[0].due, moved.at + Duration::days(30));

    // Leaving onboarding clears it, and starts the post-onboarding survey.
    s.set_stage(a.id, Stage::Adoption, "dana", day(31)).unwrap();
    let r = pass(&s, day(31) + Duration::hours(1));
    assert_eq!((r.raised, r.cleared), (1, 1));
    assert!(items(&s, a.id, FollowUpKind::ProficiencyCheck).is_empty());
    let survey = items(&s, a.id, FollowUpKind::NpsSurvey);
    assert_eq!(survey.len(), 1);
    assert_eq!(survey[0].due, day(31), "due the moment onboarding ended");
}

fn ticket(id: u64, account: AccountId, ours: DateTime<Utc>) -> Ticket {
    Ticket {
        id,
        account_id: account,
        subject: "Export fails".into(),
        status: TicketStatus::Pending,
        priority: TicketPriority::Normal,
        team: Team::Unassigned,
        requester: "Ann".into(),
        created_at: ours - Duration::days(1),
        updated_at: ours,
        last_customer_reply: Some(ours - Duration::hours(2)),
        last_agent_reply: Some(ours),
        seen_by_customer: false,
        complex: false,
        frustrated: false,
        bug: false,
        escalated: false,
        follow_ups_sent: 0,
    }
}

#[test]
fn an_unchanged_ticket_gets_its_follow_up_when_48_hours_pass() {
    let a = account(1, Stage::Adoption, 200, 165);
    let (_t, s) = store(std::slice::from_ref(&a));
    let ours = now() - Duration::hours(47) - Duration::minutes(59);
    let rules = Some(FollowUpRules { now: now(), high_value_arr: 100_000 });
    s.ingest_tickets("desk", &[(ticket(5, a.id, ours), None)], &[], None, rules).unwrap();
    assert!(s.ticket_follow_up("desk", 5).unwrap().is_none(), "47 h 59 m: not yet");
    let mut b = Batch::default();
    b.put_activity(&call(1, a.id, now()));
    s.apply(b).unwrap();
    pass(&s, now());
    assert!(s.ticket_follow_up("desk", 5).unwrap().is_none(), "the pass at 47 h 59 m raises nothing");

    // The ticket does not change; the next pass comes after 48 h.
    let at = ours + Duration::hours(48);
    let r = pass(&s, at);
    assert_eq!(r.raised, 1);
    let f = s.ticket_follow_up("desk", 5).unwrap().expect("48 h 00 m: follow up");
    assert_eq!((f.kind, f.due, f.ticket_id), (FollowUpKind::TicketNoReply, at, Some(5)));

    // Done, the same situation the next day: it stays done.
    mark_done(&s, &f, at);
    assert_eq!(pass(&s, at + Duration::hours(20)).raised, 0);
    let kept = s.ticket_follow_up("desk", 5).unwrap().unwrap();
    assert_eq!((kept.id, kept.state), (f.id, FollowUpState::Done { at }));

    // Five days: a new situation replaces it.
    let r = pass(&s, ours + Duration::days(5));
    assert_eq!(r.raised, 1);
    assert_eq!(s.ticket_follow_up("desk", 5).unwrap().unwrap().kind, FollowUpKind::TicketClose);
    let tickets: Vec<FollowUp> =
        s.follow_ups_before(now() + Duration::days(30)).map(Result::unwrap).filter(|f| f.ticket_id.is_some()).collect();
    assert_eq!(tickets.len(), 1, "one item per ticket");

    // Solved at the source: the sync clears it and the pass leaves it so.
    let mut solved = ticket(5, a.id, ours);
    solved.status = TicketStatus::Solved;
    s.ingest_tickets("desk", &[(solved, None)], &[], None, rules).unwrap();
    assert!(s.ticket_follow_up("desk", 5).unwrap().is_none());
    assert_eq!(pass(&s, ours + Duration::days(6)).raised, 0);
    assert!(s.ticket_follow_up("desk", 5).unwrap().is_none());
}

#[test]
fn ticket_sources_are_found_by_their_ticket_entries() {
    let a = account(1, Stage::Adoption, 200, 165);
    let (_t, s) = store(std::slice::from_ref(&a));
    let mut b = Batch::default();
    b.insert(keys::external("crm", "42"), a.id.0.to_be_bytes().to_vec());
    b.insert(keys::external("desk", "ticket/1"), keys::ticket_slot(a.id, None, None));
    b.insert(keys::external("zz-desk", "ticket/2"), keys::ticket_slot(a.id, None, None));
    s.apply(b).unwrap();
    assert_eq!(s.ticket_sources().unwrap(), vec!["desk".to_string(), "zz-desk".to_string()]);
}

/// Everything a pass writes, with follow-up ids (which depend on the order
/// follow-ups were raised in) left out: follow-ups by their content, flags
/// by the kind of the follow-up they hold.
fn written(s: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for kv in s.tree.iter() {
        let (k, v) = kv.unwrap();
        let line = match &k[..2] {
            b"fi" => continue,
            b"f:" => {
                let f: FollowUp = super::decode(&v, "follow-up").unwrap();
                format!("{:?}", FollowUp { id: 0, ..f })
            }
            b"fl" => {
                let f = s.follow_up(u64::from_be_bytes(v.as_ref().try_into().unwrap())).unwrap();
                format!("{k:?} {:?}", f.map(|f| (f.kind, f.state)))
            }
            _ => format!("{k:?} {v:?}"),
        };
        out.push(line);
    }
    out.sort();
    out
}

#[test]
fn a_pass_on_two_threads_writes_what_one_account_at_a_time_writes() {
    let made = now() - Duration::days(1);
    let spec = crate::demo::DemoSpec { accounts: 150, seed: 42, now: made };
    let demo = || {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path()).unwrap();
        crate::demo::generate(&s, &spec).unwrap();
        (tmp, s)
    };
    let ((_a, one), (_b, two)) = (demo(), demo());
    assert_eq!(written(&one), written(&two), "the same book twice");
    let (model, flags, bands) = (Model::builtin(), FlagRules::default(), Bands::default());
    let rules = HealthRules { model: &model, flags: &flags, bands: &bands };
    // A step of one account is one half on one thread; the whole book in
    // one step is two halves, split where a page of history starts.
    let mut pass = super::DailyPass::default();
    while one.daily_step(rules, now(), &mut pass, 1).unwrap() {}
    let by_one = pass.report;
    let mut pass = super::DailyPass::default();
    assert!(!two.daily_step(rules, now(), &mut pass, 1_000).unwrap());
    assert_eq!(pass.report, by_one);
    assert!(by_one.scored > 100 && by_one.raised + by_one.cleared > 0, "{by_one:?}");
    assert_eq!(written(&one), written(&two));
}

#[test]
fn a_chunk_is_split_where_a_page_starts() {
    let kv = |id: u64| (sled::IVec::from(keys::with_id(keys::ACCOUNT, AccountId(id))), sled::IVec::from(&[][..]));
    let chunk: Vec<_> = (10..60).map(kv).collect();
    let mid = super::page_split(&chunk);
    // Half is account 35, in the page of 32-47: the split is at 48.
    assert_eq!(chunk[mid].0, kv(48).0);
    assert_eq!(super::page_split(&chunk[..3]), 3, "one page: one half");
    assert_eq!(super::page_split(&[]), 0);
}

#[test]
fn a_rescore_reads_the_recent_days_over_the_years_pages() {
    use crate::domain::health_table::ScoreTable;
    use crate::domain::signals::DaySignals;
    // Accounts 1-3 share page 0, whose year's page was written before; 40
    // has recent days only (its page has no year's page yet).
    let accounts: Vec<Account> = [1, 2, 3, 40].map(|id| account(id, Stage::Adoption, 200, 165)).into();
    let (_t, s) = store(&accounts);
    let today = now().date_naive();
    let mut pages = super::PageCache::default();
    for n in 1..30 {
        let mut d = DaySignals::default();
        (d.0[2], d.0[DaySignals::LEN - 1]) = (n as u8, Stage::Adoption.index() as u8);
        for id in [1, 2, 3] {
            pages.inputs(&s, AccountId(id), 2026).unwrap().set(today - Duration::days(40 - n), &d);
        }
    }
    let mut b = Batch::default();
    pages.flush_into(&mut b);
    s.apply(b).unwrap();
    let old = Model::builtin();
    s.recompute_health(&old, today).unwrap();
    // Days of the pass on days their page does not fold.
    let mut passes = 0;
    for back in (0..10).rev() {
        let at = now() - Duration::days(back);
        let day = at.date_naive().num_days_from_ce() as u64;
        if !day.is_multiple_of(32) && !(day + 2).is_multiple_of(32) {
            pass(&s, at);
            passes += 1;
        }
    }
    assert!(passes >= 8);
    assert!(s.tree.get(keys::recent_page(0, 2026)).unwrap().is_some());
    assert!(s.tree.get(keys::input_page(2, 2026)).unwrap().is_none(), "account 40: recent days only");
    assert!(s.tree.get(keys::recent_page(2, 2026)).unwrap().is_some());

    let text = crate::domain::health_model::DEFAULT_MODEL
        .replace("linear = { zero_at = 60, full_at = 7 }", "linear = { zero_at = 30, full_at = 7 }");
    let stricter = Model::parse(&text).unwrap();
    let r = s.recompute_health(&stricter, today).unwrap();
    assert_eq!((r.accounts, r.years), (4, 4), "each account-year once");
    assert!(r.rewritten >= 3, "{r:?}");
    let table = ScoreTable::new(&stricter);
    for id in [1, 2, 3, 40] {
        let inputs = s.year_inputs(AccountId(id), 2026).unwrap().unwrap();
        let scores = s.year_series(AccountId(id), 2026).unwrap().unwrap();
        let days: Vec<_> = inputs.days().collect();
        assert!(days.len() >= if id == 40 { passes } else { 29 + passes }, "{id}: {} days", days.len());
        for (n, day) in days {
            let d = chrono::NaiveDate::from_yo_opt(2026, n as u32 + 1).unwrap();
            assert_eq!(scores.get(d), table.score(&day, Stage::Adoption, Segment::MidMarket), "{id} on {d}");
        }
        assert_eq!(s.row(AccountId(id)).unwrap().unwrap().health, scores.get(today));
    }
    // The same model again: nothing changes, and no page is written (one
    // put back in the layout before the mark would be written anew).
    let page: super::Page<crate::store::YearSeries> = s.score_page(0, 2026).unwrap();
    let old_layout: Vec<u8> =
        page.entries.iter().flat_map(|(id, y)| [id.to_be_bytes().to_vec(), y.to_bytes()].concat()).collect();
    s.tree.insert(keys::score_page(0, 2026), old_layout.clone()).unwrap();
    let r = s.recompute_health(&stricter, today).unwrap();
    assert_eq!((r.rewritten, r.rows_changed), (0, 0), "nothing left to change");
    assert_eq!(s.tree.get(keys::score_page(0, 2026)).unwrap().unwrap().to_vec(), old_layout, "not written");
}
