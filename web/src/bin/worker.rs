//! The Web Worker of the browser demo: owns the model and runs every extraction.

#[cfg(target_arch = "wasm32")]
fn main() {
    mge_web::worker::run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("mge-worker runs inside the browser demo (see web/README.md).");
}
