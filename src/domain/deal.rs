//! Deals from the CRM: renewals and expansions, the revenue side of the
//! lifecycle.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::account::{AccountId, Outcome, OutcomeKind};

/// What a deal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealKind {
    /// The first sale.
    NewBusiness,
    /// Renewing the current contract.
    Renewal,
    /// More seats, a higher plan, another product.
    Expansion,
}

impl DealKind {
    /// Lower-case label.
    pub fn label(self) -> &'static str {
        match self {
            DealKind::NewBusiness => "new business",
            DealKind::Renewal => "renewal",
            DealKind::Expansion => "expansion",
        }
    }
}

/// Where a deal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealState {
    /// Still being worked.
    Open,
    /// Signed.
    Won,
    /// Lost.
    Lost,
}

/// A deal on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    /// Workspace id (the CRM's id).
    pub id: u64,
    /// The account.
    pub account_id: AccountId,
    /// Deal name (raw; sanitize before drawing).
    pub name: String,
    /// Renewal, expansion or new business.
    pub kind: DealKind,
    /// Open, won or lost.
    pub state: DealState,
    /// Amount, whole currency units.
    pub amount: u64,
    /// Expected or actual close date.
    pub close_date: Option<NaiveDate>,
}

impl Deal {
    /// The renewal or churn a closed renewal deal records: won renews the
    /// contract, lost means the customer left.
    pub fn outcome(&self) -> Option<Outcome> {
        if self.kind != DealKind::Renewal {
            return None;
        }
        let kind = match self.state {
            DealState::Open => return None,
            DealState::Won => OutcomeKind::Renewed,
            DealState::Lost => OutcomeKind::Churned,
        };
        Some(Outcome::new(kind, self.close_date?))
    }
}

/// Classifies a deal from the CRM's deal type and its name: a type or name
/// that says renewal is a renewal; an existing-business deal, or one named
/// as an upsell, is an expansion; anything else is new business.
pub fn classify(deal_type: &str, name: &str) -> DealKind {
    let t = deal_type.trim().to_lowercase();
    let n = name.to_lowercase();
    if t.contains("renew") || n.contains("renew") {
        DealKind::Renewal
    } else if t == "existingbusiness"
        || t.contains("expansion")
        || t.contains("upsell")
        || ["expansion", "upsell", "upgrade", "add-on", "addon", "seats"].iter().any(|w| n.contains(w))
    {
        DealKind::Expansion
    } else {
        DealKind::NewBusiness
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deal(kind: DealKind, state: DealState, close: Option<NaiveDate>) -> Deal {
        Deal { id: 1, account_id: AccountId(1), name: "x".into(), kind, state, amount: 10, close_date: close }
    }

    #[test]
    fn classifies_by_type_then_name() {
        assert_eq!(classify("renewal", "Acme 2027"), DealKind::Renewal);
        assert_eq!(classify("existingbusiness", "Acme - Renewal FY27"), DealKind::Renewal);
        assert_eq!(classify("existingbusiness", "Acme 50 more users"), DealKind::Expansion);
        assert_eq!(classify("", "Acme upsell: analytics"), DealKind::Expansion);
        assert_eq!(classify("newbusiness", "Acme"), DealKind::NewBusiness);
        assert_eq!(classify("", ""), DealKind::NewBusiness);
    }

    #[test]
    fn only_closed_renewals_with_a_date_settle_an_outcome() {
        let d = NaiveDate::from_ymd_opt(2026, 6, 30);
        assert_eq!(
            deal(DealKind::Renewal, DealState::Won, d).outcome(),
            Some(Outcome::new(OutcomeKind::Renewed, d.unwrap()))
        );
        assert_eq!(deal(DealKind::Renewal, DealState::Lost, d).outcome().unwrap().kind, OutcomeKind::Churned);
        assert_eq!(deal(DealKind::Renewal, DealState::Open, d).outcome(), None);
        assert_eq!(deal(DealKind::Renewal, DealState::Won, None).outcome(), None);
        assert_eq!(deal(DealKind::Expansion, DealState::Won, d).outcome(), None);
    }
}
