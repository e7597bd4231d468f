//! Key bindings as data, one keymap per mode: an embedded default table for
//! each (key = action, the format of the config's `[keys]`), with the user's
//! tables laid over them. Parsing a key's spelling lives here, in the config
//! layer; the cockpit only asks which action a key event means.

use std::collections::HashMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// What keys drive at a moment, each with a keymap of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMode {
    /// The panes (`[keys]`).
    Normal,
    /// Typing a filter: text goes in, these keys keep or clear it.
    Filter,
    /// The sentiment prompt after `f`.
    Sentiment,
    /// The outbox overlay.
    Outbox,
    /// The help overlay.
    Help,
    /// The full account view (and a ticket's conversation in it).
    Account,
    /// The metrics overlay.
    Metrics,
    /// The inline editor's command keys (typed text stays text).
    Editor,
    /// A one-key menu (its option keys are its own; these close it).
    Picker,
    /// The list of recent actions (`U`).
    Undo,
    /// A yes / no question (discard a write, quit while writing).
    Confirm,
}

/// The panes' defaults: the order of a key within its action is the order hints use.
const NORMAL: &[(&str, &str)] = &[
    ("q", "quit"),
    ("esc", "back"),
    ("k", "up"),
    ("up", "up"),
    ("j", "down"),
    ("down", "down"),
    ("h", "left"),
    ("left", "left"),
    ("l", "right"),
    ("right", "right"),
    ("g", "top"),
    ("home", "top"),
    ("G", "bottom"),
    ("end", "bottom"),
    ("pageup", "page_up"),
    ("ctrl-u", "page_up"),
    ("pagedown", "page_down"),
    ("ctrl-d", "page_down"),
    ("tab", "focus_next"),
    ("backtab", "focus_prev"),
    ("1", "focus_accounts"),
    ("2", "focus_health"),
    ("3", "focus_kanban"),
    ("4", "focus_queue"),
    ("enter", "open"),
    ("/", "filter"),
    ("?", "help"),
    ("m", "metrics"),
    ("i", "detail"),
    ("f", "sentiment"),
    ("s", "sort_next"),
    ("S", "sort_reverse"),
    (">", "stage_next"),
    ("<", "stage_prev"),
    ("z", "zoom"),
    ("r", "sync"),
    ("space", "mark"),
    ("d", "done"),
    ("p", "snooze"),
    ("n", "note"),
    ("N", "note_editor"),
    ("R", "reply"),
    ("e", "escalate"),
    ("c", "close_ticket"),
    ("L", "log"),
    ("t", "task"),
    ("u", "undo"),
    ("U", "undo_list"),
    ("o", "outbox"),
];

const FILTER: &[(&str, &str)] = &[("enter", "keep"), ("esc", "clear")];

const SENTIMENT: &[(&str, &str)] = &[
    ("1", "sentiment_1"),
    ("2", "sentiment_2"),
    ("3", "sentiment_3"),
    ("4", "sentiment_4"),
    ("5", "sentiment_5"),
    ("esc", "cancel"),
];

const OUTBOX: &[(&str, &str)] = &[
    ("esc", "close"),
    ("q", "close"),
    ("o", "close"),
    ("j", "down"),
    ("down", "down"),
    ("k", "up"),
    ("up", "up"),
    ("r", "retry"),
    ("e", "edit"),
    ("x", "discard"),
];

const HELP: &[(&str, &str)] = &[("esc", "close"), ("?", "close")];

const ACCOUNT: &[(&str, &str)] = &[
    ("esc", "close"),
    ("q", "close"),
    ("i", "close"),
    ("j", "down"),
    ("down", "down"),
    ("k", "up"),
    ("up", "up"),
    ("ctrl-d", "page_down"),
    ("pagedown", "page_down"),
    ("ctrl-u", "page_up"),
    ("pageup", "page_up"),
    ("g", "top"),
    ("home", "top"),
    ("G", "bottom"),
    ("end", "bottom"),
    ("tab", "next_section"),
    ("]", "next_section"),
    ("backtab", "prev_section"),
    ("[", "prev_section"),
    ("enter", "open"),
    ("t", "timeline_kind"),
    ("r", "refresh"),
    ("R", "reply"),
    ("c", "close_ticket"),
    ("n", "note"),
    ("N", "note_editor"),
    ("L", "log"),
    ("p", "snooze"),
    ("T", "task"),
    (">", "stage_next"),
    ("<", "stage_prev"),
];

