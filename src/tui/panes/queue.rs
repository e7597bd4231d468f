//! The follow-up queue in three sections, Overdue, Today and Upcoming
//! (the week ahead), most urgent first in the first two, each item with
//! its account, reason and due time (local); the selected item's full
//! reason is shown at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{ago, fit_name, pane_block, scroll};
use crate::domain::calendar::Section;
use crate::domain::{FollowUpKind, Priority};
use crate::queue::Counts;
use crate::tui::app::{App, Pane};

/// The sections drawn, in order: (section, first item, items).
fn sections(c: Counts) -> Vec<(Section, usize, usize)> {
    let all = [(Section::Overdue, c.overdue), (Section::Today, c.today), (Section::Upcoming, c.upcoming)];
    let mut at = 0;
    let mut out = Vec::new();
    for (s, n) in all {
        if n > 0 {
            out.push((s, at, n));
        }
        at += n;
    }
    out
}

/// One row of the list: a section's heading, or an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Heading(Section, usize),
    Item(usize),
}

/// The list's rows: each section's heading, then its items. Items past the
/// counted sections (none in a queue in step) follow the last.
fn row_of(sections: &[(Section, usize, usize)], item: usize) -> usize {
    item + sections.iter().filter(|(_, first, _)| *first <= item).count()
}

fn at_row(sections: &[(Section, usize, usize)], row: usize) -> Row {
    let mut headings = 0;
    for (s, first, n) in sections {
        let heading_row = first + headings;
        if row == heading_row {
            return Row::Heading(*s, *n);
        }
        headings += 1;
        if row < heading_row + 1 + n {
            break;
        }
    }
    Row::Item(row - headings)
}

/// Draws the queue pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let counts = app.queue_index.counts();
    let more = if app.queue_complete { "" } else { "+" };
    // Marks first: the title is cut at the pane's width. The upcoming
    // count heads its own section.
    let marked = if app.overlays.marked.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", app.overlays.marked.len())
    };
    let title = format!("Follow-ups{marked} · {}{more} overdue · {} today ", counts.overdue, counts.today);
    let block = pane_block(app, Pane::Queue, 4, title);
    let inner = block.inner(area);
    block.render(area, buf);
    if app.queue.is_empty() {
        buf.set_stringn(inner.x + 1, inner.y, "Nothing due this week. ", inner.width as usize, app.theme.dim);
        return;
    }
    let detail_h: u16 = if inner.height >= 8 { 2 } else { 0 };
    let list_h = inner.height.saturating_sub(detail_h) as usize;
    let sections = sections(counts);
    let rows = app.queue.len() + sections.len();
    // The cursor's heading stays in sight when it is the section's first item.
    let cursor = row_of(&sections, app.selection.queue_cursor);
    let want = match sections.iter().any(|(_, first, _)| *first == app.selection.queue_cursor) {
        true => cursor.saturating_sub(1),
        false => cursor,
    };
    let mut offset = scroll(app.selection.queue_offset.get(), want, list_h, rows);
    offset = scroll(offset, cursor, list_h, rows);
    app.selection.queue_offset.set(offset);
    let w = inner.width as usize;
    let name_w = (w / 4).clamp(8, 30);
    for j in 0..list_h.min(rows.saturating_sub(offset)) {
        let y = inner.y + j as u16;
        let i = match at_row(&sections, offset + j) {
            Row::Heading(s, n) => {
                let text = format!(" {} · {n} ", s.title());
                let style = match s {
                    Section::Overdue => app.theme.overdue,
                    _ => app.theme.accent,
                }
                .add_modifier(Modifier::BOLD);
                buf.set_stringn(inner.x, y, text, w, style);
                continue;
            }
            Row::Item(i) => i,
        };
        let Some(item) = app.queue.get(i) else { break };
        let f = &item.follow_up;
        let selected = i == app.selection.queue_cursor;
        let base = match (selected, app.selection.focus == Pane::Queue) {
            (true, true) => app.theme.selected,
            (true, false) => app.theme.selected_unfocused,
            _ => app.theme.base,
        };
        // Overdue items say by how much; today's say when; upcoming ones
        // the day and hour (all local).
        let (due, due_style) = if item.is_overdue(app.now) {
            (format!("-{}", ago(item.due, app.now)), app.theme.overdue)
        } else if app.calendar.day(item.due) == app.calendar.day(app.now) {
            (app.calendar.local(item.due).format("%H:%M").to_string(), app.theme.accent)
        } else {
            (app.calendar.local(item.due).format("%a %H").to_string(), app.theme.dim)
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
        let kind_w = FollowUpKind::LABEL_WIDTH;
        let line = Line::from(vec![
            Span::styled(format!("{due:>6} "), due_style),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_sit_above_their_sections() {
        let s = sections(Counts { overdue: 2, today: 0, upcoming: 3 });
        // Overdue heading, 2 items, Upcoming heading, 3 items.
        let rows: Vec<Row> = (0..7).map(|r| at_row(&s, r)).collect();
        assert_eq!(
            rows,
            vec![
                Row::Heading(Section::Overdue, 2),
                Row::Item(0),
                Row::Item(1),
                Row::Heading(Section::Upcoming, 3),
                Row::Item(2),
                Row::Item(3),
                Row::Item(4),
            ]
        );
        for (item, row) in [(0, 1), (1, 2), (2, 4), (4, 6)] {
            assert_eq!(row_of(&s, item), row);
            assert_eq!(at_row(&s, row), Row::Item(item));
        }
        assert!(sections(Counts::default()).is_empty());
    }
}
