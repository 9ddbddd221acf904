//! Raw text into the real extractor (the committed CoNLL04 bundle), as `mge extract`, the
//! browser demo and the server take it. Checks the result schema's promises.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mge::extract::Extractor;

/// Longer inputs only cost time: the text is cut into sentences and windows anyway.
const MAX_BYTES: usize = 2_000;

fn extractor() -> &'static Extractor {
    static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/conll04.safetensors");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        Extractor::from_bundle(&bytes).expect("the committed bundle loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let ex = extractor();
    if data.len() > MAX_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let out = ex
        .extract(text)
        .expect("extraction of valid UTF-8 does not fail");
    assert_eq!(out.text, text);
    let chars: Vec<char> = text.chars().collect();
    let mut previous: Option<(usize, usize, &str)> = None;
    for (k, e) in out.entities.iter().enumerate() {
        assert!(
            e.start < e.end && e.end <= chars.len(),
            "entity {}..{}",
            e.start,
            e.end
        );
        let span: String = chars[e.start..e.end].iter().collect();
        assert_eq!(e.text, span, "entity text is not the text at its offsets");
        assert!(!span.trim().is_empty(), "whitespace-only entity");
        assert!(
            ex.entity_types().contains(&e.label),
            "unknown type {:?}",
            e.label
        );
        assert!(
            e.score.is_finite() && (0.0..=1.0).contains(&e.score),
            "score {}",
            e.score
        );
        let key = (e.start, e.end, e.label.as_str());
        if let Some(p) = previous {
            assert!(
                p < key,
                "entities not sorted or duplicated: {p:?} then {key:?}"
            );
            if ex.flat_entities {
                assert!(p.1 <= e.start, "overlapping entities in a flat model");
            }
            if ex.flat_per_type {
                let same = out.entities[..k]
                    .iter()
                    .any(|q| q.label == e.label && q.end > e.start);
                assert!(
                    !same,
                    "overlapping entities of one type in a per-type flat model"
                );
            }
        }
        previous = Some(key);
    }
    let mut seen = std::collections::HashSet::new();
    for r in &out.relations {
        assert!(r.head < out.entities.len() && r.tail < out.entities.len());
        assert_ne!(r.head, r.tail, "a relation of an entity with itself");
        assert!(
            seen.insert((r.head, r.tail, &r.label)),
            "duplicate relation"
        );
        assert!(
            ex.relation_types().contains(&r.label),
            "unknown type {:?}",
            r.label
        );
        assert!(
            r.score.is_finite() && (0.0..=1.0).contains(&r.score),
            "score {}",
            r.score
        );
    }
});
