//! One account's health for one calendar year, in two records: the daily
//! scores under the version of the model that produced them (`YearSeries`,
//! 2 + 366 bytes), and the inputs each day was scored from (`YearInputs`,
//! 11 bytes per recorded day).
//!
//! Keeping the inputs is what lets a model change rewrite the history, an
//! explanation name what moved, and a backtest replay another model. They
//! live apart from the scores so a rescore reads 4 KB and writes 368 bytes
//! per account-year. Series written before versions (366 bare bytes) still
//! read as version 0.

use chrono::{Datelike, Duration, NaiveDate};

use super::keys::NO_HEALTH;
use crate::domain::health_table::ScoreTable;
use crate::domain::signals::DaySignals;
use crate::domain::{Segment, Stage};

const DAYS: usize = 366;
const HEADER: usize = 2;

/// One account's daily scores for one calendar year.
#[derive(Clone, PartialEq, Eq)]
pub struct YearSeries {
    version: u16,
    days: [u8; DAYS],
}

impl std::fmt::Debug for YearSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.days.iter().filter(|d| **d != NO_HEALTH).count();
        write!(f, "YearSeries(v{}, {n} days)", self.version)
    }
}

impl Default for YearSeries {
    fn default() -> Self {
        YearSeries::new()
    }
}

impl YearSeries {
    /// Stored size.
    pub const BYTES: usize = HEADER + DAYS;

    /// An empty year.
    pub fn new() -> YearSeries {
        YearSeries { version: 0, days: [NO_HEALTH; DAYS] }
    }

    /// Reads stored bytes: versioned, or 366 bare scores (version 0).
    pub fn from_bytes(stored: &[u8]) -> YearSeries {
        let mut s = YearSeries::new();
        let body = if stored.len() == HEADER + DAYS {
            s.version = u16::from_be_bytes([stored[0], stored[1]]);
            &stored[HEADER..]
        } else {
            stored
        };
        let n = body.len().min(DAYS);
        s.days[..n].copy_from_slice(&body[..n]);
        s
    }

    /// The stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER + DAYS);
        self.write_to(&mut v);
        v
    }

    /// Appends the stored bytes (pages write many in a row).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.days);
    }

    /// The version of the model the scores come from (0 = unversioned).
    pub fn model_version(&self) -> u16 {
        self.version
    }

    /// Records which model produced the scores.
    pub fn set_model_version(&mut self, v: u16) {
        self.version = v;
    }

    /// Score on a day of this year.
    pub fn get(&self, d: NaiveDate) -> Option<u8> {
        let v = self.days[d.ordinal0() as usize];
        (v != NO_HEALTH).then_some(v)
    }

    /// Sets the score on a day of this year (clamped to 100; `None` clears).
    pub fn set(&mut self, d: NaiveDate, score: Option<u8>) {
        self.days[d.ordinal0() as usize] = score.map_or(NO_HEALTH, |s| s.min(100));
    }

    /// Rescores every day `inputs` has with `table`; days without inputs
    /// keep their score. Returns whether anything changed.
    pub fn rescore(&mut self, inputs: &YearInputs, table: &ScoreTable, stage: Stage, segment: Segment) -> bool {
        self.rescore_stored(&inputs.to_bytes(), table, stage, segment)
    }

    /// `rescore` straight from stored `YearInputs` bytes, without copying
    /// them: the recompute of a whole book runs through here.
    pub fn rescore_stored(&mut self, stored: &[u8], table: &ScoreTable, stage: Stage, segment: Segment) -> bool {
        let mut changed = self.version != table.version;
        if let Some((first, width, body)) = input_header(stored) {
            for (i, b) in body.chunks_exact(width).enumerate() {
                let slot = first + i;
                if slot >= DAYS || b[width - 1] == crate::domain::signals::UNKNOWN {
                    continue;
                }
                let day = widen(b);
                let score = table.score(&day, stage, segment).unwrap_or(NO_HEALTH);
                if self.days[slot] != score {
                    self.days[slot] = score;
                    changed = true;
                }
            }
        }
        self.version = table.version;
        changed
    }

    /// The last day of `year` up to `until` that has a score.
    pub fn latest(&self, year: i32, until: NaiveDate) -> Option<(NaiveDate, u8)> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let last = match until.year() {
            y if y == year => until.ordinal0() as usize,
            y if y > year => DAYS - 1,
            _ => return None,
        };
        (0..=last).rev().find_map(|i| {
            let d = first + Duration::days(i as i64);
            (self.days[i] != NO_HEALTH && d.year() == year).then_some((d, self.days[i]))
        })
    }
}

