//! No one-key accidents: the questions asked before what cannot be taken
//! back lightly (a move to Churned with its reason and note, discarding an
//! outbox write, quitting while writing), the list of recent actions to
//! undo several at once, and drafts set aside with esc and offered back.

use ratatui::crossterm::event::KeyEvent;

use super::action::Action;
use super::app::{App, Level, Mode};
use super::compose::{Composer, Purpose};
use super::drafts::{draft_kind, KEPT};
use super::effect::Effect;
use super::keymap::KeyMode;
use super::reads::Read;
use super::writes::InFlight;
use crate::domain::outbox::OutboxEntry;
use crate::domain::{AccountId, AccountRow, ChurnReason, FollowUp, Stage};
use crate::engine::act::{ChurnWhy, HistoryItem, UndoOutcome};
use crate::engine::edits::Edit;
use crate::store::{Draft, DraftKind};

/// What a yes does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnYes {
    /// Never send this outbox entry.
    Discard {
        /// The entry.
        id: u64,
        /// "the write to HubSpot (stage: Churned) for Acme", for the toast.
        what: String,
    },
    /// Quit the cockpit (the editor's text is kept as a draft).
    Quit,
    /// The task asked for goes to HubSpot too (a no adds it locally only).
    TaskToCrm,
}

/// A yes / no question and where a no goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// The question, with what answering does.
    pub question: String,
    /// What a yes does.
    pub yes: OnYes,
    /// The mode a no returns to.
    pub back: Mode,
}

/// The list of recent actions (`U`): newest first, with the cursor.
#[derive(Debug, Clone, Default)]
pub struct UndoList {
    /// The actions, newest first.
    pub items: Vec<HistoryItem>,
    /// Cursor.
    pub cursor: usize,
    /// Waiting for the list from the reader thread.
    pub loading: bool,
}

impl UndoList {
    /// Moves the cursor by `by`, within the list.
    pub fn step(&mut self, by: isize) {
        let last = self.items.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + by).clamp(0, last) as usize;
    }
}

impl App {
    /// `>` onto Churned: asks first, for the reason (`v` / `i`), then a note.
    pub(super) fn ask_churn(&mut self, row: &AccountRow) {
        let name = crate::domain::text::sanitize(&row.name).into_owned();
        self.overlays.picker = Some(super::compose::Picker::churn(row.id, &name));
        self.overlays.mode = Mode::Pick;
    }

    /// The reason picked: the note comes next (enter confirms, esc cancels).
    pub(super) fn on_churn_reason(&mut self, id: AccountId, reason: ChurnReason) {
        let name = self.book.row(id).map_or_else(|| format!("account {}", id.0), |r| r.name.clone());
        let name = crate::domain::text::sanitize(&name).into_owned();
        self.overlays.targets_pending.clear();
        self.overlays.compose(Composer::new(
            Purpose::ChurnNote { id, reason },
            format!("{name} leaves ({}): a short note, enter moves to Churned", reason.label()),
            "",
        ));
    }

    /// The churn confirmed: the move, its outcome and its reason go to the writer.
    pub(super) fn confirm_churn(&mut self, id: AccountId, reason: ChurnReason, note: String) {
        let Some(row) = self.book.row(id).cloned() else {
            self.toast(Level::Warning, "That account is no longer in the book; nothing was moved");
            return;
        };
        let churn = ChurnWhy { reason, note: note.trim().to_string() };
        self.send_stage(row, Stage::Churned, Some(churn));
    }

    /// A question's answer that was cancelled (esc on the reason or the note).
    pub(super) fn churn_cancelled(&mut self, id: AccountId) {
        let (name, stage) =
            self.book.row(id).map_or((format!("account {}", id.0), None), |r| (r.name.clone(), Some(r.stage)));
        let stays = stage.map_or(String::new(), |s| format!(" stays in {}", s.label()));
        self.toast(Level::Info, format!("Not moved: {}{stays}", crate::domain::text::sanitize(&name)));
    }

