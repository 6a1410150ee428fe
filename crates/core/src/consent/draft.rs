//! The consent editor's draft (who × what × which records, for which purpose and dates) to a
//! FHIR R4 Consent contract, and "who can see my records, and who looked".

use std::collections::BTreeMap;

use hearth_api::{AccessOverview, Accessor, ConsentDraft, ConsentPreview, ConsentRule};
use hearth_consent::{
    summary, to_fhir_json, Action, Actor, Category, Contract, ContractId, MemberId, OrganizationId,
    PatientId, Provision, Purpose, Role, Status,
};
use hearth_vault::RecordId;

use super::{invalid, today};
use crate::{Hearth, Result};

/// Rules may nest this deep (a rule, its exceptions, theirs).
const MAX_DEPTH: usize = 4;

fn codes<T>(
    field: &str,
    values: &[String],
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Result<Vec<T>> {
    values
        .iter()
        .map(|v| {
            parse(v)
                .ok_or_else(|| invalid(format!("{field}: unknown {v:?}; one of {}", expected())))
        })
        .collect()
}

fn actor(who: &str) -> std::result::Result<Option<Actor>, String> {
    let who = who.trim();
    Ok(Some(match who {
        "anyone" => return Ok(None),
        "patient-device" => Actor::PatientDevice,
        _ => {
            if let Some(role) = who.strip_prefix("role:") {
                Actor::Role(Role::from_code(role).ok_or_else(|| {
                    format!("who: unknown role {role:?}; one of {}", Role::expected())
                })?)
            } else if let Some(m) = who.strip_prefix("member:") {
                Actor::Member(MemberId::new(m).map_err(|e| format!("who: {e}"))?)
            } else if let Some(o) = who.strip_prefix("organization:") {
                Actor::Organization(OrganizationId::new(o).map_err(|e| format!("who: {e}"))?)
            } else {
                return Err(format!(
                    "who: {who:?} is not understood; use anyone, patient-device, role:<role>, member:<id> or organization:<id>"
                ));
            }
        }
    }))
}

fn date(field: &str, v: &Option<String>) -> Result<Option<time::Date>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map(Some)
            .map_err(|_| invalid(format!("{field}: {s:?} is not a date (YYYY-MM-DD)"))),
    }
}

fn provision(rule: &ConsentRule, depth: usize, path: &str) -> Result<Provision> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "{path}: exceptions nest at most {MAX_DEPTH} deep"
        )));
    }
    let mut p = if rule.permit {
        Provision::permit()
    } else {
        Provision::deny()
    };
    for who in &rule.who {
        if let Some(a) = actor(who).map_err(|e| invalid(format!("{path} {e}")))? {
            p = p.actor(a);
        }
    }
    p = p
        .actions(codes(
            &format!("{path} actions"),
            &rule.actions,
            Action::from_code,
            Action::expected,
        )?)
        .categories(codes(
            &format!("{path} categories"),
            &rule.categories,
            Category::from_code,
            Category::expected,
        )?)
        .purposes(codes(
            &format!("{path} purposes"),
            &rule.purposes,
            Purpose::from_code,
            Purpose::expected,
        )?);
    let (from, until) = (
        date(&format!("{path} from"), &rule.from)?,
        date(&format!("{path} until"), &rule.until)?,
    );
    if let (Some(f), Some(u)) = (from, until) {
        if u < f {
            return Err(invalid(format!("{path}: ends before it starts")));
        }
    }
    if from.is_some() || until.is_some() {
        p = p.period(from, until);
    }
    for (i, e) in rule.except.iter().enumerate() {
        p = p.except(provision(
            e,
            depth + 1,
            &format!("{path} exception {}", i + 1),
        )?);
    }
    Ok(p)
}

impl Hearth {
    /// Turn the editor's draft into a new contract for the patient: the plain-language summary
    /// the patient reads and the FHIR R4 Consent JSON to record (nothing is stored).
    pub fn consent_from_draft(
        &self,
        patient_id: &str,
        draft: &ConsentDraft,
    ) -> Result<ConsentPreview> {
        if draft.rules.is_empty() {
            return Err(invalid(
                "add at least one rule: who may do what with which records",
            ));
        }
        let vault = self.vault();
        let id = ContractId::new(format!("consent-{}", &RecordId::random()?.as_str()[..8]))
            .map_err(invalid)?;
        let mut contract = Contract::new(
            id,
            PatientId::new(patient_id).map_err(invalid)?,
            today(&vault),
        );
        drop(vault);
        for (i, rule) in draft.rules.iter().enumerate() {
            contract = contract.provision(provision(rule, 1, &format!("rule {}", i + 1))?);
        }
        Ok(ConsentPreview {
            summary: summary(&contract),
            fhir: to_fhir_json(&contract).map_err(invalid)?,
        })
    }

