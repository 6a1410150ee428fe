//! The contract model, shaped like FHIR R4 Consent: status, patient, date, attestation and a
//! list of provisions (permit or deny, with nested exceptions).

use std::fmt;

use time::Date;

/// A value that is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id {value:?}: use 1 to 64 letters, digits, '-' or '.'")]
pub struct IdError {
    /// Which kind of identifier.
    pub kind: &'static str,
    /// The rejected value.
    pub value: String,
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $kind:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `value` is a FHIR id (`[A-Za-z0-9\-.]{1,64}`).
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                let ok = !value.is_empty()
                    && value.len() <= 64
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if ok {
                    Ok(Self(value))
                } else {
                    Err(IdError { kind: $kind, value })
                }
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// The logical id of a contract: stable across its versions.
    ContractId,
    "contract"
);
id_type!(
    /// The patient a contract is about (the record id of the patient).
    PatientId,
    "patient"
);
id_type!(
    /// A clinic member (a user or one of their devices).
    MemberId,
    "member"
);
id_type!(
    /// An organisation (a clinic, a lab, a payer).
    OrganizationId,
    "organization"
);
id_type!(
    /// A document (for example the scan of a paper consent).
    DocumentId,
    "document"
);

macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $code:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vm])* $var,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var,)+];

            /// The code, as written in FHIR JSON and in reasons.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$var => $code,)+
                }
            }

            /// Parses a code; `None` when it is not one of [`Self::ALL`].
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$var),)+
                    _ => None,
                }
            }

            /// The codes, comma-separated (for error messages).
            pub fn expected() -> String {
                Self::ALL.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

codes!(
    /// The status of a contract version (FHIR `Consent.status`, restricted).
    Status {
        /// Being written; grants nothing.
        Draft = "draft",
        /// In force.
        Active = "active",
        /// Revoked or ended; grants nothing.
        Inactive = "inactive",
    }
);

codes!(
    /// Whether a provision permits or denies (FHIR `Consent.provision.type`).
    ProvisionType {
        /// Deny what the provision covers.
        Deny = "deny",
        /// Permit what the provision covers.
        Permit = "permit",
    }
);

codes!(
    /// A role in the clinic.
    Role {
        /// A clinician (therapist, psychiatrist).
        Clinician = "clinician",
        /// Clinic administration (front desk, billing).
        Admin = "admin",
        /// A patient.
        Patient = "patient",
        /// A researcher.
        Researcher = "researcher",
    }
);

codes!(
    /// What an actor does with a record.
    Action {
        /// View.
        Read = "read",
        /// Create or change.
        Write = "write",
        /// Send to another member or device.
        Share = "share",
        /// Take out of Hearth (FHIR bundle, archive).
        Export = "export",
        /// Analyse (statistics, on-device AI).
        Analyse = "analyse",
    }
);

codes!(
    /// Why (FHIR `Consent.provision.purpose`).
    Purpose {
        /// Treatment of the patient.
        Treatment = "treatment",
        /// Billing and payment.
        Payment = "payment",
        /// Running the clinic.
        Operations = "operations",
        /// Research.
        Research = "research",
        /// On-device AI analysis.
        AiAnalysis = "ai-analysis",
        /// Emergency treatment.
        Emergency = "emergency",
    }
);

codes!(
    /// The category of a record (FHIR `Consent.provision.class`); the same codes as
    /// `hearth_records::Category::as_str`.
    Category {
        /// Patient demographics and contacts.
        Demographics = "demographics",
        /// Appointments.
        Appointments = "appointments",
        /// Session (progress) notes.
        ProgressNotes = "progress-notes",
        /// Psychotherapy notes.
        PsychotherapyNotes = "psychotherapy-notes",
        /// Assessments (PHQ-9, GAD-7).
        Assessments = "assessments",
        /// Treatment plan.
        TreatmentPlan = "treatment-plan",
        /// Attachments.
        Attachments = "attachments",
    }
);

/// Who a provision is about (FHIR `Consent.provision.actor`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    /// One clinic member (a user or a device).
    Member(MemberId),
    /// Anyone holding the role.
    Role(Role),
    /// Anyone acting for the organisation.
    Organization(OrganizationId),
    /// The patient's own devices.
    PatientDevice,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Member(m) => write!(f, "member {m}"),
            Actor::Role(r) => write!(f, "role {r}"),
            Actor::Organization(o) => write!(f, "organization {o}"),
            Actor::PatientDevice => f.write_str("the patient's devices"),
        }
    }
}

