//! Consent contracts in the vault, and the check every read and export asks first.
//!
//! Each contract version is stored as its own sealed record (kind `consent`, under the
//! patient's data key) in the `hearth-signed-consent/1` form, and logged as a consent event.
//! On this device the user is the treating clinician; psychotherapy notes are readable only
//! by their author (the device that created them), unless a contract says otherwise.

use hearth_api::ConsentInfo;
use hearth_consent::{
    from_fhir_json, summary, to_fhir_json, Action, Attestation, Category, ConsentSet, Contract,
    ContractId, MemberId, PatientId, Purpose, Request, Requester, Role, SignedContract, Status,
};
use hearth_ledger::{ConsentAction, Entry};
use hearth_vault::{NewRecord, RecordId, Vault};

use crate::records::patient_key;
use crate::{audit, CoreError, Hearth, Result};

mod draft;
mod signed;

pub use signed::fingerprint;

/// Vault kind of a stored contract version.
pub(crate) const CONSENT_KIND: &str = "consent";

fn invalid(e: impl std::fmt::Display) -> CoreError {
    CoreError::Invalid(format!("consent: {e}"))
}

pub(crate) fn today(vault: &Vault) -> time::Date {
    hearth_records::date_of(vault.options().clock().unix_millis().div_euclid(1000))
}

fn info(s: &SignedContract) -> Result<ConsentInfo> {
    let c = s.contract();
    Ok(ConsentInfo {
        contract_id: c.id.as_str().to_string(),
        version: c.version,
        status: c.status.code().to_string(),
        date: hearth_consent::fhir::format_date(c.date),
        attested: c.attestation.is_some(),
        summary: summary(c),
        fhir: to_fhir_json(c).map_err(invalid)?,
    })
}

impl Hearth {
    /// This device as a clinic member id.
    fn member(&self, vault: &Vault) -> Result<MemberId> {
        MemberId::new(hex::encode(vault.device_id())).map_err(invalid)
    }

    /// Every stored version of a patient's contracts.
    pub(crate) fn contract_versions(
        &self,
        vault: &mut Vault,
        patient_id: &str,
    ) -> Result<Vec<SignedContract>> {
        let key = patient_key(vault, patient_id)?;
        let mut out = Vec::new();
        for (id, rec) in vault.open_under_key(CONSENT_KIND, &key)? {
            let rec = rec?;
            let text = std::str::from_utf8(&rec.plaintext)
                .map_err(|_| CoreError::Internal(format!("consent record {id} is not text")))?;
            out.push(SignedContract::from_json(text).map_err(invalid)?);
        }
        out.sort_by_key(|s| (s.contract().id.as_str().to_string(), s.contract().version));
        Ok(out)
    }

    fn store_version(
        &self,
        vault: &mut Vault,
        patient_id: &str,
        signed: &SignedContract,
        action: ConsentAction,
    ) -> Result<()> {
        let key = patient_key(vault, patient_id)?;
        let json = signed.to_json().map_err(invalid)?;
        let hash = signed.contract().hash().map_err(invalid)?;
        let entry = Entry::Consent(hearth_ledger::Consent {
            patient: hearth_ledger::RecordId::new(patient_id).map_err(invalid)?,
            contract: hearth_ledger::Hash(hash.0),
            action,
            time: audit::now_secs(vault),
        })
        .encode()
        .map_err(invalid)?;
        vault.put_batch_logged(
            &[NewRecord {
                id: &RecordId::random()?,
                kind: CONSENT_KIND,
                key: &key,
                plaintext: json.as_bytes(),
            }],
            &[entry],
        )?;
        Ok(())
    }

    /// Record a consent the patient signed on paper, given as FHIR R4 Consent JSON; this device
    /// attests it. A new contract starts at version 1; a new version of a known contract must
    /// follow its newest version.
    pub fn record_paper_consent(&self, patient_id: &str, fhir_json: &str) -> Result<ConsentInfo> {
        let mut contract = from_fhir_json(fhir_json).map_err(invalid)?;
        let mut vault = self.vault();
        if contract.patient.as_str() != patient_id {
            return Err(invalid(format!(
                "it is about patient {}, not {patient_id}",
                contract.patient.as_str()
            )));
        }
        let versions = self.contract_versions(&mut vault, patient_id)?;
        let head = versions
            .iter()
            .filter(|v| v.contract().id == contract.id)
            .max_by_key(|v| v.contract().version);
        match head {
            None if contract.version != 1 => {
                return Err(invalid(format!(
                    "contract {} is new here, so it must be version 1",
                    contract.id.as_str()
                )))
            }
            None => {}
            Some(h) => {
                if h.contract().status == Status::Inactive {
                    return Err(invalid(
                        "that contract was revoked; record a new contract instead",
                    ));
                }
                let next = h.contract().next_version(contract.date).map_err(invalid)?;
                contract.version = next.version;
                contract.previous = next.previous;
            }
        }
        let by = self.member(&vault)?;
        contract = contract.attested(Attestation {
            by,
            date: today(&vault),
            scan: None,
        });
        let signed = SignedContract::attested(contract).map_err(invalid)?;
        self.store_version(&mut vault, patient_id, &signed, ConsentAction::Granted)?;
        info(&signed)
    }

