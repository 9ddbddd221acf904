//! A BERT encoder that loads Hugging Face checkpoints (names as in `BertModel`, optionally
//! under a `bert.` prefix). Our own rather than candle-transformers' so that the same code
//! trains (autograd through every op) and serves (fused projections), and so the browser
//! build does not compile a hundred unrelated models.

use candle_core::{DType, Device, Tensor};

use crate::config::BertConfig;
use crate::error::{Error, Result};
use crate::layers::{LayerNorm, Linear};
use crate::ops;
use crate::weights::Scope;

#[derive(Debug, Clone)]
pub(crate) struct Embeddings {
    pub(crate) word: Tensor,
    pub(crate) position: Tensor,
    pub(crate) token_type: Tensor,
    pub(crate) norm: LayerNorm,
}

#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub(crate) qkv: Linear,
    pub(crate) attn_out: Linear,
    pub(crate) attn_norm: LayerNorm,
    pub(crate) intermediate: Linear,
    pub(crate) output: Linear,
    pub(crate) out_norm: LayerNorm,
}

/// The encoder: embeddings and `num_hidden_layers` transformer layers.
#[derive(Debug, Clone)]
pub struct Bert {
    pub(crate) embeddings: Embeddings,
    pub(crate) layers: Vec<Layer>,
    cfg: BertConfig,
}

