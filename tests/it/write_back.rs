//! The score back in HubSpot: a workspace synced from a fake HubSpot on
//! 127.0.0.1 runs its daily pass with `[health.write_back]`, queues each
//! account's health and pushes it in `companies/batch/update` calls of at
//! most 100, as documented: what is written, what is not queued again, a
//! 207 partial failure and a 429.

use crate::fake;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cockpit::domain::flags::FlagRules;
use cockpit::domain::health_model::Model;
use cockpit::domain::outbox::{OutboxEntry, OutboxState, Write};
use cockpit::domain::write_back::WriteBack;
use cockpit::domain::{AccountId, Bands};
use cockpit::engine::write_back::{queue_health_writes, WriteBackRules};
use cockpit::store::{HealthRules, Store};
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::push::{self, Outcome, PushPolicy, PushReport};
use cockpit::sync::source::{Kind, Source};
use cockpit::sync::{self, Options};
use fake::{Crm, Fault, Shared};
use serde_json::Value;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Companies in the fake: 1..=205, the last one churned.
const COMPANIES: u64 = 205;
const CHURNED: u64 = 205;
/// A company deleted at HubSpot after the sync.
const DELETED: u64 = 7;

struct Env {
    crm: Shared,
    source: Source,
    _tmp: tempfile::TempDir,
    store: Store,
    model: Model,
    now: DateTime<Utc>,
}

fn quick() -> PushPolicy {
    PushPolicy {
        http: RetryPolicy {
            attempts: 1,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            timeout: Duration::from_millis(2000),
            max_wait: Duration::from_secs(1),
        },
        ..PushPolicy::default()
    }
}

fn write_back() -> WriteBack {
    WriteBack {
        score: Some("cockpit_health_score".into()),
        band: Some("cockpit_health_band".into()),
        reason: Some("cockpit_health_reason".into()),
        source: None,
    }
}

/// A synced workspace whose HubSpot source writes the health back, after
/// its daily pass.
async fn env() -> Env {
    let token_env = format!("COCKPIT_TEST_WRITE_BACK_{}", NEXT.fetch_add(1, Ordering::SeqCst));
    std::env::set_var(&token_env, "pat-write-secret");
    let mut crm = Crm { token: "pat-write-secret".into(), ..Crm::default() };
    for id in 1..=COMPANIES {
        crm.add(id, &format!("Company {id:04}"), 1000 * id, 1_700_000_000_000 + 1000 * id as i64);
    }
    crm.companies.get_mut(&CHURNED).unwrap().props.insert("cs_stage".into(), "churned".into());
    let crm: Shared = Arc::new(Mutex::new(crm));
    let base = fake::start(crm.clone()).await;
    let mut source = fake::source("crm", Kind::Hubspot, base, &token_env, None);
    source.write_back = Some(write_back());
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    let opts = Options { full: false, only: None, policy: Some(quick().http) };
    let reports = sync::run(&store, std::slice::from_ref(&source), &opts, &|_| {}).await.unwrap();
    assert!(reports[0].error.is_none(), "{:?}", reports[0].error);
    let env = Env { crm, source, _tmp: tmp, store, model: Model::builtin(), now: Utc::now() };
    let (flags, bands) = (FlagRules::default(), Bands::default());
    env.store.daily_health(HealthRules { model: &env.model, flags: &flags, bands: &bands }, env.now).unwrap();
    env
}

impl Env {
    fn queue(&self, bands: Bands) -> u64 {
        let wb = write_back();
        let rules = WriteBackRules { write_back: &wb, model: &self.model, bands: &bands };
        queue_health_writes(&self.store, &rules, self.now).unwrap().queued
    }

    async fn push(&self, at: DateTime<Utc>) -> PushReport {
        let clock = move || at;
        push::push(&self.store, std::slice::from_ref(&self.source), &clock, &quick()).await.unwrap()
    }

    fn updates(&self) -> Vec<Value> {
        self.crm.lock().unwrap().updates.clone()
    }

    fn calls(&self) -> usize {
        self.crm.lock().unwrap().log.iter().filter(|l| l.starts_with("POST batch_update companies")).count()
    }

    fn health(&self) -> Vec<OutboxEntry> {
        self.store.outbox().unwrap().into_iter().filter(|e| e.write.is_health()).collect()
    }

    fn account_of(&self, company: u64) -> AccountId {
        self.store
            .accounts()
            .map(Result::unwrap)
            .find(|a| self.store.external_of(a.id, "crm").unwrap().as_deref() == Some(&company.to_string()))
            .unwrap()
            .id
    }

