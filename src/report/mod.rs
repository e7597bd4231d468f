//! Figures computed from the store for both the command line and the
//! cockpit. Computing only: how a figure is printed or drawn lives with
//! its caller.

pub mod backtest;
pub mod metrics;
