//! The lifecycle kanban: one column per stage with its count and ARR; the
//! selected account's card is highlighted. Only visible cards are drawn.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::widgets::Widget;

use super::{band_style, fit, money, pane_block, scroll};
use crate::domain::Stage;
use crate::tui::app::{App, Pane};

/// Draws the kanban pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = pane_block(app, Pane::Kanban, 3, "Lifecycle ".into());
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 4 || inner.width < 9 {
        return;
    }
    let cols = Layout::horizontal([Constraint::Ratio(1, 9); 9]).split(inner);
    let mut offsets = app.selection.kanban_offsets.get();
    let totals = app.book.totals();
    // Count and ARR share a line when every column is wide enough, so the
    // cards start on the same row in every column.
    let header_rows = if Stage::ALL
        .iter()
        .enumerate()
        .all(|(i, _)| totals.count[i].to_string().len() + 1 + money(totals.arr[i]).len() < cols[i].width as usize)
    {
        2
    } else {
        3
    };
    for (i, stage) in Stage::ALL.into_iter().enumerate() {
        let col = cols[i];
        let focused_col = app.selection.focus == Pane::Kanban && app.selection.kanban_col == i;
        let head_style = if focused_col { app.theme.title_focused } else { app.theme.header };
        let w = col.width.saturating_sub(1) as usize;
        let name = if w >= stage.label().len() { stage.label() } else { stage.short() };
        buf.set_stringn(col.x, col.y, fit(name, w), w, head_style);
        let count = totals.count[i];
        let (count_s, arr_s) = (count.to_string(), money(totals.arr[i]));
        buf.set_stringn(col.x, col.y + 1, fit(&count_s, w), w, app.theme.accent);
        if header_rows == 2 {
            buf.set_stringn(col.x + count_s.len() as u16 + 1, col.y + 1, &arr_s, arr_s.len(), app.theme.dim);
        } else {
            buf.set_stringn(col.x, col.y + 2, fit(&arr_s, w), w, app.theme.dim);
        }
        if i > 0 {
            for y in col.y..col.bottom() {
                buf.set_string(col.x - 1, y, "│", app.theme.border);
            }
        }
        let cards = Rect { y: col.y + header_rows, height: col.height - header_rows, ..col };
        let height = cards.height as usize;
        let len = app.book.column_len(stage);
        let cursor = app.selection.kanban_rows[i];
        let selected_here =
            app.selection.selected.and_then(|id| app.book.column_position(id)).filter(|(s, _)| *s == stage);
        if let Some((_, pos)) = selected_here {
            offsets[i] = scroll(offsets[i], pos, height, len);
        } else {
            offsets[i] = scroll(offsets[i], cursor, height, len);
        }
        for (j, r) in app.book.column_slice(stage, offsets[i], height).enumerate() {
            let y = cards.y + j as u16;
            let is_sel = Some(r.id) == app.selection.selected;
            let style = match (is_sel, app.selection.focus == Pane::Kanban) {
                (true, true) => app.theme.card_selected,
                (true, false) => app.theme.selected_unfocused.add_modifier(Modifier::BOLD),
                _ => app.theme.card,
            };
            buf.set_stringn(col.x, y, " ".repeat(w), w, style);
            buf.set_stringn(col.x, y, "●", 1, band_style(app, r.band(&app.bands)));
            buf.set_stringn(col.x + 1, y, fit(&r.name, w.saturating_sub(1)), w.saturating_sub(1), style);
        }
        // More cards than fit: say how many are hidden below.
        let shown_to = offsets[i] + height;
        if (shown_to as u64) < count && height > 0 && w >= 4 {
            let more = format!("+{}", count - shown_to as u64);
            let y = cards.bottom() - 1;
            buf.set_stringn(col.x, y, " ".repeat(w), w, app.theme.dim);
            buf.set_stringn(col.x, y, fit(&more, w), w, app.theme.dim);
        }
    }
    app.selection.kanban_offsets.set(offsets);
}
