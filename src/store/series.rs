//! One account's health for one calendar year, in two records: the daily
//! scores under the version of the model that produced them (`YearSeries`,
//! 2 + 366 bytes in memory, stored as runs of the same score), and the
//! inputs each day was scored from (`YearInputs`, `DaySignals::LEN` bytes a
//! day in memory, stored as the days that differ from what the day before
//! predicts: see `runs`).
//!
//! Keeping the inputs is what lets a model change rewrite the history, an
//! explanation name what moved, and a backtest replay another model. They
//! live apart from the scores so a rescore reads and writes a few hundred
//! bytes per account-year (a 100,000-account demo book: 460 bytes of
//! inputs and 175 of scores on average, from 6 KB and 368). Series written
//! before versions (366 bare bytes) still read as version 0, and series in
//! full (368 bytes) and inputs written flat (17 bytes a day, or 11 before
//! version 12's inputs) still read.

use chrono::{Datelike, Duration, NaiveDate};

use super::keys::NO_HEALTH;
use crate::domain::health_table::ScoreTable;
use crate::domain::signals::DaySignals;
use crate::domain::{Segment, Stage};

mod runs;

// A day's bytes are lanes of a `u32` mask in the run encoding.
const _: () = assert!(DaySignals::LEN <= runs::MAX_WIDTH);

