//! The workflows between the store and the screens: the one writer that
//! owns every store mutation, and the long jobs it runs in steps.

pub mod act;
pub mod edits;
pub mod ingest;
pub mod merge;
pub mod upkeep;
pub mod write_back;
pub mod writer;