    fn company_prop(&self, company: u64, prop: &str) -> Option<String> {
        self.crm.lock().unwrap().companies[&company].props.get(prop).cloned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_goes_back_in_batches_of_100_and_only_when_it_changed() {
    let e = env().await;
    assert_eq!(e.queue(Bands::default()), COMPANIES - 1, "every live account once; the churned one is not written");
    e.crm.lock().unwrap().companies.remove(&DELETED);

    let report = e.push(e.now).await;
    let sizes: Vec<usize> = e.updates().iter().map(|u| u["inputs"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, [100, 100, 4], "one call per 100 accounts");
    assert_eq!(report.count(|o| matches!(o, Outcome::Sent(_))), COMPANIES as usize - 2, "{:?}", report.summary());
    assert_eq!(report.count(|o| matches!(o, Outcome::Failed(_))), 1);
    let inputs: Vec<Value> = e.updates().iter().flat_map(|u| u["inputs"].as_array().unwrap().clone()).collect();
    assert!(inputs.iter().all(|i| i["id"] != CHURNED.to_string().as_str()), "the churned company is not written");

    // What company 1 now holds is its account's health, as the cockpit shows it.
    let row = e.store.row(e.account_of(1)).unwrap().unwrap();
    let score = row.health.expect("scored");
    assert_eq!(e.company_prop(1, "cockpit_health_score"), Some(score.to_string()));
    assert_eq!(e.company_prop(1, "cockpit_health_band"), Some(Bands::default().band(score).key().to_string()));
    let reason = e.company_prop(1, "cockpit_health_reason").expect("a reason");
    assert!(!reason.is_empty() && !reason.contains('{'), "{reason}");
    let one = inputs.iter().find(|i| i["id"] == "1").unwrap();
    assert_eq!(one["properties"].as_object().unwrap().len(), 3, "{one}");

    // The partial failure: just the deleted company's entry is left, with HubSpot's words.
    let left: Vec<OutboxEntry> = e.health().into_iter().filter(|x| !x.state.landed()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].account_id, e.account_of(DELETED));
    let OutboxState::Failed { reason } = &left[0].state else { panic!("{:?}", left[0].state) };
    assert!(reason.contains("Could not get some COMPANY objects"), "{reason}");

    // Nothing changed: nothing queued, nothing sent.
    assert_eq!(e.queue(Bands::default()), 0);
    let calls = e.calls();
    let report = e.push(e.now + chrono::Duration::minutes(1)).await;
    assert_eq!((e.calls(), report.summary()), (calls, None), "no call when nothing changed");

    // Every band moves: every account scores 100 here (no input costs
    // points), so thresholds above it (no valid config, just a way to move
    // every band at once) make them all yellow. All queued again, one each.
    let strict = Bands { green: 101, yellow: 100 };
    assert_eq!(e.queue(strict), COMPANIES - 1);
    assert_eq!(e.health().len(), COMPANIES as usize - 1, "a newer write replaces the older one");
    // HubSpot rate limits the first call: those 100 wait, the rest go.
    e.crm.lock().unwrap().faults.push_back(Fault::Status(
        429,
        vec![("Retry-After", "1".into())],
        r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","category":"RATE_LIMITS"}"#
            .into(),
    ));
    let before = e.updates().len();
    let report = e.push(e.now + chrono::Duration::minutes(2)).await;
    assert_eq!(report.count(|o| matches!(o, Outcome::Retrying(_))), 100, "{:?}", report.summary());
    assert_eq!(e.updates().len() - before, 2, "the two calls after the 429 went through");
    assert_eq!(e.company_prop(150, "cockpit_health_band").as_deref(), Some("yellow"));
    let waiting = e.health().into_iter().filter(|x| x.state == OutboxState::Pending).count();
    assert_eq!(waiting, 100, "the rate-limited ones wait for their backoff");

    // After the backoff they go in one call.
    let report = e.push(e.now + chrono::Duration::minutes(10)).await;
    assert_eq!(e.updates().len() - before, 3);
    // The deleted company was among them: refused again, alone.
    assert_eq!(report.count(|o| matches!(o, Outcome::Sent(_))), 99, "{:?}", report.summary());
    assert_eq!(report.count(|o| matches!(o, Outcome::Failed(_))), 1);
    assert_eq!(e.company_prop(1, "cockpit_health_band").as_deref(), Some("yellow"));
    let entries = e.health();
    assert!(entries.iter().all(|x| matches!(x.write, Write::Health { .. })));
    assert_eq!(entries.iter().filter(|x| !x.state.landed()).count(), 1, "only the deleted company's is left");
}
