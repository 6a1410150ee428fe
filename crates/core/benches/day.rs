//! `cargo bench -p hearth-core`: a clinic-sized vault (5,000 patients, 50,000 notes), then
//! unlock → patient list, and search — each beside a baseline measured in the same run:
//! the list against opening the same records without parsing them, the indexed search
//! against a linear scan of every note's text.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use hearth_api::{NewPatient, Note, NoteTemplate, Section};
use hearth_core::{Hearth, HearthOptions};

const WORDS: &[&str] = &[
    "sleep",
    "work",
    "stress",
    "mother",
    "father",
    "anxiety",
    "panic",
    "school",
    "grief",
    "anger",
    "walks",
    "exercise",
    "medication",
    "appetite",
    "friends",
    "partner",
    "conflict",
    "holiday",
    "insomnia",
    "rumination",
    "avoidance",
    "exposure",
    "breathing",
    "journal",
    "boundaries",
    "relapse",
    "craving",
    "progress",
    "goals",
];

fn words(seed: usize, n: usize) -> String {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            WORDS[x % WORDS.len()]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (patients, notes_each) = if smoke { (20, 2) } else { (5_000, 10) };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clinic.hearth");
    let pass = "benchmark passphrase";

    let t = Instant::now();
    let h = Hearth::create(&path, pass, HearthOptions::default()).unwrap();
    let mut ids = Vec::with_capacity(patients);
    for i in 0..patients {
        ids.push(
            h.add_patient(NewPatient {
                name: format!("Patient {i:05} {}", words(i, 1)),
                ..Default::default()
            })
            .unwrap()
            .id,
        );
    }
    for (i, pid) in ids.iter().enumerate() {
        for j in 0..notes_each {
            let text = words(i * 100 + j, 120);
            h.add_note(
                Note {
                    patient_id: pid.clone(),
                    template: NoteTemplate::Free,
                    sections: vec![Section {
                        key: "note".into(),
                        text,
                    }],
                    ..Default::default()
                },
                false,
            )
            .unwrap();
        }
    }
    h.close().unwrap();
    let notes = patients * notes_each;
    println!(
        "hearth-core benchmark: {patients} patients, {notes} notes (built in {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    // Unlock (Argon2id, production parameters) then the patient list.
    let t = Instant::now();
    let h = Hearth::open_unlocked(&path, pass, HearthOptions::default()).unwrap();
    let unlocked = t.elapsed();
    let rows = h.patients().unwrap();
    let to_list = t.elapsed();
    assert_eq!(rows.len(), patients);
    // Baseline: the same records opened (decrypted) with no parsing or sorting.
    let t = Instant::now();
    let raw = h.debug_open_all_count("patient").unwrap();
    let baseline_list = t.elapsed();
    assert_eq!(raw, patients);
    println!(
        "unlock {:>7.1} ms   unlock → patient list {:>7.1} ms (target ≤ 1000)   list alone {:>6.1} ms vs decrypt-only baseline {:>6.1} ms ({:.2}×)",
        ms(unlocked),
        ms(to_list),
        ms(to_list - unlocked),
        ms(baseline_list),
        baseline_list.as_secs_f64() / (to_list - unlocked).as_secs_f64()
    );

    // Search: the first builds the index; then queries.
    let t = Instant::now();
    let n = h.warm_search().unwrap();
    let build = t.elapsed();
    let queries = [
        "sleep stress",
        "insomnia rumination journal",
        "pani",
        "mother conflict holiday",
    ];
    let mut times = Vec::new();
    let mut hits = 0;
    for _ in 0..5 {
        for q in queries {
            let t = Instant::now();
            hits += h.search(q, 20).unwrap().len();
            times.push(t.elapsed());
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = *times.last().unwrap_or(&Duration::ZERO);
    // Baseline: a linear scan of every note's text for the same words.
    let texts = h.debug_all_search_text().unwrap();
    let t = Instant::now();
    let mut scan_hits = 0;
    for q in queries {
        let ws: Vec<&str> = q.split(' ').collect();
        scan_hits += texts
            .iter()
            .filter(|t| ws.iter().all(|w| t.contains(w)))
            .count()
            .min(20);
    }
    let scan = t.elapsed() / queries.len() as u32;
    println!(
        "search index over {n} records built in {:>7.1} ms; query median {:>6.2} ms, worst {:>6.2} ms (target ≤ 100) vs linear scan {:>7.2} ms (index {:.1}× faster); {} hits from the index, {scan_hits} from the scan",
        ms(build),
        ms(median),
        ms(worst),
        ms(scan),
        scan.as_secs_f64() / median.as_secs_f64(),
        hits / 5
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
