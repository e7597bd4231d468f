//! The health model compiled to lookup tables over the one-byte inputs of
//! `DaySignals`: rescoring a year of history for 100,000 accounts is then
//! a few table reads per day instead of parsing floats and maps.
//!
//! It gives exactly `Model::score` on the same (dequantized) inputs; a
//! property test holds it to that.

use super::account::Segment;
use super::health::Measure;
use super::health_model::Model;
use super::lifecycle::Stage;
use super::signals::{dequantize, DaySignals, UNKNOWN};

const MEASURES: usize = Measure::ALL.len();

/// A model ready to score packed days.
#[derive(Debug, Clone)]
pub struct ScoreTable {
    /// The model's version.
    pub version: u16,
    /// Per measure: the score of every byte value (`UNKNOWN` unused).
    tables: [[u8; 256]; MEASURES],
    /// Weight sets: the model's own first, then one per profile.
    weights: Vec<[u8; MEASURES]>,
    /// Which weight set applies per stage and segment.
    pick: [[u8; 3]; 9],
}

fn segment_index(s: Segment) -> usize {
    Segment::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

impl ScoreTable {
    /// Compiles a model.
    pub fn new(model: &Model) -> ScoreTable {
        let mut tables = [[0u8; 256]; MEASURES];
        let mut base = [0u8; MEASURES];
        for spec in &model.measures {
            let i = spec.measure.index();
            base[i] = spec.weight;
            for q in 0..UNKNOWN {
                if let Some(v) = dequantize(spec.measure, q) {
                    tables[i][q as usize] = spec.scoring.score(v);
                }
            }
        }
        let mut weights = vec![base];
        for p in &model.profiles {
            let mut w = base;
            for (m, pw) in &p.weights {
                let i = m.index();
                // A profile only re-weighs measures the model has.
                if model.measures.iter().any(|s| s.measure == *m) {
                    w[i] = *pw;
                }
            }
            weights.push(w);
        }
        let mut pick = [[0u8; 3]; 9];
        for stage in Stage::ALL {
            for segment in Segment::ALL {
                let first = model.profiles.iter().position(|p| p.applies(stage, segment));
                pick[stage.index()][segment_index(segment)] = first.map_or(0, |i| i as u8 + 1);
            }
        }
        ScoreTable { version: model.version, tables, weights, pick }
    }

    /// The day's overall score; `None` when no weighted input was known.
    /// `stage` is used when the day did not record one.
    pub fn score(&self, day: &DaySignals, stage: Stage, segment: Segment) -> Option<u8> {
        let stage = day.stage().unwrap_or(stage);
        let w = &self.weights[self.pick[stage.index()][segment_index(segment)] as usize];
        let (mut sum, mut total) = (0u32, 0u32);
        for ((q, w), table) in day.0.iter().zip(w).zip(&self.tables) {
            if *q != UNKNOWN && *w != 0 {
                sum += *w as u32 * table[*q as usize] as u32;
                total += *w as u32;
            }
        }
        // The same rounding as `health::combine`.
        (total > 0).then(|| ((sum + total / 2) / total) as u8)
    }

    /// The measures with a weight in the model or any of its profiles, in
    /// display order.
    pub fn weighed(&self) -> Vec<Measure> {
        Measure::ALL.into_iter().filter(|m| self.weights.iter().any(|w| w[m.index()] > 0)).collect()
    }

    /// One measure's own 0-100 score on the day; `None` when its input was
    /// not known.
    pub fn measure_score(&self, day: &DaySignals, m: Measure) -> Option<u8> {
        let q = day.byte(m);
        (q != UNKNOWN).then(|| self.tables[m.index()][q as usize])
    }

    /// The same model with one measure's weight set to 0 everywhere (the
    /// model and each profile), to see what the score is worth without it.
    pub fn without(&self, m: Measure) -> ScoreTable {
        let mut t = self.clone();
        for w in &mut t.weights {
            w[m.index()] = 0;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health_model::Inputs;
    use proptest::prelude::*;

    #[test]
    fn an_empty_day_has_no_score() {
        let t = ScoreTable::new(Model::builtin_ref());
        assert_eq!(t.score(&DaySignals::default(), Stage::Adoption, Segment::Smb), None);
        assert_eq!(t.version, Model::builtin_ref().version);
    }

    #[test]
    fn a_measure_alone_and_the_model_without_it() {
        let t = ScoreTable::new(Model::builtin_ref());
        let weighed = t.weighed();
        assert!(weighed.contains(&Measure::Usage) && weighed.contains(&Measure::Onboarding), "{weighed:?}");
        assert!(!weighed.contains(&Measure::Login), "no weight anywhere: {weighed:?}");
        let mut inputs = Inputs::default();
        inputs.set(Measure::Usage, 0.4).set(Measure::Engagement, 7.0);
        let day = DaySignals::new(&inputs, Stage::Adoption);
        assert_eq!(t.measure_score(&day, Measure::Usage), Some(0));
        assert_eq!(t.measure_score(&day, Measure::Engagement), Some(100));
        assert_eq!(t.measure_score(&day, Measure::Seats), None);
        // 30 x 0 + 20 x 100 over 50 = 40; without usage, contact alone.
        assert_eq!(t.score(&day, Stage::Adoption, Segment::Smb), Some(40));
        let without = t.without(Measure::Usage);
        assert_eq!(without.score(&day, Stage::Adoption, Segment::Smb), Some(100));
        assert!(!without.weighed().contains(&Measure::Usage));
        assert_eq!(t.without(Measure::Engagement).score(&day, Stage::Adoption, Segment::Smb), Some(0));
    }

    proptest! {
        #[test]
        fn tables_score_exactly_like_the_model(
            bytes in proptest::collection::vec(prop_oneof![Just(UNKNOWN), 0u8..=254], MEASURES),
            stage in 0usize..9,
            segment in 0usize..3,
        ) {
            let mut day = DaySignals::default();
            for (i, b) in bytes.iter().enumerate() {
                day.0[i] = *b;
            }
            let stage = Stage::ALL[stage];
            day.0[MEASURES] = stage.index() as u8;
            let segment = Segment::ALL[segment];
            let model = Model::builtin_ref();
            let inputs: Inputs = day.inputs();
            let slow = model.score(&inputs, stage, segment).score;
            prop_assert_eq!(ScoreTable::new(model).score(&day, Stage::Adoption, segment), slow);
        }
    }
}
