//! The first frame kept beside the database. Opening sled costs most of a
//! start (its page table is read whole: 70 ms warm at 100,000 accounts, a
//! second after another process wrote). Whoever closes the workspace keeps
//! what the first frame shows in a small file, stamped with the database
//! files as they were then; the next cockpit draws from it while sled
//! opens, and reads the database itself when anything wrote since.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::reads::HealthView;
use crate::book::FirstPage;
use crate::domain::calendar::Calendar;
use crate::domain::health_model::Model;
use crate::queue::QueueItem;
use crate::store::{codec, OutboxCounts, Store, StoreError, SyncStatus, WorkspaceMeta};

/// The file's name in the workspace directory.
pub const FILE: &str = "first-frame";

/// Queue items kept: twice the first frame's, as some of them may not be
/// actionable at the next start (snoozed, or due on a later day).
const QUEUE_KEPT: usize = 2 * super::FIRST_QUEUE;

/// Bumped with any change to what is kept, so an older file is not read.
const FORMAT: u32 = 3;

/// What the first frame shows, as it was when the workspace was closed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstFrame {
    /// The workspace description (its name and whether it is the demo).
    pub workspace: Option<WorkspaceMeta>,
    /// The book's first page and cards.
    pub page: FirstPage,
    /// The first items not done, in due order (see `queue::kept`); read
    /// to draw at once, the first items actionable now.
    pub queue: Vec<QueueItem>,
    /// Whether `queue` holds every item there is (not done, or actionable
    /// now when read to draw at once).
    pub queue_whole: bool,
    /// Each source's last sync.
    pub syncs: Vec<(String, SyncStatus)>,
    /// The outbox counts.
    pub outbox: OutboxCounts,
    /// The health of the account first in the table.
    pub health: Option<HealthView>,
}

/// The database files as a kept frame saw them: any write changes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp(Vec<(String, u64, i64)>);

/// The file: who wrote it, the stamp, the frame.
#[derive(Serialize, Deserialize)]
struct Kept {
    format: u32,
    version: String,
    /// The writing binary's file (see `binary`).
    binary: Option<(u64, i64)>,
    stamp: Stamp,
    frame: FirstFrame,
}

/// The running binary's file, its length and time: the kept frame is not
/// self-describing, so a frame kept by any other build (one that may
/// encode it otherwise, or use another schema) is never read, even under
/// the same version number.
fn binary() -> Option<(u64, i64)> {
    let meta = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    Some((meta.len(), nanos(meta.modified().ok()?)))
}

