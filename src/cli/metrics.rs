//! `cockpit metrics`: the book's churn, retention, renewal, NPS, health and
//! renewal pipeline over a period, each figure with how it was counted.
//! The figures come from [`crate::report::metrics`]; this module prints them.

use super::print::{say, sayln};
use chrono::{Duration, NaiveDate};
use serde_json::json;

use super::output::{grid, json, Align};
use super::{CliResult, Error, Format};
use crate::domain::Bands;
use crate::report::metrics::{compute, pct, BandCounts, MetricsReport};
use crate::store::Store;

fn money(v: u64) -> String {
    crate::display::money(v)
}

fn bands_value(c: &BandCounts) -> String {
    format!("{} / {} / {}", c.green, c.yellow, c.red)
}

/// Prints the metrics of `from..=to` (default: the 30 days up to `today`).
pub fn run(
    store: &Store,
    bands: Bands,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Format,
    today: NaiveDate,
) -> CliResult {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(Error::usage(format!("--from {from} is after --to {to}; give the earlier day first")));
    }
    let r = compute(store, bands, from, to, today)?;
    match format {
        Format::Json => say!("{}", json(&to_json(&r))?),
        Format::Table => {
            sayln!("{from} to {to} ({} days)\n", r.period.days);
            say!("{}", rows_grid(format, &r));
        }
        Format::Markdown => {
            sayln!("## Metrics, {from} to {to} ({} days)\n", r.period.days);
            say!("{}", rows_grid(format, &r));
        }
    }
    Ok(())
}

/// The stable JSON document (documented in the README).
fn to_json(r: &MetricsReport) -> serde_json::Value {
    let (p, n, h) = (&r.period, &r.nps, &r.health);
    let renewing: serde_json::Map<String, serde_json::Value> =
        r.renewing.iter().map(|w| (format!("{}d", w.days), json!(w.arr))).collect();
    json!({
        "from": r.from.to_string(), "to": r.to.to_string(), "days": p.days,
        "customers": {
            "at_start": p.at_start, "at_end": p.at_end, "churned": p.churned, "renewed": p.renewed,
            "churned_voluntary": p.churned_voluntary, "churned_involuntary": p.churned_involuntary,
            "churned_reason_unknown": p.churned - p.churned_voluntary - p.churned_involuntary,
        },
        "logo_churn_simple_pct": r.logo_churn,
        "logo_churn_customer_days_pct": r.logo_churn_customer_days,
        "renewal_rate_pct": r.renewal_rate,
        "mrr": { "at_start": p.mrr_start, "churned": p.mrr_churned, "expansion": p.mrr_expansion },
        "revenue_churn_pct": r.revenue_churn,
        "gross_revenue_retention_pct": r.gross_retention,
        "net_revenue_retention_pct": r.net_retention,
        "nps": { "score": n.score, "answers": n.answers, "promoters": n.promoters, "passives": n.passives, "detractors": n.detractors },
        "health": {
            "green": h.green, "yellow": h.yellow, "red": h.red, "unscored": r.unscored,
            "by_segment": r.health_by_segment.iter().map(|(s, c)| json!({"segment": s.key(), "green": c.green, "yellow": c.yellow, "red": c.red})).collect::<Vec<_>>(),
        },
        "arr_up_for_renewal": renewing,
    })
}

/// The metric / value / how table, for the terminal or Markdown.
fn rows_grid(format: Format, r: &MetricsReport) -> String {
    let (p, n, from, today) = (&r.period, &r.nps, r.from, r.today);
    let row = |m: &str, v: String, how: String| vec![m.to_string(), v, how];
    let mut rows = vec![
        row("logo churn", pct(r.logo_churn), format!("{} lost of {} customers at {from}", p.churned, p.at_start)),
        row(
            "logo churn, customer-days",
            pct(r.logo_churn_customer_days),
            format!("{} churns / {:.1} customer-days x {} days", p.churned, r.customer_days, p.days),
        ),
        row(
            "churn by reason",
            format!("{} / {}", p.churned_voluntary, p.churned_involuntary),
            format!(
                "voluntary (chose to leave) / involuntary (payment failed, company closed); {} without a recorded reason",
                p.churned - p.churned_voluntary - p.churned_involuntary
            ),
        ),
        row("renewal rate", pct(r.renewal_rate), format!("100% - logo churn; {} renewals signed", p.renewed)),
        row(
            "revenue churn",
            pct(r.revenue_churn),
            format!("MRR {} lost of {} at the start", money(p.mrr_churned), money(p.mrr_start)),
        ),
        row(
            "gross revenue retention",
            pct(r.gross_retention),
            "starting MRR kept (churn only; contraction is not tracked)".into(),
        ),
        row(
            "net revenue retention",
            pct(r.net_retention),
            format!("gross + MRR {} from expansions won", money(p.mrr_expansion)),
        ),
        row(
            "NPS",
            n.score.map_or("n/a".into(), |s| format!("{s:+.1}")),
            format!(
                "{} answers: {} promoters, {} passives, {} detractors",
                n.answers, n.promoters, n.passives, n.detractors
            ),
        ),
        row(
            "health",
            bands_value(&r.health),
            format!("green / yellow / red live accounts; {} not scored yet", r.unscored),
        ),
    ];
    for (s, c) in &r.health_by_segment {
        rows.push(row(&format!("health, {}", s.key()), bands_value(c), "green / yellow / red".into()));
    }
    for w in &r.renewing {
        rows.push(row(
            &format!("ARR renewing in {} days", w.days),
            money(w.arr),
            format!("renewal date within {} days of {today}", w.days),
        ));
    }
    grid(format, &[("metric", Align::Left), ("value", Align::Right), ("how", Align::Left)], &rows)
}
