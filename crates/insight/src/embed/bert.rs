//! A lean BERT forward pass for the sentence encoder, composed of candle ops.
//!
//! Same arithmetic as `candle_transformers::models::bert::BertModel` (and so as
//! sentence-transformers), laid out for small CPUs:
//! - **Packed batches, no padding, no mask.** The texts of a batch are laid end to end as one
//!   `(tokens, hidden)` matrix for every position-wise step (projections, feed-forward, layer
//!   norms); attention runs per text on its own rows. No work is spent on padding and no
//!   attention mask is built or added.
//! - **One matrix product per projection.** Query, key and value are one `(hidden + 1, 3 ·
//!   hidden)` product; every bias is the last row of its weight matrix, met by a column of ones
//!   appended to the input, so no separate bias addition runs; the attention scale `1/√d` is
//!   folded into the query weights. Weights are transposed once, at load.
//! - **No busy-waiting thread pool.** candle runs element-wise operations of 64 Ki elements
//!   or more on its barrier pool, whose threads spin while waiting: on a loaded two-core
//!   machine that spin halves throughput or worse. The few large element-wise steps here (the
//!   feed-forward activation, residual additions on big batches) are cut into row blocks under
//!   that size, so they run on the calling thread; the parallelism is rayon's (work stealing,
//!   threads sleep when idle): matrix products (gemm) and the caller running batches in
//!   parallel.

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use serde::Deserialize;

/// The fields of a Hugging Face BERT `config.json` this forward uses (others are ignored).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Config {
    pub(crate) vocab_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) num_hidden_layers: usize,
    pub(crate) num_attention_heads: usize,
    pub(crate) intermediate_size: usize,
    pub(crate) hidden_act: HiddenAct,
    pub(crate) max_position_embeddings: usize,
    pub(crate) type_vocab_size: usize,
    pub(crate) layer_norm_eps: f64,
    /// Only absolute position embeddings are implemented: any other kind is refused at load.
    #[serde(default)]
    #[allow(dead_code)] // read only to refuse other kinds
    pub(crate) position_embedding_type: PositionEmbeddingType,
}

/// The feed-forward activation, by its `transformers` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum HiddenAct {
    /// Exact (erf) GELU.
    #[serde(rename = "gelu")]
    Gelu,
    /// The tanh approximation of GELU.
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh")]
    GeluApproximate,
    #[serde(rename = "relu")]
    Relu,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PositionEmbeddingType {
    #[default]
    Absolute,
}

/// Element-wise operations on fewer elements than this run on the calling thread in
/// candle-core 0.11 (`PAR_ELEMWISE_MIN`); larger ones use its spinning barrier pool.
const INLINE_ELEMENTS: usize = 64 * 1024;

/// `x · w + b` with `w_aug = [wᵀ; b]`: the bias rides on a column of ones.
struct Affine {
    w_aug: Tensor,
}

impl Affine {
    /// From a PyTorch `Linear` (`weight` is `(out, in)`), with everything scaled by `scale`.
    fn load(vb: VarBuilder, inp: usize, out: usize, scale: f64) -> candle_core::Result<Self> {
        let w = vb.get((out, inp), "weight")?;
        let b = vb.get(out, "bias")?;
        let w_aug = Tensor::cat(&[w.t()?, b.unsqueeze(0)?], 0)?;
        let w_aug = if scale == 1.0 {
            w_aug
        } else {
            (w_aug * scale)?
        };
        Ok(Self {
            w_aug: w_aug.contiguous()?,
        })
    }

    /// Several linears side by side (query, key, value): one product.
    fn concat(parts: &[Affine]) -> candle_core::Result<Self> {
        let ws: Vec<&Tensor> = parts.iter().map(|p| &p.w_aug).collect();
        Ok(Self {
            w_aug: Tensor::cat(&ws, 1)?.contiguous()?,
        })
    }

    /// `x` is `(tokens, in)`, `ones` is `(tokens, 1)`.
    fn forward(&self, x: &Tensor, ones: &Tensor) -> candle_core::Result<Tensor> {
        Tensor::cat(&[x, ones], 1)?.matmul(&self.w_aug)
    }
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(vb: VarBuilder, size: usize, eps: f64) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            bias: vb.get(size, "bias")?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    qkv: Affine,
    out: Affine,
    norm1: Norm,
    up: Affine,
    down: Affine,
    norm2: Norm,
}

