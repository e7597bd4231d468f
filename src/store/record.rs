//! One account's whole record read from the store (see
//! `domain::account_record`).

use chrono::{DateTime, Utc};

use super::{Result, Store};
use crate::domain::account_record::{AccountData, AccountRecord};
use crate::domain::health_model::Model;
use crate::domain::AccountId;

impl Store {
    /// What the store holds of an account; `sources` are the source names
    /// whose ids of it are looked up.
    pub fn account_data(&self, id: AccountId, sources: &[String]) -> Result<Option<AccountData>> {
        let Some(account) = self.account(id)? else { return Ok(None) };
        let mut external = Vec::new();
        for s in sources {
            if let Some(ext) = self.external_of(id, s)? {
                external.push((s.clone(), ext));
            }
        }
        let tickets = self.tickets(id)?;
        // Every rating that can count for the past year's days.
        let since = Utc::now() - chrono::Duration::days(366 + crate::domain::rating::CSAT_WINDOW_DAYS);
        Ok(Some(AccountData {
            row: self.row(id)?,
            external,
            ratings: self.ratings(id, &tickets, since)?,
            tickets,
            contacts: self.contacts(id)?,
            activities: self.activities(id)?,
            nps: self.nps(id)?,
            deals: self.deals(id)?,
            manual: self.manual_signals(id)?,
            observed: self.observations(id)?,
            account,
        }))
    }

    /// An account's whole record as of `now`, its score explained with `model`.
    pub fn account_record(
        &self,
        id: AccountId,
        model: &Model,
        sources: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<AccountRecord>> {
        let Some(data) = self.account_data(id, sources)? else { return Ok(None) };
        let today = now.date_naive();
        let explanation = self.explain(id, model, today)?;
        let history = self.health_history(id, AccountRecord::history_from(today), today)?;
        Ok(Some(AccountRecord::assemble(data, explanation, history, now)))
    }
}
