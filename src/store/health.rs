//! Daily health in the store: each day's inputs and score per account, the
//! history rescored when the model changes, and churn-risk flags turned
//! into follow-ups once per occurrence.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::cursor::Cursor;
use super::pages::{input_entries, page_of, Page, PageCache, PAGE};
use super::series::YearInputs;
use super::{keys, Batch, Result, Store, YearSeries};
use crate::domain::backtest::{Horizon, Sample};
use crate::domain::cadence::Context;
use crate::domain::explain::{explain, Explanation};
use crate::domain::flags::{self, Check, Flag, FlagRules, Step};
use crate::domain::followup::{is_high_value, ticket_follow_up, Draft, HIGH_VALUE_ARR};
use crate::domain::health_model::Model;
use crate::domain::health_table::ScoreTable;
use crate::domain::observed::{from_epoch_days, Signal};
use crate::domain::rollup::last_touch;
use crate::domain::rules::{self, Facts, Moves, Rule};
use crate::domain::signals::{inputs_at, DaySignals, ManualSignals, Records, Sentiment};
use crate::domain::{
    Account, AccountId, AccountRow, Bands, FollowUpState, HealthHistory, Measure, Outcome, OutcomeKind, Ticket,
};

/// Which model the stored history was scored with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStamp {
    /// The model's version.
    pub version: u16,
    /// The model's name.
    pub name: String,
    /// A hash of everything that scores, so an edit without a version bump
    /// is noticed too.
    pub fingerprint: u64,
}

impl ModelStamp {
    /// The stamp of a model.
    pub fn of(model: &Model) -> ModelStamp {
        // FNV-1a over the parsed model: stable for a given binary and model.
        let text = format!("{model:?}");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        ModelStamp { version: model.version, name: model.name.clone(), fingerprint: h }
    }
}

/// What a rescore of the history did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecomputeReport {
    /// Accounts with history.
    pub accounts: u64,
    /// Account-years read.
    pub years: u64,
    /// Account-years whose scores or version changed.
    pub rewritten: u64,
    /// Rows whose score, 7-day or 30-day figure changed.
    pub rows_changed: u64,
}

/// What a daily pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DailyReport {
    /// Live accounts scored for the day.
    pub scored: u64,
    /// Flags and lifecycle rules that started to hold, and ticket rules
    /// that called for a new follow-up (a follow-up each).
    pub raised: u64,
    /// Flags, lifecycle rules and ticket follow-ups that cleared.
    pub cleared: u64,
}

/// Where a rescore stands between its steps.
#[derive(Debug, Clone)]
pub struct Rescore {
    table: ScoreTable,
    stamp: ModelStamp,
    today: NaiveDate,
    /// The input pages there are, counted at the first step.
    pages: Option<u32>,
    next: u32,
    /// What it did so far.
    pub report: RecomputeReport,
}

impl Rescore {
    /// A rescore of the whole history with `model`.
    pub fn new(model: &Model, today: NaiveDate) -> Rescore {
        Rescore {
            table: ScoreTable::new(model),
            stamp: ModelStamp::of(model),
            today,
            pages: None,
            next: 0,
            report: RecomputeReport::default(),
        }
    }
}

/// Where a daily pass stands between its steps.
#[derive(Debug, Clone, Default)]
pub struct DailyPass {
    /// The key of the next account to score (empty before the first step).
    next: Vec<u8>,
    sources: Vec<String>,
    /// What it did so far.
    pub report: DailyReport,
}

/// Where a pass over the changed accounts stands between its steps.
#[derive(Debug, Clone, Default)]
pub struct SincePass {
    started: bool,
    sources: Vec<String>,
    /// What it did so far.
    pub report: DailyReport,
}

/// An account's records, as the daily pass scores them.
struct Fetched {
    account: Account,
    row: crate::domain::AccountRow,
    tickets: Vec<crate::domain::Ticket>,
    activities: Vec<crate::domain::Activity>,
    nps: Vec<crate::domain::NpsResponse>,
    manual: Option<ManualSignals>,
    observed: crate::domain::observed::Observations,
    /// CSAT / CES answers from the CRM (desk ratings follow the tickets).
    surveys: Vec<crate::domain::rating::Rating>,
    /// The follow-up each raised flag or rule slot holds, by code.
    flags: [Option<u64>; 256],
    support_only: bool,
}

/// One slot of a `fl` entry into `flags`.
fn record_flag(flags: &mut [Option<u64>; 256], k: &[u8], v: &[u8]) {
    if let (Some(code), Ok(f)) = (k.last(), <[u8; 8]>::try_from(v)) {
        flags[*code as usize] = Some(u64::from_be_bytes(f));
    }
}

/// What a pass reports when one of its threads stopped (a panic).
fn thread_stopped() -> super::StoreError {
    super::StoreError::Decode { what: "health history".into(), detail: "a scoring thread stopped".into() }
}

/// Where a chunk of `a:` entries splits in two halves that share no page
/// of history: the first account of a page from the middle on (the end
/// when the chunk is one page).
fn page_split(chunk: &[(sled::IVec, sled::IVec)]) -> usize {
    let page = |kv: &(sled::IVec, sled::IVec)| keys::trailing_id(&kv.0).map(page_of);
    (chunk.len() / 2..chunk.len()).find(|&i| i > 0 && page(&chunk[i]) != page(&chunk[i - 1])).unwrap_or(chunk.len())
}

/// Accounts a daily step scores (on two threads) and applies at a time.
const CHUNK: usize = 1_000;

/// A step's accounts read in id order: a cursor per kind of record.
struct Cursors {
    rows: Cursor,
    tickets: Cursor,
    activities: Cursor,
    nps: Cursor,
    manual: Cursor,
    observed: Cursor,
    surveys: Cursor,
    flags: Cursor,
    support: Cursor,
}

