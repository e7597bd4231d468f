//! Colour themes: named style slots read from TOML, each falling back to a default.
//!
//! Themes are data (as in atuin): a file only lists the slots it wants to change. A bad theme
//! file must never stop start-up, so every problem becomes a human-readable warning and the
//! affected slot keeps its fallback style.

use std::io::ErrorKind;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};

const DARK_TOML: &str = include_str!("../../themes/dark.toml");
const LIGHT_TOML: &str = include_str!("../../themes/light.toml");
const HIGH_CONTRAST_TOML: &str = include_str!("../../themes/high-contrast.toml");

const BUILTIN_NAMES: &[&str] = &["dark", "light", "high-contrast"];
const DEFAULT_NAME: &str = "dark";

const COLOUR_HELP: &str =
    "expected \"#rrggbb\", a colour name such as \"light-blue\", \"reset\" or an ANSI index 0-255";
const MODIFIER_HELP: &str = "expected bold, dim, italic, underlined, reversed, crossed_out or slow_blink";

// One list drives the struct, the TOML keys and the by-name lookup so they cannot drift apart.
macro_rules! theme_slots {
    ($($(#[doc = $doc:literal])+ $slot:ident,)+) => {
        /// A colour theme: one ratatui [`Style`] per named slot.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            /// Theme name (built-in name or user file stem).
            pub name: String,
            $($(#[doc = $doc])+ pub $slot: Style,)+
        }

        impl Theme {
            /// All slot names in declaration order; these are the keys of a theme file's `[slots]` table.
            pub const SLOT_NAMES: &'static [&'static str] = &[$(stringify!($slot)),+];

            /// The style of the slot called `name`, if there is such a slot.
            pub fn slot(&self, name: &str) -> Option<Style> {
                match name {
                    $(stringify!($slot) => Some(self.$slot),)+
                    _ => None,
                }
            }

            fn slot_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($slot) => Some(&mut self.$slot),)+
                    _ => None,
                }
            }

            fn uniform(name: &str, style: Style) -> Theme {
                Theme { name: name.to_string(), $($slot: style,)+ }
            }
        }
    };
}

