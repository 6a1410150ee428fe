//! The research export: patients' signed notes and measures, de-identified (`hearth-deid`),
//! as FHIR R4-shaped NDJSON under pseudonymous ids, with a manifest of what was removed by kind
//! and which patients were left out and why.
//!
//! No IO and no consent logic: the caller (hearth-core) asks consent, hands in only what is
//! permitted, lists the patients it skipped with the deciding reason, and logs the export.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hearth_deid::{Deidentifier, KnownIdentifiers, Manifest, PatientDeidentifier};
use hearth_records::envelope::Peek;
use hearth_records::{date_of, Assessment, Instrument, Patient, SessionNote};
use serde::Serialize;
use serde_json::{json, Value};

/// Format tag of the manifest.
pub const RESEARCH_FORMAT: &str = "hearth-research/1";
const LOINC: &str = "http://loinc.org";

/// Why a research export could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResearchError {
    /// The de-identifier could not be prepared for a patient.
    #[error("de-identification could not start: {0}")]
    Deid(#[from] hearth_deid::DeidError),
    /// A resource could not be written as JSON.
    #[error("a resource could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A record category left out for one included patient, with the consent reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Omitted {
    /// The consent category (`assessments`, …).
    pub category: String,
    /// Why (the evaluator's reason).
    pub reason: String,
}

/// One patient whose consent permits the research export of at least their notes or measures.
#[derive(Debug, Clone)]
pub struct ResearchPatient {
    /// The patient record (for the identifiers to remove; nothing of it is exported as is).
    pub patient: Peek<Patient>,
    /// Progress notes (only signed ones are exported; drafts are skipped).
    pub notes: Vec<Peek<SessionNote>>,
    /// Measures.
    pub assessments: Vec<Peek<Assessment>>,
    /// Categories left out, with the reason.
    pub omitted: Vec<Omitted>,
    /// Export the birth year (only when under 90): demographics are permitted.
    pub birth_year: bool,
}

/// A patient left out entirely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The patient's vault id (never written to the export: the manifest uses the pseudonym).
    pub patient_id: String,
    /// Why (the evaluator's reason).
    pub reason: String,
}

/// One included patient in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestPatient {
    /// Pseudonymous id.
    pub id: String,
    /// Signed notes exported.
    pub notes: usize,
    /// Measures exported.
    pub assessments: usize,
    /// Identifiers removed from this patient's text, by kind (dates: shifted).
    pub removed: Manifest,
    /// Categories left out and why.
    pub omitted: Vec<Omitted>,
}

/// A skipped patient in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestSkipped {
    /// Pseudonymous id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// What the export holds and what was removed. Counts and pseudonyms only, never a value.
#[derive(Debug, Clone, Serialize)]
pub struct ResearchManifest {
    /// [`RESEARCH_FORMAT`].
    pub format: &'static str,
    /// Export date (UTC, `YYYY-MM-DD`; not shifted).
    pub created: String,
    /// How the data were de-identified.
    pub method: &'static str,
    /// Included patients.
    pub patients: Vec<ManifestPatient>,
    /// Every identifier removed, by kind.
    pub removed: Manifest,
    /// Patients left out and why.
    pub skipped: Vec<ManifestSkipped>,
    /// Resources in the NDJSON, by type.
    pub resources: BTreeMap<String, usize>,
}

/// A finished research export.
#[derive(Debug, Clone)]
pub struct ResearchExport {
    /// One FHIR R4 resource a line: Patient, DocumentReference, Observation.
    pub ndjson: String,
    /// The manifest.
    pub manifest: ResearchManifest,
}

const METHOD: &str = "Rules, US Census name gazetteers and context cues (hearth-deid); the \
patient's own name, date of birth, phone, e-mail and address always removed; identifiers \
replaced by typed placeholders; dates shifted per patient by a whole number of weeks keyed by a \
per-export secret; ids are HMAC-SHA-256 pseudonyms under that secret; birth year kept only under \
90; drafts, psychotherapy notes, signer names and times of day are not exported.";

