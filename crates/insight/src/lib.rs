//! On-device AI for Hearth: sentence embeddings with all-MiniLM-L6-v2 on candle (CPU), the
//! passages a note is cut into, and the similarity arithmetic semantic search ranks with.
//!
//! Nothing here does IO beyond reading the model's files: no network, no model hub. The files
//! come from the registry package named in `models/manifest.json` (installed by `make setup`),
//! and [`Embedder::load`] checks every file's size and SHA-256 against that manifest — compiled
//! into this crate, so a swapped file is refused — before using it. A missing or damaged model
//! is an [`InsightError`] that says what is wrong and to run `make setup`, never a panic.
//!
//! The embeddings match sentence-transformers (BERT, mean pooling over the attention mask, L2
//! normalisation, at most 256 word pieces): the crate's tests compare against reference
//! vectors made by PyPI sentence-transformers (`tests/fixtures/reference.json`).
//!
//! ```no_run
//! use hearth_insight::{default_models_dir, passages, Embedder};
//! # fn main() -> Result<(), hearth_insight::InsightError> {
//! let model = Embedder::load(&default_models_dir())?;
//! let note = "Reports poor sleep. Work stress is high since the merger.";
//! let parts = passages(note, 48);
//! let texts: Vec<&str> = parts.iter().map(|p| &note[p.clone()]).collect();
//! let vectors = model.embed(&texts)?;
//! let query = model.embed(&["trouble sleeping"])?;
//! let best = hearth_insight::dot(&query[0], &vectors[0]);
//! assert!(best > 0.3);
//! # Ok(()) }
//! ```

mod embed;
mod error;
mod manifest;
mod passages;
pub mod risk;

pub use embed::{Embedder, EmbedderOptions, DEFAULT_BATCH, MAX_TOKENS};
pub use error::InsightError;
pub use manifest::{default_models_dir, Manifest, ModelEntry, ModelFile, MODELS_DIR_ENV};
pub use passages::passages;

/// Shorthand.
pub type Result<T, E = InsightError> = std::result::Result<T, E>;

/// Id of the sentence encoder in `models/manifest.json`.
pub const ENCODER_ID: &str = "all-minilm-l6-v2";

/// Dot product; for the unit vectors [`Embedder::embed`] returns, the cosine similarity.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Cosine similarity of any two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let na = dot(a, a).sqrt();
    let nb = dot(b, b).sqrt();
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    dot(a, b) / (na * nb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_orthogonal_and_zero_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
        assert!((dot(&[0.6, 0.8], &[0.6, 0.8]) - 1.0).abs() < 1e-6);
    }
}
