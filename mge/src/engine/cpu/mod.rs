//! The CPU backend: each operation of [`forward`](super::forward) on `f32` slices in host
//! memory, natively and in WebAssembly (SIMD128).
//!
//! Matrix products use packed weights ([`gemm::PackedLinear`] in f32,
//! [`qgemm::QuantLinear`] in int8), attention runs head by head on contiguous slices, and
//! each table head fuses `LN → ELU → tagger → sigmoid` per cell, so the `N × N × h` hidden
//! table of eq. 8 is never stored. Element-wise loops are compiled for the widest vector
//! instructions the processor has ([`isa`]).

pub mod gemm;
pub mod isa;
pub mod qgemm;

use super::forward::{Activation, Backend, GateLayout, GateOutput, LinearParts, NormParts};
use crate::error::Result;
use crate::ops::{exp_minus_one_nonpositive, fast_erf, fast_exp};
use gemm::PackedLinear;
use qgemm::QuantLinear;

/// The CPU backend, in f32 or int8 arithmetic for its matrix products.
#[derive(Debug, Clone, Copy)]
pub struct Cpu {
    pub int8: bool,
}

/// A packed linear layer in the backend's arithmetic.
#[derive(Debug, Clone)]
pub enum Matmul {
    F32(PackedLinear),
    Int8(QuantLinear),
}

