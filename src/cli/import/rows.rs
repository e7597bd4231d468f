//! What a usage table's columns mean and what each row says: the account
//! it is about, the day, and a value per signal column. Every cell that
//! cannot be used becomes a problem naming its line, column and the fix.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::read::{Format, Table};
use super::Problem;
use crate::domain::observed::{self, Signal};

/// How a row names its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// The CRM's id of the company (HubSpot's company id).
    AccountId,
    /// The company's web domain.
    Domain,
    /// The company's name.
    Name,
}

impl KeyKind {
    /// The column name.
    pub fn column(self) -> &'static str {
        match self {
            KeyKind::AccountId => "account_id",
            KeyKind::Domain => "domain",
            KeyKind::Name => "name",
        }
    }
}

/// An account as a row names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Which column named it.
    pub kind: KeyKind,
    /// The value as written (trimmed).
    pub value: String,
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    Key(KeyKind),
    Date,
    Value(Signal),
    /// Text only, or no name: not imported.
    Ignored,
}

/// A column the import leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Its name as written ("column 4" when it has none).
    pub column: String,
    /// Why.
    pub why: &'static str,
}

/// A signal column: what the file calls it and what it becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueColumn {
    /// Its normalised name (the origin's last part).
    pub name: String,
    /// The signal it feeds.
    pub signal: Signal,
}

/// One readable row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its line in the file.
    pub line: usize,
    /// The account it is about.
    pub key: Key,
    /// The day its values are for.
    pub day: NaiveDate,
    /// (index into `Rows::columns`, value) for each non-empty value cell.
    pub values: Vec<(usize, f64)>,
}

/// The rows of a table as the import reads them.
#[derive(Debug, Default)]
pub struct Rows {
    /// The signal columns.
    pub columns: Vec<ValueColumn>,
    /// The columns left out.
    pub ignored: Vec<Ignored>,
    /// The rows with no problem.
    pub rows: Vec<Row>,
    /// Every problem found, by line.
    pub problems: Vec<Problem>,
}

/// A column name as compared: "Active Users" -> "active_users".
fn normalise(column: &str) -> String {
    let lower = column.trim().to_lowercase();
    let lower = lower.strip_prefix("metric:").unwrap_or(&lower);
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        let c = if c.is_alphanumeric() || c == '.' { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_matches('_').to_string()
}

/// Reads the rows of `table`; `today` is the last day a row may be for.
pub fn rows(table: &Table, today: NaiveDate) -> Result<Rows, String> {
    let names: Vec<String> = table.columns.iter().map(|c| normalise(c)).collect();
    for (i, n) in names.iter().enumerate() {
        if let Some(j) = names[..i].iter().position(|m| !n.is_empty() && m == n) {
            return Err(format!(
                "the header names column \"{n}\" twice (columns {} and {}); keep one and import again",
                j + 1,
                i + 1
            ));
        }
    }
    let decimal_comma = matches!(table.format, Format::Csv(b';' | b'\t'));
    let mut out = Rows::default();
    let mut roles = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let role = match name.as_str() {
            "" => {
                out.ignored.push(Ignored { column: format!("column {}", i + 1), why: "it has no name" });
                Role::Ignored
            }
            "account_id" => Role::Key(KeyKind::AccountId),
            "domain" => Role::Key(KeyKind::Domain),
            "name" => Role::Key(KeyKind::Name),
            "date" => Role::Date,
            n => match Signal::from_key(n).filter(|s| !matches!(s, Signal::Metric(_))) {
                Some(signal) => Role::Value(signal),
                // Any other column is a named metric when it holds numbers.
                None if table
                    .rows
                    .iter()
                    .any(|r| r.cells[i].as_deref().is_some_and(|c| is_number(c, decimal_comma))) =>
                {
                    Role::Value(Signal::Metric(n.to_string()))
                }
                None => {
                    out.ignored.push(Ignored { column: table.columns[i].clone(), why: "it holds no numbers" });
                    Role::Ignored
                }
            },
        };
        if let Role::Value(signal) = &role {
            out.columns.push(ValueColumn { name: name.clone(), signal: signal.clone() });
        }
        roles.push(role);
    }
    let keys: Vec<(usize, KeyKind)> = roles
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Role::Key(k) => Some((i, *k)),
            _ => None,
        })
        .collect();
    let has = |r: &Role| roles.contains(r);
    let header = || names.iter().filter(|n| !n.is_empty()).cloned().collect::<Vec<_>>().join(", ");
    if keys.is_empty() {
        return Err(format!(
            "no account column: the header needs account_id (the HubSpot company id), domain or name; it has {}",
            header()
        ));
    }
    if !has(&Role::Date) {
        return Err(format!("no date column: the header needs date (YYYY-MM-DD); it has {}", header()));
    }
    if !has(&Role::Value(Signal::ActiveUsers)) {
        return Err(format!(
            "no active_users column: the header needs active_users (users active in the 30 days up to the date); it \
             has {}",
            header()
        ));
    }
    // The preferred key first: an id over a domain over a name.
    let mut keys = keys;
    keys.sort_by_key(|(_, k)| *k);
    let date = roles.iter().position(|r| *r == Role::Date).expect("checked above");
    let value_of = |i: usize| out.columns.iter().position(|c| Role::Value(c.signal.clone()) == roles[i]);
    let slots: Vec<Option<usize>> = (0..roles.len()).map(value_of).collect();
    let mut problems = Vec::new();
    let mut read = Vec::with_capacity(table.rows.len());
    for line in &table.rows {
        let before = problems.len();
        let key = keys.iter().find_map(|(i, kind)| Some(Key { kind: *kind, value: line.cells[*i].clone()? }));
        if key.is_none() {
            problems.push(Problem::line(
                line.line,
                Some("account"),
                "names no account: fill account_id, domain or name".into(),
            ));
        }
        let day = match line.cells[date].as_deref() {
            None => {
                problems.push(Problem::line(line.line, Some("date"), "is empty: give the day as YYYY-MM-DD".into()));
                None
            }
            Some(raw) => match parse_date(raw) {
                None => {
                    problems.push(Problem::line(
                        line.line,
                        Some("date"),
                        format!("\"{}\" is not a date: write it as YYYY-MM-DD (or an ISO date-time)", shown(raw)),
                    ));
                    None
                }
                Some(d) if d > today => {
                    problems.push(Problem::line(
                        line.line,
                        Some("date"),
                        format!("{d} is in the future (today is {today}): usage can only be imported for past days"),
                    ));
                    None
                }
                Some(d) => Some(d),
            },
        };
        let mut values = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            let (Some(slot), Some(raw)) = (slot, line.cells[i].as_deref()) else { continue };
            let column = &out.columns[*slot];
            match value(&column.signal, raw, decimal_comma) {
                Ok(Some(v)) => values.push((*slot, v)),
                Ok(None) => {}
                Err(why) => problems.push(Problem::line(line.line, Some(&column.name), why)),
            }
        }
        if problems.len() == before {
            if let (Some(key), Some(day)) = (key, day) {
                read.push(Row { line: line.line, key, day, values });
            }
        }
    }
    out.rows = read;
    out.problems = problems;
    Ok(out)
}

