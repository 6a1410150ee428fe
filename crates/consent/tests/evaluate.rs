#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The evaluation table: FHIR Consent semantics, deny overrides, defaults and reasons.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use hearth_consent::*;
use time::macros::date;
use time::Date;

const NOW: Date = date!(2026 - 06 - 01);

fn treatment_permit() -> Provision {
    Provision::permit()
        .actor(Actor::Role(Role::Clinician))
        .actions([Action::Read, Action::Write])
        .purposes([Purpose::Treatment])
        .categories([Category::ProgressNotes])
        .period(None, Some(date!(2027 - 01 - 01)))
}

struct Case {
    name: &'static str,
    contracts: Vec<Contract>,
    req: Request,
    permit: bool,
    reason: &'static str,
}

fn req(actor: Requester, action: Action, category: Category, purpose: Purpose) -> Request {
    request(
        actor,
        action,
        category,
        purpose,
        NOW,
        Some(date!(2026 - 05 - 30)),
    )
}

fn at(mut r: Request, time: Date, record_date: Option<Date>) -> Request {
    r.time = time;
    r.record_date = record_date;
    r
}

fn researcher() -> Requester {
    Requester::new(id(MemberId::new("res-1")), Role::Researcher)
}

fn cases() -> Vec<Case> {
    let read_notes = req(
        clinician(poe()),
        Action::Read,
        Category::ProgressNotes,
        Purpose::Treatment,
    );
    let mut v3 = contract("c-1", vec![Provision::deny(), treatment_permit()]);
    v3.provisions.remove(0);
    v3.provisions
        .insert(0, Provision::permit().actor(Actor::PatientDevice));
    v3.version = 3;
    vec![
        Case {
            name: "permit by role, with the provision in the reason",
            contracts: vec![v3.clone()],
            req: read_notes.clone(),
            permit: true,
            reason: "permitted by provision 2 of consent c-1 v3: treatment by role clinician, actions read, write, categories progress-notes, until 2027-01-01",
        },
        Case {
            name: "deny overrides permit across contracts",
            contracts: vec![
                contract("c-1", vec![treatment_permit()]),
                contract("c-2", vec![Provision::deny().actor(Actor::Member(poe()))]),
            ],
            req: read_notes.clone(),
            permit: false,
            reason: "denied by provision 1 of consent c-2 v1: by member dr-poe",
        },
        Case {
            name: "deny overrides permit inside one contract, whatever the order",
            contracts: vec![contract(
                "c-1",
                vec![treatment_permit(), Provision::deny().categories([Category::ProgressNotes])],
            )],
            req: read_notes.clone(),
            permit: false,
            reason: "denied by provision 2 of consent c-1 v1: categories progress-notes",
        },
        Case {
            name: "nested deny inside permit",
            contracts: vec![contract(
                "c-1",
                vec![Provision::permit()
                    .actor(Actor::Member(poe()))
                    .categories([Category::ProgressNotes, Category::PsychotherapyNotes])
                    .except(Provision::deny().categories([Category::PsychotherapyNotes]))],
            )],
            req: req(clinician(poe()), Action::Read, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: false,
            reason: "denied by exception 1.1 of consent c-1 v1: categories psychotherapy-notes",
        },
        Case {
            name: "among sibling exceptions, deny overrides an earlier permit",
            contracts: vec![contract(
                "c-1",
                vec![Provision::deny()
                    .purposes([Purpose::Research])
                    .except(Provision::permit().actor(Actor::Member(poe())))
                    .except(Provision::deny().categories([Category::ProgressNotes]))],
            )],
            req: req(
                clinician(poe()),
                Action::Read,
                Category::ProgressNotes,
                Purpose::Research,
            ),
            permit: false,
            reason: "denied by exception 1.2 of consent c-1 v1: categories progress-notes",
        },
        Case {
            name: "nested deny does not reach outside its scope",
            contracts: vec![contract(
                "c-1",
                vec![Provision::permit()
                    .actor(Actor::Member(poe()))
                    .except(Provision::deny().categories([Category::Assessments]))],
            )],
            req: read_notes.clone(),
            permit: true,
            reason: "permitted by provision 1 of consent c-1 v1: by member dr-poe",
        },
        Case {
            name: "nested permit inside deny",
            contracts: vec![rich()],
            req: req(researcher(), Action::Analyse, Category::Assessments, Purpose::Research),
            permit: true,
            reason: "permitted by exception 2.1 of consent rich-1 v1: actions analyse, categories assessments, demographics",
        },
        Case {
            name: "the deny around a nested permit still denies the rest",
            contracts: vec![rich()],
            req: req(researcher(), Action::Read, Category::Assessments, Purpose::Research),
            permit: false,
            reason: "denied by provision 2 of consent rich-1 v1: research, ai-analysis by role researcher",
        },
        Case {
            name: "three levels: permit, deny old assessments, permit Dr. Roe again",
            contracts: vec![rich()],
            req: at(
                req(clinician(roe()), Action::Read, Category::Assessments, Purpose::Treatment),
                NOW,
                Some(date!(2019 - 01 - 01)),
            ),
            permit: true,
            reason: "permitted by exception 1.1.1 of consent rich-1 v1: by member dr-roe",
        },
        Case {
            name: "three levels: the clinic's other members are denied old assessments",
            contracts: vec![rich()],
            req: at(
                req(clinician(poe()).organization(clinic()), Action::Read, Category::Assessments, Purpose::Treatment),
                NOW,
                Some(date!(2019 - 01 - 01)),
            ),
            permit: false,
            reason: "denied by exception 1.1 of consent rich-1 v1: categories assessments, records dated until 2020-12-31",
        },
        Case {
            name: "period: the last day is in force",
            contracts: vec![contract("c-1", vec![treatment_permit()])],
            req: at(read_notes.clone(), date!(2027 - 01 - 01), None),
            permit: true,
            reason: "permitted by provision 1",
        },
        Case {
            name: "period: the day after the end grants nothing",
            contracts: vec![contract("c-1", vec![treatment_permit()])],
            req: at(read_notes.clone(), date!(2027 - 01 - 02), None),
            permit: false,
            reason: "no provision permits read of progress-notes for treatment",
        },
        Case {
            name: "period: the first day is in force",
            contracts: vec![rich()],
            req: at(
                req(Requester::new(id(MemberId::new("phone")), Role::Patient).patient_device(), Action::Export, Category::Appointments, Purpose::Treatment),
                date!(2026 - 02 - 01),
                None,
            ),
            permit: true,
            reason: "permitted by provision 3 of consent rich-1 v1: by the patient's devices",
        },
        Case {
            name: "period: the day before the start grants nothing",
            contracts: vec![rich()],
            req: at(
                req(Requester::new(id(MemberId::new("phone")), Role::Patient).patient_device(), Action::Export, Category::Appointments, Purpose::Treatment),
                date!(2026 - 01 - 31),
                None,
            ),
            permit: false,
            reason: "no provision permits export of appointments for treatment",
        },
        Case {
            name: "data period: a record dated inside is permitted",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(poe())).data_period(Some(date!(2025 - 01 - 01)), Some(date!(2025 - 12 - 31)))])],
            req: at(read_notes.clone(), NOW, Some(date!(2025 - 12 - 31))),
            permit: true,
            reason: "records dated until 2025-12-31",
        },
        Case {
            name: "data period: a record dated outside is not",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(poe())).data_period(Some(date!(2025 - 01 - 01)), Some(date!(2025 - 12 - 31)))])],
            req: at(read_notes.clone(), NOW, Some(date!(2026 - 01 - 01))),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "data period: an undated request is not permitted by a dated permit",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(poe())).data_period(Some(date!(2025 - 01 - 01)), None)])],
            req: at(read_notes.clone(), NOW, None),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "data period: an undated request is denied by a dated deny",
            contracts: vec![contract("c-1", vec![
                Provision::permit().actor(Actor::Member(poe())),
                Provision::deny().data_period(None, Some(date!(2020 - 01 - 01))),
            ])],
            req: at(read_notes.clone(), NOW, None),
            permit: false,
            reason: "denied by provision 2",
        },
        Case {
            name: "an inactive (revoked) contract grants nothing",
            contracts: vec![contract("c-1", vec![treatment_permit()]).with_status(Status::Inactive)],
            req: read_notes.clone(),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "a draft grants nothing",
            contracts: vec![contract("c-1", vec![treatment_permit()]).with_status(Status::Draft)],
            req: read_notes.clone(),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "an older version given with a newer revoked one grants nothing",
            contracts: vec![
                contract("c-1", vec![treatment_permit()]),
                contract("c-1", vec![treatment_permit()]).revocation(NOW).unwrap(),
            ],
            req: read_notes.clone(),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "another patient's contract does not apply",
            contracts: vec![{
                let mut c = contract("c-1", vec![treatment_permit()]);
                c.patient = id(PatientId::new("pat-2"));
                c
            }],
            req: read_notes.clone(),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "purpose mismatch",
            contracts: vec![contract("c-1", vec![treatment_permit()])],
            req: req(clinician(poe()), Action::Read, Category::ProgressNotes, Purpose::Research),
            permit: false,
            reason: "no provision permits read of progress-notes for research",
        },
        Case {
            name: "action mismatch",
            contracts: vec![contract("c-1", vec![treatment_permit()])],
            req: req(clinician(poe()), Action::Export, Category::ProgressNotes, Purpose::Treatment),
            permit: false,
            reason: "no provision permits export of progress-notes for treatment",
        },
        Case {
            name: "missing action means every action",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(poe())).purposes([Purpose::Payment])])],
            req: req(clinician(poe()), Action::Export, Category::Appointments, Purpose::Payment),
            permit: true,
            reason: "permitted by provision 1 of consent c-1 v1: payment by member dr-poe",
        },
        Case {
            name: "a specific member: another member of the same role is not covered",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(roe()))])],
            req: read_notes.clone(),
            permit: false,
            reason: "no provision permits",
        },
        Case {
            name: "a role: any member holding it is covered",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Role(Role::Clinician))])],
            req: read_notes.clone(),
            permit: true,
            reason: "by role clinician",
        },
        Case {
            name: "a role: another role is not covered",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Role(Role::Clinician))])],
            req: req(Requester::new(poe(), Role::Admin), Action::Read, Category::Appointments, Purpose::Operations),
            permit: false,
            reason: "no provision permits read of appointments for operations",
        },
        Case {
            name: "an organisation covers its members",
            contracts: vec![rich()],
            req: req(clinician(poe()).organization(clinic()), Action::Write, Category::ProgressNotes, Purpose::Emergency),
            permit: true,
            reason: "permitted by provision 1 of consent rich-1 v1: treatment, emergency by organization roe-clinic, member dr-roe",
        },
        Case {
            name: "a permit without categories does not release psychotherapy notes",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(poe()))])],
            req: req(clinician(poe()).treating_clinician(), Action::Read, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: false,
            reason: "psychotherapy notes are readable only by their author",
        },
        Case {
            name: "a permit naming psychotherapy notes releases them",
            contracts: vec![contract("c-1", vec![Provision::permit().actor(Actor::Member(poe())).categories([Category::PsychotherapyNotes])])],
            req: req(clinician(poe()), Action::Read, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: true,
            reason: "permitted by provision 1",
        },
        Case {
            name: "default: no contract, the treating clinician reads the chart",
            contracts: vec![],
            req: req(clinician(poe()).treating_clinician(), Action::Read, Category::ProgressNotes, Purpose::Treatment),
            permit: true,
            reason: "permitted by default: the treating clinician may read progress-notes for treatment",
        },
        Case {
            name: "default: the treating clinician may not export",
            contracts: vec![],
            req: req(clinician(poe()).treating_clinician(), Action::Export, Category::ProgressNotes, Purpose::Treatment),
            permit: false,
            reason: "no provision permits export of progress-notes for treatment",
        },
        Case {
            name: "default: another clinician gets nothing",
            contracts: vec![],
            req: read_notes.clone(),
            permit: false,
            reason: "by default nothing is shared",
        },
        Case {
            name: "default: psychotherapy notes, the author reads",
            contracts: vec![],
            req: req(clinician(poe()).author(), Action::Read, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: true,
            reason: "permitted by default: the author of a psychotherapy note",
        },
        Case {
            name: "default: psychotherapy notes, the treating clinician who is not the author does not",
            contracts: vec![],
            req: req(clinician(poe()).treating_clinician(), Action::Read, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: false,
            reason: "readable only by their author",
        },
        Case {
            name: "default: psychotherapy notes, the author may not export them",
            contracts: vec![],
            req: req(clinician(poe()).author(), Action::Export, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: false,
            reason: "readable only by their author",
        },
        Case {
            name: "a contract about someone else leaves the defaults to decide",
            contracts: vec![rich()],
            req: req(clinician(poe()).treating_clinician(), Action::Write, Category::TreatmentPlan, Purpose::Treatment),
            permit: true,
            reason: "permitted by default",
        },
        Case {
            name: "an explicit deny beats the treating clinician default",
            contracts: vec![contract("c-1", vec![Provision::deny().actor(Actor::Member(poe())).categories([Category::Assessments])])],
            req: req(clinician(poe()).treating_clinician(), Action::Read, Category::Assessments, Purpose::Treatment),
            permit: false,
            reason: "denied by provision 1 of consent c-1 v1: by member dr-poe, categories assessments",
        },
        Case {
            name: "the patient's psychotherapy deny stands",
            contracts: vec![rich()],
            req: req(clinician(roe()).author(), Action::Read, Category::PsychotherapyNotes, Purpose::Treatment),
            permit: false,
            reason: "denied by provision 4 of consent rich-1 v1: categories psychotherapy-notes",
        },
    ]
}

#[test]
fn evaluation_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let d = evaluate(&case.contracts, &case.req);
        if d.permit != case.permit || !d.reason.contains(case.reason) {
            failures.push(format!(
                "{}: expected permit={} with {:?}, got permit={} {:?}",
                case.name, case.permit, case.reason, d.permit, d.reason
            ));
        }
        // The indexed set decides the same, and so does any order of the contracts.
        assert_eq!(
            ConsentSet::new(case.contracts.clone()).evaluate(&case.req),
            d,
            "{}",
            case.name
        );
        let mut reversed = case.contracts.clone();
        reversed.reverse();
        assert_eq!(evaluate(&reversed, &case.req), d, "{}", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_deciding_path_resolves_to_the_provision() {
    let c = rich();
    let d = evaluate(
        std::slice::from_ref(&c),
        &req(
            researcher(),
            Action::Analyse,
            Category::Demographics,
            Purpose::AiAnalysis,
        ),
    );
    let Some(Deciding::Provision {
        contract,
        version,
        path,
    }) = d.deciding
    else {
        panic!("expected a provision: {d:?}");
    };
    assert_eq!(
        (contract.as_str(), version, path.to_string()),
        ("rich-1", 1, "2.1".to_owned())
    );
    assert_eq!(path.resolve(&c), Some(&c.provisions[1].exceptions[0]));
}

#[test]
fn summary_reads_like_the_example() {
    let c = contract(
        "c-1",
        vec![
            Provision::permit()
                .actor(Actor::Organization(clinic()))
                .actions([Action::Read, Action::Write])
                .purposes([Purpose::Treatment])
                .categories([Category::ProgressNotes, Category::Assessments])
                .period(None, Some(date!(2027 - 01 - 01))),
            Provision::deny().categories([Category::PsychotherapyNotes]),
        ],
    );
    let names = |a: &Actor| match a {
        Actor::Organization(_) => "Dr. Roe's clinic".to_owned(),
        other => other.to_string(),
    };
    assert_eq!(
        summary_with(&c, &names),
        "Dr. Roe's clinic may read and write your session notes and assessments for your treatment until 1 January 2027. No one may see your psychotherapy notes."
    );
}

#[test]
fn summary_covers_exceptions_and_status() {
    let s = summary(&rich());
    assert!(s.contains("Organisation roe-clinic or member dr-roe may read and write your session notes and assessments for your treatment or in an emergency from 1 January 2026 until 1 January 2027."), "{s}");
    assert!(s.contains("But organisation roe-clinic or member dr-roe may not see your assessments (records dated until 31 December 2020). But member dr-roe may see and use your assessments."), "{s}");
    assert!(s.contains("Any researcher may not see your records for research or for on-device AI analysis. But any researcher may analyse your assessments and contact and personal details."), "{s}");
    assert!(
        s.contains("No one may see your psychotherapy notes."),
        "{s}"
    );
    let revoked = rich().revocation(date!(2026 - 03 - 01)).unwrap();
    assert!(summary(&revoked)
        .starts_with("This consent was withdrawn on 1 March 2026 and grants nothing."));
}
