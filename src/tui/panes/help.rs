//! The `?` overlay: every binding of the active keymap, generated from it.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Row, Table, Widget};

use crate::tui::action::Action;
use crate::tui::app::App;

/// Draws the help overlay centred over `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let rows: Vec<Row> = Action::ALL
        .iter()
        .map(|a| {
            Row::new(vec![
                Span::styled(app.keymap.keys_for(*a).join(" "), app.theme.help_key),
                Span::styled(a.describe(), app.theme.base),
            ])
        })
        .collect();
    let height = (rows.len() as u16 + 4).min(area.height);
    let width = 72.min(area.width);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    Clear.render(popup, buf);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(app.theme.border_focused)
        .style(app.theme.base)
        .title(Span::styled(" Keys ", app.theme.title_focused))
        .title_bottom(Line::from(Span::styled(
            " esc or ? closes · in filter: enter keeps, esc clears ",
            app.theme.dim,
        )));
    let table = Table::new(rows, [Constraint::Length(20), Constraint::Fill(1)]).block(block).column_spacing(2);
    Widget::render(table, popup, buf);
}
