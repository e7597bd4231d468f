//! The terminal UI: an event loop over `App` (state + update) and `view`
//! (draw). Input, ticks and background work arrive as messages; drawing
//! never waits on I/O.

pub mod action;
pub mod app;
pub mod compose;
pub mod drafts;
pub mod editor;
pub mod followups;
pub mod keymap;
pub mod metrics;
pub mod panes;
pub mod signals;
pub mod terminal;
pub mod theme;
pub mod view;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event;
use tokio::sync::mpsc;

use crate::book::Book;
use crate::domain::Bands;
use crate::store::{HealthRules, Store, StoreError};
use app::{App, Level, Msg};
use keymap::Keymap;
use theme::Theme;

/// Rows of the default order read for the first frame.
pub const FIRST_PAGE: usize = 200;
/// Queue items read for the first frame.
pub const FIRST_QUEUE: usize = 200;

/// Everything the cockpit needs to start.
pub struct Session {
    /// The open workspace.
    pub store: Store,
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
}

/// Builds the state for the first frame: the first page of the default
/// order, the first kanban cards, the totals and the first queue items.
pub fn first_app(session: Session, now: DateTime<Utc>) -> Result<App, StoreError> {
    let book = Book::load_first(&session.store, FIRST_PAGE)?;
    let queue = crate::queue::load(&session.store, now, FIRST_QUEUE)?;
    let complete = book.is_complete();
    let mut app = App::new(session.store, book, queue, session.theme, now);
    app.keymap = session.keymap;
    app.bands = session.bands;
    app.workspace = session.workspace;
    app.data_label = session.data_label;
    app.sources = session
        .sources
        .iter()
        .map(|s| app::SourceView {
            name: s.name.clone(),
            last: app.store.sync_status(&s.name).ok().flatten(),
            running: None,
        })
        .collect();
    app.author = session.author;
    app.signature = session.signature;
    app.replies = session.replies;
    app.model_label = format!("{} v{}", session.health_model.name, session.health_model.version);
    let write_back = session.sources.iter().find_map(|s| s.write_back.clone());
    app.health_setup = Some(Arc::new(HealthSetup {
        write_back,
        model: session.health_model,
        flags: session.flags,
        bands: session.bands,
        busy: Default::default(),
    }));
    if complete && app.queue.len() < FIRST_QUEUE {
        app.queue_complete = true;
    }
    for w in session.warnings {
        app.toast(Level::Warning, w);
    }
    // What the CSM was writing when an earlier session was stopped.
    app.reopen_kept_draft();
    Ok(app)
}

/// What the cockpit's health work runs with.
pub struct HealthSetup {
    /// The model in force.
    pub model: crate::domain::health_model::Model,
    /// Flag thresholds.
    pub flags: crate::domain::flags::FlagRules,
    /// Band thresholds.
    pub bands: Bands,
    /// Where the health is written back to HubSpot, if anywhere.
    pub write_back: Option<crate::domain::write_back::WriteBack>,
    /// Set while a health pass rewrites rows in the background: edits wait,
    /// so a row the pass read cannot overwrite a change made meanwhile.
    pub busy: std::sync::atomic::AtomicBool,
}

impl HealthSetup {
    /// The rules in the store's terms.
    pub fn rules(&self) -> HealthRules<'_> {
        HealthRules { model: &self.model, flags: &self.flags, bands: &self.bands }
    }
}

/// Health work to run before a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HealthPass {
    /// Rescore after a model change and run today's pass if it has not run.
    Upkeep,
    /// Run today's pass again (new records arrived).
    Daily,
}

