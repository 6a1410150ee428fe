//! Embedding throughput on 115-token notes at batch 1 and 8 (release: `cargo bench -p
//! hearth-insight`), with PyPI sentence-transformers on the same texts in the same run when its
//! venv exists (`bench/venv.sh`; set HEARTH_ST_PYTHON to another interpreter, or to `none`).
//!
//! On a shared machine the load changes while a bench runs, so the two engines are measured in
//! alternation: [`ROUNDS`] rounds, each timing both engines for [`SECONDS`] at batch 1 and then
//! at batch 8, the first engine alternating between rounds. PyTorch stays loaded in one Python
//! process (`bench/torch_baseline.py`, driven over stdin/stdout), so its start-up is never
//! timed. The ratio reported is the median of the rounds' ratios, with their range, and the
//! same over the quiet rounds alone: on Linux each figure shows the share of CPU time other
//! processes took while it was measured (PyTorch's OpenMP threads slow down far more than
//! candle's when another process holds a core, so loaded rounds are not comparable with quiet
//! ones).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use hearth_insight::{default_models_dir, Embedder, EmbedderOptions};
use serde_json::{json, Value};

const TOKENS: usize = 115;
const NOTES: usize = 48;
/// Rounds of (candle, PyTorch) pairs.
const ROUNDS: usize = 5;
/// Time per engine and batch size in a round (whole passes over the texts, at least this).
const SECONDS: f64 = 1.5;
/// A round is quiet when other processes took less than this share of the CPU time while
/// each engine ran.
const QUIET: f64 = 0.10;
/// (batch size, notes per pass).
const BATCHES: [(usize, usize); 2] = [(1, 16), (8, NOTES)];

const SENTENCES: &[&str] = &[
    "Client reports sleeping four to five hours a night since the restructuring at work.",
    "She describes waking at three and rehearsing conversations with her manager.",
    "Mood low most days this week; enjoyed a walk with her sister on Sunday.",
    "PHQ-9 total 14, moderate; item 9 scored 0 and she denies thoughts of self-harm.",
    "GAD-7 decreased from 12 to 9 since the last session.",
    "We reviewed the thought records; catastrophising about deadlines was the main theme.",
    "Practised paced breathing in session and planned two pleasant activities.",
    "Discussed the anniversary of her father's death and how grief shows up at work.",
    "Conflict with her partner about childcare has eased after they agreed a rota.",
    "Plan: continue behavioural activation, sleep diary, review in two weeks.",
    "She was tearful when talking about her son's school difficulties.",
    "Appetite reduced; she skips lunch on busy days and drinks more coffee.",
];

