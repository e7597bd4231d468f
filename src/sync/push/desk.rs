//! Zendesk's side of the outbox: the ticket update with `safe_update`, the
//! comment scan for a marker, and reading their answers. Pure: no I/O.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::domain::outbox::{OutboxEntry, Write};
use crate::domain::TicketStatus;

/// Comments read per page when looking for a marker (the cursor maximum).
const COMMENTS_PAGE: u32 = 100;

/// Pages of comments read at most in one check: a guard against a cursor
/// that never ends (100,000 comments, far beyond any real ticket), not a
/// limit on where the marker may be.
pub const MAX_COMMENT_PAGES: usize = 1000;

/// Zendesk's name for a status.
pub fn status_name(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::New => "new",
        TicketStatus::Open => "open",
        TicketStatus::Pending => "pending",
        TicketStatus::Hold => "hold",
        TicketStatus::Solved => "solved",
        TicketStatus::Closed => "closed",
    }
}

/// A ticket's path (`GET` reads it, `PUT` updates it).
pub fn ticket_path(ticket: u64) -> String {
    format!("/api/v2/tickets/{ticket}.json")
}

/// The update (path and JSON body): the comment with its marker, the new
/// status if any, and `safe_update` with the `updated_stamp` we last saw,
/// so Zendesk answers 409 instead of overwriting a change we did not see.
pub fn update(entry: &OutboxEntry) -> Option<(String, Value)> {
    let Write::Ticket { ticket, public, status, updated_stamp, .. } = &entry.write else { return None };
    let mut t = json!({
        "comment": {"body": entry.body_with_marker(), "public": public},
        "safe_update": true,
        "updated_stamp": updated_stamp.to_rfc3339_opts(SecondsFormat::Secs, true),
    });
    if let Some(s) = status {
        t["status"] = json!(status_name(*s));
    }
    Some((ticket_path(*ticket), json!({ "ticket": t })))
}

/// A page of the ticket's comments, newest first (ours is recent). Cursor
/// pagination (`page[size]`) sorts with `sort=-created_at`; `sort_order`
/// belongs to offset pagination and is ignored here, which would list the
/// comments oldest first.
pub fn comments_path(ticket: u64, after: Option<&str>) -> String {
    let mut p = format!("/api/v2/tickets/{ticket}/comments.json?sort=-created_at&page%5Bsize%5D={COMMENTS_PAGE}");
    if let Some(c) = after {
        p.push_str("&page%5Bafter%5D=");
        p.push_str(&crate::sync::hubspot::urlencode(c));
    }
    p
}

/// A comment that carries a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The comment's id.
    pub id: String,
    /// When it was made.
    pub created_at: Option<DateTime<Utc>>,
}

/// What one page of comments says about a marker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentPage {
    /// The comments carrying the marker, in the page's order.
    pub hits: Vec<Found>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// The earliest `created_at` on the page, if any is readable.
    pub oldest: Option<DateTime<Utc>>,
}

/// Reads a page of comments: those carrying the marker, the next cursor
/// and the page's earliest moment.
pub fn comment_page(body: &Value, marker: &str) -> CommentPage {
    let comments = body["comments"].as_array().map(Vec::as_slice).unwrap_or_default();
    let hits = comments
        .iter()
        .filter(|c| {
            ["body", "plain_body", "html_body"].iter().any(|k| c[*k].as_str().is_some_and(|b| b.contains(marker)))
        })
        .map(|c| Found { id: id_text(&c["id"]).unwrap_or_default(), created_at: time(&c["created_at"]) })
        .collect();
    let next = match (&body["meta"]["has_more"], body["meta"]["after_cursor"].as_str()) {
        (Value::Bool(true), Some(c)) if !c.is_empty() => Some(c.to_string()),
        _ => None,
    };
    let oldest = comments.iter().filter_map(|c| time(&c["created_at"])).min();
    CommentPage { hits, next, oldest }
}

