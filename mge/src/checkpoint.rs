//! Reading a checkpoint folder as the trainer writes it: `model.safetensors` (PyTorch names),
//! `config.json` (a [`ModelConfig`]) and `tokenizer.json`.

use std::path::{Path, PathBuf};

use candle_core::Device;
use thiserror::Error;

use crate::config::ModelConfig;
use crate::model::MgeModel;
use crate::tokenize::SubwordTokenizer;
use crate::weights::{load_safetensors, TensorMap};

pub const MODEL_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

#[derive(Debug, Error)]
pub enum CheckpointError {
    #[error("{0} is not a checkpoint folder (no config.json)")]
    NotACheckpoint(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
}

/// A checkpoint's contents.
pub struct Checkpoint {
    pub config: ModelConfig,
    pub tensors: TensorMap,
    pub tokenizer_json: String,
}

/// The folder to read for `dir`: itself, or the previous copy `DIR.old` if the trainer was
/// killed between the two renames that replace a checkpoint.
pub fn resolve_dir(dir: &Path) -> Option<PathBuf> {
    if dir.join(CONFIG_FILE).exists() || dir.join("state.json").exists() {
        return Some(dir.to_path_buf());
    }
    let name = dir.file_name()?.to_str()?;
    let old = dir.with_file_name(format!("{name}.old"));
    old.exists().then_some(old)
}

impl Checkpoint {
    pub fn read(dir: &Path, device: &Device) -> Result<Self, CheckpointError> {
        let dir = resolve_dir(dir)
            .ok_or_else(|| CheckpointError::NotACheckpoint(dir.display().to_string()))?;
        let read = |f: &str| {
            let p = dir.join(f);
            std::fs::read(&p).map_err(|source| CheckpointError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        let bad = |f: &str, e: &dyn std::fmt::Display| CheckpointError::Bad {
            path: dir.join(f).display().to_string(),
            message: e.to_string(),
        };
        let config: ModelConfig =
            serde_json::from_slice(&read(CONFIG_FILE)?).map_err(|e| bad(CONFIG_FILE, &e))?;
        let tensors =
            load_safetensors(&read(MODEL_FILE)?, device).map_err(|e| bad(MODEL_FILE, &e))?;
        let tokenizer_json =
            String::from_utf8(read(TOKENIZER_FILE)?).map_err(|e| bad(TOKENIZER_FILE, &e))?;
        Ok(Self {
            config,
            tensors,
            tokenizer_json,
        })
    }

    pub fn model(&self) -> crate::Result<MgeModel> {
        MgeModel::load(&self.tensors, &self.config)
    }

    pub fn tokenizer(&self) -> crate::Result<SubwordTokenizer> {
        SubwordTokenizer::from_bytes(self.tokenizer_json.as_bytes())
    }
}
