//! Dates in note text: found in the common written forms, shifted by a whole number of days and
//! written back in the form they were found in.

use regex::{Captures, Regex};
use time::{Date, Duration, Month};

/// Year used to shift a date written without one (a leap year, so 29 February shifts too).
const YEARLESS: i32 = 2000;

const MONTH: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

const FULL: [&str; 12] = [
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

/// Which written form a date was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `2024-03-15` (also `/` or `.`).
    Iso,
    /// `03/15/2024`, `3/15/24` (also `-` or `.`).
    Mdy,
    /// `March 15, 2024`, `Mar. 15th`, `March 15`.
    MonthDay,
    /// `15 March 2024`, `15th of March`.
    DayMonth,
    /// `March 2024` (shifted as its 15th).
    MonthYear,
    /// `on 3/15` (only after a date cue).
    MdCue,
}

/// A date found in text.
#[derive(Debug, Clone)]
pub(crate) struct FoundDate {
    pub start: usize,
    pub end: usize,
    pub date: Date,
    form: Form,
    /// Whether the text had a year (year-less dates are compared with a DOB by month and day).
    pub has_year: bool,
    parts: Parts,
}

#[derive(Debug, Clone, Default)]
struct Parts {
    sep: String,
    month_text: String,
    pad_month: bool,
    pad_day: bool,
    two_digit_year: bool,
    suffix: bool,
    between: String,
    of: String,
    year_sep: String,
}

pub(crate) struct DatePatterns {
    iso: Regex,
    mdy: Regex,
    month_day: Regex,
    day_month: Regex,
    month_year: Regex,
    md_cue: Regex,
}

fn month_of(text: &str) -> Option<Month> {
    let l = text.to_ascii_lowercase();
    let n = match l.get(..3)? {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Month::try_from(n).ok()
}

/// Month names must be capitalised ("may 3" is not a date; "May 3" and "MAY 3" are).
fn capitalised(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_uppercase)
}

fn num<T: std::str::FromStr>(c: &Captures<'_>, i: usize) -> Option<T> {
    c.get(i)?.as_str().parse().ok()
}

fn full_year(text: &str) -> Option<i32> {
    let y: i32 = text.parse().ok()?;
    Some(match text.len() {
        2 if y <= 40 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    })
}

fn plausible_year(y: i32) -> bool {
    (1850..=2150).contains(&y)
}

fn ordinal(day: u8) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn month_text(original: &str, m: Month) -> String {
    let full = FULL[usize::from(u8::from(m)) - 1];
    let is_full = FULL.iter().any(|f| f.eq_ignore_ascii_case(original));
    let mut out = if is_full {
        full.to_string()
    } else {
        full[..3].to_string()
    };
    if original.len() > 1 && original.chars().all(|c| c.is_ascii_uppercase()) {
        out = out.to_ascii_uppercase();
    }
    out
}

