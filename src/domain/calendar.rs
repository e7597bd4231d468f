//! The user's calendar: their time zone and working hours. "Today" is their
//! local day, every time shown or typed is theirs, and an item raised
//! outside working hours falls due at the next working hour.

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Days ahead of today the queue's Upcoming section looks.
pub const UPCOMING_DAYS: i64 = 7;

/// When the user works: a daily span of local time on some weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    /// Start of work (local).
    pub start: NaiveTime,
    /// End of work (local), after `start`; midnight (00:00) means the
    /// end of the day ("24:00").
    pub end: NaiveTime,
    /// Working weekdays, Monday first.
    pub days: [bool; 7],
}

impl Default for WorkingHours {
    /// 09:00 to 17:00, Monday to Friday.
    fn default() -> WorkingHours {
        WorkingHours {
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            end: NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
            days: [true, true, true, true, true, false, false],
        }
    }
}

impl WorkingHours {
    /// Every hour of every day: nothing waits for working hours.
    pub fn always() -> WorkingHours {
        WorkingHours { start: NaiveTime::MIN, end: NaiveTime::MIN, days: [true; 7] }
    }

    /// Whether `time` falls inside the working span of a working day.
    pub fn covers(&self, time: NaiveTime) -> bool {
        time >= self.start && (self.end == NaiveTime::MIN || time < self.end)
    }

    /// Whether `end` comes after `start` (midnight ends the day).
    pub fn is_valid(&self) -> bool {
        self.end == NaiveTime::MIN || self.end > self.start
    }

    /// Whether `day` is a working day.
    pub fn works_on(&self, day: Weekday) -> bool {
        self.days[day.num_days_from_monday() as usize]
    }

    /// "09:00-17:00 Mon-Fri", for messages and `config path`.
    pub fn describe(&self) -> String {
        const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let on: Vec<usize> = (0..7).filter(|&i| self.days[i]).collect();
        let days = match on.as_slice() {
            [] => "no day".to_string(),
            [first, .., last] if on.len() > 2 && last - first + 1 == on.len() => {
                format!("{}-{}", NAMES[*first], NAMES[*last])
            }
            _ => on.iter().map(|&i| NAMES[i]).collect::<Vec<_>>().join(","),
        };
        let end = if self.end == NaiveTime::MIN { "24:00".to_string() } else { self.end.format("%H:%M").to_string() };
        format!("{}-{end} {days}", self.start.format("%H:%M"))
    }
}

/// A time zone and working hours: everything the domain needs to turn an
/// instant into the user's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// The user's zone.
    pub zone: Tz,
    /// Their working hours in that zone.
    pub hours: WorkingHours,
}

impl Default for Calendar {
    /// UTC, 09:00-17:00 Monday to Friday.
    fn default() -> Calendar {
        Calendar::utc()
    }
}

impl Calendar {
    /// UTC with the default working hours.
    pub fn utc() -> Calendar {
        Calendar { zone: Tz::UTC, hours: WorkingHours::default() }
    }

