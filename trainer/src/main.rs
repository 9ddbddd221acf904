//! `mge`: train and evaluate Multi-Gate Encoder models, extract with them, serve them.

mod check_step;
mod checkpoint;
mod compare;
mod extract_cmd;
mod optim;
mod plot;
mod segment_cmd;
mod serve_cmd;
mod sweep;
mod train;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use mge::bundle::Quantization;
use mge::metrics::{EvalReport, Prf};
use mge::Gates;

use train::{RunOptions, TrainConfig};

pub type Result<T> = anyhow::Result<T>;

#[derive(Parser)]
#[command(
    name = "mge",
    version,
    about = "Joint entity and relation extraction with the Multi-Gate Encoder"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune an encoder plus the MGE layers on a dataset; evaluates on dev every epoch,
    /// keeps the best checkpoint, and scores it on test at the end.
    Train(Box<TrainArgs>),
    /// Train over several seeds and gate configurations (the paper's ablation) and write one
    /// table of means and standard deviations; an interrupted sweep continues.
    Sweep(Box<sweep::SweepArgs>),
    /// Score a checkpoint (or a bundle, through the inference engine) on a dataset file
    /// (strict and PFN-style micro F1, per type).
    Eval(EvalArgs),
    /// Write a checkpoint as one bundle file (quantized weights, config, tokenizer, provenance).
    Export(ExportArgs),
    /// Print a bundle's metadata and the size of each part.
    Inspect(InspectArgs),
    /// Compare a bundle with the f32 checkpoint it was exported from on a dataset file.
    Verify(VerifyArgs),
    /// Extract entities and relations from raw text (one document per line).
    Extract(extract_cmd::ExtractArgs),
    /// Print the sentences `mge extract` cuts raw text into (no model needed).
    Segment(segment_cmd::SegmentArgs),
    /// Serve the demo page and the extraction API over HTTP (extraction runs on the CPU).
    Serve(serve_cmd::ServeArgs),
    /// Run the first training step on --device and on --reference from the same weights and
    /// batch, and compare loss, gradients and one AdamW update (exit 1 outside tolerance).
    CheckStep(Box<check_step::CheckStepArgs>),
}

