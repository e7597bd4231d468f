//! A fake Zendesk Support API v2 on 127.0.0.1: the time-based incremental
//! organization export, "show many" organizations, the cursor-based
//! incremental ticket and user exports, and a ticket's comments (cursor
//! pagination, authors sideloaded with `include=users`).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Debug, Default)]
pub struct Desk {
    pub orgs: BTreeMap<u64, Value>,
    /// Tickets in export order (oldest change first): (seq, ticket).
    pub tickets: Vec<(u64, Value)>,
    pub seq: u64,
    pub faults: VecDeque<(u16, Vec<(&'static str, String)>)>,
    pub log: Vec<String>,
    /// Expected `Authorization` header value.
    pub auth: String,
    /// Export page size.
    pub page: usize,
    /// Answer every ticket page with the same cursor (a misbehaving server).
    pub stuck_cursor: bool,
    /// Users in export order: (seq, user).
    pub users: Vec<(u64, Value)>,
    /// Answer organization export pages with an `end_time` that never
    /// moves (a misbehaving server).
    pub stuck_orgs: bool,
    /// Organizations the export leaves out (changed in its last minute).
    pub hidden_orgs: Vec<u64>,
    /// Comments by ticket, oldest first.
    pub comments: BTreeMap<u64, Vec<Value>>,
    /// Answer the next comment pages with a body that is not JSON.
    pub garbage_comments: usize,
}

/// Epoch seconds of the fake's first change; each change is a second later.
const EPOCH: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

pub type SharedDesk = Arc<Mutex<Desk>>;

impl Desk {
    /// Adds or changes an organization; its `updated_at` moves on.
    pub fn org(&mut self, id: u64, name: &str, domains: &[&str], external_id: Option<&str>) {
        self.seq += 1;
        let updated = chrono::DateTime::from_timestamp(EPOCH + self.seq as i64, 0).unwrap().to_rfc3339();
        self.orgs.insert(
            id,
            json!({"id": id, "name": name, "domain_names": domains, "external_id": external_id,
                   "created_at": "2024-01-01T00:00:00Z", "updated_at": updated}),
        );
    }

    /// Adds or changes a user; it moves to the end of the users export.
    pub fn user(&mut self, id: u64, name: &str, email: &str, role: &str, org: Option<u64>, active: bool) {
        self.seq += 1;
        self.users.retain(|(_, u)| u["id"] != id);
        let u = json!({"id": id, "name": name, "email": email, "role": role, "organization_id": org,
                       "active": active, "details": "", "updated_at": "2026-11-20T10:00:00Z"});
        self.users.push((self.seq, u));
    }

    /// Adds or changes a ticket; it moves to the end of the export.
    pub fn ticket(&mut self, id: u64, org: Option<u64>, status: &str, subject: &str) {
        self.seq += 1;
        self.tickets.retain(|(_, t)| t["id"] != id);
        let t = json!({
            "id": id, "subject": subject, "status": status, "priority": "normal", "type": "question",
            "organization_id": org, "requester_id": 500 + id, "tags": [],
            "created_at": "2026-11-01T10:00:00Z", "updated_at": format!("2026-11-2{}T10:00:00Z", self.seq % 5),
        });
        self.tickets.push((self.seq, t));
    }

    /// Rates a ticket (`score` "good", "bad", "offered" or "unoffered", the
    /// documented `satisfaction_rating` shape, with no date in it as in the
    /// ticket export) and moves it to the end of the export, last updated at
    /// `updated_at`.
    pub fn rate(&mut self, id: u64, score: &str, comment: &str, updated_at: chrono::DateTime<chrono::Utc>) {
        self.seq += 1;
        let at = self.tickets.iter().position(|(_, t)| t["id"] == id).expect("ticket exists");
        let (_, mut t) = self.tickets.remove(at);
        t["satisfaction_rating"] = match score {
            "good" | "bad" => {
                json!({"id": 9000 + id, "score": score, "comment": comment, "reason": "Some other reason", "reason_id": 0})
            }
            _ => json!({"score": score}),
        };
        t["updated_at"] = json!(updated_at.to_rfc3339());
        self.tickets.push((self.seq, t));
    }

    /// Adds a comment to a ticket, `minutes` after the ticket's first, as the
    /// comments endpoint documents it.
    pub fn comment(&mut self, ticket: u64, author: i64, body: &str, public: bool, minutes: i64) {
        let list = self.comments.entry(ticket).or_default();
        let id = 70_000 + ticket * 1000 + list.len() as u64;
        let at =
            chrono::DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap() + chrono::Duration::minutes(minutes);
        list.push(json!({
            "id": id, "type": "Comment", "author_id": author, "body": format!("<p>{body}</p>"),
            "html_body": format!("<div class=\"zd-comment\"><p>{body}</p></div>"), "plain_body": body,
            "public": public, "attachments": [], "audit_id": id + 1,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": null}},
            "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "metadata": {},
        }));
    }

    /// Moves a ticket to the end of the export unchanged but for its
    /// `updated_at` (an agent's internal note, say).
    pub fn touch(&mut self, id: u64, updated_at: chrono::DateTime<chrono::Utc>) {
        self.seq += 1;
        let at = self.tickets.iter().position(|(_, t)| t["id"] == id).expect("ticket exists");
        let (_, mut t) = self.tickets.remove(at);
        t["updated_at"] = json!(updated_at.to_rfc3339());
        self.tickets.push((self.seq, t));
    }
}

fn check(state: &SharedDesk, headers: &HeaderMap, what: String) -> Option<Response> {
    let mut d = state.lock().unwrap();
    d.log.push(what);
    if let Some((code, hs)) = d.faults.pop_front() {
        let mut r = (StatusCode::from_u16(code).unwrap(), "{\"error\":\"fault\"}").into_response();
        for (k, v) in hs {
            r.headers_mut().insert(k, v.parse().unwrap());
        }
        return Some(r);
    }
    let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(d.auth.as_str());
    (!ok).then(|| (StatusCode::UNAUTHORIZED, Json(json!({"error": "Couldn't authenticate you"}))).into_response())
}

fn updated(v: &Value) -> i64 {
    v["updated_at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map_or(0, |t| t.timestamp())
}

/// The time-based organization export: organizations updated at or after
/// `start_time`, oldest first, `per_page` at most (more when they share the
/// last timestamp), with `end_time` the newest time on the page.
async fn org_export(State(s): State<SharedDesk>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(r) = check(&s, &h, format!("orgs {q:?}")) {
        return r;
    }
    let d = s.lock().unwrap();
    let Some(start) = q.get("start_time").and_then(|v| v.parse::<i64>().ok()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "InvalidValue", "description": "start_time is required"})),
        )
            .into_response();
    };
    let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(1000).min(1000);
    let mut all: Vec<&Value> = d
        .orgs
        .values()
        .filter(|o| updated(o) >= start && !d.hidden_orgs.contains(&o["id"].as_u64().unwrap()))
        .collect();
    all.sort_by_key(|o| (updated(o), o["id"].as_u64()));
    let mut page: Vec<&Value> = all.iter().take(per_page).copied().collect();
    if let Some(last) = page.last().map(|o| updated(o)) {
        // Items sharing the last timestamp all come, past the page size.
        page.extend(all.iter().skip(per_page).take_while(|o| updated(o) == last).copied());
    }
    let end_time = if d.stuck_orgs { start } else { page.last().map_or(start, |o| updated(o)) };
    let end = page.len() == all.len() && !d.stuck_orgs;
    Json(json!({
        "organizations": page, "count": page.len(), "end_time": end_time, "end_of_stream": end,
        "next_page": format!("https://example.zendesk.com/api/v2/incremental/organizations.json?start_time={end_time}"),
    }))
    .into_response()
}

