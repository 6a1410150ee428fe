//! IPC types for consent beyond the stored contract: the editor's draft, break-glass
//! (emergency) access and the patient's "who can see my records, and who looked" overview.
//! The code lists are the consent model's codes with labels for the UI (hearth-core checks
//! they match `hearth-consent`).

use serde::{Deserialize, Serialize};

/// Actions a contract can permit or deny, as (code, label).
pub const CONSENT_ACTIONS: [(&str, &str); 5] = [
    ("read", "Read"),
    ("write", "Write"),
    ("share", "Share"),
    ("export", "Export"),
    ("analyse", "Analyse"),
];

/// Record categories, as (code, label).
pub const CONSENT_CATEGORIES: [(&str, &str); 7] = [
    ("demographics", "Contact and personal details"),
    ("appointments", "Appointments"),
    ("progress-notes", "Session notes"),
    ("psychotherapy-notes", "Psychotherapy notes"),
    ("assessments", "Assessments"),
    ("treatment-plan", "Treatment plan"),
    ("attachments", "Attached documents"),
];

/// Purposes of use, as (code, label).
pub const CONSENT_PURPOSES: [(&str, &str); 6] = [
    ("treatment", "Treatment"),
    ("payment", "Billing and payment"),
    ("operations", "Running the clinic"),
    ("research", "Research"),
    ("ai-analysis", "On-device AI analysis"),
    ("emergency", "Emergency"),
];

/// Who a rule can name, as (code, label): a role, the patient's own devices, or (typed in)
/// `member:<id>` / `organization:<id>`.
pub const CONSENT_WHO: [(&str, &str); 5] = [
    ("role:clinician", "Any clinician"),
    ("role:admin", "The clinic's administration"),
    ("role:researcher", "Any researcher"),
    ("patient-device", "The patient's own devices"),
    ("anyone", "Anyone"),
];

/// One rule of a consent as the editor builds it. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRule {
    /// Allow (`true`) or forbid.
    pub permit: bool,
    /// Who: codes of [`CONSENT_WHO`], `member:<id>` or `organization:<id>`; empty = anyone.
    pub who: Vec<String>,
    /// Action codes; empty = every action.
    pub actions: Vec<String>,
    /// Category codes; empty = every category.
    pub categories: Vec<String>,
    /// Purpose codes; empty = every purpose.
    pub purposes: Vec<String>,
    /// First day in force, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day in force, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// Exceptions inside this rule (usually the opposite kind), taking precedence.
    pub except: Vec<ConsentRule>,
}

/// A consent as the editor builds it: rules in order ("rule 1" is the first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDraft {
    /// The rules.
    pub rules: Vec<ConsentRule>,
}

/// A draft turned into a contract: what the patient will read and the FHIR JSON to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentPreview {
    /// What it allows, in plain words.
    pub summary: String,
    /// FHIR R4 Consent JSON (record it as a paper consent, or have the patient sign it).
    pub fhir: String,
}

/// An emergency ("break-glass") access: who opened a patient's chart outside their consent,
/// why, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassInfo {
    /// Record id of the grant.
    pub id: String,
    /// Started, RFC 3339 UTC.
    pub started: String,
    /// Ends, RFC 3339 UTC.
    pub ends: String,
    /// The reason typed by the clinician.
    pub reason: String,
    /// The device that opened it (first 16 hex digits of its key).
    pub device: String,
    /// Still in force.
    pub active: bool,
}

/// Who accessed a patient's records, grouped by device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accessor {
    /// The device (first 16 hex digits of its key); `this device` when it is this one.
    pub device: String,
    /// What it did, counted: e.g. `viewed 12, exported 1`.
    pub actions: String,
    /// Accesses in all.
    pub count: u64,
    /// The last one, RFC 3339 UTC.
    pub last: String,
}

/// "Who can see my records, and who looked": the patient's view over every contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessOverview {
    /// What each active contract allows, in plain words.
    pub contracts: Vec<String>,
    /// The clinic's defaults, which apply where no contract speaks.
    pub defaults: Vec<String>,
    /// Emergency accesses, newest first.
    pub break_glass: Vec<BreakGlassInfo>,
    /// Who looked, from the audit log.
    pub accessors: Vec<Accessor>,
    /// Fingerprints of the patient's registered signing devices.
    pub patient_devices: Vec<String>,
}
