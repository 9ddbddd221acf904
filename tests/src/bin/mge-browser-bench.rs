//! Runs the demo's in-page benchmark (`?bench=1`) and the ONNX Runtime Web page of
//! `bench/ort/` side by side in one headless Chromium and prints a table of medians.
//!
//! ```sh
//! bench/ort/setup.sh                      # once: onnxruntime-web, the two ONNX files, tokens
//! bench/run-browser-bench.sh [--rounds 3] [--json out.json] [--no-fp32]
//! ```
//!
//! Builds nothing: serves `dist/` (`MGE_DIST`) and `bench/ort/` as they are, each from its own
//! port (two origins, so the demo's service worker never sees the ONNX Runtime page). Every
//! round opens a fresh browser profile (cold caches) and loads the three pages in turn.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use mge_e2e::{block_on, dist_dir, preflight, repo_root, Browser, Chromedriver, ANY_RESULT};
use mge_e2e::{ServerConfig, StaticServer};
use serde_json::{json, Value};

const PAGE_TIMEOUT: Duration = Duration::from_secs(900);

struct Args {
    rounds: usize,
    fp32: bool,
    json: Option<String>,
    /// `--documents FILE`: time the page's documents on FILE beside the native extractor.
    documents: Option<String>,
    /// `--webgpu`: Chromium with WebGPU (`--enable-unsafe-webgpu`; headless, SwiftShader
    /// on the CPU where there is no GPU), so that the page also times WebGPU.
    webgpu: bool,
    /// `--workers N`: the page's workers for documents (`?workers=N`; default: the page's
    /// choice, one per core).
    workers: Option<usize>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        rounds: 3,
        fp32: true,
        json: None,
        documents: None,
        webgpu: false,
        workers: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--rounds" => {
                a.rounds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| anyhow!("--rounds needs a positive number"))?
            }
            "--no-fp32" => a.fp32 = false,
            "--webgpu" => a.webgpu = true,
            "--workers" => {
                a.workers = Some(
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .filter(|&n| n > 0)
                        .ok_or_else(|| anyhow!("--workers needs a positive number"))?,
                )
            }
            "--documents" => {
                a.documents = Some(
                    it.next()
                        .ok_or_else(|| anyhow!("--documents needs a text file"))?,
                )
            }
            "--json" => a.json = Some(it.next().ok_or_else(|| anyhow!("--json needs a path"))?),
            "-h" | "--help" => {
                println!("mge-browser-bench [--rounds N] [--no-fp32] [--webgpu] [--json PATH]");
                println!("mge-browser-bench --documents FILE [--rounds N] [--workers N]   (text file, a document per line)");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    Ok(a)
}

fn file_len(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

/// Opens `url` and waits for `#bench-result[data-done="1"]`; returns its JSON.
async fn bench_page(b: &Browser, url: &str) -> Result<Value> {
    b.goto(url).await?;
    let text = b
        .wait_for(
            &format!("the benchmark result of {url}"),
            PAGE_TIMEOUT,
            "const r = document.getElementById('bench-result');\
             return r && r.getAttribute('data-done') === '1' ? r.textContent : null;",
        )
        .await?;
    let v: Value = serde_json::from_str(text.as_str().unwrap_or_default())
        .with_context(|| format!("the result of {url} is not JSON: {text}"))?;
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        bail!("{url} failed: {e}");
    }
    Ok(v)
}

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    let mut x = v;
    for k in path {
        x = x.get(k)?;
    }
    x.as_f64()
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    Some(if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    })
}

/// The median over rounds of one number of one page's results.
fn med(rounds: &[Value], page: &str, path: &[&str]) -> Option<f64> {
    median(
        rounds
            .iter()
            .filter_map(|r| r.get(page).and_then(|p| f(p, path)))
            .collect(),
    )
}

fn ms(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1} ms"))
        .unwrap_or_else(|| "–".into())
}

fn mb(x: Option<u64>) -> String {
    x.map(|v| format!("{:.2} MB", v as f64 / 1e6))
        .unwrap_or_else(|| "–".into())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "–".into(),
    }
}

