//! The inference path: the same forward pass as [`MgeModel`](crate::model::MgeModel) on plain
//! `f32` slices, one sequence at a time, without padding, autograd or tensor bookkeeping.
//!
//! Training needs candle (autograd, CUDA); serving needs a few matrix products on tens of
//! rows, where candle's per-op overhead and general-purpose GEMM dominate. Here the weights
//! are packed once ([`gemm::PackedLinear`] in f32, [`qgemm::QuantLinear`] in int8; which
//! one is [`Precision`], the vector instructions are chosen by [`isa`]), attention runs
//! head by head on contiguous slices, and each table head fuses `LN → ELU → tagger →
//! sigmoid` per cell, so the `N × N × h` hidden table of eq. 8 is never stored. The same
//! code runs natively and in the browser (wasm32 with SIMD128).

pub mod gemm;
pub mod isa;
pub mod qgemm;

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::layers::{LayerNorm, Linear};
use crate::model::MgeModel;
use crate::ops::{fast_erf, fast_exp};
use crate::table::{cells_above, ScoredCell, TableDecoding};
use gemm::PackedLinear;
use qgemm::QuantLinear;

fn values(t: &candle_core::Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?
        .to_dtype(candle_core::DType::F32)?
        .to_vec1::<f32>()?)
}

/// The arithmetic of the engine's matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// int8 where this processor has dot-product instructions that make it faster
    /// ([`isa::int8_dot`]), f32 elsewhere.
    #[default]
    Auto,
    /// f32 everywhere (the reference: the training model's arithmetic).
    F32,
    /// int8 products (weights and activations in blocks of 32 with their own scales),
    /// through the fastest int8 kernel this processor has.
    Int8,
}

impl Precision {
    fn int8(self) -> bool {
        match self {
            Precision::Auto => isa::int8_dot(),
            Precision::F32 => false,
            Precision::Int8 => true,
        }
    }
}

/// A packed linear layer in the engine's chosen arithmetic.
#[derive(Debug, Clone)]
enum Matmul {
    F32(PackedLinear),
    Int8(QuantLinear),
}

impl Matmul {
    fn forward_into(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        match self {
            Matmul::F32(l) => l.forward_into(x, rows, out),
            Matmul::Int8(l) => l.forward_into(x, rows, out),
        }
    }

    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut out = vec![0f32; rows * self.output()];
        self.forward_into(x, rows, &mut out);
        out
    }

    fn output(&self) -> usize {
        match self {
            Matmul::F32(l) => l.output(),
            Matmul::Int8(l) => l.output(),
        }
    }
}

/// A layer's weight (`[out, in]`, row-major), bias, input and output sizes.
type Parts = (Vec<f32>, Option<Vec<f32>>, usize, usize);

fn parts(l: &Linear) -> Result<Parts> {
    let (output, input) = l.weight.dims2()?;
    let bias = match &l.bias {
        Some(b) => Some(values(b)?),
        None => None,
    };
    Ok((values(&l.weight)?, bias, input, output))
}

/// [`packed`] for a layer whose input is the output of `norm`: in int8, its inputs are
/// evened out by the norm's per-value ranges ([`QuantLinear::smoothed`]).
fn packed_after(l: &Linear, int8: bool, norm: &Norm) -> Result<Matmul> {
    let (w, bias, input, output) = parts(l)?;
    if !int8 || norm.gamma.len() != input {
        return packed(l, int8);
    }
    let range: Vec<f32> = norm
        .gamma
        .iter()
        .zip(&norm.beta)
        .map(|(g, b)| g.abs() + b.abs())
        .collect();
    Ok(Matmul::Int8(QuantLinear::smoothed(
        &w,
        bias.as_deref(),
        input,
        output,
        &range,
    )))
}

fn packed(l: &Linear, int8: bool) -> Result<Matmul> {
    let (w, bias, input, output) = parts(l)?;
    Ok(if int8 {
        Matmul::Int8(QuantLinear::new(&w, bias.as_deref(), input, output))
    } else {
        Matmul::F32(PackedLinear::new(&w, bias.as_deref(), input, output))
    })
}

#[derive(Debug, Clone)]
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn new(n: &LayerNorm) -> Result<Self> {
        Ok(Self {
            gamma: values(&n.weight)?,
            beta: values(&n.bias)?,
            eps: n.eps as f32,
        })
    }

    /// Normalizes each row of `x` (width `gamma.len()`) in place.
    #[inline(always)]
    fn apply(&self, x: &mut [f32]) {
        let d = self.gamma.len();
        for row in x.chunks_exact_mut(d) {
            let (mean, rstd) = moments(row, self.eps);
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * rstd * g + b;
            }
        }
    }
}

