//! Full-text search over the unlocked vault: an in-memory inverted index, never written to
//! disk, dropped when the vault locks.

use std::collections::{BTreeMap, HashMap};

use hearth_api::SearchHit;
use hearth_records::{
    Attachment, Patient, PsychotherapyNote, RecordKind, SessionNote, TreatmentPlan,
};

use crate::{Hearth, Result};

/// Lower-cased alphanumeric words.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[derive(Debug)]
struct Entry {
    record_id: String,
    kind: &'static str,
    patient_id: String,
    text: String,
    /// Number of words (for length normalisation).
    words: u32,
    live: bool,
}

/// The index: documents, and for each word the documents holding it (ascending) with how
/// often it occurs there.
#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    entries: Vec<Entry>,
    by_record: HashMap<String, u32>,
    postings: BTreeMap<String, Vec<(u32, u32)>>,
    names: HashMap<String, String>,
    dead: usize,
}

impl SearchIndex {
    /// Add or replace a record's text.
    pub(crate) fn upsert(
        &mut self,
        record_id: &str,
        kind: &'static str,
        patient_id: &str,
        text: String,
    ) {
        if let Some(old) = self.by_record.remove(record_id) {
            if let Some(e) = self.entries.get_mut(old as usize) {
                e.live = false;
                e.text = String::new();
                self.dead += 1;
            }
        }
        let Ok(idx) = u32::try_from(self.entries.len()) else {
            return;
        };
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut words = 0u32;
        for t in tokens(&text) {
            *counts.entry(t).or_default() += 1;
            words = words.saturating_add(1);
        }
        for (t, tf) in counts {
            // Entries are appended in order, so each list stays sorted by document.
            self.postings.entry(t).or_default().push((idx, tf));
        }
        self.entries.push(Entry {
            record_id: record_id.to_string(),
            kind,
            patient_id: patient_id.to_string(),
            text,
            words,
            live: true,
        });
        self.by_record.insert(record_id.to_string(), idx);
        if self.dead > 1000 && self.dead * 4 > self.entries.len() {
            self.compact();
        }
    }

    /// Record a patient's name (for results).
    pub(crate) fn set_name(&mut self, patient_id: &str, name: &str) {
        self.names.insert(patient_id.to_string(), name.to_string());
    }

    fn compact(&mut self) {
        let old = std::mem::take(&mut self.entries);
        let names = std::mem::take(&mut self.names);
        *self = SearchIndex {
            names,
            ..Default::default()
        };
        for e in old.into_iter().filter(|e| e.live) {
            self.upsert(&e.record_id, e.kind, &e.patient_id, e.text);
        }
    }

    /// Documents holding every word of the query (the last word may be a prefix), best first.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let words: Vec<String> = tokens(query).collect();
        let Some((last, rest)) = words.split_last() else {
            return Vec::new();
        };
        let mut lists: Vec<Vec<(u32, u32)>> = Vec::with_capacity(words.len());
        for w in rest {
            match self.postings.get(w) {
                Some(l) => lists.push(l.clone()),
                None => return Vec::new(),
            }
        }
        // The last word as a prefix (search as you type): the matching lists merged.
        let mut prefix: Vec<(u32, u32)> = self
            .postings
            .range(last.clone()..)
            .take_while(|(k, _)| k.starts_with(last.as_str()))
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        prefix.sort_unstable_by_key(|(d, _)| *d);
        prefix.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 += b.1;
                true
            } else {
                false
            }
        });
        lists.push(prefix);
        lists.sort_by_key(Vec::len);
        let mut hits: Vec<(u32, u32)> = lists.first().cloned().unwrap_or_default();
        for l in &lists[1..] {
            hits.retain_mut(|(d, tf)| match l.binary_search_by_key(d, |(doc, _)| *doc) {
                Ok(k) => {
                    *tf += l[k].1;
                    true
                }
                Err(_) => false,
            });
            if hits.is_empty() {
                break;
            }
        }
        let mut scored: Vec<(f32, u32)> = hits
            .into_iter()
            .filter_map(|(d, tf)| {
                let e = self.entries.get(d as usize).filter(|e| e.live)?;
                Some((tf as f32 / (1.0 + (e.words.max(1) as f32).ln()), d))
            })
            .collect();
        let by_score = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scored.len() > limit && limit > 0 {
            scored.select_nth_unstable_by(limit - 1, by_score);
            scored.truncate(limit);
        }
        scored.sort_by(by_score);
        scored.truncate(limit);
        scored
            .into_iter()
            .filter_map(|(score, d)| {
                let e = self.entries.get(d as usize)?;
                Some(SearchHit {
                    record_id: e.record_id.clone(),
                    kind: e.kind.to_string(),
                    patient_id: e.patient_id.clone(),
                    patient_name: self.names.get(&e.patient_id).cloned().unwrap_or_default(),
                    snippet: snippet(&e.text, &e.text.to_lowercase(), &words),
                    score,
                })
            })
            .collect()
    }

    /// Number of live documents.
    pub(crate) fn len(&self) -> usize {
        self.entries.len() - self.dead
    }
}

