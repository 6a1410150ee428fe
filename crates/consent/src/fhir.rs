//! Import and export as FHIR R4 Consent JSON.
//!
//! The provisions are written under a root provision `{"type": "deny"}` with no constraints:
//! the FHIR opt-in pattern ("nothing is permitted except"). On import, a root of that shape
//! gives back its nested provisions; any other root becomes the single top-level provision.
//! Unknown fields inside provisions, unknown code systems and unknown codes are refused, with
//! the JSON path of the offending value.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::Date;

use crate::model::{
    Action, Actor, Attestation, Category, Contract, ContractId, DocumentId, MemberId,
    OrganizationId, PatientId, Period, Provision, ProvisionType, Purpose, Role, Status,
};
use crate::ContractHash;

/// Code system of [`Action`] codes.
pub const ACTION_SYSTEM: &str = "urn:hearth:fhir:consent-action";
/// Code system of [`Category`] codes (`Consent.provision.class`).
pub const CATEGORY_SYSTEM: &str = "urn:hearth:fhir:record-category";
/// Code system of [`Role`] codes (`Consent.provision.actor.role`).
pub const ROLE_SYSTEM: &str = "urn:hearth:fhir:actor-role";
/// Code system of purposes with no HL7 code (`ai-analysis`).
pub const PURPOSE_SYSTEM: &str = "urn:hearth:fhir:purpose";
/// HL7 v3 ActReason, used for the other purposes.
pub const ACT_REASON_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
/// HL7 v3 ParticipationType: `IRCP` (information recipient) for actors named by reference.
pub const PARTICIPATION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// Consent scope system (`patient-privacy`).
pub const SCOPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// LOINC: category `59284-0` (Patient Consent).
pub const LOINC_SYSTEM: &str = "http://loinc.org";
/// Extension carrying the previous version's hash (lowercase hex SHA-256).
pub const PREVIOUS_EXTENSION: &str = "urn:hearth:fhir:consent-previous-version-sha256";

/// A FHIR Consent that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FhirError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("malformed FHIR Consent at {path}: {message}")]
    Malformed {
        /// JSON path of the offending value (`.` for the document).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A value Hearth does not accept (unknown code, bad date, bad reference).
    #[error("invalid FHIR Consent at {path}: {message}")]
    Invalid {
        /// JSON path of the offending value.
        path: String,
        /// What was wrong and what is expected.
        message: String,
    },
    /// Writing JSON failed (not expected for these types).
    #[error("could not write FHIR Consent JSON: {0}")]
    Encode(String),
}

impl FhirError {
    /// The JSON path the error is about, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            FhirError::Malformed { path, .. } | FhirError::Invalid { path, .. } => Some(path),
            FhirError::Encode(_) => None,
        }
    }
}

