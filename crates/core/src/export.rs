//! Export of one patient: the FHIR R4 bundle and the signed `.hearth` archive, asked of the
//! consent evaluator first and logged as an export.

use std::collections::HashSet;

use hearth_consent::{Action, Purpose};
use hearth_export::{
    bundle, seal, ArchiveInput, AuditRecord, Document, ExportOptions, LogExport, PatientExport,
};
use hearth_ledger::{
    leaf_hash, tally, AccessAction, Entry, NoteSigner, SignedCheckpoint, StakeTable, Tree,
};
use hearth_records::envelope::Peek;
use hearth_records::{
    Appointment, Assessment, Attachment, Patient, PsychotherapyNote, RecordKind, SessionNote,
    TreatmentPlan,
};

use crate::consent::category;
use crate::{CoreError, Hearth, Result};

/// A finished export.
#[derive(Debug, Clone)]
pub struct PatientArchive {
    /// The signed `.hearth` archive.
    pub archive: Vec<u8>,
    /// The FHIR R4 Bundle (also inside the archive).
    pub bundle: serde_json::Value,
}

impl PatientArchive {
    /// Check recipients (age public keys, `age1…`) before exporting anything: an export is
    /// logged, so a typo should be refused first.
    pub fn check_recipients(recipients: &[String]) -> Result<()> {
        hearth_export::seal_to(recipients, b"")
            .map(drop)
            .map_err(|e| CoreError::Invalid(format!("recipient: {e}")))
    }

    /// The archive sealed to `recipients` (age format, X25519): only their secret keys open
    /// it; `hearth verify --identity KEY FILE` opens and verifies it.
    pub fn sealed_to(&self, recipients: &[String]) -> Result<Vec<u8>> {
        hearth_export::seal_to(recipients, &self.archive)
            .map_err(|e| CoreError::Invalid(format!("recipient: {e}")))
    }

    /// How many resources the FHIR bundle holds.
    pub fn resources(&self) -> usize {
        self.bundle
            .get("entry")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len)
    }
}

/// Where an export is: the phase, and records done of the total in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ExportProgress {
    /// `consent`, `records`, `log`, `fhir`, `documents` or `signing`.
    pub phase: &'static str,
    /// Steps done in this phase.
    pub done: usize,
    /// Steps in this phase.
    pub total: usize,
}

fn ok_peeks<T: RecordKind>(rows: Vec<(String, Result<Peek<T>>)>) -> Result<Vec<Peek<T>>> {
    rows.into_iter()
        .map(|(id, r)| {
            r.map_err(|e| {
                CoreError::Invalid(format!("record {id} cannot be exported: {}", e.message()))
            })
        })
        .collect()
}

impl Hearth {
    /// The newest of this device's checkpoints that the clinic's witnesses made final and that
    /// covers the first `needed` entries of the log (`tree`): an archive proven against it
    /// verifies as witnessed. Accesses logged after it (this export among them) are then not in
    /// the archive's audit trail.
    fn witnessed_covering(
        &self,
        tree: &Tree,
        table: &StakeTable,
        needed: u64,
    ) -> Result<Option<SignedCheckpoint>> {
        let mut best: Option<SignedCheckpoint> = None;
        for cp in self.cosigned_checkpoints()? {
            let c = cp.checkpoint();
            let final_ = tally(c, &cp.cosignatures(), table).is_final();
            // Still this log: the root at that size is the one the witnesses cosigned.
            let ours = tree.root_at(c.size()).is_ok_and(|r| r == *c.root());
            let newer = best
                .as_ref()
                .is_none_or(|b| b.checkpoint().size() < c.size());
            if final_ && ours && c.size() >= needed && newer {
                best = Some(cp);
            }
        }
        Ok(best)
    }

    /// Export a patient's records for `purpose` (e.g. "treatment" when sending to another
    /// clinic): every category included must be permitted for export by the patient's consent;
    /// psychotherapy notes only when asked and permitted.
    pub fn export_patient(
        &self,
        patient_id: &str,
        purpose: &str,
        include_psychotherapy: bool,
    ) -> Result<PatientArchive> {
        self.export_patient_with(patient_id, purpose, include_psychotherapy, &|_| {})
    }

