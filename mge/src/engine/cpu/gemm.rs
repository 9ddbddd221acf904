//! A small f32 matrix multiply for inference: `C = A Bᵀ + bias` with `B` a PyTorch-layout
//! weight `[out, in]`, packed once at load into column panels so the inner loop reads it
//! contiguously.
//!
//! The micro-kernel keeps a block of up to 8 rows × [`NR`] columns of accumulators in vector
//! registers, one version per instruction set: AVX-512 or AVX2+FMA chosen at run time on
//! x86-64, SIMD128 on wasm32 when the crate is built with it, plain loops elsewhere. Shapes here are small (tens of rows), where general-purpose GEMM
//! libraries spend much of their time packing the activations; this one never packs them.

// The kernels index accumulator registers by row and vector: index loops read best there.
#![allow(clippy::needless_range_loop)]
/// Output columns per packed panel: 32 floats on x86-64 (two AVX-512 registers, four AVX2
/// ones), 16 on wasm32 (four SIMD128 registers).
pub const NR: usize = if cfg!(target_arch = "wasm32") { 16 } else { 32 };

/// A weight matrix `[out, in]` packed in panels of [`NR`] output columns, each panel cut
/// into strips as wide as the micro-kernel's block (all `NR` columns, or 16 for AVX2):
/// strip `s` of panel `p` holds, for each input index `k`, the weights of its columns
/// contiguously (zero-padded). So the kernel reads its strip as one sequential stream.
#[derive(Debug, Clone)]
pub struct PackedLinear {
    panels: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
    /// The kernels the panels were packed for.
    #[cfg(target_arch = "x86_64")]
    isa: Isa,
}

impl PackedLinear {
    /// Packs `weight` (`output × input`, row-major) and an optional bias of length `output`
    /// for the kernels this processor runs.
    pub fn new(weight: &[f32], bias: Option<&[f32]>, input: usize, output: usize) -> Self {
        #[cfg(target_arch = "x86_64")]
        return Self::for_isa(isa(), weight, bias, input, output);
        #[cfg(not(target_arch = "x86_64"))]
        Self {
            panels: pack(block().cols, weight, input, output),
            bias: bias_or_zeros(bias, output),
            input,
            output,
        }
    }

    /// Packs for the kernels of `isa` (which the processor must have).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn for_isa(
        isa: Isa,
        weight: &[f32],
        bias: Option<&[f32]>,
        input: usize,
        output: usize,
    ) -> Self {
        Self {
            panels: pack(block(isa).cols, weight, input, output),
            bias: bias_or_zeros(bias, output),
            input,
            output,
            isa,
        }
    }

    pub fn input(&self) -> usize {
        self.input
    }

    pub fn output(&self) -> usize {
        self.output
    }

    /// `x` is `rows × input` row-major; returns `rows × output`.
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut out = vec![0f32; rows * self.output];
        self.forward_into(x, rows, &mut out);
        out
    }

    /// Like [`forward`](Self::forward), writing into `out` (`rows × output`).
    pub fn forward_into(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        assert_eq!(x.len(), rows * self.input, "input shape");
        assert_eq!(out.len(), rows * self.output, "output shape");
        if rows == 0 || self.output == 0 {
            return;
        }
        let n_panels = self.output.div_ceil(NR);
        by_panels(
            rows,
            self.output,
            self.input,
            n_panels,
            NR,
            out,
            |p0, p1, part, stride| self.panels_into(x, rows, p0, p1, part, stride),
        );
    }

    /// Computes panels `p0..p1` into `out`, whose rows are `stride` wide and start at column
    /// `p0·NR` of the full result.
    fn panels_into(
        &self,
        x: &[f32],
        rows: usize,
        p0: usize,
        p1: usize,
        out: &mut [f32],
        stride: usize,
    ) {
        let job = Job {
            x,
            rows,
            k: self.input,
            panels: &self.panels,
            bias: &self.bias,
            output: self.output,
            p0,
            p1,
        };
        #[cfg(target_arch = "x86_64")]
        dispatch_with(self.isa, &job, out, stride);
        #[cfg(not(target_arch = "x86_64"))]
        dispatch_with(&job, out, stride);
    }
}

