//! Health-score backtest: how well past scores predicted churn. Pure:
//! samples (a score and what then happened) come in, figures go out.
//! Scores are 0-100 and LOW means risky, so the churn predictor is
//! `100 - score`.

use super::account::Segment;
use super::health::Measure;
use super::health_table::ScoreTable;
use super::lifecycle::Stage;
use super::signals::DaySignals;

/// One account's prediction and what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Health score at prediction time, 0-100, low = risky.
    pub score: u8,
    /// Whether the account later churned (false = renewed).
    pub churned: bool,
    /// The account's segment, for per-segment figures.
    pub segment: Segment,
}

/// Figures for one group of samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figures {
    /// Accounts in the group.
    pub samples: usize,
    /// Accounts that churned.
    pub churned: usize,
    /// Accounts that renewed.
    pub renewed: usize,
    /// ROC AUC of (100 - score) as a churn predictor; ties count half; None when either class is empty.
    pub auc: Option<f64>,
    /// Of the accounts in the red band (score < red_below), the share that churned. None when no account was red.
    pub red_precision: Option<f64>,
    /// Of the churned accounts, the share that were in the red band. None when none churned.
    pub red_recall: Option<f64>,
    /// Accounts in the red band (score < red_below).
    pub red_count: usize,
    /// Churn rate among the riskiest decile (the ceil(n/10) lowest scores, ties broken by keeping input order stable) divided by the overall churn rate. None when nothing churned or n == 0.
    pub top_decile_lift: Option<f64>,
}

/// ROC AUC of (100 - score) as a churn predictor, by the Mann-Whitney rank sum; None when either class is empty.
pub fn auc(samples: &[Sample]) -> Option<f64> {
    let n1 = samples.iter().filter(|s| s.churned).count() as u64;
    let n0 = samples.len() as u64 - n1;
    if n1 == 0 || n0 == 0 {
        return None;
    }
    // Rank by risk ascending, i.e. score descending; only score and class matter.
    let mut ranked: Vec<(u8, bool)> = samples.iter().map(|s| (s.score, s.churned)).collect();
    ranked.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
    // Work in doubled ranks so average ranks of ties stay integers and the
    // result is exact: a tie group at 0-based positions i..j has average
    // 1-based rank (i + 1 + j) / 2.
    let mut churned_rank_sum2: u64 = 0;
    let mut i = 0;
    while i < ranked.len() {
        let score = ranked[i].0;
        let j = i + ranked[i..].iter().take_while(|r| r.0 == score).count();
        let in_group = ranked[i..j].iter().filter(|r| r.1).count() as u64;
        churned_rank_sum2 += in_group * (i as u64 + 1 + j as u64);
        i = j;
    }
    // U = R1 - n1(n1+1)/2 counts (churned, renewed) pairs ordered right, ties half.
    let u2 = churned_rank_sum2 - n1 * (n1 + 1);
    Some(u2 as f64 / (2 * n1 * n0) as f64)
}

/// All backtest figures for one group; `red_below` is the exclusive upper score of the red band.
pub fn figures(samples: &[Sample], red_below: u8) -> Figures {
    let n = samples.len();
    let churned = samples.iter().filter(|s| s.churned).count();
    let red_count = samples.iter().filter(|s| s.score < red_below).count();
    let red_churned = samples.iter().filter(|s| s.score < red_below && s.churned).count();
    Figures {
        samples: n,
        churned,
        renewed: n - churned,
        auc: auc(samples),
        red_precision: ratio(red_churned, red_count),
        red_recall: ratio(red_churned, churned),
        red_count,
        top_decile_lift: top_decile_lift(samples, churned),
    }
}

/// Overall first, then one entry per segment present, in Segment::ALL order (Enterprise, MidMarket, Smb).
pub fn by_segment(samples: &[Sample], red_below: u8) -> Vec<(Option<Segment>, Figures)> {
    let mut out = vec![(None, figures(samples, red_below))];
    for seg in Segment::ALL {
        let group: Vec<Sample> = samples.iter().filter(|s| s.segment == seg).copied().collect();
        if !group.is_empty() {
            out.push((Some(seg), figures(&group, red_below)));
        }
    }
    out
}

