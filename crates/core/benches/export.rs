//! `cargo bench -p hearth-core --bench export`: export and verify a patient with 500 signed
//! notes and 100 assessments, beside a baseline measured in the same run: reading the same
//! records (what any export must at least do).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use hearth_api::{Assessment, Instrument, NewPatient, Note, NoteTemplate, Section};
use hearth_core::{Hearth, HearthOptions};

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (notes, assessments) = if smoke { (10, 4) } else { (500, 100) };
    let dir = tempfile::tempdir().unwrap();
    let h = Hearth::create(
        &dir.path().join("v.hearth"),
        "benchmark passphrase",
        HearthOptions::default().insecure_fast_kdf_for_tests(),
    )
    .unwrap();
    let p = h
        .add_patient(NewPatient {
            name: "Ada Lovelace".into(),
            date_of_birth: "1985-12-10".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    for i in 0..notes {
        let n = h
            .add_note(
                Note {
                    patient_id: p.clone(),
                    template: NoteTemplate::Soap,
                    sections: vec![Section {
                        key: "subjective".into(),
                        text: format!("Session {i}: sleep, work stress, family. ").repeat(12),
                    }],
                    ..Default::default()
                },
                false,
            )
            .unwrap();
        h.sign_note(&n.info.id, "Dr. Jane Roe").unwrap();
    }
    for i in 0..assessments {
        let d = time::Date::from_ordinal_date(2024, 1).unwrap() + time::Duration::days(i * 7);
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        h.add_assessment(Assessment {
            patient_id: p.clone(),
            instrument: if i % 2 == 0 {
                Instrument::Phq9
            } else {
                Instrument::Gad7
            },
            administered_on: d.format(&fmt).unwrap(),
            answers: vec![(i % 4) as u32; if i % 2 == 0 { 9 } else { 7 }],
        })
        .unwrap();
    }
    h.record_paper_consent(&p, &h.consent_template(&p).unwrap())
        .unwrap();

    let t = Instant::now();
    let n = h.notes(&p).unwrap().len() + h.assessments(&p).unwrap().len();
    let baseline = t.elapsed();
    assert_eq!(n as i64, notes + assessments);

    let t = Instant::now();
    let out = h.export_patient(&p, "treatment", false).unwrap();
    let export = t.elapsed();
    let t = Instant::now();
    let report = hearth_export::verify(&out.archive, &hearth_export::VerifyOptions::default());
    let verify = t.elapsed();
    assert!(report.passed(), "{report}");
    println!(
        "export of a patient with {notes} signed notes and {assessments} assessments: {:.1} ms ({} KiB archive, {} FHIR entries); verify {:.1} ms; baseline read of the same records {:.1} ms (export {:.1}× the baseline)",
        export.as_secs_f64() * 1e3,
        out.archive.len() / 1024,
        out.bundle["entry"].as_array().map_or(0, Vec::len),
        verify.as_secs_f64() * 1e3,
        baseline.as_secs_f64() * 1e3,
        export.as_secs_f64() / baseline.as_secs_f64()
    );
}
