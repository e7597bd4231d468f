//! The sled store: the only module that touches the database.

mod billing;
mod children;
pub mod codec;
mod conversations;
mod cursor;
pub mod damage;
mod drafts;
mod health;
pub mod keys;
pub mod migrate;
mod observed;
mod orgs;
mod outbox;
pub mod pages;
mod ratings;
mod record;
pub mod salvage;
mod series;
pub mod shield;
mod undo;
mod write_back;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Account, AccountId, AccountRow, Activity, Contact, FollowUp, NpsResponse, Stage, Ticket};
use codec::{decode, encode};

pub use children::Child;
pub use drafts::{Draft, DraftKind};
pub use health::{BacktestData, DailyPass, DailyReport, HealthRules, ModelStamp, RecomputeReport, Rescore, SincePass};
pub use observed::{Observe, RebuildReport, HISTORY_DAYS};
pub use outbox::OutboxCounts;
pub use series::{YearInputs, YearSeries};
pub use undo::{UndoEntry, UndoRecord, UNDO_KEPT};

/// What can go wrong with a workspace, worded for the person at the keyboard.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database lock.
    #[error(
        "the workspace at {path} is already open in another running cockpit; close that one (or pass --data-dir to use another workspace) and try again"
    )]
    Locked {
        /// Workspace directory.
        path: PathBuf,
    },
    /// The directory cannot be read or written.
    #[error("cannot use the workspace directory {path}: {source}; check that it exists and that you own it")]
    Unreadable {
        /// Workspace directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// sled found damaged data (or panicked on it): the message says how
    /// to save the outbox and rebuild (see `damage::message`).
    #[error("{}", damage::message(.path, .detail))]
    Corrupt {
        /// Workspace directory (empty when not known where it was found).
        path: PathBuf,
        /// What is damaged, in words.
        detail: String,
    },
    /// Written by a newer cockpit.
    #[error(
        "this workspace was written by a newer cockpit (schema {found}, this one knows up to {supported}); upgrade cockpit, or use another --data-dir"
    )]
    NewerSchema {
        /// The version found on disk.
        found: u32,
        /// The newest this binary knows.
        supported: u32,
    },
    /// An old schema with no upgrade path.
    #[error("this workspace uses schema {from}, which this cockpit cannot upgrade; move it aside and sync again")]
    NoMigration {
        /// The version found on disk.
        from: u32,
    },
    /// A record could not be decoded.
    #[error("a stored {what} could not be read ({detail}); the workspace may come from another cockpit version")]
    Decode {
        /// Which record.
        what: String,
        /// Decoder detail.
        detail: String,
    },
    /// The account does not exist.
    #[error("no account with id {0} in this workspace")]
    NoAccount(u64),
    /// The outbox has no such entry.
    #[error("the outbox has no entry {0}; list them with `cockpit outbox`")]
    NoOutboxEntry(u64),
    /// The entry is in a state that does not allow the change.
    #[error("outbox entry {id} cannot be changed: {why}")]
    OutboxRefused {
        /// The entry.
        id: u64,
        /// Why, for the CSM.
        why: String,
    },
    /// Any other database error.
    #[error("workspace database error: {0}")]
    Db(sled::Error),
}

impl From<sled::Error> for StoreError {
    /// Damage becomes `Corrupt`, naming the workspace whose shielded
    /// section (see `shield`) the error came up in.
    fn from(e: sled::Error) -> StoreError {
        damage::classify(shield::scope_path(), e)
    }
}

/// Result alias for store calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What kind of workspace this is, shown in the status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceMeta {
    /// Display name.
    pub name: String,
    /// Generated demo data (with its seed) rather than synced data.
    pub demo_seed: Option<u64>,
    /// When it was created.
    pub created: DateTime<Utc>,
}

/// How a source's last sync went, for the status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// When it finished.
    pub at: DateTime<Utc>,
    /// Whether it ran to the end.
    pub ok: bool,
    /// Why it stopped, when it did.
    pub message: Option<String>,
}

