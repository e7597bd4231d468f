//! What a key can do. The vocabulary belongs to the config layer, which
//! checks the names keymaps give ([`crate::config::action`]).

pub use crate::config::action::Action;
