//! HubSpot companies become accounts: which property carries what is the
//! source's property map; missing figures keep what the cache had.

use chrono::{Datelike, Duration as Days, NaiveDate};
use serde_json::Value;

use super::parse_date;
use crate::domain::observed::{Point, Signal};
use crate::domain::{Account, AccountId, Segment, Stage};
use crate::sync::source::PropertyMap;

/// A lifecycle stage from its key or label, in any case or separator.
pub fn parse_stage(v: &str) -> Option<Stage> {
    let norm: String = v.trim().to_lowercase().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c }).collect();
    Stage::ALL.into_iter().find(|s| s.key() == norm || s.label().to_lowercase().replace(' ', "_") == norm)
}

/// A segment from its common spellings.
pub fn parse_segment(v: &str) -> Option<Segment> {
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

/// A company's mapped health inputs: the points of each signal, and the
/// values that could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanySignals {
    /// (signal, the property it came from, its points from the history).
    pub signals: Vec<(Signal, String, Vec<Point>)>,
    /// (signal, the property, its current value dated the record's last
    /// change) for the properties that came without history.
    pub current: Vec<(Signal, String, Point)>,
    /// (property, why its value was not usable) for each value that was not.
    pub unreadable: Vec<(String, String)>,
}

/// Days of property history kept: a year, plus the value in force when it began.
const HISTORY_DAYS: i64 = 366;