impl Bert {
    /// Loads from a scope whose names start at `embeddings.` / `encoder.`.
    pub fn load(s: &Scope, cfg: &BertConfig) -> Result<Self> {
        cfg.validate()?;
        let d = cfg.hidden_size;
        let e = s.pp("embeddings");
        let embeddings = Embeddings {
            word: e.get("word_embeddings.weight", &[cfg.vocab_size, d])?,
            position: e.get(
                "position_embeddings.weight",
                &[cfg.max_position_embeddings, d],
            )?,
            token_type: e.get("token_type_embeddings.weight", &[cfg.type_vocab_size, d])?,
            norm: LayerNorm::load(&e.pp("LayerNorm"), d, cfg.layer_norm_eps)?,
        };
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = s.pp(&format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let q = Linear::load(&a.pp("self.query"), d, d)?;
            let k = Linear::load(&a.pp("self.key"), d, d)?;
            let v = Linear::load(&a.pp("self.value"), d, d)?;
            layers.push(Layer {
                qkv: Linear::fuse(&[&q, &k, &v])?,
                attn_out: Linear::load(&a.pp("output.dense"), d, d)?,
                attn_norm: LayerNorm::load(&a.pp("output.LayerNorm"), d, cfg.layer_norm_eps)?,
                intermediate: Linear::load(&l.pp("intermediate.dense"), d, cfg.intermediate_size)?,
                output: Linear::load(&l.pp("output.dense"), cfg.intermediate_size, d)?,
                out_norm: LayerNorm::load(&l.pp("output.LayerNorm"), d, cfg.layer_norm_eps)?,
            });
        }
        Ok(Self {
            embeddings,
            layers,
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// `input_ids` `[B, T]` (u32), `attention_mask` `[B, T]` (f32, 1 for real tokens).
    /// Returns the last hidden states `[B, T, d]`.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        let (b, t) = input_ids.dims2()?;
        if t > self.cfg.max_position_embeddings {
            return Err(Error::Config(format!(
                "sequence of {t} tokens exceeds the encoder's {} positions",
                self.cfg.max_position_embeddings
            )));
        }
        let d = self.cfg.hidden_size;
        let e = &self.embeddings;
        let words = e
            .word
            .index_select(&input_ids.flatten_all()?, 0)?
            .reshape((b, t, d))?;
        let pos = e.position.narrow(0, 0, t)?;
        let typ = e.token_type.narrow(0, 0, 1)?;
        let x = words.broadcast_add(&(pos.broadcast_add(&typ)?))?;
        let mut x = e.norm.forward(&x)?;

        // Additive mask: 0 for real tokens, a large negative number for padding.
        let bias =
            ((attention_mask.to_dtype(DType::F32)? - 1.0)? * 10_000.0)?.reshape((b, 1, 1, t))?;
        let bias = if attention_mask.min_all()?.to_scalar::<f32>()? >= 1.0 {
            None
        } else {
            Some(bias)
        };
        for layer in &self.layers {
            x = layer.forward(&x, bias.as_ref(), &self.cfg)?;
        }
        Ok(x)
    }
}

impl Layer {
    fn forward(&self, x: &Tensor, bias: Option<&Tensor>, cfg: &BertConfig) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let heads = cfg.num_attention_heads;
        let dh = d / heads;
        let qkv = self.qkv.forward(x)?.reshape((b, t, 3, heads, dh))?;
        let split = |i: usize| -> Result<Tensor> {
            Ok(qkv
                .narrow(2, i, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = (split(0)? * (1.0 / (dh as f64).sqrt()))?;
        let k = split(1)?;
        let v = split(2)?;
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(bias) = bias {
            scores = scores.broadcast_add(bias)?;
        }
        let probs = ops::softmax_last_dim(&scores)?;
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        let attn = self
            .attn_norm
            .forward(&(self.attn_out.forward(&ctx)? + x)?)?;
        let h = self.intermediate.forward(&attn)?;
        let h = match cfg.hidden_act.as_str() {
            "relu" => h.relu()?,
            "gelu_new" | "gelu_pytorch_tanh" => h.gelu()?,
            _ => ops::gelu(&h)?,
        };
        self.out_norm.forward(&(self.output.forward(&h)? + attn)?)
    }
}

/// Random weights for a configuration, named as a Hugging Face checkpoint (for tests and for
/// training from scratch). Deterministic for a given `seed`.
pub fn random_weights(
    cfg: &BertConfig,
    seed: u64,
    device: &Device,
) -> Result<Vec<(String, Tensor)>> {
    let mut rng = crate::init::Rng::new(seed);
    let d = cfg.hidden_size;
    let mut out = Vec::new();
    let mut normal = |name: String, shape: &[usize]| -> Result<()> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.normal() * 0.02).collect();
        out.push((name, Tensor::from_vec(v, shape, device)?));
        Ok(())
    };
    normal(
        "embeddings.word_embeddings.weight".into(),
        &[cfg.vocab_size, d],
    )?;
    normal(
        "embeddings.position_embeddings.weight".into(),
        &[cfg.max_position_embeddings, d],
    )?;
    normal(
        "embeddings.token_type_embeddings.weight".into(),
        &[cfg.type_vocab_size, d],
    )?;
    let mut linears = Vec::new();
    for i in 0..cfg.num_hidden_layers {
        let p = format!("encoder.layer.{i}");
        for n in ["query", "key", "value"] {
            linears.push((format!("{p}.attention.self.{n}"), d, d));
        }
        linears.push((format!("{p}.attention.output.dense"), d, d));
        linears.push((format!("{p}.intermediate.dense"), d, cfg.intermediate_size));
        linears.push((format!("{p}.output.dense"), cfg.intermediate_size, d));
    }
    for (name, input, output) in linears {
        normal(format!("{name}.weight"), &[output, input])?;
    }
    let mut norms = vec!["embeddings.LayerNorm".to_string()];
    for i in 0..cfg.num_hidden_layers {
        norms.push(format!("encoder.layer.{i}.attention.output.LayerNorm"));
        norms.push(format!("encoder.layer.{i}.output.LayerNorm"));
    }
    let mut rest = Vec::new();
    for i in 0..cfg.num_hidden_layers {
        let p = format!("encoder.layer.{i}");
        for (n, dim) in [
            ("attention.self.query", d),
            ("attention.self.key", d),
            ("attention.self.value", d),
            ("attention.output.dense", d),
            ("intermediate.dense", cfg.intermediate_size),
            ("output.dense", d),
        ] {
            rest.push((
                format!("{p}.{n}.bias"),
                Tensor::zeros(dim, DType::F32, device)?,
            ));
        }
    }
    for n in norms {
        rest.push((format!("{n}.weight"), Tensor::ones(d, DType::F32, device)?));
        rest.push((format!("{n}.bias"), Tensor::zeros(d, DType::F32, device)?));
    }
    out.extend(rest);
    Ok(out)
}