impl Cursors {
    fn new(tree: &sled::Tree, from: AccountId) -> Cursors {
        Cursors {
            rows: Cursor::new(tree, keys::ROW, from),
            tickets: Cursor::new(tree, keys::TICKET, from),
            activities: Cursor::new(tree, keys::ACTIVITY, from),
            nps: Cursor::new(tree, keys::NPS, from),
            manual: Cursor::new(tree, keys::MANUAL, from),
            observed: Cursor::new(tree, keys::OBSERVED, from),
            surveys: Cursor::new(tree, keys::SURVEY_RATING, from),
            flags: Cursor::new(tree, keys::FLAG, from),
            support: Cursor::new(tree, keys::SUPPORT_ONLY, from),
        }
    }

    /// `account`'s records (accounts asked in ascending id order).
    fn fetch(&mut self, store: &Store, account: Account) -> Result<Option<Fetched>> {
        let id = account.id;
        let Some(row) = all::<crate::domain::AccountRow>(&mut self.rows, id, "account row")?.into_iter().next() else {
            return Ok(None);
        };
        let mut flags = [None; 256];
        for (k, v) in self.flags.take(id)? {
            record_flag(&mut flags, &k, &v);
        }
        let surveys: Vec<crate::domain::rating::SurveyRating> = all(&mut self.surveys, id, "survey rating")?;
        let observed = self.observed.take(id)?;
        Ok(Some(Fetched {
            row,
            tickets: all(&mut self.tickets, id, "ticket")?,
            activities: all(&mut self.activities, id, "activity")?,
            nps: all(&mut self.nps, id, "NPS answer")?,
            manual: all::<ManualSignals>(&mut self.manual, id, "usage and sentiment")?.into_iter().next(),
            observed: store.observations_of(id, observed)?,
            surveys: surveys.into_iter().map(|r| r.rating).collect(),
            flags,
            support_only: !self.support.take(id)?.is_empty(),
            account,
        }))
    }
}

/// What a step of a pass writes as it scores accounts: its batch, the
/// kanban totals, and the page of history being filled.
struct Scoring {
    table: ScoreTable,
    batch: Batch,
    totals: super::StageTotals,
    pages: PageCache,
    page: Option<u32>,
    /// Whether the workspace holds any desk ticket rating (`tr`): when it
    /// holds none, no ticket's is looked up.
    rated: bool,
}

impl Scoring {
    /// A step under `rules`' model, adding to `batch`.
    fn new(store: &Store, rules: HealthRules, batch: Batch) -> Result<Scoring> {
        Scoring::with_totals(store, rules, batch, store.stage_totals()?)
    }

    /// A step under `rules`' model from `totals`, adding to `batch`.
    fn with_totals(store: &Store, rules: HealthRules, batch: Batch, totals: super::StageTotals) -> Result<Scoring> {
        let rated = store.tree.scan_prefix(keys::TICKET_RATING).next().transpose()?.is_some();
        let table = ScoreTable::new(rules.model);
        Ok(Scoring { table, batch, totals, pages: PageCache::default(), page: None, rated })
    }

    /// The step's writes, with its pages and totals, to apply.
    fn into_batch(mut self) -> Batch {
        self.pages.flush_into(&mut self.batch);
        self.batch.put_totals(&self.totals);
        self.batch
    }
}

/// Every record of `id` under a cursor, decoded.
fn all<T: serde::de::DeserializeOwned>(c: &mut Cursor, id: AccountId, what: &str) -> Result<Vec<T>> {
    c.take(id)?.into_iter().map(|(_, v)| decode(&v, what)).collect()
}

/// What a backtest replays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BacktestData {
    /// One per outcome that had a score `horizon` days before.
    pub samples: Vec<Sample>,
    /// Churns and renewals found.
    pub outcomes: usize,
    /// Outcomes left out: no score that far back.
    pub unscored: usize,
    /// Every outcome whose inputs were kept for its horizon day, for the
    /// per-measure figures.
    pub horizons: Vec<Horizon>,
}

/// Everything a daily pass needs besides the store.
#[derive(Debug, Clone, Copy)]
pub struct HealthRules<'a> {
    /// The model in force.
    pub model: &'a Model,
    /// Flag thresholds.
    pub flags: &'a FlagRules,
    /// Band thresholds.
    pub bands: &'a Bands,
}

/// A stored page of inputs a rescore reads: page, year, bytes, and whether
/// it holds the recent days (`hn`) rather than the year's (`hq`).
type PageInput = (u32, i32, sled::IVec, bool);

/// A row's health figures: latest, 7 and 30 days before it.
type HealthFields = (Option<u8>, Option<u8>, Option<u8>);

/// An account's years of history, by year.
type Years = BTreeMap<i32, YearSeries>;

fn score_on(years: &Years, d: NaiveDate) -> Option<u8> {
    years.get(&d.year())?.get(d)
}

/// The row's health figures: the latest score up to `today`, and the
/// scores 7 and 30 days before it, from an account's series by year
/// (`years` lists the years there are).
fn health_fields<'a>(
    series: impl Fn(i32) -> Option<&'a YearSeries>,
    years: impl DoubleEndedIterator<Item = i32>,
    today: NaiveDate,
) -> HealthFields {
    let at = |d: NaiveDate| series(d.year())?.get(d);
    match years.rev().find_map(|y| series(y)?.latest(y, today)) {
        Some((d, s)) => (Some(s), at(d - Duration::days(7)), at(d - Duration::days(30))),
        None => (None, None, None),
    }
}

fn with_health(row: &AccountRow, (health, w, m): HealthFields) -> AccountRow {
    AccountRow { health, health_7d_ago: w, health_30d_ago: m, ..row.clone() }
}

/// The years a row's health figures look at (the last 31 days), from the
/// pages in `pages` or the store.
fn recent_years(store: &Store, id: AccountId, pages: &mut PageCache, today: NaiveDate) -> Result<Years> {
    let mut years = Years::new();
    for y in [(today - Duration::days(31)).year(), today.year()] {
        let kept = match pages.peek_series(store, id, y)? {
            Some(s) => Some(s.clone()),
            None => store.tree.get(keys::series(id, y))?.map(|v| YearSeries::from_bytes(&v)),
        };
        years.extend(kept.map(|s| (y, s)));
    }
    Ok(years)
}

/// The row with its health figures read again from the pages in `pages`
/// (or the store) as of `today`.
pub(super) fn refresh_health(
    store: &Store,
    row: &AccountRow,
    pages: &mut PageCache,
    today: NaiveDate,
) -> Result<AccountRow> {
    let years = recent_years(store, row.id, pages, today)?;
    Ok(with_health(row, health_fields(|y| years.get(&y), years.keys().copied(), today)))
}

