//! `[health]`: the bands, the model file and the flag thresholds, each
//! setting checked on its own so a bad one falls back alone.

use std::ops::Range;
use std::path::PathBuf;

use toml::de::DeTable;

use super::table::{Report, Table};
use super::{line_col, Config, ModelFile};
use crate::domain::flags::FlagRules;
use crate::domain::Bands;

const HEALTH_KEYS: &[&str] = &["bands", "model", "flags"];
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

/// Reads `[health]` into `config`.
pub(super) fn read(report: &mut Report, table: DeTable<'_>, text: &str, config: &mut Config) {
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
    t.finish(report);
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
