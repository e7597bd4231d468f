//! The `i` overlay: one account in full, and why its score is what it is:
//! every factor with its input in words, its weight and points, what moved
//! since last week, the inputs that were missing, and the CSM's sentiment.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{ago, band_style, fit, money, overlay};
use crate::domain::signals::describe;
use crate::domain::text::sanitize;
use crate::domain::Band;
use crate::tui::action::Action;
use crate::tui::app::{App, Pane};
use crate::tui::keymap::{any_of, footer, KeyMode};

/// When the detail is opened on a queue item: what it is, when it is due,
/// its ticket's facts and why it ranks where it does.
fn follow_up_lines(app: &App, inner_w: usize, lines: &mut Vec<Line<'_>>) {
    let t = &app.theme;
    if app.selection.focus != Pane::Queue {
        return;
    }
    let Some(item) = app.selection.queue_item(&app.queue) else { return };
    let f = &item.follow_up;
    let due = if item.is_overdue(app.now) {
        format!("overdue by {}", ago(item.due, app.now))
    } else {
        format!("due {}", app.calendar.short(item.due, app.now))
    };
    lines.push(Line::styled(
        format!("Follow-up: {} · {due} · {} priority", f.kind.title(), crate::queue::priority_label(f.priority)),
        t.title_focused,
    ));
    lines.push(Line::styled(fit(&item.reason, inner_w), t.base));
    // Why it ranks here: the parts of its score, wrapped between parts.
    let mut line = String::from("Ranked by:");
    for part in crate::queue::explain_with(item, &app.bands, app.now, &app.calendar) {
        if line.chars().count() + part.chars().count() + 3 > inner_w && line.len() > 10 {
            lines.push(Line::styled(std::mem::take(&mut line), t.dim));
            line.push_str("  ");
        } else if line.len() > 10 {
            line.push_str(" ·");
        }
        line.push(' ');
        line.push_str(&part);
    }
    lines.push(Line::styled(fit(&line, inner_w), t.dim));
    if let Some(view) = app.queue_item_ticket() {
        let ticket = &view.ticket;
        lines.push(Line::styled(
            fit(
                &format!(
                    "#{} \"{}\" · {} · {:?} · customer last {} · we last {}",
                    ticket.id,
                    sanitize(&ticket.subject),
                    view.shown,
                    ticket.status,
                    ticket.last_customer_reply.map_or("—".into(), |d| format!("{} ago", ago(d, app.now))),
                    ticket.last_agent_reply.map_or("—".into(), |d| format!("{} ago", ago(d, app.now))),
                ),
                inner_w,
            ),
            t.dim,
        ));
    }
    lines.push(Line::raw(""));
}

/// Splits text into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split_whitespace() {
        let last = out.last_mut().expect("one line at least");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            out.push(String::new());
        }
        let last = out.last_mut().expect("one line at least");
        if !last.is_empty() {
            last.push(' ');
        }
        last.push_str(word);
    }
    out.into_iter().map(|l| fit(&l, width)).collect()
}

