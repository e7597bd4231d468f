//! The `?` overlay: every binding of the active keymap, generated from it.
//! On a short terminal the list flows into two columns so nothing is cut.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Row, Table, Widget};

use super::overlay;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{any_of, KeyMode};

/// Draws the help overlay centred over `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let km = &app.keymap;
    let entries: Vec<(String, &str)> =
        KeyMode::Normal.actions().iter().map(|a| (km.keys_for(KeyMode::Normal, *a).join(" "), a.describe())).collect();
    let fits_one = entries.len() as u16 + 2 <= area.height;
    let columns = if fits_one { 1 } else { 2 };
    let per_column = entries.len().div_ceil(columns);
    let height = (per_column as u16 + 2).min(area.height);
    let width = if columns == 1 { 72 } else { 120 }.min(area.width);
    let filter: Vec<String> = [(Action::Keep, "keeps"), (Action::Clear, "clears")]
        .into_iter()
        .filter_map(|(a, what)| Some(format!("{} {what}", km.hint(KeyMode::Filter, a)?)))
        .collect();
    let mut parts: Vec<String> =
        any_of(km, KeyMode::Help, Action::Close).map(|k| format!("{k} closes")).into_iter().collect();
    if !filter.is_empty() {
        parts.push(format!("in filter: {}", filter.join(", ")));
    }
    let footer = format!(" {} ", parts.join(" · "));
    let inner = overlay(app, area, (width, height), 0, " Keys ", &footer, buf);
    let key_width = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(8).min(14) as u16;
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(inner);
    for (col, chunk) in entries.chunks(per_column).enumerate() {
        let rows = chunk.iter().map(|(k, d)| {
            Row::new(vec![Span::styled(k.clone(), app.theme.help_key), Span::styled(*d, app.theme.base)])
        });
        Table::new(rows, [Constraint::Length(key_width), Constraint::Fill(1)])
            .column_spacing(1)
            .render(areas[col], buf);
    }
}
