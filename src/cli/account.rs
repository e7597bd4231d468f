//! `cockpit account ID|NAME`: one account's whole record, headless.

use super::print::say;
use crate::config::Config;
use crate::domain::calendar::Calendar;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use super::output::{grid, json, Align};
use super::{CliResult, Error, Format};
use crate::domain::account_record::AccountRecord;
use crate::domain::explain::Explanation;
use crate::domain::nps::{classify, NpsClass};
use crate::domain::provenance::{Basis, Provenance, Unknown};
use crate::domain::signals::{describe, value_text};
use crate::domain::text::sanitize;
use crate::domain::{AccountId, Bands};
use crate::store::Store;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// At most this many accounts are listed when a name matches several.
const LISTED: usize = 20;

/// Prints the record of the account `who` names.
pub fn run(store: &Store, c: &Config, who: &str, format: Format, now: DateTime<Utc>) -> CliResult {
    let sources: Vec<String> = c.sources.iter().map(|s| s.name.clone()).collect();
    let (model, bands, cal, sources) = (&c.health_model, c.bands, &c.calendar, &sources[..]);
    let id = resolve(store, sources, who)?;
    let record = store
        .account_record(id, model, sources, now)?
        .ok_or_else(|| format!("account {} is gone from the workspace; run cockpit accounts to see the book", id.0))?;
    let out = match format {
        Format::Json => json(&to_json(&record, &bands))?,
        Format::Table | Format::Markdown => text(&record, &bands, format == Format::Markdown, cal),
    };
    say!("{out}");
    Ok(())
}

/// The account `who` names: its id in the workspace, its id at a source,
/// else its name (case-insensitive, exact first, then a unique part).
fn resolve(store: &Store, sources: &[String], who: &str) -> CliResult<AccountId> {
    let who = who.trim();
    if who.is_empty() {
        return Err(Error::usage("give an account id or name (cockpit accounts lists them)"));
    }
    if let Ok(n) = who.parse::<u64>() {
        if store.account(AccountId(n))?.is_some() {
            return Ok(AccountId(n));
        }
    }
    let mut by_source: Vec<AccountId> = Vec::new();
    for s in sources {
        for ext in [who.to_string(), format!("org/{who}")] {
            if let Some(id) = store.external_id(s, &ext)? {
                if !by_source.contains(&id) && store.account(id)?.is_some() {
                    by_source.push(id);
                }
            }
        }
    }
    let mut names = Vec::new();
    for row in store.rows() {
        let row = row?;
        names.push((row.id, row.name));
    }
    let found: Vec<(AccountId, String)> = match by_source.as_slice() {
        [] => matching(&names, who),
        ids => names.into_iter().filter(|(id, _)| ids.contains(id)).collect(),
    };
    match found.as_slice() {
        [(id, _)] => Ok(*id),
        [] => Err(format!(
            "no account matches \"{}\": give its id, its HubSpot or Zendesk id, or part of its name \
             (cockpit accounts lists them)",
            sanitize(who)
        )
        .into()),
        many => {
            let mut list: Vec<String> =
                many.iter().take(LISTED).map(|(id, name)| format!("  {:>6}  {}", id.0, sanitize(name))).collect();
            if many.len() > LISTED {
                list.push(format!("  ... and {} more", many.len() - LISTED));
            }
            Err(Error::usage(format!(
                "\"{}\" matches {} accounts; run cockpit account with one of these ids:\n{}",
                sanitize(who),
                many.len(),
                list.join("\n")
            )))
        }
    }
}

/// Accounts whose name is `who` in any case; when none, those whose name
/// contains it.
fn matching(names: &[(AccountId, String)], who: &str) -> Vec<(AccountId, String)> {
    let who = who.to_lowercase();
    let exact: Vec<(AccountId, String)> = names.iter().filter(|(_, n)| n.to_lowercase() == who).cloned().collect();
    if !exact.is_empty() {
        return exact;
    }
    names.iter().filter(|(_, n)| n.to_lowercase().contains(&who)).cloned().collect()
}

fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

fn day(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| json!(d.to_string()))
}

fn key_of<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn basis_json(b: &Basis) -> Value {
    let mut v = json!({ "kind": b.kind(), "text": clean(&b.text()), "date": day(b.day()) });
    let extra = match b {
        Basis::Reported { signal, origin, since, checked, value } => json!({
            "signal": signal.key(), "origin": clean(origin), "since": since.to_string(),
            "checked": checked.to_string(), "value": value,
        }),
        Basis::Trend { signal, origin, since, value, baseline, days } => json!({
            "signal": signal.key(), "origin": clean(origin), "since": since.to_string(), "value": value,
            "baseline": baseline, "baseline_days": days,
        }),
        Basis::AccountSeats { seats } => json!({ "field": "seats", "value": seats }),
        Basis::Activity { id, kind, at, .. } => json!({ "id": id, "activity": key_of(kind), "at": at.to_rfc3339() }),
        Basis::Ticket { id, event, at, escalated, .. } => {
            json!({ "id": id, "event": event.key(), "at": at.to_rfc3339(), "escalated": escalated })
        }
        Basis::Nps { id, on, score } => json!({ "id": id, "on": on.to_string(), "score": score }),
        Basis::Manual { field, value } => json!({ "field": field, "value": value }),
        Basis::Sentiment { value, at, by } => json!({ "value": value, "at": at.to_rfc3339(), "by": clean(by) }),
        Basis::Ratings { good, total, latest } => {
            json!({ "good": good, "total": total, "latest": latest.to_rfc3339() })
        }
    };
    if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
        v.extend(extra);
    }
    v
}

fn unknown_json(why: &Unknown) -> Value {
    let mut v = json!({ "reason": why.key(), "text": clean(&why.text()), "date": day(why.day()) });
    let extra = match why {
        Unknown::NoSource(signals) => json!({ "signals": signals.iter().map(|s| s.key()).collect::<Vec<_>>() }),
        Unknown::NotANumber { signal, origin, .. } | Unknown::ZeroBaseline { signal, origin } => {
            json!({ "signal": signal.key(), "origin": clean(origin) })
        }
        Unknown::ShortHistory { signal, origin, days } => {
            json!({ "signal": signal.key(), "origin": clean(origin), "days": days, "needs_days": 28 })
        }
        _ => json!({}),
    };
    if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
        v.extend(extra);
    }
    v
}

fn input_json(p: &Provenance, today: NaiveDate) -> Value {
    json!({
        "input": p.measure.key(),
        "label": p.measure.label(),
        "known": p.value.is_ok(),
        "value": p.get(),
        "text": p.get().map(|v| value_text(p.measure, v)),
        "described": describe(p.measure, p.get()),
        "source": clean(&p.source_text()),
        "date": day(p.day(today)),
        "basis": p.basis.iter().map(basis_json).collect::<Vec<_>>(),
        "unknown": p.value.as_ref().err().map(unknown_json),
    })
}

fn score_json(e: &Explanation, bands: &Bands) -> Value {
    json!({
        "day": e.day.to_string(),
        "score": e.scored.score,
        "band": e.scored.score.map(|s| bands.band(s).key()),
        "model": e.model,
        "profile": e.scored.profile,
        "factors": e.contributions.iter().map(|c| json!({
            "input": c.measure.key(),
            "label": c.measure.label(),
            "score": c.score,
            "weight": c.weight,
            "points": (c.points * 10.0).round() / 10.0,
            "lost": (c.lost * 10.0).round() / 10.0,
            "described": describe(c.measure, e.inputs.get(c.measure)),
        })).collect::<Vec<_>>(),
        "groups": e.scored.groups.iter().map(|(g, s)| json!({ "group": g, "score": s })).collect::<Vec<_>>(),
        "missing": e.scored.missing.iter().map(|m| m.key()).collect::<Vec<_>>(),
        "compared_with": day(e.then),
        "movers": e.movers.iter().map(|m| json!({
            "input": m.measure.key(), "points": (m.points * 10.0).round() / 10.0, "text": m.text(),
        })).collect::<Vec<_>>(),
    })
}

