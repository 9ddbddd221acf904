//! int8 matrix products: `C ≈ A Bᵀ + bias` with the weights `B` (`[out, in]`) quantized once
//! at load and the activations `A` quantized row by row at run time (symmetric, except for
//! the plain AVX2 kernel, below), with one f32 scale per block of [`QB`] values along the input dimension (the bundle's q8 blocks, so
//! a q8 bundle's weights are reproduced exactly where no smoothing rescales them,
//! [`QuantLinear::smoothed`]). Products of a block are summed in i32 with
//! dot-product instructions and scaled once per block into f32 accumulators:
//!
//! `C[r, c] = Σ_b sa[r, b] · sw[c, b] · Σ_{k ∈ b} qa[r, k] · qw[c, k]`
//!
//! - x86-64 with AVX-512 VNNI: `vpdpbusd` multiplies unsigned by signed bytes, four per i32
//!   lane, 64 products per instruction. Activations are stored as `qa + 128` (unsigned) and
//!   each block's sum starts at `−128 · Σ_k qw[c, k]`, which takes the offset out again.
//!   With AVX-VNNI (the same instruction on YMM: Intel cores since Alder Lake, Zen 5), the
//!   AVX2 path does the same on 16 columns and 3 rows at a time.
//! - x86-64 with AVX2 and no VNNI (Zen 2/3, Intel before Alder Lake): `vpmaddubsw`, whose
//!   16-bit pair sums would saturate on eight-bit activations, so these come in seven
//!   unsigned bits with a zero point per block (`qa = u − zero`, [`Coding::UNSIGNED_7`]):
//!   the step of eight bits where a block's values have one sign, twice it where they
//!   spread evenly around zero.
//! - wasm32 with SIMD128: `i32x4.dot_i16x8_s` on weights widened from bytes as they are
//!   loaded and activations widened once per call, four rows × eight columns, eight
//!   products per instruction against four f32 multiply-adds.
//! - Elsewhere (and as the reference in tests): plain integer loops.
//!
//! Whether this beats the f32 kernel is a measurement (`docs/BENCHMARKS.md`, "int8");
//! [`super::isa::int8_dot`] says where it is used.

// The kernels index accumulator registers by row and vector: index loops read best there.
#![allow(clippy::needless_range_loop)]

/// Values per scale along the input dimension.
pub const QB: usize = 32;

/// Output columns per packed panel.
pub const QN: usize = if cfg!(target_arch = "wasm32") { 8 } else { 32 };

/// Input values that one packed group holds per column: 4 on x86-64 (`vpdpbusd` sums four
/// byte products), 2 elsewhere (`dot_i16x8` sums two).
const GROUP: usize = if cfg!(target_arch = "x86_64") { 4 } else { 2 };

/// How a kernel wants its activations as bytes: symmetric, `q + zero` (wrapping) with
/// `|q| ≤ 127`, or `asymmetric`: unsigned `u` in `0 ..= 127` with a zero point of its own
/// per block, `v ≈ scale · (u − zero)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Coding {
    zero: u8,
    asymmetric: bool,
}

impl Coding {
    /// Signed bytes, full range (SIMD128, and the reference loops elsewhere).
    const SIGNED: Coding = Coding {
        zero: 0,
        asymmetric: false,
    };
    /// `q + 128` as unsigned, what `vpdpbusd` reads (its offsets take the 128 out again).
    #[cfg(target_arch = "x86_64")]
    const OFFSET_128: Coding = Coding {
        zero: 128,
        asymmetric: false,
    };
    /// Seven unsigned bits from the block's minimum to its maximum (zero included): what
    /// the plain AVX2 kernel reads, so that `vpmaddubsw`'s pair sums stay within
    /// `2 · 127 · 127` of an i16. Values of one sign (after GELU, nearly) keep the eight
    /// bits' step; values spread evenly around zero get twice its step.
    #[cfg(target_arch = "x86_64")]
    const UNSIGNED_7: Coding = Coding {
        zero: 0,
        asymmetric: true,
    };
}

/// Rows per kernel call.
const MR: usize = if cfg!(target_arch = "wasm32") { 4 } else { 6 };

/// A weight matrix quantized to int8 and packed in panels of [`QN`] output columns.
///
/// Panel `p`, group `g` (input values `g·GROUP ..`), column `c`, value `j` sits at
/// `p·kp·QN + g·QN·GROUP + c·GROUP + j`, so a kernel reads the panel front to back.
#[derive(Debug, Clone)]
pub struct QuantLinear {
    weights: Vec<i8>,
    /// Per panel and block, the [`QN`] column scales.
    scales: Vec<f32>,
    /// Per panel and block, `−128 · Σ qw` over the block for each column (x86-64 only).
    offsets: Vec<i32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
    /// `input` rounded up to a multiple of [`QB`] (the padding is zeros).
    kp: usize,
    /// Per input value, the factor activations are multiplied by before they are quantized
    /// (the weights were multiplied by its inverse): see [`QuantLinear::smoothed`].
    smooth: Option<Vec<f32>>,
}

