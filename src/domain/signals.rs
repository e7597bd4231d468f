//! The health inputs of one account on one day: computed from its records
//! with the clock passed in, kept one byte each so a year of them costs
//! 4 KB per account, and described in words for the explanations.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::account::Account;
use super::activity::Activity;
use super::health::metric_names;
use super::health::Measure;
use super::health_model::Inputs;
use super::lifecycle::Stage;
use super::nps::{classify, NpsClass, NpsResponse};
use super::observed::{epoch_days, trend, Observations, Signal};
use super::rating::{support_csat, Rating};
use super::ticket::Ticket;

/// Byte meaning "not known".
pub const UNKNOWN: u8 = 255;

/// Days a CSM's sentiment counts after it was set: an old gut feeling
/// should not hold a score up (or down) for ever.
pub const SENTIMENT_DAYS: i64 = 90;

/// One day's inputs, one byte per measure in `Measure::ALL` order, then the
/// stage the account was in that day; `UNKNOWN` where not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DaySignals(pub [u8; DaySignals::LEN]);

impl Default for DaySignals {
    fn default() -> Self {
        DaySignals([UNKNOWN; DaySignals::LEN])
    }
}

fn measure_index(m: Measure) -> usize {
    m.index()
}

/// The byte of one input value: ratios in hundredths, counts and days whole
/// (capped at 254), the NPS trend offset by 10 so it stays positive.
pub fn quantize(m: Measure, v: f64) -> u8 {
    let v = match m {
        Measure::Usage | Measure::Seats | Measure::Onboarding | Measure::SupportCsat | Measure::Metric(_) => v * 100.0,
        Measure::NpsTrend => v + 10.0,
        _ => v,
    };
    let (lo, hi) = match m {
        Measure::Satisfaction => (0.0, 10.0),
        Measure::NpsTrend => (0.0, 20.0),
        Measure::Onboarding | Measure::SupportCsat => (0.0, 100.0),
        Measure::Sentiment => (1.0, 5.0),
        _ => (0.0, 254.0),
    };
    if v.is_nan() {
        return UNKNOWN;
    }
    v.round().clamp(lo, hi) as u8
}

/// The value a byte stands for; `None` for `UNKNOWN`.
pub fn dequantize(m: Measure, q: u8) -> Option<f64> {
    if q == UNKNOWN {
        return None;
    }
    let q = q as f64;
    Some(match m {
        Measure::Usage | Measure::Seats | Measure::Onboarding | Measure::SupportCsat | Measure::Metric(_) => q / 100.0,
        Measure::NpsTrend => q - 10.0,
        _ => q,
    })
}

impl DaySignals {
    /// Bytes per day: one per input and the stage.
    pub const LEN: usize = Measure::ALL.len() + 1;

    /// Packs inputs and the day's stage.
    pub fn new(inputs: &Inputs, stage: Stage) -> DaySignals {
        let mut b = [UNKNOWN; Self::LEN];
        for (i, m) in Measure::ALL.into_iter().enumerate() {
            if let Some(v) = inputs.get(m) {
                b[i] = quantize(m, v);
            }
        }
        b[Self::LEN - 1] = stage.index() as u8;
        DaySignals(b)
    }

    /// Whether anything was recorded that day.
    pub fn is_known(&self) -> bool {
        self.0[Self::LEN - 1] != UNKNOWN
    }

    /// The byte of one input.
    pub fn byte(&self, m: Measure) -> u8 {
        self.0[measure_index(m)]
    }

    /// One input's value.
    pub fn get(&self, m: Measure) -> Option<f64> {
        dequantize(m, self.byte(m))
    }

    /// The inputs as the model reads them (at the stored precision).
    pub fn inputs(&self) -> Inputs {
        let mut inputs = Inputs::default();
        for m in Measure::ALL {
            if let Some(v) = self.get(m) {
                inputs.set(m, v);
            }
        }
        inputs
    }

    /// The stage the account was in that day.
    pub fn stage(&self) -> Option<Stage> {
        Stage::ALL.get(self.0[Self::LEN - 1] as usize).copied()
    }
}