fn class(score: u8) -> &'static str {
    match classify(score) {
        NpsClass::Promoter => "promoter",
        NpsClass::Passive => "passive",
        NpsClass::Detractor => "detractor",
    }
}

fn to_json(r: &AccountRecord, bands: &Bands) -> Value {
    let a = &r.account;
    let today = r.as_of.date_naive();
    let row = r.row.as_ref();
    let health = row.and_then(|r| r.health);
    let from = AccountRecord::history_from(today);
    json!({
        "generated_at": r.as_of.to_rfc3339(),
        "account": {
            "id": a.id.0,
            "name": clean(&a.name),
            "domain": clean(&a.domain),
            "segment": a.segment.key(),
            "industry": clean(&a.industry),
            "region": clean(&a.region),
            "owner": clean(&a.owner),
            "plan": clean(&a.plan),
            "seats": a.seats,
            "arr": a.arr,
            "mrr": a.mrr(),
            "stage": a.stage.key(),
            "contract_start": a.contract_start.to_string(),
            "renewal_date": a.renewal_date.to_string(),
            "days_to_renewal": a.days_to_renewal(today),
            "external_ids": r.external.iter().map(|(s, e)| json!({ "source": s, "id": clean(e) })).collect::<Vec<_>>(),
        },
        "health": {
            "score": health,
            "band": health.map(|h| bands.band(h).key()),
            "change_7d": row.and_then(|r| r.delta_7d()),
            "change_30d": row.and_then(|r| r.delta_30d()),
        },
        "inputs": r.inputs.iter().map(|p| input_json(p, today)).collect::<Vec<_>>(),
        "score": r.explanation.as_ref().map(|e| score_json(e, bands)),
        "history": {
            "from": from.to_string(),
            "to": today.to_string(),
            "scores": (0..crate::domain::account_record::RECORD_DAYS)
                .map(|i| r.history.at(from + Duration::days(i)))
                .collect::<Vec<_>>(),
        },
        "contacts": r.contacts.iter().map(|c| json!({
            "id": (c.id != 0).then_some(c.id),
            "name": clean(&c.name),
            "title": clean(&c.title),
            "email": clean(&c.email),
            "key_person": c.key_person,
        })).collect::<Vec<_>>(),
        "open_tickets": r.open_tickets.iter().map(|t| json!({
            "id": t.id,
            "subject": clean(&t.subject),
            "status": key_of(&t.status),
            "priority": key_of(&t.priority),
            "requester": clean(&t.requester),
            "created_at": t.created_at.to_rfc3339(),
            "age_days": (r.as_of - t.created_at).num_days().max(0),
            "escalated": t.escalated,
            "last_customer_reply": t.last_customer_reply.map(|t| t.to_rfc3339()),
        })).collect::<Vec<_>>(),
        "closed_tickets": r.closed_tickets,
        "deals": r.deals.iter().map(|d| json!({
            "id": d.id,
            "name": clean(&d.name),
            "kind": key_of(&d.kind),
            "state": key_of(&d.state),
            "amount": d.amount,
            "close_date": day(d.close_date),
        })).collect::<Vec<_>>(),
        "nps": r.nps.iter().map(|n| json!({
            "id": n.id,
            "on": n.on.to_string(),
            "score": n.score,
            "class": class(n.score),
            "comment": clean(&n.comment),
        })).collect::<Vec<_>>(),
        "timeline": r.timeline.iter().map(|a| json!({
            "id": a.id,
            "at": a.at.to_rfc3339(),
            "kind": key_of(&a.kind),
            "author": clean(&a.author),
            "summary": clean(&a.summary),
        })).collect::<Vec<_>>(),
    })
}

