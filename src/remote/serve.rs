//! The cockpit's side of `remote`: a listener on the workspace's socket
//! that runs each asked command against the open store (reads off the
//! event loop, writes through the writer) and sends back its output.

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;

use super::{socket_path, Answer, Ask, Head, Request, MAX_REQUEST};
use crate::cli::error::code;
use crate::cli::outbox::OutboxCommand;
use crate::cli::print::{capture, Captured};
use crate::cli::{Cli, CliResult, Command, HealthCommand};
use crate::config::Config;
use crate::engine::upkeep::{HealthSetup, Pass, Upkeep};
use crate::engine::writer::Writer;

/// What the server runs commands with.
pub struct Context {
    /// The cockpit's writer (and, through it, the store).
    pub writer: Writer,
    /// The config the cockpit runs with.
    pub config: Arc<Config>,
    /// The health rules, for the upkeep before figures are read.
    pub setup: Arc<HealthSetup>,
    /// Hands a sync or push to the cockpit's runner.
    pub ask: Box<dyn Fn(Ask) + Send + Sync>,
}

/// The socket file, removed when the cockpit ends.
pub struct Listening {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Starts answering on the workspace's socket; `None` (logged) when it
/// cannot listen, and the cockpit runs on without it.
pub fn start(ctx: Context) -> Option<Listening> {
    let path = socket_path(ctx.writer.store().path());
    // A socket left by a cockpit that was killed: nobody answers on it.
    if std::os::unix::net::UnixStream::connect(&path).is_err() {
        let _ = std::fs::remove_file(&path);
    }
    let listener = match bind_private(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(path = %path.display(), "commands beside the cockpit are off: cannot listen ({e})");
            return None;
        }
    };
    let ctx = Arc::new(ctx);
    let task = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve_one(stream, ctx.clone()));
                }
                Err(e) => {
                    tracing::warn!("the command socket stopped: {e}");
                    return;
                }
            }
        }
    });
    Some(Listening { path, task })
}

