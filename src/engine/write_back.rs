//! Queues the score back to the CRM after the daily pass (`[health.write_back]`):
//! one health write per account whose score, band or top reason changed
//! since the last one queued for it, replacing any older one not yet on
//! its way.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};

use crate::domain::explain::explain;
use crate::domain::health_model::Model;
use crate::domain::outbox::OutboxEntry;
use crate::domain::write_back::{superseded, HealthValues, WriteBack};
use crate::domain::{AccountId, Bands};
use crate::store::codec::encode;
use crate::store::pages::{page_of, Page};
use crate::store::{keys, Batch, Result, Store, YearInputs, YearSeries};

/// What queueing the health writes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteBackReport {
    /// Accounts whose health was queued for the CRM.
    pub queued: u64,
    /// Older health writes the new ones replaced.
    pub replaced: u64,
    /// Accounts scored today whose written values did not change.
    pub unchanged: u64,
}

/// What decides the values written: when they changed enough
/// (`[health.write_back]`), the model that explains the score, the bands.
#[derive(Debug, Clone, Copy)]
pub struct WriteBackRules<'a> {
    /// When a change is worth writing, and where it goes.
    pub write_back: &'a WriteBack,
    /// The model whose top reason is written.
    pub model: &'a Model,
    /// The bands the score is written in.
    pub bands: &'a Bands,
}

/// Queues a health write for every live account scored on `now`'s day
/// whose written values changed since the last one queued for it
/// (accounts that churned and support organizations of their own are
/// not written). A newer write replaces the account's older ones that
/// have not left (see `superseded`), in the same batch.
pub fn queue_health_writes(store: &Store, rules: &WriteBackRules<'_>, now: DateTime<Utc>) -> Result<WriteBackReport> {
    let WriteBackRules { write_back: wb, model, bands } = *rules;
    let today = now.date_naive();
    let _w = store.write_lock();
    let mut report = WriteBackReport::default();
    let mut older: BTreeMap<AccountId, Vec<OutboxEntry>> = BTreeMap::new();
    for e in store.scan::<OutboxEntry>(keys::OUTBOX, "outbox entry") {
        let e = e?;
        if e.write.is_health() {
            older.entry(e.account_id).or_default().push(e);
        }
    }
    let mut batch = Batch::default();
    let mut page: Option<(u32, Page<YearInputs>, Page<YearSeries>)> = None;
    for account in store.accounts() {
        let account = account?;
        let id = account.id;
        if !account.stage.is_active() || store.contains(&keys::with_id(keys::SUPPORT_ONLY, id))? {
            continue;
        }
        let p = page_of(id);
        if page.as_ref().map(|(n, _, _)| *n) != Some(p) {
            page = Some((p, store.input_page(p, today.year())?, store.score_page(p, today.year())?));
        }
        let Some((_, inputs, scores)) = &page else { continue };
        let Some(day) = inputs.get(id).and_then(|y| y.get(today)) else { continue };
        // The score as stored and shown; the reason from the same inputs.
        let Some(score) = scores.get(id).and_then(|s| s.get(today)) else { continue };
        let why = explain(model, today, &day, None, account.stage, account.segment);
        let values = HealthValues::of(score, bands, &why.contributions, &day);
        if !wb.changed(store.health_written(id)?.as_ref(), &values) {
            report.unchanged += 1;
            continue;
        }
        for old in superseded(older.get(&id).into_iter().flatten()) {
            batch.remove_outbox(old);
            report.replaced += 1;
        }
        let entry = OutboxEntry::new(store.next_id()?, id, 0, values.write(), now);
        batch.put_outbox(&entry);
        batch.insert(keys::with_id(keys::HEALTH_WRITTEN, id), encode(&values));
        report.queued += 1;
        if batch.is_full(20_000) {
            store.apply(std::mem::take(&mut batch))?;
        }
    }
    store.apply(batch)?;
    if report.queued > 0 {
        store.flush()?;
    }
    Ok(report)
}

#[cfg(test)]
#[path = "write_back_tests.rs"]
mod tests;
