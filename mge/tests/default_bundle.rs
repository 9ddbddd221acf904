//! The committed CoNLL04 bundle through the inference engine: the same probabilities as the
//! candle model it was packed from, and the expected triples on a plain news sentence.

use std::path::PathBuf;

use candle_core::Device;
use mge::bundle::read_bundle;
use mge::engine::Engine;
use mge::extract::Extractor;
use mge::model::MgeModel;
use mge::testing::{max_abs_diff, reference_probabilities};
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
        let (ner, re) = reference_probabilities(&model, &ids).unwrap();
        let got = engine.forward(&ids, false, None).unwrap();
        for (what, a, b) in [("entity", &got.ner, &ner), ("relation", &got.re, &re)] {
            let worst = max_abs_diff(a, b);
            assert!(worst < 1e-4, "{text}: {what} probabilities differ by {worst}");
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
