//! Standardised measures: PHQ-9 (depression) and GAD-7 (anxiety), scored deterministically.
//!
//! Item texts and the answer scale are the published instruments (Kroenke, Spitzer, Williams;
//! developed with a grant from Pfizer, free to use). Severity bands: PHQ-9 0–4 minimal, 5–9
//! mild, 10–14 moderate, 15–19 moderately severe, 20–27 severe; GAD-7 0–4 minimal, 5–9 mild,
//! 10–14 moderate, 15–21 severe. Reliable change between two administrations: PHQ-9 ≥ 5
//! points, GAD-7 ≥ 4 points.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::{check, Category, RecordError, RecordKind, Result};

/// The answer scale shared by both instruments ("Over the last 2 weeks, how often have you
/// been bothered by …").
pub const SCALE: [&str; 4] = [
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
];

/// PHQ-9 items.
pub const PHQ9_ITEMS: [&str; 9] = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
];

/// GAD-7 items.
pub const GAD7_ITEMS: [&str; 7] = [
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
];

/// Which measure.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Patient Health Questionnaire, 9 items.
    #[default]
    Phq9,
    /// Generalized Anxiety Disorder, 7 items.
    Gad7,
}

impl Instrument {
    /// The items.
    pub fn items(self) -> &'static [&'static str] {
        match self {
            Instrument::Phq9 => &PHQ9_ITEMS,
            Instrument::Gad7 => &GAD7_ITEMS,
        }
    }

    /// Highest total.
    pub fn max_total(self) -> u32 {
        3 * self.items().len() as u32
    }

    /// Points of change that count as reliable.
    pub fn reliable_change_points(self) -> u32 {
        match self {
            Instrument::Phq9 => 5,
            Instrument::Gad7 => 4,
        }
    }

    /// Severity bands as (lowest total, band).
    pub fn bands(self) -> &'static [(u32, Band)] {
        match self {
            Instrument::Phq9 => &[
                (0, Band::Minimal),
                (5, Band::Mild),
                (10, Band::Moderate),
                (15, Band::ModeratelySevere),
                (20, Band::Severe),
            ],
            Instrument::Gad7 => &[
                (0, Band::Minimal),
                (5, Band::Mild),
                (10, Band::Moderate),
                (15, Band::Severe),
            ],
        }
    }

    /// The band of a total.
    pub fn band(self, total: u32) -> Band {
        self.bands()
            .iter()
            .rev()
            .find(|(lo, _)| total >= *lo)
            .map_or(Band::Minimal, |(_, b)| *b)
    }

    /// Display name.
    pub fn label(self) -> &'static str {
        match self {
            Instrument::Phq9 => "PHQ-9",
            Instrument::Gad7 => "GAD-7",
        }
    }
}

/// Severity band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Minimal.
    Minimal,
    /// Mild.
    Mild,
    /// Moderate.
    Moderate,
    /// Moderately severe (PHQ-9 only).
    ModeratelySevere,
    /// Severe.
    Severe,
}

impl Band {
    /// Display label.
    pub fn label(self) -> &'static str {
        match self {
            Band::Minimal => "minimal",
            Band::Mild => "mild",
            Band::Moderate => "moderate",
            Band::ModeratelySevere => "moderately severe",
            Band::Severe => "severe",
        }
    }
}

/// The scored result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Sum of the items.
    pub total: u32,
    /// Severity band.
    pub band: Band,
    /// PHQ-9 item 9 (thoughts of death or self-harm) above 0: a safety alert to act on.
    pub safety_alert: bool,
}

/// Change between two administrations of one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Lower by at least the reliable-change points.
    ReliableImprovement,
    /// Higher by at least the reliable-change points.
    ReliableDeterioration,
    /// Within measurement noise.
    NoReliableChange,
}

/// Reliable change from `before` to `after` (totals of the same instrument).
pub fn reliable_change(instrument: Instrument, before: u32, after: u32) -> Change {
    let rc = instrument.reliable_change_points();
    if before >= after + rc {
        Change::ReliableImprovement
    } else if after >= before + rc {
        Change::ReliableDeterioration
    } else {
        Change::NoReliableChange
    }
}

/// One administration of a measure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Assessment {
    /// The patient's record id.
    pub patient_id: String,
    /// Which measure.
    pub instrument: Instrument,
    /// When, `YYYY-MM-DD`.
    pub administered_on: String,
    /// One answer per item, 0–3, in item order.
    pub answers: Vec<u32>,
}

impl Assessment {
    /// Score it (the answers must be valid: see [`RecordKind::validate`]).
    pub fn score(&self) -> Score {
        let total = self.answers.iter().map(|a| (*a).min(3)).sum();
        Score {
            total,
            band: self.instrument.band(total),
            safety_alert: self.instrument == Instrument::Phq9
                && self.answers.get(8).is_some_and(|a| *a > 0),
        }
    }
}

impl RecordKind for Assessment {
    const KIND: &'static str = "assessment";
    const SCHEMA: &'static str = "hearth/assessment@1";
    const CATEGORY: Category = Category::Assessments;

    fn patient_id(&self) -> Option<&str> {
        Some(&self.patient_id)
    }

