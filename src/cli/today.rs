//! `cockpit today`: the follow-up queue, headless.

use super::print::say;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::output::{grid, json, Align};
use super::{CliResult, Format};
use crate::domain::calendar::{Calendar, Section};
use crate::domain::FollowUpKind;
use crate::queue::{self, priority_label, Counts, QueueItem};
use crate::store::Store;

/// One follow-up in the JSON output (a stable, documented shape).
#[derive(Debug, Serialize)]
pub struct ItemJson<'a> {
    /// Follow-up id.
    pub id: u64,
    /// Account id.
    pub account_id: u64,
    /// Account name, sanitized.
    pub account: &'a str,
    /// Kind key (`ticket_no_reply`, `renewal_prep`, ...).
    pub kind: &'static str,
    /// urgent / high / normal / low.
    pub priority: &'static str,
    /// RFC 3339 due time in the user's zone (working hours applied).
    pub due: String,
    /// Whether it is past due.
    pub overdue: bool,
    /// `overdue` or `today`.
    pub section: &'static str,
    /// Why, in words.
    pub reason: &'a str,
    /// The ticket, for ticket follow-ups.
    pub ticket_id: Option<u64>,
    /// Rank score: items are listed highest first.
    pub rank: i32,
    /// The score's parts in words ("overdue by 2 days (+40)"), total last.
    pub rank_explained: Vec<String>,
}

fn to_json<'a>(i: &'a QueueItem, now: DateTime<Utc>, cal: &Calendar) -> ItemJson<'a> {
    let f = &i.follow_up;
    let rank = queue::score(i, now, cal);
    ItemJson {
        id: f.id,
        account_id: f.account_id.0,
        account: &i.account,
        kind: f.kind.key(),
        priority: priority_label(f.priority),
        due: cal.local(i.due).to_rfc3339(),
        overdue: i.is_overdue(now),
        section: i.section(&cal.bounds(now)).map_or("today", |s| s.key()),
        reason: &i.reason,
        ticket_id: f.ticket_id,
        rank: rank.score,
        rank_explained: rank.lines(),
    }
}

fn due_text(i: &QueueItem, now: DateTime<Utc>, cal: &Calendar) -> String {
    if i.is_overdue(now) {
        format!("{} late", crate::display::ago(i.due, now))
    } else {
        cal.local(i.due).format("%H:%M").to_string()
    }
}

/// Markdown-safe text: table pipes and emphasis marks lose their meaning.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('*', "\\*").replace('_', "\\_")
}

/// The day's queue as a digest to read offline or paste into a report:
/// grouped by kind (most urgent kind first), then by account with its
/// context, each item with its due time and reason.
fn digest(store: &Store, items: &[QueueItem], now: DateTime<Utc>, cal: &Calendar, c: Counts) -> CliResult<String> {
    let (overdue, today) = (c.overdue, c.today);
    let mut out = format!("# Follow-ups for {}\n\n", cal.local(now).format("%A %d %B %Y"));
    let accounts: std::collections::BTreeSet<u64> = items.iter().map(|i| i.follow_up.account_id.0).collect();
    out.push_str(&format!(
        "{overdue} overdue, {today} due later today, across {} accounts. Most urgent first.\n",
        accounts.len()
    ));
    // Kinds in the order their most urgent item comes (items are ranked).
    let mut kinds: Vec<FollowUpKind> = Vec::new();
    for i in items {
        if !kinds.contains(&i.follow_up.kind) {
            kinds.push(i.follow_up.kind);
        }
    }
    let bands = crate::domain::Bands::default();
    for kind in kinds {
        let of_kind: Vec<&QueueItem> = items.iter().filter(|i| i.follow_up.kind == kind).collect();
        out.push_str(&format!("\n## {} ({})\n", kind.title(), of_kind.len()));
        let mut seen: Vec<u64> = Vec::new();
        for first in &of_kind {
            let id = first.follow_up.account_id;
            if seen.contains(&id.0) {
                continue;
            }
            seen.push(id.0);
            let row = store.row(id)?;
            let mut context = vec![match first.health {
                Some(h) => format!("health {h} ({})", bands.band(h).key()),
                None => "no health score yet".into(),
            }];
            context.push(format!("{} ARR", crate::display::money(first.arr)));
            let support = store.support_only(id)?;
            if let (Some(r), Some(s)) = (&row, &support) {
                context.push(r.stage.label().to_string());
                context.push(if s.is_ambiguous() { "support only, ambiguous match" } else { "support only" }.into());
            } else if let Some(r) = &row {
                context.push(r.stage.label().to_string());
                let days = r.days_to_renewal(cal.day(now));
                context.push(if days >= 0 {
                    format!("renews in {days} days")
                } else {
                    format!("renewal {} days ago", -days)
                });
            }
            out.push_str(&format!("\n### {} · {}\n\n", md(&first.account), context.join(" · ")));
            for i in of_kind.iter().filter(|i| i.follow_up.account_id == id) {
                let f = &i.follow_up;
                out.push_str(&format!(
                    "- **{}** · {} · rank {} · {}\n",
                    due_text(i, now, cal),
                    priority_label(f.priority),
                    queue::score(i, now, cal).score,
                    md(&i.reason)
                ));
            }
        }
    }
    Ok(out)
}

/// Prints the user's day: what is overdue and due by the end of their
/// local day, on their calendar.
pub fn run(store: &Store, format: Format, now: DateTime<Utc>, cal: &Calendar) -> CliResult {
    let mut items = queue::load(store, now, usize::MAX, cal)?;
    let bounds = cal.bounds(now);
    let counts = queue::counts(&items, &bounds);
    items.retain(|i| matches!(i.section(&bounds), Some(Section::Overdue | Section::Today)));
    let (overdue, today) = (counts.overdue, counts.today);
    let out = match format {
        Format::Json => {
            let list: Vec<ItemJson> = items.iter().map(|i| to_json(i, now, cal)).collect();
            let doc = serde_json::json!({
                "generated_at": cal.local(now).to_rfc3339(),
                "day": cal.day(now).to_string(),
                "timezone": cal.zone.name(),
                "overdue": overdue,
                "due_today": today,
                "upcoming": counts.upcoming,
                "items": list,
            });
            json(&doc)?
        }
        Format::Markdown => digest(store, &items, now, cal, counts)?,
        Format::Table => {
            let headers = [
                ("Due", Align::Right),
                ("Priority", Align::Left),
                ("Account", Align::Left),
                ("Kind", Align::Left),
                ("Reason", Align::Left),
            ];
            let cells: Vec<Vec<String>> = items
                .iter()
                .map(|i| {
                    let f = &i.follow_up;
                    vec![
                        due_text(i, now, cal),
                        priority_label(f.priority).into(),
                        i.account.to_string(),
                        f.kind.label().into(),
                        i.reason.to_string(),
                    ]
                })
                .collect();
            let mut s = grid(format, &headers, &cells);
            s.push_str(&format!(
                "\n{overdue} overdue, {today} due later today ({}); {} more in the coming week.\n",
                cal.local(now).format("%A %d %B"),
                counts.upcoming
            ));
            s
        }
    };
    say!("{out}");
    Ok(())
}
