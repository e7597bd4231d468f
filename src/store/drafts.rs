//! Drafts: text the CSM was writing in the inline editor (or `$EDITOR`)
//! when the cockpit was stopped from outside (a signal, a closed terminal,
//! an internal error) or quit with ctrl-c. Each is kept under `m:draft:` id
//! until the CSM saves or discards it; nothing here is ever sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codec::encode;
use super::{keys, Result, Store};
use crate::domain::{ActivityKind, FollowUp};

/// What the draft was going to become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DraftKind {
    /// A note on the account.
    Note,
    /// A public reply on the item's ticket.
    Reply,
    /// An escalation, to engineering when `engineering`, else the manager.
    Escalate {
        /// To engineering.
        engineering: bool,
    },
    /// The internal comment closing the ticket.
    Close,
    /// The summary of a logged call, meeting or email.
    Log(ActivityKind),
    /// The date a snooze ends.
    SnoozeDate,
    /// The reason of a snooze until then.
    SnoozeReason {
        /// When the item comes back.
        until: DateTime<Utc>,
    },
    /// The new text of an outbox entry.
    OutboxEdit {
        /// The entry.
        id: u64,
    },
}

impl DraftKind {
    /// The draft in words, for a toast ("a note").
    pub fn label(self) -> &'static str {
        match self {
            DraftKind::Note => "a note",
            DraftKind::Reply => "a reply",
            DraftKind::Escalate { .. } => "an escalation",
            DraftKind::Close => "a closing comment",
            DraftKind::Log(_) => "a summary of a touch",
            DraftKind::SnoozeDate => "a snooze date",
            DraftKind::SnoozeReason { .. } => "a snooze reason",
            DraftKind::OutboxEdit { .. } => "an outbox edit",
        }
    }
}

/// Text kept for the CSM, with what it was for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// What submitting it does.
    pub kind: DraftKind,
    /// The editor's title when it was kept ("Note on Acme").
    pub title: String,
    /// The text.
    pub text: String,
    /// The queue items it applies to, as they were (their ids and accounts).
    pub items: Vec<FollowUp>,
    /// When it was kept.
    pub saved_at: DateTime<Utc>,
}

impl Store {
    /// Keeps a draft: under `id` when it continues a kept one, else under a
    /// new id. Returns the id.
    pub fn keep_draft(&self, id: Option<u64>, draft: &Draft) -> Result<u64> {
        let id = match id {
            Some(id) => id,
            None => self.next_id()?,
        };
        self.tree.insert(keys::draft(id), encode(draft))?;
        Ok(id)
    }

    /// Every kept draft with its id, oldest first.
    pub fn drafts(&self) -> Result<Vec<(u64, Draft)>> {
        let mut out: Vec<(u64, Draft)> = self
            .tree
            .scan_prefix(keys::DRAFT)
            .map(|kv| {
                let (k, v) = kv?;
                // The key ends with the id, as an account id ends an index key.
                let id = keys::trailing_id(&k).map_or(0, |id| id.0);
                Ok((id, super::codec::decode(&v, "kept draft")?))
            })
            .collect::<Result<_>>()?;
        out.sort_by_key(|(id, d)| (d.saved_at, *id));
        Ok(out)
    }

    /// Forgets a draft (the CSM saved or discarded it).
    pub fn discard_draft(&self, id: u64) -> Result<()> {
        self.tree.remove(keys::draft(id))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, FollowUpKind, FollowUpState, Priority};
    use chrono::TimeZone;

    fn item(id: u64) -> FollowUp {
        FollowUp {
            id,
            account_id: AccountId(7),
            ticket_id: Some(42),
            kind: FollowUpKind::CheckIn,
            reason: "Check in".into(),
            due: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
            priority: Priority::High,
            state: FollowUpState::Open,
        }
    }

    #[test]
    fn drafts_are_kept_on_disk_replaced_by_id_and_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        let note = Draft {
            kind: DraftKind::Note,
            title: "Note on Acme".into(),
            text: "Called Ana,\nbudget approved".into(),
            items: vec![item(1)],
            saved_at: at,
        };
        let esc = Draft {
            kind: DraftKind::Escalate { engineering: true },
            title: "Escalate".into(),
            text: "Broken export".into(),
            items: vec![item(2), item(3)],
            saved_at: at + chrono::Duration::minutes(1),
        };
        let (first, second) = {
            let store = Store::open(dir.path()).unwrap();
            let first = store.keep_draft(None, &note).unwrap();
            let second = store.keep_draft(None, &esc).unwrap();
            assert_ne!(first, second);
            store.flush().unwrap();
            (first, second)
        };
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.drafts().unwrap(), vec![(first, note.clone()), (second, esc.clone())]);
        let longer = Draft { text: "Called Ana, budget approved; renewal next week".into(), ..note };
        assert_eq!(store.keep_draft(Some(first), &longer).unwrap(), first);
        assert_eq!(store.drafts().unwrap(), vec![(first, longer), (second, esc.clone())]);
        store.discard_draft(first).unwrap();
        assert_eq!(store.drafts().unwrap(), vec![(second, esc)]);
        store.discard_draft(second).unwrap();
        assert!(store.drafts().unwrap().is_empty());
    }
}
