//! The therapist's day: appointments and the calendar, session and psychotherapy notes,
//! PHQ-9 / GAD-7, the treatment plan.

use hearth_api as api;
use hearth_api::{HistoryEntry, Stored};
use hearth_records::{
    reliable_change, Appointment, Assessment, Patient, PsychotherapyNote, RecordKind, SessionNote,
    TreatmentPlan,
};

use crate::records::{convert, now_secs, stored};
use crate::{CoreError, Hearth, Result};

/// The name shown on a calendar slot whose patient's consent hides it from this device.
pub const RESTRICTED: &str = "Restricted by consent";

/// Local date-time `YYYY-MM-DDTHH:MM`.
fn parse_local(field: &str, v: &str) -> Result<time::PrimitiveDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::PrimitiveDateTime::parse(v, &fmt).map_err(|_| {
        CoreError::Invalid(format!(
            "{field}: {v:?} is not a date and time; write it as YYYY-MM-DDTHH:MM"
        ))
    })
}

fn format_local(t: time::PrimitiveDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    t.format(&fmt).unwrap_or_default()
}

fn collect<T: RecordKind, B: serde::de::DeserializeOwned>(
    rows: Vec<(String, Result<hearth_records::envelope::Peek<T>>)>,
) -> Result<Vec<Stored<B>>> {
    // A record that fails to open is skipped here and reported in the log; the patient list
    // shows unreadable records by id.
    let mut out = Vec::with_capacity(rows.len());
    for (id, r) in rows {
        match r {
            Ok(p) => out.push(stored(&p)?),
            Err(e) => tracing::warn!(record = %id, "skipping unreadable record: {}", e.message()),
        }
    }
    Ok(out)
}

/// The items, scale and bands of a measure (for forms and charts).
pub fn instrument_form(instrument: api::Instrument) -> api::InstrumentForm {
    let i = match instrument {
        api::Instrument::Phq9 => hearth_records::Instrument::Phq9,
        api::Instrument::Gad7 => hearth_records::Instrument::Gad7,
    };
    let bands = i.bands();
    api::InstrumentForm {
        instrument,
        name: i.label().to_string(),
        stem: "Over the last 2 weeks, how often have you been bothered by any of the following problems?".to_string(),
        items: i.items().iter().map(|s| (*s).to_string()).collect(),
        scale: hearth_records::SCALE.iter().map(|s| (*s).to_string()).collect(),
        max_total: i.max_total(),
        bands: bands
            .iter()
            .enumerate()
            .map(|(k, (from, band))| api::BandRange {
                from: *from,
                to: bands.get(k + 1).map_or(i.max_total(), |(next, _)| next - 1),
                label: band.label().to_string(),
            })
            .collect(),
        reliable_change_points: i.reliable_change_points(),
    }
}

impl Hearth {
    // ---- appointments ----

    /// Book an appointment (or a series).
    pub fn add_appointment(&self, a: api::Appointment) -> Result<Stored<api::Appointment>> {
        stored(&self.create_record::<Appointment>(convert(&a)?)?)
    }

    /// Change an appointment (status, time, …).
    pub fn edit_appointment(
        &self,
        id: &str,
        a: api::Appointment,
    ) -> Result<Stored<api::Appointment>> {
        let new: Appointment = convert(&a)?;
        stored(
            &self
                .edit_record::<Appointment>(id, |v| {
                    *v = new;
                    Ok(())
                })?
                .0,
        )
    }

    /// One appointment.
    pub fn appointment(&self, id: &str) -> Result<Stored<api::Appointment>> {
        let a: Stored<api::Appointment> = stored(&self.read_record::<Appointment>(id)?)?;
        let purpose = self.enforce_read::<Appointment>(&a.record.patient_id, id, false)?;
        self.log_access(id, hearth_ledger::AccessAction::View, purpose)?;
        Ok(a)
    }

    /// A patient's appointments (or everyone's), by start.
    pub fn appointments(&self, patient_id: Option<&str>) -> Result<Vec<Stored<api::Appointment>>> {
        if let Some(pid) = patient_id {
            self.enforce_list::<Appointment>(pid)?;
        }
        let mut v: Vec<Stored<api::Appointment>> =
            collect(self.list_records::<Appointment>(patient_id)?)?;
        v.sort_by(|a, b| a.record.start.cmp(&b.record.start));
        Ok(v)
    }

