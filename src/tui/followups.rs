//! One-key actions on the follow-up queue: done, snooze, note, reply,
//! escalate, close, log a touch, undo, and the outbox view. Each action
//! shows on screen at once and goes to the writer as an edit; the toast
//! comes with the writer's answer, once the change is on disk.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use ratatui::crossterm::event::KeyEvent;

use super::action::Action;
use super::app::{App, Level, Mode, Pane};
use super::compose::{Composer, ExternalEdit, Outcome, PickFor, Picker, Purpose};
use super::effect::Effect;
use super::keymap::{in_parens, KeyMode};
use super::outbox::OutboxView;
use super::reads::{Read, TicketView};
use super::writes::InFlight;
use crate::domain::followup_action::{plan, EscalateTo, FollowUpAction, TICKET_ONLY};
use crate::domain::outbox::OutboxEntry;
use crate::domain::reply::{fill, unresolved, Requester, Vars};
use crate::domain::text::sanitize;
use crate::domain::{AccountId, AccountRow, ActivityKind, ChurnReason, FollowUp, FollowUpKind, Ticket};
use crate::engine::edits::{Applied, Edit, Written};

impl App {
    /// The items an action applies to: the marked ones, else the one under
    /// the cursor. `None` (with a toast) when the queue is not focused.
    fn targets(&mut self, action: Action) -> Option<Vec<FollowUp>> {
        if self.selection.focus != Pane::Queue {
            return self.account_targets(action);
        }
        let items = self.target_items();
        if items.is_empty() {
            self.toast(Level::Info, "Nothing due: the queue is empty");
            return None;
        }
        Some(items)
    }

    /// Outside the queue, an action is on the selected account: a note or a
    /// logged touch on the account itself; a snooze on its items in the
    /// queue; a reply, escalation or close on its one ticket item. Done
    /// stays a queue key (one key must not finish all of an account's items).
    fn account_targets(&mut self, action: Action) -> Option<Vec<FollowUp>> {
        match self.account_items(action) {
            Ok(items) => Some(items),
            Err(why) => {
                self.toast(Level::Info, why);
                None
            }
        }
    }

    /// The items an action outside the queue is on (see `account_targets`),
    /// or what to do instead.
    fn account_items(&self, action: Action) -> Result<Vec<FollowUp>, String> {
        let Some(id) = self.selection.selected else { return Err("Select an account first".into()) };
        let name = self.account_name(id);
        let four = in_parens(&self.keymap, KeyMode::Normal, Action::FocusQueue);
        match action {
            Action::Note | Action::NoteEditor | Action::Log => {
                return Ok(vec![crate::domain::followup_action::account_only(id, self.now)])
            }
            Action::Done => return Err(format!("Done is for queue items: focus the follow-up queue{four}")),
            _ => {}
        }
        let bounds = self.calendar.bounds(self.now);
        let ticketed = matches!(action, Action::Reply | Action::Escalate | Action::CloseTicket);
        let items: Vec<FollowUp> = self
            .queue
            .iter()
            .filter(|q| q.follow_up.account_id == id && q.section(&bounds).is_some())
            .filter(
                |q| !matches!(q.follow_up.state, crate::domain::FollowUpState::Snoozed { until } if until > self.now),
            )
            .filter(|q| !ticketed || q.follow_up.ticket_id.is_some())
            .map(|q| q.follow_up.to_follow_up())
            .collect();
        let open = in_parens(&self.keymap, KeyMode::Normal, Action::Detail);
        match (items.len(), ticketed) {
            (0, false) => Err(format!("{name} has nothing in the queue to snooze")),
            (0, true) => {
                Err(format!("{name} has no ticket item in the queue: open the account{open} to act on a ticket"))
            }
            (1, _) | (_, false) => Ok(items),
            (n, true) => Err(format!(
                "{name} has {n} ticket items: open the account{open} and pick the ticket, or use the queue{four}"
            )),
        }
    }

    /// The marked items, else the one under the queue's cursor.
    fn target_items(&self) -> Vec<FollowUp> {
        if self.overlays.marked.is_empty() {
            self.selection.queue_item(&self.queue).map(|q| q.follow_up.to_follow_up()).into_iter().collect()
        } else {
            self.queue
                .iter()
                .filter(|q| self.overlays.marked.contains(&q.follow_up.id))
                .map(|q| q.follow_up.to_follow_up())
                .collect()
        }
    }

