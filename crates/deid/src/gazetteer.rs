//! Name gazetteers (US Census 1990 first names and surnames, from PyPI `names` 0.3.0; see
//! `data/SOURCES.md`), the names that are also common English words (SCOWL), and hand lists of
//! capitalised words that are not names.

use std::collections::HashSet;
use std::sync::OnceLock;

const FIRST: &str = include_str!("../data/first_names.txt");
const LAST: &str = include_str!("../data/surnames.txt");
const WORDS: &str = include_str!("../data/name_words.txt");

/// Capitalised words that are never taken for a name without a context cue (a title, "her
/// husband …"): months, weekdays, holidays, places at state level or above, languages and
/// nationalities, faiths, brands, eponymous scales and clinical vocabulary seen in headings.
const NOT_NAMES: &str = "
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
christmas easter thanksgiving halloween passover hanukkah ramadan valentine valentines new year
god lord jesus christ allah bible church christian catholic jewish muslim baptist methodist lutheran
english spanish french german italian chinese japanese korean vietnamese russian polish irish
american mexican african asian european latino latina latinx hispanic black white native
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii
idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
minnesota mississippi missouri montana nebraska nevada hampshire jersey mexico york carolina dakota
ohio oklahoma oregon pennsylvania rhode island tennessee texas utah vermont virginia washington
wisconsin wyoming america canada england
medicaid medicare zoom google facebook instagram twitter tiktok snapchat youtube netflix amazon
walmart target costco starbucks uber lyft iphone android
beck hamilton likert linehan gottman freud jung columbia edinburgh young rorschach
patient client clinician therapist writer counselor provider pt session
subjective objective assessment plan data behavior behaviour intervention response
mental status exam affect mood risk safety goals goal diagnosis history impression
presenting problem progress note notes summary treatment follow followup signed addendum
appearance orientation cognition insight judgment judgement thought speech
cbt dbt act emdr mi ipt tf phq gad pcl audit dast mdd gad ptsd adhd ocd bpd si hi avh
axis dsm icd cpt er ed icu pcp np md phd lcsw lpc lmft psyd rn
mr mrs ms miss mx dr prof
mother father mom dad mum grandma grandpa grandmother grandfather sister brother aunt uncle
day night morning evening week weekend
anxiety depression depressive rating scale inventory questionnaire index test screen screening
disorder syndrome therapy therapies program programme group center centre hospital clinic
health services service department university college school academy county city town lake
river mount mountain park valley beach canyon street avenue road anonymous alcoholics narcotics
al-anon alateen army navy marine marines corps force guard veteran veterans
";

/// Words that are names in the gazetteer but so common at the start of a capitalised phrase in a
/// note that they are taken for a name only with context, even mid-sentence.
const FUNCTION_WORDS: &str = "
a an the and or but if in on at to of for by with from as is was are be it he she they we you
i me my his her their our your this that these those no not yes so than then there here when
which who what where why how all any some each every much many more most less few one two
also just very has have had
";

pub(crate) struct Gazetteer {
    first: HashSet<&'static str>,
    last: HashSet<&'static str>,
    words: HashSet<&'static str>,
    not_names: HashSet<&'static str>,
    function: HashSet<&'static str>,
}

fn set(s: &'static str) -> HashSet<&'static str> {
    s.split_whitespace().collect()
}

pub(crate) fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| Gazetteer {
        first: set(FIRST),
        last: set(LAST),
        words: set(WORDS),
        not_names: set(NOT_NAMES),
        function: set(FUNCTION_WORDS),
    })
}

/// What the gazetteers say about one lower-cased word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// A census first name.
    pub first: bool,
    /// A census surname.
    pub last: bool,
    /// Also a common lower-case English word ("will", "hope", "smith").
    pub word: bool,
    /// Never a name without context ("May", "Monday", "English", "Plan").
    pub not_name: bool,
    /// A function word ("The", "If"): never a name without a title or a relation cue.
    pub function: bool,
}

impl Lookup {
    pub fn is_name(&self) -> bool {
        self.first || self.last
    }
}

impl Gazetteer {
    pub fn lookup(&self, lower: &str) -> Lookup {
        Lookup {
            first: self.first.contains(lower),
            last: self.last.contains(lower),
            word: self.words.contains(lower),
            not_name: self.not_names.contains(lower),
            function: self.function.contains(lower),
        }
    }

    /// The census first names (for the synthetic generator and tests).
    pub fn first_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.first.iter().copied()
    }

    /// The census surnames.
    pub fn surnames(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.last.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_loaded_and_classify_the_ambiguous_names() {
        let g = gazetteer();
        assert!(g.first.len() > 5000 && g.last.len() > 88_000 && g.words.len() > 4000);
        let will = g.lookup("will");
        assert!(will.first && will.word);
        let ada = g.lookup("ada");
        assert!(ada.first && !ada.word);
        assert!(g.lookup("smith").last && g.lookup("smith").word);
        assert!(g.lookup("may").not_name && g.lookup("monday").not_name);
        assert!(!g.lookup("sertraline").is_name());
    }
}
