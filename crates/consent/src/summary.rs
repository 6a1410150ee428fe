//! Plain-language summaries of contracts, for the patient.

use time::{Date, Month};

use crate::model::{Actor, Category, Contract, Period, Provision, ProvisionType, Purpose, Status};

/// A date as a patient reads it: `1 January 2027`.
pub fn plain_date(date: Date) -> String {
    let month = match date.month() {
        Month::January => "January",
        Month::February => "February",
        Month::March => "March",
        Month::April => "April",
        Month::May => "May",
        Month::June => "June",
        Month::July => "July",
        Month::August => "August",
        Month::September => "September",
        Month::October => "October",
        Month::November => "November",
        Month::December => "December",
    };
    format!("{} {month} {}", date.day(), date.year())
}

/// A record category in plain words.
pub fn plain_category(category: Category) -> &'static str {
    match category {
        Category::Demographics => "contact and personal details",
        Category::Appointments => "appointments",
        Category::ProgressNotes => "session notes",
        Category::PsychotherapyNotes => "psychotherapy notes",
        Category::Assessments => "assessments",
        Category::TreatmentPlan => "treatment plan",
        Category::Attachments => "attached documents",
    }
}

/// A purpose in plain words, as it follows a verb phrase.
pub fn plain_purpose(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Treatment => "for your treatment",
        Purpose::Payment => "for billing and payment",
        Purpose::Operations => "to run the clinic",
        Purpose::Research => "for research",
        Purpose::AiAnalysis => "for on-device AI analysis",
        Purpose::Emergency => "in an emergency",
    }
}

/// The default name of an actor (pass your own to [`summary_with`] to use people's names).
pub fn plain_actor(actor: &Actor) -> String {
    match actor {
        Actor::Member(m) => format!("member {m}"),
        Actor::Role(r) => match r {
            crate::Role::Clinician => "any clinician".to_owned(),
            crate::Role::Admin => "the clinic's administration".to_owned(),
            crate::Role::Patient => "any patient".to_owned(),
            crate::Role::Researcher => "any researcher".to_owned(),
        },
        Actor::Organization(o) => format!("organisation {o}"),
        Actor::PatientDevice => "your own devices".to_owned(),
    }
}

fn list(items: &[String], conj: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conj} {last}", init.join(", ")),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn period_words(p: &Period) -> String {
    match (p.start, p.end) {
        (Some(s), Some(e)) => format!("from {} until {}", plain_date(s), plain_date(e)),
        (Some(s), None) => format!("from {}", plain_date(s)),
        (None, Some(e)) => format!("until {}", plain_date(e)),
        (None, None) => String::new(),
    }
}

/// One provision in words, starting lowercase; exceptions inherit the actors and categories
/// of the provision they sit in when they name none.
fn sentence(
    p: &Provision,
    outer_who: Option<&str>,
    outer_what: Option<&str>,
    name: &dyn Fn(&Actor) -> String,
) -> String {
    let own: Vec<String> = p.actors.iter().map(name).collect();
    let who = if own.is_empty() {
        outer_who.map(str::to_owned)
    } else {
        Some(list(&own, "or"))
    };
    let deny = p.kind == ProvisionType::Deny;
    let actions: Vec<String> = p.actions.iter().map(|a| a.code().to_owned()).collect();
    let verb = match (actions.is_empty(), deny) {
        (true, true) => "see".to_owned(),
        (true, false) => "see and use".to_owned(),
        (false, _) => list(&actions, if deny { "or" } else { "and" }),
    };
    let cats: Vec<String> = p
        .categories
        .iter()
        .map(|c| plain_category(*c).to_owned())
        .collect();
    let what = if !cats.is_empty() {
        list(&cats, "and")
    } else if let Some(w) = outer_what {
        w.to_owned()
    } else if deny {
        "records".to_owned()
    } else {
        "records (except psychotherapy notes)".to_owned()
    };
    let mut s = match (&who, deny) {
        (None, true) => format!("no one may {verb} your {what}"),
        (None, false) => format!("anyone may {verb} your {what}"),
        (Some(w), true) => format!("{w} may not {verb} your {what}"),
        (Some(w), false) => format!("{w} may {verb} your {what}"),
    };
    if !p.purposes.is_empty() {
        let purposes: Vec<String> = p
            .purposes
            .iter()
            .map(|x| plain_purpose(*x).to_owned())
            .collect();
        s.push(' ');
        s.push_str(&list(&purposes, "or"));
    }
    if let Some(period) = &p.period {
        let w = period_words(period);
        if !w.is_empty() {
            s.push(' ');
            s.push_str(&w);
        }
    }
    if let Some(dp) = &p.data_period {
        let w = period_words(dp);
        if !w.is_empty() {
            s.push_str(&format!(" (records dated {w})"));
        }
    }
    s.push('.');
    for e in &p.exceptions {
        let inner = sentence(e, who.as_deref(), Some(&what), name);
        if e.kind != p.kind {
            s.push_str(" But ");
            s.push_str(&inner);
        } else {
            s.push(' ');
            s.push_str(&capitalise(&inner));
        }
    }
    s
}

/// A plain-language summary, naming actors with `name` (e.g. "Dr. Roe's clinic").
pub fn summary_with(contract: &Contract, name: &dyn Fn(&Actor) -> String) -> String {
    let mut parts = Vec::new();
    match contract.status {
        Status::Active => {}
        Status::Draft => parts.push("This consent is a draft and grants nothing yet.".to_owned()),
        Status::Inactive => parts.push(format!(
            "This consent was withdrawn on {} and grants nothing.",
            plain_date(contract.date)
        )),
    }
    if contract.provisions.is_empty() {
        parts.push("This consent grants nothing.".to_owned());
    }
    for p in &contract.provisions {
        parts.push(capitalise(&sentence(p, None, None, name)));
    }
    parts.join(" ")
}

/// A plain-language summary with the default actor names ([`plain_actor`]).
pub fn summary(contract: &Contract) -> String {
    summary_with(contract, &plain_actor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_read_plainly() {
        assert_eq!(plain_date(date!(2027 - 01 - 01)), "1 January 2027");
        assert_eq!(plain_date(date!(2026 - 12 - 31)), "31 December 2026");
    }

    #[test]
    fn an_empty_or_draft_contract_says_it_grants_nothing() {
        let c = Contract::new(
            crate::ContractId::new("c").unwrap(),
            crate::PatientId::new("p").unwrap(),
            date!(2026 - 01 - 01),
        );
        assert_eq!(summary(&c), "This consent grants nothing.");
        let d = c
            .with_status(Status::Draft)
            .provision(Provision::permit().actor(Actor::PatientDevice));
        assert_eq!(
            summary(&d),
            "This consent is a draft and grants nothing yet. Your own devices may see and use your records (except psychotherapy notes)."
        );
    }
}
