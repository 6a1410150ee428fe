//! Session notes (SOAP, DAP, BIRP, free form) and psychotherapy notes: draft → signed and
//! locked; after signing, only signed addenda.

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::textfield::absorb_text;
use crate::{check, Category, RecordError, RecordKind, Result};

/// The message for any change to a signed note's content.
pub const SIGNED_NOTES_TAKE_ADDENDA: &str =
    "signed notes take addenda: the note is signed and locked; add an addendum instead";

/// A note's structure.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate,
)]
#[serde(rename_all = "snake_case")]
pub enum NoteTemplate {
    /// Subjective, Objective, Assessment, Plan.
    Soap,
    /// Data, Assessment, Plan.
    Dap,
    /// Behavior, Intervention, Response, Plan.
    Birp,
    /// One free-text section.
    #[default]
    Free,
}

impl NoteTemplate {
    /// The sections, as (key, title), in order.
    pub fn sections(self) -> &'static [(&'static str, &'static str)] {
        match self {
            NoteTemplate::Soap => &[
                ("subjective", "Subjective"),
                ("objective", "Objective"),
                ("assessment", "Assessment"),
                ("plan", "Plan"),
            ],
            NoteTemplate::Dap => &[
                ("data", "Data"),
                ("assessment", "Assessment"),
                ("plan", "Plan"),
            ],
            NoteTemplate::Birp => &[
                ("behavior", "Behavior"),
                ("intervention", "Intervention"),
                ("response", "Response"),
                ("plan", "Plan"),
            ],
            NoteTemplate::Free => &[("note", "Note")],
        }
    }
}

/// One section of a note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Section {
    /// Section key from the template (`subjective`, `plan`, …).
    pub key: String,
    /// Its text (Automerge text: concurrent edits merge).
    #[serde(with = "crate::text_serde")]
    pub text: Text,
}

/// Who signed, when, and the hash of what they signed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Signature {
    /// The clinician's name as they sign.
    pub signer: String,
    /// Unix seconds.
    pub signed_at: i64,
    /// SHA-256 (hex) of the signed content.
    pub content_hash: String,
}

/// A signed addition to a signed note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Addendum {
    /// The text added.
    pub text: String,
    /// Its signature (content hash over `text`).
    pub signature: Signature,
}

