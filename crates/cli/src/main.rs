//! `hearth`: the headless Hearth binary over hearth-core, for scripts, tests and people at a
//! terminal. Each invocation unlocks the vault, does one thing and closes it (nothing stays
//! unlocked between invocations).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Args, Parser, Subcommand};
mod clinical;
mod consent;
mod insight;
mod research;
mod risk;
mod sync;

use hearth_api::{
    Diagnosis, ErrorKind, NewPatient, Patient, PatientPatch, PatientRow, PatientStatus,
};
use hearth_core::{CoreError, Hearth, HearthOptions};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "hearth",
    version,
    about = "Hearth: encrypted clinical records on this device",
    after_help = "Passphrase: asked at the terminal, or for scripts from --passphrase-file or HEARTH_PASSPHRASE.\n\
Exit codes: 0 ok, 1 error, 2 usage, 3 wrong passphrase, 4 no vault / not a vault / newer vault, 5 integrity error, 6 invalid input, 7 not found, 8 refused by consent."
)]
struct Cli {
    /// The vault file [default: the platform data folder, e.g. ~/.local/share/hearth/vault.hearth]
    #[arg(long, global = true, env = "HEARTH_VAULT")]
    vault: Option<PathBuf>,
    /// Read the passphrase from this file (first line) instead of asking.
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Create a new vault.
    Init,
    /// Change the vault's passphrase (new one from --new-passphrase-file, HEARTH_NEW_PASSPHRASE or a prompt).
    Passwd {
        /// Read the new passphrase from this file.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Where the vault is and whether it exists.
    Status,
    /// Patients.
    #[command(subcommand)]
    Patient(PatientCmd),
    /// Appointments.
    #[command(subcommand)]
    Appointment(clinical::AppointmentCmd),
    /// Occurrences in a date range (default: this week); `--today` for today.
    Calendar(clinical::CalendarArgs),
    /// Session and psychotherapy notes.
    #[command(subcommand)]
    Note(clinical::NoteCmd),
    /// PHQ-9 and GAD-7.
    #[command(subcommand)]
    Assessment(clinical::AssessmentCmd),
    /// Treatment plans.
    #[command(subcommand)]
    Plan(clinical::PlanCmd),
    /// Attached files.
    #[command(subcommand)]
    Attachment(clinical::AttachmentCmd),
    /// Export a patient as a signed .hearth archive (and FHIR R4 JSON), if their consent permits.
    Export {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Where to write the archive.
        #[arg(long)]
        out: PathBuf,
        /// Also write the FHIR R4 Bundle here.
        #[arg(long)]
        fhir: Option<PathBuf>,
        /// Why: treatment, payment, operations, research, ai-analysis or emergency.
        #[arg(long, default_value = "treatment")]
        purpose: String,
        /// Include psychotherapy notes (needs the patient's explicit permission).
        #[arg(long)]
        psychotherapy: bool,
        /// Seal the archive to this recipient (an age public key, age1…); repeat for several.
        /// Only a recipient's secret key opens it (`hearth verify --identity`).
        #[arg(long = "recipient")]
        recipients: Vec<String>,
    },
    /// Make a key pair for receiving sealed archives: the secret key goes to FILE (mode 0600,
    /// never overwritten); the public key (age1…) is printed, to give to the sender.
    RecipientKey {
        /// Where to save the secret key.
        file: PathBuf,
    },
    /// Check a .hearth archive offline (no vault needed): signatures, hashes, proofs, quorum.
    Verify {
        /// The archive.
        archive: PathBuf,
        /// The exporting device's public key (hex), if you know it from elsewhere.
        #[arg(long)]
        device_key: Option<String>,
        /// Fail (not just warn) when a checkpoint is not final.
        #[arg(long)]
        require_final: bool,
        /// An age identity file (secret key) to open an archive sealed to a recipient.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Any record, by id, as JSON (kind, id, times and value).
    Show {
        /// Record id.
        id: String,
    },
    /// Any record's change history.
    History {
        /// Record id.
        id: String,
    },
    /// Restore any record to an earlier version (a hash from `history`), as a new change.
    Restore {
        /// Record id.
        id: String,
        /// Version hash.
        version: String,
    },
    /// Patients' consent contracts.
    #[command(subcommand)]
    Consent(clinical::ConsentCmd),
    /// This device's audit log.
    #[command(subcommand)]
    Audit(clinical::AuditCmd),
    /// Full-text search over patients, notes, plans and file names.
    Search {
        /// Words to find (the last may be the start of a word).
        query: Vec<String>,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Session notes found by meaning (on-device model, with consent for ai-analysis), fused with full-text matches.
    SemanticSearch(insight::SemanticArgs),
    /// De-identified notes and measures of the patients whose consent permits research export
    /// (FHIR R4 NDJSON and a manifest of what was removed; skipped patients listed with the reason).
    ResearchExport(research::ResearchArgs),
    #[command(flatten)]
    Sync(sync::SyncCmd),
}

#[derive(Subcommand)]
enum PatientCmd {
    /// Add a patient.
    Add(PatientFields),
    /// List patients by name.
    List,
    /// Show one patient.
    Show {
        /// Patient id (from `list`).
        id: String,
    },
    /// Change fields of a patient (only the ones given).
    Edit {
        /// Patient id.
        id: String,
        #[command(flatten)]
        fields: PatientFields,
    },
    /// A patient's change history.
    History {
        /// Patient id.
        id: String,
    },
    /// Make a patient what it was at an earlier version (a hash from `history`), as a new change.
    Restore {
        /// Patient id.
        id: String,
        /// Version hash.
        version: String,
    },
}

#[derive(Args, Default)]
struct PatientFields {
    /// Full name.
    #[arg(long)]
    name: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long)]
    dob: Option<String>,
    /// Pronouns, e.g. she/her.
    #[arg(long)]
    pronouns: Option<String>,
    /// Phone number.
    #[arg(long)]
    phone: Option<String>,
    /// E-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Postal address.
    #[arg(long)]
    address: Option<String>,
    /// Notes.
    #[arg(long)]
    notes: Option<String>,
    /// Emergency contact's name.
    #[arg(long)]
    emergency_name: Option<String>,
    /// Emergency contact's relationship.
    #[arg(long)]
    emergency_relationship: Option<String>,
    /// Emergency contact's phone.
    #[arg(long)]
    emergency_phone: Option<String>,
    /// A diagnosis as CODE:TEXT (ICD-10), repeatable; replaces the list.
    #[arg(long = "diagnosis", value_name = "CODE:TEXT")]
    diagnoses: Vec<String>,
    /// active or discharged.
    #[arg(long, value_parser = ["active", "discharged"])]
    status: Option<String>,
}

impl PatientFields {
    fn into_patch(self) -> PatientPatch {
        let diagnoses = (!self.diagnoses.is_empty()).then(|| {
            self.diagnoses
                .iter()
                .map(|d| {
                    let (code, text) = d.split_once(':').unwrap_or((d.as_str(), ""));
                    Diagnosis {
                        code: code.trim().into(),
                        text: text.trim().into(),
                    }
                })
                .collect()
        });
        PatientPatch {
            name: self.name,
            date_of_birth: self.dob,
            pronouns: self.pronouns,
            phone: self.phone,
            email: self.email,
            address: self.address,
            notes: self.notes,
            emergency_name: self.emergency_name,
            emergency_relationship: self.emergency_relationship,
            emergency_phone: self.emergency_phone,
            diagnoses,
            status: self.status.map(|s| {
                if s == "discharged" {
                    PatientStatus::Discharged
                } else {
                    PatientStatus::Active
                }
            }),
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HEARTH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = match e.downcast_ref::<CoreError>().map(CoreError::kind) {
                _ if e.downcast_ref::<clinical::AuditFailed>().is_some() => 5,
                Some(ErrorKind::WrongPassphrase) => 3,
                Some(ErrorKind::NoVault | ErrorKind::NotAVault | ErrorKind::NewerSchema) => 4,
                Some(ErrorKind::Integrity) => 5,
                Some(ErrorKind::InvalidInput) => 6,
                Some(ErrorKind::NotFound) => 7,
                Some(ErrorKind::Denied) => 8,
                _ => 1,
            };
            let msg = match e.downcast_ref::<CoreError>() {
                Some(c) => c.message(),
                None => format!("{e:#}"),
            };
            eprintln!("hearth: {msg}");
            ExitCode::from(code)
        }
    }
}

/// A passphrase from a file, an environment variable or the terminal.
fn passphrase(
    file: Option<&Path>,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> anyhow::Result<Zeroizing<String>> {
    if let Some(f) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(f)
                .with_context(|| format!("could not read the passphrase file {}", f.display()))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(Zeroizing::new(line.to_string()));
    }
    if let Ok(p) = std::env::var(env) {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(anyhow!(
            "no passphrase given: this is not a terminal, so use --passphrase-file FILE or {env}"
        ));
    }
    let p = Zeroizing::new(
        rpassword::prompt_password(prompt).context("could not read the passphrase")?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Repeat it: ").context("could not read the passphrase")?,
        );
        if *again != *p {
            return Err(anyhow!("the two passphrases differ; nothing was changed"));
        }
    }
    Ok(p)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let path = match cli.vault {
        Some(p) => p,
        None => hearth_core::default_vault_path()?,
    };
    let pass_file = cli.passphrase_file.as_deref();
    let opts = HearthOptions::default().idle_lock(None);
    let unlocked = |opts: HearthOptions| -> anyhow::Result<Hearth> {
        // Check the file before asking for a passphrase.
        let h = Hearth::open(&path, opts)?;
        let p = passphrase(pass_file, "HEARTH_PASSPHRASE", "Vault passphrase: ", false)?;
        h.unlock(&p)?;
        Ok(h)
    };
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Init => {
            if path.exists() {
                return Err(CoreError::Vault(hearth_vault_exists(&path)).into());
            }
            let p = passphrase(
                pass_file,
                "HEARTH_PASSPHRASE",
                "New vault passphrase: ",
                true,
            )?;
            Hearth::create(&path, &p, opts)?.close()?;
            writeln!(out, "created vault {}", path.display())?;
        }
        Command::Passwd {
            new_passphrase_file,
        } => {
            let h = Hearth::open(&path, opts)?;
            let old = passphrase(
                pass_file,
                "HEARTH_PASSPHRASE",
                "Current passphrase: ",
                false,
            )?;
            let new = passphrase(
                new_passphrase_file.as_deref(),
                "HEARTH_NEW_PASSPHRASE",
                "New passphrase: ",
                true,
            )?;
            h.change_passphrase(&old, &new)?;
            writeln!(out, "passphrase changed")?;
        }
        Command::Consent(clinical::ConsentCmd::Keygen { file }) => {
            consent::keygen(&file, &mut out)?
        }
        Command::Consent(clinical::ConsentCmd::Sign { key, after, file }) => {
            consent::sign(&key, &file, after.as_deref(), &mut out)?
        }
        Command::RecipientKey { file } => consent::recipient_key(&file, &mut out)?,
        Command::Verify {
            archive,
            device_key,
            require_final,
            identity,
        } => {
            let mut bytes = std::fs::read(&archive)
                .with_context(|| format!("could not read {}", archive.display()))?;
            if hearth_export::is_sealed(&bytes) {
                let Some(identity) = identity else {
                    return Err(anyhow!(
                        "{} is sealed to a recipient; pass --identity with the recipient's secret key file",
                        archive.display()
                    ));
                };
                let text =
                    zeroize::Zeroizing::new(std::fs::read_to_string(&identity).with_context(
                        || format!("could not read the identity file {}", identity.display()),
                    )?);
                bytes = hearth_export::open_with(&text, &bytes)?;
                writeln!(out, "opened the sealed archive with {}", identity.display())?;
            }
            let trusted_device = match device_key {
                Some(k) => {
                    let raw = hex_decode(&k)
                        .ok_or_else(|| anyhow!("--device-key must be 64 hex digits"))?;
                    Some(raw)
                }
                None => None,
            };
            let opts = hearth_export::VerifyOptions {
                trusted_device,
                trusted_stake_table: None,
                require_final,
            };
            let report = hearth_export::verify(&bytes, &opts);
            writeln!(out, "{report}")?;
            if !report.passed() {
                return Err(anyhow!(clinical::AuditFailed(report.failures().count())));
            }
        }
        Command::Status => {
            let exists = path.exists();
            if cli.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"path": path, "exists": exists})
                )?;
            } else {
                writeln!(
                    out,
                    "vault: {}\nexists: {}",
                    path.display(),
                    if exists {
                        "yes"
                    } else {
                        "no (run `hearth init`)"
                    }
                )?;
            }
        }
        Command::Patient(cmd) => {
            let h = unlocked(opts)?;
            match cmd {
                PatientCmd::Add(fields) => {
                    let patch = fields.into_patch();
                    let p = h.add_patient(NewPatient {
                        name: patch.name.unwrap_or_default(),
                        date_of_birth: patch.date_of_birth.unwrap_or_default(),
                        pronouns: patch.pronouns.unwrap_or_default(),
                        phone: patch.phone.unwrap_or_default(),
                        email: patch.email.unwrap_or_default(),
                        address: patch.address.unwrap_or_default(),
                        notes: patch.notes.unwrap_or_default(),
                        emergency_name: patch.emergency_name.unwrap_or_default(),
                        emergency_relationship: patch.emergency_relationship.unwrap_or_default(),
                        emergency_phone: patch.emergency_phone.unwrap_or_default(),
                        diagnoses: patch.diagnoses.unwrap_or_default(),
                        status: patch.status.unwrap_or_default(),
                    })?;
                    if cli.json {
                        writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
                    } else {
                        writeln!(out, "added {} ({})", p.fields.name, p.id)?;
                    }
                }
                PatientCmd::List => {
                    let rows = h.patients()?;
                    if cli.json {
                        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                    } else {
                        print_rows(&mut out, &rows)?;
                    }
                }
                PatientCmd::Show { id } => {
                    let p = h.patient(&id)?;
                    if cli.json {
                        writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
                    } else {
                        print_patient(&mut out, &p)?;
                    }
                }
                PatientCmd::Edit { id, fields } => {
                    let patch = fields.into_patch();
                    if patch.is_empty() {
                        return Err(anyhow!(
                            "nothing to change: give at least one field, e.g. --pronouns they/them"
                        ));
                    }
                    let p = h.edit_patient(&id, patch)?;
                    if cli.json {
                        writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
                    } else {
                        writeln!(out, "saved {} ({})", p.fields.name, p.id)?;
                    }
                }
                PatientCmd::History { id } => {
                    clinical::print_history(&mut out, cli.json, &h.patient_history(&id)?)?
                }
                PatientCmd::Restore { id, version } => {
                    let p = h.restore_patient(&id, &version)?;
                    if cli.json {
                        writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
                    } else {
                        writeln!(
                            out,
                            "restored {} ({}) to version {version}",
                            p.fields.name, p.id
                        )?;
                    }
                }
            }
            h.close()?;
        }
        Command::SemanticSearch(args) => {
            let h = unlocked(opts)?;
            insight::run(&h, args, cli.json, &mut out)?;
            h.close()?;
        }
        Command::ResearchExport(args) => {
            let h = unlocked(opts)?;
            research::run(&h, args, cli.json, &mut out)?;
            h.close()?;
        }
        Command::Sync(cmd) => {
            let h = unlocked(opts)?;
            sync::run(&h, cmd, cli.json, &mut out)?;
            h.close()?;
        }
        other => {
            let h = unlocked(opts)?;
            clinical::run(&h, other, cli.json, &mut out)?;
            h.close()?;
        }
    }
    Ok(())
}

