//! What the account view reads of one account, on the reader thread: the
//! account and its row, why its score is what it is, its people (with the
//! last time each wrote in, when the tickets tell), its tickets, deals, NPS
//! answers, the newest page of its timeline, and its outbox entries.

use chrono::{DateTime, Utc};

use super::reads::{ticket_view, TicketView};
use crate::domain::explain::Explanation;
use crate::domain::health_model::Model;
use crate::domain::outbox::OutboxEntry;
use crate::domain::signals::Sentiment;
use crate::domain::{
    Account, AccountId, AccountRow, Activity, ActivityKind, Contact, Deal, NpsResponse, SupportOnly, Ticket,
};
use crate::store::Store;

/// Timeline entries read at a time; older ones are read as the CSM
/// scrolls to them.
pub const TIMELINE_PAGE: usize = 400;

/// A person at the account, as the view lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Full name (raw).
    pub name: String,
    /// Title or role (raw).
    pub title: String,
    /// Email (raw).
    pub email: String,
    /// A key person (decision maker, champion).
    pub key: bool,
    /// The last time they wrote in, when their tickets tell.
    pub last_touch: Option<DateTime<Utc>>,
}

/// One account in full, as the account view shows it.
#[derive(Debug, Clone)]
pub struct FullAccount {
    /// Whose.
    pub id: AccountId,
    /// The account record (none when it is gone).
    pub account: Option<Account>,
    /// Its row: health, its trend, open tickets, last touch.
    pub row: Option<AccountRow>,
    /// Why the account has no CRM record, when it is a support organization of its own.
    pub support_only: Option<SupportOnly>,
    /// Why the latest score is what it is.
    pub explanation: Option<Explanation>,
    /// The CSM's sentiment, when set.
    pub sentiment: Option<Sentiment>,
    /// Key people first, then every other contact.
    pub people: Vec<Person>,
    /// Every ticket, with its requester named.
    pub tickets: Vec<TicketView>,
    /// Every deal.
    pub deals: Vec<Deal>,
    /// NPS answers, newest first.
    pub nps: Vec<NpsResponse>,
    /// The timeline read so far, newest first.
    pub timeline: Vec<Activity>,
    /// Whether older timeline entries remain to be read.
    pub timeline_more: bool,
    /// When the account entered its stage, from the timeline's latest stage
    /// change (none: since the contract started).
    pub stage_since: Option<DateTime<Utc>>,
    /// This account's outbox entries, newest first.
    pub outbox: Vec<OutboxEntry>,
    /// What could not be read, for the view to say.
    pub trouble: Vec<String>,
}

/// Reads everything the account view shows of `id` (on a job thread).
pub fn read(store: &Store, id: AccountId, model: &Model, now: DateTime<Utc>) -> FullAccount {
    let mut trouble = Vec::new();
    let mut ok = Ok { trouble: &mut trouble };
    let account = ok.get("the account", store.account(id)).flatten();
    let row = ok.get("its row", store.row(id)).flatten();
    let support_only = ok.get("its organization", store.support_only(id)).flatten();
    let explanation = ok.get("its health", store.explain(id, model, now.date_naive())).flatten();
    let sentiment = store.manual_signals(id).ok().flatten().and_then(|m| m.sentiment);
    let tickets: Vec<Ticket> = ok.get("its tickets", store.tickets(id)).unwrap_or_default();
    let contacts: Vec<Contact> = ok.get("its contacts", store.contacts(id)).unwrap_or_default();
    let people = people(account.as_ref(), &contacts, &tickets);
    let tickets = tickets.into_iter().map(|t| ticket_view(store, t)).collect();
    let deals = ok.get("its deals", store.deals(id)).unwrap_or_default();
    let mut nps: Vec<NpsResponse> = ok.get("its NPS answers", store.nps(id)).unwrap_or_default();
    nps.reverse();
    let (timeline, timeline_more) =
        ok.get("its timeline", store.timeline_page(id, None, TIMELINE_PAGE)).unwrap_or((Vec::new(), false));
    let stage_since = stage_since(store, id, &timeline, timeline_more);
    let mut outbox: Vec<OutboxEntry> =
        ok.get("the outbox", store.outbox()).unwrap_or_default().into_iter().filter(|e| e.account_id == id).collect();
    outbox.reverse();
    FullAccount {
        id,
        account,
        row,
        support_only,
        explanation,
        sentiment,
        people,
        tickets,
        deals,
        nps,
        timeline,
        timeline_more,
        stage_since,
        outbox,
        trouble,
    }
}

/// Keeps what could not be read, so the rest still shows.
struct Ok<'a> {
    trouble: &'a mut Vec<String>,
}

impl Ok<'_> {
    fn get<T>(&mut self, what: &str, r: Result<T, crate::store::StoreError>) -> Option<T> {
        r.map_err(|e| self.trouble.push(format!("{what} could not be read: {e}"))).ok()
    }
}

