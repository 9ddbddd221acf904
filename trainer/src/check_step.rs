//! `mge check-step`: one training step on two devices from the same weights and batch,
//! compared (loss, gradients, one AdamW update). The tested side is `--device`, the reference
//! `--reference` (the CPU by default); all other flags are those of `mge train`, so the step
//! checked is the first step that `mge train` with the same flags takes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use candle_core::{Device, Tensor};
use clap::ValueEnum;
use mge::weights::TensorMap;
use serde::Serialize;

use crate::compare::{compare_steps, StepComparison, StepResult, TensorDiff, Tolerance};
use crate::train::{
    batch_dropout, batch_of, epoch_plan, forward_backward, parameters, parse_device, RunData,
    TrainConfig,
};
use crate::Result;

/// Which implementation of softmax, layer norm, GELU and the pair tables a side runs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ops {
    /// The fused kernels on the CPU, composed tensor ops on other devices (what `mge train`
    /// runs).
    Auto,
    /// Composed tensor ops everywhere: on the CPU, the op graph that CUDA runs.
    Composed,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TolerancePreset {
    /// `exact` when both sides run the same code on the CPU, `tf32` with --tf32, else `f32`.
    Auto,
    Exact,
    F32,
    Tf32,
}

#[derive(clap::Args)]
pub struct CheckStepArgs {
    /// Device of the reference step: cpu, cuda or cuda:N (the tested one is --device).
    #[arg(long, default_value = "cpu")]
    reference: String,
    /// Kernels of the reference side.
    #[arg(long, value_enum, default_value = "auto")]
    reference_ops: Ops,
    /// Kernels of the tested side.
    #[arg(long, value_enum, default_value = "auto")]
    tested_ops: Ops,
    /// Let f32 matrix products on CUDA use TF32 tensor cores (off by default in candle, as in
    /// PyTorch); the `auto` tolerance becomes `tf32`.
    #[arg(long)]
    tf32: bool,
    /// Bounds the differences must stay within (see docs/GPU.md).
    #[arg(long, value_enum, default_value = "auto")]
    tolerance: TolerancePreset,
    /// Which batch of epoch 1 to step on: `first` (the one `mge train` starts with),
    /// `longest` (the most padded sub-tokens), or its 0-based position.
    #[arg(long, default_value = "first")]
    which_batch: String,
    /// The model, batch and optimizer: the flags of `mge train`. The report goes to
    /// OUT/check-step.json.
    #[command(flatten, next_help_heading = "Settings of the step (as for mge train)")]
    train: crate::TrainArgs,
}

/// What one side ran and measured.
#[derive(Serialize)]
struct SideReport {
    device: String,
    ops: &'static str,
    loss: f64,
    ner_loss: f32,
    re_loss: f32,
    /// Global gradient norm before clipping, as the optimizer computed it.
    gradient_norm: f64,
    /// Forward, backward and copying the gradients to the host (on CUDA the first step
    /// also loads the kernels).
    seconds: f64,
    /// Parameters that received no gradient (their gradient is taken as 0).
    missing_gradients: Vec<String>,
}

#[derive(Serialize)]
struct BatchReport {
    /// Position of the batch in epoch 1.
    position: usize,
    /// Indexes of the training examples in the batch.
    examples: Vec<usize>,
    padded_len: usize,
    sub_tokens: usize,
}

#[derive(Serialize)]
struct Report {
    reference: SideReport,
    tested: SideReport,
    /// Whether TF32 was allowed for f32 matrix products on CUDA during the step.
    tf32: bool,
    batch: BatchReport,
    dropout: f64,
    seed: u64,
    /// The optimizer step runs at this multiple of the base learning rates (the peak of
    /// the schedule, so that updates are far above the rounding of the weights).
    learning_rate_scale: f64,
    train_config: TrainConfig,
    comparison: StepComparison,
}

struct Side {
    spec: String,
    device: Device,
    ops: Ops,
}

impl Side {
    /// Whether this side runs the fused CPU kernels.
    fn fused(&self) -> bool {
        self.device.is_cpu() && self.ops == Ops::Auto
    }

    fn ops_name(&self) -> &'static str {
        if self.fused() {
            "fused CPU kernels"
        } else {
            "composed tensor ops"
        }
    }
}

