//! Model configuration: the encoder's (Hugging Face `config.json`), the MGE layers', and the
//! full model's, which is what a checkpoint's `config.json` holds.

use serde::{Deserialize, Serialize};

use crate::data::LabelSchema;
use crate::error::{Error, Result};

/// A BERT encoder configuration, read from a Hugging Face `config.json` (unknown keys ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: usize,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_max_pos() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}

impl BertConfig {
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: BertConfig = serde_json::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(Error::Config(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        match self.hidden_act.as_str() {
            "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu" => Ok(()),
            other => Err(Error::Config(format!("unsupported hidden_act `{other}`"))),
        }
    }

    /// A tiny configuration for tests.
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            vocab_size,
            hidden_size: 32,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            intermediate_size: 64,
            hidden_act: "gelu".into(),
            max_position_embeddings: 128,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
        }
    }
}

/// Which of the four gates exist (paper Table 4 ablations).
///
/// Without a task gate, `H_x_task = Hc_x`. Without an interaction gate, that interaction
/// half is dropped from the concatenation of eq. 6 (the other task gets no guidance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gates {
    pub entity_task: bool,
    pub relation_task: bool,
    pub entity_interaction: bool,
    pub relation_interaction: bool,
}

impl Default for Gates {
    fn default() -> Self {
        Self {
            entity_task: true,
            relation_task: true,
            entity_interaction: true,
            relation_interaction: true,
        }
    }
}

/// The MGE layers' configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MgeConfig {
    /// Hidden size `h` of the gates and table heads (PFN and the paper use 300).
    pub hidden: usize,
    pub gates: Gates,
    /// Decision threshold on the sigmoid outputs (0.5 in the paper).
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Layer-norm epsilon of the table heads.
    #[serde(default = "default_head_eps")]
    pub head_ln_eps: f64,
}

fn default_threshold() -> f32 {
    0.5
}
fn default_head_eps() -> f64 {
    1e-5
}

impl Default for MgeConfig {
    fn default() -> Self {
        Self {
            hidden: 300,
            gates: Gates::default(),
            threshold: 0.5,
            head_ln_eps: 1e-5,
        }
    }
}

impl MgeConfig {
    /// Width of `H_ner` (eq. 6): h, plus h when the relation interaction gate exists.
    pub fn ner_width(&self) -> usize {
        self.hidden * (1 + usize::from(self.gates.relation_interaction))
    }
    /// Width of `H_re` (eq. 6): h, plus h when the entity interaction gate exists.
    pub fn re_width(&self) -> usize {
        self.hidden * (1 + usize::from(self.gates.entity_interaction))
    }
}

/// Everything needed to rebuild a model: what a checkpoint's `config.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub bert: BertConfig,
    pub mge: MgeConfig,
    pub labels: LabelSchema,
    /// Longest sentence in words (the paper truncates at 128).
    #[serde(default = "default_max_words")]
    pub max_words: usize,
}

fn default_max_words() -> usize {
    128
}

impl ModelConfig {
    pub fn validate(&self) -> Result<()> {
        self.bert.validate()?;
        if self.mge.hidden == 0 {
            return Err(Error::Config("MGE hidden size must be positive".into()));
        }
        if self.labels.entity_types.is_empty() {
            return Err(Error::Config("the label schema has no entity types".into()));
        }
        Ok(())
    }
}