/// Symmetric int8 of one block (at most [`QB`] values, the rest taken as zeros): writes
/// `q` with `v ≈ q · scale`, `|q| ≤ coding.levels`, as the bytes `q + coding.zero`
/// (wrapping), and returns the scale. A block with an infinite or NaN value gets a NaN
/// scale, so that its products are NaN as in f32.
#[inline(always)]
fn quantize_block(
    values: &[f32],
    times: Option<&[f32]>,
    out: &mut [u8; QB],
    coding: Coding,
) -> (f32, i32) {
    match (
        values.as_array::<QB>(),
        times.and_then(|t| t.as_array::<QB>()),
    ) {
        (Some(v), None) if times.is_none() => quantize_full_block(v, out, coding),
        (Some(v), Some(t)) => {
            let mut w = [0f32; QB];
            for ((w, v), t) in w.iter_mut().zip(v).zip(t) {
                *w = v * t;
            }
            quantize_full_block(&w, out, coding)
        }
        _ => {
            let mut w = [0f32; QB];
            w[..values.len()].copy_from_slice(values);
            if let Some(t) = times {
                for (w, t) in w.iter_mut().zip(t) {
                    *w *= t;
                }
            }
            quantize_full_block(&w, out, coding)
        }
    }
}

#[inline(always)]
fn quantize_full_block(v: &[f32; QB], out: &mut [u8; QB], coding: Coding) -> (f32, i32) {
    if coding.asymmetric {
        return quantize_unsigned_7(v, out);
    }
    // Fixed-size arrays and lanes of a running maximum, so that the loops are vectorized;
    // the lanes are then folded pairwise (a running fold over them is a chain of 16
    // dependent steps, which cost more than the block's vector work).
    let mut lanes = [0f32; 16];
    let mut nan = [0u32; 16];
    for half in v.as_chunks::<16>().0 {
        for l in 0..16 {
            let a = half[l].abs();
            lanes[l] = if a > lanes[l] { a } else { lanes[l] };
            nan[l] |= a.is_nan() as u32;
        }
    }
    let mut width = 8;
    while width > 0 {
        for l in 0..width {
            lanes[l] = if lanes[l + width] > lanes[l] {
                lanes[l + width]
            } else {
                lanes[l]
            };
        }
        width /= 2;
    }
    let max = lanes[0];
    let bad = max == f32::INFINITY || nan.iter().fold(0, |a, b| a | b) != 0;
    if bad || max == 0.0 {
        *out = [coding.zero; QB];
        return (if bad { f32::NAN } else { 0.0 }, 0);
    }
    let inv = 127.0 / max;
    // |x · inv| ≤ 127, far inside the range where `round_small` is exact.
    for (o, x) in out.iter_mut().zip(v) {
        *o = (round_small(x * inv) as i8 as u8).wrapping_add(coding.zero);
    }
    (max / 127.0, 0)
}