/// The host values of a tensor.
fn host(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

/// One step on `side` from `initial` (host tensors, copied to the side's device).
fn step_on(
    side: &Side,
    cfg: &TrainConfig,
    data: &RunData,
    initial: &TensorMap,
    idx: &[usize],
    dropout: Option<&Tensor>,
) -> Result<(StepResult, SideReport)> {
    let dev = &side.device;
    let weights = initial
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.to_device(dev)?)))
        .collect::<Result<TensorMap>>()?;
    let (vars, mut opt) = parameters(&weights, cfg)?;
    drop(weights);
    let (batch, targets) = batch_of(&data.train, idx, data.tokenizer.pad_id(), &data.labels, dev)?;
    let mask = dropout.map(|m| m.to_device(dev)).transpose()?;

    let started = Instant::now();
    let run = || forward_backward(&vars, &data.model, &batch, &targets, mask.as_ref());
    let (loss, grads) = if side.ops == Ops::Auto {
        run()?
    } else {
        mge::ops::with_composed_ops(run)?
    };
    let mut missing = Vec::new();
    let mut gradients = Vec::with_capacity(vars.len());
    for (name, var) in &vars {
        let g = match grads.get(var) {
            Some(g) => host(g)?,
            None => {
                missing.push(name.clone());
                vec![0f32; var.elem_count()]
            }
        };
        gradients.push((name.clone(), g));
    }
    let seconds = started.elapsed().as_secs_f64();

    let gradient_norm = opt.step(&grads, 1.0, cfg.clip)?;
    let mut updates = Vec::with_capacity(vars.len());
    for (name, var) in &vars {
        let before = host(&initial[name])?;
        let after = host(var.as_tensor())?;
        let delta = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        updates.push((name.clone(), delta));
    }
    let result = StepResult {
        loss: loss.ner as f64 + loss.re as f64,
        gradients,
        updates,
    };
    let report = SideReport {
        device: side.spec.clone(),
        ops: side.ops_name(),
        loss: result.loss,
        ner_loss: loss.ner,
        re_loss: loss.re,
        gradient_norm,
        seconds,
        missing_gradients: missing,
    };
    Ok((result, report))
}

/// The position in `plan` that `which` names (`first`, `longest` or a number).
fn pick_batch(plan: &[Vec<usize>], examples: &[mge::align::Example], which: &str) -> Result<usize> {
    if plan.is_empty() {
        anyhow::bail!("the training set is empty");
    }
    let padded = |b: &Vec<usize>| {
        let longest = b.iter().map(|&i| examples[i].pieces.ids.len()).max();
        longest.unwrap_or(0) * b.len()
    };
    match which {
        "first" => Ok(0),
        "longest" => Ok((0..plan.len())
            .max_by_key(|&k| padded(&plan[k]))
            .unwrap_or(0)),
        n => {
            let k: usize = n.parse().with_context(|| {
                format!("--which-batch: `{n}` is not first, longest or a number")
            })?;
            if k >= plan.len() {
                anyhow::bail!("--which-batch {k}: epoch 1 has {} batches", plan.len());
            }
            Ok(k)
        }
    }
}

/// One line about gradients or updates: the largest relative difference among the tensors
/// whose bound is set by the relative term (the others are small enough for the absolute
/// floor to decide), the smallest cosine there, and the tensor that uses most of its bound.
fn line(kind: &str, list: &[TensorDiff]) {
    if list.iter().all(|d| d.diff_norm == 0.0 && d.finite) {
        println!("{kind:<10} {} tensors, identical bit for bit", list.len());
        return;
    }
    let above: Vec<&TensorDiff> = list.iter().filter(|d| d.cosine_checked).collect();
    let worst_rel = above.iter().max_by(|a, b| a.rel_l2.total_cmp(&b.rel_l2));
    let min_cos = above.iter().map(|d| d.cosine).fold(1.0, f64::min);
    let worst = StepComparison::worst(list, 1);
    let (Some(r), Some(w)) = (worst_rel, worst.first()) else {
        println!(
            "{kind:<10} {} tensors, all under the absolute floor",
            list.len()
        );
        return;
    };
    println!(
        "{kind:<10} {} tensors ({} small enough for the absolute floor); the others: largest relative L2 {:.2e} ({}), smallest cosine {min_cos:.9}; largest share of the bound {:.3} ({})",
        list.len(),
        list.len() - above.len(),
        r.rel_l2,
        r.name,
        w.ratio,
        w.name
    );
}

