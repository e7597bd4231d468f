//! The cockpit's state and `update(action)`: every change to what is on
//! screen happens here, never in a draw function.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::effect::Effect;
use super::keymap::{KeyMode, Keymap};
use super::metrics::Metrics;
pub use super::msg::Msg;
use super::queue_index::QueueIndex;
use super::reads::{Read, ReadAnswer, TicketView};
use super::theme::Theme;
pub use super::toasts::{Level, Toast, Toasts};
use super::writes::{InFlight, Writes};
use crate::book::Book;
use crate::domain::explain::Explanation;
use crate::domain::{AccountId, Bands, HealthHistory, Stage};
use crate::engine::edits::Edit;
use crate::engine::upkeep::HealthSetup;
use crate::queue::QueueItem;
use crate::store::SyncStatus;

/// Timeline entries the account detail shows.
pub const TIMELINE_SHOWN: usize = 6;

/// Days of history the health pane draws.
pub const HEALTH_DAYS: i64 = 90;

/// The four panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The accounts table.
    Accounts,
    /// Health trend of the selected account.
    Health,
    /// The lifecycle kanban.
    Kanban,
    /// Today's follow-ups.
    Queue,
}

impl Pane {
    /// Focus order.
    pub const ALL: [Pane; 4] = [Pane::Accounts, Pane::Health, Pane::Kanban, Pane::Queue];

    fn step(self, by: isize) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Pane::ALL[(i + by).rem_euclid(4) as usize]
    }
}

/// What keys currently drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keys are actions.
    Normal,
    /// Keys type into the filter.
    Filter,
    /// The help overlay is open.
    Help,
    /// The account detail overlay is open.
    Detail,
    /// The next digit (1-5) sets the CSM's sentiment on the selected account.
    Sentiment,
    /// The metrics overlay is open.
    Metrics,
    /// A one-key menu is open (snooze preset, saved reply, kind of touch).
    Pick,
    /// The inline editor is open.
    Compose,
    /// The outbox overlay is open.
    Outbox,
}

impl Mode {
    /// The keymap the mode reads its command keys from.
    pub fn keys(self) -> KeyMode {
        match self {
            Mode::Normal => KeyMode::Normal,
            Mode::Filter => KeyMode::Filter,
            Mode::Help => KeyMode::Help,
            Mode::Detail => KeyMode::Detail,
            Mode::Sentiment => KeyMode::Sentiment,
            Mode::Metrics => KeyMode::Metrics,
            Mode::Pick => KeyMode::Picker,
            Mode::Compose => KeyMode::Editor,
            Mode::Outbox => KeyMode::Outbox,
        }
    }
}

/// The selected account's health, loaded when the selection changes.
#[derive(Debug, Clone)]
pub struct HealthView {
    /// Whose.
    pub id: AccountId,
    /// Daily scores ending at the latest scored day.
    pub history: HealthHistory,
    /// Why the latest score is what it is, and what moved it in a week.
    pub explanation: Option<Explanation>,
    /// The CSM's sentiment on the account, when set.
    pub sentiment: Option<crate::domain::signals::Sentiment>,
    /// The latest timeline entries, newest first.
    pub timeline: Vec<crate::domain::Activity>,
}

/// One source in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceView {
    /// Source name.
    pub name: String,
    /// How its last sync went.
    pub last: Option<SyncStatus>,
    /// Records handled by the sync running now.
    pub running: Option<u64>,
}

