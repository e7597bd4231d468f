//! HubSpot CRM v3. Companies become accounts; contacts, deals and the
//! engagements (notes, calls, meetings, tasks, emails) land on the account
//! of their associated company, survey answers on the account of their
//! associated contact. Every object type syncs the same way: the
//! first pass pages the list endpoint with `after`; later passes search on
//! the last-modified date, tie-broken on `hs_object_id` so any number of
//! records sharing one timestamp can never loop or be skipped; archived
//! records leave the cache.

mod company;
mod records;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::http::{Client, SyncError};
use super::paging::PageGuard;
use super::ratelimit::RateLimiter;
use super::{ObjectReport, Progress, Skipped};
use crate::domain::{Account, AccountId, Activity, Deal};
use crate::engine::ingest::{self, IngestCounts};
use crate::engine::writer::Writer;
use crate::store::{Child, Store};
pub use company::{company, parse_segment, parse_stage, signals, Company, CompanySignals};
pub use records::{activity, activity_id, contact, deal, feedback, feedback_id, plain_text, Feedback};

/// Records per page (the API's maximum for lists and search is 100 / 200).
pub const PAGE: usize = 100;
/// Records per page of a list that asks for property history (HubSpot's cap).
pub const HISTORY_PAGE: usize = 50;
/// Records skipped by earlier runs read again per run, at most.
const RETRY_PER_RUN: usize = 1_000;
/// Margin for clock differences between us and the vendor.
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Deserialize)]
struct Page {
    results: Vec<Value>,
    #[serde(default)]
    paging: Option<Paging>,
    /// Search answers say how many records match.
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Paging {
    next: Option<Next>,
}

#[derive(Debug, Deserialize)]
struct Next {
    after: String,
}

/// Where the companies sync stands; stored with every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Cursor {
    /// A full sync in progress: the next `after`, and where the incremental
    /// pass will start once it is done.
    Full {
        /// Paging token of the next page (none = first page).
        after: Option<String>,
        /// Epoch ms shortly before the full sync started.
        newest: i64,
    },
    /// Caught up to (`modified`, `id`): next, records modified at exactly
    /// `modified` with a larger id, then anything modified later.
    Since {
        /// Epoch ms.
        modified: i64,
        /// Object id.
        id: u64,
    },
}

/// Parses a HubSpot property date: ISO date, ISO date-time or epoch ms.
pub fn parse_date(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if v.chars().all(|c| c.is_ascii_digit()) {
        return DateTime::from_timestamp_millis(v.parse().ok()?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// The HubSpot object types Cockpit reads, in the order a sync reads them:
/// companies first, since everything else hangs off a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Companies: the accounts.
    Companies,
    /// Contacts: the people at a customer.
    Contacts,
    /// Deals: renewals and expansions.
    Deals,
    /// Notes on the timeline.
    Notes,
    /// Calls on the timeline.
    Calls,
    /// Meetings on the timeline.
    Meetings,
    /// Tasks on the timeline.
    Tasks,
    /// Emails on the timeline.
    Emails,
    /// Survey answers (NPS, CSAT, CES): read-only, associated to contacts.
    FeedbackSubmissions,
}

impl Object {
    /// Every type, in sync order.
    pub const ALL: [Object; 9] = [
        Object::Companies,
        Object::Contacts,
        Object::Deals,
        Object::Notes,
        Object::Calls,
        Object::Meetings,
        Object::Tasks,
        Object::Emails,
        Object::FeedbackSubmissions,
    ];

    /// The API's name, used in paths, reports and cursor keys.
    pub fn name(self) -> &'static str {
        match self {
            Object::Companies => "companies",
            Object::Contacts => "contacts",
            Object::Deals => "deals",
            Object::Notes => "notes",
            Object::Calls => "calls",
            Object::Meetings => "meetings",
            Object::Tasks => "tasks",
            Object::Emails => "emails",
            Object::FeedbackSubmissions => "feedback_submissions",
        }
    }

    /// The last-modified property searches filter on (contacts predate the
    /// `hs_` prefix).
    fn modified_property(self) -> &'static str {
        match self {
            Object::Contacts => "lastmodifieddate",
            _ => "hs_lastmodifieddate",
        }
    }

    fn properties(self, client: &Client) -> Vec<String> {
        let fixed: &[&str] = match self {
            Object::Companies => return client.source().properties.requested(),
            Object::Contacts => &["firstname", "lastname", "email", "jobtitle"],
            Object::Deals => &[
                "dealname",
                "amount",
                "closedate",
                "dealstage",
                "dealtype",
                "pipeline",
                "hs_is_closed",
                "hs_is_closed_won",
            ],
            Object::Notes => &["hs_timestamp", "hs_note_body", "hubspot_owner_id"],
            Object::Calls => &["hs_timestamp", "hs_call_title", "hs_call_body", "hubspot_owner_id"],
            Object::Meetings => {
                &["hs_timestamp", "hs_meeting_title", "hs_meeting_body", "hs_meeting_start_time", "hubspot_owner_id"]
            }
            Object::Tasks => &["hs_timestamp", "hs_task_subject", "hs_task_body", "hs_task_status", "hubspot_owner_id"],
            Object::Emails => &["hs_timestamp", "hs_email_subject", "hs_email_direction", "hubspot_owner_id"],
            // `hs_value` carries the score; `hs_response_value` is asked too
            // for portals that send that name (an unknown one is ignored).
            Object::FeedbackSubmissions => &[
                "hs_survey_type",
                "hs_survey_name",
                "hs_value",
                "hs_response_value",
                "hs_content",
                "hs_submission_timestamp",
                "hs_contact_id",
            ],
        };
        fixed.iter().map(|s| s.to_string()).chain([self.modified_property().to_string()]).collect()
    }

    fn associated(self) -> bool {
        self.associated_with().is_some()
    }

    /// The object type a record hangs off: a company, or for survey
    /// answers the contact who answered.
    fn associated_with(self) -> Option<&'static str> {
        match self {
            Object::Companies => None,
            Object::FeedbackSubmissions => Some("contacts"),
            _ => Some("companies"),
        }
    }
}

