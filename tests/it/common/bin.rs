//! The real binary with a home of its own: the user's config, data and the
//! variables that could point at them never reach it.

use std::path::Path;
use std::process::{Command, Output};

/// `cockpit` with HOME at `home` and its config and data dirs under it
/// (`home/config`, `home/data`); add the arguments and run it.
pub fn in_home(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cockpit"));
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("COCKPIT_DATA_DIR")
        .env_remove("COCKPIT_CONFIG")
        .env_remove("COCKPIT_NOW")
        .env("TZ", "UTC");
    cmd
}

/// What a run printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
