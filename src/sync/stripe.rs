//! Stripe (API v1) as a billing source: customers matched to accounts,
//! subscriptions giving MRR, plan and seats, open invoices giving days past
//! due, the default card's expiry, and subscriptions cancelled for
//! non-payment. The first run (and `--full`, and a cursor Stripe no longer
//! keeps) lists everything with `starting_after` paging; later runs read
//! `/v1/events` from the last event seen and re-read only the customers
//! those events touch. Each run lands in one batch with its cursor.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::http::{Client, SyncError};
use super::source::Billing;
use super::{ObjectReport, Progress, Skipped};
use crate::domain::observed::{epoch_days, Point, Signal};
use crate::domain::{AccountId, Activity, ActivityKind};
use crate::engine::writer::Writer;
use crate::store::{Batch, Store};

/// Object names in reports and the cursor key.
const CUSTOMERS: &str = "customers";
const SUBSCRIPTIONS: &str = "subscriptions";
const INVOICES: &str = "invoices";
const EVENTS: &str = "events";

/// List page size (Stripe's largest).
const PAGE: usize = 100;
/// Stripe keeps events this many days.
pub const EVENT_DAYS: i64 = 30;
/// Pages of one list before the paging is taken as runaway.
const MAX_PAGES: usize = 100_000;

/// The events that can change what is read (at most 20 may be named).
const EVENT_TYPES: [&str; 20] = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "invoice.created",
    "invoice.finalized",
    "invoice.updated",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.overdue",
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
];

/// What a key needs, said when Stripe refuses one.
const NEED: &str = "use a secret key, or a restricted key with Read access to Customers, Subscriptions, Invoices, \
                    Products, PaymentMethods and Events (Stripe dashboard > Developers > API keys)";

/// Currencies Stripe counts in whole units (no cents).
const ZERO_DECIMAL: [&str; 16] =
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

// ---- wire format -------------------------------------------------------

/// A list answer.
#[derive(Debug, Clone, Deserialize)]
struct List<T> {
    data: Vec<T>,
    has_more: bool,
}

/// An id, or the object it names when expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Ref<T> {
    Id(String),
    Object(T),
}

#[derive(Debug, Clone, Deserialize)]
struct IdOnly {
    id: String,
}

impl Ref<IdOnly> {
    fn id(&self) -> &str {
        match self {
            Ref::Id(id) => id,
            Ref::Object(o) => &o.id,
        }
    }
}

/// A customer (a deleted one carries only its id and `deleted`).
#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    id: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    invoice_settings: Option<InvoiceSettings>,
}

#[derive(Debug, Clone, Deserialize)]
struct InvoiceSettings {
    #[serde(default)]
    default_payment_method: Option<Ref<PaymentMethod>>,
}

#[derive(Debug, Clone, Deserialize)]
struct PaymentMethod {
    #[serde(default)]
    card: Option<Card>,
}

#[derive(Debug, Clone, Deserialize)]
struct Card {
    exp_month: u32,
    exp_year: i32,
}

#[derive(Debug, Clone, Deserialize)]
struct Subscription {
    id: String,
    customer: Ref<IdOnly>,
    status: String,
    #[serde(default)]
    currency: Option<String>,
    items: List<Item>,
    #[serde(default)]
    canceled_at: Option<i64>,
    #[serde(default)]
    ended_at: Option<i64>,
    #[serde(default)]
    cancellation_details: Option<CancellationDetails>,
}

