//! The Web Worker: fetches bundles, owns the extractors and runs every model call, so the
//! page's thread never blocks on inference. Each model runs on the visitor's GPU (WebGPU)
//! when a warm-up sentence timed on both backends after the load ran faster there, or the
//! link asks for it, and in WebAssembly otherwise; a GPU that fails later hands the model
//! to WebAssembly for good.
//!
//! Requests queue up as they arrive. A queued extraction is skipped when a newer one waits
//! behind it, text typed while a document runs is answered between the document's chunks,
//! and a long text (processed in sentence chunks, with progress) is abandoned
//! between chunks when a newer extraction arrives.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use mge::engine::gpu::{Gpu, GpuEngine};

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DedicatedWorkerGlobalScope, MessageEvent, ReadableStreamDefaultReader, RequestCache,
    RequestInit, Response,
};

use crate::api::{self, Extraction, Extractor, SentenceTables, Timings};
use crate::chunks::{append_shifted, sentence_chunks};
use crate::models::{ModelKey, CHUNK_CHARS, MAX_CHARS};
use crate::protocol::{
    BackendChoice, BenchReport, FromWorker, GpuChoice, GpuLatency, LoadStage, ModelInfo, RunResult,
    Throughput, ToWorker,
};
use crate::stats::{median, round_to};

thread_local! {
    static QUEUE: RefCell<VecDeque<ToWorker>> = const { RefCell::new(VecDeque::new()) };
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    static MODELS: RefCell<HashMap<ModelKey, (Extractor, ModelInfo)>> = RefCell::new(HashMap::new());
    /// The models that run on WebGPU (the others run on WebAssembly).
    static GPUS: RefCell<HashMap<ModelKey, Rc<GpuEngine>>> = RefCell::new(HashMap::new());
}

/// The sentence both backends are timed on after a model loads.
const WARM_UP: &str =
    "Maria Gonzalez, a reporter for the Boston Globe, met officials of Toyota in Tokyo.";
/// Timed runs of it on each backend (after one untimed run each).
const WARM_UP_RUNS: usize = 3;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Milliseconds from the worker's time origin.
fn now() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

fn post(msg: &FromWorker) {
    match serde_json::to_string(msg) {
        Ok(s) => {
            if let Err(e) = scope().post_message(&JsValue::from_str(&s)) {
                web_sys::console::error_2(&"mge-worker: postMessage failed".into(), &e);
            }
        }
        Err(e) => web_sys::console::error_1(&format!("mge-worker: {e}").into()),
    }
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Entry point of the worker's wasm module.
pub fn run() {
    console_error_panic_hook::set_once();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let Some(text) = ev.data().as_string() else {
            return;
        };
        match serde_json::from_str::<ToWorker>(&text) {
            Ok(msg) => {
                QUEUE.with(|q| q.borrow_mut().push_back(msg));
                pump();
            }
            Err(e) => post(&FromWorker::Failed {
                id: 0,
                error: format!("the worker could not read a request: {e}"),
            }),
        }
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&FromWorker::Hello {
        simd: cfg!(target_feature = "simd128"),
        kernels: mge::engine::isa::describe(mge::engine::isa::int8_dot()),
    });
}

/// Starts working through the queue unless that is already under way.
fn pump() {
    if RUNNING.with(|r| r.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        while let Some(msg) = next_request() {
            match msg {
                ToWorker::Load { id, model, gpu } => load(id, model, gpu).await,
                ToWorker::Extract {
                    id,
                    model,
                    text,
                    threshold,
                    analyze,
                } => run_chunks(id, model, &text, threshold, analyze, Run::Text).await,
                ToWorker::Document {
                    id,
                    model,
                    text,
                    threshold,
                } => run_chunks(id, model, &text, threshold, false, Run::Document).await,
                // Seen by `superseded` while a document runs; nothing to do on its own.
                ToWorker::Cancel => {}
                ToWorker::LoseGpu => GPUS.with(|g| {
                    for engine in g.borrow().values() {
                        engine.gpu().lose();
                    }
                }),
                ToWorker::Bench {
                    id,
                    model,
                    sentence,
                    warmup,
                    runs,
                    sentences_url,
                } => bench(id, model, &sentence, warmup, runs, &sentences_url).await,
            }
        }
        RUNNING.with(|r| r.set(false));
    });
}