/// Lanes of the partial sums in [`dot`] and [`sum`]: independent accumulators let the
/// compiler use vector registers (a single running sum is one long dependency chain).
const LANES: usize = 16;

/// The sum of the lanes, folded pairwise: a running sum over them is a chain of dependent
/// additions that costs more than the vector work for the row lengths here.
#[inline(always)]
fn lanes_sum(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0]
}

/// `Σ a_k b_k` over equal-length slices.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len()) / LANES * LANES;
    let mut acc = [0f32; LANES];
    for (x, y) in a[..n].chunks_exact(LANES).zip(b[..n].chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = a[n..].iter().zip(&b[n..]).map(|(x, y)| x * y).sum();
    lanes_sum(acc) + tail
}

/// `Σ a_k`, or `Σ (a_k − shift)²` with `squares`.
#[inline(always)]
fn sum(a: &[f32], shift: f32, squares: bool) -> f32 {
    let n = a.len() / LANES * LANES;
    let mut acc = [0f32; LANES];
    let term = |x: f32| {
        if squares {
            (x - shift) * (x - shift)
        } else {
            x
        }
    };
    for x in a[..n].chunks_exact(LANES) {
        for l in 0..LANES {
            acc[l] += term(x[l]);
        }
    }
    lanes_sum(acc) + a[n..].iter().map(|&x| term(x)).sum::<f32>()
}

/// The largest value of a non-empty slice.
#[inline(always)]
fn max_of(a: &[f32]) -> f32 {
    let n = a.len() / LANES * LANES;
    let mut acc = [f32::NEG_INFINITY; LANES];
    for x in a[..n].chunks_exact(LANES) {
        for l in 0..LANES {
            acc[l] = acc[l].max(x[l]);
        }
    }
    a[n..]
        .iter()
        .chain(&acc)
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x))
}

/// Mean and `1/sqrt(var + eps)` of a row (two passes, as the training kernels do).
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = sum(row, 0.0, false) / n;
    let var = sum(row, mean, true) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + fast_exp(-x))
}

#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (fast_exp(2.0 * x) + 1.0)
}

#[derive(Debug, Clone, Copy)]
enum Activation {
    GeluErf,
    GeluTanh,
    Relu,
}

#[derive(Debug, Clone)]
struct Layer {
    qkv: Matmul,
    attn_out: Matmul,
    attn_norm: Norm,
    intermediate: Matmul,
    output: Matmul,
    out_norm: Norm,
}

#[derive(Debug, Clone)]
struct Head {
    top: Matmul,
    bottom: Matmul,
    norm: Norm,
    /// Tagger weights `[labels, hidden]` and bias.
    tag: Vec<f32>,
    tag_bias: Vec<f32>,
    upper: bool,
}

/// Mean sigmoid activation of each gate per sub-token (absent when the gate is ablated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GateMeans {
    pub entity_task: Option<Vec<f32>>,
    pub relation_task: Option<Vec<f32>>,
    pub entity_interaction: Option<Vec<f32>>,
    pub relation_interaction: Option<Vec<f32>>,
}

/// What one forward pass over `[CLS] t_1 … t_n [SEP]` gives, over the `n` inner sub-tokens.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// Inner sub-tokens (the special tokens are not part of the tables).
    pub n: usize,
    /// `n × n × |E|` entity probabilities, row-major; only cells `i <= j` are computed
    /// (the others are 0).
    pub ner: Vec<f32>,
    /// `n × n × |R|` relation probabilities (subject start `i`, object start `j`).
    pub re: Vec<f32>,
    /// Gate activations (only when asked for).
    pub gates: Option<GateMeans>,
    /// Milliseconds in the encoder and in the gates and heads (0 without a clock).
    pub encoder_ms: f64,
    pub heads_ms: f64,
}

