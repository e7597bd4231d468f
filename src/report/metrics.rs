//! The book's metrics over a period: churn, retention, renewal rate, NPS,
//! health by band and segment, and ARR coming up for renewal.

use chrono::NaiveDate;

use crate::domain::metrics::{customer_days, renewal_rate, Period};
use crate::domain::nps::{classify, nps, NpsClass};
use crate::domain::{Account, Band, Bands, Segment};
use crate::store::Store;

/// Renewal windows counted, in days from today.
pub const RENEWAL_WINDOWS: [i64; 3] = [30, 60, 90];

/// Segments in report order.
pub const SEGMENTS: [Segment; 3] = [Segment::Enterprise, Segment::MidMarket, Segment::Smb];

/// Live accounts per health band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BandCounts {
    /// Green accounts.
    pub green: u64,
    /// Yellow accounts.
    pub yellow: u64,
    /// Red accounts.
    pub red: u64,
}

impl BandCounts {
    fn add(&mut self, band: Band) {
        match band {
            Band::Green => self.green += 1,
            Band::Yellow => self.yellow += 1,
            Band::Red => self.red += 1,
        }
    }
}

/// NPS answers given in the period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NpsSummary {
    /// % promoters - % detractors; `None` without answers.
    pub score: Option<f64>,
    /// Answers counted.
    pub answers: usize,
    /// Answers of 9-10.
    pub promoters: usize,
    /// Answers of 7-8.
    pub passives: usize,
    /// Answers of 0-6.
    pub detractors: usize,
}

/// ARR of live accounts renewing within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewing {
    /// The window, in days from today.
    pub days: i64,
    /// ARR whose renewal date falls in it.
    pub arr: u64,
}

/// Every figure of `cockpit metrics` and the cockpit's metrics overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsReport {
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The day renewal windows count from.
    pub today: NaiveDate,
    /// Customers, churns, renewals and MRR counted over the period.
    pub period: Period,
    /// Logo churn, simple, in percent.
    pub logo_churn: Option<f64>,
    /// Customer-days in the period (the customer-days churn denominator).
    pub customer_days: f64,
    /// Logo churn by customer-days, in percent.
    pub logo_churn_customer_days: Option<f64>,
    /// Renewal rate (100% - simple logo churn), in percent.
    pub renewal_rate: Option<f64>,
    /// MRR lost over MRR at the start, in percent.
    pub revenue_churn: Option<f64>,
    /// Gross revenue retention, in percent.
    pub gross_retention: Option<f64>,
    /// Net revenue retention, in percent.
    pub net_retention: Option<f64>,
    /// NPS answers given in the period.
    pub nps: NpsSummary,
    /// Live accounts by band, now.
    pub health: BandCounts,
    /// Live accounts by band per segment, in [`SEGMENTS`] order.
    pub health_by_segment: Vec<(Segment, BandCounts)>,
    /// Live accounts without a health score yet.
    pub unscored: u64,
    /// ARR renewing per window of [`RENEWAL_WINDOWS`].
    pub renewing: Vec<Renewing>,
}

/// A percentage with one decimal, or "n/a" when it cannot be computed.
pub fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.1}%"))
}

/// Computes the metrics of `from..=to`, with health as it is now and
/// renewal windows counted from `today`. Reads every account, deal, NPS
/// answer and row: call it off the UI thread.
pub fn compute(
    store: &Store,
    bands: Bands,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<MetricsReport, String> {
    if from > to {
        return Err(format!("the period starts on {from}, after it ends on {to}"));
    }
    let accounts: Vec<Account> = store.accounts().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let deals: Vec<_> = store.all_deals().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let period = Period::of(&accounts, &deals, from, to);
    drop((accounts, deals));

    // An unreadable NPS answer is skipped rather than failing the report.
    let answers: Vec<u8> =
        store.all_nps().filter_map(|n| n.ok()).filter(|n| n.on >= from && n.on <= to).map(|n| n.score).collect();
    let count = |c: NpsClass| answers.iter().filter(|s| classify(**s) == c).count();
    let nps = NpsSummary {
        score: nps(answers.iter().copied()),
        answers: answers.len(),
        promoters: count(NpsClass::Promoter),
        passives: count(NpsClass::Passive),
        detractors: count(NpsClass::Detractor),
    };

    // Health now and ARR coming up for renewal: live accounts only.
    let mut health = BandCounts::default();
    let mut health_by_segment: Vec<(Segment, BandCounts)> =
        SEGMENTS.into_iter().map(|s| (s, BandCounts::default())).collect();
    let mut unscored = 0u64;
    let mut renewing: Vec<Renewing> = RENEWAL_WINDOWS.into_iter().map(|days| Renewing { days, arr: 0 }).collect();
    for row in store.rows() {
        let row = row.map_err(|e| e.to_string())?;
        if !row.stage.is_active() {
            continue;
        }
        match row.band(&bands) {
            Some(b) => {
                health.add(b);
                if let Some((_, counts)) = health_by_segment.iter_mut().find(|(s, _)| *s == row.segment) {
                    counts.add(b);
                }
            }
            None => unscored += 1,
        }
        let days = row.days_to_renewal(today);
        for r in renewing.iter_mut().filter(|r| (0..=r.days).contains(&days)) {
            r.arr += row.arr;
        }
    }

    let logo_churn = period.simple_churn();
    Ok(MetricsReport {
        from,
        to,
        today,
        period,
        logo_churn,
        customer_days: customer_days(period.at_start, period.at_end, period.days),
        logo_churn_customer_days: period.customer_days_churn(),
        renewal_rate: logo_churn.map(renewal_rate),
        revenue_churn: period.revenue_churn(),
        gross_retention: period.gross_retention(),
        net_retention: period.net_retention(),
        nps,
        health,
        health_by_segment,
        unscored,
        renewing,
    })
}