/// A record's (last-modified epoch ms, numeric id), when it has both.
fn stamp(object: Object, rec: &Value) -> Option<(i64, u64)> {
    let id = rec.get("id")?.as_str()?.parse().ok()?;
    let modified = rec
        .pointer(&format!("/properties/{}", object.modified_property()))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| rec.get("updatedAt").and_then(Value::as_str))
        .and_then(parse_date)?;
    Some((modified.timestamp_millis(), id))
}

/// An answer of the v4 batch association read.
#[derive(Debug, Deserialize)]
struct AssociationPage {
    #[serde(default)]
    results: Vec<Association>,
}

#[derive(Debug, Deserialize)]
struct Association {
    from: AssociationFrom,
    #[serde(default)]
    to: Vec<AssociationTo>,
}

#[derive(Debug, Deserialize)]
struct AssociationFrom {
    id: String,
}

#[derive(Debug, Deserialize)]
struct AssociationTo {
    /// HubSpot's published spec types it as a string; answers may still carry a number.
    #[serde(rename = "toObjectId", deserialize_with = "object_id")]
    to_object_id: u64,
}

/// An object id given as a number or as a string of digits.
fn object_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(d)? {
        Id::Number(n) => Ok(n),
        Id::Text(s) => s.trim().parse().map_err(|_| serde::de::Error::custom(format!("not an object id: {s:?}"))),
    }
}

/// Syncs a HubSpot source into the store.
pub struct HubspotSync<'a> {
    /// The source's client.
    pub client: &'a Client,
    /// The workspace, for reads.
    pub store: &'a Store,
    /// Who writes every page.
    pub writer: &'a Writer,
    /// Today, for derived dates.
    pub today: NaiveDate,
    /// Progress reports.
    pub progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// Search calls are limited separately (a few per second).
    pub search_limit: RateLimiter,
}

impl<'a> HubspotSync<'a> {
    /// A sync with HubSpot's search limit (4 per second).
    pub fn new(
        client: &'a Client,
        writer: &'a Writer,
        today: NaiveDate,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        let (store, search_limit) = (writer.store(), RateLimiter::new(4, Duration::from_secs(1)));
        HubspotSync { client, store, writer, today, progress, search_limit }
    }

    fn source(&self) -> &str {
        &self.client.source().name
    }

