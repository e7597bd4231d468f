//! How a damaged workspace is reported: which engine errors mean damage,
//! what part of the files they point at, and the recovery steps the CSM
//! reads (save the outbox, move the directory aside, sync afresh).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::StoreError;

/// What the CSM is told when the database engine gave up inside its own
/// code (a panic), rather than with an error.
pub const ENGINE_STOPPED: &str = "the database engine stopped on data it could not read";

/// Whether an engine error means the files are damaged (as opposed to, say,
/// a permission problem): bad checksums, contradictory bookkeeping, a file
/// shorter than its own index says, or a record file (db/blobs) missing.
pub fn is_damage(e: &sled::Error) -> bool {
    match e {
        sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => true,
        sled::Error::Io(io) => {
            matches!(io.kind(), ErrorKind::UnexpectedEof | ErrorKind::InvalidData | ErrorKind::NotFound)
        }
        _ => false,
    }
}

/// A damage error in words, without the engine's debug output.
pub fn detail(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at: Some(sled::DiskPtr::Inline(offset)), .. } => {
            format!("unreadable data at byte {offset} of db/db")
        }
        sled::Error::Corruption { at: Some(sled::DiskPtr::Blob(_, blob)), .. } => {
            format!("the unreadable record file db/blobs/{blob}")
        }
        sled::Error::Corruption { at: None, .. } => "unreadable data in its database files".into(),
        sled::Error::ReportableBug(_) => "its database files contradict each other".into(),
        sled::Error::Io(io) if io.kind() == ErrorKind::UnexpectedEof => {
            "a database file is shorter than its contents say".into()
        }
        sled::Error::Io(io) if io.kind() == ErrorKind::NotFound => "one of its database files is missing".into(),
        sled::Error::Io(_) => "a database file holds data that cannot be decoded".into(),
        other => other.to_string(),
    }
}

/// Turns an engine error into a store error; damage names the workspace
/// `path` (empty when the caller does not know it yet).
pub fn classify(path: PathBuf, e: sled::Error) -> StoreError {
    if is_damage(&e) {
        StoreError::Corrupt { path, detail: detail(&e) }
    } else {
        StoreError::Db(e)
    }
}

/// The damaged-workspace message: what happened, that nothing was changed,
/// and the exact commands that save the unsent writes and rebuild the
/// workspace from the vendors.
pub fn message(path: &Path, detail: &str) -> String {
    if path.as_os_str().is_empty() {
        return format!(
            "the workspace is damaged ({detail}); nothing was changed. Save the writes not yet sent with \
             `cockpit outbox --format json > unsent.json` (with the same --data-dir), then move the workspace \
             directory aside and run `cockpit sync` to rebuild it from HubSpot and Zendesk"
        );
    }
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = shell_word(&path);
    let aside = shell_word(&aside(&path));
    format!(
        "the workspace at {shown} is damaged ({detail}); nothing was changed.\n\
         Accounts, tickets and follow-ups come back from HubSpot and Zendesk with a sync, but the writes \
         still in the outbox exist only here. To recover:\n  \
         1. save the unsent writes:         cockpit --data-dir {dir} outbox --format json > unsent.json\n  \
         2. move the damaged one aside:     mv {dir} {aside}\n  \
         3. rebuild it from the vendors:    cockpit --data-dir {dir} sync\n\
         Then redo in the new workspace the writes listed in unsent.json, and keep {aside} until it looks right.",
        shown = path.display(),
    )
}

/// A sibling name for the damaged directory that is not taken yet.
fn aside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "workspace".into());
    let candidate = |n: u32| {
        let suffix = if n == 1 { ".damaged".to_string() } else { format!(".damaged-{n}") };
        path.with_file_name(format!("{name}{suffix}"))
    };
    (1..100).map(candidate).find(|p| !p.exists()).unwrap_or_else(|| candidate(100))
}

/// A path as one POSIX shell word: as is when it only holds characters the
/// shell leaves alone, otherwise single-quoted.
pub fn shell_word(path: &Path) -> String {
    let s = path.display().to_string();
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%~=".contains(c));
    if plain && !s.starts_with('~') {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_details_carry_no_engine_debug_output() {
        let cases = [
            (sled::Error::Corruption { at: Some(sled::DiskPtr::Inline(130)), bt: () }, "byte 130 of db/db"),
            (sled::Error::Corruption { at: Some(sled::DiskPtr::Blob(7, 2909815)), bt: () }, "db/blobs/2909815"),
            (sled::Error::Corruption { at: None, bt: () }, "unreadable data"),
            (sled::Error::ReportableBug("pid 3 missing".into()), "contradict"),
            (sled::Error::Io(std::io::Error::new(ErrorKind::UnexpectedEof, "failed to fill whole buffer")), "shorter"),
            (sled::Error::Io(std::io::Error::from(ErrorKind::NotFound)), "missing"),
        ];
        for (e, want) in cases {
            assert!(is_damage(&e), "{e:?}");
            let d = detail(&e);
            assert!(d.contains(want), "{d}");
            for noise in ["backtrace", "Some(", "Inline", "bug!", "()"] {
                assert!(!d.contains(noise), "{d}");
            }
            assert!(matches!(classify(PathBuf::from("/w"), e), StoreError::Corrupt { .. }));
        }
        let locked = sled::Error::Io(std::io::Error::new(ErrorKind::PermissionDenied, "denied"));
        assert!(!is_damage(&locked));
        assert!(matches!(classify(PathBuf::new(), locked), StoreError::Db(_)));
    }

    #[test]
    fn the_message_gives_the_exact_recovery_commands() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("my work");
        let text = message(&ws, "unreadable data at byte 9 of db/db");
        let quoted = format!("'{}'", ws.display());
        assert!(text.contains(&format!("the workspace at {} is damaged", ws.display())), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(text.contains(&format!("cockpit --data-dir {quoted} outbox --format json > unsent.json")), "{text}");
        assert!(text.contains(&format!("mv {quoted} '{}.damaged'", ws.display())), "{text}");
        assert!(text.contains(&format!("cockpit --data-dir {quoted} sync")), "{text}");
        // A name already taken is not offered as the place to move it to.
        std::fs::create_dir(tmp.path().join("my work.damaged")).unwrap();
        assert!(message(&ws, "x").contains(&format!("mv {quoted} '{}.damaged-2'", ws.display())));
        // A relative path is spelled out, so the commands work from anywhere.
        let rel = message(Path::new("ws"), "x");
        let abs = std::env::current_dir().unwrap().join("ws");
        assert!(rel.contains(&format!("--data-dir {} outbox", shell_word(&abs))), "{rel}");
    }

    #[test]
    fn shell_words_survive_quotes_and_spaces() {
        assert_eq!(
            shell_word(Path::new("/home/ana/.local/share/cockpit/default")),
            "/home/ana/.local/share/cockpit/default"
        );
        assert_eq!(shell_word(Path::new("/tmp/a b")), "'/tmp/a b'");
        assert_eq!(shell_word(Path::new("/tmp/it's")), r"'/tmp/it'\''s'");
        assert_eq!(shell_word(Path::new("/tmp/$HOME")), "'/tmp/$HOME'");
    }
}
