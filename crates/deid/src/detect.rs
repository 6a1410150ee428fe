//! The detectors: patterns for contacts, ids, ages, addresses and dates; gazetteers and context
//! cues for names; the patient's own identifiers. Overlaps are resolved by kind priority, then
//! length.

use regex::{Regex, RegexBuilder};
use time::Date;

use crate::dates::{DatePatterns, FoundDate};
use crate::gazetteer::{gazetteer, Lookup};
use crate::PhiKind;

/// A candidate span with how it is to be replaced.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub kind: PhiKind,
    pub priority: u8,
    /// Replacement text; `None` for the kind's placeholder.
    pub replacement: Option<String>,
}

pub(crate) struct Patterns {
    email: Regex,
    url: Regex,
    domain: Regex,
    ip: Regex,
    ssn: Regex,
    ssn_cue: Regex,
    phone: Regex,
    phone_cue_digits: Regex,
    fax_cue: Regex,
    id_cue: Regex,
    id_shape: Regex,
    age: Regex,
    street: Regex,
    city_state: Regex,
    zip_cue: Regex,
    po_box: Regex,
    place_cue: Regex,
    dob_cue: Regex,
    token: Regex,
    pub dates: DatePatterns,
}

const STATES: &str = "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC";
const STREET: &str = "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Square|Sq|Loop|Row|Alley|Crescent|Close";

/// Words after which a capitalised word is a person ("her husband John", "named Sam").
const RELATIONS: &[&str] = &[
    "husband",
    "wife",
    "spouse",
    "partner",
    "son",
    "daughter",
    "mother",
    "father",
    "mom",
    "mum",
    "dad",
    "brother",
    "sister",
    "boyfriend",
    "girlfriend",
    "fiance",
    "fiancé",
    "fiancee",
    "fiancée",
    "friend",
    "cousin",
    "aunt",
    "uncle",
    "grandmother",
    "grandfather",
    "grandma",
    "grandpa",
    "granddaughter",
    "grandson",
    "niece",
    "nephew",
    "stepfather",
    "stepmother",
    "stepson",
    "stepdaughter",
    "coworker",
    "colleague",
    "boss",
    "supervisor",
    "manager",
    "roommate",
    "child",
    "baby",
    "ex",
    "neighbor",
    "neighbour",
    "psychiatrist",
    "therapist",
    "counselor",
    "teacher",
    "pastor",
    "sponsor",
    "caseworker",
    "brother-in-law",
    "sister-in-law",
    "mother-in-law",
    "father-in-law",
    "son-in-law",
    "daughter-in-law",
    "stepbrother",
    "stepsister",
    "godmother",
    "godfather",
    "named",
    "called",
    "nicknamed",
    "dear",
];

/// Verbs that follow a person ("Hope called to reschedule").
const PERSON_VERBS: &[&str] = &[
    "called",
    "calls",
    "said",
    "says",
    "stated",
    "states",
    "reported",
    "reports",
    "texted",
    "emailed",
    "visited",
    "cancelled",
    "canceled",
    "arrived",
    "attended",
    "came",
    "left",
    "asked",
    "told",
    "wants",
    "wanted",
    "feels",
    "felt",
    "thinks",
    "thought",
    "drove",
    "lives",
    "moved",
    "works",
    "died",
    "passed",
    "yelled",
    "cried",
    "hit",
    "threatened",
    "agreed",
];

/// The most words one name run grows to.
const MAX_RUN: usize = 4;

const TITLES: &[&str] = &[
    "dr", "mr", "mrs", "ms", "miss", "mx", "prof", "doctor", "mister",
];

fn ci(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}

