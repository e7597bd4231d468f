//! The account view's lines at a width: each section under its heading,
//! wrapped (nothing essential is cut off at 80 columns), with where each
//! section and each ticket falls. Pure over what was read: the draw shows
//! a window of them, the keys move over them.

use crate::domain::calendar::Calendar;
use chrono::{DateTime, Duration, Utc};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{ago, band_style, money, wrap};
use crate::domain::followup::is_high_value;
use crate::domain::nps::NpsClass;
use crate::domain::outbox::OutboxState;
use crate::domain::signals::describe;
use crate::domain::text::sanitize;
use crate::domain::ticket::{TicketCall, CLOSE_AFTER_DAYS, NO_REPLY_HOURS, SEEN_COMPLEX_HOURS};
use crate::domain::{Account, Band, DealState, OutcomeKind, Segment, Ticket, TicketStatus};
use crate::tui::account_view::{AccountView, Layout, Section};
use crate::tui::action::Action;
use crate::tui::app::{App, Pane};
use crate::tui::full_read::FullAccount;
use crate::tui::keymap::KeyMode;
use crate::tui::reads::TicketView;

/// The lines and where things fall among them.
#[derive(Debug, Default)]
pub struct Built {
    /// Every line, in order.
    pub lines: Vec<Line<'static>>,
    /// Sections and tickets.
    pub layout: Layout,
}

/// Lines under construction, at one width.
struct Out<'a> {
    app: &'a App,
    width: usize,
    built: Built,
}

impl Out<'_> {
    fn push(&mut self, line: Line<'static>) {
        self.built.lines.push(line);
    }

    fn blank(&mut self) {
        self.push(Line::raw(""));
    }

    fn heading(&mut self, s: Section, extra: String) {
        let t = &self.app.theme;
        self.built.layout.starts[Section::ALL.iter().position(|x| *x == s).unwrap_or(0)] = self.built.lines.len();
        let mut spans = vec![Span::styled(format!("── {} ", s.title()), t.title_focused.add_modifier(Modifier::BOLD))];
        if !extra.is_empty() {
            spans.push(Span::styled(format!("{extra} "), t.dim));
        }
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        spans.push(Span::styled("─".repeat(self.width.saturating_sub(used)), t.border));
        self.push(Line::from(spans));
    }

    /// Text wrapped at the width, each line after the first indented.
    fn para(&mut self, text: &str, style: Style, indent: usize) {
        for (i, l) in wrap(text, self.width.saturating_sub(indent).max(10)).into_iter().enumerate() {
            let pad = if i == 0 { 0 } else { indent };
            self.push(Line::styled(format!("{}{l}", " ".repeat(pad)), style));
        }
    }

    /// Text wrapped, every line indented.
    fn indented(&mut self, text: &str, style: Style, indent: usize) {
        for l in wrap(text, self.width.saturating_sub(indent).max(10)) {
            self.push(Line::styled(format!("{}{l}", " ".repeat(indent)), style));
        }
    }

    /// A dim label, then its value wrapped after it.
    fn field(&mut self, label: &str, value: &str) {
        let t = &self.app.theme;
        let room = self.width.saturating_sub(label.chars().count() + 1).max(10);
        for (i, l) in wrap(value, room).into_iter().enumerate() {
            let head = if i == 0 { label.to_string() } else { " ".repeat(label.chars().count()) };
            self.push(Line::from(vec![Span::styled(format!("{head} "), t.dim), Span::styled(l, t.base)]));
        }
    }
}

/// Lays out the account view's sections at `width` columns.
pub fn build(app: &App, view: &AccountView, width: usize) -> Built {
    let mut out = Out { app, width: width.max(20), built: Built::default() };
    let Some(full) = &view.full else {
        for s in Section::ALL {
            out.heading(s, String::new());
            out.push(Line::styled("reading…", app.theme.dim));
            out.blank();
        }
        out.built.layout.len = out.built.lines.len();
        return out.built;
    };
    for trouble in &full.trouble {
        out.para(&sanitize(trouble), app.theme.warning, 2);
    }
    overview(&mut out, view, full);
    contacts(&mut out, full);
    tickets(&mut out, full);
    deals(&mut out, full);
    nps(&mut out, full);
    timeline(&mut out, view, full);
    outbox(&mut out, full);
    out.built.layout.len = out.built.lines.len();
    out.built
}

