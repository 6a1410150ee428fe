//! Evaluation: pure and deterministic, deny overrides permit, with reasons taken from the
//! contract.
//!
//! Rules (see `DESIGN.md`):
//! - Only the newest version of each contract counts, and only if it is `active` and about the
//!   request's patient. Draft and inactive (revoked) contracts grant and deny nothing.
//! - A provision covers a request when every constraint it states matches (an empty list or a
//!   missing period does not restrict). Exceptions inside a covering provision override it;
//!   among siblings, deny overrides permit.
//! - A permit covers psychotherapy notes only if it names that category.
//! - A permit needs the record's date inside its data period; a deny with a data period
//!   also applies when the request has no record date (unknown counts against access).
//! - Across provisions and contracts, any deny wins over every permit. When no contract
//!   covers the request, [`defaults`] decide.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use time::Date;

use crate::fhir::format_date;
use crate::model::{
    Action, Actor, Category, Contract, ContractId, MemberId, OrganizationId, PatientId, Period,
    Provision, ProvisionType, Purpose, Role, Status,
};

/// Who is asking, with what the caller knows about their relation to the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requester {
    /// The member (user or device) asking.
    pub member: MemberId,
    /// Their role in the clinic.
    pub role: Role,
    /// The organisation they act for, if any.
    pub organization: Option<OrganizationId>,
    /// The request comes from one of the patient's own devices.
    pub patient_device: bool,
    /// The member is this patient's treating clinician.
    pub treating_clinician: bool,
    /// The member wrote the record asked about (matters for psychotherapy notes).
    pub author: bool,
}

impl Requester {
    /// A member in a role, with no organisation and no relation to the record.
    pub fn new(member: MemberId, role: Role) -> Self {
        Self {
            member,
            role,
            organization: None,
            patient_device: false,
            treating_clinician: false,
            author: false,
        }
    }

    /// Sets the organisation.
    #[must_use]
    pub fn organization(mut self, organization: OrganizationId) -> Self {
        self.organization = Some(organization);
        self
    }

    /// Marks the member as the patient's treating clinician.
    #[must_use]
    pub fn treating_clinician(mut self) -> Self {
        self.treating_clinician = true;
        self
    }

    /// Marks the member as the record's author.
    #[must_use]
    pub fn author(mut self) -> Self {
        self.author = true;
        self
    }

    /// Marks the request as coming from one of the patient's own devices.
    #[must_use]
    pub fn patient_device(mut self) -> Self {
        self.patient_device = true;
        self
    }
}

/// An access to decide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    /// Who.
    pub actor: Requester,
    /// What.
    pub action: Action,
    /// The category of the record.
    pub category: Category,
    /// Whose record.
    pub patient: PatientId,
    /// Why.
    pub purpose: Purpose,
    /// When the access happens (the caller's clock; evaluation reads no clock).
    pub time: Date,
    /// The record's own date (a note's session date), if known.
    pub record_date: Option<Date>,
}

/// Where a provision sits in a contract: `[2]` is provision 2, `[1, 1]` its exception 1.1.
/// Numbers start at 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProvisionPath(pub Vec<usize>);

impl ProvisionPath {
    /// Whether this is a nested exception rather than a top-level provision.
    pub fn is_exception(&self) -> bool {
        self.0.len() > 1
    }

    /// The provision this path points to.
    pub fn resolve<'a>(&self, contract: &'a Contract) -> Option<&'a Provision> {
        let (first, rest) = self.0.split_first()?;
        let mut p = contract.provisions.get(first.checked_sub(1)?)?;
        for i in rest {
            p = p.exceptions.get(i.checked_sub(1)?)?;
        }
        Some(p)
    }
}

impl fmt::Display for ProvisionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for n in &self.0 {
            write!(f, "{sep}{n}")?;
            sep = ".";
        }
        Ok(())
    }
}

/// A built-in rule applied when no contract covers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DefaultRule {
    /// The treating clinician reads and writes their patient's chart for treatment.
    TreatingClinician,
    /// The author of a psychotherapy note reads and writes it for treatment.
    PsychotherapyNoteAuthor,
    /// Psychotherapy notes are readable only by their author.
    PsychotherapyNotesAuthorOnly,
    /// Nothing is shared with anyone else without a contract.
    NothingShared,
}

