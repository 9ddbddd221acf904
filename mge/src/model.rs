//! The Multi-Gate Encoder (paper eqs. 1–6) and the two table-filling heads (eqs. 7–10), with
//! the BERT encoder underneath. Parameter names match DESIGN.md section 2.

use candle_core::{DType, Device, Tensor};

use crate::bert::Bert;
use crate::config::{Gates, ModelConfig};
use crate::error::{Error, Result};
use crate::init::Rng;
use crate::layers::{LayerNorm, Linear};
use crate::weights::{TensorMap, Weights};

/// The names of the six d→h projections, in the order they are fused.
pub(crate) const PROJECTIONS: [&str; 6] = [
    "cand_e",
    "cand_r",
    "gate_e_task",
    "gate_r_task",
    "gate_e_inter",
    "gate_r_inter",
];

fn present(gates: &Gates, name: &str) -> bool {
    match name {
        "gate_e_task" => gates.entity_task,
        "gate_r_task" => gates.relation_task,
        "gate_e_inter" => gates.entity_interaction,
        "gate_r_inter" => gates.relation_interaction,
        _ => true,
    }
}

/// Sigmoid activations of each gate, `[B, T, h]` (absent when the gate is ablated).
#[derive(Debug, Clone, Default)]
pub struct GateActivations {
    pub entity_task: Option<Tensor>,
    pub relation_task: Option<Tensor>,
    pub entity_interaction: Option<Tensor>,
    pub relation_interaction: Option<Tensor>,
}

/// The multi-gate encoder: all present projections run as one d→kh matmul.
#[derive(Debug, Clone)]
pub struct MultiGate {
    pub(crate) proj: Linear,
    pub(crate) names: Vec<&'static str>,
    pub(crate) hidden: usize,
}

/// Output of the multi-gate encoder: `H_ner`, `H_re` (eq. 6) and the gate activations.
#[derive(Debug, Clone)]
pub struct GateOutput {
    pub h_ner: Tensor,
    pub h_re: Tensor,
    pub gates: GateActivations,
}

impl MultiGate {
    pub fn load(w: &Weights, d: usize, hidden: usize, gates: &Gates) -> Result<Self> {
        let names: Vec<&'static str> = PROJECTIONS
            .into_iter()
            .filter(|n| present(gates, n))
            .collect();
        let parts = names
            .iter()
            .map(|n| Linear::load(&w.pp(&format!("mge.{n}")), d, hidden))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Linear> = parts.iter().collect();
        Ok(Self {
            proj: Linear::fuse(&refs)?,
            names,
            hidden,
        })
    }

    pub fn forward(&self, h_b: &Tensor) -> Result<GateOutput> {
        let z = self.proj.forward(h_b)?;
        let chunk = |name: &str| -> Result<Option<Tensor>> {
            match self.names.iter().position(|n| *n == name) {
                Some(i) => Ok(Some(z.narrow(2, i * self.hidden, self.hidden)?)),
                None => Ok(None),
            }
        };
        let missing = |n: &str| Error::Config(format!("projection {n} missing"));
        let hc_e = chunk("cand_e")?.ok_or_else(|| missing("cand_e"))?.tanh()?; // eq. 1
        let hc_r = chunk("cand_r")?.ok_or_else(|| missing("cand_r"))?.tanh()?;
        let sig = |name: &str| -> Result<Option<Tensor>> {
            match chunk(name)? {
                Some(t) => Ok(Some(candle_nn::ops::sigmoid(&t)?)),
                None => Ok(None),
            }
        };
        let gates = GateActivations {
            entity_task: sig("gate_e_task")?,
            relation_task: sig("gate_r_task")?,
            entity_interaction: sig("gate_e_inter")?,
            relation_interaction: sig("gate_r_inter")?,
        };
        // eqs. 2–5: a gate scales its candidate; an ablated task gate passes it through.
        let gated = |g: &Option<Tensor>, c: &Tensor| -> Result<Tensor> {
            Ok(match g {
                Some(g) => g.mul(c)?,
                None => c.clone(),
            })
        };
        let h_e_task = gated(&gates.entity_task, &hc_e)?;
        let h_r_task = gated(&gates.relation_task, &hc_r)?;
        let h_e_inter = match &gates.entity_interaction {
            Some(g) => Some(g.mul(&hc_e)?),
            None => None,
        };
        let h_r_inter = match &gates.relation_interaction {
            Some(g) => Some(g.mul(&hc_r)?),
            None => None,
        };
        // eq. 6: H_ner = [H_e_task ; H_r_inter], H_re = [H_r_task ; H_e_inter].
        let concat = |a: Tensor, b: Option<Tensor>| -> Result<Tensor> {
            Ok(match b {
                Some(b) => Tensor::cat(&[&a, &b], 2)?,
                None => a,
            })
        };
        Ok(GateOutput {
            h_ner: concat(h_e_task, h_r_inter)?,
            h_re: concat(h_r_task, h_e_inter)?,
            gates,
        })
    }
}