#[derive(Args)]
struct VerifyArgs {
    /// Bundle file.
    bundle: PathBuf,
    /// The checkpoint folder it was exported from.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Dataset file (for example the dev split).
    #[arg(long)]
    data: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Quant {
    Q8,
    F16,
    F32,
}

#[derive(Args)]
struct ExportArgs {
    /// Checkpoint folder (a run's best/).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Bundle file to write.
    #[arg(long)]
    out: PathBuf,
    /// Storage of weight matrices: int8 with a scale per 32 values, f16 or f32.
    #[arg(long, value_enum, default_value = "q8")]
    quantization: Quant,
}

#[derive(Args)]
struct InspectArgs {
    /// Bundle file.
    bundle: PathBuf,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    Conll04,
    Scierc,
    Ade,
}

#[derive(Args, Clone)]
pub(crate) struct TrainArgs {
    /// Paper settings and data paths for a dataset (data under --data-root).
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// Folder holding conll04/, scierc/ and ade/ (for --preset).
    #[arg(long, default_value = "../shared/data")]
    data_root: PathBuf,
    /// ADE fold (0-9) for --preset ade.
    #[arg(long, default_value_t = 0)]
    fold: usize,
    /// Training data (SpERT JSON or DyGIE++ JSONL).
    #[arg(long)]
    train: Option<PathBuf>,
    #[arg(long)]
    dev: Option<PathBuf>,
    #[arg(long)]
    test: Option<PathBuf>,
    /// Hugging Face BERT folder.
    #[arg(long, default_value = "encoders/all-MiniLM-L6-v2")]
    encoder: PathBuf,
    /// Run folder (checkpoints, metrics.json, curve.svg).
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in --out from its last finished epoch.
    #[arg(long)]
    resume: bool,
    /// Stop after this many epochs in total; --resume continues later.
    #[arg(long)]
    stop_after: Option<usize>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long, default_value_t = 32)]
    eval_batch_size: usize,
    /// Learning rate of the encoder.
    #[arg(long)]
    lr_encoder: Option<f64>,
    /// Learning rate of the MGE layers and the table heads.
    #[arg(long)]
    lr_heads: Option<f64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Warm-up fraction of all steps.
    #[arg(long)]
    warmup: Option<f64>,
    /// Gradient-norm clip (0 = off).
    #[arg(long)]
    clip: Option<f64>,
    /// Dropout on the encoder output.
    #[arg(long)]
    dropout: Option<f64>,
    /// MGE hidden size h.
    #[arg(long)]
    hidden: Option<usize>,
    /// Sentences longer than this many words are truncated.
    #[arg(long, default_value_t = 128)]
    max_words: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Train on the first N sentences only.
    #[arg(long)]
    limit_train: Option<usize>,
    /// Share of training sentences joined with the next one into one example, so that the
    /// model also learns from text it sees when raw text has no sentence punctuation
    /// (datelines, headlines). 0 trains on single sentences.
    #[arg(long, default_value_t = 0.0)]
    join_neighbours: f64,
    /// Share of those joined examples whose first sentence loses its final full stop, as
    /// text that runs on without full stops reaches the model.
    #[arg(long, default_value_t = 0.0)]
    join_run_on: f64,
    /// Share of training sentences whose persons, places and organizations (the types
    /// whose training mentions hold a capital) are swapped for other mentions of the same
    /// type from the training data, so that the model learns contexts rather than names.
    /// 0 trains on the sentences as they are.
    #[arg(long, default_value_t = 0.0)]
    swap_mentions: f64,
    /// Stop early when the dev score (mean of NER and strict RE F1) has not improved for
    /// this many epochs (default: train all epochs).
    #[arg(long)]
    patience: Option<usize>,
    /// Ablate gates (paper Table 4): entity-task, relation-task, entity-interaction,
    /// relation-interaction, task (both task gates), interaction (both interaction gates).
    #[arg(long = "without", value_delimiter = ',')]
    without: Vec<String>,
    /// Dataset name recorded in metrics.json (default: the preset's).
    #[arg(long)]
    name: Option<String>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("model").required(true).args(["checkpoint", "bundle"])))]
struct EvalArgs {
    /// Checkpoint folder (a run's best/ or last/), scored with the training model.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Or a bundle, scored with the inference engine that `mge extract` runs.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// With --bundle: the engine's arithmetic (int8 where it is faster here, or f32 / int8).
    #[arg(long, value_enum, default_value_t = extract_cmd::PrecisionArg::Auto)]
    precision: extract_cmd::PrecisionArg,
    /// Dataset file to score.
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value = "cpu")]
    device: String,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Also write the full report (per-type P/R/F) as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

struct PresetValues {
    name: &'static str,
    files: (String, String, Option<String>),
    epochs: usize,
    batch_size: usize,
}

fn preset_values(p: Preset, fold: usize) -> PresetValues {
    match p {
        Preset::Conll04 => PresetValues {
            name: "conll04",
            files: (
                "conll04/train.json".into(),
                "conll04/dev.json".into(),
                Some("conll04/test.json".into()),
            ),
            epochs: 30,
            batch_size: 8,
        },
        Preset::Scierc => PresetValues {
            name: "scierc",
            files: (
                "scierc/train.json".into(),
                "scierc/dev.json".into(),
                Some("scierc/test.json".into()),
            ),
            epochs: 30,
            batch_size: 8,
        },
        // ADE has no dev split: select on the fold's test file, as SpERT and PFN do.
        Preset::Ade => PresetValues {
            name: "ade",
            files: (
                format!("ade/split_{fold}_train.json"),
                format!("ade/split_{fold}_test.json"),
                Some(format!("ade/split_{fold}_test.json")),
            ),
            epochs: 20,
            batch_size: 8,
        },
    }
}

