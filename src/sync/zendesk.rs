//! Zendesk Support API v2: organizations become (or are matched to)
//! accounts; tickets come from the cursor-based incremental export, with
//! their metric sets for the last customer and agent activity.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::http::{Client, SyncError};
use super::hubspot::urlencode;
use super::matching::{Candidates, Match};
use super::ratelimit::RateLimiter;
use super::{ObjectReport, Progress, Skipped};
use crate::domain::{Account, AccountId, Contact, Segment, Stage, Team, Ticket, TicketPriority, TicketStatus};
use crate::store::{FollowUpRules, Store};

/// ARR at or above which an account counts as high-value for follow-ups.
pub const HIGH_VALUE_ARR: u64 = 100_000;

const ORGS: &str = "organizations";
const TICKETS: &str = "tickets";
const USERS: &str = "users";

#[derive(Debug, Deserialize)]
struct OrgPage {
    organizations: Vec<Value>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    #[serde(default)]
    has_more: bool,
    after_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TicketPage {
    // Each record is parsed on its own so one bad record cannot sink the page.
    tickets: Vec<Box<RawValue>>,
    #[serde(default)]
    metric_sets: Vec<Box<RawValue>>,
    after_cursor: Option<String>,
    end_of_stream: bool,
}

/// Where the organizations pass stands (a full pass per sync, resumable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct OrgCursor {
    after: Option<String>,
}

/// Where an incremental export stands: the export's own cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ExportCursor {
    cursor: Option<String>,
}

/// What every incremental export page says about what follows it.
trait ExportPage {
    fn after_cursor(&self) -> Option<String>;
    fn end_of_stream(&self) -> bool;
}

impl ExportPage for TicketPage {
    fn after_cursor(&self) -> Option<String> {
        self.after_cursor.clone()
    }
    fn end_of_stream(&self) -> bool {
        self.end_of_stream
    }
}

#[derive(Debug, Deserialize)]
struct UserPage {
    users: Vec<Box<RawValue>>,
    after_cursor: Option<String>,
    end_of_stream: bool,
}

impl ExportPage for UserPage {
    fn after_cursor(&self) -> Option<String> {
        self.after_cursor.clone()
    }
    fn end_of_stream(&self) -> bool {
        self.end_of_stream
    }
}

/// An exported user, typed: only the fields Cockpit reads.
#[derive(Debug, Clone, Deserialize)]
struct ZUser {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organization_id: Option<u64>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    details: Option<String>,
}

