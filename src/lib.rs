//! Cockpit: a keyboard-driven terminal cockpit in which a Customer Success
//! Manager triages the day. The binary is a thin shell over this library.

pub mod book;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod display;
pub mod domain;
pub mod engine;
pub mod logging;
pub mod paths;
pub mod queue;
pub mod remote;
pub mod report;
pub mod store;
pub mod sync;
pub mod tui;