    /// A read the waiting action asked for arrived: it runs again if the
    /// CSM is still on the same items (else it is dropped, never run on
    /// what the screen shows now).
    pub(super) fn resume_waiting(&mut self, action: Action, items: Vec<u64>) {
        let now: Vec<u64> = match self.selection.focus {
            Pane::Queue => self.target_items().iter().map(|f| f.id).collect(),
            _ => self.account_items(action).unwrap_or_default().iter().map(|f| f.id).collect(),
        };
        if self.overlays.is_idle() && now == items {
            self.follow_up_action(action);
        }
    }

    /// The account's name as the CSM reads it.
    pub(super) fn account_name(&self, id: AccountId) -> String {
        self.book.row(id).map_or_else(|| format!("account {}", id.0), |r| sanitize(&r.name).into_owned())
    }

    /// The ticket of a queue item, as read with its account (see
    /// `tickets_of`; the action that needs it waits for that read).
    fn ticket_of(&self, f: &FollowUp) -> Option<Ticket> {
        self.ticket_view(f).map(|t| t.ticket.clone())
    }

    fn ticket_view<R>(&self, f: &FollowUp<R>) -> Option<&TicketView> {
        let id = f.ticket_id?;
        self.tickets_of(f.account_id)?.iter().find(|t| t.ticket.id == id)
    }

    /// The ticket of the queue item under the cursor, when the queue is
    /// focused, with its requester named as the CSM reads them.
    pub fn queue_item_ticket(&self) -> Option<&TicketView> {
        if self.selection.focus != Pane::Queue {
            return None;
        }
        self.ticket_view(&self.selection.queue_item(&self.queue)?.follow_up)
    }

    /// Who opened a ticket (read with its account), and their names for a
    /// greeting.
    fn requester_of(&self, t: &Ticket) -> (String, Requester) {
        match self.tickets_of(t.account_id).and_then(|ts| ts.iter().find(|v| v.ticket.id == t.id)) {
            Some(v) => (v.shown.clone(), v.requester.clone()),
            None => (sanitize(&t.requester).into_owned(), Requester::default()),
        }
    }

    /// Whether an action on `items` must first read their tickets: it asks
    /// for the reads, and the action runs again when they arrive.
    fn wait_for_tickets(&mut self, action: super::action::Action, items: &[FollowUp]) -> bool {
        let missing: BTreeSet<AccountId> = items
            .iter()
            .filter(|f| f.ticket_id.is_some() && self.tickets_of(f.account_id).is_none())
            .map(|f| f.account_id)
            .collect();
        if missing.is_empty() {
            return false;
        }
        // The tickets read are kept for so many accounts: more could never
        // all be in at once.
        let accounts = items.iter().filter(|f| f.ticket_id.is_some()).map(|f| f.account_id).collect::<BTreeSet<_>>();
        if accounts.len() > super::account_reads::TICKETS_KEPT {
            self.toast(
                Level::Info,
                format!(
                    "That is tickets of {} accounts at once; mark at most {} accounts' items",
                    accounts.len(),
                    super::account_reads::TICKETS_KEPT
                ),
            );
            return true;
        }
        for id in missing {
            if !self.reads.is_reading(id) {
                self.read_account(id);
            }
        }
        self.reads.wait(action, items.iter().map(|f| f.id).collect());
        true
    }

    /// The title of the reply editor for the first pending target.
    fn composer_title_for_reply(&mut self) -> String {
        let Some(first) = self.overlays.targets_pending.first().cloned() else { return "Reply (public)".into() };
        match self.ticket_of(&first) {
            Some(t) => format!("Reply on #{} to {} (public)", t.id, self.requester_of(&t).0),
            None => "Reply (public)".into(),
        }
    }

    /// Starts a queue action from its key.
    pub(super) fn follow_up_action(&mut self, action: Action) {
        use Action as A;
        if action == A::Undo {
            return self.undo();
        }
        if action == A::Outbox {
            return self.open_outbox();
        }
        if action == A::Mark {
            return self.toggle_mark();
        }
        let Some(items) = self.targets(action) else { return };
        if matches!(action, A::Reply | A::Escalate | A::CloseTicket) && self.wait_for_tickets(action, &items) {
            return;
        }
        self.act_on(action, items);
    }

