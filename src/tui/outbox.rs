//! The outbox overlay's state: the entries it shows, in the order the CSM
//! needs them, its cursor, and whether it waits for them. Plain data;
//! reading the outbox and acting on an entry are the queue actions'
//! (`followups`).

use crate::domain::outbox::OutboxEntry;

/// Sent entries kept in view below the rest.
const SENT_SHOWN: usize = 20;

/// The outbox overlay's rows and cursor.
#[derive(Debug, Clone, Default)]
pub struct OutboxView {
    /// Entries shown: those needing attention first, then pending, then
    /// the latest sent.
    pub entries: Vec<(OutboxEntry, String)>,
    /// Cursor.
    pub cursor: usize,
    /// Waiting for the entries from the reader thread.
    pub loading: bool,
}

impl OutboxView {
    /// The entries worth showing, in order: those needing attention, then
    /// pending (each by id), then the latest sent, newest first.
    pub fn shown(all: Vec<OutboxEntry>) -> Vec<OutboxEntry> {
        let rank = |e: &OutboxEntry| {
            if e.state.needs_attention() {
                0
            } else if e.state.is_pushable() {
                1
            } else {
                2
            }
        };
        let mut entries: Vec<OutboxEntry> = all.iter().filter(|e| rank(e) < 2).cloned().collect();
        entries.sort_by_key(|e| (rank(e), e.id));
        entries.extend(all.iter().rev().filter(|e| rank(e) == 2).take(SENT_SHOWN).cloned());
        entries
    }

    /// Shows these entries (with their account names), keeping the cursor in range.
    pub fn show(&mut self, entries: Vec<(OutboxEntry, String)>) {
        self.cursor = self.cursor.min(entries.len().saturating_sub(1));
        self.entries = entries;
    }

    /// Moves the cursor by `by`, within the entries.
    pub fn step(&mut self, by: isize) {
        let last = self.entries.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + by).clamp(0, last) as usize;
    }

    /// The entry under the cursor.
    pub fn selected(&self) -> Option<&OutboxEntry> {
        self.entries.get(self.cursor).map(|(e, _)| e)
    }
}
