//! The TOML config: where it lives, what it holds, and messages that point
//! at the line and column of a mistake. A bad config never stops the
//! cockpit: the bad parts fall back to defaults and the problems are shown.

pub mod action;
pub mod calendar;
mod health;
pub mod keys;
mod sources;
mod table;
pub mod theme;

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::domain::flags::FlagRules;
use crate::domain::health_model::Model;

use crate::domain::reply::Template;
use crate::domain::write_back::WriteBack;
use crate::domain::Bands;
use crate::sync::source::Source;
use keys::{KeyMode, Keymap};
use table::{as_text, closest, Report, Table};
use theme::Theme;

/// The keys of the top level of the file.
const TOP_KEYS: &[&str] =
    &["theme", "data_dir", "author", "timezone", "working_hours", "health", "keys", "source", "sync", "replies"];

/// Longest background sync interval: a week, in minutes.
const MAX_SYNC_MINUTES: i64 = 7 * 24 * 60;

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
    /// Every mode's keymap: the defaults with the valid entries of `[keys]`
    /// and `[keys.MODE]` laid over them.
    pub keys: Keymap,
    /// Valid sources, in file order.
    pub sources: Vec<Source>,
    /// Minutes between background syncs in the cockpit (0 = only on `r`).
    pub sync_every_minutes: u32,
    /// Saved replies: the built-in ones, then `[replies]`, then the
    /// `replies/` folder beside the config (a name given twice: the last wins).
    pub replies: Vec<Template>,
    /// The zone the config names (none: `TZ`, else the system's).
    pub timezone: Option<chrono_tz::Tz>,
    /// When the user works, in their zone.
    pub working_hours: crate::domain::calendar::WorkingHours,
    /// The zone and hours in force: `timezone`, else `TZ`, else the
    /// system's (set where the environment is read, see
    /// `calendar::for_process`; UTC until then).
    pub calendar: crate::domain::calendar::Calendar,
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
            keys: Keymap::default(),
            sources: Vec::new(),
            sync_every_minutes: DEFAULT_SYNC_MINUTES,
            replies: crate::domain::reply::builtin(),
            timezone: None,
            working_hours: Default::default(),
            calendar: Default::default(),
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
        // Messages quote keys and names from the file: they must not drive
        // the terminal they are printed on.
        let message = crate::domain::text::sanitize(&message.into()).into_owned();
        ConfigIssue { line, column, message }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses config text. Never fails: a value that cannot be used falls back
