//! Differentiable fast kernels for the two row-wise operations that dominate a transformer
//! besides matmuls: softmax over the last dimension and layer normalization.
//!
//! candle-nn ships fast CPU kernels for both, but without a backward pass, so training would
//! have to fall back to a chain of a dozen small tensor ops. These custom ops run a single
//! pass over each row forward and express the backward pass with ordinary tensor ops. On
//! devices other than the CPU they defer to composed tensor ops, which autograd handles.
//! [`with_composed_ops`] makes the CPU take that composed path too, so the op graph that CUDA
//! runs can be checked against the fused kernels on a machine without a GPU.

use std::cell::Cell;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor, D};

use crate::engine::cpu::{dot, sum};
use crate::error::Result;

thread_local! {
    /// Set while [`with_composed_ops`] runs on this thread.
    static COMPOSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the fused CPU kernels of this module switched off on the calling thread:
/// every op it builds (and so the backward pass autograd records for it) is the chain of
/// ordinary tensor ops that CUDA and other devices run. The previous setting is restored
/// afterwards, also when `f` panics. Other threads are not affected.
pub fn with_composed_ops<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            COMPOSED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(COMPOSED.with(|c| c.replace(true)));
    f()
}

/// Whether `x` goes through a fused CPU kernel: f32 on the CPU, outside [`with_composed_ops`].
fn fused(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32 && !COMPOSED.with(|c| c.get())
}

fn contiguous_f32<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let data = match s {
        CpuStorage::F32(v) => v.as_slice(),
        _ => candle_core::bail!("{what}: only f32 is supported"),
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{what}: input must be contiguous"),
    }
}

/// `e^x` to about 2e-7 relative error, written so that loops over it vectorize (libm's
/// `expf` is a call per element and dominated the pair tables).
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    // Below -80 the result is exactly 0 (masked attention scores must vanish, not become
    // 1e-35: products of such values are subnormal, and x86 is a hundred times slower on those).
    let tiny = x < -80.0;
    let e = exp_in_range(x.clamp(-80.0, 88.0));
    if tiny {
        0.0
    } else {
        e
    }
}

/// `e^x − 1` for `x ≤ 0`, the negative side of ELU: [`fast_exp`] without its upper clamp
/// and without zeroing below −80, where `e^x − 1` is −1 in f32 either way. The same bits
/// as `fast_exp(x) − 1` for every `x ≤ 0`.
#[inline(always)]
pub fn exp_minus_one_nonpositive(x: f32) -> f32 {
    exp_in_range(x.max(-80.0)) - 1.0
}

/// `e^x` for `x` in `[-80, 88]`.
#[inline(always)]
fn exp_in_range(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Round to nearest with the 1.5·2^23 trick: no `floor` call on targets without SSE4.1.
    // The rounded integer also sits in the low mantissa bits of `t`, so it is read from
    // there: Rust's saturating `f32 as i32` is not vectorized (a scalar conversion per lane).
    const MAGIC: f32 = 12_582_912.0;
    let t = x * LOG2E + MAGIC;
    let k = t - MAGIC;
    let ki = t.to_bits() as i32 - MAGIC.to_bits() as i32;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((ki + 127) as u32) << 23)
}

/// `erf(x)` to about 1.5e-7 absolute error (Abramowitz & Stegun 7.1.26), vectorizable.
#[inline(always)]
pub fn fast_erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * fast_exp(-a * a);
    if x < 0.0 {
        -y
    } else {
        y
    }
}

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// GELU with the exact (erf) form that BERT uses, forward in one pass.
struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "mge-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = contiguous_f32(s, l, "gelu")?;
        let dst: Vec<f32> = src
            .iter()
            .map(|&x| 0.5 * x * (1.0 + fast_erf(x * FRAC_1_SQRT_2)))
            .collect();
        Ok((CpuStorage::F32(dst), l.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(
            arg.contiguous()?
                .apply_op2_no_bwd(&grad.contiguous()?, &GeluGrad)?,
        ))
    }
}

