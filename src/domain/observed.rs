//! What sources report about an account over time, before the health model
//! reads it: product usage, seats, billing, onboarding, logins and named
//! usage metrics, each as a dated series of values from one source. A
//! value holds from the day it was reported until the next one, so the
//! value on any past day is the last change at or before it.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// A raw input a source reports about an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Signal {
    /// Users active in the last 30 days.
    ActiveUsers,
    /// Licensed seats.
    Seats,
    /// Monthly recurring revenue.
    Mrr,
    /// Days the oldest unpaid invoice is past due.
    DaysPastDue,
    /// 1 while an invoice is past due, 0 when paid up (from an invoice
    /// status): days past due count from the day it turned 1.
    Overdue,
    /// Share of the onboarding plan completed (0-1).
    Onboarding,
    /// Day of the last login, as days since 1970-01-01.
    LastLogin,
    /// Usage against the account's own baseline, when a source computes it.
    UsageTrend,
    /// A named usage metric (`[source.metrics]`, an imported column).
    Metric(String),
    /// Last day the default card on file is valid, as days since
    /// 1970-01-01 (no value: no card on file).
    CardExpiry,
    /// Subscriptions cancelled for non-payment so far: steps up by one on
    /// each involuntary cancellation's day.
    InvoluntaryChurn,
    /// The due date of the oldest open invoice, as days since 1970-01-01
    /// (0: nothing unpaid): once it passes, days past due count on from it
    /// by themselves.
    OverdueSince,
}

impl Signal {
    /// The fixed signals, in display order.
    pub const FIXED: [Signal; 11] = [
        Signal::ActiveUsers,
        Signal::Seats,
        Signal::Mrr,
        Signal::DaysPastDue,
        Signal::Overdue,
        Signal::Onboarding,
        Signal::LastLogin,
        Signal::UsageTrend,
        Signal::CardExpiry,
        Signal::InvoluntaryChurn,
        Signal::OverdueSince,
    ];

    /// Stable name in keys, configs, files and JSON ("metric:<name>" for metrics).
    pub fn key(&self) -> String {
        match self {
            Signal::ActiveUsers => "active_users".into(),
            Signal::Seats => "seats".into(),
            Signal::Mrr => "mrr".into(),
            Signal::DaysPastDue => "days_past_due".into(),
            Signal::Overdue => "invoice_overdue".into(),
            Signal::Onboarding => "onboarding_completion".into(),
            Signal::LastLogin => "last_login".into(),
            Signal::UsageTrend => "usage_trend".into(),
            Signal::Metric(name) => format!("metric:{name}"),
            Signal::CardExpiry => "card_expiry".into(),
            Signal::InvoluntaryChurn => "involuntary_churn".into(),
            Signal::OverdueSince => "overdue_since".into(),
        }
    }

    /// The signal of a key written by `key`.
    pub fn from_key(key: &str) -> Option<Signal> {
        if let Some(name) = key.strip_prefix("metric:") {
            return (!name.is_empty()).then(|| Signal::Metric(name.to_string()));
        }
        Signal::FIXED.into_iter().find(|s| s.key() == key)
    }

    /// Words for explanations ("active users").
    pub fn label(&self) -> String {
        match self {
            Signal::ActiveUsers => "active users".into(),
            Signal::Seats => "seats".into(),
            Signal::Mrr => "MRR".into(),
            Signal::DaysPastDue => "days past due".into(),
            Signal::Overdue => "invoice overdue".into(),
            Signal::Onboarding => "onboarding completion".into(),
            Signal::LastLogin => "last login".into(),
            Signal::UsageTrend => "usage trend".into(),
            Signal::Metric(name) => name.clone(),
            Signal::CardExpiry => "card expiry".into(),
            Signal::InvoluntaryChurn => "involuntary churn".into(),
            Signal::OverdueSince => "oldest unpaid invoice due".into(),
        }
    }

    /// The range a sane value falls in; outside it the value is refused.
    pub fn range(&self) -> (f64, f64) {
        match self {
            Signal::ActiveUsers | Signal::Seats => (0.0, 10_000_000.0),
            Signal::Mrr => (0.0, 1e12),
            Signal::DaysPastDue => (0.0, 3_650.0),
            Signal::Overdue => (0.0, 1.0),
            Signal::Onboarding => (0.0, 1.0),
            // 1970 to 2200, in days.
            Signal::LastLogin | Signal::CardExpiry | Signal::OverdueSince => (0.0, 84_000.0),
            Signal::InvoluntaryChurn => (0.0, 1e6),
            Signal::UsageTrend => (0.0, 100.0),
            Signal::Metric(_) => (0.0, 1e12),
        }
    }

