//! Survey answers and support ratings in the store: NPS and CSAT / CES
//! answers from the CRM (under their account, like other child records),
//! desk ticket ratings (under their ticket, so they follow it when matching
//! moves it), and the reads of them. Their ingest is
//! `engine::ingest::feedback`.

use chrono::{DateTime, Utc};

use super::children::Child;
use super::{keys, Result, Store};
use crate::domain::rating::{Rating, SurveyRating, TicketRating};
use crate::domain::{AccountId, NpsResponse, Ticket};

impl Child for NpsResponse {
    const KIND: &'static str = "nps";
    const PREFIX: &'static [u8] = keys::NPS;
    fn id(&self) -> u64 {
        self.id
    }
    fn account(&self) -> AccountId {
        self.account_id
    }
    fn key(&self) -> Vec<u8> {
        keys::nps(self.account_id, self.on, self.id)
    }
}

impl Child for SurveyRating {
    const KIND: &'static str = "rating";
    const PREFIX: &'static [u8] = keys::SURVEY_RATING;
    fn id(&self) -> u64 {
        self.id
    }
    fn account(&self) -> AccountId {
        self.account_id
    }
    fn key(&self) -> Vec<u8> {
        keys::child(keys::SURVEY_RATING, self.account_id, self.id)
    }
}

impl Store {
    /// The account a source's contact is filed under, from the id map.
    pub fn contact_account(&self, source: &str, contact: u64) -> Result<Option<AccountId>> {
        let Some(key) = self.child_key::<crate::domain::Contact>(source, contact)? else { return Ok(None) };
        Ok(key.get(2..10).and_then(|b| b.try_into().ok()).map(|b| AccountId(u64::from_be_bytes(b))))
    }

    /// A desk ticket's rating, if it has one.
    pub fn ticket_rating(&self, ticket: u64) -> Result<Option<TicketRating>> {
        self.get(&keys::ticket_rating(ticket), "ticket rating")
    }

    /// An account's ratings that can count from `since` on: its CRM survey
    /// answers, and the desk ratings of its tickets updated since (a rating
    /// is never dated after its ticket's last update).
    pub fn ratings(&self, id: AccountId, tickets: &[Ticket], since: DateTime<Utc>) -> Result<Vec<Rating>> {
        let mut out: Vec<Rating> = self
            .scan::<SurveyRating>(&keys::with_id(keys::SURVEY_RATING, id), "survey rating")
            .map(|r| r.map(|r| r.rating))
            .collect::<Result<_>>()?;
        for t in tickets.iter().filter(|t| t.updated_at >= since) {
            out.extend(self.ticket_rating(t.id)?.map(|r| r.rating));
        }
        Ok(out)
    }
}
