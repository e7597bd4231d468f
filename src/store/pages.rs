//! Health history in pages: the daily scores (or inputs) of up to 16
//! accounts, by id, for one calendar year share one record. sled writes a
//! few large values far faster than many small ones (100,000 accounts'
//! scores are ~12,500 records, not ~175,000), which is what lets a model
//! change rewrite a year of history for a big book in seconds. 16 kept an
//! inputs page (about 64 KB when days were stored flat; about 7 KB now
//! that they are stored as runs, 2.5 KB for scores) under sled's threshold
//! for storing a node as a separate blob file (a quarter of its 512 KB
//! segment), which would cost a file read and a fresh allocation per page.
//! Score pages start with `MARK` and give each entry's length (scores are
//! stored compact); those written before hold 368 bytes an entry.
//!
//! The day the daily pass adds to a page of inputs goes to a page of its
//! own (`hn`, the recent days), read over the year's (`hq`): writing the
//! year's page every day for one day cost a decode, an encode and ~6 KB
//! written per page (80 MB a day at 100,000 accounts). The recent days are
//! folded into the year's page every `FOLD_EVERY` days, a page at a time
//! (staggered by page number, so each day folds a share of the book), when
//! a page's recent days grow past `MAX_RECENT`, and whenever anything else
//! writes the year's page. A past year's recent days stay until something
//! writes that year (every read lays them over it, a rescore included).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::series::{YearInputs, YearSeries};
use super::{keys, Batch, Result, Store};
use crate::domain::signals::DaySignals;
use crate::domain::AccountId;

/// Accounts per page.
pub const PAGE: u64 = 16;

/// Days between two folds of a page's recent days into its year's page.
const FOLD_EVERY: u64 = 32;
/// Recent days an account may have before its page is folded whatever the day.
const MAX_RECENT: usize = 48;

/// The page an account's history lives in.
pub fn page_of(id: AccountId) -> u32 {
    (id.0 / PAGE) as u32
}

/// First byte of a page whose entries say their length. Pages of scores
/// written before it hold entries of `YearSeries::BYTES` each, and start
/// with an account id, whose top byte is never this.
const MARK: u8 = 0xFF;

/// A record kept per account in a page.
pub trait Entry: Sized + Default {
    /// Whether pages of these entries start with `MARK`.
    const MARKED: bool = false;
    /// Appends the entry's bytes.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one entry from the front; returns it and the bytes used.
    fn decode(b: &[u8]) -> Option<(Self, usize)>;
    /// Reads one entry of a page without `MARK` (written before it).
    fn decode_unmarked(b: &[u8]) -> Option<(Self, usize)> {
        Self::decode(b)
    }
}

impl Entry for YearSeries {
    const MARKED: bool = true;

    /// The length, then the compact layout.
    fn encode(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0; 2]);
        self.write_to(out);
        let n = (out.len() - at - 2) as u16;
        out[at..at + 2].copy_from_slice(&n.to_be_bytes());
    }

    fn decode(b: &[u8]) -> Option<(Self, usize)> {
        let n = u16::from_be_bytes(b.get(..2)?.try_into().ok()?) as usize;
        Some((YearSeries::from_bytes(b.get(2..2 + n)?), 2 + n))
    }

    fn decode_unmarked(b: &[u8]) -> Option<(Self, usize)> {
        let n = YearSeries::BYTES;
        Some((YearSeries::from_bytes(b.get(..n)?), n))
    }
}

impl Entry for YearInputs {
    fn encode(&self, out: &mut Vec<u8>) {
        // The length goes first: written in place once the entry is.
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        self.write_to(out);
        let n = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&n.to_be_bytes());
    }

    fn decode(b: &[u8]) -> Option<(Self, usize)> {
        let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
        Some((YearInputs::from_bytes(b.get(4..4 + n)?), 4 + n))
    }
}

/// One page: entries sorted by account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// (account id, entry), ascending.
    pub entries: Vec<(u64, T)>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page { entries: Vec::new() }
    }
}

