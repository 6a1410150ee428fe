//! The sentence encoder: all-MiniLM-L6-v2 (BERT) on candle, mean pooling, L2 norm.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};

use crate::manifest::{Manifest, ModelEntry};
use crate::{InsightError, Result, ENCODER_ID};

mod bert;

use bert::{Bert, Config};

/// Longest input in word pieces, as sentence-transformers sets for this model (the shipped
/// `tokenizer.json` says 128: it is overridden).
pub const MAX_TOKENS: usize = 256;

/// Texts per forward pass. Small batches of similar length waste little on padding; on two
/// cores larger batches are not faster per text (see the crate's bench).
pub const DEFAULT_BATCH: usize = 8;

/// How an [`Embedder`] runs.
#[derive(Debug, Clone)]
pub struct EmbedderOptions {
    batch: usize,
    max_tokens: usize,
}

impl Default for EmbedderOptions {
    fn default() -> Self {
        Self {
            batch: DEFAULT_BATCH,
            max_tokens: MAX_TOKENS,
        }
    }
}

impl EmbedderOptions {
    /// Texts per forward pass (at least 1).
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Longest input in word pieces, between 3 and [`MAX_TOKENS`] (longer input is cut).
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.max_tokens = n.clamp(3, MAX_TOKENS);
        self
    }
}

/// A loaded sentence encoder. Loading checks every file against the manifest; embedding is
/// read-only, so one `Embedder` can serve several threads.
pub struct Embedder {
    model: Bert,
    tokenizer: Tokenizer,
    opts: EmbedderOptions,
    dimension: usize,
    fingerprint: String,
    load_ms: u128,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model", &self.fingerprint)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

fn load_err(what: impl std::fmt::Display) -> InsightError {
    InsightError::Load {
        model: ENCODER_ID.to_string(),
        what: what.to_string(),
    }
}

impl Embedder {
    /// Load the encoder from `models_dir` (see [`crate::default_models_dir`]) with default
    /// options. Every file is read once, checked (size, SHA-256) and used from that copy.
    pub fn load(models_dir: &Path) -> Result<Self> {
        Self::load_with(models_dir, EmbedderOptions::default())
    }

    /// [`Embedder::load`] with options.
    #[tracing::instrument(skip(opts))]
    pub fn load_with(models_dir: &Path, opts: EmbedderOptions) -> Result<Self> {
        let started = Instant::now();
        let manifest = Manifest::builtin()?;
        let entry: &ModelEntry = manifest.model(ENCODER_ID)?;
        // Cheap files first, so a missing model is reported before 90 MB are hashed.
        let config = entry.read_checked(models_dir, "config.json")?;
        let tokenizer = entry.read_checked(models_dir, "tokenizer.json")?;
        let weights = entry.read_checked(models_dir, "model.safetensors")?;

        let config: Config = serde_json::from_slice(&config).map_err(load_err)?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer).map_err(load_err)?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: opts.max_tokens,
                ..Default::default()
            }))
            .map_err(load_err)?;
        // Padding is done per batch here, to the batch's longest text.
        tokenizer.with_padding(None);

        if config.max_position_embeddings < opts.max_tokens {
            return Err(load_err(format!(
                "the model takes at most {} word pieces",
                config.max_position_embeddings
            )));
        }
        let device = Device::Cpu;
        let model = {
            let vb = VarBuilder::from_slice_safetensors(&weights, DType::F32, &device)?;
            Bert::load(vb, &config)?
        };
        drop(weights);
        let fingerprint = format!(
            "{ENCODER_ID}@{}",
            entry
                .file("model.safetensors")?
                .sha256
                .get(..16)
                .unwrap_or_default()
        );
        let load_ms = started.elapsed().as_millis();
        tracing::debug!(load_ms, "encoder loaded");
        Ok(Self {
            model,
            tokenizer,
            opts,
            dimension: entry.dimension,
            fingerprint,
            load_ms,
        })
    }

    /// Embedding dimension (384).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Model id and a prefix of its weights' SHA-256: stored beside embeddings so vectors
    /// from another model are never compared with these.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// How long loading took (reading, checking, building), in milliseconds.
    pub fn load_millis(&self) -> u128 {
        self.load_ms
    }

    /// Word pieces of `text` as the encoder sees it ([CLS] … [SEP], cut at the maximum).
    pub fn token_count(&self, text: &str) -> Result<usize> {
        Ok(self.encode(text, self.opts.max_tokens)?.len())
    }

    /// The longest input this encoder was loaded for, in word pieces
    /// ([`EmbedderOptions::max_tokens`]); [`Embedder::embed_max`] can cut shorter.
    pub fn max_tokens(&self) -> usize {
        self.opts.max_tokens
    }

    /// Word-piece ids of `text` cut at `max` (3 ≤ `max` ≤ the load-time maximum) the way the
    /// tokenizer's own truncation cuts: the text's pieces are cut, the closing special piece
    /// ([SEP]) is kept.
    fn encode(&self, text: &str, max: usize) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| InsightError::Tokenizer(e.to_string()))?;
        let mut ids = enc.get_ids().to_vec();
        let max = max.clamp(3, self.opts.max_tokens);
        if ids.len() > max {
            let closing = enc.get_special_tokens_mask().last() == Some(&1);
            let last = ids.last().copied();
            ids.truncate(if closing { max - 1 } else { max });
            if closing {
                ids.extend(last);
            }
        }
        Ok(ids)
    }

    /// Unit-length embeddings of `texts`, in order. Texts are sorted by length and run in
    /// batches of [`EmbedderOptions::batch`] texts, packed end to end (no padding); batches run
    /// in parallel on rayon's pool.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.embed_max(texts, self.opts.max_tokens)
    }

    /// [`Embedder::embed`] with each text cut at `max_tokens` word pieces (at most the
    /// load-time [`Embedder::max_tokens`]): the same as an encoder loaded with
    /// [`EmbedderOptions::max_tokens`]`(max_tokens)`, so one loaded encoder serves callers that
    /// cut their input differently (semantic search at 256, the risk heads at the 128 they were
    /// trained with).
    pub fn embed_max<S: AsRef<str>>(
        &self,
        texts: &[S],
        max_tokens: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.encode(t.as_ref(), max_tokens))
            .collect::<Result<_>>()?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        // At most `batch` texts per pass, and the passes a multiple of the threads that run
        // them, of near-equal size: a short list still uses every core.
        let threads = rayon::current_num_threads().max(1);
        let passes = ids.len().div_ceil(self.opts.batch).div_ceil(threads) * threads;
        let passes = passes.min(ids.len()).max(1);
        let (size, extra) = (ids.len() / passes, ids.len() % passes);
        let mut batches: Vec<&[usize]> = Vec::with_capacity(passes);
        let mut rest = order.as_slice();
        for p in 0..passes {
            let (b, r) = rest.split_at(size + usize::from(p < extra));
            if !b.is_empty() {
                batches.push(b);
            }
            rest = r;
        }
        let vecs: Vec<Vec<Vec<f32>>> = batches
            .par_iter()
            .map(|chunk| {
                let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
                self.forward(&batch)
            })
            .collect::<Result<_>>()?;
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); ids.len()];
        for (chunk, vs) in batches.iter().zip(vecs) {
            for (&i, v) in chunk.iter().zip(vs) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One packed batch through BERT, mean-pooled per text and normalised.
    fn forward(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let hidden = self.model.forward(batch)?;
        let lens: Vec<usize> = batch.iter().map(|t| t.len()).collect();
        Ok(bert::mean_pool_normalise(&hidden, &lens)?.to_vec2::<f32>()?)
    }
}
