//! HubSpot's side of the outbox: the note and task create requests, the
//! marker search, archiving a late copy, the health batch updates, and
//! reading their answers. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

use crate::domain::outbox::{OutboxEntry, Write};
use crate::domain::{Priority, Stage};

/// Association type of a note to a company (HubSpot-defined).
pub const NOTE_TO_COMPANY: u32 = 190;
/// Association type of a task to a company (HubSpot-defined).
pub const TASK_TO_COMPANY: u32 = 192;

/// The HubSpot object a write creates: its type, body property and
/// association type to a company.
fn object(write: &Write) -> Option<(&'static str, &'static str, u32)> {
    match write {
        Write::Note { .. } => Some(("notes", "hs_note_body", NOTE_TO_COMPANY)),
        Write::Task { .. } => Some(("tasks", "hs_task_body", TASK_TO_COMPANY)),
        Write::Ticket { .. } | Write::Stage { .. } | Write::Health { .. } => None,
    }
}

/// HubSpot's task priority for ours: it knows HIGH, MEDIUM and LOW, so
/// urgent goes as HIGH.
fn task_priority(p: Priority) -> &'static str {
    match p {
        Priority::Urgent | Priority::High => "HIGH",
        Priority::Normal => "MEDIUM",
        Priority::Low => "LOW",
    }
}

/// The create request (path and JSON body) for a note or task on
/// `company`, the body ending with the entry's marker.
pub fn create(entry: &OutboxEntry, company: &str) -> Option<(String, Value)> {
    let (kind, body_prop, association) = object(&entry.write)?;
    let mut props = serde_json::Map::new();
    let at = match &entry.write {
        Write::Note { at, .. } => *at,
        Write::Task { due, subject, priority, .. } => {
            props.insert("hs_task_subject".into(), json!(subject));
            props.insert("hs_task_status".into(), json!("NOT_STARTED"));
            props.insert("hs_task_priority".into(), json!(task_priority(*priority)));
            *due
        }
        Write::Ticket { .. } | Write::Stage { .. } | Write::Health { .. } => return None,
    };
    props.insert("hs_timestamp".into(), json!(at.to_rfc3339_opts(SecondsFormat::Millis, true)));
    props.insert(body_prop.into(), json!(entry.body_with_marker()));
    let body = json!({
        "properties": props,
        "associations": [{
            "to": {"id": company},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association}],
        }],
    });
    Some((format!("/crm/v3/objects/{kind}"), body))
}

/// The update of a company's stage property (`property` from the source's
/// property map) to the stage's key, as the sync reads it back.
pub fn stage_update(stage: Stage, company: &str, property: &str) -> (String, Value) {
    (format!("/crm/v3/objects/companies/{company}"), json!({"properties": {property: stage.key()}}))
}

/// Where health writes go: up to 100 companies' properties a call.
pub const BATCH_UPDATE: &str = "/crm/v3/objects/companies/batch/update";

/// The body of a batch update: one input per company id with its
/// properties (`{"inputs":[{"id":"...","properties":{...}}]}`).
pub fn batch_update(inputs: &[(String, Map<String, Value>)]) -> Value {
    let inputs: Vec<Value> =
        inputs.iter().map(|(id, props)| json!({"id": id, "properties": Value::Object(props.clone())})).collect();
    json!({ "inputs": inputs })
}

/// What a batch update's answer (200, or 207 with `errors`) says of each
/// company.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchAnswer {
    /// Companies in `results`: updated.
    pub updated: BTreeSet<String>,
    /// Companies an error names, with HubSpot's words.
    pub failed: BTreeMap<String, String>,
    /// Errors that name no company, in HubSpot's words.
    pub unplaced: Vec<String>,
}

