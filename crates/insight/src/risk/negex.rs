//! A NegEx/ConText-style rule layer: is a risk mention in a sentence about the patient, now,
//! and affirmed? Negated ("denies SI", "no suicidal ideation", "not hopeless"), attributed to
//! someone else ("her brother said he wanted to die", "mother has depression"), historical
//! ("history of self-harm as a teenager") and hypothetical ("call the crisis line if suicidal
//! thoughts return", "screened for SI") mentions must not flag the patient.
//!
//! Method (after Chapman et al. 2001, NegEx, and Harkema et al. 2009, ConText): risk concepts
//! come from a small lexicon; trigger phrases before (or, for a few, after) a concept change its
//! context within a scope that ends at a termination word ("but", "reports", "now", …), a
//! semicolon, or eight words. Trigger words inside a concept ("doesn't want to live") are part
//! of the concept, not negations. The experiencer is the nearest person mentioned before the
//! concept: a relative or other person makes it theirs; a pronoun after "<relative> said" is
//! theirs too unless its gender rules the relative out ("her brother said she…").

use std::ops::Range;

/// What a mention is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Concept {
    /// Suicidal ideation or self-harm.
    SuicidalIdeation,
    /// Hopelessness or depressive language.
    Depression,
}

/// Whether a mention counts for the patient now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// About the patient, now, affirmed: it may flag.
    Affirmed,
    /// Denied or absent.
    Negated,
    /// About someone else (a relative, a friend).
    OtherPerson,
    /// In the past (history of, years ago).
    Historical,
    /// Discussed, screened for or conditional (if, in case, safety plan).
    Hypothetical,
}

impl Context {
    /// Short token for display ("negated", "other person", …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Affirmed => "affirmed",
            Self::Negated => "negated",
            Self::OtherPerson => "other person",
            Self::Historical => "historical",
            Self::Hypothetical => "hypothetical",
        }
    }
}

/// A risk concept found in a sentence, with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// What it is evidence of.
    pub concept: Concept,
    /// Byte range of the concept in the sentence.
    pub span: Range<usize>,
    /// Its context.
    pub context: Context,
    /// Byte range of the trigger that set the context (none when affirmed).
    pub cue: Option<Range<usize>>,
}

#[derive(Debug, Clone)]
struct Tok {
    text: String,
    span: Range<usize>,
    /// A hard boundary (`;`) sits before this word.
    break_before: bool,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::new();
    let mut start: Option<usize> = None;
    let mut pending_break = false;
    let is_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '’';
    let flush = |out: &mut Vec<Tok>, a: usize, b: usize, brk: &mut bool| {
        let text = s[a..b]
            .trim_matches(|c| c == '\'' || c == '’')
            .replace('’', "'")
            .to_lowercase();
        if !text.is_empty() {
            out.push(Tok {
                text,
                span: a..b,
                break_before: std::mem::take(brk),
            });
        }
    };
    for (i, c) in s.char_indices() {
        if is_word(c) {
            start.get_or_insert(i);
        } else {
            if let Some(a) = start.take() {
                flush(&mut out, a, i, &mut pending_break);
            }
            if matches!(c, ';' | '.' | '!' | '?' | '(' | ')') {
                pending_break = true;
            }
        }
    }
    if let Some(a) = start {
        flush(&mut out, a, s.len(), &mut pending_break);
    }
    out
}

/// One pattern word: alternatives separated by `|`, a trailing `*` matches any ending.
fn word_matches(pat: &str, w: &str) -> bool {
    pat.split('|').any(|alt| match alt.strip_suffix('*') {
        Some(prefix) => w.starts_with(prefix),
        None => alt == w,
    })
}

/// Length in words of `pattern` matched at `toks[i..]`, if it matches.
fn match_at(pattern: &str, toks: &[Tok], i: usize) -> Option<usize> {
    let parts: Vec<&str> = pattern.split(' ').collect();
    match_parts(&parts, toks, i)
}

