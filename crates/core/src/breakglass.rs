//! Break-glass: emergency access to a patient's chart outside their consent.
//!
//! A clinician types why, and for how long (at most [`MAX_BREAK_GLASS_MINUTES`]); the grant is
//! stored sealed under the patient's key and logged as its own `break-glass` access in the same
//! transaction. While it is in force this device may *read* the patient's records (never
//! psychotherapy notes written by someone else) and every such read is logged with purpose
//! `emergency`. The patient's overview and the clinic audit view list every grant.

use hearth_api::BreakGlassInfo;
use hearth_ledger::{Access, AccessAction, Entry, Token};
use hearth_vault::{NewRecord, RecordId, Vault};
use serde::{Deserialize, Serialize};

use crate::audit::{device_id, ledger_err};
use crate::records::{now_secs as now, patient_key, rfc3339};
use crate::{CoreError, Hearth, Result};

/// Vault kind of a break-glass grant.
pub(crate) const BREAK_GLASS_KIND: &str = "break-glass";

/// The longest emergency access one grant gives, in minutes.
pub const MAX_BREAK_GLASS_MINUTES: u32 = 240;

/// The shortest reason accepted, in characters: a reason must say something.
const MIN_REASON_CHARS: usize = 10;

/// A stored grant (`hearth-break-glass/1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Grant {
    v: u8,
    /// The consent member id of the device that opened it (hex of the vault's device id).
    member: String,
    /// The device's log key, first 16 hex digits (as the timeline shows devices).
    device: String,
    reason: String,
    start: i64,
    end: i64,
}

impl Grant {
    fn info(&self, id: &str, now: i64) -> BreakGlassInfo {
        BreakGlassInfo {
            id: id.to_string(),
            started: rfc3339(self.start),
            ends: rfc3339(self.end),
            reason: self.reason.clone(),
            device: self.device.clone(),
            active: self.start <= now && now < self.end,
        }
    }
}

impl Hearth {
    /// Open a patient's chart in an emergency: `reason` says why (at least 10 characters),
    /// `minutes` how long (1 to 240). Logged at once as a break-glass access.
    pub fn break_glass(
        &self,
        patient_id: &str,
        reason: &str,
        minutes: u32,
    ) -> Result<BreakGlassInfo> {
        let reason = reason.trim();
        if reason.chars().count() < MIN_REASON_CHARS {
            return Err(CoreError::Invalid(format!(
                "break-glass: type the reason for the emergency access (at least {MIN_REASON_CHARS} characters); it is shown to the patient and the clinic"
            )));
        }
        if !(1..=MAX_BREAK_GLASS_MINUTES).contains(&minutes) {
            return Err(CoreError::Invalid(format!(
                "break-glass: the access lasts 1 to {MAX_BREAK_GLASS_MINUTES} minutes, not {minutes}; open a new one when it ends if the emergency goes on"
            )));
        }
        let mut vault = self.vault();
        let key = patient_key(&mut vault, patient_id)?;
        let log_key = self.log_key(&mut vault)?;
        let start = now(&vault);
        let grant = Grant {
            v: 1,
            member: hex::encode(vault.device_id()),
            device: hex::encode(&device_id(&log_key).0[..8]),
            reason: reason.to_string(),
            start,
            end: start + i64::from(minutes) * 60,
        };
        let id = RecordId::random()?;
        let json = serde_json::to_vec(&grant)
            .map_err(|e| CoreError::Internal(format!("break-glass grant: {e}")))?;
        let entry = Entry::Access(Access {
            record: hearth_ledger::RecordId::new(id.as_str()).map_err(ledger_err)?,
            action: AccessAction::BreakGlass,
            purpose: Token::new("emergency").map_err(ledger_err)?,
            actor: device_id(&log_key),
            time: u64::try_from(start).unwrap_or(0),
        })
        .encode()
        .map_err(ledger_err)?;
        vault.put_batch_logged(
            &[NewRecord {
                id: &id,
                kind: BREAK_GLASS_KIND,
                key: &key,
                plaintext: &json,
            }],
            &[entry],
        )?;
        Ok(grant.info(id.as_str(), start))
    }

    /// Every emergency access to a patient's chart, newest first.
    pub fn break_glass_list(&self, patient_id: &str) -> Result<Vec<BreakGlassInfo>> {
        let mut vault = self.vault();
        let now = now(&vault);
        let mut out: Vec<(i64, BreakGlassInfo)> = grants(&mut vault, patient_id)?
            .into_iter()
            .map(|(id, g)| (g.start, g.info(&id, now)))
            .collect();
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        Ok(out.into_iter().map(|(_, i)| i).collect())
    }
}

fn grants(vault: &mut Vault, patient_id: &str) -> Result<Vec<(String, Grant)>> {
    let key = patient_key(vault, patient_id)?;
    let mut out = Vec::new();
    for (id, rec) in vault.open_under_key(BREAK_GLASS_KIND, &key)? {
        let rec = rec?;
        let grant: Grant = serde_json::from_slice(&rec.plaintext).map_err(|e| {
            CoreError::Internal(format!("break-glass grant {id} cannot be read: {e}"))
        })?;
        out.push((id.to_string(), grant));
    }
    Ok(out)
}

/// The grant in force for this device on the patient's chart, if any.
pub(crate) fn active_grant(vault: &mut Vault, patient_id: &str) -> Result<Option<BreakGlassInfo>> {
    let me = hex::encode(vault.device_id());
    let now = now(vault);
    Ok(grants(vault, patient_id)?
        .into_iter()
        .filter(|(_, g)| g.member == me && g.start <= now && now < g.end)
        .max_by_key(|(_, g)| g.end)
        .map(|(id, g)| g.info(&id, now)))
}
