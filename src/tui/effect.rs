//! What `update` asks for beyond the screen: effects the event loop hands
//! to its one job runner (`jobs`), instead of flags it polls.

use chrono::{DateTime, Utc};

use super::compose::ExternalEdit;
use super::metrics::MetricsJob;
use super::reads::Read;
use crate::engine::edits::Edit;

/// One effect of an update.
#[derive(Debug)]
pub enum Effect {
    /// A change for the writer, numbered so its answer finds its toast.
    Write {
        /// The number its answer comes back with.
        seq: u64,
        /// The change.
        edit: Edit,
        /// When the CSM made it.
        at: DateTime<Utc>,
    },
    /// Sync every source now (one sync at a time).
    Sync,
    /// Push the outbox soon (after a running sync or push).
    Push,
    /// Read a conflicted entry's ticket as it is now, to send the entry
    /// again over it.
    RefetchConflict(u64),
    /// Compute the metrics overlay's figures; a newer request wins.
    Metrics(MetricsJob),
    /// Hand the text to `$EDITOR` (the event loop lends it the terminal).
    Editor(ExternalEdit),
    /// Read what the screen needs from the store, off the event loop.
    Read(Read),
    /// Read a ticket's conversation from its desk and keep it.
    FetchConversation(u64),
}
