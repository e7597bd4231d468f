//! The accounts table: only the visible slice of the sorted, filtered view.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::{ago, band_style, money, pane_block, scroll};
use crate::tui::app::{App, Mode, Pane};

/// Draws the accounts pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let book = &app.book;
    let (key, rev) = book.sort();
    let mut title = format!("Accounts {}", book.total());
    if book.view_len() as u64 != book.total() && book.is_complete() {
        title = format!("Accounts {}/{}", book.view_len(), book.total());
    }
    title.push_str(&format!(" · by {} {} ", key.label(), if rev { "↓" } else { "↑" }));
    if !book.is_complete() {
        title.push_str("· loading… ");
    }
    let mut block = pane_block(app, Pane::Accounts, 1, title);
    if app.overlays.mode == Mode::Filter || !book.filter().is_empty() {
        let cursor = if app.overlays.mode == Mode::Filter { "▏" } else { "" };
        block = block.title_bottom(Line::from(vec![
            Span::styled(" / ", app.theme.accent),
            Span::styled(format!("{}{cursor} ", book.filter()), app.theme.base.add_modifier(Modifier::BOLD)),
        ]));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    let height = inner.height.saturating_sub(1) as usize;
    app.selection.table_height.set(height.max(1));
    let offset = scroll(app.selection.table_offset.get(), app.selection.table_cursor, height, book.view_len());
    app.selection.table_offset.set(offset);

    let today = app.now.date_naive();
    let dim = app.theme.dim;
    let rows = book.view_slice(offset, height).map(|r| {
        let band = r.band(&app.bands);
        let health = match r.health {
            Some(h) => format!("{h:>3}{}", r.trend().arrow()),
            None => "  —".into(),
        };
        let renew = r.days_to_renewal(today);
        let renew_style = if (0..=30).contains(&renew) && r.stage.is_active() { app.theme.warning } else { dim };
        let touch = r.last_touch.map(|t| ago(t, app.now)).unwrap_or_else(|| "never".into());
        // A support organization of its own: no contract to renew, and a
        // mark that says why it stands apart.
        let support = book.support_only(r.id);
        let name = match support {
            Some(s) if s.is_ambiguous() => {
                Line::from(vec![Span::raw(r.name.as_str()), Span::styled(" ⚑ambiguous", app.theme.warning)])
            }
            Some(_) => Line::from(vec![Span::raw(r.name.as_str()), Span::styled(" ·support only", dim)]),
            None => Line::from(r.name.as_str()),
        };
        let renew_text = if support.is_some() { "—".to_string() } else { format!("{renew}d") };
        Row::new(vec![
            Cell::from(name),
            Cell::from(Span::styled(r.segment.label(), dim)),
            Cell::from(Line::from(money(r.arr)).right_aligned()),
            Cell::from(Span::styled(health, band_style(app, band))),
            Cell::from(r.stage.short()),
            Cell::from(Line::from(Span::styled(renew_text, renew_style)).right_aligned()),
            Cell::from(Line::from(r.open_tickets.to_string()).right_aligned()),
            Cell::from(Line::from(Span::styled(touch, dim)).right_aligned()),
        ])
    });
    let header = Row::new(["Name", "Seg", "ARR", "Hlth", "Stage", "Renew", "Tix", "Touch"]).style(app.theme.header);
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(3),
        Constraint::Length(5),
    ];
    let highlight =
        if app.selection.focus == Pane::Accounts { app.theme.selected } else { app.theme.selected_unfocused };
    let table = Table::new(rows, widths).header(header).row_highlight_style(highlight).column_spacing(1);
    let mut state = TableState::default();
    if book.view_len() > 0 {
        state.select(Some(app.selection.table_cursor.saturating_sub(offset)));
    }
    StatefulWidget::render(table, inner, buf, &mut state);
    if book.view_len() == 0 {
        let msg = if book.filter().is_empty() {
            "No accounts yet. Run `cockpit --demo` to explore, or configure a source."
        } else {
            "No account matches the filter. Esc clears it."
        };
        let y = inner.y + 1.min(inner.height.saturating_sub(1));
        buf.set_stringn(inner.x + 1, y, msg, inner.width.saturating_sub(2) as usize, dim);
    }
}