/// A closed range of days, either end open. Both ends are inclusive: a period ending
/// 2027-01-01 covers that whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Period {
    /// First day covered, if any.
    pub start: Option<Date>,
    /// Last day covered, if any.
    pub end: Option<Date>,
}

impl Period {
    /// A period from `start` to `end`, both inclusive.
    pub fn new(start: Option<Date>, end: Option<Date>) -> Self {
        Self { start, end }
    }

    /// Whether `day` falls in the period.
    pub fn contains(&self, day: Date) -> bool {
        self.start.is_none_or(|s| s <= day) && self.end.is_none_or(|e| day <= e)
    }
}

/// A rule of a contract. Empty lists mean "any" (FHIR: a missing element does not restrict).
/// Exceptions apply inside this provision's scope and take precedence over it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Provision {
    /// Permit or deny.
    pub kind: ProvisionType,
    /// Who; empty = anyone.
    pub actors: Vec<Actor>,
    /// What; empty = every action.
    pub actions: Vec<Action>,
    /// Why; empty = every purpose.
    pub purposes: Vec<Purpose>,
    /// Which records; empty = every category.
    pub categories: Vec<Category>,
    /// When the provision is in force (request time).
    pub period: Option<Period>,
    /// Which records, by the record's own date.
    pub data_period: Option<Period>,
    /// Nested exceptions (usually of the opposite type).
    pub exceptions: Vec<Provision>,
}

impl Provision {
    /// A provision of `kind` that covers everything (narrow it with the builder methods).
    pub fn new(kind: ProvisionType) -> Self {
        Self {
            kind,
            actors: Vec::new(),
            actions: Vec::new(),
            purposes: Vec::new(),
            categories: Vec::new(),
            period: None,
            data_period: None,
            exceptions: Vec::new(),
        }
    }

    /// A permit covering everything.
    pub fn permit() -> Self {
        Self::new(ProvisionType::Permit)
    }

    /// A deny covering everything.
    pub fn deny() -> Self {
        Self::new(ProvisionType::Deny)
    }

    /// Adds an actor.
    #[must_use]
    pub fn actor(mut self, actor: Actor) -> Self {
        self.actors.push(actor);
        self
    }

    /// Adds actions.
    #[must_use]
    pub fn actions(mut self, actions: impl IntoIterator<Item = Action>) -> Self {
        self.actions.extend(actions);
        self
    }

    /// Adds purposes.
    #[must_use]
    pub fn purposes(mut self, purposes: impl IntoIterator<Item = Purpose>) -> Self {
        self.purposes.extend(purposes);
        self
    }

    /// Adds record categories.
    #[must_use]
    pub fn categories(mut self, categories: impl IntoIterator<Item = Category>) -> Self {
        self.categories.extend(categories);
        self
    }

    /// Sets the period in force (inclusive days).
    #[must_use]
    pub fn period(mut self, start: Option<Date>, end: Option<Date>) -> Self {
        self.period = Some(Period::new(start, end));
        self
    }

    /// Sets the data period (inclusive days of the records' own dates).
    #[must_use]
    pub fn data_period(mut self, start: Option<Date>, end: Option<Date>) -> Self {
        self.data_period = Some(Period::new(start, end));
        self
    }

    /// Adds a nested exception.
    #[must_use]
    pub fn except(mut self, exception: Provision) -> Self {
        self.exceptions.push(exception);
        self
    }
}

/// A paper consent recorded by a clinician in place of the patient's signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attestation {
    /// The member who attests the patient signed on paper.
    pub by: MemberId,
    /// When it was attested.
    pub date: Date,
    /// The scan of the paper form, stored as an attachment.
    pub scan: Option<DocumentId>,
}

