//! Ingest throughput of `cockpit sync` from loopback servers that speak the
//! HubSpot and Zendesk wire formats: 100,000 companies (and their 100,000
//! support organizations) and 500,000 tickets by default.
//!
//! `cargo bench --bench ingest [-- --companies N --tickets M] [--outage]`
//! Runs the real binary as a child process; reports records per second,
//! requests made, the child's peak memory (VmHWM, sampled) and its CPU
//! time (user + system: the figure that holds on a shared machine).
//!
//! `--history` gives every company a year of weekly `active_users_30d`
//! values, mapped as an input: the first sync reads them with
//! `propertiesWithHistory` (50 companies a page) and rebuilds and scores
//! every account's year (`cargo bench --bench ingest -- --history
//! --companies 10000 --tickets 0` is the first sync of a 10,000-company book).
//!
//! `--outage` first syncs with the CRM answering 503 (the desk lands every
//! organization as an account of its own, with its tickets), then syncs
//! again with the CRM back: the second run times matching the 100,000
//! organizations into their companies (every account of its own merged).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Clone)]
struct Data {
    companies: u64,
    tickets: u64,
    requests: Arc<AtomicU64>,
    /// The CRM answers 503 to everything while set.
    crm_down: Arc<std::sync::atomic::AtomicBool>,
    /// Companies carry a year of weekly active users.
    history: bool,
}

/// Weekly active users of a company over the year before the sync
/// (newest first, as HubSpot lists them): (epoch ms, value).
fn weekly_users(id: u64) -> Vec<(i64, u64)> {
    let now = chrono::Utc::now().timestamp_millis();
    (0..53).map(|w| (now - w * 7 * 86_400_000, 20 + (id * 7 + w as u64 * 3) % 30)).collect()
}

fn company(id: u64, history: bool) -> Value {
    let mut c = plain(id);
    if history {
        let weeks = weekly_users(id);
        c["properties"]["active_users_30d"] = json!(weeks[0].1.to_string());
        c["properties"]["seats"] = json!("50");
    }
    c
}

/// A company's `propertiesWithHistory` for the asked properties.
fn with_history(id: u64, props: &str) -> Value {
    let mut out = serde_json::Map::new();
    for p in props.split(',') {
        let entries: Vec<Value> = match p {
            "active_users_30d" => weekly_users(id)
                .into_iter()
                .map(|(t, v)| {
                    let at = chrono::DateTime::from_timestamp_millis(t).unwrap().to_rfc3339();
                    json!({"value": v.to_string(), "timestamp": at, "sourceType": "API", "sourceId": "usage-sync"})
                })
                .collect(),
            "seats" => vec![json!({"value": "50", "timestamp": "2024-01-15T00:00:00Z", "sourceType": "CRM_UI"})],
            _ => vec![],
        };
        out.insert(p.to_string(), Value::Array(entries));
    }
    Value::Object(out)
}

fn plain(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "properties": {
            "name": format!("Company {id}"), "domain": format!("c{id}.example"),
            "arr": (1000 + id * 37 % 200_000).to_string(), "renewal_date": "2027-06-30", "cs_stage": "adoption",
            "createdate": "2024-01-15T00:00:00Z", "hs_lastmodifieddate": (1_700_000_000_000 + id).to_string(),
            "hs_object_id": id.to_string()
        },
        "createdAt": "2024-01-15T00:00:00Z", "updatedAt": "2024-01-15T00:00:00Z", "archived": false
    })
}