const METRICS: &[(&str, &str)] = &[("esc", "close"), ("m", "close")];

const EDITOR: &[(&str, &str)] = &[
    ("ctrl-s", "submit"),
    ("alt-enter", "submit"),
    ("ctrl-enter", "submit"),
    ("ctrl-e", "external_editor"),
    ("esc", "cancel"),
];

const PICKER: &[(&str, &str)] = &[("esc", "cancel"), ("q", "cancel")];

const UNDO: &[(&str, &str)] = &[
    ("esc", "close"),
    ("q", "close"),
    ("U", "close"),
    ("j", "down"),
    ("down", "down"),
    ("k", "up"),
    ("up", "up"),
    ("enter", "undo_to"),
];

const CONFIRM: &[(&str, &str)] = &[("y", "yes"), ("n", "no"), ("esc", "no")];

impl KeyMode {
    /// Every mode, in the order of their tables in the help.
    pub const ALL: [KeyMode; 11] = [
        KeyMode::Normal,
        KeyMode::Filter,
        KeyMode::Sentiment,
        KeyMode::Outbox,
        KeyMode::Help,
        KeyMode::Account,
        KeyMode::Metrics,
        KeyMode::Editor,
        KeyMode::Picker,
        KeyMode::Undo,
        KeyMode::Confirm,
    ];

    /// The mode's name in the config (`[keys.outbox]`); `normal` is `[keys]` itself.
    pub fn name(self) -> &'static str {
        match self {
            KeyMode::Normal => "normal",
            KeyMode::Filter => "filter",
            KeyMode::Sentiment => "sentiment",
            KeyMode::Outbox => "outbox",
            KeyMode::Help => "help",
            KeyMode::Account => "account",
            KeyMode::Metrics => "metrics",
            KeyMode::Editor => "editor",
            KeyMode::Picker => "picker",
            KeyMode::Undo => "undo",
            KeyMode::Confirm => "confirm",
        }
    }

    /// The mode's table as written in the config.
    pub fn table(self) -> String {
        match self {
            KeyMode::Normal => "[keys]".into(),
            other => format!("[keys.{}]", other.name()),
        }
    }

    /// The mode a `[keys.NAME]` table names (not `normal`: that is `[keys]`).
    /// `[keys.detail]`, the overlay the account view replaced, still binds
    /// the account view's keys.
    pub fn from_table(name: &str) -> Option<KeyMode> {
        let name = if name == "detail" { "account" } else { name };
        KeyMode::ALL.into_iter().skip(1).find(|m| m.name() == name)
    }

    /// The names `[keys.NAME]` accepts.
    pub const TABLES: &'static [&'static str] =
        &["filter", "sentiment", "outbox", "help", "account", "metrics", "editor", "picker", "undo", "confirm"];

    /// The actions the mode's keys can name, in help order.
    pub fn actions(self) -> &'static [Action] {
        use Action as A;
        match self {
            KeyMode::Normal => &Action::NORMAL,
            KeyMode::Filter => &[A::Keep, A::Clear],
            KeyMode::Sentiment => {
                &[A::Sentiment1, A::Sentiment2, A::Sentiment3, A::Sentiment4, A::Sentiment5, A::Cancel]
            }
            KeyMode::Outbox => &[A::Down, A::Up, A::Retry, A::Edit, A::Discard, A::Close],
            KeyMode::Account => &[
                A::Down,
                A::Up,
                A::PageDown,
                A::PageUp,
                A::Top,
                A::Bottom,
                A::NextSection,
                A::PrevSection,
                A::Open,
                A::TimelineKind,
                A::Refresh,
                A::Reply,
                A::CloseTicket,
                A::Note,
                A::NoteEditor,
                A::Log,
                A::Snooze,
                A::Task,
                A::StageNext,
                A::StagePrev,
                A::Close,
            ],
            KeyMode::Help | KeyMode::Metrics => &[A::Close],
            KeyMode::Editor => &[A::Submit, A::ExternalEditor, A::Cancel],
            KeyMode::Picker => &[A::Cancel],
            KeyMode::Undo => &[A::Down, A::Up, A::UndoTo, A::Close],
            KeyMode::Confirm => &[A::Yes, A::No],
        }
    }

    /// The embedded default table.
    fn defaults(self) -> &'static [(&'static str, &'static str)] {
        match self {
            KeyMode::Normal => NORMAL,
            KeyMode::Filter => FILTER,
            KeyMode::Sentiment => SENTIMENT,
            KeyMode::Outbox => OUTBOX,
            KeyMode::Help => HELP,
            KeyMode::Account => ACCOUNT,
            KeyMode::Metrics => METRICS,
            KeyMode::Editor => EDITOR,
            KeyMode::Picker => PICKER,
            KeyMode::Undo => UNDO,
            KeyMode::Confirm => CONFIRM,
        }
    }

    fn index(self) -> usize {
        KeyMode::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }
}

