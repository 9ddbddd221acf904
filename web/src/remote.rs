//! The page's third backend: `mge serve`'s extraction API, for browsers where the worker's
//! WebAssembly cannot start or the model cannot load, or when the link asks for it
//! (`?backend=server`). It answers the worker's messages ([`ToWorker`]) with the worker's
//! answers ([`FromWorker`]), so the rest of the page does not know which one ran.

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

use crate::api::{Extraction, Timings};
use crate::models::ModelKey;
use crate::protocol::{FromWorker, LoadStage, ModelInfo, RunResult, ToWorker};

/// The API's address, relative to the page (the server serves both).
const MODELS_URL: &str = "api/models";
const EXTRACT_URL: &str = "api/extract";

/// A model as `GET /api/models` describes it (the fields the page reads).
#[derive(Debug, Deserialize)]
struct RemoteModel {
    name: String,
    dataset: String,
    entity_types: Vec<String>,
    relation_types: Vec<String>,
    quantization: String,
    #[serde(default)]
    metrics: serde_json::Value,
    bytes: u64,
}

#[derive(Debug, Deserialize)]
struct ModelsResponse {
    models: Vec<RemoteModel>,
}

#[derive(Debug, Deserialize)]
struct ExtractResponse {
    results: Vec<Extraction>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    message: String,
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Sends a request and reads its JSON answer; an error answer becomes its message.
async fn call(url: &str, body: Option<String>) -> Result<serde_json::Value, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    if let Some(body) = body {
        init.set_method("POST");
        let headers = web_sys::Headers::new().map_err(js_error)?;
        headers
            .set("Content-Type", "application/json")
            .map_err(js_error)?;
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
    }
    let resp: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| format!("the server did not answer: {}", js_error(e)))?
        .dyn_into()
        .map_err(|_| "the server did not answer".to_string())?;
    let text = JsFuture::from(resp.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .unwrap_or_default();
    if !resp.ok() {
        let why = serde_json::from_str::<ErrorBody>(&text)
            .map(|e| e.message)
            .unwrap_or_else(|_| format!("HTTP {}", resp.status()));
        return Err(format!("the server refused: {why}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("the server's answer is unreadable: {e}"))
}

/// Whether this page's server has the extraction API (a static host has not).
pub async fn available() -> bool {
    match call(MODELS_URL, None).await {
        Ok(v) => serde_json::from_value::<ModelsResponse>(v).is_ok_and(|m| !m.models.is_empty()),
        Err(_) => false,
    }
}

/// The worker's answers to `msg`, computed by the server.
pub async fn answer(msg: ToWorker) -> Vec<FromWorker> {
    match msg {
        ToWorker::Load { id, model, .. } => vec![load(id, model).await],
        ToWorker::Extract {
            id,
            model,
            text,
            threshold,
            analyze: _,
        } => vec![extract(id, model, text, threshold).await],
        // The visitor's files never leave the page: no document goes to the server.
        ToWorker::Document { id, .. } => vec![FromWorker::Failed {
            id,
            error: "documents are read only by the model in this browser, and it cannot run here"
                .into(),
        }],
        // The server has no GPU of the visitor's to lose.
        ToWorker::Cancel | ToWorker::LoseGpu => Vec::new(),
        ToWorker::Bench { id, .. } => vec![FromWorker::BenchFailed {
            id,
            error: "the benchmark measures the in-browser model; this page runs on the server"
                .into(),
        }],
    }
}

async fn load(id: u64, model: ModelKey) -> FromWorker {
    let t0 = now();
    let failed = |stage, error| FromWorker::LoadFailed {
        id,
        model,
        stage,
        error,
    };
    let models = match call(MODELS_URL, None).await {
        Ok(v) => match serde_json::from_value::<ModelsResponse>(v) {
            Ok(m) => m.models,
            Err(e) => return failed(LoadStage::Download, format!("unreadable model list: {e}")),
        },
        Err(e) => return failed(LoadStage::Download, e),
    };
    let Some(m) = models.into_iter().find(|m| m.name == model.key()) else {
        return failed(
            LoadStage::Model,
            format!("the server has no {} model", model.key()),
        );
    };
    let metric = |key: &str| {
        m.metrics
            .pointer(&format!("/test/{key}"))
            .and_then(|v| v.as_f64())
    };
    FromWorker::Loaded {
        id,
        info: ModelInfo {
            model,
            test_ner_f1: metric("ner_f1"),
            test_re_f1: metric("re_strict_f1"),
            entity_types: m.entity_types,
            relation_types: m.relation_types,
            quantization: m.quantization,
            dataset: m.dataset,
            bytes: m.bytes,
            fetch_ms: ((now() - t0) * 10.0).round() / 10.0,
            init_ms: 0.0,
            backend: String::new(),
            choice: Default::default(),
        },
    }
}

async fn extract(id: u64, model: ModelKey, text: String, threshold: f32) -> FromWorker {
    let body = serde_json::json!({ "text": text, "model": model.key(), "threshold": threshold });
    let t0 = now();
    let answer = call(EXTRACT_URL, Some(body.to_string())).await;
    let total_ms = now() - t0;
    let extraction = answer.and_then(|v| {
        serde_json::from_value::<ExtractResponse>(v)
            .map_err(|e| format!("the server's answer is unreadable: {e}"))
            .and_then(|r| {
                r.results
                    .into_iter()
                    .next()
                    .ok_or_else(|| "the server answered no result".to_string())
            })
    });
    match extraction {
        Ok(extraction) => FromWorker::Done {
            id,
            result: Box::new(RunResult {
                model,
                threshold,
                extraction,
                timings: Timings {
                    total_ms,
                    ..Timings::default()
                },
                sentences: Vec::new(),
                chunks: 1,
                sentence_count: 0,
            }),
        },
        Err(error) => FromWorker::Failed { id, error },
    }
}
