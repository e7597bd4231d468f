//! A year of daily scores in 366 bytes (255 = no score that day).

use chrono::{Datelike, NaiveDate};

use super::keys::NO_HEALTH;

/// One account's daily scores for one calendar year.
#[derive(Clone, PartialEq, Eq)]
pub struct YearSeries {
    year: i32,
    days: [u8; 366],
}

impl std::fmt::Debug for YearSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.days.iter().filter(|d| **d != NO_HEALTH).count();
        write!(f, "YearSeries({}, {n} days)", self.year)
    }
}

impl YearSeries {
    /// An empty year.
    pub fn new(year: i32) -> YearSeries {
        YearSeries { year, days: [NO_HEALTH; 366] }
    }

    /// Reads stored bytes; a short value is padded with "no score".
    pub fn from_bytes(bytes: &[u8]) -> YearSeries {
        let mut days = [NO_HEALTH; 366];
        let n = bytes.len().min(366);
        days[..n].copy_from_slice(&bytes[..n]);
        // The year is in the key; the caller only reads by date, so day-of-year suffices.
        YearSeries { year: 0, days }
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.days
    }

    /// Score on a day of this year.
    pub fn get(&self, d: NaiveDate) -> Option<u8> {
        let v = self.days[d.ordinal0() as usize];
        (v != NO_HEALTH).then_some(v)
    }

    /// Sets the score on a day of this year (clamped to 100).
    pub fn set(&mut self, d: NaiveDate, score: u8) {
        debug_assert!(self.year == 0 || d.year() == self.year);
        self.days[d.ordinal0() as usize] = score.min(100);
    }
}
