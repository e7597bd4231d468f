//! The queue's order, explained: every follow-up gets a score made of
//! parts a person can check (its kind's base priority, how overdue or how
//! soon it is, the account's health, its ARR and how close its renewal
//! is), and the queue is read highest score first.

use chrono::{DateTime, NaiveDate, Utc};

use super::calendar::Calendar;
use super::followup::{FollowUpKind, Priority};
use super::health::Bands;

/// What the score looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signals {
    /// The follow-up's kind.
    pub kind: FollowUpKind,
    /// Its base priority.
    pub priority: Priority,
    /// When it falls due for the user (working hours applied).
    pub due: DateTime<Utc>,
    /// The account's latest health, when known.
    pub health: Option<u8>,
    /// The account's ARR.
    pub arr: u64,
    /// The account's renewal date, when known.
    pub renewal_date: Option<NaiveDate>,
}

/// Which part of the score a line explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// The kind's base priority.
    Priority,
    /// Overdue, due today or later.
    Urgency,
    /// The account's health (lower counts more).
    Health,
    /// The account's ARR (higher counts more).
    Arr,
    /// How close the renewal is.
    Renewal,
}

/// One part of a score, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// What it measures.
    pub factor: Factor,
    /// Points it adds.
    pub points: i32,
    /// Why, in words ("overdue by 2 days").
    pub text: String,
}

/// A follow-up's score and the parts it is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rank {
    /// The sum of the parts: higher comes first.
    pub score: i32,
    /// The parts, in `Factor` order.
    pub parts: Vec<Part>,
}

impl Rank {
    /// The parts as lines ("overdue by 2 days (+40)"), then the total.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.parts.iter().map(|p| format!("{} (+{})", p.text, p.points)).collect();
        out.push(format!("score {}", self.score));
        out
    }
}

/// Base points per priority: an urgent item starts 40 points up.
pub fn priority_points(p: Priority) -> i32 {
    match p {
        Priority::Urgent => 40,
        Priority::High => 25,
        Priority::Normal => 10,
        Priority::Low => 0,
    }
}

/// Points for being overdue: 30, plus 5 a whole day late, at most 60;
/// anything overdue outranks anything not yet due at equal other parts.
pub const OVERDUE_POINTS: i32 = 30;
/// Points per whole day overdue.
pub const OVERDUE_PER_DAY: i32 = 5;
/// Most points for being overdue.
pub const OVERDUE_MAX: i32 = 60;
/// Points for being due later today.
pub const DUE_TODAY_POINTS: i32 = 10;
/// Most points for a renewal (reached on or after its date).
pub const RENEWAL_MAX: i32 = 20;
/// Days before renewal from which the renewal counts.
pub const RENEWAL_DAYS: i64 = 90;

fn span(d: chrono::Duration) -> String {
    let plural = |n: i64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if d.num_days() >= 1 {
        plural(d.num_days(), "day")
    } else if d.num_hours() >= 1 {
        format!("{} h", d.num_hours())
    } else {
        format!("{} min", d.num_minutes().max(0))
    }
}

fn urgency(due: DateTime<Utc>, now: DateTime<Utc>, cal: &Calendar) -> Part {
    let (points, text) = if due < now {
        let late = now - due;
        let points = (OVERDUE_POINTS + OVERDUE_PER_DAY * late.num_days().min(100) as i32).min(OVERDUE_MAX);
        (points, format!("overdue by {}", span(late)))
    } else if due < cal.end_of_day(now) {
        (DUE_TODAY_POINTS, format!("due today at {}", cal.local(due).format("%H:%M")))
    } else {
        (0, format!("due in {}", span(due - now)))
    };
    Part { factor: Factor::Urgency, points, text }
}

fn health(h: Option<u8>, bands: &Bands) -> Part {
    let (points, text) = match h {
        // 0.4 a point below 100: health 34 gives 26, 70 gives 12.
        Some(h) => ((100 - i32::from(h.min(100))) * 2 / 5, format!("health {h}, {}", bands.band(h).key())),
        None => (0, "no health score yet".into()),
    };
    Part { factor: Factor::Health, points, text }
}

fn arr(arr: u64) -> Part {
    // 5 points per tenfold above $1k: $10k gives 5, $120k 10, $1M 15.
    let points = if arr < 1_000 { 0 } else { (5.0 * (arr as f64 / 1_000.0).log10()).round().clamp(0.0, 20.0) as i32 };
    let text = if arr == 0 { "no ARR".into() } else { format!("ARR {}", crate::display::money(arr)) };
    Part { factor: Factor::Arr, points, text }
}

