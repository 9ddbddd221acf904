//! The training loop: AdamW with two learning rates, linear warm-up/decay, gradient clipping,
//! dropout on the encoder output, length-bucketed batches, evaluation on dev every epoch with
//! the best checkpoint kept, resumable from the last finished epoch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use indicatif::{ProgressBar, ProgressStyle};
use mge::align::{examples, Example};
use mge::data::{self, LabelSchema};
use mge::eval::evaluate;
use mge::init::Rng;
use mge::metrics::EvalReport;
use mge::model::{init_head_weights, Batch, MgeModel};
use mge::table::{loss, Loss, Targets};
use mge::tokenize::SubwordTokenizer;
use mge::weights::{load_safetensors, TensorMap};
use mge::{Gates, MgeConfig, ModelConfig};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{safetensors_bytes, save_checkpoint, write_atomic, Encoder};
use crate::optim::{linear_schedule, AdamW};
use crate::Result;
use mge::checkpoint::{resolve_dir, Checkpoint};

/// Every setting of a run; saved as `train_config.json` in the run folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    /// Name recorded as provenance (`conll04`, `scierc`, …).
    pub dataset: String,
    pub train: PathBuf,
    pub dev: PathBuf,
    pub test: Option<PathBuf>,
    /// A Hugging Face BERT folder (config.json, model.safetensors, tokenizer.json).
    pub encoder: PathBuf,
    pub epochs: usize,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    /// Learning rate of the encoder's parameters.
    pub lr_encoder: f64,
    /// Learning rate of the MGE layers and heads.
    pub lr_heads: f64,
    pub weight_decay: f64,
    /// Warm-up as a fraction of all steps.
    pub warmup: f64,
    /// Global gradient-norm clip (0 disables).
    pub clip: f64,
    /// Dropout on the encoder output.
    pub dropout: f64,
    pub hidden: usize,
    pub gates: Gates,
    pub max_words: usize,
    pub seed: u64,
    pub threshold: f32,
    pub device: String,
    /// Use only the first N training sentences (quick experiments, tests).
    pub limit_train: Option<usize>,
    /// Share of training sentences joined with the next one into one example
    /// ([`mge::data::join_neighbours`]).
    #[serde(default)]
    pub join_neighbours: f64,
    /// Share of the joined examples whose first sentence loses its final full stop
    /// ([`mge::data::join_neighbours`]).
    #[serde(default)]
    pub join_run_on: f64,
    /// Share of training sentences whose names are swapped for other names of the training
    /// data ([`mge::data::swap_mentions`]).
    #[serde(default)]
    pub swap_mentions: f64,
    /// Stop when the dev score (mean of NER and strict RE F1) has not improved for this many
    /// epochs; the best checkpoint is then scored as at the end of a full run.
    #[serde(default)]
    pub patience: Option<usize>,
}

/// Scores on dev after one epoch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub ner_loss: f64,
    pub re_loss: f64,
    pub seconds: f64,
    pub sentences_per_second: f64,
    pub dev_ner_f1: f64,
    pub dev_re_f1: f64,
    pub dev_re_pfn_f1: f64,
}

/// What `last/state.json` holds: enough to continue a run exactly.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RunState {
    epochs_done: usize,
    step: usize,
    curve: Vec<EpochRecord>,
    best_epoch: Option<usize>,
    best_score: f64,
}

impl RunState {
    /// Whether the run ends before its last epoch because dev has not improved for
    /// `cfg.patience` epochs.
    fn stopped_early(&self, cfg: &TrainConfig) -> bool {
        let since_best = self.epochs_done - self.best_epoch.unwrap_or(self.epochs_done);
        cfg.patience.is_some_and(|p| since_best >= p) && self.epochs_done < cfg.epochs
    }
}

/// The run summary written as `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMetrics {
    pub config: TrainConfig,
    pub model: ModelConfig,
    pub curve: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    pub dev: Option<EvalReport>,
    pub test: Option<EvalReport>,
    pub seconds_per_epoch: f64,
    pub parameters: usize,
}

/// Controls that are not part of the run's identity.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue from `last/` in the run folder.
    pub resume: bool,
    /// Stop after this many epochs in total (the run can be resumed later).
    pub stop_after: Option<usize>,
    /// Draw progress bars.
    pub progress: bool,
}

