//! The model bundle: one `.safetensors` file with everything a consumer needs to run a model
//! (DESIGN.md section 5). Weight matrices are stored as int8 with one f32 scale per block
//! of 32 values along a row (`q8`, about a quarter of the f32 size), or as f16, or as f32;
//! norms and biases stay f32.
//! The `__metadata__` header holds the format name and version, the model configuration
//! (encoder, MGE layers, label schema), the tokenizer JSON and the training provenance.
//!
//! Reading works from bytes alone (no file system), so the browser uses the same code.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::ModelConfig;
use crate::weights::TensorMap;

/// The value of the `format` metadata key.
pub const FORMAT: &str = "mge-bundle";
/// The newest format version this code reads and the one it writes.
pub const VERSION: u32 = 1;
/// Suffix of the block scales of a q8 matrix.
const SCALE: &str = ".q8_scale";

/// How weight matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantization {
    /// int8 with one f32 scale per 32 values ([`Q8_BLOCK`]).
    Q8,
    F16,
    F32,
}

impl std::fmt::Display for Quantization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quantization::Q8 => "q8",
            Quantization::F16 => "f16",
            Quantization::F32 => "f32",
        })
    }
}

/// Where a model came from: training data, the command that trained it, its scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub dataset: String,
    pub command: String,
    /// Free-form scores (for example the test report of the trainer).
    #[serde(default)]
    pub metrics: serde_json::Value,
}

/// The bundle's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleInfo {
    pub version: u32,
    pub quantization: Quantization,
    pub config: ModelConfig,
    pub provenance: Provenance,
    pub tokenizer_json: String,
}

/// One stored tensor, as `mge inspect` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTensor {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    pub bytes: usize,
}

/// Why a bundle could not be read.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error("the bundle is empty")]
    Empty,
    #[error("the bundle is truncated: {0}")]
    Truncated(String),
    #[error("not an MGE bundle: {0}")]
    Foreign(String),
    #[error("bundle format version {found} is newer than this program reads ({supported})")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("the bundle is corrupt: {0}")]
    Corrupt(String),
}

fn corrupt(e: impl std::fmt::Display) -> BundleError {
    BundleError::Corrupt(e.to_string())
}

