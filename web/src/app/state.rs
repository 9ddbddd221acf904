//! The page's state (`Ui`: every field a copyable handle) and the actions that change it:
//! loading a model, running the text, the benchmark, the link and the download.

use std::time::Duration;

use leptos::prelude::*;
use web_sys::Worker;

use super::browser::save_file;
use super::documents::{Docs, Reading};
use super::pool::Slot;
use crate::linking::{Focus, Linked};
use crate::models::{ModelKey, ANALYZE_MAX_CHARS, BENCH_SENTENCE, BENCH_SENTENCES_URL, MAX_CHARS};
use crate::protocol::{BenchReport, GpuChoice, LoadStage, ModelInfo, RunResult, ToWorker};
use crate::query::{build_query, Backend, PageQuery};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Loading,
    Busy,
    Ready,
    Error,
}

impl Phase {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Phase::Loading => "loading",
            Phase::Busy => "busy",
            Phase::Ready => "ready",
            Phase::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct LoadProgress {
    pub(super) model: ModelKey,
    pub(super) loaded: u64,
    pub(super) total: Option<u64>,
    pub(super) initializing: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct LoadFailure {
    pub(super) model: ModelKey,
    pub(super) stage: LoadStage,
    pub(super) error: String,
}

/// A worker failure to show when the server cannot take over.
pub(super) enum Unrecoverable {
    Worker(String),
    Load(LoadFailure),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct BenchUi {
    pub(super) started: bool,
    pub(super) stage: String,
    pub(super) done: usize,
    pub(super) total: usize,
    pub(super) report: Option<BenchReport>,
    pub(super) json: Option<String>,
}

/// Which table the teaching view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TableKind {
    Ner,
    Re,
}

/// The page's state: every field is a copyable handle.
#[derive(Clone, Copy)]
pub(super) struct Ui {
    pub(super) query_bench: bool,
    pub(super) text: RwSignal<String>,
    pub(super) model: RwSignal<ModelKey>,
    pub(super) threshold: RwSignal<f32>,
    pub(super) phase: RwSignal<Phase>,
    pub(super) worker_ready: RwSignal<bool>,
    pub(super) worker_error: RwSignal<Option<String>>,
    pub(super) loaded: RwSignal<Option<ModelInfo>>,
    pub(super) load_progress: RwSignal<Option<LoadProgress>>,
    pub(super) load_error: RwSignal<Option<LoadFailure>>,
    pub(super) result: RwSignal<Option<RunResult>>,
    pub(super) run_error: RwSignal<Option<String>>,
    pub(super) run_progress: RwSignal<Option<(usize, usize)>>,
    pub(super) teach_open: RwSignal<bool>,
    pub(super) teach_sentence: RwSignal<usize>,
    pub(super) teach_table: RwSignal<TableKind>,
    /// `None`: the maximum over types; otherwise a type index.
    pub(super) teach_type: RwSignal<Option<usize>>,
    pub(super) teach_hover: RwSignal<String>,
    /// The walk-through's step, the table cell clicked (row, column) and the large mode.
    pub(super) teach_step: RwSignal<usize>,
    pub(super) teach_cell: RwSignal<Option<(usize, usize)>>,
    pub(super) teach_large: RwSignal<bool>,
    pub(super) bench: RwSignal<BenchUi>,
    pub(super) cold_start_ms: RwSignal<Option<f64>>,
    pub(super) simd: RwSignal<bool>,
    /// The worker's matrix kernels (`mge::engine::isa::describe`), empty on the server.
    pub(super) kernels: RwSignal<String>,
    pub(super) link_note: RwSignal<Option<String>>,
    pub(super) width: RwSignal<f64>,
    /// Linked reading: what the pointer or keyboard focus is on, what a click or Enter pinned,
    /// and what is linked to whichever of the two applies (the hovered one first).
    pub(super) hover: RwSignal<Option<Focus>>,
    pub(super) pinned: RwSignal<Option<Focus>>,
    pub(super) focus: Memo<Option<Focus>>,
    pub(super) linked: Memo<Linked>,
    /// The visitor's documents, the CSV column
    /// to read, whether files are dragged over the page, and a note about opening one.
    pub(super) docs: RwSignal<Docs>,
    /// The files still being read (the first is read next), and whether a read is under way.
    pub(super) readings: StoredValue<Vec<Reading>, LocalStorage>,
    pub(super) reading_now: StoredValue<bool>,
    /// Bumped when the table of all triples may redraw, and when it last was (page ms).
    pub(super) triples_tick: RwSignal<u64>,
    pub(super) triples_tick_ms: StoredValue<f64>,
    /// The workers documents go to, the requests out for documents (id, document), and
    /// the chunks done of each running document's part (document, done, all).
    pub(super) slots: StoredValue<Vec<Slot>, LocalStorage>,
    pub(super) doc_requests: StoredValue<Vec<(u64, usize)>>,
    pub(super) doc_chunk: RwSignal<Vec<(usize, usize, usize)>>,
    /// Workers for documents the link asks for (`?workers=N`; otherwise one per core).
    pub(super) workers_wanted: Option<usize>,
    pub(super) csv_column: RwSignal<String>,
    pub(super) drop_active: RwSignal<bool>,
    pub(super) docs_note: RwSignal<Option<String>>,
    /// A long document shown a page at a time: (document, page, pages).
    pub(super) doc_page: RwSignal<Option<(usize, usize, usize)>>,
    pub(super) worker: StoredValue<Option<Worker>, LocalStorage>,
    /// Where the model runs now, and why it runs on the server when it does.
    pub(super) backend: RwSignal<Backend>,
    pub(super) backend_note: RwSignal<Option<String>>,
    /// The backend the link asked for (`?backend=`); no fallback away from it.
    pub(super) forced_backend: Option<Backend>,
    pub(super) next_id: StoredValue<u64>,
    pub(super) latest_extract: StoredValue<u64>,
    pub(super) latest_load: StoredValue<u64>,
    pub(super) latest_bench: StoredValue<u64>,
    pub(super) debounce: StoredValue<u64>,
}

impl Ui {
    pub(super) fn new(q: &PageQuery) -> Self {
        let model = q.model.unwrap_or(ModelKey::Conll04);
        let text = if q.bench {
            BENCH_SENTENCE.to_string()
        } else {
            q.text
                .clone()
                .unwrap_or_else(|| model.examples()[0].to_string())
        };
        let result: RwSignal<Option<RunResult>> = RwSignal::new(None);
        let hover = RwSignal::new(None);
        let pinned = RwSignal::new(None);
        // Linked reading starts from the hovered or focused element, else the pinned one.
        let focus = Memo::new(move |_| hover.get().or(pinned.get()));
        let linked = Memo::new(move |_| {
            let focus = focus.get();
            result.with(|r| match r {
                Some(r) => {
                    let ends: Vec<(usize, usize)> = r
                        .extraction
                        .relations
                        .iter()
                        .map(|x| (x.head, x.tail))
                        .collect();
                    Linked::of(focus, r.extraction.entities.len(), &ends)
                }
                None => Linked::default(),
            })
        });
        Ui {
            docs: RwSignal::new(Docs::default()),
            readings: StoredValue::new_local(Vec::new()),
            reading_now: StoredValue::new(false),
            triples_tick: RwSignal::new(0),
            triples_tick_ms: StoredValue::new(0.0),
            slots: StoredValue::new_local(Vec::new()),
            doc_requests: StoredValue::new(Vec::new()),
            doc_chunk: RwSignal::new(Vec::new()),
            workers_wanted: q.workers,
            csv_column: RwSignal::new("text".to_string()),
            drop_active: RwSignal::new(false),
            docs_note: RwSignal::new(None),
            doc_page: RwSignal::new(None),
            hover,
            pinned,
            focus,
            linked,
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
            result,
            run_error: RwSignal::new(None),
            run_progress: RwSignal::new(None),
            teach_open: RwSignal::new(false),
            teach_sentence: RwSignal::new(0),
            teach_table: RwSignal::new(TableKind::Ner),
            teach_type: RwSignal::new(None),
            teach_hover: RwSignal::new(String::new()),
            teach_step: RwSignal::new(0),
            teach_cell: RwSignal::new(None),
            teach_large: RwSignal::new(false),
            bench: RwSignal::new(BenchUi::default()),
            cold_start_ms: RwSignal::new(None),
            simd: RwSignal::new(false),
            kernels: RwSignal::new(String::new()),
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

    /// A click, tap or Enter on an element: pins it, or unpins it when it was pinned.
    pub(super) fn toggle_pin(&self, f: Focus) {
        let was = self.pinned.get_untracked() == Some(f);
        self.pinned.set((!was).then_some(f));
    }

    pub(super) fn fresh_id(&self) -> u64 {
        self.next_id.update_value(|n| *n += 1);
        self.next_id.get_value()
    }

    pub(super) fn load_model(&self) {
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
            self.send(&ToWorker::Load {
                id,
                model,
                gpu: self.gpu_choice(),
            });
        }
    }

    /// Whether the worker may run the model on WebGPU: as the link says, or as it measures.
    pub(super) fn gpu_choice(&self) -> GpuChoice {
        match self.forced_backend {
            Some(Backend::WebGpu) => GpuChoice::Require,
            Some(Backend::Wasm) => GpuChoice::Off,
            _ => GpuChoice::Measure,
        }
    }

    /// Runs the current text after `delay`, unless something newer is scheduled meanwhile.
    pub(super) fn schedule(self, delay: Duration) {
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

    pub(super) fn run_now(&self) {
        self.debounce.update_value(|g| *g += 1);
        // Typed text is not a page of a document any more.
        self.doc_page.set(None);
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

    pub(super) fn start_bench(&self) {
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

    pub(super) fn finish_bench_with_error(&self, error: &str) {
        let json = self.bench_json(None, Some(error));
        self.bench.update(|b| {
            b.started = true;
            b.stage = "failed".into();
            b.json = Some(json);
        });
    }

    /// The benchmark's result as the page exposes it in `#bench-result`.
    pub(super) fn bench_json(&self, report: Option<&BenchReport>, error: Option<&str>) -> String {
        let info = self.loaded.get_untracked();
        let nav = window().navigator();
        let value = serde_json::json!({
            "backend": self.backend.get_untracked().as_str(),
            "simd": self.simd.get_untracked(),
            "kernels": self.kernels.get_untracked(),
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
            // "warm" and "throughput" ran in WebAssembly; this is the sentence on WebGPU.
            "webgpu": report.and_then(|r| r.webgpu.clone()),
            "webgpu_error": report.and_then(|r| r.webgpu_error.clone()),
            "user_agent": nav.user_agent().ok(),
            "hardware_concurrency": nav.hardware_concurrency(),
            "error": error,
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    pub(super) fn copy_link(&self) {
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

    pub(super) fn download_json(&self) {
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
    /// (Re)loads the selected model: also the Retry button's action.
    pub(super) fn load_model_and_send(&self) {
        self.load_model();
    }
}
