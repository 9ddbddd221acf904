//! End-to-end extraction from raw text with a committed bundle (`models/conll04.safetensors`):
//! bundle load time, one ~30-word sentence (through the inference engine, and through the
//! candle training model for comparison), and the CoNLL04 test sentences handed over one at
//! a time and 32 at a time (throughput = 288 sentences / time per iteration).
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p mge --bench extract` (needs the bundle and
//! `../shared/data`). `MGE_BENCH_F32=path/to/f32-bundle` adds the load time of an f32 export.

use std::path::PathBuf;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion};
use mge::bundle::read_bundle;
use mge::extract::{monotonic_ms, Extractor};
use mge::model::{Batch, MgeModel};
use mge::tokenize::SubwordTokenizer;

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
    let mut ex = Extractor::from_bundle(&bytes).unwrap();
    let (_, t) = ex.extract_many_timed(&[one], &monotonic_ms).unwrap();
    eprintln!(
        "one sentence: {} words; {} test sentences; rayon threads: {}; stages of one run: {t:?}",
        one.split_whitespace().count(),
        texts.len(),
        rayon::current_num_threads()
    );

    let mut g = c.benchmark_group("extract");
    g.sample_size(10);
    g.bench_function("load_q8_bundle", |b| {
        b.iter(|| Extractor::from_bundle(&bytes).unwrap())
    });
    if let Some(path) = std::env::var_os("MGE_BENCH_F32") {
        let f32_bytes = std::fs::read(path).unwrap();
        g.bench_function("load_f32_bundle", |b| {
            b.iter(|| Extractor::from_bundle(&f32_bytes).unwrap())
        });
    }
    g.bench_function("one_30_word_sentence", |b| {
        b.iter(|| ex.extract(one).unwrap())
    });
    // The same sentence through the candle model (the training code path): forward only.
    let (info, tensors) = read_bundle(&bytes, &Device::Cpu).unwrap();
    let model = MgeModel::load(&tensors, &info.config).unwrap();
    let tok = SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes()).unwrap();
    let ids = tok.encode_text(one, 512).unwrap().ids;
    let batch = Batch::new(&[&ids], tok.pad_id(), &Device::Cpu).unwrap();
    g.bench_function("one_30_word_sentence_candle_forward_only", |b| {
        b.iter(|| model.forward(&batch, None).unwrap())
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
