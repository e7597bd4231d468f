//! The health model as data: measures that each score one input 0-100 and
//! weigh in, grouped, with profiles that re-weigh them per lifecycle stage
//! or segment. Read from TOML (an embedded default, or the CSM's own file),
//! checked with the line of every mistake, and versioned.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::account::Segment;
use super::health::{combine, Factor, Measure};
use super::lifecycle::Stage;

/// The built-in model's text.
pub const DEFAULT_MODEL: &str = include_str!("health_model.toml");

/// How a measure turns its input into 0-100.
#[derive(Debug, Clone, PartialEq)]
pub enum Scoring {
    /// A straight line: 0 at `zero_at`, 100 at `full_at`, clamped outside.
    /// Either end may be the larger (fewer days since contact is better).
    Linear {
        /// Input value scoring 0.
        zero_at: f64,
        /// Input value scoring 100.
        full_at: f64,
    },
    /// Half-open ranges `[from, to)` in ascending order that touch; the
    /// first may start at -inf and the last end at +inf, and values beyond
    /// a bounded first or last range take its score.
    Ranges(Vec<Range>),
}

/// One range of a ranged measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower bound, inclusive (`None` = from -inf).
    pub from: Option<f64>,
    /// Upper bound, exclusive (`None` = to +inf).
    pub to: Option<f64>,
    /// Score of a value in the range.
    pub score: u8,
}

impl Scoring {
    /// The 0-100 score of an input value.
    pub fn score(&self, value: f64) -> u8 {
        match self {
            // In f32, as the built-in model of version 1 computed it.
            Scoring::Linear { zero_at, full_at } => {
                let (v, z, f) = (value as f32, *zero_at as f32, *full_at as f32);
                let t = ((v - z) / (f - z)).clamp(0.0, 1.0);
                (t * 100.0).round() as u8
            }
            // Values outside the first and last range take their score.
            Scoring::Ranges(ranges) => match ranges.first() {
                Some(first) if first.from.is_some_and(|f| value < f) => first.score,
                _ => ranges
                    .iter()
                    .find(|r| r.from.is_none_or(|f| value >= f) && r.to.is_none_or(|t| value < t))
                    .or(ranges.last())
                    .map_or(0, |r| r.score),
            },
        }
    }
}

/// One measure of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureSpec {
    /// Which input it reads (one measure per input).
    pub measure: Measure,
    /// The group it rolls up into ("product", "relationship", ...).
    pub group: String,
    /// Its weight (0-100) when no profile says otherwise.
    pub weight: u8,
    /// How it is scored.
    pub scoring: Scoring,
}

/// Weights for the accounts in some stages or segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Name, shown with the score.
    pub name: String,
    /// Stages it applies to (empty = any).
    pub stages: Vec<Stage>,
    /// Segments it applies to (empty = any).
    pub segments: Vec<Segment>,
    /// Weight per input, replacing the measure's own (0 = left out).
    pub weights: BTreeMap<Measure, u8>,
}

impl Profile {
    /// Whether the profile covers an account in this stage and segment.
    pub fn applies(&self, stage: Stage, segment: Segment) -> bool {
        (self.stages.is_empty() || self.stages.contains(&stage))
            && (self.segments.is_empty() || self.segments.contains(&segment))
    }
}

/// A health model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Recorded with every snapshot it produces.
    pub version: u16,
    /// Name, for the metrics view.
    pub name: String,
    /// Measures in file order.
    pub measures: Vec<MeasureSpec>,
    /// Profiles; the first that applies wins.
    pub profiles: Vec<Profile>,
}

/// The inputs of one account on one day; `None` = not known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Inputs([Option<f64>; Measure::ALL.len()]);

impl Inputs {
    fn index(m: Measure) -> usize {
        m.index()
    }

    /// Sets an input.
    pub fn set(&mut self, m: Measure, value: f64) -> &mut Self {
        self.0[Self::index(m)] = Some(value);
        self
    }

    /// An input, when known.
    pub fn get(&self, m: Measure) -> Option<f64> {
        self.0[Self::index(m)]
    }
}

/// A score with what it is made of.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scored {
    /// Overall 0-100; `None` when no weighted input was known.
    pub score: Option<u8>,
    /// The scored measures with the weight each had.
    pub factors: Vec<Factor>,
    /// Each group's own 0-100, in first-seen order.
    pub groups: Vec<(String, u8)>,
    /// Weighted inputs that were not known (their weight went to the others).
    pub missing: Vec<Measure>,
    /// The profile that set the weights, if one did.
    pub profile: Option<String>,
}