/// `num / den`, or None for an empty denominator.
fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Top-decile churn rate over the overall churn rate; `churned` is the group's churn count.
fn top_decile_lift(samples: &[Sample], churned: usize) -> Option<f64> {
    let n = samples.len();
    if n == 0 || churned == 0 {
        return None;
    }
    let k = n.div_ceil(10);
    let mut by_score: Vec<&Sample> = samples.iter().collect();
    // Stable, so equal scores keep input order and the cut is reproducible.
    by_score.sort_by_key(|s| s.score);
    let top_churned = by_score[..k].iter().filter(|s| s.churned).count();
    // (top_churned / k) / (churned / n), rearranged so exact cases stay exact.
    Some((top_churned * n) as f64 / (k * churned) as f64)
}

/// An outcome with the inputs its account had at the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Horizon {
    /// The inputs stored for the day `horizon` before the outcome.
    pub day: DaySignals,
    /// The account's stage, for a day that recorded none.
    pub stage: Stage,
    /// The account's segment.
    pub segment: Segment,
    /// Whether the account churned (false = renewed).
    pub churned: bool,
}

/// What one weighed measure is worth in the backtest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MeasureFigures {
    /// The measure (its input's key).
    pub measure: Measure,
    /// Outcomes whose input was known at the horizon.
    pub known: usize,
    /// ROC AUC of the measure's own 0-100 score over those outcomes.
    pub auc_alone: Option<f64>,
    /// ROC AUC of the model with this measure's weight set to 0.
    pub auc_without: Option<f64>,
    /// The model's AUC minus `auc_without`: how much the model loses
    /// without the measure (negative: it does better without).
    pub drop: Option<f64>,
}

/// Per weighed measure: its AUC alone and the model's AUC without it, over
/// the stored inputs; with the model's own AUC on those inputs first.
/// Largest drop first (ties in display order).
pub fn per_measure(horizons: &[Horizon], table: &ScoreTable) -> (Option<f64>, Vec<MeasureFigures>) {
    let scored = |t: &ScoreTable| -> Vec<Sample> {
        horizons
            .iter()
            .filter_map(|h| {
                let score = t.score(&h.day, h.stage, h.segment)?;
                Some(Sample { score, churned: h.churned, segment: h.segment })
            })
            .collect()
    };
    let model = auc(&scored(table));
    let mut out: Vec<MeasureFigures> = table
        .weighed()
        .into_iter()
        .map(|m| {
            let alone: Vec<Sample> = horizons
                .iter()
                .filter_map(|h| {
                    let score = table.measure_score(&h.day, m)?;
                    Some(Sample { score, churned: h.churned, segment: h.segment })
                })
                .collect();
            let without = auc(&scored(&table.without(m)));
            MeasureFigures {
                measure: m,
                known: alone.len(),
                auc_alone: auc(&alone),
                auc_without: without,
                drop: model.zip(without).map(|(a, b)| a - b),
            }
        })
        .collect();
    // Stable: equal drops keep display order; unknown drops go last.
    out.sort_by(|a, b| b.drop.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.drop.unwrap_or(f64::NEG_INFINITY)));
    (model, out)
}

/// How the model's AUC compares with the same scores dealt out at random.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Shuffled {
    /// Shuffles run.
    pub rounds: usize,
    /// Mean AUC of the shuffled scores (about 0.5).
    pub mean_auc: f64,
    /// The AUC that 95% of shuffles stay under.
    pub p95_auc: f64,
    /// Share of shuffles that did at least as well as the model: the
    /// chance its AUC is luck.
    pub p_value: f64,
    /// Share of shuffles that did at least as badly: the chance an AUC
    /// below 0.5 is luck rather than a model turned around.
    pub p_below: f64,
}

/// A p-value from `rounds` shuffles in words: "p = 0.034", or "p < 0.002"
/// when no shuffle did as well (the test cannot say more than 1 in
/// `rounds`).
pub fn p_text(p: f64, rounds: usize) -> String {
    if p > 0.0 || rounds == 0 {
        return format!("p = {p:.3}");
    }
    // 1/rounds rounded up, so the bound is never understated.
    let bound = 1.0 / rounds as f64;
    let digits = ((-bound.log10()).ceil() as usize).max(3);
    let scale = 10f64.powi(digits as i32);
    format!("p < {:.*}", digits, ((bound * scale) - 1e-9).ceil() / scale)
}

