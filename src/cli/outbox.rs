//! `cockpit outbox`: the writes waiting to reach HubSpot or Zendesk, and
//! what the CSM can do with them (push now, retry, edit, discard).

use super::print::{say, sayln, warnln};
use std::path::Path;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{grid, json, Align};
use super::{CliResult, Error, Format};
use crate::config::Config;
use crate::display::ago;
use crate::domain::outbox::{moment, watch_note, OutboxEntry, OutboxState, Write};
use crate::domain::text::sanitize;
use crate::store::{salvage, shield, OutboxCounts, Store, StoreError};
use crate::sync::push::{self, Outcome, PushPolicy};
use crate::sync::source::Source;

/// `cockpit outbox ...`
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List pending, failed and conflicted writes (the default).
    List(ListArgs),
    /// Push the due writes now to the configured sources.
    Push,
    /// Send a failed or conflicted write again at the next push (a
    /// conflicted ticket write then knowingly goes over the change).
    Retry {
        /// The entry's id (from `cockpit outbox`).
        id: u64,
    },
    /// Drop a write that has not left.
    Discard {
        /// The entry's id.
        id: u64,
    },
    /// Change a write's text in $VISUAL or $EDITOR.
    Edit {
        /// The entry's id.
        id: u64,
    },
}

/// Options of the list.
#[derive(Debug, Clone, Copy, Args)]
pub struct ListArgs {
    /// Also list the writes that were sent.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs an outbox command (no subcommand lists).
pub fn run(store: &Store, config: &Config, action: Option<&OutboxCommand>, list_args: ListArgs) -> CliResult {
    let now = Utc::now();
    match action {
        None => list(store, list_args, now),
        Some(OutboxCommand::List(a)) => list(store, *a, now),
        Some(OutboxCommand::Push) => push_now(store, config),
        Some(OutboxCommand::Retry { id }) => retry(store, config, *id, now),
        Some(OutboxCommand::Discard { id }) => {
            let e = store.outbox_discard(*id)?;
            let was = if e.state.landed() {
                "its record is gone; what it wrote stays at the vendor"
            } else {
                "it was never sent"
            };
            sayln!("Discarded {id} ({}, {}): {was}.", what(&e), account_name(store, &e));
            Ok(())
        }
        Some(OutboxCommand::Edit { id }) => edit(store, *id),
    }
}

/// The sources a push may use: none for the demo, which stays offline.
fn push_sources(store: &Store, config: &Config) -> Vec<Source> {
    let demo = store.workspace().ok().flatten().is_some_and(|m| m.demo_seed.is_some());
    if demo {
        Vec::new()
    } else {
        config.sources.clone()
    }
}

fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e, ""))
}

fn account_name(store: &Store, e: &OutboxEntry) -> String {
    match store.account(e.account_id) {
        Ok(Some(a)) => sanitize(&a.name).into_owned(),
        _ => format!("account {}", e.account_id.0),
    }
}

fn what(e: &OutboxEntry) -> String {
    format!("{} to {}", sanitize(&e.write.describe()), e.write.system().label())
}

/// What the CSM should know about an entry's state, in full.
fn detail(e: &OutboxEntry) -> Option<String> {
    let text = match &e.state {
        OutboxState::Failed { reason } => reason.clone(),
        OutboxState::Conflict { detail } => detail.clone(),
        OutboxState::Sent { remote, .. } => format!("{} id {remote}", e.write.system().label()),
        OutboxState::Settled { remote, note, .. } => format!("{} id {remote}: {note}", e.write.system().label()),
        OutboxState::Watching { since, kept: None, .. } => {
            let sent = format!("sent again at {} without an answer", moment(*since));
            match &e.last_error {
                Some(err) => format!("{sent}; checking whether it landed: {err}"),
                None => format!("{sent}; checking whether it landed before any resend"),
            }
        }
        OutboxState::Watching { since, kept: Some((_, remote)), archived } => {
            let ends = PushPolicy::default().watch_ends(*since);
            let mut text = format!(
                "{} id {remote}; {}; watched for a late copy until {}",
                e.write.system().label(),
                watch_note(*since, None, archived),
                moment(ends)
            );
            if let Some(err) = &e.last_error {
                text.push_str(&format!(" ({err})"));
            }
            text
        }
        OutboxState::Unsure { .. } => match &e.last_error {
            Some(err) => format!("checking whether it landed: {err}"),
            None => "checking whether it landed".into(),
        },
        OutboxState::Pending => e.last_error.clone()?,
    };
    Some(sanitize(&text).into_owned())
}

