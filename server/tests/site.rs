//! The page's files: MIME types, security and cache headers, no way out of the folder,
//! precompressed files.

mod common;

use common::{request, TestServer};
use mge_server::Limits;

fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("index.html"),
        "<!doctype html><html><head><script type=\"module\">import init from './a.js';</script>\
         <script src=\"./b.js\"></script></head><body><script>check()</script></body></html>",
    )
    .unwrap();
    std::fs::write(
        p.join("a.js"),
        "export default function init() {}\n".repeat(100),
    )
    .unwrap();
    std::fs::write(p.join("m_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(p.join("m_bg.wasm.gz"), b"gzipped-bytes").unwrap();
    std::fs::create_dir(p.join("models")).unwrap();
    std::fs::write(p.join("models/x.safetensors"), vec![7u8; 4096]).unwrap();
    std::fs::create_dir(p.join("empty")).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_with_its_headers() {
    let dir = dist();
    let server = TestServer::start(Limits::default(), Some(dir.path())).await;
    let r = server.get("/").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let csp = r.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert_eq!(
        csp.matches("'sha256-").count(),
        2,
        "both inline scripts: {csp}"
    );
    assert!(csp.contains("default-src 'self'"));
    assert!(!csp.contains("unsafe-eval'") || csp.contains("wasm-unsafe-eval"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert!(r.header("last-modified").is_some());

    let r = server.get("/m_bg.wasm").await;
    assert_eq!(r.header("content-type"), Some("application/wasm"));
    assert_eq!(r.body, b"\0asm\x01\0\0\0");
    let r = request(
        server.addr,
        "GET",
        "/m_bg.wasm",
        &[("Accept-Encoding", "gzip")],
        b"",
    )
    .await;
    assert_eq!(
        r.header("content-encoding"),
        Some("gzip"),
        "the .gz next to it"
    );
    assert_eq!(r.body, b"gzipped-bytes");

    // Text is compressed on the fly; bundles are not (their length drives the progress bar).
    let r = request(
        server.addr,
        "GET",
        "/a.js",
        &[("Accept-Encoding", "gzip")],
        b"",
    )
    .await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let r = request(
        server.addr,
        "GET",
        "/models/x.safetensors",
        &[("Accept-Encoding", "gzip")],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("content-length"), Some("4096"));

    // The API lives beside the page.
    assert_eq!(server.get("/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_folder_and_no_listings() {
    let dir = dist();
    std::fs::write(dir.path().join("../mge-secret.txt"), "secret").ok();
    let server = TestServer::start(Limits::default(), Some(dir.path())).await;
    for path in [
        "/../mge-secret.txt",
        "/%2e%2e/mge-secret.txt",
        "/models/..%2f..%2fmge-secret.txt",
        "/..%5cmge-secret.txt",
        "/empty/",
        "/missing.js",
        "/models/",
    ] {
        let r = server.get(path).await;
        assert!(
            r.status == 404 || r.status == 400,
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(!r.text().contains("secret"), "{path}");
    }
    let r = server.get("/missing.js").await;
    assert_eq!(r.error_code(), "not_found");
}
