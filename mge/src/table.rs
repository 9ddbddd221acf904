//! Table targets, the loss (eqs. 13–14) and decoding of the NER and RE tables.

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::{Batch, MgeOutput};

/// A labelled cell in sub-token positions: `(i, j)` is an entity from sub-token `i` to
/// sub-token `j` (inclusive) or a relation from the subject starting at `i` to the object
/// starting at `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellLabel {
    pub i: usize,
    pub j: usize,
    pub label: usize,
}

/// Dense 0/1 targets and validity masks for a batch.
#[derive(Debug, Clone)]
pub struct Targets {
    /// `[B, T, T, |E|]`
    pub ner: Tensor,
    /// `[B, T, T, |R|]`
    pub re: Tensor,
    /// `[B, T, T, 1]`: 1 on cells `i <= j` between real sub-tokens.
    pub ner_mask: Tensor,
    /// `[B, T, T, 1]`: 1 on cells between real sub-tokens.
    pub re_mask: Tensor,
    /// Number of real sub-tokens in the batch (the loss normalizer).
    pub tokens: usize,
}

impl Targets {
    pub fn new(
        batch: &Batch,
        ner: &[Vec<CellLabel>],
        re: &[Vec<CellLabel>],
        entity_types: usize,
        relation_types: usize,
        device: &Device,
    ) -> Result<Self> {
        let b = batch.size();
        let t = batch.padded_len();
        let relation_types = relation_types.max(1);
        let mut ner_t = vec![0f32; b * t * t * entity_types];
        let mut re_t = vec![0f32; b * t * t * relation_types];
        let mut ner_m = vec![0f32; b * t * t];
        let mut re_m = vec![0f32; b * t * t];
        let mut tokens = 0;
        for k in 0..b {
            for i in 0..t {
                if !batch.is_table_position(k, i) {
                    continue;
                }
                tokens += 1;
                for j in 0..t {
                    if batch.is_table_position(k, j) {
                        re_m[(k * t + i) * t + j] = 1.0;
                        if i <= j {
                            ner_m[(k * t + i) * t + j] = 1.0;
                        }
                    }
                }
            }
            for c in ner.get(k).into_iter().flatten() {
                if c.i < t && c.j < t && c.label < entity_types {
                    ner_t[((k * t + c.i) * t + c.j) * entity_types + c.label] = 1.0;
                }
            }
            for c in re.get(k).into_iter().flatten() {
                if c.i < t && c.j < t && c.label < relation_types {
                    re_t[((k * t + c.i) * t + c.j) * relation_types + c.label] = 1.0;
                }
            }
        }
        Ok(Self {
            ner: Tensor::from_vec(ner_t, (b, t, t, entity_types), device)?,
            re: Tensor::from_vec(re_t, (b, t, t, relation_types), device)?,
            ner_mask: Tensor::from_vec(ner_m, (b, t, t, 1), device)?,
            re_mask: Tensor::from_vec(re_m, (b, t, t, 1), device)?,
            tokens: tokens.max(1),
        })
    }
}

/// The loss and its two parts (as plain numbers, for logging).
pub struct Loss {
    pub total: Tensor,
    pub ner: f32,
    pub re: f32,
}

/// Binary cross-entropy on logits, summed over masked cells: `max(z,0) − z·y + log(1+e^{−|z|})`.
pub fn masked_bce_sum(logits: &Tensor, targets: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let pos = logits.relu()?;
    let soft = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    let bce = ((pos - logits.mul(targets)?)? + soft)?;
    Ok(bce.broadcast_mul(mask)?.sum_all()?)
}

/// eqs. 13–14: BCE over all valid NER cells plus BCE over all valid RE cells, divided by the
/// number of real sub-tokens in the batch.
pub fn loss(out: &MgeOutput, targets: &Targets) -> Result<Loss> {
    let n = targets.tokens as f64;
    let ner = (masked_bce_sum(&out.ner_logits, &targets.ner, &targets.ner_mask)? / n)?;
    let re = (masked_bce_sum(&out.re_logits, &targets.re, &targets.re_mask)? / n)?;
    let ner_v = ner.to_dtype(DType::F32)?.to_scalar::<f32>()?;
    let re_v = re.to_dtype(DType::F32)?.to_scalar::<f32>()?;
    Ok(Loss {
        total: (ner + re)?,
        ner: ner_v,
        re: re_v,
    })
}

/// A predicted cell with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoredCell {
    pub i: usize,
    pub j: usize,
    pub label: usize,
    pub score: f32,
}

/// One sequence's decoded tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableDecoding {
    /// Entity cells above the threshold (`i <= j`), sorted by position.
    pub entities: Vec<ScoredCell>,
    /// Relation cells above the threshold, sorted by position.
    pub relations: Vec<ScoredCell>,
}

/// A relation between two decoded entities (indexes into `TableDecoding::entities`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecodedTriple {
    pub head: usize,
    pub tail: usize,
    pub label: usize,
    pub score: f32,
}

impl TableDecoding {
    /// Joins relation cells with the entities that start at their two ends: every pair of a
    /// predicted entity starting at `i` and one starting at `j` gets the relation.
    pub fn triples(&self) -> Vec<DecodedTriple> {
        let mut out = Vec::new();
        for r in &self.relations {
            for (h, _) in self.entities.iter().enumerate().filter(|(_, e)| e.i == r.i) {
                for (t, _) in self.entities.iter().enumerate().filter(|(_, e)| e.i == r.j) {
                    if h != t {
                        out.push(DecodedTriple {
                            head: h,
                            tail: t,
                            label: r.label,
                            score: r.score,
                        });
                    }
                }
            }
        }
        out
    }
}

/// The labels of cell `(i, j)` whose probability (`probs`, one per label) is above
/// `threshold`.
pub(crate) fn cells_above(
    probs: &[f32],
    i: usize,
    j: usize,
    threshold: f32,
) -> impl Iterator<Item = ScoredCell> + '_ {
    probs
        .iter()
        .enumerate()
        .filter(move |(_, &p)| p > threshold)
        .map(move |(label, &score)| ScoredCell { i, j, label, score })
}

fn probabilities(logits: &Tensor) -> Result<(Vec<f32>, usize)> {
    let k = logits.dims().last().copied().unwrap_or(1);
    let p = candle_nn::ops::sigmoid(&logits.to_dtype(DType::F32)?)?;
    Ok((p.flatten_all()?.to_vec1::<f32>()?, k))
}

/// Thresholds the tables of every item of a batch.
pub fn decode(out: &MgeOutput, batch: &Batch, threshold: f32) -> Result<Vec<TableDecoding>> {
    let t = batch.padded_len();
    let (ner, ke) = probabilities(&out.ner_logits)?;
    let (re, kr) = probabilities(&out.re_logits)?;
    let mut result = Vec::with_capacity(batch.size());
    for b in 0..batch.size() {
        let mut d = TableDecoding::default();
        for i in (0..t).filter(|&i| batch.is_table_position(b, i)) {
            for j in (0..t).filter(|&j| batch.is_table_position(b, j)) {
                let cell = (b * t + i) * t + j;
                if i <= j {
                    d.entities.extend(cells_above(
                        &ner[cell * ke..(cell + 1) * ke],
                        i,
                        j,
                        threshold,
                    ));
                }
                d.relations.extend(cells_above(
                    &re[cell * kr..(cell + 1) * kr],
                    i,
                    j,
                    threshold,
                ));
            }
        }
        result.push(d);
    }
    Ok(result)
}
