//! Modes and overlays, one part of the app's state: what keys currently
//! drive, whether the focused pane is zoomed, the open one-key menu and
//! inline editor with the items they act on, the queue's marks, the kept
//! draft the editor continues, and the metrics and outbox overlays.

use std::collections::BTreeSet;

use super::account_view::AccountView;
use super::compose::{Composer, ExternalEdit, Picker};
use super::guard::{Confirm, UndoList};
use super::keymap::KeyMode;
use super::metrics::Metrics;
use super::outbox::OutboxView;
use crate::domain::FollowUp;
use crate::queue::QueueItem;

/// What keys currently drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keys are actions.
    Normal,
    /// Keys type into the filter.
    Filter,
    /// The help overlay is open.
    Help,
    /// The account view is open (full screen, its own keys).
    Account,
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
    /// The list of recent actions is open (`U`).
    Undo,
    /// A yes / no question is asked.
    Confirm,
}

impl Mode {
    /// The keymap the mode reads its command keys from.
    pub fn keys(self) -> KeyMode {
        match self {
            Mode::Normal => KeyMode::Normal,
            Mode::Filter => KeyMode::Filter,
            Mode::Help => KeyMode::Help,
            Mode::Account => KeyMode::Account,
            Mode::Sentiment => KeyMode::Sentiment,
            Mode::Metrics => KeyMode::Metrics,
            Mode::Pick => KeyMode::Picker,
            Mode::Compose => KeyMode::Editor,
            Mode::Outbox => KeyMode::Outbox,
            Mode::Undo => KeyMode::Undo,
            Mode::Confirm => KeyMode::Confirm,
        }
    }
}

/// The mode, the zoom and what the overlays hold.
#[derive(Debug)]
pub struct Overlays {
    /// Keys mode.
    pub mode: Mode,
    /// Whether the focused pane fills the screen.
    pub zoom: bool,
    /// The open one-key menu.
    pub picker: Option<Picker>,
    /// The open inline editor.
    pub composer: Option<Composer>,
    /// The id of the kept draft the open editor continues (see `drafts`).
    pub kept_draft: Option<u64>,
    /// The items the action being composed applies to.
    pub targets_pending: Vec<FollowUp>,
    /// Queue items marked for an action on several (follow-up ids).
    pub marked: BTreeSet<u64>,
    /// The text being submitted, given back if its action fails.
    pub submitting: Option<ExternalEdit>,
    /// The metrics overlay's figures and its pending job.
    pub metrics: Metrics,
    /// The outbox overlay.
    pub outbox: OutboxView,
    /// The account view, when open (menus and the editor open over it).
    pub account: Option<AccountView>,
    /// Account view reads asked so far (each answer carries its number).
    pub account_reads: u64,
    /// The question asked, while `mode` is `Confirm`.
    pub confirm: Option<Confirm>,
    /// The list of recent actions.
    pub undo: UndoList,
    /// Drafts the CSM set aside with esc (or kept from an earlier
    /// session), by id: the next editor on the same item offers them back.
    pub aside: Vec<(u64, crate::store::Draft)>,
    /// A task being asked for, between its questions (see `task`).
    pub task: Option<super::task::PendingTask>,
}

impl Default for Overlays {
    fn default() -> Self {
        Overlays {
            mode: Mode::Normal,
            zoom: false,
            picker: None,
            composer: None,
            kept_draft: None,
            targets_pending: Vec::new(),
            marked: BTreeSet::new(),
            submitting: None,
            metrics: Metrics::default(),
            outbox: OutboxView::default(),
            account: None,
            account_reads: 0,
            confirm: None,
            undo: UndoList::default(),
            aside: Vec::new(),
            task: None,
        }
    }
}

impl Overlays {
    /// Back to the panes' keys, or to the account view's when it is open
    /// (a menu or the editor opened over it closes back to it).
    pub fn close(&mut self) {
        self.mode = if self.account.is_some() { Mode::Account } else { Mode::Normal };
    }

    /// Whether no overlay, menu or editor is open: a kept draft may open.
    pub fn is_idle(&self) -> bool {
        self.mode == Mode::Normal && self.composer.is_none()
    }

    /// Whether the inline editor is open.
    pub fn is_composing(&self) -> bool {
        self.mode == Mode::Compose && self.composer.is_some()
    }

    /// One step back: closes the mode, else the zoom. Whether anything closed.
    pub fn back(&mut self) -> bool {
        if self.mode != Mode::Normal {
            self.mode = Mode::Normal;
        } else if self.zoom {
            self.zoom = false;
        } else {
            return false;
        }
        true
    }

    /// Opens help, or closes it when open.
    pub fn toggle_help(&mut self) {
        self.mode = if self.mode == Mode::Help { Mode::Normal } else { Mode::Help };
    }

    /// Opens the inline editor on `c`.
    pub fn compose(&mut self, c: Composer) {
        self.composer = Some(c);
        self.mode = Mode::Compose;
    }

    /// The action on `items` waits in the menu or editor just opened (or
    /// in neither): the mode follows what is open.
    pub fn pend(&mut self, items: Vec<FollowUp>) {
        self.targets_pending = items;
        if self.picker.is_some() {
            self.mode = Mode::Pick;
        } else if self.composer.is_some() {
            self.mode = Mode::Compose;
        } else {
            self.close();
        }
    }

    /// Marks the item, or unmarks it when marked.
    pub fn toggle_mark(&mut self, id: u64) {
        if !self.marked.remove(&id) {
            self.marked.insert(id);
        }
    }

    /// Forgets the marks of items no longer in the queue.
    pub fn keep_marks_in(&mut self, queue: &[QueueItem]) {
        self.marked.retain(|id| queue.iter().any(|q| q.follow_up.id == *id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_closes_the_mode_then_the_zoom_then_nothing() {
        let mut o = Overlays { mode: Mode::Metrics, zoom: true, ..Overlays::default() };
        assert!(o.back());
        assert_eq!((o.mode, o.zoom), (Mode::Normal, true));
        assert!(o.back());
        assert!(!o.zoom);
        assert!(!o.back(), "nothing left to close");
    }

    #[test]
    fn the_mode_follows_what_the_pending_action_opened() {
        let mut o = Overlays::default();
        o.pend(Vec::new());
        assert_eq!(o.mode, Mode::Normal);
        o.picker = Some(Picker::log());
        o.pend(Vec::new());
        assert_eq!(o.mode, Mode::Pick);
        o.picker = None;
        o.compose(Composer::new(crate::tui::compose::Purpose::Note, "Note", ""));
        assert!(o.is_composing() && !o.is_idle());
    }

    #[test]
    fn marking_twice_unmarks() {
        let mut o = Overlays::default();
        o.toggle_mark(7);
        assert!(o.marked.contains(&7));
        o.toggle_mark(7);
        assert!(o.marked.is_empty());
    }
}
