//! Zendesk Support API v2: organizations come from the time-based
//! incremental export and are matched to accounts (or kept as accounts of
//! their own) by `relink`; users and tickets come from the cursor-based
//! incremental exports, tickets with their metric sets for the last
//! customer and agent activity. A ticket or user naming an organization
//! the cache does not know yet has it fetched first, so nothing is skipped
//! for arriving before its organization.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::http::{Client, SyncError};
use super::hubspot::urlencode;
use super::paging::PageGuard;
use super::ratelimit::RateLimiter;
use super::relink::{rematch, Rematch};
use super::{ObjectReport, Progress, Skipped};
use crate::domain::rating::Verdict;
use crate::domain::{AccountId, Contact, OrgLink, OrgRecord, Team, Ticket, TicketPriority, TicketStatus, UserRecord};
use crate::engine::ingest::{self, IncomingRating, Page};
use crate::engine::writer::Writer;
use crate::store::{FollowUpRules, Store};

/// ARR at or above which an account counts as high-value for follow-ups.
pub const HIGH_VALUE_ARR: u64 = 100_000;

const ORGS: &str = "organizations";
const TICKETS: &str = "tickets";
const USERS: &str = "users";

/// Organizations per page of the time-based export (its maximum).
const ORG_PAGE: usize = 1000;
/// Ids per request of the "show many" endpoints.
const SHOW_MANY: usize = 100;

/// A page of the time-based organization export.
#[derive(Debug, Deserialize)]
struct OrgExportPage {
    // Each record is parsed on its own so one bad record cannot sink the page.
    organizations: Vec<Box<RawValue>>,
    #[serde(default)]
    end_time: Option<i64>,
    #[serde(default)]
    end_of_stream: bool,
}

/// The answer of "show many organizations".
#[derive(Debug, Deserialize)]
struct OrgList {
    organizations: Vec<Box<RawValue>>,
}

/// An organization, typed: only the fields Cockpit reads.
#[derive(Debug, Clone, Deserialize)]
struct ZOrg {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    domain_names: Vec<String>,
    #[serde(default)]
    external_id: Option<Value>,
    #[serde(default)]
    created_at: Option<String>,
}

impl ZOrg {
    fn record(&self) -> OrgRecord {
        let external_id = match &self.external_id {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        OrgRecord {
            id: self.id,
            name: self.name.clone().unwrap_or_default(),
            domains: self.domain_names.clone(),
            external_id,
            created: parse_time(&self.created_at).map(|t| t.date_naive()),
            link: OrgLink::Unmatched,
        }
    }
}

#[derive(Debug, Deserialize)]
struct TicketPage {
    // Each record is parsed on its own so one bad record cannot sink the page.
    tickets: Vec<Box<RawValue>>,
    #[serde(default)]
    metric_sets: Vec<Box<RawValue>>,
    after_cursor: Option<String>,
    end_of_stream: bool,
    /// The tickets, each parsed once (see `ExportPage::prepare`), in the
    /// page's order: a ticket that is not what Zendesk documents is the
    /// reason it is skipped.
    #[serde(skip)]
    parsed: Vec<Result<ZTicket, Skipped>>,
    /// The metric sets by ticket.
    #[serde(skip)]
    metrics: HashMap<u64, ZMetrics>,
    /// The organizations the tickets name (a skipped one's too, as read
    /// from the raw record), sorted.
    #[serde(skip)]
    named: Vec<u64>,
}

/// Where the organization export stands: the next `start_time` (epoch s).
/// A cursor of the list pass older versions stored does not parse, so the
/// first run after an upgrade reads every organization once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgCursor {
    start_time: i64,
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
    /// Records on the page.
    fn len(&self) -> usize;
    /// The organizations its records name.
    fn orgs(&self) -> Vec<u64>;
    /// Work done as soon as the page arrives, while the one before it is
    /// still being written (parsing its records once).
    fn prepare(&mut self) {}
}