fn shown(v: &str) -> String {
    let cut: String = v.chars().take(40).filter(|c| !c.is_control()).collect();
    if v.chars().count() > 40 {
        format!("{cut}…")
    } else {
        cut
    }
}

/// A day as exports write it: an ISO date, an ISO date-time with or
/// without an offset, or a warehouse's "2026-03-01 10:00:00 UTC". The day
/// is the one written.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let v = raw.trim();
    let v = v.strip_suffix(" UTC").or_else(|| v.strip_suffix(" utc")).unwrap_or(v).trim();
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Some(d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.date_naive());
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(v, f) {
            return Some(t.date_naive());
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t.date());
        }
    }
    None
}

/// `raw` with a decimal comma ("12,5", in semicolon or tab files) as a
/// decimal point.
fn with_point(raw: &str, decimal_comma: bool) -> std::borrow::Cow<'_, str> {
    let v = raw.trim();
    if decimal_comma && v.matches(',').count() == 1 && !v.contains('.') {
        let (a, b) = v.split_once(',').expect("one comma");
        let digits = |s: &str| !s.is_empty() && s.trim_start_matches('-').chars().all(|c| c.is_ascii_digit());
        if digits(a) && b.chars().all(|c| c.is_ascii_digit()) && !b.is_empty() {
            return format!("{a}.{b}").into();
        }
    }
    v.into()
}

fn is_number(raw: &str, decimal_comma: bool) -> bool {
    let v = with_point(raw, decimal_comma);
    v.parse::<f64>().is_ok_and(f64::is_finite)
}

/// One value of `signal`: `Ok(None)` when empty, `Err` with what to fix.
pub fn value(signal: &Signal, raw: &str, decimal_comma: bool) -> Result<Option<f64>, String> {
    let v = with_point(raw, decimal_comma);
    if v.is_empty() {
        return Ok(None);
    }
    if *signal == Signal::LastLogin {
        return match observed::parse_day(&v).or_else(|| parse_date(&v)) {
            Some(_) => signal.parse(&v).map_err(|e| format!("{e}; write the day of the last login as YYYY-MM-DD")),
            None => Err(format!("\"{}\" is not a date: write the day of the last login as YYYY-MM-DD", shown(raw))),
        };
    }
    if *signal == Signal::Overdue && v.parse::<f64>().is_err() {
        return signal.parse(&v).map_err(|e| format!("{e}; write 1 (overdue) or 0 (paid)"));
    }
    if v.contains(',') {
        return Err(format!(
            "\"{}\" is not a plain number: write it without thousands separators (like 1234.5)",
            shown(raw)
        ));
    }
    let plain = v.trim_end_matches('%');
    let n = match plain.parse::<f64>() {
        Ok(n) if n.is_finite() => n,
        _ => return Err(format!("\"{}\" is not a number: write a plain number (like 42 or 0.85)", shown(raw))),
    };
    if n < 0.0 {
        return Err(format!("{} is negative: {} cannot be below zero", shown(raw), signal.label()));
    }
    signal.parse(&v).map_err(|e| format!("{e}; check the export"))
}

