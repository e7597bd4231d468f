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
        if stored.len() >= HEADER {
            let first = u16::from_be_bytes([stored[0], stored[1]]) as usize;
            for (i, b) in stored[HEADER..].chunks_exact(W).enumerate() {
                let slot = first + i;
                if slot >= DAYS || b[W - 1] == crate::domain::signals::UNKNOWN {
                    continue;
                }
                let day = DaySignals(b.try_into().expect("W bytes"));
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

impl YearInputs {
    /// Reads stored bytes (a damaged tail is dropped).
    pub fn from_bytes(stored: &[u8]) -> YearInputs {
        if stored.len() < HEADER {
            return YearInputs::default();
        }
        let first = u16::from_be_bytes([stored[0], stored[1]]).min(DAYS as u16);
        let body = &stored[HEADER..];
        let n = (body.len() / W).min(DAYS - first as usize);
        YearInputs { first, bytes: body[..n * W].to_vec() }
    }

    /// The stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER + self.bytes.len());
        v.extend_from_slice(&self.first.to_be_bytes());
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
        assert_eq!(i.to_bytes().len(), 2 + 6 * DaySignals::LEN);
        assert_eq!(YearInputs::from_bytes(&[1]), YearInputs::default());
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
            .replace("version = 2", "version = 3")
            .replace("linear = { zero_at = 60, full_at = 7 }", "linear = { zero_at = 30, full_at = 7 }");
        let v3 = ScoreTable::new(&Model::parse(&text).unwrap());
        assert!(s.rescore(&inputs, &v3, Stage::Adoption, Segment::Smb));
        assert_eq!(s.model_version(), 3);
        assert!(s.get(d).unwrap() < before);
        assert_eq!(s.get(d - Duration::days(1)), Some(44), "a day without inputs keeps its score");
        assert!(!s.rescore(&inputs, &v3, Stage::Adoption, Segment::Smb), "nothing left to change");
    }
}