impl Model {
    /// The built-in model.
    pub fn builtin() -> Model {
        Model::builtin_ref().clone()
    }

    /// The built-in model, parsed once.
    pub fn builtin_ref() -> &'static Model {
        static BUILTIN: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| Model::parse(DEFAULT_MODEL).expect("the built-in model is valid"))
    }

    /// Scores one account's inputs.
    pub fn score(&self, inputs: &Inputs, stage: Stage, segment: Segment) -> Scored {
        let profile = self.profiles.iter().find(|p| p.applies(stage, segment));
        let mut factors = Vec::with_capacity(self.measures.len());
        let mut missing = Vec::new();
        let mut groups: Vec<(String, Vec<Factor>)> = Vec::new();
        for m in &self.measures {
            let weight = profile.and_then(|p| p.weights.get(&m.measure).copied()).unwrap_or(m.weight);
            if weight == 0 {
                continue;
            }
            let Some(value) = inputs.get(m.measure) else {
                missing.push(m.measure);
                continue;
            };
            let f = Factor { measure: m.measure, score: m.scoring.score(value), weight };
            factors.push(f);
            match groups.iter_mut().find(|(g, _)| *g == m.group) {
                Some((_, fs)) => fs.push(f),
                None => groups.push((m.group.clone(), vec![f])),
            }
        }
        Scored {
            score: combine(&factors),
            groups: groups.into_iter().filter_map(|(g, fs)| Some((g, combine(&fs)?))).collect(),
            factors,
            missing,
            profile: profile.map(|p| p.name.clone()),
        }
    }
}

/// A mistake in a model file: where (byte offset) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelIssue {
    /// Byte offset in the text.
    pub offset: usize,
    /// What is wrong and what to do.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    version: Spanned<u16>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    measure: Vec<Spanned<RawMeasure>>,
    #[serde(default)]
    profile: Vec<Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    input: Spanned<String>,
    #[serde(default)]
    group: Option<String>,
    weight: Spanned<i64>,
    #[serde(default)]
    linear: Option<Spanned<RawLinear>>,
    #[serde(default)]
    ranges: Option<Spanned<Vec<Spanned<RawRange>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinear {
    zero_at: f64,
    full_at: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    from: Option<f64>,
    to: Option<f64>,
    score: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    stages: Vec<Spanned<String>>,
    #[serde(default)]
    segments: Vec<Spanned<String>>,
    #[serde(default)]
    weights: BTreeMap<Spanned<String>, Spanned<i64>>,
}

fn inputs_list() -> String {
    let mut list = Measure::named().map(|m| m.key()).collect::<Vec<_>>().join(", ");
    if !Measure::ALL.iter().all(|m| m.is_named()) {
        list.push_str(", and the names of the metrics in [source.metrics]");
    }
    list
}

fn weight(v: &Spanned<i64>, what: &str, issues: &mut Vec<ModelIssue>) -> Option<u8> {
    match u8::try_from(*v.get_ref()) {
        Ok(w) if w <= 100 => Some(w),
        _ => {
            issues.push(ModelIssue {
                offset: v.span().start,
                message: format!("{what}: weight {} is not a whole number from 0 to 100", v.get_ref()),
            });
            None
        }
    }
}

fn ranges(raw: &Spanned<Vec<Spanned<RawRange>>>, input: &str) -> Result<Vec<Range>, ModelIssue> {
    let fail = |at: usize, message: String| ModelIssue { offset: at, message: format!("{input}: {message}") };
    if raw.get_ref().is_empty() {
        return Err(fail(raw.span().start, "ranges is empty; give at least one { score = ... }".into()));
    }
    let mut out: Vec<Range> = Vec::new();
    for (i, r) in raw.get_ref().iter().enumerate() {
        let at = r.span().start;
        let RawRange { from, to, score } = *r.get_ref();
        let score = u8::try_from(score)
            .ok()
            .filter(|s| *s <= 100)
            .ok_or_else(|| fail(at, format!("score {score} is not from 0 to 100")))?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(fail(at, format!("the range from {f} to {t} is empty")));
            }
        }
        if i > 0 && from.is_none() {
            return Err(fail(at, "only the first range may leave out `from`".into()));
        }
        if i + 1 < raw.get_ref().len() && to.is_none() {
            return Err(fail(at, "only the last range may leave out `to`".into()));
        }
        if let Some(prev) = out.last() {
            let (end, start) = (prev.to.expect("checked above"), from.expect("checked above"));
            if start < end {
                return Err(fail(
                    at,
                    format!("ranges overlap: this one starts at {start}, the one before ends at {end}"),
                ));
            }
            if start > end {
                return Err(fail(at, format!("values from {end} to {start} are in no range")));
            }
        }
        out.push(Range { from, to, score });
    }
    Ok(out)
}

