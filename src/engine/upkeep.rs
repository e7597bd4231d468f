//! The health upkeep every start and every sync asks for, as a job of short
//! steps: rescore the history after a model change, rebuild the accounts
//! whose past changed, run the day's pass, queue the health write-back.
//! Run by the writer, an edit lands between two steps and is never
//! overwritten by the pass; run inline, the same steps run back to back.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::write_back::{queue_health_writes, WriteBackRules};
use super::writer::Steps;
use crate::domain::flags::FlagRules;
use crate::domain::health_model::Model;
use crate::domain::write_back::WriteBack;
use crate::domain::Bands;
use crate::store::RebuildReport;
use crate::store::{DailyPass, ModelStamp, Rescore, SincePass};
use crate::store::{HealthRules, Result, Store};

/// Input pages rescored in one step (16 accounts each).
const RESCORE_PAGES: u32 = 256;
/// Marked accounts rebuilt in one step.
const REBUILD_ACCOUNTS: usize = 400;
/// Accounts scored in one step of the daily pass.
const DAILY_ACCOUNTS: usize = 1_000;

/// What the health work runs with.
#[derive(Debug, Clone)]
pub struct HealthSetup {
    /// The model in force.
    pub model: Model,
    /// Flag thresholds.
    pub flags: FlagRules,
    /// Band thresholds.
    pub bands: Bands,
    /// Where the health is written back to HubSpot, if anywhere.
    pub write_back: Option<WriteBack>,
}

impl HealthSetup {
    /// The rules in the store's terms.
    pub fn rules(&self) -> HealthRules<'_> {
        HealthRules { model: &self.model, flags: &self.flags, bands: &self.bands }
    }
}

/// Which passes to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Rescore after a model change, rebuild what waits, run today's pass
    /// if it has not run, else score again the accounts whose records
    /// changed since (and those whose ticket rules reach a deadline).
    Upkeep,
    /// All of that with today's full pass again, even if it ran.
    Daily,
}

#[derive(Debug)]
enum Phase {
    Start,
    Rescore(Box<Rescore>),
    Slots,
    Rebuild(RebuildReport),
    Daily(Box<DailyPass>),
    Since(Box<SincePass>),
    WriteBack,
    Done,
}

/// The upkeep as a job of steps; `done` hears whether anything changed.
pub struct Upkeep {
    setup: Arc<HealthSetup>,
    now: DateTime<Utc>,
    pass: Pass,
    phase: Phase,
    changed: bool,
    /// Pages per rescore step, accounts per rebuild and per daily step.
    sizes: (u32, usize, usize),
    done: Option<Box<dyn FnOnce(Result<bool>) + Send>>,
}

impl Upkeep {
    /// An upkeep at `now`; `done` runs on the writer when it ends.
    pub fn new(
        setup: Arc<HealthSetup>,
        now: DateTime<Utc>,
        pass: Pass,
        done: impl FnOnce(Result<bool>) + Send + 'static,
    ) -> Upkeep {
        let sizes = (RESCORE_PAGES, REBUILD_ACCOUNTS, DAILY_ACCOUNTS);
        Upkeep { setup, now, pass, phase: Phase::Start, changed: false, sizes, done: Some(Box::new(done)) }
    }

    /// Smaller steps (tests use them to see edits land between steps).
    pub fn with_step_sizes(mut self, rescore_pages: u32, rebuild: usize, daily: usize) -> Upkeep {
        self.sizes = (rescore_pages.max(1), rebuild.max(1), daily.max(1));
        self
    }

    /// Runs every step here and now (for commands that own the store).
    pub fn run(mut self, store: &Store) -> Result<bool> {
        let done = self.done.take();
        let outcome = loop {
            match self.advance(store) {
                Ok(true) => {}
                Ok(false) => break Ok(self.changed),
                Err(e) => break Err(e),
            }
        };
        drop(done);
        outcome
    }

