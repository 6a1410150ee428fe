//! Synthetic therapy notes with injected identifiers and their gold spans, for the evaluation
//! (`tests/evaluation.rs`, `EVALUATION.md`). Deterministic for a seed; no real person's data.
//!
//! Names come from the same census lists the detector uses, plus a hand list of names that are
//! *not* in them (to measure the context cues), and names that are English words ("Will",
//! "Hope") placed where only context can tell them apart. Clinical filler that must stay
//! untouched (scores, doses, "denies SI", sentence-initial "Will continue …") is mixed in.

use time::{Date, Month};

use crate::{KnownIdentifiers, PhiKind};

/// An identifier planted in a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldSpan {
    /// Start (byte offset).
    pub start: usize,
    /// End (byte offset, exclusive).
    pub end: usize,
    /// Its kind.
    pub kind: PhiKind,
}

/// One synthetic note.
#[derive(Debug, Clone)]
pub struct SyntheticNote {
    /// The patient's (synthetic) vault id.
    pub patient_id: String,
    /// The note.
    pub text: String,
    /// Every planted identifier.
    pub gold: Vec<GoldSpan>,
    /// What the patient record says (passed to the de-identifier).
    pub known: KnownIdentifiers,
}

/// SplitMix64: small, deterministic, good enough to draw test data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.range(1, 100) <= percent
    }
}

/// Names not in the census lists: found only by context ("Dr. …", "her sister …", next to a
/// known first name).
const OUTSIDE: &[&str] = &[
    "Oluwaseun",
    "Thandiwe",
    "Xiomara",
    "Priyanka",
    "Raghunathan",
    "Okonkwo",
    "Szymanski",
    "Nakamura",
    "Abimbola",
    "Siobhan",
    "Tadeusz",
    "Wojcik",
    "Anaya",
    "Kowalczyk",
    "Adebayo",
    "Yevgenia",
    "Bartholomew",
    "Nkechi",
    "Marisol",
    "Dmitri",
];

/// Names that are everyday words.
const WORD_NAMES: &[&str] = &[
    "Will", "Hope", "Grace", "Faith", "Joy", "Mark", "Bill", "Rose", "Dawn", "Iris", "Frank",
    "Grant", "Chase", "Heather", "Holly", "Art",
];

const RELATIONS: &[&str] = &[
    "husband",
    "wife",
    "partner",
    "son",
    "daughter",
    "mother",
    "father",
    "brother",
    "sister",
    "boyfriend",
    "girlfriend",
    "friend",
    "roommate",
    "boss",
    "coworker",
    "grandmother",
];

const STREETS: &[&str] = &[
    "Maple",
    "Oak",
    "Birch",
    "Elm",
    "Cedar",
    "Willow",
    "Lincoln",
    "Washington",
    "Park",
    "Lake",
    "Hillcrest",
    "Sunset",
    "Ridge",
    "Church",
    "Mill",
];
const SUFFIXES: &[&str] = &[
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Court", "Way", "Blvd",
];
const CITIES: &[&str] = &[
    "Springfield",
    "Riverton",
    "Fairview",
    "Dayton",
    "Greenville",
    "Madison",
    "Ashland",
    "Clinton",
    "Salem",
    "Oak Ridge",
];
const STATES: &[&str] = &["IL", "OH", "OR", "NC", "WI", "TX", "MA", "KY", "TN", "PA"];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "proton.me",
    "aol.com",
];

