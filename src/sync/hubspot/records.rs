//! HubSpot contacts, deals and engagements (notes, calls, meetings, tasks,
//! emails): each record lands on the account of its associated company.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{parse_date, Object};
use crate::domain::deal::classify;
use crate::domain::rating::{verdict, Rating, Survey, SurveyRating};
use crate::domain::{AccountId, Activity, ActivityKind, Contact, Deal, DealState, NpsResponse};

/// The record's numeric id.
pub fn record_id(rec: &Value) -> Result<u64, String> {
    let id = rec.get("id").and_then(Value::as_str).ok_or("the record has no id")?;
    id.parse().map_err(|_| format!("id \"{id}\" is not numeric"))
}

/// The id of the company a record is associated with, if any.
pub fn company_of(rec: &Value) -> Option<&str> {
    rec.pointer("/associations/companies/results/0/id").and_then(Value::as_str)
}

/// The id of the contact a survey answer is associated with: the
/// association, else the answer's `hs_contact_id`.
pub fn contact_of(rec: &Value) -> Option<&str> {
    rec.pointer("/associations/contacts/results/0/id")
        .and_then(Value::as_str)
        .or_else(|| Some(prop(rec, "hs_contact_id")).filter(|c| !c.is_empty()))
}

/// A property as trimmed text ("" when absent).
fn prop<'a>(rec: &'a Value, k: &str) -> &'a str {
    rec.get("properties").and_then(|p| p.get(k)).and_then(Value::as_str).map(str::trim).unwrap_or("")
}

/// Decision makers by title; a CSM can correct it in the CRM.
fn is_key_person(title: &str) -> bool {
    let lower = title.to_lowercase();
    ["chief", "ceo", "cfo", "coo", "cto", "vp", "vice president", "head of", "director", "owner"].iter().any(|k| {
        if k.contains(' ') {
            lower.contains(k)
        } else {
            lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *k)
        }
    })
}

/// Maps a contact onto `account`.
pub fn contact(rec: &Value, account: AccountId) -> Result<Contact, String> {
    let id = record_id(rec)?;
    let name = format!("{} {}", prop(rec, "firstname"), prop(rec, "lastname")).trim().to_string();
    let email = prop(rec, "email").to_string();
    let title = prop(rec, "jobtitle").to_string();
    Ok(Contact {
        id,
        account_id: account,
        name: if name.is_empty() { email.clone() } else { name },
        email,
        key_person: is_key_person(&title),
        title,
    })
}

/// Maps a deal onto `account`: renewal, expansion or new business, and
/// whether it is open, won or lost.
pub fn deal(rec: &Value, account: AccountId) -> Result<Deal, String> {
    let id = record_id(rec)?;
    let name = prop(rec, "dealname");
    let amount = match prop(rec, "amount") {
        "" => 0,
        v => match v.parse::<f64>() {
            Ok(a) if a >= 0.0 && a.is_finite() => a.round() as u64,
            _ => return Err(format!("amount = \"{v}\" is not a positive number")),
        },
    };
    let close_date = match prop(rec, "closedate") {
        "" => None,
        v => Some(parse_date(v).ok_or_else(|| format!("closedate = \"{v}\" is not a date"))?.date_naive()),
    };
    // The computed flags are authoritative; the default pipeline's stage
    // ids are the fallback for portals that do not send them.
    let state = match (prop(rec, "hs_is_closed_won"), prop(rec, "hs_is_closed"), prop(rec, "dealstage")) {
        ("true", _, _) => DealState::Won,
        (_, "true", _) => DealState::Lost,
        ("", "", "closedwon") => DealState::Won,
        ("", "", "closedlost") => DealState::Lost,
        _ => DealState::Open,
    };
    Ok(Deal {
        id,
        account_id: account,
        name: if name.is_empty() { format!("(unnamed deal {id})") } else { name.to_string() },
        kind: classify(prop(rec, "dealtype"), name),
        state,
        amount,
        close_date,
    })
}

/// The workspace id of an engagement: its type in bits 52-54 under a tag
/// bit, so ids from different types never meet the ids Cockpit gives its
/// own timeline entries.
pub fn activity_id(object: Object, ext: u64) -> Result<u64, String> {
    let code: u64 = match object {
        Object::Notes => 1,
        Object::Calls => 2,
        Object::Meetings => 3,
        Object::Tasks => 4,
        Object::Emails => 5,
        _ => return Err(format!("{} are not timeline entries", object.name())),
    };
    if ext >= 1 << 52 {
        return Err(format!("id {ext} is too large"));
    }
    Ok((1 << 61) | (code << 52) | ext)
}

