//! Today's follow-up queue: overdue and due items, most urgent first, each
//! with its account, reason and due time; the selected item's full reason
//! is shown at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{ago, fit_name, pane_block, scroll};
use crate::domain::{FollowUpKind, Priority};
use crate::tui::app::{App, Pane};

/// Draws the queue pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let (overdue, today) = app.queue_index.counts();
    let more = if app.queue_complete { "" } else { "+" };
    let marked = if app.overlays.marked.is_empty() {
        String::new()
    } else {
        format!("· {} marked ", app.overlays.marked.len())
    };
    let title = format!("Follow-ups · {overdue}{more} overdue · {today} today {marked}");
    let block = pane_block(app, Pane::Queue, 4, title);
    let inner = block.inner(area);
    block.render(area, buf);
    if app.queue.is_empty() {
        buf.set_stringn(inner.x + 1, inner.y, "Nothing due today. ", inner.width as usize, app.theme.dim);
        return;
    }
    let detail_h: u16 = if inner.height >= 8 { 2 } else { 0 };
    let list_h = inner.height.saturating_sub(detail_h) as usize;
    let offset = scroll(app.selection.queue_offset.get(), app.selection.queue_cursor, list_h, app.queue.len());
    app.selection.queue_offset.set(offset);
    let w = inner.width as usize;
    for (j, item) in app.queue.iter().skip(offset).take(list_h).enumerate() {
        let f = &item.follow_up;
        let y = inner.y + j as u16;
        let selected = offset + j == app.selection.queue_cursor;
        let base = match (selected, app.selection.focus == Pane::Queue) {
            (true, true) => app.theme.selected,
            (true, false) => app.theme.selected_unfocused,
            _ => app.theme.base,
        };
        // Overdue items say by how much; today's say when.
        let (due, due_style) = if f.is_overdue(app.now) {
            (format!("-{}", ago(f.due, app.now)), app.theme.overdue)
        } else {
            (f.due.format("%H:%M").to_string(), app.theme.accent)
        };
        let mark = if app.overlays.marked.contains(&f.id) {
            "●"
        } else {
            match f.priority {
                Priority::Urgent => "‼",
                Priority::High => "!",
                _ => " ",
            }
        };
        // The name keeps a quarter of the row, the kind column is as wide as
        // the widest kind, and the reason has the rest.
        let name_w = (w / 4).clamp(8, 30);
        let kind_w = FollowUpKind::LABEL_WIDTH;
        let line = Line::from(vec![
            Span::styled(format!("{due:>5} "), due_style),
            Span::styled(mark, app.theme.warning),
            Span::styled(
                format!("{:<name_w$} ", fit_name(app, f.account_id, &item.account, name_w)),
                base.add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("{:<kind_w$} ", f.kind.label()), app.theme.dim),
            Span::styled(&*item.reason, base),
        ]);
        buf.set_stringn(inner.x, y, " ".repeat(w), w, base);
        buf.set_line(inner.x, y, &line, inner.width);
    }
    if detail_h > 0 {
        if let Some(item) = app.selection.queue_item(&app.queue) {
            let area = Rect { y: inner.bottom() - detail_h, height: detail_h, ..inner };
            let text =
                Line::from(vec![Span::styled("Why: ", app.theme.accent), Span::styled(&*item.reason, app.theme.base)]);
            Paragraph::new(text).wrap(Wrap { trim: true }).render(area, buf);
        }
    }
}
