//! Risk flags on session notes — a **decision aid, not a diagnosis**, and a research preview.
//!
//! A note is cut into sentences; each sentence is embedded by the on-device encoder
//! ([`Embedder`]) and scored by small calibrated logistic heads ([`head`]) trained by
//! `src/bin/train_risk.rs` on public research data (see `models/risk/MODEL_CARD.md`):
//! suicidal ideation or self-harm, and depressive language with a severity band. A sentence
//! over a head's threshold (chosen on dev) is then checked by a NegEx-style rule layer
//! ([`negex`]): negated, someone else's, historical or hypothetical mentions do not flag the
//! patient and are listed as suppressed with the cue that suppressed them. Each flag carries the
//! sentences that drove it and, within them, the phrases whose removal lowers the probability
//! most (occlusion attribution), the [`DecisionAid`] label and the patient's latest PHQ-9
//! item-9 answer ([`Item9Link`], supplied by the caller).
//!
//! ```no_run
//! use hearth_insight::risk::RiskModel;
//! # fn main() -> Result<(), hearth_insight::risk::RiskError> {
//! let model = RiskModel::load(&hearth_insight::default_models_dir())?;
//! let report = model.assess("Client denies SI. Reports feeling hopeless most days.")?;
//! for flag in &report.flags {
//!     println!("{:?} p={:.2} ({})", flag.label, flag.probability, flag.notice);
//! }
//! # Ok(()) }
//! ```

pub mod data;
pub mod eval;
pub mod head;
pub mod negex;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Embedder, InsightError};
use head::LogisticHead;
use negex::{Concept, Context};

/// What every flag is: shown beside it wherever it appears.
pub const DECISION_AID: &str = "decision aid, not a diagnosis";

/// Folder of the risk head under the models folder, and its file.
pub const RISK_DIR: &str = "risk";
/// The head file in [`RISK_DIR`].
pub const HEAD_FILE: &str = "risk-head.json";

/// Longest sentence scored, in words (longer ones are cut into pieces).
const SENTENCE_WORDS: usize = 40;
/// Sentence embeddings kept between calls (re-scoring an edited note embeds only what changed).
const CACHE_ENTRIES: usize = 4096;

/// The label on every flag: a decision aid, not a diagnosis. It serialises as that text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecisionAid;

impl std::fmt::Display for DecisionAid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(DECISION_AID)
    }
}

impl Serialize for DecisionAid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(DECISION_AID)
    }
}

/// The patient's latest PHQ-9 item 9 ("thoughts that you would be better off dead, or of
/// hurting yourself"), which every flag links to. The caller (hearth-core) supplies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Item9Link {
    /// Not looked up (the model alone does not know the chart).
    #[default]
    Unknown,
    /// The patient has no PHQ-9 on record.
    NoPhq9,
    /// The latest PHQ-9's item 9.
    Answered {
        /// 0 not at all, 1 several days, 2 more than half the days, 3 nearly every day.
        score: u8,
        /// The assessment record.
        assessment_id: String,
        /// When it was taken (ISO date).
        taken: String,
    },
}

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum RiskLabel {
    /// Suicidal ideation or self-harm.
    SuicidalIdeation,
    /// Depressive language (hopelessness included), banded moderate or severe.
    Depression,
}

impl Band {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Moderate => "moderate",
            Self::High => "high",
        }
    }
}

impl RiskLabel {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuicidalIdeation => "suicidal ideation / self-harm",
            Self::Depression => "depressive language",
        }
    }
}

/// How strong a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Band {
    /// Over the threshold (depression: the any-depression head).
    Moderate,
    /// Over the high threshold (depression: the severe head's threshold).
    High,
}

/// A phrase within a sentence and how much removing it lowers the probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phrase {
    /// Byte range in the note.
    pub span: Range<usize>,
    /// Probability with the sentence minus probability with the phrase removed.
    pub weight: f64,
}

/// Why a sentence counts as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The head's probability passed its threshold.
    Model,
    /// An explicit, affirmed suicidal-ideation or self-harm phrase ("thoughts of killing
    /// herself"), whatever the head says: the heads, trained on first-person Reddit posts,
    /// score such clinical sentences low, and a decision aid must not miss them.
    ExplicitMention,
}