/// Runs the health pass, then loads the whole book and queue, off the UI
/// thread. With `must_load` false, nothing is sent when the pass changed
/// nothing (the first page already showed everything).
fn load_in_background(
    store: Store,
    now: DateTime<Utc>,
    tx: mpsc::UnboundedSender<Msg>,
    health: (Arc<HealthSetup>, HealthPass),
    must_load: bool,
) {
    tokio::task::spawn_blocking(move || {
        terminal::debug_panic_point("load");
        let started = std::time::Instant::now();
        let (setup, pass) = health;
        setup.busy.store(true, std::sync::atomic::Ordering::SeqCst);
        let changed = match pass {
            HealthPass::Upkeep => store.upkeep(setup.rules(), now),
            HealthPass::Daily => store.daily_health(setup.rules(), now).map(|_| true),
        };
        // The day's health goes to HubSpot with the next push (every 30 s).
        if let (Ok(true), Some(wb)) = (&changed, &setup.write_back) {
            match store.queue_health_writes(wb, &setup.model, &setup.bands, now) {
                Ok(r) => tracing::info!(queued = r.queued, replaced = r.replaced, "health write-back"),
                Err(e) => tracing::warn!("health write-back could not be queued: {e}"),
            }
        }
        setup.busy.store(false, std::sync::atomic::Ordering::SeqCst);
        match changed {
            Ok(false) if !must_load => return,
            Ok(_) => {}
            // Scores stay as they were; the book still loads.
            Err(e) => tracing::warn!("health pass failed: {e}"),
        }
        let result = terminal::catch_panic(|| {
            let mut book = Book::load(&store)?;
            let queue = crate::queue::load_with(&store, now, usize::MAX, Some(&book))?;
            book.precompute_orders();
            Ok::<_, StoreError>((book, queue))
        });
        let msg = match result {
            Ok(Ok((book, queue))) => {
                tracing::info!(
                    accounts = book.total(),
                    queue = queue.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "book loaded"
                );
                Msg::Loaded(Box::new(book), queue)
            }
            Ok(Err(e)) => Msg::LoadFailed(e.to_string()),
            Err(_) => Msg::LoadFailed("an internal error stopped loading; see the log file".into()),
        };
        let _ = tx.send(msg);
    });
}

/// Syncs every source off the UI thread, reporting progress as messages.
fn sync_in_background(store: Store, sources: Vec<crate::sync::source::Source>, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let progress_tx = tx.clone();
        let progress = move |p: crate::sync::Progress| {
            let _ = progress_tx.send(Msg::SyncProgress(p));
        };
        let opts = crate::sync::Options::default();
        let mut changed = false;
        let results = match crate::sync::run(&store, &sources, &opts, &progress).await {
            Ok(reports) => reports
                .into_iter()
                .inspect(|r| {
                    // A failed run may still have committed pages: count them.
                    changed |= r.objects.iter().any(|o| o.counts.added + o.counts.updated + o.counts.removed > 0);
                })
                .map(|r| {
                    let status = crate::store::SyncStatus {
                        at: Utc::now(),
                        ok: r.error.is_none(),
                        message: r.error.map(|e| e.to_string()),
                    };
                    (r.source, status)
                })
                .collect(),
            Err(e) => {
                let status = crate::store::SyncStatus { at: Utc::now(), ok: false, message: Some(e) };
                sources.iter().map(|s| (s.name.clone(), status.clone())).collect()
            }
        };
        let _ = tx.send(Msg::SyncDone(results, changed));
    });
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

/// Pushes the outbox off the UI thread.
fn push_in_background(store: Store, sources: Vec<crate::sync::source::Source>, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let policy = crate::sync::push::PushPolicy::default();
        let result = crate::sync::push::push(&store, &sources, &Utc::now, &policy).await.map_err(|e| e.to_string());
        let _ = tx.send(Msg::Pushed(result));
    });
}

/// Sets a conflicted entry to go out over the ticket's current state.
fn retry_in_background(
    store: Store,
    sources: Vec<crate::sync::source::Source>,
    id: u64,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let policy = crate::sync::push::PushPolicy::default();
        let result = async {
            let entry = store.outbox_entry(id).map_err(|e| e.to_string())?.ok_or("the entry is gone")?;
            let stamp = match entry.write {
                crate::domain::outbox::Write::Ticket { ticket, .. } => {
                    crate::sync::push::fresh_stamp(&sources, &policy, ticket).await?
                }
                _ => None,
            };
            store.outbox_retry(id, Utc::now(), stamp).map(|_| ()).map_err(|e| e.to_string())
        }
        .await;
        let _ = tx.send(Msg::Retried(result));
    });
}

