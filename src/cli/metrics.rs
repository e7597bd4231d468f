//! `cockpit metrics`: the book's churn, retention, renewal, NPS, health and
//! renewal pipeline over a period, each figure with how it was counted.

use chrono::{Duration, NaiveDate};
use serde_json::json;

use super::output::{grid, json, Align};
use super::{CliResult, Format};
use crate::domain::metrics::{renewal_rate, Period};
use crate::domain::nps::{classify, nps, NpsClass};
use crate::domain::{Account, Band, Bands, Segment};
use crate::store::Store;

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.1}%"))
}

fn money(v: u64) -> String {
    crate::display::money(v)
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
        return Err(format!("--from {from} is after --to {to}; give the earlier day first"));
    }
    let accounts: Vec<Account> = store.accounts().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let deals: Vec<_> = store.all_deals().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let p = Period::of(&accounts, &deals, from, to);
    let answers: Vec<u8> =
        store.all_nps().filter_map(|n| n.ok()).filter(|n| n.on >= from && n.on <= to).map(|n| n.score).collect();
    let count = |c: NpsClass| answers.iter().filter(|s| classify(**s) == c).count();
    let (pro, pas, det) = (count(NpsClass::Promoter), count(NpsClass::Passive), count(NpsClass::Detractor));
    let score = nps(answers.iter().copied());

    // Health now, by band and by segment; ARR coming up for renewal.
    let mut by_band = [0u64; 3];
    let mut by_segment: Vec<(Segment, [u64; 3])> =
        [Segment::Enterprise, Segment::MidMarket, Segment::Smb].into_iter().map(|s| (s, [0; 3])).collect();
    let mut unscored = 0u64;
    let mut renewing = [0u64; 3];
    for row in store.rows() {
        let row = row.map_err(|e| e.to_string())?;
        if !row.stage.is_active() {
            continue;
        }
        match row.band(&bands) {
            Some(b) => {
                let i = match b {
                    Band::Green => 0,
                    Band::Yellow => 1,
                    Band::Red => 2,
                };
                by_band[i] += 1;
                if let Some((_, counts)) = by_segment.iter_mut().find(|(s, _)| *s == row.segment) {
                    counts[i] += 1;
                }
            }
            None => unscored += 1,
        }
        let days = row.days_to_renewal(today);
        for (i, window) in [30, 60, 90].into_iter().enumerate() {
            if (0..=window).contains(&days) {
                renewing[i] += row.arr;
            }
        }
    }

    let simple = p.simple_churn();
    if format == Format::Json {
        let doc = json!({
            "from": from.to_string(), "to": to.to_string(), "days": p.days,
            "customers": { "at_start": p.at_start, "at_end": p.at_end, "churned": p.churned, "renewed": p.renewed },
            "logo_churn_simple_pct": simple,
            "logo_churn_customer_days_pct": p.customer_days_churn(),
            "renewal_rate_pct": simple.map(renewal_rate),
            "mrr": { "at_start": p.mrr_start, "churned": p.mrr_churned, "expansion": p.mrr_expansion },
            "revenue_churn_pct": p.revenue_churn(),
            "gross_revenue_retention_pct": p.gross_retention(),
            "net_revenue_retention_pct": p.net_retention(),
            "nps": { "score": score, "answers": answers.len(), "promoters": pro, "passives": pas, "detractors": det },
            "health": {
                "green": by_band[0], "yellow": by_band[1], "red": by_band[2], "unscored": unscored,
                "by_segment": by_segment.iter().map(|(s, c)| json!({"segment": s.key(), "green": c[0], "yellow": c[1], "red": c[2]})).collect::<Vec<_>>(),
            },
            "arr_up_for_renewal": { "30d": renewing[0], "60d": renewing[1], "90d": renewing[2] },
        });
        print!("{}", json(&doc)?);
        return Ok(());
    }
    let row = |m: &str, v: String, how: String| vec![m.to_string(), v, how];
    let mut rows = vec![
        row("logo churn", pct(simple), format!("{} lost of {} customers at {from}", p.churned, p.at_start)),
        row(
            "logo churn, customer-days",
            pct(p.customer_days_churn()),
            format!(
                "{} churns / {:.1} customer-days x {} days",
                p.churned,
                crate::domain::metrics::customer_days(p.at_start, p.at_end, p.days),
                p.days
            ),
        ),
        row("renewal rate", pct(simple.map(renewal_rate)), format!("100% - logo churn; {} renewals signed", p.renewed)),
        row(
            "revenue churn",
            pct(p.revenue_churn()),
            format!("MRR {} lost of {} at the start", money(p.mrr_churned), money(p.mrr_start)),
        ),
        row(
            "gross revenue retention",
            pct(p.gross_retention()),
            "starting MRR kept (churn only; contraction is not tracked)".into(),
        ),
        row(
            "net revenue retention",
            pct(p.net_retention()),
            format!("gross + MRR {} from expansions won", money(p.mrr_expansion)),
        ),
        row(
            "NPS",
            score.map_or("n/a".into(), |s| format!("{s:+.1}")),
            format!("{} answers: {pro} promoters, {pas} passives, {det} detractors", answers.len()),
        ),
        row(
            "health",
            format!("{} / {} / {}", by_band[0], by_band[1], by_band[2]),
            format!("green / yellow / red live accounts; {unscored} not scored yet"),
        ),
    ];
    for (s, c) in &by_segment {
        rows.push(row(
            &format!("health, {}", s.key()),
            format!("{} / {} / {}", c[0], c[1], c[2]),
            "green / yellow / red".into(),
        ));
    }
    for (i, w) in [30, 60, 90].into_iter().enumerate() {
        rows.push(row(
            &format!("ARR renewing in {w} days"),
            money(renewing[i]),
            format!("renewal date within {w} days of {today}"),
        ));
    }
    if format == Format::Table {
        println!("{from} to {to} ({} days)\n", p.days);
    } else {
        println!("## Metrics, {from} to {to} ({} days)\n", p.days);
    }
    print!("{}", grid(format, &[("metric", Align::Left), ("value", Align::Right), ("how", Align::Left)], &rows));
    Ok(())
}
