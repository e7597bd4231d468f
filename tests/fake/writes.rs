//! A fake HubSpot and Zendesk on 127.0.0.1 that take writes: notes and
//! tasks (create, search) and ticket updates with `safe_update` (comments,
//! the ticket itself), with scripted faults and every request logged as it
//! arrived.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Req {
    /// "POST", "PUT", "GET".
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `Authorization` header.
    pub auth: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The JSON body (null when none).
    pub body: Value,
}

/// What a request gets instead of its normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status and JSON body, nothing applied.
    Status(u16, Value),
    /// Apply the write, then drop the connection without answering.
    ApplyThenDrop,
    /// Apply the write, then answer only after this long.
    ApplyThenSleep(Duration),
}

/// A ticket at the fake desk.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub status: String,
    pub updated_at: DateTime<Utc>,
    /// Comments, oldest first.
    pub comments: Vec<Value>,
}

#[derive(Debug, Default)]
pub struct Writes {
    /// Expected `Authorization` for the CRM routes.
    pub bearer: String,
    /// Expected `Authorization` for the desk routes.
    pub basic: String,
    pub log: Vec<Req>,
    /// Faults by route ("POST /crm/v3/objects/notes"), first match first.
    pub faults: Vec<(String, Fault)>,
    /// Created notes and tasks by type: (id, properties).
    pub objects: BTreeMap<String, Vec<(u64, Value)>>,
    pub next_id: u64,
    pub tickets: BTreeMap<u64, Ticket>,
    /// Seconds the desk clock has moved (each change stamps a new moment).
    pub ticks: i64,
}

pub type SharedWrites = Arc<Mutex<Writes>>;

impl Writes {
    /// Requests to a route ("PUT /api/v2/tickets/7.json"), query ignored.
    pub fn requests(&self, route: &str) -> Vec<Req> {
        self.log.iter().filter(|r| route_of(&r.method, &r.path) == route).cloned().collect()
    }

    /// Schedules a fault for the next request to a route.
    pub fn fault(&mut self, route: &str, f: Fault) {
        self.faults.push((route.to_string(), f));
    }

    /// The desk's clock: a new moment per change.
    pub fn tick(&mut self) -> DateTime<Utc> {
        self.ticks += 1;
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap() + chrono::Duration::seconds(self.ticks)
    }

    fn take_fault(&mut self, route: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|(r, _)| r == route)?;
        Some(self.faults.remove(i).1)
    }
}

fn route_of(method: &str, path: &str) -> String {
    format!("{method} {}", path.split('?').next().unwrap_or(path))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Logs the request and takes its fault, if any.
fn arrive(s: &SharedWrites, method: &Method, uri: &Uri, h: &HeaderMap, body: &Bytes) -> Option<Fault> {
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let req = Req {
        method: method.to_string(),
        path: uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        auth: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    };
    let route = route_of(&req.method, &req.path);
    let mut w = s.lock().unwrap();
    w.log.push(req);
    w.take_fault(&route)
}

fn denied(s: &SharedWrites, h: &HeaderMap, crm: bool) -> Option<Response> {
    let w = s.lock().unwrap();
    let want = if crm { &w.bearer } else { &w.basic };
    let ok = h.get("authorization").and_then(|v| v.to_str().ok()) == Some(want.as_str());
    (!ok).then(|| {
        let body = if crm {
            json!({"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION"})
        } else {
            json!({"error": "Couldn't authenticate you"})
        };
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    })
}

/// Answers after a fault that applied the write.
async fn after(fault: Option<Fault>, resp: Response) -> Response {
    match fault {
        Some(Fault::ApplyThenDrop) => {
            // Unwinding the connection's task closes the socket unanswered
            // (no panic message: the hook is not called).
            std::panic::resume_unwind(Box::new("dropped on purpose"))
        }
        Some(Fault::ApplyThenSleep(d)) => {
            tokio::time::sleep(d).await;
            resp
        }
        _ => resp,
    }
}

fn status(f: &Option<Fault>) -> Option<Response> {
    match f {
        Some(Fault::Status(code, body)) => {
            Some((StatusCode::from_u16(*code).unwrap(), Json(body.clone())).into_response())
        }
        _ => None,
    }
}

async fn create(
    State(s): State<SharedWrites>,
    Path(object): Path<String>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &body);
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, true) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let resp = {
        let mut w = s.lock().unwrap();
        w.next_id += 1;
        let id = 500 + w.next_id;
        w.objects.entry(object).or_default().push((id, v["properties"].clone()));
        (StatusCode::CREATED, Json(json!({"id": id.to_string(), "properties": v["properties"], "archived": false})))
            .into_response()
    };
    after(fault, resp).await
}