async fn objects(
    State(d): State<Data>,
    Path(object): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    d.requests.fetch_add(1, Ordering::Relaxed);
    if d.crm_down.load(Ordering::Relaxed) {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "{}").into_response();
    }
    // Only companies here: the other types answer empty lists.
    if object != "companies" || q.get("archived").map(String::as_str) == Some("true") {
        return Json(json!({"results": []})).into_response();
    }
    let start: u64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let history = q.get("propertiesWithHistory");
    // HubSpot serves 50 a page when history is asked for.
    let cap = if history.is_some() { 50 } else { 100 };
    let limit = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(10u64).min(cap);
    let end = (start + limit).min(d.companies);
    let results: Vec<Value> = (start + 1..=end)
        .map(|id| {
            let mut c = company(id, d.history);
            if let (Some(h), true) = (history, d.history) {
                c["propertiesWithHistory"] = with_history(id, h);
            }
            c
        })
        .collect();
    let mut body = json!({ "results": results });
    if end < d.companies {
        body["paging"] = json!({"next": {"after": end.to_string()}});
    }
    Json(body).into_response()
}

async fn search(State(d): State<Data>) -> Response {
    d.requests.fetch_add(1, Ordering::Relaxed);
    Json(json!({"total": 0, "results": []})).into_response()
}

async fn users(State(d): State<Data>) -> Response {
    d.requests.fetch_add(1, Ordering::Relaxed);
    Json(json!({"users": [], "after_cursor": null, "end_of_stream": true})).into_response()
}

/// The time-based organization export: organization `id` was updated at
/// second `ORG_EPOCH + id`, 1,000 to a page.
async fn orgs(State(d): State<Data>, Query(q): Query<HashMap<String, String>>) -> Response {
    const ORG_EPOCH: i64 = 1_700_000_000;
    d.requests.fetch_add(1, Ordering::Relaxed);
    let start_time: i64 = q.get("start_time").and_then(|a| a.parse().ok()).unwrap_or(0);
    let first = (start_time - ORG_EPOCH).max(1) as u64;
    let end = (first + 999).min(d.companies);
    let list: Vec<Value> = (first..=end)
        .map(|id| {
            let updated = chrono::DateTime::from_timestamp(ORG_EPOCH + id as i64, 0).unwrap().to_rfc3339();
            json!({"id": 1_000_000 + id, "name": format!("Company {id}"), "external_id": id.to_string(),
                   "domain_names": [], "created_at": "2024-01-01T00:00:00Z", "updated_at": updated})
        })
        .collect();
    let end_time = ORG_EPOCH + end as i64;
    Json(json!({"organizations": list, "count": list.len(), "end_time": end_time, "end_of_stream": end >= d.companies,
                "next_page": null}))
    .into_response()
}

