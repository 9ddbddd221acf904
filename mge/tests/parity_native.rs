//! The native build against the recorded parity results (the browser test checks the wasm
//! build against the same file). `MGE_WRITE_PARITY=1` records them anew, after a deliberate
//! change of the model or the bundle. Both compute in f32, the reference arithmetic (int8
//! against f32: `default_bundle.rs`).

mod parity;

use mge::engine::Precision;
use mge::extract::Extractor;

#[test]
fn native_build_matches_the_recorded_results() {
    let ex = Extractor::from_bundle_with(parity::BUNDLE, Precision::F32).unwrap();
    let got: Vec<parity::Record> = parity::sentences()
        .into_iter()
        .map(|s| parity::compute(&ex, s))
        .collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/parity_expected.json"
    );
    if std::env::var_os("MGE_WRITE_PARITY").is_some() {
        std::fs::write(path, serde_json::to_string(&got).unwrap()).unwrap();
        return;
    }
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (record it with MGE_WRITE_PARITY=1)"));
    let want: Vec<parity::Record> = serde_json::from_str(&text).unwrap();
    assert_eq!(got.len(), want.len());
    let with_relations = want
        .iter()
        .filter(|r| !r.extraction.relations.is_empty())
        .count();
    assert!(
        with_relations >= 10,
        "the sentences should exercise relations"
    );
    for (g, w) in got.iter().zip(&want) {
        parity::compare(g, w).unwrap();
    }
}