    /// Syncs every object type in order, adding a report per type to
    /// `reports`. A type the token has no scope for (403) is noted and
    /// passed over; any other error stops the run (what was committed stays).
    pub async fn run(&self, full: bool, reports: &mut Vec<ObjectReport>) -> Result<(), SyncError> {
        for object in Object::ALL {
            let mut report = ObjectReport::new(object.name());
            let result = self.object(object, full, &mut report).await;
            match result {
                Err(SyncError::Unauthorized { status: 403, .. }) if object.associated() => {
                    report.notes.push(format!(
                        "not read: the token may not read {} (HTTP 403); add the scope crm.objects.{}.read to the private app",
                        object.name(),
                        object.name()
                    ));
                    reports.push(report);
                }
                Err(e) => {
                    reports.push(report);
                    return Err(e);
                }
                Ok(()) => reports.push(report),
            }
        }
        Ok(())
    }

    fn load_cursor(&self, object: Object) -> Result<Option<Cursor>, SyncError> {
        Ok(self.store.cursor(self.source(), object.name())?.and_then(|c| serde_json::from_slice(&c).ok()))
    }

    /// Runs a full pass (when asked, or when there is no cursor yet), then
    /// an incremental one, then removes archived records.
    async fn object(&self, object: Object, full: bool, report: &mut ObjectReport) -> Result<(), SyncError> {
        // Skipped by earlier runs (not this one): read again at the end.
        let waiting = self.store.skipped_records(self.source(), object.name(), RETRY_PER_RUN)?;
        let mut cursor = match self.load_cursor(object)? {
            Some(c @ Cursor::Full { .. }) => c, // resume an interrupted full pass
            Some(c) if !full => c,
            // Changes made while the full read runs are picked up by the
            // incremental pass that follows: it starts from before the start.
            _ => Cursor::Full { after: None, newest: Utc::now().timestamp_millis() - CLOCK_SKEW_MS },
        };
        if let Cursor::Full { .. } = cursor {
            cursor = self.full(object, cursor, report).await?;
        }
        if let Cursor::Since { modified, id } = cursor {
            self.incremental(object, modified, id, report).await?;
        }
        self.archived(object, report).await?;
        self.retry_skipped(object, &waiting, report).await
    }

