//! Kill -9 a writer at random moments: nothing acknowledged is lost, the vault always opens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn acknowledged_records_survive_kill_9_in_50_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_hearth-vault-soak"));
    let report =
        hearth_vault::soak::run_rounds(exe, dir.path(), 50).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.rounds, 50);
    // The kills must land among writes, not only before them: most rounds acknowledge records.
    assert!(
        report.acknowledged > 50,
        "too few acknowledged records to mean anything: {report:?}"
    );
}
