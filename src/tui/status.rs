//! The status line's state, one part of the app's state: the workspace and
//! data labels, the configured sources and how their syncs go, the health
//! model in force, and the outbox counts. Plain data kept in step by the
//! messages background work sends; drawing is the status bar's.

use crate::store::{OutboxCounts, SyncStatus};

/// One source in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceView {
    /// Source name.
    pub name: String,
    /// How its last sync went.
    pub last: Option<SyncStatus>,
    /// Records handled by the sync running now.
    pub running: Option<u64>,
}

/// What the status line shows beyond the keys and the toasts.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Workspace label.
    pub workspace: String,
    /// Where the data comes from when no source is configured ("demo data, offline").
    pub data_label: String,
    /// Configured sources and how their syncs went.
    pub sources: Vec<SourceView>,
    /// A sync is running.
    pub syncing: bool,
    /// A HubSpot source is configured: tasks may go there too.
    pub has_crm: bool,
    /// The health model in force, e.g. "default v3".
    pub model_label: String,
    /// Outbox entries by state.
    pub outbox_counts: OutboxCounts,
}

impl Status {
    /// Marks a sync as running, unless one runs or there is nothing to
    /// sync; whether it should start.
    pub fn start_sync(&mut self) -> bool {
        if self.syncing || self.sources.is_empty() {
            return false;
        }
        self.syncing = true;
        true
    }

    /// The sync running now has handled `done` records of `source`.
    pub fn progress(&mut self, source: &str, done: u64) {
        if let Some(s) = self.sources.iter_mut().find(|s| s.name == source) {
            s.running = Some(done);
        }
    }

    /// The sync ended with these results per source; the messages of the
    /// sources that failed, in order.
    pub fn sync_done(&mut self, results: Vec<(String, SyncStatus)>) -> Vec<String> {
        self.syncing = false;
        let mut failures = Vec::new();
        for (name, status) in results {
            let Some(s) = self.sources.iter_mut().find(|s| s.name == name) else { continue };
            if !status.ok {
                failures.extend(status.message.clone());
            }
            s.running = None;
            s.last = Some(status);
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn source(name: &str) -> SourceView {
        SourceView { name: name.into(), last: None, running: None }
    }

    #[test]
    fn one_sync_at_a_time_and_none_without_sources() {
        let mut status = Status::default();
        assert!(!status.start_sync(), "nothing to sync");
        assert!(!status.syncing);
        status.sources = vec![source("crm")];
        assert!(status.start_sync());
        assert!(!status.start_sync(), "one runs");
    }

    #[test]
    fn a_finished_sync_records_each_source_and_returns_the_failures() {
        let mut status = Status { sources: vec![source("crm"), source("desk")], ..Status::default() };
        status.start_sync();
        status.progress("crm", 300);
        status.progress("nowhere", 1);
        assert_eq!(status.sources[0].running, Some(300));
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let ok = SyncStatus { at, ok: true, message: None };
        let failed = SyncStatus { at, ok: false, message: Some("desk: cannot reach it".into()) };
        let failures = status.sync_done(vec![("crm".into(), ok.clone()), ("desk".into(), failed)]);
        assert_eq!(failures, vec!["desk: cannot reach it".to_string()]);
        assert!(!status.syncing);
        assert_eq!((status.sources[0].running, status.sources[0].last.as_ref()), (None, Some(&ok)));
        assert!(status.sources[1].last.as_ref().is_some_and(|s| !s.ok));
    }
}
