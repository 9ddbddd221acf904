//! `mge extract`: raw text in, entities and relations out, streaming line by line.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use mge::extract::{Extraction, Extractor};
use mge::formats::{brat, table};

use crate::Result;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per document: {"text", "entities", "relations"}.
    Jsonl,
    /// brat standoff: DIR/doc-N.txt and DIR/doc-N.ann per document (needs --out-dir).
    Brat,
    /// A readable table.
    Table,
}

#[derive(clap::Args)]
pub struct ExtractArgs {
    /// Bundle file (from `mge export`).
    #[arg(long)]
    model: PathBuf,
    /// Arithmetic of the matrix products: int8 where this processor has dot-product
    /// instructions that make it faster (auto), or always f32 / int8.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    precision: PrecisionArg,
    /// Where the forward passes run: `cpu`, or `wgpu`, a GPU through Vulkan, Metal or DX12
    /// (for machines with a GPU and no CUDA; Mesa's lavapipe runs it on the CPU). On wgpu
    /// the weights stay q8 and the arithmetic is f32; --precision is for the CPU.
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    backend: BackendArg,
    /// Input files, one document per line; standard input when none is given.
    files: Vec<PathBuf>,
    /// Input lines are JSON objects with a `text` field.
    #[arg(long)]
    jsonl: bool,
    /// Output format (default: table on a terminal, JSONL otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Folder for --format brat.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Decision threshold (default: the model's, 0.5).
    #[arg(long)]
    threshold: Option<f32>,
    /// Sub-tokens per window, [CLS] and [SEP] included; longer sentences are cut into
    /// overlapping windows.
    #[arg(long, default_value_t = mge::extract::DEFAULT_WINDOW)]
    window: usize,
    /// Sub-tokens of context on each side where windows overlap.
    #[arg(long, default_value_t = mge::extract::DEFAULT_CONTEXT)]
    context: usize,
    /// Documents per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// How text is cut into sentences: `rules` (abbreviations and initials do not end a
    /// sentence), `unicode` (UAX #29 boundaries, which do cut there) or `lines` (only line
    /// breaks; long lines go to the model in windows).
    #[arg(long, default_value = "rules")]
    sentences: mge::segment::Segmenter,
    /// Overlapping entities: `flat` keeps the best-scoring of overlapping mentions,
    /// `per-type` the best of overlapping mentions of one type (different types may nest),
    /// `nested` keeps all; `auto` follows the model's training data (flat when it had no
    /// overlaps, per-type when only mentions of different types overlapped, as in ADE).
    #[arg(long, value_enum, default_value_t = EntityMode::Auto)]
    entities: EntityMode,
    /// Report every sub-token span above the threshold, also those that begin or end inside
    /// a word or on punctuation (for comparison; by default spans follow word boundaries).
    #[arg(long)]
    raw_spans: bool,
    /// Titles before names (`Dr.`, `Sen.`, `President`, …): `retry` reads them as written
    /// and reads a sentence again without them where the name after one came out as no
    /// mention; `read` never reads again; `auto` is `retry` for models whose training data
    /// takes names after titles into mentions (CoNLL04), `read` for others. `drop` leaves
    /// them out of what the model reads, `restore` also puts them back at the start of the
    /// mention (for comparison: both lost on CoNLL04 dev, docs/RESULTS.md "Titles before
    /// names").
    #[arg(long, value_enum, default_value_t = TitlesArg::Auto)]
    titles: TitlesArg,
    /// Hyphens between words: `split` makes each a word of its own, so that a mention can
    /// end before it (`Lithium` of `Lithium-induced`), `join` keeps hyphenated words whole;
    /// `auto` follows how the model's training data writes them (split for ADE).
    #[arg(long, value_enum, default_value_t = HyphenMode::Auto)]
    hyphens: HyphenMode,
    /// Slashes between words, as `--hyphens`: `split` reads `Nadella/Microsoft` as two
    /// words, `join` as one; `auto` follows the model's training data (split for CoNLL04 and
    /// ADE, whole for SciERC's `parser/generator`).
    #[arg(long, value_enum, default_value_t = HyphenMode::Auto)]
    slashes: HyphenMode,
    /// A hyphen after a name and before a lower-case word (`Paris-based`, `Harvard-educated`):
    /// `split` lets the name be a mention of its own (the default), `join` keeps the word
    /// whole as the training data writes it.
    #[arg(long, value_enum, default_value_t = HyphenMode::Split)]
    name_hyphens: HyphenMode,
    /// Keep each sentence whole where an abbreviation stands before a capitalized word
    /// (`the U.K. Smith stayed`); by default such a sentence is read again cut there when
    /// the first reading found nothing on either word (for comparison).
    #[arg(long)]
    no_reread: bool,
    /// Keep mentions without a capital letter of the types the model's training data always
    /// capitalizes (CoNLL04's persons, places, organizations); by default such a mention
    /// is dropped from a sentence that begins with a capital (for comparison).
    #[arg(long)]
    any_case: bool,
    /// Keep relations whose argument types the model's training data never pairs that way
    /// (a person `OrgBased_In` a place); by default they are dropped (for comparison).
    #[arg(long)]
    any_argument_types: bool,
    /// Report only spans above the threshold, also where the model split a mention's
    /// probability between spans that share an end or a start (for comparison).
    #[arg(long)]
    no_pooling: bool,
    /// Report only spans above the threshold, also where a relation above it vouches for
    /// spans the entity table is unsure of (for comparison).
    #[arg(long)]
    no_relation_support: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HyphenMode {
    Auto,
    Split,
    Join,
}

impl HyphenMode {
    /// Sets the extractor's choice to split at a joiner, or leaves the model's own (`auto`).
    fn apply(self, split: &mut bool) {
        match self {
            HyphenMode::Auto => {}
            HyphenMode::Split => *split = true,
            HyphenMode::Join => *split = false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TitlesArg {
    Auto,
    Retry,
    Read,
    Drop,
    Restore,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EntityMode {
    Auto,
    Flat,
    PerType,
    Nested,
}

/// Reads one line as UTF-8, naming the input and line in the error.
pub(crate) fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    name: &str,
    line: usize,
) -> Result<Option<String>> {
    buf.clear();
    if reader.read_until(b'\n', buf)? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    match std::str::from_utf8(buf) {
        Ok(s) => Ok(Some(s.to_string())),
        Err(e) => bail!(
            "{name}, line {line}: not valid UTF-8 (byte {} of the line)",
            e.valid_up_to() + 1
        ),
    }
}

struct Output {
    format: Format,
    out_dir: Option<PathBuf>,
    docs: usize,
    stdout: std::io::StdoutLock<'static>,
}

impl Output {
    fn write(&mut self, r: &Extraction) -> Result<()> {
        self.docs += 1;
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.stdout, r)?;
                writeln!(self.stdout)?;
            }
            Format::Table => {
                writeln!(self.stdout, "{}", table(r))?;
            }
            Format::Brat => {
                let dir = self
                    .out_dir
                    .as_deref()
                    .context("--format brat needs --out-dir")?;
                let stem = dir.join(format!("doc-{}", self.docs));
                std::fs::write(stem.with_extension("txt"), &r.text)?;
                std::fs::write(stem.with_extension("ann"), brat(r))?;
            }
        }
        Ok(())
    }
}

/// The inputs of a command that reads documents: the files given, or standard input when
/// none is.
/// `--precision` of the commands that run the inference engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PrecisionArg {
    Auto,
    F32,
    Int8,
}