#[derive(Debug, Clone, Deserialize)]
struct CancellationDetails {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Item {
    #[serde(default)]
    quantity: Option<u64>,
    price: Price,
}

#[derive(Debug, Clone, Deserialize)]
struct Price {
    #[serde(default)]
    nickname: Option<String>,
    product: Ref<Product>,
    #[serde(default)]
    unit_amount: Option<i64>,
    currency: String,
    #[serde(default)]
    recurring: Option<Recurring>,
}

#[derive(Debug, Clone, Deserialize)]
struct Product {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Recurring {
    interval: String,
    #[serde(default = "one")]
    interval_count: u32,
    #[serde(default)]
    usage_type: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
struct Invoice {
    #[serde(default)]
    customer: Option<Ref<IdOnly>>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    due_date: Option<i64>,
    created: i64,
    #[serde(default)]
    amount_remaining: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct Event {
    id: String,
    created: i64,
    data: EventData,
}

#[derive(Debug, Clone, Deserialize)]
struct EventData {
    object: serde_json::Value,
}

impl Event {
    /// The customer an event is about.
    fn customer(&self) -> Option<String> {
        let o = &self.data.object;
        if o.get("object").and_then(|v| v.as_str()) == Some("customer") {
            return o.get("id").and_then(|v| v.as_str()).map(str::to_string);
        }
        match o.get("customer")? {
            serde_json::Value::String(s) => Some(s.clone()),
            v => v.get("id").and_then(|v| v.as_str()).map(str::to_string),
        }
    }
}

/// Where the last run stopped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    /// The newest event seen (none: the account had no event yet).
    event: Option<String>,
    /// When that event happened (or the listing began), unix seconds:
    /// past Stripe's 30 days, the events are gone and everything is listed again.
    at: i64,
    /// Accounts with an unpaid invoice past due: the oldest due day, so
    /// days past due keep counting on runs that read nothing new.
    #[serde(default)]
    overdue: BTreeMap<u64, NaiveDate>,
}

// ---- pure rules --------------------------------------------------------

/// How a customer matched, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The account, and what matched it.
    Account(AccountId, &'static str),
    /// Several accounts fit.
    Ambiguous(String),
    /// None fits.
    Unmatched(String),
}

/// The accounts a customer can match, by domain and by name.
#[derive(Debug, Default)]
pub struct Book {
    domains: HashMap<String, Vec<AccountId>>,
    names: HashMap<String, Vec<AccountId>>,
}

/// A domain as compared: lowercase, no scheme, `www.` or path.
fn domain_key(d: &str) -> String {
    let d = d.trim().to_ascii_lowercase();
    let d = d.split("://").last().unwrap_or_default();
    let d = d.split(['/', '?', '#']).next().unwrap_or_default();
    d.strip_prefix("www.").unwrap_or(d).to_string()
}

fn name_key(n: &str) -> String {
    n.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Book {
    /// Adds an account.
    pub fn add(&mut self, id: AccountId, name: &str, domain: &str) {
        let d = domain_key(domain);
        if !d.is_empty() {
            self.domains.entry(d).or_default().push(id);
        }
        let n = name_key(name);
        if !n.is_empty() {
            self.names.entry(n).or_default().push(id);
        }
    }

    /// Matches a customer: the CRM id in `by_crm` (already resolved from its
    /// metadata), else its email's domain, else its exact name.
    fn find(&self, crm: Option<(&str, Option<AccountId>)>, email: Option<&str>, name: Option<&str>) -> Match {
        let mut why = Vec::new();
        match crm {
            Some((_, Some(id))) => return Match::Account(id, "CRM id"),
            Some((v, None)) => {
                why.push(format!("its CRM id \"{}\" is no account's", v.chars().take(40).collect::<String>()))
            }
            None => {}
        }
        if let Some(domain) = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| domain_key(d)) {
            match self.domains.get(&domain).map(Vec::as_slice) {
                Some([id]) => return Match::Account(*id, "email domain"),
                Some(ids) if ids.len() > 1 => {
                    return Match::Ambiguous(format!("{} accounts have the domain {domain}", ids.len()))
                }
                _ => why.push(format!("no account has the domain {domain}")),
            }
        }
        if let Some(n) = name.map(name_key).filter(|n| !n.is_empty()) {
            match self.names.get(&n).map(Vec::as_slice) {
                Some([id]) => return Match::Account(*id, "name"),
                Some(ids) if ids.len() > 1 => {
                    return Match::Ambiguous(format!("{} accounts are named \"{}\"", ids.len(), name.unwrap_or("")))
                }
                _ => why.push("no account has its name".to_string()),
            }
        }
        if why.is_empty() {
            why.push("it has no CRM id, email or name to match".into());
        }
        Match::Unmatched(why.join("; "))
    }
}

/// An amount in a currency's smallest unit, in whole units.
fn major(minor: i64, currency: &str) -> f64 {
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        minor as f64
    } else {
        minor as f64 / 100.0
    }
}

/// A price's amount per month, in its own currency (`None`: metered or
/// tiered, no fixed amount).
fn monthly(item: &Item) -> Option<f64> {
    let r = item.price.recurring.as_ref()?;
    if r.usage_type.as_deref() == Some("metered") {
        return None;
    }
    let each = major(item.price.unit_amount?, &item.price.currency) * item.quantity.unwrap_or(1) as f64;
    let count = r.interval_count.max(1) as f64;
    let per_month = match r.interval.as_str() {
        "month" => each / count,
        "year" => each / (12.0 * count),
        "week" => each * 52.0 / 12.0 / count,
        "day" => each * 365.0 / 12.0 / count,
        _ => return None,
    };
    Some(per_month)
}

fn day_of(secs: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(secs, 0).map(|t| t.date_naive())
}

/// The last day a card is valid (the end of its expiry month).
fn card_end(c: &Card) -> Option<NaiveDate> {
    let (y, m) = if c.exp_month >= 12 { (c.exp_year + 1, 1) } else { (c.exp_year, c.exp_month + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).map(|d| d - Duration::days(1))
}

/// An involuntary cancellation.
#[derive(Debug, Clone)]
struct Churn {
    subscription: String,
    at: DateTime<Utc>,
    plan: String,
    mrr: Option<f64>,
}

/// One account's billing, summed over its customers.
#[derive(Debug, Clone, Default)]
struct Billed {
    /// MRR in the book's currency; `None` once a part is not convertible.
    mrr: Option<f64>,
    /// A part could not be converted (the account's MRR is left as it was).
    mrr_unknown: bool,
    /// Whether any subscription is live (active, past due, trialing).
    live: bool,
    seats: u64,
    /// The plan of the largest live subscription.
    plan: Option<(f64, String)>,
    oldest_due: Option<NaiveDate>,
    card: Option<NaiveDate>,
    churns: Vec<Churn>,
}

// ---- the sync ----------------------------------------------------------

/// Why the events cannot be read from the cursor.
enum Gone {
    /// Stripe no longer knows the event: list everything again.
    Relist,
    /// Anything else stops the run.
    Stop(SyncError),
}

impl From<SyncError> for Gone {
    fn from(e: SyncError) -> Gone {
        Gone::Stop(e)
    }
}

impl From<crate::store::StoreError> for Gone {
    fn from(e: crate::store::StoreError) -> Gone {
        Gone::Stop(e.into())
    }
}

/// Syncs one Stripe source.
pub struct StripeSync<'a> {
    client: &'a Client,
    store: &'a Store,
    writer: &'a Writer,
    now: DateTime<Utc>,
    crm_sources: &'a [String],
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    billing: Billing,
    products: std::sync::Mutex<HashMap<String, String>>,
}

impl<'a> StripeSync<'a> {
    /// A sync of `client`'s source into `store`, matching customers to the
    /// accounts of `crm_sources`.
    pub fn new(
        client: &'a Client,
        writer: &'a Writer,
        now: DateTime<Utc>,
        crm_sources: &'a [String],
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        let store = writer.store();
        let billing = client.source().billing.clone().unwrap_or(Billing {
            match_metadata: None,
            currency: "usd".into(),
            rates: BTreeMap::new(),
        });
        StripeSync { client, store, writer, now, crm_sources, progress, billing, products: Default::default() }
    }

