//! Appointments, calendar, notes, assessments, plans, attachments and search from the CLI.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand, ValueEnum};
use hearth_api as api;
use hearth_api::{HistoryEntry, Stored};
use hearth_core::Hearth;
use serde::Serialize;

use crate::Command;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Template {
    Soap,
    Dap,
    Birp,
    Free,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Instrument {
    Phq9,
    Gad7,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Status {
    Scheduled,
    Attended,
    NoShow,
    Cancelled,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Repeat {
    None,
    Weekly,
    Biweekly,
}

#[derive(Args)]
pub(crate) struct AppointmentFields {
    /// Start, local time, YYYY-MM-DDTHH:MM.
    #[arg(long)]
    start: Option<String>,
    /// Minutes.
    #[arg(long)]
    duration: Option<u32>,
    /// Status.
    #[arg(long, value_enum)]
    status: Option<Status>,
    /// CPT service code, e.g. 90834.
    #[arg(long)]
    code: Option<String>,
    /// Repeat.
    #[arg(long, value_enum)]
    recurrence: Option<Repeat>,
    /// Last date of a series, YYYY-MM-DD.
    #[arg(long)]
    until: Option<String>,
    /// Room or link.
    #[arg(long)]
    location: Option<String>,
}

impl AppointmentFields {
    fn apply(self, a: &mut api::Appointment) {
        if let Some(v) = self.start {
            a.start = v;
        }
        if let Some(v) = self.duration {
            a.duration_min = v;
        }
        if let Some(v) = self.status {
            a.status = match v {
                Status::Scheduled => api::AppointmentStatus::Scheduled,
                Status::Attended => api::AppointmentStatus::Attended,
                Status::NoShow => api::AppointmentStatus::NoShow,
                Status::Cancelled => api::AppointmentStatus::Cancelled,
            };
        }
        if let Some(v) = self.code {
            a.service_code = v;
        }
        if let Some(v) = self.recurrence {
            a.recurrence = match v {
                Repeat::None => api::Recurrence::None,
                Repeat::Weekly => api::Recurrence::Weekly,
                Repeat::Biweekly => api::Recurrence::Biweekly,
            };
        }
        if let Some(v) = self.until {
            a.recurrence_until = v;
        }
        if let Some(v) = self.location {
            a.location = v;
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum AppointmentCmd {
    /// Book an appointment.
    Add {
        /// Patient id.
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: AppointmentFields,
    },
    /// List appointments (one patient's, or all).
    List {
        /// Patient id.
        #[arg(long)]
        patient: Option<String>,
    },
    /// Show one.
    Show {
        /// Appointment id.
        id: String,
    },
    /// Change one (e.g. --status attended).
    Edit {
        /// Appointment id.
        id: String,
        #[command(flatten)]
        fields: AppointmentFields,
    },
    /// Its history.
    History {
        /// Appointment id.
        id: String,
    },
}

#[derive(Args)]
pub(crate) struct CalendarArgs {
    /// Only today.
    #[arg(long)]
    today: bool,
    /// The week starting on this date (YYYY-MM-DD) [default: this week, from Monday].
    #[arg(long)]
    week: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum NoteCmd {
    /// Risk flags for a session note, worked out on this device (a decision aid, not a diagnosis).
    Risk(crate::risk::RiskArgs),
    /// Start a draft note.
    Add {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Appointment id.
        #[arg(long, default_value = "")]
        appointment: String,
        /// Template.
        #[arg(long, value_enum, default_value = "free")]
        template: Template,
        /// A section's text as KEY=TEXT (e.g. subjective="Reports poor sleep"), repeatable.
        #[arg(long = "section", value_name = "KEY=TEXT")]
        sections: Vec<String>,
        /// A psychotherapy note: kept apart, stays on this device.
        #[arg(long)]
        psychotherapy: bool,
    },
    /// List a patient's notes.
    List {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Psychotherapy notes instead of session notes.
        #[arg(long)]
        psychotherapy: bool,
    },
    /// Show one.
    Show {
        /// Note id.
        id: String,
    },
    /// Change a draft's sections.
    Edit {
        /// Note id.
        id: String,
        /// KEY=TEXT, repeatable.
        #[arg(long = "section", value_name = "KEY=TEXT")]
        sections: Vec<String>,
    },
    /// Sign and lock a draft.
    Sign {
        /// Note id.
        id: String,
        /// Your name as you sign.
        #[arg(long)]
        signer: String,
    },
    /// Add a signed addendum to a signed note.
    Addendum {
        /// Note id.
        id: String,
        /// The text.
        #[arg(long)]
        text: String,
        /// Your name as you sign.
        #[arg(long)]
        signer: String,
    },
    /// Its history.
    History {
        /// Note id.
        id: String,
    },
    /// Restore a draft to an earlier version (a hash from `history`).
    Restore {
        /// Note id.
        id: String,
        /// Version hash.
        version: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum AssessmentCmd {
    /// Record a PHQ-9 or GAD-7.
    Add {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Which measure.
        #[arg(long, value_enum)]
        instrument: Instrument,
        /// Answers 0–3 in item order, comma-separated (e.g. 1,2,0,1,1,0,2,1,0).
        #[arg(long)]
        answers: String,
        /// Date, YYYY-MM-DD [default: today].
        #[arg(long)]
        date: Option<String>,
    },
    /// A patient's measures over time, scored.
    List {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum PlanCmd {
    /// Create or replace a patient's treatment plan from a JSON file (the shape `plan show --json` prints).
    Set {
        /// The JSON file.
        file: PathBuf,
    },
    /// Show a patient's plan.
    Show {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum AttachmentCmd {
    /// Attach a file (streamed; large files are fine up to the limit).
    Add {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// The file.
        file: PathBuf,
        /// What it is.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List a patient's files.
    List {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
    /// Save a file out of the vault.
    Export {
        /// Attachment id.
        id: String,
        /// Where to write it.
        to: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum ConsentCmd {
    /// Record a consent the patient signed on paper (FHIR R4 Consent JSON); this device attests it.
    Add {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// The FHIR Consent JSON file.
        file: PathBuf,
    },
    /// Print a starting FHIR Consent for a patient (clinicians: read, write, export for treatment).
    Template {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
    /// A patient's contracts (every version) with plain-language summaries.
    List {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
    /// Revoke a contract (a new, inactive version).
    Revoke {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Contract id.
        contract: String,
    },
    /// Emergency access to a patient's chart outside their consent: reads only, time-limited,
    /// logged and shown to the patient and the clinic.
    BreakGlass {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// Why (at least 10 characters; the patient will read it).
        #[arg(long)]
        reason: String,
        /// How long, 1 to 240 minutes.
        #[arg(long, default_value_t = 60)]
        minutes: u32,
    },
    /// Who can see a patient's records (contracts and defaults), emergency accesses, and who looked.
    Who {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
    /// Register the public key of the patient's own device (64 hex digits, from `hearth consent
    /// keygen` on that device); prints the fingerprint to compare with the patient.
    Device {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// The device's public key.
        public_key: String,
    },
    /// Accept a consent the patient signed on their registered device (`hearth consent sign`).
    AddSigned {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// The signed consent file.
        file: PathBuf,
    },
    /// On the patient's device (no vault): make a signing key, saved to FILE (mode 0600).
    Keygen {
        /// Where to save the secret key (never overwritten).
        file: PathBuf,
    },
    /// On the patient's device (no vault): sign a FHIR R4 Consent; prints the signed consent.
    Sign {
        /// The patient's key file (from `keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The previous version's FHIR JSON, to sign the next version of that contract.
        #[arg(long)]
        after: Option<PathBuf>,
        /// The FHIR Consent JSON file.
        file: PathBuf,
    },
    /// May this device do ACTION on CATEGORY records for PURPOSE? Prints the decision and why.
    Check {
        /// Patient id.
        #[arg(long)]
        patient: String,
        /// read, write, share, export or analyse.
        action: String,
        /// demographics, appointments, progress-notes, psychotherapy-notes, assessments, treatment-plan, attachments.
        category: String,
        /// treatment, payment, operations, research, ai-analysis or emergency.
        #[arg(default_value = "treatment")]
        purpose: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum AuditCmd {
    /// Check that the log covers every record's current version and the checkpoints match it
    /// (exit code 5 if anything is wrong).
    Verify,
    /// Sign a checkpoint over the log.
    Checkpoint,
    /// The log's size, newest checkpoint and verifier key.
    Status,
    /// Who changed and who looked at a patient's records.
    Timeline {
        /// Patient id.
        #[arg(long)]
        patient: String,
    },
}

fn json(out: &mut impl Write, v: &impl Serialize) -> anyhow::Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(v)?)?;
    Ok(())
}

pub(crate) fn print_history(
    out: &mut impl Write,
    as_json: bool,
    hist: &[HistoryEntry],
) -> anyhow::Result<()> {
    if as_json {
        return json(out, &hist);
    }
    for e in hist {
        writeln!(
            out,
            "{}  {}  device {}  {}",
            e.time,
            &e.hash,
            e.device.get(..8).unwrap_or(&e.device),
            e.summary
        )?;
    }
    Ok(())
}

fn sections(
    template: api::NoteTemplate,
    pairs: &[String],
    base: Vec<api::Section>,
) -> anyhow::Result<Vec<api::Section>> {
    let mut out = base;
    if out.is_empty() {
        out = match template {
            api::NoteTemplate::Soap => ["subjective", "objective", "assessment", "plan"].as_slice(),
            api::NoteTemplate::Dap => ["data", "assessment", "plan"].as_slice(),
            api::NoteTemplate::Birp => ["behavior", "intervention", "response", "plan"].as_slice(),
            api::NoteTemplate::Free => ["note"].as_slice(),
        }
        .iter()
        .map(|k| api::Section {
            key: (*k).into(),
            text: String::new(),
        })
        .collect();
    }
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("--section takes KEY=TEXT, got {p:?}"))?;
        match out.iter_mut().find(|s| s.key == k) {
            Some(s) => s.text = v.to_string(),
            None => out.push(api::Section {
                key: k.into(),
                text: v.into(),
            }),
        }
    }
    Ok(out)
}

fn print_note(
    out: &mut impl Write,
    n: &Stored<api::Note>,
    psychotherapy: bool,
) -> anyhow::Result<()> {
    let r = &n.record;
    let kind = if psychotherapy {
        "psychotherapy note"
    } else {
        "session note"
    };
    writeln!(
        out,
        "{kind} {}  patient {}  {:?}",
        n.info.id, r.patient_id, r.template
    )?;
    match &r.signature {
        Some(s) => writeln!(
            out,
            "signed by {} (content {})",
            s.signer,
            &s.content_hash[..12.min(s.content_hash.len())]
        )?,
        None => writeln!(out, "draft")?,
    }
    for s in &r.sections {
        writeln!(out, "\n[{}]\n{}", s.key, s.text)?;
    }
    for a in &r.addenda {
        writeln!(out, "\naddendum by {}:\n{}", a.signature.signer, a.text)?;
    }
    Ok(())
}

fn today_local() -> time::Date {
    time::OffsetDateTime::now_local()
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .date()
}

pub(crate) fn run(
    h: &Hearth,
    cmd: Command,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        Command::Appointment(c) => match c {
            AppointmentCmd::Add { patient, fields } => {
                let mut a = api::Appointment {
                    patient_id: patient,
                    duration_min: 50,
                    ..Default::default()
                };
                fields.apply(&mut a);
                let s = h.add_appointment(a)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "booked {} at {}", s.info.id, s.record.start)?
                }
            }
            AppointmentCmd::List { patient } => {
                let list = h.appointments(patient.as_deref())?;
                if as_json {
                    json(out, &list)?
                } else {
                    for a in list {
                        let r = &a.record;
                        writeln!(
                            out,
                            "{}  {}  {} min  {:?}  {}  patient {}",
                            a.info.id,
                            r.start,
                            r.duration_min,
                            r.status,
                            r.service_code,
                            r.patient_id
                        )?;
                    }
                }
            }
            AppointmentCmd::Show { id } => json(out, &h.appointment(&id)?)?,
            AppointmentCmd::Edit { id, fields } => {
                let mut a = h.appointment(&id)?.record;
                fields.apply(&mut a);
                let s = h.edit_appointment(&id, a)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "saved {}", s.info.id)?
                }
            }
            AppointmentCmd::History { id } => {
                print_history(out, as_json, &h.appointment_history(&id)?)?
            }
        },
        Command::Calendar(args) => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            let (from, days) = if args.today {
                (today_local(), 1)
            } else if let Some(w) = args.week {
                (
                    time::Date::parse(&w, &fmt)
                        .with_context(|| format!("--week {w:?}: write the date as YYYY-MM-DD"))?,
                    7,
                )
            } else {
                let t = today_local();
                (
                    t - time::Duration::days(i64::from(t.weekday().number_days_from_monday())),
                    7,
                )
            };
            let to = from + time::Duration::days(days);
            let f = |d: time::Date| format!("{}T00:00", d.format(&fmt).unwrap_or_default());
            let occ = h.calendar(&f(from), &f(to))?;
            if as_json {
                json(out, &occ)?
            } else if occ.is_empty() {
                writeln!(out, "nothing booked")?
            } else {
                for o in occ {
                    writeln!(
                        out,
                        "{}  {:>3} min  {:<24} {:?}  {}  ({})",
                        o.start.replace('T', " "),
                        o.duration_min,
                        o.patient_name,
                        o.status,
                        o.service_code,
                        o.appointment_id
                    )?;
                }
            }
        }
        Command::Note(c) => match c {
            NoteCmd::Risk(args) => crate::risk::run(h, args, as_json, out)?,
            NoteCmd::Add {
                patient,
                appointment,
                template,
                sections: pairs,
                psychotherapy,
            } => {
                let template = match template {
                    Template::Soap => api::NoteTemplate::Soap,
                    Template::Dap => api::NoteTemplate::Dap,
                    Template::Birp => api::NoteTemplate::Birp,
                    Template::Free => api::NoteTemplate::Free,
                };
                let note = api::Note {
                    patient_id: patient,
                    appointment_id: appointment,
                    template,
                    sections: sections(template, &pairs, Vec::new())?,
                    signature: None,
                    addenda: Vec::new(),
                };
                let s = h.add_note(note, psychotherapy)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "draft {} started", s.info.id)?
                }
            }
            NoteCmd::List {
                patient,
                psychotherapy,
            } => {
                let list = if psychotherapy {
                    h.psychotherapy_notes(&patient)?
                } else {
                    h.notes(&patient)?
                };
                if as_json {
                    json(out, &list)?
                } else {
                    for n in list {
                        let state = if n.record.signature.is_some() {
                            "signed"
                        } else {
                            "draft"
                        };
                        writeln!(
                            out,
                            "{}  {}  {:?}  {state}",
                            n.info.id, n.info.created_at, n.record.template
                        )?;
                    }
                }
            }
            NoteCmd::Show { id } => {
                let (n, psy) = h.note(&id)?;
                if as_json {
                    json(out, &n)?
                } else {
                    print_note(out, &n, psy)?
                }
            }
            NoteCmd::Edit {
                id,
                sections: pairs,
            } => {
                let (n, _) = h.note(&id)?;
                let mut note = n.record;
                note.sections = sections(note.template, &pairs, note.sections)?;
                let s = h.edit_note(&id, note)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "saved {}", s.info.id)?
                }
            }
            NoteCmd::Sign { id, signer } => {
                let s = h.sign_note(&id, &signer)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "signed {} as {signer}", s.info.id)?
                }
            }
            NoteCmd::Addendum { id, text, signer } => {
                let s = h.add_addendum(&id, &text, &signer)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "addendum added to {}", s.info.id)?
                }
            }
            NoteCmd::History { id } => print_history(out, as_json, &h.note_history(&id)?)?,
            NoteCmd::Restore { id, version } => {
                let s = h.restore_note(&id, &version)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "restored {} to version {version}", s.info.id)?
                }
            }
        },
        Command::Assessment(c) => match c {
            AssessmentCmd::Add {
                patient,
                instrument,
                answers,
                date,
            } => {
                let answers: Vec<u32> = answers
                    .split(',')
                    .enumerate()
                    .map(|(i, a)| {
                        a.trim()
                            .parse::<u32>()
                            .map_err(|_| anyhow!("item {}: {a:?} is not a number 0–3", i + 1))
                    })
                    .collect::<anyhow::Result<_>>()?;
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                let a = api::Assessment {
                    patient_id: patient,
                    instrument: match instrument {
                        Instrument::Phq9 => api::Instrument::Phq9,
                        Instrument::Gad7 => api::Instrument::Gad7,
                    },
                    administered_on: date
                        .unwrap_or_else(|| today_local().format(&fmt).unwrap_or_default()),
                    answers,
                };
                let (s, score) = h.add_assessment(a)?;
                if as_json {
                    json(out, &serde_json::json!({"assessment": s, "score": score}))?
                } else {
                    writeln!(
                        out,
                        "recorded {}: total {} ({})",
                        s.info.id, score.total, score.band
                    )?;
                    if score.safety_alert {
                        writeln!(out, "SAFETY ALERT: item 9 (thoughts of death or self-harm) was answered above zero; assess risk now")?;
                    }
                    if let Some(c) = score.change {
                        writeln!(out, "change from the previous one: {}", c.replace('_', " "))?;
                    }
                }
            }
            AssessmentCmd::List { patient } => {
                let list = h.assessments(&patient)?;
                if as_json {
                    let v: Vec<_> = list
                        .iter()
                        .map(|(s, sc)| serde_json::json!({"assessment": s, "score": sc}))
                        .collect();
                    json(out, &v)?
                } else {
                    for (s, sc) in list {
                        let alert = if sc.safety_alert {
                            "  ITEM 9 ALERT"
                        } else {
                            ""
                        };
                        let change = sc
                            .change
                            .map(|c| format!("  {}", c.replace('_', " ")))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "{}  {:?}  {:>2} {}{change}{alert}",
                            s.record.administered_on, s.record.instrument, sc.total, sc.band
                        )?;
                    }
                }
            }
        },
        Command::Plan(c) => match c {
            PlanCmd::Set { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("could not read {}", file.display()))?;
                let plan: api::TreatmentPlan = serde_json::from_str(&text).with_context(|| {
                    format!("{} is not a treatment plan in JSON", file.display())
                })?;
                let s = h.save_plan(plan)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(out, "saved plan {}", s.info.id)?
                }
            }
            PlanCmd::Show { patient } => match h.plan(&patient)? {
                Some(p) => json(out, &p)?,
                None => writeln!(out, "no treatment plan yet")?,
            },
        },
        Command::Attachment(c) => match c {
            AttachmentCmd::Add {
                patient,
                file,
                description,
            } => {
                let s = h.attach_file(&patient, &file, &description)?;
                if as_json {
                    json(out, &s)?
                } else {
                    writeln!(
                        out,
                        "attached {} ({} bytes) as {}",
                        s.record.filename, s.record.size, s.info.id
                    )?
                }
            }
            AttachmentCmd::List { patient } => {
                let list = h.attachments(&patient)?;
                if as_json {
                    json(out, &list)?
                } else {
                    for a in list {
                        let here = if a.record.on_device {
                            ""
                        } else {
                            "  (content not on this device yet: it comes with the next sync)"
                        };
                        writeln!(
                            out,
                            "{}  {:<30} {:>12} bytes  {}{here}",
                            a.info.id, a.record.filename, a.record.size, a.record.media_type
                        )?;
                    }
                }
            }
            AttachmentCmd::Export { id, to } => {
                let n = h.export_attachment(&id, &to)?;
                writeln!(out, "wrote {n} bytes to {}", to.display())?;
            }
        },
        Command::Export {
            patient,
            out: path,
            fhir,
            purpose,
            psychotherapy,
            recipients,
        } => {
            if !recipients.is_empty() && fhir.is_some() {
                anyhow::bail!("--fhir would write the records unencrypted next to a sealed archive; leave it out (the FHIR bundle is inside the archive)");
            }
            // Check the recipients before exporting (an export is logged).
            if !recipients.is_empty() {
                hearth_core::PatientArchive::check_recipients(&recipients)?;
            }
            let x = h.export_patient(&patient, &purpose, psychotherapy)?;
            let bytes = if recipients.is_empty() {
                x.archive.clone()
            } else {
                x.sealed_to(&recipients)?
            };
            std::fs::write(&path, &bytes)
                .with_context(|| format!("could not write {}", path.display()))?;
            if let Some(f) = fhir {
                std::fs::write(&f, serde_json::to_vec_pretty(&x.bundle)?)
                    .with_context(|| format!("could not write {}", f.display()))?;
            }
            writeln!(
                out,
                "exported to {} ({} bytes{}); check it anywhere with `hearth verify {}{}`",
                path.display(),
                bytes.len(),
                if recipients.is_empty() {
                    String::new()
                } else {
                    format!(", sealed to {} recipient(s)", recipients.len())
                },
                if recipients.is_empty() {
                    ""
                } else {
                    "--identity KEYFILE "
                },
                path.display()
            )?;
        }
        Command::Show { id } => json(out, &h.record_json(&id)?)?,
        Command::History { id } => print_history(out, as_json, &h.history(&id)?)?,
        Command::Restore { id, version } => {
            let changed = h.restore(&id, &version)?;
            if changed.is_empty() {
                writeln!(
                    out,
                    "nothing to restore: {id} already is as it was at {version}"
                )?
            } else {
                writeln!(
                    out,
                    "restored {id} to version {version} ({})",
                    changed.join(", ")
                )?
            }
        }
        Command::Consent(c) => match c {
            ConsentCmd::Add { patient, file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("could not read {}", file.display()))?;
                let c = h.record_paper_consent(&patient, &text)?;
                if as_json {
                    json(out, &c)?
                } else {
                    writeln!(
                        out,
                        "recorded consent {} v{}: {}",
                        c.contract_id, c.version, c.summary
                    )?
                }
            }
            ConsentCmd::BreakGlass {
                patient,
                reason,
                minutes,
            } => crate::consent::break_glass(h, &patient, &reason, minutes, as_json, out)?,
            ConsentCmd::Who { patient } => crate::consent::who(h, &patient, as_json, out)?,
            ConsentCmd::Device {
                patient,
                public_key,
            } => {
                let fp = h.register_patient_device(&patient, &public_key)?;
                writeln!(
                    out,
                    "registered the patient's device, fingerprint {fp}\n(compare it with the one the patient's device shows)"
                )?
            }
            ConsentCmd::AddSigned { patient, file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("could not read {}", file.display()))?;
                let (c, new) = h.record_signed_consent(&patient, &text)?;
                if as_json {
                    json(out, &c)?
                } else if new {
                    writeln!(
                        out,
                        "accepted consent {} v{} signed by the patient: {}",
                        c.contract_id, c.version, c.summary
                    )?
                } else {
                    writeln!(
                        out,
                        "consent {} v{} is already known: nothing changed",
                        c.contract_id, c.version
                    )?
                }
            }
            ConsentCmd::Keygen { .. } | ConsentCmd::Sign { .. } => {
                anyhow::bail!("keygen and sign run without a vault")
            }
            ConsentCmd::Template { patient } => writeln!(out, "{}", h.consent_template(&patient)?)?,
            ConsentCmd::List { patient } => {
                let list = h.consents(&patient)?;
                if as_json {
                    json(out, &list)?
                } else if list.is_empty() {
                    writeln!(out, "no consent contracts: the default rules apply")?
                } else {
                    for c in list {
                        writeln!(
                            out,
                            "{} v{}  {}  {}\n    {}",
                            c.contract_id, c.version, c.date, c.status, c.summary
                        )?;
                    }
                }
            }
            ConsentCmd::Revoke { patient, contract } => {
                let c = h.revoke_consent(&patient, &contract)?;
                if as_json {
                    json(out, &c)?
                } else {
                    writeln!(out, "revoked {} (now version {})", c.contract_id, c.version)?
                }
            }
            ConsentCmd::Check {
                patient,
                action,
                category,
                purpose,
            } => {
                let (ok, reason) = h.consent_check(&patient, &action, &category, &purpose)?;
                if as_json {
                    json(out, &serde_json::json!({"permit": ok, "reason": reason}))?
                } else {
                    writeln!(out, "{}: {reason}", if ok { "permitted" } else { "denied" })?
                }
            }
        },
        Command::Audit(c) => match c {
            AuditCmd::Verify => {
                let r = h.audit()?;
                if as_json {
                    json(out, &r)?
                } else {
                    writeln!(
                        out,
                        "{} log entries, {} records, {} checkpoints",
                        r.entries, r.records, r.checkpoints
                    )?;
                    for n in &r.notes {
                        writeln!(out, "note: {n}")?;
                    }
                    if r.ok() {
                        writeln!(out, "ok: every record's current version is in the log and the checkpoints match it")?;
                    }
                    for p in &r.problems {
                        writeln!(out, "PROBLEM: {p}")?;
                    }
                }
                if !r.ok() {
                    return Err(anyhow!(AuditFailed(r.problems.len())));
                }
            }
            AuditCmd::Status => {
                let st = h.log_status()?;
                let evidence = h.witness_evidence()?;
                if as_json {
                    let mut v = serde_json::to_value(&st)?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("evidence".into(), serde_json::to_value(&evidence)?);
                    }
                    json(out, &v)?
                } else {
                    writeln!(
                        out,
                        "log entries: {}\ncheckpoints: {}",
                        st.size, st.checkpoints
                    )?;
                    if let (Some(size), Some(root)) =
                        (st.last_checkpoint_size, &st.last_checkpoint_root)
                    {
                        writeln!(out, "last checkpoint: size {size}, root {root}")?;
                    }
                    writeln!(
                        out,
                        "witnessing: {} cosignature(s), {:.0}% of the stake, {}",
                        st.cosignatures,
                        st.stake_fraction * 100.0,
                        if st.final_ {
                            "final"
                        } else {
                            "not final (members holding more than two thirds of the stake must cosign; they do when they sync)"
                        }
                    )?;
                    for e in &evidence {
                        let what = if e.kind == "cosigned" {
                            "cosigned, as a witness,"
                        } else {
                            "signed"
                        };
                        writeln!(
                            out,
                            "EQUIVOCATION: {} ({}) {what} two different checkpoints of size {} of {}",
                            e.name,
                            &e.endpoint[..16.min(e.endpoint.len())],
                            e.size,
                            e.origin
                        )?;
                    }
                    writeln!(out, "verifier key: {}", st.verifier)?;
                }
            }
            AuditCmd::Timeline { patient } => {
                let t = h.patient_timeline(&patient)?;
                if as_json {
                    json(out, &t)?
                } else {
                    for e in t {
                        writeln!(
                            out,
                            "{}  {:<9} {:<19} {}  device {}  {}",
                            e.time, e.action, e.kind, e.record_id, e.device, e.purpose
                        )?;
                    }
                }
            }
            AuditCmd::Checkpoint => {
                let cp = h.checkpoint()?;
                if as_json {
                    json(out, &cp)?
                } else {
                    write!(out, "{}", cp.note)?
                }
            }
        },
        Command::Search { query, limit } => {
            let hits = h.search(&query.join(" "), limit)?;
            if as_json {
                json(out, &hits)?
            } else if hits.is_empty() {
                writeln!(out, "no matches")?
            } else {
                for hit in hits {
                    writeln!(
                        out,
                        "{}  {:<20} {}  {}",
                        hit.record_id, hit.patient_name, hit.kind, hit.snippet
                    )?;
                }
            }
        }
        Command::Init
        | Command::Passwd { .. }
        | Command::Status
        | Command::Patient(_)
        | Command::SemanticSearch(_)
        | Command::ResearchExport(_)
        | Command::Sync(_)
        | Command::RecipientKey { .. }
        | Command::Verify { .. } => {
            return Err(anyhow!("internal: command routed to the wrong handler"));
        }
    }
    Ok(())
}

/// The audit or a verification found problems (exit code 5).
#[derive(Debug)]
pub(crate) struct AuditFailed(pub usize);

impl std::fmt::Display for AuditFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} check(s) failed; see above", self.0)
    }
}

impl std::error::Error for AuditFailed {}
