//! A fake HubSpot CRM v3 on 127.0.0.1 that speaks the documented wire
//! format over an in-memory dataset, with scripted faults.

#![allow(dead_code)]

pub mod desk;
pub mod stripe;
pub mod writes;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// One record in the fake CRM (a company, contact, deal, note, ...).
#[derive(Debug, Clone)]
pub struct Company {
    pub id: u64,
    pub props: BTreeMap<String, String>,
    pub modified: i64,
    pub archived: bool,
    /// The associated company, for types other than companies; for survey
    /// answers (`feedback_submissions`), the contact who answered.
    pub company: Option<u64>,
}

/// Any record: companies are records too.
pub type Record = Company;

/// What the next request gets instead of its answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// A status with headers and a body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// Answer only after this long.
    Delay(Duration),
    /// 200 with a body that is not JSON.
    Garbage,
    /// Answer normally (to aim a later fault at a later request).
    Pass,
}

#[derive(Debug, Default)]
pub struct Crm {
    pub companies: BTreeMap<u64, Company>,
    pub faults: VecDeque<Fault>,
    /// "GET /path?query" or "POST /path {body}" per request.
    pub log: Vec<String>,
    pub token: String,
    /// Every answer waits this long (to catch a sync mid-run).
    pub latency: Duration,
    /// Object types the token has no scope for (answered 403).
    pub forbidden: Vec<&'static str>,
    /// Every other object type by name ("contacts", "deals", "notes"...).
    pub objects: BTreeMap<String, BTreeMap<u64, Record>>,
    /// List pages always point at a next page, past the end too (a
    /// misbehaving server whose `paging.next.after` keeps moving).
    pub endless_paging: bool,
    /// Searches ignore the `hs_object_id` filter (a misbehaving server).
    pub search_ignores_id: bool,
    /// Company property history: (company id, property) -> (epoch ms, value)
    /// in any order; served as `propertiesWithHistory`, newest first.
    pub history: BTreeMap<(u64, String), Vec<(i64, String)>>,
    /// List pages served with property history.
    pub history_pages: usize,
    /// Bodies of the company batch updates applied (or refused in part),
    /// in arrival order.
    pub updates: Vec<Value>,
}

pub type Shared = Arc<Mutex<Crm>>;

impl Crm {
    pub fn add(&mut self, id: u64, name: &str, arr: u64, modified: i64) {
        let mut props = BTreeMap::new();
        props.insert("name".into(), name.into());
        props.insert("domain".into(), format!("{}.example", name.to_lowercase().replace(' ', "")));
        props.insert("arr".into(), arr.to_string());
        props.insert("renewal_date".into(), "2027-06-30".into());
        props.insert("cs_stage".into(), "adoption".into());
        props.insert("createdate".into(), "2024-01-15T00:00:00Z".into());
        self.companies.insert(id, Company { id, props, modified, archived: false, company: None });
    }

    /// Adds (or replaces) a record of another type, associated with `company`.
    pub fn put(&mut self, object: &str, id: u64, props: &[(&str, &str)], modified: i64, company: Option<u64>) {
        let props = props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.objects
            .entry(object.to_string())
            .or_default()
            .insert(id, Record { id, props, modified, archived: false, company });
    }

    /// Records a company property's value as of `at` (epoch ms) in its
    /// history; the latest one also becomes the current value.
    pub fn set_with_history(&mut self, company: u64, prop: &str, at: i64, value: &str) {
        let h = self.history.entry((company, prop.to_string())).or_default();
        h.push((at, value.to_string()));
        let latest = h.iter().max_by_key(|(t, _)| *t).cloned().expect("just pushed");
        if let Some(c) = self.companies.get_mut(&company) {
            c.props.insert(prop.to_string(), latest.1);
        }
    }

    /// A record of another type, to change it.
    pub fn get_mut(&mut self, object: &str, id: u64) -> &mut Record {
        self.objects.get_mut(object).and_then(|t| t.get_mut(&id)).expect("record exists")
    }

    fn table(&self, object: &str) -> Vec<&Record> {
        match object {
            "companies" => self.companies.values().collect(),
            o => self.objects.get(o).map(|t| t.values().collect()).unwrap_or_default(),
        }
    }

