//! Where things live on disk (XDG base directories by default).

use std::path::PathBuf;

use directories::ProjectDirs;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "cockpit")
}

/// The default config file (`~/.config/cockpit/config.toml` on Linux).
pub fn config_file() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// The directory for user themes (`~/.config/cockpit/themes`).
pub fn themes_dir() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("themes"))
}

/// The default workspace directory: `~/.local/share/cockpit/<name>`.
pub fn workspace_dir(name: &str) -> Result<PathBuf, String> {
    dirs()
        .map(|d| d.data_dir().join(name))
        .ok_or_else(|| "cannot find your home directory to keep the workspace in; pass --data-dir DIR".to_string())
}