/// `grad · gelu'(x)` with `gelu'(x) = Φ(x) + x φ(x)`.
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "mge-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, "gelu grad")?;
        let g = contiguous_f32(s2, l2, "gelu grad")?;
        if x.len() != g.len() {
            candle_core::bail!("gelu grad: shapes differ");
        }
        let dst: Vec<f32> = x
            .iter()
            .zip(g)
            .map(|(&x, &g)| {
                let cdf = 0.5 * (1.0 + fast_erf(x * FRAC_1_SQRT_2));
                let pdf = FRAC_1_SQRT_2PI * fast_exp(-0.5 * x * x);
                g * (cdf + x * pdf)
            })
            .collect();
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// GELU (erf form).
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if fused(x) {
        Ok(x.contiguous()?.apply_op1(Gelu)?)
    } else {
        Ok(x.gelu_erf()?)
    }
}

struct SoftmaxLastDim;

impl CustomOp1 for SoftmaxLastDim {
    fn name(&self) -> &'static str {
        "mge-softmax-last-dim"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = contiguous_f32(s, l, "softmax")?;
        let dim = l.dims().last().copied().unwrap_or(1).max(1);
        let mut dst = vec![0f32; src.len()];
        for (row, out) in src.chunks_exact(dim).zip(dst.chunks_exact_mut(dim)) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0f32;
            for (o, &x) in out.iter_mut().zip(row) {
                *o = fast_exp(x - max);
                sum += *o;
            }
            let inv = 1.0 / sum;
            out.iter_mut().for_each(|o| *o *= inv);
        }
        Ok((CpuStorage::F32(dst), l.shape().clone()))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        // dx = y * (g - sum(g * y))
        let dot = (grad * res)?.sum_keepdim(D::Minus1)?;
        Ok(Some(res.mul(&grad.broadcast_sub(&dot)?)?))
    }
}

/// Softmax over the last dimension.
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    if fused(x) {
        Ok(x.contiguous()?.apply_op1(SoftmaxLastDim)?)
    } else {
        Ok(candle_nn::ops::softmax(x, D::Minus1)?)
    }
}

struct LayerNormOp {
    eps: f32,
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "mge-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, "layer_norm")?;
        let gamma = contiguous_f32(s2, l2, "layer_norm")?;
        let beta = contiguous_f32(s3, l3, "layer_norm")?;
        let dim = gamma.len();
        if dim == 0 || l1.dims().last() != Some(&dim) || beta.len() != dim {
            candle_core::bail!("layer_norm: weight/bias do not match the last dimension");
        }
        let mut dst = vec![0f32; x.len()];
        let n = dim as f32;
        for (row, out) in x.chunks_exact(dim).zip(dst.chunks_exact_mut(dim)) {
            let mean = row.iter().sum::<f32>() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let rstd = 1.0 / (var + self.eps).sqrt();
            for i in 0..dim {
                out[i] = (row[i] - mean) * rstd * gamma[i] + beta[i];
            }
        }
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dim = x.dim(D::Minus1)?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let rstd = (var + self.eps as f64)?.sqrt()?.recip()?;
        let xhat = xc.broadcast_mul(&rstd)?;
        let gg = grad.broadcast_mul(gamma)?;
        let m1 = gg.mean_keepdim(D::Minus1)?;
        let m2 = (&gg * &xhat)?.mean_keepdim(D::Minus1)?;
        let dx = gg
            .broadcast_sub(&m1)?
            .sub(&xhat.broadcast_mul(&m2)?)?
            .broadcast_mul(&rstd)?;
        let rows = x.elem_count() / dim;
        let dgamma = (grad * &xhat)?.reshape((rows, dim))?.sum(0)?;
        let dbeta = grad.reshape((rows, dim))?.sum(0)?;
        Ok((Some(dx), Some(dgamma), Some(dbeta)))
    }
}

