//! The page of the browser demo (built by trunk from the repository root's `index.html`).

#[cfg(target_arch = "wasm32")]
fn main() {
    mge_web::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "mge-web is a browser page: build it with `trunk build --release` (see web/README.md)."
    );
}