/// A key with its modifiers, normalised (shift folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl / Alt (Shift only for non-character keys).
    pub mods: KeyModifiers,
}

impl Key {
    /// Normalises a terminal key event.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            // The character already says whether shift was held.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// Parses `ctrl-c`, `shift-up`, `G`, `pagedown`, `f5`, `space`, ...
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") && rest.len() > 6 {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if mods.contains(KeyModifiers::SHIFT) {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "esc" | "escape" => KeyCode::Esc,
                "enter" | "return" => KeyCode::Enter,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "\"{text}\" is not a key (try \"j\", \"ctrl-d\", \"shift-tab\", \"pagedown\", \"f5\")"
                    ))
                }
            },
        };
        if code == KeyCode::Tab && mods.contains(KeyModifiers::SHIFT) {
            return Ok(Key { code: KeyCode::BackTab, mods: mods - KeyModifiers::SHIFT });
        }
        Ok(Key { code, mods })
    }

    /// Human spelling for the help overlay.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            s.push_str("shift-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::Esc => s.push_str("esc"),
            KeyCode::Enter => s.push_str("enter"),
            KeyCode::Tab => s.push_str("tab"),
            KeyCode::BackTab => s.push_str("shift-tab"),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::Left => s.push('←'),
            KeyCode::Right => s.push('→'),
            KeyCode::Home => s.push_str("home"),
            KeyCode::End => s.push_str("end"),
            KeyCode::PageUp => s.push_str("pgup"),
            KeyCode::PageDown => s.push_str("pgdn"),
            KeyCode::F(n) => s.push_str(&format!("f{n}")),
            other => s.push_str(&format!("{other:?}").to_lowercase()),
        }
        s
    }
}

/// The key that always quits, in every mode.
fn ctrl_c() -> Key {
    Key { code: KeyCode::Char('c'), mods: KeyModifiers::CONTROL }
}

/// Checks one `key = "action"` entry of a mode's table; the error is for
/// the person editing the file.
pub fn parse_binding(mode: KeyMode, key: &str, action: &str) -> Result<(Key, Action), String> {
    let k = Key::parse(key)?;
    if k == ctrl_c() {
        return Err("ctrl-c always quits and cannot be rebound".into());
    }
    let names = || mode.actions().iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
    match Action::parse(action) {
        Some(a) if mode.actions().contains(&a) => Ok((k, a)),
        Some(_) => Err(format!("\"{action}\" is not an action of {}; its actions are: {}", mode.table(), names())),
        None if mode == KeyMode::Normal => Err(format!("\"{action}\" is not an action; actions are: {}", names())),
        None => Err(format!("\"{action}\" is not an action; the actions of {} are: {}", mode.table(), names())),
    }
}

/// One mode's bindings: key -> action, and the keys in the order hints
/// prefer them (the user's own first, then the defaults').
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bindings {
    map: HashMap<Key, Action>,
    order: Vec<Key>,
    /// How many keys at the front of `order` the user bound.
    own: usize,
}

impl Bindings {
    fn defaults(mode: KeyMode) -> Bindings {
        let mut b = Bindings { map: HashMap::new(), order: Vec::new(), own: 0 };
        for (k, a) in mode.defaults() {
            let (key, action) = parse_binding(mode, k, a).expect("embedded keymap is valid");
            b.map.insert(key, action);
            b.order.push(key);
        }
        b
    }

