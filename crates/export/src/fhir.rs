//! One patient's records as a FHIR R4 (4.0.1) Bundle of type `collection`.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hearth_consent::SignedContract;
use hearth_ledger::{AccessAction, ChangeKind, ConsentAction, Entry};
use hearth_records::envelope::Peek;
use hearth_records::{
    Appointment, AppointmentStatus, Assessment, Attachment, GoalStatus, Instrument, Patient,
    PatientStatus, PsychotherapyNote, SessionNote, TreatmentPlan,
};
use serde_json::{json, Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Identifier system for Hearth record ids.
pub const RECORD_SYSTEM: &str = "urn:hearth:record";
/// Identifier system for Hearth device keys (hex Ed25519 public keys).
pub const DEVICE_SYSTEM: &str = "urn:hearth:device";
/// Identifier system for a signed note's content hash (SHA-256 hex, as signed).
pub const NOTE_HASH_SYSTEM: &str = "urn:hearth:note-content-sha256";
/// Identifier system for an attachment's SHA-256 (hex).
pub const FILE_HASH_SYSTEM: &str = "urn:hearth:file-sha256";
const LOINC: &str = "http://loinc.org";

/// Why a bundle could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FhirError {
    /// A consent contract could not be written as FHIR.
    #[error("consent {id} could not be written as FHIR: {source}")]
    Consent {
        /// The contract id.
        id: String,
        /// What went wrong.
        source: hearth_consent::FhirError,
    },
    /// A record holds a date or time that is not valid.
    #[error("record {record}: {value:?} is not a valid date or time; correct the record and export again")]
    BadDate {
        /// The record id.
        record: String,
        /// The value.
        value: String,
    },
}

/// One decoded ledger entry about this patient's records, with where it sits in which log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// The log's origin line.
    pub origin: String,
    /// The entry's index in that log.
    pub index: u64,
    /// The entry.
    pub entry: Entry,
}

/// Everything exported for one patient. Records come as snapshots ([`Peek`]): id, times,
/// value.
#[derive(Clone, Debug)]
pub struct PatientExport {
    /// The patient.
    pub patient: Peek<Patient>,
    /// Appointments (only attended ones become Encounters).
    pub appointments: Vec<Peek<Appointment>>,
    /// Session (progress) notes (only signed ones are exported).
    pub notes: Vec<Peek<SessionNote>>,
    /// Psychotherapy notes: exported only with [`ExportOptions::include_psychotherapy`].
    pub psychotherapy_notes: Vec<Peek<PsychotherapyNote>>,
    /// PHQ-9 and GAD-7 administrations.
    pub assessments: Vec<Peek<Assessment>>,
    /// The treatment plan.
    pub plan: Option<Peek<TreatmentPlan>>,
    /// Attachments (metadata only).
    pub attachments: Vec<Peek<Attachment>>,
    /// Consent contracts (every version).
    pub consents: Vec<SignedContract>,
    /// Ledger entries about this patient's records.
    pub audit: Vec<AuditRecord>,
}

/// How to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Include psychotherapy notes (off by default; only when explicitly chosen and permitted).
    pub include_psychotherapy: bool,
    /// When the export is made (Unix seconds): the Bundle timestamp and Provenance.recorded.
    pub exported_at: i64,
    /// The exporting device's name.
    pub device_name: String,
    /// The exporting device's Ed25519 public key.
    pub device_key: [u8; 32],
    /// The clinic's UTC offset, for appointment times (stored as local wall-clock times).
    pub utc_offset: time::UtcOffset,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            include_psychotherapy: false,
            exported_at: 0,
            device_name: "hearth".into(),
            device_key: [0; 32],
            utc_offset: time::UtcOffset::UTC,
        }
    }
}

