//! Hearth's clinical records as Automerge documents, so offline edits on several devices merge.
//!
//! For now this holds the patient record. Each record is one Automerge document with a random id;
//! the vault seals its saved bytes. Short fields (name, pronouns, contact) are registers (a
//! concurrent edit picks one value on every device); the free-text `notes` field is Automerge
//! text, so concurrent edits to different parts both survive.
//!
//! ```
//! use hearth_records::{Field, PatientDoc, PatientFields};
//! # fn main() -> Result<(), hearth_records::RecordError> {
//! let fields = PatientFields { name: "Ada Lovelace".into(), ..Default::default() };
//! let mut doc = PatientDoc::create("p1", &[1; 16], &fields, 1_700_000_000)?;
//! let changed = doc.edit(&[(Field::Pronouns, "she/her".into())], 1_700_000_060)?;
//! assert_eq!(changed, vec![Field::Pronouns]);
//! let reopened = PatientDoc::load(&doc.save(), &[1; 16])?;
//! assert_eq!(reopened.fields()?.pronouns, "she/her");
//! assert_eq!(doc.history()?.len(), 2);
//! # Ok(()) }
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ROOT};

/// The schema tag stored in every patient document.
pub const PATIENT_SCHEMA: &str = "hearth/patient@1";

/// Kind of a patient record in the vault.
pub const PATIENT_KIND: &str = "patient";

/// Errors from the record layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A field's value is not acceptable.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field's label ("name", "date of birth").
        field: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// The stored bytes are not a valid record of this kind.
    #[error("the record could not be read ({0}); restore it from a backup or another device")]
    Malformed(String),
    /// Automerge refused an operation.
    #[error("record operation failed: {0}")]
    Automerge(Box<automerge::AutomergeError>),
}

impl From<automerge::AutomergeError> for RecordError {
    fn from(e: automerge::AutomergeError) -> Self {
        Self::Automerge(Box::new(e))
    }
}

/// Shorthand.
pub type Result<T, E = RecordError> = std::result::Result<T, E>;

/// A field of the patient record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// Full name (required).
    Name,
    /// Date of birth, `YYYY-MM-DD` or empty.
    DateOfBirth,
    /// Pronouns.
    Pronouns,
    /// Phone number.
    Phone,
    /// E-mail address.
    Email,
    /// Postal address.
    Address,
    /// Free-text notes.
    Notes,
}

impl Field {
    /// Every field, in display order.
    pub const ALL: [Field; 7] = [
        Field::Name,
        Field::DateOfBirth,
        Field::Pronouns,
        Field::Phone,
        Field::Email,
        Field::Address,
        Field::Notes,
    ];

    /// The key in the document.
    fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::DateOfBirth => "date_of_birth",
            Field::Pronouns => "pronouns",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Address => "address",
            Field::Notes => "notes",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::DateOfBirth => "date of birth",
            Field::Pronouns => "pronouns",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Address => "address",
            Field::Notes => "notes",
        }
    }

    /// Contact fields live in the `contact` map; the rest at the root.
    fn in_contact(self) -> bool {
        matches!(self, Field::Phone | Field::Email | Field::Address)
    }

    fn max_chars(self) -> usize {
        match self {
            Field::Name => 200,
            Field::DateOfBirth => 10,
            Field::Pronouns | Field::Phone => 60,
            Field::Email => 254,
            Field::Address => 500,
            Field::Notes => 100_000,
        }
    }
}

/// The values of a patient record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientFields {
    /// Full name.
    pub name: String,
    /// `YYYY-MM-DD` or empty.
    pub date_of_birth: String,
    /// Pronouns.
    pub pronouns: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Postal address.
    pub address: String,
    /// Notes.
    pub notes: String,
}

impl PatientFields {
    /// One field's value.
    pub fn get(&self, f: Field) -> &str {
        match f {
            Field::Name => &self.name,
            Field::DateOfBirth => &self.date_of_birth,
            Field::Pronouns => &self.pronouns,
            Field::Phone => &self.phone,
            Field::Email => &self.email,
            Field::Address => &self.address,
            Field::Notes => &self.notes,
        }
    }