    /// The instant in the user's zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.zone)
    }

    /// The user's day at `t`.
    pub fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date_naive()
    }

    /// `time` on `day` in the user's zone. A time the clocks skip (a
    /// spring-forward gap) is the first valid moment after it; a time they
    /// pass twice is the first of the two.
    pub fn at(&self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut naive = day.and_time(time);
        // Gaps are at most a few hours; look in quarter hours.
        for _ in 0..24 {
            match self.zone.from_local_datetime(&naive) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
                LocalResult::None => naive += Duration::minutes(15),
            }
        }
        // No zone skips six hours: read the time as UTC rather than fail.
        day.and_time(time).and_utc()
    }

    /// Midnight starting `day`, local.
    pub fn start_of_day(&self, day: NaiveDate) -> DateTime<Utc> {
        self.at(day, NaiveTime::MIN)
    }

    /// Midnight ending the user's day at `now`, local.
    pub fn end_of_day(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.start_of_day(self.day(now) + Duration::days(1))
    }

    /// Whether `t` falls inside working hours.
    pub fn is_working(&self, t: DateTime<Utc>) -> bool {
        let l = self.local(t);
        self.hours.works_on(l.weekday()) && self.hours.covers(l.time())
    }

    /// `t` if it falls inside working hours, else the start of the next
    /// working period. With no working day at all, `t` itself.
    pub fn next_working(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_working(t) {
            return t;
        }
        let l = self.local(t);
        let today = l.date_naive();
        if self.hours.works_on(l.weekday()) && l.time() < self.hours.start {
            return self.at(today, self.hours.start);
        }
        match self.working_day_after(today) {
            Some(d) => self.at(d, self.hours.start),
            None => t,
        }
    }

    /// The first working day after `day`, within a week.
    fn working_day_after(&self, day: NaiveDate) -> Option<NaiveDate> {
        (1..=7).map(|n| day + Duration::days(n)).find(|d| self.hours.works_on(d.weekday()))
    }

    /// The start of work on the first working day on or after the day
    /// `days` days after the user's day at `now`: "snooze a day" on a
    /// Friday afternoon is Monday at the start of work.
    pub fn days_later(&self, now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        let target = self.day(now) + Duration::days(days.max(1));
        let day = if self.hours.works_on(target.weekday()) { Some(target) } else { self.working_day_after(target) };
        match day {
            Some(d) => self.at(d, self.hours.start),
            None => self.at(target, self.hours.start),
        }
    }

    /// The start of work on `day`, or on the first working day after it.
    pub fn start_of_work(&self, day: NaiveDate) -> DateTime<Utc> {
        let day = if self.hours.works_on(day.weekday()) { day } else { self.working_day_after(day).unwrap_or(day) };
        self.at(day, self.hours.start)
    }

    /// When an item due at `due` falls due for the user: at the next
    /// working hour if `due` is outside working hours.
    pub fn due(&self, due: DateTime<Utc>) -> DateTime<Utc> {
        self.next_working(due)
    }

    /// The queue's bounds at `now`.
    pub fn bounds(&self, now: DateTime<Utc>) -> Bounds {
        let end_of_day = self.end_of_day(now);
        Bounds { now, end_of_day, horizon: self.start_of_day(self.day(now) + Duration::days(1 + UPCOMING_DAYS)) }
    }

    /// "16:00" for a time on the user's day at `now`, "Mon 09:00" within a
    /// week, else "3 Dec 09:00" (all local).
    pub fn short(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let (l, today) = (self.local(t), self.day(now));
        let days = (l.date_naive() - today).num_days();
        if days == 0 {
            l.format("%H:%M").to_string()
        } else if (1..7).contains(&days) {
            l.format("%a %H:%M").to_string()
        } else {
            l.format("%-d %b %H:%M").to_string()
        }
    }

    /// "2026-11-27 16:00" local, for lists and timelines.
    pub fn minute(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%Y-%m-%d %H:%M").to_string()
    }

    /// The zone's name and the current offset, "America/Los_Angeles (UTC-08:00)".
    pub fn describe_zone(&self, now: DateTime<Utc>) -> String {
        format!("{} (UTC{})", self.zone.name(), self.local(now).format("%:z"))
    }
}

/// The moments the queue sorts into sections by, at one `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The clock.
    pub now: DateTime<Utc>,
    /// Midnight ending the user's day.
    pub end_of_day: DateTime<Utc>,
    /// Midnight ending the last day the Upcoming section shows.
    pub horizon: DateTime<Utc>,
}

/// Where an item sits in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Past due.
    Overdue,
    /// Due later on the user's day.
    Today,
    /// Due (or snoozed until) within the next week.
    Upcoming,
}

