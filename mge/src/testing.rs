//! Small fixtures for tests and examples: a tiny random BERT encoder folder and a handful of
//! hand-made annotated sentences, so that no test needs a downloaded model.

use std::path::Path;

use candle_core::Device;

use crate::bert::random_weights;
use crate::config::BertConfig;
use crate::data::{Entity, Relation, Sentence};
use crate::error::{Error, Result};
use crate::tokenize::test_tokenizer_json;

/// A sentence from space-separated tokens, `(type, start, end)` entities and `(type, head,
/// tail)` relations.
pub fn sentence(
    tokens: &str,
    entities: &[(&str, usize, usize)],
    relations: &[(&str, usize, usize)],
) -> Sentence {
    Sentence {
        tokens: tokens.split(' ').map(str::to_string).collect(),
        entities: entities
            .iter()
            .map(|&(t, s, e)| Entity {
                label: t.into(),
                start: s,
                end: e,
            })
            .collect(),
        relations: relations
            .iter()
            .map(|&(t, h, tl)| Relation {
                label: t.into(),
                head: h,
                tail: tl,
            })
            .collect(),
    }
}

/// Eight annotated sentences in the CoNLL04 style (people, organizations, places).
pub fn toy_sentences() -> Vec<Sentence> {
    vec![
        sentence(
            "John Smith lives in Boston .",
            &[("Peop", 0, 2), ("Loc", 4, 5)],
            &[("Live_In", 0, 1)],
        ),
        sentence(
            "Mary works for Acme Corp in Paris .",
            &[("Peop", 0, 1), ("Org", 3, 5), ("Loc", 6, 7)],
            &[("Work_For", 0, 1), ("OrgBased_In", 1, 2)],
        ),
        sentence(
            "Paris is in France .",
            &[("Loc", 0, 1), ("Loc", 3, 4)],
            &[("Located_In", 0, 1)],
        ),
        sentence(
            "Acme Corp hired John Smith .",
            &[("Org", 0, 2), ("Peop", 3, 5)],
            &[("Work_For", 1, 0)],
        ),
        sentence(
            "Boston is a city in Massachusetts .",
            &[("Loc", 0, 1), ("Loc", 5, 6)],
            &[("Located_In", 0, 1)],
        ),
        sentence(
            "Mary lives in Paris and likes it .",
            &[("Peop", 0, 1), ("Loc", 3, 4)],
            &[("Live_In", 0, 1)],
        ),
        sentence("The weather was fine today .", &[], &[]),
        sentence(
            "Globex of Boston fired Mary .",
            &[("Org", 0, 1), ("Loc", 2, 3), ("Peop", 4, 5)],
            &[("OrgBased_In", 0, 1), ("Work_For", 2, 0)],
        ),
    ]
}

/// The lower-cased words of `sentences`, sorted and de-duplicated (a test vocabulary).
pub fn vocabulary(sentences: &[Sentence]) -> Vec<String> {
    let mut words: Vec<String> = sentences
        .iter()
        .flat_map(|s| s.tokens.iter().map(|t| t.to_lowercase()))
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Writes a tiny random BERT (`config.json`, `model.safetensors`, `tokenizer.json`, a few KB)
/// whose vocabulary covers `words`, named as a Hugging Face checkpoint.
pub fn write_tiny_encoder(dir: &Path, words: &[String], seed: u64) -> Result<BertConfig> {
    let io = |e: std::io::Error| Error::Io {
        path: dir.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let tokenizer = test_tokenizer_json(&refs);
    let mut cfg = BertConfig::tiny(words.len() + 4);
    cfg.max_position_embeddings = 64;
    let tensors = random_weights(&cfg, seed, &Device::Cpu)?;
    let views: Vec<(String, &candle_core::Tensor)> =
        tensors.iter().map(|(k, v)| (k.clone(), v)).collect();
    let bytes = safetensors::tensor::serialize(views, None)?;
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&cfg)?).map_err(io)?;
    std::fs::write(dir.join("model.safetensors"), bytes).map_err(io)?;
    std::fs::write(dir.join("tokenizer.json"), tokenizer).map_err(io)?;
    Ok(cfg)
}

/// A tiny random model (encoder + MGE layers + heads) for `vocab_size` tokens with the
/// CoNLL04 label schema.
pub fn tiny_model(
    vocab_size: usize,
    seed: u64,
) -> Result<(crate::ModelConfig, crate::weights::TensorMap)> {
    let config = crate::ModelConfig {
        bert: BertConfig::tiny(vocab_size),
        mge: crate::MgeConfig {
            hidden: 16,
            ..Default::default()
        },
        labels: crate::data::LabelSchema {
            entity_types: ["Loc", "Org", "Other", "Peop"].map(String::from).to_vec(),
            relation_types: ["Kill", "Live_In", "Located_In", "OrgBased_In", "Work_For"]
                .map(String::from)
                .to_vec(),
            nested_entities: None,
            same_type_overlaps: None,
            hyphens_split: None,
            slashes_split: None,
            titled_names: None,
            capitalized_types: None,
            relation_signatures: None,
        },
        max_words: 128,
    };
    let mut map: crate::weights::TensorMap = random_weights(&config.bert, seed, &Device::Cpu)?
        .into_iter()
        .map(|(k, v)| (format!("bert.{k}"), v))
        .collect();
    map.extend(crate::model::init_head_weights(
        &config,
        seed + 1,
        &Device::Cpu,
    )?);
    Ok((config, map))
}

