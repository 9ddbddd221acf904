//! Checkpoints on disk: a folder with `model.safetensors` (PyTorch-compatible names),
//! `config.json` (encoder config, MGE config, label schema) and `tokenizer.json`. Every file is
//! written to a temporary name and renamed, and whole folders are swapped in by rename, so a
//! run killed at any moment leaves either the old or the new checkpoint, never half of one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::{Device, Tensor};
use mge::weights::{encoder_tensors, load_safetensors, TensorMap};
use mge::{BertConfig, ModelConfig};

use crate::Result;

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    {
        let mut f =
            fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// Serializes named tensors as safetensors bytes.
pub fn safetensors_bytes(tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let views: Vec<(String, &Tensor)> = tensors.iter().map(|(k, v)| (k.clone(), v)).collect();
    Ok(mge::weights::serialize_safetensors(&views)?)
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("checkpoint");
    dir.with_file_name(format!("{name}{suffix}"))
}

/// Replaces folder `dst` by the fully written folder `tmp`.
pub fn swap_in_dir(tmp: &Path, dst: &Path) -> Result<()> {
    let old = sibling(dst, ".old");
    if old.exists() {
        fs::remove_dir_all(&old)?;
    }
    if dst.exists() {
        fs::rename(dst, &old)?;
    }
    fs::rename(tmp, dst)?;
    if old.exists() {
        fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Writes a complete checkpoint folder: `files` are extra (name, bytes) pairs.
pub fn save_checkpoint(
    dir: &Path,
    config: &ModelConfig,
    tokenizer_json: &str,
    tensors: &[(String, Tensor)],
    files: &[(&str, Vec<u8>)],
) -> Result<()> {
    let tmp = sibling(dir, ".tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    write_atomic(&tmp.join("model.safetensors"), &safetensors_bytes(tensors)?)?;
    write_atomic(
        &tmp.join("config.json"),
        serde_json::to_string_pretty(config)?.as_bytes(),
    )?;
    write_atomic(&tmp.join("tokenizer.json"), tokenizer_json.as_bytes())?;
    for (name, bytes) in files {
        write_atomic(&tmp.join(name), bytes)?;
    }
    swap_in_dir(&tmp, dir)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A pre-trained Hugging Face BERT folder: its config, its weights renamed under `bert.`, and
/// its tokenizer.
pub struct Encoder {
    pub config: BertConfig,
    pub tensors: TensorMap,
    pub tokenizer_json: String,
}

impl Encoder {
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let need = |f: &str| -> Result<PathBuf> {
            let p = dir.join(f);
            if p.exists() {
                Ok(p)
            } else {
                anyhow::bail!(
                    "{} has no {f}: an encoder folder needs config.json, model.safetensors and tokenizer.json (run scripts/fetch-encoder.sh for the default)",
                    dir.display()
                )
            }
        };
        let config = BertConfig::from_json(&String::from_utf8_lossy(&read(&need("config.json")?)?))
            .with_context(|| format!("{}: bad config.json", dir.display()))?;
        let raw = load_safetensors(&read(&need("model.safetensors")?)?, device)?;
        let tensors = encoder_tensors(raw);
        let tokenizer_json = String::from_utf8(read(&need("tokenizer.json")?)?)?;
        Ok(Self {
            config,
            tensors,
            tokenizer_json,
        })
    }
}
