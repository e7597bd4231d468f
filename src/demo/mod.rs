//! The demo workspace: a deterministic synthetic portfolio, also used to
//! make big workspaces for scale work (`cockpit demo --accounts 100000`).
//!
//! Every account draws from its own random stream (seed, account id), so the
//! same seed and day give the same book at any size and in any order.

mod names;
pub mod rng;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::domain::cadence::Context;
use crate::domain::flags::{self, Check, FlagRules};
use crate::domain::followup::{is_high_value, ticket_follow_up};
use crate::domain::health::Measure;
use crate::domain::health_model::{Inputs, Model};
use crate::domain::health_table::ScoreTable;
use crate::domain::rollup::{derive_row, last_touch};
use crate::domain::rules::{holding, Facts, Moves};
use crate::domain::signals::{inputs_at, stage_on, DaySignals, ManualSignals, Records, Sentiment, SENTIMENT_DAYS};
use crate::domain::{
    Account, AccountId, Activity, ActivityKind, Bands, Contact, HealthHistory, KeyPerson, NpsResponse, Outcome,
    OutcomeKind, Segment, Stage, Team, Ticket, TicketPriority, TicketStatus,
};
use crate::store::pages::{page_of, PageCache};
use crate::store::{Batch, StageTotals, Store, StoreError, WorkspaceMeta, YearInputs, YearSeries};
use rng::Rng;

/// Accounts in the default demo.
pub const DEFAULT_ACCOUNTS: u64 = 150;
/// Seed of the default demo.
pub const DEFAULT_SEED: u64 = 42;
/// ARR at or above which an account counts as high-value in the demo.
pub const HIGH_VALUE_ARR: u64 = crate::domain::followup::HIGH_VALUE_ARR;
/// The source the demo's tickets are filed under, as if synced from a
/// support desk of that name: the daily pass re-evaluates them by it.
pub const DEMO_SOURCE: &str = "demo";
/// Days of daily health history.
pub const HISTORY_DAYS: i64 = 365;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    /// Number of accounts.
    pub accounts: u64,
    /// Random seed.
    pub seed: u64,
    /// The moment the portfolio is generated for.
    pub now: DateTime<Utc>,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    /// Accounts written.
    pub accounts: u64,
    /// Tickets written.
    pub tickets: u64,
    /// Follow-ups written.
    pub follow_ups: u64,
}

/// Child ids carry the top bit so they never meet ids from `Store::next_id`.
fn child_id(account: u64, n: u64) -> u64 {
    (1 << 63) | (account << 16) | n
}

enum Fate {
    Active,
    Churned(NaiveDate),
    Renewed(NaiveDate),
}