/// Count and ARR per kanban column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTotals {
    /// Accounts per stage, in board order.
    pub count: [u64; 9],
    /// ARR per stage, in board order.
    pub arr: [u64; 9],
}

impl StageTotals {
    /// Takes a row out of the totals.
    pub fn remove(&mut self, row: &AccountRow) {
        let i = row.stage.index();
        self.count[i] = self.count[i].saturating_sub(1);
        self.arr[i] = self.arr[i].saturating_sub(row.arr);
    }

    /// Adds a row to the totals.
    pub fn add(&mut self, row: &AccountRow) {
        let i = row.stage.index();
        self.count[i] += 1;
        self.arr[i] += row.arr;
    }

    /// All accounts on the board.
    pub fn accounts(&self) -> u64 {
        self.count.iter().sum()
    }
}

/// A workspace on disk.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    path: PathBuf,
    schema: u32,
    /// Serialises read-modify-write batches (rows, indexes, totals) between
    /// the UI and sync, which share one store in one process.
    writer: std::sync::Arc<std::sync::Mutex<()>>,
}

/// Raw stored bytes (a key or a value that is not an encoded record).
pub(crate) type Bytes = sled::IVec;

/// Where a synced ticket lives (see `keys::ticket_slot`).
pub(crate) type TicketSlot = keys::SlotValue;

/// A ticket's name in a source's id map.
pub(crate) fn ticket_ext(ticket: u64) -> String {
    format!("ticket/{ticket}")
}

/// The id of a ticket's one follow-up slot.
pub fn ticket_follow_up_id(ticket: u64) -> u64 {
    (1 << 62) | (ticket & ((1 << 62) - 1))
}

/// What the follow-up rules need when tickets arrive.
#[derive(Debug, Clone, Copy)]
pub struct FollowUpRules {
    /// The moment the rules are evaluated at.
    pub now: DateTime<Utc>,
    /// ARR at or above which an account is high-value.
    pub high_value_arr: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("schema", &self.schema).finish()
    }
}

/// The sources that have keys under `prefix` (keyed prefix, source, NUL,
/// ...), found by a seek per source, not a scan of every record.
pub(super) fn sources_under(tree: &sled::Tree, prefix: &[u8]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut from = prefix.to_vec();
    while let Some(k) = tree.range(from..).keys().next().transpose()? {
        let Some(rest) = k.strip_prefix(prefix) else { break };
        let Some(nul) = rest.iter().position(|b| *b == 0) else { break };
        out.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
        from = [prefix, &rest[..nul], &[1]].concat();
    }
    Ok(out)
}

fn prepare_dir(path: &Path) -> Result<()> {
    let unreadable = |source| StoreError::Unreadable { path: path.to_path_buf(), source };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(unreadable)?;
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if meta.permissions().mode() & 0o077 != 0 {
            // The cache holds customer data: keep it private to the user.
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(unreadable)?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(path).map_err(unreadable)?;
    Ok(())
}

fn map_open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked { path: path.to_path_buf() }
        }
        e if damage::is_damage(&e) => damage::classify(path.to_path_buf(), e),
        sled::Error::Io(io) => StoreError::Unreadable { path: path.to_path_buf(), source: io },
        other => StoreError::Db(other),
    }
}

impl Store {
    /// Opens (or creates) the workspace in `dir`, checking its schema.
    pub fn open(dir: &Path) -> Result<Store> {
        Store::open_with_cache(dir, 64 * 1024 * 1024)
    }

    /// Opens with a smaller page cache, for bulk writes (headless sync)
    /// and the cockpit (which holds its book in memory), where peak memory
    /// matters more than sled's cache hits.
    pub fn open_lean(dir: &Path) -> Result<Store> {
        Store::open_with_cache(dir, 16 * 1024 * 1024)
    }

