//! The candle encoder against reference vectors from PyPI sentence-transformers
//! (`tests/fixtures/reference.json`, made by `bench/make_fixture.sh`): every cosine ≥ 0.999.
//! Needs the model installed (`make setup`); without it this fails saying so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hearth_insight::{cosine, default_models_dir, Embedder, EmbedderOptions, MAX_TOKENS};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    model_sha256: String,
    max_seq_length: usize,
    sentences: Vec<String>,
    tokens: Vec<usize>,
    vectors: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("fixtures/reference.json")).unwrap()
}

fn model(batch: usize) -> Embedder {
    Embedder::load_with(
        &default_models_dir(),
        EmbedderOptions::default().batch(batch),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn embeddings_match_sentence_transformers() {
    let r = reference();
    assert_eq!(r.max_seq_length, MAX_TOKENS);
    let m = model(8);
    assert!(r
        .model_sha256
        .starts_with(m.fingerprint().split('@').nth(1).unwrap()));
    let got = m.embed(&r.sentences).unwrap();
    let mut worst = (1.0f32, 0);
    for (i, (g, want)) in got.iter().zip(&r.vectors).enumerate() {
        assert_eq!(g.len(), 384);
        let norm: f32 = g.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "sentence {i} norm {norm}");
        let c = cosine(g, want);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    eprintln!("worst cosine {:.7} (sentence {})", worst.0, worst.1);
    assert!(
        worst.0 >= 0.999,
        "sentence {} {:?}: cosine {}",
        worst.1,
        r.sentences[worst.1],
        worst.0
    );
}

#[test]
fn word_pieces_and_truncation_match_the_reference_tokenizer() {
    let r = reference();
    let m = model(1);
    let got: Vec<usize> = r
        .sentences
        .iter()
        .map(|s| m.token_count(s).unwrap())
        .collect();
    assert_eq!(got, r.tokens);
    assert_eq!(
        got.iter().max(),
        Some(&MAX_TOKENS),
        "the long text is cut at 256"
    );
}

#[test]
fn batching_and_order_do_not_change_the_vectors() {
    let r = reference();
    let texts = &r.sentences[..10];
    let one = model(1).embed(texts).unwrap();
    let mut reversed: Vec<&String> = texts.iter().collect();
    reversed.reverse();
    let batched = model(8).embed(&reversed).unwrap();
    for (i, v) in one.iter().enumerate() {
        let c = cosine(v, &batched[texts.len() - 1 - i]);
        assert!(c > 0.99999, "text {i}: {c}");
    }
    assert!(model(8).embed::<&str>(&[]).unwrap().is_empty());
}

#[test]
fn a_paraphrase_with_no_shared_words_ranks_first() {
    let m = model(8);
    let query = "sessions where she talked about sleep and work stress";
    let passages = [
        "Discussed grief after her father's death last spring.",
        "Reports insomnia, waking at 3am worrying about deadlines and her manager.",
        "Conflict with partner about finances and childcare.",
        "Panic attacks on the commute, twice this week.",
    ];
    let q = m.embed(&[query]).unwrap();
    let v = m.embed(&passages).unwrap();
    let scores: Vec<f32> = v.iter().map(|p| cosine(&q[0], p)).collect();
    let best = (0..scores.len())
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .unwrap();
    assert_eq!(best, 1, "{scores:?}");
}
