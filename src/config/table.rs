//! One table of the config read key by key, so a mistake costs only itself:
//! each known value is checked on its own, and what is left over is an
//! unknown key, reported where it is written, with the closest known key.

use std::fmt::Display;
use std::ops::{Range, RangeInclusive};

use serde::de::IntoDeserializer;
use serde::Deserialize;
use toml::de::{DeString, DeTable, DeValue};
use toml::Spanned;

use super::ConfigIssue;

/// A value as parsed, with where it is written.
pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// The problems found so far, placed in the text.
pub(super) struct Report<'t> {
    text: &'t str,
    /// What was found, in the order found.
    pub issues: Vec<ConfigIssue>,
}

impl<'t> Report<'t> {
    /// An empty report over `text`.
    pub fn new(text: &'t str) -> Self {
        Report { text, issues: Vec::new() }
    }

    /// Records a problem at a byte offset of the text.
    pub fn at(&mut self, offset: usize, message: impl Into<String>) {
        self.issues.push(ConfigIssue::at(self.text, offset, message));
    }
}

/// A value that cannot be used: where, and why (without what to fall back
/// to, which the caller knows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bad {
    /// Byte offset of the value.
    pub at: usize,
    /// What is wrong, naming the setting.
    pub message: String,
}

/// A table being read.
pub(super) struct Table<'i> {
    /// How messages place it: "at the top level", "in [health.flags]".
    place: String,
    /// Prefix of its keys in messages: "health.flags.".
    prefix: String,
    /// The keys it knows, for the suggestion on an unknown one.
    known: &'static [&'static str],
    /// Entries not taken yet.
    entries: Vec<(Spanned<DeString<'i>>, Value<'i>)>,
}

impl<'i> Table<'i> {
    /// Wraps a parsed table.
    pub fn new(
        table: DeTable<'i>,
        place: impl Into<String>,
        prefix: impl Into<String>,
        known: &'static [&'static str],
    ) -> Self {
        Table { place: place.into(), prefix: prefix.into(), known, entries: table.into_iter().collect() }
    }

    /// Renames the table in messages (a source is named once its name is read).
    pub fn set_place(&mut self, place: impl Into<String>) {
        self.place = place.into();
    }

    /// The full name of one of its keys, for messages.
    pub fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Where a key not taken yet is written.
    pub fn key_at(&self, key: &str) -> Option<usize> {
        self.entries.iter().find(|(k, _)| k.get_ref().as_ref() == key).map(|(k, _)| k.span().start)
    }

    /// Takes a key's entry: where the key is written, and its value.
    pub fn take(&mut self, key: &str) -> Option<(Range<usize>, Value<'i>)> {
        debug_assert!(self.known.contains(&key), "{key} is not declared as known");
        let i = self.entries.iter().position(|(k, _)| k.get_ref().as_ref() == key)?;
        let (k, v) = self.entries.remove(i);
        Some((k.span(), v))
    }

    /// Takes every entry left, in key order (for free maps like `[keys]`).
    pub fn drain(&mut self) -> Vec<(Spanned<DeString<'i>>, Value<'i>)> {
        std::mem::take(&mut self.entries)
    }

    /// A sub-table; a value that is not a table is reported and dropped.
    pub fn table(&mut self, report: &mut Report, key: &str) -> Option<(DeTable<'i>, usize)> {
        let (_, v) = self.take(key)?;
        let at = v.span().start;
        match v.into_inner() {
            DeValue::Table(t) => Some((t, at)),
            other => {
                let name = self.name(key);
                report.at(at, format!("{name} must be a table ([{name}]), not {}; ignored", found(&other)));
                None
            }
        }
    }

    /// A whole number within `range`.
    pub fn whole(&mut self, key: &str, range: RangeInclusive<i64>) -> Option<Result<Spanned<i64>, Bad>> {
        let (_, v) = self.take(key)?;
        let span = v.span();
        let shown = found(v.get_ref());
        let n = match v.get_ref() {
            DeValue::Integer(_) => i64::deserialize(v.into_deserializer()).ok(),
            _ => None,
        };
        Some(match n {
            Some(n) if range.contains(&n) => Ok(Spanned::new(span, n)),
            _ => Err(Bad {
                at: span.start,
                message: format!(
                    "{} must be a whole number from {} to {}, not {shown}",
                    self.name(key),
                    range.start(),
                    range.end()
                ),
            }),
        })
    }

    /// A number (whole or decimal) within `range`.
    pub fn number(&mut self, key: &str, range: RangeInclusive<f64>) -> Option<Result<Spanned<f64>, Bad>> {
        let (_, v) = self.take(key)?;
        let span = v.span();
        let shown = found(v.get_ref());
        let n = match v.get_ref() {
            DeValue::Integer(_) | DeValue::Float(_) => f64::deserialize(v.into_deserializer()).ok(),
            _ => None,
        };
        Some(match n {
            Some(n) if range.contains(&n) => Ok(Spanned::new(span, n)),
            _ => Err(Bad {
                at: span.start,
                message: format!(
                    "{} must be a number from {} to {}, not {shown}",
                    self.name(key),
                    range.start(),
                    range.end()
                ),
            }),
        })
    }

    /// Text in quotes. Never quotes what was written instead: it may be a
    /// secret pasted in the wrong place.
    pub fn text(&mut self, key: &str) -> Option<Result<Spanned<String>, Bad>> {
        let (_, v) = self.take(key)?;
        Some(as_text(v).map_err(|(at, shown)| Bad {
            at,
            message: format!("{} must be text in quotes, not {shown}", self.name(key)),
        }))
    }

    /// Sets `slot` to a whole number within `range`; a bad value is
    /// reported and `slot` keeps its default. Returns where it was set.
    pub fn set_whole<T>(
        &mut self,
        report: &mut Report,
        key: &str,
        range: RangeInclusive<i64>,
        slot: &mut T,
    ) -> Option<Range<usize>>
    where
        T: TryFrom<i64> + Display,
    {
        match self.whole(key, range)? {
            Ok(n) => match T::try_from(*n.get_ref()) {
                Ok(v) => {
                    *slot = v;
                    Some(n.span())
                }
                // The ranges given fit the slots; kept total all the same.
                Err(_) => {
                    report
                        .at(n.span().start, format!("{} is out of range; using the default ({slot})", self.name(key)));
                    None
                }
            },
            Err(bad) => {
                report.at(bad.at, format!("{}; using the default ({slot})", bad.message));
                None
            }
        }
    }

    /// Sets `slot` to a number within `range`; a bad value is reported and
    /// `slot` keeps its default.
    pub fn set_number(&mut self, report: &mut Report, key: &str, range: RangeInclusive<f64>, slot: &mut f64) {
        match self.number(key, range) {
            Some(Ok(n)) => *slot = n.into_inner(),
            Some(Err(bad)) => report.at(bad.at, format!("{}; using the default ({slot})", bad.message)),
            None => {}
        }
    }

    /// Reports every key left as unknown, each where it is written, with
    /// the closest known key when one is close.
    pub fn finish(self, report: &mut Report) {
        for (key, _) in self.entries {
            let k = key.get_ref().as_ref();
            let message = match closest(k, self.known) {
                Some(near) => format!("unknown key \"{k}\" {}; did you mean \"{near}\"? (ignored)", self.place),
                None => {
                    format!("unknown key \"{k}\" {} (ignored); the keys here are {}", self.place, self.known.join(", "))
                }
            };
            report.at(key.span().start, message);
        }
    }
}