impl Patterns {
    pub fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            email: ci(r"\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")?,
            url: ci(r#"\b(?:https?://|ftp://|www\.)[^\s<>"'\[\]]+"#)?,
            domain: ci(
                r#"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|us|info|biz|me|co|health|app|ly)\b(?:/[^\s<>"'\[\]]*)?"#,
            )?,
            ip: Regex::new(
                r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
            )?,
            ssn: Regex::new(r"\b\d{3}-\d{2}-\d{4}\b")?,
            ssn_cue: ci(
                r"\b(?:ssn|social security(?: number| no\.?| #)?)\s*(?:is\s+|:\s*|#\s*)?(\d{3}[ -]?\d{2}[ -]?\d{4})\b",
            )?,
            phone: Regex::new(
                r"(?:\+1[\s.-]?|\b1[\s.-])?(?:\(\d{3}\)[\s.-]?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b(?:\s*(?:x|ext\.?)\s*\d{1,5}\b)?",
            )?,
            phone_cue_digits: ci(
                r"\b(?:phone|cell|mobile|tel|telephone|call|text|fax|ph|pager|home|work)\b[\s:#.-]*(?:is\s+|at\s+|number\s+)?(\d{10}|\d{3}[\s.-]\d{4})\b",
            )?,
            fax_cue: ci(r"\bfax(?:ed)?\b(?:\s*(?:number|no\.?|#|to|at|is))?[\s:#.-]*$")?,
            id_cue: ci(&format!(
                r"\b(?:mrn|medical record(?: number| no\.?| #)?|record(?: number| no\.?| #)|chart(?: number| no\.?| #)|acct|account(?: number| no\.?| #)?|member(?: id| number| #)|policy(?: number| no\.?| #| id)?|insurance(?: id| number| #| policy(?: number)?)?|subscriber(?: id| number)?|group(?: number| no\.?| #)|medicaid(?: id| number| #)?|medicare(?: id| number| #)?|licen[cs]e(?: number| no\.?| #)?|patient id|client id|claim(?: number| no\.?| #)|case(?: number| no\.?| #)|npi|dea|passport(?: number| no\.?)?|driver'?s licen[cs]e(?: number)?|vin|serial(?: number| no\.?)?|device id|plate(?: number)?){}",
                r"\s*(?:is\s+|:\s*|#\s*|no\.?\s*|number\s*)*([a-z0-9][a-z0-9-]{3,})\b"
            ))?,
            id_shape: Regex::new(
                r"\b(?:[A-Z]{1,4}-?\d{5,}[A-Z]?|\d{7,}|\d{3,}-\d{3,}-\d{2,}|\d{4,}-\d{3,})\b",
            )?,
            age: ci(
                r"\b(\d{2,3})(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)old\b|\b(\d{2,3})\s*-?\s*(?:y/o|yo\b|y\.o\.)|\b(?:age[ds]?|aged)\s*(?:of\s*)?:?\s*(\d{2,3})\b|\b(\d{2,3})(?:st|nd|rd|th)\s+birthday\b|\bin\s+(?:his|her|their)\s+(\d{2,3})s\b",
            )?,
            street: Regex::new(&format!(
                r"\b\d{{1,6}}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z0-9'.-]*\s+){{0,3}}(?:{STREET})\b\.?(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*[A-Za-z0-9-]+)?(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)?(?:,\s*(?:{STATES})\b)?(?:\s+\d{{5}}(?:-\d{{4}})?\b)?"
            ))?,
            city_state: Regex::new(&format!(
                r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s*(?:{STATES})\b(?:\s+\d{{5}}(?:-\d{{4}})?\b)?"
            ))?,
            zip_cue: ci(r"\b(?:zip|zip code|postal code|zipcode)\s*:?\s*\d{5}(?:-\d{4})?\b")?,
            po_box: ci(r"\bP\.?\s?O\.?\s*Box\s+\d+\b")?,
            place_cue: Regex::new(&format!(
                r"\b(?i:lives|living|lived|live|moved|moving|move|relocated|relocating|resides|residing|reside|staying|stays|stayed|grew up|raised|born|shelter|apartment|house|home|drove|drive|driving|flew|fly|flying|trip|travel|traveled|travelled|visit|visited|visiting|went|go|going)\s+(?:in|on|at|to|near|off|outside|downtown|from)\s+(?:the\s+)?([A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+|{STREET}|of))*)"
            ))?,
            dob_cue: ci(
                r"\b(?:dob|d\.o\.b\.?|date of birth|born(?: on)?|birth ?date|birthday(?: is)?)\s*[:\-]?\s*(?:on\s+)?$",
            )?,
            token: Regex::new(r"\p{L}[\p{L}\p{M}]*(?:['’\-]\p{L}[\p{L}\p{M}]*)*")?,
            dates: DatePatterns::new()?,
        })
    }
}

