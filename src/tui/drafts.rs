//! What the CSM was writing outlives the session: when the cockpit ends any
//! other way than the CSM's own `ctrl-s` (a signal, a closed terminal, an
//! internal error, ctrl-c), the editor's text is kept in the workspace, and
//! the next start opens it again in the editor. `esc` sets it aside as a
//! draft too (`guard`); only the CSM's `ctrl-s` sends it, and emptying it
//! forgets it.

use super::action::Action;
use super::app::{App, Level, Pane};
use super::compose::ExternalEdit;
use super::compose::{Composer, Purpose};
use super::followups::capitalise;
use super::keymap::KeyMode;
use super::writes::InFlight;
use crate::engine::edits::Edit;
use crate::engine::writer::Writer;
use crate::store::{Draft, DraftKind};

/// Marks the title of an editor that continues a kept draft.
pub(super) const KEPT: &str = " · kept draft";

/// What a draft of text written for `p` is; `None` for the answer to a
/// question (a churn's note, a task's subject or due moment), which is
/// never kept.
pub fn draft_kind(p: &Purpose) -> Option<DraftKind> {
    Some(match *p {
        Purpose::Note => DraftKind::Note,
        Purpose::Reply => DraftKind::Reply,
        Purpose::Escalate { engineering } => DraftKind::Escalate { engineering },
        Purpose::Close => DraftKind::Close,
        Purpose::Log(kind) => DraftKind::Log(kind),
        Purpose::SnoozeDate => DraftKind::SnoozeDate,
        Purpose::SnoozeReason { until } => DraftKind::SnoozeReason { until },
        Purpose::OutboxEdit { id } => DraftKind::OutboxEdit { id },
        Purpose::ChurnNote { .. } | Purpose::TaskSubject | Purpose::TaskDue { .. } => return None,
    })
}

impl From<DraftKind> for Purpose {
    fn from(k: DraftKind) -> Purpose {
        match k {
            DraftKind::Note => Purpose::Note,
            DraftKind::Reply => Purpose::Reply,
            DraftKind::Escalate { engineering } => Purpose::Escalate { engineering },
            DraftKind::Close => Purpose::Close,
            DraftKind::Log(kind) => Purpose::Log(kind),
            DraftKind::SnoozeDate => Purpose::SnoozeDate,
            DraftKind::SnoozeReason { until } => Purpose::SnoozeReason { until },
            DraftKind::OutboxEdit { id } => Purpose::OutboxEdit { id },
        }
    }
}

/// What keeping a draft did, for the line printed once the terminal is back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Kept in the workspace; the title says what it was.
    Saved(String),
    /// The workspace refused it: the text has nowhere else to go but the
    /// CSM's screen.
    Failed {
        /// What it was.
        title: String,
        /// The text.
        text: String,
        /// Why it could not be kept.
        error: String,
    },
}

impl Kept {
    /// The message for the CSM, printed after the terminal is restored.
    pub fn message(&self) -> String {
        match self {
            Kept::Saved(title) => format!(
                "cockpit: what you were writing ({title}) was kept as a draft; it opens again when you next start the cockpit"
            ),
            Kept::Failed { title, text, error } => format!(
                "cockpit: what you were writing ({title}) could not be kept as a draft ({error}); here it is:\n\n{text}\n"
            ),
        }
    }
}

impl App {
    /// What the open editor holds that the CSM wrote (not only what it
    /// opened with), as a draft.
    pub fn draft(&self) -> Option<Draft> {
        let c = self.overlays.composer.as_ref()?;
        if !c.changed() {
            return None;
        }
        self.draft_of(&c.purpose, &c.title, c.text())
    }

    pub(super) fn draft_of(&self, purpose: &Purpose, title: &str, text: String) -> Option<Draft> {
        Some(Draft {
            kind: draft_kind(purpose)?,
            title: title.trim_end_matches(KEPT).to_string(),
            text,
            items: self.overlays.targets_pending.clone(),
            saved_at: self.now,
        })
    }

    /// Keeps what the open editor holds in the workspace (the session is
    /// ending without the CSM's ctrl-s or esc). `None` when there is nothing.
    pub fn keep_draft(&mut self, writer: &Writer) -> Option<Kept> {
        let draft = self.draft()?;
        Some(self.keep(writer, draft))
    }

