//! The model for inference, written once: the BERT encoder, the four gates (eqs. 1–6) and
//! both table heads (eqs. 7–10) as a sequence of operations of a [`Backend`].
//!
//! A backend owns the arithmetic: [`super::cpu::Cpu`] runs each operation on `f32` slices
//! with the processor's vector instructions, `super::gpu::Gpu` (feature `gpu`) records each
//! as a WGSL compute dispatch. What the model *is* (which layer feeds which, where the
//! residuals go, how the gates combine) lives only here, so a change to the model reaches
//! every backend. The candle model ([`MgeModel`]) stays the training definition; the tests
//! of every backend compare against it or against the CPU backend.

use crate::error::{Error, Result};
use crate::layers::{LayerNorm, Linear};
use crate::model::MgeModel;

/// A dense layer as plain values: `weight` is `[output, input]`, row-major.
#[derive(Debug, Clone)]
pub struct LinearParts {
    pub weight: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub input: usize,
    pub output: usize,
}

/// A layer norm's scale, shift and epsilon.
#[derive(Debug, Clone)]
pub struct NormParts {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub eps: f32,
}

/// The encoder's feed-forward activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    GeluErf,
    GeluTanh,
    Relu,
}

/// Where the six `d → h` projections of the gate layer lie in its fused output
/// (`width` columns per sub-token, `hidden` each): the two candidates and the gates that
/// the configuration keeps (an ablated gate is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateLayout {
    pub hidden: usize,
    pub width: usize,
    pub cand_e: usize,
    pub cand_r: usize,
    pub entity_task: Option<usize>,
    pub relation_task: Option<usize>,
    pub entity_interaction: Option<usize>,
    pub relation_interaction: Option<usize>,
}

impl GateLayout {
    pub(crate) fn new(names: &[&str], hidden: usize) -> Result<Self> {
        let at = |name: &str| names.iter().position(|g| *g == name);
        let need = |name: &str| {
            at(name).ok_or_else(|| Error::Config(format!("the gate layer has no `{name}`")))
        };
        Ok(Self {
            hidden,
            width: names.len() * hidden,
            cand_e: need("cand_e")?,
            cand_r: need("cand_r")?,
            entity_task: at("gate_e_task"),
            relation_task: at("gate_r_task"),
            entity_interaction: at("gate_e_inter"),
            relation_interaction: at("gate_r_inter"),
        })
    }

    /// Columns of `H_ner = [H_e_task ; H_r_inter]` (eq. 6).
    pub fn ner_width(&self) -> usize {
        self.hidden * (1 + usize::from(self.relation_interaction.is_some()))
    }

    /// Columns of `H_re = [H_r_task ; H_e_inter]` (eq. 6).
    pub fn re_width(&self) -> usize {
        self.hidden * (1 + usize::from(self.entity_interaction.is_some()))
    }

    /// The gates in the order of the rows of [`GateOutput::means`]: entity task, relation
    /// task, entity interaction, relation interaction.
    pub fn gates(&self) -> [Option<usize>; 4] {
        [
            self.entity_task,
            self.relation_task,
            self.entity_interaction,
            self.relation_interaction,
        ]
    }

    /// Mean activations per sub-token from a `[4, n]` table of [`GateOutput::means`]
    /// (rows of ablated gates are ignored).
    pub fn means(&self, values: &[f32], n: usize) -> super::GateMeans {
        let row = |k: usize, g: Option<usize>| {
            g.map(|_| values.get(k * n..(k + 1) * n).unwrap_or(&[]).to_vec())
        };
        let [a, b, c, d] = self.gates();
        super::GateMeans {
            entity_task: row(0, a),
            relation_task: row(1, b),
            entity_interaction: row(2, c),
            relation_interaction: row(3, d),
        }
    }
}

/// What the gate operation gives: `H_ner` (`[n, ner_width]`), `H_re` (`[n, re_width]`) and,
/// when asked for, each gate's mean activation per sub-token (`[4, n]`, see
/// [`GateLayout::gates`]).
pub struct GateOutput<T> {
    pub ner: T,
    pub re: T,
    pub means: Option<T>,
}

