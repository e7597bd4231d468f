//! The health backtest: every churn and renewal in the workspace against
//! the score the account had a horizon before it, overall and per
//! segment, with a permutation test that says whether the result is luck,
//! and per measure what it predicts alone and what the model loses
//! without it.

use serde::Serialize;

use crate::domain::backtest::{by_segment, p_text, per_measure, shuffled, Figures, MeasureFigures, Shuffled};
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
    /// Outcomes whose inputs were kept for the horizon day.
    pub with_inputs: usize,
    /// The model's AUC rescored on those inputs (what each measure's drop
    /// is measured from).
    pub inputs_auc: Option<f64>,
    /// Per weighed measure: its AUC alone and the model's without it.
    pub measures: Vec<MeasureFigures>,
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
    let (inputs_auc, measures) = per_measure(&data.horizons, &ScoreTable::new(used));
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
        with_inputs: data.horizons.len(),
        inputs_auc,
        measures,
    })
}

/// Whether an AUC beats its shuffles (p below 5%), does reliably worse
/// than them (a model turned around), or could be luck; with the p-value
/// of the side it is on.
fn judged(auc: f64, s: &Shuffled) -> (&'static str, String) {
    if s.p_value < 0.05 && auc > 0.5 {
        ("better than chance", p_text(s.p_value, s.rounds))
    } else if s.p_below < 0.05 && auc < 0.5 {
        (
            "worse than chance (inverted: the accounts that churned scored higher than those that renewed)",
            p_text(s.p_below, s.rounds),
        )
    } else {
        let p = if auc < 0.5 { s.p_below } else { s.p_value };
        ("not distinguishable from chance", p_text(p, s.rounds))
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
        let (judged, p) = judged(auc, &s);
        format!(
            "AUC {auc:.2} vs {:.2} for the same scores shuffled ({} shuffles, 95% of them under {:.2}): {judged} ({p})",
            s.mean_auc, s.rounds, s.p95_auc
        )
    }

    /// The overall result in two lines, for the metrics view.
    pub fn summary_lines(&self) -> Vec<String> {
        let Some(f) = self.overall() else {
            return vec![self.verdict()];
        };
        let first = match (f.auc, self.shuffled) {
            (Some(auc), Some(s)) => {
                let (judged, p) = judged(auc, &s);
                format!("ROC AUC {auc:.2} vs {:.2} for shuffled scores ({p}): {judged}", s.mean_auc)
            }
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
    use crate::domain::health_model::Inputs;
    use crate::domain::signals::DaySignals;
    use crate::domain::{Account, AccountId, Measure, Outcome, OutcomeKind, Stage};
    use crate::store::pages::PageCache;
    use crate::store::Batch;
    use chrono::{Datelike, Duration, NaiveDate};

    /// A store of `n` accounts, each with an outcome and the inputs (and
    /// their score) 90 days before it: usage falls before most churns,
    /// contact is drawn the same way whatever happens. With `invert`, the
    /// usage story is turned around (the churners were the busy ones).
    fn book(n: u64, invert: bool) -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let table = ScoreTable::new(Model::builtin_ref());
        let mut batch = Batch::default();
        let mut pages = PageCache::default();
        let mut rng = crate::demo::rng::Rng::new(9, 1);
        let day0 = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        for id in 1..=n {
            let churned = id % 3 == 0;
            let on = day0 + Duration::days(rng.range(0, 120));
            let falls = if churned { rng.chance(0.85) } else { rng.chance(0.1) };
            let usage = if falls != invert { 0.3 + 0.3 * rng.f32() } else { 0.8 + 0.4 * rng.f32() };
            let mut inputs = Inputs::default();
            inputs.set(Measure::Usage, usage as f64).set(Measure::Engagement, rng.range(1, 60) as f64);
            let kind = if churned { OutcomeKind::Churned } else { OutcomeKind::Renewed };
            let account = Account {
                id: AccountId(id),
                name: format!("Account {id}"),
                domain: format!("a{id}.example"),
                segment: crate::domain::Segment::MidMarket,
                industry: "Retail".into(),
                region: "EMEA".into(),
                owner: "Dana".into(),
                plan: "Pro".into(),
                seats: 20,
                arr: 20_000,
                contract_start: on - Duration::days(365),
                renewal_date: on,
                stage: if churned { Stage::Churned } else { Stage::Renewed },
                key_people: vec![],
                outcome: Some(Outcome::new(kind, on)),
            };
            batch.put_account(&account);
            let at = on - Duration::days(90);
            let day = DaySignals::new(&inputs, Stage::Adoption);
            pages.inputs(&store, account.id, at.year()).unwrap().set(at, &day);
            let score = table.score(&day, Stage::Adoption, account.segment);
            pages.series(&store, account.id, at.year()).unwrap().set(at, score);
        }
        pages.flush_into(&mut batch);
        store.apply(batch).unwrap();
        (tmp, store)
    }

    #[test]
    fn the_backtest_says_which_measure_carries_the_signal() {
        let (_t, store) = book(300, false);
        let r = compute(&store, Model::builtin_ref(), Bands::default(), DEFAULT_HORIZON, None).unwrap();
        assert_eq!((r.outcomes, r.unscored, r.with_inputs), (300, 0, 300));
        let overall = r.overall().unwrap().auc.unwrap();
        assert!((r.inputs_auc.unwrap() - overall).abs() < 1e-12, "stored scores are the model's: {r:?}");
        let of = |m: Measure| r.measures.iter().find(|f| f.measure == m).unwrap().clone();
        let usage = of(Measure::Usage);
        assert!(usage.auc_alone.unwrap() > 0.8, "{usage:?}");
        assert!(usage.drop.unwrap() > 0.15, "{usage:?}");
        let contact = of(Measure::Engagement);
        assert!((contact.auc_alone.unwrap() - 0.5).abs() < 0.1, "{contact:?}");
        assert!(contact.drop.unwrap().abs() < 0.05, "{contact:?}");
        assert_eq!(r.measures[0].measure, Measure::Usage);
        assert!(r.verdict().contains("better than chance (p < 0.002)"), "{}", r.verdict());
        // The same stored inputs replayed give the same figures.
        let replayed = compute(&store, Model::builtin_ref(), Bands::default(), 90, Some(Model::builtin_ref())).unwrap();
        assert_eq!(replayed.measures, r.measures);
        // Another horizon finds no kept inputs: no measure can say anything.
        let far = compute(&store, Model::builtin_ref(), Bands::default(), 30, None).unwrap();
        assert_eq!((far.unscored, far.with_inputs, far.inputs_auc), (300, 0, None));
        assert!(far.measures.iter().all(|m| m.known == 0 && m.auc_alone.is_none()), "{:?}", far.measures);
    }

    #[test]
    fn a_model_that_predicts_backwards_is_called_inverted() {
        let (_t, store) = book(300, true);
        let r = compute(&store, Model::builtin_ref(), Bands::default(), DEFAULT_HORIZON, None).unwrap();
        assert!(r.overall().unwrap().auc.unwrap() < 0.3, "{r:?}");
        let verdict = r.verdict();
        assert!(verdict.contains("worse than chance (inverted"), "{verdict}");
        assert!(verdict.contains("(p < 0.002)"), "{verdict}");
        assert!(r.summary_lines()[0].contains("worse than chance"), "{:?}", r.summary_lines());
        assert!(!verdict.contains("not distinguishable"), "{verdict}");
    }

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