/// The encoder: embeddings and the transformer layers, ready for packed batches.
pub(crate) struct Bert {
    words: Tensor,
    /// Position embeddings plus the (only used) token type 0 embedding.
    positions: Tensor,
    norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    act: HiddenAct,
    device: Device,
}

/// Apply `f` to row blocks of `xs` (all with the same rows) small enough to run inline, and
/// stack the results.
fn by_rows(
    xs: &[&Tensor],
    f: impl Fn(&[Tensor]) -> candle_core::Result<Tensor>,
) -> candle_core::Result<Tensor> {
    let (rows, cols) = xs[0].dims2()?;
    let widest = xs
        .iter()
        .map(|x| x.dim(1).unwrap_or(cols))
        .max()
        .unwrap_or(cols);
    let block = ((INLINE_ELEMENTS - 1) / widest.max(1)).max(1);
    if rows <= block {
        let whole: Vec<Tensor> = xs.iter().map(|x| (*x).clone()).collect();
        return f(&whole);
    }
    let mut parts = Vec::with_capacity(rows.div_ceil(block));
    let mut start = 0;
    while start < rows {
        let n = block.min(rows - start);
        let slices = xs
            .iter()
            .map(|x| x.narrow(0, start, n))
            .collect::<candle_core::Result<Vec<_>>>()?;
        parts.push(f(&slices)?);
        start += n;
    }
    Tensor::cat(&parts, 0)
}

impl Bert {
    pub(crate) fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Self> {
        // sentence-transformers' files name the tensors without the `bert.` prefix.
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else {
            vb.pp("bert")
        };
        let hidden = config.hidden_size;
        let heads = config.num_attention_heads;
        let head_dim = hidden / heads;
        let inter = config.intermediate_size;
        let eps = config.layer_norm_eps;
        let emb = vb.pp("embeddings");
        let words = emb.get((config.vocab_size, hidden), "word_embeddings.weight")?;
        let positions = emb.get(
            (config.max_position_embeddings, hidden),
            "position_embeddings.weight",
        )?;
        let types = emb.get(
            (config.type_vocab_size, hidden),
            "token_type_embeddings.weight",
        )?;
        let positions = positions.broadcast_add(&types.narrow(0, 0, 1)?)?;
        let norm = Norm::load(emb.pp("LayerNorm"), hidden, eps)?;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let qkv = Affine::concat(&[
                Affine::load(a.pp("self.query"), hidden, hidden, scale)?,
                Affine::load(a.pp("self.key"), hidden, hidden, 1.0)?,
                Affine::load(a.pp("self.value"), hidden, hidden, 1.0)?,
            ])?;
            layers.push(Layer {
                qkv,
                out: Affine::load(a.pp("output.dense"), hidden, hidden, 1.0)?,
                norm1: Norm::load(a.pp("output.LayerNorm"), hidden, eps)?,
                up: Affine::load(l.pp("intermediate.dense"), hidden, inter, 1.0)?,
                down: Affine::load(l.pp("output.dense"), inter, hidden, 1.0)?,
                norm2: Norm::load(l.pp("output.LayerNorm"), hidden, eps)?,
            });
        }
        Ok(Self {
            words,
            positions,
            norm,
            layers,
            heads,
            head_dim,
            hidden,
            act: config.hidden_act,
            device: vb.device().clone(),
        })
    }

    /// Last hidden states of a packed batch: `(sum of lengths, hidden)`, the texts' rows end to
    /// end in order. Every text is at most the position table's length.
    pub(crate) fn forward(&self, texts: &[&[u32]]) -> candle_core::Result<Tensor> {
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let total: usize = lens.iter().sum();
        let ids: Vec<u32> = texts.iter().flat_map(|t| t.iter().copied()).collect();
        let pos: Vec<u32> = lens.iter().flat_map(|&l| 0..l as u32).collect();
        let ids = Tensor::from_vec(ids, total, &self.device)?;
        let pos = Tensor::from_vec(pos, total, &self.device)?;
        let words = self.words.index_select(&ids, 0)?;
        let positions = self.positions.index_select(&pos, 0)?;
        let x = by_rows(&[&words, &positions], |p| &p[0] + &p[1])?;
        let mut x = self.norm.forward(&x)?;
        let ones = Tensor::ones((total, 1), DType::F32, &self.device)?;
        for layer in &self.layers {
            x = self.layer(layer, &x, &ones, &lens)?;
        }
        Ok(x)
    }

    fn layer(
        &self,
        l: &Layer,
        x: &Tensor,
        ones: &Tensor,
        lens: &[usize],
    ) -> candle_core::Result<Tensor> {
        let qkv = l.qkv.forward(x, ones)?; // (tokens, 3 · hidden)
        let mut contexts = Vec::with_capacity(lens.len());
        let mut start = 0;
        for &len in lens {
            // (len, 3, heads, d) → (3, heads, len, d)
            let t = qkv
                .narrow(0, start, len)?
                .reshape((len, 3, self.heads, self.head_dim))?
                .permute((1, 2, 0, 3))?
                .contiguous()?;
            let (q, k, v) = (t.get(0)?, t.get(1)?, t.get(2)?);
            let scores = q.matmul(&k.t()?)?; // (heads, len, len), already scaled
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs.matmul(&v)?; // (heads, len, d)
            contexts.push(ctx.transpose(0, 1)?.reshape((len, self.hidden))?);
            start += len;
        }
        let ctx = if contexts.len() == 1 {
            contexts.swap_remove(0)
        } else {
            Tensor::cat(&contexts, 0)?
        };
        let attn = l.out.forward(&ctx, ones)?;
        let x = l.norm1.forward(&by_rows(&[&attn, x], |p| &p[0] + &p[1])?)?;
        let h = l.up.forward(&x, ones)?;
        let h = by_rows(&[&h], |p| match self.act {
            HiddenAct::Gelu => p[0].gelu_erf(),
            HiddenAct::GeluApproximate => p[0].gelu(),
            HiddenAct::Relu => p[0].relu(),
        })?;
        let y = l.down.forward(&h, ones)?;
        l.norm2.forward(&by_rows(&[&y, &x], |p| &p[0] + &p[1])?)
    }
}