/// The next request to serve; extractions with a newer one queued behind them are dropped.
fn next_request() -> Option<ToWorker> {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        while let Some(msg) = q.pop_front() {
            let stale = matches!(msg, ToWorker::Extract { .. })
                && q.iter().any(|m| matches!(m, ToWorker::Extract { .. }));
            if !stale {
                return Some(msg);
            }
        }
        None
    })
}

/// Takes the newest queued extraction of typed text out of the queue (older ones are stale).
fn take_newest_extract() -> Option<ToWorker> {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let newest = q
            .iter()
            .rposition(|m| matches!(m, ToWorker::Extract { .. }))?;
        let msg = q.remove(newest);
        q.retain(|m| !matches!(m, ToWorker::Extract { .. }));
        msg
    })
}

/// Whether the current run is not worth finishing: a newer extraction is waiting (for a
/// typed text), or the visitor cancelled (for a document).
fn superseded(kind: Run) -> bool {
    QUEUE.with(|q| {
        q.borrow().iter().any(|m| match kind {
            Run::Text => matches!(m, ToWorker::Extract { .. }),
            Run::Document => matches!(m, ToWorker::Cancel),
        })
    })
}

/// What a chunked run is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    Text,
    Document,
}

/// Lets queued messages in (a macrotask turn).
async fn yield_now() {
    let p = Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(p).await;
}

/// Downloads `url`, calling `progress(bytes so far, total if known)` at most every 100 ms.
async fn fetch_bytes(url: &str, progress: impl Fn(u64, Option<u64>)) -> Result<Vec<u8>, String> {
    // Revalidate with the server: a damaged copy in the HTTP cache must not come back on
    // Retry (a 304 costs little; offline, the service worker answers first).
    let init = RequestInit::new();
    init.set_cache(RequestCache::NoCache);
    let resp: Response = JsFuture::from(scope().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| format!("could not fetch {url}: {}", js_error(e)))?
        .dyn_into()
        .map_err(|_| format!("could not fetch {url}: not a response"))?;
    if !resp.ok() {
        return Err(format!(
            "could not fetch {url}: HTTP {} {}",
            resp.status(),
            resp.status_text()
        ));
    }
    let total = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let Some(body) = resp.body() else {
        let buf = resp.array_buffer().map_err(js_error)?;
        let buf = JsFuture::from(buf).await.map_err(js_error)?;
        return Ok(Uint8Array::new(&buf).to_vec());
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut out: Vec<u8> = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
    let mut last = f64::NEG_INFINITY;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("the download of {url} broke off: {}", js_error(e)))?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(js_error)?;
        let bytes: Uint8Array = value
            .dyn_into()
            .map_err(|_| format!("the download of {url} sent something other than bytes"))?;
        let start = out.len();
        out.resize(start + bytes.length() as usize, 0);
        bytes.copy_to(&mut out[start..]);
        if now() - last >= 100.0 {
            progress(out.len() as u64, total);
            last = now();
        }
    }
    progress(out.len() as u64, total);
    Ok(out)
}

fn model_info(
    model: ModelKey,
    ex: &Extractor,
    bytes: u64,
    fetch_ms: f64,
    init_ms: f64,
) -> ModelInfo {
    let info = ex.info();
    let metric = |key: &str| {
        info.and_then(|i| i.provenance.metrics.pointer(&format!("/test/{key}")))
            .and_then(|v| v.as_f64())
    };
    ModelInfo {
        model,
        entity_types: api::entity_types(ex),
        relation_types: api::relation_types(ex),
        quantization: info.map(|i| i.quantization.to_string()).unwrap_or_default(),
        dataset: info
            .map(|i| i.provenance.dataset.clone())
            .unwrap_or_default(),
        test_ner_f1: metric("ner_f1"),
        test_re_f1: metric("re_strict_f1"),
        bytes,
        fetch_ms: round_to(fetch_ms, 1),
        init_ms: round_to(init_ms, 1),
        backend: "wasm".into(),
        choice: BackendChoice::default(),
    }
}

