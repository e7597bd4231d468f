//! `cockpit today`: the follow-up queue, headless.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::output::{grid, json, Align};
use super::{CliResult, Format};
use crate::queue::{self, priority_label, QueueItem};
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
    /// RFC 3339 due time.
    pub due: String,
    /// Whether it is past due.
    pub overdue: bool,
    /// Why, in words.
    pub reason: &'a str,
    /// The ticket, for ticket follow-ups.
    pub ticket_id: Option<u64>,
}

fn to_json(i: &QueueItem, now: DateTime<Utc>) -> ItemJson<'_> {
    let f = &i.follow_up;
    ItemJson {
        id: f.id,
        account_id: f.account_id.0,
        account: &i.account,
        kind: f.kind.key(),
        priority: priority_label(f.priority),
        due: f.due.to_rfc3339(),
        overdue: f.is_overdue(now),
        reason: &i.reason,
        ticket_id: f.ticket_id,
    }
}

/// Prints today's queue.
pub fn run(store: &Store, format: Format, now: DateTime<Utc>) -> CliResult {
    let items = queue::load(store, now, usize::MAX).map_err(|e| e.to_string())?;
    let (overdue, today) = queue::counts(&items, now);
    let out = match format {
        Format::Json => {
            let list: Vec<ItemJson> = items.iter().map(|i| to_json(i, now)).collect();
            let doc = serde_json::json!({
                "generated_at": now.to_rfc3339(),
                "overdue": overdue,
                "due_today": today,
                "items": list,
            });
            json(&doc)?
        }
        Format::Table | Format::Markdown => {
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
                    let due = if f.is_overdue(now) {
                        format!("{} late", crate::display::ago(f.due, now))
                    } else {
                        f.due.format("%H:%M").to_string()
                    };
                    vec![
                        due,
                        priority_label(f.priority).into(),
                        i.account.clone(),
                        f.kind.label().into(),
                        i.reason.clone(),
                    ]
                })
                .collect();
            let mut s = grid(format, &headers, &cells);
            if format == Format::Markdown {
                s = format!("# Follow-ups for {}\n\n{s}", now.format("%A %d %B %Y"));
            }
            s.push_str(&format!("\n{overdue} overdue, {today} due later today.\n"));
            s
        }
    };
    print!("{out}");
    Ok(())
}