/// One account's daily inputs for one calendar year, from the first to the
/// last recorded day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearInputs {
    /// Day of the year (0-based) of the first stored day.
    first: u16,
    /// `DaySignals::LEN` bytes per day from `first` on.
    bytes: Vec<u8>,
}

const W: usize = DaySignals::LEN;
/// Bytes per day written before the support-satisfaction, login and
/// metric inputs: ten inputs and the stage, with no width byte.
const LEGACY_W: usize = 11;
/// Set in the first-day field when a width byte follows.
const WIDTH_FLAG: u16 = 0x8000;

/// The first day, the bytes per day and the days of stored inputs.
fn input_header(stored: &[u8]) -> Option<(usize, usize, &[u8])> {
    let raw = u16::from_be_bytes(stored.get(..HEADER)?.try_into().ok()?);
    let (first, width, body) = match raw & WIDTH_FLAG {
        0 => (raw, LEGACY_W, &stored[HEADER..]),
        _ => (raw & !WIDTH_FLAG, *stored.get(HEADER)? as usize, &stored[HEADER + 1..]),
    };
    (width >= 2).then_some(((first as usize).min(DAYS), width, body))
}

/// One stored day at today's width: the inputs it has in their places,
/// the stage last, every input it lacks unknown.
fn widen(b: &[u8]) -> DaySignals {
    let mut day = DaySignals::default();
    if b.len() == W {
        day.0.copy_from_slice(b);
        return day;
    }
    let inputs = (b.len() - 1).min(W - 1);
    day.0[..inputs].copy_from_slice(&b[..inputs]);
    day.0[W - 1] = b[b.len() - 1];
    day
}

impl YearInputs {
    /// Reads stored bytes (a damaged tail is dropped); days stored by an
    /// older version with fewer inputs read with the new inputs unknown.
    pub fn from_bytes(stored: &[u8]) -> YearInputs {
        let Some((first, width, body)) = input_header(stored) else { return YearInputs::default() };
        let n = (body.len() / width).min(DAYS - first);
        let bytes = if width == W {
            body[..n * W].to_vec()
        } else {
            body.chunks_exact(width).take(n).flat_map(|b| widen(b).0).collect()
        };
        YearInputs { first: first as u16, bytes }
    }