    fn get_mut(&mut self, f: Field) -> &mut String {
        match f {
            Field::Name => &mut self.name,
            Field::DateOfBirth => &mut self.date_of_birth,
            Field::Pronouns => &mut self.pronouns,
            Field::Phone => &mut self.phone,
            Field::Email => &mut self.email,
            Field::Address => &mut self.address,
            Field::Notes => &mut self.notes,
        }
    }

    /// Check every field; the first problem is returned, naming the field.
    pub fn validate(&self, today: time::Date) -> Result<()> {
        for f in Field::ALL {
            validate_field(f, self.get(f), today)?;
        }
        Ok(())
    }
}

/// Normalise a value as stored: surrounding white space trimmed (notes keep theirs).
fn normalise(f: Field, v: &str) -> String {
    match f {
        Field::Notes => v.to_string(),
        _ => v.trim().to_string(),
    }
}

fn validate_field(f: Field, v: &str, today: time::Date) -> Result<()> {
    let invalid = |reason: String| RecordError::Invalid {
        field: f.label(),
        reason,
    };
    if v.chars().count() > f.max_chars() {
        return Err(invalid(format!("at most {} characters", f.max_chars())));
    }
    if f != Field::Notes && f != Field::Address && v.chars().any(char::is_control) {
        return Err(invalid("must be a single line".into()));
    }
    match f {
        Field::Name if v.trim().is_empty() => Err(invalid("is required".into())),
        Field::DateOfBirth if !v.is_empty() => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            let d = time::Date::parse(v, &fmt).map_err(|_| {
                invalid(format!(
                    "{v:?} is not a date; write it as YYYY-MM-DD, e.g. 1984-03-07"
                ))
            })?;
            if d > today {
                Err(invalid(format!("{v} is in the future")))
            } else if d.year() < 1880 {
                Err(invalid(format!("{v} is too far in the past")))
            } else {
                Ok(())
            }
        }
        Field::Email if !v.is_empty() => {
            let ok = v
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !v.contains(' '));
            if ok {
                Ok(())
            } else {
                Err(invalid(format!("{v:?} is not an e-mail address")))
            }
        }
        _ => Ok(()),
    }
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// Change hash, hex.
    pub hash: String,
    /// Actor (device) id, hex.
    pub actor: String,
    /// Unix seconds as recorded by the author (advisory).
    pub time: i64,
    /// The fields this change set, derived from the document itself (not from a message).
    pub fields: Vec<Field>,
    /// True for the change that created the record.
    pub created: bool,
}

/// A patient record as an Automerge document.
#[derive(Debug)]
pub struct PatientDoc {
    doc: AutoCommit,
}

impl PatientDoc {
    /// A new patient record with id `id`, authored by `actor` (the device id).
    pub fn create(id: &str, actor: &[u8], fields: &PatientFields, now_secs: i64) -> Result<Self> {
        let today = today_from(now_secs);
        let mut fields = fields.clone();
        for f in Field::ALL {
            let v = normalise(f, fields.get(f));
            *fields.get_mut(f) = v;
        }
        fields.validate(today)?;
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema", PATIENT_SCHEMA)?;
        doc.put(ROOT, "id", id)?;
        doc.put(ROOT, "created_at", now_secs)?;
        let contact = doc.put_object(ROOT, "contact", ObjType::Map)?;
        let notes = doc.put_object(ROOT, Field::Notes.key(), ObjType::Text)?;
        for f in Field::ALL {
            let v = fields.get(f);
            match f {
                Field::Notes => doc.update_text(&notes, v)?,
                f if f.in_contact() => doc.put(&contact, f.key(), v)?,
                f => doc.put(ROOT, f.key(), v)?,
            }
        }
        doc.commit_with(CommitOptions::default().with_time(now_secs));
        Ok(Self { doc })
    }

