//! What kinds of identifier are found, their placeholders, and the manifest of what was removed.

use std::collections::BTreeMap;

use serde::Serialize;

/// A kind of protected health information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PhiKind {
    /// A person's name.
    Name,
    /// A calendar date (shifted, not removed).
    Date,
    /// The patient's own date of birth (removed).
    Dob,
    /// An age over 89.
    Age,
    /// A telephone number.
    Phone,
    /// A fax number.
    Fax,
    /// An e-mail address.
    Email,
    /// A street address, ZIP code, city or other place smaller than a state.
    Address,
    /// A record, account, licence, insurance or other identifying number.
    Id,
    /// A social security number.
    Ssn,
    /// A URL.
    Url,
    /// An IP address.
    Ip,
}

impl PhiKind {
    /// Every kind, in manifest order.
    pub const ALL: [PhiKind; 12] = [
        PhiKind::Name,
        PhiKind::Date,
        PhiKind::Dob,
        PhiKind::Age,
        PhiKind::Phone,
        PhiKind::Fax,
        PhiKind::Email,
        PhiKind::Address,
        PhiKind::Id,
        PhiKind::Ssn,
        PhiKind::Url,
        PhiKind::Ip,
    ];

    /// What replaces a removed value of this kind (dates are shifted instead; `[DATE]` is used
    /// only for a date that cannot be shifted).
    pub fn placeholder(self) -> &'static str {
        match self {
            PhiKind::Name => "[NAME]",
            PhiKind::Date => "[DATE]",
            PhiKind::Dob => "[DOB]",
            PhiKind::Age => "[AGE>89]",
            PhiKind::Phone => "[PHONE]",
            PhiKind::Fax => "[FAX]",
            PhiKind::Email => "[EMAIL]",
            PhiKind::Address => "[ADDRESS]",
            PhiKind::Id => "[ID]",
            PhiKind::Ssn => "[SSN]",
            PhiKind::Url => "[URL]",
            PhiKind::Ip => "[IP]",
        }
    }

    /// The kind's code (as in the manifest).
    pub fn code(self) -> &'static str {
        match self {
            PhiKind::Name => "name",
            PhiKind::Date => "date",
            PhiKind::Dob => "dob",
            PhiKind::Age => "age",
            PhiKind::Phone => "phone",
            PhiKind::Fax => "fax",
            PhiKind::Email => "email",
            PhiKind::Address => "address",
            PhiKind::Id => "id",
            PhiKind::Ssn => "ssn",
            PhiKind::Url => "url",
            PhiKind::Ip => "ip",
        }
    }

    /// Whether this kind directly identifies a person (HIPAA Safe Harbor's direct identifiers:
    /// everything but dates and ages).
    pub fn is_direct(self) -> bool {
        !matches!(self, PhiKind::Date | PhiKind::Age)
    }
}

impl std::fmt::Display for PhiKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// How many values of each kind were removed (or, for dates, shifted). Holds counts only,
/// never an original value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Manifest {
    counts: BTreeMap<PhiKind, u64>,
}

impl Manifest {
    /// An empty manifest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Count one more of `kind`.
    pub fn add(&mut self, kind: PhiKind) {
        *self.counts.entry(kind).or_insert(0) += 1;
    }

    /// Add another manifest's counts to this one.
    pub fn merge(&mut self, other: &Manifest) {
        for (k, n) in &other.counts {
            *self.counts.entry(*k).or_insert(0) += n;
        }
    }

    /// How many of `kind`.
    pub fn count(&self, kind: PhiKind) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    /// How many in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The non-zero counts, in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (PhiKind, u64)> + '_ {
        self.counts.iter().map(|(k, n)| (*k, *n))
    }
}