/// A sentence that drove a flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Model or explicit mention.
    pub basis: Basis,
    /// Byte range of the sentence in the note.
    pub sentence: Range<usize>,
    /// The head's calibrated probability for the sentence.
    pub probability: f64,
    /// The phrases that drove it, strongest first (at most three; worked out for the
    /// [`EXPLAINED`] strongest sentences of a flag).
    pub phrases: Vec<Phrase>,
}

/// A note-level flag: a decision aid, not a diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskFlag {
    /// What it is about.
    pub label: RiskLabel,
    /// Highest calibrated probability over the note's sentences.
    pub probability: f64,
    /// The threshold it passed (chosen on dev).
    pub threshold: f64,
    /// Band.
    pub band: Band,
    /// The sentences that drove it, strongest first.
    pub evidence: Vec<Evidence>,
    /// Always "decision aid, not a diagnosis".
    pub notice: DecisionAid,
    /// The patient's latest PHQ-9 item-9 answer.
    pub phq9_item9: Item9Link,
}

/// A sentence over a threshold that the rules kept from flagging the patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    /// The head it passed.
    pub label: RiskLabel,
    /// Byte range of the sentence in the note.
    pub sentence: Range<usize>,
    /// Calibrated probability.
    pub probability: f64,
    /// Why: negated, other person, historical or hypothetical.
    pub context: &'static str,
    /// The trigger (byte range in the note), when there is one.
    pub cue: Option<Range<usize>>,
}

/// Scores of one sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceScore {
    /// Byte range in the note.
    pub span: Range<usize>,
    /// Calibrated probability per label (depression: the any-depression head).
    pub probability: Vec<(RiskLabel, f64)>,
    /// Calibrated probability of severe depression.
    pub severe: f64,
    /// Per label: whether the rules let it count for the patient.
    pub counts: Vec<(RiskLabel, bool)>,
}

impl SentenceScore {
    /// The sentence's risk score: the highest probability among labels that count for the
    /// patient (0 when none does).
    pub fn risk(&self) -> f64 {
        self.probability
            .iter()
            .filter(|(l, _)| self.counts.iter().any(|(c, ok)| c == l && *ok))
            .map(|(_, p)| *p)
            .fold(0.0, f64::max)
    }
}

/// The analysis of one note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskReport {
    /// Flags, suicidal ideation first.
    pub flags: Vec<RiskFlag>,
    /// Sentences over a threshold that do not count for the patient, and why.
    pub suppressed: Vec<Suppressed>,
    /// Every sentence's scores.
    pub sentences: Vec<SentenceScore>,
    /// The encoder and head that produced this.
    pub model: String,
    /// "decision aid, not a diagnosis".
    pub notice: DecisionAid,
    /// Trained on research data with unclear licences: a research preview.
    pub research_preview: bool,
}

impl RiskReport {
    /// Link every flag to the patient's latest PHQ-9 item-9 answer.
    pub fn with_item9(mut self, item9: Item9Link) -> Self {
        for f in &mut self.flags {
            f.phq9_item9 = item9.clone();
        }
        self
    }
}

/// One head in the head file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadSpec {
    /// `suicidal-ideation`, `depression` or `depression-severe`.
    pub name: String,
    /// Weights and calibration.
    pub head: LogisticHead,
    /// Threshold on the calibrated probability for whole posts (chosen on the research dev
    /// split): the operating point of the research figures.
    pub threshold: f64,
    /// Threshold for one sentence of a note (chosen on the synthetic clinical dev set,
    /// `models/risk/synthetic_dev.tsv`): what flags use. Sentences score lower than posts.
    pub sentence_threshold: f64,
    /// The L2 penalty chosen on dev.
    pub lambda: f64,
    /// What it was trained on.
    pub trained_on: String,
}

