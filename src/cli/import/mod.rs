//! `cockpit import usage FILE`: product usage per account and day from a
//! CSV or JSON Lines export (a warehouse query, an analytics tool). The
//! file is checked whole first; only a file with no bad line is applied,
//! in one batch, and the history of the accounts it touches is rebuilt
//! from its earliest day.

pub mod plan;
pub mod read;
pub mod rows;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Subcommand;

use super::{CliResult, Error};
use crate::config::Config;
use crate::domain::AccountId;
use crate::store::{Batch, HealthRules, Store};
use crate::sync::matching::{normalize_domain, normalize_name};
use crate::sync::source::Kind;
use plan::{Found, Plan};
use rows::{Key, KeyKind, Rows};

/// The source name imported values are stored under.
pub const SOURCE: &str = "import";
/// At most this many problems are printed; the count says the rest.
const SHOWN_PROBLEMS: usize = 50;
/// At most this many unmatched accounts are listed.
const SHOWN_UNMATCHED: usize = 20;

/// `cockpit import ...`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Product usage per account and day from a CSV (comma, semicolon or
    /// tab) or JSON Lines file: an account column (account_id, domain or
    /// name), date, active_users, optional seats and usage_trend, and any
    /// other numeric column as a named metric. Applied whole or not at all.
    Usage {
        /// The file (.csv, .tsv, .jsonl or .ndjson).
        file: PathBuf,
    },
}

/// Something wrong with one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// A problem on `line`, in `column` when one is at fault.
    pub fn line(line: usize, column: Option<&str>, message: String) -> Problem {
        Problem { line, column: column.map(String::from), message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Runs `cockpit import ...`.
pub fn run(store: &Store, config: &Config, action: &ImportCommand, now: DateTime<Utc>) -> CliResult {
    match action {
        ImportCommand::Usage { file } => usage(store, config, file, now),
    }
}

fn usage(store: &Store, config: &Config, path: &Path, now: DateTime<Utc>) -> CliResult {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e, "; check the path"))?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let whole = |why: String| format!("{name}: {why}; nothing was imported");
    let read = read::read(&name, &bytes).map_err(whole)?;
    let rows = rows::rows(&read.table, last_day(now)).map_err(whole)?;
    let crm: Vec<String> = config.sources.iter().filter(|s| s.kind == Kind::Hubspot).map(|s| s.name.clone()).collect();
    let found = resolve(store, &crm, rows.rows.iter().map(|r| &r.key))?;
    let plan = plan::plan(&rows, &found);
    let mut problems: Vec<Problem> = read.problems.into_iter().chain(rows.problems.iter().cloned()).collect();
    problems.extend(plan.problems.iter().cloned());
    if !problems.is_empty() {
        return Err(refuse(&name, problems).into());
    }
    if rows.rows.is_empty() {
        return Err(whole("it has no rows under its header".into()).into());
    }
    println!(
        "Read {name} ({}): {} row{}, columns {}.",
        read.table.format.label(),
        rows.rows.len(),
        plural(rows.rows.len()),
        // Column names and values come from the file: never let them drive the terminal.
        crate::domain::text::sanitize(&rows.columns.iter().map(|c| c.signal.key()).collect::<Vec<_>>().join(", "))
    );
    for i in &rows.ignored {
        println!(
            "Column {} left out: {}.",
            crate::domain::text::sanitize(&i.column),
            crate::domain::text::sanitize(i.why)
        );
    }
    list_unmatched(&name, &plan, crm.is_empty());
    if plan.rows == 0 {
        return Err(whole(
            "none of its accounts is in this workspace; check the account column (account_id is the HubSpot company \
             id, domain the company's web domain, name its name as in the CRM)"
                .into(),
        )
        .into());
    }
    apply(store, config, &name, &rows, &plan, now)
}

/// Prints every problem (up to a limit) and says nothing was imported.
fn refuse(name: &str, mut problems: Vec<Problem>) -> String {
    problems.sort_by_key(|p| p.line);
    for p in problems.iter().take(SHOWN_PROBLEMS) {
        eprintln!("{name} {p}");
    }
    if problems.len() > SHOWN_PROBLEMS {
        eprintln!("... and {} more", problems.len() - SHOWN_PROBLEMS);
    }
    let lines: BTreeSet<usize> = problems.iter().map(|p| p.line).collect();
    format!(
        "{} problem{} on {} line{} of {name}; nothing was imported: fix {} and import the file again",
        problems.len(),
        plural(problems.len()),
        lines.len(),
        plural(lines.len()),
        if problems.len() == 1 { "it" } else { "them" }
    )
}