    fn unbind(&mut self, key: Key) {
        self.map.remove(&key);
        if let Some(i) = self.order.iter().position(|k| *k == key) {
            self.order.remove(i);
            if i < self.own {
                self.own -= 1;
            }
        }
    }

    fn bind_own(&mut self, key: Key, action: Action) {
        self.unbind(key);
        self.map.insert(key, action);
        self.order.insert(self.own, key);
        self.own += 1;
    }
}

/// Every mode's key -> action map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    modes: Vec<Bindings>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap { modes: KeyMode::ALL.into_iter().map(Bindings::defaults).collect() }
    }
}

impl Keymap {
    /// Lays one user entry over the mode's map: `"none"` unbinds the key.
    /// A bad entry changes nothing; the error says why.
    pub fn bind(&mut self, mode: KeyMode, key: &str, action: &str) -> Result<(), String> {
        let bindings = &mut self.modes[mode.index()];
        if action == "none" {
            bindings.unbind(Key::parse(key)?);
            return Ok(());
        }
        let (key, action) = parse_binding(mode, key, action)?;
        bindings.bind_own(key, action);
        Ok(())
    }

    /// The defaults with one mode's entries laid over them; returns the
    /// warnings for entries that were skipped.
    pub fn with_overrides<'a>(
        mode: KeyMode,
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (Keymap, Vec<String>) {
        let mut km = Keymap::default();
        let mut warnings = Vec::new();
        for (k, a) in overrides {
            if let Err(e) = km.bind(mode, k, a) {
                warnings.push(format!("{} \"{k}\": {e}; entry skipped", mode.table()));
            }
        }
        (km, warnings)
    }

    /// The action a key event means in a mode. Ctrl-c always quits.
    pub fn action(&self, mode: KeyMode, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        if key == ctrl_c() {
            return Some(Action::Quit);
        }
        self.modes[mode.index()].map.get(&key).copied()
    }

    /// The keys bound to an action in a mode, sorted for the help list.
    pub fn keys_for(&self, mode: KeyMode, action: Action) -> Vec<String> {
        let map = &self.modes[mode.index()].map;
        let mut keys: Vec<String> = map.iter().filter(|(_, a)| **a == action).map(|(k, _)| k.display()).collect();
        if action == Action::Quit {
            keys.push("ctrl-c".into());
        }
        keys.sort_by_key(|k| (k.chars().count(), k.clone()));
        keys.dedup();
        keys
    }

    /// The keys bound to an action in a mode, the one a hint shows first:
    /// the user's own bindings, then the defaults in their table's order.
    pub fn hint_keys(&self, mode: KeyMode, action: Action) -> Vec<String> {
        let b = &self.modes[mode.index()];
        b.order.iter().filter(|k| b.map.get(k) == Some(&action)).map(Key::display).collect()
    }

