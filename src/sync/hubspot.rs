//! HubSpot CRM v3: companies become accounts. Full sync pages the list
//! endpoint with `after`; incremental sync searches on
//! `hs_lastmodifieddate`, tie-broken on `hs_object_id` so any number of
//! records sharing one timestamp can never loop or be skipped.

use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::http::{Client, SyncError};
use super::ratelimit::RateLimiter;
use super::source::PropertyMap;
use super::{ObjectReport, Progress, Skipped};
use crate::domain::{Account, AccountId, Contact, Segment, Stage};
use crate::store::Store;

/// Records per page (the API's maximum for lists and search is 100 / 200).
pub const PAGE: usize = 100;
const COMPANIES: &str = "companies";
const CONTACTS: &str = "contacts";
/// Margin for clock differences between us and the vendor.
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Deserialize)]
struct Page {
    results: Vec<Value>,
    #[serde(default)]
    paging: Option<Paging>,
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

fn parse_stage(v: &str) -> Option<Stage> {
    let norm: String = v.trim().to_lowercase().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c }).collect();
    Stage::ALL.into_iter().find(|s| s.key() == norm || s.label().to_lowercase().replace(' ', "_") == norm)
}

fn parse_segment(v: &str) -> Option<Segment> {
    match v.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
        "enterprise" | "ent" => Some(Segment::Enterprise),
        "mid_market" | "midmarket" | "mid" => Some(Segment::MidMarket),
        "smb" | "small_business" => Some(Segment::Smb),
        _ => None,
    }
}

/// A company record turned into an account, with its id and last change.
#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    /// HubSpot object id.
    pub ext_id: String,
    /// The numeric id, for tie-breaking.
    pub object_id: u64,
    /// `hs_lastmodifieddate`, epoch ms.
    pub modified: i64,
    /// The account (id still to be assigned when new).
    pub account: Account,
}

/// Maps one company record; the error names what is wrong with it.
pub fn company(
    rec: &Value,
    map: &PropertyMap,
    existing: Option<&Account>,
    today: NaiveDate,
) -> Result<Company, String> {
    let ext_id = rec.get("id").and_then(Value::as_str).ok_or("the record has no id")?.to_string();
    let object_id: u64 = ext_id.parse().map_err(|_| format!("id \"{ext_id}\" is not numeric"))?;
    let props = rec.get("properties").and_then(Value::as_object).ok_or("the record has no properties")?;
    let prop = |k: &str| props.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let modified = prop("hs_lastmodifieddate")
        .or_else(|| rec.get("updatedAt").and_then(Value::as_str))
        .and_then(parse_date)
        .ok_or("hs_lastmodifieddate is missing or not a date")?
        .timestamp_millis();
    let number = |k: &str| -> Result<Option<f64>, String> {
        match prop(k) {
            None => Ok(None),
            Some(v) => v.parse::<f64>().map(Some).map_err(|_| format!("{k} = \"{v}\" is not a number")),
        }
    };
    let arr = match number(&map.arr)? {
        Some(v) if v >= 0.0 => v.round() as u64,
        Some(v) => return Err(format!("{} = {v} is negative", map.arr)),
        None => existing.map_or(0, |a| a.arr),
    };
    let seats = number(&map.seats)?.map_or(existing.map_or(0, |a| a.seats), |v| v.max(0.0) as u32);
    let created = prop("createdate").and_then(parse_date).map(|t| t.date_naive());
    let contract_start = prop(&map.contract_start)
        .and_then(parse_date)
        .map(|t| t.date_naive())
        .or(existing.map(|a| a.contract_start))
        .or(created)
        .unwrap_or(today);
    let renewal_date = match prop(&map.renewal_date) {
        Some(v) => parse_date(v).ok_or_else(|| format!("{} = \"{v}\" is not a date", map.renewal_date))?.date_naive(),
        None => existing.map(|a| a.renewal_date).unwrap_or_else(|| next_anniversary(contract_start, today)),
    };
    let segment = prop(&map.segment).and_then(parse_segment).unwrap_or(match arr {
        100_000.. => Segment::Enterprise,
        20_000.. => Segment::MidMarket,
        _ => Segment::Smb,
    });
    let stage = prop(&map.stage).and_then(parse_stage).or(existing.map(|a| a.stage)).unwrap_or(Stage::Adoption);
    let account = Account {
        id: existing.map_or(AccountId(0), |a| a.id),
        name: prop("name").map(str::to_string).unwrap_or_else(|| format!("(unnamed company {ext_id})")),
        domain: prop("domain").unwrap_or_default().to_string(),
        segment,
        industry: prop("industry").unwrap_or_default().to_string(),
        region: prop(&map.region).unwrap_or_default().to_string(),
        owner: prop("hubspot_owner_id").map(|o| format!("owner {o}")).unwrap_or_default(),
        plan: prop(&map.plan).unwrap_or_default().to_string(),
        seats,
        arr,
        contract_start,
        renewal_date,
        stage,
        key_people: existing.map(|a| a.key_people.clone()).unwrap_or_default(),
        outcome: existing.and_then(|a| a.outcome),
    };
    Ok(Company { ext_id, object_id, modified, account })
}