fn list_unmatched(name: &str, plan: &Plan, no_crm: bool) {
    if plan.unmatched.is_empty() {
        return;
    }
    let rows: usize = plan.unmatched.iter().map(|u| u.rows).sum();
    println!(
        "{} account{} in {name} {} not in this workspace; {} {} row{} left out:",
        plan.unmatched.len(),
        plural(plan.unmatched.len()),
        if plan.unmatched.len() == 1 { "is" } else { "are" },
        if plan.unmatched.len() == 1 { "its" } else { "their" },
        rows,
        plural(rows)
    );
    for u in plan.unmatched.iter().take(SHOWN_UNMATCHED) {
        let why = match (u.found, u.key.kind) {
            (Found::Many(n), _) => format!(": matches {n} accounts, use account_id to say which"),
            (_, KeyKind::AccountId) if no_crm => {
                ": no HubSpot source is configured to match ids; use domain or name".into()
            }
            _ => String::new(),
        };
        println!(
            "  {} \"{}\"{why} (line {}, {} row{})",
            u.key.kind.column(),
            crate::domain::text::sanitize(&u.key.value),
            u.line,
            u.rows,
            plural(u.rows)
        );
    }
    if plan.unmatched.len() > SHOWN_UNMATCHED {
        println!("  ... and {} more", plan.unmatched.len() - SHOWN_UNMATCHED);
    }
}

/// Writes the plan in one batch, then rebuilds and rescores the history.
fn apply(store: &Store, config: &Config, name: &str, rows: &Rows, plan: &Plan, now: DateTime<Utc>) -> CliResult {
    let today = now.date_naive();
    let accounts = plan.accounts();
    let mut observe = store.observe(today);
    let mut changed = 0;
    let mut touched: BTreeSet<AccountId> = BTreeSet::new();
    for ((id, column), points) in &plan.series {
        let c = &rows.columns[*column];
        let origin = format!("{SOURCE}:{name}:{}", c.name);
        if observe.add(*id, &c.signal, SOURCE, &origin, points.iter().copied())? {
            changed += 1;
            touched.insert(*id);
        }
    }
    if changed == 0 {
        println!(
            "Nothing changed: every value in {name} is already in the workspace ({} account{}).",
            accounts.len(),
            plural(accounts.len())
        );
        return Ok(());
    }
    let mut batch = Batch::default();
    observe.flush_into(&mut batch)?;
    store.apply(batch)?;
    let from = plan.earliest.unwrap_or(today);
    println!(
        "Imported {} row{} for {} account{}: {changed} series changed on {} account{}, from {from}.",
        plan.rows,
        plural(plan.rows),
        accounts.len(),
        plural(accounts.len()),
        touched.len(),
        plural(touched.len())
    );
    let rebuilt = store.rebuild_marked(&config.health_model, now)?;
    if rebuilt.accounts > 0 {
        println!(
            "History rebuilt from {}: {} account{}, {} day{} rescored.",
            from.max(today - Duration::days(crate::store::HISTORY_DAYS - 1)),
            rebuilt.accounts,
            plural(rebuilt.accounts as usize),
            rebuilt.days,
            plural(rebuilt.days as usize)
        );
    }
    if from < today - Duration::days(crate::store::HISTORY_DAYS - 1) {
        println!("Values before {} are kept, but the daily history covers one year.", today - Duration::days(365));
    }
    // Today's score and the flags follow the new inputs now, not tomorrow.
    let rules = HealthRules { model: &config.health_model, flags: &config.flags, bands: &config.bands };
    store.daily_health(rules, now)?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What each key names in the workspace: an id through the CRM sources'
/// id maps, a domain or a name through the accounts (read once, and only
/// when a key needs them).
fn resolve<'k>(
    store: &Store,
    crm: &[String],
    keys: impl Iterator<Item = &'k Key>,
) -> crate::store::Result<HashMap<Key, Found>> {
    let keys: BTreeSet<&Key> = keys.collect();
    let mut by_domain: HashMap<String, Vec<AccountId>> = HashMap::new();
    let mut by_name: HashMap<String, Vec<AccountId>> = HashMap::new();
    if keys.iter().any(|k| k.kind != KeyKind::AccountId) {
        for a in store.accounts() {
            let a = a?;
            if !a.domain.trim().is_empty() {
                by_domain.entry(normalize_domain(&a.domain)).or_default().push(a.id);
            }
            by_name.entry(normalize_name(&a.name)).or_default().push(a.id);
        }
    }
    let mut found = HashMap::with_capacity(keys.len());
    for key in keys {
        let ids: Vec<AccountId> = match key.kind {
            KeyKind::AccountId => {
                let mut ids = Vec::new();
                for source in crm {
                    if let Some(id) = store.external_id(source, &key.value)? {
                        if !ids.contains(&id) && store.account(id)?.is_some() {
                            ids.push(id);
                        }
                    }
                }
                ids
            }
            KeyKind::Domain => lookup(&by_domain, normalize_domain(&key.value)),
            KeyKind::Name => lookup(&by_name, normalize_name(&key.value)),
        };
        let f = match ids.as_slice() {
            [] => Found::None,
            [id] => Found::One(*id),
            many => Found::Many(many.len()),
        };
        found.insert(key.clone(), f);
    }
    Ok(found)
}

/// The accounts under a normalised key; none for a key that normalises
/// to nothing ("Inc.").
fn lookup(index: &HashMap<String, Vec<AccountId>>, key: String) -> Vec<AccountId> {
    match key.is_empty() {
        true => Vec::new(),
        false => index.get(&key).cloned().unwrap_or_default(),
    }
}

/// The last day a usage row may be for: a day that has begun where the
/// person is has happened, even if it has not yet in UTC.
pub fn last_day(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive().max(chrono::Local::now().date_naive())
}
