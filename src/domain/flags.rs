//! Churn-risk flags (and the one good-news flag) raised from a day's health
//! inputs, and the rule that keeps each from firing twice: a flag raises a
//! follow-up when its condition starts to hold, and not again, done or
//! snoozed, until the condition has cleared and come back.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::account::AccountId;
use super::cadence::{check_in, Cadence, Context};
use super::followup::{Draft, FollowUpKind, Priority};
use super::health::{Band, Bands, Measure};
use super::health_model::Inputs;
use super::rules::LifecycleRules;
use super::signals::describe;

/// A reason an account needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// Usage fell well below the account's own baseline.
    UsageDrop,
    /// No two-way contact for a long time.
    Silence,
    /// Many open or escalated tickets.
    TicketSpike,
    /// A frustrated customer on an open ticket.
    Frustration,
    /// The latest NPS answer is a detractor's.
    Detractor,
    /// An invoice is past due.
    PastDue,
    /// Health is in the red band.
    RedBand,
    /// Health fell by many points in a week.
    ScoreDrop,
    /// More users than seats: paying overages, an upgrade opportunity.
    Overage,
    /// No two-way contact for the segment's cadence: a proactive check-in.
    CheckIn,
    /// The default card on file expires within 30 days (or has expired).
    CardExpiring,
}

impl Flag {
    /// Every flag, in code order.
    pub const ALL: [Flag; 11] = [
        Flag::UsageDrop,
        Flag::Silence,
        Flag::TicketSpike,
        Flag::Frustration,
        Flag::Detractor,
        Flag::PastDue,
        Flag::RedBand,
        Flag::ScoreDrop,
        Flag::Overage,
        Flag::CheckIn,
        Flag::CardExpiring,
    ];

    /// Stable byte in store keys.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The flag of a stored byte.
    pub fn from_code(b: u8) -> Option<Flag> {
        Flag::ALL.get(b as usize).copied()
    }

    /// Stable machine name.
    pub fn key(self) -> &'static str {
        match self {
            Flag::UsageDrop => "usage_drop",
            Flag::Silence => "silence",
            Flag::TicketSpike => "ticket_spike",
            Flag::Frustration => "frustration",
            Flag::Detractor => "detractor",
            Flag::PastDue => "past_due",
            Flag::RedBand => "red_band",
            Flag::ScoreDrop => "score_drop",
            Flag::Overage => "overage",
            Flag::CheckIn => "check_in",
            Flag::CardExpiring => "card_expiring",
        }
    }

    /// The follow-up kind it raises.
    pub fn kind(self) -> FollowUpKind {
        match self {
            Flag::Overage => FollowUpKind::Upsell,
            Flag::CheckIn => FollowUpKind::CheckIn,
            _ => FollowUpKind::HealthRisk,
        }
    }

    fn priority(self) -> Priority {
        match self {
            Flag::RedBand | Flag::ScoreDrop | Flag::Frustration | Flag::PastDue => Priority::High,
            _ => Priority::Normal,
        }
    }
}

/// Thresholds of the flags (`[health.flags]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlagRules {
    /// Usage below this share of the baseline is a drop.
    pub usage_drop_below: f64,
    /// Days without two-way contact that count as silence.
    pub silence_days: f64,
    /// Support load (open + 2 x escalated) that counts as a spike.
    pub ticket_load: f64,
    /// Highest NPS answer that is a detractor's.
    pub detractor_max: f64,
    /// Days past due before billing is flagged.
    pub past_due_days: f64,
    /// Points lost in 7 days that count as a drop.
    pub score_drop_points: u8,
    /// Seat utilisation above which the account pays overages.
    pub overage_above: f64,
    /// Days without two-way contact before a check-in, per segment.
    pub check_in: Cadence,
    /// The lifecycle rules' settings (`[health.flags.lifecycle]`).
    pub lifecycle: LifecycleRules,
}

impl Default for FlagRules {
    fn default() -> Self {
        FlagRules {
            usage_drop_below: 0.7,
            silence_days: 30.0,
            ticket_load: 6.0,
            detractor_max: 6.0,
            past_due_days: 15.0,
            score_drop_points: 15,
            overage_above: 1.0,
            check_in: Cadence::default(),
            lifecycle: LifecycleRules::default(),
        }
    }
}

/// What the flags look at on one day.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// The day's inputs.
    pub inputs: &'a Inputs,
    /// Whether an open ticket comes from a frustrated customer.
    pub frustrated: bool,
    /// The day's score.
    pub score: Option<u8>,
    /// The score 7 days before.
    pub week_ago: Option<u8>,
    /// Band thresholds.
    pub bands: &'a Bands,
    /// Segment, stage and renewal, for the check-in (none: no check-in).
    pub context: Option<Context>,
}

