//! The page: text box, model picker, threshold, the annotated text with relation arcs, the
//! triples, timings, the teaching view and the in-page benchmark.
//!
//! All model work happens in the worker (`crate::worker`); this side only sends requests,
//! keeps the id of the latest one of each kind and renders what comes back. When the
//! worker cannot run the model (its WebAssembly does not start, or the model does not
//! load) and the page is served by `mge serve`, the same requests go to the server's API
//! instead (`crate::remote`); `?backend=server` asks for that from the start.

use std::cell::RefCell;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, MessageEvent, Worker};

use crate::api::Timings;
use crate::layout::{break_lines, layout_arcs, split_pieces, ArcPart, ArcSpec, Piece, PieceKind};
use crate::models::{ModelKey, ANALYZE_MAX_CHARS, BENCH_SENTENCE, BENCH_SENTENCES_URL, MAX_CHARS};
use crate::palette::{entity_colors, heat, relation_color};
use crate::protocol::{BenchReport, FromWorker, LoadStage, ModelInfo, RunResult, ToWorker};
use crate::query::{
    build_query, format_threshold, parse_query, Backend, PageQuery, THRESHOLD_MAX, THRESHOLD_MIN,
};
use crate::remote;
use crate::stats::grouped;

/// Font of the annotated text; the canvas that measures pieces uses the very same string.
const TEXT_FONT: &str =
    "17px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", \"DejaVu Sans\", sans-serif";
/// Font of arc labels.
const LABEL_FONT: &str =
    "11px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", \"DejaVu Sans\", sans-serif";
/// Horizontal padding plus border of a mention, both sides together (see `style.css`).
const MENTION_EXTRA: f64 = 6.0;
/// Horizontal padding plus border of the annotated text's box, both sides (`style.css`).
const ANNOTATED_INSET: f64 = 26.0;
/// Height of one level of arcs.
const LEVEL_H: f64 = 20.0;
/// Space kept above the top level of arcs.
const ARCS_TOP: f64 = 4.0;
/// Horizontal margin between arcs on one level, and around labels.
const ARC_GAP: f64 = 6.0;
const LABEL_PAD: f64 = 8.0;
/// Debounce of typing and of the threshold slider.
const TYPE_DEBOUNCE: Duration = Duration::from_millis(300);
const SLIDER_DEBOUNCE: Duration = Duration::from_millis(150);
/// The worker script trunk emits (`data-loader-shim` on the worker's link).
const WORKER_URL: &str = "./mge-worker_loader.js";
/// How long the worker may take to start before the page gives up on it.
const WORKER_START_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Loading,
    Busy,
    Ready,
    Error,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Loading => "loading",
            Phase::Busy => "busy",
            Phase::Ready => "ready",
            Phase::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct LoadProgress {
    model: ModelKey,
    loaded: u64,
    total: Option<u64>,
    initializing: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct LoadFailure {
    model: ModelKey,
    stage: LoadStage,
    error: String,
}

/// A worker failure to show when the server cannot take over.
enum Unrecoverable {
    Worker(String),
    Load(LoadFailure),
}

#[derive(Debug, Clone, Default, PartialEq)]
struct BenchUi {
    started: bool,
    stage: String,
    done: usize,
    total: usize,
    report: Option<BenchReport>,
    json: Option<String>,
}

/// Which table the teaching view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableKind {
    Ner,
    Re,
}

/// The page's state: every field is a copyable handle.
#[derive(Clone, Copy)]
struct Ui {
    query_bench: bool,
    text: RwSignal<String>,
    model: RwSignal<ModelKey>,
    threshold: RwSignal<f32>,
    phase: RwSignal<Phase>,
    worker_ready: RwSignal<bool>,
    worker_error: RwSignal<Option<String>>,
    loaded: RwSignal<Option<ModelInfo>>,
    load_progress: RwSignal<Option<LoadProgress>>,
    load_error: RwSignal<Option<LoadFailure>>,
    result: RwSignal<Option<RunResult>>,
    run_error: RwSignal<Option<String>>,
    run_progress: RwSignal<Option<(usize, usize)>>,
    teach_open: RwSignal<bool>,
    teach_sentence: RwSignal<usize>,
    teach_table: RwSignal<TableKind>,
    /// `None`: the maximum over types; otherwise a type index.
    teach_type: RwSignal<Option<usize>>,
    teach_hover: RwSignal<String>,
    bench: RwSignal<BenchUi>,
    cold_start_ms: RwSignal<Option<f64>>,
    simd: RwSignal<bool>,
    link_note: RwSignal<Option<String>>,
    width: RwSignal<f64>,
    worker: StoredValue<Option<Worker>, LocalStorage>,
    /// Where the model runs now, and why it runs on the server when it does.
    backend: RwSignal<Backend>,
    backend_note: RwSignal<Option<String>>,
    /// The backend the link asked for (`?backend=`); no fallback away from it.
    forced_backend: Option<Backend>,
    next_id: StoredValue<u64>,
    latest_extract: StoredValue<u64>,
    latest_load: StoredValue<u64>,
    latest_bench: StoredValue<u64>,
    debounce: StoredValue<u64>,
}

impl Ui {
    fn new(q: &PageQuery) -> Self {
        let model = q.model.unwrap_or(ModelKey::Conll04);
        let text = if q.bench {
            BENCH_SENTENCE.to_string()
        } else {
            q.text
                .clone()
                .unwrap_or_else(|| model.examples()[0].to_string())
        };
        Ui {
            query_bench: q.bench,
            text: RwSignal::new(text),
            model: RwSignal::new(model),
            threshold: RwSignal::new(q.threshold.unwrap_or(0.5)),
            phase: RwSignal::new(Phase::Loading),
            worker_ready: RwSignal::new(false),
            worker_error: RwSignal::new(None),
            loaded: RwSignal::new(None),
            load_progress: RwSignal::new(None),
            load_error: RwSignal::new(None),
            result: RwSignal::new(None),
            run_error: RwSignal::new(None),
            run_progress: RwSignal::new(None),
            teach_open: RwSignal::new(false),
            teach_sentence: RwSignal::new(0),
            teach_table: RwSignal::new(TableKind::Ner),
            teach_type: RwSignal::new(None),
            teach_hover: RwSignal::new(String::new()),
            bench: RwSignal::new(BenchUi::default()),
            cold_start_ms: RwSignal::new(None),
            simd: RwSignal::new(false),
            link_note: RwSignal::new(None),
            width: RwSignal::new(760.0),
            worker: StoredValue::new_local(None),
            backend: RwSignal::new(q.backend.unwrap_or(Backend::Wasm)),
            backend_note: RwSignal::new(
                (q.backend == Some(Backend::Server)).then(|| "the link asks for it".to_string()),
            ),
            forced_backend: q.backend,
            next_id: StoredValue::new(0),
            latest_extract: StoredValue::new(0),
            latest_load: StoredValue::new(0),
            latest_bench: StoredValue::new(0),
            debounce: StoredValue::new(0),
        }
    }

