//! Derives the figures an account row shows from the account's records.

use chrono::{DateTime, Duration, Utc};

use super::account::{Account, AccountRow};
use super::activity::Activity;
use super::health::HealthHistory;
use super::ticket::Ticket;

/// The last two-way touch: a customer reply on a ticket, or a call, meeting
/// or email on the timeline.
pub fn last_touch(tickets: &[Ticket], activities: &[Activity]) -> Option<DateTime<Utc>> {
    let from_tickets = tickets.iter().filter_map(|t| t.last_customer_reply);
    let from_timeline = activities.iter().filter(|a| a.kind.is_two_way()).map(|a| a.at);
    from_tickets.chain(from_timeline).max()
}

/// Builds an account's row: health now and 7 and 30 days before its latest
/// score, open tickets, and the last touch.
pub fn derive_row(
    account: &Account,
    history: &HealthHistory,
    tickets: &[Ticket],
    activities: &[Activity],
) -> AccountRow {
    let latest = history.latest();
    let back = |days: i64| -> Option<u8> {
        let (d, _) = latest?;
        history.at(d - Duration::days(days))
    };
    AccountRow {
        id: account.id,
        name: account.name.clone(),
        segment: account.segment,
        arr: account.arr,
        stage: account.stage,
        renewal_date: account.renewal_date,
        health: latest.map(|(_, s)| s),
        health_7d_ago: back(7),
        health_30d_ago: back(30),
        open_tickets: tickets.iter().filter(|t| t.status.is_open()).count() as u32,
        last_touch: last_touch(tickets, activities),
    }
}
