//! Health trend of the selected account: score, changes, a 90-day
//! sparkline with the band thresholds, and what pulls the score down.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{band_style, fit, fit_name, pane_block};
use crate::domain::explain::{Contribution, Explanation};
use crate::domain::signals::describe;
use crate::domain::text::sanitize;
use crate::domain::{Band, HealthHistory, Stage, Trend};
use crate::tui::app::{App, Pane, HEALTH_DAYS};
use chrono::NaiveDate;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn signed(v: Option<i16>) -> String {
    v.map(|d| format!("{d:+}")).unwrap_or_else(|| "n/a".into())
}

/// Draws the health pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let row = app.selection.selected.and_then(|id| app.book.row(id));
    let title = match row {
        Some(r) => {
            format!("Health · {} ", fit_name(app, r.id, &r.name, area.width.saturating_sub(14) as usize))
        }
        None => "Health ".into(),
    };
    let block = pane_block(app, Pane::Health, 2, title);
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(row) = row else {
        buf.set_stringn(inner.x + 1, inner.y, "Select an account", inner.width as usize, app.theme.dim);
        return;
    };
    // Read off the event loop; there within a frame or two.
    let Some(view) = app.selected_health() else {
        buf.set_stringn(inner.x + 1, inner.y, "Reading…", inner.width as usize, app.theme.dim);
        return;
    };
    if inner.height < 3 {
        return;
    }
    let band = row.band(&app.bands);
    let bstyle = band_style(app, band);
    let score = row.health.map(|h| h.to_string()).unwrap_or_else(|| "—".into());
    let arrow = match row.trend() {
        Trend::Unknown => "",
        t => t.arrow(),
    };
    let head = if row.stage == Stage::Churned {
        // A churned account's last score is stale: the day it left instead.
        let day = app.book.churned_on(row.id).map(|d| format!(" {d}")).unwrap_or_default();
        Line::from(Span::styled(format!("churned{day}"), app.theme.dim.add_modifier(Modifier::BOLD)))
    } else {
        Line::from(vec![
            Span::styled(format!("{score}{arrow} "), bstyle.add_modifier(Modifier::BOLD)),
            Span::styled(band.map(Band::key).unwrap_or("no score"), bstyle),
            Span::styled("  7d ", app.theme.dim),
            Span::styled(signed(row.delta_7d()), app.theme.accent),
            Span::styled("  30d ", app.theme.dim),
            Span::styled(signed(row.delta_30d()), app.theme.accent),
        ])
    };
    buf.set_line(inner.x, inner.y, &head, inner.width);
    let explanation = view.explanation.as_ref();
    // Zoomed (or a tall pane): the full breakdown under a shorter chart.
    let table_rows = explanation.map_or(0, |e| e.contributions.len() as u16 + 2);
    let detailed = inner.height >= 12 + table_rows;
    let why_height = if detailed {
        table_rows + 2
    } else if inner.height >= 8 {
        3
    } else {
        2
    };
    let why_height = why_height.min(inner.height.saturating_sub(2));
    let why_area = Rect { y: inner.bottom() - why_height, height: why_height, ..inner };
    match explanation {
        // A table reads best cut at the edge, not wrapped.
        Some(e) if detailed => Paragraph::new(breakdown(app, e, inner.width as usize)).render(why_area, buf),
        Some(e) => Paragraph::new(summary(app, e)).wrap(Wrap { trim: true }).render(why_area, buf),
        None => Paragraph::new(Line::from(Span::styled(
            "No inputs recorded yet: scores start with the next daily pass",
            app.theme.dim,
        )))
        .wrap(Wrap { trim: true })
        .render(why_area, buf),
    }

    let chart = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1 + why_height), ..inner };
    sparkline(app, &view.history, chart, buf);
}

/// What moved since last week; `cut` keeps it to one row of that width.
fn moved_line<'a>(app: &App, e: &'a Explanation, cut: Option<usize>) -> Line<'a> {
    let mut spans = vec![Span::styled("Since last week: ", app.theme.dim)];
    match (e.then, e.movers.first()) {
        (None, _) => spans.push(Span::styled("no inputs kept from a week before", app.theme.dim)),
        (Some(_), None) => spans.push(Span::styled("nothing moved by a point or more", app.theme.dim)),
        (Some(_), Some(_)) => {
            for (i, m) in e.movers.iter().take(2).enumerate() {
                if i > 0 {
                    spans.push(Span::raw("; "));
                }
                let style = if m.points < 0.0 { app.theme.band_red } else { app.theme.band_green };
                let text = m.text();
                spans.push(Span::styled(cut.map_or(text.clone(), |w| fit(&text, w.saturating_sub(17))), style));
                if cut.is_some() {
                    break;
                }
            }
        }
    }
    Line::from(spans)
}

/// Two lines: what moved since last week, and what pulls the score down.
fn summary<'a>(app: &App, e: &'a Explanation) -> Vec<Line<'a>> {
    let mut why = vec![Span::styled("Pulling down: ", app.theme.dim)];
    let drags: Vec<&Contribution> = e.contributions.iter().filter(|c| c.lost >= 1.0).collect();
    if drags.is_empty() {
        why.push(Span::styled("nothing — every measure is healthy", app.theme.dim));
    }
    for (i, c) in drags.iter().take(4).enumerate() {
        if i > 0 {
            why.push(Span::raw(", "));
        }
        let style = band_style(app, Some(app.bands.band(c.score)));
        why.push(Span::styled(format!("{} −{:.0}", c.measure.label(), c.lost), style));
    }
    vec![moved_line(app, e, None), Line::from(why)]
}

