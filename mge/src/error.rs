//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong when building or running a model.
#[derive(Debug, Error)]
pub enum Error {
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("missing weight `{0}`")]
    MissingWeight(String),
    #[error("weight `{name}` has shape {found:?}, expected {expected:?}")]
    WeightShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("safetensors: {0}")]
    SafeTensors(#[from] safetensors::SafeTensorError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The GPU backend: no adapter, a device lost, a shader or validation error.
    #[error("GPU: {0}")]
    Gpu(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<tokenizers::Error> for Error {
    fn from(e: tokenizers::Error) -> Self {
        Error::Tokenizer(e.to_string())
    }
}