    fn name(&self) -> &str {
        &self.client.source().name
    }

    /// Reads what changed (everything on the first run or with `full`) and
    /// lands it with the cursor.
    pub async fn run(&self, full: bool, reports: &mut Vec<ObjectReport>) -> Result<(), SyncError> {
        let mut report = ObjectReport::new(CUSTOMERS);
        let result = self.run_into(full, &mut report).await;
        reports.push(report);
        result
    }

    async fn run_into(&self, full: bool, report: &mut ObjectReport) -> Result<(), SyncError> {
        let cursor = match self.store.cursor(self.name(), EVENTS)? {
            Some(bytes) => serde_json::from_slice::<Cursor>(&bytes).ok(),
            None => None,
        };
        if let Some(c) = cursor.filter(|_| !full) {
            let age = self.now.timestamp() - c.at;
            if age > EVENT_DAYS * 86_400 {
                report.notes.push(format!(
                    "the last event read is {} days old and Stripe keeps events {EVENT_DAYS} days: everything was read again",
                    age / 86_400
                ));
            } else {
                match self.changes(c, report).await {
                    Ok(()) => return Ok(()),
                    Err(Gone::Stop(e)) => return Err(e),
                    Err(Gone::Relist) => report
                        .notes
                        .push("Stripe no longer knows the last event read: everything was read again".to_string()),
                }
            }
        }
        self.list_all(report).await
    }

    /// GETs a path, naming the key's variable and what it needs when Stripe refuses it.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str, object: &str) -> Result<T, SyncError> {
        self.client.get(path).await.map_err(|e| match e {
            SyncError::Unauthorized { name, status, env } => SyncError::Permission {
                name,
                vendor: "Stripe",
                status,
                need: if status == 401 {
                    format!("the key is not valid: put a secret key (sk_...) or restricted key (rk_...) from the Stripe dashboard in {env}")
                } else {
                    NEED.to_string()
                },
                env,
                object: object.to_string(),
            },
            e => e,
        })
    }

