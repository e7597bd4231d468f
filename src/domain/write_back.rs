//! The score back in the CRM (`[health.write_back]`): which company
//! properties take an account's score, band and top reason, what those
//! values are on a day, when they changed enough to be written again, and
//! which queued writes a newer one replaces. Pure: no I/O.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::explain::Contribution;
use super::health::{Band, Bands};
use super::outbox::{OutboxEntry, OutboxState, Write};
use super::signals::{describe, DaySignals};

/// HubSpot's cap on the inputs of one batch update.
pub const BATCH_LIMIT: usize = 100;

/// Which company properties take the health, and at which source. At
/// least one property is named (the config reader makes sure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBack {
    /// Property for the score (a number property).
    pub score: Option<String>,
    /// Property for the band (a dropdown with green, yellow, red, or text).
    pub band: Option<String>,
    /// Property for the top reason (a text property).
    pub reason: Option<String>,
    /// The HubSpot source written to, as configured (None: the first).
    pub source: Option<String>,
}

/// An account's health as written to its company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthValues {
    /// The score, 0-100.
    pub score: u8,
    /// Its band.
    pub band: Band,
    /// What costs the most points, in words.
    pub reason: String,
}

/// What the reason says when no input costs points.
pub const NOTHING_LOST: &str = "no input costs points";

impl HealthValues {
    /// The values of a scored day: `contributions` are the day's factors
    /// (any order), `inputs` the day's inputs, for the reason's words.
    pub fn of(score: u8, bands: &Bands, contributions: &[Contribution], inputs: &DaySignals) -> HealthValues {
        HealthValues { score, band: bands.band(score), reason: top_reason(contributions, inputs) }
    }

    /// The outbox write carrying them.
    pub fn write(&self) -> Write {
        Write::Health { score: self.score, band: self.band, reason: self.reason.clone() }
    }

    /// The values a health write carries, if it is one.
    pub fn from_write(w: &Write) -> Option<HealthValues> {
        match w {
            Write::Health { score, band, reason } => {
                Some(HealthValues { score: *score, band: *band, reason: reason.clone() })
            }
            _ => None,
        }
    }
}

/// The factor that costs the most points, in words ("no reply from the
/// customer for 19 days"); a loss under half a point does not count.
pub fn top_reason(contributions: &[Contribution], inputs: &DaySignals) -> String {
    contributions
        .iter()
        .filter(|c| c.lost >= 0.5)
        // The first of equal losses wins, so the words do not flip.
        .fold(None::<&Contribution>, |best, c| match best {
            Some(b) if b.lost >= c.lost => Some(b),
            _ => Some(c),
        })
        .map_or_else(|| NOTHING_LOST.to_string(), |c| describe(c.measure, inputs.get(c.measure)))
}

impl WriteBack {
    /// Whether `now` differs from what was last queued in a property that
    /// is written (a new reason alone is nothing when no reason property
    /// is configured); never queued before counts as changed.
    pub fn changed(&self, last: Option<&HealthValues>, now: &HealthValues) -> bool {
        let Some(last) = last else { return true };
        (self.score.is_some() && last.score != now.score)
            || (self.band.is_some() && last.band != now.band)
            || (self.reason.is_some() && last.reason != now.reason)
    }

    /// The company properties to set, as HubSpot takes them (strings; a
    /// dropdown takes the option's internal value).
    pub fn properties(&self, v: &HealthValues) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(p) = &self.score {
            out.insert(p.clone(), Value::String(v.score.to_string()));
        }
        if let Some(p) = &self.band {
            out.insert(p.clone(), Value::String(v.band.key().to_string()));
        }
        if let Some(p) = &self.reason {
            out.insert(p.clone(), Value::String(v.reason.clone()));
        }
        out
    }
}

