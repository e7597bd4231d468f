//! The TOML config: where it lives, what it holds, and messages that point
//! at the line and column of a mistake. A bad config never stops the
//! cockpit: the bad parts fall back to defaults and the problems are shown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::domain::flags::FlagRules;
use crate::domain::health_model::Model;

use crate::domain::reply::Template;
use crate::domain::Bands;
use crate::sync::source::{RawSource, Source};
use crate::tui::keymap::parse_binding;
use crate::tui::theme::Theme;

/// The config file, as written by the user.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<Spanned<String>>,
    data_dir: Option<PathBuf>,
    author: Option<String>,
    #[serde(default)]
    health: RawHealth,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    sync: RawSync,
    /// Saved replies: name = text.
    #[serde(default)]
    replies: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    every_minutes: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    bands: Option<Spanned<Bands>>,
    model: Option<Spanned<PathBuf>>,
    flags: Option<Spanned<FlagRules>>,
}

/// Where the config points for a health model file, and where it says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// The path as written (relative paths are from the config's folder).
    pub path: PathBuf,
    /// Line of the setting.
    pub line: usize,
    /// Column of the setting.
    pub column: usize,
}

/// The settings in force after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Theme name (`dark` when unset).
    pub theme: Option<String>,
    /// Default workspace directory.
    pub data_dir: Option<PathBuf>,
    /// Name written on timeline entries.
    pub author: Option<String>,
    /// Health band thresholds.
    pub bands: Bands,
    /// The health model in force.
    pub health_model: Model,
    /// The model file the config names, if it names one.
    pub model_file: Option<ModelFile>,
    /// Churn-risk flag thresholds.
    pub flags: FlagRules,
    /// Valid key bindings laid over the defaults.
    pub keys: Vec<(String, String)>,
    /// Valid sources, in file order.
    pub sources: Vec<Source>,
    /// Minutes between background syncs in the cockpit (0 = only on `r`).
    pub sync_every_minutes: u32,
    /// Saved replies: the built-in ones, then `[replies]`, then the
    /// `replies/` folder beside the config (a name given twice: the last wins).
    pub replies: Vec<Template>,
}

/// Minutes between background syncs unless configured.
pub const DEFAULT_SYNC_MINUTES: u32 = 15;

impl Default for Config {
    fn default() -> Self {
        Config {
            theme: None,
            data_dir: None,
            author: None,
            bands: Bands::default(),
            health_model: Model::builtin(),
            model_file: None,
            flags: FlagRules::default(),
            keys: Vec::new(),
            sources: Vec::new(),
            sync_every_minutes: DEFAULT_SYNC_MINUTES,
            replies: crate::domain::reply::builtin(),
        }
    }
}

/// A problem in the config file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl ConfigIssue {
    fn at(text: &str, offset: usize, message: impl Into<String>) -> ConfigIssue {
        let (line, column) = line_col(text, offset);
        ConfigIssue { line, column, message: message.into() }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses config text. Never fails: what cannot be used is reported and
/// replaced by its default.
pub fn parse(text: &str, themes_dir: Option<&Path>) -> (Config, Vec<ConfigIssue>) {
    let raw: RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim().to_string();
            return (
                Config::default(),
                vec![ConfigIssue::at(text, offset, format!("{msg}; using the default settings"))],
            );
        }
    };
    let mut issues = Vec::new();
    let mut config = Config { data_dir: raw.data_dir, author: raw.author, ..Config::default() };
    if let Some(theme) = raw.theme {
        let (_, warnings) = Theme::load(theme.get_ref(), themes_dir);
        match warnings.first() {
            Some(w) => issues.push(ConfigIssue::at(text, theme.span().start, w.clone())),
            None => config.theme = Some(theme.into_inner()),
        }
    }
    if let Some(bands) = raw.health.bands {
        match bands.get_ref().validate() {
            Ok(()) => config.bands = *bands.get_ref(),
            Err(e) => issues.push(ConfigIssue::at(text, bands.span().start, format!("{e}; using 70 / 40"))),
        }
    }
    if let Some(flags) = raw.health.flags {
        config.flags = flags.into_inner();
    }
    if let Some(model) = raw.health.model {
        let (line, column) = line_col(text, model.span().start);
        config.model_file = Some(ModelFile { path: model.into_inner(), line, column });
    }
    for (key, action) in raw.keys {
        if action.get_ref() == "none" {
            config.keys.push((key.into_inner(), action.into_inner()));
            continue;
        }
        match parse_binding(key.get_ref(), action.get_ref()) {
            Ok(_) => config.keys.push((key.into_inner(), action.into_inner())),
            Err(e) => issues.push(ConfigIssue::at(text, key.span().start, format!("[keys] {e}; binding skipped"))),
        }
    }
    for raw_source in raw.source {
        let at = raw_source.span().start;
        match raw_source.into_inner().validate() {
            Ok(src) if config.sources.iter().any(|s| s.name == src.name) => issues.push(ConfigIssue::at(
                text,
                at,
                format!("two sources are named \"{}\"; give each [[source]] its own name = \"...\"", src.name),
            )),
            Ok(src) => config.sources.push(src),
            Err(e) => issues.push(ConfigIssue::at(text, at, format!("{e}; source skipped"))),
        }
    }
    if let Some(every) = raw.sync.every_minutes {
        config.sync_every_minutes = every.into_inner();
    }
    for (name, text) in raw.replies {
        add_reply(&mut config.replies, Template { name, text });
    }
    (config, issues)
}

