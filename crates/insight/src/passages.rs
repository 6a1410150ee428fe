//! Cutting a note into passages: what semantic search embeds and shows as the match.

use std::ops::Range;

/// Cut `text` into passages of whole sentences, each at most `max_words` words (a longer
/// sentence is cut between words), as byte ranges into `text`, in order, trimmed, none empty.
///
/// Sentences end at `.`, `!` or `?` followed by white space, and at line breaks (note sections
/// are lines). Passages group consecutive sentences while they fit, so each stays well under
/// the encoder's 256 word pieces (48 words ≈ 65 word pieces) and points at one part of a note.
pub fn passages(text: &str, max_words: usize) -> Vec<Range<usize>> {
    let max_words = max_words.max(1);
    let mut out = Vec::new();
    let mut current: Option<(usize, usize, usize)> = None; // start, end, words
    for s in sentences(text) {
        let words = text[s.clone()].split_whitespace().count();
        if words > max_words {
            if let Some((a, b, _)) = current.take() {
                out.push(a..b);
            }
            out.extend(word_chunks(text, s, max_words));
            continue;
        }
        current = match current {
            Some((a, _, w)) if w + words <= max_words => Some((a, s.end, w + words)),
            Some((a, b, _)) => {
                out.push(a..b);
                Some((s.start, s.end, words))
            }
            None => Some((s.start, s.end, words)),
        };
    }
    if let Some((a, b, _)) = current {
        out.push(a..b);
    }
    out
}

/// Sentence ranges, trimmed, non-empty.
fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\n' | '\r' => Some(i),
            '.' | '!' | '?' => match chars.peek() {
                Some((_, n)) if n.is_whitespace() => Some(i + c.len_utf8()),
                None => Some(i + c.len_utf8()),
                _ => None,
            },
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(text, start..end, &mut out);
            start = end;
        }
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

fn push_trimmed(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        out.push(r.start + lead..r.end - trail);
    }
}

/// A long sentence in chunks of `max_words` words.
fn word_chunks(text: &str, r: Range<usize>, max_words: usize) -> Vec<Range<usize>> {
    let s = &text[r.clone()];
    let mut out = Vec::new();
    let mut words = 0;
    let mut chunk_start: Option<usize> = None;
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if in_word {
                in_word = false;
                if words == max_words {
                    if let Some(a) = chunk_start.take() {
                        out.push(r.start + a..r.start + i);
                    }
                    words = 0;
                }
            }
        } else if !in_word {
            in_word = true;
            words += 1;
            chunk_start.get_or_insert(i);
        }
    }
    if let Some(a) = chunk_start {
        out.push(r.start + a..r.end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str, n: usize) -> Vec<&str> {
        passages(t, n).into_iter().map(|r| &t[r]).collect()
    }

    #[test]
    fn sentences_are_grouped_while_they_fit() {
        let t = "Slept badly. Work is stressful!\nMood low? Plan: sleep diary.";
        assert_eq!(
            texts(t, 5),
            vec![
                "Slept badly. Work is stressful!",
                "Mood low? Plan: sleep diary."
            ]
        );
        assert_eq!(texts(t, 100), vec![t]);
        assert_eq!(
            texts(t, 2),
            vec![
                "Slept badly.",
                "Work is",
                "stressful!",
                "Mood low?",
                "Plan: sleep",
                "diary."
            ]
        );
    }

    #[test]
    fn decimals_abbreviations_without_space_and_blank_text() {
        assert_eq!(
            texts("PHQ-9 went 12.5 to 9.", 50),
            vec!["PHQ-9 went 12.5 to 9."]
        );
        assert!(passages("", 10).is_empty());
        assert!(passages(" \n\n  \n", 10).is_empty());
    }

    #[test]
    fn every_word_is_kept_once_and_ranges_are_char_boundaries() {
        let t = "Ça va. Élodie a parlé du travail — très stressant!\n\n  Sommeil: 4h. ".repeat(7);
        for n in [1, 3, 8, 40] {
            let ps = passages(&t, n);
            let joined: Vec<&str> = ps
                .iter()
                .flat_map(|r| t[r.clone()].split_whitespace())
                .collect();
            let all: Vec<&str> = t.split_whitespace().collect();
            assert_eq!(joined, all, "max {n}");
            for r in &ps {
                assert!(t[r.clone()].split_whitespace().count() <= n);
            }
        }
    }
}
