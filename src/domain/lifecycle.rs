//! The customer lifecycle: three phases, nine works, as kanban stages.

use serde::{Deserialize, Serialize};

/// One phase of the SOP: startup, stable use, renewal (plus the outcome columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Handover, delivery, onboarding.
    Startup,
    /// Adoption and expansion.
    StableUse,
    /// Renewal preparation and signing.
    Renewal,
    /// Renewed or churned: where the cycle ended.
    Outcome,
}

/// A lifecycle stage: one column of the kanban, in board order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Work 1: sales hands the customer to the CSM; kick-offs.
    Handover,
    /// Work 2: accounts opened, configuration, data import.
    Delivery,
    /// Work 3: getting started, training, proficiency check.
    Onboarding,
    /// Works 4-6: stable use, monitored and served proactively.
    Adoption,
    /// Work 7: an upsell or cross-sell is being worked.
    Expansion,
    /// Work 8: about 90 days before the renewal date.
    RenewalPrep,
    /// Work 9: about 30 days before the renewal date.
    RenewalSigning,
    /// The renewal was signed.
    Renewed,
    /// The customer left.
    Churned,
}

impl Stage {
    /// Every stage in board order (left to right).
    pub const ALL: [Stage; 9] = [
        Stage::Handover,
        Stage::Delivery,
        Stage::Onboarding,
        Stage::Adoption,
        Stage::Expansion,
        Stage::RenewalPrep,
        Stage::RenewalSigning,
        Stage::Renewed,
        Stage::Churned,
    ];

    /// Position on the board, 0..9 (also the on-disk index byte).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stage at a board position.
    pub fn from_index(i: usize) -> Option<Stage> {
        Stage::ALL.get(i).copied()
    }

    /// The next column to the right, if any.
    pub fn next(self) -> Option<Stage> {
        Stage::from_index(self.index() + 1)
    }

    /// The previous column to the left, if any.
    pub fn prev(self) -> Option<Stage> {
        self.index().checked_sub(1).and_then(Stage::from_index)
    }

    /// The SOP phase this stage belongs to.
    pub fn phase(self) -> Phase {
        match self {
            Stage::Handover | Stage::Delivery | Stage::Onboarding => Phase::Startup,
            Stage::Adoption | Stage::Expansion => Phase::StableUse,
            Stage::RenewalPrep | Stage::RenewalSigning => Phase::Renewal,
            Stage::Renewed | Stage::Churned => Phase::Outcome,
        }
    }

    /// Full human name: what every place writes when the full name fits
    /// (board headers, toasts, the timeline, the CLI, the detail).
    pub fn label(self) -> &'static str {
        match self {
            Stage::Handover => "Handover",
            Stage::Delivery => "Delivery",
            Stage::Onboarding => "Onboarding",
            Stage::Adoption => "Adoption",
            Stage::Expansion => "Expansion",
            Stage::RenewalPrep => "Renewal prep",
            Stage::RenewalSigning => "Renewal signing",
            Stage::Renewed => "Renewed",
            Stage::Churned => "Churned",
        }
    }

    /// The one short form, where the full name does not fit (at most
    /// `SHORT_WIDTH` characters): only the two renewal stages have one, the
    /// others are short already.
    pub fn short(self) -> &'static str {
        match self {
            Stage::RenewalPrep => "Ren. prep",
            Stage::RenewalSigning => "Ren. sign",
            s => s.label(),
        }
    }

    /// The widest short form: a column this wide holds every stage.
    pub const SHORT_WIDTH: usize = 10;

    /// The widest full name.
    pub const LABEL_WIDTH: usize = 15;

    /// The full name when it fits in `width` columns, else the short form.
    pub fn label_within(self, width: usize) -> &'static str {
        if self.label().len() <= width {
            self.label()
        } else {
            self.short()
        }
    }

    /// The stable machine name used in JSON and config (`renewal_prep`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Stage::Handover => "handover",
            Stage::Delivery => "delivery",
            Stage::Onboarding => "onboarding",
            Stage::Adoption => "adoption",
            Stage::Expansion => "expansion",
            Stage::RenewalPrep => "renewal_prep",
            Stage::RenewalSigning => "renewal_signing",
            Stage::Renewed => "renewed",
            Stage::Churned => "churned",
        }
    }

    /// Whether the account is still a live customer in this stage.
    pub fn is_active(self) -> bool {
        self != Stage::Churned
    }

    /// The stage the renewal date calls for, given days until renewal:
    /// signing inside 30 days, preparation inside 90 days, else `None`.
    pub fn renewal_window(days_to_renewal: i64) -> Option<Stage> {
        if days_to_renewal < 0 {
            None
        } else if days_to_renewal <= 30 {
            Some(Stage::RenewalSigning)
        } else if days_to_renewal <= 90 {
            Some(Stage::RenewalPrep)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_order_and_moves() {
        assert_eq!(Stage::Handover.prev(), None);
        assert_eq!(Stage::Handover.next(), Some(Stage::Delivery));
        assert_eq!(Stage::RenewalSigning.next(), Some(Stage::Renewed));
        assert_eq!(Stage::Churned.next(), None);
        for (i, s) in Stage::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(Stage::from_index(i), Some(*s));
            assert!(s.short().len() <= Stage::SHORT_WIDTH && s.label().len() <= Stage::LABEL_WIDTH);
            assert!(s.short() == s.label() || s.label().starts_with(&s.short()[..3]), "one short form per stage");
        }
    }

    #[test]
    fn the_widths_hold_every_label() {
        assert_eq!(Stage::ALL.iter().map(|s| s.short().len()).max(), Some(Stage::SHORT_WIDTH));
        assert_eq!(Stage::ALL.iter().map(|s| s.label().len()).max(), Some(Stage::LABEL_WIDTH));
        assert_eq!(Stage::RenewalSigning.label_within(15), "Renewal signing");
        assert_eq!(Stage::RenewalSigning.label_within(14), "Ren. sign");
        assert_eq!(Stage::Onboarding.label_within(10), "Onboarding");
    }

    #[test]
    fn phases_group_the_nine_works() {
        assert_eq!(Stage::Delivery.phase(), Phase::Startup);
        assert_eq!(Stage::Expansion.phase(), Phase::StableUse);
        assert_eq!(Stage::RenewalPrep.phase(), Phase::Renewal);
        assert_eq!(Stage::Churned.phase(), Phase::Outcome);
        assert!(!Stage::Churned.is_active());
    }

    #[test]
    fn renewal_windows_at_their_edges() {
        assert_eq!(Stage::renewal_window(91), None);
        assert_eq!(Stage::renewal_window(90), Some(Stage::RenewalPrep));
        assert_eq!(Stage::renewal_window(31), Some(Stage::RenewalPrep));
        assert_eq!(Stage::renewal_window(30), Some(Stage::RenewalSigning));
        assert_eq!(Stage::renewal_window(0), Some(Stage::RenewalSigning));
        assert_eq!(Stage::renewal_window(-1), None);
    }
}
