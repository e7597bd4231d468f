//! Observed signals in the store (each account's dated values per signal
//! and source), and the rebuild of an account's daily inputs and scores
//! from its records when its past changed: a first sync that read a year
//! of property history, an import of past usage, a late-arriving value.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use super::codec::{decode, encode};
use super::pages::{page_of, PageCache};
use super::{keys, Batch, Result, Store};
use crate::domain::health::metric_names;
use crate::domain::health_model::Model;
use crate::domain::health_table::ScoreTable;
use crate::domain::observed::{Observations, Observed, Point, Signal};
use crate::domain::signals::{inputs_at, DaySignals, Records, UNKNOWN};
use crate::domain::{Account, AccountId, Measure, OutcomeKind, Stage};

/// Days of history a rebuild covers, today included.
pub const HISTORY_DAYS: i64 = 366;
/// The cursor name that records a source's history was read.
const HISTORY_CURSOR: &str = "history";

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Accounts rebuilt.
    pub accounts: u64,
    /// Account-days scored.
    pub days: u64,
}

/// Observations gathered for one batch: each series read once, merged in
/// memory (so two pages naming one account in a batch both count), then
/// written with the rebuild marks they call for.
pub struct Observe<'s> {
    store: &'s Store,
    today: NaiveDate,
    series: BTreeMap<Vec<u8>, Observed>,
    marks: BTreeMap<AccountId, NaiveDate>,
}

impl<'s> Observe<'s> {
    /// Merges `points` into `signal` of account `id` as `source` reports it
    /// (`origin` says where: "hubspot:active_users_30d"). A change before
    /// today marks the account's history for rebuild from that day.
    /// Returns whether anything changed.
    pub fn add(
        &mut self,
        id: AccountId,
        signal: &Signal,
        source: &str,
        origin: &str,
        points: impl IntoIterator<Item = Point>,
    ) -> Result<bool> {
        let today = self.today;
        let series = self.series(id, signal, source, origin)?;
        series.origin = origin.to_string();
        series.checked = series.checked.max(today);
        let changed = series.merge(points);
        if let Some(day) = changed.filter(|d| *d < self.today) {
            self.mark(id, day);
        }
        Ok(changed.is_some())
    }

    /// Merges a current value dated when the source last changed the
    /// record, but never before the series' last point: a value read now
    /// cannot rewrite the past it already holds.
    pub fn add_latest(
        &mut self,
        id: AccountId,
        signal: &Signal,
        source: &str,
        origin: &str,
        point: Point,
    ) -> Result<bool> {
        let last = self.series(id, signal, source, origin)?.points.last().map(|p| p.day);
        let day = last.map_or(point.day, |l| point.day.max(l));
        self.add(id, signal, source, origin, [Point { day, ..point }])
    }

    /// The series of (account, signal, source) as this batch has it: read
    /// from the store on first use, empty from `origin` when there is none.
    fn series(&mut self, id: AccountId, signal: &Signal, source: &str, origin: &str) -> Result<&mut Observed> {
        Ok(match self.series.entry(keys::observed(id, &signal.key(), source)) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let kept = match self.store.tree.get(e.key())? {
                    Some(v) => decode::<Observed>(&v, "observed signal")?,
                    None => Observed::new(origin, self.today),
                };
                e.insert(kept)
            }
        })
    }

    /// Asks for the account's whole year to be rebuilt (a new account:
    /// its past is just arriving).
    pub fn mark_year(&mut self, id: AccountId) {
        self.mark(id, self.today - Duration::days(HISTORY_DAYS - 1));
    }

    /// Asks for the account's history to be rebuilt from `from` on.
    pub fn mark(&mut self, id: AccountId, from: NaiveDate) {
        let e = self.marks.entry(id).or_insert(from);
        *e = (*e).min(from);
    }

    /// Whether nothing was gathered.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.marks.is_empty()
    }

    /// Writes what was gathered into `b` (marks keep the earliest day).
    pub fn flush_into(self, b: &mut Batch) -> Result<()> {
        for (k, o) in self.series {
            b.insert(k, encode(&o));
        }
        for (id, from) in self.marks {
            let from = match self.store.rebuild_mark(id)? {
                Some(kept) => kept.min(from),
                None => from,
            };
            b.insert(keys::with_id(keys::REBUILD, id), keys::day(from).to_vec());
        }
        Ok(())
    }
}

