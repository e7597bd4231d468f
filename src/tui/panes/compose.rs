//! The inline editor and the one-key menus, drawn over the panes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use unicode_width::UnicodeWidthChar;

use super::{fit, overlay};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{footer, KeyMode};

/// Draws the open editor (with its cursor) centred over `area`.
pub fn render_composer(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(c) = &app.overlays.composer else { return };
    let single = c.purpose.single_line();
    let width = 76.min(area.width);
    let height = if single { 3 } else { 16.min(area.height) };
    let (km, mode) = (&app.keymap, KeyMode::Editor);
    let cancel = (km.hint(mode, Action::Cancel), "cancels");
    // A one-line prompt ends with enter: that is the text's line end, not a binding.
    let footer = match single {
        true => footer([(Some("enter".into()), "saves"), cancel]),
        false => footer([
            (km.hint(mode, Action::Submit), "saves"),
            (km.hint(mode, Action::ExternalEditor), "opens $EDITOR"),
            cancel,
        ]),
    };
    let title = format!(" {} ", fit(&c.title, width.saturating_sub(4) as usize));
    let inner = overlay(app, area, (width, height), 1, &title, &footer, buf);
    let rows = inner.height as usize;
    let w = (inner.width as usize).max(1);
    // Soft wrap: each line is cut into rows of the box's width, and the
    // cursor is found in those rows.
    let mut visual: Vec<String> = Vec::new();
    let mut cursor = (0usize, 0usize);
    for (i, line) in c.lines.iter().enumerate() {
        let start = visual.len();
        let mut row = String::new();
        let mut used = 0;
        for ch in line.chars() {
            let cw = ch.width().unwrap_or(0);
            if used + cw > w {
                visual.push(std::mem::take(&mut row));
                used = 0;
            }
            row.push(ch);
            used += cw;
        }
        visual.push(row);
        if i == c.row {
            let x = c.cursor_x();
            cursor = (start + x / w, x % w);
        }
    }
    let first = cursor.0.saturating_sub(rows.saturating_sub(1));
    for (i, text) in visual.iter().skip(first).take(rows).enumerate() {
        buf.set_stringn(inner.x, inner.y + i as u16, text, w, app.theme.base);
    }
    let (cx, cy) = (inner.x + cursor.1 as u16, inner.y + (cursor.0 - first) as u16);
    if cx < inner.right() && cy < inner.bottom() {
        if let Some(cell) = buf.cell_mut((cx, cy)) {
            cell.set_style(app.theme.selected.add_modifier(Modifier::REVERSED));
            if cell.symbol().trim().is_empty() {
                cell.set_symbol("▏");
            }
        }
    }
}

/// Draws the open one-key menu centred over `area`.
pub fn render_picker(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(p) = &app.overlays.picker else { return };
    let width = 44.min(area.width);
    let height = (p.options.len() as u16 + 2).min(area.height);
    let footer = footer([(app.keymap.hint(KeyMode::Picker, Action::Cancel), "cancels")]);
    let inner = overlay(app, area, (width, height), 1, &format!(" {} ", p.title), &footer, buf);
    for (i, (key, label)) in p.options.iter().enumerate().take(inner.height as usize) {
        let line = Line::from(vec![
            Span::styled(format!("{key} "), app.theme.help_key),
            Span::styled(fit(label, inner.width.saturating_sub(2) as usize), app.theme.base),
        ]);
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}
