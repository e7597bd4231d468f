//! Accounts (customer companies), their contacts and key people.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::health::{Band, Bands, Trend};
use super::lifecycle::Stage;

/// Stable numeric id of an account inside a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountId(pub u64);

/// Customer segment by size; drives cadence and priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Large accounts, tens per CSM.
    Enterprise,
    /// Mid-sized accounts.
    MidMarket,
    /// Small businesses, hundreds or thousands per CSM.
    Smb,
}

impl Segment {
    /// All segments, largest first.
    pub const ALL: [Segment; 3] = [Segment::Enterprise, Segment::MidMarket, Segment::Smb];

    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Segment::Enterprise => "Ent",
            Segment::MidMarket => "Mid",
            Segment::Smb => "SMB",
        }
    }

    /// Stable machine name used in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Segment::Enterprise => "enterprise",
            Segment::MidMarket => "mid_market",
            Segment::Smb => "smb",
        }
    }
}

/// A key person (KP) at the customer: a decision maker or champion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPerson {
    /// Full name.
    pub name: String,
    /// Role at the customer ("VP Operations", "Champion").
    pub role: String,
    /// Email address.
    pub email: String,
}

/// How a customer relationship ended (or renewed): the ground truth for backtests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The renewal was signed.
    Renewed,
    /// The customer left.
    Churned,
}

/// Why a customer left, as the CSM recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnReason {
    /// The customer chose to leave.
    Voluntary,
    /// The customer could not stay: a payment failed, the company closed.
    Involuntary,
}

impl ChurnReason {
    /// The reason in words ("voluntary").
    pub fn label(self) -> &'static str {
        match self {
            ChurnReason::Voluntary => "voluntary",
            ChurnReason::Involuntary => "involuntary",
        }
    }
}

/// An outcome and the day it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Renewed or churned.
    pub kind: OutcomeKind,
    /// The day it was recorded.
    pub on: NaiveDate,
    /// Why the customer left, when the CSM said (a churn recorded in the
    /// cockpit); `None` for a renewal or a churn from a source.
    pub reason: Option<ChurnReason>,
    /// The CSM's words on it, possibly empty.
    pub note: String,
}

impl Outcome {
    /// An outcome of `kind` on `on`, with no reason or note.
    pub fn new(kind: OutcomeKind, on: NaiveDate) -> Outcome {
        Outcome { kind, on, reason: None, note: String::new() }
    }

    /// A churn on `on` for `reason`, with the CSM's note.
    pub fn churn(on: NaiveDate, reason: Option<ChurnReason>, note: &str) -> Outcome {
        Outcome { kind: OutcomeKind::Churned, on, reason, note: note.trim().to_string() }
    }

    /// The outcome an account keeps after the CSM moves it from `from` to
    /// `to` on `on`: a move to Churned records the churn (with `churn`'s
    /// reason and note), a move to Renewed the renewal; a move out of
    /// Churned or Renewed to a live stage takes back the outcome it stood
    /// for, which would otherwise count in the metrics for a customer that
    /// did not leave (or did not renew). Anything else keeps `current`.
    pub fn after_move(
        current: Option<Outcome>,
        from: Stage,
        to: Stage,
        on: NaiveDate,
        churn: Option<(ChurnReason, &str)>,
    ) -> Option<Outcome> {
        let left = |kind| current.as_ref().is_some_and(|o| o.kind == kind);
        match (from, to) {
            (_, Stage::Churned) => Some(Outcome::churn(on, churn.map(|c| c.0), churn.map_or("", |c| c.1))),
            (_, Stage::Renewed) => Some(Outcome::new(OutcomeKind::Renewed, on)),
            (Stage::Churned, _) if left(OutcomeKind::Churned) => None,
            (Stage::Renewed, _) if left(OutcomeKind::Renewed) => None,
            _ => current,
        }
    }
}

/// A customer company: the unit a CSM owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Workspace id.
    pub id: AccountId,
    /// Company name.
    pub name: String,
    /// Primary email/web domain ("acme.com").
    pub domain: String,
    /// Size segment.
    pub segment: Segment,
    /// Industry ("Logistics").
    pub industry: String,
    /// Region ("EMEA").
    pub region: String,
    /// The CSM who owns the account.
    pub owner: String,
    /// Plan name; "Free" marks an unpaid account.
    pub plan: String,
    /// Licensed seats.
    pub seats: u32,
    /// Annual recurring revenue, whole currency units.
    pub arr: u64,
    /// First day of the current contract.
    pub contract_start: NaiveDate,
    /// Day the current contract ends and must be renewed.
    pub renewal_date: NaiveDate,
    /// Lifecycle stage (kanban column).
    pub stage: Stage,
    /// Key people at the customer.
    pub key_people: Vec<KeyPerson>,
    /// The last renewal or churn, when one happened.
    pub outcome: Option<Outcome>,
}

impl Account {
    /// Monthly recurring revenue (ARR / 12, rounded down).
    pub fn mrr(&self) -> u64 {
        self.arr / 12
    }

    /// Whether the account pays (paid accounts get priority).
    pub fn is_paid(&self) -> bool {
        self.arr > 0 && !self.plan.eq_ignore_ascii_case("free")
    }

    /// Days from `today` until the renewal date (negative once past).
    pub fn days_to_renewal(&self, today: NaiveDate) -> i64 {
        (self.renewal_date - today).num_days()
    }
}