/// Show many organizations: `ids` comma-separated, the ones that exist.
async fn show_many(State(s): State<SharedDesk>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(r) = check(&s, &h, format!("show_many {q:?}")) {
        return r;
    }
    let d = s.lock().unwrap();
    let ids: Vec<u64> = q.get("ids").map(|v| v.split(',').filter_map(|i| i.parse().ok()).collect()).unwrap_or_default();
    if ids.len() > 100 {
        return (StatusCode::BAD_REQUEST, "too many ids").into_response();
    }
    let found: Vec<&Value> = ids.iter().filter_map(|i| d.orgs.get(i)).collect();
    Json(json!({"organizations": found, "next_page": null, "previous_page": null, "count": found.len()}))
        .into_response()
}

async fn export(State(s): State<SharedDesk>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(r) = check(&s, &h, format!("export {q:?}")) {
        return r;
    }
    let d = s.lock().unwrap();
    let after: u64 = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<&(u64, Value)> = d.tickets.iter().filter(|(seq, _)| *seq > after).take(d.page.max(1)).collect();
    let last = page.last().map_or(after, |(seq, _)| *seq);
    let end = !d.tickets.iter().any(|(seq, _)| *seq > last);
    let cursor = if d.stuck_cursor { after.max(1) } else { last };
    let tickets: Vec<&Value> = page.iter().map(|(_, t)| t).collect();
    let metrics: Vec<Value> = page
        .iter()
        .map(|(_, t)| json!({"ticket_id": t["id"], "requester_updated_at": "2026-11-20T08:00:00Z", "assignee_updated_at": "2026-11-21T08:00:00Z"}))
        .collect();
    Json(json!({
        "tickets": tickets, "metric_sets": metrics,
        "after_cursor": cursor.to_string(), "before_cursor": null,
        "after_url": "https://example.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=do-not-follow",
        "end_of_stream": end
    }))
    .into_response()
}