/// A CSM's read of an account, set from the cockpit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentiment {
    /// 1 (worried) to 5 (confident).
    pub value: u8,
    /// When it was set.
    pub at: DateTime<Utc>,
    /// Who set it.
    pub by: String,
}

/// Inputs that do not come from the account's records: product usage and
/// billing (from a mapped CRM property or the demo) and the CSM's sentiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManualSignals {
    /// Usage against the account's own baseline (1.0 = normal).
    pub usage_trend: Option<f32>,
    /// Users active in the last 30 days.
    pub active_users: Option<u32>,
    /// Days the oldest unpaid invoice is past due (0 = paid up).
    pub days_past_due: Option<u32>,
    /// Share of the onboarding plan completed (0-1).
    pub onboarding: Option<f32>,
    /// The CSM's sentiment, when set.
    pub sentiment: Option<Sentiment>,
}

/// What one account's inputs are computed from.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// The account.
    pub account: &'a Account,
    /// Its tickets.
    pub tickets: &'a [Ticket],
    /// Its timeline.
    pub activities: &'a [Activity],
    /// Its NPS answers.
    pub nps: &'a [NpsResponse],
    /// Its support ratings: desk ticket ratings and CSAT / CES answers.
    pub ratings: &'a [Rating],
    /// Usage, billing and sentiment, when known.
    pub manual: Option<&'a ManualSignals>,
    /// What sources report: usage, seats, billing, onboarding, logins, metrics.
    pub observed: Option<&'a Observations>,
}

/// The inputs at `now`, from records only (nothing after `now` counts).
pub fn inputs_at(r: &Records, now: DateTime<Utc>) -> Inputs {
    let mut inputs = Inputs::default();
    let today = now.date_naive();

    // A ticket's creation is the customer writing in; its last reply too.
    let touch_tickets = r.tickets.iter().flat_map(|t| [Some(t.created_at), t.last_customer_reply]).flatten();
    let touch_timeline = r.activities.iter().filter(|a| a.kind.is_two_way()).map(|a| a.at);
    if let Some(last) = touch_tickets.chain(touch_timeline).filter(|t| *t <= now).max() {
        inputs.set(Measure::Engagement, (now - last).num_days().max(0) as f64);
    }

    // Open on the day: created by then, and not yet solved (a solved
    // ticket's last update is when it was solved).
    let open: Vec<&Ticket> =
        r.tickets.iter().filter(|t| t.created_at <= now && (t.status.is_open() || t.updated_at > now)).collect();
    let escalated = open.iter().filter(|t| t.escalated).count();
    inputs.set(Measure::Support, (open.len() + 2 * escalated) as f64);
    let oldest = open.iter().map(|t| (now - t.created_at).num_days().max(0)).max().unwrap_or(0);
    inputs.set(Measure::TicketAge, oldest as f64);

    let answered: Vec<&NpsResponse> = r.nps.iter().filter(|n| n.on <= today).collect();
    let mut by_day = answered.clone();
    by_day.sort_by_key(|n| n.on);
    if let Some(last) = by_day.last() {
        inputs.set(Measure::Satisfaction, last.score as f64);
    }
    if let [.., before, last] = by_day.as_slice() {
        inputs.set(Measure::NpsTrend, last.score as f64 - before.score as f64);
    }
    if let Some(share) = support_csat(r.ratings, now) {
        inputs.set(Measure::SupportCsat, share);
    }

    if let Some(o) = r.observed {
        observed_inputs(&mut inputs, r.account, o, today);
    }
    // Figures set by hand or by the demo, where no source reports them.
    if let Some(m) = r.manual {
        let unset = |i: &Inputs, m: Measure| i.get(m).is_none();
        if let Some(u) = m.usage_trend.filter(|_| unset(&inputs, Measure::Usage)) {
            inputs.set(Measure::Usage, u as f64);
        }
        if let (Some(active), seats) = (m.active_users, r.account.seats) {
            if seats > 0 && unset(&inputs, Measure::Seats) {
                inputs.set(Measure::Seats, active as f64 / seats as f64);
            }
        }
        if let Some(d) = m.days_past_due.filter(|_| unset(&inputs, Measure::Billing)) {
            inputs.set(Measure::Billing, d as f64);
        }
        if let Some(o) = m.onboarding.filter(|_| unset(&inputs, Measure::Onboarding)) {
            inputs.set(Measure::Onboarding, o as f64);
        }
        if let Some(s) = &m.sentiment {
            let age = (now - s.at).num_days();
            if (0..=SENTIMENT_DAYS).contains(&age) {
                inputs.set(Measure::Sentiment, s.value as f64);
            }
        }
    }
    inputs
}

