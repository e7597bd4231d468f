//! Commands beside a running cockpit. The cockpit holds the workspace's
//! lock; while it runs, it listens on a socket in the workspace directory
//! (mode 0600, inside the 0700 directory) and answers the headless
//! commands for the processes that cannot open the store themselves, with
//! the same output they would print. One request per connection: a JSON
//! line with the arguments; the answer is a JSON line (exit status,
//! message, lengths) followed by the stdout and stderr bytes.

#[cfg(unix)]
pub mod serve;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What only the cockpit's own job runner does (one sync, one push at a
/// time); the answer is what to print.
#[derive(Debug)]
pub enum Ask {
    /// Sync every source (or wait for the sync running) and say how each went.
    Sync(tokio::sync::oneshot::Sender<Result<String, String>>),
    /// Push the outbox now and say what happened.
    Push(tokio::sync::oneshot::Sender<Result<String, String>>),
}

/// The socket's file name in the workspace directory.
pub const SOCKET: &str = "cockpit.sock";

/// The most a request may hold (arguments only).
pub const MAX_REQUEST: usize = 64 * 1024;

/// The socket of the workspace in `dir`.
pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET)
}

/// What a command beside the cockpit asks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Request {
    /// The command line after the program's name.
    pub args: Vec<String>,
    /// The asker's `TZ`: its "today" is its own day.
    #[serde(default)]
    pub tz: Option<String>,
    /// The asker's clock when it was set with `--now`.
    #[serde(default)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// The head of an answer; the output bytes follow it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Head {
    /// The exit status.
    pub code: u8,
    /// The error message when the command failed (printed as `error: ...`).
    pub message: Option<String>,
    /// Bytes of stdout that follow.
    pub stdout: usize,
    /// Bytes of stderr that follow them.
    pub stderr: usize,
}

/// A finished answer: the head and the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status and message.
    pub head: Head,
    /// What the command printed on stdout.
    pub stdout: Vec<u8>,
    /// What it printed on stderr.
    pub stderr: Vec<u8>,
}

/// Why a cockpit open on the workspace gave no answer.
#[derive(Debug, thiserror::Error)]
#[error("the cockpit open on {} did not answer ({why}); try again", .dir.display())]
pub struct AskError {
    /// The workspace directory.
    pub dir: PathBuf,
    /// What failed on the socket.
    #[source]
    pub why: AskFailure,
}

/// What failed while asking.
#[derive(Debug, thiserror::Error)]
pub enum AskFailure {
    /// The socket failed (or the answer stopped short).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The request could not be written as JSON.
    #[error("{0}")]
    Request(serde_json::Error),
    /// The answer's head is not what this cockpit sends.
    #[error("an answer that does not read: {0}")]
    Garbled(serde_json::Error),
}

/// Asks the cockpit running on the workspace in `dir` to run `args`; `None`
/// when no cockpit answers there (none runs, or an older one without the
/// socket), so the caller says the workspace is busy as before.
#[cfg(unix)]
pub fn ask(dir: &Path, args: Vec<String>) -> Option<Result<Answer, AskError>> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket_path(dir)).ok()?;
    // A cockpit that stopped answering must not hold the command forever;
    // a sync it runs for the command may take minutes.
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(600)));
    let result = (|| -> Result<Answer, AskFailure> {
        let mut line = serde_json::to_vec(&Request {
            args,
            tz: std::env::var("TZ").ok(),
            now: crate::clock::is_set().then(crate::clock::now),
        })
        .map_err(AskFailure::Request)?;
        line.push(b'\n');
        stream.write_all(&line)?;
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        reader.read_line(&mut head)?;
        let head: Head = serde_json::from_str(&head).map_err(AskFailure::Garbled)?;
        let mut stdout = vec![0; head.stdout];
        reader.read_exact(&mut stdout)?;
        let mut stderr = vec![0; head.stderr];
        reader.read_exact(&mut stderr)?;
        Ok(Answer { head, stdout, stderr })
    })();
    Some(result.map_err(|why| AskError { dir: dir.to_path_buf(), why }))
}

/// No sockets here: a command beside a running cockpit is refused as before.
#[cfg(not(unix))]
pub fn ask(_dir: &Path, _args: Vec<String>) -> Option<Result<Answer, AskError>> {
    None
}