impl From<PrecisionArg> for mge::engine::Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::Auto => Self::Auto,
            PrecisionArg::F32 => Self::F32,
            PrecisionArg::Int8 => Self::Int8,
        }
    }
}

/// `--backend` of `mge extract`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Cpu,
    Wgpu,
}

/// Builds the extractor of a bundle on the chosen backend.
fn extractor(bytes: &[u8], backend: BackendArg, precision: PrecisionArg) -> Result<Extractor> {
    Ok(match backend {
        BackendArg::Cpu => Extractor::from_bundle_with(bytes, precision.into())?,
        #[cfg(feature = "gpu")]
        BackendArg::Wgpu => {
            let gpu = mge::engine::gpu::Gpu::new_blocking()
                .context("--backend wgpu needs a GPU adapter (or Mesa's lavapipe driver)")?;
            let ex = Extractor::from_bundle_gpu(bytes, gpu)?;
            eprintln!("forward passes on {}", ex.runner().describe());
            ex
        }
        #[cfg(not(feature = "gpu"))]
        BackendArg::Wgpu => bail!("this mge was built without the `gpu` feature"),
    })
}

pub(crate) fn inputs(files: &[PathBuf]) -> Vec<Option<&Path>> {
    if files.is_empty() {
        vec![None]
    } else {
        files.iter().map(|p| Some(p.as_path())).collect()
    }
}

