//! The terminal UI: an event loop over `App` (state + update) and `view`
//! (draw). Input, ticks and background work arrive as messages; drawing
//! never waits on I/O.

pub mod account_app;
pub mod account_reads;
pub mod account_view;
pub mod action;
pub mod app;
pub mod compose;
pub mod drafts;
pub mod editor;
pub mod effect;
pub mod first_frame;
pub mod followups;
pub mod full_read;
pub mod guard;
pub mod jobs;
pub mod keymap;
pub mod metrics;
pub mod msg;
pub mod outbox;
pub mod overlays;
pub mod panes;
pub mod queue_index;
pub mod reads;
pub mod selection;
pub mod signals;
pub mod status;
pub mod task;
pub mod terminal;
pub mod theme;
pub mod toasts;
pub mod view;
pub mod writes;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event;
use tokio::sync::mpsc;

use crate::book::Book;
use crate::domain::Bands;
use crate::engine::upkeep::{HealthSetup, Pass};
use crate::engine::writer::Writer;
use crate::store::{Store, StoreError};
use app::{App, Level};
use effect::Effect;
use jobs::{Jobs, PUSH_EVERY};
use keymap::Keymap;
use theme::Theme;

/// Rows of the default order read for the first frame.
pub const FIRST_PAGE: usize = 200;
/// Queue items read for the first frame.
pub const FIRST_QUEUE: usize = 200;

/// The workspace, open or opening.
pub enum Opening {
    /// Open.
    Open(Store),
    /// Opening on a thread, with the first frame kept at the last close.
    Behind {
        /// The workspace directory.
        dir: std::path::PathBuf,
        /// What the first frame shows.
        frame: Box<first_frame::FirstFrame>,
        /// The thread opening it.
        open: std::thread::JoinHandle<Result<Store, StoreError>>,
    },
}

impl From<Store> for Opening {
    fn from(store: Store) -> Opening {
        Opening::Open(store)
    }
}

impl Opening {
    /// The workspace directory.
    pub fn dir(&self) -> &std::path::Path {
        match self {
            Opening::Open(store) => store.path(),
            Opening::Behind { dir, .. } => dir,
        }
    }
}

/// Everything the cockpit needs to start.
pub struct Session {
    /// The workspace.
    pub store: Opening,
    /// Styles.
    pub theme: Theme,
    /// Bindings.
    pub keymap: Keymap,
    /// Health bands.
    pub bands: Bands,
    /// Workspace label for the status line.
    pub workspace: String,
    /// Where the data comes from when no source is configured.
    pub data_label: String,
    /// Sources to sync in the background (none for the demo).
    pub sources: Vec<crate::sync::source::Source>,
    /// Time between background syncs (`None`: only on `r`).
    pub sync_every: Option<Duration>,
    /// Problems found while loading config and theme, shown as toasts.
    pub warnings: Vec<String>,
    /// Name written on timeline entries.
    pub author: String,
    /// The config's `author`, which signs public replies.
    pub signature: Option<String>,
    /// The health model in force (its name and version label the metrics).
    pub health_model: crate::domain::health_model::Model,
    /// Churn-risk flag thresholds.
    pub flags: crate::domain::flags::FlagRules,
    /// Saved replies.
    pub replies: Vec<crate::domain::reply::Template>,
    /// The whole config, to answer commands run beside the cockpit.
    pub config: Option<Arc<crate::config::Config>>,
    /// The user's zone and working hours.
    pub calendar: crate::domain::calendar::Calendar,
}

/// Builds the state for the first frame: the first page of the default
/// order, the first kanban cards, the totals and the first queue items:
/// read from the open store, or taken from the frame kept at the last close
/// (the thread opening the store is then left to finish on its own).
pub fn first_app(session: Session, now: DateTime<Utc>) -> Result<App, StoreError> {
    Ok(start(session, now)?.0)
}

/// The store once the first frame's state is built.
enum Ready {
    /// Open.
    Open(Store),
    /// Still opening.
    Behind(std::thread::JoinHandle<Result<Store, StoreError>>),
}