    fn fresh_id(&self) -> u64 {
        self.next_id.update_value(|n| *n += 1);
        self.next_id.get_value()
    }

    fn send(&self, msg: &ToWorker) {
        if self.backend.get_untracked() == Backend::Server {
            let ui = *self;
            let msg = msg.clone();
            leptos::task::spawn_local(async move {
                for answer in remote::answer(msg).await {
                    // Answers for a page that has since switched back are dropped by id.
                    ui.on_message(answer);
                }
            });
            return;
        }
        let Ok(json) = serde_json::to_string(msg) else {
            return;
        };
        self.worker.with_value(|w| {
            if let Some(w) = w {
                if let Err(e) = w.post_message(&JsValue::from_str(&json)) {
                    web_sys::console::error_2(&"postMessage to the worker failed".into(), &e);
                }
            }
        });
    }

    fn start_worker(self) {
        if self.backend.get_untracked() == Backend::Server {
            self.on_message(FromWorker::Hello { simd: false });
            return;
        }
        let worker = match Worker::new(WORKER_URL) {
            Ok(w) => w,
            Err(e) => {
                self.fail_worker(format!("the model worker could not be started ({e:?})"));
                return;
            }
        };
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            match serde_json::from_str::<FromWorker>(&text) {
                Ok(msg) => self.on_message(msg),
                Err(e) => {
                    web_sys::console::error_1(&format!("unreadable worker message: {e}").into())
                }
            }
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        let onerror =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                let msg = ev.message();
                self.fail_worker(if msg.is_empty() {
                    "the model worker stopped (its script or wasm could not be loaded)".to_string()
                } else {
                    format!("the model worker stopped: {msg}")
                });
            });
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        onerror.forget();
        self.worker.set_value(Some(worker));
        // A worker that neither says hello nor reports a failure (a browser that stalls on
        // its WebAssembly) counts as failed after a while.
        set_timeout(
            move || {
                let silent = !self.worker_ready.get_untracked()
                    && self.backend.get_untracked() == Backend::Wasm
                    && self.worker_error.with_untracked(|e| e.is_none());
                if silent {
                    self.fail_worker(format!(
                        "the model worker did not start within {} s",
                        WORKER_START_LIMIT.as_secs()
                    ));
                }
            },
            WORKER_START_LIMIT,
        );
    }

    fn fail_worker(&self, error: String) {
        if self.may_fall_back() {
            self.fall_back(
                format!("the in-browser model could not start ({error})"),
                Unrecoverable::Worker(error),
            );
            return;
        }
        self.show_worker_error(error);
    }

    /// Whether a failure of the worker may move the model to the server.
    fn may_fall_back(&self) -> bool {
        self.backend.get_untracked() == Backend::Wasm && self.forced_backend.is_none()
    }

    /// Moves the model to the server when the page's server has the API; otherwise shows
    /// the failure as it is. The text, model and threshold stay as they are.
    fn fall_back(self, reason: String, otherwise: Unrecoverable) {
        leptos::task::spawn_local(async move {
            if !remote::available().await {
                match otherwise {
                    Unrecoverable::Worker(e) => self.show_worker_error(e),
                    Unrecoverable::Load(f) => self.show_load_error(f),
                }
                return;
            }
            web_sys::console::warn_1(&format!("running the model on the server: {reason}").into());
            self.worker.update_value(|w| {
                if let Some(w) = w.take() {
                    w.terminate();
                }
            });
            self.backend.set(Backend::Server);
            self.backend_note.set(Some(reason));
            self.worker_error.set(None);
            self.worker_ready.set(true);
            self.load_model();
        });
    }

    fn show_worker_error(&self, error: String) {
        self.worker_error.set(Some(error));
        self.phase.set(Phase::Error);
        if self.query_bench {
            self.finish_bench_with_error("the model worker failed");
        }
    }

    fn load_model(&self) {
        let model = self.model.get_untracked();
        let id = self.fresh_id();
        self.latest_load.set_value(id);
        self.loaded.set(None);
        self.load_error.set(None);
        self.load_progress.set(Some(LoadProgress {
            model,
            loaded: 0,
            total: None,
            initializing: false,
        }));
        self.phase.set(Phase::Loading);
        if self.worker_ready.get_untracked() {
            self.send(&ToWorker::Load { id, model });
        }
    }

    /// Runs the current text after `delay`, unless something newer is scheduled meanwhile.
    fn schedule(self, delay: Duration) {
        self.debounce.update_value(|g| *g += 1);
        let generation = self.debounce.get_value();
        set_timeout(
            move || {
                if self.debounce.get_value() == generation {
                    self.run_now();
                }
            },
            delay,
        );
    }

    fn run_now(&self) {
        self.debounce.update_value(|g| *g += 1);
        let Some(info) = self.loaded.get_untracked() else {
            return; // runs when the model arrives
        };
        let text = self.text.get_untracked();
        let n = text.chars().count();
        self.run_error.set(None);
        if text.trim().is_empty() || n > MAX_CHARS {
            // The page explains (hint or refusal); nothing to run.
            self.latest_extract.set_value(self.fresh_id());
            self.result.set(None);
            self.run_progress.set(None);
            self.phase.set(Phase::Ready);
            return;
        }
        let id = self.fresh_id();
        self.latest_extract.set_value(id);
        self.phase.set(Phase::Busy);
        self.send(&ToWorker::Extract {
            id,
            model: info.model,
            text,
            threshold: self.threshold.get_untracked(),
            analyze: self.teach_open.get_untracked() && n <= ANALYZE_MAX_CHARS,
        });
    }

    fn on_message(self, msg: FromWorker) {
        match msg {
            FromWorker::StartFailed { error } => {
                self.fail_worker(error);
            }
            FromWorker::Hello { simd } => {
                self.simd.set(simd);
                self.worker_ready.set(true);
                let model = self.model.get_untracked();
                self.send(&ToWorker::Load {
                    id: self.latest_load.get_value(),
                    model,
                });
            }
            FromWorker::LoadProgress {
                id,
                model,
                loaded,
                total,
                initializing,
            } if id == self.latest_load.get_value() => {
                self.load_progress.set(Some(LoadProgress {
                    model,
                    loaded,
                    total,
                    initializing,
                }));
            }
            FromWorker::Loaded { id, info } if id == self.latest_load.get_value() => {
                cache_offline(info.model.bundle_url());
                self.loaded.set(Some(info));
                self.load_progress.set(None);
                self.phase.set(Phase::Ready);
                self.run_now();
            }
            FromWorker::LoadFailed {
                id,
                model,
                stage,
                error,
            } if id == self.latest_load.get_value() => {
                let failure = LoadFailure {
                    model,
                    stage,
                    error,
                };
                if self.may_fall_back() {
                    self.fall_back(
                        format!(
                            "the model could not be loaded in this browser ({})",
                            failure.error
                        ),
                        Unrecoverable::Load(failure),
                    );
                } else {
                    self.show_load_error(failure);
                }
            }
            FromWorker::Progress { id, done, total } if id == self.latest_extract.get_value() => {
                self.run_progress.set(Some((done, total)));
            }
            FromWorker::Done { id, result } if id == self.latest_extract.get_value() => {
                if self.cold_start_ms.get_untracked().is_none() {
                    self.cold_start_ms.set(Some(page_now()));
                }
                let sentences = result.sentences.len();
                if self.teach_sentence.get_untracked() >= sentences {
                    self.teach_sentence.set(0);
                }
                self.result.set(Some(*result));
                self.run_progress.set(None);
                self.phase.set(Phase::Ready);
                if self.query_bench && !self.bench.with_untracked(|b| b.started) {
                    self.start_bench();
                }
            }
            FromWorker::Failed { id, error }
                if id == self.latest_extract.get_value() || id == 0 =>
            {
                self.run_progress.set(None);
                self.run_error.set(Some(error));
                self.phase.set(Phase::Error);
            }
            FromWorker::BenchProgress {
                id,
                stage,
                done,
                total,
            } if id == self.latest_bench.get_value() => {
                self.bench.update(|b| {
                    b.stage = stage;
                    b.done = done;
                    b.total = total;
                });
            }
            FromWorker::BenchDone { id, report } if id == self.latest_bench.get_value() => {
                let json = self.bench_json(Some(&report), None);
                self.bench.update(|b| {
                    b.stage = "done".into();
                    b.report = Some(*report);
                    b.json = Some(json);
                });
                self.phase.set(Phase::Ready);
            }
            FromWorker::BenchFailed { id, error } if id == self.latest_bench.get_value() => {
                self.finish_bench_with_error(&error);
            }
            _ => {} // an answer to a request that has been superseded
        }
    }

    fn show_load_error(&self, failure: LoadFailure) {
        self.load_progress.set(None);
        self.load_error.set(Some(failure));
        self.phase.set(Phase::Error);
        if self.query_bench {
            self.finish_bench_with_error("the model could not be loaded");
        }
    }

    fn start_bench(&self) {
        let id = self.fresh_id();
        self.latest_bench.set_value(id);
        self.bench.update(|b| {
            b.started = true;
            b.stage = "latency".into();
        });
        self.phase.set(Phase::Busy);
        self.send(&ToWorker::Bench {
            id,
            model: self.model.get_untracked(),
            sentence: BENCH_SENTENCE.to_string(),
            warmup: 3,
            runs: 20,
            sentences_url: BENCH_SENTENCES_URL.to_string(),
        });
    }

    fn finish_bench_with_error(&self, error: &str) {
        let json = self.bench_json(None, Some(error));
        self.bench.update(|b| {
            b.started = true;
            b.stage = "failed".into();
            b.json = Some(json);
        });
    }

    /// The benchmark's result as the page exposes it in `#bench-result`.
    fn bench_json(&self, report: Option<&BenchReport>, error: Option<&str>) -> String {
        let info = self.loaded.get_untracked();
        let nav = window().navigator();
        let value = serde_json::json!({
            "backend": self.backend.get_untracked().as_str(),
            "simd": self.simd.get_untracked(),
            "model": self.model.get_untracked().key(),
            "cold_start_ms": self.cold_start_ms.get_untracked().map(|v| (v * 10.0).round() / 10.0),
            "bundle_bytes": info.as_ref().map(|i| i.bytes),
            "bundle_fetch_ms": info.as_ref().map(|i| i.fetch_ms),
            "model_init_ms": info.as_ref().map(|i| i.init_ms),
            "warm": report.map(|r| serde_json::json!({
                "sentence": r.sentence,
                "warmup": r.warmup,
                "runs": r.runs,
                "median_ms": r.warm_median_ms,
                "min_ms": r.warm_min_ms,
                "max_ms": r.warm_max_ms,
                "tokenize_median_ms": r.tokenize_median_ms,
                "encoder_median_ms": r.encoder_median_ms,
                "heads_median_ms": r.heads_median_ms,
                "decode_median_ms": r.decode_median_ms,
            })),
            "throughput": report.and_then(|r| r.throughput.clone()),
            "throughput_error": report.and_then(|r| r.throughput_error.clone()),
            "user_agent": nav.user_agent().ok(),
            "hardware_concurrency": nav.hardware_concurrency(),
            "error": error,
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    fn copy_link(&self) {
        let loc = window().location();
        let base = format!(
            "{}{}",
            loc.origin().unwrap_or_default(),
            loc.pathname().unwrap_or_default()
        );
        let link = format!(
            "{base}{}",
            build_query(
                &self.text.get_untracked(),
                self.model.get_untracked(),
                self.threshold.get_untracked()
            )
        );
        let note = self.link_note;
        let promise = window().navigator().clipboard().write_text(&link);
        note.set(Some("Copying…".into()));
        wasm_bindgen_futures::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(_) => note.set(Some("Link copied to the clipboard.".into())),
                Err(_) => note.set(Some(format!("Copy this link: {link}"))),
            }
        });
    }

    fn download_json(&self) {
        let Some(json) = self.result.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| serde_json::to_string_pretty(&r.extraction).ok())
        }) else {
            return;
        };
        if let Err(e) = save_file("mge-extraction.json", &json, "application/json") {
            web_sys::console::error_2(&"download failed".into(), &e);
        }
    }
}