impl Tables {
    /// Cells above `threshold`, with positions in the sequence (`[CLS]` is position 0, so the
    /// first inner sub-token is 1), as [`crate::table::decode`] gives them.
    pub fn decode(&self, threshold: f32) -> TableDecoding {
        let n = self.n;
        let mut d = TableDecoding::default();
        let cells = |probs: &[f32], upper: bool, out: &mut Vec<ScoredCell>| {
            if n == 0 {
                return;
            }
            let k = probs.len() / (n * n);
            for i in 0..n {
                for j in if upper { i } else { 0 }..n {
                    let cell = &probs[(i * n + j) * k..(i * n + j + 1) * k];
                    out.extend(cells_above(cell, i + 1, j + 1, threshold));
                }
            }
        };
        cells(&self.ner, true, &mut d.entities);
        cells(&self.re, false, &mut d.relations);
        d
    }
}

/// The packed inference model.
#[derive(Debug, Clone)]
pub struct Engine {
    word: Vec<f32>,
    /// Position embeddings with the token-type-0 embedding already added.
    position: Vec<f32>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    d: usize,
    heads: usize,
    vocab: usize,
    max_positions: usize,
    activation: Activation,
    gate_proj: Matmul,
    gate_names: Vec<&'static str>,
    hidden: usize,
    ner: Head,
    re: Head,
    entity_labels: usize,
    relation_labels: usize,
    int8: bool,
}

impl Engine {
    /// Packs the weights of a loaded model, in the arithmetic that is fastest here
    /// ([`Precision::Auto`]).
    pub fn new(model: &MgeModel) -> Result<Self> {
        Self::with_precision(model, Precision::Auto)
    }

    /// Packs the weights of a loaded model for the given arithmetic.
    pub fn with_precision(model: &MgeModel, precision: Precision) -> Result<Self> {
        let int8 = precision.int8();
        let cfg = model.bert.config();
        let d = cfg.hidden_size;
        let e = &model.bert.embeddings;
        let token_type = values(&e.token_type.narrow(0, 0, 1)?)?;
        let mut position = values(&e.position)?;
        for row in position.chunks_exact_mut(d) {
            for (p, t) in row.iter_mut().zip(&token_type) {
                *p += t;
            }
        }
        let emb_norm = Norm::new(&e.norm)?;
        let mut layers: Vec<Layer> = Vec::with_capacity(model.bert.layers.len());
        for l in &model.bert.layers {
            let input_norm = layers.last().map_or(&emb_norm, |p| &p.out_norm);
            let attn_norm = Norm::new(&l.attn_norm)?;
            layers.push(Layer {
                qkv: packed_after(&l.qkv, int8, input_norm)?,
                attn_out: packed(&l.attn_out, int8)?,
                intermediate: packed_after(&l.intermediate, int8, &attn_norm)?,
                attn_norm,
                output: packed(&l.output, int8)?,
                out_norm: Norm::new(&l.out_norm)?,
            });
        }
        let last_norm = layers.last().map_or(&emb_norm, |p| &p.out_norm).clone();
        let head = |h: &crate::model::TableHead, upper: bool| -> Result<Head> {
            Ok(Head {
                top: packed(&h.top, int8)?,
                bottom: packed(&h.bottom, int8)?,
                norm: Norm::new(&h.norm)?,
                tag: values(&h.tag.weight)?,
                tag_bias: match &h.tag.bias {
                    Some(b) => values(b)?,
                    None => vec![0.0; h.tag.out_dim()],
                },
                upper,
            })
        };
        let activation = match cfg.hidden_act.as_str() {
            "relu" => Activation::Relu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            _ => Activation::GeluErf,
        };
        Ok(Self {
            word: values(&e.word)?,
            position,
            emb_norm,
            layers,
            d,
            heads: cfg.num_attention_heads,
            vocab: cfg.vocab_size,
            max_positions: cfg.max_position_embeddings,
            activation,
            gate_proj: packed_after(&model.gates.proj, int8, &last_norm)?,
            gate_names: model.gates.names.clone(),
            hidden: model.gates.hidden,
            ner: head(&model.ner, true)?,
            re: head(&model.re, false)?,
            entity_labels: model.ner.tag.out_dim(),
            relation_labels: model.re.tag.out_dim(),
            int8,
        })
    }

    /// Whether the matrix products run in int8.
    pub fn int8(&self) -> bool {
        self.int8
    }

    /// Packs a model straight from its tensors (see [`MgeModel::load`]).
    pub fn load(map: &crate::weights::TensorMap, config: &ModelConfig) -> Result<Self> {
        Self::new(&MgeModel::load(map, config)?)
    }