/// The ticket's `updated_at` in an answer holding `{"ticket": {...}}`.
pub fn updated_at(body: &Value) -> Option<DateTime<Utc>> {
    time(&body["ticket"]["updated_at"])
}

/// What the update made: the comment's id from the audit, else the ticket.
pub fn remote_id(body: &Value, ticket: u64) -> String {
    body["audit"]["events"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["type"] == "Comment"))
        .and_then(|e| id_text(&e["id"]))
        .unwrap_or_else(|| format!("ticket/{ticket}"))
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;
    use chrono::TimeZone;

    fn entry(public: bool, status: Option<TicketStatus>) -> OutboxEntry {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let stamp = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let write = Write::Ticket { ticket: 35436, body: "Hi Ana,\n".into(), public, status, updated_stamp: stamp };
        OutboxEntry::new(8, AccountId(1), 3, write, now)
    }

    #[test]
    fn the_update_is_a_safe_update_with_the_stamp_and_the_marker() {
        let e = entry(true, Some(TicketStatus::Pending));
        let (path, body) = update(&e).unwrap();
        assert_eq!(path, "/api/v2/tickets/35436.json");
        let t = &body["ticket"];
        assert_eq!(t["safe_update"], true);
        assert_eq!(t["updated_stamp"], "2026-11-24T10:00:00Z");
        assert_eq!(t["status"], "pending");
        assert_eq!(t["comment"]["public"], true);
        assert_eq!(t["comment"]["body"], format!("Hi Ana,\n\n{}", e.marker()));
        let (_, body) = update(&entry(false, None)).unwrap();
        assert!(body["ticket"].get("status").is_none(), "no status change, no status");
        assert_eq!(body["ticket"]["comment"]["public"], false);
    }

    #[test]
    fn finds_the_marker_among_comments_and_pages_on() {
        let e = entry(false, None);
        let page = json!({
            "comments": [
                {"id": 11, "body": "Thanks!", "public": true, "created_at": "2026-11-26T09:05:00Z"},
                {"id": 10, "body": format!("x\n\n{}", e.marker()), "public": false, "created_at": "2026-11-26T09:00:01Z"},
            ],
            "meta": {"has_more": true, "after_cursor": "abc=", "before_cursor": null},
        });
        let p = comment_page(&page, &e.marker());
        assert_eq!(p.hits.len(), 1);
        assert_eq!(p.hits[0].id, "10");
        assert_eq!(p.hits[0].created_at, Some(Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 1).unwrap()));
        assert_eq!(p.oldest, p.hits[0].created_at);
        assert_eq!(p.next.as_deref(), Some("abc="));
        // Newest first the way cursor pagination sorts: `sort`, not `sort_order`.
        assert_eq!(
            comments_path(5, p.next.as_deref()),
            "/api/v2/tickets/5/comments.json?sort=-created_at&page%5Bsize%5D=100&page%5Bafter%5D=abc%3D"
        );
        assert_eq!(comments_path(5, None), "/api/v2/tickets/5/comments.json?sort=-created_at&page%5Bsize%5D=100");
        let end = comment_page(&json!({"comments": [], "meta": {"has_more": false}}), &e.marker());
        assert_eq!(end, CommentPage::default());
    }

    #[test]
    fn reads_the_new_stamp_and_the_comment_id() {
        let answer = json!({
            "ticket": {"id": 35436, "updated_at": "2026-11-26T09:00:02Z"},
            "audit": {"events": [{"id": 1, "type": "Change"}, {"id": 77, "type": "Comment", "body": "x"}]},
        });
        assert_eq!(updated_at(&answer), Some(Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 2).unwrap()));
        assert_eq!(remote_id(&answer, 35436), "77");
        assert_eq!(remote_id(&json!({"ticket": {}}), 35436), "ticket/35436");
        assert_eq!(updated_at(&json!({"error": "x"})), None);
    }
}
