//! IPC types for clinical records beyond the patient: appointments, notes, assessments,
//! treatment plans, attachments, search. Their JSON shape is the records' own (hearth-core
//! converts between the two and a test checks every kind round-trips).

use serde::{Deserialize, Serialize};

/// Id and times of a stored record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInfo {
    /// Record id.
    pub id: String,
    /// Created, RFC 3339 UTC.
    pub created_at: String,
    /// Last changed, RFC 3339 UTC.
    pub updated_at: String,
}

/// A stored record with its id and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored<T> {
    /// Id and times.
    pub info: RecordInfo,
    /// The record.
    pub record: T,
}

/// Appointment status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked.
    #[default]
    Scheduled,
    /// Attended.
    Attended,
    /// Did not attend.
    NoShow,
    /// Cancelled.
    Cancelled,
}

/// Appointment repetition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// Once.
    #[default]
    None,
    /// Weekly.
    Weekly,
    /// Every other week.
    Biweekly,
}

/// An appointment (or a series).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Patient record id.
    pub patient_id: String,
    /// Local start `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// Minutes.
    pub duration_min: u32,
    /// Status.
    pub status: AppointmentStatus,
    /// CPT code, e.g. 90834.
    pub service_code: String,
    /// Repetition.
    pub recurrence: Recurrence,
    /// Last date of a series `YYYY-MM-DD` or empty.
    pub recurrence_until: String,
    /// Where.
    pub location: String,
}

/// One occurrence on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The appointment (series) record id.
    pub appointment_id: String,
    /// Patient record id.
    pub patient_id: String,
    /// Patient name (empty if the patient record is unreadable).
    pub patient_name: String,
    /// Local start `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// Minutes.
    pub duration_min: u32,
    /// Status of the appointment record.
    pub status: AppointmentStatus,
    /// CPT code.
    pub service_code: String,
}

/// Note template.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteTemplate {
    /// Subjective, Objective, Assessment, Plan.
    Soap,
    /// Data, Assessment, Plan.
    Dap,
    /// Behavior, Intervention, Response, Plan.
    Birp,
    /// Free form.
    #[default]
    Free,
}

impl NoteTemplate {
    /// Every template, in the order a picker shows them.
    pub const ALL: [NoteTemplate; 4] = [
        NoteTemplate::Soap,
        NoteTemplate::Dap,
        NoteTemplate::Birp,
        NoteTemplate::Free,
    ];

    /// The sections as (key, title), in order (the same as the records' templates; a core test
    /// checks they agree).
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

/// A section of a note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Section key (`subjective`, …).
    pub key: String,
    /// Text.
    pub text: String,
}

/// A signature over a note or addendum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Who signed.
    pub signer: String,
    /// Unix seconds.
    pub signed_at: i64,
    /// SHA-256 hex of the signed content.
    pub content_hash: String,
}

/// A signed addendum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addendum {
    /// Text.
    pub text: String,
    /// Signature.
    pub signature: Signature,
}

/// A session note or psychotherapy note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Patient record id.
    pub patient_id: String,
    /// Appointment record id or empty.
    pub appointment_id: String,
    /// Template.
    pub template: NoteTemplate,
    /// Sections in template order.
    pub sections: Vec<Section>,
    /// Present once signed (then locked).
    pub signature: Option<Signature>,
    /// Signed addenda.
    pub addenda: Vec<Addendum>,
}

/// Which measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// PHQ-9.
    #[default]
    Phq9,
    /// GAD-7.
    Gad7,
}

/// One administration of a measure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Patient record id.
    pub patient_id: String,
    /// Which measure.
    pub instrument: Instrument,
    /// `YYYY-MM-DD`.
    pub administered_on: String,
    /// Answers 0–3 in item order.
    pub answers: Vec<u32>,
}

/// A severity band's range of totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandRange {
    /// Lowest total in the band.
    pub from: u32,
    /// Highest total in the band.
    pub to: u32,
    /// Label ("moderately severe").
    pub label: String,
}

/// Everything a form and a chart need about a measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentForm {
    /// Which measure.
    pub instrument: Instrument,
    /// "PHQ-9".
    pub name: String,
    /// The question stem.
    pub stem: String,
    /// Item texts in order.
    pub items: Vec<String>,
    /// Answer labels for 0–3.
    pub scale: Vec<String>,
    /// Highest total.
    pub max_total: u32,
    /// Severity bands, lowest first.
    pub bands: Vec<BandRange>,
    /// Points of change that count as reliable.
    pub reliable_change_points: u32,
}

