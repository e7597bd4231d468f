//! Queues the score back to the CRM after the daily pass: one health write
//! per account whose score, band or top reason changed since the last one
//! queued for it, replacing any older one not yet on its way.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike};

use super::codec::encode;
use super::pages::{page_of, Page};
use super::{keys, Batch, Result, Store, YearInputs, YearSeries};
use crate::domain::explain::explain;
use crate::domain::health_model::Model;
use crate::domain::outbox::OutboxEntry;
use crate::domain::write_back::{superseded, HealthValues, WriteBack};
use crate::domain::{AccountId, Bands};

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

impl Store {
    /// The health last queued for an account's company, if any.
    pub fn health_written(&self, id: AccountId) -> Result<Option<HealthValues>> {
        self.get(&keys::with_id(keys::HEALTH_WRITTEN, id), "health written back")
    }

    /// Queues a health write for every live account scored on `now`'s day
    /// whose written values changed since the last one queued for it
    /// (accounts that churned and support organizations of their own are
    /// not written). A newer write replaces the account's older ones that
    /// have not left (see `superseded`), in the same batch.
    pub fn queue_health_writes(
        &self,
        wb: &WriteBack,
        model: &Model,
        bands: &Bands,
        now: DateTime<chrono::Utc>,
    ) -> Result<WriteBackReport> {
        let today = now.date_naive();
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = WriteBackReport::default();
        let mut older: BTreeMap<AccountId, Vec<OutboxEntry>> = BTreeMap::new();
        for e in self.scan::<OutboxEntry>(keys::OUTBOX, "outbox entry") {
            let e = e?;
            if e.write.is_health() {
                older.entry(e.account_id).or_default().push(e);
            }
        }
        let mut batch = Batch::default();
        let mut page: Option<(u32, Page<YearInputs>, Page<YearSeries>)> = None;
        for account in self.accounts() {
            let account = account?;
            let id = account.id;
            if !account.stage.is_active() || self.tree.contains_key(keys::with_id(keys::SUPPORT_ONLY, id))? {
                continue;
            }
            let p = page_of(id);
            if page.as_ref().map(|(n, _, _)| *n) != Some(p) {
                page = Some((p, self.input_page(p, today.year())?, self.score_page(p, today.year())?));
            }
            let Some((_, inputs, scores)) = &page else { continue };
            let Some(day) = inputs.get(id).and_then(|y| y.get(today)) else { continue };
            // The score as stored and shown; the reason from the same inputs.
            let Some(score) = scores.get(id).and_then(|s| s.get(today)) else { continue };
            let why = explain(model, today, &day, None, account.stage, account.segment);
            let values = HealthValues::of(score, bands, &why.contributions, &day);
            let key = keys::with_id(keys::HEALTH_WRITTEN, id);
            if !wb.changed(self.get::<HealthValues>(&key, "health written back")?.as_ref(), &values) {
                report.unchanged += 1;
                continue;
            }
            for old in superseded(older.get(&id).into_iter().flatten()) {
                batch.remove(keys::outbox(old));
                report.replaced += 1;
            }
            let entry = OutboxEntry::new(self.next_id()?, id, 0, values.write(), now);
            batch.insert(keys::outbox(entry.id), encode(&entry));
            batch.insert(key, encode(&values));
            report.queued += 1;
            if batch.is_full(20_000) {
                self.apply(std::mem::take(&mut batch))?;
            }
        }
        self.apply(batch)?;
        if report.queued > 0 {
            self.flush()?;
        }
        Ok(report)
    }
}

#[cfg(test)]
#[path = "write_back_tests.rs"]
mod tests;