/// Draws the detail of the selected account centred over `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let row = app.selection.selected.and_then(|id| app.book.row(id));
    let width = area.width.min(96);
    let inner_w = width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let title = match row {
        Some(r) => format!(" {} ", super::fit_name(app, r.id, &r.name, inner_w.saturating_sub(4))),
        None => " Account ".into(),
    };
    match (row, app.selected_health()) {
        (Some(r), view) => {
            let band = r.band(&app.bands);
            if r.stage == crate::domain::Stage::Churned {
                // Its last score is stale: the day it left instead.
                let day = app.book.churned_on(r.id).map(|d| format!(" {d}")).unwrap_or_default();
                lines.push(Line::styled(format!("churned{day}"), t.dim.add_modifier(Modifier::BOLD)));
            } else {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("health {} ", r.health.map_or("—".into(), |h| h.to_string())),
                        band_style(app, band).add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(band.map_or("no score", Band::key), band_style(app, band)),
                    Span::styled(
                        format!(
                            "   7d {}  30d {}",
                            r.delta_7d().map_or("n/a".into(), |d| format!("{d:+}")),
                            r.delta_30d().map_or("n/a".into(), |d| format!("{d:+}"))
                        ),
                        t.accent,
                    ),
                ]));
            }
            match app.book.support_only(r.id) {
                // No CRM account behind it: no contract, only its tickets and people.
                Some(s) => {
                    lines.push(Line::styled(
                        format!("Support only · {} · {} open tickets", r.stage.label(), r.open_tickets),
                        t.dim,
                    ));
                    let style = if s.is_ambiguous() { t.warning } else { t.dim };
                    for l in wrap(&sanitize(&s.describe()), inner_w) {
                        lines.push(Line::styled(l, style));
                    }
                }
                None => lines.push(Line::styled(
                    format!(
                        "{} · {} · ARR {} · renews {} ({} days) · {} open tickets",
                        r.segment.label(),
                        r.stage.label(),
                        money(r.arr),
                        r.renewal_date,
                        r.days_to_renewal(app.now.date_naive()),
                        r.open_tickets
                    ),
                    t.dim,
                )),
            }
            lines.push(Line::raw(""));
            follow_up_lines(app, inner_w, &mut lines);
            match view.and_then(|v| v.explanation.as_ref()) {
                Some(e) => {
                    lines.push(Line::styled(
                        format!("Why: the factors on {} (model {})", e.day, e.model),
                        t.title_focused,
                    ));
                    lines.push(Line::styled(
                        format!("{:<11} {:>5} {:>6} {:>6} {:>6}  input", "factor", "score", "weight", "points", "lost"),
                        t.dim.add_modifier(Modifier::BOLD),
                    ));
                    for c in &e.contributions {
                        let style = band_style(app, Some(app.bands.band(c.score)));
                        let input = sanitize(&describe(c.measure, e.inputs.get(c.measure))).into_owned();
                        lines.push(Line::from(vec![
                            Span::styled(format!("{:<11} {:>5}", c.measure.label(), c.score), style),
                            Span::raw(format!(" {:>6} {:>6.1} {:>6.1}  ", c.weight, c.points, c.lost)),
                            Span::styled(fit(&input, inner_w.saturating_sub(42)), t.dim),
                        ]));
                    }
                    if !e.scored.missing.is_empty() {
                        let names: Vec<&str> = e.scored.missing.iter().map(|m| m.label()).collect();
                        lines.push(Line::styled(
                            format!("Not known, weight spread over the rest: {}", names.join(", ")),
                            t.dim,
                        ));
                    }
                    if let Some(p) = &e.scored.profile {
                        lines.push(Line::styled(format!("Weighed by the {p} profile"), t.dim));
                    }
                    lines.push(Line::raw(""));
                    lines.push(Line::styled("What moved since last week", t.title_focused));
                    match e.then {
                        None => lines.push(Line::styled("no inputs were kept a week before", t.dim)),
                        Some(_) if e.movers.is_empty() => {
                            lines.push(Line::styled("nothing moved by a point or more", t.dim))
                        }
                        Some(_) => {
                            for m in &e.movers {
                                let style = if m.points < 0.0 { t.band_red } else { t.band_green };
                                lines.push(Line::styled(fit(&m.text(), inner_w), style));
                            }
                        }
                    }
                }
                None => {
                    lines.push(Line::styled("No inputs recorded yet: scores start with the next daily pass", t.dim))
                }
            }
            lines.push(Line::raw(""));
            let sentiment = view.and_then(|v| v.sentiment.as_ref());
            let km = &app.keymap;
            let key = km.hint(KeyMode::Normal, Action::Sentiment);
            let scale = match (
                km.hint(KeyMode::Sentiment, Action::Sentiment1),
                km.hint(KeyMode::Sentiment, Action::Sentiment5),
            ) {
                (Some(low), Some(high)) => format!(" ({low} worried … {high} confident)"),
                _ => String::new(),
            };
            lines.push(Line::styled(
                match (sentiment, key) {
                    (Some(s), key) => format!(
                        "Your sentiment: {}/5, set by {} on {}{}",
                        s.value,
                        sanitize(&s.by),
                        s.at.format("%Y-%m-%d"),
                        key.map_or(String::new(), |k| format!(" · {k} changes it"))
                    ),
                    (None, Some(k)) => format!("Your sentiment: not set · {k} sets it{scale}"),
                    (None, None) => "Your sentiment: not set".into(),
                },
                t.dim,
            ));
            if let Some(v) = view.filter(|v| !v.timeline.is_empty()) {
                lines.push(Line::raw(""));
                lines.push(Line::styled("Timeline, latest first", t.title_focused));
                for a in &v.timeline {
                    let head = format!(
                        "{} {:<10} {:<10} ",
                        a.at.format("%Y-%m-%d %H:%M"),
                        a.kind.label(),
                        fit(&sanitize(&a.author), 10)
                    );
                    let room = inner_w.saturating_sub(head.chars().count());
                    lines.push(Line::from(vec![
                        Span::styled(head, t.dim),
                        Span::styled(fit(&sanitize(&a.summary), room), t.base),
                    ]));
                }
            }
        }
        (None, _) => lines.push(Line::styled("Select an account first", t.dim)),
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let footer = footer([(any_of(&app.keymap, KeyMode::Detail, Action::Close), "closes")]);
    let inner = overlay(app, area, (width, height), 1, &title, &footer, buf);
    Paragraph::new(lines).render(inner, buf);
}
