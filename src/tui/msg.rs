//! The messages background work sends the event loop.

use chrono::{DateTime, Utc};

use super::metrics::{MetricsAnswer, MetricsView};
use super::reads::ReadAnswer;
use crate::book::Book;
use crate::engine::edits::Applied;
use crate::queue::QueueItem;
use crate::store::SyncStatus;
use crate::sync::Progress;

/// A message from background work.
#[derive(Debug)]
pub enum Msg {
    /// A running sync handled more records.
    SyncProgress(Progress),
    /// The sync finished: each source's outcome, and whether it changed
    /// any record.
    SyncDone(Vec<(String, SyncStatus)>, bool),
    /// The full book and queue finished loading.
    Loaded(Box<Book>, Vec<QueueItem>),
    /// Background loading failed.
    LoadFailed(String),
    /// The metrics job of that request finished (or failed, for the CSM).
    Metrics(u64, Result<Box<MetricsView>, String>),
    /// A push of the outbox finished.
    Pushed(Result<crate::sync::push::PushReport, String>),
    /// The ticket of a conflicted outbox entry was read again: its entry
    /// can go out over that state.
    ConflictStamp(u64, Result<Option<DateTime<Utc>>, String>),
    /// A read the screen asked for (`Effect::Read`).
    Read(ReadAnswer),
    /// The writer applied an edit (`seq` as sent) and flushed it.
    Written(u64, Result<Box<Applied>, String>),
    /// A command beside the cockpit asks for a sync or a push.
    Remote(crate::remote::Ask),
    /// A ticket's conversation was read from the desk (and kept), or why not.
    Conversation(u64, Result<crate::domain::conversation::Conversation, crate::sync::conversation::FetchError>),
    /// A health pass finished (whether it changed anything); the book
    /// reload follows when it did.
    HealthDone(Result<bool, String>),
}

impl From<MetricsAnswer> for Msg {
    fn from(MetricsAnswer(seq, result): MetricsAnswer) -> Msg {
        Msg::Metrics(seq, result)
    }
}