/// The identifiers of a patient record that must always be removed.
pub fn known_identifiers(p: &Patient, signers: &[String]) -> KnownIdentifiers {
    let non_empty = |v: &[&str]| -> Vec<String> {
        v.iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut names = non_empty(&[&p.name, &p.emergency_contact.name]);
    // "Jane Roe, LCSW": the name, not the credential after the comma.
    names.extend(
        signers
            .iter()
            .filter_map(|s| s.split(',').next())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    KnownIdentifiers {
        names,
        dates_of_birth: parse_date(&p.date_of_birth).into_iter().collect(),
        phones: non_empty(&[&p.contact.phone, &p.emergency_contact.phone]),
        emails: non_empty(&[&p.contact.email]),
        addresses: non_empty(&[&p.contact.address]),
        other: Vec::new(),
    }
}

fn parse_date(s: &str) -> Option<time::Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &f).ok()
}

fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// De-identify `patients` and write the export.
pub fn research_export(
    deid: &Deidentifier,
    patients: &[ResearchPatient],
    skipped: &[Skipped],
    exported_at: i64,
) -> Result<ResearchExport, ResearchError> {
    let secret = deid.secret();
    let today = date_of(exported_at);
    let mut lines: Vec<String> = Vec::new();
    let mut resources: BTreeMap<String, usize> = BTreeMap::new();
    let mut removed = Manifest::new();
    let mut listed = Vec::new();
    let mut emit = |v: Value, lines: &mut Vec<String>| -> Result<(), ResearchError> {
        let t = v["resourceType"].as_str().unwrap_or("?").to_string();
        *resources.entry(t).or_insert(0) += 1;
        lines.push(serde_json::to_string(&v)?);
        Ok(())
    };
    for rp in patients {
        let pid = rp.patient.id.as_str();
        let pseudo = secret.pseudonym(pid);
        let signers: Vec<String> = rp
            .notes
            .iter()
            .flat_map(|n| {
                n.value
                    .signature
                    .iter()
                    .map(|s| s.signer.clone())
                    .chain(n.value.addenda.iter().map(|a| a.signature.signer.clone()))
            })
            .collect();
        let known = known_identifiers(&rp.patient.value, &signers);
        let p = deid.patient(pid, &known)?;
        let mut mine = Manifest::new();
        let mut patient = json!({
            "resourceType": "Patient",
            "id": pseudo,
            "meta": { "security": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "PSEUDED",
                "display": "pseudonymized"
            }]},
        });
        // Birth year only, and only under 90 (Safe Harbor).
        if let Some(dob) = known.dates_of_birth.first().filter(|_| rp.birth_year) {
            let age = today.year() - dob.year();
            if age < 90 {
                patient["birthDate"] = json!(format!("{:04}", dob.year()));
            }
        }
        emit(patient, &mut lines)?;
        let mut notes = 0;
        let mut sorted: Vec<&Peek<SessionNote>> = rp
            .notes
            .iter()
            .filter(|n| n.value.signature.is_some())
            .collect();
        sorted.sort_by_key(|n| (n.value.signature.as_ref().map(|s| s.signed_at), &n.id));
        for n in sorted {
            emit(note_resource(&p, secret, &pseudo, n, &mut mine), &mut lines)?;
            notes += 1;
        }
        let mut assessments = 0;
        let mut sorted: Vec<&Peek<Assessment>> = rp.assessments.iter().collect();
        sorted.sort_by_key(|a| (a.value.administered_on.clone(), a.id.clone()));
        for a in sorted {
            emit(observation(&p, secret, &pseudo, a, &mut mine), &mut lines)?;
            assessments += 1;
        }
        removed.merge(&mine);
        listed.push(ManifestPatient {
            id: pseudo,
            notes,
            assessments,
            removed: mine,
            omitted: rp.omitted.clone(),
        });
    }
    let mut ndjson = lines.join("\n");
    if !ndjson.is_empty() {
        ndjson.push('\n');
    }
    Ok(ResearchExport {
        ndjson,
        manifest: ResearchManifest {
            format: RESEARCH_FORMAT,
            created: ymd(today),
            method: METHOD,
            patients: listed,
            removed,
            skipped: skipped
                .iter()
                .map(|s| ManifestSkipped {
                    id: secret.pseudonym(&s.patient_id),
                    reason: s.reason.clone(),
                })
                .collect(),
            resources,
        },
    })
}