/// What decided a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Deciding {
    /// A provision of a contract.
    Provision {
        /// The contract.
        contract: ContractId,
        /// Its version.
        version: u32,
        /// The provision.
        path: ProvisionPath,
    },
    /// A default rule (no contract covered the request).
    Default(DefaultRule),
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Whether the access is allowed.
    pub permit: bool,
    /// Why, in words, from the deciding provision.
    pub reason: String,
    /// The deciding provision or default rule.
    pub deciding: Option<Deciding>,
}

fn period_text(p: &Period, from: &str, until: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = p.start {
        out.push(format!("{from} {}", format_date(s)));
    }
    if let Some(e) = p.end {
        out.push(format!("{until} {}", format_date(e)));
    }
    out
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A short description of a provision's own constraints, as used in reasons:
/// `treatment by role clinician, categories progress-notes, until 2027-01-01`.
pub fn describe_provision(p: &Provision) -> String {
    let mut parts = Vec::new();
    let mut head = String::new();
    if !p.purposes.is_empty() {
        head.push_str(&join(&p.purposes));
    }
    if !p.actors.is_empty() {
        if !head.is_empty() {
            head.push(' ');
        }
        head.push_str("by ");
        head.push_str(&join(&p.actors));
    }
    if !head.is_empty() {
        parts.push(head);
    }
    if !p.actions.is_empty() {
        parts.push(format!("actions {}", join(&p.actions)));
    }
    if !p.categories.is_empty() {
        parts.push(format!("categories {}", join(&p.categories)));
    }
    if let Some(period) = &p.period {
        parts.extend(period_text(period, "from", "until"));
    }
    if let Some(dp) = &p.data_period {
        parts.extend(period_text(dp, "records dated from", "records dated until"));
    }
    if parts.is_empty() {
        "everything".to_owned()
    } else {
        parts.join(", ")
    }
}

fn actor_matches(actor: &Actor, who: &Requester) -> bool {
    match actor {
        Actor::Member(m) => *m == who.member,
        Actor::Role(r) => *r == who.role,
        Actor::Organization(o) => who.organization.as_ref() == Some(o),
        Actor::PatientDevice => who.patient_device,
    }
}

/// Whether `p`'s own constraints (not its exceptions) cover `req`.
fn covers(p: &Provision, req: &Request) -> bool {
    let deny = p.kind == ProvisionType::Deny;
    let category = if p.categories.is_empty() {
        // Psychotherapy notes are granted only by name.
        deny || req.category != Category::PsychotherapyNotes
    } else {
        p.categories.contains(&req.category)
    };
    category
        && (p.actors.is_empty() || p.actors.iter().any(|a| actor_matches(a, &req.actor)))
        && (p.actions.is_empty() || p.actions.contains(&req.action))
        && (p.purposes.is_empty() || p.purposes.contains(&req.purpose))
        && p.period.is_none_or(|x| x.contains(req.time))
        && p.data_period.is_none_or(|x| match req.record_date {
            Some(d) => x.contains(d),
            None => deny,
        })
}

/// The effect of `p` on `req` and the deciding path (relative, appended to `path`).
fn eval_provision(
    p: &Provision,
    req: &Request,
    path: &mut Vec<usize>,
) -> Option<(ProvisionType, Vec<usize>)> {
    if !covers(p, req) {
        return None;
    }
    let mut permit = None;
    for (i, e) in p.exceptions.iter().enumerate() {
        path.push(i + 1);
        let r = eval_provision(e, req, path);
        path.pop();
        match r {
            Some(d @ (ProvisionType::Deny, _)) => return Some(d),
            Some(d) if permit.is_none() => permit = Some(d),
            Some(_) | None => {}
        }
    }
    permit.or_else(|| Some((p.kind, path.clone())))
}

/// Decides `req` against the given contract heads, in the given order; `None` when no
/// provision of an active contract of the patient covers it. Heads with `grants == false`
/// (forked) only deny.
fn decide_contracts<'a>(
    heads: impl IntoIterator<Item = (&'a Contract, bool)>,
    req: &Request,
) -> Option<Decision> {
    let mut permit: Option<(&Contract, Vec<usize>)> = None;
    let mut path = Vec::new();
    for (c, grants) in heads {
        if c.status != Status::Active || c.patient != req.patient {
            continue;
        }
        for (i, p) in c.provisions.iter().enumerate() {
            path.clear();
            path.push(i + 1);
            match eval_provision(p, req, &mut path) {
                Some((ProvisionType::Deny, at)) => return Some(decision(c, at, false)),
                Some((ProvisionType::Permit, at)) if grants && permit.is_none() => {
                    permit = Some((c, at));
                }
                Some(_) | None => {}
            }
        }
    }
    permit.map(|(c, at)| decision(c, at, true))
}

fn decision(c: &Contract, at: Vec<usize>, permit: bool) -> Decision {
    let path = ProvisionPath(at);
    let what = if path.is_exception() {
        "exception"
    } else {
        "provision"
    };
    let verb = if permit { "permitted" } else { "denied" };
    let description = path.resolve(c).map(describe_provision).unwrap_or_default();
    Decision {
        permit,
        reason: format!(
            "{verb} by {what} {path} of consent {} v{}: {description}",
            c.id, c.version
        ),
        deciding: Some(Deciding::Provision {
            contract: c.id.clone(),
            version: c.version,
            path,
        }),
    }
}

/// Keeps the newest version of each contract (by patient and id), ordered by id, so the
/// result does not depend on the order contracts are given in. Two different contracts with
/// the same newest version (a fork, which [`crate::Chain`] refuses) are both kept, ordered by
/// hash, and may only deny.
fn heads<'a>(contracts: impl IntoIterator<Item = &'a Contract>) -> Vec<(&'a Contract, bool)> {
    let mut heads: BTreeMap<(&PatientId, &ContractId), Vec<&Contract>> = BTreeMap::new();
    for c in contracts {
        let entry = heads.entry((&c.patient, &c.id)).or_default();
        match entry.first() {
            Some(h) if c.version < h.version => {}
            Some(h) if c.version == h.version => {
                if !entry.contains(&c) {
                    entry.push(c);
                }
            }
            _ => *entry = vec![c],
        }
    }
    let mut out = Vec::with_capacity(heads.len());
    for (_, mut variants) in heads {
        if variants.len() == 1 {
            out.extend(variants.into_iter().map(|c| (c, true)));
        } else {
            variants.sort_by_cached_key(|c| c.hash().ok());
            out.extend(variants.into_iter().map(|c| (c, false)));
        }
    }
    out
}