    /// [`Hearth::export_patient`], telling `progress` where it is (for large exports).
    pub fn export_patient_with(
        &self,
        patient_id: &str,
        purpose: &str,
        include_psychotherapy: bool,
        progress: &dyn Fn(ExportProgress),
    ) -> Result<PatientArchive> {
        let step = |phase, done, total| progress(ExportProgress { phase, done, total });
        let purpose = Purpose::from_code(purpose).ok_or_else(|| {
            CoreError::Invalid(format!(
                "purpose: unknown purpose {purpose:?}; one of {}",
                Purpose::expected()
            ))
        })?;
        let mut kinds = vec![
            Patient::CATEGORY,
            Appointment::CATEGORY,
            SessionNote::CATEGORY,
            Assessment::CATEGORY,
            TreatmentPlan::CATEGORY,
            Attachment::CATEGORY,
        ];
        if include_psychotherapy {
            kinds.push(PsychotherapyNote::CATEGORY);
        }
        step("consent", 0, kinds.len());
        for c in kinds {
            let author = false;
            self.enforce(
                patient_id,
                patient_id,
                Action::Export,
                category(c),
                purpose,
                author,
            )?;
        }
        step("records", 0, 1);
        let patient = self.read_record::<Patient>(patient_id)?;
        let export = PatientExport {
            patient,
            appointments: ok_peeks(self.list_records::<Appointment>(Some(patient_id))?)?,
            notes: ok_peeks(self.list_records::<SessionNote>(Some(patient_id))?)?,
            psychotherapy_notes: if include_psychotherapy {
                ok_peeks(self.list_records::<PsychotherapyNote>(Some(patient_id))?)?
            } else {
                Vec::new()
            },
            assessments: ok_peeks(self.list_records::<Assessment>(Some(patient_id))?)?,
            plan: ok_peeks(self.list_records::<TreatmentPlan>(Some(patient_id))?)?.pop(),
            attachments: ok_peeks(self.list_records::<Attachment>(Some(patient_id))?)?,
            consents: {
                let mut vault = self.vault();
                self.contract_versions(&mut vault, patient_id)?
            },
            audit: Vec::new(),
        };
        let mut ids: HashSet<String> = HashSet::new();
        ids.insert(export.patient.id.clone());
        ids.extend(export.appointments.iter().map(|p| p.id.clone()));
        ids.extend(export.notes.iter().map(|p| p.id.clone()));
        ids.extend(export.psychotherapy_notes.iter().map(|p| p.id.clone()));
        ids.extend(export.assessments.iter().map(|p| p.id.clone()));
        ids.extend(export.plan.iter().map(|p| p.id.clone()));
        ids.extend(export.attachments.iter().map(|p| p.id.clone()));

        let total = ids.len();
        step("records", total, total);
        // The export itself is logged, then a checkpoint covers everything the archive proves.
        step("log", 0, 1);
        self.log_access(patient_id, AccessAction::Export, purpose.code())?;
        self.checkpoint()?;

        let mut vault = self.vault();
        let key = self.log_key(&mut vault)?;
        let origin = format!("hearth.local/device/{}", hex::encode(vault.device_id()));
        let entries = vault.log_entries()?;
        let (_, note) = vault
            .last_checkpoint()?
            .ok_or_else(|| CoreError::Internal("the checkpoint just made is missing".into()))?;
        let now = vault.options().clock().unix_millis().div_euclid(1000);
        drop(vault);
        let fresh =
            SignedCheckpoint::parse(&note).map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut tree = Tree::new();
        // One past the last entry that changed these records or their consents.
        let mut needed = 0u64;
        for (i, bytes) in entries.iter().enumerate() {
            tree.append_leaf_hash(leaf_hash(bytes));
            let changed = match Entry::decode(bytes) {
                Ok(Entry::Consent(c)) => c.patient.as_str() == patient_id,
                Ok(Entry::RecordChange(c)) => ids.contains(c.record.as_str()),
                _ => false,
            };
            if changed {
                needed = i as u64 + 1;
            }
        }
        let stake_table = self.stake_table()?;
        let checkpoint = self
            .witnessed_covering(&tree, &stake_table, needed)?
            .unwrap_or(fresh);
        let mut mine: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut audit = Vec::new();
        for (i, bytes) in entries.iter().enumerate() {
            let Ok(entry) = Entry::decode(bytes) else {
                continue;
            };
            let about_patient = match &entry {
                Entry::Consent(c) => c.patient.as_str() == patient_id,
                e => e.record().is_some_and(|r| ids.contains(r.as_str())),
            };
            if about_patient && (i as u64) < checkpoint.checkpoint().size() {
                mine.push((i as u64, bytes.clone()));
                audit.push(AuditRecord {
                    origin: origin.clone(),
                    index: i as u64,
                    entry,
                });
            }
        }
        let export = PatientExport { audit, ..export };
        step("fhir", 0, 1);
        let opts = ExportOptions {
            include_psychotherapy,
            exported_at: now,
            device_name: origin.clone(),
            device_key: key.verifying_key().to_bytes(),
            utc_offset: time::UtcOffset::UTC,
        };
        let fhir =
            bundle(&export, &opts).map_err(|e| CoreError::Internal(format!("FHIR export: {e}")))?;
        let mut documents = Vec::new();
        let mut sorted: Vec<&String> = ids.iter().collect();
        sorted.sort();
        for (i, id) in sorted.into_iter().enumerate() {
            // Often enough to move a progress bar, rarely enough to cost nothing.
            if i % 16 == 0 {
                step("documents", i, total);
            }
            let (kind, bytes) = self.record_document(id)?;
            documents.push(Document {
                record_id: id.clone(),
                kind,
                bytes,
            });
        }
        let verifier = NoteSigner::new(origin.clone(), key.clone())
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .verifier();
        step("documents", total, total);
        step("signing", 0, 1);
        let log = LogExport::from_tree(verifier, checkpoint, &tree, mine)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let archive = seal(
            &ArchiveInput {
                device_name: origin,
                created_at: now,
                bundle: fhir.clone(),
                documents,
                logs: vec![log],
                stake_table,
            },
            &key,
        )
        .map_err(|e| CoreError::Internal(format!("archive: {e}")))?;
        step("signing", 1, 1);
        Ok(PatientArchive {
            archive,
            bundle: fhir,
        })
    }
}
