//! What the desktop export wizard relies on: archives sealed to age recipients (checked before
//! anything is exported, opened only with the recipient's key) and the research export written
//! to a folder (owner-only files, never overwritten, refused before anything is logged).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_api::NewPatient;
use hearth_core::{Hearth, HearthOptions, PatientArchive};
use hearth_export::age_secret::ExposeSecret as _;

fn vault() -> (tempfile::TempDir, Hearth) {
    let dir = tempfile::tempdir().unwrap();
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        "correct horse battery staple",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    (dir, h)
}

fn patient(h: &Hearth, name: &str) -> String {
    h.add_patient(NewPatient {
        name: name.into(),
        date_of_birth: "1984-03-07".into(),
        ..Default::default()
    })
    .unwrap()
    .id
}

/// The paper-consent template (treatment), its purpose changed to `code` when given.
fn consent(h: &Hearth, p: &str, code: Option<&str>) {
    let t = h.consent_template(p).unwrap();
    let t = match code {
        Some(c) => t.replace("\"TREAT\"", &format!("\"{c}\"")),
        None => t,
    };
    h.record_paper_consent(p, &t).unwrap();
}

#[test]
fn sealed_archive_opens_only_with_the_recipients_key() {
    let (_dir, h) = vault();
    let p = patient(&h, "Zelda Quarrington");
    consent(&h, &p, None);
    let (identity, recipient) = hearth_export::new_identity();
    let (other, _) = hearth_export::new_identity();
    PatientArchive::check_recipients(std::slice::from_ref(&recipient)).unwrap();
    let x = h.export_patient(&p, "treatment", false).unwrap();
    assert!(x.resources() > 1);
    let sealed = x.sealed_to(std::slice::from_ref(&recipient)).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1"));
    assert!(!sealed.windows(8).any(|w| w == b"Quarring"));
    assert_eq!(
        hearth_export::open_with(identity.expose_secret(), &sealed).unwrap(),
        x.archive
    );
    assert!(hearth_export::open_with(other.expose_secret(), &sealed).is_err());
}

#[test]
fn a_bad_recipient_is_refused_in_words() {
    for bad in [vec![], vec!["AGE-SECRET-KEY-1QQQ".to_string()]] {
        let e = PatientArchive::check_recipients(&bad).unwrap_err();
        assert_eq!(e.kind(), hearth_api::ErrorKind::InvalidInput);
        assert!(e.message().contains("age1"), "{}", e.message());
    }
}

#[test]
fn research_files_are_owner_only_and_never_overwritten() {
    let (dir, h) = vault();
    let yes = patient(&h, "Zelda Quarrington");
    let no = patient(&h, "Ottoline Brackwater");
    consent(&h, &yes, Some("HRESCH"));
    let out = dir.path().join("research");
    let (x, data, manifest) = h.research_export_to(&out, None).unwrap();
    assert_eq!(x.included, vec![yes.clone()]);
    assert_eq!(x.skipped.len(), 1);
    assert_eq!(x.skipped[0].0, no);
    assert!(x.skipped[0].1.contains("no provision permits export"));
    assert_eq!(std::fs::read_to_string(&data).unwrap(), x.ndjson);
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), x.manifest_json);
    #[cfg(unix)]
    for f in [&data, &manifest] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{} is readable by others: {mode:o}",
            f.display()
        );
    }
    // A second export into the same folder is refused before anything is exported or logged.
    let logged = h.log_status().unwrap().size;
    let e = h.research_export_to(&out, None).unwrap_err();
    assert!(e.message().contains("already exists"), "{}", e.message());
    assert_eq!(h.log_status().unwrap().size, logged);
    assert_eq!(std::fs::read_to_string(&data).unwrap(), x.ndjson);
}