/// A stable `urn:uuid:` for a resource of `kind` made from `key` (SHA-256, RFC 9562 version 8).
fn uuid(kind: &str, key: &str) -> String {
    let d = Sha256::digest(format!("hearth-export/v1\n{kind}\n{key}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

struct Builder {
    entries: Vec<(String, Value)>,
}

impl Builder {
    /// Adds `resource` (its `id` set) and returns its `urn:uuid:` reference.
    fn add(&mut self, kind: &str, key: &str, mut resource: Value) -> String {
        let id = uuid(kind, key);
        if let Some(o) = resource.as_object_mut() {
            o.insert("resourceType".into(), json!(kind));
            o.insert("id".into(), json!(id));
        }
        let url = format!("urn:uuid:{id}");
        self.entries.push((url.clone(), resource));
        url
    }
}

fn instant(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn local_time(
    record: &str,
    t: time::PrimitiveDateTime,
    offset: time::UtcOffset,
) -> Result<String, FhirError> {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    t.assume_offset(offset)
        .format(&fmt)
        .map_err(|_| FhirError::BadDate {
            record: record.into(),
            value: t.to_string(),
        })
}

fn record_identifier(id: &str) -> Value {
    json!([{ "system": RECORD_SYSTEM, "value": id }])
}

fn subject(patient: &str) -> Value {
    json!({ "reference": patient })
}

fn non_empty(o: &mut Map<String, Value>, key: &str, v: &str) {
    if !v.trim().is_empty() {
        o.insert(key.into(), json!(v));
    }
}

/// LOINC codes: (total score, panel, total display).
fn loinc(i: Instrument) -> (&'static str, &'static str, &'static str) {
    match i {
        Instrument::Phq9 => (
            "44261-6",
            "44249-1",
            "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
        ),
        Instrument::Gad7 => (
            "70274-6",
            "69737-5",
            "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        ),
    }
}

/// LOINC answer list LL358-3 (PHQ-9 and GAD-7 items).
const ANSWERS: [(&str, &str); 4] = [
    ("LA6568-5", "Not at all"),
    ("LA6569-3", "Several days"),
    ("LA6570-1", "More than half the days"),
    ("LA6571-9", "Nearly every day"),
];

fn note_text(kind: &str, note: &SessionNote) -> String {
    let titles: BTreeMap<&str, &str> = note.template.sections().iter().copied().collect();
    let mut out = format!("{kind} ({:?})\n", note.template);
    for s in &note.sections {
        let title = titles
            .get(s.key.as_str())
            .copied()
            .unwrap_or(s.key.as_str());
        out.push_str(&format!("\n{title}\n{}\n", s.text.as_str()));
    }
    for a in &note.addenda {
        out.push_str(&format!(
            "\nAddendum signed by {} at {}\n{}\n",
            a.signature.signer,
            instant(a.signature.signed_at),
            a.text
        ));
    }
    out
}

fn note_resource(
    peek_id: &str,
    note: &SessionNote,
    patient: &str,
    encounters: &BTreeMap<String, String>,
    psychotherapy: bool,
) -> Option<Value> {
    let sig = note.signature.as_ref()?;
    let label = if psychotherapy {
        "Psychotherapy note"
    } else {
        "Progress note"
    };
    let text = note_text(label, note);
    let data = text.as_bytes();
    let mut identifier = record_identifier(peek_id);
    if let Some(a) = identifier.as_array_mut() {
        a.push(json!({ "system": NOTE_HASH_SYSTEM, "value": sig.content_hash }));
    }
    let mut r = json!({
        "identifier": identifier,
        "status": "current",
        "docStatus": "final",
        "type": if psychotherapy {
            json!({ "text": "Psychotherapy note" })
        } else {
            json!({ "coding": [{ "system": LOINC, "code": "11506-3", "display": "Progress note" }], "text": "Progress note" })
        },
        "subject": subject(patient),
        "date": instant(sig.signed_at),
        "authenticator": { "display": sig.signer },
        "description": format!("{label}, signed by {}", sig.signer),
        "content": [{
            "attachment": {
                "contentType": "text/plain; charset=utf-8",
                "data": B64.encode(data),
                "hash": B64.encode(Sha1::digest(data)),
                "size": data.len(),
                "title": label,
                "creation": instant(sig.signed_at),
            }
        }],
    });
    if psychotherapy {
        r["securityLabel"] = json!([{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "PSY",
            "display": "psychiatry disorder information sensitivity",
        }]}]);
    }
    if let Some(enc) = encounters.get(&note.appointment_id) {
        r["context"] = json!({ "encounter": [{ "reference": enc }] });
    }
    Some(r)
}

fn goal_status(s: GoalStatus) -> (&'static str, &'static str) {
    // (Goal.lifecycleStatus, CarePlan.activity.detail.status)
    match s {
        GoalStatus::NotStarted => ("accepted", "not-started"),
        GoalStatus::InProgress => ("active", "in-progress"),
        GoalStatus::Met => ("completed", "completed"),
        GoalStatus::Discontinued => ("cancelled", "stopped"),
    }
}

fn check_date(record: &str, v: &str) -> Result<(), FhirError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v, &fmt)
        .map(|_| ())
        .map_err(|_| FhirError::BadDate {
            record: record.into(),
            value: v.into(),
        })
}

/// Builds the FHIR R4 Bundle (type `collection`) of one patient. Deterministic: the same
/// input gives the same bytes (ids are `urn:uuid:`s derived from record ids, entries in a fixed
/// order). Drafts are left out; psychotherapy notes only with
/// [`ExportOptions::include_psychotherapy`].
pub fn bundle(x: &PatientExport, opts: &ExportOptions) -> Result<Value, FhirError> {
    let mut b = Builder {
        entries: Vec::new(),
    };
    let pid = x.patient.id.as_str();
    let p = &x.patient.value;

    // Device (the exporter).
    let device_hex = hex::encode(opts.device_key);
    let device = b.add(
        "Device",
        &device_hex,
        json!({
            "identifier": [{ "system": DEVICE_SYSTEM, "value": device_hex }],
            "deviceName": [{ "name": opts.device_name, "type": "user-friendly-name" }],
        }),
    );

    // Patient.
    let mut pr = Map::new();
    pr.insert("identifier".into(), record_identifier(pid));
    pr.insert("active".into(), json!(p.status == PatientStatus::Active));
    pr.insert("name".into(), json!([{ "text": p.name }]));
    let mut telecom = Vec::new();
    if !p.contact.phone.trim().is_empty() {
        telecom.push(json!({ "system": "phone", "value": p.contact.phone }));
    }
    if !p.contact.email.trim().is_empty() {
        telecom.push(json!({ "system": "email", "value": p.contact.email }));
    }
    if !telecom.is_empty() {
        pr.insert("telecom".into(), json!(telecom));
    }
    if !p.date_of_birth.is_empty() {
        check_date(pid, &p.date_of_birth)?;
        pr.insert("birthDate".into(), json!(p.date_of_birth));
    }
    if !p.contact.address.trim().is_empty() {
        pr.insert("address".into(), json!([{ "text": p.contact.address }]));
    }
    let ec = &p.emergency_contact;
    if !ec.name.trim().is_empty() {
        let mut c = Map::new();
        c.insert("name".into(), json!({ "text": ec.name }));
        if !ec.relationship.trim().is_empty() {
            c.insert("relationship".into(), json!([{ "text": ec.relationship }]));
        }
        if !ec.phone.trim().is_empty() {
            c.insert(
                "telecom".into(),
                json!([{ "system": "phone", "value": ec.phone }]),
            );
        }
        pr.insert("contact".into(), json!([c]));
    }
    let patient = b.add("Patient", pid, Value::Object(pr));
    let mut by_record: BTreeMap<String, String> = BTreeMap::new();
    by_record.insert(pid.to_string(), patient.clone());

    // Conditions (diagnoses).
    for (i, d) in p.diagnoses.iter().enumerate() {
        let mut code = Map::new();
        if !d.code.trim().is_empty() {
            code.insert(
                "coding".into(),
                json!([{ "system": "http://hl7.org/fhir/sid/icd-10", "code": d.code.trim() }]),
            );
        }
        non_empty(&mut code, "text", &d.text);
        b.add(
            "Condition",
            &format!("{pid}/{i}"),
            json!({
                "clinicalStatus": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }]},
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "problem-list-item",
                }]}],
                "code": code,
                "subject": subject(&patient),
            }),
        );
    }

    // Encounters: attended appointments, by start then id.
    let mut appts: Vec<&Peek<Appointment>> = x
        .appointments
        .iter()
        .filter(|a| a.value.status == AppointmentStatus::Attended)
        .collect();
    appts.sort_by(|a, b| (&a.value.start, &a.id).cmp(&(&b.value.start, &b.id)));
    let mut encounters = BTreeMap::new();
    for a in appts {
        let start = a.value.start_at().ok_or_else(|| FhirError::BadDate {
            record: a.id.clone(),
            value: a.value.start.clone(),
        })?;
        let end = start + time::Duration::minutes(i64::from(a.value.duration_min));
        let mut r = json!({
            "identifier": record_identifier(&a.id),
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "subject": subject(&patient),
            "period": {
                "start": local_time(&a.id, start, opts.utc_offset)?,
                "end": local_time(&a.id, end, opts.utc_offset)?,
            },
        });
        if !a.value.service_code.trim().is_empty() {
            r["type"] = json!([{ "coding": [{
                "system": "http://www.ama-assn.org/go/cpt",
                "code": a.value.service_code.trim(),
            }]}]);
        }
        if !a.value.location.trim().is_empty() {
            r["location"] = json!([{ "location": { "display": a.value.location } }]);
        }
        let url = b.add("Encounter", &a.id, r);
        by_record.insert(a.id.clone(), url.clone());
        encounters.insert(a.id.clone(), url);
    }

    // Assessments: QuestionnaireResponse (items) + Observation (total).
    let mut assessments: Vec<&Peek<Assessment>> = x.assessments.iter().collect();
    assessments
        .sort_by(|a, b| (&a.value.administered_on, &a.id).cmp(&(&b.value.administered_on, &b.id)));
    for a in assessments {
        let v = &a.value;
        check_date(&a.id, &v.administered_on)?;
        let score = v.score();
        let (total_code, panel, display) = loinc(v.instrument);
        let items: Vec<Value> = v
            .instrument
            .items()
            .iter()
            .zip(&v.answers)
            .enumerate()
            .map(|(i, (text, ans))| {
                let (code, disp) = ANSWERS
                    .get(*ans as usize)
                    .copied()
                    .unwrap_or(("", "unknown"));
                json!({
                    "linkId": format!("{}", i + 1),
                    "text": text,
                    "answer": [{ "valueCoding": {
                        "extension": [{
                            "url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                            "valueDecimal": ans,
                        }],
                        "system": LOINC,
                        "code": code,
                        "display": disp,
                    }}],
                })
            })
            .collect();
        let qr = b.add(
            "QuestionnaireResponse",
            &a.id,
            json!({
                "identifier": { "system": RECORD_SYSTEM, "value": a.id },
                "questionnaire": format!("http://loinc.org/q/{panel}"),
                "status": "completed",
                "subject": subject(&patient),
                "authored": v.administered_on,
                "item": items,
            }),
        );
        let mut note = format!(
            "{} total {} of {}: {}.",
            v.instrument.label(),
            score.total,
            v.instrument.max_total(),
            score.band.label()
        );
        if score.safety_alert {
            note.push_str(
                " Safety alert: item 9 (thoughts of death or self-harm) was answered above 0.",
            );
        }
        let obs = b.add(
            "Observation",
            &a.id,
            json!({
                "identifier": record_identifier(&a.id),
                "status": "final",
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "survey",
                    "display": "Survey",
                }]}],
                "code": {
                    "coding": [{ "system": LOINC, "code": total_code, "display": display }],
                    "text": format!("{} total score", v.instrument.label()),
                },
                "subject": subject(&patient),
                "effectiveDateTime": v.administered_on,
                "valueInteger": score.total,
                "interpretation": [{ "text": score.band.label() }],
                "note": [{ "text": note }],
                "derivedFrom": [{ "reference": qr }],
            }),
        );
        by_record.insert(a.id.clone(), obs);
    }

    // Signed session notes, then (when asked) signed psychotherapy notes.
    let mut notes: Vec<&Peek<SessionNote>> = x.notes.iter().collect();
    notes.sort_by_key(|n| {
        (
            n.value.signature.as_ref().map(|s| s.signed_at),
            n.id.clone(),
        )
    });
    for n in notes {
        if let Some(r) = note_resource(&n.id, &n.value, &patient, &encounters, false) {
            let url = b.add("DocumentReference", &n.id, r);
            by_record.insert(n.id.clone(), url);
        }
    }
    if opts.include_psychotherapy {
        let mut notes: Vec<&Peek<PsychotherapyNote>> = x.psychotherapy_notes.iter().collect();
        notes.sort_by_key(|n| {
            (
                n.value.0.signature.as_ref().map(|s| s.signed_at),
                n.id.clone(),
            )
        });
        for n in notes {
            if let Some(r) = note_resource(&n.id, &n.value.0, &patient, &encounters, true) {
                let url = b.add("DocumentReference", &n.id, r);
                by_record.insert(n.id.clone(), url);
            }
        }
    }

    // Treatment plan: a Goal per goal, one CarePlan.
    if let Some(plan) = &x.plan {
        let mut goals = Vec::new();
        let mut activities = Vec::new();
        for (pi, problem) in plan.value.problems.iter().enumerate() {
            for (gi, g) in problem.goals.iter().enumerate() {
                let (life, activity) = goal_status(g.status);
                let mut r = json!({
                    "lifecycleStatus": life,
                    "description": { "text": g.text },
                    "subject": subject(&patient),
                    "note": [{ "text": format!("Problem: {}", problem.text) }],
                });
                if g.status == GoalStatus::Met {
                    r["achievementStatus"] = json!({ "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                        "code": "achieved",
                    }]});
                }
                let mut targets = Vec::new();
                for o in &g.objectives {
                    let mut t = json!({ "measure": { "text": if o.measure.trim().is_empty() { &o.text } else { &o.measure } }, "detailString": o.text });
                    if !g.target_date.is_empty() {
                        check_date(&plan.id, &g.target_date)?;
                        t["dueDate"] = json!(g.target_date);
                    }
                    targets.push(t);
                }
                if !targets.is_empty() {
                    r["target"] = json!(targets);
                }
                if !g.review_date.is_empty() {
                    check_date(&plan.id, &g.review_date)?;
                    r["statusDate"] = json!(g.review_date);
                }
                let url = b.add("Goal", &format!("{}/{pi}/{gi}", plan.id), r);
                for i in &g.interventions {
                    activities.push(json!({ "detail": {
                        "status": activity,
                        "description": i,
                        "goal": [{ "reference": url }],
                    }}));
                }
                goals.push(json!({ "reference": url }));
            }
        }
        let mut r = json!({
            "identifier": record_identifier(&plan.id),
            "status": "active",
            "intent": "plan",
            "title": "Treatment plan",
            "subject": subject(&patient),
            "created": instant(plan.created_at),
        });
        if !goals.is_empty() {
            r["goal"] = json!(goals);
        }
        if !activities.is_empty() {
            r["activity"] = json!(activities);
        }
        let url = b.add("CarePlan", &plan.id, r);
        by_record.insert(plan.id.clone(), url);
    }

    // Attachments: metadata only.
    let mut atts: Vec<&Peek<Attachment>> = x.attachments.iter().collect();
    atts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    for a in atts {
        let v = &a.value;
        let mut identifier = record_identifier(&a.id);
        if let Some(arr) = identifier.as_array_mut() {
            arr.push(json!({ "system": FILE_HASH_SYSTEM, "value": v.sha256 }));
        }
        let mut att = json!({
            "contentType": v.media_type,
            "title": v.filename,
            "creation": instant(a.created_at),
        });
        if let Ok(size) = u32::try_from(v.size) {
            if size <= i32::MAX as u32 {
                att["size"] = json!(size);
            }
        }
        let mut r = json!({
            "identifier": identifier,
            "status": "current",
            "subject": subject(&patient),
            "date": instant(a.created_at),
            "content": [{ "attachment": att }],
        });
        if !v.description.trim().is_empty() {
            r["description"] = json!(v.description);
        }
        let url = b.add("DocumentReference", &a.id, r);
        by_record.insert(a.id.clone(), url);
    }

    // Consents: every version, in (id, version) order.
    let mut consents: Vec<&SignedContract> = x.consents.iter().collect();
    consents.sort_by(|a, b| {
        (a.contract().id.as_str(), a.contract().version)
            .cmp(&(b.contract().id.as_str(), b.contract().version))
    });
    for c in consents {
        let k = c.contract();
        let mut v = hearth_consent::to_fhir_value(k).map_err(|e| FhirError::Consent {
            id: k.id.as_str().into(),
            source: e,
        })?;
        if k.patient.as_str() == pid {
            v["patient"] = json!({ "reference": patient });
        }
        b.add("Consent", &format!("{}/{}", k.id.as_str(), k.version), v);
    }

    // AuditEvents: one per logged change, access or consent event, by (log, index).
    let mut audit: Vec<&AuditRecord> = x.audit.iter().collect();
    audit.sort_by(|a, b| (&a.origin, a.index).cmp(&(&b.origin, b.index)));
    for a in audit {
        if let Some(r) = audit_event(a, &patient, &by_record) {
            b.add("AuditEvent", &format!("{}#{}", a.origin, a.index), r);
        }
    }

    // Provenance of everything above.
    let targets: Vec<Value> = b
        .entries
        .iter()
        .map(|(url, _)| json!({ "reference": url }))
        .collect();
    b.add(
        "Provenance",
        &format!("{pid}@{}", opts.exported_at),
        json!({
            "target": targets,
            "recorded": instant(opts.exported_at),
            "activity": { "text": "Exported from Hearth" },
            "agent": [{
                "type": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                    "code": "assembler",
                    "display": "Assembler",
                }]},
                "who": { "reference": device, "display": opts.device_name },
            }],
        }),
    );

    let entries: Vec<Value> = b
        .entries
        .into_iter()
        .map(|(url, resource)| json!({ "fullUrl": url, "resource": resource }))
        .collect();
    Ok(json!({
        "resourceType": "Bundle",
        "id": uuid("Bundle", &format!("{pid}@{}", opts.exported_at)),
        "type": "collection",
        "timestamp": instant(opts.exported_at),
        "entry": entries,
    }))
}