    /// Sends a stage move to the writer and shows it at once.
    pub(super) fn send_stage(&mut self, row: AccountRow, to: Stage, churn: Option<ChurnWhy>) {
        let (id, name) = (row.id, row.name.clone());
        let reason = churn.as_ref().map(|c| c.reason);
        let mut moved = row.clone();
        moved.stage = to;
        self.book.update_row(moved);
        self.select_from(id, super::app::Pane::Health);
        self.write(Edit::Stage { id, to, churn }, InFlight::Stage { name, from: row, reason });
    }

    /// `x` in the outbox: asks before an entry is dropped for good.
    pub(super) fn ask_discard(&mut self, entry: &OutboxEntry) {
        let name = self.book.row(entry.account_id).map(|r| crate::domain::text::sanitize(&r.name).into_owned());
        let what = format!(
            "the write to {} ({}){}",
            entry.write.system().label(),
            entry.write.describe(),
            name.map_or(String::new(), |n| format!(" for {n}"))
        );
        let keys = self.yes_no();
        self.overlays.confirm = Some(Confirm {
            question: format!(
                "Discard this write to {} ({})? It will not be sent.{keys}",
                entry.write.system().label(),
                entry.write.describe()
            ),
            yes: OnYes::Discard { id: entry.id, what },
            back: Mode::Outbox,
        });
        self.overlays.mode = Mode::Confirm;
    }

    /// ctrl-c: in an editor, asks first (the text is kept as a draft);
    /// anywhere else quits at once. A second ctrl-c while asked quits.
    pub(super) fn on_ctrl_c(&mut self) {
        let asking_quit = matches!(&self.overlays.confirm, Some(c) if c.yes == OnYes::Quit);
        if self.overlays.mode == Mode::Confirm && asking_quit {
            self.should_quit = true;
            return;
        }
        if !self.overlays.is_composing() {
            self.should_quit = true;
            return;
        }
        // Text written now, or a kept draft reopened: either way it is kept.
        let kept = match self.draft().is_some() || self.overlays.kept_draft.is_some() {
            true => " Your draft is kept.",
            false => "",
        };
        let keys = self.yes_no();
        self.overlays.confirm =
            Some(Confirm { question: format!("Quit?{kept}{keys}"), yes: OnYes::Quit, back: Mode::Compose });
        self.overlays.mode = Mode::Confirm;
    }

    /// " y/n", as the keymap in force spells them.
    fn yes_no(&self) -> String {
        match (self.keymap.hint(KeyMode::Confirm, Action::Yes), self.keymap.hint(KeyMode::Confirm, Action::No)) {
            (Some(y), Some(n)) => format!(" {y}/{n}"),
            _ => String::new(),
        }
    }

    /// A key while a question is asked: yes does it, no goes back; any
    /// other key leaves the question open.
    pub(super) fn on_confirm_key(&mut self, k: &KeyEvent) -> bool {
        let Some(c) = self.overlays.confirm.clone() else {
            self.overlays.close();
            return true;
        };
        match self.keymap.action(KeyMode::Confirm, k) {
            Some(Action::Yes) => {
                self.overlays.confirm = None;
                self.overlays.mode = c.back;
                match c.yes {
                    OnYes::Discard { id, what } => {
                        self.write(Edit::OutboxDiscard { id }, InFlight::Discard { what });
                    }
                    OnYes::Quit => self.should_quit = true,
                    OnYes::TaskToCrm => self.add_task(true),
                }
            }
            Some(Action::No) => {
                self.overlays.confirm = None;
                self.overlays.mode = c.back;
                match c.yes {
                    OnYes::Discard { .. } => self.toast(Level::Info, "Kept: it goes out at the next push"),
                    OnYes::TaskToCrm => self.add_task(false),
                    OnYes::Quit => {}
                }
            }
            _ => {}
        }
        true
    }

