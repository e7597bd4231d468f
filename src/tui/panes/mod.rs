//! One module per pane; each draws from `&App` and never changes state
//! (scroll offsets live in `Cell`s so a draw can keep the cursor in view).

pub mod account;
pub mod account_lines;
pub mod accounts;
pub mod compose;
pub mod conversation;
pub mod guard;
pub mod health;
pub mod help;
pub mod kanban;
pub mod metrics;
pub mod outbox;
pub mod queue;
pub mod statusbar;
pub mod widths;

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

/// An account's name cut to `width` as every pane draws it: with what
/// tells it apart when another account has the same name ("Acme
/// (acme.io)"). When both do not fit, the name is cut before the tag, so
/// twins stay apart in a narrow column.
pub fn fit_name(app: &App, id: crate::domain::AccountId, name: &str, width: usize) -> String {
    let full = app.book.display_name(id, name);
    match app.book.tag(id) {
        Some(tag) if full.chars().count() > width => {
            let tail = format!(" ({tag})");
            let room = width.saturating_sub(tail.chars().count());
            // Keep a few letters of the name, else cut the whole.
            if room >= 6 {
                format!("{}{tail}", fit(name, room))
            } else {
                fit(&full, width)
            }
        }
        _ => fit(&full, width),
    }
}

/// Splits text into lines of at most `width` columns, at spaces; a word
/// longer than a line is broken (a URL in a comment must not be cut off).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let w = |s: &str| s.chars().map(|c| c.width().unwrap_or(0)).sum::<usize>();
    let mut out: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let last = out.last_mut().expect("one line at least");
            let room = if last.is_empty() { width } else { width.saturating_sub(w(last) + 1) };
            if w(&word) <= room {
                if !last.is_empty() {
                    last.push(' ');
                }
                last.push_str(&word);
                break;
            }
            if !last.is_empty() {
                out.push(String::new());
                continue;
            }
            // Longer than a whole line: a line's worth here, the rest on.
            let (mut head, mut used) = (String::new(), 0);
            let mut chars = word.chars().peekable();
            while let Some(c) = chars.peek() {
                let cw = c.width().unwrap_or(0);
                if used + cw > width && used > 0 {
                    break;
                }
                used += cw;
                head.push(*c);
                chars.next();
            }
            let rest: String = chars.collect();
            last.push_str(&head);
            out.push(String::new());
            word = rest;
        }
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
    fn wraps_at_spaces_and_breaks_only_words_longer_than_a_line() {
        assert_eq!(wrap("the export fails again", 10), ["the export", "fails", "again"]);
        assert_eq!(wrap("see https://example.com/a/b now", 10), ["see", "https://ex", "ample.com/", "a/b now"]);
        assert_eq!(wrap("", 10), [""]);
        for w in 1..12 {
            for l in wrap("a bb ccc dddddddddddddd e", w) {
                assert!(l.chars().count() <= w, "{l:?} wider than {w}");
            }
        }
    }

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
