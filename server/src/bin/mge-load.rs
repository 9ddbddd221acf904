//! `mge-load`: a bounded load test of `mge serve`'s extraction endpoint over loopback.
//!
//! For each concurrency level it opens that many keep-alive connections, sends the same
//! request on each until the request count or the duration is reached (whichever first),
//! and reports requests per second, latency percentiles of the answered (`200`) and of the
//! turned-away (`503`) requests, and every status seen. With `--pid` it samples the
//! server's resident memory once a second. It stops by itself.
//!
//!   mge-load --addr 127.0.0.1:8080 --concurrency 1,8,64 --requests 2000 --duration 60

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Options {
    addr: SocketAddr,
    path: String,
    body: String,
    levels: Vec<usize>,
    requests: usize,
    duration: Duration,
    pid: Option<u32>,
    json: bool,
}

const HELP: &str = "mge-load: a bounded load test of `mge serve` (POST /api/extract)

Options:
  --addr HOST:PORT      the server (default 127.0.0.1:8080)
  --text TEXT           the text each request sends (default: a 30-word news sentence)
  --model NAME          the model to ask for (default: the server's default)
  --concurrency LIST    concurrent clients, comma-separated (default 1,8,64)
  --requests N          requests per level at most (default 1000)
  --duration SECONDS    seconds per level at most (default 30)
  --pid PID             sample this process's resident memory once a second
  --json                one JSON object per level instead of a table";

const SENTENCE: &str = "Arthur B. Collins Jr., a banker in St. Paul, joined Wells Fargo in \
                        1990, two years after the U.S. Navy hired Laura Kim as an engineer \
                        in Norfolk, Va.";

fn parse_args() -> anyhow::Result<Options> {
    let mut o = Options {
        addr: "127.0.0.1:8080".parse()?,
        path: "/api/extract".into(),
        body: String::new(),
        levels: vec![1, 8, 64],
        requests: 1000,
        duration: Duration::from_secs(30),
        pid: None,
        json: false,
    };
    let mut text = SENTENCE.to_string();
    let mut model: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--addr" => o.addr = value()?.parse().context("--addr")?,
            "--text" => text = value()?,
            "--model" => model = Some(value()?),
            "--concurrency" => {
                o.levels = value()?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .context("--concurrency")?
            }
            "--requests" => o.requests = value()?.parse().context("--requests")?,
            "--duration" => {
                o.duration = Duration::from_secs_f64(value()?.parse().context("--duration")?)
            }
            "--pid" => o.pid = Some(value()?.parse().context("--pid")?),
            "--json" => o.json = true,
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other}\n\n{HELP}"),
        }
    }
    if o.levels.contains(&0) {
        bail!("--concurrency levels must be at least 1");
    }
    let mut body = serde_json::json!({ "text": text });
    if let Some(m) = model {
        body["model"] = serde_json::Value::String(m);
    }
    o.body = body.to_string();
    Ok(o)
}