fn renewal(date: NaiveDate, today: NaiveDate) -> Part {
    let days = (date - today).num_days();
    let (points, text) = if days < 0 {
        (RENEWAL_MAX, format!("renewal date passed {} ago", span(chrono::Duration::days(-days))))
    } else if days <= RENEWAL_DAYS {
        // Linear over the last 90 days: 21 days out gives 15.
        let points = (RENEWAL_MAX as f64 * (RENEWAL_DAYS - days) as f64 / RENEWAL_DAYS as f64).round() as i32;
        (points, format!("renews in {}", span(chrono::Duration::days(days))))
    } else {
        (0, format!("renews in {}", span(chrono::Duration::days(days))))
    };
    Part { factor: Factor::Renewal, points, text }
}

/// Scores a follow-up at `now` on the user's calendar; `bands` names the
/// health band.
pub fn rank(s: &Signals, bands: &Bands, now: DateTime<Utc>, cal: &Calendar) -> Rank {
    let mut parts = vec![
        Part {
            factor: Factor::Priority,
            points: priority_points(s.priority),
            text: format!("{}, {} priority", s.kind.title(), s.priority.label()),
        },
        urgency(s.due, now, cal),
        health(s.health, bands),
        arr(s.arr),
    ];
    parts.extend(s.renewal_date.map(|d| renewal(d, cal.day(now))));
    Rank { score: parts.iter().map(|p| p.points).sum(), parts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
    }

    fn signals(due: DateTime<Utc>) -> Signals {
        Signals {
            kind: FollowUpKind::CheckIn,
            priority: Priority::Normal,
            due,
            health: Some(60),
            arr: 20_000,
            renewal_date: Some(now().date_naive() + Duration::days(200)),
        }
    }

    fn score(s: Signals) -> i32 {
        rank(&s, &Bands::default(), now(), &Calendar::utc()).score
    }

    #[test]
    fn overdue_beats_due_today_which_beats_later() {
        let overdue = score(signals(now() - Duration::minutes(1)));
        let today = score(signals(now() + Duration::hours(5)));
        let tomorrow = score(signals(now() + Duration::days(1)));
        assert!(overdue > today && today > tomorrow, "{overdue} {today} {tomorrow}");
        assert!(score(signals(now() - Duration::days(3))) > score(signals(now() - Duration::days(1))), "longer late");
        assert_eq!(
            score(signals(now() - Duration::days(30))),
            score(signals(now() - Duration::days(6))),
            "capped after 6 days"
        );
    }

    #[test]
    fn lower_health_higher_arr_and_a_closer_renewal_come_first_at_equal_urgency() {
        let base = signals(now() - Duration::hours(2));
        assert!(score(Signals { health: Some(34), ..base }) > score(Signals { health: Some(40), ..base }));
        assert!(score(Signals { arr: 120_000, ..base }) > score(Signals { arr: 20_000, ..base }));
        let soon = Some(now().date_naive() + Duration::days(21));
        let later = Some(now().date_naive() + Duration::days(60));
        assert!(score(Signals { renewal_date: soon, ..base }) > score(Signals { renewal_date: later, ..base }));
        assert!(score(Signals { priority: Priority::Urgent, ..base }) > score(base));
    }

    #[test]
    fn each_part_is_explained_in_words() {
        let s = Signals {
            kind: FollowUpKind::RenewalSigning,
            priority: Priority::Urgent,
            due: now() - Duration::days(2) - Duration::hours(3),
            health: Some(34),
            arr: 120_000,
            renewal_date: Some(now().date_naive() + Duration::days(21)),
        };
        let r = rank(&s, &Bands::default(), now(), &Calendar::utc());
        assert_eq!(
            r.lines(),
            vec![
                "Renewal signing, urgent priority (+40)",
                "overdue by 2 days (+40)",
                "health 34, red (+26)",
                "ARR $120k (+10)",
                "renews in 21 days (+15)",
                "score 131",
            ]
        );
        assert_eq!(r.score, r.parts.iter().map(|p| p.points).sum::<i32>());
    }

    #[test]
    fn the_edges_read_right() {
        let r = rank(
            &Signals { health: None, arr: 0, renewal_date: None, ..signals(now() + Duration::hours(5)) },
            &Bands::default(),
            now(),
            &Calendar::utc(),
        );
        assert_eq!(
            r.lines(),
            vec![
                "Check-ins, normal priority (+10)",
                "due today at 15:00 (+10)",
                "no health score yet (+0)",
                "no ARR (+0)",
                "score 20"
            ]
        );
        let past = Signals { renewal_date: Some(now().date_naive() - Duration::days(1)), ..signals(now()) };
        assert!(rank(&past, &Bands::default(), now(), &Calendar::utc())
            .lines()
            .contains(&"renewal date passed 1 day ago (+20)".to_string()));
        let late = rank(&signals(now() - Duration::hours(5)), &Bands::default(), now(), &Calendar::utc());
        assert_eq!(late.parts[1].text, "overdue by 5 h");
        assert_eq!(late.parts[1].points, 30);
    }
}