/// Builds the first frame's state: read from the open store, or from the
/// frame kept at the last close while the store opens behind it.
fn start(session: Session, now: DateTime<Utc>) -> Result<(App, Ready), StoreError> {
    let names: Vec<String> = session.sources.iter().map(|s| s.name.clone()).collect();
    let (frame, opening) = match session.store {
        Opening::Open(store) => {
            let frame =
                first_frame::FirstFrame::read(&store, &names, &session.health_model, now, &session.calendar, false)?;
            (frame, Ready::Open(store))
        }
        Opening::Behind { frame, open, .. } => (*frame, Ready::Behind(open)),
    };
    let book = Book::first(frame.page);
    let complete = book.is_complete();
    let queue = crate::queue::from_kept(frame.queue, now, FIRST_QUEUE, &session.calendar);
    let mut app = App::new(book, queue, session.theme, now, session.calendar);
    app.keymap = session.keymap;
    app.bands = session.bands;
    app.status.workspace = session.workspace;
    app.status.data_label = session.data_label;
    app.status.sources = session
        .sources
        .iter()
        .map(|s| app::SourceView {
            name: s.name.clone(),
            last: frame.syncs.iter().find(|(n, _)| *n == s.name).map(|(_, st)| st.clone()),
            running: None,
        })
        .collect();
    app.status.has_crm = session.sources.iter().any(|s| s.kind == crate::sync::source::Kind::Hubspot);
    app.author = session.author;
    app.signature = session.signature;
    app.replies = session.replies;
    app.status.model_label = format!("{} v{}", session.health_model.name, session.health_model.version);
    let write_back = session.sources.iter().find_map(|s| s.write_back.clone());
    app.health_setup = Some(Arc::new(HealthSetup {
        write_back,
        model: session.health_model,
        flags: session.flags,
        bands: session.bands,
    }));
    if complete && frame.queue_whole && app.queue.len() < FIRST_QUEUE {
        app.queue_complete = true;
    }
    for w in session.warnings {
        app.toast(Level::Warning, w);
    }
    app.status.outbox_counts = frame.outbox;
    match &opening {
        Ready::Open(store) => {
            // What the CSM was writing when an earlier session was stopped.
            app.reopen_kept_draft_from(store.drafts().map_err(|e| e.to_string()));
            // The first frame shows the selected account's health: read
            // here, before the screen is taken (the event loop never reads).
            jobs::settle_inline(&mut app, store);
        }
        Ready::Behind(_) => {
            // The health kept shows until the read asked for lands; the
            // drafts are read once the store is open.
            if let Some(h) = frame.health.filter(|h| app.selection.selected == Some(h.id)) {
                app.reads.kept(h);
            }
            app.effect(Effect::Read(reads::Read::Drafts));
        }
    }
    Ok((app, opening))
}

/// Lets the event loop stop the input thread while another program (the
/// editor) reads the terminal.
#[derive(Default)]
struct InputPause {
    paused: AtomicBool,
    idle: AtomicBool,
}

impl InputPause {
    /// Stops the reader and waits until it is between polls.
    fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let until = std::time::Instant::now() + Duration::from_millis(500);
        while !self.idle.load(Ordering::SeqCst) && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

/// How the session ended, for the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The CSM quit.
    Quit,
    /// A signal ended it.
    Signal(i32),
    /// A panic off the UI thread ended it (the message was printed).
    Fatal,
}

impl Ended {
    /// The exit status: 0, 128 + the signal's number, or 101 as after a panic.
    pub fn exit_code(self) -> i32 {
        match self {
            Ended::Quit => 0,
            Ended::Signal(n) => signals::exit_status(n),
            Ended::Fatal => 101,
        }
    }
}

/// Why the event loop stopped.
enum Stop {
    /// `q` or ctrl-c.
    Quit,
    /// The input thread stopped: the terminal is gone, or the thread panicked.
    InputClosed,
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT.
    Signal(i32),
    /// A panic elsewhere ended the session (see `terminal`).
    Fatal,
    /// Drawing or taking the terminal back failed.
    Failed(Box<dyn std::error::Error>),
}