fn match_parts<S: AsRef<str>>(parts: &[S], toks: &[Tok], i: usize) -> Option<usize> {
    for (k, p) in parts.iter().enumerate() {
        let p = p.as_ref();
        let t = toks.get(i + k)?;
        if k > 0 && t.break_before {
            return None;
        }
        if !word_matches(p, &t.text) {
            return None;
        }
    }
    Some(parts.len())
}

const SELF: &str = "herself|himself|myself|themselves|themself|yourself";
const POSS: &str = "her|his|my|their|your";

/// The concept patterns, split into words once.
fn compiled() -> &'static [(Concept, Vec<String>)] {
    static PATTERNS: std::sync::OnceLock<Vec<(Concept, Vec<String>)>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        concept_patterns()
            .into_iter()
            .map(|(c, p)| (c, p.split(' ').map(str::to_string).collect()))
            .collect()
    })
}

fn concept_patterns() -> Vec<(Concept, String)> {
    use Concept::{Depression as D, SuicidalIdeation as S};
    let mut v: Vec<(Concept, String)> = vec![
        (S, "suicid*".into()),
        (S, "si".into()),
        (S, "self harm*|injur*|mutilat*".into()),
        (S, "selfharm*".into()),
        (S, "nssi".into()),
        (S, "overdos*".into()),
        (S, "want*|wish*|wishing|longing|long to die".into()),
        (S, "want*|wish*|wishing to be dead".into()),
        (S, "wish*|wishing she|he|i|they was|were dead|gone".into()),
        (S, "better off dead|gone|without".into()),
        (S, "end it all".into()),
        (S, "no reason to live|go".into()),
        (S, "not|never to|ever wake up".into()),
        (S, "not|never wake up".into()),
        (S, "thoughts of death|dying".into()),
        (S, "death wish".into()),
        (S, "not worth living".into()),
        (S, "cut|cuts|cutting|burn|burns|burned|burning|hurt|hurts|hurting|harm|harms|harming|kill|kills|killing|hang|hanged|hanging|shoot|shooting|poison|poisoning".into()),
        (D, "hopeless*".into()),
        (D, "no hope".into()),
        (D, "no|never any future".into()),
        (D, "no point".into()),
        (D, "pointless".into()),
        (D, "worthless*".into()),
        (D, "a burden".into()),
        (D, "can't|cannot go on".into()),
        (D, "give|gave|giving up on life|everything".into()),
        (D, "depress*".into()),
        (D, "anhedoni*".into()),
        (D, "nothing will ever|ever get|gets better".into()),
        (D, "nothing will get better".into()),
        (D, "never get|gets better".into()),
        (D, "empty|emptiness|numb".into()),
        (D, "despair*".into()),
        (D, "trapped".into()),
    ];
    // "cut herself", "kill myself", "end her life", "take his own life".
    let verbs = "cut|cuts|cutting|burn|burns|burned|burning|hurt|hurts|hurting|harm|harms|harming|kill|kills|killing|hang|hanged|hanging|shoot|shooting|poison|poisoning";
    v.retain(|(_, p)| p != verbs);
    v.push((S, format!("{verbs} {SELF}")));
    for end in [
        "live",
        "exist",
        "be alive",
        "be here",
        "go on",
        "wake up",
        "be around",
    ] {
        v.push((S, format!("does|do|did|would not want* to {end}")));
        v.push((S, format!("doesn't|don't|didn't|wouldn't want* to {end}")));
    }
    v.push((
        S,
        format!("end|ends|ending|take|takes|taking {POSS} own life"),
    ));
    v.push((S, format!("end|ends|ending|take|takes|taking {POSS} life")));
    v
}

