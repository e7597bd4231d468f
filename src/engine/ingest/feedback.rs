//! Survey answers and support ratings arriving: a page of a CRM's NPS and
//! CSAT / CES answers (under their account, like other child records),
//! desk ticket ratings (under their ticket), the follow-up a bad rating
//! raises once, and the history rebuild a dated answer calls for.

use chrono::{DateTime, Utc};

use super::children::children_into;
use super::{IngestCounts, Page};
use crate::domain::rating::{bad_rating_follow_up, Rating, SurveyRating, TicketRating};
use crate::domain::{NpsResponse, Ticket};
use crate::store::codec::encode;
use crate::store::{keys, Batch, Child, Result, Store};

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

/// Writes one page of a CRM's survey answers (NPS answers in
/// `page.records`, CSAT / CES `ratings`), the ids it archived and its
/// cursor in one batch. An answer that is new or changed and dated before
/// `today` marks its account's history for rebuild from that day.
pub fn feedback(
    store: &Store,
    page: &Page<'_, NpsResponse>,
    ratings: &[SurveyRating],
    today: chrono::NaiveDate,
) -> Result<IngestCounts> {
    let Page { source, records: nps, removed, cursor } = *page;
    let _w = store.write_lock();
    let mut b = Batch::default();
    let mut marks = store.observe(today);
    for n in nps {
        if changed(store, source, n)? && n.on < today {
            marks.mark(n.account_id, n.on);
        }
    }
    for r in ratings {
        let day = r.rating.at.date_naive();
        if changed(store, source, r)? && day < today {
            marks.mark(r.account_id, day);
        }
    }
    let mut counts = children_into(store, &mut b, source, nps, removed)?;
    // An archived id is one kind or the other: each removal counts once.
    let ratings_counts = children_into(store, &mut b, source, ratings, removed)?;
    counts += ratings_counts;
    marks.flush_into(&mut b)?;
    b.put_cursor(source, cursor);
    store.apply(b)?;
    Ok(counts)
}

/// Whether a child record differs from what the source filed before.
fn changed<T: Child>(store: &Store, source: &str, r: &T) -> Result<bool> {
    let Some(k) = store.child_key::<T>(source, r.id())? else { return Ok(true) };
    Ok(match store.get::<T>(&k, T::KIND)? {
        Some(v) => v != *r,
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
pub fn ticket_ratings(
    store: &Store,
    rated: &[(&Ticket, Option<IncomingRating>)],
    deleted: &[u64],
    now: DateTime<Utc>,
) -> Result<u64> {
    let _w = store.write_lock();
    let today = now.date_naive();
    let mut b = Batch::default();
    let mut marks = store.observe(today);
    let mut raised = 0;
    for (t, incoming) in rated {
        let key = keys::ticket_rating(t.id);
        let stored: Option<TicketRating> = store.get(&key, "ticket rating")?;
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
                let f = d.into_follow_up(store.next_id()?);
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
    store.apply(b)?;
    Ok(raised)
}
