//! Lifecycle rules: the follow-ups an account's place in its lifecycle
//! calls for (kick-off, onboarding check-in and proficiency check, NPS
//! surveys, renewal preparation and signing). Each rule is a small pure
//! function of the account's facts and the moment it is evaluated at; the
//! daily pass keeps one follow-up per account and rule through the same
//! slot as the health flags (raised once, cleared when the rule stops
//! holding).

mod renewal;
mod startup;
mod survey;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use super::account::Account;
use super::activity::{Activity, ActivityKind};
use super::followup::{Draft, FollowUpKind, Priority};
use super::lifecycle::Stage;
use super::nps::NpsResponse;

pub use renewal::{renewal_prep, renewal_signing};
pub use startup::{kickoff, onboarding_check_in, proficiency_check};
pub use survey::{nps_after_onboarding, nps_before_renewal};

/// One lifecycle rule: one follow-up slot per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Handover: internal and external kick-off within days of signature.
    Kickoff,
    /// Onboarding: a check-in within its first 48 hours.
    OnboardingCheckIn,
    /// Onboarding: the proficiency check before it ends.
    Proficiency,
    /// Inside the renewal-preparation window without preparation started.
    RenewalPrep,
    /// Inside the renewal-signing window without signing under way.
    RenewalSigning,
    /// Left onboarding with no NPS answer since.
    NpsAfterOnboarding,
    /// Renewal coming with no recent NPS answer.
    NpsBeforeRenewal,
}

/// First slot code of the rules: codes below are health flags (see
/// `flags::Flag::code`), so both share the `fl` keys of an account.
pub const FIRST_CODE: u8 = 64;

impl Rule {
    /// Every rule, in code order.
    pub const ALL: [Rule; 7] = [
        Rule::Kickoff,
        Rule::OnboardingCheckIn,
        Rule::Proficiency,
        Rule::RenewalPrep,
        Rule::RenewalSigning,
        Rule::NpsAfterOnboarding,
        Rule::NpsBeforeRenewal,
    ];

    /// Stable byte in store keys (never below `FIRST_CODE`).
    pub fn code(self) -> u8 {
        FIRST_CODE + self as u8
    }

    /// The rule of a stored byte.
    pub fn from_code(b: u8) -> Option<Rule> {
        Rule::ALL.get(b.checked_sub(FIRST_CODE)? as usize).copied()
    }

    /// Stable machine name.
    pub fn key(self) -> &'static str {
        match self {
            Rule::Kickoff => "kickoff",
            Rule::OnboardingCheckIn => "onboarding_check_in",
            Rule::Proficiency => "proficiency_check",
            Rule::RenewalPrep => "renewal_prep",
            Rule::RenewalSigning => "renewal_signing",
            Rule::NpsAfterOnboarding => "nps_after_onboarding",
            Rule::NpsBeforeRenewal => "nps_before_renewal",
        }
    }

    /// The follow-up kind it raises.
    pub fn kind(self) -> FollowUpKind {
        match self {
            Rule::Kickoff => FollowUpKind::Kickoff,
            Rule::OnboardingCheckIn => FollowUpKind::OnboardingCheckIn,
            Rule::Proficiency => FollowUpKind::ProficiencyCheck,
            Rule::RenewalPrep => FollowUpKind::RenewalPrep,
            Rule::RenewalSigning => FollowUpKind::RenewalSigning,
            Rule::NpsAfterOnboarding | Rule::NpsBeforeRenewal => FollowUpKind::NpsSurvey,
        }
    }

    /// How urgent its follow-up is.
    pub fn priority(self) -> Priority {
        match self {
            Rule::RenewalSigning => Priority::Urgent,
            Rule::Kickoff | Rule::OnboardingCheckIn | Rule::RenewalPrep => Priority::High,
            Rule::Proficiency => Priority::Normal,
            Rule::NpsAfterOnboarding | Rule::NpsBeforeRenewal => Priority::Low,
        }
    }
}