async fn users(State(s): State<SharedDesk>, h: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(r) = check(&s, &h, format!("users {q:?}")) {
        return r;
    }
    let d = s.lock().unwrap();
    let after: u64 = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<&(u64, Value)> = d.users.iter().filter(|(seq, _)| *seq > after).take(d.page.max(1)).collect();
    let last = page.last().map_or(after, |(seq, _)| *seq);
    let end = !d.users.iter().any(|(seq, _)| *seq > last);
    let users: Vec<&Value> = page.iter().map(|(_, u)| u).collect();
    Json(json!({"users": users, "after_cursor": last.to_string(), "before_cursor": null, "end_of_stream": end}))
        .into_response()
}

/// A ticket's comments: cursor pagination (`page[size]`, `page[after]`;
/// `meta.has_more`, `meta.after_cursor`, `links.next`), oldest first as
/// `sort=created_at` (the default), authors sideloaded with `include=users`.
async fn comments(
    State(s): State<SharedDesk>,
    h: HeaderMap,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = check(&s, &h, format!("comments {file} {q:?}")) {
        return r;
    }
    let mut d = s.lock().unwrap();
    if d.garbage_comments > 0 {
        d.garbage_comments -= 1;
        return (StatusCode::OK, "<html><body>Service temporarily in maintenance</body></html>").into_response();
    }
    let Some(id) = file.parse::<u64>().ok().filter(|id| d.tickets.iter().any(|(_, t)| t["id"] == *id)) else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "RecordNotFound", "description": "Not found"})))
            .into_response();
    };
    let mut all = d.comments.get(&id).cloned().unwrap_or_default();
    if q.get("sort").map(String::as_str) == Some("-created_at") {
        all.reverse();
    }
    let size: usize = q.get("page[size]").and_then(|n| n.parse().ok()).unwrap_or(100).clamp(1, 100);
    let start: usize = match q.get("page[after]") {
        None => 0,
        Some(c) => match c.strip_prefix("after-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                let body = json!({"error": "InvalidPaginationParameter", "description": "page[after] is not valid"});
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
        },
    };
    let (start, end) = (start.min(all.len()), (start + size).min(all.len()));
    let page = &all[start..end];
    let has_more = end < all.len();
    let after = format!("after-{end}");
    let users: Vec<Value> = if q.get("include").map(String::as_str) == Some("users") {
        let authors: std::collections::BTreeSet<i64> = page.iter().filter_map(|c| c["author_id"].as_i64()).collect();
        d.users
            .iter()
            .map(|(_, u)| u)
            .filter(|u| u["id"].as_i64().is_some_and(|i| authors.contains(&i)))
            .map(|u| json!({"id": u["id"], "name": u["name"], "email": u["email"], "role": u["role"]}))
            .collect()
    } else {
        Vec::new()
    };
    let next =
        has_more.then(|| format!("/api/v2/tickets/{id}/comments.json?page%5Bafter%5D={after}&page%5Bsize%5D={size}"));
    Json(json!({
        "comments": page,
        "users": users,
        "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": format!("before-{start}")},
        "links": {"next": next, "prev": null},
    }))
    .into_response()
}

pub async fn start(state: SharedDesk) -> String {
    let app = Router::new()
        .route("/api/v2/tickets/{file}/comments.json", get(comments))
        .route("/api/v2/incremental/organizations.json", get(org_export))
        .route("/api/v2/organizations/show_many.json", get(show_many))
        .route("/api/v2/incremental/tickets/cursor.json", get(export))
        .route("/api/v2/incremental/users/cursor.json", get(users))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
