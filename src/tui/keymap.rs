//! The keymaps the cockpit reads keys through. Their spellings and the
//! per-mode tables are parsed and checked by the config layer
//! ([`crate::config::keys`]); hints here are written from them, so a
//! rebinding shows wherever a key is named.

pub use crate::config::keys::{Key, KeyMode, Keymap};

use super::action::Action;

/// The keys a hint names for actions shown together (`<>` for the stage
/// moves, `j/k` for moving): `None` when one of them has no key.
pub fn joined(km: &Keymap, mode: KeyMode, actions: &[Action], sep: &str) -> Option<String> {
    let keys: Vec<String> = actions.iter().map(|a| km.hint(mode, *a)).collect::<Option<_>>()?;
    // Two one-letter keys read well side by side; longer ones need the separator.
    let sep = if sep.is_empty() && keys.iter().any(|k| k.chars().count() > 1) { "/" } else { sep };
    Some(keys.join(sep))
}

/// Every key of an action, in hint order: "esc or ?".
pub fn any_of(km: &Keymap, mode: KeyMode, action: Action) -> Option<String> {
    Some(km.hint_keys(mode, action).join(" or ")).filter(|k| !k.is_empty())
}

/// A footer: "key what" parts joined with " · ", leaving out those whose key is unbound.
pub fn footer<'a>(parts: impl IntoIterator<Item = (Option<String>, &'a str)>) -> String {
    let parts: Vec<String> = parts.into_iter().filter_map(|(k, what)| Some(format!("{} {what}", k?))).collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!(" {} ", parts.join(" · ")),
    }
}

/// " (k)" naming the key of an action in a message, or nothing when it has none.
pub fn in_parens(km: &Keymap, mode: KeyMode, action: Action) -> String {
    km.hint(mode, action).map_or(String::new(), |k| format!(" ({k})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_keymap() {
        let km = Keymap::default();
        assert_eq!(joined(&km, KeyMode::Normal, &[Action::StagePrev, Action::StageNext], "").as_deref(), Some("<>"));
        assert_eq!(joined(&km, KeyMode::Outbox, &[Action::Down, Action::Up], "/").as_deref(), Some("j/k"));
        assert_eq!(any_of(&km, KeyMode::Help, Action::Close).as_deref(), Some("esc or ?"));
        assert_eq!(footer([(km.hint(KeyMode::Picker, Action::Cancel), "cancels")]), " esc cancels ");
        let (km, _) = Keymap::with_overrides(KeyMode::Normal, [("ctrl-p", "stage_prev"), ("<", "none")]);
        assert_eq!(
            joined(&km, KeyMode::Normal, &[Action::StagePrev, Action::StageNext], "").as_deref(),
            Some("ctrl-p/>")
        );
        let (km, _) = Keymap::with_overrides(KeyMode::Normal, [("4", "none")]);
        assert_eq!(in_parens(&km, KeyMode::Normal, Action::FocusQueue), "");
        assert_eq!(footer([(None, "x")]), "");
    }
}
