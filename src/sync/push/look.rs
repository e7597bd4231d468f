//! Looking for a write's marker at the vendor: the HubSpot notes or tasks
//! carrying it (every copy, earliest first), or the ticket comment carrying
//! it, newest first.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;

use super::{crm, desk, request, Problem};
use crate::domain::outbox::{OutboxEntry, Write};
use crate::sync::http::Client;

/// What a marker check found.
pub(super) enum Found {
    /// HubSpot objects carrying the marker, earliest first (never empty).
    Copies(Vec<String>),
    /// A Zendesk comment carrying it.
    Comment {
        /// The newest comment carrying it.
        id: String,
        /// The ticket's stamp our write left, if nothing changed it since.
        stamp: Option<DateTime<Utc>>,
        /// Older comments carrying it too.
        others: Vec<String>,
    },
}

/// Looks for the entry's marker at the vendor.
pub(super) async fn check(client: &Client, e: &OutboxEntry) -> Result<Option<Found>, Problem> {
    match &e.write {
        Write::Note { .. } | Write::Task { .. } => {
            let ids = copies(client, e).await?;
            Ok((!ids.is_empty()).then_some(Found::Copies(ids)))
        }
        // Setting a property twice is harmless: nothing to look for.
        Write::Stage { .. } | Write::Health { .. } => Ok(None),
        Write::Ticket { ticket, .. } => {
            let Some(found) = find_comments(client, e, *ticket).await? else { return Ok(None) };
            // Our comment's moment is the ticket's stamp only if nothing
            // changed it since.
            let t = request(client, Method::GET, &desk::ticket_path(*ticket), None).await?;
            let stamp = desk::updated_at(&t).filter(|u| Some(*u) == found.newest.created_at);
            Ok(Some(Found::Comment { id: found.newest.id, stamp, others: found.others }))
        }
    }
}

/// The HubSpot notes or tasks carrying the entry's marker, earliest first.
pub(super) async fn copies(client: &Client, e: &OutboxEntry) -> Result<Vec<String>, Problem> {
    let (path, body) = crm::search(e).expect("a CRM create");
    let answer = request(client, Method::POST, &path, Some(&body)).await?;
    Ok(crm::copies(e, &answer))
}

/// Where a ticket write's marker is among the ticket's comments.
struct CommentsFound {
    /// The newest comment carrying it.
    newest: desk::Found,
    /// Older ones carrying it too: a duplicate, which Zendesk cannot delete.
    others: Vec<String>,
}

/// Reads the ticket's comments newest first until the marker is found, or
/// to the last page: ours is usually on the first, but a busy ticket may
/// have hundreds of comments since. Once found, reading goes on only while
/// comments are younger than the entry (a copy cannot be older), to see a
/// duplicate. A cursor that repeats or never ends fails the check: it is
/// never taken for "not there".
async fn find_comments(client: &Client, e: &OutboxEntry, ticket: u64) -> Result<Option<CommentsFound>, Problem> {
    let marker = e.marker();
    // A day of clock skew between here and the desk.
    let horizon = e.created - Duration::days(1);
    let mut hits: Vec<desk::Found> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut after: Option<String> = None;
    for _ in 0..desk::MAX_COMMENT_PAGES {
        let answer = request(client, Method::GET, &desk::comments_path(ticket, after.as_deref()), None).await?;
        let page = desk::comment_page(&answer, &marker);
        hits.extend(page.hits);
        let done = !hits.is_empty() && page.oldest.is_some_and(|o| o < horizon);
        match page.next {
            Some(next) if !done => {
                if !seen.insert(next.clone()) {
                    return Err(Problem::Transient(format!(
                        "Zendesk gave the same page of ticket #{ticket}'s comments twice, so whether this write is already there is unknown; nothing was sent again, and it is checked again later"
                    )));
                }
                after = Some(next);
            }
            _ => {
                let mut hits = hits.into_iter();
                return Ok(hits.next().map(|newest| CommentsFound { newest, others: hits.map(|f| f.id).collect() }));
            }
        }
    }
    Err(Problem::Transient(format!(
        "Zendesk listed more than {} pages of ticket #{ticket}'s comments without an end, so whether this write is already there is unknown; nothing was sent again, and it is checked again later",
        desk::MAX_COMMENT_PAGES
    )))
}
