//! A configured source: which vendor, where, and the name of the
//! environment variable that holds its secret (never the secret itself).

use std::collections::BTreeMap;
use std::net::IpAddr;

use reqwest::Url;
use serde::Deserialize;

use crate::domain::observed::Signal;

/// Which vendor a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// HubSpot CRM v3.
    Hubspot,
    /// Zendesk Support API v2.
    Zendesk,
    /// Stripe API v1 (billing).
    Stripe,
}

impl Kind {
    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Hubspot => "HubSpot",
            Kind::Zendesk => "Zendesk",
            Kind::Stripe => "Stripe",
        }
    }

    fn default_url(self) -> Option<&'static str> {
        match self {
            Kind::Hubspot => Some("https://api.hubapi.com"),
            // Every Zendesk account has its own host.
            Kind::Zendesk => None,
            Kind::Stripe => Some("https://api.stripe.com"),
        }
    }
}

/// One `[[source]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Name used in `--source` and the status line (defaults to the kind).
    pub name: Option<String>,
    /// Vendor.
    pub kind: Kind,
    /// API host; defaults to the vendor's.
    pub base_url: Option<String>,
    /// Environment variable holding the token.
    pub token_env: Option<String>,
    /// Zendesk: the agent email the API token belongs to.
    pub email: Option<String>,
    /// HubSpot: which company properties carry which account fields.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// HubSpot: named usage metrics, each from a company property.
    #[serde(default)]
    pub metrics: BTreeMap<String, String>,
    /// Pace requests at most this many per minute (default: the vendor's
    /// documented floor); raise it when your plan allows more.
    pub requests_per_minute: Option<u32>,
    /// Zendesk: incremental export requests per minute (default 10, the
    /// documented limit; 30 with the high-volume add-on).
    pub exports_per_minute: Option<u32>,
}

/// HubSpot company properties read into account fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyMap {
    /// ARR (a number).
    pub arr: String,
    /// Renewal date (ISO date or epoch milliseconds).
    pub renewal_date: String,
    /// Lifecycle stage (a stage key or label).
    pub stage: String,
    /// Plan name.
    pub plan: String,
    /// Licensed seats.
    pub seats: String,
    /// Segment (enterprise / mid_market / smb); derived from ARR when absent.
    pub segment: String,
    /// Region.
    pub region: String,
    /// Contract start date.
    pub contract_start: String,
    /// Health inputs, by signal: company property (only the mapped ones).
    pub signals: BTreeMap<Signal, String>,
}

impl Default for PropertyMap {
    fn default() -> Self {
        PropertyMap {
            arr: "arr".into(),
            renewal_date: "renewal_date".into(),
            stage: "cs_stage".into(),
            plan: "plan".into(),
            seats: "seats".into(),
            segment: "segment".into(),
            region: "region".into(),
            contract_start: "contract_start".into(),
            signals: BTreeMap::new(),
        }
    }
}

impl PropertyMap {
    /// Every property name to request, the vendor's standard ones included.
    pub fn requested(&self) -> Vec<String> {
        let mut v: Vec<String> =
            ["name", "domain", "industry", "hubspot_owner_id", "createdate", "hs_lastmodifieddate"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        for p in [
            &self.arr,
            &self.renewal_date,
            &self.stage,
            &self.plan,
            &self.seats,
            &self.segment,
            &self.region,
            &self.contract_start,
        ]
        .into_iter()
        .chain(self.signals.values())
        {
            if !v.contains(p) {
                v.push(p.clone());
            }
        }
        v
    }

    /// The mapped properties whose history is read on a full sync: the
    /// health inputs, seats and ARR.
    pub fn with_history(&self) -> Vec<String> {
        let mut v: Vec<String> = self.signals.values().cloned().collect();
        for p in [&self.seats, &self.arr] {
            if !v.contains(p) {
                v.push(p.clone());
            }
        }
        v.sort();
        v.dedup();
        v
    }

    /// The property carrying a signal, when mapped (seats always is).
    pub fn signal_property(&self, signal: &Signal) -> Option<&str> {
        match self.signals.get(signal) {
            Some(p) => Some(p),
            None if *signal == Signal::Seats => Some(&self.seats),
            None => None,
        }
    }
}

/// How a source authenticates; the secret is read from the environment
/// only when a request is about to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// Variable holding the token.
        token_env: String,
    },
    /// Zendesk API token: basic auth as `{email}/token`.
    ZendeskToken {
        /// Agent email.
        email: String,
        /// Variable holding the API token.
        token_env: String,
    },
}