    fn open_with_cache(dir: &Path, cache: u64) -> Result<Store> {
        prepare_dir(dir)?;
        let existing = dir.join("db").join("db").exists();
        // sled panics on some damage it meets at open: the shield turns that
        // into the damaged-workspace message instead of a crash.
        shield::guard(dir, || {
            // A cockpit that is just exiting (or a handle dropped a moment
            // ago, whose flusher thread still holds the lock) lets go within
            // moments.
            let mut attempts = 0;
            let db = loop {
                match sled::Config::new().path(dir.join("db")).cache_capacity(cache).open() {
                    Ok(db) => break db,
                    Err(e) => match map_open_error(dir, e) {
                        StoreError::Locked { .. } if attempts < 20 => {
                            attempts += 1;
                            std::thread::sleep(std::time::Duration::from_millis(50));
                        }
                        other => return Err(other),
                    },
                }
            };
            // If the engine panics from here on, unwinding must not drop
            // (and so flush) a handle on damaged files.
            let db = shield::LeakOnPanic::new(db);
            let tree = db.get().open_tree("cockpit").map_err(|e| map_open_error(dir, e))?;
            let schema = migrate::run(&tree, existing).map_err(|e| match e {
                StoreError::Db(db) => map_open_error(dir, db),
                StoreError::Corrupt { detail, .. } => StoreError::Corrupt { path: dir.to_path_buf(), detail },
                other => other,
            })?;
            // The first read every command makes (the workspace description)
            // happens here, where damage is still caught.
            tree.get(keys::WORKSPACE).map_err(|e| map_open_error(dir, e))?;
            Ok(Store { db: db.take(), tree, path: dir.to_path_buf(), schema, writer: Default::default() })
        })
    }

    /// The workspace directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Handles on the workspace in this process, this one included (the
    /// database closes with the last).
    pub fn handles(&self) -> usize {
        std::sync::Arc::strong_count(&self.writer)
    }

    /// The schema version in use.
    pub fn schema(&self) -> u32 {
        self.schema
    }

    /// Writes everything to disk now (sled otherwise flushes within 500 ms).
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// A fresh unique id for a new record.
    pub fn next_id(&self) -> Result<u64> {
        Ok(self.db.generate_id()?)
    }