async fn export(State(d): State<Data>, Query(q): Query<HashMap<String, String>>) -> Response {
    d.requests.fetch_add(1, Ordering::Relaxed);
    let start: u64 = q.get("cursor").and_then(|a| a.parse().ok()).unwrap_or(0);
    let end = (start + 1000).min(d.tickets);
    let tickets: Vec<Value> = (start + 1..=end)
        .map(|id| {
            let status = ["open", "pending", "solved", "closed"][id as usize % 4];
            json!({"id": id, "subject": format!("Question {id}"), "status": status,
                   "priority": "normal", "type": "question", "organization_id": 1_000_000 + (id % d.companies) + 1,
                   "requester_id": id, "tags": [], "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"})
        })
        .collect();
    let metrics: Vec<Value> = (start + 1..=end)
        .map(|id| json!({"ticket_id": id, "requester_updated_at": "2026-11-20T08:00:00Z", "assignee_updated_at": "2026-11-21T08:00:00Z"}))
        .collect();
    Json(json!({"tickets": tickets, "metric_sets": metrics, "after_cursor": end.to_string(), "end_of_stream": end >= d.tickets}))
        .into_response()
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user, system) of this process's waited-for children, from
/// the `cutime` and `cstime` fields of /proc/self/stat.
fn children_cpu() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `state`.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the whole line, 14 and 15
    // here; /proc counts them in USER_HZ, 100 a second on Linux.
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (tick(13), tick(14))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let outage = args.iter().any(|a| a == "--outage");
    let history = args.iter().any(|a| a == "--history");
    let data = Data {
        companies: arg("--companies", 100_000),
        tickets: arg("--tickets", 500_000),
        requests: Arc::default(),
        crm_down: Arc::new(outage.into()),
        history,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let addr = rt.block_on(async {
        let app = Router::new()
            .route("/crm/v3/objects/{object}", get(objects))
            .route("/crm/v3/objects/{object}/search", axum::routing::post(search))
            .route("/api/v2/incremental/users/cursor.json", get(users))
            .route("/api/v2/incremental/organizations.json", get(orgs))
            .route("/api/v2/incremental/tickets/cursor.json", get(export))
            .with_state(data.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\nbase_url = \"http://{addr}\"\ntoken_env = \"BENCH_TOKEN\"\nrequests_per_minute = 100000\n{}\n\
             [[source]]\nname = \"desk\"\nkind = \"zendesk\"\nbase_url = \"http://{addr}\"\ntoken_env = \"BENCH_TOKEN\"\nrequests_per_minute = 100000\nexports_per_minute = 1000\n",
            if history { "[source.properties]\nactive_users = \"active_users_30d\"\n" } else { "" }
        ),
    )
    .unwrap();
    let ws = tmp.path().join("ws");
    let run = |what: &str, must_succeed: bool| {
        let cpu_before = children_cpu();
        let started = Instant::now();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cockpit"))
            .args(["--data-dir", ws.to_str().unwrap(), "--config", config.to_str().unwrap(), "sync"])
            .env("BENCH_TOKEN", "bench")
            .env("MIMALLOC_PURGE_DELAY", std::env::var("MIMALLOC_PURGE_DELAY").unwrap_or("10".into()))
            .env("HOME", tmp.path())
            .stdout(std::process::Stdio::piped())
            // Progress lines are a few kB a run: the pipe never fills.
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut peak = 0;
        let status = loop {
            if let Some(kb) = vm_hwm_kb(pid) {
                peak = peak.max(kb);
            }
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = started.elapsed();
        let mut out = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(status.success() || !must_succeed, "sync failed:\n{out}\n{err}");
        println!("{what}:\n{out}");
        let cpu_after = children_cpu();
        let (user, sys) = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
        println!("{what}: child CPU {:.1} s user + {:.1} s system = {:.1} s", user, sys, user + sys);
        (elapsed, peak)
    };
    if outage {
        let (elapsed, peak) = run("with the CRM down", false);
        println!(
            "with the CRM down: {} organizations as accounts of their own, {} tickets in {:.1} s; peak RSS {} MB",
            data.companies,
            data.tickets,
            elapsed.as_secs_f64(),
            peak / 1024
        );
        data.crm_down.store(false, Ordering::Relaxed);
        let (elapsed, peak) = run("the CRM back", true);
        println!(
            "the CRM back: {} companies read and {} accounts of their own merged into them (with {} tickets) in {:.1} s; peak RSS {} MB",
            data.companies,
            data.companies,
            data.tickets,
            elapsed.as_secs_f64(),
            peak / 1024
        );
        return;
    }
    let (elapsed, peak) = run("sync", true);
    let records = data.companies * 2 + data.tickets;
    let requests = data.requests.load(Ordering::Relaxed);
    // The sync every 15 minutes: nothing changed, everything matched again.
    let (again, again_peak) = run("again, nothing changed", true);
    println!(
        "ingested {} companies, {} organizations, {} tickets = {records} records in {:.1} s: {:.0} records/s; {requests} requests; peak RSS {} MB",
        data.companies,
        data.companies,
        data.tickets,
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        peak / 1024
    );
    println!(
        "a second sync with nothing changed (every organization matched again): {:.1} s; {} requests; peak RSS {} MB",
        again.as_secs_f64(),
        data.requests.load(Ordering::Relaxed) - requests,
        again_peak / 1024
    );
}
