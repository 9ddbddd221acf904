//! The extraction API: `POST /api/extract`, `GET /api/models`, `GET /healthz` and
//! `GET /api/openapi.json`, the contract generated from the types below.
//!
//! Every error is a JSON body `{"error": code, "message": text}` with a 4xx status for what
//! the client sent wrong and a 5xx status for what the server could not do.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mge::extract::{EntityMention, Extraction, RelationMention};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::config::Limits;
use crate::models::ModelDescription;
use crate::pool::PoolError;
use crate::AppState;

/// The body of `POST /api/extract` as the handler reads it; the document describes it as
/// [`ExtractBody`], which says that exactly one of `text` and `texts` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractRequest {
    /// One text to extract from. Give either `text` or `texts`.
    #[serde(default)]
    pub text: Option<String>,
    /// Several texts, answered in order.
    #[serde(default)]
    pub texts: Option<Vec<String>>,
    /// A model name from `GET /api/models`; the first model when left out.
    #[serde(default)]
    pub model: Option<String>,
    /// Decision threshold on probabilities, strictly between 0 and 1.
    #[serde(default)]
    pub threshold: Option<f64>,
}

/// The body of `POST /api/extract`: one text, or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExtractBody {
    One(OneText),
    Many(ManyTexts),
}

/// One text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OneText {
    /// The text to extract from (at most the server's character limit).
    pub text: String,
    /// A model name from `GET /api/models`; the first model when left out.
    #[serde(default)]
    pub model: Option<String>,
    /// Decision threshold on probabilities, strictly between 0 and 1; the model's default
    /// when left out. It filters entities and relations alike.
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub threshold: Option<f64>,
}

/// Several texts, answered in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManyTexts {
    /// The texts (at least one; at most the server's limit of texts and characters).
    #[schema(min_items = 1)]
    pub texts: Vec<String>,
    /// As in [`OneText`].
    #[serde(default)]
    pub model: Option<String>,
    /// As in [`OneText`].
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub threshold: Option<f64>,
}

/// The answer of `POST /api/extract`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExtractResponse {
    /// The model that ran.
    pub model: String,
    /// The threshold applied.
    pub threshold: f32,
    /// One result per text, in the order of the request; each is the extraction schema that
    /// `mge extract` writes, one line per text.
    pub results: Vec<Extraction>,
    /// Time spent extracting, queueing excluded.
    pub elapsed_ms: f64,
}

/// The answer of `GET /api/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelsResponse {
    /// The first is the default.
    pub models: Vec<ModelDescription>,
}

/// The answer of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    pub models: Vec<String>,
    /// Extraction requests running or waiting now.
    pub in_flight: usize,
    /// Requests in flight beyond which the server answers `503`.
    pub capacity: usize,
    /// Extractions that run at once.
    pub workers: usize,
}

/// Every error's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `malformed_json`, `invalid_request`, `invalid_utf8`,
    /// `unsupported_media_type`, `unknown_model`, `invalid_threshold`, `body_too_large`,
    /// `text_too_long`, `too_many_texts`, `not_found`, `method_not_allowed`, `busy`,
    /// `timeout`, `internal`.
    pub error: String,
    /// What was wrong, in words.
    pub message: String,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_string(),
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A request that has passed every check but the model's name.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub texts: Vec<String>,
    pub model: Option<String>,
    pub threshold: Option<f32>,
}