fn segment_words(s: Segment) -> &'static str {
    match s {
        Segment::Enterprise => "Enterprise",
        Segment::MidMarket => "Mid-market",
        Segment::Smb => "SMB",
    }
}

fn days(n: i64) -> String {
    if n.abs() == 1 {
        format!("{n} day")
    } else {
        format!("{n} days")
    }
}

/// A span of time in words: "3 days", "5 hours", "40 minutes".
pub fn span_words(d: Duration) -> String {
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if d.num_days() >= 2 {
        plural(d.num_days(), "day")
    } else if d.num_hours() >= 1 {
        plural(d.num_hours(), "hour")
    } else {
        plural(d.num_minutes().max(0), "minute")
    }
}

fn overview(out: &mut Out, view: &AccountView, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let today = app.calendar.day(app.now);
    out.heading(Section::Overview, String::new());
    let (Some(a), row) = (&full.account, &full.row) else {
        out.push(Line::styled("This account is no longer in the workspace.", t.warning));
        out.blank();
        return;
    };
    let name = sanitize(&a.name).into_owned();
    let domain = sanitize(&a.domain);
    let title = if domain.trim().is_empty() { name } else { format!("{name} · {domain}") };
    out.para(&title, t.base.add_modifier(Modifier::BOLD), 2);
    let mut who = vec![segment_words(a.segment).to_string()];
    who.extend([&a.industry, &a.region].iter().filter(|s| !s.trim().is_empty()).map(|s| sanitize(s).into_owned()));
    out.para(&who.join(" · "), t.dim, 2);
    let owner = if a.owner.trim().is_empty() { "no owner set".into() } else { sanitize(&a.owner).into_owned() };
    out.field("Owner", &owner);
    out.field("Plan", &format!("{} · {} seats", sanitize(&a.plan), a.seats));
    out.field("Revenue", &format!("ARR {} · MRR {}", money(a.arr), money(a.mrr())));
    out.field("Stage", &stage_words(a, full.stage_since, app.now, &app.calendar));
    match &full.support_only {
        Some(s) => out.field("Support only", &format!("no contract; {}", sanitize(&s.describe()))),
        None => {
            let n = a.days_to_renewal(today);
            let when = if n >= 0 { format!("in {}", days(n)) } else { format!("{} ago", days(-n)) };
            out.field("Renewal", &format!("{} ({when})", a.renewal_date));
            out.field("Contract", &format!("since {}", a.contract_start));
        }
    }
    if let Some(o) = &a.outcome {
        let what = match o.kind {
            OutcomeKind::Renewed => "renewed",
            OutcomeKind::Churned => "churned",
        };
        let why = o.reason.map_or(String::new(), |r| format!(" ({})", r.label()));
        let note = if o.note.trim().is_empty() { String::new() } else { format!(": {}", sanitize(o.note.trim())) };
        out.field("Outcome", &format!("{what} on {}{why}{note}", o.on));
    }
    out.blank();
    if let Some(r) = row {
        let band = r.band(&app.bands);
        let delta = |d: Option<i16>| d.map_or("n/a".into(), |d| format!("{d:+}"));
        out.push(Line::from(vec![
            Span::styled("Health ", t.dim),
            Span::styled(
                format!("{} {}", r.health.map_or("—".into(), |h| h.to_string()), band.map_or("no score", Band::key)),
                band_style(app, band).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" · 7d {} · 30d {}", delta(r.delta_7d()), delta(r.delta_30d())), t.accent),
        ]));
    }
    let sentiment = match &full.sentiment {
        Some(s) => format!("{}/5, set by {} on {}", s.value, sanitize(&s.by), app.calendar.day(s.at)),
        None => match app.keymap.hint(KeyMode::Normal, Action::Sentiment) {
            Some(k) => format!("not set ({k} in the panes sets it)"),
            None => "not set".into(),
        },
    };
    out.field("Sentiment", &sentiment);
    queue_item(out, view, full);
    factors(out, full);
    out.blank();
}

