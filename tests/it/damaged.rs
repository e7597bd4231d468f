//! The real binary on a damaged workspace: whatever bytes of the database
//! files are cut or changed, a command either still works (sled recovered
//! a prefix of its log) or exits 5 with the damaged-workspace message:
//! never a panic, never a backtrace. The outbox listing reads what it can.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{Duration, Utc};
use cockpit::domain::followup_action::FollowUpAction;
use cockpit::domain::FollowUp;
use cockpit::store::{Store, SyncStatus, WorkspaceMeta};
use portable_pty::CommandBuilder;

use crate::common::bin;
use crate::common::pty::{Harness, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_cockpit");

fn cockpit(home: &Path, args: &[&str]) -> Output {
    bin::in_home(home)
        .args(args)
        // A panic that got through would print its backtrace.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run cockpit")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A demo workspace with writes waiting in the outbox, opened once more
/// by an ordinary command so its files look like a workspace in use.
/// Returns the workspace and the outbox entries' ids and descriptions.
fn workspace_in_use(home: &Path, accounts: u32) -> (PathBuf, BTreeMap<u64, String>) {
    let ws = home.join("base");
    let o = cockpit(home, &["demo", "--accounts", &accounts.to_string(), "--data-dir", ws.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut outbox = BTreeMap::new();
    {
        let store = Store::open(&ws).unwrap();
        let items: Vec<FollowUp> =
            store.follow_ups_before(Utc::now() + Duration::days(400)).map(Result::unwrap).take(8).collect();
        assert!(items.len() >= 4, "the demo has follow-ups to act on");
        for (n, item) in items.iter().enumerate() {
            let note = FollowUpAction::Note { body: format!("Called the champion about item {n}") };
            cockpit::engine::act::apply(
                &store,
                std::slice::from_ref(item),
                &note,
                &cockpit::engine::act::Author::new("tester", Utc::now()),
            )
            .unwrap();
        }
        for e in store.outbox().unwrap() {
            outbox.insert(e.id, e.write.describe());
        }
        store.flush().unwrap();
    }
    assert!(outbox.len() >= 4, "{outbox:?}");
    let o = cockpit(home, &["--data-dir", ws.to_str().unwrap(), "today"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    (ws, outbox)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of `base` named `name`, damaged by `damage`.
fn damaged(base: &Path, name: &str, damage: impl FnOnce(&Path)) -> PathBuf {
    let copy = base.with_file_name(name);
    copy_dir(base, &copy);
    damage(&copy.join("db"));
    copy
}

fn truncate(file: &Path, len: u64) {
    std::fs::OpenOptions::new().write(true).open(file).unwrap().set_len(len).unwrap();
}

fn flip(file: &Path, at: usize) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at] ^= 0x5A;
    std::fs::write(file, bytes).unwrap();
}

/// A small fixed-seed generator, so the offsets are the same every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Checks one run on a damaged copy: exit 0, or exit 5 with the damaged
/// message for `ws`; never a panic or a backtrace. Returns whether the
/// message was shown.
fn no_panic(o: &Output, ws: &Path, case: &str) -> bool {
    let err = text(&o.stderr);
    for noise in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!err.contains(noise), "{case}: {noise} in stderr:\n{err}");
    }
    match o.status.code() {
        Some(0) => false,
        Some(5) => {
            let dir = std::path::absolute(ws).unwrap().display().to_string();
            assert!(err.contains(&format!("the workspace at {dir} is damaged")), "{case}: {err}");
            assert!(err.contains("nothing was changed"), "{case}: {err}");
            assert!(
                err.contains(&format!("cockpit --data-dir {dir} outbox --format json > unsent.json")),
                "{case}: {err}"
            );
            assert!(err.contains(&format!("cockpit --data-dir {dir} sync")), "{case}: {err}");
            true
        }
        other => panic!("{case}: exit {other:?}\n{err}"),
    }
}

#[test]
fn cut_or_changed_database_bytes_give_the_message_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let (base, _) = workspace_in_use(home, 30);
    let log = base.join("db").join("db");
    let len = std::fs::metadata(&log).unwrap().len();
    let mut rng = Lcg(0x5eed);
    let mut offsets = vec![0, 1, 100, 4096, len / 2, len - 1];
    offsets.extend((0..6).map(|_| rng.below(len)));
    let mut shown = 0;
    let mut cases = 0;
    for (n, &at) in offsets.iter().enumerate() {
        for command in ["today", "accounts"] {
            let ws = damaged(&base, &format!("cut-{n}-{command}"), |db| truncate(&db.join("db"), at));
            let o = cockpit(home, &["--data-dir", ws.to_str().unwrap(), command]);
            shown += no_panic(&o, &ws, &format!("{command} with db/db cut at {at}")) as usize;
            cases += 1;
        }
    }
    for n in 0..6 {
        let at = rng.below(len) as usize;
        let ws = damaged(&base, &format!("flip-{n}"), |db| flip(&db.join("db"), at));
        let o = cockpit(home, &["--data-dir", ws.to_str().unwrap(), "accounts"]);
        shown += no_panic(&o, &ws, &format!("accounts with byte {at} of db/db changed")) as usize;
        cases += 1;
    }
    // sled's snapshot (its page table) cut short, or its config mangled.
    let snap = std::fs::read_dir(base.join("db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("snap."))
        .expect("a workspace in use has a snapshot");
    let ws = damaged(&base, "snap", |db| truncate(&db.join(&snap), 20));
    let snapshot_cut = no_panic(&cockpit(home, &["--data-dir", ws.to_str().unwrap(), "today"]), &ws, "snapshot cut");
    assert!(snapshot_cut, "a cut snapshot cannot go unnoticed");
    let ws = damaged(&base, "conf", |db| flip(&db.join("conf"), 12));
    no_panic(&cockpit(home, &["--data-dir", ws.to_str().unwrap(), "today"]), &ws, "conf changed");
    // Some damage is invisible to sled (it recovers a prefix of its log),
    // but a good share of these cases must be reported (a cut at 0, 1 or
    // 100 bytes always is).
    assert!(shown * 3 >= cases, "only {shown} of {cases} damaged copies gave the message");
}

#[test]
fn an_engine_panic_on_a_missing_record_file_gives_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    // A record bigger than sled keeps in its log: the page holding it lives
    // in a file of its own under db/blobs. More writes follow, so its last
    // version is not the torn tail sled would drop.
    let base = home.join("blob");
    {
        let store = Store::open(&base).unwrap();
        let meta = WorkspaceMeta { name: "x".repeat(300_000), demo_seed: None, created: Utc::now() };
        store.set_workspace(&meta).unwrap();
        for i in 0..500 {
            let status = SyncStatus { at: Utc::now(), ok: true, message: Some(format!("page {i}")) };
            store.set_sync_status(&format!("source-{i}"), &status).unwrap();
        }
        store.flush().unwrap();
    }
    let blobs: Vec<_> =
        std::fs::read_dir(base.join("db").join("blobs")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!blobs.is_empty(), "no blob files to remove");
    let mut shown = 0;
    for (n, blob) in blobs.iter().enumerate() {
        // Without the blob holding a page's latest version, sled 0.34
        // panics while opening ("tried to serialize Uninitialized").
        let ws = damaged(&base, &format!("blob-{n}"), |db| std::fs::remove_file(db.join("blobs").join(blob)).unwrap());
        let o = cockpit(home, &["--data-dir", ws.to_str().unwrap(), "today"]);
        if no_panic(&o, &ws, &format!("today without blob {blob:?}")) {
            shown += 1;
            assert!(text(&o.stderr).contains("the database engine stopped on data it could not read"));
            let log = std::fs::read_to_string(ws.join("cockpit.log")).unwrap();
            assert!(log.contains("the database engine panicked on damaged data"), "the panic is logged:\n{log}");
        }
    }
    assert!(shown > 0, "removing the blob of the live page must be noticed: {blobs:?}");
    // Once opened again, sled's snapshot points at the blob: it is read
    // when the page is, and its absence is damage too, not a permission
    // problem.
    drop(Store::open(&base).unwrap());
    let blobs: Vec<_> =
        std::fs::read_dir(base.join("db").join("blobs")).unwrap().map(|e| e.unwrap().file_name()).collect();
    let mut missing = 0;
    for (n, blob) in blobs.iter().enumerate() {
        let ws =
            damaged(&base, &format!("snap-blob-{n}"), |db| std::fs::remove_file(db.join("blobs").join(blob)).unwrap());
        let o = cockpit(home, &["--data-dir", ws.to_str().unwrap(), "today"]);
        missing += no_panic(&o, &ws, &format!("today without blob {blob:?} after a snapshot")) as usize;
    }
    assert!(missing > 0, "a missing blob must be noticed: {blobs:?}");
}

/// Runs `outbox --format json` on a damaged copy after an ordinary
/// command (sled's recovery has then done whatever it does to the files).
/// Checks the listing holds only entries as they were written and, when
/// the workspace was found damaged, changed no file; returns the ids listed
/// and stderr, or None when it exited 5 with the damaged message.
fn list_outbox(home: &Path, ws: &Path, outbox: &BTreeMap<u64, String>, case: &str) -> Option<(Vec<u64>, String)> {
    let dir = ws.to_str().unwrap();
    let first = cockpit(home, &["--data-dir", dir, "today"]);
    let found = no_panic(&first, ws, &format!("today, {case}"));
    let before = digest(&ws.join("db"));
    let o = cockpit(home, &["--data-dir", dir, "outbox", "--format", "json"]);
    if no_panic(&o, ws, &format!("outbox, {case}")) {
        return None;
    }
    if found {
        assert_eq!(digest(&ws.join("db")), before, "{case}: the listing changed the damaged files");
    }
    let doc: serde_json::Value = serde_json::from_str(&text(&o.stdout)).expect("the usual JSON");
    let entries = doc["entries"].as_array().unwrap();
    let mut ids = Vec::new();
    for e in entries {
        let id = e["id"].as_u64().unwrap();
        assert_eq!(outbox.get(&id).map(String::as_str), e["what"].as_str(), "{case}: entry {id} read as written");
        assert!(e["account"].as_str().is_some_and(|a| !a.is_empty()), "{case}: {e}");
        ids.push(id);
    }
    let err = text(&o.stderr);
    if found {
        // The normal open failed: the listing came from the copy.
        let counted = format!("listed the {} outbox entr", ids.len());
        assert!(err.contains(&counted) && err.contains("could not be read"), "{case}: {err}");
        assert_eq!(doc["counts"]["pending"].as_u64().unwrap() as usize, ids.len(), "{case}");
    }
    Some((ids, err))
}

#[test]
fn the_outbox_of_a_damaged_workspace_is_listed_as_far_as_it_can_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    // Small enough that sled's log stays in its first segment: without its
    // snapshot, sled can then rebuild everything from the log alone (once
    // segments are reused, the start of the log is gone).
    let (base, outbox) = workspace_in_use(home, 10);
    let snap = std::fs::read_dir(base.join("db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("snap."))
        .expect("a workspace in use has a snapshot");
    // A damaged snapshot stops the normal open; the log still holds every
    // entry, and the listing reads them all back.
    let ws = damaged(&base, "outbox-snap", |db| flip(&db.join(&snap), 40));
    let (ids, err) = list_outbox(home, &ws, &outbox, "snapshot changed").expect("the outbox can be read");
    assert_eq!(ids, outbox.keys().copied().collect::<Vec<_>>(), "every entry, in order");
    assert!(
        err.contains(&format!("listed the {} outbox entries that could be read, 0 could not be read", ids.len())),
        "{err}"
    );
    assert!(err.contains("is damaged"), "{err}");
    // Cut logs: whatever is listed is real, or the message says why not.
    let len = std::fs::metadata(base.join("db").join("db")).unwrap().len();
    let mut rng = Lcg(0xb0c5);
    let mut offsets = vec![100, 4096, len / 2];
    offsets.extend((0..3).map(|_| rng.below(len)));
    for (n, &at) in offsets.iter().enumerate() {
        let ws = damaged(&base, &format!("outbox-{n}"), |db| truncate(&db.join("db"), at));
        list_outbox(home, &ws, &outbox, &format!("db/db cut at {at}"));
    }
    // Nothing readable at all: exit 5 with the message, not an empty list.
    let ws = damaged(&base, "outbox-gone", |db| {
        truncate(&db.join("db"), 0);
        truncate(&db.join(&snap), 0);
    });
    assert!(list_outbox(home, &ws, &outbox, "all cut").is_none(), "nothing could be read");
}

/// Every file under `dir` with a hash of its bytes, to tell whether
/// anything changed.
fn digest(dir: &Path) -> BTreeMap<PathBuf, (usize, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(digest(&entry.path()));
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            out.insert(entry.path(), (bytes.len(), h.finish()));
        }
    }
    out
}

/// What the cockpit did in a pseudo-terminal: its exit code, everything it
/// wrote, and whether it took the screen (then it was sent `q` to quit).
struct TuiRun {
    code: u32,
    output: String,
    took_screen: bool,
}

const ALT_SCREEN: &str = "\x1b[?1049h";

fn run_tui(home: &Path, ws: &Path) -> TuiRun {
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(["--data-dir", ws.to_str().unwrap()]);
    cmd.cwd(home);
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
    cmd.env("RUST_BACKTRACE", "1");
    cmd.env_remove("COCKPIT_DATA_DIR");
    cmd.env_remove("COCKPIT_CONFIG");
    cmd.env_remove("COCKPIT_NOW");
    cmd.env("TZ", "UTC");
    let mut h = Harness::start(cmd, 120, 30, true);
    // Its first frame (then it is asked to quit), or an exit before one.
    if h.wait_for_or_exit("the first frame", Harness::panes).is_some() {
        h.send(b"q");
    }
    let status = h.wait_exit(TIMEOUT);
    let output = h.raw_text();
    TuiRun { code: status.exit_code(), took_screen: output.contains(ALT_SCREEN), output }
}

/// The cockpit on a damaged copy: the damaged message on the normal
/// screen (exit 5), or, when its first frame could still be read, the
/// cockpit itself; never a panic. Returns whether the message was shown.
fn tui_no_panic(run: &TuiRun, ws: &Path, case: &str) -> bool {
    let out = &run.output;
    for noise in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!out.contains(noise), "{case}: {noise} on screen:\n{out}");
    }
    if run.took_screen {
        assert_eq!(run.code, 0, "{case}: {out}");
        return false;
    }
    assert_eq!(run.code, 5, "{case}: {out}");
    let dir = std::path::absolute(ws).unwrap().display().to_string();
    assert!(out.contains(&format!("the workspace at {dir} is damaged")), "{case}: {out}");
    assert!(out.contains(&format!("cockpit --data-dir {dir} outbox --format json > unsent.json")), "{case}: {out}");
    true
}