/// `weight` (`output × input`) in panels of [`NR`] columns, each cut into strips `strip`
/// columns wide ([`PackedLinear`]).
fn pack(strip: usize, weight: &[f32], input: usize, output: usize) -> Vec<f32> {
    assert_eq!(weight.len(), input * output, "weight shape");
    debug_assert_eq!(NR % strip, 0);
    let mut panels = vec![0f32; output.div_ceil(NR) * NR * input];
    for n in 0..output {
        let (p, c) = (n / NR, n % NR);
        let (s, c) = (c / strip, c % strip);
        let at = p * NR * input + s * strip * input;
        for k in 0..input {
            panels[at + k * strip + c] = weight[n * input + k];
        }
    }
    panels
}

/// A layer's bias (checked to have `output` values), or zeros without one.
pub(crate) fn bias_or_zeros(bias: Option<&[f32]>, output: usize) -> Vec<f32> {
    match bias {
        Some(b) => {
            assert_eq!(b.len(), output, "bias shape");
            b.to_vec()
        }
        None => vec![0.0; output],
    }
}

/// Runs `compute(p0, p1, out, stride)` over the column panels `0..n_panels` (each `width`
/// columns) of a `rows × output` product with `input` terms per value: on one thread, or
/// split between rayon's threads when there is enough work to pay for it (each thread
/// writes its own columns, copied into `out` afterwards).
pub(crate) fn by_panels(
    rows: usize,
    output: usize,
    input: usize,
    n_panels: usize,
    width: usize,
    out: &mut [f32],
    compute: impl Fn(usize, usize, &mut [f32], usize) + Sync,
) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let threads = rayon::current_num_threads();
        if threads > 1 && rows * output * input >= 1 << 20 && n_panels > 1 {
            use rayon::prelude::*;
            let per = n_panels.div_ceil(threads.min(n_panels));
            let parts: Vec<(usize, Vec<f32>)> = (0..n_panels)
                .step_by(per)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|p0| {
                    let p1 = (p0 + per).min(n_panels);
                    let cols = (p1 * width).min(output) - p0 * width;
                    let mut part = vec![0f32; rows * cols];
                    compute(p0, p1, &mut part, cols);
                    (p0, part)
                })
                .collect();
            for (p0, part) in parts {
                let cols = part.len() / rows;
                for r in 0..rows {
                    let dst = r * output + p0 * width;
                    out[dst..dst + cols].copy_from_slice(&part[r * cols..(r + 1) * cols]);
                }
            }
            return;
        }
    }
    #[cfg(target_arch = "wasm32")]
    let _ = (rows, input, width);
    compute(0, n_panels, out, output);
}

/// Splits `rows` into as few blocks of at most `max` rows as possible, of sizes that differ
/// by at most one: `(first row, rows)` of each. 38 rows in blocks of 6 are 6, 6, 6, 5, 5, 5,
/// 5 rather than six of 6 and one of 2, whose few accumulators would leave the kernel
/// waiting on the latency of each multiply-add.
pub(crate) fn row_blocks(rows: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
    let n = rows.div_ceil(max.max(1));
    let base = rows.checked_div(n).unwrap_or(0);
    let extra = rows.checked_rem(n).unwrap_or(0);
    (0..n).map(move |i| (i * base + i.min(extra), base + usize::from(i < extra)))
}

struct Job<'a> {
    x: &'a [f32],
    rows: usize,
    k: usize,
    panels: &'a [f32],
    bias: &'a [f32],
    output: usize,
    p0: usize,
    p1: usize,
}

#[cfg(target_arch = "x86_64")]
use super::isa::{isa, Isa};