/// Round to nearest by adding 1.5·2²³: the integer lands in the low mantissa bits (exact
/// for |x| far below 2²²). Bit operations only, so loops of it are vectorized; Rust's
/// saturating `f32 as i32` is not, here.
#[inline(always)]
fn round_small(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

/// [`Coding::UNSIGNED_7`] of one block: `u = round(v / scale) + zero` in `0 ..= 127`, with
/// `scale = (hi − lo) / 127` over the block's range widened to hold zero, and `zero =
/// round(−lo / scale)`. Returns `(scale, zero)`; NaN scale for a block with an infinite or
/// NaN value, as in [`quantize_full_block`].
#[inline(always)]
fn quantize_unsigned_7(v: &[f32; QB], out: &mut [u8; QB]) -> (f32, i32) {
    let (mut lo, mut hi) = ([0f32; 16], [0f32; 16]);
    let mut nan = [0u32; 16];
    for half in v.as_chunks::<16>().0 {
        for l in 0..16 {
            let x = half[l];
            lo[l] = if x < lo[l] { x } else { lo[l] };
            hi[l] = if x > hi[l] { x } else { hi[l] };
            nan[l] |= x.is_nan() as u32;
        }
    }
    let mut width = 8;
    while width > 0 {
        for l in 0..width {
            lo[l] = if lo[l + width] < lo[l] {
                lo[l + width]
            } else {
                lo[l]
            };
            hi[l] = if hi[l + width] > hi[l] {
                hi[l + width]
            } else {
                hi[l]
            };
        }
        width /= 2;
    }
    let (lo, hi) = (lo[0], hi[0]);
    let range = hi - lo;
    let bad = !range.is_finite() || nan.iter().fold(0, |a, b| a | b) != 0;
    if bad || range == 0.0 {
        *out = [0; QB];
        return (if bad { f32::NAN } else { 0.0 }, 0);
    }
    let inv = 127.0 / range;
    let zero = round_small(-lo * inv).clamp(0, 127);
    for (o, x) in out.iter_mut().zip(v) {
        *o = (round_small(x * inv) + zero).clamp(0, 127) as u8;
    }
    (range / 127.0, zero)
}

impl QuantLinear {
    /// Quantizes and packs `weight` (`output × input`, row-major) with an optional bias.
    pub fn new(weight: &[f32], bias: Option<&[f32]>, input: usize, output: usize) -> Self {
        assert_eq!(weight.len(), input * output, "weight shape");
        let kp = input.div_ceil(QB) * QB;
        let blocks = kp / QB;
        let n_panels = output.div_ceil(QN);
        let mut weights = vec![0i8; n_panels * kp * QN];
        let mut scales = vec![0f32; n_panels * blocks * QN];
        let mut offsets = vec![0i32; n_panels * blocks * QN];
        let mut q = [0u8; QB];
        for n in 0..output {
            let (p, c) = (n / QN, n % QN);
            let row = &weight[n * input..(n + 1) * input];
            for b in 0..blocks {
                let k0 = b * QB;
                let vals = &row[k0.min(input)..(k0 + QB).min(input)];
                let (scale, _) = quantize_block(vals, None, &mut q, Coding::SIGNED);
                let q = q.map(|v| v as i8);
                scales[(p * blocks + b) * QN + c] = scale;
                offsets[(p * blocks + b) * QN + c] =
                    -128 * q.iter().map(|&v| v as i32).sum::<i32>();
                for (j, &v) in q.iter().enumerate() {
                    let k = k0 + j;
                    let (g, i) = (k / GROUP, k % GROUP);
                    weights[p * kp * QN + g * QN * GROUP + c * GROUP + i] = v;
                }
            }
        }
        let bias = super::gemm::bias_or_zeros(bias, output);
        Self {
            weights,
            scales,
            offsets,
            bias,
            input,
            output,
            kp,
            smooth: None,
        }
    }

    /// Like [`new`](Self::new), for a layer whose inputs have very different ranges per
    /// input value, `range[k]` being the typical magnitude of input `k` (for the output of
    /// a layer norm, `|γ_k| + |β_k|`). A few inputs many times larger than the rest make
    /// every other value of their block lose its precision (BERT's layer norms have such
    /// outlier dimensions). As in SmoothQuant (Xiao et al. 2023, α = ½), input `k` is
    /// divided by `s_k = √(range_k / max_c |w_ck|)` before it is quantized and the weights
    /// of column `k` are multiplied by it, which leaves the product unchanged and evens out
    /// the ranges of both sides.
    pub fn smoothed(
        weight: &[f32],
        bias: Option<&[f32]>,
        input: usize,
        output: usize,
        range: &[f32],
    ) -> Self {
        assert_eq!(weight.len(), input * output, "weight shape");
        assert_eq!(range.len(), input, "one range per input");
        let mut wmax = vec![0f32; input];
        for row in weight.chunks_exact(input.max(1)) {
            for (m, w) in wmax.iter_mut().zip(row) {
                *m = m.max(w.abs());
            }
        }
        let s: Vec<f32> = range
            .iter()
            .zip(&wmax)
            .map(|(&a, &w)| {
                if a > 0.0 && w > 0.0 && a.is_finite() && w.is_finite() {
                    (a / w).sqrt().clamp(1e-3, 1e3)
                } else {
                    1.0
                }
            })
            .collect();
        let scaled: Vec<f32> = weight
            .chunks_exact(input.max(1))
            .flat_map(|row| row.iter().zip(&s).map(|(w, s)| w * s))
            .collect();
        let mut q = Self::new(&scaled, bias, input, output);
        q.smooth = Some(s.iter().map(|s| 1.0 / s).collect());
        q
    }

    pub fn input(&self) -> usize {
        self.input
    }

    pub fn output(&self) -> usize {
        self.output
    }

    /// `x` is `rows × input` row-major; writes `rows × output` into `out`.
    pub fn forward_into(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        assert_eq!(x.len(), rows * self.input, "input shape");
        assert_eq!(out.len(), rows * self.output, "output shape");
        if rows == 0 || self.output == 0 {
            return;
        }
        let kernel = kernel();
        let acts = Activations::new(
            x,
            rows,
            self.input,
            self.kp,
            self.smooth.as_deref(),
            kernel.coding(),
        );
        let n_panels = self.output.div_ceil(QN);
        super::gemm::by_panels(
            rows,
            self.output,
            self.input,
            n_panels,
            QN,
            out,
            |p0, p1, part, stride| self.panels_into(&acts, p0, p1, part, stride, kernel),
        );
    }

    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut out = vec![0f32; rows * self.output];
        self.forward_into(x, rows, &mut out);
        out
    }

    /// Panels `p0..p1` into `out` (rows `stride` wide, starting at column `p0·QN`).
    fn panels_into(
        &self,
        a: &Activations,
        p0: usize,
        p1: usize,
        out: &mut [f32],
        stride: usize,
        kernel: Kernel,
    ) {
        let blocks = self.kp / QB;
        // One panel's results for every row, summed over chunks of the input dimension.
        let mut tile = vec![[0f32; QN]; a.rows];
        for p in p0..p1 {
            let c0 = p * QN;
            let cols = (self.output - c0).min(QN);
            let local = c0 - p0 * QN;
            let bias = &self.bias[c0..c0 + cols];
            // Chunks of the input dimension, so that a chunk of the panel (12 KB) and of six
            // rows stay in a 32 KB L1 while every row block reads them. (On the 48 KB L1 of
            // the Zen 5 measured, a 1536-long panel read whole was as fast.)
            for b0 in (0..blocks).step_by(KC) {
                for offset in (0..QN).step_by(kernel.width()) {
                    let panel = Panel {
                        weights: &self.weights[p * self.kp * QN..(p + 1) * self.kp * QN],
                        scales: &self.scales[p * blocks * QN..(p + 1) * blocks * QN],
                        offsets: &self.offsets[p * blocks * QN..(p + 1) * blocks * QN],
                        b0,
                        b1: (b0 + KC).min(blocks),
                        blocks,
                        offset,
                    };
                    for (r0, m) in super::gemm::row_blocks(a.rows, kernel.rows()) {
                        micro(kernel, a, r0, m, &panel, &mut tile[r0..r0 + m]);
                    }
                }
            }
            for (r, row) in tile.iter().enumerate() {
                let dst = &mut out[r * stride + local..r * stride + local + cols];
                for ((d, v), b) in dst.iter_mut().zip(row).zip(bias) {
                    *d = v + b;
                }
            }
        }
    }
}

/// One panel's slices.
struct Panel<'a> {
    weights: &'a [i8],
    scales: &'a [f32],
    /// Read by the kernels of unsigned activations (x86-64).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    offsets: &'a [i32],
    /// The blocks to add up now: from `b0` (the first: start from zero, else from the
    /// tile) to `b1`.
    b0: usize,
    b1: usize,
    blocks: usize,
    /// The first column this call computes ([`Kernel::width`] columns from there; read by
    /// the AVX-VNNI kernel, 0 for the others).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    offset: usize,
}

