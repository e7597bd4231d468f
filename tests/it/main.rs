//! The integration tests, as one binary (one link of axum, reqwest and sled
//! instead of one per file): a module per area, and the helpers they share
//! declared once. Run one area with `cargo test --test it AREA::`.

// Shared helpers: fake vendors on 127.0.0.1 and demo-store fixtures.
mod common;
mod fake;

mod account_cli;
mod cli;
mod config;
mod conversation;
mod damaged;
mod e2e_pty;
mod health_history;
mod import_usage;
mod local_time;
mod outbox_push;
mod properties;
mod real_book;
mod sync_cli;
mod sync_faults;
mod sync_feedback;
mod sync_hubspot;
mod sync_stripe;
mod sync_zendesk;
mod tui_account_view;
mod tui_app;
mod tui_drafts;
mod tui_followups;
mod tui_snapshots;
mod tui_space;
mod tui_task;
mod write_back;
