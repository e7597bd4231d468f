//! Health: one 0-100 score per account per day, explained by its factors.
//!
//! The measures, factors, bands and trends every view shares; how inputs
//! become factors is the health model (`health_model`), which is data.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// A measured signal that feeds health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Product usage against the account's own baseline.
    Usage,
    /// Active users against licensed seats.
    Seats,
    /// Recency of the last two-way contact.
    Engagement,
    /// Open and escalated tickets.
    Support,
    /// Latest NPS answer.
    Satisfaction,
    /// Payments on time.
    Billing,
    /// Age of the oldest open ticket.
    TicketAge,
    /// Change between the last two NPS answers.
    NpsTrend,
    /// Share of the onboarding plan completed.
    Onboarding,
    /// The CSM's own read of the account.
    Sentiment,
    /// Share of rated tickets the customer rated good (last 90 days).
    SupportCsat,
    /// Days since anyone at the account last logged in.
    Login,
    /// A named usage metric against its own baseline (slot 0-3; the names
    /// are the config's `[source.metrics]`, see `register_metrics`).
    Metric(u8),
}

/// Named usage metrics the model can read, at most this many.
pub const METRIC_SLOTS: usize = 4;

static METRIC_NAMES: std::sync::RwLock<[Option<&'static str>; METRIC_SLOTS]> =
    std::sync::RwLock::new([None; METRIC_SLOTS]);

/// Names the metric slots, in order (the config's metric names, sorted);
/// names past `METRIC_SLOTS` are ignored (the config check says so).
pub fn register_metrics(names: &[String]) {
    static LEAKED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut leaked = LEAKED.lock().unwrap_or_else(|p| p.into_inner());
    let mut slots = [None; METRIC_SLOTS];
    for (slot, name) in slots.iter_mut().zip(names) {
        // A name is leaked once per process: labels are `&'static str`.
        let s = match leaked.iter().find(|l| **l == name.as_str()) {
            Some(l) => *l,
            None => {
                let l: &'static str = Box::leak(name.clone().into_boxed_str());
                leaked.push(l);
                l
            }
        };
        *slot = Some(s);
    }
    *METRIC_NAMES.write().unwrap_or_else(|p| p.into_inner()) = slots;
}

/// The registered metric names, by slot.
pub fn metric_names() -> Vec<(u8, &'static str)> {
    let names = METRIC_NAMES.read().unwrap_or_else(|p| p.into_inner());
    names.iter().enumerate().filter_map(|(i, n)| Some((i as u8, (*n)?))).collect()
}

fn metric_name(slot: u8) -> Option<&'static str> {
    METRIC_NAMES.read().unwrap_or_else(|p| p.into_inner()).get(slot as usize).copied().flatten()
}

impl Measure {
    /// Every measure in display order.
    pub const ALL: [Measure; 16] = [
        Measure::Usage,
        Measure::Seats,
        Measure::Engagement,
        Measure::Support,
        Measure::TicketAge,
        Measure::Satisfaction,
        Measure::NpsTrend,
        Measure::Billing,
        Measure::Onboarding,
        Measure::Sentiment,
        Measure::SupportCsat,
        Measure::Login,
        Measure::Metric(0),
        Measure::Metric(1),
        Measure::Metric(2),
        Measure::Metric(3),
    ];

    /// Position in `ALL` (and byte in `DaySignals`).
    pub const fn index(self) -> usize {
        match self {
            Measure::Usage => 0,
            Measure::Seats => 1,
            Measure::Engagement => 2,
            Measure::Support => 3,
            Measure::TicketAge => 4,
            Measure::Satisfaction => 5,
            Measure::NpsTrend => 6,
            Measure::Billing => 7,
            Measure::Onboarding => 8,
            Measure::Sentiment => 9,
            Measure::SupportCsat => 10,
            Measure::Login => 11,
            Measure::Metric(i) => 12 + (i as usize % METRIC_SLOTS),
        }
    }

    /// Whether the measure can hold a value: a metric slot needs a name.
    pub fn is_named(self) -> bool {
        match self {
            Measure::Metric(i) => metric_name(i).is_some(),
            _ => true,
        }
    }

    /// The measures that can hold a value, in display order.
    pub fn named() -> impl Iterator<Item = Measure> {
        Measure::ALL.into_iter().filter(|m| m.is_named())
    }

