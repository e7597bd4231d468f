//! The inline editor for notes, replies and reasons, and the small pickers
//! that come before it (snooze presets, saved replies, call or meeting).
//! Pure state: keys in, an outcome out; drawing lives in `panes::compose`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthStr;

use super::action::Action;
use crate::domain::{AccountId, ActivityKind, ChurnReason};

/// What the text is for: decides what submitting does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// A note on the account.
    Note,
    /// A reply on the item's ticket.
    Reply,
    /// An escalation, to engineering when `engineering`, else the manager.
    Escalate {
        /// To engineering.
        engineering: bool,
    },
    /// The internal comment closing the ticket.
    Close,
    /// The summary of a logged call, meeting or email.
    Log(ActivityKind),
    /// The date a snooze ends (one line, `YYYY-MM-DD`).
    SnoozeDate,
    /// The reason of a snooze until then (one line, may be empty).
    SnoozeReason {
        /// When it comes back.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The new text of an outbox entry.
    OutboxEdit {
        /// The entry.
        id: u64,
    },
    /// What a task is (one line), first of the task's questions.
    TaskSubject,
    /// When the task is due (one line, read on the user's calendar).
    TaskDue {
        /// What the task is.
        subject: String,
    },
    /// The note that confirms a move to Churned (one line, may be empty).
    ChurnNote {
        /// Whose.
        id: AccountId,
        /// Why the customer left.
        reason: ChurnReason,
    },
}

impl Purpose {
    /// Whether Enter submits (one-line prompts) rather than breaking a line.
    pub fn single_line(&self) -> bool {
        matches!(
            self,
            Purpose::SnoozeDate
                | Purpose::SnoozeReason { .. }
                | Purpose::ChurnNote { .. }
                | Purpose::TaskSubject
                | Purpose::TaskDue { .. }
        )
    }

    /// Whether an empty text is a valid answer.
    pub fn may_be_empty(&self) -> bool {
        matches!(self, Purpose::SnoozeReason { .. } | Purpose::ChurnNote { .. })
    }

    /// Whether esc on it answers a question (a churn's note: no move) rather
    /// than setting text aside: its text is never kept as a draft.
    pub fn is_question(&self) -> bool {
        matches!(self, Purpose::ChurnNote { .. } | Purpose::TaskSubject | Purpose::TaskDue { .. })
    }
}

/// A request to continue editing in `$EDITOR`, served by the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalEdit {
    /// What the text is for.
    pub purpose: Purpose,
    /// The title of the inline editor, if the CSM comes back to it.
    pub title: String,
    /// The text to start from.
    pub text: String,
    /// The text the action first opened with: coming back with only that
    /// is no draft.
    pub initial: String,
}

/// What a key did to the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still editing.
    Editing,
    /// Submitted with this text.
    Submit(String),
    /// Cancelled: nothing happens.
    Cancel,
    /// Continue in `$EDITOR` with this text.
    External(String),
}

/// A small multi-line text editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composer {
    /// What the text is for.
    pub purpose: Purpose,
    /// The overlay's title ("Note on Acme").
    pub title: String,
    /// The text, one entry per line.
    pub lines: Vec<String>,
    /// Cursor line.
    pub row: usize,
    /// Cursor position in the line, in chars.
    pub col: usize,
    /// The text it opened with (a pre-filled escalation is not a draft).
    initial: String,
}

impl Composer {
    /// An editor over `text`, the cursor at its end.
    pub fn new(purpose: Purpose, title: impl Into<String>, text: &str) -> Composer {
        // Text from a vendor or a reply file may hold escape sequences: each
        // line is made safe to draw (line breaks are kept).
        let mut lines: Vec<String> =
            text.split('\n').map(|l| crate::domain::text::sanitize(l.trim_end_matches('\r')).into_owned()).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        let initial = lines.join("\n");
        Composer { purpose, title: title.into(), lines, row, col, initial }
    }

    /// The whole text.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Sets what counts as unchanged (the text the action first opened
    /// with, when this editor continues it after `$EDITOR`).
    pub fn opened_with(mut self, initial: &str) -> Composer {
        self.initial = initial.to_string();
        self
    }

    /// The text the action opened with.
    pub fn initial(&self) -> &str {
        &self.initial
    }

    /// Whether the CSM wrote something here: the text is not blank and not
    /// what the editor opened with.
    pub fn changed(&self) -> bool {
        let text = self.text();
        !text.trim().is_empty() && text != self.initial
    }

    fn byte_at(line: &str, col: usize) -> usize {
        line.char_indices().nth(col).map_or(line.len(), |(i, _)| i)
    }

    /// The cursor's display column (for drawing).
    pub fn cursor_x(&self) -> usize {
        let line = &self.lines[self.row];
        line[..Self::byte_at(line, self.col)].width()
    }