/// The page's documents (`#files`) on `file`, `rounds` times with a fresh browser each, beside
/// the native extractor on the same lines in this process (`RAYON_NUM_THREADS` sets its
/// threads; the page's worker has one).
fn bench_documents(file: &str, rounds: usize, workers: Option<usize>) -> Result<()> {
    let path = std::fs::canonicalize(file).with_context(|| format!("cannot read {file}"))?;
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<&str> = text.lines().collect();
    let dist = dist_dir();
    preflight(&dist)?;
    let srv = StaticServer::start(ServerConfig::root(&dist))?;
    let driver = Chromedriver::start()?;
    let mut page_ms: Vec<f64> = Vec::new();
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}: the page …");
        let ms = block_on(async {
            let b = Browser::open(&driver, "bench-docs").await?;
            let query = workers.map(|n| format!("?workers={n}")).unwrap_or_default();
            b.goto(&format!("{}{query}", srv.url())).await?;
            b.wait_for("the first result", PAGE_TIMEOUT, ANY_RESULT)
                .await?;
            b.open_files(&[&path]).await?;
            let v = b
                .wait_for(
                    "the documents",
                    PAGE_TIMEOUT,
                    "const p = document.querySelector('.docs-progress[data-elapsed-ms]');\
                     return p ? [parseFloat(p.dataset.elapsedMs), +p.dataset.finished] : null;",
                )
                .await?;
            b.close().await?;
            let done = v[1].as_u64().unwrap_or(0) as usize;
            if done != lines.len() {
                bail!("the page finished {done} of {} documents", lines.len());
            }
            v[0].as_f64().ok_or_else(|| anyhow!("no elapsed time: {v}"))
        })?;
        page_ms.push(ms);
    }
    let bundle = std::fs::read(repo_root().join("models/conll04.safetensors"))?;
    let ex = mge::extract::Extractor::from_bundle(&bundle)?;
    let mut native_ms = Vec::new();
    for _ in 0..rounds {
        let t0 = std::time::Instant::now();
        for chunk in lines.chunks(32) {
            ex.extract_many(chunk)?;
        }
        native_ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let (Some(p), Some(n)) = (median(page_ms), median(native_ms)) else {
        bail!("no rounds measured");
    };
    let per_s = |ms: f64| lines.len() as f64 / (ms / 1e3);
    println!(
        "{} documents ({} bytes), medians of {rounds}:",
        lines.len(),
        text.len()
    );
    println!(
        "  page (worker, wasm):  {:>8.0} ms  {:>6.1} documents/s",
        p,
        per_s(p)
    );
    println!(
        "  native (this process): {:>7.0} ms  {:>6.1} documents/s",
        n,
        per_s(n)
    );
    println!("  page / native: {:.2}x the time", p / n);
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if let Some(file) = &args.documents {
        return bench_documents(file, args.rounds, args.workers);
    }
    let root = repo_root();
    let dist = dist_dir();
    let ort_dir = root.join("bench").join("ort");
    preflight(&dist)?;
    for f in [
        "node_modules/onnxruntime-web/dist/ort.wasm.min.js",
        "models/minilm-int8.onnx",
        "models/minilm-fp32.onnx",
        "tokens.js",
    ] {
        if !ort_dir.join(f).is_file() {
            bail!(
                "{} is missing: run bench/ort/setup.sh first",
                ort_dir.join(f).display()
            );
        }
    }

    let dist_srv = StaticServer::start(ServerConfig::root(&dist))?;
    let ort_srv = StaticServer::start(ServerConfig::root(&ort_dir))?;
    let driver = Chromedriver::start()?;

    let mut pages = vec![("mge", format!("{}?bench=1", dist_srv.url()))];
    pages.push(("ort_int8", format!("{}?model=int8", ort_srv.url())));
    if args.fp32 {
        pages.push(("ort_fp32", format!("{}?model=fp32", ort_srv.url())));
    }

    // Every page gets a fresh profile: its cold start then includes compiling its wasm, with
    // no code cache left by the page before it.
    let (rounds, browser_version) = block_on(async {
        let mut rounds = Vec::new();
        let mut version = String::new();
        for round in 1..=args.rounds {
            let mut r = serde_json::Map::new();
            for (name, url) in &pages {
                eprintln!("round {round}/{}: {name} …", args.rounds);
                let flags: &[&str] = if args.webgpu {
                    &["--enable-unsafe-webgpu"]
                } else {
                    &[]
                };
                let b = Browser::open_with(&driver, "bench", flags).await?;
                if version.is_empty() {
                    version = b
                        .client
                        .capabilities()
                        .and_then(|c| c.get("browserVersion"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                }
                let v = bench_page(&b, url).await;
                let _ = b.close().await;
                r.insert(name.to_string(), v?);
            }
            rounds.push(Value::Object(r));
        }
        Ok::<_, anyhow::Error>((rounds, version))
    })?;

    let ua = rounds[0]["mge"]["user_agent"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let chrome = format!("Chromium {browser_version} (headless)");
    let ort_version = rounds[0]["ort_int8"]["ort_version"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    let tokens = rounds[0]["ort_int8"]["tokens"].as_u64().unwrap_or(0);
    let n = rounds.len();

    // Sizes, from the files served.
    let mge_worker_wasm = file_len(&dist.join("mge-worker_bg.wasm"));
    let mge_page_wasm = file_len(&dist.join("mge-web_bg.wasm"));
    let mge_js: u64 = [
        "mge-web.js",
        "mge-worker.js",
        "mge-worker_loader.js",
        "index.html",
        "style.css",
    ]
    .iter()
    .filter_map(|f| file_len(&dist.join(f)))
    .sum();
    let mge_bundle = file_len(&dist.join("models/conll04.safetensors"));
    let ort_dist = ort_dir.join("node_modules/onnxruntime-web/dist");
    let ort_wasm = file_len(&ort_dist.join("ort-wasm-simd-threaded.wasm"));
    let ort_js: u64 = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs"]
        .iter()
        .filter_map(|f| file_len(&ort_dist.join(f)))
        .sum();
    let int8_bytes = file_len(&ort_dir.join("models/minilm-int8.onnx"));
    let fp32_bytes = file_len(&ort_dir.join("models/minilm-fp32.onnx"));

    let m = |path: &[&str]| med(&rounds, "mge", path);
    let o8 = |path: &[&str]| med(&rounds, "ort_int8", path);
    let o32 = |path: &[&str]| med(&rounds, "ort_fp32", path);

    let mge_total = m(&["warm", "median_ms"]);
    let mge_enc = m(&["warm", "encoder_median_ms"]);
    let int8 = o8(&["warm", "median_ms"]);
    let fp32 = o32(&["warm", "median_ms"]);
    let tp = m(&["throughput", "sentences_per_second"]);
    let tp_note = rounds[0]["mge"]["throughput"]
        .as_object()
        .map(|t| {
            format!(
                "{} sentences, batches of {}",
                t.get("sentences").and_then(Value::as_u64).unwrap_or(0),
                t.get("batch_size").and_then(Value::as_u64).unwrap_or(0)
            )
        })
        .or_else(|| {
            rounds[0]["mge"]["throughput_error"]
                .as_str()
                .map(|e| format!("not measured: {e}"))
        })
        .unwrap_or_default();

    let col = |s: &str| format!("{s:>17}");
    let mut rows: Vec<(String, [String; 3])> = Vec::new();
    let mut row = |label: &str, a: String, b: String, c: String| {
        rows.push((label.to_string(), [a, b, c]));
    };
    row(
        "what runs",
        "tok+encoder+heads".into(),
        "bare encoder".into(),
        "bare encoder".into(),
    );
    row(
        "warm latency, median of 20",
        ms(mge_total),
        ms(int8),
        ms(fp32),
    );
    row(
        "  tokenizer",
        ms(m(&["warm", "tokenize_median_ms"])),
        "–".into(),
        "–".into(),
    );
    row("  encoder", ms(mge_enc), ms(int8), ms(fp32));
    row(
        "  heads",
        ms(m(&["warm", "heads_median_ms"])),
        "–".into(),
        "–".into(),
    );
    row(
        "  decode",
        ms(m(&["warm", "decode_median_ms"])),
        "–".into(),
        "–".into(),
    );
    row(
        "MGE encoder / this",
        "1.00×".into(),
        ratio(mge_enc, int8),
        ratio(mge_enc, fp32),
    );
    row(
        "MGE total / this",
        "1.00×".into(),
        ratio(mge_total, int8),
        ratio(mge_total, fp32),
    );
    row(
        "cold start (load → 1st result)",
        ms(m(&["cold_start_ms"])),
        ms(o8(&["cold_start_ms"])),
        ms(o32(&["cold_start_ms"])),
    );
    row(
        "  model fetch",
        ms(m(&["bundle_fetch_ms"])),
        ms(o8(&["model_fetch_ms"])),
        ms(o32(&["model_fetch_ms"])),
    );
    row(
        "  model init / session create",
        ms(m(&["model_init_ms"])),
        ms(o8(&["session_create_ms"])),
        ms(o32(&["session_create_ms"])),
    );
    row(
        "throughput (CoNLL04 test)",
        tp.map(|v| format!("{v:.1} sent/s"))
            .unwrap_or_else(|| "–".into()),
        "–".into(),
        "–".into(),
    );
    row(
        "warm latency on WebGPU",
        m(&["webgpu", "warm_median_ms"])
            .map(|v| format!("{v:.1} ms"))
            .or_else(|| {
                rounds[0]["mge"]["webgpu_error"]
                    .as_str()
                    .map(|e| e.chars().take(28).collect())
            })
            .unwrap_or_else(|| "–".into()),
        "–".into(),
        "–".into(),
    );
    row(
        "compute wasm",
        mb(mge_worker_wasm),
        mb(ort_wasm),
        mb(ort_wasm),
    );
    row("page wasm", mb(mge_page_wasm), "–".into(), "–".into());
    row(
        "JS + HTML + CSS",
        mb(Some(mge_js)),
        mb(Some(ort_js)),
        mb(Some(ort_js)),
    );
    row("model file", mb(mge_bundle), mb(int8_bytes), mb(fp32_bytes));

    println!();
    println!(
        "Browser benchmark, medians of {n} round(s); {chrome}, onnxruntime-web {ort_version}, \
         1 thread; sentence of {tokens} tokens"
    );
    println!(
        "{:<32}{}{}{}",
        "",
        col("MGE (ours, wasm)"),
        col("ORT int8"),
        col(if args.fp32 { "ORT fp32" } else { "" })
    );
    for (label, [a, b, c]) in &rows {
        println!("{label:<32}{}{}{}", col(a), col(b), col(c));
    }
    println!("throughput: {tp_note}");
    println!(
        "MGE kernels: {}",
        rounds[0]["mge"]["kernels"].as_str().unwrap_or("?")
    );
    println!(
        "per round, warm median ms (MGE total / MGE encoder / ORT int8 / ORT fp32): {}",
        rounds
            .iter()
            .map(|r| format!(
                "{} / {} / {} / {}",
                ms(f(&r["mge"], &["warm", "median_ms"])),
                ms(f(&r["mge"], &["warm", "encoder_median_ms"])),
                ms(f(&r["ort_int8"], &["warm", "median_ms"])),
                ms(f(&r["ort_fp32"], &["warm", "median_ms"]))
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!("user agent: {ua}");

    if let Some(path) = args.json {
        let all = json!({ "rounds": rounds, "chrome": chrome, "ort_version": ort_version });
        std::fs::write(&path, serde_json::to_string_pretty(&all)?)?;
        println!("all results: {path}");
    }
    Ok(())
}