/// Whether a tensor is a weight matrix that gets quantized (norms, biases and vectors stay f32).
fn quantizable(name: &str, t: &Tensor) -> bool {
    t.rank() == 2
        && name.ends_with(".weight")
        && !name.contains("LayerNorm")
        && !name.contains(".ln.")
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Values per q8 scale: blocks of 32 along a matrix row (rows whose length is not a multiple
/// of 32 get one scale per row). Per-row scales alone moved some CoNLL04 probabilities by 0.38.
pub const Q8_BLOCK: usize = 32;

/// Symmetric int8 quantization in blocks of `block` consecutive values:
/// `w ≈ q * scale`, `scale = max|block| / 127`.
pub fn quantize_blocks(values: &[f32], block: usize) -> (Vec<i8>, Vec<f32>) {
    let block = block.max(1);
    let mut q = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(values.len() / block);
    for row in values.chunks(block) {
        let max = row.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        q.extend(
            row.iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
        );
    }
    (q, scales)
}

/// Writes a bundle. `tensors` are the f32 checkpoint tensors (names as in a checkpoint).
pub fn write_bundle(
    tensors: &TensorMap,
    config: &ModelConfig,
    tokenizer_json: &str,
    provenance: &Provenance,
    quantization: Quantization,
) -> crate::Result<Vec<u8>> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    // Owned (name, dtype, shape, bytes) first; views borrow them afterwards.
    let mut stored: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for name in names {
        let t = tensors[name]
            .to_device(&Device::Cpu)?
            .to_dtype(DType::F32)?;
        let shape = t.dims().to_vec();
        let values = t.flatten_all()?.to_vec1::<f32>()?;
        match quantization {
            Quantization::Q8 if quantizable(name, &t) => {
                let block = if shape[1] % Q8_BLOCK == 0 {
                    Q8_BLOCK
                } else {
                    shape[1]
                };
                let (q, scales) = quantize_blocks(&values, block);
                stored.push((
                    name.clone(),
                    Dtype::I8,
                    shape.clone(),
                    q.iter().map(|&x| x as u8).collect(),
                ));
                stored.push((
                    format!("{name}{SCALE}"),
                    Dtype::F32,
                    vec![shape[0], shape[1] / block],
                    f32_bytes(&scales),
                ));
            }
            Quantization::F16 if quantizable(name, &t) => {
                let bytes = values
                    .iter()
                    .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
                    .collect();
                stored.push((name.clone(), Dtype::F16, shape, bytes));
            }
            _ => stored.push((name.clone(), Dtype::F32, shape, f32_bytes(&values))),
        }
    }
    let views = stored
        .iter()
        .map(|(n, d, s, b)| Ok((n.clone(), TensorView::new(*d, s.clone(), b)?)))
        .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    meta.insert("format_version".to_string(), VERSION.to_string());
    meta.insert("quantization".to_string(), quantization.to_string());
    meta.insert("config".to_string(), serde_json::to_string(config)?);
    meta.insert("provenance".to_string(), serde_json::to_string(provenance)?);
    meta.insert("tokenizer".to_string(), tokenizer_json.to_string());
    Ok(safetensors::tensor::serialize(views, Some(meta))?)
}

fn header(bytes: &[u8]) -> Result<safetensors::SafeTensors<'_>, BundleError> {
    if bytes.is_empty() {
        return Err(BundleError::Empty);
    }
    if bytes.len() < 8 {
        return Err(BundleError::Truncated(format!(
            "{} bytes, shorter than the 8-byte header length",
            bytes.len()
        )));
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[..8]);
    let n = u64::from_le_bytes(n);
    if n > 100_000_000 {
        return Err(BundleError::Foreign(
            "the first 8 bytes are not a safetensors header length".into(),
        ));
    }
    if (bytes.len() as u64) < 8 + n {
        return Err(BundleError::Truncated(format!(
            "the header alone needs {} bytes, the file has {}",
            8 + n,
            bytes.len()
        )));
    }
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| match e {
        safetensors::SafeTensorError::InvalidHeaderDeserialization(_)
        | safetensors::SafeTensorError::HeaderTooLarge
        | safetensors::SafeTensorError::InvalidHeaderLength
        | safetensors::SafeTensorError::InvalidHeader(_) => {
            BundleError::Foreign(format!("not a safetensors file ({e})"))
        }
        safetensors::SafeTensorError::MetadataIncompleteBuffer => {
            BundleError::Truncated("the tensor data is shorter than the header says".into())
        }
        other => corrupt(other),
    })?;
    Ok(st)
}