    /// Every object of a list, page by page with `starting_after`.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        object: &'static str,
        id: impl Fn(&T) -> String,
    ) -> Result<Vec<T>, SyncError> {
        let mut out: Vec<T> = Vec::new();
        let mut after: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        for _ in 0..MAX_PAGES {
            let url = match &after {
                Some(a) => format!("{path}{sep}limit={PAGE}&starting_after={a}"),
                None => format!("{path}{sep}limit={PAGE}"),
            };
            let page: List<T> = self.get(&url, object).await?;
            let last = page.data.last().map(&id);
            let n = page.data.len();
            out.extend(page.data);
            (self.progress)(Progress { source: self.name().to_string(), object, done: out.len() as u64 });
            match (page.has_more, last) {
                (true, Some(l)) if after.as_ref() != Some(&l) => after = Some(l),
                (true, _) if n == 0 => {
                    return Err(self.client.runaway(object, "an empty page says there is more"));
                }
                (true, _) => return Err(self.client.runaway(object, "the same page came back")),
                (false, _) => return Ok(out),
            }
        }
        Err(self.client.runaway(object, format!("more than {MAX_PAGES} pages")))
    }

    /// The first run, `--full`, or a cursor Stripe no longer keeps: every
    /// customer, subscription and open invoice.
    async fn list_all(&self, report: &mut ObjectReport) -> Result<(), SyncError> {
        // The newest event before listing: changes made while the lists
        // are read come again next time.
        let newest: List<Event> = self.get("/v1/events?limit=1", EVENTS).await?;
        let cursor = match newest.data.first() {
            Some(e) => Cursor { event: Some(e.id.clone()), at: e.created, overdue: BTreeMap::new() },
            None => Cursor { event: None, at: self.now.timestamp(), overdue: BTreeMap::new() },
        };
        let customers: Vec<Customer> = self
            .list(
                "/v1/customers?expand%5B%5D=data.invoice_settings.default_payment_method",
                CUSTOMERS,
                |c: &Customer| c.id.clone(),
            )
            .await?;
        let subs: Vec<Subscription> =
            self.list("/v1/subscriptions?status=all", SUBSCRIPTIONS, |s: &Subscription| s.id.clone()).await?;
        let invoices: Vec<serde_json::Value> =
            self.list("/v1/invoices?status=open", INVOICES, |i: &serde_json::Value| id_of(i)).await?;
        let invoices = invoices.into_iter().filter_map(|v| serde_json::from_value::<Invoice>(v).ok());
        let book = self.book()?;
        let mut links: Vec<(String, AccountId)> = Vec::new();
        for c in customers.iter().filter(|c| !c.deleted) {
            if let Some(id) = self.matched(&book, c, report)? {
                links.push((c.id.clone(), id));
            }
        }
        let mut by_customer: HashMap<String, (Vec<Subscription>, Vec<Invoice>)> = HashMap::new();
        for s in subs {
            by_customer.entry(s.customer.id().to_string()).or_default().0.push(s);
        }
        for i in invoices {
            if let Some(c) = i.customer.as_ref().map(|c| c.id().to_string()) {
                by_customer.entry(c).or_default().1.push(i);
            }
        }
        let customers: HashMap<&str, &Customer> = customers.iter().map(|c| (c.id.as_str(), c)).collect();
        let mut accounts: BTreeMap<AccountId, Billed> = BTreeMap::new();
        for (cus, id) in &links {
            let (subs, invoices) = by_customer.remove(cus).unwrap_or_default();
            let billed = accounts.entry(*id).or_default();
            self.add_customer(billed, customers.get(cus.as_str()).copied(), &subs, &invoices, report).await?;
        }
        let stale: Vec<String> = {
            let now: BTreeSet<&str> = links.iter().map(|(c, _)| c.as_str()).collect();
            let mut stale = Vec::new();
            for (c, id) in self.store.billing_links(self.name())? {
                if !now.contains(c.as_str()) {
                    // A customer gone (or matched elsewhere) takes its
                    // figures with it: its old account is billed for nothing
                    // unless another customer still bills it.
                    accounts.entry(id).or_default();
                    stale.push(c);
                }
            }
            stale
        };
        self.land(accounts, &links, &stale, cursor, report)
    }

