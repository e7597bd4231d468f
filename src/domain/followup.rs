//! Follow-ups: dated to-dos with a reason, and the rules that raise them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::account::{AccountId, Segment};
use super::calendar::{Bounds, Calendar, Section};
use super::text::sanitize;
use super::ticket::{Ticket, TicketCall};

/// What a follow-up is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    /// Customer silent 48 h after our reply.
    TicketNoReply,
    /// Complex answer seen, unanswered for 24 h.
    TicketSeen,
    /// Silent for 5 days: propose closing.
    TicketClose,
    /// Frustrated customer: escalate to the manager.
    EscalateManager,
    /// Bug: escalate to engineering.
    EscalateEngineering,
    /// Handover: internal and external kick-off within 3 days of signature.
    Kickoff,
    /// Onboarding: a check-in within its first 48 hours.
    OnboardingCheckIn,
    /// Onboarding: the proficiency check before it ends.
    ProficiencyCheck,
    /// An NPS survey to send (after onboarding, or before renewal).
    NpsSurvey,
    /// Inside the 90-day renewal window without preparation started.
    RenewalPrep,
    /// Inside the 30-day renewal window without signing under way.
    RenewalSigning,
    /// Health fell into the red band.
    HealthRisk,
    /// A proactive check-in, with a reason.
    CheckIn,
    /// Good news to act on: paying overages, an upgrade would save them money.
    Upsell,
    /// A customer rated a support ticket bad.
    BadRating,
    /// A task the CSM set themselves, with a due moment. Kept last:
    /// stored follow-ups name kinds by position.
    Task,
}

impl FollowUpKind {
    /// Short label for the queue.
    pub fn label(self) -> &'static str {
        match self {
            FollowUpKind::TicketNoReply => "no reply",
            FollowUpKind::TicketSeen => "seen, quiet",
            FollowUpKind::TicketClose => "close?",
            FollowUpKind::EscalateManager => "escalate",
            FollowUpKind::EscalateEngineering => "bug",
            FollowUpKind::Kickoff => "kick-off",
            FollowUpKind::OnboardingCheckIn => "48h check",
            FollowUpKind::ProficiencyCheck => "proficiency",
            FollowUpKind::NpsSurvey => "NPS survey",
            FollowUpKind::RenewalPrep => "renew 90d",
            FollowUpKind::RenewalSigning => "renew 30d",
            FollowUpKind::HealthRisk => "health",
            FollowUpKind::CheckIn => "check-in",
            FollowUpKind::Upsell => "upsell",
            FollowUpKind::BadRating => "bad rating",
            FollowUpKind::Task => "task",
        }
    }

    /// The widest `label`: the queue's kind column is this wide, so every
    /// label fits it and the reasons start in one column.
    pub const LABEL_WIDTH: usize = 11;

    /// Heading for the kind in the daily digest.
    pub fn title(self) -> &'static str {
        match self {
            FollowUpKind::TicketNoReply => "No reply to our answer",
            FollowUpKind::TicketSeen => "Complex answer seen, unanswered",
            FollowUpKind::TicketClose => "Silent tickets to close",
            FollowUpKind::EscalateManager => "Escalate to the manager",
            FollowUpKind::EscalateEngineering => "Bugs for engineering",
            FollowUpKind::Kickoff => "Kick-offs",
            FollowUpKind::OnboardingCheckIn => "Onboarding check-ins",
            FollowUpKind::ProficiencyCheck => "Proficiency checks",
            FollowUpKind::NpsSurvey => "NPS surveys",
            FollowUpKind::RenewalPrep => "Renewal preparation",
            FollowUpKind::RenewalSigning => "Renewal signing",
            FollowUpKind::HealthRisk => "Churn risks",
            FollowUpKind::CheckIn => "Check-ins",
            FollowUpKind::Upsell => "Upgrade opportunities",
            FollowUpKind::BadRating => "Bad support ratings",
            FollowUpKind::Task => "Your tasks",
        }
    }

    /// Stable machine name used in JSON.
    pub fn key(self) -> &'static str {
        match self {
            FollowUpKind::TicketNoReply => "ticket_no_reply",
            FollowUpKind::TicketSeen => "ticket_seen",
            FollowUpKind::TicketClose => "ticket_close",
            FollowUpKind::EscalateManager => "escalate_manager",
            FollowUpKind::EscalateEngineering => "escalate_engineering",
            FollowUpKind::Kickoff => "kickoff",
            FollowUpKind::OnboardingCheckIn => "onboarding_check_in",
            FollowUpKind::ProficiencyCheck => "proficiency_check",
            FollowUpKind::NpsSurvey => "nps_survey",
            FollowUpKind::RenewalPrep => "renewal_prep",
            FollowUpKind::RenewalSigning => "renewal_signing",
            FollowUpKind::HealthRisk => "health_risk",
            FollowUpKind::CheckIn => "check_in",
            FollowUpKind::Upsell => "upsell",
            FollowUpKind::BadRating => "bad_rating",
            FollowUpKind::Task => "task",
        }
    }
}