    /// A record's `propertiesWithHistory`: each asked property's changes,
    /// newest first, as the documented `{value, timestamp, sourceType,
    /// sourceId, updatedByUserId}` entries; a property with no recorded
    /// history has its current value, stamped with the last change.
    fn history_of(&self, c: &Record, props: &[String]) -> Value {
        let stamp = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339();
        let mut out = serde_json::Map::new();
        for p in props {
            let mut entries: Vec<(i64, String)> = match self.history.get(&(c.id, p.clone())) {
                Some(h) => h.clone(),
                None => c.props.get(p).map(|v| vec![(c.modified, v.clone())]).unwrap_or_default(),
            };
            entries.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
            let list: Vec<Value> = entries
                .into_iter()
                .map(|(t, v)| {
                    json!({"value": v, "timestamp": stamp(t), "sourceType": "API", "sourceId": "integration", "updatedByUserId": null})
                })
                .collect();
            out.insert(p.clone(), Value::Array(list));
        }
        Value::Object(out)
    }

    /// The object type a record of `object` is associated with.
    fn target(object: &str) -> &'static str {
        if object == "feedback_submissions" {
            "contacts"
        } else {
            "companies"
        }
    }

    fn record(object: &str, c: &Record, associations: bool) -> Value {
        let mut props: serde_json::Map<String, Value> =
            c.props.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let modified = if object == "contacts" { "lastmodifieddate" } else { "hs_lastmodifieddate" };
        props.insert(modified.into(), Value::String(c.modified.to_string()));
        props.insert("hs_object_id".into(), Value::String(c.id.to_string()));
        let mut rec = json!({
            "id": c.id.to_string(),
            "properties": props,
            "createdAt": "2024-01-15T00:00:00Z",
            "updatedAt": chrono::DateTime::from_timestamp_millis(c.modified).unwrap().to_rfc3339(),
            "archived": c.archived,
        });
        if let (true, Some(company)) = (associations, c.company) {
            let to = Crm::target(object);
            let kind = format!("{}_to_{}", object.trim_end_matches('s'), to.trim_end_matches('s'));
            rec["associations"] = json!({to: {"results": [
                {"id": company.to_string(), "type": kind},
                {"id": company.to_string(), "type": format!("{kind}_unlabeled")},
            ]}});
        }
        rec
    }
}

async fn fault(state: &Shared) -> Option<Response> {
    let latency = state.lock().unwrap().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let f = state.lock().unwrap().faults.pop_front();
    match f? {
        Fault::Status(code, headers, body) => {
            let mut resp = (StatusCode::from_u16(code).unwrap(), body).into_response();
            for (k, v) in headers {
                resp.headers_mut().insert(k, v.parse().unwrap());
            }
            Some(resp)
        }
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Fault::Garbage => Some((StatusCode::OK, "{\"results\": [ {\"id\": \"1\", \"prop").into_response()),
        Fault::Pass => None,
    }
}

fn authorized(state: &Shared, headers: &HeaderMap) -> bool {
    let want = format!("Bearer {}", state.lock().unwrap().token);
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(want.as_str())
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"status": "error", "category": "INVALID_AUTHENTICATION"}))).into_response()
}

async fn list(
    State(state): State<Shared>,
    Path(object): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    state.lock().unwrap().log.push(format!("GET {object} {q:?}"));
    if let Some(r) = fault(&state).await {
        return r;
    }
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    if state.lock().unwrap().forbidden.contains(&object.as_str()) {
        return (StatusCode::FORBIDDEN, Json(json!({"status": "error", "category": "MISSING_SCOPES"}))).into_response();
    }
    let archived = q.get("archived").map(String::as_str) == Some("true");
    let associations = q.get("associations").is_some_and(|a| a == Crm::target(&object));
    let with_history: Vec<String> = q
        .get("propertiesWithHistory")
        .map(|p| p.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    // HubSpot serves at most 50 records a page when history is asked for.
    let cap = if with_history.is_empty() { 100 } else { 50 };
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(10).min(cap);
    let start: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let mut crm = state.lock().unwrap();
    crm.history_pages += usize::from(!with_history.is_empty());
    let all: Vec<&Record> = crm.table(&object).into_iter().filter(|c| c.archived == archived).collect();
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| {
            let mut rec = Crm::record(&object, c, associations);
            if !with_history.is_empty() {
                rec["propertiesWithHistory"] = crm.history_of(c, &with_history);
            }
            rec
        })
        .collect();
    let mut body = json!({ "results": page });
    if start + limit < all.len() || crm.endless_paging {
        body["paging"] = json!({ "next": { "after": (start + limit).to_string(), "link": "?after=" } });
    }
    Json(body).into_response()
}

