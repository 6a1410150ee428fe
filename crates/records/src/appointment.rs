//! Appointments: start, duration, status, service code, recurrence.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::{check, Category, RecordError, RecordKind, Result};

/// Where an appointment stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked.
    #[default]
    Scheduled,
    /// The patient came.
    Attended,
    /// The patient did not come.
    NoShow,
    /// Called off.
    Cancelled,
}

/// How an appointment repeats.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// Once.
    #[default]
    None,
    /// Every week.
    Weekly,
    /// Every other week.
    Biweekly,
}

/// An appointment (one, or a series when it recurs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Appointment {
    /// The patient's record id.
    pub patient_id: String,
    /// Local start, `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// Minutes, 5–480.
    pub duration_min: u32,
    /// Status.
    pub status: AppointmentStatus,
    /// Service code (CPT), e.g. `90834` (psychotherapy, 45 minutes).
    pub service_code: String,
    /// Repetition.
    pub recurrence: Recurrence,
    /// Last date of the series, `YYYY-MM-DD`, or empty for open-ended.
    pub recurrence_until: String,
    /// Where (room, video link).
    pub location: String,
}

impl Appointment {
    /// Start as a date-time (validated values always parse).
    pub fn start_at(&self) -> Option<time::PrimitiveDateTime> {
        check::datetime("start", &self.start).ok()
    }

    /// The starts of this appointment (and its repeats) within `[from, to)`.
    pub fn occurrences(
        &self,
        from: time::PrimitiveDateTime,
        to: time::PrimitiveDateTime,
    ) -> Vec<time::PrimitiveDateTime> {
        let Some(first) = self.start_at() else {
            return Vec::new();
        };
        let step = match self.recurrence {
            Recurrence::None => {
                return if first >= from && first < to {
                    vec![first]
                } else {
                    Vec::new()
                }
            }
            Recurrence::Weekly => time::Duration::weeks(1),
            Recurrence::Biweekly => time::Duration::weeks(2),
        };
        let until = check::date("recurrence until", &self.recurrence_until, true)
            .ok()
            .flatten()
            .map(|d| d.with_hms(23, 59, 59).unwrap_or(d.midnight()));
        let mut out = Vec::new();
        let mut t = first;
        if t < from {
            let steps = ((from - t).whole_seconds() / step.whole_seconds()).max(0);
            t += step * i32::try_from(steps).unwrap_or(i32::MAX);
        }
        while t < to && until.is_none_or(|u| t <= u) {
            if t >= from {
                out.push(t);
            }
            t += step;
        }
        out
    }
}

impl RecordKind for Appointment {
    const KIND: &'static str = "appointment";
    const SCHEMA: &'static str = "hearth/appointment@1";
    const CATEGORY: Category = Category::Appointments;

    fn patient_id(&self) -> Option<&str> {
        Some(&self.patient_id)
    }

    fn normalise(&mut self) {
        for s in [
            &mut self.start,
            &mut self.service_code,
            &mut self.recurrence_until,
            &mut self.location,
        ] {
            *s = s.trim().to_string();
        }
    }

    fn validate(&self, _today: time::Date) -> Result<()> {
        check::id("patient", &self.patient_id)?;
        let start = check::datetime("start", &self.start)?;
        if !(5..=480).contains(&self.duration_min) {
            return Err(RecordError::invalid(
                "duration",
                "between 5 and 480 minutes",
            ));
        }
        let cpt_shape = self.service_code.len() == 5
            && self.service_code.chars().all(|c| c.is_ascii_alphanumeric());
        if !self.service_code.is_empty() && !cpt_shape {
            return Err(RecordError::invalid(
                "service code",
                format!(
                    "{:?} is not a CPT code (five characters, e.g. 90834)",
                    self.service_code
                ),
            ));
        }
        if let Some(until) = check::date("recurrence until", &self.recurrence_until, true)? {
            if until < start.date() {
                return Err(RecordError::invalid(
                    "recurrence until",
                    "is before the first appointment",
                ));
            }
        }
        check::line("location", &self.location, 300)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn appt() -> Appointment {
        Appointment {
            patient_id: "p1".into(),
            start: "2026-03-02T10:00".into(),
            duration_min: 50,
            service_code: "90834".into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation_names_the_field() {
        let today = crate::date_of(1_750_000_000);
        assert!(appt().validate(today).is_ok());
        let mut a = appt();
        a.start = "2 March".into();
        assert!(a
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("start:"));
        let mut a = appt();
        a.duration_min = 0;
        assert!(a
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("duration:"));
        let mut a = appt();
        a.service_code = "psychotherapy".into();
        assert!(a
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("service code:"));
        let mut a = appt();
        a.recurrence = Recurrence::Weekly;
        a.recurrence_until = "2026-01-01".into();
        assert!(a
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("recurrence until:"));
    }

    #[test]
    fn two_devices_edit_one_appointment_offline_and_converge() {
        use crate::Doc;
        let mut a = Doc::create("a1", &[1; 16], appt(), 1_750_000_000).unwrap();
        let mut b: Doc<Appointment> = Doc::load(&a.save(), &[2; 16]).unwrap();
        let mut ea = a.value().clone();
        ea.status = AppointmentStatus::Attended;
        a.update(ea, 1_750_000_100).unwrap();
        let mut eb = b.value().clone();
        eb.location = "Room 2".into();
        eb.duration_min = 60;
        b.update(eb, 1_750_000_200).unwrap();
        let (to_b, to_a) = (a.changes_for(&mut b), b.changes_for(&mut a));
        a.apply_changes(&to_a).unwrap();
        b.apply_changes(&to_b).unwrap();
        assert_eq!(a.value(), b.value());
        assert_eq!(a.value().status, AppointmentStatus::Attended);
        assert_eq!(
            (a.value().location.as_str(), a.value().duration_min),
            ("Room 2", 60)
        );
        // Both devices' changes are in the history, attributed to their device.
        let actors: Vec<String> = a.history().unwrap().into_iter().map(|h| h.actor).collect();
        assert!(
            actors.contains(&hex::encode([1u8; 16])) && actors.contains(&hex::encode([2u8; 16]))
        );
    }

    #[test]
    fn weekly_and_biweekly_series_expand_within_a_window() {
        let mut a = appt();
        assert_eq!(
            a.occurrences(datetime!(2026-03-02 0:00), datetime!(2026-03-09 0:00)),
            vec![datetime!(2026-03-02 10:00)]
        );
        assert!(a
            .occurrences(datetime!(2026-03-03 0:00), datetime!(2026-03-09 0:00))
            .is_empty());
        a.recurrence = Recurrence::Weekly;
        a.recurrence_until = "2026-03-23".into();
        let w = a.occurrences(datetime!(2026-03-01 0:00), datetime!(2026-04-30 0:00));
        assert_eq!(
            w,
            vec![
                datetime!(2026-03-02 10:00),
                datetime!(2026-03-09 10:00),
                datetime!(2026-03-16 10:00),
                datetime!(2026-03-23 10:00)
            ]
        );
        a.recurrence = Recurrence::Biweekly;
        a.recurrence_until = String::new();
        let b = a.occurrences(datetime!(2026-05-01 0:00), datetime!(2026-05-31 0:00));
        assert_eq!(
            b,
            vec![datetime!(2026-05-11 10:00), datetime!(2026-05-25 10:00)]
        );
    }
}