/// alone to its default (a source with one is skipped), an unknown key is
/// ignored, and each is reported where it is written, in file order. Only
/// text that is not TOML at all falls back to the defaults whole.
pub fn parse(text: &str, themes_dir: Option<&Path>) -> (Config, Vec<ConfigIssue>) {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim().trim_end_matches('.').to_string();
            let message = format!(
                "{msg}: this is not valid TOML, so none of the file is used (using the default settings, no sources) until it is fixed"
            );
            return (Config::default(), vec![ConfigIssue::at(text, offset, message)]);
        }
    };
    let mut report = Report::new(text);
    let mut config = Config::default();
    let mut top = Table::new(doc.into_inner(), "at the top level", "", TOP_KEYS);
    match top.text("theme") {
        Some(Ok(theme)) => {
            let (_, warnings) = Theme::load(theme.get_ref(), themes_dir);
            match warnings.first() {
                Some(w) => report.at(theme.span().start, w.clone()),
                None => config.theme = Some(theme.into_inner()),
            }
        }
        Some(Err(bad)) => report.at(bad.at, format!("{}; using the default theme", bad.message)),
        None => {}
    }
    match top.text("data_dir") {
        Some(Ok(dir)) => config.data_dir = Some(PathBuf::from(dir.into_inner())),
        Some(Err(bad)) => report.at(bad.at, format!("{}; using the default workspace", bad.message)),
        None => {}
    }
    match top.text("author") {
        Some(Ok(author)) => config.author = Some(author.into_inner()),
        Some(Err(bad)) => report.at(bad.at, format!("{}; using your login name", bad.message)),
        None => {}
    }
    calendar::read_zone(&mut report, &mut top, &mut config);
    if let Some((t, _)) = top.table(&mut report, "working_hours") {
        calendar::read_hours(&mut report, t, &mut config);
    }
    let write_back = match top.table(&mut report, "health") {
        Some((t, _)) => health::read(&mut report, t, text, &mut config),
        None => None,
    };
    if let Some((t, _)) = top.table(&mut report, "keys") {
        read_keys(&mut report, Table::new(t, "in [keys]", "keys.", &[]), &mut config.keys, KeyMode::Normal);
    }
    if let Some((value_at, value)) = top.take("source") {
        sources::read(&mut report, value, &mut config.sources);
        // Named metrics take the model's metric slots in name order.
        let mut names: Vec<String> = config
            .sources
            .iter()
            .flat_map(|s| s.properties.signals.keys())
            .filter_map(|k| match k {
                crate::domain::observed::Signal::Metric(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        if names.len() > crate::domain::health::METRIC_SLOTS {
            report.at(
                value_at.start,
                format!(
                    "{} named metrics are mapped; the health model can read {} ({}); the others are kept and shown but not scored",
                    names.len(),
                    crate::domain::health::METRIC_SLOTS,
                    names[..crate::domain::health::METRIC_SLOTS].join(", ")
                ),
            );
        }
        crate::domain::health::register_metrics(&names);
    }
    if let Some((t, _)) = top.table(&mut report, "sync") {
        let mut sync = Table::new(t, "in [sync]", "sync.", &["every_minutes"]);
        sync.set_whole(&mut report, "every_minutes", 0..=MAX_SYNC_MINUTES, &mut config.sync_every_minutes);
        sync.finish(&mut report);
    }
    if let Some((t, _)) = top.table(&mut report, "replies") {
        for (name, value) in Table::new(t, "in [replies]", "replies.", &[]).drain() {
            let name = name.into_inner().into_owned();
            match as_text(value) {
                Ok(text) => add_reply(&mut config.replies, Template { name, text: text.into_inner() }),
                Err((at, shown)) => {
                    report.at(at, format!("replies.{name} must be text in quotes, not {shown}; reply skipped"))
                }
            }
        }
    }
    if let Some((wb, at)) = write_back {
        attach_write_back(&mut report, wb, at, &mut config.sources);
    }
    top.finish(&mut report);
    let mut issues = report.issues;
    issues.sort_by_key(|i| (i.line, i.column));
    (config, issues)
}

/// Gives `[health.write_back]` to the HubSpot source it names, or to the
/// first one; without one, nothing is written back and the CSM is told.
fn attach_write_back(report: &mut Report, wb: WriteBack, at: usize, sources: &mut [Source]) {
    use crate::sync::source::Kind;
    let found = match &wb.source {
        Some(name) => match sources.iter().position(|s| s.name == *name) {
            Some(i) if sources[i].kind == Kind::Hubspot => Some(i),
            Some(_) => {
                let m = format!(
                    "health.write_back.source names \"{name}\", which is not a HubSpot source; name a [[source]] \
                     with kind = \"hubspot\"; the health is not written back"
                );
                report.at(at, m);
                return;
            }
            None => {
                let m = format!(
                    "health.write_back.source names \"{name}\", but no usable [[source]] has that name; the health \
                     is not written back"
                );
                report.at(at, m);
                return;
            }
        },
        None => sources.iter().position(|s| s.kind == Kind::Hubspot),
    };
    match found {
        Some(i) => sources[i].write_back = Some(wb),
        None => report.at(
            at,
            "[health.write_back] needs a HubSpot source ([[source]] with kind = \"hubspot\"); the health is not \
             written back",
        ),
    }
}

/// `[keys]`: key = "action" (or "none"), each binding checked alone and
/// laid over the mode's defaults; `[keys.MODE]` tables do the same for the
/// other modes (`[keys]` itself is the panes').
fn read_keys(report: &mut Report, mut table: Table<'_>, keys: &mut Keymap, mode: KeyMode) {
    let place = mode.table();
    for (key, value) in table.drain() {
        let (at, key) = (key.span().start, key.into_inner().into_owned());
        if let (KeyMode::Normal, toml::de::DeValue::Table(_)) = (mode, value.get_ref()) {
            let toml::de::DeValue::Table(t) = value.into_inner() else { continue };
            match KeyMode::from_table(&key) {
                Some(sub) => read_keys(report, Table::new(t, "", "", &[]), keys, sub),
                None => {
                    let near =
                        closest(&key, KeyMode::TABLES).map_or(String::new(), |k| format!("did you mean \"{k}\"? "));
                    report.at(
                        at,
                        format!(
                            "[keys.{key}] is not a mode with keys; {near}the modes are: {} (ignored)",
                            KeyMode::TABLES.join(", ")
                        ),
                    );
                }
            }
            continue;
        }
        let action = match as_text(value) {
            Ok(a) => a.into_inner(),
            Err((at, shown)) => {
                report.at(at, format!("{place} \"{key}\" must name an action in quotes, not {shown}; binding skipped"));
                continue;
            }
        };
        if let Err(e) = keys.bind(mode, &key, &action) {
            report.at(at, format!("{place} {e}; binding skipped"));
        }
    }
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

# Your time zone: "today", every time shown and typed, and working hours
# are in it. Unset: TZ, else the system's zone.
# timezone = "Europe/Paris"

# When you work. An item raised outside these hours falls due at the next
# working hour; "snooze a day" means the next working day at `start`.
[working_hours]
start = "09:00"
end = "17:00"
days = ["mon", "tue", "wed", "thu", "fri"]

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

# The score back in HubSpot: after the daily pass, each account whose score,
# band or top reason changed is written to its company (batches of 100), so
# the team sees every account's health in HubSpot's lists and dashboards.
# Create the properties in HubSpot first; name at least one.
# [health.write_back]
# score = "cockpit_health_score"    # a number property
# band = "cockpit_health_band"      # a dropdown (green, yellow, red) or text
# reason = "cockpit_health_reason"  # a single-line or multi-line text
# source = "crm"                    # which HubSpot source; the first by default

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
# The other modes have tables of their own, in the same form: filter,
# sentiment, outbox, help, detail, metrics, editor (its command keys; typed
# text stays text) and picker. The hints follow what you bind.
# [keys.outbox]
# "X" = "discard"
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
#
# [[source]]
# name = "billing"
# kind = "stripe"
# token_env = "STRIPE_SECRET_KEY"      # a restricted key with read access is enough
# match_metadata = "hubspot_company_id" # customer metadata key holding the CRM company id
# currency = "usd"                     # the book's currency
# [source.rates]                       # customers billed in another currency:
# eur = 1.08                           # what one EUR is worth in USD
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
        assert!(issues[0].message.contains("not valid TOML"), "{}", issues[0].message);
        assert!(issues[0].message.contains("using the default settings, no sources"), "{}", issues[0].message);
    }

    /// The (line, column, message) of each issue, for exact comparisons.
    fn found(issues: &[ConfigIssue]) -> Vec<(usize, usize, &str)> {
        issues.iter().map(|i| (i.line, i.column, i.message.as_str())).collect()
    }

    #[test]
    fn unknown_field_is_named() {
        let (c, issues) = parse("\n\nthemes = \"light\"\nauthor = \"Dana\"\n", None);
        assert_eq!(c.author.as_deref(), Some("Dana"));
        assert_eq!(c.theme, None);
        assert_eq!(
            found(&issues),
            [(3, 1, "unknown key \"themes\" at the top level; did you mean \"theme\"? (ignored)")]
        );
    }

    /// The brief's case: an unknown key, a typo in a source, a wrong type,
    /// and a valid source, which must still sync.
    #[test]
    fn a_typo_and_a_wrong_type_lose_only_themselves() {
        let text = "colour = \"blue\"\n\
                    author = \"Dana\"\n\
                    \n\
                    [sync]\n\
                    every_minutes = \"ten\"\n\
                    \n\
                    [[source]]\n\
                    name = \"crm\"\n\
                    kind = \"hubspot\"\n\
                    tokn_env = \"CRM_TOKEN\"\n";
        let (c, issues) = parse(text, None);
        assert_eq!(c.author.as_deref(), Some("Dana"));
        assert_eq!(c.sync_every_minutes, DEFAULT_SYNC_MINUTES);
        assert_eq!(c.sources.len(), 1, "{issues:?}");
        assert_eq!(c.sources[0].name, "crm");
        assert_eq!(c.sources[0].auth.env_name(), "HUBSPOT_TOKEN", "the misspelt key is not read");
        assert_eq!(
            found(&issues),
            [
                (
                    1,
                    1,
                    "unknown key \"colour\" at the top level (ignored); the keys here are theme, data_dir, author, \
                     timezone, working_hours, health, keys, source, sync, replies"
                ),
                (5, 17, "sync.every_minutes must be a whole number from 0 to 10080, not text; using the default (15)"),
                (10, 1, "unknown key \"tokn_env\" in [[source]] \"crm\"; did you mean \"token_env\"? (ignored)"),
            ]
        );
    }

    #[test]
    fn health_inputs_and_named_metrics_map_to_company_properties() {
        use crate::domain::observed::Signal;
        let text = "[[source]]\n\
                    name = \"crm\"\n\
                    kind = \"hubspot\"\n\
                    [source.properties]\n\
                    active_users = \"active_users_30d\"\n\
                    invoice_status = \"invoice_status\"\n\
                    [source.metrics]\n\
                    reports_run = \"reports_30d\"\n\
                    exports = \"exports_30d\"\n";
        let (c, issues) = parse(text, None);
        assert!(issues.is_empty(), "{issues:?}");
        let map = &c.sources[0].properties;
        assert_eq!(map.signals.get(&Signal::ActiveUsers).map(String::as_str), Some("active_users_30d"));
        assert_eq!(map.signals.get(&Signal::Overdue).map(String::as_str), Some("invoice_status"));
        assert_eq!(map.signals.get(&Signal::Metric("reports_run".into())).map(String::as_str), Some("reports_30d"));
        let requested = map.requested();
        assert!(requested.contains(&"reports_30d".to_string()) && requested.contains(&"active_users_30d".to_string()));
        assert!(map.with_history().contains(&"seats".to_string()), "seats' history is read too");

        let bad = "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\n[source.metrics]\n\"Reports Run\" = \"x\"\n";
        let (c, issues) = parse(bad, None);
        assert!(c.sources.is_empty());
        assert!(issues[0].message.contains("metrics.Reports Run is not a usable name"), "{issues:?}");
        let builtin = "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\n[source.metrics]\nnps = \"x\"\n";
        let (_, issues) = parse(builtin, None);
        assert!(issues[0].message.contains("the name of a built-in input"), "{issues:?}");
        let not_text = "[[source]]\nname = \"crm\"\nkind = \"hubspot\"\n[source.metrics]\nruns = 3\n";
        let (_, issues) = parse(not_text, None);
        assert!(issues[0].message.contains("metrics.runs must be the name of a company property"), "{issues:?}");
        let desk = "[[source]]\nname = \"d\"\nkind = \"zendesk\"\nbase_url = \"https://a.zendesk.com\"\n\
                    [source.metrics]\nruns = \"x\"\n";
        let (_, issues) = parse(desk, None);
        assert!(issues[0].message.contains("metrics apply to HubSpot sources only"), "{issues:?}");
    }

    #[test]
    fn write_back_goes_to_the_hubspot_source_it_names_and_bad_keys_lose_only_themselves() {
        let sources = "[[source]]\nname = \"desk\"\nkind = \"zendesk\"\nbase_url = \"https://a.zendesk.com\"\n\
                       email = \"a@b.com\"\n\
                       [[source]]\nname = \"crm\"\nkind = \"hubspot\"\n\
                       [[source]]\nname = \"crm2\"\nkind = \"hubspot\"\n";
        let text = format!(
            "[health.write_back]\nscore = \"cockpit_health_score\"\nband = \"Health Band\"\n\
             reason = \"cockpit_health_score\"\nsource = \"crm2\"\nsorce = 1\n{sources}"
        );
        let (c, issues) = parse(&text, None);
        let wb = c.sources.iter().find(|s| s.name == "crm2").and_then(|s| s.write_back.clone()).expect("attached");
        assert_eq!(
            (wb.score.as_deref(), wb.band, wb.reason, wb.source.as_deref()),
            (Some("cockpit_health_score"), None, None, Some("crm2"))
        );
        assert!(c.sources.iter().filter(|s| s.write_back.is_some()).count() == 1);
        let f = found(&issues);
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!((f[0].0, f[0].1), (3, 8));
        assert!(f[0].2.starts_with("health.write_back.band must be a HubSpot company property's internal name"));
        assert!(!f[0].2.contains("Health Band"), "what was written is never quoted: {}", f[0].2);
        assert_eq!(
            f[1],
            (
                4,
                10,
                "health.write_back.reason names the same property as health.write_back.score; each needs a \
                 property of its own, so the reason is not written"
            )
        );
        assert_eq!(f[2].0, 6);
        assert!(f[2].2.contains("did you mean \"source\""), "{}", f[2].2);

        // No source named: the first HubSpot one.
        let (c, issues) = parse(&format!("[health.write_back]\nband = \"cockpit_health_band\"\n{sources}"), None);
        assert!(issues.is_empty(), "{issues:?}");
        assert!(c.sources.iter().find(|s| s.name == "crm").unwrap().write_back.is_some());
        // A Zendesk source, no HubSpot source, or no property: nothing is written back, and why.
        let (c, issues) = parse(&format!("[health.write_back]\nband = \"b\"\nsource = \"desk\"\n{sources}"), None);
        assert!(c.sources.iter().all(|s| s.write_back.is_none()));
        assert!(found(&issues)[0].2.contains("\"desk\", which is not a HubSpot source"), "{issues:?}");
        let (c, issues) = parse("[health.write_back]\nscore = \"s\"\n", None);
        assert!(c.sources.is_empty());
        assert_eq!(found(&issues)[0].0, 1);
        assert!(found(&issues)[0].2.contains("needs a HubSpot source"), "{issues:?}");
        let (_, issues) = parse("[health.write_back]\nsource = \"crm\"\n", None);
        assert!(found(&issues)[0].2.contains("names no usable company property"), "{issues:?}");
    }

    #[test]
    fn unknown_keys_are_found_at_every_level() {
        let text = "[health]\n\
                    modle = \"h.toml\"\n\
                    [health.bands]\n\
                    gren = 80\n\
                    [health.flags]\n\
                    silence_day = 10\n\
                    [health.flags.check_in]\n\
                    enterprize = 3\n\
                    [health.flags.lifecycle]\n\
                    kickof_days = 2\n\
                    [sync]\n\
                    every_minute = 5\n\
                    [[source]]\n\
                    kind = \"hubspot\"\n\
                    [source.properties]\n\
                    ar = \"annual_revenue\"\n\
                    stage = \"lifecycle\"\n\
                    [healthh]\n";
        let (c, issues) = parse(text, None);
        let near: Vec<(usize, &str)> = issues
            .iter()
            .map(|i| (i.line, i.message.split("did you mean ").nth(1).unwrap_or("-").trim_end_matches("? (ignored)")))
            .collect();
        assert_eq!(
            near,
            [
                (2, "\"model\""),
                (4, "\"green\""),
                (6, "\"silence_days\""),
                (8, "\"enterprise\""),
                (10, "\"kickoff_days\""),
                (12, "\"every_minutes\""),
                (16, "\"arr\""),
                (18, "\"health\""),
            ],
            "{issues:?}"
        );
        assert!(issues[6].message.contains("in [source.properties] of [[source]] \"hubspot\""), "{issues:?}");
        assert_eq!(issues[7].column, 2, "at the table's name in its header");
        // Everything else in those tables is used.
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].properties.stage, "lifecycle");
        assert_eq!(c.sources[0].properties.arr, "arr", "the misspelt field keeps its default");
    }

    #[test]
    fn a_bad_value_falls_back_alone() {
        let text = "[health.bands]\n\
                    green = \"x\"\n\
                    yellow = 50\n\
                    [health.flags]\n\
                    silence_days = -3\n\
                    ticket_load = 8\n\
                    score_drop_points = 300\n\
                    [health.flags.check_in]\n\
                    smb = \"often\"\n\
                    enterprise = 14\n\
                    [health.flags.lifecycle]\n\
                    proficiency_coverage = 1.5\n\
                    kickoff_days = 5\n\
                    [keys]\n\
                    \"x\" = 3\n\
                    \"y\" = \"quit\"\n\
                    [replies]\n\
                    a = 1\n\
                    b = \"Thanks\"\n\
                    [health]\n\
                    model = 7\n";
        let (c, issues) = parse(text, None);
        assert_eq!(c.bands, Bands { green: 70, yellow: 50 });
        let d = FlagRules::default();
        assert_eq!((c.flags.silence_days, c.flags.ticket_load), (d.silence_days, 8.0));
        assert_eq!(c.flags.score_drop_points, d.score_drop_points);
        assert_eq!((c.flags.check_in.smb, c.flags.check_in.enterprise), (d.check_in.smb, 14));
        assert_eq!(c.flags.lifecycle.proficiency_coverage, d.lifecycle.proficiency_coverage);
        assert_eq!(c.flags.lifecycle.kickoff_days, 5);
        assert_eq!(c.keys, Keymap::with_overrides(KeyMode::Normal, [("y", "quit")]).0);
        assert!(c.replies.iter().any(|r| r.name == "b") && !c.replies.iter().any(|r| r.name == "a"));
        assert_eq!(c.model_file, None);
        assert_eq!(
            found(&issues),
            [
                (2, 9, "health.bands.green must be a whole number from 0 to 100, not text; using the default (70)"),
                (5, 16, "health.flags.silence_days must be a number from 1 to 3650, not -3; using the default (30)"),
                (
                    7,
                    21,
                    "health.flags.score_drop_points must be a whole number from 1 to 100, not 300; using the default (15)"
                ),
                (
                    9,
                    7,
                    "health.flags.check_in.smb must be a whole number from 0 to 3650, not text; using the default (90)"
                ),
                (
                    12,
                    24,
                    "health.flags.lifecycle.proficiency_coverage must be a number from 0 to 1, not 1.5; using the \
                     default (0.8)"
                ),
                (15, 7, "[keys] \"x\" must name an action in quotes, not 3; binding skipped"),
                (18, 5, "replies.a must be text in quotes, not 1; reply skipped"),
                (21, 9, "health.model must be text in quotes, not 7; using the built-in model"),
            ]
        );
    }

    #[test]
    fn bad_bands_fall_back_with_a_clear_message() {
        let (c, issues) = parse("[health.bands]\ngreen = 30\nyellow = 50\n", None);
        assert_eq!(c.bands, Bands::default());
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("must be below"), "{}", issues[0].message);
        assert!(issues[0].message.ends_with("using 70 / 40"), "{}", issues[0].message);
        assert_eq!((issues[0].line, issues[0].column), (3, 10), "points at the yellow value");
        let (c, issues) = parse("[health.bands]\ngreen = 30\n", None);
        assert_eq!(c.bands, Bands::default());
        assert_eq!((issues[0].line, issues[0].column), (2, 9), "points at green: yellow is the default");
        let (c, issues) = parse("[health.bands]\ngreen = 90\n", None);
        assert_eq!((c.bands, issues), (Bands { green: 90, yellow: 40 }, vec![]));
    }

    #[test]
    fn a_source_with_a_mistake_is_skipped_and_the_others_kept() {
        let text = "[[source]]\n\
                    name = \"desk\"\n\
                    kind = \"zendesk\"\n\
                    base_url = \"http://desk.example.com\"\n\
                    \n\
                    [[source]]\n\
                    name = \"crm\"\n\
                    kind = \"hubspot\"\n\
                    \n\
                    [[source]]\n\
                    name = \"crm2\"\n\
                    kind = \"hubspot\"\n\
                    requests_per_minute = \"lots\"\n\
                    exports_per_minute = 5\n\
                    \n\
                    [[source]]\n\
                    name = \"nokind\"\n";
        let (c, issues) = parse(text, None);
        let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["crm"]);
        assert_eq!(
            found(&issues),
            [
                (
                    4,
                    1,
                    "source \"desk\": base_url must start with https:// (plain http is only allowed to localhost); \
                     source skipped"
                ),
                (
                    13,
                    23,
                    "source \"crm2\": requests_per_minute must be a whole number from 1 to 100000, not text; source \
                     skipped"
                ),
                (14, 1, "source \"crm2\": exports_per_minute applies to Zendesk sources only; source skipped"),
                (16, 1, "source \"nokind\": kind is required: \"hubspot\", \"zendesk\" or \"stripe\"; source skipped"),
            ]
        );
    }

    #[test]
    fn a_pasted_secret_never_reaches_a_message() {
        let secret = "pat-na1-1234abcd-ffff";
        let text = format!(
            "[[source]]\nkind = \"hubspot\"\ntoken_env = \"{secret}\"\n\
             [[source]]\nname = \"b\"\nkind = \"hubspot\"\ntokn_env = \"{secret}\"\n\
             [[source]]\nname = \"c\"\nkind = \"hubspot\"\nbase_url = \"{secret}\"\n\
             [[source]]\nname = \"d\"\nkind = \"{secret}\"\n\
             [[source]]\nname = \"e\"\nkind = \"hubspot\"\nrequests_per_minute = \"{secret}\"\n\
             theme_file = \"{secret}\"\n"
        );
        let (_, issues) = parse(&text, None);
        assert_eq!(issues.len(), 6, "{issues:?}");
        assert_eq!(issues[0].line, 3, "at the token_env key");
        for i in &issues {
            assert!(!i.message.contains(secret), "{}", i.message);
            assert!(!i.message.contains("1234abcd"), "{}", i.message);
        }
    }

    #[test]
    fn a_table_written_as_a_value_is_reported_and_the_rest_used() {
        let text = "health = 3\nsync = \"often\"\nauthor = \"Dana\"\n[source]\nkind = \"hubspot\"\n";
        let (c, issues) = parse(text, None);
        assert_eq!(c.author.as_deref(), Some("Dana"));
        assert_eq!(c.sources.len(), 1, "a single [source] is read as one source");
        assert_eq!(
            found(&issues),
            [
                (1, 10, "health must be a table ([health]), not 3; ignored"),
                (2, 8, "sync must be a table ([sync]), not text; ignored"),
                (4, 1, "write each source as [[source]] (two brackets); this [source] table is read as one source"),
            ]
        );
    }

    #[test]
    fn control_characters_in_a_key_never_reach_the_terminal() {
        let (_, issues) = parse("\"a\\u001b[2Jb\" = 1\n", None);
        assert_eq!(issues.len(), 1);
        assert!(!issues[0].message.contains('\u{1b}'), "{:?}", issues[0].message);
    }

    #[test]
    fn bad_keys_and_theme_are_reported_and_skipped() {
        let text = "theme = \"neon\"\n[keys]\n\"x\" = \"quit\"\n\"y\" = \"fly\"\n\"ctrl-c\" = \"help\"\n";
        let (c, issues) = parse(text, None);
        assert_eq!(c.theme, None);
        assert_eq!(c.keys, Keymap::with_overrides(KeyMode::Normal, [("x", "quit")]).0);
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
    fn a_stripe_source_reads_its_currency_keys_and_says_which_is_wrong() {
        let text = "[[source]]\nname = \"billing\"\nkind = \"stripe\"\ntoken_env = \"STRIPE_KEY\"\n\
                    match_metadata = \"hubspot_company_id\"\ncurrency = \"USD\"\n[source.rates]\neur = 1.08\n\
                    [[source]]\nname = \"b2\"\nkind = \"stripe\"\n[source.rates]\ngbp = \"1.3\"\n\
                    [[source]]\nname = \"b3\"\nkind = \"stripe\"\ncurrency = \"dollars\"\n\
                    [[source]]\nname = \"crm\"\nkind = \"hubspot\"\nmatch_metadata = \"x\"\n";
        let (c, issues) = parse(text, None);
        let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["billing"]);
        let b = c.sources[0].billing.as_ref().unwrap();
        assert_eq!(b.match_metadata.as_deref(), Some("hubspot_company_id"));
        assert_eq!(b.currency, "usd");
        assert_eq!(b.convert(100.0, "EUR"), Some(108.0));
        assert_eq!(b.convert(100.0, "gbp"), None);
        assert_eq!(c.sources[0].base_url.as_str(), "https://api.stripe.com/");
        assert_eq!(c.sources[0].auth.env_name(), "STRIPE_KEY");
        assert_eq!(
            found(&issues),
            [
                (13, 7, "source \"b2\": rates.gbp must be a number above 0, not text; source skipped"),
                (
                    17,
                    1,
                    "source \"b3\": currency must be a three-letter currency code like \"usd\" or \"eur\"; source skipped"
                ),
                (21, 1, "source \"crm\": match_metadata applies to Stripe sources only; source skipped"),
            ]
        );
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
