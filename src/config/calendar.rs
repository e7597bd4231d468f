//! `timezone` and `[working_hours]`, and the zone in force: the config's,
//! else `TZ`, else the system's.

use chrono::NaiveTime;
use chrono_tz::Tz;
use toml::de::{DeTable, DeValue};

use super::table::{found, Report, Table};
use super::Config;
use crate::domain::calendar::{parse_zone, Calendar, WorkingHours};

const HOURS_KEYS: &[&str] = &["start", "end", "days"];
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Reads the top-level `timezone`.
pub(super) fn read_zone(report: &mut Report, top: &mut Table, config: &mut Config) {
    match top.text("timezone") {
        Some(Ok(name)) => match parse_zone(name.get_ref()) {
            Ok(zone) => config.timezone = Some(zone),
            Err(e) => report.at(name.span().start, format!("timezone: {e}; using TZ or the system's zone")),
        },
        Some(Err(bad)) => report.at(bad.at, format!("{}; using TZ or the system's zone", bad.message)),
        None => {}
    }
}

/// Reads `[working_hours]`: `start`, `end` ("HH:MM") and `days`.
pub(super) fn read_hours(report: &mut Report, table: DeTable<'_>, config: &mut Config) {
    let mut t = Table::new(table, "in [working_hours]", "working_hours.", HOURS_KEYS);
    let mut hours = WorkingHours::default();
    for (key, slot) in [("start", &mut hours.start), ("end", &mut hours.end)] {
        match t.text(key) {
            Some(Ok(text)) => match parse_time(key, text.get_ref()) {
                Some(time) => *slot = time,
                None => report.at(
                    text.span().start,
                    format!(
                        "working_hours.{key} must be a time such as \"09:00\" (24-hour, HH:MM); using {}",
                        slot.format("%H:%M")
                    ),
                ),
            },
            Some(Err(bad)) => report.at(bad.at, format!("{} such as \"09:00\"; using the default", bad.message)),
            None => {}
        }
    }
    if let Some((_, value)) = t.take("days") {
        let at = value.span().start;
        match read_days(value.into_inner()) {
            Ok(days) => hours.days = days,
            Err(e) => report.at(at, format!("working_hours.days {e}; using Monday to Friday")),
        }
    }
    if !hours.is_valid() {
        let default = WorkingHours::default();
        report.at(
            t.key_at("end").unwrap_or(0),
            format!(
                "working_hours.end ({}) must be after start ({}); using {}",
                hours.end.format("%H:%M"),
                hours.start.format("%H:%M"),
                default.describe()
            ),
        );
        hours = WorkingHours { days: hours.days, ..default };
    }
    t.finish(report);
    config.working_hours = hours;
}

/// "09:00"; `end` may also be "24:00" (midnight ending the day).
fn parse_time(key: &str, text: &str) -> Option<NaiveTime> {
    match text.trim() {
        "24:00" if key == "end" => Some(NaiveTime::MIN),
        t => NaiveTime::parse_from_str(t, "%H:%M").ok(),
    }
}

fn read_days(value: DeValue<'_>) -> Result<[bool; 7], String> {
    let DeValue::Array(items) = value else {
        return Err(format!("must be a list of days such as [\"mon\", \"tue\"], not {}", found(&value)));
    };
    let mut days = [false; 7];
    for item in items {
        let DeValue::String(name) = item.get_ref() else {
            return Err(format!("must name days in quotes (\"mon\" ... \"sun\"), not {}", found(item.get_ref())));
        };
        let short: String = name.trim().to_lowercase().chars().take(3).collect();
        match DAY_NAMES.iter().position(|d| *d == short) {
            Some(i) => days[i] = true,
            None => return Err(format!("names \"{name}\", which is not a day (mon, tue, wed, thu, fri, sat, sun)")),
        }
    }
    if !days.contains(&true) {
        return Err("names no day; list at least one".into());
    }
    Ok(days)
}