    /// Holds the one-writer lock: every read-modify-write batch (rows,
    /// indexes, totals) is read and applied under it, so the UI and sync,
    /// which share one store in one process, never interleave.
    pub(crate) fn write_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The record under `key`, decoded (`what` names it in errors).
    pub(crate) fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8], what: &str) -> Result<Option<T>> {
        self.tree.get(key)?.map(|v| decode(&v, what)).transpose()
    }

    /// The bytes under `key`, for values that are not encoded records
    /// (id maps, ticket slots, index entries).
    pub(crate) fn raw(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.tree.get(key)?)
    }

    /// Whether anything is stored under `key`.
    pub(crate) fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(self.tree.contains_key(key)?)
    }

    /// Every key under `prefix`, in order.
    pub(crate) fn keys_under(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Bytes>> + '_ {
        self.tree.scan_prefix(prefix).keys().map(|k| Ok(k?))
    }

    /// Every key and raw value under `prefix`, in order.
    pub(crate) fn entries_under(&self, prefix: &[u8]) -> impl Iterator<Item = Result<(Bytes, Bytes)>> + '_ {
        self.tree.scan_prefix(prefix).map(|kv| Ok(kv?))
    }

    /// Every record under `prefix`, decoded, in key order.
    pub(crate) fn scan<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
        what: &'static str,
    ) -> impl Iterator<Item = Result<T>> + '_ {
        self.tree.scan_prefix(prefix).map(move |kv| {
            let (_, v) = kv?;
            decode(&v, what)
        })
    }

    /// The workspace description, once one was written.
    pub fn workspace(&self) -> Result<Option<WorkspaceMeta>> {
        self.get(keys::WORKSPACE, "workspace description")
    }

    /// Describes the workspace.
    pub fn set_workspace(&self, meta: &WorkspaceMeta) -> Result<()> {
        self.tree.insert(keys::WORKSPACE, encode(meta))?;
        Ok(())
    }

    /// Count and ARR per stage.
    pub fn stage_totals(&self) -> Result<StageTotals> {
        Ok(self.get(keys::TOTALS, "stage totals")?.unwrap_or_default())
    }

    /// One account's full record.
    pub fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.get(&keys::with_id(keys::ACCOUNT, id), "account")
    }

    /// One account's row.
    pub fn row(&self, id: AccountId) -> Result<Option<AccountRow>> {
        self.get(&keys::with_id(keys::ROW, id), "account row")
    }

    fn rows_from_index(&self, prefix: &[u8], limit: usize) -> Result<Vec<AccountRow>> {
        let mut out = Vec::with_capacity(limit.min(1024));
        for kv in self.tree.scan_prefix(prefix).take(limit) {
            let (k, _) = kv?;
            let id = keys::trailing_id(&k)
                .ok_or_else(|| StoreError::Decode { what: "index key".into(), detail: format!("{} bytes", k.len()) })?;
            if let Some(row) = self.row(id)? {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// The first `limit` rows in the default order (lowest health first,
    /// churned accounts last).
    pub fn first_rows(&self, limit: usize) -> Result<Vec<AccountRow>> {
        self.rows_from_index(keys::BY_HEALTH, limit)
    }

    /// The first `limit` cards of one kanban column (lowest health first).
    pub fn stage_rows(&self, stage: Stage, limit: usize) -> Result<Vec<AccountRow>> {
        self.rows_from_index(&keys::stage_prefix(stage), limit)
    }

    /// Every row, in id order; streams, so memory is the caller's choice.
    pub fn rows(&self) -> impl Iterator<Item = Result<AccountRow>> + '_ {
        self.scan(keys::ROW, "account row")
    }

    /// Every full account record, in id order.
    pub fn accounts(&self) -> impl Iterator<Item = Result<Account>> + '_ {
        self.scan(keys::ACCOUNT, "account")
    }

    /// One account's tickets.
    pub fn tickets(&self, id: AccountId) -> Result<Vec<Ticket>> {
        self.scan(&keys::with_id(keys::TICKET, id), "ticket").collect()
    }

    /// One account's contacts.
    pub fn contacts(&self, id: AccountId) -> Result<Vec<Contact>> {
        self.scan(&keys::with_id(keys::CONTACT, id), "contact").collect()
    }

    /// One account's NPS answers, oldest first.
    pub fn nps(&self, id: AccountId) -> Result<Vec<NpsResponse>> {
        self.scan(&keys::with_id(keys::NPS, id), "NPS answer").collect()
    }

    /// Every NPS answer in the workspace, by account.
    pub fn all_nps(&self) -> impl Iterator<Item = Result<NpsResponse>> + '_ {
        self.scan(keys::NPS, "NPS answer")
    }

    /// Every deal in the workspace, by account.
    pub fn all_deals(&self) -> impl Iterator<Item = Result<crate::domain::Deal>> + '_ {
        self.scan(keys::DEAL, "deal")
    }

    /// One account's timeline, oldest first.
    pub fn activities(&self, id: AccountId) -> Result<Vec<Activity>> {
        self.scan(&keys::with_id(keys::ACTIVITY, id), "activity").collect()
    }

    /// Follow-ups due before `before`, earliest first (any state).
    pub fn follow_ups_before(&self, before: DateTime<Utc>) -> impl Iterator<Item = Result<FollowUp>> + '_ {
        let end = keys::follow_up(before, 0);
        self.tree.range(keys::FOLLOW_UP.to_vec()..end).map(|kv| decode(&kv?.1, "follow-up"))
    }

    /// One follow-up by id, through the `fi` index. A synced ticket's
    /// follow-up is filed through the ticket's slot instead: see
    /// `ticket_follow_up`.
    pub fn follow_up(&self, id: u64) -> Result<Option<FollowUp>> {
        let Some(due) = self.tree.get(keys::follow_up_id(id))? else { return Ok(None) };
        let mut k = keys::FOLLOW_UP.to_vec();
        k.extend_from_slice(&due);
        k.extend_from_slice(&id.to_be_bytes());
        self.get(&k, "follow-up")
    }

    /// How a source's last sync went.
    pub fn sync_status(&self, source: &str) -> Result<Option<SyncStatus>> {
        self.get(&keys::sync_status(source), "sync status")
    }

    /// Records how a source's sync went.
    pub fn set_sync_status(&self, source: &str, status: &SyncStatus) -> Result<()> {
        self.tree.insert(keys::sync_status(source), encode(status))?;
        Ok(())
    }

    /// The account a vendor's record maps to, if it was seen before.
    pub fn external_id(&self, source: &str, ext: &str) -> Result<Option<AccountId>> {
        Ok(self.tree.get(keys::external(source, ext))?.and_then(|v| keys::trailing_id(&v)))
    }

    /// A source's stored cursor for one object type.
    pub fn cursor(&self, source: &str, object: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.tree.get(keys::cursor(source, object))?.map(|v| v.to_vec()))
    }

    /// The follow-up of a source's ticket, if it has one.
    pub fn ticket_follow_up(&self, source: &str, ticket: u64) -> Result<Option<FollowUp>> {
        let id = ticket_follow_up_id(ticket);
        match self.ticket_slot(source, ticket)? {
            Some(s) if s.legacy => self.follow_up(id),
            Some(TicketSlot { due: Some(due), .. }) => self.get(&keys::follow_up_at(due, id), "follow-up"),
            _ => Ok(None),
        }
    }

    /// Where a source's ticket lives and the due time of its follow-up.
    pub(crate) fn ticket_slot(&self, source: &str, ticket: u64) -> Result<Option<TicketSlot>> {
        let Some(v) = self.tree.get(keys::external(source, &ticket_ext(ticket)))? else { return Ok(None) };
        let slot = keys::read_ticket_slot(&v).ok_or_else(|| StoreError::Decode {
            what: "ticket location".into(),
            detail: format!("{} bytes that are not a ticket slot", v.len()),
        })?;
        Ok(Some(slot))
    }

    /// Sets the one follow-up slot a ticket has and returns the due time it
    /// is filed under. The same situation keeps its item and state (a done
    /// or snoozed item is not resurrected); a new situation replaces it;
    /// when the condition clears the slot empties, so the item fires again
    /// only if the condition returns. The ticket's slot (its `x:` entry)
    /// records the due time, so no `fi` entry is written.
    pub(crate) fn put_ticket_follow_up(
        &self,
        b: &mut Batch,
        ticket: u64,
        draft: Option<crate::domain::followup::Draft>,
        slot: Option<&TicketSlot>,
    ) -> Result<Option<[u8; 8]>> {
        let id = ticket_follow_up_id(ticket);
        // A ticket seen for the first time has no follow-up yet: no reads.
        let existing: Option<FollowUp> = match slot {
            None => None,
            Some(s) if s.legacy => self.follow_up(id)?,
            Some(TicketSlot { due: Some(due), .. }) => self.get(&keys::follow_up_at(*due, id), "follow-up")?,
            Some(_) => None,
        };
        if let (Some(e), Some(d)) = (&existing, &draft) {
            if e.kind == d.kind {
                // The same situation keeps its item; a ticket that moved to
                // another account takes its item along.
                if e.account_id != d.account_id {
                    let moved = FollowUp { account_id: d.account_id, ..e.clone() };
                    b.insert(keys::follow_up(moved.due, moved.id), encode(&moved));
                }
                return Ok(Some(keys::ts(e.due)));
            }
        }
        if let Some(e) = &existing {
            b.inner.remove(keys::follow_up(e.due, e.id));
            if slot.is_some_and(|s| s.legacy) {
                b.inner.remove(keys::follow_up_id(e.id));
            }
        }
        Ok(draft.map(|d| {
            let f = d.into_follow_up(id);
            b.insert(keys::follow_up(f.due, f.id), encode(&f));
            keys::ts(f.due)
        }))
    }

    /// Applies a batch atomically.
    /// The accounts whose health records it writes are marked for the
    /// next pass in the same batch (see `keys::DIRTY`).
    pub fn apply(&self, mut batch: Batch) -> Result<()> {
        for id in std::mem::take(&mut batch.touched) {
            batch.inner.insert(keys::with_id(keys::DIRTY, AccountId(id)), &[]);
        }
        self.tree.apply_batch(batch.inner)?;
        Ok(())
    }
}