    /// Reads again, by id, the records an earlier run skipped (a contact
    /// whose company was not in the cache yet, a company that could not be
    /// read): what lands now is forgotten, what is gone at HubSpot too,
    /// and what is still wrong waits for the next run. A record that was
    /// skipped is not lost just because it does not change again.
    async fn retry_skipped(
        &self,
        object: Object,
        waiting: &[String],
        report: &mut ObjectReport,
    ) -> Result<(), SyncError> {
        let source = self.source();
        if waiting.is_empty() {
            return Ok(());
        }
        let mut landed = 0;
        for chunk in waiting.chunks(PAGE) {
            let body = json!({
                "properties": object.properties(self.client),
                "inputs": chunk.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
            });
            let path = format!("/crm/v3/objects/{}/batch/read?archived=false", object.name());
            let page: Page = self.client.post(&path, &body).await?;
            let mut records = page.results;
            if object.associated() && !records.is_empty() {
                self.associate(object, &mut records).await?;
            }
            let mut again = ObjectReport::new(object.name());
            self.land(object, &records, &[], None, &mut again)?;
            let still: std::collections::HashSet<&str> = again.skipped.iter().map(|s| s.id.as_str()).collect();
            let done: Vec<String> = chunk.iter().filter(|id| !still.contains(id.as_str())).cloned().collect();
            landed += records
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str))
                .filter(|id| !still.contains(id))
                .count();
            self.writer.run(|s| s.forget_skipped(source, object.name(), &done))?;
            report.counts += again.counts;
            report.skipped.extend(again.skipped);
        }
        if landed > 0 {
            report.notes.push(format!("{landed} record(s) skipped by an earlier sync were read again and landed"));
        }
        Ok(())
    }

    /// The company properties whose history a full read asks for.
    fn history(&self, object: Object) -> Option<String> {
        let props = self.client.source().properties.with_history();
        (object == Object::Companies && !props.is_empty()).then(|| props.join(","))
    }

    fn list_path(&self, object: Object, properties: &str, archived: bool, after: Option<&str>) -> String {
        let history = if archived { None } else { self.history(object) };
        let limit = if history.is_some() { HISTORY_PAGE } else { PAGE };
        let mut path =
            format!("/crm/v3/objects/{}?limit={limit}&archived={archived}&properties={properties}", object.name());
        if let Some(h) = history {
            path.push_str(&format!("&propertiesWithHistory={h}"));
        }
        if let Some(to) = object.associated_with().filter(|_| !archived) {
            path.push_str(&format!("&associations={to}"));
        }
        if let Some(a) = after {
            path.push_str(&format!("&after={}", urlencode(a)));
        }
        path
    }

    async fn full(&self, object: Object, cursor: Cursor, report: &mut ObjectReport) -> Result<Cursor, SyncError> {
        let Cursor::Full { after, newest } = cursor else { return Ok(cursor) };
        let props = object.properties(self.client).join(",");
        let fetch = |after: Option<String>| {
            let path = self.list_path(object, &props, false, after.as_deref());
            let client = self.client.clone();
            async move { client.get::<Page>(&path).await }
        };
        let mut page = fetch(after).await?;
        let mut guard = PageGuard::new(if self.history(object).is_some() { HISTORY_PAGE } else { PAGE });
        loop {
            let next = page.paging.take().and_then(|p| p.next).map(|n| n.after);
            guard.step(next.as_deref(), page.results.len()).map_err(|d| self.client.runaway(object.name(), d))?;
            let cursor = match &next {
                Some(after) => Cursor::Full { after: Some(after.clone()), newest },
                // Caught up: later runs look for changes since just before
                // this full read began, so nothing changed during it is missed.
                None => Cursor::Since { modified: newest, id: 0 },
            };
            let following = next.map(|a| fetch(Some(a)));
            match super::overlap(following, || self.land(object, &page.results, &[], Some(&cursor), report)).await? {
                Some(p) => page = p,
                None => return Ok(cursor),
            }
        }
    }

    /// One search page (the first: paging is by the filters, never by
    /// `after`, so a page can never be skipped), with each record's
    /// company association filled in for the types that have one.
    async fn search(&self, object: Object, filters: Value, sort: &str) -> Result<(Vec<Value>, u64), SyncError> {
        self.search_limit.acquire().await;
        let body = json!({
            "filterGroups": [{ "filters": filters }],
            "sorts": [{ "propertyName": sort, "direction": "ASCENDING" }],
            "properties": object.properties(self.client),
            "limit": PAGE,
            "after": "0",
        });
        let page: Page = self.client.post(&format!("/crm/v3/objects/{}/search", object.name()), &body).await?;
        let total = page.total.unwrap_or(page.results.len() as u64);
        let mut records = page.results;
        if object.associated() && !records.is_empty() {
            self.associate(object, &mut records).await?;
        }
        Ok((records, total))
    }

    /// Search results carry no associations: read them in one batch.
    async fn associate(&self, object: Object, records: &mut [Value]) -> Result<(), SyncError> {
        let Some(to) = object.associated_with() else { return Ok(()) };
        let inputs: Vec<Value> =
            records.iter().filter_map(|r| r.get("id").cloned()).map(|id| json!({ "id": id })).collect();
        let path = format!("/crm/v4/associations/{}/{to}/batch/read", object.name());
        let page: AssociationPage = self.client.post(&path, &json!({ "inputs": inputs })).await?;
        let companies: HashMap<String, u64> =
            page.results.into_iter().filter_map(|a| Some((a.from.id, a.to.first()?.to_object_id))).collect();
        for rec in records.iter_mut() {
            let company = rec.get("id").and_then(Value::as_str).and_then(|id| companies.get(id));
            if let (Some(company), Some(obj)) = (company, rec.as_object_mut()) {
                obj.insert("associations".into(), json!({ to: { "results": [{ "id": company.to_string() }] } }));
            }
        }
        Ok(())
    }

    async fn incremental(
        &self,
        object: Object,
        mut modified: i64,
        mut id: u64,
        report: &mut ObjectReport,
    ) -> Result<(), SyncError> {
        let prop = object.modified_property();
        // Each search moves the position strictly forward, and the pages
        // stay within what the vendor's totals allow.
        let mut guard = PageGuard::new(PAGE);
        let runaway = |d: String| self.client.runaway(object.name(), d);
        loop {
            // Everything at exactly `modified`, in id order, past `id`.
            loop {
                let filters = json!([
                    { "propertyName": prop, "operator": "EQ", "value": modified.to_string() },
                    { "propertyName": "hs_object_id", "operator": "GT", "value": id.to_string() },
                ]);
                let (page, total) = self.search(object, filters, "hs_object_id").await?;
                let Some(last) = page.iter().filter_map(|r| stamp(object, r)).map(|(_, i)| i).max() else { break };
                if last <= id {
                    return Err(runaway(format!(
                        "a search for records after id {id} at {modified} answered id {last}, which is not after it"
                    )));
                }
                guard.expect_total(total);
                guard.step(Some(&format!("{modified}/{last}")), page.len()).map_err(runaway)?;
                id = last;
                self.land(object, &page, &[], Some(&Cursor::Since { modified, id }), report)?;
                if page.len() < PAGE {
                    break;
                }
            }
            // Then the next instant with changes.
            let filters = json!([{ "propertyName": prop, "operator": "GT", "value": modified.to_string() }]);
            let (page, total) = self.search(object, filters, prop).await?;
            let Some(newest) = page.iter().filter_map(|r| stamp(object, r)).map(|(m, _)| m).max() else {
                return Ok(());
            };
            if newest <= modified {
                return Err(runaway(format!(
                    "a search for records modified after {modified} answered one modified at {newest}"
                )));
            }
            guard.expect_total(total);
            guard.step(Some(&format!("{newest}/0")), page.len()).map_err(runaway)?;
            // Records at `newest` may continue on a later page: re-read that
            // instant by id (the loop above) rather than trust this page.
            let settled: Vec<Value> =
                page.into_iter().filter(|r| stamp(object, r).is_none_or(|(m, _)| m < newest)).collect();
            modified = newest;
            id = 0;
            self.land(object, &settled, &[], Some(&Cursor::Since { modified, id }), report)?;
        }
    }

    async fn archived(&self, object: Object, report: &mut ObjectReport) -> Result<(), SyncError> {
        let mut after: Option<String> = None;
        let mut guard = PageGuard::new(PAGE);
        loop {
            let page: Page = self.client.get(&self.list_path(object, "hs_object_id", true, after.as_deref())).await?;
            let gone: Vec<String> =
                page.results.iter().filter_map(|r| r.get("id").and_then(Value::as_str)).map(str::to_string).collect();
            if !gone.is_empty() {
                self.land(object, &[], &gone, None, report)?;
            }
            let next = page.paging.and_then(|p| p.next).map(|n| n.after);
            let what = format!("archived {}", object.name());
            guard.step(next.as_deref(), gone.len()).map_err(|d| self.client.runaway(&what, d))?;
            match next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }

    /// Maps a page and commits it with the removals and the cursor in one
    /// batch; a record that cannot be used is skipped and reported.
    fn land(
        &self,
        object: Object,
        records: &[Value],
        removed: &[String],
        cursor: Option<&Cursor>,
        report: &mut ObjectReport,
    ) -> Result<(), SyncError> {
        let bytes = cursor.map(|c| serde_json::to_vec(c).expect("cursor serializes"));
        let cursor = bytes.as_deref().map(|b| (object.name(), b));
        let source = self.source();
        let skipped_before = report.skipped.len();
        let counts = match object {
            Object::Companies => {
                let companies = self.companies(records, report)?;
                let mut observed = self.store.observe(self.today);
                let map = &self.client.source().properties;
                for (rec, c) in records.iter().filter_map(|r| {
                    let id = r.get("id").and_then(Value::as_str)?;
                    Some((r, companies.iter().find(|c| c.ext_id == id)?))
                }) {
                    let read = signals(rec, map, self.today);
                    for (signal, prop, points) in read.signals {
                        observed.add(c.account.id, &signal, source, &format!("{source}:{prop}"), points)?;
                    }
                    for (signal, prop, point) in read.current {
                        observed.add_latest(c.account.id, &signal, source, &format!("{source}:{prop}"), point)?;
                    }
                    let mut seen: Vec<String> = Vec::new();
                    for (prop, why) in read.unreadable {
                        // A company counts once per property, history and all.
                        if seen.contains(&prop) {
                            continue;
                        }
                        seen.push(prop.clone());
                        let e = report.unreadable.entry(prop).or_insert((0, String::new()));
                        e.0 += 1;
                        if e.1.is_empty() {
                            e.1 = format!("company {}: {why}", c.ext_id);
                        }
                    }
                }
                let upserts: Vec<(String, Account)> = companies.into_iter().map(|c| (c.ext_id, c.account)).collect();
                self.writer.run(|s| {
                    let page = ingest::Page { source, records: &upserts, removed, cursor };
                    ingest::accounts(s, &page, &[], observed)
                })?
            }
            Object::Contacts => {
                let ids = numeric(removed, Ok);
                self.children(records, ids, cursor, report, contact)?
            }
            Object::Deals => {
                let ids = numeric(removed, Ok);
                self.children::<Deal>(records, ids, cursor, report, deal)?
            }
            Object::FeedbackSubmissions => self.feedback(records, &numeric(removed, feedback_id), cursor, report)?,
            _ => {
                let ids = numeric(removed, |ext| activity_id(object, ext));
                self.children::<Activity>(records, ids, cursor, report, |r, acc| activity(object, r, acc))?
            }
        };
        report.counts += counts;
        // Remembered, to be read again: not lost when they never change again.
        let skipped: Vec<(String, String)> =
            report.skipped[skipped_before..].iter().map(|s| (s.id.clone(), s.reason.clone())).collect();
        self.writer.run(|s| s.remember_skipped(source, object.name(), &skipped))?;
        (self.progress)(Progress { source: source.to_string(), object: object.name(), done: report.seen() });
        Ok(())
    }

    /// Maps and stores one page of a child type.
    fn children<T: Child>(
        &self,
        records: &[Value],
        removed: Vec<u64>,
        cursor: Option<(&str, &[u8])>,
        report: &mut ObjectReport,
        map: impl Fn(&Value, AccountId) -> Result<T, String>,
    ) -> Result<IngestCounts, SyncError> {
        let mut out = Vec::with_capacity(records.len());
        for rec in records {
            match self.account_of(rec).and_then(|acc| map(rec, acc)) {
                Ok(r) => out.push(r),
                Err(reason) => {
                    let id = rec.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
                    tracing::debug!(source = self.source(), %id, %reason, "record skipped");
                    report.skipped.push(Skipped { id, reason });
                }
            }
        }
        let page = ingest::Page { source: self.source(), records: &out, removed: &removed, cursor };
        Ok(self.writer.run(|s| ingest::children(s, &page))?)
    }

    /// Maps and stores one page of survey answers: each lands on the
    /// account of the contact who answered; answers to other surveys are
    /// counted in a note.
    fn feedback(
        &self,
        records: &[Value],
        removed: &[u64],
        cursor: Option<(&str, &[u8])>,
        report: &mut ObjectReport,
    ) -> Result<IngestCounts, SyncError> {
        let (mut nps, mut ratings, mut other) = (Vec::new(), Vec::new(), 0u64);
        for rec in records {
            match self.contact_account(rec).and_then(|acc| feedback(rec, acc)) {
                Ok(Feedback::Nps(n)) => nps.push(n),
                Ok(Feedback::Rating(r)) => ratings.push(r),
                Ok(Feedback::Other(kind)) => {
                    tracing::debug!(source = self.source(), %kind, "survey answer of another kind left out");
                    other += 1;
                }
                Err(reason) => {
                    let id = rec.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
                    tracing::debug!(source = self.source(), %id, %reason, "survey answer skipped");
                    report.skipped.push(Skipped { id, reason });
                }
            }
        }
        if other > 0 {
            const OTHER: &str = " answer(s) to custom or knowledge-base surveys left out: only NPS, CSAT and CES answers are health inputs";
            let before = report.notes.iter().position(|n| n.ends_with(OTHER));
            let seen = before.map_or(0, |i| report.notes.remove(i).trim_end_matches(OTHER).parse::<u64>().unwrap_or(0));
            report.notes.push(format!("{}{OTHER}", seen + other));
        }
        let page = ingest::Page { source: self.source(), records: &nps, removed, cursor };
        Ok(self.writer.run(|s| ingest::feedback(s, &page, &ratings, self.today))?)
    }

    /// The account of the contact a survey answer is associated with.
    fn contact_account(&self, rec: &Value) -> Result<AccountId, String> {
        let contact = records::contact_of(rec).ok_or("it is not associated with a contact (an anonymous answer?)")?;
        let id: u64 = contact.parse().map_err(|_| format!("its contact id \"{contact}\" is not numeric"))?;
        self.store.contact_account(self.source(), id).map_err(|e| e.to_string())?.ok_or_else(|| {
            format!("its contact {contact} is not in the cache (not synced yet, or not at a synced company)")
        })
    }

    fn account_of(&self, rec: &Value) -> Result<AccountId, String> {
        let company = records::company_of(rec).ok_or("it is not associated with a company")?;
        self.store
            .external_id(self.source(), company)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("its company {company} is not in the cache"))
    }

    /// Maps a page of companies, resolving ids.
    fn companies(&self, records: &[Value], report: &mut ObjectReport) -> Result<Vec<Company>, SyncError> {
        let mut out: Vec<Company> = Vec::with_capacity(records.len());
        let map = &self.client.source().properties;
        for rec in records {
            let ext = rec.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
            let existing_id = self.store.external_id(self.source(), &ext)?;
            let existing = match existing_id {
                Some(id) => self.store.account(id)?,
                None => None,
            };
            match company(rec, map, existing.as_ref(), self.today) {
                // The same record twice in one page: keep the later copy, one id.
                Ok(c) if out.iter().any(|o| o.ext_id == c.ext_id) => {
                    let at = out.iter().position(|o| o.ext_id == c.ext_id).expect("present");
                    let id = out[at].account.id;
                    out[at] = Company { account: Account { id, ..c.account }, ..c };
                }
                Ok(mut c) => {
                    if existing.is_none() {
                        c.account.id = AccountId(self.store.next_id()? + 1);
                    }
                    out.push(c);
                }
                Err(reason) => {
                    tracing::warn!(source = self.source(), id = %ext, %reason, "company skipped");
                    report.skipped.push(Skipped { id: ext, reason });
                }
            }
        }
        Ok(out)
    }
}