    /// Starts an action on these items (their tickets read): the queue's
    /// targets, or the account view's ticket.
    pub(super) fn act_on(&mut self, action: Action, items: Vec<FollowUp>) {
        use Action as A;
        // A draft set aside for the same item comes back rather than a blank editor.
        if matches!(action, A::Note | A::Log | A::Reply | A::Escalate | A::CloseTicket)
            && self.resume_aside(action, &items)
        {
            return;
        }
        let first = items[0].clone();
        let single = items.len() == 1;
        let name = self.account_name(first.account_id);
        let on = if single { name.clone() } else { format!("{} items", items.len()) };
        match action {
            A::Done => {
                self.overlays.targets_pending = items;
                self.run_action(FollowUpAction::Done);
                return;
            }
            A::Snooze => self.overlays.picker = Some(Picker::snooze()),
            A::Note => self.overlays.composer = Some(Composer::new(Purpose::Note, format!("Note on {on}"), "")),
            A::NoteEditor => self.effect(Effect::Editor(ExternalEdit {
                purpose: Purpose::Note,
                title: format!("Note on {on}"),
                text: String::new(),
                initial: String::new(),
            })),
            A::Reply => {
                if !single {
                    let space = in_parens(&self.keymap, KeyMode::Normal, Action::Mark);
                    self.toast(Level::Info, format!("A reply goes on one ticket: unmark the others{space}"));
                    return;
                }
                if self.ticket_of(&first).is_none() {
                    let (n, l) = (
                        in_parens(&self.keymap, KeyMode::Normal, Action::Note),
                        in_parens(&self.keymap, KeyMode::Normal, Action::Log),
                    );
                    self.toast(
                        Level::Info,
                        format!("This item has no ticket to reply on; add a note{n} or log a call{l}"),
                    );
                    return;
                }
                let names: Vec<String> = self.replies.iter().map(|t| t.name.clone()).collect();
                self.overlays.picker = Some(Picker::replies(&names));
            }
            A::Escalate => {
                let engineering = first.kind == FollowUpKind::EscalateEngineering;
                let text = self.escalation_details(&items);
                let who = if engineering { "engineering" } else { "the manager" };
                self.overlays.composer =
                    Some(Composer::new(Purpose::Escalate { engineering }, format!("Escalate {on} to {who}"), &text));
            }
            A::CloseTicket => {
                let Some(t) = self.ticket_of(&first) else {
                    self.toast(Level::Info, "This item has no ticket to close");
                    return;
                };
                let since = t.last_agent_reply.map_or("our last answer".into(), |d| self.calendar.day(d).to_string());
                let text = format!("No response from the customer since {since}; closing from Cockpit.");
                self.overlays.composer =
                    Some(Composer::new(Purpose::Close, format!("Close #{} ({on}): internal comment", t.id), &text));
            }
            A::Log => self.overlays.picker = Some(Picker::log()),
            _ => return,
        }
        self.overlays.pend(items);
    }

    /// Marks or unmarks the item under the cursor and moves on, as in a
    /// file manager.
    fn toggle_mark(&mut self) {
        if self.selection.focus != Pane::Queue {
            let four = in_parens(&self.keymap, KeyMode::Normal, Action::FocusQueue);
            self.toast(Level::Info, format!("Focus the follow-up queue{four} to mark its items"));
            return;
        }
        let Some(id) = self.selection.queue_item(&self.queue).map(|q| q.follow_up.id) else { return };
        self.overlays.toggle_mark(id);
        self.move_queue_cursor(1);
    }

    /// What an escalation says by default: the ticket's facts, gathered.
    fn escalation_details(&mut self, items: &[FollowUp]) -> String {
        let mut out = String::new();
        for f in items {
            let name = self.account_name(f.account_id);
            match self.ticket_of(f) {
                Some(t) => {
                    let requester = self.requester_of(&t).0;
                    out.push_str(&format!(
                        "{name}: #{} \"{}\"\n  requester {}, opened {}, status {:?}, priority {:?}\n  last customer reply {}, our last reply {}\n",
                        t.id,
                        sanitize(&t.subject),
                        requester,
                        self.calendar.day(t.created_at),
                        t.status,
                        t.priority,
                        t.last_customer_reply.map_or("—".into(), |d| self.calendar.minute(d)),
                        t.last_agent_reply.map_or("—".into(), |d| self.calendar.minute(d)),
                    ));
                }
                None => out.push_str(&format!("{name}: {}\n", sanitize(&f.reason))),
            }
        }
        out.push_str("\nWhat is needed: ");
        out
    }

