//! A fake HubSpot and Zendesk on 127.0.0.1 that take writes: notes and
//! tasks (create, search, archive) and ticket updates with `safe_update`
//! (comments paged as the desk pages them, the ticket itself), with
//! scripted faults, writes held and applied late (on the test's clock), and
//! every request logged as it arrived.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
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
    /// Never answer (the client gives up), and apply the write only later,
    /// as a vendor that works through a backlog does.
    Hold(Lands),
}

/// When a held write is applied.
#[derive(Debug, Clone)]
pub enum Lands {
    /// This long after it arrived, on the test's clock: applied when a
    /// request arrives at or after that moment, or on `land_due`.
    After(chrono::Duration),
    /// Just before the next request to this route is handled.
    BeforeNext(String),
    /// Only when the test calls `release`.
    Manual,
}

/// A write that arrived and is not applied yet.
#[derive(Debug, Clone)]
pub struct Held {
    /// Its route ("POST /crm/v3/objects/notes").
    pub route: String,
    /// The path it was sent to.
    pub path: String,
    /// Its JSON body.
    pub body: Value,
    /// When it is applied.
    pub lands: Lands,
    /// For `Lands::After`: the moment on the test's clock.
    pub due: Option<DateTime<Utc>>,
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
    /// Faults every request to a route gets, after the one-off ones.
    pub standing: Vec<(String, Fault)>,
    /// Created notes and tasks by type: (id, properties).
    pub objects: BTreeMap<String, Vec<(u64, Value)>>,
    /// Ids of archived notes and tasks (in the recycling bin: not searched).
    pub archived: BTreeSet<u64>,
    pub next_id: u64,
    pub tickets: BTreeMap<u64, Ticket>,
    /// Seconds the desk clock has moved (each change stamps a new moment).
    pub ticks: i64,
    /// The test's clock, for writes held `Lands::After` a while.
    pub clock: Option<Arc<Mutex<DateTime<Utc>>>>,
    /// Writes that arrived and are not applied yet.
    pub held: Vec<Held>,
    /// Comment page cursors handed out: cursor to the offset it stands for.
    pub cursors: HashMap<String, usize>,
    /// A broken desk: every comment page names the same next cursor.
    pub repeat_cursor: bool,
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

    /// Gives every request to a route this fault, from now on.
    pub fn fault_every(&mut self, route: &str, f: Fault) {
        self.standing.push((route.to_string(), f));
    }

    /// Live notes or tasks (not archived) whose body holds `text`: (id, body).
    pub fn live(&self, object: &str, text: &str) -> Vec<(u64, String)> {
        let prop = if object == "tasks" { "hs_task_body" } else { "hs_note_body" };
        self.objects
            .get(object)
            .into_iter()
            .flatten()
            .filter(|(id, p)| !self.archived.contains(id) && p[prop].as_str().is_some_and(|b| b.contains(text)))
            .map(|(id, p)| (*id, p[prop].as_str().unwrap_or_default().to_string()))
            .collect()
    }

    /// Applies the held writes that are due on the test's clock.
    pub fn land_due(&mut self) {
        let now = self.clock.as_ref().map(|c| *c.lock().unwrap());
        let due = |h: &Held| matches!((h.due, now), (Some(d), Some(n)) if d <= n);
        self.land(due);
    }

    /// Applies every held write now, whatever it waited for.
    pub fn release(&mut self) {
        self.land(|_| true);
    }