/// Writes that land together or not at all.
#[derive(Default)]
pub struct Batch {
    inner: sled::Batch,
    len: usize,
    bytes: usize,
    /// Accounts whose health records it writes (marked when applied).
    touched: std::collections::BTreeSet<u64>,
    /// Written already scored (see `Batch::scored`): marks nothing.
    scored: bool,
}

/// A pass over many accounts applies its batch once it holds this much:
/// a year of history is ~100 KB a page, and sled copies a batch as it
/// applies it, so an unbounded batch is what peak memory would be made of.
pub const BATCH_BYTES: usize = 4 << 20;

impl Batch {
    /// A batch whose writer scored the accounts it writes as the day's pass
    /// would (the demo generator): it marks none of them for the next pass,
    /// which would otherwise score the whole book again on the first start.
    pub fn scored() -> Batch {
        Batch { scored: true, ..Batch::default() }
    }

    /// Queues a raw write (prefer the typed `put_*` below).
    pub(crate) fn insert(&mut self, k: Vec<u8>, v: Vec<u8>) {
        if let Some(id) = keys::health_record_of(&k).filter(|_| !self.scored) {
            self.touched.insert(id.0);
        }
        self.len += 1;
        self.bytes += k.len() + v.len();
        self.inner.insert(k, v);
    }