    /// One step; `Ok(false)` when the job is over.
    fn advance(&mut self, store: &Store) -> Result<bool> {
        let today = self.now.date_naive();
        let rules = self.setup.rules();
        self.phase = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Start => {
                if store.model_stamp()? == Some(ModelStamp::of(rules.model)) {
                    Phase::Slots
                } else {
                    Phase::Rescore(Box::new(Rescore::new(rules.model, today)))
                }
            }
            Phase::Rescore(mut r) => {
                if store.rescore_step(&mut r, self.sizes.0)? {
                    Phase::Rescore(r)
                } else {
                    tracing::info!(rewritten = r.report.rewritten, rows = r.report.rows_changed, "history rescored");
                    self.changed = true;
                    Phase::Slots
                }
            }
            Phase::Slots => {
                store.ensure_metric_slots(today)?;
                Phase::Rebuild(RebuildReport::default())
            }
            Phase::Rebuild(mut report) => {
                if store.rebuild_waiting() && store.rebuild_step(rules.model, self.now, self.sizes.1, &mut report)? {
                    Phase::Rebuild(report)
                } else {
                    if report.accounts > 0 {
                        tracing::info!(accounts = report.accounts, days = report.days, "history rebuilt");
                        self.changed = true;
                    }
                    let ran_today = store.last_daily()?.is_some_and(|d| d >= today);
                    match (self.pass, ran_today) {
                        (Pass::Upkeep, true) => Phase::Since(Box::default()),
                        _ => Phase::Daily(Box::default()),
                    }
                }
            }
            Phase::Daily(mut pass) => {
                if store.daily_step(rules, self.now, &mut pass, self.sizes.2)? {
                    Phase::Daily(pass)
                } else {
                    let r = pass.report;
                    tracing::info!(scored = r.scored, raised = r.raised, cleared = r.cleared, "daily health pass");
                    self.changed = true;
                    Phase::WriteBack
                }
            }
            Phase::Since(mut pass) => {
                if store.since_step(rules, self.now, &mut pass, self.sizes.2)? {
                    Phase::Since(pass)
                } else if pass.report.scored > 0 || pass.report.raised > 0 || pass.report.cleared > 0 {
                    let r = pass.report;
                    tracing::info!(
                        scored = r.scored,
                        raised = r.raised,
                        cleared = r.cleared,
                        "changed accounts scored"
                    );
                    self.changed = true;
                    Phase::WriteBack
                } else {
                    Phase::Done
                }
            }
            Phase::WriteBack => {
                // The day's health goes to HubSpot with the next push.
                if let Some(wb) = &self.setup.write_back {
                    let rules = WriteBackRules { write_back: wb, model: &self.setup.model, bands: &self.setup.bands };
                    match queue_health_writes(store, &rules, self.now) {
                        Ok(r) => tracing::info!(queued = r.queued, replaced = r.replaced, "health write-back"),
                        Err(e) => tracing::warn!("health write-back could not be queued: {e}"),
                    }
                }
                Phase::Done
            }
            Phase::Done => return Ok(false),
        };
        Ok(!matches!(self.phase, Phase::Done))
    }
}

impl Steps for Upkeep {
    fn step(&mut self, store: &Store) -> Result<bool> {
        self.advance(store)
    }

    fn finish(mut self: Box<Self>, _: &Store, outcome: Result<()>) {
        if let Some(done) = self.done.take() {
            done(outcome.map(|()| self.changed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health_model::Model;
    use chrono::TimeZone;

    fn setup() -> Arc<HealthSetup> {
        Arc::new(HealthSetup {
            model: Model::builtin(),
            flags: FlagRules::default(),
            bands: Bands::default(),
            write_back: None,
        })
    }

    #[test]
    fn the_upkeep_in_steps_leaves_the_store_as_the_daily_pass_in_one_go() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let stepped = Store::open(a.path()).unwrap();
        let whole = Store::open(b.path()).unwrap();
        for s in [&stepped, &whole] {
            crate::demo::generate(s, &crate::demo::DemoSpec { accounts: 300, seed: 7, now }).unwrap();
        }
        let writer = super::super::writer::Writer::spawn(stepped.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let job = Upkeep::new(setup(), now, Pass::Daily, move |r| tx.send(r.map_err(|e| e.to_string())).unwrap());
        writer.steps(job.with_step_sizes(3, 7, 11));
        assert_eq!(rx.recv().unwrap(), Ok(true));
        let s = setup();
        whole.daily_health(s.rules(), now).unwrap();
        let rows = |s: &Store| s.rows().collect::<Result<Vec<_>>>().unwrap();
        assert_eq!(rows(&stepped), rows(&whole));
        assert_eq!(stepped.stage_totals().unwrap(), whole.stage_totals().unwrap());
        assert_eq!(stepped.last_daily().unwrap(), Some(now.date_naive()));
    }
}