/// The workspace id of a survey answer: tagged like the engagements (see
/// `activity_id`), with a code of its own.
pub fn feedback_id(ext: u64) -> Result<u64, String> {
    if ext >= 1 << 52 {
        return Err(format!("id {ext} is too large"));
    }
    Ok((1 << 61) | (6 << 52) | ext)
}

/// Characters of a survey comment kept.
const COMMENT_CHARS: usize = 2_000;

/// What a survey answer becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Feedback {
    /// An NPS answer.
    Nps(NpsResponse),
    /// A CSAT or CES answer: a support rating.
    Rating(SurveyRating),
    /// An answer to another kind of survey (custom, knowledge base): not a
    /// health input. Carries the survey type.
    Other(String),
}

/// Maps a survey answer (`feedback_submissions`) onto `account`: NPS
/// answers (a whole number 0-10) with their comment and day; CSAT (0-2)
/// and CES (1-7) answers as ratings on HubSpot's sentiment scale (see
/// `rating::verdict`). The score is `hs_value` (`hs_response_value` where
/// a portal sends that instead), the comment `hs_content`, the moment
/// `hs_submission_timestamp`.
pub fn feedback(rec: &Value, account: AccountId) -> Result<Feedback, String> {
    let id = feedback_id(record_id(rec)?)?;
    let kind = prop(rec, "hs_survey_type").to_uppercase();
    let survey = match kind.as_str() {
        "NPS" => None,
        "CSAT" => Some(Survey::Csat),
        "CES" => Some(Survey::Ces),
        _ => return Ok(Feedback::Other(if kind.is_empty() { "untyped".into() } else { kind.to_lowercase() })),
    };
    let name = match prop(rec, "hs_survey_name") {
        "" => String::new(),
        n => format!(" (survey \"{n}\")"),
    };
    let raw = ["hs_value", "hs_response_value"].iter().map(|k| prop(rec, k)).find(|v| !v.is_empty()).unwrap_or("");
    if raw.is_empty() {
        return Err(format!("the {kind} answer has no score (hs_value is empty){name}"));
    }
    let at = parse_date(prop(rec, "hs_submission_timestamp"))
        .or_else(|| rec.get("createdAt").and_then(Value::as_str).and_then(parse_date))
        .ok_or_else(|| format!("hs_submission_timestamp is missing or not a date{name}"))?;
    let comment: String = prop(rec, "hs_content").chars().take(COMMENT_CHARS).collect();
    let value = raw.parse::<f64>().ok().filter(|v| v.is_finite());
    match survey {
        None => match value {
            Some(v) if v.fract() == 0.0 && (0.0..=10.0).contains(&v) => {
                Ok(Feedback::Nps(NpsResponse { id, account_id: account, on: at.date_naive(), score: v as u8, comment }))
            }
            _ => Err(format!("NPS answer \"{raw}\" is not a whole number from 0 to 10{name}: left out of the NPS")),
        },
        Some(s) => {
            let v = value.ok_or_else(|| format!("{kind} answer \"{raw}\" is not a number{name}: left out"))?;
            let verdict = verdict(s, v).map_err(|why| format!("{why}{name}: left out"))?;
            Ok(Feedback::Rating(SurveyRating { id, account_id: account, rating: Rating { at, verdict, comment } }))
        }
    }
}

/// Maps an engagement onto `account`'s timeline.
pub fn activity(object: Object, rec: &Value, account: AccountId) -> Result<Activity, String> {
    let ext = record_id(rec)?;
    let id = activity_id(object, ext)?;
    let at_text = match prop(rec, "hs_timestamp") {
        "" if object == Object::Meetings => prop(rec, "hs_meeting_start_time"),
        t => t,
    };
    let at: DateTime<Utc> = parse_date(at_text)
        .or_else(|| rec.get("createdAt").and_then(Value::as_str).and_then(parse_date))
        .ok_or("hs_timestamp is missing or not a date")?;
    let first = |keys: &[&str], fallback: &str| -> String {
        keys.iter().map(|k| plain_text(prop(rec, k))).find(|t| !t.is_empty()).unwrap_or_else(|| fallback.to_string())
    };
    let (kind, summary) = match object {
        Object::Notes => (ActivityKind::Note, first(&["hs_note_body"], "(empty note)")),
        Object::Calls => (ActivityKind::Call, first(&["hs_call_title", "hs_call_body"], "Call")),
        Object::Meetings => (ActivityKind::Meeting, first(&["hs_meeting_title", "hs_meeting_body"], "Meeting")),
        Object::Tasks => {
            let subject = first(&["hs_task_subject", "hs_task_body"], "Task");
            match prop(rec, "hs_task_status").to_lowercase().replace('_', " ").as_str() {
                "" => (ActivityKind::Task, subject),
                status => (ActivityKind::Task, format!("{subject} ({status})")),
            }
        }
        // Only a message from the customer is a two-way touch.
        Object::Emails => match prop(rec, "hs_email_direction") {
            "INCOMING_EMAIL" => (ActivityKind::Email, first(&["hs_email_subject"], "Email")),
            _ => (ActivityKind::EmailSent, first(&["hs_email_subject"], "Email")),
        },
        _ => return Err(format!("{} are not timeline entries", object.name())),
    };
    let author = match prop(rec, "hubspot_owner_id") {
        "" => "HubSpot".to_string(),
        o => format!("owner {o}"),
    };
    Ok(Activity { id, account_id: account, at, kind, summary, author })
}