fn next_anniversary(start: NaiveDate, today: NaiveDate) -> NaiveDate {
    let mut years = (today.year() - start.year()).max(1);
    loop {
        let d = start.with_year(start.year() + years).unwrap_or(start + Days::days(365 * years as i64));
        if d >= today {
            return d;
        }
        years += 1;
    }
}

/// Syncs a source's companies into the store.
pub struct CompanySync<'a> {
    /// The source's client.
    pub client: &'a Client,
    /// The workspace.
    pub store: &'a Store,
    /// Today, for derived dates.
    pub today: NaiveDate,
    /// Progress reports.
    pub progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// Search calls are limited separately (a few per second).
    pub search_limit: RateLimiter,
}

impl<'a> CompanySync<'a> {
    /// A sync with HubSpot's search limit (4 per second).
    pub fn new(
        client: &'a Client,
        store: &'a Store,
        today: NaiveDate,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        CompanySync { client, store, today, progress, search_limit: RateLimiter::new(4, Duration::from_secs(1)) }
    }

    fn source(&self) -> &str {
        &self.client.source().name
    }

    fn load_cursor(&self) -> Result<Option<Cursor>, SyncError> {
        Ok(self.store.cursor(self.source(), COMPANIES)?.and_then(|c| serde_json::from_slice(&c).ok()))
    }

    /// Runs a full sync (when asked, or when there is no cursor yet), then
    /// an incremental one, then removes archived companies.
    pub async fn run(&self, full: bool) -> Result<ObjectReport, SyncError> {
        let mut report = ObjectReport::new(COMPANIES);
        let cursor = match self.load_cursor()? {
            Some(c @ Cursor::Full { .. }) => c, // resume an interrupted full sync
            Some(c) if !full => c,
            // Changes made while the full read runs are picked up by the
            // incremental pass that follows: it starts from before the start.
            _ => Cursor::Full { after: None, newest: Utc::now().timestamp_millis() - CLOCK_SKEW_MS },
        };
        let mut cursor = cursor;
        if let Cursor::Full { .. } = cursor {
            cursor = self.full(cursor, &mut report).await?;
        }
        if let Cursor::Since { modified, id } = cursor {
            self.incremental(modified, id, &mut report).await?;
        }
        self.archived(&mut report).await?;
        Ok(report)
    }

    /// Reads every contact with its company association (a full pass per
    /// sync, resumable page by page) into the contacts of the accounts.
    pub async fn contacts(&self) -> Result<ObjectReport, SyncError> {
        let mut report = ObjectReport::new(CONTACTS);
        let mut after: Option<String> =
            self.store.cursor(self.source(), CONTACTS)?.and_then(|c| serde_json::from_slice(&c).ok()).flatten();
        loop {
            let mut path = format!(
                "/crm/v3/objects/contacts?limit={PAGE}&archived=false&associations=companies&properties=firstname,lastname,email,jobtitle"
            );
            if let Some(a) = &after {
                path.push_str(&format!("&after={}", urlencode(a)));
            }
            let page: Page = self.client.get(&path).await?;
            let mut contacts = Vec::with_capacity(page.results.len());
            for rec in &page.results {
                match self.contact(rec) {
                    Ok(c) => contacts.push(c),
                    Err(reason) => {
                        let id = rec.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
                        report.skipped.push(Skipped { id, reason });
                    }
                }
            }
            after = page.paging.and_then(|p| p.next).map(|n| n.after);
            // The pass restarts from the top next time once it completes.
            let bytes = serde_json::to_vec(&after).expect("cursor serializes");
            report.counts += self.store.ingest_contacts(self.source(), &contacts, Some((CONTACTS, &bytes)))?;
            (self.progress)(Progress { source: self.source().to_string(), object: CONTACTS, done: report.seen() });
            if after.is_none() {
                return Ok(report);
            }
        }
    }

