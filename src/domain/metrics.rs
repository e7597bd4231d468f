//! Portfolio metrics: logo churn (simple and by customer-days), revenue
//! churn and retention, renewal rate, and who is up for renewal. Pure:
//! accounts and the period come in, figures (in percent) go out.

use chrono::NaiveDate;

use super::account::{Account, ChurnReason, OutcomeKind};
use super::deal::{Deal, DealKind, DealState};

/// Customers lost in the period over customers at its start, in percent.
pub fn simple_churn(lost: u64, at_start: u64) -> Option<f64> {
    (at_start > 0).then(|| 100.0 * lost as f64 / at_start as f64)
}

/// Customer-days in a period: every customer at the start for every day,
/// plus half the net gain (customers arrive and leave through the period).
pub fn customer_days(at_start: u64, at_end: u64, days: u32) -> f64 {
    at_start as f64 * days as f64 + 0.5 * (at_end as f64 - at_start as f64) * days as f64
}

/// Churn per period by customer-days, in percent: churns per customer-day
/// times the days in the period (unrounded).
pub fn customer_days_churn(at_start: u64, at_end: u64, churned: u64, days: u32) -> Option<f64> {
    let cd = customer_days(at_start, at_end, days);
    (cd > 0.0).then(|| 100.0 * churned as f64 / cd * days as f64)
}

/// Renewal rate from a churn rate of the same cohort and period.
pub fn renewal_rate(churn: f64) -> f64 {
    100.0 - churn
}

/// What happened to a book over a period, counted from its accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Period {
    /// Customers at the start (contract begun, not churned before it).
    pub at_start: u64,
    /// Customers at the end.
    pub at_end: u64,
    /// Customers lost in the period.
    pub churned: u64,
    /// Of those, the ones the CSM recorded as leaving by choice.
    pub churned_voluntary: u64,
    /// Of those, the ones recorded as unable to stay (payment failed,
    /// company closed); the rest have no recorded reason.
    pub churned_involuntary: u64,
    /// Renewals signed in the period.
    pub renewed: u64,
    /// MRR at the start, of the customers at the start.
    pub mrr_start: u64,
    /// MRR of the customers lost in the period.
    pub mrr_churned: u64,
    /// MRR added by expansions won in the period (ARR / 12).
    pub mrr_expansion: u64,
    /// Days in the period, both ends counted.
    pub days: u32,
}