/// Sentences that carry no identifier and must come out unchanged.
pub const FILLER: &[&str] = &[
    "Denies SI/HI.",
    "Denies SI, HI, or AVH.",
    "PHQ-9 score 14, GAD-7 score 12.",
    "PHQ-9 decreased from 19 to 11 over 8 weeks.",
    "Rated mood 6/10 and anxiety 7/10.",
    "Continues sertraline 50 mg daily; no side effects reported.",
    "Session lasted 53 minutes (CPT 90837).",
    "Will continue CBT weekly.",
    "May benefit from DBT skills group.",
    "Hope box reviewed and updated.",
    "Discussed sleep hygiene and work stress.",
    "Mark mood on the tracker daily.",
    "Grace period for homework agreed.",
    "Patient is a 34-year-old presenting for follow-up.",
    "Next session Monday at 3 pm.",
    "Plan: Will review the safety plan next session.",
    "Assessment: Major depressive disorder, recurrent, moderate (F33.1).",
    "Mental status exam: alert, oriented x3, affect constricted, thought process linear.",
    "Practiced diaphragmatic breathing for 10 minutes.",
    "Slept 5 hours a night on average this week.",
    "Reports 2 panic attacks since last session.",
    "Drinks 3 cups of coffee a day; encouraged cutting back.",
    "Completed the Beck Depression Inventory in session.",
    "Identifies as Black and speaks English and Spanish at home.",
    "Attended AA meetings twice this week.",
    "Walks 30 minutes most days.",
    "Prescribed Lexapro 10 mg by her PCP.",
    "Discussed Christmas plans with family.",
    "Completed the Hamilton Anxiety Rating Scale.",
    "Has Medicaid; copay waived.",
    "Works at Walmart on weekends.",
    "Started Wellbutrin XL 150 mg.",
    "Reviewed DSM-5 criteria for PTSD.",
    "Attends Narcotics Anonymous on Tuesdays.",
    "Grief worsened around Mother's Day.",
    "Reads the Bible daily and finds it grounding.",
    "BP 118/76 at last PCP visit.",
    "Pain 3/10 in the lower back.",
    "Trazodone 50 mg at bedtime helps.",
    "EMDR phase 3 started.",
    "Watched Netflix to cope.",
    "Reports Monday and Friday are hardest.",
    "Uses the Calm app before sleep.",
    "Spent the weekend at Lake Michigan.",
    "GAD-7 was 9 on intake and 6 today.",
    "Safety plan reviewed; crisis line 988 discussed.",
];

struct Builder {
    text: String,
    gold: Vec<GoldSpan>,
}

impl Builder {
    fn lit(&mut self, s: &str) {
        self.text.push_str(s);
    }
    fn phi(&mut self, s: &str, kind: PhiKind) {
        let start = self.text.len();
        self.text.push_str(s);
        self.gold.push(GoldSpan {
            start,
            end: self.text.len(),
            kind,
        });
    }
}