/// The inputs sources report, as of `day`: a value that was not a number
/// leaves its input unknown.
fn observed_inputs(inputs: &mut Inputs, account: &Account, o: &Observations, day: NaiveDate) {
    let usage = match o.at(&Signal::UsageTrend, day) {
        Some(t) => Some(t),
        None => o.best(&Signal::ActiveUsers, day).and_then(|s| trend(s, day)),
    };
    if let Some(u) = usage {
        inputs.set(Measure::Usage, u);
    }
    let seats = o.at(&Signal::Seats, day).or((account.seats > 0).then_some(account.seats as f64));
    if let (Some(active), Some(seats)) = (o.at(&Signal::ActiveUsers, day), seats) {
        if seats > 0.0 {
            inputs.set(Measure::Seats, active / seats);
        }
    }
    if let Some(b) = billing_on(o, day) {
        inputs.set(Measure::Billing, b);
    }
    if let Some(v) = o.at(&Signal::Onboarding, day) {
        inputs.set(Measure::Onboarding, v);
    }
    if let Some(v) = o.at(&Signal::LastLogin, day) {
        inputs.set(Measure::Login, (epoch_days(day) - v).max(0.0));
    }
    for (slot, name) in metric_names() {
        let signal = Signal::Metric(name.to_string());
        if let Some(t) = o.best(&signal, day).and_then(|s| trend(s, day)) {
            inputs.set(Measure::Metric(slot), t);
        }
    }
}

/// The signals days past due can come from, in the order a tie goes.
pub const BILLING_SIGNALS: [Signal; 3] = [Signal::OverdueSince, Signal::Overdue, Signal::DaysPastDue];

/// Of the sources reporting billing, the one whose value in force changed
/// last speaks (on a tie, a status over a figure): a stale "0 days past
/// due" in the CRM does not hide an invoice the billing system says is late.
pub fn billing_series(o: &Observations, day: NaiveDate) -> Option<(&Signal, &super::observed::Observed)> {
    let mut best: Option<(NaiveDate, &Signal, &super::observed::Observed)> = None;
    for signal in &BILLING_SIGNALS {
        let Some(s) = o.best(signal, day) else { continue };
        let Some(p) = s.point_at(day) else { continue };
        if best.as_ref().is_none_or(|(d, _, _)| p.day > *d) {
            best = Some((p.day, signal, s));
        }
    }
    best.map(|(_, signal, s)| (signal, s))
}

/// Days past due on `day` from the billing source that speaks (see
/// `billing_series`); `None` when unknown.
pub fn billing_on(o: &Observations, day: NaiveDate) -> Option<f64> {
    let (signal, s) = billing_series(o, day)?;
    let v = s.at(day)?;
    Some(match signal {
        // An invoice status: past due since the day it turned overdue.
        Signal::Overdue if v >= 0.5 => s.since(day)? as f64,
        Signal::Overdue => 0.0,
        Signal::OverdueSince if v > 0.0 => (epoch_days(day) - v).max(0.0),
        Signal::OverdueSince => 0.0,
        _ => v,
    })
}

/// An input's value with its unit ("19 days", "62%", "NPS 4").
pub fn value_text(m: Measure, v: f64) -> String {
    match m {
        Measure::Usage | Measure::Seats | Measure::Onboarding | Measure::SupportCsat | Measure::Metric(_) => {
            format!("{:.0}%", v * 100.0)
        }
        Measure::Engagement | Measure::TicketAge | Measure::Billing | Measure::Login => days(v),
        Measure::Support => format!("{v:.0}"),
        Measure::Satisfaction => format!("NPS {v:.0}"),
        Measure::NpsTrend => format!("{v:+.0}"),
        Measure::Sentiment => format!("{v:.0}/5"),
    }
}

