//! `mge serve`: one program that serves the browser demo (`dist/`) and answers extraction
//! requests, the native fallback of the page and a service for other tools.
//!
//! - [`config`]: what the server is told at start (address, page, models, limits).
//! - [`models`]: bundles read once at start and shared read-only.
//! - [`pool`]: the bounded pool extraction runs on; beyond it, `503` at once.
//! - [`api`]: the handlers, their errors and the OpenAPI document generated from them.
//! - [`site`]: the page's files with its security headers.

pub mod api;
pub mod config;
pub mod models;
pub mod pool;
pub mod site;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request, Response};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use thiserror::Error;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::{default_models, Limits, ModelSource, ServeConfig};
pub use models::{ModelDescription, ModelEntry, Models};
pub use pool::Pool;

/// Why the server could not start or stopped.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error("no models to serve: give --model NAME=PATH (the committed ones are in models/)")]
    NoModels,
    #[error("the model name {0:?} is given twice")]
    DuplicateModel(String),
    #[error("model {name}: cannot read {}: {source}", path.display())]
    ReadModel {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model {name}: {} is not a usable bundle: {source}", path.display())]
    LoadModel {
        name: String,
        path: PathBuf,
        source: Box<mge::extract::LoadError>,
    },
    #[error("{} holds no built page (index.html); build it with scripts/serve-demo.sh or `trunk build --release`", .0.display())]
    NoPage(PathBuf),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub models: Arc<Models>,
    pub pool: Pool,
    pub limits: Limits,
}

impl AppState {
    pub fn new(models: Models, limits: Limits) -> Self {
        Self::shared(Arc::new(models), limits)
    }

    /// A state over models that other servers hold too (tests start several).
    pub fn shared(models: Arc<Models>, limits: Limits) -> Self {
        AppState {
            pool: Pool::new(limits.workers, limits.queue),
            models,
            limits,
        }
    }
}

/// Request ids: a counter, unique within the process (`x-request-id`, unless the client
/// sent one).
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&format!("{n:08x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// The whole service: the API, and the page when `dist` is given.
pub fn app(state: AppState, dist: Option<&std::path::Path>) -> Result<Router, ServeError> {
    let body_limit = state.limits.max_body_bytes;
    let api = Router::new()
        .route("/api/extract", post(api::extract))
        .route("/api/models", get(api::models))
        .route("/api/openapi.json", get(api::openapi))
        .route("/healthz", get(api::health))
        .method_not_allowed_fallback(method_not_allowed)
        // The handler checks the size itself and answers in JSON; this bounds what is read.
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state);
    let router = match dist {
        Some(dist) => api.merge(site::routes(dist)?),
        None => api.fallback(|| async { api::ApiError::not_found("no such path") }),
    };
    let request_id = HeaderName::from_static("x-request-id");
    // Bundles (application/octet-stream) are int8 weights: gzip saves 6% of them and would
    // hide their length from the page's progress bar, so they go as they are.
    let compress =
        SizeAbove::new(1024).and(NotForContentType::const_new("application/octet-stream"));
    Ok(router
        .layer(CompressionLayer::new().compress_when(compress))
        .layer(CatchPanicLayer::custom(|_| {
            api::ApiError::internal("the request failed unexpectedly").into_response()
        }))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response<_>, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        ms = format!("{:.1}", latency.as_secs_f64() * 1000.0),
                        "answered"
                    );
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, Counter::default())))
}

async fn method_not_allowed() -> api::ApiError {
    api::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take that method (see /api/openapi.json)",
    )
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops taking connections and
/// returns once the requests in flight have been answered.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// `mge serve`: loads the models, listens, logs to standard error, and serves until
/// SIGINT or SIGTERM.
pub fn run(config: ServeConfig) -> Result<(), ServeError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MGE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let start = std::time::Instant::now();
    let models = Models::load_on(&config.models, config.gpu)?;
    for d in models.descriptions() {
        tracing::info!(
            model = %d.name,
            dataset = %d.dataset,
            quantization = %d.quantization,
            "model loaded"
        );
    }
    if config.dist.is_none() {
        tracing::warn!("no built page (dist/): serving the API only");
    }
    let state = AppState::new(models, config.limits.clone());
    let router = app(state, config.dist.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mge-serve")
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr()?;
        tracing::info!(
            ms = start.elapsed().as_millis() as u64,
            workers = config.limits.workers,
            queue = config.limits.queue,
            "listening on http://{addr}/"
        );
        eprintln!("MGE-rs: http://{addr}/  (Ctrl-C stops)");
        serve(listener, router, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}
