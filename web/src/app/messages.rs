//! The page's side of the conversation with the model: starting the worker, sending it
//! requests (or the server, `crate::remote`, when the model runs there), falling back to the
//! server when the worker cannot run the model, and taking in every answer.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::browser::{cache_offline, page_now};
use super::state::{LoadFailure, LoadProgress, Phase, Ui, Unrecoverable};
use crate::protocol::{FromWorker, ToWorker};
use crate::query::Backend;
use crate::query::Backend::WebGpu;
use crate::remote;

/// The worker script trunk emits (`data-loader-shim` on the worker's link).
pub(super) const WORKER_URL: &str = "./mge-worker_loader.js";
/// How long the worker may take to start before the page gives up on it.
const WORKER_START_LIMIT: Duration = Duration::from_secs(30);

impl Ui {
    pub(super) fn send(&self, msg: &ToWorker) {
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

    pub(super) fn start_worker(self) {
        if self.backend.get_untracked() == Backend::Server {
            self.on_message(FromWorker::Hello {
                simd: false,
                kernels: String::new(),
            });
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
        expose_lose_gpu(&worker);
        self.worker.set_value(Some(worker));
        // A worker that neither says hello nor reports a failure (a browser that stalls on
        // its WebAssembly) counts as failed after a while.
        set_timeout(
            move || {
                let silent = !self.worker_ready.get_untracked()
                    && self.backend.get_untracked() != Backend::Server
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

    pub(super) fn fail_worker(&self, error: String) {
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
    pub(super) fn may_fall_back(&self) -> bool {
        self.backend.get_untracked() != Backend::Server && self.forced_backend.is_none()
    }

    /// Moves the model to the server when the page's server has the API; otherwise shows
    /// the failure as it is. The text, model and threshold stay as they are.
    pub(super) fn fall_back(self, reason: String, otherwise: Unrecoverable) {
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

    pub(super) fn show_worker_error(&self, error: String) {
        self.worker_error.set(Some(error));
        self.phase.set(Phase::Error);
        if self.query_bench {
            self.finish_bench_with_error("the model worker failed");
        }
    }

    pub(super) fn on_message(self, msg: FromWorker) {
        match msg {
            FromWorker::StartFailed { error } => {
                self.fail_worker(error);
            }
            FromWorker::Hello { simd, kernels } => {
                self.simd.set(simd);
                self.kernels.set(kernels);
                self.worker_ready.set(true);
                let model = self.model.get_untracked();
                self.send(&ToWorker::Load {
                    id: self.latest_load.get_value(),
                    model,
                    gpu: self.gpu_choice(),
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
                if self.backend.get_untracked() != Backend::Server {
                    let gpu = info.backend == WebGpu.as_str();
                    self.backend.set(if gpu { WebGpu } else { Backend::Wasm });
                    // Say why WebGPU is not used only where the link asked for it.
                    let asked = self.forced_backend == Some(WebGpu);
                    self.backend_note
                        .set(info.choice.note.clone().filter(|_| asked && !gpu));
                }
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
            FromWorker::BackendChanged {
                model,
                backend,
                note,
            } => {
                if model == self.model.get_untracked()
                    && self.backend.get_untracked() != Backend::Server
                {
                    self.backend
                        .set(Backend::from_key(&backend).unwrap_or(Backend::Wasm));
                    self.backend_note.set(Some(note.clone()));
                }
                self.loaded.update(|l| {
                    if let Some(info) = l.as_mut().filter(|i| i.model == model) {
                        info.backend = backend;
                        info.choice.note = Some(note);
                    }
                });
            }
            FromWorker::Progress { id, done, total } if self.is_doc_request(id) => {
                self.doc_progress(id, done, total);
            }
            FromWorker::Done { id, result } if self.is_doc_request(id) => {
                self.doc_finished(id, Ok(*result));
            }
            FromWorker::Failed { id, error } if self.is_doc_request(id) => {
                self.doc_finished(id, Err(error));
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
                // Indexes of the old result mean nothing in the new one.
                self.hover.set(None);
                self.pinned.set(None);
                self.teach_cell.set(None);
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

    pub(super) fn show_load_error(&self, failure: LoadFailure) {
        self.load_progress.set(None);
        self.load_error.set(Some(failure));
        self.phase.set(Phase::Error);
        if self.query_bench {
            self.finish_bench_with_error("the model could not be loaded");
        }
    }
}

/// `window.mgeLoseGpu()`: destroys the worker's GPU devices as a driver reset would, so
/// that the fallback to WebAssembly can be tested (and tried by hand).
fn expose_lose_gpu(worker: &Worker) {
    let Ok(json) = serde_json::to_string(&ToWorker::LoseGpu) else {
        return;
    };
    let worker = worker.clone();
    let lose = Closure::<dyn Fn()>::new(move || {
        let _ = worker.post_message(&JsValue::from_str(&json));
    });
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"mgeLoseGpu".into(), lose.as_ref());
    }
    lose.forget();
}