fn days(v: f64) -> String {
    if v.round() == 1.0 {
        "1 day".into()
    } else {
        format!("{v:.0} days")
    }
}

/// One input in words, for the explanations.
pub fn describe(m: Measure, v: Option<f64>) -> String {
    let Some(v) = v else {
        return format!("{} not known", m.label());
    };
    match m {
        Measure::Usage => format!("usage at {:.0}% of its usual level", v * 100.0),
        Measure::Seats if v > 1.0 => format!("{:.0}% of seats in use: paying overages", v * 100.0),
        Measure::Seats => format!("{:.0}% of seats in use", v * 100.0),
        Measure::Engagement if v < 1.0 => "two-way contact today".into(),
        Measure::Engagement => format!("no reply from the customer for {}", days(v)),
        Measure::Support => format!("support load {v:.0} (open tickets, escalated ones count twice)"),
        Measure::TicketAge if v < 1.0 => "no ticket open longer than a day".into(),
        Measure::TicketAge => format!("oldest open ticket {} old", days(v)),
        Measure::Satisfaction => {
            let class = match classify(v as u8) {
                NpsClass::Promoter => "promoter",
                NpsClass::Passive => "passive",
                NpsClass::Detractor => "detractor",
            };
            format!("latest NPS answer {v:.0} ({class})")
        }
        Measure::NpsTrend if v < 0.0 => format!("NPS answer down {:.0} from the one before", -v),
        Measure::NpsTrend if v > 0.0 => format!("NPS answer up {v:.0} from the one before"),
        Measure::NpsTrend => "NPS answer unchanged".into(),
        Measure::Billing if v < 1.0 => "invoices paid on time".into(),
        Measure::Billing => format!("invoice {} past due", days(v)),
        Measure::Onboarding => format!("onboarding {:.0}% complete", v * 100.0),
        Measure::Sentiment => format!("CSM sentiment {v:.0} of 5"),
        Measure::SupportCsat => format!("{:.0}% of rated tickets rated good", v * 100.0),
        Measure::Login if v < 1.0 => "someone logged in today".into(),
        Measure::Login => format!("no login for {}", days(v)),
        Measure::Metric(_) => format!("{} at {:.0}% of its usual level", m.key(), v * 100.0),
    }
}