    /// `U`: the list of recent actions, read off the event loop.
    pub(super) fn open_undo_list(&mut self) {
        self.overlays.undo.loading = true;
        self.overlays.mode = Mode::Undo;
        self.effect(Effect::Read(Read::UndoHistory));
    }

    /// The history as read (kept when the list was closed meanwhile).
    pub fn on_undo_history(&mut self, items: Result<Vec<HistoryItem>, String>) {
        self.overlays.undo.loading = false;
        match items {
            Ok(items) => {
                self.overlays.undo.items = items;
                self.overlays.undo.step(0);
            }
            Err(e) if self.overlays.mode == Mode::Undo => {
                self.overlays.close();
                self.toast(Level::Error, format!("Could not read the recent actions: {e}"));
            }
            Err(_) => {}
        }
    }

    /// A key while the list of recent actions is open.
    pub(super) fn on_undo_key(&mut self, k: &KeyEvent) -> bool {
        match self.keymap.action(KeyMode::Undo, k) {
            Some(Action::Close) => self.overlays.close(),
            Some(Action::Down) => self.overlays.undo.step(1),
            Some(Action::Up) => self.overlays.undo.step(-1),
            Some(Action::UndoTo) => {
                let Some(item) = self.overlays.undo.items.get(self.overlays.undo.cursor) else { return true };
                if let Some(why) = item.can.why_not() {
                    self.toast(Level::Warning, format!("Cannot undo the {}: {why}", item.what));
                    return true;
                }
                let seq = item.seq;
                self.write(Edit::UndoTo { seq }, InFlight::Undo);
            }
            _ => {}
        }
        true
    }

    /// The writer's answer to an undo: the toast, the screen as stored,
    /// and the list again when it is open.
    pub(super) fn on_undone(&mut self, rows: Vec<AccountRow>, outcome: UndoOutcome) {
        match outcome {
            UndoOutcome::Undone { done, restored, kept, .. } => {
                let mut text = match done.as_slice() {
                    [one] => format!("Undone: {one}"),
                    many => format!("Undone {} actions: {}", many.len(), many.join("; ")),
                };
                if let Some(first) = kept.first() {
                    let more = if kept.len() > 1 { format!(" (and {} more)", kept.len() - 1) } else { String::new() };
                    text.push_str(&format!(" · kept the {}: {}{more}", first.what, first.why));
                }
                let level = if kept.is_empty() { Level::Info } else { Level::Warning };
                self.toast(level, text);
                self.settle(rows, restored);
                self.effect(Effect::Push);
            }
            UndoOutcome::Nothing => self.toast(Level::Info, "Nothing to undo"),
            UndoOutcome::Refused(r) => self.toast(Level::Warning, r.message()),
        }
        if self.overlays.mode == Mode::Undo {
            self.open_undo_list();
        }
    }

    /// The editor closed with esc: text the CSM wrote is set aside as a
    /// draft (an empty editor, or one with only what it opened with, just
    /// closes; emptying a kept draft forgets it). Returns whether it was a
    /// kept draft, settled now, so the next kept one may open.
    pub(super) fn set_aside(&mut self, c: Composer) -> bool {
        let kept = self.overlays.kept_draft.take();
        let items = std::mem::take(&mut self.overlays.targets_pending);
        if c.purpose.is_question() {
            return false;
        }
        if !c.changed() {
            match kept {
                Some(id) if c.text().trim().is_empty() => {
                    self.overlays.aside.retain(|(d, _)| *d != id);
                    self.write(Edit::DiscardDraft { id }, InFlight::ForgetDraft { id });
                    self.toast(Level::Info, "The draft was emptied and forgotten");
                }
                // Left as it was: it stays where it is.
                Some(id) => {
                    self.remember_aside(id, &c, items);
                    self.toast(Level::Info, "The draft stays for later");
                }
                None => self.toast(Level::Info, "Nothing was saved"),
            }
            return kept.is_some();
        }
        self.overlays.targets_pending = items.clone();
        let Some(draft) = self.draft_of(&c.purpose, &c.title, c.text()) else { return false };
        self.overlays.targets_pending.clear();
        // Known aside at once: the next kept draft to open must not be this one.
        if let Some(id) = kept {
            self.remember_aside(id, &c, items);
        }
        self.write(Edit::KeepDraft { id: kept, draft: draft.clone() }, InFlight::KeepDraft { draft });
        kept.is_some()
    }

