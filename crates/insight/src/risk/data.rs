//! The research datasets the risk heads are trained and evaluated on, and their exact splits.
//!
//! The data lives outside the repository (`../shared/data/risk/…`, or the folder named by
//! [`DATA_ENV`]); nothing here copies it or prints its text. Splits are deterministic (a fixed
//! seed hashed with each text) and honest:
//! - DepSign (LT-EDI 2022): the upstream train file is missing, so `dev.tsv` is the training
//!   pool (cut 80/20 into train and dev, stratified) and `test.tsv` the held-out test. Exact
//!   duplicates inside a file and texts that occur in both files are dropped from the pool.
//! - SDCNL: `training-set.csv` cut 80/20 into train/dev, `testing-set.csv` held out.
//! - C-SSRS (Gaur et al. 2019): evaluation only (cross-dataset), labels per user.
//! - SAD (MIT): everyday stressor sentences, cut 60/20/20; used as extra negatives for the
//!   suicidal-ideation head.
//!
//! No text (after whitespace and case folding) is in two splits, across all datasets: a text
//! that is in any held-out split is removed from every training and dev split.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Environment variable naming the data folder (the one holding `risk/`).
pub const DATA_ENV: &str = "HEARTH_RISK_DATA";

/// The seed every split is made with.
pub const SPLIT_SEED: u64 = 20_221_127;

/// Which part of a dataset a text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    /// Fitting the heads.
    Train,
    /// Calibration and the threshold.
    Dev,
    /// Held out; only for the figures.
    Test,
}

/// The dataset a text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// DepSign: signs of depression (not / moderate / severe).
    DepSign,
    /// SDCNL: r/SuicideWatch (1) vs r/depression (0).
    Sdcnl,
    /// C-SSRS users (Gaur 2019), per-user level.
    Cssrs,
    /// SAD stressor sentences.
    Sad,
}

/// One labelled text.
#[derive(Debug, Clone)]
pub struct Example {
    /// Dataset.
    pub source: Source,
    /// Split.
    pub split: Split,
    /// The text (never printed).
    pub text: String,
    /// Dataset label: DepSign 0 not / 1 moderate / 2 severe; SDCNL 0/1; C-SSRS 0 Supportive,
    /// 1 Indicator, 2 Ideation, 3 Behavior, 4 Attempt; SAD 0.
    pub label: u8,
    /// C-SSRS: the user (posts of one user share it); else the row index.
    pub group: usize,
}

/// What went wrong reading the data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The data folder or a file is not there.
    #[error("research data not found at {}: {what}; set {DATA_ENV} to the folder holding risk/ (see ../shared/data/README.md)", dir.display())]
    Missing {
        /// Folder searched.
        dir: PathBuf,
        /// What is missing.
        what: String,
    },
    /// A file is not in the expected shape.
    #[error("{}: {what}; the research data is not the release the training script expects", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// The data folder: `$HEARTH_RISK_DATA`, else `../shared/data` next to the repository.
pub fn default_data_dir() -> PathBuf {
    match std::env::var_os(DATA_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// Whether `dir` holds the research data (its `risk/` folder).
pub fn data_present(dir: &Path) -> bool {
    dir.join("risk/depsign/test.tsv").is_file()
}

/// Whitespace- and case-folded text, the key for duplicates.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn text_key(text: &str) -> [u8; 32] {
    Sha256::digest(normalise(text).as_bytes()).into()
}

/// A deterministic number in [0, 1) from the seed and a text (splitmix-style over SHA-256).
fn unit(seed: u64, text: &str) -> f64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(normalise(text).as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Parse delimited text (RFC 4180 quoting, as Python's `csv` reads it: a quote opens a
/// quoted field only at its start; `""` inside is a quote; newlines may be quoted).
pub fn parse_delimited(input: &str, delim: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut at_start = true;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            c if c == delim => {
                row.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The posts in a Python list literal of strings (`['a', "b's"]`), as the C-SSRS release
/// stores a user's posts.
pub fn parse_py_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let q = c;
        let mut cur = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some(o) => cur.push(o),
                    None => break,
                },
                c if c == q => break,
                c => cur.push(c),
            }
        }
        out.push(cur);
    }
    out
}

fn read(dir: &Path, rel: &str) -> Result<String, DataError> {
    let path = dir.join("risk").join(rel);
    std::fs::read_to_string(&path).map_err(|e| DataError::Missing {
        dir: dir.to_path_buf(),
        what: format!("{rel} ({e})"),
    })
}