/// The text just before `at` (up to 40 bytes, on a character boundary).
fn before(text: &str, at: usize) -> &str {
    let mut from = at.saturating_sub(40);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    text.get(from..at).unwrap_or("")
}

/// The patient's own identifiers, always removed.
pub(crate) struct Known {
    names_ci: Option<Regex>,
    names_cs: Option<Regex>,
    literal: Vec<(Regex, PhiKind)>,
    pub dobs: Vec<Date>,
}

fn alternation(parts: &[String]) -> Option<String> {
    if parts.is_empty() {
        return None;
    }
    let mut parts: Vec<&String> = parts.iter().collect();
    // Longest first, so "Annabelle" wins over "Anna".
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    // A known part inside a hyphenated name takes the whole name ("Szymanski-Forsythe").
    Some(format!(
        r"\b(?:\p{{L}}+[-'’])*(?:{})(?:[-'’]\p{{L}}+)*\b",
        parts
            .iter()
            .map(|p| regex::escape(p))
            .collect::<Vec<_>>()
            .join("|")
    ))
}

impl Known {
    pub fn new(ids: &crate::KnownIdentifiers) -> Result<Self, regex::Error> {
        let g = gazetteer();
        let (mut insensitive, mut sensitive) = (Vec::new(), Vec::new());
        for name in &ids.names {
            for part in name
                .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’' || c == '-'))
                .map(|p| p.trim_matches(|c: char| !c.is_alphabetic()))
                .filter(|p| p.chars().count() >= 2)
            {
                let lower = part.to_lowercase();
                let look = g.lookup(&lower);
                if look.word || look.function || look.not_name {
                    // "Hope" the patient is removed; "hope" the word stays.
                    let mut title = String::new();
                    for (i, c) in lower.chars().enumerate() {
                        if i == 0 {
                            title.extend(c.to_uppercase());
                        } else {
                            title.push(c);
                        }
                    }
                    sensitive.push(title);
                    sensitive.push(lower.to_uppercase());
                } else {
                    insensitive.push(part.to_string());
                }
            }
        }
        let names_ci = alternation(&insensitive).map(|p| ci(&p)).transpose()?;
        let names_cs = alternation(&sensitive)
            .map(|p| Regex::new(&p))
            .transpose()?;
        let mut literal = Vec::new();
        for e in ids.emails.iter().filter(|e| e.contains('@')) {
            literal.push((ci(&regex::escape(e.trim()))?, PhiKind::Email));
        }
        for p in &ids.phones {
            let mut digits: Vec<char> = p.chars().filter(char::is_ascii_digit).collect();
            if digits.len() == 11 && digits.first() == Some(&'1') {
                digits.remove(0); // the country code is matched as an optional prefix
            }
            if digits.len() < 7 {
                continue;
            }
            let body = digits
                .iter()
                .map(char::to_string)
                .collect::<Vec<_>>()
                .join(r"[\s().-]*");
            literal.push((
                Regex::new(&format!(r"(?:\+1[\s.-]*|\b1[\s.-]+)?(?:\(|\b){body}\b"))?,
                PhiKind::Phone,
            ));
        }
        for a in &ids.addresses {
            for part in a.split([',', '\n']).map(str::trim) {
                if part.chars().count() >= 4 {
                    let pat = part
                        .split_whitespace()
                        .map(regex::escape)
                        .collect::<Vec<_>>()
                        .join(r"\s+");
                    literal.push((ci(&format!(r"\b{pat}\b"))?, PhiKind::Address));
                }
            }
        }
        for d in &ids.dates_of_birth {
            let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
            let forms = [
                format!("{y:04}-{m:02}-{day:02}"),
                format!("{m:02}/{day:02}/{y:04}"),
                format!("{m}/{day}/{y:04}"),
                format!("{m:02}-{day:02}-{y:04}"),
                format!("{y:04}{m:02}{day:02}"),
            ];
            let alt = forms
                .iter()
                .map(|f| regex::escape(f))
                .collect::<Vec<_>>()
                .join("|");
            // No word boundaries: a DOB glued to other text is still removed.
            literal.push((Regex::new(&alt)?, PhiKind::Dob));
        }
        for id in &ids.other {
            let id = id.trim();
            if id.chars().count() >= 3 {
                literal.push((ci(&format!(r"\b{}\b", regex::escape(id)))?, PhiKind::Id));
            }
        }
        Ok(Self {
            names_ci,
            names_cs,
            literal,
            dobs: ids.dates_of_birth.clone(),
        })
    }
}

