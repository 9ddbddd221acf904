//! Dataset text (SpERT JSON and DyGIE++ JSONL, as `mge train`/`mge eval` read them) through
//! parsing, validation and everything that consumes the sentences afterwards: truncation,
//! joining, label schemas, tokenization into table cells (the committed bundle's tokenizer)
//! and evaluation. Whatever parses and validates must never panic downstream.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mge::data::{self, LabelSchema, Sentence};
use mge::metrics::{Evaluator, SentencePrediction};
use mge::table::{ScoredCell, TableDecoding};
use mge::tokenize::SubwordTokenizer;

fn tokenizer() -> &'static SubwordTokenizer {
    static TOKENIZER: OnceLock<SubwordTokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/conll04.safetensors");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let info = mge::bundle::read_info(&bytes).expect("the committed bundle's metadata");
        SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes()).expect("its tokenizer")
    })
}

fuzz_target!(|data: &[u8]| {
    let tok = tokenizer();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [
        data::parse_spert(text, "fuzz"),
        data::parse_dygie(text, "fuzz"),
    ] {
        if let Ok(sentences) = parsed {
            consume(&sentences, tok);
        }
    }
});

fn consume(sentences: &[Sentence], tok: &SubwordTokenizer) {
    data::validate(sentences, "fuzz", None).expect("parsed sentences validate");
    let schema = LabelSchema::from_sentences([sentences]);
    data::validate(sentences, "fuzz", Some(&schema)).expect("their own schema knows every type");
    assert_eq!(
        schema.nested_entities,
        Some(sentences.iter().any(data::has_overlapping_entities))
    );
    let words = |s: &[Sentence]| s.iter().map(|x| x.tokens.len()).sum::<usize>();
    let entities = |s: &[Sentence]| s.iter().map(|x| x.entities.len()).sum::<usize>();
    for seed in [0, 1] {
        let joined = data::join_neighbours(sentences, 0.5, 0.0, seed);
        data::validate(&joined, "fuzz", Some(&schema)).expect("joined sentences validate");
        assert_eq!(words(&joined), words(sentences));
        // Run on: only full stops go, every mention and relation stays.
        let run_on = data::join_neighbours(sentences, 0.5, 1.0, seed);
        data::validate(&run_on, "fuzz", Some(&schema)).expect("run-on sentences validate");
        assert!(words(&run_on) <= words(sentences));
        assert_eq!(entities(&run_on), entities(sentences));
    }
    let mut evaluator = Evaluator::new(&schema);
    for s in sentences {
        for max_words in [1, s.tokens.len() / 2 + 1, s.tokens.len()] {
            let cut = data::truncate(s, max_words);
            assert_eq!(cut.tokens.len(), s.tokens.len().min(max_words));
            data::validate(std::slice::from_ref(&cut), "fuzz", Some(&schema))
                .expect("a truncated sentence validates");
        }
        let gold = SentencePrediction::gold(s, &schema);
        evaluator.add(&gold, &gold);
    }
    let report = evaluator.report();
    for prf in [&report.ner, &report.re_strict, &report.re_pfn] {
        assert!(prf.f1.is_finite() && prf.tp == prf.gold && prf.tp == prf.pred);
    }

    // Word spans into sub-token cells and back, as training and evaluation do.
    for max_len in [16, 512] {
        let examples = mge::align::examples(sentences, &schema, tok, 128, max_len)
            .expect("tokenizing valid sentences does not fail");
        for ex in examples {
            let n = ex.pieces.ids.len();
            assert!(n <= max_len.max(2), "{n} sub-tokens for max_len {max_len}");
            assert_eq!(ex.pieces.token_word.len(), n);
            for c in ex.ner.iter().chain(&ex.re) {
                assert!(c.i < n && c.j < n);
            }
            let decoded = TableDecoding {
                entities: ex.ner.iter().map(|c| cell(c.i, c.j, c.label)).collect(),
                relations: ex.re.iter().map(|c| cell(c.i, c.j, c.label)).collect(),
            };
            let back = mge::align::to_words(&decoded, &ex.pieces);
            let mut gold = SentencePrediction::gold(&ex.sentence, &schema);
            gold.entities.sort();
            gold.entities.dedup();
            gold.cells.sort();
            gold.cells.dedup();
            assert_eq!(
                back.entities, gold.entities,
                "entities do not survive the table"
            );
            assert_eq!(
                back.cells, gold.cells,
                "relation cells do not survive the table"
            );
        }
    }
}

fn cell(i: usize, j: usize, label: usize) -> ScoredCell {
    ScoredCell {
        i,
        j,
        label,
        score: 1.0,
    }
}
