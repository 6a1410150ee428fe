//! The treatment plan: problems, goals, measurable objectives, interventions, dates, status.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::{check, Category, RecordError, RecordKind, Result};

/// Where a goal stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// Not started.
    #[default]
    NotStarted,
    /// Being worked on.
    InProgress,
    /// Met.
    Met,
    /// Dropped or changed.
    Discontinued,
}

/// A measurable objective.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Objective {
    /// What will be done.
    pub text: String,
    /// How it is measured (e.g. "PHQ-9 below 10 on two administrations").
    pub measure: String,
}

/// A goal under a problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Goal {
    /// The goal.
    pub text: String,
    /// Measurable objectives.
    pub objectives: Vec<Objective>,
    /// Interventions (e.g. "CBT-I, weekly").
    pub interventions: Vec<String>,
    /// Target date, `YYYY-MM-DD` or empty.
    pub target_date: String,
    /// Next review, `YYYY-MM-DD` or empty.
    pub review_date: String,
    /// Status.
    pub status: GoalStatus,
}

/// A problem the plan addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Problem {
    /// The problem, in words.
    pub text: String,
    /// Its goals.
    pub goals: Vec<Goal>,
}

/// A patient's treatment plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct TreatmentPlan {
    /// The patient's record id.
    pub patient_id: String,
    /// Problems.
    pub problems: Vec<Problem>,
}

impl RecordKind for TreatmentPlan {
    const KIND: &'static str = "treatment-plan";
    const SCHEMA: &'static str = "hearth/treatment-plan@1";
    const CATEGORY: Category = Category::TreatmentPlan;

    fn patient_id(&self) -> Option<&str> {
        Some(&self.patient_id)
    }

    fn validate(&self, _today: time::Date) -> Result<()> {
        check::id("patient", &self.patient_id)?;
        for (pi, p) in self.problems.iter().enumerate() {
            let pf = format!("problem {}", pi + 1);
            check::required(&pf, &p.text, 500)?;
            for (gi, g) in p.goals.iter().enumerate() {
                let gf = format!("{pf} goal {}", gi + 1);
                check::required(&gf, &g.text, 500)?;
                let target = check::date(&format!("{gf} target date"), &g.target_date, true)?;
                let review = check::date(&format!("{gf} review date"), &g.review_date, true)?;
                if let (Some(t), Some(r)) = (target, review) {
                    if r > t {
                        return Err(RecordError::invalid(
                            format!("{gf} review date"),
                            "is after the target date",
                        ));
                    }
                }
                for (oi, o) in g.objectives.iter().enumerate() {
                    let of = format!("{gf} objective {}", oi + 1);
                    check::required(&of, &o.text, 500)?;
                    check::required(&format!("{of} measure"), &o.measure, 500)?;
                }
                for (ii, i) in g.interventions.iter().enumerate() {
                    check::required(&format!("{gf} intervention {}", ii + 1), i, 500)?;
                }
            }
        }
        Ok(())
    }

    fn describe(path: &[String]) -> String {
        // problems → goals → objectives/interventions/status/...: name the deepest part.
        path.last().map(|k| k.replace('_', " ")).unwrap_or_default()
    }

    fn search_text(&self) -> String {
        let mut s = String::new();
        for p in &self.problems {
            s.push_str(&p.text);
            s.push(' ');
            for g in &p.goals {
                s.push_str(&g.text);
                s.push(' ');
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_nested_field() {
        let today = crate::date_of(1_750_000_000);
        let mut plan = TreatmentPlan {
            patient_id: "p".into(),
            problems: vec![Problem {
                text: "Insomnia".into(),
                goals: vec![Goal {
                    text: "Sleep 7 hours".into(),
                    objectives: vec![Objective {
                        text: "Keep a sleep diary".into(),
                        measure: "5 of 7 nights logged".into(),
                    }],
                    interventions: vec!["CBT-I weekly".into()],
                    target_date: "2026-06-01".into(),
                    review_date: "2026-04-01".into(),
                    status: GoalStatus::InProgress,
                }],
            }],
        };
        assert!(plan.validate(today).is_ok());
        plan.problems[0].goals[0].objectives[0].measure.clear();
        assert_eq!(
            plan.validate(today).unwrap_err().to_string(),
            "problem 1 goal 1 objective 1 measure: is required"
        );
        plan.problems[0].goals[0].objectives[0].measure = "x".into();
        plan.problems[0].goals[0].review_date = "2026-07-01".into();
        assert!(plan
            .validate(today)
            .unwrap_err()
            .to_string()
            .contains("review date"));
    }
}