fn shifted(p: &PatientDeidentifier<'_>, secs: i64, removed: &mut Manifest) -> Option<String> {
    let d = p.shift_date(date_of(secs));
    removed.add(if d.is_some() {
        hearth_deid::PhiKind::Date
    } else {
        hearth_deid::PhiKind::Dob
    });
    d.map(ymd)
}

fn note_resource(
    p: &PatientDeidentifier<'_>,
    secret: &hearth_deid::ExportSecret,
    pseudo: &str,
    n: &Peek<SessionNote>,
    removed: &mut Manifest,
) -> Value {
    let note = &n.value;
    let titles: BTreeMap<&str, &str> = note.template.sections().iter().copied().collect();
    let mut text = String::new();
    for s in &note.sections {
        let body = s.text.as_str();
        if body.trim().is_empty() {
            continue;
        }
        let title = titles.get(s.key.as_str()).copied().unwrap_or("Note");
        let clean = p.deidentify(body);
        removed.merge(&clean.manifest);
        text.push_str(&format!("{title}\n{}\n\n", clean.text));
    }
    for a in &note.addenda {
        let clean = p.deidentify(&a.text);
        removed.merge(&clean.manifest);
        text.push_str(&format!("Addendum\n{}\n\n", clean.text));
    }
    let when = note
        .signature
        .as_ref()
        .and_then(|s| shifted(p, s.signed_at, removed));
    let mut v = json!({
        "resourceType": "DocumentReference",
        "id": secret.record_pseudonym(&n.id),
        "status": "current",
        "docStatus": "final",
        "type": { "coding": [{ "system": LOINC, "code": "11506-3", "display": "Progress note" }] },
        "subject": { "reference": format!("Patient/{pseudo}") },
        "content": [{ "attachment": {
            "contentType": "text/plain; charset=utf-8",
            "data": B64.encode(text.trim_end().as_bytes()),
        }}],
    });
    if let Some(d) = when {
        // FHIR wants an instant: the shifted day at midnight UTC (times of day are dropped).
        v["date"] = json!(format!("{d}T00:00:00Z"));
    }
    v
}

fn observation(
    p: &PatientDeidentifier<'_>,
    secret: &hearth_deid::ExportSecret,
    pseudo: &str,
    a: &Peek<Assessment>,
    removed: &mut Manifest,
) -> Value {
    let x = &a.value;
    let score = x.score();
    let (code, display) = match x.instrument {
        Instrument::Phq9 => (
            "44261-6",
            "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
        ),
        Instrument::Gad7 => (
            "70274-6",
            "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        ),
    };
    let mut v = json!({
        "resourceType": "Observation",
        "id": secret.record_pseudonym(&a.id),
        "status": "final",
        "category": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey"
        }]}],
        "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
        "subject": { "reference": format!("Patient/{pseudo}") },
        "valueQuantity": { "value": score.total, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}" },
        "interpretation": [{ "text": score.band.label() }],
        "component": x.answers.iter().enumerate().map(|(i, ans)| json!({
            "code": { "text": format!("{} item {}", x.instrument.label(), i + 1) },
            "valueInteger": ans,
        })).collect::<Vec<_>>(),
    });
    if let Some(d) = parse_date(&x.administered_on) {
        match p.shift_date(d) {
            Some(s) => {
                removed.add(hearth_deid::PhiKind::Date);
                v["effectiveDateTime"] = json!(ymd(s));
            }
            None => removed.add(hearth_deid::PhiKind::Dob),
        }
    }
    v
}
