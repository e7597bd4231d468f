//! Reading what can still be read of a damaged workspace's outbox: the
//! writes not yet sent are the one thing a fresh sync cannot bring back.
//!
//! The workspace's files are never written: its database directory is
//! copied to a private temporary directory and the copy is opened (sled
//! rewrites what it opens), scanned and decoded one entry at a time, each
//! step shielded from engine panics. If the copy cannot be opened as it
//! is, a second copy without sled's snapshot files is tried: sled then
//! rebuilds its page table from the log alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::codec::decode;
use super::damage::ENGINE_STOPPED;
use super::{keys, shield, OutboxCounts, Result, StoreError};
use crate::domain::outbox::OutboxEntry;
use crate::domain::{Account, AccountId};

/// What could be read of a damaged outbox.
#[derive(Debug, Default)]
pub struct SalvagedOutbox {
    /// Entries read, oldest first.
    pub entries: Vec<OutboxEntry>,
    /// Names of the accounts the entries belong to, where readable.
    pub names: BTreeMap<AccountId, String>,
    /// Entries found whose record could not be decoded.
    pub unreadable: usize,
    /// The scan ran into damage: entries there could not be reached at all.
    pub incomplete: bool,
}

impl SalvagedOutbox {
    /// The entries by state, as `Store::outbox_counts` counts them.
    pub fn counts(&self) -> OutboxCounts {
        let mut c = OutboxCounts::default();
        for e in &self.entries {
            c.count(&e.state);
        }
        c
    }

    /// Whether this read got further than `other`.
    fn better_than(&self, other: &SalvagedOutbox) -> bool {
        (self.entries.len(), !self.incomplete) > (other.entries.len(), !other.incomplete)
    }
}

/// Reads the outbox of the damaged workspace in `dir` as far as it goes.
/// Fails (with `StoreError::Corrupt`) only when no copy of the database
/// could be opened at all.
pub fn outbox(dir: &Path) -> Result<SalvagedOutbox> {
    let scratch = Scratch::new()?;
    let mut best: Option<SalvagedOutbox> = None;
    let mut failure = None;
    for (attempt, with_snapshot) in [(1, true), (2, false)] {
        if best.as_ref().is_some_and(|b| !b.incomplete && b.unreadable == 0) {
            break;
        }
        let copy = scratch.path.join(attempt.to_string()).join("db");
        copy_tree(&dir.join("db"), &copy, with_snapshot).map_err(|e| StoreError::Unreadable {
            path: scratch.path.clone(),
            source: std::io::Error::new(
                e.kind(),
                format!("cannot copy the workspace there to read it ({e}); set TMPDIR to a directory with room"),
            ),
        })?;
        match read_copy(dir, &copy) {
            Ok(read) => {
                tracing::info!(attempt, entries = read.entries.len(), unreadable = read.unreadable, "outbox salvage");
                if best.as_ref().is_none_or(|b| read.better_than(b)) {
                    best = Some(read);
                }
            }
            Err(e) => {
                tracing::warn!(attempt, "outbox salvage could not open the copy: {e:?}");
                failure = Some(e);
            }
        }
    }
    best.ok_or_else(|| {
        let detail = match failure {
            Some(StoreError::Corrupt { detail, .. }) => detail,
            _ => ENGINE_STOPPED.into(),
        };
        StoreError::Corrupt { path: dir.to_path_buf(), detail }
    })
}

/// Opens one copy and reads its outbox; `dir` is the original, for errors.
fn read_copy(dir: &Path, copy: &Path) -> Result<SalvagedOutbox> {
    let db = shield::catch(dir, || sled::Config::new().path(copy).cache_capacity(16 * 1024 * 1024).open())?
        .map_err(|e| super::damage::classify(dir.to_path_buf(), e))?;
    // After an engine panic the handle may be in any state: leak it rather
    // than run its drop (it is a copy; the process ends soon).
    let db = shield::LeakOnPanic::new(db);
    let tree = shield::guard(dir, || Ok(db.get().open_tree("cockpit")?))?;
    // No schema record means sled found none of the store's records.
    if shield::guard(dir, || Ok(tree.get(keys::SCHEMA)?))?.is_none() {
        return Err(StoreError::Corrupt {
            path: dir.to_path_buf(),
            detail: "its records could not be read back".into(),
        });
    }
    let mut out = SalvagedOutbox::default();
    let panicked = scan(dir, &tree, &mut out);
    if !panicked {
        names(dir, &tree, &mut out);
    }
    if panicked {
        std::mem::forget(db.take());
    }
    Ok(out)
}

/// Scans the `o:` prefix forwards, then (after damage) backwards from the
/// end to reach the entries beyond it. Returns whether the engine panicked.
fn scan(dir: &Path, tree: &sled::Tree, out: &mut SalvagedOutbox) -> bool {
    let mut last: Option<sled::IVec> = None;
    let keep = |out: &mut SalvagedOutbox, v: &[u8]| match decode::<OutboxEntry>(v, "outbox entry") {
        Ok(e) => out.entries.push(e),
        Err(_) => out.unreadable += 1,
    };
    let mut forward = tree.scan_prefix(keys::OUTBOX);
    loop {
        match shield::catch(dir, || forward.next()) {
            Ok(None) => return false,
            Ok(Some(Ok((k, v)))) => {
                keep(out, &v);
                last = Some(k);
            }
            Ok(Some(Err(_))) => break,
            Err(_) => {
                out.incomplete = true;
                return true;
            }
        }
    }
    out.incomplete = true;
    let mut tail = Vec::new();
    let mut backward = tree.scan_prefix(keys::OUTBOX);
    loop {
        match shield::catch(dir, || backward.next_back()) {
            Ok(Some(Ok((k, v)))) if last.as_ref().is_none_or(|l| k > *l) => tail.push(v),
            Ok(_) => break,
            Err(_) => return true,
        }
    }
    for v in tail.iter().rev() {
        keep(out, v);
    }
    false
}

/// Looks up the account names of the entries read, one record at a time.
fn names(dir: &Path, tree: &sled::Tree, out: &mut SalvagedOutbox) {
    let ids: std::collections::BTreeSet<AccountId> = out.entries.iter().map(|e| e.account_id).collect();
    for id in ids {
        match shield::catch(dir, || tree.get(keys::with_id(keys::ACCOUNT, id))) {
            Ok(Ok(Some(v))) => {
                if let Ok(a) = decode::<Account>(&v, "account") {
                    out.names.insert(id, a.name);
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// Copies the database directory `from` to `to` (created private),
/// leaving out sled's snapshot files unless `with_snapshot`. Files that
/// cannot be read are left out too: sled then reports what is missing.
fn copy_tree(from: &Path, to: &Path, with_snapshot: bool) -> std::io::Result<()> {
    private_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, true)?;
        } else if with_snapshot || !name.to_string_lossy().starts_with("snap.") {
            match std::fs::copy(entry.path(), &target) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    tracing::warn!(file = %entry.path().display(), "outbox salvage skipped an unreadable file: {e}")
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        // The copy holds customer data: only the user may read it.
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// A private temporary directory, removed on drop.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> Result<Scratch> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let path = std::env::temp_dir().join(format!("cockpit-salvage-{}-{stamp}", std::process::id()));
        private_dir(&path).map_err(|source| StoreError::Unreadable { path: path.clone(), source })?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