    fn land(&mut self, pick: impl Fn(&Held) -> bool) {
        let (now, later): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held).into_iter().partition(|h| pick(h));
        self.held = later;
        for h in now {
            // Applied as the vendor would apply it now: a ticket update
            // whose stamp is stale by then is refused (409), not applied.
            let file = h.path.rsplit('/').next().unwrap_or_default().to_string();
            match h.route.split(' ').next() {
                Some("POST") => {
                    let object = h.path.trim_start_matches("/crm/v3/objects/").to_string();
                    apply_create(self, &object, &h.body);
                }
                Some("PUT") => {
                    let _ = apply_put(self, &file, &h.body);
                }
                Some("DELETE") => {
                    let mut parts = h.path.trim_start_matches("/crm/v3/objects/").split('/');
                    let (object, id) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                    apply_archive(self, object, id);
                }
                _ => {}
            }
        }
    }

    fn take_fault(&mut self, route: &str) -> Option<Fault> {
        if let Some(i) = self.faults.iter().position(|(r, _)| r == route) {
            return Some(self.faults.remove(i).1);
        }
        self.standing.iter().find(|(r, _)| r == route).map(|(_, f)| f.clone())
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
    // What the vendor applied meanwhile is there before this request is.
    w.land_due();
    w.land(|h| matches!(&h.lands, Lands::BeforeNext(r) if *r == route));
    let fault = w.take_fault(&route);
    if let Some(Fault::Hold(lands)) = &fault {
        let due = match lands {
            Lands::After(d) => w.clock.as_ref().map(|c| *c.lock().unwrap() + *d),
            _ => None,
        };
        let held =
            Held { route: route.clone(), path: req.path.clone(), body: req.body.clone(), lands: lands.clone(), due };
        w.held.push(held);
    }
    w.log.push(req);
    fault
}