fn day_of(b: &[u8]) -> Option<NaiveDate> {
    let n = u32::from_be_bytes(b.try_into().ok()?);
    NaiveDate::from_num_days_from_ce_opt(n as i32)
}

/// The stage an account was probably in on a past day: the early stages
/// in the first 60 days of its contract, the renewal stages by days to
/// its renewal, else `settled`.
fn stage_then(account: &Account, day: NaiveDate, settled: Stage) -> Stage {
    let tenure = (day - account.contract_start).num_days();
    match tenure {
        0..3 => Stage::Handover,
        3..14 => Stage::Delivery,
        14..60 => Stage::Onboarding,
        _ => match (account.renewal_date - day).num_days() {
            left if left >= 0 => Stage::renewal_window(left).unwrap_or(settled),
            _ => settled,
        },
    }
}

impl Store {
    /// Gathers observations for a batch.
    pub fn observe(&self, today: NaiveDate) -> Observe<'_> {
        Observe { store: self, today, series: BTreeMap::new(), marks: BTreeMap::new() }
    }

    /// Every signal observed for an account, each series from its source.
    pub fn observations(&self, id: AccountId) -> Result<Observations> {
        let entries = self.tree.scan_prefix(keys::with_id(keys::OBSERVED, id)).collect::<sled::Result<Vec<_>>>()?;
        self.observations_of(id, entries)
    }

    /// An account's signals from its `ob` entries as read.
    pub(super) fn observations_of(
        &self,
        id: AccountId,
        entries: Vec<(sled::IVec, sled::IVec)>,
    ) -> Result<Observations> {
        let prefix = keys::with_id(keys::OBSERVED, id);
        let mut series = Vec::new();
        for (k, v) in entries {
            let tail = &k[prefix.len()..];
            let Some(nul) = tail.iter().position(|b| *b == 0) else { continue };
            let Some(signal) = std::str::from_utf8(&tail[..nul]).ok().and_then(Signal::from_key) else { continue };
            series.push((signal, decode::<Observed>(&v, "observed signal")?));
        }
        Ok(Observations { series })
    }

    /// The day from which an account's history waits to be rebuilt.
    pub fn rebuild_mark(&self, id: AccountId) -> Result<Option<NaiveDate>> {
        Ok(self.tree.get(keys::with_id(keys::REBUILD, id))?.and_then(|v| day_of(&v)))
    }

    /// Marks every account's history for rebuild from `from` (a first or a
    /// full sync: the records of the past have just arrived).
    pub fn mark_all_for_rebuild(&self, from: NaiveDate) -> Result<u64> {
        let mut b = Batch::default();
        let mut n = 0;
        for k in self.tree.scan_prefix(keys::ACCOUNT).keys() {
            let k = k?;
            let Some(id) = keys::trailing_id(&k) else { continue };
            let from = self.rebuild_mark(id)?.map_or(from, |kept| kept.min(from));
            b.insert(keys::with_id(keys::REBUILD, id), keys::day(from).to_vec());
            n += 1;
            if b.len() >= 10_000 {
                self.apply(std::mem::take(&mut b))?;
            }
        }
        self.apply(b)?;
        Ok(n)
    }

    /// Accounts waiting for a rebuild.
    pub fn rebuild_pending(&self) -> usize {
        self.tree.scan_prefix(keys::REBUILD).count()
    }

    /// Whether any account waits for a rebuild (one seek).
    pub fn rebuild_waiting(&self) -> bool {
        self.tree.scan_prefix(keys::REBUILD).next().is_some()
    }

    /// Whether a source's history was read (its first full sync finished).
    pub fn history_read(&self, source: &str) -> Result<bool> {
        Ok(self.tree.contains_key(keys::cursor(source, HISTORY_CURSOR))?)
    }

    /// Records that a source's history was read.
    pub fn set_history_read(&self, source: &str, day: NaiveDate) -> Result<()> {
        self.tree.insert(keys::cursor(source, HISTORY_CURSOR), keys::day(day).to_vec())?;
        Ok(())
    }

    /// Named metrics sit in the daily inputs by slot, in the order of their
    /// names: when the names change, the accounts that report metrics are
    /// rebuilt so each slot holds its metric again.
    pub fn ensure_metric_slots(&self, today: NaiveDate) -> Result<()> {
        let names: Vec<String> = metric_names().into_iter().map(|(_, n)| n.to_string()).collect();
        let kept: Vec<String> = self.get(keys::METRIC_SLOTS, "metric names")?.unwrap_or_default();
        if kept == names {
            return Ok(());
        }
        let mut b = Batch::default();
        let from = today - Duration::days(HISTORY_DAYS - 1);
        let mut last = None;
        for k in self.tree.scan_prefix(keys::OBSERVED).keys() {
            let k = k?;
            let Some(id) = k.get(2..10).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes) else { continue };
            if last == Some(id) || !k[10..].starts_with(b"metric:") {
                continue;
            }
            last = Some(id);
            b.insert(keys::with_id(keys::REBUILD, AccountId(id)), keys::day(from).to_vec());
        }
        b.insert(keys::METRIC_SLOTS.to_vec(), encode(&names));
        self.apply(b)
    }

    /// Rebuilds the daily inputs and scores of every marked account from
    /// its mark (at most a year back) to today, with `model`, from the
    /// records as they stand: a property's value on a day is its last
    /// change at or before it, contact comes from the dated calls, meetings,
    /// emails and replies, support load from the tickets open that day, NPS
    /// from the answers before it. Each page of accounts lands with its
    /// marks cleared, so a stop part-way resumes where it was.
    pub fn rebuild_marked(&self, model: &Model, now: DateTime<Utc>) -> Result<RebuildReport> {
        let mut report = RebuildReport::default();
        while self.rebuild_step(model, now, usize::MAX, &mut report)? {}
        Ok(report)
    }

    /// Rebuilds up to `limit` marked accounts, adding to `report`;
    /// `Ok(true)` while marks remain. Rows and totals are read in the step
    /// that writes them, so a change made between two steps is kept.
    pub fn rebuild_step(
        &self,
        model: &Model,
        now: DateTime<Utc>,
        limit: usize,
        report: &mut RebuildReport,
    ) -> Result<bool> {
        let table = ScoreTable::new(model);
        let today = now.date_naive();
        let oldest = today - Duration::days(HISTORY_DAYS - 1);
        let mut batch = Batch::default();
        let mut totals = self.stage_totals()?;
        let mut pages = PageCache::default();
        let mut page = None;
        let mut marks: Vec<(AccountId, NaiveDate, sled::IVec)> = Vec::new();
        let mut seen = 0;
        for kv in self.tree.scan_prefix(keys::REBUILD).take(limit) {
            let (k, v) = kv?;
            seen += 1;
            match (keys::trailing_id(&k), day_of(&v)) {
                (Some(id), Some(day)) => marks.push((id, day, v)),
                // A mark that does not read would come back every step.
                _ => batch.remove(k.to_vec()),
            }
        }
        let more = seen == limit;
        // Marks are cleared once their pages are written, and only if no
        // sync marked the account again meanwhile (an earlier day, new
        // records): that mark stays for the next rebuild.
        let mut done: Vec<(AccountId, sled::IVec)> = Vec::new();
        let clear = |done: &mut Vec<(AccountId, sled::IVec)>| -> Result<()> {
            for (id, seen) in done.drain(..) {
                let key = keys::with_id(keys::REBUILD, id);
                // A failed swap means the mark changed: leave it.
                let _ = self.tree.compare_and_swap(key, Some(seen), None as Option<&[u8]>)?;
            }
            Ok(())
        };
        for (id, from, seen) in marks {
            if page.is_some_and(|p| p != page_of(id)) {
                pages.flush_into(&mut batch);
                batch.put_totals(&totals);
                if batch.is_full(2_000) {
                    self.apply(std::mem::take(&mut batch))?;
                    clear(&mut done)?;
                }
            }
            page = Some(page_of(id));
            done.push((id, seen));
            let (Some(account), Some(row)) = (self.account(id)?, self.row(id)?) else { continue };
            let days = self.rebuild_account(&account, from.max(oldest), now, &table, &mut pages)?;
            report.accounts += 1;
            report.days += days;
            let new = super::health::refresh_health(self, &row, &mut pages, today)?;
            if new != row {
                batch.put_row(Some(&row), &new, &mut totals);
            }
        }
        pages.flush_into(&mut batch);
        batch.put_totals(&totals);
        self.apply(batch)?;
        clear(&mut done)?;
        Ok(more)
    }

    /// Rescores one account's days from `from` to today; returns the days scored.
    fn rebuild_account(
        &self,
        account: &Account,
        from: NaiveDate,
        now: DateTime<Utc>,
        table: &ScoreTable,
        pages: &mut PageCache,
    ) -> Result<u64> {
        let id = account.id;
        let today = now.date_naive();
        let tickets = self.tickets(id)?;
        let activities = self.activities(id)?;
        let nps = self.nps(id)?;
        let manual = self.manual_signals(id)?;
        let observed = self.observations(id)?;
        let window = Duration::days(crate::domain::rating::CSAT_WINDOW_DAYS);
        let ratings = self.ratings(id, &tickets, from.and_time(NaiveTime::MIN).and_utc() - window)?;
        // No score before anything was known of the account, and none
        // after it left.
        let first_known = [Some(account.contract_start)]
            .into_iter()
            .chain([tickets.iter().map(|t| t.created_at.date_naive()).min()])
            .chain([activities.iter().map(|a| a.at.date_naive()).min()])
            .chain([nps.iter().map(|n| n.on).min()])
            .chain(observed.series.iter().map(|(_, o)| o.points.first().map(|p| p.day)))
            .flatten()
            .min()
            .unwrap_or(today);
        let left = account.outcome.as_ref().filter(|o| o.kind == OutcomeKind::Churned).map(|o| o.on);
        let settled = match account.stage {
            s @ (Stage::Adoption | Stage::Expansion) => s,
            _ => Stage::Adoption,
        };
        let records = Records {
            account,
            tickets: &tickets,
            activities: &activities,
            nps: &nps,
            ratings: &ratings,
            manual: manual.as_ref(),
            observed: Some(&observed),
        };
        let mut d = from.max(first_known);
        let mut n = 0;
        let end_of_day = NaiveTime::from_hms_opt(23, 59, 59).expect("valid time");
        while d <= today {
            if left.is_some_and(|l| d >= l) {
                break;
            }
            let (at, stage) = match d == today {
                true => (now, account.stage),
                false => (d.and_time(end_of_day).and_utc(), stage_then(account, d, settled)),
            };
            let mut day = DaySignals::new(&inputs_at(&records, at), stage);
            let year = pages.inputs(self, id, d.year())?;
            // A day the daily pass recorded keeps what the records cannot
            // tell again: the stage the account was in, and the CSM's
            // sentiment then (only the latest sentiment is kept).
            if let Some(kept) = year.get(d) {
                day.0[DaySignals::LEN - 1] = kept.0[DaySignals::LEN - 1];
                if day.byte(Measure::Sentiment) == UNKNOWN {
                    day.0[Measure::Sentiment.index()] = kept.byte(Measure::Sentiment);
                }
            }
            year.set(d, &day);
            let stage = day.stage().unwrap_or(stage);
            let series = pages.series(self, id, d.year())?;
            series.set(d, table.score(&day, stage, account.segment));
            series.set_model_version(table.version);
            n += 1;
            d += Duration::days(1);
        }
        Ok(n)
    }
}

