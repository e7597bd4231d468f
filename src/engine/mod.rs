//! The workflows between the store and the screens: the one writer that
//! owns every store mutation, the long jobs it runs in steps, and one
//! module per operation that reads, decides and writes through the store's
//! primitives (`act`, `ingest`, `merge`, `write_back`).

pub mod act;
pub mod edits;
pub mod ingest;
pub mod merge;
pub mod upkeep;
pub mod write_back;
pub mod writer;
