#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties: determinism, deny overrides, revocation, FHIR round trips, parsers that never
//! panic.

use hearth_consent::*;
use proptest::prelude::*;
use serde_json::Value;
use time::macros::date;
use time::{Date, Duration};

fn day() -> impl Strategy<Value = Date> {
    (0i64..1100).prop_map(|n| date!(2025 - 01 - 01) + Duration::days(n))
}

fn period() -> impl Strategy<Value = Option<Period>> {
    prop::option::of(
        (prop::option::of(day()), prop::option::of(day())).prop_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if b < a => Period::new(Some(b), Some(a)),
            (a, b) => Period::new(a, b),
        }),
    )
}

const MEMBERS: &[&str] = &["m1", "m2", "m3"];
const ORGS: &[&str] = &["o1", "o2"];

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        prop::sample::select(MEMBERS).prop_map(|m| Actor::Member(MemberId::new(m).unwrap())),
        prop::sample::select(Role::ALL).prop_map(Actor::Role),
        prop::sample::select(ORGS)
            .prop_map(|o| Actor::Organization(OrganizationId::new(o).unwrap())),
        Just(Actor::PatientDevice),
    ]
}

fn subset<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = Vec<T>> {
    prop::sample::subsequence(all, 0..=2)
}

fn leaf() -> impl Strategy<Value = Provision> {
    (
        prop::sample::select(ProvisionType::ALL),
        prop::collection::vec(actor(), 0..=2),
        subset(Action::ALL),
        subset(Purpose::ALL),
        subset(Category::ALL),
        period(),
        period(),
    )
        .prop_map(
            |(kind, actors, actions, purposes, categories, period, data_period)| Provision {
                kind,
                actors,
                actions,
                purposes,
                categories,
                period,
                data_period,
                exceptions: Vec::new(),
            },
        )
}

fn provision() -> impl Strategy<Value = Provision> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        (leaf(), prop::collection::vec(inner, 0..=3)).prop_map(|(mut p, ex)| {
            p.exceptions = ex;
            p
        })
    })
}

