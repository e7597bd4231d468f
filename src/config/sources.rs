//! `[[source]]` tables: each read on its own, so a source with a mistake is
//! skipped with the reason, at the line of its header or of the key at
//! fault, and every other source keeps working.

use std::collections::BTreeMap;

use toml::de::DeValue;

use super::table::{found, Bad, Report, Table, Value};
use crate::sync::source::{Kind, RawBilling, RawSource, Source, PROPERTY_FIELDS, SOURCE_KEYS};

/// Reads the `source` entry of the top level into `sources`.
pub(super) fn read(report: &mut Report, value: Value<'_>, sources: &mut Vec<Source>) {
    let at = value.span().start;
    let items: Vec<Value<'_>> = match value.into_inner() {
        DeValue::Array(items) => items.into_iter().collect(),
        table @ DeValue::Table(_) => {
            report.at(at, "write each source as [[source]] (two brackets); this [source] table is read as one source");
            vec![Value::new(at..at, table)]
        }
        other => {
            report.at(at, format!("source must be [[source]] tables, not {}; no source is read", found(&other)));
            return;
        }
    };
    for (i, item) in items.into_iter().enumerate() {
        let at = item.span().start;
        let Some(source) = one(report, item, i + 1) else { continue };
        if sources.iter().any(|s| s.name == source.name) {
            report.at(
                at,
                format!(
                    "two sources are named \"{}\"; give each [[source]] its own name = \"...\" (this one is skipped)",
                    source.name
                ),
            );
        } else {
            sources.push(source);
        }
    }
}

/// One `[[source]]` table (the `number`th): the source, or `None` once its
/// problems are reported.
fn one(report: &mut Report, item: Value<'_>, number: usize) -> Option<Source> {
    let at = item.span().start;
    let table = match item.into_inner() {
        DeValue::Table(t) => t,
        other => {
            report.at(at, format!("source number {number} must be a [[source]] table, not {}; skipped", found(&other)));
            return None;
        }
    };
    let mut t = Table::new(table, "in [[source]]", "", SOURCE_KEYS);
    // Where each key is written, to place what `check` finds.
    let keys: Vec<(&'static str, usize)> = SOURCE_KEYS.iter().filter_map(|k| t.key_at(k).map(|p| (*k, p))).collect();
    let mut bad = Mistakes::default();
    let name = bad.text(&mut t, "name");
    let kind = match t.text("kind") {
        Some(Ok(k)) => match k.get_ref().as_str() {
            "hubspot" => Some(Kind::Hubspot),
            "zendesk" => Some(Kind::Zendesk),
            "stripe" => Some(Kind::Stripe),
            other => {
                // Quoted only when it is plainly a word, not a pasted secret.
                let shown = match other.len() <= 24 && other.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
                    true => format!("\"{other}\""),
                    false => "that".into(),
                };
                let message = format!("kind must be \"hubspot\", \"zendesk\" or \"stripe\", not {shown}");
                bad.push("kind", Bad { at: k.span().start, message });
                None
            }
        },
        Some(Err(b)) => {
            bad.push("kind", Bad { message: format!("{} (\"hubspot\", \"zendesk\" or \"stripe\")", b.message), ..b });
            None
        }
        None => {
            bad.push("kind", Bad { at, message: "kind is required: \"hubspot\", \"zendesk\" or \"stripe\"".into() });
            None
        }
    };
    let label = match (&name, kind) {
        (Some(n), _) => format!("\"{n}\""),
        (None, Some(k)) => format!("\"{}\"", format!("{k:?}").to_lowercase()),
        (None, None) => format!("number {number}"),
    };
    t.set_place(format!("in [[source]] {label}"));
    let base_url = bad.text(&mut t, "base_url");
    let token_env = bad.text(&mut t, "token_env");
    let email = bad.text(&mut t, "email");
    let properties = match t.take("properties") {
        Some((_, v)) => properties(report, v, &label, &mut bad),
        None => BTreeMap::new(),
    };
    let metrics = match t.take("metrics") {
        Some((_, v)) => metrics(v, &mut bad),
        None => BTreeMap::new(),
    };
    let requests_per_minute = bad.per_minute(&mut t, "requests_per_minute", 100_000);
    let exports_per_minute = bad.per_minute(&mut t, "exports_per_minute", 1_000);
    let match_metadata = bad.text(&mut t, "match_metadata");
    let currency = bad.text(&mut t, "currency");
    let rates = match t.take("rates") {
        Some((_, v)) => rates(v, &mut bad),
        None => BTreeMap::new(),
    };
    t.finish(report);
    let checked = kind.map(|kind| {
        RawSource {
            name,
            kind,
            base_url,
            token_env,
            email,
            properties,
            metrics,
            requests_per_minute,
            exports_per_minute,
        }
        .check_with(RawBilling { match_metadata, currency, rates })
    });
    for (_, b) in &bad.found {
        report.at(b.at, format!("source {label}: {}; source skipped", b.message));
    }
    match checked? {
        Ok(source) if bad.found.is_empty() => Some(source),
        Ok(_) => None,
        Err(e) => {
            // Checked with the bad values left out: what it finds about
            // them (a required base_url) is already said.
            let about = e.field.unwrap_or("base_url");
            if !bad.found.iter().any(|(k, _)| *k == about) {
                let place = e.field.and_then(|f| keys.iter().find(|(k, _)| *k == f)).map_or(at, |(_, p)| *p);
                report.at(place, format!("{}; source skipped", e.message));
            }
            None
        }
    }
}

