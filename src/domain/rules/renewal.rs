//! Renewal rules: preparation from 90 days before the renewal date,
//! signing from 30 days before, unless the account is already there.

use chrono::{DateTime, Duration, Utc};

use super::{draft, start_of, Facts, LifecycleRules, Rule};
use crate::domain::followup::Draft;
use crate::domain::lifecycle::Stage;

/// Whether the account already reached `stage` (or the cycle ended).
fn reached(facts: &Facts, stage: Stage) -> bool {
    let s = facts.account.stage;
    matches!(s, Stage::Renewed | Stage::Churned) || s >= stage
}

/// Inside the preparation window (`renewal_signing_days` < days to renewal
/// <= `renewal_prep_days`) without preparation started: confirm the KP's
/// intent and budget. Due when the window opened.
pub fn renewal_prep(rules: &LifecycleRules, facts: &Facts, now: DateTime<Utc>) -> Option<Draft> {
    let a = facts.account;
    let days = a.days_to_renewal(now.date_naive());
    if days <= rules.renewal_signing_days || days > rules.renewal_prep_days || reached(facts, Stage::RenewalPrep) {
        return None;
    }
    let reason = format!("Renews in {days} days ({}): confirm the KP's intent and budget", a.renewal_date);
    Some(draft(Rule::RenewalPrep, facts, reason, start_of(a.renewal_date - Duration::days(rules.renewal_prep_days))))
}

/// Inside the signing window (0 <= days to renewal <= `renewal_signing_days`)
/// without signing under way: get the contract signed and paid.
pub fn renewal_signing(rules: &LifecycleRules, facts: &Facts, now: DateTime<Utc>) -> Option<Draft> {
    let a = facts.account;
    let days = a.days_to_renewal(now.date_naive());
    if !(0..=rules.renewal_signing_days).contains(&days) || reached(facts, Stage::RenewalSigning) {
        return None;
    }
    let reason = format!("Renews in {days} days ({}): get the contract signed and paid", a.renewal_date);
    let due = start_of(a.renewal_date - Duration::days(rules.renewal_signing_days));
    Some(draft(Rule::RenewalSigning, facts, reason, due))
}

#[cfg(test)]
mod tests {
    use super::super::holding;
    use super::super::tests::{account, facts, now};
    use super::*;

    fn rules_for(stage: Stage, renew_in: i64) -> Vec<Rule> {
        let a = account(stage, 400, renew_in);
        holding(&LifecycleRules::default(), &facts(&a), now()).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn windows_open_at_90_and_30_days() {
        assert!(!rules_for(Stage::Adoption, 91).contains(&Rule::RenewalPrep));
        assert!(rules_for(Stage::Adoption, 90).contains(&Rule::RenewalPrep));
        assert!(rules_for(Stage::Adoption, 31).contains(&Rule::RenewalPrep));
        assert!(!rules_for(Stage::Adoption, 30).contains(&Rule::RenewalPrep), "signing takes over");
        assert!(rules_for(Stage::Adoption, 30).contains(&Rule::RenewalSigning));
        assert!(rules_for(Stage::Adoption, 0).contains(&Rule::RenewalSigning));
        assert!(!rules_for(Stage::Adoption, -1).contains(&Rule::RenewalSigning), "past the date");
    }

    #[test]
    fn a_step_under_way_needs_no_reminder() {
        assert!(!rules_for(Stage::RenewalPrep, 60).contains(&Rule::RenewalPrep));
        assert!(rules_for(Stage::RenewalPrep, 20).contains(&Rule::RenewalSigning));
        assert!(!rules_for(Stage::RenewalSigning, 20).contains(&Rule::RenewalSigning));
        assert!(!rules_for(Stage::Renewed, 20).contains(&Rule::RenewalSigning));
    }

    #[test]
    fn due_when_the_window_opened_with_the_date_in_the_reason() {
        let a = account(Stage::Adoption, 400, 45);
        let d = renewal_prep(&LifecycleRules::default(), &facts(&a), now()).unwrap();
        assert_eq!(d.due, start_of(a.renewal_date - Duration::days(90)));
        assert_eq!(d.reason, format!("Renews in 45 days ({}): confirm the KP's intent and budget", a.renewal_date));
        let custom = LifecycleRules { renewal_prep_days: 60, ..LifecycleRules::default() };
        assert!(renewal_prep(&custom, &facts(&account(Stage::Adoption, 400, 61)), now()).is_none(), "configurable");
    }
}
