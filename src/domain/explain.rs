//! Why a score is what it is, and what moved it: each factor's points,
//! and the change of each since an earlier day, in words.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::account::Segment;
use super::health::{Factor, Measure};
use super::health_model::{Model, Scored};
use super::lifecycle::Stage;
use super::signals::{describe, value_text, DaySignals};

/// One measure's part in a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Which measure.
    pub measure: Measure,
    /// The measure scored 0-100.
    pub score: u8,
    /// Its weight that day.
    pub weight: u8,
    /// Points it adds to the overall score.
    pub points: f32,
    /// Points it costs against a perfect 100.
    pub lost: f32,
}

/// Each factor's points; they add up to the unrounded overall score.
pub fn contributions(factors: &[Factor]) -> Vec<Contribution> {
    let total: u32 = factors.iter().map(|f| f.weight as u32).sum();
    if total == 0 {
        return Vec::new();
    }
    factors
        .iter()
        .map(|f| {
            let share = f.weight as f32 / total as f32;
            Contribution {
                measure: f.measure,
                score: f.score,
                weight: f.weight,
                points: share * f.score.min(100) as f32,
                lost: share * (100 - f.score.min(100)) as f32,
            }
        })
        .collect()
}

/// A measure whose points changed between two days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mover {
    /// Which measure.
    pub measure: Measure,
    /// Points gained (+) or lost (-).
    pub points: f32,
    /// Its input on the later day.
    pub now: Option<f64>,
    /// Its input on the earlier day.
    pub then: Option<f64>,
}

impl Mover {
    /// "-12: no reply from the customer for 19 days (was 4 days)".
    pub fn text(&self) -> String {
        let was = match (self.now, self.then) {
            (Some(_), Some(t)) => format!(" (was {})", value_text(self.measure, t)),
            (Some(_), None) => " (newly known)".into(),
            (None, Some(t)) => format!(" (was {})", value_text(self.measure, t)),
            (None, None) => " (weights shifted)".into(),
        };
        let what = match self.now {
            Some(_) => describe(self.measure, self.now),
            None => format!("{} no longer known", self.measure.label()),
        };
        format!("{:+.0}: {what}{was}", self.points)
    }
}

/// What moved the score from `then` to `now`, biggest first; changes
/// under half a point are left out. Points include a measure's weight
/// moving when another input became known or unknown.
pub fn movers(model: &Model, now: &DaySignals, then: &DaySignals, stage: Stage, segment: Segment) -> Vec<Mover> {
    let points = |day: &DaySignals| -> Vec<Contribution> {
        let scored = model.score(&day.inputs(), day.stage().unwrap_or(stage), segment);
        contributions(&scored.factors)
    };
    let (a, b) = (points(now), points(then));
    let of = |cs: &[Contribution], m: Measure| cs.iter().find(|c| c.measure == m).map_or(0.0, |c| c.points);
    let mut out: Vec<Mover> = Measure::ALL
        .into_iter()
        .map(|m| Mover { measure: m, points: of(&a, m) - of(&b, m), now: now.get(m), then: then.get(m) })
        .filter(|m| m.points.abs() >= 0.5)
        .collect();
    out.sort_by(|x, y| y.points.abs().total_cmp(&x.points.abs()));
    out
}

/// Why an account's score is what it is on a day, and what moved it
/// since a week before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The day explained.
    pub day: NaiveDate,
    /// The day's inputs.
    pub inputs: DaySignals,
    /// The model's score with its factors, groups and missing inputs.
    pub scored: Scored,
    /// Each factor's points, biggest loss first.
    pub contributions: Vec<Contribution>,
    /// The day compared with, when it had inputs.
    pub then: Option<NaiveDate>,
    /// What moved the score since then, biggest first.
    pub movers: Vec<Mover>,
    /// "default v3".
    pub model: String,
}

/// Explains `now` on `day`, against `then` (a week before) when known.
pub fn explain(
    model: &Model,
    day: NaiveDate,
    now: &DaySignals,
    then: Option<(NaiveDate, DaySignals)>,
    stage: Stage,
    segment: Segment,
) -> Explanation {
    let scored = model.score(&now.inputs(), now.stage().unwrap_or(stage), segment);
    let mut contributions = contributions(&scored.factors);
    contributions.sort_by(|a, b| b.lost.total_cmp(&a.lost));
    let movers = then.map(|(_, t)| movers(model, now, &t, stage, segment)).unwrap_or_default();
    Explanation {
        day,
        inputs: *now,
        scored,
        contributions,
        then: then.map(|(d, _)| d),
        movers,
        model: format!("{} v{}", model.name, model.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health_model::Inputs;

    fn day(f: impl Fn(&mut Inputs)) -> DaySignals {
        let mut i = Inputs::default();
        i.set(Measure::Usage, 1.0).set(Measure::Engagement, 4.0).set(Measure::Support, 0.0);
        f(&mut i);
        DaySignals::new(&i, Stage::Adoption)
    }

    #[test]
    fn contributions_add_up_to_the_score() {
        let f = [
            Factor { measure: Measure::Usage, score: 50, weight: 30 },
            Factor { measure: Measure::Engagement, score: 100, weight: 10 },
        ];
        let c = contributions(&f);
        assert!((c[0].points - 37.5).abs() < 1e-4);
        assert!((c[0].points + c[1].points - 62.5).abs() < 1e-4);
        assert!((c[0].lost - 37.5).abs() < 1e-4);
        assert!(c[1].lost.abs() < 1e-4);
        assert!(contributions(&[]).is_empty());
    }

    #[test]
    fn silence_shows_as_the_mover_with_its_days() {
        let model = Model::builtin_ref();
        let then = day(|_| {});
        let now = day(|i| {
            i.set(Measure::Engagement, 19.0);
        });
        let m = movers(model, &now, &then, Stage::Adoption, Segment::Smb);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].measure, Measure::Engagement);
        // 19 days on a 7..60 line scores 77; weight 20 of 60 -> -8.
        assert_eq!(m[0].text(), "-8: no reply from the customer for 19 days (was 4 days)");
        let s_now = model.score(&now.inputs(), Stage::Adoption, Segment::Smb).score.unwrap() as f32;
        let s_then = model.score(&then.inputs(), Stage::Adoption, Segment::Smb).score.unwrap() as f32;
        assert!((s_now - s_then - m[0].points).abs() <= 1.0);
    }

    #[test]
    fn an_input_becoming_known_is_said_so() {
        let model = Model::builtin_ref();
        let then = day(|_| {});
        let now = day(|i| {
            i.set(Measure::Billing, 30.0);
        });
        let m = movers(model, &now, &then, Stage::Adoption, Segment::Smb);
        let billing = m.iter().find(|m| m.measure == Measure::Billing).expect("billing moved");
        assert!(billing.points > 0.0, "a known input adds its own points");
        assert!(billing.text().contains("invoice 30 days past due (newly known)"), "{}", billing.text());
        assert!(m.iter().any(|m| m.measure == Measure::Usage && m.points < 0.0), "weights shifted: {m:?}");
    }
}