/// Urgency of a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever.
    Low,
    /// Today.
    Normal,
    /// Before the normal ones.
    High,
    /// Drop everything.
    Urgent,
}

impl Priority {
    /// Short label ("urgent", "high", ...).
    pub fn label(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

/// Where a follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpState {
    /// To do.
    Open,
    /// Put off until a moment.
    Snoozed {
        /// When it comes back.
        until: DateTime<Utc>,
    },
    /// Finished.
    Done {
        /// When.
        at: DateTime<Utc>,
    },
}

/// A dated to-do with a reason a person can read. `R` holds the reason:
/// a `String` as stored and edited, a shared `Arc<str>` in the loaded queue,
/// where a few thousand distinct reasons recur over 150,000 items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp<R = String> {
    /// Workspace id.
    pub id: u64,
    /// The account.
    pub account_id: AccountId,
    /// The ticket, for ticket follow-ups.
    pub ticket_id: Option<u64>,
    /// What it is about.
    pub kind: FollowUpKind,
    /// Why, in words ("no reply for 2 days to 'Export fails'").
    pub reason: R,
    /// When it is due.
    pub due: DateTime<Utc>,
    /// Urgency.
    pub priority: Priority,
    /// Open, snoozed or done.
    pub state: FollowUpState,
}

impl<R> FollowUp<R> {
    /// When it comes up for the user: when it falls due (at the next
    /// working hour if it was raised outside them), or when its snooze
    /// ends if that is later. None once done.
    pub fn comes_up(&self, cal: &Calendar) -> Option<DateTime<Utc>> {
        match self.state {
            FollowUpState::Open => Some(cal.due(self.due)),
            FollowUpState::Snoozed { until } => Some(cal.due(self.due).max(until)),
            FollowUpState::Done { .. } => None,
        }
    }

    /// The queue section it sits in within `bounds`, if any. An item
    /// snoozed until later waits in Upcoming, even if it wakes today.
    pub fn section(&self, cal: &Calendar, bounds: &Bounds) -> Option<Section> {
        self.section_at(self.comes_up(cal)?, bounds)
    }

    /// As `section`, with when it comes up already worked out.
    pub fn section_at(&self, at: DateTime<Utc>, bounds: &Bounds) -> Option<Section> {
        match self.state {
            FollowUpState::Done { .. } => None,
            FollowUpState::Snoozed { until } if until > bounds.now => {
                (until < bounds.horizon).then_some(Section::Upcoming)
            }
            _ => bounds.section(at),
        }
    }

    /// Whether it is to act on now: overdue or due later on the user's day.
    pub fn is_actionable(&self, cal: &Calendar, now: DateTime<Utc>) -> bool {
        matches!(self.section(cal, &cal.bounds(now)), Some(Section::Overdue | Section::Today))
    }

    /// Whether it is past due at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.due < now
    }

    /// The same follow-up with its reason held as `S`.
    pub fn map_reason<S>(self, f: impl FnOnce(R) -> S) -> FollowUp<S> {
        FollowUp {
            id: self.id,
            account_id: self.account_id,
            ticket_id: self.ticket_id,
            kind: self.kind,
            reason: f(self.reason),
            due: self.due,
            priority: self.priority,
            state: self.state,
        }
    }
}