/// Median milliseconds of the warm-up sentence through `run`: one untimed run, then
/// [`WARM_UP_RUNS`] timed ones. Stops early, with what it has, once a run (the untimed one
/// included) takes longer than `give_up` ms: a GPU that is clearly slower (a software
/// adapter such as SwiftShader takes seconds a sentence) is not worth timing further.
async fn time_runs<F, Fut>(run: F, give_up: f64) -> Result<f64, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let t0 = now();
    run().await?;
    let first = now() - t0;
    if first > give_up {
        return Ok(round_to(first, 2));
    }
    let mut times = Vec::with_capacity(WARM_UP_RUNS);
    for _ in 0..WARM_UP_RUNS {
        let t0 = now();
        run().await?;
        times.push(now() - t0);
        if now() - t0 > give_up {
            break;
        }
    }
    Ok(round_to(median(&times).unwrap_or(f64::NAN), 2))
}

/// Runs `text` through the GPU engine of `gpu` with the extractor's windows and decoding,
/// all its windows in one submit.
async fn on_gpu(ex: &Extractor, gpu: &Rc<GpuEngine>, text: &str) -> mge::Result<api::Analysis> {
    ex.analyze_with(text, &now, |batch, gates| async move {
        let batch: Vec<&[u32]> = batch.iter().map(Vec::as_slice).collect();
        gpu.forward_many(&batch, gates).await
    })
    .await
}

