//! What each one-key action on a follow-up does, as a plan: the item's new
//! state, the timeline entry, the local ticket change and the writes for
//! the outbox. Pure: the store applies the plan in one batch.

use chrono::{DateTime, Utc};

use super::account::AccountId;
use super::activity::ActivityKind;
use super::followup::{Draft, FollowUp, FollowUpKind, FollowUpState, Priority};
use super::outbox::Write;
use super::ticket::{Ticket, TicketStatus};

/// The id of an unstored item: a reply or close from the account view on
/// a ticket no queue item stands for (see [`ticket_only`]), or an action on
/// an account with no item at hand (see [`account_only`]). It is never
/// stored nor queued; the action lands on the ticket, the account, the
/// timeline and the outbox only.
pub const TICKET_ONLY: u64 = u64::MAX;

/// A ticket-only item (see [`TICKET_ONLY`]) for an action on `ticket` at `now`.
pub fn ticket_only(ticket: &Ticket, now: DateTime<Utc>) -> FollowUp {
    FollowUp {
        id: TICKET_ONLY,
        account_id: ticket.account_id,
        ticket_id: Some(ticket.id),
        kind: FollowUpKind::TicketNoReply,
        reason: format!("Ticket #{}", ticket.id),
        due: now,
        priority: super::followup::Priority::Normal,
        state: FollowUpState::Open,
    }
}

/// An account-level item (see [`TICKET_ONLY`]) for an action on account
/// `account_id` at `now`, from a pane that shows the account, not an item.
pub fn account_only(account_id: AccountId, now: DateTime<Utc>) -> FollowUp {
    FollowUp {
        id: TICKET_ONLY,
        account_id,
        ticket_id: None,
        kind: FollowUpKind::CheckIn,
        reason: "The account".into(),
        due: now,
        priority: Priority::Normal,
        state: FollowUpState::Open,
    }
}

/// Who an escalation goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalateTo {
    /// The CSM's manager (a frustrated customer).
    Manager,
    /// Engineering (a bug), with the details gathered.
    Engineering,
}

/// A one-key action on a follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpAction {
    /// Finished.
    Done,
    /// Put off until a moment, with a reason.
    Snooze {
        /// When it comes back.
        until: DateTime<Utc>,
        /// Why (may be empty).
        reason: String,
        /// The user's zone, in which the timeline says when.
        zone: chrono_tz::Tz,
    },
    /// An internal note on the account (a HubSpot note).
    Note {
        /// The note.
        body: String,
    },
    /// A public reply on the item's ticket; the ticket then waits on the
    /// customer.
    Reply {
        /// The reply.
        body: String,
    },
    /// Escalate: an internal comment on the ticket (if any) and a task in
    /// the CRM.
    Escalate {
        /// To whom.
        to: EscalateTo,
        /// The details gathered.
        body: String,
    },
    /// Solve the item's ticket with an internal comment.
    CloseTicket {
        /// Why.
        body: String,
    },
    /// Log a call, meeting or email with the customer: a two-way touch.
    Log {
        /// Call, meeting or email.
        kind: ActivityKind,
        /// What was said.
        summary: String,
    },
    /// A task on the item's account, due at a moment: a new follow-up that
    /// comes up in the queue then, and maybe a task in the CRM.
    Task {
        /// What to do.
        subject: String,
        /// When it is due.
        due: DateTime<Utc>,
        /// How urgent.
        priority: Priority,
        /// Whether it also goes to the CRM as a task.
        write_back: bool,
        /// The user's zone, in which the timeline says when.
        zone: chrono_tz::Tz,
    },
}

impl FollowUpAction {
    /// Past-tense label for toasts and the undo line ("done", "snoozed").
    pub fn label(&self) -> &'static str {
        match self {
            FollowUpAction::Done => "done",
            FollowUpAction::Snooze { .. } => "snoozed",
            FollowUpAction::Note { .. } => "note added",
            FollowUpAction::Reply { .. } => "replied",
            FollowUpAction::Escalate { .. } => "escalated",
            FollowUpAction::CloseTicket { .. } => "ticket closed",
            FollowUpAction::Log { kind: ActivityKind::Meeting, .. } => "meeting logged",
            FollowUpAction::Log { kind: ActivityKind::Email, .. } => "email logged",
            FollowUpAction::Log { .. } => "call logged",
            FollowUpAction::Task { .. } => "task added",
        }
    }

    /// Whether the action needs the item's ticket.
    pub fn needs_ticket(&self) -> bool {
        matches!(self, FollowUpAction::Reply { .. } | FollowUpAction::CloseTicket { .. })
    }
}