fn invalid(path: &str, message: impl Into<String>) -> FhirError {
    FhirError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct FhirConsent {
    resource_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
    /// Narrative, accepted and ignored (never exported: the summary is generated).
    #[serde(rename = "text", default, skip_serializing)]
    _text: Option<serde::de::IgnoredAny>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
    status: String,
    scope: CodeableConcept,
    category: Vec<CodeableConcept>,
    patient: Reference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_reference: Option<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    verification: Vec<Verification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provision: Option<FhirProvision>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Extension {
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_string: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Coding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CodeableConcept {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    coding: Vec<Coding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Reference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Verification {
    verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verified_with: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verification_date: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FhirPeriod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FhirActor {
    role: CodeableConcept,
    reference: Reference,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FhirProvision {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<FhirPeriod>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    actor: Vec<FhirActor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    action: Vec<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    purpose: Vec<Coding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    class: Vec<Coding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_period: Option<FhirPeriod>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    provision: Vec<FhirProvision>,
}

impl FhirProvision {
    fn is_unconstrained_deny(&self) -> bool {
        self.kind.as_deref() == Some("deny")
            && self.period.is_none()
            && self.actor.is_empty()
            && self.action.is_empty()
            && self.purpose.is_empty()
            && self.class.is_empty()
            && self.data_period.is_none()
    }
}

fn coding(system: &str, code: &str) -> Coding {
    Coding {
        system: Some(system.to_owned()),
        code: Some(code.to_owned()),
        display: None,
    }
}

fn concept(system: &str, code: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![coding(system, code)],
        text: None,
    }
}

fn reference(r: String) -> Reference {
    Reference {
        reference: Some(r),
        display: None,
    }
}

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Formats a date as FHIR does (`YYYY-MM-DD`).
pub fn format_date(date: Date) -> String {
    date.format(DATE_FORMAT)
        .unwrap_or_else(|_| format!("{}", date))
}

fn parse_date(value: &str, path: &str) -> Result<Date, FhirError> {
    if value.len() != 10 {
        return Err(invalid(
            path,
            format!("expected a date YYYY-MM-DD, found {value:?}"),
        ));
    }
    Date::parse(value, DATE_FORMAT).map_err(|e| {
        invalid(
            path,
            format!("expected a date YYYY-MM-DD, found {value:?} ({e})"),
        )
    })
}

/// Purpose → (system, code) in FHIR.
pub fn purpose_coding(purpose: Purpose) -> (&'static str, &'static str) {
    match purpose {
        Purpose::Treatment => (ACT_REASON_SYSTEM, "TREAT"),
        Purpose::Payment => (ACT_REASON_SYSTEM, "HPAYMT"),
        Purpose::Operations => (ACT_REASON_SYSTEM, "HOPERAT"),
        Purpose::Research => (ACT_REASON_SYSTEM, "HRESCH"),
        Purpose::Emergency => (ACT_REASON_SYSTEM, "ETREAT"),
        Purpose::AiAnalysis => (PURPOSE_SYSTEM, "ai-analysis"),
    }
}

fn purpose_from(system: &str, code: &str) -> Option<Purpose> {
    Purpose::ALL
        .iter()
        .copied()
        .find(|p| purpose_coding(*p) == (system, code))
}

// ---------------------------------------------------------------------------------------------
// Export

/// The contract as a FHIR R4 Consent resource (a JSON value).
pub fn to_fhir_value(contract: &Contract) -> Result<serde_json::Value, FhirError> {
    serde_json::to_value(to_fhir(contract)).map_err(|e| FhirError::Encode(e.to_string()))
}

/// The contract as FHIR R4 Consent JSON (pretty-printed).
pub fn to_fhir_json(contract: &Contract) -> Result<String, FhirError> {
    serde_json::to_string_pretty(&to_fhir(contract)).map_err(|e| FhirError::Encode(e.to_string()))
}

pub(crate) fn to_fhir(c: &Contract) -> FhirConsent {
    let mut verification = Vec::new();
    let mut source_reference = None;
    if let Some(a) = &c.attestation {
        verification.push(Verification {
            verified: true,
            verified_with: Some(reference(format!("Practitioner/{}", a.by))),
            verification_date: Some(format_date(a.date)),
        });
        source_reference = a
            .scan
            .as_ref()
            .map(|d| reference(format!("DocumentReference/{d}")));
    }
    FhirConsent {
        resource_type: "Consent".to_owned(),
        id: Some(c.id.to_string()),
        meta: Some(Meta {
            version_id: Some(c.version.to_string()),
        }),
        _text: None,
        extension: c
            .previous
            .iter()
            .map(|h| Extension {
                url: PREVIOUS_EXTENSION.to_owned(),
                value_string: Some(h.to_hex()),
            })
            .collect(),
        status: c.status.code().to_owned(),
        scope: concept(SCOPE_SYSTEM, "patient-privacy"),
        category: vec![concept(LOINC_SYSTEM, "59284-0")],
        patient: reference(format!("Patient/{}", c.patient)),
        date_time: Some(format_date(c.date)),
        source_reference,
        verification,
        provision: Some(FhirProvision {
            kind: Some("deny".to_owned()),
            period: None,
            actor: Vec::new(),
            action: Vec::new(),
            purpose: Vec::new(),
            class: Vec::new(),
            data_period: None,
            provision: c
                .provisions
                .iter()
                .map(|p| provision_to_fhir(p, &c.patient))
                .collect(),
        }),
    }
}

fn period_to_fhir(p: &Period) -> FhirPeriod {
    FhirPeriod {
        start: p.start.map(format_date),
        end: p.end.map(format_date),
    }
}

fn provision_to_fhir(p: &Provision, patient: &PatientId) -> FhirProvision {
    FhirProvision {
        kind: Some(p.kind.code().to_owned()),
        period: p.period.as_ref().map(period_to_fhir),
        actor: p
            .actors
            .iter()
            .map(|a| match a {
                Actor::Member(m) => FhirActor {
                    role: concept(PARTICIPATION_SYSTEM, "IRCP"),
                    reference: reference(format!("Practitioner/{m}")),
                },
                Actor::Organization(o) => FhirActor {
                    role: concept(PARTICIPATION_SYSTEM, "IRCP"),
                    reference: reference(format!("Organization/{o}")),
                },
                Actor::PatientDevice => FhirActor {
                    role: concept(PARTICIPATION_SYSTEM, "IRCP"),
                    reference: reference(format!("Patient/{patient}")),
                },
                Actor::Role(r) => FhirActor {
                    role: concept(ROLE_SYSTEM, r.code()),
                    reference: Reference {
                        reference: None,
                        display: Some(format!("any {r}")),
                    },
                },
            })
            .collect(),
        action: p
            .actions
            .iter()
            .map(|a| concept(ACTION_SYSTEM, a.code()))
            .collect(),
        purpose: p
            .purposes
            .iter()
            .map(|x| {
                let (s, c) = purpose_coding(*x);
                coding(s, c)
            })
            .collect(),
        class: p
            .categories
            .iter()
            .map(|c| coding(CATEGORY_SYSTEM, c.code()))
            .collect(),
        data_period: p.data_period.as_ref().map(period_to_fhir),
        provision: p
            .exceptions
            .iter()
            .map(|e| provision_to_fhir(e, patient))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Import

/// Parses FHIR R4 Consent JSON. Never panics; errors name the JSON path.
pub fn from_fhir_json(json: &str) -> Result<Contract, FhirError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed: FhirConsent = serde_path_to_error::deserialize(&mut de).map_err(malformed)?;
    de.end().map_err(|e| FhirError::Malformed {
        path: ".".to_owned(),
        message: e.to_string(),
    })?;
    from_fhir(parsed)
}

/// Parses a FHIR R4 Consent already read as a JSON value.
pub fn from_fhir_value(value: &serde_json::Value) -> Result<Contract, FhirError> {
    let parsed: FhirConsent = serde_path_to_error::deserialize(value).map_err(malformed)?;
    from_fhir(parsed)
}

fn malformed(e: serde_path_to_error::Error<serde_json::Error>) -> FhirError {
    FhirError::Malformed {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    }
}

fn parse_id<T, E: std::fmt::Display>(r: Result<T, E>, path: &str) -> Result<T, FhirError> {
    r.map_err(|e| invalid(path, e.to_string()))
}

fn one_coding<'a>(cc: &'a CodeableConcept, path: &str) -> Result<(&'a str, &'a str), FhirError> {
    match cc.coding.as_slice() {
        [c] => coding_parts(c, &format!("{path}.coding[0]")),
        _ => Err(invalid(
            &format!("{path}.coding"),
            format!("expected exactly one coding, found {}", cc.coding.len()),
        )),
    }
}

fn coding_parts<'a>(c: &'a Coding, path: &str) -> Result<(&'a str, &'a str), FhirError> {
    let system = c
        .system
        .as_deref()
        .ok_or_else(|| invalid(&format!("{path}.system"), "missing code system"))?;
    let code = c
        .code
        .as_deref()
        .ok_or_else(|| invalid(&format!("{path}.code"), "missing code"))?;
    Ok((system, code))
}

fn expect_system(system: &str, expected: &str, path: &str) -> Result<(), FhirError> {
    if system == expected {
        Ok(())
    } else {
        Err(invalid(
            &format!("{path}.system"),
            format!("unknown code system {system:?}, expected {expected:?}"),
        ))
    }
}

fn strip<'a>(reference: &'a str, prefix: &str) -> Option<&'a str> {
    reference.strip_prefix(prefix)
}

fn from_fhir(f: FhirConsent) -> Result<Contract, FhirError> {
    if f.resource_type != "Consent" {
        return Err(invalid(
            "resourceType",
            format!("expected \"Consent\", found {:?}", f.resource_type),
        ));
    }
    let id =
        f.id.as_deref()
            .ok_or_else(|| invalid("id", "missing contract id"))?;
    let id = parse_id(ContractId::new(id), "id")?;
    let version = match f.meta.as_ref().and_then(|m| m.version_id.as_deref()) {
        None => 1,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(invalid(
                    "meta.versionId",
                    format!("expected a version number from 1, found {v:?}"),
                ))
            }
        },
    };
    let mut previous = None;
    for (i, ext) in f.extension.iter().enumerate() {
        let path = format!("extension[{i}]");
        if ext.url != PREVIOUS_EXTENSION {
            return Err(invalid(
                &format!("{path}.url"),
                format!("unknown extension {:?}", ext.url),
            ));
        }
        let value = ext
            .value_string
            .as_deref()
            .ok_or_else(|| invalid(&format!("{path}.valueString"), "missing hash"))?;
        let hash = ContractHash::from_hex(value).ok_or_else(|| {
            invalid(
                &format!("{path}.valueString"),
                "expected 64 lowercase hex digits (SHA-256)",
            )
        })?;
        if previous.replace(hash).is_some() {
            return Err(invalid(&path, "more than one previous-version hash"));
        }
    }
    if (version == 1) != previous.is_none() {
        return Err(invalid(
            "extension",
            "version 1 has no previous-version hash and every later version has one",
        ));
    }
    let status = Status::from_code(&f.status).ok_or_else(|| {
        invalid(
            "status",
            format!(
                "unknown status {:?}, expected one of {}",
                f.status,
                Status::expected()
            ),
        )
    })?;
    let (system, code) = one_coding(&f.scope, "scope")?;
    if (system, code) != (SCOPE_SYSTEM, "patient-privacy") {
        return Err(invalid(
            "scope",
            format!("only patient-privacy consents are supported, found {system} {code}"),
        ));
    }
    if f.category.is_empty() {
        return Err(invalid("category", "missing category"));
    }
    for (i, c) in f.category.iter().enumerate() {
        let path = format!("category[{i}]");
        let (system, code) = one_coding(c, &path)?;
        if (system, code) != (LOINC_SYSTEM, "59284-0") {
            return Err(invalid(
                &path,
                format!("expected LOINC 59284-0 (Patient Consent), found {system} {code}"),
            ));
        }
    }
    let patient_ref = f
        .patient
        .reference
        .as_deref()
        .ok_or_else(|| invalid("patient.reference", "missing patient reference"))?;
    let patient = strip(patient_ref, "Patient/").ok_or_else(|| {
        invalid(
            "patient.reference",
            format!("expected \"Patient/<id>\", found {patient_ref:?}"),
        )
    })?;
    let patient = parse_id(PatientId::new(patient), "patient.reference")?;
    let date = f
        .date_time
        .as_deref()
        .ok_or_else(|| invalid("dateTime", "missing date"))?;
    let date = parse_date(date, "dateTime")?;

    let attestation = match f.verification.as_slice() {
        [] => {
            if f.source_reference.is_some() {
                return Err(invalid(
                    "sourceReference",
                    "a scan is only recorded with an attestation (verification)",
                ));
            }
            None
        }
        [v] => {
            if !v.verified {
                return Err(invalid(
                    "verification[0].verified",
                    "an attestation must be verified: true",
                ));
            }
            let by = v
                .verified_with
                .as_ref()
                .and_then(|r| r.reference.as_deref())
                .ok_or_else(|| {
                    invalid(
                        "verification[0].verifiedWith.reference",
                        "missing the attesting member",
                    )
                })?;
            let by = strip(by, "Practitioner/").ok_or_else(|| {
                invalid(
                    "verification[0].verifiedWith.reference",
                    format!("expected \"Practitioner/<id>\", found {by:?}"),
                )
            })?;
            let by = parse_id(MemberId::new(by), "verification[0].verifiedWith.reference")?;
            let when = v.verification_date.as_deref().ok_or_else(|| {
                invalid(
                    "verification[0].verificationDate",
                    "missing attestation date",
                )
            })?;
            let when = parse_date(when, "verification[0].verificationDate")?;
            let scan = match &f.source_reference {
                None => None,
                Some(r) => {
                    let s = r.reference.as_deref().ok_or_else(|| {
                        invalid("sourceReference.reference", "missing scan reference")
                    })?;
                    let s = strip(s, "DocumentReference/").ok_or_else(|| {
                        invalid(
                            "sourceReference.reference",
                            format!("expected \"DocumentReference/<id>\", found {s:?}"),
                        )
                    })?;
                    Some(parse_id(DocumentId::new(s), "sourceReference.reference")?)
                }
            };
            Some(Attestation {
                by,
                date: when,
                scan,
            })
        }
        _ => return Err(invalid("verification", "at most one attestation")),
    };

    let provisions = match &f.provision {
        None => Vec::new(),
        Some(root) if root.is_unconstrained_deny() => root
            .provision
            .iter()
            .enumerate()
            .map(|(i, p)| provision_from(p, &format!("provision.provision[{i}]"), &patient))
            .collect::<Result<_, _>>()?,
        Some(root) => vec![provision_from(root, "provision", &patient)?],
    };

    Ok(Contract {
        id,
        version,
        previous,
        status,
        patient,
        date,
        attestation,
        provisions,
    })
}