/// One version of a consent contract (FHIR R4 Consent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Contract {
    /// Logical id, the same for every version (FHIR `Consent.id`).
    pub id: ContractId,
    /// Version number, from 1 (FHIR `Consent.meta.versionId`).
    pub version: u32,
    /// SHA-256 of the previous version's canonical form; `None` for version 1.
    pub previous: Option<crate::ContractHash>,
    /// Draft, active or inactive (revoked).
    pub status: Status,
    /// Who the contract is about.
    pub patient: PatientId,
    /// When this version was made (FHIR `Consent.dateTime`).
    pub date: Date,
    /// Set when a clinician recorded a paper consent.
    pub attestation: Option<Attestation>,
    /// The rules, in order: "provision 1" is the first.
    pub provisions: Vec<Provision>,
}

impl Contract {
    /// Version 1 of an active contract with no provisions yet.
    pub fn new(id: ContractId, patient: PatientId, date: Date) -> Self {
        Self {
            id,
            version: 1,
            previous: None,
            status: Status::Active,
            patient,
            date,
            attestation: None,
            provisions: Vec::new(),
        }
    }

    /// Adds a provision.
    #[must_use]
    pub fn provision(mut self, provision: Provision) -> Self {
        self.provisions.push(provision);
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    /// Marks the contract as a paper consent attested by a clinician.
    #[must_use]
    pub fn attested(mut self, attestation: Attestation) -> Self {
        self.attestation = Some(attestation);
        self
    }

    /// The next version: the same contract with `version + 1`, `previous` set to this
    /// version's hash and `date` set; edit it, then sign it.
    pub fn next_version(&self, date: Date) -> Result<Contract, crate::SignatureError> {
        let hash = self.hash()?;
        let version = self
            .version
            .checked_add(1)
            .ok_or(crate::SignatureError::VersionOverflow)?;
        Ok(Contract {
            version,
            previous: Some(hash),
            date,
            attestation: None,
            ..self.clone()
        })
    }

    /// The revocation of this contract: the next version, with status inactive.
    pub fn revocation(&self, date: Date) -> Result<Contract, crate::SignatureError> {
        Ok(self.next_version(date)?.with_status(Status::Inactive))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ids_follow_the_fhir_id_rule() {
        assert!(ContractId::new("c-1.v2").is_ok());
        assert!(ContractId::new("x".repeat(64)).is_ok());
        for bad in ["", "has space", "a/b", "é", &"x".repeat(65)] {
            let err = PatientId::new(bad).unwrap_err();
            assert!(err.to_string().contains("invalid patient id"), "{err}");
        }
    }

    #[test]
    fn periods_include_both_ends() {
        let p = Period::new(Some(date!(2026 - 01 - 01)), Some(date!(2026 - 12 - 31)));
        assert!(p.contains(date!(2026 - 01 - 01)));
        assert!(p.contains(date!(2026 - 12 - 31)));
        assert!(!p.contains(date!(2025 - 12 - 31)));
        assert!(!p.contains(date!(2027 - 01 - 01)));
        assert!(Period::default().contains(date!(1900 - 01 - 01)));
        assert!(Period::new(None, Some(date!(2026 - 01 - 01))).contains(date!(1900 - 01 - 01)));
    }

    #[test]
    fn codes_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(*a));
        }
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(*c));
        }
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_code(p.code()), Some(*p));
        }
        assert_eq!(Status::from_code("proposed"), None);
        assert_eq!(Role::expected(), "clinician, admin, patient, researcher");
    }

    #[test]
    fn next_version_links_to_this_one() {
        let c = Contract::new(
            ContractId::new("c").unwrap(),
            PatientId::new("p").unwrap(),
            date!(2026 - 01 - 01),
        );
        let r = c.revocation(date!(2026 - 02 - 01)).unwrap();
        assert_eq!(r.version, 2);
        assert_eq!(r.previous, Some(c.hash().unwrap()));
        assert_eq!(r.status, Status::Inactive);
        assert_eq!(r.date, date!(2026 - 02 - 01));
    }
}