pub fn parse_device(spec: &str) -> Result<Device> {
    match spec {
        "cpu" => Ok(Device::Cpu),
        s if s == "cuda" || s.starts_with("cuda:") => {
            let n: usize = s
                .strip_prefix("cuda:")
                .unwrap_or("0")
                .parse()
                .context("bad CUDA ordinal")?;
            Device::new_cuda(n).with_context(|| {
                format!("cannot open {s}: this binary needs the `cuda` feature and a CUDA driver (see scripts/build-cuda.sh)")
            })
        }
        other => anyhow::bail!("unknown device `{other}`: use cpu, cuda or cuda:N"),
    }
}

/// Reads, truncates and tokenizes a dataset file.
pub fn prepare(
    path: &Path,
    schema: &LabelSchema,
    tokenizer: &SubwordTokenizer,
    max_words: usize,
    max_len: usize,
) -> Result<Vec<Example>> {
    let sentences = data::load_dataset(path)?;
    data::validate(&sentences, &path.display().to_string(), Some(schema))?;
    Ok(examples(&sentences, schema, tokenizer, max_words, max_len)?)
}

fn bar(len: usize, show: bool, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// Length-bucketed batches in a seeded random order: shuffle, sort within windows of 50
/// batches by length (little padding), then shuffle the batches.
fn batches(examples: &[Example], batch_size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    rng.shuffle(&mut order);
    let window = batch_size * 50;
    let mut out = Vec::new();
    for w in order.chunks_mut(window) {
        w.sort_by_key(|&i| examples[i].pieces.ids.len());
        out.extend(w.chunks(batch_size).map(|c| c.to_vec()));
    }
    rng.shuffle(&mut out);
    out
}

fn dropout_mask(
    shape: (usize, usize, usize),
    p: f64,
    rng: &mut Rng,
    device: &Device,
) -> Result<Option<Tensor>> {
    if p <= 0.0 {
        return Ok(None);
    }
    let keep = 1.0 / (1.0 - p as f32);
    let n = shape.0 * shape.1 * shape.2;
    let v: Vec<f32> = (0..n)
        .map(|_| if rng.uniform() < p as f32 { 0.0 } else { keep })
        .collect();
    Ok(Some(Tensor::from_vec(v, shape, device)?))
}

/// The model's tensors as plain (non-tracking) tensors for evaluation and saving.
fn snapshot(vars: &[(String, Var)]) -> Vec<(String, Tensor)> {
    vars.iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().detach()))
        .collect()
}

fn as_map(tensors: &[(String, Tensor)]) -> TensorMap {
    tensors.iter().cloned().collect()
}

/// What a run reads before its first step: the encoder, its tokenizer, the label schema of
/// the training data, the model configuration and the prepared training and dev examples.
pub struct RunData {
    pub encoder: Encoder,
    pub tokenizer: SubwordTokenizer,
    pub labels: LabelSchema,
    pub model: ModelConfig,
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
}

impl RunData {
    /// Reads everything `cfg` names; the encoder's tensors are loaded onto `device`.
    pub fn load(cfg: &TrainConfig, device: &Device) -> Result<Self> {
        let encoder = Encoder::load(&cfg.encoder, device)?;
        let tokenizer = SubwordTokenizer::from_bytes(encoder.tokenizer_json.as_bytes())?;
        let train_sentences = data::load_dataset(&cfg.train)?;
        let dev_sentences = data::load_dataset(&cfg.dev)?;
        let labels = LabelSchema::from_sentences([train_sentences.as_slice()]);
        data::validate(
            &dev_sentences,
            &cfg.dev.display().to_string(),
            Some(&labels),
        )?;
        let model = ModelConfig {
            bert: encoder.config.clone(),
            mge: MgeConfig {
                hidden: cfg.hidden,
                gates: cfg.gates,
                threshold: cfg.threshold,
                ..MgeConfig::default()
            },
            labels: labels.clone(),
            max_words: cfg.max_words,
        };
        model.validate()?;
        let max_len = model.bert.max_position_embeddings;
        let swapped = data::swap_mentions(
            &train_sentences,
            labels.capitalized_types.as_deref().unwrap_or(&[]),
            cfg.swap_mentions,
            cfg.seed,
        );
        let joined =
            data::join_neighbours(&swapped, cfg.join_neighbours, cfg.join_run_on, cfg.seed);
        let mut train = examples(&joined, &labels, &tokenizer, cfg.max_words, max_len)?;
        if let Some(n) = cfg.limit_train {
            train.truncate(n);
        }
        let dev = examples(&dev_sentences, &labels, &tokenizer, cfg.max_words, max_len)?;
        Ok(Self {
            encoder,
            tokenizer,
            labels,
            model,
            train,
            dev,
        })
    }

