//! Keeps a desk's organizations where matching says they belong: after
//! every organization pass, and whenever the CRM's accounts change, every
//! organization the store knows is matched again against the CRM accounts
//! (`matching::decide`) and the store moves the records of those whose
//! answer changed (`engine::merge`). No network: the organizations'
//! records are kept in the store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};

use super::matching::{decide, Candidates, Decision, OrgFacts};
use super::Skipped;
use crate::domain::{Account, AccountId, OrgLink, OrgRecord, Segment, Stage, UserRecord};
use crate::engine::merge::{self, Change, Target};
use crate::engine::writer::Writer;
use crate::store::{Store, StoreError};

/// What matching the organizations again did, and where they stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rematch {
    /// Organizations seen for the first time and linked to a CRM account.
    pub linked: u64,
    /// Organizations already in the cache whose records moved to another account.
    pub moved: u64,
    /// Accounts of their own merged into the CRM account that now matches.
    pub merged: u64,
    /// Accounts of their own created.
    pub created: u64,
    /// Tickets that moved between accounts.
    pub tickets_moved: u64,
    /// Every organization kept apart because its match is not clear.
    pub ambiguous: Vec<Skipped>,
    /// Every organization that matches no CRM account.
    pub unmatched: Vec<Skipped>,
}

/// The account an organization with no clear CRM match lives on until one
/// matches. Its renewal date is a placeholder the rules ignore (an account
/// of its own has no contract: see `SupportOnly`).
pub fn own_account(rec: &OrgRecord, id: AccountId, today: NaiveDate) -> Account {
    let created = rec.created.unwrap_or(today);
    Account {
        id,
        name: if rec.name.trim().is_empty() { format!("(organization {})", rec.id) } else { rec.name.clone() },
        domain: rec.domains.first().cloned().unwrap_or_default(),
        segment: Segment::Smb,
        industry: String::new(),
        region: String::new(),
        owner: String::new(),
        plan: String::new(),
        seats: 0,
        arr: 0,
        contract_start: created,
        renewal_date: created + Months::new(12),
        stage: Stage::Adoption,
        key_people: vec![],
        outcome: None,
    }
}

/// Matches every organization of desk `source` again and moves the records
/// of those whose place changed. `crm_sources` are the CRM sources whose
/// accounts organizations match (and whose ids an external id names);
/// `sources` every configured source.
pub fn rematch(
    writer: &Writer,
    source: &str,
    crm_sources: &[String],
    sources: &[String],
    today: NaiveDate,
) -> Result<Rematch, StoreError> {
    let store = writer.store();
    let records: Vec<OrgRecord> = store.org_records(source).collect::<Result<_, _>>()?;
    let mut report = Rematch::default();
    if records.is_empty() {
        return Ok(report);
    }
    let ext_of = |id: u64| format!("org/{id}");
    let mut current: Vec<Option<AccountId>> = Vec::with_capacity(records.len());
    for r in &records {
        current.push(store.external_id(source, &ext_of(r.id))?);
    }
    // Accounts of their own (of any desk) are not candidates.
    let own: BTreeSet<AccountId> = store.support_only_accounts()?.into_keys().collect();
    let mut explicit = Vec::with_capacity(records.len());
    let mut waits = Vec::with_capacity(records.len());
    for r in &records {
        let mut hit = None;
        let named =
            r.external_id.as_deref().map(str::trim).filter(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()));
        if let Some(x) = named {
            for crm in crm_sources {
                if let Some(acc) = store.external_id(crm, x)? {
                    hit = Some(acc);
                    break;
                }
            }
        }
        // A company id the cache does not hold is waited for, not guessed at.
        waits.push(named.filter(|_| hit.is_none() && !crm_sources.is_empty()));
        explicit.push(hit);
    }
    // Organizations that all name their company by external id need no
    // index of the book (most of a first sync's memory at 100,000).
    let mut candidates = Candidates::default();
    if explicit.iter().zip(&waits).any(|(e, w)| e.is_none() && w.is_none()) {
        for a in store.accounts() {
            let a = a?;
            if !own.contains(&a.id) {
                candidates.add(&a);
            }
        }
    }
    let facts: Vec<OrgFacts> = records
        .iter()
        .zip(explicit.iter().zip(&waits))
        .map(|(r, (e, w))| OrgFacts { id: r.id, name: &r.name, domains: &r.domains, by_external_id: *e, waits_for: *w })
        .collect();
    let decisions = decide(&facts, &candidates);
    // How many organizations live on each account now.
    let mut sharers: BTreeMap<AccountId, usize> = BTreeMap::new();
    for acc in current.iter().flatten() {
        *sharers.entry(*acc).or_default() += 1;
    }
    let org_name: BTreeMap<u64, &str> = records.iter().map(|r| (r.id, r.name.as_str())).collect();
    let mut changes: Vec<Change> = Vec::new();
    let mut froms: Vec<Option<AccountId>> = Vec::new();
    for ((rec, decision), now_at) in records.iter().zip(&decisions).zip(&current) {
        let link = link_for(store, rec, decision, &org_name)?;
        match &link {
            OrgLink::Ambiguous { why } => {
                report.ambiguous.push(Skipped { id: rec.id.to_string(), reason: why.clone() })
            }
            OrgLink::Unmatched => report.unmatched.push(Skipped {
                id: rec.id.to_string(),
                reason: format!("\"{}\" matches no CRM account; kept as its own account until one does", rec.name),
            }),
            OrgLink::Waiting { company } => report.unmatched.push(Skipped {
                id: rec.id.to_string(),
                reason: format!(
                    "\"{}\" names CRM company {company} by its external id, which is not in the cache yet; kept as its own account until it arrives",
                    rec.name
                ),
            }),
            OrgLink::Matched { .. } => {}
        }
        // Its account is its own (its mark names it) and still there.
        let own_now = match now_at {
            Some(acc) => store.is_own_account(*acc, source, rec.id)? && store.account(*acc)?.is_some(),
            None => false,
        };
        let exclusive = now_at.is_some_and(|a| sharers.get(&a).copied().unwrap_or(0) <= 1);
        let target = match decision {
            Decision::Link(acc, _) => {
                if *now_at == Some(*acc) && rec.link == link {
                    continue;
                }
                Target::Account(*acc)
            }
            _ => {
                if own_now && rec.link == link && !renamed(store, now_at.expect("own"), rec)? {
                    continue;
                }
                // Kept when it is its own; otherwise a new account, with an
                // id no account (not even an archived company) ever had.
                let id = match (own_now, now_at) {
                    (true, Some(acc)) => *acc,
                    _ => AccountId(store.next_id()? + 1),
                };
                Target::Own(Box::new(own_account(rec, id, today)))
            }
        };
        if now_at.is_none() {
            report.linked += u64::from(matches!(target, Target::Account(_)));
        }
        let updated = OrgRecord { link, ..rec.clone() };
        changes.push(Change { record: updated, target, own: own_now, exclusive, users: Vec::new() });
        froms.push(*now_at);
    }
    // Organizations already filed that move take their users along: read
    // once, and only when one moves.
    if froms.iter().any(Option::is_some) {
        let moving: BTreeSet<u64> =
            changes.iter().zip(&froms).filter(|(_, f)| f.is_some()).map(|(c, _)| c.record.id).collect();
        let mut users: BTreeMap<u64, Vec<(u64, UserRecord)>> = BTreeMap::new();
        for (id, u) in store.user_records(source) {
            if let Some(org) = u.org.filter(|o| moving.contains(o)) {
                users.entry(org).or_default().push((id, u));
            }
        }
        for c in &mut changes {
            c.users = users.remove(&c.record.id).unwrap_or_default();
        }
    }
    let done = writer.run(|s| merge::relink_many(s, source, &changes, sources))?;
    for ((change, d), now_at) in changes.iter().zip(&done).zip(froms) {
        if now_at.is_some() {
            tracing::info!(source, org = change.record.id, link = %change.record.link.label(), ?d, "organization relinked");
        }
        if now_at.is_some_and(|from| d.account != Some(from)) && d.merged.is_none() {
            report.moved += 1;
        }
        report.merged += u64::from(d.merged.is_some());
        report.created += u64::from(d.created.is_some());
        report.tickets_moved += d.tickets as u64;
    }
    sweep_stranded(writer, source, sources)?;
    Ok(report)
}