/// The entries of one account that a new health write replaces: its
/// health writes that are waiting, refused or landed (a newer value makes
/// them moot), never one whose request may be out. So an account never
/// has two health writes pending, and the outbox does not grow a write a
/// day per account.
pub fn superseded<'a>(entries: impl IntoIterator<Item = &'a OutboxEntry>) -> Vec<u64> {
    entries
        .into_iter()
        .filter(|e| e.write.is_health())
        .filter(|e| !matches!(e.state, OutboxState::Unsure { .. } | OutboxState::Watching { .. }))
        .map(|e| e.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::health::Measure;
    use crate::domain::health_model::Inputs;
    use crate::domain::{AccountId, Stage};
    use chrono::{TimeZone, Utc};

    fn values(score: u8, reason: &str) -> HealthValues {
        HealthValues { score, band: Bands::default().band(score), reason: reason.into() }
    }

    fn all() -> WriteBack {
        WriteBack {
            score: Some("cockpit_health_score".into()),
            band: Some("cockpit_health_band".into()),
            reason: Some("cockpit_health_reason".into()),
            source: None,
        }
    }

    #[test]
    fn only_a_change_in_a_written_property_counts() {
        let wb = all();
        let last = values(42, "usage at 50% of its usual level");
        assert!(wb.changed(None, &last), "never queued");
        assert!(!wb.changed(Some(&last), &last.clone()), "nothing changed");
        assert!(wb.changed(Some(&last), &values(43, "usage at 50% of its usual level")), "score");
        assert!(wb.changed(Some(&last), &values(42, "no login for 40 days")), "reason");
        let band_only = WriteBack { band: Some("b".into()), ..WriteBack::default() };
        assert!(!band_only.changed(Some(&last), &values(45, "no login for 40 days")), "still yellow");
        assert!(band_only.changed(Some(&last), &values(39, "x")), "yellow to red");
        let score_only = WriteBack { score: Some("s".into()), ..WriteBack::default() };
        assert!(!score_only.changed(Some(&last), &values(42, "another reason")));
    }

    #[test]
    fn the_reason_is_the_largest_loss_in_words() {
        let mut i = Inputs::default();
        i.set(Measure::Usage, 0.5).set(Measure::Engagement, 19.0);
        let day = DaySignals::new(&i, Stage::Adoption);
        let c = |measure, lost| Contribution { measure, score: 50, weight: 10, points: 0.0, lost };
        let cs = [c(Measure::Engagement, 4.0), c(Measure::Usage, 9.5), c(Measure::Support, 9.5)];
        assert_eq!(top_reason(&cs, &day), "usage at 50% of its usual level", "first of equal losses");
        assert_eq!(top_reason(&[c(Measure::Engagement, 4.0)], &day), "no reply from the customer for 19 days");
        assert_eq!(top_reason(&[c(Measure::Usage, 0.4)], &day), NOTHING_LOST);
        let v = HealthValues::of(35, &Bands::default(), &cs, &day);
        assert_eq!((v.band, v.write().describe()), (Band::Red, "health 35 red".to_string()));
        assert_eq!(HealthValues::from_write(&v.write()), Some(v));
    }

    #[test]
    fn properties_are_the_configured_ones_as_text() {
        let p = all().properties(&values(72, "no login for 40 days"));
        assert_eq!(
            Value::Object(p),
            serde_json::json!({
                "cockpit_health_score": "72",
                "cockpit_health_band": "green",
                "cockpit_health_reason": "no login for 40 days",
            })
        );
        let only = WriteBack { band: Some("band".into()), ..WriteBack::default() }.properties(&values(10, "x"));
        assert_eq!(Value::Object(only), serde_json::json!({"band": "red"}));
    }

    #[test]
    fn a_new_health_write_replaces_all_but_one_in_flight() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let entry = |id, write: Write, state| OutboxEntry { state, ..OutboxEntry::new(id, AccountId(1), 0, write, t) };
        let h = values(42, "x").write();
        let entries = [
            entry(1, h.clone(), OutboxState::Sent { at: t, remote: "4242".into() }),
            entry(2, h.clone(), OutboxState::Failed { reason: "refused".into() }),
            entry(3, h.clone(), OutboxState::Unsure { since: t }),
            entry(4, h.clone(), OutboxState::Pending),
            entry(5, Write::Note { body: "Called".into(), at: t }, OutboxState::Pending),
            entry(6, Write::Stage { stage: Stage::RenewalPrep }, OutboxState::Pending),
        ];
        assert_eq!(superseded(&entries), [1, 2, 4], "the one in flight, the note and the stage move stay");
        assert!(superseded(&entries[4..]).is_empty());
    }
}