fn matches(c: &Company, f: &Value) -> bool {
    let prop = f["propertyName"].as_str().unwrap_or("");
    let value: i64 = f["value"].as_str().and_then(|v| v.parse().ok()).unwrap_or(i64::MIN);
    let actual = match prop {
        "hs_lastmodifieddate" | "lastmodifieddate" => c.modified,
        "hs_object_id" => c.id as i64,
        _ => return false,
    };
    match f["operator"].as_str().unwrap_or("") {
        "EQ" => actual == value,
        "GT" => actual > value,
        "GTE" => actual >= value,
        "LT" => actual < value,
        _ => false,
    }
}

async fn search(
    State(state): State<Shared>,
    Path(object): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    state.lock().unwrap().log.push(format!("POST search {object} {body}"));
    if let Some(r) = fault(&state).await {
        return r;
    }
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    for required in ["filterGroups", "sorts", "properties", "limit", "after"] {
        if body.get(required).is_none() {
            return (StatusCode::BAD_REQUEST, format!("missing {required}")).into_response();
        }
    }
    let crm = state.lock().unwrap();
    let mut groups = body["filterGroups"].as_array().cloned().unwrap_or_default();
    if crm.search_ignores_id {
        for g in &mut groups {
            if let Some(fs) = g["filters"].as_array_mut() {
                fs.retain(|f| f["propertyName"] != "hs_object_id");
            }
        }
    }
    let mut hits: Vec<&Record> = crm
        .table(&object)
        .into_iter()
        .filter(|c| !c.archived)
        .filter(|c| groups.iter().any(|g| g["filters"].as_array().is_some_and(|fs| fs.iter().all(|f| matches(c, f)))))
        .collect();
    match body["sorts"][0]["propertyName"].as_str() {
        Some("hs_lastmodifieddate" | "lastmodifieddate") => hits.sort_by_key(|c| (c.modified, u64::MAX - c.id)), // ties in no useful order
        _ => hits.sort_by_key(|c| c.id),
    }
    let limit = body["limit"].as_u64().unwrap_or(10).min(200) as usize;
    let start: usize = body["after"].as_str().and_then(|a| a.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = hits.iter().skip(start).take(limit).map(|c| Crm::record(&object, c, false)).collect();
    let mut out = json!({ "total": hits.len(), "results": page });
    if start + limit < hits.len() {
        out["paging"] = json!({ "next": { "after": (start + limit).to_string() } });
    }
    Json(out).into_response()
}

/// Logs a request, then answers it with a scripted fault or a refusal, if any.
async fn gate(state: &Shared, headers: &HeaderMap, line: String) -> Option<Response> {
    state.lock().unwrap().log.push(line);
    if let Some(r) = fault(state).await {
        return Some(r);
    }
    (!authorized(state, headers)).then(unauthorized)
}

/// The records of a table that a batch request's `inputs` name by id.
fn named<'a>(table: &[&'a Record], body: &Value) -> Vec<&'a Record> {
    let ids = body["inputs"].as_array().cloned().unwrap_or_default();
    ids.iter()
        .filter_map(|i| i["id"].as_str()?.parse::<u64>().ok())
        .filter_map(|id| table.iter().find(|r| r.id == id).copied())
        .collect()
}

/// The v4 batch association read: each input's associated companies (or,
/// for survey answers, contacts).
async fn associations(
    State(state): State<Shared>,
    Path((object, to)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&state, &headers, format!("POST associations {object} {body}")).await {
        return r;
    }
    let crm = state.lock().unwrap();
    let results: Vec<Value> = named(&crm.table(&object), &body)
        .into_iter()
        .filter(|_| to == Crm::target(&object))
        .filter_map(|r| {
            let company = r.company?;
            Some(json!({"from": {"id": r.id.to_string()}, "to": [
                {"toObjectId": company.to_string(), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"}]}
            ]}))
        })
        .collect();
    Json(json!({"status": "COMPLETE", "results": results})).into_response()
}

/// The batch read by id: the records that exist and are not archived
/// (batch reads carry no associations).
async fn batch_read(
    State(state): State<Shared>,
    Path(object): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&state, &headers, format!("POST batch_read {object} {body}")).await {
        return r;
    }
    let crm = state.lock().unwrap();
    let results: Vec<Value> = named(&crm.table(&object), &body)
        .into_iter()
        .filter(|r| !r.archived)
        .map(|r| Crm::record(&object, r, false))
        .collect();
    Json(json!({"status": "COMPLETE", "results": results, "startedAt": "2026-11-28T00:00:00Z", "completedAt": "2026-11-28T00:00:01Z"}))
        .into_response()
}