/// The flags whose condition holds, each with its reason in words.
pub fn raised(rules: &FlagRules, c: &Check) -> Vec<(Flag, String)> {
    let mut out = Vec::new();
    let get = |m: Measure| c.inputs.get(m);
    let text = |m: Measure| describe(m, get(m));
    if get(Measure::Usage).is_some_and(|u| u < rules.usage_drop_below) {
        out.push((Flag::UsageDrop, format!("{}: a sudden drop", text(Measure::Usage))));
    }
    if get(Measure::Engagement).is_some_and(|d| d >= rules.silence_days) {
        out.push((Flag::Silence, text(Measure::Engagement)));
    }
    if get(Measure::Support).is_some_and(|l| l >= rules.ticket_load) {
        out.push((Flag::TicketSpike, text(Measure::Support)));
    }
    if c.frustrated {
        out.push((Flag::Frustration, "a frustrated customer on an open ticket".into()));
    }
    if get(Measure::Satisfaction).is_some_and(|s| s <= rules.detractor_max) {
        out.push((Flag::Detractor, text(Measure::Satisfaction)));
    }
    if get(Measure::Billing).is_some_and(|d| d >= rules.past_due_days) {
        out.push((Flag::PastDue, text(Measure::Billing)));
    }
    if let Some(s) = c.score.filter(|s| c.bands.band(*s) == Band::Red) {
        out.push((Flag::RedBand, format!("health {s} is in the red band (below {})", c.bands.yellow)));
    }
    if let (Some(now), Some(then)) = (c.score, c.week_ago) {
        if then as i16 - now as i16 > rules.score_drop_points as i16 {
            out.push((Flag::ScoreDrop, format!("health fell {} points in a week ({then} → {now})", then - now)));
        }
    }
    if get(Measure::Seats).is_some_and(|s| s > rules.overage_above) {
        let used = get(Measure::Seats).unwrap_or_default() * 100.0;
        out.push((
            Flag::Overage,
            format!("{used:.0}% of seats in use: paying overages, an upgrade would save them money"),
        ));
    }
    if let Some(reason) = c.context.and_then(|ctx| check_in(&rules.check_in, c.inputs, &ctx)) {
        out.push((Flag::CheckIn, reason));
    }
    out
}

/// Days before a card's expiry from which it is flagged.
pub const CARD_EXPIRY_DAYS: i64 = 30;

/// The card flag on `today`, from the last valid day of the default card
/// on file (`None`: no card on file, or not known).
pub fn card_expiring(expires: Option<NaiveDate>, today: NaiveDate) -> Option<(Flag, String)> {
    let expires = expires?;
    let left = (expires - today).num_days();
    let reason = match left {
        l if l > CARD_EXPIRY_DAYS => return None,
        l if l < 0 => format!(
            "the card on file expired on {}: ask for a new one before the next charge fails",
            expires.format("%Y-%m-%d")
        ),
        0 => "the card on file expires today: ask for a new one before the next charge fails".to_string(),
        l => format!(
            "the card on file expires in {l} day{} ({}): ask for a new one before the next charge fails",
            if l == 1 { "" } else { "s" },
            expires.format("%Y-%m-%d")
        ),
    };
    Some((Flag::CardExpiring, reason))
}

/// What to do with one flag of one account on a daily pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The condition starts to hold: raise a follow-up and remember it.
    Raise,
    /// Still holds and was raised: leave its follow-up (open, snoozed or
    /// done) as it is.
    Keep,
    /// Cleared: forget it, and take its follow-up out of the queue unless
    /// it was done.
    Clear,
    /// Neither holds nor was raised.
    Idle,
}

/// The de-duplication and re-fire rule.
pub fn step(holds: bool, raised_before: bool) -> Step {
    match (holds, raised_before) {
        (true, false) => Step::Raise,
        (true, true) => Step::Keep,
        (false, true) => Step::Clear,
        (false, false) => Step::Idle,
    }
}