/// A session (progress) note, linked to an appointment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct SessionNote {
    /// The patient's record id.
    pub patient_id: String,
    /// The appointment's record id, or empty.
    pub appointment_id: String,
    /// The template.
    pub template: NoteTemplate,
    /// Sections in template order.
    pub sections: Vec<Section>,
    /// Set when signed; the note is then locked.
    pub signature: Option<Signature>,
    /// Signed additions after signing.
    pub addenda: Vec<Addendum>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl SessionNote {
    /// A blank draft with the template's sections.
    pub fn draft(patient_id: &str, appointment_id: &str, template: NoteTemplate) -> Self {
        Self {
            patient_id: patient_id.into(),
            appointment_id: appointment_id.into(),
            template,
            sections: template
                .sections()
                .iter()
                .map(|(k, _)| Section {
                    key: (*k).into(),
                    text: Text::with_value(""),
                })
                .collect(),
            signature: None,
            addenda: Vec::new(),
        }
    }

    /// Set a section's text (creating it if the template has it).
    pub fn set_section(&mut self, key: &str, text: &str) -> Result<()> {
        if !self.template.sections().iter().any(|(k, _)| *k == key) {
            return Err(RecordError::invalid(
                key,
                format!("not a section of the {:?} template", self.template),
            ));
        }
        match self.sections.iter_mut().find(|s| s.key == key) {
            Some(s) => s.text = Text::with_value(text),
            None => self.sections.push(Section {
                key: key.into(),
                text: Text::with_value(text),
            }),
        }
        Ok(())
    }

    /// The hash of the content a signature covers: patient, appointment, template and every
    /// section, as canonical JSON (fields in a fixed order, sections in template order).
    pub fn content_hash(&self) -> String {
        let sections: Vec<(&str, &str)> = self
            .sections
            .iter()
            .map(|s| (s.key.as_str(), s.text.as_str()))
            .collect();
        let canonical = serde_json::json!({
            "patient_id": self.patient_id,
            "appointment_id": self.appointment_id,
            "template": self.template,
            "sections": sections,
        });
        sha256_hex(canonical.to_string().as_bytes())
    }

    /// Sign and lock the draft.
    pub fn sign(&mut self, signer: &str, now: i64) -> Result<()> {
        if self.signature.is_some() {
            return Err(RecordError::Refused("the note is already signed".into()));
        }
        check::required("signer", signer, 200)?;
        self.signature = Some(Signature {
            signer: signer.trim().into(),
            signed_at: now,
            content_hash: self.content_hash(),
        });
        Ok(())
    }

    /// Add a signed addendum to a signed note.
    pub fn add_addendum(&mut self, text: &str, signer: &str, now: i64) -> Result<()> {
        if self.signature.is_none() {
            return Err(RecordError::Refused(
                "addenda are for signed notes: edit the draft instead".into(),
            ));
        }
        check::required("signer", signer, 200)?;
        if text.trim().is_empty() {
            return Err(RecordError::invalid("addendum", "is empty"));
        }
        self.addenda.push(Addendum {
            text: text.into(),
            signature: Signature {
                signer: signer.trim().into(),
                signed_at: now,
                content_hash: sha256_hex(text.as_bytes()),
            },
        });
        Ok(())
    }

    /// True when unsigned, or when the signature and every addendum still match their content
    /// (false means the content changed after signing, e.g. a concurrent edit merged in).
    pub fn signatures_hold(&self) -> bool {
        self.signature
            .as_ref()
            .is_none_or(|s| s.content_hash == self.content_hash())
            && self
                .addenda
                .iter()
                .all(|a| a.signature.content_hash == sha256_hex(a.text.as_bytes()))
    }

    fn same_content(&self, other: &Self) -> bool {
        self.patient_id == other.patient_id
            && self.appointment_id == other.appointment_id
            && self.template == other.template
            && self.sections.len() == other.sections.len()
            && self
                .sections
                .iter()
                .zip(&other.sections)
                .all(|(a, b)| a.key == b.key && a.text.as_str() == b.text.as_str())
    }

    fn validate_note(&self) -> Result<()> {
        check::id("patient", &self.patient_id)?;
        if !self.appointment_id.is_empty() {
            check::id("appointment", &self.appointment_id)?;
        }
        let keys = self.template.sections();
        for s in &self.sections {
            if !keys.iter().any(|(k, _)| *k == s.key) {
                return Err(RecordError::invalid(
                    &s.key,
                    format!("not a section of the {:?} template", self.template),
                ));
            }
            check::text(&s.key, s.text.as_str(), 200_000)?;
        }
        if let Some(sig) = &self.signature {
            check::required("signer", &sig.signer, 200)?;
            if sig.content_hash != self.content_hash() {
                return Err(RecordError::Refused(SIGNED_NOTES_TAKE_ADDENDA.into()));
            }
        }
        for a in &self.addenda {
            check::text("addendum", &a.text, 100_000)?;
            if a.signature.content_hash != sha256_hex(a.text.as_bytes()) {
                return Err(RecordError::invalid(
                    "addendum",
                    "its signature does not match its text",
                ));
            }
        }
        Ok(())
    }

    fn check_note_edit(current: &Self, edited: &Self) -> Result<()> {
        if current.signature.is_some() {
            if edited.signature != current.signature || !current.same_content(edited) {
                return Err(RecordError::Refused(SIGNED_NOTES_TAKE_ADDENDA.into()));
            }
            if edited.addenda.len() < current.addenda.len()
                || edited.addenda[..current.addenda.len()] != current.addenda[..]
            {
                return Err(RecordError::Refused(
                    "addenda cannot be changed or removed once added".into(),
                ));
            }
        } else if !edited.addenda.is_empty() {
            return Err(RecordError::Refused(
                "addenda are for signed notes: edit the draft instead".into(),
            ));
        }
        Ok(())
    }

    fn normalise_note(&mut self) {
        // Sections in template order, missing ones added empty.
        let mut ordered = Vec::new();
        for (k, _) in self.template.sections() {
            match self.sections.iter().position(|s| s.key == *k) {
                Some(i) => ordered.push(self.sections.remove(i)),
                None => ordered.push(Section {
                    key: (*k).into(),
                    text: Text::with_value(""),
                }),
            }
        }
        // Unknown keys stay (after the template's) so validation can name them.
        ordered.append(&mut self.sections);
        self.sections = ordered;
    }

    fn absorb_note(current: &mut Self, edited: Self) {
        let SessionNote {
            patient_id,
            appointment_id,
            template,
            sections,
            signature,
            addenda,
        } = edited;
        let same_shape = current.template == template
            && current.sections.len() == sections.len()
            && current
                .sections
                .iter()
                .zip(&sections)
                .all(|(a, b)| a.key == b.key);
        if same_shape {
            for (c, e) in current.sections.iter_mut().zip(&sections) {
                absorb_text(&mut c.text, &e.text);
            }
        } else {
            current.sections = sections;
        }
        current.patient_id = patient_id;
        current.appointment_id = appointment_id;
        current.template = template;
        current.signature = signature;
        current.addenda = addenda;
    }

    fn note_search_text(&self) -> String {
        let mut s = String::new();
        for sec in &self.sections {
            s.push_str(sec.text.as_str());
            s.push('\n');
        }
        for a in &self.addenda {
            s.push_str(&a.text);
            s.push('\n');
        }
        s
    }
}

