//! Lays the panes out for the terminal's size and draws a frame.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use ratatui::Frame;

use super::app::{App, Mode, Pane};
use super::panes;

/// The smallest terminal the cockpit draws in.
pub const MIN_WIDTH: u16 = 80;
/// The smallest terminal height the cockpit draws in.
pub const MIN_HEIGHT: u16 = 24;

/// Where each pane goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Accounts table.
    pub accounts: Rect,
    /// Health trend.
    pub health: Rect,
    /// Kanban.
    pub kanban: Rect,
    /// Follow-ups.
    pub queue: Rect,
    /// Status line.
    pub status: Rect,
}

/// Splits the screen: a 2x2 grid when wide; accounts on top, health and
/// queue side by side, kanban across the bottom when narrow.
pub fn layout(area: Rect) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    if area.width >= 120 {
        let [top, bottom] = Layout::vertical([Constraint::Percentage(55), Constraint::Fill(1)]).areas(main);
        let [accounts, health] = Layout::horizontal([Constraint::Percentage(60), Constraint::Fill(1)]).areas(top);
        let [kanban, queue] = Layout::horizontal([Constraint::Percentage(60), Constraint::Fill(1)]).areas(bottom);
        Areas { accounts, health, kanban, queue, status }
    } else {
        let [accounts, middle, kanban] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(30), Constraint::Fill(1)]).areas(main);
        let [health, queue] = Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(middle);
        Areas { accounts, health, kanban, queue, status }
    }
}

/// Draws the whole screen into a frame.
pub fn draw(app: &App, frame: &mut Frame) {
    render(app, frame.area(), frame.buffer_mut());
}

/// Draws the whole screen into a buffer (also used by snapshot tests).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, app.theme.base);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "Terminal too small: {}x{}. Cockpit needs at least {MIN_WIDTH}x{MIN_HEIGHT}; enlarge the window (q quits).",
            area.width, area.height
        );
        Paragraph::new(msg).style(app.theme.warning).wrap(Wrap { trim: true }).render(area, buf);
        return;
    }
    let areas = layout(area);
    if let Some(view) = &app.overlays.account {
        // Full screen: the panes are not drawn under it.
        let [main, _] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        panes::account::render(app, view, main, buf);
    } else if app.overlays.zoom {
        let [main, _] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        draw_pane(app, app.selection.focus, main, buf);
    } else {
        for pane in Pane::ALL {
            let rect = match pane {
                Pane::Accounts => areas.accounts,
                Pane::Health => areas.health,
                Pane::Kanban => areas.kanban,
                Pane::Queue => areas.queue,
            };
            draw_pane(app, pane, rect, buf);
        }
    }
    panes::statusbar::render(app, areas.status, buf);
    if app.overlays.mode == Mode::Help {
        panes::help::render(app, area, buf);
    }
    if app.overlays.mode == Mode::Metrics {
        panes::metrics::render(app, area, buf);
    }
    // A question is asked over what it is about.
    let under = match &app.overlays.confirm {
        Some(c) if app.overlays.mode == Mode::Confirm => c.back,
        _ => app.overlays.mode,
    };
    if under == Mode::Outbox {
        panes::outbox::render(app, area, buf);
    }
    if app.overlays.mode == Mode::Pick {
        panes::compose::render_picker(app, area, buf);
    }
    if under == Mode::Compose {
        panes::compose::render_composer(app, area, buf);
    }
    if app.overlays.mode == Mode::Undo {
        panes::guard::render_undo(app, area, buf);
    }
    if app.overlays.mode == Mode::Confirm {
        panes::guard::render_confirm(app, area, buf);
    }
}

fn draw_pane(app: &App, pane: Pane, area: Rect, buf: &mut Buffer) {
    match pane {
        Pane::Accounts => panes::accounts::render(app, area, buf),
        Pane::Health => panes::health::render(app, area, buf),
        Pane::Kanban => panes::kanban::render(app, area, buf),
        Pane::Queue => panes::queue::render(app, area, buf),
    }
}