    /// The parameters a new run starts from: the encoder's, and the MGE layers and heads
    /// freshly initialized from `seed` on `device`.
    pub fn initial_weights(&self, seed: u64, device: &Device) -> Result<TensorMap> {
        let mut map = self.encoder.tensors.clone();
        map.extend(init_head_weights(&self.model, seed, device)?);
        Ok(map)
    }
}

/// The parameters as variables sorted by name, and AdamW over them: the encoder's learning
/// rate for `bert.*`, the heads' for the rest, no weight decay on biases and norms.
pub fn parameters(initial: &TensorMap, cfg: &TrainConfig) -> Result<(Vec<(String, Var)>, AdamW)> {
    let mut names: Vec<&String> = initial.keys().collect();
    names.sort();
    let mut vars = Vec::with_capacity(names.len());
    let mut groups = Vec::with_capacity(names.len());
    for name in names {
        let var = Var::from_tensor(&initial[name])?;
        let lr = if name.starts_with("bert.") {
            cfg.lr_encoder
        } else {
            cfg.lr_heads
        };
        let no_decay =
            name.ends_with(".bias") || name.contains("LayerNorm") || name.contains(".ln.");
        groups.push((
            name.clone(),
            var.clone(),
            lr,
            if no_decay { 0.0 } else { cfg.weight_decay },
        ));
        vars.push((name.clone(), var));
    }
    Ok((vars, AdamW::new(groups)?))
}

/// Warm-up steps and all steps of the learning-rate schedule for `train_examples`.
pub fn schedule_steps(cfg: &TrainConfig, train_examples: usize) -> (usize, usize) {
    let steps_per_epoch = train_examples.div_ceil(cfg.batch_size.max(1));
    let total_steps = steps_per_epoch * cfg.epochs;
    let warmup_steps = (total_steps as f64 * cfg.warmup).round() as usize;
    (warmup_steps, total_steps)
}