/// Decides a request: the contracts first (deny overrides permit), then, if no contract covers
/// the request, the [`defaults`]. Older versions of a contract given alongside newer ones are
/// ignored.
pub fn evaluate(contracts: &[Contract], req: &Request) -> Decision {
    let heads = heads(contracts.iter().filter(|c| c.patient == req.patient));
    decide_contracts(heads, req).unwrap_or_else(|| defaults(req))
}

/// The rules a clinic expects when no contract covers a request: the treating clinician reads
/// and writes their patient's chart for treatment, except psychotherapy notes; psychotherapy
/// notes are read and written only by their author, for treatment; nothing else is shared.
pub fn defaults(req: &Request) -> Decision {
    let treatment =
        matches!(req.action, Action::Read | Action::Write) && req.purpose == Purpose::Treatment;
    let (permit, rule, reason) = if req.category == Category::PsychotherapyNotes {
        if req.actor.author && treatment {
            (
                true,
                DefaultRule::PsychotherapyNoteAuthor,
                "permitted by default: the author of a psychotherapy note may read and write it for treatment".to_owned(),
            )
        } else {
            (
                false,
                DefaultRule::PsychotherapyNotesAuthorOnly,
                format!(
                    "no provision permits {} of psychotherapy-notes for {}: by default psychotherapy notes are readable only by their author, for treatment",
                    req.action, req.purpose
                ),
            )
        }
    } else if req.actor.treating_clinician && treatment {
        (
            true,
            DefaultRule::TreatingClinician,
            format!(
                "permitted by default: the treating clinician may {} {} for treatment",
                req.action, req.category
            ),
        )
    } else {
        (
            false,
            DefaultRule::NothingShared,
            format!(
                "no provision permits {} of {} for {}: by default nothing is shared beyond the treating clinician's treatment access",
                req.action, req.category, req.purpose
            ),
        )
    };
    Decision {
        permit,
        reason,
        deciding: Some(Deciding::Default(rule)),
    }
}