#[test]
fn the_cockpit_on_a_damaged_workspace_exits_with_the_message_before_taking_the_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    // Several log segments, so that most of the log is not re-read at open.
    let (base, _) = workspace_in_use(home, 200);
    // Damage found while opening.
    let ws = damaged(&base, "tui-open", |db| truncate(&db.join("db"), 4096));
    assert!(tui_no_panic(&run_tui(home, &ws), &ws, "db/db cut at 4096"), "the open notices a cut log");
    // Damage that lets the workspace open and is met by the first frame's
    // reads: the newest copy in the log of one of the follow-ups in the
    // queue (some copies share a page with what opening reads).
    let rows: Vec<Vec<u8>> = {
        let store = Store::open(&base).unwrap();
        let due = store.follow_ups_before(Utc::now() + Duration::days(1)).map(Result::unwrap);
        due.map(|f| cockpit::store::codec::encode(&f)).collect()
    };
    let log = std::fs::read(base.join("db").join("db")).unwrap();
    // `demo` on a workspace opens it, reads its description and refuses:
    // nothing else is read.
    let opens = |ws: &Path| {
        let o = cockpit(home, &["demo", "--accounts", "1", "--data-dir", ws.to_str().unwrap()]);
        text(&o.stderr).contains("already holds a workspace")
    };
    let mut first_frame = 0;
    for (n, row) in rows.iter().enumerate() {
        let Some(found) = log.windows(row.len()).rposition(|w| w == row.as_slice()) else { continue };
        let at = found + row.len() / 2;
        let ws = damaged(&base, &format!("tui-row-{n}"), |db| flip(&db.join("db"), at));
        if !opens(&ws) {
            continue;
        }
        let run = run_tui(home, &ws);
        // Still opening afterwards: the first frame's reads met the damage.
        if tui_no_panic(&run, &ws, &format!("row at byte {at} of db/db changed")) && opens(&ws) {
            first_frame += 1;
            // Met past the open by a headless command, the damage still
            // gets the whole message, naming the workspace.
            let o = cockpit(home, &["--data-dir", ws.to_str().unwrap(), "today"]);
            assert!(no_panic(&o, &ws, "today on the same damage"), "{}", text(&o.stderr));
            break;
        }
    }
    assert!(first_frame > 0, "no damage met by the first frame");
}
