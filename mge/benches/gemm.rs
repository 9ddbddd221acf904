//! The inference engine's packed matrix products (f32, and int8 where this processor has
//! the instructions for it) against candle's `matmul` and two GEMM crates called directly
//! (`gemm`, which candle uses, and `matrixmultiply`), each given the weights once in the
//! layout it reads fastest (`input × output`, row-major), on the shapes of one
//! ~38-sub-token sentence through MiniLM-L6 (QKV, FFN up, FFN down) and the gates. Neither
//! crate keeps packed weights between calls; both pack per call.
//!
//! `six_layers_38_rows` runs the four products of each of six encoder layers one after the
//! other, as a forward pass does: 43 MB of f32 weights, which come from L3 or memory rather
//! than from the caches that the single shapes above are served from after their first call.
//!
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p mge --bench gemm`; `MGE_ISA=avx2` runs the f32
//! kernel of AVX2-only processors on an AVX-512 one.

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use mge::engine::gemm::PackedLinear;
use mge::engine::qgemm::QuantLinear;

fn benches(c: &mut Criterion) {
    eprintln!(
        "kernels: {}; {}",
        mge::engine::isa::describe(false),
        mge::engine::isa::describe(true)
    );
    let mut g = c.benchmark_group("gemm");
    let mut rng = mge::init::Rng::new(1);
    for (name, rows, input, output) in [
        ("qkv_38x384x1152", 38usize, 384usize, 1152usize),
        ("ffn_up_38x384x1536", 38, 384, 1536),
        ("ffn_down_38x1536x384", 38, 1536, 384),
        ("gates_36x384x1800", 36, 384, 1800),
    ] {
        let x: Vec<f32> = (0..rows * input).map(|_| rng.normal()).collect();
        let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
        let packed = PackedLinear::new(&w, None, input, output);
        let mut out = vec![0f32; rows * output];
        g.bench_function(format!("{name}_packed"), |b| {
            b.iter(|| packed.forward_into(&x, rows, &mut out))
        });
        if mge::engine::isa::int8_supported() {
            let q = QuantLinear::new(&w, None, input, output);
            g.bench_function(format!("{name}_int8"), |b| {
                b.iter(|| q.forward_into(&x, rows, &mut out))
            });
        }
        // The weights transposed once, as a caller of a GEMM crate would keep them.
        let mut wkn = vec![0f32; input * output];
        for (n, row) in w.chunks_exact(input).enumerate() {
            for (k, &v) in row.iter().enumerate() {
                wkn[k * output + n] = v;
            }
        }
        let gemm_crate = |out: &mut [f32]| {
            // SAFETY: every pointer covers the `rows × input`, `input × output` and
            // `rows × output` row-major matrices the strides describe.
            unsafe {
                gemm::gemm(
                    rows,
                    output,
                    input,
                    out.as_mut_ptr(),
                    1,
                    output as isize,
                    false,
                    x.as_ptr(),
                    1,
                    input as isize,
                    wkn.as_ptr(),
                    1,
                    output as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            }
        };
        let matrixmultiply = |out: &mut [f32]| {
            // SAFETY: as above.
            unsafe {
                matrixmultiply::sgemm(
                    rows,
                    input,
                    output,
                    1.0,
                    x.as_ptr(),
                    input as isize,
                    1,
                    wkn.as_ptr(),
                    output as isize,
                    1,
                    0.0,
                    out.as_mut_ptr(),
                    output as isize,
                    1,
                )
            }
        };
        // Each call computes the same product as the engine's kernel before it is timed.
        let want = packed.forward(&x, rows);
        for (what, f) in [
            ("gemm", &gemm_crate as &dyn Fn(&mut [f32])),
            ("matrixmultiply", &matrixmultiply),
        ] {
            f(&mut out);
            let diff = out
                .iter()
                .zip(&want)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff < 1e-2, "{what} differs from the engine by {diff}");
        }
        g.bench_function(format!("{name}_gemm_crate"), |b| {
            b.iter(|| gemm_crate(&mut out))
        });
        g.bench_function(format!("{name}_matrixmultiply"), |b| {
            b.iter(|| matrixmultiply(&mut out))
        });
        let xt = Tensor::from_vec(x.clone(), (rows, input), &Device::Cpu).unwrap();
        let wt = Tensor::from_vec(w.clone(), (output, input), &Device::Cpu).unwrap();
        g.bench_function(format!("{name}_candle"), |b| {
            b.iter(|| xt.matmul(&wt.t().unwrap()).unwrap())
        });
    }
    // Six layers' weights, each product reading what the one before wrote, as in the encoder.
    let layers: Vec<Vec<PackedLinear>> = (0..6)
        .map(|_| {
            [(384usize, 1152usize), (384, 384), (384, 1536), (1536, 384)]
                .map(|(input, output)| {
                    let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
                    PackedLinear::new(&w, None, input, output)
                })
                .into()
        })
        .collect();
    let rows = 38;
    let x: Vec<f32> = (0..rows * 1536).map(|_| rng.normal()).collect();
    let mut out = vec![0f32; rows * 1536];
    g.bench_function("six_layers_38_rows_packed", |b| {
        b.iter(|| {
            for p in layers.iter().flatten() {
                p.forward_into(&x[..rows * p.input()], rows, &mut out[..rows * p.output()]);
            }
        })
    });
    g.finish();
}

criterion_group!(gemm, benches);
criterion_main!(gemm);