/// Generates the portfolio into an empty store, in batches.
pub fn generate(store: &Store, spec: &DemoSpec) -> Result<Generated, StoreError> {
    let mut totals = StageTotals::default();
    let mut out = Generated::default();
    let mut batch = Batch::default();
    let model = Model::builtin_ref();
    let table = ScoreTable::new(model);
    let (rules, bands) = (FlagRules::default(), Bands::default());
    let mut pages = PageCache::default();
    let mut page = None;
    for id in 1..=spec.accounts {
        let g = account(spec, id, &table);
        out.accounts += 1;
        out.tickets += g.tickets.len() as u64;
        batch.put_account(&g.account);
        for t in &g.tickets {
            batch.put_ticket(t);
        }
        for c in &g.contacts {
            batch.put_contact(c);
        }
        for n in &g.nps {
            batch.put_nps(n);
        }
        for a in &g.activities {
            batch.put_activity(a);
        }
        if page.is_some_and(|p| p != page_of(g.account.id)) {
            pages.flush_into(&mut batch);
        }
        page = Some(page_of(g.account.id));
        for (year, s, inputs) in g.history.series {
            *pages.series(store, g.account.id, year)? = s;
            *pages.inputs(store, g.account.id, year)? = inputs;
        }
        batch.put_manual_signals(g.account.id, &g.manual);
        let row = derive_row(&g.account, &g.history_view, &g.tickets, &g.activities);
        batch.put_row(None, &row, &mut totals);
        // Follow-ups from the same rules, through the same slots, as the
        // daily pass, so a pass on the day of generation changes nothing; a
        // churned account needs none.
        let mut n = 0;
        let live = g.account.stage.is_active();
        let high = is_high_value(g.account.segment, g.account.arr, HIGH_VALUE_ARR);
        for t in &g.tickets {
            let draft = if live { ticket_follow_up(t, high, spec.now) } else { None };
            n += u64::from(draft.is_some());
            batch.put_ticket_slot(DEMO_SOURCE, t, draft);
        }
        if live {
            let facts = Facts {
                account: &g.account,
                moves: Moves::from_timeline(&g.activities),
                last_contact: last_touch(&g.tickets, &g.activities),
                coverage: g.today_inputs.get(Measure::Onboarding),
                nps: &g.nps,
            };
            for (rule, draft) in holding(&rules.lifecycle, &facts, spec.now) {
                n += 1;
                let f = draft.into_follow_up(child_id(id, 0x8000 + n));
                batch.put_rule(g.account.id, rule, f.id);
                batch.put_follow_up(&f, None);
            }
        }
        if g.account.stage.is_active() {
            let today = spec.now.date_naive();
            let check = Check {
                inputs: &g.today_inputs,
                frustrated: g.tickets.iter().any(|t| t.status.is_open() && t.frustrated),
                score: g.history_view.at(today),
                week_ago: g.history_view.at(today - Duration::days(7)),
                bands: &bands,
                context: Some(Context {
                    segment: g.account.segment,
                    stage: g.account.stage,
                    days_to_renewal: g.account.days_to_renewal(today),
                    open_tickets: g.tickets.iter().filter(|t| t.status.is_open()).count() as u32,
                }),
            };
            for (flag, reason) in flags::raised(&rules, &check) {
                n += 1;
                let f = flags::draft(flag, &reason, g.account.id, spec.now).into_follow_up(child_id(id, 0x9000 + n));
                batch.put_flag(g.account.id, flag, f.id);
                batch.put_follow_up(&f, None);
            }
        }
        out.follow_ups += n;
        if batch.len() > 20_000 {
            // Pages are written whole: a page cut short here is read back
            // and finished by the next accounts.
            pages.flush_into(&mut batch);
            store.apply(std::mem::take(&mut batch))?;
        }
    }
    pages.flush_into(&mut batch);
    batch.put_totals(&totals);
    batch.put_health_marks(model, spec.now.date_naive());
    store.apply(batch)?;
    // The description goes last: its presence marks a complete workspace.
    store.set_workspace(&WorkspaceMeta {
        name: if spec.accounts == DEFAULT_ACCOUNTS && spec.seed == DEFAULT_SEED {
            "demo".into()
        } else {
            format!("demo-{}", spec.accounts)
        },
        demo_seed: Some(spec.seed),
        created: spec.now,
    })?;
    store.flush()?;
    Ok(out)
}

struct GenAccount {
    account: Account,
    tickets: Vec<Ticket>,
    contacts: Vec<Contact>,
    nps: Vec<NpsResponse>,
    activities: Vec<Activity>,
    manual: ManualSignals,
    history: History,
    history_view: HealthHistory,
    today_inputs: Inputs,
}

fn person(rng: &mut Rng) -> (String, String) {
    let first = *rng.pick(names::FIRST);
    let last = *rng.pick(names::LAST);
    (format!("{first} {last}"), format!("{}.{}", first.to_lowercase(), last.to_lowercase()))
}

