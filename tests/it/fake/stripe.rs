//! A fake Stripe API v1 on 127.0.0.1: customers (with the default payment
//! method expanded on request), subscriptions (`status=all`), open
//! invoices, products and events, in Stripe's list format with
//! `starting_after` / `ending_before` paging and `has_more`, Stripe's error
//! body, and scripted faults (429s, 5xx, a key without permission).

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Debug, Default)]
pub struct Stripe {
    /// Customers in creation order (lists are newest first).
    pub customers: Vec<Value>,
    /// Payment methods by id.
    pub payment_methods: BTreeMap<String, Value>,
    pub subscriptions: Vec<Value>,
    pub invoices: Vec<Value>,
    pub products: BTreeMap<String, Value>,
    /// Events in creation order.
    pub events: Vec<Value>,
    /// Event ids Stripe no longer keeps (answered as unknown).
    pub forgotten: Vec<String>,
    /// (status, headers) answered instead of the next requests.
    pub faults: VecDeque<(u16, Vec<(&'static str, String)>)>,
    /// "GET /path?query" per request.
    pub log: Vec<String>,
    /// The secret key expected after `Bearer `.
    pub key: String,
    /// Paths (prefixes) the key may not read: answered 403.
    pub forbidden: Vec<&'static str>,
    /// Largest page served, whatever `limit` asks.
    pub page: usize,
    pub next_event: u64,
    /// Seconds of the next event's `created`.
    pub clock: i64,
}

pub type SharedStripe = Arc<Mutex<Stripe>>;

impl Stripe {
    /// A customer with an optional metadata CRM id and default card (month, year).
    pub fn customer(&mut self, id: &str, name: &str, email: &str, crm: Option<&str>, card: Option<(u32, i32)>) {
        let pm = card.map(|(m, y)| {
            let pm_id = format!("pm_{id}_{m}_{y}");
            self.payment_methods.insert(
                pm_id.clone(),
                json!({"id": pm_id, "object": "payment_method", "type": "card",
                       "card": {"brand": "visa", "last4": "4242", "exp_month": m, "exp_year": y}}),
            );
            pm_id
        });
        let metadata = match crm {
            Some(c) => json!({"hubspot_company_id": c}),
            None => json!({}),
        };
        let c = json!({"id": id, "object": "customer", "name": name, "email": email, "metadata": metadata,
                       "currency": "usd", "created": 1_700_000_000,
                       "invoice_settings": {"default_payment_method": pm, "custom_fields": null, "footer": null}});
        match self.customers.iter_mut().find(|x| x["id"] == id) {
            Some(x) => *x = c.clone(),
            None => self.customers.push(c.clone()),
        }
        self.event("customer.updated", c);
    }

    /// A subscription of `quantity` x `unit_amount` (smallest unit) per `interval`.
    #[allow(clippy::too_many_arguments)]
    pub fn subscription(
        &mut self,
        id: &str,
        customer: &str,
        status: &str,
        nickname: Option<&str>,
        product: &str,
        unit_amount: i64,
        quantity: u64,
        interval: &str,
        currency: &str,
    ) {
        let s = json!({
            "id": id, "object": "subscription", "customer": customer, "status": status, "currency": currency,
            "canceled_at": null, "ended_at": null,
            "cancellation_details": {"comment": null, "feedback": null, "reason": null},
            "items": {"object": "list", "has_more": false, "url": format!("/v1/subscription_items?subscription={id}"),
                "data": [{"id": format!("si_{id}"), "object": "subscription_item", "quantity": quantity,
                    "price": {"id": format!("price_{id}"), "object": "price", "nickname": nickname, "product": product,
                              "unit_amount": unit_amount, "currency": currency, "type": "recurring",
                              "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"}}}]}
        });
        self.put_subscription(s);
    }

    /// Cancels a subscription with a reason ("payment_failed": involuntary).
    pub fn cancel(&mut self, id: &str, reason: &str, at: i64) {
        let mut s = self.subscriptions.iter().find(|s| s["id"] == id).cloned().expect("a subscription");
        s["status"] = json!("canceled");
        s["canceled_at"] = json!(at);
        s["ended_at"] = json!(at);
        s["cancellation_details"]["reason"] = json!(reason);
        self.put_subscription(s);
    }

    fn put_subscription(&mut self, s: Value) {
        match self.subscriptions.iter_mut().find(|x| x["id"] == s["id"]) {
            Some(x) => *x = s.clone(),
            None => self.subscriptions.push(s.clone()),
        }
        self.event("customer.subscription.updated", s);
    }

    /// An invoice (`open` with `amount_remaining`, or `paid`), due at `due` (unix seconds).
    pub fn invoice(&mut self, id: &str, customer: &str, status: &str, amount_remaining: i64, due: Option<i64>) {
        let i = json!({"id": id, "object": "invoice", "customer": customer, "status": status,
                       "collection_method": if due.is_some() { "send_invoice" } else { "charge_automatically" },
                       "amount_due": amount_remaining, "amount_remaining": amount_remaining, "currency": "usd",
                       "due_date": due, "created": due.unwrap_or(1_700_000_000) - 30 * 86_400});
        match self.invoices.iter_mut().find(|x| x["id"] == id) {
            Some(x) => *x = i.clone(),
            None => self.invoices.push(i.clone()),
        }
        let kind = if status == "paid" { "invoice.paid" } else { "invoice.finalized" };
        self.event(kind, i);
    }

    pub fn product(&mut self, id: &str, name: &str) {
        self.products.insert(id.into(), json!({"id": id, "object": "product", "name": name}));
    }

    fn event(&mut self, kind: &str, object: Value) {
        self.next_event += 1;
        self.clock += 1;
        self.events.push(json!({"id": format!("evt_{:06}", self.next_event), "object": "event", "type": kind,
                                "created": self.clock, "api_version": "2024-06-20",
                                "data": {"object": object}}));
    }
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    (status, Json(json!({"error": {"type": kind, "code": code, "message": message}}))).into_response()
}

/// Stripe's list envelope for one page of `all` (newest first) after `starting_after`.
fn page(all: Vec<Value>, q: &[(String, String)], cap: usize, url: &str) -> Response {
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let limit = get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(10).min(cap.max(1));
    let start = match get("starting_after") {
        Some(a) => match all.iter().position(|v| v["id"] == a.as_str()) {
            Some(i) => i + 1,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("resource_missing"),
                    &format!("No such object: '{a}'"),
                )
            }
        },
        None => 0,
    };
    let data: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let has_more = start + data.len() < all.len();
    Json(json!({"object": "list", "url": url, "has_more": has_more, "data": data})).into_response()
}

