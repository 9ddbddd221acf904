//! What the page says about itself: the header with `#status`, the model's download and
//! failures, a long run's progress, the timings line and the footer.

use leptos::prelude::*;

use super::state::{Phase, Ui};
use crate::api::Timings;
use crate::models::{ANALYZE_MAX_CHARS, MAX_CHARS};
use crate::protocol::{BackendChoice, LoadStage};
use crate::query::Backend;
use crate::stats::grouped;

/// The title, the privacy line, `#status` (`data-state`, `data-backend`) and, when the model
/// runs on the server, `#backend-note` saying why.
#[component]
pub(super) fn Header(ui: Ui) -> impl IntoView {
    let status_text = move || {
        if let Some(e) = ui.worker_error.get() {
            return format!("Error: {e}");
        }
        match ui.phase.get() {
            Phase::Loading => match ui.load_progress.get() {
                Some(p) if p.initializing => format!("Preparing the {} model…", p.model.label()),
                Some(p) => format!("Downloading the {} model…", p.model.label()),
                None => "Starting…".into(),
            },
            Phase::Busy => match ui.run_progress.get() {
                Some((d, t)) => format!("Working… {d} of {t} chunks"),
                None => "Working…".into(),
            },
            Phase::Ready => "Ready".into(),
            Phase::Error if ui.load_error.with(|e| e.is_some()) => {
                "Error: the model could not be loaded".into()
            }
            Phase::Error => "Error: the extraction failed".into(),
        }
    };

    view! {
        <header class="top">
            <div>
                <h1>"Entities and relations, in your browser"</h1>
                <p class="sub">
                    "MGE-rs: the Multi-Gate Encoder for joint entity and relation extraction, compiled to WebAssembly. "
                    {move || if ui.backend.get() == Backend::Server {
                        "What you type is sent to this page's server, which runs the model."
                    } else {
                        "Nothing you type leaves this page."
                    }}
                </p>
            </div>
            <div id="status" class="status" data-state=move || ui.phase.get().as_str() data-backend=move || ui.backend.get().as_str() role="status" aria-live="polite">
                {status_text}
            </div>
            {move || (ui.backend.get() == Backend::Server).then(|| view! {
                <p id="backend-note" class="backend-note">
                    "The model runs on this page's server, not in your browser: "
                    {ui.backend_note.get().unwrap_or_default()}"."
                </p>
            })}
            {move || {
                let note = ui.backend_note.get().filter(|_| ui.backend.get() != Backend::Server)?;
                Some(view! { <p id="backend-note" class="backend-note">{note}</p> })
            }}
        </header>
    }
}

/// The model's download progress, or why it could not be loaded with a Retry button; then a
/// long text's progress, or why its extraction failed.
#[component]
pub(super) fn Progress(ui: Ui) -> impl IntoView {
    let load_box = move || {
        if let Some(f) = ui.load_error.get() {
            let what = match f.stage {
                LoadStage::Download => format!("Could not download the {} model ({}).", f.model.label(), f.model.bundle_url()),
                LoadStage::Model => format!("The downloaded {} model is not usable: the file is damaged or not an MGE bundle.", f.model.label()),
            };
            return Some(view! {
                <div class="load-error" role="alert">
                    <p><strong>{what}</strong></p>
                    <p class="detail">{f.error}</p>
                    <button id="retry" on:click=move |_| ui.load_model_and_send()>"Retry"</button>
                </div>
            }.into_any());
        }
        ui.load_progress.get().map(|p| {
            let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
            let (value, max, label) = match (p.initializing, p.total) {
                (true, _) => (1.0, 1.0, "download complete, preparing the model…".to_string()),
                (false, Some(t)) if t > 0 => (p.loaded as f64, t as f64, format!("{} of {}", mb(p.loaded), mb(t))),
                _ => (0.0, 1.0, mb(p.loaded)),
            };
            view! {
                <div class="load-progress">
                    <label>{format!("Downloading {} ", p.model.label())}
                        <progress max=max value=value></progress>
                        " "{label}
                    </label>
                    <p class="detail">"The model is fetched once; later visits load it from the browser's cache, also offline."</p>
                </div>
            }.into_any()
        })
    };

    let run_box = move || {
        if let Some(e) = ui.run_error.get() {
            return Some(view! { <p class="refuse" role="alert">{format!("The extraction failed: {e}")}</p> }.into_any());
        }
        ui.run_progress.get().map(|(d, t)| {
            view! {
                <p class="run-progress">
                    <progress max=t value=d></progress>{format!(" long text: {d} of {t} sentence chunks")}
                </p>
            }.into_any()
        })
    };

    view! {
        {load_box}
        {run_box}
    }
}