/// Blocks of [`QB`] input values per chunk (384 values).
const KC: usize = 12;

/// Activations quantized row by row in blocks of [`QB`].
struct Activations {
    /// `rows × kp` bytes: `q + coding.zero` (wrapping).
    q: Vec<u8>,
    coding: Coding,
    /// `rows × blocks` zero points of an asymmetric coding (empty otherwise).
    zeros: Vec<i32>,
    /// `q` widened to `i16` (SIMD128), so that the kernel loads two neighbours as one
    /// 32-bit lane and splats them (`v128.load32_splat`) instead of assembling the pair.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    wide: Vec<i16>,
    /// `rows × blocks` scales.
    scales: Vec<f32>,
    rows: usize,
    kp: usize,
}

impl Activations {
    fn new(
        x: &[f32],
        rows: usize,
        input: usize,
        kp: usize,
        times: Option<&[f32]>,
        coding: Coding,
    ) -> Self {
        let mut a = Self {
            q: vec![0u8; rows * kp],
            coding,
            zeros: if coding.asymmetric {
                vec![0; rows * (kp / QB)]
            } else {
                Vec::new()
            },
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            wide: Vec::new(),
            scales: vec![0f32; rows * (kp / QB)],
            rows,
            kp,
        };
        quantize_rows(&mut a, x, input, times);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            a.wide = a.q.iter().map(|&v| v as i8 as i16).collect();
        }
        a
    }

    /// Quantizes `x` (`rows × input`) into `self`, each value times `times` first if given.
    #[inline(always)]
    fn quantize(&mut self, x: &[f32], input: usize, times: Option<&[f32]>) {
        let (kp, blocks, coding) = (self.kp, self.kp / QB, self.coding);
        for r in 0..self.rows {
            let row = &x[r * input..(r + 1) * input];
            let dst = &mut self.q[r * kp..(r + 1) * kp];
            for (b, out) in dst.as_chunks_mut::<QB>().0.iter_mut().enumerate() {
                let k0 = b * QB;
                let vals = &row[k0.min(input)..(k0 + QB).min(input)];
                let t = times.map(|t| &t[k0.min(input)..(k0 + QB).min(input)]);
                let (scale, zero) = quantize_block(vals, t, out, coding);
                self.scales[r * blocks + b] = scale;
                if coding.asymmetric {
                    self.zeros[r * blocks + b] = zero;
                }
            }
        }
    }
}

super::isa::vectorized!(
    fn quantize_rows(
        a: &mut Activations,
        x: &[f32],
        input: usize,
        times: Option<&[f32]>
    ) -> () = Activations::quantize
);

/// The kernels.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kernel {
    /// Integer loops (any target; the reference of the tests).
    Portable,
    /// AVX-512 VNNI: 6 rows × 32 columns.
    #[cfg(target_arch = "x86_64")]
    Vnni,
    /// AVX-VNNI (`vpdpbusd` on YMM, processors with AVX2 and no AVX-512 of recent
    /// generations): 3 rows × 16 columns, which fits 16 registers.
    #[cfg(target_arch = "x86_64")]
    AvxVnni,
    /// Plain AVX2 (no VNNI: Zen 2/3, Intel before Alder Lake): `vpmaddubsw` on seven-bit
    /// unsigned activations, then `vpmaddwd` into i32; 4 rows × 16 columns.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Simd128,
}

impl Kernel {
    /// How the kernel reads activations.
    fn coding(self) -> Coding {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Portable | Kernel::Vnni | Kernel::AvxVnni => Coding::OFFSET_128,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => Coding::UNSIGNED_7,
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Portable => Coding::SIGNED,
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Kernel::Simd128 => Coding::SIGNED,
        }
    }

    /// Columns of the panel per call.
    fn width(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::AvxVnni | Kernel::Avx2 => 16,
            _ => QN,
        }
    }

    /// Rows per call (at most [`MR`]).
    fn rows(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::AvxVnni => 3,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => AVX2_ROWS,
            _ => MR,
        }
    }
}

fn kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    match super::isa::int8_kernel() {
        Some(super::isa::Int8Kernel::Avx512Vnni) => return Kernel::Vnni,
        Some(super::isa::Int8Kernel::AvxVnni) => return Kernel::AvxVnni,
        Some(super::isa::Int8Kernel::Avx2) => return Kernel::Avx2,
        None => {}
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return Kernel::Simd128;
    #[allow(unreachable_code)]
    Kernel::Portable
}

/// Rows `r0 .. r0 + m` (`m ≤ MR`) times the panel's blocks `b0..b1`, added to `acc` (one
/// row each; overwritten when `b0` is 0).
fn micro(kernel: Kernel, a: &Activations, r0: usize, m: usize, p: &Panel, acc: &mut [[f32; QN]]) {
    debug_assert!((1..=MR).contains(&m) && r0 + m <= a.rows && acc.len() == m);
    macro_rules! call {
        ($f:ident) => {
            match m {
                1 => $f::<1>(a, r0, p, acc),
                2 => $f::<2>(a, r0, p, acc),
                3 => $f::<3>(a, r0, p, acc),
                4 => $f::<4>(a, r0, p, acc),
                #[cfg(not(target_arch = "wasm32"))]
                5 => $f::<5>(a, r0, p, acc),
                #[cfg(not(target_arch = "wasm32"))]
                _ => $f::<6>(a, r0, p, acc),
                #[cfg(target_arch = "wasm32")]
                _ => unreachable!("at most {MR} rows"),
            }
        };
    }
    match kernel {
        Kernel::Portable => call!(portable),
        // SAFETY: VNNI was detected at run time (`int8_kernel`); the kernel reads `m`
        // rows of `kp` bytes from `r0` and one whole panel, all inside their slices.
        #[cfg(target_arch = "x86_64")]
        Kernel::Vnni => unsafe { call!(vnni) },
        // SAFETY: as above, AVX-VNNI detected; it reads 16 columns from the panel's offset.
        #[cfg(target_arch = "x86_64")]
        Kernel::AvxVnni => unsafe { call!(avxvnni) },
        // SAFETY: as above, AVX2 detected (`Isa::Avx2` or wider).
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { call!(avx2) },
        // SAFETY: SIMD128 is enabled at build time; the reads are as above.
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Kernel::Simd128 => unsafe { call!(simd128) },
    }
}