/// Checks the key, the scripted faults and the permissions; logs the request.
fn gate(s: &mut Stripe, headers: &HeaderMap, path: &str, q: &[(String, String)]) -> Option<Response> {
    let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    s.log.push(format!("GET {path}?{}", query.join("&")));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {}", s.key)) {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided: sk_test_****",
        ));
    }
    if let Some((status, hs)) = s.faults.pop_front() {
        let mut resp = error(
            StatusCode::from_u16(status).unwrap(),
            if status == 429 { "invalid_request_error" } else { "api_error" },
            (status == 429).then_some("rate_limit"),
            "Scripted fault",
        );
        for (k, v) in hs {
            resp.headers_mut().insert(k, v.parse().unwrap());
        }
        return Some(resp);
    }
    if s.forbidden.iter().any(|f| path.starts_with(f)) {
        return Some(error(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            None,
            "The provided key 'rk_test_****' does not have the required permissions for this endpoint.",
        ));
    }
    None
}

fn expand_customer(s: &Stripe, mut c: Value, expand: bool) -> Value {
    if expand {
        if let Some(pm) = c["invoice_settings"]["default_payment_method"].as_str() {
            c["invoice_settings"]["default_payment_method"] = s.payment_methods[pm].clone();
        }
    }
    c
}

fn wants(q: &[(String, String)], field: &str) -> bool {
    q.iter().any(|(k, v)| k == "expand[]" && v == field)
}

async fn customers(State(st): State<SharedStripe>, h: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let mut s = st.lock().unwrap();
    if let Some(r) = gate(&mut s, &h, "/v1/customers", &q) {
        return r;
    }
    let expand = wants(&q, "data.invoice_settings.default_payment_method");
    let all: Vec<Value> = s.customers.iter().rev().map(|c| expand_customer(&s, c.clone(), expand)).collect();
    page(all, &q, s.page, "/v1/customers")
}