    /// Reads one raw value as the source sent it. `Ok(None)` is empty (no
    /// value: the input stays as it was); `Err` says why it is not usable
    /// (it then counts as unknown from that day, never as zero).
    pub fn parse(&self, raw: &str) -> Result<Option<f64>, String> {
        let v = raw.trim();
        if v.is_empty() {
            return Ok(None);
        }
        let value = match self {
            Signal::OverdueSince if overdue_word(v) == Some(false) => 0.0,
            Signal::LastLogin | Signal::CardExpiry | Signal::OverdueSince => {
                let day = parse_day(v).ok_or_else(|| format!("\"{}\" is not a date", shown(v)))?;
                (day - epoch()).num_days() as f64
            }
            Signal::Overdue => match overdue_word(v) {
                Some(b) => b as u8 as f64,
                None => number(v)?,
            },
            Signal::Onboarding => {
                let n = number(v)?;
                // "85%", "85" and "0.85" all mean 85 per cent.
                if v.ends_with('%') || n > 1.0 {
                    n / 100.0
                } else {
                    n
                }
            }
            _ => number(v)?,
        };
        let (lo, hi) = self.range();
        if !(lo..=hi).contains(&value) {
            return Err(format!("{} is out of range for {} ({lo} to {hi})", shown(v), self.label()));
        }
        Ok(Some(value))
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

/// A day as a value of a date signal (days since 1970-01-01).
pub fn epoch_days(day: NaiveDate) -> f64 {
    (day - epoch()).num_days() as f64
}

/// The day a date signal's value stands for.
pub fn from_epoch_days(value: f64) -> Option<NaiveDate> {
    value.is_finite().then(|| epoch().checked_add_signed(Duration::days(value as i64))).flatten()
}

/// A value cut to a readable length for messages.
fn shown(v: &str) -> String {
    let cut: String = v.chars().take(40).filter(|c| !c.is_control()).collect();
    if v.chars().count() > 40 {
        format!("{cut}…")
    } else {
        cut
    }
}

/// A number as people and CRMs write it: "1,234", "$1,200.50", "85%", "1.5e3".
pub fn number(v: &str) -> Result<f64, String> {
    let cleaned: String = v
        .trim()
        .trim_end_matches('%')
        .trim_start_matches(['$', '€', '£'])
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    match cleaned.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(format!("\"{}\" is not a number", shown(v))),
    }
}

/// Whether an invoice status word means past due (`Some(true)`) or paid up.
fn overdue_word(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
        "overdue" | "past_due" | "unpaid" | "late" | "delinquent" | "uncollectible" => Some(true),
        "paid" | "current" | "open" | "draft" | "void" | "none" | "ok" | "on_time" => Some(false),
        _ => None,
    }
}

/// A date as sources send it: ISO date, ISO date-time or epoch milliseconds.
pub fn parse_day(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) {
        return chrono::DateTime::from_timestamp_millis(v.parse().ok()?).map(|t| t.date_naive());
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        // Days are UTC days everywhere.
        return Some(t.with_timezone(&chrono::Utc).date_naive());
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
}

/// One reported value: from `day` on, until the next point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The day it was reported (or changed, from a property's history).
    pub day: NaiveDate,
    /// The value; `None` when what was sent was not a usable number.
    pub value: Option<f64>,
}

/// One signal of one account from one source: its dated values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Where it comes from: the source's name and field ("hubspot:active_users_30d").
    pub origin: String,
    /// The last day the source confirmed the latest value.
    pub checked: NaiveDate,
    /// Values by day, ascending, one per day, each different from the one before.
    pub points: Vec<Point>,
}

impl Observed {
    /// An empty series from `origin`.
    pub fn new(origin: impl Into<String>, checked: NaiveDate) -> Observed {
        Observed { origin: origin.into(), checked, points: Vec::new() }
    }

    /// Adds values in any order, duplicates included: the last one given
    /// for a day wins, and a value equal to the one before it is dropped.
    /// Returns the earliest day whose value changed, if any did.
    pub fn merge(&mut self, points: impl IntoIterator<Item = Point>) -> Option<NaiveDate> {
        let before = self.points.clone();
        let mut all: Vec<(usize, Point)> = self.points.drain(..).enumerate().collect();
        let n = all.len();
        all.extend(points.into_iter().enumerate().map(|(i, p)| (n + i, p)));
        // By day, then by arrival: the later arrival for a day wins.
        all.sort_by_key(|(i, p)| (p.day, *i));
        let newest = all.last().map(|(_, p)| p.day);
        let mut out: Vec<Point> = Vec::with_capacity(all.len());
        for (_, p) in all {
            match out.last_mut() {
                Some(last) if last.day == p.day => *last = p,
                _ => out.push(p),
            }
        }
        out.dedup_by(|b, a| same(a.value, b.value));
        self.points = out;
        let changed = first_difference(&before, &self.points);
        if let Some(newest) = newest {
            self.checked = self.checked.max(newest);
        }
        changed
    }