    fn contact(&self, rec: &Value) -> Result<Contact, String> {
        let id: u64 = rec
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| i.parse().ok())
            .ok_or("the contact has no numeric id")?;
        let company = rec
            .pointer("/associations/companies/results/0/id")
            .and_then(Value::as_str)
            .ok_or("the contact is not associated with a company")?;
        let account = self
            .store
            .external_id(self.source(), company)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("its company {company} is not in the cache"))?;
        let prop =
            |k: &str| rec.pointer(&format!("/properties/{k}")).and_then(Value::as_str).unwrap_or("").trim().to_string();
        let name = format!("{} {}", prop("firstname"), prop("lastname")).trim().to_string();
        let title = prop("jobtitle");
        let lower = title.to_lowercase();
        // Decision makers by title; a CSM can correct it in the CRM.
        let key_person = ["chief", "ceo", "cfo", "coo", "cto", "vp", "vice president", "head of", "director", "owner"]
            .iter()
            .any(|k| {
                lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *k) || lower.contains(k) && k.contains(' ')
            });
        Ok(Contact {
            id,
            account_id: account,
            name: if name.is_empty() { prop("email") } else { name },
            email: prop("email"),
            title,
            key_person,
        })
    }

    fn properties(&self) -> String {
        self.client.source().properties.requested().join(",")
    }

    /// Maps a page, resolving ids; bad records are skipped and reported.
    fn map_page(&self, records: &[Value], report: &mut ObjectReport) -> Result<Vec<Company>, SyncError> {
        let mut out = Vec::with_capacity(records.len());
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
                Ok(c) if out.iter().any(|o: &Company| o.ext_id == c.ext_id) => {
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

    fn commit(&self, page: &[Company], cursor: &Cursor, report: &mut ObjectReport) -> Result<(), SyncError> {
        let upserts: Vec<(String, Account)> = page.iter().map(|c| (c.ext_id.clone(), c.account.clone())).collect();
        let bytes = serde_json::to_vec(cursor).expect("cursor serializes");
        let counts = self.store.ingest_accounts(self.source(), &upserts, &[], &[], Some((COMPANIES, &bytes)))?;
        report.counts += counts;
        (self.progress)(Progress { source: self.source().to_string(), object: COMPANIES, done: report.seen() });
        Ok(())
    }

    async fn full(&self, mut cursor: Cursor, report: &mut ObjectReport) -> Result<Cursor, SyncError> {
        let props = self.properties();
        loop {
            let Cursor::Full { after, newest } = &cursor else { return Ok(cursor) };
            let mut path = format!("/crm/v3/objects/companies?limit={PAGE}&archived=false&properties={props}");
            if let Some(a) = after {
                path.push_str(&format!("&after={}", urlencode(a)));
            }
            let page: Page = self.client.get(&path).await?;
            let companies = self.map_page(&page.results, report)?;
            let newest = *newest;
            let next = page.paging.and_then(|p| p.next).map(|n| n.after);
            cursor = match next {
                Some(after) => Cursor::Full { after: Some(after), newest },
                // Caught up: later runs look for changes since just before
                // this full read began, so nothing changed during it is missed.
                None => Cursor::Since { modified: newest, id: 0 },
            };
            self.commit(&companies, &cursor, report)?;
        }
    }

    async fn search(&self, filters: Value, sort: &str, report: &mut ObjectReport) -> Result<Vec<Company>, SyncError> {
        self.search_limit.acquire().await;
        let body = json!({
            "filterGroups": [{ "filters": filters }],
            "sorts": [{ "propertyName": sort, "direction": "ASCENDING" }],
            "properties": self.client.source().properties.requested(),
            "limit": PAGE,
            "after": "0",
        });
        let page: Page = self.client.post("/crm/v3/objects/companies/search", &body).await?;
        self.map_page(&page.results, report)
    }

    async fn incremental(&self, mut modified: i64, mut id: u64, report: &mut ObjectReport) -> Result<(), SyncError> {
        loop {
            // Everything at exactly `modified`, in id order, past `id`.
            loop {
                let filters = json!([
                    { "propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": modified.to_string() },
                    { "propertyName": "hs_object_id", "operator": "GT", "value": id.to_string() },
                ]);
                let page = self.search(filters, "hs_object_id", report).await?;
                let Some(last) = page.iter().map(|c| c.object_id).max() else { break };
                id = last;
                let full_page = page.len() >= PAGE;
                self.commit(&page, &Cursor::Since { modified, id }, report)?;
                if !full_page {
                    break;
                }
            }
            // Then the next instant with changes.
            let filters = json!([
                { "propertyName": "hs_lastmodifieddate", "operator": "GT", "value": modified.to_string() },
            ]);
            let page = self.search(filters, "hs_lastmodifieddate", report).await?;
            let Some(newest) = page.iter().map(|c| c.modified).max() else { return Ok(()) };
            // Records at `newest` may continue on a later page: re-read that
            // instant by id (the loop above) rather than trust this page.
            let settled: Vec<Company> = page.into_iter().filter(|c| c.modified < newest).collect();
            modified = newest;
            id = 0;
            self.commit(&settled, &Cursor::Since { modified, id }, report)?;
        }
    }

    async fn archived(&self, report: &mut ObjectReport) -> Result<(), SyncError> {
        let mut after: Option<String> = None;
        loop {
            let mut path = format!("/crm/v3/objects/companies?limit={PAGE}&archived=true&properties=name");
            if let Some(a) = &after {
                path.push_str(&format!("&after={}", urlencode(a)));
            }
            let page: Page = self.client.get(&path).await?;
            let gone: Vec<String> =
                page.results.iter().filter_map(|r| r.get("id").and_then(Value::as_str)).map(str::to_string).collect();
            if !gone.is_empty() {
                report.counts += self.store.ingest_accounts(self.source(), &[], &[], &gone, None)?;
            }
            match page.paging.and_then(|p| p.next) {
                Some(n) => after = Some(n.after),
                None => return Ok(()),
            }
        }
    }
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

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

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
    fn maps_a_company_with_string_properties() {
        let rec = json!({
            "id": "512",
            "properties": {
                "name": "Acme", "domain": "acme.com", "arr": "120000.4", "seats": "40",
                "renewal_date": "1798761600000", "cs_stage": "Renewal prep",
                "hs_lastmodifieddate": "2026-11-20T10:00:00Z", "createdate": "2024-02-01T00:00:00Z"
            },
            "createdAt": "2024-02-01T00:00:00Z", "updatedAt": "2026-11-20T10:00:00Z", "archived": false
        });
        let c = company(&rec, &PropertyMap::default(), None, today()).unwrap();
        assert_eq!((c.ext_id.as_str(), c.object_id), ("512", 512));
        assert_eq!(c.account.arr, 120_000);
        assert_eq!(c.account.segment, Segment::Enterprise, "derived from ARR");
        assert_eq!(c.account.stage, Stage::RenewalPrep);
        assert_eq!(c.account.renewal_date, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(c.account.contract_start, NaiveDate::from_ymd_opt(2024, 2, 1).unwrap());
        assert_eq!(c.modified, parse_date("2026-11-20T10:00:00Z").unwrap().timestamp_millis());
    }

    #[test]
    fn missing_fields_take_defaults_and_bad_ones_are_reported() {
        let rec =
            json!({"id": "9", "properties": {"hs_lastmodifieddate": "1767225600000", "createdate": "2025-03-10"}});
        let c = company(&rec, &PropertyMap::default(), None, today()).unwrap();
        assert_eq!(c.account.name, "(unnamed company 9)");
        assert_eq!(c.account.renewal_date, NaiveDate::from_ymd_opt(2027, 3, 10).unwrap());
        assert_eq!(c.account.stage, Stage::Adoption);
        let bad = json!({"id": "9", "properties": {"hs_lastmodifieddate": "1767225600000", "arr": "lots"}});
        assert!(company(&bad, &PropertyMap::default(), None, today())
            .unwrap_err()
            .contains("arr = \"lots\" is not a number"));
        assert!(company(&json!({"properties": {}}), &PropertyMap::default(), None, today()).is_err());
        assert!(company(&json!({"id": "1"}), &PropertyMap::default(), None, today())
            .unwrap_err()
            .contains("no properties"));
    }

    #[test]
    fn stages_by_key_or_label() {
        assert_eq!(parse_stage("renewal_signing"), Some(Stage::RenewalSigning));
        assert_eq!(parse_stage(" Renewal Signing "), Some(Stage::RenewalSigning));
        assert_eq!(parse_stage("renewal-prep"), Some(Stage::RenewalPrep));
        assert_eq!(parse_stage("won"), None);
    }

    #[test]
    fn cursor_round_trips_as_json() {
        let c = Cursor::Since { modified: 5, id: 7 };
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"mode":"since","modified":5,"id":7}"#);
        let back: Cursor = serde_json::from_str(r#"{"mode":"full","after":"abc","newest":3}"#).unwrap();
        assert_eq!(back, Cursor::Full { after: Some("abc".into()), newest: 3 });
    }
}