pub fn run(a: &CheckStepArgs) -> Result<()> {
    let cfg = crate::train_config(&a.train)?;
    let reference = Side {
        spec: a.reference.clone(),
        device: parse_device(&a.reference)?,
        ops: a.reference_ops,
    };
    let tested = Side {
        spec: cfg.device.clone(),
        device: parse_device(&cfg.device)?,
        ops: a.tested_ops,
    };
    if a.tf32 {
        if !(reference.device.is_cuda() || tested.device.is_cuda()) {
            anyhow::bail!("--tf32 only changes CUDA matrix products, and neither side is CUDA");
        }
        candle_core::cuda::set_gemm_reduced_precision_f32(true);
    }
    let tolerance = match a.tolerance {
        TolerancePreset::Exact => Tolerance::EXACT,
        TolerancePreset::F32 => Tolerance::F32,
        TolerancePreset::Tf32 => Tolerance::TF32,
        TolerancePreset::Auto if a.tf32 => Tolerance::TF32,
        TolerancePreset::Auto
            if reference.device.is_cpu()
                && tested.device.is_cpu()
                && reference.fused() == tested.fused() =>
        {
            Tolerance::EXACT
        }
        TolerancePreset::Auto => Tolerance::F32,
    };

    // Everything is read once, on the host; each side gets copies of the same tensors.
    let host_dev = Device::Cpu;
    let data = RunData::load(&cfg, &host_dev)?;
    let initial = data.initial_weights(cfg.seed, &host_dev)?;
    let (plan, mut rng) = epoch_plan(&data.train, &cfg, 1);
    let position = pick_batch(&plan, &data.train, &a.which_batch)?;
    let idx = &plan[position];
    // The masks of the batches before it are drawn too, so that its dropout mask is the one
    // `mge train` uses.
    let mut drawn = None;
    for batch in &plan[..=position] {
        let (b, _) = batch_of(
            &data.train,
            batch,
            data.tokenizer.pad_id(),
            &data.labels,
            &host_dev,
        )?;
        let mask = batch_dropout(&b, &data.model, cfg.dropout, &mut rng, &host_dev)?;
        drawn = Some((b, mask));
    }
    let (host_batch, dropout) = drawn.context("no batch drawn")?;

    let (ref_result, ref_report) =
        step_on(&reference, &cfg, &data, &initial, idx, dropout.as_ref())?;
    let (test_result, test_report) =
        step_on(&tested, &cfg, &data, &initial, idx, dropout.as_ref())?;
    let comparison = compare_steps(&ref_result, &test_result, &tolerance)?;
    drop((ref_result, test_result));

    let report = Report {
        // Without the cuda feature candle's stand-in answers `true`; there is no CUDA then.
        tf32: candle_core::utils::cuda_is_available()
            && candle_core::cuda::gemm_reduced_precision_f32(),
        batch: BatchReport {
            position,
            examples: idx.clone(),
            padded_len: host_batch.padded_len(),
            sub_tokens: host_batch.lengths.iter().sum(),
        },
        dropout: cfg.dropout,
        seed: cfg.seed,
        learning_rate_scale: 1.0,
        train_config: cfg.clone(),
        reference: ref_report,
        tested: test_report,
        comparison,
    };
    let out: &PathBuf = &a.train.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("check-step.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;

    let c = &report.comparison;
    println!(
        "reference  {} ({}), tested {} ({}); batch {} of epoch 1: {} sentences, {} sub-tokens padded to {}; TF32 {}",
        report.reference.device,
        report.reference.ops,
        report.tested.device,
        report.tested.ops,
        report.batch.position,
        report.batch.examples.len(),
        report.batch.sub_tokens,
        report.batch.padded_len,
        if report.tf32 { "on" } else { "off" }
    );
    println!(
        "loss       reference {:.9}, tested {:.9}: relative difference {:.2e} (allowed {:.0e})",
        c.loss.reference, c.loss.tested, c.loss.rel, c.tolerance.loss_rel
    );
    println!(
        "grad norm  reference {:.6}, tested {:.6}",
        c.reference_gradient_norm, c.tested_gradient_norm
    );
    line("gradients", &c.gradients);
    line("updates", &c.updates);
    println!("report     {}", path.display());
    if c.passed {
        println!("PASS (tolerance {})", c.tolerance.name);
        Ok(())
    } else {
        for f in c.failures.iter().take(10) {
            eprintln!("  {f}");
        }
        anyhow::bail!(
            "{} values outside the {} tolerance (all in {})",
            c.failures.len(),
            c.tolerance.name,
            path.display()
        )
    }
}
