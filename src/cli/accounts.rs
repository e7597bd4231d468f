//! `cockpit accounts`: the accounts table, headless.

use super::print::say;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::output::{grid, json, Align};
use super::{CliResult, Error, Format};
use crate::book::{Book, SortKey};
use crate::domain::text::sanitize;
use crate::domain::{AccountRow, Bands, OrgLink, SupportOnly};
use crate::store::Store;

/// Which rows, in which order.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// Sort key name.
    pub sort: &'a str,
    /// Reverse the order.
    pub reverse: bool,
    /// Filter text.
    pub filter: Option<&'a str>,
    /// Row limit.
    pub limit: Option<usize>,
}

/// One account in the JSON output (a stable, documented shape).
#[derive(Debug, Serialize)]
pub struct AccountJson<'a> {
    /// Account id.
    pub id: u64,
    /// Name, sanitized.
    pub name: &'a str,
    /// enterprise / mid_market / smb.
    pub segment: &'static str,
    /// ARR, whole currency units.
    pub arr: u64,
    /// MRR (ARR / 12).
    pub mrr: u64,
    /// Latest health, or null.
    pub health: Option<u8>,
    /// green / yellow / red, or null.
    pub band: Option<&'static str>,
    /// Change over 7 days, or null.
    pub health_change_7d: Option<i16>,
    /// Change over 30 days, or null.
    pub health_change_30d: Option<i16>,
    /// Lifecycle stage key.
    pub stage: &'static str,
    /// ISO date.
    pub renewal_date: String,
    /// Days until renewal (negative when past).
    pub days_to_renewal: i64,
    /// Open tickets.
    pub open_tickets: u32,
    /// RFC 3339 time of the last two-way touch, or null.
    pub last_touch: Option<String>,
    /// Null for a CRM account; for a support organization of its own, why
    /// it stands apart.
    pub support_only: Option<SupportJson<'a>>,
}

/// Why an account is a support organization of its own.
#[derive(Debug, Serialize)]
pub struct SupportJson<'a> {
    /// The desk source.
    pub source: &'a str,
    /// The organization's id there.
    pub organization: u64,
    /// `unmatched` (no CRM account matches) or `ambiguous` (several do, or
    /// another organization claims the same one).
    pub state: &'static str,
    /// Why, in words (ambiguous only).
    pub why: Option<String>,
}

fn support_json(s: &SupportOnly) -> SupportJson<'_> {
    let (state, why) = match &s.link {
        OrgLink::Ambiguous { why } => ("ambiguous", Some(sanitize(why).into_owned())),
        _ => ("unmatched", None),
    };
    SupportJson { source: &s.source, organization: s.org, state, why }
}

fn to_json<'a>(
    r: &'a AccountRow,
    support: Option<&'a SupportOnly>,
    bands: &Bands,
    now: DateTime<Utc>,
) -> AccountJson<'a> {
    AccountJson {
        id: r.id.0,
        name: &r.name,
        segment: r.segment.key(),
        arr: r.arr,
        mrr: r.arr / 12,
        health: r.health,
        band: r.band(bands).map(|b| b.key()),
        health_change_7d: r.delta_7d(),
        health_change_30d: r.delta_30d(),
        stage: r.stage.key(),
        renewal_date: r.renewal_date.to_string(),
        days_to_renewal: r.days_to_renewal(now.date_naive()),
        open_tickets: r.open_tickets,
        last_touch: r.last_touch.map(|t| t.to_rfc3339()),
        support_only: support.map(support_json),
    }
}

/// Prints the accounts.
pub fn run(store: &Store, q: Query<'_>, bands: Bands, format: Format, now: DateTime<Utc>) -> CliResult {
    let key = SortKey::parse(q.sort).ok_or_else(|| {
        let keys: Vec<&str> = SortKey::ALL.iter().map(|k| k.cli()).collect();
        Error::usage(format!("--sort {}: unknown column; use one of {}", q.sort, keys.join(", ")))
    })?;
    let mut book = Book::load(store)?;
    book.set_sort(key, q.reverse);
    if let Some(f) = q.filter {
        book.set_filter(f);
    }
    let n = q.limit.unwrap_or(usize::MAX).min(book.view_len());
    let rows: Vec<&AccountRow> = book.view_slice(0, n).collect();
    let out = match format {
        Format::Json => {
            let items: Vec<AccountJson> =
                rows.iter().map(|r| to_json(r, book.support_only(r.id), &bands, now)).collect();
            let doc = serde_json::json!({
                "generated_at": now.to_rfc3339(),
                "total": book.total(),
                "accounts": items,
            });
            json(&doc)?
        }
        Format::Table | Format::Markdown => {
            let headers = [
                ("Name", Align::Left),
                ("Segment", Align::Left),
                ("ARR", Align::Right),
                ("Health", Align::Right),
                ("7d", Align::Right),
                ("Stage", Align::Left),
                ("Renews in", Align::Right),
                ("Tickets", Align::Right),
                ("Last touch", Align::Right),
            ];
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let support = book.support_only(r.id);
                    let name = match support {
                        Some(s) if s.is_ambiguous() => format!("{} [ambiguous]", r.name),
                        Some(_) => format!("{} [support only]", r.name),
                        None => r.name.clone(),
                    };
                    vec![
                        name,
                        r.segment.label().into(),
                        crate::display::money(r.arr),
                        r.health.map(|h| format!("{h} {}", r.band(&bands).map_or("", |b| b.key()))).unwrap_or_default(),
                        r.delta_7d().map(|d| format!("{d:+}")).unwrap_or_default(),
                        r.stage.label().into(),
                        match support {
                            Some(_) => "—".into(),
                            None => format!("{}d", r.days_to_renewal(now.date_naive())),
                        },
                        r.open_tickets.to_string(),
                        r.last_touch.map(|t| crate::display::ago(t, now)).unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            grid(format, &headers, &cells)
        }
    };
    say!("{out}");
    Ok(())
}