/// Plain integer loops, the layout read value by value.
fn portable<const M: usize>(a: &Activations, r0: usize, p: &Panel, acc: &mut [[f32; QN]]) {
    let blocks = p.blocks;
    for r in 0..M {
        let row = &a.q[(r0 + r) * a.kp..(r0 + r + 1) * a.kp];
        for c in 0..QN {
            let mut total = if p.b0 == 0 { 0.0 } else { acc[r][c] };
            for b in p.b0..p.b1 {
                let mut s = 0i32;
                for k in b * QB..(b + 1) * QB {
                    let q = if a.coding.asymmetric {
                        row[k] as i32 - a.zeros[(r0 + r) * blocks + b]
                    } else {
                        row[k].wrapping_sub(a.coding.zero) as i8 as i32
                    };
                    let (g, i) = (k / GROUP, k % GROUP);
                    s += q * p.weights[g * QN * GROUP + c * GROUP + i] as i32;
                }
                total += s as f32 * (a.scales[(r0 + r) * blocks + b] * p.scales[b * QN + c]);
            }
            acc[r][c] = total;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn vnni<const M: usize>(a: &Activations, r0: usize, p: &Panel, acc: &mut [[f32; QN]]) {
    use std::arch::x86_64::*;
    let blocks = p.blocks;
    let wp = p.weights.as_ptr();
    let xp = a.q.as_ptr().add(r0 * a.kp);
    let sp = a.scales.as_ptr().add(r0 * blocks);
    let mut f = [[_mm512_setzero_ps(); 2]; M];
    if p.b0 > 0 {
        for r in 0..M {
            f[r] = [
                _mm512_loadu_ps(acc[r].as_ptr()),
                _mm512_loadu_ps(acc[r].as_ptr().add(16)),
            ];
        }
    }
    for b in p.b0..p.b1 {
        let o0 = _mm512_loadu_si512(p.offsets.as_ptr().add(b * QN) as *const _);
        let o1 = _mm512_loadu_si512(p.offsets.as_ptr().add(b * QN + 16) as *const _);
        let mut s = [[o0, o1]; M];
        for g in 0..QB / 4 {
            let w = wp.add((b * QB / 4 + g) * QN * 4);
            let w0 = _mm512_loadu_si512(w as *const _);
            let w1 = _mm512_loadu_si512(w.add(64) as *const _);
            for r in 0..M {
                let x4 = (xp.add(r * a.kp + b * QB + g * 4) as *const i32).read_unaligned();
                let x = _mm512_set1_epi32(x4);
                s[r][0] = _mm512_dpbusd_epi32(s[r][0], x, w0);
                s[r][1] = _mm512_dpbusd_epi32(s[r][1], x, w1);
            }
        }
        let c0 = _mm512_loadu_ps(p.scales.as_ptr().add(b * QN));
        let c1 = _mm512_loadu_ps(p.scales.as_ptr().add(b * QN + 16));
        for r in 0..M {
            let sa = _mm512_set1_ps(*sp.add(r * blocks + b));
            f[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r][0]), _mm512_mul_ps(sa, c0), f[r][0]);
            f[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r][1]), _mm512_mul_ps(sa, c1), f[r][1]);
        }
    }
    for r in 0..M {
        _mm512_storeu_ps(acc[r].as_mut_ptr(), f[r][0]);
        _mm512_storeu_ps(acc[r].as_mut_ptr().add(16), f[r][1]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn avxvnni<const M: usize>(a: &Activations, r0: usize, p: &Panel, acc: &mut [[f32; QN]]) {
    use std::arch::x86_64::*;
    let blocks = p.blocks;
    let o = p.offset;
    let wp = p.weights.as_ptr();
    let xp = a.q.as_ptr().add(r0 * a.kp);
    let sp = a.scales.as_ptr().add(r0 * blocks);
    let mut f = [[_mm256_setzero_ps(); 2]; M];
    if p.b0 > 0 {
        for r in 0..M {
            f[r] = [
                _mm256_loadu_ps(acc[r].as_ptr().add(o)),
                _mm256_loadu_ps(acc[r].as_ptr().add(o + 8)),
            ];
        }
    }
    for b in p.b0..p.b1 {
        // From the offsets, which take out the `+ 128` of the activations.
        let o0 = _mm256_loadu_si256(p.offsets.as_ptr().add(b * QN + o) as *const _);
        let o1 = _mm256_loadu_si256(p.offsets.as_ptr().add(b * QN + o + 8) as *const _);
        let mut s = [[o0, o1]; M];
        for g in 0..QB / 4 {
            // Columns `o ..` of the group: 4 bytes each.
            let w = wp.add((b * QB / 4 + g) * QN * 4 + o * 4);
            let w0 = _mm256_loadu_si256(w as *const _);
            let w1 = _mm256_loadu_si256(w.add(32) as *const _);
            for r in 0..M {
                let x4 = (xp.add(r * a.kp + b * QB + g * 4) as *const i32).read_unaligned();
                let x = _mm256_set1_epi32(x4);
                s[r][0] = _mm256_dpbusd_avx_epi32(s[r][0], x, w0);
                s[r][1] = _mm256_dpbusd_avx_epi32(s[r][1], x, w1);
            }
        }
        let c0 = _mm256_loadu_ps(p.scales.as_ptr().add(b * QN + o));
        let c1 = _mm256_loadu_ps(p.scales.as_ptr().add(b * QN + o + 8));
        for r in 0..M {
            let sa = _mm256_set1_ps(*sp.add(r * blocks + b));
            f[r][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][0]), _mm256_mul_ps(sa, c0), f[r][0]);
            f[r][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][1]), _mm256_mul_ps(sa, c1), f[r][1]);
        }
    }
    for r in 0..M {
        _mm256_storeu_ps(acc[r].as_mut_ptr().add(o), f[r][0]);
        _mm256_storeu_ps(acc[r].as_mut_ptr().add(o + 8), f[r][1]);
    }
}

