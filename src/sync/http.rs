//! The one HTTP client every source uses: auth, timeouts, retries with
//! jittered exponential backoff on 5xx, connection errors and 429, a shared
//! rate limiter, and errors that say what went wrong and what to do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ratelimit::RateLimiter;
use super::source::{Auth, Source};
use crate::demo::rng::Rng;
use crate::store::StoreError;

/// Why a sync stopped, worded for the CSM. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The secret's environment variable is not set.
    #[error("{name}: the environment variable {env} is not set; export it with your token (the token never goes in the config)")]
    MissingSecret {
        /// Source name.
        name: String,
        /// Variable name.
        env: String,
    },
    /// No connection could be made, or it kept failing.
    #[error("{name}: cannot reach {host} ({detail}); you may be offline — the cache stays usable, try again later")]
    Unreachable {
        /// Source name.
        name: String,
        /// Host.
        host: String,
        /// What failed.
        detail: String,
    },
    /// 401 or 403.
    #[error("{name}: the server refused the credentials (HTTP {status}); check the token in {env} and its scopes")]
    Unauthorized {
        /// Source name.
        name: String,
        /// Status code.
        status: u16,
        /// Variable holding the token.
        env: String,
    },
    /// A key that is valid but may not read an object (a restricted key
    /// without that permission).
    #[error("{name}: {vendor} refused the key in {env} when reading {object} (HTTP {status}); {need}")]
    Permission {
        /// Source name.
        name: String,
        /// Vendor name.
        vendor: &'static str,
        /// Status code.
        status: u16,
        /// Variable holding the key.
        env: String,
        /// What was being read.
        object: String,
        /// What the key needs, in words.
        need: String,
    },
    /// Rate limited beyond what retrying can fix.
    #[error("{name}: rate limited ({detail}); the sync will resume from where it stopped")]
    RateLimited {
        /// Source name.
        name: String,
        /// Which limit.
        detail: String,
    },
    /// A 5xx or unexpected status that did not clear with retries.
    #[error("{name}: the server answered HTTP {status} for {path} after {attempts} attempts; try again later")]
    Server {
        /// Source name.
        name: String,
        /// Status code.
        status: u16,
        /// Request path.
        path: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The body is not what the vendor documents.
    #[error("{name}: the answer to {path} is not what {vendor} documents ({detail})")]
    BadBody {
        /// Source name.
        name: String,
        /// Vendor name.
        vendor: &'static str,
        /// Request path.
        path: String,
        /// Parser detail.
        detail: String,
    },
    /// A vendor's paging did not end: a cursor that repeats, empty pages
    /// that go on, far more pages than records. The run stops there.
    #[error(
        "{name}: {vendor} kept paging {object} without reaching the end ({detail}); the sync stopped there and keeps what it read. Run `cockpit sync` again later; if it happens again, {vendor}'s side is misbehaving: tell their support"
    )]
    Runaway {
        /// Source name.
        name: String,
        /// Vendor name.
        vendor: &'static str,
        /// The object type being read ("companies", "tickets").
        object: String,
        /// What went wrong.
        detail: String,
    },
    /// The cache could not be written.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// First backoff.
    pub base: Duration,
    /// Longest backoff.
    pub cap: Duration,
    /// Time allowed for one request, body included.
    pub timeout: Duration,
    /// Longest wait a 429 may ask for before the sync gives up for now.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// Counters for the summary.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Of which retries.
    pub retries: AtomicU64,
}

/// A source's client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    source: Arc<Source>,
    limiter: Arc<RateLimiter>,
    policy: RetryPolicy,
    counters: Arc<Counters>,
    jitter: Arc<Mutex<Rng>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("source", &self.source.name).finish()
    }
}

fn vendor(source: &Source) -> &'static str {
    source.kind.label()
}