fn period_from(p: &FhirPeriod, path: &str) -> Result<Period, FhirError> {
    let start = p
        .start
        .as_deref()
        .map(|s| parse_date(s, &format!("{path}.start")))
        .transpose()?;
    let end = p
        .end
        .as_deref()
        .map(|s| parse_date(s, &format!("{path}.end")))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            return Err(invalid(path, "the period ends before it starts"));
        }
    }
    Ok(Period { start, end })
}

fn provision_from(
    p: &FhirProvision,
    path: &str,
    patient: &PatientId,
) -> Result<Provision, FhirError> {
    let kind = p
        .kind
        .as_deref()
        .ok_or_else(|| invalid(&format!("{path}.type"), "missing type (permit or deny)"))?;
    let kind = ProvisionType::from_code(kind).ok_or_else(|| {
        invalid(
            &format!("{path}.type"),
            format!("unknown provision type {kind:?}, expected permit or deny"),
        )
    })?;
    let mut out = Provision::new(kind);
    out.period = p
        .period
        .as_ref()
        .map(|x| period_from(x, &format!("{path}.period")))
        .transpose()?;
    out.data_period = p
        .data_period
        .as_ref()
        .map(|x| period_from(x, &format!("{path}.dataPeriod")))
        .transpose()?;
    for (i, a) in p.actor.iter().enumerate() {
        let apath = format!("{path}.actor[{i}]");
        let (system, code) = one_coding(&a.role, &format!("{apath}.role"))?;
        let actor = if system == ROLE_SYSTEM {
            Actor::Role(Role::from_code(code).ok_or_else(|| {
                invalid(
                    &format!("{apath}.role.coding[0].code"),
                    format!(
                        "unknown role {code:?}, expected one of {}",
                        Role::expected()
                    ),
                )
            })?)
        } else if (system, code) == (PARTICIPATION_SYSTEM, "IRCP") {
            let rpath = format!("{apath}.reference.reference");
            let r = a
                .reference
                .reference
                .as_deref()
                .ok_or_else(|| invalid(&rpath, "missing reference"))?;
            if let Some(m) = strip(r, "Practitioner/") {
                Actor::Member(parse_id(MemberId::new(m), &rpath)?)
            } else if let Some(o) = strip(r, "Organization/") {
                Actor::Organization(parse_id(OrganizationId::new(o), &rpath)?)
            } else if let Some(pt) = strip(r, "Patient/") {
                if pt != patient.as_str() {
                    return Err(invalid(
                        &rpath,
                        format!("an actor Patient/{pt} is not this consent's patient"),
                    ));
                }
                Actor::PatientDevice
            } else {
                return Err(invalid(
                    &rpath,
                    format!(
                        "expected Practitioner/<id>, Organization/<id> or Patient/<id>, found {r:?}"
                    ),
                ));
            }
        } else {
            return Err(invalid(
                &format!("{apath}.role.coding[0]"),
                format!(
                    "unknown actor role {system} {code}: expected {ROLE_SYSTEM} or {PARTICIPATION_SYSTEM} IRCP"
                ),
            ));
        };
        out.actors.push(actor);
    }
    for (i, a) in p.action.iter().enumerate() {
        let apath = format!("{path}.action[{i}]");
        let (system, code) = one_coding(a, &apath)?;
        expect_system(system, ACTION_SYSTEM, &format!("{apath}.coding[0]"))?;
        out.actions.push(Action::from_code(code).ok_or_else(|| {
            invalid(
                &format!("{apath}.coding[0].code"),
                format!(
                    "unknown action {code:?}, expected one of {}",
                    Action::expected()
                ),
            )
        })?);
    }
    for (i, c) in p.purpose.iter().enumerate() {
        let cpath = format!("{path}.purpose[{i}]");
        let (system, code) = coding_parts(c, &cpath)?;
        out.purposes.push(purpose_from(system, code).ok_or_else(|| {
            invalid(
                &cpath,
                format!(
                    "unknown purpose {system} {code}, expected {ACT_REASON_SYSTEM} TREAT, HPAYMT, HOPERAT, HRESCH, ETREAT or {PURPOSE_SYSTEM} ai-analysis"
                ),
            )
        })?);
    }
    for (i, c) in p.class.iter().enumerate() {
        let cpath = format!("{path}.class[{i}]");
        let (system, code) = coding_parts(c, &cpath)?;
        expect_system(system, CATEGORY_SYSTEM, &cpath)?;
        out.categories
            .push(Category::from_code(code).ok_or_else(|| {
                invalid(
                    &format!("{cpath}.code"),
                    format!(
                        "unknown record category {code:?}, expected one of {}",
                        Category::expected()
                    ),
                )
            })?);
    }
    for (i, e) in p.provision.iter().enumerate() {
        out.exceptions.push(provision_from(
            e,
            &format!("{path}.provision[{i}]"),
            patient,
        )?);
    }
    Ok(out)
}
