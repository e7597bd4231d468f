//! The status line: workspace, source freshness, toasts, key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::display::ago;
use crate::tui::action::Action;
use crate::tui::app::{App, Mode, Pane};
use crate::tui::keymap::{in_parens, joined, KeyMode};
use crate::tui::toasts::Level;

/// Draws the status line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    buf.set_style(area, t.status);
    let mut spans =
        vec![Span::styled(" cockpit ", t.status_key), Span::styled(format!("{} · ", app.status.workspace), t.status)];
    if app.status.sources.is_empty() {
        spans.push(Span::styled(format!("{} ", app.status.data_label), t.status));
    }
    for s in &app.status.sources {
        let (text, style) = match (&s.running, &s.last) {
            (Some(n), _) => (format!("{} ⟳ {n} ", s.name), t.accent),
            (None, Some(st)) if st.ok => (format!("{} ✓ synced {} ago ", s.name, ago(st.at, app.now)), t.status),
            (None, Some(st)) => (format!("{} ✗ offline since {} ago ", s.name, ago(st.at, app.now)), t.warning),
            (None, None) => (format!("{} · never synced ", s.name), t.dim),
        };
        spans.push(Span::styled(text, style));
    }
    let c = app.status.outbox_counts;
    if c.pending + c.failed + c.conflict > 0 {
        let style = if c.failed + c.conflict > 0 { t.warning } else { t.status };
        let mut text = format!("outbox {}", c.pending);
        if c.failed + c.conflict > 0 {
            let o = in_parens(&app.keymap, KeyMode::Normal, Action::Outbox);
            text.push_str(&format!(" · {} need you{o}", c.failed + c.conflict));
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
        let hints = hints(app);
        spans.push(Span::styled("│", t.status));
        for (k, what) in hints {
            spans.push(Span::styled(format!(" {k}"), t.status_key));
            spans.push(Span::styled(format!(" {what}"), t.status));
        }
    }
    // The clock only where it does not crowd out the key hints.
    // The user's time, with their zone's abbreviation ("PST", "CET").
    let clock = if area.width >= 110 {
        app.calendar.local(app.now).format(" %a %d %b %H:%M %Z ").to_string()
    } else {
        String::new()
    };
    let clock_w = clock.chars().count() as u16;
    buf.set_line(area.x, area.y, &Line::from(spans), area.width.saturating_sub(clock_w));
    if clock_w > 0 {
        buf.set_string(area.right() - clock_w, area.y, clock, t.status);
    }
}

/// The key hints for the mode, written from its keymap: an action without a key has no hint.
fn hints(app: &App) -> Vec<(String, &'static str)> {
    use Action as A;
    let mode = app.overlays.mode.keys();
    let one = |a: Action, what: &'static str| Some((app.keymap.hint(mode, a)?, what));
    let stage = || Some((joined(&app.keymap, mode, &[A::StagePrev, A::StageNext], "")?, "stage"));
    let hints = match app.overlays.mode {
        Mode::Filter => vec![one(A::Keep, "keep"), one(A::Clear, "clear")],
        Mode::Help | Mode::Metrics => vec![one(A::Close, "close")],
        // The account view names its keys in its own frame.
        Mode::Account => vec![one(A::NextSection, "section"), one(A::Close, "back")],
        Mode::Sentiment => vec![
            one(A::Sentiment1, "worried"),
            one(A::Sentiment3, "neutral"),
            one(A::Sentiment5, "confident"),
            one(A::Cancel, "cancel"),
        ],
        // The options' keys are in the menu itself.
        Mode::Pick => vec![Some(("key".into(), "choose")), one(A::Cancel, "cancel")],
        Mode::Compose => vec![one(A::Submit, "save"), one(A::ExternalEditor, "$EDITOR"), one(A::Cancel, "cancel")],
        Mode::Undo => vec![one(A::UndoTo, "undo down to here"), one(A::Close, "close")],
        Mode::Confirm => vec![one(A::Yes, "yes"), one(A::No, "no")],
        Mode::Outbox => {
            vec![one(A::Retry, "retry"), one(A::Edit, "edit"), one(A::Discard, "discard"), one(A::Close, "close")]
        }
        Mode::Normal if app.selection.focus == Pane::Queue => vec![
            one(A::Done, "done"),
            one(A::Snooze, "snooze"),
            one(A::Note, "note"),
            one(A::Reply, "reply"),
            one(A::Log, "log"),
            one(A::Undo, "undo"),
            one(A::Help, "more"),
        ],
        Mode::Normal if !app.status.sources.is_empty() => {
            vec![one(A::Help, "help"), one(A::Filter, "filter"), stage(), one(A::Sync, "sync"), one(A::Quit, "quit")]
        }
        Mode::Normal => {
            vec![
                one(A::Help, "help"),
                one(A::Filter, "filter"),
                one(A::FocusNext, "pane"),
                stage(),
                one(A::Quit, "quit"),
            ]
        }
    };
    hints.into_iter().flatten().collect()
}