fn describe_note(path: &[String]) -> String {
    match path.first().map(String::as_str) {
        Some("sections") => "content".into(),
        Some("signature") => "signature".into(),
        Some("addenda") => "addendum".into(),
        Some(other) => other.replace('_', " "),
        None => String::new(),
    }
}

impl RecordKind for SessionNote {
    const KIND: &'static str = "session-note";
    const SCHEMA: &'static str = "hearth/session-note@1";
    const CATEGORY: Category = Category::ProgressNotes;

    fn patient_id(&self) -> Option<&str> {
        Some(&self.patient_id)
    }
    fn normalise(&mut self) {
        self.normalise_note();
    }
    fn validate(&self, _today: time::Date) -> Result<()> {
        self.validate_note()
    }
    fn check_edit(current: &Self, edited: &Self) -> Result<()> {
        Self::check_note_edit(current, edited)
    }
    fn absorb(current: &mut Self, edited: Self) {
        Self::absorb_note(current, edited);
    }
    fn describe(path: &[String]) -> String {
        describe_note(path)
    }
    fn search_text(&self) -> String {
        self.note_search_text()
    }
}

/// A psychotherapy note: the same shape as a session note, kept apart from the chart. By
/// default it stays on its author's device and only its author reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(transparent)]
pub struct PsychotherapyNote(pub SessionNote);

impl RecordKind for PsychotherapyNote {
    const KIND: &'static str = "psychotherapy-note";
    const SCHEMA: &'static str = "hearth/psychotherapy-note@1";
    const CATEGORY: Category = Category::PsychotherapyNotes;