impl Store {
    /// Which model the history was last scored with.
    pub fn model_stamp(&self) -> Result<Option<ModelStamp>> {
        self.get(keys::MODEL_STAMP, "model stamp")
    }

    /// Usage, billing and sentiment of an account.
    pub fn manual_signals(&self, id: AccountId) -> Result<Option<ManualSignals>> {
        self.get(&keys::with_id(keys::MANUAL, id), "usage and sentiment")
    }

    /// One account-year of daily scores (from its page, else from a
    /// series written before pages).
    pub fn year_series(&self, id: AccountId, year: i32) -> Result<Option<YearSeries>> {
        if let Some(s) = self.score_page(page_of(id), year)?.get(id) {
            return Ok(Some(s.clone()));
        }
        Ok(self.tree.get(keys::series(id, year))?.map(|v| YearSeries::from_bytes(&v)))
    }

    /// One account-year of daily health inputs.
    pub fn year_inputs(&self, id: AccountId, year: i32) -> Result<Option<YearInputs>> {
        Ok(self.input_page(page_of(id), year)?.get(id).cloned())
    }

    /// The inputs recorded for an account on a day.
    pub fn day_signals(&self, id: AccountId, d: NaiveDate) -> Result<Option<DaySignals>> {
        Ok(self.year_inputs(id, d.year())?.and_then(|s| s.get(d)))
    }

    /// Rescores the whole history with `model` when it is not the model
    /// the history was scored with; returns what it did, if it ran.
    pub fn ensure_model(&self, model: &Model, today: NaiveDate) -> Result<Option<RecomputeReport>> {
        if self.model_stamp()? == Some(ModelStamp::of(model)) {
            return Ok(None);
        }
        self.recompute_health(model, today).map(Some)
    }

    /// Rescores every day that kept its inputs with `model`, refreshes the
    /// rows, and records the model. A crash part-way leaves the old stamp,
    /// so the next start finishes the job.
    pub fn recompute_health(&self, model: &Model, today: NaiveDate) -> Result<RecomputeReport> {
        let mut pass = Rescore::new(model, today);
        while self.rescore_step(&mut pass, u32::MAX)? {}
        Ok(pass.report)
    }

    /// Rescores the next `pages` pages of a rescore; `Ok(false)` once the
    /// last is done and the model recorded. Rows are read and written in
    /// the same step, so a change made between two steps is kept.
    pub fn rescore_step(&self, pass: &mut Rescore, pages: u32) -> Result<bool> {
        let total = match pass.pages {
            Some(n) => n,
            None => {
                let mut pages = 0;
                for prefix in [keys::INPUT_PAGE, keys::RECENT_PAGE] {
                    let last = self.tree.scan_prefix(prefix).keys().next_back().transpose()?;
                    pages = pages.max(last.and_then(|k| keys::split_page(&k)).map_or(0, |(p, _)| p + 1));
                }
                *pass.pages.insert(pages)
            }
        };
        let (from, to) = (pass.next, pass.next.saturating_add(pages).min(total));
        // Two halves of the pages on two threads: the work is reading,
        // scoring and writing pages, which sled lets run side by side.
        let mid = from + (to - from) / 2;
        let (table, today) = (&pass.table, pass.today);
        let (a, b) = std::thread::scope(|scope| {
            let low = scope.spawn(|| self.recompute_range(from, mid, table, today));
            let high = self.recompute_range(mid, to, table, today);
            (low.join().unwrap_or_else(|_| Err(thread_stopped())), high)
        });
        for r in [a?, b?] {
            pass.report.accounts += r.accounts;
            pass.report.years += r.years;
            pass.report.rewritten += r.rewritten;
            pass.report.rows_changed += r.rows_changed;
        }
        pass.next = to;
        if to < total {
            return Ok(true);
        }
        let mut batch = Batch::default();
        batch.insert(keys::MODEL_STAMP.to_vec(), encode(&pass.stamp));
        self.apply(batch)?;
        Ok(false)
    }