fn contract() -> impl Strategy<Value = Contract> {
    (
        prop::sample::select(&["c1", "c2", "c3"][..]),
        1u32..4,
        prop::sample::select(Status::ALL),
        prop::sample::select(&["p1", "p2"][..]),
        day(),
        prop::collection::vec(provision(), 0..4),
        prop::option::of((prop::sample::select(MEMBERS), day(), any::<bool>())),
    )
        .prop_map(
            |(id, version, status, patient, date, provisions, attested)| Contract {
                id: ContractId::new(id).unwrap(),
                version,
                previous: (version > 1).then_some(ContractHash([version as u8; 32])),
                status,
                patient: PatientId::new(patient).unwrap(),
                date,
                attestation: attested.map(|(m, d, scan)| Attestation {
                    by: MemberId::new(m).unwrap(),
                    date: d,
                    scan: scan.then(|| DocumentId::new("scan").unwrap()),
                }),
                provisions,
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    (
        (
            prop::sample::select(MEMBERS),
            prop::sample::select(Role::ALL),
            prop::option::of(prop::sample::select(ORGS)),
            any::<[bool; 3]>(),
        ),
        prop::sample::select(Action::ALL),
        prop::sample::select(Category::ALL),
        prop::sample::select(&["p1", "p2"][..]),
        prop::sample::select(Purpose::ALL),
        day(),
        prop::option::of(day()),
    )
        .prop_map(
            |(
                (m, role, org, [pd, tc, au]),
                action,
                category,
                patient,
                purpose,
                time,
                record_date,
            )| {
                let mut actor = Requester::new(MemberId::new(m).unwrap(), role);
                actor.organization = org.map(|o| OrganizationId::new(o).unwrap());
                actor.patient_device = pd;
                actor.treating_clinician = tc;
                actor.author = au;
                Request {
                    actor,
                    action,
                    category,
                    patient: PatientId::new(patient).unwrap(),
                    purpose,
                    time,
                    record_date,
                }
            },
        )
}

/// A deny provision that covers `req`, narrowed by whatever `narrow` selects.
fn covering_deny(req: &Request, narrow: [bool; 6]) -> Provision {
    let mut p = Provision::deny();
    if narrow[0] {
        p = p.actor(Actor::Member(req.actor.member.clone()));
    }
    if narrow[1] {
        p = p.actor(Actor::Role(req.actor.role));
    }
    if narrow[2] {
        p = p.actions([req.action]);
    }
    if narrow[3] {
        p = p.categories([req.category]);
    }
    if narrow[4] {
        p = p.purposes([req.purpose]);
    }
    if narrow[5] {
        p = p.period(Some(req.time), Some(req.time));
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn evaluation_is_deterministic(contracts in prop::collection::vec(contract(), 0..6), req in request()) {
        let d = evaluate(&contracts, &req);
        prop_assert_eq!(&evaluate(&contracts, &req), &d);
        let mut reversed = contracts.clone();
        reversed.reverse();
        prop_assert_eq!(&evaluate(&reversed, &req), &d);
        prop_assert_eq!(&ConsentSet::new(contracts.clone()).evaluate(&req), &d);
        prop_assert!(!d.reason.is_empty());
        prop_assert!(d.deciding.is_some());
        if let Some(Deciding::Provision { contract, version, path }) = &d.deciding {
            let found = contracts.iter().any(|c| {
                &c.id == contract
                    && c.version == *version
                    && c.patient == req.patient
                    && c.status == Status::Active
                    && path
                        .resolve(c)
                        .is_some_and(|p| (p.kind == ProvisionType::Permit) == d.permit)
            });
            prop_assert!(found, "{:?}", d);
        }
    }

    #[test]
    fn a_covering_deny_always_denies(
        contracts in prop::collection::vec(contract(), 0..6),
        req in request(),
        narrow in any::<[bool; 6]>(),
        into_existing in any::<prop::sample::Index>(),
        fresh in any::<bool>(),
    ) {
        let deny = covering_deny(&req, narrow);
        let mut contracts = contracts;
        // Put it in a new active contract, or as a top-level provision of an existing head.
        let heads: Vec<usize> = (0..contracts.len())
            .filter(|&i| contracts[i].status == Status::Active && contracts[i].patient == req.patient
                && !contracts.iter().any(|o| o.id == contracts[i].id && o.patient == req.patient && o.version > contracts[i].version))
            .collect();
        if fresh || heads.is_empty() {
            let mut c = Contract::new(ContractId::new("deny").unwrap(), req.patient.clone(), req.time);
            c.provisions.push(deny);
            contracts.push(c);
        } else {
            let i = heads[into_existing.index(heads.len())];
            let at = into_existing.index(contracts[i].provisions.len() + 1);
            contracts[i].provisions.insert(at, deny);
        }
        let d = evaluate(&contracts, &req);
        prop_assert!(!d.permit, "{}", d.reason);
        prop_assert!(d.reason.starts_with("denied by"), "{}", d.reason);
    }

    #[test]
    fn a_revoked_contract_grants_and_denies_nothing(c in contract(), req in request()) {
        let revoked = c.revocation(req.time).unwrap();
        prop_assert_eq!(evaluate(&[c.clone(), revoked.clone()], &req), defaults(&req));
        prop_assert_eq!(evaluate(&[revoked], &req), defaults(&req));
    }

    #[test]
    fn revoking_a_contract_removes_its_effect_and_nothing_else(
        contracts in prop::collection::vec(contract(), 1..5),
        req in request(),
        which in any::<prop::sample::Index>(),
    ) {
        let picked = &contracts[which.index(contracts.len())];
        let (id, patient) = (picked.id.clone(), picked.patient.clone());
        let head = contracts
            .iter()
            .filter(|c| c.id == id && c.patient == patient)
            .max_by_key(|c| c.version)
            .unwrap();
        let revoked = head.revocation(req.time).unwrap();
        let mut after = contracts.clone();
        after.push(revoked);
        let without: Vec<Contract> = contracts
            .iter()
            .filter(|c| !(c.id == id && c.patient == patient))
            .cloned()
            .collect();
        prop_assert_eq!(evaluate(&after, &req), evaluate(&without, &req));
    }

    #[test]
    fn fhir_round_trip(c in contract()) {
        let json = to_fhir_json(&c).unwrap();
        prop_assert_eq!(from_fhir_json(&json).unwrap(), c.clone());
        // And through the signed, stored form.
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let s = SignedContract::sign(c, &key).unwrap();
        let back = SignedContract::from_json(&s.to_json().unwrap()).unwrap();
        prop_assert!(back.verify(&key.verifying_key()).is_ok());
        prop_assert_eq!(back, s);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in ".{0,200}") {
        let _ = from_fhir_json(&s);
        let _ = SignedContract::from_json(&s);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_json(v in json_value()) {
        let _ = from_fhir_value(&v);
        let _ = from_fhir_json(&v.to_string());
    }

    #[test]
    fn parsers_never_panic_on_mutated_consents(
        c in contract(),
        target in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let mut v = to_fhir_value(&c).unwrap();
        let mut pointers = Vec::new();
        collect_pointers(&v, String::new(), &mut pointers);
        let p = &pointers[target.index(pointers.len())];
        if let Some(slot) = v.pointer_mut(p) {
            *slot = replacement;
        }
        if let Ok(parsed) = from_fhir_value(&v) {
            // Whatever is accepted exports and re-imports to itself.
            let again = from_fhir_json(&to_fhir_json(&parsed).unwrap()).unwrap();
            prop_assert_eq!(again, parsed);
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(
            &[
                "Consent",
                "active",
                "permit",
                "deny",
                "read",
                "2026-01-01",
                "Patient/p1",
                "urn:hearth:fhir:record-category",
                "psychotherapy-notes",
                "",
                "\u{0}",
                "9999-99-99",
            ][..]
        )
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(
                    &[
                        "resourceType",
                        "id",
                        "status",
                        "scope",
                        "category",
                        "patient",
                        "dateTime",
                        "provision",
                        "type",
                        "actor",
                        "action",
                        "purpose",
                        "class",
                        "period",
                        "dataPeriod",
                        "coding",
                        "system",
                        "code",
                        "reference",
                        "start",
                        "end",
                        "x",
                    ][..]
                )
                .prop_map(str::to_owned),
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn collect_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                collect_pointers(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                collect_pointers(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}