impl FollowUp<Arc<str>> {
    /// A follow-up of its own (the reason copied out of the shared text),
    /// as edits and actions take it.
    pub fn to_follow_up(&self) -> FollowUp {
        self.clone().map_reason(|r| r.to_string())
    }
}

/// A follow-up before it gets an id and a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The account.
    pub account_id: AccountId,
    /// The ticket, if any.
    pub ticket_id: Option<u64>,
    /// Kind.
    pub kind: FollowUpKind,
    /// Reason.
    pub reason: String,
    /// Due.
    pub due: DateTime<Utc>,
    /// Priority.
    pub priority: Priority,
}

impl Draft {
    /// Gives the draft an id; it starts open.
    pub fn into_follow_up(self, id: u64) -> FollowUp {
        FollowUp {
            id,
            account_id: self.account_id,
            ticket_id: self.ticket_id,
            kind: self.kind,
            reason: self.reason,
            due: self.due,
            priority: self.priority,
            state: FollowUpState::Open,
        }
    }
}

/// ARR at or above which an account is high-value (the support rules
/// allow it more than one follow-up).
pub const HIGH_VALUE_ARR: u64 = 100_000;

/// Whether an account is high-value: enterprise, or ARR at or above the line.
pub fn is_high_value(segment: Segment, arr: u64, arr_line: u64) -> bool {
    segment == Segment::Enterprise || arr >= arr_line
}

fn hours_word(d: Duration) -> String {
    let h = d.num_hours();
    if h < 48 {
        format!("{h} h")
    } else {
        format!("{} days", d.num_days())
    }
}

