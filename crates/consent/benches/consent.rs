//! Authorization decisions per second with 1,000 active contracts (issue 5's benchmark:
//! target ≥ 100,000/s on one core). Run with `cargo bench -p hearth-consent`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use hearth_consent::*;
use time::macros::date;

fn contracts(n: usize, patients: usize) -> Vec<Contract> {
    (0..n)
        .map(|i| {
            let patient = PatientId::new(format!("pat-{}", i % patients)).unwrap();
            Contract::new(
                ContractId::new(format!("c-{i}")).unwrap(),
                patient,
                date!(2026 - 01 - 01),
            )
            .provision(
                Provision::permit()
                    .actor(Actor::Member(
                        MemberId::new(format!("m-{}", i % 50)).unwrap(),
                    ))
                    .actor(Actor::Role(Role::Clinician))
                    .actions([Action::Read, Action::Write])
                    .purposes([Purpose::Treatment])
                    .categories([Category::ProgressNotes, Category::Assessments])
                    .period(None, Some(date!(2027 - 01 - 01)))
                    .except(Provision::deny().data_period(None, Some(date!(2020 - 01 - 01)))),
            )
            .provision(
                Provision::deny()
                    .actor(Actor::Role(Role::Researcher))
                    .purposes([Purpose::Research, Purpose::AiAnalysis]),
            )
            .provision(Provision::deny().categories([Category::PsychotherapyNotes]))
        })
        .collect()
}

fn requests(patients: usize) -> Vec<Request> {
    let roles = [Role::Clinician, Role::Researcher, Role::Admin];
    let cats = [
        Category::ProgressNotes,
        Category::PsychotherapyNotes,
        Category::Demographics,
    ];
    (0..997)
        .map(|i| Request {
            actor: Requester::new(
                MemberId::new(format!("m-{}", i % 60)).unwrap(),
                roles[i % 3],
            ),
            action: if i % 2 == 0 {
                Action::Read
            } else {
                Action::Export
            },
            category: cats[i % 3],
            patient: PatientId::new(format!("pat-{}", i % patients)).unwrap(),
            purpose: if i % 5 == 0 {
                Purpose::Research
            } else {
                Purpose::Treatment
            },
            time: date!(2026 - 06 - 01),
            record_date: Some(date!(2026 - 05 - 01)),
        })
        .collect()
}

fn run(name: &str, n: usize, mut decide: impl FnMut(&Request) -> Decision, reqs: &[Request]) {
    let start = Instant::now();
    let mut permits = 0usize;
    for i in 0..n {
        if black_box(decide(&reqs[i % reqs.len()])).permit {
            permits += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {:.0} decisions/s ({n} decisions, {permits} permits, {:.2} µs each)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

fn main() {
    for patients in [250, 1] {
        let all = contracts(1000, patients);
        let reqs = requests(patients);
        let set = ConsentSet::new(all.clone());
        run(
            &format!("ConsentSet, 1000 active contracts over {patients} patients"),
            400_000,
            |r| set.evaluate(r),
            &reqs,
        );
        run(
            &format!("evaluate(&[Contract]), 1000 active contracts over {patients} patients"),
            if patients == 1 { 2_000 } else { 20_000 },
            |r| evaluate(&all, r),
            &reqs,
        );
    }
}
