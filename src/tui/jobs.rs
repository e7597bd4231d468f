//! The one job runner: carries out the effects `update` asks for (edits to
//! the writer, syncs, pushes, metrics), and the health upkeep with the book
//! reload after it. Every answer comes back to the event loop as a `Msg`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::domain::calendar::Calendar;
use tokio::sync::mpsc::UnboundedSender;

use super::compose::ExternalEdit;
use super::effect::Effect;
use super::msg::Msg;
use super::reads::{self, Read};
use super::terminal;
use crate::book::Book;
use crate::domain::health_model::Model;
use crate::engine::edits::{self, Author};
use crate::engine::upkeep::{HealthSetup, Pass, Upkeep};
use crate::engine::writer::Writer;
use crate::store::{Store, StoreError};
use crate::sync::source::Source;

/// How often the cockpit looks for outbox entries whose backoff is over.
pub const PUSH_EVERY: Duration = Duration::from_secs(30);

/// Runs what the cockpit asks for, one sync and one push at a time.
pub struct Jobs {
    writer: Writer,
    sources: Vec<Source>,
    tx: UnboundedSender<Msg>,
    setup: Arc<HealthSetup>,
    author: String,
    calendar: Calendar,
    syncing: bool,
    pushing: bool,
    /// A push asked for while one (or a sync) ran: it starts after.
    push_wanted: bool,
    /// Commands beside the cockpit waiting for the sync's end.
    sync_waiters: Vec<Reply>,
    /// Commands beside the cockpit waiting for the next push's end.
    push_waiters: Vec<Reply>,
    /// The reader thread's queue: reads are answered in the order asked.
    reader: std::sync::mpsc::Sender<Read>,
}

/// Where a command beside the cockpit waits for its answer.
type Reply = tokio::sync::oneshot::Sender<Result<String, String>>;

impl Jobs {
    /// A runner over the writer, answering on `tx`.
    pub fn new(
        writer: Writer,
        sources: Vec<Source>,
        tx: UnboundedSender<Msg>,
        setup: Arc<HealthSetup>,
        author: String,
        calendar: Calendar,
    ) -> Jobs {
        let reader = spawn_reader(writer.store().clone(), setup.clone(), tx.clone());
        Jobs {
            writer,
            sources,
            tx,
            setup,
            author,
            calendar,
            syncing: false,
            pushing: false,
            push_wanted: false,
            sync_waiters: Vec::new(),
            push_waiters: Vec::new(),
            reader,
        }
    }

    /// The writer, for the way out of the session.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Carries out one effect; the editor is handed back, as only the event
    /// loop can lend it the terminal.
    pub fn run(&mut self, effect: Effect) -> Option<ExternalEdit> {
        match effect {
            Effect::Write { seq, edit, at } => {
                let (tx, by) = (self.tx.clone(), Author::on(&self.author, at, &self.calendar));
                tracing::info!(seq, ?edit, "edit");
                self.writer.edit(move |store| {
                    let result = edits::apply(store, edit, &by).map(Box::new).map_err(|e| e.to_string());
                    Box::new(move || {
                        let _ = tx.send(Msg::Written(seq, result));
                    })
                });
            }
            Effect::Sync => self.sync(),
            Effect::Push => {
                self.push_wanted = true;
                self.push_if_idle();
            }
            Effect::RefetchConflict(id) => self.refetch_conflict(id),
            Effect::Metrics(job) => super::metrics::spawn(self.writer.store().clone(), job, self.tx.clone()),
            Effect::Editor(edit) => return Some(edit),
            Effect::Read(read) => {
                if self.reader.send(read).is_err() {
                    tracing::error!("the reader thread is gone; the screen cannot read the workspace");
                }
            }
            Effect::FetchConversation(ticket) => self.fetch_conversation(ticket),
        }
        None
    }

    /// Reads a ticket's conversation from its desk and keeps it (through
    /// the writer); the answer says what came, or why nothing did.
    fn fetch_conversation(&self, ticket: u64) {
        let (writer, sources, tx) = (self.writer.clone(), self.sources.clone(), self.tx.clone());
        tokio::spawn(async move {
            let policy = crate::sync::conversation::interactive_policy();
            let result = crate::sync::conversation::refresh(&writer, &sources, ticket, policy, Utc::now()).await;
            if let Err(e) = &result {
                tracing::info!(ticket, ?e, "the conversation could not be read from the desk");
            }
            let _ = tx.send(Msg::Conversation(ticket, result));
        });
    }