theme_slots! {
    /// Normal text and the pane background.
    base,
    /// Secondary text (labels, timestamps, hints).
    dim,
    /// Highlights and numbers.
    accent,
    /// Border of an unfocused pane.
    border,
    /// Border of the focused pane.
    border_focused,
    /// Title of an unfocused pane.
    title,
    /// Title of the focused pane.
    title_focused,
    /// Table header row.
    header,
    /// Selected row in the focused pane.
    selected,
    /// Selected row in the other panes.
    selected_unfocused,
    /// Green health band (fg of scores and sparkline bars).
    band_green,
    /// Yellow health band (fg of scores and sparkline bars).
    band_yellow,
    /// Red health band (fg of scores and sparkline bars).
    band_red,
    /// No health band yet (fg of scores and sparkline bars).
    band_none,
    /// Dotted band threshold lines in the sparkline.
    threshold,
    /// Overdue follow-ups.
    overdue,
    /// Kanban card.
    card,
    /// Selected kanban card.
    card_selected,
    /// Status line.
    status,
    /// Key hints in the status line.
    status_key,
    /// Warning messages.
    warning,
    /// Error messages.
    error,
    /// Key column in the help overlay.
    help_key,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    /// Names of the embedded themes; the first is the default.
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// The embedded default theme.
    pub fn dark() -> Theme {
        // The embedded file is checked by a unit test to parse without warnings.
        Theme::parse(DEFAULT_NAME, DARK_TOML, &Theme::plain(DEFAULT_NAME)).0
    }

    /// Parses theme file `text` as theme `name`; slots that are missing or invalid take `fallback`'s style.
    pub fn parse(name: &str, text: &str, fallback: &Theme) -> (Theme, Vec<String>) {
        let mut theme = Theme { name: name.to_string(), ..fallback.clone() };
        let mut warnings = Vec::new();
        let table = match text.parse::<toml::Table>() {
            Ok(table) => table,
            Err(err) => {
                let at = err.span().map_or_else(String::new, |span| {
                    let (line, column) = line_col(text, span.start);
                    format!(" at line {line}, column {column}")
                });
                warnings.push(format!(
                    "theme \"{name}\": the file is not valid TOML{at} ({}); using the \"{}\" theme instead",
                    err.message().trim(),
                    fallback.name
                ));
                return (theme, warnings);
            }
        };

        for (key, value) in &table {
            match key.as_str() {
                // The name field is informational: the theme is known by the name it was loaded under.
                "name" if !value.is_str() => warnings.push(format!(
                    "theme \"{name}\": \"name\" should be a string, found {}; ignored",
                    value.type_str()
                )),
                "name" | "slots" => {}
                other => warnings.push(format!(
                    "theme \"{name}\": unknown top-level key \"{other}\" ignored (expected \"name\" and [slots])"
                )),
            }
        }

        match table.get("slots") {
            None => {}
            Some(toml::Value::Table(slots)) => {
                for (slot, value) in slots {
                    let Some(target) = theme.slot_mut(slot) else {
                        warnings.push(format!("theme \"{name}\": unknown slot \"{slot}\" ignored{}", slot_hint(slot)));
                        continue;
                    };
                    match parse_slot(value) {
                        Ok(style) => *target = style,
                        Err(problem) => warnings.push(format!(
                            "theme \"{name}\": slot \"{slot}\" {problem}; using the default for that slot"
                        )),
                    }
                }
            }
            Some(other) => warnings.push(format!(
                "theme \"{name}\": \"slots\" should be a table, found {}; using the \"{}\" theme instead",
                other.type_str(),
                fallback.name
            )),
        }
        (theme, warnings)
    }

    /// Loads theme `name`: `{user_dir}/{name}.toml` first, then the built-ins, else dark with a warning.
    pub fn load(name: &str, user_dir: Option<&Path>) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let builtin = builtin_name(name);
        // A name with path parts would escape the themes directory, so only plain names are looked up there.
        let plain_name = !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..";
        if let Some(dir) = user_dir.filter(|_| plain_name) {
            let path = dir.join(format!("{name}.toml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    // A user file named after a built-in refines that built-in; any other refines dark.
                    let fallback = builtin.map_or_else(Theme::dark, |b| Theme::builtin(b, &mut warnings));
                    let (theme, parse_warnings) = Theme::parse(name, &text, &fallback);
                    warnings.extend(parse_warnings);
                    return (theme, warnings);
                }
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                Err(err) => {
                    let instead = builtin.unwrap_or(DEFAULT_NAME);
                    warnings.push(format!(
                        "theme \"{name}\": could not read {} ({err}); using the built-in \"{instead}\"",
                        path.display()
                    ));
                    return (Theme::builtin(instead, &mut warnings), warnings);
                }
            }
        }
        if let Some(builtin) = builtin {
            return (Theme::builtin(builtin, &mut warnings), warnings);
        }
        let user_hint = user_dir.map_or_else(String::new, |dir| format!("; or put {name}.toml in {}", dir.display()));
        warnings.push(format!(
            "theme \"{name}\" not found (built-in: {}{user_hint}); using \"{DEFAULT_NAME}\"",
            BUILTIN_NAMES.join(", ")
        ));
        (Theme::dark(), warnings)
    }

    /// The same theme without any colours, for NO_COLOR (<https://no-color.org>); modifiers keep it usable.
    pub fn monochrome(&self) -> Theme {
        let mut theme = self.clone();
        for name in Theme::SLOT_NAMES {
            if let Some(style) = theme.slot_mut(name) {
                *style = Style::default().add_modifier(style.add_modifier);
            }
        }
        theme.with_usable_modifiers()
    }

    /// Loads `requested` (default "dark") and strips colours if `no_color` is set.
    pub fn resolve(requested: Option<&str>, user_dir: Option<&Path>, no_color: bool) -> (Theme, Vec<String>) {
        let name = requested.map(str::trim).filter(|name| !name.is_empty()).unwrap_or(DEFAULT_NAME);
        let (theme, warnings) = Theme::load(name, user_dir);
        (if no_color { theme.monochrome() } else { theme }, warnings)
    }

    /// Colourless last-resort fallback, only used beneath the embedded dark theme.
    fn plain(name: &str) -> Theme {
        Theme::uniform(name, Style::default()).with_usable_modifiers()
    }

    /// Selection and focus must stay visible even when there is no colour to show them.
    fn with_usable_modifiers(mut self) -> Theme {
        for style in [&mut self.selected, &mut self.selected_unfocused, &mut self.card_selected] {
            *style = style.add_modifier(Modifier::REVERSED);
        }
        for style in [&mut self.border_focused, &mut self.title_focused] {
            *style = style.add_modifier(Modifier::BOLD);
        }
        self
    }

    /// Parses the embedded theme `name` (canonical), collecting any warnings.
    fn builtin(name: &str, warnings: &mut Vec<String>) -> Theme {
        let text = match name {
            "light" => LIGHT_TOML,
            "high-contrast" => HIGH_CONTRAST_TOML,
            _ => return Theme::dark(),
        };
        let (theme, parse_warnings) = Theme::parse(name, text, &Theme::dark());
        warnings.extend(parse_warnings);
        theme
    }
}

