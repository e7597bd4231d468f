//! A ticket's conversation as the support desk keeps it: its comments in
//! order, who wrote each, whether the customer could see it, and when the
//! cockpit last read it (so it reads offline afterwards).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::sanitize;

/// One comment on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The desk's comment id.
    pub id: u64,
    /// Who wrote it, as the desk names them (raw; sanitize before drawing).
    pub author: String,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Whether the customer can see it (a reply), or only agents (a note).
    pub public: bool,
    /// The text as plain text (raw; sanitize each line before drawing).
    pub body: String,
}

impl Comment {
    /// The body's lines, each made safe for a terminal, blank lines kept
    /// once between paragraphs.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for raw in self.body.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
            let line = sanitize(raw).trim_end().to_string();
            if line.trim().is_empty() && out.last().is_none_or(|l| l.is_empty()) {
                continue;
            }
            out.push(if line.trim().is_empty() { String::new() } else { line });
        }
        while out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out
    }
}

/// A ticket's comments, oldest first, as read from the desk at `kept_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The ticket.
    pub ticket: u64,
    /// The source it was read from ("support", or the demo's).
    pub source: String,
    /// When it was read.
    pub kept_at: DateTime<Utc>,
    /// The comments, oldest first.
    pub comments: Vec<Comment>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_body_is_made_safe_and_its_paragraphs_kept() {
        let c = Comment {
            id: 1,
            author: "Ana".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
            public: true,
            body: "Hi,\r\n\r\n\r\nthe export \u{1b}[31mfails\u{1b}[0m.\n\nThanks\n\n".into(),
        };
        assert_eq!(c.lines(), ["Hi,", "", "the export fails.", "", "Thanks"]);
    }
}