fn audit_event(
    a: &AuditRecord,
    patient: &str,
    by_record: &BTreeMap<String, String>,
) -> Option<Value> {
    let dcm = "http://dicom.nema.org/resources/ontology/DCM";
    let (type_, action, record, actor, time, purpose) = match &a.entry {
        Entry::RecordChange(c) => {
            let action = match c.kind {
                ChangeKind::Create => "C",
                ChangeKind::Delete => "D",
                _ => "U",
            };
            (
                json!({ "system": dcm, "code": "110110", "display": "Patient Record" }),
                action,
                c.record.as_str().to_string(),
                Some(c.actor.0),
                c.time,
                None,
            )
        }
        Entry::Access(x) => {
            let (t, action) = match x.action {
                AccessAction::Export => (
                    json!({ "system": dcm, "code": "110106", "display": "Export" }),
                    "R",
                ),
                AccessAction::Analyse => (
                    json!({ "system": dcm, "code": "110110", "display": "Patient Record" }),
                    "E",
                ),
                _ => (
                    json!({ "system": dcm, "code": "110110", "display": "Patient Record" }),
                    "R",
                ),
            };
            let purpose = if x.action == AccessAction::BreakGlass {
                format!("{} (break glass)", x.purpose.as_str())
            } else {
                x.purpose.as_str().to_string()
            };
            (
                t,
                action,
                x.record.as_str().to_string(),
                Some(x.actor.0),
                x.time,
                Some(purpose),
            )
        }
        Entry::Consent(c) => (
            json!({ "system": dcm, "code": "110110", "display": "Patient Record" }),
            if c.action == ConsentAction::Granted {
                "C"
            } else {
                "U"
            },
            c.patient.as_str().to_string(),
            None,
            c.time,
            Some(format!("consent {:?}", c.action).to_lowercase()),
        ),
        _ => return None,
    };
    let who = match actor {
        Some(k) => json!({ "identifier": { "system": DEVICE_SYSTEM, "value": hex::encode(k) } }),
        None => json!({ "reference": patient }),
    };
    let what = match by_record.get(&record) {
        Some(url) => {
            json!({ "reference": url, "identifier": { "system": RECORD_SYSTEM, "value": record } })
        }
        None => json!({ "identifier": { "system": RECORD_SYSTEM, "value": record } }),
    };
    let mut r = json!({
        "type": type_,
        "action": action,
        "recorded": instant(i64::try_from(time).unwrap_or(i64::MAX)),
        "outcome": "0",
        "agent": [{ "who": who, "requestor": true }],
        "source": { "observer": { "display": a.origin } },
        "entity": [{
            "what": what,
            "detail": [{ "type": "ledger-entry", "valueString": format!("{}#{}", a.origin, a.index) }],
        }],
    });
    if let Some(p) = purpose {
        r["purposeOfEvent"] = json!([{ "text": p }]);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid("Patient", "p1");
        assert_eq!(a, uuid("Patient", "p1"));
        assert_ne!(a, uuid("Patient", "p2"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }

    #[test]
    fn instants_are_utc() {
        assert_eq!(instant(0), "1970-01-01T00:00:00Z");
    }
}