    /// Keeps the text `$EDITOR` came back with when the session ends before
    /// it could be submitted.
    pub fn keep_external_draft(&mut self, writer: &Writer, edit: &ExternalEdit, text: String) -> Option<Kept> {
        if text.trim().is_empty() || text == edit.initial {
            return None;
        }
        let draft = self.draft_of(&edit.purpose, &edit.title, text)?;
        Some(self.keep(writer, draft))
    }

    fn keep(&mut self, writer: &Writer, draft: Draft) -> Kept {
        let (id, kept) = (self.overlays.kept_draft, draft.clone());
        match writer.edit_wait(move |s| s.keep_draft(id, &kept)) {
            Ok(id) => {
                tracing::info!(id, kind = ?draft.kind, chars = draft.text.chars().count(), "draft kept");
                self.overlays.kept_draft = Some(id);
                Kept::Saved(draft.title)
            }
            Err(e) => {
                tracing::error!("could not keep a draft: {e}");
                Kept::Failed { title: draft.title, text: draft.text, error: e.to_string() }
            }
        }
    }

    /// Asks for the kept drafts, to open the oldest when they arrive.
    pub fn reopen_kept_draft(&mut self) {
        self.effect(super::effect::Effect::Read(super::reads::Read::Drafts));
    }

    /// Opens the oldest kept draft in the editor, on its items, and says so.
    pub fn reopen_kept_draft_from(&mut self, drafts: Result<Vec<(u64, Draft)>, String>) {
        let drafts = match drafts {
            Ok(d) => d,
            Err(e) => {
                self.toast(Level::Error, format!("A draft kept from an earlier session could not be read: {e}"));
                return;
            }
        };
        // Opened meanwhile: the CSM is busy with something else.
        if !self.overlays.is_idle() {
            return;
        }
        // One being forgotten right now is not waiting any more.
        let forgetting: Vec<u64> = self
            .writes
            .pending()
            .filter_map(|f| match f {
                InFlight::ForgetDraft { id } => Some(*id),
                _ => None,
            })
            .collect();
        // One set aside in this session waits for its editor to open again.
        let aside: Vec<u64> = self.overlays.aside.iter().map(|(id, _)| *id).collect();
        let drafts: Vec<_> =
            drafts.into_iter().filter(|(id, _)| !forgetting.contains(id) && !aside.contains(id)).collect();
        let waiting = drafts.len();
        let Some((id, d)) = drafts.into_iter().next() else { return };
        if let Some(first) = d.items.first() {
            self.selection.focus = Pane::Queue;
            self.select(first.account_id);
        }
        self.overlays.picker = None;
        self.overlays.compose(Composer::new(d.kind.into(), format!("{}{KEPT}", d.title), &d.text));
        self.overlays.targets_pending = d.items;
        self.overlays.kept_draft = Some(id);
        let more = match waiting {
            1 => String::new(),
            n => format!(" ({} more kept, each opens after this one)", n - 1),
        };
        let what = capitalise(d.kind.label());
        let keys: Vec<String> = [(Action::Submit, "saves it"), (Action::Cancel, "sets it aside")]
            .into_iter()
            .filter_map(|(a, what)| Some(format!("{} {what}", self.keymap.hint(KeyMode::Editor, a)?)))
            .collect();
        let keys = if keys.is_empty() { String::new() } else { format!(": {}", keys.join(", ")) };
        self.toast(Level::Warning, format!("{what} you were writing was kept{keys}, empty discards it{more}"));
    }

    /// Why a kept draft is still there, and the key that lets it go.
    pub(super) fn kept_draft_stays(&self) -> String {
        "The kept draft stays: it opens again at the next start (emptied, it is forgotten)".to_string()
    }

    /// The editor that continued a kept draft closed: with `done` (saved or
    /// discarded by the CSM) the draft is forgotten and the next one opens;
    /// otherwise (the action could not apply) it stays for the next start.
    pub(super) fn close_kept_draft(&mut self, done: bool) {
        let Some(id) = self.overlays.kept_draft.take() else { return };
        if !done && self.overlays.is_composing() {
            // The text went back into the editor (a reply still holding a
            // {variable}): it is still that draft.
            self.overlays.kept_draft = Some(id);
            return;
        }
        if !done {
            let text = self.kept_draft_stays();
            self.toast(Level::Warning, text);
            return;
        }
        self.write(Edit::DiscardDraft { id }, InFlight::ForgetDraft { id });
        if self.overlays.is_idle() {
            self.reopen_kept_draft();
        }
    }
}