    /// The input's name in a health model file.
    pub fn key(self) -> &'static str {
        match self {
            Measure::Usage => "usage_trend",
            Measure::Seats => "seat_utilisation",
            Measure::Engagement => "days_since_contact",
            Measure::Support => "support_load",
            Measure::Satisfaction => "nps",
            Measure::Billing => "days_past_due",
            Measure::TicketAge => "oldest_ticket_days",
            Measure::NpsTrend => "nps_trend",
            Measure::Onboarding => "onboarding_completion",
            Measure::Sentiment => "csm_sentiment",
            Measure::SupportCsat => "support_satisfaction",
            Measure::Login => "days_since_login",
            Measure::Metric(i) => {
                metric_name(i).unwrap_or(["metric_1", "metric_2", "metric_3", "metric_4"][i as usize % 4])
            }
        }
    }

    /// The measure reading a named input (a built-in input or a registered metric).
    pub fn from_key(key: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.is_named() && m.key() == key)
    }

    /// What the input is, for messages and the model reference.
    pub fn describe(self) -> &'static str {
        match self {
            Measure::Usage => "usage against the account's own 90-day baseline (1.0 = normal)",
            Measure::Seats => "active users / licensed seats",
            Measure::Engagement => "days since the last two-way contact",
            Measure::Support => "open tickets + 2 x escalated ones",
            Measure::Satisfaction => "latest NPS answer (0-10)",
            Measure::Billing => "days the oldest invoice is past due",
            Measure::TicketAge => "days the oldest open ticket has been open",
            Measure::NpsTrend => "latest NPS answer minus the one before",
            Measure::Onboarding => "share of the onboarding plan completed (0-1)",
            Measure::Sentiment => "the CSM's sentiment: 1 (worried) to 5 (confident)",
            Measure::SupportCsat => "share of ticket ratings and CSAT / CES answers that were good, last 90 days (0-1)",
            Measure::Login => "days since anyone at the account last logged in",
            Measure::Metric(_) => "a named usage metric against its own 90-day baseline (1.0 = normal)",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Usage => "usage",
            Measure::Seats => "seats",
            Measure::Engagement => "contact",
            Measure::Support => "support",
            Measure::Satisfaction => "NPS",
            Measure::Billing => "billing",
            Measure::TicketAge => "ticket age",
            Measure::NpsTrend => "NPS trend",
            Measure::Onboarding => "onboarding",
            Measure::Sentiment => "sentiment",
            Measure::SupportCsat => "CSAT",
            Measure::Login => "last login",
            Measure::Metric(_) => self.key(),
        }
    }
}

impl Serialize for Measure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Measure, D::Error> {
        let key = String::deserialize(d)?;
        Measure::from_key(&key).ok_or_else(|| serde::de::Error::custom(format!("unknown input \"{key}\"")))
    }
}

/// One measure's part in a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    /// Which measure.
    pub measure: Measure,
    /// The measure scored 0-100.
    pub score: u8,
    /// Its weight in the roll-up.
    pub weight: u8,
}

/// Weighted average of factor scores, rounded; `None` when no weight is set.
pub fn combine(factors: &[Factor]) -> Option<u8> {
    let total: u32 = factors.iter().map(|f| f.weight as u32).sum();
    if total == 0 {
        return None;
    }
    let sum: u32 = factors.iter().map(|f| f.weight as u32 * f.score.min(100) as u32).sum();
    Some(((sum + total / 2) / total) as u8)
}

/// Colour band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Healthy.
    Green,
    /// Watch.
    Yellow,
    /// At risk.
    Red,
}

impl Band {
    /// Stable machine name.
    pub fn key(self) -> &'static str {
        match self {
            Band::Green => "green",
            Band::Yellow => "yellow",
            Band::Red => "red",
        }
    }
}

/// Band thresholds: `score >= green` is green, `score >= yellow` yellow, else red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    /// Lowest green score.
    pub green: u8,
    /// Lowest yellow score.
    pub yellow: u8,
}

impl Default for Bands {
    fn default() -> Self {
        Bands { green: 70, yellow: 40 }
    }
}

impl Bands {
    /// The band of a score.
    pub fn band(&self, score: u8) -> Band {
        if score >= self.green {
            Band::Green
        } else if score >= self.yellow {
            Band::Yellow
        } else {
            Band::Red
        }
    }

