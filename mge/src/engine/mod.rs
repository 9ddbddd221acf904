//! The inference path: the same forward pass as [`MgeModel`](crate::model::MgeModel),
//! without padding, autograd or tensor bookkeeping, one sequence at a time.
//!
//! - [`forward`]: the model written once, as operations of a [`forward::Backend`];
//! - [`cpu`]: the CPU backend (natively and in WebAssembly), with its matrix kernels
//!   ([`gemm`] in f32, [`qgemm`] in int8) and the choice of vector instructions ([`isa`]);
//! - `gpu` (feature `gpu`): the same operations as WGSL compute shaders through wgpu
//!   (Vulkan, Metal or DX12 natively, WebGPU in the browser).
//!
//! Training needs candle (autograd, CUDA); serving needs a few matrix products on tens of
//! rows, where candle's per-op overhead and general-purpose GEMM dominate. [`Engine`] is
//! the model packed for the CPU.

pub mod cpu;
pub mod forward;
#[cfg(feature = "gpu")]
pub mod gpu;

pub use cpu::{gemm, isa, qgemm};

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::error::Result;
use crate::model::MgeModel;
use crate::table::{cells_above, ScoredCell, TableDecoding};
use cpu::Cpu;
use forward::Model;

/// The arithmetic of the engine's matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// int8 where this processor has dot-product instructions that make it faster
    /// ([`isa::int8_dot`]), f32 elsewhere.
    #[default]
    Auto,
    /// f32 everywhere (the reference: the training model's arithmetic).
    F32,
    /// int8 products (weights and activations in blocks of 32 with their own scales),
    /// through the fastest int8 kernel this processor has.
    Int8,
}

impl Precision {
    fn int8(self) -> bool {
        match self {
            Precision::Auto => isa::int8_dot(),
            Precision::F32 => false,
            Precision::Int8 => true,
        }
    }
}

/// Mean sigmoid activation of each gate per sub-token (absent when the gate is ablated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GateMeans {
    pub entity_task: Option<Vec<f32>>,
    pub relation_task: Option<Vec<f32>>,
    pub entity_interaction: Option<Vec<f32>>,
    pub relation_interaction: Option<Vec<f32>>,
}

/// What one forward pass over `[CLS] t_1 … t_n [SEP]` gives, over the `n` inner sub-tokens.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// Inner sub-tokens (the special tokens are not part of the tables).
    pub n: usize,
    /// `n × n × |E|` entity probabilities, row-major; only cells `i <= j` are computed
    /// (the others are 0).
    pub ner: Vec<f32>,
    /// `n × n × |R|` relation probabilities (subject start `i`, object start `j`).
    pub re: Vec<f32>,
    /// Gate activations (only when asked for).
    pub gates: Option<GateMeans>,
    /// Milliseconds in the encoder and in the gates and heads (0 without a clock).
    pub encoder_ms: f64,
    pub heads_ms: f64,
}

/// How many of a group's spans [`Tables::pooled_mentions`] pools.
const POOLED_SPANS: usize = 2;

/// [`Tables::pooled_mentions`] pools nothing in a table with more spans above the floor
/// than this many per sub-token.
const POOL_SPARSITY: usize = 2;

/// A relation at least this sure vouches for spans down to [`SURE_RELATION_FLOOR`] in
/// [`Tables::supported_mentions`]: `Mr. Obama was born in Honolulu, Hawaii, on Aug. 4,
/// 1961.` puts 1.00 on `Live_In` and 0.07 on `Honolulu`, whose probability the model
/// spreads over the place's readings (`Honolulu`, `Honolulu , Hawaii`). Chosen on dev among
/// (0.99, 0.05), (0.99, 0.1) and (0.95, 0.05) (`docs/RESULTS.md`).
pub const SURE_RELATION: f32 = 0.99;

/// See [`SURE_RELATION`].
pub const SURE_RELATION_FLOOR: f32 = 0.05;

