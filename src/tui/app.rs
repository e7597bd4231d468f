//! The cockpit's state and `update(action)`: every change to what is on
//! screen happens here, never in a draw function.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::account_reads::AccountReads;
use super::action::Action;
use super::effect::Effect;
use super::keymap::{KeyMode, Keymap};
pub use super::msg::Msg;
pub use super::overlays::Mode;
use super::overlays::Overlays;
use super::queue_index::QueueIndex;
pub use super::reads::{HealthView, HEALTH_DAYS, TIMELINE_SHOWN};
use super::reads::{Read, ReadAnswer, TicketView};
pub use super::selection::Pane;
use super::selection::Selection;
pub use super::status::SourceView;
use super::status::Status;
use super::theme::Theme;
pub use super::toasts::{Level, Toast, Toasts};
use super::writes::{InFlight, Writes};
use crate::book::Book;
use crate::domain::calendar::Calendar;
use crate::domain::{AccountId, Bands, Stage};
use crate::engine::edits::Edit;
use crate::engine::upkeep::HealthSetup;
use crate::queue::QueueItem;

/// The whole UI state, in owned parts; `update` delegates to them.
pub struct App {
    /// Accounts with their indexes.
    pub book: Book,
    /// Today's follow-ups, ranked.
    pub queue: Vec<QueueItem>,
    /// Whether the queue holds every actionable item.
    pub queue_complete: bool,
    /// First queue position per account, so following a selection is O(1),
    /// and (overdue, due later today), kept in step with the queue rather
    /// than counted per frame.
    pub queue_index: QueueIndex,
    /// Styles.
    pub theme: Theme,
    /// Bindings.
    pub keymap: Keymap,
    /// Health band thresholds.
    pub bands: Bands,
    /// The clock, advanced on each tick.
    pub now: DateTime<Utc>,
    /// The user's zone and working hours: "today", the times shown and
    /// typed, when items fall due.
    pub calendar: Calendar,
    /// The focused pane, the selected account and every pane's cursor.
    pub selection: Selection,
    /// The mode, the zoom, the open menu and editor, marks, and the
    /// metrics and outbox overlays.
    pub overlays: Overlays,
    /// The status line's labels, sources and outbox counts.
    pub status: Status,
    /// The selected account's health, the reads on their way and the
    /// tickets read.
    pub(super) reads: AccountReads,
    /// Transient messages.
    pub toasts: Toasts,
    /// Who is at the keyboard (for timeline entries).
    pub author: String,
    /// The name public replies are signed with (the config's `author`;
    /// none: `{csm}` stays unresolved and the reply is not sent).
    pub signature: Option<String>,
    /// Set when the user asked to quit.
    pub should_quit: bool,
    /// The health model, flags and bands, for explanations and sentiment.
    pub health_setup: Option<std::sync::Arc<HealthSetup>>,
    /// Saved replies.
    pub replies: Vec<crate::domain::reply::Template>,
    /// Effects asked for and edits sent to the writer, not yet answered.
    pub(super) writes: Writes,
}

impl App {
    /// A new app over a (possibly partial) book and queue.
    pub fn new(book: Book, queue: Vec<QueueItem>, theme: Theme, now: DateTime<Utc>, calendar: Calendar) -> App {
        let mut app = App {
            book,
            queue_index: QueueIndex::new(&queue, &calendar.bounds(now)),
            calendar,
            queue,
            queue_complete: false,
            theme,
            keymap: Keymap::default(),
            bands: Bands::default(),
            now,
            selection: Selection::default(),
            overlays: Overlays::default(),
            status: Status::default(),
            reads: AccountReads::default(),
            toasts: Toasts::default(),
            health_setup: None,
            author: "me".into(),
            signature: None,
            should_quit: false,
            replies: crate::domain::reply::builtin(),
            writes: Writes::default(),
        };
        if let Some(id) = app.book.view_row(0).map(|r| r.id) {
            app.select(id);
        }
        app
    }

