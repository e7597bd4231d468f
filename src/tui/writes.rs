//! Writes in flight, one part of the app's state: the effects `update`
//! asked for beyond the screen (for the job runner), the edits sent to the
//! writer and not yet answered with what their answers need, and the rows
//! the writer answered with since the last book load started.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::compose::ExternalEdit;
use super::effect::Effect;
use crate::domain::followup_action::FollowUpAction;
use crate::domain::{AccountRow, ChurnReason, FollowUp};
use crate::engine::edits::Edit;

/// An edit sent to the writer, with what its answer needs.
#[derive(Debug, Clone)]
pub enum InFlight {
    /// A queue action.
    Action {
        /// The action.
        action: FollowUpAction,
        /// The items as they were before it.
        items: Vec<FollowUp>,
        /// The text it was written with, to give back if it fails.
        text: Option<ExternalEdit>,
        /// The kept draft it sends: forgotten once the action applies.
        kept_draft: Option<u64>,
    },
    /// An undo.
    Undo,
    /// A stage move of the account of that name, from that row.
    Stage {
        /// The account's name.
        name: String,
        /// Its row before the move.
        from: AccountRow,
        /// Why the customer left, on a move to Churned.
        reason: Option<ChurnReason>,
    },
    /// A sentiment.
    Sentiment {
        /// 1 to 5.
        value: u8,
    },
    /// An outbox entry's new text.
    OutboxEdit,
    /// An outbox entry sent again (over the ticket as read just now).
    Retry {
        /// Whether the ticket's state was read again first.
        over_current: bool,
    },
    /// An outbox entry discarded.
    Discard {
        /// "the write to HubSpot (stage: Churned) for Acme".
        what: String,
    },
    /// The editor's text set aside as a draft.
    KeepDraft {
        /// The draft.
        draft: crate::store::Draft,
    },
    /// A kept draft forgotten: nothing to say when it lands.
    ForgetDraft {
        /// The draft.
        id: u64,
    },
}

/// Rows and items as the writer stored them.
pub type Settled = (Vec<AccountRow>, Vec<FollowUp>);

/// The app's writes in flight.
#[derive(Debug)]
pub struct Writes {
    /// What updates asked for beyond the screen, in order.
    effects: Vec<Effect>,
    /// The number of the next edit sent to the writer.
    next_edit: u64,
    /// Edits sent and not yet answered, with what their answer needs.
    in_flight: HashMap<u64, InFlight>,
    /// Rows the writer answered with since the last book load started:
    /// a load that read them before the edit must not undo them on screen.
    since_load: Vec<Settled>,
}

impl Default for Writes {
    fn default() -> Self {
        Writes { effects: Vec::new(), next_edit: 1, in_flight: HashMap::new(), since_load: Vec::new() }
    }
}

impl Writes {
    /// Asks the job runner for an effect.
    pub fn effect(&mut self, e: Effect) {
        self.effects.push(e);
    }

    /// The effects asked for since the last call, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Sends an edit to the writer (as an effect), remembering what its
    /// answer needs; returns its number.
    pub fn send(&mut self, edit: Edit, then: InFlight, at: DateTime<Utc>) -> u64 {
        let seq = self.next_edit;
        self.next_edit += 1;
        self.in_flight.insert(seq, then);
        self.effects.push(Effect::Write { seq, edit, at });
        seq
    }

    /// What the answer to edit `seq` needs, once (`None`: not ours, or answered).
    pub fn answered(&mut self, seq: u64) -> Option<InFlight> {
        self.in_flight.remove(&seq)
    }

    /// The edits not answered yet.
    pub fn pending(&self) -> impl Iterator<Item = &InFlight> {
        self.in_flight.values()
    }

    /// Keeps rows the writer stored, to lay over a book load that read before them.
    pub fn settled(&mut self, rows: Settled) {
        self.since_load.push(rows);
    }

    /// The rows kept since the load started, to lay over the loaded book.
    pub fn take_settled(&mut self) -> Vec<Settled> {
        std::mem::take(&mut self.since_load)
    }

    /// A health pass finished: any load from now reads every edit answered before.
    pub fn forget_settled(&mut self) {
        self.since_load.clear();
    }
}