/// Whether a `Content-Type` is JSON (`application/json` with any parameters, or a
/// `+json` type).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Checks an extraction request as it arrives (content type, encoding, JSON, limits) and
/// turns it into a [`Job`]. Pure, so the fuzzer can drive it without a server.
pub fn parse_extract_request(
    content_type: Option<&str>,
    body: &[u8],
    limits: &Limits,
) -> Result<Job, ApiError> {
    match content_type {
        Some(ct) if is_json(ct) => {}
        Some(ct) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "the body must be JSON (Content-Type: application/json), not {:?}",
                    ct.chars().take(100).collect::<String>()
                ),
            ))
        }
        None => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request has no Content-Type; send JSON with Content-Type: application/json",
            ))
        }
    }
    if body.len() > limits.max_body_bytes {
        return Err(body_too_large(limits));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad(
            "invalid_utf8",
            format!(
                "the body is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let request: ExtractRequest = serde_json::from_str(text).map_err(|e| {
        ApiError::bad(
            "malformed_json",
            format!("the body is not a valid request: {e}"),
        )
    })?;
    let texts = match (request.text, request.texts) {
        (Some(t), None) => vec![t],
        (None, Some(ts)) => {
            if ts.is_empty() {
                return Err(ApiError::bad("invalid_request", "`texts` is empty"));
            }
            ts
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "invalid_request",
                "give either `text` or `texts`, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad(
                "invalid_request",
                "the request has no `text` (or `texts`) to extract from",
            ))
        }
    };
    // The document's schema is the contract: what it refuses, the API refuses (a `null`
    // beside the other field is the one case the struct above lets through).
    if serde_json::from_str::<ExtractBody>(text).is_err() {
        return Err(ApiError::bad(
            "invalid_request",
            "give either `text` or `texts`, not both (not even one of them as null)",
        ));
    }
    if texts.len() > limits.max_texts {
        return Err(ApiError::too_large(
            "too_many_texts",
            format!(
                "{} texts in one request; the limit is {}",
                texts.len(),
                limits.max_texts
            ),
        ));
    }
    for (i, t) in texts.iter().enumerate() {
        // Counting stops just past the limit: a long text costs no more than a short one.
        let n = t.chars().take(limits.max_chars + 1).count();
        if n > limits.max_chars {
            let which = if texts.len() == 1 {
                "the text".to_string()
            } else {
                format!("text {i}")
            };
            return Err(ApiError::too_large(
                "text_too_long",
                format!(
                    "{which} has more than {} characters, the limit; split it or use `mge extract`",
                    limits.max_chars
                ),
            ));
        }
    }
    let threshold = match request.threshold {
        Some(t) if !strictly_between_0_and_1(t) => {
            let shown = if t != 0.0 && (t.abs() < 1e-4 || t.abs() >= 1e6) {
                format!("{t:e}")
            } else {
                format!("{t}")
            };
            return Err(ApiError::bad(
                "invalid_threshold",
                format!("the threshold must lie strictly between 0 and 1, not {shown}"),
            ));
        }
        // Read as f64 and checked there: in f32, 1e-45 would round to 0 and 0.99999999
        // to 1. The nearest f32 strictly inside (0, 1) is used.
        Some(t) => Some((t as f32).clamp(f32::MIN_POSITIVE, 1.0 - f32::EPSILON / 2.0)),
        None => None,
    };
    Ok(Job {
        texts,
        model: request.model,
        threshold,
    })
}

/// `0 < t < 1`, decided on the bits for the lower end: with the processor flushing
/// subnormal numbers to zero (the numeric code in this process may turn that on),
/// `5e-324 > 0.0` is false, though the number is positive.
fn strictly_between_0_and_1(t: f64) -> bool {
    t.is_finite() && t.is_sign_positive() && t.to_bits() != 0 && t < 1.0
}

fn body_too_large(limits: &Limits) -> ApiError {
    ApiError::too_large(
        "body_too_large",
        format!(
            "the body is larger than {} bytes, the limit",
            limits.max_body_bytes
        ),
    )
}

/// Extract entities and relations from one or more texts.
#[utoipa::path(
    post,
    path = "/api/extract",
    request_body(content = ExtractBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The extraction of every text", body = ExtractResponse),
        (status = 400, description = "Malformed JSON, invalid UTF-8, no text, an unknown model or a threshold outside (0, 1)", body = ErrorBody),
        (status = 413, description = "The body, a text or the number of texts is over its limit", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 503, description = "Every worker is busy and the queue is full; retry after the `Retry-After` seconds", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 504, description = "The extraction took longer than the server's limit", body = ErrorBody),
    )
)]
pub async fn extract(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ExtractResponse>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large(&state.limits)
        } else {
            ApiError::bad(
                "invalid_request",
                format!("the body could not be read: {rejection}"),
            )
        }
    })?;
    let job = parse_extract_request(content_type, &body, &state.limits)?;
    let entry = state.models.get(job.model.as_deref()).ok_or_else(|| {
        ApiError::bad(
            "unknown_model",
            format!(
                "no model {:?}; this server has {}",
                job.model.as_deref().unwrap_or_default(),
                state.models.names().join(", ")
            ),
        )
    })?;
    let model = entry.description.name.clone();
    let threshold = job.threshold.unwrap_or(entry.extractor.threshold);
    let slot = state.pool.try_enter().ok_or_else(|| ApiError {
        retry_after: Some(1),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "all {} places are taken (extractions running and waiting); retry shortly",
                state.pool.capacity()
            ),
        )
    })?;
    let extractor = entry.extractor.clone();
    let texts = job.texts;
    let work = state.pool.run(slot, move || {
        let start = Instant::now();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let found = extractor.extract_many_at(&refs, threshold);
        (found, start.elapsed().as_secs_f64() * 1000.0)
    });
    let (found, elapsed_ms) = match tokio::time::timeout(state.limits.timeout, work).await {
        Ok(Ok(done)) => done,
        Ok(Err(PoolError::Panicked(msg))) => {
            tracing::error!(%msg, "extraction panicked");
            return Err(ApiError::internal("the extraction failed unexpectedly"));
        }
        Ok(Err(PoolError::Closed)) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is shutting down",
            ))
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!(
                    "the extraction took longer than {} s, the server's limit; send shorter texts",
                    state.limits.timeout.as_secs_f64()
                ),
            ))
        }
    };
    let results = found.map_err(|e| {
        tracing::error!(error = %e, "extraction failed");
        ApiError::internal(format!("the extraction failed: {e}"))
    })?;
    Ok(Json(ExtractResponse {
        model,
        threshold,
        results,
        elapsed_ms: (elapsed_ms * 100.0).round() / 100.0,
    }))
}

