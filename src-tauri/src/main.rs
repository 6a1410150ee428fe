//! `hearth-desktop`: the Hearth desktop app, a Tauri 2 shell over [`hearth_core::Session`].
//!
//! Glue only: each command (in [`commands`]) takes its arguments from the UI, calls the core
//! on a blocking thread (Argon2 and SQLite must not freeze the window) and returns the result
//! or an [`hearth_api::ApiError`]. Configuration comes from the environment:
//!
//! - `HEARTH_VAULT`: the vault file (default: [`hearth_core::default_vault_path`]);
//! - `HEARTH_IDLE_LOCK_SECS`: lock after this many idle seconds, `0` for never (default 15 min);
//! - `RUST_LOG`: log filter (default `info`), logs go to stderr and never contain patient data.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hearth_core::{HearthOptions, Insight, Session};

/// The vault path: `HEARTH_VAULT`, else the platform default.
fn vault_path() -> Result<PathBuf, String> {
    match std::env::var_os("HEARTH_VAULT") {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => hearth_core::default_vault_path().map_err(|e| e.to_string()),
    }
}

/// The options: the idle period from `HEARTH_IDLE_LOCK_SECS` when set.
fn options() -> Result<HearthOptions, String> {
    let opts = HearthOptions::default();
    let Ok(raw) = std::env::var("HEARTH_IDLE_LOCK_SECS") else {
        return Ok(opts);
    };
    let secs: u64 = raw.trim().parse().map_err(|_| {
        format!("HEARTH_IDLE_LOCK_SECS={raw:?} is not a number of seconds; use e.g. 900, or 0 for never")
    })?;
    Ok(opts.idle_lock((secs > 0).then(|| Duration::from_secs(secs))))
}

/// GTK panics without a display; say so plainly instead.
fn check_display() -> Result<(), String> {
    let has = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
    if cfg!(target_os = "linux") && !has("DISPLAY") && !has("WAYLAND_DISPLAY") {
        return Err(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set): start Hearth \
                    from a desktop session, or use the `hearth` command-line tool"
                .into(),
        );
    }
    Ok(())
}

fn run() -> Result<(), String> {
    check_display()?;
    let path = vault_path()?;
    let opts = options()?;
    tracing::info!(vault = %path.display(), idle_lock = ?opts.idle_lock_period(), "starting");
    tauri::Builder::default()
        .manage(Arc::new(Session::new(path, opts)))
        .manage(Insight::new())
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .map_err(|e| format!("the window could not be opened: {e}"))
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hearth: {e}");
            ExitCode::FAILURE
        }
    }
}