/// A config read from disk.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The settings.
    pub config: Config,
    /// The file they came from, if any.
    pub path: Option<PathBuf>,
    /// Problems, each rendered as `path:line:column: message`.
    pub issues: Vec<String>,
}

/// Reads the config from `explicit` (which must exist) or from the default
/// path (which may be absent).
pub fn load(
    explicit: Option<&Path>,
    default_path: Option<PathBuf>,
    themes_dir: Option<&Path>,
) -> Result<Loaded, String> {
    let path = match (explicit, default_path) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) if p.exists() => p,
        _ => return Ok(Loaded::default()),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read the config file {}: {e}; check the path given with --config or COCKPIT_CONFIG",
            path.display()
        )
    })?;
    let (mut config, issues) = parse(&text, themes_dir);
    let mut issues: Vec<String> =
        issues.iter().map(|i| format!("{}:{}:{}: {}", path.display(), i.line, i.column, i.message)).collect();
    issues.extend(load_replies_dir(&path.with_file_name("replies"), &mut config.replies));
    if let Some(file) = config.model_file.clone() {
        let (model, model_issues) = load_model(&path, &file);
        config.health_model = model;
        issues.extend(model_issues);
    }
    Ok(Loaded { config, path: Some(path), issues })
}

/// Adds a saved reply, replacing one of the same name.
fn add_reply(replies: &mut Vec<Template>, t: Template) {
    match replies.iter_mut().find(|r| r.name == t.name) {
        Some(r) => *r = t,
        None => replies.push(t),
    }
}

/// Reads `replies/*.txt` and `*.md` beside the config: one saved reply per
/// file, named by the file's stem. Returns the problems found.
pub fn load_replies_dir(dir: &Path, replies: &mut Vec<Template>) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("txt" | "md")))
        .collect();
    files.sort();
    let mut issues = Vec::new();
    for path in files {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_string) else { continue };
        match std::fs::read_to_string(&path) {
            Ok(text) => add_reply(replies, Template { name, text }),
            Err(e) => issues.push(format!("{}: cannot read this saved reply ({e}); it is skipped", path.display())),
        }
    }
    issues
}

/// Where the last model that passed its checks is kept, beside the config.
fn last_good_path(config: &Path) -> PathBuf {
    config.with_file_name(".health-model.last-good.toml")
}

/// Reads the health model file the config names. A model with a mistake
/// is rejected whole, with the line of each mistake; the cockpit then runs
/// on the last model that passed (kept beside the config), else the
/// built-in one.
pub fn load_model(config_path: &Path, file: &ModelFile) -> (Model, Vec<String>) {
    let path = match file.path.is_absolute() {
        true => file.path.clone(),
        false => config_path.parent().unwrap_or(Path::new(".")).join(&file.path),
    };
    let fallback = || -> (Model, String) {
        match std::fs::read_to_string(last_good_path(config_path)).ok().and_then(|t| Model::parse(&t).ok()) {
            Some(m) => {
                let what = format!("using the last good model (version {})", m.version);
                (m, what)
            }
            None => (Model::builtin(), "using the built-in model".to_string()),
        }
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            let (model, using) = fallback();
            let at = format!("{}:{}:{}", config_path.display(), file.line, file.column);
            return (model, vec![format!("{at}: cannot read the health model {}: {e}; {using}", path.display())]);
        }
    };
    match Model::parse(&text) {
        Ok(model) => {
            // Best effort: a read-only config folder only loses the fallback.
            let _ = std::fs::write(last_good_path(config_path), &text);
            (model, Vec::new())
        }
        Err(found) => {
            let (model, using) = fallback();
            let issues = found
                .iter()
                .map(|i| {
                    let (line, column) = line_col(&text, i.offset);
                    format!("{}:{line}:{column}: {}; the model is not used, {using}", path.display(), i.message)
                })
                .collect();
            (model, issues)
        }
    }
}