/// "Adoption for 23 days, since 2026-11-03" from the timeline's last stage
/// change, else since the contract started.
fn stage_words(a: &Account, since: Option<DateTime<Utc>>, now: DateTime<Utc>, cal: &Calendar) -> String {
    match since {
        Some(at) => format!("{} for {}, since {}", a.stage.label(), span_words(now - at), cal.day(at)),
        None => {
            let d = (cal.day(now) - a.contract_start).num_days().max(0);
            format!("{} since contract start, {} ago ({})", a.stage.label(), days(d), a.contract_start)
        }
    }
}

/// Opened from the queue: the item it was opened on, and why it ranks there.
fn queue_item(out: &mut Out, view: &AccountView, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    if view.back_to != Pane::Queue {
        return;
    }
    let Some(item) = app.selection.queue_item(&app.queue).filter(|q| q.follow_up.account_id == full.id) else {
        return;
    };
    let f = &item.follow_up;
    let due = if item.is_overdue(app.now) {
        format!("overdue by {}", ago(item.due, app.now))
    } else {
        format!("due {}", app.calendar.short(item.due, app.now))
    };
    out.blank();
    out.para(
        &format!(
            "Opened on the follow-up: {} · {due} · {} priority",
            f.kind.title(),
            crate::queue::priority_label(f.priority)
        ),
        t.title_focused,
        2,
    );
    out.indented(&sanitize(&item.reason), t.base, 2);
    let ranked = crate::queue::explain_with(item, &app.bands, app.now, &app.calendar).join(" · ");
    out.indented(&format!("Ranked by: {ranked}"), t.dim, 2);
}

fn factors(out: &mut Out, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    out.blank();
    let Some(e) = &full.explanation else {
        out.para("No health inputs recorded yet: scores start with the next daily pass.", t.dim, 2);
        return;
    };
    out.para(&format!("Why: the factors on {} (model {})", e.day, e.model), t.title_focused, 2);
    // The input goes beside the figures when there is room, else below them.
    let beside = out.width >= 72;
    out.push(Line::styled(
        format!(
            "{:<11} {:>5} {:>6} {:>6} {:>6}{}",
            "factor",
            "score",
            "weight",
            "points",
            "lost",
            if beside { "  input" } else { "" }
        ),
        t.dim.add_modifier(Modifier::BOLD),
    ));
    for c in &e.contributions {
        let style = band_style(app, Some(app.bands.band(c.score)));
        let input = sanitize(&describe(c.measure, e.inputs.get(c.measure))).into_owned();
        let figures = format!(" {:>6} {:>6.1} {:>6.1}", c.weight, c.points, c.lost);
        let head = vec![Span::styled(format!("{:<11} {:>5}", c.measure.label(), c.score), style), Span::raw(figures)];
        if beside {
            let room = out.width.saturating_sub(40).max(10);
            for (i, l) in wrap(&input, room).into_iter().enumerate() {
                let mut spans = if i == 0 { head.clone() } else { vec![Span::raw(" ".repeat(38))] };
                spans.push(Span::styled(format!("  {l}"), t.dim));
                out.push(Line::from(spans));
            }
        } else {
            out.push(Line::from(head));
            out.indented(&input, t.dim, 4);
        }
    }
    if !e.scored.missing.is_empty() {
        let names: Vec<&str> = e.scored.missing.iter().map(|m| m.label()).collect();
        out.para(&format!("Not known, weight spread over the rest: {}", names.join(", ")), t.dim, 2);
    }
    if let Some(p) = &e.scored.profile {
        out.para(&format!("Weighed by the {p} profile"), t.dim, 2);
    }
    out.blank();
    out.para("What moved since last week", t.title_focused, 2);
    match e.then {
        None => out.indented("no inputs were kept a week before", t.dim, 2),
        Some(_) if e.movers.is_empty() => out.indented("nothing moved by a point or more", t.dim, 2),
        Some(_) => {
            for m in &e.movers {
                let style = if m.points < 0.0 { t.band_red } else { t.band_green };
                out.indented(&m.text(), style, 2);
            }
        }
    }
}

