//! The `m` overlay: the book's churn, retention, NPS, health and renewals
//! over the last 30 days, each figure with a short note of how it was counted.

use chrono::Duration;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use super::{fit, money, overlay};
use crate::domain::{Band, Segment};
use crate::report::metrics::{pct, BandCounts};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::{any_of, footer, KeyMode};
use crate::tui::metrics::{MetricsState, MetricsView};

/// The widest the overlay gets, so figures and notes stay close together.
const MAX_WIDTH: u16 = 100;
/// Blank columns inside each side border.
const PAD: u16 = 1;
/// The narrowest, so "computing…" does not sit in a sliver.
const MIN_WIDTH: u16 = 48;

/// One line of the overlay before the columns are measured.
enum Item<'a> {
    /// A section title.
    Heading(String),
    /// A figure: label, value (possibly coloured in parts), how it was counted.
    Figure(String, Vec<Span<'a>>, String),
    /// A line of text under a heading.
    Note(String, Style),
}

/// Draws the metrics overlay centred over `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let max_width = area.width.min(MAX_WIDTH);
    let (title, body) = match &app.overlays.metrics.state {
        MetricsState::Ready(view) => {
            let r = &view.report;
            let body = lines(app, view, max_width.saturating_sub(2 + 2 * PAD) as usize);
            (format!(" Metrics · {} to {} ({} days) ", r.from, r.to, r.period.days), body)
        }
        MetricsState::Failed(e) => (" Metrics ".into(), vec![Line::styled(e.clone(), t.error)]),
        MetricsState::Computing | MetricsState::Idle => (" Metrics ".into(), vec![Line::styled("computing…", t.dim)]),
    };
    let footer = footer([(any_of(&app.keymap, KeyMode::Metrics, Action::Close), "closes")]);
    let natural = body.iter().map(Line::width).max().unwrap_or(0).max(title.width() + 2).max(footer.width() + 2);
    let width = (natural as u16 + 2 + 2 * PAD).clamp(MIN_WIDTH, MAX_WIDTH).min(area.width);
    // Only an error line is longer than the box; word wrapping may need a row more than the ratio.
    let inner_w = width.saturating_sub(2 + 2 * PAD).max(1) as usize;
    let rows: usize = body.iter().map(|l| if l.width() > inner_w { l.width().div_ceil(inner_w) + 1 } else { 1 }).sum();
    let height = (rows as u16 + 2).min(area.height);
    let inner = overlay(app, area, (width, height), PAD, &title, &footer, buf);
    // Figure lines are already cut to fit; only an error message wraps.
    Paragraph::new(body).wrap(Wrap { trim: false }).render(inner, buf);
}