/// The operations the model is made of. `Tensor` is a row-major `f32` matrix wherever the
/// backend keeps it (host memory, a GPU buffer); `Context` is what one forward pass records
/// into (nothing on the CPU, a command encoder on a GPU).
pub trait Backend {
    type Tensor;
    type Context;
    type Linear;
    type Norm;
    type Embeddings;
    type Tagger;

    /// Packs a dense layer. `input_norm` is the layer norm whose output the layer reads,
    /// when there is one (int8 arithmetic evens out the inputs' ranges with it).
    fn linear(&self, p: LinearParts, input_norm: Option<&NormParts>) -> Result<Self::Linear>;
    fn norm(&self, p: &NormParts) -> Result<Self::Norm>;
    /// Word embeddings (`[vocab, d]`) and position embeddings with the token type already
    /// added (`[positions, d]`).
    fn embeddings(&self, word: Vec<f32>, position: Vec<f32>, d: usize) -> Result<Self::Embeddings>;
    /// A table head's norm and tagger (`tag`: `[labels, hidden]`).
    fn tagger(&self, norm: &NormParts, tag: Vec<f32>, bias: Vec<f32>) -> Result<Self::Tagger>;

    /// `LN(word[id] + position[p])` for each id (ids were checked against the vocabulary).
    fn embed(
        &self,
        cx: &mut Self::Context,
        e: &Self::Embeddings,
        norm: &Self::Norm,
        ids: &[u32],
    ) -> Result<Self::Tensor>;
    /// `act(x W^T + b)` over `rows` rows.
    fn matmul(
        &self,
        cx: &mut Self::Context,
        l: &Self::Linear,
        x: &Self::Tensor,
        rows: usize,
        act: Option<Activation>,
    ) -> Result<Self::Tensor>;
    /// Scaled dot-product attention of every head over `t` rows of `[q | k | v]`
    /// (`[t, 3d]`), giving `[t, d]`.
    fn attention(
        &self,
        cx: &mut Self::Context,
        qkv: &Self::Tensor,
        t: usize,
        heads: usize,
        d: usize,
    ) -> Result<Self::Tensor>;
    /// `LN(x + residual)`, row by row.
    fn add_norm(
        &self,
        cx: &mut Self::Context,
        x: Self::Tensor,
        residual: &Self::Tensor,
        norm: &Self::Norm,
    ) -> Result<Self::Tensor>;
    /// Rows `1 .. t − 1` of `[t, d]` (the sub-tokens between `[CLS]` and `[SEP]`).
    fn inner_rows(
        &self,
        cx: &mut Self::Context,
        x: &Self::Tensor,
        t: usize,
        d: usize,
    ) -> Result<Self::Tensor>;
    /// Eqs. 1–6 on the fused projection `z` (`[n, width]`).
    fn gates(
        &self,
        cx: &mut Self::Context,
        z: &Self::Tensor,
        n: usize,
        layout: &GateLayout,
        means: bool,
    ) -> Result<GateOutput<Self::Tensor>>;
    /// Eqs. 8–10: `σ(ELU(LN(a_i + b_j)) W_tag + b_tag)` for every cell, `[n, n, labels]`
    /// (with `upper`, cells `j < i` are 0).
    fn table(
        &self,
        cx: &mut Self::Context,
        w: &Self::Tagger,
        a: &Self::Tensor,
        b: &Self::Tensor,
        n: usize,
        upper: bool,
    ) -> Result<Self::Tensor>;
}

struct Layer<B: Backend> {
    qkv: B::Linear,
    attn_out: B::Linear,
    attn_norm: B::Norm,
    intermediate: B::Linear,
    output: B::Linear,
    out_norm: B::Norm,
}

struct Head<B: Backend> {
    top: B::Linear,
    bottom: B::Linear,
    tagger: B::Tagger,
    upper: bool,
    labels: usize,
}

/// What a forward pass leaves in the backend: the `n` inner sub-tokens' entity table
/// (`[n, n, |E|]`), relation table (`[n, n, |R|]`) and gate means (`[4, n]`), each absent
/// when `n` is 0 (and the means when they were not asked for).
pub struct Output<T> {
    pub n: usize,
    pub ner: Option<T>,
    pub re: Option<T>,
    pub means: Option<T>,
}