/// The models this server holds, with their labels and provenance.
#[utoipa::path(
    get,
    path = "/api/models",
    responses((status = 200, description = "The loaded models; the first is the default", body = ModelsResponse))
)]
pub async fn models(State(state): State<AppState>) -> Json<ModelsResponse> {
    Json(ModelsResponse {
        models: state.models.descriptions(),
    })
}

/// Whether the server is up, and how loaded it is.
#[utoipa::path(
    get,
    path = "/healthz",
    responses((status = 200, description = "The server is up", body = Health))
)]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        models: state.models.names(),
        in_flight: state.pool.in_flight(),
        capacity: state.pool.capacity(),
        workers: state.pool.workers(),
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json"))
)]
pub async fn openapi(State(state): State<AppState>) -> Response {
    match document(&state.limits, &state.models.names()) {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => ApiError::internal(format!("the API document could not be written: {e}"))
            .into_response(),
    }
}

/// The document generated from the types, with this server's limits and model names
/// written into the request schemas, so that a client (or a fuzzer) that keeps to it is
/// never refused for a limit it could not see.
pub fn document(limits: &Limits, models: &[String]) -> serde_json::Result<serde_json::Value> {
    let mut doc = serde_json::to_value(ApiDoc::openapi())?;
    let schemas = &mut doc["components"]["schemas"];
    let names = serde_json::json!(models);
    for (schema, field) in [("OneText", "text"), ("ManyTexts", "texts")] {
        let props = &mut schemas[schema]["properties"];
        if field == "text" {
            props["text"]["maxLength"] = limits.max_chars.into();
        } else {
            props["texts"]["maxItems"] = limits.max_texts.into();
            props["texts"]["items"]["maxLength"] = limits.max_chars.into();
        }
        // `model` is a name of this server's (or null, for the default).
        props["model"] = serde_json::json!({
            "description": "A model name from GET /api/models; the first model when null or left out.",
            "oneOf": [{"type": "string", "enum": names}, {"type": "null"}]
        });
    }
    Ok(doc)
}