/// A permutation test: the scores shuffled among the accounts `rounds`
/// times (seeded, so a report is reproducible). `None` when the AUC is.
pub fn shuffled(samples: &[Sample], rounds: usize, seed: u64) -> Option<Shuffled> {
    let observed = auc(samples)?;
    let mut scores: Vec<u8> = samples.iter().map(|s| s.score).collect();
    let mut work: Vec<Sample> = samples.to_vec();
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64*: small, seedable, good enough to shuffle.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut aucs = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        for i in (1..scores.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            scores.swap(i, j);
        }
        for (w, s) in work.iter_mut().zip(&scores) {
            w.score = *s;
        }
        aucs.push(auc(&work)?);
    }
    aucs.sort_by(f64::total_cmp);
    let n = aucs.len();
    Some(Shuffled {
        rounds: n,
        mean_auc: aucs.iter().sum::<f64>() / n as f64,
        p95_auc: aucs[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1],
        p_value: aucs.iter().filter(|a| **a >= observed - 1e-12).count() as f64 / n as f64,
        p_below: aucs.iter().filter(|a| **a <= observed + 1e-12).count() as f64 / n as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(score: u8, churned: bool) -> Sample {
        Sample { score, churned, segment: Segment::MidMarket }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Minimal LCG (Knuth's MMIX constants) so tests are deterministic without new crates.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
    }

    /// O(n^2) reference AUC by direct pair counting.
    fn auc_pairwise(samples: &[Sample]) -> Option<f64> {
        let (mut pairs, mut wins2) = (0u64, 0u64);
        for c in samples.iter().filter(|x| x.churned) {
            for r in samples.iter().filter(|x| !x.churned) {
                pairs += 1;
                wins2 += match c.score.cmp(&r.score) {
                    std::cmp::Ordering::Less => 2,
                    std::cmp::Ordering::Equal => 1,
                    std::cmp::Ordering::Greater => 0,
                };
            }
        }
        (pairs > 0).then(|| wins2 as f64 / (2 * pairs) as f64)
    }

    #[test]
    fn auc_perfect_separation_is_one() {
        let v = [s(10, true), s(80, false), s(20, true), s(90, false), s(30, true)];
        assert_eq!(auc(&v), Some(1.0));
    }

    #[test]
    fn auc_inverted_is_zero() {
        let v = [s(90, true), s(10, false), s(80, true), s(20, false)];
        assert_eq!(auc(&v), Some(0.0));
    }

    #[test]
    fn auc_all_scores_equal_is_half() {
        let v = [s(50, true), s(50, false), s(50, false), s(50, true), s(50, false)];
        assert_eq!(auc(&v), Some(0.5));
    }

    #[test]
    fn auc_mixed_with_ties_by_hand() {
        // Churned 20, 40, 60; renewed 40, 60, 80. Pairs (churned < renewed
        // = 1, equal = 1/2): 20 -> 1+1+1 = 3; 40 -> 1/2+1+1 = 2.5;
        // 60 -> 0+1/2+1 = 1.5; total 7 of 9 pairs, AUC = 7/9.
        // Rank check (risk ascending = score descending): 80R=1, 60C/60R=2.5,
        // 40C/40R=4.5, 20C=6; R1 = 2.5+4.5+6 = 13; U = 13 - 3*4/2 = 7.
        let v = [s(60, true), s(40, false), s(20, true), s(80, false), s(40, true), s(60, false)];
        let got = auc(&v).unwrap();
        assert!(close(got, 7.0 / 9.0), "{got}");
    }

    #[test]
    fn auc_random_scores_independent_of_outcome_is_near_half() {
        let mut rng = Lcg(42);
        let v: Vec<Sample> = (0..10_000)
            .map(|_| {
                let score = (rng.next() % 101) as u8;
                s(score, rng.next().is_multiple_of(5))
            })
            .collect();
        let got = auc(&v).unwrap();
        assert!((0.45..0.55).contains(&got), "{got}");
    }

    #[test]
    fn auc_matches_pairwise_count_on_tied_random_data() {
        // Few distinct scores force many ties; outcome leans on score so AUC is not ~0.5.
        let mut rng = Lcg(7);
        let v: Vec<Sample> = (0..1_500)
            .map(|_| {
                let score = (rng.next() % 11) as u8 * 10;
                s(score, rng.next() % 100 < u64::from(100 - score) / 2)
            })
            .collect();
        let (fast, slow) = (auc(&v).unwrap(), auc_pairwise(&v).unwrap());
        assert!(close(fast, slow), "{fast} vs {slow}");
        assert!(fast > 0.6, "{fast}");
    }

    #[test]
    fn red_precision_and_recall_by_hand() {
        // red_below 40: red = 10C, 20C, 30R, 39R (4); churned = 10, 20, 70 (3).
        // precision = 2/4, recall = 2/3. 40 is not red (strictly below).
        let v = [s(10, true), s(20, true), s(30, false), s(39, false), s(40, false), s(70, true), s(90, false)];
        let f = figures(&v, 40);
        assert_eq!((f.samples, f.churned, f.renewed, f.red_count), (7, 3, 4, 4));
        assert_eq!(f.red_precision, Some(0.5));
        assert!(close(f.red_recall.unwrap(), 2.0 / 3.0));
    }

    #[test]
    fn top_decile_lift_by_hand() {
        // 20 samples, decile = 2 lowest scores (5, 8), both churned;
        // overall churn 5/20 -> lift (2/2) / (5/20) = 4.0.
        let mut v: Vec<Sample> = (0..18).map(|i| s(30 + i * 3, i % 6 == 0)).collect();
        v.insert(7, s(8, true));
        v.insert(3, s(5, true));
        assert_eq!(v.len(), 20);
        assert_eq!(v.iter().filter(|x| x.churned).count(), 5);
        assert_eq!(figures(&v, 0).top_decile_lift, Some(4.0));
    }

    #[test]
    fn top_decile_ties_keep_input_order() {
        // 11 samples -> ceil(11/10) = 2. Three tie at the lowest score; the
        // first two in input order (both renewed) are the decile -> lift 0.
        let mut v = vec![s(5, false), s(5, false), s(5, true)];
        v.extend((0..8).map(|i| s(50 + i, i == 0)));
        assert_eq!(figures(&v, 0).top_decile_lift, Some(0.0));
        // Put the churned one first: decile is 1 churned of 2, overall 2/11 -> 2.75.
        v.swap(0, 2);
        assert_eq!(figures(&v, 0).top_decile_lift, Some(2.75));
    }

    #[test]
    fn empty_input_gives_none() {
        let f = figures(&[], 40);
        assert_eq!((f.samples, f.churned, f.renewed, f.red_count), (0, 0, 0, 0));
        assert_eq!(f.auc, None);
        assert_eq!(f.red_precision, None);
        assert_eq!(f.red_recall, None);
        assert_eq!(f.top_decile_lift, None);
        assert_eq!(auc(&[]), None);
    }

    #[test]
    fn all_renewed_gives_none_where_churn_is_needed() {
        let v = [s(10, false), s(50, false), s(90, false)];
        let f = figures(&v, 40);
        assert_eq!(f.auc, None);
        assert_eq!(f.red_recall, None);
        assert_eq!(f.top_decile_lift, None);
        // One account was red and did not churn.
        assert_eq!((f.red_count, f.red_precision), (1, Some(0.0)));
    }

    #[test]
    fn all_churned_gives_none_auc_but_lift_one() {
        let v = [s(10, true), s(50, true), s(90, true)];
        let f = figures(&v, 5);
        assert_eq!(f.auc, None);
        assert_eq!((f.red_count, f.red_precision), (0, None));
        assert_eq!(f.red_recall, Some(0.0));
        assert_eq!(f.top_decile_lift, Some(1.0));
    }

    #[test]
    fn by_segment_overall_first_then_present_segments_in_all_order() {
        let seg = |score, churned, segment| Sample { score, churned, segment };
        let v = [
            seg(10, true, Segment::Smb),
            seg(90, false, Segment::Smb),
            seg(80, false, Segment::Enterprise),
            seg(20, true, Segment::Smb),
        ];
        let out = by_segment(&v, 40);
        let keys: Vec<_> = out.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![None, Some(Segment::Enterprise), Some(Segment::Smb)]);
        assert_eq!(out[0].1, figures(&v, 40));
        assert_eq!((out[1].1.samples, out[1].1.churned, out[1].1.auc), (1, 0, None));
        assert_eq!((out[2].1.samples, out[2].1.churned, out[2].1.auc), (3, 2, Some(1.0)));
    }

    #[test]
    fn a_p_value_no_shuffle_reached_is_a_bound() {
        assert_eq!(p_text(0.0, 500), "p < 0.002");
        assert_eq!(p_text(0.0, 2000), "p < 0.0005");
        assert_eq!(p_text(0.0, 7), "p < 0.143", "rounded up, never understated");
        assert_eq!(p_text(0.034, 500), "p = 0.034");
        assert_eq!(p_text(1.0, 500), "p = 1.000");
    }

    #[test]
    fn a_model_turned_around_is_below_its_shuffles() {
        let segment = Segment::Smb;
        let samples: Vec<Sample> = (0..40)
            .map(|i| Sample { score: if i < 20 { 80 + i as u8 } else { i as u8 }, churned: i < 20, segment })
            .collect();
        assert_eq!(auc(&samples), Some(0.0));
        let s = shuffled(&samples, 200, 7).unwrap();
        assert!(s.p_below < 0.01 && s.p_value > 0.99, "{s:?}");
    }

    fn horizon(usage: f64, contact: f64, churned: bool) -> Horizon {
        let mut inputs = crate::domain::health_model::Inputs::default();
        inputs.set(Measure::Usage, usage).set(Measure::Engagement, contact);
        Horizon {
            day: DaySignals::new(&inputs, Stage::Adoption),
            stage: Stage::Adoption,
            segment: Segment::MidMarket,
            churned,
        }
    }

    #[test]
    fn per_measure_finds_the_measure_that_carries_the_signal() {
        use crate::domain::health_model::Model;
        // Usage falls before a churn (with misses); contact is drawn the
        // same way whatever happens.
        let mut rng = Lcg(3);
        let mut unit = || (rng.next() % 1000) as f64 / 1000.0;
        let v: Vec<Horizon> = (0..400)
            .map(|i| {
                let churned = i % 3 == 0;
                let usage = if churned && unit() < 0.8 { 0.4 + 0.4 * unit() } else { 0.7 + 0.5 * unit() };
                horizon(usage, 3.0 + 60.0 * unit(), churned)
            })
            .collect();
        let table = ScoreTable::new(Model::builtin_ref());
        let (model, figures) = per_measure(&v, &table);
        let model = model.unwrap();
        let of = |m: Measure| figures.iter().find(|f| f.measure == m).unwrap();
        let usage = of(Measure::Usage);
        assert_eq!(usage.known, 400);
        assert!(usage.auc_alone.unwrap() > 0.75, "{usage:?}");
        assert!(usage.drop.unwrap() > 0.1, "the model without usage is left with noise: {usage:?} (model {model})");
        assert!((usage.auc_without.unwrap() - 0.5).abs() < 0.08, "{usage:?}");
        let contact = of(Measure::Engagement);
        assert!((contact.auc_alone.unwrap() - 0.5).abs() < 0.08, "{contact:?}");
        assert!(contact.drop.unwrap() < 0.03, "{contact:?}");
        assert_eq!(figures[0].measure, Measure::Usage, "largest drop first");
        // A weighed measure nobody reported: no AUC, nothing lost.
        let seats = of(Measure::Seats);
        assert_eq!((seats.known, seats.auc_alone), (0, None));
        assert!(seats.drop.unwrap().abs() < 1e-12, "{seats:?}");
        assert_eq!(per_measure(&[], &table).0, None);
    }

    #[test]
    fn shuffling_a_perfect_model_shows_it_is_not_luck() {
        let segment = Segment::Smb;
        let samples: Vec<Sample> = (0..40)
            .map(|i| Sample { score: if i < 20 { 20 + i as u8 } else { 60 + i as u8 }, churned: i < 20, segment })
            .collect();
        let s = shuffled(&samples, 200, 7).unwrap();
        assert_eq!(s.rounds, 200);
        assert!((s.mean_auc - 0.5).abs() < 0.05, "{s:?}");
        assert!(s.p95_auc < 0.75, "{s:?}");
        assert!(s.p_value < 0.01, "{s:?}");
        assert_eq!(shuffled(&samples, 200, 7), Some(s), "seeded");
        let same: Vec<Sample> = samples.iter().map(|x| Sample { score: 50, ..*x }).collect();
        assert_eq!(shuffled(&same, 50, 1).unwrap().p_value, 1.0, "no signal: every shuffle ties it");
        assert_eq!(shuffled(&[], 10, 1), None);
    }
}
