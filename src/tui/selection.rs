//! The selection and the panes' cursors, one part of the app's state: the
//! focused pane, the account selected (shared by every pane), and where
//! each pane's cursor and scroll stand. Moving a cursor within a pane is
//! here; what a new selection reads is the app's.

use std::cell::Cell;

use crate::book::Book;
use crate::domain::{AccountId, Stage};
use crate::queue::QueueItem;

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

    /// The pane `by` places along the focus order, wrapping around.
    pub fn step(self, by: isize) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Pane::ALL[(i + by).rem_euclid(4) as usize]
    }
}

/// The focused pane, the selected account and every pane's cursor.
#[derive(Debug)]
pub struct Selection {
    /// The focused pane.
    pub focus: Pane,
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
    /// First kanban column drawn last frame (when not all nine fit).
    pub kanban_first: Cell<usize>,
    /// Queue cursor.
    pub queue_cursor: usize,
    /// First queue item drawn last frame.
    pub queue_offset: Cell<usize>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            focus: Pane::Accounts,
            selected: None,
            table_cursor: 0,
            table_offset: Cell::new(0),
            table_height: Cell::new(10),
            kanban_col: 0,
            kanban_rows: [0; 9],
            kanban_offsets: Cell::new([0; 9]),
            kanban_first: Cell::new(0),
            queue_cursor: 0,
            queue_offset: Cell::new(0),
        }
    }
}

/// `cur` moved by `by` within `len` rows.
fn step(cur: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (cur as isize).saturating_add(by).clamp(0, len as isize - 1) as usize
    }
}

impl Selection {
    /// Rows in a page of the table (as drawn last frame).
    pub fn page(&self) -> usize {
        self.table_height.get().max(1)
    }

    /// Moves the focus `by` panes along the focus order.
    pub fn step_focus(&mut self, by: isize) {
        self.focus = self.focus.step(by);
    }

    /// Moves the focused pane's cursor by `by` rows; the account now under
    /// it and the pane it is in, for the app to select.
    pub fn move_cursor(&mut self, by: isize, book: &Book, queue: &[QueueItem]) -> Option<(AccountId, Pane)> {
        match self.focus {
            Pane::Accounts | Pane::Health => {
                self.table_cursor = step(self.table_cursor, by, book.view_len());
                book.view_row(self.table_cursor).map(|r| (r.id, Pane::Accounts))
            }
            Pane::Kanban => {
                let stage = Stage::ALL[self.kanban_col];
                let row = step(self.kanban_rows[self.kanban_col], by, book.column_len(stage));
                self.kanban_rows[self.kanban_col] = row;
                book.column_row(stage, row).map(|r| (r.id, Pane::Kanban))
            }
            Pane::Queue => {
                self.queue_cursor = step(self.queue_cursor, by, queue.len());
                queue.get(self.queue_cursor).map(|q| (q.follow_up.account_id, Pane::Queue))
            }
        }
    }

    /// Moves the kanban cursor `by` columns, when the kanban is focused;
    /// the account under it, for the app to select.
    pub fn move_column(&mut self, by: isize, book: &Book) -> Option<AccountId> {
        if self.focus != Pane::Kanban {
            return None;
        }
        self.kanban_col = (self.kanban_col as isize + by).clamp(0, 8) as usize;
        let stage = Stage::ALL[self.kanban_col];
        let len = book.column_len(stage);
        let row = self.kanban_rows[self.kanban_col].min(len.saturating_sub(1));
        self.kanban_rows[self.kanban_col] = row;
        book.column_row(stage, row).map(|r| r.id)
    }

    /// Selects an account, moving the table's and the board's cursors to
    /// it (but `from`'s). The queue's cursor is its own: the queue leads
    /// with its top whatever is selected elsewhere.
    pub fn place(&mut self, id: AccountId, from: Pane, book: &Book) {
        self.selected = Some(id);
        if from != Pane::Accounts {
            if let Some(i) = book.view_position(id) {
                self.table_cursor = i;
            }
        }
        if from != Pane::Kanban {
            if let Some((stage, i)) = book.column_position(id) {
                self.kanban_col = stage.index();
                self.kanban_rows[stage.index()] = i;
            }
        }
    }

    /// The queue item under the cursor.
    pub fn queue_item<'a>(&self, queue: &'a [QueueItem]) -> Option<&'a QueueItem> {
        queue.get(self.queue_cursor)
    }

    /// Keeps the queue cursor within a queue of `len` items.
    pub fn clamp_queue(&mut self, len: usize) {
        self.queue_cursor = self.queue_cursor.min(len.saturating_sub(1));
    }

    /// The table's rows changed (a new filter): back to its top.
    pub fn table_to_top(&mut self) {
        self.table_cursor = 0;
        self.table_offset.set(0);
    }

    /// Re-finds the table cursor after the table order changed; when the
    /// selection left the view, the cursor goes to the top and the first
    /// row's account is returned, for the app to select.
    pub fn after_reorder(&mut self, book: &Book) -> Option<AccountId> {
        match self.selected.and_then(|id| book.view_position(id)) {
            Some(i) => {
                self.table_cursor = i;
                None
            }
            None => {
                self.table_cursor = 0;
                book.view_row(0).map(|r| r.id)
            }
        }
    }
}