    /// A command beside the cockpit asks for a sync or a push: it runs now
    /// (or the one running counts) and the command hears how it went.
    pub fn on_ask(&mut self, ask: crate::remote::Ask) {
        use crate::remote::Ask;
        if self.sources.is_empty() {
            let no = "no source is configured (or this is the demo): there is nothing to sync or push".to_string();
            let (Ask::Sync(reply) | Ask::Push(reply)) = ask;
            let _ = reply.send(Err(no));
            return;
        }
        match ask {
            Ask::Sync(reply) => {
                self.sync_waiters.push(reply);
                self.sync();
            }
            Ask::Push(reply) => {
                self.push_waiters.push(reply);
                self.push_wanted = true;
                self.push_if_idle();
            }
        }
    }

    /// Looks at a message on its way to the app: a sync or push that ended
    /// frees its slot, and a sync is followed by the health pass and a push.
    pub fn on_msg(&mut self, msg: &Msg) {
        match msg {
            Msg::SyncDone(results, changed) => {
                self.syncing = false;
                let text: String = results
                    .iter()
                    .map(|(name, s)| match (&s.message, s.ok) {
                        (_, true) => format!("{name}: synced\n"),
                        (Some(m), false) => format!("{name}: failed: {m}\n"),
                        (None, false) => format!("{name}: failed\n"),
                    })
                    .collect();
                for w in self.sync_waiters.drain(..) {
                    let _ = w.send(Ok(text.clone()));
                }
                // The accounts the sync changed are marked: the upkeep
                // scores them again (or runs the day's pass if the day
                // turned), and the book reloads when records came.
                self.health(Pass::Upkeep, *changed);
                // The network is back, or was never gone: push what waits.
                self.push_wanted = true;
                self.push_if_idle();
            }
            Msg::Pushed(result) => {
                self.pushing = false;
                let said = match result {
                    Ok(r) => Ok(r.summary().map_or("Nothing due to push.\n".into(), |s| format!("Outbox: {s}.\n"))),
                    Err(e) => Err(format!("the outbox could not be pushed: {e}")),
                };
                for w in self.push_waiters.drain(..) {
                    let _ = w.send(said.clone());
                }
                self.push_if_idle();
            }
            _ => {}
        }
    }

    /// The timer's push: what waits for its backoff to end.
    pub fn push_due(&mut self) {
        self.push_wanted = true;
        self.push_if_idle();
    }

    fn push_if_idle(&mut self) {
        if !self.push_wanted || self.pushing || self.syncing || self.sources.is_empty() {
            return;
        }
        self.push_wanted = false;
        self.pushing = true;
        let (writer, sources, tx) = (self.writer.clone(), self.sources.clone(), self.tx.clone());
        tokio::spawn(async move {
            let policy = crate::sync::push::PushPolicy::default();
            let result =
                crate::sync::push::push_with(&writer, &sources, &Utc::now, &policy).await.map_err(|e| e.to_string());
            let _ = tx.send(Msg::Pushed(result));
        });
    }

    fn sync(&mut self) {
        if self.syncing || self.sources.is_empty() {
            return;
        }
        self.syncing = true;
        let (writer, sources, tx) = (self.writer.clone(), self.sources.clone(), self.tx.clone());
        tokio::spawn(async move {
            let progress_tx = tx.clone();
            let progress = move |p: crate::sync::Progress| {
                let _ = progress_tx.send(Msg::SyncProgress(p));
            };
            let opts = crate::sync::Options::default();
            let mut changed = false;
            let results = match crate::sync::run_with(&writer, &sources, &opts, &progress).await {
                Ok(reports) => reports
                    .into_iter()
                    .inspect(|r| {
                        // A failed run may still have committed pages: count them.
                        changed |= r.objects.iter().any(|o| o.counts.added + o.counts.updated + o.counts.removed > 0);
                    })
                    .map(|r| {
                        let status = crate::store::SyncStatus {
                            at: crate::clock::now(),
                            ok: r.error.is_none(),
                            message: r.error.map(|e| e.to_string()),
                        };
                        (r.source, status)
                    })
                    .collect(),
                Err(e) => {
                    let status = crate::store::SyncStatus { at: crate::clock::now(), ok: false, message: Some(e) };
                    sources.iter().map(|s| (s.name.clone(), status.clone())).collect()
                }
            };
            let _ = tx.send(Msg::SyncDone(results, changed));
        });
    }