/// The latest stage change: in the page read, else further back (read a
/// page at a time, so a long timeline is never held whole).
fn stage_since(store: &Store, id: AccountId, first: &[Activity], more: bool) -> Option<DateTime<Utc>> {
    let found = |page: &[Activity]| page.iter().find(|a| a.kind == ActivityKind::StageChange).map(|a| a.at);
    if let Some(at) = found(first) {
        return Some(at);
    }
    let (mut last, mut more) = (first.last().map(|a| (a.at, a.id)), more);
    while more {
        let (page, older) = store.timeline_page(id, last, TIMELINE_PAGE).ok()?;
        if let Some(at) = found(&page) {
            return Some(at);
        }
        last = page.last().map(|a| (a.at, a.id));
        more = older && last.is_some();
    }
    None
}

/// Key people first (those the account record names, then the contacts
/// marked key), then every other contact, each once by email; each with
/// the last time they wrote in on a ticket they opened.
pub fn people(account: Option<&Account>, contacts: &[Contact], tickets: &[Ticket]) -> Vec<Person> {
    let touch = |name: &str, email: &str, desk_user: Option<u64>| {
        tickets
            .iter()
            .filter(|t| {
                let r = t.requester.trim();
                (!name.trim().is_empty() && r.eq_ignore_ascii_case(name.trim()))
                    || (!email.trim().is_empty() && r.eq_ignore_ascii_case(email.trim()))
                    || desk_user.is_some_and(|u| r == format!("user {u}"))
            })
            .map(|t| t.last_customer_reply.unwrap_or(t.created_at).max(t.created_at))
            .max()
    };
    let mut out: Vec<Person> = Vec::new();
    let same = |p: &Person, email: &str, name: &str| {
        (!email.is_empty() && p.email.eq_ignore_ascii_case(email)) || (email.is_empty() && p.name == name)
    };
    for k in account.map(|a| a.key_people.as_slice()).unwrap_or_default() {
        out.push(Person {
            name: k.name.clone(),
            title: k.role.clone(),
            email: k.email.clone(),
            key: true,
            last_touch: touch(&k.name, &k.email, None),
        });
    }
    let mut rest: Vec<&Contact> = contacts.iter().collect();
    rest.sort_by_key(|c| (!c.key_person, c.name.to_lowercase()));
    for c in rest {
        let last = touch(&c.name, &c.email, crate::sync::zendesk::desk_user_of(c.id));
        if let Some(p) = out.iter_mut().find(|p| same(p, &c.email, &c.name)) {
            // Known already as a key person: the contact adds what it knows.
            if p.title.trim().is_empty() {
                p.title = c.title.clone();
            }
            p.last_touch = p.last_touch.max(last);
            continue;
        }
        out.push(Person {
            name: c.name.clone(),
            title: c.title.clone(),
            email: c.email.clone(),
            key: c.key_person,
            last_touch: last,
        });
    }
    // Key people first, in their order; the rest as sorted.
    out.sort_by_key(|p| !p.key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{KeyPerson, Team, TicketPriority, TicketStatus};
    use chrono::TimeZone;

    fn contact(id: u64, name: &str, email: &str, key: bool) -> Contact {
        Contact {
            id,
            account_id: AccountId(1),
            name: name.into(),
            email: email.into(),
            title: "Ops".into(),
            key_person: key,
        }
    }

    #[test]
    fn key_people_come_first_once_each_with_their_last_ticket() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let ticket = |requester: &str, days: i64| Ticket {
            id: 1,
            account_id: AccountId(1),
            subject: "x".into(),
            status: TicketStatus::Open,
            priority: TicketPriority::Normal,
            team: Team::Unassigned,
            requester: requester.into(),
            created_at: at - chrono::Duration::days(days),
            updated_at: at,
            last_customer_reply: None,
            last_agent_reply: None,
            seen_by_customer: false,
            complex: false,
            frustrated: false,
            bug: false,
            escalated: false,
            follow_ups_sent: 0,
        };
        let desk = crate::sync::zendesk::user_contact_id(77);
        let contacts = [
            contact(1, "Zoe Ng", "zoe@x.com", false),
            contact(2, "Ann Bell", "ann@x.com", false),
            contact(3, "Kim Roe", "kim@x.com", true),
            contact(desk, "Desk User", "d@x.com", false),
        ];
        let day = at.date_naive();
        let account = Account {
            id: AccountId(1),
            name: "Acme".into(),
            domain: "x.com".into(),
            segment: crate::domain::Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: String::new(),
            plan: "Pro".into(),
            seats: 10,
            arr: 12_000,
            contract_start: day,
            renewal_date: day,
            stage: crate::domain::Stage::Adoption,
            key_people: vec![KeyPerson {
                name: "Ann Bell".into(),
                role: "VP Operations".into(),
                email: "ANN@x.com".into(),
            }],
            outcome: None,
        };
        let tickets = [ticket("Ann Bell", 3), ticket("Ann Bell", 1), ticket("user 77", 2)];
        let p = people(Some(&account), &contacts, &tickets);
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Ann Bell", "Kim Roe", "Desk User", "Zoe Ng"]);
        assert_eq!(p[0].title, "VP Operations", "the account's role wins");
        assert_eq!(p[0].last_touch, Some(at - chrono::Duration::days(1)));
        assert_eq!(p[2].last_touch, Some(at - chrono::Duration::days(2)), "a desk user by id");
        assert_eq!(p[3].last_touch, None);
    }
}
