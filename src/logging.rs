//! Logs go to a file in the workspace, never to the terminal.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Sends tracing output to `dir/cockpit.log` (level from `COCKPIT_LOG`,
/// default `info`). Without a writable file, logging is off.
pub fn init(dir: &Path) {
    let Ok(file) = OpenOptions::new().create(true).append(true).open(dir.join("cockpit.log")) else {
        return;
    };
    let filter = EnvFilter::try_from_env("COCKPIT_LOG").unwrap_or_else(|_| EnvFilter::new("info,sled=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(Mutex::new(file)).try_init();
}
