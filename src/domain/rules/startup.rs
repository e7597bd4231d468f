//! Startup rules: the kick-offs after signature, the first check-in of
//! onboarding and the proficiency check before it ends.

use chrono::{DateTime, Duration, Utc};

use super::{draft, start_of, Facts, LifecycleRules, Rule};
use crate::domain::followup::Draft;
use crate::domain::lifecycle::Stage;

/// Handover: hold the internal and external kick-off within
/// `kickoff_days` of signature (due at the start of that day).
pub fn kickoff(rules: &LifecycleRules, facts: &Facts, _now: DateTime<Utc>) -> Option<Draft> {
    let a = facts.account;
    if a.stage != Stage::Handover {
        return None;
    }
    let due = start_of(a.contract_start + Duration::days(rules.kickoff_days));
    let by = (due - Duration::days(1)).date_naive();
    let reason = format!("Signed {}: hold the internal and external kick-off by {by}", a.contract_start);
    Some(draft(Rule::Kickoff, facts, reason, due))
}

/// Onboarding: check in within its first `check_in_hours` (due that long
/// after onboarding started, see `Facts::onboarding_start`). Holds while
/// there has been no two-way contact since onboarding started: a logged
/// call or a customer reply is the check-in.
pub fn onboarding_check_in(rules: &LifecycleRules, facts: &Facts, _now: DateTime<Utc>) -> Option<Draft> {
    if facts.account.stage != Stage::Onboarding {
        return None;
    }
    let start = facts.onboarding_start();
    if facts.last_contact.is_some_and(|c| c >= start) {
        return None;
    }
    let due = start + Duration::hours(rules.check_in_hours);
    let reason = format!(
        "Onboarding since {}, no contact since: check in within the first {} hours to hear how the first days went",
        start.date_naive(),
        rules.check_in_hours
    );
    Some(draft(Rule::OnboardingCheckIn, facts, reason, due))
}

/// Onboarding: the proficiency check, due `proficiency_days` into
/// onboarding, or as soon as `proficiency_coverage` of the onboarding plan
/// is done, whichever comes first. Holds until the account leaves
/// onboarding.
pub fn proficiency_check(rules: &LifecycleRules, facts: &Facts, now: DateTime<Utc>) -> Option<Draft> {
    if facts.account.stage != Stage::Onboarding {
        return None;
    }
    let start = facts.onboarding_start();
    let at = start + Duration::days(rules.proficiency_days);
    let covered = facts.coverage.filter(|c| *c >= rules.proficiency_coverage);
    if now < at && covered.is_none() {
        return None;
    }
    let days = (now - start).num_days();
    let progress = match facts.coverage {
        Some(c) => format!(", plan {:.0}% done", c * 100.0),
        None => String::new(),
    };
    let reason = format!(
        "Onboarding for {days} days{progress}: run the proficiency check before onboarding ends, and retrain who does not pass"
    );
    Some(draft(Rule::Proficiency, facts, reason, at.min(now)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{account, facts, now};
    use super::super::Moves;
    use super::*;

    #[test]
    fn kickoff_is_due_three_days_after_signature_while_in_handover() {
        let r = LifecycleRules::default();
        let a = account(Stage::Handover, 1, 365);
        let d = kickoff(&r, &facts(&a), now()).unwrap();
        assert_eq!(d.due, start_of(a.contract_start + Duration::days(3)));
        assert_eq!(
            d.reason,
            format!(
                "Signed {}: hold the internal and external kick-off by {}",
                a.contract_start,
                a.contract_start + Duration::days(2)
            )
        );
        assert!(kickoff(&r, &facts(&account(Stage::Delivery, 1, 365)), now()).is_none(), "moved on");
    }

    #[test]
    fn the_first_check_in_is_due_48_hours_into_onboarding() {
        let r = LifecycleRules::default();
        let a = account(Stage::Onboarding, 20, 345);
        let start = now() - Duration::hours(47) - Duration::minutes(59);
        let f = super::super::Facts {
            moves: Moves { entered_onboarding: Some(start), left_onboarding: None },
            ..facts(&a)
        };
        let d = onboarding_check_in(&r, &f, now()).unwrap();
        assert_eq!(d.due, start + Duration::hours(48));
        assert!(!d.into_follow_up(1).is_overdue(now()), "47 h 59 m in: not late yet");
        let late = now() + Duration::minutes(2);
        let d = onboarding_check_in(&r, &f, late).unwrap();
        assert!(d.into_follow_up(1).is_overdue(late), "48 h 01 m in: late");
        let f2 = super::super::Facts { last_contact: Some(start + Duration::hours(1)), ..f };
        assert!(onboarding_check_in(&r, &f2, now()).is_none(), "a call since onboarding began was the check-in");
        let f3 = super::super::Facts { last_contact: Some(start - Duration::hours(1)), ..f };
        assert!(onboarding_check_in(&r, &f3, now()).is_some(), "contact before onboarding does not count");
        let adoption = account(Stage::Adoption, 20, 345);
        assert!(onboarding_check_in(&r, &facts(&adoption), now()).is_none());
    }

    #[test]
    fn without_a_recorded_move_onboarding_counts_from_the_contract_start() {
        let r = LifecycleRules::default();
        let a = account(Stage::Onboarding, 20, 345);
        let d = onboarding_check_in(&r, &facts(&a), now()).unwrap();
        assert_eq!(d.due, start_of(a.contract_start) + Duration::hours(48));
    }

    #[test]
    fn proficiency_is_due_30_days_in_or_at_80_percent_coverage() {
        let r = LifecycleRules::default();
        let a = account(Stage::Onboarding, 0, 365);
        let start = now() - Duration::days(30);
        let f = super::super::Facts {
            moves: Moves { entered_onboarding: Some(start), left_onboarding: None },
            ..facts(&a)
        };
        let d = proficiency_check(&r, &f, now()).unwrap();
        assert_eq!(d.due, now(), "exactly 30 days in");
        assert_eq!(
            d.reason,
            "Onboarding for 30 days: run the proficiency check before onboarding ends, and retrain who does not pass"
        );
        let before = now() - Duration::minutes(1);
        assert!(proficiency_check(&r, &f, before).is_none(), "29 days 23 h 59 m in");
        let covered = super::super::Facts { coverage: Some(0.8), ..f };
        let d = proficiency_check(&r, &covered, before).unwrap();
        assert_eq!(d.due, before, "the plan is 80% done: due now");
        assert!(d.reason.contains("plan 80% done"), "{}", d.reason);
        let short = super::super::Facts { coverage: Some(0.79), ..f };
        assert!(proficiency_check(&r, &short, before).is_none());
        let later = now() + Duration::days(3);
        assert_eq!(proficiency_check(&r, &f, later).unwrap().due, now(), "due stays at 30 days in");
    }
}