/// Up to `n` characters, with an ellipsis when cut.
fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn list(store: &Store, args: ListArgs, now: DateTime<Utc>) -> CliResult {
    // Damage met while reading the outbox: read it from a copy instead.
    let all = match shield::guard(store.path(), || store.outbox()) {
        Ok(all) => all,
        Err(e @ StoreError::Corrupt { .. }) => return list_damaged(store.path(), args, e, now),
        Err(e) => return Err(e.into()),
    };
    let counts = store.outbox_counts()?;
    print_list(&all, counts, &|e| account_name(store, e), args, now)
}

/// Lists what can still be read of the outbox of the damaged workspace in
/// `dir` (`damage` says how it is damaged), in the usual format, and says
/// on stderr how much could not be read. Fails with the damage message
/// only when nothing could be read.
pub fn list_damaged(dir: &Path, args: ListArgs, damage: StoreError, now: DateTime<Utc>) -> CliResult {
    let salvaged = match salvage::outbox(dir) {
        Ok(s) => s,
        Err(StoreError::Corrupt { .. }) => return Err(damage.into()),
        Err(salvage) => return Err(Error::Unsalvageable { damage, salvage }),
    };
    let name = |e: &OutboxEntry| match salvaged.names.get(&e.account_id) {
        Some(n) => sanitize(n).into_owned(),
        None => format!("account {}", e.account_id.0),
    };
    print_list(&salvaged.entries, salvaged.counts(), &name, args, now)?;
    let n = salvaged.entries.len();
    let reach =
        if salvaged.incomplete { "; part of the outbox could not be reached, so entries may be missing" } else { "" };
    warnln!(
        "warning: the workspace at {} is damaged: listed the {n} outbox entr{} that could be read, {} could not be read{reach}.",
        std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()).display(),
        if n == 1 { "y" } else { "ies" },
        salvaged.unreadable,
    );
    Ok(())
}

/// Prints entries (all of them; `args.all` decides whether sent ones show)
/// in the requested format.
fn print_list(
    all: &[OutboxEntry],
    counts: OutboxCounts,
    account_name: &dyn Fn(&OutboxEntry) -> String,
    args: ListArgs,
    now: DateTime<Utc>,
) -> CliResult {
    let shown: Vec<&OutboxEntry> = all
        .iter()
        .filter(|e| args.all || !matches!(e.state, OutboxState::Sent { .. } | OutboxState::Settled { .. }))
        .collect();
    if args.format == Format::Json {
        let entries: Vec<serde_json::Value> = shown
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "state": e.state.label(),
                    "system": e.write.system().label(),
                    "account_id": e.account_id.0,
                    "account": account_name(e),
                    "what": sanitize(&e.write.describe()),
                    "created": e.created.to_rfc3339(),
                    "age": ago(e.created, now),
                    "attempts": e.attempts,
                    "next_attempt": e.next_attempt.to_rfc3339(),
                    "detail": detail(e),
                    "remote": e.state.remote(),
                })
            })
            .collect();
        let doc = json!({
            "generated_at": now.to_rfc3339(),
            "counts": {"pending": counts.pending, "failed": counts.failed, "conflict": counts.conflict, "sent": counts.sent, "discarded": counts.discarded},
            "entries": entries,
        });
        say!("{}", json(&doc)?);
        return Ok(());
    }
    if shown.is_empty() {
        let sent = if counts.sent > 0 { format!(" ({} sent; --all lists them)", counts.sent) } else { String::new() };
        let (other, discarded) = match counts.discarded {
            0 => ("", String::new()),
            n => (" other", format!("; {n} discarded, not sent")),
        };
        sayln!("Nothing waiting: every{other} write reached its vendor{sent}{discarded}.");
        return Ok(());
    }
    let headers = [
        ("ID", Align::Right),
        ("State", Align::Left),
        ("Account", Align::Left),
        ("What", Align::Left),
        ("Age", Align::Right),
        ("Tries", Align::Right),
        ("Detail", Align::Left),
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.state.label().into(),
                cut(&account_name(e), 28),
                cut(&what(e), 40),
                ago(e.created, now),
                e.attempts.to_string(),
                detail(e).map(|d| cut(&d, 70)).unwrap_or_default(),
            ]
        })
        .collect();
    say!("{}", grid(args.format, &headers, &rows));
    if args.format == Format::Table && (counts.failed > 0 || counts.conflict > 0) {
        sayln!(
            "\n{} need you: `cockpit outbox retry ID`, `edit ID` or `discard ID`; `--format json` shows each detail in full.",
            counts.failed + counts.conflict
        );
    }
    Ok(())
}

