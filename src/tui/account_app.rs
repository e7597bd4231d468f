//! The account view's part of `update`: opening it on the selected account
//! (or the queue item's), its keys, the reads it asks for and their
//! answers, a ticket's conversation (the kept copy first, the desk on
//! demand), and replies and closes on the ticket under the cursor through
//! the queue's own reply and close flows.

use ratatui::crossterm::event::KeyEvent;

use super::account_view::{AccountView, ConversationView, Layout, Section};
use super::action::Action;
use super::app::{App, Level, Mode, Pane};
use super::effect::Effect;
use super::full_read::FullAccount;
use super::keymap::{in_parens, KeyMode};
use super::panes::{account_lines, conversation};
use super::reads::Read;
use crate::domain::conversation::Conversation;
use crate::domain::followup_action::ticket_only;
use crate::domain::{AccountId, Activity, FollowUp};
use crate::sync::conversation::FetchError;

impl App {
    /// Opens the account view on the selected account, or on the queue
    /// item's account when the queue is focused.
    pub(super) fn open_account_view(&mut self) {
        let from = self.selection.focus;
        let id = match from {
            Pane::Queue => self.selection.queue_item(&self.queue).map(|q| q.follow_up.account_id),
            _ => self.selection.selected,
        };
        let Some(id) = id else {
            self.toast(Level::Info, "Select an account first");
            return;
        };
        if self.selection.selected != Some(id) {
            self.select_from(id, from);
        }
        self.overlays.account = Some(AccountView::new(id, from, 0));
        self.overlays.mode = Mode::Account;
        self.read_full();
    }

    /// Asks for the open view's account in full (a newer ask wins).
    fn read_full(&mut self) {
        let now = self.now;
        let Some(v) = self.overlays.account.as_mut() else { return };
        self.overlays.account_reads += 1;
        v.seq = self.overlays.account_reads;
        let read = Read::Full { id: v.id, now, seq: v.seq };
        self.effect(Effect::Read(read));
    }

    /// The account changed on disk: the view of it is read again.
    pub(super) fn reread_account_view(&mut self, id: AccountId) {
        if self.overlays.account.as_ref().is_some_and(|v| v.id == id) {
            self.read_full();
        }
    }

    /// The view's account as read (dropped when the view moved on).
    pub(super) fn on_full(&mut self, full: FullAccount, seq: u64) {
        let Some(v) = self.overlays.account.as_mut().filter(|v| v.id == full.id && v.seq == seq) else { return };
        // The reply and close flows find the tickets where the queue's do.
        self.reads.keep_tickets(full.id, full.tickets.clone());
        let more_read = v.full.as_ref().map(|f| f.timeline.len()).unwrap_or(0);
        v.full = Some(full);
        v.reading_more = false;
        // Older pages read before stay read: the reread asks for them again.
        if more_read > v.full.as_ref().map_or(0, |f| f.timeline.len()) {
            self.ask_more_timeline();
        }
    }

    /// Older timeline entries, appended to the view's.
    pub(super) fn on_timeline_page(&mut self, id: AccountId, page: Result<(Vec<Activity>, bool), String>, seq: u64) {
        let Some(v) = self.overlays.account.as_mut().filter(|v| v.id == id && v.seq == seq) else { return };
        v.reading_more = false;
        let Some(full) = v.full.as_mut() else { return };
        match page {
            Ok((entries, more)) => {
                full.timeline.extend(entries);
                full.timeline_more = more;
            }
            Err(e) => {
                full.timeline_more = false;
                full.trouble.push(format!("Older timeline entries could not be read: {e}"));
            }
        }
    }

    fn ask_more_timeline(&mut self) {
        let Some(v) = self.overlays.account.as_mut() else { return };
        let Some(last) = v.full.as_ref().and_then(|f| f.timeline.last()).map(|a| (a.at, a.id)) else { return };
        v.reading_more = true;
        let read = Read::TimelinePage { id: v.id, before: last, seq: v.seq };
        self.effect(Effect::Read(read));
    }

    /// The view's lines laid out at the last frame's width, the cursor
    /// moved to its place there if it was placed at another.
    fn account_layout(&mut self) -> Layout {
        let Some(v) = &self.overlays.account else { return Layout::default() };
        let (width, placed) = (v.width.get(), v.cursor_width);
        let layout = account_lines::build(self, v, width as usize).layout;
        if placed != width {
            let old = account_lines::build(self, v, placed as usize).layout;
            if let Some(v) = self.overlays.account.as_mut() {
                v.cursor = layout.remap(v.cursor, &old);
                v.offset.set(layout.remap(v.offset.get(), &old));
                v.cursor_width = width;
            }
        }
        layout
    }