/// The whole UI state.
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
    /// The focused pane.
    pub focus: Pane,
    /// Keys mode.
    pub mode: Mode,
    /// Whether the focused pane fills the screen.
    pub zoom: bool,
    /// The selected account, shared by every pane.
    pub selected: Option<AccountId>,
    /// Table cursor (position in the filtered, sorted view).
    pub table_cursor: usize,
    /// First table row drawn last frame.
    pub table_offset: Cell<usize>,
    /// Table rows visible last frame (for paging).
    pub table_height: Cell<usize>,
    /// Focused kanban column.
    pub kanban_col: usize,
    /// Cursor per kanban column.
    pub kanban_rows: [usize; 9],
    /// First card drawn per column last frame.
    pub kanban_offsets: Cell<[usize; 9]>,
    /// Queue cursor.
    pub queue_cursor: usize,
    /// First queue item drawn last frame.
    pub queue_offset: Cell<usize>,
    /// Selected account's health.
    pub health: Option<HealthView>,
    /// The health shown is older than a change the writer answered: it
    /// stays on screen until the reread arrives.
    pub(super) health_stale: bool,
    /// Account reads asked of the job runner, by the number of the latest:
    /// an answer to an older one is dropped.
    pub(super) reading: HashMap<AccountId, u64>,
    /// The number of the next read.
    pub(super) next_read: u64,
    /// The tickets of the accounts read lately (the selected ones, those of
    /// marked items), with their requesters named, oldest first.
    pub(super) tickets: VecDeque<(AccountId, Vec<TicketView>)>,
    /// A queue action waiting for its items' tickets to be read.
    pub(super) awaiting: Option<Action>,
    /// The outbox view is waiting for its entries.
    pub outbox_loading: bool,
    /// Transient messages.
    pub toasts: Toasts,
    /// Workspace label for the status line.
    pub workspace: String,
    /// Where the data comes from when no source is configured ("demo data, offline").
    pub data_label: String,
    /// Configured sources and how their syncs went.
    pub sources: Vec<SourceView>,
    /// A sync is running.
    pub syncing: bool,
    /// Who is at the keyboard (for timeline entries).
    pub author: String,
    /// The name public replies are signed with (the config's `author`;
    /// none: `{csm}` stays unresolved and the reply is not sent).
    pub signature: Option<String>,
    /// The metrics overlay's figures and its pending job.
    pub metrics: Metrics,
    /// The health model in force, e.g. "default v3".
    pub model_label: String,
    /// Set when the user asked to quit.
    pub should_quit: bool,
    /// The health model, flags and bands, for explanations and sentiment.
    pub health_setup: Option<std::sync::Arc<HealthSetup>>,
    /// Queue items marked for an action on several (follow-up ids).
    pub marked: std::collections::BTreeSet<u64>,
    /// The items the action being composed applies to.
    pub targets_pending: Vec<crate::domain::FollowUp>,
    /// The open one-key menu.
    pub picker: Option<super::compose::Picker>,
    /// The open inline editor.
    pub composer: Option<super::compose::Composer>,
    /// The id of the kept draft the open editor continues (see `drafts`).
    pub kept_draft: Option<u64>,
    /// The outbox overlay.
    pub outbox_view: super::outbox::OutboxView,
    /// Outbox entries by state, for the status line.
    pub outbox_counts: crate::store::OutboxCounts,
    /// Saved replies.
    pub replies: Vec<crate::domain::reply::Template>,
    /// Effects asked for and edits sent to the writer, not yet answered.
    pub(super) writes: Writes,
}