/// Vendor ids as workspace ids (ids that do not parse are passed over).
fn numeric(ext: &[String], local: impl Fn(u64) -> Result<u64, String>) -> Vec<u64> {
    ext.iter().filter_map(|e| e.parse().ok()).filter_map(|e| local(e).ok()).collect()
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_documented_shape() {
        let d = |s: &str| parse_date(s).map(|t| t.to_rfc3339());
        assert_eq!(d("2026-03-01").unwrap(), "2026-03-01T00:00:00+00:00");
        assert_eq!(d("2026-03-01T12:30:00.123Z").unwrap(), "2026-03-01T12:30:00.123+00:00");
        assert_eq!(d("1767225600000").unwrap(), "2026-01-01T00:00:00+00:00");
        assert_eq!(d(""), None);
        assert_eq!(d("soon"), None);
    }

    #[test]
    fn cursor_round_trips_as_json() {
        let c = Cursor::Since { modified: 5, id: 7 };
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"mode":"since","modified":5,"id":7}"#);
        let back: Cursor = serde_json::from_str(r#"{"mode":"full","after":"abc","newest":3}"#).unwrap();
        assert_eq!(back, Cursor::Full { after: Some("abc".into()), newest: 3 });
    }

    #[test]
    fn stamps_read_the_right_modified_property() {
        let c = json!({"id": "4", "properties": {"lastmodifieddate": "1767225600000"}});
        assert_eq!(stamp(Object::Contacts, &c), Some((1_767_225_600_000, 4)));
        let n = json!({"id": "4", "properties": {}, "updatedAt": "2026-01-01T00:00:00Z"});
        assert_eq!(stamp(Object::Notes, &n), Some((1_767_225_600_000, 4)));
        assert_eq!(stamp(Object::Notes, &json!({"id": "x"})), None);
    }

    #[test]
    fn association_targets_read_as_a_string_or_a_number() {
        let page: AssociationPage = serde_json::from_value(json!({"results": [
            {"from": {"id": "11"}, "to": [{"toObjectId": "4242", "associationTypes": []}]},
            {"from": {"id": "12"}, "to": [{"toObjectId": 4243, "associationTypes": []}]},
        ]}))
        .unwrap();
        let ids: Vec<(&str, u64)> = page.results.iter().map(|a| (a.from.id.as_str(), a.to[0].to_object_id)).collect();
        assert_eq!(ids, [("11", 4242), ("12", 4243)]);
        let bad = serde_json::from_value::<AssociationTo>(json!({"toObjectId": "acme"}));
        assert!(bad.is_err());
    }
}
