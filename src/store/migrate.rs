//! Schema versions and the migrations between them.

use super::{keys, StoreError};

/// The schema this binary writes.
pub const CURRENT: u32 = 7;

/// One step: upgrades a tree from version `from` to `from + 1`.
type Step = fn(&sled::Tree) -> Result<(), StoreError>;

/// Steps indexed by the version they upgrade from.
const STEPS: &[(u32, Step)] = &[
    (1, outbox_watch_states),
    (2, mark_own_accounts),
    (3, bad_rating_follow_ups),
    (4, history_as_runs),
    (5, recent_input_days),
    (6, outcome_reasons),
];

/// v2 appends two outbox states (`Watching`, `Settled`). Postcard numbers
/// variants in order, so every v1 entry reads as it is: nothing to rewrite.
/// The bump is what keeps an older cockpit from misreading the new states.
fn outbox_watch_states(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v4 appends a follow-up kind (`BadRating`) and adds survey answers and
/// ticket ratings under keys of their own (`sr`, `tr`). Postcard numbers
/// variants in order, so every v3 record reads as it is: nothing to
/// rewrite. The bump keeps an older cockpit from misreading the new kind.
fn bad_rating_follow_ups(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v5 writes a year of daily inputs as runs and scores compact (see
/// `series`). Pages written before read as they are and are rewritten in
/// the new layout when next touched: nothing to rewrite now. The bump keeps
/// an older cockpit from reading the new pages as empty years, and its daily
/// pass from overwriting a year's inputs with one day.
fn history_as_runs(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v6 writes the day the daily pass adds to a page of inputs in a page of
/// recent days (`hn`, see `pages`), read over the year's page. Year pages
/// written before read as they are: nothing to rewrite. The bump keeps an
/// older cockpit from showing and rescoring years without their last days.
fn recent_input_days(_: &sled::Tree) -> Result<(), StoreError> {
    Ok(())
}

/// v7 gives an account's outcome a churn reason and a note, keeps the
/// last actions (not only the last one) to undo, under `uh`, and gives an
/// outbox task a priority. Postcard reads a record field by field, so
/// every account is rewritten with no reason and an empty note, the last
/// action's undo record (`m:undo`) becomes the history's only entry, and
/// every task in the outbox (schema 6 made them only for escalations) is
/// rewritten as high priority.
fn outcome_reasons(tree: &sled::Tree) -> Result<(), StoreError> {
    use super::codec::{decode, encode};
    let mut batch = sled::Batch::default();
    let mut accounts = 0;
    for kv in tree.scan_prefix(keys::ACCOUNT) {
        let (k, v) = kv?;
        let old: v6::Account = decode(&v, "account (schema 6)")?;
        batch.insert(k, encode(&old.upgrade()));
        accounts += 1;
    }
    let mut tasks = 0;
    for kv in tree.scan_prefix(keys::OUTBOX) {
        let (k, v) = kv?;
        // Only a task's layout changed: every other entry reads as it is.
        let old: v6::OutboxEntry = decode(&v, "outbox entry (schema 6)")?;
        if let Some(entry) = old.upgrade_task() {
            batch.insert(k, encode(&entry));
            tasks += 1;
        }
    }
    if let Some(v) = tree.get(keys::UNDO)? {
        // An undo record that does not read is only a lost undo.
        if let Ok(old) = decode::<v6::UndoRecord>(&v, "undo record (schema 6)") {
            let entry = old.upgrade();
            // Sequence 0: older than anything done from now on.
            batch.insert(keys::undo_entry(0), encode(&entry));
        }
        batch.remove(keys::UNDO);
    }
    tree.apply_batch(batch)?;
    tracing::info!(accounts, tasks, "accounts given outcome reasons, outbox tasks priorities");
    Ok(())
}

/// The records schema 7 changed, as schema 6 wrote them.
mod v6 {
    use chrono::{DateTime, NaiveDate, Utc};
    use serde::Deserialize;

    use crate::domain::outbox::OutboxState;
    use crate::domain::{
        AccountId, AccountRow, Band, FollowUp, KeyPerson, OutcomeKind, Priority, Segment, Stage, Ticket, TicketStatus,
    };

    /// An outbox write whose task has no priority. The other writes are
    /// read only to get past them.
    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub enum Write {
        Note { body: String, at: DateTime<Utc> },
        Task { subject: String, body: String, due: DateTime<Utc> },
        Ticket { ticket: u64, body: String, public: bool, status: Option<TicketStatus>, updated_stamp: DateTime<Utc> },
        Stage { stage: Stage },
        Health { score: u8, band: Band, reason: String },
    }

    /// An outbox entry with a schema 6 write.
    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct OutboxEntry {
        pub(super) id: u64,
        pub(super) key: String,
        pub(super) account_id: AccountId,
        pub(super) activity: u64,
        pub(super) write: Write,
        pub(super) state: OutboxState,
        pub(super) attempts: u32,
        pub(super) next_attempt: DateTime<Utc>,
        pub(super) created: DateTime<Utc>,
        pub(super) last_error: Option<String>,
    }

    impl OutboxEntry {
        /// The entry as schema 7 keeps it when it is a task (an escalation:
        /// high priority); `None` for any other, which reads as it is.
        pub fn upgrade_task(self) -> Option<crate::domain::outbox::OutboxEntry> {
            let Write::Task { subject, body, due } = self.write else { return None };
            Some(crate::domain::outbox::OutboxEntry {
                id: self.id,
                key: self.key,
                account_id: self.account_id,
                activity: self.activity,
                write: crate::domain::outbox::Write::Task { subject, body, due, priority: Priority::High },
                state: self.state,
                attempts: self.attempts,
                next_attempt: self.next_attempt,
                created: self.created,
                last_error: self.last_error,
            })
        }
    }

    /// An outcome without a reason or note.
    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct Outcome {
        pub(super) kind: OutcomeKind,
        pub(super) on: NaiveDate,
    }

    /// An account whose outcome has no reason or note.
    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct Account {
        pub(super) id: AccountId,
        pub(super) name: String,
        pub(super) domain: String,
        pub(super) segment: Segment,
        pub(super) industry: String,
        pub(super) region: String,
        pub(super) owner: String,
        pub(super) plan: String,
        pub(super) seats: u32,
        pub(super) arr: u64,
        pub(super) contract_start: NaiveDate,
        pub(super) renewal_date: NaiveDate,
        pub(super) stage: Stage,
        pub(super) key_people: Vec<KeyPerson>,
        pub(super) outcome: Option<Outcome>,
    }

    impl Account {
        /// The same account as schema 7 keeps it.
        pub fn upgrade(self) -> crate::domain::Account {
            crate::domain::Account {
                id: self.id,
                name: self.name,
                domain: self.domain,
                segment: self.segment,
                industry: self.industry,
                region: self.region,
                owner: self.owner,
                plan: self.plan,
                seats: self.seats,
                arr: self.arr,
                contract_start: self.contract_start,
                renewal_date: self.renewal_date,
                stage: self.stage,
                key_people: self.key_people,
                outcome: self.outcome.map(|o| crate::domain::Outcome::new(o.kind, o.on)),
            }
        }
    }

    /// The undo record of the last action, with schema 6 accounts.
    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct UndoRecord {
        pub(super) label: String,
        pub(super) follow_ups: Vec<FollowUp>,
        pub(super) activities: Vec<(AccountId, DateTime<Utc>, u64)>,
        pub(super) outbox: Vec<u64>,
        pub(super) rows: Vec<AccountRow>,
        pub(super) tickets: Vec<Ticket>,
        pub(super) accounts: Vec<Account>,
    }

    impl UndoRecord {
        /// The history entry it becomes (dated by its first timeline entry).
        pub fn upgrade(self) -> crate::store::UndoEntry {
            let at = self.activities.first().map_or(DateTime::UNIX_EPOCH, |a| a.1);
            let names: Vec<&str> = self.rows.iter().map(|r| r.name.as_str()).collect();
            let what = match names.first() {
                Some(n) if names.len() == 1 => format!("{} on {n}", self.label),
                _ => self.label.clone(),
            };
            let record = crate::store::UndoRecord {
                label: self.label,
                follow_ups: self.follow_ups,
                activities: self.activities,
                outbox: self.outbox,
                rows: self.rows,
                tickets: self.tickets,
                accounts: self.accounts.into_iter().map(Account::upgrade).collect(),
                created: vec![],
            };
            crate::store::UndoEntry { at, what, record }
        }
    }
}

/// v3 marks the accounts a support organization has of its own (`xs`):
/// before, an organization that matched no CRM account became an account
/// with nothing to say so. Such an account is one an organization links
/// to and no CRM source knows (its only source ids are `org/` ones). Where
/// several organizations share one, the lowest id owns it; the others move
/// off at the next sync.
fn mark_own_accounts(tree: &sled::Tree) -> Result<(), StoreError> {
    use std::collections::BTreeMap;
    let mut owner: BTreeMap<u64, (String, u64)> = BTreeMap::new();
    // A seek per source, then its `org/` links only.
    for source in super::sources_under(tree, keys::EXTERNAL)? {
        let prefix = keys::external(&source, "org/");
        for kv in tree.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let org = std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|o| o.parse().ok());
            let (Some(org), Ok(acc)) = (org, <[u8; 8]>::try_from(v.as_ref())) else { continue };
            let acc = u64::from_be_bytes(acc);
            if owner.get(&acc).is_none_or(|(_, o)| org < *o) {
                owner.insert(acc, (source.clone(), org));
            }
        }
    }
    // Workspaces from before the reverse id map (`xr`) say which source
    // knows an account only in the forward map: a CRM company there is a
    // numeric id pointing at the account.
    let mut without_xr = false;
    for acc in owner.keys() {
        let id = crate::domain::AccountId(*acc);
        without_xr |= tree.scan_prefix(keys::with_id(keys::EXTERNAL_OF, id)).next().is_none();
    }
    let mut companies = std::collections::BTreeSet::new();
    if without_xr {
        for kv in tree.scan_prefix(keys::EXTERNAL) {
            let (k, v) = kv?;
            let Some(nul) = k.iter().position(|b| *b == 0) else { continue };
            let ext = &k[nul + 1..];
            if !ext.is_empty() && ext.iter().all(u8::is_ascii_digit) {
                if let Ok(acc) = <[u8; 8]>::try_from(v.as_ref()) {
                    companies.insert(u64::from_be_bytes(acc));
                }
            }
        }
    }
    let mut marked = 0;
    for (acc, (source, org)) in owner {
        let id = crate::domain::AccountId(acc);
        let mark_key = keys::with_id(keys::SUPPORT_ONLY, id);
        if tree.contains_key(&mark_key)? || !tree.contains_key(keys::with_id(keys::ACCOUNT, id))? {
            continue;
        }
        let crm = companies.contains(&acc)
            || tree
                .scan_prefix(keys::with_id(keys::EXTERNAL_OF, id))
                .values()
                .any(|v| v.is_ok_and(|v| !v.starts_with(b"org/")));
        if crm {
            continue;
        }
        let mark = crate::domain::SupportOnly { source, org, link: crate::domain::OrgLink::Unmatched };
        tree.insert(mark_key, super::codec::encode(&mark))?;
        marked += 1;
    }
    tracing::info!(marked, "accounts of their own marked");
    Ok(())
}

/// Reads the schema version, initialises a new store, refuses a newer one,
/// and runs the steps that bring an older one up to date. `existing` says
/// the database was already on disk: then a missing version means sled
/// could not read the data back, and starting afresh would hide the loss.
pub fn run(tree: &sled::Tree, existing: bool) -> Result<u32, StoreError> {
    let found = match tree.get(keys::SCHEMA)? {
        Some(v) => {
            let bytes: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Decode {
                what: "schema version".into(),
                detail: format!("{} bytes, expected 4", v.len()),
            })?;
            u32::from_be_bytes(bytes)
        }
        None if existing => {
            return Err(StoreError::Corrupt {
                path: Default::default(),
                detail: "its records could not be read back".into(),
            })
        }
        None => {
            tree.insert(keys::SCHEMA, &CURRENT.to_be_bytes())?;
            return Ok(CURRENT);
        }
    };
    if found > CURRENT {
        return Err(StoreError::NewerSchema { found, supported: CURRENT });
    }
    let mut version = found;
    while version < CURRENT {
        let step = STEPS
            .iter()
            .find(|(from, _)| *from == version)
            .map(|(_, s)| *s)
            .ok_or(StoreError::NoMigration { from: version })?;
        step(tree)?;
        version += 1;
        tree.insert(keys::SCHEMA, &version.to_be_bytes())?;
        tracing::info!(version, "migrated workspace schema");
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::domain::{AccountId, OutcomeKind, Priority, Segment, Stage};
    use crate::store::codec::encode;

    #[test]
    fn a_schema_6_workspace_keeps_its_outcomes_its_last_undo_and_its_outbox() {
        let tmp = tempfile::tempdir().unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let old = v6::Account {
            id: AccountId(7),
            name: "Acme".into(),
            domain: "acme.com".into(),
            segment: Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: String::new(),
            plan: "Pro".into(),
            seats: 3,
            arr: 12_000,
            contract_start: on,
            renewal_date: on,
            stage: Stage::Churned,
            key_people: vec![],
            outcome: Some(v6::Outcome { kind: OutcomeKind::Churned, on }),
        };
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        {
            let s = crate::store::Store::open(tmp.path()).unwrap();
            s.tree.insert(keys::with_id(keys::ACCOUNT, AccountId(7)), encode(&old)).unwrap();
            let undo = v6::UndoRecord {
                label: "stage move".into(),
                follow_ups: vec![],
                activities: vec![(AccountId(7), at, 99)],
                outbox: vec![],
                rows: vec![],
                tickets: vec![],
                accounts: vec![old],
            };
            s.tree.insert(keys::UNDO, encode(&undo)).unwrap();
            let entry = |id, write| v6::OutboxEntry {
                id,
                key: format!("ck1x{id}"),
                account_id: AccountId(7),
                activity: 99,
                write,
                state: crate::domain::outbox::OutboxState::Pending,
                attempts: 0,
                next_attempt: at,
                created: at,
                last_error: None,
            };
            let task = v6::Write::Task { subject: "Escalation".into(), body: "Steps".into(), due: at };
            s.tree.insert(keys::outbox(40), encode(&entry(40, task))).unwrap();
            let note = v6::Write::Note { body: "Called".into(), at };
            s.tree.insert(keys::outbox(41), encode(&entry(41, note))).unwrap();
            s.tree.insert(keys::SCHEMA, &6u32.to_be_bytes()).unwrap();
            s.flush().unwrap();
        }
        let s = crate::store::Store::open(tmp.path()).unwrap();
        assert_eq!(s.schema(), CURRENT);
        let a = s.account(AccountId(7)).unwrap().unwrap();
        assert_eq!((a.name.as_str(), a.outcome), ("Acme", Some(crate::domain::Outcome::new(OutcomeKind::Churned, on))));
        let h = s.undo_history().unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].1.at, h[0].1.record.label.as_str()), (at, "stage move"));
        assert_eq!(h[0].1.record.accounts[0].outcome.as_ref().unwrap().kind, OutcomeKind::Churned);
        assert!(s.tree.get(keys::UNDO).unwrap().is_none(), "the old record is gone");
        assert!(h[0].1.record.created.is_empty());
        use crate::domain::outbox::Write;
        let outbox = s.outbox().unwrap();
        assert_eq!(
            outbox.iter().map(|e| e.write.clone()).collect::<Vec<_>>(),
            vec![
                Write::Task { subject: "Escalation".into(), body: "Steps".into(), due: at, priority: Priority::High },
                Write::Note { body: "Called".into(), at },
            ],
            "an escalation's task is high priority; a note reads as it was"
        );
        assert_eq!(outbox[0].key, "ck1x40");
    }
}
