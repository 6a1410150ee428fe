//! Consent commands beyond recording paper forms: break-glass, the patient's access overview,
//! registering the patient's device and accepting consents it signed, and the patient-side
//! `keygen` and `sign`, which need no vault.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use ed25519_dalek::SigningKey;
use hearth_consent::{from_fhir_json, SignedContract};
use hearth_core::Hearth;
use zeroize::Zeroizing;

/// Write a secret to a new file only its owner can read; an existing file is never replaced.
fn write_secret(path: &Path, secret: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| {
        format!(
            "could not create {} (an existing key is never overwritten; choose another file)",
            path.display()
        )
    })?;
    f.write_all(secret)?;
    f.sync_all()?;
    Ok(())
}

/// `hearth recipient-key`: an age identity for receiving sealed archives.
pub(crate) fn recipient_key(path: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    use hearth_export::age_secret::ExposeSecret as _;
    let (secret, public) = hearth_export::new_identity();
    write_secret(path, secret.expose_secret().as_bytes())?;
    writeln!(out, "recipient: {public}")?;
    writeln!(
        out,
        "Give this to whoever sends you an archive (`hearth export --recipient {public}`); keep {} secret.",
        path.display()
    )?;
    Ok(())
}

/// Create a signing key for the patient's device in `path` (mode 0600; never overwritten).
pub(crate) fn keygen(path: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let secret = Zeroizing::new(hex::encode(key.to_bytes()));
    write_secret(path, secret.as_bytes())?;
    let public = key.verifying_key();
    writeln!(out, "public key:  {}", hex::encode(public.as_bytes()))?;
    writeln!(
        out,
        "fingerprint: {}",
        hearth_core::fingerprint(public.as_bytes())
    )?;
    writeln!(
        out,
        "Give the public key to the clinic (`hearth consent device`); compare the fingerprint there."
    )?;
    Ok(())
}

fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("could not read the key file {}", path.display()))?,
    );
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), &mut *bytes).map_err(|_| {
        anyhow!(
            "{} is not a Hearth device key (64 hex digits); make one with `hearth consent keygen`",
            path.display()
        )
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Sign a FHIR R4 Consent as the patient. With `after` (the previous version's FHIR JSON, as
/// `hearth consent list --json` prints it), the consent becomes that contract's next version.
pub(crate) fn sign(
    key: &Path,
    fhir: &Path,
    after: Option<&Path>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let key = read_key(key)?;
    let text = std::fs::read_to_string(fhir)
        .with_context(|| format!("could not read {}", fhir.display()))?;
    let mut contract = from_fhir_json(&text)?;
    if let Some(after) = after {
        let prev_text = std::fs::read_to_string(after)
            .with_context(|| format!("could not read {}", after.display()))?;
        let prev = match SignedContract::from_json(&prev_text) {
            Ok(s) => s.contract().clone(),
            Err(_) => from_fhir_json(&prev_text)?,
        };
        if prev.id != contract.id {
            bail!(
                "{} is version {} of contract {}, not of {}; sign a new version of the same contract",
                after.display(),
                prev.version,
                prev.id.as_str(),
                contract.id.as_str()
            );
        }
        let next = prev.next_version(contract.date)?;
        contract.version = next.version;
        contract.previous = next.previous;
    }
    // What the patient signs is their own consent, not a clinician's attestation.
    contract.attestation = None;
    let signed = SignedContract::sign(contract, &key)?;
    writeln!(out, "{}", signed.to_json()?)?;
    Ok(())
}

/// `hearth consent break-glass`.
pub(crate) fn break_glass(
    h: &Hearth,
    patient: &str,
    reason: &str,
    minutes: u32,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let g = h.break_glass(patient, reason, minutes)?;
    if as_json {
        writeln!(out, "{}", serde_json::to_string_pretty(&g)?)?;
    } else {
        writeln!(
            out,
            "EMERGENCY ACCESS open until {} ({minutes} min). It is logged and shown to the patient and the clinic.",
            g.ends
        )?;
    }
    Ok(())
}

/// `hearth consent who`: who can see the patient's records, and who looked.
pub(crate) fn who(
    h: &Hearth,
    patient: &str,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let o = h.access_overview(patient)?;
    if as_json {
        writeln!(out, "{}", serde_json::to_string_pretty(&o)?)?;
        return Ok(());
    }
    writeln!(out, "Who can see these records")?;
    if o.contracts.is_empty() {
        writeln!(out, "  (no consent contract: the defaults below apply)")?;
    }
    for c in &o.contracts {
        writeln!(out, "  - {c}")?;
    }
    for d in &o.defaults {
        writeln!(out, "  * {d}")?;
    }
    if !o.break_glass.is_empty() {
        writeln!(out, "Emergency accesses")?;
        for g in &o.break_glass {
            writeln!(
                out,
                "  ! {} to {} by device {}{}: {}",
                g.started,
                g.ends,
                g.device,
                if g.active { " (ACTIVE)" } else { "" },
                g.reason
            )?;
        }
    }
    writeln!(out, "Who looked")?;
    if o.accessors.is_empty() {
        writeln!(out, "  nobody yet")?;
    }
    for a in &o.accessors {
        writeln!(out, "  {}: {} (last {})", a.device, a.actions, a.last)?;
    }
    if !o.patient_devices.is_empty() {
        writeln!(out, "Patient's signing devices")?;
        for d in &o.patient_devices {
            writeln!(out, "  {d}")?;
        }
    }
    Ok(())
}
