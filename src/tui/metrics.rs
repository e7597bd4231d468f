//! The metrics overlay's state, and its computation off the UI thread:
//! reading every account of a large workspace takes seconds, so opening the
//! overlay asks for a job that the event loop hands to a thread, and the
//! figures come back as a [`MetricsAnswer`] in whatever message the loop
//! reads (the loop's `Msg` knows this module; this module does not know it).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tokio::sync::mpsc::UnboundedSender;

use crate::domain::Bands;
use crate::report::backtest;
use crate::report::metrics::{compute, MetricsReport};
use crate::store::Store;

/// Days in the overlay's period, ending today.
pub const PERIOD_DAYS: i64 = 30;

/// What the overlay shows.
#[derive(Debug, Clone, Default)]
pub enum MetricsState {
    /// Never opened.
    #[default]
    Idle,
    /// A job is running.
    Computing,
    /// The figures arrived.
    Ready(Box<MetricsView>),
    /// The job failed (the text is for the CSM).
    Failed(String),
}

/// The figures the overlay draws.
#[derive(Debug, Clone)]
pub struct MetricsView {
    /// Churn, retention, NPS, health and renewals.
    pub report: MetricsReport,
    /// Backtest figures of the model in force, one line each, drawn under
    /// "Backtest" (empty when there is no model to test).
    pub backtest_lines: Vec<String>,
}

/// One request to compute the overlay's figures.
#[derive(Clone)]
pub struct MetricsJob {
    /// The model in force, for the backtest (none: no backtest).
    pub health: Option<std::sync::Arc<crate::engine::upkeep::HealthSetup>>,
    /// Which opening asked; older answers are dropped.
    pub seq: u64,
    /// Health band thresholds.
    pub bands: Bands,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period, and the day renewal windows count from.
    pub to: NaiveDate,
}

impl std::fmt::Debug for MetricsJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsJob").field("seq", &self.seq).field("from", &self.from).field("to", &self.to).finish()
    }
}

/// A job's answer: the request it answers, and the figures or why not
/// (the text is for the CSM).
#[derive(Debug)]
pub struct MetricsAnswer(pub u64, pub Result<Box<MetricsView>, String>);

impl MetricsJob {
    /// Computes the figures here and now (the thread's body; tests call it directly).
    pub fn run<M: From<MetricsAnswer>>(self, store: &Store) -> M {
        let started = std::time::Instant::now();
        let result = super::terminal::catch_panic(|| {
            super::terminal::debug_panic_point("metrics");
            compute(store, self.bands, self.from, self.to, self.to)
        });
        let result = match result {
            Ok(Ok(report)) => {
                let backtest_lines = match &self.health {
                    Some(h) => match backtest::compute(store, &h.model, h.bands, backtest::DEFAULT_HORIZON, None) {
                        Ok(b) => b.summary_lines(),
                        Err(e) => vec![format!("Could not run the backtest: {e}")],
                    },
                    None => Vec::new(),
                };
                tracing::info!(ms = started.elapsed().as_millis() as u64, "metrics computed");
                Ok(Box::new(MetricsView { report, backtest_lines }))
            }
            Ok(Err(e)) => Err(format!("Could not compute the metrics: {e}")),
            Err(_) => Err("Could not compute the metrics: an internal error stopped it; see the log file".into()),
        };
        MetricsAnswer(self.seq, result).into()
    }
}

/// Runs a job on its own thread and sends its answer on `tx`.
pub fn spawn<M: From<MetricsAnswer> + Send + 'static>(store: Store, job: MetricsJob, tx: UnboundedSender<M>) {
    let seq = job.seq;
    let spawned = std::thread::Builder::new().name("metrics".into()).spawn({
        let tx = tx.clone();
        move || {
            let _ = tx.send(job.run::<M>(&store));
        }
    });
    if let Err(e) = spawned {
        let _ = tx.send(MetricsAnswer(seq, Err(format!("Could not start computing the metrics: {e}"))).into());
    }
}

/// The overlay's state and the number of the latest request.
#[derive(Debug, Default)]
pub struct Metrics {
    /// What to draw.
    pub state: MetricsState,
    seq: u64,
}

impl Metrics {
    /// Starts over: shows "computing…" and asks for the 30 days up to `now`.
    /// Returns the job for the runner; an answer to an older one is dropped.
    pub fn request(
        &mut self,
        now: DateTime<Utc>,
        bands: Bands,
        health: Option<std::sync::Arc<crate::engine::upkeep::HealthSetup>>,
    ) -> MetricsJob {
        self.seq += 1;
        let to = now.date_naive();
        self.state = MetricsState::Computing;
        MetricsJob { health, seq: self.seq, bands, from: to - Duration::days(PERIOD_DAYS - 1), to }
    }

    /// Takes a job's answer, unless a newer request has replaced it.
    pub fn deliver(&mut self, seq: u64, result: Result<Box<MetricsView>, String>) {
        if seq != self.seq {
            return;
        }
        self.state = match result {
            Ok(view) => MetricsState::Ready(view),
            Err(e) => {
                tracing::warn!("{e}");
                MetricsState::Failed(e)
            }
        };
    }
}