    /// Reads a conflicted entry's ticket as it is now; the app then sends
    /// the entry again over it.
    fn refetch_conflict(&self, id: u64) {
        let (store, sources, tx) = (self.writer.store().clone(), self.sources.clone(), self.tx.clone());
        tokio::spawn(async move {
            let policy = crate::sync::push::PushPolicy::default();
            let result = async {
                let entry = store.outbox_entry(id).map_err(|e| e.to_string())?.ok_or("the entry is gone")?;
                match entry.write {
                    crate::domain::outbox::Write::Ticket { ticket, .. } => {
                        crate::sync::push::fresh_stamp(&sources, &policy, ticket).await
                    }
                    _ => Ok(None),
                }
            }
            .await;
            let _ = tx.send(Msg::ConflictStamp(id, result));
        });
    }

    /// Runs the health upkeep on the writer (edits land between its steps),
    /// then loads the whole book and queue off the UI thread. With
    /// `must_load` false, nothing loads when the pass changed nothing (the
    /// first page already showed everything).
    pub fn health(&self, pass: Pass, must_load: bool) {
        let (tx, store, cal) = (self.tx.clone(), self.writer.store().clone(), self.calendar);
        let started = std::time::Instant::now();
        let now = crate::clock::now();
        let runtime = tokio::runtime::Handle::current();
        self.writer.steps(Upkeep::new(self.setup.clone(), now, pass, move |outcome| {
            terminal::debug_panic_point("load");
            let changed = match &outcome {
                Ok(changed) => *changed,
                Err(e) => {
                    // Scores stay as they were; the book still loads.
                    tracing::warn!("health pass failed: {e}");
                    true
                }
            };
            let _ = tx.send(Msg::HealthDone(outcome.map_err(|e| e.to_string())));
            if !changed && !must_load {
                return;
            }
            runtime.spawn_blocking(move || load(&store, now, &cal, &tx, started));
        }));
    }
}

/// Loads the whole book and queue and sends them to the event loop.
fn load(
    store: &crate::store::Store,
    now: chrono::DateTime<Utc>,
    cal: &Calendar,
    tx: &UnboundedSender<Msg>,
    started: std::time::Instant,
) {
    let result = terminal::catch_panic(|| {
        let mut book = Book::load(store)?;
        let queue = crate::queue::load_with(store, now, usize::MAX, Some(&book), cal)?;
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
}

/// The thread that reads what the screen asks for (`Effect::Read`): one
/// at a time, in order, never on the event loop.
fn spawn_reader(store: Store, setup: Arc<HealthSetup>, tx: UnboundedSender<Msg>) -> std::sync::mpsc::Sender<Read> {
    let (ask, asked) = std::sync::mpsc::channel::<Read>();
    let spawned = std::thread::Builder::new().name("reader".into()).spawn(move || {
        for read in asked {
            let answer = reads::read(&store, read, &setup.model);
            if tx.send(Msg::Read(answer)).is_err() {
                break;
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("could not start the reader thread: {e}");
    }
    ask
}

/// Carries out the app's pending edits and reads here and now, on this
/// thread, and hands it their answers, until none is left; returns the
/// other effects. For tests and benches that drive `App` without an event
/// loop (and the first frame): the cockpit sends edits to the writer and
/// reads to its reader thread.
pub fn settle_inline(app: &mut super::app::App, store: &Store) -> Vec<Effect> {
    let model = app.health_setup.as_ref().map(|s| s.model.clone()).unwrap_or_else(Model::builtin);
    let mut others = Vec::new();
    loop {
        let effects = app.take_effects();
        if effects.is_empty() {
            return others;
        }
        for e in effects {
            match e {
                Effect::Write { seq, edit, at } => {
                    let by = Author::on(&app.author, at, &app.calendar);
                    let result = edits::apply(store, edit, &by).map(Box::new).map_err(|e| e.to_string());
                    app.on_msg(Msg::Written(seq, result));
                }
                Effect::Read(read) => app.on_msg(Msg::Read(reads::read(store, read, &model))),
                other => others.push(other),
            }
        }
    }
}