    /// The point in force on `day`.
    pub fn point_at(&self, day: NaiveDate) -> Option<&Point> {
        let i = self.points.partition_point(|p| p.day <= day);
        i.checked_sub(1).map(|i| &self.points[i])
    }

    /// The value on `day`; `None` when unknown that day.
    pub fn at(&self, day: NaiveDate) -> Option<f64> {
        self.point_at(day)?.value
    }

    /// The mean daily value over `from..=to` (days with a known value),
    /// and how many days it had.
    pub fn mean(&self, from: NaiveDate, to: NaiveDate) -> Option<(f64, i64)> {
        let (mut sum, mut days) = (0.0, 0i64);
        let mut d = from;
        // Walk the points in force over the window rather than day by day.
        while d <= to {
            let i = self.points.partition_point(|p| p.day <= d);
            let next = self.points.get(i).map_or(to + Duration::days(1), |p| p.day).min(to + Duration::days(1));
            if let Some(v) = i.checked_sub(1).and_then(|i| self.points[i].value) {
                let n = (next - d).num_days();
                sum += v * n as f64;
                days += n;
            }
            d = next;
        }
        (days > 0).then(|| (sum / days as f64, days))
    }

    /// Days the value has been what it is on `day` (0 on the day it changed).
    pub fn since(&self, day: NaiveDate) -> Option<i64> {
        self.point_at(day).map(|p| (day - p.day).num_days())
    }
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        (None, None) => true,
        _ => false,
    }
}

fn first_difference(a: &[Point], b: &[Point]) -> Option<NaiveDate> {
    let mut i = 0;
    while i < a.len() && i < b.len() && a[i].day == b[i].day && same(a[i].value, b[i].value) {
        i += 1;
    }
    match (a.get(i), b.get(i)) {
        (None, None) => None,
        (Some(x), Some(y)) => Some(x.day.min(y.day)),
        (Some(x), None) => Some(x.day),
        (None, Some(y)) => Some(y.day),
    }
}

/// A trend against the series' own baseline on `day`: the value that day
/// over its mean across the 90 days before; unknown with under 28 days of
/// baseline or a baseline of zero.
pub fn trend(series: &Observed, day: NaiveDate) -> Option<f64> {
    let now = series.at(day)?;
    let (base, days) = series.mean(day - Duration::days(90), day - Duration::days(1))?;
    (days >= 28 && base > 0.0).then(|| now / base)
}

/// An account's signals: each with the series of every source reporting it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observations {
    /// (signal, series), one per signal and source.
    pub series: Vec<(Signal, Observed)>,
}

