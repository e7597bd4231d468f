//! `[health]`: the bands, the model file and the flag thresholds, each
//! setting checked on its own so a bad one falls back alone.

use std::ops::Range;
use std::path::PathBuf;

use toml::de::DeTable;

use super::table::{Report, Table};
use super::{line_col, Config, ModelFile};
use crate::domain::flags::FlagRules;
use crate::domain::write_back::WriteBack;
use crate::domain::Bands;

const HEALTH_KEYS: &[&str] = &["bands", "model", "flags", "write_back"];
const WRITE_BACK_KEYS: &[&str] = &["score", "band", "reason", "source"];
const BAND_KEYS: &[&str] = &["green", "yellow"];
const FLAG_KEYS: &[&str] = &[
    "usage_drop_below",
    "silence_days",
    "ticket_load",
    "detractor_max",
    "past_due_days",
    "score_drop_points",
    "overage_above",
    "check_in",
    "lifecycle",
];
const CHECK_IN_KEYS: &[&str] = &["enterprise", "mid_market", "smb"];
const LIFECYCLE_KEYS: &[&str] = &[
    "kickoff_days",
    "check_in_hours",
    "proficiency_days",
    "proficiency_coverage",
    "renewal_prep_days",
    "renewal_signing_days",
    "nps_after_onboarding_days",
    "nps_before_renewal_days",
    "nps_recent_days",
    "onboarding_ends_day",
];

/// Ten years: the longest span a day setting may name.
const MAX_DAYS: i64 = 3650;

/// Reads `[health]` into `config`; returns `[health.write_back]` when it
/// names a property, with where the table is (its source is checked
/// once the sources are read).
pub(super) fn read(
    report: &mut Report,
    table: DeTable<'_>,
    text: &str,
    config: &mut Config,
) -> Option<(WriteBack, usize)> {
    let mut t = Table::new(table, "in [health]", "health.", HEALTH_KEYS);
    if let Some((b, at)) = t.table(report, "bands") {
        config.bands = bands(report, b, at);
    }
    match t.text("model") {
        Some(Ok(model)) => {
            let (line, column) = line_col(text, model.span().start);
            config.model_file = Some(ModelFile { path: PathBuf::from(model.into_inner()), line, column });
        }
        Some(Err(bad)) => report.at(bad.at, format!("{}; using the built-in model", bad.message)),
        None => {}
    }
    if let Some((f, _)) = t.table(report, "flags") {
        config.flags = flags(report, f);
    }
    let write_back = t.table(report, "write_back").and_then(|(w, at)| write_back(report, w, at).map(|wb| (wb, at)));
    t.finish(report);
    write_back
}