fn contacts(out: &mut Out, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let key = full.people.iter().filter(|p| p.key).count();
    out.heading(Section::Contacts, format!("{} · {key} key", full.people.len()));
    if full.people.is_empty() {
        out.para("No contacts synced for this account.", t.dim, 2);
    }
    for p in &full.people {
        let mut head =
            vec![Span::styled(if p.key { "★ " } else { "  " }.to_string(), if p.key { t.accent } else { t.dim })];
        let name = sanitize(&p.name).into_owned();
        let title = sanitize(&p.title).into_owned();
        let line = if title.trim().is_empty() { name } else { format!("{name} · {title}") };
        let wrapped = wrap(&line, out.width.saturating_sub(2).max(10));
        head.push(Span::styled(wrapped[0].clone(), t.base.add_modifier(Modifier::BOLD)));
        out.push(Line::from(head));
        for l in wrapped.into_iter().skip(1) {
            out.push(Line::styled(format!("  {l}"), t.base));
        }
        let email = if p.email.trim().is_empty() { "no email".into() } else { sanitize(&p.email).into_owned() };
        let touch = match p.last_touch {
            Some(at) => format!("last wrote {} ago ({})", ago(at, app.now), app.calendar.day(at)),
            None => "no touch on record".into(),
        };
        out.indented(&format!("{email} · {touch}"), t.dim, 4);
    }
    out.blank();
}

/// The follow-up rule that applies to a ticket now, in words.
pub fn rule_words(ticket: &Ticket, high: bool, now: DateTime<Utc>) -> String {
    let silent = || ticket.last_agent_reply.map(|at| span_words(now - at)).unwrap_or_default();
    match ticket.call(high, now).map(|(c, _)| c) {
        Some(TicketCall::FollowUpNoReply) => {
            format!("No reply for {}: follow up (rule: {NO_REPLY_HOURS} h)", silent())
        }
        Some(TicketCall::FollowUpSeen) => format!(
            "Our complex answer was seen {} ago, no reply: check it made sense (rule: {SEEN_COMPLEX_HOURS} h)",
            silent()
        ),
        Some(TicketCall::ProposeClose) => {
            format!("Silent for {}: propose closing (rule: {CLOSE_AFTER_DAYS} days)", silent())
        }
        Some(TicketCall::EscalateManager) => "Frustrated customer: escalate to the manager now".into(),
        Some(TicketCall::EscalateEngineering) => "Bug: gather the details, escalate to engineering".into(),
        None if !ticket.status.is_open() => "Solved: no rule applies".into(),
        None if ticket.escalated && (ticket.bug || ticket.frustrated) => "Escalated already: waiting on it".into(),
        None if ticket.awaiting_customer() => match ticket.next_change(now) {
            Some(at) if ticket.follow_ups_sent == 0 || high => format!(
                "Waiting on the customer; a follow-up falls due in {} (rule: {NO_REPLY_HOURS} h)",
                span_words(at - now)
            ),
            Some(at) => format!(
                "Waiting on the customer; followed up once already, closing is proposed in {} (rule: {CLOSE_AFTER_DAYS} days)",
                span_words(at - now)
            ),
            None => "Waiting on the customer".into(),
        },
        None if ticket.last_agent_reply.is_none() => "Not answered yet: the customer waits on us".into(),
        None => "The customer wrote last: our move".into(),
    }
}

fn status_word(s: TicketStatus) -> &'static str {
    crate::sync::push::desk::status_name(s)
}

