//! NPS survey rules: ask once onboarding is over, and again before the
//! renewal when there is no recent answer (DOMAIN.md: satisfaction is a
//! signal to watch, and the renewal talk needs a fresh one).

use chrono::{DateTime, Duration, Utc};

use super::{draft, start_of, Facts, LifecycleRules, Rule};
use crate::domain::followup::Draft;
use crate::domain::lifecycle::Stage;

/// After onboarding: in stable use, within `nps_after_onboarding_days` of
/// leaving onboarding (see `Facts::onboarding_end`), with no answer since
/// it left. Due the day it left.
pub fn nps_after_onboarding(rules: &LifecycleRules, facts: &Facts, now: DateTime<Utc>) -> Option<Draft> {
    if !matches!(facts.account.stage, Stage::Adoption | Stage::Expansion) {
        return None;
    }
    let end = facts.onboarding_end(rules)?;
    if now < end || now >= end + Duration::days(rules.nps_after_onboarding_days) {
        return None;
    }
    if facts.last_answer().is_some_and(|d| d >= end.date_naive()) {
        return None;
    }
    let reason = format!(
        "Onboarding ended {}, no NPS answer since: send the satisfaction survey while the start is fresh",
        end.date_naive()
    );
    Some(draft(Rule::NpsAfterOnboarding, facts, reason, end))
}

/// Before renewal: from `nps_before_renewal_days` before the renewal date
/// until preparation starts, when the last answer is older than
/// `nps_recent_days` (or there is none). Due when the window opened.
pub fn nps_before_renewal(rules: &LifecycleRules, facts: &Facts, now: DateTime<Utc>) -> Option<Draft> {
    let a = facts.account;
    let today = now.date_naive();
    let days = a.days_to_renewal(today);
    if days <= rules.renewal_prep_days || days > rules.nps_before_renewal_days || a.stage == Stage::Renewed {
        return None;
    }
    let last = facts.last_answer();
    let age = last.map(|d| (today - d).num_days());
    if age.is_some_and(|age| age < rules.nps_recent_days) {
        return None;
    }
    let answered = match age {
        Some(age) => format!("last NPS answer {age} days ago"),
        None => "no NPS answer yet".into(),
    };
    let reason = format!("Renews in {days} days, {answered}: survey now, before renewal preparation starts");
    let due = start_of(a.renewal_date - Duration::days(rules.nps_before_renewal_days));
    Some(draft(Rule::NpsBeforeRenewal, facts, reason, due))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{account, facts, now};
    use super::super::Moves;
    use super::*;
    use crate::domain::{AccountId, NpsResponse};

    fn answer(days_ago: i64) -> NpsResponse {
        NpsResponse {
            id: 1,
            account_id: AccountId(7),
            on: now().date_naive() - Duration::days(days_ago),
            score: 8,
            comment: String::new(),
        }
    }

    #[test]
    fn after_onboarding_from_the_day_it_ended_for_30_days() {
        let r = LifecycleRules::default();
        let a = account(Stage::Adoption, 100, 265);
        let left = |ago: Duration| Facts {
            moves: Moves { entered_onboarding: None, left_onboarding: Some(now() - ago) },
            ..facts(&a)
        };
        let d = nps_after_onboarding(&r, &left(Duration::zero()), now()).unwrap();
        assert_eq!(d.due, now());
        assert!(d.reason.starts_with("Onboarding ended 2026-11-26, no NPS answer since"), "{}", d.reason);
        assert!(nps_after_onboarding(&r, &left(Duration::days(30) - Duration::minutes(1)), now()).is_some());
        assert!(nps_after_onboarding(&r, &left(Duration::days(30)), now()).is_none(), "the window closed");
        assert!(nps_after_onboarding(&r, &left(-Duration::minutes(1)), now()).is_none(), "not ended yet");
        let answers = [answer(3)];
        let answered = Facts { nps: &answers, ..left(Duration::days(3)) };
        assert!(nps_after_onboarding(&r, &answered, now()).is_none(), "answered the day it ended");
        let older = [answer(4)];
        assert!(nps_after_onboarding(&r, &Facts { nps: &older, ..left(Duration::days(3)) }, now()).is_some());
        let onboarding = account(Stage::Onboarding, 100, 265);
        let still = Facts { account: &onboarding, ..left(Duration::days(3)) };
        assert!(nps_after_onboarding(&r, &still, now()).is_none(), "still onboarding");
    }

    #[test]
    fn after_onboarding_without_history_uses_the_standard_60_days() {
        let r = LifecycleRules::default();
        let a = account(Stage::Adoption, 60, 305);
        assert!(nps_after_onboarding(&r, &facts(&a), now()).is_some(), "60 days after signature");
        let b = account(Stage::Adoption, 59, 306);
        assert!(nps_after_onboarding(&r, &facts(&b), now()).is_none(), "59 days after signature");
        let c = account(Stage::Adoption, 90, 275);
        assert!(nps_after_onboarding(&r, &facts(&c), now()).is_none(), "window over");
    }

    #[test]
    fn before_renewal_from_120_to_91_days_without_a_recent_answer() {
        let r = LifecycleRules::default();
        let on = |renew_in: i64, answers: &[NpsResponse]| {
            let a = account(Stage::Adoption, 400, renew_in);
            nps_before_renewal(&r, &Facts { nps: answers, ..facts(&a) }, now()).map(|d| (d.due, d.reason))
        };
        assert!(on(121, &[]).is_none());
        let (due, reason) = on(120, &[]).unwrap();
        assert_eq!(due, start_of(now().date_naive()));
        assert_eq!(reason, "Renews in 120 days, no NPS answer yet: survey now, before renewal preparation starts");
        assert!(on(91, &[]).is_some());
        assert!(on(90, &[]).is_none(), "renewal preparation takes over");
        assert!(on(100, &[answer(89)]).is_none(), "answered 89 days ago: recent");
        assert!(on(100, &[answer(90)]).unwrap().1.contains("last NPS answer 90 days ago"));
    }
}