impl Section {
    /// Heading in the queue ("Overdue", "Today", "Upcoming").
    pub fn title(self) -> &'static str {
        match self {
            Section::Overdue => "Overdue",
            Section::Today => "Today",
            Section::Upcoming => "Upcoming",
        }
    }

    /// Stable machine name used in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Section::Overdue => "overdue",
            Section::Today => "today",
            Section::Upcoming => "upcoming",
        }
    }
}

impl Bounds {
    /// The section of an item that comes up at `at` (its due time as the
    /// user sees it, or the end of its snooze), if it is in the queue.
    pub fn section(&self, at: DateTime<Utc>) -> Option<Section> {
        if at < self.now {
            Some(Section::Overdue)
        } else if at < self.end_of_day {
            Some(Section::Today)
        } else if at < self.horizon {
            Some(Section::Upcoming)
        } else {
            None
        }
    }
}

/// A moment the user typed, read on their calendar at `now`: "tomorrow
/// 10:00", "fri 14:30", "2026-12-01", "2026-12-01 09:15", "16:00" (today),
/// "in 2h", "in 3d". A day without a time is the start of work that day.
/// A moment already past is refused.
pub fn parse_when(text: &str, now: DateTime<Utc>, cal: &Calendar) -> Result<DateTime<Utc>, String> {
    let lower = text.trim().to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let example = "try \"tomorrow 10:00\", \"fri 14:30\", \"2026-12-01 09:00\" or \"in 2h\"";
    let today = cal.day(now);
    let at = match words.as_slice() {
        [] => return Err(format!("no date given; {example}")),
        ["in", amount] | ["in", amount, _] => {
            let unit = words.get(2).copied().unwrap_or("");
            let (digits, suffix): (String, String) = amount.chars().partition(|c| c.is_ascii_digit());
            let n: i64 = digits.parse().map_err(|_| format!("\"{text}\" is not a moment I can read; {example}"))?;
            match format!("{suffix}{unit}").as_str() {
                "m" | "min" | "mins" | "minute" | "minutes" => now + Duration::minutes(n),
                "h" | "hour" | "hours" => now + Duration::hours(n),
                "d" | "day" | "days" => cal.start_of_work(today + Duration::days(n)),
                "w" | "week" | "weeks" => cal.start_of_work(today + Duration::weeks(n)),
                _ => return Err(format!("\"{text}\" is not a moment I can read; {example}")),
            }
        }
        [day] => match day_of(day, today) {
            Some(d) => cal.start_of_work(d),
            None => match time_of(day) {
                Some(t) => cal.at(today, t),
                None => return Err(format!("\"{text}\" is not a moment I can read; {example}")),
            },
        },
        [day, time] => match (day_of(day, today), time_of(time)) {
            (Some(d), Some(t)) => cal.at(d, t),
            _ => return Err(format!("\"{text}\" is not a moment I can read; {example}")),
        },
        _ => return Err(format!("\"{text}\" is not a moment I can read; {example}")),
    };
    if at <= now {
        return Err(format!(
            "{} has already passed (it is {} now); give a later moment",
            cal.local(at).format("%a %d %b %H:%M"),
            cal.local(now).format("%a %d %b %H:%M")
        ));
    }
    Ok(at)
}

/// "today", "tomorrow", a weekday (the next one, a week on if it is today),
/// or an ISO date.
fn day_of(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    match word {
        "today" => return Some(today),
        "tomorrow" | "tmrw" => return Some(today + Duration::days(1)),
        _ => {}
    }
    if let Ok(d) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(d);
    }
    const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let i = DAYS.iter().position(|d| word.len() >= 3 && d.starts_with(word))?;
    let ahead = (i as i64 - today.weekday().num_days_from_monday() as i64).rem_euclid(7);
    Some(today + Duration::days(if ahead == 0 { 7 } else { ahead }))
}

/// "14:30", "9:05", "14h", "9".
fn time_of(word: &str) -> Option<NaiveTime> {
    let w = word.trim_end_matches('h');
    NaiveTime::parse_from_str(w, "%H:%M")
        .ok()
        .or_else(|| w.parse::<u32>().ok().and_then(|h| NaiveTime::from_hms_opt(h, 0, 0)))
}