    /// A key while a picker is open.
    pub(super) fn on_pick_key(&mut self, k: &KeyEvent) -> bool {
        let Some(picker) = self.overlays.picker.take() else {
            self.overlays.close();
            return true;
        };
        self.overlays.close();
        let Some(i) = picker.pick(k) else {
            if let PickFor::Churn(id) = picker.purpose {
                self.churn_cancelled(id);
            } else if picker.purpose == PickFor::TaskPriority {
                self.task_cancelled();
            } else if self.keymap.action(KeyMode::Picker, k) != Some(Action::Cancel) {
                self.toast(Level::Info, "Nothing chosen");
            }
            return true;
        };
        let now = self.now;
        match picker.purpose {
            PickFor::Snooze => {
                // Days on the user's calendar, back at the start of work
                // on a working day: a day from Friday afternoon is Monday.
                let until = match picker.options[i].0 {
                    '1' => Some(self.calendar.days_later(now, 1)),
                    '3' => Some(self.calendar.days_later(now, 3)),
                    'w' => Some(self.calendar.days_later(now, 7)),
                    _ => None,
                };
                self.overlays.composer = Some(match until {
                    Some(until) => Composer::new(
                        Purpose::SnoozeReason { until },
                        format!("Snooze until {}: why? (Enter)", self.calendar.local(until).format("%a %d %b %H:%M")),
                        "",
                    ),
                    None => Composer::new(Purpose::SnoozeDate, "Snooze until (YYYY-MM-DD, Enter)", ""),
                });
            }
            PickFor::Log => {
                let kind = [ActivityKind::Call, ActivityKind::Meeting, ActivityKind::Email][i];
                let what = picker.options[i].1.clone();
                self.overlays.composer =
                    Some(Composer::new(Purpose::Log(kind), format!("Log a {what}: what was said"), ""));
            }
            PickFor::Churn(id) => {
                let reason = if picker.options[i].0 == 'v' { ChurnReason::Voluntary } else { ChurnReason::Involuntary };
                self.on_churn_reason(id, reason);
                return true;
            }
            PickFor::TaskPriority => {
                self.on_task_priority(i);
                return true;
            }
            PickFor::Reply => {
                let Some(first) = self.overlays.targets_pending.first().cloned() else { return true };
                let Some(t) = self.ticket_of(&first) else { return true };
                let account = self.account_name(first.account_id);
                let (shown, requester) = self.requester_of(&t);
                let csm = self.signature.clone();
                let vars = Vars::for_ticket(&requester, &sanitize(&t.subject), t.id, &account, csm.as_deref());
                let text = fill(&self.replies[i].text, &vars);
                self.overlays.composer =
                    Some(Composer::new(Purpose::Reply, format!("Reply on #{} to {shown} (public)", t.id), &text));
            }
        }
        self.overlays.mode = Mode::Compose;
        true
    }

    /// A key while the inline editor is open.
    pub(super) fn on_compose_key(&mut self, k: &KeyEvent) -> bool {
        let Some(c) = self.overlays.composer.as_mut() else {
            self.overlays.close();
            return true;
        };
        let command = self.keymap.action(KeyMode::Editor, k);
        match c.on_key(k, command) {
            Outcome::Editing => {}
            Outcome::Cancel => {
                let c = self.overlays.composer.take().expect("checked above");
                self.overlays.close();
                if let Purpose::ChurnNote { id, .. } = c.purpose {
                    self.churn_cancelled(id);
                    return true;
                }
                if matches!(c.purpose, Purpose::TaskSubject | Purpose::TaskDue { .. }) {
                    self.task_cancelled();
                    return true;
                }
                // Text the CSM wrote is never thrown away by esc: it waits as a draft.
                if self.set_aside(c) && self.overlays.is_idle() {
                    self.reopen_kept_draft();
                }
            }
            Outcome::External(text) => {
                let c = self.overlays.composer.take().expect("checked above");
                self.overlays.close();
                let initial = c.initial().to_string();
                self.effect(Effect::Editor(ExternalEdit { purpose: c.purpose, title: c.title, text, initial }));
            }
            Outcome::Submit(text) => {
                let c = self.overlays.composer.take().expect("checked above");
                self.overlays.close();
                let initial = c.initial().to_string();
                self.overlays.submitting =
                    Some(ExternalEdit { purpose: c.purpose.clone(), title: c.title, text: text.clone(), initial });
                let used = self.submit(c.purpose, text);
                self.overlays.submitting = None;
                self.close_kept_draft(used);
            }
        }
        true
    }

    /// Pasted text goes into the open editor.
    pub(super) fn on_paste(&mut self, text: &str) -> bool {
        match self.overlays.composer.as_mut() {
            Some(c) if self.overlays.mode == Mode::Compose => {
                c.insert(&text.replace("\r\n", "\n").replace('\r', "\n"));
                true
            }
            _ => false,
        }
    }

