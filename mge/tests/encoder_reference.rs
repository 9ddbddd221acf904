//! Our BERT encoder against an independent NumPy implementation (scripts/bert_reference.py)
//! on the real all-MiniLM-L6-v2 weights. Needs `scripts/fetch-encoder.sh`; skipped without the
//! encoder unless MGE_REQUIRE_ENCODER is set (CI sets it).

use std::path::PathBuf;

use candle_core::Device;
use mge::bert::Bert;
use mge::tokenize::SubwordTokenizer;
use mge::weights::{encoder_tensors, load_safetensors, Weights};
use mge::{Batch, BertConfig};

#[derive(serde::Deserialize)]
struct Reference {
    sentence: String,
    ids: Vec<u32>,
    hidden: Vec<Vec<f32>>,
}

fn encoder_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../encoders/all-MiniLM-L6-v2");
    if dir.join("model.safetensors").exists() {
        Some(dir)
    } else if std::env::var_os("MGE_REQUIRE_ENCODER").is_some() {
        panic!("{} is missing: run scripts/fetch-encoder.sh", dir.display());
    } else {
        eprintln!(
            "skipping: no encoder at {} (scripts/fetch-encoder.sh)",
            dir.display()
        );
        None
    }
}

#[test]
fn minilm_matches_the_numpy_reference() {
    let Some(dir) = encoder_dir() else { return };
    let reference: Reference =
        serde_json::from_str(include_str!("fixtures/minilm_reference.json")).expect("fixture");
    let tokenizer =
        SubwordTokenizer::from_bytes(&std::fs::read(dir.join("tokenizer.json")).unwrap()).unwrap();
    let pieces = tokenizer.encode_text(&reference.sentence, 512).unwrap();
    assert_eq!(pieces.ids, reference.ids, "tokenization differs");

    let cfg =
        BertConfig::from_json(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let raw = load_safetensors(
        &std::fs::read(dir.join("model.safetensors")).unwrap(),
        &Device::Cpu,
    )
    .unwrap();
    let map = encoder_tensors(raw);
    let bert = Bert::load(&Weights::new(&map).pp("bert"), &cfg).unwrap();

    // Alone, and padded in a batch next to a longer sequence: both must match.
    let longer: Vec<u32> = reference
        .ids
        .iter()
        .chain(reference.ids[1..].iter())
        .copied()
        .collect();
    for (seqs, item) in [
        (vec![reference.ids.as_slice()], 0),
        (vec![longer.as_slice(), reference.ids.as_slice()], 1),
    ] {
        let batch = Batch::new(&seqs, 0, &Device::Cpu).unwrap();
        let h = bert
            .forward(&batch.input_ids, &batch.attention_mask)
            .unwrap();
        let ours: Vec<Vec<f32>> = h
            .get(item)
            .unwrap()
            .narrow(0, 0, reference.ids.len())
            .unwrap()
            .to_vec2()
            .unwrap();
        let worst = ours
            .iter()
            .zip(&reference.hidden)
            .map(|(a, b)| mge::testing::max_abs_diff(a, b))
            .fold(0f32, f32::max);
        assert!(
            worst < 2e-3,
            "largest difference from the reference: {worst}"
        );
    }
}