/// The calendar in force: the config's `timezone`, else `TZ` (`tz_env`),
/// else the system's zone (`system`), else UTC; with a note when a zone
/// was named but could not be used.
pub fn resolve(config: &Config, tz_env: Option<&str>, system: Option<&str>) -> (Calendar, Option<String>) {
    let hours = config.working_hours;
    if let Some(zone) = config.timezone {
        return (Calendar { zone, hours }, None);
    }
    let mut note = None;
    if let Some(tz) = tz_env.map(str::trim).filter(|t| !t.is_empty()) {
        match parse_zone(tz) {
            Ok(zone) => return (Calendar { zone, hours }, None),
            Err(e) => note = Some(format!("TZ: {e}; set `timezone` in the config to choose one")),
        }
    }
    let zone = system.and_then(|s| parse_zone(s).ok());
    if zone.is_none() && note.is_none() {
        note = Some(
            "the system's time zone could not be read; times are in UTC until `timezone` is set in the config".into(),
        );
    }
    (Calendar { zone: zone.unwrap_or(Tz::UTC), hours }, note)
}

/// The calendar for this process: reads `TZ` and the system's zone.
pub fn for_process(config: &Config) -> (Calendar, Option<String>) {
    let tz = std::env::var("TZ").ok();
    let system = iana_time_zone::get_timezone().ok();
    resolve(config, tz.as_deref(), system.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn issues(text: &str) -> Vec<String> {
        parse(text, None).1.into_iter().map(|i| format!("{}:{}: {}", i.line, i.column, i.message)).collect()
    }

    #[test]
    fn a_zone_and_hours_are_read() {
        let (c, issues) = parse(
            "timezone = \"Europe/Paris\"\n[working_hours]\nstart = \"08:30\"\nend = \"18:00\"\ndays = [\"mon\", \"tuesday\", \"Wed\"]\n",
            None,
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.timezone, Some(chrono_tz::Europe::Paris));
        assert_eq!(c.working_hours.describe(), "08:30-18:00 Mon-Wed");
    }

    #[test]
    fn bad_values_are_placed_and_fall_back() {
        let found =
            issues("timezone = \"Paris\"\n[working_hours]\nstart = \"9am\"\ndays = [\"mon\", \"fun\"]\nlunch = 1\n");
        assert!(found[0].starts_with("1:12: timezone: \"Paris\" is not a time zone name"), "{found:?}");
        assert!(found[1].starts_with("3:9: working_hours.start must be a time"), "{found:?}");
        assert!(found[2].starts_with("4:8: working_hours.days names \"fun\""), "{found:?}");
        assert!(found[3].contains("unknown key \"lunch\""), "{found:?}");
        let (c, _) = parse("[working_hours]\nstart = \"18:00\"\nend = \"09:00\"\n", None);
        assert_eq!(c.working_hours, WorkingHours::default(), "an end before the start: the defaults");
        assert!(issues("[working_hours]\nstart = \"18:00\"\nend = \"09:00\"\n")[0].contains("must be after start"));
        let (c, issues) = parse(
            "[working_hours]\nstart = \"00:00\"\nend = \"24:00\"\ndays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]\n",
            None,
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.working_hours, WorkingHours::always());
    }

    #[test]
    fn the_config_wins_then_tz_then_the_system() {
        let mut c = Config::default();
        let (cal, note) = resolve(&c, Some("America/Los_Angeles"), Some("Europe/Paris"));
        assert_eq!((cal.zone, note), (chrono_tz::America::Los_Angeles, None));
        let (cal, note) = resolve(&c, None, Some("Europe/Paris"));
        assert_eq!((cal.zone, note), (chrono_tz::Europe::Paris, None));
        let (cal, note) = resolve(&c, Some("Nowhere/Land"), Some("Europe/Paris"));
        assert_eq!(cal.zone, chrono_tz::Europe::Paris, "a bad TZ: the system's");
        assert!(note.unwrap().starts_with("TZ: \"Nowhere/Land\" is not a time zone name"));
        let (cal, note) = resolve(&c, None, None);
        assert_eq!(cal.zone, Tz::UTC);
        assert!(note.unwrap().contains("UTC"));
        c.timezone = Some(chrono_tz::Asia::Tokyo);
        assert_eq!(resolve(&c, Some("America/Los_Angeles"), None).0.zone, chrono_tz::Asia::Tokyo);
    }
}
