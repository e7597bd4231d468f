//! A task with a due date from any pane, on the selected account: what,
//! when (read on the user's calendar), how urgent, and whether HubSpot gets
//! it too; then one action, undone like any other. The task comes up in the
//! queue when it is due.

use chrono::{DateTime, Utc};

use super::app::{App, Level, Mode, Pane};
use super::compose::{Composer, Picker, Purpose};
use super::guard::{Confirm, OnYes};
use crate::domain::calendar::parse_when;
use crate::domain::followup_action::{account_only, FollowUpAction};
use crate::domain::text::sanitize;
use crate::domain::Priority;
use crate::engine::act::ActionReport;

/// The question for a task's due moment, with what it reads.
const DUE_PROMPT: &str = "Due? (tomorrow 10:00, fri 14:30, 2026-12-01 09:00) (Enter)";

/// A task being asked for, between its questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTask {
    /// What to do.
    pub subject: String,
    /// When it is due.
    pub due: DateTime<Utc>,
    /// How urgent.
    pub priority: Priority,
}

/// The priorities in the order of the picker's options.
const PRIORITIES: [Priority; 4] = [Priority::Urgent, Priority::High, Priority::Normal, Priority::Low];

impl App {
    /// `t`: a task on the selected account (from the queue, its item's
    /// account); first, what it is.
    pub(super) fn start_task(&mut self) {
        let id = match self.selection.focus {
            Pane::Queue => self.selection.queue_item(&self.queue).map(|q| q.follow_up.account_id),
            _ => self.selection.selected,
        };
        let Some(id) = id else {
            self.toast(Level::Info, "Select an account first: a task goes on an account");
            return;
        };
        let name = self.account_name(id);
        self.overlays.task = None;
        self.overlays.targets_pending = vec![account_only(id, self.now)];
        self.overlays.compose(Composer::new(Purpose::TaskSubject, format!("Task for {name}: what? (Enter)"), ""));
    }

    /// The answer to one of the task's questions (what, then when); returns
    /// whether it was taken. A moment that does not read, or has passed,
    /// says why and leaves the question open with the text.
    pub(super) fn on_task_text(&mut self, purpose: Purpose, text: String) -> bool {
        match purpose {
            Purpose::TaskSubject => {
                let subject = text.trim().to_string();
                self.overlays.compose(Composer::new(Purpose::TaskDue { subject }, DUE_PROMPT, ""));
                true
            }
            Purpose::TaskDue { subject } => match parse_when(&text, self.now, &self.calendar) {
                Ok(due) => {
                    let when = self.calendar.local(due).format("%a %d %b %H:%M");
                    let title = format!("Priority of \"{subject}\", due {when}");
                    self.overlays.task = Some(PendingTask { subject, due, priority: Priority::Normal });
                    self.overlays.picker = Some(Picker::task_priority(title));
                    self.overlays.mode = Mode::Pick;
                    true
                }
                Err(why) => {
                    self.overlays
                        .compose(Composer::new(Purpose::TaskDue { subject }, DUE_PROMPT, &text).opened_with(""));
                    self.toast(Level::Warning, format!("{}; no task added yet", sanitize(&why)));
                    false
                }
            },
            _ => false,
        }
    }

    /// The priority picked (the picker's option `i`): HubSpot is asked
    /// about when a HubSpot source is configured; else the task is added.
    pub(super) fn on_task_priority(&mut self, i: usize) {
        let Some(task) = self.overlays.task.as_mut() else { return };
        task.priority = PRIORITIES.get(i).copied().unwrap_or(Priority::Normal);
        if !self.status.has_crm {
            return self.add_task(false);
        }
        let keys = match (
            self.keymap.hint(super::keymap::KeyMode::Confirm, super::action::Action::Yes),
            self.keymap.hint(super::keymap::KeyMode::Confirm, super::action::Action::No),
        ) {
            (Some(y), Some(n)) => format!(" {y}/{n}"),
            _ => String::new(),
        };
        let back = if self.overlays.account.is_some() { Mode::Account } else { Mode::Normal };
        self.overlays.confirm =
            Some(Confirm { question: format!("Also create it as a HubSpot task?{keys}"), yes: OnYes::TaskToCrm, back });
        self.overlays.mode = Mode::Confirm;
    }

    /// The task as answered goes to the writer; `write_back` also queues
    /// it for HubSpot.
    pub(super) fn add_task(&mut self, write_back: bool) {
        let Some(t) = self.overlays.task.take() else { return };
        let zone = self.calendar.zone;
        let action = FollowUpAction::Task { subject: t.subject, due: t.due, priority: t.priority, write_back, zone };
        self.run_action(action);
    }

    /// A question of the task's was left with esc: nothing is added.
    pub(super) fn task_cancelled(&mut self) {
        self.overlays.task = None;
        self.overlays.targets_pending.clear();
        self.toast(Level::Info, "No task added");
    }

    /// The toast once the task is stored: for whom, when, and where in the
    /// queue it waits; `None` for another action or when nothing was added.
    pub(super) fn task_added(&self, action: &FollowUpAction, report: &ActionReport) -> Option<String> {
        let FollowUpAction::Task { write_back, .. } = action else { return None };
        let f = report.changed.first()?;
        let name = self.account_name(f.account_id);
        let when = self.calendar.local(f.due).format("%a %d %b %H:%M");
        let bounds = self.calendar.bounds(self.now);
        let place = match f.section(&self.calendar, &bounds) {
            Some(s) => format!("in {}", s.title()),
            None => "it enters the queue nearer the day".to_string(),
        };
        let local = match (write_back, self.status.has_crm) {
            (true, _) => "",
            (false, true) => " · local only",
            (false, false) => " · local only: no HubSpot source is configured",
        };
        Some(format!("Task added for {name}, due {when} ({place}){local}"))
    }
}