impl Client {
    /// A client for one source, limited to `max` requests per `per`.
    pub fn new(source: Source, policy: RetryPolicy, max: usize, per: Duration) -> Client {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("cockpit/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64);
        Client {
            http,
            source: Arc::new(source),
            limiter: Arc::new(RateLimiter::new(max, per)),
            policy,
            counters: Arc::new(Counters::default()),
            jitter: Arc::new(Mutex::new(Rng::new(seed, 1))),
        }
    }

    /// The source this client talks to.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The error for paging that does not end, on `object`.
    pub fn runaway(&self, object: &str, detail: impl Into<String>) -> SyncError {
        SyncError::Runaway {
            name: self.source.name.clone(),
            vendor: vendor(&self.source),
            object: object.to_string(),
            detail: detail.into(),
        }
    }

    /// Request and retry counts so far.
    pub fn counters(&self) -> (u64, u64) {
        (self.counters.requests.load(Ordering::Relaxed), self.counters.retries.load(Ordering::Relaxed))
    }

    fn secret(&self) -> Result<String, SyncError> {
        let env = self.source.auth.env_name();
        match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => Err(SyncError::MissingSecret { name: self.source.name.clone(), env: env.to_string() }),
        }
    }

    /// A URL on the source's host.
    pub fn url(&self, path_and_query: &str) -> Result<Url, SyncError> {
        self.source.base_url.join(path_and_query).map_err(|e| SyncError::BadBody {
            name: self.source.name.clone(),
            vendor: vendor(&self.source),
            path: path_and_query.to_string(),
            detail: format!("cannot build the URL: {e}"),
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.policy.base.saturating_mul(1 << attempt.min(16));
        let capped = exp.min(self.policy.cap);
        let f = 0.5 + 0.5 * self.jitter.lock().map(|mut r| r.f32()).unwrap_or(1.0);
        capped.mul_f32(f)
    }

    /// GETs JSON.
    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, SyncError> {
        self.request::<(), T>(Method::GET, path_and_query, None).await
    }

    /// POSTs JSON and reads JSON.
    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, SyncError> {
        self.request(Method::POST, path, Some(body)).await
    }

    async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SyncError> {
        let url = self.url(path)?;
        let name = self.source.name.clone();
        let host = url.host_str().unwrap_or("?").to_string();
        let secret = self.secret()?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.limiter.acquire().await;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 1 {
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            let mut req = self.http.request(method.clone(), url.clone());
            req = match &self.source.auth {
                Auth::Bearer { .. } => req.header(AUTHORIZATION, format!("Bearer {secret}")),
                Auth::ZendeskToken { email, .. } => req.basic_auth(format!("{email}/token"), Some(&secret)),
            };
            if let Some(b) = body {
                req = req.json(b);
            }
            let last = attempt >= self.policy.attempts;
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, headers, bytes)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let (status, headers, bytes) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    let detail = if e.is_timeout() {
                        format!("no answer within {} s", self.policy.timeout.as_secs_f32())
                    } else if e.is_connect() {
                        "connection failed".to_string()
                    } else {
                        "the connection dropped".to_string()
                    };
                    tracing::warn!(source = %name, attempt, %detail, "request failed");
                    if last {
                        return Err(SyncError::Unreachable { name, host, detail });
                    }
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
            };
            if status.is_success() {
                return serde_json::from_slice(&bytes).map_err(|e| SyncError::BadBody {
                    name: name.clone(),
                    vendor: vendor(&self.source),
                    path: url.path().to_string(),
                    detail: e.to_string(),
                });
            }
            match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(SyncError::Unauthorized {
                        name,
                        status: status.as_u16(),
                        env: self.source.auth.env_name().to_string(),
                    })
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = rate_limit_wait(&headers, &bytes);
                    match wait {
                        Wait::Daily => {
                            return Err(SyncError::RateLimited {
                                name,
                                detail: "the daily API limit is used up; it resets at midnight (vendor's time zone)"
                                    .into(),
                            })
                        }
                        Wait::For(d) if d > self.policy.max_wait => {
                            return Err(SyncError::RateLimited {
                                name,
                                detail: format!("the server asks to wait {} s", d.as_secs()),
                            })
                        }
                        _ if last => {
                            return Err(SyncError::RateLimited {
                                name,
                                detail: format!("still limited after {attempt} attempts"),
                            })
                        }
                        Wait::For(d) => self.limiter.pause(d).await,
                        Wait::Backoff => self.limiter.pause(self.backoff(attempt)).await,
                    }
                    tracing::info!(source = %name, attempt, "rate limited; waiting");
                }
                s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                    tracing::warn!(source = %name, attempt, status = s.as_u16(), "server error");
                    // Stripe says when a retry cannot help.
                    let hopeless = headers.get("stripe-should-retry").is_some_and(|v| v.as_bytes() == b"false");
                    if last || hopeless {
                        return Err(SyncError::Server {
                            name,
                            status: s.as_u16(),
                            path: url.path().to_string(),
                            attempts: attempt,
                        });
                    }
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                s => {
                    return Err(SyncError::Server {
                        name,
                        status: s.as_u16(),
                        path: url.path().to_string(),
                        attempts: attempt,
                    })
                }
            }
        }
    }
}