/// Layer normalization over the last dimension with weight `gamma` and bias `beta`.
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
    if fused(x) {
        let x = x.contiguous()?;
        Ok(x.apply_op3(
            &gamma.contiguous()?,
            &beta.contiguous()?,
            LayerNormOp { eps: eps as f32 },
        )?)
    } else {
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let xhat = xc.broadcast_div(&(var + eps)?.sqrt()?)?;
        Ok(xhat.broadcast_mul(gamma)?.broadcast_add(beta)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn close(a: &Tensor, b: &Tensor, tol: f32) {
        let d = crate::testing::tensor_max_abs_diff(a, b).unwrap();
        assert!(d < tol, "max difference {d}");
    }

    #[test]
    fn softmax_matches_reference_forward_and_backward() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (3, 4, 7), &dev).unwrap()).unwrap();
        let w = Tensor::randn(0f32, 1.0, (3, 4, 7), &dev).unwrap();
        let fast = softmax_last_dim(x.as_tensor()).unwrap();
        let slow = candle_nn::ops::softmax(x.as_tensor(), D::Minus1).unwrap();
        close(&fast, &slow, 1e-6);
        let g_fast = (fast * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g_slow = (slow * &w).unwrap().sum_all().unwrap().backward().unwrap();
        close(g_fast.get(&x).unwrap(), g_slow.get(&x).unwrap(), 1e-5);
    }

    #[test]
    fn gelu_matches_candle_erf_gelu_forward_and_backward() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 3.0, (4, 50), &dev).unwrap()).unwrap();
        let w = Tensor::randn(0f32, 1.0, (4, 50), &dev).unwrap();
        let fast = gelu(x.as_tensor()).unwrap();
        let slow = x.as_tensor().gelu_erf().unwrap();
        close(&fast, &slow, 1e-5);
        let gf = (fast * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let gs = (slow * &w).unwrap().sum_all().unwrap().backward().unwrap();
        close(gf.get(&x).unwrap(), gs.get(&x).unwrap(), 1e-5);
    }

    #[test]
    fn layer_norm_matches_reference_forward_and_backward() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0.5f32, 2.0, (2, 5, 6), &dev).unwrap()).unwrap();
        let g = Var::from_tensor(&Tensor::randn(1f32, 0.3, 6, &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, 6, &dev).unwrap()).unwrap();
        let w = Tensor::randn(0f32, 1.0, (2, 5, 6), &dev).unwrap();
        let fast = layer_norm(&x, &g, &b, 1e-5).unwrap();
        let slow = candle_nn::ops::layer_norm_slow(&x, &g, &b, 1e-5).unwrap();
        close(&fast, &slow, 1e-5);
        let gf = (fast * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let gs = (slow * &w).unwrap().sum_all().unwrap().backward().unwrap();
        for v in [&x, &g, &b] {
            close(gf.get(v).unwrap(), gs.get(v).unwrap(), 1e-4);
        }
    }
}

/// A table head after its two projections (eqs. 7–10 with `[x_i; x_j] W` split into
/// `top_i + bottom_j`): for every cell `(i, j)`, the tagger's logits
/// `ELU(LN(top_i + bottom_j)) W_tagᵀ + b_tag`. One fused pass forward and one backward that
/// recomputes each cell's hidden vector: the N×N×h table and its gradient are never stored
/// (they were 30–100 MB a batch, allocated, written and read again by the tagger's matmuls
/// with 4–5 output columns). `params` is `[γ; β; W_tag (K×h, row-major); b_tag]`.
struct PairTable {
    eps: f32,
    h: usize,
    labels: usize,
    /// Only cells `j >= i` (the entity table): the others hold `b_tag` and get no gradient.
    upper: bool,
}

/// One cell's normalized input: `xhat = (top + bottom − mean) · rstd`; returns `rstd`.
#[inline(always)]
fn cell_norm(top: &[f32], bottom: &[f32], eps: f32, xhat: &mut [f32]) -> f32 {
    let n = xhat.len() as f32;
    for ((x, a), b) in xhat.iter_mut().zip(top).zip(bottom) {
        *x = a + b;
    }
    let mean = sum(xhat, 0.0, false) / n;
    for x in xhat.iter_mut() {
        *x -= mean;
    }
    let var = dot(xhat, xhat) / n;
    let rstd = 1.0 / (var + eps).sqrt();
    for x in xhat.iter_mut() {
        *x *= rstd;
    }
    rstd
}