/// The shape of one micro-kernel call: rows of `x` and columns of the panel (one strip), as
/// many as leave room for the accumulators in vector registers.
#[derive(Debug, Clone, Copy)]
struct Block {
    rows: usize,
    cols: usize,
}

#[cfg(target_arch = "x86_64")]
fn block(isa: Isa) -> Block {
    match isa {
        // 8 rows × 2 ZMM = 16 of 32 registers.
        Isa::Avx512 => Block { rows: 8, cols: NR },
        // 6 rows × 2 YMM = 12 accumulators, 2 for the panel and 1 for the broadcast: 15 of
        // 16 registers. The panel is packed in strips of 16 columns, so a strip (24 KB for
        // k = 384) is one sequential stream that stays in a 32 KB L1 for every row block.
        // Measured in `docs/BENCHMARKS.md` ("AVX2"): 3 rows × the whole panel (4 YMM each)
        // spilled and read the panel from L2; half of a 32-column panel, read with a stride
        // of 32, left the kernel waiting on its loads.
        Isa::Avx2 => Block { rows: 6, cols: 16 },
        Isa::Portable => Block { rows: 4, cols: NR },
    }
}

// wasm32: 2 rows × 4 SIMD128 vectors = 8 accumulators. Measured in Chromium on one
// 38-sub-token sentence: 1 row 45.8 ms, 2 rows 37.4, 3 rows 43.4, 4 rows 41.2 (V8 has
// 16 vector registers on x86-64; more accumulators spill).
#[cfg(not(target_arch = "x86_64"))]
fn block() -> Block {
    Block { rows: 2, cols: NR }
}

/// Computes `rows` (1..=8) rows of `x` (each `k` long) times one strip of a panel (`k` rows
/// of the block's width) into `acc` (the block's width of each row).
fn micro(
    #[cfg(target_arch = "x86_64")] isa: Isa,
    x: &[f32],
    rows: usize,
    strip: &[f32],
    k: usize,
    acc: &mut [[f32; NR]; 8],
) {
    #[cfg(target_arch = "x86_64")]
    let width = block(isa).cols;
    #[cfg(not(target_arch = "x86_64"))]
    let width = block().cols;
    assert!((1..=8).contains(&rows) && x.len() >= rows * k && strip.len() >= width * k);
    macro_rules! call {
        ($f:ident) => {
            match rows {
                8 => $f::<8>(x, strip, k, acc),
                7 => $f::<7>(x, strip, k, acc),
                6 => $f::<6>(x, strip, k, acc),
                5 => $f::<5>(x, strip, k, acc),
                4 => $f::<4>(x, strip, k, acc),
                3 => $f::<3>(x, strip, k, acc),
                2 => $f::<2>(x, strip, k, acc),
                _ => $f::<1>(x, strip, k, acc),
            }
        };
    }
    // SAFETY: the kernels read `rows` rows of `k` values of `x` and `k` times their block's
    // width of values of `strip`, both checked above. On x86-64 the instruction set was
    // detected at run time (`Isa::available`); SIMD128 is enabled at build time.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        match isa {
            Isa::Avx512 => call!(avx512),
            Isa::Avx2 => call!(avx2),
            Isa::Portable => call!(portable),
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        call!(simd128)
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    unsafe {
        call!(portable)
    }
}

/// Any target: plain loops.
#[allow(dead_code)]
unsafe fn portable<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    debug_assert_eq!(panel.len(), NR * k);
    for row in acc.iter_mut().take(M) {
        *row = [0.0; NR];
    }
    for kk in 0..k {
        let b = &panel[kk * NR..(kk + 1) * NR];
        for r in 0..M {
            let a = x[r * k + kk];
            for (c, bv) in acc[r].iter_mut().zip(b) {
                *c += a * bv;
            }
        }
    }
}