    /// A later run: the events since the cursor, and the customers they touch.
    async fn changes(&self, mut cursor: Cursor, report: &mut ObjectReport) -> Result<(), Gone> {
        let types: String = EVENT_TYPES.iter().map(|t| format!("&types%5B%5D={t}")).collect();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        let mut newest = cursor.event.clone();
        for _ in 0..MAX_PAGES {
            let path = match &newest {
                Some(e) => format!("/v1/events?limit={PAGE}&ending_before={e}{types}"),
                None => format!("/v1/events?limit={PAGE}{types}"),
            };
            let page: List<Event> = match self.get(&path, EVENTS).await {
                Ok(p) => p,
                // The only thing this request names is the event: Stripe
                // answers 400/404 when it no longer has it.
                Err(SyncError::Server { status: 400 | 404, .. }) if newest.is_some() => return Err(Gone::Relist),
                Err(e) => return Err(e.into()),
            };
            // Each page is newest first; the next page is the one after its newest.
            let Some(top) = page.data.first() else { break };
            if newest.as_deref() == Some(top.id.as_str()) {
                return Err(self.client.runaway(EVENTS, "the same page came back").into());
            }
            cursor.at = top.created;
            newest = Some(top.id.clone());
            touched.extend(page.data.iter().filter_map(Event::customer));
            if !page.has_more || cursor.event.is_none() {
                // Without a starting event only the newest page matters:
                // what came before was listed.
                break;
            }
        }
        cursor.event = newest;
        let links = self.store.billing_links(self.name())?;
        let mut linked: HashMap<String, AccountId> = links.iter().cloned().collect();
        let book = self.book()?;
        let mut fetched: HashMap<String, Customer> = HashMap::new();
        let mut affected: BTreeSet<AccountId> = BTreeSet::new();
        let mut stale = Vec::new();
        for cus in &touched {
            let c: Customer = self
                .get(&format!("/v1/customers/{cus}?expand%5B%5D=invoice_settings.default_payment_method"), CUSTOMERS)
                .await?;
            if let Some(old) = linked.get(cus) {
                affected.insert(*old);
            }
            let now = if c.deleted { None } else { self.matched(&book, &c, report)? };
            match now {
                Some(id) => {
                    affected.insert(id);
                    linked.insert(cus.clone(), id);
                }
                None => {
                    if linked.remove(cus).is_some() {
                        stale.push(cus.clone());
                    }
                }
            }
            fetched.insert(cus.clone(), c);
        }
        let mut accounts: BTreeMap<AccountId, Billed> = BTreeMap::new();
        let mut new_links = Vec::new();
        for (cus, id) in linked.iter().filter(|(_, id)| affected.contains(id)) {
            let c = match fetched.remove(cus) {
                Some(c) => c,
                None => {
                    self.get(
                        &format!("/v1/customers/{cus}?expand%5B%5D=invoice_settings.default_payment_method"),
                        CUSTOMERS,
                    )
                    .await?
                }
            };
            let subs: Vec<Subscription> = self
                .list(&format!("/v1/subscriptions?customer={cus}&status=all"), SUBSCRIPTIONS, |s: &Subscription| {
                    s.id.clone()
                })
                .await?;
            let invoices: Vec<serde_json::Value> = self
                .list(&format!("/v1/invoices?customer={cus}&status=open"), INVOICES, |i: &serde_json::Value| id_of(i))
                .await?;
            let invoices: Vec<Invoice> =
                invoices.into_iter().filter_map(|v| serde_json::from_value::<Invoice>(v).ok()).collect();
            self.add_customer(accounts.entry(*id).or_default(), Some(&c), &subs, &invoices, report).await?;
            new_links.push((cus.clone(), *id));
        }
        // An account whose last customer left: nothing to say any more.
        for id in &affected {
            accounts.entry(*id).or_default();
        }
        if touched.is_empty() {
            report.notes.push("no change in Stripe since the last sync".into());
        }
        self.land(accounts, &new_links, &stale, cursor, report).map_err(Gone::Stop)
    }

    /// The accounts customers can match, read once a run.
    fn book(&self) -> Result<Book, SyncError> {
        let mut book = Book::default();
        for a in self.store.accounts() {
            let a = a?;
            book.add(a.id, &a.name, &a.domain);
        }
        Ok(book)
    }

