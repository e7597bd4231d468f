//! Reads a usage file into a table of text cells with their line numbers:
//! CSV with a header row (comma, semicolon or tab, detected) or JSON Lines
//! (one object a line). A UTF-8 byte order mark is skipped. Nothing here
//! knows what the columns mean.

use super::Problem;

/// How the file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with a header row, split by this byte.
    Csv(u8),
    /// One JSON object a line.
    JsonLines,
}

impl Format {
    /// Words for the summary ("CSV, semicolon-separated").
    pub fn label(self) -> String {
        match self {
            Format::Csv(d) => format!("CSV, {}-separated", delimiter_name(d)),
            Format::JsonLines => "JSON Lines".into(),
        }
    }
}

/// The file as rows of cells under named columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// How it was read.
    pub format: Format,
    /// Column names as written (JSON Lines: every key, in order of first use).
    pub columns: Vec<String>,
    /// Data rows.
    pub rows: Vec<Line>,
}

/// One data row: its line in the file and a cell per column (`None`: empty or absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number in the file (the header is line 1 of a CSV).
    pub line: usize,
    /// One cell per column of the table.
    pub cells: Vec<Option<String>>,
}

/// What reading found: the table and the lines that could not be read.
#[derive(Debug)]
pub struct Read {
    /// The rows that could be read.
    pub table: Table,
    /// Lines that could not be split into cells.
    pub problems: Vec<Problem>,
}

/// Delimiters a CSV file may use.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];
/// Separators people use that cockpit does not read: named when seen.
const OTHER_SEPARATORS: [u8; 3] = [b'|', b':', b' '];

/// A delimiter as a person names it.
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "comma",
        b';' => "semicolon",
        b'\t' => "tab",
        b'|' => "pipe (|)",
        b':' => "colon",
        b' ' => "space",
        _ => "other",
    }
}

/// Reads `bytes` of a file called `name`. `Err` is a problem with the file
/// as a whole (its encoding, its header row): nothing in it can be read.
pub fn read(name: &str, bytes: &[u8]) -> Result<Read, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(
            "the file is saved as UTF-16; save it as UTF-8 (in Excel: \"CSV UTF-8\") and import it again".into()
        );
    }
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        format!(
            "line {line} is not UTF-8 text (byte 0x{:02X}); save the file as UTF-8 and import it again",
            bytes[e.valid_up_to()]
        )
    })?;
    let lower = name.to_lowercase();
    let json = lower.ends_with(".jsonl")
        || lower.ends_with(".ndjson")
        || text.trim_start().starts_with('{') && !lower.ends_with(".tsv");
    if json {
        Ok(json_lines(text))
    } else {
        csv_table(text)
    }
}

fn json_lines(text: &str) -> Read {
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(_) => {
                problems.push(Problem::line(line, None, format!("{NOT_AN_OBJECT}, not a JSON value of another kind")));
                continue;
            }
            Err(e) => {
                problems.push(Problem::line(line, None, format!("{NOT_AN_OBJECT}: {e}")));
                continue;
            }
        };
        let mut cells = vec![None; columns.len()];
        for (key, value) in object {
            let i = match columns.iter().position(|c| *c == key) {
                Some(i) => i,
                None => {
                    columns.push(key);
                    cells.push(None);
                    columns.len() - 1
                }
            };
            cells[i] = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) if s.trim().is_empty() => None,
                serde_json::Value::String(s) => Some(s.trim().to_string()),
                other => Some(other.to_string()),
            };
        }
        rows.push(Line { line, cells });
    }
    // Rows read before a column first appeared lack its cell.
    for row in &mut rows {
        row.cells.resize(columns.len(), None);
    }
    Read { table: Table { format: Format::JsonLines, columns, rows }, problems }
}

const NOT_AN_OBJECT: &str = "is not a JSON object (each line must be one object like \
                             {\"domain\": \"acme.com\", \"date\": \"2026-03-01\", \"active_users\": 42})";

