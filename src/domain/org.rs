//! Support organizations (Zendesk) and how they relate to the CRM's
//! accounts: matched into one, or an account of their own until one
//! matches, and never merged when the match is not clear.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How a support organization relates to the CRM's accounts, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrgLink {
    /// Its records live on a CRM account, matched by `how` ("external
    /// id", "domain", "name").
    Matched {
        /// What it matched on.
        how: String,
    },
    /// It matches no CRM account: an account of its own until one arrives.
    Unmatched,
    /// It matches several accounts, or shares what it matches on with
    /// another organization: an account of its own, never merged.
    Ambiguous {
        /// Why, for the CSM ("matches 2 accounts by name").
        why: String,
    },
    /// Its external id names a CRM company the cache does not hold (yet):
    /// an account of its own until that company arrives, never a guess.
    Waiting {
        /// The company id it names.
        company: String,
    },
}

impl OrgLink {
    /// Whether the organization has an account of its own.
    pub fn is_own(&self) -> bool {
        !matches!(self, OrgLink::Matched { .. })
    }

    /// A short label for lists ("matched by domain", "support only", "ambiguous").
    pub fn label(&self) -> String {
        match self {
            OrgLink::Matched { how } => format!("matched by {how}"),
            OrgLink::Unmatched | OrgLink::Waiting { .. } => "support only".into(),
            OrgLink::Ambiguous { .. } => "ambiguous".into(),
        }
    }
}

/// What the store keeps of a support organization: what it is matched on,
/// so it can be matched again whenever the CRM's accounts change, without
/// reading it from the desk again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecord {
    /// The desk's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its email domains.
    pub domains: Vec<String>,
    /// Its external id (by convention the CRM company's id).
    pub external_id: Option<String>,
    /// When it was created at the desk.
    pub created: Option<NaiveDate>,
    /// How it relates to the CRM's accounts (decided by matching).
    pub link: OrgLink,
}

/// What the store keeps of a support user: enough to greet them by name
/// and to know their organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Full name as the desk has it (may be empty).
    pub name: String,
    /// Email address (may be empty).
    pub email: String,
    /// Their organization, when they have one.
    pub org: Option<u64>,
    /// Their title or details, as the desk has them.
    pub title: String,
    /// An active end user: a person of their organization's account.
    pub contact: bool,
}

impl UserRecord {
    /// The first name to greet them with, when the name gives one.
    pub fn first_name(&self) -> Option<&str> {
        let first = self.name.split_whitespace().next()?;
        // An email address in the name field is not a name.
        (!first.contains('@')).then_some(first)
    }
}

/// An account that is a support organization of its own: no CRM account
/// matches it (yet), or several do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportOnly {
    /// The desk source it came from.
    pub source: String,
    /// The organization's id there.
    pub org: u64,
    /// Why it has an account of its own.
    pub link: OrgLink,
}

impl SupportOnly {
    /// Whether it is kept apart because its match is not clear.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self.link, OrgLink::Ambiguous { .. })
    }

    /// One line for the CSM: what this account is and why.
    pub fn describe(&self) -> String {
        match &self.link {
            OrgLink::Ambiguous { why } => {
                format!("Support organization {} ({}) kept apart: {why}", self.org, self.source)
            }
            OrgLink::Waiting { company } => format!(
                "Support organization {} ({}) whose external id names CRM company {company}, not in the cache yet; it is merged into that company's account once it arrives",
                self.org, self.source
            ),
            _ => format!(
                "Support organization {} ({}) that matches no CRM account yet; it is merged into its account once one matches",
                self.org, self.source
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_names_come_from_names_not_emails() {
        let u = |name: &str| UserRecord {
            name: name.into(),
            email: "a@b.c".into(),
            org: None,
            title: String::new(),
            contact: true,
        };
        assert_eq!(u("Ana Lima").first_name(), Some("Ana"));
        assert_eq!(u("  ").first_name(), None);
        assert_eq!(u("ana@acme.com").first_name(), None);
    }

    #[test]
    fn links_say_whether_the_organization_has_its_own_account() {
        assert!(!OrgLink::Matched { how: "domain".into() }.is_own());
        assert!(OrgLink::Unmatched.is_own());
        let s = SupportOnly { source: "desk".into(), org: 7, link: OrgLink::Ambiguous { why: "x".into() } };
        assert!(s.is_ambiguous());
        assert!(s.describe().contains("kept apart: x"));
    }
}