fn notes() -> Vec<String> {
    // Each note: sentences from a different starting point, longer than 115 word pieces; the
    // encoder cuts every note at exactly 115 (so both engines see the same lengths).
    (0..NOTES)
        .map(|i| {
            (0..12)
                .map(|k| SENTENCES[(i * 5 + k * 7) % SENTENCES.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Notes/s embedding `texts` again and again until [`SECONDS`] have passed.
fn candle_rate(m: &Embedder, texts: &[String]) -> f64 {
    let t = Instant::now();
    let mut done = 0;
    loop {
        m.embed(texts).unwrap();
        done += texts.len();
        let elapsed = t.elapsed().as_secs_f64();
        if elapsed >= SECONDS {
            return done as f64 / elapsed;
        }
    }
}

/// The interpreter of the PyTorch baseline, or why there is none.
fn python() -> Result<PathBuf, String> {
    match std::env::var("HEARTH_ST_PYTHON") {
        Ok(p) if p == "none" => Err("HEARTH_ST_PYTHON=none".into()),
        Ok(p) => Ok(PathBuf::from(p)),
        Err(_) => {
            let home = std::env::var("HOME").map_err(|_| "HOME is not set".to_string())?;
            let p = PathBuf::from(home).join(".cache/hearth/st-venv/bin/python");
            if p.exists() {
                Ok(p)
            } else {
                Err(format!(
                    "no venv at {}: run bench/venv.sh to make it, or set HEARTH_ST_PYTHON",
                    p.display()
                ))
            }
        }
    }
}

/// sentence-transformers in a long-lived Python process (`bench/torch_baseline.py`).
struct Torch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: std::fs::File,
    /// Library versions and threads, from its first reply.
    about: String,
}

impl Torch {
    /// Start the process and load the model with `texts`; start-up is not timed by the rounds.
    fn start(py: &PathBuf, texts: &[String]) -> Result<Self, String> {
        let script = PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
        )
        .join("../../bench/torch_baseline.py");
        let stderr = tempfile::tempfile().unwrap();
        let mut child = Command::new(py)
            .arg(&script)
            .arg(TOKENS.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone().unwrap())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", py.display()))?;
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut torch = Self {
            child,
            stdin,
            stdout,
            stderr,
            about: String::new(),
        };
        let v = torch.ask(&json!({ "texts": texts }))?;
        torch.about = format!(
            "sentence-transformers {}, torch {}, {} threads; loaded in {:.0} ms, not timed",
            v["st"].as_str().unwrap_or("?"),
            v["torch"].as_str().unwrap_or("?"),
            v["threads"],
            v["load_ms"].as_f64().unwrap_or(f64::NAN)
        );
        Ok(torch)
    }

    /// Notes/s at `batch` on the first `count` texts, for [`SECONDS`].
    fn rate(&mut self, batch: usize, count: usize) -> Result<f64, String> {
        let v = self.ask(&json!({ "batch": batch, "count": count, "seconds": SECONDS }))?;
        v["notes_per_s"]
            .as_f64()
            .ok_or_else(|| format!("unexpected reply {v}"))
    }

    fn ask(&mut self, req: &Value) -> Result<Value, String> {
        let mut line = String::new();
        let sent = writeln!(self.stdin, "{req}").and_then(|()| self.stdin.flush());
        if sent.is_ok() && self.stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
            if let Ok(v) = serde_json::from_str(&line) {
                return Ok(v);
            }
        }
        Err(format!("it stopped answering: {}", self.stderr_tail()))
    }

    /// The last lines the process wrote on stderr (its traceback, if it failed).
    fn stderr_tail(&mut self) -> String {
        let _ = self.child.try_wait();
        let mut text = String::new();
        let _ = self.stderr.rewind();
        let _ = self.stderr.read_to_string(&mut text);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n    ")
    }
}

impl Drop for Torch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time from `/proc` (Linux), to show how busy the rest of the machine was while each
/// engine ran: the share of all CPU time that went neither to this bench nor to its Python
/// process. None elsewhere.
#[derive(Clone, Copy)]
struct CpuTicks {
    busy: u64,
    total: u64,
    ours: u64,
}

impl CpuTicks {
    fn now(child: Option<u32>) -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
        let total: u64 = cpu.iter().take(8).sum();
        let busy = total - cpu.get(3)? - cpu.get(4)?;
        let proc_ticks = |pid: &str| -> Option<u64> {
            let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let f: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
            // utime and stime: fields 14 and 15, the 12th and 13th after the command.
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        };
        let ours =
            proc_ticks("self")? + child.and_then(|c| proc_ticks(&c.to_string())).unwrap_or(0);
        Some(Self { busy, total, ours })
    }

    /// Share of the machine's CPU time, from `self` to `later`, used by other processes.
    fn others_since(self, later: Option<Self>) -> Option<f64> {
        let l = later?;
        let total = l.total.checked_sub(self.total)?.max(1);
        let others = (l.busy - self.busy).saturating_sub(l.ours - self.ours);
        Some(others as f64 / total as f64)
    }
}

/// Run `f`, and measure the share of CPU time other processes took meanwhile.
fn metered<T>(child: Option<u32>, f: impl FnOnce() -> T) -> (T, Option<f64>) {
    let before = CpuTicks::now(child);
    let out = f();
    (
        out,
        before.and_then(|b| b.others_since(CpuTicks::now(child))),
    )
}

/// ` (others 12%)`, or nothing when unknown.
fn others(share: Option<f64>) -> String {
    share
        .map(|o| format!(" (others {:2.0}%)", o * 100.0))
        .unwrap_or_default()
}

/// Median and range of `xs`.
fn summary(xs: &[f64]) -> (f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

fn main() {
    let dir = default_models_dir();
    let texts = notes();
    let load = Instant::now();
    let m1 = Embedder::load_with(&dir, EmbedderOptions::default().batch(1).max_tokens(TOKENS))
        .unwrap_or_else(|e| panic!("{e}"));
    let load_ms = load.elapsed().as_secs_f64() * 1e3;
    let m8 = Embedder::load_with(&dir, EmbedderOptions::default().batch(8).max_tokens(TOKENS))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(texts.iter().all(|t| m1.token_count(t).unwrap() == TOKENS));
    let models = [&m1, &m8];
    for m in models {
        m.embed(&texts[..8]).unwrap(); // warm up
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("embedding bench: {NOTES} notes of {TOKENS} word pieces, all-MiniLM-L6-v2, {threads} CPU threads");
    println!("  candle model load (read + SHA-256 + build): {load_ms:.0} ms");

    let mut torch = match python().and_then(|py| Torch::start(&py, &texts)) {
        Ok(t) => {
            println!("  PyTorch: {}", t.about);
            Some(t)
        }
        Err(e) => {
            println!("  PyTorch baseline skipped ({e}); candle only");
            None
        }
    };
    println!(
        "  {ROUNDS} rounds of ~{SECONDS} s per engine and batch size{}; \"others\": share of CPU \
         time other processes took meanwhile",
        if torch.is_some() {
            ", the engines alternating (candle first in odd rounds)"
        } else {
            ""
        }
    );

    // [batch index] → per-round notes/s.
    let mut candle: [Vec<f64>; 2] = Default::default();
    let mut pytorch: [Vec<f64>; 2] = Default::default();
    // Per-round ratios of rounds that were quiet for both engines.
    let mut quiet: [Vec<f64>; 2] = Default::default();
    for round in 0..ROUNDS {
        for (k, &(batch, count)) in BATCHES.iter().enumerate() {
            let part = &texts[..count];
            let child = torch.as_ref().map(|t| t.child.id());
            let run_candle = || metered(child, || candle_rate(models[k], part));
            let mut c = None;
            if round % 2 == 0 || torch.is_none() {
                c = Some(run_candle());
            }
            let t = torch
                .as_mut()
                .map(|t| metered(child, || t.rate(batch, count)));
            let (c, c_others) = c.unwrap_or_else(run_candle);
            candle[k].push(c);
            let label = if k == 0 {
                format!("  round {}", round + 1)
            } else {
                String::new()
            };
            let candle_line = format!(
                "{label:<10} batch {batch}: candle {c:6.1} notes/s{}",
                others(c_others)
            );
            match t {
                None => println!("{candle_line}"),
                Some((Ok(t), t_others)) => {
                    pytorch[k].push(t);
                    if c_others
                        .zip(t_others)
                        .is_some_and(|(a, b)| a.max(b) < QUIET)
                    {
                        quiet[k].push(c / t);
                    }
                    println!(
                        "{candle_line}, PyTorch {t:6.1} notes/s{}, candle ÷ PyTorch {:.2}×",
                        others(t_others),
                        c / t
                    );
                }
                Some((Err(e), _)) => {
                    println!("  PyTorch baseline failed ({e}); candle only from here");
                    torch = None;
                    println!("{candle_line}");
                }
            }
        }
    }

    println!("  median over rounds (range):");
    for (k, &(batch, _)) in BATCHES.iter().enumerate() {
        let (c, c_lo, c_hi) = summary(&candle[k]);
        println!("    candle  batch {batch}: {c:6.1} notes/s ({c_lo:.1}–{c_hi:.1})");
        // Only rounds where both engines ran (PyTorch may have failed part way).
        let n = pytorch[k].len();
        if n == 0 {
            continue;
        }
        let (t, t_lo, t_hi) = summary(&pytorch[k]);
        println!("    PyTorch batch {batch}: {t:6.1} notes/s ({t_lo:.1}–{t_hi:.1})");
    }
    for (k, &(batch, _)) in BATCHES.iter().enumerate() {
        let n = pytorch[k].len();
        if n == 0 {
            continue;
        }
        let ratios: Vec<f64> = candle[k][..n]
            .iter()
            .zip(&pytorch[k])
            .map(|(c, t)| c / t)
            .collect();
        let (r, lo, hi) = summary(&ratios);
        println!(
            "  candle ÷ PyTorch batch {batch}: median {r:.2}× (range {lo:.2}–{hi:.2}× over {n} rounds)"
        );
        if !quiet[k].is_empty() {
            let (r, lo, hi) = summary(&quiet[k]);
            println!(
                "    quiet rounds only (others < {:.0}%): median {r:.2}× (range {lo:.2}–{hi:.2}× over {} rounds)",
                QUIET * 100.0,
                quiet[k].len()
            );
        }
    }
}
