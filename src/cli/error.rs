//! The one error a command ends with: the cause kept (a `StoreError`, a
//! sync's `SyncError`s, the OS error, the socket's failure), the message
//! for the person at the keyboard, and the exit status, one per kind of
//! failure so a script can tell them apart (the README's table).

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use crate::remote::AskError;
use crate::store::StoreError;
use crate::sync::http::SyncError;

/// The exit statuses, as the README's Commands section documents them.
pub mod code {
    /// The command could not do its work: a source or the push failed, a
    /// file to import was refused, nothing matched, an I/O error.
    pub const FAILED: u8 = 1;
    /// The request cannot be served as given: a name several accounts
    /// match, a value out of range, the wrong `--data-dir` (clap's own
    /// usage errors exit 2 too).
    pub const USAGE: u8 = 2;
    /// The config cannot be used: the file does not read, `config check`
    /// found problems, no source can sync.
    pub const CONFIG: u8 = 3;
    /// Another cockpit holds the workspace and did not serve the command.
    pub const BUSY: u8 = 4;
    /// The workspace is damaged.
    pub const DAMAGED: u8 = 5;
    /// The workspace was written by a cockpit this one cannot read.
    pub const VERSION: u8 = 6;
}

/// Why a command failed. `Display` is the message printed as `error: ...`;
/// `source()` leads to what caused it; `exit_code()` is the status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be served as given (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The config cannot be used (exit 3).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The workspace failed: busy (4), damaged (5), from another version
    /// (6), or anything else (1).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The workspace is damaged and not even its outbox could be read (exit 5).
    #[error("{damage}\n\nThe outbox could not be read either: {salvage}")]
    Unsalvageable {
        /// What is damaged.
        #[source]
        damage: StoreError,
        /// Why the salvage failed too.
        salvage: StoreError,
    },
    /// A source or the outbox push failed (exit 1, or 5 when it found the
    /// workspace damaged).
    #[error("{0}")]
    Sync(#[from] SyncFailed),
    /// An I/O call failed (exit 1).
    #[error("{doing}: {source}{then}")]
    Io {
        /// What was being done ("cannot read usage.csv").
        doing: String,
        /// The OS error.
        source: std::io::Error,
        /// What it means or what to do, with its separator ("; check the path").
        then: &'static str,
    },
    /// A cockpit is open on the workspace and did not answer (exit 4).
    #[error("{0}")]
    Beside(#[from] AskError),
    /// A cockpit open on the workspace ran the command and it failed: its
    /// message and status, as that cockpit gave them.
    #[error("{message}")]
    Answered {
        /// The message.
        message: String,
        /// The exit status.
        code: u8,
    },
    /// The cockpit's screen failed (exit 1).
    #[error("{0}")]
    Tui(#[source] Chain),
    /// The command could not do its work, in words (exit 1).
    #[error("{0}")]
    Failed(String),
}

/// A command's result.
pub type CliResult<T = ()> = Result<T, Error>;

impl Error {
    /// The process's exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => code::USAGE,
            Error::Config(_) => code::CONFIG,
            Error::Store(e) => store_code(e),
            Error::Unsalvageable { .. } => code::DAMAGED,
            Error::Sync(f) => f.exit_code(),
            Error::Beside(_) => code::BUSY,
            Error::Answered { code, .. } => *code,
            Error::Io { .. } | Error::Tui(_) | Error::Failed(_) => code::FAILED,
        }
    }

    /// An I/O error while `doing` something, then what to do (`then` starts
    /// with its separator, or is empty).
    pub fn io(doing: impl Into<String>, source: std::io::Error, then: &'static str) -> Error {
        Error::Io { doing: doing.into(), source, then }
    }

    /// The cockpit's error: a workspace error stays one (damage found while
    /// reading the first frame exits as damage); any other keeps its chain.
    pub fn from_cockpit(e: Box<dyn StdError>) -> Error {
        match e.downcast::<StoreError>() {
            Ok(store) => Error::Store(*store),
            Err(other) => Error::Tui(Chain::of(other.as_ref())),
        }
    }

    /// A request that cannot be served as given.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    /// The causes under the message, outermost first (`main` shows them
    /// with `COCKPIT_LOG=debug`).
    pub fn causes(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        std::iter::successors(self.source(), |e: &&(dyn StdError + 'static)| (*e).source())
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::Failed(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::Failed(message.to_string())
    }
}

/// The status a workspace error exits with.
fn store_code(e: &StoreError) -> u8 {
    match e {
        StoreError::Locked { .. } => code::BUSY,
        StoreError::Corrupt { .. } => code::DAMAGED,
        StoreError::NewerSchema { .. } | StoreError::NoMigration { .. } => code::VERSION,
        _ => code::FAILED,
    }
}

/// Why the config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read (the loader's message).
    #[error("{0}")]
    Unreadable(String),
    /// `config check` found problems (each printed before the summary).
    #[error("{count} problem{} in {}", if *.count == 1 { "" } else { "s" }, .path.display())]
    Problems {
        /// How many.
        count: usize,
        /// The file.
        path: PathBuf,
    },
    /// A theme given with `--theme` does not load.
    #[error("--theme: {0}")]
    Theme(String),
    /// Sources were configured, but each has a problem.
    #[error(
        "no source can be used: every [[source]] in the config has a problem (the warnings above say which); fix \
         them (`cockpit config check` lists them all) and sync again"
    )]
    NoUsableSource,
    /// No source is configured at all.
    #[error("no sources are configured; add a [[source]] table to the config (see `cockpit config example`)")]
    NoSources,
    /// `--source NAME` names none of them.
    #[error("no source named \"{0}\" in the config (`cockpit config check` lists problems)")]
    NoSuchSource(String),
}