/// The rules' settings (`[health.flags.lifecycle]` in the config); the
/// defaults are DOMAIN.md's.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleRules {
    /// Days after signature by which both kick-offs must be held.
    pub kickoff_days: i64,
    /// Hours into onboarding by which the first check-in is due.
    pub check_in_hours: i64,
    /// Days into onboarding when the proficiency check is due: about two
    /// weeks before a standard onboarding (see `onboarding_ends_day`) ends,
    /// so there is time to retrain whoever does not pass.
    pub proficiency_days: i64,
    /// Share of the onboarding plan completed (0-1) at which the
    /// proficiency check is due even before `proficiency_days`.
    pub proficiency_coverage: f64,
    /// Days before renewal when preparation starts.
    pub renewal_prep_days: i64,
    /// Days before renewal when signing starts.
    pub renewal_signing_days: i64,
    /// Days after leaving onboarding during which the satisfaction survey
    /// is asked; after that the pre-renewal survey is the next chance.
    pub nps_after_onboarding_days: i64,
    /// Days before renewal when the pre-renewal survey window opens (it
    /// closes when renewal preparation starts).
    pub nps_before_renewal_days: i64,
    /// An NPS answer at most this many days old counts as recent.
    pub nps_recent_days: i64,
    /// Days after signature when a standard startup (handover, delivery,
    /// onboarding) ends, for accounts whose timeline does not record the
    /// move out of onboarding.
    pub onboarding_ends_day: i64,
}

impl Default for LifecycleRules {
    fn default() -> Self {
        LifecycleRules {
            kickoff_days: 3,
            check_in_hours: 48,
            proficiency_days: 30,
            proficiency_coverage: 0.8,
            renewal_prep_days: 90,
            renewal_signing_days: 30,
            nps_after_onboarding_days: 30,
            nps_before_renewal_days: 120,
            nps_recent_days: 90,
            onboarding_ends_day: 60,
        }
    }
}

/// What the rules know about an account.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The account.
    pub account: &'a Account,
    /// Stage moves recorded on its timeline.
    pub moves: Moves,
    /// Its last two-way contact (see `rollup::last_touch`).
    pub last_contact: Option<DateTime<Utc>>,
    /// Share of the onboarding plan completed (0-1), when known.
    pub coverage: Option<f64>,
    /// Its NPS answers, any order.
    pub nps: &'a [NpsResponse],
}

/// When the account entered and left onboarding, as far as its timeline
/// says (the cockpit records a stage change whenever the CSM moves a card).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moves {
    /// The last move into onboarding.
    pub entered_onboarding: Option<DateTime<Utc>>,
    /// The last move out of onboarding.
    pub left_onboarding: Option<DateTime<Utc>>,
}

impl Moves {
    /// Reads the stage changes of a timeline ("Moved from X to Y").
    pub fn from_timeline(activities: &[Activity]) -> Moves {
        let onboarding = Stage::Onboarding.label();
        let mut m = Moves::default();
        for a in activities.iter().filter(|a| a.kind == ActivityKind::StageChange) {
            let Some((from, to)) = a.summary.strip_prefix("Moved from ").and_then(|s| s.split_once(" to ")) else {
                continue;
            };
            if to == onboarding {
                m.entered_onboarding = m.entered_onboarding.max(Some(a.at));
            } else if from == onboarding {
                m.left_onboarding = m.left_onboarding.max(Some(a.at));
            }
        }
        m
    }
}

impl Facts<'_> {
    /// When onboarding started: the recorded move into it, else the
    /// contract start (the one date every account has; a workspace synced
    /// from a CRM has no stage history).
    pub fn onboarding_start(&self) -> DateTime<Utc> {
        self.moves.entered_onboarding.unwrap_or_else(|| start_of(self.account.contract_start))
    }

    /// When onboarding ended: the recorded move out of it, else the end of
    /// a standard startup after the contract start. Unknown after a
    /// renewal, whose contract start is not the customer's first day.
    pub fn onboarding_end(&self, rules: &LifecycleRules) -> Option<DateTime<Utc>> {
        let first_contract = self.account.outcome.is_none();
        self.moves.left_onboarding.or_else(|| {
            first_contract.then(|| start_of(self.account.contract_start + Duration::days(rules.onboarding_ends_day)))
        })
    }

    /// The latest NPS answer's day, if any.
    pub fn last_answer(&self) -> Option<NaiveDate> {
        self.nps.iter().map(|n| n.on).max()
    }
}

/// Midnight (UTC) at the start of a day.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// A rule's follow-up for an account, before it gets an id.
pub(crate) fn draft(rule: Rule, facts: &Facts, reason: String, due: DateTime<Utc>) -> Draft {
    Draft { account_id: facts.account.id, ticket_id: None, kind: rule.kind(), reason, due, priority: rule.priority() }
}

