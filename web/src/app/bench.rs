//! The in-page benchmark (`?bench=1`): cold start, warm latency and throughput in
//! WebAssembly, and warm latency on WebGPU where the browser has an adapter.

use leptos::prelude::*;

use super::state::Ui;
use super::status::ms;

#[component]
pub(super) fn BenchPanel(ui: Ui) -> impl IntoView {
    let progress = move || {
        ui.bench.with(|b| match b.stage.as_str() {
            "" => "Waiting for the first result (cold start)…".to_string(),
            "latency" => format!("Warm latency: run {} of {}…", b.done, b.total),
            "throughput" => format!("Throughput: {} of {} sentences…", b.done, b.total),
            "done" => "Finished.".to_string(),
            _ => "Stopped with an error (see the JSON).".to_string(),
        })
    };
    let summary = move || {
        let cold = ui.cold_start_ms.get();
        ui.bench.with(|b| {
            b.report.as_ref().map(|r| {
                let tp = r
                    .throughput
                    .as_ref()
                    .map(|t| format!("{:.1} sentences/s ({} sentences in {:.1} s, batches of {})", t.sentences_per_second, t.sentences, t.seconds, t.batch_size))
                    .or_else(|| r.throughput_error.clone())
                    .unwrap_or_default();
                let gpu = match (&r.webgpu, &r.webgpu_error) {
                    (Some(g), _) => format!("{} (min {}, max {}; {})", ms(g.warm_median_ms), ms(g.warm_min_ms), ms(g.warm_max_ms), g.adapter),
                    (None, Some(e)) => e.clone(),
                    (None, None) => String::new(),
                };
                view! {
                    <table class="bench-table">
                        <tr><th>"Cold start (page load → first result)"</th><td>{cold.map(ms).unwrap_or_default()}</td></tr>
                        <tr><th>{format!("Warm latency in WebAssembly, median of {} (after {} warm-ups)", r.runs, r.warmup)}</th><td>{ms(r.warm_median_ms)}</td></tr>
                        <tr><th>"… encoder / heads"</th><td>{format!("{} / {}", ms(r.encoder_median_ms), ms(r.heads_median_ms))}</td></tr>
                        <tr><th>"Throughput (WebAssembly)"</th><td>{tp}</td></tr>
                        <tr id="bench-webgpu"><th>"Warm latency on WebGPU"</th><td>{gpu}</td></tr>
                    </table>
                }
            })
        })
    };
    view! {
        <section class="bench" aria-label="Benchmark">
            <h2>"Benchmark"</h2>
            <p>{progress}</p>
            {summary}
            <pre id="bench-result" data-done=move || { if ui.bench.with(|b| b.json.is_some()) { "1" } else { "0" } }>
                {move || ui.bench.with(|b| b.json.clone().unwrap_or_default())}
            </pre>
        </section>
    }
}