/// An example config, printed by `cockpit config example`.
pub const EXAMPLE: &str = r#"# Cockpit config (TOML). Every setting is optional.

# Theme: dark (default), light, high-contrast, or the name of a .toml file
# in the themes directory next to this file.
theme = "dark"

# Name written on timeline entries you create.
# author = "Dana Whitfield"

# Default workspace directory (--data-dir and COCKPIT_DATA_DIR override it).
# data_dir = "/home/me/cockpit-workspace"

[health]
# Your own health model, next to this file (`cockpit health model` prints
# the built-in one to start from; `cockpit config check` validates it).
# model = "health.toml"

[health.bands]
green = 70   # scores >= green are green
yellow = 40  # scores >= yellow are yellow, below are red

# Churn-risk flags: each raises one follow-up when it starts to hold, and
# again only after it has cleared and come back.
[health.flags]
usage_drop_below = 0.7   # usage under 70% of the account's own baseline
silence_days = 30        # no two-way contact for this many days
ticket_load = 6          # open tickets + 2 x escalated
detractor_max = 6        # latest NPS answer at or below this
past_due_days = 15       # an invoice this many days past due
score_drop_points = 15   # health fell more than this in 7 days
overage_above = 1.0      # active users / seats above this: paying overages

# A proactive check-in, with a reason to call, after this many days without
# two-way contact (accounts in stable use; 0 turns a segment off).
[health.flags.check_in]
enterprise = 7
mid_market = 30
smb = 90

# Lifecycle follow-ups, each raised once while its moment holds.
[health.flags.lifecycle]
kickoff_days = 3                # hold both kick-offs within this many days of signature
check_in_hours = 48             # first check-in this many hours into onboarding
proficiency_days = 30           # proficiency check this many days into onboarding...
proficiency_coverage = 0.8      # ...or once this share of the onboarding plan is done
renewal_prep_days = 90          # renewal preparation from this many days before renewal
renewal_signing_days = 30       # renewal signing from this many days before renewal
nps_after_onboarding_days = 30  # NPS survey during this many days after onboarding ends
nps_before_renewal_days = 120   # NPS survey from this many days before renewal until prep
nps_recent_days = 90            # an NPS answer this recent needs no new survey
onboarding_ends_day = 60        # onboarding ends this many days after signature, unless the timeline says

[keys]
# key = "action"; "none" unbinds a default. `cockpit` shows every action with `?`.
# "ctrl-n" = "down"
# "x" = "none"

[sync]
every_minutes = 15   # background sync in the cockpit; 0 = only when you press r

# Saved replies for R on a ticket item, beside the built-in follow-up,
# next-steps and closing ones (the same name replaces one). A `replies/`
# folder next to this file adds one reply per .txt or .md file, named by
# the file. Variables: {first_name} {requester} {subject} {ticket}
# {account} {csm}. The editor opens with the filled text before sending.
[replies]
# thanks = "Hi {first_name},\n\nThanks for confirming on \"{subject}\".\n\n{csm}"