/// Whether `name` can be a HubSpot property's internal name: lowercase
/// letters, digits and underscores, starting with a letter.
fn property_name_ok(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `[health.write_back]`: each property name alone (a bad one is not
/// written, the others are), the source's name, and at least one property.
fn write_back(report: &mut Report, table: DeTable<'_>, at: usize) -> Option<WriteBack> {
    let mut t = Table::new(table, "in [health.write_back]", "health.write_back.", WRITE_BACK_KEYS);
    let mut wb = WriteBack::default();
    let mut taken: Vec<(&str, String)> = Vec::new();
    for key in ["score", "band", "reason"] {
        let name = match t.text(key) {
            Some(Ok(v)) => v,
            Some(Err(bad)) => {
                report.at(bad.at, format!("{}; the {key} is not written", bad.message));
                continue;
            }
            None => continue,
        };
        let place = name.span().start;
        let name = name.into_inner();
        if !property_name_ok(&name) {
            report.at(
                place,
                format!(
                    "health.write_back.{key} must be a HubSpot company property's internal name (lowercase \
                     letters, digits and _, starting with a letter, like \"cockpit_health_{key}\"; HubSpot shows \
                     it in the property's settings); the {key} is not written"
                ),
            );
            continue;
        }
        if let Some((first, _)) = taken.iter().find(|(_, n)| *n == name) {
            report.at(
                place,
                format!(
                    "health.write_back.{key} names the same property as health.write_back.{first}; each needs a \
                     property of its own, so the {key} is not written"
                ),
            );
            continue;
        }
        taken.push((key, name.clone()));
        match key {
            "score" => wb.score = Some(name),
            "band" => wb.band = Some(name),
            _ => wb.reason = Some(name),
        }
    }
    match t.text("source") {
        Some(Ok(s)) => wb.source = Some(s.into_inner()),
        Some(Err(bad)) => report.at(bad.at, format!("{}; using the first HubSpot source", bad.message)),
        None => {}
    }
    t.finish(report);
    if wb.score.is_none() && wb.band.is_none() && wb.reason.is_none() {
        report.at(
            at,
            "[health.write_back] names no usable company property (score, band or reason = \"property_name\"); \
             the health is not written back to HubSpot",
        );
        return None;
    }
    Some(wb)
}

/// `[health.bands]`: each threshold alone, then their order (out of order,
/// both fall back, since either could be the mistake).
fn bands(report: &mut Report, table: DeTable<'_>, at: usize) -> Bands {
    let mut t = Table::new(table, "in [health.bands]", "health.bands.", BAND_KEYS);
    let mut b = Bands::default();
    let green = t.set_whole(report, "green", 0..=100, &mut b.green);
    let yellow = t.set_whole(report, "yellow", 0..=100, &mut b.yellow);
    t.finish(report);
    match b.validate() {
        Ok(()) => b,
        Err(e) => {
            let d = Bands::default();
            let place = yellow.or(green).map_or(at, |s: Range<usize>| s.start);
            report.at(place, format!("{e}; using {} / {}", d.green, d.yellow));
            d
        }
    }
}

/// `[health.flags]` with `check_in` and `lifecycle`.
fn flags(report: &mut Report, table: DeTable<'_>) -> FlagRules {
    let mut r = FlagRules::default();
    let mut t = Table::new(table, "in [health.flags]", "health.flags.", FLAG_KEYS);
    // Lower bounds keep a flag from holding for every account (a silence of
    // 0 days, a load of 0 tickets); 0 on a share turns its flag off.
    t.set_number(report, "usage_drop_below", 0.0..=1.0, &mut r.usage_drop_below);
    t.set_number(report, "silence_days", 1.0..=MAX_DAYS as f64, &mut r.silence_days);
    t.set_number(report, "ticket_load", 1.0..=1000.0, &mut r.ticket_load);
    t.set_number(report, "detractor_max", 0.0..=10.0, &mut r.detractor_max);
    t.set_number(report, "past_due_days", 1.0..=MAX_DAYS as f64, &mut r.past_due_days);
    t.set_whole(report, "score_drop_points", 1..=100, &mut r.score_drop_points);
    t.set_number(report, "overage_above", 0.1..=10.0, &mut r.overage_above);
    if let Some((c, _)) = t.table(report, "check_in") {
        let mut c = Table::new(c, "in [health.flags.check_in]", "health.flags.check_in.", CHECK_IN_KEYS);
        // 0 turns a segment's check-in off.
        c.set_whole(report, "enterprise", 0..=MAX_DAYS, &mut r.check_in.enterprise);
        c.set_whole(report, "mid_market", 0..=MAX_DAYS, &mut r.check_in.mid_market);
        c.set_whole(report, "smb", 0..=MAX_DAYS, &mut r.check_in.smb);
        c.finish(report);
    }
    if let Some((l, _)) = t.table(report, "lifecycle") {
        let mut l = Table::new(l, "in [health.flags.lifecycle]", "health.flags.lifecycle.", LIFECYCLE_KEYS);
        let lc = &mut r.lifecycle;
        l.set_whole(report, "kickoff_days", 0..=MAX_DAYS, &mut lc.kickoff_days);
        l.set_whole(report, "check_in_hours", 0..=24 * MAX_DAYS, &mut lc.check_in_hours);
        l.set_whole(report, "proficiency_days", 0..=MAX_DAYS, &mut lc.proficiency_days);
        l.set_number(report, "proficiency_coverage", 0.0..=1.0, &mut lc.proficiency_coverage);
        l.set_whole(report, "renewal_prep_days", 0..=MAX_DAYS, &mut lc.renewal_prep_days);
        l.set_whole(report, "renewal_signing_days", 0..=MAX_DAYS, &mut lc.renewal_signing_days);
        l.set_whole(report, "nps_after_onboarding_days", 0..=MAX_DAYS, &mut lc.nps_after_onboarding_days);
        l.set_whole(report, "nps_before_renewal_days", 0..=MAX_DAYS, &mut lc.nps_before_renewal_days);
        l.set_whole(report, "nps_recent_days", 0..=MAX_DAYS, &mut lc.nps_recent_days);
        l.set_whole(report, "onboarding_ends_day", 0..=MAX_DAYS, &mut lc.onboarding_ends_day);
        l.finish(report);
    }
    t.finish(report);
    r
}
