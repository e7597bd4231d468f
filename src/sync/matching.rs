//! Matching a support organization to a CRM account: by external id, else
//! by email domain, else by normalised name. Two candidates are never
//! merged silently: the caller lists them.

use std::collections::HashMap;

use crate::domain::{Account, AccountId};

/// How an organization matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// One account, and by what.
    Found(AccountId, &'static str),
    /// Several accounts fit equally well.
    Ambiguous(Vec<AccountId>, &'static str),
    /// Nothing fits.
    None,
}

/// Company suffixes that do not tell companies apart.
const SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "bv",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "the",
];

/// "The Acme Corp., Inc." -> "acme".
pub fn normalize_name(name: &str) -> String {
    let cleaned: String = name.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    cleaned.split_whitespace().filter(|w| !SUFFIXES.contains(w)).collect::<Vec<_>>().join(" ")
}

/// "https://www.Acme.com/" -> "acme.com".
pub fn normalize_domain(d: &str) -> String {
    let d = d.trim().to_lowercase();
    let d = d.split("://").last().unwrap_or(&d);
    let d = d.split('/').next().unwrap_or(d);
    d.strip_prefix("www.").unwrap_or(d).trim_end_matches('.').to_string()
}

/// The accounts to match against, indexed once per sync.
#[derive(Debug, Default)]
pub struct Candidates {
    by_domain: HashMap<String, Vec<AccountId>>,
    by_name: HashMap<String, Vec<AccountId>>,
}

impl Candidates {
    /// Indexes accounts by domain and normalised name.
    pub fn build<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> Candidates {
        let mut c = Candidates::default();
        for a in accounts {
            c.add(a);
        }
        c
    }

    /// Adds one account.
    pub fn add(&mut self, a: &Account) {
        if !a.domain.is_empty() {
            self.by_domain.entry(normalize_domain(&a.domain)).or_default().push(a.id);
        }
        let n = normalize_name(&a.name);
        if !n.is_empty() {
            self.by_name.entry(n).or_default().push(a.id);
        }
    }

    /// Finds the account for an organization. `by_external_id` is the CRM
    /// account its external id points at, if any.
    pub fn find(&self, by_external_id: Option<AccountId>, domains: &[String], name: &str) -> Match {
        if let Some(id) = by_external_id {
            return Match::Found(id, "external id");
        }
        let mut hits: Vec<AccountId> = domains
            .iter()
            .flat_map(|d| self.by_domain.get(&normalize_domain(d)).cloned().unwrap_or_default())
            .collect();
        hits.sort();
        hits.dedup();
        match hits.len() {
            1 => return Match::Found(hits[0], "domain"),
            n if n > 1 => return Match::Ambiguous(hits, "domain"),
            _ => {}
        }
        match self.by_name.get(&normalize_name(name)).map(Vec::as_slice) {
            Some([one]) => Match::Found(*one, "name"),
            Some(many) if many.len() > 1 => Match::Ambiguous(many.to_vec(), "name"),
            _ => Match::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Segment, Stage};
    use chrono::NaiveDate;

    fn account(id: u64, name: &str, domain: &str) -> Account {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        Account {
            id: AccountId(id),
            name: name.into(),
            domain: domain.into(),
            segment: Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: String::new(),
            plan: String::new(),
            seats: 0,
            arr: 0,
            contract_start: d,
            renewal_date: d,
            stage: Stage::Adoption,
            key_people: vec![],
            outcome: None,
        }
    }

    #[test]
    fn normalises() {
        assert_eq!(normalize_name("The Acme Corp., Inc."), "acme");
        assert_eq!(normalize_name("Müller GmbH"), "müller");
        assert_eq!(normalize_domain("https://www.Acme.com/path"), "acme.com");
    }

    #[test]
    fn external_id_then_domain_then_name() {
        let accounts =
            [account(1, "Acme Inc", "acme.com"), account(2, "Globex", "globex.com"), account(3, "Globex", "globex.io")];
        let c = Candidates::build(&accounts);
        assert_eq!(c.find(Some(AccountId(9)), &[], "x"), Match::Found(AccountId(9), "external id"));
        assert_eq!(c.find(None, &["www.acme.com".into()], "Other"), Match::Found(AccountId(1), "domain"));
        assert_eq!(c.find(None, &[], "ACME, inc."), Match::Found(AccountId(1), "name"));
        assert_eq!(c.find(None, &[], "Globex"), Match::Ambiguous(vec![AccountId(2), AccountId(3)], "name"));
        assert_eq!(
            c.find(None, &["globex.com".into(), "globex.io".into()], "Globex"),
            Match::Ambiguous(vec![AccountId(2), AccountId(3)], "domain")
        );
        assert_eq!(c.find(None, &["initech.com".into()], "Initech"), Match::None);
    }
}