/// The loaded model (where it came from, its size and test scores) and the page's limits.
#[component]
pub(super) fn PageFooter(ui: Ui) -> impl IntoView {
    let footer_model = move || {
        ui.loaded.get().map(|i| {
            let f1 = match (i.test_ner_f1, i.test_re_f1) {
                (Some(n), Some(r)) => {
                    format!(" Test F1: entities {n:.1}, relations {r:.1} (strict).")
                }
                _ => String::new(),
            };
            let place = if ui.backend.get() == Backend::Server {
                "runs on this page's server".to_string()
            } else {
                format!(
                    "downloaded in {} and prepared in {}",
                    ms(i.fetch_ms),
                    ms(i.init_ms)
                )
            };
            format!(
                "Model: {} — trained on {}, {} weights, {:.1} MB, {place}.{f1}",
                i.model.label(),
                i.dataset,
                i.quantization,
                i.bytes as f64 / 1e6,
            )
        })
    };

    view! {
        <footer>
            <p>{footer_model}</p>
            <p>{format!(
                "Limits: up to {} characters per text (longer pastes are refused); texts over a few sentences are processed sentence by sentence with progress (your documents, below, have no limit); the walk-through is drawn for texts up to {} characters. After the first visit the page, its code and the models are cached and work offline.",
                grouped(MAX_CHARS),
                grouped(ANALYZE_MAX_CHARS)
            )}</p>
        </footer>
    }
}

pub(super) fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

/// "(SIMD)", the worker's kernels in full on hover and in `data-kernels` (which dot
/// products its int8 products use).
fn simd_view(kernels: String) -> impl IntoView {
    view! { " (" <span id="kernels" title=kernels.clone() data-kernels=kernels>"SIMD"</span> ")" }
}

pub(super) fn timing_view(
    t: &Timings,
    chunks: usize,
    backend: Backend,
    simd: bool,
    kernels: String,
    choice: Option<BackendChoice>,
) -> impl IntoView {
    let split = t.tokenize_ms + t.encoder_ms + t.heads_ms + t.decode_ms > 0.0;
    let parts = if split {
        format!(
            "tokenize {} · encoder {} · heads {} · decode {} · total {}",
            ms(t.tokenize_ms),
            ms(t.encoder_ms),
            ms(t.heads_ms),
            ms(t.decode_ms),
            ms(t.total_ms)
        )
    } else {
        format!("total {}", ms(t.total_ms))
    };
    let chunks = (chunks > 1).then(|| format!(" · {chunks} chunks"));
    // How the worker chose: both backends timed on a warm-up sentence after the load.
    let choice = choice
        .filter(|c| c.webgpu_ms.is_some() || c.adapter.is_some())
        .map(|c| {
            let time = |v: Option<f64>| v.map_or("not timed".to_string(), ms);
            let mut line = format!(
                "warm-up sentence: WebGPU {} · WebAssembly {} → {}",
                time(c.webgpu_ms),
                time(c.wasm_ms),
                backend.as_str()
            );
            if let Some(a) = c.adapter {
                line.push_str(&format!(" · GPU: {a}"));
            }
            if let Some(n) = c.note {
                line.push_str(&format!(" · {n}"));
            }
            view! { <span id="backend-choice" data-webgpu-ms=c.webgpu_ms.map(|v| v.to_string()) data-wasm-ms=c.wasm_ms.map(|v| v.to_string())><br/>{line}</span> }
        });
    view! {
        <p class="timing">
            {parts}{chunks}" · backend "<code>{backend.as_str()}</code>
            {(simd && backend == Backend::Wasm).then(|| simd_view(kernels))}
            {choice}
        </p>
    }
}
