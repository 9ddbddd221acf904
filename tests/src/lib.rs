//! Harness for driving the built browser demo (`dist/`) in headless Chromium through
//! chromedriver: a static server ([`server`]), a chromedriver process per run, a WebDriver
//! session with the flags Chromium needs as root, and small helpers for the page's DOM
//! contract (`web/README.md`).
//!
//! Environment:
//! - `MGE_DIST`: the built demo (default `<repo>/dist`);
//! - `CHROMEDRIVER`, `CHROME`: the driver and browser binaries (default: found on `PATH`);
//! - `MGE_E2E_SKIP=1`: skip the browser tests instead of failing when something is missing.

pub mod server;

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

pub use server::{ServerConfig, StaticServer};

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The built demo: `MGE_DIST`, or `<repo>/dist`.
pub fn dist_dir() -> PathBuf {
    std::env::var_os("MGE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("dist"))
}

/// Where screenshots go: `<repo>/target/e2e-screenshots/` (created on demand).
pub fn screenshot_dir() -> PathBuf {
    repo_root().join("target").join("e2e-screenshots")
}

/// `MGE_E2E_SKIP=1` (or `true`): browser tests return at once instead of running.
pub fn skip_requested() -> bool {
    matches!(
        std::env::var("MGE_E2E_SKIP").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

pub fn chromedriver_path() -> Option<PathBuf> {
    match std::env::var_os("CHROMEDRIVER") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => which("chromedriver"),
    }
}

pub fn chrome_path() -> Option<PathBuf> {
    match std::env::var_os("CHROME") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => ["chromium", "chromium-browser", "google-chrome", "chrome"]
            .iter()
            .find_map(|n| which(n)),
    }
}

/// Checks that everything the browser tests need is there; the error says how to get it.
pub fn preflight(dist: &Path) -> Result<()> {
    let mut missing = Vec::new();
    for f in [
        "index.html",
        "mge-web_bg.wasm",
        "mge-worker_bg.wasm",
        "sw.js",
        "models/conll04.safetensors",
        "models/scierc.safetensors",
        "models/ade.safetensors",
    ] {
        if !dist.join(f).is_file() {
            missing.push(format!("{}", dist.join(f).display()));
        }
    }
    let mut msg = String::new();
    if !dist.join("index.html").is_file() {
        missing = vec![format!("no index.html in {}", dist.display())];
    }
    if !missing.is_empty() {
        msg.push_str(&format!(
            "The built demo is missing or incomplete ({}).\n  Build it at the repository root with\n    \
             scripts/install-web-tools.sh\n    \
             PATH=\"$PWD/.tools/node_modules/.bin:$PATH\" trunk build --release --offline\n  \
             or point MGE_DIST at a built copy.\n",
            missing.join(", ")
        ));
    }
    if chromedriver_path().is_none() {
        msg.push_str(
            "chromedriver was not found (set CHROMEDRIVER or put it on PATH): \
             `apt-get install chromium chromium-driver` or scripts/install-web-tools.sh.\n",
        );
    }
    if chrome_path().is_none() {
        msg.push_str(
            "Chromium was not found (set CHROME or put `chromium` on PATH): \
             `apt-get install chromium chromium-driver`.\n",
        );
    }
    if msg.is_empty() {
        Ok(())
    } else {
        msg.push_str("Set MGE_E2E_SKIP=1 to skip the browser tests instead.");
        bail!(msg)
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A chromedriver process on a free port, killed when dropped.
pub struct Chromedriver {
    child: Child,
    pub port: u16,
}

impl Chromedriver {
    pub fn start() -> Result<Self> {
        let bin = chromedriver_path().ok_or_else(|| anyhow!("chromedriver not found"))?;
        let mut last = None;
        // The port is free when picked but could be taken before chromedriver binds it: retry.
        for _ in 0..3 {
            let port = free_port()?;
            let mut child = Command::new(&bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(status)) = child.try_wait() {
                    last = Some(anyhow!("chromedriver exited at start ({status})"));
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Chromedriver { child, port });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            last.get_or_insert_with(|| anyhow!("chromedriver did not listen on port {port}"));
        }
        Err(last.unwrap_or_else(|| anyhow!("chromedriver did not start")))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium flags for headless runs as root, with a fresh profile.
pub fn chrome_args(profile: &Path, width: u32, height: u32) -> Vec<String> {
    vec![
        "--headless=new".into(),
        "--no-sandbox".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.display()),
    ]
}

/// A WebDriver session in a fresh Chromium profile (deleted when dropped).
pub struct Browser {
    pub client: Client,
    profile: PathBuf,
    shots: PathBuf,
    prefix: String,
    closed: bool,
}

impl Browser {
    pub async fn open(driver: &Chromedriver, prefix: &str) -> Result<Self> {
        Self::open_with(driver, prefix, &[]).await
    }

    /// [`open`](Self::open) with more Chromium flags (`--enable-unsafe-webgpu` gives
    /// headless Chromium a WebGPU adapter, SwiftShader on the CPU).
    pub async fn open_with(driver: &Chromedriver, prefix: &str, flags: &[&str]) -> Result<Self> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let profile = std::env::temp_dir().join(format!(
            "mge-e2e-{}-{}-{}",
            prefix,
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile)?;
        let chrome = chrome_path().ok_or_else(|| anyhow!("Chromium not found"))?;
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome.to_string_lossy(),
                "args": chrome_args(&profile, 1280, 1400)
                    .into_iter()
                    .chain(flags.iter().map(|f| f.to_string()))
                    .collect::<Vec<_>>(),
            },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .context("opening a WebDriver session in Chromium")?;
        let shots = screenshot_dir();
        std::fs::create_dir_all(&shots)?;
        Ok(Browser {
            client,
            profile,
            shots,
            prefix: prefix.to_string(),
            closed: false,
        })
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Runs `script` (a function body; a returned promise is awaited) with `args`.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.client
            .execute(script, args)
            .await
            .with_context(|| format!("running script: {}", short(script)))
    }

    /// Polls `script` every 100 ms until it returns something truthy; returns that value.
    pub async fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Result<Value> {
        let t0 = Instant::now();
        loop {
            let v = self.js(script, vec![]).await?;
            if truthy(&v) {
                return Ok(v);
            }
            if t0.elapsed() > timeout {
                bail!(
                    "timed out after {:.0} s waiting for {what}; status: {}",
                    timeout.as_secs_f64(),
                    self.status_line().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Like [`Browser::wait_for`], but `script` must stay truthy while `#status` stays
    /// `ready` for `settle` in a row (longer than the page's debounce), so a result that is
    /// about to be replaced is not taken.
    pub async fn wait_settled(&self, what: &str, timeout: Duration, script: &str) -> Result<Value> {
        let settle = Duration::from_millis(700);
        let wrapped = format!(
            "const s = document.getElementById('status');\n\
             if (!s || s.dataset.state !== 'ready') return null;\n\
             const v = (function() {{ {script} }})();\n\
             return v ? v : null;"
        );
        let t0 = Instant::now();
        let mut since: Option<Instant> = None;
        loop {
            let v = self.js(&wrapped, vec![]).await?;
            if truthy(&v) {
                let s = *since.get_or_insert_with(Instant::now);
                if s.elapsed() >= settle {
                    return Ok(v);
                }
            } else {
                since = None;
            }
            if t0.elapsed() > timeout {
                bail!(
                    "timed out after {:.0} s waiting for {what} (with the page ready); status: {}",
                    timeout.as_secs_f64(),
                    self.status_line().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `data-state`, `data-backend` and the text of `#status`, for messages.
    pub async fn status_line(&self) -> String {
        match self
            .js(
                "const s = document.getElementById('status');\
                 if (!s) return 'no #status element';\
                 const e = document.querySelector('.load-error, .refuse');\
                 return `${s.dataset.state} (${s.dataset.backend}): ${s.textContent.trim()}` + \
                   (e ? ` | ${e.textContent.trim()}` : '');",
                vec![],
            )
            .await
        {
            Ok(Value::String(s)) => s,
            Ok(v) => v.to_string(),
            Err(e) => format!("(could not read: {e})"),
        }
    }

    /// Saves a PNG of the viewport as `target/e2e-screenshots/<prefix>-<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await.context("screenshot")?;
        let path = self.shots.join(format!("{}-{name}.png", self.prefix));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(mut self) -> Result<()> {
        self.closed = true;
        let r = self.client.clone().close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
        r.context("closing the session")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            // The driver's process is killed by its owner; the profile can go now.
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
}

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 80 {
        format!("{}…", one.chars().take(80).collect::<String>())
    } else {
        one
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode_query_value(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds a current-thread tokio runtime and runs `fut` on it.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(fut)
}

/// What a browser test gets: the page server, the session, and the driver behind it.
pub struct Ctx {
    pub server: StaticServer,
    pub browser: Browser,
    pub dist: PathBuf,
    _driver: Chromedriver,
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs one browser test: checks the prerequisites (failing with instructions when something
/// is missing, unless `MGE_E2E_SKIP=1`), serves `dist/`, starts chromedriver and a fresh
/// Chromium profile, and runs `body`. Tests run one at a time (two cores are plenty for one
/// Chromium, not for eight). On failure a `<name>-FAILED.png` screenshot is kept and the
/// page's status is added to the panic message.
pub fn run_e2e<F>(name: &str, body: F)
where
    F: AsyncFnOnce(&mut Ctx) -> Result<()>,
{
    run_e2e_with(name, &[], body)
}

/// [`run_e2e`] in a Chromium started with `flags` as well.
pub fn run_e2e_with<F>(name: &str, flags: &[&str], body: F)
where
    F: AsyncFnOnce(&mut Ctx) -> Result<()>,
{
    if skip_requested() {
        eprintln!("{name}: skipped (MGE_E2E_SKIP=1)");
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dist = dist_dir();
    if let Err(e) = preflight(&dist) {
        panic!("{name}: cannot run the browser tests.\n{e}");
    }
    let t0 = Instant::now();
    let outcome: Result<()> = block_on(async {
        let server = StaticServer::start(ServerConfig::root(&dist)).context("static server")?;
        let driver = Chromedriver::start()?;
        let browser = Browser::open_with(&driver, name, flags).await?;
        let mut cx = Ctx {
            server,
            browser,
            dist: dist.clone(),
            _driver: driver,
        };
        let r = body(&mut cx).await;
        let r = match r {
            Ok(()) => Ok(()),
            Err(e) => {
                let shot = cx.browser.screenshot("FAILED").await.ok();
                let status = cx.browser.status_line().await;
                Err(e.context(format!(
                    "page status: {status}{}",
                    shot.map(|p| format!("; screenshot {}", p.display()))
                        .unwrap_or_default()
                )))
            }
        };
        let Ctx {
            server, browser, ..
        } = cx;
        let closed = browser.close().await;
        drop(server);
        r.and(closed)
    });
    match outcome {
        Ok(()) => eprintln!("{name}: ok in {:.1} s", t0.elapsed().as_secs_f64()),
        Err(e) => panic!(
            "{name} failed after {:.1} s: {e:#}",
            t0.elapsed().as_secs_f64()
        ),
    }
}

/// One rendered mention (`.mention`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub entity_type: String,
    pub start: u64,
    pub end: u64,
    pub entity: u64,
    pub text: String,
}

/// One relation arc (`g.arc[data-relation]`, the part with the arrow) or triples row.
#[derive(Debug, Clone, PartialEq)]
pub struct Rel {
    pub relation: String,
    pub head: u64,
    pub tail: u64,
}

fn num(v: &Value, k: &str) -> Result<u64> {
    let x = &v[k];
    x.as_u64()
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| anyhow!("attribute {k} is not a number: {x}"))
}

fn text(v: &Value, k: &str) -> Result<String> {
    v[k].as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("attribute {k} is missing: {v}"))
}

impl Browser {
    pub async fn mentions(&self) -> Result<Vec<Mention>> {
        let v = self
            .js(
                "return [...document.querySelectorAll('.annotated .mention')].map(m => ({\
                   type: m.getAttribute('data-entity-type'), start: m.getAttribute('data-start'),\
                   end: m.getAttribute('data-end'), entity: m.getAttribute('data-entity'),\
                   text: m.textContent }));",
                vec![],
            )
            .await?;
        v.as_array()
            .ok_or_else(|| anyhow!("mentions: {v}"))?
            .iter()
            .map(|m| {
                Ok(Mention {
                    entity_type: text(m, "type")?,
                    start: num(m, "start")?,
                    end: num(m, "end")?,
                    entity: num(m, "entity")?,
                    text: text(m, "text")?,
                })
            })
            .collect()
    }

    async fn rels(&self, selector: &str) -> Result<Vec<Rel>> {
        let v = self
            .js(
                "return [...document.querySelectorAll(arguments[0])].map(a => ({\
                   relation: a.getAttribute('data-relation'), head: a.getAttribute('data-head'),\
                   tail: a.getAttribute('data-tail') }));",
                vec![json!(selector)],
            )
            .await?;
        v.as_array()
            .ok_or_else(|| anyhow!("relations: {v}"))?
            .iter()
            .map(|a| {
                Ok(Rel {
                    relation: text(a, "relation")?,
                    head: num(a, "head")?,
                    tail: num(a, "tail")?,
                })
            })
            .collect()
    }

    /// The arcs with an arrow (one per relation; a relation drawn across two lines also has a
    /// `data-part="continued"` part).
    pub async fn arcs(&self) -> Result<Vec<Rel>> {
        self.rels(".annotated g.arc[data-part=\"main\"]").await
    }

    /// Every drawn arc part (`g.arc`) that lacks one of `data-relation`, `data-head`,
    /// `data-tail`, `data-score` or `data-part`, by its outer HTML.
    pub async fn arcs_without_contract(&self) -> Result<Vec<String>> {
        let v = self
            .js(
                "return [...document.querySelectorAll('.annotated g.arc')]\
                   .filter(a => ['data-relation', 'data-head', 'data-tail', 'data-score', 'data-part']\
                     .some(k => !a.hasAttribute(k) || a.getAttribute(k) === ''))\
                   .map(a => a.outerHTML.slice(0, 200));",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// The rows of `#triples` as (subject, relation, object) texts, the type labels left out.
    pub async fn triples(&self) -> Result<Vec<(String, String, String)>> {
        let v = self
            .js(
                "return [...document.querySelectorAll('#triples tbody tr:not(.empty)')].map(tr => {\
                   const td = tr.querySelectorAll('td');\
                   const name = c => c && c.firstChild ? c.firstChild.textContent.trim() : '';\
                   return [name(td[0]), td[1] ? td[1].textContent.trim() : '', name(td[2])]; });",
                vec![],
            )
            .await?;
        let rows: Vec<(String, String, String)> = serde_json::from_value(v)?;
        Ok(rows)
    }

    /// `#status`'s `data-state`.
    pub async fn state(&self) -> Result<String> {
        let v = self
            .js(
                "const s = document.getElementById('status'); return s ? s.dataset.state : null;",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or("").to_string())
    }

    /// Starts recording whether `#status` goes `busy` from now on; [`SAW_BUSY`] reads it.
    /// Waiting for "busy seen, then ready" tells a new result from the one already shown
    /// when the text stays the same (threshold changes), whatever the page's debounce.
    pub async fn watch_busy(&self) -> Result<()> {
        self.js(
            "window.__mgeSawBusy = false;\
             const s = document.getElementById('status');\
             if (window.__mgeBusyObserver) window.__mgeBusyObserver.disconnect();\
             window.__mgeBusyObserver = new MutationObserver(() => {\
               if (s.dataset.state === 'busy') window.__mgeSawBusy = true; });\
             window.__mgeBusyObserver.observe(s, { attributes: true, attributeFilter: ['data-state'] });\
             return true;",
            vec![],
        )
        .await?;
        Ok(())
    }

    /// Clicks the element with id `id`.
    pub async fn click(&self, id: &str) -> Result<()> {
        self.client
            .find(fantoccini::Locator::Id(id))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Gives files to the page's `#files` input, as a visitor choosing them would
    /// (WebDriver takes several as one newline-separated value).
    pub async fn open_files(&self, paths: &[&Path]) -> Result<()> {
        let value: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into()).collect();
        self.client
            .find(fantoccini::Locator::Id("files"))
            .await?
            .send_keys(&value.join("\n"))
            .await?;
        Ok(())
    }

    /// Keeps every file the page hands to the browser as a download in
    /// `window.__mgeSaved` (its blobs) and `window.__mgeSavedName` (the last name), instead
    /// of downloading it.
    pub async fn keep_downloads(&self) -> Result<()> {
        self.js(
            "window.__mgeSaved = [];\
             const create = URL.createObjectURL;\
             URL.createObjectURL = function (blob) { window.__mgeSaved.push(blob); return create.call(URL, blob); };\
             HTMLAnchorElement.prototype.click = function () { window.__mgeSavedName = this.download; };\
             return true;",
            vec![],
        )
        .await?;
        Ok(())
    }

    /// Sets a form control's value as a user would and fires `input` and `change`.
    pub async fn set_value(&self, id: &str, value: &str) -> Result<()> {
        self.js(
            "const el = document.getElementById(arguments[0]);\
             if (!el) throw new Error('no #' + arguments[0]);\
             el.value = arguments[1];\
             el.dispatchEvent(new Event('input', { bubbles: true }));\
             el.dispatchEvent(new Event('change', { bubbles: true }));\
             return true;",
            vec![json!(id), json!(value)],
        )
        .await?;
        Ok(())
    }
}

/// Script body: true once the page shows a result (any annotated line).
pub const ANY_RESULT: &str =
    "return document.querySelectorAll('.annotated .line-text').length > 0;";

/// Script expression: `#status` went `busy` since [`Browser::watch_busy`].
pub const SAW_BUSY: &str = "window.__mgeSawBusy === true";

/// Script body (for [`Browser::wait_settled`]): true once the rendered text, whitespace
/// left out, is `expected` (also whitespace left out), i.e. the result shown is for it.
pub fn shows_text_script(expected: &str) -> String {
    let squashed: String = expected.split_whitespace().collect();
    format!(
        "const lines = [...document.querySelectorAll('.annotated .line-text')];\
         if (!lines.length) return false;\
         const shown = lines.map(l => l.textContent).join('').replace(/\\s+/g, '');\
         return shown === {};",
        serde_json::to_string(&squashed).expect("string")
    )
}