/// The canonical built-in name for `name`, accepting case and `_`/`-` variations.
fn builtin_name(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "dark" => Some("dark"),
        "light" => Some("light"),
        "high-contrast" | "highcontrast" => Some("high-contrast"),
        _ => None,
    }
}

/// Parses one slot's inline table; the error is a phrase completing "slot \"x\" ...".
fn parse_slot(value: &toml::Value) -> Result<Style, String> {
    let Some(table) = value.as_table() else {
        return Err(format!(
            "should be a table like {{ fg = \"red\", modifiers = [\"bold\"] }}, found {}",
            value.type_str()
        ));
    };
    let mut style = Style::default();
    for (key, value) in table {
        match key.as_str() {
            "fg" => style.fg = Some(parse_color_value(key, value)?),
            "bg" => style.bg = Some(parse_color_value(key, value)?),
            "modifiers" => style = style.add_modifier(parse_modifiers(value)?),
            other => return Err(format!("has an unknown key \"{other}\" (expected fg, bg and modifiers)")),
        }
    }
    Ok(style)
}

fn parse_color_value(key: &str, value: &toml::Value) -> Result<Color, String> {
    match value {
        toml::Value::String(text) => {
            parse_color(text).ok_or_else(|| format!("has an unknown {key} colour \"{text}\" ({COLOUR_HELP})"))
        }
        // A bare integer is an easy mistake for an ANSI index, so accept it.
        toml::Value::Integer(index) => u8::try_from(*index)
            .map(Color::Indexed)
            .map_err(|_| format!("has an unknown {key} colour {index} ({COLOUR_HELP})")),
        other => Err(format!("has a {key} that is {} rather than a colour string ({COLOUR_HELP})", other.type_str())),
    }
}

fn parse_modifiers(value: &toml::Value) -> Result<Modifier, String> {
    let names: Vec<&toml::Value> = match value {
        toml::Value::Array(items) => items.iter().collect(),
        // A single modifier without brackets is unambiguous, so accept it.
        toml::Value::String(_) => vec![value],
        other => return Err(format!("has modifiers that are {} rather than a list of names", other.type_str())),
    };
    let mut modifiers = Modifier::empty();
    for name in names {
        let Some(text) = name.as_str() else {
            return Err(format!("has a modifier that is {} rather than a name ({MODIFIER_HELP})", name.type_str()));
        };
        modifiers |=
            parse_modifier(text).ok_or_else(|| format!("has an unknown modifier \"{text}\" ({MODIFIER_HELP})"))?;
    }
    Ok(modifiers)
}

