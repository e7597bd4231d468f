//! Entering and leaving the terminal's TUI mode. The guard restores the
//! terminal on every path: normal exit, `?` error return, and panic.
//!
//! The panic rule, for every thread of the process while the cockpit runs:
//! - a panic the code catches and reports itself as a message (inside
//!   `catch_panic`: the background load, the metrics job) is only logged;
//!   the session goes on;
//! - a panic on the UI thread (the one that entered the terminal) restores
//!   the terminal at once, then the usual report follows and the process
//!   ends (status 101) as the panic unwinds;
//! - any other panic (the input thread, a sync or push task, a background
//!   pass outside `catch_panic`) ends the session: it is logged with a
//!   backtrace, and the event loop is told; it keeps the CSM's unsent text,
//!   restores the terminal, then prints the message and exits with 101.
//!   Nothing is printed before that, so the screen stays whole.
//!
//! Outside a session (headless commands, after the cockpit closed) panics
//! are reported as Rust does by default.

use std::cell::Cell;
use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal;
use tokio::sync::Notify;

/// The terminal type the cockpit draws on.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back: main screen, cooked mode, cursor shown,
/// bracketed paste off. Safe to call more than once, from any thread.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = out.flush();
}

static HOOK: Once = Once::new();
/// Set while a guard holds the terminal (suspended for the editor too).
static SESSION: AtomicBool = AtomicBool::new(false);
/// The first panic that ends the session, as a message for the CSM.
static FATAL: Mutex<Option<String>> = Mutex::new(None);
/// Wakes the event loop when `FATAL` is set.
static FATAL_NOTIFY: Notify = Notify::const_new();

thread_local! {
    /// Whether this thread entered the terminal (the UI thread).
    static UI: Cell<bool> = const { Cell::new(false) };
    /// How many `catch_panic` calls this thread is inside.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic that the caller reports itself (as a message
/// on screen): the panic hook then only logs it and the session goes on.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    result
}

/// Resolves when a panic outside the UI thread has ended the session.
pub async fn fatal() {
    FATAL_NOTIFY.notified().await;
}

/// The message of the panic that ended the session, if one did.
pub fn take_fatal() -> Option<String> {
    FATAL.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// What the hook does with a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    /// No session: Rust's usual report.
    Default,
    /// Caught and reported by the code: log only.
    Caught,
    /// On the UI thread: restore, then the usual report; the unwinding ends the process.
    Ui,
    /// Elsewhere: log, and let the event loop end the session.
    EndSession,
}

fn disposition(session: bool, caught: bool, ui: bool) -> Disposition {
    match (session, caught, ui) {
        (false, _, _) => Disposition::Default,
        (true, true, _) => Disposition::Caught,
        (true, false, true) => Disposition::Ui,
        (true, false, false) => Disposition::EndSession,
    }
}

/// The panic's message and place, in one line.
fn describe(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    match info.location() {
        Some(l) => format!("{what} (at {}:{})", l.file(), l.line()),
        None => what,
    }
}

/// Records a panic that ends the session and wakes the event loop.
fn end_session(message: String) {
    let mut fatal = FATAL.lock().unwrap_or_else(|p| p.into_inner());
    // The first one is the cause; later ones often follow from it.
    if fatal.is_none() {
        *fatal = Some(message);
    }
    drop(fatal);
    FATAL_NOTIFY.notify_one();
}