/// A table-filling head (eqs. 7–10): `σ(ELU(LN([x_i ; x_j] W + b)) W_tag + b)`, computed as
/// `x_i W_top + b` broadcast-added to `x_j W_bottom`: never an N×N×2w tensor.
#[derive(Debug, Clone)]
pub struct TableHead {
    pub(crate) top: Linear,
    pub(crate) bottom: Linear,
    pub(crate) norm: LayerNorm,
    pub(crate) tag: Linear,
    /// The unsplit `hid` layer, kept for the naive reference computation in tests.
    hid: Linear,
    /// Only cells `i <= j` matter (the entity table).
    upper: bool,
}

impl TableHead {
    pub fn load(
        w: &Weights,
        prefix: &str,
        width: usize,
        hidden: usize,
        labels: usize,
        eps: f64,
        upper: bool,
    ) -> Result<Self> {
        let s = w.pp(prefix);
        let hid = Linear::load(&s.pp("hid"), 2 * width, hidden)?;
        let top = Linear {
            weight: hid.weight.narrow(1, 0, width)?.contiguous()?,
            bias: hid.bias.clone(),
        };
        let bottom = Linear {
            weight: hid.weight.narrow(1, width, width)?.contiguous()?,
            bias: None,
        };
        Ok(Self {
            top,
            bottom,
            norm: LayerNorm::load(&s.pp("ln"), hidden, eps)?,
            tag: Linear::load(&s.pp("tag"), hidden, labels)?,
            hid,
            upper,
        })
    }

    /// `x` `[B, T, w]` → logits `[B, T, T, K]`; cell `(i, j)` pairs row `i` with column `j`.
    /// For the entity table only `i <= j` is computed; the other cells hold the tagger's bias.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let a = self.top.forward(x)?; // [B, T, h]: x_i W_top + b
        let b = self.bottom.forward(x)?; // [B, T, h]: x_j W_bottom
        let (n, tag) = (&self.norm, &self.tag);
        let zeros;
        let tag_b = match &tag.bias {
            Some(b) => b,
            None => {
                zeros = Tensor::zeros(tag.out_dim(), tag.weight.dtype(), tag.weight.device())?;
                &zeros
            }
        };
        crate::ops::pair_table(
            &a,
            &b,
            &n.weight,
            &n.bias,
            &tag.weight,
            tag_b,
            n.eps,
            self.upper,
        )
    }

    /// The textbook computation with the concatenated N×N×2w tensor (reference for tests).
    pub fn forward_naive(&self, x: &Tensor) -> Result<Tensor> {
        let (bsz, t, w) = x.dims3()?;
        let xi = x.unsqueeze(2)?.broadcast_as((bsz, t, t, w))?;
        let xj = x.unsqueeze(1)?.broadcast_as((bsz, t, t, w))?;
        let pair = Tensor::cat(&[&xi.contiguous()?, &xj.contiguous()?], 3)?;
        self.finish(&self.hid.forward(&pair)?)
    }

    fn finish(&self, pre: &Tensor) -> Result<Tensor> {
        let h = self.norm.forward(pre)?.elu(1.0)?;
        self.tag.forward(&h)
    }
}