fn parse_modifier(text: &str) -> Option<Modifier> {
    Some(match normalize(text).as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossedout" | "strikethrough" => Modifier::CROSSED_OUT,
        "slowblink" => Modifier::SLOW_BLINK,
        "rapidblink" => Modifier::RAPID_BLINK,
        "hidden" => Modifier::HIDDEN,
        _ => return None,
    })
}

/// Parses `#rrggbb`/`#rgb`, an ANSI index 0-255, `reset` or a ratatui colour name in any case or separator style.
fn parse_color(text: &str) -> Option<Color> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        return parse_hex(hex);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u8>().ok().map(Color::Indexed);
    }
    Some(match normalize(text).as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        // ratatui's Gray is ANSI 7 (light grey) and DarkGray is ANSI 8 ("bright black").
        "gray" | "grey" | "lightgray" | "lightgrey" => Color::Gray,
        "darkgray" | "darkgrey" | "brightblack" => Color::DarkGray,
        "lightred" | "brightred" => Color::LightRed,
        "lightgreen" | "brightgreen" => Color::LightGreen,
        "lightyellow" | "brightyellow" => Color::LightYellow,
        "lightblue" | "brightblue" => Color::LightBlue,
        "lightmagenta" | "brightmagenta" => Color::LightMagenta,
        "lightcyan" | "brightcyan" => Color::LightCyan,
        "white" | "brightwhite" => Color::White,
        _ => return None,
    })
}

fn parse_hex(hex: &str) -> Option<Color> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |digits: &str| u8::from_str_radix(digits, 16).ok();
    match hex.len() {
        6 => Some(Color::Rgb(channel(&hex[0..2])?, channel(&hex[2..4])?, channel(&hex[4..6])?)),
        // #rgb is shorthand for #rrggbb, as in CSS.
        3 => Some(Color::Rgb(channel(&hex[0..1])? * 17, channel(&hex[1..2])? * 17, channel(&hex[2..3])? * 17)),
        _ => None,
    }
}

