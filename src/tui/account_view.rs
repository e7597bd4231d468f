//! The account view's state, one part of the app's state: whose account it
//! shows and where the CSM came from, what was read of it, the cursor line
//! and the scroll, the timeline's kind filter, and the ticket conversation
//! open in it. Moving the cursor is here; the lines it moves over are laid
//! out by `panes::account_lines` (at the width of the last frame).

use std::cell::Cell;

use super::full_read::FullAccount;
use super::selection::Pane;
use crate::domain::conversation::Conversation;
use crate::domain::{AccountId, ActivityKind};

/// The account view's sections, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Who they are, the contract, the stage, health and why.
    Overview,
    /// Key people first, then every contact.
    Contacts,
    /// Open tickets first, each with the rule that applies now.
    Tickets,
    /// Deals and the renewal.
    Deals,
    /// NPS answers with their comments.
    Nps,
    /// The whole timeline, newest first.
    Timeline,
    /// This account's writes waiting for (or having reached) a vendor.
    Outbox,
}

impl Section {
    /// Every section, in order.
    pub const ALL: [Section; 7] = [
        Section::Overview,
        Section::Contacts,
        Section::Tickets,
        Section::Deals,
        Section::Nps,
        Section::Timeline,
        Section::Outbox,
    ];

    /// The heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Contacts => "Contacts",
            Section::Tickets => "Tickets",
            Section::Deals => "Deals and renewals",
            Section::Nps => "NPS",
            Section::Timeline => "Timeline",
            Section::Outbox => "Outbox",
        }
    }

    /// The short name in the section bar.
    pub fn tab(self) -> &'static str {
        match self {
            Section::Deals => "Deals",
            other => other.title(),
        }
    }

    fn index(self) -> usize {
        Section::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The timeline's kinds, in the order the filter key steps through them.
pub const KINDS: [ActivityKind; 7] = [
    ActivityKind::Note,
    ActivityKind::Call,
    ActivityKind::Meeting,
    ActivityKind::Email,
    ActivityKind::EmailSent,
    ActivityKind::Task,
    ActivityKind::StageChange,
];

/// Where the sections and tickets fall among the view's lines, at one width.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Lines in all.
    pub len: usize,
    /// The first line (heading) of each section, in `Section::ALL` order.
    pub starts: [usize; 7],
    /// Each ticket's lines: first, end (exclusive), the ticket.
    pub tickets: Vec<(usize, usize, u64)>,
    /// The timeline's last line.
    pub timeline_end: usize,
}

impl Layout {
    /// The section the line is in.
    pub fn section_at(&self, line: usize) -> Section {
        let i = self.starts.iter().rposition(|s| *s <= line).unwrap_or(0);
        Section::ALL[i]
    }

    /// The line that stands where `line` stood in `old` (the same lines
    /// laid out at another width): the same place in the same section.
    pub fn remap(&self, line: usize, old: &Layout) -> usize {
        let s = old.section_at(line);
        let i = Section::ALL.iter().position(|x| *x == s).unwrap_or(0);
        let end = |l: &Layout| l.starts.get(i + 1).copied().unwrap_or(l.len);
        let within = line - old.starts[i];
        (self.starts[i] + within).min(end(self).saturating_sub(1)).max(self.starts[i])
    }

    /// The ticket whose lines hold `line`.
    pub fn ticket_at(&self, line: usize) -> Option<u64> {
        self.tickets.iter().find(|(from, to, _)| (*from..*to).contains(&line)).map(|(_, _, t)| *t)
    }
}

/// A ticket's conversation, opened in the account view.
#[derive(Debug)]
pub struct ConversationView {
    /// The ticket.
    pub ticket: u64,
    /// The copy kept in the workspace (or just read from the desk).
    pub kept: Option<Conversation>,
    /// Whether the kept copy was looked for yet.
    pub looked: bool,
    /// A read from the desk is on its way.
    pub fetching: bool,
    /// Why the last read from the desk brought nothing, in words.
    pub trouble: Option<String>,
    /// The first line shown.
    pub offset: usize,
}

impl ConversationView {
    /// A conversation about to be looked for.
    pub fn new(ticket: u64) -> ConversationView {
        ConversationView { ticket, kept: None, looked: false, fetching: false, trouble: None, offset: 0 }
    }
}

