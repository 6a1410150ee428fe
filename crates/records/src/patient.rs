//! The patient record: demographics, contacts, diagnoses, status.

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

use crate::textfield::absorb_text;
use crate::{check, Category, RecordError, RecordKind, Result};

/// Whether the patient is in care.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum PatientStatus {
    /// In care.
    #[default]
    Active,
    /// Discharged.
    Discharged,
}

/// How to reach the patient.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Contact {
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Postal address.
    pub address: String,
}

/// Who to call in an emergency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct EmergencyContact {
    /// Name.
    pub name: String,
    /// Relationship to the patient.
    pub relationship: String,
    /// Phone.
    pub phone: String,
}

/// A diagnosis: ICD-10 code and its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Diagnosis {
    /// ICD-10 code, e.g. `F33.1`.
    pub code: String,
    /// Its text, e.g. "Major depressive disorder, recurrent, moderate".
    pub text: String,
}

/// A patient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Patient {
    /// Full name (required).
    pub name: String,
    /// `YYYY-MM-DD` or empty.
    pub date_of_birth: String,
    /// Pronouns.
    pub pronouns: String,
    /// Contact details.
    pub contact: Contact,
    /// Emergency contact.
    pub emergency_contact: EmergencyContact,
    /// Diagnoses.
    pub diagnoses: Vec<Diagnosis>,
    /// Active or discharged.
    pub status: PatientStatus,
    /// Free-text notes about the patient (Automerge text).
    #[serde(with = "crate::text_serde")]
    pub notes: Text,
}

/// ICD-10-CM code shape: a letter, two digits, optionally a dot and 1–4 more characters.
fn icd10_ok(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() < 3
        || !b[0].is_ascii_uppercase()
        || !b[1].is_ascii_digit()
        || !b[2].is_ascii_alphanumeric()
    {
        return false;
    }
    match &code[3..] {
        "" => true,
        rest => rest.strip_prefix('.').is_some_and(|r| {
            (1..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric())
        }),
    }
}

impl RecordKind for Patient {
    const KIND: &'static str = "patient";
    const SCHEMA: &'static str = "hearth/patient@2";
    const CATEGORY: Category = Category::Demographics;

    fn patient_id(&self) -> Option<&str> {
        None
    }

    fn normalise(&mut self) {
        for s in [
            &mut self.name,
            &mut self.date_of_birth,
            &mut self.pronouns,
            &mut self.contact.phone,
            &mut self.contact.email,
            &mut self.contact.address,
            &mut self.emergency_contact.name,
            &mut self.emergency_contact.relationship,
            &mut self.emergency_contact.phone,
        ] {
            *s = s.trim().to_string();
        }
        for d in &mut self.diagnoses {
            d.code = d.code.trim().to_uppercase();
            d.text = d.text.trim().to_string();
        }
    }