/// About 160 characters around the first matching word.
fn snippet(text: &str, lower: &str, words: &[String]) -> String {
    let at = words
        .iter()
        .filter_map(|w| lower.find(w.as_str()))
        .min()
        .unwrap_or(0);
    // `lower` and `text` can differ in byte length for some scripts: clamp to a boundary.
    let mut start = at.saturating_sub(60).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let s: String = text[start..].chars().take(160).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if start > 0 {
        format!("…{s}")
    } else {
        s
    }
}

/// The consent category of an indexed kind.
fn category_of(kind: &str) -> Option<hearth_records::Category> {
    [
        (Patient::KIND, Patient::CATEGORY),
        (SessionNote::KIND, SessionNote::CATEGORY),
        (PsychotherapyNote::KIND, PsychotherapyNote::CATEGORY),
        (TreatmentPlan::KIND, TreatmentPlan::CATEGORY),
        (Attachment::KIND, Attachment::CATEGORY),
    ]
    .into_iter()
    .find(|(k, _)| *k == kind)
    .map(|(_, c)| c)
}

impl Hearth {
    fn index_kind<T: RecordKind>(&self, index: &mut SearchIndex) -> Result<()> {
        for (id, p) in self.list_records::<T>(None)? {
            if let Ok(p) = p {
                let pid = p.value.patient_id().unwrap_or(&id).to_string();
                index.upsert(&id, T::KIND, &pid, p.value.search_text());
            }
        }
        Ok(())
    }

    /// Build the index from every searchable record (done once per unlock).
    pub(crate) fn build_index(&self) -> Result<SearchIndex> {
        let mut index = SearchIndex::default();
        for (id, p) in self.list_records::<Patient>(None)? {
            if let Ok(p) = p {
                index.set_name(&id, &p.value.name);
                index.upsert(&id, Patient::KIND, &id, p.value.search_text());
            }
        }
        self.index_kind::<SessionNote>(&mut index)?;
        self.index_kind::<PsychotherapyNote>(&mut index)?;
        self.index_kind::<TreatmentPlan>(&mut index)?;
        self.index_kind::<Attachment>(&mut index)?;
        Ok(index)
    }

