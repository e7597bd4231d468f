//! Store work that survives the database engine panicking on damaged files.
//!
//! sled 0.34 panics (rather than returning an error) on some damage it finds
//! while opening or reading. Inside `catch`/`guard` such a panic is written
//! to the log file, never to the terminal, and becomes
//! `StoreError::Corrupt`, which tells the CSM what to do. Panics raised in
//! cockpit's own code are bugs, not damage: they are reported as usual.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use super::damage::ENGINE_STOPPED;
use super::{Result, StoreError};

/// Shielded sections running now, on any thread: the engine's own worker
/// threads (which read segments in parallel at open) panic outside the
/// section's thread.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

thread_local! {
    /// The workspaces whose shielded sections this thread is in, innermost last.
    static SCOPE: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    /// Set by the hook when it kept a panic on this thread quiet.
    static QUIETED: Cell<bool> = const { Cell::new(false) };
}

/// Whether a panic was raised by the database engine (its own source, or
/// the standard library it called into, e.g. an allocation size overflow)
/// rather than by cockpit's code or another library.
fn from_engine(info: &PanicHookInfo<'_>) -> bool {
    let Some(at) = info.location() else { return false };
    let file = at.file().replace('\\', "/");
    file.contains("/sled-") || file.starts_with("sled-") || file.contains("/rustc/") || file.starts_with("library/")
}

/// Whether the hook keeps this panic off the terminal (an engine panic
/// inside a shielded section). Other panic hooks (the cockpit's) ask this
/// first and leave such a panic alone.
pub fn quiet(info: &PanicHookInfo<'_>) -> bool {
    ACTIVE.load(Ordering::SeqCst) > 0 && from_engine(info)
}

/// Installs, once, the hook that logs quiet panics instead of printing
/// them; every other panic goes to the hook that was there before.
pub fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if quiet(info) {
                QUIETED.with(|q| q.set(true));
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                tracing::error!(panic = %text, at = %at, "the database engine panicked on damaged data");
                return;
            }
            previous(info);
        }));
    });
}

/// Marks a shielded section for the hook and for `scope_path`.
struct Section;

impl Section {
    fn enter(path: &Path) -> Section {
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        SCOPE.with(|s| s.borrow_mut().push(path.to_path_buf()));
        Section
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        SCOPE.with(|s| s.borrow_mut().pop());
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The workspace whose shielded section this thread is in (empty outside
/// any), so that damage found deep in a read still names its directory.
pub fn scope_path() -> PathBuf {
    SCOPE.with(|s| s.borrow().last().cloned()).unwrap_or_default()
}

/// Runs `f` on the workspace at `path`: an engine panic becomes
/// `StoreError::Corrupt` (logged, not printed); any other panic goes on
/// as usual.
pub fn catch<T>(path: &Path, f: impl FnOnce() -> T) -> Result<T> {
    install_hook();
    let was = QUIETED.with(|q| q.replace(false));
    let result = {
        let _section = Section::enter(path);
        std::panic::catch_unwind(AssertUnwindSafe(f))
    };
    let quieted = QUIETED.with(|q| q.replace(was));
    match result {
        Ok(v) => Ok(v),
        Err(_) if quieted => Err(StoreError::Corrupt { path: path.to_path_buf(), detail: ENGINE_STOPPED.into() }),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// `catch` for store calls: damage reported by an error (rather than a
/// panic) also names `path`.
pub fn guard<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch(path, f)?.map_err(|e| match e {
        StoreError::Corrupt { path: p, detail } if p.as_os_str().is_empty() => {
            StoreError::Corrupt { path: path.to_path_buf(), detail }
        }
        StoreError::Db(db) if super::damage::is_damage(&db) => super::damage::classify(path.to_path_buf(), db),
        other => other,
    })
}

/// Holds a value (a database handle) that is forgotten, not dropped, when
/// a panic unwinds past it: dropping a handle flushes, and a second panic
/// in the engine while unwinding would abort the process.
pub struct LeakOnPanic<T>(Option<T>);

impl<T> LeakOnPanic<T> {
    /// Holds `value`.
    pub fn new(value: T) -> LeakOnPanic<T> {
        LeakOnPanic(Some(value))
    }

    /// The value held.
    pub fn get(&self) -> &T {
        self.0.as_ref().expect("present until taken")
    }

    /// Hands the value back, to be dropped normally again.
    pub fn take(mut self) -> T {
        self.0.take().expect("present until taken")
    }
}

impl<T> Drop for LeakOnPanic<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::mem::forget(self.0.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_errors_name_the_workspace() {
        let dir = Path::new("/srv/ws");
        let e = guard::<()>(dir, || Err(StoreError::Corrupt { path: PathBuf::new(), detail: "x".into() }));
        assert!(matches!(e, Err(StoreError::Corrupt { path, .. }) if path == dir));
        // Deep inside a section an engine error learns the path by itself.
        let e = catch(dir, || StoreError::from(sled::Error::Corruption { at: None, bt: () }));
        assert!(matches!(e, Ok(StoreError::Corrupt { path, .. }) if path == dir));
        let outside = StoreError::from(sled::Error::Corruption { at: None, bt: () });
        assert!(matches!(outside, StoreError::Corrupt { path, .. } if path.as_os_str().is_empty()));
        assert_eq!(scope_path(), PathBuf::new());
        let ok = guard(dir, || Ok(7));
        assert_eq!(ok.unwrap(), 7);
    }

    #[test]
    fn a_panic_in_cockpit_code_is_not_mistaken_for_damage() {
        let dir = Path::new("/srv/ws");
        let outcome = std::panic::catch_unwind(|| catch(dir, || panic!("a bug in cockpit")));
        assert!(outcome.is_err(), "our own panics go on as panics");
        assert_eq!(scope_path(), PathBuf::new());
    }
}
