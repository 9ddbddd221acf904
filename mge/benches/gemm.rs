//! The inference engine's packed matrix products (f32, and int8 where this processor has
//! the instructions for it) against candle's `matmul` on the shapes of one ~38-sub-token
//! sentence through MiniLM-L6 (QKV, FFN up, FFN down) and the gates.
//!
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p mge --bench gemm`; `MGE_ISA=avx2` runs the f32
//! kernel of AVX2-only processors on an AVX-512 one.

use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use mge::engine::gemm::PackedLinear;
use mge::engine::qgemm::QuantLinear;

fn benches(c: &mut Criterion) {
    eprintln!("kernels: {}", mge::engine::isa::describe());
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
        let xt = Tensor::from_vec(x.clone(), (rows, input), &Device::Cpu).unwrap();
        let wt = Tensor::from_vec(w.clone(), (output, input), &Device::Cpu).unwrap();
        g.bench_function(format!("{name}_candle"), |b| {
            b.iter(|| xt.matmul(&wt.t().unwrap()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(gemm, benches);
criterion_main!(gemm);