/// The batch update by id (`POST /crm/v3/objects/companies/batch/update`):
/// at most 100 inputs, each id once; the companies that exist take the
/// properties (200), and when some do not, the answer is a 207 naming them
/// in an `OBJECT_NOT_FOUND` error, the others applied all the same.
async fn batch_update(
    State(state): State<Shared>,
    Path(object): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gate(&state, &headers, format!("POST batch_update {object} {body}")).await {
        return r;
    }
    let inputs = body["inputs"].as_array().cloned().unwrap_or_default();
    let invalid = |message: &str| {
        let body =
            json!({"status": "error", "message": message, "category": "VALIDATION_ERROR", "correlationId": "f1"});
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    };
    if object != "companies" {
        return invalid("only companies are updated by this fake");
    }
    if inputs.len() > 100 {
        return invalid(&format!("Batch input limit of 100 exceeded: {} inputs", inputs.len()));
    }
    let ids: Vec<String> = inputs.iter().map(|i| i["id"].as_str().unwrap_or_default().to_string()).collect();
    if ids.iter().enumerate().any(|(n, id)| ids[..n].contains(id)) {
        return invalid("Duplicate IDs found in batch input");
    }
    let mut crm = state.lock().unwrap();
    crm.updates.push(body.clone());
    let (mut results, mut missing) = (Vec::new(), Vec::new());
    for input in &inputs {
        let id = input["id"].as_str().unwrap_or_default();
        let Some(c) = id.parse::<u64>().ok().and_then(|n| crm.companies.get_mut(&n)).filter(|c| !c.archived) else {
            missing.push(id.to_string());
            continue;
        };
        for (k, v) in input["properties"].as_object().into_iter().flatten() {
            c.props.insert(k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        }
        c.modified += 1;
        results.push(json!({"id": id, "properties": input["properties"], "createdAt": "2024-01-15T00:00:00Z",
            "updatedAt": "2026-11-28T00:00:00Z", "archived": false}));
    }
    let times = json!({"startedAt": "2026-11-28T00:00:00Z", "completedAt": "2026-11-28T00:00:01Z"});
    let mut answer = json!({"status": "COMPLETE", "results": results});
    answer.as_object_mut().unwrap().extend(times.as_object().unwrap().clone());
    if missing.is_empty() {
        return Json(answer).into_response();
    }
    answer["numErrors"] = json!(1);
    answer["errors"] = json!([{
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": "Could not get some COMPANY objects, they may be deleted or not exist. Check that ids are valid.",
        "context": {"ids": missing},
        "links": {},
    }]);
    (StatusCode::MULTI_STATUS, Json(answer)).into_response()
}

/// Starts the fake on a free loopback port; returns its base URL.
pub async fn start(state: Shared) -> String {
    let app = Router::new()
        .route("/crm/v3/objects/{object}", get(list))
        .route("/crm/v3/objects/{object}/search", post(search))
        .route("/crm/v3/objects/{object}/batch/read", post(batch_read))
        .route("/crm/v3/objects/{object}/batch/update", post(batch_update))
        .route("/crm/v4/associations/{object}/{to}/batch/read", post(associations))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

/// A validated source pointing at a fake (`email` makes it Zendesk API-token auth).
pub fn source(
    name: &str,
    kind: cockpit::sync::source::Kind,
    url: String,
    token_env: &str,
    email: Option<&str>,
) -> cockpit::sync::source::Source {
    cockpit::sync::source::RawSource {
        metrics: Default::default(),
        name: Some(name.into()),
        kind,
        base_url: Some(url),
        token_env: Some(token_env.into()),
        email: email.map(str::to_string),
        properties: BTreeMap::new(),
        requests_per_minute: None,
        exports_per_minute: None,
    }
    .validate()
    .unwrap()
}

/// Standard base64 (for the desk's basic auth header), to avoid a crate for tests.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Runs the real binary on the workspace `ws` with `config`, a home of its
/// own under `home`, and `secrets` (variable, value) in its environment,
/// off the async runtime (the fakes it talks to run on it).
pub async fn cockpit(
    home: &std::path::Path,
    config: &std::path::Path,
    ws: &std::path::Path,
    secrets: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut all =
        vec!["--config".to_string(), config.display().to_string(), "--data-dir".into(), ws.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let home = home.to_path_buf();
    let secrets: Vec<(String, String)> = secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cockpit"))
            .args(&all)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("xdg"))
            .envs(secrets)
            .env_remove("COCKPIT_DATA_DIR")
            .env_remove("COCKPIT_CONFIG")
            .env_remove("COCKPIT_NOW")
            .env("TZ", "UTC")
            .output()
            .expect("run cockpit")
    })
    .await
    .unwrap()
}

/// What a run printed, stdout then stderr, for assertion messages.
pub fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Epoch milliseconds of noon UTC on a day (a HubSpot timestamp).
pub fn noon_ms(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
}
