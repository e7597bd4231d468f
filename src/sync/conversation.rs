//! A ticket's conversation read from the desk on demand (the account
//! view's `enter` on a ticket, or its refresh key): Zendesk's
//! `GET /api/v2/tickets/{id}/comments` with cursor pagination, authors
//! named from the sideloaded users (`include=users`), else from the users
//! the sync keeps. What is read is kept in the store through the writer,
//! so it reads offline afterwards.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::http::{Client, RetryPolicy, SyncError};
use super::paging::PageGuard;
use super::source::{Kind, Source};
use crate::domain::conversation::{Comment, Conversation};
use crate::engine::writer::Writer;
use crate::store::Store;

/// Comments per page (the cursor pagination's maximum).
const PAGE: usize = 100;

/// How hard a read the CSM waits for tries: a short answer beats a long
/// wait, and the kept copy is shown meanwhile.
pub fn interactive_policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        base: std::time::Duration::from_millis(300),
        cap: std::time::Duration::from_secs(2),
        timeout: std::time::Duration::from_secs(20),
        max_wait: std::time::Duration::from_secs(10),
    }
}

/// Why a conversation could not be read, for the CSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No support desk is configured (the demo, a CRM-only workspace).
    NoDesk,
    /// The desk could not be reached (offline, DNS, refused).
    Offline {
        /// The desk's name ("Zendesk").
        vendor: &'static str,
        /// What failed.
        detail: String,
    },
    /// The desk answered, but not with the conversation.
    Failed(String),
}

impl FetchError {
    /// The sentence the account view shows; `kept` says what is shown
    /// instead ("showing the copy kept as of …").
    pub fn describe(&self, kept: &str) -> String {
        match self {
            FetchError::NoDesk => format!("No support desk configured; {kept}"),
            FetchError::Offline { vendor, detail } => format!("Offline: could not reach {vendor} ({detail}); {kept}"),
            FetchError::Failed(why) => format!("Could not read the conversation: {why}; {kept}"),
        }
    }
}

impl From<SyncError> for FetchError {
    fn from(e: SyncError) -> FetchError {
        match e {
            SyncError::Unreachable { detail, .. } => FetchError::Offline { vendor: "Zendesk", detail },
            other => FetchError::Failed(other.to_string()),
        }
    }
}

/// A page of a ticket's comments as Zendesk documents it.
#[derive(Debug, Deserialize)]
struct CommentPage {
    comments: Vec<ZComment>,
    /// Sideloaded with `include=users`: the authors.
    #[serde(default)]
    users: Vec<ZUser>,
    #[serde(default)]
    meta: Meta,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    after_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ZComment {
    id: u64,
    #[serde(default)]
    author_id: Option<i64>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    plain_body: Option<String>,
    #[serde(default = "yes")]
    public: bool,
    created_at: DateTime<Utc>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct ZUser {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

/// The path of a page of a ticket's comments, oldest first, authors
/// sideloaded. Follow-up pages are built from `after_cursor`.
pub fn comments_path(ticket: u64, after: Option<&str>) -> String {
    let mut p = format!("/api/v2/tickets/{ticket}/comments.json?include=users&page%5Bsize%5D={PAGE}");
    if let Some(c) = after {
        p.push_str("&page%5Bafter%5D=");
        p.push_str(&super::hubspot::urlencode(c));
    }
    p
}

/// The desk source a ticket comes from: the Zendesk source whose sync
/// filed it, else the first one configured.
pub fn desk_for<'a>(store: &Store, sources: &'a [Source], ticket: u64) -> Option<&'a Source> {
    let desks = || sources.iter().filter(|s| s.kind == Kind::Zendesk);
    desks().find(|s| store.ticket_slot(&s.name, ticket).ok().flatten().is_some()).or_else(|| desks().next())
}

/// Reads a ticket's conversation from the desk, every page, oldest first.
pub async fn fetch(
    client: &Client,
    store: &Store,
    ticket: u64,
    now: DateTime<Utc>,
) -> Result<Conversation, FetchError> {
    let source = client.source().name.clone();
    let mut comments: Vec<ZComment> = Vec::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut guard = PageGuard::new(PAGE);
    let mut after: Option<String> = None;
    loop {
        let page: CommentPage = client.get(&comments_path(ticket, after.as_deref())).await?;
        let len = page.comments.len();
        names.extend(page.users.into_iter().filter_map(|u| Some((u.id, u.name.filter(|n| !n.trim().is_empty())?))));
        comments.extend(page.comments);
        let next = page.meta.after_cursor.filter(|c| page.meta.has_more && !c.is_empty());
        guard.step(next.as_deref(), len).map_err(|d| client.runaway("ticket comments", d))?;
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let comments = comments
        .into_iter()
        .map(|c| Comment {
            id: c.id,
            author: author(store, &source, &names, c.author_id),
            at: c.created_at,
            public: c.public,
            body: c.plain_body.or(c.body).unwrap_or_default(),
        })
        .collect();
    Ok(Conversation { ticket, source, kept_at: now, comments })
}

/// Who wrote a comment: the sideloaded user, else the synced one, else the id.
fn author(store: &Store, source: &str, names: &HashMap<i64, String>, id: Option<i64>) -> String {
    let Some(id) = id else { return "unknown author".into() };
    if let Some(n) = names.get(&id) {
        return n.clone();
    }
    let synced = u64::try_from(id).ok().and_then(|u| store.user_record(source, u).ok().flatten());
    match synced.map(|u| u.name).filter(|n| !n.trim().is_empty()) {
        Some(n) => n,
        None => format!("user {id}"),
    }
}

/// Reads the ticket's conversation from its desk and keeps it (through the
/// writer, the one owner of every write); the copy kept before stays when
/// the read fails.
pub async fn refresh(
    writer: &Writer,
    sources: &[Source],
    ticket: u64,
    policy: RetryPolicy,
    now: DateTime<Utc>,
) -> Result<Conversation, FetchError> {
    let store = writer.store();
    let desk = desk_for(store, sources, ticket).ok_or(FetchError::NoDesk)?;
    let client = super::client_for(desk, policy);
    let conversation = fetch(&client, store, ticket, now).await?;
    let kept = conversation.clone();
    writer.run(move |s| s.keep_conversation(&kept)).map_err(|e| FetchError::Failed(e.to_string()))?;
    Ok(conversation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_read_oldest_first_with_their_authors() {
        let p = comments_path(7, Some("a b"));
        assert_eq!(p, "/api/v2/tickets/7/comments.json?include=users&page%5Bsize%5D=100&page%5Bafter%5D=a%20b");
        let page: CommentPage = serde_json::from_str(
            r#"{"comments":[{"id":1,"author_id":5,"body":"<p>x</p>","plain_body":"x","public":false,
                "created_at":"2026-11-02T09:00:00Z","via":{"channel":"web"}}],
                "users":[{"id":5,"name":"Ana Lima"}],"meta":{"has_more":false,"after_cursor":null},
                "links":{"next":null}}"#,
        )
        .unwrap();
        assert_eq!(page.comments[0].plain_body.as_deref(), Some("x"));
        assert!(!page.comments[0].public);
        assert_eq!(page.users[0].name.as_deref(), Some("Ana Lima"));
    }

    #[test]
    fn an_unreachable_desk_reads_as_offline() {
        let e: FetchError =
            SyncError::Unreachable { name: "support".into(), host: "h".into(), detail: "connection refused".into() }
                .into();
        assert_eq!(
            e.describe("showing nothing kept yet"),
            "Offline: could not reach Zendesk (connection refused); showing nothing kept yet"
        );
    }
}