    /// Applies a key; `command` is what the editor's keymap binds it to
    /// (submit, cancel, `$EDITOR`). Any other key edits the text.
    pub fn on_key(&mut self, k: &KeyEvent, command: Option<Action>) -> Outcome {
        match command {
            Some(Action::Cancel) => return Outcome::Cancel,
            Some(Action::Submit) => return self.submit(),
            Some(Action::ExternalEditor) => return Outcome::External(self.text()),
            _ => {}
        }
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        match k.code {
            // A one-line prompt ends at its line's end.
            KeyCode::Enter if self.purpose.single_line() => return self.submit(),
            KeyCode::Enter => {
                let line = &mut self.lines[self.row];
                let rest = line.split_off(Self::byte_at(line, self.col));
                self.lines.insert(self.row + 1, rest);
                self.row += 1;
                self.col = 0;
            }
            KeyCode::Backspace => {
                if self.col > 0 {
                    let line = &mut self.lines[self.row];
                    let at = Self::byte_at(line, self.col - 1);
                    line.remove(at);
                    self.col -= 1;
                } else if self.row > 0 {
                    let line = self.lines.remove(self.row);
                    self.row -= 1;
                    self.col = self.lines[self.row].chars().count();
                    self.lines[self.row].push_str(&line);
                }
            }
            KeyCode::Delete => {
                let len = self.lines[self.row].chars().count();
                if self.col < len {
                    let line = &mut self.lines[self.row];
                    let at = Self::byte_at(line, self.col);
                    line.remove(at);
                } else if self.row + 1 < self.lines.len() {
                    let next = self.lines.remove(self.row + 1);
                    self.lines[self.row].push_str(&next);
                }
            }
            KeyCode::Left if self.col > 0 => self.col -= 1,
            KeyCode::Left if self.row > 0 => {
                self.row -= 1;
                self.col = self.lines[self.row].chars().count();
            }
            KeyCode::Right if self.col < self.lines[self.row].chars().count() => self.col += 1,
            KeyCode::Right if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = 0;
            }
            KeyCode::Up if self.row > 0 => {
                self.row -= 1;
                self.col = self.col.min(self.lines[self.row].chars().count());
            }
            KeyCode::Down if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = self.col.min(self.lines[self.row].chars().count());
            }
            KeyCode::Home => self.col = 0,
            KeyCode::End => self.col = self.lines[self.row].chars().count(),
            KeyCode::Tab => self.insert("    "),
            KeyCode::Char(c) if !ctrl && !alt => self.insert(c.encode_utf8(&mut [0; 4])),
            _ => {}
        }
        Outcome::Editing
    }

    /// Inserts text at the cursor (typed or pasted); line breaks split lines.
    pub fn insert(&mut self, text: &str) {
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                if self.purpose.single_line() {
                    continue;
                }
                let line = &mut self.lines[self.row];
                let rest = line.split_off(Self::byte_at(line, self.col));
                self.lines.insert(self.row + 1, rest);
                self.row += 1;
                self.col = 0;
            }
            let part: String = part.chars().filter(|c| !c.is_control() || *c == '\t').collect();
            let line = &mut self.lines[self.row];
            line.insert_str(Self::byte_at(line, self.col), &part);
            self.col += part.chars().count();
        }
    }

    fn submit(&self) -> Outcome {
        let text = self.text();
        if text.trim().is_empty() && !self.purpose.may_be_empty() {
            return Outcome::Cancel;
        }
        Outcome::Submit(text)
    }
}

/// What a picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickFor {
    /// A snooze preset.
    Snooze,
    /// A saved reply.
    Reply,
    /// Call, meeting or email.
    Log,
    /// Why a customer leaves, before a move to Churned.
    Churn(AccountId),
    /// A task's priority.
    TaskPriority,
}

/// A one-key menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    /// What it chooses.
    pub purpose: PickFor,
    /// The overlay's title.
    pub title: String,
    /// Key and label of each option.
    pub options: Vec<(char, String)>,
    /// The option enter picks, if any.
    pub default: Option<usize>,
}

impl Picker {
    /// The snooze presets.
    pub fn snooze() -> Picker {
        Picker {
            purpose: PickFor::Snooze,
            title: "Snooze".into(),
            options: vec![
                ('1', "1 day".into()),
                ('3', "3 days".into()),
                ('w', "1 week".into()),
                ('d', "until a date…".into()),
            ],
            default: None,
        }
    }

    /// Call, meeting or email.
    pub fn log() -> Picker {
        Picker {
            purpose: PickFor::Log,
            title: "Log a touch".into(),
            options: vec![('c', "call".into()), ('m', "meeting".into()), ('e', "email".into())],
            default: None,
        }
    }

    /// The question before a move to Churned, with its reason as the answer.
    pub fn churn(id: AccountId, name: &str) -> Picker {
        Picker {
            purpose: PickFor::Churn(id),
            title: format!("Move {name} to Churned?"),
            options: vec![
                ('v', "voluntary: chose to leave".into()),
                ('i', "involuntary: payment failed, closed".into()),
            ],
            default: None,
        }
    }

