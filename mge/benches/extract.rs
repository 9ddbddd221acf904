//! End-to-end extraction from raw text with a committed bundle (`models/conll04.safetensors`):
//! bundle load time, one ~30-word sentence (through the inference engine, and through the
//! candle training model for comparison), and the CoNLL04 test sentences handed over one at
//! a time and 32 at a time (throughput = 288 sentences / time per iteration). The f32 rows
//! use an f32 bundle written here from the committed q8 weights (same model, four times the
//! bytes), so storage is compared without needing the training checkpoint.
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p mge --bench extract` (needs the bundle and
//! `../shared/data`).

use std::path::PathBuf;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion};
use mge::bundle::{read_bundle, write_bundle, Quantization};
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
    let (info, tensors) = read_bundle(&bytes, &Device::Cpu).unwrap();
    let f32_bytes = write_bundle(
        &tensors,
        &info.config,
        &info.tokenizer_json,
        &info.provenance,
        Quantization::F32,
    )
    .unwrap();
    eprintln!(
        "bundle sizes: q8 {:.1} MB, f32 {:.1} MB",
        bytes.len() as f64 / 1e6,
        f32_bytes.len() as f64 / 1e6
    );
    g.bench_function("load_f32_bundle", |b| {
        b.iter(|| Extractor::from_bundle(&f32_bytes).unwrap())
    });
    g.bench_function("one_30_word_sentence", |b| {
        b.iter(|| ex.extract(one).unwrap())
    });
    let ex_f32 = Extractor::from_bundle(&f32_bytes).unwrap();
    g.bench_function("one_30_word_sentence_f32_bundle", |b| {
        b.iter(|| ex_f32.extract(one).unwrap())
    });
    // The same sentence through the candle model (the training code path): forward only.
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
