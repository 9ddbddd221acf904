//! The WebAssembly build (SIMD128, as the browser demo runs it) in headless Chromium against
//! the results the native build recorded (`mge/tests/parity_native.rs`): same entities and
//! relations, probabilities within 1e-4. Run: `CHROMEDRIVER=$(command -v chromedriver)
//! cargo test -p mge-web --release --target wasm32-unknown-unknown --test parity_wasm`.
//!
//! It lives in the web crate so that it builds the model crate with the demo's features:
//! `trunk build` then reuses the compiled dependencies instead of building candle again.
#![cfg(target_arch = "wasm32")]

#[path = "../../mge/tests/parity/mod.rs"]
mod parity;

use mge::extract::Extractor;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const EXPECTED: &str = include_str!("../../mge/tests/fixtures/parity_expected.json");

#[wasm_bindgen_test]
fn wasm_build_matches_the_native_results() {
    let ex = Extractor::from_bundle(parity::BUNDLE).expect("bundle");
    let want: Vec<parity::Record> = serde_json::from_str(EXPECTED).expect("fixture");
    let sentences = parity::sentences();
    assert_eq!(sentences.len(), want.len());
    for (s, w) in sentences.into_iter().zip(&want) {
        let got = parity::compute(&ex, s);
        if let Err(e) = parity::compare(&got, w) {
            panic!("{e}");
        }
    }
}