/// Triggers that negate a concept after them.
const PRE_NEGATION: &[&str] = &[
    "denies",
    "denied",
    "deny",
    "denying",
    "no",
    "not",
    "without",
    "negative for",
    "never",
    "free of",
    "absence of",
    "absent",
    "ruled out",
    "rules out",
    "rule out",
    "doesn't",
    "didn't",
    "does not",
    "did not",
    "isn't",
    "wasn't",
    "nor",
    "neither",
    "none",
    "disclaims",
    "disavows",
    "refutes",
    "no longer",
    "resolved",
];
/// Triggers that negate a concept before them ("SI: denied").
const POST_NEGATION: &[&str] = &[
    "denied",
    "negative",
    "absent",
    "none",
    "not present",
    "ruled out",
    "not endorsed",
    "not reported",
    "resolved",
];
/// Look like negations but are not.
const PSEUDO_NEGATION: &[&str] = &[
    "no increase",
    "no change",
    "not only",
    "not just",
    "not necessarily",
    "no further change",
];
/// Triggers that make a concept historical.
const PRE_HISTORY: &[&str] = &[
    "history of",
    "hx of",
    "h o",
    "past",
    "previous",
    "previously",
    "prior",
    "in the past",
    "used to",
    "remote",
    "childhood",
    "former",
    "formerly",
];
/// After the concept.
const POST_HISTORY: &[&str] = &[
    "years ago",
    "year ago",
    "months ago",
    "in the past",
    "as a teen*",
    "as a child",
    "in adolescence",
    "in high school",
    "in college",
    "in childhood",
    "when she|he|they|i was|were",
    "at age",
    "last year",
    "previously",
    "in 19*|20*",
    "in her|his|their teens|twenties|20s|teenage",
];
/// "past week", "last night": recent, not history.
const PSEUDO_HISTORY: &[&str] = &[
    "past|last few|two|2|three|3|several week|weeks|day|days|night|nights|month|session",
    "past|last week|weeks|day|days|night|nights|month|session|weekend",
];
/// Triggers that make a concept hypothetical or merely discussed.
const PRE_HYPOTHETICAL: &[&str] = &[
    "if",
    "in case",
    "should",
    "whether",
    "unless",
    "screened for",
    "screen for",
    "screening for",
    "assess for",
    "assessed for",
    "assessing for",
    "evaluate for",
    "evaluated for",
    "asked about",
    "ask about",
    "asking about",
    "inquired about",
    "monitor for",
    "monitoring for",
    "warning signs",
    "crisis line",
    "safety plan",
    "psychoeducation",
    "educated",
    "risk factors",
    "r o",
];
const POST_HYPOTHETICAL: &[&str] = &[
    "if needed",
    "should they|it return|arise|occur|recur",
    "were to return|arise|occur",
    "if they|it return*|arise*|occur*|recur*",
];
/// Words that end a trigger's scope.
const TERMINATION: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "yet",
    "except",
    "aside",
    "apart",
    "reports",
    "reported",
    "endorses",
    "endorsed",
    "endorsing",
    "admits",
    "admitted",
    "states",
    "stated",
    "describes",
    "described",
    "notes",
    "noted",
    "which",
    "who",
    "while",
    "whereas",
    "still",
    "now",
    "currently",
    "recently",
    "today",
    "again",
    "because",
    "due",
    "since",
    "returned",
    "expressed",
    "expresses",
    "acknowledges",
    "acknowledged",
    "disclosed",
    "discloses",
];
const SCOPE: usize = 8;

/// Relatives and other people; gender where the word carries it.
const OTHERS: &[(&str, Option<char>)] = &[
    ("mother|mom|mum|mommy|mama|stepmother|stepmom", Some('f')),
    ("father|dad|daddy|papa|stepfather|stepdad", Some('m')),
    ("sister|stepsister|daughter|wife|girlfriend|aunt|grandmother|grandma|granny|niece", Some('f')),
    ("brother|stepbrother|son|husband|boyfriend|uncle|grandfather|grandpa|nephew", Some('m')),
    ("sibling|siblings|parent|parents|partner|spouse|friend|friends|cousin|cousins|colleague|colleagues|coworker|coworkers|roommate|neighbor|neighbour|classmate|classmates|peer|peers|teammate|child|children|kid|kids|family|fhx|fh|grandparent|relative|relatives|boss|manager|teacher", None),
];
const PATIENT: &[(&str, Option<char>)] = &[
    ("client|patient|pt|i|me|myself", None),
    ("she|her|herself", Some('f')),
    ("he|him|himself", Some('m')),
    ("they|them|themself|themselves", None),
];
const REPORTING: &str = "said|says|reported|reports|told|tells|stated|states|mentioned|mentions|thinks|thought|believes|believed|worries|worried|feels|felt|admitted|texted|wrote|posted|shared|disclosed|has|had|is|was|with|attempted|died";