    /// A key while the account view is open.
    pub(super) fn on_account_key(&mut self, k: &KeyEvent) -> bool {
        match self.keymap.action(KeyMode::Account, k) {
            Some(a) => {
                self.account_action(a);
                true
            }
            None => false,
        }
    }

    /// One action in the account view (or its open conversation).
    pub(super) fn account_action(&mut self, action: Action) {
        if self.overlays.account.as_ref().is_some_and(|v| v.conversation.is_some()) {
            return self.conversation_action(action);
        }
        let layout = self.account_layout();
        let page = self.overlays.account.as_ref().map_or(20, |v| v.page.get()).max(2) as isize;
        let Some(v) = self.overlays.account.as_mut() else { return };
        match action {
            Action::Close | Action::Back | Action::Quit => return self.close_account_view(),
            Action::Down => v.step(1, layout.len),
            Action::Up => v.step(-1, layout.len),
            Action::PageDown => {
                v.step(page - 1, layout.len);
                v.offset.set(v.offset.get() + (page - 1) as usize);
            }
            Action::PageUp => {
                v.step(-(page - 1), layout.len);
                v.offset.set(v.offset.get().saturating_sub((page - 1) as usize));
            }
            Action::Top => v.jump(Section::Overview, &layout),
            Action::Bottom => v.step(isize::MAX / 2, layout.len),
            Action::NextSection => v.jump(v.section_from(1, &layout), &layout),
            Action::PrevSection => v.jump(v.section_from(-1, &layout), &layout),
            Action::TimelineKind => {
                v.kind = v.next_kind();
                let layout = self.account_layout();
                if let Some(v) = self.overlays.account.as_mut() {
                    v.jump(Section::Timeline, &layout);
                }
                return;
            }
            Action::Refresh => return self.read_full(),
            Action::Open => match layout.ticket_at(v.cursor) {
                Some(ticket) => return self.open_conversation(ticket),
                None => {
                    let tab = in_parens(&self.keymap, KeyMode::Account, Action::NextSection);
                    self.toast(Level::Info, format!("Put the cursor on a ticket (Tickets section{tab}) to read it"));
                    return;
                }
            },
            Action::Reply | Action::CloseTicket => {
                let ticket = layout.ticket_at(v.cursor);
                return self.account_ticket_action(action, ticket);
            }
            Action::Note
            | Action::NoteEditor
            | Action::Log
            | Action::Snooze
            | Action::Task
            | Action::StageNext
            | Action::StagePrev => return self.act_on_viewed_account(action),
            _ => return,
        }
        if self.overlays.account.as_ref().is_some_and(|v| v.wants_more(&layout)) {
            self.ask_more_timeline();
        }
    }

    /// A note, a logged touch, a snooze of its queue items, a task or a
    /// stage move on the account the view shows, as from the table: the
    /// view's account is the one selected, whatever pane it was opened
    /// from (opened from the queue, it is still the account, not the item).
    fn act_on_viewed_account(&mut self, action: Action) {
        let Some(id) = self.overlays.account.as_ref().map(|v| v.id) else { return };
        if self.selection.selected != Some(id) {
            self.select(id);
        }
        let focus = self.selection.focus;
        self.selection.focus = Pane::Health;
        match action {
            Action::StageNext => self.move_stage(crate::domain::Stage::next),
            Action::StagePrev => self.move_stage(crate::domain::Stage::prev),
            Action::Task => self.start_task(),
            _ => self.follow_up_action(action),
        }
        self.selection.focus = focus;
    }

    /// Closes the account view, back to the pane it was opened from.
    fn close_account_view(&mut self) {
        if let Some(v) = self.overlays.account.take() {
            self.selection.focus = v.back_to;
        }
        self.overlays.close();
    }

    /// Opens a ticket's conversation: the kept copy first.
    fn open_conversation(&mut self, ticket: u64) {
        let Some(v) = self.overlays.account.as_mut() else { return };
        v.conversation = Some(ConversationView::new(ticket));
        self.effect(Effect::Read(Read::Conversation(ticket)));
    }