impl Auth {
    /// The environment variable that holds the secret.
    pub fn env_name(&self) -> &str {
        match self {
            Auth::Bearer { token_env } | Auth::ZendeskToken { token_env, .. } => token_env,
        }
    }
}

/// A validated source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Unique name.
    pub name: String,
    /// Vendor.
    pub kind: Kind,
    /// API host (https, or http on loopback).
    pub base_url: Url,
    /// Credentials.
    pub auth: Auth,
    /// HubSpot property mapping.
    pub properties: PropertyMap,
    /// Requests per minute, when set in the config.
    pub requests_per_minute: Option<u32>,
    /// Zendesk incremental export requests per minute.
    pub exports_per_minute: u32,
    /// Stripe: how customers are matched and amounts converted.
    pub billing: Option<Billing>,
    /// HubSpot: the company properties the health is written to, when
    /// `[health.write_back]` picks this source.
    pub write_back: Option<crate::domain::write_back::WriteBack>,
}

/// The `[[source]]` keys of a Stripe source, as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawBilling {
    /// Customer metadata key holding the CRM company id.
    pub match_metadata: Option<String>,
    /// The book's currency (ISO code).
    pub currency: Option<String>,
    /// `[source.rates]`: value of one unit of each other currency in the
    /// book's currency.
    pub rates: BTreeMap<String, f64>,
}

/// A Stripe source's matching and currency settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Billing {
    /// Customer metadata key holding the CRM company id, when customers carry one.
    pub match_metadata: Option<String>,
    /// The book's currency, lowercase ISO 4217 ("usd").
    pub currency: String,
    /// Lowercase currency -> value of one unit in the book's currency.
    pub rates: BTreeMap<String, f64>,
}

// Rates are checked finite and positive, so equality is total.
impl Eq for Billing {}

impl Billing {
    /// Converts `amount` (major units of `currency`) into the book's
    /// currency; `None` when no rate is configured for it.
    pub fn convert(&self, amount: f64, currency: &str) -> Option<f64> {
        let c = currency.to_ascii_lowercase();
        if c == self.currency {
            return Some(amount);
        }
        self.rates.get(&c).map(|r| amount * r)
    }
}

fn currency_ok(c: &str) -> bool {
    c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic())
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(h) => h.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// A metric name: what a health model file can name as an input.
fn metric_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Why a source cannot be used, and which of its keys is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The key at fault, when one is (`None`: the table as a whole, or a
    /// key that is missing).
    pub field: Option<&'static str>,
    /// What to change, naming the source.
    pub message: String,
}

/// The keys a `[[source]]` table takes.
pub const SOURCE_KEYS: &[&str] = &[
    "name",
    "kind",
    "base_url",
    "token_env",
    "email",
    "properties",
    "metrics",
    "requests_per_minute",
    "exports_per_minute",
    "match_metadata",
    "currency",
    "rates",
];

/// The account fields and health inputs `[source.properties]` can map.
pub const PROPERTY_FIELDS: &[&str] = &[
    "arr",
    "mrr",
    "renewal_date",
    "stage",
    "plan",
    "seats",
    "segment",
    "region",
    "contract_start",
    "active_users",
    "days_past_due",
    "invoice_status",
    "onboarding_completion",
    "last_login",
    "usage_trend",
];

