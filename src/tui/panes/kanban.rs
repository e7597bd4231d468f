//! The lifecycle kanban: one column per stage with its count and ARR; the
//! selected account's card is highlighted. Only visible cards are drawn,
//! and only the columns that fit with readable cards.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::widgets::Widget;

use super::{band_style, fit, fit_name, money, pane_block, scroll, widths};
use crate::domain::Stage;
use crate::tui::app::{App, Pane};

/// Draws the kanban pane. When the nine columns cannot all hold cards of
/// `widths::CARD_MIN`, the columns around the focused one are drawn and
/// the title and the borders say which are off-screen.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let shown = widths::board_columns(area.width.saturating_sub(2));
    let first = widths::board_first(app.selection.kanban_first.get(), app.selection.kanban_col, shown);
    app.selection.kanban_first.set(first);
    let visible = first..first + shown;
    let title = if shown < Stage::ALL.len() {
        format!("Lifecycle · stages {}-{} of {} ", first + 1, first + shown, Stage::ALL.len())
    } else {
        "Lifecycle ".into()
    };
    let block = pane_block(app, Pane::Kanban, 3, title);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 4 || inner.width < 9 {
        return;
    }
    let cols = Layout::horizontal(vec![Constraint::Ratio(1, shown as u32); shown]).split(inner);
    let mut offsets = app.selection.kanban_offsets.get();
    let totals = app.book.totals();
    // Count and ARR share a line when every column is wide enough, so the
    // cards start on the same row in every column.
    let header_rows = if visible
        .clone()
        .zip(cols.iter())
        .all(|(i, col)| totals.count[i].to_string().len() + 1 + money(totals.arr[i]).len() < col.width as usize)
    {
        2
    } else {
        3
    };
    // Columns off-screen: an arrow on the border beside the headers.
    if first > 0 {
        buf.set_string(area.x, inner.y, "◀", app.theme.accent);
    }
    if first + shown < Stage::ALL.len() {
        buf.set_string(area.right() - 1, inner.y, "▶", app.theme.accent);
    }
    for (k, i) in visible.enumerate() {
        let stage = Stage::ALL[i];
        let col = cols[k];
        let focused_col = app.selection.focus == Pane::Kanban && app.selection.kanban_col == i;
        let head_style = if focused_col { app.theme.title_focused } else { app.theme.header };
        let w = col.width.saturating_sub(1) as usize;
        buf.set_stringn(col.x, col.y, fit(stage.label_within(w), w), w, head_style);
        let count = totals.count[i];
        let (count_s, arr_s) = (count.to_string(), money(totals.arr[i]));
        buf.set_stringn(col.x, col.y + 1, fit(&count_s, w), w, app.theme.accent);
        if header_rows == 2 {
            buf.set_stringn(col.x + count_s.len() as u16 + 1, col.y + 1, &arr_s, arr_s.len(), app.theme.dim);
        } else {
            buf.set_stringn(col.x, col.y + 2, fit(&arr_s, w), w, app.theme.dim);
        }
        if k > 0 {
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
            let churned = r.stage == Stage::Churned;
            let style = match (is_sel, app.selection.focus == Pane::Kanban) {
                (true, true) => app.theme.card_selected,
                (true, false) => app.theme.selected_unfocused.add_modifier(Modifier::BOLD),
                _ if churned => app.theme.dim,
                _ => app.theme.card,
            };
            buf.set_stringn(col.x, y, " ".repeat(w), w, style);
            let text_w = w.saturating_sub(1);
            if churned {
                // Its last score is stale: the day it left instead, when
                // the card has room for it beside the name.
                buf.set_stringn(col.x, y, "×", 1, app.theme.dim);
                let day = app.book.churned_on(r.id).map(|d| match text_w {
                    20.. => d.format(" %Y-%m-%d").to_string(),
                    16.. => d.format(" %Y-%m").to_string(),
                    _ => String::new(),
                });
                let day = day.unwrap_or_default();
                let name_w = text_w.saturating_sub(day.chars().count());
                let text = format!("{:<name_w$}{day}", fit_name(app, r.id, &r.name, name_w));
                buf.set_stringn(col.x + 1, y, text, text_w, style);
            } else {
                buf.set_stringn(col.x, y, "●", 1, band_style(app, r.band(&app.bands)));
                buf.set_stringn(col.x + 1, y, fit_name(app, r.id, &r.name, text_w), text_w, style);
            }
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