fn yes() -> bool {
    true
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// An exported ticket, typed: only the fields Cockpit reads are parsed.
#[derive(Debug, Clone, Deserialize)]
pub struct ZTicket {
    id: u64,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    raw_subject: Option<String>,
    status: String,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    organization_id: Option<u64>,
    #[serde(default)]
    requester_id: Option<u64>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    satisfaction_rating: Option<ZRating>,
}

#[derive(Debug, Clone, Deserialize)]
struct ZRating {
    #[serde(default)]
    score: Option<String>,
}

/// A ticket's metric set: when the requester and the assignee last acted.
#[derive(Debug, Clone, Deserialize)]
pub struct ZMetrics {
    ticket_id: u64,
    #[serde(default)]
    requester_updated_at: Option<String>,
    #[serde(default)]
    assignee_updated_at: Option<String>,
}

fn parse_time(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// Maps one exported ticket; `None` means the ticket was deleted.
pub fn ticket(rec: &ZTicket, metrics: Option<&ZMetrics>, account: AccountId) -> Result<Option<Ticket>, String> {
    let status = match rec.status.as_str() {
        "new" => TicketStatus::New,
        "open" => TicketStatus::Open,
        "pending" => TicketStatus::Pending,
        "hold" => TicketStatus::Hold,
        "solved" => TicketStatus::Solved,
        "closed" => TicketStatus::Closed,
        "deleted" => return Ok(None),
        other => return Err(format!("status \"{other}\" is not a Zendesk status")),
    };
    let priority = match rec.priority.as_deref() {
        Some("urgent") => TicketPriority::Urgent,
        Some("high") => TicketPriority::High,
        Some("low") => TicketPriority::Low,
        _ => TicketPriority::Normal,
    };
    let has = |t: &str| rec.tags.iter().any(|x| x == t);
    let bug = rec.kind.as_deref() == Some("problem") || has("bug");
    let team = if bug || has("development") || has("feature_request") {
        Team::Development
    } else if has("sales") || has("pricing") || has("billing") {
        Team::Sales
    } else if has("marketing") {
        Team::Marketing
    } else {
        Team::Unassigned
    };
    let created_at = parse_time(&rec.created_at).ok_or("created_at is missing or not a time")?;
    let updated_at = parse_time(&rec.updated_at).unwrap_or(created_at);
    let satisfaction_bad = rec.satisfaction_rating.as_ref().and_then(|r| r.score.as_deref()) == Some("bad");
    Ok(Some(Ticket {
        id: rec.id,
        account_id: account,
        subject: rec.subject.clone().or_else(|| rec.raw_subject.clone()).unwrap_or_else(|| "(no subject)".into()),
        status,
        priority,
        team,
        requester: rec.requester_id.map(|r| format!("user {r}")).unwrap_or_default(),
        created_at,
        updated_at,
        last_customer_reply: metrics.and_then(|m| parse_time(&m.requester_updated_at)),
        last_agent_reply: metrics.and_then(|m| parse_time(&m.assignee_updated_at)),
        // Zendesk does not say whether the customer opened our reply.
        seen_by_customer: false,
        complex: has("complex"),
        frustrated: has("frustrated") || satisfaction_bad,
        bug,
        escalated: has("escalated"),
        follow_ups_sent: 0,
    }))
}

/// An organization turned into an account of its own (when it matches no CRM account).
fn org_account(rec: &Value, id: AccountId, today: NaiveDate) -> Account {
    let name = rec.get("name").and_then(Value::as_str).unwrap_or("(unnamed organization)").to_string();
    let domain = rec.pointer("/domain_names/0").and_then(Value::as_str).unwrap_or("").to_string();
    let created = time(&rec["created_at"]).map(|t| t.date_naive()).unwrap_or(today);
    Account {
        id,
        name,
        domain,
        segment: Segment::Smb,
        industry: String::new(),
        region: String::new(),
        owner: String::new(),
        plan: String::new(),
        seats: 0,
        arr: 0,
        contract_start: created,
        renewal_date: created + chrono::Months::new(12),
        stage: Stage::Adoption,
        key_people: vec![],
        outcome: None,
    }
}

/// Syncs one Zendesk source.
pub struct DeskSync<'a> {
    client: &'a Client,
    store: &'a Store,
    now: DateTime<Utc>,
    crm_sources: &'a [String],
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// The incremental exports have a limit of their own.
    export_limit: std::sync::Arc<RateLimiter>,
    /// Organization id -> account, for the run.
    org_accounts: std::sync::Mutex<HashMap<u64, AccountId>>,
}

impl<'a> DeskSync<'a> {
    /// A sync; `crm_sources` are the CRM sources whose ids an
    /// organization's `external_id` may carry.
    pub fn new(
        client: &'a Client,
        store: &'a Store,
        now: DateTime<Utc>,
        crm_sources: &'a [String],
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        let exports = client.source().exports_per_minute as usize;
        DeskSync {
            client,
            store,
            now,
            crm_sources,
            progress,
            export_limit: RateLimiter::new(exports, Duration::from_secs(60)).into(),
            org_accounts: Default::default(),
        }
    }

    fn source(&self) -> &str {
        &self.client.source().name
    }

    /// Organizations first (users and tickets need their accounts), then
    /// users, then tickets, adding a report per type to `reports`; an error
    /// stops the run (what was committed stays).
    pub async fn run(&self, full: bool, reports: &mut Vec<ObjectReport>) -> Result<(), SyncError> {
        reports.push(ObjectReport::new(ORGS));
        self.organizations(reports.last_mut().expect("pushed")).await?;
        reports.push(ObjectReport::new(USERS));
        self.users(full, reports.last_mut().expect("pushed")).await?;
        reports.push(ObjectReport::new(TICKETS));
        self.tickets(full, reports.last_mut().expect("pushed")).await
    }

    async fn organizations(&self, report: &mut ObjectReport) -> Result<(), SyncError> {
        // Streamed: the index keeps what matching needs, not whole accounts.
        let mut candidates = Candidates::default();
        for a in self.store.accounts() {
            candidates.add(&a?);
        }
        let mut cursor: OrgCursor =
            self.store.cursor(self.source(), ORGS)?.and_then(|c| serde_json::from_slice(&c).ok()).unwrap_or_default();
        let fetch = |after: Option<String>| {
            let mut path = String::from("/api/v2/organizations.json?page%5Bsize%5D=100");
            if let Some(a) = after {
                path.push_str(&format!("&page%5Bafter%5D={}", urlencode(&a)));
            }
            let client = self.client.clone();
            async move { client.get::<OrgPage>(&path).await }
        };
        let mut page = fetch(cursor.after.clone()).await?;
        loop {
            let more = page.meta.as_ref().is_some_and(|m| m.has_more);
            cursor =
                OrgCursor { after: if more { page.meta.as_ref().and_then(|m| m.after_cursor.clone()) } else { None } };
            let following = cursor.after.clone().map(|a| fetch(Some(a)));
            let bytes = serde_json::to_vec(&cursor).expect("cursor serializes");
            match super::overlap(following, || self.land_orgs(&page, &mut candidates, &bytes, report)).await? {
                Some(p) => page = p,
                None => return Ok(()),
            }
        }
    }

    /// Matches one page of organizations to accounts (or creates theirs)
    /// and commits it with the cursor.
    fn land_orgs(
        &self,
        page: &OrgPage,
        candidates: &mut Candidates,
        cursor: &[u8],
        report: &mut ObjectReport,
    ) -> Result<(), SyncError> {
        let today = self.now.date_naive();
        let mut creates: Vec<(String, Account)> = Vec::new();
        let mut links: Vec<(String, AccountId)> = Vec::new();
        for rec in &page.organizations {
            let Some(id) = rec.get("id").and_then(Value::as_u64) else {
                report.skipped.push(Skipped { id: "?".into(), reason: "an organization without a numeric id".into() });
                continue;
            };
            let ext = format!("org/{id}");
            if self.store.external_id(self.source(), &ext)?.is_some() {
                report.counts.unchanged += 1;
                continue;
            }
            let name = rec.get("name").and_then(Value::as_str).unwrap_or("");
            let domains: Vec<String> = rec
                .get("domain_names")
                .and_then(Value::as_array)
                .map_or(vec![], |d| d.iter().filter_map(Value::as_str).map(str::to_string).collect());
            let by_ext = match rec.get("external_id").and_then(Value::as_str) {
                Some(x) => self.crm_sources.iter().find_map(|s| self.store.external_id(s, x).ok().flatten()),
                None => None,
            };
            match candidates.find(by_ext, &domains, name) {
                Match::Found(acc, how) => {
                    tracing::debug!(org = id, account = acc.0, how, "organization matched");
                    links.push((ext, acc));
                    report.counts.updated += 1;
                }
                other => {
                    let why = match other {
                        Match::Ambiguous(ids, how) => format!(
                            "\"{name}\" matches {} accounts by {how}; kept as its own account, not merged",
                            ids.len()
                        ),
                        _ => format!("\"{name}\" matches no CRM account; kept as its own account"),
                    };
                    report.unmatched.push(Skipped { id: id.to_string(), reason: why });
                    let account = org_account(rec, AccountId(self.store.next_id()? + 1), today);
                    candidates.add(&account);
                    creates.push((ext, account));
                }
            }
        }
        let counts = self.store.ingest_accounts(self.source(), &creates, &links, &[], Some((ORGS, cursor)))?;
        report.counts.added += counts.added;
        (self.progress)(Progress { source: self.source().to_string(), object: ORGS, done: report.seen() });
        Ok(())
    }

    /// Reads one cursor-based incremental export (`tickets`, `users`) from
    /// its stored cursor (or from the start), page by page; `land` maps
    /// and commits each page with the cursor that follows it. Follow-up
    /// requests are built from `after_cursor`, never from `after_url`, and
    /// a cursor that repeats ends the run.
    async fn export<P: DeserializeOwned + ExportPage + Send + 'static>(
        &self,
        object: &str,
        include: &str,
        full: bool,
        mut land: impl FnMut(P, &[u8]) -> Result<(), SyncError>,
    ) -> Result<(), SyncError> {
        let mut cursor: ExportCursor = match full {
            true => ExportCursor::default(),
            false => self
                .store
                .cursor(self.source(), object)?
                .and_then(|c| serde_json::from_slice(&c).ok())
                .unwrap_or_default(),
        };
        let fetch = |cursor: Option<String>| {
            let path = match cursor {
                Some(c) => format!("/api/v2/incremental/{object}/cursor.json?cursor={}{include}", urlencode(&c)),
                None => format!("/api/v2/incremental/{object}/cursor.json?start_time=0{include}"),
            };
            let (client, limit) = (self.client.clone(), self.export_limit.clone());
            async move {
                limit.acquire().await;
                client.get::<P>(&path).await
            }
        };
        let mut page = fetch(cursor.cursor.clone()).await?;
        loop {
            let next = page.after_cursor();
            let repeated = next.is_some() && next == cursor.cursor;
            let done = page.end_of_stream() || repeated || next.is_none();
            if next.is_some() {
                cursor.cursor = next;
            }
            let bytes = serde_json::to_vec(&cursor).expect("cursor serializes");
            let following = (!done).then(|| fetch(cursor.cursor.clone()));
            match super::overlap(following, || land(page, &bytes)).await? {
                Some(p) => page = p,
                None => {
                    if repeated {
                        tracing::warn!(
                            source = self.source(),
                            object,
                            "the export repeated its cursor; stopping this run"
                        );
                    }
                    return Ok(());
                }
            }
        }
    }

    async fn tickets(&self, full: bool, report: &mut ObjectReport) -> Result<(), SyncError> {
        self.export(TICKETS, "&include=metric_sets", full, |page: TicketPage, cursor| {
            self.land_tickets(page, cursor, report)
        })
        .await
    }

    fn land_tickets(&self, page: TicketPage, cursor: &[u8], report: &mut ObjectReport) -> Result<(), SyncError> {
        let mut upserts = Vec::new();
        let mut deletions = Vec::new();
        let metrics_by_ticket: HashMap<u64, ZMetrics> = page
            .metric_sets
            .iter()
            .filter_map(|m| serde_json::from_str::<ZMetrics>(m.get()).ok())
            .map(|m| (m.ticket_id, m))
            .collect();
        for raw in &page.tickets {
            let Some(rec) = parse_record::<ZTicket>(raw, "ticket", report) else { continue };
            if rec.status == "deleted" {
                deletions.push(rec.id);
                continue;
            }
            let account = match rec.organization_id {
                Some(o) => self.org_account(o)?,
                None => None,
            };
            let Some(account) = account else {
                let reason = match rec.organization_id {
                    Some(o) => format!("its organization {o} is not in the cache"),
                    None => "it has no organization".to_string(),
                };
                report.skipped.push(Skipped { id: rec.id.to_string(), reason });
                continue;
            };
            match ticket(&rec, metrics_by_ticket.get(&rec.id), account) {
                Ok(Some(t)) => upserts.push(t),
                Ok(None) => {}
                Err(reason) => report.skipped.push(Skipped { id: rec.id.to_string(), reason }),
            }
        }
        report.counts += self.store.ingest_tickets(
            self.source(),
            &upserts,
            &deletions,
            Some((TICKETS, cursor)),
            Some(FollowUpRules { now: self.now, high_value_arr: HIGH_VALUE_ARR }),
        )?;
        (self.progress)(Progress { source: self.source().to_string(), object: TICKETS, done: report.seen() });
        Ok(())
    }

    /// The account an organization maps to. Found ones are remembered for
    /// the run (the organizations pass is over by then): a page of tickets
    /// names hundreds of organizations, again and again.
    fn org_account(&self, org: u64) -> Result<Option<AccountId>, SyncError> {
        let mut known = self.org_accounts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = known.get(&org) {
            return Ok(Some(*hit));
        }
        let hit = self.store.external_id(self.source(), &format!("org/{org}"))?;
        if let Some(acc) = hit {
            // Bounded: 16 bytes an entry, a million at most.
            if known.len() >= 1 << 20 {
                known.clear();
            }
            known.insert(org, acc);
        }
        Ok(hit)
    }

    /// End users become contacts of their organization's account; a
    /// deactivated or deleted user leaves it. Agents are not contacts, and
    /// a person the account already knows by email is not added twice.
    async fn users(&self, full: bool, report: &mut ObjectReport) -> Result<(), SyncError> {
        let mut without_org = 0u64;
        self.export(USERS, "", full, |page: UserPage, cursor| {
            let mut contacts: Vec<Contact> = Vec::new();
            let mut removed = Vec::new();
            for raw in &page.users {
                let Some(user) = parse_record::<ZUser>(raw, "user", report) else { continue };
                let id = user_contact_id(user.id);
                if !user.active {
                    removed.push(id);
                    continue;
                }
                if user.role != "end-user" {
                    continue;
                }
                let Some(org) = user.organization_id else {
                    without_org += 1;
                    continue;
                };
                let Some(account) = self.org_account(org)? else {
                    let reason = format!("its organization {org} is not in the cache");
                    report.skipped.push(Skipped { id: user.id.to_string(), reason });
                    continue;
                };
                let email = user.email.unwrap_or_default();
                let known = !email.is_empty()
                    && self.store.contacts(account)?.iter().any(|c| c.id != id && c.email.eq_ignore_ascii_case(&email));
                if known {
                    report.counts.unchanged += 1;
                    continue;
                }
                let name = user.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.clone());
                let title = user.details.unwrap_or_default();
                contacts.push(Contact { id, account_id: account, name, email, title, key_person: false });
            }
            report.counts += self.store.ingest_children(self.source(), &contacts, &removed, Some((USERS, cursor)))?;
            (self.progress)(Progress { source: self.source().to_string(), object: USERS, done: report.seen() });
            Ok(())
        })
        .await?;
        if without_org > 0 {
            report.notes.push(format!("{without_org} end users belong to no organization and were passed over"));
        }
        Ok(())
    }
}

