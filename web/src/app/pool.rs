//! The workers documents go to: slot 0 is the page's own worker (which also answers typed
//! text and loads the model the page shows), the others are started for documents only,
//! one per core the browser reports (at most [`MAX_WORKERS`] in all, `?workers=N` to
//! choose), each with its own copy of the model in WebAssembly. Without WebAssembly (the
//! model on WebGPU, which has one device, or on the server) slot 0 is the only one.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::state::Ui;
use crate::models::ModelKey;
use crate::protocol::{FromWorker, GpuChoice, ToWorker};
use crate::query::Backend;

/// Workers for documents at most, the page's own included.
pub(super) const MAX_WORKERS: usize = 4;

/// A worker documents can go to.
pub(super) struct Slot {
    /// `None` for slot 0 (the page's worker, reached through `Ui::send`).
    worker: Option<Worker>,
    /// Whether it can take a document now: its model is loaded and it is alive.
    pub(super) ready: bool,
    /// The model it has (or is loading).
    model: Option<ModelKey>,
    /// The request it is working on.
    pub(super) busy: Option<u64>,
}

impl Ui {
    /// Starts the pool's workers the first time documents come (slot 0 is always there).
    pub(super) fn ensure_pool(self) {
        if !self.slots.with_value(|s| s.is_empty()) {
            return;
        }
        self.slots.update_value(|s| {
            s.push(Slot {
                worker: None,
                ready: true,
                model: None,
                busy: None,
            })
        });
        if self.backend.get_untracked() != Backend::Wasm {
            return;
        }
        let cores = web_sys::window()
            .map(|w| w.navigator().hardware_concurrency() as usize)
            .unwrap_or(1);
        let wanted = self.workers_wanted.unwrap_or(cores).clamp(1, MAX_WORKERS);
        for k in 1..wanted {
            let Ok(worker) = Worker::new(super::messages::WORKER_URL) else {
                break;
            };
            let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let msg = ev
                    .data()
                    .as_string()
                    .and_then(|t| serde_json::from_str::<FromWorker>(&t).ok());
                if let Some(msg) = msg {
                    self.on_pool_message(k, msg);
                }
            });
            worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
            onmessage.forget();
            let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |_| {
                self.slot_lost(k, "a document worker stopped".into());
            });
            worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
            onerror.forget();
            self.slots.update_value(|s| {
                s.push(Slot {
                    worker: Some(worker),
                    ready: false,
                    model: None,
                    busy: None,
                })
            });
        }
    }

    /// Sends a request to slot `k`.
    pub(super) fn post_to(&self, k: usize, msg: &ToWorker) {
        if k == 0 {
            self.send(msg);
            return;
        }
        let Ok(json) = serde_json::to_string(msg) else {
            return;
        };
        self.slots.with_value(|s| {
            if let Some(w) = s.get(k).and_then(|x| x.worker.as_ref()) {
                let _ = w.post_message(&JsValue::from_str(&json));
            }
        });
    }

    /// Whether slot `k` has `model`; if not, it is told to load it (and is not ready until
    /// it has). Slot 0 has whatever the page loaded.
    pub(super) fn slot_has_model(&self, k: usize, model: ModelKey) -> bool {
        if k == 0 {
            return true;
        }
        let has = self
            .slots
            .with_value(|s| s.get(k).is_some_and(|x| x.model == Some(model)));
        if !has {
            let id = self.fresh_id();
            self.slots.update_value(|s| {
                if let Some(x) = s.get_mut(k) {
                    x.model = Some(model);
                    x.ready = false;
                }
            });
            self.post_to(
                k,
                &ToWorker::Load {
                    id,
                    model,
                    gpu: GpuChoice::Off,
                },
            );
        }
        has
    }

    /// A message from document worker `k`.
    fn on_pool_message(self, k: usize, msg: FromWorker) {
        match msg {
            // Started (then told which model to load), or its model loaded.
            FromWorker::Hello { .. } | FromWorker::Loaded { .. } => {
                self.slots.update_value(|s| {
                    if let Some(x) = s.get_mut(k) {
                        x.ready = true;
                    }
                });
                self.dispatch_docs();
            }
            FromWorker::LoadFailed { error, .. } => self.slot_lost(k, error),
            FromWorker::Progress { id, done, total } => self.doc_progress(id, done, total),
            FromWorker::Done { id, result } => self.doc_finished(id, Ok(*result)),
            FromWorker::Failed { id, error } => self.doc_finished(id, Err(error)),
            _ => {}
        }
    }

    /// Slot `k` can take no more documents; the one it had fails with `error`.
    fn slot_lost(self, k: usize, error: String) {
        web_sys::console::warn_1(&format!("document worker {k}: {error}").into());
        let busy = self.slots.try_update_value(|s| {
            s.get_mut(k).and_then(|x| {
                x.ready = false;
                x.worker = None;
                x.busy.take()
            })
        });
        match busy.flatten() {
            Some(id) => self.doc_finished(id, Err(error)),
            None => self.dispatch_docs(),
        }
    }
}
