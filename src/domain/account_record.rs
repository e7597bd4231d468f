//! One account's whole record, as `cockpit account` prints it and the
//! cockpit's account view reads it: every health input with where it comes
//! from, the factors of the score, a year of daily scores, and the people,
//! tickets, deals, NPS answers and timeline, each in the order a CSM reads
//! them. Pure: the store gathers the records, the clock is passed in.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::account::{Account, AccountRow, Contact};
use super::activity::Activity;
use super::deal::{Deal, DealState};
use super::explain::Explanation;
use super::health::HealthHistory;
use super::nps::NpsResponse;
use super::observed::Observations;
use super::provenance::{provenance, Provenance};
use super::rating::Rating;
use super::signals::{ManualSignals, Records};
use super::ticket::Ticket;

/// Days of daily scores in a record (today and the 364 before).
pub const RECORD_DAYS: i64 = 365;

/// What the store holds of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountData {
    /// The account.
    pub account: Account,
    /// Its row (latest health, 7- and 30-day figures), when derived.
    pub row: Option<AccountRow>,
    /// Its ids at the sources: (source, external id).
    pub external: Vec<(String, String)>,
    /// Its tickets.
    pub tickets: Vec<Ticket>,
    /// Its contacts.
    pub contacts: Vec<Contact>,
    /// Its timeline.
    pub activities: Vec<Activity>,
    /// Its NPS answers.
    pub nps: Vec<NpsResponse>,
    /// Its deals.
    pub deals: Vec<Deal>,
    /// Figures set by hand or by the demo, and the CSM's sentiment.
    pub manual: Option<ManualSignals>,
    /// What sources report.
    pub observed: Observations,
    /// Its support ratings (desk ticket ratings, CSAT and CES answers).
    pub ratings: Vec<Rating>,
}

impl AccountData {
    /// The records the health inputs are read from.
    pub fn records(&self) -> Records<'_> {
        Records {
            account: &self.account,
            tickets: &self.tickets,
            activities: &self.activities,
            nps: &self.nps,
            manual: self.manual.as_ref(),
            observed: Some(&self.observed),
            ratings: &self.ratings,
        }
    }
}

/// One account's whole record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// When it was put together.
    pub as_of: DateTime<Utc>,
    /// The account.
    pub account: Account,
    /// Its row, when derived.
    pub row: Option<AccountRow>,
    /// Its ids at the sources: (source, external id), by source.
    pub external: Vec<(String, String)>,
    /// Every input of the health model with where it comes from.
    pub inputs: Vec<Provenance>,
    /// The latest scored day's factors and points, when there is one.
    pub explanation: Option<Explanation>,
    /// The daily scores of the last `RECORD_DAYS` days, oldest first.
    pub history: HealthHistory,
    /// Contacts, key people first, then by name.
    pub contacts: Vec<Contact>,
    /// Tickets not yet solved, oldest first.
    pub open_tickets: Vec<Ticket>,
    /// Tickets solved or closed.
    pub closed_tickets: usize,
    /// Deals: open ones first, then by close date, latest first.
    pub deals: Vec<Deal>,
    /// NPS answers, most recent first.
    pub nps: Vec<NpsResponse>,
    /// The timeline, most recent first.
    pub timeline: Vec<Activity>,
}

impl AccountRecord {
    /// Puts the record together as of `now`.
    pub fn assemble(
        data: AccountData,
        explanation: Option<Explanation>,
        history: HealthHistory,
        now: DateTime<Utc>,
    ) -> AccountRecord {
        let inputs = provenance(&data.records(), now);
        let AccountData { account, row, mut external, tickets, contacts, mut activities, mut nps, mut deals, .. } =
            data;
        external.sort();
        let contacts = people(&account, contacts);
        let closed_tickets = tickets.iter().filter(|t| !t.status.is_open()).count();
        let mut open_tickets: Vec<Ticket> = tickets.into_iter().filter(|t| t.status.is_open()).collect();
        open_tickets.sort_by_key(|t| (t.created_at, t.id));
        deals.sort_by_key(|d| (d.state != DealState::Open, std::cmp::Reverse(d.close_date), d.id));
        nps.sort_by_key(|n| (std::cmp::Reverse(n.on), std::cmp::Reverse(n.id)));
        activities.sort_by_key(|a| (std::cmp::Reverse(a.at), std::cmp::Reverse(a.id)));
        AccountRecord {
            as_of: now,
            account,
            row,
            external,
            inputs,
            explanation,
            history,
            contacts,
            open_tickets,
            closed_tickets,
            deals,
            nps,
            timeline: activities,
        }
    }

    /// The first day of the score history.
    pub fn history_from(today: NaiveDate) -> NaiveDate {
        today - Duration::days(RECORD_DAYS - 1)
    }
}