/// A file time in nanoseconds from the epoch.
fn nanos(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

impl FirstFrame {
    /// Reads the first frame from the store. To keep it (`keeping`), the
    /// queue's first items whatever their day and the health of the
    /// account first in the table are read too; a cockpit drawing it now
    /// reads only the items actionable now, and the health through its
    /// reader.
    pub fn read(
        store: &Store,
        sources: &[String],
        model: &Model,
        now: DateTime<Utc>,
        cal: &Calendar,
        keeping: bool,
    ) -> Result<FirstFrame, StoreError> {
        let page = FirstPage::read(store, super::FIRST_PAGE)?;
        let (queue, whole) = if keeping {
            let kept = crate::queue::kept(store, QUEUE_KEPT, cal)?;
            let whole = kept.len() < QUEUE_KEPT;
            (kept, whole)
        } else {
            let due = crate::queue::load(store, now, super::FIRST_QUEUE, cal)?;
            let whole = due.len() < super::FIRST_QUEUE;
            (due, whole)
        };
        let mut syncs = Vec::new();
        for s in sources {
            if let Some(status) = store.sync_status(s)? {
                syncs.push((s.clone(), status));
            }
        }
        // The account the cockpit selects first.
        let first = keeping.then(|| crate::book::Book::first(page.clone()).view_row(0).map(|r| r.id)).flatten();
        // What could not be read is left to the reader at the next start.
        let health = first
            .map(|id| super::reads::account(store, id, model, now))
            .and_then(|view| view.trouble.is_none().then_some(view.health));
        Ok(FirstFrame {
            workspace: store.workspace()?,
            queue_whole: whole,
            queue,
            page,
            syncs,
            outbox: store.outbox_counts()?,
            health,
        })
    }

    /// Whether it is the demo's.
    pub fn is_demo(&self) -> bool {
        self.workspace.as_ref().is_some_and(|m| m.demo_seed.is_some())
    }

    /// The frame kept in `dir`, when no process wrote to the database
    /// since and none holds it now; `None` otherwise (the cockpit then
    /// reads the database itself, as it always did).
    pub fn load(dir: &Path) -> Option<FirstFrame> {
        let kept = read_kept(dir)?;
        // A cockpit or a sync has it open: it may be writing, and the open
        // must say so (or ask that cockpit) before anything is drawn.
        if held(dir) || stamp(dir).ok()? != kept.stamp {
            return None;
        }
        Some(kept.frame)
    }
}

/// How long a closing process waits for its other handles on the
/// workspace (a job finishing) before it gives up keeping the frame.
const HANDLES_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// Keeps the first frame for the next start, then closes the workspace:
/// called by a process done with it, with its last handle. The frame is
/// read once no other handle is left (so nothing can write after), and
/// stamped once the database is closed (sled writes as it closes).
/// Nothing is kept when another handle stays: the next start reads the
/// database, as it always could.
pub fn keep(store: Store, sources: &[String], model: &Model, now: DateTime<Utc>) {
    let started = std::time::Instant::now();
    let dir = store.path().to_path_buf();
    while store.handles() > 1 && started.elapsed() < HANDLES_WAIT {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    if store.handles() > 1 {
        tracing::debug!(handles = store.handles(), "first frame not kept: the workspace is still in use");
        return;
    }
    // Nothing written since it was kept (a command that only read); what
    // this process wrote is on disk first, so it shows in the files.
    let flushed = store.flush().is_ok();
    if flushed && kept_stamp(&dir).is_some_and(|k| stamp(&dir).is_ok_and(|s| s == k)) {
        return;
    }
    // The items kept are placed on the next session's calendar (`from_kept`).
    let frame = match FirstFrame::read(&store, sources, model, now, &Calendar::default(), true) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::warn!("the first frame could not be read to keep it: {e}");
            return;
        }
    };
    drop(store);
    match write(&dir, frame) {
        Ok(()) => tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "first frame kept"),
        // Only the next start's speed depends on it.
        Err(e) => tracing::warn!("the first frame could not be kept for the next start: {e}"),
    }
}

/// Stamps the closed database's files and writes the frame with the stamp,
/// holding the database's lock so no process opens it in between.
fn write(dir: &Path, frame: FirstFrame) -> std::io::Result<()> {
    let lock = std::fs::File::open(dir.join("db").join("db"))?;
    lock.try_lock().map_err(|e| std::io::Error::other(format!("the workspace was opened again: {e}")))?;
    let kept =
        Kept { format: FORMAT, version: env!("CARGO_PKG_VERSION").into(), binary: binary(), stamp: stamp(dir)?, frame };
    write_atomically(&dir.join(FILE), &codec::encode(&kept))
}

/// The file kept in `dir`, when this version wrote it.
fn read_kept(dir: &Path) -> Option<Kept> {
    let bytes = std::fs::read(dir.join(FILE)).ok()?;
    let kept: Kept = codec::decode(&bytes, "first frame").ok()?;
    let ours = kept.format == FORMAT && kept.version == env!("CARGO_PKG_VERSION");
    (ours && kept.binary.is_some() && kept.binary == binary()).then_some(kept)
}

/// The stamp of the file kept in `dir`.
fn kept_stamp(dir: &Path) -> Option<Stamp> {
    read_kept(dir).map(|k| k.stamp)
}

/// Writes through a temporary file and a rename, so a reader never sees
/// half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // It holds customer data, like the database.
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

/// The database's files: name, length and modification time.
fn stamp(dir: &Path) -> std::io::Result<Stamp> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.join("db"))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        files.push((entry.file_name().to_string_lossy().into_owned(), meta.len(), nanos(meta.modified()?)));
    }
    files.sort();
    Ok(Stamp(files))
}