/// The follow-up a ticket calls for at `now`, if any; `high` says whether
/// its account is high-value (see `is_high_value`).
pub fn ticket_follow_up(ticket: &Ticket, high: bool, now: DateTime<Utc>) -> Option<Draft> {
    let (call, due) = ticket.call(high, now)?;
    let subject = sanitize(&ticket.subject);
    let silent = ticket.last_agent_reply.map(|t| hours_word(now - t)).unwrap_or_default();
    let (kind, reason, priority) = match call {
        TicketCall::FollowUpNoReply => (
            FollowUpKind::TicketNoReply,
            format!("No reply for {silent} to our answer on \"{subject}\": follow up with a question"),
            if high { Priority::High } else { Priority::Normal },
        ),
        TicketCall::FollowUpSeen => (
            FollowUpKind::TicketSeen,
            format!("Saw our complex answer on \"{subject}\" {silent} ago, no reply: check it made sense"),
            if high { Priority::High } else { Priority::Normal },
        ),
        TicketCall::ProposeClose => (
            FollowUpKind::TicketClose,
            format!("Silent for {silent} on \"{subject}\": propose closing the ticket"),
            Priority::Low,
        ),
        TicketCall::EscalateManager => (
            FollowUpKind::EscalateManager,
            format!("Frustrated customer on \"{subject}\": escalate to the manager now"),
            Priority::Urgent,
        ),
        TicketCall::EscalateEngineering => (
            FollowUpKind::EscalateEngineering,
            format!("Bug reported in \"{subject}\": gather details, escalate to engineering"),
            Priority::High,
        ),
    };
    Some(Draft { account_id: ticket.account_id, ticket_id: Some(ticket.id), kind, reason, due, priority })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_label_fits_the_queue_column() {
        use FollowUpKind::*;
        let all = [
            TicketNoReply,
            TicketSeen,
            TicketClose,
            EscalateManager,
            EscalateEngineering,
            Kickoff,
            OnboardingCheckIn,
            ProficiencyCheck,
            NpsSurvey,
            RenewalPrep,
            RenewalSigning,
            HealthRisk,
            CheckIn,
            Upsell,
            BadRating,
            Task,
        ];
        // A new kind fails to compile here until it is listed above.
        for k in all {
            match k {
                TicketNoReply | TicketSeen | TicketClose | EscalateManager | EscalateEngineering | Kickoff
                | OnboardingCheckIn | ProficiencyCheck | NpsSurvey | RenewalPrep | RenewalSigning | HealthRisk
                | CheckIn | Upsell | BadRating | Task => {}
            }
        }
        let widest = all.iter().map(|k| k.label().chars().count()).max();
        assert_eq!(widest, Some(FollowUpKind::LABEL_WIDTH));
    }
    use crate::domain::ticket::{Team, TicketPriority, TicketStatus};
    use crate::domain::{Account, Stage};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
    }

    fn account(stage: Stage, renew_in: i64) -> Account {
        let today = now().date_naive();
        Account {
            id: AccountId(7),
            name: "Acme".into(),
            domain: "acme.com".into(),
            segment: Segment::MidMarket,
            industry: "Retail".into(),
            region: "EMEA".into(),
            owner: "Dana".into(),
            plan: "Pro".into(),
            seats: 10,
            arr: 20_000,
            contract_start: today - Duration::days(1),
            renewal_date: today + Duration::days(renew_in),
            stage,
            key_people: vec![],
            outcome: None,
        }
    }

    #[test]
    fn ticket_rule_carries_a_sanitized_reason() {
        let a = account(Stage::Adoption, 200);
        let t = Ticket {
            id: 9,
            account_id: a.id,
            subject: "Export \u{1b}[2Jfails".into(),
            status: TicketStatus::Pending,
            priority: TicketPriority::Normal,
            team: Team::Development,
            requester: "Ann".into(),
            created_at: now() - Duration::days(4),
            updated_at: now() - Duration::days(3),
            last_customer_reply: Some(now() - Duration::days(4)),
            last_agent_reply: Some(now() - Duration::days(3)),
            seen_by_customer: false,
            complex: false,
            frustrated: false,
            bug: false,
            escalated: false,
            follow_ups_sent: 0,
        };
        let d = ticket_follow_up(&t, is_high_value(a.segment, a.arr, 100_000), now()).unwrap();
        assert_eq!(d.kind, FollowUpKind::TicketNoReply);
        assert_eq!(d.reason, "No reply for 3 days to our answer on \"Export fails\": follow up with a question");
        assert_eq!(d.due, now() - Duration::days(1));
        assert_eq!(d.ticket_id, Some(9));
    }

    #[test]
    fn actionable_means_open_or_woken_and_due_today() {
        let mut f = Draft {
            account_id: AccountId(1),
            ticket_id: None,
            kind: FollowUpKind::CheckIn,
            reason: "r".into(),
            due: now() + Duration::hours(5),
            priority: Priority::Normal,
        }
        .into_follow_up(1);
        let cal = Calendar::utc();
        assert!(f.is_actionable(&cal, now()), "later today");
        assert!(!f.is_overdue(now()));
        f.due = now() + Duration::days(1);
        assert!(!f.is_actionable(&cal, now()), "tomorrow");
        assert_eq!(f.section(&cal, &cal.bounds(now())), Some(Section::Upcoming));
        f.due = now() - Duration::days(1);
        assert!(f.is_overdue(now()));
        f.state = FollowUpState::Snoozed { until: now() + Duration::hours(1) };
        assert!(!f.is_actionable(&cal, now()));
        assert_eq!(f.section(&cal, &cal.bounds(now())), Some(Section::Upcoming), "snoozed: waits in Upcoming");
        f.state = FollowUpState::Snoozed { until: now() - Duration::hours(1) };
        assert!(f.is_actionable(&cal, now()));
        f.state = FollowUpState::Done { at: now() };
        assert!(!f.is_actionable(&cal, now()));
        assert_eq!(f.section(&cal, &cal.bounds(now())), None);
        // Raised at 20:00 on a Thursday: due Friday at nine, not tonight.
        f.state = FollowUpState::Open;
        f.due = now() + Duration::hours(10);
        assert!(!f.is_actionable(&cal, now() + Duration::hours(11)), "outside working hours");
        assert_eq!(f.comes_up(&cal), Some(now() + Duration::hours(23)));
    }
}
