//! Toasts, one part of the app's state: messages in the status line that
//! go away by themselves. Each is written to the log as it is shown: the
//! status line shows only the newest, and points at the log for the others.

use std::time::{Duration, Instant};

/// How loud a toast is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Confirmation.
    Info,
    /// Something degraded (a bad theme, a skipped key).
    Warning,
    /// Something failed.
    Error,
}

/// A message in the status line that goes away by itself.
#[derive(Debug, Clone)]
pub struct Toast {
    /// The text.
    pub text: String,
    /// How loud.
    pub level: Level,
    /// When it disappears.
    pub until: Instant,
}

/// The toasts showing, oldest first.
#[derive(Debug, Default)]
pub struct Toasts {
    list: Vec<Toast>,
}

impl Toasts {
    /// Shows a toast for `for_`, and logs it at its level.
    pub fn show(&mut self, level: Level, text: String, for_: Duration) {
        match level {
            Level::Info => tracing::info!("{text}"),
            Level::Warning => tracing::warn!("{text}"),
            Level::Error => tracing::error!("{text}"),
        }
        self.list.push(Toast { text, level, until: Instant::now() + for_ });
    }

    /// Drops the toasts whose time is up at `now`; whether any went.
    pub fn expire(&mut self, now: Instant) -> bool {
        let before = self.list.len();
        self.list.retain(|toast| toast.until > now);
        before != self.list.len()
    }

    /// The newest.
    pub fn last(&self) -> Option<&Toast> {
        self.list.last()
    }

    /// How many show.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none shows.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Toast> {
        self.list.iter()
    }

    /// Takes them all down.
    pub fn clear(&mut self) {
        self.list.clear();
    }
}
