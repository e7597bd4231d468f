//! The styles the panes draw with. Theme files are read and checked by the
//! config layer ([`crate::config::theme`]); the cockpit only uses the result.

pub use crate::config::theme::Theme;