fn gates_without(names: &[String]) -> Result<Gates> {
    let mut g = Gates::default();
    for n in names {
        match n.as_str() {
            "entity-task" => g.entity_task = false,
            "relation-task" => g.relation_task = false,
            "entity-interaction" => g.entity_interaction = false,
            "relation-interaction" => g.relation_interaction = false,
            "task" => (g.entity_task, g.relation_task) = (false, false),
            "interaction" => (g.entity_interaction, g.relation_interaction) = (false, false),
            other => anyhow::bail!(
                "unknown gate `{other}` (use entity-task, relation-task, entity-interaction, relation-interaction, task, interaction)"
            ),
        }
    }
    Ok(g)
}

fn train_config(a: &TrainArgs) -> Result<TrainConfig> {
    let preset = a.preset.map(|p| preset_values(p, a.fold));
    let from_preset = |pick: fn(&PresetValues) -> Option<String>| {
        preset.as_ref().and_then(pick).map(|f| a.data_root.join(f))
    };
    let train = a
        .train
        .clone()
        .or_else(|| from_preset(|p| Some(p.files.0.clone())));
    let dev = a
        .dev
        .clone()
        .or_else(|| from_preset(|p| Some(p.files.1.clone())));
    let test = a
        .test
        .clone()
        .or_else(|| from_preset(|p| p.files.2.clone()));
    let (Some(train), Some(dev)) = (train, dev) else {
        anyhow::bail!("give --preset, or --train and --dev");
    };
    for (name, share) in [
        ("--join-neighbours", a.join_neighbours),
        ("--join-run-on", a.join_run_on),
        ("--swap-mentions", a.swap_mentions),
    ] {
        anyhow::ensure!(
            (0.0..=1.0).contains(&share),
            "{name} is a share of the training sentences, between 0 and 1 (got {share})"
        );
    }
    Ok(TrainConfig {
        dataset: a
            .name
            .clone()
            .or_else(|| preset.as_ref().map(|p| p.name.to_string()))
            .unwrap_or_else(|| {
                train
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("data")
                    .to_string()
            }),
        train,
        dev,
        test,
        encoder: a.encoder.clone(),
        epochs: a.epochs.or(preset.as_ref().map(|p| p.epochs)).unwrap_or(20),
        batch_size: a
            .batch_size
            .or(preset.as_ref().map(|p| p.batch_size))
            .unwrap_or(8),
        eval_batch_size: a.eval_batch_size,
        lr_encoder: a.lr_encoder.unwrap_or(5e-5),
        lr_heads: a.lr_heads.unwrap_or(1e-3),
        weight_decay: a.weight_decay.unwrap_or(0.01),
        warmup: a.warmup.unwrap_or(0.1),
        clip: a.clip.unwrap_or(0.25),
        dropout: a.dropout.unwrap_or(0.1),
        hidden: a.hidden.unwrap_or(300),
        gates: gates_without(&a.without)?,
        max_words: a.max_words,
        seed: a.seed,
        threshold: a.threshold,
        device: a.device.clone(),
        limit_train: a.limit_train,
        join_neighbours: a.join_neighbours,
        join_run_on: a.join_run_on,
        swap_mentions: a.swap_mentions,
        patience: a.patience,
    })
}

fn print_report(r: &EvalReport) {
    let row = |name: &str, p: &Prf| {
        println!(
            "{name:<24} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>6} {:>6}",
            p.precision, p.recall, p.f1, p.tp, p.pred, p.gold
        )
    };
    println!(
        "{:<24} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6}",
        "", "P", "R", "F1", "tp", "pred", "gold"
    );
    row("NER (strict)", &r.ner);
    row("RE (strict)", &r.re_strict);
    row("RE (PFN-style)", &r.re_pfn);
    for (t, p) in &r.ner_per_type {
        row(&format!("  entity {t}"), p);
    }
    for (t, p) in &r.re_per_type {
        row(&format!("  relation {t}"), p);
    }
}

/// Flush subnormal floats to zero on this thread. Tiny gradients (saturated sigmoids, masked
/// attention) otherwise hit x86's slow path for subnormal arithmetic and can make a step ten
/// times slower; their contribution to training is nil.
fn flush_subnormals() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    // SAFETY: only sets the FTZ and DAZ bits of this thread's MXCSR register.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