    /// Full-text search over patients, notes, plans and attachment names. The first search
    /// after unlocking builds the index in memory (see [`Hearth::warm_search`]).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        if self.is_locked() {
            return Err(hearth_vault::VaultError::Locked.into());
        }
        let mut slot = self.index_slot();
        if slot.is_none() {
            drop(slot);
            let built = self.build_index()?;
            slot = self.index_slot();
            if slot.is_none() {
                *slot = Some(built);
            }
        }
        // Rank more than asked, then drop what consent hides from this device.
        let hits = slot
            .as_ref()
            .map(|i| i.search(query, limit.saturating_mul(4).max(limit)))
            .unwrap_or_default();
        drop(slot);
        let mut filter = crate::consent::ReadFilter::new(self);
        let mut out = Vec::with_capacity(limit.min(hits.len()));
        for hit in hits {
            if out.len() >= limit {
                break;
            }
            let Some(category) = category_of(&hit.kind) else {
                continue;
            };
            let author = hit.kind == PsychotherapyNote::KIND
                && self.is_author::<PsychotherapyNote>(&hit.record_id)?;
            if filter.allows(&hit.patient_id, category, author)? {
                out.push(hit);
            }
        }
        Ok(out)
    }

    /// Build the search index now (e.g. in the background right after unlocking).
    pub fn warm_search(&self) -> Result<usize> {
        self.search("", 0)?;
        Ok(self.index_slot().as_ref().map_or(0, SearchIndex::len))
    }

    /// For benchmarks: every searchable record's text, lower-cased (a linear-scan baseline).
    #[doc(hidden)]
    pub fn debug_all_search_text(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (_, p) in self.list_records::<SessionNote>(None)? {
            if let Ok(p) = p {
                out.push(p.value.search_text().to_lowercase());
            }
        }
        Ok(out)
    }

    /// For benchmarks: how many records of `kind` open (decryption only, no parsing).
    #[doc(hidden)]
    pub fn debug_open_all_count(&self, kind: &str) -> Result<usize> {
        Ok(self
            .vault()
            .open_all(kind)?
            .into_iter()
            .filter(|(_, r)| r.is_ok())
            .count())
    }

    /// Keep the index current after a write.
    pub(crate) fn reindex<T: RecordKind>(&self, id: &str, value: &T) {
        if let Some(index) = self.index_slot().as_mut() {
            let pid = value.patient_id().unwrap_or(id).to_string();
            index.upsert(id, T::KIND, &pid, value.search_text());
            if let Some(p) = (value as &dyn std::any::Any).downcast_ref::<Patient>() {
                index.set_name(id, &p.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_prefixes_and_replacement() {
        let mut i = SearchIndex::default();
        i.set_name("p1", "Ada");
        i.upsert(
            "n1",
            "session-note",
            "p1",
            "Talked about sleep and work stress.".into(),
        );
        i.upsert(
            "n2",
            "session-note",
            "p1",
            "Work was fine; sleeping well.".into(),
        );
        i.upsert("n3", "session-note", "p2", "Family visit.".into());
        fn ids_in(i: &SearchIndex, q: &str) -> Vec<String> {
            let mut v: Vec<String> = i.search(q, 10).into_iter().map(|h| h.record_id).collect();
            v.sort();
            v
        }
        let ids = |q: &str| ids_in(&i, q);
        assert_eq!(ids("sleep work"), vec!["n1"]);
        assert_eq!(ids("work slee"), vec!["n1", "n2"]);
        assert_eq!(ids("WORK"), vec!["n1", "n2"]);
        assert!(ids("absent").is_empty());
        assert!(ids("").is_empty());
        assert_eq!(i.search("family", 10)[0].patient_id, "p2");
        assert_eq!(i.search("stress", 10)[0].patient_name, "Ada");
        i.upsert("n1", "session-note", "p1", "Now about holidays.".into());
        assert_eq!(ids_in(&i, "sleep work"), Vec::<String>::new());
        assert_eq!(ids_in(&i, "holidays"), vec!["n1"]);
        assert_eq!(i.len(), 3);
    }

    #[test]
    fn snippets_cut_on_character_boundaries() {
        let text = format!("{}İstanbul trip", "é".repeat(100));
        let lower = text.to_lowercase();
        let s = snippet(&text, &lower, &["trip".to_string()]);
        assert!(s.contains("trip"));
    }
}
