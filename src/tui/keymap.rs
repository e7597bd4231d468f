//! Key bindings as data: an embedded default map, merged with the user's
//! `[keys]` table from the config. A bad entry is skipped with a warning.

use std::collections::HashMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// The default bindings (key = action), the same format as the config's `[keys]`.
pub const DEFAULT_KEYS: &str = r#"
"q" = "quit"
"esc" = "back"
"up" = "up"
"k" = "up"
"down" = "down"
"j" = "down"
"left" = "left"
"h" = "left"
"right" = "right"
"l" = "right"
"g" = "top"
"home" = "top"
"G" = "bottom"
"end" = "bottom"
"pageup" = "page_up"
"ctrl-u" = "page_up"
"pagedown" = "page_down"
"ctrl-d" = "page_down"
"tab" = "focus_next"
"backtab" = "focus_prev"
"1" = "focus_accounts"
"2" = "focus_health"
"3" = "focus_kanban"
"4" = "focus_queue"
"enter" = "open"
"/" = "filter"
"?" = "help"
"m" = "metrics"
"i" = "detail"
"f" = "sentiment"
"s" = "sort_next"
"S" = "sort_reverse"
">" = "stage_next"
"<" = "stage_prev"
"z" = "zoom"
"r" = "sync"
"space" = "mark"
"d" = "done"
"p" = "snooze"
"n" = "note"
"N" = "note_editor"
"R" = "reply"
"e" = "escalate"
"c" = "close_ticket"
"L" = "log"
"u" = "undo"
"o" = "outbox"
"#;

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

/// Key -> action.
#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<Key, Action>,
}

/// Checks one `key = "action"` entry; the error is for the person editing the file.
pub fn parse_binding(key: &str, action: &str) -> Result<(Key, Action), String> {
    let k = Key::parse(key)?;
    if k == Key::parse("ctrl-c").expect("ctrl-c parses") {
        return Err("ctrl-c always quits and cannot be rebound".into());
    }
    let a = Action::parse(action).ok_or_else(|| {
        let names: Vec<String> = Action::ALL.iter().map(|a| a.name()).collect();
        format!("\"{action}\" is not an action; actions are: {}", names.join(", "))
    })?;
    Ok((k, a))
}

impl Default for Keymap {
    fn default() -> Self {
        let table: toml::Table = toml::from_str(DEFAULT_KEYS).expect("embedded keymap is valid TOML");
        let mut map = HashMap::new();
        for (k, v) in &table {
            let (key, action) = parse_binding(k, v.as_str().unwrap_or_default()).expect("embedded keymap is valid");
            map.insert(key, action);
        }
        Keymap { map }
    }
}

impl Keymap {
    /// The defaults with the user's bindings laid over them; returns the
    /// warnings for entries that were skipped. `"none"` unbinds a key.
    pub fn with_overrides<'a>(overrides: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Keymap, Vec<String>) {
        let mut km = Keymap::default();
        let mut warnings = Vec::new();
        for (k, a) in overrides {
            if a == "none" {
                match Key::parse(k) {
                    Ok(key) => {
                        km.map.remove(&key);
                    }
                    Err(e) => warnings.push(format!("[keys] {e}; entry skipped")),
                }
                continue;
            }
            match parse_binding(k, a) {
                Ok((key, action)) => {
                    km.map.insert(key, action);
                }
                Err(e) => warnings.push(format!("[keys] \"{k}\": {e}; entry skipped")),
            }
        }
        (km, warnings)
    }

    /// The action bound to a key event. Ctrl-c always quits.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        if key.code == KeyCode::Char('c') && key.mods == KeyModifiers::CONTROL {
            return Some(Action::Quit);
        }
        self.map.get(&key).copied()
    }

    /// The keys bound to an action, sorted for display.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = self.map.iter().filter(|(_, a)| **a == action).map(|(k, _)| k.display()).collect();
        if action == Action::Quit {
            keys.push("ctrl-c".into());
        }
        keys.sort_by_key(|k| (k.chars().count(), k.clone()));
        keys.dedup();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_follow_tui_conventions() {
        let km = Keymap::default();
        assert_eq!(km.action(&ev(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.action(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(km.action(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)), Some(Action::FocusPrev));
        assert_eq!(km.action(&ev(KeyCode::Esc, KeyModifiers::NONE)), Some(Action::Back));
        assert_eq!(km.action(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(km.action(&ev(KeyCode::Char('x'), KeyModifiers::NONE)), None);
        for a in Action::ALL {
            assert!(!km.keys_for(a).is_empty(), "{a:?} has no default key");
        }
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
        let (km, warnings) =
            Keymap::with_overrides([("x", "quit"), ("q", "none"), ("y", "explode"), ("ctrl-c", "help")]);
        assert_eq!(km.action(&ev(KeyCode::Char('x'), KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(km.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("explode"));
        assert!(warnings[1].contains("ctrl-c always quits"));
        assert_eq!(km.action(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
    }
}