/// Every factor: its input in words, its score, weight and points.
fn breakdown<'a>(app: &App, e: &'a Explanation, width: usize) -> Vec<Line<'a>> {
    let mut lines = vec![moved_line(app, e, Some(width))];
    lines.push(Line::from(Span::styled(
        format!("{:<11} {:>5} {:>6} {:>6}  input", "factor", "score", "weight", "points"),
        app.theme.dim.add_modifier(Modifier::BOLD),
    )));
    for c in &e.contributions {
        let style = band_style(app, Some(app.bands.band(c.score)));
        lines.push(Line::from(vec![
            Span::styled(format!("{:<11} {:>5}", c.measure.label(), c.score), style),
            Span::raw(format!(" {:>6} {:>6.1}  ", c.weight, c.points)),
            Span::styled(
                fit(&sanitize(&describe(c.measure, e.inputs.get(c.measure))), width.saturating_sub(34)),
                app.theme.dim,
            ),
        ]));
    }
    let missing: Vec<&str> = e.scored.missing.iter().map(|m| m.label()).collect();
    let mut foot = format!("model {}", e.model);
    if let Some(p) = &e.scored.profile {
        foot.push_str(&format!(" · profile {p}"));
    }
    if !missing.is_empty() {
        foot.push_str(&format!(" · not known (weight spread over the rest): {}", missing.join(", ")));
    }
    lines.push(Line::from(Span::styled(foot, app.theme.dim)));
    lines
}

/// Bars coloured by band, dotted rows at the band thresholds (drawn across
/// the bars too, so they show where the bars cover them), a gutter with the
/// threshold values and, when there is a row for it, a date axis (first,
/// middle and last day). The days fill the width: a column is the mean of
/// the days it covers when the pane is narrower than the history, and a
/// day spans several columns when it is wider.
fn sparkline(app: &App, history: &HealthHistory, area: Rect, buf: &mut Buffer) {
    let scores = history.scores.as_slice();
    if area.height < 2 || area.width < 8 || scores.is_empty() {
        return;
    }
    // A row for the dates when the chart keeps at least four for the bars.
    let axis = area.height >= 6 && history.start.is_some();
    let area = Rect { height: area.height - u16::from(axis), ..area };
    let gutter = 3u16;
    let width = (area.width - gutter) as usize;
    let days = scores.len().min(HEALTH_DAYS as usize);
    let skipped = scores.len() - days;
    let data = &scores[skipped..];
    let h = area.height as u32;
    let x0 = area.x + gutter;
    let row_of = |v: u8| -> u16 { area.bottom() - 1 - ((v as u32 * h).saturating_sub(1) / 100).min(h - 1) as u16 };
    let thresholds = [app.bands.green, app.bands.yellow].map(row_of);
    for (t, y) in [app.bands.green, app.bands.yellow].into_iter().zip(thresholds) {
        buf.set_string(area.x, y, format!("{t:>2}"), app.theme.threshold);
        for x in x0..area.right() {
            buf.set_string(x, y, "┈", app.theme.threshold);
        }
    }
    for c in 0..width {
        let (from, to) = span(c, width, days);
        let known: Vec<u32> = data[from..to].iter().flatten().map(|v| *v as u32).collect();
        if known.is_empty() {
            continue;
        }
        let v = ((known.iter().sum::<u32>() + known.len() as u32 / 2) / known.len() as u32) as u8;
        let style = band_style(app, Some(app.bands.band(v)));
        let eighths = (v as u32 * h * 8).div_ceil(100).max(1);
        let x = x0 + c as u16;
        for r in 0..h {
            let filled = eighths.saturating_sub(r * 8).min(8);
            if filled == 0 {
                break;
            }
            let y = area.bottom() - 1 - r as u16;
            let style = if thresholds.contains(&y) { app.theme.threshold } else { style };
            buf.set_string(x, y, BARS[filled as usize - 1].to_string(), style);
        }
    }
    let label = format!("{days}d");
    let lx = area.right().saturating_sub(label.len() as u16);
    buf.set_string(lx, area.y, label, app.theme.dim);
    if let Some(start) = history.start.filter(|_| axis) {
        let day = |i: usize| start + chrono::Duration::days((skipped + i) as i64);
        let middle = day(span(width / 2, width, days).0);
        date_axis(app, (day(0), middle, day(days - 1)), Rect { y: area.bottom(), height: 1, ..area }, buf);
    }
}

/// The days `[from, to)` that column `c` of `width` shows out of `days`:
/// several when the columns are fewer, one (repeated over neighbouring
/// columns) when they are more.
fn span(c: usize, width: usize, days: usize) -> (usize, usize) {
    let from = c * days / width;
    let to = ((c + 1) * days / width).max(from + 1).min(days);
    (from, to)
}

/// The first, middle and last days under the chart: at the left edge, the
/// middle and the right edge of the bars.
fn date_axis(app: &App, (first, middle, last): (NaiveDate, NaiveDate, NaiveDate), area: Rect, buf: &mut Buffer) {
    let x0 = area.x + 3;
    let width = area.right().saturating_sub(x0);
    let fmt = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let (a, m, z) = (fmt(first), fmt(middle), fmt(last));
    let len = a.len() as u16;
    if width < len {
        return;
    }
    buf.set_string(x0, area.y, &a, app.theme.dim);
    if width >= 3 * len + 4 {
        buf.set_string(x0 + width / 2 - len / 2, area.y, &m, app.theme.dim);
    }
    if width >= 2 * len + 2 {
        buf.set_string(area.right() - len, area.y, &z, app.theme.dim);
    }
}
