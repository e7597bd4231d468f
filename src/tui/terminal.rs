//! Entering and leaving the terminal's TUI mode. The guard restores the
//! terminal on every path: normal exit, `?` error return, and panic.

use std::io::{self, Stdout, Write};
use std::sync::Once;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal;

/// The terminal type the cockpit draws on.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back: main screen, cooked mode, cursor shown.
/// Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = out.flush();
}

static HOOK: Once = Once::new();

/// Chains a panic hook that restores the terminal before the default
/// report, so a panic message lands on a usable screen.
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
            // Background threads report their panics as messages; only a
            // panic on the UI thread ends the session.
            if std::thread::current().name() == Some("main") {
                restore();
            }
            tracing::error!(%info, "panic");
            previous(info);
        }));
    });
}

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
            Ok(terminal) => Ok(Guard { terminal }),
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
    }
}