/// Reads a company's mapped health inputs. The current value counts from
/// the day the record last changed (when it differs from what the cache
/// had, that is when it changed); `propertiesWithHistory`, when the
/// record carries it, gives every change of the last year on its own day
/// (entries in any order, duplicates included).
pub fn signals(rec: &Value, map: &PropertyMap, today: NaiveDate) -> CompanySignals {
    let mut out = CompanySignals::default();
    let props = rec.get("properties").and_then(Value::as_object);
    let history = rec.get("propertiesWithHistory").and_then(Value::as_object);
    let modified = props
        .and_then(|p| p.get("hs_lastmodifieddate"))
        .and_then(Value::as_str)
        .or_else(|| rec.get("updatedAt").and_then(Value::as_str))
        .and_then(parse_date)
        .map_or(today, |t| t.date_naive().min(today));
    let oldest = today - Days::days(HISTORY_DAYS);
    let mut wanted: Vec<(Signal, &str)> = map.signals.iter().map(|(s, p)| (s.clone(), p.as_str())).collect();
    if !map.signals.contains_key(&Signal::Seats) {
        wanted.push((Signal::Seats, map.seats.as_str()));
    }
    for (signal, prop) in wanted {
        let mut read = |raw: &str, day: NaiveDate, points: &mut Vec<Point>| match signal.parse(raw) {
            Ok(Some(v)) => points.push(Point { day, value: Some(v) }),
            Ok(None) => {}
            Err(why) => {
                out.unreadable.push((prop.to_string(), why));
                points.push(Point { day, value: None });
            }
        };
        let mut points = Vec::new();
        if let Some(entries) = history.and_then(|h| h.get(prop)).and_then(Value::as_array) {
            // Oldest first; of the changes before the year, only the last one counts.
            // Oldest first by the full time: two changes on one day keep the later.
            let mut dated: Vec<(chrono::DateTime<chrono::Utc>, &str)> = entries
                .iter()
                .filter_map(|e| {
                    let at = parse_date(e.get("timestamp")?.as_str()?)?;
                    Some((at, e.get("value").and_then(Value::as_str).unwrap_or("")))
                })
                .collect();
            dated.sort_by_key(|(t, _)| *t);
            let start = dated.iter().rposition(|(t, _)| t.date_naive() <= oldest).unwrap_or(0);
            for (at, raw) in &dated[start..] {
                read(raw, at.date_naive().clamp(oldest, today), &mut points);
            }
            if !points.is_empty() {
                out.signals.push((signal, prop.to_string(), points));
            }
            // The history ends with the current value.
            continue;
        }
        let raw = match props.and_then(|p| p.get(prop)) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        read(&raw, modified, &mut points);
        if let Some(p) = points.pop() {
            out.current.push((signal, prop.to_string(), p));
        }
    }
    out
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
    // An MRR property, when mapped, gives the ARR too.
    let mrr = match map.signals.get(&Signal::Mrr) {
        Some(p) => prop(p).and_then(|v| Signal::Mrr.parse(v).ok().flatten()),
        None => None,
    };
    let arr = match (number(&map.arr)?, mrr) {
        (_, Some(m)) => (m * 12.0).round() as u64,
        (Some(v), _) if v >= 0.0 => v.round() as u64,
        (Some(v), _) => return Err(format!("{} = {v} is negative", map.arr)),
        (None, _) => existing.map_or(0, |a| a.arr),
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
        outcome: existing.and_then(|a| a.outcome.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
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
    fn mapped_properties_and_their_history_become_points() {
        let mut map = PropertyMap::default();
        map.signals.insert(Signal::ActiveUsers, "active_users_30d".into());
        map.signals.insert(Signal::Onboarding, "onboarding_pct".into());
        map.signals.insert(Signal::Metric("reports_run".into()), "reports_30d".into());
        let rec = json!({
            "id": "7",
            "properties": {
                "active_users_30d": "12", "onboarding_pct": "85%", "reports_30d": "n/a", "seats": "20",
                "hs_lastmodifieddate": "2026-11-20T10:00:00Z"
            },
            "propertiesWithHistory": {
                "active_users_30d": [
                    {"value": "12", "timestamp": "2026-11-01T00:00:00Z", "sourceType": "API"},
                    {"value": "15", "timestamp": "2026-06-01T00:00:00Z", "sourceType": "API"},
                    {"value": "15", "timestamp": "2026-06-01T00:00:00Z", "sourceType": "API"},
                    {"value": "18", "timestamp": "2025-01-01T00:00:00Z", "sourceType": "API"},
                    {"value": "30", "timestamp": "2024-01-01T00:00:00Z", "sourceType": "API"}
                ]
            }
        });
        let out = signals(&rec, &map, today());
        let users = out.signals.iter().find(|(s, _, _)| *s == Signal::ActiveUsers).unwrap();
        let days: Vec<(String, Option<f64>)> = users.2.iter().map(|p| (p.day.to_string(), p.value)).collect();
        assert_eq!(
            days,
            vec![
                ("2025-11-25".to_string(), Some(18.0)),
                ("2026-06-01".to_string(), Some(15.0)),
                ("2026-06-01".to_string(), Some(15.0)),
                ("2026-11-01".to_string(), Some(12.0)),
            ],
            "the value in force a year ago, then each change"
        );
        let current = |signal: Signal| out.current.iter().find(|(s, _, _)| *s == signal).unwrap().2;
        assert_eq!(current(Signal::Onboarding).value, Some(0.85));
        assert_eq!(current(Signal::Onboarding).day, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(), "last change");
        assert_eq!(current(Signal::Seats).value, Some(20.0), "seats are always read");
        assert_eq!(current(Signal::Metric("reports_run".into())).value, None, "text is unknown, never zero");
        assert_eq!(out.unreadable.len(), 1);
        assert!(out.unreadable[0].1.contains("\"n/a\" is not a number"), "{:?}", out.unreadable);
    }

    #[test]
    fn mrr_gives_the_arr() {
        let mut map = PropertyMap::default();
        map.signals.insert(Signal::Mrr, "mrr".into());
        let rec =
            json!({"id": "9", "properties": {"hs_lastmodifieddate": "1767225600000", "mrr": "1,000", "arr": "5"}});
        assert_eq!(company(&rec, &map, None, today()).unwrap().account.arr, 12_000);
    }

    #[test]
    fn stages_by_key_or_label() {
        assert_eq!(parse_stage("renewal_signing"), Some(Stage::RenewalSigning));
        assert_eq!(parse_stage(" Renewal Signing "), Some(Stage::RenewalSigning));
        assert_eq!(parse_stage("renewal-prep"), Some(Stage::RenewalPrep));
        assert_eq!(parse_stage("won"), None);
    }
}
