//! Survey answers and support ratings in the store: NPS and CSAT / CES
//! answers from the CRM (under their account, like other child records),
//! desk ticket ratings (under their ticket, so they follow it when matching
//! moves it), the follow-up a bad rating raises once, and the history
//! rebuild a dated answer calls for.

use chrono::{DateTime, Utc};

use super::children::Child;
use super::codec::{decode, encode};
use super::{keys, Batch, IngestCounts, Result, Store};
use crate::domain::rating::{bad_rating_follow_up, Rating, SurveyRating, TicketRating};
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

/// A desk ticket's rating as the desk sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRating {
    /// The vendor's rating id (0 when it sent none).
    pub id: u64,
    /// Good or bad, with the comment.
    pub verdict: crate::domain::rating::Verdict,
    /// The customer's comment.
    pub comment: String,
    /// When it was given, when the vendor says.
    pub at: Option<DateTime<Utc>>,
}

impl Store {
    /// The account a source's contact is filed under, from the id map.
    pub fn contact_account(&self, source: &str, contact: u64) -> Result<Option<AccountId>> {
        let Some(key) = self.child_key::<crate::domain::Contact>(source, contact)? else { return Ok(None) };
        Ok(key.get(2..10).and_then(|b| b.try_into().ok()).map(|b| AccountId(u64::from_be_bytes(b))))
    }

    /// Writes one page of a CRM's survey answers (NPS answers, CSAT / CES
    /// ratings), the ids it archived and its cursor in one batch. An answer
    /// that is new or changed and dated before `today` marks its account's
    /// history for rebuild from that day.
    pub fn ingest_feedback(
        &self,
        source: &str,
        nps: &[NpsResponse],
        ratings: &[SurveyRating],
        removed: &[u64],
        cursor: Option<(&str, &[u8])>,
        today: chrono::NaiveDate,
    ) -> Result<IngestCounts> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = Batch::default();
        let mut marks = self.observe(today);
        for n in nps {
            if self.changed(source, n)? && n.on < today {
                marks.mark(n.account_id, n.on);
            }
        }
        for r in ratings {
            let day = r.rating.at.date_naive();
            if self.changed(source, r)? && day < today {
                marks.mark(r.account_id, day);
            }
        }
        let mut counts = self.children_into(&mut b, source, nps, removed)?;
        // An archived id is one kind or the other: each removal counts once.
        let ratings_counts = self.children_into(&mut b, source, ratings, removed)?;
        counts += ratings_counts;
        marks.flush_into(&mut b)?;
        b.put_cursor(source, cursor);
        self.apply(b)?;
        Ok(counts)
    }

    /// Whether a child record differs from what the source filed before.
    fn changed<T: Child>(&self, source: &str, r: &T) -> Result<bool> {
        let Some(k) = self.child_key::<T>(source, r.id())? else { return Ok(true) };
        Ok(match self.tree.get(k)? {
            Some(v) => decode::<T>(&v, T::KIND)? != *r,
            None => true,
        })
    }

    /// Files the ratings of a page of desk tickets (`None`: not rated, or
    /// only offered) and drops those of deleted tickets. A rating keeps the
    /// day it was first seen unless the desk dates it; a bad one raises a
    /// follow-up on its account once (see `bad_rating_follow_up`). A new or
    /// changed rating dated before today marks the account's history for
    /// rebuild. Returns the follow-ups raised. Call it before the page's
    /// tickets land with their cursor: a stop in between reads the page
    /// again, and the same ratings change nothing.
    pub fn ingest_ticket_ratings(
        &self,
        rated: &[(&Ticket, Option<IncomingRating>)],
        deleted: &[u64],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let today = now.date_naive();
        let mut b = Batch::default();
        let mut marks = self.observe(today);
        let mut raised = 0;
        for (t, incoming) in rated {
            let key = keys::ticket_rating(t.id);
            let stored: Option<TicketRating> = self.get(&key, "ticket rating")?;
            let Some(new) = incoming else {
                if let Some(s) = stored {
                    b.remove(key);
                    b.touch(t.account_id);
                    marks.mark(t.account_id, s.rating.at.date_naive().min(today));
                }
                continue;
            };
            let same = stored.as_ref().filter(|s| s.id == new.id);
            let unchanged = same.filter(|s| s.rating.verdict == new.verdict && s.rating.comment == new.comment);
            let at = match (new.at, unchanged) {
                (Some(at), _) => at,
                (None, Some(s)) => s.rating.at,
                // First seen (or changed) now: the ticket's last update is when.
                (None, None) => t.updated_at.min(now),
            };
            let rating = Rating { at, verdict: new.verdict, comment: new.comment.clone() };
            let mut record = TicketRating { id: new.id, rating, follow_up: same.and_then(|s| s.follow_up) };
            if record.follow_up.is_none() {
                if let Some(d) = bad_rating_follow_up(t.account_id, t.id, &t.subject, &record.rating, now) {
                    let f = d.into_follow_up(self.next_id()?);
                    b.put_follow_up(&f, None);
                    record.follow_up = Some(f.id);
                    raised += 1;
                }
            }
            if stored.as_ref() != Some(&record) {
                b.insert(key, encode(&record));
                b.touch(t.account_id);
                let day = record.rating.at.date_naive();
                if day < today {
                    marks.mark(t.account_id, day);
                }
            }
        }
        for id in deleted {
            b.remove(keys::ticket_rating(*id));
        }
        marks.flush_into(&mut b)?;
        self.apply(b)?;
        Ok(raised)
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
