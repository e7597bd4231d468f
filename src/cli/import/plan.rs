//! From the rows of a usage file and the accounts their keys resolve to,
//! what the import would write: each account's series per column, the
//! duplicate rows that disagree, and the keys that match no account (or
//! more than one).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use super::rows::{Key, Rows};
use super::Problem;
use crate::domain::observed::Point;
use crate::domain::AccountId;

/// What a key matched in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// One account.
    One(AccountId),
    /// No account.
    None,
    /// This many accounts: the key cannot say which.
    Many(usize),
}

/// A key that names no single account, and where the file uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// The key as written.
    pub key: Key,
    /// No account, or several.
    pub found: Found,
    /// The first line that uses it.
    pub line: usize,
    /// How many rows use it.
    pub rows: usize,
}

/// What the import would write.
#[derive(Debug, Default)]
pub struct Plan {
    /// (account, index into `Rows::columns`) -> its dated values.
    pub series: BTreeMap<(AccountId, usize), Vec<Point>>,
    /// Duplicate rows that disagree.
    pub problems: Vec<Problem>,
    /// Keys that match no single account, by first line.
    pub unmatched: Vec<Unmatched>,
    /// Rows about a known account.
    pub rows: usize,
    /// Values given twice, the same both times.
    pub repeated: usize,
    /// The earliest day of a value to write.
    pub earliest: Option<NaiveDate>,
}

impl Plan {
    /// The accounts the import writes to.
    pub fn accounts(&self) -> BTreeSet<AccountId> {
        self.series.keys().map(|(id, _)| *id).collect()
    }
}

/// Who a row is about, for finding duplicates: the account when the key
/// resolved (two keys may name one account), else the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Account(AccountId),
    Key(Key),
}

/// Plans the import of `rows`, each key resolved in `found`.
pub fn plan(rows: &Rows, found: &HashMap<Key, Found>) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashMap<(Who, NaiveDate, usize), (f64, usize)> = HashMap::new();
    let mut unmatched: HashMap<&Key, Unmatched> = HashMap::new();
    for row in &rows.rows {
        let hit = found.get(&row.key).copied().unwrap_or(Found::None);
        let who = match hit {
            Found::One(id) => Who::Account(id),
            other => {
                let u = unmatched.entry(&row.key).or_insert(Unmatched {
                    key: row.key.clone(),
                    found: other,
                    line: row.line,
                    rows: 0,
                });
                u.rows += 1;
                Who::Key(row.key.clone())
            }
        };
        for (column, value) in &row.values {
            match seen.entry((who.clone(), row.day, *column)) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let (before, line) = *e.get();
                    if before == *value {
                        plan.repeated += 1;
                    } else {
                        plan.problems.push(Problem::line(
                            row.line,
                            Some(&rows.columns[*column].name),
                            format!(
                                "{value} conflicts with {before} on line {line} for the same account on {}; keep \
                                 one of the two rows",
                                row.day
                            ),
                        ));
                    }
                    continue;
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert((*value, row.line));
                }
            }
            if let Found::One(id) = hit {
                plan.series.entry((id, *column)).or_default().push(Point { day: row.day, value: Some(*value) });
                plan.earliest = Some(plan.earliest.map_or(row.day, |d| d.min(row.day)));
            }
        }
        if matches!(hit, Found::One(_)) {
            plan.rows += 1;
        }
    }
    plan.unmatched = unmatched.into_values().collect();
    plan.unmatched.sort_by_key(|u| u.line);
    plan
}

#[cfg(test)]
mod tests {
    use super::super::read::read;
    use super::super::rows::{rows, KeyKind};
    use super::*;

    fn key(kind: KeyKind, v: &str) -> Key {
        Key { kind, value: v.into() }
    }

    #[test]
    fn duplicates_that_agree_pass_and_ones_that_disagree_are_named() {
        let text = "account_id,domain,date,active_users,seats\n\
                    1,,2026-03-01,10,20\n\
                    ,acme.com,2026-03-01,10,20\n\
                    1,,2026-03-01T18:00:00Z,11,20\n\
                    9,,2026-03-01,4,\n\
                    9,,2026-03-02,5,\n\
                    ,many.com,2026-03-01,1,\n";
        let r = rows(&read("u.csv", text.as_bytes()).unwrap().table, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap())
            .unwrap();
        let found: HashMap<Key, Found> = [
            (key(KeyKind::AccountId, "1"), Found::One(AccountId(7))),
            (key(KeyKind::Domain, "acme.com"), Found::One(AccountId(7))),
            (key(KeyKind::Domain, "many.com"), Found::Many(2)),
        ]
        .into();
        let p = plan(&r, &found);
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(p.problems[0].line, 4);
        assert_eq!(p.problems[0].column.as_deref(), Some("active_users"));
        assert!(p.problems[0].message.contains("11 conflicts with 10 on line 2"), "{:?}", p.problems);
        assert_eq!(p.repeated, 3, "line 3 says what line 2 said; line 4's seats too");
        assert_eq!(p.rows, 3);
        assert_eq!(p.accounts().into_iter().collect::<Vec<_>>(), [AccountId(7)]);
        assert_eq!(p.series[&(AccountId(7), 0)].len(), 1);
        let u: Vec<(&str, Found, usize, usize)> =
            p.unmatched.iter().map(|u| (u.key.value.as_str(), u.found, u.line, u.rows)).collect();
        assert_eq!(u, [("9", Found::None, 5, 2), ("many.com", Found::Many(2), 7, 1)]);
    }
}