/// Times the warm-up sentence on both backends: the engine when the model should run on
/// WebGPU, and how that was decided. `gpu` is the model built on the GPU, or why there is
/// none.
async fn choose_backend(
    ex: &Extractor,
    gpu: Result<GpuEngine, String>,
    choice: GpuChoice,
) -> (Option<Rc<GpuEngine>>, BackendChoice) {
    let mut c = BackendChoice::default();
    let engine = match gpu {
        Ok(e) => Rc::new(e),
        Err(note) => {
            c.note = Some(note);
            return (None, c);
        }
    };
    c.adapter = Some(engine.gpu().adapter().to_string());
    let wasm_time = time_runs(
        || async {
            api::analyze(ex, WARM_UP, &now)
                .map(drop)
                .map_err(|e| e.to_string())
        },
        f64::INFINITY,
    )
    .await;
    // When measuring, a GPU run that takes far longer than WebAssembly ends the timing (the
    // first run compiles the pipelines, so it gets more room); when the link asks for
    // WebGPU, every run is timed.
    let give_up = match (choice, &wasm_time) {
        (GpuChoice::Measure, Ok(w)) => (30.0 * w).max(1000.0),
        _ => f64::INFINITY,
    };
    let gpu_time = time_runs(
        || async {
            on_gpu(ex, &engine, WARM_UP)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
        give_up,
    )
    .await;
    c.wasm_ms = wasm_time.ok();
    match gpu_time {
        Err(e) => {
            c.note = Some(format!("WebGPU failed on the warm-up sentence ({e})"));
            (None, c)
        }
        Ok(ms) => {
            c.webgpu_ms = Some(ms);
            let faster = c.wasm_ms.is_none_or(|w| ms < w);
            if choice == GpuChoice::Require || faster {
                (Some(engine), c)
            } else {
                c.note = Some("WebAssembly was faster on the warm-up sentence".into());
                (None, c)
            }
        }
    }
}

async fn load(id: u64, model: ModelKey, gpu: GpuChoice) {
    if let Some(info) = MODELS.with(|m| m.borrow().get(&model).map(|(_, i)| i.clone())) {
        post(&FromWorker::Loaded { id, info });
        return;
    }
    let t0 = now();
    let bytes = match fetch_bytes(model.bundle_url(), |loaded, total| {
        post(&FromWorker::LoadProgress {
            id,
            model,
            loaded,
            total,
            initializing: false,
        })
    })
    .await
    {
        Ok(b) => b,
        Err(error) => {
            post(&FromWorker::LoadFailed {
                id,
                model,
                stage: LoadStage::Download,
                error,
            });
            return;
        }
    };
    let fetch_ms = now() - t0;
    post(&FromWorker::LoadProgress {
        id,
        model,
        loaded: bytes.len() as u64,
        total: Some(bytes.len() as u64),
        initializing: true,
    });
    // Let the progress message go out before the (blocking) model build.
    yield_now().await;
    // The GPU is opened first, so that one reading of the bundle builds the model for both.
    let device = match gpu {
        GpuChoice::Off => Err("the link asks for WebAssembly".to_string()),
        _ => Gpu::new()
            .await
            .map_err(|e| format!("no WebGPU here ({e})")),
    };
    let t1 = now();
    let loaded = match device {
        Ok(device) => api::load_also_on(&bytes, device).map(|(ex, on_gpu)| {
            let on_gpu =
                on_gpu.map_err(|e| format!("the model could not be built on the GPU ({e})"));
            (ex, on_gpu)
        }),
        Err(note) => api::load(&bytes).map(|ex| (ex, Err(note))),
    };
    match loaded {
        Ok((ex, on_gpu)) => {
            let mut info = model_info(model, &ex, bytes.len() as u64, fetch_ms, now() - t1);
            drop(bytes);
            let (engine, choice) = choose_backend(&ex, on_gpu, gpu).await;
            info.choice = choice;
            if let Some(engine) = engine {
                info.backend = "webgpu".into();
                GPUS.with(|g| g.borrow_mut().insert(model, engine));
            }
            MODELS.with(|m| m.borrow_mut().insert(model, (ex, info.clone())));
            post(&FromWorker::Loaded { id, info });
        }
        Err(e) => post(&FromWorker::LoadFailed {
            id,
            model,
            stage: LoadStage::Model,
            error: format!("{} ({} bytes)", e, bytes.len()),
        }),
    }
}

fn add_timings(sum: &mut Timings, t: &Timings) {
    sum.tokenize_ms += t.tokenize_ms;
    sum.encoder_ms += t.encoder_ms;
    sum.heads_ms += t.heads_ms;
    sum.decode_ms += t.decode_ms;
    sum.total_ms += t.total_ms;
}

/// Runs `f` on the loaded extractor of `model` with the given threshold.
fn with_model<T>(
    model: ModelKey,
    threshold: Option<f32>,
    f: impl FnOnce(&Extractor) -> mge::Result<T>,
) -> Result<T, String> {
    MODELS.with(|m| {
        let mut m = m.borrow_mut();
        let Some((ex, _)) = m.get_mut(&model) else {
            return Err(format!("the {} model is not loaded", model.label()));
        };
        if let Some(t) = threshold {
            ex.threshold = t;
        }
        f(ex).map_err(|e| e.to_string())
    })
}

type Piece = (Extraction, Timings, Vec<SentenceTables>);

/// Runs a piece of text on WebGPU when the model runs there. `None` when it does not, or
/// when WebGPU failed: the model then moves to WebAssembly for good (the page is told)
/// and the caller runs the piece there.
async fn gpu_piece(
    model: ModelKey,
    piece: &str,
    threshold: f32,
    analyze: bool,
) -> Option<Result<Piece, String>> {
    let engine = GPUS.with(|g| g.borrow().get(&model).cloned())?;
    // The extractor leaves the map while the GPU works (the queue runs one request at a
    // time, so nothing else asks for it meanwhile).
    let (mut ex, mut info) = MODELS.with(|m| m.borrow_mut().remove(&model))?;
    ex.threshold = threshold;
    let out = on_gpu(&ex, &engine, piece).await;
    let result = match out {
        Ok(a) => Some(Ok((
            a.extraction,
            a.timings,
            if analyze { a.sentences } else { Vec::new() },
        ))),
        Err(e) => {
            GPUS.with(|g| g.borrow_mut().remove(&model));
            let note = format!("WebGPU stopped working ({e}); the model now runs in WebAssembly");
            web_sys::console::warn_1(&note.clone().into());
            info.backend = "wasm".into();
            info.choice.note = Some(note.clone());
            post(&FromWorker::BackendChanged {
                model,
                backend: "wasm".into(),
                note,
            });
            None
        }
    };
    MODELS.with(|m| m.borrow_mut().insert(model, (ex, info)));
    result
}

/// Extracts from `text` chunk by chunk (whole sentences), reporting progress and giving up
/// between chunks when the run is superseded.
async fn run_chunks(
    id: u64,
    model: ModelKey,
    text: &str,
    threshold: f32,
    analyze: bool,
    kind: Run,
) {
    let n = text.chars().count();
    if kind == Run::Text && n > MAX_CHARS {
        post(&FromWorker::Failed {
            id,
            error: format!("the text has {n} characters; the limit is {MAX_CHARS}"),
        });
        return;
    }
    let chunks = sentence_chunks(text, CHUNK_CHARS);
    // A document's text stays with the page, which sent it: the answer does not carry it
    // back.
    let mut whole = Extraction {
        text: match kind {
            Run::Text => text.to_string(),
            Run::Document => String::new(),
        },
        ..Extraction::default()
    };
    let mut timings = Timings::default();
    let mut sentences: Vec<SentenceTables> = Vec::new();
    for (k, c) in chunks.iter().enumerate() {
        if k > 0 {
            yield_now().await;
            if superseded(kind) {
                return;
            }
            // Text typed in the box while a document runs is answered between two of the
            // document's chunks, not after the whole document.
            if kind == Run::Document {
                if let Some(ToWorker::Extract {
                    id,
                    model,
                    text,
                    threshold,
                    analyze,
                }) = take_newest_extract()
                {
                    Box::pin(run_chunks(id, model, &text, threshold, analyze, Run::Text)).await;
                }
            }
        }
        let piece = &text[c.byte_start..c.byte_end];
        let out = match gpu_piece(model, piece, threshold, analyze).await {
            Some(out) => out,
            None => with_model(model, Some(threshold), |ex| {
                if analyze {
                    api::analyze(ex, piece, &now).map(|a| (a.extraction, a.timings, a.sentences))
                } else {
                    api::extract_many_timed(ex, &[piece], &now)
                        .map(|(mut v, t)| (v.pop().unwrap_or_default(), t, Vec::new()))
                }
            }),
        };
        let (part, t, tables) = match out {
            Ok(x) => x,
            Err(error) => {
                post(&FromWorker::Failed { id, error });
                return;
            }
        };
        append_shifted(&mut whole, part, c.char_start);
        add_timings(&mut timings, &t);
        sentences.extend(tables.into_iter().map(|mut s| {
            s.start += c.char_start;
            s.end += c.char_start;
            s
        }));
        if chunks.len() > 1 {
            post(&FromWorker::Progress {
                id,
                done: k + 1,
                total: chunks.len(),
            });
        }
    }
    post(&FromWorker::Done {
        id,
        result: Box::new(RunResult {
            model,
            threshold,
            extraction: whole,
            timings,
            sentences,
            chunks: chunks.len(),
            sentence_count: chunks.iter().map(|c| c.sentences).sum(),
        }),
    });
}

/// The benchmark sentence's warm latency on WebGPU: on the model's GPU engine when it runs
/// there, otherwise on one built for the benchmark (the bundle comes from the cache).
async fn gpu_latency(
    model: ModelKey,
    sentence: &str,
    warmup: usize,
    runs: usize,
) -> Result<GpuLatency, String> {
    let engine = match GPUS.with(|g| g.borrow().get(&model).cloned()) {
        Some(e) => e,
        None => {
            let gpu = Gpu::new()
                .await
                .map_err(|e| format!("no WebGPU here ({e})"))?;
            let bytes = fetch_bytes(model.bundle_url(), |_, _| {}).await?;
            Rc::new(GpuEngine::from_bundle(&bytes, gpu).map_err(|e| e.to_string())?)
        }
    };
    let (ex, info) = MODELS
        .with(|m| m.borrow_mut().remove(&model))
        .ok_or_else(|| format!("the {} model is not loaded", model.label()))?;
    let mut times = Vec::with_capacity(runs);
    let mut failure = None;
    for k in 0..warmup + runs {
        let t0 = now();
        if let Err(e) = on_gpu(&ex, &engine, sentence).await {
            failure = Some(e.to_string());
            break;
        }
        if k >= warmup {
            times.push(now() - t0);
        }
        yield_now().await;
    }
    MODELS.with(|m| m.borrow_mut().insert(model, (ex, info)));
    if let Some(e) = failure {
        return Err(format!("WebGPU failed: {e}"));
    }
    Ok(GpuLatency {
        adapter: engine.gpu().adapter().to_string(),
        warm_median_ms: round_to(median(&times).unwrap_or(f64::NAN), 2),
        warm_min_ms: round_to(times.iter().copied().fold(f64::INFINITY, f64::min), 2),
        warm_max_ms: round_to(times.iter().copied().fold(f64::NEG_INFINITY, f64::max), 2),
    })
}

async fn fetch_lines(url: &str) -> Result<Vec<String>, String> {
    let bytes = fetch_bytes(url, |_, _| {}).await?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{url} is not UTF-8 text"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

async fn bench(
    id: u64,
    model: ModelKey,
    sentence: &str,
    warmup: usize,
    runs: usize,
    sentences_url: &str,
) {
    let fail = |error: String| post(&FromWorker::BenchFailed { id, error });
    let mut samples: Vec<Timings> = Vec::with_capacity(runs);
    for k in 0..warmup + runs {
        match with_model(model, None, |ex| {
            api::extract_many_timed(ex, &[sentence], &now)
        }) {
            Ok((_, t)) if k >= warmup => samples.push(t),
            Ok(_) => {}
            Err(e) => return fail(e),
        }
        post(&FromWorker::BenchProgress {
            id,
            stage: "latency".into(),
            done: k + 1,
            total: warmup + runs,
        });
        yield_now().await;
    }
    let med = |f: fn(&Timings) -> f64| {
        let v: Vec<f64> = samples.iter().map(f).collect();
        round_to(median(&v).unwrap_or(f64::NAN), 2)
    };
    let totals: Vec<f64> = samples.iter().map(|t| t.total_ms).collect();
    let mut report = BenchReport {
        model,
        sentence: sentence.to_string(),
        warmup,
        runs,
        warm_median_ms: med(|t| t.total_ms),
        warm_min_ms: round_to(totals.iter().copied().fold(f64::INFINITY, f64::min), 2),
        warm_max_ms: round_to(totals.iter().copied().fold(f64::NEG_INFINITY, f64::max), 2),
        tokenize_median_ms: med(|t| t.tokenize_ms),
        encoder_median_ms: med(|t| t.encoder_ms),
        heads_median_ms: med(|t| t.heads_ms),
        decode_median_ms: med(|t| t.decode_ms),
        throughput: None,
        throughput_error: None,
        webgpu: None,
        webgpu_error: None,
    };
    match gpu_latency(model, sentence, warmup, runs).await {
        Ok(l) => report.webgpu = Some(l),
        Err(e) => report.webgpu_error = Some(e),
    }

    match fetch_lines(sentences_url).await {
        Err(e) => report.throughput_error = Some(e),
        Ok(lines) if lines.is_empty() => {
            report.throughput_error = Some(format!("{sentences_url} has no sentences"))
        }
        Ok(lines) => {
            let batch = with_model(model, None, |ex| Ok(ex.batch_size.max(1))).unwrap_or(16);
            let (mut busy_ms, mut entities, mut relations) = (0.0, 0, 0);
            let mut done = 0;
            for group in lines.chunks(batch) {
                let texts: Vec<&str> = group.iter().map(String::as_str).collect();
                let t0 = now();
                match with_model(model, None, |ex| api::extract_many_timed(ex, &texts, &now)) {
                    Ok((out, _)) => {
                        busy_ms += now() - t0;
                        entities += out.iter().map(|x| x.entities.len()).sum::<usize>();
                        relations += out.iter().map(|x| x.relations.len()).sum::<usize>();
                    }
                    Err(e) => return fail(e),
                }
                done += group.len();
                post(&FromWorker::BenchProgress {
                    id,
                    stage: "throughput".into(),
                    done,
                    total: lines.len(),
                });
                yield_now().await;
            }
            let seconds = busy_ms / 1000.0;
            report.throughput = Some(Throughput {
                source: sentences_url.to_string(),
                sentences: lines.len(),
                batch_size: batch,
                seconds: round_to(seconds, 3),
                sentences_per_second: round_to(lines.len() as f64 / seconds.max(1e-9), 2),
                entities,
                relations,
            });
        }
    }
    post(&FromWorker::BenchDone {
        id,
        report: Box::new(report),
    });
}
