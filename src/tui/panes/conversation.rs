//! A ticket's conversation in the account view: each comment with its
//! author, moment and whether the customer saw it, its text as plain text
//! (every line made safe for the terminal), and when the copy shown was
//! read from the desk.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::wrap;
use crate::domain::text::sanitize;
use crate::tui::account_view::ConversationView;
use crate::tui::app::App;
use crate::tui::reads::TicketView;

/// The conversation's lines at `width` columns.
pub fn lines(app: &App, c: &ConversationView, ticket: Option<&TicketView>, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let width = width.max(20);
    let mut out: Vec<Line<'static>> = Vec::new();
    let para = |out: &mut Vec<Line<'static>>, text: &str, style, indent: usize| {
        for l in wrap(text, width.saturating_sub(indent).max(10)) {
            out.push(Line::styled(format!("{}{l}", " ".repeat(indent)), style));
        }
    };
    if let Some(v) = ticket {
        let tk = &v.ticket;
        para(&mut out, &format!("#{} {}", tk.id, sanitize(&tk.subject)), t.base.add_modifier(Modifier::BOLD), 0);
        let status = crate::sync::push::desk::status_name(tk.status);
        para(&mut out, &format!("{status} · opened by {} on {}", v.shown, app.calendar.day(tk.created_at)), t.dim, 0);
    }
    let state = match (&c.kept, c.fetching, c.looked) {
        (_, _, false) => "Reading the kept copy…".to_string(),
        (Some(k), true, _) => {
            format!("Kept as of {} · reading it again from the desk…", app.calendar.minute(k.kept_at))
        }
        (None, true, _) => "Reading the conversation from the desk…".to_string(),
        (Some(k), false, _) => format!(
            "{} comments · kept as of {} ({} ago)",
            k.comments.len(),
            app.calendar.minute(k.kept_at),
            super::ago(k.kept_at, app.now)
        ),
        (None, false, _) => String::new(),
    };
    if !state.is_empty() {
        para(&mut out, &state, t.accent, 0);
    }
    if let Some(trouble) = &c.trouble {
        para(&mut out, &sanitize(trouble), t.warning, 0);
    }
    out.push(Line::raw(""));
    let Some(k) = &c.kept else { return out };
    if k.comments.is_empty() {
        para(&mut out, "The desk holds no comments on this ticket.", t.dim, 0);
    }
    for cm in &k.comments {
        let (kind, style) = if cm.public { ("public reply", t.accent) } else { ("internal note", t.warning) };
        let head = format!("── {} · {} · ", sanitize(&cm.author), app.calendar.minute(cm.at));
        out.push(Line::from(vec![
            Span::styled(head, t.title_focused.add_modifier(Modifier::BOLD)),
            Span::styled(kind.to_string(), style),
        ]));
        for l in cm.lines() {
            if l.is_empty() {
                out.push(Line::raw(""));
            } else {
                para(&mut out, &l, t.base, 2);
            }
        }
        out.push(Line::raw(""));
    }
    out
}