/// Whether another process holds the database: sled locks its file with
/// `flock`, as `File::try_lock` does (the lock taken here goes with the
/// descriptor at once).
fn held(dir: &Path) -> bool {
    let Ok(file) = std::fs::File::open(dir.join("db").join("db")) else { return true };
    file.try_lock().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{generate, DemoSpec};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
    }

    fn demo() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        generate(&store, &DemoSpec { accounts: 40, seed: 3, now: now() }).unwrap();
        (tmp, store)
    }

    fn model() -> &'static Model {
        Model::builtin_ref()
    }

    #[test]
    fn kept_at_close_read_back_until_the_database_changes() {
        let (tmp, store) = demo();
        let read = FirstFrame::read(&store, &[], model(), now(), &Calendar::default(), true).unwrap();
        assert!(read.health.is_some(), "the first account's health is kept");
        keep(store, &[], model(), now());
        let kept = FirstFrame::load(tmp.path()).expect("kept, and nothing wrote since");
        assert_eq!(kept.page.rows, read.page.rows);
        assert_eq!(kept.queue, read.queue);
        assert!(kept.is_demo());
        assert_eq!(kept.health.map(|h| h.id), read.health.map(|h| h.id));

        // Open, it is not trusted (the holder may be writing).
        let store = Store::open(tmp.path()).unwrap();
        assert!(FirstFrame::load(tmp.path()).is_none());
        // A write, then a close that keeps nothing: the database is read.
        let meta = store.workspace().unwrap().unwrap();
        store.set_workspace(&WorkspaceMeta { name: "renamed".into(), ..meta }).unwrap();
        store.flush().unwrap();
        drop(store);
        assert!(FirstFrame::load(tmp.path()).is_none(), "a write since the frame was kept");

        // Kept again at the next close, with the change.
        let store = Store::open(tmp.path()).unwrap();
        keep(store, &[], model(), now());
        let kept = FirstFrame::load(tmp.path()).expect("kept again");
        assert_eq!(kept.workspace.map(|m| m.name).as_deref(), Some("renamed"));
    }

    #[test]
    fn not_kept_while_another_handle_may_still_write() {
        let (tmp, store) = demo();
        let other = store.clone();
        keep(store, &[], model(), now());
        assert!(!tmp.path().join(FILE).exists());
        drop(other);
    }

    #[test]
    fn a_damaged_or_foreign_file_is_ignored() {
        let (tmp, store) = demo();
        keep(store, &[], model(), now());
        let path = tmp.path().join(FILE);
        // Another build's (the same version number, another binary).
        let mut other = read_kept(tmp.path()).expect("kept by this build");
        assert!(FirstFrame::load(tmp.path()).is_some());
        other.binary = other.binary.map(|(len, time)| (len + 1, time));
        std::fs::write(&path, codec::encode(&other)).unwrap();
        assert!(FirstFrame::load(tmp.path()).is_none(), "kept by another build");
        other.binary = binary();
        std::fs::write(&path, codec::encode(&other)).unwrap();
        assert!(FirstFrame::load(tmp.path()).is_some());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, &bytes).unwrap();
        assert!(FirstFrame::load(tmp.path()).is_none());
        std::fs::write(&path, b"not a frame").unwrap();
        assert!(FirstFrame::load(tmp.path()).is_none());
    }

    #[test]
    fn the_queue_kept_is_picked_again_at_the_next_start() {
        let (_tmp, store) = demo();
        let read = FirstFrame::read(&store, &[], model(), now(), &Calendar::default(), true).unwrap();
        assert!(read.queue_whole, "40 accounts hold fewer items than are kept");
        // Items due later than the day kept become due on a later day.
        let later = now() + chrono::Duration::days(3);
        let from_kept =
            crate::queue::from_kept(read.queue.clone(), later, super::super::FIRST_QUEUE, &Calendar::default());
        let from_store = crate::queue::load(&store, later, super::super::FIRST_QUEUE, &Calendar::default()).unwrap();
        assert_eq!(from_kept, from_store);
        // Items due later than the day kept are to act on then.
        let cal = Calendar::default();
        let actionable = |items: &[QueueItem], at| items.iter().filter(|i| i.follow_up.is_actionable(&cal, at)).count();
        let now_items = crate::queue::from_kept(read.queue, now(), super::super::FIRST_QUEUE, &cal);
        assert!(actionable(&from_kept, later) > actionable(&now_items, now()));
    }
}
