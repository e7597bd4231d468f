//! The health backtest: every churn and renewal in the workspace against
//! the score the account had a horizon before it, overall and per
//! segment, with a permutation test that says whether the result is luck.

use serde::Serialize;

use crate::domain::backtest::{by_segment, shuffled, Figures, Shuffled};
use crate::domain::health_model::Model;
use crate::domain::health_table::ScoreTable;
use crate::domain::{Bands, Segment};
use crate::store::Store;

/// Default horizon in days.
pub const DEFAULT_HORIZON: i64 = 90;
/// Shuffles in the permutation test.
pub const SHUFFLES: usize = 500;

/// A backtest's figures and what they were computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    /// Days between the score and the outcome.
    pub horizon_days: i64,
    /// The model's name.
    pub model: String,
    /// The model's version.
    pub version: u16,
    /// Whether scores were recomputed from stored inputs with a model other
    /// than the one that produced the history.
    pub replayed: bool,
    /// Churns and renewals found.
    pub outcomes: usize,
    /// Outcomes with no score that far back, left out.
    pub unscored: usize,
    /// Red band threshold used (scores below it are red).
    pub red_below: u8,
    /// Overall first, then each segment with outcomes.
    pub groups: Vec<(Option<Segment>, Figures)>,
    /// The same scores dealt out at random.
    pub shuffled: Option<Shuffled>,
}

/// Parses a horizon: `90d`, `12w` or a bare number of days.
pub fn parse_horizon(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'd')) => (&t[..i], 1),
        Some((i, 'w')) => (&t[..i], 7),
        _ => (t, 1),
    };
    match num.trim().parse::<i64>() {
        Ok(n) if n > 0 && n * mult <= 3650 => Ok(n * mult),
        _ => Err(format!("--horizon {s:?} is not a horizon; give days or weeks, for example 90d or 12w")),
    }
}

/// Runs the backtest. With `replay`, that model rescores the stored inputs
/// (to try a model before switching to it); without, the stored scores of
/// `model` are used.
pub fn compute(
    store: &Store,
    model: &Model,
    bands: Bands,
    horizon_days: i64,
    replay: Option<&Model>,
) -> Result<BacktestReport, String> {
    let table = replay.map(ScoreTable::new);
    let data = store.backtest_samples(horizon_days, table.as_ref()).map_err(|e| e.to_string())?;
    let used = replay.unwrap_or(model);
    Ok(BacktestReport {
        horizon_days,
        model: used.name.clone(),
        version: used.version,
        replayed: replay.is_some(),
        outcomes: data.outcomes,
        unscored: data.unscored,
        red_below: bands.yellow,
        groups: by_segment(&data.samples, bands.yellow),
        shuffled: shuffled(&data.samples, SHUFFLES, 0x5eed),
    })
}

/// Whether an AUC beats its shuffles (p below 5%) or could be luck.
fn judged(auc: f64, s: &Shuffled) -> &'static str {
    if s.p_value < 0.05 && auc > 0.5 {
        "better than chance"
    } else {
        "not distinguishable from chance"
    }
}

/// A ratio as a percentage, or "n/a".
pub fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0))
}

/// A number with two decimals, or "n/a".
pub fn dec(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.2}"))
}

impl BacktestReport {
    /// The overall figures.
    pub fn overall(&self) -> Option<&Figures> {
        self.groups.first().map(|(_, f)| f)
    }

    /// One line on whether the AUC could be luck.
    pub fn verdict(&self) -> String {
        let (Some(all), Some(s)) = (self.overall(), self.shuffled) else {
            return "not enough outcomes to judge: it needs at least one churn and one renewal with a score".into();
        };
        let auc = all.auc.unwrap_or(0.5);
        let judged = judged(auc, &s);
        format!(
            "AUC {auc:.2} vs {:.2} for the same scores shuffled ({} shuffles, 95% of them under {:.2}): {judged} (p = {:.3})",
            s.mean_auc, s.rounds, s.p95_auc, s.p_value
        )
    }

    /// The overall result in two lines, for the metrics view.
    pub fn summary_lines(&self) -> Vec<String> {
        let Some(f) = self.overall() else {
            return vec![self.verdict()];
        };
        let first = match (f.auc, self.shuffled) {
            (Some(auc), Some(s)) => format!(
                "ROC AUC {auc:.2} vs {:.2} for shuffled scores (p = {:.3}): {}",
                s.mean_auc,
                s.p_value,
                judged(auc, &s)
            ),
            _ => self.verdict(),
        };
        vec![
            first,
            format!(
                "red band precision {} recall {} · top-decile lift {} · {} outcomes · {}-day horizon",
                pct(f.red_precision),
                pct(f.red_recall),
                f.top_decile_lift.map_or("n/a".into(), |l| format!("{l:.1}x")),
                self.outcomes,
                self.horizon_days,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_in_days_or_weeks() {
        assert_eq!(parse_horizon("90d"), Ok(90));
        assert_eq!(parse_horizon("12w"), Ok(84));
        assert_eq!(parse_horizon("30"), Ok(30));
        assert!(parse_horizon("0d").is_err());
        assert!(parse_horizon("soon").unwrap_err().contains("for example 90d"));
        assert!(parse_horizon("99999").is_err());
    }
}