    /// Keeps a draft in the list the next editor looks in.
    fn remember_aside(&mut self, id: u64, c: &Composer, items: Vec<FollowUp>) {
        let Some(kind) = draft_kind(&c.purpose) else { return };
        let draft = Draft {
            kind,
            title: c.title.trim_end_matches(KEPT).to_string(),
            text: c.text(),
            items,
            saved_at: self.now,
        };
        self.overlays.aside.retain(|(d, _)| *d != id);
        self.overlays.aside.push((id, draft));
    }

    /// The writer kept a draft set aside: the toast says how to get it back.
    pub(super) fn on_kept_aside(&mut self, id: u64, draft: Draft) {
        self.overlays.aside.retain(|(d, _)| *d != id);
        let what = super::followups::capitalise(draft.kind.label());
        let on = draft.title.clone();
        self.overlays.aside.push((id, draft));
        self.toast(
            Level::Info,
            format!("{what} kept as a draft ({on}): it opens again when you next write it, or at the next start"),
        );
    }

    /// A draft set aside for what `action` is about to open on `items`,
    /// opened in the editor instead; whether one was.
    pub(super) fn resume_aside(&mut self, action: Action, items: &[FollowUp]) -> bool {
        let Some(first) = items.first() else { return false };
        let fits = |d: &Draft| {
            let same_item = d.items.first().is_some_and(|f| f.id == first.id);
            let same_account = d.items.first().is_some_and(|f| f.account_id == first.account_id);
            match (action, d.kind) {
                (Action::Note, DraftKind::Note) => same_account && d.items.len() == items.len(),
                (Action::Log, DraftKind::Log(_)) => same_account && d.items.len() == items.len(),
                (Action::Reply, DraftKind::Reply)
                | (Action::Escalate, DraftKind::Escalate { .. })
                | (Action::CloseTicket, DraftKind::Close) => same_item,
                _ => false,
            }
        };
        let Some(i) = self.overlays.aside.iter().position(|(_, d)| fits(d)) else { return false };
        let (id, d) = self.overlays.aside.remove(i);
        self.overlays.picker = None;
        self.overlays.compose(Composer::new(Purpose::from(d.kind), format!("{}{KEPT}", d.title), &d.text));
        self.overlays.targets_pending = items.to_vec();
        self.overlays.kept_draft = Some(id);
        let keys: Vec<String> = [(Action::Submit, "saves it"), (Action::Cancel, "sets it aside again")]
            .into_iter()
            .filter_map(|(a, what)| Some(format!("{} {what}", self.keymap.hint(KeyMode::Editor, a)?)))
            .collect();
        let keys = if keys.is_empty() { String::new() } else { format!(": {}", keys.join(", ")) };
        self.toast(Level::Info, format!("Your draft is back{keys}; empty it to discard it"));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_undo_list_cursor_stays_in_the_list() {
        let mut l = UndoList::default();
        l.step(1);
        assert_eq!(l.cursor, 0, "an empty list keeps its cursor at the top");
        let item = |seq| HistoryItem {
            seq,
            at: chrono::DateTime::UNIX_EPOCH,
            what: format!("note {seq}"),
            can: crate::engine::act::CanUndo::Yes,
        };
        l.items = vec![item(3), item(2)];
        l.step(5);
        assert_eq!(l.cursor, 1);
        l.step(-5);
        assert_eq!(l.cursor, 0);
    }
}