    /// "Who can see my records, and who looked": what each active contract allows, the
    /// clinic's defaults, emergency accesses and who accessed the records (from the log).
    pub fn access_overview(&self, patient_id: &str) -> Result<AccessOverview> {
        let contracts = {
            let mut vault = self.vault();
            let versions = self.contract_versions(&mut vault, patient_id)?;
            let mut heads: BTreeMap<String, Contract> = BTreeMap::new();
            for v in versions {
                let c = v.contract().clone();
                let newer = heads
                    .get(c.id.as_str())
                    .is_none_or(|h| h.version < c.version);
                if newer {
                    heads.insert(c.id.as_str().to_string(), c);
                }
            }
            heads
                .into_values()
                .filter(|c| c.status == Status::Active)
                .map(|c| summary(&c))
                .collect()
        };
        let me = {
            let mut vault = self.vault();
            let key = self.log_key(&mut vault)?;
            hex::encode(&crate::audit::device_id(&key).0[..8])
        };
        let mut by_device: BTreeMap<String, (BTreeMap<String, u64>, u64, String)> = BTreeMap::new();
        for e in self.patient_timeline(patient_id)? {
            if matches!(e.action.as_str(), "created" | "edited" | "deleted") {
                continue;
            }
            let slot = by_device.entry(e.device.clone()).or_default();
            *slot.0.entry(e.action.clone()).or_default() += 1;
            slot.1 += 1;
            if e.time > slot.2 {
                slot.2 = e.time.clone();
            }
        }
        let accessors = by_device
            .into_iter()
            .map(|(device, (actions, count, last))| Accessor {
                device: if device == me {
                    "this device".to_string()
                } else {
                    device
                },
                actions: actions
                    .iter()
                    .map(|(a, n)| format!("{a} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                count,
                last,
            })
            .collect();
        Ok(AccessOverview {
            contracts,
            defaults: vec![
                "Your treating clinician can read and write your chart for your treatment.".into(),
                "Psychotherapy notes can be read only by the clinician who wrote them.".into(),
                "Nothing is shared with anyone else unless a consent above says so.".into(),
                "In an emergency a clinician may open your chart for a few hours; it is always logged and listed here with the reason.".into(),
            ],
            break_glass: self
                .break_glass_list(patient_id)?
                .into_iter()
                .map(|mut g| {
                    if g.device == me {
                        g.device = "this device".to_string();
                    }
                    g
                })
                .collect(),
            accessors,
            patient_devices: self.patient_devices(patient_id)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_codes_of_the_api_are_understood() {
        for (code, _) in hearth_api::CONSENT_WHO {
            actor(code).unwrap();
        }
        assert!(actor("nobody").is_err());
        assert!(actor("role:wizard").is_err());
    }

    #[test]
    fn api_code_lists_match_the_consent_model() {
        let api: Vec<&str> = hearth_api::CONSENT_ACTIONS.iter().map(|c| c.0).collect();
        let model: Vec<&str> = Action::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(api, model);
        let api: Vec<&str> = hearth_api::CONSENT_CATEGORIES.iter().map(|c| c.0).collect();
        let model: Vec<&str> = Category::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(api, model);
        let api: Vec<&str> = hearth_api::CONSENT_PURPOSES.iter().map(|c| c.0).collect();
        let model: Vec<&str> = Purpose::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(api, model);
    }

    #[test]
    fn rules_nest_and_bad_codes_name_the_field() {
        let mut rule = ConsentRule {
            permit: true,
            ..Default::default()
        };
        for _ in 0..MAX_DEPTH {
            rule = ConsentRule {
                permit: true,
                except: vec![rule],
                ..Default::default()
            };
        }
        let e = provision(&rule, 1, "rule 1").unwrap_err().to_string();
        assert!(e.contains("nest"), "{e}");
        let bad = ConsentRule {
            actions: vec!["steal".into()],
            ..Default::default()
        };
        let e = provision(&bad, 1, "rule 2").unwrap_err().to_string();
        assert!(e.contains("rule 2 actions") && e.contains("steal"), "{e}");
        let backwards = ConsentRule {
            from: Some("2027-01-02".into()),
            until: Some("2027-01-01".into()),
            ..Default::default()
        };
        assert!(provision(&backwards, 1, "rule 1").is_err());
    }
}
