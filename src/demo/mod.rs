//! The demo workspace: a deterministic synthetic portfolio, also used to
//! make big workspaces for scale work (`cockpit demo --accounts 100000`).
//!
//! Every account draws from its own random stream (seed, account id), so the
//! same seed and day give the same book at any size and in any order.

mod conversation;
mod names;
pub mod rng;
pub mod story;

use chrono::DurationRound;
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
use story::{Drivers, Story};

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
    // Dated to the minute: what it raises "now" is overdue for any clock
    // read after, not due a few milliseconds on (see `clock`).
    let minute = spec.now.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(spec.now);
    let spec = &DemoSpec { now: minute, ..*spec };
    let mut totals = StageTotals::default();
    let mut out = Generated::default();
    // Scored as the day's pass would score it: nothing is marked for the next.
    let mut batch = Batch::scored();
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
            // The demo has no desk: its tickets' conversations are kept
            // as a desk's would be once read.
            batch.put_conversation(&conversation::demo(t, spec.seed, spec.now));
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
            store.apply(std::mem::replace(&mut batch, Batch::scored()))?;
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

    // Fate and tenure. What may go wrong is drawn first; whether an account
    // whose contract came up churned follows from it (see `story`).
    let closed = rng.chance(0.24);
    let drivers = Drivers::draw(&mut rng, if closed { 0.45 } else { 0.28 });
    let fate = match closed {
        true if drivers.churns(&mut rng, segment) => Fate::Churned(today - Duration::days(rng.range(5, 330))),
        true => Fate::Renewed(today - Duration::days(rng.range(1, 45))),
        false => Fate::Active,
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
        Fate::Churned(on) => Some(Outcome::new(OutcomeKind::Churned, on)),
        Fate::Renewed(on) => Some(Outcome::new(OutcomeKind::Renewed, on)),
        Fate::Active => None,
    };
    // The last day the account was a customer with a score.
    let end = match fate {
        Fate::Churned(on) => on,
        _ => today,
    };
    let end_now = end.and_hms_opt(17, 0, 0).unwrap().and_utc().min(now);
    // A live account's trouble runs on past today.
    let story_end = match fate {
        Fate::Active => today + Duration::days(rng.range(0, 45)),
        _ => end,
    };
    let story = Story::place(&mut rng, &drivers, story_end, today, segment);
    // The first day the account was a customer (closed accounts go back
    // further than the history).
    let first_day = match fate {
        Fate::Active => today - Duration::days(tenure),
        _ => contract_start - Duration::days(730),
    };

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

    // Timeline: the CSM's contacts come at the account's cadence, however
    // it is doing; the latest few are on record, the older ones date the
    // history's contact.
    let gap = |rng: &mut Rng| (story.cadence as f32 * (0.6 + 0.8 * rng.f32())).round() as i64;
    let listed = rng.range(2, 7) as u64;
    let mut activities = Vec::new();
    let mut touches: Vec<DateTime<Utc>> = Vec::new();
    let mut back = rng.range(0, story.cadence);
    let history_from = end - Duration::days(HISTORY_DAYS + 120);
    for n in 0.. {
        let at = end_now - Duration::days(back) - Duration::hours(rng.range(0, 8));
        if at.date_naive() < history_from {
            break;
        }
        back += gap(&mut rng).max(1);
        // A note is not contact; whether it is on the timeline is not either.
        let kind = *rng.pick(&[ActivityKind::Call, ActivityKind::Meeting, ActivityKind::Email, ActivityKind::Note]);
        if n >= listed || at.date_naive() < contract_start {
            // Older, or before this contract: the timeline starts after.
            touches.extend(Some(at).filter(|_| kind.is_two_way()));
            continue;
        }
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
    }
    activities.sort_by_key(|a| a.at);

    // Tickets at the end: more, and more escalated, in a run of trouble.
    let trouble = if story.episodes.iter().any(|e| e.load >= 3 && (e.span.from..=e.span.until).contains(&end)) {
        0.9
    } else if story.in_trouble(end) {
        0.4
    } else {
        0.1 * rng.f32()
    };
    let mut tickets = tickets(&mut rng, aid, id, trouble, end_now, &contacts);

    // NPS answers: mostly the respondent's mood; a little lower while usage
    // is falling.
    let mut nps = Vec::new();
    for n in 0..rng.range(0, 4) as u64 {
        let on = end - Duration::days(rng.range(5, 330));
        // Answers from an earlier contract count too.
        if on < first_day {
            continue;
        }
        let falling = story.decline.is_some_and(|x| (x.span.from..=x.span.until).contains(&on));
        let dip = if falling && rng.chance(0.5) { 2.0 } else { 0.0 };
        let score = (8.0 - dip + 5.0 * (rng.f32() - 0.6)).round().clamp(0.0, 10.0) as u8;
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

    // What the records cannot say: usage, billing, the CSM's read. Users
    // are drawn day by day from the story with noise; usage is their trend
    // against the 90 days before, as for a synced account.
    let early = matches!(stage, Stage::Handover | Stage::Delivery | Stage::Onboarding);
    let start = (end - Duration::days(HISTORY_DAYS - 1)).max(first_day);
    let mut usage = Usage::default();
    let users_on = |rng: &mut Rng, d: NaiveDate| {
        (seats as f32 * story.usage_level(d) * (1.0 + 0.12 * (rng.f32() - 0.5))).round().max(0.0)
    };
    // The 90 days before the first scored day, as far as the account goes back.
    let mut d = (start - Duration::days(90)).max(first_day);
    while d < start {
        usage.push(users_on(&mut rng, d));
        d += Duration::days(1);
    }
    let mut daily: Vec<(f32, Option<f32>)> = Vec::with_capacity((end - start).num_days().max(0) as usize + 1);
    while d <= end {
        let users = users_on(&mut rng, d);
        // Usage needs four weeks of its own history to say anything.
        let known = (d - first_day).num_days() >= 28;
        daily.push((users, usage.trend(users).filter(|_| known)));
        usage.push(users);
        d += Duration::days(1);
    }
    let (users_now, trend_now) = daily.last().copied().unwrap_or((0.0, None));
    let sentiment_at = end_now - Duration::days(rng.range(0, 60));
    let manual = ManualSignals {
        usage_trend: trend_now,
        active_users: Some(users_now as u32),
        days_past_due: Some(story.past_due(end) as u32),
        // The onboarding plan's progress: most on plan, some behind, with no
        // bearing on how the account does later.
        onboarding: early.then(|| if rng.chance(0.2) { 0.1 + 0.4 * rng.f32() } else { 0.6 + 0.4 * rng.f32() }),
        // The CSM's read: sometimes it catches trouble, mostly it is a mood.
        sentiment: rng.chance(0.4).then(|| Sentiment {
            value: if story.in_trouble(sentiment_at.date_naive()) && rng.chance(0.35) {
                2
            } else {
                rng.range(2, 6) as u8
            },
            at: sentiment_at,
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

    // A year of daily inputs ending on today's, each scored by the model
    // like any other day.
    let settled = if stage == Stage::Expansion { Stage::Expansion } else { Stage::Adoption };
    let total_days = (end - start).num_days().max(0);
    touches.extend(
        tickets
            .iter()
            .flat_map(|t| [Some(t.created_at), t.last_customer_reply])
            .flatten()
            .chain(activities.iter().filter(|a| a.kind.is_two_way()).map(|a| a.at)),
    );
    touches.sort();
    let mut history = History::default();
    let mut scores = Vec::with_capacity(total_days as usize + 1);
    for i in 0..=total_days {
        let d = start + Duration::days(i);
        let before = total_days - i;
        let day = if before == 0 {
            DaySignals::new(&today_inputs, stage)
        } else {
            let day_end = (d + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap().and_utc();
            let last_touch = touches.iter().rev().find(|t| **t < day_end).copied();
            let inputs = past_inputs(&story, daily[i as usize], seats, last_touch, day_end, before, &nps, d, &manual);
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

/// Users over the last 90 days, for the usage trend.
#[derive(Default)]
struct Usage {
    window: std::collections::VecDeque<f32>,
    sum: f32,
}

impl Usage {
    fn push(&mut self, users: f32) {
        self.window.push_back(users);
        self.sum += users;
        if self.window.len() > 90 {
            self.sum -= self.window.pop_front().unwrap_or(0.0);
        }
    }

    /// `users` against the mean of the days before (`None` without users then).
    fn trend(&self, users: f32) -> Option<f32> {
        let mean = self.sum / self.window.len().max(1) as f32;
        (mean > 0.0).then(|| users / mean)
    }
}

/// A past day's inputs, from the story: users and their trend, the
/// invoice past due, the support runs; contact from the last touch on
/// record; NPS from the answers given by then.
#[allow(clippy::too_many_arguments)]
fn past_inputs(
    story: &Story,
    (users, trend): (f32, Option<f32>),
    seats: u32,
    last_touch: Option<DateTime<Utc>>,
    day_end: DateTime<Utc>,
    before: i64,
    nps: &[NpsResponse],
    d: NaiveDate,
    manual: &ManualSignals,
) -> Inputs {
    let mut i = Inputs::default();
    if let Some(t) = trend {
        i.set(Measure::Usage, t as f64);
    }
    if seats > 0 {
        i.set(Measure::Seats, users as f64 / seats as f64);
    }
    if let Some(t) = last_touch {
        i.set(Measure::Engagement, (day_end - t).num_days() as f64);
    }
    let (load, oldest) = story.support_on(d);
    i.set(Measure::Support, load as f64);
    i.set(Measure::TicketAge, oldest as f64);
    let answered: Vec<u8> = nps.iter().filter(|n| n.on <= d).map(|n| n.score).collect();
    if let Some(last) = answered.last() {
        i.set(Measure::Satisfaction, *last as f64);
    }
    if let [.., a, b] = answered.as_slice() {
        i.set(Measure::NpsTrend, *b as f64 - *a as f64);
    }
    i.set(Measure::Billing, story.past_due(d) as f64);
    if let Some(o) = manual.onboarding {
        i.set(Measure::Onboarding, (o as f64 - before as f64 / 60.0).max(0.0));
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

fn tickets(
    rng: &mut Rng,
    aid: AccountId,
    id: u64,
    trouble: f32,
    now: DateTime<Utc>,
    contacts: &[Contact],
) -> Vec<Ticket> {
    let count = rng.range(0, 3) + (trouble * 4.0).round() as i64;
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
        let frustrated = status.is_open() && rng.chance(0.12 * trouble);
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