/// The first line of an HTML or plain-text body as plain text, at most
/// 200 characters: tags dropped, common entities decoded, space collapsed.
pub fn plain_text(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '<' => {
                in_tag = true;
                // A block boundary ends the first line.
                let tag = rest.split('>').next().unwrap_or("").trim_start_matches('/').to_lowercase();
                if !out.trim().is_empty()
                    && ["p", "br", "div", "li"].iter().any(|t| tag.split([' ', '/']).next() == Some(t))
                {
                    break;
                }
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '\n' | '\r' if !out.trim().is_empty() => break,
            '&' => {
                let (text, len) =
                    [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&nbsp;", " ")]
                        .iter()
                        .find(|(e, _)| rest.starts_with(&e[1..]))
                        .map_or(("&", 0), |(e, t)| (*t, e.len() - 1));
                out.push_str(text);
                rest = &rest[len..];
            }
            c if c.is_whitespace() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    let out = out.trim();
    match out.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &out[..i]),
        None => out.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DealKind, Outcome, OutcomeKind};
    use chrono::NaiveDate;
    use serde_json::json;

    #[test]
    fn contacts_and_key_people_by_title() {
        let rec = json!({"id": "7", "properties": {"firstname": "Ann", "lastname": "Lee", "jobtitle": "VP, Operations", "email": "ann@acme.com"}});
        let c = contact(&rec, AccountId(3)).unwrap();
        assert_eq!((c.name.as_str(), c.key_person, c.account_id), ("Ann Lee", true, AccountId(3)));
        assert!(is_key_person("Head of IT"));
        assert!(!is_key_person("Service Advisor"), "\"vp\" must be a word, not a fragment");
        let nameless = json!({"id": "8", "properties": {"email": "x@acme.com"}});
        assert_eq!(contact(&nameless, AccountId(3)).unwrap().name, "x@acme.com");
    }

    #[test]
    fn deals_become_renewals_and_expansions_with_their_state() {
        let rec = json!({"id": "90", "properties": {"dealname": "Acme renewal FY27", "amount": "120000.00",
            "closedate": "2026-06-30T00:00:00Z", "dealstage": "closedwon", "dealtype": "existingbusiness"}});
        let d = deal(&rec, AccountId(1)).unwrap();
        assert_eq!((d.kind, d.state, d.amount), (DealKind::Renewal, DealState::Won, 120_000));
        assert_eq!(
            d.outcome(),
            Some(Outcome::new(OutcomeKind::Renewed, NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()))
        );
        let lost = json!({"id": "91", "properties": {"dealname": "Acme renewal", "hs_is_closed": "true",
            "hs_is_closed_won": "false", "dealstage": "appointmentscheduled", "closedate": "1782777600000"}});
        assert_eq!(deal(&lost, AccountId(1)).unwrap().state, DealState::Lost);
        let open = json!({"id": "92", "properties": {"dealname": "Acme +50 seats", "dealtype": "existingbusiness"}});
        let o = deal(&open, AccountId(1)).unwrap();
        assert_eq!((o.kind, o.state, o.close_date), (DealKind::Expansion, DealState::Open, None));
        let bad = json!({"id": "93", "properties": {"amount": "a lot"}});
        assert!(deal(&bad, AccountId(1)).unwrap_err().contains("amount = \"a lot\""));
    }

    #[test]
    fn engagements_land_on_the_timeline() {
        let note = json!({"id": "5", "properties": {"hs_timestamp": "2026-11-20T09:00:00Z",
            "hs_note_body": "<p>Kick-off &amp; goals agreed</p><p>second para</p>", "hubspot_owner_id": "12"}});
        let a = activity(Object::Notes, &note, AccountId(2)).unwrap();
        assert_eq!(
            (a.kind, a.summary.as_str(), a.author.as_str()),
            (ActivityKind::Note, "Kick-off & goals agreed", "owner 12")
        );
        assert_eq!(a.id, (1 << 61) | (1 << 52) | 5);
        let call = json!({"id": "5", "properties": {"hs_timestamp": "1763629200000", "hs_call_title": ""}});
        let c = activity(Object::Calls, &call, AccountId(2)).unwrap();
        assert_eq!((c.kind, c.summary.as_str()), (ActivityKind::Call, "Call"));
        assert_ne!(c.id, a.id, "a note and a call with one HubSpot id stay apart");
        let sent = json!({"id": "6", "properties": {"hs_timestamp": "2026-11-20T09:00:00Z", "hs_email_direction": "EMAIL", "hs_email_subject": "Hi"}});
        assert_eq!(activity(Object::Emails, &sent, AccountId(2)).unwrap().kind, ActivityKind::EmailSent);
        let got = json!({"id": "6", "properties": {"hs_timestamp": "2026-11-20T09:00:00Z", "hs_email_direction": "INCOMING_EMAIL"}});
        assert!(activity(Object::Emails, &got, AccountId(2)).unwrap().kind.is_two_way());
        let task = json!({"id": "9", "properties": {"hs_timestamp": "2026-11-20T09:00:00Z", "hs_task_subject": "Send QBR deck", "hs_task_status": "NOT_STARTED"}});
        assert_eq!(activity(Object::Tasks, &task, AccountId(2)).unwrap().summary, "Send QBR deck (not started)");
        let undated = json!({"id": "10", "properties": {"hs_note_body": "x"}});
        assert!(activity(Object::Notes, &undated, AccountId(2)).unwrap_err().contains("hs_timestamp"));
    }

    #[test]
    fn survey_answers_become_nps_answers_and_ratings() {
        use crate::domain::rating::Verdict;
        let rec = |kind: &str, value: &str| {
            json!({"id": "31", "properties": {"hs_survey_type": kind, "hs_value": value, "hs_survey_name": "Q3",
                "hs_content": "Too slow", "hs_submission_timestamp": "2026-05-02T09:30:00Z"}})
        };
        let Feedback::Nps(n) = feedback(&rec("NPS", "4"), AccountId(2)).unwrap() else { panic!("an NPS answer") };
        assert_eq!((n.score, n.comment.as_str(), n.account_id), (4, "Too slow", AccountId(2)));
        assert_eq!(n.on, NaiveDate::from_ymd_opt(2026, 5, 2).unwrap());
        assert_eq!(n.id, (1 << 61) | (6 << 52) | 31);
        for bad in ["11", "-1", "7.5", "ten"] {
            let why = feedback(&rec("NPS", bad), AccountId(2)).unwrap_err();
            assert!(why.contains(&format!("\"{bad}\" is not a whole number from 0 to 10 (survey \"Q3\")")), "{why}");
        }
        let Feedback::Rating(r) = feedback(&rec("CSAT", "0"), AccountId(2)).unwrap() else { panic!("a rating") };
        assert_eq!((r.rating.verdict, r.rating.comment.as_str()), (Verdict::Bad, "Too slow"));
        let Feedback::Rating(r) = feedback(&rec("ces", "7"), AccountId(2)).unwrap() else { panic!("a rating") };
        assert_eq!(r.rating.verdict, Verdict::Good);
        assert!(feedback(&rec("CSAT", "5"), AccountId(2)).unwrap_err().contains("not 0, 1 or 2"));
        assert_eq!(feedback(&rec("CUSTOM", "3"), AccountId(2)).unwrap(), Feedback::Other("custom".into()));
        assert!(feedback(&rec("NPS", ""), AccountId(2)).unwrap_err().contains("no score"));
        let other_name = json!({"id": "32", "properties": {"hs_survey_type": "NPS", "hs_response_value": "9",
            "hs_submission_timestamp": "1767225600000"}});
        assert!(matches!(feedback(&other_name, AccountId(2)).unwrap(), Feedback::Nps(NpsResponse { score: 9, .. })));
        let via_prop = json!({"id": "33", "properties": {"hs_contact_id": "77"}});
        assert_eq!(contact_of(&via_prop), Some("77"));
        let via_assoc =
            json!({"id": "33", "associations": {"contacts": {"results": [{"id": "78"}]}}, "properties": {}});
        assert_eq!(contact_of(&via_assoc), Some("78"));
    }

    #[test]
    fn plain_text_of_bodies() {
        assert_eq!(plain_text("  hello\n  world "), "hello");
        assert_eq!(plain_text("<div><b>Bold</b>  move</div><div>next</div>"), "Bold move");
        assert_eq!(plain_text("a &lt; b &unknown; c"), "a < b &unknown; c");
        assert_eq!(plain_text(&"x".repeat(300)).chars().count(), 201);
        assert_eq!(plain_text(""), "");
    }
}
