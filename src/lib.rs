//! Cockpit: a keyboard-driven terminal cockpit in which a Customer Success
//! Manager triages the day. The binary is a thin shell over this library.

pub mod domain;
pub mod store;
pub mod demo;
