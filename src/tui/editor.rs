//! Editing text in the CSM's own editor (`$VISUAL`, else `$EDITOR`, else
//! `vi`): the text goes to a private temporary file, the editor runs on
//! the real terminal, and what it saved comes back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The editor command line to run.
pub fn command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into())
}

/// A temporary file only the user can read (it holds customer text),
/// removed when dropped.
struct TempText(PathBuf);

impl TempText {
    fn create(dir: &Path, text: &str) -> std::io::Result<TempText> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = dir.join(format!("cockpit-{}-{nanos}.md", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path)?;
        f.write_all(text.as_bytes())?;
        Ok(TempText(path))
    }
}

impl Drop for TempText {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Why the editor gave nothing back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// What happened, worded for the CSM.
    pub message: String,
    /// What the file held when the editor stopped, when the CSM had saved
    /// something new in it (kept as a draft if the session then ends).
    pub saved: Option<String>,
}

impl Failed {
    fn new(message: String) -> Failed {
        Failed { message, saved: None }
    }
}

/// Runs the editor on `text` and returns what it saved. The terminal must
/// already be out of TUI mode. Errors are worded for the CSM.
pub fn edit(text: &str) -> Result<String, Failed> {
    let cmd = command();
    let file = TempText::create(&std::env::temp_dir(), text)
        .map_err(|e| Failed::new(format!("cannot create a temporary file for the editor: {e}")))?;
    // Through the shell, so EDITOR="code --wait" works as it does in git.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{cmd} \"$1\""))
        .arg("cockpit-editor")
        .arg(&file.0)
        .status()
        .map_err(|e| Failed::new(format!("cannot start the editor \"{cmd}\": {e}; set $EDITOR")))?;
    if !status.success() {
        // Killed by a hangup after a save, say: the file still holds it.
        let saved = std::fs::read_to_string(&file.0).ok().filter(|s| s != text);
        return Err(Failed { message: format!("the editor \"{cmd}\" exited with {status}; nothing was saved"), saved });
    }
    std::fs::read_to_string(&file.0).map_err(|e| Failed::new(format!("cannot read back what the editor saved: {e}")))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn runs_the_editor_and_reads_the_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("ed.sh");
        std::fs::write(&script, "#!/bin/sh\nprintf ' and more' >> \"$1\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        // One test owns the variables: no other test reads them.
        std::env::set_var("VISUAL", script.display().to_string());
        assert_eq!(edit("Called Ana").unwrap(), "Called Ana and more");
        std::env::set_var("VISUAL", "false");
        let failed = edit("x").unwrap_err();
        assert!(failed.message.contains("exited with"), "{failed:?}");
        assert_eq!(failed.saved, None, "nothing new in the file");
        let quitter = dir.path().join("quit.sh");
        std::fs::write(&quitter, "#!/bin/sh\nprintf 'saved, then hung up' > \"$1\"\nexit 1\n").unwrap();
        std::fs::set_permissions(&quitter, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::env::set_var("VISUAL", quitter.display().to_string());
        assert_eq!(edit("x").unwrap_err().saved.as_deref(), Some("saved, then hung up"));
        std::env::remove_var("VISUAL");
    }
}