impl App {
    /// A new app over a (possibly partial) book and queue.
    pub fn new(book: Book, queue: Vec<QueueItem>, theme: Theme, now: DateTime<Utc>) -> App {
        let mut app = App {
            book,
            queue_index: QueueIndex::new(&queue, now),
            queue,
            queue_complete: false,
            theme,
            keymap: Keymap::default(),
            bands: Bands::default(),
            now,
            focus: Pane::Accounts,
            mode: Mode::Normal,
            zoom: false,
            selected: None,
            table_cursor: 0,
            table_offset: Cell::new(0),
            table_height: Cell::new(10),
            kanban_col: 0,
            kanban_rows: [0; 9],
            kanban_offsets: Cell::new([0; 9]),
            queue_cursor: 0,
            queue_offset: Cell::new(0),
            health: None,
            health_stale: false,
            reading: HashMap::new(),
            next_read: 1,
            tickets: VecDeque::new(),
            awaiting: None,
            outbox_loading: false,
            toasts: Toasts::default(),
            workspace: String::new(),
            data_label: String::new(),
            sources: Vec::new(),
            health_setup: None,
            syncing: false,
            author: "me".into(),
            signature: None,
            metrics: Metrics::default(),
            model_label: String::new(),
            should_quit: false,
            marked: Default::default(),
            targets_pending: Vec::new(),
            picker: None,
            composer: None,
            kept_draft: None,
            outbox_view: Default::default(),
            outbox_counts: Default::default(),
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

    /// Asks for a sync now, unless one runs.
    pub fn request_sync(&mut self) {
        if !self.syncing && !self.sources.is_empty() {
            self.syncing = true;
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
        self.now = now;
        if minute_changed {
            self.queue_index.recount(&self.queue, now);
        }
        expired || minute_changed
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
        // Not data: ctrl-c always quits, whatever the keymaps say.
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.should_quit = true;
            return true;
        }
        match self.mode {
            Mode::Filter => self.on_filter_key(k),
            Mode::Sentiment => self.on_sentiment_key(k),
            Mode::Pick => self.on_pick_key(k),
            Mode::Compose => self.on_compose_key(k),
            Mode::Outbox => self.on_outbox_key(k),
            Mode::Help | Mode::Detail | Mode::Metrics => self.on_overlay_key(k),
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

    /// Help, detail and metrics close on their own keys; any key of the
    /// panes closes them too (the detail then does what it asked).
    fn on_overlay_key(&mut self, k: &KeyEvent) -> bool {
        if self.keymap.action(self.mode.keys(), k) == Some(Action::Close) {
            self.mode = Mode::Normal;
            return true;
        }
        self.on_normal_key(k)
    }

    fn on_sentiment_key(&mut self, k: &KeyEvent) -> bool {
        self.mode = Mode::Normal;
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
        let (Some(id), Some(setup)) = (self.selected, self.health_setup.clone()) else {
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
                self.mode = Mode::Normal;
            }
            (Some(Action::Keep), _) => self.mode = Mode::Normal,
            // Everything else is the text being typed.
            (_, KeyCode::Backspace) => {
                text.pop();
            }
            (_, KeyCode::Char(c)) if !k.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => text.push(c),
            _ => return false,
        }
        if text != self.book.filter() {
            self.book.set_filter(&text);
            self.table_cursor = 0;
            self.table_offset.set(0);
            if let Some(id) = self.book.view_row(0).map(|r| r.id) {
                self.select_from(id, Pane::Accounts);
            }
        }
        true
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        if self.mode == Mode::Help {
            // Any key closes help, like less/k9s; q too, as in every overlay,
            // so it never quits from here (ctrl-c always does).
            self.mode = Mode::Normal;
            return;
        }
        if self.mode == Mode::Detail {
            // Any key closes the detail, like help; the detail key reopens nothing.
            self.mode = Mode::Normal;
            if !matches!(action, Action::Back | Action::Detail | Action::Quit) {
                self.update(action);
            }
            return;
        }
        if self.mode == Mode::Metrics {
            // Every key closes the metrics overlay; q too, so it never quits from here.
            self.mode = Mode::Normal;
            return;
        }
        match action {
            Action::Quit => self.should_quit = true,
            Action::Back => self.back(),
            Action::Help => self.mode = if self.mode == Mode::Help { Mode::Normal } else { Mode::Help },
            Action::Metrics => {
                // Recomputed on every opening: the book may have changed since.
                self.mode = Mode::Metrics;
                let job = self.metrics.request(self.now, self.bands, self.health_setup.clone());
                self.effect(Effect::Metrics(job));
            }
            Action::Filter => {
                self.focus = Pane::Accounts;
                self.mode = Mode::Filter;
            }
            Action::Detail if self.selected.is_some() => {
                self.mode = Mode::Detail;
            }
            Action::Sentiment if self.selected.is_some() => self.mode = Mode::Sentiment,
            Action::Detail | Action::Sentiment => self.toast(Level::Info, "Select an account first"),
            Action::FocusNext => self.focus = self.focus.step(1),
            Action::FocusPrev => self.focus = self.focus.step(-1),
            Action::FocusAccounts => self.focus = Pane::Accounts,
            Action::FocusHealth => self.focus = Pane::Health,
            Action::FocusKanban => self.focus = Pane::Kanban,
            Action::FocusQueue => self.focus = Pane::Queue,
            Action::Zoom => self.zoom = !self.zoom,
            Action::Up => self.move_cursor(-1),
            Action::Down => self.move_cursor(1),
            Action::PageUp => self.move_cursor(-(self.page() as isize)),
            Action::PageDown => self.move_cursor(self.page() as isize),
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
            Action::Open => self.open(),
            Action::Sync if self.sources.is_empty() => self.toast(
                Level::Warning,
                "No sources configured: add a [[source]] to the config (`cockpit config example`)",
            ),
            Action::Sync if self.syncing => self.toast(Level::Info, "A sync is already running"),
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
            // The other modes' actions: the panes' keymap never names them.
            Action::Close
            | Action::Keep
            | Action::Clear
            | Action::Cancel
            | Action::Retry
            | Action::Edit
            | Action::Discard
            | Action::Submit
            | Action::ExternalEditor
            | Action::Sentiment1
            | Action::Sentiment2
            | Action::Sentiment3
            | Action::Sentiment4
            | Action::Sentiment5 => {}
        }
    }

    /// Moves the queue cursor and the selection with it.
    pub(super) fn move_queue_cursor(&mut self, by: isize) {
        let focus = self.focus;
        self.focus = Pane::Queue;
        self.move_cursor(by);
        self.focus = focus;
    }

    /// Reselects an account without moving the queue cursor.
    pub(super) fn select_from_queue(&mut self, id: AccountId) {
        self.select_from(id, Pane::Queue);
    }

    /// Takes these items out of the queue and puts `back` (those still
    /// actionable) in their ranked places, the index in step (see
    /// [`QueueIndex::requeue`]); the cursor stays in place.
    pub(super) fn requeue(&mut self, out: &[crate::domain::FollowUp], back: Vec<QueueItem>) {
        self.queue_index.requeue(&mut self.queue, out, back, self.now);
        self.queue_cursor = self.queue_cursor.min(self.queue.len().saturating_sub(1));
        if let Some(id) = self.queue.get(self.queue_cursor).map(|q| q.follow_up.account_id) {
            if self.focus == Pane::Queue {
                self.select_from(id, Pane::Queue);
            }
        }
    }

    fn back(&mut self) {
        if self.mode != Mode::Normal {
            self.mode = Mode::Normal;
        } else if self.zoom {
            self.zoom = false;
        } else if !self.book.filter().is_empty() {
            self.book.set_filter("");
            self.after_reorder();
        }
    }

    fn page(&self) -> usize {
        self.table_height.get().max(1)
    }

    fn move_cursor(&mut self, by: isize) {
        let step = |cur: usize, len: usize| -> usize {
            if len == 0 {
                0
            } else {
                (cur as isize).saturating_add(by).clamp(0, len as isize - 1) as usize
            }
        };
        match self.focus {
            Pane::Accounts | Pane::Health => {
                self.table_cursor = step(self.table_cursor, self.book.view_len());
                if let Some(id) = self.book.view_row(self.table_cursor).map(|r| r.id) {
                    self.select_from(id, Pane::Accounts);
                }
            }
            Pane::Kanban => {
                let stage = Stage::ALL[self.kanban_col];
                let row = step(self.kanban_rows[self.kanban_col], self.book.column_len(stage));
                self.kanban_rows[self.kanban_col] = row;
                if let Some(id) = self.book.column_row(stage, row).map(|r| r.id) {
                    self.select_from(id, Pane::Kanban);
                }
            }
            Pane::Queue => {
                self.queue_cursor = step(self.queue_cursor, self.queue.len());
                if let Some(id) = self.queue.get(self.queue_cursor).map(|q| q.follow_up.account_id) {
                    self.select_from(id, Pane::Queue);
                }
            }
        }
    }

    fn move_column(&mut self, by: isize) {
        if self.focus != Pane::Kanban {
            return;
        }
        self.kanban_col = (self.kanban_col as isize + by).clamp(0, 8) as usize;
        let stage = Stage::ALL[self.kanban_col];
        let len = self.book.column_len(stage);
        let row = self.kanban_rows[self.kanban_col].min(len.saturating_sub(1));
        self.kanban_rows[self.kanban_col] = row;
        if let Some(id) = self.book.column_row(stage, row).map(|r| r.id) {
            self.select_from(id, Pane::Kanban);
        }
    }

    /// Selects an account everywhere.
    pub fn select(&mut self, id: AccountId) {
        self.select_from(id, Pane::Health);
    }

    /// Selects an account, moving every pane's cursor but `from`'s to it.
    pub(super) fn select_from(&mut self, id: AccountId, from: Pane) {
        self.selected = Some(id);
        if from != Pane::Accounts {
            if let Some(i) = self.book.view_position(id) {
                self.table_cursor = i;
            }
        }
        if from != Pane::Kanban {
            if let Some((stage, i)) = self.book.column_position(id) {
                self.kanban_col = stage.index();
                self.kanban_rows[stage.index()] = i;
            }
        }
        if from != Pane::Queue {
            if let Some(i) = self.queue_index.first(id) {
                self.queue_cursor = i;
            }
        }
        self.load_health(id);
    }

    /// Asks for the account's health when it is not the one shown (or the
    /// one shown is older than a change); it stays on screen until then.
    fn load_health(&mut self, id: AccountId) {
        if self.health.as_ref().is_some_and(|h| h.id == id) && !self.health_stale {
            return;
        }
        if !self.reading.contains_key(&id) {
            self.read_account(id);
        }
    }

    /// Asks the job runner to read an account (a newer ask wins).
    pub(super) fn read_account(&mut self, id: AccountId) {
        let seq = self.next_read;
        self.next_read += 1;
        self.reading.insert(id, seq);
        self.effect(Effect::Read(Read::Account { id, now: self.now, seq }));
    }

    /// The account changed on disk: what is shown of it is read again.
    pub(super) fn reread_account(&mut self, id: AccountId) {
        self.tickets.retain(|(a, _)| *a != id);
        if self.health.as_ref().is_some_and(|h| h.id == id) {
            self.health_stale = true;
        }
        if self.selected == Some(id) || self.reading.contains_key(&id) {
            self.read_account(id);
        }
    }

    /// The tickets read of an account, if it was read lately.
    pub(super) fn tickets_of(&self, id: AccountId) -> Option<&[TicketView]> {
        self.tickets.iter().rev().find(|(a, _)| *a == id).map(|(_, t)| t.as_slice())
    }

    /// The health of the selected account, once read.
    pub fn selected_health(&self) -> Option<&HealthView> {
        self.health.as_ref().filter(|h| Some(h.id) == self.selected)
    }

    /// Whether a read of the account is on its way.
    pub(super) fn is_reading(&self, id: AccountId) -> bool {
        self.reading.contains_key(&id)
    }

    /// Tickets kept for this many accounts at most.
    const TICKETS_KEPT: usize = 256;

    /// A read the job runner answered.
    pub fn on_read(&mut self, answer: ReadAnswer) {
        match answer {
            ReadAnswer::Account(view, seq) => {
                let id = view.health.id;
                if self.reading.get(&id) != Some(&seq) {
                    return; // a newer read of it is on its way
                }
                self.reading.remove(&id);
                if let Some(trouble) = &view.trouble {
                    self.toast(Level::Error, trouble.clone());
                }
                self.tickets.retain(|(a, _)| *a != id);
                if self.tickets.len() >= Self::TICKETS_KEPT {
                    self.tickets.pop_front();
                }
                let view = *view;
                self.tickets.push_back((id, view.tickets));
                if self.selected == Some(id) {
                    self.health = Some(view.health);
                    self.health_stale = false;
                }
                if let Some(action) = self.awaiting.take() {
                    self.follow_up_action(action);
                }
            }
            ReadAnswer::Outbox(all) => self.on_outbox(all),
            ReadAnswer::OutboxCounts(c) => self.outbox_counts = c,
            ReadAnswer::Drafts(drafts) => self.reopen_kept_draft_from(drafts),
            ReadAnswer::Resolved(from, to) => {
                if self.selected == Some(from) {
                    self.selected = to.filter(|r| self.book.row(*r).is_some());
                    self.reselect();
                }
            }
        }
    }

    /// Re-finds cursors after the table order changed.
    fn after_reorder(&mut self) {
        match self.selected.and_then(|id| self.book.view_position(id)) {
            Some(i) => self.table_cursor = i,
            None => {
                self.table_cursor = 0;
                if let Some(id) = self.book.view_row(0).map(|r| r.id) {
                    self.select_from(id, Pane::Accounts);
                }
            }
        }
    }

    fn move_stage(&mut self, step: fn(Stage) -> Option<Stage>) {
        let Some(id) = self.selected else { return };
        let Some(row) = self.book.row(id).cloned() else { return };
        let (name, from) = (row.name.clone(), row.stage);
        let Some(to) = step(from) else {
            self.toast(Level::Warning, format!("{name} is already in the {} column", from.label()));
            return;
        };
        // On screen at once; the writer's answer brings the stored row.
        let mut moved = row.clone();
        moved.stage = to;
        self.book.update_row(moved);
        self.select_from(id, Pane::Health);
        self.write(Edit::Stage { id, to }, InFlight::Stage { name, from: row });
    }

    fn open(&mut self) {
        let id = match self.focus {
            Pane::Queue => self.queue.get(self.queue_cursor).map(|q| q.follow_up.account_id),
            _ => self.selected,
        };
        let Some(id) = id else { return };
        if self.book.view_position(id).is_none() && !self.book.filter().is_empty() {
            self.book.set_filter("");
        }
        self.focus = Pane::Accounts;
        self.select_from(id, Pane::Queue);
        if let Some(i) = self.book.view_position(id) {
            self.table_cursor = i;
        }
    }

    /// Puts every cursor on the selected account again after the book
    /// changed, or selects the first row when it is gone.
    fn reselect(&mut self) {
        match self.selected {
            Some(id) => {
                self.select_from(id, Pane::Health);
                self.queue_cursor = self.queue_cursor.min(self.queue.len().saturating_sub(1));
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
                self.health_stale = true;
                self.tickets.clear();
                let mut book = *book;
                let (key, rev) = self.book.sort();
                book.set_sort(key, rev);
                book.set_filter(self.book.filter());
                self.book = book;
                self.queue_index = QueueIndex::new(&queue, self.now);
                self.queue = queue;
                self.queue_complete = true;
                // Edits the writer answered while the book loaded.
                for (rows, changed) in self.writes.take_settled() {
                    self.show_written(rows, &changed);
                }
                self.marked.retain(|id| self.queue.iter().any(|q| q.follow_up.id == *id));
                // An account merged away (a support organization that found
                // its CRM account) is selected as the account it became,
                // once the store says which.
                match self.selected.filter(|id| self.book.row(*id).is_none()) {
                    Some(id) => self.effect(Effect::Read(Read::Resolve(id))),
                    None => self.reselect(),
                }
            }
            Msg::LoadFailed(e) => self.toast(Level::Error, format!("Could not load the whole book: {e}")),
            Msg::Metrics(seq, result) => self.metrics.deliver(seq, result),
            Msg::Pushed(result) => self.on_pushed(result),
            Msg::ConflictStamp(id, Ok(stamp)) => {
                self.write(Edit::OutboxRetry { id, stamp }, InFlight::Retry { over_current: true });
            }
            Msg::ConflictStamp(_, Err(e)) => self.toast(Level::Error, format!("Could not retry: {e}")),
            Msg::Written(seq, result) => self.on_written(seq, result),
            Msg::Read(answer) => self.on_read(answer),
            // The job runner answers these; they never reach the app.
            Msg::Remote(_) => {}
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
            Msg::SyncProgress(p) => {
                if let Some(s) = self.sources.iter_mut().find(|s| s.name == p.source) {
                    s.running = Some(p.done);
                }
            }
            Msg::SyncDone(results, _) => {
                self.syncing = false;
                for (name, status) in results {
                    let Some(s) = self.sources.iter_mut().find(|s| s.name == name) else { continue };
                    let failed = if status.ok { None } else { status.message.clone() };
                    s.running = None;
                    s.last = Some(status);
                    if let Some(m) = failed {
                        self.show(Level::Error, m, StdDuration::from_secs(10));
                    }
                }
            }
        }
    }
}
