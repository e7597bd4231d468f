//! Health writes (`[health.write_back]`) go out together: up to 100
//! companies a `batch/update` call. Setting a property twice is harmless,
//! so an entry whose answer never came is simply sent again. A 207 answer
//! lands some and refuses others: each entry gets its own outcome, with
//! HubSpot's words for a refused one.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Map, Value};

use super::{crm, exchange, judge, record, Outcome, Problem, PushPolicy, PushReport, Step};
use crate::domain::outbox::OutboxEntry;
use crate::domain::text::sanitize;
use crate::domain::write_back::{HealthValues, BATCH_LIMIT};
use crate::engine::writer::Writer;
use crate::store::StoreError;
use crate::sync::http::Client;

/// One claimed entry on its way: as it was before the claim, its company.
struct Claimed {
    before: OutboxEntry,
    company: String,
    properties: Map<String, Value>,
}

/// Pushes the due health entries through `client` (the source
/// `[health.write_back]` picks), at most `policy.batch` calls, each of at
/// most 100 companies. Without such a source they wait.
pub(super) async fn push(
    writer: &Writer,
    client: Option<&Client>,
    due: Vec<OutboxEntry>,
    clock: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    policy: &PushPolicy,
    report: &mut PushReport,
) -> Result<(), StoreError> {
    let store = writer.store();
    let Some((client, wb)) = client.and_then(|c| Some((c, c.source().write_back.clone()?))) else {
        let why = "[health.write_back] names no usable HubSpot source; it is sent once the config has one";
        report.outcomes.extend(due.iter().map(|e| (e.id, Outcome::Waiting(why.into()))));
        return Ok(());
    };
    let source = client.source().name.clone();
    let mut chunk: Vec<Claimed> = Vec::new();
    let mut companies: BTreeSet<String> = BTreeSet::new();
    let mut calls = 0;
    for listed in due {
        if calls >= policy.batch {
            break;
        }
        let Some(values) = HealthValues::from_write(&listed.write) else { continue };
        let company = store.external_of(listed.account_id, &source)?;
        // Two accounts on one company: HubSpot refuses a batch naming an id
        // twice, so the second waits for the next push.
        if company.as_ref().is_some_and(|c| companies.contains(c)) {
            continue;
        }
        let now = clock();
        let Some(before) = writer.run(|s| s.outbox_claim(listed.id, now))? else { continue };
        let Some(company) = company else {
            let why = format!(
                "this account is not linked to a HubSpot company (source \"{source}\"); its health stays in the \
                 cockpit: discard the entry"
            );
            let outcome = record(writer, client, &before, Step::Send(Problem::Refused(why)), now, policy)?;
            report.outcomes.push((before.id, outcome));
            continue;
        };
        companies.insert(company.clone());
        chunk.push(Claimed { before, company, properties: wb.properties(&values) });
        if chunk.len() == BATCH_LIMIT {
            send(writer, client, std::mem::take(&mut chunk), clock(), policy, report).await?;
            companies.clear();
            calls += 1;
        }
    }
    if !chunk.is_empty() {
        send(writer, client, chunk, clock(), policy, report).await?;
    }
    Ok(())
}

/// Sends one batch and records each entry's outcome.
async fn send(
    writer: &Writer,
    client: &Client,
    chunk: Vec<Claimed>,
    now: DateTime<Utc>,
    policy: &PushPolicy,
    report: &mut PushReport,
) -> Result<(), StoreError> {
    let inputs: Vec<(String, Map<String, Value>)> =
        chunk.iter().map(|c| (c.company.clone(), c.properties.clone())).collect();
    let body = crm::batch_update(&inputs);
    let answer = match exchange(client, Method::POST, crm::BATCH_UPDATE, Some(&body)).await {
        Ok(a) => judge(client, a),
        Err(p) => Err(p),
    };
    let steps: Vec<Step> = match answer {
        Err(p) => chunk.iter().map(|_| Step::Send(p.clone())).collect(),
        Ok(answer) => {
            let a = crm::batch_answer(&answer);
            let complete = a.failed.is_empty() && a.unplaced.is_empty();
            chunk
                .iter()
                .map(|c| {
                    if a.updated.contains(&c.company) || (complete && a.updated.is_empty()) {
                        Step::Sent {
                            remote: c.company.clone(),
                            found: false,
                            rebase: None,
                            resent: None,
                            note: None,
                            duplicate: false,
                        }
                    } else if let Some(m) = a.failed.get(&c.company) {
                        Step::Send(Problem::Refused(refused(m, c.before.id)))
                    } else if !a.unplaced.is_empty() {
                        Step::Send(Problem::Refused(refused(&a.unplaced.join("; "), c.before.id)))
                    } else {
                        // Neither updated nor refused: setting it again is harmless.
                        Step::Send(Problem::Transient("HubSpot's answer did not mention this company".into()))
                    }
                })
                .collect()
        }
    };
    for (c, step) in chunk.iter().zip(steps) {
        let outcome = record(writer, client, &c.before, step, now, policy)?;
        report.outcomes.push((c.before.id, outcome));
    }
    Ok(())
}

/// A refusal in HubSpot's words, cleaned and cut, with what to do.
fn refused(vendor_said: &str, id: u64) -> String {
    let clean = sanitize(vendor_said.trim()).into_owned();
    let said = match clean.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    };
    format!(
        "HubSpot refused the health update ({said}); check the company and the [health.write_back] properties in \
         HubSpot, then retry it (`cockpit outbox retry {id}`) or discard it"
    )
}