/// How often the cockpit looks for outbox entries whose backoff is over.
const PUSH_EVERY: Duration = Duration::from_secs(30);

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
    let mut signals = signals::Signals::install()?;
    let now = Utc::now();
    let store = session.store.clone();
    let sources = session.sources.clone();
    let sync_every = session.sync_every;
    // The first frame's data is read before the screen is taken: damage
    // (even a panic in the engine) ends here with the message, on a normal
    // terminal.
    let dir = store.path().to_path_buf();
    let mut app = match crate::store::shield::guard(&dir, || first_app(session, now)) {
        Ok(app) => app,
        Err(e) => {
            // After damage the engine's state is unknown: no drop (which
            // flushes) runs on it; the process ends with the message.
            std::mem::forget(store);
            return Err(e.into());
        }
    };
    let setup = app.health_setup.clone().expect("first_app sets the health setup");
    let mut guard = terminal::Guard::enter()?;

    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let must_load = !(app.book.is_complete() && app.queue_complete);
    load_in_background(store.clone(), now, msg_tx.clone(), (setup.clone(), HealthPass::Upkeep), must_load);
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
    // Sync on start, then every `sync_every`.
    app.sync_requested = !sources.is_empty();
    let mut next_sync = sync_every.map(|d| tokio::time::Instant::now() + d);
    // Pushed on start (what an earlier session left), then every PUSH_EVERY.
    let mut next_push = (!sources.is_empty()).then(tokio::time::Instant::now);
    let mut dirty = true;
    let mut stop = Stop::Quit;
    // Text `$EDITOR` gave back that the session ended before submitting.
    let mut kept = None;
    while !app.should_quit {
        if app.sync_requested && !app.syncing {
            app.sync_requested = false;
            app.syncing = true;
            sync_in_background(store.clone(), sources.clone(), msg_tx.clone());
            next_sync = sync_every.map(|d| tokio::time::Instant::now() + d);
            dirty = true;
        }
        if !sources.is_empty() {
            if let Some(id) = app.retry_conflict.take() {
                retry_in_background(store.clone(), sources.clone(), id, msg_tx.clone());
            }
            let due = next_push.is_some_and(|t| tokio::time::Instant::now() >= t);
            if (app.push_requested || due) && !app.pushing && !app.syncing {
                app.push_requested = false;
                app.pushing = true;
                next_push = Some(tokio::time::Instant::now() + PUSH_EVERY);
                push_in_background(store.clone(), sources.clone(), msg_tx.clone());
            }
        } else {
            app.push_requested = false;
        }
        if let Some(job) = app.metrics.pending.take() {
            metrics::spawn(store.clone(), job, msg_tx.clone());
        }
        if let Some(edit) = app.external_edit.take() {
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
                kept = app.keep_external_draft(&edit, text);
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
                let synced = match &msg { Msg::SyncDone(_, changed) => Some(*changed), _ => None };
                app.on_msg(msg);
                if let Some(changed) = synced {
                    // The network is back, or was never gone: push what waits.
                    app.push_requested = true;
                    // New records: rescore today and reload the book off the
                    // UI thread. Nothing new: only the day's pass if the day
                    // turned (edits need not wait for a full pass).
                    let pass = if changed { HealthPass::Daily } else { HealthPass::Upkeep };
                    load_in_background(store.clone(), Utc::now(), msg_tx.clone(), (setup.clone(), pass), changed);
                }
                dirty = true;
            }
            _ = tick.tick() => {
                dirty |= app.tick(Utc::now());
                if next_sync.is_some_and(|t| tokio::time::Instant::now() >= t) {
                    app.sync_requested = true;
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
    finish(app, guard, signals, stop, kept).await
}

/// Ends the session: keeps what the CSM was writing, restores the terminal,
/// flushes the store, then says on stderr what happened.
async fn finish(
    mut app: App,
    guard: terminal::Guard,
    mut signals: signals::Signals,
    stop: Stop,
    kept: Option<drafts::Kept>,
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
    let kept = kept.or_else(|| app.keep_draft());
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
    let flushed = app.store.flush();
    if let Some(k) = &kept {
        eprintln!("{}", k.message());
    }
    if let Some(why) = &fatal {
        eprintln!(
            "cockpit stopped after {why}. What you saved is in the workspace; details are in {}. Please report it.",
            app.store.path().join("cockpit.log").display()
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