/// Why a zone name could not be used.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    // POSIX lets TZ start with ':' and name a file under the zone database.
    let name = name.strip_prefix(':').unwrap_or(name);
    let name = name.rsplit_once("zoneinfo/").map_or(name, |(_, n)| n);
    name.parse::<Tz>().map_err(|_| {
        format!(
            "\"{name}\" is not a time zone name; use an IANA name such as \"Europe/Paris\" or \"America/Los_Angeles\""
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn la() -> Calendar {
        Calendar { zone: chrono_tz::America::Los_Angeles, hours: WorkingHours::default() }
    }

    /// Friday 27 November 2026, 16:00 in Los Angeles (UTC-8).
    fn friday_4pm() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
    }

    #[test]
    fn the_local_day_is_the_users() {
        let c = la();
        assert_eq!(c.day(friday_4pm()), NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(), "still Friday there");
        assert_eq!(friday_4pm().date_naive(), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(), "Saturday in UTC");
        assert_eq!(c.end_of_day(friday_4pm()), Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap());
    }

    #[test]
    fn a_day_of_snooze_on_friday_afternoon_is_monday_morning() {
        let c = la();
        let monday_9 = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();
        assert_eq!(c.days_later(friday_4pm(), 1), monday_9);
        assert_eq!(c.local(monday_9).format("%a %H:%M").to_string(), "Mon 09:00");
        // Three days from Friday is Monday too; a week is next Friday.
        assert_eq!(c.days_later(friday_4pm(), 3), monday_9);
        assert_eq!(c.local(c.days_later(friday_4pm(), 7)).format("%a %d %H:%M").to_string(), "Fri 04 09:00");
        // On a Tuesday, a day is Wednesday at nine.
        let tue = Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap();
        assert_eq!(c.local(c.days_later(tue, 1)).format("%a %H:%M").to_string(), "Wed 09:00");
    }

    #[test]
    fn an_item_raised_outside_working_hours_falls_due_at_the_next_one() {
        let c = la();
        // Saturday 03:00 local: Monday 09:00.
        let sat = Utc.with_ymd_and_hms(2026, 11, 28, 11, 0, 0).unwrap();
        assert_eq!(c.local(c.due(sat)).format("%a %H:%M").to_string(), "Mon 09:00");
        // Tuesday 07:30: Tuesday 09:00. Tuesday 18:00: Wednesday 09:00.
        let early = c.at(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(), NaiveTime::from_hms_opt(7, 30, 0).unwrap());
        assert_eq!(c.local(c.due(early)).format("%a %H:%M").to_string(), "Tue 09:00");
        let late = early + Duration::hours(10) + Duration::minutes(30);
        assert_eq!(c.local(c.due(late)).format("%a %H:%M").to_string(), "Wed 09:00");
        // Inside working hours: unchanged, to the second.
        let inside = early + Duration::hours(3);
        assert_eq!(c.due(inside), inside);
        // 17:00 sharp is past the end.
        let five = c.at(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(), NaiveTime::from_hms_opt(17, 0, 0).unwrap());
        assert_ne!(c.due(five), five);
    }

    #[test]
    fn no_working_day_leaves_times_alone() {
        let c = Calendar { hours: WorkingHours { days: [false; 7], ..WorkingHours::default() }, ..la() };
        assert_eq!(c.due(friday_4pm()), friday_4pm());
    }

    #[test]
    fn clock_changes_are_handled() {
        let paris = Calendar { zone: chrono_tz::Europe::Paris, hours: WorkingHours::default() };
        // 29 March 2026: 02:00-03:00 does not exist in Paris.
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let t = paris.at(day, NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(paris.local(t).format("%H:%M").to_string(), "03:00");
        // The day the clocks go forward is 23 hours long.
        assert_eq!(paris.end_of_day(t) - paris.start_of_day(day), Duration::hours(23));
        // 25 October 2026: 02:30 happens twice; the first is taken.
        let back = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let t = paris.at(back, NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap());
    }

    #[test]
    fn sections() {
        let c = la();
        let b = c.bounds(friday_4pm());
        assert_eq!(b.section(friday_4pm() - Duration::minutes(1)), Some(Section::Overdue));
        assert_eq!(b.section(friday_4pm() + Duration::minutes(59)), Some(Section::Today));
        assert_eq!(b.section(c.days_later(friday_4pm(), 1)), Some(Section::Upcoming));
        assert_eq!(b.section(friday_4pm() + Duration::days(9)), None);
    }

    #[test]
    fn zone_names() {
        assert_eq!(parse_zone("Europe/Paris"), Ok(chrono_tz::Europe::Paris));
        assert_eq!(parse_zone(":America/Los_Angeles"), Ok(chrono_tz::America::Los_Angeles));
        assert_eq!(parse_zone("/usr/share/zoneinfo/Asia/Tokyo"), Ok(chrono_tz::Asia::Tokyo));
        assert!(parse_zone("Mars/Olympus").unwrap_err().contains("not a time zone"));
    }

    #[test]
    fn around_the_clock_nothing_waits() {
        let c = Calendar { hours: WorkingHours::always(), ..la() };
        for h in [0, 3, 16, 23] {
            let t = friday_4pm() + Duration::hours(h);
            assert_eq!(c.due(t), t);
        }
        assert_eq!(WorkingHours::always().describe(), "00:00-24:00 Mon-Sun");
        assert!(WorkingHours::always().is_valid());
    }

    #[test]
    fn typed_moments_are_read_on_the_users_calendar() {
        let c = la();
        let now = friday_4pm();
        let local = |t: DateTime<Utc>| c.local(t).format("%a %Y-%m-%d %H:%M").to_string();
        assert_eq!(local(parse_when("tomorrow 10:00", now, &c).unwrap()), "Sat 2026-11-28 10:00");
        assert_eq!(local(parse_when("tomorrow", now, &c).unwrap()), "Mon 2026-11-30 09:00", "a day: start of work");
        assert_eq!(local(parse_when("mon 14:30", now, &c).unwrap()), "Mon 2026-11-30 14:30");
        assert_eq!(local(parse_when("Fri", now, &c).unwrap()), "Fri 2026-12-04 09:00", "today's weekday: next week");
        assert_eq!(local(parse_when("2026-12-01 9:15", now, &c).unwrap()), "Tue 2026-12-01 09:15");
        assert_eq!(local(parse_when("16:30", now, &c).unwrap()), "Fri 2026-11-27 16:30");
        assert_eq!(local(parse_when("in 2h", now, &c).unwrap()), "Fri 2026-11-27 18:00");
        assert_eq!(local(parse_when("in 3 days", now, &c).unwrap()), "Mon 2026-11-30 09:00");
        assert!(parse_when("15:00", now, &c).unwrap_err().contains("has already passed"));
        assert!(parse_when("next blue moon", now, &c).unwrap_err().contains("tomorrow 10:00"));
        assert!(parse_when("", now, &c).is_err());
    }

    #[test]
    fn hours_described() {
        assert_eq!(WorkingHours::default().describe(), "09:00-17:00 Mon-Fri");
        let odd = WorkingHours { days: [true, false, true, false, false, false, false], ..WorkingHours::default() };
        assert_eq!(odd.describe(), "09:00-17:00 Mon,Wed");
    }

    #[test]
    fn short_times_are_local() {
        let c = la();
        let now = friday_4pm();
        assert_eq!(c.short(now + Duration::minutes(30), now), "16:30");
        assert_eq!(c.short(c.days_later(now, 1), now), "Mon 09:00");
        assert_eq!(c.short(now + Duration::days(10), now), "7 Dec 16:00");
    }
}
