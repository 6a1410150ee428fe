//! The research export: de-identified notes and measures of the patients whose consent permits
//! export for purpose `research`, under pseudonymous ids; every refusal and every export logged.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use hearth_consent::{Action, Purpose};
use hearth_export::deid::{Deidentifier, ExportSecret};
use hearth_export::{research_export, Omitted, ResearchManifest, ResearchPatient, Skipped};
use hearth_ledger::AccessAction;
use hearth_records::envelope::Peek;
use hearth_records::{Assessment, Patient, RecordKind, SessionNote};

use crate::consent::category;
use crate::{CoreError, Hearth, Result};

/// A finished research export.
#[derive(Debug, Clone)]
pub struct ResearchExport {
    /// De-identified FHIR R4 resources (Patient, DocumentReference, Observation), one a line.
    pub ndjson: String,
    /// The manifest (counts removed by kind, included and skipped patients by pseudonym), as
    /// pretty JSON.
    pub manifest_json: String,
    /// The manifest.
    pub manifest: ResearchManifest,
    /// Vault ids of the patients exported (for the person exporting; not in the export).
    pub included: Vec<String>,
    /// Vault ids of the patients left out, with the reason (not in the export: the manifest
    /// lists them by pseudonym).
    pub skipped: Vec<(String, String)>,
}

/// What is exported for research, per record category.
const CATEGORIES: [hearth_records::Category; 2] = [SessionNote::CATEGORY, Assessment::CATEGORY];

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
    /// Export signed progress notes and PHQ-9/GAD-7 results, de-identified, for research: of
    /// the given patients, or of every patient when `patient_ids` is `None`. A patient is
    /// included only for the categories their consent permits to export for purpose
    /// `research` (the birth year only if demographics are permitted too); a patient with
    /// neither notes nor measures permitted is skipped with the evaluator's reason, and the
    /// refusal is logged. Every included patient's export is logged as an access.
    ///
    /// `secret` keys the pseudonyms and date shifts; `None` draws a fresh one, so two exports
    /// cannot be linked and nothing can be reversed once it is dropped.
    pub fn research_export(
        &self,
        patient_ids: Option<&[String]>,
        secret: Option<[u8; 32]>,
    ) -> Result<ResearchExport> {
        let ids: Vec<String> = match patient_ids {
            Some(ids) => ids.to_vec(),
            None => {
                let mut ids: Vec<String> = self
                    .list_records::<Patient>(None)?
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
                ids.sort();
                ids
            }
        };
        let mut included = Vec::new();
        let mut skipped = Vec::new();
        for pid in &ids {
            let patient = match self.read_record::<Patient>(pid) {
                Ok(p) => p,
                Err(e) if e.kind() != hearth_api::ErrorKind::Integrity => return Err(e),
                Err(e) => {
                    skipped.push(Skipped {
                        patient_id: pid.clone(),
                        reason: format!("the patient record cannot be opened: {}", e.message()),
                    });
                    continue;
                }
            };
            let mut permitted = Vec::new();
            let mut omitted = Vec::new();
            for c in CATEGORIES {
                match self.enforce(
                    pid,
                    pid,
                    Action::Export,
                    category(c),
                    Purpose::Research,
                    false,
                ) {
                    Ok(_) => permitted.push(c),
                    Err(CoreError::Denied(reason)) => omitted.push(Omitted {
                        category: c.as_str().to_string(),
                        reason,
                    }),
                    Err(e) => return Err(e),
                }
            }
            if permitted.is_empty() {
                let reason = omitted
                    .first()
                    .map(|o| o.reason.clone())
                    .unwrap_or_else(|| "no category permitted".into());
                skipped.push(Skipped {
                    patient_id: pid.clone(),
                    reason,
                });
                continue;
            }
            let demographics = self
                .decide(
                    pid,
                    Action::Export,
                    category(Patient::CATEGORY),
                    Purpose::Research,
                    false,
                )?
                .permit;
            let notes = if permitted.contains(&SessionNote::CATEGORY) {
                ok_peeks(self.list_records::<SessionNote>(Some(pid))?)?
            } else {
                Vec::new()
            };
            let assessments = if permitted.contains(&Assessment::CATEGORY) {
                ok_peeks(self.list_records::<Assessment>(Some(pid))?)?
            } else {
                Vec::new()
            };
            let mut p = ResearchPatient {
                patient,
                notes,
                assessments,
                omitted,
                birth_year: demographics,
            };
            if !demographics {
                p.omitted.push(Omitted {
                    category: Patient::CATEGORY.as_str().to_string(),
                    reason: "birth year left out: demographics not permitted for research".into(),
                });
            }
            included.push(p);
        }
        // Held in wiped memory; not given: a fresh one, so two exports cannot be linked.
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        match secret {
            Some(s) => *key = s,
            None => getrandom::getrandom(&mut key[..]).map_err(|e| {
                CoreError::Internal(format!("no randomness for the export secret: {e}"))
            })?,
        }
        let deid = Deidentifier::new(ExportSecret::from_bytes(*key))
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let now = self
            .vault()
            .options()
            .clock()
            .unix_millis()
            .div_euclid(1000);
        let out = research_export(&deid, &included, &skipped, now)
            .map_err(|e| CoreError::Internal(format!("research export: {e}")))?;
        // The export of each included patient is logged before the data is handed out.
        for p in &included {
            self.log_access(
                &p.patient.id,
                AccessAction::Export,
                Purpose::Research.code(),
            )?;
        }
        let manifest_json = serde_json::to_string_pretty(&out.manifest)
            .map_err(|e| CoreError::Internal(format!("research manifest: {e}")))?;
        Ok(ResearchExport {
            ndjson: out.ndjson,
            manifest_json,
            manifest: out.manifest,
            included: included.iter().map(|p| p.patient.id.clone()).collect(),
            skipped: skipped
                .into_iter()
                .map(|s| (s.patient_id, s.reason))
                .collect(),
        })
    }

    /// [`Hearth::research_export`] written into `dir` (made if missing) as `research.ndjson`
    /// and `manifest.json`, new files readable by their owner only. Existing files are never
    /// replaced: that is refused before anything is exported or logged. Returns the export and
    /// the two paths.
    pub fn research_export_to(
        &self,
        dir: &Path,
        patient_ids: Option<&[String]>,
    ) -> Result<(ResearchExport, PathBuf, PathBuf)> {
        let data = dir.join("research.ndjson");
        let manifest = dir.join("manifest.json");
        for p in [&data, &manifest] {
            if p.exists() {
                return Err(CoreError::Invalid(format!(
                    "{} already exists; an export is never overwritten: choose another folder",
                    p.display()
                )));
            }
        }
        std::fs::create_dir_all(dir).map_err(io("create the folder", dir))?;
        let x = self.research_export(patient_ids, None)?;
        write_new(&data, x.ndjson.as_bytes())?;
        write_new(&manifest, x.manifest_json.as_bytes())?;
        Ok((x, data, manifest))
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CoreError + 'a {
    move |source| {
        CoreError::Vault(hearth_vault::VaultError::Io {
            action,
            path: path.into(),
            source,
        })
    }
}

/// Write a new file readable by its owner only; an existing file is never replaced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(io("create", path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io("write", path))
}
