//! NPS survey answers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::account::AccountId;

/// One NPS answer (0-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsResponse {
    /// Workspace id.
    pub id: u64,
    /// The account.
    pub account_id: AccountId,
    /// The day it was answered.
    pub on: NaiveDate,
    /// The score, 0-10.
    pub score: u8,
    /// Free-text comment, possibly empty.
    pub comment: String,
}

/// Promoter / passive / detractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsClass {
    /// 9-10.
    Promoter,
    /// 7-8.
    Passive,
    /// 0-6.
    Detractor,
}

impl NpsResponse {
    /// The answer's class.
    pub fn class(&self) -> NpsClass {
        classify(self.score)
    }
}

/// Classifies a 0-10 score.
pub fn classify(score: u8) -> NpsClass {
    match score {
        9.. => NpsClass::Promoter,
        7..=8 => NpsClass::Passive,
        _ => NpsClass::Detractor,
    }
}

/// NPS = % promoters - % detractors, in -100..=100; `None` without answers.
pub fn nps(scores: impl IntoIterator<Item = u8>) -> Option<f64> {
    let (mut n, mut pro, mut det) = (0u64, 0u64, 0u64);
    for s in scores {
        n += 1;
        match classify(s) {
            NpsClass::Promoter => pro += 1,
            NpsClass::Detractor => det += 1,
            NpsClass::Passive => {}
        }
    }
    (n > 0).then(|| (pro as f64 - det as f64) * 100.0 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_worked_example() {
        // 493 answers: 173 promoters, 286 passives, 34 detractors -> +28.2
        let scores = std::iter::repeat_n(10, 173).chain(std::iter::repeat_n(8, 286)).chain(std::iter::repeat_n(3, 34));
        let v = nps(scores).unwrap();
        assert!((v - 28.19).abs() < 0.01, "{v}");
        assert_eq!(format!("{v:+.1}"), "+28.2");
    }

    #[test]
    fn class_edges() {
        assert_eq!(classify(6), NpsClass::Detractor);
        assert_eq!(classify(7), NpsClass::Passive);
        assert_eq!(classify(8), NpsClass::Passive);
        assert_eq!(classify(9), NpsClass::Promoter);
        assert_eq!(nps([]), None);
    }
}
