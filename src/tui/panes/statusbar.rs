//! The status line: workspace, source freshness, toasts, key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::display::ago;
use crate::tui::app::{App, Level, Mode};

/// Draws the status line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    buf.set_style(area, t.status);
    let mut spans =
        vec![Span::styled(" cockpit ", t.status_key), Span::styled(format!("{} · ", app.workspace), t.status)];
    if app.sources.is_empty() {
        spans.push(Span::styled(format!("{} ", app.data_label), t.status));
    }
    for s in &app.sources {
        let (text, style) = match (&s.running, &s.last) {
            (Some(n), _) => (format!("{} ⟳ {n} ", s.name), t.accent),
            (None, Some(st)) if st.ok => (format!("{} ✓ synced {} ago ", s.name, ago(st.at, app.now)), t.status),
            (None, Some(st)) => (format!("{} ✗ offline since {} ago ", s.name, ago(st.at, app.now)), t.warning),
            (None, None) => (format!("{} · never synced ", s.name), t.dim),
        };
        spans.push(Span::styled(text, style));
    }
    let c = app.outbox_counts;
    if c.pending + c.failed + c.conflict > 0 {
        let style = if c.failed + c.conflict > 0 { t.warning } else { t.status };
        let mut text = format!("outbox {}", c.pending);
        if c.failed + c.conflict > 0 {
            text.push_str(&format!(" · {} need you (o)", c.failed + c.conflict));
        }
        spans.push(Span::styled(format!("{text} "), style));
    }
    if let Some(toast) = app.toasts.last() {
        let style = match toast.level {
            Level::Info => t.accent,
            Level::Warning => t.warning,
            Level::Error => t.error,
        };
        spans.push(Span::styled("│ ", t.status));
        // The count goes first so a long message cannot push it off screen.
        if app.toasts.len() > 1 {
            spans.push(Span::styled(format!("(+{} more, see the log) ", app.toasts.len() - 1), t.status));
        }
        spans.push(Span::styled(format!("{} ", toast.text), style));
    } else {
        let hints: &[(&str, &str)] = match app.mode {
            Mode::Filter => &[("enter", "keep"), ("esc", "clear")],
            Mode::Help | Mode::Metrics | Mode::Detail => &[("esc", "close")],
            Mode::Sentiment => &[("1", "worried"), ("3", "neutral"), ("5", "confident"), ("esc", "cancel")],
            Mode::Pick => &[("key", "choose"), ("esc", "cancel")],
            Mode::Compose => &[("ctrl-s", "save"), ("ctrl-e", "$EDITOR"), ("esc", "cancel")],
            Mode::Outbox => &[("r", "retry"), ("e", "edit"), ("x", "discard"), ("esc", "close")],
            Mode::Normal if app.focus == crate::tui::app::Pane::Queue => &[
                ("d", "done"),
                ("p", "snooze"),
                ("n", "note"),
                ("R", "reply"),
                ("L", "log"),
                ("u", "undo"),
                ("?", "more"),
            ],
            Mode::Normal if !app.sources.is_empty() => {
                &[("?", "help"), ("/", "filter"), ("<>", "stage"), ("r", "sync"), ("q", "quit")]
            }
            Mode::Normal => &[("?", "help"), ("/", "filter"), ("tab", "pane"), ("<>", "stage"), ("q", "quit")],
        };
        spans.push(Span::styled("│", t.status));
        for (k, what) in hints {
            spans.push(Span::styled(format!(" {k}"), t.status_key));
            spans.push(Span::styled(format!(" {what}"), t.status));
        }
    }
    // The clock only where it does not crowd out the key hints.
    let clock = if area.width >= 110 { app.now.format(" %a %d %b %H:%M UTC ").to_string() } else { String::new() };
    let clock_w = clock.chars().count() as u16;
    buf.set_line(area.x, area.y, &Line::from(spans), area.width.saturating_sub(clock_w));
    if clock_w > 0 {
        buf.set_string(area.right() - clock_w, area.y, clock, t.status);
    }
}