fn table(dir: &Path, rel: &str, delim: char, cols: &[&str]) -> Result<Vec<Vec<String>>, DataError> {
    let rows = parse_delimited(&read(dir, rel)?, delim);
    let path = dir.join("risk").join(rel);
    let (head, body) = rows.split_first().ok_or_else(|| DataError::Format {
        path: path.clone(),
        what: "empty".into(),
    })?;
    let idx: Vec<usize> = cols
        .iter()
        .map(|c| {
            head.iter()
                .position(|h| h.trim() == *c)
                .ok_or_else(|| DataError::Format {
                    path: path.clone(),
                    what: format!("no column {c}"),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(body
        .iter()
        .filter(|r| r.len() == head.len())
        .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
        .collect())
}

fn depsign_label(s: &str) -> Option<u8> {
    match s.trim() {
        "not depression" => Some(0),
        "moderate" => Some(1),
        "severe" => Some(2),
        _ => None,
    }
}

fn cssrs_label(s: &str) -> Option<u8> {
    match s.trim() {
        "Supportive" => Some(0),
        "Indicator" => Some(1),
        "Ideation" => Some(2),
        "Behavior" => Some(3),
        "Attempt" => Some(4),
        _ => None,
    }
}

/// How many C-SSRS posts per user are kept (the first ones; embedding all 9,099 long posts
/// on two cores takes too long for a figure that is per user anyway).
pub const CSSRS_POSTS_PER_USER: usize = 4;

/// Stratified cut of a pool into train/dev by a seeded hash: `dev_frac` of each label to dev.
fn cut(pool: &mut [Example], dev_frac: f64, seed: u64) {
    let mut by_label: HashMap<u8, Vec<usize>> = HashMap::new();
    for (i, e) in pool.iter().enumerate() {
        by_label.entry(e.label).or_default().push(i);
    }
    for (_, mut idx) in by_label {
        idx.sort_by(|&a, &b| unit(seed, &pool[a].text).total_cmp(&unit(seed, &pool[b].text)));
        let n_dev = (idx.len() as f64 * dev_frac).round() as usize;
        for (k, &i) in idx.iter().enumerate() {
            pool[i].split = if k < n_dev { Split::Dev } else { Split::Train };
        }
    }
}

/// Every example, split. Fails if a file is missing or malformed.
pub fn load(dir: &Path) -> Result<Vec<Example>, DataError> {
    if !dir.join("risk").is_dir() {
        return Err(DataError::Missing {
            dir: dir.to_path_buf(),
            what: "no risk/ folder".into(),
        });
    }
    // Held-out texts first: whatever is in a test split leaves every other split.
    let mut test: Vec<Example> = Vec::new();
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    for (i, r) in table(
        dir,
        "depsign/test.tsv",
        '\t',
        &["text data", "Class labels"],
    )?
    .into_iter()
    .enumerate()
    {
        if let Some(label) = depsign_label(&r[1]) {
            if seen.insert(text_key(&r[0])) {
                test.push(Example {
                    source: Source::DepSign,
                    split: Split::Test,
                    text: r[0].clone(),
                    label,
                    group: i,
                });
            }
        }
    }
    for (i, r) in table(
        dir,
        "sdcnl/testing-set.csv",
        ',',
        &["title", "selftext", "is_suicide"],
    )?
    .into_iter()
    .enumerate()
    {
        let text = format!("{}. {}", r[0].trim(), r[1].trim());
        let label = u8::from(r[2].trim() == "1");
        if seen.insert(text_key(&text)) {
            test.push(Example {
                source: Source::Sdcnl,
                split: Split::Test,
                text,
                label,
                group: i,
            });
        }
    }
    for (u, r) in table(
        dir,
        "cssrs_gaur2019/500_Reddit_users_posts_labels.csv",
        ',',
        &["Post", "Label"],
    )?
    .into_iter()
    .enumerate()
    {
        let Some(label) = cssrs_label(&r[1]) else {
            continue;
        };
        for post in parse_py_list(&r[0])
            .into_iter()
            .filter(|p| p.split_whitespace().count() >= 3)
            .take(CSSRS_POSTS_PER_USER)
        {
            if seen.insert(text_key(&post)) {
                test.push(Example {
                    source: Source::Cssrs,
                    split: Split::Test,
                    text: post,
                    label,
                    group: u,
                });
            }
        }
    }
    // SAD: one cut into train/dev/test by hash.
    let mut sad_pool = Vec::new();
    for (i, r) in table(dir, "sad_stress/SAD_v1.csv", ',', &["sentence"])?
        .into_iter()
        .enumerate()
    {
        let u = unit(SPLIT_SEED ^ 0x5AD, &r[0]);
        let e = Example {
            source: Source::Sad,
            split: Split::Train,
            text: r[0].clone(),
            label: 0,
            group: i,
        };
        if u >= 0.8 {
            if seen.insert(text_key(&e.text)) {
                test.push(Example {
                    split: Split::Test,
                    ..e
                });
            }
        } else {
            sad_pool.push((u, e));
        }
    }

    // Training pools: dedupe, drop held-out texts, cut train/dev.
    let mut pool_seen: HashSet<[u8; 32]> = HashSet::new();
    let mut keep = |text: &str| {
        let k = text_key(text);
        !seen.contains(&k) && pool_seen.insert(k)
    };
    let mut depsign = Vec::new();
    for (i, r) in table(dir, "depsign/dev.tsv", '\t', &["Text data", "Label"])?
        .into_iter()
        .enumerate()
    {
        if let Some(label) = depsign_label(&r[1]) {
            if keep(&r[0]) {
                depsign.push(Example {
                    source: Source::DepSign,
                    split: Split::Train,
                    text: r[0].clone(),
                    label,
                    group: i,
                });
            }
        }
    }
    let mut sdcnl = Vec::new();
    for (i, r) in table(
        dir,
        "sdcnl/training-set.csv",
        ',',
        &["title", "selftext", "is_suicide"],
    )?
    .into_iter()
    .enumerate()
    {
        let text = format!("{}. {}", r[0].trim(), r[1].trim());
        if keep(&text) {
            sdcnl.push(Example {
                source: Source::Sdcnl,
                split: Split::Train,
                text,
                label: u8::from(r[2].trim() == "1"),
                group: i,
            });
        }
    }
    let mut sad = Vec::new();
    for (u, e) in sad_pool {
        if keep(&e.text) {
            let split = if u < 0.6 { Split::Train } else { Split::Dev };
            sad.push(Example { split, ..e });
        }
    }
    cut(&mut depsign, 0.2, SPLIT_SEED);
    cut(&mut sdcnl, 0.2, SPLIT_SEED);
    let mut all = depsign;
    all.extend(sdcnl);
    all.extend(sad);
    all.extend(test);
    Ok(all)
}

/// Texts per class in the fixed held-out subsample the tests recompute (DepSign test: not /
/// moderate / severe; SDCNL test: 0 / 1).
pub const SAMPLE_PER_CLASS: usize = 30;

/// The fixed stratified subsample of the held-out test splits (DepSign and SDCNL) that the
/// held-out test recomputes: [`SAMPLE_PER_CLASS`] texts per class, the first by a seeded hash.
pub fn heldout_sample(examples: &[Example]) -> Vec<&Example> {
    let mut out = Vec::new();
    for (source, classes) in [(Source::DepSign, 3u8), (Source::Sdcnl, 2)] {
        for c in 0..classes {
            let mut pool: Vec<&Example> = examples
                .iter()
                .filter(|e| e.source == source && e.split == Split::Test && e.label == c)
                .collect();
            pool.sort_by(|a, b| {
                unit(SPLIT_SEED ^ 0x7E57, &a.text).total_cmp(&unit(SPLIT_SEED ^ 0x7E57, &b.text))
            });
            out.extend(pool.into_iter().take(SAMPLE_PER_CLASS));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimited_quotes_newlines_and_tabs() {
        let rows = parse_delimited("a,b\n\"x, \"\"y\"\"\nz\",2\r\nplain,3\n", ',');
        assert_eq!(
            rows,
            vec![
                vec!["a".to_string(), "b".into()],
                vec!["x, \"y\"\nz".into(), "2".into()],
                vec!["plain".into(), "3".into()],
            ]
        );
        assert_eq!(
            parse_delimited("p\tt\tl\n1\tsaid \"hi\"\tx", '\t')[1][1],
            "said \"hi\""
        );
    }

    #[test]
    fn python_list_of_posts() {
        assert_eq!(
            parse_py_list(r#"['one post', "it's two", 'a \'q\' b']"#),
            vec!["one post", "it's two", "a 'q' b"]
        );
        assert!(parse_py_list("[]").is_empty());
    }

    #[test]
    fn stratified_cut_is_deterministic_and_proportional() {
        let mut pool: Vec<Example> = (0..100)
            .map(|i| Example {
                source: Source::Sdcnl,
                split: Split::Train,
                text: format!("text {i}"),
                label: (i % 2) as u8,
                group: i,
            })
            .collect();
        cut(&mut pool, 0.2, 7);
        let dev: Vec<usize> = pool
            .iter()
            .filter(|e| e.split == Split::Dev)
            .map(|e| e.group)
            .collect();
        assert_eq!(dev.len(), 20);
        assert_eq!(
            dev.iter().filter(|&&g| g % 2 == 0).count(),
            10,
            "stratified"
        );
        cut(&mut pool, 0.2, 7);
        let again: Vec<usize> = pool
            .iter()
            .filter(|e| e.split == Split::Dev)
            .map(|e| e.group)
            .collect();
        assert_eq!(dev, again);
    }
}
