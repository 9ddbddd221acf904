//! The built page (`dist/`): files as they are, with headers that let the page and its
//! worker run and nothing else.

use std::path::{Path, PathBuf};

use axum::http::{header, HeaderValue, Response};
use axum::Router;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::ServeError;

/// The Content-Security-Policy of the page: its own scripts and the inline scripts of
/// `index.html` by hash, WebAssembly compilation (`'wasm-unsafe-eval'`), workers, fetches
/// and images from this origin only. Style attributes are inline (the annotated text sets
/// colours per mention), so styles allow `'unsafe-inline'`; no other origin is allowed
/// anything.
pub fn content_security_policy(index_html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(index_html)
        .into_iter()
        .map(|s| {
            let digest = Sha256::digest(s.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}{}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        if hashes.is_empty() { "" } else { " " },
        hashes.join(" ")
    )
}

/// The bodies of `<script>` elements without a `src`, as the browser hashes them.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script") else {
            break;
        };
        if !tag.contains("src=") {
            out.push(&body_start[..close]);
        }
        rest = &body_start[close..];
    }
    out
}

/// Routes for the files of `dist`: `ServeDir` (no listing, no path outside it; precompressed
/// `.gz` files next to the originals are sent to clients that accept gzip), with the
/// page's security policy and `Cache-Control: no-cache` (file names carry no hash, so the
/// browser and the service worker revalidate; unchanged files answer `304`).
pub fn routes(dist: &Path) -> Result<Router, ServeError> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|_| ServeError::NoPage(dist.into()))?;
    let csp = HeaderValue::from_str(&content_security_policy(&html))
        .map_err(|_| ServeError::NoPage(dist.into()))?;
    let files = ServeDir::new(dist)
        .precompressed_gzip()
        .append_index_html_on_directories(true);
    Ok(Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        // Some files go gzipped to some clients (precompressed or compressed on the fly).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
        .layer(axum::middleware::map_response(not_found_as_json)))
}

/// A missing file answers the API's JSON error, not an empty body.
async fn not_found_as_json<B>(response: Response<B>) -> axum::response::Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    if response.status() == axum::http::StatusCode::NOT_FOUND {
        use axum::response::IntoResponse;
        return crate::api::ApiError::not_found("no such file").into_response();
    }
    response.map(axum::body::Body::new)
}

/// Whether `dist` looks like a built page.
pub fn is_built(dist: &Path) -> bool {
    dist.join("index.html").is_file()
}

/// `./dist` when the server runs from a checkout with a built page.
pub fn default_dist() -> Option<PathBuf> {
    let here = PathBuf::from("dist");
    is_built(&here).then_some(here)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_others_are_not() {
        let html = r#"<head><script src="a.js"></script><script type="module">
go();
</script></head><body><script>x()</script></body>"#;
        assert_eq!(inline_scripts(html), vec!["\ngo();\n", "x()"]);
        let csp = content_security_policy(html);
        assert!(csp.contains("'sha256-"), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 2);
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn the_hash_is_the_browsers() {
        // The CSP hash of the body `x()`, as Chromium reports it in a violation.
        let csp = content_security_policy("<script>x()</script>");
        let digest = Sha256::digest(b"x()");
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(csp.contains(&format!("'sha256-{b64}'")));
    }
}