/// Lower-cases and drops `-`, `_` and spaces so "Dark-Gray", "dark_gray" and "darkgray" all match.
fn normalize(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).map(|c| c.to_ascii_lowercase()).collect()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// A "did you mean" suffix for an unknown slot name, or the list of slot names if nothing is close.
fn slot_hint(unknown: &str) -> String {
    let closest = Theme::SLOT_NAMES.iter().map(|slot| (edit_distance(unknown, slot), *slot)).min();
    match closest {
        Some((distance, slot)) if distance <= 2.max(unknown.len() / 4) => format!(" (did you mean \"{slot}\"?)"),
        _ => format!(" (known slots: {})", Theme::SLOT_NAMES.join(", ")),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_builtins() -> Vec<(Theme, Vec<String>)> {
        Theme::builtin_names().iter().map(|name| Theme::load(name, None)).collect()
    }

    #[test]
    fn builtins_parse_without_warnings_and_differ() {
        let themes = all_builtins();
        for (theme, warnings) in &themes {
            assert!(warnings.is_empty(), "built-in {} warned: {warnings:?}", theme.name);
        }
        let names: Vec<&str> = themes.iter().map(|(t, _)| t.name.as_str()).collect();
        assert_eq!(names, Theme::builtin_names());
        for (i, (a, _)) in themes.iter().enumerate() {
            for (b, _) in &themes[i + 1..] {
                let differing = Theme::SLOT_NAMES.iter().filter(|s| a.slot(s) != b.slot(s)).count();
                assert!(differing > Theme::SLOT_NAMES.len() / 2, "{} and {} are too alike", a.name, b.name);
            }
        }
        assert_eq!(Theme::default(), Theme::dark());
    }

    #[test]
    fn builtin_files_set_every_slot() {
        // Built-ins must stand alone rather than silently inherit from dark or the plain fallback.
        for text in [DARK_TOML, LIGHT_TOML, HIGH_CONTRAST_TOML] {
            let table: toml::Table = text.parse().unwrap();
            let slots = table["slots"].as_table().unwrap();
            for slot in Theme::SLOT_NAMES {
                assert!(slots.contains_key(*slot), "slot {slot} missing from {}", table["name"]);
            }
        }
    }

    #[test]
    fn bands_are_distinct_in_every_builtin() {
        for (theme, _) in all_builtins() {
            let fgs = [theme.band_green.fg, theme.band_yellow.fg, theme.band_red.fg, theme.band_none.fg];
            for (i, a) in fgs.iter().enumerate() {
                assert!(a.is_some(), "{}: band without fg", theme.name);
                assert!(!fgs[i + 1..].contains(a), "{}: band colours collide", theme.name);
            }
        }
    }

    #[test]
    fn high_contrast_aliases() {
        for alias in ["high_contrast", "High-Contrast", "highcontrast"] {
            let (theme, warnings) = Theme::load(alias, None);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(theme.name, "high-contrast");
            assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
        }
    }

    #[test]
    fn missing_slot_falls_back() {
        let dark = Theme::dark();
        let (theme, warnings) = Theme::parse("mine", "[slots]\naccent = { fg = \"magenta\" }\n", &dark);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(theme.name, "mine");
        assert_eq!(theme.accent, Style::default().fg(Color::Magenta));
        assert_eq!(theme.band_red, dark.band_red);
        assert_eq!(theme.selected, dark.selected);
    }

    #[test]
    fn empty_file_is_the_fallback() {
        let dark = Theme::dark();
        let (theme, warnings) = Theme::parse("mine", "", &dark);
        assert!(warnings.is_empty());
        assert_eq!(theme, Theme { name: "mine".into(), ..dark });
    }

    #[test]
    fn bad_values_warn_and_fall_back() {
        let dark = Theme::dark();
        let text = r##"
name = "mine"
[slots]
band_red = { fg = "redd" }
band_green = { fg = "#12345g" }
accent = { fg = "blue", modifiers = ["blod"] }
dim = { fg = "300" }
bordr = { fg = "red" }
title = "red"
card = { colour = "red" }
header = { fg = "white", modifiers = ["bold", "underlined"] }
"##;
        let (theme, warnings) = Theme::parse("mine", text, &dark);
        assert_eq!(warnings.len(), 7, "{warnings:#?}");
        let joined = warnings.join("\n");
        assert!(joined.contains(r#"theme "mine": slot "band_red" has an unknown fg colour "redd""#), "{joined}");
        assert!(joined.contains("using the default for that slot"));
        assert!(joined.contains(r#"unknown modifier "blod""#));
        assert!(joined.contains(r#"unknown slot "bordr" ignored (did you mean "border"?)"#), "{joined}");
        for slot in ["band_red", "band_green", "accent", "dim", "title", "card", "border"] {
            assert_eq!(theme.slot(slot), dark.slot(slot), "slot {slot} should fall back");
        }
        assert_eq!(theme.header, Style::default().fg(Color::White).add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    }

    #[test]
    fn garbage_toml_warns_with_line_number() {
        let dark = Theme::dark();
        let (theme, warnings) = Theme::parse("mine", "name = \"mine\"\n[slots]\nbase = { fg = \n", &dark);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("theme \"mine\""), "{}", warnings[0]);
        assert!(warnings[0].contains("line 3, column"), "{}", warnings[0]);
        assert_eq!(theme, Theme { name: "mine".into(), ..dark });
    }

    #[test]
    fn wrong_shapes_do_not_panic() {
        let dark = Theme::dark();
        for text in [
            "slots = 3",
            "name = 1\nslots = []",
            "[slots]\nbase = { fg = 1.5, bg = [] }",
            "[slots]\nbase = { modifiers = 7 }",
            "[slots]\nbase = { modifiers = [1] }",
            "[slots.base.fg]\nx = 1",
            "extra = true",
        ] {
            let (theme, warnings) = Theme::parse("odd", text, &dark);
            assert!(!warnings.is_empty(), "{text:?} should warn");
            assert_eq!(theme.base, dark.base, "{text:?}");
        }
    }

    #[test]
    fn unknown_theme_warns_and_gives_dark() {
        let dir = tempfile::tempdir().unwrap();
        let (theme, warnings) = Theme::load("solarised", Some(dir.path()));
        assert_eq!(theme, Theme::dark());
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(
                r#"theme "solarised" not found (built-in: dark, light, high-contrast; or put solarised.toml in "#
            ),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].ends_with(r#"; using "dark""#));

        let (_, warnings) = Theme::load("../etc/x", Some(dir.path()));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn user_theme_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), "name = \"mine\"\n[slots]\nbase = { fg = \"#102030\" }\n")
            .unwrap();
        std::fs::write(dir.path().join("light.toml"), "[slots]\naccent = { fg = \"red\" }\n").unwrap();

        let (mine, warnings) = Theme::load("mine", Some(dir.path()));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(mine.name, "mine");
        assert_eq!(mine.base, Style::default().fg(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(mine.band_red, Theme::dark().band_red);

        // A user file named after a built-in replaces it, refining that built-in slot by slot.
        let (light, warnings) = Theme::load("light", Some(dir.path()));
        let builtin_light = Theme::load("light", None).0;
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(light.accent, Style::default().fg(Color::Red));
        assert_eq!(light.base, builtin_light.base);

        let (resolved, _) = Theme::resolve(Some("mine"), Some(dir.path()), false);
        assert_eq!(resolved, mine);
    }

    #[test]
    fn unreadable_user_theme_warns() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be read as text.
        std::fs::create_dir(dir.path().join("light.toml")).unwrap();
        let (theme, warnings) = Theme::load("light", Some(dir.path()));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("could not read"), "{}", warnings[0]);
        assert_eq!(theme, Theme::load("light", None).0);
    }

    #[test]
    fn monochrome_has_no_colours() {
        for (theme, _) in all_builtins() {
            let mono = theme.monochrome();
            for slot in Theme::SLOT_NAMES {
                let style = mono.slot(slot).unwrap();
                assert_eq!((style.fg, style.bg), (None, None), "{}: {slot}", theme.name);
            }
            for style in [mono.selected, mono.selected_unfocused, mono.card_selected] {
                assert!(style.add_modifier.contains(Modifier::REVERSED));
            }
            for style in [mono.border_focused, mono.title_focused] {
                assert!(style.add_modifier.contains(Modifier::BOLD));
            }
        }
        let (resolved, warnings) = Theme::resolve(None, None, true);
        assert!(warnings.is_empty());
        assert_eq!(resolved, Theme::dark().monochrome());
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("#ff8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("#F80"), Some(Color::Rgb(255, 136, 0)));
        assert_eq!(parse_color("123"), Some(Color::Indexed(123)));
        assert_eq!(parse_color("0"), Some(Color::Indexed(0)));
        assert_eq!(parse_color("256"), None);
        assert_eq!(parse_color("#12345"), None);
        assert_eq!(parse_color("#ééé"), None);
        assert_eq!(parse_color("reset"), Some(Color::Reset));
        for name in ["dark-gray", "dark_gray", "darkgray", "DarkGray"] {
            assert_eq!(parse_color(name), Some(Color::DarkGray), "{name}");
        }
        assert_eq!(parse_color("light-blue"), Some(Color::LightBlue));
        assert_eq!(parse_color("gray"), Some(Color::Gray));
        assert_eq!(parse_color("redd"), None);
        assert_eq!(parse_modifier("crossed-out"), Some(Modifier::CROSSED_OUT));
        assert_eq!(parse_modifier("crossed_out"), Some(Modifier::CROSSED_OUT));
        assert_eq!(parse_modifier("slow_blink"), Some(Modifier::SLOW_BLINK));

        let (theme, warnings) =
            Theme::parse("t", "[slots]\nbase = { fg = 42, bg = \"#000000\", modifiers = \"italic\" }", &Theme::dark());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            theme.base,
            Style::new().fg(Color::Indexed(42)).bg(Color::Rgb(0, 0, 0)).add_modifier(Modifier::ITALIC)
        );
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé\nx", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé\nx", 8), (3, 1));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