/// Runs the cockpit until the user quits, a signal comes or the session
/// fails. The terminal is restored on every way out, and what the CSM was
/// writing is kept as a draft on every way out but their own esc or ctrl-s.
pub async fn run(session: Session) -> Result<Ended, Box<dyn std::error::Error>> {
    // Caught from now on, so that none of them can kill the cockpit with
    // the terminal in raw mode.
    let started = std::time::Instant::now();
    let mut signals = signals::Signals::install()?;
    let now = crate::clock::now();
    let sources = session.sources.clone();
    let sync_every = session.sync_every;
    let session_config = session.config.clone();
    // The first frame's data is read before the screen is taken: damage
    // (even a panic in the engine) ends here with the message, on a normal
    // terminal.
    let dir = session.store.dir().to_path_buf();
    let held = match &session.store {
        Opening::Open(store) => Some(store.clone()),
        Opening::Behind { .. } => None,
    };
    let (mut app, ready) = match crate::store::shield::guard(&dir, || start(session, now)) {
        Ok(started) => started,
        Err(e) => {
            // After damage the engine's state is unknown: no drop (which
            // flushes) runs on it; the process ends with the message.
            std::mem::forget(held);
            return Err(e.into());
        }
    };
    drop(held);
    let setup = app.health_setup.clone().expect("first_app sets the health setup");
    let mut guard = terminal::Guard::enter()?;
    let store = match ready {
        Ready::Open(store) => store,
        Ready::Behind(open) => {
            // The kept frame shows while sled opens; keys typed meanwhile
            // wait in the terminal and are read once it is open.
            guard.terminal.draw(|f| view::draw(&app, f))?;
            tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "kept first frame drawn");
            match tokio::task::spawn_blocking(move || open.join()).await {
                Ok(Ok(Ok(store))) => store,
                Ok(Ok(Err(e))) => {
                    drop(guard);
                    return Err(e.into());
                }
                _ => {
                    drop(guard);
                    return Err(format!(
                        "the workspace in {} could not be opened; details are in its cockpit.log",
                        dir.display()
                    )
                    .into());
                }
            }
        }
    };
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    // The one owner of every store mutation from here on.
    let writer = Writer::spawn(store);
    let mut jobs = Jobs::new(writer, sources.clone(), msg_tx.clone(), setup, app.author.clone(), app.calendar);
    let must_load = !(app.book.is_complete() && app.queue_complete);
    jobs.health(Pass::Upkeep, must_load);
    // Commands beside the cockpit (`cockpit today` in another terminal).
    #[cfg(unix)]
    let listening = session_config.and_then(|config| {
        let tx = msg_tx.clone();
        crate::remote::serve::start(crate::remote::serve::Context {
            writer: jobs.writer().clone(),
            config,
            setup: app.health_setup.clone().expect("first_app sets the health setup"),
            ask: Box::new(move |a| {
                let _ = tx.send(app::Msg::Remote(a));
            }),
        })
    });
    let (in_tx, mut in_rx) = mpsc::unbounded_channel();
    let input = Arc::new(InputPause::default());
    let reader = input.clone();
    std::thread::Builder::new().name("input".into()).spawn(move || loop {
        // While the editor owns the terminal, nothing here may read a key.
        if reader.paused.load(Ordering::SeqCst) {
            reader.idle.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        reader.idle.store(false, Ordering::SeqCst);
        let read = event::poll(Duration::from_millis(50)).and_then(|ready| ready.then(event::read).transpose());
        let ev = match read {
            Ok(None) => continue,
            Ok(Some(ev)) => ev,
            Err(e) => {
                tracing::warn!("the terminal stopped sending keys: {e}");
                break;
            }
        };
        terminal::debug_panic_point("input");
        if in_tx.send(ev).is_err() {
            break;
        }
    })?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // Sync on start, then every `sync_every`; the push on start sends
    // what an earlier session left, then one every PUSH_EVERY.
    app.request_sync();
    let mut next_sync = sync_every.map(|d| tokio::time::Instant::now() + d);
    let mut next_push = tokio::time::Instant::now() + PUSH_EVERY;
    jobs.push_due();
    let mut dirty = true;
    let mut stop = Stop::Quit;
    // Text `$EDITOR` gave back that the session ended before submitting.
    let mut kept = None;
    while !app.should_quit {
        let mut editor = None;
        for e in app.take_effects() {
            if matches!(e, Effect::Sync) {
                next_sync = sync_every.map(|d| tokio::time::Instant::now() + d);
            }
            editor = jobs.run(e).or(editor);
        }
        if let Some(edit) = editor {
            input.pause();
            guard.suspend();
            let result = editor::edit(&edit.text);
            let ending = match signals.after_editor(result.is_err()).await {
                Some(n) => Some(Stop::Signal(n)),
                None => guard.resume().err().map(|e| Stop::Failed(e.into())),
            };
            if let Some(ending) = ending {
                // Kept, not sent: the CSM never saw it land.
                let text = result.unwrap_or_else(|f| f.saved.unwrap_or_else(|| edit.text.clone()));
                kept = app.keep_external_draft(jobs.writer(), &edit, text);
                stop = ending;
                break;
            }
            // Keys typed into the editor's last moments are not ours.
            while in_rx.try_recv().is_ok() {}
            input.resume();
            app.on_external_done(edit, result.map_err(|f| f.message));
            dirty = true;
        }
        if dirty {
            if let Err(e) = guard.terminal.draw(|f| view::draw(&app, f)) {
                stop = Stop::Failed(e.into());
                break;
            }
            dirty = false;
        }
        tokio::select! {
            ev = in_rx.recv() => {
                let Some(ev) = ev else {
                    stop = Stop::InputClosed;
                    break;
                };
                dirty |= app.on_event(&ev);
                // Apply a burst of keys before drawing once.
                while let Ok(ev) = in_rx.try_recv() {
                    dirty |= app.on_event(&ev);
                    if app.should_quit { break; }
                }
            }
            Some(msg) = msg_rx.recv() => {
                match msg {
                    app::Msg::Remote(ask) => jobs.on_ask(ask),
                    msg => {
                        jobs.on_msg(&msg);
                        app.on_msg(msg);
                        dirty = true;
                    }
                }
            }
            _ = tick.tick() => {
                dirty |= app.tick(crate::clock::now());
                let now = tokio::time::Instant::now();
                if next_sync.is_some_and(|t| now >= t) {
                    app.request_sync();
                    next_sync = sync_every.map(|d| now + d);
                }
                if now >= next_push {
                    next_push = now + PUSH_EVERY;
                    jobs.push_due();
                }
            }
            n = signals.recv() => {
                tracing::info!("{} received: ending the session", signals::name(n));
                stop = Stop::Signal(n);
                break;
            }
            _ = terminal::fatal() => {
                stop = Stop::Fatal;
                break;
            }
        }
    }
    // Its handle on the store must go before the first frame is kept.
    #[cfg(unix)]
    drop(listening);
    let names = sources.iter().map(|s| s.name.clone()).collect();
    finish(app, jobs, guard, signals, stop, kept, names).await
}