/// What stopped a sync: each source that stopped early, then the push.
#[derive(Debug, Default)]
pub struct SyncFailed {
    /// The sources that stopped early, in order.
    pub sources: Vec<SyncError>,
    /// The outbox push, when it failed.
    pub push: Option<StoreError>,
}

impl SyncFailed {
    /// Nothing failed.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.push.is_none()
    }

    /// 5 when a source found the workspace damaged, else 1.
    pub fn exit_code(&self) -> u8 {
        let stores = self.sources.iter().filter_map(|e| match e {
            SyncError::Store(s) => Some(s),
            _ => None,
        });
        if stores.chain(self.push.iter()).any(|s| matches!(s, StoreError::Corrupt { .. })) {
            code::DAMAGED
        } else {
            code::FAILED
        }
    }
}

impl fmt::Display for SyncFailed {
    /// One failure a line; `main` puts `error: ` before the first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<String> = self.sources.iter().map(|e| e.to_string()).collect();
        lines.extend(self.push.iter().map(|e| format!("outbox: {e}")));
        f.write_str(&lines.join("\nerror: "))
    }
}

impl StdError for SyncFailed {
    /// The first failure (every one is in the message).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match (self.sources.first(), &self.push) {
            (Some(e), _) => Some(e),
            (None, Some(e)) => Some(e),
            (None, None) => None,
        }
    }
}

/// An error chain kept as its messages, for an error that cannot travel
/// between threads (the cockpit's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    message: String,
    source: Option<Box<Chain>>,
}