/// The signal a health-input field of `[source.properties]` carries.
pub fn property_signal(field: &str) -> Option<Signal> {
    Some(match field {
        "mrr" => Signal::Mrr,
        "active_users" => Signal::ActiveUsers,
        "days_past_due" => Signal::DaysPastDue,
        "invoice_status" => Signal::Overdue,
        "onboarding_completion" => Signal::Onboarding,
        "last_login" => Signal::LastLogin,
        "usage_trend" => Signal::UsageTrend,
        _ => return None,
    })
}

impl RawSource {
    /// Checks a source; the message says what to change.
    pub fn validate(self) -> Result<Source, String> {
        self.check().map_err(|e| e.message)
    }

    /// Checks a source, naming the key at fault.
    pub fn check(self) -> Result<Source, SourceError> {
        self.check_with(RawBilling::default())
    }

    /// Checks a source with its Stripe keys, naming the key at fault.
    pub fn check_with(self, raw_billing: RawBilling) -> Result<Source, SourceError> {
        let fail = |field: Option<&'static str>, message: String| SourceError { field, message };
        let name = self.name.clone().unwrap_or_else(|| format!("{:?}", self.kind).to_lowercase());
        let url_text = match (&self.base_url, self.kind.default_url()) {
            (Some(u), _) => u.clone(),
            (None, Some(d)) => d.to_string(),
            (None, None) => {
                return Err(fail(
                    None,
                    format!(
                    "source \"{name}\": base_url is required for {} (for example \"https://yourcompany.zendesk.com\")",
                    self.kind.label()
                ),
                ))
            }
        };
        // The text is not quoted back: a token pasted here must not reach the screen.
        let base_url = Url::parse(&url_text)
            .map_err(|e| fail(Some("base_url"), format!("source \"{name}\": base_url is not a URL ({e})")))?;
        match base_url.scheme() {
            "https" => {}
            "http" if is_loopback(&base_url) => {}
            _ => {
                return Err(fail(
                    Some("base_url"),
                    format!(
                        "source \"{name}\": base_url must start with https:// (plain http is only allowed to localhost)"
                    ),
                ))
            }
        }
        let default_env = match self.kind {
            Kind::Hubspot => "HUBSPOT_TOKEN",
            Kind::Zendesk => "ZENDESK_API_TOKEN",
            Kind::Stripe => "STRIPE_SECRET_KEY",
        };
        let token_env = self.token_env.clone().unwrap_or_else(|| default_env.to_string());
        if !env_name_ok(&token_env) {
            // Never echo the value: it may be the secret pasted by mistake.
            return Err(fail(
                Some("token_env"),
                format!(
                    "source \"{name}\": token_env must be the NAME of an environment variable (like {default_env}), not the token itself; put the token in that variable"
                ),
            ));
        }
        let auth = match self.kind {
            Kind::Hubspot | Kind::Stripe => Auth::Bearer { token_env },
            Kind::Zendesk => match self.email {
                Some(email) if email.contains('@') => Auth::ZendeskToken { email, token_env },
                Some(_) => {
                    return Err(fail(
                        Some("email"),
                        format!("source \"{name}\": email must be the agent's email address"),
                    ))
                }
                None => Auth::Bearer { token_env },
            },
        };
        let mut properties = PropertyMap::default();
        for (field, prop) in &self.properties {
            if let Some(signal) = property_signal(field) {
                properties.signals.insert(signal, prop.clone());
                continue;
            }
            let slot = match field.as_str() {
                "arr" => &mut properties.arr,
                "renewal_date" => &mut properties.renewal_date,
                "stage" => &mut properties.stage,
                "plan" => &mut properties.plan,
                "seats" => &mut properties.seats,
                "segment" => &mut properties.segment,
                "region" => &mut properties.region,
                "contract_start" => &mut properties.contract_start,
                other => {
                    return Err(fail(
                        Some("properties"),
                        format!(
                            "source \"{name}\": properties.{other} is not an account field (use {})",
                            PROPERTY_FIELDS.join(", ")
                        ),
                    ))
                }
            };
            *slot = prop.clone();
        }
        if self.kind != Kind::Hubspot && !self.properties.is_empty() {
            return Err(fail(
                Some("properties"),
                format!("source \"{name}\": properties apply to HubSpot sources only"),
            ));
        }
        if self.kind != Kind::Hubspot && !self.metrics.is_empty() {
            return Err(fail(Some("metrics"), format!("source \"{name}\": metrics apply to HubSpot sources only")));
        }
        for (metric, prop) in &self.metrics {
            if !metric_name_ok(metric) {
                return Err(fail(
                    Some("metrics"),
                    format!(
                        "source \"{name}\": metrics.{metric} is not a usable name; use lower-case letters, digits and _ (like reports_run)"
                    ),
                ));
            }
            if crate::domain::Measure::ALL
                .iter()
                .any(|m| !matches!(m, crate::domain::Measure::Metric(_)) && m.key() == metric)
            {
                return Err(fail(
                    Some("metrics"),
                    format!("source \"{name}\": metrics.{metric} is the name of a built-in input; give the metric another name"),
                ));
            }
            properties.signals.insert(Signal::Metric(metric.clone()), prop.clone());
        }
        if self.requests_per_minute == Some(0) {
            return Err(fail(
                Some("requests_per_minute"),
                format!("source \"{name}\": requests_per_minute must be at least 1"),
            ));
        }
        let exports_per_minute = match (self.kind, self.exports_per_minute) {
            (_, Some(0)) => {
                return Err(fail(
                    Some("exports_per_minute"),
                    format!("source \"{name}\": exports_per_minute must be at least 1"),
                ))
            }
            (Kind::Hubspot | Kind::Stripe, Some(_)) => {
                return Err(fail(
                    Some("exports_per_minute"),
                    format!("source \"{name}\": exports_per_minute applies to Zendesk sources only"),
                ))
            }
            (_, n) => n.unwrap_or(10),
        };
        let billing = billing(&name, self.kind, raw_billing)?;
        Ok(Source {
            name,
            kind: self.kind,
            base_url,
            auth,
            properties,
            requests_per_minute: self.requests_per_minute,
            exports_per_minute,
            billing,
            write_back: None,
        })
    }
}