# Sources: the secret is never written here, only the NAME of the
# environment variable that holds it.
# [[source]]
# name = "crm"
# kind = "hubspot"
# token_env = "HUBSPOT_TOKEN"          # a private app token
# [source.properties]                  # company properties -> account fields
# arr = "arr"
# renewal_date = "renewal_date"
# stage = "cs_stage"
#
# [[source]]
# name = "support"
# kind = "zendesk"
# base_url = "https://yourcompany.zendesk.com"
# email = "you@yourcompany.com"
# token_env = "ZENDESK_API_TOKEN"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_replies_come_from_the_config_and_the_replies_folder() {
        let (c, issues) = parse("[replies]\nthanks = \"Thanks {first_name}\"\nclosing = \"Bye\"\n", None);
        assert!(issues.is_empty(), "{issues:?}");
        let names: Vec<&str> = c.replies.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["follow-up", "next-steps", "closing", "thanks"]);
        assert_eq!(c.replies[2].text, "Bye", "the same name replaces the built-in one");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "[replies]\nthanks = \"x\"\n").unwrap();
        std::fs::create_dir(dir.path().join("replies")).unwrap();
        std::fs::write(dir.path().join("replies/renewal.md"), "Hi {first_name}, about the renewal").unwrap();
        std::fs::write(dir.path().join("replies/thanks.txt"), "Thanks from the folder").unwrap();
        std::fs::write(dir.path().join("replies/notes.docx"), "ignored").unwrap();
        let loaded = load(Some(&dir.path().join("config.toml")), None, None).unwrap();
        let r = &loaded.config.replies;
        assert_eq!(r.iter().find(|t| t.name == "thanks").unwrap().text, "Thanks from the folder");
        assert!(r.iter().any(|t| t.name == "renewal"));
        assert!(!r.iter().any(|t| t.name == "notes"));
    }

    #[test]
    fn empty_and_example_configs_are_clean() {
        assert_eq!(parse("", None), (Config::default(), vec![]));
        let (c, issues) = parse(EXAMPLE, None);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.theme.as_deref(), Some("dark"));
        assert_eq!(c.bands, Bands::default());
    }

    #[test]
    fn syntax_error_points_at_line_and_column() {
        let (c, issues) = parse("theme = \"dark\"\n[health.bands]\ngreen = = 3\n", None);
        assert_eq!(c, Config::default());
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, 3);
        assert_eq!(issues[0].column, 9);
        assert!(issues[0].message.contains("using the default settings"));
    }

    #[test]
    fn unknown_field_is_named() {
        let (_, issues) = parse("\n\nthemes = \"dark\"\n", None);
        assert_eq!(issues[0].line, 3);
        assert!(issues[0].message.contains("themes"), "{}", issues[0].message);
    }

    #[test]
    fn bad_bands_fall_back_with_a_clear_message() {
        let (c, issues) = parse("[health.bands]\ngreen = 30\nyellow = 50\n", None);
        assert_eq!(c.bands, Bands::default());
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("must be below"), "{}", issues[0].message);
        assert_eq!(issues[0].line, 1, "points at the [health.bands] table");
    }

    #[test]
    fn bad_keys_and_theme_are_reported_and_skipped() {
        let text = "theme = \"neon\"\n[keys]\n\"x\" = \"quit\"\n\"y\" = \"fly\"\n\"ctrl-c\" = \"help\"\n";
        let (c, issues) = parse(text, None);
        assert_eq!(c.theme, None);
        assert_eq!(c.keys, vec![("x".to_string(), "quit".to_string())]);
        assert_eq!(issues.len(), 3, "{issues:?}");
        assert_eq!((issues[0].line, issues[0].column), (1, 9));
        assert!(issues[0].message.contains("neon"));
        assert!(issues.iter().any(|i| i.line == 4 && i.message.contains("\"fly\" is not an action")));
        assert!(issues.iter().any(|i| i.line == 5 && i.message.contains("cannot be rebound")));
    }

    #[test]
    fn load_reports_path_line_and_column() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("config.toml");
        std::fs::write(&p, "theme = 3\n").unwrap();
        let l = load(Some(&p), None, None).unwrap();
        assert_eq!(l.issues.len(), 1);
        assert!(l.issues[0].starts_with(&format!("{}:1:9: ", p.display())), "{}", l.issues[0]);
        assert!(load(Some(&tmp.path().join("missing.toml")), None, None).unwrap_err().contains("cannot read"));
        let absent = load(None, Some(tmp.path().join("nope.toml")), None).unwrap();
        assert!(absent.path.is_none() && absent.issues.is_empty());
    }

    #[test]
    fn sources_are_validated_with_their_line() {
        let text =
            "[[source]]\nkind = \"hubspot\"\n\n[[source]]\nkind = \"zendesk\"\n\n[[source]]\nkind = \"hubspot\"\n";
        let (c, issues) = parse(text, None);
        assert_eq!(c.sources.len(), 1);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert_eq!(issues[0].line, 4);
        assert!(issues[0].message.contains("base_url is required"));
        assert_eq!(issues[1].line, 7);
        assert!(issues[1].message.contains("two sources are named \"hubspot\""));
        let (_, issues) = parse("[[source]]\nkind = \"salesforce\"\n", None);
        assert!(issues[0].message.contains("salesforce"), "{issues:?}");
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
