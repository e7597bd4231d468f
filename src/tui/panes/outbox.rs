//! The outbox overlay: writes waiting for a vendor, failed or conflicting
//! ones first (each with why), then pending, then the latest sent.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{ago, fit, overlay};
use crate::domain::outbox::OutboxState;
use crate::domain::text::sanitize;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{footer, joined, KeyMode};

/// Draws the outbox overlay centred over `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let width = 110.min(area.width);
    let height = area.height.saturating_sub(4).clamp(8, 30);
    let c = app.status.outbox_counts;
    let title = format!(" Outbox · {} pending · {} failed · {} conflicts ", c.pending, c.failed, c.conflict);
    let (km, mode) = (&app.keymap, KeyMode::Outbox);
    let footer = footer([
        (joined(km, mode, &[Action::Down, Action::Up], "/"), "move"),
        (km.hint(mode, Action::Retry), "retry"),
        (km.hint(mode, Action::Edit), "edit"),
        (km.hint(mode, Action::Discard), "discard"),
        (km.hint(mode, Action::Close), "closes"),
    ]);
    let inner = overlay(app, area, (width, height), 1, &title, &footer, buf);
    let view = &app.overlays.outbox;
    if view.entries.is_empty() {
        // Read off the event loop: until then nothing is claimed.
        let msg = if app.overlays.outbox.loading {
            "Reading the outbox…".to_string()
        } else if c.discarded > 0 {
            format!(
                "Nothing waiting: every other note, reply and status change reached its vendor ({} discarded, not sent).",
                c.discarded
            )
        } else {
            "Nothing waiting: every note, reply and status change reached its vendor.".to_string()
        };
        Paragraph::new(msg).style(t.dim).wrap(Wrap { trim: true }).render(inner, buf);
        return;
    }
    let detail_h = 4u16.min(inner.height / 3);
    let list_h = (inner.height - detail_h) as usize;
    let first = view.cursor.saturating_sub(list_h.saturating_sub(1));
    let w = inner.width as usize;
    for (i, (e, name)) in view.entries.iter().enumerate().skip(first).take(list_h) {
        let style = match e.state {
            OutboxState::Failed { .. } => t.error,
            OutboxState::Conflict { .. } => t.warning,
            OutboxState::Sent { .. } | OutboxState::Settled { .. } => t.dim,
            _ => t.base,
        };
        let base = if i == view.cursor { t.selected } else { t.base };
        let line = Line::from(vec![
            Span::styled(format!("{:<9}", e.state.label()), style),
            Span::styled(format!("{:<9}", e.write.system().label()), t.dim),
            Span::styled(format!("{:<22} ", fit(name, 22)), base),
            Span::styled(format!("{:<28} ", fit(&e.write.describe(), 28)), base),
            Span::styled(format!("{:>4} ago ", ago(e.created, app.now)), t.dim),
            Span::styled(fit(&sanitize(e.write.body()).replace('\n', " "), w.saturating_sub(80)), t.dim),
        ]);
        let y = inner.y + (i - first) as u16;
        buf.set_stringn(inner.x, y, " ".repeat(w), w, base);
        buf.set_line(inner.x, y, &line, inner.width);
    }
    if let Some((e, _)) = view.entries.get(view.cursor) {
        let why = match &e.state {
            OutboxState::Failed { reason } => format!("Failed: {reason}"),
            OutboxState::Conflict { detail } => format!("Conflict: {detail}"),
            OutboxState::Unsure { since } => {
                format!(
                    "Sent {} ago without an answer: checking whether it landed before sending again",
                    ago(*since, app.now)
                )
            }
            OutboxState::Sent { at, remote } => {
                format!("Reached {} {} ago (id {remote})", e.write.system().label(), ago(*at, app.now))
            }
            OutboxState::Settled { at, remote, note } => {
                format!("Reached {} {} ago (id {remote}): {note}", e.write.system().label(), ago(*at, app.now))
            }
            OutboxState::Watching { since, kept: None, .. } => format!(
                "Sent again {} ago without an answer: checking whether it landed before sending again",
                ago(*since, app.now)
            ),
            OutboxState::Watching { since, kept: Some((_, remote)), archived } => format!(
                "Reached {} (id {remote}); {}; watched for a late copy until {}",
                e.write.system().label(),
                crate::domain::outbox::watch_note(*since, None, archived),
                crate::domain::outbox::moment(crate::sync::push::PushPolicy::default().watch_ends(*since))
            ),
            OutboxState::Pending => match &e.last_error {
                Some(err) => format!("Waiting (attempt {}): {err}", e.attempts + 1),
                None => "Waiting for the next push (needs a configured source and the network)".into(),
            },
        };
        let area = Rect { y: inner.bottom() - detail_h, height: detail_h, ..inner };
        let text = vec![
            Line::styled(sanitize(&why).into_owned(), t.accent),
            Line::styled(sanitize(e.write.body()).replace('\n', " ⏎ "), t.base),
        ];
        Paragraph::new(text).wrap(Wrap { trim: true }).render(area, buf);
    }
}