/// The follow-up a raised flag puts in the queue, due at once.
pub fn draft(flag: Flag, reason: &str, account_id: AccountId, now: DateTime<Utc>) -> Draft {
    Draft {
        account_id,
        ticket_id: None,
        kind: flag.kind(),
        reason: reason.to_string(),
        due: now,
        priority: flag.priority(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(inputs: &Inputs, score: Option<u8>, week_ago: Option<u8>) -> Vec<Flag> {
        let bands = Bands::default();
        let c = Check { inputs, frustrated: false, score, week_ago, bands: &bands, context: None };
        raised(&FlagRules::default(), &c).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn each_flag_trips_at_its_edge() {
        let mut i = Inputs::default();
        i.set(Measure::Usage, 0.70).set(Measure::Engagement, 29.0).set(Measure::Support, 5.0);
        i.set(Measure::Satisfaction, 7.0).set(Measure::Billing, 14.0).set(Measure::Seats, 1.0);
        assert!(check(&i, Some(40), Some(55)).is_empty(), "all just inside");
        i.set(Measure::Usage, 0.69).set(Measure::Engagement, 30.0).set(Measure::Support, 6.0);
        i.set(Measure::Satisfaction, 6.0).set(Measure::Billing, 15.0).set(Measure::Seats, 1.01);
        assert_eq!(
            check(&i, Some(39), Some(55)),
            vec![
                Flag::UsageDrop,
                Flag::Silence,
                Flag::TicketSpike,
                Flag::Detractor,
                Flag::PastDue,
                Flag::RedBand,
                Flag::ScoreDrop,
                Flag::Overage
            ]
        );
        assert!(check(&Inputs::default(), None, None).is_empty(), "unknown inputs raise nothing");
    }

    #[test]
    fn reasons_carry_the_numbers() {
        let mut i = Inputs::default();
        i.set(Measure::Engagement, 34.0);
        let bands = Bands::default();
        let c =
            Check { inputs: &i, frustrated: true, score: Some(44), week_ago: Some(62), bands: &bands, context: None };
        let r = raised(&FlagRules::default(), &c);
        assert_eq!(r[0], (Flag::Silence, "no reply from the customer for 34 days".into()));
        assert_eq!(r[1].0, Flag::Frustration);
        assert_eq!(r[2], (Flag::ScoreDrop, "health fell 18 points in a week (62 → 44)".into()));
        let d = draft(Flag::ScoreDrop, &r[2].1, AccountId(3), Utc::now());
        assert_eq!((d.kind, d.priority), (FollowUpKind::HealthRisk, Priority::High));
        assert_eq!(draft(Flag::Overage, "x", AccountId(3), Utc::now()).kind, FollowUpKind::Upsell);
    }

    #[test]
    fn the_check_in_comes_with_the_context_and_its_reason() {
        use crate::domain::{Segment, Stage};
        let mut i = Inputs::default();
        i.set(Measure::Engagement, 8.0);
        let bands = Bands::default();
        let context =
            Context { segment: Segment::Enterprise, stage: Stage::Adoption, days_to_renewal: 40, open_tickets: 0 };
        let c = Check {
            inputs: &i,
            frustrated: false,
            score: Some(80),
            week_ago: Some(80),
            bands: &bands,
            context: Some(context),
        };
        let r = raised(&FlagRules::default(), &c);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, Flag::CheckIn);
        assert_eq!(
            r[0].1,
            "Weekly check-in (enterprise): no two-way contact for 8 days; talk about the renewal in 40 days"
        );
        let d = draft(Flag::CheckIn, &r[0].1, AccountId(1), Utc::now());
        assert_eq!((d.kind, d.priority), (FollowUpKind::CheckIn, Priority::Normal));
        assert!(raised(&FlagRules::default(), &Check { context: None, ..c }).is_empty(), "no context, no check-in");
    }

    #[test]
    fn a_card_is_flagged_from_30_days_before_its_expiry() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let on = |days: i64| card_expiring(Some(today + chrono::Duration::days(days)), today);
        assert_eq!(on(31), None);
        let (flag, reason) = on(30).unwrap();
        assert_eq!(flag, Flag::CardExpiring);
        assert!(reason.contains("expires in 30 days (2026-03-31)"), "{reason}");
        assert!(on(0).unwrap().1.contains("expires today"));
        assert!(on(-3).unwrap().1.contains("expired on 2026-02-26"));
        assert_eq!(card_expiring(None, today), None, "no card, no flag");
        assert_eq!(Flag::CardExpiring.kind(), FollowUpKind::HealthRisk);
    }

    #[test]
    fn a_flag_fires_once_until_it_clears_and_returns() {
        // Day by day: holds, holds (done meanwhile), clears, returns.
        let days = [true, true, false, true, false, false];
        let mut raised_before = false;
        let mut steps = Vec::new();
        for holds in days {
            let s = step(holds, raised_before);
            raised_before = matches!(s, Step::Raise | Step::Keep);
            steps.push(s);
        }
        assert_eq!(steps, vec![Step::Raise, Step::Keep, Step::Clear, Step::Raise, Step::Clear, Step::Idle]);
        for f in Flag::ALL {
            assert_eq!(Flag::from_code(f.code()), Some(f));
        }
        assert_eq!(Flag::from_code(200), None);
    }
}
