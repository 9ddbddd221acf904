//! The Multi-Gate Encoder (Xiong et al., CCL 2022) for joint entity and relation extraction.
//!
//! This crate is target-agnostic (it builds for `wasm32-unknown-unknown`): the trainer, the
//! exporter and the browser demo all run this exact code.
//!
//! - [`bert`]: a BERT encoder that loads Hugging Face checkpoints;
//! - [`model`]: the multi-gate encoder (eqs. 1–6) and the table-filling heads (eqs. 7–10);
//! - [`table`]: targets, the loss (eqs. 13–14) and decoding;
//! - [`tokenize`]: sub-token alignment from words and from raw text;
//! - [`segment`]: raw text into sentences and words, as the datasets cut them;
//! - [`markup`]: HTML tags, character references and Markdown emphasis read as plain text;
//! - [`data`]: SpERT JSON and DyGIE++ JSONL datasets;
//! - [`metrics`]: strict and PFN-compatible micro F1;
//! - [`align`]: tables back to word spans for evaluation.

pub mod align;
pub mod bert;
pub mod bundle;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod engine;
pub mod error;
pub mod eval;
pub mod extract;
pub mod formats;
pub mod init;
pub mod layers;
pub mod markup;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod segment;
pub mod table;
pub mod testing;
pub mod tokenize;
pub mod weights;

pub use config::{BertConfig, Gates, MgeConfig, ModelConfig};
pub use error::{Error, Result};
pub use model::{Batch, MgeModel, MgeOutput};