fn person(w: &str) -> Option<(bool, Option<char>)> {
    for (p, g) in OTHERS {
        if word_matches(p, w) {
            return Some((true, *g));
        }
    }
    for (p, g) in PATIENT {
        if word_matches(p, w) {
            return Some((false, *g));
        }
    }
    None
}

fn find_any(list: &[&str], toks: &[Tok], i: usize) -> Option<usize> {
    list.iter().filter_map(|p| match_at(p, toks, i)).max()
}

/// Every risk concept in `sentence`, each with its context.
pub fn analyse(sentence: &str) -> Vec<Mention> {
    let toks = tokenize(sentence);
    let mut concepts: Vec<(Concept, Range<usize>)> = Vec::new(); // word ranges
    let patterns = compiled();
    let cover = concept_cover(&toks);
    let mut i = 0;
    while i < toks.len() {
        let best = patterns
            .iter()
            .filter_map(|(c, p)| match_parts(p, &toks, i).map(|n| (n, *c)))
            .max_by_key(|(n, _)| *n);
        match best {
            Some((n, c)) => {
                concepts.push((c, i..i + n));
                i += n;
            }
            None => i += 1,
        }
    }
    concepts
        .into_iter()
        .map(|(concept, words)| {
            let (context, cue) = context_words(&toks, &cover, words.clone());
            Mention {
                concept,
                span: toks[words.start].span.start..toks[words.end - 1].span.end,
                context,
                cue: cue.map(|c| toks[c.start].span.start..toks[c.end - 1].span.end),
            }
        })
        .collect()
}

/// The context of an arbitrary byte range of `sentence` (e.g. a phrase an attribution method
/// found to drive a model's score), judged as if it were a concept.
pub fn context_of(sentence: &str, span: Range<usize>) -> (Context, Option<Range<usize>>) {
    let toks = tokenize(sentence);
    let words: Vec<usize> = (0..toks.len())
        .filter(|&k| toks[k].span.start < span.end && toks[k].span.end > span.start)
        .collect();
    let (Some(&a), Some(&b)) = (words.first(), words.last()) else {
        return (Context::Affirmed, None);
    };
    let cover = concept_cover(&toks);
    let (c, cue) = context_words(&toks, &cover, a..b + 1);
    (
        c,
        cue.map(|c| toks[c.start].span.start..toks[c.end - 1].span.end),
    )
}

/// Word ranges covered by concept patterns (their words are not triggers).
fn concept_cover(toks: &[Tok]) -> Vec<bool> {
    let mut cover = vec![false; toks.len()];
    let patterns = compiled();
    for i in 0..toks.len() {
        if let Some(n) = patterns
            .iter()
            .filter_map(|(_, p)| match_parts(p, toks, i))
            .max()
        {
            cover[i..i + n].iter_mut().for_each(|c| *c = true);
        }
    }
    cover
}