/// A company's properties set by PATCH (the stage write-back).
async fn patch_company(
    State(s): State<SharedWrites>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &body);
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, true) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let resp =
        (StatusCode::OK, Json(json!({"id": id, "properties": v["properties"], "archived": false}))).into_response();
    after(fault, resp).await
}

async fn search(
    State(s): State<SharedWrites>,
    Path(object): Path<String>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &body);
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, true) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let f = &v["filterGroups"][0]["filters"][0];
    if f["operator"] != "CONTAINS_TOKEN" {
        return (StatusCode::BAD_REQUEST, Json(json!({"status": "error", "message": "unsupported filter"})))
            .into_response();
    }
    let (prop, token) = (f["propertyName"].as_str().unwrap_or(""), f["value"].as_str().unwrap_or("?"));
    let w = s.lock().unwrap();
    let hits: Vec<Value> = w
        .objects
        .get(&object)
        .map(|os| {
            os.iter()
                .filter(|(_, p)| p[prop].as_str().is_some_and(|b| b.contains(token)))
                .map(|(id, p)| json!({"id": id.to_string(), "properties": {prop: p[prop]}}))
                .collect()
        })
        .unwrap_or_default();
    Json(json!({"total": hits.len(), "results": hits})).into_response()
}

fn ticket_id(file: &str) -> Option<u64> {
    file.strip_suffix(".json")?.parse().ok()
}

fn ticket_json(id: u64, t: &Ticket) -> Value {
    json!({"id": id, "status": t.status, "updated_at": stamp(t.updated_at), "subject": "Export fails"})
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "RecordNotFound", "description": "Not found"}))).into_response()
}

async fn put_ticket(
    State(s): State<SharedWrites>,
    Path(file): Path<String>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &body);
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, false) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let t = &v["ticket"];
    let resp = {
        let mut w = s.lock().unwrap();
        let Some(id) = ticket_id(&file).filter(|id| w.tickets.contains_key(id)) else { return not_found() };
        let current = w.tickets[&id].updated_at;
        let seen = t["updated_stamp"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        if t["safe_update"] == true && seen.map(|s| s.with_timezone(&Utc)) != Some(current) {
            let body = json!({"error": "UpdateConflict", "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again."});
            return (StatusCode::CONFLICT, Json(body)).into_response();
        }
        let at = w.tick();
        w.next_id += 1;
        let comment_id = 9000 + w.next_id;
        let ticket = w.tickets.get_mut(&id).unwrap();
        let c = &t["comment"];
        ticket.comments.push(json!({
            "id": comment_id, "type": "Comment", "body": c["body"], "plain_body": c["body"],
            "public": c["public"], "created_at": stamp(at),
        }));
        if let Some(st) = t["status"].as_str() {
            ticket.status = st.to_string();
        }
        ticket.updated_at = at;
        let tj = ticket_json(id, ticket);
        Json(json!({"ticket": tj, "audit": {"id": 1, "events": [
            {"id": comment_id, "type": "Comment", "body": c["body"], "public": c["public"]},
        ]}}))
        .into_response()
    };
    after(fault, resp).await
}

async fn get_ticket(
    State(s): State<SharedWrites>,
    Path(file): Path<String>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &Bytes::new());
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, false) {
        return r;
    }
    let w = s.lock().unwrap();
    match ticket_id(&file).and_then(|id| w.tickets.get(&id).map(|t| ticket_json(id, t))) {
        Some(t) => Json(json!({ "ticket": t })).into_response(),
        None => not_found(),
    }
}

async fn comments(
    State(s): State<SharedWrites>,
    Path(id): Path<u64>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &Bytes::new());
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, false) {
        return r;
    }
    let w = s.lock().unwrap();
    let Some(t) = w.tickets.get(&id) else { return not_found() };
    let newest_first: Vec<Value> = t.comments.iter().rev().cloned().collect();
    Json(json!({"comments": newest_first, "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}}))
        .into_response()
}

/// Starts the fake on a free loopback port; returns its base URL.
pub async fn start(state: SharedWrites) -> String {
    let app = Router::new()
        .route("/crm/v3/objects/{object}", post(create))
        .route("/crm/v3/objects/{object}/search", post(search))
        .route("/crm/v3/objects/companies/{id}", axum::routing::patch(patch_company))
        .route("/api/v2/tickets/{file}", get(get_ticket).put(put_ticket))
        .route("/api/v2/tickets/{id}/comments.json", get(comments))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