    /// One action in an open conversation.
    fn conversation_action(&mut self, action: Action) {
        let len = self.conversation_len();
        let Some(v) = self.overlays.account.as_mut() else { return };
        let page = v.page.get().max(2);
        let Some(c) = v.conversation.as_mut() else { return };
        let last = len.saturating_sub(page);
        match action {
            Action::Close | Action::Back | Action::Quit => v.conversation = None,
            Action::Down => c.offset = (c.offset + 1).min(last),
            Action::Up => c.offset = c.offset.saturating_sub(1),
            Action::PageDown => c.offset = (c.offset + page - 1).min(last),
            Action::PageUp => c.offset = c.offset.saturating_sub(page - 1),
            Action::Top => c.offset = 0,
            Action::Bottom => c.offset = last,
            Action::Refresh => {
                let ticket = c.ticket;
                self.fetch_conversation(ticket);
            }
            Action::Reply | Action::CloseTicket => {
                let ticket = c.ticket;
                self.account_ticket_action(action, Some(ticket));
            }
            _ => {}
        }
    }

    /// Lines of the open conversation at the last frame's width.
    fn conversation_len(&self) -> usize {
        let Some(v) = &self.overlays.account else { return 0 };
        let Some(c) = &v.conversation else { return 0 };
        let ticket = v.full.as_ref().and_then(|f| f.tickets.iter().find(|t| t.ticket.id == c.ticket));
        conversation::lines(self, c, ticket, v.width.get() as usize).len()
    }

    /// Reads the conversation from the desk (the kept copy stays shown).
    fn fetch_conversation(&mut self, ticket: u64) {
        let Some(c) = self.overlays.account.as_mut().and_then(|v| v.conversation.as_mut()) else { return };
        if c.ticket != ticket || c.fetching {
            return;
        }
        c.fetching = true;
        self.effect(Effect::FetchConversation(ticket));
    }

    /// The kept copy of a conversation, as read from the workspace: shown,
    /// and read from the desk when there is none.
    pub(super) fn on_kept_conversation(&mut self, ticket: u64, kept: Result<Option<Conversation>, String>) {
        let Some(c) = self.overlays.account.as_mut().and_then(|v| v.conversation.as_mut()) else { return };
        if c.ticket != ticket {
            return;
        }
        c.looked = true;
        match kept {
            Ok(Some(k)) => c.kept = Some(k),
            Ok(None) => self.fetch_conversation(ticket),
            Err(e) => {
                c.trouble = Some(format!("The kept copy could not be read ({e})"));
                self.fetch_conversation(ticket);
            }
        }
    }

    /// The desk's answer: the conversation as read now, or why not (the
    /// copy kept before stays shown).
    pub(super) fn on_fetched_conversation(&mut self, ticket: u64, result: Result<Conversation, FetchError>) {
        let Some(c) = self.overlays.account.as_mut().and_then(|v| v.conversation.as_mut()) else { return };
        if c.ticket != ticket {
            return;
        }
        c.fetching = false;
        match result {
            Ok(conversation) => {
                c.kept = Some(conversation);
                c.trouble = None;
            }
            Err(e) => {
                let kept = match &c.kept {
                    Some(k) => format!("showing the copy kept as of {}", self.calendar.minute(k.kept_at)),
                    None => "showing nothing kept yet".into(),
                };
                c.trouble = Some(e.describe(&kept));
            }
        }
    }

    /// A reply or close on a ticket of the view, through the queue's own
    /// flow: on the ticket's queue item when it has one (it is done then),
    /// else on the ticket alone.
    fn account_ticket_action(&mut self, action: Action, ticket: Option<u64>) {
        let Some(id) = self.overlays.account.as_ref().map(|v| v.id) else { return };
        let Some(ticket) = ticket else {
            let tab = in_parens(&self.keymap, KeyMode::Account, Action::NextSection);
            self.toast(Level::Info, format!("Put the cursor on a ticket (Tickets section{tab}) to act on it"));
            return;
        };
        let Some(t) = self.tickets_of(id).and_then(|ts| ts.iter().find(|v| v.ticket.id == ticket)) else {
            self.toast(Level::Info, "The ticket is still being read; try again in a moment");
            return;
        };
        let item: FollowUp = match self.queue.iter().find(|q| q.follow_up.ticket_id == Some(ticket)) {
            Some(q) => q.follow_up.to_follow_up(),
            None => ticket_only(&t.ticket, self.now),
        };
        self.act_on(action, vec![item]);
    }
}