impl PairTable {
    fn split<'a>(&self, p: &'a [f32]) -> (&'a [f32], &'a [f32], &'a [f32], &'a [f32]) {
        let (h, k) = (self.h, self.labels);
        let (gamma, rest) = p.split_at(h);
        let (beta, rest) = rest.split_at(h);
        let (w, bias) = rest.split_at(k * h);
        (gamma, beta, w, bias)
    }
}

impl CustomOp3 for PairTable {
    fn name(&self) -> &'static str {
        "mge-pair-table"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let top = contiguous_f32(s1, l1, "pair table")?;
        let bottom = contiguous_f32(s2, l2, "pair table")?;
        let params = contiguous_f32(s3, l3, "pair table")?;
        let (b, t, h) = l1.shape().dims3()?;
        let k = self.labels;
        if l2.shape().dims3()? != (b, t, h) || h != self.h || params.len() != (2 + k) * h + k {
            candle_core::bail!("pair table: shapes do not match");
        }
        let (gamma, beta, w, bias) = self.split(params);
        let mut out = vec![0f32; b * t * t * k];
        out.par_chunks_mut(t * k).enumerate().for_each(|(row, o)| {
            let bi = row / t;
            let first = if self.upper { row % t } else { 0 };
            let tp = &top[row * h..(row + 1) * h];
            let mut y = vec![0f32; h];
            for (j, cell) in o.chunks_exact_mut(k).enumerate() {
                cell.copy_from_slice(bias);
                if j < first {
                    continue;
                }
                cell_norm(
                    tp,
                    &bottom[(bi * t + j) * h..(bi * t + j + 1) * h],
                    self.eps,
                    &mut y,
                );
                for ((v, g), be) in y.iter_mut().zip(gamma).zip(beta) {
                    let z = *v * g + be;
                    let neg = fast_exp(z.min(0.0)) - 1.0;
                    *v = if z > 0.0 { z } else { neg };
                }
                for (c, wl) in cell.iter_mut().zip(w.chunks_exact(h)) {
                    *c += dot(&y, wl);
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((b, t, t, k))))
    }

    fn bwd(
        &self,
        top: &Tensor,
        bottom: &Tensor,
        params: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        use rayon::prelude::*;
        let (b, t, h) = top.dims3()?;
        let k = self.labels;
        let topv = top.flatten_all()?.to_vec1::<f32>()?;
        let botv = bottom.flatten_all()?.to_vec1::<f32>()?;
        let pv = params.flatten_all()?.to_vec1::<f32>()?;
        let gv = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let (gamma, beta, w, _) = self.split(&pv);
        let eps = self.eps;
        let n = h as f32;
        // One task per batch item: it owns that item's rows of d_top and d_bottom and sums
        // its own parameter gradient; the parts are added in item order (deterministic).
        let parts: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = (0..b)
            .into_par_iter()
            .map(|bi| {
                let mut dtop = vec![0f32; t * h];
                let mut dbot = vec![0f32; t * h];
                let mut dp = vec![0f32; pv.len()];
                let (mut xhat, mut y, mut dy) = (vec![0f32; h], vec![0f32; h], vec![0f32; h]);
                for i in 0..t {
                    let tp = &topv[(bi * t + i) * h..(bi * t + i + 1) * h];
                    for j in (if self.upper { i } else { 0 })..t {
                        let cell = (bi * t + i) * t + j;
                        let dl = &gv[cell * k..(cell + 1) * k];
                        // Cells the loss masks out (padding, [CLS], [SEP]) add nothing.
                        if dl.iter().all(|&d| d == 0.0) {
                            continue;
                        }
                        let bt = &botv[(bi * t + j) * h..(bi * t + j + 1) * h];
                        let rstd = cell_norm(tp, bt, eps, &mut xhat);
                        // y = ELU(z), z = xhat·γ + β; dy = Σ_l dl_l W_l (into dz below).
                        for m in 0..h {
                            let z = xhat[m] * gamma[m] + beta[m];
                            y[m] = if z > 0.0 { z } else { fast_exp(z) - 1.0 };
                            dy[m] = 0.0;
                        }
                        let (dparams, dbias) = dp.split_at_mut((2 + k) * h);
                        let (dgb, dw) = dparams.split_at_mut(2 * h);
                        for (l, &d) in dl.iter().enumerate() {
                            dbias[l] += d;
                            let wl = &w[l * h..(l + 1) * h];
                            let dwl = &mut dw[l * h..(l + 1) * h];
                            for m in 0..h {
                                dwl[m] += d * y[m];
                                dy[m] += d * wl[m];
                            }
                        }
                        // Through ELU (slope e^z = y + 1 below 0) and the norm's scale.
                        let (dgamma, dbeta) = dgb.split_at_mut(h);
                        for m in 0..h {
                            let dz = if y[m] > 0.0 {
                                dy[m]
                            } else {
                                dy[m] * (y[m] + 1.0)
                            };
                            dgamma[m] += dz * xhat[m];
                            dbeta[m] += dz;
                            dy[m] = dz * gamma[m];
                        }
                        let m1 = sum(&dy, 0.0, false) / n;
                        let m2 = dot(&dy, &xhat) / n;
                        let (dt, db) =
                            (&mut dtop[i * h..(i + 1) * h], &mut dbot[j * h..(j + 1) * h]);
                        for m in 0..h {
                            let dx = rstd * (dy[m] - m1 - xhat[m] * m2);
                            dt[m] += dx;
                            db[m] += dx;
                        }
                    }
                }
                (dtop, dbot, dp)
            })
            .collect();
        let mut dtop = Vec::with_capacity(b * t * h);
        let mut dbot = Vec::with_capacity(b * t * h);
        let mut dp = vec![0f32; pv.len()];
        for (a, c, d) in parts {
            dtop.extend(a);
            dbot.extend(c);
            dp.iter_mut().zip(d).for_each(|(x, y)| *x += y);
        }
        let dev = top.device();
        Ok((
            Some(Tensor::from_vec(dtop, (b, t, h), dev)?),
            Some(Tensor::from_vec(dbot, (b, t, h), dev)?),
            Some(Tensor::from_vec(dp, pv.len(), dev)?),
        ))
    }
}

/// The logits of a table head from its two projections: `top`, `bottom` `[B, T, h]`, the
/// norm's `gamma`, `beta` `[h]`, the tagger's `tag_w` `[K, h]` and `tag_b` `[K]` →
/// `[B, T, T, K]`, cell `(i, j)` from `top_i + bottom_j`. With `upper`, cells below the
/// diagonal hold `tag_b` on the CPU path (and the composed value elsewhere): callers must mask
/// them out, as the entity table's loss and decoding do.
#[allow(clippy::too_many_arguments)]
pub fn pair_table(
    top: &Tensor,
    bottom: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    tag_w: &Tensor,
    tag_b: &Tensor,
    eps: f64,
    upper: bool,
) -> Result<Tensor> {
    let (labels, h) = tag_w.dims2()?;
    if fused(top) {
        let params = Tensor::cat(&[gamma, beta, &tag_w.flatten_all()?, tag_b], 0)?;
        let op = PairTable {
            eps: eps as f32,
            h,
            labels,
            upper,
        };
        Ok(top
            .contiguous()?
            .apply_op3(&bottom.contiguous()?, &params, op)?)
    } else {
        pair_table_reference(top, bottom, gamma, beta, tag_w, tag_b, eps)
    }
}

/// The same computation from composed tensor ops, every cell (the path of non-CPU devices,
/// and the reference of the tests).
pub fn pair_table_reference(
    top: &Tensor,
    bottom: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    tag_w: &Tensor,
    tag_b: &Tensor,
    eps: f64,
) -> Result<Tensor> {
    let (b, t, h) = top.dims3()?;
    let pre = top.unsqueeze(2)?.broadcast_add(&bottom.unsqueeze(1)?)?;
    let hidden = layer_norm(&pre, gamma, beta, eps)?.elu(1.0)?;
    let logits = hidden
        .reshape((b * t * t, h))?
        .matmul(&tag_w.t()?)?
        .broadcast_add(tag_b)?;
    Ok(logits.reshape((b, t, t, tag_w.dim(0)?))?)
}

#[cfg(test)]
mod pair_tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn fast_exp_is_accurate() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let (a, b) = (fast_exp(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-6, "exp({x}): {a} vs {b}");
            x += 0.0137;
        }
        assert_eq!(fast_exp(-200.0), 0.0);
        assert_eq!(fast_exp(-10_000.0), 0.0);
    }

    #[test]
    fn elu_side_is_fast_exp_minus_one_to_the_bit() {
        let mut x = 0.0f32;
        while x > -120.0 {
            let (got, want) = (exp_minus_one_nonpositive(x), fast_exp(x) - 1.0);
            assert_eq!(got.to_bits(), want.to_bits(), "x = {x}: {got} vs {want}");
            x -= 0.0071;
        }
        for x in [-0.0, f32::MIN, -80.0, -80.000_01, -79.999_99] {
            assert_eq!(
                exp_minus_one_nonpositive(x).to_bits(),
                (fast_exp(x) - 1.0).to_bits(),
                "x = {x}"
            );
        }
    }

    #[test]
    fn lane_sums_match_plain_sums_on_every_length() {
        for len in [0, 1, 15, 16, 17, 300, 301] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "dot of {len}");
            assert!(
                (sum(&a, 0.0, false) - a.iter().sum::<f32>()).abs() < 1e-4,
                "sum of {len}"
            );
        }
    }

    /// The fused op against composed ops, forward and backward, on every parameter; with a
    /// padded cell masked out of the loss, as the real loss does.
    fn check(upper: bool, labels: usize, h: usize) {
        let dev = Device::Cpu;
        let v = |shape: &[usize], m: f32, s: f32| {
            Var::from_tensor(&Tensor::randn(m, s, shape, &dev).unwrap()).unwrap()
        };
        let (top, bot) = (v(&[2, 5, h], 0.0, 1.0), v(&[2, 5, h], 0.3, 1.0));
        let (g, b) = (v(&[h], 1.0, 0.3), v(&[h], 0.0, 0.3));
        let (tw, tb) = (v(&[labels, h], 0.0, 0.5), v(&[labels], 0.0, 0.5));
        // Loss weights: zero below the diagonal for the entity table and on the last
        // position of the second item (as if it were padding).
        let mut mask = vec![0f32; 2 * 5 * 5 * labels];
        for bi in 0..2 {
            for i in 0..5 {
                for j in 0..5 {
                    let pad = bi == 1 && (i == 4 || j == 4);
                    if (upper && j < i) || pad {
                        continue;
                    }
                    for l in 0..labels {
                        mask[((bi * 5 + i) * 5 + j) * labels + l] = 1.0;
                    }
                }
            }
        }
        let mask = Tensor::from_vec(mask, (2, 5, 5, labels), &dev).unwrap();
        let wts = (Tensor::randn(0f32, 1.0, (2, 5, 5, labels), &dev).unwrap() * &mask).unwrap();
        let fast = pair_table(&top, &bot, &g, &b, &tw, &tb, 1e-5, upper).unwrap();
        let slow = pair_table_reference(&top, &bot, &g, &b, &tw, &tb, 1e-5).unwrap();
        let diff = |a: &Tensor, b: &Tensor| crate::testing::tensor_max_abs_diff(a, b).unwrap();
        let masked = |x: &Tensor| x.broadcast_mul(&mask).unwrap();
        assert!(diff(&masked(&fast), &masked(&slow)) < 1e-5);
        if upper {
            // Below the diagonal: the tagger's bias, untouched.
            let below: Vec<f32> = fast
                .get(0)
                .unwrap()
                .get(3)
                .unwrap()
                .get(1)
                .unwrap()
                .to_vec1()
                .unwrap();
            assert_eq!(below, tb.as_tensor().to_vec1::<f32>().unwrap());
        } else {
            assert!(diff(&fast, &slow) < 1e-5);
        }
        let gf = (fast * &wts)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let gs = (slow * &wts)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, var) in [
            ("top", &top),
            ("bottom", &bot),
            ("gamma", &g),
            ("beta", &b),
            ("tag_w", &tw),
            ("tag_b", &tb),
        ] {
            let d = diff(gf.get(var).unwrap(), gs.get(var).unwrap());
            assert!(d < 1e-4, "{name}: gradients differ by {d}");
        }
    }

    #[test]
    fn fused_pair_table_matches_composed_ops_forward_and_backward() {
        // 37 wide: not a multiple of the 16 lanes; 4 and 5 labels as CoNLL04 has.
        check(false, 5, 37);
        check(true, 4, 37);
        check(false, 1, 16);
    }
}

