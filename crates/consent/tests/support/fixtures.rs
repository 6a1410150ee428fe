//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use hearth_consent::*;
use time::macros::date;
use time::Date;

pub fn id<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("valid id")
}

pub fn patient() -> PatientId {
    id(PatientId::new("pat-1"))
}

pub fn roe() -> MemberId {
    id(MemberId::new("dr-roe"))
}

pub fn poe() -> MemberId {
    id(MemberId::new("dr-poe"))
}

pub fn clinic() -> OrganizationId {
    id(OrganizationId::new("roe-clinic"))
}

/// An active version 1 with the given provisions.
pub fn contract(cid: &str, provisions: Vec<Provision>) -> Contract {
    let mut c = Contract::new(id(ContractId::new(cid)), patient(), date!(2026 - 01 - 01));
    c.provisions = provisions;
    c
}

/// A contract using every feature: all actor kinds, nested exceptions both ways, periods,
/// data periods, attestation with a scan.
pub fn rich() -> Contract {
    contract(
        "rich-1",
        vec![
            Provision::permit()
                .actor(Actor::Organization(clinic()))
                .actor(Actor::Member(roe()))
                .actions([Action::Read, Action::Write])
                .purposes([Purpose::Treatment, Purpose::Emergency])
                .categories([Category::ProgressNotes, Category::Assessments])
                .period(Some(date!(2026 - 01 - 01)), Some(date!(2027 - 01 - 01)))
                .except(
                    Provision::deny()
                        .categories([Category::Assessments])
                        .data_period(None, Some(date!(2020 - 12 - 31)))
                        .except(Provision::permit().actor(Actor::Member(roe()))),
                ),
            Provision::deny()
                .actor(Actor::Role(Role::Researcher))
                .purposes([Purpose::Research, Purpose::AiAnalysis])
                .except(
                    Provision::permit()
                        .actions([Action::Analyse])
                        .categories([Category::Assessments, Category::Demographics]),
                ),
            Provision::permit()
                .actor(Actor::PatientDevice)
                .actions([Action::Read, Action::Export, Action::Share])
                .categories([
                    Category::Demographics,
                    Category::Appointments,
                    Category::TreatmentPlan,
                    Category::Attachments,
                ])
                .period(Some(date!(2026 - 02 - 01)), None),
            Provision::deny().categories([Category::PsychotherapyNotes]),
        ],
    )
    .attested(Attestation {
        by: roe(),
        date: date!(2026 - 01 - 02),
        scan: Some(id(DocumentId::new("scan-9"))),
    })
}

pub fn request(
    actor: Requester,
    action: Action,
    category: Category,
    purpose: Purpose,
    time: Date,
    record_date: Option<Date>,
) -> Request {
    Request {
        actor,
        action,
        category,
        patient: patient(),
        purpose,
        time,
        record_date,
    }
}

pub fn clinician(m: MemberId) -> Requester {
    Requester::new(m, Role::Clinician)
}