    fn validate(&self, today: time::Date) -> Result<()> {
        check::required("name", &self.name, 200)?;
        if let Some(d) = check::date("date of birth", &self.date_of_birth, true)? {
            if d > today {
                return Err(RecordError::invalid(
                    "date of birth",
                    format!("{} is in the future", self.date_of_birth),
                ));
            }
            if d.year() < 1880 {
                return Err(RecordError::invalid(
                    "date of birth",
                    format!("{} is too far in the past", self.date_of_birth),
                ));
            }
        }
        check::line("pronouns", &self.pronouns, 60)?;
        check::line("phone", &self.contact.phone, 60)?;
        check::line("email", &self.contact.email, 254)?;
        let e = &self.contact.email;
        if !e.is_empty()
            && !e
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !e.contains(' '))
        {
            return Err(RecordError::invalid(
                "email",
                format!("{e:?} is not an e-mail address"),
            ));
        }
        check::text("address", &self.contact.address, 500)?;
        check::line("emergency contact name", &self.emergency_contact.name, 200)?;
        check::line(
            "emergency contact relationship",
            &self.emergency_contact.relationship,
            60,
        )?;
        check::line("emergency contact phone", &self.emergency_contact.phone, 60)?;
        if self.diagnoses.len() > 50 {
            return Err(RecordError::invalid("diagnoses", "at most 50"));
        }
        for (i, d) in self.diagnoses.iter().enumerate() {
            let field = format!("diagnosis {}", i + 1);
            if !icd10_ok(&d.code) {
                return Err(RecordError::invalid(
                    field,
                    format!("{:?} is not an ICD-10 code (e.g. F33.1)", d.code),
                ));
            }
            check::line(&field, &d.text, 300)?;
        }
        check::text("notes", self.notes.as_str(), 100_000)
    }

    fn absorb(current: &mut Self, edited: Self) {
        let Patient {
            name,
            date_of_birth,
            pronouns,
            contact,
            emergency_contact,
            diagnoses,
            status,
            notes,
        } = edited;
        absorb_text(&mut current.notes, &notes);
        current.name = name;
        current.date_of_birth = date_of_birth;
        current.pronouns = pronouns;
        current.contact = contact;
        current.emergency_contact = emergency_contact;
        current.diagnoses = diagnoses;
        current.status = status;
    }

    fn describe(path: &[String]) -> String {
        match path {
            [first, second, ..] if first == "contact" => second.clone(),
            [first, second, ..] if first == "emergency_contact" => {
                format!("emergency contact {second}")
            }
            [first, ..] => first.replace('_', " "),
            [] => String::new(),
        }
    }

    fn search_text(&self) -> String {
        let mut s = format!("{} {} {}", self.name, self.pronouns, self.notes.as_str());
        for d in &self.diagnoses {
            s.push(' ');
            s.push_str(&d.code);
            s.push(' ');
            s.push_str(&d.text);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Doc;

    const T0: i64 = 1_750_000_000;

    pub(crate) fn ada() -> Patient {
        Patient {
            name: "Ada Lovelace".into(),
            date_of_birth: "1915-12-10".into(),
            pronouns: "she/her".into(),
            contact: Contact {
                phone: "+44 20 7946 0000".into(),
                email: "ada@example.org".into(),
                address: "12 St James's Square, London".into(),
            },
            emergency_contact: EmergencyContact {
                name: "Mary Somerville".into(),
                relationship: "friend".into(),
                phone: "+44 20 7946 0001".into(),
            },
            diagnoses: vec![Diagnosis {
                code: "F33.1".into(),
                text: "Major depressive disorder, recurrent, moderate".into(),
            }],
            status: PatientStatus::Active,
            notes: Text::with_value("Prefers morning sessions."),
        }
    }

    #[test]
    fn round_trip_and_labels() {
        let mut d = Doc::create("p1", &[7; 16], ada(), T0).unwrap();
        let back: Doc<Patient> = Doc::from_envelope(&d.to_envelope().unwrap(), &[7; 16]).unwrap();
        assert!(crate::doc::same(back.value(), &ada()));
        let mut e = ada();
        e.contact.phone = "+44 1".into();
        e.emergency_contact.relationship = "sister".into();
        e.status = PatientStatus::Discharged;
        e.notes = Text::with_value("Prefers evening sessions.");
        let changed = d.update(e, T0 + 60).unwrap();
        let mut sorted = changed.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            vec!["emergency contact relationship", "notes", "phone", "status"]
        );
        assert!(d.update(d.value().clone(), T0 + 120).unwrap().is_empty());
        let h = d.history().unwrap();
        assert_eq!(h.len(), 2);
        assert!(h[0].created);
    }

    #[test]
    fn invalid_input_names_the_field() {
        let today = crate::date_of(T0);
        let mut p = ada();
        p.name = "  ".into();
        p.normalise();
        assert_eq!(
            p.validate(today).unwrap_err().to_string(),
            "name: is required"
        );
        let mut p = ada();
        p.date_of_birth = "10/12/1915".into();
        assert!(p
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("date of birth:"));
        p.date_of_birth = "2999-01-01".into();
        assert!(p
            .validate(today)
            .unwrap_err()
            .to_string()
            .contains("future"));
        let mut p = ada();
        p.contact.email = "nope".into();
        assert!(p
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("email:"));
        let mut p = ada();
        p.diagnoses[0].code = "depression".into();
        assert!(p
            .validate(today)
            .unwrap_err()
            .to_string()
            .starts_with("diagnosis 1:"));
        for ok in ["F32", "F33.1", "F43.10", "Z63.0"] {
            assert!(icd10_ok(ok), "{ok}");
        }
        for bad in ["", "33.1", "F3", "F33.", "F33.12345", "f33.1"] {
            assert!(!icd10_ok(bad), "{bad}");
        }
    }

    #[test]
    fn concurrent_edits_merge_including_text() {
        let mut a = Doc::create("p", &[1; 16], ada(), T0).unwrap();
        let mut b: Doc<Patient> = Doc::load(&a.save(), &[2; 16]).unwrap();
        let mut ea = a.value().clone();
        ea.contact.phone = "111".into();
        ea.notes = Text::with_value("Prefers morning sessions. Likes tea.");
        a.update(ea, T0 + 1).unwrap();
        let mut eb = b.value().clone();
        eb.pronouns = "they/them".into();
        eb.notes = Text::with_value("NB: Prefers morning sessions.");
        b.update(eb, T0 + 2).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let (va, vb) = (a.value(), b.value());
        assert!(crate::doc::same(va, vb));
        assert_eq!(va.contact.phone, "111");
        assert_eq!(va.pronouns, "they/them");
        assert_eq!(
            va.notes.as_str(),
            "NB: Prefers morning sessions. Likes tea."
        );
    }
}