impl Chain {
    /// The messages of `e` and of each of its sources.
    pub fn of(e: &dyn StdError) -> Chain {
        Chain { message: e.to_string(), source: e.source().map(|s| Box::new(Chain::of(s))) }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Chain {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|c| c as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn damaged() -> StoreError {
        StoreError::Corrupt { path: PathBuf::from("/ws"), detail: "its records could not be read back".into() }
    }

    #[test]
    fn a_store_error_stays_reachable_under_the_top_error() {
        let e = Error::from(StoreError::NoAccount(7));
        assert_eq!(e.to_string(), "no account with id 7 in this workspace", "the message is the store's");
        let cause = e.source().and_then(|s| s.downcast_ref::<StoreError>());
        assert!(matches!(cause, Some(StoreError::NoAccount(7))), "{cause:?}");
        assert_eq!(e.exit_code(), code::FAILED);
    }

    #[test]
    fn each_kind_of_store_failure_has_its_status() {
        let locked = StoreError::Locked { path: PathBuf::from("/ws") };
        assert_eq!(Error::from(locked).exit_code(), code::BUSY);
        assert_eq!(Error::from(damaged()).exit_code(), code::DAMAGED);
        assert_eq!(Error::from(StoreError::NewerSchema { found: 9, supported: 5 }).exit_code(), code::VERSION);
        assert_eq!(Error::from(StoreError::NoMigration { from: 0 }).exit_code(), code::VERSION);
        let unsalvageable = Error::Unsalvageable { damage: damaged(), salvage: StoreError::NoOutboxEntry(1) };
        assert_eq!(unsalvageable.exit_code(), code::DAMAGED);
        assert!(matches!(
            unsalvageable.source().and_then(|s| s.downcast_ref::<StoreError>()),
            Some(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_sync_keeps_each_source_s_error_and_the_store_under_it() {
        let missing = SyncError::MissingSecret { name: "crm".into(), env: "CRM_TOKEN".into() };
        let failed = SyncFailed { sources: vec![missing, SyncError::Store(damaged())], push: None };
        let e = Error::from(failed);
        let want = format!(
            "crm: the environment variable CRM_TOKEN is not set; export it with your token (the token never goes \
             in the config)\nerror: {}",
            damaged()
        );
        assert_eq!(e.to_string(), want, "each failure after its own `error: `");
        let first = e.source().and_then(|s| s.downcast_ref::<SyncFailed>()).expect("the sync's failure");
        assert!(matches!(first.sources[1], SyncError::Store(StoreError::Corrupt { .. })));
        let under = e.causes().nth(1).and_then(|s| s.downcast_ref::<SyncError>());
        assert!(matches!(under, Some(SyncError::MissingSecret { .. })), "{under:?}");
        assert_eq!(e.exit_code(), code::DAMAGED, "a source found the workspace damaged");

        let push = SyncFailed { sources: Vec::new(), push: Some(StoreError::NoOutboxEntry(3)) };
        let e = Error::from(push);
        assert!(e.to_string().starts_with("outbox: the outbox has no entry 3"), "{e}");
        assert_eq!(e.exit_code(), code::FAILED);
        let store = e.causes().find_map(|s| s.downcast_ref::<StoreError>());
        assert!(matches!(store, Some(StoreError::NoOutboxEntry(3))), "{store:?}");
    }

    #[test]
    fn an_io_error_keeps_the_os_error_and_the_words_around_it() {
        let os = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = Error::io("cannot read usage.csv", os, "; check the path");
        assert_eq!(e.to_string(), "cannot read usage.csv: No such file or directory; check the path");
        let cause = e.source().and_then(|s| s.downcast_ref::<std::io::Error>()).expect("the OS error");
        assert_eq!(cause.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(e.exit_code(), code::FAILED);
    }

    #[test]
    fn a_cockpit_that_did_not_answer_is_busy_and_keeps_why() {
        let why = crate::remote::AskFailure::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"));
        let e = Error::from(AskError { dir: PathBuf::from("/ws"), why });
        assert_eq!(e.to_string(), "the cockpit open on /ws did not answer (timed out); try again");
        assert_eq!(e.exit_code(), code::BUSY);
        let chain: Vec<String> = e.causes().map(|c| c.to_string()).collect();
        assert_eq!(chain, ["the cockpit open on /ws did not answer (timed out); try again", "timed out", "timed out"]);
        assert!(e.causes().any(|c| c.downcast_ref::<std::io::Error>().is_some()));
    }

    #[test]
    fn the_cockpit_s_workspace_error_stays_one() {
        let e = Error::from_cockpit(Box::new(damaged()));
        assert!(matches!(e, Error::Store(StoreError::Corrupt { .. })), "{e:?}");
        assert_eq!(e.exit_code(), code::DAMAGED);
        let e = Error::from_cockpit(Box::new(std::io::Error::other("no terminal")));
        assert!(matches!(e, Error::Tui(_)), "{e:?}");
        assert_eq!(e.to_string(), "no terminal");
    }

    #[test]
    fn the_cockpit_s_error_keeps_its_chain_as_text() {
        let e = Error::Tui(Chain::of(&AskError {
            dir: PathBuf::from("/ws"),
            why: crate::remote::AskFailure::Io(std::io::Error::other("gone")),
        }));
        let chain: Vec<String> = e.causes().map(|c| c.to_string()).collect();
        assert_eq!(chain, ["the cockpit open on /ws did not answer (gone); try again", "gone", "gone"]);
        assert_eq!(e.exit_code(), code::FAILED);
    }

    #[test]
    fn every_kind_has_its_own_status_and_an_answer_keeps_the_one_it_was_given() {
        let all = [code::FAILED, code::USAGE, code::CONFIG, code::BUSY, code::DAMAGED, code::VERSION];
        let distinct: std::collections::BTreeSet<u8> = all.iter().copied().collect();
        assert_eq!(distinct.len(), all.len());
        assert!(!distinct.contains(&0));
        assert_eq!(Error::usage("x").exit_code(), code::USAGE);
        assert_eq!(Error::from(ConfigError::NoSources).exit_code(), code::CONFIG);
        assert_eq!(Error::from("x").exit_code(), code::FAILED);
        assert_eq!(Error::Answered { message: "x".into(), code: 6 }.exit_code(), 6);
        let problems = ConfigError::Problems { count: 1, path: PathBuf::from("c.toml") };
        assert_eq!(problems.to_string(), "1 problem in c.toml");
    }
}
