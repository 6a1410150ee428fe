//! On-device analysis in the desktop app: semantic search over session notes and the state
//! of the background indexing (the model loading, notes being embedded, patients left out).

use serde::{Deserialize, Serialize};

/// Where the on-device embedding model stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelState {
    /// Not asked for yet (it loads on first use).
    #[default]
    Unloaded,
    /// Loading from disk now.
    Loading,
    /// Loaded; semantic search works.
    Ready,
    /// Not installed or damaged; [`IndexStatus::model_message`] says what to do.
    Missing,
}

/// A patient whose notes are not analysed, with the consent reason (or the error) that decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAnalysed {
    /// The patient's record id.
    pub patient_id: String,
    /// Their name (empty when it cannot be read).
    pub patient_name: String,
    /// Why, in the evaluator's words ("no consent permits …", "denied by exception 1.1 …").
    pub reason: String,
}

/// The model and the background indexing, for the progress indicator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexStatus {
    /// The embedding model.
    pub model: ModelState,
    /// Why the model is missing and what to do, in plain words.
    pub model_message: Option<String>,
    /// Notes are being embedded now.
    pub indexing: bool,
    /// Notes embedded so far in this run.
    pub done: usize,
    /// Notes to embed in this run.
    pub total: usize,
    /// Session notes seen by the last finished run.
    pub notes: usize,
    /// Patients the last finished run left out, with why.
    pub skipped: Vec<NotAnalysed>,
    /// The last run failed (the message says why); the next edit or search retries.
    pub error: Option<String>,
}

/// One session note found by meaning (and/or by its words).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SemanticHit {
    /// The note's record id.
    pub record_id: String,
    /// Its patient's record id.
    pub patient_id: String,
    /// The patient's name.
    pub patient_name: String,
    /// The passage of the note that matched best (or the full-text snippet).
    pub passage: String,
    /// Cosine similarity of the passage when the note matched by meaning.
    pub similarity: Option<f32>,
    /// The note's words matched the query too.
    pub text_match: bool,
}

/// The answer to a semantic search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SemanticReply {
    /// Best first.
    pub hits: Vec<SemanticHit>,
    /// Semantic search is off (the model is missing): why and what to do. The hits are then
    /// full-text matches only.
    pub off: Option<String>,
    /// Patients whose notes were not searched by meaning, with why.
    pub skipped: Vec<NotAnalysed>,
    /// Notes not embedded yet (indexing is running or pending).
    pub stale: usize,
}

/// A run of a note's text, highlighted when it is a phrase that drove a flag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextRun {
    /// The text.
    pub text: String,
    /// How much removing this phrase lowers the sentence's probability, when it is one.
    pub weight: Option<f64>,
}

/// A sentence that drove a flag, with its phrases marked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskEvidence {
    /// The sentence, cut into runs (phrases that drove the flag have a weight).
    pub sentence: Vec<TextRun>,
    /// The model's calibrated probability for the sentence.
    pub probability: f64,
    /// Why it counts, in words ("the model's probability passed the threshold", "an explicit
    /// mention of suicidal thoughts or self-harm").
    pub why: String,
}

/// A note-level flag (a decision aid, not a diagnosis).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskFlagView {
    /// What it is about ("suicidal ideation / self-harm", "depressive language").
    pub label: String,
    /// `moderate` or `high`.
    pub band: String,
    /// Highest calibrated probability over the note's sentences.
    pub probability: f64,
    /// The threshold it passed.
    pub threshold: f64,
    /// The sentences that drove it, strongest first.
    pub evidence: Vec<RiskEvidence>,
}

/// A sentence over a threshold that does not count for the patient, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskSuppressed {
    /// What it would have flagged.
    pub label: String,
    /// The sentence.
    pub sentence: String,
    /// Why not: negated, other person, historical or hypothetical.
    pub context: String,
}

/// The risk panel beside a session note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoteRiskView {
    /// Analysis is off for this patient: the consent reason (nothing was analysed).
    pub refused: Option<String>,
    /// The risk model is not installed or damaged: what to do.
    pub model_missing: Option<String>,
    /// Flags, suicidal ideation first; empty when nothing passed a threshold.
    pub flags: Vec<RiskFlagView>,
    /// Sentences the negation and attribution rules kept from flagging the patient.
    pub suppressed: Vec<RiskSuppressed>,
    /// The patient's latest PHQ-9 item 9, in words.
    pub phq9_item9: String,
    /// Item 9 was answered above 0 (shown as an alert).
    pub item9_positive: bool,
    /// "Decision aid, not a diagnosis — research preview".
    pub notice: String,
    /// The encoder and head that produced this.
    pub model: String,
}