/// Organization ids named by raw records (`organization_id`).
fn named_orgs(records: &[Box<RawValue>]) -> Vec<u64> {
    #[derive(Deserialize)]
    struct Named {
        #[serde(default)]
        organization_id: Option<u64>,
    }
    let mut ids: Vec<u64> = records
        .iter()
        .filter_map(|r| serde_json::from_str::<Named>(r.get()).ok().and_then(|n| n.organization_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl ExportPage for TicketPage {
    fn after_cursor(&self) -> Option<String> {
        self.after_cursor.clone()
    }
    fn end_of_stream(&self) -> bool {
        self.end_of_stream
    }
    fn len(&self) -> usize {
        self.tickets.len().max(self.parsed.len())
    }
    fn orgs(&self) -> Vec<u64> {
        if self.tickets.is_empty() {
            return self.named.clone();
        }
        named_orgs(&self.tickets)
    }
    fn prepare(&mut self) {
        // The raw records go once parsed (so a second call does nothing).
        let raw = std::mem::take(&mut self.tickets);
        for r in &raw {
            let parsed = parse_one::<ZTicket>(r, "ticket");
            let org = match &parsed {
                Ok(t) => t.organization_id,
                Err(_) => named_orgs(std::slice::from_ref(r)).first().copied(),
            };
            self.named.extend(org);
            self.parsed.push(parsed);
        }
        self.named.sort_unstable();
        self.named.dedup();
        let metrics = std::mem::take(&mut self.metric_sets);
        self.metrics.extend(
            metrics.iter().filter_map(|m| serde_json::from_str::<ZMetrics>(m.get()).ok()).map(|m| (m.ticket_id, m)),
        );
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
    fn len(&self) -> usize {
        self.users.len()
    }
    fn orgs(&self) -> Vec<u64> {
        named_orgs(&self.users)
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

/// A ticket's `satisfaction_rating`: `{id, score, comment, reason...}`
/// once rated ("good" / "bad"), or just a `score` of "offered" /
/// "unoffered" before.
#[derive(Debug, Clone, Deserialize)]
struct ZRating {
    #[serde(default)]
    score: Option<String>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

/// A ticket's rating, when the customer gave one.
fn rating(rec: &ZTicket) -> Option<IncomingRating> {
    let r = rec.satisfaction_rating.as_ref()?;
    let verdict = match r.score.as_deref()? {
        s if s.starts_with("good") => Verdict::Good,
        s if s.starts_with("bad") => Verdict::Bad,
        _ => return None,
    };
    Some(IncomingRating {
        id: r.id.unwrap_or(0),
        verdict,
        comment: r.comment.clone().unwrap_or_default().trim().chars().take(2_000).collect(),
        at: parse_time(&r.created_at),
    })
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

/// Syncs one Zendesk source.
pub struct DeskSync<'a> {
    client: &'a Client,
    store: &'a Store,
    writer: &'a Writer,
    now: DateTime<Utc>,
    crm_sources: &'a [String],
    /// Every configured source (id maps that may point at moved records).
    all_sources: &'a [String],
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// The incremental exports have a limit of their own.
    export_limit: std::sync::Arc<RateLimiter>,
    /// Organization id -> account, for the run.
    org_accounts: std::sync::Mutex<HashMap<u64, AccountId>>,
    /// Organizations asked for and not found at the desk, for the run:
    /// their records are skipped without asking again.
    missing_orgs: std::sync::Mutex<std::collections::HashSet<u64>>,
}

impl<'a> DeskSync<'a> {
    /// A sync; `crm_sources` are the CRM sources whose accounts
    /// organizations are matched to (and whose ids an organization's
    /// `external_id` may carry), `all_sources` every configured source.
    pub fn new(
        client: &'a Client,
        writer: &'a Writer,
        now: DateTime<Utc>,
        crm_sources: &'a [String],
        all_sources: &'a [String],
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        let store = writer.store();
        let exports = client.source().exports_per_minute as usize;
        DeskSync {
            client,
            store,
            writer,
            now,
            crm_sources,
            all_sources,
            progress,
            export_limit: RateLimiter::new(exports, Duration::from_secs(60)).into(),
            org_accounts: Default::default(),
            missing_orgs: Default::default(),
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
        self.organizations(full, reports.last_mut().expect("pushed")).await?;
        reports.push(ObjectReport::new(USERS));
        self.users(full, reports.last_mut().expect("pushed")).await?;
        reports.push(ObjectReport::new(TICKETS));
        self.tickets(full, reports.last_mut().expect("pushed")).await
    }

    /// Reads the organizations changed since the last run (all of them on
    /// the first run and with `full`), then matches every known
    /// organization again: new ones, changed ones, and those whose CRM
    /// account arrived or changed since.
    async fn organizations(&self, full: bool, report: &mut ObjectReport) -> Result<(), SyncError> {
        let stored: Option<OrgCursor> = match full {
            true => None,
            false => self.store.cursor(self.source(), ORGS)?.and_then(|c| serde_json::from_slice(&c).ok()),
        };
        // The export serves nothing from the last minute and refuses a
        // start inside it: start a little earlier (what comes twice is
        // recognised as unchanged).
        let latest = self.now.timestamp() - 61;
        let mut start = stored.map_or(0, |c| c.start_time).clamp(0, latest.max(0));
        let mut guard = PageGuard::new(ORG_PAGE);
        loop {
            self.export_limit.acquire().await;
            let path = format!("/api/v2/incremental/organizations.json?start_time={start}&per_page={ORG_PAGE}");
            let page: OrgExportPage = self.client.get(&path).await?;
            let end = page.end_time.unwrap_or(start);
            let done = page.end_of_stream;
            if !done && end <= start {
                let detail = format!("the export's end_time stayed at {start} while it said more was to come");
                return Err(self.client.runaway(ORGS, detail));
            }
            let records: Vec<OrgRecord> = page
                .organizations
                .iter()
                .filter_map(|raw| parse_record::<ZOrg>(raw, "organization", report))
                .map(|o| o.record())
                .collect();
            let cursor = serde_json::to_vec(&OrgCursor { start_time: end.max(start) }).expect("cursor serializes");
            let page = Page { source: self.source(), records: &records, removed: &[], cursor: Some((ORGS, &cursor)) };
            report.counts += self.writer.run(|s| ingest::orgs(s, &page))?;
            (self.progress)(Progress { source: self.source().to_string(), object: ORGS, done: report.seen() });
            if done {
                break;
            }
            guard.step(Some(&end.to_string()), records.len()).map_err(|d| self.client.runaway(ORGS, d))?;
            start = end;
        }
        self.relink(report)
    }

    /// Matches every organization again and notes what moved.
    fn relink(&self, report: &mut ObjectReport) -> Result<(), SyncError> {
        let r = rematch(self.writer, self.source(), self.crm_sources, self.all_sources, self.now.date_naive())?;
        note_rematch(&r, report);
        report.ambiguous = r.ambiguous;
        report.unmatched = r.unmatched;
        self.org_accounts.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(())
    }

    /// Fetches organizations the records of a page name but the cache does
    /// not know yet (created since the organization pass read, or inside
    /// its last minute), then matches them, so their records can land.
    async fn ensure_orgs(&self, ids: &[u64], report: &mut ObjectReport) -> Result<(), SyncError> {
        let mut missing = Vec::new();
        for id in ids {
            let asked = self.missing_orgs.lock().unwrap_or_else(|p| p.into_inner()).contains(id);
            if !asked && self.org_account(*id)?.is_none() {
                missing.push(*id);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let mut fetched = 0;
        for chunk in missing.chunks(SHOW_MANY) {
            let ids: Vec<String> = chunk.iter().map(u64::to_string).collect();
            let path = format!("/api/v2/organizations/show_many.json?ids={}", ids.join(","));
            let list: OrgList = self.client.get(&path).await?;
            let mut scratch = ObjectReport::new(ORGS);
            let records: Vec<OrgRecord> = list
                .organizations
                .iter()
                .filter_map(|raw| parse_record::<ZOrg>(raw, "organization", &mut scratch))
                .map(|o| o.record())
                .collect();
            fetched += records.len();
            let found: std::collections::HashSet<u64> = records.iter().map(|r| r.id).collect();
            self.missing_orgs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(chunk.iter().filter(|i| !found.contains(i)));
            let page = Page { source: self.source(), records: &records, removed: &[], cursor: None };
            self.writer.run(|s| ingest::orgs(s, &page))?;
            report.notes.extend(scratch.skipped.into_iter().map(|s| format!("organization {}: {}", s.id, s.reason)));
        }
        if fetched > 0 {
            let r = rematch(self.writer, self.source(), self.crm_sources, self.all_sources, self.now.date_naive())?;
            tracing::info!(
                source = self.source(),
                fetched,
                created = r.created,
                "organizations fetched for their records"
            );
            self.org_accounts.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        Ok(())
    }

    /// Reads one cursor-based incremental export (`tickets`, `users`) from
    /// its stored cursor (or from the start), page by page; `land` maps
    /// and commits each page with the cursor that follows it. Follow-up
    /// requests are built from `after_cursor`, never from `after_url`.
    /// The end is `end_of_stream` (where Zendesk hands back the cursor it
    /// was given); a cursor that repeats before the end, or empty pages
    /// that go on, stop the run with an error.
    async fn export<P: DeserializeOwned + ExportPage + Send + 'static>(
        &self,
        object: &str,
        include: &str,
        full: bool,
        report: &mut ObjectReport,
        mut land: impl FnMut(P, &[u8], &mut ObjectReport) -> Result<(), SyncError>,
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
                let mut page = client.get::<P>(&path).await?;
                page.prepare();
                Ok(page)
            }
        };
        let mut guard = PageGuard::new(1000);
        let mut page = fetch(cursor.cursor.clone()).await?;
        loop {
            let next = page.after_cursor();
            let done = page.end_of_stream() || next.is_none();
            if !done {
                let repeated = next == cursor.cursor;
                let step = guard.step(next.as_deref(), page.len());
                if repeated || step.is_err() {
                    let detail = step.err().unwrap_or_else(|| "it handed back the cursor it was given".into());
                    return Err(self.client.runaway(object, detail));
                }
            }
            if next.is_some() {
                cursor.cursor = next;
            }
            // Records naming an organization the cache does not know yet
            // wait for it, rather than be skipped for good.
            let orgs = page.orgs();
            self.ensure_orgs(&orgs, report).await?;
            let bytes = serde_json::to_vec(&cursor).expect("cursor serializes");
            let following = (!done).then(|| fetch(cursor.cursor.clone()));
            match super::overlap(following, || land(page, &bytes, report)).await? {
                Some(p) => page = p,
                None => return Ok(()),
            }
        }
    }

    async fn tickets(&self, full: bool, report: &mut ObjectReport) -> Result<(), SyncError> {
        self.export(TICKETS, "&include=metric_sets", full, report, |page: TicketPage, cursor, report| {
            self.land_tickets(page, cursor, report)
        })
        .await
    }

    fn land_tickets(&self, mut page: TicketPage, cursor: &[u8], report: &mut ObjectReport) -> Result<(), SyncError> {
        let mut upserts = Vec::new();
        let mut deletions = Vec::new();
        let mut ratings = Vec::new();
        page.prepare();
        let metrics_by_ticket = &page.metrics;
        for parsed in page.parsed {
            let rec = match parsed {
                Ok(rec) => rec,
                Err(skipped) => {
                    report.skipped.push(skipped);
                    continue;
                }
            };
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
                    Some(o) => format!("its organization {o} does not exist at Zendesk (deleted?)"),
                    None => "it has no organization".to_string(),
                };
                report.skipped.push(Skipped { id: rec.id.to_string(), reason });
                continue;
            };
            match ticket(&rec, metrics_by_ticket.get(&rec.id), account) {
                Ok(Some(t)) => {
                    ratings.push(rating(&rec));
                    upserts.push((t, rec.organization_id));
                }
                Ok(None) => {}
                Err(reason) => report.skipped.push(Skipped { id: rec.id.to_string(), reason }),
            }
        }
        // Before the page's cursor moves: a stop in between reads it again.
        let rated: Vec<_> = upserts.iter().map(|(t, _)| t).zip(ratings).collect();
        let raised = self.writer.run(|s| ingest::ticket_ratings(s, &rated, &deletions, self.now))?;
        if raised > 0 {
            const NOTE: &str = " bad rating(s) from customers: a follow-up each in the queue";
            let before = report.notes.iter().position(|n| n.ends_with(NOTE));
            let seen = before.map_or(0, |i| report.notes.remove(i).trim_end_matches(NOTE).parse::<u64>().unwrap_or(0));
            report.notes.push(format!("{}{NOTE}", seen + raised));
        }
        let rules = FollowUpRules { now: self.now, high_value_arr: HIGH_VALUE_ARR };
        report.counts += self.writer.run(|s| {
            ingest::tickets(
                s,
                &Page {
                    source: self.source(),
                    records: &upserts,
                    removed: &deletions,
                    cursor: Some((TICKETS, cursor)),
                },
                Some(rules),
            )
        })?;
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
        self.export(USERS, "", full, report, |page: UserPage, cursor, report| {
            let mut contacts: Vec<Contact> = Vec::new();
            let mut removed = Vec::new();
            let mut records = Vec::new();
            for raw in &page.users {
                let Some(user) = parse_record::<ZUser>(raw, "user", report) else { continue };
                let id = user_contact_id(user.id);
                let email = user.email.clone().unwrap_or_default();
                // Every user is remembered by name: tickets name their requester by id.
                let name = user.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_default();
                let title = user.details.clone().unwrap_or_default();
                let contact = user.active && user.role == "end-user" && user.organization_id.is_some();
                records.push((
                    user.id,
                    UserRecord { name: name.clone(), email: email.clone(), org: user.organization_id, title, contact },
                ));
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
                    let reason = format!("its organization {org} does not exist at Zendesk (deleted?)");
                    report.skipped.push(Skipped { id: user.id.to_string(), reason });
                    continue;
                };
                let known = !email.is_empty()
                    && self.store.contacts(account)?.iter().any(|c| c.id != id && c.email.eq_ignore_ascii_case(&email));
                if known {
                    report.counts.unchanged += 1;
                    continue;
                }
                let name = if name.is_empty() { email.clone() } else { name };
                let title = user.details.unwrap_or_default();
                contacts.push(Contact { id, account_id: account, name, email, title, key_person: false });
            }
            report.counts += self.writer.run(|s| {
                ingest::users(
                    s,
                    &records,
                    &Page {
                        source: self.source(),
                        records: &contacts,
                        removed: &removed,
                        cursor: Some((USERS, cursor)),
                    },
                )
            })?;
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

/// Notes on what matching the organizations again moved, for the summary.
pub fn note_rematch(r: &Rematch, report: &mut ObjectReport) {
    if r.merged > 0 {
        report.notes.push(format!(
            "{} support organization{} merged into the CRM account that now matches (tickets, people, timeline and follow-ups moved)",
            r.merged,
            if r.merged == 1 { "" } else { "s" }
        ));
    }
    if r.moved > 0 {
        report.notes.push(format!(
            "{} organization(s) moved to the account that now matches them (or to one of their own)",
            r.moved
        ));
    }
    if r.tickets_moved > 0 {
        report.notes.push(format!("{} ticket(s) moved with their organization", r.tickets_moved));
    }
}

/// A Zendesk user's contact id: tagged so it never meets a CRM contact's.
pub fn user_contact_id(user: u64) -> u64 {
    (1 << 60) | (user & ((1 << 60) - 1))
}

/// The Zendesk user a contact id was made from, if it was made from one.
pub fn desk_user_of(contact: u64) -> Option<u64> {
    let user = contact & ((1 << 60) - 1);
    (user_contact_id(user) == contact).then_some(user)
}

/// Parses one exported record on its own; one that is not what Zendesk
/// documents is skipped and reported by its `id`, and the page goes on.
fn parse_record<T: DeserializeOwned>(raw: &RawValue, what: &str, report: &mut ObjectReport) -> Option<T> {
    parse_one(raw, what).map_err(|s| report.skipped.push(s)).ok()
}

/// Parses one exported record; the error is why it is skipped.
fn parse_one<T: DeserializeOwned>(raw: &RawValue, what: &str) -> Result<T, Skipped> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let id = serde_json::from_str::<Value>(raw.get())
            .ok()
            .and_then(|v| v.get("id").map(|i| i.to_string()))
            .unwrap_or_else(|| "?".into());
        Skipped { id, reason: format!("not a {what} as documented ({e})") }
    })
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
