//! End-to-end extraction from raw text with a committed bundle (`models/conll04.safetensors`):
//! bundle load time, one ~30-word sentence, and the CoNLL04 test sentences in batches of 1
//! and 32 (throughput = 288 sentences / time per iteration).
//!
//! Run: `cargo bench -p mge --bench extract` (needs the bundle and `../shared/data`).

use std::path::PathBuf;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion};
use mge::extract::Extractor;

fn benches(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bundle = root.join("models/conll04.safetensors");
    let test = root.join("../shared/data/conll04/test.json");
    let (Ok(bytes), Ok(sentences)) = (std::fs::read(&bundle), mge::data::load_dataset(&test))
    else {
        eprintln!(
            "skipping: needs {} and {}",
            bundle.display(),
            test.display()
        );
        return;
    };
    let texts: Vec<String> = sentences.iter().map(|s| s.tokens.join(" ")).collect();
    let one =
        "Maria Gonzalez, who has worked for the United Nations in Geneva since 2004, met the \
               mayor of Boston, Thomas Menino, on Tuesday to discuss a new office near the harbor.";
    eprintln!(
        "one sentence: {} words; {} test sentences",
        one.split_whitespace().count(),
        texts.len()
    );

    let mut g = c.benchmark_group("extract");
    g.sample_size(10);
    g.bench_function("load_q8_bundle", |b| {
        b.iter(|| Extractor::from_bundle(&bytes, Device::Cpu).unwrap())
    });
    let mut ex = Extractor::from_bundle(&bytes, Device::Cpu).unwrap();
    g.bench_function("one_30_word_sentence", |b| {
        b.iter(|| ex.extract(one).unwrap())
    });
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for batch in [1usize, 32] {
        ex.batch_size = batch;
        g.bench_function(format!("conll04_test_288_sentences_batch{batch}"), |b| {
            b.iter(|| {
                for chunk in refs.chunks(batch) {
                    ex.extract_many(chunk).unwrap();
                }
            })
        });
    }
    g.finish();
}

criterion_group!(extract, benches);
criterion_main!(extract);