/// Text that means only itself in Markdown (outside tables too).
fn md(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace('*', "\\*").replace('_', "\\_").replace('#', "\\#")
}

/// A section heading.
fn heading(out: &mut String, title: &str, markdown: bool) {
    if markdown {
        out.push_str(&format!("\n## {title}\n\n"));
    } else {
        out.push_str(&format!("\n{title}\n"));
    }
}

/// One mark per day of a month's scores: `None` is a blank.
fn marks(scores: &[Option<u8>]) -> String {
    scores.iter().map(|s| s.map_or(' ', |v| BARS[(v.min(100) as usize * 8 / 101).min(7)])).collect()
}

/// The year of scores, a row per calendar month.
fn months(r: &AccountRecord) -> Vec<String> {
    let today = r.as_of.date_naive();
    let from = AccountRecord::history_from(today);
    let mut rows = Vec::new();
    let mut first = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).expect("valid date");
    while first <= today {
        let next = first.checked_add_months(chrono::Months::new(1)).expect("valid date");
        let days: Vec<NaiveDate> = (0..(next - first).num_days()).map(|i| first + Duration::days(i)).collect();
        let scores: Vec<Option<u8>> =
            days.iter().map(|d| if *d < from || *d > today { None } else { r.history.at(*d) }).collect();
        let known: Vec<u32> = scores.iter().flatten().map(|s| *s as u32).collect();
        let summary = match known.len() {
            0 => "no score".to_string(),
            n => format!(
                "avg {:>3}  min {:>3}  max {:>3}",
                (known.iter().sum::<u32>() + n as u32 / 2) / n as u32,
                known.iter().min().copied().unwrap_or(0),
                known.iter().max().copied().unwrap_or(0)
            ),
        };
        rows.push(format!("{}  {:<31}  {summary}", first.format("%Y-%m"), marks(&scores)));
        first = next;
    }
    rows
}