    /// The account a customer matches, or `None` with it listed as ambiguous or unmatched.
    fn matched(&self, book: &Book, c: &Customer, report: &mut ObjectReport) -> Result<Option<AccountId>, SyncError> {
        let crm = match self.billing.match_metadata.as_ref().and_then(|k| c.metadata.get(k)) {
            Some(v) if !v.trim().is_empty() => {
                let mut found = None;
                for s in self.crm_sources {
                    if let Some(id) = self.store.external_id(s, v.trim())? {
                        found = Some(id);
                        break;
                    }
                }
                Some((v.as_str(), found))
            }
            _ => None,
        };
        let label = |why: String| Skipped {
            id: match &c.name {
                Some(n) if !n.trim().is_empty() => format!("{} ({})", c.id, n.trim()),
                _ => c.id.clone(),
            },
            reason: why,
        };
        Ok(match book.find(crm, c.email.as_deref(), c.name.as_deref()) {
            Match::Account(id, _) => Some(id),
            Match::Ambiguous(why) => {
                report.ambiguous.push(label(format!("{why}; set the {} metadata to its CRM id", self.key_hint())));
                None
            }
            Match::Unmatched(why) => {
                report.unmatched.push(label(format!("{why}; set the {} metadata to its CRM id", self.key_hint())));
                None
            }
        })
    }

    fn key_hint(&self) -> String {
        match &self.billing.match_metadata {
            Some(k) => format!("customer's {k}"),
            None => "customer's (and match_metadata in the config)".into(),
        }
    }