/// A person at a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Workspace id.
    pub id: u64,
    /// The account the contact belongs to.
    pub account_id: AccountId,
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Job title.
    pub title: String,
    /// Whether this contact is a key person (decision maker).
    pub key_person: bool,
}

/// What the accounts table, the kanban and the headless `accounts` command
/// show for one account: the account's own fields plus derived figures, kept
/// up to date by the store so a view never has to join at draw time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Account id.
    pub id: AccountId,
    /// Company name (raw; sanitize before drawing).
    pub name: String,
    /// Segment.
    pub segment: Segment,
    /// ARR, whole currency units.
    pub arr: u64,
    /// Lifecycle stage.
    pub stage: Stage,
    /// Renewal date.
    pub renewal_date: NaiveDate,
    /// Latest health score, if any was computed.
    pub health: Option<u8>,
    /// Health 7 days before the latest score.
    pub health_7d_ago: Option<u8>,
    /// Health 30 days before the latest score.
    pub health_30d_ago: Option<u8>,
    /// Tickets not yet solved or closed.
    pub open_tickets: u32,
    /// Last two-way touch (activity or ticket reply).
    pub last_touch: Option<DateTime<Utc>>,
}

impl AccountRow {
    /// The same row with the account's own fields refreshed (derived
    /// figures kept).
    pub fn with_account(&self, a: &Account) -> AccountRow {
        AccountRow {
            id: a.id,
            name: a.name.clone(),
            segment: a.segment,
            arr: a.arr,
            stage: a.stage,
            renewal_date: a.renewal_date,
            ..self.clone()
        }
    }

    /// Health change over 7 days, when both ends are known.
    pub fn delta_7d(&self) -> Option<i16> {
        Some(self.health? as i16 - self.health_7d_ago? as i16)
    }

    /// Health change over 30 days, when both ends are known.
    pub fn delta_30d(&self) -> Option<i16> {
        Some(self.health? as i16 - self.health_30d_ago? as i16)
    }

    /// Trend arrow over 7 days.
    pub fn trend(&self) -> Trend {
        Trend::from_delta(self.delta_7d())
    }

    /// Colour band of the latest score.
    pub fn band(&self, bands: &Bands) -> Option<Band> {
        self.health.map(|h| bands.band(h))
    }

    /// Days from `today` until renewal.
    pub fn days_to_renewal(&self, today: NaiveDate) -> i64 {
        (self.renewal_date - today).num_days()
    }

    /// Whole days since the last touch, if there was one.
    pub fn days_since_touch(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_touch.map(|t| (now - t).num_days())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> AccountRow {
        AccountRow {
            id: AccountId(1),
            name: "Acme".into(),
            segment: Segment::Smb,
            arr: 12_000,
            stage: Stage::Adoption,
            renewal_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            health: Some(55),
            health_7d_ago: Some(70),
            health_30d_ago: Some(50),
            open_tickets: 2,
            last_touch: None,
        }
    }

    #[test]
    fn deltas_and_trend() {
        let r = row();
        assert_eq!(r.delta_7d(), Some(-15));
        assert_eq!(r.delta_30d(), Some(5));
        assert_eq!(r.trend(), Trend::Down);
        let mut none = r.clone();
        none.health_7d_ago = None;
        assert_eq!(none.delta_7d(), None);
        assert_eq!(none.trend(), Trend::Unknown);
    }

    #[test]
    fn a_move_records_the_outcome_it_stands_for_and_leaves_none_stale() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let before = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let renewed = Some(Outcome::new(OutcomeKind::Renewed, before));
        let churned = Outcome::after_move(
            renewed.clone(),
            Stage::Renewed,
            Stage::Churned,
            d,
            Some((ChurnReason::Voluntary, " moved to a competitor ")),
        )
        .unwrap();
        assert_eq!(churned.kind, OutcomeKind::Churned);
        assert_eq!(
            (churned.on, churned.reason, churned.note.as_str()),
            (d, Some(ChurnReason::Voluntary), "moved to a competitor")
        );
        let back = Outcome::after_move(Some(churned.clone()), Stage::Churned, Stage::Renewed, d, None).unwrap();
        assert_eq!((back.kind, back.on, back.reason), (OutcomeKind::Renewed, d, None));
        assert_eq!(
            Outcome::after_move(Some(back), Stage::Renewed, Stage::RenewalSigning, d, None),
            None,
            "no stale renewal"
        );
        assert_eq!(
            Outcome::after_move(renewed.clone(), Stage::Adoption, Stage::Expansion, d, None),
            renewed,
            "last year's renewal stays through the next cycle"
        );
    }

    #[test]
    fn renewal_days_and_mrr() {
        let r = row();
        let today = NaiveDate::from_ymd_opt(2026, 1, 30).unwrap();
        assert_eq!(r.days_to_renewal(today), 30);
        let a = Account {
            id: AccountId(1),
            name: "Acme".into(),
            domain: "acme.com".into(),
            segment: Segment::Smb,
            industry: "Retail".into(),
            region: "EMEA".into(),
            owner: "Dana".into(),
            plan: "Free".into(),
            seats: 3,
            arr: 12_000,
            contract_start: today,
            renewal_date: today,
            stage: Stage::Adoption,
            key_people: vec![],
            outcome: None,
        };
        assert_eq!(a.mrr(), 1000);
        assert!(!a.is_paid());
    }
}
