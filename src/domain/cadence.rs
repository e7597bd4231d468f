//! The proactive check-in: an account in stable use that has had no
//! two-way contact for its segment's cadence gets a check-in, always with
//! a reason to call ("always contact a customer for a reason").

use serde::Deserialize;

use super::account::Segment;
use super::health::Measure;
use super::health_model::Inputs;
use super::lifecycle::Stage;

/// Days without two-way contact before a check-in, per segment
/// (`[health.flags.check_in]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cadence {
    /// Enterprise accounts: weekly.
    pub enterprise: u32,
    /// Mid-market accounts: monthly.
    pub mid_market: u32,
    /// SMB accounts: quarterly.
    pub smb: u32,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence { enterprise: 7, mid_market: 30, smb: 90 }
    }
}

impl Cadence {
    /// The cadence of a segment, in days.
    pub fn days(&self, segment: Segment) -> u32 {
        match segment {
            Segment::Enterprise => self.enterprise,
            Segment::MidMarket => self.mid_market,
            Segment::Smb => self.smb,
        }
    }
}

/// What a check-in looks at besides the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The account's segment.
    pub segment: Segment,
    /// Its lifecycle stage.
    pub stage: Stage,
    /// Days until its renewal date.
    pub days_to_renewal: i64,
    /// Its open tickets.
    pub open_tickets: u32,
}

fn cadence_word(days: u32) -> String {
    match days {
        7 => "weekly".into(),
        14 => "fortnightly".into(),
        28..=31 => "monthly".into(),
        89..=92 => "quarterly".into(),
        d => format!("every {d} days"),
    }
}

/// The check-in due, with its reason, when the account is in stable use
/// and its last two-way contact is at least its cadence ago. Early stages
/// have their own touch points (kick-off, onboarding), and an account with
/// no contact on record is left to those.
pub fn check_in(cadence: &Cadence, inputs: &Inputs, c: &Context) -> Option<String> {
    let stable = matches!(
        c.stage,
        Stage::Adoption | Stage::Expansion | Stage::RenewalPrep | Stage::RenewalSigning | Stage::Renewed
    );
    let days = cadence.days(c.segment);
    let silent = inputs.get(Measure::Engagement)?;
    if !stable || days == 0 || silent < days as f64 {
        return None;
    }
    // The first topic that applies is the reason to call.
    let topic = if (0..=90).contains(&c.days_to_renewal) {
        format!("the renewal in {} days", c.days_to_renewal)
    } else if c.open_tickets > 0 {
        format!("{} open ticket{}", c.open_tickets, if c.open_tickets == 1 { "" } else { "s" })
    } else if let Some(u) = inputs.get(Measure::Usage).filter(|u| *u < 0.9) {
        format!("usage at {:.0}% of its usual level: offer a walkthrough", u * 100.0)
    } else if let Some(n) = inputs.get(Measure::Satisfaction).filter(|n| *n <= 6.0) {
        format!("their NPS answer of {n:.0}: hear them out")
    } else {
        "what is new since you last spoke: a guide, a milestone, a fix".into()
    };
    Some(format!(
        "{} check-in ({}): no two-way contact for {silent:.0} days; talk about {topic}",
        capitalise(&cadence_word(days)),
        c.segment.key().replace('_', "-"),
    ))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(silent: f64) -> Inputs {
        let mut i = Inputs::default();
        i.set(Measure::Engagement, silent).set(Measure::Usage, 1.0);
        i
    }

    fn ctx(segment: Segment) -> Context {
        Context { segment, stage: Stage::Adoption, days_to_renewal: 200, open_tickets: 0 }
    }

    #[test]
    fn due_at_the_cadence_not_a_day_before() {
        let c = Cadence::default();
        assert_eq!(check_in(&c, &inputs(6.0), &ctx(Segment::Enterprise)), None);
        let r = check_in(&c, &inputs(7.0), &ctx(Segment::Enterprise)).unwrap();
        assert!(r.starts_with("Weekly check-in (enterprise): no two-way contact for 7 days"), "{r}");
        assert_eq!(check_in(&c, &inputs(29.0), &ctx(Segment::MidMarket)), None);
        assert!(check_in(&c, &inputs(30.0), &ctx(Segment::MidMarket))
            .unwrap()
            .starts_with("Monthly check-in (mid-market)"));
        assert_eq!(check_in(&c, &inputs(89.0), &ctx(Segment::Smb)), None);
        assert!(check_in(&c, &inputs(90.0), &ctx(Segment::Smb)).unwrap().starts_with("Quarterly check-in (smb)"));
    }

    #[test]
    fn always_with_a_reason_to_call() {
        let c = Cadence::default();
        let e = |ctx: Context, i: Inputs| check_in(&c, &i, &ctx).unwrap();
        let base = ctx(Segment::Enterprise);
        assert!(e(Context { days_to_renewal: 45, ..base }, inputs(9.0)).ends_with("talk about the renewal in 45 days"));
        assert!(e(Context { open_tickets: 2, ..base }, inputs(9.0)).ends_with("talk about 2 open tickets"));
        let mut low = inputs(9.0);
        low.set(Measure::Usage, 0.6);
        assert!(e(base, low).ends_with("usage at 60% of its usual level: offer a walkthrough"));
        assert!(e(base, inputs(9.0)).ends_with("a guide, a milestone, a fix"));
    }

    #[test]
    fn early_stages_and_unknown_contact_are_left_alone() {
        let c = Cadence::default();
        let onboarding = Context { stage: Stage::Onboarding, ..ctx(Segment::Enterprise) };
        assert_eq!(check_in(&c, &inputs(40.0), &onboarding), None);
        assert_eq!(check_in(&c, &Inputs::default(), &ctx(Segment::Enterprise)), None);
        let off = Cadence { enterprise: 0, ..c };
        assert_eq!(check_in(&off, &inputs(40.0), &ctx(Segment::Enterprise)), None, "0 turns it off");
    }
}
