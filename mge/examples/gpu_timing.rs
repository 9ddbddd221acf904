//! The GPU backend beside the CPU engine (f32) on the same token-id sequences, one at a
//! time, side by side in one run: where the time of a GPU forward pass goes when the GPU is
//! a CPU driver (lavapipe, SwiftShader) says what the backend costs in dispatches, uploads
//! and read backs; on a real GPU it says how fast it is.
//!
//! ```sh
//! cargo run --release -p mge --features gpu --example gpu_timing -- BUNDLE IDS.json [ROUNDS]
//! ```
//!
//! `IDS.json` is `{"one": [ids…], "all": [[ids…], …]}` as for `forward_timing`. Prints one
//! JSON line: the adapter, dispatches per pass, and for each backend the median
//! milliseconds of `one` (over 5 runs per round) and the median seconds of all of `all`.

use std::time::Instant;

use mge::engine::gpu::{Gpu, GpuEngine};
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
    } = inputs(&args, "gpu_timing BUNDLE IDS.json [ROUNDS]", 3)?;
    let cpu = Engine::with_precision(&model, Precision::F32)?;
    let t = Instant::now();
    let gpu = GpuEngine::new(Gpu::new_blocking()?, &model)?;
    let load_s = t.elapsed().as_secs_f64();
    let dispatches = gpu.dispatches(&one)?;

    type Pass<'a> = Box<dyn Fn(&[u32]) -> mge::Result<()> + 'a>;
    let passes: [(&str, Pass); 2] = [
        ("cpu", Box::new(|s| cpu.forward(s, false, None).map(drop))),
        (
            "wgpu",
            Box::new(|s| gpu.forward_blocking(s, false).map(drop)),
        ),
    ];
    let mut out = serde_json::json!({
        "adapter": gpu.gpu().adapter(),
        "gpu_load_s": load_s,
        "dispatches": dispatches,
        "one_tokens": one.len(),
        "all_sequences": all.len(),
    });
    let (mut one_ms, mut all_s) = ([vec![], vec![]], [vec![], vec![]]);
    // Rounds alternate the backends, so that both meet the same state of the machine.
    for round in 0..=rounds {
        for (b, (_, pass)) in passes.iter().enumerate() {
            let mut times = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                pass(&one)?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let t = Instant::now();
            for s in &all {
                pass(s)?;
            }
            if round > 0 {
                one_ms[b].push(median(times));
                all_s[b].push(t.elapsed().as_secs_f64());
            }
        }
    }
    for (b, (name, _)) in passes.iter().enumerate() {
        out[format!("{name}_one_ms")] = median(one_ms[b].clone()).into();
        out[format!("{name}_all_s")] = median(all_s[b].clone()).into();
    }
    println!("{out}");
    Ok(())
}
