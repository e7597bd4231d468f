//! Support tickets and the support follow-up rules of DOMAIN.md.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::account::AccountId;

/// Ticket status, as support desks name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Not yet looked at.
    New,
    /// Being worked by us.
    Open,
    /// Waiting on the customer.
    Pending,
    /// Waiting on a third party.
    Hold,
    /// Answered; may reopen.
    Solved,
    /// Final.
    Closed,
}

impl TicketStatus {
    /// All statuses.
    pub const ALL: [TicketStatus; 6] = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Hold,
        TicketStatus::Solved,
        TicketStatus::Closed,
    ];

    /// Whether the ticket still needs someone (not solved or closed).
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Solved | TicketStatus::Closed)
    }
}

/// Ticket priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketPriority {
    /// Low.
    Low,
    /// Normal.
    Normal,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

/// The team a ticket is segmented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Team {
    /// Marketing questions.
    Marketing,
    /// Bugs and feature requests.
    Development,
    /// Pricing and upgrades.
    Sales,
    /// Not yet routed.
    Unassigned,
}

/// A support ticket with what the follow-up rules need to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Workspace id.
    pub id: u64,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Subject line (raw; sanitize before drawing).
    pub subject: String,
    /// Status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: TicketPriority,
    /// Team segment.
    pub team: Team,
    /// Name of the person who asked.
    pub requester: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// Last change of any kind.
    pub updated_at: DateTime<Utc>,
    /// The customer's last public reply.
    pub last_customer_reply: Option<DateTime<Utc>>,
    /// Our last public reply.
    pub last_agent_reply: Option<DateTime<Utc>>,
    /// Whether the customer has seen our last reply.
    pub seen_by_customer: bool,
    /// Our last answer was complex (needs the customer to act or think).
    pub complex: bool,
    /// The customer is frustrated.
    pub frustrated: bool,
    /// The ticket reports a bug.
    pub bug: bool,
    /// Already escalated (to the manager or engineering).
    pub escalated: bool,
    /// Follow-ups we have already sent since our last answer.
    pub follow_ups_sent: u8,
}

/// What a ticket calls for now, per the support workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketCall {
    /// Customer silent 48 h after our reply: follow up.
    FollowUpNoReply,
    /// Complex answer seen but unanswered for 24 h: follow up.
    FollowUpSeen,
    /// No response at all after 5 days: propose closing.
    ProposeClose,
    /// Frustrated customer: escalate to the manager now.
    EscalateManager,
    /// Bug: gather details, escalate to engineering.
    EscalateEngineering,
}

/// Hours after our reply before a silent customer gets a follow-up.
pub const NO_REPLY_HOURS: i64 = 48;
/// Hours after a seen complex answer before a follow-up.
pub const SEEN_COMPLEX_HOURS: i64 = 24;
/// Days of silence after which the ticket is proposed for closing.
pub const CLOSE_AFTER_DAYS: i64 = 5;