/// A tiny random model ([`tiny_model`]) as a q8 bundle with the given tokenizer (whose
/// vocabulary has `vocab_size` entries): it reads any text the tokenizer reads, a hundred
/// times faster than a real model, so that a test can push megabytes through a front end.
/// Its entities and relations are noise, made rare by the taggers' biases (`ner_bias`,
/// `re_bias`; 0 keeps the random initialization's).
pub fn tiny_bundle(
    tokenizer_json: &str,
    vocab_size: usize,
    seed: u64,
    ner_bias: f32,
    re_bias: f32,
) -> Result<Vec<u8>> {
    let (config, mut tensors) = tiny_model(vocab_size, seed)?;
    for (name, bias) in [("ner.tag.bias", ner_bias), ("re.tag.bias", re_bias)] {
        if let Some(t) = tensors.get_mut(name) {
            *t = (t.clone() + f64::from(bias))?;
        }
    }
    let provenance = crate::bundle::Provenance {
        dataset: "tiny random model for tests".into(),
        command: "mge::testing::tiny_bundle".into(),
        metrics: serde_json::Value::Null,
    };
    crate::bundle::write_bundle(
        &tensors,
        &config,
        tokenizer_json,
        &provenance,
        crate::bundle::Quantization::Q8,
    )
}

/// Every gate configuration of the paper's ablation (Table 4): all gates, each one
/// removed, and both interaction gates removed.
pub fn gate_ablations() -> Vec<crate::config::Gates> {
    let all = crate::config::Gates::default();
    vec![
        all,
        crate::config::Gates {
            entity_task: false,
            ..all
        },
        crate::config::Gates {
            relation_task: false,
            ..all
        },
        crate::config::Gates {
            entity_interaction: false,
            ..all
        },
        crate::config::Gates {
            relation_interaction: false,
            ..all
        },
        crate::config::Gates {
            entity_interaction: false,
            relation_interaction: false,
            ..all
        },
    ]
}

/// [`tiny_model`] (vocabulary 40) with the given gates and head weights drawn from
/// `head_seed`.
pub fn tiny_model_with_gates(
    gates: crate::config::Gates,
    head_seed: u64,
) -> Result<(crate::ModelConfig, crate::weights::TensorMap)> {
    let (mut cfg, mut map) = tiny_model(40, 3)?;
    cfg.mge.gates = gates;
    map.retain(|k, _| k.starts_with("bert."));
    map.extend(crate::model::init_head_weights(
        &cfg,
        head_seed,
        &Device::Cpu,
    )?);
    Ok((cfg, map))
}

/// `x Wᵀ + b` in f64, the reference of the engine's matrix kernels: `x` is `rows × input`,
/// `w` is `output × input` (PyTorch layout), `b` has `output` values.
pub fn exact_linear(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    rows: usize,
    input: usize,
    output: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; rows * output];
    for r in 0..rows {
        for n in 0..output {
            let mut s = b[n] as f64;
            for k in 0..input {
                s += x[r * input + k] as f64 * w[n * input + k] as f64;
            }
            out[r * output + n] = s as f32;
        }
    }
    out
}

/// Largest absolute difference between two slices (infinite when their lengths differ).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// [`max_abs_diff`] of two tensors' values.
pub fn tensor_max_abs_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> Result<f32> {
    let values = |t: &candle_core::Tensor| -> Result<Vec<f32>> {
        Ok(t.flatten_all()?
            .to_dtype(candle_core::DType::F32)?
            .to_vec1()?)
    };
    Ok(max_abs_diff(&values(a)?, &values(b)?))
}

/// The candle model's entity and relation probabilities for one `[CLS] … [SEP]` sequence,
/// over its inner sub-tokens and laid out as [`crate::engine::Tables`] (entity cells below
/// the diagonal are 0): the reference the inference engine is checked against.
pub fn reference_probabilities(
    model: &crate::model::MgeModel,
    ids: &[u32],
) -> Result<(Vec<f32>, Vec<f32>)> {
    let batch = crate::model::Batch::new(&[ids], 0, &Device::Cpu)?;
    let out = model.forward(&batch, None)?;
    let t = ids.len();
    let inner = |logits: &candle_core::Tensor, upper: bool| -> Result<Vec<f32>> {
        let k = logits.dims().last().copied().unwrap_or(1);
        let all: Vec<f32> = candle_nn::ops::sigmoid(logits)?.flatten_all()?.to_vec1()?;
        let mut v = Vec::with_capacity(t.saturating_sub(2).pow(2) * k);
        for i in 1..t.saturating_sub(1) {
            for j in 1..t - 1 {
                let cell = &all[(i * t + j) * k..(i * t + j + 1) * k];
                if upper && j < i {
                    v.extend(std::iter::repeat_n(0.0, k));
                } else {
                    v.extend_from_slice(cell);
                }
            }
        }
        Ok(v)
    };
    Ok((inner(&out.ner_logits, true)?, inner(&out.re_logits, false)?))
}
