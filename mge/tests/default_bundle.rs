//! The committed CoNLL04 bundle through the inference engine: the same probabilities as the
//! candle model it was packed from, and the expected triples on a plain news sentence.

use std::path::PathBuf;

use candle_core::Device;
use mge::bundle::read_bundle;
use mge::engine::Engine;
use mge::extract::Extractor;
use mge::model::{Batch, MgeModel};
use mge::tokenize::SubwordTokenizer;

fn bundle() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/conll04.safetensors");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn engine_matches_the_candle_model_on_the_committed_bundle() {
    let (info, tensors) = read_bundle(&bundle(), &Device::Cpu).unwrap();
    let model = MgeModel::load(&tensors, &info.config).unwrap();
    let engine = Engine::new(&model).unwrap();
    let tok = SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes()).unwrap();
    for text in [
        "Maria Gonzalez works for the United Nations in Geneva.",
        "In 1865, John Wilkes Booth shot President Abraham Lincoln at Ford's Theatre in Washington.",
        "Rome is the capital of Italy.",
    ] {
        let ids = tok.encode_text(text, 512).unwrap().ids;
        let batch = Batch::new(&[&ids], tok.pad_id(), &Device::Cpu).unwrap();
        let out = model.forward(&batch, None).unwrap();
        let got = engine.forward(&ids, false, None).unwrap();
        let t = ids.len();
        for (logits, probs, upper) in [(&out.ner_logits, &got.ner, true), (&out.re_logits, &got.re, false)] {
            let k = logits.dims()[3];
            let want: Vec<f32> = candle_nn::ops::sigmoid(logits)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let n = t - 2;
            for i in 0..n {
                for j in if upper { i } else { 0 }..n {
                    for l in 0..k {
                        let a = probs[(i * n + j) * k + l];
                        let b = want[((i + 1) * t + j + 1) * k + l];
                        assert!((a - b).abs() < 1e-4, "{text}: cell ({i},{j},{l}) {a} vs {b}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_news_model_finds_people_organizations_places_and_who_works_where() {
    let ex = Extractor::from_bundle(&bundle()).unwrap();
    let r = ex
        .extract("Maria Gonzalez works for the United Nations in Geneva.")
        .unwrap();
    let found: Vec<(&str, &str)> = r
        .entities
        .iter()
        .map(|e| (e.text.as_str(), e.label.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("Maria Gonzalez", "Peop"),
            ("United Nations", "Org"),
            ("Geneva", "Loc")
        ]
    );
    assert!(r
        .relations
        .iter()
        .any(|rel| (rel.head, rel.tail, rel.label.as_str()) == (0, 1, "Work_For")));
}
