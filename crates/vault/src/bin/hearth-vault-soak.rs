//! Crash-safety soak for the vault: `hearth-vault-soak [ROUNDS]` kills a writer process with
//! SIGKILL at random moments, ROUNDS times (default 500), and checks after each kill that every
//! acknowledged record is present and opens. `hearth-vault-soak writer PATH` is the writer.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("writer") => {
            let Some(path) = args.get(2) else {
                eprintln!("usage: hearth-vault-soak writer PATH");
                return ExitCode::from(2);
            };
            match hearth_vault::soak::run_writer(Path::new(path)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("writer: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        rounds => {
            let rounds: u32 = match rounds.map(str::parse).transpose() {
                Ok(r) => r.unwrap_or(500),
                Err(_) => {
                    eprintln!("usage: hearth-vault-soak [ROUNDS] | writer PATH");
                    return ExitCode::from(2);
                }
            };
            let exe = match std::env::current_exe() {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("cannot find this program's path: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let dir = match tempfile_dir() {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("cannot make a temporary folder: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = hearth_vault::soak::run_rounds(&exe, &dir, rounds);
            let _ = std::fs::remove_dir_all(&dir);
            match result {
                Ok(r) => {
                    println!(
                        "{} rounds, {} acknowledged records all present and intact, {} kills during start-up",
                        r.rounds, r.acknowledged, r.killed_during_startup
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("FAILED: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("hearth-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
