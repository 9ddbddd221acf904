//! Checkpoint → bundle (`mge export`) and bundle inspection (`mge inspect`).
//!
//! A bundle is one `.safetensors` file (see `mge::bundle`): weights in q8, f16 or f32 plus
//! the model configuration, tokenizer and provenance, all a consumer needs to run the model.

use std::path::Path;

use candle_core::Device;
use mge::bundle::{read_info, stored_tensors, write_bundle, BundleError, Provenance, Quantization};
use mge::checkpoint::{resolve_dir, Checkpoint, CheckpointError};
use mge::MgeModel;
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ExportError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the checkpoint does not hold a usable model: {0}")]
    Model(#[from] mge::Error),
    #[error("{path}: {message}")]
    Provenance { path: String, message: String },
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>, ExportError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ExportError::Provenance {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })
        }
        Err(_) => Ok(None),
    }
}

/// What the run folder around a checkpoint says about it: the dataset and settings from
/// `../train_config.json`, scores from `test_report.json` (or `dev_report.json`).
pub fn provenance(checkpoint: &Path) -> Result<Provenance, ExportError> {
    let dir = resolve_dir(checkpoint).unwrap_or_else(|| checkpoint.to_path_buf());
    let mut p = Provenance::default();
    if let Some(run) = dir.parent() {
        if let Some(cfg) = read_json(&run.join("train_config.json"))? {
            p.dataset = cfg["dataset"].as_str().unwrap_or_default().to_string();
            p.command = format!("mge train with {cfg}");
        }
    }
    let mut metrics = serde_json::Map::new();
    for (key, file) in [("test", "test_report.json"), ("dev", "dev_report.json")] {
        if let Some(report) = read_json(&dir.join(file))? {
            let pick = |k: &str| report[k]["f1"].clone();
            metrics.insert(
                key.to_string(),
                serde_json::json!({"ner_f1": pick("ner"), "re_strict_f1": pick("re_strict"), "re_pfn_f1": pick("re_pfn")}),
            );
        }
    }
    p.metrics = serde_json::Value::Object(metrics);
    Ok(p)
}

/// Reads a checkpoint folder and returns the bundle bytes.
pub fn export_checkpoint(
    checkpoint: &Path,
    quantization: Quantization,
) -> Result<Vec<u8>, ExportError> {
    let ck = Checkpoint::read(checkpoint, &Device::Cpu)?;
    // Refuse to write a bundle that would not load.
    MgeModel::load(&ck.tensors, &ck.config)?;
    ck.tokenizer()?;
    let prov = provenance(checkpoint)?;
    Ok(write_bundle(
        &ck.tensors,
        &ck.config,
        &ck.tokenizer_json,
        &prov,
        quantization,
    )?)
}

/// Size of one part of a bundle.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Part {
    pub name: &'static str,
    pub tensors: usize,
    pub bytes: usize,
}

/// What `mge inspect` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub format_version: u32,
    pub quantization: Quantization,
    pub config: mge::ModelConfig,
    pub provenance: Provenance,
    pub parts: Vec<Part>,
    pub total_bytes: usize,
}

fn part_of(name: &str) -> &'static str {
    if name.starts_with("bert.embeddings.") {
        "encoder embeddings"
    } else if name.starts_with("bert.") {
        "encoder layers"
    } else if name.starts_with("mge.") {
        "multi-gate encoder"
    } else if name.starts_with("ner.") {
        "NER head"
    } else if name.starts_with("re.") {
        "RE head"
    } else {
        "other"
    }
}

pub fn inspect(bytes: &[u8]) -> Result<Inspection, BundleError> {
    let info = read_info(bytes)?;
    let stored = stored_tensors(bytes)?;
    let mut parts: Vec<Part> = Vec::new();
    for t in &stored {
        let name = part_of(&t.name);
        match parts.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                p.tensors += 1;
                p.bytes += t.bytes;
            }
            None => parts.push(Part {
                name,
                tensors: 1,
                bytes: t.bytes,
            }),
        }
    }
    let data: usize = stored.iter().map(|t| t.bytes).sum();
    parts.push(Part {
        name: "header (config, tokenizer, provenance)",
        tensors: 0,
        bytes: bytes.len() - data,
    });
    Ok(Inspection {
        format_version: info.version,
        quantization: info.quantization,
        config: info.config,
        provenance: info.provenance,
        parts,
        total_bytes: bytes.len(),
    })
}

