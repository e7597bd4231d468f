//! Text tables for the terminal and for Markdown.

use unicode_width::UnicodeWidthStr;

use super::{CliResult, Error, Format};

/// Pretty JSON with a trailing newline.
pub fn json(doc: &serde_json::Value) -> CliResult<String> {
    serde_json::to_string_pretty(doc).map(|s| s + "\n").map_err(|e| Error::Failed(e.to_string()))
}

/// An aligned table or a Markdown table, as the format asks.
pub fn grid(format: Format, headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    match format {
        Format::Markdown => markdown(headers, rows),
        _ => table(headers, rows),
    }
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Renders aligned columns with a header and a rule.
pub fn table(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|(h, _)| h.width()).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.width();
            if i > 0 {
                s.push_str("  ");
            }
            match headers[i].1 {
                Align::Left => {
                    s.push_str(c);
                    if i + 1 < cells.len() {
                        s.push_str(&" ".repeat(pad));
                    }
                }
                Align::Right => {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                }
            }
        }
        s.push('\n');
        s
    };
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    let mut out = line(headers.iter().map(|(h, _)| *h).collect()) + &rule.join("  ") + "\n";
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Renders a Markdown pipe table; `|` in cells is escaped.
pub fn markdown(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("|");
    for (h, _) in headers {
        out.push_str(&format!(" {} |", esc(h)));
    }
    out.push_str("\n|");
    for (_, a) in headers {
        out.push_str(if *a == Align::Right { " ---: |" } else { " --- |" });
    }
    out.push('\n');
    for r in rows {
        out.push('|');
        for c in r {
            out.push_str(&format!(" {} |", esc(c)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_table_and_markdown() {
        let h = [("Name", Align::Left), ("ARR", Align::Right)];
        let rows = vec![vec!["Acme".to_string(), "$5k".to_string()], vec!["B|x".to_string(), "$120k".to_string()]];
        assert_eq!(table(&h, &rows), "Name    ARR\n────  ─────\nAcme    $5k\nB|x   $120k\n");
        assert_eq!(markdown(&h, &rows), "| Name | ARR |\n| --- | ---: |\n| Acme | $5k |\n| B\\|x | $120k |\n");
    }
}