#[cfg(test)]
mod composed_tests {
    use super::*;
    use crate::model::{Batch, MgeModel};
    use crate::table::{loss, CellLabel, Targets};
    use candle_core::{Device, Var};

    /// Loss and gradients (in name order) of one step of the tiny model, built on this thread.
    fn step(composed: bool) -> (f32, Vec<(String, Vec<f32>)>) {
        let (cfg, map) = crate::testing::tiny_model(30, 4).unwrap();
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        let vars: Vec<(String, Var)> = names
            .iter()
            .map(|n| ((*n).clone(), Var::from_tensor(&map[*n]).unwrap()))
            .collect();
        let tensors = vars
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        let dev = Device::Cpu;
        let batch = Batch::new(&[&[2, 5, 6, 7, 8, 9, 3], &[2, 11, 12, 3]], 0, &dev).unwrap();
        let cell = |i, j, label| CellLabel { i, j, label };
        let targets = Targets::new(
            &batch,
            &[vec![cell(1, 2, 3), cell(4, 5, 0)], vec![cell(1, 1, 1)]],
            &[vec![cell(1, 4, 4)], vec![]],
            4,
            5,
            &dev,
        )
        .unwrap();
        let run = || {
            let model = MgeModel::load(&tensors, &cfg).unwrap();
            loss(&model.forward(&batch, None).unwrap(), &targets).unwrap()
        };
        let l = if composed {
            with_composed_ops(run)
        } else {
            run()
        };
        let grads = l.total.backward().unwrap();
        let g = vars
            .iter()
            .map(|(n, v)| {
                let t = grads.get(v).expect("every parameter has a gradient");
                (n.clone(), t.flatten_all().unwrap().to_vec1().unwrap())
            })
            .collect();
        (l.ner + l.re, g)
    }

