//! Health: one 0-100 score per account per day, explained by its factors.
//!
//! The measures, factors, bands and trends every view shares; how inputs
//! become factors is the health model (`health_model`), which is data.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// A measured signal that feeds health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
}

impl Measure {
    /// Every measure in display order.
    pub const ALL: [Measure; 10] = [
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
    ];

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
        }
    }

    /// The measure reading a named input.
    pub fn from_key(key: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.key() == key)
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
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