fn push_now(store: &Store, config: &Config) -> CliResult {
    let sources = push_sources(store, config);
    let report = runtime()?.block_on(push::push(store, &sources, &Utc::now, &PushPolicy::default()))?;
    let entries = store.outbox()?;
    for (id, outcome) in &report.outcomes {
        let what = entries.iter().find(|e| e.id == *id).map(what).unwrap_or_default();
        let line = match outcome {
            Outcome::Sent(remote) => format!("sent (id {remote})"),
            Outcome::AlreadyThere(remote) => format!("had already landed (id {remote}); not sent twice"),
            Outcome::Retrying(err) => format!("not sent yet: {err}"),
            Outcome::Checking => "may have landed; checked again shortly".into(),
            Outcome::Archived(note) => format!("a late copy was archived: {note}"),
            Outcome::Watched => "watched for a late copy; none so far".into(),
            Outcome::Duplicate(note) => format!("landed twice: {note}"),
            Outcome::Failed(reason) => format!("failed: {reason}"),
            Outcome::Conflict(detail) => format!("conflict: {detail}"),
            Outcome::Waiting(why) => format!("waiting: {why}"),
        };
        sayln!("{id} {what}: {}", sanitize(&line));
    }
    match report.summary() {
        Some(s) => sayln!("Outbox: {s}."),
        None if sources.is_empty() && !entries.is_empty() => {
            sayln!("No sources are configured (or this is the demo): writes stay in the outbox.")
        }
        None => sayln!("Nothing due to push."),
    }
    Ok(())
}

fn retry(store: &Store, config: &Config, id: u64, now: DateTime<Utc>) -> CliResult {
    let e = store.outbox_entry(id)?;
    let e = e.ok_or(StoreError::NoOutboxEntry(id))?;
    let mut fresh = None;
    if let (OutboxState::Conflict { .. }, Write::Ticket { ticket, .. }) = (&e.state, &e.write) {
        // Sent again with the stamp the ticket has now: the CSM saw the
        // conflict and chose to send anyway.
        let sources = push_sources(store, config);
        fresh = runtime()?
            .block_on(push::fresh_stamp(&sources, &PushPolicy::default(), *ticket))
            .map_err(|e| format!("{e}; nothing was changed"))?;
        if fresh.is_none() {
            warnln!("warning: no Zendesk source is configured, so it keeps its stamp and may conflict again");
        }
    }
    store.outbox_retry(id, now, fresh)?;
    sayln!("{id} ({}) goes out at the next push: `cockpit outbox push`, or the next sync.", what(&e));
    Ok(())
}