fn tickets(out: &mut Out, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let open = full.tickets.iter().filter(|v| v.ticket.status.is_open()).count();
    out.heading(Section::Tickets, format!("{open} open · {} in all", full.tickets.len()));
    if full.tickets.is_empty() {
        out.para("No tickets for this account.", t.dim, 2);
    }
    let high = full.account.as_ref().is_some_and(|a| {
        is_high_value(a.segment, a.arr, crate::sync::zendesk::HIGH_VALUE_ARR) && full.support_only.is_none()
    });
    for v in ordered(&full.tickets) {
        let tk = &v.ticket;
        let first = out.built.lines.len();
        let style = if tk.status.is_open() { t.base.add_modifier(Modifier::BOLD) } else { t.dim };
        out.para(&format!("#{} {}", tk.id, sanitize(&tk.subject)), style, 2);
        let mut facts = vec![
            status_word(tk.status).to_string(),
            format!("{:?} priority", tk.priority).to_lowercase(),
            format!("opened {} ago", ago(tk.created_at, app.now)),
            format!("by {}", v.shown),
        ];
        if tk.escalated {
            facts.push("escalated".into());
        }
        out.indented(&facts.join(" · "), t.dim, 2);
        let rule = rule_words(tk, high, app.now);
        let style = match tk.call(high, app.now) {
            Some(_) => t.warning,
            None => t.dim,
        };
        out.indented(&rule, style, 2);
        out.built.layout.tickets.push((first, out.built.lines.len(), tk.id));
    }
    if !full.tickets.is_empty() {
        let km = &app.keymap;
        let keys: Vec<String> =
            [(Action::Open, "conversation"), (Action::Reply, "reply"), (Action::CloseTicket, "close")]
                .into_iter()
                .filter_map(|(a, what)| Some(format!("{} {what}", km.hint(KeyMode::Account, a)?)))
                .collect();
        if !keys.is_empty() {
            out.para(&format!("On a ticket: {}", keys.join(" · ")), t.dim, 2);
        }
    }
    out.blank();
}

/// Open tickets first (most urgent first, then oldest), then the rest, newest first.
pub fn ordered(tickets: &[TicketView]) -> Vec<&TicketView> {
    let mut v: Vec<&TicketView> = tickets.iter().collect();
    v.sort_by_key(|t| {
        let open = t.ticket.status.is_open();
        (!open, std::cmp::Reverse(if open { t.ticket.priority as u8 } else { 0 }), {
            let at = t.ticket.created_at.timestamp();
            if open {
                at
            } else {
                -at
            }
        })
    });
    v
}

fn deals(out: &mut Out, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let deals_word = if full.deals.len() == 1 { "deal" } else { "deals" };
    out.heading(Section::Deals, format!("{} {deals_word}", full.deals.len()));
    if let (Some(a), None) = (&full.account, &full.support_only) {
        let n = a.days_to_renewal(app.calendar.day(app.now));
        let when = if n >= 0 { format!("in {}", days(n)) } else { format!("{} ago", days(-n)) };
        out.field("Renewal", &format!("{} ({when}) · ARR {} up for renewal", a.renewal_date, money(a.arr)));
    }
    if full.deals.is_empty() {
        out.para("No deals synced for this account.", t.dim, 2);
    }
    let mut deals: Vec<_> = full.deals.iter().collect();
    deals.sort_by_key(|d| (d.state != DealState::Open, std::cmp::Reverse(d.close_date)));
    for d in deals {
        let state = match d.state {
            DealState::Open => "open",
            DealState::Won => "won",
            DealState::Lost => "lost",
        };
        let when = match (d.close_date, d.state) {
            (Some(c), DealState::Open) => format!("closes {c}"),
            (Some(c), _) => format!("closed {c}"),
            (None, _) => "no close date".into(),
        };
        out.para(&sanitize(&d.name), t.base.add_modifier(Modifier::BOLD), 2);
        out.indented(&format!("{} · {state} · {} · {when}", d.kind.label(), money(d.amount)), t.dim, 2);
    }
    out.blank();
}