impl DatePatterns {
    pub fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            iso: Regex::new(r"\b(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})\b")?,
            mdy: Regex::new(r"\b(\d{1,2})([-/.])(\d{1,2})([-/.])(\d{4}|\d{2})\b")?,
            month_day: Regex::new(&format!(
                r"(?i)\b({MONTH})(\.?\s+)(\d{{1,2}})(st|nd|rd|th)?\b(?:(,?\s*)(\d{{4}})\b)?"
            ))?,
            day_month: Regex::new(&format!(
                r"(?i)\b(\d{{1,2}})(st|nd|rd|th)?(\s+(?:of\s+)?)({MONTH})\b\.?(?:(,?\s*)(\d{{4}})\b)?"
            ))?,
            month_year: Regex::new(&format!(r"(?i)\b({MONTH})(\.?,?\s+)(\d{{4}})\b"))?,
            md_cue: Regex::new(
                r"(?i)\b(?:on|since|until|till|by|from|before|after|dated|through|thru|of|starting|beginning|ending|due|seen|admitted|discharged|born)\s+(\d{1,2})/(\d{1,2})\b",
            )?,
        })
    }

    /// Every date found, possibly overlapping (the caller keeps the longest).
    pub fn find(&self, text: &str) -> Vec<FoundDate> {
        let mut out = Vec::new();
        for c in self.iso.captures_iter(text) {
            let (Some(m0), Some(y), Some(mo), Some(d)) = (
                c.get(0),
                num::<i32>(&c, 1),
                num::<u8>(&c, 3),
                num::<u8>(&c, 5),
            ) else {
                continue;
            };
            let (s1, s2) = (&c[2], &c[4]);
            if s1 != s2 || !plausible_year(y) {
                continue;
            }
            if let Some(date) = make(y, mo, d) {
                out.push(FoundDate {
                    start: m0.start(),
                    end: m0.end(),
                    date,
                    form: Form::Iso,
                    has_year: true,
                    parts: Parts {
                        sep: s1.to_string(),
                        pad_month: padded(&c[3], &c[5]),
                        pad_day: padded(&c[5], &c[3]),
                        ..Parts::default()
                    },
                });
            }
        }
        for c in self.mdy.captures_iter(text) {
            let (Some(m0), Some(mo), Some(d), Some(y)) = (
                c.get(0),
                num::<u8>(&c, 1),
                num::<u8>(&c, 3),
                full_year(&c[5]),
            ) else {
                continue;
            };
            if c[2] != c[4] || !plausible_year(y) {
                continue;
            }
            // "7.5.10" and the like are versions or doses, not dates: dots need a 4-digit year.
            if &c[2] == "." && c[5].len() != 4 {
                continue;
            }
            if let Some(date) = make(y, mo, d) {
                out.push(FoundDate {
                    start: m0.start(),
                    end: m0.end(),
                    date,
                    form: Form::Mdy,
                    has_year: true,
                    parts: Parts {
                        sep: c[2].to_string(),
                        pad_month: padded(&c[1], &c[3]),
                        pad_day: padded(&c[3], &c[1]),
                        two_digit_year: c[5].len() == 2,
                        ..Parts::default()
                    },
                });
            }
        }
        for c in self.month_day.captures_iter(text) {
            let Some(m0) = c.get(0) else { continue };
            if !capitalised(&c[1]) {
                continue;
            }
            let (Some(month), Some(d)) = (month_of(&c[1]), num::<u8>(&c, 3)) else {
                continue;
            };
            let year = c.get(6).and_then(|y| y.as_str().parse::<i32>().ok());
            let (y, has_year, end) = match year {
                Some(y) if plausible_year(y) => (y, true, m0.end()),
                _ => (
                    YEARLESS,
                    false,
                    c.get(4).or_else(|| c.get(3)).map_or(m0.end(), |m| m.end()),
                ),
            };
            if let Some(date) = make(y, u8::from(month), d) {
                out.push(FoundDate {
                    start: m0.start(),
                    end,
                    date,
                    form: Form::MonthDay,
                    has_year,
                    parts: Parts {
                        month_text: c[1].to_string(),
                        between: c[2].to_string(),
                        pad_day: c[3].starts_with('0'),
                        suffix: c.get(4).is_some(),
                        year_sep: c.get(5).map_or(String::new(), |m| m.as_str().to_string()),
                        ..Parts::default()
                    },
                });
            }
        }
        for c in self.day_month.captures_iter(text) {
            let Some(m0) = c.get(0) else { continue };
            if !capitalised(&c[4]) {
                continue;
            }
            let (Some(month), Some(d)) = (month_of(&c[4]), num::<u8>(&c, 1)) else {
                continue;
            };
            let year = c.get(6).and_then(|y| y.as_str().parse::<i32>().ok());
            let (y, has_year, end) = match year {
                Some(y) if plausible_year(y) => (y, true, m0.end()),
                _ => (YEARLESS, false, c.get(4).map_or(m0.end(), |m| m.end())),
            };
            // Without a year, "3 May" needs an ordinal or "of" to be taken for a date.
            if !has_year && c.get(2).is_none() && !c[3].contains("of") {
                continue;
            }
            if let Some(date) = make(y, u8::from(month), d) {
                out.push(FoundDate {
                    start: m0.start(),
                    end,
                    date,
                    form: Form::DayMonth,
                    has_year,
                    parts: Parts {
                        month_text: c[4].to_string(),
                        pad_day: c[1].starts_with('0'),
                        suffix: c.get(2).is_some(),
                        of: c[3].to_string(),
                        year_sep: c.get(5).map_or(String::new(), |m| m.as_str().to_string()),
                        ..Parts::default()
                    },
                });
            }
        }
        for c in self.month_year.captures_iter(text) {
            let Some(m0) = c.get(0) else { continue };
            if !capitalised(&c[1]) {
                continue;
            }
            let (Some(month), Some(y)) = (month_of(&c[1]), num::<i32>(&c, 3)) else {
                continue;
            };
            if !plausible_year(y) {
                continue;
            }
            if let Some(date) = make(y, u8::from(month), 15) {
                out.push(FoundDate {
                    start: m0.start(),
                    end: m0.end(),
                    date,
                    form: Form::MonthYear,
                    has_year: true,
                    parts: Parts {
                        month_text: c[1].to_string(),
                        between: c[2].to_string(),
                        ..Parts::default()
                    },
                });
            }
        }
        for c in self.md_cue.captures_iter(text) {
            let (Some(g1), Some(g2), Some(mo), Some(d)) =
                (c.get(1), c.get(2), num::<u8>(&c, 1), num::<u8>(&c, 2))
            else {
                continue;
            };
            // "rated 7/10" is a score; a following "/" means a full date found above.
            if d == 10 && mo <= 10 && g2.as_str() == "10" {
                continue;
            }
            if text[g2.end()..].starts_with('/') {
                continue;
            }
            if let Some(date) = make(YEARLESS, mo, d) {
                out.push(FoundDate {
                    start: g1.start(),
                    end: g2.end(),
                    date,
                    form: Form::MdCue,
                    has_year: false,
                    parts: Parts {
                        pad_month: padded(g1.as_str(), g2.as_str()),
                        pad_day: padded(g2.as_str(), g1.as_str()),
                        ..Parts::default()
                    },
                });
            }
        }
        out
    }
}