    /// Every occurrence starting in `[from, to)` (local `YYYY-MM-DDTHH:MM`), series expanded,
    /// with patient names: the week view and "today".
    pub fn calendar(&self, from: &str, to: &str) -> Result<Vec<api::Occurrence>> {
        let (from, to) = (parse_local("from", from)?, parse_local("to", to)?);
        if to <= from || (to - from) > time::Duration::days(400) {
            return Err(CoreError::Invalid(
                "to: must be after from, at most 400 days later".into(),
            ));
        }
        let names: std::collections::HashMap<String, String> = self
            .list_records::<Patient>(None)?
            .into_iter()
            .filter_map(|(id, p)| p.ok().map(|p| (id, p.value.name)))
            .collect();
        let mut out = Vec::new();
        let mut filter = crate::consent::ReadFilter::new(self);
        for (id, a) in self.list_records::<Appointment>(None)? {
            let Ok(a) = a else { continue };
            // A slot whose patient's consent hides appointments from this device still
            // shows as busy, with no name or service, so nobody double-books it.
            let visible = filter.allows(&a.value.patient_id, Appointment::CATEGORY, false)?;
            for start in a.value.occurrences(from, to) {
                out.push(api::Occurrence {
                    appointment_id: id.clone(),
                    patient_id: if visible {
                        a.value.patient_id.clone()
                    } else {
                        String::new()
                    },
                    patient_name: if visible {
                        names.get(&a.value.patient_id).cloned().unwrap_or_default()
                    } else {
                        RESTRICTED.to_string()
                    },
                    start: format_local(start),
                    duration_min: a.value.duration_min,
                    status: convert(&a.value.status)?,
                    service_code: if visible {
                        a.value.service_code.clone()
                    } else {
                        String::new()
                    },
                });
            }
        }
        out.sort_by(|a, b| (&a.start, &a.patient_name).cmp(&(&b.start, &b.patient_name)));
        Ok(out)
    }

