//! What drives a demo account's signals and its outcome: a hidden story
//! (usage falling for some months before a churn, an invoice paid late, a
//! run of escalations, or nothing at all before a budget cut) that shows in
//! some inputs and not in others, with noise and lead times that vary.
//!
//! The health model is never consulted. Who churns follows the story
//! through thresholds and interactions the model does not mirror (an
//! enterprise contract rides out a usage dip; an invoice matters once it is
//! a month late; escalations matter when usage falls too), and contact,
//! onboarding and most of the CSM's read have nothing to do with it. So a
//! backtest on the demo measures the model, not the generator.

use chrono::{Datelike, Duration, NaiveDate};

use super::rng::Rng;
use crate::domain::Segment;

/// A span of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub until: NaiveDate,
}

impl Span {
    fn holds(&self, d: NaiveDate) -> bool {
        (self.from..=self.until).contains(&d)
    }
}

/// Usage falling over a span, losing `depth` of the users by its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decline {
    /// When the fall runs.
    pub span: Span,
    /// Share of the users lost by the end (0-1).
    pub depth: f32,
    /// Whether usage climbs back after the span (a renewed account).
    pub recovers: bool,
}

/// An invoice that fell due and was paid `days` later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Late {
    /// The day it fell due.
    pub due: NaiveDate,
    /// Days until it was paid.
    pub days: i64,
}

/// A run of tickets adding `load` to the support load over a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// When the tickets were open.
    pub span: Span,
    /// Open tickets plus twice the escalated ones.
    pub load: u8,
}

/// What may go wrong for an account before its outcome, drawn before the
/// dates are known: lead times in days before the end of the story.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drivers {
    /// Usage falls from `lead` days before, losing `depth`.
    pub decline: Option<(i64, f32)>,
    /// An invoice falls due `lead` days before and is paid `days` later.
    pub late: Option<(i64, i64)>,
    /// Escalated tickets from `lead` days before, adding `load`.
    pub escalation: Option<(i64, u8)>,
    /// A budget cut or an acquisition: a churn with no warning.
    pub shock: bool,
}

impl Drivers {
    /// Draws the drivers; `trouble` is the chance usage falls.
    pub fn draw(rng: &mut Rng, trouble: f32) -> Drivers {
        Drivers {
            decline: rng.chance(trouble).then(|| (rng.range(30, 240), 0.3 + 0.55 * rng.f32())),
            late: rng.chance(0.18).then(|| (rng.range(20, 200), rng.range(5, 120))),
            escalation: rng.chance(0.22).then(|| (rng.range(20, 200), rng.range(3, 8) as u8)),
            shock: rng.chance(0.1),
        }
    }

    /// Whether an account whose contract came up churned (else renewed).
    pub fn churns(&self, rng: &mut Rng, segment: Segment) -> bool {
        if self.shock {
            return rng.chance(0.95);
        }
        let mut p: f32 = 0.08;
        if let Some((_, depth)) = self.decline {
            p += match segment {
                Segment::Enterprise => 0.15,
                _ if depth > 0.45 => 0.7,
                _ => 0.3,
            };
        }
        if self.late.is_some_and(|(_, days)| days > 30) {
            p += 0.45;
        }
        if self.escalation.is_some() {
            p += if self.decline.is_some() { 0.35 } else { 0.05 };
        }
        rng.chance(p.min(0.97))
    }
}

/// An account's whole story, dated.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    /// Share of the seats in use in ordinary times.
    pub utilisation: f32,
    /// The usage fall, if any.
    pub decline: Option<Decline>,
    /// Invoices paid late: the one that matters, and ordinary slips.
    pub late: Vec<Late>,
    /// Support runs: the escalations that matter, and ordinary ones.
    pub episodes: Vec<Episode>,
    /// Open tickets on an ordinary day.
    pub support: u8,
    /// Days between the CSM's contacts: the segment's cadence and the
    /// CSM's habits, nothing to do with how the account is doing.
    pub cadence: i64,
}

impl Story {
    /// Dates the drivers against `end` (the outcome, or a day ahead for a
    /// live account in trouble), with ordinary noise over the year before
    /// `today`; `recovers` when the account renewed.
    pub fn place(rng: &mut Rng, drivers: &Drivers, end: NaiveDate, today: NaiveDate, segment: Segment) -> Story {
        let span = |lead: i64| Span { from: end - Duration::days(lead), until: end };
        let decline = drivers.decline.map(|(lead, depth)| Decline { span: span(lead), depth, recovers: end < today });
        let mut late: Vec<Late> =
            drivers.late.map(|(lead, days)| Late { due: end - Duration::days(lead), days }).into_iter().collect();
        if rng.chance(0.3) {
            late.push(Late { due: today - Duration::days(rng.range(0, 400)), days: rng.range(3, 20) });
        }
        let mut episodes: Vec<Episode> =
            drivers.escalation.map(|(lead, load)| Episode { span: span(lead), load }).into_iter().collect();
        if rng.chance(0.5) {
            let from = today - Duration::days(rng.range(0, 400));
            episodes.push(Episode {
                span: Span { from, until: from + Duration::days(rng.range(5, 40)) },
                load: rng.range(1, 4) as u8,
            });
        }
        let utilisation = if rng.chance(0.08) { 1.05 + 0.25 * rng.f32() } else { 0.45 + 0.55 * rng.f32() };
        let cadence = match segment {
            Segment::Enterprise => rng.range(5, 15),
            Segment::MidMarket => rng.range(12, 35),
            Segment::Smb => rng.range(20, 75),
        };
        Story { utilisation, decline, late, episodes, support: rng.range(0, 3) as u8, cadence }
    }

