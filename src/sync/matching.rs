//! Matching support organizations to CRM accounts, as a standing
//! relation: given every organization and every CRM account, each
//! organization is matched by external id, else by email domain, else by
//! normalised name, and nothing is merged when the match is not clear (an
//! organization that fits several accounts, or that shares its domain or
//! name with another organization). Pure: the same organizations and
//! accounts give the same answer whatever order they arrived in.

use std::collections::{BTreeMap, HashMap};

use crate::domain::{Account, AccountId};

/// What an organization was matched on, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// Its external id names the CRM company: an explicit link.
    ExternalId,
    /// One of its email domains.
    Domain,
    /// Its normalised name.
    Name,
}

impl How {
    /// Words for the CSM.
    pub fn label(self) -> &'static str {
        match self {
            How::ExternalId => "external id",
            How::Domain => "domain",
            How::Name => "name",
        }
    }
}

/// Where an organization's records belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// On this CRM account.
    Link(AccountId, How),
    /// On an account of its own: it matches no CRM account.
    Unmatched,
    /// On an account of its own: its external id names a CRM company the
    /// cache does not hold (yet); no guess stands in for it.
    Waiting(String),
    /// On an account of its own: several accounts fit (`accounts`), or
    /// other organizations (`rivals`) point at the same account the same way.
    Ambiguous {
        /// What it was matched on.
        how: How,
        /// The accounts it fits.
        accounts: Vec<AccountId>,
        /// Other organizations competing for the same account.
        rivals: Vec<u64>,
    },
}

/// What matching knows of one organization.
#[derive(Debug, Clone)]
pub struct OrgFacts<'a> {
    /// The desk's id.
    pub id: u64,
    /// Its name.
    pub name: &'a str,
    /// Its email domains.
    pub domains: &'a [String],
    /// The CRM account its external id names, if any.
    pub by_external_id: Option<AccountId>,
    /// A CRM company id its external id names that the cache does not hold.
    pub waits_for: Option<&'a str>,
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

    /// The accounts an organization fits at the first level that fits any:
    /// external id, else domain, else name.
    fn fits(&self, org: &OrgFacts) -> Option<(How, Vec<AccountId>)> {
        if let Some(id) = org.by_external_id {
            return Some((How::ExternalId, vec![id]));
        }
        let mut hits: Vec<AccountId> = org
            .domains
            .iter()
            .flat_map(|d| self.by_domain.get(&normalize_domain(d)).cloned().unwrap_or_default())
            .collect();
        hits.sort();
        hits.dedup();
        if !hits.is_empty() {
            return Some((How::Domain, hits));
        }
        let mut by_name = self.by_name.get(&normalize_name(org.name)).cloned().unwrap_or_default();
        by_name.sort();
        by_name.dedup();
        (!by_name.is_empty()).then_some((How::Name, by_name))
    }
}