    /// Checks the thresholds make sense; the message is for the CSM.
    pub fn validate(&self) -> Result<(), String> {
        if self.green > 100 {
            return Err(format!("health.bands.green is {}, it must be at most 100", self.green));
        }
        if self.yellow >= self.green {
            return Err(format!(
                "health.bands.yellow ({}) must be below health.bands.green ({})",
                self.yellow, self.green
            ));
        }
        Ok(())
    }
}

/// Direction of the 7-day change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Up by 3 points or more.
    Up,
    /// Within +/-2 points.
    Flat,
    /// Down by 3 points or more.
    Down,
    /// Not enough history.
    Unknown,
}

impl Trend {
    /// Classifies a change in points.
    pub fn from_delta(delta: Option<i16>) -> Trend {
        match delta {
            None => Trend::Unknown,
            Some(d) if d >= 3 => Trend::Up,
            Some(d) if d <= -3 => Trend::Down,
            Some(_) => Trend::Flat,
        }
    }

    /// Arrow glyph.
    pub fn arrow(self) -> &'static str {
        match self {
            Trend::Up => "↑",
            Trend::Flat => "→",
            Trend::Down => "↓",
            Trend::Unknown => " ",
        }
    }
}

/// A run of daily scores starting at `start` (one slot per day, `None` = no score).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HealthHistory {
    /// Day of the first slot.
    pub start: Option<NaiveDate>,
    /// One slot per day.
    pub scores: Vec<Option<u8>>,
}

impl HealthHistory {
    /// The score on a day, if recorded.
    pub fn at(&self, day: NaiveDate) -> Option<u8> {
        let start = self.start?;
        let i = (day - start).num_days();
        if i < 0 {
            return None;
        }
        self.scores.get(i as usize).copied().flatten()
    }

    /// The last day that has a score, with the score.
    pub fn latest(&self) -> Option<(NaiveDate, u8)> {
        let start = self.start?;
        self.scores.iter().enumerate().rev().find_map(|(i, s)| s.map(|v| (start + Duration::days(i as i64), v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(measure: Measure, score: u8, weight: u8) -> Factor {
        Factor { measure, score, weight }
    }

    #[test]
    fn band_edges() {
        let b = Bands::default();
        assert_eq!(b.band(100), Band::Green);
        assert_eq!(b.band(70), Band::Green);
        assert_eq!(b.band(69), Band::Yellow);
        assert_eq!(b.band(40), Band::Yellow);
        assert_eq!(b.band(39), Band::Red);
        assert_eq!(b.band(0), Band::Red);
        assert!(Bands { green: 40, yellow: 40 }.validate().is_err());
        assert!(Bands { green: 101, yellow: 40 }.validate().is_err());
        assert!(b.validate().is_ok());
    }

    #[test]
    fn combine_is_weighted_and_rounded() {
        assert_eq!(combine(&[]), None);
        assert_eq!(combine(&[f(Measure::Usage, 50, 1), f(Measure::Seats, 100, 1)]), Some(75));
        assert_eq!(combine(&[f(Measure::Usage, 0, 3), f(Measure::Seats, 100, 1)]), Some(25));
        assert_eq!(combine(&[f(Measure::Usage, 33, 1), f(Measure::Seats, 34, 1)]), Some(34));
    }

    #[test]
    fn trend_thresholds() {
        assert_eq!(Trend::from_delta(Some(3)), Trend::Up);
        assert_eq!(Trend::from_delta(Some(2)), Trend::Flat);
        assert_eq!(Trend::from_delta(Some(-2)), Trend::Flat);
        assert_eq!(Trend::from_delta(Some(-3)), Trend::Down);
        assert_eq!(Trend::from_delta(None), Trend::Unknown);
    }

    #[test]
    fn history_lookup() {
        let d0 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let h = HealthHistory { start: Some(d0), scores: vec![Some(50), None, Some(60), None] };
        assert_eq!(h.at(d0), Some(50));
        assert_eq!(h.at(d0 + Duration::days(1)), None);
        assert_eq!(h.at(d0 - Duration::days(1)), None);
        assert_eq!(h.latest(), Some((d0 + Duration::days(2), 60)));
    }
}