    /// Marks an account for the next pass: a record that feeds its health
    /// changed under a key not filed by account (a ticket's rating), or
    /// was removed.
    pub fn touch(&mut self, id: AccountId) {
        if !self.scored {
            self.touched.insert(id.0);
        }
    }

    /// Whether a pass should apply the batch now (many writes or many bytes).
    pub fn is_full(&self, writes: usize) -> bool {
        self.len > writes || self.bytes > BATCH_BYTES
    }

    /// Number of writes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores an account's full record.
    pub fn put_account(&mut self, a: &Account) {
        self.insert(keys::with_id(keys::ACCOUNT, a.id), encode(a));
    }

    /// Removes a row with its index entries and takes it out of `totals`.
    pub fn remove_row(&mut self, old: &AccountRow, totals: &mut StageTotals) {
        self.inner.remove(keys::with_id(keys::ROW, old.id));
        self.inner.remove(keys::by_health(old.stage == Stage::Churned, old.health, old.id));
        self.inner.remove(keys::by_stage(old.stage, old.health, old.id));
        totals.remove(old);
    }

    /// Stores an account row, replacing `old`'s index entries and moving it
    /// in `totals` (the caller writes the totals once with `put_totals`).
    pub fn put_row(&mut self, old: Option<&AccountRow>, row: &AccountRow, totals: &mut StageTotals) {
        // Index keys only move when stage or health do.
        let same_place = old.is_some_and(|o| (o.stage, o.health) == (row.stage, row.health));
        if let Some(old) = old {
            if !same_place {
                self.inner.remove(keys::by_health(old.stage == Stage::Churned, old.health, old.id));
                self.inner.remove(keys::by_stage(old.stage, old.health, old.id));
            }
            totals.remove(old);
        }
        self.insert(keys::with_id(keys::ROW, row.id), encode(row));
        if !same_place {
            self.insert(keys::by_health(row.stage == Stage::Churned, row.health, row.id), Vec::new());
            self.insert(keys::by_stage(row.stage, row.health, row.id), Vec::new());
        }
        totals.add(row);
    }

    /// Stores a source's cursor for one object type, when there is one.
    pub fn put_cursor(&mut self, source: &str, cursor: Option<(&str, &[u8])>) {
        if let Some((object, c)) = cursor {
            self.insert(keys::cursor(source, object), c.to_vec());
        }
    }