const P_KNOWN: u8 = 95;

fn priority(kind: PhiKind) -> u8 {
    match kind {
        PhiKind::Email => 90,
        PhiKind::Url => 88,
        PhiKind::Ip => 86,
        PhiKind::Ssn => 84,
        PhiKind::Fax => 82,
        PhiKind::Phone => 80,
        PhiKind::Address => 70,
        PhiKind::Dob => 66,
        PhiKind::Date => 65,
        PhiKind::Id => 60,
        PhiKind::Age => 55,
        PhiKind::Name => 40,
    }
}

fn push(out: &mut Vec<Candidate>, start: usize, end: usize, kind: PhiKind) {
    if start < end {
        out.push(Candidate {
            start,
            end,
            kind,
            priority: priority(kind),
            replacement: None,
        });
    }
}

/// Strip trailing punctuation a URL or domain match swallowed ("see example.com.").
fn trim_url(text: &str, start: usize, mut end: usize) -> usize {
    while end > start {
        match text[..end].chars().next_back() {
            Some(c @ ('.' | ',' | ';' | ':' | '!' | '?' | ')')) => end -= c.len_utf8(),
            _ => break,
        }
    }
    end
}

impl Patterns {
    /// Every candidate (overlapping).
    pub fn candidates(&self, text: &str, known: &Known, shift_days: i64) -> Vec<Candidate> {
        let mut out = Vec::new();
        for m in self.email.find_iter(text) {
            push(&mut out, m.start(), m.end(), PhiKind::Email);
        }
        for re in [&self.url, &self.domain] {
            for m in re.find_iter(text) {
                let end = trim_url(text, m.start(), m.end());
                push(&mut out, m.start(), end, PhiKind::Url);
            }
        }
        for m in self.ip.find_iter(text) {
            push(&mut out, m.start(), m.end(), PhiKind::Ip);
        }
        for m in self.ssn.find_iter(text) {
            push(&mut out, m.start(), m.end(), PhiKind::Ssn);
        }
        for c in self.ssn_cue.captures_iter(text) {
            if let Some(g) = c.get(1) {
                push(&mut out, g.start(), g.end(), PhiKind::Ssn);
            }
        }
        let phone_kind = |start: usize| {
            if self.fax_cue.is_match(before(text, start)) {
                PhiKind::Fax
            } else {
                PhiKind::Phone
            }
        };
        for m in self.phone.find_iter(text) {
            push(&mut out, m.start(), m.end(), phone_kind(m.start()));
        }
        for c in self.phone_cue_digits.captures_iter(text) {
            if let Some(g) = c.get(1) {
                push(&mut out, g.start(), g.end(), phone_kind(g.start()));
            }
        }
        for c in self.id_cue.captures_iter(text) {
            if let Some(g) = c.get(1) {
                let digits = g.as_str().chars().filter(char::is_ascii_digit).count();
                if digits >= 3 {
                    push(&mut out, g.start(), g.end(), PhiKind::Id);
                }
            }
        }
        for m in self.id_shape.find_iter(text) {
            // A long number right after a phone word is a phone (found above, higher priority).
            push(&mut out, m.start(), m.end(), PhiKind::Id);
        }
        for c in self.age.captures_iter(text) {
            let Some(g) = (1..=5).find_map(|i| c.get(i)) else {
                continue;
            };
            if g.as_str().parse::<u32>().is_ok_and(|a| a > 89) {
                push(&mut out, g.start(), g.end(), PhiKind::Age);
            }
        }
        for re in [&self.street, &self.city_state, &self.zip_cue, &self.po_box] {
            for m in re.find_iter(text) {
                push(&mut out, m.start(), m.end(), PhiKind::Address);
            }
        }
        let g = gazetteer();
        for c in self.place_cue.captures_iter(text) {
            let Some(place) = c.get(1) else { continue };
            if place.as_str().starts_with(|c: char| c.is_ascii_digit()) {
                continue; // a number is an address only with a street (the street pattern)
            }
            let mut end = place.end();
            // "lives in Ohio" (a state) or "moved in January" is not removed; "lives in Dayton" is.
            let words: Vec<&str> = place.as_str().split_whitespace().collect();
            let street = words
                .iter()
                .any(|w| STREET.split('|').any(|s| s == w.trim_end_matches('.')));
            if !street
                && words
                    .iter()
                    .all(|w| *w == "of" || g.lookup(&w.to_lowercase().replace('.', "")).not_name)
            {
                continue;
            }
            if place.as_str().ends_with(" of") {
                end -= 3;
            }
            push(&mut out, place.start(), end, PhiKind::Address);
        }
        for d in self.dates.find(text) {
            out.push(date_candidate(text, &d, known, shift_days, &self.dob_cue));
        }
        self.names(text, &mut out);
        for re in [&known.names_ci, &known.names_cs].into_iter().flatten() {
            for m in re.find_iter(text) {
                out.push(Candidate {
                    start: m.start(),
                    end: m.end(),
                    kind: PhiKind::Name,
                    priority: P_KNOWN - 40,
                    replacement: None,
                });
            }
        }
        for (re, kind) in &known.literal {
            for m in re.find_iter(text) {
                out.push(Candidate {
                    start: m.start(),
                    end: m.end(),
                    kind: *kind,
                    priority: P_KNOWN,
                    replacement: None,
                });
            }
        }
        out
    }