/// A compiled set of contracts for fast repeated decisions: the newest version of each
/// contract, indexed by patient. Build it once when contracts change.
#[derive(Debug, Clone, Default)]
pub struct ConsentSet {
    by_patient: HashMap<PatientId, Vec<(Contract, bool)>>,
}

impl ConsentSet {
    /// Indexes `contracts`, keeping the newest version of each.
    pub fn new(contracts: impl IntoIterator<Item = Contract>) -> Self {
        let all: Vec<Contract> = contracts.into_iter().collect();
        let mut by_patient: HashMap<PatientId, Vec<(Contract, bool)>> = HashMap::new();
        for (c, grants) in heads(&all) {
            by_patient
                .entry(c.patient.clone())
                .or_default()
                .push((c.clone(), grants));
        }
        Self { by_patient }
    }

    /// Indexes the heads of validated chains (the usual way to build the set).
    pub fn from_chains<'a>(chains: impl IntoIterator<Item = &'a crate::Chain>) -> Self {
        Self::new(chains.into_iter().map(|c| c.head().contract().clone()))
    }

    /// The same decision as [`evaluate`] over the indexed contracts.
    pub fn evaluate(&self, req: &Request) -> Decision {
        let contracts = self
            .by_patient
            .get(&req.patient)
            .map(Vec::as_slice)
            .unwrap_or_default();
        decide_contracts(contracts.iter().map(|(c, g)| (c, *g)), req)
            .unwrap_or_else(|| defaults(req))
    }

    /// The patient's contracts (newest versions), by id.
    pub fn contracts(&self, patient: &PatientId) -> impl Iterator<Item = &Contract> {
        self.by_patient
            .get(patient)
            .into_iter()
            .flatten()
            .map(|(c, _)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn paths_print_dotted_and_resolve() {
        assert_eq!(ProvisionPath(vec![2]).to_string(), "2");
        assert_eq!(ProvisionPath(vec![1, 1, 3]).to_string(), "1.1.3");
        assert!(!ProvisionPath(vec![2]).is_exception());
        assert!(ProvisionPath(vec![2, 1]).is_exception());
        let c = Contract::new(
            ContractId::new("c").unwrap(),
            PatientId::new("p").unwrap(),
            date!(2026 - 01 - 01),
        )
        .provision(Provision::permit().except(Provision::deny()));
        assert_eq!(
            ProvisionPath(vec![1, 1]).resolve(&c),
            Some(&Provision::deny())
        );
        assert_eq!(ProvisionPath(vec![0]).resolve(&c), None);
        assert_eq!(ProvisionPath(vec![1, 2]).resolve(&c), None);
        assert_eq!(ProvisionPath(vec![]).resolve(&c), None);
    }

    #[test]
    fn descriptions_come_from_the_provision() {
        let p = Provision::permit()
            .actor(Actor::Role(Role::Clinician))
            .purposes([Purpose::Treatment])
            .categories([Category::ProgressNotes])
            .period(None, Some(date!(2027 - 01 - 01)));
        assert_eq!(
            describe_provision(&p),
            "treatment by role clinician, categories progress-notes, until 2027-01-01"
        );
        assert_eq!(describe_provision(&Provision::deny()), "everything");
        let d = Provision::deny().data_period(Some(date!(2020 - 01 - 01)), None);
        assert_eq!(describe_provision(&d), "records dated from 2020-01-01");
    }
}