/// The OpenAPI document, generated from the handlers and types above.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MGE-rs extraction API",
        description = "Joint entity and relation extraction with the Multi-Gate Encoder. Offsets are in Unicode scalar values (chars) of the text, `end` exclusive.",
        license(name = "Apache-2.0")
    ),
    paths(extract, models, health, openapi),
    components(schemas(
        ExtractBody,
        OneText,
        ManyTexts,
        ExtractResponse,
        ModelsResponse,
        ModelDescription,
        Health,
        ErrorBody,
        Extraction,
        EntityMention,
        RelationMention
    ))
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_body_bytes: 200,
            max_chars: 10,
            max_texts: 2,
            ..Limits::default()
        }
    }

    fn parse(ct: Option<&str>, body: &str) -> Result<Job, ApiError> {
        parse_extract_request(ct, body.as_bytes(), &limits())
    }

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn good_requests_become_jobs() {
        let job = parse(JSON, r#"{"text": "Ann left.", "threshold": 0.3}"#).unwrap();
        assert_eq!(job.texts, vec!["Ann left."]);
        assert_eq!(job.threshold, Some(0.3));
        let job = parse(
            Some("Application/JSON; charset=utf-8"),
            r#"{"texts": ["a", "b"], "model": "x"}"#,
        )
        .unwrap();
        assert_eq!(job.texts.len(), 2);
        assert_eq!(job.model.as_deref(), Some("x"));
        // Ten chars of four bytes each: the limit counts characters.
        assert!(parse(JSON, r#"{"text": "𝔸𝔸𝔸𝔸𝔸𝔸𝔸𝔸𝔸𝔸"}"#).is_ok());
    }

    #[test]
    fn each_bad_input_has_its_code() {
        fn code(ct: Option<&str>, body: &str) -> &'static str {
            parse(ct, body).unwrap_err().code
        }
        assert_eq!(code(None, "{}"), "unsupported_media_type");
        assert_eq!(
            code(Some("text/plain"), r#"{"text":"a"}"#),
            "unsupported_media_type"
        );
        assert_eq!(code(JSON, "{\"text\": "), "malformed_json");
        assert_eq!(code(JSON, r#"{"text": 3}"#), "malformed_json");
        assert_eq!(
            code(JSON, r#"{"text": "a", "colour": 1}"#),
            "malformed_json"
        );
        assert_eq!(code(JSON, "{}"), "invalid_request");
        assert_eq!(code(JSON, r#"{"texts": []}"#), "invalid_request");
        assert_eq!(
            code(JSON, r#"{"text": "a", "texts": ["b"]}"#),
            "invalid_request"
        );
        assert_eq!(
            code(JSON, r#"{"texts": ["a", "b", "c"]}"#),
            "too_many_texts"
        );
        assert_eq!(code(JSON, r#"{"text": "12345678901"}"#), "text_too_long");
        for t in ["0", "1", "-0.5", "1.5", "1e38"] {
            assert_eq!(
                code(JSON, &format!(r#"{{"text": "a", "threshold": {t}}}"#)),
                "invalid_threshold",
                "{t}"
            );
        }
        // Beyond f32: serde refuses the number itself.
        assert_eq!(
            code(JSON, r#"{"text": "a", "threshold": 1e400}"#),
            "malformed_json"
        );
        // Inside (0, 1) as numbers, but not as f32: kept inside.
        for t in ["1.4e-45", "5e-324"] {
            let tiny = parse(JSON, &format!(r#"{{"text": "a", "threshold": {t}}}"#)).unwrap();
            assert!(tiny.threshold.is_some_and(|t| t > 0.0), "{t}");
        }
        let near = parse(JSON, r#"{"text": "a", "threshold": 0.9999999999999999}"#).unwrap();
        assert!(near.threshold.is_some_and(|t| t < 1.0));
        let long = format!(r#"{{"text": "{}"}}"#, "a".repeat(300));
        assert_eq!(code(JSON, &long), "body_too_large");
        let err = parse_extract_request(JSON, b"{\"text\": \"\xff\"}", &limits()).unwrap_err();
        assert_eq!(err.code, "invalid_utf8");
        assert!(err.message.contains("offset 10"), "{}", err.message);
    }

    #[test]
    fn limits_are_named_in_the_message() {
        let err = parse(JSON, r#"{"text": "12345678901"}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(err.message.contains("10 characters"), "{}", err.message);
    }

    #[test]
    fn the_document_describes_every_endpoint() {
        let doc = document(&limits(), &["a".into(), "b".into()]).unwrap();
        for path in [
            "/api/extract",
            "/api/models",
            "/healthz",
            "/api/openapi.json",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        let entity = &doc["components"]["schemas"]["EntityMention"]["properties"];
        assert!(
            entity["type"].is_object(),
            "serde's rename reaches the schema"
        );
        let one = &doc["components"]["schemas"]["OneText"];
        assert_eq!(one["additionalProperties"], serde_json::json!(false));
        assert_eq!(one["properties"]["text"]["maxLength"], 10);
        assert_eq!(
            one["properties"]["model"]["oneOf"][0]["enum"],
            serde_json::json!(["a", "b"])
        );
        let many = &doc["components"]["schemas"]["ManyTexts"]["properties"]["texts"];
        assert_eq!(many["maxItems"], 2);
        assert_eq!(many["minItems"], 1);
    }

    /// The handler accepts what the document's schema describes, and nothing else that
    /// is well-formed JSON of the right fields.
    #[test]
    fn the_parser_and_the_document_agree() {
        let bodies = [
            r#"{"text": "a"}"#,
            r#"{"text": "a", "model": null, "threshold": null}"#,
            r#"{"texts": ["a", "b"], "threshold": 0.2}"#,
            r#"{"texts": []}"#,
            r#"{"text": "a", "texts": ["b"]}"#,
            r#"{}"#,
            r#"{"model": "a"}"#,
            r#"{"text": null}"#,
            r#"{"texts": null, "text": "a"}"#,
            r#"{"text": "a", "extra": 1}"#,
        ];
        for body in bodies {
            let schema_ok = match serde_json::from_str::<ExtractBody>(body) {
                Ok(ExtractBody::Many(m)) => !m.texts.is_empty(),
                Ok(ExtractBody::One(_)) => true,
                Err(_) => false,
            };
            let parsed = parse(JSON, body);
            assert_eq!(parsed.is_ok(), schema_ok, "{body}: {parsed:?}");
        }
    }
}
