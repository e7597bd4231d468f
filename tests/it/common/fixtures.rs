//! Records with the defaults a test does not care about: each test names
//! only the fields it is about (`Account { stage, ..account(id, "Acme") }`).

use chrono::{DateTime, NaiveDate, Utc};
use cockpit::domain::{
    Account, AccountId, FollowUp, FollowUpKind, FollowUpState, Priority, Segment, Stage, Team, Ticket, TicketPriority,
    TicketStatus,
};

/// A paying mid-market retail account in adoption (Dana's, 20 seats, 40k ARR),
/// on a contract from 2026-01-01 renewing 2027-01-01, at `name.example`.
pub fn account(id: AccountId, name: &str) -> Account {
    Account {
        id,
        name: name.into(),
        domain: format!("{}.example", name.to_lowercase()),
        segment: Segment::MidMarket,
        industry: "Retail".into(),
        region: "EMEA".into(),
        owner: "Dana".into(),
        plan: "Pro".into(),
        seats: 20,
        arr: 40_000,
        contract_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        renewal_date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        stage: Stage::Adoption,
        key_people: vec![],
        outcome: None,
    }
}

/// An open, normal-priority ticket from Ana Lima that nobody has answered,
/// opened and last changed at `at`, with no flags and no follow-ups sent.
pub fn ticket(id: u64, account: AccountId, subject: &str, at: DateTime<Utc>) -> Ticket {
    Ticket {
        id,
        account_id: account,
        subject: subject.into(),
        status: TicketStatus::Open,
        priority: TicketPriority::Normal,
        team: Team::Unassigned,
        requester: "Ana Lima".into(),
        created_at: at,
        updated_at: at,
        last_customer_reply: None,
        last_agent_reply: None,
        seen_by_customer: false,
        complex: false,
        frustrated: false,
        bug: false,
        escalated: false,
        follow_ups_sent: 0,
    }
}

/// An open, normal-priority check-in on an account, due at `due`.
pub fn follow_up(id: u64, account: AccountId, reason: &str, due: DateTime<Utc>) -> FollowUp {
    FollowUp {
        id,
        account_id: account,
        ticket_id: None,
        kind: FollowUpKind::CheckIn,
        reason: reason.into(),
        due,
        priority: Priority::Normal,
        state: FollowUpState::Open,
    }
}