fn account(spec: &DemoSpec, id: u64, table: &ScoreTable) -> GenAccount {
    let mut rng = Rng::new(spec.seed, id);
    let now = spec.now;
    let today = now.date_naive();
    let aid = AccountId(id);

    let a_name = *rng.pick(names::COMPANY_A);
    let b_name = *rng.pick(names::COMPANY_B);
    let combos = (names::COMPANY_A.len() * names::COMPANY_B.len()) as u64;
    let name = if id <= combos / 4 { format!("{a_name} {b_name}") } else { format!("{a_name} {b_name} {id}") };
    let domain = format!("{}{}.example", a_name.to_lowercase(), b_name.to_lowercase());
    let segment = match rng.f32() {
        x if x < 0.12 => Segment::Enterprise,
        x if x < 0.42 => Segment::MidMarket,
        _ => Segment::Smb,
    };
    let (arr, seats, plan) = match segment {
        Segment::Enterprise => (rng.range(100, 600) as u64 * 1000, rng.range(200, 2000) as u32, "Enterprise"),
        Segment::MidMarket => (rng.range(20, 100) as u64 * 1000, rng.range(40, 300) as u32, "Business"),
        Segment::Smb if rng.chance(0.05) => (0, rng.range(1, 5) as u32, "Free"),
        Segment::Smb => (rng.range(2, 20) as u64 * 1000, rng.range(3, 40) as u32, *rng.pick(&names::PLANS[..2])),
    };

    // Fate and tenure.
    let fate = match rng.f32() {
        x if x < 0.12 => Fate::Churned(today - Duration::days(rng.range(5, 330))),
        x if x < 0.22 => Fate::Renewed(today - Duration::days(rng.range(1, 45))),
        _ => Fate::Active,
    };
    let startup = matches!(fate, Fate::Active) && rng.chance(0.14);
    let tenure = if startup {
        match rng.f32() {
            x if x < 0.3 => rng.range(0, 3),
            x if x < 0.55 => rng.range(3, 14),
            _ => rng.range(14, 60),
        }
    } else {
        rng.range(120, 1100)
    };
    let contract_start = match fate {
        Fate::Churned(on) => on - Duration::days(365),
        Fate::Renewed(on) => on,
        Fate::Active => today - Duration::days(tenure),
    };
    let mut renewal_date = contract_start + Duration::days(365);
    while renewal_date < today && matches!(fate, Fate::Active) {
        renewal_date += Duration::days(365);
    }
    let days_to_renewal = (renewal_date - today).num_days();
    // Mostly, health foretells the outcome; some churns come out of the
    // blue (an acquisition, a budget cut) and some renew despite the signs,
    // so a backtest has honest misses to find.
    let risk: f32 = match fate {
        Fate::Churned(_) if rng.chance(0.2) => 0.1 + 0.35 * rng.f32(),
        Fate::Churned(_) => 0.65 + 0.35 * rng.f32(),
        Fate::Renewed(_) if rng.chance(0.25) => 0.35 + 0.4 * rng.f32(),
        Fate::Renewed(_) => 0.3 * rng.f32(),
        Fate::Active if rng.chance(0.28) => 0.5 + 0.45 * rng.f32(),
        Fate::Active => 0.4 * rng.f32(),
    };
    let stage = match fate {
        Fate::Churned(_) => Stage::Churned,
        Fate::Renewed(_) => Stage::Renewed,
        Fate::Active if tenure < 3 => Stage::Handover,
        Fate::Active if tenure < 14 => Stage::Delivery,
        Fate::Active if tenure < 60 => Stage::Onboarding,
        // Some accounts lag behind their renewal window: the queue flags them.
        Fate::Active => match Stage::renewal_window(days_to_renewal) {
            Some(s) if rng.chance(0.7) => s,
            _ if rng.chance(0.15) => Stage::Expansion,
            _ => Stage::Adoption,
        },
    };
    let outcome = match fate {
        Fate::Churned(on) => Some(Outcome { kind: OutcomeKind::Churned, on }),
        Fate::Renewed(on) => Some(Outcome { kind: OutcomeKind::Renewed, on }),
        Fate::Active => None,
    };
    // The last day the account was a customer with a score.
    let end = match fate {
        Fate::Churned(on) => on,
        _ => today,
    };
    let end_now = end.and_hms_opt(17, 0, 0).unwrap().and_utc().min(now);

    // Contacts and key people.
    let mut contacts = Vec::new();
    for c in 0..rng.range(2, 5) as u64 {
        let (full, handle) = person(&mut rng);
        contacts.push(Contact {
            id: child_id(id, 0x1000 + c),
            account_id: aid,
            email: format!("{handle}@{domain}"),
            title: if c == 0 { rng.pick(names::ROLES).to_string() } else { "User".into() },
            name: full,
            key_person: c == 0,
        });
    }
    let key_people = contacts
        .iter()
        .filter(|c| c.key_person)
        .map(|c| KeyPerson { name: c.name.clone(), role: c.title.clone(), email: c.email.clone() })
        .collect();

    // Timeline: at-risk accounts have gone quiet.
    let last_touch_days = if risk > 0.6 { rng.range(18, 75) } else { rng.range(0, 14) };
    let mut activities = Vec::new();
    let mut back = last_touch_days;
    for n in 0..rng.range(2, 7) as u64 {
        let at = end_now - Duration::days(back) - Duration::hours(rng.range(0, 8));
        if at.date_naive() < contract_start {
            break;
        }
        let kind = *rng.pick(&[ActivityKind::Call, ActivityKind::Meeting, ActivityKind::Email, ActivityKind::Note]);
        let summary = match kind {
            ActivityKind::Call => "Check-in call: usage review",
            ActivityKind::Meeting => "Quarterly business review",
            ActivityKind::Email => "Shared the new reporting guide",
            _ => "Internal note: champion is happy with rollout",
        };
        activities.push(Activity {
            id: child_id(id, 0x2000 + n),
            account_id: aid,
            at,
            kind,
            summary: summary.into(),
            author: names::OWNERS[(id % 3) as usize].into(),
        });
        back += rng.range(7, 30);
    }
    activities.sort_by_key(|a| a.at);

    let mut tickets = tickets(&mut rng, aid, id, risk, end_now, &contacts);

    // NPS answers, worse for riskier accounts.
    let mut nps = Vec::new();
    for n in 0..rng.range(0, 4) as u64 {
        let on = end - Duration::days(rng.range(5, 330));
        if on < contract_start {
            continue;
        }
        let score = (9.5 - 7.5 * risk + 2.0 * (rng.f32() - 0.5)).round().clamp(0.0, 10.0) as u8;
        nps.push(NpsResponse { id: child_id(id, 0x3000 + n), account_id: aid, on, score, comment: String::new() });
    }
    nps.sort_by_key(|n| n.on);

    let account = Account {
        id: aid,
        name,
        domain,
        segment,
        industry: rng.pick(names::INDUSTRIES).to_string(),
        region: rng.pick(names::REGIONS).to_string(),
        owner: names::OWNERS[(id % 3) as usize].into(),
        plan: plan.into(),
        seats,
        arr,
        contract_start,
        renewal_date,
        stage,
        key_people,
        outcome,
    };

    // What the records cannot say: usage, billing, the CSM's read.
    let seat_use = (0.95 - 0.7 * risk + 0.3 * (rng.f32() - 0.5)).clamp(0.05, 1.25);
    let past_due = if risk > 0.6 && rng.chance(0.5) { rng.range(10, 60) as u32 } else { 0 };
    let early = matches!(stage, Stage::Handover | Stage::Delivery | Stage::Onboarding);
    let manual = ManualSignals {
        usage_trend: Some((1.15 - 0.9 * risk + 0.2 * (rng.f32() - 0.5)).max(0.0)),
        active_users: Some((seats as f32 * seat_use).round() as u32),
        days_past_due: Some(past_due),
        onboarding: early.then(|| (0.95 - 0.7 * risk + 0.2 * (rng.f32() - 0.5)).clamp(0.0, 1.0)),
        sentiment: rng.chance(0.4).then(|| Sentiment {
            value: match risk {
                r if r > 0.6 => 2,
                r if r > 0.35 => 3,
                _ => 4 + u8::from(rng.chance(0.5)),
            },
            at: end_now - Duration::days(rng.range(0, 60)),
            by: account.owner.clone(),
        }),
    };
    let records = Records {
        account: &account,
        tickets: &tickets,
        activities: &activities,
        nps: &nps,
        ratings: &[],
        manual: Some(&manual),
        observed: None,
    };
    let today_inputs = inputs_at(&records, end_now);
    if let Fate::Churned(_) = fate {
        // Support closed everything out once the customer had left (after
        // the last day scored above, which saw the tickets still open).
        for t in &mut tickets {
            t.status = TicketStatus::Closed;
        }
    }

    // A year of daily inputs ending on today's: risky accounts were
    // healthier before a drop some weeks back (churned ones often months
    // back, so a 90-day backtest has something to find), with a slow wave
    // and noise on top. Each day is scored by the model like any other.
    let first_day = match fate {
        Fate::Active => today - Duration::days(tenure),
        _ => contract_start - Duration::days(730),
    };
    let start = (end - Duration::days(HISTORY_DAYS - 1)).max(first_day);
    let phase = rng.f32() * std::f32::consts::TAU;
    let drop_at = match fate {
        Fate::Churned(_) => rng.range(20, 160),
        _ => rng.range(10, 70),
    };
    let base = if risk > 0.5 { (risk - 0.25 - 0.3 * rng.f32()).max(0.05) } else { risk };
    let settled = if stage == Stage::Expansion { Stage::Expansion } else { Stage::Adoption };
    let total_days = (end - start).num_days().max(0);
    let mut touches: Vec<DateTime<Utc>> = tickets
        .iter()
        .filter_map(|t| t.last_customer_reply)
        .chain(activities.iter().filter(|a| a.kind.is_two_way()).map(|a| a.at))
        .collect();
    touches.sort();
    let mut history = History::default();
    let mut scores = Vec::with_capacity(total_days as usize + 1);
    for i in 0..=total_days {
        let d = start + Duration::days(i);
        let before = total_days - i;
        let day = if before == 0 {
            DaySignals::new(&today_inputs, stage)
        } else {
            let r = if before < drop_at { risk } else { base } + 0.06 * (before as f32 / 40.0 + phase).sin();
            let mut inputs = past_inputs(&mut rng, &today_inputs, r, r - risk, before, &nps, d, &manual, past_due);
            // A real touch on record caps the made-up silence before it.
            let day_end = (d + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap().and_utc();
            if let Some(last) = touches.iter().rev().find(|t| **t < day_end) {
                let real = (day_end - *last).num_days() as f64;
                let made_up = inputs.get(Measure::Engagement).unwrap_or(real);
                inputs.set(Measure::Engagement, made_up.min(real));
            }
            let mut cycle = contract_start;
            while cycle > d {
                cycle -= Duration::days(365);
            }
            let day_stage = stage_on(first_day, cycle + Duration::days(365), d, settled);
            DaySignals::new(&inputs, day_stage)
        };
        let score = table.score(&day, stage, segment);
        history.record(d, &day, score, table.version);
        scores.push(score);
    }
    let history_view = HealthHistory { start: Some(start), scores };

    GenAccount { account, tickets, contacts, nps, activities, manual, history, history_view, today_inputs }
}

/// One account's generated history, by year.
#[derive(Default)]
struct History {
    series: Vec<(i32, YearSeries, YearInputs)>,
}

impl History {
    fn record(&mut self, d: NaiveDate, day: &DaySignals, score: Option<u8>, version: u16) {
        if self.series.last().map(|(y, _, _)| *y) != Some(d.year()) {
            self.series.push((d.year(), YearSeries::new(), YearInputs::default()));
        }
        if let Some((_, s, i)) = self.series.last_mut() {
            s.set(d, score);
            s.set_model_version(version);
            i.set(d, day);
        }
    }
}

/// A past day's inputs: today's, moved by how much riskier (`shift` > 0)
/// or healthier the account was then, with day-to-day noise. NPS comes
/// from the answers given by then; billing counts down to when the
/// invoice fell due.
#[allow(clippy::too_many_arguments)]
fn past_inputs(
    rng: &mut Rng,
    today: &Inputs,
    risk_then: f32,
    shift: f32,
    before: i64,
    nps: &[NpsResponse],
    d: NaiveDate,
    manual: &ManualSignals,
    past_due: u32,
) -> Inputs {
    let mut i = Inputs::default();
    let noise = |rng: &mut Rng, size: f32| (size * (rng.f32() - 0.5)) as f64;
    let shift = shift as f64;
    if let Some(u) = today.get(Measure::Usage) {
        i.set(Measure::Usage, (u - 0.9 * shift + noise(rng, 0.1)).max(0.0));
    }
    if let Some(s) = today.get(Measure::Seats) {
        i.set(Measure::Seats, (s - 0.6 * shift + noise(rng, 0.05)).clamp(0.0, 1.3));
    }
    if let Some(e) = today.get(Measure::Engagement) {
        // The silence running today reaches back; before it, contact came
        // every 1-7 weeks depending on how the account was doing.
        let k = before - e as i64;
        let v = if k < 0 {
            (e as i64 - before) as f64
        } else {
            let period = (7.0 + 45.0 * risk_then.clamp(0.0, 1.0)).round() as i64;
            ((period - k % period) % period) as f64
        };
        i.set(Measure::Engagement, v);
    }
    for (m, scale) in [(Measure::Support, 6.0), (Measure::TicketAge, 15.0)] {
        if let Some(v) = today.get(m) {
            i.set(m, (v + scale * shift + noise(rng, 2.0)).round().max(0.0));
        }
    }
    let answered: Vec<u8> = nps.iter().filter(|n| n.on <= d).map(|n| n.score).collect();
    if let Some(last) = answered.last() {
        i.set(Measure::Satisfaction, *last as f64);
    }
    if let [.., a, b] = answered.as_slice() {
        i.set(Measure::NpsTrend, *b as f64 - *a as f64);
    }
    i.set(Measure::Billing, (past_due as i64 - before).max(0) as f64);
    if let Some(o) = today.get(Measure::Onboarding) {
        i.set(Measure::Onboarding, (o - before as f64 / 60.0).max(0.0));
    }
    if let Some(s) = &manual.sentiment {
        let age = (d - s.at.date_naive()).num_days();
        if (0..=SENTIMENT_DAYS).contains(&age) {
            i.set(Measure::Sentiment, s.value as f64);
        }
    }
    i
}

/// Tickets in every state; open ones placed so the 24 h / 48 h / 5-day rules trip.
/// A demo ticket's number: what a desk would show, unique across accounts
/// (an account has fewer than 8 tickets).
fn demo_ticket_id(account: u64, n: u64) -> u64 {
    debug_assert!(n < 8);
    10_000 + account * 8 + n
}

fn tickets(rng: &mut Rng, aid: AccountId, id: u64, risk: f32, now: DateTime<Utc>, contacts: &[Contact]) -> Vec<Ticket> {
    let count = rng.range(0, 3) + (risk * 4.0).round() as i64;
    let mut out = Vec::new();
    for n in 0..count as u64 {
        let &(subject, complex, bug) = rng.pick(names::SUBJECTS);
        let requester = contacts[rng.range(0, contacts.len() as i64) as usize].name.clone();
        let team = if bug {
            Team::Development
        } else if subject.contains("discount") || subject.contains("pricing") || subject.contains("Invoice") {
            Team::Sales
        } else if rng.chance(0.2) {
            Team::Unassigned
        } else {
            Team::Marketing
        };
        let h = Duration::hours;
        // Open scenarios: hours since our last reply (None = our court).
        let (status, since_ours) = match rng.f32() {
            x if x < 0.30 => (*rng.pick(&[TicketStatus::Solved, TicketStatus::Closed]), Some(rng.range(200, 1400))),
            x if x < 0.40 => (TicketStatus::New, None),
            x if x < 0.55 => (TicketStatus::Open, None),
            x if x < 0.62 => (TicketStatus::Hold, Some(rng.range(10, 300))),
            _ => (TicketStatus::Pending, Some(*rng.pick(&[6, 20, 30, 47, 50, 72, 100, 130, 200]))),
        };
        let (last_agent_reply, last_customer_reply, created_at) = match since_ours {
            Some(hours) => {
                let ours = now - h(hours);
                let theirs = ours - h(rng.range(1, 30));
                (Some(ours), Some(theirs), theirs - h(rng.range(2, 48)))
            }
            None if status == TicketStatus::New => (None, None, now - h(rng.range(1, 30))),
            None => {
                let theirs = now - h(rng.range(1, 40));
                let ours = theirs - h(rng.range(2, 48));
                (Some(ours), Some(theirs), ours - h(rng.range(2, 48)))
            }
        };
        let frustrated = status.is_open() && rng.chance(0.12 * risk);
        out.push(Ticket {
            // Numbered like a desk's tickets (#10008), unique per account.
            id: demo_ticket_id(id, n),
            account_id: aid,
            subject: subject.into(),
            status,
            priority: if frustrated {
                TicketPriority::High
            } else {
                *rng.pick(&[TicketPriority::Low, TicketPriority::Normal, TicketPriority::Normal, TicketPriority::High])
            },
            team,
            requester,
            created_at,
            updated_at: [last_agent_reply, last_customer_reply].into_iter().flatten().max().unwrap_or(created_at),
            last_customer_reply,
            last_agent_reply,
            seen_by_customer: since_ours.is_some() && rng.chance(0.7),
            complex,
            frustrated,
            bug,
            escalated: bug && rng.chance(0.5),
            follow_ups_sent: u8::from(since_ours.is_some_and(|x| x > 72) && rng.chance(0.3)),
        });
    }
    out
}

/// Opens the demo in `store`, generating it first when the store is empty.
/// Returns whether it was generated now.
pub fn ensure(store: &Store, now: DateTime<Utc>) -> Result<bool, StoreError> {
    if store.workspace()?.is_some() {
        return Ok(false);
    }
    generate(store, &DemoSpec { accounts: DEFAULT_ACCOUNTS, seed: DEFAULT_SEED, now })?;
    Ok(true)
}

#[cfg(test)]
mod tests;
