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

/// Draws the open one-key menu centred over `area`, sized to its options:
/// as wide as the longest and one row each; when they are more than the
/// screen's rows, they run on in further columns, so every option shows.
pub fn render_picker(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(p) = &app.overlays.picker else { return };
    let footer = footer([(app.keymap.hint(KeyMode::Picker, Action::Cancel), "cancels")]);
    let title = format!(" {} ", p.title);
    let layout = picker_layout(p.options.iter().map(|(_, label)| label.as_str()), &title, &footer, area);
    let inner = overlay(app, area, (layout.width, layout.height), 1, &title, &footer, buf);
    let col_w = layout.column_width(inner.width);
    for (i, (key, label)) in p.options.iter().enumerate() {
        let (col, row) = (i / layout.rows, i % layout.rows);
        let x = inner.x + (col as u16) * (col_w + 1);
        if row >= inner.height as usize || x >= inner.right() {
            break;
        }
        let w = col_w.min(inner.right() - x);
        let line = Line::from(vec![
            Span::styled(format!("{key} "), app.theme.help_key),
            Span::styled(fit(label, w.saturating_sub(2) as usize), app.theme.base),
        ]);
        buf.set_line(x, inner.y + row as u16, &line, w);
    }
}

/// The picker's box and how its options are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickerLayout {
    /// Box width, borders included.
    pub width: u16,
    /// Box height, borders included.
    pub height: u16,
    /// Options per column.
    pub rows: usize,
    /// Columns of options.
    pub columns: usize,
}

impl PickerLayout {
    /// The width of one column of options inside `inner` columns.
    pub fn column_width(&self, inner: u16) -> u16 {
        let gaps = self.columns.saturating_sub(1) as u16;
        inner.saturating_sub(gaps) / self.columns.max(1) as u16
    }
}

/// Sizes a picker for its option labels (each drawn after its key and a
/// blank) inside `area`: one column while they fit its height, more when
/// not; at least as wide as its title and footer.
pub fn picker_layout<'a>(labels: impl Iterator<Item = &'a str>, title: &str, footer: &str, area: Rect) -> PickerLayout {
    let widths: Vec<u16> = labels.map(|l| l.chars().count() as u16 + 2).collect();
    let n = widths.len().max(1);
    // Borders and one blank on each side.
    let frame = 4;
    let rows = (area.height.saturating_sub(2) as usize).clamp(1, n);
    let columns = n.div_ceil(rows);
    let option_w = widths.iter().copied().max().unwrap_or(0);
    let chrome = (title.chars().count().max(footer.chars().count()) as u16 + 2).max(30);
    let content = option_w * columns as u16 + columns.saturating_sub(1) as u16 + frame;
    let width = content.max(chrome).min(area.width);
    PickerLayout { width, height: (rows as u16 + 2).min(area.height), rows, columns }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_fits_its_options_and_runs_on_in_columns() {
        let screen = Rect::new(0, 0, 80, 24);
        let five = ["follow-up", "next-steps", "closing", "renewal-nudge", "thanks"];
        let l = picker_layout(five.into_iter(), " Reply with ", "esc cancels", screen);
        assert_eq!((l.rows, l.columns, l.height), (5, 1, 7), "one row per option");
        assert_eq!(l.width, 30, "the title and footer set the least width");
        let long = ["a saved reply with a rather long name for the renewal"];
        let l = picker_layout(long.into_iter(), " Reply with ", "esc cancels", screen);
        assert_eq!(l.width, 4 + 2 + long[0].len() as u16, "as wide as the longest option");
        let many: Vec<String> = (0..35).map(|i| format!("reply {i}")).collect();
        let l = picker_layout(many.iter().map(String::as_str), " Reply with ", "esc cancels", screen);
        assert_eq!((l.rows, l.columns, l.height), (22, 2, 24), "more than the screen holds: a second column");
        assert!(l.rows * l.columns >= 35);
        let tiny = picker_layout(many.iter().map(String::as_str), "", "", Rect::new(0, 0, 20, 5));
        assert!(tiny.width <= 20 && tiny.height <= 5);
    }
}
