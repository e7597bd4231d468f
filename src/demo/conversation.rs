//! Short conversations for the demo's tickets, kept as a desk's would be
//! (the demo has no desk to read them from). Their tone is drawn from the
//! ticket alone, on a stream of its own: it follows neither the account's
//! health nor its hidden story, so reading them teaches nothing the model
//! does not already see (a frustrated ticket reads frustrated, as its tag
//! says; every other mood is chance).

use chrono::{DateTime, Duration, Utc};

use super::rng::Rng;
use crate::domain::conversation::{Comment, Conversation};
use crate::domain::{Team, Ticket};

/// The stream conversations draw from, apart from every account's.
const STREAM: u64 = 0xC0_4E55;

/// Support agents who answer the demo's tickets.
const AGENTS: &[&str] = &["Sam Ortiz", "Priya Nair", "Jonas Berg", "Lea Moreau"];

/// How customers open a ticket, in several moods.
const OPENERS: &[&str] = &[
    "Hi team, we ran into this today: {subject}. Could you take a look when you have a moment?",
    "{subject}. Third time this month. We need a fix, not a workaround.",
    "Hello! Quick one: {subject}. Thanks in advance, you have been great so far.",
    "{subject} - steps: open the page, try again, same result. Screenshot attached.",
    "Not urgent, but {subject}. Happy to jump on a call if that is easier.",
    "Our finance lead asked me to raise this: {subject}. Who should we talk to?",
];

/// How agents answer a bug report.
const BUG_ANSWERS: &[&str] = &[
    "Thanks for the report. I could reproduce it and passed the details on; I will update you here.",
    "Could you tell me which browser and which account you used? That will help us narrow it down.",
    "Sorry for the trouble. A fix is scheduled for next week's release; until then, exporting a month at a time works.",
];

/// How agents answer a billing or pricing question.
const SALES_ANSWERS: &[&str] = &[
    "I have looped in your account manager; they will send the details today.",
    "The seat count comes from the last true-up; I asked billing to check it against your contract.",
];

/// How agents answer a question.
const HOW_TO_ANSWERS: &[&str] = &[
    "Here is what should work: Settings > Workspace, then the section you need. Let me know if it does not.",
    "Good question. I wrote up the steps in the help centre and sent you the link.",
    "Happy to help: I booked a 30-minute session, the invite is on its way.",
];

/// How customers answer back.
const REPLIES: &[&str] = &[
    "That worked, thanks.",
    "Still the same on our side, I'm afraid.",
    "OK. Please keep us posted, this blocks our month-end close.",
    "Thanks. Honestly we expected this to be sorted by now.",
    "Great, appreciated!",
];

/// Internal notes agents leave, by kind of ticket.
const NOTES: &[&str] = &[
    "Checked the logs: requests time out after 30 s on their largest workspace.",
    "Customer is on the old plan; billing needs to confirm the seat count.",
    "Walked them through it on chat; the help article is out of date.",
];

/// A short conversation for a demo ticket, kept as of `now`.
pub fn demo(ticket: &Ticket, seed: u64, now: DateTime<Utc>) -> Conversation {
    let mut rng = Rng::new(seed ^ STREAM, ticket.id);
    let agent = *rng.pick(AGENTS);
    let customer = ticket.requester.clone();
    let subject = lower_first(&ticket.subject);
    let mut comments = Vec::new();
    let mut next_id = ticket.id * 16;
    let mut add = |author: &str, at: DateTime<Utc>, public: bool, body: String| {
        next_id += 1;
        comments.push(Comment { id: next_id, author: author.to_string(), at, public, body });
    };
    let opener = if ticket.frustrated { OPENERS[1] } else { *rng.pick(OPENERS) };
    add(&customer, ticket.created_at, true, opener.replace("{subject}", &subject));
    let (ours, theirs) = (ticket.last_agent_reply, ticket.last_customer_reply.filter(|t| *t > ticket.created_at));
    let (answers, note) = match ticket.team {
        _ if ticket.bug => (BUG_ANSWERS, NOTES[0]),
        Team::Sales => (SALES_ANSWERS, NOTES[1]),
        _ => (HOW_TO_ANSWERS, NOTES[2]),
    };
    if rng.chance(0.4) {
        let at = ours.unwrap_or(now).min(ticket.created_at + Duration::hours(1));
        add(agent, at, false, note.to_string());
    }
    let answer = |rng: &mut Rng| rng.pick(answers).to_string();
    match (ours, theirs) {
        // We answered, they answered, and we answered again last.
        (Some(o), Some(c)) if o > c => {
            let first = ticket.created_at + (c - ticket.created_at) / 2;
            add(agent, first, true, answer(&mut rng));
            add(&customer, c, true, rng.pick(REPLIES).to_string());
            add(agent, o, true, answer(&mut rng));
        }
        // They wrote last.
        (Some(o), Some(c)) => {
            add(agent, o, true, answer(&mut rng));
            let body = if ticket.frustrated { REPLIES[3].to_string() } else { rng.pick(REPLIES).to_string() };
            add(&customer, c, true, body);
        }
        (Some(o), None) => add(agent, o, true, answer(&mut rng)),
        _ => {}
    }
    if !ticket.status.is_open() {
        let at = ours.unwrap_or(ticket.updated_at);
        add(agent, at, false, "Solved: no answer needed from the customer.".into());
    }
    comments.sort_by_key(|c| (c.at, c.id));
    Conversation { ticket: ticket.id, source: super::DEMO_SOURCE.into(), kept_at: now, comments }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, TicketPriority, TicketStatus};
    use chrono::TimeZone;

    fn ticket(id: u64, frustrated: bool) -> Ticket {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap();
        Ticket {
            id,
            account_id: AccountId(1),
            subject: "Data import failed halfway through".into(),
            status: TicketStatus::Pending,
            priority: TicketPriority::Normal,
            team: Team::Unassigned,
            requester: "Ana Lima".into(),
            created_at: now - Duration::days(4),
            updated_at: now - Duration::days(1),
            last_customer_reply: Some(now - Duration::days(2)),
            last_agent_reply: Some(now - Duration::days(1)),
            seen_by_customer: true,
            complex: false,
            frustrated,
            bug: false,
            escalated: false,
            follow_ups_sent: 0,
        }
    }

    #[test]
    fn conversations_follow_the_tickets_moments_and_are_the_same_for_a_seed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap();
        let t = ticket(10_008, false);
        let c = demo(&t, 42, now);
        assert_eq!(c, demo(&t, 42, now), "deterministic");
        assert_eq!(c.comments.first().map(|c| c.at), Some(t.created_at));
        assert!(c.comments.iter().any(|c| c.at == t.last_agent_reply.unwrap() && c.public));
        assert!(c.comments.iter().any(|c| c.at == t.last_customer_reply.unwrap() && c.author == "Ana Lima"));
        assert!(c.comments.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
        // Moods vary across tickets, not with anything about the account.
        let openers: std::collections::BTreeSet<String> =
            (0..40).map(|i| demo(&ticket(10_000 + i, false), 42, now).comments[0].body.clone()).collect();
        assert!(openers.len() >= 4, "{openers:?}");
        assert!(demo(&ticket(10_008, true), 42, now).comments[0].body.contains("Third time"));
    }
}
