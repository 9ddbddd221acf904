//! Times the engine's matrix products (f32, or int8 with `int8` after the rounds) on the shapes of one 38-sub-token sentence
//! through MiniLM-L6 and the gates: for each shape the fastest of `ROUNDS` rounds of 200
//! calls, in µs, on one line. Meant to be run alternately with a build of another commit
//! (the criterion bench `--bench gemm` takes minutes per run; this takes seconds), as in
//! `docs/BENCHMARKS.md` ("AVX2 on Zen 4"):
//!
//! ```sh
//! RAYON_NUM_THREADS=1 [MGE_ISA=avx2] [MGE_VNNI=0] cargo run --release -p mge --example gemm_timing -- [ROUNDS] [f32|int8]
//! ```
//!
//! The last figure is the multiply-adds per second over all five shapes (GMAC/s).

use std::time::Instant;

use mge::engine::gemm::PackedLinear;
use mge::engine::qgemm::QuantLinear;

/// One matrix product of a shape: input rows in, output rows out.
type Product = dyn Fn(&[f32], &mut [f32]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = match std::env::args().nth(1) {
        Some(r) => r
            .parse()
            .map_err(|_| format!("ROUNDS must be a number, not `{r}`"))?,
        None => 5,
    };
    let int8 = match std::env::args().nth(2).as_deref() {
        None | Some("f32") => false,
        Some("int8") => true,
        Some(other) => return Err(format!("unknown arithmetic `{other}` (f32 or int8)").into()),
    };
    let mut rng = mge::init::Rng::new(1);
    let mut line = Vec::new();
    let (mut total_s, mut total_macs) = (0f64, 0f64);
    for (name, rows, input, output) in [
        ("qkv", 38usize, 384usize, 1152usize),
        ("attention_out", 38, 384, 384),
        ("ffn_up", 38, 384, 1536),
        ("ffn_down", 38, 1536, 384),
        ("gates", 36, 384, 1800),
    ] {
        let x: Vec<f32> = (0..rows * input).map(|_| rng.normal()).collect();
        let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
        let forward: Box<Product> = if int8 {
            let q = QuantLinear::new(&w, None, input, output);
            Box::new(move |x, out| q.forward_into(x, rows, out))
        } else {
            let p = PackedLinear::new(&w, None, input, output);
            Box::new(move |x, out| p.forward_into(x, rows, out))
        };
        let mut out = vec![0f32; rows * output];
        let mut best = f64::MAX;
        for _ in 0..rounds.max(1) {
            let t = Instant::now();
            for _ in 0..200 {
                forward(&x, &mut out);
                std::hint::black_box(&out);
            }
            best = best.min(t.elapsed().as_secs_f64() / 200.0);
        }
        line.push(format!("{name} {:.0}", best * 1e6));
        total_s += best;
        total_macs += (rows * input * output) as f64;
    }
    line.push(format!("GMAC/s {:.1}", total_macs / total_s / 1e9));
    println!(
        "{} (µs; {})",
        line.join("  "),
        mge::engine::isa::describe(int8)
    );
    Ok(())
}