impl Tables {
    /// Mentions whose probability the model split between spans of one type that share an
    /// end (or a start), none of them above `threshold`: `President George W. Bush` 0.45 and
    /// `George W. Bush` 0.23. Where the chance that one of the two likeliest such spans (each
    /// at least `floor`) is a mention, `1 − (1 − p₁)(1 − p₂)`, passes `threshold`, the
    /// likelier is returned with that chance as its score. Groups with a span above
    /// `threshold` are left to [`decode`](Self::decode). A table with more than
    /// two spans above `floor` per sub-token gives none. Positions as in
    /// `decode`.
    pub fn pooled_mentions(&self, threshold: f32, floor: f32) -> Vec<ScoredCell> {
        let n = self.n;
        if n == 0 || self.ner.is_empty() {
            return Vec::new();
        }
        let k = self.ner.len() / (n * n);
        let p = |i: usize, j: usize, l: usize| self.ner[(i * n + j) * k + l];
        if self.unsure(floor) {
            return Vec::new();
        }
        let mut out: Vec<ScoredCell> = Vec::new();
        for l in 0..k {
            // By shared end, then by shared start.
            for by_end in [true, false] {
                for fixed in 0..n {
                    let (lo, hi) = if by_end { (0, fixed + 1) } else { (fixed, n) };
                    let cells =
                        || (lo..hi).map(move |m| if by_end { (m, fixed) } else { (fixed, m) });
                    if cells().any(|(i, j)| p(i, j, l) > threshold) {
                        continue;
                    }
                    // The two likeliest spans of at least `floor`: diffuse probability
                    // over many spans (an unsure model, odd text) is no mention.
                    let mut top = [None::<(usize, usize, f32)>; POOLED_SPANS];
                    for (i, j) in cells() {
                        let q = p(i, j, l);
                        if q < floor {
                            continue;
                        }
                        let mut new = Some((i, j, q));
                        for slot in top.iter_mut() {
                            if slot.is_none_or(|s| new.is_some_and(|n| n.2 > s.2)) {
                                std::mem::swap(slot, &mut new);
                            }
                        }
                    }
                    let pooled = 1.0 - top.iter().flatten().map(|s| 1.0 - s.2).product::<f32>();
                    if let Some((i, j, _)) = top[0].filter(|_| pooled > threshold) {
                        let cell = ScoredCell {
                            i: i + 1,
                            j: j + 1,
                            label: l,
                            score: pooled,
                        };
                        if !out
                            .iter()
                            .any(|c| (c.i, c.j, c.label) == (cell.i, cell.j, l))
                        {
                            out.push(cell);
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the entity table has more spans of at least `floor` than [`POOL_SPARSITY`] per
    /// sub-token. A model sure of its mentions leaves few such spans, a few per mention;
    /// where it leaves many (an unsure model, odd text), reporting spans below the threshold
    /// ([`pooled_mentions`](Self::pooled_mentions),
    /// [`supported_mentions`](Self::supported_mentions)) would make mentions of noise.
    fn unsure(&self, floor: f32) -> bool {
        let n = self.n;
        let k = self.ner.len() / (n * n).max(1);
        let weak = (0..n)
            .flat_map(|i| (i..n).map(move |j| (i, j)))
            .map(|(i, j)| {
                (0..k)
                    .filter(|&l| self.ner[(i * n + j) * k + l] >= floor)
                    .count()
            })
            .sum::<usize>();
        weak > POOL_SPARSITY * n
    }

    /// Mentions that a relation vouches for: where a relation cell `(i, j)` passes
    /// `threshold` but the entity table is unsure of its arguments (`Oracle is based in
    /// Austin, Texas`: `Austin` 0.23, `Texas` 0.27, `Austin → Texas` `Located_In` 0.90), the
    /// likeliest span starting at `i` of the head type the relation takes and the likeliest
    /// at `j` of its tail type are returned, when both reach `floor` and the start has no
    /// mention above `threshold` already; a relation of at least [`SURE_RELATION`] asks only
    /// [`SURE_RELATION_FLOOR`] of them. `signatures` are the (relation, head type, tail
    /// type) combinations the model's training data has; the score is the span's own
    /// probability. Like [`pooled_mentions`](Self::pooled_mentions), a table with more than
    /// two entity spans above `floor` per sub-token gives none. Positions as in
    /// [`decode`](Self::decode).
    pub fn supported_mentions(
        &self,
        threshold: f32,
        floor: f32,
        signatures: &crate::extract::Signatures,
    ) -> Vec<ScoredCell> {
        let n = self.n;
        if n == 0 || self.ner.is_empty() || self.re.is_empty() {
            return Vec::new();
        }
        let k = self.ner.len() / (n * n);
        let r = self.re.len() / (n * n);
        let p = |i: usize, j: usize, l: usize| self.ner[(i * n + j) * k + l];
        if self.unsure(floor) {
            return Vec::new();
        }
        let sure = |i: usize| (i..n).any(|j| (0..k).any(|l| p(i, j, l) > threshold));
        // The likeliest span of type `l` that starts at `i`, if it reaches the floor.
        let best = |i: usize, l: usize, floor: f32| {
            (i..n)
                .map(|j| (j, p(i, j, l)))
                .filter(|&(_, q)| q >= floor)
                .max_by(|a, b| a.1.total_cmp(&b.1))
        };
        let mut out: Vec<ScoredCell> = Vec::new();
        let mut add = |i: usize, j: usize, l: usize, score: f32| {
            let cell = ScoredCell {
                i: i + 1,
                j: j + 1,
                label: l,
                score,
            };
            if !out
                .iter()
                .any(|c| (c.i, c.j, c.label) == (cell.i, cell.j, l))
            {
                out.push(cell);
            }
        };
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                for rel in 0..r {
                    let q = self.re[(i * n + j) * r + rel];
                    if q <= threshold {
                        continue;
                    }
                    let floor = if q >= SURE_RELATION {
                        floor.min(SURE_RELATION_FLOOR)
                    } else {
                        floor
                    };
                    for &(_, head, tail) in signatures.range((rel, 0, 0)..(rel + 1, 0, 0)) {
                        let (Some(h), Some(t)) = (best(i, head, floor), best(j, tail, floor))
                        else {
                            continue;
                        };
                        if !sure(i) {
                            add(i, h.0, head, h.1);
                        }
                        if !sure(j) {
                            add(j, t.0, tail, t.1);
                        }
                    }
                }
            }
        }
        out
    }

    /// Cells above `threshold`, with positions in the sequence (`[CLS]` is position 0, so the
    /// first inner sub-token is 1), as [`crate::table::decode`] gives them.
    pub fn decode(&self, threshold: f32) -> TableDecoding {
        let n = self.n;
        let mut d = TableDecoding::default();
        let cells = |probs: &[f32], upper: bool, out: &mut Vec<ScoredCell>| {
            if n == 0 {
                return;
            }
            let k = probs.len() / (n * n);
            for i in 0..n {
                for j in if upper { i } else { 0 }..n {
                    let cell = &probs[(i * n + j) * k..(i * n + j + 1) * k];
                    out.extend(cells_above(cell, i + 1, j + 1, threshold));
                }
            }
        };
        cells(&self.ner, true, &mut d.entities);
        cells(&self.re, false, &mut d.relations);
        d
    }
}

/// The model packed for the CPU backend.
pub struct Engine {
    model: Model<Cpu>,
    cpu: Cpu,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("int8", &self.cpu.int8)
            .finish()
    }
}

impl Engine {
    /// Packs the weights of a loaded model, in the arithmetic that is fastest here
    /// ([`Precision::Auto`]).
    pub fn new(model: &MgeModel) -> Result<Self> {
        Self::with_precision(model, Precision::Auto)
    }

    /// Packs the weights of a loaded model for the given arithmetic.
    pub fn with_precision(model: &MgeModel, precision: Precision) -> Result<Self> {
        let cpu = Cpu {
            int8: precision.int8(),
        };
        Ok(Self {
            model: Model::build(model, &cpu)?,
            cpu,
        })
    }

    /// Whether the matrix products run in int8.
    pub fn int8(&self) -> bool {
        self.cpu.int8
    }

    /// Packs a model straight from its tensors (see [`MgeModel::load`]).
    pub fn load(map: &crate::weights::TensorMap, config: &ModelConfig) -> Result<Self> {
        Self::new(&MgeModel::load(map, config)?)
    }

    /// [`load`](Self::load) for the given arithmetic.
    pub fn load_with(
        map: &crate::weights::TensorMap,
        config: &ModelConfig,
        precision: Precision,
    ) -> Result<Self> {
        Self::with_precision(&MgeModel::load(map, config)?, precision)
    }

    pub fn max_positions(&self) -> usize {
        self.model.max_positions()
    }

    pub fn entity_labels(&self) -> usize {
        self.model.entity_labels()
    }

    pub fn relation_labels(&self) -> usize {
        self.model.relation_labels()
    }

    /// Runs `[CLS] … [SEP]` ids through the encoder, the gates and both heads. `clock`
    /// (milliseconds) splits the time between the encoder and the rest.
    pub fn forward(
        &self,
        ids: &[u32],
        want_gates: bool,
        clock: Option<&dyn Fn() -> f64>,
    ) -> Result<Tables> {
        let now = || clock.map(|c| c()).unwrap_or(0.0);
        let t0 = now();
        let x = self.model.encode(&self.cpu, &mut (), ids)?;
        let t1 = now();
        let out = self
            .model
            .heads(&self.cpu, &mut (), &x, ids.len(), want_gates)?;
        let mut tables = out.into_tables(&self.model.gates, want_gates, Ok)?;
        let t2 = now();
        tables.encoder_ms = t1 - t0;
        tables.heads_ms = t2 - t1;
        Ok(tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Batch;
    use crate::testing::{
        gate_ablations, max_abs_diff as max_diff, reference_probabilities, tiny_model,
        tiny_model_with_gates,
    };
    use candle_core::Device;

    /// The candle model's probabilities and mean gate activations over the inner cells.
    fn reference(model: &MgeModel, ids: &[u32]) -> (Vec<f32>, Vec<f32>, Vec<Vec<f32>>) {
        let (ner, re) = reference_probabilities(model, ids).unwrap();
        let batch = Batch::new(&[ids], 0, &Device::Cpu).unwrap();
        let gates = model.forward(&batch, None).unwrap().gates;
        let t = ids.len();
        let means: Vec<Vec<f32>> = [
            &gates.entity_task,
            &gates.relation_task,
            &gates.entity_interaction,
            &gates.relation_interaction,
        ]
        .into_iter()
        .flatten()
        .map(|g| {
            let m: Vec<f32> = g.mean(2).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            m[1..t - 1].to_vec()
        })
        .collect();
        (ner, re, means)
    }

    #[test]
    fn matches_the_training_model_with_every_gate_ablation() {
        for (v, gates) in gate_ablations().into_iter().enumerate() {
            let (cfg, map) = tiny_model_with_gates(gates, 11 + v as u64).unwrap();
            let model = MgeModel::load(&map, &cfg).unwrap();
            let engine = Engine::with_precision(&model, Precision::F32).unwrap();
            for ids in [
                vec![1u32, 2],
                vec![1, 7, 2],
                vec![1, 5, 9, 12, 3, 30, 31, 8, 2],
            ] {
                let (ner, re, means) = reference(&model, &ids);
                let got = engine.forward(&ids, true, None).unwrap();
                assert_eq!(got.n, ids.len() - 2);
                assert!(max_diff(&got.ner, &ner) < 1e-5, "variant {v}: ner");
                assert!(max_diff(&got.re, &re) < 1e-5, "variant {v}: re");
                let g = got.gates.unwrap();
                let mine: Vec<Vec<f32>> = [
                    g.entity_task,
                    g.relation_task,
                    g.entity_interaction,
                    g.relation_interaction,
                ]
                .into_iter()
                .flatten()
                .collect();
                assert_eq!(mine.len(), means.len(), "variant {v}: gate count");
                for (a, b) in mine.iter().zip(&means) {
                    assert!(max_diff(a, b) < 1e-5, "variant {v}: gate means");
                }
            }
        }
    }

    #[test]
    fn decoding_matches_the_training_decoder() {
        let (cfg, map) = tiny_model(40, 5).unwrap();
        let model = MgeModel::load(&map, &cfg).unwrap();
        let engine = Engine::with_precision(&model, Precision::F32).unwrap();
        let ids = [1u32, 5, 9, 12, 3, 30, 31, 8, 2];
        let batch = Batch::new(&[&ids], 0, &Device::Cpu).unwrap();
        let out = model.forward(&batch, None).unwrap();
        let tables = engine.forward(&ids, false, None).unwrap();
        // Thresholds at the median cell so that both tables have many cells on each side.
        let mut ps = tables.re.clone();
        ps.sort_by(f32::total_cmp);
        let threshold = ps[ps.len() / 2];
        let want = &crate::table::decode(&out, &batch, threshold).unwrap()[0];
        let got = tables.decode(threshold);
        assert!(!got.entities.is_empty() && !got.relations.is_empty());
        let key = |c: &ScoredCell| (c.i, c.j, c.label);
        let keys = |v: &[ScoredCell]| v.iter().map(key).collect::<Vec<_>>();
        assert_eq!(keys(&got.entities), keys(&want.entities));
        assert_eq!(keys(&got.relations), keys(&want.relations));
    }

    #[test]
    fn bad_sequences_are_errors_not_panics() {
        let (cfg, map) = tiny_model(40, 3).unwrap();
        let engine = Engine::load(&map, &cfg).unwrap();
        assert!(engine.forward(&[1], false, None).is_err());
        assert!(engine.forward(&[1, 400, 2], false, None).is_err());
        let too_long = vec![1u32; engine.max_positions() + 1];
        assert!(engine.forward(&too_long, false, None).is_err());
    }

    #[test]
    fn a_mention_split_between_spans_is_pooled_and_one_above_the_threshold_is_left_alone() {
        // Four sub-tokens, two types: "Former President George Bush".
        let (n, k) = (4, 2);
        let mut t = Tables {
            n,
            ner: vec![0.0; n * n * k],
            ..Tables::default()
        };
        let mut set = |i: usize, j: usize, l: usize, p: f32| t.ner[(i * n + j) * k + l] = p;
        // Type 0 ending at "Bush": 0.45 (from "President"), 0.23 (from "George"), 0.09.
        set(1, 3, 0, 0.45);
        set(2, 3, 0, 0.23);
        set(3, 3, 0, 0.09);
        // Type 1 has one span above the threshold and a weak one beside it.
        set(0, 1, 1, 0.9);
        set(0, 0, 1, 0.3);
        let got = t.pooled_mentions(0.5, 0.2);
        assert_eq!(got.len(), 1, "{got:?}");
        // The likeliest span, positions counted from [CLS], scored 1 − 0.55 · 0.77.
        assert_eq!((got[0].i, got[0].j, got[0].label), (2, 4, 0));
        assert!((got[0].score - 0.5765).abs() < 1e-4, "{}", got[0].score);
        // A higher floor leaves 0.45 alone, below the threshold.
        assert!(t.pooled_mentions(0.5, 0.3).is_empty());
        // Nothing above the threshold by itself: decode keeps only the 0.9.
        assert_eq!(t.decode(0.5).entities.len(), 1);
        // Probability spread thin over many spans is no mention: four spans at 0.25 ending
        // at one place (pooled over all four, 0.68; over the likeliest two, 0.44).
        let mut thin = Tables {
            n,
            ner: vec![0.0; n * n * k],
            ..Tables::default()
        };
        for i in 0..4 {
            thin.ner[(i * n + 3) * k] = 0.25;
        }
        assert!(thin.pooled_mentions(0.5, 0.2).is_empty());
        // A table full of middling spans (an unsure model) is not pooled at all.
        let mut unsure = t.clone();
        for cell in unsure.ner.iter_mut().filter(|p| **p == 0.0) {
            *cell = 0.3;
        }
        assert!(unsure.pooled_mentions(0.5, 0.2).is_empty());
    }
    #[test]
    fn a_relation_vouches_for_unsure_mentions_of_the_types_it_takes() {
        // "Oracle is based in Austin , Texas": sub-tokens 0 Oracle, 1 Austin, 2 Texas (the
        // rest left out); types 0 Org and 1 Loc; relations 0 OrgBased_In, 1 Located_In.
        let (n, k, r) = (3, 2, 2);
        let mut t = Tables {
            n,
            ner: vec![0.0; n * n * k],
            re: vec![0.0; n * n * r],
            ..Tables::default()
        };
        t.ner[0] = 0.98; // Oracle, Org: sure
        t.ner[(n + 1) * k + 1] = 0.23; // Austin, Loc
        t.ner[(2 * n + 2) * k + 1] = 0.27; // Texas, Loc
        t.ner[(n + 2) * k] = 0.4; // "Austin Texas" as an Org: not the type the relation takes
        t.re[(n + 2) * r + 1] = 0.9; // Austin --Located_In--> Texas
        let signatures: crate::extract::Signatures = [(0, 0, 1), (1, 1, 1)].into();
        let mut got = t.supported_mentions(0.5, 0.2, &signatures);
        got.sort_by_key(|c| (c.i, c.j));
        let cells: Vec<_> = got.iter().map(|c| (c.i, c.j, c.label)).collect();
        // Positions counted from [CLS]; each span keeps its own probability as its score.
        assert_eq!(cells, vec![(2, 2, 1), (3, 3, 1)]);
        assert_eq!(got[0].score, 0.23);
        // Below the floor, no support.
        assert!(t.supported_mentions(0.5, 0.3, &signatures).is_empty());
        // Unless the relation is all but certain: then a twentieth is enough.
        t.re[(n + 2) * r + 1] = 0.995;
        assert_eq!(t.supported_mentions(0.5, 0.3, &signatures).len(), 2);
        t.ner[(n + 1) * k + 1] = 0.04;
        assert!(t.supported_mentions(0.5, 0.3, &signatures).is_empty());
        t.ner[(n + 1) * k + 1] = 0.23;
        t.re[(n + 2) * r + 1] = 0.9;
        // A relation type whose signature takes other types vouches for nothing (no Org
        // starts at Texas).
        let org_to_org: crate::extract::Signatures = [(1, 0, 0)].into();
        assert!(t.supported_mentions(0.5, 0.2, &org_to_org).is_empty());
        // A relation below the threshold vouches for nothing.
        let mut weak = t.clone();
        weak.re[(n + 2) * r + 1] = 0.4;
        assert!(weak.supported_mentions(0.5, 0.2, &signatures).is_empty());
        // Where the head is already a mention above the threshold, only the tail is added.
        let mut sure = t.clone();
        sure.ner[(n + 1) * k + 1] = 0.8;
        let got = sure.supported_mentions(0.5, 0.2, &signatures);
        assert_eq!(
            got.iter().map(|c| (c.i, c.j, c.label)).collect::<Vec<_>>(),
            vec![(3, 3, 1)]
        );
        // An unsure model (middling probability everywhere) gets no support.
        let mut unsure = t.clone();
        for cell in unsure.ner.iter_mut().filter(|p| **p == 0.0) {
            *cell = 0.3;
        }
        assert!(unsure.supported_mentions(0.5, 0.2, &signatures).is_empty());
    }
}