/// The batches of `epoch` (1-based) in the order they are trained, and the generator that
/// then draws the epoch's dropout masks.
pub fn epoch_plan(examples: &[Example], cfg: &TrainConfig, epoch: usize) -> (Vec<Vec<usize>>, Rng) {
    let mut rng = Rng::new(cfg.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
    let plan = batches(examples, cfg.batch_size.max(1), &mut rng);
    (plan, rng)
}

/// The padded batch of examples `idx` and its table targets, on `device`.
pub fn batch_of(
    examples: &[Example],
    idx: &[usize],
    pad: u32,
    labels: &LabelSchema,
    device: &Device,
) -> Result<(Batch, Targets)> {
    let seqs: Vec<&[u32]> = idx
        .iter()
        .map(|&i| examples[i].pieces.ids.as_slice())
        .collect();
    let batch = Batch::new(&seqs, pad, device)?;
    let ner: Vec<_> = idx.iter().map(|&i| examples[i].ner.clone()).collect();
    let re: Vec<_> = idx.iter().map(|&i| examples[i].re.clone()).collect();
    let targets = Targets::new(
        &batch,
        &ner,
        &re,
        labels.entity_types.len(),
        labels.relation_types.len(),
        device,
    )?;
    Ok((batch, targets))
}

/// The dropout mask on the encoder output for `batch`, drawn from `rng` (none when `p` is 0).
pub fn batch_dropout(
    batch: &Batch,
    model: &ModelConfig,
    p: f64,
    rng: &mut Rng,
    device: &Device,
) -> Result<Option<Tensor>> {
    let shape = (batch.size(), batch.padded_len(), model.bert.hidden_size);
    dropout_mask(shape, p, rng, device)
}

/// The forward pass with the current values of `vars`, the loss and its gradients.
pub fn forward_backward(
    vars: &[(String, Var)],
    model: &ModelConfig,
    batch: &Batch,
    targets: &Targets,
    dropout: Option<&Tensor>,
) -> Result<(Loss, GradStore)> {
    let tensors: TensorMap = vars
        .iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
        .collect();
    let output = MgeModel::load(&tensors, model)?.forward(batch, dropout)?;
    let l = loss(&output, targets)?;
    let grads = l.total.backward()?;
    Ok((l, grads))
}

/// Trains (or resumes) a run in `out`.
pub fn train(cfg: &TrainConfig, out: &Path, opts: &RunOptions) -> Result<RunMetrics> {
    let device = parse_device(&cfg.device)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let last_dir = out.join("last");
    let best_dir = out.join("best");

    let run = RunData::load(cfg, &device)?;
    let (tokenizer, labels, model_cfg) = (&run.tokenizer, &run.labels, &run.model);
    let (train_ex, dev_ex) = (&run.train, &run.dev);
    let max_len = model_cfg.bert.max_position_embeddings;

    // Parameters: the encoder from its checkpoint, the rest freshly initialized; or all of
    // them from `last/` when resuming.
    let mut state = RunState::default();
    let resume_dir = if opts.resume {
        resolve_dir(&last_dir)
    } else {
        None
    };
    let initial: TensorMap = match &resume_dir {
        Some(dir) => {
            let saved: TrainConfig =
                serde_json::from_slice(&std::fs::read(out.join("train_config.json"))?)
                    .context("the run folder has no readable train_config.json")?;
            if saved.epochs != cfg.epochs && saved.train == cfg.train {
                eprintln!(
                    "note: continuing with {} epochs (the run was started with {})",
                    cfg.epochs, saved.epochs
                );
            }
            state = serde_json::from_slice(&std::fs::read(dir.join("state.json"))?)
                .context("bad last/state.json")?;
            load_safetensors(&std::fs::read(dir.join("model.safetensors"))?, &device)?
        }
        None => {
            if opts.resume {
                eprintln!(
                    "note: nothing to resume in {}, starting a new run",
                    out.display()
                );
            }
            run.initial_weights(cfg.seed, &device)?
        }
    };
    write_atomic(
        &out.join("train_config.json"),
        serde_json::to_string_pretty(cfg)?.as_bytes(),
    )?;

    let (vars, mut opt) = parameters(&initial, cfg)?;
    let parameters: usize = vars.iter().map(|(_, v)| v.elem_count()).sum();
    if let Some(dir) = &resume_dir {
        let moments =
            load_safetensors(&std::fs::read(dir.join("optimizer.safetensors"))?, &device)?;
        opt.load_state(&moments, state.step)?;
        eprintln!(
            "resumed {} after epoch {}",
            out.display(),
            state.epochs_done
        );
    }

    let (warmup_steps, total_steps) = schedule_steps(cfg, train_ex.len());
    let pad = tokenizer.pad_id();
    let tok_json = tokenizer.to_json()?;
    let last_epoch = if state.stopped_early(cfg) {
        state.epochs_done
    } else {
        opts.stop_after.map_or(cfg.epochs, |s| s.min(cfg.epochs))
    };

    for epoch in state.epochs_done + 1..=last_epoch {
        let started = Instant::now();
        let (plan, mut rng) = epoch_plan(train_ex, cfg, epoch);
        let pb = bar(
            train_ex.len(),
            opts.progress,
            &format!(
                "epoch {epoch}/{} [{{bar:30}}] {{pos}}/{{len}} {{per_sec}} eta {{eta}} {{msg}}",
                cfg.epochs
            ),
        );
        let (mut sum, mut sum_ner, mut sum_re) = (0f64, 0f64, 0f64);
        for (k, idx) in plan.iter().enumerate() {
            let (batch, targets) = batch_of(train_ex, idx, pad, labels, &device)?;
            let mask = batch_dropout(&batch, model_cfg, cfg.dropout, &mut rng, &device)?;
            let (l, grads) = forward_backward(&vars, model_cfg, &batch, &targets, mask.as_ref())?;
            let lr_scale = linear_schedule(state.step, warmup_steps, total_steps);
            opt.step(&grads, lr_scale, cfg.clip)?;
            state.step += 1;
            sum += (l.ner + l.re) as f64;
            sum_ner += l.ner as f64;
            sum_re += l.re as f64;
            pb.inc(idx.len() as u64);
            pb.set_message(format!("loss {:.4}", sum / (k + 1) as f64));
        }
        pb.finish_and_clear();
        let train_seconds = started.elapsed().as_secs_f64();

        let weights = snapshot(&vars);
        let model = MgeModel::load(&as_map(&weights), model_cfg)?;
        let eval_bar = bar(dev_ex.len(), opts.progress, "dev [{bar:30}] {pos}/{len}");
        let report = evaluate(
            &model,
            dev_ex,
            labels,
            cfg.eval_batch_size,
            pad,
            &device,
            |n| eval_bar.inc(n as u64),
        )?;
        eval_bar.finish_and_clear();
        let n = plan.len().max(1) as f64;
        let record = EpochRecord {
            epoch,
            train_loss: sum / n,
            ner_loss: sum_ner / n,
            re_loss: sum_re / n,
            seconds: train_seconds,
            sentences_per_second: train_ex.len() as f64 / train_seconds.max(1e-9),
            dev_ner_f1: report.ner.f1,
            dev_re_f1: report.re_strict.f1,
            dev_re_pfn_f1: report.re_pfn.f1,
        };
        let score = report.mean_f1();
        let improved = state.best_epoch.is_none() || score > state.best_score;
        eprintln!(
            "epoch {epoch}/{}: loss {:.4} (ner {:.4}, re {:.4}), {:.1}s ({:.1} sent/s); dev NER {:.2} RE {:.2} RE(pfn) {:.2}{}",
            cfg.epochs,
            record.train_loss,
            record.ner_loss,
            record.re_loss,
            record.seconds,
            record.sentences_per_second,
            report.ner.f1,
            report.re_strict.f1,
            report.re_pfn.f1,
            if improved { "  *best*" } else { "" }
        );
        state.curve.push(record);
        state.epochs_done = epoch;
        if improved {
            state.best_epoch = Some(epoch);
            state.best_score = score;
            save_checkpoint(
                &best_dir,
                model_cfg,
                &tok_json,
                &weights,
                &[("dev_report.json", serde_json::to_vec_pretty(&report)?)],
            )?;
        }
        // The last checkpoint goes last: once it says epoch N, best/ is up to date for N.
        save_checkpoint(
            &last_dir,
            model_cfg,
            &tok_json,
            &weights,
            &[
                (
                    "optimizer.safetensors",
                    safetensors_bytes(&opt.state_tensors()?)?,
                ),
                ("state.json", serde_json::to_vec_pretty(&state)?),
            ],
        )?;
        crate::plot::learning_curve(&out.join("curve.svg"), &state.curve, &cfg.dataset)
            .unwrap_or_else(|e| eprintln!("warning: no curve.svg: {e:#}"));
        if state.stopped_early(cfg) {
            eprintln!(
                "no better dev score since epoch {}: stopping early",
                state.best_epoch.unwrap_or(epoch)
            );
            break;
        }
    }

    // Final summary: the best checkpoint on dev and (if given) test.
    let (dev, test) = match resolve_dir(&best_dir) {
        Some(dir) if state.epochs_done == cfg.epochs || state.stopped_early(cfg) => {
            let ck = Checkpoint::read(&dir, &device)?;
            let model = ck.model()?;
            let score = |ex: &[Example]| {
                evaluate(
                    &model,
                    ex,
                    labels,
                    cfg.eval_batch_size,
                    pad,
                    &device,
                    |_| {},
                )
            };
            let dev = score(dev_ex)?;
            let test = match &cfg.test {
                Some(p) => Some(score(&prepare(
                    p,
                    labels,
                    tokenizer,
                    cfg.max_words,
                    max_len,
                )?)?),
                None => None,
            };
            (Some(dev), test)
        }
        _ => (None, None),
    };
    let metrics = RunMetrics {
        config: cfg.clone(),
        model: model_cfg.clone(),
        seconds_per_epoch: if state.curve.is_empty() {
            0.0
        } else {
            state.curve.iter().map(|r| r.seconds).sum::<f64>() / state.curve.len() as f64
        },
        curve: state.curve,
        best_epoch: state.best_epoch,
        dev,
        test,
        parameters,
    };
    write_atomic(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics)?.as_bytes(),
    )?;
    if let Some(t) = &metrics.test {
        write_atomic(
            &best_dir.join("test_report.json"),
            serde_json::to_string_pretty(t)?.as_bytes(),
        )?;
    }
    Ok(metrics)
}

