//! `mge serve`: the demo page and the extraction API (the `mge-server` crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use mge_server::{Limits, ModelSource, ServeConfig};

use crate::extract_cmd::BackendArg;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A model to serve, `NAME=PATH` (or a bundle path, named by its file stem); repeatable.
    /// The first is the default. Without any: the bundles in `models/`.
    #[arg(long = "model", value_name = "NAME=PATH")]
    models: Vec<ModelSource>,
    /// The built page to serve (`trunk build --release` writes it). Default: `./dist` when it
    /// holds a page.
    #[arg(long, conflicts_with = "no_page")]
    dist: Option<PathBuf>,
    /// Serve the API only.
    #[arg(long)]
    no_page: bool,
    /// Extractions that run at once (default: the number of cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Requests that may wait for a worker before the server answers 503 (default: 4 per
    /// worker).
    #[arg(long)]
    queue: Option<usize>,
    /// Longest text in characters.
    #[arg(long, default_value_t = mge_server::config::DEFAULT_MAX_CHARS)]
    max_chars: usize,
    /// Most texts in one request.
    #[arg(long, default_value_t = 64)]
    max_texts: usize,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// Seconds one extraction request may take before it is answered with 504.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Where the forward passes run: `cpu`, or `wgpu` (a GPU through Vulkan, Metal or DX12).
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    backend: BackendArg,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let models = if args.models.is_empty() {
        mge_server::default_models()
    } else {
        args.models
    };
    if models.is_empty() {
        bail!("no models found in ./models; give --model NAME=PATH");
    }
    let dist = if args.no_page {
        None
    } else if let Some(dist) = args.dist {
        if !mge_server::site::is_built(&dist) {
            bail!(
                "{} holds no built page (index.html); run `trunk build --release` or scripts/serve-demo.sh",
                dist.display()
            );
        }
        Some(dist)
    } else {
        mge_server::site::default_dist()
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout must be a positive number of seconds");
    }
    let mut limits = Limits {
        max_body_bytes: args.max_body,
        max_chars: args.max_chars,
        max_texts: args.max_texts.max(1),
        timeout: Duration::from_secs_f64(args.timeout),
        ..Limits::default()
    };
    if let Some(w) = args.workers {
        limits.workers = w.max(1);
        limits.queue = 4 * limits.workers;
    }
    if let Some(q) = args.queue {
        limits.queue = q;
    }
    mge_server::run(ServeConfig {
        addr: args.addr,
        dist,
        models,
        limits,
        gpu: args.backend == BackendArg::Wgpu,
    })?;
    Ok(())
}