impl Matmul {
    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        match self {
            Matmul::F32(l) => l.forward(x, rows),
            Matmul::Int8(l) => l.forward(x, rows),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn new(p: &NormParts) -> Self {
        Self {
            gamma: p.gamma.clone(),
            beta: p.beta.clone(),
            eps: p.eps,
        }
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

#[derive(Debug, Clone)]
pub struct Embeddings {
    word: Vec<f32>,
    /// Position embeddings with the token-type-0 embedding already added.
    position: Vec<f32>,
    d: usize,
}

/// A table head's norm and tagger (`tag`: `[labels, hidden]`).
#[derive(Debug, Clone)]
pub struct Tagger {
    norm: Norm,
    tag: Vec<f32>,
    bias: Vec<f32>,
}

impl Backend for Cpu {
    type Tensor = Vec<f32>;
    type Context = ();
    type Linear = Matmul;
    type Norm = Norm;
    type Embeddings = Embeddings;
    type Tagger = Tagger;

    fn linear(&self, p: LinearParts, input_norm: Option<&NormParts>) -> Result<Matmul> {
        let LinearParts {
            weight,
            bias,
            input,
            output,
        } = p;
        let bias = bias.as_deref();
        if !self.int8 {
            return Ok(Matmul::F32(PackedLinear::new(&weight, bias, input, output)));
        }
        // In int8, the inputs that follow a layer norm are evened out by the norm's
        // per-value ranges ([`QuantLinear::smoothed`]).
        Ok(Matmul::Int8(match input_norm {
            Some(norm) if norm.gamma.len() == input => {
                let range: Vec<f32> = norm
                    .gamma
                    .iter()
                    .zip(&norm.beta)
                    .map(|(g, b)| g.abs() + b.abs())
                    .collect();
                QuantLinear::smoothed(&weight, bias, input, output, &range)
            }
            _ => QuantLinear::new(&weight, bias, input, output),
        }))
    }

    fn norm(&self, p: &NormParts) -> Result<Norm> {
        Ok(Norm::new(p))
    }

    fn embeddings(&self, word: Vec<f32>, position: Vec<f32>, d: usize) -> Result<Embeddings> {
        Ok(Embeddings { word, position, d })
    }

    fn tagger(&self, norm: &NormParts, tag: Vec<f32>, bias: Vec<f32>) -> Result<Tagger> {
        Ok(Tagger {
            norm: Norm::new(norm),
            tag,
            bias,
        })
    }

    fn embed(&self, _: &mut (), e: &Embeddings, norm: &Norm, ids: &[u32]) -> Result<Vec<f32>> {
        Ok(embed(e, norm, ids))
    }

    fn matmul(
        &self,
        _: &mut (),
        l: &Matmul,
        x: &Vec<f32>,
        rows: usize,
        act: Option<Activation>,
    ) -> Result<Vec<f32>> {
        let mut y = l.forward(x, rows);
        if let Some(act) = act {
            activate(act, &mut y);
        }
        Ok(y)
    }

    fn attention(
        &self,
        _: &mut (),
        qkv: &Vec<f32>,
        t: usize,
        heads: usize,
        d: usize,
    ) -> Result<Vec<f32>> {
        Ok(attention(qkv, t, heads, d))
    }

    fn add_norm(
        &self,
        _: &mut (),
        mut x: Vec<f32>,
        residual: &Vec<f32>,
        norm: &Norm,
    ) -> Result<Vec<f32>> {
        add_norm(&mut x, residual, norm);
        Ok(x)
    }

    fn inner_rows(&self, _: &mut (), x: &Vec<f32>, t: usize, d: usize) -> Result<Vec<f32>> {
        Ok(x[d..(t - 1) * d].to_vec())
    }

    fn gates(
        &self,
        _: &mut (),
        z: &Vec<f32>,
        n: usize,
        layout: &GateLayout,
        means: bool,
    ) -> Result<GateOutput<Vec<f32>>> {
        Ok(gates(z, n, layout, means))
    }

    fn table(
        &self,
        _: &mut (),
        w: &Tagger,
        a: &Vec<f32>,
        b: &Vec<f32>,
        n: usize,
        upper: bool,
    ) -> Result<Vec<f32>> {
        Ok(w.table(a, b, n, upper))
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

/// `Σ a_k b_k` over equal-length slices (also the training kernels' in `crate::ops`).
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
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
pub(crate) fn sum(a: &[f32], shift: f32, squares: bool) -> f32 {
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

#[inline(always)]
fn embed_inner(e: &Embeddings, norm: &Norm, ids: &[u32]) -> Vec<f32> {
    let d = e.d;
    let mut x = vec![0f32; ids.len() * d];
    for (pos, (&id, row)) in ids.iter().zip(x.chunks_exact_mut(d)).enumerate() {
        let id = id as usize;
        let w = &e.word[id * d..(id + 1) * d];
        let p = &e.position[pos * d..(pos + 1) * d];
        for ((o, a), b) in row.iter_mut().zip(w).zip(p) {
            *o = a + b;
        }
    }
    norm.apply(&mut x);
    x
}

#[inline(always)]
fn add_norm_inner(x: &mut [f32], residual: &[f32], norm: &Norm) {
    for (a, r) in x.iter_mut().zip(residual) {
        *a += r;
    }
    norm.apply(x);
}

#[inline(always)]
fn activate_inner(act: Activation, h: &mut [f32]) {
    const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    // Plain loops (not closures) so that they inline into the vectorized callers.
    match act {
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

/// Queries that [`attention_inner`] computes together. Each has its own accumulators, so
/// their additions do not wait on one another: with AVX-512 one query's sum of
/// [`LANES`] values is one register and one chain of dependent additions (`perf` put 13%
/// of the int8 pass in attention, for about 2% of its arithmetic). In WebAssembly a sum
/// is already four SIMD128 registers, four queries' would not fit the sixteen registers a
/// browser gives it, and two at a time measured no faster in Chromium
/// (`docs/BENCHMARKS.md`), so there it stays one query at a time.
#[cfg(not(target_arch = "wasm32"))]
const QUERIES: usize = 4;
#[cfg(target_arch = "wasm32")]
const QUERIES: usize = 1;

/// Scaled dot-product attention of every head; `qkv` rows are `[q | k | v]`.
///
/// Sums run across [`LANES`] keys (scores) or [`LANES`] values of a head (context) at a
/// time in a fixed-size accumulator, which stays in a vector register, for [`QUERIES`]
/// queries at once. Every value is summed in the same order as one query at a time would
/// (key by key, hidden unit by hidden unit), so the result does not depend on how many
/// queries share a pass.
#[inline(always)]
fn attention_inner(qkv: &[f32], t: usize, heads: usize, d: usize) -> Vec<f32> {
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    // One head's keys in blocks of `LANES` keys (`[tp / LANES][dh][LANES]`, the padding
    // zero), `tp` being `t` rounded up to whole lanes; a block of queries transposed
    // (`[dh][QUERIES]`); their scores, one row each; their probabilities transposed
    // (`[t][QUERIES]`).
    let tp = t.div_ceil(LANES) * LANES;
    let mut kt = vec![0f32; dh * tp];
    let mut qt = vec![0f32; dh * QUERIES];
    let mut s = vec![0f32; QUERIES * tp];
    let mut pt = vec![0f32; t * QUERIES];
    let mut inv = [0f32; QUERIES];
    let mut ctx = vec![0f32; t * d];
    let whole = dh / LANES * LANES;
    let at = |row: usize, part: usize, h: usize| row * 3 * d + part * d + h * dh;
    for h in 0..heads {
        for j in 0..t {
            let (block, lane) = (j / LANES, j % LANES);
            for (dd, &v) in qkv[at(j, 1, h)..at(j, 1, h) + dh].iter().enumerate() {
                kt[(block * dh + dd) * LANES + lane] = v;
            }
        }
        for i0 in (0..t).step_by(QUERIES) {
            let nq = (t - i0).min(QUERIES);
            // Places past the last query repeat it; their results are not kept.
            for m in 0..QUERIES {
                let i = i0 + m.min(nq - 1);
                for (dd, &v) in qkv[at(i, 0, h)..at(i, 0, h) + dh].iter().enumerate() {
                    qt[dd * QUERIES + m] = v;
                }
            }
            for (block, keys) in kt.chunks_exact(dh * LANES).enumerate() {
                let mut acc = [[0f32; LANES]; QUERIES];
                for (row, qd) in keys.chunks_exact(LANES).zip(qt.chunks_exact(QUERIES)) {
                    for m in 0..QUERIES {
                        for l in 0..LANES {
                            acc[m][l] += qd[m] * row[l];
                        }
                    }
                }
                for (m, acc) in acc.iter().enumerate() {
                    let out = &mut s[m * tp + block * LANES..m * tp + (block + 1) * LANES];
                    for (o, a) in out.iter_mut().zip(acc) {
                        *o = a * scale;
                    }
                }
            }
            for m in 0..nq {
                let probs = &mut s[m * tp..m * tp + t];
                let max = max_of(probs);
                // Separate passes: a running sum inside the exp loop would keep it scalar.
                for p in probs.iter_mut() {
                    *p = fast_exp(*p - max);
                }
                inv[m] = 1.0 / sum(probs, 0.0, false);
                for (j, &p) in probs.iter().enumerate() {
                    pt[j * QUERIES + m] = p;
                }
            }
            for c0 in (0..whole).step_by(LANES) {
                let mut acc = [[0f32; LANES]; QUERIES];
                for (j, p) in pt.chunks_exact(QUERIES).enumerate() {
                    let v = &qkv[at(j, 2, h) + c0..at(j, 2, h) + c0 + LANES];
                    for m in 0..QUERIES {
                        for l in 0..LANES {
                            acc[m][l] += p[m] * v[l];
                        }
                    }
                }
                for (m, acc) in acc.iter().enumerate().take(nq) {
                    let base = (i0 + m) * d + h * dh + c0;
                    let c = &mut ctx[base..base + LANES];
                    for (o, a) in c.iter_mut().zip(acc) {
                        *o = a * inv[m];
                    }
                }
            }
            for m in 0..nq {
                let base = (i0 + m) * d + h * dh;
                let c = &mut ctx[base + whole..base + dh];
                for (j, p) in pt.chunks_exact(QUERIES).enumerate() {
                    let v = &qkv[at(j, 2, h) + whole..at(j, 2, h) + dh];
                    for (o, v) in c.iter_mut().zip(v) {
                        *o += p[m] * inv[m] * v;
                    }
                }
            }
        }
    }
    ctx
}

/// Columns `idx·h .. (idx + 1)·h` of a row of the fused gate projection.
#[inline(always)]
fn part(row: &[f32], idx: usize, h: usize) -> &[f32] {
    &row[idx * h..(idx + 1) * h]
}

/// Eqs. 1–6 row by row: candidates through `tanh`, gates through `σ`, each gate scaling its
/// candidate: `H_ner = [g_e_task ⊙ h_e ; g_r_inter ⊙ h_r]`, `H_re = [g_r_task ⊙ h_r ;
/// g_e_inter ⊙ h_e]`. An ablated task gate passes its candidate through; an ablated
/// interaction gate removes its half.
#[inline(always)]
fn gates_inner(z: &[f32], n: usize, l: &GateLayout, want_means: bool) -> GateOutput<Vec<f32>> {
    let hd = l.hidden;
    let (nw, rw) = (l.ner_width(), l.re_width());
    let mut ner = vec![0f32; n * nw];
    let mut re = vec![0f32; n * rw];
    let mut means = want_means.then(|| vec![0f32; 4 * n]);
    let (mut ce, mut cr, mut g) = (vec![0f32; hd], vec![0f32; hd], vec![0f32; hd]);
    for i in 0..n {
        let row = &z[i * l.width..(i + 1) * l.width];
        for (o, &x) in ce.iter_mut().zip(part(row, l.cand_e, hd)) {
            *o = tanh(x);
        }
        for (o, &x) in cr.iter_mut().zip(part(row, l.cand_r, hd)) {
            *o = tanh(x);
        }
        // (gate, its candidate, into H_ner or H_re, at which column), in the order of the
        // rows of the means.
        let products = [
            (l.entity_task, &ce, true, 0),
            (l.relation_task, &cr, false, 0),
            (l.entity_interaction, &ce, false, hd),
            (l.relation_interaction, &cr, true, hd),
        ];
        for (k, (gate, cand, into_ner, at)) in products.into_iter().enumerate() {
            if gate.is_none() && at > 0 {
                continue;
            }
            let dest = if into_ner {
                &mut ner[i * nw + at..i * nw + at + hd]
            } else {
                &mut re[i * rw + at..i * rw + at + hd]
            };
            let Some(idx) = gate else {
                dest.copy_from_slice(cand);
                continue;
            };
            for (o, &x) in g.iter_mut().zip(part(row, idx, hd)) {
                *o = sigmoid(x);
            }
            for ((o, c), s) in dest.iter_mut().zip(cand).zip(&g) {
                *o = c * s;
            }
            if let Some(m) = means.as_mut() {
                m[k * n + i] = sum(&g, 0.0, false) / hd as f32;
            }
        }
    }
    GateOutput { ner, re, means }
}

/// Cells of a table row computed together, one per vector lane ([`Tagger::row`]).
const CELLS: usize = 16;

/// Labels summed together in the tagger product: that many independent accumulators (fewer
/// for the last ones of a table with a number of labels that is not a multiple).
const LABELS: usize = 4;

/// A table's second operand `b` (`n × h`) for the row kernel ([`Tagger::row`]): each `b_j`
/// centred on its mean, transposed to `h × stride` twice (as it is, and times the norm's
/// `γ`), and padded with zeros, so that a block of [`CELLS`] cells read from any `j < n`
/// stays inside it; with `‖b_j − mean‖²` per cell.
struct Columns {
    centred: Vec<f32>,
    scaled: Vec<f32>,
    squares: Vec<f32>,
    stride: usize,
}

impl Columns {
    fn new(b: &[f32], n: usize, gamma: &[f32]) -> Self {
        let h = gamma.len();
        let stride = n + CELLS;
        let mut centred = vec![0f32; h * stride];
        let mut scaled = vec![0f32; h * stride];
        let mut squares = vec![0f32; stride];
        let mut row_c = vec![0f32; h];
        for (j, row) in b.chunks_exact(h).take(n).enumerate() {
            squares[j] = centre(row, &mut row_c);
            for (d, (&x, &g)) in row_c.iter().zip(gamma).enumerate() {
                centred[d * stride + j] = x;
                scaled[d * stride + j] = x * g;
            }
        }
        Self {
            centred,
            scaled,
            squares,
            stride,
        }
    }

    /// `Σ_d a_d · b'[d, j + c]` for each cell `c` of the block at `j` (`b'` centred). Even
    /// and odd units go to two accumulators, which halves the chain of dependent additions.
    #[inline(always)]
    fn cross(&self, a: &[f32], j: usize) -> [f32; CELLS] {
        let (mut even, mut odd) = ([0f32; CELLS], [0f32; CELLS]);
        let (pairs, rest) = a.as_chunks::<2>();
        for (p, &[x0, x1]) in pairs.iter().enumerate() {
            let (b0, b1) = (self.block(2 * p, j), self.block(2 * p + 1, j));
            for c in 0..CELLS {
                even[c] += x0 * b0[c];
                odd[c] += x1 * b1[c];
            }
        }
        if let Some(&x) = rest.first() {
            let b = self.block(a.len() - 1, j);
            for c in 0..CELLS {
                even[c] += x * b[c];
            }
        }
        std::array::from_fn(|c| even[c] + odd[c])
    }

    /// The centred values of hidden unit `d` for cells `j .. j + CELLS`.
    #[inline(always)]
    fn block(&self, d: usize, j: usize) -> &[f32; CELLS] {
        self.cells(&self.centred, d, j)
    }

    /// The centred values times `γ_d` of hidden unit `d` for cells `j .. j + CELLS`.
    #[inline(always)]
    fn scaled_block(&self, d: usize, j: usize) -> &[f32; CELLS] {
        self.cells(&self.scaled, d, j)
    }

    /// Hidden unit `d` of cells `j .. j + CELLS` in one of the transposed copies.
    #[inline(always)]
    fn cells<'a>(&self, v: &'a [f32], d: usize, j: usize) -> &'a [f32; CELLS] {
        let at = d * self.stride + j;
        v[at..at + CELLS]
            .as_array()
            .expect("CELLS values are always inside the padded row")
    }
}

/// Writes `x − mean(x)` into `out` and returns `‖x − mean(x)‖²`.
#[inline(always)]
fn centre(x: &[f32], out: &mut [f32]) -> f32 {
    let mean = sum(x, 0.0, false) / x.len() as f32;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - mean;
    }
    sum(out, 0.0, true)
}

impl Tagger {
    /// Probabilities `[n, n, K]` of `σ(ELU(LN(a_i + b_j)) W_tag + b_tag)`.
    fn table(&self, a: &[f32], b: &[f32], n: usize, upper: bool) -> Vec<f32> {
        let k = self.bias.len();
        let mut out = vec![0f32; n * n * k];
        if n == 0 {
            return out;
        }
        let cols = Columns::new(b, n, &self.norm.gamma);
        let row = |i: usize, o: &mut [f32]| table_row(self, a, &cols, i, n, upper, o);
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

    /// Row `i` of the table: cells `(i, j)` for every `j` (from `i` on in the entity table),
    /// [`CELLS`] at a time with one cell per vector lane. Every sum over the hidden units then
    /// runs down the lanes without a horizontal fold (a fold per cell for the two moments and
    /// for each label cost more than the vector work at h = 300), and each cell's value is the
    /// same whatever the vector width, since a lane never mixes with another.
    ///
    /// The norm's moments come from the two operands centred apart: with `a' = a_i − mean`
    /// and `b' = b_j − mean`, `a_i + b_j` minus its mean is `a' + b'`, and its variance is
    /// `(‖a'‖² + ‖b'‖² + 2 a'·b') / h`. So a cell costs one multiply-add per hidden unit for
    /// its moments (the cross term) instead of two passes over `a_i + b_j`, and the norm's
    /// `γ` is applied to `a'` and `b'` beforehand.
    #[inline(always)]
    fn row(&self, a: &[f32], cols: &Columns, i: usize, n: usize, upper: bool, o: &mut [f32]) {
        let k = self.bias.len();
        let h = self.norm.gamma.len();
        let (gamma, beta) = (&self.norm.gamma, &self.norm.beta);
        let hf = h as f32;
        let mut ai = vec![0f32; h];
        let squares_a = centre(&a[i * h..(i + 1) * h], &mut ai);
        let ai_scaled: Vec<f32> = ai.iter().zip(gamma).map(|(x, g)| x * g).collect();
        // ELU(LN(a_i + b_j)) of the block, per hidden unit.
        let mut y = vec![[0f32; CELLS]; h];
        let first = if upper { i } else { 0 };
        for j0 in (first..n).step_by(CELLS) {
            let cross = cols.cross(&ai, j0);
            let squares_b = &cols.squares[j0..j0 + CELLS];
            let rstd: [f32; CELLS] = std::array::from_fn(|c| {
                // Rounding can take a (near) zero variance below zero.
                let var = ((squares_a + squares_b[c] + 2.0 * cross[c]) / hf).max(0.0);
                1.0 / (var + self.norm.eps).sqrt()
            });
            for (d, (yd, (&x, &be))) in y.iter_mut().zip(ai_scaled.iter().zip(beta)).enumerate() {
                let bj = cols.scaled_block(d, j0);
                for c in 0..CELLS {
                    let v = (x + bj[c]) * rstd[c] + be;
                    let neg = exp_minus_one_nonpositive(v.min(0.0));
                    yd[c] = if v > 0.0 { v } else { neg };
                }
            }
            let cells = (n - j0).min(CELLS);
            let mut l0 = 0;
            while l0 < k {
                // As many labels at once as are left, up to LABELS.
                l0 += match k - l0 {
                    1 => self.labels::<1>(&y, l0, j0, cells, o),
                    2 => self.labels::<2>(&y, l0, j0, cells, o),
                    3 => self.labels::<3>(&y, l0, j0, cells, o),
                    _ => self.labels::<LABELS>(&y, l0, j0, cells, o),
                };
            }
        }
    }

    /// Labels `l0 .. l0 + L` of the block's cells: `σ(y · W_l + b_l)` into `o`. Returns `L`.
    #[inline(always)]
    fn labels<const L: usize>(
        &self,
        y: &[[f32; CELLS]],
        l0: usize,
        j0: usize,
        cells: usize,
        o: &mut [f32],
    ) -> usize {
        let (k, h) = (self.bias.len(), y.len());
        let mut acc = [[0f32; CELLS]; L];
        for (d, yd) in y.iter().enumerate() {
            for (m, acc) in acc.iter_mut().enumerate() {
                let w = self.tag[(l0 + m) * h + d];
                for c in 0..CELLS {
                    acc[c] += yd[c] * w;
                }
            }
        }
        for (m, acc) in acc.iter().enumerate() {
            let l = l0 + m;
            for (c, &z) in acc.iter().enumerate().take(cells) {
                o[(j0 + c) * k + l] = sigmoid(z + self.bias[l]);
            }
        }
        L
    }
}

isa::vectorized!(fn embed(e: &Embeddings, norm: &Norm, ids: &[u32]) -> Vec<f32> = embed_inner);
isa::vectorized!(fn add_norm(x: &mut [f32], residual: &[f32], norm: &Norm) -> () = add_norm_inner);
isa::vectorized!(fn activate(act: Activation, h: &mut [f32]) -> () = activate_inner);
isa::vectorized!(
    fn attention(qkv: &[f32], t: usize, heads: usize, d: usize) -> Vec<f32> = attention_inner
);
isa::vectorized!(
    fn gates(z: &[f32], n: usize, l: &GateLayout, means: bool) -> GateOutput<Vec<f32>> = gates_inner
);
isa::vectorized!(
    fn table_row(
        h: &Tagger,
        a: &[f32],
        cols: &Columns,
        i: usize,
        n: usize,
        upper: bool,
        o: &mut [f32]
    ) -> () = Tagger::row
);

#[cfg(test)]
mod tests {
    use super::*;

    /// `σ(ELU(LN(a_i + b_j)) W + b)` in f64, cell by cell.
    fn reference(t: &Tagger, a: &[f32], b: &[f32], n: usize, i: usize, j: usize) -> Vec<f64> {
        let h = t.norm.gamma.len();
        let v: Vec<f64> = (0..h)
            .map(|d| a[i * h + d] as f64 + b[j * h + d] as f64)
            .collect();
        let mean = v.iter().sum::<f64>() / h as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / h as f64;
        let y: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(d, x)| {
                let z = (x - mean) / (var + t.norm.eps as f64).sqrt() * t.norm.gamma[d] as f64
                    + t.norm.beta[d] as f64;
                if z > 0.0 {
                    z
                } else {
                    z.exp() - 1.0
                }
            })
            .collect();
        assert!(j < n);
        (0..t.bias.len())
            .map(|l| {
                let z: f64 =
                    (0..h).map(|d| y[d] * t.tag[l * h + d] as f64).sum::<f64>() + t.bias[l] as f64;
                1.0 / (1.0 + (-z).exp())
            })
            .collect()
    }

    #[test]
    fn table_heads_match_a_cell_by_cell_reference_on_awkward_sizes() {
        let mut rng = crate::init::Rng::new(11);
        for &(n, h, k) in &[
            (1, 7, 1),
            (15, 9, 4),
            (16, 300, 5),
            (17, 33, 7),
            (40, 300, 2),
        ] {
            let mut vals = |len: usize, scale: f32| -> Vec<f32> {
                (0..len).map(|_| rng.normal() * scale).collect()
            };
            let tagger = Tagger {
                norm: Norm {
                    gamma: vals(h, 1.0),
                    beta: vals(h, 0.5),
                    eps: 1e-5,
                },
                tag: vals(k * h, 0.2),
                bias: vals(k, 1.0),
            };
            let (a, b) = (vals(n * h, 1.0), vals(n * h, 1.0));
            for upper in [false, true] {
                let got = tagger.table(&a, &b, n, upper);
                // The dispatched (widest) kernel gives the same bits as the inner function
                // compiled for the baseline target: no lane ever mixes with another.
                let cols = Columns::new(&b, n, &tagger.norm.gamma);
                let mut plain = vec![0f32; n * n * k];
                for (i, o) in plain.chunks_mut(n * k).enumerate() {
                    tagger.row(&a, &cols, i, n, upper, o);
                }
                assert_eq!(got, plain, "n {n} h {h} k {k} upper {upper}");
                for i in 0..n {
                    for j in 0..n {
                        let cell = &got[(i * n + j) * k..(i * n + j + 1) * k];
                        if upper && j < i {
                            assert!(cell.iter().all(|&p| p == 0.0), "below the diagonal");
                            continue;
                        }
                        for (g, e) in cell.iter().zip(reference(&tagger, &a, &b, n, i, j)) {
                            assert!(
                                (*g as f64 - e).abs() < 2e-5,
                                "n {n} h {h} k {k} cell ({i}, {j}): {g} vs {e}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn table_heads_stay_finite_where_a_cell_has_no_variance() {
        // b_j = −a_j: a cell (j, j) has a_i + b_j = 0, so its variance is zero, and computing
        // it from the two operands' moments rounds by about 1e-7 of ‖a_j − mean‖² (here
        // about 1e-3 per unit, a hundred times the norm's ε) either way.
        let (n, h, k) = (20, 300, 5);
        let mut rng = crate::init::Rng::new(3);
        let tagger = Tagger {
            norm: Norm {
                gamma: (0..h).map(|_| rng.normal()).collect(),
                beta: (0..h).map(|_| rng.normal() * 0.5).collect(),
                eps: 1e-5,
            },
            tag: (0..k * h).map(|_| rng.normal() * 0.2).collect(),
            bias: (0..k).map(|_| rng.normal()).collect(),
        };
        let a: Vec<f32> = (0..n * h).map(|_| rng.normal() * 300.0).collect();
        let b: Vec<f32> = a.iter().map(|x| -x).collect();
        for upper in [false, true] {
            let got = tagger.table(&a, &b, n, upper);
            for (i, j) in (0..n).map(|j| (j, j)).chain([(3, 7), (12, 4)]) {
                if upper && j < i {
                    continue;
                }
                let cell = &got[(i * n + j) * k..(i * n + j + 1) * k];
                for (g, e) in cell.iter().zip(reference(&tagger, &a, &b, n, i, j)) {
                    assert!(g.is_finite(), "cell ({i}, {j}): {g}");
                    assert!((*g as f64 - e).abs() < 1e-4, "cell ({i}, {j}): {g} vs {e}");
                }
            }
        }
    }

    /// Softmax(q kᵀ / √dh) v of one head, in f64.
    fn attention_reference(qkv: &[f32], t: usize, heads: usize, d: usize) -> Vec<f64> {
        let dh = d / heads;
        let mut out = vec![0f64; t * d];
        for h in 0..heads {
            let get =
                |row: usize, part: usize, k: usize| qkv[row * 3 * d + part * d + h * dh + k] as f64;
            for i in 0..t {
                let scores: Vec<f64> = (0..t)
                    .map(|j| {
                        (0..dh).map(|k| get(i, 0, k) * get(j, 1, k)).sum::<f64>()
                            / (dh as f64).sqrt()
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = e.iter().sum();
                for k in 0..dh {
                    out[i * d + h * dh + k] =
                        (0..t).map(|j| e[j] * get(j, 2, k)).sum::<f64>() / total;
                }
            }
        }
        out
    }

    #[test]
    fn attention_matches_a_reference_for_any_number_of_queries_and_head_width() {
        let mut rng = crate::init::Rng::new(5);
        // Sequences shorter than a block of queries or of lanes, not a multiple of either,
        // and heads narrower, as wide as, and wider than the lanes (not a multiple).
        for &(t, heads, d) in &[
            (1, 1, 16),
            (3, 2, 40),
            (5, 4, 20),
            (17, 12, 384),
            (38, 12, 384),
            (70, 3, 60),
        ] {
            let qkv: Vec<f32> = (0..t * 3 * d).map(|_| rng.normal()).collect();
            let got = attention(&qkv, t, heads, d);
            // The widest kernel gives the bits of the baseline build.
            assert_eq!(
                got,
                attention_inner(&qkv, t, heads, d),
                "t {t} heads {heads} d {d}"
            );
            for (k, (g, e)) in got
                .iter()
                .zip(attention_reference(&qkv, t, heads, d))
                .enumerate()
            {
                assert!(
                    (*g as f64 - e).abs() < 1e-4,
                    "t {t} heads {heads} d {d} at {k}: {g} vs {e}"
                );
            }
        }
    }
}