/// What an action does to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The item's new state, if it changes.
    pub state: Option<FollowUpState>,
    /// The timeline entry: kind and summary.
    pub timeline: (ActivityKind, String),
    /// Whether it is a two-way touch (moves the account's last touch).
    pub touch: bool,
    /// The ticket as changed locally, if it changes.
    pub ticket: Option<Ticket>,
    /// Writes for the outbox.
    pub writes: Vec<Write>,
    /// A follow-up to create (a task), given an id when applied.
    pub create: Option<Draft>,
}

/// Why an action cannot apply to an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Reply or close on an item without a ticket.
    #[error("this item has no ticket to reply on or close")]
    NoTicket,
    /// The ticket is already solved or closed.
    #[error("ticket #{0} is already solved or closed")]
    TicketClosed(u64),
    /// Text was required and none was given.
    #[error("nothing was written; the action was not taken")]
    Empty,
    /// A task due at a moment already past.
    #[error("its due moment has passed; give a later one")]
    Past,
}

fn first_line(s: &str) -> &str {
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
}

/// Plans `action` on `item` (and its ticket, when it has one) at `now`.
pub fn plan(
    action: &FollowUpAction,
    item: &FollowUp,
    ticket: Option<&Ticket>,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let done = Some(FollowUpState::Done { at: now });
    let open_ticket = || -> Result<&Ticket, PlanError> {
        let t = ticket.ok_or(PlanError::NoTicket)?;
        if t.status.is_open() {
            Ok(t)
        } else {
            Err(PlanError::TicketClosed(t.id))
        }
    };
    let text = |s: &str| -> Result<String, PlanError> {
        let t = s.trim_end();
        if t.trim().is_empty() {
            Err(PlanError::Empty)
        } else {
            Ok(t.to_string())
        }
    };
    let ticket_write = |t: &Ticket, body: String, public: bool, status: Option<TicketStatus>| Write::Ticket {
        ticket: t.id,
        body,
        public,
        status,
        updated_stamp: t.updated_at,
    };
    Ok(match action {
        FollowUpAction::Done => Plan {
            state: done,
            timeline: (ActivityKind::Task, format!("Done: {}", item.reason)),
            touch: false,
            ticket: None,
            writes: vec![],
            create: None,
        },
        FollowUpAction::Snooze { until, reason, zone } => {
            let why = if reason.trim().is_empty() { String::new() } else { format!(" ({})", reason.trim()) };
            Plan {
                state: Some(FollowUpState::Snoozed { until: *until }),
                timeline: (
                    ActivityKind::Task,
                    format!(
                        "Snoozed until {}{why}: {}",
                        until.with_timezone(zone).format("%Y-%m-%d %H:%M %Z"),
                        item.reason
                    ),
                ),
                touch: false,
                ticket: None,
                writes: vec![],
                create: None,
            }
        }
        FollowUpAction::Note { body } => {
            let body = text(body)?;
            Plan {
                state: None,
                timeline: (ActivityKind::Note, first_line(&body).to_string()),
                touch: false,
                ticket: None,
                writes: vec![Write::Note { body, at: now }],
                create: None,
            }
        }
        FollowUpAction::Reply { body } => {
            let t = open_ticket()?;
            let body = text(body)?;
            let mut changed = t.clone();
            changed.last_agent_reply = Some(now);
            changed.status = TicketStatus::Pending;
            if matches!(item.kind, FollowUpKind::TicketNoReply | FollowUpKind::TicketSeen) {
                changed.follow_ups_sent = changed.follow_ups_sent.saturating_add(1);
            }
            Plan {
                state: done,
                timeline: (ActivityKind::EmailSent, format!("Replied on #{}: {}", t.id, first_line(&body))),
                touch: false,
                ticket: Some(changed),
                writes: vec![ticket_write(t, body, true, Some(TicketStatus::Pending))],
                create: None,
            }
        }
        FollowUpAction::Escalate { to, body } => {
            let body = text(body)?;
            let (who, subject) = match to {
                EscalateTo::Manager => ("the manager", "Escalation"),
                EscalateTo::Engineering => ("engineering", "Bug for engineering"),
            };
            let mut writes = Vec::new();
            let mut changed = None;
            let subject = match ticket.filter(|t| t.status.is_open()) {
                Some(t) => {
                    writes.push(ticket_write(t, format!("Escalated to {who}.\n\n{body}"), false, None));
                    let mut c = t.clone();
                    c.escalated = true;
                    changed = Some(c);
                    format!("{subject}: #{} {}", t.id, first_line(&t.subject))
                }
                None => format!("{subject}: {}", first_line(&item.reason)),
            };
            writes.push(Write::Task { subject, body: body.clone(), due: now, priority: Priority::High });
            Plan {
                state: done,
                timeline: (ActivityKind::Task, format!("Escalated to {who}: {}", first_line(&body))),
                touch: false,
                ticket: changed,
                writes,
                create: None,
            }
        }
        FollowUpAction::CloseTicket { body } => {
            let t = open_ticket()?;
            let body = text(body)?;
            let mut changed = t.clone();
            changed.status = TicketStatus::Solved;
            Plan {
                state: done,
                timeline: (ActivityKind::Note, format!("Closed #{}: {}", t.id, first_line(&body))),
                touch: false,
                ticket: Some(changed),
                writes: vec![ticket_write(t, body, false, Some(TicketStatus::Solved))],
                create: None,
            }
        }
        FollowUpAction::Log { kind, summary } => {
            let summary = text(summary)?;
            let what = match kind {
                ActivityKind::Meeting => "Meeting",
                ActivityKind::Email => "Email",
                _ => "Call",
            };
            Plan {
                state: done,
                timeline: (*kind, first_line(&summary).to_string()),
                touch: kind.is_two_way(),
                ticket: None,
                writes: vec![Write::Note { body: format!("{what} logged: {summary}"), at: now }],
                create: None,
            }
        }
        FollowUpAction::Task { subject, due, priority, write_back, zone } => {
            let subject = first_line(&text(subject)?).to_string();
            if *due <= now {
                return Err(PlanError::Past);
            }
            let when = due.with_timezone(zone).format("%a %d %b %H:%M %Z");
            let writes = match write_back {
                // The body is the subject: HubSpot shows it under the
                // task, and it carries the marker that finds it again.
                true => vec![Write::Task {
                    subject: subject.clone(),
                    body: subject.clone(),
                    due: *due,
                    priority: *priority,
                }],
                false => vec![],
            };
            Plan {
                state: None,
                timeline: (ActivityKind::Task, format!("Task: {subject}, due {when}")),
                touch: false,
                ticket: None,
                writes,
                create: Some(Draft {
                    account_id: item.account_id,
                    ticket_id: None,
                    kind: FollowUpKind::Task,
                    reason: subject,
                    due: *due,
                    priority: *priority,
                }),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::AccountId;
    use crate::domain::followup::Priority;
    use crate::domain::ticket::{Team, TicketPriority};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
    }

    fn item(ticket: Option<u64>) -> FollowUp {
        FollowUp {
            id: 1,
            account_id: AccountId(7),
            ticket_id: ticket,
            kind: FollowUpKind::TicketNoReply,
            reason: "No reply for 2 days to 'Export fails'".into(),
            due: now(),
            priority: Priority::Normal,
            state: FollowUpState::Open,
        }
    }

    fn ticket(status: TicketStatus) -> Ticket {
        Ticket {
            id: 35436,
            account_id: AccountId(7),
            subject: "Export fails".into(),
            status,
            priority: TicketPriority::Normal,
            team: Team::Unassigned,
            requester: "Ana Lima".into(),
            created_at: now() - Duration::days(5),
            updated_at: now() - Duration::days(2),
            last_customer_reply: Some(now() - Duration::days(4)),
            last_agent_reply: Some(now() - Duration::days(2)),
            seen_by_customer: false,
            complex: false,
            frustrated: false,
            bug: false,
            escalated: false,
            follow_ups_sent: 0,
        }
    }

    #[test]
    fn reply_is_public_sets_pending_and_carries_the_stamp() {
        let t = ticket(TicketStatus::Open);
        let p =
            plan(&FollowUpAction::Reply { body: "Hi Ana,\nany news?\n".into() }, &item(Some(t.id)), Some(&t), now())
                .unwrap();
        assert_eq!(p.state, Some(FollowUpState::Done { at: now() }));
        assert_eq!(
            p.writes,
            vec![Write::Ticket {
                ticket: 35436,
                body: "Hi Ana,\nany news?".into(),
                public: true,
                status: Some(TicketStatus::Pending),
                updated_stamp: t.updated_at,
            }]
        );
        let changed = p.ticket.unwrap();
        assert_eq!((changed.last_agent_reply, changed.follow_ups_sent), (Some(now()), 1));
        assert_eq!(p.timeline, (ActivityKind::EmailSent, "Replied on #35436: Hi Ana,".into()));
    }

    #[test]
    fn ticket_actions_need_an_open_ticket_and_text() {
        let reply = FollowUpAction::Reply { body: "x".into() };
        assert_eq!(plan(&reply, &item(None), None, now()), Err(PlanError::NoTicket));
        let solved = ticket(TicketStatus::Solved);
        assert_eq!(plan(&reply, &item(Some(1)), Some(&solved), now()), Err(PlanError::TicketClosed(35436)));
        let empty = FollowUpAction::CloseTicket { body: "  \n".into() };
        assert_eq!(plan(&empty, &item(Some(1)), Some(&ticket(TicketStatus::Open)), now()), Err(PlanError::Empty));
    }

    #[test]
    fn escalation_comments_privately_and_creates_a_task() {
        let t = ticket(TicketStatus::Open);
        let a = FollowUpAction::Escalate { to: EscalateTo::Engineering, body: "Steps: export 10k rows".into() };
        let p = plan(&a, &item(Some(t.id)), Some(&t), now()).unwrap();
        assert!(matches!(&p.writes[0], Write::Ticket { public: false, status: None, .. }));
        assert!(
            matches!(&p.writes[1], Write::Task { subject, .. } if subject == "Bug for engineering: #35436 Export fails")
        );
        assert!(p.ticket.unwrap().escalated);
        // Without a ticket, only the task.
        let p = plan(&a, &item(None), None, now()).unwrap();
        assert_eq!(p.writes.len(), 1);
    }

    #[test]
    fn a_logged_call_is_a_touch_and_a_note() {
        let a = FollowUpAction::Log { kind: ActivityKind::Call, summary: "Renewal: budget approved".into() };
        let p = plan(&a, &item(None), None, now()).unwrap();
        assert!(p.touch);
        assert_eq!(p.writes, vec![Write::Note { body: "Call logged: Renewal: budget approved".into(), at: now() }]);
        let note = plan(&FollowUpAction::Note { body: "FYI".into() }, &item(None), None, now()).unwrap();
        assert!(!note.touch);
        assert_eq!(note.state, None);
    }

    #[test]
    fn snooze_and_done_stay_local() {
        let until = now() + Duration::days(3);
        let zone = chrono_tz::Europe::Paris;
        let p =
            plan(&FollowUpAction::Snooze { until, reason: "on leave".into(), zone }, &item(None), None, now()).unwrap();
        assert_eq!(p.state, Some(FollowUpState::Snoozed { until }));
        assert!(p.writes.is_empty());
        assert!(p.timeline.1.starts_with("Snoozed until 2026-11-29 10:00 CET (on leave)"), "{}", p.timeline.1);
        assert!(plan(&FollowUpAction::Done, &item(None), None, now()).unwrap().writes.is_empty());
    }

    #[test]
    fn a_task_creates_an_item_due_then_and_goes_to_the_crm_only_when_asked() {
        let due = now() + Duration::days(4) + Duration::hours(1);
        let zone = chrono_tz::America::Los_Angeles;
        let task = |write_back| FollowUpAction::Task {
            subject: "Send the QBR deck\n".into(),
            due,
            priority: Priority::High,
            write_back,
            zone,
        };
        let on = account_only(AccountId(7), now());
        let p = plan(&task(false), &on, None, now()).unwrap();
        assert_eq!(p.state, None, "nothing else changes");
        assert!(p.writes.is_empty());
        assert_eq!(p.timeline, (ActivityKind::Task, "Task: Send the QBR deck, due Mon 30 Nov 02:00 PST".into()));
        let d = p.create.unwrap();
        assert_eq!(
            (d.account_id, d.kind, d.reason.as_str(), d.due, d.priority, d.ticket_id),
            (AccountId(7), FollowUpKind::Task, "Send the QBR deck", due, Priority::High, None)
        );
        let p = plan(&task(true), &on, None, now()).unwrap();
        assert_eq!(
            p.writes,
            vec![Write::Task {
                subject: "Send the QBR deck".into(),
                body: "Send the QBR deck".into(),
                due,
                priority: Priority::High
            }]
        );
        let past =
            FollowUpAction::Task { subject: "x".into(), due: now(), priority: Priority::Low, write_back: false, zone };
        assert_eq!(plan(&past, &on, None, now()), Err(PlanError::Past));
        let blank = FollowUpAction::Task { subject: " ".into(), due, priority: Priority::Low, write_back: false, zone };
        assert_eq!(plan(&blank, &on, None, now()), Err(PlanError::Empty));
    }
}