fn text(r: &AccountRecord, bands: &Bands, markdown: bool, cal: &Calendar) -> String {
    let a = &r.account;
    let today = r.as_of.date_naive();
    let format = if markdown { Format::Markdown } else { Format::Table };
    // Table cells are escaped by the grid; running text here.
    let esc = |s: &str| if markdown { md(&clean(s)) } else { clean(s) };
    let mut out = String::new();
    let ids: Vec<String> = std::iter::once(format!("account {}", a.id.0))
        .chain(r.external.iter().map(|(s, e)| format!("{s} {e}")))
        .collect();
    if markdown {
        out.push_str(&format!("# {}\n\n", esc(&a.name)));
        out.push_str(&format!("{}\n\n", esc(&ids.join(" · "))));
    } else {
        out.push_str(&format!("{}  ({})\n", clean(&a.name), clean(&ids.join(" · "))));
    }
    let renews = match a.days_to_renewal(today) {
        d if d >= 0 => format!("renews {} (in {d} days)", a.renewal_date),
        d => format!("renewal date {} ({} days ago)", a.renewal_date, -d),
    };
    let mut facts = vec![a.segment.label().to_string(), esc(&a.plan), format!("{} seats", a.seats)];
    facts.push(format!("ARR {}", crate::display::money(a.arr)));
    facts.push(a.stage.label().to_string());
    facts.push(renews);
    if !a.owner.is_empty() {
        facts.push(format!("owner {}", esc(&a.owner)));
    }
    if !a.domain.is_empty() {
        facts.push(esc(&a.domain));
    }
    out.push_str(&facts.join(" · "));
    out.push('\n');
    let row = r.row.as_ref();
    let signed = |d: Option<i16>| d.map_or("n/a".to_string(), |d| format!("{d:+}"));
    match row.and_then(|r| r.health) {
        Some(h) => out.push_str(&format!(
            "{}Health {h} {} · 7d {} · 30d {}\n",
            if markdown { "\n" } else { "" },
            bands.band(h).key(),
            signed(row.and_then(|r| r.delta_7d())),
            signed(row.and_then(|r| r.delta_30d()))
        )),
        None => out.push_str(&format!("{}Health: no score yet\n", if markdown { "\n" } else { "" })),
    }

    heading(&mut out, &format!("Inputs (as of {})", cal.local(r.as_of).format("%Y-%m-%d %H:%M %Z")), markdown);
    let cells: Vec<Vec<String>> = r
        .inputs
        .iter()
        .map(|p| {
            vec![
                p.measure.key().to_string(),
                p.get().map_or("unknown".into(), |v| value_text(p.measure, v)),
                clean(&p.source_text()),
                p.day(today).map_or(String::new(), |d| d.to_string()),
            ]
        })
        .collect();
    let headers = [("Input", Align::Left), ("Value", Align::Right), ("Source", Align::Left), ("Date", Align::Left)];
    out.push_str(&grid(format, &headers, &cells));

    match &r.explanation {
        None => {
            heading(&mut out, "Score", markdown);
            out.push_str("No inputs recorded in the last 30 days: scores start with the next daily pass.\n");
        }
        Some(e) => {
            let score = e.scored.score.map_or("no score".to_string(), |s| format!("{s} {}", bands.band(s).key()));
            heading(&mut out, &format!("Score {score} on {} (model {})", e.day, esc(&e.model)), markdown);
            let cells: Vec<Vec<String>> = e
                .contributions
                .iter()
                .map(|c| {
                    vec![
                        c.measure.label().to_string(),
                        c.score.to_string(),
                        c.weight.to_string(),
                        format!("{:.1}", c.points),
                        format!("{:.1}", c.lost),
                        clean(&describe(c.measure, e.inputs.get(c.measure))),
                    ]
                })
                .collect();
            let headers = [
                ("Factor", Align::Left),
                ("Score", Align::Right),
                ("Weight", Align::Right),
                ("Points", Align::Right),
                ("Lost", Align::Right),
                ("Input", Align::Left),
            ];
            out.push_str(&grid(format, &headers, &cells));
            let mut foot = Vec::new();
            if let Some(p) = &e.scored.profile {
                foot.push(format!("Profile: {}.", esc(p)));
            }
            if !e.scored.missing.is_empty() {
                let m: Vec<&str> = e.scored.missing.iter().map(|m| m.label()).collect();
                foot.push(format!("Not known (their weight is spread over the rest): {}.", m.join(", ")));
            }
            match (e.then, e.movers.is_empty()) {
                (None, _) => foot.push("Since last week: no inputs kept from a week before.".into()),
                (Some(d), true) => foot.push(format!("Since {d}: nothing moved by a point or more.")),
                (Some(d), false) => {
                    let m: Vec<String> = e.movers.iter().map(|m| esc(&m.text())).collect();
                    foot.push(format!("Since {d}: {}.", m.join("; ")))
                }
            }
            if markdown {
                out.push('\n');
            }
            for f in foot {
                out.push_str(&f);
                out.push_str(if markdown { "\n\n" } else { "\n" });
            }
        }
    }

    let from = AccountRecord::history_from(today);
    heading(&mut out, &format!("Health, {from} to {today} (a mark per day, blank: no score)"), markdown);
    if markdown {
        out.push_str("```\n");
    }
    for m in months(r) {
        out.push_str(m.trim_end());
        out.push('\n');
    }
    if markdown {
        out.push_str("```\n");
    }

    heading(&mut out, &format!("Contacts ({})", r.contacts.len()), markdown);
    let cells: Vec<Vec<String>> = r
        .contacts
        .iter()
        .map(|c| {
            vec![
                clean(&c.name),
                if c.key_person { "key person".into() } else { String::new() },
                clean(&c.title),
                clean(&c.email),
            ]
        })
        .collect();
    let headers = [("Name", Align::Left), ("", Align::Left), ("Title", Align::Left), ("Email", Align::Left)];
    section(&mut out, format, &headers, &cells, "No contacts.");

    heading(
        &mut out,
        &format!("Open tickets ({}; {} solved or closed)", r.open_tickets.len(), r.closed_tickets),
        markdown,
    );
    let cells: Vec<Vec<String>> = r
        .open_tickets
        .iter()
        .map(|t| {
            let status = key_of(&t.status).as_str().unwrap_or_default().to_string();
            vec![
                format!("#{}", t.id),
                if t.escalated { format!("{status}, escalated") } else { status },
                format!("{}d", (r.as_of - t.created_at).num_days().max(0)),
                key_of(&t.priority).as_str().unwrap_or_default().to_string(),
                clean(&t.subject),
            ]
        })
        .collect();
    let headers = [
        ("Ticket", Align::Right),
        ("Status", Align::Left),
        ("Age", Align::Right),
        ("Priority", Align::Left),
        ("Subject", Align::Left),
    ];
    section(&mut out, format, &headers, &cells, "No open tickets.");

    heading(&mut out, &format!("Deals ({})", r.deals.len()), markdown);
    let cells: Vec<Vec<String>> = r
        .deals
        .iter()
        .map(|d| {
            vec![
                clean(&d.name),
                d.kind.label().to_string(),
                key_of(&d.state).as_str().unwrap_or_default().to_string(),
                crate::display::money(d.amount),
                d.close_date.map_or(String::new(), |d| d.to_string()),
            ]
        })
        .collect();
    let headers = [
        ("Deal", Align::Left),
        ("Kind", Align::Left),
        ("State", Align::Left),
        ("Amount", Align::Right),
        ("Close", Align::Left),
    ];
    section(&mut out, format, &headers, &cells, "No deals.");

    heading(&mut out, &format!("NPS answers ({})", r.nps.len()), markdown);
    let cells: Vec<Vec<String>> = r
        .nps
        .iter()
        .map(|n| vec![n.on.to_string(), n.score.to_string(), class(n.score).to_string(), clean(&n.comment)])
        .collect();
    let headers = [("Day", Align::Left), ("Score", Align::Right), ("Class", Align::Left), ("Comment", Align::Left)];
    section(&mut out, format, &headers, &cells, "No NPS answers.");

    heading(&mut out, &format!("Timeline ({}, most recent first)", r.timeline.len()), markdown);
    if r.timeline.is_empty() {
        out.push_str("Nothing on the timeline.\n");
    }
    for a in &r.timeline {
        let by = if a.author.is_empty() { String::new() } else { format!(" ({})", esc(&a.author)) };
        let when = cal.minute(a.at);
        if markdown {
            out.push_str(&format!("- **{when}** {}{by}: {}\n", a.kind.label(), esc(&a.summary)));
        } else {
            out.push_str(&format!("{when}  {:<9}{by}  {}\n", a.kind.label(), clean(&a.summary)));
        }
    }
    out
}

fn section(out: &mut String, format: Format, headers: &[(&str, Align)], cells: &[Vec<String>], empty: &str) {
    if cells.is_empty() {
        out.push_str(empty);
        out.push('\n');
    } else {
        out.push_str(&grid(format, headers, cells));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_exactly_first_then_by_a_part() {
        let names: Vec<(AccountId, String)> = [(1, "Acme"), (2, "Acme Labs"), (3, "Globex"), (4, "ACME labs")]
            .iter()
            .map(|(i, n)| (AccountId(*i), n.to_string()))
            .collect();
        let ids = |who: &str| matching(&names, who).iter().map(|(i, _)| i.0).collect::<Vec<_>>();
        assert_eq!(ids("acme"), [1], "exact, in any case, wins over parts");
        assert_eq!(ids("acme labs"), [2, 4], "two exact matches");
        assert_eq!(ids("glob"), [3]);
        assert_eq!(ids("labs"), [2, 4]);
        assert!(ids("initech").is_empty());
    }

    #[test]
    fn a_month_of_marks_follows_the_scores() {
        assert_eq!(marks(&[Some(0), Some(50), None, Some(100), Some(12)]), "▁▄ █▁");
    }
}