/// The scored result of an assessment, with the change from the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scored {
    /// Total.
    pub total: u32,
    /// Severity band label ("moderately severe").
    pub band: String,
    /// PHQ-9 item 9 above zero.
    pub safety_alert: bool,
    /// vs the previous administration of the same measure: `reliable_improvement`,
    /// `reliable_deterioration`, `no_reliable_change`, or `None` for the first.
    pub change: Option<String>,
}

/// Goal status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// Not started.
    #[default]
    NotStarted,
    /// In progress.
    InProgress,
    /// Met.
    Met,
    /// Discontinued.
    Discontinued,
}

/// A measurable objective.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    /// What.
    pub text: String,
    /// How it is measured.
    pub measure: String,
}

/// A goal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// The goal.
    pub text: String,
    /// Objectives.
    pub objectives: Vec<Objective>,
    /// Interventions.
    pub interventions: Vec<String>,
    /// `YYYY-MM-DD` or empty.
    pub target_date: String,
    /// `YYYY-MM-DD` or empty.
    pub review_date: String,
    /// Status.
    pub status: GoalStatus,
}

/// A problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The problem.
    pub text: String,
    /// Goals.
    pub goals: Vec<Goal>,
}

/// A treatment plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreatmentPlan {
    /// Patient record id.
    pub patient_id: String,
    /// Problems.
    pub problems: Vec<Problem>,
}

/// An attached file's description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Patient record id.
    pub patient_id: String,
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 hex.
    pub sha256: String,
    /// Vault blob id.
    pub blob_id: String,
    /// Description.
    pub description: String,
    /// Whether the content is on this device (an attachment synced from another device shows
    /// here before its content arrives).
    #[serde(default)]
    pub on_device: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The record.
    pub record_id: String,
    /// Its kind (`patient`, `session-note`, …).
    pub kind: String,
    /// Its patient.
    pub patient_id: String,
    /// The patient's name.
    pub patient_name: String,
    /// The matching passage.
    pub snippet: String,
    /// Relevance (higher is better).
    pub score: f32,
}

/// One event in a patient's access and change timeline (from the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When, RFC 3339 UTC.
    pub time: String,
    /// `created`, `edited`, `viewed`, `exported`, `analysed`, `break-glass`.
    pub action: String,
    /// The record.
    pub record_id: String,
    /// Its kind (`session-note`, …).
    pub kind: String,
    /// Why (for accesses), e.g. `treatment`.
    pub purpose: String,
    /// The device (first 16 hex digits of its log key).
    pub device: String,
}

/// This device's audit log at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogStatus {
    /// Entries in the log.
    pub size: u64,
    /// Checkpoints signed.
    pub checkpoints: u64,
    /// Size covered by the newest checkpoint.
    pub last_checkpoint_size: Option<u64>,
    /// Its root hash, hex.
    pub last_checkpoint_root: Option<String>,
    /// The log's verifier key, for witnesses.
    pub verifier: String,
    /// Witness cosignatures on the newest checkpoint.
    #[serde(default)]
    pub cosignatures: u64,
    /// Share of the clinic's witness stake that cosigned it, 0–1 (0 with no witnesses).
    #[serde(default)]
    pub stake_fraction: f64,
    /// More than two thirds of the stake cosigned the newest checkpoint.
    #[serde(default)]
    pub final_: bool,
}

/// One version of a consent contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInfo {
    /// Contract id (the same for every version).
    pub contract_id: String,
    /// Version number, from 1.
    pub version: u32,
    /// `draft`, `active` or `inactive` (revoked).
    pub status: String,
    /// Date of this version, `YYYY-MM-DD`.
    pub date: String,
    /// Recorded from paper by a clinician rather than signed on the patient's device.
    pub attested: bool,
    /// What it allows, in plain words.
    pub summary: String,
    /// The FHIR R4 Consent JSON.
    pub fhir: String,
}

/// What verifying the audit log found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Log entries checked.
    pub entries: u64,
    /// Records checked.
    pub records: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Problems, in plain words (empty: everything checks out).
    pub problems: Vec<String>,
    /// Facts worth knowing that are not problems.
    pub notes: Vec<String>,
}

impl AuditReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A checkpoint just signed over the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Log size it covers.
    pub size: u64,
    /// Merkle root (hex).
    pub root: String,
    /// The signed note.
    pub note: String,
}