fn context_words(
    toks: &[Tok],
    cover: &[bool],
    target: Range<usize>,
) -> (Context, Option<Range<usize>>) {
    let is_term = |k: usize| TERMINATION.contains(&toks[k].text.as_str());
    // Scan backwards from the concept: the window before it up to a termination or boundary.
    let mut lo = target.start;
    let mut steps = 0;
    while lo > 0 && steps < SCOPE {
        if toks[lo].break_before || is_term(lo - 1) {
            break;
        }
        lo -= 1;
        steps += 1;
    }
    // 1. Experiencer.
    if let Some(cue) = experiencer(toks, target.start) {
        return (Context::OtherPerson, Some(cue));
    }
    // 2-4. Pre-triggers in the window, nearest last; pseudo-triggers mask.
    let mut found: Option<(Context, Range<usize>)> = None;
    let mut k = lo;
    while k < target.start {
        if cover[k] && !(target.start..target.end).contains(&k) {
            // Another concept's words are not triggers.
            k += 1;
            continue;
        }
        if let Some(n) =
            find_any(PSEUDO_NEGATION, toks, k).or_else(|| find_any(PSEUDO_HISTORY, toks, k))
        {
            k += n;
            continue;
        }
        let hit = [
            (Context::Negated, PRE_NEGATION),
            (Context::Hypothetical, PRE_HYPOTHETICAL),
            (Context::Historical, PRE_HISTORY),
        ]
        .iter()
        .find_map(|(c, list)| find_any(list, toks, k).map(|n| (*c, n)));
        match hit {
            Some((c, n)) if k + n <= target.start => {
                found = Some((c, k..k + n));
                k += n;
            }
            _ => k += 1,
        }
    }
    if let Some((c, cue)) = found {
        return (c, Some(cue));
    }
    // Post-triggers: within four words after the concept, before a termination.
    let mut k = target.end;
    while k < toks.len() && k < target.end + 4 {
        if toks[k].break_before && k > target.end {
            break;
        }
        if is_term(k) {
            break;
        }
        if find_any(PSEUDO_HISTORY, toks, k).is_some() {
            break;
        }
        let hit = [
            (Context::Negated, POST_NEGATION),
            (Context::Hypothetical, POST_HYPOTHETICAL),
            (Context::Historical, POST_HISTORY),
        ]
        .iter()
        .find_map(|(c, list)| find_any(list, toks, k).map(|n| (*c, n)));
        if let Some((c, n)) = hit {
            return (c, Some(k..k + n));
        }
        k += 1;
    }
    (Context::Affirmed, None)
}