    /// The stored bytes: the first day with the width flag, the width, the days.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER + 1 + self.bytes.len());
        v.extend_from_slice(&(self.first | WIDTH_FLAG).to_be_bytes());
        v.push(W as u8);
        v.extend_from_slice(&self.bytes);
        v
    }

    /// The inputs recorded on a day, if any.
    pub fn get(&self, d: NaiveDate) -> Option<DaySignals> {
        let i = (d.ordinal0() as usize).checked_sub(self.first as usize)?;
        let b = self.bytes.get(i * W..(i + 1) * W)?;
        let mut day = DaySignals::default();
        day.0.copy_from_slice(b);
        day.is_known().then_some(day)
    }

    /// Records a day's inputs, widening the stored span as needed.
    pub fn set(&mut self, d: NaiveDate, day: &DaySignals) {
        let o = d.ordinal0() as usize;
        if self.bytes.is_empty() {
            self.first = o as u16;
        }
        let first = self.first as usize;
        if o < first {
            let mut grown = vec![crate::domain::signals::UNKNOWN; (first - o) * W];
            grown.extend_from_slice(&self.bytes);
            self.bytes = grown;
            self.first = o as u16;
        }
        let i = o - self.first as usize;
        if self.bytes.len() < (i + 1) * W {
            self.bytes.resize((i + 1) * W, crate::domain::signals::UNKNOWN);
        }
        self.bytes[i * W..(i + 1) * W].copy_from_slice(&day.0);
    }

    /// Every recorded day as (day of the year, inputs).
    pub fn days(&self) -> impl Iterator<Item = (usize, DaySignals)> + '_ {
        self.bytes.chunks_exact(W).enumerate().filter_map(|(i, b)| {
            let mut day = DaySignals::default();
            day.0.copy_from_slice(b);
            day.is_known().then_some((self.first as usize + i, day))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health::Measure;
    use crate::domain::health_model::{Inputs, Model};

    fn day(contact: f64) -> DaySignals {
        let mut i = Inputs::default();
        i.set(Measure::Engagement, contact);
        DaySignals::new(&i, Stage::Adoption)
    }

    #[test]
    fn scores_keep_their_version_and_bare_scores_still_read() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut s = YearSeries::new();
        s.set(d, Some(120));
        s.set_model_version(7);
        let back = YearSeries::from_bytes(&s.to_bytes());
        assert_eq!(back, s);
        assert_eq!(back.get(d), Some(100));
        assert_eq!(back.model_version(), 7);
        assert_eq!(back.latest(2026, d + Duration::days(5)), Some((d, 100)));
        assert_eq!(back.latest(2026, d - Duration::days(1)), None);

        let mut legacy = vec![NO_HEALTH; 366];
        legacy[d.ordinal0() as usize] = 44;
        let old = YearSeries::from_bytes(&legacy);
        assert_eq!((old.get(d), old.model_version()), (Some(44), 0));
    }

    #[test]
    fn inputs_widen_both_ways_and_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut i = YearInputs::default();
        assert_eq!(i.get(d), None);
        i.set(d, &day(3.0));
        i.set(d + Duration::days(2), &day(5.0));
        i.set(d - Duration::days(3), &day(9.0));
        let back = YearInputs::from_bytes(&i.to_bytes());
        assert_eq!(back, i);
        assert_eq!(back.get(d), Some(day(3.0)));
        assert_eq!(back.get(d + Duration::days(1)), None, "a gap stays unknown");
        assert_eq!(back.get(d - Duration::days(3)), Some(day(9.0)));
        assert_eq!(back.days().count(), 3);
        assert_eq!(i.to_bytes().len(), 3 + 6 * DaySignals::LEN);
        assert_eq!(YearInputs::from_bytes(&[1]), YearInputs::default());
    }

    #[test]
    fn days_stored_with_eleven_bytes_read_with_the_new_inputs_unknown() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // The layout before version 12's inputs: first day, then 10 inputs and the stage.
        let mut old = (d.ordinal0() as u16).to_be_bytes().to_vec();
        old.extend_from_slice(&[50, 100, 4, 2, 1, 9, 11, 0, 255, 3, Stage::Adoption.index() as u8]);
        let i = YearInputs::from_bytes(&old);
        let day = i.get(d).expect("the day reads");
        assert_eq!(day.get(Measure::Usage), Some(0.5));
        assert_eq!(day.get(Measure::Engagement), Some(4.0));
        assert_eq!(day.get(Measure::Sentiment), Some(3.0));
        assert_eq!(day.get(Measure::SupportCsat), None);
        assert_eq!(day.get(Measure::Metric(0)), None);
        assert_eq!(day.stage(), Some(Stage::Adoption));
        // Rescoring reads the old layout straight from the bytes too.
        let table = ScoreTable::new(Model::builtin_ref());
        let mut s = YearSeries::new();
        s.rescore_stored(&old, &table, Stage::Adoption, Segment::Smb);
        assert_eq!(s.get(d), table.score(&day, Stage::Adoption, Segment::Smb));
        assert!(s.get(d).is_some());
        // And is written back in the new layout.
        assert_eq!(YearInputs::from_bytes(&i.to_bytes()), i);
    }

    #[test]
    fn rescoring_follows_the_model_and_leaves_bare_days() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut inputs = YearInputs::default();
        inputs.set(d, &day(33.5));
        let v2 = ScoreTable::new(Model::builtin_ref());
        let mut s = YearSeries::new();
        s.set(d - Duration::days(1), Some(44));
        assert!(s.rescore(&inputs, &v2, Stage::Adoption, Segment::Smb));
        let before = s.get(d).unwrap();
        let text = crate::domain::health_model::DEFAULT_MODEL
            .replace("version = 3", "version = 4")
            .replace("linear = { zero_at = 60, full_at = 7 }", "linear = { zero_at = 30, full_at = 7 }");
        let v3 = ScoreTable::new(&Model::parse(&text).unwrap());
        assert!(s.rescore(&inputs, &v3, Stage::Adoption, Segment::Smb));
        assert_eq!(s.model_version(), 4);
        assert!(s.get(d).unwrap() < before);
        assert_eq!(s.get(d - Duration::days(1)), Some(44), "a day without inputs keeps its score");
        assert!(!s.rescore(&inputs, &v3, Stage::Adoption, Segment::Smb), "nothing left to change");
    }
}