/// A value as text, or where it is and what it is instead.
pub(super) fn as_text(v: Value<'_>) -> Result<Spanned<String>, (usize, String)> {
    let span = v.span();
    match v.into_inner() {
        DeValue::String(s) => Ok(Spanned::new(span, s.into_owned())),
        other => Err((span.start, found(&other))),
    }
}

/// What a value is, for "must be ..., not ..." messages. Numbers and
/// booleans are shown; text is not (it may be a pasted secret).
pub(super) fn found(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(_) => "text".into(),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(_) => "a date".into(),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// The known key closest to a mistyped one, when it is close enough to be
/// the likely intent (a third of its letters at most, ignoring case), or
/// that it begins (`usage_drop` for `usage_drop_below`).
pub(super) fn closest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let key = key.to_lowercase();
    let budget = (key.chars().count() / 3).max(1);
    let near = known.iter().map(|k| (edit_distance(&key, k), *k)).filter(|(d, _)| *d <= budget).min_by_key(|(d, _)| *d);
    near.map(|(_, k)| k).or_else(|| match key.chars().count() >= 4 {
        true => known.iter().find(|k| k.starts_with(key.as_str())).copied(),
        false => None,
    })
}

/// Edit distance over chars, a swap of two neighbours counting as one edit
/// (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("tokn_env", "token_env"), 1);
        assert_eq!(edit_distance("colour", "color"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("modle", "model"), 1, "a swap is one edit");
    }

    #[test]
    fn only_a_close_key_is_suggested() {
        let known = &["token_env", "theme", "source"];
        assert_eq!(closest("tokn_env", known), Some("token_env"));
        assert_eq!(closest("Themes", known), Some("theme"));
        assert_eq!(closest("colour", known), None);
        assert_eq!(closest("x", known), None);
        assert_eq!(closest("usage_drop", &["usage_drop_below", "silence_days"]), Some("usage_drop_below"));
        assert_eq!(closest("sil", &["silence_days"]), None, "too short to be a clear start");
    }
}