    fn names(&self, text: &str, out: &mut Vec<Candidate>) {
        let g = gazetteer();
        let toks: Vec<Tok> = self
            .token
            .find_iter(text)
            .map(|m| Tok::new(text, m.start(), m.end(), g.lookup_token(m.as_str())))
            .collect();
        let mut name = vec![false; toks.len()];
        for (i, t) in toks.iter().enumerate() {
            if !(t.shape == Shape::Title || t.shape == Shape::Caps) {
                continue;
            }
            let prev = i.checked_sub(1).map(|j| &toks[j]);
            let gap = prev.map_or("", |p| &text[p.full_end..t.start]);
            let after_title = prev.is_some_and(|p| {
                TITLES.contains(&p.lower.as_str()) && matches!(gap, " " | ". " | "  ")
            });
            let after_relation = prev.is_some_and(|p| {
                (RELATIONS.contains(&p.lower.as_str()) && matches!(gap, " " | ", " | ": "))
                    || (gap == " "
                        && i >= 2
                        && &text[toks[i - 2].full_end..p.start] == " "
                        && matches!(
                            (toks[i - 2].lower.as_str(), p.lower.as_str()),
                            ("name" | "names", "is")
                                | ("referred" | "seen" | "supervised" | "accompanied", "by")
                                | ("met" | "spoke" | "talked" | "consulted", "with")
                        ))
            }) && (t.look.first || !(t.look.not_name || t.look.function));
            if after_title && !t.look.function {
                name[i] = true;
                continue;
            }
            if after_relation {
                name[i] = true;
                continue;
            }
            if t.shape != Shape::Title || t.single {
                continue;
            }
            let l = t.look;
            if !l.is_name() || l.not_name || l.function {
                continue;
            }
            // "Lake Michigan", "Mother's Day": a word before a capitalised non-name is a phrase.
            let next = toks.get(i + 1);
            let before_non_name = next.is_some_and(|n| {
                n.shape == Shape::Title && n.look.not_name && &text[t.full_end..n.start] == " "
            });
            // A name-word at the start of a sentence is a name when a person's verb follows
            // ("Hope called", not "Will continue").
            let person_verb = next.is_some_and(|n| {
                PERSON_VERBS.contains(&n.lower.as_str()) && &text[t.full_end..n.start] == " "
            });
            // A surname that is also a word ("Record", "Mass", "Wise") is a name only with
            // context, a person's verb after it or next to another name; a first name that is a
            // word ("Grace") is one when capitalised mid-sentence.
            name[i] = if l.word {
                person_verb || (l.first && !before_non_name && !t.initial)
            } else {
                true
            };
        }
        // Grow runs of names: a capitalised word right after a name is a surname ("Priya
        // Raghunathan"), a first name right before one is a first name ("Grace Kelly"), and a
        // middle initial between two names is part of the name.
        // Runs grow forwards (surnames) then backwards (first names), a few rounds at most, and
        // never past four words: linear in the text, and a Title Case heading is not one name.
        let joined = |a: &Tok, b: &Tok| {
            let gap = &text[a.full_end..b.start];
            gap == " " || (a.single && gap == ". ")
        };
        let run_before = |name: &[bool], i: usize| {
            let mut n = 0;
            let mut j = i;
            while j > 0 && n < MAX_RUN && name[j - 1] && (j == i || joined(&toks[j - 1], &toks[j]))
            {
                n += 1;
                j -= 1;
            }
            n
        };
        let candidate = |t: &Tok| {
            (t.shape == Shape::Title || t.shape == Shape::Caps)
                && !t.look.function
                && !t.look.not_name
        };
        for _round in 0..3 {
            let mut changed = false;
            for i in 1..toks.len() {
                let t = &toks[i];
                if name[i] || !candidate(t) || !joined(&toks[i - 1], t) {
                    continue;
                }
                let run = run_before(&name, i);
                if run > 0 && run < MAX_RUN {
                    name[i] = true;
                    changed = true;
                }
            }
            for i in (0..toks.len().saturating_sub(1)).rev() {
                let t = &toks[i];
                let n = &toks[i + 1];
                if name[i] || !candidate(t) || !name[i + 1] || !joined(t, n) || n.shape != t.shape {
                    continue;
                }
                let unknown = !t.look.is_name() && !t.look.word && !t.initial;
                if t.look.first || t.single || unknown {
                    name[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // A name found with confidence is a name wherever else it is capitalised in the text
        // ("her daughter, Thandiwe-Harvel, … Thandiwe's school"), unless it is also a word.
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (t, _) in toks.iter().zip(&name).filter(|(_, n)| **n) {
            for part in t.lower.split('-') {
                let l = g.lookup(part);
                if part.chars().count() >= 2 && !l.word && !l.not_name && !l.function {
                    seen.insert(part);
                }
            }
        }
        for (i, t) in toks.iter().enumerate() {
            if !name[i] && t.shape == Shape::Title && t.lower.split('-').any(|p| seen.contains(p)) {
                name[i] = true;
            }
        }
        // One candidate a token: a known name inside a run must not hide the rest of the run
        // (`resolve` joins them again).
        for (t, _) in toks.iter().zip(&name).filter(|(_, n)| **n) {
            push(out, t.start, t.end, PhiKind::Name);
        }
    }
}

fn date_candidate(
    text: &str,
    d: &FoundDate,
    known: &Known,
    shift_days: i64,
    dob_cue: &Regex,
) -> Candidate {
    let is_dob = known.dobs.iter().any(|b| {
        if d.has_year {
            *b == d.date
        } else {
            b.month() == d.date.month() && b.day() == d.date.day()
        }
    }) || dob_cue.is_match(before(text, d.start));
    let shifted = if is_dob { None } else { d.shifted(shift_days) };
    // A shifted date that lands on the DOB would plant it: write [DOB] instead.
    let lands_on_dob = shifted.is_some()
        && d.date
            .checked_add(time::Duration::days(shift_days))
            .is_some_and(|s| known.dobs.contains(&s));
    let (kind, replacement) = match shifted {
        Some(s) if !lands_on_dob => (PhiKind::Date, Some(s)),
        _ if is_dob || lands_on_dob => (PhiKind::Dob, None),
        _ => (PhiKind::Date, None),
    };
    Candidate {
        start: d.start,
        end: d.end,
        kind,
        priority: priority(kind),
        replacement,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Title,
    Caps,
    Lower,
    Other,
}

struct Tok {
    start: usize,
    /// End of the name part (before a possessive "'s").
    end: usize,
    /// End of the token.
    full_end: usize,
    lower: String,
    shape: Shape,
    /// One capital letter ("J" of "J. Smith").
    single: bool,
    /// At the start of a sentence, line or heading (so a capital says nothing).
    initial: bool,
    look: Lookup,
}

impl Tok {
    fn new(text: &str, start: usize, full_end: usize, look: Lookup) -> Self {
        let whole = &text[start..full_end];
        let base = whole
            .strip_suffix("'s")
            .or_else(|| whole.strip_suffix("’s"))
            .unwrap_or(whole);
        let end = start + base.len();
        let mut chars = base.chars();
        let first = chars.next();
        let rest: Vec<char> = chars.collect();
        let shape = match first {
            Some(f) if f.is_uppercase() => {
                if rest.iter().all(|c| !c.is_lowercase()) && !rest.is_empty() {
                    Shape::Caps
                } else {
                    Shape::Title
                }
            }
            Some(f) if f.is_lowercase() => Shape::Lower,
            _ => Shape::Other,
        };
        let single = rest.is_empty() && shape != Shape::Lower;
        let initial = {
            let b = text[..start].trim_end_matches([' ', '\t']);
            match b.chars().next_back() {
                None => true,
                Some(c) => matches!(
                    c,
                    '.' | '!'
                        | '?'
                        | ':'
                        | ';'
                        | '\n'
                        | '\r'
                        | '"'
                        | '“'
                        | '('
                        | '['
                        | '-'
                        | '–'
                        | '—'
                        | '*'
                        | '•'
                        | '#'
                        | '>'
                ),
            }
        };
        Self {
            start,
            end,
            full_end,
            lower: base.to_lowercase(),
            shape,
            single,
            initial,
            look,
        }
    }
}

impl crate::gazetteer::Gazetteer {
    /// Look a token up: its possessive stripped; a hyphenated token is a name if any part is.
    pub(crate) fn lookup_token(&self, token: &str) -> Lookup {
        let base = token
            .strip_suffix("'s")
            .or_else(|| token.strip_suffix("’s"))
            .unwrap_or(token)
            .to_lowercase();
        let whole = self.lookup(&base);
        if whole.is_name() || whole.not_name || !base.contains('-') {
            return whole;
        }
        // "Mary-Kate", "Marsh-Holloway": every part a name, and not all of them words
        // ("Al-Anon" is not a name).
        let parts: Vec<Lookup> = base.split('-').map(|p| self.lookup(p)).collect();
        if parts.iter().all(|l| l.is_name() && !l.not_name) && parts.iter().any(|l| !l.word) {
            let mut any = whole;
            any.first = parts.first().is_some_and(|l| l.first);
            any.last = true;
            return any;
        }
        whole
    }
}

/// Keep the best non-overlapping candidates (higher priority first, then longer, then earlier),
/// and join names separated by one space into one ("[NAME]", not "[NAME] [NAME]").
pub(crate) fn resolve(text: &str, c: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for cand in non_overlapping(c) {
        if let Some(last) = out.last_mut() {
            if last.kind == PhiKind::Name
                && cand.kind == PhiKind::Name
                && text.get(last.end..cand.start) == Some(" ")
            {
                last.end = cand.end;
                last.priority = last.priority.max(cand.priority);
                continue;
            }
        }
        out.push(cand);
    }
    out
}

fn non_overlapping(mut c: Vec<Candidate>) -> Vec<Candidate> {
    c.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Candidate> = Vec::new();
    for cand in c {
        if kept
            .iter()
            .all(|k| cand.end <= k.start || cand.start >= k.end)
        {
            kept.push(cand);
        }
    }
    kept.sort_by_key(|k| k.start);
    kept
}