    /// Stores a row whose stage, health and ARR did not change, so neither
    /// its index entries nor the totals move.
    pub fn put_row_in_place(&mut self, row: &AccountRow) {
        self.insert(keys::with_id(keys::ROW, row.id), encode(row));
    }

    /// Stores the kanban totals.
    pub fn put_totals(&mut self, totals: &StageTotals) {
        self.insert(keys::TOTALS.to_vec(), encode(totals));
    }

    /// Queues the removal of a key (prefer the typed `remove_*`).
    pub(crate) fn remove(&mut self, k: Vec<u8>) {
        if let Some(id) = keys::health_record_of(&k).filter(|_| !self.scored) {
            self.touched.insert(id.0);
        }
        self.len += 1;
        self.inner.remove(k);
    }

    /// Takes a follow-up out (its entry and its id index).
    pub fn remove_follow_up(&mut self, f: &FollowUp) {
        self.remove(keys::follow_up(f.due, f.id));
        self.remove(keys::follow_up_id(f.id));
    }

    /// Maps a source's record `ext` to account `id`, both ways (the id map
    /// and the reverse map `external_of` reads).
    pub fn link_external(&mut self, source: &str, ext: &str, id: AccountId) {
        self.insert(keys::external(source, ext), id.0.to_be_bytes().to_vec());
        self.insert(keys::external_of(id, source), ext.as_bytes().to_vec());
    }

    /// Takes a source's record `ext` out of the id map, both ways.
    pub fn unlink_external(&mut self, source: &str, ext: &str, id: AccountId) {
        self.remove(keys::external(source, ext));
        self.remove(keys::external_of(id, source));
    }

    /// Stores a follow-up whose due time did not change (only its state or
    /// account did), so its `fi` index entry stands.
    pub fn put_follow_up_state(&mut self, f: &FollowUp) {
        self.insert(keys::follow_up(f.due, f.id), encode(f));
    }

    /// Stores an outbox entry.
    pub fn put_outbox(&mut self, e: &crate::domain::outbox::OutboxEntry) {
        self.insert(keys::outbox(e.id), encode(e));
    }

    /// Removes an outbox entry.
    pub fn remove_outbox(&mut self, id: u64) {
        self.remove(keys::outbox(id));
    }

    /// Removes a timeline entry.
    pub fn remove_activity(&mut self, account: AccountId, at: DateTime<Utc>, id: u64) {
        self.remove(keys::activity(account, at, id));
    }

    /// Removes a ticket's record (not its slot in the id map).
    pub fn remove_ticket(&mut self, account: AccountId, id: u64) {
        self.remove(keys::child(keys::TICKET, account, id));
    }

    /// Stores a ticket.
    pub fn put_ticket(&mut self, t: &Ticket) {
        self.insert(keys::child(keys::TICKET, t.account_id, t.id), encode(t));
    }

    /// Stores a contact.
    pub fn put_contact(&mut self, c: &Contact) {
        self.insert(keys::child(keys::CONTACT, c.account_id, c.id), encode(c));
    }

    /// Stores an NPS answer.
    pub fn put_nps(&mut self, n: &NpsResponse) {
        self.insert(keys::nps(n.account_id, n.on, n.id), encode(n));
    }

    /// Stores a timeline entry.
    pub fn put_activity(&mut self, a: &Activity) {
        self.insert(keys::activity(a.account_id, a.at, a.id), encode(a));
    }

    /// Stores a follow-up. A follow-up whose due time changed must be given
    /// its previous due time so the old entry is removed.
    pub fn put_follow_up(&mut self, f: &FollowUp, previous_due: Option<DateTime<Utc>>) {
        if let Some(prev) = previous_due {
            self.inner.remove(keys::follow_up(prev, f.id));
        }
        self.insert(keys::follow_up(f.due, f.id), encode(f));
        self.insert(keys::follow_up_id(f.id), keys::ts(f.due).to_vec());
    }
}

#[cfg(test)]
pub(crate) mod tests;