/// An input's name for messages, its size in bytes (0 when unknown) and its reader.
pub(crate) fn open_input(input: Option<&Path>) -> Result<(String, u64, Box<dyn Read>)> {
    Ok(match input {
        Some(p) => {
            let f = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            (p.display().to_string(), size, Box::new(f))
        }
        None => ("standard input".to_string(), 0, Box::new(std::io::stdin())),
    })
}

pub(crate) fn text_of(line: String, jsonl: bool, name: &str, n: usize) -> Result<String> {
    if !jsonl {
        return Ok(line);
    }
    let v: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("{name}, line {n}: not JSON"))?;
    match v.get("text").and_then(|t| t.as_str()) {
        Some(t) => Ok(t.to_string()),
        None => bail!("{name}, line {n}: no string field `text`"),
    }
}

pub fn run(a: &ExtractArgs) -> Result<()> {
    let bytes =
        std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
    let mut ex = extractor(&bytes, a.backend, a.precision)
        .with_context(|| format!("{}", a.model.display()))?;
    if a.window < 3 {
        bail!("--window must be at least 3 (the [CLS] and [SEP] markers and one sub-token)");
    }
    ex.max_len = a.window;
    ex.context = a.context;
    ex.segmenter = a.sentences;
    ex.word_spans = !a.raw_spans;
    ex.titles = match a.titles {
        TitlesArg::Auto => ex.titles,
        TitlesArg::Retry => mge::extract::Titles::Retry,
        TitlesArg::Read => mge::extract::Titles::Read,
        TitlesArg::Drop => mge::extract::Titles::Drop,
        TitlesArg::Restore => mge::extract::Titles::Restore,
    };
    match a.entities {
        EntityMode::Auto => {}
        EntityMode::Flat => ex.flat_entities = true,
        EntityMode::PerType => (ex.flat_entities, ex.flat_per_type) = (false, true),
        EntityMode::Nested => (ex.flat_entities, ex.flat_per_type) = (false, false),
    }
    a.hyphens.apply(&mut ex.split_hyphens);
    a.slashes.apply(&mut ex.split_slashes);
    a.name_hyphens.apply(&mut ex.split_name_hyphens);
    if a.no_reread {
        ex.reread_doubtful_ends = false;
    }
    if a.any_case {
        ex.capitalized_types.clear();
    }
    if a.any_argument_types {
        ex.relation_signatures = None;
    }
    if a.no_pooling {
        ex.pool_floor = None;
    }
    if a.no_relation_support {
        ex.support_floor = None;
    }
    if let Some(t) = a.threshold {
        ex.threshold = t;
    }
    let format = a.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    if format == Format::Brat {
        let dir = a
            .out_dir
            .as_deref()
            .context("--format brat needs --out-dir")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut out = Output {
        format,
        out_dir: a.out_dir.clone(),
        docs: 0,
        stdout: std::io::stdout().lock(),
    };
    for input in inputs(&a.files) {
        let (name, size, reader) = open_input(input)?;
        let pb = if size > 0 && std::io::stderr().is_terminal() {
            let pb = ProgressBar::new(size);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                pb.set_style(style.progress_chars("=> "));
            }
            pb.set_message(name.clone());
            pb
        } else {
            ProgressBar::hidden()
        };
        let mut reader = BufReader::new(pb.wrap_read(reader));
        let mut buf = Vec::new();
        let mut batch: Vec<String> = Vec::with_capacity(a.batch);
        let mut line = 0;
        loop {
            line += 1;
            let next = read_line(&mut reader, &mut buf, &name, line)?;
            if let Some(l) = next.clone() {
                batch.push(text_of(l, a.jsonl, &name, line)?);
            }
            if batch.len() >= a.batch.max(1) || (next.is_none() && !batch.is_empty()) {
                let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                for r in ex.extract_many(&refs)? {
                    pb.suspend(|| out.write(&r))?;
                }
                batch.clear();
            }
            if next.is_none() {
                break;
            }
        }
        pb.finish_and_clear();
    }
    out.stdout.flush()?;
    Ok(())
}