impl Period {
    /// Counts a book over `from..=to`. An account is a customer from its
    /// contract start until it churns; a churn counts on its outcome day.
    pub fn of<'a>(
        accounts: impl IntoIterator<Item = &'a Account>,
        deals: impl IntoIterator<Item = &'a Deal>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Period {
        let mut p = Period { days: ((to - from).num_days() + 1).max(0) as u32, ..Period::default() };
        for a in accounts {
            let churn = a.outcome.as_ref().filter(|o| o.kind == OutcomeKind::Churned);
            let churned_on = churn.map(|o| o.on);
            let live_on = |d: NaiveDate| a.contract_start <= d && churned_on.is_none_or(|c| c > d);
            if live_on(from) {
                p.at_start += 1;
                p.mrr_start += a.mrr();
            }
            if live_on(to) {
                p.at_end += 1;
            }
            if churned_on.is_some_and(|c| c >= from && c <= to && a.contract_start <= c) {
                p.churned += 1;
                p.mrr_churned += a.mrr();
                match churn.and_then(|o| o.reason) {
                    Some(ChurnReason::Voluntary) => p.churned_voluntary += 1,
                    Some(ChurnReason::Involuntary) => p.churned_involuntary += 1,
                    None => {}
                }
            }
            if a.outcome.as_ref().is_some_and(|o| o.kind == OutcomeKind::Renewed && o.on >= from && o.on <= to) {
                p.renewed += 1;
            }
        }
        for d in deals {
            let won_in = d.state == DealState::Won && d.close_date.is_some_and(|c| c >= from && c <= to);
            if d.kind == DealKind::Expansion && won_in {
                p.mrr_expansion += d.amount / 12;
            }
        }
        p
    }

    /// Logo churn, simple.
    pub fn simple_churn(&self) -> Option<f64> {
        simple_churn(self.churned, self.at_start)
    }

    /// Logo churn by customer-days.
    pub fn customer_days_churn(&self) -> Option<f64> {
        customer_days_churn(self.at_start, self.at_end, self.churned, self.days)
    }

    /// Revenue (MRR) churn, in percent of the starting MRR.
    pub fn revenue_churn(&self) -> Option<f64> {
        (self.mrr_start > 0).then(|| 100.0 * self.mrr_churned as f64 / self.mrr_start as f64)
    }

    /// Gross revenue retention: starting MRR kept, without expansion.
    /// (Contraction is not tracked yet: only churn lowers it.)
    pub fn gross_retention(&self) -> Option<f64> {
        self.revenue_churn().map(|c| 100.0 - c)
    }

    /// Net revenue retention: starting MRR kept, plus expansion.
    pub fn net_retention(&self) -> Option<f64> {
        (self.mrr_start > 0).then(|| {
            100.0 * (self.mrr_start as f64 - self.mrr_churned as f64 + self.mrr_expansion as f64)
                / self.mrr_start as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, Outcome, Segment, Stage};

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() < eps
    }

    #[test]
    fn the_worked_examples_in_the_domain_guide() {
        assert!(close(simple_churn(1_499, 9_618).unwrap(), 15.585, 0.001), "15.6%");
        assert_eq!(format!("{:.1}", simple_churn(1_499, 9_618).unwrap()), "15.6");
        assert!(close(customer_days(2_055, 2_184, 31), 65_704.5, 1e-9));
        let c = customer_days_churn(2_055, 2_184, 312, 31).unwrap();
        assert_eq!(format!("{c:.2}"), "14.72");
        assert!(close(100.0 * 312.0 / 65_704.5, 0.4749, 0.0001), "per customer-day");
        assert!(close(renewal_rate(15.6), 84.4, 1e-9));
        assert_eq!(simple_churn(1, 0), None);
        assert_eq!(customer_days_churn(0, 0, 0, 31), None);
    }

    fn account(id: u64, arr: u64, start: NaiveDate, outcome: Option<(OutcomeKind, NaiveDate)>) -> Account {
        Account {
            id: AccountId(id),
            name: format!("A{id}"),
            domain: String::new(),
            segment: Segment::Smb,
            industry: String::new(),
            region: String::new(),
            owner: String::new(),
            plan: "Pro".into(),
            seats: 1,
            arr,
            contract_start: start,
            renewal_date: start,
            stage: Stage::Adoption,
            key_people: vec![],
            outcome: outcome.map(|(kind, on)| Outcome::new(kind, on)),
        }
    }

    #[test]
    fn a_period_counts_customers_churn_and_revenue() {
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let book = [
            account(1, 120_000, d(1, 1), None),
            account(2, 12_000, d(1, 1), Some((OutcomeKind::Churned, d(3, 15)))), // lost in March
            account(3, 24_000, d(1, 1), Some((OutcomeKind::Churned, d(2, 1)))),  // lost before
            account(4, 12_000, d(3, 10), None),                                  // new in March
            account(5, 12_000, d(1, 1), Some((OutcomeKind::Renewed, d(3, 20)))),
        ];
        let deals = [Deal {
            id: 9,
            account_id: AccountId(1),
            name: "more seats".into(),
            kind: DealKind::Expansion,
            state: DealState::Won,
            amount: 12_000,
            close_date: Some(d(3, 5)),
        }];
        let p = Period::of(&book, &deals, d(3, 1), d(3, 31));
        assert_eq!((p.at_start, p.at_end, p.churned, p.renewed, p.days), (3, 3, 1, 1, 31));
        assert_eq!((p.churned_voluntary, p.churned_involuntary), (0, 0), "a churn with no recorded reason");
        assert_eq!((p.mrr_start, p.mrr_churned, p.mrr_expansion), (12_000, 1_000, 1_000));
        assert!(close(p.simple_churn().unwrap(), 33.333, 0.001));
        assert!(close(p.revenue_churn().unwrap(), 8.333, 0.001), "a small customer left");
        assert!(close(p.gross_retention().unwrap(), 91.667, 0.001));
        assert!(close(p.net_retention().unwrap(), 100.0, 1e-9), "the expansion made up for it");
    }

    #[test]
    fn churns_are_counted_apart_by_their_recorded_reason() {
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let mut book: Vec<Account> = (1..=4).map(|i| account(i, 12_000, d(1, 1), None)).collect();
        book[0].outcome = Some(Outcome::churn(d(3, 2), Some(ChurnReason::Voluntary), "chose a competitor"));
        book[1].outcome = Some(Outcome::churn(d(3, 3), Some(ChurnReason::Involuntary), ""));
        book[2].outcome = Some(Outcome::churn(d(3, 4), None, ""));
        book[3].outcome = Some(Outcome::churn(d(4, 4), Some(ChurnReason::Voluntary), "after the period"));
        let p = Period::of(&book, &[], d(3, 1), d(3, 31));
        assert_eq!((p.churned, p.churned_voluntary, p.churned_involuntary), (3, 1, 1));
    }
}