struct Pools {
    first: Vec<&'static str>,
    last: Vec<&'static str>,
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = true;
    for c in s.chars() {
        if up {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        up = c == '-' || c == '\'';
    }
    out
}

fn pools() -> Pools {
    let g = crate::gazetteer::gazetteer();
    let mut first: Vec<&'static str> = g.first_names().collect();
    let mut last: Vec<&'static str> = g.surnames().collect();
    first.sort_unstable();
    last.sort_unstable();
    Pools { first, last }
}

struct Person {
    first: String,
    last: String,
}

fn person(r: &mut Rng, p: &Pools) -> Person {
    let first = if r.chance(8) {
        r.pick(OUTSIDE).to_string()
    } else {
        title_case(r.pick(&p.first))
    };
    let last = if r.chance(8) {
        r.pick(OUTSIDE).to_string()
    } else {
        title_case(r.pick(&p.last))
    };
    Person { first, last }
}

fn random_date(r: &mut Rng) -> Date {
    let y = r.range(2015, 2026) as i32;
    let m = Month::try_from(r.range(1, 12) as u8).unwrap_or(Month::January);
    let d = r.range(1, 28) as u8;
    Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn ordinal(d: u8) -> &'static str {
    match (d % 10, d % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// A date written in one of the usual ways; returns (text, cue) where cue goes before it.
fn write_date(r: &mut Rng, d: Date) -> (String, &'static str) {
    let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
    let name = MONTHS[usize::from(m) - 1];
    match r.below(10) {
        0 => (format!("{y}-{m:02}-{day:02}"), "on "),
        1 => (format!("{m:02}/{day:02}/{y}"), "on "),
        2 => (format!("{m}/{day}/{:02}", y % 100), "on "),
        3 => (format!("{name} {day}, {y}"), "on "),
        4 => (format!("{} {day}", &name[..3]), "on "),
        5 => (format!("{day} {name} {y}"), "on "),
        6 => (format!("{day}{} of {name}", ordinal(day)), "on the "),
        7 => (format!("{name} {y}"), "in "),
        8 => (format!("{m}/{day}"), "since "),
        _ => (format!("{name} {day}{}", ordinal(day)), "on "),
    }
}

fn phone(r: &mut Rng) -> String {
    let (a, b, c) = (r.range(201, 989), r.range(200, 999), r.range(0, 9999));
    match r.below(4) {
        0 => format!("({a}) {b}-{c:04}"),
        1 => format!("{a}-{b}-{c:04}"),
        2 => format!("{a}.{b}.{c:04}"),
        _ => format!("+1 {a} {b} {c:04}"),
    }
}

/// `n` synthetic notes from `seed`.
pub fn notes(seed: u64, n: usize) -> Vec<SyntheticNote> {
    let pools = pools();
    let mut r = Rng(seed);
    (0..n).map(|i| note(&mut r, &pools, i)).collect()
}

fn note(r: &mut Rng, p: &Pools, i: usize) -> SyntheticNote {
    let patient = person(r, p);
    let dob = Date::from_calendar_date(
        r.range(1940, 2005) as i32,
        Month::try_from(r.range(1, 12) as u8).unwrap_or(Month::June),
        r.range(1, 28) as u8,
    )
    .unwrap_or(Date::MIN);
    let patient_phone = phone(r);
    let patient_email = format!(
        "{}.{}{}@{}",
        patient.first.to_lowercase(),
        patient.last.to_lowercase(),
        r.range(1, 99),
        r.pick(DOMAINS)
    );
    let mrn = format!("{:08}", r.range(100_000, 99_999_999));
    let known = KnownIdentifiers {
        names: vec![format!("{} {}", patient.first, patient.last)],
        dates_of_birth: vec![dob],
        phones: vec![patient_phone.clone()],
        emails: vec![patient_email.clone()],
        addresses: Vec::new(),
        other: vec![mrn.clone()],
    };
    let mut b = Builder {
        text: String::new(),
        gold: Vec::new(),
    };
    // Heading: patient name, DOB, MRN.
    b.lit("Client: ");
    b.phi(
        &format!("{} {}", patient.first, patient.last),
        PhiKind::Name,
    );
    b.lit("\nDOB: ");
    b.phi(
        &format!(
            "{:02}/{:02}/{}",
            u8::from(dob.month()),
            dob.day(),
            dob.year()
        ),
        PhiKind::Dob,
    );
    b.lit("  MRN: ");
    b.phi(&mrn, PhiKind::Id);
    b.lit("\n\n");
    let sentences = r.range(6, 11);
    for _ in 0..sentences {
        if r.chance(35) {
            b.lit(r.pick(FILLER));
            b.lit(" ");
            continue;
        }
        match r.below(25) {
            22 => {
                // A name that is a word, at the start of a sentence, with no cue: only the
                // capital says it is a name, and a capital there says nothing.
                b.phi(r.pick(WORD_NAMES), PhiKind::Name);
                b.lit(" called to reschedule. ");
            }
            23 => {
                b.lit("Drove to ");
                b.phi(r.pick(CITIES), PhiKind::Address);
                b.lit(" for a wedding. ");
            }
            24 => {
                let other = person(r, p);
                b.lit("Pt's daughter, ");
                b.phi(
                    &format!("{}-{}", other.first, title_case(r.pick(&p.last))),
                    PhiKind::Name,
                );
                b.lit(", attended. ");
                b.phi(&other.first, PhiKind::Name);
                b.lit("'s school called twice. ");
            }
            0 => {
                b.phi(&patient.first, PhiKind::Name);
                b.lit(" reports increased conflict at work. ");
            }
            1 => {
                b.lit("Met with ");
                b.phi(&patient.first, PhiKind::Name);
                b.lit(" for a 53-minute session. ");
            }
            2 => {
                let rel = r.pick(RELATIONS);
                let other = person(r, p);
                b.lit(&format!("Reports that her {rel} "));
                b.phi(&other.first, PhiKind::Name);
                b.lit(" has been supportive. ");
            }
            3 => {
                let other = person(r, p);
                let title = r.pick(&["Dr.", "Dr", "Ms.", "Mr.", "Mrs."]);
                b.lit(&format!("Coordinated care with {title} "));
                b.phi(&other.last, PhiKind::Name);
                b.lit(" (psychiatry). ");
            }
            4 => {
                let word = r.pick(WORD_NAMES);
                let rel = r.pick(RELATIONS);
                b.lit(&format!("Talked about her {rel}, "));
                b.phi(word, PhiKind::Name);
                b.lit(", and their plans. ");
            }
            5 => {
                let other = person(r, p);
                b.lit("Emergency contact is ");
                b.phi(&format!("{} {}", other.first, other.last), PhiKind::Name);
                b.lit(", ");
                b.phi(&phone(r), PhiKind::Phone);
                b.lit(". ");
            }
            6 => {
                let day = random_date(r);
                let (d, cue) = write_date(r, day);
                b.lit(&format!("Last hospitalization {cue}"));
                b.phi(&d, PhiKind::Date);
                b.lit(". ");
            }
            7 => {
                let day = random_date(r);
                let (d, cue) = write_date(r, day);
                b.lit(&format!("Started a new job {cue}"));
                b.phi(&d, PhiKind::Date);
                b.lit(" and reports more stress. ");
            }
            8 => {
                b.lit("Can be reached at ");
                b.phi(&patient_phone, PhiKind::Phone);
                b.lit(" or ");
                b.phi(&patient_email, PhiKind::Email);
                b.lit(". ");
            }
            9 => {
                b.lit("Records were faxed to ");
                b.phi(&phone(r), PhiKind::Fax);
                b.lit(". ");
            }
            10 => {
                let num = r.range(1, 9999);
                let street = format!("{num} {} {}", r.pick(STREETS), r.pick(SUFFIXES));
                b.lit("Moved to ");
                b.phi(&street, PhiKind::Address);
                b.lit(", ");
                b.phi(
                    &format!(
                        "{}, {} {:05}",
                        r.pick(CITIES),
                        r.pick(STATES),
                        r.range(10_000, 99_950)
                    ),
                    PhiKind::Address,
                );
                b.lit(", last month. ");
            }
            11 => {
                b.lit("She lives on ");
                b.phi(
                    &format!("{} {}", r.pick(STREETS), r.pick(SUFFIXES)),
                    PhiKind::Address,
                );
                b.lit(" with two cats. ");
            }
            12 => {
                b.lit("Insurance ID ");
                let id = format!(
                    "{}{}{:09}",
                    r.pick(&["X", "Q", "M", "B"]),
                    r.pick(&["Z", "K", "H", "W"]),
                    r.range(1, 999_999_999)
                );
                b.phi(&id, PhiKind::Id);
                b.lit(" verified. ");
            }
            13 => {
                b.lit("SSN ");
                b.phi(
                    &format!(
                        "{:03}-{:02}-{:04}",
                        r.range(100, 899),
                        r.range(10, 99),
                        r.range(1000, 9999)
                    ),
                    PhiKind::Ssn,
                );
                b.lit(" on file for billing. ");
            }
            14 => {
                b.lit("Shared her blog, ");
                let handle = format!("{}{}", patient.first.to_lowercase(), r.range(1, 999));
                let url = match r.below(3) {
                    0 => format!("https://www.{handle}writes.com/posts/{}", r.range(1, 99)),
                    1 => format!("www.{handle}.net"),
                    _ => format!("http://instagram.com/{handle}"),
                };
                b.phi(&url, PhiKind::Url);
                b.lit(", in session. ");
            }
            15 => {
                b.lit("Telehealth connection from ");
                b.phi(
                    &format!(
                        "{}.{}.{}.{}",
                        r.range(11, 223),
                        r.range(0, 255),
                        r.range(0, 255),
                        r.range(1, 254)
                    ),
                    PhiKind::Ip,
                );
                b.lit(" dropped twice. ");
            }
            16 => {
                let age = r.range(90, 104).to_string();
                match r.below(3) {
                    0 => {
                        b.lit("Cares for her ");
                        b.phi(&age, PhiKind::Age);
                        b.lit("-year-old grandmother. ");
                    }
                    1 => {
                        b.lit("Her father, age ");
                        b.phi(&age, PhiKind::Age);
                        b.lit(", moved in. ");
                    }
                    _ => {
                        b.lit("Grandfather (");
                        b.phi(&age, PhiKind::Age);
                        b.lit(" yo) was hospitalized. ");
                    }
                }
            }
            17 => {
                let other = person(r, p);
                b.lit("Her sister ");
                b.phi(&other.first, PhiKind::Name);
                b.lit(" and brother-in-law ");
                b.phi(&format!("{} {}", other.first, patient.last), PhiKind::Name);
                b.lit(" visited. ");
            }
            18 => {
                let day = random_date(r);
                let (d, cue) = write_date(r, day);
                b.lit(&format!("Follow-up scheduled {cue}"));
                b.phi(&d, PhiKind::Date);
                b.lit(" with ");
                b.phi(&patient.first, PhiKind::Name);
                b.lit(". ");
            }
            19 => {
                b.lit("Medical record number ");
                b.phi(&mrn, PhiKind::Id);
                b.lit(" confirmed. ");
            }
            20 => {
                let other = person(r, p);
                b.lit("Referred by ");
                b.phi(&format!("{} {}", other.first, other.last), PhiKind::Name);
                b.lit(", LCSW. ");
            }
            _ => {
                b.lit("Born ");
                b.phi(
                    &format!(
                        "{} {}, {}",
                        MONTHS[usize::from(u8::from(dob.month())) - 1],
                        dob.day(),
                        dob.year()
                    ),
                    PhiKind::Dob,
                );
                b.lit("; ");
                b.phi(&patient.first, PhiKind::Name);
                b.lit(" said birthdays are hard. ");
            }
        }
    }
    SyntheticNote {
        patient_id: format!("synthetic-patient-{i}"),
        text: b.text,
        gold: b.gold,
        known,
    }
}