#[cfg(test)]
mod tests {
    use super::super::read::read;
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
    }

    fn parse(text: &str) -> Rows {
        rows(&read("u.csv", text.as_bytes()).unwrap().table, today()).unwrap()
    }

    #[test]
    fn columns_become_signals_and_metrics() {
        let r = parse(
            "Account ID,Domain,Date,Active Users,seats,usage_trend,reports_run,plan,\n\
             101,,2026-03-01,12,20,0.9,7,pro,\n,beta.com,2026-03-02T10:00:00Z,3,,,,,\n",
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["active_users", "seats", "usage_trend", "reports_run"]);
        assert_eq!(r.columns[3].signal, Signal::Metric("reports_run".into()));
        let ignored: Vec<&str> = r.ignored.iter().map(|i| i.column.as_str()).collect();
        assert_eq!(ignored, ["plan", "column 9"]);
        assert_eq!(r.rows[0].key, Key { kind: KeyKind::AccountId, value: "101".into() });
        assert_eq!(r.rows[0].values, [(0, 12.0), (1, 20.0), (2, 0.9), (3, 7.0)]);
        assert_eq!(r.rows[1].key, Key { kind: KeyKind::Domain, value: "beta.com".into() });
        assert_eq!(r.rows[1].day, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    }

    #[test]
    fn every_bad_cell_names_its_line_column_and_fix() {
        let r = parse(
            "name,date,active_users,seats\nAcme,2026-03-01,12,20\nAcme,2026-03-02,lots,20\nAcme,2026-03-03,-4,\n\
             Acme,2026-04-01,5,\nAcme,03/02/2026,5,\n,2026-03-01,5,\nAcme,,5,\nAcme,2026-03-05,\"1,234\",\n",
        );
        let got: Vec<(usize, Option<&str>)> = r.problems.iter().map(|p| (p.line, p.column.as_deref())).collect();
        assert_eq!(
            got,
            [
                (3, Some("active_users")),
                (4, Some("active_users")),
                (5, Some("date")),
                (6, Some("date")),
                (7, Some("account")),
                (8, Some("date")),
                (9, Some("active_users"))
            ],
            "{:#?}",
            r.problems
        );
        let says = |i: usize, words: &str| assert!(r.problems[i].message.contains(words), "{:?}", r.problems[i]);
        says(0, "\"lots\" is not a number");
        says(1, "-4 is negative");
        says(2, "2026-04-01 is in the future (today is 2026-03-10)");
        says(3, "\"03/02/2026\" is not a date: write it as YYYY-MM-DD");
        says(4, "names no account");
        says(5, "is empty: give the day");
        says(6, "without thousands separators");
        assert_eq!(r.rows.len(), 1, "only the good line is read");
    }

    #[test]
    fn a_missing_column_is_named_with_what_the_header_has() {
        let t = |text: &str| rows(&read("u.csv", text.as_bytes()).unwrap().table, today()).unwrap_err();
        assert!(t("company,date,active_users\n").contains("no account column"), "{}", t("company,date,active_users\n"));
        assert!(t("domain,day,active_users\n").contains("no date column"));
        assert!(t("domain,date,users\n").contains("no active_users column: the header needs active_users"));
        assert!(t("domain,date,active_users,Active Users\n").contains("\"active_users\" twice (columns 3 and 4)"));
    }

    #[test]
    fn decimal_commas_in_semicolon_files_and_dates_as_warehouses_write_them() {
        let r = parse("domain;date;active_users;usage_trend\na.com;2026-03-01 10:00:00 UTC;12;0,85\n");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.rows[0].values, [(0, 12.0), (1, 0.85)]);
        for raw in ["2026-03-01", "2026-03-01T23:00:00-05:00", "2026-03-01 10:00:00", "2026-03-01 10:00:00+00"] {
            assert_eq!(parse_date(raw), NaiveDate::from_ymd_opt(2026, 3, 1), "{raw}");
        }
        assert_eq!(parse_date("1772323200000"), None, "epoch numbers are ambiguous: refused");
    }

    #[test]
    fn columns_named_like_an_input_are_that_input() {
        let r = parse(
            "domain,date,active_users,mrr,onboarding_completion,last_login,invoice_overdue,usage_trend\n\
             a.com,2026-03-01,3,1200.5,85%,2026-02-27,paid,\na.com,2026-03-02,3,,0.5,,1,500\n",
        );
        let signals: Vec<Signal> = r.columns.iter().map(|c| c.signal.clone()).collect();
        assert_eq!(
            signals,
            [
                Signal::ActiveUsers,
                Signal::Mrr,
                Signal::Onboarding,
                Signal::LastLogin,
                Signal::Overdue,
                Signal::UsageTrend
            ]
        );
        let login = (NaiveDate::from_ymd_opt(2026, 2, 27).unwrap() - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days() as f64;
        assert_eq!(r.rows[0].values, [(0, 3.0), (1, 1200.5), (2, 0.85), (3, login), (4, 0.0)]);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].column.as_deref(), Some("usage_trend"));
        assert!(r.problems[0].message.contains("out of range"), "{:?}", r.problems);
    }
}