/// A Zendesk user's contact id: tagged so it never meets a CRM contact's.
pub fn user_contact_id(user: u64) -> u64 {
    (1 << 60) | (user & ((1 << 60) - 1))
}

/// Parses one exported record on its own; one that is not what Zendesk
/// documents is skipped and reported by its `id`, and the page goes on.
fn parse_record<T: DeserializeOwned>(raw: &RawValue, what: &str, report: &mut ObjectReport) -> Option<T> {
    match serde_json::from_str(raw.get()) {
        Ok(r) => Some(r),
        Err(e) => {
            let id = serde_json::from_str::<Value>(raw.get())
                .ok()
                .and_then(|v| v.get("id").map(|i| i.to_string()))
                .unwrap_or_else(|| "?".into());
            report.skipped.push(Skipped { id, reason: format!("not a {what} as documented ({e})") });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_an_exported_ticket_with_its_metrics() {
        let rec = json!({
            "id": 35436, "subject": "Export fails", "status": "pending", "priority": "high", "type": "problem",
            "organization_id": 7, "requester_id": 99, "tags": ["frustrated", "complex"],
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-24T10:00:00Z"
        });
        let metrics = json!({"ticket_id": 35436, "requester_updated_at": "2026-11-21T09:00:00Z", "assignee_updated_at": "2026-11-24T10:00:00Z"});
        let rec: ZTicket = serde_json::from_value(rec).unwrap();
        let metrics: ZMetrics = serde_json::from_value(metrics).unwrap();
        let t = ticket(&rec, Some(&metrics), AccountId(3)).unwrap().unwrap();
        assert_eq!(
            (t.id, t.status, t.priority, t.team),
            (35436, TicketStatus::Pending, TicketPriority::High, Team::Development)
        );
        assert!(t.bug && t.frustrated && t.complex && !t.seen_by_customer);
        assert!(t.awaiting_customer());
        assert_eq!(t.requester, "user 99");
        let z = |v: Value| serde_json::from_value::<ZTicket>(v);
        assert_eq!(ticket(&z(json!({"id": 1, "status": "deleted"})).unwrap(), None, AccountId(3)).unwrap(), None);
        let archived = z(json!({"id": 1, "status": "archived", "created_at": "2026-01-01T00:00:00Z"})).unwrap();
        assert!(ticket(&archived, None, AccountId(3)).unwrap_err().contains("archived"));
        assert!(z(json!({"status": "open"})).is_err(), "a ticket without an id is not a ticket");
        assert!(ticket(&z(json!({"id": 2, "status": "open"})).unwrap(), None, AccountId(3))
            .unwrap_err()
            .contains("created_at"));
    }
}