/// Contacts with the account's key people marked (and added when the CRM
/// has no contact for them), key people first, then by name.
fn people(account: &Account, mut contacts: Vec<Contact>) -> Vec<Contact> {
    let same = |a: &str, b: &str| !a.is_empty() && a.eq_ignore_ascii_case(b);
    for kp in &account.key_people {
        match contacts.iter_mut().find(|c| same(&c.email, &kp.email) || (kp.email.is_empty() && c.name == kp.name)) {
            Some(c) => {
                c.key_person = true;
                if c.title.is_empty() {
                    c.title = kp.role.clone();
                }
            }
            None => contacts.push(Contact {
                id: 0,
                account_id: account.id,
                name: kp.name.clone(),
                email: kp.email.clone(),
                title: kp.role.clone(),
                key_person: true,
            }),
        }
    }
    contacts.sort_by(|a, b| {
        b.key_person.cmp(&a.key_person).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    contacts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AccountId, ActivityKind, DealKind, KeyPerson, Segment, Stage, Team, TicketPriority, TicketStatus,
    };

    fn now() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc()
    }

    fn data() -> AccountData {
        let day = now().date_naive();
        let account = Account {
            id: AccountId(4),
            name: "Acme".into(),
            domain: "acme.com".into(),
            segment: Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: "dana".into(),
            plan: "Pro".into(),
            seats: 10,
            arr: 12_000,
            contract_start: day - Duration::days(300),
            renewal_date: day + Duration::days(65),
            stage: Stage::Adoption,
            key_people: vec![
                KeyPerson { name: "Zoe Key".into(), role: "VP Ops".into(), email: "ZOE@acme.com".into() },
                KeyPerson { name: "Max Absent".into(), role: "CFO".into(), email: "max@acme.com".into() },
            ],
            outcome: None,
        };
        let contact = |id: u64, name: &str, email: &str| Contact {
            id,
            account_id: AccountId(4),
            name: name.into(),
            email: email.into(),
            title: String::new(),
            key_person: false,
        };
        let ticket = |id: u64, days: i64, status: TicketStatus| Ticket {
            id,
            account_id: AccountId(4),
            subject: format!("t{id}"),
            status,
            priority: TicketPriority::Normal,
            team: Team::Unassigned,
            requester: String::new(),
            created_at: now() - Duration::days(days),
            updated_at: now() - Duration::days(days),
            last_customer_reply: None,
            last_agent_reply: None,
            seen_by_customer: false,
            complex: false,
            frustrated: false,
            bug: false,
            escalated: false,
            follow_ups_sent: 0,
        };
        let activity = |id: u64, days: i64| Activity {
            id,
            account_id: AccountId(4),
            at: now() - Duration::days(days),
            kind: ActivityKind::Note,
            summary: format!("a{id}"),
            author: String::new(),
        };
        let deal = |id: u64, state: DealState, close: Option<i64>| Deal {
            id,
            account_id: AccountId(4),
            name: format!("d{id}"),
            kind: DealKind::Renewal,
            state,
            amount: 1,
            close_date: close.map(|d| day - Duration::days(d)),
        };
        let answer = |id: u64, days: i64| NpsResponse {
            id,
            account_id: AccountId(4),
            on: day - Duration::days(days),
            score: 8,
            comment: String::new(),
        };
        AccountData {
            account,
            ratings: vec![],
            row: None,
            external: vec![("desk".into(), "org/7".into()), ("crm".into(), "1001".into())],
            tickets: vec![
                ticket(1, 3, TicketStatus::Open),
                ticket(2, 30, TicketStatus::Solved),
                ticket(3, 9, TicketStatus::Hold),
            ],
            contacts: vec![
                contact(1, "adam", "adam@acme.com"),
                contact(2, "Zoe Key", "zoe@acme.com"),
                contact(3, "Bea", ""),
            ],
            activities: vec![activity(1, 10), activity(2, 1), activity(3, 5)],
            nps: vec![answer(1, 100), answer(2, 10), answer(3, 200)],
            deals: vec![
                deal(1, DealState::Won, Some(300)),
                deal(2, DealState::Lost, Some(20)),
                deal(3, DealState::Open, None),
            ],
            manual: None,
            observed: Observations::default(),
        }
    }

    #[test]
    fn lists_come_in_the_order_a_csm_reads_them() {
        let from = AccountRecord::history_from(now().date_naive());
        let history = HealthHistory { start: Some(from), scores: vec![None; RECORD_DAYS as usize] };
        let r = AccountRecord::assemble(data(), None, history, now());
        let names: Vec<(&str, bool, &str)> =
            r.contacts.iter().map(|c| (c.name.as_str(), c.key_person, c.title.as_str())).collect();
        assert_eq!(
            names,
            [("Max Absent", true, "CFO"), ("Zoe Key", true, "VP Ops"), ("adam", false, ""), ("Bea", false, "")],
            "key people first (matched by email in any case, or added), then by name"
        );
        assert_eq!(r.open_tickets.iter().map(|t| t.id).collect::<Vec<_>>(), [3, 1], "oldest open first");
        assert_eq!(r.closed_tickets, 1);
        assert_eq!(r.deals.iter().map(|d| d.id).collect::<Vec<_>>(), [3, 2, 1], "open, then latest closed");
        assert_eq!(r.nps.iter().map(|n| n.id).collect::<Vec<_>>(), [2, 1, 3], "most recent first");
        assert_eq!(r.timeline.iter().map(|a| a.id).collect::<Vec<_>>(), [2, 3, 1], "most recent first");
        assert_eq!(r.external[0].0, "crm", "by source");
        assert_eq!(r.history.scores.len(), 365);
        assert_eq!(r.history.start, Some(now().date_naive() - Duration::days(364)));
        let support = r.inputs.iter().find(|p| p.measure == crate::domain::Measure::Support).unwrap();
        assert_eq!(support.get(), Some(2.0), "the inputs are read from the same records");
    }
}