/// Whether a numeric field was written zero-padded: "03", or two digits beside another two.
fn padded(field: &str, other: &str) -> bool {
    field.len() == 2 && (field.starts_with('0') || other.len() == 2)
}

fn make(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn pad(n: u8, padded: bool) -> String {
    if padded {
        format!("{n:02}")
    } else {
        n.to_string()
    }
}

impl FoundDate {
    /// The date moved by `days`, written in the form it was found in; `None` if out of range.
    pub fn shifted(&self, days: i64) -> Option<String> {
        let d = self.date.checked_add(Duration::days(days))?;
        // A year-less date keeps no year: shifting across New Year changes nothing visible.
        let (m, day, y) = (u8::from(d.month()), d.day(), d.year());
        let p = &self.parts;
        let year_text = |two: bool| -> String {
            if two {
                format!("{:02}", y.rem_euclid(100))
            } else {
                format!("{y:04}")
            }
        };
        Some(match self.form {
            Form::Iso => format!(
                "{}{}{}{}{}",
                year_text(false),
                p.sep,
                pad(m, p.pad_month),
                p.sep,
                pad(day, p.pad_day)
            ),
            Form::Mdy => format!(
                "{}{}{}{}{}",
                pad(m, p.pad_month),
                p.sep,
                pad(day, p.pad_day),
                p.sep,
                year_text(p.two_digit_year)
            ),
            Form::MonthDay => {
                let mut s = format!(
                    "{}{}{}",
                    month_text(&p.month_text, d.month()),
                    p.between,
                    pad(day, p.pad_day)
                );
                if p.suffix {
                    s.push_str(ordinal(day));
                }
                if self.has_year {
                    s.push_str(&p.year_sep);
                    s.push_str(&year_text(false));
                }
                s
            }
            Form::DayMonth => {
                let mut s = pad(day, p.pad_day);
                if p.suffix {
                    s.push_str(ordinal(day));
                }
                s.push_str(&p.of);
                s.push_str(&month_text(&p.month_text, d.month()));
                if self.has_year {
                    s.push_str(&p.year_sep);
                    s.push_str(&year_text(false));
                }
                s
            }
            Form::MonthYear => format!(
                "{}{}{}",
                month_text(&p.month_text, d.month()),
                p.between,
                year_text(false)
            ),
            Form::MdCue => format!("{}/{}", pad(m, p.pad_month), pad(day, p.pad_day)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift_all(text: &str, days: i64) -> Vec<(String, String)> {
        let p = DatePatterns::new().unwrap();
        let mut v: Vec<_> = p
            .find(text)
            .into_iter()
            .map(|f| (text[f.start..f.end].to_string(), f.shifted(days).unwrap()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn every_form_shifts_and_keeps_its_shape() {
        let cases = [
            ("2024-03-15", "2024-03-22"),
            ("2024/3/5", "2024/3/12"),
            ("03/15/2024", "03/22/2024"),
            ("3/15/24", "3/22/24"),
            ("12-30-2023", "01-06-2024"),
            ("March 15, 2024", "March 22, 2024"),
            ("Mar. 3rd", "Mar. 10th"),
            ("MARCH 28", "APRIL 4"),
            ("15 March 2024", "22 March 2024"),
            ("the 1st of June", "the 8th of June"),
        ];
        for (input, want) in cases {
            let got = shift_all(input, 7);
            assert!(
                got.iter()
                    .any(|(_, s)| want.ends_with(s.as_str()) && !s.is_empty()),
                "{input}: {got:?}"
            );
        }
        assert_eq!(
            shift_all("in March 2024", -21),
            vec![("March 2024".into(), "February 2024".into())]
        );
        assert_eq!(
            shift_all("seen on 2/29", 7),
            vec![("2/29".into(), "3/7".into())]
        );
    }

    #[test]
    fn scores_doses_and_lowercase_words_are_not_dates() {
        for text in [
            "rated mood 7/10",
            "anxiety 3/10 today",
            "she may 5 times a day",
            "PHQ-9 score 14",
            "BP 120/80",
            "sertraline 50 mg",
            "version 7.5.10",
            "in 2019",
        ] {
            assert!(shift_all(text, 7).is_empty(), "{text}");
        }
    }
}