/// Chains a panic hook that applies the rule in the module comment.
fn install_panic_hook() {
    HOOK.call_once(|| {
        // The store's hook sits inside this one, so an engine panic it keeps
        // quiet (and logs) never reaches the terminal or ends the session.
        crate::store::shield::install_hook();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if crate::store::shield::quiet(info) {
                previous(info);
                return;
            }
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("unnamed").to_string();
            let caught = CATCHING.with(|c| c.get() > 0);
            let ui = UI.with(|u| u.get());
            match disposition(SESSION.load(Ordering::SeqCst), caught, ui) {
                Disposition::Default => previous(info),
                Disposition::Caught => tracing::error!(thread = %name, %info, "panic (caught and reported)"),
                Disposition::Ui => {
                    restore();
                    tracing::error!(thread = %name, %info, "panic on the UI thread");
                    previous(info);
                }
                Disposition::EndSession => {
                    let backtrace = std::backtrace::Backtrace::force_capture();
                    tracing::error!(thread = %name, %info, %backtrace, "panic: ending the session");
                    let part = if name == "input" { "the keyboard reader" } else { "background work" };
                    end_session(format!("an internal error in {part} (thread {name}): {}", describe(info)));
                }
            }
        }));
    });
}

/// Debug builds only: panics when `COCKPIT_DEBUG_PANIC` names `point`, so
/// the end-to-end tests can see what a panic in that place does.
#[cfg(debug_assertions)]
#[track_caller]
pub fn debug_panic_point(point: &str) {
    if std::env::var("COCKPIT_DEBUG_PANIC").is_ok_and(|p| p == point) {
        panic!("injected panic at {point} (COCKPIT_DEBUG_PANIC)");
    }
}

/// Debug builds only (compiled out here).
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn debug_panic_point(_point: &str) {}

/// Holds the terminal in TUI mode until dropped.
pub struct Guard {
    /// The ratatui terminal.
    pub terminal: Term,
}

impl Guard {
    /// Enters raw mode and the alternate screen. Any failure on the way
    /// in restores the terminal before returning the error.
    pub fn enter() -> io::Result<Guard> {
        install_panic_hook();
        enable_raw_mode()?;
        let setup = || -> io::Result<Term> {
            let mut out = io::stdout();
            execute!(out, EnterAlternateScreen, EnableBracketedPaste, Hide)?;
            // No clear(): the alternate screen starts blank, and clearing
            // would ask the terminal for the cursor position, which some
            // terminals never answer.
            Terminal::new(CrosstermBackend::new(out))
        };
        match setup() {
            Ok(terminal) => {
                UI.with(|u| u.set(true));
                SESSION.store(true, Ordering::SeqCst);
                Ok(Guard { terminal })
            }
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Guard {
    /// Hands the terminal to another program (the CSM's editor).
    pub fn suspend(&mut self) {
        restore();
    }

    /// Takes the terminal back after `suspend`; the next draw repaints
    /// every cell.
    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, EnableBracketedPaste, Hide)?;
        self.terminal = Terminal::new(CrosstermBackend::new(out))?;
        Ok(())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
        SESSION.store(false, Ordering::SeqCst);
        UI.with(|u| u.set(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uncaught_panics_off_the_ui_thread_end_the_session() {
        assert_eq!(disposition(false, false, false), Disposition::Default);
        assert_eq!(disposition(false, true, true), Disposition::Default);
        assert_eq!(disposition(true, true, false), Disposition::Caught);
        assert_eq!(disposition(true, true, true), Disposition::Caught);
        assert_eq!(disposition(true, false, true), Disposition::Ui);
        assert_eq!(disposition(true, false, false), Disposition::EndSession);
    }

    #[test]
    fn the_first_fatal_panic_is_kept_and_wakes_the_loop() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let waiter = tokio::spawn(fatal());
            std::thread::spawn(|| end_session("first".into())).join().unwrap();
            end_session("second".into());
            tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
        });
        assert_eq!(take_fatal().as_deref(), Some("first"));
        assert_eq!(take_fatal(), None);
    }

    #[test]
    fn catch_panic_marks_the_thread_only_inside() {
        let r = catch_panic(|| CATCHING.with(|c| c.get()));
        assert_eq!(r.unwrap(), 1);
        assert!(catch_panic(|| panic!("reported by the caller")).is_err());
        assert_eq!(CATCHING.with(|c| c.get()), 0);
    }
}