/// The values of one source that cannot be used, by key.
#[derive(Default)]
struct Mistakes {
    found: Vec<(&'static str, Bad)>,
}

impl Mistakes {
    fn push(&mut self, key: &'static str, b: Bad) {
        self.found.push((key, b));
    }

    /// A text value; one that is not text is a mistake.
    fn text(&mut self, t: &mut Table, key: &'static str) -> Option<String> {
        match t.text(key)? {
            Ok(s) => Some(s.into_inner()),
            Err(b) => {
                self.push(key, b);
                None
            }
        }
    }

    /// A rate from 1 to `most` per minute.
    fn per_minute(&mut self, t: &mut Table, key: &'static str, most: i64) -> Option<u32> {
        match t.whole(key, 1..=most)? {
            Ok(n) => u32::try_from(n.into_inner()).ok(),
            Err(b) => {
                self.push(key, b);
                None
            }
        }
    }
}

/// `[source.properties]`: account field = company property. A key that is
/// not an account field is a warning; a value that is not text is a
/// mistake in the source.
fn properties(report: &mut Report, v: Value<'_>, label: &str, bad: &mut Mistakes) -> BTreeMap<String, String> {
    let at = v.span().start;
    let table = match v.into_inner() {
        DeValue::Table(t) => t,
        other => {
            let message = format!("properties must be a table ([source.properties]), not {}", found(&other));
            bad.push("properties", Bad { at, message });
            return BTreeMap::new();
        }
    };
    let place = format!("in [source.properties] of [[source]] {label}");
    let mut t = Table::new(table, place, "properties.", PROPERTY_FIELDS);
    let mut map = BTreeMap::new();
    for field in PROPERTY_FIELDS {
        match t.text(field) {
            Some(Ok(p)) => {
                map.insert(field.to_string(), p.into_inner());
            }
            Some(Err(b)) => bad.push("properties", b),
            None => {}
        }
    }
    t.finish(report);
    map
}

/// `[source.rates]`: currency code = what one unit is worth in the book's
/// currency. A value that is not a number above 0 is a mistake in the source
/// (codes themselves are checked with the source).
fn rates(v: Value<'_>, bad: &mut Mistakes) -> BTreeMap<String, f64> {
    use serde::de::IntoDeserializer;
    use serde::Deserialize;
    use toml::de::DeValue::{Float, Integer};
    let at = v.span().start;
    let table = match v.into_inner() {
        DeValue::Table(t) => t,
        other => {
            let message = format!("rates must be a table ([source.rates] with eur = 1.08), not {}", found(&other));
            bad.push("rates", Bad { at, message });
            return BTreeMap::new();
        }
    };
    let mut map = BTreeMap::new();
    for (code, v) in table {
        let at = v.span().start;
        let shown = found(v.get_ref());
        let rate = match v.get_ref() {
            Integer(_) | Float(_) => f64::deserialize(v.into_deserializer()).ok(),
            _ => None,
        };
        match rate {
            Some(r) if r.is_finite() && r > 0.0 => {
                map.insert(code.get_ref().to_string(), r);
            }
            _ => {
                let message = format!("rates.{} must be a number above 0, not {shown}", code.get_ref());
                bad.push("rates", Bad { at, message });
            }
        }
    }
    map
}

/// `[source.metrics]`: metric name = company property. Names are free; a
/// value that is not text is a mistake in the source.
fn metrics(v: Value<'_>, bad: &mut Mistakes) -> BTreeMap<String, String> {
    let at = v.span().start;
    let table = match v.into_inner() {
        DeValue::Table(t) => t,
        other => {
            let message = format!("metrics must be a table ([source.metrics]), not {}", found(&other));
            bad.push("metrics", Bad { at, message });
            return BTreeMap::new();
        }
    };
    let mut map = BTreeMap::new();
    for (k, v) in table {
        let name = k.get_ref().to_string();
        match super::table::as_text(v) {
            Ok(p) => {
                map.insert(name, p.into_inner());
            }
            Err((at, what)) => bad.push(
                "metrics",
                Bad {
                    at,
                    message: format!("metrics.{name} must be the name of a company property (text), not {what}"),
                },
            ),
        }
    }
    map
}