    /// Revoke a contract: a new version with status inactive.
    pub fn revoke_consent(&self, patient_id: &str, contract_id: &str) -> Result<ConsentInfo> {
        let mut vault = self.vault();
        let id = ContractId::new(contract_id).map_err(invalid)?;
        let versions = self.contract_versions(&mut vault, patient_id)?;
        let head = versions
            .iter()
            .filter(|v| v.contract().id == id)
            .max_by_key(|v| v.contract().version)
            .ok_or_else(|| invalid(format!("no contract {contract_id} for this patient")))?;
        if head.contract().status == Status::Inactive {
            return Err(invalid("that contract is already revoked"));
        }
        let by = self.member(&vault)?;
        let revoked = head
            .contract()
            .revocation(today(&vault))
            .map_err(invalid)?
            .attested(Attestation {
                by,
                date: today(&vault),
                scan: None,
            });
        let signed = SignedContract::attested(revoked).map_err(invalid)?;
        self.store_version(&mut vault, patient_id, &signed, ConsentAction::Withdrawn)?;
        info(&signed)
    }

    /// A starting point for a paper consent, as FHIR R4 Consent JSON: clinicians may read,
    /// write and export the chart (not psychotherapy notes) for treatment. Edit, then record it.
    pub fn consent_template(&self, patient_id: &str) -> Result<String> {
        let vault = self.vault();
        let id = ContractId::new(format!("consent-{}", &RecordId::random()?.as_str()[..8]))
            .map_err(invalid)?;
        let contract = Contract::new(
            id,
            PatientId::new(patient_id).map_err(invalid)?,
            today(&vault),
        )
        .provision(
            hearth_consent::Provision::permit()
                .actor(hearth_consent::Actor::Role(Role::Clinician))
                .actions([Action::Read, Action::Write, Action::Export])
                .purposes([Purpose::Treatment])
                .categories(
                    Category::ALL
                        .iter()
                        .copied()
                        .filter(|c| *c != Category::PsychotherapyNotes),
                ),
        );
        to_fhir_json(&contract).map_err(invalid)
    }

    /// A patient's contracts, every version, oldest first.
    pub fn consents(&self, patient_id: &str) -> Result<Vec<ConsentInfo>> {
        let mut vault = self.vault();
        self.contract_versions(&mut vault, patient_id)?
            .iter()
            .map(info)
            .collect()
    }

    /// Ask the patient's contracts (and the defaults) whether this device may do `action` on
    /// records of `category` for `purpose`. `author` says whether this device wrote the record.
    pub(crate) fn decide(
        &self,
        patient_id: &str,
        action: Action,
        category: Category,
        purpose: Purpose,
        author: bool,
    ) -> Result<hearth_consent::Decision> {
        // A patient's own device: the patient reads and takes away their own records (what the
        // clinic's contracts shared with their devices, nothing else is here); anything else
        // the contracts decide, with this device as the patient's.
        let own = self.own_patient()?;
        if let Some(own) = &own {
            if own != patient_id {
                return Ok(hearth_consent::Decision {
                    permit: false,
                    reason: format!(
                        "this is the patient {own}'s own device; it holds no one else's records"
                    ),
                    deciding: None,
                });
            }
            if matches!(action, Action::Read | Action::Export) {
                return Ok(hearth_consent::Decision {
                    permit: true,
                    reason: "your own records, on your own device".into(),
                    deciding: None,
                });
            }
        }
        let mut vault = self.vault();
        let contracts: Vec<Contract> = self
            .contract_versions(&mut vault, patient_id)?
            .into_iter()
            .map(|s| s.contract().clone())
            .collect();
        let mut actor = match own {
            Some(_) => Requester::new(self.member(&vault)?, Role::Patient).patient_device(),
            None => Requester::new(self.member(&vault)?, Role::Clinician).treating_clinician(),
        };
        if author {
            actor = actor.author();
        }
        let req = Request {
            actor,
            action,
            category,
            patient: PatientId::new(patient_id).map_err(invalid)?,
            purpose,
            time: today(&vault),
            record_date: None,
        };
        Ok(ConsentSet::new(contracts).evaluate(&req))
    }