    /// Load saved bytes; `actor` is this device, for the changes it will make.
    ///
    /// Automerge can panic on hostile input; the panic is caught and reported as malformed.
    pub fn load(bytes: &[u8], actor: &[u8]) -> Result<Self> {
        let loaded = catch_unwind(AssertUnwindSafe(|| AutoCommit::load(bytes)))
            .map_err(|_| RecordError::Malformed("the document is corrupt".into()))?
            .map_err(|e| RecordError::Malformed(e.to_string()))?;
        let doc = loaded.with_actor(ActorId::from(actor));
        let this = Self { doc };
        match this.get_str(&ROOT, "schema", None)?.as_deref() {
            Some(PATIENT_SCHEMA) => Ok(this),
            other => Err(RecordError::Malformed(format!(
                "not a patient record (schema {other:?})"
            ))),
        }
    }

    /// The document's bytes, for sealing.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The record id stored in the document.
    pub fn id(&self) -> Result<String> {
        self.get_str(&ROOT, "id", None)?
            .ok_or_else(|| RecordError::Malformed("no id".into()))
    }

    /// When the record was created, Unix seconds.
    pub fn created_at(&self) -> Result<i64> {
        match self.doc.get(ROOT, "created_at")? {
            Some((v, _)) => v
                .as_i64()
                .ok_or_else(|| RecordError::Malformed("created_at is not a number".into())),
            None => Err(RecordError::Malformed("no created_at".into())),
        }
    }

    /// When the record last changed (the newest change's time), Unix seconds.
    pub fn updated_at(&mut self) -> Result<i64> {
        let heads = self.doc.get_heads();
        let mut newest = self.created_at()?;
        for h in heads {
            if let Some(c) = self.doc.get_change_by_hash(&h) {
                newest = newest.max(c.timestamp());
            }
        }
        Ok(newest)
    }

    /// The current values.
    pub fn fields(&self) -> Result<PatientFields> {
        self.fields_at(None)
    }

    fn contact(&self, heads: Option<&[ChangeHash]>) -> Result<Option<ObjId>> {
        let got = match heads {
            Some(h) => self.doc.get_at(ROOT, "contact", h)?,
            None => self.doc.get(ROOT, "contact")?,
        };
        Ok(got.map(|(_, id)| id))
    }

    fn get_str(
        &self,
        obj: &ObjId,
        key: &str,
        heads: Option<&[ChangeHash]>,
    ) -> Result<Option<String>> {
        let got = match heads {
            Some(h) => self.doc.get_at(obj, key, h)?,
            None => self.doc.get(obj, key)?,
        };
        Ok(got.and_then(|(v, _)| v.as_str().map(str::to_string)))
    }

    fn fields_at(&self, heads: Option<&[ChangeHash]>) -> Result<PatientFields> {
        let mut out = PatientFields::default();
        let contact = self.contact(heads)?;
        for f in Field::ALL {
            let v = match f {
                Field::Notes => {
                    let notes = match heads {
                        Some(h) => self.doc.get_at(ROOT, f.key(), h)?,
                        None => self.doc.get(ROOT, f.key())?,
                    };
                    match (notes, heads) {
                        (Some((_, id)), Some(h)) => self.doc.text_at(&id, h)?,
                        (Some((_, id)), None) => self.doc.text(&id)?,
                        (None, _) => String::new(),
                    }
                }
                f if f.in_contact() => match &contact {
                    Some(c) => self.get_str(c, f.key(), heads)?.unwrap_or_default(),
                    None => String::new(),
                },
                f => self.get_str(&ROOT, f.key(), heads)?.unwrap_or_default(),
            };
            *out.get_mut(f) = v;
        }
        Ok(out)
    }