/// Lets training reuse freed memory instead of handing it back to the system. glibc's
/// defaults return large freed blocks to the kernel at once, and every step then allocates
/// them again: the kernel zeroes each fresh page on first touch, which was 14% of a
/// training step's time (`perf`: `clear_page_erms`), for the same tensors every step.
/// Blocks up to 32 MB (glibc's largest setting) now come from the heap, and the heap is
/// never trimmed: a CoNLL04 epoch went from 102 to about 75 s, for about 0.4 GB more peak
/// memory (1.5 → 1.9 GB).
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation thresholds; it is called before
    // any other thread exists and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// Prints an error as one line of causes (`error: a: b`), never with a backtrace, and
/// exits with status 1.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Train(_) | Command::Sweep(_)) {
        keep_freed_memory();
    }
    flush_subnormals();
    // Worker threads need the same floating-point mode; ignore the error if a pool exists.
    let _ = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| flush_subnormals())
        .build_global();
    match cli.command {
        Command::Train(a) => {
            let cfg = train_config(&a)?;
            let opts = RunOptions {
                resume: a.resume,
                stop_after: a.stop_after,
                progress: !a.quiet && std::io::stderr().is_terminal(),
            };
            let m = train::train(&cfg, &a.out, &opts)?;
            if let Some(best) = m.best_epoch {
                println!("best dev epoch {best}; run folder {}", a.out.display());
            }
            if let Some(d) = &m.dev {
                println!("dev (best checkpoint):");
                print_report(d);
            }
            if let Some(t) = &m.test {
                println!("test (best checkpoint):");
                print_report(t);
            }
        }
        Command::Sweep(a) => {
            sweep::run(&a, |run, without| {
                let mut t = a.train.clone();
                t.seed = run.seed;
                t.fold = run.fold.unwrap_or(t.fold);
                t.without = without.to_vec();
                train_config(&t)
            })?;
        }
        Command::Export(a) => {
            let q = match a.quantization {
                Quant::Q8 => Quantization::Q8,
                Quant::F16 => Quantization::F16,
                Quant::F32 => Quantization::F32,
            };
            let bytes = mge_export::export_checkpoint(&a.checkpoint, q)?;
            std::fs::write(&a.out, &bytes)
                .with_context(|| format!("cannot write {}", a.out.display()))?;
            println!(
                "wrote {} ({q}, {:.1} MB)",
                a.out.display(),
                bytes.len() as f64 / 1e6
            );
        }
        Command::Inspect(a) => {
            let bytes = std::fs::read(&a.bundle)
                .with_context(|| format!("cannot read {}", a.bundle.display()))?;
            let r =
                mge_export::inspect(&bytes).with_context(|| format!("{}", a.bundle.display()))?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "format version {}, weights {}",
                    r.format_version, r.quantization
                );
                let c = &r.config;
                println!(
                    "encoder: {} layers, hidden {}, {} heads, vocabulary {}",
                    c.bert.num_hidden_layers,
                    c.bert.hidden_size,
                    c.bert.num_attention_heads,
                    c.bert.vocab_size
                );
                println!("MGE: h = {}, gates {:?}", c.mge.hidden, c.mge.gates);
                println!("entity types: {}", c.labels.entity_types.join(", "));
                println!("relation types: {}", c.labels.relation_types.join(", "));
                println!(
                    "entities: {} ({})",
                    if mge::extract::flat_entities(&c.labels, &r.provenance.dataset) {
                        "flat, the best of overlapping mentions is kept"
                    } else if mge::extract::flat_per_type(&c.labels, &r.provenance.dataset) {
                        "nested across types, the best of overlapping mentions of one type is kept"
                    } else {
                        "nested, overlapping mentions are kept"
                    },
                    match c.labels.nested_entities {
                        Some(true) => "the training data has overlapping entities",
                        Some(false) => "the training data has none overlapping",
                        None => "not recorded in the bundle; known datasets by name",
                    }
                );
                // How the model's words are cut at a joiner, and where that was decided.
                let joiner = |split: bool, recorded: Option<bool>, yes: &str, no: &str| {
                    println!(
                        "{} ({})",
                        if split { yes } else { no },
                        match recorded {
                            Some(_) => "as the training data writes them",
                            None => "not recorded in the bundle; known datasets by name",
                        }
                    )
                };
                let dataset = &r.provenance.dataset;
                joiner(
                    mge::extract::split_hyphens(&c.labels, dataset),
                    c.labels.hyphens_split,
                    "hyphens: split, a hyphen between words is a word of its own",
                    "hyphens: inside words, hyphenated words stay whole",
                );
                joiner(
                    mge::extract::split_slashes(&c.labels, dataset),
                    c.labels.slashes_split,
                    "slashes: split, a slash between words is a word of its own",
                    "slashes: inside words, slashed words stay whole",
                );
                println!(
                    "titles: {} ({})",
                    if mge::extract::titled_names(&c.labels, dataset) {
                        "names after titles are mentions; a sentence that lost one is read again without its titles"
                    } else {
                        "read as written"
                    },
                    match c.labels.titled_names {
                        Some(_) => "as the training data's mentions take them",
                        None => "not recorded in the bundle; known datasets by name",
                    }
                );
                let capitalized = mge::extract::capitalized_types(&c.labels, dataset);
                println!(
                    "capitals: {} ({})",
                    if capitalized.is_empty() {
                        "mentions of any case".to_string()
                    } else {
                        format!(
                            "in cased text, mentions of {} without a capital are dropped",
                            capitalized.join(", ")
                        )
                    },
                    match c.labels.capitalized_types {
                        Some(_) => "as the training data's mentions are written",
                        None => "not recorded in the bundle; known datasets by name",
                    }
                );
                println!(
                    "trained on: {}",
                    if r.provenance.dataset.is_empty() {
                        "(unknown)"
                    } else {
                        &r.provenance.dataset
                    }
                );
                if !r.provenance.metrics.is_null() {
                    println!("scores: {}", r.provenance.metrics);
                }
                for p in &r.parts {
                    println!(
                        "{:>10.2} MB  {} ({} tensors)",
                        p.bytes as f64 / 1e6,
                        p.name,
                        p.tensors
                    );
                }
                println!("{:>10.2} MB  total", r.total_bytes as f64 / 1e6);
            }
        }
        Command::Extract(a) => extract_cmd::run(&a)?,
        Command::Segment(a) => segment_cmd::run(&a)?,
        Command::Serve(a) => serve_cmd::run(a)?,
        Command::CheckStep(a) => check_step::run(&a)?,
        Command::Verify(a) => {
            let bytes = std::fs::read(&a.bundle)
                .with_context(|| format!("cannot read {}", a.bundle.display()))?;
            let v = mge_export::verify(&bytes, &a.checkpoint, &a.data)?;
            println!("{} sentences of {}", v.sentences, a.data.display());
            println!(
                "{:<12} {:>8} {:>8} {:>10}",
                "", "NER F1", "RE F1", "RE(PFN) F1"
            );
            for (name, s) in [("checkpoint", &v.checkpoint), ("bundle", &v.bundle)] {
                println!(
                    "{name:<12} {:>8.2} {:>8.2} {:>10.2}",
                    s.ner_f1, s.re_f1, s.re_pfn_f1
                );
            }
            println!("largest F1 difference: {:.2} points", v.max_f1_difference());
            println!(
                "largest probability difference: {:.5}",
                v.max_probability_difference
            );
        }
        Command::Eval(a) => {
            let report = match (&a.checkpoint, &a.bundle) {
                (Some(ck), _) => train::eval_checkpoint(ck, &a.data, &a.device, a.batch_size)?,
                (None, Some(b)) => train::eval_bundle(b, &a.data, a.precision.into())?,
                (None, None) => anyhow::bail!("give --checkpoint or --bundle"),
            };
            print_report(&report);
            if let Some(p) = &a.json {
                std::fs::write(p, serde_json::to_string_pretty(&report)?)
                    .with_context(|| format!("cannot write {}", p.display()))?;
            }
        }
    }
    Ok(())
}