    /// Appointment history.
    pub fn appointment_history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        self.record_history::<Appointment>(id)
    }

    // ---- notes ----

    /// Start a note (a draft). `psychotherapy` makes it a psychotherapy note: kept apart from
    /// the chart and, by default, never leaving this device.
    pub fn add_note(&self, note: api::Note, psychotherapy: bool) -> Result<Stored<api::Note>> {
        let n: SessionNote = convert(&note)?;
        if psychotherapy {
            stored(&self.create_record(PsychotherapyNote(n))?)
        } else {
            stored(&self.create_record(n)?)
        }
    }

    fn is_psychotherapy(&self, id: &str) -> Result<bool> {
        Ok(self.kind_of(id)? == PsychotherapyNote::KIND)
    }

    fn edit_note_with(
        &self,
        id: &str,
        f: impl FnOnce(&mut SessionNote) -> Result<()>,
    ) -> Result<Stored<api::Note>> {
        if self.is_psychotherapy(id)? {
            stored(
                &self
                    .edit_record::<PsychotherapyNote>(id, |v| f(&mut v.0))?
                    .0,
            )
        } else {
            stored(&self.edit_record::<SessionNote>(id, f)?.0)
        }
    }

    /// Change a draft's sections (refused once signed: "signed notes take addenda").
    pub fn edit_note(&self, id: &str, note: api::Note) -> Result<Stored<api::Note>> {
        let new: SessionNote = convert(&note)?;
        self.edit_note_with(id, |v| {
            *v = new;
            Ok(())
        })
    }

    /// Sign and lock a draft.
    pub fn sign_note(&self, id: &str, signer: &str) -> Result<Stored<api::Note>> {
        let now = now_secs(&self.vault());
        self.edit_note_with(id, |v| Ok(v.sign(signer, now)?))
    }

    /// Add a signed addendum to a signed note.
    pub fn add_addendum(&self, id: &str, text: &str, signer: &str) -> Result<Stored<api::Note>> {
        let now = now_secs(&self.vault());
        self.edit_note_with(id, |v| Ok(v.add_addendum(text, signer, now)?))
    }

    /// One note (either kind).
    pub fn note(&self, id: &str) -> Result<(Stored<api::Note>, bool)> {
        let (note, purpose) = if self.is_psychotherapy(id)? {
            let n: (Stored<api::Note>, bool) =
                (stored(&self.read_record::<PsychotherapyNote>(id)?)?, true);
            let author = self.is_author::<PsychotherapyNote>(id)?;
            let purpose =
                self.enforce_read::<PsychotherapyNote>(&n.0.record.patient_id, id, author)?;
            (n, purpose)
        } else {
            let n: (Stored<api::Note>, bool) =
                (stored(&self.read_record::<SessionNote>(id)?)?, false);
            let purpose = self.enforce_read::<SessionNote>(&n.0.record.patient_id, id, false)?;
            (n, purpose)
        };
        self.log_access(id, hearth_ledger::AccessAction::View, purpose)?;
        Ok(note)
    }

    /// A patient's session notes (psychotherapy notes are listed apart).
    pub fn notes(&self, patient_id: &str) -> Result<Vec<Stored<api::Note>>> {
        self.enforce_list::<SessionNote>(patient_id)?;
        collect(self.list_records::<SessionNote>(Some(patient_id))?)
    }

    /// A patient's psychotherapy notes.
    /// Only the notes this device may read are listed (by default: the ones it wrote).
    pub fn psychotherapy_notes(&self, patient_id: &str) -> Result<Vec<Stored<api::Note>>> {
        self.log_access(
            &format!("list:{}:{patient_id}", PsychotherapyNote::KIND),
            hearth_ledger::AccessAction::View,
            "treatment",
        )?;
        let all: Vec<Stored<api::Note>> =
            collect(self.list_records::<PsychotherapyNote>(Some(patient_id))?)?;
        let mut out = Vec::with_capacity(all.len());
        for n in all {
            let author = self.is_author::<PsychotherapyNote>(&n.info.id)?;
            let d = self.decide(
                patient_id,
                hearth_consent::Action::Read,
                hearth_consent::Category::PsychotherapyNotes,
                hearth_consent::Purpose::Treatment,
                author,
            )?;
            if d.permit {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// A note's history.
    pub fn note_history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        if self.is_psychotherapy(id)? {
            self.record_history::<PsychotherapyNote>(id)
        } else {
            self.record_history::<SessionNote>(id)
        }
    }

    /// Restore a draft note's earlier version (refused for signed notes).
    pub fn restore_note(&self, id: &str, version: &str) -> Result<Stored<api::Note>> {
        if self.is_psychotherapy(id)? {
            stored(&self.restore_record::<PsychotherapyNote>(id, version)?.0)
        } else {
            stored(&self.restore_record::<SessionNote>(id, version)?.0)
        }
    }

    // ---- assessments ----

    /// Record a PHQ-9 or GAD-7; answers are checked item by item.
    pub fn add_assessment(
        &self,
        a: api::Assessment,
    ) -> Result<(Stored<api::Assessment>, api::Scored)> {
        let rec = self.create_record::<Assessment>(convert(&a)?)?;
        let id = rec.id.clone();
        let scored = self
            .assessments(&rec.value.patient_id)?
            .into_iter()
            .find(|(s, _)| s.info.id == id)
            .map(|(_, sc)| sc)
            .ok_or_else(|| CoreError::Internal("the new assessment is missing".into()))?;
        Ok((stored(&rec)?, scored))
    }

    /// A patient's assessments, oldest first, scored, each with its reliable change from the
    /// previous administration of the same measure.
    pub fn assessments(
        &self,
        patient_id: &str,
    ) -> Result<Vec<(Stored<api::Assessment>, api::Scored)>> {
        self.enforce_list::<Assessment>(patient_id)?;
        let mut all: Vec<_> = self
            .list_records::<Assessment>(Some(patient_id))?
            .into_iter()
            .filter_map(|(id, r)| match r {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(record = %id, "skipping unreadable assessment: {}", e.message());
                    None
                }
            })
            .collect();
        all.sort_by(|a, b| {
            (&a.value.administered_on, a.created_at).cmp(&(&b.value.administered_on, b.created_at))
        });
        let mut last: std::collections::HashMap<hearth_records::Instrument, u32> =
            Default::default();
        let mut out = Vec::with_capacity(all.len());
        for p in all {
            let s = p.value.score();
            let change = last
                .insert(p.value.instrument, s.total)
                .map(|prev| {
                    convert::<_, String>(&reliable_change(p.value.instrument, prev, s.total))
                })
                .transpose()?;
            out.push((
                stored(&p)?,
                api::Scored {
                    total: s.total,
                    band: s.band.label().to_string(),
                    safety_alert: s.safety_alert,
                    change,
                },
            ));
        }
        Ok(out)
    }

    // ---- treatment plan ----

    /// Create a patient's treatment plan, or replace its content (one plan per patient).
    pub fn save_plan(&self, plan: api::TreatmentPlan) -> Result<Stored<api::TreatmentPlan>> {
        let new: TreatmentPlan = convert(&plan)?;
        let existing = self.list_records::<TreatmentPlan>(Some(&new.patient_id))?;
        match existing.into_iter().next() {
            Some((id, _)) => stored(
                &self
                    .edit_record::<TreatmentPlan>(&id, |v| {
                        *v = new;
                        Ok(())
                    })?
                    .0,
            ),
            None => stored(&self.create_record(new)?),
        }
    }

    /// A patient's treatment plan, if any.
    pub fn plan(&self, patient_id: &str) -> Result<Option<Stored<api::TreatmentPlan>>> {
        self.enforce_list::<TreatmentPlan>(patient_id)?;
        let mut v: Vec<Stored<api::TreatmentPlan>> =
            collect(self.list_records::<TreatmentPlan>(Some(patient_id))?)?;
        Ok(v.pop())
    }

    /// The plan's history.
    pub fn plan_history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        self.record_history::<TreatmentPlan>(id)
    }
}
