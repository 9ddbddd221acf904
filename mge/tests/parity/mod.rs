//! Shared by the native and the wasm parity tests: the committed CoNLL04 bundle on 20 fixed
//! sentences (`fixtures/parity_sentences.txt`), compared with the results the native build
//! recorded in `fixtures/parity_expected.json`.

use mge::extract::{Extraction, Extractor};
use serde::{Deserialize, Serialize};

pub const SENTENCES: &str = include_str!("../fixtures/parity_sentences.txt");
pub const BUNDLE: &[u8] = include_bytes!("../../../models/conll04.safetensors");

/// Every `STRIDE`-th probability of each table is recorded (all of them would be megabytes).
const STRIDE: usize = 13;
/// Largest difference allowed between two builds' probabilities.
pub const TOLERANCE: f32 = 1e-4;

#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    pub extraction: Extraction,
    pub ner_samples: Vec<f32>,
    pub re_samples: Vec<f32>,
}

pub fn sentences() -> Vec<&'static str> {
    SENTENCES.lines().filter(|l| !l.trim().is_empty()).collect()
}

pub fn compute(ex: &Extractor, text: &str) -> Record {
    let a = ex.analyze(text, &|| 0.0).expect("analysis");
    let sample = |v: &[f32]| v.iter().step_by(STRIDE).copied().collect::<Vec<f32>>();
    Record {
        ner_samples: a.sentences.iter().flat_map(|s| sample(&s.ner)).collect(),
        re_samples: a.sentences.iter().flat_map(|s| sample(&s.re)).collect(),
        extraction: a.extraction,
    }
}

/// Same entities and relations (spans, types, ends), probabilities within [`TOLERANCE`].
pub fn compare(got: &Record, want: &Record) -> Result<(), String> {
    let (g, w) = (&got.extraction, &want.extraction);
    let text = &w.text;
    let ents = |x: &Extraction| {
        x.entities
            .iter()
            .map(|e| (e.start, e.end, e.label.clone()))
            .collect::<Vec<_>>()
    };
    if ents(g) != ents(w) {
        return Err(format!("{text}: entities {:?} vs {:?}", ents(g), ents(w)));
    }
    let rels = |x: &Extraction| {
        x.relations
            .iter()
            .map(|r| (r.head, r.tail, r.label.clone()))
            .collect::<Vec<_>>()
    };
    if rels(g) != rels(w) {
        return Err(format!("{text}: relations {:?} vs {:?}", rels(g), rels(w)));
    }
    let scores = |x: &Extraction| {
        x.entities
            .iter()
            .map(|e| e.score)
            .chain(x.relations.iter().map(|r| r.score))
            .collect::<Vec<f32>>()
    };
    for (what, a, b) in [
        ("scores", scores(g), scores(w)),
        (
            "entity table",
            got.ner_samples.clone(),
            want.ner_samples.clone(),
        ),
        (
            "relation table",
            got.re_samples.clone(),
            want.re_samples.clone(),
        ),
    ] {
        if a.len() != b.len() {
            return Err(format!("{text}: {what}: {} vs {} values", a.len(), b.len()));
        }
        let worst = mge::testing::max_abs_diff(&a, &b);
        if worst > TOLERANCE {
            return Err(format!("{text}: {what} differ by up to {worst}"));
        }
    }
    Ok(())
}
