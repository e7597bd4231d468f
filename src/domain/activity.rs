//! Activities on an account's timeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::account::AccountId;

/// What kind of touch an activity was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A written note (internal).
    Note,
    /// A phone or video call.
    Call,
    /// A meeting.
    Meeting,
    /// An email from the customer.
    Email,
    /// The account moved on the lifecycle board.
    StageChange,
    /// A task logged in the CRM (a to-do, not a touch).
    Task,
    /// An email we sent (a touch only once the customer answers).
    EmailSent,
}

impl ActivityKind {
    /// Short label for the timeline.
    pub fn label(self) -> &'static str {
        match self {
            ActivityKind::Note => "note",
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Email => "email in",
            ActivityKind::StageChange => "stage",
            ActivityKind::Task => "follow-up",
            ActivityKind::EmailSent => "email out",
        }
    }

    /// Whether this activity is a two-way contact with the customer.
    pub fn is_two_way(self) -> bool {
        matches!(self, ActivityKind::Call | ActivityKind::Meeting | ActivityKind::Email)
    }
}

/// One entry on an account's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Workspace id.
    pub id: u64,
    /// The account.
    pub account_id: AccountId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Kind of touch.
    pub kind: ActivityKind,
    /// One-line summary.
    pub summary: String,
    /// Who logged it.
    pub author: String,
}
