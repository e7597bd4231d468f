//! Support satisfaction: ticket ratings from the desk (good / bad) and
//! CSAT / CES survey answers from the CRM, read as one share of good
//! answers, and the follow-up a bad ticket rating raises.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::account::AccountId;
use super::followup::{Draft, FollowUpKind, Priority};
use super::text::sanitize;

/// Days of ratings the support-satisfaction input reads.
pub const CSAT_WINDOW_DAYS: i64 = 90;

/// A bad rating older than this when first seen raises no follow-up: a
/// first sync reads a year of tickets, and last spring's complaint is not
/// today's call.
pub const FOLLOW_UP_DAYS: i64 = 14;

/// What an answer says about the support the customer got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Satisfied.
    Good,
    /// Neither (a CSAT "neutral", a middling effort score): counts, but not as good.
    Neutral,
    /// Dissatisfied.
    Bad,
}

/// One satisfaction answer, as the health inputs read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// When it was given (or first seen, when the vendor does not say).
    pub at: DateTime<Utc>,
    /// Good, neutral or bad.
    pub verdict: Verdict,
    /// The customer's comment, possibly empty.
    pub comment: String,
}

/// A desk ticket's rating, stored by ticket so it follows the ticket
/// wherever matching files it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRating {
    /// The vendor's rating id (0 when it sent none).
    pub id: u64,
    /// The rating.
    pub rating: Rating,
    /// The follow-up a bad rating raised, once.
    pub follow_up: Option<u64>,
}

/// A CSAT or CES survey answer from the CRM, stored under its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyRating {
    /// Workspace id.
    pub id: u64,
    /// The account (through the answering contact's company).
    pub account_id: AccountId,
    /// The rating.
    pub rating: Rating,
}

/// The kinds of satisfaction survey whose answers are ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survey {
    /// Customer satisfaction: HubSpot answers 0 (dissatisfied), 1 (neutral), 2 (satisfied).
    Csat,
    /// Customer effort: 1-7, HubSpot files 1-3 as detractors, 4-5 passive, 6-7 promoters.
    Ces,
}

/// The verdict of a survey answer on the scale HubSpot documents for its
/// sentiment (CSAT 0 / 1 / 2; CES 1-3 / 4-5 / 6-7), or why it is not one.
pub fn verdict(survey: Survey, value: f64) -> Result<Verdict, String> {
    let whole = value.fract() == 0.0;
    match survey {
        Survey::Csat if whole && (0.0..=2.0).contains(&value) => Ok(match value as u8 {
            0 => Verdict::Bad,
            1 => Verdict::Neutral,
            _ => Verdict::Good,
        }),
        Survey::Csat => Err(format!("CSAT answer {value} is not 0, 1 or 2 (HubSpot's satisfaction scale)")),
        Survey::Ces if whole && (1.0..=7.0).contains(&value) => Ok(match value as u8 {
            1..=3 => Verdict::Bad,
            4..=5 => Verdict::Neutral,
            _ => Verdict::Good,
        }),
        Survey::Ces => Err(format!("CES answer {value} is outside the 1-7 effort scale")),
    }
}

/// The share of answers in the `CSAT_WINDOW_DAYS` before `now` that are
/// good (neutral ones count against it); `None` without any.
pub fn support_csat<'a>(ratings: impl IntoIterator<Item = &'a Rating>, now: DateTime<Utc>) -> Option<f64> {
    let from = now - Duration::days(CSAT_WINDOW_DAYS);
    let (mut n, mut good) = (0u32, 0u32);
    for r in ratings.into_iter().filter(|r| r.at > from && r.at <= now) {
        n += 1;
        good += u32::from(r.verdict == Verdict::Good);
    }
    (n > 0).then(|| good as f64 / n as f64)
}

