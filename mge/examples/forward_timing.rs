//! Times the inference engine's whole forward pass (encoder, gates, both table heads) on
//! given token-id sequences, one at a time: the Rust side of `bench/cpu-vs-onnxruntime.sh`,
//! which hands ONNX Runtime the same sequences.
//!
//! ```sh
//! cargo run --release -p mge --example forward_timing -- BUNDLE IDS.json [ROUNDS] [f32|int8|auto]
//! ```
//!
//! `IDS.json` is `{"one": [ids…], "all": [[ids…], …]}` (with `[CLS]` and `[SEP]`). Prints one
//! JSON line: the median milliseconds of `one` and the median seconds of all of `all`
//! (over `ROUNDS`, default 5, after one warm-up round), the kernels and the arithmetic.
//! `MGE_ISA=avx2` forces the AVX2 kernels on an AVX-512 processor.

use std::time::Instant;

use mge::engine::{Engine, Precision};

#[path = "common/mod.rs"]
mod common;
use common::{inputs, median, Inputs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Inputs {
        model,
        one,
        all,
        rounds,
    } = inputs(
        &args,
        "forward_timing BUNDLE IDS.json [ROUNDS] [f32|int8|auto]",
        5,
    )?;
    let precision = match args.get(4).map(String::as_str) {
        None | Some("auto") => Precision::Auto,
        Some("f32") => Precision::F32,
        Some("int8") => Precision::Int8,
        Some(other) => return Err(format!("unknown arithmetic `{other}`").into()),
    };
    let engine = Engine::with_precision(&model, precision)?;

    // Where one sentence's time goes (the engine's own clock, median of 20).
    let start = Instant::now();
    let clock = move || start.elapsed().as_secs_f64() * 1e3;
    let (mut enc, mut heads) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let t = engine.forward(&one, false, Some(&clock))?;
        enc.push(t.encoder_ms);
        heads.push(t.heads_ms);
    }
    let mut one_ms = Vec::new();
    let mut all_s = Vec::new();
    for round in 0..=rounds {
        // One sentence: the median of 20 runs per round.
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            std::hint::black_box(engine.forward(&one, false, None)?);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let t = Instant::now();
        for s in &all {
            std::hint::black_box(engine.forward(s, false, None)?);
        }
        let all_time = t.elapsed().as_secs_f64();
        if round > 0 {
            one_ms.push(median(times));
            all_s.push(all_time);
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "one_tokens": one.len(),
            "one_ms": median(one_ms),
            "one_encoder_ms": median(enc),
            "one_heads_ms": median(heads),
            "all_sequences": all.len(),
            "all_s": median(all_s),
            "kernels": mge::engine::isa::describe(engine.int8()),
            "int8": engine.int8(),
            "threads": rayon::current_num_threads(),
        })
    );
    Ok(())
}