    #[test]
    fn composed_ops_on_the_cpu_give_the_fused_kernels_loss_and_gradients() {
        let (fused_loss, fused) = step(false);
        let (composed_loss, composed) = step(true);
        assert!(
            ((fused_loss - composed_loss) / fused_loss).abs() < 1e-5,
            "{fused_loss} vs {composed_loss}"
        );
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let global = fused
            .iter()
            .map(|(_, g)| norm(g).powi(2))
            .sum::<f32>()
            .sqrt();
        let mut differs = false;
        for ((name, a), (_, b)) in fused.iter().zip(&composed) {
            let d: Vec<f32> = a.iter().zip(b).map(|(x, y)| x - y).collect();
            assert!(
                norm(&d) <= 1e-4 * norm(a) + 1e-6 * global,
                "{name}: difference {} of norm {}",
                norm(&d),
                norm(a)
            );
            differs |= d.iter().any(|&x| x != 0.0);
        }
        // The two paths really are different code (fast_exp, the erf approximation, fused
        // reductions), so some rounding must differ: otherwise the switch did nothing.
        assert!(differs, "with_composed_ops changed nothing");
    }

    #[test]
    fn the_switch_is_restored_and_stays_on_its_thread() {
        let x = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        assert!(fused(&x));
        with_composed_ops(|| {
            assert!(!fused(&x));
            let other = std::thread::spawn(|| fused(&Tensor::new(&[1f32], &Device::Cpu).unwrap()));
            assert!(
                other.join().unwrap(),
                "another thread keeps the fused kernels"
            );
            with_composed_ops(|| assert!(!fused(&x)));
            assert!(!fused(&x), "a nested call restores the outer setting");
        });
        assert!(fused(&x));
        let caught = std::panic::catch_unwind(|| with_composed_ops(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(fused(&x), "restored after a panic");
    }
}