/// Decides every organization at once (same order as `orgs`).
///
/// An external id is an explicit link and always stands. Otherwise an
/// organization that fits one account is linked to it only when it is the
/// only organization fitting that account at the strongest level present
/// and no organization is linked to it explicitly; every other contender
/// is ambiguous, and so is an organization that fits several accounts.
pub fn decide(orgs: &[OrgFacts], candidates: &Candidates) -> Vec<Decision> {
    // An external id naming a company not in the cache waits for it.
    let fits: Vec<Option<(How, Vec<AccountId>)>> =
        orgs.iter().map(|o| if o.waits_for.is_some() { None } else { candidates.fits(o) }).collect();
    // Who points at each account, and how (an organization that fits
    // several accounts points at each of them).
    let mut claims: BTreeMap<AccountId, Vec<(How, usize)>> = BTreeMap::new();
    for (i, f) in fits.iter().enumerate() {
        if let Some((how, accounts)) = f {
            for a in accounts {
                claims.entry(*a).or_default().push((*how, i));
            }
        }
    }
    fits.into_iter()
        .enumerate()
        .map(|(i, f)| match f {
            None => match orgs[i].waits_for {
                Some(company) => Decision::Waiting(company.to_string()),
                None => Decision::Unmatched,
            },
            Some((how, accounts)) if accounts.len() > 1 => Decision::Ambiguous { how, accounts, rivals: vec![] },
            Some((how, accounts)) => {
                let account = accounts[0];
                if how == How::ExternalId {
                    return Decision::Link(account, how);
                }
                // The strongest way anyone points at this account, and who else does so.
                let strongest = claims[&account].iter().map(|(c, _)| *c).min().unwrap_or(how);
                let contenders: Vec<u64> = claims[&account]
                    .iter()
                    .filter(|(c, j)| *c == strongest && *j != i)
                    .map(|(_, j)| orgs[*j].id)
                    .collect();
                match (how == strongest, contenders.is_empty()) {
                    (true, true) => Decision::Link(account, how),
                    _ => Decision::Ambiguous { how, accounts, rivals: contenders },
                }
            }
        })
        .collect()
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

    fn facts<'a>(id: u64, name: &'a str, domains: &'a [String], ext: Option<u64>) -> OrgFacts<'a> {
        OrgFacts { id, name, domains, by_external_id: ext.map(AccountId), waits_for: None }
    }

    #[test]
    fn an_external_id_naming_a_missing_company_waits_and_never_guesses() {
        let accounts = [account(8, "Parent Co", "acme.com")];
        let c = Candidates::build(&accounts);
        let acme = vec!["acme.com".to_string()];
        let waiting = OrgFacts { waits_for: Some("7"), ..facts(10, "Acme", &acme, None) };
        assert_eq!(decide(&[waiting], &c), vec![Decision::Waiting("7".into())]);
    }

    #[test]
    fn an_organization_fitting_several_accounts_still_contends_for_each() {
        let accounts = [account(1, "Acme", "acme.com"), account(2, "Acme Labs", "acme.com")];
        let c = Candidates::build(&accounts);
        let (acme, none) = (vec!["acme.com".to_string()], vec![]);
        // The first fits both by domain; the second names the first only.
        let orgs = [facts(10, "Acme Group", &acme, None), facts(11, "Acme", &none, None)];
        let d = decide(&orgs, &c);
        assert!(matches!(d[0], Decision::Ambiguous { how: How::Domain, .. }));
        assert_eq!(d[1], Decision::Ambiguous { how: How::Name, accounts: vec![AccountId(1)], rivals: vec![10] });
    }

    #[test]
    fn external_id_then_domain_then_name() {
        let accounts =
            [account(1, "Acme Inc", "acme.com"), account(2, "Globex", "globex.com"), account(3, "Globex", "globex.io")];
        let c = Candidates::build(&accounts);
        let (none, acme, both) =
            (vec![], vec!["www.acme.com".to_string()], vec!["globex.com".into(), "globex.io".into()]);
        let initech = vec!["initech.com".to_string()];
        let orgs = [
            facts(10, "x", &none, Some(9)),
            facts(11, "Other", &acme, None),
            facts(12, "Globex", &none, None),
            facts(13, "Globex", &both, None),
            facts(14, "Initech", &initech, None),
        ];
        let d = decide(&orgs, &c);
        assert_eq!(d[0], Decision::Link(AccountId(9), How::ExternalId));
        assert_eq!(d[1], Decision::Link(AccountId(1), How::Domain));
        let two = vec![AccountId(2), AccountId(3)];
        assert_eq!(d[2], Decision::Ambiguous { how: How::Name, accounts: two.clone(), rivals: vec![] });
        assert_eq!(d[3], Decision::Ambiguous { how: How::Domain, accounts: two, rivals: vec![] });
        assert_eq!(d[4], Decision::Unmatched);
        let alone = [facts(15, "ACME, inc.", &none, None)];
        assert_eq!(decide(&alone, &c), vec![Decision::Link(AccountId(1), How::Name)]);
    }

    #[test]
    fn two_organizations_claiming_one_domain_are_both_ambiguous() {
        let accounts = [account(1, "Acme Inc", "acme.com")];
        let c = Candidates::build(&accounts);
        let acme = vec!["acme.com".to_string()];
        let orgs = [facts(10, "Acme US", &acme, None), facts(11, "Acme EU", &acme, None)];
        let d = decide(&orgs, &c);
        assert_eq!(d[0], Decision::Ambiguous { how: How::Domain, accounts: vec![AccountId(1)], rivals: vec![11] });
        assert_eq!(d[1], Decision::Ambiguous { how: How::Domain, accounts: vec![AccountId(1)], rivals: vec![10] });
        // In either order.
        let swapped = [orgs[1].clone(), orgs[0].clone()];
        assert!(decide(&swapped, &c).iter().all(|d| matches!(d, Decision::Ambiguous { .. })));
    }

    #[test]
    fn a_stronger_match_wins_and_an_explicit_link_excludes_guesses() {
        let accounts = [account(1, "Acme Inc", "acme.com")];
        let c = Candidates::build(&accounts);
        let (acme, none) = (vec!["acme.com".to_string()], vec![]);
        // By domain beats by name: the name-only one is kept apart.
        let orgs = [facts(10, "Acme Support", &acme, None), facts(11, "Acme", &none, None)];
        let d = decide(&orgs, &c);
        assert_eq!(d[0], Decision::Link(AccountId(1), How::Domain));
        assert_eq!(d[1], Decision::Ambiguous { how: How::Name, accounts: vec![AccountId(1)], rivals: vec![10] });
        // An organization linked by external id keeps the account; a guess at it does not join it.
        let orgs = [facts(10, "Acme Support", &acme, None), facts(12, "Acme HQ", &none, Some(1))];
        let d = decide(&orgs, &c);
        assert_eq!(d[1], Decision::Link(AccountId(1), How::ExternalId));
        assert_eq!(d[0], Decision::Ambiguous { how: How::Domain, accounts: vec![AccountId(1)], rivals: vec![12] });
    }
}