/// The other person the concept at word `at` is about, if any: the nearest person before it
/// is a relative/other (not possessive), or a pronoun after "<other> said" of a compatible
/// gender, or a "family history" phrase.
fn experiencer(toks: &[Tok], at: usize) -> Option<Range<usize>> {
    let mut k = at;
    let mut first: Option<(usize, Option<char>)> = None; // a pronoun seen
    let mut reporting_between = false;
    while k > 0 {
        k -= 1;
        let w = &toks[k].text;
        if w == "family" && toks.get(k + 1).is_some_and(|t| t.text == "history") {
            return Some(k..k + 2);
        }
        if let Some((other, g)) = person(w) {
            // "her" before a relative is a possessive ("her brother"): skip it.
            if !other && w == "her" && toks.get(k + 1).and_then(|t| person(&t.text)).is_some() {
                continue;
            }
            if other {
                // "her brother" and "her brother's" differ: possessives were not matched.
                match first {
                    None => return Some(k..k + 1),
                    Some((_, pg)) => {
                        let compatible = match (pg, g) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        };
                        return (reporting_between && compatible).then_some(k..k + 1);
                    }
                }
            }
            // Patient words: "client", "patient", or a pronoun.
            if matches!(
                w.as_str(),
                "client" | "patient" | "pt" | "i" | "me" | "myself"
            ) {
                return None;
            }
            match first {
                None => first = Some((k, g)),
                // "his mother told him she…": a pronoun of another gender is someone else.
                Some((_, Some(a))) if g.is_some_and(|b| b != a) => {}
                Some(_) => return None,
            }
        } else if first.is_some() && word_matches(REPORTING, w) {
            reporting_between = true;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (sentence, expected contexts of its concepts, in order).
    fn check(cases: &[(&str, &[Context])]) {
        let mut failures = Vec::new();
        for (s, want) in cases {
            let got: Vec<Context> = analyse(s).into_iter().map(|m| m.context).collect();
            if got != *want {
                failures.push(format!("{s:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    use Context::*;

    #[test]
    fn negated_mentions() {
        check(&[
            ("Denies SI.", &[Negated]),
            (
                "Client denies suicidal ideation, intent or plan.",
                &[Negated],
            ),
            ("No suicidal ideation.", &[Negated]),
            ("She is not hopeless about the future.", &[Negated]),
            ("SI: denied.", &[Negated]),
            ("Suicidal ideation - negative", &[Negated]),
            (
                "Denies thoughts of self-harm or suicide.",
                &[Negated, Negated],
            ),
            ("No longer has thoughts of suicide.", &[Negated]),
            ("Without any self-harm since March.", &[Negated]),
            ("She did not endorse hopelessness.", &[Negated]),
        ]);
    }

    #[test]
    fn affirmed_mentions_stay_affirmed() {
        check(&[
            ("Client reports passive suicidal ideation.", &[Affirmed]),
            ("She said she wants to die.", &[Affirmed]),
            ("Endorses SI with no plan or intent.", &[Affirmed]),
            ("Denies plan but endorses passive SI.", &[Affirmed]),
            ("Denies SI, reports feeling hopeless.", &[Negated, Affirmed]),
            ("He doesn't want to live anymore.", &[Affirmed]),
            ("She does not want to wake up in the morning.", &[Affirmed]),
            (
                "Feels like a burden and that everyone would be better off without her.",
                &[Affirmed, Affirmed],
            ),
            ("Cut herself twice this week.", &[Affirmed]),
            ("Passive SI over the past two weeks.", &[Affirmed]),
            (
                "History of self-harm as a teen, but now reports urges to cut herself again.",
                &[Historical, Affirmed],
            ),
            ("No change in her hopelessness.", &[Affirmed]),
            ("Client told her mother she wanted to die.", &[Affirmed]),
            (
                "Mother reports the client has been talking about suicide.",
                &[Affirmed],
            ),
            ("Her brother said she seemed hopeless.", &[Affirmed]),
            ("He told his mother he wants to die.", &[Affirmed]),
        ]);
    }

    #[test]
    fn other_people_do_not_flag_the_patient() {
        check(&[
            ("Her brother said he wanted to die.", &[OtherPerson]),
            ("Mother has depression.", &[OtherPerson]),
            ("Father died by suicide in 2010.", &[OtherPerson]),
            ("Family history of depression.", &[OtherPerson]),
            ("She worries her son is suicidal.", &[OtherPerson]),
            ("Her friend cut herself at school.", &[OtherPerson]),
            (
                "Client's husband has been hopeless since losing his job.",
                &[OtherPerson],
            ),
            ("His mother told him she wants to die.", &[OtherPerson]),
        ]);
    }

    #[test]
    fn history_and_hypotheticals() {
        check(&[
            ("History of suicide attempt in 2015.", &[Historical]),
            ("Past self-harm.", &[Historical]),
            ("She cut herself as a teenager.", &[Historical]),
            ("Overdose three years ago.", &[Historical]),
            (
                "Will call the crisis line if suicidal thoughts return.",
                &[Hypothetical],
            ),
            ("Screened for SI.", &[Hypothetical]),
            (
                "Reviewed safety plan in case of suicidal urges.",
                &[Hypothetical],
            ),
            (
                "Asked about thoughts of self-harm; she denied any.",
                &[Hypothetical],
            ),
        ]);
    }

    #[test]
    fn clinical_text_without_risk_concepts_has_no_mentions() {
        for s in [
            "GAD-7 decreased to 6.",
            "Discussed sleep hygiene and work stress.",
            "PHQ-9 total 8, mild.",
            "Plan: continue CBT weekly.",
        ] {
            assert!(analyse(s).is_empty(), "{s:?}: {:?}", analyse(s));
        }
    }

    #[test]
    fn spans_point_at_the_concept_and_cue() {
        let s = "Client denies suicidal ideation.";
        let m = &analyse(s)[0];
        assert_eq!(&s[m.span.clone()], "suicidal");
        assert_eq!(m.cue.as_ref().map(|c| &s[c.clone()]), Some("denies"));
        let (c, cue) = context_of("Her brother said he wanted to die.", 20..34);
        assert_eq!(c, OtherPerson);
        assert_eq!(cue.map(|r| r.start), Some(4));
    }
}
