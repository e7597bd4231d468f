//! The account view, full screen: a bar naming the sections (the one the
//! cursor is in lit), a window of the sections' lines with the cursor line
//! marked, or a ticket's conversation when one is open; the keys below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

use super::{account_lines, conversation, fit, scroll};
use crate::domain::text::sanitize;
use crate::tui::account_view::{AccountView, Section};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{footer, joined, KeyMode};

/// Draws the account view over `area`.
pub fn render(app: &App, view: &AccountView, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let name = view
        .full
        .as_ref()
        .and_then(|f| f.account.as_ref().map(|a| sanitize(&a.name).into_owned()))
        .or_else(|| app.book.row(view.id).map(|r| sanitize(&r.name).into_owned()))
        .unwrap_or_else(|| format!("account {}", view.id.0));
    let title = format!(" {} ", fit(&name, area.width.saturating_sub(8) as usize));
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(t.border_focused)
        .style(t.base)
        .title(Span::styled(title, t.title_focused))
        .title_bottom(Line::from(Span::styled(hints(app, view, area.width), t.dim)));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    // A column of padding on each side.
    let width = inner.width.saturating_sub(2) as usize;
    let body = Rect { x: inner.x + 1, y: inner.y + 1, width: width as u16, height: inner.height - 1 };
    view.width.set(width as u16);
    view.page.set(body.height as usize);
    if let Some(c) = &view.conversation {
        let ticket = view.full.as_ref().and_then(|f| f.tickets.iter().find(|v| v.ticket.id == c.ticket));
        let bar = format!("Conversation on #{}", c.ticket);
        buf.set_stringn(inner.x + 1, inner.y, fit(&bar, width), width, t.title_focused);
        let lines = conversation::lines(app, c, ticket, width);
        let top = c.offset.min(lines.len().saturating_sub(body.height as usize));
        draw_lines(buf, body, lines.into_iter().skip(top), None, t.selected);
        return;
    }
    let built = account_lines::build(app, view, width);
    let layout = &built.layout;
    // Placed at another width (a resize): where it stands at this one.
    let (cursor, prev) = match view.cursor_width as usize == width {
        true => (view.cursor, view.offset.get()),
        false => {
            let old = account_lines::build(app, view, view.cursor_width as usize).layout;
            (layout.remap(view.cursor, &old), layout.remap(view.offset.get(), &old))
        }
    };
    let cursor = cursor.min(layout.len.saturating_sub(1));
    let offset = scroll(prev, cursor, body.height as usize, layout.len);
    view.offset.set(offset);
    section_bar(app, layout.section_at(cursor), Rect { height: 1, ..body }, inner.y, buf);
    draw_lines(buf, body, built.lines.into_iter().skip(offset), Some(cursor - offset), t.selected);
}

/// The sections, the one the cursor is in lit.
fn section_bar(app: &App, here: Section, body: Rect, y: u16, buf: &mut Buffer) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for s in Section::ALL {
        let style = if s == here { t.selected } else { t.dim };
        spans.push(Span::styled(format!(" {} ", s.tab()), style));
    }
    buf.set_line(body.x, y, &Line::from(spans), body.width);
}

/// Draws lines from the top of `area`, the `marked` one in `mark` style.
fn draw_lines(
    buf: &mut Buffer,
    area: Rect,
    lines: impl Iterator<Item = Line<'static>>,
    marked: Option<usize>,
    mark: ratatui::style::Style,
) {
    for (i, line) in lines.take(area.height as usize).enumerate() {
        let y = area.y + i as u16;
        buf.set_line(area.x, y, &line, area.width);
        if marked == Some(i) {
            buf.set_style(Rect { x: area.x, y, width: area.width, height: 1 }, mark);
        }
    }
}

/// The keys of what is open, as many as fit.
fn hints(app: &App, view: &AccountView, width: u16) -> String {
    use Action as A;
    let (km, m) = (&app.keymap, KeyMode::Account);
    let one = |a: Action| km.hint(m, a);
    let parts: Vec<(Option<String>, &str)> = match view.conversation {
        Some(_) => vec![
            (joined(km, m, &[A::Down, A::Up], "/"), "scroll"),
            (one(A::Refresh), "read again"),
            (one(A::Reply), "reply"),
            (one(A::CloseTicket), "close ticket"),
            (one(A::Close), "back"),
        ],
        None => vec![
            (joined(km, m, &[A::Down, A::Up], "/"), "scroll"),
            (one(A::NextSection), "section"),
            (one(A::Open), "conversation"),
            (one(A::TimelineKind), "kind"),
            (one(A::Reply), "reply"),
            (one(A::CloseTicket), "close ticket"),
            (one(A::Close), "back"),
        ],
    };
    // The last (back) always; others while they fit.
    let room = width.saturating_sub(4) as usize;
    let (last, rest) = parts.split_last().expect("hints");
    let mut kept: Vec<(Option<String>, &str)> = Vec::new();
    for p in rest {
        let mut trial = kept.clone();
        trial.push(p.clone());
        trial.push(last.clone());
        if footer(trial.clone()).chars().count() <= room {
            kept.push(p.clone());
        }
    }
    kept.push(last.clone());
    footer(kept)
}