/// Rows per call of the plain AVX2 kernel: 4 rows × 2 vectors of sums, two weight
/// vectors, the activations, the ones and two products take 14 of the 16 YMM registers
/// (the f32 totals stay in memory, added once a block).
#[cfg(target_arch = "x86_64")]
const AVX2_ROWS: usize = 4;

/// AVX2 without VNNI: 16 columns from `p.offset`, `M` rows. `vpmaddubsw` multiplies
/// unsigned by signed bytes and adds pairs into i16 with saturation. The activations come
/// in seven unsigned bits with a zero point per row and block ([`Coding::UNSIGNED_7`]), so
/// a pair stays within `2 · 127 · 127` and never saturates; `vpmaddwd` by ones adds the
/// pairs of a column's four bytes into its i32 lane, and each block's sum starts at
/// `−zero · Σ qw`, which takes the zero point out again. Three vector operations per 32
/// products, against four and a sign fix per weight vector and row for eight signed bits
/// (whose pair sums would saturate as `q + 128`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<const M: usize>(a: &Activations, r0: usize, p: &Panel, acc: &mut [[f32; QN]]) {
    use std::arch::x86_64::*;
    let blocks = p.blocks;
    let o = p.offset;
    let wp = p.weights.as_ptr();
    let xp = a.q.as_ptr().add(r0 * a.kp);
    let sp = a.scales.as_ptr().add(r0 * blocks);
    let zp = a.zeros.as_ptr().add(r0 * blocks);
    let ones = _mm256_set1_epi16(1);
    if p.b0 == 0 {
        for row in acc.iter_mut() {
            row[o..o + 16].fill(0.0);
        }
    }
    for b in p.b0..p.b1 {
        // −Σ qw of each column: the VNNI offsets (−128 · Σ qw) shifted, exactly.
        let n0 = _mm256_srai_epi32::<7>(_mm256_loadu_si256(
            p.offsets.as_ptr().add(b * QN + o) as *const _
        ));
        let n1 = _mm256_srai_epi32::<7>(_mm256_loadu_si256(
            p.offsets.as_ptr().add(b * QN + o + 8) as *const _
        ));
        let mut s = [[n0, n1]; M];
        for r in 0..M {
            let z = _mm256_set1_epi32(*zp.add(r * blocks + b));
            s[r] = [_mm256_mullo_epi32(z, n0), _mm256_mullo_epi32(z, n1)];
        }
        for g in 0..QB / 4 {
            let w = wp.add((b * QB / 4 + g) * QN * 4 + o * 4);
            let w0 = _mm256_loadu_si256(w as *const _);
            let w1 = _mm256_loadu_si256(w.add(32) as *const _);
            for r in 0..M {
                let x4 = (xp.add(r * a.kp + b * QB + g * 4) as *const i32).read_unaligned();
                let x = _mm256_set1_epi32(x4);
                let p0 = _mm256_maddubs_epi16(x, w0);
                let p1 = _mm256_maddubs_epi16(x, w1);
                s[r][0] = _mm256_add_epi32(s[r][0], _mm256_madd_epi16(p0, ones));
                s[r][1] = _mm256_add_epi32(s[r][1], _mm256_madd_epi16(p1, ones));
            }
        }
        let c0 = _mm256_loadu_ps(p.scales.as_ptr().add(b * QN + o));
        let c1 = _mm256_loadu_ps(p.scales.as_ptr().add(b * QN + o + 8));
        for r in 0..M {
            let sa = _mm256_set1_ps(*sp.add(r * blocks + b));
            let f = acc[r].as_mut_ptr().add(o);
            let t0 = _mm256_fmadd_ps(
                _mm256_cvtepi32_ps(s[r][0]),
                _mm256_mul_ps(sa, c0),
                _mm256_loadu_ps(f),
            );
            let t1 = _mm256_fmadd_ps(
                _mm256_cvtepi32_ps(s[r][1]),
                _mm256_mul_ps(sa, c1),
                _mm256_loadu_ps(f.add(8)),
            );
            _mm256_storeu_ps(f, t0);
            _mm256_storeu_ps(f.add(8), t1);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn simd128<const M: usize>(a: &Activations, r0: usize, p: &Panel, acc: &mut [[f32; QN]]) {
    use core::arch::wasm32::*;
    let blocks = p.blocks;
    let wp = p.weights.as_ptr();
    let xp = a.wide.as_ptr().add(r0 * a.kp);
    if p.b0 == 0 {
        for row in acc.iter_mut() {
            *row = [0.0; QN];
        }
    }
    for b in p.b0..p.b1 {
        // The block's integer sums stay in registers (two vectors a row, up to four rows);
        // the f32 totals are added in memory once a block, which leaves registers for the
        // rows (V8 gives sixteen).
        let mut s = [[i32x4_splat(0); 2]; M];
        let wb = wp.add(b * QB * QN);
        let xb = xp.add(b * QB);
        for g in 0..QB / 2 {
            // 8 columns × 2 values: two groups of 4 columns, widened to i16 as loaded.
            let w = wb.add(g * QN * 2);
            let w0 = i16x8_load_extend_i8x8(w);
            let w1 = i16x8_load_extend_i8x8(w.add(8));
            for r in 0..M {
                // Values 2g and 2g + 1 of row r as one lane, in every lane.
                let x = v128_load32_splat(xb.add(r * a.kp + g * 2) as *const u32);
                s[r][0] = i32x4_add(s[r][0], i32x4_dot_i16x8(x, w0));
                s[r][1] = i32x4_add(s[r][1], i32x4_dot_i16x8(x, w1));
            }
        }
        let c0 = v128_load(p.scales.as_ptr().add(b * QN) as *const v128);
        let c1 = v128_load(p.scales.as_ptr().add(b * QN + 4) as *const v128);
        for r in 0..M {
            let sa = f32x4_splat(a.scales[(r0 + r) * blocks + b]);
            let o = acc[r].as_mut_ptr() as *mut v128;
            v128_store(
                o,
                f32x4_add(
                    v128_load(o),
                    f32x4_mul(f32x4_convert_i32x4(s[r][0]), f32x4_mul(sa, c0)),
                ),
            );
            v128_store(
                o.add(1),
                f32x4_add(
                    v128_load(o.add(1)),
                    f32x4_mul(f32x4_convert_i32x4(s[r][1]), f32x4_mul(sa, c1)),
                ),
            );
        }
    }
}

/// `(rows, input, output)` of the kernel tests: single values, partial blocks, panels and
/// row blocks, a layer's shape.
fn awkward_shapes() -> [(usize, usize, usize); 7] {
    [
        (1, 1, 1),
        (3, 5, 7),
        (9, 33, 31),
        (7, 64, 65),
        (17, 96, 40),
        (38, 384, 1152),
        (40, 600, 300),
    ]
}

/// Every int8 kernel this build and processor can run, the integer loops first.
fn kernels() -> Vec<Kernel> {
    #[allow(unused_mut)]
    let mut all = vec![Kernel::Portable];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("avx512f")
        {
            all.push(Kernel::Vnni);
        }
        if std::arch::is_x86_feature_detected!("avxvnni") {
            all.push(Kernel::AvxVnni);
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            all.push(Kernel::Avx2);
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    all.push(Kernel::Simd128);
    all
}

/// For the tests, here and in the browser (`web/tests/parity_wasm.rs`): runs every vector
/// kernel of this build and processor on awkward shapes, on the activations coded as it
/// reads them, and the integer loops on the same bytes; they must agree up to f32 rounding
/// of the per-block scaling. Returns the names of the kernels checked.
#[doc(hidden)]
pub fn check_kernels() -> Result<Vec<String>, String> {
    let vector: Vec<Kernel> = kernels().into_iter().skip(1).collect();
    let mut rng = crate::init::Rng::new(5);
    for (rows, input, output) in awkward_shapes() {
        let x: Vec<f32> = (0..rows * input).map(|_| rng.normal()).collect();
        let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
        let q = QuantLinear::new(&w, None, input, output);
        let n_panels = output.div_ceil(QN);
        let run = |k: Kernel, a: &Activations| {
            let mut out = vec![0f32; rows * output];
            q.panels_into(a, 0, n_panels, &mut out, output, k);
            out
        };
        for &k in &vector {
            let a = Activations::new(&x, rows, input, q.kp, None, k.coding());
            let reference = run(Kernel::Portable, &a);
            let got = run(k, &a);
            for (g, e) in got.iter().zip(&reference) {
                if (g - e).abs() > 1e-5 * e.abs().max(1.0) {
                    return Err(format!(
                        "{k:?} on {rows}×{input}×{output}: {g} where the integer loops give {e}"
                    ));
                }
            }
        }
    }
    Ok(vector.iter().map(|k| format!("{k:?}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// int8 products are within a few quantization steps of the exact ones: the error of a
    /// block is at most about `Σ |x| · step_w + Σ |w| · step_x` over its values.
    #[test]
    fn close_to_the_exact_product_on_awkward_shapes() {
        let mut rng = crate::init::Rng::new(3);
        for (rows, input, output) in awkward_shapes() {
            let x: Vec<f32> = (0..rows * input).map(|_| rng.normal()).collect();
            let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
            let b: Vec<f32> = (0..output).map(|_| rng.normal()).collect();
            let q = QuantLinear::new(&w, Some(&b), input, output);
            let want = crate::testing::exact_linear(&x, &w, &b, rows, input, output);
            // Random normals: max |v| ≈ 3, so a step ≈ 3/127 and the rounding errors
            // (uniform, ±step/2) add up like a random walk over `input` terms. Seven-bit
            // activations spread evenly around zero have twice the step on their side.
            let got = q.forward(&x, rows);
            let tol = 0.06 * (input as f32).sqrt() + 1e-4;
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() < tol, "{rows}x{input}x{output}: {g} vs {e}");
            }
            for k in kernels() {
                let a = Activations::new(&x, rows, input, q.kp, None, k.coding());
                let mut got = vec![0f32; rows * output];
                q.panels_into(&a, 0, output.div_ceil(QN), &mut got, output, k);
                let tol =
                    if k.coding().asymmetric { 0.09 } else { 0.06 } * (input as f32).sqrt() + 1e-4;
                for (g, e) in got.iter().zip(&want) {
                    assert!(
                        (g - e).abs() < tol,
                        "{k:?} {rows}x{input}x{output}: {g} vs {e}"
                    );
                }
            }
        }
    }

    /// Seven unsigned bits with a zero point: zero is exact, values of one sign keep the
    /// step of eight signed bits (their range is the block's), values on both sides get
    /// the step their whole range needs, and a block with an infinite or NaN value gets a
    /// NaN scale.
    #[test]
    fn seven_unsigned_bits_follow_the_blocks_range() {
        let decode = |out: &[u8; QB], (scale, zero): (f32, i32)| -> Vec<f32> {
            out.iter()
                .map(|&u| scale * (u as i32 - zero) as f32)
                .collect()
        };
        let mut out = [0u8; QB];
        // One sign: 0 ..= 3.1, zero point 0, step 3.1 / 127.
        let v: [f32; QB] = std::array::from_fn(|i| i as f32 * 0.1);
        let (scale, zero) = quantize_unsigned_7(&v, &mut out);
        assert_eq!(zero, 0);
        assert!((scale - 3.1 / 127.0).abs() < 1e-7, "{scale}");
        for (d, v) in decode(&out, (scale, zero)).iter().zip(&v) {
            assert!((d - v).abs() <= scale / 2.0 + 1e-6, "{d} vs {v}");
        }
        // Both sides: −1 ..= 3, zero exact, every byte within 0 ..= 127.
        let v: [f32; QB] = std::array::from_fn(|i| -1.0 + i as f32 * 4.0 / 31.0);
        let (scale, zero) = quantize_unsigned_7(&v, &mut out);
        assert!(
            (scale - 4.0 / 127.0).abs() < 1e-6 && zero == 32,
            "{scale} {zero}"
        );
        assert!(out.iter().all(|&u| u <= 127));
        for (d, v) in decode(&out, (scale, zero)).iter().zip(&v) {
            assert!((d - v).abs() <= scale / 2.0 + 1e-6, "{d} vs {v}");
        }
        let mut with_zero = v;
        with_zero[7] = 0.0;
        let (s, z) = quantize_unsigned_7(&with_zero, &mut out);
        assert_eq!(decode(&out, (s, z))[7], 0.0);
        // All negative: the zero point is at the top.
        let v: [f32; QB] = std::array::from_fn(|i| -(i as f32) - 1.0);
        let (scale, zero) = quantize_unsigned_7(&v, &mut out);
        assert_eq!(zero, 127);
        assert!((decode(&out, (scale, zero))[QB - 1] + 32.0).abs() <= scale / 2.0 + 1e-5);
        // Zeros, and values that are not numbers.
        assert_eq!(quantize_unsigned_7(&[0.0; QB], &mut out), (0.0, 0));
        let mut bad = [1.0f32; QB];
        bad[3] = f32::NAN;
        assert!(quantize_unsigned_7(&bad, &mut out).0.is_nan());
        bad[3] = f32::NEG_INFINITY;
        assert!(quantize_unsigned_7(&bad, &mut out).0.is_nan());
    }

    /// The vector kernels give exactly what the integer loops give (up to f32 rounding of
    /// the per-block scaling).
    #[test]
    fn vector_kernels_match_the_integer_loops() {
        let checked = check_kernels().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checked.len(), kernels().len() - 1);
    }

    /// Inputs with a few outlier dimensions (as after BERT's layer norms): smoothing by
    /// their ranges keeps the product much closer to the exact one.
    #[test]
    fn smoothing_helps_inputs_with_outlier_dimensions() {
        let mut rng = crate::init::Rng::new(9);
        let (rows, input, output) = (20, 96, 48);
        let range: Vec<f32> = (0..input)
            .map(|k| if k % 32 == 5 { 40.0 } else { 1.0 })
            .collect();
        let x: Vec<f32> = (0..rows * input)
            .map(|i| rng.normal() * range[i % input])
            .collect();
        let w: Vec<f32> = (0..input * output).map(|_| rng.normal() * 0.1).collect();
        let zero = vec![0f32; output];
        let want = crate::testing::exact_linear(&x, &w, &zero, rows, input, output);
        let error = |got: Vec<f32>| {
            got.iter()
                .zip(&want)
                .map(|(g, e)| (g - e).abs())
                .sum::<f32>()
                / want.len() as f32
        };
        let plain = error(QuantLinear::new(&w, None, input, output).forward(&x, rows));
        let smoothed =
            error(QuantLinear::smoothed(&w, None, input, output, &range).forward(&x, rows));
        assert!(
            smoothed < plain * 0.6,
            "smoothed {smoothed} vs plain {plain}"
        );
    }

    #[test]
    fn zero_rows_and_zero_blocks_are_exact() {
        let w = [0.0, 0.0, 1.0, -1.0];
        let q = QuantLinear::new(&w, Some(&[0.5, 0.25]), 2, 2);
        assert_eq!(q.forward(&[0.0, 0.0], 1), vec![0.5, 0.25]);
        let got = q.forward(&[2.0, 1.0], 1);
        assert!(
            (got[0] - 0.5).abs() < 1e-6 && (got[1] - 1.25).abs() < 1e-2,
            "{got:?}"
        );
    }
}
