//! `hearth research-export`: de-identified notes and measures of the patients whose consent
//! permits export for research, written to a folder as `research.ndjson` and `manifest.json`.
//! The skipped patients are printed here with the consent reason (by vault id: the files name
//! them only by pseudonym).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use hearth_core::Hearth;

/// Arguments of `hearth research-export`.
#[derive(Args)]
pub(crate) struct ResearchArgs {
    /// Folder to write `research.ndjson` and `manifest.json` into (made if missing; existing
    /// files are never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Only these patients (repeat); default every patient.
    #[arg(long = "patient")]
    patients: Vec<String>,
}

/// Write a new file readable by its owner only; an existing file is never replaced.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| {
        format!(
            "could not create {} (an existing export is never overwritten; choose another folder)",
            path.display()
        )
    })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

pub(crate) fn run(
    h: &Hearth,
    args: ResearchArgs,
    as_json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let data = args.out.join("research.ndjson");
    let manifest = args.out.join("manifest.json");
    // Refuse before exporting (and logging) anything if the files are already there.
    for p in [&data, &manifest] {
        if p.exists() {
            anyhow::bail!(
                "{} already exists; an export is never overwritten: choose another --out folder",
                p.display()
            );
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("could not create {}", args.out.display()))?;
    let ids = (!args.patients.is_empty()).then_some(args.patients.as_slice());
    let x = h.research_export(ids, None)?;
    write_new(&data, x.ndjson.as_bytes())?;
    write_new(&manifest, x.manifest_json.as_bytes())?;
    if as_json {
        let skipped: Vec<_> = x
            .skipped
            .iter()
            .map(|(id, reason)| serde_json::json!({"patient": id, "reason": reason}))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "data": data,
                "manifest": manifest,
                "included": x.included,
                "skipped": skipped,
                "removed": x.manifest.removed,
            })
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "wrote {} and {}: {} patient(s), {} identifier(s) removed or shifted",
        data.display(),
        manifest.display(),
        x.included.len(),
        x.manifest.removed.total()
    )?;
    for (kind, n) in x.manifest.removed.iter() {
        writeln!(out, "  {kind}: {n}")?;
    }
    for (id, reason) in &x.skipped {
        writeln!(out, "skipped {id}: {reason}")?;
    }
    writeln!(
        out,
        "Pseudonyms and date shifts are keyed by a secret drawn for this export and not kept: \
         they cannot be reversed or linked to another export."
    )?;
    Ok(())
}
