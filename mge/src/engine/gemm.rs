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

/// A weight matrix `[out, in]` packed in panels of [`NR`] output columns: panel `p` holds,
/// for each input index `k`, the `NR` weights of columns `p·NR ..` contiguously (zero-padded).
#[derive(Debug, Clone)]
pub struct PackedLinear {
    panels: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
}

impl PackedLinear {
    /// Packs `weight` (`output × input`, row-major) and an optional bias of length `output`.
    pub fn new(weight: &[f32], bias: Option<&[f32]>, input: usize, output: usize) -> Self {
        assert_eq!(weight.len(), input * output, "weight shape");
        let n_panels = output.div_ceil(NR);
        let mut panels = vec![0f32; n_panels * NR * input];
        for n in 0..output {
            let (p, c) = (n / NR, n % NR);
            let panel = &mut panels[p * NR * input..(p + 1) * NR * input];
            for k in 0..input {
                panel[k * NR + c] = weight[n * input + k];
            }
        }
        let bias = match bias {
            Some(b) => {
                assert_eq!(b.len(), output, "bias shape");
                b.to_vec()
            }
            None => vec![0.0; output],
        };
        Self {
            panels,
            bias,
            input,
            output,
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
        // Split the panels between threads when there is enough work to pay for it.
        #[cfg(not(target_arch = "wasm32"))]
        {
            let threads = rayon::current_num_threads();
            let work = rows * self.output * self.input;
            if threads > 1 && work >= 1 << 20 && n_panels > 1 {
                let per = n_panels.div_ceil(threads.min(n_panels));
                let parts: Vec<(usize, Vec<f32>)> = {
                    use rayon::prelude::*;
                    (0..n_panels)
                        .step_by(per)
                        .collect::<Vec<_>>()
                        .into_par_iter()
                        .map(|p0| {
                            let p1 = (p0 + per).min(n_panels);
                            let cols = (p1 * NR).min(self.output) - p0 * NR;
                            let mut part = vec![0f32; rows * cols];
                            self.panels_into(x, rows, p0, p1, &mut part, cols);
                            (p0, part)
                        })
                        .collect()
                };
                for (p0, part) in parts {
                    let cols = part.len() / rows;
                    for r in 0..rows {
                        let dst = r * self.output + p0 * NR;
                        out[dst..dst + cols].copy_from_slice(&part[r * cols..(r + 1) * cols]);
                    }
                }
                return;
            }
        }
        self.panels_into(x, rows, 0, n_panels, out, self.output);
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
        dispatch(&job, out, stride);
    }
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

/// The instruction set the kernels use, detected once.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Isa {
    Avx512,
    Avx2,
    Portable,
}

#[cfg(target_arch = "x86_64")]
pub(crate) fn isa() -> Isa {
    use std::sync::OnceLock;
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        if std::arch::is_x86_feature_detected!("avx512f") {
            Isa::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Isa::Avx2
        } else {
            Isa::Portable
        }
    })
}

/// Defines `$name`, which calls the `#[inline(always)]` function `$inner` compiled for the
/// widest vector instructions this CPU has (AVX-512 or AVX2+FMA on x86-64, detected at run
/// time; elsewhere as built, e.g. SIMD128 on wasm32), so that its element-wise loops are
/// vectorized for them.
macro_rules! vectorized {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),*) -> $r:ty = $inner:path) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) -> $r {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn wide($($a: $t),*) -> $r {
                    $inner($($a),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn narrow($($a: $t),*) -> $r {
                    $inner($($a),*)
                }
                // SAFETY: each instruction set is used only where it was detected.
                match $crate::engine::gemm::isa() {
                    $crate::engine::gemm::Isa::Avx512 => unsafe { wide($($a),*) },
                    $crate::engine::gemm::Isa::Avx2 => unsafe { narrow($($a),*) },
                    $crate::engine::gemm::Isa::Portable => $inner($($a),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                $inner($($a),*)
            }
        }
    };
}
pub(crate) use vectorized;

/// Rows per micro-kernel call: as many as leave room for the accumulators in registers.
fn rows_per_block() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        match isa() {
            Isa::Avx512 => 8,
            Isa::Avx2 => 3,
            Isa::Portable => 4,
        }
    }
    // wasm32: 2 rows × 4 SIMD128 vectors = 8 accumulators. Measured in Chromium on one
    // 38-sub-token sentence: 1 row 45.8 ms, 2 rows 37.4, 3 rows 43.4, 4 rows 41.2 (V8 has
    // 16 vector registers on x86-64; more accumulators spill).
    #[cfg(not(target_arch = "x86_64"))]
    {
        2
    }
}