/// Ends the session: keeps what the CSM was writing, restores the terminal,
/// flushes the store, then says on stderr what happened.
async fn finish(
    mut app: App,
    mut jobs: Jobs,
    guard: terminal::Guard,
    mut signals: signals::Signals,
    stop: Stop,
    kept: Option<drafts::Kept>,
    names: Vec<String>,
) -> Result<Ended, Box<dyn std::error::Error>> {
    // A panic in the input thread closes its channel: the hook has recorded
    // it by then.
    let fatal = terminal::take_fatal();
    let stop = match stop {
        Stop::InputClosed | Stop::Quit if fatal.is_some() => Stop::Fatal,
        // The terminal went away: its hangup is usually on the way, and
        // says how to exit.
        Stop::InputClosed => match tokio::time::timeout(Duration::from_millis(200), signals.recv()).await {
            Ok(n) => Stop::Signal(n),
            Err(_) => Stop::Quit,
        },
        other => other,
    };
    // Saving a draft is one small write; the flush below makes it durable.
    // Edits sent and not yet answered are applied first: the CSM saw them.
    let writer = jobs.writer().clone();
    let kept = kept.or_else(|| app.keep_draft(&writer));
    // A (further) signal restores the terminal at once and ends the process
    // within a second, however long the flush takes. A closed terminal
    // often sends two hangups: the second waits for the flush, as the
    // draft is in it.
    let done = Arc::new(tokio::sync::Notify::new());
    let flushed_or = done.clone();
    tokio::spawn(async move {
        let n = signals.recv().await;
        terminal::restore();
        let _ = tokio::time::timeout(Duration::from_secs(1), flushed_or.notified()).await;
        std::process::exit(signals::exit_status(n));
    });
    drop(guard);
    for e in app.take_effects() {
        if let Effect::Write { .. } = e {
            let _ = jobs.run(e);
        }
    }
    let flushed = writer.settle_edits();
    let store = writer.store().clone();
    let log = store.path().join("cockpit.log");
    drop((jobs, writer));
    // Once the last write is in: the next start draws it while sled opens.
    // A signal ends the session without waiting for the rest of the work.
    let quit = matches!(stop, Stop::Quit | Stop::InputClosed);
    match (&flushed, &fatal, &app.health_setup) {
        (Ok(()), None, Some(setup)) if quit => first_frame::keep(store, &names, &setup.model, crate::clock::now()),
        _ => drop(store),
    }
    if let Some(k) = &kept {
        eprintln!("{}", k.message());
    }
    if let Some(why) = &fatal {
        eprintln!(
            "cockpit stopped after {why}. What you saved is in the workspace; details are in {}. Please report it.",
            log.display()
        );
    }
    done.notify_one();
    flushed?;
    match stop {
        Stop::Quit | Stop::InputClosed => Ok(Ended::Quit),
        Stop::Signal(n) => Ok(Ended::Signal(n)),
        Stop::Fatal => Ok(Ended::Fatal),
        Stop::Failed(e) => Err(e),
    }
}