    /// Apply changes to fields; fields whose value is unchanged are skipped. Returns the fields
    /// that changed (none: nothing is committed).
    pub fn edit(&mut self, changes: &[(Field, String)], now_secs: i64) -> Result<Vec<Field>> {
        let today = today_from(now_secs);
        let current = self.fields()?;
        let mut changed = Vec::new();
        for (f, v) in changes {
            let v = normalise(*f, v);
            validate_field(*f, &v, today)?;
            if current.get(*f) != v && !changed.contains(f) {
                changed.push(*f);
            }
        }
        if changed.is_empty() {
            return Ok(changed);
        }
        let contact = match self.contact(None)? {
            Some(c) => c,
            None => self.doc.put_object(ROOT, "contact", ObjType::Map)?,
        };
        for (f, v) in changes {
            if !changed.contains(f) {
                continue;
            }
            let v = normalise(*f, v);
            match f {
                Field::Notes => {
                    let notes = match self.doc.get(ROOT, f.key())? {
                        Some((_, id)) => id,
                        None => self.doc.put_object(ROOT, f.key(), ObjType::Text)?,
                    };
                    self.doc.update_text(&notes, &v)?;
                }
                f if f.in_contact() => self.doc.put(&contact, f.key(), v)?,
                f => self.doc.put(ROOT, f.key(), v)?,
            }
        }
        changed.sort();
        self.doc
            .commit_with(CommitOptions::default().with_time(now_secs));
        Ok(changed)
    }

    /// Every change, oldest first, with the fields it set (computed by comparing the document
    /// before and after it).
    pub fn history(&mut self) -> Result<Vec<HistoryItem>> {
        let changes = self.doc.get_changes(&[]);
        let mut out = Vec::with_capacity(changes.len());
        for c in changes {
            let created = c.deps().is_empty();
            let before = if created {
                PatientFields::default()
            } else {
                self.fields_at(Some(c.deps()))?
            };
            let after = self.fields_at(Some(&[c.hash()]))?;
            let fields = Field::ALL
                .into_iter()
                .filter(|f| before.get(*f) != after.get(*f))
                .collect();
            out.push(HistoryItem {
                hash: c.hash().to_string(),
                actor: c.actor_id().to_hex_string(),
                time: c.timestamp(),
                fields,
                created,
            });
        }
        Ok(out)
    }

    /// Merge another copy of this record (e.g. edited on another device).
    pub fn merge(&mut self, other: &mut PatientDoc) -> Result<()> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }
}

