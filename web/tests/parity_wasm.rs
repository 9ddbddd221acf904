//! The WebAssembly build (SIMD128, as the browser demo runs it) in headless Chromium against
//! the results the native build recorded (`mge/tests/parity_native.rs`): in f32 the same
//! entities and relations, probabilities within 1e-4; in int8 (what the page computes in)
//! close to them. Run: `CHROMEDRIVER=$(command -v chromedriver)
//! cargo test -p mge-web --release --target wasm32-unknown-unknown --test parity_wasm`.
//!
//! It lives in the web crate so that it builds the model crate with the demo's features:
//! `trunk build` then reuses the compiled dependencies instead of building candle again.
#![cfg(target_arch = "wasm32")]

#[path = "../../mge/tests/parity/mod.rs"]
mod parity;

use mge::engine::Precision;
use mge::extract::Extractor;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const EXPECTED: &str = include_str!("../../mge/tests/fixtures/parity_expected.json");

#[wasm_bindgen_test]
fn wasm_build_matches_the_native_results() {
    // f32, the fixture's arithmetic (the page itself computes in int8: the test below).
    let ex = Extractor::from_bundle_with(parity::BUNDLE, Precision::F32).expect("bundle");
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

/// The int8 kernel of wasm32 (`i32x4.dot_i16x8_s`) gives what the integer loops give on the
/// same bytes, as the native test asks of the x86-64 kernels.
#[wasm_bindgen_test]
fn wasm_int8_kernel_matches_the_integer_loops() {
    let checked = mge::engine::qgemm::check_kernels().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked, ["Simd128"]);
}

/// The int8 kernel of wasm32 on awkward shapes: within a few quantization steps of the
/// exact product, as the native test asks of the x86-64 kernels.
#[wasm_bindgen_test]
fn wasm_int8_kernel_is_close_to_the_exact_product() {
    use mge::engine::qgemm::QuantLinear;
    let mut rng = mge::init::Rng::new(3);
    for (rows, input, output) in [
        (1, 1, 1),
        (3, 5, 7),
        (9, 33, 31),
        (17, 96, 40),
        (38, 384, 100),
    ] {
        let x: Vec<f32> = (0..rows * input).map(|_| rng.normal()).collect();
        let w: Vec<f32> = (0..input * output).map(|_| rng.normal()).collect();
        let got = QuantLinear::new(&w, None, input, output).forward(&x, rows);
        let zero = vec![0f32; output];
        let want = mge::testing::exact_linear(&x, &w, &zero, rows, input, output);
        let tol = 0.06 * (input as f32).sqrt() + 1e-4;
        for (g, e) in got.iter().zip(&want) {
            assert!((g - e).abs() < tol, "{rows}x{input}x{output}: {g} vs {e}");
        }
    }
}

/// The whole extraction in int8 in the browser against the recorded f32 results: what is
/// found differs only near the threshold, and scores move little (as natively,
/// `mge/tests/default_bundle.rs`: by 0.09 at most).
#[wasm_bindgen_test]
fn wasm_int8_extraction_keeps_the_f32_results() {
    let ex = Extractor::from_bundle_with(parity::BUNDLE, Precision::Int8).expect("bundle");
    let want: Vec<parity::Record> = serde_json::from_str(EXPECTED).expect("fixture");
    let threshold = ex.threshold;
    let mut same = 0;
    for (s, w) in parity::sentences().into_iter().zip(&want) {
        let got = parity::compute(&ex, s);
        let (g, w) = (&got.extraction, &w.extraction);
        for e in &w.entities {
            match g
                .entities
                .iter()
                .find(|x| (x.start, x.end, &x.label) == (e.start, e.end, &e.label))
            {
                Some(x) => {
                    assert!(
                        (x.score - e.score).abs() < 0.12,
                        "{}: {e:?} vs {x:?}",
                        w.text
                    );
                    same += 1;
                }
                None => assert!((e.score - threshold).abs() < 0.1, "{}: lost {e:?}", w.text),
            }
        }
        for x in &g.entities {
            if !w
                .entities
                .iter()
                .any(|e| (x.start, x.end, &x.label) == (e.start, e.end, &e.label))
            {
                assert!((x.score - threshold).abs() < 0.1, "{}: added {x:?}", w.text);
            }
        }
    }
    assert!(same >= 20, "only {same} entities in common");
}