    /// Share of the ordinary users active on `d` (before day-to-day noise).
    pub fn usage_level(&self, d: NaiveDate) -> f32 {
        let Some(x) = self.decline else { return self.utilisation };
        let lead = (x.span.until - x.span.from).num_days().max(1) as f32;
        let lost = if d < x.span.from {
            0.0
        } else if d <= x.span.until {
            x.depth * (d - x.span.from).num_days() as f32 / lead
        } else if x.recovers {
            // Back to normal over the two months after the renewal.
            x.depth * (1.0 - (d - x.span.until).num_days() as f32 / 60.0).max(0.0)
        } else {
            x.depth
        };
        self.utilisation * (1.0 - lost)
    }

    /// Days the oldest unpaid invoice is past due on `d`.
    pub fn past_due(&self, d: NaiveDate) -> i64 {
        let open = |l: &Late| Some((d - l.due).num_days()).filter(|n| (0..l.days).contains(n));
        self.late.iter().filter_map(open).max().unwrap_or(0)
    }

    /// The support load and the oldest open ticket's age on `d`.
    pub fn support_on(&self, d: NaiveDate) -> (u8, i64) {
        let mut load = self.support;
        let mut oldest = if self.support > 0 { 2 + (d.ordinal0() as i64 % 9) } else { 0 };
        for e in self.episodes.iter().filter(|e| e.span.holds(d)) {
            load += e.load;
            oldest = oldest.max((d - e.span.from).num_days().min(60));
        }
        (load, oldest)
    }

    /// Whether anything is going wrong on `d` (what a CSM might notice).
    pub fn in_trouble(&self, d: NaiveDate) -> bool {
        self.decline.is_some_and(|x| x.span.holds(d))
            || self.past_due(d) > 0
            || self.episodes.iter().any(|e| e.load >= 3 && e.span.holds(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(n)
    }

    #[test]
    fn usage_falls_over_the_decline_and_a_renewal_recovers() {
        let mut s = Story {
            utilisation: 0.8,
            decline: Some(Decline { span: Span { from: day(0), until: day(100) }, depth: 0.5, recovers: false }),
            late: vec![Late { due: day(10), days: 20 }],
            episodes: vec![],
            support: 0,
            cadence: 30,
        };
        assert_eq!(s.usage_level(day(-1)), 0.8);
        assert!((s.usage_level(day(50)) - 0.6).abs() < 1e-6);
        assert!((s.usage_level(day(200)) - 0.4).abs() < 1e-6, "a churned account stays down");
        s.decline.as_mut().unwrap().recovers = true;
        assert!((s.usage_level(day(160)) - 0.8).abs() < 1e-6, "a renewed one climbs back");
        assert_eq!((s.past_due(day(9)), s.past_due(day(10)), s.past_due(day(29)), s.past_due(day(30))), (0, 0, 19, 0));
        assert!(s.in_trouble(day(50)) && !s.in_trouble(day(-5)));
    }

    #[test]
    fn the_outcome_follows_the_story_not_a_weighted_sum() {
        let churn_rate = |d: Drivers, segment| {
            let mut rng = Rng::new(1, 1);
            (0..4000).filter(|_| d.churns(&mut rng, segment)).count() as f32 / 4000.0
        };
        let quiet = Drivers { decline: None, late: None, escalation: None, shock: false };
        let deep = Drivers { decline: Some((100, 0.6)), ..quiet };
        assert!(churn_rate(quiet, Segment::Smb) < 0.2);
        assert!(churn_rate(Drivers { shock: true, ..quiet }, Segment::Smb) > 0.9, "out of the blue");
        assert!(churn_rate(deep, Segment::Smb) > 0.75);
        assert!(churn_rate(deep, Segment::Enterprise) < 0.35, "an enterprise contract rides out the dip");
        assert!(
            churn_rate(Drivers { late: Some((50, 20)), ..quiet }, Segment::Smb) < 0.2,
            "a few days late is nothing"
        );
        assert!(churn_rate(Drivers { late: Some((50, 60)), ..quiet }, Segment::Smb) > 0.5);
        let escalated = Drivers { escalation: Some((50, 5)), ..quiet };
        assert!(churn_rate(escalated, Segment::Smb) < 0.25, "escalations alone get solved");
    }
}
