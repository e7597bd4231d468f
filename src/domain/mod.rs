//! Pure domain types and rules: no I/O, no clock (time is always passed in).

pub mod account;
pub mod activity;
pub mod backtest;
pub mod cadence;
pub mod deal;
pub mod explain;
pub mod flags;
pub mod followup;
pub mod followup_action;
pub mod health;
pub mod health_model;
pub mod health_table;
pub mod lifecycle;
pub mod metrics;
pub mod nps;
pub mod observed;
pub mod org;
pub mod outbox;
pub mod ranking;
pub mod rating;
pub mod reply;
pub mod rollup;
pub mod rules;
pub mod signals;
pub mod text;
pub mod ticket;

pub use account::{Account, AccountId, AccountRow, Contact, KeyPerson, Outcome, OutcomeKind, Segment};
pub use activity::{Activity, ActivityKind};
pub use deal::{Deal, DealKind, DealState};
pub use followup::{FollowUp, FollowUpKind, FollowUpState, Priority};
pub use health::{Band, Bands, Factor, HealthHistory, Measure, Trend};
pub use lifecycle::{Phase, Stage};
pub use nps::NpsResponse;
pub use org::{OrgLink, OrgRecord, SupportOnly, UserRecord};
pub use ticket::{Team, Ticket, TicketPriority, TicketStatus};