/// A padded batch of sub-token sequences (each `[CLS] … [SEP]`).
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, T]` u32.
    pub input_ids: Tensor,
    /// `[B, T]` f32, 1 for every real position including `[CLS]`/`[SEP]`.
    pub attention_mask: Tensor,
    /// Sequence length of each item, specials included.
    pub lengths: Vec<usize>,
}

impl Batch {
    pub fn new(sequences: &[&[u32]], pad_id: u32, device: &Device) -> Result<Self> {
        let t = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        if t == 0 {
            return Err(Error::Config("empty batch".into()));
        }
        let b = sequences.len();
        let mut ids = vec![pad_id; b * t];
        let mut mask = vec![0f32; b * t];
        for (k, s) in sequences.iter().enumerate() {
            ids[k * t..k * t + s.len()].copy_from_slice(s);
            mask[k * t..k * t + s.len()]
                .iter_mut()
                .for_each(|m| *m = 1.0);
        }
        Ok(Self {
            input_ids: Tensor::from_vec(ids, (b, t), device)?,
            attention_mask: Tensor::from_vec(mask, (b, t), device)?,
            lengths: sequences.iter().map(|s| s.len()).collect(),
        })
    }

    pub fn size(&self) -> usize {
        self.lengths.len()
    }

    pub fn padded_len(&self) -> usize {
        self.lengths.iter().copied().max().unwrap_or(0)
    }

    /// Positions that take part in the tables: real sub-tokens, not `[CLS]`, `[SEP]` or padding.
    pub fn is_table_position(&self, item: usize, pos: usize) -> bool {
        pos >= 1 && pos + 1 < self.lengths[item]
    }
}

/// Everything the forward pass produces.
#[derive(Debug, Clone)]
pub struct MgeOutput {
    /// `[B, T, T, |E|]` logits of entity cells (only `i <= j` is meaningful).
    pub ner_logits: Tensor,
    /// `[B, T, T, |R|]` logits of relation cells (subject start `i`, object start `j`).
    pub re_logits: Tensor,
    pub gates: GateActivations,
}

/// The whole model: encoder, multi-gate encoder, NER and RE heads.
#[derive(Debug, Clone)]
pub struct MgeModel {
    pub bert: Bert,
    pub gates: MultiGate,
    pub ner: TableHead,
    pub re: TableHead,
    pub config: ModelConfig,
}

impl MgeModel {
    /// Builds the model from tensors named as in a checkpoint (`bert.…`, `mge.…`, `ner.…`, `re.…`).
    pub fn load(map: &TensorMap, config: &ModelConfig) -> Result<Self> {
        config.validate()?;
        let w = Weights::new(map);
        let m = &config.mge;
        let d = config.bert.hidden_size;
        Ok(Self {
            bert: Bert::load(&w.pp("bert"), &config.bert)?,
            gates: MultiGate::load(&w, d, m.hidden, &m.gates)?,
            ner: TableHead::load(
                &w,
                "ner",
                m.ner_width(),
                m.hidden,
                config.labels.entity_types.len(),
                m.head_ln_eps,
                true,
            )?,
            re: TableHead::load(
                &w,
                "re",
                m.re_width(),
                m.hidden,
                config.labels.relation_types.len().max(1),
                m.head_ln_eps,
                false,
            )?,
            config: config.clone(),
        })
    }

    /// Runs the forward pass. `dropout` is an optional mask for the encoder output (training).
    pub fn forward(&self, batch: &Batch, dropout: Option<&Tensor>) -> Result<MgeOutput> {
        let h_b = self.bert.forward(&batch.input_ids, &batch.attention_mask)?;
        let h_b = match dropout {
            Some(mask) => h_b.mul(mask)?,
            None => h_b,
        };
        let g = self.gates.forward(&h_b)?;
        Ok(MgeOutput {
            ner_logits: self.ner.forward(&g.h_ner)?,
            re_logits: self.re.forward(&g.h_re)?,
            gates: g.gates,
        })
    }
}

/// Freshly initialized MGE and head parameters (PyTorch's default `nn.Linear` scheme:
/// uniform in ±1/√fan_in; layer norms at 1 and 0). Deterministic for a seed.
pub fn init_head_weights(
    config: &ModelConfig,
    seed: u64,
    device: &Device,
) -> Result<Vec<(String, Tensor)>> {
    let mut rng = Rng::new(seed);
    let m = &config.mge;
    let d = config.bert.hidden_size;
    let mut out = Vec::new();
    let mut linear = |name: String,
                      input: usize,
                      output: usize,
                      out: &mut Vec<(String, Tensor)>|
     -> Result<()> {
        let bound = 1.0 / (input as f32).sqrt();
        let mut draw = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
                .collect()
        };
        out.push((
            format!("{name}.weight"),
            Tensor::from_vec(draw(output * input), (output, input), device)?,
        ));
        out.push((
            format!("{name}.bias"),
            Tensor::from_vec(draw(output), output, device)?,
        ));
        Ok(())
    };
    for n in PROJECTIONS.into_iter().filter(|n| present(&m.gates, n)) {
        linear(format!("mge.{n}"), d, m.hidden, &mut out)?;
    }
    let heads = [
        ("ner", m.ner_width(), config.labels.entity_types.len()),
        (
            "re",
            m.re_width(),
            config.labels.relation_types.len().max(1),
        ),
    ];
    for (p, width, labels) in heads {
        linear(format!("{p}.hid"), 2 * width, m.hidden, &mut out)?;
        linear(format!("{p}.tag"), m.hidden, labels, &mut out)?;
        out.push((
            format!("{p}.ln.weight"),
            Tensor::ones(m.hidden, DType::F32, device)?,
        ));
        out.push((
            format!("{p}.ln.bias"),
            Tensor::zeros(m.hidden, DType::F32, device)?,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BertConfig, MgeConfig};
    use crate::data::LabelSchema;
    use crate::weights::TensorMap;

    fn config(gates: Gates) -> ModelConfig {
        ModelConfig {
            bert: BertConfig::tiny(40),
            mge: MgeConfig {
                hidden: 12,
                gates,
                ..MgeConfig::default()
            },
            labels: LabelSchema {
                entity_types: vec!["A".into(), "B".into(), "C".into()],
                relation_types: vec!["r1".into(), "r2".into()],
                nested_entities: None,
                same_type_overlaps: None,
                hyphens_split: None,
                slashes_split: None,
                titled_names: None,
                capitalized_types: None,
                relation_signatures: None,
            },
            max_words: 128,
        }
    }

    fn weights(cfg: &ModelConfig, seed: u64) -> TensorMap {
        let dev = Device::Cpu;
        let mut map: TensorMap = crate::bert::random_weights(&cfg.bert, seed, &dev)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (format!("bert.{k}"), v))
            .collect();
        map.extend(init_head_weights(cfg, seed + 1, &dev).unwrap());
        map
    }

    fn batch() -> Batch {
        Batch::new(&[&[2, 5, 6, 7, 8, 3], &[2, 9, 10, 3]], 0, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        crate::testing::tensor_max_abs_diff(a, b).unwrap()
    }

    #[test]
    fn factorized_heads_equal_naive_concatenation() {
        let cfg = config(Gates::default());
        let model = MgeModel::load(&weights(&cfg, 1), &cfg).unwrap();
        let x = Tensor::randn(0f32, 1.0, (2, 7, cfg.mge.ner_width()), &Device::Cpu).unwrap();
        let fast = model.ner.forward(&x).unwrap();
        let naive = model.ner.forward_naive(&x).unwrap();
        assert_eq!(fast.dims(), &[2, 7, 7, 3]);
        // The entity head computes cells i <= j only.
        let upper: Vec<f32> = (0..7)
            .flat_map(|i| (0..7).map(move |j| if j >= i { 1.0 } else { 0.0 }))
            .collect();
        let upper = Tensor::from_vec(upper, (1, 7, 7, 1), &Device::Cpu).unwrap();
        let masked = |t: &Tensor| t.broadcast_mul(&upper).unwrap();
        assert!(max_diff(&masked(&fast), &masked(&naive)) < 1e-4);
        let x = Tensor::randn(0f32, 1.0, (1, 5, cfg.mge.re_width()), &Device::Cpu).unwrap();
        assert!(
            max_diff(
                &model.re.forward(&x).unwrap(),
                &model.re.forward_naive(&x).unwrap()
            ) < 1e-4
        );
    }

    #[test]
    fn full_forward_has_table_shapes_and_all_gates() {
        let cfg = config(Gates::default());
        let model = MgeModel::load(&weights(&cfg, 3), &cfg).unwrap();
        let out = model.forward(&batch(), None).unwrap();
        assert_eq!(out.ner_logits.dims(), &[2, 6, 6, 3]);
        assert_eq!(out.re_logits.dims(), &[2, 6, 6, 2]);
        let g = &out.gates;
        for gate in [
            &g.entity_task,
            &g.relation_task,
            &g.entity_interaction,
            &g.relation_interaction,
        ] {
            let v = gate.as_ref().unwrap();
            assert_eq!(v.dims(), &[2, 6, 12]);
            let (lo, hi): (f32, f32) = (
                v.flatten_all()
                    .unwrap()
                    .min(0)
                    .unwrap()
                    .to_scalar()
                    .unwrap(),
                v.flatten_all()
                    .unwrap()
                    .max(0)
                    .unwrap()
                    .to_scalar()
                    .unwrap(),
            );
            assert!(lo > 0.0 && hi < 1.0, "a sigmoid gate");
        }
    }

    #[test]
    fn each_gate_ablation_changes_what_it_should() {
        let full_cfg = config(Gates::default());
        let full_w = weights(&full_cfg, 5);
        let full = MgeModel::load(&full_w, &full_cfg).unwrap();
        let dev = Device::Cpu;
        let h_b = Tensor::randn(0f32, 1.0, (1, 4, 32), &dev).unwrap();
        let base = full.gates.forward(&h_b).unwrap();
        assert_eq!(base.h_ner.dims(), &[1, 4, 24]);

        // Interaction gates: dropping one narrows the *other* task's features to h.
        let no_r_inter = Gates {
            relation_interaction: false,
            ..Gates::default()
        };
        let cfg = config(no_r_inter);
        assert!(
            MgeModel::load(&full_w, &cfg).is_err(),
            "ner.hid shape must change to 2h"
        );
        let m = MgeModel::load(&weights(&cfg, 5), &cfg).unwrap();
        let out = m.gates.forward(&h_b).unwrap();
        assert_eq!(out.h_ner.dims(), &[1, 4, 12]);
        assert_eq!(out.h_re.dims(), &[1, 4, 24]);
        assert!(out.gates.relation_interaction.is_none());

        let no_e_inter = Gates {
            entity_interaction: false,
            ..Gates::default()
        };
        let cfg = config(no_e_inter);
        let out = MgeModel::load(&weights(&cfg, 5), &cfg)
            .unwrap()
            .gates
            .forward(&h_b)
            .unwrap();
        assert_eq!(out.h_ner.dims(), &[1, 4, 24]);
        assert_eq!(out.h_re.dims(), &[1, 4, 12]);

        // Task gates: without one, H_task is the candidate itself (tanh of the projection),
        // so the same weights give the ungated values.
        for (gates, ner_side) in [
            (
                Gates {
                    entity_task: false,
                    ..Gates::default()
                },
                true,
            ),
            (
                Gates {
                    relation_task: false,
                    ..Gates::default()
                },
                false,
            ),
        ] {
            let cfg = config(gates);
            let mut w = full_w.clone();
            let dropped = |k: &str| {
                (k.starts_with("mge.gate_e_task") && !gates.entity_task)
                    || (k.starts_with("mge.gate_r_task") && !gates.relation_task)
            };
            w.retain(|k, _| !dropped(k));
            let out = MgeModel::load(&w, &cfg)
                .unwrap()
                .gates
                .forward(&h_b)
                .unwrap();
            let (ablated, kept) = if ner_side {
                (&out.h_ner, &base.h_ner)
            } else {
                (&out.h_re, &base.h_re)
            };
            let cand_name = if ner_side { "mge.cand_e" } else { "mge.cand_r" };
            let lin = Linear {
                weight: w[&format!("{cand_name}.weight")].clone(),
                bias: Some(w[&format!("{cand_name}.bias")].clone()),
            };
            let cand = lin.forward(&h_b).unwrap().tanh().unwrap();
            assert!(
                max_diff(&ablated.narrow(2, 0, 12).unwrap(), &cand) < 1e-6,
                "task half is the candidate"
            );
            assert!(
                max_diff(
                    &ablated.narrow(2, 12, 12).unwrap(),
                    &kept.narrow(2, 12, 12).unwrap()
                ) < 1e-6,
                "interaction half unchanged"
            );
            assert!(
                max_diff(
                    &ablated.narrow(2, 0, 12).unwrap(),
                    &kept.narrow(2, 0, 12).unwrap()
                ) > 1e-3
            );
        }
    }

    #[test]
    fn padding_does_not_change_a_sequence_result() {
        let cfg = config(Gates::default());
        let model = MgeModel::load(&weights(&cfg, 9), &cfg).unwrap();
        let alone = Batch::new(&[&[2, 9, 10, 3]], 0, &Device::Cpu).unwrap();
        let a = model.forward(&alone, None).unwrap().ner_logits;
        let padded = model.forward(&batch(), None).unwrap().ner_logits;
        let p = padded
            .narrow(0, 1, 1)
            .unwrap()
            .narrow(1, 0, 4)
            .unwrap()
            .narrow(2, 0, 4)
            .unwrap();
        assert!(max_diff(&a, &p) < 1e-4);
    }
}