/// Milliseconds since the page started loading.
fn page_now() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Asks the service worker (`sw.js`, registered by `index.html`) to keep a copy of `url`, in
/// case the page was not yet under its control when the worker fetched it.
fn cache_offline(url: &str) {
    let Ok(f) = js_sys::Reflect::get(&window(), &"mgeCacheForOffline".into()) else {
        return;
    };
    if let Some(f) = f.dyn_ref::<js_sys::Function>() {
        let _ = f.call1(&JsValue::NULL, &JsValue::from_str(url));
    }
}

fn save_file(name: &str, content: &str, mime: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a: web_sys::HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

thread_local! {
    static MEASURE: RefCell<Option<CanvasRenderingContext2d>> = const { RefCell::new(None) };
}

/// Widths of `texts` in `font`, measured on an off-screen canvas (estimated from the number
/// of characters when there is no canvas).
fn measure(font: &str, texts: &[&str]) -> Vec<f64> {
    MEASURE.with(|m| {
        let mut m = m.borrow_mut();
        if m.is_none() {
            *m = document()
                .create_element("canvas")
                .ok()
                .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
                .and_then(|c| c.get_context("2d").ok().flatten())
                .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
        }
        match m.as_ref() {
            Some(ctx) => {
                ctx.set_font(font);
                texts
                    .iter()
                    .map(|t| ctx.measure_text(t).map(|m| m.width()).unwrap_or(0.0))
                    .collect()
            }
            None => texts
                .iter()
                .map(|t| t.chars().count() as f64 * 9.0)
                .collect(),
        }
    })
}

fn type_index(types: &[String], label: &str) -> usize {
    types.iter().position(|t| t == label).unwrap_or(types.len())
}

/// The annotated text: lines of text, each with its band of arcs.
fn annotated_view(res: &RunResult, info: &ModelInfo, width: f64) -> impl IntoView {
    let ex = &res.extraction;
    let chars: Vec<char> = ex.text.chars().collect();
    let spans: Vec<(usize, usize)> = ex.entities.iter().map(|e| (e.start, e.end)).collect();
    let (pieces, entity_piece) = split_pieces(&ex.text, &spans);
    let piece_text = |p: &Piece| -> String {
        chars[p.start.min(chars.len())..p.end.min(chars.len())]
            .iter()
            .collect()
    };
    let texts: Vec<String> = pieces.iter().map(piece_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut widths = measure(TEXT_FONT, &refs);
    for (w, p) in widths.iter_mut().zip(&pieces) {
        match p.kind {
            PieceKind::Mention(_) => *w += MENTION_EXTRA,
            PieceKind::Newline => *w = 0.0,
            _ => {}
        }
    }
    let labels: Vec<&str> = ex.relations.iter().map(|r| r.label.as_str()).collect();
    let label_widths = measure(LABEL_FONT, &labels);
    // The part of a relation continued from another line is labelled "Type …": its label is
    // wider, and the layout reserves room for the wider of the two.
    let continued: Vec<String> = labels.iter().map(|l| format!("{l} …")).collect();
    let continued_refs: Vec<&str> = continued.iter().map(String::as_str).collect();
    let continued_widths = measure(LABEL_FONT, &continued_refs);
    let specs: Vec<ArcSpec> = ex
        .relations
        .iter()
        .zip(&continued_widths)
        .map(|(r, w)| ArcSpec {
            head: r.head,
            tail: r.tail,
            label_width: w + LABEL_PAD,
        })
        .collect();
    let lines = break_lines(&pieces, &widths, width);
    let arcs = layout_arcs(&lines, &entity_piece, &specs, width, ARC_GAP);

    lines
        .iter()
        .enumerate()
        .map(|(l, line)| {
            let levels = arcs.levels.get(l).copied().unwrap_or(0);
            let parts: Vec<&ArcPart> = arcs.parts.iter().filter(|p| p.line == l).collect();
            let svg = (levels > 0).then(|| {
                let h = ARCS_TOP + levels as f64 * LEVEL_H + 2.0;
                let drawn = parts
                    .iter()
                    .map(|p| {
                        let widths = if p.main {
                            &label_widths
                        } else {
                            &continued_widths
                        };
                        arc_view(p, res, info, widths, h, width)
                    })
                    .collect_view();
                view! {
                    <svg class="arcs" width=width height=h viewBox=format!("0 0 {width} {h}")
                        aria-hidden="true">
                        {drawn}
                    </svg>
                }
            });
            // Runs of plain pieces become one text node; mentions are spans.
            let mut nodes: Vec<AnyView> = Vec::new();
            let mut plain = String::new();
            for item in &line.items {
                let p = &pieces[item.piece];
                match p.kind {
                    PieceKind::Mention(e) => {
                        if !plain.is_empty() {
                            nodes.push(std::mem::take(&mut plain).into_any());
                        }
                        nodes.push(mention_view(res, info, e, &texts[item.piece]).into_any());
                    }
                    PieceKind::Newline => {}
                    _ => plain.push_str(&texts[item.piece]),
                }
            }
            if !plain.is_empty() {
                nodes.push(plain.into_any());
            }
            view! {
                <div class="line">
                    {svg}
                    <div class="line-text" style=format!("font: {TEXT_FONT}")>{nodes}</div>
                </div>
            }
        })
        .collect_view()
}

fn mention_view(res: &RunResult, info: &ModelInfo, e: usize, shown: &str) -> impl IntoView {
    let ent = &res.extraction.entities[e];
    let (fill, border) = entity_colors(type_index(&info.entity_types, &ent.label));
    let title = format!("{} · {:.2}", ent.label, ent.score);
    // A mention never contains a line break in practice; show one as a space if it does.
    let shown = shown.replace('\n', " ");
    view! {
        <span class="mention" data-entity-type=ent.label.clone() data-start=ent.start
            data-end=ent.end data-entity=e data-label=ent.label.clone() title=title
            style=format!("background:{fill};border-color:{border}")>{shown}</span>
    }
}

fn arc_view(
    p: &ArcPart,
    res: &RunResult,
    info: &ModelInfo,
    label_widths: &[f64],
    h: f64,
    width: f64,
) -> impl IntoView {
    let rel = &res.extraction.relations[p.relation];
    let color = relation_color(type_index(&info.relation_types, &rel.label));
    let base = h;
    let y = h - 2.0 - (p.level as f64 + 0.5) * LEVEL_H;
    let (a, b) = (p.from_x, p.to_x);
    let dir = if b >= a { 1.0 } else { -1.0 };
    let r = (5.0f64).min((b - a).abs() / 2.0);
    let mut d = String::new();
    if p.open_from {
        d.push_str(&format!("M{a:.1},{y:.1}"));
    } else {
        d.push_str(&format!(
            "M{a:.1},{base:.1}L{a:.1},{:.1}Q{a:.1},{y:.1} {:.1},{y:.1}",
            y + r,
            a + dir * r
        ));
    }
    if p.open_to {
        d.push_str(&format!("L{b:.1},{y:.1}"));
    } else {
        d.push_str(&format!(
            "L{:.1},{y:.1}Q{b:.1},{y:.1} {b:.1},{:.1}L{b:.1},{:.1}",
            b - dir * r,
            y + r,
            base - 1.0
        ));
    }
    let arrow = (p.main && !p.open_to).then(|| {
        view! {
            <polygon points=format!("{:.1},{:.1} {:.1},{:.1} {b:.1},{base:.1}", b - 4.0, base - 7.0, b + 4.0, base - 7.0)
                fill=color />
        }
    });
    let lw = label_widths.get(p.relation).copied().unwrap_or(30.0) + LABEL_PAD;
    let mid = ((a + b) / 2.0).clamp(lw / 2.0, (width - lw / 2.0).max(lw / 2.0));
    let title = format!(
        "{} → {} : {} · {:.2}",
        res.extraction
            .entities
            .get(rel.head)
            .map(|e| e.text.as_str())
            .unwrap_or("?"),
        res.extraction
            .entities
            .get(rel.tail)
            .map(|e| e.text.as_str())
            .unwrap_or("?"),
        rel.label,
        rel.score
    );
    let label = if p.main {
        rel.label.clone()
    } else {
        format!("{} …", rel.label)
    };
    let body = view! {
        <path d=d fill="none" stroke=color stroke-width="1.6" />
        {arrow}
        <rect x=mid - lw / 2.0 y=y - 7.5 width=lw height="15" rx="3" fill="#ffffff" stroke=color
            stroke-width="0.6" />
        <text x=mid y=y + 0.5 fill=color text-anchor="middle" dominant-baseline="middle"
            style=format!("font: {LABEL_FONT}")>{label}</text>
    };
    if p.main {
        view! {
            <g class="arc" data-relation=rel.label.clone() data-head=rel.head data-tail=rel.tail
                aria-label=title>
                {body}
            </g>
        }
        .into_any()
    } else {
        view! {
            <g class="arc arc-part" data-continues=rel.label.clone() data-part-head=rel.head
                data-part-tail=rel.tail aria-label=title>
                {body}
            </g>
        }
        .into_any()
    }
}

fn legend_view(info: &ModelInfo) -> impl IntoView {
    let ents = info
        .entity_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (fill, border) = entity_colors(i);
            view! {
                <li class="legend-entity">
                    <span class="swatch" style=format!("background:{fill};border-color:{border}")></span>
                    {t.clone()}
                </li>
            }
        })
        .collect_view();
    let rels = info
        .relation_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let color = relation_color(i);
            view! {
                <li class="legend-relation">
                    <span class="swatch-line" style=format!("background:{color}")></span>
                    {t.clone()}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="legend" aria-label="Legend">
            <span class="legend-title">"Entities"</span>
            <ul>{ents}</ul>
            <span class="legend-title">"Relations"</span>
            <ul>{rels}</ul>
        </div>
    }
}