    /// A product's name, read once a run.
    async fn product(&self, id: &str) -> Result<String, SyncError> {
        if let Some(n) = self.products.lock().unwrap_or_else(|p| p.into_inner()).get(id) {
            return Ok(n.clone());
        }
        let p: Product = self.get(&format!("/v1/products/{id}"), "products").await?;
        let name = p.name.unwrap_or_else(|| p.id.clone());
        self.products.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), name.clone());
        Ok(name)
    }

    async fn plan_of(&self, s: &Subscription) -> Result<String, SyncError> {
        let Some(item) = s.items.data.first() else { return Ok(String::new()) };
        if let Some(n) = item.price.nickname.as_ref().filter(|n| !n.trim().is_empty()) {
            return Ok(n.trim().to_string());
        }
        match &item.price.product {
            Ref::Object(Product { name: Some(n), .. }) => Ok(n.clone()),
            Ref::Object(Product { id, .. }) | Ref::Id(id) => self.product(id).await,
        }
    }

    /// Adds one customer's subscriptions, open invoices and card to its account's sums.
    async fn add_customer(
        &self,
        billed: &mut Billed,
        customer: Option<&Customer>,
        subs: &[Subscription],
        invoices: &[Invoice],
        report: &mut ObjectReport,
    ) -> Result<(), SyncError> {
        for s in subs {
            let currency = s
                .currency
                .clone()
                .or_else(|| s.items.data.first().map(|i| i.price.currency.clone()))
                .unwrap_or_else(|| self.billing.currency.clone());
            let own: Option<f64> = s.items.data.iter().map(monthly).sum();
            let mrr = own.and_then(|m| self.billing.convert(m, &currency));
            match s.status.as_str() {
                "active" | "past_due" | "trialing" => {
                    billed.live = true;
                    billed.seats += s
                        .items
                        .data
                        .iter()
                        .filter(|i| i.price.recurring.as_ref().and_then(|r| r.usage_type.as_deref()) != Some("metered"))
                        .map(|i| i.quantity.unwrap_or(0))
                        .sum::<u64>();
                    let paying = s.status != "trialing";
                    if paying {
                        match (own, mrr) {
                            (Some(_), Some(m)) => billed.mrr = Some(billed.mrr.unwrap_or(0.0) + m),
                            (Some(_), None) => {
                                billed.mrr_unknown = true;
                                let code = currency.to_ascii_lowercase();
                                report.skipped.push(Skipped {
                                    id: s.id.clone(),
                                    reason: format!(
                                        "billed in {} and the book is in {}: add `{code} = <value of 1 {} in {}>` under [source.rates] to count its MRR",
                                        code.to_uppercase(),
                                        self.billing.currency.to_uppercase(),
                                        code.to_uppercase(),
                                        self.billing.currency.to_uppercase()
                                    ),
                                });
                            }
                            (None, _) => {
                                billed.mrr_unknown = true;
                                report.notes.push(format!(
                                    "subscription {} has a metered or tiered price: its MRR is not counted",
                                    s.id
                                ));
                            }
                        }
                    }
                    let weight = mrr.unwrap_or(0.0);
                    if billed.plan.as_ref().is_none_or(|(w, _)| weight > *w) {
                        let plan = self.plan_of(s).await?;
                        if !plan.is_empty() {
                            billed.plan = Some((weight, plan));
                        }
                    }
                }
                "canceled"
                    if s.cancellation_details.as_ref().and_then(|d| d.reason.as_deref()) == Some("payment_failed") =>
                {
                    let at = s.canceled_at.or(s.ended_at).and_then(|t| DateTime::from_timestamp(t, 0));
                    if let Some(at) = at {
                        let plan = self.plan_of(s).await?;
                        billed.churns.push(Churn { subscription: s.id.clone(), at, plan, mrr });
                    }
                }
                _ => {}
            }
        }
        for i in invoices.iter().filter(|i| i.status.as_deref() == Some("open") && i.amount_remaining > 0) {
            // An invoice charged automatically has no due date: it was due
            // when issued. One not due yet counts too: once its day passes,
            // the days past due count on by themselves, with or without an
            // event from Stripe.
            let Some(due) = day_of(i.due_date.unwrap_or(i.created)) else { continue };
            billed.oldest_due = Some(billed.oldest_due.map_or(due, |d| d.min(due)));
        }
        let card = customer
            .and_then(|c| c.invoice_settings.as_ref())
            .and_then(|s| s.default_payment_method.as_ref())
            .and_then(|pm| match pm {
                Ref::Object(PaymentMethod { card: Some(card) }) => card_end(card),
                _ => None,
            });
        if let Some(card) = card {
            billed.card = Some(billed.card.map_or(card, |c| c.min(card)));
        }
        Ok(())
    }

    /// Writes every account's figures, the links, the timeline entries and
    /// the cursor in one batch.
    fn land(
        &self,
        accounts: BTreeMap<AccountId, Billed>,
        links: &[(String, AccountId)],
        stale: &[String],
        mut cursor: Cursor,
        report: &mut ObjectReport,
    ) -> Result<(), SyncError> {
        let source = self.name();
        let today = self.now.date_naive();
        let mut obs = self.store.observe(today);
        let mut batch = Batch::default();
        let mut overdue = std::mem::take(&mut cursor.overdue);
        let at = |v: f64| [Point { day: today, value: Some(v) }];
        for (id, b) in &accounts {
            let Some(mut account) = self.store.account(*id)? else { continue };
            let mut changed = false;
            if b.live && !b.mrr_unknown {
                changed |= obs.add(*id, &Signal::Mrr, source, "stripe:subscriptions", at(b.mrr.unwrap_or(0.0)))?;
            } else if !b.live {
                changed |= obs.add(*id, &Signal::Mrr, source, "stripe:subscriptions", at(0.0))?;
            }
            if b.live && b.seats > 0 {
                changed |= obs.add(*id, &Signal::Seats, source, "stripe:subscriptions", at(b.seats as f64))?;
            }
            // The oldest unpaid invoice's due date: days past due count on
            // from it by themselves between syncs (and offline), and a newer
            // one taking its place is a change.
            let since = b.oldest_due.map_or(0.0, epoch_days);
            changed |= obs.add(*id, &Signal::OverdueSince, source, "stripe:invoices", at(since))?;
            match b.oldest_due {
                Some(d) => overdue.insert(id.0, d),
                None => overdue.remove(&id.0),
            };
            let card = Point { day: today, value: b.card.map(epoch_days) };
            changed |= obs.add(*id, &Signal::CardExpiry, source, "stripe:customers", [card])?;
            if !b.churns.is_empty() {
                let mut days: Vec<NaiveDate> = b.churns.iter().map(|c| c.at.date_naive()).collect();
                days.sort();
                let points: Vec<Point> =
                    days.iter().enumerate().map(|(n, d)| Point { day: *d, value: Some((n + 1) as f64) }).collect();
                changed |= obs.add(*id, &Signal::InvoluntaryChurn, source, "stripe:subscriptions", points)?;
            }
            for c in &b.churns {
                if self.store.churn_recorded(source, &c.subscription)? {
                    continue;
                }
                let lost = c.mrr.map(|m| format!(", {m:.0} {}/month lost", self.billing.currency.to_uppercase()));
                let plan = if c.plan.is_empty() { String::new() } else { format!(" ({})", c.plan) };
                let activity = Activity {
                    id: self.store.next_id()?,
                    account_id: *id,
                    at: c.at,
                    kind: ActivityKind::Note,
                    summary: format!(
                        "Involuntary churn: Stripe cancelled subscription {}{plan} for non-payment{}",
                        c.subscription,
                        lost.unwrap_or_default()
                    ),
                    author: "Stripe".into(),
                };
                batch.put_churn(source, &c.subscription, &activity);
                changed = true;
            }
            if let Some((_, plan)) = &b.plan {
                if account.plan != *plan {
                    account.plan = plan.clone();
                    batch.put_account(&account);
                    changed = true;
                }
            }
            if changed {
                report.counts.updated += 1;
            } else {
                report.counts.unchanged += 1;
            }
        }
        cursor.overdue = overdue;
        for (cus, id) in links {
            batch.put_billing_link(source, cus, *id);
        }
        for cus in stale {
            batch.remove_billing_link(source, cus);
        }
        obs.flush_into(&mut batch)?;
        let bytes = serde_json::to_vec(&cursor).expect("a cursor serializes");
        batch.put_cursor(source, Some((EVENTS, &bytes)));
        self.writer.run(|s| s.apply(batch))?;
        Ok(())
    }
}