    /// A task's priority, normal on enter; `title` says which task.
    pub fn task_priority(title: String) -> Picker {
        Picker {
            purpose: PickFor::TaskPriority,
            title,
            options: vec![
                ('u', "urgent".into()),
                ('h', "high".into()),
                ('n', "normal (enter)".into()),
                ('l', "low".into()),
            ],
            default: Some(2),
        }
    }

    /// The saved replies, keyed 1-9 then a-z.
    pub fn replies(names: &[String]) -> Picker {
        let keys = ('1'..='9').chain('a'..='z');
        Picker {
            purpose: PickFor::Reply,
            title: "Reply with".into(),
            options: keys.zip(names.iter().cloned()).collect(),
            default: None,
        }
    }

    /// The index of the option a key picks.
    pub fn pick(&self, k: &KeyEvent) -> Option<usize> {
        match k.code {
            KeyCode::Char(c) => self.options.iter().position(|(key, _)| *key == c),
            KeyCode::Enter => self.default,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    /// A key through the default editor keymap, as the app sends it.
    fn press(c: &mut Composer, k: KeyEvent) -> Outcome {
        let command = crate::config::keys::Keymap::default().action(crate::config::keys::KeyMode::Editor, &k);
        c.on_key(&k, command)
    }

    fn typed(c: &mut Composer, s: &str) {
        for ch in s.chars() {
            let code = if ch == '\n' { KeyCode::Enter } else { KeyCode::Char(ch) };
            assert_eq!(press(c, key(code)), Outcome::Editing);
        }
    }

    #[test]
    fn types_lines_edits_and_submits() {
        let mut c = Composer::new(Purpose::Note, "Note", "");
        typed(&mut c, "Hello\nwrld");
        for _ in 0..3 {
            press(&mut c, key(KeyCode::Left));
        }
        typed(&mut c, "o");
        assert_eq!(c.text(), "Hello\nworld");
        press(&mut c, key(KeyCode::Home));
        press(&mut c, key(KeyCode::Backspace));
        assert_eq!(c.text(), "Helloworld");
        assert_eq!(press(&mut c, ctrl('s')), Outcome::Submit("Helloworld".into()));
    }

    #[test]
    fn empty_text_cancels_unless_allowed_and_esc_cancels() {
        let mut c = Composer::new(Purpose::Note, "Note", "  ");
        assert_eq!(press(&mut c, ctrl('s')), Outcome::Cancel);
        let until = chrono::DateTime::UNIX_EPOCH;
        let mut r = Composer::new(Purpose::SnoozeReason { until }, "Why", "");
        assert_eq!(press(&mut r, key(KeyCode::Enter)), Outcome::Submit(String::new()));
        assert_eq!(press(&mut c, key(KeyCode::Esc)), Outcome::Cancel);
        // Unbound, esc is no command and leaves the text alone.
        assert_eq!(c.on_key(&key(KeyCode::Esc), None), Outcome::Editing);
    }

    #[test]
    fn only_typed_text_counts_as_changed() {
        let mut c = Composer::new(Purpose::Escalate { engineering: false }, "Escalate", "Facts\n\nWhat is needed: ");
        assert!(!c.changed(), "the pre-filled text alone is no draft");
        typed(&mut c, "a fix");
        assert!(c.changed());
        let mut n = Composer::new(Purpose::Note, "Note", "");
        typed(&mut n, "  ");
        assert!(!n.changed(), "blank text is no draft");
    }

    #[test]
    fn wide_characters_and_paste() {
        let mut c = Composer::new(Purpose::Note, "Note", "日本");
        assert_eq!((c.col, c.cursor_x()), (2, 4));
        c.insert("a\nb\x1b[31m");
        assert_eq!(c.lines, vec!["日本a".to_string(), "b[31m".to_string()]);
        assert_eq!(press(&mut c, ctrl('e')), Outcome::External("日本a\nb[31m".into()));
    }

    #[test]
    fn starting_text_keeps_its_lines_and_loses_escapes() {
        let c = Composer::new(Purpose::Reply, "Reply", "Hi \x1b[2JAna,\r\n\nBest");
        assert_eq!(c.lines, vec!["Hi Ana,".to_string(), String::new(), "Best".to_string()]);
    }

    #[test]
    fn pickers_map_keys() {
        let p = Picker::replies(&["follow-up".into(), "closing".into()]);
        assert_eq!(p.pick(&key(KeyCode::Char('2'))), Some(1));
        assert_eq!(p.pick(&key(KeyCode::Char('3'))), None);
        assert_eq!(Picker::snooze().pick(&key(KeyCode::Char('w'))), Some(2));
        assert_eq!(Picker::snooze().pick(&key(KeyCode::Enter)), None, "no default: enter picks nothing");
        let p = Picker::task_priority("Priority".into());
        assert_eq!((p.pick(&key(KeyCode::Enter)), p.pick(&key(KeyCode::Char('u')))), (Some(2), Some(0)));
    }
}
