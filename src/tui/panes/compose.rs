//! The inline editor and the one-key menus, drawn over the panes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{fit, overlay};
use crate::tui::app::App;

/// Draws the open editor (with its cursor) centred over `area`.
pub fn render_composer(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(c) = &app.composer else { return };
    let single = c.purpose.single_line();
    let width = 76.min(area.width);
    let height = if single { 3 } else { 16.min(area.height) };
    let footer =
        if single { " enter saves · esc cancels " } else { " ctrl-s saves · ctrl-e opens $EDITOR · esc cancels " };
    let title = format!(" {} ", fit(&c.title, width.saturating_sub(4) as usize));
    let inner = overlay(app, area, (width, height), 1, &title, footer, buf);
    let rows = inner.height as usize;
    // Keep the cursor's line in view.
    let first = c.row.saturating_sub(rows.saturating_sub(1));
    let w = inner.width as usize;
    for (i, line) in c.lines.iter().skip(first).take(rows).enumerate() {
        let y = inner.y + i as u16;
        // Long lines scroll sideways on the cursor's line only.
        let shift = if first + i == c.row { c.cursor_x().saturating_sub(w.saturating_sub(1)) } else { 0 };
        let visible: String = skip_width(line, shift);
        buf.set_stringn(inner.x, y, visible, w, app.theme.base);
    }
    let cy = inner.y + (c.row - first) as u16;
    let shift = c.cursor_x().saturating_sub(w.saturating_sub(1));
    let cx = inner.x + (c.cursor_x() - shift) as u16;
    if cx < inner.right() && cy < inner.bottom() {
        if let Some(cell) = buf.cell_mut((cx, cy)) {
            cell.set_style(app.theme.selected.add_modifier(Modifier::REVERSED));
            if cell.symbol().trim().is_empty() {
                cell.set_symbol("▏");
            }
        }
    }
}

fn skip_width(line: &str, cols: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    line.chars()
        .skip_while(|ch| {
            let skip = used < cols;
            used += ch.width().unwrap_or(0);
            skip
        })
        .collect()
}

/// Draws the open one-key menu centred over `area`.
pub fn render_picker(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(p) = &app.picker else { return };
    let width = 44.min(area.width);
    let height = (p.options.len() as u16 + 2).min(area.height);
    let inner = overlay(app, area, (width, height), 1, &format!(" {} ", p.title), " esc cancels ", buf);
    for (i, (key, label)) in p.options.iter().enumerate().take(inner.height as usize) {
        let line = Line::from(vec![
            Span::styled(format!("{key} "), app.theme.help_key),
            Span::styled(fit(label, inner.width.saturating_sub(2) as usize), app.theme.base),
        ]);
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}