impl<T: Entry> Page<T> {
    /// Reads stored bytes; a damaged tail is dropped.
    pub fn from_bytes(mut b: &[u8]) -> Page<T> {
        let decode = match b.first() {
            Some(&MARK) if T::MARKED => {
                b = &b[1..];
                T::decode
            }
            _ => T::decode_unmarked,
        };
        let mut entries = Vec::new();
        while b.len() >= 8 {
            let id = u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
            let Some((e, used)) = decode(&b[8..]) else { break };
            entries.push((id, e));
            b = &b[8 + used..];
        }
        entries.sort_by_key(|(id, _)| *id);
        Page { entries }
    }

    /// The stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * (8 + YearSeries::BYTES));
        if T::MARKED && !self.entries.is_empty() {
            out.push(MARK);
        }
        for (id, e) in &self.entries {
            out.extend_from_slice(&id.to_be_bytes());
            e.encode(&mut out);
        }
        out
    }

    /// One account's entry.
    pub fn get(&self, id: AccountId) -> Option<&T> {
        let i = self.entries.binary_search_by_key(&id.0, |(k, _)| *k).ok()?;
        Some(&self.entries[i].1)
    }

    /// One account's entry, created empty when missing.
    pub fn entry(&mut self, id: AccountId) -> &mut T {
        let i = match self.entries.binary_search_by_key(&id.0, |(k, _)| *k) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (id.0, T::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Drops one account's entry.
    pub fn remove(&mut self, id: AccountId) {
        self.entries.retain(|(k, _)| *k != id.0);
    }
}

impl Page<YearInputs> {
    /// Sets every day `newer` recorded over this page's (recent days over
    /// the year's).
    pub fn overlay(&mut self, newer: &Page<YearInputs>) {
        for (id, e) in &newer.entries {
            self.entry(AccountId(*id)).overlay(e);
        }
    }
}

/// The entries of a stored `Page<YearInputs>` as (account id, stored
/// `YearInputs` bytes), read in place.
pub fn input_entries(mut b: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    std::iter::from_fn(move || {
        let id = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let n = u32::from_be_bytes(b.get(8..12)?.try_into().ok()?) as usize;
        let body = b.get(12..12 + n)?;
        b = &b[12 + n..];
        Some((id, body))
    })
}

/// Pages read once, changed in memory and written back in one go: what a
/// pass over accounts in id order uses so each page is written once.
#[derive(Default)]
pub struct PageCache {
    scores: BTreeMap<(u32, i32), Page<YearSeries>>,
    /// Years of inputs with their recent days read over them.
    inputs: BTreeMap<(u32, i32), Page<YearInputs>>,
    /// Recent days alone (what the daily pass adds to).
    recent: BTreeMap<(u32, i32), Page<YearInputs>>,
    /// Pages in `inputs` whose recent days were folded in: their `hn`
    /// page goes when the year's is written.
    folded: BTreeSet<(u32, i32)>,
}

impl PageCache {
    /// An account-year of scores, loaded on first use. A year first kept
    /// before pages starts from its old series, so no day is lost.
    pub fn series(&mut self, store: &Store, id: AccountId, year: i32) -> Result<&mut YearSeries> {
        let key = (page_of(id), year);
        if let std::collections::btree_map::Entry::Vacant(e) = self.scores.entry(key) {
            e.insert(store.score_page(key.0, year)?);
        }
        let page = self.scores.get_mut(&key).expect("just loaded");
        if page.get(id).is_none() {
            if let Some(old) = store.tree.get(keys::series(id, year))? {
                *page.entry(id) = YearSeries::from_bytes(&old);
            }
        }
        Ok(page.entry(id))
    }

    /// An account-year of scores if it has one (the page is loaded and
    /// kept, nothing is created).
    pub fn peek_series(&mut self, store: &Store, id: AccountId, year: i32) -> Result<Option<&YearSeries>> {
        let key = (page_of(id), year);
        if let std::collections::btree_map::Entry::Vacant(e) = self.scores.entry(key) {
            e.insert(store.score_page(key.0, year)?);
        }
        Ok(self.scores.get(&key).expect("just loaded").get(id))
    }

    /// An account-year of inputs, loaded on first use (with its recent
    /// days folded in: the year's page is written whole).
    pub fn inputs(&mut self, store: &Store, id: AccountId, year: i32) -> Result<&mut YearInputs> {
        let key = (page_of(id), year);
        if !self.inputs.contains_key(&key) {
            let recent = match self.recent.remove(&key) {
                Some(r) => r,
                None => store.recent_page(key.0, year)?,
            };
            self.fold(store, key, recent)?;
        }
        Ok(self.inputs.get_mut(&key).expect("just loaded").entry(id))
    }

    /// Loads the year's page of `key` with `recent` read over it.
    fn fold(&mut self, store: &Store, key: (u32, i32), recent: Page<YearInputs>) -> Result<()> {
        let mut page = store.year_input_page(key.0, key.1)?;
        if !recent.entries.is_empty() {
            page.overlay(&recent);
            self.folded.insert(key);
        }
        self.inputs.insert(key, page);
        Ok(())
    }

    /// Records an account's inputs of day `d` as the daily pass does: in its
    /// page's recent days, or in the year's page on the day that page folds
    /// (or when it is loaded already).
    pub fn add_day(&mut self, store: &Store, id: AccountId, d: NaiveDate, day: &DaySignals) -> Result<()> {
        let key = (page_of(id), d.year());
        if !self.inputs.contains_key(&key) && !self.recent.contains_key(&key) {
            let recent = store.recent_page(key.0, key.1)?;
            let due = (u64::from(key.0) + d.num_days_from_ce().unsigned_abs() as u64).is_multiple_of(FOLD_EVERY);
            if due || recent.entries.iter().any(|(_, e)| e.span() >= MAX_RECENT) {
                self.fold(store, key, recent)?;
            } else {
                self.recent.insert(key, recent);
            }
        }
        match self.inputs.get_mut(&key) {
            Some(page) => page.entry(id).set(d, day),
            None => self.recent.get_mut(&key).expect("just loaded").entry(id).set(d, day),
        }
        Ok(())
    }

    /// Removes an account from every page it is in (a seek to its page's
    /// years, not a scan of every page).
    pub fn remove(&mut self, store: &Store, id: AccountId) -> Result<()> {
        let page = page_of(id).to_be_bytes();
        for k in store.tree.scan_prefix([keys::SCORE_PAGE, &page].concat()).keys() {
            if let Some((page, year)) = keys::split_page(&k?) {
                self.series(store, id, year)?;
                self.scores.get_mut(&(page, year)).expect("loaded").remove(id);
            }
        }
        for prefix in [keys::INPUT_PAGE, keys::RECENT_PAGE] {
            for k in store.tree.scan_prefix([prefix, &page].concat()).keys() {
                if let Some((page, year)) = keys::split_page(&k?) {
                    self.inputs(store, id, year)?;
                    self.inputs.get_mut(&(page, year)).expect("loaded").remove(id);
                }
            }
        }
        Ok(())
    }

    /// Queues every held page for writing and forgets them.
    pub fn flush_into(&mut self, batch: &mut Batch) {
        for ((page, year), p) in std::mem::take(&mut self.scores) {
            batch.put_page(keys::score_page(page, year), p.to_bytes());
        }
        for ((page, year), p) in std::mem::take(&mut self.inputs) {
            batch.put_page(keys::input_page(page, year), p.to_bytes());
        }
        for (page, year) in std::mem::take(&mut self.folded) {
            batch.remove(keys::recent_page(page, year));
        }
        for ((page, year), p) in std::mem::take(&mut self.recent) {
            batch.put_page(keys::recent_page(page, year), p.to_bytes());
        }
    }
}

impl Store {
    /// One page of scores (empty when none was written).
    pub fn score_page(&self, page: u32, year: i32) -> Result<Page<YearSeries>> {
        Ok(self.tree.get(keys::score_page(page, year))?.map(|v| Page::from_bytes(&v)).unwrap_or_default())
    }

    /// One page of inputs (empty when none was written), with its recent
    /// days read over the year's.
    pub fn input_page(&self, page: u32, year: i32) -> Result<Page<YearInputs>> {
        let mut p = self.year_input_page(page, year)?;
        p.overlay(&self.recent_page(page, year)?);
        Ok(p)
    }

    /// One page of inputs as the year's page holds it (without the recent days).
    fn year_input_page(&self, page: u32, year: i32) -> Result<Page<YearInputs>> {
        Ok(self.tree.get(keys::input_page(page, year))?.map(|v| Page::from_bytes(&v)).unwrap_or_default())
    }

    /// The recent days of a page of inputs (empty when there are none).
    fn recent_page(&self, page: u32, year: i32) -> Result<Page<YearInputs>> {
        Ok(self.tree.get(keys::recent_page(page, year))?.map(|v| Page::from_bytes(&v)).unwrap_or_default())
    }
}

impl Batch {
    /// Writes a page (an empty page is removed).
    pub fn put_page(&mut self, key: Vec<u8>, bytes: Vec<u8>) {
        if bytes.is_empty() {
            self.remove(key);
        } else {
            self.insert(key, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn pages_keep_entries_sorted_and_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut p: Page<YearSeries> = Page::default();
        p.entry(AccountId(9)).set(d, Some(40));
        p.entry(AccountId(3)).set(d, Some(70));
        p.entry(AccountId(9)).set_model_version(2);
        assert_eq!(p.entries.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![3, 9]);
        let back = Page::<YearSeries>::from_bytes(&p.to_bytes());
        assert_eq!(back, p);
        assert_eq!(back.get(AccountId(9)).unwrap().get(d), Some(40));
        assert_eq!(back.get(AccountId(9)).unwrap().model_version(), 2);
        assert!(back.get(AccountId(4)).is_none());

        let mut i: Page<YearInputs> = Page::default();
        let mut day = crate::domain::signals::DaySignals::default();
        day.0[crate::domain::signals::DaySignals::LEN - 1] = 3;
        i.entry(AccountId(5)).set(d, &day);
        i.entry(AccountId(1));
        let back = Page::<YearInputs>::from_bytes(&i.to_bytes());
        assert_eq!(back, i);
        assert_eq!(back.get(AccountId(5)).unwrap().get(d), Some(day));
        let mut cut = i.to_bytes();
        cut.truncate(cut.len() - 3);
        assert_eq!(Page::<YearInputs>::from_bytes(&cut).entries.len(), 1, "a damaged tail is dropped");
        i.remove(AccountId(5));
        assert_eq!(i.entries.len(), 1);
        assert_eq!(page_of(AccountId(15)), 0);
        assert_eq!(page_of(AccountId(16)), 1);
    }

    #[test]
    fn score_pages_written_before_the_mark_still_read() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut p: Page<YearSeries> = Page::default();
        for (id, score) in [(32u64, 40u8), (33, 90)] {
            let s = p.entry(AccountId(id));
            s.set(d, Some(score));
            s.set(d + chrono::Duration::days(1), Some(score));
            s.set_model_version(3);
        }
        // The layout before: an id and the 368 full bytes, entry after entry.
        let old: Vec<u8> =
            p.entries.iter().flat_map(|(id, s)| [id.to_be_bytes().to_vec(), s.to_bytes()].concat()).collect();
        assert_eq!(old.len(), 2 * (8 + YearSeries::BYTES));
        assert_eq!(Page::<YearSeries>::from_bytes(&old), p);
        let new = p.to_bytes();
        assert_eq!(new[0], MARK);
        assert!(new.len() < 50, "{} bytes", new.len());
        assert_eq!(Page::<YearSeries>::from_bytes(&new), p);
        assert_eq!(Page::<YearSeries>::default().to_bytes(), Vec::<u8>::new(), "an empty page is removed");
    }

    #[test]
    fn a_workspace_written_before_runs_reads_rescores_and_is_written_anew() {
        use crate::domain::health_model::{Model, DEFAULT_MODEL};
        use crate::domain::health_table::ScoreTable;
        use crate::domain::signals::DaySignals;
        use crate::domain::Stage;
        use crate::store::tests::{account, row};

        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let (mut batch, mut totals) = (Batch::default(), super::super::StageTotals::default());
        // Two accounts' year as the layouts before wrote them: inputs flat
        // with a width byte, scores 368 bytes an entry with no mark.
        let (mut old_inputs, mut old_scores, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        for id in [1u64, 2] {
            let a = account(id, Stage::Adoption);
            batch.put_account(&a);
            batch.put_row(None, &row(&a, Some(50)), &mut totals);
            let mut inputs = YearInputs::default();
            let mut scores = YearSeries::new();
            for n in 0..40 {
                let mut day = DaySignals::default();
                (day.0[2], day.0[16]) = ((n % 20 * id) as u8, Stage::Adoption.index() as u8);
                let d = today - chrono::Duration::days(40 - n as i64);
                inputs.set(d, &day);
                scores.set(d, Some(50));
            }
            let days: Vec<u8> = inputs.days().flat_map(|(_, d)| d.0).collect();
            let first = inputs.days().next().unwrap().0 as u16;
            old_inputs.extend_from_slice(&id.to_be_bytes());
            old_inputs.extend_from_slice(&(3 + days.len() as u32).to_be_bytes());
            old_inputs.extend_from_slice(&(first | 0x8000).to_be_bytes());
            old_inputs.push(DaySignals::LEN as u8);
            old_inputs.extend_from_slice(&days);
            old_scores.extend_from_slice(&id.to_be_bytes());
            old_scores.extend_from_slice(&scores.to_bytes());
            kept.push((AccountId(id), inputs, scores));
        }
        batch.insert(keys::input_page(0, 2026), old_inputs);
        batch.insert(keys::score_page(0, 2026), old_scores);
        store.apply(batch).unwrap();
        for (id, inputs, scores) in &kept {
            assert_eq!(store.year_inputs(*id, 2026).unwrap().as_ref(), Some(inputs));
            assert_eq!(store.year_series(*id, 2026).unwrap().as_ref(), Some(scores));
        }

        let stricter =
            DEFAULT_MODEL.replace("linear = { zero_at = 60, full_at = 7 }", "linear = { zero_at = 30, full_at = 7 }");
        let stricter = Model::parse(&stricter).unwrap();
        let report = store.recompute_health(&stricter, today).unwrap();
        assert_eq!((report.accounts, report.years), (2, 2));
        let table = ScoreTable::new(&stricter);
        for (id, inputs, _) in &kept {
            let scores = store.year_series(*id, 2026).unwrap().unwrap();
            for (n, day) in inputs.days() {
                let d = NaiveDate::from_yo_opt(2026, n as u32 + 1).unwrap();
                assert_eq!(scores.get(d), table.score(&day, Stage::Adoption, crate::domain::Segment::MidMarket));
            }
            assert_eq!(store.year_inputs(*id, 2026).unwrap().as_ref(), Some(inputs), "inputs unchanged");
        }
        // The scores went back in the new layout; the inputs, once a day is
        // added, as runs.
        let raw = |k: Vec<u8>| store.tree.get(k).unwrap().unwrap().to_vec();
        assert_eq!(raw(keys::score_page(0, 2026))[0], MARK);
        let mut pages = PageCache::default();
        let mut day = crate::domain::signals::DaySignals::default();
        day.0[16] = Stage::Adoption.index() as u8;
        pages.inputs(&store, AccountId(1), 2026).unwrap().set(today, &day);
        let mut batch = Batch::default();
        pages.flush_into(&mut batch);
        store.apply(batch).unwrap();
        let stored = raw(keys::input_page(0, 2026));
        let (_, first) = input_entries(&stored).next().unwrap();
        assert_eq!(first[0] & 0xC0, 0xC0, "runs");
        assert!(stored.len() < 200, "{} bytes, from {}", stored.len(), 2 * (12 + 3 + 40 * DaySignals::LEN));
        let mut expected = kept[0].1.clone();
        expected.set(today, &day);
        assert_eq!(store.year_inputs(AccountId(1), 2026).unwrap(), Some(expected));
        assert_eq!(store.year_inputs(AccountId(2), 2026).unwrap().as_ref(), Some(&kept[1].1));
    }
}

#[cfg(test)]
mod recent_tests {
    use super::*;
    use chrono::{Datelike, Duration, NaiveDate};

    fn day(n: u8) -> DaySignals {
        let mut d = DaySignals::default();
        (d.0[2], d.0[DaySignals::LEN - 1]) = (n, 3);
        d
    }

    fn flush(store: &Store, pages: &mut PageCache) {
        let mut batch = Batch::default();
        pages.flush_into(&mut batch);
        store.apply(batch).unwrap();
    }

    fn raw(store: &Store, k: Vec<u8>) -> Option<Vec<u8>> {
        store.tree.get(k).unwrap().map(|v| v.to_vec())
    }

    /// The first day from `from` on whose pass folds page 0 (`fold`) or not.
    fn first_day(from: NaiveDate, fold: bool) -> NaiveDate {
        (0..64)
            .map(|n| from + Duration::days(n))
            .find(|d| (d.num_days_from_ce() as u64).is_multiple_of(FOLD_EVERY) == fold)
            .unwrap()
    }

    #[test]
    fn the_days_pass_adds_to_the_recent_days_and_the_year_is_folded_on_its_day() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // A year's page as every version wrote it: two accounts, 20 days.
        let mut pages = PageCache::default();
        for n in 0..20 {
            for id in [1, 2] {
                pages.inputs(&store, AccountId(id), 2026).unwrap().set(start + Duration::days(n), &day(n as u8));
            }
        }
        flush(&store, &mut pages);
        let year = raw(&store, keys::input_page(0, 2026)).unwrap();
        let mut expected = store.year_inputs(AccountId(1), 2026).unwrap().unwrap();

        // Days whose pass does not fold page 0: the year's page is left as
        // it was, the days read over it.
        let d = first_day(start + Duration::days(20), false);
        let mut added = Vec::new();
        for d in
            [d, d + Duration::days(1)].into_iter().filter(|d| !(d.num_days_from_ce() as u64).is_multiple_of(FOLD_EVERY))
        {
            let mut pages = PageCache::default();
            pages.add_day(&store, AccountId(1), d, &day(99)).unwrap();
            // An account in no page yet starts in the recent days.
            pages.add_day(&store, AccountId(3), d, &day(7)).unwrap();
            flush(&store, &mut pages);
            expected.set(d, &day(99));
            added.push(d);
        }
        assert_eq!(raw(&store, keys::input_page(0, 2026)), Some(year.clone()), "the year's page is not written");
        assert!(raw(&store, keys::recent_page(0, 2026)).unwrap().len() < 100);
        assert_eq!(store.year_inputs(AccountId(1), 2026).unwrap(), Some(expected.clone()));
        assert_eq!(store.day_signals(AccountId(1), added[0]).unwrap(), Some(day(99)));
        assert_eq!(store.day_signals(AccountId(3), added[0]).unwrap(), Some(day(7)));
        assert_eq!(store.year_inputs(AccountId(2), 2026).unwrap().unwrap().days().count(), 20);

        // Anything else that writes the year's page folds the recent days in.
        let mut pages = PageCache::default();
        pages.inputs(&store, AccountId(2), 2026).unwrap().set(start, &day(50));
        flush(&store, &mut pages);
        assert_eq!(raw(&store, keys::recent_page(0, 2026)), None, "folded");
        assert_ne!(raw(&store, keys::input_page(0, 2026)), Some(year));
        assert_eq!(store.year_inputs(AccountId(1), 2026).unwrap(), Some(expected.clone()));
        assert_eq!(store.day_signals(AccountId(3), added[0]).unwrap(), Some(day(7)));

        // The day a page folds, the pass writes the year's page.
        let fold = first_day(added[added.len() - 1] + Duration::days(1), true);
        let mut pages = PageCache::default();
        pages.add_day(&store, AccountId(1), fold - Duration::days(1), &day(5)).unwrap();
        flush(&store, &mut pages);
        assert!(raw(&store, keys::recent_page(0, 2026)).is_some());
        let mut pages = PageCache::default();
        pages.add_day(&store, AccountId(1), fold, &day(6)).unwrap();
        flush(&store, &mut pages);
        assert_eq!(raw(&store, keys::recent_page(0, 2026)), None);
        expected.set(fold - Duration::days(1), &day(5));
        expected.set(fold, &day(6));
        assert_eq!(store.year_inputs(AccountId(1), 2026).unwrap(), Some(expected));
    }

    #[test]
    fn a_workspace_of_schema_5_opens_and_its_years_take_recent_days() {
        let tmp = tempfile::tempdir().unwrap();
        let d = first_day(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), false);
        {
            let store = Store::open(tmp.path()).unwrap();
            let mut pages = PageCache::default();
            pages.inputs(&store, AccountId(1), 2026).unwrap().set(d - Duration::days(1), &day(1));
            flush(&store, &mut pages);
            store.tree.insert(keys::SCHEMA, &5u32.to_be_bytes()).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(tmp.path()).unwrap();
        assert_eq!(store.schema(), crate::store::migrate::CURRENT);
        let mut pages = PageCache::default();
        pages.add_day(&store, AccountId(1), d, &day(2)).unwrap();
        flush(&store, &mut pages);
        let kept = store.year_inputs(AccountId(1), 2026).unwrap().unwrap();
        assert_eq!((kept.get(d - Duration::days(1)), kept.get(d)), (Some(day(1)), Some(day(2))));
    }

    #[test]
    fn recent_days_that_grew_long_are_folded_whatever_the_day() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        // Recent days as a book not opened on its pages' fold days leaves them.
        let mut recent: Page<YearInputs> = Page::default();
        for n in 0..MAX_RECENT as i64 {
            recent.entry(AccountId(4)).set(start + Duration::days(n), &day(n as u8));
        }
        let mut batch = Batch::default();
        batch.put_page(keys::recent_page(0, 2026), recent.to_bytes());
        store.apply(batch).unwrap();
        let d = first_day(start + Duration::days(MAX_RECENT as i64), false);
        let mut pages = PageCache::default();
        pages.add_day(&store, AccountId(4), d, &day(1)).unwrap();
        flush(&store, &mut pages);
        assert_eq!(raw(&store, keys::recent_page(0, 2026)), None);
        let kept = store.year_inputs(AccountId(4), 2026).unwrap().unwrap();
        assert_eq!(kept.days().count(), MAX_RECENT + 1);
        assert_eq!(kept.get(d), Some(day(1)));
        assert_eq!(kept.get(start + Duration::days(3)), Some(day(3)));
    }

    #[test]
    fn an_account_removed_leaves_neither_its_year_nor_its_recent_days() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let d = first_day(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(), false);
        let mut pages = PageCache::default();
        pages.inputs(&store, AccountId(1), d.year()).unwrap().set(d - Duration::days(1), &day(1));
        flush(&store, &mut pages);
        let mut pages = PageCache::default();
        for id in [1, 2] {
            pages.add_day(&store, AccountId(id), d, &day(2)).unwrap();
        }
        // Account 5 has recent days only, in a year with no year's page.
        let next_year = first_day(d + Duration::days(365), false);
        pages.add_day(&store, AccountId(5), next_year, &day(3)).unwrap();
        flush(&store, &mut pages);
        assert!(raw(&store, keys::recent_page(0, next_year.year())).is_some());
        let mut pages = PageCache::default();
        for id in [1, 5] {
            pages.remove(&store, AccountId(id)).unwrap();
        }
        flush(&store, &mut pages);
        assert_eq!(store.year_inputs(AccountId(1), d.year()).unwrap(), None);
        assert_eq!(store.year_inputs(AccountId(5), next_year.year()).unwrap(), None);
        assert_eq!(raw(&store, keys::recent_page(0, next_year.year())), None);
        assert_eq!(store.day_signals(AccountId(2), d).unwrap(), Some(day(2)));
    }
}