impl Batch {
    /// Stores one signal's series of an account from a source.
    pub fn put_observed(&mut self, id: AccountId, signal: &Signal, source: &str, o: &Observed) {
        self.insert(keys::observed(id, &signal.key(), source), encode(o));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Measure, Segment};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        (dir, s)
    }

    fn account(id: u64, start: NaiveDate) -> Account {
        Account {
            id: AccountId(id),
            name: format!("Acct {id}"),
            domain: String::new(),
            segment: Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: String::new(),
            plan: String::new(),
            seats: 20,
            arr: 10_000,
            contract_start: start,
            renewal_date: start + Duration::days(700),
            stage: Stage::Adoption,
            key_people: vec![],
            outcome: None,
        }
    }

    #[test]
    fn a_year_of_property_history_becomes_a_year_of_scores() {
        let (_dir, s) = store();
        let now = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
        let today = now.date_naive();
        let a = account(7, today - Duration::days(500));
        s.ingest_accounts("crm", &[("7".into(), a.clone())], &[], &[], None).unwrap();
        // Active users fall from 20 to 5 over the last 100 days, weekly.
        let mut o = s.observe(today);
        let points = (0..52).map(|w| {
            let day = today - Duration::days(7 * (51 - w));
            let users = if w < 38 { 20.0 } else { 20.0 - (w - 37) as f64 };
            Point { day, value: Some(users) }
        });
        assert!(o.add(a.id, &Signal::ActiveUsers, "crm", "crm:active_users", points).unwrap());
        let mut b = Batch::default();
        o.flush_into(&mut b).unwrap();
        s.apply(b).unwrap();
        // A new account's whole year waits for a rebuild (its past is arriving).
        assert_eq!(s.rebuild_mark(a.id).unwrap(), Some(today - Duration::days(365)));
        // The same history again changes nothing and asks for nothing.
        let mut again = s.observe(today);
        let same = s.observations(a.id).unwrap().series[0].1.points.clone();
        assert!(!again.add(a.id, &Signal::ActiveUsers, "crm", "crm:active_users", same).unwrap());

        let report = s.rebuild_marked(Model::builtin_ref(), now).unwrap();
        assert_eq!(report.accounts, 1);
        assert_eq!(report.days, 366);
        assert_eq!(s.rebuild_pending(), 0);
        let early = s.day_signals(a.id, today - Duration::days(200)).unwrap().unwrap();
        assert_eq!(early.get(Measure::Seats), Some(1.0));
        assert_eq!(early.get(Measure::Usage), Some(1.0));
        let late = s.day_signals(a.id, today).unwrap().unwrap();
        assert_eq!(late.get(Measure::Seats), Some(0.3), "6 of 20 seats");
        assert!(late.get(Measure::Usage).unwrap() < 0.5, "{late:?}");
        let h = s.health_history(a.id, today - Duration::days(364), today).unwrap();
        assert!(h.scores.iter().filter(|x| x.is_some()).count() >= 358);
        let row = s.row(a.id).unwrap().unwrap();
        assert!(row.health.unwrap() < h.at(today - Duration::days(200)).unwrap(), "{row:?}");
        assert!(row.health_30d_ago.is_some() && row.health_7d_ago.is_some());
    }

    #[test]
    fn a_rebuild_keeps_the_stage_and_sentiment_a_day_recorded() {
        let (_dir, s) = store();
        let now = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
        let today = now.date_naive();
        let a = account(4, today - Duration::days(500));
        s.ingest_accounts("crm", &[("4".into(), a.clone())], &[], &[], None).unwrap();
        let then = today - Duration::days(40);
        let mut recorded = crate::domain::health_model::Inputs::default();
        recorded.set(Measure::Sentiment, 2.0).set(Measure::Support, 0.0);
        let mut pages = PageCache::default();
        pages.inputs(&s, a.id, then.year()).unwrap().set(then, &DaySignals::new(&recorded, Stage::RenewalPrep));
        let mut b = Batch::default();
        pages.flush_into(&mut b);
        s.apply(b).unwrap();
        s.mark_all_for_rebuild(today - Duration::days(365)).unwrap();
        s.rebuild_marked(Model::builtin_ref(), now).unwrap();
        let day = s.day_signals(a.id, then).unwrap().unwrap();
        assert_eq!(day.stage(), Some(Stage::RenewalPrep), "the stage recorded that day, not a guess");
        assert_eq!(day.get(Measure::Sentiment), Some(2.0), "the sentiment of the day stays");
        let other = s.day_signals(a.id, then - Duration::days(1)).unwrap().unwrap();
        assert_eq!(other.get(Measure::Sentiment), None);
        assert_eq!(other.stage(), Some(Stage::Adoption));
    }

    #[test]
    fn no_score_before_anything_was_known_nor_after_a_churn() {
        let (_dir, s) = store();
        let now = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
        let today = now.date_naive();
        let mut a = account(3, today - Duration::days(100));
        a.outcome = Some(crate::domain::Outcome::new(OutcomeKind::Churned, today - Duration::days(10)));
        a.stage = Stage::Churned;
        s.ingest_accounts("crm", &[("3".into(), a.clone())], &[], &[], None).unwrap();
        s.mark_all_for_rebuild(today - Duration::days(365)).unwrap();
        let r = s.rebuild_marked(Model::builtin_ref(), now).unwrap();
        assert_eq!(r.days, 90, "from the contract start to the day before the churn");
        assert_eq!(s.day_signals(a.id, today - Duration::days(101)).unwrap(), None);
        assert!(s.day_signals(a.id, today - Duration::days(11)).unwrap().is_some());
        assert_eq!(s.day_signals(a.id, today - Duration::days(10)).unwrap(), None);
    }
}