/// How far ahead of the multiply-adds the x86-64 kernels ask for the weights, in floats (a
/// kilobyte). The weights of a layer (megabytes) come from L3 or memory on the first row
/// block of each strip; the hardware prefetcher alone left the AVX2 kernel waiting on them.
/// Measured on Zen 4 over the products of six encoder layers for 38 rows (43 MB of
/// weights), medians of six alternated runs: AVX2 11.1 → 10.0 ms, AVX-512 9.3 → 8.9 ms
/// (`docs/BENCHMARKS.md`, "AVX2 on Zen 4").
#[cfg(target_arch = "x86_64")]
const AHEAD: usize = 256;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(panel.len(), NR * k);
    let (xp, bp) = (x.as_ptr(), panel.as_ptr());
    let mut c = [[_mm512_setzero_ps(); 2]; M];
    for kk in 0..k {
        // The panel's two cache lines a kilobyte ahead (`AHEAD`).
        let ahead = bp.wrapping_add(kk * NR + AHEAD);
        _mm_prefetch::<_MM_HINT_T0>(ahead as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(16) as *const i8);
        let b0 = _mm512_loadu_ps(bp.add(kk * NR));
        let b1 = _mm512_loadu_ps(bp.add(kk * NR + 16));
        for r in 0..M {
            let a = _mm512_set1_ps(*xp.add(r * k + kk));
            c[r][0] = _mm512_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(a, b1, c[r][1]);
        }
    }
    for r in 0..M {
        _mm512_storeu_ps(acc[r].as_mut_ptr(), c[r][0]);
        _mm512_storeu_ps(acc[r].as_mut_ptr().add(16), c[r][1]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    use std::arch::x86_64::*;
    // The strip is 16 columns wide (`block`).
    debug_assert_eq!(panel.len(), 16 * k);
    let (xp, bp) = (x.as_ptr(), panel.as_ptr());
    let mut c = [[_mm256_setzero_ps(); 2]; M];
    for kk in 0..k {
        // The strip's cache line a kilobyte ahead (`AHEAD`).
        _mm_prefetch::<_MM_HINT_T0>(bp.wrapping_add(kk * 16 + AHEAD) as *const i8);
        let b0 = _mm256_loadu_ps(bp.add(kk * 16));
        let b1 = _mm256_loadu_ps(bp.add(kk * 16 + 8));
        for r in 0..M {
            let a = _mm256_broadcast_ss(&*xp.add(r * k + kk));
            c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
        }
    }
    for r in 0..M {
        _mm256_storeu_ps(acc[r].as_mut_ptr(), c[r][0]);
        _mm256_storeu_ps(acc[r].as_mut_ptr().add(8), c[r][1]);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn simd128<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    use core::arch::wasm32::*;
    debug_assert_eq!(panel.len(), NR * k);
    let (xp, bp) = (x.as_ptr(), panel.as_ptr());
    let mut c = [[f32x4_splat(0.0); 4]; M];
    for kk in 0..k {
        let b = [0, 4, 8, 12].map(|o| v128_load(bp.add(kk * NR + o) as *const v128));
        for r in 0..M {
            let a = f32x4_splat(*xp.add(r * k + kk));
            for v in 0..4 {
                // With relaxed SIMD (built with `+relaxed-simd`) the engine may fuse the
                // multiply and add; without it, two instructions.
                #[cfg(target_feature = "relaxed-simd")]
                {
                    c[r][v] = f32x4_relaxed_madd(a, b[v], c[r][v]);
                }
                #[cfg(not(target_feature = "relaxed-simd"))]
                {
                    c[r][v] = f32x4_add(c[r][v], f32x4_mul(a, b[v]));
                }
            }
        }
    }
    for r in 0..M {
        for v in 0..4 {
            v128_store(acc[r].as_mut_ptr().add(4 * v) as *mut v128, c[r][v]);
        }
    }
}

fn dispatch_with(
    #[cfg(target_arch = "x86_64")] isa: Isa,
    job: &Job,
    out: &mut [f32],
    stride: usize,
) {
    #[cfg(target_arch = "x86_64")]
    let b = block(isa);
    #[cfg(not(target_arch = "x86_64"))]
    let b = block();
    let k = job.k;
    let mut acc = [[0f32; NR]; 8];
    // Panels outside, row blocks inside: each strip of a panel (tens of KB) is read from
    // memory once and then served from cache to every row block. The other order streams the
    // whole matrix (megabytes, beyond L2) once per row block.
    for p in job.p0..job.p1 {
        let panel = &job.panels[p * NR * k..(p + 1) * NR * k];
        for s in 0..NR / b.cols {
            let c0 = p * NR + s * b.cols;
            if c0 >= job.output {
                break;
            }
            let strip = &panel[s * b.cols * k..(s + 1) * b.cols * k];
            let cols = (job.output - c0).min(b.cols);
            let local = c0 - job.p0 * NR;
            let bias = &job.bias[c0..c0 + cols];
            for (r0, m) in row_blocks(job.rows, b.rows) {
                let x = &job.x[r0 * k..(r0 + m) * k];
                #[cfg(target_arch = "x86_64")]
                micro(isa, x, m, strip, k, &mut acc);
                #[cfg(not(target_arch = "x86_64"))]
                micro(x, m, strip, k, &mut acc);
                for (r, a) in acc.iter().enumerate().take(m) {
                    let dst = &mut out[(r0 + r) * stride + local..(r0 + r) * stride + local + cols];
                    for ((d, v), b) in dst.iter_mut().zip(a).zip(bias) {
                        *d = v + b;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive_product_on_awkward_shapes() {
        let mut rng = crate::init::Rng::new(7);
        for &(rows, input, output) in &[
            (1, 1, 1),
            (2, 0, 3),
            (3, 5, 7),
            (9, 33, 31),
            (17, 64, 65),
            (38, 384, 1152),
            (40, 300, 600),
        ] {
            let x: Vec<f32> = (0..rows * input).map(|_| rng.normal()).collect();
            let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
            let b: Vec<f32> = (0..output).map(|_| rng.normal()).collect();
            let packed = PackedLinear::new(&w, Some(&b), input, output);
            let want = crate::testing::exact_linear(&x, &w, &b, rows, input, output);
            let tol = 1e-4 * (input as f32).sqrt();
            let check = |got: &[f32], path: &str| {
                for (g, e) in got.iter().zip(&want) {
                    assert!(
                        (g - e).abs() <= tol,
                        "{path} {rows}x{input}x{output}: {g} vs {e}"
                    );
                }
            };
            check(&packed.forward(&x, rows), "default");
            // Every kernel this processor can run, not only the widest.
            #[cfg(target_arch = "x86_64")]
            for isa in Isa::available() {
                let packed = PackedLinear::for_isa(isa, &w, Some(&b), input, output);
                check(&packed.forward(&x, rows), isa.name());
            }
        }
    }

    #[test]
    fn row_blocks_cover_every_row_once_in_even_blocks() {
        assert_eq!(row_blocks(0, 6).count(), 0);
        let got: Vec<_> = row_blocks(38, 6).collect();
        assert_eq!(
            got,
            [(0, 6), (6, 6), (12, 6), (18, 5), (23, 5), (28, 5), (33, 5)]
        );
        for rows in 1..100 {
            for max in 1..10 {
                let blocks: Vec<_> = row_blocks(rows, max).collect();
                assert_eq!(blocks.len(), rows.div_ceil(max));
                let mut next = 0;
                for &(r0, m) in &blocks {
                    assert_eq!(r0, next);
                    assert!(m >= 1 && m <= max && m + 1 >= blocks[0].1);
                    next += m;
                }
                assert_eq!(next, rows);
            }
        }
    }

    #[test]
    fn no_bias_means_zero_bias() {
        let w = [1.0, 2.0, 3.0, 4.0];
        let p = PackedLinear::new(&w, None, 2, 2);
        assert_eq!(p.forward(&[1.0, 1.0], 1), vec![3.0, 7.0]);
    }
}