/// Mean of each text's rows of `hidden` (packed as [`Bert::forward`] returns it), L2
/// normalised as `F.normalize` does: `x / max(‖x‖, 1e-12)`. `(texts, hidden)`.
pub(crate) fn mean_pool_normalise(hidden: &Tensor, lens: &[usize]) -> candle_core::Result<Tensor> {
    let mut means = Vec::with_capacity(lens.len());
    let mut start = 0;
    for &len in lens {
        means.push(hidden.narrow(0, start, len)?.mean_keepdim(0)?);
        start += len;
    }
    let mean = Tensor::cat(&means, 0)?;
    let norm = mean
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12f32, f32::MAX)?;
    mean.broadcast_div(&norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"architectures": ["BertModel"], "hidden_act": "gelu",
        "hidden_size": 384, "intermediate_size": 1536, "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
        "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute",
        "type_vocab_size": 2, "vocab_size": 30522}"#;

    #[test]
    fn config_reads_the_shipped_fields_and_gelu_is_exact() {
        let c: Config = serde_json::from_str(MINILM).unwrap();
        assert_eq!(
            (
                c.vocab_size,
                c.hidden_size,
                c.num_hidden_layers,
                c.num_attention_heads
            ),
            (30522, 384, 6, 12)
        );
        assert_eq!(
            (c.intermediate_size, c.max_position_embeddings),
            (1536, 512)
        );
        assert_eq!((c.type_vocab_size, c.layer_norm_eps), (2, 1e-12));
        assert_eq!(c.hidden_act, HiddenAct::Gelu);
    }

    #[test]
    fn config_refuses_position_embeddings_this_forward_lacks() {
        let relative = MINILM.replace(r#""absolute""#, r#""relative_key""#);
        assert!(serde_json::from_str::<Config>(&relative).is_err());
        let unknown_act = MINILM.replace(r#""gelu""#, r#""swish""#);
        assert!(serde_json::from_str::<Config>(&unknown_act).is_err());
    }
}
