//! The list of recent actions (`U`) and the yes / no question, drawn over
//! the panes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{ago, fit, overlay};
use crate::engine::act::CanUndo;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{footer, joined, KeyMode};

/// Draws the recent actions, newest first, each with whether it can still
/// be undone (and why not), centred over `area`.
pub fn render_undo(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let width = 100.min(area.width);
    let height = area.height.saturating_sub(4).clamp(6, 26);
    let (km, mode) = (&app.keymap, KeyMode::Undo);
    let footer = footer([
        (joined(km, mode, &[Action::Down, Action::Up], "/"), "move"),
        (km.hint(mode, Action::UndoTo), "undoes down to here"),
        (km.hint(mode, Action::Close), "closes"),
    ]);
    let list = &app.overlays.undo;
    let title = format!(" Recent actions · {} · newest first ", list.items.len());
    let inner = overlay(app, area, (width, height), 1, &title, &footer, buf);
    if list.items.is_empty() {
        let msg = if list.loading { "Reading the recent actions…" } else { "Nothing to undo: no action yet." };
        buf.set_stringn(inner.x, inner.y, msg, inner.width as usize, t.dim);
        return;
    }
    let detail_h = 2u16.min(inner.height / 3);
    let rows = (inner.height - detail_h) as usize;
    let first = list.cursor.saturating_sub(rows.saturating_sub(1));
    let w = inner.width as usize;
    for (i, item) in list.items.iter().enumerate().skip(first).take(rows) {
        let (state, style) = match item.can {
            CanUndo::Yes => ("undoable", t.base),
            CanUndo::Reached(_) => ("sent", t.dim),
            CanUndo::After { .. } => ("kept", t.dim),
        };
        let base = if i == list.cursor { t.selected } else { t.base };
        let line = Line::from(vec![
            Span::styled(format!("{:>4} ago ", ago(item.at, app.now)), t.dim),
            Span::styled(format!("{state:<9}"), style),
            Span::styled(fit(&item.what, w.saturating_sub(18)), base),
        ]);
        let y = inner.y + (i - first) as u16;
        buf.set_stringn(inner.x, y, " ".repeat(w), w, base);
        buf.set_line(inner.x, y, &line, inner.width);
    }
    if let Some(item) = list.items.get(list.cursor) {
        let text = match item.can.why_not() {
            Some(why) => format!("Cannot be undone: {why}."),
            None => {
                let newer = list.items[..list.cursor].iter().filter(|i| i.can == CanUndo::Yes).count();
                match newer {
                    0 => "Undoing it takes back only this action.".to_string(),
                    n => format!("Undoing it also takes back the {n} newer action(s) above that can be."),
                }
            }
        };
        let r = Rect { y: inner.bottom() - detail_h, height: detail_h, ..inner };
        Paragraph::new(text).style(t.dim).wrap(Wrap { trim: true }).render(r, buf);
    }
}

/// Draws the question asked, centred over `area`.
pub fn render_confirm(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(c) = &app.overlays.confirm else { return };
    let width = 84.min(area.width);
    let text_w = width.saturating_sub(4).max(1) as usize;
    let lines = (c.question.chars().count() / text_w + 1) as u16;
    let height = (lines + 2).min(area.height);
    let (km, mode) = (&app.keymap, KeyMode::Confirm);
    let footer = footer([(km.hint(mode, Action::Yes), "yes"), (km.hint(mode, Action::No), "no")]);
    let inner = overlay(app, area, (width, height), 1, " Are you sure? ", &footer, buf);
    Paragraph::new(c.question.as_str()).style(app.theme.base).wrap(Wrap { trim: true }).render(inner, buf);
}