const DAYS: usize = 366;
const HEADER: usize = 2;
/// First byte of the compact layout of scores: no score byte is 254.
const COMPACT: u8 = 0xFE;
/// The highest score; bytes above it (and below `COMPACT`) are repeats in
/// the compact layout.
const TOP: u8 = 100;
/// Most repeats one byte of the compact layout holds (bytes 101-253).
const MAX_REPEAT: usize = (COMPACT - 1 - TOP) as usize;

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

    /// Reads stored bytes: compact, versioned, or 366 bare scores (version 0).
    pub fn from_bytes(stored: &[u8]) -> YearSeries {
        let mut s = YearSeries::new();
        if stored.len() != DAYS && stored.len() != HEADER + DAYS && stored.first() == Some(&COMPACT) {
            s.read_compact(stored);
            return s;
        }
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

    /// The stored bytes in full: the version, then every day's score.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER + DAYS);
        v.extend_from_slice(&self.version.to_be_bytes());
        v.extend_from_slice(&self.days);
        v
    }

    /// Appends the stored bytes in the compact layout (what pages hold):
    /// `COMPACT`, the version, then from Jan 1 a byte a day: its score
    /// (0-100, or 255 for none), or 101-253 for the day before repeated 1-153
    /// times; the days after the last score are left out. Scores move on
    /// about a third of the days (a tenth in a synced book), and most
    /// account-years start or end part-way, so this is a third of the full
    /// 368 bytes or less. Falls back to the full layout when that is no
    /// larger, or a day holds a byte no score has.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let end = self.days.iter().rposition(|d| *d != NO_HEALTH).map_or(0, |i| i + 1);
        let days = &self.days[..end];
        out.reserve(HEADER + DAYS);
        out.push(COMPACT);
        out.extend_from_slice(&self.version.to_be_bytes());
        let mut i = 0;
        while i < end && out.len() - start < DAYS {
            let v = days[i];
            if v > TOP && v != NO_HEALTH {
                break;
            }
            let n = run_of(v, &days[i + 1..(i + 1 + MAX_REPEAT).min(end)]);
            out.push(v);
            if n > 0 {
                out.push(TOP + n as u8);
            }
            i += 1 + n;
        }
        if i < end || out.len() - start >= DAYS {
            out.truncate(start);
            out.extend_from_slice(&self.version.to_be_bytes());
            out.extend_from_slice(&self.days);
        }
    }

    /// Reads the compact layout; a byte no layout writes ends the days.
    fn read_compact(&mut self, stored: &[u8]) {
        let Some(v) = stored.get(1..1 + HEADER) else { return };
        self.version = u16::from_be_bytes([v[0], v[1]]);
        let (mut slot, mut last) = (0, NO_HEALTH);
        for &b in &stored[1 + HEADER..] {
            if slot == DAYS || b == COMPACT {
                return;
            }
            if b <= TOP || b == NO_HEALTH {
                self.days[slot] = b;
                last = b;
                slot += 1;
            } else {
                let n = ((b - TOP) as usize).min(DAYS - slot);
                self.days[slot..slot + n].fill(last);
                slot += n;
            }
        }
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
        if let Some((first, width, layout, body)) = input_header(stored) {
            let mut slot = first;
            each_day(layout, body, width, DAYS - first, |day| {
                if day.is_known() {
                    let score = table.score(day, stage, segment).unwrap_or(NO_HEALTH);
                    if self.days[slot] != score {
                        self.days[slot] = score;
                        changed = true;
                    }
                }
                slot += 1;
            });
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

/// How many bytes `days` starts with that are `v`, eight at a time.
fn run_of(v: u8, days: &[u8]) -> usize {
    let same = u64::from_ne_bytes([v; 8]);
    let mut n = 0;
    while let Some(b) = days.get(n..n + 8) {
        let x = u64::from_le_bytes(b.try_into().expect("8 bytes")) ^ same;
        if x != 0 {
            return n + (x.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + days[n..].iter().take_while(|d| **d == v).count()
}

/// One account's daily inputs for one calendar year, from the first to the
/// last recorded day.
#[derive(Debug, Clone)]
pub struct YearInputs {
    /// Day of the year (0-based) of the first stored day.
    first: u16,
    /// `DaySignals::LEN` bytes per day from `first` on.
    bytes: Vec<u8>,
    /// The runs these days were read as, kept up to date while days are
    /// added at the end (what the daily pass does), so writing them back
    /// costs no encoding of the year; `None` once another day changed.
    ops: Option<runs::Ops>,
}

impl Default for YearInputs {
    fn default() -> Self {
        YearInputs { first: 0, bytes: Vec::new(), ops: Some(runs::Ops::default()) }
    }
}

impl PartialEq for YearInputs {
    /// The same days (however they would be written).
    fn eq(&self, other: &Self) -> bool {
        (self.first, &self.bytes) == (other.first, &other.bytes)
    }
}

impl Eq for YearInputs {}

const W: usize = DaySignals::LEN;
/// Bytes per day written before the support-satisfaction, login and
/// metric inputs: ten inputs and the stage, with no width byte.
const LEGACY_W: usize = 11;
/// Set in the first-day field when a width byte follows.
const WIDTH_FLAG: u16 = 0x8000;

/// Set in the first-day field, with the width flag, when the days are
/// stored as runs (`runs`) rather than flat.
const RUNS_FLAG: u16 = 0x4000;

/// How stored inputs lay out their days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Every day in full, one after the other.
    Flat,
    /// Ops of `runs`.
    Runs,
}

/// The first day, the bytes per day, the layout and the days of stored inputs.
fn input_header(stored: &[u8]) -> Option<(usize, usize, Layout, &[u8])> {
    let raw = u16::from_be_bytes(stored.get(..HEADER)?.try_into().ok()?);
    let flags = WIDTH_FLAG | RUNS_FLAG;
    let (first, width, layout, body) = match raw & flags {
        WIDTH_FLAG => (raw & !flags, *stored.get(HEADER)? as usize, Layout::Flat, &stored[HEADER + 1..]),
        f if f == flags => (raw & !flags, *stored.get(HEADER)? as usize, Layout::Runs, &stored[HEADER + 1..]),
        _ => (raw, LEGACY_W, Layout::Flat, &stored[HEADER..]),
    };
    (width >= 2).then_some(((first as usize).min(DAYS), width, layout, body))
}

/// Calls `each` with every stored day at today's width, in order, at
/// most `max` days; a damaged tail is dropped.
fn each_day(layout: Layout, body: &[u8], width: usize, max: usize, mut each: impl FnMut(&DaySignals)) {
    match layout {
        Layout::Flat => body.chunks_exact(width).take(max).for_each(|b| each(&widen(b))),
        // Moved on in place from the day before: no copy of a day.
        Layout::Runs if width == W => {
            let (mut days, mut day) = (runs::Decoder::new(body, width, max), DaySignals::default());
            while days.next_into(&mut day.0) {
                each(&day);
            }
        }
        Layout::Runs => runs::decode(body, width, max, |b| each(&widen(b))),
    }
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
        let Some((first, width, layout, body)) = input_header(stored) else { return YearInputs::default() };
        let max = DAYS - first;
        let (mut bytes, mut ops) = (Vec::new(), None);
        match layout {
            Layout::Flat if width == W => bytes = body[..(body.len() / W).min(max) * W].to_vec(),
            Layout::Runs if width == W => {
                let (mut days, mut day) = (runs::Decoder::new(body, W, max), DaySignals::default());
                while days.next_into(&mut day.0) {
                    bytes.extend_from_slice(&day.0);
                }
                ops = days.into_ops();
            }
            _ => each_day(layout, body, width, max, |day| bytes.extend_from_slice(&day.0)),
        }
        YearInputs { first: first as u16, bytes, ops }
    }

    /// The stored bytes: the first day with the layout flags, the width, the days.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }

    /// Appends the stored bytes: the days as runs, or flat in the rare
    /// year where that is smaller (every byte changing every day).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&(self.first | WIDTH_FLAG | RUNS_FLAG).to_be_bytes());
        out.push(W as u8);
        match &self.ops {
            Some(ops) => out.extend_from_slice(ops.bytes()),
            None => runs::encode(&self.bytes, W, out),
        }
        if out.len() - start > HEADER + 1 + self.bytes.len() {
            out.truncate(start);
            out.extend_from_slice(&(self.first | WIDTH_FLAG).to_be_bytes());
            out.push(W as u8);
            out.extend_from_slice(&self.bytes);
        }
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
        self.set_at(d.ordinal0() as usize, day);
    }

    /// Sets every day `newer` recorded (the days it lacks keep theirs).
    pub fn overlay(&mut self, newer: &YearInputs) {
        for (o, day) in newer.days() {
            self.set_at(o, &day);
        }
    }

    /// Days stored, from the first to the last.
    pub fn span(&self) -> usize {
        self.bytes.len() / W
    }

    /// Records the inputs of the day of the year `o` (0-based).
    fn set_at(&mut self, o: usize, day: &DaySignals) {
        if self.bytes.is_empty() {
            self.first = o as u16;
        }
        let first = self.first as usize;
        if o < first {
            let mut grown = vec![crate::domain::signals::UNKNOWN; (first - o) * W];
            grown.extend_from_slice(&self.bytes);
            self.bytes = grown;
            self.first = o as u16;
            self.ops = None;
        }
        let i = o - self.first as usize;
        let days = self.bytes.len() / W;
        // The runs follow a day added at the end, or the last day replaced.
        let from = match &mut self.ops {
            Some(_) if i >= days => Some(days),
            Some(ops) if i + 1 == days => ops.pop().then_some(i),
            _ => None,
        };
        if self.bytes.len() < (i + 1) * W {
            self.bytes.resize((i + 1) * W, crate::domain::signals::UNKNOWN);
        }
        self.bytes[i * W..(i + 1) * W].copy_from_slice(&day.0);
        match (from, &mut self.ops) {
            (Some(from), Some(ops)) => ops.push(&self.bytes[..from * W], &self.bytes[from * W..], W),
            _ => self.ops = None,
        }
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

    fn compact(s: &YearSeries) -> Vec<u8> {
        let mut v = Vec::new();
        s.write_to(&mut v);
        v
    }

    #[test]
    fn scores_are_kept_compact_as_runs_of_the_same_score() {
        let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut s = YearSeries::new();
        s.set_model_version(0x0102);
        // Unknown until Jan 3, 70 for 200 days, then 71, 72, then nothing.
        for n in 2..202 {
            s.set(jan1 + Duration::days(n), Some(70));
        }
        s.set(jan1 + Duration::days(202), Some(71));
        s.set(jan1 + Duration::days(203), Some(72));
        let bytes = compact(&s);
        // 70 and 153 repeats, 70 and 45 repeats.
        assert_eq!(bytes, [COMPACT, 1, 2, NO_HEALTH, 101, 70, 253, 70, 100 + 45, 71, 72]);
        assert_eq!(YearSeries::from_bytes(&bytes), s);
        let empty = YearSeries::new();
        assert_eq!(compact(&empty), [COMPACT, 0, 0]);
        assert_eq!(YearSeries::from_bytes(&compact(&empty)), empty);
        // A score on every day, each unlike the one before: the full layout.
        let mut busy = YearSeries::new();
        (0..366).for_each(|n| busy.set(jan1 + Duration::days(n), Some((n % 2 * 50) as u8)));
        assert_eq!(compact(&busy), busy.to_bytes());
        assert_eq!(YearSeries::from_bytes(&compact(&busy)), busy);
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
        // The header; the first day as a change from nothing (tag, two mask
        // bytes, contact and stage); two unknown days; a change of contact;
        // one unknown day; a change of contact: 14 bytes, not 3 + 6 * 17.
        assert_eq!(i.to_bytes().len(), 3 + 5 + 1 + 2 + 1 + 2);
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

    /// A year of inputs as the width-flag layout wrote them (before runs).
    fn flat(i: &YearInputs) -> Vec<u8> {
        let mut v = (i.first | WIDTH_FLAG).to_be_bytes().to_vec();
        v.push(W as u8);
        v.extend_from_slice(&i.bytes);
        v
    }

    #[test]
    fn days_stored_flat_with_a_width_byte_still_read_and_rescore() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut i = YearInputs::default();
        for n in 0..40 {
            i.set(d + Duration::days(n), &day(n as f64));
        }
        let old = flat(&i);
        assert_eq!(old.len(), 3 + 40 * W);
        assert_eq!(YearInputs::from_bytes(&old), i);
        let table = ScoreTable::new(Model::builtin_ref());
        let (mut from_old, mut from_new) = (YearSeries::new(), YearSeries::new());
        from_old.rescore_stored(&old, &table, Stage::Adoption, Segment::Smb);
        from_new.rescore_stored(&i.to_bytes(), &table, Stage::Adoption, Segment::Smb);
        assert_eq!(from_old, from_new);
        assert_eq!(from_old.get(d + Duration::days(39)), table.score(&day(39.0), Stage::Adoption, Segment::Smb));
    }

    #[test]
    fn a_year_whose_days_count_up_is_stored_in_a_few_bytes() {
        let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut i = YearInputs::default();
        for n in 0..365 {
            // Contact counts up and starts again each month; usage moves weekly.
            let mut inputs = Inputs::default();
            inputs.set(Measure::Engagement, (n % 30) as f64);
            inputs.set(Measure::Usage, 1.0 + (n / 7 % 5) as f64 / 10.0);
            i.set(jan1 + Duration::days(n), &DaySignals::new(&inputs, Stage::Adoption));
        }
        let stored = i.to_bytes();
        assert_eq!(stored[..3], [0xC0, 0, W as u8], "the runs layout, from day 0");
        assert!(stored.len() < 250, "{} bytes for what is {} flat", stored.len(), 365 * W);
        assert_eq!(YearInputs::from_bytes(&stored), i);
    }

    #[test]
    fn a_day_added_or_replaced_at_the_end_is_encoded_alone() {
        let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut i = YearInputs::default();
        for n in 0..300 {
            i.set(jan1 + Duration::days(n), &day((n % 30) as f64));
        }
        let mut scratch = vec![0xC0, 0, W as u8];
        runs::encode(&i.bytes, W, &mut scratch);
        assert_eq!(i.to_bytes(), scratch, "day by day, the same runs as the year at once");
        // The daily pass: read the year, score today again, then tomorrow.
        let mut again = YearInputs::from_bytes(&scratch);
        assert!(again.ops.is_some());
        again.set(jan1 + Duration::days(299), &day(0.0));
        again.set(jan1 + Duration::days(300), &day(1.0));
        again.set(jan1 + Duration::days(303), &day(4.0));
        assert!(again.ops.is_some(), "days at the end keep the runs");
        let mut expected = i.clone();
        expected.set(jan1 + Duration::days(299), &day(0.0));
        expected.set(jan1 + Duration::days(300), &day(1.0));
        expected.set(jan1 + Duration::days(303), &day(4.0));
        assert_eq!(YearInputs::from_bytes(&again.to_bytes()), expected);
        // A day before the end is a change of the past: the year is encoded again.
        again.set(jan1 + Duration::days(10), &day(3.0));
        assert!(again.ops.is_none());
        expected.set(jan1 + Duration::days(10), &day(3.0));
        assert_eq!(YearInputs::from_bytes(&again.to_bytes()), expected);
        let mut scratch = vec![0xC0, 0, W as u8];
        runs::encode(&expected.bytes, W, &mut scratch);
        assert_eq!(again.to_bytes(), scratch);
    }

    #[test]
    fn days_that_change_every_byte_every_day_are_stored_flat() {
        let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut i = YearInputs::default();
        for n in 0..30u8 {
            i.set(jan1 + Duration::days(n as i64), &DaySignals([n.wrapping_mul(37) % 250; W]));
        }
        let stored = i.to_bytes();
        assert_eq!(stored, flat(&i), "runs would take more room than the days themselves");
        assert_eq!(YearInputs::from_bytes(&stored), i);
    }

    #[test]
    fn a_stored_year_of_runs_reads_as_written() {
        // Pinned bytes: a change here is a change of what is on disk.
        let stored = [
            0xC0,
            31,
            17, // runs from Feb 1, 17 bytes a day
            0xC4,
            0x80,
            0x08,
            5,
            2, // contact 5 (byte 2), stage 2 (byte 16: Onboarding)
            0x80 | 0x04,
            6,    // contact 6: a step
            0x02, // 3 more days stepping: 7, 8, 9
            0x41, // 2 unknown days
            0x80 | 0x05,
            50,
            12,   // usage 0.50, contact 12 (no step predicted after a gap)
            0x00, // a day as the one before
        ];
        let i = YearInputs::from_bytes(&stored);
        let feb = |d| NaiveDate::from_ymd_opt(2026, 2, d).unwrap();
        let contact = |d| i.get(feb(d)).and_then(|s| s.get(Measure::Engagement));
        let found: Vec<Option<f64>> = (1..=10).map(contact).collect();
        let want = [5.0, 6.0, 7.0, 8.0, 9.0].map(Some).into_iter().chain([None, None, Some(12.0), Some(12.0), None]);
        assert_eq!(found, want.collect::<Vec<_>>());
        assert_eq!(i.get(feb(8)).unwrap().get(Measure::Usage), Some(0.5));
        assert_eq!(i.get(feb(5)).unwrap().get(Measure::Usage), None);
        assert_eq!(i.get(feb(9)).unwrap().stage(), Some(Stage::Onboarding));
        assert_eq!(i.days().count(), 7);
        assert_eq!(i.to_bytes(), stored, "written back the same");
    }

    /// A day in a sequence: kept as the one before, counted up in some
    /// bytes, changed in some, unknown, or anything at all.
    fn next_day(prev: &[u8; W], how: u8, mask: u32, value: u8) -> [u8; W] {
        let mut d = *prev;
        match how % 5 {
            0 => {}
            1 => (0..W).filter(|b| mask & 1 << b != 0).for_each(|b| d[b] = d[b].saturating_add(1).min(254)),
            2 => (0..W).filter(|b| mask & 1 << b != 0).for_each(|b| d[b] = value.wrapping_add(b as u8)),
            3 => d = [crate::domain::signals::UNKNOWN; W],
            _ => (0..W).for_each(|b| d[b] = value.wrapping_mul(b as u8 + 7)),
        }
        d
    }

    proptest::proptest! {
        #[test]
        fn any_scores_round_trip_through_the_compact_layout(
            version in 0u16..=u16::MAX,
            days in proptest::collection::vec(proptest::prop_oneof![
                8 => 40u8..44, 2 => proptest::strategy::Just(NO_HEALTH), 1 => 0u8..=255
            ], 0..=366),
            repeats in proptest::collection::vec(proptest::prop_oneof![0usize..3, 100usize..200], 0..=366),
        ) {
            let mut s = YearSeries::new();
            s.set_model_version(version);
            let mut slot = 0;
            for (d, r) in days.iter().zip(repeats.iter().chain(std::iter::repeat(&0))) {
                for _ in 0..=*r {
                    if slot < DAYS {
                        s.days[slot] = *d;
                        slot += 1;
                    }
                }
            }
            let bytes = compact(&s);
            proptest::prop_assert!(bytes.len() <= YearSeries::BYTES);
            proptest::prop_assert_eq!(YearSeries::from_bytes(&bytes), s);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_days_round_trip_through_the_stored_bytes(
            first in 0u16..366,
            start in proptest::array::uniform17(proptest::prop_oneof![
                proptest::strategy::Just(255u8), proptest::strategy::Just(253u8), 0u8..=255
            ]),
            steps in proptest::collection::vec((0u8..5, 0u32..(1 << 17), 0u8..=255), 0..400),
            cut in 0usize..4000,
        ) {
            let mut i = YearInputs::default();
            let mut d = start;
            let jan1 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let days = steps.len().min(366 - first as usize);
            for (n, (how, mask, value)) in steps.into_iter().take(days).enumerate() {
                i.set(jan1 + Duration::days(first as i64 + n as i64), &DaySignals(d));
                d = next_day(&d, how, mask, value);
            }
            let stored = i.to_bytes();
            proptest::prop_assert!(stored.len() <= flat(&i).len());
            proptest::prop_assert_eq!(&YearInputs::from_bytes(&stored), &i);
            // Rescoring from the stored bytes scores what the flat bytes score.
            let table = ScoreTable::new(Model::builtin_ref());
            let (mut a, mut b) = (YearSeries::new(), YearSeries::new());
            a.rescore_stored(&stored, &table, Stage::Adoption, Segment::Smb);
            b.rescore_stored(&flat(&i), &table, Stage::Adoption, Segment::Smb);
            proptest::prop_assert_eq!(a, b);
            // A damaged tail loses days from the end, never changes one.
            let cut = YearInputs::from_bytes(&stored[..cut.min(stored.len())]);
            proptest::prop_assert!(i.bytes.starts_with(&cut.bytes));
        }

        #[test]
        fn days_added_or_replaced_in_any_order_keep_the_runs_true(
            start in proptest::array::uniform17(proptest::prop_oneof![
                proptest::strategy::Just(255u8), proptest::strategy::Just(253u8), 0u8..=255
            ]),
            edits in proptest::collection::vec((0u8..6, 0usize..400, 0u8..5, 0u32..(1 << 17), 0u8..=255), 1..120),
            reread in proptest::collection::vec(proptest::bool::ANY, 120),
        ) {
            let jan1 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let mut i = YearInputs::default();
            let mut d = start;
            for ((kind, at, how, mask, value), reread) in edits.into_iter().zip(reread) {
                d = next_day(&d, how, mask, value);
                let days = i.bytes.len() / W;
                let first = i.first as usize;
                // Mostly the next day or the last one again, as the daily pass
                // does; sometimes a gap, a day in the middle or before the first.
                let o = match kind {
                    0 | 1 => first + days,
                    2 => (first + days).saturating_sub(1),
                    3 => first + days + at % 5,
                    4 => first + at % days.max(1),
                    _ => at % 366,
                };
                if o < 366 {
                    i.set(jan1 + Duration::days(o as i64), &DaySignals(d));
                }
                let stored = i.to_bytes();
                proptest::prop_assert_eq!(&YearInputs::from_bytes(&stored), &i);
                let mut scratch = Vec::new();
                runs::encode(&i.bytes, W, &mut scratch);
                proptest::prop_assert!(stored.len() <= 3 + scratch.len() + i.bytes.len() / W / 8 + 2);
                if reread {
                    i = YearInputs::from_bytes(&stored);
                }
            }
        }

        #[test]
        fn any_bytes_read_without_a_panic(stored in proptest::collection::vec(0u8..=255, 0..600)) {
            let i = YearInputs::from_bytes(&stored);
            proptest::prop_assert!(i.first as usize + i.bytes.len() / W <= DAYS);
            let mut s = YearSeries::new();
            s.rescore_stored(&stored, &ScoreTable::new(Model::builtin_ref()), Stage::Adoption, Segment::Smb);
        }
    }
}