    fn patient_id(&self) -> Option<&str> {
        Some(&self.0.patient_id)
    }
    fn normalise(&mut self) {
        self.0.normalise_note();
    }
    fn validate(&self, _today: time::Date) -> Result<()> {
        self.0.validate_note()
    }
    fn check_edit(current: &Self, edited: &Self) -> Result<()> {
        SessionNote::check_note_edit(&current.0, &edited.0)
    }
    fn absorb(current: &mut Self, edited: Self) {
        SessionNote::absorb_note(&mut current.0, edited.0);
    }
    fn describe(path: &[String]) -> String {
        describe_note(path)
    }
    fn search_text(&self) -> String {
        self.0.note_search_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Doc;

    const T0: i64 = 1_750_000_000;

    fn soap() -> SessionNote {
        let mut n = SessionNote::draft("p1", "a1", NoteTemplate::Soap);
        n.set_section("subjective", "Reports poor sleep and work stress.")
            .unwrap();
        n.set_section("plan", "Sleep diary; review in two weeks.")
            .unwrap();
        n
    }

    #[test]
    fn templates_have_their_sections() {
        assert_eq!(
            SessionNote::draft("p", "", NoteTemplate::Dap)
                .sections
                .len(),
            3
        );
        assert_eq!(
            SessionNote::draft("p", "", NoteTemplate::Birp).sections[0].key,
            "behavior"
        );
        let mut n = SessionNote::draft("p", "", NoteTemplate::Dap);
        assert!(n.set_section("subjective", "x").is_err());
    }

    #[test]
    fn draft_sign_lock_addendum() {
        let mut d = Doc::create("n1", &[1; 16], soap(), T0).unwrap();
        let mut e = d.value().clone();
        e.set_section("objective", "Calm, good eye contact.")
            .unwrap();
        assert_eq!(d.update(e, T0 + 10).unwrap(), vec!["content"]);
        let mut s = d.value().clone();
        s.sign("Dr. Jane Roe", T0 + 20).unwrap();
        assert_eq!(d.update(s, T0 + 20).unwrap(), vec!["signature"]);
        assert!(d.value().signatures_hold());

        let mut e = d.value().clone();
        e.set_section("plan", "Changed after signing").unwrap();
        let err = d.update(e, T0 + 30).unwrap_err();
        assert!(
            err.to_string().starts_with("signed notes take addenda"),
            "{err}"
        );

        let mut e = d.value().clone();
        e.signature = None;
        assert!(d
            .update(e, T0 + 30)
            .unwrap_err()
            .to_string()
            .starts_with("signed notes take addenda"));

        let mut a = d.value().clone();
        a.add_addendum("Patient called: sleep improved.", "Dr. Jane Roe", T0 + 40)
            .unwrap();
        assert_eq!(d.update(a, T0 + 40).unwrap(), vec!["addendum"]);
        let mut a = d.value().clone();
        a.addenda[0].text = "rewritten".into();
        assert!(d.update(a, T0 + 50).is_err(), "addenda are immutable");
        let mut a = d.value().clone();
        a.addenda.clear();
        assert!(d.update(a, T0 + 50).is_err(), "addenda cannot be removed");

        // Restoring the draft version is an edit of a signed note: refused.
        let first = d.history().unwrap()[0].hash.clone();
        assert!(d.restore(&first, T0 + 60).is_err());
        assert_eq!(d.value().addenda.len(), 1);
    }

    #[test]
    fn addenda_only_on_signed_notes_and_signatures_are_checked() {
        let mut n = soap();
        assert!(n.add_addendum("x", "Dr", T0).is_err());
        let mut forged = soap();
        forged.signature = Some(Signature {
            signer: "Dr".into(),
            signed_at: T0,
            content_hash: "00".repeat(32),
        });
        assert!(Doc::create("n", &[1; 16], forged, T0).is_err());
        n.sign("Dr", T0).unwrap();
        assert!(n.sign("Dr", T0).is_err());
    }

    #[test]
    fn two_devices_edit_one_draft_offline_and_nothing_typed_is_lost() {
        let mut a = Doc::create("n1", &[1; 16], soap(), T0).unwrap();
        let mut b: Doc<SessionNote> = Doc::load(&a.save(), &[2; 16]).unwrap();
        let mut ea = a.value().clone();
        ea.set_section(
            "subjective",
            "Reports poor sleep and work stress. Wakes at 4am.",
        )
        .unwrap();
        a.update(ea, T0 + 1).unwrap();
        let mut eb = b.value().clone();
        eb.set_section("subjective", "Today: reports poor sleep and work stress.")
            .unwrap();
        eb.set_section("assessment", "Adjustment with insomnia.")
            .unwrap();
        b.update(eb, T0 + 2).unwrap();
        let to_b = a.changes_for(&mut b);
        let to_a = b.changes_for(&mut a);
        a.apply_changes(&to_a).unwrap();
        b.apply_changes(&to_b).unwrap();
        for d in [&a, &b] {
            let v = d.value();
            assert_eq!(
                v.sections[0].text.as_str(),
                "Today: reports poor sleep and work stress. Wakes at 4am."
            );
            assert_eq!(v.sections[2].text.as_str(), "Adjustment with insomnia.");
        }
    }

    #[test]
    fn psychotherapy_notes_are_their_own_kind_and_category() {
        let p = PsychotherapyNote(soap());
        let mut d = Doc::create("pn", &[1; 16], p, T0).unwrap();
        let env = d.to_envelope().unwrap();
        assert!(crate::envelope::peek::<SessionNote>(&env).is_err());
        assert_eq!(
            crate::envelope::peek::<PsychotherapyNote>(&env)
                .unwrap()
                .value
                .0
                .patient_id,
            "p1"
        );
        assert_eq!(PsychotherapyNote::CATEGORY.as_str(), "psychotherapy-notes");
    }
}
