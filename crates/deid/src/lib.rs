//! De-identification of clinical note text, on the device, with no model and no IO.
//!
//! Rules, gazetteers and context cues find person names, dates, ages over 89, phone and fax
//! numbers, e-mail addresses, street addresses, ZIP codes and towns, record/account/insurance
//! numbers, social security numbers, URLs and IP addresses. Each is replaced by a typed
//! placeholder (`[NAME]`, `[PHONE]`, …), except dates, which are shifted by a per-patient offset
//! keyed by the export's secret (a whole number of weeks, so weekdays stay true) and written
//! back in the form they were found in. The patient's own identifiers (name, date of birth,
//! phone, e-mail, address, record numbers) are passed in and always removed.
//!
//! Name lists are the US Census 1990 first names and surnames (public domain) as shipped by
//! PyPI `names` 0.3.0 (MIT); names that are also common English words ("Will", "Hope", "Grace",
//! "Smith") are taken for names only when capitalised mid-sentence or with a context cue
//! ("Dr.", "her husband …", next to another name). See `data/SOURCES.md` and `EVALUATION.md`.
//!
//! ```
//! use hearth_deid::{Deidentifier, ExportSecret, KnownIdentifiers, PhiKind};
//!
//! let deid = Deidentifier::new(ExportSecret::from_bytes([7; 32])).unwrap();
//! let known = KnownIdentifiers {
//!     names: vec!["Ada Lovelace".into()],
//!     phones: vec!["(555) 201-3344".into()],
//!     ..Default::default()
//! };
//! let patient = deid.patient("patient-1", &known).unwrap();
//! let out = patient.deidentify(
//!     "Ada reports her husband John called Dr. Okafor on 03/14/2024 from 555-201-3344. \
//!      Denies SI. PHQ-9 score 14.",
//! );
//! assert!(!out.text.contains("Ada") && !out.text.contains("John") && !out.text.contains("Okafor"));
//! assert!(out.text.contains("[PHONE]") && out.text.contains("Denies SI. PHQ-9 score 14."));
//! assert!(!out.text.contains("03/14/2024")); // shifted, not removed
//! assert_eq!(out.manifest.count(PhiKind::Date), 1);
//! ```

mod dates;
mod detect;
mod gazetteer;
mod keyed;
mod kind;
pub mod synth;

pub use keyed::ExportSecret;
pub use kind::{Manifest, PhiKind};
pub use time::Date;

use detect::{resolve, Known, Patterns};

/// Why a de-identifier could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeidError {
    /// A built-in or derived pattern failed to compile (a bug: please report it).
    #[error("a de-identification pattern failed to compile: {0}")]
    Pattern(#[from] regex::Error),
}

/// The largest date shift, in weeks, either way (26 weeks ≈ six months).
pub const DEFAULT_MAX_SHIFT_WEEKS: u16 = 26;

/// What is known about the patient (from their record) and must always be removed.
#[derive(Debug, Clone, Default)]
pub struct KnownIdentifiers {
    /// Names: the patient's, their emergency contact's, … (each part is removed).
    pub names: Vec<String>,
    /// Dates of birth (any date equal to one becomes `[DOB]`).
    pub dates_of_birth: Vec<Date>,
    /// Phone numbers (matched by digits, whatever the separators).
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Postal addresses (each comma-separated part is removed).
    pub addresses: Vec<String>,
    /// Other identifiers: record numbers, insurance ids.
    pub other: Vec<String>,
}

/// One span that was removed or shifted, in the original text's byte offsets. Holds no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// Start (byte offset).
    pub start: usize,
    /// End (byte offset, exclusive).
    pub end: usize,
    /// What it was.
    pub kind: PhiKind,
}

/// De-identified text and what was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deidentified {
    /// The text with placeholders and shifted dates.
    pub text: String,
    /// Counts by kind.
    pub manifest: Manifest,
    /// Where each finding was in the input.
    pub findings: Vec<Finding>,
}

/// The de-identifier of one export: compiled patterns and the export's secret.
pub struct Deidentifier {
    patterns: Patterns,
    secret: ExportSecret,
    max_shift_weeks: u16,
}

impl std::fmt::Debug for Deidentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deidentifier")
            .field("max_shift_weeks", &self.max_shift_weeks)
            .finish_non_exhaustive()
    }
}

impl Deidentifier {
    /// A de-identifier keyed by this export's secret.
    pub fn new(secret: ExportSecret) -> Result<Self, DeidError> {
        Ok(Self {
            patterns: Patterns::new()?,
            secret,
            max_shift_weeks: DEFAULT_MAX_SHIFT_WEEKS,
        })
    }

    /// Shift dates by at most this many weeks either way (at least 1).
    pub fn max_shift_weeks(mut self, weeks: u16) -> Self {
        self.max_shift_weeks = weeks.max(1);
        self
    }

    /// The export's secret (for pseudonyms).
    pub fn secret(&self) -> &ExportSecret {
        &self.secret
    }

    /// Ready to de-identify one patient's text: their date offset and known identifiers.
    pub fn patient(
        &self,
        patient_id: &str,
        known: &KnownIdentifiers,
    ) -> Result<PatientDeidentifier<'_>, DeidError> {
        Ok(PatientDeidentifier {
            patterns: &self.patterns,
            known: Known::new(known)?,
            shift_days: self
                .secret
                .date_offset_days(patient_id, self.max_shift_weeks),
        })
    }
}

/// De-identifies one patient's text.
pub struct PatientDeidentifier<'a> {
    patterns: &'a Patterns,
    known: Known,
    shift_days: i64,
}

impl std::fmt::Debug for PatientDeidentifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientDeidentifier(..)")
    }
}

impl PatientDeidentifier<'_> {
    /// Shift one date (a structured field such as an assessment's date) by this patient's
    /// offset; a date of birth becomes `None`.
    pub fn shift_date(&self, date: Date) -> Option<Date> {
        if self.known.dobs.contains(&date) {
            return None;
        }
        date.checked_add(time::Duration::days(self.shift_days))
    }

    /// The spans that would be removed or shifted.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        self.resolved(text)
            .iter()
            .map(|c| Finding {
                start: c.start,
                end: c.end,
                kind: c.kind,
            })
            .collect()
    }

    fn resolved(&self, text: &str) -> Vec<detect::Candidate> {
        resolve(
            text,
            self.patterns.candidates(text, &self.known, self.shift_days),
        )
    }

    /// The text with every finding replaced, and what was removed.
    pub fn deidentify(&self, text: &str) -> Deidentified {
        let found = self.resolved(text);
        let mut out = String::with_capacity(text.len());
        let mut manifest = Manifest::new();
        let mut findings = Vec::with_capacity(found.len());
        let mut at = 0;
        for c in &found {
            out.push_str(&text[at..c.start]);
            match &c.replacement {
                Some(r) => out.push_str(r),
                None => out.push_str(c.kind.placeholder()),
            }
            at = c.end;
            manifest.add(c.kind);
            findings.push(Finding {
                start: c.start,
                end: c.end,
                kind: c.kind,
            });
        }
        out.push_str(&text[at..]);
        Deidentified {
            text: out,
            manifest,
            findings,
        }
    }
}