/// An account of its own whose organization has moved on (a workspace
/// where several organizations once shared one account) is merged whole
/// into where that organization lives now, so no account is left behind.
fn sweep_stranded(writer: &Writer, source: &str, sources: &[String]) -> Result<(), StoreError> {
    let store = writer.store();
    let mut stranded = Vec::new();
    for (acc, mark) in store.support_only_accounts()? {
        if mark.source != source {
            continue;
        }
        match store.external_id(source, &format!("org/{}", mark.org))? {
            Some(now) if now != acc => stranded.push((acc, now)),
            _ => {}
        }
    }
    if !stranded.is_empty() {
        tracing::info!(source, accounts = stranded.len(), "accounts left behind by their organization merged");
        writer.run(|s| merge::merge_accounts(s, &stranded, sources))?;
    }
    Ok(())
}

/// Whether an account of its own no longer carries its organization's name or domain.
fn renamed(store: &Store, acc: AccountId, rec: &OrgRecord) -> Result<bool, StoreError> {
    Ok(match store.account(acc)? {
        Some(a) => a.name != rec.name || a.domain != rec.domains.first().cloned().unwrap_or_default(),
        None => true,
    })
}

/// The link a decision gives, with its reason in words for the CSM.
fn link_for(store: &Store, rec: &OrgRecord, d: &Decision, orgs: &BTreeMap<u64, &str>) -> Result<OrgLink, StoreError> {
    let name = |a: &AccountId| -> Result<String, StoreError> {
        Ok(store.account(*a)?.map_or_else(|| format!("account {}", a.0), |acc| acc.name))
    };
    Ok(match d {
        Decision::Link(_, how) => OrgLink::Matched { how: how.label().to_string() },
        Decision::Unmatched => OrgLink::Unmatched,
        Decision::Waiting(company) => OrgLink::Waiting { company: company.clone() },
        Decision::Ambiguous { how, accounts, rivals } if rivals.is_empty() => {
            let names = accounts.iter().map(name).collect::<Result<Vec<_>, _>>()?;
            OrgLink::Ambiguous {
                why: format!(
                    "\"{}\" matches {} accounts by {} ({}); kept as its own account, not merged",
                    rec.name,
                    accounts.len(),
                    how.label(),
                    list(names.into_iter())
                ),
            }
        }
        Decision::Ambiguous { how, accounts, rivals } => {
            let account = match accounts.first() {
                Some(a) => name(a)?,
                None => String::new(),
            };
            let others = list(rivals.iter().map(|r| match orgs.get(r) {
                Some(n) => format!("{r} (\"{n}\")"),
                None => r.to_string(),
            }));
            OrgLink::Ambiguous {
                why: format!(
                    "\"{}\" matches \"{account}\" by {}, and so does organization {others}; kept as its own account, not merged",
                    rec.name,
                    how.label()
                ),
            }
        }
    })
}

/// "a, b and 3 more".
fn list(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    match all.len() {
        0..=3 => all.join(", "),
        n => format!("{} and {} more", all[..3].join(", "), n - 3),
    }
}