    /// [`load`](Self::load) for the given arithmetic.
    pub fn load_with(
        map: &crate::weights::TensorMap,
        config: &ModelConfig,
        precision: Precision,
    ) -> Result<Self> {
        Self::with_precision(&MgeModel::load(map, config)?, precision)
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// Runs `[CLS] … [SEP]` ids through the encoder, the gates and both heads. `clock`
    /// (milliseconds) splits the time between the encoder and the rest.
    pub fn forward(
        &self,
        ids: &[u32],
        want_gates: bool,
        clock: Option<&dyn Fn() -> f64>,
    ) -> Result<Tables> {
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
        let now = || clock.map(|c| c()).unwrap_or(0.0);
        let t0 = now();
        let x = encode(self, ids)?;
        let t1 = now();
        let mut out = heads(self, &x, t, want_gates);
        let t2 = now();
        out.encoder_ms = t1 - t0;
        out.heads_ms = t2 - t1;
        Ok(out)
    }

    /// The BERT encoder: `[T, d]` last hidden states.
    #[inline(always)]
    fn encode(&self, ids: &[u32]) -> Result<Vec<f32>> {
        let (t, d) = (ids.len(), self.d);
        let mut x = vec![0f32; t * d];
        for (pos, (&id, row)) in ids.iter().zip(x.chunks_exact_mut(d)).enumerate() {
            let id = id as usize;
            if id >= self.vocab {
                return Err(Error::Config(format!(
                    "token id {id} is outside the vocabulary of {}",
                    self.vocab
                )));
            }
            let w = &self.word[id * d..(id + 1) * d];
            let p = &self.position[pos * d..(pos + 1) * d];
            for ((o, a), b) in row.iter_mut().zip(w).zip(p) {
                *o = a + b;
            }
        }
        self.emb_norm.apply(&mut x);
        let mut ctx = vec![0f32; t * d];
        // Buffers of the attention: one head's keys transposed, and one row of scores.
        let dh = self.d / self.heads;
        let tp = t.div_ceil(LANES) * LANES;
        let mut kt = vec![0f32; dh * tp];
        let mut scores = vec![0f32; tp];
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x, t);
            self.attention(&qkv, t, &mut ctx, &mut kt, &mut scores);
            let mut attn = layer.attn_out.forward(&ctx, t);
            for (a, r) in attn.iter_mut().zip(&x) {
                *a += r;
            }
            layer.attn_norm.apply(&mut attn);
            let mut h = layer.intermediate.forward(&attn, t);
            self.activate(&mut h);
            layer.output.forward_into(&h, t, &mut x);
            for (o, r) in x.iter_mut().zip(&attn) {
                *o += r;
            }
            layer.out_norm.apply(&mut x);
        }
        Ok(x)
    }

    /// Scaled dot-product attention of every head; `qkv` rows are `[q | k | v]`.
    ///
    /// Sums run across [`LANES`] keys (scores) or [`LANES`] values of a head (context) at a
    /// time in a fixed-size accumulator, which stays in a vector register: a dot product per
    /// key ended in a horizontal sum per score, and adding each value row into the context
    /// in memory made every step wait for the previous store (a third of the encoder's time
    /// before, by `perf`).
    #[inline(always)]
    /// `kt` holds `dh × tp` and `s` `tp` values, `tp` being `t` rounded up to whole lanes.
    fn attention(&self, qkv: &[f32], t: usize, ctx: &mut [f32], kt: &mut [f32], s: &mut [f32]) {
        let d = self.d;
        let dh = d / self.heads;
        let scale = 1.0 / (dh as f32).sqrt();
        let tp = s.len();
        debug_assert!(tp >= t && tp.is_multiple_of(LANES) && kt.len() == dh * tp);
        // Keys of one head transposed (`[dh, tp]`; the padding stays zero).
        kt.fill(0.0);
        ctx.fill(0.0);
        for h in 0..self.heads {
            for j in 0..t {
                let k = &qkv[j * 3 * d + d + h * dh..j * 3 * d + d + (h + 1) * dh];
                for (dd, &v) in k.iter().enumerate() {
                    kt[dd * tp + j] = v;
                }
            }
            for i in 0..t {
                let q = &qkv[i * 3 * d + h * dh..i * 3 * d + (h + 1) * dh];
                for (c0, out) in s.chunks_exact_mut(LANES).enumerate() {
                    let mut acc = [0f32; LANES];
                    for (dd, &qd) in q.iter().enumerate() {
                        let row = &kt[dd * tp + c0 * LANES..dd * tp + (c0 + 1) * LANES];
                        for l in 0..LANES {
                            acc[l] += qd * row[l];
                        }
                    }
                    for (o, a) in out.iter_mut().zip(acc) {
                        *o = a * scale;
                    }
                }
                let probs = &mut s[..t];
                let max = max_of(probs);
                // Separate passes: a running sum inside the exp loop would keep it scalar.
                for p in probs.iter_mut() {
                    *p = fast_exp(*p - max);
                }
                let inv = 1.0 / sum(probs, 0.0, false);
                let c = &mut ctx[i * d + h * dh..i * d + (h + 1) * dh];
                let whole = dh / LANES * LANES;
                for c0 in (0..whole).step_by(LANES) {
                    let mut acc = [0f32; LANES];
                    for (j, &p) in probs.iter().enumerate() {
                        let at = j * 3 * d + 2 * d + h * dh + c0;
                        let v = &qkv[at..at + LANES];
                        for l in 0..LANES {
                            acc[l] += p * v[l];
                        }
                    }
                    for (o, a) in c[c0..c0 + LANES].iter_mut().zip(acc) {
                        *o = a * inv;
                    }
                }
                for (j, &p) in probs.iter().enumerate() {
                    let at = j * 3 * d + 2 * d + h * dh;
                    for (o, v) in c[whole..].iter_mut().zip(&qkv[at + whole..at + dh]) {
                        *o += p * inv * v;
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn activate(&self, h: &mut [f32]) {
        const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
        // Plain loops (not closures) so that they inline into the vectorized callers.
        match self.activation {
            Activation::GeluErf => {
                for x in h.iter_mut() {
                    *x = 0.5 * *x * (1.0 + fast_erf(*x * FRAC_1_SQRT_2));
                }
            }
            Activation::GeluTanh => {
                for x in h.iter_mut() {
                    let u = 0.797_884_6 * (*x + 0.044_715 * *x * *x * *x);
                    *x = 0.5 * *x * (1.0 + tanh(u));
                }
            }
            Activation::Relu => {
                for x in h.iter_mut() {
                    *x = x.max(0.0);
                }
            }
        }
    }

    /// The multi-gate encoder (eqs. 1–6) and both table heads (eqs. 7–10) over the inner
    /// sub-tokens of `x` (`[T, d]`).
    #[inline(always)]
    fn heads(&self, x: &[f32], t: usize, want_gates: bool) -> Tables {
        let n = t - 2;
        let inner = &x[self.d..(t - 1) * self.d];
        let hd = self.hidden;
        let z = self.gate_proj.forward(inner, n);
        let width = self.gate_proj.output();
        let chunk = |name: &str| self.gate_names.iter().position(|g| *g == name);
        // Candidates and gates, row by row: [n, hd] each.
        let take = |idx: usize, f: fn(f32) -> f32| -> Vec<f32> {
            let mut v = Vec::with_capacity(n * hd);
            for row in z.chunks_exact(width) {
                v.extend(row[idx * hd..(idx + 1) * hd].iter().map(|&x| f(x)));
            }
            v
        };
        let gate = |name: &str| chunk(name).map(|i| take(i, sigmoid));
        let hc_e = chunk("cand_e").map(|i| take(i, tanh)).unwrap_or_default();
        let hc_r = chunk("cand_r").map(|i| take(i, tanh)).unwrap_or_default();
        let g_e_task = gate("gate_e_task");
        let g_r_task = gate("gate_r_task");
        let g_e_inter = gate("gate_e_inter");
        let g_r_inter = gate("gate_r_inter");
        // A gate scales its candidate element-wise; an ablated task gate passes it through.
        let times = |g: Option<&Vec<f32>>, c: &[f32]| -> Vec<f32> {
            match g {
                Some(g) => g.iter().zip(c).map(|(a, b)| a * b).collect(),
                None => c.to_vec(),
            }
        };
        // eq. 6: H_ner = [H_e_task ; H_r_inter], H_re = [H_r_task ; H_e_inter].
        let concat = |a: Vec<f32>, b: Option<Vec<f32>>| -> Vec<f32> {
            match b {
                None => a,
                Some(b) => {
                    let mut out = Vec::with_capacity(a.len() + b.len());
                    for (ra, rb) in a.chunks_exact(hd).zip(b.chunks_exact(hd)) {
                        out.extend_from_slice(ra);
                        out.extend_from_slice(rb);
                    }
                    out
                }
            }
        };
        let h_ner = concat(
            times(g_e_task.as_ref(), &hc_e),
            g_r_inter.as_ref().map(|g| times(Some(g), &hc_r)),
        );
        let h_re = concat(
            times(g_r_task.as_ref(), &hc_r),
            g_e_inter.as_ref().map(|g| times(Some(g), &hc_e)),
        );
        let gates = want_gates.then(|| {
            let mean = |g: &Option<Vec<f32>>| {
                g.as_ref().map(|g| {
                    g.chunks_exact(hd)
                        .map(|r| r.iter().sum::<f32>() / hd as f32)
                        .collect()
                })
            };
            GateMeans {
                entity_task: mean(&g_e_task),
                relation_task: mean(&g_r_task),
                entity_interaction: mean(&g_e_inter),
                relation_interaction: mean(&g_r_inter),
            }
        });
        Tables {
            n,
            ner: self.ner.table(&h_ner, n),
            re: self.re.table(&h_re, n),
            gates,
            encoder_ms: 0.0,
            heads_ms: 0.0,
        }
    }

    pub fn entity_labels(&self) -> usize {
        self.entity_labels
    }

    pub fn relation_labels(&self) -> usize {
        self.relation_labels
    }
}

impl Head {
    /// Probabilities `[n, n, K]` of `σ(ELU(LN(x_i W_top + b + x_j W_bottom)) W_tag + b_tag)`.
    fn table(&self, x: &[f32], n: usize) -> Vec<f32> {
        let k = self.tag_bias.len();
        let mut out = vec![0f32; n * n * k];
        if n == 0 {
            return out;
        }
        let a = self.top.forward(x, n);
        let b = self.bottom.forward(x, n);
        let row = |i: usize, o: &mut [f32]| table_row(self, &a, &b, i, n, o);
        #[cfg(not(target_arch = "wasm32"))]
        if n * n * self.norm.gamma.len() >= 1 << 16 && rayon::current_num_threads() > 1 {
            use rayon::prelude::*;
            out.par_chunks_mut(n * k)
                .enumerate()
                .for_each(|(i, o)| row(i, o));
            return out;
        }
        for (i, o) in out.chunks_mut(n * k).enumerate() {
            row(i, o);
        }
        out
    }

    /// Row `i` of the table: cells `(i, j)` for every `j` (from `i` on in the entity table).
    #[inline(always)]
    fn row(&self, a: &[f32], b: &[f32], i: usize, n: usize, o: &mut [f32]) {
        let k = self.tag_bias.len();
        let h = self.norm.gamma.len();
        let mut v = vec![0f32; h];
        let ai = &a[i * h..(i + 1) * h];
        let first = if self.upper { i } else { 0 };
        for j in first..n {
            let bj = &b[j * h..(j + 1) * h];
            for ((v, x), y) in v.iter_mut().zip(ai).zip(bj) {
                *v = x + y;
            }
            let (mean, rstd) = moments(&v, self.norm.eps);
            for ((v, g), be) in v.iter_mut().zip(&self.norm.gamma).zip(&self.norm.beta) {
                let y = (*v - mean) * rstd * g + be;
                let neg = fast_exp(y.min(0.0)) - 1.0;
                *v = if y > 0.0 { y } else { neg };
            }
            for (l, p) in o[j * k..(j + 1) * k].iter_mut().enumerate() {
                let w = &self.tag[l * h..(l + 1) * h];
                *p = sigmoid(dot(&v, w) + self.tag_bias[l]);
            }
        }
    }
}

isa::vectorized!(fn encode(e: &Engine, ids: &[u32]) -> Result<Vec<f32>> = Engine::encode);
isa::vectorized!(fn heads(e: &Engine, x: &[f32], t: usize, gates: bool) -> Tables = Engine::heads);
isa::vectorized!(
    fn table_row(h: &Head, a: &[f32], b: &[f32], i: usize, n: usize, o: &mut [f32]) -> () = Head::row
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Gates;
    use crate::model::Batch;
    use crate::testing::{max_abs_diff as max_diff, reference_probabilities, tiny_model};
    use candle_core::Device;

    /// The candle model's probabilities and mean gate activations over the inner cells.
    fn reference(model: &MgeModel, ids: &[u32]) -> (Vec<f32>, Vec<f32>, Vec<Vec<f32>>) {
        let (ner, re) = reference_probabilities(model, ids).unwrap();
        let batch = Batch::new(&[ids], 0, &Device::Cpu).unwrap();
        let gates = model.forward(&batch, None).unwrap().gates;
        let t = ids.len();
        let means: Vec<Vec<f32>> = [
            &gates.entity_task,
            &gates.relation_task,
            &gates.entity_interaction,
            &gates.relation_interaction,
        ]
        .into_iter()
        .flatten()
        .map(|g| {
            let m: Vec<f32> = g.mean(2).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            m[1..t - 1].to_vec()
        })
        .collect();
        (ner, re, means)
    }

    #[test]
    fn matches_the_training_model_with_every_gate_ablation() {
        let all = Gates::default();
        let variants = [
            all,
            Gates {
                entity_task: false,
                ..all
            },
            Gates {
                relation_task: false,
                ..all
            },
            Gates {
                entity_interaction: false,
                ..all
            },
            Gates {
                relation_interaction: false,
                ..all
            },
            Gates {
                entity_interaction: false,
                relation_interaction: false,
                ..all
            },
        ];
        for (v, gates) in variants.into_iter().enumerate() {
            let (mut cfg, _) = tiny_model(40, 3).unwrap();
            cfg.mge.gates = gates;
            let (_, mut map) = tiny_model(40, 3).unwrap();
            map.retain(|k, _| k.starts_with("bert."));
            map.extend(crate::model::init_head_weights(&cfg, 11 + v as u64, &Device::Cpu).unwrap());
            let model = MgeModel::load(&map, &cfg).unwrap();
            let engine = Engine::with_precision(&model, Precision::F32).unwrap();
            for ids in [
                vec![1u32, 2],
                vec![1, 7, 2],
                vec![1, 5, 9, 12, 3, 30, 31, 8, 2],
            ] {
                let (ner, re, means) = reference(&model, &ids);
                let got = engine.forward(&ids, true, None).unwrap();
                assert_eq!(got.n, ids.len() - 2);
                assert!(max_diff(&got.ner, &ner) < 1e-5, "variant {v}: ner");
                assert!(max_diff(&got.re, &re) < 1e-5, "variant {v}: re");
                let g = got.gates.unwrap();
                let mine: Vec<Vec<f32>> = [
                    g.entity_task,
                    g.relation_task,
                    g.entity_interaction,
                    g.relation_interaction,
                ]
                .into_iter()
                .flatten()
                .collect();
                assert_eq!(mine.len(), means.len(), "variant {v}: gate count");
                for (a, b) in mine.iter().zip(&means) {
                    assert!(max_diff(a, b) < 1e-5, "variant {v}: gate means");
                }
            }
        }
    }

    #[test]
    fn decoding_matches_the_training_decoder() {
        let (cfg, map) = tiny_model(40, 5).unwrap();
        let model = MgeModel::load(&map, &cfg).unwrap();
        let engine = Engine::with_precision(&model, Precision::F32).unwrap();
        let ids = [1u32, 5, 9, 12, 3, 30, 31, 8, 2];
        let batch = Batch::new(&[&ids], 0, &Device::Cpu).unwrap();
        let out = model.forward(&batch, None).unwrap();
        let tables = engine.forward(&ids, false, None).unwrap();
        // Thresholds at the median cell so that both tables have many cells on each side.
        let mut ps = tables.re.clone();
        ps.sort_by(f32::total_cmp);
        let threshold = ps[ps.len() / 2];
        let want = &crate::table::decode(&out, &batch, threshold).unwrap()[0];
        let got = tables.decode(threshold);
        assert!(!got.entities.is_empty() && !got.relations.is_empty());
        let key = |c: &ScoredCell| (c.i, c.j, c.label);
        let keys = |v: &[ScoredCell]| v.iter().map(key).collect::<Vec<_>>();
        assert_eq!(keys(&got.entities), keys(&want.entities));
        assert_eq!(keys(&got.relations), keys(&want.relations));
    }

    #[test]
    fn bad_sequences_are_errors_not_panics() {
        let (cfg, map) = tiny_model(40, 3).unwrap();
        let engine = Engine::load(&map, &cfg).unwrap();
        assert!(engine.forward(&[1], false, None).is_err());
        assert!(engine.forward(&[1, 400, 2], false, None).is_err());
        let too_long = vec![1u32; engine.max_positions() + 1];
        assert!(engine.forward(&too_long, false, None).is_err());
    }
}