fn edit(store: &Store, id: u64) -> CliResult {
    let e = store.outbox_entry(id)?;
    let e = e.ok_or(StoreError::NoOutboxEntry(id))?;
    // Checked before the editor opens, so no typing is lost to a refusal.
    match e.state {
        OutboxState::Unsure { .. } | OutboxState::Watching { kept: None, .. } => {
            return Err(format!("outbox entry {id} may already have reached the vendor; wait for the check").into())
        }
        OutboxState::Sent { .. } | OutboxState::Settled { .. } | OutboxState::Watching { .. } => {
            return Err(format!("outbox entry {id} already reached the vendor").into())
        }
        _ => {}
    }
    let text = in_editor(id, e.write.body())?;
    if text.trim_end() == e.write.body().trim_end() {
        sayln!("No change; nothing was saved.");
        return Ok(());
    }
    store.outbox_edit(id, &text)?;
    sayln!("Saved the new text of {id} ({}).", what(&e));
    Ok(())
}

/// Opens the CSM's editor on a private temporary file holding `text` and
/// returns what they saved; the file is removed either way.
fn in_editor(id: u64, text: &str) -> CliResult<String> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .ok_or("set $VISUAL or $EDITOR to your editor (for example `export EDITOR=nano`) and try again")?;
    let path = std::env::temp_dir().join(format!("cockpit-outbox-{id}-{}.txt", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        // The text is about a customer: only the user may read it.
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let cannot = |e| Error::io(format!("cannot prepare a file for the editor at {}", path.display()), e, "");
    {
        use std::io::Write as _;
        let mut f = opts.open(&path).map_err(cannot)?;
        writeln!(f, "{text}").map_err(cannot)?;
    }
    // Through the shell, so an editor with arguments ("code --wait") works.
    #[cfg(unix)]
    let status =
        std::process::Command::new("sh").arg("-c").arg(format!("{editor} \"$1\"")).arg("sh").arg(&path).status();
    #[cfg(not(unix))]
    let status = std::process::Command::new(&editor).arg(&path).status();
    let result = match status {
        Ok(s) if s.success() => std::fs::read_to_string(&path)
            .map_err(|e| Error::io("cannot read back the edited text", e, "; nothing was changed")),
        Ok(_) => Err(format!("{editor} exited with an error; nothing was changed").into()),
        Err(e) => Err(Error::io(format!("cannot start {editor}"), e, "; nothing was changed")),
    };
    let _ = std::fs::remove_file(&path);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;
    use chrono::TimeZone;

    #[test]
    fn details_say_what_the_csm_needs() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let mut e = OutboxEntry::new(4, AccountId(1), 2, Write::Note { body: "x".into(), at: now }, now);
        assert_eq!(detail(&e), None);
        e.last_error = Some("HubSpot answered HTTP 503".into());
        assert_eq!(detail(&e).unwrap(), "HubSpot answered HTTP 503");
        e.state = OutboxState::Sent { at: now, remote: "501".into() };
        assert_eq!(detail(&e).unwrap(), "HubSpot id 501");
        e.state = OutboxState::Watching { since: now, kept: None, archived: vec![] };
        assert_eq!(
            detail(&e).unwrap(),
            "sent again at 2026-11-26 09:00:00 UTC without an answer; checking whether it landed: HubSpot answered HTTP 503"
        );
        e.last_error = None;
        let later = now + chrono::Duration::minutes(5);
        e.state = OutboxState::Watching {
            since: now,
            kept: Some((now, "501".into())),
            archived: vec![("502".into(), later)],
        };
        assert_eq!(
            detail(&e).unwrap(),
            "HubSpot id 501; sent again at 2026-11-26 09:00:00 UTC after its checks found nothing; a late copy 502 made by an earlier request was archived at 2026-11-26 09:05:00 UTC (HubSpot's recycling bin); watched for a late copy until 2026-11-27 09:00:00 UTC"
        );
        e.state = OutboxState::Settled { at: now, remote: "501".into(), note: "found by its marker".into() };
        assert_eq!(detail(&e).unwrap(), "HubSpot id 501: found by its marker");
        e.state = OutboxState::Failed { reason: "bad\u{1b}[31m token".into() };
        assert_eq!(detail(&e).unwrap(), "bad token");
        assert_eq!(what(&e), "note to HubSpot");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
