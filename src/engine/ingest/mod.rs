//! A sync's pages landing in the store: each page of a source's records,
//! the records it removed and its cursor in one batch, with every derived
//! figure (rows, totals, follow-ups, history marks) of the accounts it
//! touches in that same batch. One module per kind of record.

mod accounts;
mod children;
mod feedback;
mod orgs;
mod tickets;

pub use accounts::accounts;
pub use children::children;
pub use feedback::{feedback, ticket_ratings, IncomingRating};
pub use orgs::{orgs, users};
pub use tickets::tickets;

/// One page of a source's records as a sync read it.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a, T, R = u64> {
    /// The source (a configured CRM or desk name).
    pub source: &'a str,
    /// New and changed records.
    pub records: &'a [T],
    /// Ids of records deleted or archived at the source.
    pub removed: &'a [R],
    /// The source's cursor after this page (object type, bytes), stored
    /// in the page's batch so it never runs ahead of (or behind) the records.
    pub cursor: Option<(&'a str, &'a [u8])>,
}

/// What one ingest batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    /// New records.
    pub added: u64,
    /// Changed records.
    pub updated: u64,
    /// Records that came back identical.
    pub unchanged: u64,
    /// Records removed (deleted or archived at the source).
    pub removed: u64,
}

impl IngestCounts {
    /// Counts one incoming record against what was stored; returns whether
    /// it needs writing (it is new or changed).
    fn tally<T: PartialEq>(&mut self, old: Option<&T>, new: &T) -> bool {
        match old {
            None => self.added += 1,
            Some(o) if o == new => {
                self.unchanged += 1;
                return false;
            }
            Some(_) => self.updated += 1,
        }
        true
    }
}

impl std::ops::AddAssign for IngestCounts {
    fn add_assign(&mut self, o: IngestCounts) {
        self.added += o.added;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.removed += o.removed;
    }
}