/// `models/risk/risk-head.json`: what `train_risk` writes and [`RiskModel`] reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadFile {
    /// Format (1).
    pub format: u32,
    /// The encoder's fingerprint the heads were trained on.
    pub encoder: String,
    /// Word pieces each training text was cut to.
    pub train_tokens: usize,
    /// Research preview (always true for these data).
    pub research_preview: bool,
    /// "decision aid, not a diagnosis".
    pub notice: String,
    /// The heads.
    pub heads: Vec<HeadSpec>,
}

/// Head names in the head file.
pub const SI_HEAD: &str = "suicidal-ideation";
/// The any-depression head.
pub const DEPRESSION_HEAD: &str = "depression";
/// The severe-depression head.
pub const SEVERE_HEAD: &str = "depression-severe";

/// What can go wrong with the risk model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// The head file is not there.
    #[error("the risk model's head is not installed ({}); it is part of the repository (models/risk/): restore it, or run `cargo run --release -p hearth-insight --bin train_risk` to retrain it", path.display())]
    HeadMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The head file cannot be used.
    #[error("the risk model's head {} is unusable: {what}; restore models/risk/ from the repository or retrain it with train_risk", path.display())]
    HeadInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The head was trained on another encoder.
    #[error("the risk head was trained on encoder {head} but {loaded} is installed; retrain it with train_risk")]
    WrongEncoder {
        /// Encoder named in the head file.
        head: String,
        /// Encoder loaded.
        loaded: String,
    },
    /// The encoder failed (missing model: run `make setup`).
    #[error(transparent)]
    Encoder(#[from] InsightError),
}

impl RiskError {
    /// Whether running `make setup` is the fix.
    pub fn needs_setup(&self) -> bool {
        matches!(self, Self::Encoder(e) if e.needs_setup())
    }
}

impl HeadFile {
    /// Read and check a head file.
    pub fn read(path: &Path) -> Result<Self, RiskError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RiskError::HeadMissing {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => {
                return Err(RiskError::HeadInvalid {
                    path: path.to_path_buf(),
                    what: e.to_string(),
                })
            }
        };
        let invalid = |what: String| RiskError::HeadInvalid {
            path: path.to_path_buf(),
            what,
        };
        let f: HeadFile = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        if f.format != 1 {
            return Err(invalid(format!("format {} is not 1", f.format)));
        }
        for name in [SI_HEAD, DEPRESSION_HEAD, SEVERE_HEAD] {
            let h = f
                .heads
                .iter()
                .find(|h| h.name == name)
                .ok_or_else(|| invalid(format!("no head {name}")))?;
            if h.head.weights.is_empty()
                || !h.head.weights.iter().all(|w| w.is_finite())
                || !(0.0..=1.0).contains(&h.threshold)
                || !(0.0..=1.0).contains(&h.sentence_threshold)
            {
                return Err(invalid(format!("head {name} has bad weights or threshold")));
            }
        }
        Ok(f)
    }

    fn head(&self, name: &str) -> &HeadSpec {
        // `read` checked all three are present.
        self.heads
            .iter()
            .find(|h| h.name == name)
            .unwrap_or(&self.heads[0])
    }
}

/// The risk model: the encoder plus the heads. Scoring is read-only apart from a small
/// sentence-embedding cache, so one model can serve several threads.
pub struct RiskModel {
    embedder: Arc<Embedder>,
    /// Word pieces each sentence is cut to: the heads' [`HeadFile::train_tokens`], per call, so
    /// the encoder can be one loaded for longer input (semantic search's).
    max_tokens: usize,
    heads: HeadFile,
    cache: Mutex<HashMap<[u8; 32], Vec<f32>>>,
}

impl std::fmt::Debug for RiskModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskModel")
            .field("encoder", &self.heads.encoder)
            .finish_non_exhaustive()
    }
}

/// The head file's path under a models folder.
pub fn head_path(models_dir: &Path) -> PathBuf {
    models_dir.join(RISK_DIR).join(HEAD_FILE)
}

impl RiskModel {
    /// Load the encoder and the head from a models folder (see
    /// [`crate::default_models_dir`]). The head is checked first: it is small.
    pub fn load(models_dir: &Path) -> Result<Self, RiskError> {
        let heads = HeadFile::read(&head_path(models_dir))?;
        let opts = crate::EmbedderOptions::default().max_tokens(heads.train_tokens);
        let embedder = Arc::new(Embedder::load_with(models_dir, opts)?);
        Self::new(embedder, heads)
    }