/// An object's id in a raw list entry.
fn id_of(v: &serde_json::Value) -> String {
    v.get("id").and_then(|i| i.as_str()).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn item(amount: i64, qty: u64, interval: &str, count: u32, currency: &str) -> Item {
        serde_json::from_value(serde_json::json!({
            "quantity": qty,
            "price": {"product": "prod_1", "unit_amount": amount, "currency": currency,
                      "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"}}
        }))
        .unwrap()
    }

    #[test]
    fn prices_become_a_month() {
        assert_eq!(monthly(&item(5_000, 10, "month", 1, "usd")), Some(500.0));
        assert_eq!(monthly(&item(120_000, 1, "year", 1, "usd")), Some(100.0));
        assert_eq!(monthly(&item(30_000, 1, "month", 3, "usd")), Some(100.0));
        assert!((monthly(&item(1_200, 1, "week", 1, "usd")).unwrap() - 52.0).abs() < 1e-9);
        assert!((monthly(&item(1_200, 1, "day", 1, "usd")).unwrap() - 365.0).abs() < 1e-9);
        assert_eq!(monthly(&item(1_000, 2, "month", 1, "jpy")), Some(2_000.0), "yen have no cents");
        let metered: Item = serde_json::from_value(serde_json::json!({
            "price": {"product": "p", "unit_amount": 5, "currency": "usd",
                      "recurring": {"interval": "month", "interval_count": 1, "usage_type": "metered"}}
        }))
        .unwrap();
        assert_eq!(monthly(&metered), None);
    }

    #[test]
    fn a_card_is_valid_to_the_end_of_its_month() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(card_end(&Card { exp_month: 2, exp_year: 2028 }), Some(d(2028, 2, 29)));
        assert_eq!(card_end(&Card { exp_month: 12, exp_year: 2026 }), Some(d(2026, 12, 31)));
        assert_eq!(d(2026, 12, 31).year(), 2026);
    }

    #[test]
    fn customers_match_by_crm_id_then_domain_then_name() {
        let mut book = Book::default();
        book.add(AccountId(1), "Acme Inc", "https://www.acme.com/");
        book.add(AccountId(2), "Globex", "globex.com");
        book.add(AccountId(3), "Globex", "globex.io");
        book.add(AccountId(4), "Initech", "shared.com");
        book.add(AccountId(5), "Initrode", "shared.com");
        assert_eq!(book.find(Some(("9", Some(AccountId(2)))), None, None), Match::Account(AccountId(2), "CRM id"));
        assert_eq!(book.find(None, Some("ap@ACME.com"), None), Match::Account(AccountId(1), "email domain"));
        assert_eq!(book.find(None, Some("x@nowhere.net"), Some("acme  inc")), Match::Account(AccountId(1), "name"));
        assert!(
            matches!(book.find(None, None, Some("Globex")), Match::Ambiguous(w) if w.contains("2 accounts are named"))
        );
        assert!(
            matches!(book.find(None, Some("a@shared.com"), Some("Initech")), Match::Ambiguous(w) if w.contains("domain shared.com"))
        );
        match book.find(Some(("77", None)), Some("a@nowhere.net"), Some("Nobody")) {
            Match::Unmatched(w) => {
                assert!(w.contains("CRM id \"77\" is no account's") && w.contains("nowhere.net"), "{w}")
            }
            other => panic!("{other:?}"),
        }
    }
}