/// Binds with no permission for anyone else from the first moment.
fn bind_private(path: &std::path::Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    // The umask is process-wide, so the mode is set right after the bind;
    // the workspace directory (0700) keeps others out meanwhile.
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

async fn serve_one(stream: UnixStream, ctx: Arc<Context>) {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    let mut reader = BufReader::new(read).take(MAX_REQUEST as u64);
    let answer = match reader.read_until(b'\n', &mut line).await {
        Ok(_) => match serde_json::from_slice::<Request>(&line) {
            Ok(req) => run(req.args, req.tz, req.now, &ctx).await,
            Err(e) => failed(2, format!("a request that does not read: {e}")),
        },
        Err(e) => failed(1, format!("the request could not be read: {e}")),
    };
    let head = serde_json::to_vec(&answer.head).expect("the head serializes");
    let sent = async {
        write.write_all(&head).await?;
        write.write_all(b"\n").await?;
        write.write_all(&answer.stdout).await?;
        write.write_all(&answer.stderr).await?;
        write.shutdown().await
    };
    if let Err(e) = sent.await {
        tracing::info!("a command beside the cockpit went away before its answer: {e}");
    }
}

fn failed(code: u8, message: String) -> Answer {
    Answer { head: Head { code, message: Some(message), stdout: 0, stderr: 0 }, stdout: Vec::new(), stderr: Vec::new() }
}

fn answered(result: CliResult, out: Captured) -> Answer {
    let (code, message) = match result {
        Ok(()) => (0, None),
        Err(e) => (e.exit_code(), Some(e.to_string())),
    };
    let head = Head { code, message, stdout: out.stdout.len(), stderr: out.stderr.len() };
    Answer { head, stdout: out.stdout, stderr: out.stderr }
}

/// Runs one command line as the headless command would.
async fn run(args: Vec<String>, tz: Option<String>, now: Option<DateTime<Utc>>, ctx: &Arc<Context>) -> Answer {
    let cli = match Cli::try_parse_from(std::iter::once("cockpit".to_string()).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            return answered(Ok(()), Captured { stdout: Vec::new(), stderr: e.render().to_string().into_bytes() })
        }
    };
    tracing::info!(command = ?cli.command, "a command beside the cockpit");
    let Some(command) = cli.command else {
        return failed(code::BUSY, "the cockpit is already open on this workspace".into());
    };
    // The asker's day and zone: its clock, its TZ (the config's zone wins).
    let now = now.unwrap_or_else(crate::clock::now);
    let mut config = (*ctx.config).clone();
    if config.timezone.is_none() {
        let system = iana_time_zone::get_timezone().ok();
        config.calendar = crate::config::calendar::resolve(&config, tz.as_deref(), system.as_deref()).0;
    }
    match &command {
        Command::Today { .. }
        | Command::Accounts { .. }
        | Command::Account { .. }
        | Command::Metrics { .. }
        | Command::Health { action: HealthCommand::Backtest { .. } }
        | Command::Outbox { action: None | Some(OutboxCommand::List(_)), .. } => {
            // Figures come from today's pass under the model in force, as
            // when the command opens the store itself.
            if let Err(e) = upkeep(ctx).await {
                tracing::warn!("the health upkeep before a command failed: {e}");
            }
            let ctx = ctx.clone();
            let answer = tokio::task::spawn_blocking(move || {
                let (r, out) = capture(|| crate::cli::answer(&command, ctx.writer.store(), &config, now));
                answered(r, out)
            });
            answer.await.unwrap_or_else(|_| failed(1, "an internal error stopped the command; see the log".into()))
        }
        Command::Outbox { action: Some(OutboxCommand::Retry { .. } | OutboxCommand::Discard { .. }), .. } => {
            // A change to the outbox: made by the writer, in order with the
            // cockpit's own.
            let ctx = ctx.clone();
            let answer = tokio::task::spawn_blocking(move || {
                ctx.writer.run(move |store| Ok(capture(|| crate::cli::answer(&command, store, &config, now))))
            });
            match answer.await {
                Ok(Ok((r, out))) => answered(r, out),
                Ok(Err(e)) => failed(1, e.to_string()),
                Err(_) => failed(1, "an internal error stopped the command; see the log".into()),
            }
        }
        Command::Sync { source: None, full: false, .. } => ask(ctx, Ask::Sync).await,
        Command::Outbox { action: Some(OutboxCommand::Push), .. } => ask(ctx, Ask::Push).await,
        Command::Sync { .. } => failed(
            code::BUSY,
            "the cockpit open on this workspace syncs every source itself; `cockpit sync` with no option asks it to \
             sync now (--source and --full need the workspace to themselves: quit the cockpit first)"
                .into(),
        ),
        other => failed(
            code::BUSY,
            format!(
                "`cockpit {}` needs the workspace to itself, and a cockpit is open on it; quit that one first",
                name(other)
            ),
        ),
    }
}

/// Runs the health upkeep through the writer and waits for it.
async fn upkeep(ctx: &Context) -> Result<bool, String> {
    let (tx, rx) = oneshot::channel();
    ctx.writer.steps(Upkeep::new(ctx.setup.clone(), crate::clock::now(), Pass::Upkeep, move |r| {
        let _ = tx.send(r.map_err(|e| e.to_string()));
    }));
    rx.await.map_err(|_| "the writer stopped".to_string())?
}

/// Hands a sync or push to the cockpit and prints what it says.
async fn ask(ctx: &Context, make: fn(oneshot::Sender<Result<String, String>>) -> Ask) -> Answer {
    let (tx, rx) = oneshot::channel();
    (ctx.ask)(make(tx));
    match rx.await {
        Ok(Ok(text)) => answered(Ok(()), Captured { stdout: text.into_bytes(), stderr: Vec::new() }),
        Ok(Err(e)) => failed(1, e),
        Err(_) => failed(1, "the cockpit ended before it finished; run the command again".into()),
    }
}

/// The command's name as typed.
fn name(c: &Command) -> &'static str {
    match c {
        Command::Import { .. } => "import",
        Command::Health { .. } => "health",
        Command::Demo { .. } => "demo",
        Command::Config { .. } => "config",
        Command::Outbox { .. } => "outbox",
        _ => "this command",
    }
}