impl Model {
    /// Parses and checks a model file; every mistake is reported with
    /// where it is, and any mistake rejects the whole model.
    pub fn parse(text: &str) -> Result<Model, Vec<ModelIssue>> {
        let raw: RawModel = toml::from_str(text).map_err(|e| {
            vec![ModelIssue { offset: e.span().map_or(0, |s| s.start), message: e.message().trim().to_string() }]
        })?;
        let mut issues = Vec::new();
        let mut measures: Vec<MeasureSpec> = Vec::new();
        for m in &raw.measure {
            let at = m.span().start;
            let m = m.get_ref();
            let Some(measure) = Measure::from_key(m.input.get_ref()) else {
                issues.push(ModelIssue {
                    offset: m.input.span().start,
                    message: format!("unknown input \"{}\"; the inputs are {}", m.input.get_ref(), inputs_list()),
                });
                continue;
            };
            let key = measure.key();
            if measures.iter().any(|x| x.measure == measure) {
                issues.push(ModelIssue {
                    offset: m.input.span().start,
                    message: format!("{key} is measured twice; keep one [[measure]] per input"),
                });
                continue;
            }
            let Some(w) = weight(&m.weight, key, &mut issues) else { continue };
            let scoring = match (&m.linear, &m.ranges) {
                (Some(l), None) => {
                    let RawLinear { zero_at, full_at } = *l.get_ref();
                    if zero_at == full_at || !zero_at.is_finite() || !full_at.is_finite() {
                        issues.push(ModelIssue {
                            offset: l.span().start,
                            message: format!("{key}: zero_at and full_at must be two different numbers"),
                        });
                        continue;
                    }
                    Scoring::Linear { zero_at, full_at }
                }
                (None, Some(r)) => match ranges(r, key) {
                    Ok(r) => Scoring::Ranges(r),
                    Err(e) => {
                        issues.push(e);
                        continue;
                    }
                },
                _ => {
                    issues.push(ModelIssue {
                        offset: at,
                        message: format!(
                            "{key}: give exactly one of linear = {{ zero_at, full_at }} or ranges = [...]"
                        ),
                    });
                    continue;
                }
            };
            let group = m.group.clone().unwrap_or_else(|| "other".into());
            measures.push(MeasureSpec { measure, group, weight: w, scoring });
        }
        let mut profiles = Vec::new();
        for p in &raw.profile {
            let p = p.get_ref();
            let mut profile =
                Profile { name: p.name.clone(), stages: vec![], segments: vec![], weights: BTreeMap::new() };
            for s in &p.stages {
                match Stage::ALL.into_iter().find(|st| st.key() == s.get_ref()) {
                    Some(st) => profile.stages.push(st),
                    None => issues.push(ModelIssue {
                        offset: s.span().start,
                        message: format!("profile {}: unknown stage \"{}\"", p.name, s.get_ref()),
                    }),
                }
            }
            for s in &p.segments {
                match [Segment::Enterprise, Segment::MidMarket, Segment::Smb]
                    .into_iter()
                    .find(|x| x.key() == s.get_ref())
                {
                    Some(seg) => profile.segments.push(seg),
                    None => issues.push(ModelIssue {
                        offset: s.span().start,
                        message: format!(
                            "profile {}: unknown segment \"{}\"; use enterprise, mid_market or smb",
                            p.name,
                            s.get_ref()
                        ),
                    }),
                }
            }
            for (k, v) in &p.weights {
                let Some(m) = Measure::from_key(k.get_ref()) else {
                    issues.push(ModelIssue {
                        offset: k.span().start,
                        message: format!(
                            "profile {}: unknown input \"{}\"; the inputs are {}",
                            p.name,
                            k.get_ref(),
                            inputs_list()
                        ),
                    });
                    continue;
                };
                if !measures.iter().any(|x| x.measure == m) {
                    issues.push(ModelIssue {
                        offset: k.span().start,
                        message: format!("profile {}: {} has no [[measure]] to weigh", p.name, m.key()),
                    });
                    continue;
                }
                if let Some(w) = weight(v, &format!("profile {}: {}", p.name, m.key()), &mut issues) {
                    profile.weights.insert(m, w);
                }
            }
            profiles.push(profile);
        }
        if issues.is_empty() && measures.iter().all(|m| m.weight == 0) {
            issues.push(ModelIssue { offset: 0, message: "every measure weighs 0: nothing would be scored".into() });
        }
        if !issues.is_empty() {
            issues.sort_by_key(|i| i.offset);
            return Err(issues);
        }
        Ok(Model {
            version: *raw.version.get_ref(),
            name: raw.name.unwrap_or_else(|| "custom".into()),
            measures,
            profiles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn issues(text: &str) -> Vec<String> {
        Model::parse(text).unwrap_err().into_iter().map(|i| i.message).collect()
    }

    fn line_of(text: &str, offset: usize) -> usize {
        text[..offset].matches('\n').count() + 1
    }

    #[test]
    fn the_builtin_model_parses_and_scores_like_version_1() {
        let m = Model::builtin();
        assert_eq!(m.version, 3);
        let mut i = Inputs::default();
        i.set(Measure::Usage, 1.0).set(Measure::Seats, 0.5).set(Measure::Engagement, 33.5);
        i.set(Measure::Support, 4.0).set(Measure::Billing, 0.0);
        let s = m.score(&i, Stage::Adoption, Segment::MidMarket);
        // usage 100 x30, seats 50 x15, contact 50 x20, support 50 x10, billing 100 x10 = 6250/85.
        assert_eq!(s.score, Some(74));
        assert_eq!(s.profile, None);
        let missing: Vec<&str> = s.missing.iter().map(|m| m.key()).collect();
        assert_eq!(missing, ["oldest_ticket_days", "support_satisfaction", "nps", "nps_trend", "csm_sentiment"]);
        // Half the ratings good scores 0; 95% and up, 100.
        i.set(Measure::SupportCsat, 0.5);
        let low = m.score(&i, Stage::Adoption, Segment::MidMarket);
        assert_eq!(low.score, Some(66), "6250/95");
        i.set(Measure::SupportCsat, 0.95);
        assert_eq!(m.score(&i, Stage::Adoption, Segment::MidMarket).score, Some(76), "7250/95");
        assert_eq!(s.groups[0], ("product".to_string(), 83), "(100x30 + 50x15) / 45");
    }

    #[test]
    fn linear_and_range_scoring_at_their_edges() {
        let l = Scoring::Linear { zero_at: 60.0, full_at: 7.0 };
        assert_eq!((l.score(7.0), l.score(0.0), l.score(60.0), l.score(90.0)), (100, 100, 0, 0));
        assert_eq!(l.score(33.5), 50);
        let m = Model::builtin();
        let age = &m.measures.iter().find(|x| x.measure == Measure::TicketAge).unwrap().scoring;
        assert_eq!((age.score(-1.0), age.score(2.99), age.score(3.0), age.score(7.0)), (100, 100, 70, 40));
        assert_eq!((age.score(13.99), age.score(14.0), age.score(1e9)), (40, 0, 0));
        let bounded = Scoring::Ranges(vec![
            Range { from: Some(1.0), to: Some(3.0), score: 10 },
            Range { from: Some(3.0), to: Some(5.0), score: 90 },
        ]);
        assert_eq!((bounded.score(0.0), bounded.score(2.0), bounded.score(4.0), bounded.score(9.0)), (10, 10, 90, 90));
    }

    #[test]
    fn a_missing_input_spreads_its_weight() {
        let m = Model::builtin();
        let mut all = Inputs::default();
        for x in Measure::ALL {
            all.set(x, 0.0);
        }
        all.set(Measure::Usage, 1.0).set(Measure::Sentiment, 5.0);
        let mut without = all;
        without.0[Inputs::index(Measure::Sentiment)] = None;
        let a = m.score(&all, Stage::Adoption, Segment::Smb);
        let b = m.score(&without, Stage::Adoption, Segment::Smb);
        let total = |s: &Scored| s.factors.iter().map(|f| f.weight as u32).sum::<u32>();
        assert_eq!(total(&a), total(&b) + 10);
        assert_eq!(b.missing, [Measure::Sentiment]);
        assert!(m.score(&Inputs::default(), Stage::Adoption, Segment::Smb).score.is_none());
    }

    #[test]
    fn profiles_reweigh_by_stage() {
        let m = Model::builtin();
        let mut i = Inputs::default();
        i.set(Measure::Onboarding, 1.0).set(Measure::Usage, 0.4);
        let onboarding = m.score(&i, Stage::Onboarding, Segment::Smb);
        assert_eq!(onboarding.profile.as_deref(), Some("onboarding"));
        assert_eq!(onboarding.score, Some(80), "onboarding 100 x40, usage 0 x10");
        let adoption = m.score(&i, Stage::Adoption, Segment::Smb);
        assert_eq!(adoption.score, Some(0), "onboarding weighs 0 outside the profile");
    }

    #[test]
    fn mistakes_are_rejected_with_their_line() {
        let text = "version = 3\n[[measure]]\ninput = \"usage\"\nweight = 10\nlinear = { zero_at = 0, full_at = 1 }\n";
        let e = Model::parse(text).unwrap_err();
        assert_eq!(line_of(text, e[0].offset), 3);
        assert!(e[0].message.contains("unknown input \"usage\"") && e[0].message.contains("usage_trend"));

        let text =
            "version = 3\n[[measure]]\ninput = \"nps\"\nweight = \"heavy\"\nlinear = { zero_at = 0, full_at = 1 }\n";
        let e = Model::parse(text).unwrap_err();
        assert_eq!(line_of(text, e[0].offset), 4, "{e:?}");
        assert!(e[0].message.contains("invalid type"), "{e:?}");

        let text = "version = 3\n[[measure]]\ninput = \"nps\"\nweight = 10\nranges = [\n  { to = 5, score = 0 },\n  { from = 4, score = 100 },\n]\n";
        let e = Model::parse(text).unwrap_err();
        assert_eq!(line_of(text, e[0].offset), 7);
        assert!(e[0].message.contains("ranges overlap"), "{e:?}");

        assert!(issues("version = 3\n[[measure]]\ninput = \"nps\"\nweight = 10\nranges = [{ to = 5, score = 0 }, { from = 6, score = 1 }]\n")[0].contains("from 5 to 6 are in no range"));
        assert!(issues(
            "version = 3\n[[measure]]\ninput = \"nps\"\nweight = 101\nlinear = { zero_at = 0, full_at = 1 }\n"
        )[0]
        .contains("weight 101"));
        assert!(issues("version = 3\n[[measure]]\ninput = \"nps\"\nweight = 1\n")[0].contains("exactly one of"));
        assert!(issues(
            "version = 3\n[[measure]]\ninput = \"nps\"\nweight = 1\nlinear = { zero_at = 2, full_at = 2 }\n"
        )[0]
        .contains("two different numbers"));
        assert!(issues("version = 3\n[[profile]]\nname = \"x\"\nstages = [\"kickof\"]\n")[0].contains("unknown stage"));
        assert!(issues("name = \"x\"\n")[0].contains("version"));
    }

    proptest! {
        #[test]
        fn scores_stay_in_range_and_good_inputs_never_lower_them(
            values in proptest::collection::vec(proptest::option::of(-100.0f64..200.0), Measure::ALL.len()),
            which in 0..Measure::ALL.len(),
            step in 0.0f64..50.0,
            stage in 0..9usize,
        ) {
            let model = Model::builtin();
            let mut inputs = Inputs::default();
            for (m, v) in Measure::ALL.iter().zip(&values) {
                if let Some(v) = v {
                    inputs.set(*m, *v);
                }
            }
            let stage = Stage::ALL[stage];
            let before = model.score(&inputs, stage, Segment::MidMarket);
            if let Some(s) = before.score {
                prop_assert!(s <= 100);
            }
            // Move one known input in its good direction (towards a higher
            // measure score); the overall score must not drop.
            let spec = &model.measures[which % model.measures.len()];
            if let Some(v) = inputs.get(spec.measure) {
                let up = match &spec.scoring {
                    Scoring::Linear { zero_at, full_at } => if full_at > zero_at { step } else { -step },
                    // The built-in ranges rise with the input except ticket age.
                    Scoring::Ranges(_) => if spec.measure == Measure::TicketAge { -step } else { step },
                };
                let mut better = inputs;
                better.set(spec.measure, v + up);
                let after = model.score(&better, stage, Segment::MidMarket);
                prop_assert!(after.score >= before.score, "{:?} {} -> {}: {:?} -> {:?}", spec.measure, v, v + up, before.score, after.score);
            }
        }
    }
}