impl Ticket {
    /// Whether the ball is in the customer's court: our reply is the latest.
    pub fn awaiting_customer(&self) -> bool {
        match (self.last_agent_reply, self.last_customer_reply) {
            (Some(ours), Some(theirs)) => ours > theirs,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// The next moment after `now` at which `call` could answer otherwise
    /// with nothing else changed (a silence reaching 24 h, 48 h or 5 days),
    /// if any: the daily pass looks at the ticket again then.
    pub fn next_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.status.is_open() || !self.awaiting_customer() {
            return None;
        }
        let ours = self.last_agent_reply?;
        [
            ours + Duration::hours(SEEN_COMPLEX_HOURS),
            ours + Duration::hours(NO_REPLY_HOURS),
            ours + Duration::days(CLOSE_AFTER_DAYS),
        ]
        .into_iter()
        .filter(|at| *at > now)
        .min()
    }

    /// The rule that applies at `now`, and the moment it tripped.
    /// `high_value` lifts the one-follow-up limit.
    pub fn call(&self, high_value: bool, now: DateTime<Utc>) -> Option<(TicketCall, DateTime<Utc>)> {
        if !self.status.is_open() {
            return None;
        }
        if self.frustrated && !self.escalated {
            return Some((TicketCall::EscalateManager, self.updated_at.min(now)));
        }
        if self.bug && !self.escalated {
            return Some((TicketCall::EscalateEngineering, self.created_at.min(now)));
        }
        if !self.awaiting_customer() {
            return None;
        }
        let ours = self.last_agent_reply?;
        let close_at = ours + Duration::days(CLOSE_AFTER_DAYS);
        if now >= close_at {
            return Some((TicketCall::ProposeClose, close_at));
        }
        if self.follow_ups_sent > 0 && !high_value {
            return None;
        }
        let seen_at = ours + Duration::hours(SEEN_COMPLEX_HOURS);
        if self.complex && self.seen_by_customer && now >= seen_at {
            return Some((TicketCall::FollowUpSeen, seen_at));
        }
        let silent_at = ours + Duration::hours(NO_REPLY_HOURS);
        if now >= silent_at {
            return Some((TicketCall::FollowUpNoReply, silent_at));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
    }

    fn ticket() -> Ticket {
        Ticket {
            id: 1,
            account_id: AccountId(1),
            subject: "Export fails".into(),
            status: TicketStatus::Pending,
            priority: TicketPriority::Normal,
            team: Team::Unassigned,
            requester: "Ann".into(),
            created_at: t0() - Duration::days(1),
            updated_at: t0(),
            last_customer_reply: Some(t0() - Duration::hours(2)),
            last_agent_reply: Some(t0()),
            seen_by_customer: false,
            complex: false,
            frustrated: false,
            bug: false,
            escalated: false,
            follow_ups_sent: 0,
        }
    }

    fn at(d: Duration) -> DateTime<Utc> {
        t0() + d
    }

    #[test]
    fn nothing_changes_before_the_next_change() {
        // Every variant the rules look at, every hour over a week: what the
        // ticket calls for holds until `next_change` (or for good).
        for (complex, seen, sent, high) in (0..16).map(|b| (b & 1 > 0, b & 2 > 0, (b >> 2) & 1, b & 8 > 0)) {
            let t = Ticket { complex, seen_by_customer: seen, follow_ups_sent: sent as u8, ..ticket() };
            for h in 0..24 * 7 {
                let now = at(Duration::hours(h) + Duration::minutes(7));
                let call = t.call(high, now).map(|(c, _)| c);
                let until = t.next_change(now).unwrap_or(now + Duration::days(60));
                assert!(until > now);
                let before = until - Duration::minutes(1);
                assert_eq!(t.call(high, before).map(|(c, _)| c), call, "{t:?} high {high} at +{h}h");
            }
        }
        // Closed, or the customer spoke last: nothing to wait for.
        let closed = Ticket { status: TicketStatus::Solved, ..ticket() };
        assert_eq!(closed.next_change(t0()), None);
        let theirs = Ticket { last_customer_reply: Some(t0() + Duration::hours(1)), ..ticket() };
        assert_eq!(theirs.next_change(t0()), None);
        assert_eq!(ticket().next_change(t0()), Some(at(Duration::hours(24))));
        assert_eq!(ticket().next_change(at(Duration::hours(30))), Some(at(Duration::hours(48))));
    }

    #[test]
    fn no_reply_trips_at_exactly_48h() {
        let t = ticket();
        let almost = Duration::hours(48) - Duration::minutes(1);
        assert_eq!(t.call(false, at(almost)), None);
        assert_eq!(
            t.call(false, at(Duration::hours(48))),
            Some((TicketCall::FollowUpNoReply, at(Duration::hours(48))))
        );
    }

    #[test]
    fn seen_complex_trips_at_24h_only_when_seen() {
        let mut t = ticket();
        t.complex = true;
        assert_eq!(t.call(false, at(Duration::hours(24))), None, "not seen yet");
        t.seen_by_customer = true;
        let almost = Duration::hours(24) - Duration::minutes(1);
        assert_eq!(t.call(false, at(almost)), None);
        assert_eq!(t.call(false, at(Duration::hours(24))).unwrap().0, TicketCall::FollowUpSeen);
    }

    #[test]
    fn five_days_proposes_close_even_when_seen() {
        let mut t = ticket();
        t.seen_by_customer = true;
        let almost = Duration::days(5) - Duration::minutes(1);
        assert_eq!(t.call(false, at(almost)).unwrap().0, TicketCall::FollowUpNoReply);
        assert_eq!(t.call(false, at(Duration::days(5))).unwrap().0, TicketCall::ProposeClose);
    }

    #[test]
    fn one_follow_up_is_enough_unless_high_value() {
        let mut t = ticket();
        t.follow_ups_sent = 1;
        assert_eq!(t.call(false, at(Duration::hours(50))), None);
        assert_eq!(t.call(true, at(Duration::hours(50))).unwrap().0, TicketCall::FollowUpNoReply);
        // Closing still applies after five days.
        assert_eq!(t.call(false, at(Duration::days(6))).unwrap().0, TicketCall::ProposeClose);
    }

    #[test]
    fn customer_reply_stops_the_clock() {
        let mut t = ticket();
        t.last_customer_reply = Some(at(Duration::hours(1)));
        assert!(!t.awaiting_customer());
        assert_eq!(t.call(false, at(Duration::days(9))), None);
    }

    #[test]
    fn escalations_come_first_and_once() {
        let mut t = ticket();
        t.frustrated = true;
        assert_eq!(t.call(false, t0()).unwrap().0, TicketCall::EscalateManager);
        t.escalated = true;
        assert_eq!(t.call(false, t0()), None);
        let mut b = ticket();
        b.bug = true;
        assert_eq!(b.call(false, t0()).unwrap().0, TicketCall::EscalateEngineering);
    }

    #[test]
    fn solved_and_closed_need_nothing() {
        for s in [TicketStatus::Solved, TicketStatus::Closed] {
            let mut t = ticket();
            t.status = s;
            t.frustrated = true;
            assert_eq!(t.call(false, at(Duration::days(9))), None);
        }
        assert!(TicketStatus::Hold.is_open());
    }
}