/// Evaluates a checkpoint on a dataset file.
pub fn eval_checkpoint(
    dir: &Path,
    data_path: &Path,
    device: &str,
    batch_size: usize,
) -> Result<EvalReport> {
    let device = parse_device(device)?;
    let ck = Checkpoint::read(dir, &device)?;
    let model = ck.model()?;
    let tokenizer = ck.tokenizer()?;
    let ex = prepare(
        data_path,
        &ck.config.labels,
        &tokenizer,
        ck.config.max_words,
        ck.config.bert.max_position_embeddings,
    )?;
    Ok(evaluate(
        &model,
        &ex,
        &ck.config.labels,
        batch_size,
        tokenizer.pad_id(),
        &device,
        |_| {},
    )?)
}

/// Scores a bundle on a dataset file through the inference engine (`mge eval --bundle`),
/// with a progress bar on a terminal.
pub fn eval_bundle(
    bundle: &Path,
    data_path: &Path,
    precision: mge::engine::Precision,
) -> Result<EvalReport> {
    let bytes =
        std::fs::read(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    let (info, tensors) = mge::bundle::read_bundle(&bytes, &candle_core::Device::Cpu)
        .with_context(|| bundle.display().to_string())?;
    let model = mge::model::MgeModel::load(&tensors, &info.config)?;
    drop(tensors);
    let engine = mge::engine::Engine::with_precision(&model, precision)?;
    let tokenizer = mge::tokenize::SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes())?;
    let cfg = &info.config;
    let ex = prepare(
        data_path,
        &cfg.labels,
        &tokenizer,
        cfg.max_words,
        cfg.bert.max_position_embeddings,
    )?;
    eprintln!(
        "{} sentences; engine arithmetic: {}; kernels: {}",
        ex.len(),
        if engine.int8() { "int8" } else { "f32" },
        mge::engine::isa::describe(engine.int8())
    );
    let bar = indicatif::ProgressBar::new(ex.len() as u64);
    let report = mge::eval::evaluate_engine(&engine, &ex, &cfg.labels, cfg.mge.threshold, |n| {
        bar.set_position(n as u64)
    })?;
    bar.finish_and_clear();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mge::testing::{toy_sentences, vocabulary, write_tiny_encoder};

    /// A tiny encoder, the toy sentences as train = dev = test, and settings that let a
    /// random model memorize them.
    fn setup(dir: &Path, epochs: usize) -> TrainConfig {
        let sentences = toy_sentences();
        write_tiny_encoder(&dir.join("encoder"), &vocabulary(&sentences), 7).unwrap();
        let data = dir.join("toy.json");
        std::fs::write(&data, serde_json::to_string(&sentences).unwrap()).unwrap();
        TrainConfig {
            dataset: "toy".into(),
            train: data.clone(),
            dev: data.clone(),
            test: Some(data),
            encoder: dir.join("encoder"),
            epochs,
            batch_size: 4,
            eval_batch_size: 8,
            lr_encoder: 1e-3,
            lr_heads: 1e-2,
            weight_decay: 0.0,
            warmup: 0.05,
            clip: 1.0,
            dropout: 0.0,
            hidden: 32,
            gates: Gates::default(),
            max_words: 128,
            seed: 3,
            threshold: 0.5,
            device: "cpu".into(),
            limit_train: None,
            join_neighbours: 0.0,
            join_run_on: 0.0,
            swap_mentions: 0.0,
            patience: None,
        }
    }

    #[test]
    fn patience_stops_a_run_that_no_longer_improves_and_scores_its_best() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = setup(dir.path(), 10);
        // Nothing learns: dev never beats epoch 1.
        (cfg.lr_encoder, cfg.lr_heads) = (0.0, 0.0);
        cfg.patience = Some(2);
        let out = dir.path().join("run");
        let m = train(&cfg, &out, &RunOptions::default()).unwrap();
        assert_eq!(m.curve.len(), 3, "epochs run: {:?}", m.curve);
        assert_eq!(m.best_epoch, Some(1));
        assert!(
            m.dev.is_some() && m.test.is_some(),
            "a stopped run is scored"
        );
        // Resuming a stopped run trains nothing more.
        let opts = RunOptions {
            resume: true,
            ..Default::default()
        };
        let again = train(&cfg, &out, &opts).unwrap();
        assert_eq!(again.curve.len(), 3);
        assert_eq!(again.test, m.test);
    }

    #[test]
    fn tiny_random_bert_overfits_eight_sentences_through_the_real_loop() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = setup(dir.path(), 60);
        let out = dir.path().join("run");
        let m = train(&cfg, &out, &RunOptions::default()).unwrap();
        let test = m.test.expect("test report");
        assert_eq!(test.ner.f1, 100.0, "NER {:?}", test.ner);
        assert_eq!(test.re_strict.f1, 100.0, "RE {:?}", test.re_strict);
        assert_eq!(test.re_pfn.f1, 100.0);
        // The run folder has everything a user is promised.
        for f in [
            "metrics.json",
            "curve.svg",
            "train_config.json",
            "best/model.safetensors",
            "best/config.json",
            "best/tokenizer.json",
            "last/optimizer.safetensors",
            "last/state.json",
        ] {
            assert!(out.join(f).exists(), "missing {f}");
        }
        // The saved best checkpoint scores the same when evaluated from disk.
        let again = eval_checkpoint(&out.join("best"), &cfg.dev, "cpu", 8).unwrap();
        assert_eq!(again.ner.f1, 100.0);
        assert_eq!(again.re_strict.f1, 100.0);
        assert!(m.curve.first().unwrap().train_loss > m.curve.last().unwrap().train_loss * 5.0);
    }

    #[test]
    fn a_resumed_run_matches_a_straight_run() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = setup(dir.path(), 6);
        let straight = train(&cfg, &dir.path().join("straight"), &RunOptions::default()).unwrap();

        let split = dir.path().join("split");
        let first = train(
            &cfg,
            &split,
            &RunOptions {
                stop_after: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(first.curve.len(), 3);
        assert!(
            first.test.is_none(),
            "an interrupted run has no final scores yet"
        );
        // Simulate a kill during the next save: a half-written temporary folder is left behind.
        std::fs::create_dir_all(split.join("last.tmp")).unwrap();
        std::fs::write(split.join("last.tmp/model.safetensors"), b"garbage").unwrap();
        let resumed = train(
            &cfg,
            &split,
            &RunOptions {
                resume: true,
                ..Default::default()
            },
        )
        .unwrap();

        assert_eq!(resumed.curve.len(), straight.curve.len());
        for (a, b) in resumed.curve.iter().zip(&straight.curve) {
            assert!(
                (a.train_loss - b.train_loss).abs() < 1e-4 * b.train_loss.max(1.0),
                "{a:?} vs {b:?}"
            );
            assert!((a.dev_ner_f1 - b.dev_ner_f1).abs() < 1e-6);
            assert!((a.dev_re_f1 - b.dev_re_f1).abs() < 1e-6);
        }
        assert_eq!(resumed.best_epoch, straight.best_epoch);
        let (a, b) = (resumed.test.unwrap(), straight.test.unwrap());
        assert_eq!(a.ner, b.ner);
        assert_eq!(a.re_strict, b.re_strict);
    }

    #[test]
    fn a_relation_pointing_at_no_entity_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = setup(dir.path(), 1);
        let bad = dir.path().join("bad.json");
        std::fs::write(
            &bad,
            r#"[{"tokens": ["a", "b"], "entities": [{"type": "Peop", "start": 0, "end": 1}], "relations": []},
                {"tokens": ["a", "b"], "entities": [], "relations": [{"type": "Kill", "head": 0, "tail": 1}]}]"#,
        )
        .unwrap();
        cfg.train = bad;
        let err = format!(
            "{:#}",
            train(&cfg, &dir.path().join("run"), &RunOptions::default()).unwrap_err()
        );
        assert!(
            err.contains("bad.json") && err.contains("sentence 1"),
            "{err}"
        );
    }
}