    /// Rescores the pages numbered `from..to`. Rows change only in their
    /// health figures, so the stage totals stay as they are.
    fn recompute_range(&self, from: u32, to: u32, table: &ScoreTable, today: NaiveDate) -> Result<RecomputeReport> {
        let mut report = RecomputeReport::default();
        let mut batch = Batch::default();
        let mut totals = self.stage_totals()?;
        // Input pages come in (page, year) order, the years' and the recent
        // days' side by side: gather a page's, then rescore its accounts in
        // id order.
        let read = |kv: sled::Result<(sled::IVec, sled::IVec)>, recent: bool| {
            kv.map(|(k, v)| keys::split_page(&k).map(|(page, year)| (page, year, v, recent)))
        };
        let mut years = self.tree.range(keys::input_page(from, 0)..keys::input_page(to, 0)).map(|kv| read(kv, false));
        let mut recent = self.tree.range(keys::recent_page(from, 0)..keys::recent_page(to, 0)).map(|kv| read(kv, true));
        let next = |it: &mut dyn Iterator<Item = sled::Result<Option<PageInput>>>| -> Result<Option<PageInput>> {
            for kv in &mut *it {
                if let Some(found) = kv? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        };
        let (mut a, mut b) = (next(&mut years)?, next(&mut recent)?);
        while let Some(page) = [&a, &b].into_iter().flatten().map(|(p, ..)| *p).min() {
            let mut found = Vec::new();
            while let Some(e) = a.take_if(|e| e.0 == page) {
                found.push(e);
                a = next(&mut years)?;
            }
            while let Some(e) = b.take_if(|e| e.0 == page) {
                found.push(e);
                b = next(&mut recent)?;
            }
            self.rescore_page(page, found, table, today, &mut batch, &mut totals, &mut report)?;
            if batch.is_full(2_000) {
                self.apply(std::mem::take(&mut batch))?;
            }
        }
        self.apply(batch)?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn rescore_page(
        &self,
        page: u32,
        inputs: Vec<PageInput>,
        table: &ScoreTable,
        today: NaiveDate,
        batch: &mut Batch,
        totals: &mut super::StageTotals,
        report: &mut RecomputeReport,
    ) -> Result<()> {
        // Every year the rows look at, and every year with inputs.
        let mut years: BTreeMap<i32, Page<YearSeries>> = BTreeMap::new();
        for y in [(today - Duration::days(31)).year(), today.year()].into_iter().chain(inputs.iter().map(|e| e.1)) {
            if let std::collections::btree_map::Entry::Vacant(e) = years.entry(y) {
                e.insert(self.score_page(page, y)?);
            }
        }
        // (account, year, recent days, stored inputs), in account order: a
        // year's recent days after its page's, so they score over it.
        let mut work: Vec<(u64, i32, bool, &[u8])> = inputs
            .iter()
            .flat_map(|(_, y, v, recent)| input_entries(v).map(move |(id, b)| (id, *y, *recent, b)))
            .collect();
        work.sort_by_key(|(id, y, recent, _)| (*id, *y, *recent));
        // The page's rows in one range read rather than one lookup each.
        let first = AccountId(page as u64 * PAGE);
        let end = keys::with_id(keys::ROW, AccountId((page as u64 + 1) * PAGE));
        let mut rows: BTreeMap<u64, AccountRow> = BTreeMap::new();
        for kv in self.tree.range(keys::with_id(keys::ROW, first)..end) {
            let (k, v) = kv?;
            if let Some(id) = keys::trailing_id(&k) {
                rows.insert(id.0, decode(&v, "account row")?);
            }
        }
        let mut rewrite = std::collections::BTreeSet::new();
        let mut i = 0;
        while i < work.len() {
            let id = AccountId(work[i].0);
            let j = i + work[i..].iter().take_while(|w| w.0 == id.0).count();
            report.accounts += 1;
            let mut kept = work[i..j].iter().map(|w| w.1).collect::<Vec<_>>();
            kept.dedup();
            report.years += kept.len() as u64;
            if let Some(row) = rows.remove(&id.0) {
                for y in kept {
                    let series = years.get_mut(&y).expect("loaded").entry(id);
                    let mut stored = work[i..j].iter().filter(|w| w.1 == y).map(|w| w.3);
                    let year = stored.next().unwrap_or_default();
                    let changed = match stored.next() {
                        // The recent days too: changed is what differs at the end.
                        Some(recent) => {
                            let before = series.clone();
                            series.rescore_stored(year, table, row.stage, row.segment);
                            series.rescore_stored(recent, table, row.stage, row.segment);
                            *series != before
                        }
                        None => series.rescore_stored(year, table, row.stage, row.segment),
                    };
                    report.rewritten += u64::from(changed);
                    if changed {
                        rewrite.insert(y);
                    }
                }
                let new = with_health(&row, health_fields(|y| years.get(&y)?.get(id), years.keys().copied(), today));
                if new != row {
                    report.rows_changed += 1;
                    batch.put_row(Some(&row), &new, totals);
                }
            }
            i = j;
        }
        // A page none of whose years changed (the model is the one they were
        // scored with) stays as it is.
        for (y, p) in years {
            if rewrite.contains(&y) && !p.entries.is_empty() {
                batch.put_page(keys::score_page(page, y), p.to_bytes());
            }
        }
        Ok(())
    }

    /// The day of the last daily pass.
    pub fn last_daily(&self) -> Result<Option<NaiveDate>> {
        self.get(keys::DAILY, "daily pass day")
    }

    /// Scores every live account for `now`'s day from its records, and
    /// raises or clears its flags. Safe to run more than once a day: the
    /// day's slot is overwritten and raised flags are not raised again.
    pub fn daily_health(&self, rules: HealthRules, now: DateTime<Utc>) -> Result<DailyReport> {
        // Today's scores go on a history scored by the same model.
        self.ensure_model(rules.model, now.date_naive())?;
        // A past that changed (a first sync, an import) is rebuilt first.
        self.ensure_metric_slots(now.date_naive())?;
        if self.rebuild_waiting() {
            let r = self.rebuild_marked(rules.model, now)?;
            tracing::info!(accounts = r.accounts, days = r.days, "history rebuilt");
        }
        let mut pass = DailyPass::default();
        // In steps as the cockpit runs it: each step's batches and the marks
        // it clears stay small (one step over the whole book held 75 MB
        // more at 30,000 accounts).
        while self.daily_step(rules, now, &mut pass, 1_000)? {}
        Ok(pass.report)
    }

    /// Scores the next `accounts` accounts of a daily pass; `Ok(false)` once
    /// the last is done and the day recorded. Each step reads the rows and
    /// totals it changes afresh, so an edit made between two steps is kept.
    pub fn daily_step(
        &self,
        rules: HealthRules,
        now: DateTime<Utc>,
        pass: &mut DailyPass,
        accounts: usize,
    ) -> Result<bool> {
        if pass.next.is_empty() {
            pass.sources = self.ticket_sources()?;
            pass.next = keys::ACCOUNT.to_vec();
        }
        let mut more = false;
        // Marks up to the next account's id are done with by this step.
        let marks_from = keys::with_id(keys::DIRTY, keys::trailing_id(&pass.next).unwrap_or(AccountId(0)));
        let mut marks_to = None;
        let mut batch = Batch::default();
        let mut totals = self.stage_totals()?;
        let mut chunk: Vec<(sled::IVec, sled::IVec)> = Vec::with_capacity(CHUNK.min(accounts));
        let mut kvs = self.tree.range(pass.next.clone()..);
        let mut done = 0;
        loop {
            let kv = kvs.next().transpose()?.filter(|(k, _)| k.starts_with(keys::ACCOUNT));
            let end = kv.is_none() || done == accounts;
            if let Some((k, _)) = kv.as_ref().filter(|_| done == accounts) {
                pass.next = k.to_vec();
                marks_to = keys::trailing_id(k).map(|id| keys::with_id(keys::DIRTY, id));
                more = true;
            }
            if let Some(kv) = kv.filter(|_| !end) {
                chunk.push(kv);
                done += 1;
            }
            // A chunk is scored (on two threads) and applied before the next
            // is read, so no step holds more than a chunk's writes.
            if chunk.len() == CHUNK || (end && !chunk.is_empty()) {
                let (writes, t) = self.score_chunk(&chunk, rules, now, &pass.sources, totals, &mut pass.report)?;
                totals = t;
                for w in writes {
                    self.apply(w)?;
                }
                chunk.clear();
            }
            if end {
                break;
            }
        }
        batch.put_totals(&totals);
        // Every account this step scored had its records read now: its
        // mark (set by an edit or a sync page before) is done with.
        let marks = match &marks_to {
            Some(to) => self.tree.range(marks_from.clone()..to.clone()),
            None => self.tree.range(marks_from.clone()..keys::DEADLINE.to_vec()),
        };
        for kv in marks {
            let (k, _) = kv?;
            if !k.starts_with(keys::DIRTY) {
                break;
            }
            batch.remove(k.to_vec());
        }
        if !more {
            batch.insert(keys::DAILY.to_vec(), encode(&now.date_naive()));
            batch.insert(keys::MODEL_STAMP.to_vec(), encode(&ModelStamp::of(rules.model)));
            // Every open ticket was looked at now, and its next moment kept.
            for kv in self.tree.range(keys::DEADLINE.to_vec()..keys::deadline_after(now)) {
                batch.inner.remove(kv?.0);
            }
        }
        self.apply(batch)?;
        Ok(more)
    }

    /// Scores a chunk of the daily pass's accounts (their `a:` entries, in
    /// id order) in two halves on two threads, split where a page of
    /// history starts so no page is written by both. Returns the writes to
    /// apply and the totals after them.
    fn score_chunk(
        &self,
        chunk: &[(sled::IVec, sled::IVec)],
        rules: HealthRules,
        now: DateTime<Utc>,
        sources: &[String],
        totals: super::StageTotals,
        report: &mut DailyReport,
    ) -> Result<(Vec<Batch>, super::StageTotals)> {
        let (low, high) = chunk.split_at(page_split(chunk));
        let run = |part: &[(sled::IVec, sled::IVec)]| self.score_part(part, rules, now, sources, totals);
        let (a, b) = if high.is_empty() {
            (run(low), Ok(None))
        } else {
            std::thread::scope(|scope| {
                let other = scope.spawn(|| run(high));
                let mine = run(low);
                (mine, other.join().unwrap_or_else(|_| Err(thread_stopped())))
            })
        };
        let mut writes = Vec::new();
        let mut out = totals;
        for (mut batch, t, r) in [a?, b?].into_iter().flatten() {
            // Each half started from `totals`: add what each moved.
            for i in 0..out.count.len() {
                out.count[i] = out.count[i].wrapping_add(t.count[i]).wrapping_sub(totals.count[i]);
                out.arr[i] = out.arr[i].wrapping_add(t.arr[i]).wrapping_sub(totals.arr[i]);
            }
            // The halves are applied one after the other: each carries the
            // totals as they are once it is in, so a stop between two
            // applies never leaves the kanban's totals out of step with
            // the rows it moved.
            batch.put_totals(&out);
            report.scored += r.scored;
            report.raised += r.raised;
            report.cleared += r.cleared;
            writes.push(batch);
        }
        Ok((writes, out))
    }

    /// Scores consecutive accounts of the daily pass, their records read
    /// with one cursor per kind; returns the writes, totals and report.
    fn score_part(
        &self,
        part: &[(sled::IVec, sled::IVec)],
        rules: HealthRules,
        now: DateTime<Utc>,
        sources: &[String],
        totals: super::StageTotals,
    ) -> Result<Option<(Batch, super::StageTotals, DailyReport)>> {
        let mut step = Scoring::with_totals(self, rules, Batch::default(), totals)?;
        let mut report = DailyReport::default();
        let mut cursors: Option<Cursors> = None;
        for (_, v) in part {
            let account: Account = decode(v, "account")?;
            let cursors = cursors.get_or_insert_with(|| Cursors::new(&self.tree, account.id));
            self.score_in(&mut step, account, |a| cursors.fetch(self, a), (rules, now, sources), &mut report)?;
        }
        step.pages.flush_into(&mut step.batch);
        Ok(Some((step.batch, step.totals, report)))
    }

    /// Scores again, `accounts` at a step, the accounts whose records
    /// changed since they were last scored (`keys::DIRTY`, set by every
    /// batch that writes them) and those with a ticket whose support rule
    /// may call for something else by `now` (`keys::DEADLINE`). `Ok(false)`
    /// when none is left. The day's full pass (`daily_step`) runs first on
    /// a new day; this one keeps the day current after syncs and edits.
    pub fn since_step(
        &self,
        rules: HealthRules,
        now: DateTime<Utc>,
        pass: &mut SincePass,
        accounts: usize,
    ) -> Result<bool> {
        if !pass.started {
            pass.sources = self.ticket_sources()?;
            pass.started = true;
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut done = Batch::default();
        for kv in self.tree.scan_prefix(keys::DIRTY).take(accounts) {
            let (k, _) = kv?;
            ids.extend(keys::trailing_id(&k));
            done.inner.remove(k);
        }
        for kv in self.tree.range(keys::DEADLINE.to_vec()..keys::deadline_after(now)).take(accounts) {
            let (k, _) = kv?;
            ids.extend(keys::deadline_account(&k));
            done.inner.remove(k);
        }
        if ids.is_empty() {
            return Ok(false);
        }
        // The marks go in the batch that scores their accounts: never applied
        // before it, so a stop in between leaves them marked.
        let mut step = Scoring::new(self, rules, done)?;
        for id in ids {
            let Some(account) = self.account(id)? else { continue };
            let sources = &pass.sources;
            self.score_in(&mut step, account, |a| self.fetch(a.id, None), (rules, now, sources), &mut pass.report)?;
        }
        self.apply(step.into_batch())?;
        Ok(true)
    }

    /// Scores one account in a step: a customer who left only loses its
    /// flags. Accounts come in id order, so a page is done when the next
    /// starts.
    fn score_in(
        &self,
        step: &mut Scoring,
        account: Account,
        fetch: impl FnOnce(Account) -> Result<Option<Fetched>>,
        (rules, now, sources): (HealthRules, DateTime<Utc>, &[String]),
        report: &mut DailyReport,
    ) -> Result<()> {
        if !account.stage.is_active() {
            // A customer who left needs no churn warning any more.
            return self.clear_flags(account.id, &mut step.batch, report);
        }
        let page = page_of(account.id);
        if step.page.is_some_and(|p| p != page) {
            step.pages.flush_into(&mut step.batch);
        }
        step.page = Some(page);
        match fetch(account)? {
            Some(fetched) => self.score_account(fetched, step, rules, now, sources, report),
            None => Ok(()),
        }
    }

    /// An account's records read one by one (a few accounts: the changed
    /// ones, a sentiment); `manual` replaces the stored signals.
    fn fetch(&self, id: AccountId, manual: Option<ManualSignals>) -> Result<Option<Fetched>> {
        let (Some(account), Some(row)) = (self.account(id)?, self.row(id)?) else { return Ok(None) };
        let manual = match manual {
            Some(m) => Some(m),
            None => self.manual_signals(id)?,
        };
        let surveys = self
            .scan::<crate::domain::rating::SurveyRating>(&keys::with_id(keys::SURVEY_RATING, id), "survey rating")
            .map(|r| r.map(|r| r.rating))
            .collect::<Result<_>>()?;
        let mut flags = [None; 256];
        for kv in self.tree.scan_prefix(keys::with_id(keys::FLAG, id)) {
            let (k, v) = kv?;
            record_flag(&mut flags, &k, &v);
        }
        Ok(Some(Fetched {
            tickets: self.tickets(id)?,
            activities: self.activities(id)?,
            nps: self.nps(id)?,
            manual,
            observed: self.observations(id)?,
            surveys,
            flags,
            support_only: self.tree.contains_key(keys::with_id(keys::SUPPORT_ONLY, id))?,
            account,
            row,
        }))
    }

    fn score_account(
        &self,
        fetched: Fetched,
        step: &mut Scoring,
        rules: HealthRules,
        now: DateTime<Utc>,
        sources: &[String],
        report: &mut DailyReport,
    ) -> Result<()> {
        let Scoring { table, batch, totals, pages, rated, .. } = step;
        let Fetched {
            account,
            row,
            tickets,
            activities,
            nps,
            manual,
            observed,
            surveys,
            flags: recorded,
            support_only,
        } = fetched;
        let id = account.id;
        // Desk ratings follow their tickets: those updated within the window.
        let since = now - Duration::days(crate::domain::rating::CSAT_WINDOW_DAYS);
        let mut ratings = surveys;
        for t in tickets.iter().filter(|t| *rated && t.updated_at >= since) {
            ratings.extend(self.ticket_rating(t.id)?.map(|r| r.rating));
        }
        let records = Records {
            account: &account,
            tickets: &tickets,
            activities: &activities,
            nps: &nps,
            ratings: &ratings,
            manual: manual.as_ref(),
            observed: Some(&observed),
        };
        let inputs = inputs_at(&records, now);
        let today = now.date_naive();
        let day = DaySignals::new(&inputs, account.stage);
        pages.add_day(self, id, today, &day)?;
        let series = pages.series(self, id, today.year())?;
        series.set(today, table.score(&day, account.stage, account.segment));
        series.set_model_version(table.version);
        let years = recent_years(self, id, pages, today)?;
        report.scored += 1;
        let fields = health_fields(|y| years.get(&y), years.keys().copied(), today);
        let new = with_health(&row, fields);
        if new != row {
            batch.put_row(Some(&row), &new, totals);
        }

        // A support organization of its own has no contract: its renewal
        // date is a placeholder, so no check-in cadence and no lifecycle
        // rule speaks for it; its tickets' flags do.
        let check = Check {
            inputs: &inputs,
            frustrated: tickets.iter().any(|t| t.status.is_open() && t.frustrated),
            score: score_on(&years, today),
            week_ago: score_on(&years, today - Duration::days(7)),
            bands: rules.bands,
            context: (!support_only).then_some(Context {
                segment: account.segment,
                stage: account.stage,
                days_to_renewal: account.days_to_renewal(today),
                open_tickets: tickets.iter().filter(|t| t.status.is_open()).count() as u32,
            }),
        };
        let mut holding: Vec<(Flag, String)> = flags::raised(rules.flags, &check);
        let card = observed.at(&Signal::CardExpiry, today).and_then(from_epoch_days);
        holding.extend(flags::card_expiring(card, today));
        for flag in Flag::ALL {
            let draft = holding.iter().find(|(f, _)| *f == flag).map(|(_, r)| flags::draft(flag, r, id, now));
            self.step_slot(keys::flag(id, flag.code()), recorded[flag.code() as usize], draft, batch, report)?;
        }
        let facts = Facts {
            account: &account,
            moves: Moves::from_timeline(&activities),
            last_contact: last_touch(&tickets, &activities),
            coverage: inputs.get(Measure::Onboarding),
            nps: &nps,
        };
        let mut due = if support_only { Vec::new() } else { rules::holding(&rules.flags.lifecycle, &facts, now) };
        for rule in Rule::ALL {
            let draft = due.iter().position(|(r, _)| *r == rule).map(|i| due.swap_remove(i).1);
            self.step_slot(keys::flag(id, rule.code()), recorded[rule.code() as usize], draft, batch, report)?;
        }
        self.recheck_tickets(&account, &tickets, sources, now, batch, report)
    }

    /// Steps one follow-up slot of an account (a flag's or a lifecycle
    /// rule's `fl` key, which holds the follow-up id it raised): raises
    /// `holding`'s follow-up when the condition starts to hold, keeps an
    /// open item's reason true while it holds (done or snoozed ones are
    /// left alone), and clears the slot when it stops holding.
    fn step_slot(
        &self,
        key: Vec<u8>,
        recorded: Option<u64>,
        holding: Option<Draft>,
        batch: &mut Batch,
        report: &mut DailyReport,
    ) -> Result<()> {
        match (flags::step(holding.is_some(), recorded.is_some()), holding) {
            (Step::Raise, Some(draft)) => {
                let f = draft.into_follow_up(self.next_id()?);
                batch.put_follow_up(&f, None);
                batch.insert(key, f.id.to_be_bytes().to_vec());
                report.raised += 1;
            }
            (Step::Keep, Some(draft)) => {
                // "34 days" becomes "35 days".
                let Some(mut f) = self.follow_up(recorded.unwrap_or_default())? else { return Ok(()) };
                if f.state == FollowUpState::Open && f.reason != draft.reason {
                    f.reason = draft.reason;
                    batch.put_follow_up(&f, None);
                }
            }
            (Step::Clear, _) => self.drop_flag(key, recorded, batch, report)?,
            _ => {}
        }
        Ok(())
    }

    /// Re-evaluates the support rules of an account's open tickets at
    /// `now`, so a ticket that did not change since the last sync still
    /// gets its follow-up once 24 h, 48 h or 5 days pass. Each ticket keeps
    /// its one slot (see `put_ticket_follow_up`): the same situation keeps
    /// its item and state.
    fn recheck_tickets(
        &self,
        account: &Account,
        tickets: &[Ticket],
        sources: &[String],
        now: DateTime<Utc>,
        batch: &mut Batch,
        report: &mut DailyReport,
    ) -> Result<()> {
        if sources.is_empty() {
            return Ok(());
        }
        let high = is_high_value(account.segment, account.arr, HIGH_VALUE_ARR);
        for t in tickets.iter().filter(|t| t.status.is_open()) {
            for source in sources {
                let Some(slot) = self.ticket_slot(source, t.id)? else { continue };
                if slot.account != account.id {
                    continue;
                }
                let due = self.put_ticket_follow_up(batch, t.id, ticket_follow_up(t, high, now), Some(&slot))?;
                // Looked at again when a silence reaches its next mark.
                if let Some(at) = t.next_change(now) {
                    batch.insert(keys::deadline(at, account.id, t.id), Vec::new());
                }
                if slot.legacy || slot.due != due {
                    let slot = keys::ticket_slot(account.id, due, slot.org);
                    batch.insert(keys::external(source, &super::ticket_ext(t.id)), slot);
                }
                match (slot.due, due) {
                    (old, Some(new)) if !slot.legacy && old != Some(new) => report.raised += 1,
                    (Some(_), None) => report.cleared += 1,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The sources whose id map files tickets, found by skipping from one
    /// source's `x:` entries to the next (a seek per source, not a scan).
    fn ticket_sources(&self) -> Result<Vec<String>> {
        let mut out = super::sources_under(&self.tree, keys::EXTERNAL)?;
        // Tickets are named `ticket/<id>` in the map (see `ticket_ext`).
        out.retain(|source| self.tree.scan_prefix(keys::external(source, "ticket/")).next().is_some());
        Ok(out)
    }

    /// What every start does before showing figures: rescore the history
    /// if the model changed, and run the daily pass if today's has not run,
    /// else score again the accounts that changed since (`since_step`).
    /// Returns whether anything changed.
    pub fn upkeep(&self, rules: HealthRules, now: DateTime<Utc>) -> Result<bool> {
        let rescored = self.ensure_model(rules.model, now.date_naive())?.is_some();
        self.ensure_metric_slots(now.date_naive())?;
        if self.last_daily()?.is_some_and(|d| d >= now.date_naive()) {
            let rebuilt = self.rebuild_waiting();
            if rebuilt {
                self.rebuild_marked(rules.model, now)?;
            }
            // The accounts whose records changed since they were scored.
            let mut pass = SincePass::default();
            while self.since_step(rules, now, &mut pass, 1_000)? {}
            let r = pass.report;
            return Ok(rescored || rebuilt || r.scored + r.raised + r.cleared > 0);
        }
        self.daily_health(rules, now)?;
        Ok(true)
    }

    /// Every churn and renewal with the score the account had `horizon`
    /// days before it: the stored score, or `replay`'s score of the stored
    /// inputs when another model is being tried.
    pub fn backtest_samples(&self, horizon: i64, replay: Option<&ScoreTable>) -> Result<BacktestData> {
        let mut outcomes: BTreeMap<AccountId, Vec<Outcome>> = BTreeMap::new();
        for deal in self.all_deals() {
            let deal = deal?;
            if let Some(o) = deal.outcome() {
                outcomes.entry(deal.account_id).or_default().push(o);
            }
        }
        let mut data = BacktestData::default();
        // Accounts come in id order: each (page, year) of scores and inputs
        // is read once for the up to 16 accounts it holds.
        let mut scores: BTreeMap<(u32, i32), Page<YearSeries>> = BTreeMap::new();
        let mut inputs: BTreeMap<(u32, i32), Page<YearInputs>> = BTreeMap::new();
        for account in self.accounts() {
            let account = account?;
            let mut list = outcomes.remove(&account.id).unwrap_or_default();
            list.extend(account.outcome);
            if list.is_empty() {
                continue;
            }
            list.sort_by_key(|o| (o.on, o.kind == OutcomeKind::Churned));
            list.dedup();
            let page = page_of(account.id);
            scores.retain(|(p, _), _| *p == page);
            inputs.retain(|(p, _), _| *p == page);
            for o in list {
                data.outcomes += 1;
                let at = o.on - Duration::days(horizon);
                let key = (page, at.year());
                if let std::collections::btree_map::Entry::Vacant(e) = inputs.entry(key) {
                    e.insert(self.input_page(page, at.year())?);
                }
                let day = inputs[&key].get(account.id).and_then(|y| y.get(at));
                let churned = o.kind == OutcomeKind::Churned;
                if let Some(day) = day {
                    data.horizons.push(Horizon { day, stage: account.stage, segment: account.segment, churned });
                }
                let score = match replay {
                    Some(table) => day.and_then(|d| table.score(&d, account.stage, account.segment)),
                    None => {
                        if let std::collections::btree_map::Entry::Vacant(e) = scores.entry(key) {
                            e.insert(self.score_page(page, at.year())?);
                        }
                        match scores[&key].get(account.id) {
                            Some(s) => s.get(at),
                            // A series written before pages.
                            None => self.year_series(account.id, at.year())?.and_then(|s| s.get(at)),
                        }
                    }
                };
                match score {
                    Some(score) => data.samples.push(Sample { score, churned, segment: account.segment }),
                    None => data.unscored += 1,
                }
            }
        }
        Ok(data)
    }

    /// Explains an account's latest scored day up to `today` (looking back
    /// at most 30 days) against the week before.
    pub fn explain(&self, id: AccountId, model: &Model, today: NaiveDate) -> Result<Option<Explanation>> {
        let Some(row) = self.row(id)? else { return Ok(None) };
        // Read each year's inputs once (a page each), then look by day.
        let oldest = today - Duration::days(37);
        let mut kept = BTreeMap::new();
        for y in oldest.year()..=today.year() {
            kept.insert(y, self.year_inputs(id, y)?);
        }
        let on = |d: NaiveDate| kept.get(&d.year())?.as_ref()?.get(d);
        let found = (0..=30).map(|back| today - Duration::days(back)).find_map(|d| Some((d, on(d)?)));
        let Some((day, now)) = found else { return Ok(None) };
        let week = day - Duration::days(7);
        let then = on(week).map(|t| (week, t));
        Ok(Some(explain(model, day, &now, then, row.stage, row.segment)))
    }

    /// Forgets an account's raised flags, taking their follow-ups out of
    /// the queue unless they were done.
    fn clear_flags(&self, id: AccountId, batch: &mut Batch, report: &mut DailyReport) -> Result<()> {
        for kv in self.tree.scan_prefix(keys::with_id(keys::FLAG, id)) {
            let (k, v) = kv?;
            self.drop_flag(k.to_vec(), v.as_ref().try_into().ok().map(u64::from_be_bytes), batch, report)?;
        }
        Ok(())
    }

    /// Forgets one raised flag (its key and the follow-up it raised); an
    /// open or snoozed follow-up leaves the queue, a done one stays.
    fn drop_flag(
        &self,
        key: Vec<u8>,
        recorded: Option<u64>,
        batch: &mut Batch,
        report: &mut DailyReport,
    ) -> Result<()> {
        if let Some(f) = recorded.map(|r| self.follow_up(r)).transpose()?.flatten() {
            if !matches!(f.state, FollowUpState::Done { .. }) {
                batch.remove_follow_up(&f);
            }
        }
        batch.remove(key);
        report.cleared += 1;
        Ok(())
    }

    /// Sets the CSM's sentiment on an account and rescores its day at once.
    pub fn set_sentiment(
        &self,
        id: AccountId,
        value: u8,
        by: &str,
        rules: HealthRules,
        now: DateTime<Utc>,
    ) -> Result<AccountRow> {
        let mut manual = self.manual_signals(id)?.unwrap_or_default();
        manual.sentiment = Some(Sentiment { value: value.clamp(1, 5), at: now, by: by.to_string() });
        // The sentiment and the day it rescores land together.
        let mut batch = Batch::default();
        batch.put_manual_signals(id, &manual);
        let mut report = DailyReport::default();
        let sources = self.ticket_sources()?;
        let Some(fetched) = self.fetch(id, Some(manual))? else { return Err(super::StoreError::NoAccount(id.0)) };
        let mut step = Scoring::new(self, rules, batch)?;
        self.score_account(fetched, &mut step, rules, now, &sources, &mut report)?;
        self.apply(step.into_batch())?;
        // A CSM's edit is on disk before the toast says so.
        self.flush()?;
        self.row(id)?.ok_or(super::StoreError::NoAccount(id.0))
    }

    /// Daily scores of an account from `from` to `to` inclusive.
    pub fn health_history(&self, id: AccountId, from: NaiveDate, to: NaiveDate) -> Result<HealthHistory> {
        if to < from {
            return Ok(HealthHistory { start: Some(from), scores: Vec::new() });
        }
        let mut years = Years::new();
        for y in from.year()..=to.year() {
            if let Some(s) = self.year_series(id, y)? {
                years.insert(y, s);
            }
        }
        let scores = (0..=(to - from).num_days()).map(|i| score_on(&years, from + Duration::days(i))).collect();
        Ok(HealthHistory { start: Some(from), scores })
    }
}

impl Batch {
    /// Stores an account's usage, billing and sentiment.
    pub fn put_manual_signals(&mut self, id: AccountId, m: &ManualSignals) {
        self.insert(keys::with_id(keys::MANUAL, id), encode(m));
    }

    /// Remembers that a flag raised follow-up `follow_up`.
    pub fn put_flag(&mut self, id: AccountId, flag: Flag, follow_up: u64) {
        self.insert(keys::flag(id, flag.code()), follow_up.to_be_bytes().to_vec());
    }

    /// Remembers that a lifecycle rule raised follow-up `follow_up`.
    pub fn put_rule(&mut self, id: AccountId, rule: Rule, follow_up: u64) {
        self.insert(keys::flag(id, rule.code()), follow_up.to_be_bytes().to_vec());
    }

    /// Files a ticket in `source`'s id map with the follow-up its rules
    /// call for, the way a sync does (see `Store::ingest_tickets`).
    pub fn put_ticket_slot(&mut self, source: &str, ticket: &Ticket, draft: Option<Draft>) {
        let f = draft.map(|d| d.into_follow_up(super::ticket_follow_up_id(ticket.id)));
        let due = f.as_ref().map(|f| keys::ts(f.due));
        self.insert(
            keys::external(source, &super::ticket_ext(ticket.id)),
            keys::ticket_slot(ticket.account_id, due, None),
        );
        if let Some(f) = f {
            self.insert(keys::follow_up(f.due, f.id), encode(&f));
        }
    }

    /// Marks the history as scored by `model` and the daily pass as run on `day`.
    pub fn put_health_marks(&mut self, model: &Model, day: NaiveDate) {
        self.insert(keys::MODEL_STAMP.to_vec(), encode(&ModelStamp::of(model)));
        self.insert(keys::DAILY.to_vec(), encode(&day));
    }

    /// Stores an account-year of daily scores the way versions before
    /// pages did (kept for tests of old workspaces).
    pub fn put_legacy_series(&mut self, id: AccountId, year: i32, series: &YearSeries) {
        self.insert(keys::series(id, year), series.to_bytes());
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