fn triples_view(res: &RunResult) -> impl IntoView {
    let ex = &res.extraction;
    let rows = if ex.relations.is_empty() {
        view! { <tr class="empty"><td colspan="4">"No relations above the threshold."</td></tr> }
            .into_any()
    } else {
        ex.relations
            .iter()
            .map(|r| {
                let side = |i: usize| {
                    ex.entities
                        .get(i)
                        .map(|e| (e.text.clone(), e.label.clone()))
                        .unwrap_or_else(|| ("?".into(), String::new()))
                };
                let (h, ht) = side(r.head);
                let (t, tt) = side(r.tail);
                view! {
                    <tr>
                        <td>{h}" "<small>{ht}</small></td>
                        <td class="rel">{r.label.clone()}</td>
                        <td>{t}" "<small>{tt}</small></td>
                        <td class="num">{format!("{:.2}", r.score)}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <table id="triples">
            <caption>{format!("{} entities, {} relations", ex.entities.len(), ex.relations.len())}</caption>
            <thead>
                <tr><th>"Subject"</th><th>"Relation"</th><th>"Object"</th><th class="num">"Score"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn timing_view(t: &Timings, chunks: usize, backend: Backend, simd: bool) -> impl IntoView {
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
    view! {
        <p class="timing">
            {parts}{chunks}" · backend "<code>{backend.as_str()}</code>
            {(simd && backend == Backend::Wasm).then_some(" (SIMD)")}
        </p>
    }
}

/// The teaching view's heat map, drawn on a canvas.
fn draw_heatmap(
    canvas: &HtmlCanvasElement,
    tokens: &[String],
    values: &dyn Fn(usize, usize) -> Option<f32>,
) {
    let n = tokens.len();
    let cell = (440.0 / n.max(1) as f64).floor().clamp(7.0, 22.0);
    let margin = 96.0;
    let size = margin + cell * n as f64 + 4.0;
    let dpr = window().device_pixel_ratio().max(1.0);
    canvas.set_width((size * dpr) as u32);
    canvas.set_height((size * dpr) as u32);
    let _ = web_sys::HtmlElement::style(canvas).set_property("width", &format!("{size}px"));
    let _ = web_sys::HtmlElement::style(canvas).set_property("height", &format!("{size}px"));
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, size, size);
    for i in 0..n {
        for j in 0..n {
            let (x, y) = (margin + j as f64 * cell, margin + i as f64 * cell);
            match values(i, j) {
                Some(p) => ctx.set_fill_style_str(&heat(p)),
                None => ctx.set_fill_style_str("#f1f1f1"),
            }
            ctx.fill_rect(x, y, cell - 1.0, cell - 1.0);
        }
    }
    ctx.set_fill_style_str("#333");
    ctx.set_font(&format!("{}px sans-serif", (cell - 2.0).clamp(7.0, 12.0)));
    ctx.set_text_baseline("middle");
    ctx.set_text_align("right");
    for (i, t) in tokens.iter().enumerate() {
        let y = margin + i as f64 * cell + cell / 2.0;
        let _ = ctx.fill_text(&shorten(t, 12), margin - 4.0, y);
    }
    for (j, t) in tokens.iter().enumerate() {
        let x = margin + j as f64 * cell + cell / 2.0;
        ctx.save();
        let _ = ctx.translate(x, margin - 4.0);
        let _ = ctx.rotate(-std::f64::consts::FRAC_PI_2);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(&shorten(t, 12), 0.0, 0.0);
        ctx.restore();
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Cell (row, column) of the heat map under a mouse position, if any.
fn heat_cell(n: usize, x: f64, y: f64) -> Option<(usize, usize)> {
    let cell = (440.0 / n.max(1) as f64).floor().clamp(7.0, 22.0);
    let margin = 96.0;
    if x < margin || y < margin {
        return None;
    }
    let (j, i) = (
        ((x - margin) / cell) as usize,
        ((y - margin) / cell) as usize,
    );
    (i < n && j < n).then_some((i, j))
}

/// Value of a table cell: one type, or the maximum over types. NER cells below the
/// diagonal mean nothing (`None`).
fn table_value(
    table: &[f32],
    n: usize,
    k: usize,
    kind: TableKind,
    ty: Option<usize>,
    i: usize,
    j: usize,
) -> Option<f32> {
    if kind == TableKind::Ner && i > j || k == 0 {
        return None;
    }
    let cell = (i * n + j) * k;
    let row = table.get(cell..cell + k)?;
    match ty {
        Some(t) => row.get(t).copied(),
        None => row.iter().copied().reduce(f32::max),
    }
}

#[component]
fn Teaching(ui: Ui) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let (kind, ty, s) = (
            ui.teach_table.get(),
            ui.teach_type.get(),
            ui.teach_sentence.get(),
        );
        ui.result.with(|r| {
            let Some(st) = r.as_ref().and_then(|r| r.sentences.get(s)) else {
                return;
            };
            let n = st.tokens.len();
            let (table, k) = match kind {
                TableKind::Ner => (&st.ner, st.ner.len() / (n * n).max(1)),
                TableKind::Re => (&st.re, st.re.len() / (n * n).max(1)),
            };
            draw_heatmap(&canvas, &st.tokens, &|i, j| {
                table_value(table, n, k, kind, ty, i, j)
            });
        });
    });

    let on_move = move |ev: leptos::ev::MouseEvent| {
        let (kind, ty, s) = (
            ui.teach_table.get_untracked(),
            ui.teach_type.get_untracked(),
            ui.teach_sentence.get_untracked(),
        );
        let text = ui.result.with_untracked(|r| {
            let st = r.as_ref()?.sentences.get(s)?;
            let info = ui.loaded.get_untracked()?;
            let n = st.tokens.len();
            let (i, j) = heat_cell(n, ev.offset_x() as f64, ev.offset_y() as f64)?;
            let (table, types) = match kind {
                TableKind::Ner => (&st.ner, &info.entity_types),
                TableKind::Re => (&st.re, &info.relation_types),
            };
            let k = table.len() / (n * n).max(1);
            let v = table_value(table, n, k, kind, ty, i, j)?;
            let what = match ty {
                Some(t) => types.get(t).cloned().unwrap_or_default(),
                None => {
                    let cell = (i * n + j) * k;
                    let row = table.get(cell..cell + k)?;
                    let best = row
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1))
                        .map(|(t, _)| t)?;
                    format!(
                        "max over types ({})",
                        types.get(best).cloned().unwrap_or_default()
                    )
                }
            };
            let (ri, cj) = (&st.tokens[i], &st.tokens[j]);
            Some(match kind {
                TableKind::Ner => format!("span “{ri}” … “{cj}”: {what} p = {v:.3}"),
                TableKind::Re => {
                    format!("subject starts at “{ri}”, object at “{cj}”: {what} p = {v:.3}")
                }
            })
        });
        ui.teach_hover.set(text.unwrap_or_default());
    };

    let types = move || {
        let info = ui.loaded.get()?;
        Some(match ui.teach_table.get() {
            TableKind::Ner => info.entity_types,
            TableKind::Re => info.relation_types,
        })
    };

    let body = move || {
        let has = ui
            .result
            .with(|r| r.as_ref().is_some_and(|r| !r.sentences.is_empty()));
        if !has {
            let long = ui.text.with(|t| t.chars().count() > ANALYZE_MAX_CHARS);
            let msg = if ui.backend.get() == Backend::Server {
                "The tables come from the model in this browser; while it runs on the server they are not shown.".to_string()
            } else if long {
                format!(
                    "The tables are drawn for texts of up to {} characters.",
                    grouped(ANALYZE_MAX_CHARS)
                )
            } else if ui.phase.get() == Phase::Busy {
                "Computing the tables…".to_string()
            } else {
                "The tables appear with the next result.".to_string()
            };
            return view! { <p class="hint">{msg}</p> }.into_any();
        }
        let sentence_picker = move || {
            // One entry per sentence, or per window of a sentence too long for one (windows
            // overlap), named by its first words.
            let names: Vec<String> = ui.result.with(|r| {
                r.as_ref()
                    .map(|r| {
                        let chars: Vec<char> = r.extraction.text.chars().collect();
                        r.sentences
                            .iter()
                            .enumerate()
                            .map(|(i, st)| {
                                let (a, b) = (st.start.min(chars.len()), st.end.min(chars.len()));
                                let words: String = chars[a..b.max(a)].iter().collect();
                                format!("{}. {}", i + 1, shorten(words.trim(), 40))
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            });
            (names.len() > 1).then(|| {
                let opts = names
                    .into_iter()
                    .enumerate()
                    .map(|(s, name)| view! { <option value=s prop:selected=move || ui.teach_sentence.get() == s>{name}</option> })
                    .collect_view();
                view! {
                    <label>"Part "
                        <select on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<usize>() {
                                ui.teach_sentence.set(s);
                            }
                        }>{opts}</select>
                    </label>
                }
            })
        };
        let type_options = move || {
            types()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(t, name)| view! { <option value=t prop:selected=move || ui.teach_type.get() == Some(t)>{name}</option> })
                .collect_view()
        };
        view! {
            <div class="teach-controls">
                {sentence_picker}
                <label>"Table "
                    <select on:change=move |ev| {
                        ui.teach_type.set(None);
                        ui.teach_table.set(if event_target_value(&ev) == "re" { TableKind::Re } else { TableKind::Ner });
                    }>
                        <option value="ner" prop:selected=move || ui.teach_table.get() == TableKind::Ner>"Entities (NER)"</option>
                        <option value="re" prop:selected=move || ui.teach_table.get() == TableKind::Re>"Relations (RE)"</option>
                    </select>
                </label>
                <label>"Type "
                    <select on:change=move |ev| ui.teach_type.set(event_target_value(&ev).parse::<usize>().ok())>
                        <option value="max" prop:selected=move || ui.teach_type.get().is_none()>"max over types"</option>
                        {type_options}
                    </select>
                </label>
            </div>
            <p class="axis-note">{move || match ui.teach_table.get() {
                TableKind::Ner => "Row: the sub-token a span starts at; column: where it ends (cells below the diagonal are unused). Darker = more probable.",
                TableKind::Re => "Row: the sub-token the subject starts at; column: the sub-token the object starts at. Darker = more probable.",
            }}</p>
            <div class="heatmap-wrap">
                <canvas node_ref=canvas_ref class="heatmap" on:mousemove=on_move
                    on:mouseleave=move |_| ui.teach_hover.set(String::new())></canvas>
            </div>
            <p class="hover-readout">{move || ui.teach_hover.get()}</p>
            <h4>"Gate activations per sub-token (mean over hidden units)"</h4>
            {move || gates_view(ui)}
        }
        .into_any()
    };

    view! {
        <details class="teaching" on:toggle=move |ev| {
            let open = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
                .is_some_and(|d| d.open());
            ui.teach_open.set(open);
            let need = open && ui.result.with_untracked(|r| r.as_ref().is_none_or(|r| r.sentences.is_empty()));
            if need {
                ui.run_now();
            }
        }>
            <summary>"How the model reads this text (teaching view)"</summary>
            <p class="explain">
                "MGE first runs the sentence through one shared BERT encoder. Two "<em>"task gates"</em>
                " then act as per-feature valves on that shared output: the entity gate lets through the
                features that help find and type mentions, the relation gate those that help connect them,
                so each task works from its own selection of the same representation. Two "
                <em>"interaction gates"</em>" make the tasks talk: each task's gated features are filtered
                once more and handed over to the other task's representation, so entity evidence can guide
                the relation table and relation evidence the entity table. Both tables are then filled for
                every pair of sub-tokens, which is what the heat map shows; the bars below show how open
                each gate is, on average, at every sub-token."
            </p>
            {body}
        </details>
    }
}

fn gates_view(ui: Ui) -> impl IntoView {
    let s = ui.teach_sentence.get();
    ui.result.with(|r| {
        let Some(st) = r.as_ref().and_then(|r| r.sentences.get(s)) else {
            return view! { <p class="hint">"No gate activations for this sentence."</p> }.into_any();
        };
        let rows = [
            ("entity task", &st.gates.entity_task),
            ("relation task", &st.gates.relation_task),
            ("entity → relation", &st.gates.entity_interaction),
            ("relation → entity", &st.gates.relation_interaction),
        ];
        let header = st
            .tokens
            .iter()
            .map(|t| view! { <th class="tok"><span>{t.clone()}</span></th> })
            .collect_view();
        let body = rows
            .into_iter()
            .map(|(name, vals)| {
                let cells = match vals {
                    Some(v) => v
                        .iter()
                        .map(|&a| {
                            let a = if a.is_finite() { a.clamp(0.0, 1.0) } else { 0.0 };
                            view! {
                                <td title=format!("{a:.3}")>
                                    <div class="bar" style=format!("height:{:.1}px", 2.0 + a * 38.0)></div>
                                </td>
                            }
                        })
                        .collect_view()
                        .into_any(),
                    None => view! { <td class="absent" colspan=st.tokens.len().max(1)>"(this model has no such gate)"</td> }
                        .into_any(),
                };
                view! { <tr><th class="gate">{name}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <div class="gates-wrap">
                <table class="gates">
                    <thead><tr><th></th>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        }
        .into_any()
    })
}

#[component]
fn BenchPanel(ui: Ui) -> impl IntoView {
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
                view! {
                    <table class="bench-table">
                        <tr><th>"Cold start (page load → first result)"</th><td>{cold.map(ms).unwrap_or_default()}</td></tr>
                        <tr><th>{format!("Warm latency, median of {} (after {} warm-ups)", r.runs, r.warmup)}</th><td>{ms(r.warm_median_ms)}</td></tr>
                        <tr><th>"… encoder / heads"</th><td>{format!("{} / {}", ms(r.encoder_median_ms), ms(r.heads_median_ms))}</td></tr>
                        <tr><th>"Throughput"</th><td>{tp}</td></tr>
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

#[component]
pub fn App() -> impl IntoView {
    let search = window().location().search().unwrap_or_default();
    let q = parse_query(&search);
    let ui = Ui::new(&q);
    ui.load_model();
    ui.start_worker();

    // Width available to the annotated text, kept current on resize.
    let text_box = NodeRef::<leptos::html::Div>::new();
    let measure_width = move || {
        if let Some(el) = text_box.get_untracked() {
            let w = el.client_width() as f64 - ANNOTATED_INSET;
            if w > 0.0 && (w - ui.width.get_untracked()).abs() >= 1.0 {
                ui.width.set(w);
            }
        }
    };
    Effect::new(move |_| {
        if text_box.get().is_some() {
            measure_width();
        }
    });
    // The page lives as long as the document: the listener is never removed.
    let _resize = window_event_listener(leptos::ev::resize, move |_| measure_width());

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

    let chars = move || ui.text.with(|t| t.chars().count());
    let input_notice = move || {
        let n = chars();
        let empty = ui.text.with(|t| t.trim().is_empty());
        if empty {
            Some(view! { <p class="hint" id="input-hint">"Type or paste English text above (a sentence or a few paragraphs), or pick an example."</p> }.into_any())
        } else if n > MAX_CHARS {
            Some(view! {
                <p class="refuse" id="input-hint" role="alert">
                    {format!("This text has {} characters; the demo accepts at most {}. Please shorten it or split it into parts.", grouped(n), grouped(MAX_CHARS))}
                </p>
            }.into_any())
        } else {
            None
        }
    };

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

    let results = move || {
        let info = ui.loaded.get()?;
        let width = ui.width.get();
        let stale = ui.phase.get() == Phase::Busy;
        ui.result.with(|r| {
            let r = r.as_ref()?;
            (r.model == info.model).then(|| {
                view! {
                    <div class={ if stale { "results stale" } else { "results" } }>
                        {legend_view(&info)}
                        <div class="annotated" aria-label="Text with entities and relations">
                            {annotated_view(r, &info, width)}
                        </div>
                        {timing_view(&r.timings, r.chunks, ui.backend.get_untracked(), ui.simd.get_untracked())}
                        {triples_view(r)}
                    </div>
                }
            })
        })
    };

    let examples = move || {
        let m = ui.model.get();
        m.examples()
            .iter()
            .enumerate()
            .map(|(i, &ex)| {
                view! {
                    <button class="example" title=ex on:click=move |_| {
                        ui.text.set(ex.to_string());
                        ui.run_now();
                    }>{format!("Example {}", i + 1)}</button>
                }
            })
            .collect_view()
    };

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
        </header>

        <section class="controls">
            <label>"Model "
                <select id="model" on:change=move |ev| {
                    if let Some(m) = ModelKey::from_key(&event_target_value(&ev)) {
                        if m != ui.model.get_untracked() {
                            ui.model.set(m);
                            ui.result.set(None);
                            ui.teach_type.set(None);
                            ui.load_model_and_send();
                        }
                    }
                }>
                    {ModelKey::ALL.iter().map(|&m| view! {
                        <option value=m.key() prop:selected=move || ui.model.get() == m>{m.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="threshold">"Threshold "
                <input id="threshold" type="range" min=THRESHOLD_MIN max=THRESHOLD_MAX step="0.01"
                    prop:value=move || ui.threshold.get().to_string()
                    on:input=move |ev| {
                        if let Ok(t) = event_target_value(&ev).parse::<f32>() {
                            if t.is_finite() {
                                ui.threshold.set(t.clamp(THRESHOLD_MIN, THRESHOLD_MAX));
                                ui.schedule(SLIDER_DEBOUNCE);
                            }
                        }
                    } />
                <output>{move || format_threshold(ui.threshold.get())}</output>
            </label>
            <button id="copy-link" on:click=move |_| ui.copy_link()>"Copy link"</button>
            <button id="download-json" on:click=move |_| ui.download_json()
                disabled=move || ui.result.with(|r| r.is_none())>"Download JSON"</button>
        </section>
        {move || ui.link_note.get().map(|n| view! { <p class="link-note">{n}</p> })}

        <section class="input">
            <textarea id="text" rows="5" spellcheck="false" aria-label="Text to analyse"
                prop:value=move || ui.text.get()
                on:input=move |ev| {
                    ui.text.set(event_target_value(&ev));
                    ui.schedule(TYPE_DEBOUNCE);
                }></textarea>
            <div class="under-input">
                <div class="examples">"Try: "{examples}</div>
                <span class=move || { if chars() > MAX_CHARS { "count over" } else { "count" } }>
                    {move || format!("{} / {} characters", grouped(chars()), grouped(MAX_CHARS))}
                </span>
            </div>
            {input_notice}
        </section>

        {load_box}
        {run_box}

        <section class="output">
            <div class="measure" node_ref=text_box></div>
            {results}
        </section>

        <Teaching ui=ui />

        {ui.query_bench.then(|| view! { <BenchPanel ui=ui /> })}

        <footer>
            <p>{footer_model}</p>
            <p>{format!(
                "Limits: up to {} characters per text (longer pastes are refused); texts over a few sentences are processed sentence by sentence with progress; the teaching view's tables are drawn for texts up to {} characters. After the first visit the page, its code and the models are cached and work offline.",
                grouped(MAX_CHARS),
                grouped(ANALYZE_MAX_CHARS)
            )}</p>
        </footer>
    }
}

impl Ui {
    /// (Re)loads the selected model: also the Retry button's action.
    fn load_model_and_send(&self) {
        self.load_model();
    }
}

/// Mounts the page into `#app` (or the body when there is none).
pub fn start() {
    console_error_panic_hook::set_once();
    let target = document()
        .get_element_by_id("app")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match target {
        Some(el) => {
            el.set_inner_html("");
            leptos::mount::mount_to(el, App).forget();
        }
        None => leptos::mount::mount_to_body(App),
    }
}