/// Reads a batch answer: the ids in `results`, and each error's message
/// for the ids it names (`id`, or `context.ids`).
pub fn batch_answer(body: &Value) -> BatchAnswer {
    let mut a = BatchAnswer::default();
    for r in body["results"].as_array().map(Vec::as_slice).unwrap_or_default() {
        if let Some(id) = created_id(r) {
            a.updated.insert(id);
        }
    }
    for e in body["errors"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let mut words: Vec<&str> = e["message"].as_str().into_iter().collect();
        if words.iter().all(|w| w.trim().is_empty()) {
            words = e["errors"].as_array().into_iter().flatten().filter_map(|x| x["message"].as_str()).collect();
        }
        let category = e["category"].as_str().unwrap_or_default();
        let message = match (words.join("; ").trim(), category) {
            ("", "") => "no reason given".to_string(),
            ("", c) => c.to_string(),
            (w, _) => w.to_string(),
        };
        let mut ids: Vec<String> = e["context"]["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())))
            .collect();
        ids.extend(created_id(e));
        if ids.is_empty() {
            a.unplaced.push(message);
            continue;
        }
        for id in ids {
            a.failed.entry(id).or_insert_with(|| message.clone());
        }
    }
    a
}

/// The search for the notes or tasks carrying the entry's key (after an
/// answer that never came, or to find late copies after a resend), asking
/// for the body to confirm the marker.
pub fn search(entry: &OutboxEntry) -> Option<(String, Value)> {
    let (kind, body_prop, _) = object(&entry.write)?;
    let body = json!({
        "filterGroups": [{"filters": [
            {"propertyName": body_prop, "operator": "CONTAINS_TOKEN", "value": entry.key},
        ]}],
        "properties": [body_prop],
        "limit": 100,
    });
    Some((format!("/crm/v3/objects/{kind}/search"), body))
}

/// The archive of one copy (`DELETE`, answered 204 with no body): HubSpot
/// moves it to its recycling bin.
pub fn archive_path(entry: &OutboxEntry, id: &str) -> Option<String> {
    let (kind, _, _) = object(&entry.write)?;
    Some(format!("/crm/v3/objects/{kind}/{}", crate::sync::hubspot::urlencode(id)))
}

/// The id of the object a create made (`{"id": "..."}`).
pub fn created_id(body: &Value) -> Option<String> {
    match &body["id"] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The ids of the search hits whose body really holds the marker (a token
/// search may match more loosely than the exact text), earliest first:
/// HubSpot's ids grow as objects are made.
pub fn copies(entry: &OutboxEntry, body: &Value) -> Vec<String> {
    let Some((_, body_prop, _)) = object(&entry.write) else { return Vec::new() };
    let marker = entry.marker();
    let mut ids: Vec<String> = body["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|r| r["properties"][body_prop].as_str().is_some_and(|b| b.contains(&marker)))
        .filter_map(created_id)
        .collect();
    ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.clone()));
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;
    use chrono::{TimeZone, Utc};

    fn entry(write: Write) -> OutboxEntry {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        OutboxEntry::new(7, AccountId(1), 3, write, now)
    }

    #[test]
    fn a_note_is_created_on_the_company_with_its_marker() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let e = entry(Write::Note { body: "Called Ana.".into(), at });
        let (path, body) = create(&e, "4242").unwrap();
        assert_eq!(path, "/crm/v3/objects/notes");
        assert_eq!(body["properties"]["hs_timestamp"], "2026-11-26T09:00:00.000Z");
        assert_eq!(body["properties"]["hs_note_body"], format!("Called Ana.\n\n{}", e.marker()));
        assert_eq!(body["associations"][0]["to"]["id"], "4242");
        assert_eq!(body["associations"][0]["types"][0]["associationTypeId"], 190);
        assert_eq!(body["associations"][0]["types"][0]["associationCategory"], "HUBSPOT_DEFINED");
    }

    #[test]
    fn a_task_has_a_subject_a_status_and_type_192() {
        let due = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        let e = entry(Write::Task { subject: "Escalation".into(), body: "Steps".into(), due, priority: Priority::Low });
        let (path, body) = create(&e, "1").unwrap();
        assert_eq!(path, "/crm/v3/objects/tasks");
        let p = &body["properties"];
        assert_eq!(
            (p["hs_task_subject"].as_str(), p["hs_task_status"].as_str(), p["hs_task_priority"].as_str()),
            (Some("Escalation"), Some("NOT_STARTED"), Some("LOW"))
        );
        assert_eq!(p["hs_timestamp"], "2026-11-27T09:00:00.000Z", "the due moment");
        assert!(p["hs_task_body"].as_str().unwrap().ends_with(&e.marker()));
        assert_eq!(body["associations"][0]["types"][0]["associationTypeId"], 192);
        assert!(create(
            &entry(Write::Ticket { ticket: 1, body: "x".into(), public: false, status: None, updated_stamp: due }),
            "1"
        )
        .is_none());
    }

    #[test]
    fn batch_updates_and_their_partial_answers() {
        let mut props = Map::new();
        props.insert("cockpit_health_score".into(), json!("42"));
        let body = batch_update(&[("4242".into(), props.clone()), ("77".into(), props)]);
        assert_eq!(
            body,
            json!({"inputs": [
                {"id": "4242", "properties": {"cockpit_health_score": "42"}},
                {"id": "77", "properties": {"cockpit_health_score": "42"}},
            ]})
        );
        let answer = json!({
            "status": "COMPLETE",
            "results": [{"id": "4242", "properties": {}, "createdAt": "2026-01-01T00:00:00Z", "archived": false}],
            "numErrors": 2,
            "errors": [
                {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some COMPANY objects",
                 "context": {"ids": ["77", "78"]}},
                {"status": "error", "category": "VALIDATION_ERROR", "message": "",
                 "errors": [{"message": "red was not one of the allowed options"}]},
            ],
        });
        let a = batch_answer(&answer);
        assert_eq!(a.updated.iter().collect::<Vec<_>>(), ["4242"]);
        assert_eq!(a.failed.get("77").map(String::as_str), Some("Could not get some COMPANY objects"));
        assert!(a.failed.contains_key("78"));
        assert_eq!(a.unplaced, ["red was not one of the allowed options"]);
        assert_eq!(batch_answer(&json!({"status": "COMPLETE", "results": []})), BatchAnswer::default());
    }

    #[test]
    fn the_search_looks_for_the_key_and_confirms_the_marker() {
        let e = entry(Write::Note { body: "x".into(), at: Utc::now() });
        let (path, body) = search(&e).unwrap();
        assert_eq!(path, "/crm/v3/objects/notes/search");
        let f = &body["filterGroups"][0]["filters"][0];
        assert_eq!(
            (f["propertyName"].as_str(), f["operator"].as_str()),
            (Some("hs_note_body"), Some("CONTAINS_TOKEN"))
        );
        assert_eq!(f["value"], e.key.as_str());
        let hits = json!({"total": 4, "results": [
            {"id": "5", "properties": {"hs_note_body": "another note"}},
            {"id": "12", "properties": {"hs_note_body": format!("x\n\n{}", e.marker())}},
            {"id": "9", "properties": {"hs_note_body": format!("x\n\n{}", e.marker())}},
            {"id": "9", "properties": {"hs_note_body": format!("x\n\n{}", e.marker())}},
        ]});
        assert_eq!(copies(&e, &hits), ["9", "12"], "confirmed by the marker, earliest first, once each");
        assert!(copies(&e, &json!({"total": 0, "results": []})).is_empty());
        assert_eq!(archive_path(&e, "12").unwrap(), "/crm/v3/objects/notes/12");
        assert_eq!(created_id(&json!({"id": "512", "properties": {}})), Some("512".into()));
        assert_eq!(created_id(&json!({"message": "x"})), None);
    }
}