fn today_from(now_secs: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(now_secs)
        .map(|t| t.date())
        .unwrap_or(time::Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_750_000_000;

    fn ada() -> PatientFields {
        PatientFields {
            name: "Ada Lovelace".into(),
            date_of_birth: "1915-12-10".into(),
            pronouns: "she/her".into(),
            phone: "+44 20 7946 0000".into(),
            email: "ada@example.org".into(),
            address: "12 St James's Square, London".into(),
            notes: "Prefers morning sessions.".into(),
        }
    }

    #[test]
    fn create_save_load_round_trip() {
        let mut d = PatientDoc::create("p1", &[7; 16], &ada(), T0).unwrap();
        let back = PatientDoc::load(&d.save(), &[7; 16]).unwrap();
        assert_eq!(back.fields().unwrap(), ada());
        assert_eq!(back.id().unwrap(), "p1");
        assert_eq!(back.created_at().unwrap(), T0);
    }

    #[test]
    fn edit_reports_only_changed_fields_and_history_derives_them() {
        let mut d = PatientDoc::create("p1", &[7; 16], &ada(), T0).unwrap();
        let changed = d
            .edit(
                &[
                    (Field::Name, "Ada Lovelace".into()),
                    (Field::Phone, "+44 1".into()),
                    (Field::Notes, "Prefers evening sessions.".into()),
                ],
                T0 + 60,
            )
            .unwrap();
        assert_eq!(changed, vec![Field::Phone, Field::Notes]);
        assert!(d
            .edit(&[(Field::Phone, "+44 1".into())], T0 + 120)
            .unwrap()
            .is_empty());
        let h = d.history().unwrap();
        assert_eq!(h.len(), 2);
        assert!(h[0].created);
        assert_eq!(h[1].fields, vec![Field::Phone, Field::Notes]);
        assert_eq!(h[1].time, T0 + 60);
        assert_eq!(h[1].actor, hex::encode([7u8; 16]));
        assert_eq!(d.updated_at().unwrap(), T0 + 60);
    }

    #[test]
    fn invalid_input_names_the_field() {
        let mut f = ada();
        f.name = "  ".into();
        let e = PatientDoc::create("p", &[1; 16], &f, T0).unwrap_err();
        assert_eq!(e.to_string(), "name: is required");
        f = ada();
        f.date_of_birth = "10/12/1915".into();
        let e = PatientDoc::create("p", &[1; 16], &f, T0).unwrap_err();
        assert!(e.to_string().starts_with("date of birth:"), "{e}");
        f.date_of_birth = "2999-01-01".into();
        assert!(PatientDoc::create("p", &[1; 16], &f, T0)
            .unwrap_err()
            .to_string()
            .contains("future"));
        f = ada();
        f.email = "nope".into();
        assert!(PatientDoc::create("p", &[1; 16], &f, T0)
            .unwrap_err()
            .to_string()
            .starts_with("email:"));
        let mut d = PatientDoc::create("p", &[1; 16], &ada(), T0).unwrap();
        assert!(d.edit(&[(Field::Pronouns, "x".repeat(61))], T0).is_err());
        assert_eq!(d.fields().unwrap(), ada(), "a refused edit changes nothing");
    }

    #[test]
    fn concurrent_edits_on_two_devices_merge() {
        let mut a = PatientDoc::create("p", &[1; 16], &ada(), T0).unwrap();
        let mut b = PatientDoc::load(&a.save(), &[2; 16]).unwrap();
        a.edit(
            &[
                (Field::Phone, "111".into()),
                (Field::Notes, "Prefers morning sessions. Likes tea.".into()),
            ],
            T0 + 1,
        )
        .unwrap();
        b.edit(
            &[
                (Field::Pronouns, "they/them".into()),
                (Field::Notes, "NB: Prefers morning sessions.".into()),
            ],
            T0 + 2,
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let fa = a.fields().unwrap();
        assert_eq!(fa, b.fields().unwrap());
        assert_eq!(fa.phone, "111");
        assert_eq!(fa.pronouns, "they/them");
        assert_eq!(fa.notes, "NB: Prefers morning sessions. Likes tea.");
    }

    #[test]
    fn garbage_and_other_documents_are_malformed_not_panics() {
        assert!(matches!(
            PatientDoc::load(b"not automerge", &[1; 16]),
            Err(RecordError::Malformed(_))
        ));
        let mut other = AutoCommit::new();
        other.put(ROOT, "schema", "something-else").unwrap();
        assert!(matches!(
            PatientDoc::load(&other.save(), &[1; 16]),
            Err(RecordError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn any_valid_fields_round_trip(name in "[A-Za-z][A-Za-z .'-]{0,40}", notes in "\\PC{0,200}", pronouns in "[a-z/]{0,20}") {
            let f = PatientFields { name: name.trim().to_string(), notes, pronouns, ..Default::default() };
            prop_assume!(!f.name.is_empty());
            let mut d = PatientDoc::create("p", &[3; 16], &f, T0).unwrap();
            let back = PatientDoc::load(&d.save(), &[3; 16]).unwrap();
            prop_assert_eq!(back.fields().unwrap(), f);
        }

        #[test]
        fn mutated_bytes_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let mut d = PatientDoc::create("p", &[3; 16], &ada(), T0).unwrap();
            let mut bytes = d.save();
            for (i, b) in flips {
                let at = i.index(bytes.len());
                bytes[at] ^= b | 1;
            }
            // Either it loads (and reads) or it is reported malformed; never a panic.
            if let Ok(doc) = PatientDoc::load(&bytes, &[3; 16]) {
                let _ = doc.fields();
            }
        }
    }
}