/// Why a single request got no answer to act on. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum SendFailure {
    /// Nothing could be sent: the token is missing or the URL is wrong.
    #[error("{0}")]
    Setup(SyncError),
    /// No connection was made, so the request never left.
    #[error("cannot reach {host} ({detail})")]
    NotSent {
        /// Host.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The request may have arrived (a timeout, or the connection dropped
    /// after it left): whether it took effect is unknown.
    #[error("no answer from {host} ({detail})")]
    Ambiguous {
        /// Host.
        host: String,
        /// What failed.
        detail: String,
    },
}

/// A vendor's answer to one request, whatever its status.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Response body.
    pub body: Vec<u8>,
}

impl Client {
    /// Sends one request once, with the source's auth, through its rate
    /// limiter, and hands back whatever status came: the caller decides
    /// (a write must not be repeated blindly, so nothing is retried here).
    pub async fn send_once(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, SendFailure> {
        let url = self.url(path_and_query).map_err(SendFailure::Setup)?;
        let host = url.host_str().unwrap_or("?").to_string();
        let secret = self.secret().map_err(SendFailure::Setup)?;
        self.limiter.acquire().await;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self.http.request(method, url);
        req = match &self.source.auth {
            Auth::Bearer { .. } => req.header(AUTHORIZATION, format!("Bearer {secret}")),
            Auth::ZendeskToken { email, .. } => req.basic_auth(format!("{email}/token"), Some(&secret)),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        let failed = |e: reqwest::Error| {
            // A connect error means the request never left; anything after
            // that (a timeout, a reset) leaves its effect unknown.
            if e.is_connect() {
                SendFailure::NotSent { host: host.clone(), detail: "connection failed".into() }
            } else if e.is_timeout() {
                let detail = format!("no answer within {} s", self.policy.timeout.as_secs_f32());
                SendFailure::Ambiguous { host: host.clone(), detail }
            } else {
                SendFailure::Ambiguous { host: host.clone(), detail: "the connection dropped".into() }
            }
        };
        let resp = req.send().await.map_err(failed)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(failed)?.to_vec();
        Ok(Answer { status, headers, body })
    }
}

/// What a 429 asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// A stated wait.
    For(Duration),
    /// No hint: back off.
    Backoff,
    /// A daily limit: retrying today is pointless.
    Daily,
}

/// Reads `Retry-After` (Zendesk), or HubSpot's body `policyName` and
/// `X-HubSpot-RateLimit-*` headers.
fn rate_limit_wait(headers: &HeaderMap, body: &[u8]) -> Wait {
    if let Some(secs) =
        headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Wait::For(Duration::from_secs_f64(secs.max(0.0)));
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if v.get("policyName").and_then(|p| p.as_str()) == Some("DAILY") {
            return Wait::Daily;
        }
    }
    let header_num = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match (header_num("x-hubspot-ratelimit-remaining"), header_num("x-hubspot-ratelimit-interval-milliseconds")) {
        (Some(0), Some(ms)) => Wait::For(Duration::from_millis(ms)),
        _ => Wait::Backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_every_kind_of_429() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(&h, b""), Wait::Backoff);
        h.insert("x-hubspot-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-hubspot-ratelimit-interval-milliseconds", HeaderValue::from_static("10000"));
        assert_eq!(rate_limit_wait(&h, b"{}"), Wait::For(Duration::from_secs(10)));
        let daily = br#"{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY"}"#;
        assert_eq!(rate_limit_wait(&h, daily), Wait::Daily);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(&h, b""), Wait::For(Duration::from_secs(7)));
    }
}
