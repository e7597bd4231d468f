//! The accounts table: only the visible slice of the sorted, filtered view.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::{ago, band_style, fit, fit_name, money, pane_block, scroll, widths};
use crate::book::SortKey;
use crate::domain::{AccountId, Stage};
use crate::tui::app::{App, Mode, Pane};

/// Draws the accounts pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let book = &app.book;
    let (key, rev) = book.sort();
    let mut title = format!("Accounts {}", book.total());
    if book.view_len() as u64 != book.total() && book.is_complete() {
        title = format!("Accounts {}/{}", book.view_len(), book.total());
    }
    title.push_str(&format!(" · by {} {} ", key.label(), key.arrow(rev)));
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

    let today = app.calendar.day(app.now);
    let dim = app.theme.dim;
    let cols = widths::table(inner.width);
    let rows = book.view_slice(offset, height).map(|r| {
        let churned = r.stage == Stage::Churned;
        // A churned account no longer needs attention: drawn dimmed, with
        // the day it left where a live one has its score and renewal.
        let pick = |live: Style| if churned { dim } else { live };
        let health = match r.health {
            _ if churned => "  —".into(),
            Some(h) => format!("{h:>3}{}", r.trend().arrow()),
            None => "  —".into(),
        };
        let renew = r.days_to_renewal(today);
        let renew_style = if (0..=30).contains(&renew) && !churned { app.theme.warning } else { dim };
        let touch = r.last_touch.map(|t| ago(t, app.now)).unwrap_or_else(|| "never".into());
        // A support organization of its own: no contract to renew, and a
        // mark that says why it stands apart.
        let support = book.support_only(r.id);
        let name_style = pick(app.theme.base);
        let name = match support {
            Some(s) if s.is_ambiguous() => Line::from(vec![
                Span::styled(fit_name(app, r.id, &r.name, (cols.name as usize).saturating_sub(11)), name_style),
                Span::styled(" ⚑ambiguous", app.theme.warning),
            ]),
            Some(_) => Line::from(vec![
                Span::styled(fit_name(app, r.id, &r.name, (cols.name as usize).saturating_sub(14)), name_style),
                Span::styled(" ·support only", dim),
            ]),
            None => Line::from(Span::styled(fit_name(app, r.id, &r.name, cols.name as usize), name_style)),
        };
        let churn_day = book.churned_on(r.id);
        let renew_text = match (support, churned) {
            (_, true) => churn_day.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            (Some(_), false) => "—".to_string(),
            (None, false) => format!("{renew}d"),
        };
        let mut cells = vec![
            Cell::from(name),
            Cell::from(Span::styled(r.segment.label(), dim)),
            Cell::from(Line::from(Span::styled(money(r.arr), pick(app.theme.base))).right_aligned()),
            Cell::from(Span::styled(health, pick(band_style(app, r.band(&app.bands))))),
            Cell::from(Span::styled(r.stage.label_within(cols.stage as usize), pick(app.theme.base))),
            Cell::from(Line::from(Span::styled(renew_text, renew_style)).right_aligned()),
            Cell::from(Line::from(Span::styled(r.open_tickets.to_string(), pick(app.theme.base))).right_aligned()),
            Cell::from(Line::from(Span::styled(touch, dim)).right_aligned()),
        ];
        if cols.reason > 0 {
            cells.push(Cell::from(follow_up(app, r.id, churned.then_some(churn_day).flatten(), cols.reason)));
        }
        Row::new(cells)
    });
    // The arrow after the sorted column's name says which way its values
    // run, the same for every column (▲ ascending).
    let arrow = key.arrow(rev);
    let mut names = vec!["Name", "Seg", "ARR", "Hlth", "Stage", "Renew", "Tix", "Touch"];
    if cols.reason > 0 {
        names.push("Follow-up");
    }
    let sorted = match key {
        SortKey::Name => 0,
        SortKey::Arr => 2,
        SortKey::Health => 3,
        SortKey::Stage => 4,
        SortKey::Renewal => 5,
        SortKey::Tickets => 6,
        SortKey::LastTouch => 7,
    };
    let header = Row::new(names.iter().enumerate().map(|(i, n)| {
        if i == sorted {
            Cell::from(Line::from(vec![Span::raw(*n), Span::styled(arrow, app.theme.accent)]))
        } else {
            Cell::from(*n)
        }
    }))
    .style(app.theme.header);
    let mut widths = vec![Constraint::Length(cols.name)];
    widths.extend(widths::FIXED[..3].iter().map(|w| Constraint::Length(*w)));
    widths.push(Constraint::Length(cols.stage));
    widths.extend(widths::FIXED[3..].iter().map(|w| Constraint::Length(*w)));
    if cols.reason > 0 {
        widths.push(Constraint::Length(cols.reason));
    }
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

/// The follow-up column: the account's first item in today's queue (its
/// kind and reason), or the day a churned account left.
fn follow_up(app: &App, id: AccountId, churned_on: Option<chrono::NaiveDate>, width: u16) -> Line<'static> {
    let width = width as usize;
    if let Some(q) = app.queue_index.first(id).and_then(|i| app.queue.get(i)) {
        let kind = q.follow_up.kind.label();
        return Line::from(vec![
            Span::styled(format!("{kind} "), app.theme.dim),
            Span::styled(fit(&q.reason, width.saturating_sub(kind.len() + 1)), app.theme.base),
        ]);
    }
    match churned_on {
        Some(on) => Line::from(Span::styled(format!("churned {on}"), app.theme.dim)),
        None => Line::default(),
    }
}