    /// The text came back from `$EDITOR` (`None`: the editor failed).
    pub fn on_external_done(&mut self, edit: ExternalEdit, result: Result<String, String>) {
        match result {
            Ok(text) if text.trim().is_empty() && !edit.purpose.may_be_empty() => {
                self.toast(Level::Info, "The editor left the text empty; nothing was saved");
                self.close_kept_draft(true);
            }
            Ok(text) => {
                self.overlays.submitting = Some(ExternalEdit { text: text.clone(), ..edit.clone() });
                let used = self.submit(edit.purpose, text);
                self.overlays.submitting = None;
                self.close_kept_draft(used);
            }
            Err(e) => {
                self.toast(Level::Error, e);
                // Back to the inline editor, with the text as it was.
                self.overlays.compose(Composer::new(edit.purpose, edit.title, &edit.text).opened_with(&edit.initial));
            }
        }
    }

    /// Does what the text was for; returns whether it was taken (an action
    /// applied, a valid date, an outbox entry edited).
    fn submit(&mut self, purpose: Purpose, text: String) -> bool {
        let to_manager = |engineering| if engineering { EscalateTo::Engineering } else { EscalateTo::Manager };
        let action = match purpose {
            Purpose::Note => FollowUpAction::Note { body: text },
            Purpose::Reply => {
                // A customer must never read "{first_name}" or an unsigned "{csm}".
                let left = unresolved(&text);
                if !left.is_empty() {
                    let hint = if left.iter().any(|v| v == "{csm}") {
                        " (set author = \"Your Name\" in the config to sign replies)"
                    } else {
                        ""
                    };
                    let title = self.composer_title_for_reply();
                    // Reopened as written: kept as a draft if the session ends now.
                    self.overlays.compose(Composer::new(Purpose::Reply, title, &text).opened_with(""));
                    self.toast(
                        Level::Warning,
                        format!("Not sent: the reply still holds {}; fill it in{hint}, then send", left.join(", ")),
                    );
                    return false;
                }
                FollowUpAction::Reply { body: text }
            }
            Purpose::Escalate { engineering } => FollowUpAction::Escalate { to: to_manager(engineering), body: text },
            Purpose::Close => FollowUpAction::CloseTicket { body: text },
            Purpose::Log(kind) => FollowUpAction::Log { kind, summary: text },
            Purpose::SnoozeReason { until } => FollowUpAction::Snooze { until, reason: text, zone: self.calendar.zone },
            Purpose::SnoozeDate => {
                match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                    Ok(d) if d > self.calendar.day(self.now) => {
                        // Back at the start of work that day (the next
                        // working day if it is not one), local.
                        let until = self.calendar.start_of_work(d);
                        self.overlays.compose(Composer::new(
                            Purpose::SnoozeReason { until },
                            format!(
                                "Snooze until {}: why? (Enter)",
                                self.calendar.local(until).format("%a %d %b %H:%M")
                            ),
                            "",
                        ));
                        return true;
                    }
                    Ok(_) => self.toast(Level::Warning, "That date is not in the future; nothing was snoozed"),
                    Err(_) => self.toast(
                        Level::Warning,
                        format!("\"{}\" is not a date like 2026-12-24; nothing was snoozed", sanitize(text.trim())),
                    ),
                }
                return false;
            }
            Purpose::OutboxEdit { id } => {
                self.write(Edit::OutboxEdit { id, text }, InFlight::OutboxEdit);
                self.overlays.mode = Mode::Outbox;
                return true;
            }
            Purpose::ChurnNote { id, reason } => {
                self.confirm_churn(id, reason, text);
                return true;
            }
            Purpose::TaskSubject | Purpose::TaskDue { .. } => return self.on_task_text(purpose, text),
        };
        self.run_action(action)
    }

    /// Sends an action on the pending targets to the writer and shows its
    /// effect on the queue at once; returns whether there was any target.
    pub(super) fn run_action(&mut self, action: FollowUpAction) -> bool {
        let items = std::mem::take(&mut self.overlays.targets_pending);
        if items.is_empty() {
            return false;
        }
        // What the plan does to each item, shown now; the writer's answer
        // (from the items as stored) settles it.
        let mut shown = Vec::with_capacity(items.len());
        for item in &items {
            let ticket = if action.needs_ticket() { self.ticket_of(item) } else { None };
            if let Ok(p) = plan(&action, item, ticket.as_ref(), self.now) {
                let mut f = item.clone();
                if let Some(state) = p.state {
                    f.state = state;
                }
                shown.push(f);
            }
        }
        let text = self.overlays.submitting.take();
        // A kept draft is forgotten only once its action applied.
        let kept_draft = self.overlays.kept_draft.take();
        self.show_written(Vec::new(), &shown);
        let edit = Edit::Action { items: items.clone(), action: action.clone(), forget_draft: kept_draft };
        self.write(edit, InFlight::Action { action, items, text, kept_draft });
        true
    }

    fn undo(&mut self) {
        self.write(Edit::Undo, InFlight::Undo);
    }

    /// The writer applied (or refused) an edit: the toast, and the rows and
    /// items as stored.
    pub(super) fn on_written(&mut self, seq: u64, result: Result<Box<Applied>, String>) {
        let Some(then) = self.writes.answered(seq) else { return };
        let applied = match result {
            Ok(a) => *a,
            Err(e) => return self.on_refused(then, e),
        };
        let Applied { written, rows } = applied;
        match (then, written) {
            (InFlight::Action { action, items, kept_draft, .. }, Written::Action(report)) => {
                let mut text = match (self.task_added(&action, &report), report.applied) {
                    (Some(added), _) => added,
                    (None, 0) => "Nothing changed".to_string(),
                    (None, 1) => format!("{}: {}", capitalise(action.label()), self.account_name(items[0].account_id)),
                    (None, n) => format!("{} on {n} items", capitalise(action.label())),
                };
                if report.queued > 0 {
                    let w = if report.queued == 1 { "write" } else { "writes" };
                    text.push_str(&format!(" · {} {w} in the outbox", report.queued));
                    self.effect(Effect::Push);
                }
                if let Some(u) = self.keymap.hint(KeyMode::Normal, Action::Undo).filter(|_| report.applied > 0) {
                    text.push_str(&format!(" · {u} undoes"));
                }
                let level = if report.skipped.is_empty() { Level::Info } else { Level::Warning };
                if let Some(why) = report.skipped.first() {
                    text.push_str(&format!(" · skipped {}: {}", report.skipped.len(), sanitize(why)));
                }
                self.toast(level, text);
                // Items it skipped show again as they are stored.
                let settled: BTreeSet<u64> = report.changed.iter().map(|f| f.id).collect();
                let mut changed = report.changed;
                changed.extend(items.into_iter().filter(|f| !settled.contains(&f.id)));
                self.settle(rows, changed);
                match kept_draft {
                    // The writer forgot it with the action: the next one opens.
                    Some(_) if report.applied > 0 && self.overlays.is_idle() => {
                        self.reopen_kept_draft();
                    }
                    Some(_) if report.applied > 0 => {}
                    Some(_) => {
                        let text = self.kept_draft_stays();
                        self.toast(Level::Warning, text)
                    }
                    None => {}
                }
            }
            (InFlight::Undo, Written::Undo(outcome)) => self.on_undone(rows, outcome),
            (InFlight::KeepDraft { draft }, Written::Draft(id)) => self.on_kept_aside(id, draft),
            (InFlight::Stage { name, from, reason }, Written::Row(row)) => {
                let (id, to) = (row.id, row.stage);
                self.book.update_row(row.clone());
                self.writes.settled((vec![row], Vec::new()));
                // Reread the detail: the move is on the timeline.
                self.reread_account(id);
                self.select_from(id, Pane::Health);
                self.refresh_outbox_counts();
                self.effect(Effect::Push);
                let undo =
                    self.keymap.hint(KeyMode::Normal, Action::Undo).map_or(String::new(), |u| format!(" · {u} undoes"));
                let name = sanitize(&name);
                let text = match reason {
                    Some(r) => format!(
                        "Moved {name}: {} → {} · {} churn recorded on {}{undo}",
                        from.stage.label(),
                        to.label(),
                        r.label(),
                        self.calendar.day(self.now)
                    ),
                    None => format!("Moved {name}: {} → {}{undo}", from.stage.label(), to.label()),
                };
                self.toast(Level::Info, text);
            }
            (InFlight::Sentiment { value }, Written::Row(row)) => {
                let text = format!(
                    "Sentiment {value}/5 recorded for {}; health {}",
                    sanitize(&row.name),
                    row.health.map_or("—".into(), |h| h.to_string())
                );
                let id = row.id;
                self.book.update_row(row.clone());
                self.writes.settled((vec![row], Vec::new()));
                self.reread_account(id);
                self.select_from(id, Pane::Health);
                self.toast(Level::Info, text);
            }
            (InFlight::OutboxEdit, _) => {
                self.effect(Effect::Push);
                self.toast(Level::Info, "Outbox entry updated; it goes out at the next push");
                self.refresh_outbox_view();
            }
            (InFlight::Retry { over_current }, _) => {
                self.effect(Effect::Push);
                let text = if over_current {
                    "It goes out at the next push, over the ticket as it is now"
                } else {
                    "It goes out at the next push"
                };
                self.toast(Level::Info, text);
                self.refresh_outbox_view();
            }
            (InFlight::Discard { what }, _) => {
                self.toast(Level::Info, format!("Discarded, not sent: {what}"));
                self.refresh_outbox_view();
            }
            (InFlight::ForgetDraft { .. }, _) => {}
            (then, written) => tracing::warn!(?then, ?written, "an edit's answer did not match it"),
        }
    }

    /// An edit the writer could not apply: the screen goes back to the
    /// stored state, and text written for it is given back.
    fn on_refused(&mut self, then: InFlight, e: String) {
        match then {
            InFlight::Action { items, text, kept_draft, .. } => {
                self.show_written(Vec::new(), &items);
                match text {
                    Some(t) if self.overlays.composer.is_none() && self.overlays.picker.is_none() => {
                        self.overlays.compose(Composer::new(t.purpose, t.title, &t.text).opened_with(&t.initial));
                        self.overlays.targets_pending = items;
                        self.overlays.kept_draft = kept_draft;
                        self.toast(
                            Level::Error,
                            format!("The action was not saved: {e}; your text is back in the editor"),
                        );
                    }
                    _ => self.toast(Level::Error, format!("The action was not saved: {e}")),
                }
            }
            InFlight::Undo => self.toast(Level::Error, format!("Could not undo: {e}")),
            InFlight::Stage { name, from, .. } => {
                self.book.update_row(from);
                self.toast(Level::Error, format!("Could not move {name}: {e}"));
            }
            InFlight::Sentiment { .. } => self.toast(Level::Error, format!("Could not record the sentiment: {e}")),
            InFlight::KeepDraft { draft } => {
                // Nowhere else to keep it: back into the editor.
                self.overlays.compose(Composer::new(draft.kind.into(), draft.title, &draft.text).opened_with(""));
                self.overlays.targets_pending = draft.items;
                self.toast(Level::Error, format!("The draft could not be kept: {e}; your text is back in the editor"));
            }
            InFlight::OutboxEdit | InFlight::Retry { .. } | InFlight::Discard { .. } => {
                self.toast(Level::Warning, e);
                if self.overlays.mode == Mode::Outbox {
                    self.refresh_outbox_view();
                }
            }
            InFlight::ForgetDraft { .. } => self.toast(Level::Error, format!("Could not forget the kept draft: {e}")),
        }
    }

    /// Rows and items as the writer stored them, kept to survive a book
    /// load that read them before.
    pub(super) fn settle(&mut self, rows: Vec<AccountRow>, changed: Vec<FollowUp>) {
        self.show_written(rows.clone(), &changed);
        self.writes.settled((rows, changed));
        self.refresh_outbox_counts();
    }

    /// Puts rows and changed items on screen: the rows in the book, the
    /// items out of the queue or back in their ranked place.
    pub(super) fn show_written(&mut self, rows: Vec<AccountRow>, changed: &[FollowUp]) {
        // The detail's timeline and the row may have changed.
        let accounts: BTreeSet<AccountId> =
            rows.iter().map(|r| r.id).chain(changed.iter().map(|f| f.account_id)).collect();
        for id in accounts {
            self.reread_account(id);
        }
        for row in rows {
            self.book.update_row(row);
        }
        // The queue follows in place: the changed items leave it, or take
        // their ranked place again (no reread: at 100,000 accounts that
        // would cost most of a second per key).
        if !changed.is_empty() {
            let mut back = Vec::new();
            // A ticket-only item (an action from the account view) never queues.
            let bounds = self.calendar.bounds(self.now);
            for f in changed.iter().filter(|f| f.id != TICKET_ONLY && f.section(&self.calendar, &bounds).is_some()) {
                if let Some(row) = self.book.row(f.account_id) {
                    let mut item = crate::queue::QueueItem::new(f.clone(), row, &self.calendar);
                    if self.book.support_only(row.id).is_some() {
                        item = item.without_renewal();
                    }
                    back.push(item);
                }
            }
            self.requeue(changed, back);
        }
        self.overlays.keep_marks_in(&self.queue);
        if let Some(id) = self.selection.selected.filter(|_| self.reads.shown().is_none()) {
            self.select_from_queue(id);
        }
    }

    /// Asks for the outbox counts of the status line again.
    pub fn refresh_outbox_counts(&mut self) {
        self.effect(Effect::Read(Read::OutboxCounts));
    }

    /// A push finished: new counts, and a word when something needs the CSM.
    pub(super) fn on_pushed(&mut self, result: Result<crate::sync::push::PushReport, String>) {
        use crate::sync::push::Outcome;
        self.refresh_outbox_counts();
        if self.overlays.mode == Mode::Outbox {
            self.refresh_outbox_view();
        }
        match result {
            Ok(report) => {
                let trouble = report.count(|o| matches!(o, Outcome::Failed(_) | Outcome::Conflict(_)));
                let trouble = trouble + report.count(|o| matches!(o, Outcome::Duplicate(_)));
                let landed =
                    report.count(|o| matches!(o, Outcome::Sent(_) | Outcome::AlreadyThere(_) | Outcome::Archived(_)));
                if let Some(summary) = report.summary().filter(|_| trouble + landed > 0) {
                    let why = self.keymap.hint(KeyMode::Normal, Action::Outbox).map(|o| format!(" · {o} shows why"));
                    let (level, tail) = match trouble > 0 {
                        true => (Level::Warning, why.unwrap_or_default()),
                        false => (Level::Info, String::new()),
                    };
                    self.toast(level, format!("Outbox: {summary}{tail}"));
                }
            }
            Err(e) => self.toast(Level::Error, format!("The outbox could not be pushed: {e}")),
        }
    }

    /// Rereads the open outbox overlay, keeping its cursor.
    pub(super) fn refresh_outbox_view(&mut self) {
        self.open_outbox();
    }

    /// Opens the outbox view; its entries follow from the job runner.
    fn open_outbox(&mut self) {
        self.effect(Effect::Read(Read::Outbox));
        self.overlays.outbox.loading = true;
        self.overlays.mode = Mode::Outbox;
    }

    /// The outbox as read: the view's entries, the cursor kept.
    pub(super) fn on_outbox(&mut self, all: Result<Vec<OutboxEntry>, String>) {
        self.overlays.outbox.loading = false;
        if self.overlays.mode != Mode::Outbox {
            return;
        }
        let all = match all {
            Ok(all) => all,
            Err(e) => {
                self.overlays.close();
                self.toast(Level::Error, format!("Could not read the outbox: {e}"));
                return;
            }
        };
        let shown: Vec<(OutboxEntry, String)> = OutboxView::shown(all)
            .into_iter()
            .map(|e| {
                let name = self.account_name(e.account_id);
                (e, name)
            })
            .collect();
        self.overlays.outbox.show(shown);
        self.refresh_outbox_counts();
    }

    /// A key while the outbox is open: move, retry, edit, discard, close.
    pub(super) fn on_outbox_key(&mut self, k: &KeyEvent) -> bool {
        let id = self.overlays.outbox.selected().map(|e| e.id);
        match self.keymap.action(KeyMode::Outbox, k) {
            Some(Action::Close) => self.overlays.close(),
            Some(Action::Down) => self.overlays.outbox.step(1),
            Some(Action::Up) => self.overlays.outbox.step(-1),
            Some(Action::Retry) => {
                let Some(id) = id else { return true };
                let conflict = self
                    .overlays
                    .outbox
                    .selected()
                    .is_some_and(|e| matches!(e.state, crate::domain::outbox::OutboxState::Conflict { .. }));
                if conflict && !self.status.sources.is_empty() {
                    // Sent again over the ticket as it is now: its current
                    // stamp is read first.
                    self.effect(Effect::RefetchConflict(id));
                    self.toast(Level::Info, "Reading the ticket as it is now…");
                    return true;
                }
                self.write(Edit::OutboxRetry { id, stamp: None }, InFlight::Retry { over_current: false });
            }
            Some(Action::Discard) => {
                let Some(entry) = self.overlays.outbox.selected().cloned() else { return true };
                self.ask_discard(&entry);
            }
            Some(Action::Edit) => {
                let Some(entry) = self.overlays.outbox.selected().cloned() else {
                    return true;
                };
                if !entry.state.is_editable() {
                    let why = if entry.state.landed() {
                        "It already went out; it cannot be edited"
                    } else {
                        "It may already have reached the vendor; wait for the check"
                    };
                    self.toast(Level::Info, why);
                    return true;
                }
                if let Some(why) = entry.write.no_edit_reason() {
                    self.toast(Level::Info, capitalise(why));
                    return true;
                }
                self.overlays.compose(Composer::new(
                    Purpose::OutboxEdit { id: entry.id },
                    format!("Edit the {}", entry.write.describe()),
                    entry.write.body(),
                ));
            }
            _ => {}
        }
        true
    }
}

/// The text with its first letter in upper case.
pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
