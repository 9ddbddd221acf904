//! Criterion benchmarks on CoNLL04 with the real all-MiniLM-L6-v2 encoder:
//! - a training step (forward, loss, backward) on a batch of 8 training sentences, and the
//!   same for the encoder alone, so the share of the MGE layers and table heads shows;
//! - inference (forward + decoding) on a batch of 32 test sentences and on one sentence.
//!
//! Needs `scripts/fetch-encoder.sh` and the datasets in `../shared/data` (skips otherwise).
//! Run: `cargo bench -p mge --bench step` (set RAYON_NUM_THREADS to compare thread counts).

use std::path::PathBuf;

use candle_core::{Device, Var};
use criterion::{criterion_group, criterion_main, Criterion};
use mge::align::Example;
use mge::data::{load_dataset, LabelSchema};
use mge::model::init_head_weights;
use mge::table::{decode, loss, Targets};
use mge::tokenize::SubwordTokenizer;
use mge::weights::{encoder_tensors, load_safetensors, TensorMap};
use mge::{Batch, BertConfig, MgeConfig, MgeModel, ModelConfig};

struct Setup {
    vars: Vec<(String, Var)>,
    cfg: ModelConfig,
    train: Vec<Example>,
    test: Vec<Example>,
}

fn setup() -> Option<Setup> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let enc = root.join("encoders/all-MiniLM-L6-v2");
    let data = root.join("../shared/data/conll04");
    if !enc.join("model.safetensors").exists() || !data.join("train.json").exists() {
        eprintln!(
            "skipping benchmarks: needs {} and {}",
            enc.display(),
            data.display()
        );
        return None;
    }
    let dev = Device::Cpu;
    let bert =
        BertConfig::from_json(&std::fs::read_to_string(enc.join("config.json")).ok()?).ok()?;
    let tok =
        SubwordTokenizer::from_bytes(&std::fs::read(enc.join("tokenizer.json")).ok()?).ok()?;
    let train = load_dataset(&data.join("train.json")).ok()?;
    let test = load_dataset(&data.join("test.json")).ok()?;
    let labels = LabelSchema::from_sentences([train.as_slice()]);
    let cfg = ModelConfig {
        bert,
        mge: MgeConfig::default(),
        labels: labels.clone(),
        max_words: 128,
    };
    let mut map = encoder_tensors(
        load_safetensors(&std::fs::read(enc.join("model.safetensors")).ok()?, &dev).ok()?,
    );
    map.extend(init_head_weights(&cfg, 1, &dev).ok()?);
    let vars = map
        .into_iter()
        .map(|(k, v)| Ok((k, Var::from_tensor(&v)?)))
        .collect::<candle_core::Result<_>>()
        .ok()?;
    let ex = |s: &[mge::data::Sentence]| -> Option<Vec<Example>> {
        s.iter()
            .map(|s| Example::new(s, &tok, &labels, 512).ok())
            .collect()
    };
    Some(Setup {
        vars,
        cfg,
        train: ex(&train[..8])?,
        test: ex(&test[..32])?,
    })
}

fn benches(c: &mut Criterion) {
    let Some(s) = setup() else { return };
    let dev = Device::Cpu;
    let tensors: TensorMap = s
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    let frozen: TensorMap = s
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().detach()))
        .collect();
    let seqs: Vec<&[u32]> = s.train.iter().map(|e| e.pieces.ids.as_slice()).collect();
    let batch = Batch::new(&seqs, 0, &dev).unwrap();
    let ner: Vec<_> = s.train.iter().map(|e| e.ner.clone()).collect();
    let re: Vec<_> = s.train.iter().map(|e| e.re.clone()).collect();
    let targets = Targets::new(&batch, &ner, &re, 4, 5, &dev).unwrap();
    let tokens: usize = s.train.iter().map(|e| e.pieces.ids.len()).sum();
    eprintln!(
        "training batch: 8 sentences, {tokens} sub-tokens, padded to {}",
        batch.padded_len()
    );

    let mut g = c.benchmark_group("train_step_conll04_batch8");
    g.sample_size(10);
    g.bench_function("full_model_fwd_bwd", |b| {
        b.iter(|| {
            let model = MgeModel::load(&tensors, &s.cfg).unwrap();
            let out = model.forward(&batch, None).unwrap();
            let l = loss(&out, &targets).unwrap();
            l.total.backward().unwrap()
        })
    });
    g.bench_function("encoder_only_fwd_bwd", |b| {
        b.iter(|| {
            let model = MgeModel::load(&tensors, &s.cfg).unwrap();
            let h = model
                .bert
                .forward(&batch.input_ids, &batch.attention_mask)
                .unwrap();
            h.sqr().unwrap().sum_all().unwrap().backward().unwrap()
        })
    });
    g.finish();

    let model = MgeModel::load(&frozen, &s.cfg).unwrap();
    let mut g = c.benchmark_group("inference_conll04");
    g.sample_size(10);
    let mut test = s.test.clone();
    test.sort_by_key(|e| e.pieces.ids.len());
    let seqs32: Vec<&[u32]> = test.iter().map(|e| e.pieces.ids.as_slice()).collect();
    g.bench_function("batch32_test_sentences", |b| {
        b.iter(|| {
            let batch = Batch::new(&seqs32, 0, &dev).unwrap();
            let out = model.forward(&batch, None).unwrap();
            decode(&out, &batch, 0.5).unwrap()
        })
    });
    let one = [s.test[0].pieces.ids.as_slice()];
    eprintln!("single sentence: {} sub-tokens", one[0].len());
    g.bench_function("one_sentence", |b| {
        b.iter(|| {
            let batch = Batch::new(&one, 0, &dev).unwrap();
            let out = model.forward(&batch, None).unwrap();
            decode(&out, &batch, 0.5).unwrap()
        })
    });
    g.bench_function("one_sentence_encoder_only", |b| {
        b.iter(|| {
            let batch = Batch::new(&one, 0, &dev).unwrap();
            model
                .bert
                .forward(&batch.input_ids, &batch.attention_mask)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(step, benches);
criterion_main!(step);
