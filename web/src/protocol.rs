//! Messages between the page and the worker, sent as JSON strings.
//!
//! Every request carries an id; the page keeps the id of its latest request of each kind and
//! ignores answers to older ones, and the worker skips a queued extraction when a newer one
//! is waiting behind it.

use serde::{Deserialize, Serialize};

use crate::api::{Extraction, SentenceTables, Timings};
use crate::models::ModelKey;

/// Page to worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Fetch and load a model's bundle (answered at once when it is loaded already), and
    /// choose where it runs.
    Load {
        id: u64,
        model: ModelKey,
        #[serde(default)]
        gpu: GpuChoice,
    },
    /// Extract from a text; `analyze` asks for the teaching view's tables.
    Extract {
        id: u64,
        model: ModelKey,
        text: String,
        threshold: f32,
        analyze: bool,
    },
    /// Extract from one document of the visitor's files, or from a part of a long one (whole
    /// sentences): like `Extract`, without the length limit and the tables, answered with
    /// `Progress` per chunk and `Done` or `Failed`. The answer's extraction leaves out the
    /// text, which the page has.
    Document {
        id: u64,
        model: ModelKey,
        text: String,
        threshold: f32,
    },
    /// Stop the document under way (between two chunks); nothing answers it.
    Cancel,
    /// Destroys the GPU devices of the loaded models, as a driver reset would (for the
    /// browser test of the fallback; the page offers it as `window.mgeLoseGpu()`).
    LoseGpu,
    /// The in-page benchmark (`?bench=1`).
    Bench {
        id: u64,
        model: ModelKey,
        sentence: String,
        warmup: usize,
        runs: usize,
        sentences_url: String,
    },
}

/// Whether a model may run on the visitor's GPU (WebGPU).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuChoice {
    /// Time a warm-up sentence on WebGPU and on WebAssembly, and keep the faster.
    #[default]
    Measure,
    /// WebGPU wherever it works (`?backend=webgpu`).
    Require,
    /// WebAssembly only (`?backend=wasm`).
    Off,
}

/// How the worker chose between WebGPU and WebAssembly for a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendChoice {
    /// Median milliseconds of the warm-up sentence on each (absent where not timed).
    pub wasm_ms: Option<f64>,
    pub webgpu_ms: Option<f64>,
    /// The GPU adapter, when there is one.
    pub adapter: Option<String>,
    /// Why the model does not run on WebGPU, when it could have.
    pub note: Option<String>,
}

/// What a loaded model is, for the legend and the footer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub model: ModelKey,
    pub entity_types: Vec<String>,
    pub relation_types: Vec<String>,
    pub quantization: String,
    pub dataset: String,
    pub test_ner_f1: Option<f64>,
    pub test_re_f1: Option<f64>,
    pub bytes: u64,
    pub fetch_ms: f64,
    pub init_ms: f64,
    /// Where it runs in the browser: `webgpu` or `wasm` (empty on the server).
    #[serde(default)]
    pub backend: String,
    #[serde(default)]
    pub choice: BackendChoice,
}

/// Which step of loading a model failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadStage {
    Download,
    Model,
}

/// The answer to an extraction request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub model: ModelKey,
    pub threshold: f32,
    pub extraction: Extraction,
    pub timings: Timings,
    /// Tables per sentence when the request asked for them (char offsets in the whole text).
    pub sentences: Vec<SentenceTables>,
    /// How many sentence chunks the text was processed in.
    pub chunks: usize,
    /// How many sentences the text has.
    #[serde(default)]
    pub sentence_count: usize,
}

/// Results of the in-page benchmark that the worker measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub model: ModelKey,
    pub sentence: String,
    pub warmup: usize,
    pub runs: usize,
    pub warm_median_ms: f64,
    pub warm_min_ms: f64,
    pub warm_max_ms: f64,
    pub tokenize_median_ms: f64,
    pub encoder_median_ms: f64,
    pub heads_median_ms: f64,
    pub decode_median_ms: f64,
    pub throughput: Option<Throughput>,
    pub throughput_error: Option<String>,
    /// The same sentence's warm latency on WebGPU (the rows above are WebAssembly), or why
    /// there is none.
    #[serde(default)]
    pub webgpu: Option<GpuLatency>,
    #[serde(default)]
    pub webgpu_error: Option<String>,
}

/// Warm latency of the benchmark sentence on the visitor's GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuLatency {
    pub adapter: String,
    pub warm_median_ms: f64,
    pub warm_min_ms: f64,
    pub warm_max_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub source: String,
    pub sentences: usize,
    pub batch_size: usize,
    /// Time spent in the model (the pauses between batches left out).
    pub seconds: f64,
    pub sentences_per_second: f64,
    pub entities: usize,
    pub relations: usize,
}

/// Worker to page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is running and listening (sent once, first).
    Hello {
        simd: bool,
        /// The CPU kernels it computes with (`mge::engine::isa::describe`).
        #[serde(default)]
        kernels: String,
    },
    /// The worker's WebAssembly could not be fetched or compiled (sent by
    /// `web/mge-worker_loader.js`, not by the worker's Rust code, which never ran).
    StartFailed {
        error: String,
    },
    /// Bytes of the bundle received so far (`total` when the server said); `initializing`
    /// once the download is complete and the model is being built.
    LoadProgress {
        id: u64,
        model: ModelKey,
        loaded: u64,
        total: Option<u64>,
        initializing: bool,
    },
    Loaded {
        id: u64,
        info: ModelInfo,
    },
    /// A model moved from WebGPU to WebAssembly (the device was lost, a kernel failed);
    /// the extraction under way was finished on WebAssembly.
    BackendChanged {
        model: ModelKey,
        backend: String,
        note: String,
    },
    LoadFailed {
        id: u64,
        model: ModelKey,
        stage: LoadStage,
        error: String,
    },
    /// Sentence chunks done of a long text.
    Progress {
        id: u64,
        done: usize,
        total: usize,
    },
    Done {
        id: u64,
        result: Box<RunResult>,
    },
    Failed {
        id: u64,
        error: String,
    },
    BenchProgress {
        id: u64,
        stage: String,
        done: usize,
        total: usize,
    },
    BenchDone {
        id: u64,
        report: Box<BenchReport>,
    },
    BenchFailed {
        id: u64,
        error: String,
    },
}