/// Checks the Stripe keys: only a Stripe source takes them, and it always
/// gets settings (the book in US dollars unless told).
fn billing(name: &str, kind: Kind, raw: RawBilling) -> Result<Option<Billing>, SourceError> {
    let fail = |field: &'static str, message: String| SourceError { field: Some(field), message };
    if kind != Kind::Stripe {
        for (field, set) in [
            ("match_metadata", raw.match_metadata.is_some()),
            ("currency", raw.currency.is_some()),
            ("rates", !raw.rates.is_empty()),
        ] {
            if set {
                return Err(fail(field, format!("source \"{name}\": {field} applies to Stripe sources only")));
            }
        }
        return Ok(None);
    }
    let match_metadata = match raw.match_metadata {
        // Stripe metadata keys are at most 40 characters.
        Some(k) if k.trim().is_empty() || k.chars().count() > 40 || k.contains(['[', ']']) => {
            return Err(fail(
                "match_metadata",
                format!(
                    "source \"{name}\": match_metadata must be the customer metadata key holding the CRM company id (up to 40 characters, like \"hubspot_company_id\")"
                ),
            ))
        }
        k => k.map(|k| k.trim().to_string()),
    };
    let currency = match raw.currency {
        Some(c) if !currency_ok(c.trim()) => {
            return Err(fail(
                "currency",
                format!("source \"{name}\": currency must be a three-letter currency code like \"usd\" or \"eur\""),
            ))
        }
        Some(c) => c.trim().to_ascii_lowercase(),
        None => "usd".to_string(),
    };
    let mut rates = BTreeMap::new();
    for (code, rate) in raw.rates {
        if !currency_ok(&code) {
            return Err(fail(
                "rates",
                format!(
                    "source \"{name}\": rates are keyed by three-letter currency codes (eur = 1.08), not \"{}\"",
                    code.chars().take(12).collect::<String>()
                ),
            ));
        }
        if !(rate.is_finite() && rate > 0.0) {
            return Err(fail(
                "rates",
                format!(
                    "source \"{name}\": rates.{code} must be a number above 0 (what one {} is worth in {})",
                    code.to_uppercase(),
                    currency.to_uppercase()
                ),
            ));
        }
        rates.insert(code.to_ascii_lowercase(), rate);
    }
    Ok(Some(Billing { match_metadata, currency, rates }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: Kind) -> RawSource {
        RawSource {
            metrics: Default::default(),
            name: None,
            kind,
            base_url: None,
            token_env: None,
            email: None,
            properties: BTreeMap::new(),
            requests_per_minute: None,
            exports_per_minute: None,
        }
    }

    #[test]
    fn hubspot_defaults() {
        let s = raw(Kind::Hubspot).validate().unwrap();
        assert_eq!(s.name, "hubspot");
        assert_eq!(s.base_url.as_str(), "https://api.hubapi.com/");
        assert_eq!(s.auth, Auth::Bearer { token_env: "HUBSPOT_TOKEN".into() });
        assert!(s.properties.requested().contains(&"arr".to_string()));
    }

    #[test]
    fn https_only_unless_loopback() {
        let with = |url: &str| RawSource { base_url: Some(url.into()), ..raw(Kind::Hubspot) }.validate();
        assert!(with("http://api.example.com").unwrap_err().contains("must start with https://"));
        assert!(with("http://127.0.0.1:8080").is_ok());
        assert!(with("http://localhost:9").is_ok());
        assert!(with("http://[::1]:9").is_ok());
        assert!(with("ftp://x").is_err());
        assert!(with("not a url").unwrap_err().contains("is not a URL"));
    }

    #[test]
    fn a_pasted_secret_is_refused_and_not_echoed() {
        let secret = "pat-na1-1234abcd-ffff";
        let err = RawSource { token_env: Some(secret.into()), ..raw(Kind::Hubspot) }.validate().unwrap_err();
        assert!(err.contains("NAME of an environment variable"));
        assert!(!err.contains(secret));
    }

    #[test]
    fn check_names_the_key_at_fault_and_never_echoes_the_url() {
        let secret = "pat-na1-1234abcd-ffff";
        let e = RawSource { base_url: Some(secret.into()), ..raw(Kind::Hubspot) }.check().unwrap_err();
        assert_eq!(e.field, Some("base_url"));
        assert!(!e.message.contains(secret), "{}", e.message);
        let e = RawSource { token_env: Some(secret.into()), ..raw(Kind::Hubspot) }.check().unwrap_err();
        assert_eq!(e.field, Some("token_env"));
        let e = RawSource { exports_per_minute: Some(3), ..raw(Kind::Hubspot) }.check().unwrap_err();
        assert_eq!(e.field, Some("exports_per_minute"));
        assert_eq!(raw(Kind::Zendesk).check().unwrap_err().field, None, "a missing key: the table is at fault");
    }

    #[test]
    fn zendesk_needs_a_host_and_takes_an_email() {
        assert!(raw(Kind::Zendesk).validate().unwrap_err().contains("base_url is required"));
        let s = RawSource {
            base_url: Some("https://acme.zendesk.com".into()),
            email: Some("me@acme.com".into()),
            ..raw(Kind::Zendesk)
        }
        .validate()
        .unwrap();
        assert_eq!(s.auth, Auth::ZendeskToken { email: "me@acme.com".into(), token_env: "ZENDESK_API_TOKEN".into() });
    }

    #[test]
    fn property_mapping() {
        let mut props = BTreeMap::new();
        props.insert("arr".to_string(), "annual_recurring_revenue".to_string());
        let s = RawSource { properties: props.clone(), ..raw(Kind::Hubspot) }.validate().unwrap();
        assert_eq!(s.properties.arr, "annual_recurring_revenue");
        props.insert("colour".to_string(), "x".to_string());
        assert!(RawSource { properties: props, ..raw(Kind::Hubspot) }.validate().unwrap_err().contains("colour"));
    }
}
