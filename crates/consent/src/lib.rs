//! Hearth's consent core: contracts shaped like HL7 FHIR R4 Consent, their canonical form and
//! Ed25519 signatures, version chains, and a pure, deterministic evaluator with reasons. No
//! IO, no clock: the caller passes the time in.
//!
//! - [`Contract`], [`Provision`], [`Actor`], [`Action`], [`Purpose`], [`Category`]: the model.
//! - [`to_fhir_json`], [`from_fhir_json`]: FHIR R4 Consent JSON; bad input is refused with
//!   the JSON path ([`FhirError`]).
//! - [`Contract::canonical_bytes`] (RFC 8785), [`Contract::hash`], [`SignedContract`],
//!   [`Chain`]: signatures, attested paper consents, version chains and revocation.
//! - [`evaluate()`], [`ConsentSet`], [`defaults`]: decisions with the deciding provision and a
//!   reason; deny overrides permit; without a contract the clinic defaults apply.
//! - [`summary()`], [`summary_with`]: a plain-language summary for the patient.
//!
//! See `DESIGN.md` in this crate for the rules.
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use hearth_consent::*;
//! use time::macros::date;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let patient_key = SigningKey::from_bytes(&[7; 32]);
//! let roe = MemberId::new("dr-roe")?;
//!
//! // Dr. Roe may read and write session notes and assessments for treatment until 2027,
//! // except psychotherapy notes.
//! let v1 = Contract::new(ContractId::new("c-1")?, PatientId::new("pat-1")?, date!(2026 - 01 - 05))
//!     .provision(
//!         Provision::permit()
//!             .actor(Actor::Member(roe.clone()))
//!             .actions([Action::Read, Action::Write])
//!             .purposes([Purpose::Treatment])
//!             .categories([Category::ProgressNotes, Category::Assessments])
//!             .period(None, Some(date!(2027 - 01 - 01))),
//!     );
//! let chain = Chain::validate([SignedContract::sign(v1.clone(), &patient_key)?], &patient_key.verifying_key())?;
//!
//! let request = Request {
//!     actor: Requester::new(roe, Role::Clinician),
//!     action: Action::Read,
//!     category: Category::ProgressNotes,
//!     patient: PatientId::new("pat-1")?,
//!     purpose: Purpose::Treatment,
//!     time: date!(2026 - 06 - 01),
//!     record_date: Some(date!(2026 - 05 - 30)),
//! };
//! let decision = evaluate(&[chain.head().contract().clone()], &request);
//! assert!(decision.permit);
//! assert!(decision.reason.starts_with("permitted by provision 1 of consent c-1 v1"));
//!
//! // Revocation: the next version, inactive. After it the contract grants nothing.
//! let v2 = SignedContract::sign(v1.revocation(date!(2026 - 07 - 01))?, &patient_key)?;
//! let mut chain = chain;
//! chain.accept(v2, &patient_key.verifying_key())?;
//! let decision = evaluate(&[chain.head().contract().clone()], &request);
//! assert!(!decision.permit);
//!
//! // FHIR R4 Consent JSON round trip.
//! assert_eq!(from_fhir_json(&to_fhir_json(&v1)?)?, v1);
//! # Ok(()) }
//! ```

pub mod evaluate;
pub mod fhir;
pub mod model;
pub mod signature;
pub mod summary;

pub use evaluate::{
    defaults, describe_provision, evaluate, ConsentSet, Deciding, Decision, DefaultRule,
    ProvisionPath, Request, Requester,
};
pub use fhir::{from_fhir_json, from_fhir_value, to_fhir_json, to_fhir_value, FhirError};
pub use model::{
    Action, Actor, Attestation, Category, Contract, ContractId, DocumentId, IdError, MemberId,
    OrganizationId, PatientId, Period, Provision, ProvisionType, Purpose, Role, Status,
};
pub use signature::{Accepted, Chain, ChainError, ContractHash, SignatureError, SignedContract};
pub use summary::{summary, summary_with};