fn nps(out: &mut Out, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let answers = if full.nps.len() == 1 { "answer" } else { "answers" };
    out.heading(Section::Nps, format!("{} {answers}", full.nps.len()));
    if full.nps.is_empty() {
        out.para("No NPS answers for this account.", t.dim, 2);
    }
    for n in &full.nps {
        let (class, style) = match n.class() {
            NpsClass::Promoter => ("promoter", t.band_green),
            NpsClass::Passive => ("passive", t.band_yellow),
            NpsClass::Detractor => ("detractor", t.band_red),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{:>2} {class}", n.score), style.add_modifier(Modifier::BOLD)),
            Span::styled(format!(" · {}", n.on), t.dim),
        ]));
        let comment = sanitize(n.comment.trim()).into_owned();
        let comment = if comment.is_empty() { "(no comment)".to_string() } else { format!("\"{comment}\"") };
        out.indented(&comment, if n.comment.trim().is_empty() { t.dim } else { t.base }, 3);
    }
    out.blank();
}

fn timeline(out: &mut Out, view: &AccountView, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let shown: Vec<_> = full.timeline.iter().filter(|a| view.kind.is_none_or(|k| a.kind == k)).collect();
    let filter = match view.kind {
        Some(k) => format!("{} only", k.label()),
        None => "all kinds".into(),
    };
    let more = if full.timeline_more { "+" } else { "" };
    out.heading(Section::Timeline, format!("{}{more} · {filter}", shown.len()));
    if let Some(k) = app.keymap.hint(KeyMode::Account, Action::TimelineKind) {
        out.para(&format!("Newest first · {k} shows one kind at a time"), t.dim, 2);
    }
    if shown.is_empty() {
        out.para("Nothing on the timeline of this kind yet.", t.dim, 2);
    }
    // The entry's text beside its moment when there is room, else below it.
    let beside = out.width >= 100;
    for a in shown {
        let head = format!("{} {:<9} {}", app.calendar.minute(a.at), a.kind.label(), sanitize(&a.author));
        let summary = sanitize(&a.summary).into_owned();
        if beside {
            let col = 44;
            let head = super::fit(&head, col - 1);
            let room = out.width.saturating_sub(col).max(10);
            for (i, l) in wrap(&summary, room).into_iter().enumerate() {
                let left = if i == 0 { format!("{head:<col$}") } else { " ".repeat(col) };
                out.push(Line::from(vec![Span::styled(left, t.dim), Span::styled(l, t.base)]));
            }
        } else {
            out.push(Line::styled(head, t.dim));
            out.indented(&summary, t.base, 2);
        }
    }
    if full.timeline_more {
        let msg =
            if view.reading_more { "reading older entries…" } else { "older entries are read as you reach them" };
        out.para(msg, t.dim, 2);
    }
    out.built.layout.timeline_end = out.built.lines.len().saturating_sub(1);
    out.blank();
}

fn outbox(out: &mut Out, full: &FullAccount) {
    let app = out.app;
    let t = &app.theme;
    let waiting = full.outbox.iter().filter(|e| !e.state.landed()).count();
    out.heading(Section::Outbox, format!("{waiting} waiting · {} in all", full.outbox.len()));
    if full.outbox.is_empty() {
        out.para("Nothing written for this account yet.", t.dim, 2);
    }
    for e in &full.outbox {
        let style = match e.state {
            OutboxState::Failed { .. } => t.error,
            OutboxState::Conflict { .. } => t.warning,
            OutboxState::Sent { .. } | OutboxState::Settled { .. } => t.dim,
            _ => t.base,
        };
        out.push(Line::from(vec![
            Span::styled(format!("{:<9}", e.state.label()), style.add_modifier(Modifier::BOLD)),
            Span::styled(format!("{:<9}", e.write.system().label()), t.dim),
            Span::styled(sanitize(&e.write.describe()).into_owned(), t.base),
        ]));
        out.indented(&format!("made {} ago ({})", ago(e.created, app.now), app.calendar.minute(e.created)), t.dim, 2);
        let why = match &e.state {
            OutboxState::Failed { reason } => Some(reason.clone()),
            OutboxState::Conflict { detail } => Some(detail.clone()),
            OutboxState::Settled { note, .. } => Some(note.clone()),
            _ => e.last_error.clone(),
        };
        if let Some(why) = why {
            out.indented(&sanitize(&why), style, 2);
        }
        if e.write.has_body() {
            let body = sanitize(e.write.body()).into_owned();
            out.indented(&body, t.dim, 4);
        }
    }
    out.blank();
}