/// The report as lines: headings, then figures in aligned columns.
fn lines<'a>(app: &'a App, view: &'a MetricsView, inner_width: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let r = &view.report;
    let p = &r.period;
    let n = &r.nps;
    let plain = |s: String| vec![Span::styled(s, t.accent)];
    let mut items = vec![
        Item::Heading("Churn and retention".into()),
        Item::Figure(
            "Logo churn".into(),
            plain(pct(r.logo_churn)),
            format!("{} of {} customers lost", p.churned, p.at_start),
        ),
        Item::Figure(
            "Logo churn, customer-days".into(),
            plain(pct(r.logo_churn_customer_days)),
            format!("{} / {:.1} customer-days × {} days", p.churned, r.customer_days, p.days),
        ),
        Item::Figure(
            "Renewal rate".into(),
            plain(pct(r.renewal_rate)),
            format!("100% − logo churn; {} renewed", p.renewed),
        ),
        Item::Figure(
            "Revenue churn".into(),
            plain(pct(r.revenue_churn)),
            format!("MRR {} lost of {}", money(p.mrr_churned), money(p.mrr_start)),
        ),
        Item::Figure(
            "Gross revenue retention".into(),
            plain(pct(r.gross_retention)),
            "starting MRR kept, churn only".into(),
        ),
        Item::Figure(
            "Net revenue retention".into(),
            plain(pct(r.net_retention)),
            format!("GRR + {} MRR from expansions", money(p.mrr_expansion)),
        ),
        Item::Heading("NPS".into()),
        Item::Figure(
            "Score".into(),
            plain(n.score.map_or("n/a".into(), |s| format!("{s:+.1}"))),
            format!("% promoters − % detractors of {}", n.answers),
        ),
        Item::Figure(
            "Answers".into(),
            split(app, [n.promoters as u64, n.passives as u64, n.detractors as u64]),
            "promoters / passives / detractors".into(),
        ),
        Item::Heading(format!("Health now · model {}", app.status.model_label)),
        Item::Figure(
            "All live accounts".into(),
            bands(app, &r.health),
            format!("green / yellow / red; {} unscored", r.unscored),
        ),
    ];
    for (segment, counts) in &r.health_by_segment {
        items.push(Item::Figure(segment_name(*segment).into(), bands(app, counts), "green / yellow / red".into()));
    }
    items.push(Item::Heading("ARR up for renewal".into()));
    for w in &r.renewing {
        let by = r.today + Duration::days(w.days);
        items.push(Item::Figure(
            format!("Within {} days", w.days),
            plain(money(w.arr)),
            format!("live, renewal date by {by}"),
        ));
    }
    items.push(Item::Heading("Backtest".into()));
    if view.backtest_lines.is_empty() {
        items.push(Item::Note("no backtest yet".into(), t.dim));
    }
    items.extend(view.backtest_lines.iter().map(|l| Item::Note(l.clone(), t.base)));
    columns(app, items, inner_width)
}

/// Lays figures out in label / value / how columns, cutting the how to fit.
fn columns<'a>(app: &App, items: Vec<Item<'a>>, inner_width: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let span_width = |v: &[Span]| v.iter().map(Span::width).sum::<usize>();
    let figures = || items.iter().filter_map(|i| if let Item::Figure(l, v, _) = i { Some((l, v)) } else { None });
    let label_w = figures().map(|(l, _)| l.width()).max().unwrap_or(0);
    let value_w = figures().map(|(_, v)| span_width(v)).max().unwrap_or(0);
    // Indent and gaps take 5 columns; the how column gets what is left.
    let how_w = inner_width.saturating_sub(label_w + value_w + 5);
    items
        .into_iter()
        .map(|item| match item {
            Item::Heading(h) => Line::styled(h, t.header),
            Item::Note(text, style) => Line::from(vec![Span::raw("  "), Span::styled(text, style)]),
            Item::Figure(label, value, how) => {
                let pad = value_w - span_width(&value);
                let mut spans = vec![Span::styled(format!("  {label:<label_w$} {}", " ".repeat(pad)), t.base)];
                spans.extend(value);
                spans.push(Span::styled(format!("  {}", fit(&how, how_w)), t.dim));
                Line::from(spans)
            }
        })
        .collect()
}

/// Green / yellow / red counts, each in its band's colour.
fn bands<'a>(app: &App, c: &BandCounts) -> Vec<Span<'a>> {
    split(app, [c.green, c.yellow, c.red])
}

/// Three counts in the green, yellow and red styles, slash-separated.
fn split<'a>(app: &App, counts: [u64; 3]) -> Vec<Span<'a>> {
    let styles = [Band::Green, Band::Yellow, Band::Red].map(|b| super::band_style(app, Some(b)));
    let mut spans = Vec::new();
    for (i, (count, style)) in counts.into_iter().zip(styles).enumerate() {
        if i > 0 {
            spans.push(Span::styled(" / ", app.theme.dim));
        }
        spans.push(Span::styled(count.to_string(), style));
    }
    spans
}

fn segment_name(s: Segment) -> &'static str {
    match s {
        Segment::Enterprise => "Enterprise",
        Segment::MidMarket => "Mid-market",
        Segment::Smb => "SMB",
    }
}