impl Observations {
    /// The series reporting `signal`, one per source.
    pub fn of<'a>(&'a self, signal: &'a Signal) -> impl Iterator<Item = &'a Observed> + 'a {
        self.series.iter().filter(move |(s, _)| s == signal).map(|(_, o)| o)
    }

    fn sources<'a>(&'a self, signal: &Signal) -> Vec<&'a Observed> {
        self.series.iter().filter(|(s, _)| s == signal).map(|(_, o)| o).collect()
    }

    /// The series in force for `signal` on `day`: of the sources reporting
    /// it, the one whose point in force is the most recent.
    pub fn best(&self, signal: &Signal, day: NaiveDate) -> Option<&Observed> {
        self.sources(signal)
            .into_iter()
            .filter_map(|o| Some((o.point_at(day)?.day, o)))
            .max_by_key(|(d, _)| *d)
            .map(|(_, o)| o)
    }

    /// The value of `signal` on `day` (the most recent source's).
    pub fn at(&self, signal: &Signal, day: NaiveDate) -> Option<f64> {
        self.best(signal, day)?.at(day)
    }

    /// Whether no signal is reported at all.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(day as i64)
    }

    fn p(day: u32, v: f64) -> Point {
        Point { day: d(day), value: Some(v) }
    }

    #[test]
    fn values_as_crms_send_them() {
        let s = Signal::ActiveUsers;
        assert_eq!(s.parse(" 42 "), Ok(Some(42.0)));
        assert_eq!(s.parse("1,234"), Ok(Some(1234.0)));
        assert_eq!(s.parse("12.0"), Ok(Some(12.0)));
        assert_eq!(s.parse(""), Ok(None));
        assert!(s.parse("lots").unwrap_err().contains("\"lots\" is not a number"));
        assert!(s.parse("-3").unwrap_err().contains("out of range"));
        assert!(s.parse("1e99").unwrap_err().contains("out of range"));
        assert!(s.parse("NaN").is_err());
        assert_eq!(Signal::Mrr.parse("$1,200.50"), Ok(Some(1200.5)));
        assert_eq!(Signal::Onboarding.parse("85%"), Ok(Some(0.85)));
        assert_eq!(Signal::Onboarding.parse("85"), Ok(Some(0.85)));
        assert_eq!(Signal::Onboarding.parse("0.5"), Ok(Some(0.5)));
        assert!(Signal::Onboarding.parse("250%").is_err());
        assert_eq!(Signal::Overdue.parse("Past due"), Ok(Some(1.0)));
        assert_eq!(Signal::Overdue.parse("paid"), Ok(Some(0.0)));
        assert!(Signal::Overdue.parse("maybe").is_err());
        let login = Signal::LastLogin.parse("2026-01-03T10:00:00Z").unwrap().unwrap();
        assert_eq!(epoch() + Duration::days(login as i64), d(2));
        assert_eq!(Signal::LastLogin.parse("1767398400000").unwrap().unwrap(), login);
        assert!(Signal::LastLogin.parse("yesterday").is_err());
        for s in Signal::FIXED.into_iter().chain([Signal::Metric("reports_run".into())]) {
            assert_eq!(Signal::from_key(&s.key()), Some(s));
        }
        assert_eq!(Signal::from_key("metric:"), None);
    }

    #[test]
    fn history_merges_in_any_order_and_the_last_change_holds() {
        let mut o = Observed::new("hubspot:active_users", d(0));
        // Out of order, with a duplicate day and an unchanged value.
        assert_eq!(o.merge([p(10, 5.0), p(0, 3.0), p(5, 3.0), p(10, 6.0), p(20, 6.0)]), Some(d(0)));
        assert_eq!(o.points, vec![p(0, 3.0), p(10, 6.0)]);
        assert_eq!(o.at(d(9)), Some(3.0));
        assert_eq!(o.at(d(10)), Some(6.0));
        assert_eq!(o.at(d(400)), Some(6.0));
        assert_eq!(o.at(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()), None);
        assert_eq!(o.checked, d(20));
        assert_eq!(o.since(d(15)), Some(5));
        // The same history again changes nothing.
        assert_eq!(o.merge([p(10, 6.0), p(0, 3.0)]), None);
        // A value that is not a number makes the input unknown from that day.
        assert_eq!(o.merge([Point { day: d(30), value: None }]), Some(d(30)));
        assert_eq!(o.at(d(31)), None);
        assert_eq!(o.merge([p(40, 7.0)]), Some(d(40)));
        assert_eq!(o.at(d(41)), Some(7.0));
    }

    #[test]
    fn means_and_trends_weigh_each_day() {
        let mut o = Observed::new("x", d(0));
        o.merge([p(0, 10.0), p(60, 20.0), p(100, 5.0)]);
        // Days 30..=89: 30 days at 10, 30 at 20.
        assert_eq!(o.mean(d(30), d(89)), Some((15.0, 60)));
        assert_eq!(o.mean(NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(), d(0)), Some((10.0, 1)));
        // 90 days before day 100: 60 days at 10 (days 10-59... from day 10), 40 at 20.
        let t = trend(&o, d(100)).unwrap();
        assert!((t - 5.0 / ((50.0 * 10.0 + 40.0 * 20.0) / 90.0)).abs() < 1e-9, "{t}");
        assert_eq!(trend(&o, d(20)), None, "under 28 days of baseline");
    }

    #[test]
    fn the_most_recent_source_speaks() {
        let mut crm = Observed::new("hubspot:users", d(0));
        crm.merge([p(0, 10.0)]);
        let mut file = Observed::new("import:usage.csv", d(0));
        file.merge([p(5, 12.0)]);
        let obs = Observations { series: vec![(Signal::ActiveUsers, crm), (Signal::ActiveUsers, file)] };
        assert_eq!(obs.at(&Signal::ActiveUsers, d(3)), Some(10.0));
        assert_eq!(obs.at(&Signal::ActiveUsers, d(6)), Some(12.0));
        assert_eq!(obs.best(&Signal::ActiveUsers, d(6)).unwrap().origin, "import:usage.csv");
        assert_eq!(obs.at(&Signal::Seats, d(6)), None);
    }
}