    fn normalise(&mut self) {
        self.administered_on = self.administered_on.trim().to_string();
    }

    fn validate(&self, today: time::Date) -> Result<()> {
        check::id("patient", &self.patient_id)?;
        let name = self.instrument.label();
        let n = self.instrument.items().len();
        for (i, a) in self.answers.iter().enumerate() {
            if *a > 3 {
                return Err(RecordError::invalid(
                    format!("{name} item {}", i + 1),
                    format!("answer {a} is out of range: 0 (not at all) to 3 (nearly every day)"),
                ));
            }
        }
        if self.answers.len() < n {
            return Err(RecordError::invalid(
                format!("{name} item {}", self.answers.len() + 1),
                format!("missing: all {n} items need an answer"),
            ));
        }
        if self.answers.len() > n {
            return Err(RecordError::invalid(
                name,
                format!("has {n} items, got {} answers", self.answers.len()),
            ));
        }
        if let Some(d) = check::date("date", &self.administered_on, false)? {
            if d > today {
                return Err(RecordError::invalid(
                    "date",
                    format!("{} is in the future", self.administered_on),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_total(instrument: Instrument, total: u32) -> Assessment {
        let n = instrument.items().len();
        let mut answers = vec![0u32; n];
        let mut left = total;
        // Fill from the first item; item 9 stays 0 unless needed.
        for a in answers.iter_mut() {
            let take = left.min(3);
            *a = take;
            left -= take;
        }
        Assessment {
            patient_id: "p".into(),
            instrument,
            administered_on: "2026-01-05".into(),
            answers,
        }
    }

    #[test]
    fn every_band_boundary() {
        use Band::*;
        let phq = [
            (0, Minimal),
            (4, Minimal),
            (5, Mild),
            (9, Mild),
            (10, Moderate),
            (14, Moderate),
            (15, ModeratelySevere),
            (19, ModeratelySevere),
            (20, Severe),
            (27, Severe),
        ];
        for (t, b) in phq {
            let s = with_total(Instrument::Phq9, t).score();
            assert_eq!((s.total, s.band), (t, b), "PHQ-9 {t}");
        }
        let gad = [
            (0, Minimal),
            (4, Minimal),
            (5, Mild),
            (9, Mild),
            (10, Moderate),
            (14, Moderate),
            (15, Severe),
            (21, Severe),
        ];
        for (t, b) in gad {
            let s = with_total(Instrument::Gad7, t).score();
            assert_eq!((s.total, s.band), (t, b), "GAD-7 {t}");
        }
        assert_eq!(Instrument::Phq9.max_total(), 27);
        assert_eq!(Instrument::Gad7.max_total(), 21);
    }

    #[test]
    fn item_nine_raises_the_safety_alert() {
        let mut a = with_total(Instrument::Phq9, 0);
        assert!(!a.score().safety_alert);
        a.answers[8] = 1;
        let s = a.score();
        assert!(s.safety_alert);
        assert_eq!(
            (s.total, s.band),
            (1, Band::Minimal),
            "an alert even at a minimal total"
        );
        // GAD-7 has no item 9.
        assert!(!with_total(Instrument::Gad7, 21).score().safety_alert);
        // 24 points fill items 1-8 only; 25+ reach item 9.
        assert!(!with_total(Instrument::Phq9, 24).score().safety_alert);
        assert!(with_total(Instrument::Phq9, 25).score().safety_alert);
    }

    #[test]
    fn reliable_change_thresholds() {
        use Change::*;
        assert_eq!(
            reliable_change(Instrument::Phq9, 18, 13),
            ReliableImprovement
        );
        assert_eq!(reliable_change(Instrument::Phq9, 18, 14), NoReliableChange);
        assert_eq!(
            reliable_change(Instrument::Phq9, 10, 15),
            ReliableDeterioration
        );
        assert_eq!(reliable_change(Instrument::Phq9, 10, 14), NoReliableChange);
        assert_eq!(
            reliable_change(Instrument::Gad7, 12, 8),
            ReliableImprovement
        );
        assert_eq!(reliable_change(Instrument::Gad7, 12, 9), NoReliableChange);
        assert_eq!(
            reliable_change(Instrument::Gad7, 5, 9),
            ReliableDeterioration
        );
        assert_eq!(reliable_change(Instrument::Gad7, 0, 0), NoReliableChange);
    }

    #[test]
    fn invalid_answers_name_the_item() {
        let today = crate::date_of(1_800_000_000);
        let mut a = with_total(Instrument::Phq9, 3);
        a.answers[3] = 4;
        assert_eq!(
            a.validate(today).unwrap_err().to_string(),
            "PHQ-9 item 4: answer 4 is out of range: 0 (not at all) to 3 (nearly every day)"
        );
        a.answers.truncate(6);
        a.answers[3] = 1;
        assert!(a
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("PHQ-9 item 7: missing"));
        let mut g = with_total(Instrument::Gad7, 3);
        g.answers.push(0);
        assert!(g.validate(today).is_err());
        let mut d = with_total(Instrument::Gad7, 3);
        d.administered_on = "2999-01-01".into();
        assert!(d
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("date:"));
    }
}