    /// The effects asked for since the last call, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.writes.take_effects()
    }

    /// Asks the job runner for an effect.
    pub(super) fn effect(&mut self, e: Effect) {
        self.writes.effect(e);
    }

    /// Sends an edit to the writer; returns its number.
    pub(super) fn write(&mut self, edit: Edit, then: InFlight) -> u64 {
        self.writes.send(edit, then, self.now)
    }

    /// Keys mode.
    pub fn mode(&self) -> Mode {
        self.overlays.mode
    }

    /// The focused pane.
    pub fn focus(&self) -> Pane {
        self.selection.focus
    }

    /// The selected account, shared by every pane.
    pub fn selected(&self) -> Option<AccountId> {
        self.selection.selected
    }

    /// Asks for a sync now, unless one runs.
    pub fn request_sync(&mut self) {
        if self.status.start_sync() {
            self.effect(Effect::Sync);
        }
    }

    /// Shows a toast for a few seconds, and writes it to the log: the status
    /// line shows only the newest, and points at the log for the others.
    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        let secs = if level == Level::Info { 4 } else { 8 };
        self.show(level, text.into(), StdDuration::from_secs(secs));
    }

    fn show(&mut self, level: Level, text: String, for_: StdDuration) {
        self.toasts.show(level, text, for_);
    }

    /// Advances the clock and drops expired toasts; returns whether to redraw.
    pub fn tick(&mut self, now: DateTime<Utc>) -> bool {
        let expired = self.toasts.expire(Instant::now());
        let minute_changed = now.timestamp() / 60 != self.now.timestamp() / 60;
        let before = self.calendar.bounds(self.now);
        self.now = now;
        if minute_changed {
            self.move_across_sections(&before);
        }
        expired || minute_changed
    }

    /// Items the clock carried into another section (due now, woken from a
    /// snooze, a new day) take their place in it; the rest stay put.
    fn move_across_sections(&mut self, before: &crate::domain::calendar::Bounds) {
        let after = self.calendar.bounds(self.now);
        let moved: Vec<QueueItem> =
            self.queue.iter().filter(|q| q.section(before) != q.section(&after)).cloned().collect();
        if !moved.is_empty() {
            let out: Vec<crate::domain::FollowUp> = moved.iter().map(|q| q.follow_up.to_follow_up()).collect();
            let back = moved.into_iter().filter(|q| q.section(&after).is_some()).collect();
            self.requeue(&out, back);
        }
        self.queue_index.recount(&self.queue, &after);
    }

    /// Handles a terminal event; returns whether the screen changed.
    pub fn on_event(&mut self, ev: &Event) -> bool {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.on_key(k),
            Event::Paste(text) => self.on_paste(text),
            Event::Resize(..) => true,
            _ => false,
        }
    }

    fn on_key(&mut self, k: &KeyEvent) -> bool {
        // Not data: ctrl-c quits, whatever the keymaps say; in an editor
        // it asks first (the text is kept as a draft either way).
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.on_ctrl_c();
            return true;
        }
        match self.overlays.mode {
            Mode::Filter => self.on_filter_key(k),
            Mode::Sentiment => self.on_sentiment_key(k),
            Mode::Pick => self.on_pick_key(k),
            Mode::Compose => self.on_compose_key(k),
            Mode::Outbox => self.on_outbox_key(k),
            Mode::Account => self.on_account_key(k),
            Mode::Undo => self.on_undo_key(k),
            Mode::Confirm => self.on_confirm_key(k),
            Mode::Help | Mode::Metrics => self.on_overlay_key(k),
            Mode::Normal => self.on_normal_key(k),
        }
    }

    fn on_normal_key(&mut self, k: &KeyEvent) -> bool {
        match self.keymap.action(KeyMode::Normal, k) {
            Some(a) => {
                self.update(a);
                true
            }
            None => false,
        }
    }

    /// Help and metrics close on their own keys; any key of the panes
    /// closes them too.
    fn on_overlay_key(&mut self, k: &KeyEvent) -> bool {
        if self.keymap.action(self.overlays.mode.keys(), k) == Some(Action::Close) {
            self.overlays.close();
            return true;
        }
        self.on_normal_key(k)
    }

    fn on_sentiment_key(&mut self, k: &KeyEvent) -> bool {
        self.overlays.close();
        let value = match self.keymap.action(KeyMode::Sentiment, k) {
            Some(Action::Sentiment1) => 1,
            Some(Action::Sentiment2) => 2,
            Some(Action::Sentiment3) => 3,
            Some(Action::Sentiment4) => 4,
            Some(Action::Sentiment5) => 5,
            _ => {
                self.toast(Level::Info, "Sentiment left as it was");
                return true;
            }
        };
        self.set_sentiment(value);
        true
    }

    /// Records the CSM's sentiment on the selected account; the score and
    /// its explanation move once the writer has it.
    fn set_sentiment(&mut self, value: u8) {
        let (Some(id), Some(setup)) = (self.selection.selected, self.health_setup.clone()) else {
            self.toast(Level::Warning, "Select an account first");
            return;
        };
        self.write(Edit::Sentiment { id, value, setup }, InFlight::Sentiment { value });
    }

    fn on_filter_key(&mut self, k: &KeyEvent) -> bool {
        let mut text = self.book.filter().to_string();
        match (self.keymap.action(KeyMode::Filter, k), k.code) {
            (Some(Action::Clear), _) => {
                text.clear();
                self.overlays.close();
            }
            (Some(Action::Keep), _) => self.overlays.close(),
            // Everything else is the text being typed.
            (_, KeyCode::Backspace) => {
                text.pop();
            }
            (_, KeyCode::Char(c)) if !k.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => text.push(c),
            _ => return false,
        }
        if text != self.book.filter() {
            self.book.set_filter(&text);
            self.selection.table_to_top();
            if let Some(id) = self.book.view_row(0).map(|r| r.id) {
                self.select_from(id, Pane::Accounts);
            }
        }
        true
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        match self.overlays.mode {
            // Any key closes help, like less/k9s; q too, as in every overlay,
            // so it never quits from here (ctrl-c always does).
            Mode::Help => return self.overlays.close(),
            // The account view has keys of its own (and never quits).
            Mode::Account => return self.account_action(action),
            // Every key closes the metrics overlay; q too, so it never quits from here.
            Mode::Metrics => return self.overlays.close(),
            _ => {}
        }
        match action {
            Action::Quit => self.should_quit = true,
            Action::Back => self.back(),
            Action::Help => self.overlays.toggle_help(),
            Action::Metrics => {
                // Recomputed on every opening: the book may have changed since.
                self.overlays.mode = Mode::Metrics;
                let job = self.overlays.metrics.request(self.now, self.bands, self.health_setup.clone());
                self.effect(Effect::Metrics(job));
            }
            Action::Filter => {
                self.selection.focus = Pane::Accounts;
                self.overlays.mode = Mode::Filter;
            }
            Action::Detail | Action::Open => self.open_account_view(),
            Action::Sentiment if self.selection.selected.is_some() => self.overlays.mode = Mode::Sentiment,
            Action::Sentiment => self.toast(Level::Info, "Select an account first"),
            Action::FocusNext => {
                self.selection.step_focus(1);
                self.follow_focus();
            }
            Action::FocusPrev => {
                self.selection.step_focus(-1);
                self.follow_focus();
            }
            Action::FocusAccounts => self.selection.focus = Pane::Accounts,
            Action::FocusHealth => self.selection.focus = Pane::Health,
            Action::FocusKanban => self.selection.focus = Pane::Kanban,
            Action::FocusQueue => {
                self.selection.focus = Pane::Queue;
                self.follow_focus();
            }
            Action::Zoom => self.overlays.zoom = !self.overlays.zoom,
            Action::Up => self.move_cursor(-1),
            Action::Down => self.move_cursor(1),
            Action::PageUp => self.move_cursor(-(self.selection.page() as isize)),
            Action::PageDown => self.move_cursor(self.selection.page() as isize),
            Action::Top => self.move_cursor(isize::MIN / 2),
            Action::Bottom => self.move_cursor(isize::MAX / 2),
            Action::Left => self.move_column(-1),
            Action::Right => self.move_column(1),
            Action::SortNext => {
                let (key, _) = self.book.sort();
                self.book.set_sort(key.next(), false);
                self.after_reorder();
            }
            Action::SortReverse => {
                let (key, rev) = self.book.sort();
                self.book.set_sort(key, !rev);
                self.after_reorder();
            }
            Action::StageNext => self.move_stage(Stage::next),
            Action::StagePrev => self.move_stage(Stage::prev),
            Action::Sync if self.status.sources.is_empty() => self.toast(
                Level::Warning,
                "No sources configured: add a [[source]] to the config (`cockpit config example`)",
            ),
            Action::Sync if self.status.syncing => self.toast(Level::Info, "A sync is already running"),
            Action::Sync => self.request_sync(),
            Action::Mark
            | Action::Done
            | Action::Snooze
            | Action::Note
            | Action::NoteEditor
            | Action::Reply
            | Action::Escalate
            | Action::CloseTicket
            | Action::Log
            | Action::Undo
            | Action::Outbox => self.follow_up_action(action),
            Action::UndoList => self.open_undo_list(),
            Action::Task => self.start_task(),
            // The other modes' actions: the panes' keymap never names them.
            Action::Close
            | Action::NextSection
            | Action::PrevSection
            | Action::TimelineKind
            | Action::Refresh
            | Action::Keep
            | Action::Clear
            | Action::Cancel
            | Action::Retry
            | Action::Edit
            | Action::Discard
            | Action::Submit
            | Action::ExternalEditor
            | Action::UndoTo
            | Action::Yes
            | Action::No
            | Action::Sentiment1
            | Action::Sentiment2
            | Action::Sentiment3
            | Action::Sentiment4
            | Action::Sentiment5 => {}
        }
    }

    /// The queue focused: its item's account is the one selected (the
    /// queue's cursor stays where it was, at its top at first).
    fn follow_focus(&mut self) {
        if self.selection.focus != Pane::Queue {
            return;
        }
        if let Some(id) = self.selection.queue_item(&self.queue).map(|q| q.follow_up.account_id) {
            self.select_from(id, Pane::Queue);
        }
    }

    /// Moves the queue cursor and the selection with it.
    pub(super) fn move_queue_cursor(&mut self, by: isize) {
        let focus = self.selection.focus;
        self.selection.focus = Pane::Queue;
        self.move_cursor(by);
        self.selection.focus = focus;
    }

    /// Reselects an account without moving the queue cursor.
    pub(super) fn select_from_queue(&mut self, id: AccountId) {
        self.select_from(id, Pane::Queue);
    }

    /// Takes these items out of the queue and puts `back` (those still
    /// actionable) in their ranked places, the index in step (see
    /// [`QueueIndex::requeue`]); the cursor stays in place.
    pub(super) fn requeue(&mut self, out: &[crate::domain::FollowUp], back: Vec<QueueItem>) {
        self.queue_index.requeue(&mut self.queue, out, back, self.now, &self.calendar);
        self.selection.clamp_queue(self.queue.len());
        if let Some(id) = self.selection.queue_item(&self.queue).map(|q| q.follow_up.account_id) {
            if self.selection.focus == Pane::Queue {
                self.select_from(id, Pane::Queue);
            }
        }
    }

    fn back(&mut self) {
        if !self.overlays.back() && !self.book.filter().is_empty() {
            self.book.set_filter("");
            self.after_reorder();
        }
    }

    fn move_cursor(&mut self, by: isize) {
        if let Some((id, from)) = self.selection.move_cursor(by, &self.book, &self.queue) {
            self.select_from(id, from);
        }
    }

    fn move_column(&mut self, by: isize) {
        if let Some(id) = self.selection.move_column(by, &self.book) {
            self.select_from(id, Pane::Kanban);
        }
    }

    /// Selects an account everywhere.
    pub fn select(&mut self, id: AccountId) {
        self.select_from(id, Pane::Health);
    }

    /// Selects an account, moving every pane's cursor but `from`'s to it.
    pub(super) fn select_from(&mut self, id: AccountId, from: Pane) {
        self.selection.place(id, from, &self.book);
        // Its health, unless shown; it stays on screen until then.
        if self.reads.needs_read(id) {
            self.read_account(id);
        }
    }

    /// Asks the job runner to read an account (a newer ask wins).
    pub(super) fn read_account(&mut self, id: AccountId) {
        let read = self.reads.ask(id, self.now);
        self.effect(Effect::Read(read));
    }

    /// The account changed on disk: what is shown of it is read again.
    pub(super) fn reread_account(&mut self, id: AccountId) {
        if self.reads.changed(id, self.selection.selected) {
            self.read_account(id);
        }
        self.reread_account_view(id);
    }

    /// The tickets read of an account, if it was read lately.
    pub(super) fn tickets_of(&self, id: AccountId) -> Option<&[TicketView]> {
        self.reads.tickets_of(id)
    }

    /// The health of the selected account, once read.
    pub fn selected_health(&self) -> Option<&HealthView> {
        self.reads.of(self.selection.selected)
    }

    /// The health last read, whoever it is of.
    pub fn health_shown(&self) -> Option<&HealthView> {
        self.reads.shown()
    }

    /// A read the job runner answered.
    pub fn on_read(&mut self, answer: ReadAnswer) {
        match answer {
            ReadAnswer::Account(view, seq) => {
                // None: a newer read of it is on its way.
                let Some(arrived) = self.reads.arrived(*view, seq, self.selection.selected) else { return };
                if let Some(trouble) = arrived.trouble {
                    self.toast(Level::Error, trouble);
                }
                if let Some((action, items)) = arrived.awaiting {
                    self.resume_waiting(action, items);
                }
            }
            ReadAnswer::Outbox(all) => self.on_outbox(all),
            // An outbox that could not be read keeps the counts shown.
            ReadAnswer::OutboxCounts(Some(c)) => self.status.outbox_counts = c,
            ReadAnswer::OutboxCounts(None) => {}
            ReadAnswer::Drafts(drafts) => self.reopen_kept_draft_from(drafts),
            ReadAnswer::Full(full, seq) => self.on_full(*full, seq),
            ReadAnswer::TimelinePage(id, page, seq) => self.on_timeline_page(id, page, seq),
            ReadAnswer::Conversation(ticket, kept) => self.on_kept_conversation(ticket, kept),
            ReadAnswer::UndoHistory(items) => self.on_undo_history(items),
            ReadAnswer::Resolved(from, to) => {
                if self.selection.selected == Some(from) {
                    self.selection.selected = to.filter(|r| self.book.row(*r).is_some());
                    self.reselect();
                }
            }
        }
    }

    /// Re-finds cursors after the table order changed.
    fn after_reorder(&mut self) {
        if let Some(id) = self.selection.after_reorder(&self.book) {
            self.select_from(id, Pane::Accounts);
        }
    }

    pub(super) fn move_stage(&mut self, step: fn(Stage) -> Option<Stage>) {
        let Some(id) = self.selection.selected else { return };
        let Some(row) = self.book.row(id).cloned() else { return };
        let (name, from) = (row.name.clone(), row.stage);
        let Some(to) = step(from) else {
            self.toast(Level::Warning, format!("{name} is already in the {} column", from.label()));
            return;
        };
        // A churn is asked first, with its reason: one key must not lose a customer.
        if to == Stage::Churned {
            return self.ask_churn(&row);
        }
        // On screen at once; the writer's answer brings the stored row.
        self.send_stage(row, to, None);
    }

    /// Puts every cursor on the selected account again after the book
    /// changed, or selects the first row when it is gone.
    fn reselect(&mut self) {
        match self.selection.selected {
            Some(id) => {
                self.select_from(id, Pane::Health);
                self.selection.clamp_queue(self.queue.len());
            }
            None => {
                if let Some(id) = self.book.view_row(0).map(|r| r.id) {
                    self.select(id);
                }
            }
        }
    }

    /// Applies a message from background work.
    pub fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Loaded(book, queue) => {
                // Scores may have moved (a daily pass ran): reread health.
                self.reads.book_loaded();
                let mut book = *book;
                let (key, rev) = self.book.sort();
                book.set_sort(key, rev);
                book.set_filter(self.book.filter());
                self.book = book;
                self.queue_index = QueueIndex::new(&queue, &self.calendar.bounds(self.now));
                self.queue = queue;
                self.queue_complete = true;
                // Edits the writer answered while the book loaded.
                for (rows, changed) in self.writes.take_settled() {
                    self.show_written(rows, &changed);
                }
                self.overlays.keep_marks_in(&self.queue);
                // An account merged away (a support organization that found
                // its CRM account) is selected as the account it became,
                // once the store says which.
                match self.selection.selected.filter(|id| self.book.row(*id).is_none()) {
                    Some(id) => self.effect(Effect::Read(Read::Resolve(id))),
                    None => self.reselect(),
                }
            }
            Msg::LoadFailed(e) => self.toast(Level::Error, format!("Could not load the whole book: {e}")),
            Msg::Metrics(seq, result) => self.overlays.metrics.deliver(seq, result),
            Msg::Pushed(result) => self.on_pushed(result),
            Msg::ConflictStamp(id, Ok(stamp)) => {
                self.write(Edit::OutboxRetry { id, stamp }, InFlight::Retry { over_current: true });
            }
            Msg::ConflictStamp(_, Err(e)) => self.toast(Level::Error, format!("Could not retry: {e}")),
            Msg::Written(seq, result) => self.on_written(seq, result),
            Msg::Read(answer) => self.on_read(answer),
            // The job runner answers these; they never reach the app.
            Msg::Remote(_) => {}
            Msg::Conversation(ticket, result) => self.on_fetched_conversation(ticket, result),
            Msg::HealthDone(result) => {
                // Any load now reads every edit answered before this.
                self.writes.forget_settled();
                if let Err(e) = result {
                    self.toast(
                        Level::Warning,
                        format!("Today's health could not be updated ({e}); scores are as before"),
                    )
                }
            }
            Msg::SyncProgress(p) => self.status.progress(&p.source, p.done),
            Msg::SyncDone(results, _) => {
                for m in self.status.sync_done(results) {
                    self.show(Level::Error, m, StdDuration::from_secs(10));
                }
            }
        }
    }
}