/// One keep-alive connection that sends the same request again and again.
struct Client {
    addr: SocketAddr,
    request: Arc<Vec<u8>>,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Client {
    async fn send(&mut self) -> std::io::Result<u16> {
        for attempt in 0..2 {
            if self.stream.is_none() {
                let s = TcpStream::connect(self.addr).await?;
                s.set_nodelay(true)?;
                self.stream = Some(s);
            }
            match self.exchange().await {
                Ok(status) => return Ok(status),
                // A connection the server closed while idle: once more on a new one.
                Err(e) if attempt == 0 => {
                    self.stream = None;
                    let _ = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("unreachable"))
    }

    async fn exchange(&mut self) -> std::io::Result<u16> {
        let stream = self
            .stream
            .as_mut()
            .ok_or(std::io::ErrorKind::NotConnected)?;
        stream.write_all(&self.request).await?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status"))?;
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other("no content-length"))?;
        while self.buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        if head.contains("connection: close") {
            self.stream = None;
        }
        Ok(status)
    }
}

#[derive(Default)]
struct Samples {
    ok: Vec<f64>,
    shed: Vec<f64>,
    statuses: BTreeMap<String, usize>,
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    Some(sorted[i])
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

async fn level(o: &Options, clients: usize) -> serde_json::Value {
    let request = Arc::new(
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            o.path,
            o.addr,
            o.body.len(),
            o.body
        )
        .into_bytes(),
    );
    let issued = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + o.duration;
    let memory = o.pid.map(|pid| {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(k) = rss_kib(pid) {
                    samples.push(k);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            samples
        })
    });
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (issued, request, limit, addr) = (issued.clone(), request.clone(), o.requests, o.addr);
        tasks.push(tokio::spawn(async move {
            let mut client = Client {
                addr,
                request,
                stream: None,
                buf: Vec::new(),
            };
            let mut s = Samples::default();
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < limit {
                let t = Instant::now();
                let result = client.send().await;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let key = match result {
                    Ok(200) => {
                        s.ok.push(ms);
                        "200".to_string()
                    }
                    Ok(503) => {
                        s.shed.push(ms);
                        "503".to_string()
                    }
                    Ok(code) => code.to_string(),
                    Err(e) => {
                        client.stream = None;
                        format!("error: {}", e.kind())
                    }
                };
                *s.statuses.entry(key).or_default() += 1;
            }
            s
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        if let Ok(s) = t.await {
            all.ok.extend(s.ok);
            all.shed.extend(s.shed);
            for (k, v) in s.statuses {
                *all.statuses.entry(k).or_default() += v;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let rss = match memory {
        Some(m) => m.await.unwrap_or_default(),
        None => Vec::new(),
    };
    all.ok.sort_by(f64::total_cmp);
    all.shed.sort_by(f64::total_cmp);
    let total: usize = all.statuses.values().sum();
    let round = |v: Option<f64>| v.map(|x| (x * 100.0).round() / 100.0);
    serde_json::json!({
        "clients": clients,
        "requests": total,
        "seconds": (seconds * 100.0).round() / 100.0,
        "answered_per_second": ((all.ok.len() as f64 / seconds) * 10.0).round() / 10.0,
        "ok_p50_ms": round(percentile(&all.ok, 0.5)),
        "ok_p99_ms": round(percentile(&all.ok, 0.99)),
        "shed_p50_ms": round(percentile(&all.shed, 0.5)),
        "shed_p99_ms": round(percentile(&all.shed, 0.99)),
        "statuses": all.statuses,
        "rss_kib_first": rss.first(),
        "rss_kib_max": rss.iter().max(),
        "rss_kib_last": rss.last(),
    })
}

fn main() -> anyhow::Result<()> {
    let o = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if !o.json {
            println!(
                "{:>7} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}  statuses",
                "clients", "requests", "secs", "ok/s", "ok p50", "ok p99", "503 p50", "rss MiB"
            );
        }
        for &c in &o.levels {
            let r = level(&o, c).await;
            if o.json {
                println!("{r}");
            } else {
                let ms = |k: &str| {
                    r[k].as_f64()
                        .map(|v| format!("{v:.1}ms"))
                        .unwrap_or_else(|| "-".into())
                };
                let rss = match (r["rss_kib_first"].as_u64(), r["rss_kib_last"].as_u64()) {
                    (Some(a), Some(b)) => {
                        format!("{:.0}→{:.0}", a as f64 / 1024.0, b as f64 / 1024.0)
                    }
                    _ => "-".into(),
                };
                println!(
                    "{:>7} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
                    c,
                    r["requests"],
                    r["seconds"],
                    r["answered_per_second"],
                    ms("ok_p50_ms"),
                    ms("ok_p99_ms"),
                    ms("shed_p50_ms"),
                    rss,
                    r["statuses"]
                );
            }
        }
        Ok(())
    })
}