/// Scores of one model in a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    pub ner_f1: f64,
    pub re_f1: f64,
    pub re_pfn_f1: f64,
}

/// A bundle compared with the f32 checkpoint it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub sentences: usize,
    pub checkpoint: Scores,
    pub bundle: Scores,
    /// Largest absolute difference of any entity or relation probability on a valid cell.
    pub max_probability_difference: f32,
}

impl Verification {
    /// Largest of the three F1 differences (absolute, in points).
    pub fn max_f1_difference(&self) -> f64 {
        let (a, b) = (&self.checkpoint, &self.bundle);
        [
            (a.ner_f1 - b.ner_f1).abs(),
            (a.re_f1 - b.re_f1).abs(),
            (a.re_pfn_f1 - b.re_pfn_f1).abs(),
        ]
        .into_iter()
        .fold(0.0, f64::max)
    }
}

/// Runs the bundle and the checkpoint on a dataset file: F1 of each and the largest
/// probability difference.
pub fn verify(bundle: &[u8], checkpoint: &Path, data: &Path) -> Result<Verification, ExportError> {
    use mge::model::Batch;
    let dev = Device::Cpu;
    let ck = Checkpoint::read(checkpoint, &dev)?;
    let reference = ck.model()?;
    let tokenizer = ck.tokenizer()?;
    let (info, tensors) =
        mge::bundle::read_bundle(bundle, &dev).map_err(|e| ExportError::Provenance {
            path: "bundle".into(),
            message: e.to_string(),
        })?;
    if info.config != ck.config {
        return Err(ExportError::Provenance {
            path: checkpoint.display().to_string(),
            message: "the bundle was not exported from this checkpoint (configurations differ)"
                .into(),
        });
    }
    let quantized = MgeModel::load(&tensors, &info.config)?;
    let labels = &ck.config.labels;
    let sentences = mge::data::load_dataset(data).map_err(mge::Error::from)?;
    let max_len = ck.config.bert.max_position_embeddings;
    let examples =
        mge::align::examples(&sentences, labels, &tokenizer, ck.config.max_words, max_len)?;
    let pad = tokenizer.pad_id();
    let score = |m: &MgeModel| -> Result<Scores, ExportError> {
        let r = mge::eval::evaluate(m, &examples, labels, 32, pad, &dev, |_| {})?;
        Ok(Scores {
            ner_f1: r.ner.f1,
            re_f1: r.re_strict.f1,
            re_pfn_f1: r.re_pfn.f1,
        })
    };
    let mut worst = 0f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| examples[i].pieces.ids.len());
    for chunk in order.chunks(32) {
        let seqs: Vec<&[u32]> = chunk
            .iter()
            .map(|&i| examples[i].pieces.ids.as_slice())
            .collect();
        let batch = Batch::new(&seqs, pad, &dev).map_err(ExportError::Model)?;
        let a = reference.forward(&batch, None)?;
        let b = quantized.forward(&batch, None)?;
        let t = batch.padded_len();
        for (x, y, upper) in [
            (&a.ner_logits, &b.ner_logits, true),
            (&a.re_logits, &b.re_logits, false),
        ] {
            let k = x.dims().last().copied().unwrap_or(1);
            let px = sigmoid_values(x)?;
            let py = sigmoid_values(y)?;
            for item in 0..batch.size() {
                for i in (0..t).filter(|&i| batch.is_table_position(item, i)) {
                    for j in
                        (0..t).filter(|&j| batch.is_table_position(item, j) && (!upper || j >= i))
                    {
                        let at = ((item * t + i) * t + j) * k;
                        for l in 0..k {
                            worst = worst.max((px[at + l] - py[at + l]).abs());
                        }
                    }
                }
            }
        }
    }
    Ok(Verification {
        sentences: examples.len(),
        checkpoint: score(&reference)?,
        bundle: score(&quantized)?,
        max_probability_difference: worst,
    })
}