/// The account view.
#[derive(Debug)]
pub struct AccountView {
    /// Whose account.
    pub id: AccountId,
    /// The pane focused when it opened (it closes back to it).
    pub back_to: Pane,
    /// What was read of it (none: reading…).
    pub full: Option<FullAccount>,
    /// The number of the read asked last.
    pub seq: u64,
    /// The cursor line.
    pub cursor: usize,
    /// The width the cursor line was placed at (a resize lays the lines
    /// out again: the cursor keeps its place in its section).
    pub cursor_width: u16,
    /// The first line drawn (kept by the draw so the cursor stays in view).
    pub offset: Cell<usize>,
    /// The width the lines were last laid out at.
    pub width: Cell<u16>,
    /// Lines the body showed last frame.
    pub page: Cell<usize>,
    /// The timeline shows only this kind of entry.
    pub kind: Option<ActivityKind>,
    /// A page of older timeline entries is being read.
    pub reading_more: bool,
    /// The ticket conversation open over the sections.
    pub conversation: Option<ConversationView>,
}

impl AccountView {
    /// The view of `id`, opened from `back_to`, its first read numbered `seq`.
    pub fn new(id: AccountId, back_to: Pane, seq: u64) -> AccountView {
        AccountView {
            id,
            back_to,
            full: None,
            seq,
            cursor: 0,
            cursor_width: 80,
            offset: Cell::new(0),
            width: Cell::new(80),
            page: Cell::new(20),
            kind: None,
            reading_more: false,
            conversation: None,
        }
    }

    /// Moves the cursor by `by` lines within `len`.
    pub fn step(&mut self, by: isize, len: usize) {
        let last = len.saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + by).clamp(0, last.max(0)) as usize;
    }

    /// Puts the cursor on a section's heading, at the top of the screen.
    pub fn jump(&mut self, to: Section, layout: &Layout) {
        self.cursor = layout.starts[to.index()];
        self.offset.set(self.cursor);
    }

    /// The section `by` places from the cursor's (wrapping around).
    pub fn section_from(&self, by: isize, layout: &Layout) -> Section {
        let here = layout.section_at(self.cursor).index() as isize;
        // Back from inside a section goes to its own heading first.
        if by < 0 && self.cursor != layout.starts[here as usize] {
            return Section::ALL[here as usize];
        }
        Section::ALL[(here + by).rem_euclid(Section::ALL.len() as isize) as usize]
    }

    /// The timeline's next filter: the next kind it holds, then all.
    pub fn next_kind(&self) -> Option<ActivityKind> {
        let held: Vec<ActivityKind> = match &self.full {
            Some(f) => KINDS.into_iter().filter(|k| f.timeline.iter().any(|a| a.kind == *k)).collect(),
            None => Vec::new(),
        };
        let from = self.kind.and_then(|k| held.iter().position(|h| *h == k)).map_or(0, |i| i + 1);
        held.get(from).copied()
    }

    /// Whether the cursor reached the timeline's end with older entries
    /// still to read (and none on their way).
    pub fn wants_more(&self, layout: &Layout) -> bool {
        let more = self.full.as_ref().is_some_and(|f| f.timeline_more);
        more && !self.reading_more && self.cursor + 1 >= layout.timeline_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout { len: 70, starts: [0, 10, 20, 30, 40, 50, 60], tickets: vec![(22, 25, 7)], timeline_end: 59 }
    }

    #[test]
    fn sections_step_and_wrap_and_back_goes_to_the_heading_first() {
        let l = layout();
        let mut v = AccountView::new(AccountId(1), Pane::Kanban, 1);
        assert_eq!(v.section_from(1, &l), Section::Contacts);
        assert_eq!(v.section_from(-1, &l), Section::Outbox, "wraps around");
        v.jump(Section::Tickets, &l);
        assert_eq!((v.cursor, v.offset.get()), (20, 20));
        v.step(3, l.len);
        assert_eq!(l.ticket_at(v.cursor), Some(7));
        assert_eq!(v.section_from(-1, &l), Section::Tickets, "its own heading first");
        v.step(1000, l.len);
        assert_eq!(v.cursor, 69);
        let wider = Layout { len: 40, starts: [0, 5, 10, 15, 20, 25, 30], tickets: vec![], timeline_end: 29 };
        assert_eq!(wider.remap(22, &l), 12, "two lines into Tickets stay two lines into it");
        assert_eq!(wider.remap(29, &l), 14, "past the section's end: its last line");
        v.step(-1000, l.len);
        assert_eq!(v.cursor, 0);
    }

    #[test]
    fn more_timeline_is_wanted_only_at_its_end() {
        let l = layout();
        let mut v = AccountView::new(AccountId(1), Pane::Kanban, 1);
        v.cursor = 58;
        assert!(!v.wants_more(&l), "nothing read: nothing more");
    }
}
