//! The command line: one module per subcommand, all over the same store,
//! book and queue code as the cockpit.

pub mod account;
pub mod accounts;
pub mod error;
pub mod health;
pub mod import;
pub mod metrics;
pub mod outbox;
pub mod output;
pub mod print;
pub mod sync;
pub mod today;

pub use error::{CliResult, Error};

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, Config, Loaded};
use crate::demo::{self, DemoSpec};
use crate::store::{shield, HealthRules, Store, StoreError, WorkspaceMeta};
use crate::tui::first_frame::{self, FirstFrame};
use crate::tui::theme::Theme;
use crate::tui::{Opening, Session};
use crate::{logging, paths};
use error::ConfigError;

/// Cockpit: triage your customer-success day from the terminal.
#[derive(Debug, Parser)]
#[command(name = "cockpit", version, about, long_about = None)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: Global,
    /// What to do (default: open the cockpit).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Use the demo workspace (created on first use; no network, no config needed).
    #[arg(long, global = true)]
    pub demo: bool,
    /// Workspace directory (default: ~/.local/share/cockpit/default, or .../demo with --demo).
    #[arg(long, global = true, env = "COCKPIT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (default: ~/.config/cockpit/config.toml).
    #[arg(long, global = true, env = "COCKPIT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Theme: dark, light, high-contrast, or a file name in the themes directory.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Run as if it were this time (RFC 3339, e.g. 2026-11-27T16:00:00-08:00);
    /// the clock runs on from there. For replaying a day and for tests.
    #[arg(long, global = true, env = "COCKPIT_NOW", value_name = "TIME", value_parser = parse_now, hide = true)]
    pub now: Option<DateTime<Utc>>,
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim()).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        format!("{e}: give a full time with its offset, such as 2026-11-27T16:00:00-08:00 or 2026-11-28T00:00:00Z")
    })
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print today's follow-up queue (overdue and due today, most urgent first).
    Today {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print the accounts table.
    Accounts {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Sort by: health, name, arr, renewal, stage, tickets, last_touch.
        #[arg(long, default_value = "health")]
        sort: String,
        /// Reverse the sort.
        #[arg(long)]
        reverse: bool,
        /// Only accounts whose name, segment or stage contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// At most this many accounts.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// One account's whole record: every health input with its source and
    /// date (or why it is unknown), the score's factors, a year of daily
    /// scores, contacts, open tickets, deals, NPS answers and the timeline.
    Account {
        /// The account: its id, its id at a source, or its name (or a
        /// unique part of it).
        #[arg(value_name = "ID|NAME")]
        who: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Pull accounts from the configured sources into the workspace.
    Sync {
        /// Only this source (by name).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Re-read everything, not only what changed since the last sync.
        #[arg(long)]
        full: bool,
        /// List every skipped record and every unmatched or ambiguous organization.
        #[arg(long)]
        report: bool,
    },
    /// The writes waiting to reach HubSpot or Zendesk: list them (the
    /// default), push them now, or retry, edit or discard one.
    #[command(args_conflicts_with_subcommands = true)]
    Outbox {
        /// List options (with no subcommand).
        #[command(flatten)]
        list: outbox::ListArgs,
        /// What to do.
        #[command(subcommand)]
        action: Option<outbox::OutboxCommand>,
    },
    /// Generate a synthetic workspace (for demos and scale work).
    Demo {
        /// Number of accounts.
        #[arg(long, default_value_t = demo::DEFAULT_ACCOUNTS)]
        accounts: u64,
        /// Random seed (the same seed gives the same book).
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Churn, retention, renewal rate, NPS, health by band and segment, and
    /// ARR up for renewal, each with how it was counted.
    Metrics {
        /// First day of the period (default: 29 days before --to).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<chrono::NaiveDate>,
        /// Last day of the period (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: Option<chrono::NaiveDate>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Work with the health model.
    Health {
        /// What to do.
        #[command(subcommand)]
        action: HealthCommand,
    },
    /// Bring data in from a file (`cockpit import usage FILE`).
    Import {
        /// What the file holds.
        #[command(subcommand)]
        what: import::ImportCommand,
    },
    /// Check or show the config.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        action: ConfigCommand,
    },
}

/// `cockpit health ...`
#[derive(Debug, Subcommand)]
pub enum HealthCommand {
    /// Print the built-in health model, to copy and edit
    /// (`cockpit health model > ~/.config/cockpit/health.toml`).
    Model,
    /// How well past scores predicted churn: ROC AUC, red band precision
    /// and recall, top-decile lift, overall and per segment.
    Backtest {
        /// Days (or weeks) between a score and the outcome it should predict.
        #[arg(long, default_value = "90d", value_name = "90d|12w")]
        horizon: String,
        /// Replay another model file on the stored inputs instead of the
        /// stored scores (try a model before switching to it).
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Rescore the whole history with the model in force, then score today.
    Recompute,
}

/// `cockpit config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config file; errors name the line and column.
    Check,
    /// Print where the config, themes and workspace live.
    Path,
    /// Print an example config with every setting.
    Example,
}

/// Output formats of the headless commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// Stable JSON (documented in the README).
    Json,
    /// A Markdown table, to paste into notes or reports.
    Markdown,
}

fn config_loaded(g: &Global) -> CliResult<Loaded> {
    let themes = paths::themes_dir();
    let mut loaded = config::load(g.config.as_deref(), paths::config_file(), themes.as_deref())
        .map_err(|e| Error::from(ConfigError::Unreadable(e)))?;
    // The zone is read here, at the edge: the config's, else TZ, else the system's.
    let (calendar, note) = config::calendar::for_process(&loaded.config);
    loaded.config.calendar = calendar;
    loaded.issues.extend(note);
    Ok(loaded)
}

fn workspace_dir(g: &Global, loaded: &Loaded) -> CliResult<PathBuf> {
    if let Some(d) = &g.data_dir {
        return Ok(d.clone());
    }
    if g.demo {
        return Ok(paths::workspace_dir("demo")?);
    }
    match &loaded.config.data_dir {
        Some(d) => Ok(d.clone()),
        None => Ok(paths::workspace_dir("default")?),
    }
}

/// Opens the workspace in `dir`. The log file is set up first when the
/// directory exists, so what goes wrong while opening it is logged there.
fn open_store(dir: &Path, lean: bool) -> Result<Store, StoreError> {
    if dir.is_dir() {
        logging::init(dir);
    }
    let opened = if lean { Store::open_lean(dir) } else { Store::open(dir) };
    logging::init(dir);
    if let Err(e) = &opened {
        tracing::error!(dir = %dir.display(), "cannot open the workspace: {e}");
    }
    opened
}

/// With `--demo`, creates the demo in `dir` first if it is empty, and
/// refuses a workspace that holds synced data.
fn ensure_demo(g: &Global, dir: &Path, store: &Store) -> CliResult {
    if !g.demo {
        return Ok(());
    }
    match store.workspace()? {
        Some(meta) if meta.demo_seed.is_none() => Err(Error::usage(format!(
            "{} holds synced data, not the demo; drop --demo, or pick another --data-dir",
            dir.display()
        ))),
        Some(_) => Ok(()),
        None => {
            tracing::info!(dir = %dir.display(), "creating the demo workspace");
            Ok(demo::ensure(store, crate::clock::now()).map(|_| ())?)
        }
    }
}

/// The list options when the command lists the outbox.
fn outbox_listing(command: &Option<Command>) -> Option<outbox::ListArgs> {
    match command {
        Some(Command::Outbox { list, action: None }) => Some(*list),
        Some(Command::Outbox { action: Some(outbox::OutboxCommand::List(a)), .. }) => Some(*a),
        _ => None,
    }
}

/// The workspace's name and what its data is, for the status line.
fn label(meta: Option<WorkspaceMeta>, dir: &Path) -> (String, String) {
    match meta {
        Some(meta) if meta.demo_seed.is_some() => (meta.name, "demo data, offline".into()),
        Some(meta) => (meta.name, "offline".into()),
        None => (
            dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "workspace".into()),
            "no sources configured".into(),
        ),
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CliResult {
    let g = &cli.global;
    if let Some(t) = g.now {
        crate::clock::start_at(t);
    }
    match &cli.command {
        Some(Command::Config { action }) => return config_command(g, action),
        Some(Command::Health { action: HealthCommand::Model }) => {
            print!("{}", crate::domain::health_model::DEFAULT_MODEL);
            return Ok(());
        }
        Some(Command::Demo { accounts, seed }) => return demo_command(g, *accounts, *seed),
        _ => {}
    }
    let loaded = config_loaded(g)?;
    // The cockpit shows them as toasts (and logs them); a headless command
    // says them before its output, so a mistake is never silent.
    let is_headless = cli.command.is_some();
    if is_headless {
        for issue in &loaded.issues {
            eprintln!("warning: {issue}");
        }
    }
    // A headless sync writes in bulk: a small page cache keeps memory down.
    // So does the cockpit: its book and queue are held in memory, and
    // sled's cache (which overshoots its capacity) only serves the reader
    // thread and the passes; 64 MB cost it 140 MB more at its peak.
    let lean = matches!(cli.command, None | Some(Command::Sync { .. }));
    let dir = workspace_dir(g, &loaded)?;
    if cli.command.is_none() {
        // Nothing wrote since the last close: its first frame is drawn
        // while sled opens behind it.
        if let Some(frame) = FirstFrame::load(&dir).filter(|f| !g.demo || f.is_demo()) {
            logging::init(&dir);
            let opening = {
                let dir = dir.clone();
                std::thread::Builder::new()
                    .name("open".into())
                    .spawn(move || open_store(&dir, true))
                    .map_err(|e| Error::io("cannot start the cockpit", e, ""))?
            };
            let meta = frame.workspace.clone();
            return open_cockpit(g, loaded, Opening::Behind { dir, frame: Box::new(frame), open: opening }, meta);
        }
    }
    let store = match open_store(&dir, lean) {
        Ok(store) => store,
        // The outbox is the one thing a sync cannot bring back: list what
        // can still be read of it.
        Err(e @ StoreError::Corrupt { .. }) => {
            return match outbox_listing(&cli.command) {
                Some(args) => outbox::list_damaged(&dir, args, e, crate::clock::now()),
                None => Err(e.into()),
            }
        }
        // A cockpit is open on it: it answers the command instead.
        Err(e @ StoreError::Locked { .. }) if cli.command.is_some() => return beside_cockpit(&dir, e),
        Err(e) => return Err(e.into()),
    };
    ensure_demo(g, &dir, &store)?;
    if is_headless {
        for issue in &loaded.issues {
            tracing::warn!("{issue}");
        }
    }
    match &cli.command {
        None => {
            // An unreadable description only costs the label.
            let meta = store.workspace().ok().flatten();
            open_cockpit(g, loaded, store.into(), meta)
        }
        Some(command) => {
            // sled panics on some damage it reads: anywhere in a headless
            // command, that is the damaged-workspace message, not a crash.
            match shield::catch(&dir, || headless(command, &store, &loaded)) {
                Ok(result) => {
                    // The next cockpit draws it while sled opens.
                    let names: Vec<String> = loaded.config.sources.iter().map(|s| s.name.clone()).collect();
                    first_frame::keep(store, &names, &loaded.config.health_model, crate::clock::now());
                    result
                }
                Err(damaged) => {
                    // The engine's state after its panic is unknown: no drop
                    // (which flushes) runs on it.
                    std::mem::forget(store);
                    Err(damaged.into())
                }
            }
        }
    }
}

/// Asks the cockpit open on `dir` to run this command and prints its
/// answer as if it had run here; without an answer, the workspace is busy.
fn beside_cockpit(dir: &Path, busy: StoreError) -> CliResult {
    let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    match crate::remote::ask(dir, args) {
        None => Err(busy.into()),
        Some(Err(e)) => Err(e.into()),
        Some(Ok(answer)) => {
            use std::io::Write;
            let _ = std::io::stderr().write_all(&answer.stderr);
            print::out(format_args!("{}", String::from_utf8_lossy(&answer.stdout)));
            match (answer.head.code, answer.head.message) {
                (0, _) => Ok(()),
                (code, message) => Err(Error::Answered { message: message.unwrap_or_default(), code }),
            }
        }
    }
}

/// Runs a headless command on the open workspace.
/// Queues the health writes `[health.write_back]` asks for after a daily
/// pass; a failure is logged (the scores stand, the next pass tries again).
pub(crate) fn write_back(
    store: &Store,
    c: &Config,
    now: DateTime<Utc>,
) -> Option<crate::engine::write_back::WriteBackReport> {
    let wb = c.sources.iter().find_map(|s| s.write_back.as_ref())?;
    use crate::engine::write_back::{queue_health_writes, WriteBackRules};
    match queue_health_writes(store, &WriteBackRules { write_back: wb, model: &c.health_model, bands: &c.bands }, now) {
        Ok(r) => {
            tracing::info!(queued = r.queued, replaced = r.replaced, unchanged = r.unchanged, "health write-back");
            Some(r)
        }
        Err(e) => {
            tracing::warn!("health write-back could not be queued: {e}");
            None
        }
    }
}

fn headless(command: &Command, store: &Store, loaded: &Loaded) -> CliResult {
    let now = crate::clock::now();
    let c = &loaded.config;
    let rules = HealthRules { model: &c.health_model, flags: &c.flags, bands: &c.bands };
    if let Command::Sync { source, full, report } = command {
        if c.sources.is_empty() && loaded.issues.iter().any(|i| i.contains("source \"") || i.contains("[[source]]")) {
            return Err(ConfigError::NoUsableSource.into());
        }
        let result = sync::run(store, c, source.clone(), *full, *report);
        // A first or full sync brought the past: rebuild and score it now,
        // so the sparkline and the backtest work from the first day.
        if store.rebuild_waiting() {
            let started = std::time::Instant::now();
            // The history there is gets the model in force first, so the
            // rebuilt days and the rest are scored alike (and once).
            let rebuilt = store
                .ensure_model(&c.health_model, crate::clock::now().date_naive())
                .and_then(|_| store.rebuild_marked(&c.health_model, crate::clock::now()));
            match rebuilt {
                Ok(r) => println!(
                    "history: {} account(s), {} day(s) rebuilt from the records and scored in {:.1} s",
                    r.accounts,
                    r.days,
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => eprintln!("the history could not be rebuilt ({e}); it is tried again at the next start"),
            }
        }
        // New records change today's inputs: score them, even after a
        // partial sync (what landed is real).
        // Only the accounts it changed are scored again (the day's full
        // pass when the day turned).
        match store.upkeep(rules, crate::clock::now()) {
            Ok(changed) => tracing::info!(changed, "health upkeep after the sync"),
            Err(e) => tracing::warn!("health upkeep after the sync failed: {e}"),
        }
        // The day's health back to HubSpot, pushed now rather than at the next sync.
        if write_back(store, c, crate::clock::now()).is_some_and(|q| q.queued > 0) {
            println!("health: queued for HubSpot; pushing");
            return result.and(sync::push_outbox(store, c));
        }
        return result;
    }
    if !matches!(command, Command::Health { action: HealthCommand::Recompute } | Command::Outbox { .. }) {
        // Figures shown must come from today's pass under the model in force
        // (the cockpit runs it in the background instead).
        if store.upkeep(rules, now)? {
            write_back(store, c, now);
        }
    }
    answer(command, store, c, now)
}

/// Runs a command that reads the workspace (or changes one outbox entry)
/// and prints its answer: the part of a headless command a running cockpit
/// can serve for another process (see `remote`).
pub fn answer(command: &Command, store: &Store, c: &Config, now: DateTime<Utc>) -> CliResult {
    if let Command::Account { who, format } = command {
        return account::run(store, c, who, *format, now);
    }
    let result = match command {
        Command::Today { format } => today::run(store, *format, now, &c.calendar),
        Command::Metrics { from, to, format } => metrics::run(store, c.bands, *from, *to, *format, c.calendar.day(now)),
        Command::Accounts { format, sort, reverse, filter, limit } => accounts::run(
            store,
            accounts::Query { sort, reverse: *reverse, filter: filter.as_deref(), limit: *limit },
            c.bands,
            *format,
            now,
        ),
        Command::Outbox { list, action } => outbox::run(store, c, action.as_ref(), *list),
        Command::Health { action: HealthCommand::Backtest { horizon, model, format } } => {
            health::backtest(store, c, horizon, model.as_deref(), *format)
        }
        Command::Health { action: HealthCommand::Recompute } => health::recompute(store, c, now),
        Command::Import { what } => import::run(store, c, what, now),
        Command::Sync { .. }
        | Command::Config { .. }
        | Command::Demo { .. }
        | Command::Health { .. }
        | Command::Account { .. } => Ok(()),
    };
    result
}

fn open_cockpit(g: &Global, loaded: Loaded, store: Opening, meta: Option<WorkspaceMeta>) -> CliResult {
    let themes = paths::themes_dir();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let requested = g.theme.as_deref().or(loaded.config.theme.as_deref());
    let (theme, theme_warnings) = Theme::resolve(requested, themes.as_deref(), no_color);
    // The config checked every binding; its problems are among `issues`.
    let keymap = loaded.config.keys.clone();
    let mut warnings = loaded.issues.clone();
    warnings.extend(theme_warnings);
    let is_demo = meta.as_ref().is_some_and(|m| m.demo_seed.is_some());
    let (workspace, data_label) = label(meta, store.dir());
    // The demo never syncs: it must work with no network at all.
    let sources = if is_demo { Vec::new() } else { loaded.config.sources.clone() };
    let every = loaded.config.sync_every_minutes;
    let sync_every = (every > 0).then(|| std::time::Duration::from_secs(60 * every as u64));
    let author = loaded.config.author.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "me".into());
    let config = Some(std::sync::Arc::new(loaded.config.clone()));
    let session = Session {
        config,
        store,
        theme,
        keymap,
        bands: loaded.config.bands,
        workspace,
        data_label,
        sources,
        sync_every,
        warnings,
        author,
        signature: loaded.config.author.clone().filter(|a| !a.trim().is_empty()),
        health_model: loaded.config.health_model,
        flags: loaded.config.flags,
        replies: loaded.config.replies,
        calendar: loaded.config.calendar,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e, ""))?;
    let ended = runtime.block_on(crate::tui::run(session)).map_err(Error::from_cockpit)?;
    match ended {
        crate::tui::Ended::Quit => Ok(()),
        // The store is flushed and the terminal restored: exit now, without
        // waiting for background work (the process must not linger).
        other => std::process::exit(other.exit_code()),
    }
}

fn config_command(g: &Global, action: &ConfigCommand) -> CliResult {
    match action {
        ConfigCommand::Example => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        ConfigCommand::Path => {
            let loaded = Loaded::default();
            let show = |p: Option<PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_else(|| "(none)".into());
            println!("config:    {}", show(g.config.clone().or_else(paths::config_file)));
            println!("themes:    {}", show(paths::themes_dir()));
            println!("workspace: {}", show(workspace_dir(g, &loaded).ok()));
            Ok(())
        }
        ConfigCommand::Check => {
            let loaded = config_loaded(g)?;
            let Some(path) = &loaded.path else {
                println!("No config file (looked for {}); the defaults are in use.", show_default());
                return Ok(());
            };
            if let Some(theme) = &g.theme {
                let (_, warnings) = Theme::load(theme, paths::themes_dir().as_deref());
                if let Some(w) = warnings.first() {
                    return Err(ConfigError::Theme(w.to_string()).into());
                }
            }
            if loaded.issues.is_empty() {
                println!("{}: ok", path.display());
                if let Some(file) = &loaded.config.model_file {
                    let m = &loaded.config.health_model;
                    println!("health model {}: ok ({} version {})", file.path.display(), m.name, m.version);
                }
                Ok(())
            } else {
                for issue in &loaded.issues {
                    eprintln!("{issue}");
                }
                Err(ConfigError::Problems { count: loaded.issues.len(), path: path.clone() }.into())
            }
        }
    }
}

fn show_default() -> String {
    paths::config_file().map(|p| p.display().to_string()).unwrap_or_else(|| "no config directory".into())
}

fn demo_command(g: &Global, accounts: u64, seed: u64) -> CliResult {
    let dir = match &g.data_dir {
        Some(d) => d.clone(),
        None => paths::workspace_dir(&format!("demo-{accounts}"))?,
    };
    if accounts == 0 {
        return Err(Error::usage("--accounts must be at least 1"));
    }
    let store = open_store(&dir, false)?;
    if store.workspace()?.is_some() || store.accounts().next().is_some() {
        return Err(Error::usage(format!(
            "{} already holds a workspace; pick an empty --data-dir (nothing was changed)",
            dir.display()
        )));
    }
    let started = std::time::Instant::now();
    eprintln!("Generating {accounts} accounts (seed {seed}) in {} ...", dir.display());
    let g = demo::generate(&store, &DemoSpec { accounts, seed, now: crate::clock::now() })?;
    first_frame::keep(store, &[], crate::domain::health_model::Model::builtin_ref(), crate::clock::now());
    eprintln!(
        "Done in {:.1} s: {} accounts, {} tickets, {} follow-ups. Open it with: cockpit --data-dir {}",
        started.elapsed().as_secs_f64(),
        g.accounts,
        g.tickets,
        g.follow_ups,
        shell_path(&dir)
    );
    Ok(())
}

fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.contains(' ') {
        format!("'{s}'")
    } else {
        s
    }
}