/// The follow-up a bad ticket rating raises at `now`, if it is recent
/// enough to act on: the reason quotes the customer (made safe for the
/// terminal, cut at 160 characters).
pub fn bad_rating_follow_up(
    account: AccountId,
    ticket: u64,
    subject: &str,
    rating: &Rating,
    now: DateTime<Utc>,
) -> Option<Draft> {
    if rating.verdict != Verdict::Bad || now - rating.at > Duration::days(FOLLOW_UP_DAYS) {
        return None;
    }
    let subject = sanitize(subject);
    let comment = sanitize(rating.comment.trim()).trim().to_string();
    let said = match comment.char_indices().nth(160) {
        _ if comment.is_empty() => "no comment".to_string(),
        Some((i, _)) => format!("\"{}…\"", &comment[..i]),
        None => format!("\"{comment}\""),
    };
    Some(Draft {
        account_id: account,
        ticket_id: Some(ticket),
        kind: FollowUpKind::BadRating,
        reason: format!("Bad support rating on \"{subject}\" ({said}): call to make it right"),
        due: now,
        priority: Priority::High,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
    }

    fn r(days_ago: i64, verdict: Verdict) -> Rating {
        Rating { at: now() - Duration::days(days_ago), verdict, comment: String::new() }
    }

    #[test]
    fn the_share_of_good_answers_in_the_last_90_days() {
        let all = [
            r(1, Verdict::Good),
            r(10, Verdict::Bad),
            r(20, Verdict::Neutral),
            r(89, Verdict::Good),
            r(91, Verdict::Bad),
            r(-1, Verdict::Bad),
        ];
        assert_eq!(support_csat(&all, now()), Some(0.5), "2 good of 4 in the window");
        assert_eq!(support_csat(&all[4..], now()), None, "too old or not given yet");
        assert_eq!(support_csat(&[], now()), None);
    }

    #[test]
    fn survey_answers_on_hubspots_scales() {
        assert_eq!(verdict(Survey::Csat, 0.0), Ok(Verdict::Bad));
        assert_eq!(verdict(Survey::Csat, 1.0), Ok(Verdict::Neutral));
        assert_eq!(verdict(Survey::Csat, 2.0), Ok(Verdict::Good));
        assert!(verdict(Survey::Csat, 4.0).unwrap_err().contains("not 0, 1 or 2"));
        assert!(verdict(Survey::Csat, 1.5).is_err());
        assert_eq!(verdict(Survey::Ces, 3.0), Ok(Verdict::Bad));
        assert_eq!(verdict(Survey::Ces, 5.0), Ok(Verdict::Neutral));
        assert_eq!(verdict(Survey::Ces, 6.0), Ok(Verdict::Good));
        assert!(verdict(Survey::Ces, 0.0).unwrap_err().contains("1-7"));
    }

    #[test]
    fn a_recent_bad_rating_raises_a_follow_up_quoting_the_customer() {
        let mut bad = r(2, Verdict::Bad);
        bad.comment = "Took \u{1b}[2Jthree weeks\nto answer".into();
        let d = bad_rating_follow_up(AccountId(4), 77, "Export fails", &bad, now()).unwrap();
        assert_eq!(d.kind, FollowUpKind::BadRating);
        assert_eq!(
            d.reason,
            "Bad support rating on \"Export fails\" (\"Took three weeks to answer\"): call to make it right"
        );
        assert_eq!((d.ticket_id, d.account_id, d.priority), (Some(77), AccountId(4), Priority::High));
        assert!(bad_rating_follow_up(AccountId(4), 77, "x", &r(2, Verdict::Good), now()).is_none());
        assert!(bad_rating_follow_up(AccountId(4), 77, "x", &r(30, Verdict::Bad), now()).is_none(), "too old");
        let silent = bad_rating_follow_up(AccountId(4), 77, "x", &r(0, Verdict::Bad), now()).unwrap();
        assert!(silent.reason.contains("(no comment)"), "{}", silent.reason);
        bad.comment = "é".repeat(300);
        let long = bad_rating_follow_up(AccountId(4), 77, "x", &bad, now()).unwrap();
        assert!(long.reason.contains(&format!("\"{}…\"", "é".repeat(160))), "{}", long.reason);
    }
}