/// A held request is never answered: the client gives up on it.
async fn hold(fault: &Option<Fault>) {
    if let Some(Fault::Hold(_)) = fault {
        std::future::pending::<()>().await;
    }
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
    hold(&fault).await;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(why) = invalid_task(&object, &v["properties"]) {
        // HubSpot's validation answer: nothing is made.
        let body = json!({"status": "error", "category": "VALIDATION_ERROR", "message": why});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let resp = (StatusCode::CREATED, Json(apply_create(&mut s.lock().unwrap(), &object, &v))).into_response();
    after(fault, resp).await
}

/// Why HubSpot refuses a task's properties, if it does: `hs_timestamp` (its
/// due date) is required, in milliseconds or ISO 8601 UTC; the status and
/// the priority take only their documented values.
fn invalid_task(object: &str, p: &Value) -> Option<String> {
    if object != "tasks" {
        return None;
    }
    let stamp_ok = match &p["hs_timestamp"] {
        Value::String(s) => DateTime::parse_from_rfc3339(s).is_ok() || s.parse::<i64>().is_ok(),
        Value::Number(n) => n.is_i64(),
        _ => false,
    };
    if !stamp_ok {
        return Some(format!("Property \"hs_timestamp\" is required as a date: {}", p["hs_timestamp"]));
    }
    let one_of = |name: &str, allowed: &[&str]| match &p[name] {
        Value::Null => None,
        Value::String(v) if allowed.contains(&v.as_str()) => None,
        other => Some(format!("{other} was not one of the allowed options for \"{name}\": {allowed:?}")),
    };
    one_of("hs_task_status", &["NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"])
        .or_else(|| one_of("hs_task_priority", &["NONE", "LOW", "MEDIUM", "HIGH"]))
}

/// Creates a note or task; the created object as HubSpot answers it.
fn apply_create(w: &mut Writes, object: &str, v: &Value) -> Value {
    w.next_id += 1;
    let id = 500 + w.next_id;
    w.objects.entry(object.to_string()).or_default().push((id, v["properties"].clone()));
    json!({"id": id.to_string(), "properties": v["properties"], "archived": false})
}

/// Archives a note or task (`DELETE /crm/v3/objects/{type}/{id}`): 204
/// with no body, 404 for an id it never made.
async fn archive(
    State(s): State<SharedWrites>,
    Path((object, id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    let fault = arrive(&s, &method, &uri, &h, &Bytes::new());
    if let Some(r) = status(&fault) {
        return r;
    }
    if let Some(r) = denied(&s, &h, true) {
        return r;
    }
    hold(&fault).await;
    let resp = match apply_archive(&mut s.lock().unwrap(), &object, &id) {
        true => StatusCode::NO_CONTENT.into_response(),
        false => {
            (StatusCode::NOT_FOUND, Json(json!({"status": "error", "message": "resource not found"}))).into_response()
        }
    };
    after(fault, resp).await
}

/// Moves a note or task to the recycling bin; false for an id it never made.
fn apply_archive(w: &mut Writes, object: &str, id: &str) -> bool {
    let known = id.parse().ok().filter(|id| w.objects.get(object).is_some_and(|os| os.iter().any(|(o, _)| o == id)));
    known.map(|id| w.archived.insert(id)).is_some()
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
                .filter(|(id, p)| !w.archived.contains(id) && p[prop].as_str().is_some_and(|b| b.contains(token)))
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
    hold(&fault).await;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let resp = match apply_put(&mut s.lock().unwrap(), &file, &v) {
        Ok(answer) => Json(answer).into_response(),
        Err((code, body)) => return (code, Json(body)).into_response(),
    };
    after(fault, resp).await
}

/// A ticket update with `safe_update` as the desk applies it: the answer,
/// or the refusal (404, 409) and its body.
fn apply_put(w: &mut Writes, file: &str, v: &Value) -> Result<Value, (StatusCode, Value)> {
    let t = &v["ticket"];
    let Some(id) = ticket_id(file).filter(|id| w.tickets.contains_key(id)) else {
        return Err((StatusCode::NOT_FOUND, json!({"error": "RecordNotFound", "description": "Not found"})));
    };
    let current = w.tickets[&id].updated_at;
    let seen = t["updated_stamp"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    if t["safe_update"] == true && seen.map(|s| s.with_timezone(&Utc)) != Some(current) {
        let body = json!({"error": "UpdateConflict", "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again."});
        return Err((StatusCode::CONFLICT, body));
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
    Ok(json!({"ticket": tj, "audit": {"id": 1, "events": [
        {"id": comment_id, "type": "Comment", "body": c["body"], "public": c["public"]},
    ]}}))
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

/// A ticket's comments as the desk lists them. Cursor pagination
/// (`page[size]`, `page[after]`) sorts by `sort` (`created_at` or
/// `-created_at`) and ignores `sort_order`, so `sort_order=desc` there comes
/// back oldest first; offset pagination (`page`, `per_page`) sorts by
/// `sort_order`.
async fn comments(
    State(s): State<SharedWrites>,
    Path(id): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
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
    let mut w = s.lock().unwrap();
    let Some(t) = w.tickets.get(&id) else { return not_found() };
    let cursor = q.contains_key("page[size]");
    let newest_first = if cursor {
        q.get("sort").map(String::as_str) == Some("-created_at")
    } else {
        q.get("sort_order").map(String::as_str) == Some("desc")
    };
    let mut all = t.comments.clone();
    if newest_first {
        all.reverse();
    }
    if !cursor {
        let per_page = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(100usize).clamp(1, 100);
        let page = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1usize).max(1);
        let start = ((page - 1) * per_page).min(all.len());
        let end = (start + per_page).min(all.len());
        let next = (end < all.len()).then(|| format!("/api/v2/tickets/{id}/comments.json?page={}", page + 1));
        return Json(
            json!({"comments": all[start..end], "next_page": next, "previous_page": null, "count": all.len()}),
        )
        .into_response();
    }
    let size = q["page[size]"].parse().unwrap_or(100usize).clamp(1, 100);
    let start = match q.get("page[after]") {
        None => 0,
        Some(c) => match w.cursors.get(c) {
            Some(at) => *at,
            None => {
                let body =
                    json!({"error": "InvalidPaginationParameter", "description": "page[after] is not a valid cursor"});
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
        },
    };
    let start = start.min(all.len());
    let end = (start + size).min(all.len());
    let has_more = end < all.len();
    let after = if w.repeat_cursor { "c2FtZQ==".to_string() } else { super::base64(format!("after {end}").as_bytes()) };
    w.cursors.insert(after.clone(), end);
    Json(json!({
        "comments": all[start..end],
        "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": super::base64(format!("before {start}").as_bytes())},
        "links": {"next": null, "prev": null},
    }))
    .into_response()
}

/// Starts the fake on a free loopback port; returns its base URL.
pub async fn start(state: SharedWrites) -> String {
    let app = Router::new()
        .route("/crm/v3/objects/{object}", post(create))
        .route("/crm/v3/objects/{object}/search", post(search))
        .route("/crm/v3/objects/{object}/{id}", delete(archive))
        .route("/crm/v3/objects/companies/{id}", axum::routing::patch(patch_company))
        .route("/api/v2/tickets/{file}", get(get_ticket).put(put_ticket))
        .route("/api/v2/tickets/{id}/comments.json", get(comments))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