    /// The key a hint names for an action, if any is bound.
    pub fn hint(&self, mode: KeyMode, action: Action) -> Option<String> {
        self.hint_keys(mode, action).into_iter().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn char(c: char) -> KeyEvent {
        ev(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_follow_tui_conventions() {
        let km = Keymap::default();
        let n = KeyMode::Normal;
        assert_eq!(km.action(n, &char('j')), Some(Action::Down));
        assert_eq!(km.action(n, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(km.action(n, &ev(KeyCode::BackTab, KeyModifiers::SHIFT)), Some(Action::FocusPrev));
        assert_eq!(km.action(n, &ev(KeyCode::Esc, KeyModifiers::NONE)), Some(Action::Back));
        assert_eq!(km.action(n, &char('x')), None);
        assert_eq!(km.action(KeyMode::Outbox, &char('x')), Some(Action::Discard));
        assert_eq!(km.action(KeyMode::Editor, &ev(KeyCode::Enter, KeyModifiers::ALT)), Some(Action::Submit));
        assert_eq!(km.action(KeyMode::Editor, &char('s')), None, "typed text stays text");
        // The account view closes on esc and q; it never quits.
        let a = KeyMode::Account;
        assert_eq!(km.action(a, &ev(KeyCode::Esc, KeyModifiers::NONE)), Some(Action::Close));
        assert_eq!(km.action(a, &char('q')), Some(Action::Close));
        assert_eq!(km.action(a, &ev(KeyCode::Tab, KeyModifiers::NONE)), Some(Action::NextSection));
        assert_eq!(km.action(a, &char(']')), Some(Action::NextSection));
        assert_eq!(km.action(a, &ev(KeyCode::Enter, KeyModifiers::NONE)), Some(Action::Open));
        assert_eq!(KeyMode::from_table("detail"), Some(KeyMode::Account), "the old table still binds");
        for mode in KeyMode::ALL {
            let ctrl_c = ev(KeyCode::Char('c'), KeyModifiers::CONTROL);
            assert_eq!(km.action(mode, &ctrl_c), Some(Action::Quit), "{mode:?}");
            for a in mode.actions() {
                assert!(!km.keys_for(mode, *a).is_empty(), "{mode:?}: {a:?} has no default key");
            }
        }
    }

    #[test]
    fn hints_prefer_the_users_keys_then_the_table_order() {
        let km = Keymap::default();
        assert_eq!(km.hint(KeyMode::Outbox, Action::Close).as_deref(), Some("esc"));
        assert_eq!(km.hint(KeyMode::Normal, Action::Up).as_deref(), Some("k"));
        assert_eq!(km.keys_for(KeyMode::Normal, Action::Quit), ["q", "ctrl-c"]);
        let (km, warnings) = Keymap::with_overrides(KeyMode::Outbox, [("X", "discard"), ("x", "none")]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(km.hint(KeyMode::Outbox, Action::Discard).as_deref(), Some("X"));
        assert_eq!(km.action(KeyMode::Outbox, &char('x')), None);
        assert_eq!(km.action(KeyMode::Outbox, &char('X')), Some(Action::Discard));
        assert_eq!(km.action(KeyMode::Normal, &char('x')), None, "another mode's table is untouched");
        // A key taken from one action for another moves with it.
        let (km, _) = Keymap::with_overrides(KeyMode::Outbox, [("esc", "retry")]);
        assert_eq!(km.hint(KeyMode::Outbox, Action::Close).as_deref(), Some("q"));
        assert_eq!(km.hint_keys(KeyMode::Outbox, Action::Retry), ["esc", "r"]);
    }

    #[test]
    fn parses_key_spellings() {
        assert_eq!(Key::parse("ctrl-d").unwrap(), Key { code: KeyCode::Char('d'), mods: KeyModifiers::CONTROL });
        assert_eq!(Key::parse("shift-tab").unwrap().code, KeyCode::BackTab);
        assert_eq!(Key::parse("shift-g").unwrap(), Key::parse("G").unwrap());
        assert_eq!(Key::parse("F5").unwrap().code, KeyCode::F(5));
        assert_eq!(Key::parse("space").unwrap().code, KeyCode::Char(' '));
        assert_eq!(Key::parse("-").unwrap().code, KeyCode::Char('-'));
        assert!(Key::parse("ctrl-").is_err());
        assert!(Key::parse("hyper-x").is_err());
    }

    #[test]
    fn overrides_merge_and_bad_entries_warn() {
        let n = KeyMode::Normal;
        let (km, warnings) =
            Keymap::with_overrides(n, [("x", "quit"), ("q", "none"), ("y", "explode"), ("ctrl-c", "help")]);
        assert_eq!(km.action(n, &char('x')), Some(Action::Quit));
        assert_eq!(km.action(n, &char('q')), None);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("explode"));
        assert!(warnings[1].contains("ctrl-c always quits"));
        assert_eq!(km.action(n, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        // Each mode takes only its own actions.
        let (_, warnings) = Keymap::with_overrides(KeyMode::Outbox, [("X", "quit"), ("Y", "fly")]);
        assert!(warnings[0].contains("\"quit\" is not an action of [keys.outbox]; its actions are: down, up"));
        assert!(warnings[1].contains("\"fly\" is not an action; the actions of [keys.outbox] are"));
        let (_, warnings) = Keymap::with_overrides(n, [("X", "discard")]);
        assert!(warnings[0].contains("\"discard\" is not an action of [keys]"), "{warnings:?}");
    }
}
