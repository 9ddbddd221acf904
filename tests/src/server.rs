//! A small static file server for the built demo: std `TcpListener`, one thread per
//! connection, `Connection: close`. Enough for a browser on 127.0.0.1 and nothing more.
//!
//! Besides files it can answer chosen paths with given bytes (to serve a damaged model) and
//! it records every path it was asked for. [`StaticServer::stop`] closes the listening socket,
//! so later requests are refused as they would be without a network.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server answers for: directories mounted under URL prefixes, and overrides.
#[derive(Default, Clone)]
pub struct ServerConfig {
    /// `(url prefix, directory)`; the longest matching prefix wins. A prefix starts and ends
    /// with `/` (`"/"` for the root).
    pub mounts: Vec<(String, PathBuf)>,
}

impl ServerConfig {
    pub fn root(dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            mounts: vec![("/".into(), dir.into())],
        }
    }

    pub fn mount(mut self, prefix: &str, dir: impl Into<PathBuf>) -> Self {
        self.mounts.push((prefix.into(), dir.into()));
        self
    }
}

struct Shared {
    config: ServerConfig,
    /// URL path → body served instead of the file (same MIME type as the file would get).
    overrides: Mutex<HashMap<String, Vec<u8>>>,
    /// Every request path, in order.
    log: Mutex<Vec<String>>,
    stopping: AtomicBool,
}

pub struct StaticServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Listens on 127.0.0.1 on a port the system picks.
    pub fn start(config: ServerConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            overrides: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("static-server".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let s = s.clone();
                    let _ = std::thread::Builder::new()
                        .name("static-conn".into())
                        .spawn(move || {
                            let _ = handle(&s, stream);
                        });
                }
                // The listener is dropped here: the port refuses connections from now on.
            })?;
        Ok(StaticServer {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves `body` for `path` (e.g. `/models/conll04.safetensors`) instead of the file.
    pub fn set_override(&self, path: &str, body: Vec<u8>) {
        lock(&self.shared.overrides).insert(path.to_string(), body);
    }

    pub fn clear_override(&self, path: &str) {
        lock(&self.shared.overrides).remove(path);
    }

    /// How many requests asked for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        lock(&self.shared.log).iter().filter(|p| *p == path).count()
    }

    /// Closes the listening socket and waits for the accept thread to end.
    pub fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn mime_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file for a URL path, or `None` when it escapes the mount or does not exist.
fn resolve(config: &ServerConfig, url_path: &str) -> Option<PathBuf> {
    let (prefix, dir) = config
        .mounts
        .iter()
        .filter(|(p, _)| url_path.starts_with(p.as_str()))
        .max_by_key(|(p, _)| p.len())?;
    let rest = &url_path[prefix.len()..];
    let mut path = dir.clone();
    for c in Path::new(rest).components() {
        match c {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    path.is_file().then_some(path)
}

fn handle(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    // Skip the headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut out = stream;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let raw_path = target.split(['?', '#']).next().unwrap_or("/");
    let Some(path) = percent_decode(raw_path) else {
        return respond(&mut out, "400 Bad Request", "text/plain", b"bad path", true);
    };
    lock(&shared.log).push(path.clone());
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut out,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only",
            true,
        );
    }
    let head_only = method == "HEAD";
    let file = resolve(&shared.config, &path);
    let overridden = lock(&shared.overrides).get(&path).cloned();
    if let Some(body) = overridden {
        let mime = mime_type(Path::new(&path));
        return respond(&mut out, "200 OK", mime, &body, !head_only);
    }
    let Some(file) = file else {
        return respond(
            &mut out,
            "404 Not Found",
            "text/plain",
            b"not found",
            !head_only,
        );
    };
    let mut f = std::fs::File::open(&file)?;
    let len = f.metadata()?.len();
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {len}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        mime_type(&file)
    )?;
    if !head_only {
        std::io::copy(&mut f, &mut out)?;
    }
    out.flush()?;
    let _ = out.shutdown(Shutdown::Write);
    Ok(())
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    mime: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        out.write_all(body)?;
    }
    out.flush()?;
    let _ = out.shutdown(Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(url_base: &str, path: &str) -> (String, Vec<u8>) {
        let addr = url_base.trim_start_matches("http://").trim_end_matches('/');
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&buf[..split]).into_owned(),
            buf[split + 4..].to_vec(),
        )
    }

    #[test]
    fn serves_files_types_overrides_and_stops() {
        let dir = std::env::temp_dir().join(format!("mge-e2e-srv-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.join("sub/a.wasm"), [0u8, 97, 115, 109]).unwrap();
        let mut srv = StaticServer::start(ServerConfig::root(&dir)).unwrap();
        let base = srv.url();

        let (h, b) = get(&base, "/?text=x");
        assert!(h.starts_with("HTTP/1.1 200"), "{h}");
        assert!(h.contains("text/html"));
        assert_eq!(b, b"<p>hi</p>");
        let (h, b) = get(&base, "/sub/a.wasm");
        assert!(h.contains("Content-Type: application/wasm"), "{h}");
        assert_eq!(b.len(), 4);
        assert!(get(&base, "/missing.js").0.starts_with("HTTP/1.1 404"));
        assert!(get(&base, "/../etc/passwd").0.starts_with("HTTP/1.1 404"));

        srv.set_override("/sub/a.wasm", b"junk".to_vec());
        assert_eq!(get(&base, "/sub/a.wasm").1, b"junk");
        srv.clear_override("/sub/a.wasm");
        assert_eq!(get(&base, "/sub/a.wasm").1.len(), 4);
        assert_eq!(srv.hits("/sub/a.wasm"), 3);

        srv.stop();
        let addr = base.trim_start_matches("http://").trim_end_matches('/');
        assert!(
            TcpStream::connect(addr).is_err(),
            "still listening after stop"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