/// The stage an account was probably in on `day`, from its contract dates:
/// the early stages by days since the contract started, the renewal
/// stages by days to renewal, else `settled` (adoption or expansion).
pub fn stage_on(contract_start: NaiveDate, renewal: NaiveDate, day: NaiveDate, settled: Stage) -> Stage {
    let tenure = (day - contract_start).num_days();
    match tenure {
        t if t < 3 => Stage::Handover,
        t if t < 14 => Stage::Delivery,
        t if t < 60 => Stage::Onboarding,
        _ => Stage::renewal_window((renewal - day).num_days()).unwrap_or(settled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rating::Verdict;
    use crate::domain::{AccountId, ActivityKind, Segment, TicketPriority, TicketStatus};
    use chrono::Duration;

    fn account() -> Account {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        Account {
            id: AccountId(1),
            name: "Acme".into(),
            domain: "acme.com".into(),
            segment: Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: String::new(),
            plan: "Pro".into(),
            seats: 20,
            arr: 10_000,
            contract_start: d,
            renewal_date: d + Duration::days(365),
            stage: Stage::Adoption,
            key_people: vec![],
            outcome: None,
        }
    }

    fn ticket(id: u64, created: DateTime<Utc>, status: TicketStatus, escalated: bool) -> Ticket {
        Ticket {
            id,
            account_id: AccountId(1),
            subject: "x".into(),
            status,
            priority: TicketPriority::Normal,
            team: crate::domain::Team::Unassigned,
            requester: String::new(),
            created_at: created,
            updated_at: created,
            last_customer_reply: Some(created),
            last_agent_reply: None,
            seen_by_customer: false,
            complex: false,
            frustrated: false,
            bug: false,
            escalated,
            follow_ups_sent: 0,
        }
    }

    #[test]
    fn bytes_round_trip_at_their_precision() {
        for m in Measure::ALL {
            assert_eq!(dequantize(m, UNKNOWN), None);
        }
        assert_eq!(dequantize(Measure::Usage, quantize(Measure::Usage, 0.624)), Some(0.62));
        assert_eq!(dequantize(Measure::NpsTrend, quantize(Measure::NpsTrend, -4.0)), Some(-4.0));
        assert_eq!(quantize(Measure::Engagement, 900.0), 254);
        assert_eq!(quantize(Measure::Satisfaction, 14.0), 10);
        assert_eq!(quantize(Measure::Sentiment, 0.0), 1);
        assert_eq!(quantize(Measure::Usage, f64::NAN), UNKNOWN);
        let mut i = Inputs::default();
        i.set(Measure::Seats, 0.5).set(Measure::Billing, 12.0);
        let d = DaySignals::new(&i, Stage::RenewalPrep);
        assert_eq!(d.stage(), Some(Stage::RenewalPrep));
        assert_eq!(d.inputs().get(Measure::Seats), Some(0.5));
        assert_eq!(d.inputs().get(Measure::Billing), Some(12.0));
        assert_eq!(d.inputs().get(Measure::Usage), None);
        assert!(!DaySignals::default().is_known());
    }

    #[test]
    fn inputs_come_from_the_records_as_of_the_clock() {
        let now = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();
        let a = account();
        let tickets = [
            ticket(1, now - Duration::days(12), TicketStatus::Open, true),
            ticket(2, now - Duration::days(3), TicketStatus::Pending, false),
            ticket(3, now - Duration::days(40), TicketStatus::Solved, false),
            // Opened after the clock: it does not exist yet.
            ticket(4, now + Duration::days(1), TicketStatus::Open, true),
        ];
        let call = Activity {
            id: 1,
            account_id: AccountId(1),
            at: now - Duration::days(2),
            kind: ActivityKind::Call,
            summary: String::new(),
            author: String::new(),
        };
        let note = Activity { id: 2, at: now - Duration::hours(1), kind: ActivityKind::Note, ..call.clone() };
        let nps = [
            NpsResponse {
                id: 1,
                account_id: AccountId(1),
                on: now.date_naive() - Duration::days(100),
                score: 9,
                comment: String::new(),
            },
            NpsResponse {
                id: 2,
                account_id: AccountId(1),
                on: now.date_naive() - Duration::days(5),
                score: 4,
                comment: String::new(),
            },
            NpsResponse {
                id: 3,
                account_id: AccountId(1),
                on: now.date_naive() + Duration::days(5),
                score: 10,
                comment: String::new(),
            },
        ];
        let rating = |days: i64, verdict| Rating { at: now - Duration::days(days), verdict, comment: String::new() };
        let ratings =
            [rating(3, Verdict::Good), rating(40, Verdict::Bad), rating(60, Verdict::Good), rating(120, Verdict::Bad)];
        let manual = ManualSignals {
            usage_trend: Some(0.8),
            active_users: Some(25),
            days_past_due: Some(0),
            onboarding: None,
            sentiment: Some(Sentiment { value: 2, at: now - Duration::days(91), by: "dana".into() }),
        };
        let r = Records {
            account: &a,
            tickets: &tickets,
            activities: &[call, note],
            nps: &nps,
            ratings: &ratings,
            manual: Some(&manual),
            observed: None,
        };
        let i = inputs_at(&r, now);
        assert_eq!(i.get(Measure::Engagement), Some(2.0), "the call, not the note, and not ticket 4");
        assert_eq!(i.get(Measure::Support), Some(4.0), "two open, one escalated");
        assert_eq!(i.get(Measure::TicketAge), Some(12.0));
        assert_eq!(i.get(Measure::Satisfaction), Some(4.0));
        assert_eq!(i.get(Measure::NpsTrend), Some(-5.0));
        let csat = i.get(Measure::SupportCsat).unwrap();
        assert!((csat - 2.0 / 3.0).abs() < 1e-9, "2 of the 3 ratings of the last 90 days are good: {csat}");
        assert_eq!(i.get(Measure::Usage), Some(0.800000011920929));
        assert_eq!(i.get(Measure::Seats), Some(1.25));
        assert_eq!(i.get(Measure::Billing), Some(0.0));
        assert_eq!(i.get(Measure::Onboarding), None);
        assert_eq!(i.get(Measure::Sentiment), None, "a sentiment older than 90 days no longer counts");
        let fresh = ManualSignals {
            sentiment: Some(Sentiment { value: 2, at: now - Duration::days(90), by: "dana".into() }),
            ..manual
        };
        let i = inputs_at(&Records { manual: Some(&fresh), ..r }, now);
        assert_eq!(i.get(Measure::Sentiment), Some(2.0));
    }

    #[test]
    fn no_records_leave_only_support_known() {
        let a = account();
        let now = Utc::now();
        let r = Records {
            account: &a,
            tickets: &[],
            activities: &[],
            nps: &[],
            ratings: &[],
            manual: None,
            observed: None,
        };
        let i = inputs_at(&r, now);
        assert_eq!(i.get(Measure::Support), Some(0.0));
        assert_eq!(i.get(Measure::TicketAge), Some(0.0));
        for m in [Measure::Engagement, Measure::Satisfaction, Measure::Usage, Measure::Sentiment, Measure::SupportCsat]
        {
            assert_eq!(i.get(m), None, "{m:?}");
        }
    }

    #[test]
    fn of_two_billing_sources_the_one_that_changed_last_speaks() {
        use crate::domain::observed::{epoch_days, Observed, Point};
        let d = |n: i64| NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(n);
        let series = |origin: &str, points: &[(i64, f64)]| {
            let mut o = Observed::new(origin, d(0));
            o.merge(points.iter().map(|(n, v)| Point { day: d(*n), value: Some(*v) }));
            o
        };
        let crm = series("crm:days_past_due", &[(0, 0.0)]);
        let stripe = series("stripe:invoices", &[(10, epoch_days(d(5))), (30, 0.0)]);
        let o =
            Observations { series: vec![(Signal::DaysPastDue, crm.clone()), (Signal::OverdueSince, stripe.clone())] };
        assert_eq!(billing_on(&o, d(5)), Some(0.0), "before Stripe said anything, the CRM's 0");
        assert_eq!(billing_on(&o, d(12)), Some(7.0), "unpaid since day 5: the days count on");
        assert_eq!(billing_on(&o, d(20)), Some(15.0));
        assert_eq!(billing_on(&o, d(31)), Some(0.0), "paid");
        // The CRM's figure changes after Stripe's last word: it speaks.
        let later = series("crm:days_past_due", &[(0, 0.0), (15, 3.0)]);
        let o = Observations { series: vec![(Signal::DaysPastDue, later), (Signal::OverdueSince, stripe)] };
        assert_eq!(billing_on(&o, d(16)), Some(3.0));
    }

    #[test]
    fn inputs_read_as_sentences() {
        assert_eq!(describe(Measure::Engagement, Some(19.0)), "no reply from the customer for 19 days");
        assert_eq!(describe(Measure::Engagement, Some(1.0)), "no reply from the customer for 1 day");
        assert_eq!(describe(Measure::Seats, Some(1.15)), "115% of seats in use: paying overages");
        assert_eq!(describe(Measure::Satisfaction, Some(4.0)), "latest NPS answer 4 (detractor)");
        assert_eq!(describe(Measure::NpsTrend, Some(-3.0)), "NPS answer down 3 from the one before");
        assert_eq!(describe(Measure::Billing, Some(0.0)), "invoices paid on time");
        assert_eq!(describe(Measure::Usage, None), "usage not known");
        assert_eq!(value_text(Measure::Usage, 0.62), "62%");
        assert_eq!(value_text(Measure::Sentiment, 4.0), "4/5");
    }

    #[test]
    fn stages_follow_the_contract_dates() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let renewal = start + Duration::days(365);
        let on = |d: i64| stage_on(start, renewal, start + Duration::days(d), Stage::Adoption);
        assert_eq!(on(0), Stage::Handover);
        assert_eq!(on(3), Stage::Delivery);
        assert_eq!(on(14), Stage::Onboarding);
        assert_eq!(on(60), Stage::Adoption);
        assert_eq!(on(365 - 90), Stage::renewal_window(90).unwrap());
    }
}
