//! `cockpit health backtest` and `cockpit health recompute`.

use super::print::{say, sayln};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::output::{grid, json, Align};
use super::{CliResult, Error, Format};
use crate::config::Config;
use crate::domain::health_model::Model;
use crate::report::backtest::{self, dec, pct, BacktestReport};
use crate::store::{HealthRules, Store};

fn replay_model(path: &Path) -> CliResult<Model> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read the health model {}", path.display()), e, "; check the path"))?;
    Model::parse(&text).map_err(|issues| -> Error {
        let first = &issues[0];
        let line = text[..first.offset.min(text.len())].lines().count().max(1);
        format!(
            "{}:{line}: {}; fix it (cockpit config check shows every mistake) and run the backtest again",
            path.display(),
            first.message
        )
        .into()
    })
}

/// Prints the backtest of the model in force, or of `replay` on the stored inputs.
pub fn backtest(store: &Store, config: &Config, horizon: &str, replay: Option<&Path>, format: Format) -> CliResult {
    let days = backtest::parse_horizon(horizon).map_err(Error::Usage)?;
    let replay = replay.map(replay_model).transpose()?;
    let r = backtest::compute(store, &config.health_model, config.bands, days, replay.as_ref())?;
    say!("{}", render(&r, format)?);
    Ok(())
}

fn render(r: &BacktestReport, format: Format) -> CliResult<String> {
    if format == Format::Json {
        let groups: Vec<_> =
            r.groups.iter().map(|(s, f)| json!({ "segment": s.map_or("all", |s| s.key()), "figures": f })).collect();
        return json(&json!({
            "model": r.model,
            "version": r.version,
            "replayed": r.replayed,
            "horizon_days": r.horizon_days,
            "outcomes": r.outcomes,
            "unscored": r.unscored,
            "red_below": r.red_below,
            "groups": groups,
            "shuffled": r.shuffled,
            "with_inputs": r.with_inputs,
            "inputs_auc": r.inputs_auc,
            "measures": r.measures,
        }));
    }
    let md = format == Format::Markdown;
    let mut out = String::new();
    let title = format!(
        "Health backtest: model {} v{}{}, horizon {} days",
        r.model,
        r.version,
        if r.replayed { " replayed on the stored inputs" } else { "" },
        r.horizon_days
    );
    out.push_str(&if md { format!("## {title}\n\n") } else { format!("{title}\n\n") });
    out.push_str(&format!(
        "Each churn and renewal is set against the score the account had {} days before it.\n\
         {} outcomes found; {} had no score that far back and are left out.\n\n",
        r.horizon_days, r.outcomes, r.unscored
    ));
    let headers = [
        ("segment", Align::Left),
        ("scored", Align::Right),
        ("churned", Align::Right),
        ("renewed", Align::Right),
        ("ROC AUC", Align::Right),
        ("red", Align::Right),
        ("red precision", Align::Right),
        ("red recall", Align::Right),
        ("top-decile lift", Align::Right),
    ];
    let rows: Vec<Vec<String>> = r
        .groups
        .iter()
        .map(|(s, f)| {
            vec![
                s.map_or("all".into(), |s| s.key().to_string()),
                f.samples.to_string(),
                f.churned.to_string(),
                f.renewed.to_string(),
                dec(f.auc),
                f.red_count.to_string(),
                pct(f.red_precision),
                pct(f.red_recall),
                f.top_decile_lift.map_or("n/a".into(), |l| format!("{l:.1}x")),
            ]
        })
        .collect();
    out.push_str(&grid(format, &headers, &rows));
    out.push('\n');
    let bullet = if md { "- " } else { "  " };
    out.push_str(&format!("{}\n\n", r.verdict()));
    out.push_str(&measures(r, format));
    for line in [
        "ROC AUC: the chance a churned account scored lower than a renewed one (0.5 = a coin toss, 1 = perfect)."
            .to_string(),
        format!(
            "red precision: of the accounts in the red band (below {}), the share that churned; red recall: of those that churned, the share that were red.",
            r.red_below
        ),
        "top-decile lift: churn among the riskiest 10% of scores, as a multiple of churn overall.".to_string(),
        "AUC alone: the measure's own 0-100 score as the only predictor, over the outcomes where its input was known; \
         AUC without: the model with that measure's weight set to 0; drop: what the model loses without it \
         (below 0: it does better without)."
            .to_string(),
    ] {
        out.push_str(&format!("{bullet}{line}\n"));
    }
    Ok(out)
}

/// The per-measure table: which inputs carry the model's weight in this book.
fn measures(r: &BacktestReport, format: Format) -> String {
    if r.measures.is_empty() {
        return String::new();
    }
    let md = format == Format::Markdown;
    let title = format!(
        "Per measure, on the {} outcomes whose inputs were kept {} days before (the model on them: AUC {})",
        r.with_inputs,
        r.horizon_days,
        dec(r.inputs_auc)
    );
    let mut out = if md { format!("### {title}\n\n") } else { format!("{title}\n\n") };
    let headers = [
        ("measure", Align::Left),
        ("known", Align::Right),
        ("AUC alone", Align::Right),
        ("AUC without", Align::Right),
        ("drop", Align::Right),
    ];
    let rows: Vec<Vec<String>> = r
        .measures
        .iter()
        .map(|m| {
            vec![
                m.measure.key().to_string(),
                m.known.to_string(),
                dec(m.auc_alone),
                dec(m.auc_without),
                m.drop.map_or("n/a".into(), |d| format!("{d:+.2}")),
            ]
        })
        .collect();
    out.push_str(&grid(format, &headers, &rows));
    out.push('\n');
    out
}

/// Rescores the history with the model in force and runs today's pass.
pub fn recompute(store: &Store, config: &Config, now: DateTime<Utc>) -> CliResult {
    let started = std::time::Instant::now();
    let r = store.recompute_health(&config.health_model, now.date_naive())?;
    let rules = HealthRules { model: &config.health_model, flags: &config.flags, bands: &config.bands };
    let d = store.daily_health(rules, now)?;
    super::write_back(store, config, now);
    sayln!(
        "health rescored with model {} v{}: {} accounts, {} account-years rewritten, {} rows changed; \
         today: {} accounts scored, {} flags raised, {} cleared ({:.1} s)",
        config.health_model.name,
        config.health_model.version,
        r.accounts,
        r.rewritten,
        r.rows_changed,
        d.scored,
        d.raised,
        d.cleared,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