/// How often each byte of `set` splits `line` outside double quotes.
fn counts(line: &str, set: &[u8]) -> Vec<(u8, usize)> {
    let mut quoted = false;
    let mut n = vec![0; set.len()];
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = set.iter().position(|d| *d == b) {
                n[i] += 1;
            }
        }
    }
    set.iter().copied().zip(n).collect()
}

/// The delimiter of the header row, or why there is none cockpit reads.
fn detect(header: &str) -> Result<u8, String> {
    let mut seen: Vec<(u8, usize)> = counts(header, &DELIMITERS).into_iter().filter(|(_, n)| *n > 0).collect();
    seen.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    match seen.as_slice() {
        [(d, _)] => Ok(*d),
        [(d, a), (e, b), ..] if a == b => Err(format!(
            "the header row (line 1) is split by both {} and {}; use one delimiter (comma, semicolon or tab) \
             throughout and import again",
            delimiter_name(*d),
            delimiter_name(*e)
        )),
        [(d, _), ..] => Ok(*d),
        [] => {
            let other = counts(header.trim(), &OTHER_SEPARATORS).into_iter().find(|(_, n)| *n > 0);
            Err(match other {
                Some((d, _)) => format!(
                    "the header row (line 1) is split by {}, which cockpit does not read; export the file with \
                     commas, semicolons or tabs between columns",
                    delimiter_name(d)
                ),
                None => format!(
                    "the header row (line 1) has a single column (\"{}\"); it needs an account column (account_id, \
                     domain or name), date and active_users, separated by commas, semicolons or tabs",
                    header.trim().chars().take(60).collect::<String>()
                ),
            })
        }
    }
}

fn csv_table(text: &str) -> Result<Read, String> {
    let header = text.lines().find(|l| !l.trim().is_empty()).ok_or("the file is empty; it needs a header row")?;
    let delimiter = detect(header)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Vec<String> =
        reader.headers().map_err(|e| format!("the header row cannot be read: {e}"))?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(text, p.byte() as usize));
                problems.push(Problem::line(line, None, format!("cannot be read: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(text, p.byte() as usize));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != columns.len() {
            problems.push(Problem::line(line, None, width_problem(&record, columns.len(), delimiter)));
            continue;
        }
        let cells = record.iter().map(|c| (!c.is_empty()).then(|| c.to_string())).collect();
        rows.push(Line { line, cells });
    }
    Ok(Read { table: Table { format: Format::Csv(delimiter), columns, rows }, problems })
}

/// The line a record starting at byte `at` is on. The reader's own line
/// count starts a record at the blank lines before it: skip those.
fn line_at(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    let start = at + text[at..].bytes().take_while(|b| *b == b'\n' || *b == b'\r').count();
    text.as_bytes()[..start].iter().filter(|b| **b == b'\n').count() + 1
}