/// The model's weights packed for a backend, and its forward pass.
pub struct Model<B: Backend> {
    embeddings: B::Embeddings,
    emb_norm: B::Norm,
    layers: Vec<Layer<B>>,
    gate_proj: B::Linear,
    pub(crate) gates: GateLayout,
    ner: Head<B>,
    re: Head<B>,
    d: usize,
    heads: usize,
    vocab: usize,
    max_positions: usize,
    activation: Activation,
}

fn values(t: &candle_core::Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?
        .to_dtype(candle_core::DType::F32)?
        .to_vec1::<f32>()?)
}

fn linear_parts(l: &Linear) -> Result<LinearParts> {
    let (output, input) = l.weight.dims2()?;
    Ok(LinearParts {
        weight: values(&l.weight)?,
        bias: l.bias.as_ref().map(values).transpose()?,
        input,
        output,
    })
}

fn norm_parts(n: &LayerNorm) -> Result<NormParts> {
    Ok(NormParts {
        gamma: values(&n.weight)?,
        beta: values(&n.bias)?,
        eps: n.eps as f32,
    })
}

impl<B: Backend> Model<B> {
    /// Packs the weights of a loaded model for `backend`.
    pub fn build(model: &MgeModel, backend: &B) -> Result<Self> {
        let cfg = model.bert.config();
        let d = cfg.hidden_size;
        if cfg.num_attention_heads == 0 || !d.is_multiple_of(cfg.num_attention_heads) {
            return Err(Error::Config(format!(
                "{} attention heads do not divide the hidden size {d}",
                cfg.num_attention_heads
            )));
        }
        let e = &model.bert.embeddings;
        let token_type = values(&e.token_type.narrow(0, 0, 1)?)?;
        let mut position = values(&e.position)?;
        for row in position.chunks_exact_mut(d) {
            for (p, t) in row.iter_mut().zip(&token_type) {
                *p += t;
            }
        }
        let emb_parts = norm_parts(&e.norm)?;
        let mut layers = Vec::with_capacity(model.bert.layers.len());
        // Each layer reads the output norm of the one before (the first, the embeddings').
        let mut input_norm = emb_parts.clone();
        for l in &model.bert.layers {
            let attn_norm = norm_parts(&l.attn_norm)?;
            let out_norm = norm_parts(&l.out_norm)?;
            layers.push(Layer {
                qkv: backend.linear(linear_parts(&l.qkv)?, Some(&input_norm))?,
                attn_out: backend.linear(linear_parts(&l.attn_out)?, None)?,
                intermediate: backend.linear(linear_parts(&l.intermediate)?, Some(&attn_norm))?,
                attn_norm: backend.norm(&attn_norm)?,
                output: backend.linear(linear_parts(&l.output)?, None)?,
                out_norm: backend.norm(&out_norm)?,
            });
            input_norm = out_norm;
        }
        let head = |h: &crate::model::TableHead, upper: bool| -> Result<Head<B>> {
            let labels = h.tag.out_dim();
            let bias = match &h.tag.bias {
                Some(b) => values(b)?,
                None => vec![0.0; labels],
            };
            Ok(Head {
                top: backend.linear(linear_parts(&h.top)?, None)?,
                bottom: backend.linear(linear_parts(&h.bottom)?, None)?,
                tagger: backend.tagger(&norm_parts(&h.norm)?, values(&h.tag.weight)?, bias)?,
                upper,
                labels,
            })
        };
        let activation = match cfg.hidden_act.as_str() {
            "relu" => Activation::Relu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            _ => Activation::GeluErf,
        };
        Ok(Self {
            embeddings: backend.embeddings(values(&e.word)?, position, d)?,
            emb_norm: backend.norm(&emb_parts)?,
            layers,
            gate_proj: backend.linear(linear_parts(&model.gates.proj)?, Some(&input_norm))?,
            gates: GateLayout::new(&model.gates.names, model.gates.hidden)?,
            ner: head(&model.ner, true)?,
            re: head(&model.re, false)?,
            d,
            heads: cfg.num_attention_heads,
            vocab: cfg.vocab_size,
            max_positions: cfg.max_position_embeddings,
            activation,
        })
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    pub fn entity_labels(&self) -> usize {
        self.ner.labels
    }

    pub fn relation_labels(&self) -> usize {
        self.re.labels
    }

    /// Rejects what the encoder cannot read: fewer than `[CLS]` and `[SEP]`, more tokens
    /// than positions, an id outside the vocabulary.
    pub fn check(&self, ids: &[u32]) -> Result<()> {
        let t = ids.len();
        if t < 2 {
            return Err(Error::Config(
                "a sequence needs at least [CLS] and [SEP]".into(),
            ));
        }
        if t > self.max_positions {
            return Err(Error::Config(format!(
                "sequence of {t} tokens exceeds the encoder's {} positions",
                self.max_positions
            )));
        }
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.vocab) {
            return Err(Error::Config(format!(
                "token id {id} is outside the vocabulary of {}",
                self.vocab
            )));
        }
        Ok(())
    }