    /// A model over an encoder already loaded (semantic search's), with the head from a
    /// models folder: one copy of the encoder's weights serves both. Sentences are still cut
    /// at the heads' training length ([`Embedder::embed_max`]), so scores are the same as with
    /// [`RiskModel::load`]. The head is read (and checked) before anything else.
    pub fn load_over(embedder: Arc<Embedder>, models_dir: &Path) -> Result<Self, RiskError> {
        Self::new(embedder, HeadFile::read(&head_path(models_dir))?)
    }

    /// A model over an encoder already loaded (semantic search's) and a head file.
    pub fn new(embedder: Arc<Embedder>, heads: HeadFile) -> Result<Self, RiskError> {
        if embedder.fingerprint() != heads.encoder {
            return Err(RiskError::WrongEncoder {
                head: heads.encoder,
                loaded: embedder.fingerprint().to_string(),
            });
        }
        for h in &heads.heads {
            if h.head.weights.len() != embedder.dimension() {
                return Err(RiskError::HeadInvalid {
                    path: PathBuf::from(HEAD_FILE),
                    what: format!(
                        "head {} has {} weights for a {}-dimensional encoder",
                        h.name,
                        h.head.weights.len(),
                        embedder.dimension()
                    ),
                });
            }
        }
        Ok(Self {
            embedder,
            max_tokens: heads.train_tokens,
            heads,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Forget the cached sentence embeddings (a cold start; the bench uses it).
    pub fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The encoder it runs on (shared with whoever else holds it).
    pub fn encoder(&self) -> &Arc<Embedder> {
        &self.embedder
    }

    /// The heads in use.
    pub fn heads(&self) -> &HeadFile {
        &self.heads
    }

    /// Encoder and head, for provenance.
    pub fn fingerprint(&self) -> String {
        format!("{} + risk-head v{}", self.heads.encoder, self.heads.format)
    }

    fn embed_cached(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, RiskError> {
        let keys: Vec<[u8; 32]> = texts
            .iter()
            .map(|t| Sha256::digest(t.as_bytes()).into())
            .collect();
        let mut out: Vec<Option<Vec<f32>>> = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            keys.iter().map(|k| cache.get(k).cloned()).collect()
        };
        // Each distinct missing text is embedded once (a note repeats sentences; occlusion
        // variants of a sentence repeat across labels).
        let mut todo: Vec<usize> = Vec::new();
        let mut slot: HashMap<[u8; 32], usize> = HashMap::new();
        for i in (0..texts.len()).filter(|&i| out[i].is_none()) {
            slot.entry(keys[i]).or_insert_with(|| {
                todo.push(i);
                todo.len() - 1
            });
        }
        if !todo.is_empty() {
            let batch: Vec<&str> = todo.iter().map(|&i| texts[i]).collect();
            let vecs = self.embedder.embed_max(&batch, self.max_tokens)?;
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() + vecs.len() > CACHE_ENTRIES {
                cache.clear();
            }
            for (&i, v) in todo.iter().zip(&vecs) {
                cache.insert(keys[i], v.clone());
            }
            for i in 0..texts.len() {
                if out[i].is_none() {
                    out[i] = slot.get(&keys[i]).map(|&j| vecs[j].clone());
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Calibrated probabilities (suicidal ideation, any depression, severe depression) of
    /// each text, scored as a whole (no rules): what the evaluation uses.
    pub fn probabilities<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<[f64; 3]>, RiskError> {
        let refs: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
        let vecs = self.embedder.embed_max(&refs, self.max_tokens)?;
        Ok(vecs.iter().map(|v| self.probs(v)).collect())
    }

    fn probs(&self, v: &[f32]) -> [f64; 3] {
        [
            self.heads.head(SI_HEAD).head.probability(v),
            self.heads.head(DEPRESSION_HEAD).head.probability(v),
            self.heads.head(SEVERE_HEAD).head.probability(v),
        ]
    }

    fn spec(&self, label: RiskLabel) -> &HeadSpec {
        match label {
            RiskLabel::SuicidalIdeation => self.heads.head(SI_HEAD),
            RiskLabel::Depression => self.heads.head(DEPRESSION_HEAD),
        }
    }

    /// Occlusion attribution of sentences, each for one head: drop each word, measure the
    /// probability change; join neighbouring words that matter into phrases and measure
    /// dropping each phrase. All sentences' variants go through the encoder together (two
    /// calls in all), so they are batched and run in parallel. Ranges are relative to each
    /// sentence.
    fn attribute_all(&self, jobs: &[Attribution<'_>]) -> Result<Vec<Attributed>, RiskError> {
        let without = |sentence: &str, drop: &Range<usize>| -> String {
            format!("{}{}", &sentence[..drop.start], &sentence[drop.end..])
        };
        let words: Vec<Vec<Range<usize>>> = jobs.iter().map(|j| word_spans(j.sentence)).collect();
        let variants: Vec<String> = jobs
            .iter()
            .zip(&words)
            .filter(|(_, w)| w.len() >= 2)
            .flat_map(|(j, w)| w.iter().map(|r| without(j.sentence, r)))
            .collect();
        let refs: Vec<&str> = variants.iter().map(String::as_str).collect();
        let mut vecs = self.embed_cached(&refs)?.into_iter();
        // Runs of words each dropping at least a quarter of the strongest, per sentence.
        let mut runs: Vec<Option<Vec<Range<usize>>>> = Vec::with_capacity(jobs.len());
        for (j, w) in jobs.iter().zip(&words) {
            if w.len() < 2 {
                runs.push(None);
                continue;
            }
            let head = &self.spec(j.label).head;
            let drops: Vec<f64> = vecs
                .by_ref()
                .take(w.len())
                .map(|v| j.probability - head.probability(&v))
                .collect();
            let top = drops.iter().copied().fold(0.0, f64::max);
            let mut found: Vec<Range<usize>> = Vec::new();
            if top > 0.0 {
                let mut cur: Option<Range<usize>> = None;
                for (r, d) in w.iter().zip(&drops) {
                    if *d >= 0.25 * top && *d > 0.0 {
                        cur = Some(match cur.take() {
                            Some(c) => c.start..r.end,
                            None => r.clone(),
                        });
                    } else if let Some(c) = cur.take() {
                        found.push(c);
                    }
                }
                found.extend(cur);
            }
            runs.push(Some(found));
        }
        let variants: Vec<String> = jobs
            .iter()
            .zip(&runs)
            .flat_map(|(j, r)| r.iter().flatten().map(|r| without(j.sentence, r)))
            .collect();
        let refs: Vec<&str> = variants.iter().map(String::as_str).collect();
        let mut vecs = self.embed_cached(&refs)?.into_iter();
        let mut out = Vec::with_capacity(jobs.len());
        for ((j, w), r) in jobs.iter().zip(words).zip(runs) {
            let Some(r) = r else {
                out.push(w.into_iter().map(|w| (w, j.probability)).collect());
                continue;
            };
            let head = &self.spec(j.label).head;
            let mut phrases: Attributed = r
                .into_iter()
                .zip(vecs.by_ref())
                .map(|(r, v)| (r, j.probability - head.probability(&v)))
                .filter(|(_, w)| *w > 0.0)
                .collect();
            phrases.sort_by(|a, b| b.1.total_cmp(&a.1));
            phrases.truncate(3);
            out.push(phrases);
        }
        Ok(out)
    }

    /// Analyse a note: flags with evidence, suppressed mentions, every sentence's scores.
    pub fn assess(&self, note: &str) -> Result<RiskReport, RiskError> {
        self.assess_at(
            note,
            [
                self.spec(RiskLabel::SuicidalIdeation).sentence_threshold,
                self.spec(RiskLabel::Depression).sentence_threshold,
            ],
        )
    }

    /// [`RiskModel::assess`] with other sentence thresholds (suicidal ideation, depression):
    /// the training script chooses them with this.
    pub fn assess_at(&self, note: &str, thresholds: [f64; 2]) -> Result<RiskReport, RiskError> {
        let spans = sentences(note);
        let texts: Vec<&str> = spans.iter().map(|r| &note[r.clone()]).collect();
        let vecs = self.embed_cached(&texts)?;
        let mut scores = Vec::with_capacity(spans.len());
        let mut suppressed = Vec::new();
        let mut evidence: HashMap<RiskLabel, Vec<Evidence>> = HashMap::new();
        let mut severe_hit = false;
        let severe_t = self.heads.head(SEVERE_HEAD).sentence_threshold;
        let probs: Vec<[f64; 3]> = vecs.iter().map(|v| self.probs(v)).collect();
        let mentions: Vec<Vec<negex::Mention>> = texts.iter().map(|t| negex::analyse(t)).collect();
        // Sentences over a threshold with no lexicon concept for the label are judged from
        // the phrases that drove the score: work those out first, all together.
        let mut jobs = Vec::new();
        let mut judged = Vec::new();
        for (i, (text, [p_si, p_dep, _])) in texts.iter().zip(&probs).enumerate() {
            for (label, p, threshold) in [
                (RiskLabel::SuicidalIdeation, *p_si, thresholds[0]),
                (RiskLabel::Depression, *p_dep, thresholds[1]),
            ] {
                let relevant: Vec<&negex::Mention> =
                    mentions[i].iter().filter(|m| concerns(m, label)).collect();
                let job = Attribution {
                    sentence: text,
                    label,
                    probability: p,
                };
                if relevant.is_empty() {
                    if p >= threshold {
                        jobs.push((i, job));
                    }
                } else if relevant.iter().any(|m| m.context == Context::Affirmed)
                    && (p >= threshold
                        || (label == RiskLabel::SuicidalIdeation
                            && relevant
                                .iter()
                                .any(|m| m.concept == Concept::SuicidalIdeation)))
                {
                    // Evidence whatever its phrases: the strongest are explained below.
                    judged.push((i, job));
                }
            }
        }
        // Explain the strongest of those now too, in the same encoder calls (a superset of
        // what the flags need, as phrase-judged sentences may outrank some; the flags below
        // then find them cached).
        judged.sort_by(|a, b| b.1.probability.total_cmp(&a.1.probability));
        for label in [RiskLabel::SuicidalIdeation, RiskLabel::Depression] {
            jobs.extend(
                judged
                    .iter()
                    .filter(|(_, j)| j.label == label)
                    .take(EXPLAINED)
                    .cloned(),
            );
        }
        let found = self.attribute_all(&jobs.iter().map(|(_, j)| j.clone()).collect::<Vec<_>>())?;
        let mut attributed: HashMap<(usize, RiskLabel), Attributed> =
            jobs.iter().map(|(i, j)| (*i, j.label)).zip(found).collect();
        for (i, ((span, text), [p_si, p_dep, p_sev])) in
            spans.iter().zip(&texts).zip(probs).enumerate()
        {
            let mentions = &mentions[i];
            let mut counts = Vec::new();
            for (label, p, threshold) in [
                (RiskLabel::SuicidalIdeation, p_si, thresholds[0]),
                (RiskLabel::Depression, p_dep, thresholds[1]),
            ] {
                let relevant: Vec<&negex::Mention> =
                    mentions.iter().filter(|m| concerns(m, label)).collect();
                // An affirmed explicit suicidal-ideation/self-harm phrase flags on its own.
                let explicit = label == RiskLabel::SuicidalIdeation
                    && relevant.iter().any(|m| {
                        m.concept == Concept::SuicidalIdeation && m.context == Context::Affirmed
                    });
                // Any explicit suicidal-ideation phrase is reported: flagged when affirmed,
                // listed as not counted (with its cue) when negated, someone else's, past or
                // hypothetical, so the clinician sees that "denies SI" was read.
                let mentioned = label == RiskLabel::SuicidalIdeation
                    && relevant
                        .iter()
                        .any(|m| m.concept == Concept::SuicidalIdeation);
                let over = p >= threshold || explicit || mentioned;
                // Context from the lexicon's concepts when there are any; otherwise from the
                // phrases that drove the score (only worked out when it matters).
                let mut phrases = Vec::new();
                let verdict: (Context, Option<Range<usize>>) = if !relevant.is_empty() {
                    relevant
                        .iter()
                        .find(|m| m.context == Context::Affirmed)
                        .map(|_| (Context::Affirmed, None))
                        .unwrap_or_else(|| (relevant[0].context, relevant[0].cue.clone()))
                } else if over {
                    phrases = attributed.remove(&(i, label)).unwrap_or_default();
                    match phrases.first() {
                        Some((r, _)) => negex::context_of(text, r.clone()),
                        None => (Context::Affirmed, None),
                    }
                } else {
                    (Context::Affirmed, None)
                };
                let ok = verdict.0 == Context::Affirmed;
                counts.push((label, ok));
                if !over {
                    continue;
                }
                if !ok {
                    suppressed.push(Suppressed {
                        label,
                        sentence: span.clone(),
                        probability: p,
                        context: verdict.0.as_str(),
                        cue: verdict.1.map(|c| span.start + c.start..span.start + c.end),
                    });
                    continue;
                }
                if label == RiskLabel::Depression && p_sev >= severe_t {
                    severe_hit = true;
                }
                evidence.entry(label).or_default().push(Evidence {
                    basis: if p >= threshold {
                        Basis::Model
                    } else {
                        Basis::ExplicitMention
                    },
                    sentence: span.clone(),
                    probability: p,
                    phrases: phrases
                        .into_iter()
                        .map(|(r, weight)| Phrase {
                            span: span.start + r.start..span.start + r.end,
                            weight,
                        })
                        .collect(),
                });
            }
            scores.push(SentenceScore {
                span: span.clone(),
                probability: vec![
                    (RiskLabel::SuicidalIdeation, p_si),
                    (RiskLabel::Depression, p_dep),
                ],
                severe: p_sev,
                counts,
            });
        }
        // Occlusion for the strongest sentences of each flag (what a panel shows first), all
        // together.
        let mut ordered: Vec<(RiskLabel, f64, Vec<Evidence>)> = Vec::new();
        for (label, threshold) in [
            (RiskLabel::SuicidalIdeation, thresholds[0]),
            (RiskLabel::Depression, thresholds[1]),
        ] {
            if let Some(mut ev) = evidence.remove(&label) {
                ev.sort_by(|a, b| b.probability.total_cmp(&a.probability));
                ordered.push((label, threshold, ev));
            }
        }
        let mut jobs = Vec::new();
        for (f, (label, _, ev)) in ordered.iter().enumerate() {
            for (k, e) in ev.iter().enumerate().take(EXPLAINED) {
                if e.phrases.is_empty() {
                    jobs.push((
                        f,
                        k,
                        Attribution {
                            sentence: &note[e.sentence.clone()],
                            label: *label,
                            probability: e.probability,
                        },
                    ));
                }
            }
        }
        let found =
            self.attribute_all(&jobs.iter().map(|(_, _, j)| j.clone()).collect::<Vec<_>>())?;
        for ((f, k, _), phrases) in jobs.iter().zip(found) {
            let e = &mut ordered[*f].2[*k];
            e.phrases = phrases
                .into_iter()
                .map(|(r, weight)| Phrase {
                    span: e.sentence.start + r.start..e.sentence.start + r.end,
                    weight,
                })
                .collect();
        }
        let mut flags = Vec::new();
        for (label, threshold, ev) in ordered {
            let probability = ev.first().map_or(0.0, |e| e.probability);
            let band = match label {
                RiskLabel::SuicidalIdeation if probability >= HIGH => Band::High,
                RiskLabel::Depression if severe_hit => Band::High,
                _ => Band::Moderate,
            };
            flags.push(RiskFlag {
                label,
                probability,
                threshold,
                band,
                evidence: ev,
                notice: DecisionAid,
                phq9_item9: Item9Link::Unknown,
            });
        }
        Ok(RiskReport {
            flags,
            suppressed,
            sentences: scores,
            model: self.fingerprint(),
            notice: DecisionAid,
            research_preview: self.heads.research_preview,
        })
    }
}

/// Whether a lexicon mention bears on a label (suicidal ideation counts for both).
fn concerns(m: &negex::Mention, label: RiskLabel) -> bool {
    m.concept == Concept::SuicidalIdeation
        || (label == RiskLabel::Depression && m.concept == Concept::Depression)
}

/// One sentence to explain by occlusion, for one head.
#[derive(Debug, Clone)]
struct Attribution<'a> {
    sentence: &'a str,
    label: RiskLabel,
    /// The head's probability for the whole sentence.
    probability: f64,
}

/// Phrases (byte ranges in their sentence) and how much dropping each lowers the probability.
type Attributed = Vec<(Range<usize>, f64)>;

/// Evidence sentences per flag explained by occlusion (the strongest; the others list no
/// phrases unless the rules needed them).
pub const EXPLAINED: usize = 3;

/// Calibrated probability from which a suicidal-ideation flag is banded high.
pub const HIGH: f64 = 0.8;

/// Word byte ranges (runs of non-space).
fn word_spans(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(a) = start.take() {
                out.push(a..i);
            }
        } else {
            start.get_or_insert(i);
        }
    }
    if let Some(a) = start {
        out.push(a..s.len());
    }
    out
}

/// Sentences of a note as byte ranges: cut at `.`, `!`, `?` before white space and at line
/// breaks, trimmed, none empty; a sentence over 40 words is cut into pieces.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    let push = |r: Range<usize>, out: &mut Vec<Range<usize>>| {
        let s = &text[r.clone()];
        let lead = s.len() - s.trim_start().len();
        let trail = s.len() - s.trim_end().len();
        if lead + trail >= s.len() {
            return;
        }
        let r = r.start + lead..r.end - trail;
        let words = word_spans(&text[r.clone()]);
        if words.len() <= SENTENCE_WORDS {
            out.push(r);
        } else {
            for chunk in words.chunks(SENTENCE_WORDS) {
                if let (Some(a), Some(b)) = (chunk.first(), chunk.last()) {
                    out.push(r.start + a.start..r.start + b.end);
                }
            }
        }
    };
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\n' | '\r' => Some(i),
            '.' | '!' | '?' => match chars.peek() {
                Some((_, n)) if n.is_whitespace() => Some(i + c.len_utf8()),
                None => Some(i + c.len_utf8()),
                _ => None,
            },
            _ => None,
        };
        if let Some(end) = end {
            push(start..end, &mut out);
            start = end;
        }
    }
    push(start..text.len(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_cut_at_stops_and_lines_and_long_ones_in_pieces() {
        let t = "Denies SI. Mood low!\nPHQ-9 went 12.5 to 9.  ";
        let got: Vec<&str> = sentences(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(
            got,
            vec!["Denies SI.", "Mood low!", "PHQ-9 went 12.5 to 9."]
        );
        let long = "word ".repeat(95);
        let parts = sentences(&long);
        assert_eq!(parts.len(), 3);
        assert!(sentences("  \n ").is_empty());
    }

    #[test]
    fn decision_aid_serialises_as_its_text() {
        assert_eq!(
            serde_json::to_string(&DecisionAid).ok().as_deref(),
            Some("\"decision aid, not a diagnosis\"")
        );
    }

    #[test]
    fn missing_or_bad_head_files_are_clear_errors() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let Ok(dir) = dir else { panic!("tempdir") };
        let err = RiskModel::load(dir.path()).err();
        assert!(
            matches!(err, Some(RiskError::HeadMissing { .. })),
            "{err:?}"
        );
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("train_risk"), "{msg}");
        std::fs::create_dir_all(dir.path().join(RISK_DIR)).ok();
        std::fs::write(head_path(dir.path()), b"{\"format\": 1}").ok();
        let err = RiskModel::load(dir.path()).err();
        assert!(
            matches!(err, Some(RiskError::HeadInvalid { .. })),
            "{err:?}"
        );
    }
}