async fn customer(
    State(st): State<SharedStripe>,
    Path(id): Path<String>,
    h: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let mut s = st.lock().unwrap();
    if let Some(r) = gate(&mut s, &h, &format!("/v1/customers/{id}"), &q) {
        return r;
    }
    let expand = wants(&q, "invoice_settings.default_payment_method");
    match s.customers.iter().find(|c| c["id"] == id.as_str()) {
        Some(c) if c["deleted"] == true => {
            Json(json!({"id": id, "object": "customer", "deleted": true})).into_response()
        }
        Some(c) => Json(expand_customer(&s, c.clone(), expand)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such customer: '{id}'"),
        ),
    }
}

async fn subscriptions(
    State(st): State<SharedStripe>,
    h: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let mut s = st.lock().unwrap();
    if let Some(r) = gate(&mut s, &h, "/v1/subscriptions", &q) {
        return r;
    }
    let status = q.iter().find(|(k, _)| k == "status").map(|(_, v)| v.as_str());
    let customer = q.iter().find(|(k, _)| k == "customer").map(|(_, v)| v.clone());
    let all: Vec<Value> = s
        .subscriptions
        .iter()
        .rev()
        .filter(|x| match status {
            Some("all") => true,
            Some(st) => x["status"] == st,
            // By default Stripe leaves out the cancelled ones.
            None => x["status"] != "canceled",
        })
        .filter(|x| customer.as_ref().is_none_or(|c| x["customer"] == c.as_str()))
        .cloned()
        .collect();
    page(all, &q, s.page, "/v1/subscriptions")
}

async fn invoices(State(st): State<SharedStripe>, h: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let mut s = st.lock().unwrap();
    if let Some(r) = gate(&mut s, &h, "/v1/invoices", &q) {
        return r;
    }
    let status = q.iter().find(|(k, _)| k == "status").map(|(_, v)| v.clone());
    let customer = q.iter().find(|(k, _)| k == "customer").map(|(_, v)| v.clone());
    let all: Vec<Value> = s
        .invoices
        .iter()
        .rev()
        .filter(|x| status.as_ref().is_none_or(|st| x["status"] == st.as_str()))
        .filter(|x| customer.as_ref().is_none_or(|c| x["customer"] == c.as_str()))
        .cloned()
        .collect();
    page(all, &q, s.page, "/v1/invoices")
}

async fn product(
    State(st): State<SharedStripe>,
    Path(id): Path<String>,
    h: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let mut s = st.lock().unwrap();
    if let Some(r) = gate(&mut s, &h, &format!("/v1/products/{id}"), &q) {
        return r;
    }
    match s.products.get(&id) {
        Some(p) => Json(p.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "invalid_request_error", Some("resource_missing"), "No such product"),
    }
}

/// Events newest first; `ending_before` gives the page just newer than an
/// event (its oldest `limit` newer ones), `types[]` filters.
async fn events(State(st): State<SharedStripe>, h: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let mut s = st.lock().unwrap();
    if let Some(r) = gate(&mut s, &h, "/v1/events", &q) {
        return r;
    }
    let types: Vec<&str> = q.iter().filter(|(k, _)| k == "types[]").map(|(_, v)| v.as_str()).collect();
    let limit = q
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(10)
        .min(s.page.max(1));
    if let Some((_, before)) = q.iter().find(|(k, _)| k == "ending_before") {
        let Some(at) =
            s.events.iter().position(|e| e["id"] == before.as_str()).filter(|_| !s.forgotten.contains(before))
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("resource_missing"),
                &format!("No such event: '{before}'"),
            );
        };
        // The events after `before`, oldest first.
        let newer: Vec<Value> = s.events[at + 1..]
            .iter()
            .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == *t))
            .cloned()
            .collect();
        let take: Vec<Value> = newer.iter().take(limit).cloned().collect();
        let has_more = newer.len() > take.len();
        let data: Vec<Value> = take.into_iter().rev().collect();
        return Json(json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": data}))
            .into_response();
    }
    let all: Vec<Value> =
        s.events.iter().rev().filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == *t)).cloned().collect();
    page(all, &q, s.page, "/v1/events")
}

/// Starts the fake; returns its base URL.
pub async fn start(state: SharedStripe) -> String {
    let app = Router::new()
        .route("/v1/customers", get(customers))
        .route("/v1/customers/{id}", get(customer))
        .route("/v1/subscriptions", get(subscriptions))
        .route("/v1/invoices", get(invoices))
        .route("/v1/products/{id}", get(product))
        .route("/v1/events", get(events))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

/// A fake with Stripe's page cap and a known key.
pub fn new(key: &str) -> Stripe {
    Stripe { key: key.into(), page: 100, clock: 1_767_225_600, ..Stripe::default() }
}