    /// The BERT encoder over `[CLS] … [SEP]` ids ([`check`](Self::check)ed): `[T, d]` last
    /// hidden states.
    pub fn encode(&self, b: &B, cx: &mut B::Context, ids: &[u32]) -> Result<B::Tensor> {
        self.check(ids)?;
        let t = ids.len();
        let mut x = b.embed(cx, &self.embeddings, &self.emb_norm, ids)?;
        for l in &self.layers {
            let qkv = b.matmul(cx, &l.qkv, &x, t, None)?;
            let ctx = b.attention(cx, &qkv, t, self.heads, self.d)?;
            let attn = b.matmul(cx, &l.attn_out, &ctx, t, None)?;
            let attn = b.add_norm(cx, attn, &x, &l.attn_norm)?;
            let h = b.matmul(cx, &l.intermediate, &attn, t, Some(self.activation))?;
            let out = b.matmul(cx, &l.output, &h, t, None)?;
            x = b.add_norm(cx, out, &attn, &l.out_norm)?;
        }
        Ok(x)
    }

    /// The gates and both table heads over the inner sub-tokens of the encoder's output
    /// `x` (`[t, d]`).
    pub fn heads(
        &self,
        b: &B,
        cx: &mut B::Context,
        x: &B::Tensor,
        t: usize,
        want_gates: bool,
    ) -> Result<Output<B::Tensor>> {
        let n = t.saturating_sub(2);
        if n == 0 {
            return Ok(Output {
                n,
                ner: None,
                re: None,
                means: None,
            });
        }
        let inner = b.inner_rows(cx, x, t, self.d)?;
        let z = b.matmul(cx, &self.gate_proj, &inner, n, None)?;
        let g = b.gates(cx, &z, n, &self.gates, want_gates)?;
        let table = |cx: &mut B::Context, head: &Head<B>, h: &B::Tensor| {
            let a = b.matmul(cx, &head.top, h, n, None)?;
            let c = b.matmul(cx, &head.bottom, h, n, None)?;
            b.table(cx, &head.tagger, &a, &c, n, head.upper)
        };
        Ok(Output {
            n,
            ner: Some(table(cx, &self.ner, &g.ner)?),
            re: Some(table(cx, &self.re, &g.re)?),
            means: g.means,
        })
    }
}

impl<T> Output<T> {
    /// The tables in host memory as [`super::Tables`], `read` turning a backend tensor into
    /// values.
    pub fn into_tables(
        self,
        layout: &GateLayout,
        want_gates: bool,
        mut read: impl FnMut(T) -> Result<Vec<f32>>,
    ) -> Result<super::Tables> {
        let n = self.n;
        let mut take = |t: Option<T>| t.map(&mut read).transpose().map(Option::unwrap_or_default);
        let ner = take(self.ner)?;
        let re = take(self.re)?;
        let means = take(self.means)?;
        Ok(super::Tables {
            n,
            ner,
            re,
            gates: want_gates.then(|| layout.means(&means, n)),
            encoder_ms: 0.0,
            heads_ms: 0.0,
        })
    }
}