/// Every rule that holds for a live account at `now`, with its follow-up.
pub fn holding(rules: &LifecycleRules, facts: &Facts, now: DateTime<Utc>) -> Vec<(Rule, Draft)> {
    if !facts.account.stage.is_active() {
        return Vec::new();
    }
    let all = [
        (Rule::Kickoff, kickoff(rules, facts, now)),
        (Rule::OnboardingCheckIn, onboarding_check_in(rules, facts, now)),
        (Rule::Proficiency, proficiency_check(rules, facts, now)),
        (Rule::RenewalPrep, renewal_prep(rules, facts, now)),
        (Rule::RenewalSigning, renewal_signing(rules, facts, now)),
        (Rule::NpsAfterOnboarding, nps_after_onboarding(rules, facts, now)),
        (Rule::NpsBeforeRenewal, nps_before_renewal(rules, facts, now)),
    ];
    all.into_iter().filter_map(|(r, d)| Some((r, d?))).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::account::{AccountId, Segment};
    use chrono::TimeZone;

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
    }

    /// An account signed `signed` days before `now`, renewing in `renew_in` days.
    pub fn account(stage: Stage, signed: i64, renew_in: i64) -> Account {
        let today = now().date_naive();
        Account {
            id: AccountId(7),
            name: "Acme".into(),
            domain: "acme.com".into(),
            segment: Segment::MidMarket,
            industry: "Retail".into(),
            region: "EMEA".into(),
            owner: "Dana".into(),
            plan: "Pro".into(),
            seats: 10,
            arr: 20_000,
            contract_start: today - Duration::days(signed),
            renewal_date: today + Duration::days(renew_in),
            stage,
            key_people: vec![],
            outcome: None,
        }
    }

    pub fn facts(a: &Account) -> Facts<'_> {
        Facts { account: a, moves: Moves::default(), last_contact: None, coverage: None, nps: &[] }
    }

    fn moved(at: DateTime<Utc>, summary: &str) -> Activity {
        Activity {
            id: 1,
            account_id: AccountId(7),
            at,
            kind: ActivityKind::StageChange,
            summary: summary.into(),
            author: "Dana".into(),
        }
    }

    #[test]
    fn codes_round_trip_above_the_flags() {
        for r in Rule::ALL {
            assert_eq!(Rule::from_code(r.code()), Some(r));
            assert!(r.code() >= FIRST_CODE);
            assert!(crate::domain::flags::Flag::from_code(r.code()).is_none(), "{r:?} collides with a flag");
        }
        assert_eq!(Rule::from_code(3), None);
        assert_eq!(Rule::from_code(FIRST_CODE + 7), None);
    }

    #[test]
    fn the_timeline_dates_onboarding() {
        let t = now() - Duration::days(20);
        let acts = [
            moved(t, "Moved from Delivery to Onboarding"),
            moved(t + Duration::days(9), "Moved from Onboarding to Adoption"),
            moved(t + Duration::days(1), "Moved from Adoption to Expansion"),
        ];
        let m = Moves::from_timeline(&acts);
        assert_eq!(m, Moves { entered_onboarding: Some(t), left_onboarding: Some(t + Duration::days(9)) });
        let a = account(Stage::Adoption, 40, 300);
        let f = Facts { moves: m, ..facts(&a) };
        assert_eq!(f.onboarding_start(), t);
        assert_eq!(f.onboarding_end(&LifecycleRules::default()), Some(t + Duration::days(9)));
        let plain = facts(&a);
        assert_eq!(plain.onboarding_start(), start_of(a.contract_start), "no history: the contract start");
        assert_eq!(
            plain.onboarding_end(&LifecycleRules::default()),
            Some(start_of(a.contract_start + Duration::days(60)))
        );
        let renewed = Account {
            outcome: Some(crate::domain::Outcome::new(crate::domain::OutcomeKind::Renewed, a.contract_start)),
            ..a.clone()
        };
        assert_eq!(facts(&renewed).onboarding_end(&LifecycleRules::default()), None, "a renewal is no onboarding");
    }

    #[test]
    fn churned_accounts_hold_no_rule() {
        let a = account(Stage::Churned, 1, 20);
        assert!(holding(&LifecycleRules::default(), &facts(&a), now()).is_empty());
        let b = account(Stage::Handover, 1, 20);
        let kinds: Vec<Rule> =
            holding(&LifecycleRules::default(), &facts(&b), now()).into_iter().map(|r| r.0).collect();
        assert_eq!(kinds, vec![Rule::Kickoff, Rule::RenewalSigning]);
    }
}