fn sigmoid_values(x: &candle_core::Tensor) -> Result<Vec<f32>, ExportError> {
    let p = (x.neg().and_then(|t| t.exp()).and_then(|t| t + 1.0))
        .and_then(|t| t.recip())
        .map_err(mge::Error::from)?;
    Ok(p.flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(mge::Error::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mge::bundle::read_bundle;
    use mge::testing::tiny_model;
    use mge::tokenize::test_tokenizer_json;

    fn checkpoint(dir: &Path) -> std::path::PathBuf {
        let (cfg, map) = tiny_model(20, 3).unwrap();
        let best = dir.join("run/best");
        std::fs::create_dir_all(&best).unwrap();
        let views: Vec<(String, &candle_core::Tensor)> =
            map.iter().map(|(k, v)| (k.clone(), v)).collect();
        std::fs::write(best.join("model.safetensors"), safetensors_bytes(views)).unwrap();
        std::fs::write(
            best.join("config.json"),
            serde_json::to_string(&cfg).unwrap(),
        )
        .unwrap();
        std::fs::write(
            best.join("tokenizer.json"),
            test_tokenizer_json(&["john", "boston"]),
        )
        .unwrap();
        std::fs::write(
            dir.join("run/train_config.json"),
            r#"{"dataset": "conll04", "epochs": 3}"#,
        )
        .unwrap();
        std::fs::write(
            best.join("test_report.json"),
            r#"{"ner": {"f1": 81.5}, "re_strict": {"f1": 52.0}, "re_pfn": {"f1": 53.0}}"#,
        )
        .unwrap();
        best
    }

    fn safetensors_bytes(views: Vec<(String, &candle_core::Tensor)>) -> Vec<u8> {
        mge::weights::serialize_safetensors(&views).unwrap()
    }

    #[test]
    fn export_carries_provenance_and_inspect_sums_to_the_file_size() {
        let dir = tempfile::tempdir().unwrap();
        let best = checkpoint(dir.path());
        let bytes = export_checkpoint(&best, Quantization::Q8).unwrap();
        let (info, _) = read_bundle(&bytes, &Device::Cpu).unwrap();
        assert_eq!(info.provenance.dataset, "conll04");
        assert!(info.provenance.command.contains("\"epochs\":3"));
        assert_eq!(info.provenance.metrics["test"]["ner_f1"], 81.5);
        let report = inspect(&bytes).unwrap();
        assert_eq!(report.quantization, Quantization::Q8);
        assert_eq!(
            report.parts.iter().map(|p| p.bytes).sum::<usize>(),
            bytes.len()
        );
        for name in [
            "encoder embeddings",
            "encoder layers",
            "multi-gate encoder",
            "NER head",
            "RE head",
        ] {
            assert!(
                report.parts.iter().any(|p| p.name == name && p.bytes > 0),
                "no {name}"
            );
        }
        let f32_len = export_checkpoint(&best, Quantization::F32).unwrap().len();
        assert!(bytes.len() < f32_len);
    }

    #[test]
    fn verify_compares_the_bundle_with_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let best = checkpoint(dir.path());
        let data = dir.path().join("data.json");
        std::fs::write(&data, r#"[{"tokens": ["John", "lives", "in", "Boston"], "entities": [{"type": "Peop", "start": 0, "end": 1}, {"type": "Loc", "start": 3, "end": 4}], "relations": [{"type": "Live_In", "head": 0, "tail": 1}]}]"#).unwrap();
        let exact = verify(
            &export_checkpoint(&best, Quantization::F32).unwrap(),
            &best,
            &data,
        )
        .unwrap();
        assert_eq!(exact.max_probability_difference, 0.0);
        assert_eq!(exact.max_f1_difference(), 0.0);
        let q8 = verify(
            &export_checkpoint(&best, Quantization::Q8).unwrap(),
            &best,
            &data,
        )
        .unwrap();
        assert!(
            q8.max_probability_difference > 0.0 && q8.max_probability_difference < 0.1,
            "{q8:?}"
        );
        assert_eq!(q8.sentences, 1);
    }

    #[test]
    fn a_folder_that_is_no_checkpoint_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = export_checkpoint(dir.path(), Quantization::Q8).unwrap_err();
        assert!(
            matches!(
                err,
                ExportError::Checkpoint(CheckpointError::NotACheckpoint(_))
            ),
            "{err}"
        );
        let best = checkpoint(dir.path());
        std::fs::write(best.join("model.safetensors"), b"garbage").unwrap();
        let err = export_checkpoint(&best, Quantization::Q8).unwrap_err();
        assert!(err.to_string().contains("model.safetensors"), "{err}");
    }
}