/// Accumulates `rows` (1..=8) rows of `x` (each `k` long) times one panel into `acc`.
fn micro(x: &[f32], rows: usize, panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    debug_assert!((1..=8).contains(&rows) && panel.len() == NR * k);
    debug_assert!(x.len() >= rows * k);
    macro_rules! call {
        ($f:ident) => {
            match rows {
                8 => $f::<8>(x, panel, k, acc),
                7 => $f::<7>(x, panel, k, acc),
                6 => $f::<6>(x, panel, k, acc),
                5 => $f::<5>(x, panel, k, acc),
                4 => $f::<4>(x, panel, k, acc),
                3 => $f::<3>(x, panel, k, acc),
                2 => $f::<2>(x, panel, k, acc),
                _ => $f::<1>(x, panel, k, acc),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the instruction set was detected at run time, and the kernels read
        // `rows` rows of `k` values of `x` and `k·NR` values of `panel`, checked above.
        unsafe {
            match isa() {
                Isa::Avx512 => call!(avx512),
                Isa::Avx2 => call!(avx2),
                Isa::Portable => call!(portable),
            }
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // SAFETY: as above; SIMD128 is enabled at compile time.
        unsafe { call!(simd128) }
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    {
        // SAFETY: as above.
        unsafe { call!(portable) }
    }
}

/// Any target: plain loops.
#[allow(dead_code)]
unsafe fn portable<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    use std::arch::x86_64::*;
    let (xp, bp) = (x.as_ptr(), panel.as_ptr());
    let mut c = [[_mm512_setzero_ps(); 2]; M];
    for kk in 0..k {
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
    let (xp, bp) = (x.as_ptr(), panel.as_ptr());
    let mut c = [[_mm256_setzero_ps(); 4]; M];
    for kk in 0..k {
        let b = [0, 8, 16, 24].map(|o| _mm256_loadu_ps(bp.add(kk * NR + o)));
        for r in 0..M {
            let a = _mm256_set1_ps(*xp.add(r * k + kk));
            for v in 0..4 {
                c[r][v] = _mm256_fmadd_ps(a, b[v], c[r][v]);
            }
        }
    }
    for r in 0..M {
        for v in 0..4 {
            _mm256_storeu_ps(acc[r].as_mut_ptr().add(8 * v), c[r][v]);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn simd128<const M: usize>(x: &[f32], panel: &[f32], k: usize, acc: &mut [[f32; NR]; 8]) {
    use core::arch::wasm32::*;
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

fn dispatch(job: &Job, out: &mut [f32], stride: usize) {
    let mr = rows_per_block();
    let k = job.k;
    let mut acc = [[0f32; NR]; 8];
    // Panels outside, row blocks inside: each panel (NR·k values, tens of KB) is read from
    // memory once and then served from cache to every row block. The other order streams the
    // whole matrix (megabytes, beyond L2) once per row block.
    for p in job.p0..job.p1 {
        let panel = &job.panels[p * NR * k..(p + 1) * NR * k];
        let c0 = p * NR;
        let cols = (job.output - c0).min(NR);
        let local = c0 - job.p0 * NR;
        let bias = &job.bias[c0..c0 + cols];
        let mut r0 = 0;
        while r0 < job.rows {
            let m = (job.rows - r0).min(mr);
            let x = &job.x[r0 * k..(r0 + m) * k];
            micro(x, m, panel, k, &mut acc);
            for (r, a) in acc.iter().enumerate().take(m) {
                let dst = &mut out[(r0 + r) * stride + local..(r0 + r) * stride + local + cols];
                for ((d, v), b) in dst.iter_mut().zip(a).zip(bias) {
                    *d = v + b;
                }
            }
            r0 += m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        x: &[f32],
        w: &[f32],
        b: &[f32],
        rows: usize,
        input: usize,
        output: usize,
    ) -> Vec<f32> {
        let mut out = vec![0f32; rows * output];
        for r in 0..rows {
            for n in 0..output {
                let mut s = b[n] as f64;
                for k in 0..input {
                    s += x[r * input + k] as f64 * w[n * input + k] as f64;
                }
                out[r * output + n] = s as f32;
            }
        }
        out
    }

    #[test]
    fn matches_naive_product_on_awkward_shapes() {
        let mut rng = crate::init::Rng::new(7);
        for &(rows, input, output) in &[
            (1, 1, 1),
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
            let got = packed.forward(&x, rows);
            let want = naive(&x, &w, &b, rows, input, output);
            let tol = 1e-4 * (input as f32).sqrt();
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() < tol, "{rows}x{input}x{output}: {g} vs {e}");
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