    /// Refuse with the deciding reason unless permitted; a refusal is logged. On success,
    /// the purpose to log the access under: `purpose`'s code, or `emergency` when only an
    /// active break-glass grant lets this device read the record.
    pub(crate) fn enforce(
        &self,
        patient_id: &str,
        record_id: &str,
        action: Action,
        category: Category,
        purpose: Purpose,
        author: bool,
    ) -> Result<&'static str> {
        let d = self.decide(patient_id, action, category, purpose, author)?;
        if d.permit {
            return Ok(purpose.code());
        }
        // Break-glass opens reads of the chart, never someone else's psychotherapy notes.
        if action == Action::Read && category != Category::PsychotherapyNotes {
            let grant = crate::breakglass::active_grant(&mut self.vault(), patient_id)?;
            if grant.is_some() {
                return Ok(Purpose::Emergency.code());
            }
        }
        // The refusal itself is an access event worth keeping.
        let _ = self.log_access(record_id, hearth_ledger::AccessAction::View, "denied");
        Err(CoreError::Denied(d.reason))
    }

    /// Whether this device may do `action` ("read", "export", …) on a patient's records of
    /// `category` for `purpose`, with the reason (for the consent screen and `hearth consent check`).
    pub fn consent_check(
        &self,
        patient_id: &str,
        action: &str,
        category: &str,
        purpose: &str,
    ) -> Result<(bool, String)> {
        let action = Action::from_code(action).ok_or_else(|| {
            invalid(format!(
                "unknown action {action:?}; one of {}",
                Action::expected()
            ))
        })?;
        let category = Category::from_code(category).ok_or_else(|| {
            invalid(format!(
                "unknown category {category:?}; one of {}",
                Category::expected()
            ))
        })?;
        let purpose = Purpose::from_code(purpose).ok_or_else(|| {
            invalid(format!(
                "unknown purpose {purpose:?}; one of {}",
                Purpose::expected()
            ))
        })?;
        let d = self.decide(patient_id, action, category, purpose, false)?;
        Ok((d.permit, d.reason))
    }
}

/// The consent category of a record category.
pub(crate) fn category(c: hearth_records::Category) -> Category {
    Category::from_code(c.as_str()).unwrap_or(Category::ProgressNotes)
}

impl Hearth {
    /// Refuse unless this device may read `T` records of the patient for treatment; on
    /// success, the purpose to log the view under (see [`Hearth::enforce`]).
    pub(crate) fn enforce_read<T: hearth_records::RecordKind>(
        &self,
        patient_id: &str,
        record_id: &str,
        author: bool,
    ) -> Result<&'static str> {
        self.enforce(
            patient_id,
            record_id,
            Action::Read,
            category(T::CATEGORY),
            Purpose::Treatment,
            author,
        )
    }

    /// Refuse unless this device may read the patient's `T` records; a permitted listing is
    /// logged as a view (`list:<kind>:<patient>`).
    pub(crate) fn enforce_list<T: hearth_records::RecordKind>(
        &self,
        patient_id: &str,
    ) -> Result<()> {
        let list = format!("list:{}:{patient_id}", T::KIND);
        let purpose = self.enforce_read::<T>(patient_id, &list, false)?;
        self.log_access(&list, hearth_ledger::AccessAction::View, purpose)
    }

    /// Whether this device made the record (its first change is by this device).
    pub(crate) fn is_author<T: hearth_records::RecordKind>(&self, record_id: &str) -> Result<bool> {
        let me = hex::encode(self.vault().device_id());
        Ok(self
            .record_history::<T>(record_id)?
            .first()
            .is_some_and(|h| h.device == me))
    }
}

/// Read decisions for filtering many records at once (search results, the calendar),
/// memoised per patient and category for one operation.
pub(crate) struct ReadFilter<'a> {
    hearth: &'a Hearth,
    seen: std::collections::HashMap<(String, Category), bool>,
}

impl<'a> ReadFilter<'a> {
    pub(crate) fn new(hearth: &'a Hearth) -> Self {
        Self {
            hearth,
            seen: std::collections::HashMap::new(),
        }
    }

    /// Whether this device may read the patient's records of `category` for treatment (or
    /// under an active break-glass grant). `author`: this device wrote the record.
    pub(crate) fn allows(
        &mut self,
        patient_id: &str,
        category: hearth_records::Category,
        author: bool,
    ) -> Result<bool> {
        let category = self::category(category);
        if author {
            // Authorship only matters for psychotherapy notes; don't memoise it.
            let d =
                self.hearth
                    .decide(patient_id, Action::Read, category, Purpose::Treatment, true)?;
            return Ok(d.permit);
        }
        if let Some(v) = self.seen.get(&(patient_id.to_string(), category)) {
            return Ok(*v);
        }
        let mut ok = self
            .hearth
            .decide(
                patient_id,
                Action::Read,
                category,
                Purpose::Treatment,
                false,
            )?
            .permit;
        if !ok && category != Category::PsychotherapyNotes {
            ok = crate::breakglass::active_grant(&mut self.hearth.vault(), patient_id)?.is_some();
        }
        self.seen.insert((patient_id.to_string(), category), ok);
        Ok(ok)
    }
}
