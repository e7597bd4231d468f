//! The CSM's edits as data: what the cockpit sends the writer, and what the
//! writer answers once each is applied (the rows it changed, read in the
//! same place, so the screen never reads the store to catch up).

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use super::act::Author;
use super::act::{self, ActionReport, ChurnWhy, UndoOutcome};
use super::upkeep::HealthSetup;
use crate::domain::followup_action::FollowUpAction;
use crate::domain::outbox::OutboxEntry;
use crate::domain::{AccountId, AccountRow, FollowUp, Stage};
use crate::store::{Draft, Result, Store};

/// One change the CSM made.
#[derive(Debug, Clone)]
pub enum Edit {
    /// A one-key action (done, snooze, note, reply, ...) on queue items.
    Action {
        /// The items as the screen showed them.
        items: Vec<FollowUp>,
        /// What to do.
        action: FollowUpAction,
        /// The kept draft the action was written in, forgotten with it
        /// when it applies (and kept when it does not).
        forget_draft: Option<u64>,
    },
    /// Take back the newest action that can be.
    Undo,
    /// Take back every action that can be, down to the one of that sequence.
    UndoTo {
        /// The oldest action to take back (see `act::history`).
        seq: u64,
    },
    /// Move an account to another lifecycle stage.
    Stage {
        /// Whose.
        id: AccountId,
        /// Where to.
        to: Stage,
        /// Why the customer left, on a move to Churned.
        churn: Option<ChurnWhy>,
    },
    /// The CSM's sentiment (1-5) on an account.
    Sentiment {
        /// Whose.
        id: AccountId,
        /// 1 to 5.
        value: u8,
        /// The rules that rescore the day.
        setup: Arc<HealthSetup>,
    },
    /// New text for an outbox entry not yet sent.
    OutboxEdit {
        /// The entry.
        id: u64,
        /// The new body.
        text: String,
    },
    /// Send a failed or conflicted entry again, over the ticket's stamp as
    /// read just now when there is one.
    OutboxRetry {
        /// The entry.
        id: u64,
        /// The ticket's current update stamp.
        stamp: Option<DateTime<Utc>>,
    },
    /// Never send an entry.
    OutboxDiscard {
        /// The entry.
        id: u64,
    },
    /// Keep the editor's text as a draft (the CSM set it aside with esc).
    KeepDraft {
        /// The kept draft it continues, if any.
        id: Option<u64>,
        /// The text and what it was for.
        draft: Draft,
    },
    /// Forget a draft kept from an earlier session.
    DiscardDraft {
        /// The draft.
        id: u64,
    },
}

/// What an applied edit changed.
#[derive(Debug, Clone)]
pub enum Written {
    /// An action applied (or skipped, with why).
    Action(ActionReport),
    /// The last action taken back, or why not.
    Undo(UndoOutcome),
    /// The account's row after a stage move or a sentiment.
    Row(AccountRow),
    /// The outbox entry as it is now.
    Outbox(OutboxEntry),
    /// The id a draft is kept under.
    Draft(u64),
    /// Nothing to show.
    Done,
}

/// An applied edit with the current rows of the accounts it touched.
#[derive(Debug, Clone)]
pub struct Applied {
    /// What it changed.
    pub written: Written,
    /// The touched accounts' rows as stored now.
    pub rows: Vec<AccountRow>,
}

/// Applies one edit; runs on the writer.
pub fn apply(store: &Store, edit: Edit, by: &Author) -> Result<Applied> {
    let (written, touched): (Written, Vec<AccountId>) = match edit {
        Edit::Action { items, action, forget_draft } => {
            let accounts = items.iter().map(|f| f.account_id).collect();
            let report = act::apply(store, &items, &action, by)?;
            if let (Some(id), true) = (forget_draft, report.applied > 0) {
                store.discard_draft(id)?;
            }
            (Written::Action(report), accounts)
        }
        Edit::Undo | Edit::UndoTo { .. } => {
            let outcome = match edit {
                Edit::UndoTo { seq } => act::undo_to(store, seq)?,
                _ => act::undo(store)?,
            };
            let accounts = match &outcome {
                UndoOutcome::Undone { accounts, .. } => accounts.clone(),
                _ => Vec::new(),
            };
            (Written::Undo(outcome), accounts)
        }
        Edit::Stage { id, to, churn } => {
            (Written::Row(act::move_stage(store, id, to, churn.as_ref(), by)?), Vec::new())
        }
        Edit::Sentiment { id, value, setup } => {
            (Written::Row(store.set_sentiment(id, value, &by.name, setup.rules(), by.at)?), Vec::new())
        }
        Edit::OutboxEdit { id, text } => (Written::Outbox(store.outbox_edit(id, &text)?), Vec::new()),
        Edit::OutboxRetry { id, stamp } => (Written::Outbox(store.outbox_retry(id, by.at, stamp)?), Vec::new()),
        Edit::OutboxDiscard { id } => (Written::Outbox(store.outbox_discard(id)?), Vec::new()),
        Edit::KeepDraft { id, draft } => (Written::Draft(store.keep_draft(id, &draft)?), Vec::new()),
        Edit::DiscardDraft { id } => {
            store.discard_draft(id)?;
            (Written::Done, Vec::new())
        }
    };
    let mut rows = Vec::with_capacity(touched.len());
    for id in touched {
        rows.extend(store.row(id)?);
    }
    Ok(Applied { written, rows })
}