fn hearth_vault_exists(path: &Path) -> hearth_core::VaultError {
    hearth_core::VaultError::AlreadyExists { path: path.into() }
}

fn print_rows(out: &mut impl Write, rows: &[PatientRow]) -> anyhow::Result<()> {
    if rows.is_empty() {
        writeln!(
            out,
            "no patients yet (add one with `hearth patient add --name ...`)"
        )?;
    }
    for r in rows {
        match r {
            PatientRow::Ok {
                id,
                name,
                date_of_birth,
                pronouns,
                discharged,
            } => {
                let discharged = if *discharged { "  (discharged)" } else { "" };
                writeln!(
                    out,
                    "{id}  {name:<30} {date_of_birth:<10} {pronouns}{discharged}"
                )?;
            }
            PatientRow::Unreadable { id, message } => writeln!(out, "{id}  UNREADABLE: {message}")?,
        }
    }
    Ok(())
}

fn print_patient(out: &mut impl Write, p: &Patient) -> anyhow::Result<()> {
    let f = &p.fields;
    let emergency = [
        f.emergency_name.as_str(),
        f.emergency_relationship.as_str(),
        f.emergency_phone.as_str(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let status = match f.status {
        PatientStatus::Active => "active",
        PatientStatus::Discharged => "discharged",
    };
    for (label, v) in [
        ("id", p.id.as_str()),
        ("name", &f.name),
        ("date of birth", &f.date_of_birth),
        ("pronouns", &f.pronouns),
        ("phone", &f.phone),
        ("email", &f.email),
        ("address", &f.address),
        ("emergency", &emergency),
        ("status", status),
        ("created", &p.created_at),
        ("updated", &p.updated_at),
    ] {
        writeln!(out, "{label:<14} {v}")?;
    }
    for d in &f.diagnoses {
        writeln!(out, "{:<14} {} {}", "diagnosis", d.code, d.text)?;
    }
    if !f.notes.is_empty() {
        writeln!(out, "notes\n{}", f.notes)?;
    }
    Ok(())
}

fn hex_decode(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
