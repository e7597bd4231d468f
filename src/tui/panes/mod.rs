//! One module per pane; each draws from `&App` and never changes state
//! (scroll offsets live in `Cell`s so a draw can keep the cursor in view).

pub mod accounts;
pub mod compose;
pub mod detail;
pub mod guard;
pub mod health;
pub mod help;
pub mod kanban;
pub mod metrics;
pub mod outbox;
pub mod queue;
pub mod statusbar;

pub use crate::display::{ago, money};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Padding, Widget};
use unicode_width::UnicodeWidthChar;

use super::app::{App, Pane};
use crate::domain::Band;

/// The bordered block of a pane, highlighted when focused.
pub fn pane_block<'a>(app: &App, pane: Pane, number: u8, title: String) -> Block<'a> {
    let focused = app.selection.focus == pane;
    let t = &app.theme;
    let (border, title_style, kind) = if focused {
        (t.border_focused, t.title_focused, BorderType::Thick)
    } else {
        (t.border, t.title, BorderType::Plain)
    };
    Block::bordered()
        .border_type(kind)
        .border_style(border)
        .style(t.base)
        .title(Line::from(vec![Span::styled(format!(" {number} "), title_style), Span::styled(title, title_style)]))
}

/// Clears a `width` x `height` box centred over `area`, draws the frame
/// every overlay shares (title on top, how to close it below, `pad` blank
/// columns inside each side) and returns the space inside.
pub fn overlay(
    app: &App,
    area: Rect,
    (width, height): (u16, u16),
    pad: u16,
    title: &str,
    footer: &str,
    buf: &mut Buffer,
) -> Rect {
    let t = &app.theme;
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    Clear.render(popup, buf);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(t.border_focused)
        .style(t.base)
        .padding(Padding::horizontal(pad))
        .title(Span::styled(title.to_string(), t.title_focused))
        .title_bottom(Line::from(Span::styled(footer.to_string(), t.dim)));
    let inner = block.inner(popup);
    block.render(popup, buf);
    inner
}

/// The style of a health band (or of "no score").
pub fn band_style(app: &App, band: Option<Band>) -> Style {
    match band {
        Some(Band::Green) => app.theme.band_green,
        Some(Band::Yellow) => app.theme.band_yellow,
        Some(Band::Red) => app.theme.band_red,
        None => app.theme.band_none,
    }
}

/// Cuts text to a display width, ending in `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return text.to_string();
    }
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// Keeps `cursor` inside a window of `height` rows starting at the last
/// frame's offset; returns the new offset.
pub fn scroll(prev_offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let mut offset = prev_offset.min(len.saturating_sub(1));
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + height {
        offset = cursor + 1 - height;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fit("Northwind Logistics", 10), "Northwind…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("日本語テキスト", 7), "日本語…");
        assert_eq!(scroll(0, 5, 3, 10), 3);
        assert_eq!(scroll(4, 2, 3, 10), 2);
        assert_eq!(scroll(2, 3, 3, 10), 2);
    }
}