/// Reads only the metadata (cheap: no tensor is converted).
pub fn read_info(bytes: &[u8]) -> Result<BundleInfo, BundleError> {
    let (_, metadata) =
        safetensors::SafeTensors::read_metadata(bytes).map_err(|_| match header(bytes) {
            Err(e) => e,
            Ok(_) => corrupt("unreadable header"),
        })?;
    let meta = metadata
        .metadata()
        .clone()
        .ok_or_else(|| BundleError::Foreign("a safetensors file without MGE metadata".into()))?;
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(BundleError::Foreign(
            "a safetensors file without the mge-bundle format key".into(),
        ));
    }
    let get = |k: &str| {
        meta.get(k)
            .ok_or_else(|| corrupt(format!("metadata has no `{k}`")))
    };
    let version: u32 = get("format_version")?.parse().map_err(corrupt)?;
    if version > VERSION {
        return Err(BundleError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    let quantization: Quantization =
        serde_json::from_value(serde_json::Value::String(get("quantization")?.clone()))
            .map_err(corrupt)?;
    let config: ModelConfig = serde_json::from_str(get("config")?).map_err(corrupt)?;
    let provenance: Provenance = serde_json::from_str(get("provenance")?).map_err(corrupt)?;
    Ok(BundleInfo {
        version,
        quantization,
        config,
        provenance,
        tokenizer_json: get("tokenizer")?.clone(),
    })
}

/// Lists the stored tensors (name, dtype, shape, size).
pub fn stored_tensors(bytes: &[u8]) -> Result<Vec<StoredTensor>, BundleError> {
    let st = header(bytes)?;
    let mut out: Vec<StoredTensor> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| StoredTensor {
            name,
            dtype: format!("{:?}", v.dtype()),
            shape: v.shape().to_vec(),
            bytes: v.data().len(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn le_f32(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Reads a bundle: its metadata and all tensors as f32 (int8 matrices are dequantized here:
/// measured faster than int8 matmuls at these sizes, DESIGN.md section 6).
pub fn read_bundle(bytes: &[u8], device: &Device) -> Result<(BundleInfo, TensorMap), BundleError> {
    let info = read_info(bytes)?;
    let st = header(bytes)?;
    let mut map = TensorMap::new();
    for (name, view) in st.tensors() {
        if name.ends_with(SCALE) {
            continue;
        }
        let shape = view.shape().to_vec();
        let values = match view.dtype() {
            Dtype::F32 => le_f32(view.data()),
            Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::I8 => {
                let scales = st
                    .tensor(&format!("{name}{SCALE}"))
                    .map_err(|_| corrupt(format!("int8 tensor `{name}` has no scales")))?;
                let scales = le_f32(scales.data());
                let n = view.data().len();
                // At least one value per scale: an empty matrix with scales would be cut
                // into blocks of zero values, a panic (`fuzz/corpus/bundle/i8_empty_matrix`).
                if scales.is_empty() || n < scales.len() || n % scales.len() != 0 {
                    return Err(corrupt(format!("scales of `{name}` do not match its size")));
                }
                let cols = n / scales.len();
                // Block by block (no division per value: this loop vectorizes).
                let mut values = Vec::with_capacity(n);
                for (block, &scale) in view.data().chunks_exact(cols).zip(&scales) {
                    values.extend(block.iter().map(|&q| q as i8 as f32 * scale));
                }
                values
            }
            other => {
                return Err(corrupt(format!(
                    "tensor `{name}` has unsupported dtype {other:?}"
                )))
            }
        };
        let t = Tensor::from_vec(values, shape, device).map_err(corrupt)?;
        map.insert(name, t);
    }
    Ok((info, map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Batch, MgeModel};
    use crate::testing::tiny_model;

    fn probabilities(map: &TensorMap, cfg: &ModelConfig) -> Vec<f32> {
        let model = MgeModel::load(map, cfg).unwrap();
        let batch =
            Batch::new(&[&[2, 5, 6, 7, 8, 9, 3], &[2, 10, 11, 3]], 0, &Device::Cpu).unwrap();
        let out = model.forward(&batch, None).unwrap();
        let p = |t: &Tensor| {
            candle_nn::ops::sigmoid(t)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        [p(&out.ner_logits), p(&out.re_logits)].concat()
    }

    fn bundle(q: Quantization) -> (ModelConfig, TensorMap, Vec<u8>) {
        let (cfg, map) = tiny_model(40, 11).unwrap();
        let prov = Provenance {
            dataset: "toy".into(),
            command: "mge train …".into(),
            metrics: serde_json::json!({"ner_f1": 12.5}),
        };
        let bytes = write_bundle(&map, &cfg, "{\"tokenizer\": true}", &prov, q).unwrap();
        (cfg, map, bytes)
    }

    #[test]
    fn f32_round_trip_is_exact_and_metadata_survives() {
        let (cfg, map, bytes) = bundle(Quantization::F32);
        let (info, loaded) = read_bundle(&bytes, &Device::Cpu).unwrap();
        assert_eq!(info.config, cfg);
        assert_eq!(info.quantization, Quantization::F32);
        assert_eq!(info.version, VERSION);
        assert_eq!(info.provenance.dataset, "toy");
        assert_eq!(info.provenance.metrics["ner_f1"], 12.5);
        assert_eq!(info.tokenizer_json, "{\"tokenizer\": true}");
        assert_eq!(
            probabilities(&map, &cfg),
            probabilities(&loaded, &info.config)
        );
    }

    #[test]
    fn q8_and_f16_are_smaller_and_close() {
        let (cfg, map, f32_bytes) = bundle(Quantization::F32);
        let reference = probabilities(&map, &cfg);
        for (q, tol) in [(Quantization::Q8, 0.05), (Quantization::F16, 2e-3)] {
            let (_, _, bytes) = bundle(q);
            assert!(bytes.len() < f32_bytes.len(), "{q} is not smaller");
            let (info, loaded) = read_bundle(&bytes, &Device::Cpu).unwrap();
            assert_eq!(info.quantization, q);
            let p = probabilities(&loaded, &info.config);
            let worst = crate::testing::max_abs_diff(&p, &reference);
            assert!(worst < tol, "{q}: largest probability difference {worst}");
            assert!(worst > 0.0, "{q}: quantization changed nothing?");
        }
        let listed = stored_tensors(&bundle(Quantization::Q8).2).unwrap();
        assert!(
            listed
                .iter()
                .any(|t| t.dtype == "I8"
                    && t.name == "bert.encoder.layer.0.intermediate.dense.weight")
        );
        assert!(listed
            .iter()
            .any(|t| t.dtype == "F32" && t.name == "ner.ln.weight"));
    }

    #[test]
    fn quantized_blocks_reconstruct_within_half_a_step() {
        let values = [0.5f32, -1.0, 0.25, 0.0, 0.0, 0.0, 3.0, -3.0, 1.5];
        let (q, s) = quantize_blocks(&values, 3);
        assert_eq!(s.len(), 3);
        assert_eq!(q[1], -127);
        for (i, v) in values.iter().enumerate() {
            let back = q[i] as f32 * s[i / 3];
            assert!((back - v).abs() <= s[i / 3] / 2.0 + 1e-6);
        }
    }

    #[test]
    fn broken_or_foreign_files_are_typed_errors() {
        let (_, _, bytes) = bundle(Quantization::Q8);
        assert!(matches!(
            read_bundle(&[], &Device::Cpu),
            Err(BundleError::Empty)
        ));
        assert!(matches!(
            read_bundle(&bytes[..5], &Device::Cpu),
            Err(BundleError::Truncated(_))
        ));
        assert!(matches!(
            read_bundle(&bytes[..200], &Device::Cpu),
            Err(BundleError::Truncated(_))
        ));
        let cut = &bytes[..bytes.len() - 1000];
        assert!(
            matches!(
                read_bundle(cut, &Device::Cpu),
                Err(BundleError::Truncated(_))
            ),
            "{:?}",
            read_bundle(cut, &Device::Cpu).err()
        );
        // A plain safetensors file (no metadata) and a file that is not safetensors at all.
        let t = Tensor::zeros((2, 2), DType::F32, &Device::Cpu).unwrap();
        let plain = safetensors::tensor::serialize([("x", &t)], None).unwrap();
        assert!(matches!(
            read_bundle(&plain, &Device::Cpu),
            Err(BundleError::Foreign(_))
        ));
        assert!(matches!(
            read_bundle(b"<html>not a model</html>", &Device::Cpu),
            Err(BundleError::Foreign(_))
        ));
        let json = b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}";
        assert!(matches!(
            read_bundle(json, &Device::Cpu),
            Err(BundleError::Foreign(_))
        ));
    }

    #[test]
    fn empty_int8_matrix_with_scales_is_corrupt_not_a_panic() {
        let (_, _, bytes) = bundle(Quantization::Q8);
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let scales = f32_bytes(&[0.5, 0.25]);
        let tensors = [
            (
                "x.weight",
                TensorView::new(Dtype::I8, vec![0, 2], &[]).unwrap(),
            ),
            (
                "x.weight.q8_scale",
                TensorView::new(Dtype::F32, vec![2, 1], &scales).unwrap(),
            ),
        ];
        let file = safetensors::tensor::serialize(tensors, header.metadata().clone()).unwrap();
        let err = read_bundle(&file, &Device::Cpu).err();
        assert!(
            matches!(&err, Some(BundleError::Corrupt(m)) if m.contains("x.weight")),
            "{err:?}"
        );
    }
}