/// Why a row has more or fewer cells than the header, naming the
/// delimiter it seems to use when that is another one.
fn width_problem(record: &csv::StringRecord, width: usize, delimiter: u8) -> String {
    let n = record.len();
    let base = format!(
        "has {n} value{} where the header has {width} column{}",
        if n == 1 { "" } else { "s" },
        if width == 1 { "" } else { "s" }
    );
    let joined = record.iter().collect::<Vec<_>>().join(" ");
    let other = counts(&joined, &DELIMITERS).into_iter().filter(|(d, c)| *d != delimiter && *c > 0).max_by_key(|x| x.1);
    match other {
        Some((d, _)) if n < width => format!(
            "{base}: it seems split by {} while the header uses {}; use one delimiter throughout",
            delimiter_name(d),
            delimiter_name(delimiter)
        ),
        _ => format!(
            "{base}; give every row one value per column (leave a value empty between two {}s, and quote a value \
             that holds a {})",
            delimiter_name(delimiter),
            delimiter_name(delimiter)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(r: &Read, i: usize) -> Vec<Option<&str>> {
        r.table.rows[i].cells.iter().map(|c| c.as_deref()).collect()
    }

    #[test]
    fn csv_with_any_delimiter_and_a_bom() {
        for (d, text) in [
            (b',', "domain,date,active_users\nacme.com,2026-03-01,12\n"),
            (b';', "\u{feff}domain;date;active_users\r\nacme.com;2026-03-01;12\r\n"),
            (b'\t', "domain\tdate\tactive_users\n\nacme.com\t2026-03-01\t12\n"),
        ] {
            let r = read("usage.csv", text.as_bytes()).unwrap();
            assert_eq!(r.table.format, Format::Csv(d));
            assert_eq!(r.table.columns, ["domain", "date", "active_users"]);
            assert_eq!(cells(&r, 0), [Some("acme.com"), Some("2026-03-01"), Some("12")]);
            assert!(r.problems.is_empty(), "{:?}", r.problems);
        }
    }

    #[test]
    fn rows_keep_their_line_numbers_and_quoted_values() {
        let text =
            "name,date,active_users\n\"Acme, Inc.\",2026-03-01,12\n\n\"Two\nlines\",2026-03-02,\nBeta,2026-03-03,5\n";
        let r = read("u.csv", text.as_bytes()).unwrap();
        let lines: Vec<usize> = r.table.rows.iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 4, 6]);
        assert_eq!(cells(&r, 0)[0], Some("Acme, Inc."));
        assert_eq!(cells(&r, 1)[2], None, "an empty cell");
    }

    #[test]
    fn a_wrong_delimiter_is_named() {
        let e = read("u.csv", b"domain|date|active_users\nacme.com|2026-03-01|3\n").unwrap_err();
        assert!(e.contains("split by pipe (|), which cockpit does not read"), "{e}");
        let e = read("u.csv", b"usage\n3\n").unwrap_err();
        assert!(e.contains("a single column (\"usage\")"), "{e}");
        let e = read("u.csv", b"domain;date,active_users\n").unwrap_err();
        assert!(e.contains("split by both"), "{e}");
        let r = read("u.csv", b"domain;date;active_users\nacme.com,2026-03-01,3\nb.com;2026-03-01;4\n").unwrap();
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].line, 2);
        assert!(r.problems[0].message.contains("split by comma while the header uses semicolon"), "{:?}", r.problems);
        assert_eq!(r.table.rows.len(), 1);
    }

    #[test]
    fn encodings_other_than_utf8_are_refused_with_the_line() {
        let e = read("u.csv", b"\xff\xfed\x00").unwrap_err();
        assert!(e.contains("UTF-16"), "{e}");
        let e = read("u.csv", b"name,date,active_users\nCaf\xe9,2026-03-01,3\n").unwrap_err();
        assert!(e.starts_with("line 2 is not UTF-8"), "{e}");
    }

    #[test]
    fn json_lines_by_name_or_by_content() {
        let text = "{\"account_id\": 101, \"date\": \"2026-03-01\", \"active_users\": 12}\n\n\
                    {\"account_id\": \"102\", \"date\": \"2026-03-01\", \"seats\": 20, \"active_users\": null}\n\
                    [1, 2]\n{\"oops\n";
        for name in ["usage.jsonl", "usage.ndjson", "usage.txt"] {
            let r = read(name, text.as_bytes()).unwrap();
            assert_eq!(r.table.format, Format::JsonLines);
            // Keys in name order within a line (serde_json's map), new ones after.
            assert_eq!(r.table.columns, ["account_id", "active_users", "date", "seats"]);
            assert_eq!(cells(&r, 0), [Some("101"), Some("12"), Some("2026-03-01"), None]);
            assert_eq!(cells(&r, 1), [Some("102"), None, Some("2026-03-01"), Some("20")]);
            assert_eq!(r.table.rows[1].line, 3);
            let bad: Vec<usize> = r.problems.iter().map(|p| p.line).collect();
            assert_eq!(bad, [4, 5]);
        }
    }
}
