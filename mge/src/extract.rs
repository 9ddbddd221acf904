//! Extraction from raw text: the one result schema every front end (command line, browser,
//! server) speaks.
//!
//! Text of any length is split into sentences ([`crate::segment`]: abbreviations and
//! initials do not end one), each sentence into windows that fit the encoder, and the
//! windows run in batches. Decoding keeps entity spans that begin and end on word
//! boundaries, trims punctuation from their edges, and for models trained on flat data
//! keeps the best of overlapping spans. Offsets in the result are in Unicode scalar values
//! (chars) of the original text, `end` exclusive.

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::bundle::{read_bundle, BundleError, BundleInfo};
use crate::data::LabelSchema;
#[cfg(feature = "gpu")]
use crate::engine::gpu::GpuEngine;
use crate::engine::{Engine, GateMeans, Precision, Tables};
use crate::error::Result;
use crate::markup;
use crate::model::MgeModel;
use crate::segment::{self, Segmenter};
use crate::table::{DecodedTriple, ScoredCell, TableDecoding};
use crate::tokenize::SubwordTokenizer;

/// Writes a probability with 4 decimals. The digits beyond them differ between the CPU's
/// and the browser's arithmetic (different vector units sum in different orders), so every
/// front end writes the same bytes for the same result only when they are left out; no
/// decision needs them.
fn four_decimals<S: serde::Serializer>(score: &f32, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64((*score as f64 * 1e4).round() / 1e4)
}

/// An entity mention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntityMention {
    /// Offset of the first char (Unicode scalar value) in the text.
    pub start: usize,
    /// Offset just past the last char.
    pub end: usize,
    /// The mention as it appears in the text.
    pub text: String,
    /// Entity type, one of the model's.
    #[serde(rename = "type")]
    pub label: String,
    /// The model's probability for this span and type (written with 4 decimals).
    #[serde(serialize_with = "four_decimals")]
    pub score: f32,
}

/// A relation between two mentions (indexes into `entities`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelationMention {
    /// Index of the subject in `entities`.
    pub head: usize,
    /// Index of the object in `entities`.
    pub tail: usize,
    /// Relation type, one of the model's.
    #[serde(rename = "type")]
    pub label: String,
    /// The model's probability for this relation (written with 4 decimals).
    #[serde(serialize_with = "four_decimals")]
    pub score: f32,
}

/// The result for one text, sorted by position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Extraction {
    /// The text the mentions are in.
    pub text: String,
    /// Entity mentions, by position.
    pub entities: Vec<EntityMention>,
    /// Relations between them.
    pub relations: Vec<RelationMention>,
}

impl Extraction {
    /// Joins the results of consecutive pieces of `text`: each part's offsets are shifted by
    /// its char offset in `text`, and relation indexes follow the merged entity list. Lets a
    /// front end extract a long text piece by piece (for progress) and still return one result.
    pub fn join(text: &str, parts: Vec<(usize, Extraction)>) -> Extraction {
        let mut out = Extraction {
            text: text.to_string(),
            ..Default::default()
        };
        for (offset, part) in parts {
            let base = out.entities.len();
            out.entities
                .extend(part.entities.into_iter().map(|e| EntityMention {
                    start: e.start + offset,
                    end: e.end + offset,
                    ..e
                }));
            out.relations
                .extend(part.relations.into_iter().map(|r| RelationMention {
                    head: r.head + base,
                    tail: r.tail + base,
                    ..r
                }));
        }
        out
    }
}

/// Char spans (`start`, `end` exclusive) of the sentences of `text` that hold more than
/// whitespace, as the default extractor splits them ([`Segmenter::Rules`]).
pub fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    segment::sentences(text, Segmenter::default())
        .into_iter()
        .map(|s| (s.char_start, s.char_start + s.text.chars().count()))
        .collect()
}

/// Whether a bundle's model is decoded flat: its training data had no overlapping entities,
/// as its label schema records, or for bundles exported before that was recorded, as the
/// name of its dataset tells ([`crate::data::known_nested`]; unknown names decode nested).
pub fn flat_entities(labels: &LabelSchema, dataset: &str) -> bool {
    let nested = labels
        .nested_entities
        .or_else(|| crate::data::known_nested(dataset));
    nested == Some(false)
}

/// Whether a bundle's model decodes mentions of one type without overlaps while mentions
/// of different types may nest: its training data has overlapping entities, and two of one
/// type seldom or never (ADE's drugs inside adverse effects; SciERC's 29 pairs of one type
/// among 5,598 entities), as its label schema records, or for bundles exported before that
/// was recorded, as the name of its dataset tells
/// ([`crate::data::known_same_type_overlaps`]).
pub fn flat_per_type(labels: &LabelSchema, dataset: &str) -> bool {
    let same_type = labels
        .same_type_overlaps
        .or_else(|| crate::data::known_same_type_overlaps(dataset));
    !flat_entities(labels, dataset) && same_type == Some(false)
}

/// Whether a bundle's model reads a hyphen between words as a word of its own, as its label
/// schema records, or for bundles exported before that was recorded, as the name of its
/// dataset tells ([`crate::data::known_hyphens_split`]; unknown names keep hyphenated words
/// whole).
pub fn split_hyphens(labels: &LabelSchema, dataset: &str) -> bool {
    let split = labels
        .hyphens_split
        .or_else(|| crate::data::known_hyphens_split(dataset));
    split == Some(true)
}

/// Whether a bundle's model reads a slash between words as a word of its own, as its label
/// schema records, or for bundles exported before that was recorded, as the name of its
/// dataset tells ([`crate::data::known_slashes_split`]; unknown names keep slashed words
/// whole).
pub fn split_slashes(labels: &LabelSchema, dataset: &str) -> bool {
    let split = labels
        .slashes_split
        .or_else(|| crate::data::known_slashes_split(dataset));
    split == Some(true)
}

/// Whether a bundle's model takes the name after a title into its mentions, so that a
/// sentence where it found none is read again ([`Titles::Retry`]), as its label schema
/// records, or for bundles exported before that was recorded, as the name of its dataset
/// tells ([`crate::data::known_titled_names`]; unknown names: no).
pub fn titled_names(labels: &LabelSchema, dataset: &str) -> bool {
    let titled = labels
        .titled_names
        .or_else(|| crate::data::known_titled_names(dataset));
    titled == Some(true)
}

/// The relation signatures a bundle's model keeps to ([`Extractor::relation_signatures`]):
/// as its label schema records them, or for bundles exported before that was recorded, as
/// its dataset's name tells ([`crate::data::known_relation_signatures`]). `None` (every
/// combination allowed) for unknown names. Signatures naming a type the schema lacks are
/// left out.
pub fn relation_signatures(labels: &LabelSchema, dataset: &str) -> Option<Signatures> {
    let known = labels
        .relation_signatures
        .clone()
        .or_else(|| crate::data::known_relation_signatures(dataset))?;
    Some(
        known
            .iter()
            .filter_map(|s| {
                Some((
                    labels.relation_index(&s.relation)?,
                    labels.entity_index(&s.head)?,
                    labels.entity_index(&s.tail)?,
                ))
            })
            .collect(),
    )
}

/// The least probability of a span that [`Extractor::pool_floor`] pools by default (chosen
/// on dev among 0.1, 0.2 and 0.3, `docs/RESULTS.md`).
pub const DEFAULT_POOL_FLOOR: f32 = 0.2;

/// The least probability of a span that [`Extractor::support_floor`] reports when a relation
/// vouches for it.
pub const DEFAULT_SUPPORT_FLOOR: f32 = 0.2;

/// Allowed (relation, head entity type, tail entity type) combinations, as indices into the
/// label schema.
pub type Signatures = std::collections::BTreeSet<(usize, usize, usize)>;

/// Where the time of an extraction went, in milliseconds. Encoder and heads are summed over
/// the windows (on several threads their sum can exceed the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub tokenize_ms: f64,
    pub encoder_ms: f64,
    pub heads_ms: f64,
    pub decode_ms: f64,
    pub total_ms: f64,
}

/// The tables of one window (a sentence, or a part of a long one) for teaching views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceTables {
    /// Char span of the window's sub-tokens in the text.
    pub start: usize,
    pub end: usize,
    /// Sub-tokens (`[CLS]`/`[SEP]` excluded) and their char spans in the text.
    pub tokens: Vec<String>,
    pub offsets: Vec<(usize, usize)>,
    /// `n × n × |E|` entity probabilities, row-major; only cells `i <= j` are meaningful.
    pub ner: Vec<f32>,
    /// `n × n × |R|` relation probabilities (row: subject start, column: object start).
    pub re: Vec<f32>,
    /// Mean activation of each gate per sub-token.
    pub gates: GateMeans,
}

/// An extraction with everything the model computed on the way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub extraction: Extraction,
    pub sentences: Vec<SentenceTables>,
    pub timings: Timings,
}

/// A clock in milliseconds (`performance.now()` in a browser, [`monotonic_ms`] natively).
pub type Clock<'a> = &'a (dyn Fn() -> f64 + Sync);

/// Milliseconds since the first call, from the operating system's monotonic clock.
#[cfg(not(target_arch = "wasm32"))]
pub fn monotonic_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// Error of building an extractor from a bundle.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("the bundle does not hold a usable model: {0}")]
    Model(#[from] crate::Error),
}

/// A window of sub-tokens with the char offsets of each (specials `(0, 0)`).
struct Window {
    text: usize,
    ids: Vec<u32>,
    offsets: Vec<(usize, usize)>,
    /// Char span of the word each sub-token belongs to (specials: `(usize::MAX, 0)`).
    words: Vec<(usize, usize)>,
    /// Positions in `ids` whose entities this window reports: all of its sentence piece,
    /// or, where windows overlap, the middle part that no other window reports.
    core: (usize, usize),
    /// Char ranges of the sentence that the encoder read as spaces ([`blanked`]): no
    /// mention holds one.
    unread: std::sync::Arc<[(usize, usize)]>,
    /// Char span of the window's sentence in the text.
    sentence: (usize, usize),
    /// The window was read without the titles before names, and a mention right after
    /// titles starts at the first of them ([`Titles::Restore`], a [`Titles::Retry`]).
    restore: bool,
}

/// A sentence read a second time ([`Extractor::second_reading`]).
#[derive(Debug, Clone, PartialEq)]
struct Reread {
    text: usize,
    /// Char span of the sentence in the text.
    sentence: (usize, usize),
    /// Read without titles, since the first reading lost a name after one: the second
    /// reading is kept whatever it finds.
    titles: bool,
    /// Char spans in the text of words around the places where the sentence was cut
    /// ([`segment::doubtful_ends`]): those that the first reading put in no mention, or
    /// both words where it ran one name across them. Unless `titles`, the second reading
    /// is kept only when one of its mentions lies on one of them.
    wanted: Vec<(usize, usize)>,
}

impl Reread {
    /// Whether the second reading (`found`, the results of its text) is kept.
    fn kept(&self, found: &[Extraction]) -> bool {
        let on = |&(a, b): &(usize, usize)| {
            found
                .get(self.text)
                .is_some_and(|f| f.entities.iter().any(|m| m.start < b && a < m.end))
        };
        self.titles || self.wanted.iter().any(on)
    }
}

/// Keeps the `max` best-scoring of `items` (in their order by `position`) when there are
/// more. The decoder's limit per window: at most as many entity spans and relation cells as
/// the window has sub-tokens, and twice as many triples. Text never holds more mentions than
/// sub-tokens, so this changes nothing at sensible thresholds; at a tiny one a model scores
/// nearly every span and pair above it (a 380-character text at 1e-20 gave 1.1 GB of
/// triples and 6 GB of memory), and the limit keeps time and memory in proportion to the
/// text whatever the threshold.
fn keep_best<T, K: Ord>(
    items: &mut Vec<T>,
    max: usize,
    score: impl Fn(&T) -> f32,
    position: impl Fn(&T) -> K,
) {
    if items.len() <= max {
        return;
    }
    items.sort_by(|a, b| score(b).total_cmp(&score(a)));
    items.truncate(max);
    items.sort_by_key(|t| position(t));
}

/// Default [`Extractor::max_len`] (chosen by measurement: `docs/RESULTS.md`, section "Raw
/// text: sentences, windows and run-on text").
pub const DEFAULT_WINDOW: usize = 64;
/// Default [`Extractor::context`].
pub const DEFAULT_CONTEXT: usize = 16;

/// Where an [`Extractor`]'s forward passes run.
// One per extractor: the sizes of the variants do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Runner {
    /// The CPU engine (natively, or WebAssembly SIMD in a browser).
    Cpu(Engine),
    /// The GPU engine (feature `gpu`). In a browser, GPU results arrive asynchronously:
    /// use [`Extractor::analyze_with`] there.
    #[cfg(feature = "gpu")]
    Gpu(GpuEngine),
}

impl Runner {
    /// The tables of a batch of windows: on the CPU each window on a thread of the pool,
    /// on a GPU the whole batch in one submit.
    fn forward_batch(
        &self,
        batch: &[&[u32]],
        gates: bool,
        clock: Option<Clock>,
    ) -> Vec<Result<Tables>> {
        match self {
            Runner::Cpu(e) => {
                let forward = |ids: &&[u32]| e.forward(ids, gates, clock.map(|c| c as _));
                #[cfg(not(target_arch = "wasm32"))]
                {
                    use rayon::prelude::*;
                    batch.par_iter().map(forward).collect()
                }
                #[cfg(target_arch = "wasm32")]
                batch.iter().map(forward).collect()
            }
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Runner::Gpu(e) => {
                let now = || clock.map(|c| c()).unwrap_or(0.0);
                let t0 = now();
                match e.forward_many_blocking(batch, gates) {
                    Ok(mut tables) => {
                        // One submit for the batch: its time is shared out evenly (the
                        // encoder and the heads are not timed apart).
                        let each = (now() - t0) / batch.len().max(1) as f64;
                        for t in &mut tables {
                            t.encoder_ms = each;
                        }
                        tables.into_iter().map(Ok).collect()
                    }
                    Err(e) => {
                        let message = e.to_string();
                        batch
                            .iter()
                            .map(|_| Err(crate::Error::Gpu(message.clone())))
                            .collect()
                    }
                }
            }
            #[cfg(all(feature = "gpu", target_arch = "wasm32"))]
            Runner::Gpu(_) => batch
                .iter()
                .map(|_| {
                    Err(crate::Error::Gpu(
                        "in a browser a GPU pass is awaited: use Extractor::analyze_with".into(),
                    ))
                })
                .collect(),
        }
    }

    fn max_positions(&self) -> usize {
        match self {
            Runner::Cpu(e) => e.max_positions(),
            #[cfg(feature = "gpu")]
            Runner::Gpu(e) => e.max_positions(),
        }
    }

    /// `cpu`, or `wgpu` and the adapter.
    pub fn describe(&self) -> String {
        match self {
            Runner::Cpu(e) => format!("cpu ({})", if e.int8() { "int8" } else { "f32" }),
            #[cfg(feature = "gpu")]
            Runner::Gpu(e) => format!("wgpu ({})", e.gpu().adapter()),
        }
    }
}

/// A packed model and its tokenizer, ready to extract from raw text. Its forward passes run
/// on a [`Runner`]: the CPU engine (natively and in WebAssembly) or, with the `gpu`
/// feature, a GPU; training uses the candle model it is built from.
pub struct Extractor {
    engine: Runner,
    tokenizer: SubwordTokenizer,
    labels: LabelSchema,
    /// Decision threshold on probabilities (the model's, 0.5 by default).
    pub threshold: f32,
    /// Sub-tokens per window, specials included. Sentences longer than this are cut into
    /// overlapping windows. The models were trained on sentences (CoNLL04 and SciERC: 94% and
    /// 99% at most 64 sub-tokens); much longer windows make them report long nonsense spans.
    pub max_len: usize,
    /// Sub-tokens of context on each side of a window's core where windows overlap; an
    /// entity is reported by the window whose core holds its first sub-token.
    pub context: usize,
    /// Windows handed out together (natively, to the threads of the pool).
    pub batch_size: usize,
    /// How text is cut into sentences.
    pub segmenter: Segmenter,
    /// Keep the best-scoring of overlapping entities (of any type). On for models trained
    /// on data without overlapping entities ([`LabelSchema::nested_entities`]).
    pub flat_entities: bool,
    /// Without `flat_entities`: keep the best-scoring of overlapping mentions of one type,
    /// and let mentions of different types nest. On for models whose training data nests
    /// mentions of one type seldom or never ([`LabelSchema::same_type_overlaps`]: ADE,
    /// SciERC).
    pub flat_per_type: bool,
    /// A hyphen between words is a word of its own, so that a mention can end before it
    /// (`Lithium` of `Lithium-induced`). On for models whose training data writes hyphens
    /// that way ([`LabelSchema::hyphens_split`]: ADE).
    pub split_hyphens: bool,
    /// A slash between words is a word of its own (`Satya Nadella/Microsoft`). On for models
    /// whose training data writes slashes that way or has none ([`LabelSchema::slashes_split`]:
    /// CoNLL04, ADE); off where it keeps them inside words (SciERC's `parser/generator`).
    pub split_slashes: bool,
    /// A hyphen after a name and before a lower-case word is a word of its own
    /// (`Paris-based` gives the place `Paris`; [`segment::Splits::name_hyphens`]).
    pub split_name_hyphens: bool,
    /// Relation types with the entity types their arguments may have: a predicted relation
    /// whose head and tail types its training data never pairs that way is dropped (a
    /// person `OrgBased_In` a place, in CoNLL04). `None` keeps every relation.
    pub relation_signatures: Option<Signatures>,
    /// Where the model splits a mention's probability between spans of one type that share
    /// an end or a start (`President George W. Bush` 0.45, `George W. Bush` 0.23), the
    /// likelier is reported when together the two likeliest spans of at least this
    /// probability pass the threshold ([`Tables::pooled_mentions`]; [`DEFAULT_POOL_FLOOR`]).
    /// `None` reports only spans above the threshold.
    pub pool_floor: Option<f32>,
    /// Where a relation passes the threshold between spans the entity table is unsure of
    /// (each at least this probability, of the types the relation takes), the spans are
    /// reported as mentions ([`Tables::supported_mentions`]; [`DEFAULT_SUPPORT_FLOOR`]).
    /// Needs [`relation_signatures`](Self::relation_signatures); `None` turns it off.
    pub support_floor: Option<f32>,
    /// Entity spans begin and end on word boundaries ([`segment::words`]) and lose
    /// punctuation at their edges ([`segment::trim_span`]), as the datasets' entities do.
    /// Off, every sub-token span the model scores above the threshold is reported.
    pub word_spans: bool,
    /// At most as many entity spans and relation cells per window as it has sub-tokens
    /// (the best-scoring), and twice as many triples; see [`keep_best`]. Off only to study
    /// raw decoding.
    pub limit_cells: bool,
    /// What the model reads of a title before a name (`Dr.`, `Sen.`, …): [`Titles::Retry`]
    /// for models whose training data takes the name after a title into the mention
    /// ([`titled_names`]: CoNLL04), [`Titles::Read`] for others. `Drop` and `Restore` are
    /// there to reproduce `docs/RESULTS.md`, "Titles before names".
    pub titles: Titles,
    /// A sentence with an abbreviation before a capitalized word where the first reading
    /// put the abbreviation in no mention, or ran one name across both after `Inc.` or
    /// `Jr.` ([`segment::doubtful_ends`]: `She moved to the U.K. Smith stayed in Paris.`),
    /// is read again cut there; the second reading is kept when it finds a mention on a
    /// word that the first missed (or on either, for the name across). Only with
    /// [`Segmenter::Rules`].
    pub reread_doubtful_ends: bool,
    /// Entity types whose mentions hold a capital letter in cased text: a mention of one of
    /// them without a capital is dropped where its sentence begins with a capital
    /// ([`LabelSchema::capitalized_types`]: CoNLL04's persons, places and organizations, not
    /// `federal government` or `pharmacy`). Text typed in lower case keeps its mentions.
    /// Empty keeps every mention.
    pub capitalized_types: Vec<String>,
    info: Option<BundleInfo>,
}

/// Whether an entity type names persons, by its name (CoNLL04's `Peop`, `PER`, `Person`):
/// their `'s` before a preposition is more often `is` (`John's in London`) than theirs.
fn is_person_type(label: &str) -> bool {
    let l = label.to_lowercase();
    l.starts_with("peop") || l.starts_with("per")
}

/// The entity types whose mentions hold a capital letter in cased text, as a bundle's label
/// schema records, or for bundles exported before that was recorded, as the name of its
/// dataset tells ([`crate::data::known_capitalized_types`]; unknown names: none).
pub fn capitalized_types(labels: &LabelSchema, dataset: &str) -> Vec<String> {
    labels
        .capitalized_types
        .clone()
        .or_else(|| crate::data::known_capitalized_types(dataset))
        .unwrap_or_default()
}

/// [`Titles::Retry`] for a model whose mentions take in the names after titles
/// ([`titled_names`]), [`Titles::Read`] for others.
fn titles_for(labels: &LabelSchema, dataset: &str) -> Titles {
    if titled_names(labels, dataset) {
        Titles::Retry
    } else {
        Titles::Read
    }
}

/// What the model reads of a title before a capitalized word ([`segment::TITLES`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Titles {
    /// The text as it is.
    Read,
    /// The sentence without the title's sub-tokens; mentions start after it.
    Drop,
    /// As `Drop`, and a mention right after titles starts at the first of them.
    Restore,
    /// The text as it is; where the word right after a title is in no mention (the model
    /// lost `Prof. J. R. R. Tolkien` or `President George W. Bush`), the sentence is read
    /// again as `Restore` reads it, leaving out written-out titles too
    /// ([`segment::TITLE_WORDS`]), and that reading replaces the first.
    #[default]
    Retry,
}

impl Extractor {
    pub fn new(model: &MgeModel, tokenizer: SubwordTokenizer) -> Result<Self> {
        Self::with_precision(model, tokenizer, Precision::Auto)
    }

    /// [`new`](Self::new) with the engine's arithmetic chosen ([`Precision`]).
    pub fn with_precision(
        model: &MgeModel,
        tokenizer: SubwordTokenizer,
        precision: Precision,
    ) -> Result<Self> {
        let engine = Runner::Cpu(Engine::with_precision(model, precision)?);
        Ok(Self::with_runner(model, tokenizer, engine))
    }

    /// An extractor whose forward passes run on `engine`, built from `model`.
    pub fn with_runner(model: &MgeModel, tokenizer: SubwordTokenizer, engine: Runner) -> Self {
        let config = &model.config;
        Self {
            engine,
            tokenizer,
            labels: config.labels.clone(),
            threshold: config.mge.threshold,
            max_len: config.bert.max_position_embeddings.min(DEFAULT_WINDOW),
            context: DEFAULT_CONTEXT,
            batch_size: 32,
            segmenter: Segmenter::default(),
            flat_entities: config.labels.nested_entities == Some(false),
            flat_per_type: flat_per_type(&config.labels, ""),
            split_hyphens: config.labels.hyphens_split == Some(true),
            split_slashes: config.labels.slashes_split == Some(true),
            split_name_hyphens: true,
            relation_signatures: relation_signatures(&config.labels, ""),
            pool_floor: Some(DEFAULT_POOL_FLOOR),
            support_floor: Some(DEFAULT_SUPPORT_FLOOR),
            word_spans: true,
            limit_cells: true,
            titles: titles_for(&config.labels, ""),
            reread_doubtful_ends: true,
            capitalized_types: capitalized_types(&config.labels, ""),
            info: None,
        }
    }

    /// Builds an extractor from the bytes of a bundle (no file system needed).
    pub fn from_bundle(bytes: &[u8]) -> std::result::Result<Self, LoadError> {
        Self::from_bundle_with(bytes, Precision::Auto)
    }

    /// [`from_bundle`](Self::from_bundle) with the engine's arithmetic chosen.
    pub fn from_bundle_with(
        bytes: &[u8],
        precision: Precision,
    ) -> std::result::Result<Self, LoadError> {
        Self::from_bundle_on(bytes, |model| {
            Ok(Runner::Cpu(Engine::with_precision(model, precision)?))
        })
    }

    /// [`from_bundle`](Self::from_bundle) with the forward passes on a GPU.
    #[cfg(feature = "gpu")]
    pub fn from_bundle_gpu(
        bytes: &[u8],
        gpu: crate::engine::gpu::Gpu,
    ) -> std::result::Result<Self, LoadError> {
        Self::from_bundle_on(bytes, |model| Ok(Runner::Gpu(GpuEngine::new(gpu, model)?)))
    }

    /// [`from_bundle`](Self::from_bundle) on the CPU, and the same model on `gpu` from the
    /// same reading of the bundle (a browser keeps both and runs the faster). The GPU side
    /// can fail on its own.
    #[cfg(feature = "gpu")]
    pub fn from_bundle_also_on(
        bytes: &[u8],
        precision: Precision,
        gpu: crate::engine::gpu::Gpu,
    ) -> std::result::Result<(Self, Result<GpuEngine>), LoadError> {
        let mut on_gpu = None;
        let ex = Self::from_bundle_on(bytes, |model| {
            on_gpu = Some(GpuEngine::new(gpu, model));
            Ok(Runner::Cpu(Engine::with_precision(model, precision)?))
        })?;
        let on_gpu = on_gpu.unwrap_or_else(|| Err(crate::Error::Gpu("not built".into())));
        Ok((ex, on_gpu))
    }

    fn from_bundle_on(
        bytes: &[u8],
        runner: impl FnOnce(&MgeModel) -> Result<Runner>,
    ) -> std::result::Result<Self, LoadError> {
        let (info, tensors) = read_bundle(bytes, &Device::Cpu)?;
        let model = MgeModel::load(&tensors, &info.config)?;
        drop(tensors);
        let tokenizer = SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes())?;
        let mut ex = Self::with_runner(&model, tokenizer, runner(&model)?);
        ex.flat_entities = flat_entities(&info.config.labels, &info.provenance.dataset);
        ex.flat_per_type = flat_per_type(&info.config.labels, &info.provenance.dataset);
        ex.split_hyphens = split_hyphens(&info.config.labels, &info.provenance.dataset);
        ex.split_slashes = split_slashes(&info.config.labels, &info.provenance.dataset);
        ex.relation_signatures = relation_signatures(&info.config.labels, &info.provenance.dataset);
        ex.titles = titles_for(&info.config.labels, &info.provenance.dataset);
        ex.capitalized_types = capitalized_types(&info.config.labels, &info.provenance.dataset);
        ex.info = Some(info);
        Ok(ex)
    }

    /// Where the forward passes run.
    pub fn runner(&self) -> &Runner {
        &self.engine
    }

    /// The bundle's metadata, when built from one.
    pub fn info(&self) -> Option<&BundleInfo> {
        self.info.as_ref()
    }

    pub fn entity_types(&self) -> &[String] {
        &self.labels.entity_types
    }

    pub fn relation_types(&self) -> &[String] {
        &self.labels.relation_types
    }

    /// Extracts from one text.
    pub fn extract(&self, text: &str) -> Result<Extraction> {
        Ok(self.extract_many(&[text])?.pop().unwrap_or_default())
    }

    /// Extracts from several texts, running their sentences together.
    pub fn extract_many(&self, texts: &[&str]) -> Result<Vec<Extraction>> {
        Ok(self.run(texts, None, false, self.threshold)?.0)
    }

    /// [`extract_many`](Self::extract_many) at another decision threshold than
    /// [`Extractor::threshold`], for callers that share one extractor between requests.
    pub fn extract_many_at(&self, texts: &[&str], threshold: f32) -> Result<Vec<Extraction>> {
        Ok(self.run(texts, None, false, threshold)?.0)
    }

    /// [`extract_many`](Self::extract_many) with the time spent in each stage.
    pub fn extract_many_timed(
        &self,
        texts: &[&str],
        clock: Clock,
    ) -> Result<(Vec<Extraction>, Timings)> {
        let (found, _, timings) = self.run(texts, Some(clock), false, self.threshold)?;
        Ok((found, timings))
    }

    /// Extracts from one text and keeps each window's tables and gate activations.
    pub fn analyze(&self, text: &str, clock: Clock) -> Result<Analysis> {
        let (mut found, sentences, timings) =
            self.run(&[text], Some(clock), true, self.threshold)?;
        Ok(Analysis {
            extraction: found.pop().unwrap_or_default(),
            sentences,
            timings,
        })
    }

    fn run(
        &self,
        texts: &[&str],
        clock: Option<Clock>,
        keep_tables: bool,
        threshold: f32,
    ) -> Result<(Vec<Extraction>, Vec<SentenceTables>, Timings)> {
        let now = || clock.map(|c| c()).unwrap_or(0.0);
        let mut timings = Timings::default();
        let start = now();
        let originals = texts;
        let unwrapped: Vec<_> = texts.iter().map(|t| self.unwrapped(t)).collect();
        let plain: Vec<markup::Plain> = unwrapped.iter().map(|t| markup::plain(t)).collect();
        let texts: Vec<&str> = plain.iter().map(|p| p.text.as_ref()).collect();
        let texts = texts.as_slice();
        let mut windows = Vec::new();
        for (k, text) in texts.iter().enumerate() {
            self.windows(k, text, &mut windows)?;
        }
        let tokenized = now();
        timings.tokenize_ms = tokenized - start;
        let tables = self.forward_windows(&windows, keep_tables, clock, &mut timings)?;
        let decode_start = now();
        let (mut found, mut kept) = self.decode(texts, &windows, tables, keep_tables, threshold);
        let (again, rereads) = self.second_reading(texts, &windows, &found)?;
        let mut forward_again = 0.0;
        if !again.is_empty() {
            let t0 = now();
            let tables = self.forward_windows(&again, keep_tables, clock, &mut timings)?;
            forward_again = now() - t0;
            let second = self.decode(texts, &again, tables, keep_tables, threshold);
            replace_sentences(&mut found, &mut kept, &rereads, second);
        }
        to_original(&mut found, &mut kept, &plain, originals);
        let end = now();
        timings.decode_ms = end - decode_start - forward_again;
        timings.total_ms = end - start;
        Ok((found, kept, timings))
    }

    /// The forward passes of `windows`, in batches of [`batch_size`](Self::batch_size),
    /// longest first so that the threads finish together; their times are added to
    /// `timings`.
    fn forward_windows(
        &self,
        windows: &[Window],
        keep_tables: bool,
        clock: Option<Clock>,
        timings: &mut Timings,
    ) -> Result<Vec<Option<Tables>>> {
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(windows[i].ids.len()));
        let mut tables: Vec<Option<Tables>> = vec![None; windows.len()];
        for chunk in order.chunks(self.batch_size.max(1)) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| windows[i].ids.as_slice()).collect();
            let results = self.engine.forward_batch(&batch, keep_tables, clock);
            for (&i, r) in chunk.iter().zip(results) {
                let t = r?;
                timings.encoder_ms += t.encoder_ms;
                timings.heads_ms += t.heads_ms;
                tables[i] = Some(t);
            }
        }
        Ok(tables)
    }

    /// The sentences to read a second time, with their windows (none for most texts):
    /// - with [`Titles::Retry`], those where the first reading (`found`, one result per
    ///   text) lost a name after a title ([`lost_titled_name`]), read without their titles;
    /// - with [`reread_doubtful_ends`](Self::reread_doubtful_ends), those with a
    ///   [`segment::DoubtfulEnd`] whose abbreviation the first reading put in no mention
    ///   (`the U.K. Smith stayed`), or where it ran one mention across both words after an
    ///   abbreviation that ends a name (`Apple Inc. Smith`), read cut there.
    ///
    /// The windows of a sentence read cut keep the whole sentence's span.
    fn second_reading(
        &self,
        texts: &[&str],
        windows: &[Window],
        found: &[Extraction],
    ) -> Result<(Vec<Window>, Vec<Reread>)> {
        let mut again = Vec::new();
        let mut rereads = Vec::new();
        let retry = self.titles == Titles::Retry;
        let cuts = self.reread_doubtful_ends && self.segmenter == Segmenter::Rules;
        if !retry && !cuts {
            return Ok((again, rereads));
        }
        let drop_titles = matches!(self.titles, Titles::Drop | Titles::Restore);
        let mut seen = None;
        let mut chars: (usize, Vec<char>) = (usize::MAX, Vec::new());
        for w in windows {
            if seen == Some((w.text, w.sentence)) {
                continue;
            }
            seen = Some((w.text, w.sentence));
            let (Some(text), Some(result)) = (texts.get(w.text), found.get(w.text)) else {
                continue;
            };
            if chars.0 != w.text {
                chars = (w.text, text.chars().collect());
            }
            let Some(sentence_chars) = chars.1.get(w.sentence.0..w.sentence.1) else {
                continue;
            };
            let sentence: String = sentence_chars.iter().collect();
            let start = w.sentence.0;
            let titles = retry && lost_titled_name(&sentence, start, &result.entities);
            // Where to cut (the end of the abbreviation in the sentence), and the words
            // whose mentions in the second reading decide whether it is kept.
            let mut cut_at = Vec::new();
            let mut wanted = Vec::new();
            if cuts {
                let moved = |(a, b): (usize, usize)| (a + start, b + start);
                let on = |(a, b): (usize, usize), m: &EntityMention| m.start < b && a < m.end;
                for d in segment::doubtful_ends(&sentence) {
                    let (before, after) = (moved(d.before), moved(d.after));
                    let mentions = &result.entities;
                    let across = mentions.iter().any(|m| on(before, m) && on(after, m));
                    if d.name_end && across {
                        cut_at.push(d.before.1);
                        wanted.extend([before, after]);
                    } else if !mentions.iter().any(|m| on(before, m)) {
                        cut_at.push(d.before.1);
                        wanted.push(before);
                        if !mentions.iter().any(|m| on(after, m)) {
                            wanted.push(after);
                        }
                    }
                }
            }
            if !titles && cut_at.is_empty() {
                continue;
            }
            // The parts: cut after each abbreviation, the next part from the next word.
            let mut from = 0;
            let mut parts = Vec::new();
            for end in cut_at {
                parts.push((from, end));
                from = end;
                while from < sentence_chars.len() && sentence_chars[from].is_whitespace() {
                    from += 1;
                }
            }
            parts.push((from, sentence_chars.len()));
            let first = again.len();
            for (a, b) in parts {
                let part: String = sentence_chars[a..b].iter().collect();
                self.sentence_windows(w.text, &part, start + a, titles || drop_titles, &mut again)?;
            }
            for window in &mut again[first..] {
                window.sentence = w.sentence;
            }
            rereads.push(Reread {
                text: w.text,
                sentence: w.sentence,
                titles,
                wanted,
            });
        }
        Ok((again, rereads))
    }

    /// [`analyze`](Self::analyze) with the windows' forward passes awaited from `forward`
    /// (all the windows' ids, each with `[CLS]` and `[SEP]`, and whether gate activations
    /// are wanted; their tables in the same order): how a browser runs them on its GPU,
    /// whose results arrive asynchronously, in one submit (two where sentences are read a
    /// second time, [`Titles::Retry`]). The encoder time is the whole time of the passes.
    pub async fn analyze_with<F, Fut>(
        &self,
        text: &str,
        clock: Clock<'_>,
        mut forward: F,
    ) -> Result<Analysis>
    where
        F: FnMut(Vec<Vec<u32>>, bool) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Tables>>>,
    {
        let mut timings = Timings::default();
        let start = clock();
        let original = text;
        let unwrapped = self.unwrapped(text);
        let plain = [markup::plain(&unwrapped)];
        let text = plain[0].text.as_ref();
        let mut windows = Vec::new();
        self.windows(0, text, &mut windows)?;
        timings.tokenize_ms = clock() - start;
        let mut run = async |windows: &[Window]| -> Result<Vec<Option<Tables>>> {
            let ids = windows.iter().map(|w| w.ids.clone()).collect();
            let tables = forward(ids, true).await?;
            if tables.len() != windows.len() {
                return Err(crate::Error::Gpu(format!(
                    "{} tables for {} windows",
                    tables.len(),
                    windows.len()
                )));
            }
            Ok(tables.into_iter().map(Some).collect())
        };
        let t0 = clock();
        let tables = run(&windows).await?;
        timings.encoder_ms = clock() - t0;
        let decode_start = clock();
        let (mut found, mut sentences) =
            self.decode(&[text], &windows, tables, true, self.threshold);
        let (again, rereads) = self.second_reading(&[text], &windows, &found)?;
        let mut forward_again = 0.0;
        if !again.is_empty() {
            let t0 = clock();
            let tables = run(&again).await?;
            forward_again = clock() - t0;
            timings.encoder_ms += forward_again;
            let second = self.decode(&[text], &again, tables, true, self.threshold);
            replace_sentences(&mut found, &mut sentences, &rereads, second);
        }
        to_original(&mut found, &mut sentences, &plain, &[original]);
        let end = clock();
        timings.decode_ms = end - decode_start - forward_again;
        timings.total_ms = end - start;
        Ok(Analysis {
            extraction: found.pop().unwrap_or_default(),
            sentences,
            timings,
        })
    }

    /// Entities and relations of each text from its windows' tables (and the tables
    /// themselves, with `keep_tables`).
    fn decode(
        &self,
        texts: &[&str],
        windows: &[Window],
        tables: Vec<Option<Tables>>,
        keep_tables: bool,
        threshold: f32,
    ) -> (Vec<Extraction>, Vec<SentenceTables>) {
        let chars: Vec<Vec<char>> = texts.iter().map(|t| t.chars().collect()).collect();
        let capitalized: Vec<bool> = self
            .labels
            .entity_types
            .iter()
            .map(|t| self.capitalized_types.contains(t))
            .collect();
        let mut found: Vec<Vec<EntityMention>> = vec![Vec::new(); texts.len()];
        let mut rels: Vec<Vec<(usize, usize, usize, f32)>> = vec![Vec::new(); texts.len()];
        let mut kept = Vec::new();
        for (w, t) in windows.iter().zip(tables) {
            let Some(t) = t else { continue };
            let chars = &chars[w.text];
            let mut d = t.decode(threshold);
            if let Some(floor) = self.pool_floor {
                d.entities.extend(t.pooled_mentions(threshold, floor));
            }
            if let (Some(floor), Some(signatures)) =
                (self.support_floor, self.relation_signatures.as_ref())
            {
                let known: Vec<(usize, usize, usize)> =
                    d.entities.iter().map(|c| (c.i, c.j, c.label)).collect();
                d.entities.extend(
                    t.supported_mentions(threshold, floor, signatures)
                        .into_iter()
                        .filter(|c| !known.contains(&(c.i, c.j, c.label))),
                );
            }
            let cap = if self.limit_cells {
                w.ids.len().max(8)
            } else {
                usize::MAX / 2
            };
            keep_best(&mut d.entities, cap, |c| c.score, |c| (c.i, c.j, c.label));
            keep_best(&mut d.relations, cap, |c| c.score, |c| (c.i, c.j, c.label));
            let mut triples = d.triples();
            keep_best(
                &mut triples,
                2 * cap,
                |t| t.score,
                |t| (t.head, t.tail, t.label),
            );
            if self.word_spans {
                (d, triples) = word_aligned(d, triples, w, chars, &capitalized);
            }
            // Entities that start in the core, and the objects of their relations.
            let owned: Vec<bool> = d
                .entities
                .iter()
                .map(|e| (w.core.0..w.core.1).contains(&e.i))
                .collect();
            let mut needed = owned.clone();
            for tr in &triples {
                if owned[tr.head] {
                    needed[tr.tail] = true;
                }
            }
            let mut index = vec![usize::MAX; d.entities.len()];
            for (local, e) in d.entities.iter().enumerate() {
                if !needed[local] {
                    continue;
                }
                index[local] = found[w.text].len();
                let (mut start, mut end) = (w.offsets[e.i].0, w.offsets[e.j].1);
                if w.restore {
                    let written_out = self.titles == Titles::Retry;
                    start = titles_before(chars, start, written_out, w.sentence.0);
                    start = title_inside(chars, start, end, written_out);
                }
                let label = self
                    .labels
                    .entity_types
                    .get(e.label)
                    .cloned()
                    .unwrap_or_default();
                if self.word_spans && !is_person_type(&label) {
                    let sentence = &chars[..w.sentence.1.min(chars.len())];
                    end = segment::possessive_name_end(sentence, end);
                }
                found[w.text].push(EntityMention {
                    start,
                    end,
                    text: chars[start.min(chars.len())..end.min(chars.len())]
                        .iter()
                        .collect(),
                    label,
                    score: e.score,
                });
            }
            for tr in triples.iter().filter(|tr| owned[tr.head]) {
                rels[w.text].push((index[tr.head], index[tr.tail], tr.label, tr.score));
            }
            if keep_tables {
                let inner = &w.offsets[1..w.offsets.len() - 1];
                kept.push(SentenceTables {
                    start: inner.first().map_or(0, |o| o.0),
                    end: inner.last().map_or(0, |o| o.1),
                    tokens: w.ids[1..w.ids.len() - 1]
                        .iter()
                        .map(|&id| self.tokenizer.token(id).unwrap_or_default())
                        .collect(),
                    offsets: inner.to_vec(),
                    ner: t.ner,
                    re: t.re,
                    gates: t.gates.unwrap_or_default(),
                });
            }
        }
        let found = texts
            .iter()
            .zip(found.into_iter().zip(rels))
            .map(|(text, (ents, rels))| {
                let decoding = Decoding {
                    labels: &self.labels,
                    flat: self.flat_entities,
                    per_type: self.flat_per_type,
                    signatures: self.relation_signatures.as_ref(),
                    one_type: self.word_spans,
                };
                assemble(text, ents, rels, &decoding)
            })
            .collect();
        (found, kept)
    }

    /// `text` with the line breaks that wrap a sentence read as spaces, as the rule-based
    /// segmenter reads it ([`segment::unwrap_lines`]; the same chars otherwise). Done before
    /// markup is read ([`markup::plain`]), which shortens lines: line lengths are part of how
    /// a wrapped paragraph is told from lines of one sentence each.
    fn unwrapped<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        match self.segmenter {
            Segmenter::Rules => segment::unwrap_lines(text),
            _ => std::borrow::Cow::Borrowed(text),
        }
    }

    /// Sentences of `text`, each cut into windows that fit the encoder: one window when the
    /// sentence fits, otherwise overlapping windows whose cores tile the sentence.
    fn windows(&self, k: usize, text: &str, out: &mut Vec<Window>) -> Result<()> {
        let drop_titles = matches!(self.titles, Titles::Drop | Titles::Restore);
        for sentence in segment::sentences(text, self.segmenter) {
            self.sentence_windows(k, sentence.text, sentence.char_start, drop_titles, out)?;
        }
        Ok(())
    }

    /// The windows of one sentence of text `k` that starts at char `char_start`; with
    /// `drop_titles`, read without the titles before names ([`without_titles`]).
    fn sentence_windows(
        &self,
        k: usize,
        sentence: &str,
        char_start: usize,
        drop_titles: bool,
        out: &mut Vec<Window>,
    ) -> Result<()> {
        let room = self
            .max_len
            .min(self.engine.max_positions())
            .saturating_sub(2)
            .max(1);
        let span = (char_start, char_start + sentence.chars().count());
        let (read, unread) = read_for_model(sentence, !self.split_hyphens);
        let unread: std::sync::Arc<[(usize, usize)]> = unread
            .into_iter()
            .map(|(a, b)| (a + char_start, b + char_start))
            .collect();
        let pieces = self.tokenizer.encode_text(&read, usize::MAX)?;
        let mut all_ids = &pieces.ids[1..pieces.ids.len() - 1];
        let mut all_offsets = &pieces.offsets[1..pieces.offsets.len() - 1];
        let kept;
        if drop_titles {
            let written_out = self.titles == Titles::Retry;
            kept = without_titles(sentence, all_ids, all_offsets, written_out);
            (all_ids, all_offsets) = (&kept.0, &kept.1);
        }
        let words: Vec<(usize, usize)> = segment::words_with(
            sentence,
            true,
            segment::Splits {
                hyphens: self.split_hyphens,
                slashes: self.split_slashes,
                name_hyphens: self.split_name_hyphens,
            },
        )
        .into_iter()
        .map(|(a, b)| (a + char_start, b + char_start))
        .collect();
        // The word around each sub-token's first char (a sub-token of its own where a
        // symbol the word rules split off stays inside one sub-token).
        let word_of = |(s, e): (usize, usize)| {
            let k = words.partition_point(|w| w.0 <= s);
            match k.checked_sub(1).map(|k| words[k]) {
                Some(w) if s < w.1 => w,
                _ => (s, e),
            }
        };
        for (from, to, core) in window_spans(all_ids.len(), room, self.context) {
            let (ids, offs) = (&all_ids[from..to], &all_offsets[from..to]);
            let mut w = Window {
                text: k,
                ids: Vec::with_capacity(ids.len() + 2),
                offsets: Vec::with_capacity(ids.len() + 2),
                words: Vec::with_capacity(ids.len() + 2),
                // Positions in `ids`, after [CLS].
                core: (core.0 - from + 1, core.1 - from + 1),
                unread: unread.clone(),
                sentence: span,
                restore: drop_titles && self.titles != Titles::Drop,
            };
            const SPECIAL: (usize, usize) = (usize::MAX, 0);
            w.ids.push(pieces.ids[0]);
            w.offsets.push((0, 0));
            w.words.push(SPECIAL);
            w.ids.extend_from_slice(ids);
            w.offsets
                .extend(offs.iter().map(|&(s, e)| (s + char_start, e + char_start)));
            w.words
                .extend(w.offsets[1..].iter().map(|&span| word_of(span)));
            w.ids.push(pieces.ids[pieces.ids.len() - 1]);
            w.offsets.push((0, 0));
            w.words.push(SPECIAL);
            out.push(w);
        }
        Ok(())
    }
}

/// Where a mention starting at `start` begins with the titles right before it (`Lt. Col.`
/// before `Oliver North`).
fn titles_before(chars: &[char], start: usize, written_out: bool, floor: usize) -> usize {
    let mut start = start.min(chars.len());
    loop {
        let mut end = start;
        while end > 0 && chars[end - 1].is_whitespace() {
            end -= 1;
        }
        let mut begin = end;
        while begin > 0 && !chars[begin - 1].is_whitespace() {
            begin -= 1;
        }
        let word: String = chars[begin..end].iter().collect();
        if end == start || begin < floor || !is_title(&word, written_out) {
            return start;
        }
        start = begin;
    }
}

/// Puts a second reading of some sentences (`rereads`; `second`, what [`Extractor::decode`]
/// made of their windows) in place of the first (`found` and `kept`) where it is kept
/// ([`Reread::kept`]): in each text, the mentions that start in such a sentence, with
/// their relations, give way to the second reading's, and so do that sentence's tables.
fn replace_sentences(
    found: &mut [Extraction],
    kept: &mut Vec<SentenceTables>,
    rereads: &[Reread],
    second: (Vec<Extraction>, Vec<SentenceTables>),
) {
    let (found_again, mut kept_again) = second;
    let spans: Vec<(usize, (usize, usize))> = rereads
        .iter()
        .filter(|r| r.kept(&found_again))
        .map(|r| (r.text, r.sentence))
        .collect();
    let read_again = |k: usize, at: usize| {
        spans
            .iter()
            .any(|&(t, (a, b))| t == k && (a..b).contains(&at))
    };
    for (k, (first, second)) in found.iter_mut().zip(found_again).enumerate() {
        let mut entities: Vec<(EntityMention, Option<usize>, Option<usize>)> = Vec::new();
        for (i, e) in first.entities.iter().enumerate() {
            if !read_again(k, e.start) {
                entities.push((e.clone(), Some(i), None));
            }
        }
        for (i, e) in second.entities.iter().enumerate() {
            if read_again(k, e.start) {
                entities.push((e.clone(), None, Some(i)));
            }
        }
        entities.sort_by(|(x, _, _), (y, _, _)| {
            (x.start, x.end, &x.label).cmp(&(y.start, y.end, &y.label))
        });
        let mut from_first = vec![None; first.entities.len()];
        let mut from_second = vec![None; second.entities.len()];
        for (new, (_, a, b)) in entities.iter().enumerate() {
            if let Some(a) = *a {
                from_first[a] = Some(new);
            }
            if let Some(b) = *b {
                from_second[b] = Some(new);
            }
        }
        let moved = |r: &RelationMention, index: &[Option<usize>]| {
            Some(RelationMention {
                head: (*index.get(r.head)?)?,
                tail: (*index.get(r.tail)?)?,
                ..r.clone()
            })
        };
        let mut relations: Vec<RelationMention> = first
            .relations
            .iter()
            .filter_map(|r| moved(r, &from_first))
            .chain(
                second
                    .relations
                    .iter()
                    .filter_map(|r| moved(r, &from_second)),
            )
            .collect();
        relations.sort_by_key(|r| (r.head, r.tail));
        first.entities = entities.into_iter().map(|(e, _, _)| e).collect();
        first.relations = relations;
    }
    kept_again.retain(|t| spans.iter().any(|&(_, (a, b))| (a..b).contains(&t.start)));
    if !kept_again.is_empty() {
        kept.retain(|t| !spans.iter().any(|&(_, (a, b))| (a..b).contains(&t.start)));
        kept.extend(kept_again);
        kept.sort_by_key(|t| t.start);
    }
}

/// Where a mention `start..end` read without titles must start so that it holds no title
/// after a word that is none: the first such title (read without it, `... on its wings and
/// fuselage Ms. Carpenter` made one span of `fuselage Carpenter`; it becomes `Ms.
/// Carpenter`). Titles in a row stay together (`Prime Minister Chuan`, `Lt. Col. North`).
fn title_inside(chars: &[char], start: usize, end: usize, written_out: bool) -> usize {
    let span = &chars[start.min(chars.len())..end.min(chars.len())];
    let words: Vec<(usize, String)> = segment::whitespace_tokens(span)
        .into_iter()
        .map(|(a, b)| (a, span[a..b].iter().collect()))
        .collect();
    for pair in words.windows(3) {
        let [(_, before), (at, title), (_, next)] = pair else {
            continue;
        };
        if !is_title(before, written_out)
            && is_title(title, written_out)
            && next.chars().next().is_some_and(char::is_uppercase)
        {
            return start + at;
        }
    }
    start
}

/// Results on texts read without their markup ([`markup::plain`], of the texts with
/// wrapping line breaks as spaces) put back at their places in the texts as given
/// (`originals`): the text, each mention's span and text, and the tables' spans (tables are
/// kept for one text at a time, [`Extractor::analyze`]).
fn to_original(
    found: &mut [Extraction],
    kept: &mut [SentenceTables],
    plain: &[markup::Plain],
    originals: &[&str],
) {
    for ((e, p), &original) in found.iter_mut().zip(plain).zip(originals) {
        if p.is_original() && e.text == original {
            continue;
        }
        let chars: Vec<char> = original.chars().collect();
        for m in &mut e.entities {
            (m.start, m.end) = p.span(m.start, m.end);
            m.text = chars[m.start.min(chars.len())..m.end.min(chars.len())]
                .iter()
                .collect();
        }
        e.text = original.to_string();
    }
    if let [p] = plain {
        if !p.is_original() {
            for t in kept {
                (t.start, t.end) = p.span(t.start, t.end);
                for o in &mut t.offsets {
                    *o = p.span(o.0, o.1);
                }
            }
        }
    }
}

/// A title before a name: an abbreviation ([`segment::TITLES`]), or with `written_out`
/// also a title written out ([`segment::TITLE_WORDS`]).
fn is_title(word: &str, written_out: bool) -> bool {
    segment::TITLES.contains(&word) || written_out && segment::TITLE_WORDS.contains(&word)
}

/// The titles of a sentence that stand before a capitalized word, each with the word after
/// it (char spans in the sentence; `Lt. Col. Oliver North` gives `Lt.` with `Col.` and
/// `Col.` with `Oliver`).
fn titles_in(sentence: &str, written_out: bool) -> Vec<((usize, usize), (usize, usize))> {
    let chars: Vec<char> = sentence.chars().collect();
    let text = |(a, b): (usize, usize)| -> String { chars[a..b.min(chars.len())].iter().collect() };
    segment::words(sentence, false)
        .windows(2)
        .filter(|w| {
            is_title(&text(w[0]), written_out)
                && chars.get(w[1].0).is_some_and(|c| c.is_uppercase())
        })
        .map(|w| (w[0], w[1]))
        .collect()
}

/// Whether a reading of `sentence` (starting at char `start` of its text) lost a name after
/// a title: a capitalized word right after titles (`J.` of `Prof. J. R. R. Tolkien`,
/// `George` of `President George W. Bush`) that lies in none of `mentions`.
fn lost_titled_name(sentence: &str, start: usize, mentions: &[EntityMention]) -> bool {
    // Most sentences have no title: a whitespace split tells before the word rules run.
    if !sentence
        .split_whitespace()
        .any(|w| is_title(w.trim_start_matches(|c: char| !c.is_alphanumeric()), true))
    {
        return false;
    }
    let chars: Vec<char> = sentence.chars().collect();
    titles_in(sentence, true).into_iter().any(|(_, (a, b))| {
        let word: String = chars[a..b.min(chars.len())].iter().collect();
        let (a, b) = (a + start, b + start);
        !is_title(&word, true) && !mentions.iter().any(|m| m.start < b && a < m.end)
    })
}

/// A sentence as the encoder reads it, character for character (so sub-token offsets are
/// offsets into the sentence). What no training text has, and what carries nothing for
/// the entities around it, becomes spaces, so that it neither reaches the encoder as
/// `[UNK]` or a run of meaningless sub-tokens, nor turns the word it is glued to into
/// another:
/// - a symbol ([`segment::is_symbol`]: an emoji, `™`, `®`; `Chen🎉`, `Stripe™`) and a
///   footnote mark ([`segment::is_superscript`]: `Smith¹`);
/// - a web or e-mail address ([`segment::is_web_address`]), with the brackets left empty
///   around it and those of a Markdown link (`[Tim Cook](https://…)`);
/// - a citation of numbers in square brackets (`CoNLL-2003 [3, 7]`, `[12]`, `[4–6]`), and
///   one of authors and years in round or square brackets (`BERT (Devlin et al., 2019)`,
///   `(see Smith and Jones, 2001; Lee 2003a)`, `[Vaswani et al. 2017]`;
///   [`is_author_year_citation`]);
/// - the `#` of a hashtag and the `@` of a handle (`#Boeing`, `@JaneDoe`);
/// - a pronunciation in IPA between square brackets or slashes (`[ˈaŋɡela ˈmɛʁkl̩]`,
///   `/nəˈdɛlə/`).
///
/// An ellipsis typed as full stops (`...`) is read as `…` followed by spaces. With `dashes`
/// (for models whose training text writes hyphens inside words, where a hyphen between
/// spaces is a dash: CoNLL04), a hyphen or an en dash typed between spaces is read as the
/// dash `—`.
/// Models trained on text that spaces its hyphens (`5 - fluorouracil` in ADE) read them as
/// they are.
///
/// A character whose compatibility form is one other character is read as that (the
/// full-width `Ｂｏｓｔｏｎ` as `Boston`), and typographic quotes as the straight ones of the
/// training text (`Warner’s` as `Warner's`). Text without any of these comes back borrowed.
pub fn model_text(sentence: &str, dashes: bool) -> std::borrow::Cow<'_, str> {
    read_for_model(sentence, dashes).0
}

/// [`model_text`], and the char ranges of the sentence read as spaces ([`blanked`]).
fn read_for_model(
    sentence: &str,
    dashes: bool,
) -> (std::borrow::Cow<'_, str>, Vec<(usize, usize)>) {
    use unicode_normalization_alignments::UnicodeNormalization;
    let read = |c: char| {
        if c.is_ascii() {
            return c;
        }
        if segment::is_symbol(c) || segment::is_superscript(c) {
            return ' ';
        }
        // Typographic quotes as the training text types them: no dataset has a curly
        // quote, and `Warner’s` read with `’` is a token the model never learned from.
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201b}' => return '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' => return '"',
            _ => {}
        }
        let mut plain = std::iter::once(c).nfkc().map(|(k, _)| k);
        match (plain.next(), plain.next()) {
            (Some(k), None) => k,
            _ => c,
        }
    };
    let blank = blanked(sentence);
    let nicknames = nicknames(sentence);
    if blank.is_empty()
        && nicknames.is_empty()
        && !sentence.contains("..")
        && !(dashes && (sentence.contains(" -") || sentence.contains(" \u{2013}")))
        && sentence.chars().all(|c| read(c) == c)
    {
        return (std::borrow::Cow::Borrowed(sentence), blank);
    }
    let mut out: Vec<char> = sentence.chars().map(read).collect();
    for &(a, b) in blank.iter().chain(&nicknames) {
        out[a..b].fill(' ');
    }
    // An ellipsis typed as full stops is read as the one character `…` and spaces: as
    // sub-tokens `. . .` it reads as sentence ends, and the CoNLL04 model lost `Jane Smith`
    // in `Jane Smith... she worked for IBM` (and found her with `…`).
    let mut k = 0;
    while k < out.len() {
        let dots = out[k..].iter().take_while(|&&c| c == '.').count();
        if dots >= 2 {
            out[k] = '\u{2026}';
            out[k + 1..k + dots].fill(' ');
        }
        k += dots.max(1);
    }
    // A hyphen typed between spaces is a dash (`Sam Altman - OpenAI's chief`), and is read
    // as one: the news model ran `Sam Altman - OpenAI` into one person, and read the
    // sentence right with `—`. Two hyphens stay: CoNLL04's training text writes its dashes
    // so (27 times, a spaced hyphen 3 times), and reading them as `—` lost mentions on its
    // test split. So is an en dash between spaces, which no training text has: `Tim Cook –
    // Apple – Cupertino` gave the organization `Apple – Cupertino`.
    let mut k = 0;
    while dashes && k < out.len() {
        let run = out[k..].iter().take_while(|&&c| c == '-').count();
        let spaced =
            |i: Option<usize>| i.and_then(|i| out.get(i)).is_none_or(|c| c.is_whitespace());
        let en_dash = run == 0 && out[k] == '\u{2013}';
        if (run == 1 || en_dash) && spaced(k.checked_sub(1)) && spaced(Some(k + 1)) {
            out[k] = '\u{2014}';
        }
        k += run.max(1);
    }
    (std::borrow::Cow::Owned(out.into_iter().collect()), blank)
}

/// The char ranges of nicknames in quotes inside a name (`Earvin “Magic” Johnson`,
/// `Dwayne "The Rock" Johnson`): one to three capitalized words in quotes between two
/// capitalized words. No training sentence has one, and the news model read `Earvin` as a
/// person and lost `Johnson`, or made an organization of `The Rock`. The encoder reads the
/// nickname and its quotes as spaces, so that it sees the name; unlike [`blanked`] ranges,
/// a mention may run across them, and the person's mention holds the nickname.
fn nicknames(sentence: &str) -> Vec<(usize, usize)> {
    const OPEN: &[char] = &['"', '\u{201c}', '\u{2018}', '\''];
    let mut out = Vec::new();
    // Most sentences have apostrophes (`Apple's`), few a token that opens with a quote:
    // told before any allocation, since every sentence comes here.
    if !sentence
        .split_whitespace()
        .skip(1)
        .any(|t| t.starts_with(OPEN))
    {
        return out;
    }
    let chars: Vec<char> = sentence.chars().collect();
    let tokens = segment::whitespace_tokens(&chars);
    let capitalized = |(a, b): (usize, usize)| {
        b > a + 1
            && chars[a].is_uppercase()
            && chars[a..b]
                .iter()
                .all(|c| c.is_alphabetic() || "-'.\u{2019}".contains(*c))
    };
    for (k, &(a, _)) in tokens.iter().enumerate() {
        let open = chars[a];
        if k == 0 || !OPEN.contains(&open) || !capitalized(tokens[k - 1]) {
            continue;
        }
        let close = match open {
            '\u{201c}' => '\u{201d}',
            '\u{2018}' => '\u{2019}',
            other => other,
        };
        // The nickname's words: the first starts after the quote, the last ends before it.
        for last in k..(k + 3).min(tokens.len()) {
            let (_, end) = tokens[last];
            if chars[end - 1] != close || end - 1 == a {
                continue;
            }
            let words_ok = (k..=last).all(|m| {
                let (x, y) = tokens[m];
                let x = if m == k { x + 1 } else { x };
                let y = if m == last { y - 1 } else { y };
                capitalized((x, y))
            });
            if words_ok && tokens.get(last + 1).is_some_and(|&t| capitalized(t)) {
                out.push((a, end));
            }
            break;
        }
    }
    out
}

/// The char ranges of a sentence that [`model_text`] reads as spaces: a hashtag's `#` and
/// a handle's `@`, addresses, citations of numbers and of authors and years, the brackets
/// these leave empty, and Markdown links' brackets. Linear in the sentence's length.
fn blanked(sentence: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let may_hold_address = sentence.contains("://")
        || sentence.contains('@')
        || sentence
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"www."));
    // A citation of authors and years has a year in it.
    let may_cite = sentence.contains(['(', '[']) && sentence.bytes().any(|b| b.is_ascii_digit());
    let may_transcribe = sentence.chars().any(is_ipa);
    if !may_hold_address && !may_cite && !may_transcribe && !sentence.contains(['[', '#']) {
        return out;
    }
    let chars: Vec<char> = sentence.chars().collect();
    let mut blank = vec![false; chars.len()];
    // A hashtag's `#` and a handle's `@` (`#Boeing`, `@JaneDoe`): the name is the word.
    for k in 0..chars.len() {
        if matches!(chars[k], '#' | '@')
            && (k == 0 || chars[k - 1].is_whitespace() || "([\"'".contains(chars[k - 1]))
            && chars.get(k + 1).is_some_and(|c| c.is_alphabetic())
        {
            blank[k] = true;
        }
    }
    if may_hold_address {
        for (a, b) in segment::words(sentence, false) {
            if b - a > 4 && segment::is_web_address(&chars[a..b].iter().collect::<String>()) {
                blank[a..b].fill(true);
            }
        }
    }
    // `[12]`, `[3, 7]`, `[4-6]`, `[2; 9]`: numbers, separators and spaces between brackets.
    let mut k = 0;
    while k < chars.len() {
        if chars[k] == '[' {
            let inside = chars[k + 1..]
                .iter()
                .take(MAX_CITATION)
                .position(|&c| !(c.is_ascii_digit() || " ,;-\u{2013}".contains(c)));
            if let Some(n) = inside {
                let close = k + 1 + n;
                if chars[close] == ']' && chars[k + 1..close].iter().any(char::is_ascii_digit) {
                    blank[k..=close].fill(true);
                    k = close + 1;
                    continue;
                }
            }
        }
        k += 1;
    }
    // `(Devlin et al., 2019)`, `[Vaswani et al. 2017]`: the brackets and what they hold,
    // where that is a citation.
    let mut k = 0;
    while k < chars.len() {
        if let Some(closer) = match chars[k] {
            '(' => Some(')'),
            '[' => Some(']'),
            _ => None,
        } {
            let opener = chars[k];
            let close = chars[k + 1..]
                .iter()
                .take(MAX_AUTHOR_CITATION + 1)
                .position(|&c| c == opener || c == closer)
                .map(|n| k + 1 + n);
            if let Some(close) = close.filter(|&c| chars[c] == closer) {
                let inner: String = chars[k + 1..close].iter().collect();
                if is_author_year_citation(&inner) {
                    blank[k..=close].fill(true);
                    k = close + 1;
                    continue;
                }
            }
        }
        k += 1;
    }
    // A pronunciation in IPA between square brackets or slashes, as encyclopedias write
    // it after a name (`Merkel ([ˈaŋɡela ˈmɛʁkl̩])`, `Nadella (/nəˈdɛlə/; born …)`).
    if may_transcribe {
        let mut k = 0;
        while k < chars.len() {
            if matches!(chars[k], '[' | '/') {
                let closer = if chars[k] == '[' { ']' } else { '/' };
                let close = chars[k + 1..]
                    .iter()
                    .take(MAX_TRANSCRIPTION + 1)
                    .position(|&c| c == closer || c == '\n')
                    .map(|n| k + 1 + n)
                    .filter(|&c| chars[c] == closer);
                if let Some(close) = close {
                    if chars[k + 1..close].iter().any(|&c| is_ipa(c)) {
                        blank[k..=close].fill(true);
                        k = close + 1;
                        continue;
                    }
                }
            }
            k += 1;
        }
    }
    // `(https://…)` and `([3])` leave `( )`; a Markdown link `[text](https://…)` also its
    // `[`, `]`.
    // Linear: counts before each char of blanked ones and of the others that are not
    // whitespace, and the next `)` after each char.
    let mut counts = vec![(0usize, 0usize); chars.len() + 1];
    for (k, &c) in chars.iter().enumerate() {
        let (b, o) = counts[k];
        counts[k + 1] = (
            b + blank[k] as usize,
            o + (!blank[k] && !c.is_whitespace()) as usize,
        );
    }
    let mut next_close = vec![None; chars.len() + 1];
    for k in (0..chars.len()).rev() {
        next_close[k] = if chars[k] == ')' {
            Some(k)
        } else {
            next_close[k + 1]
        };
    }
    for k in 0..chars.len() {
        let Some(close) = next_close[k + 1].filter(|_| chars[k] == '(') else {
            continue;
        };
        let (blanked, other) = (
            counts[close].0 - counts[k + 1].0,
            counts[close].1 - counts[k + 1].1,
        );
        if blanked > 0 && other == 0 {
            blank[k] = true;
            blank[close] = true;
            if k > 0 && chars[k - 1] == ']' {
                let near = k.saturating_sub(1 + MAX_LINK_TEXT);
                if let Some(open) = chars[near..k - 1].iter().rposition(|&c| c == '[') {
                    blank[near + open] = true;
                    blank[k - 1] = true;
                }
            }
        }
    }
    let mut k = 0;
    while k < chars.len() {
        if blank[k] {
            let start = k;
            while k < chars.len() && blank[k] {
                k += 1;
            }
            out.push((start, k));
        } else {
            k += 1;
        }
    }
    out
}

/// The longest text of a Markdown link whose brackets [`model_text`] reads as spaces.
const MAX_LINK_TEXT: usize = 200;

/// The longest citation of authors and years in round brackets that [`model_text`] reads
/// as spaces, brackets not counted.
const MAX_AUTHOR_CITATION: usize = 160;

/// The longest pronunciation between brackets or slashes that [`model_text`] reads as
/// spaces.
const MAX_TRANSCRIPTION: usize = 80;

/// A letter or mark of the International Phonetic Alphabet that no ordinary word holds
/// (`ə`, `ɛ`, `ʁ`, the stress marks `ˈ ˌ` and the length mark `ː`).
fn is_ipa(c: char) -> bool {
    matches!(
        c,
        '\u{250}'..='\u{2af}' | '\u{2c8}' | '\u{2cc}' | '\u{2d0}' | '\u{2d1}'
    )
}

/// Whether the text inside round brackets cites authors and years: one or more citations
/// separated by `;`, each an optional `see`, `see also`, `e.g.` or `cf.`, then authors
/// (beginning with a capital letter, no digits, at most ten words, not a month or season)
/// and a year from 1800 to 2099 with an optional letter (`Devlin et al., 2019`, `Kamp and
/// Reyle 1993`, `Lee 2003a`). SciERC's text has 17 such citations and none of its entities
/// overlaps one; CoNLL04 and ADE have none (`born 1964`, `January, 1999`, `Fall 2019`
/// are not citations).
pub fn is_author_year_citation(inner: &str) -> bool {
    // Words that begin a date, not a list of authors (`(January, 1999)`, `(Fall 2019)`).
    const DATES: [&str; 28] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Sept",
        "Oct",
        "Nov",
        "Dec",
        "Spring",
        "Summer",
        "Fall",
        "Winter",
    ];
    let cites = |part: &str| -> bool {
        let mut part = part.trim();
        for prefix in ["see also ", "see ", "e.g., ", "e.g. ", "cf. "] {
            if let Some(rest) = part
                .get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .and_then(|_| part.get(prefix.len()..))
            {
                part = rest.trim_start();
                break;
            }
        }
        // The year is the last word, after a space or a comma.
        let Some((authors, year)) = part.rsplit_once([' ', ',']) else {
            return false;
        };
        let year = year
            .strip_suffix(|c: char| c.is_ascii_lowercase())
            .unwrap_or(year);
        let year_ok = year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && matches!(&year[..2], "18" | "19" | "20");
        let authors = authors.trim_end_matches([' ', ',']);
        let first = authors.split_whitespace().next().unwrap_or("");
        year_ok
            && authors.chars().next().is_some_and(char::is_uppercase)
            && !authors.chars().any(|c| c.is_ascii_digit())
            && authors.split_whitespace().count() <= 10
            && !DATES.contains(&first.trim_end_matches([',', '.']))
    };
    !inner.trim().is_empty() && inner.split(';').all(cites)
}

/// The longest citation of numbers in square brackets that [`model_text`] reads as
/// spaces, brackets not counted.
const MAX_CITATION: usize = 24;

/// The sub-tokens of a sentence and their offsets (chars in `sentence`) without those of a
/// title before a capitalized word.
fn without_titles(
    sentence: &str,
    ids: &[u32],
    offsets: &[(usize, usize)],
    written_out: bool,
) -> (Vec<u32>, Vec<(usize, usize)>) {
    let titles: Vec<(usize, usize)> = titles_in(sentence, written_out)
        .into_iter()
        .map(|(title, _)| title)
        .collect();
    ids.iter()
        .zip(offsets)
        .filter(|(_, o)| !titles.iter().any(|t| t.0 <= o.0 && o.0 < t.1))
        .map(|(&i, &o)| (i, o))
        .unzip()
}

/// Windows over `n` sub-tokens, at most `room` long: `(from, to, core)` with `core` the
/// part each window reports. The cores tile `0..n`, and every core has `context` sub-tokens
/// of its window on each side, except where the sentence itself begins or ends. So the first
/// and last windows have longer cores than the middle ones, and a sentence up to
/// `2 * (room - context)` long takes two windows.
fn window_spans(n: usize, room: usize, context: usize) -> Vec<(usize, usize, (usize, usize))> {
    if n <= room {
        return vec![(0, n, (0, n))];
    }
    let context = context.min(room.saturating_sub(1) / 2);
    let mut spans = Vec::new();
    let mut core_start = 0;
    loop {
        if n - core_start <= room - context {
            // The rest fits in a window that ends with the sentence.
            spans.push((n - room, n, (core_start, n)));
            return spans;
        }
        let from = core_start.saturating_sub(context);
        let core_end = from + room - context;
        spans.push((from, from + room, (core_start, core_end)));
        core_start = core_end;
    }
}

/// Entity cells of one window widened to word boundaries, with punctuation trimmed from
/// their edges; the triples follow their entities (a triple whose entity is trimmed away
/// goes with it).
fn word_aligned(
    d: TableDecoding,
    triples: Vec<DecodedTriple>,
    w: &Window,
    chars: &[char],
    capitalized: &[bool],
) -> (TableDecoding, Vec<DecodedTriple>) {
    let last = w.words.len().saturating_sub(1);
    // A sentence that begins with a capital is cased: there a mention of a type that the
    // training data always capitalizes needs a capital ([`Extractor::capitalized_types`]).
    let cased = chars[w.sentence.0.min(chars.len())..w.sentence.1.min(chars.len())]
        .iter()
        .find(|c| c.is_alphabetic())
        .is_some_and(|c| c.is_uppercase());
    // The text of sub-token `p`'s word, and the word's first and last sub-tokens (the
    // special tokens `0` and `last` excluded).
    let word_text = |p: usize| -> String {
        let (a, b) = w.words[p];
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect()
    };
    let first_of = |mut p: usize| {
        while p > 1 && w.words[p - 1] == w.words[p] {
            p -= 1;
        }
        p
    };
    let last_of = |mut p: usize| {
        while p + 1 < last && w.words[p + 1] == w.words[p] {
            p += 1;
        }
        p
    };
    let mut kept: Vec<ScoredCell> = Vec::new();
    let mut index = vec![None; d.entities.len()];
    for (k, e) in d.entities.iter().enumerate() {
        if e.i == 0 || e.j >= last || e.i > e.j {
            continue;
        }
        // A cell that begins or ends inside a word stands for the whole word, as word-level
        // evaluation reads it (`align::to_words`).
        let (i, j) = (first_of(e.i), last_of(e.j));
        // The span's words: (first sub-token, last sub-token, text).
        let mut words: Vec<(usize, usize, String)> = Vec::new();
        for p in i..=j {
            match words.last_mut() {
                Some(last) if w.words[last.1] == w.words[p] => last.1 = p,
                _ => words.push((p, p, word_text(p))),
            }
        }
        // A span that holds half of a pair of quotes takes in the other half when it stands
        // next to it (`she had a "red man" syndrome` gave `red man" syndrome`).
        let texts: Vec<&str> = words.iter().map(|x| x.2.as_str()).collect();
        let before = (i > 1).then(|| word_text(i - 1));
        let after = (j + 1 < last).then(|| word_text(j + 1));
        match segment::quote_partner(&texts, before.as_deref(), after.as_deref()) {
            (true, _) => words.insert(0, (first_of(i - 1), i - 1, word_text(i - 1))),
            (_, true) => words.push((j + 1, last_of(j + 1), word_text(j + 1))),
            _ => {}
        }
        let texts: Vec<&str> = words.iter().map(|x| x.2.as_str()).collect();
        let Some((a, b)) = segment::trim_span(&texts) else {
            continue;
        };
        let (i, mut j) = (words[a].0, words[b - 1].1);
        // `Tesla, Inc.`: a legal form that a comma parts from the name is the name's, as
        // CoNLL04 writes it (`Knight-Ridder , Inc.`); alone it is no mention. The comma is
        // one sub-token; the form's word begins after it.
        if b == words.len()
            && j + 2 < last
            && word_text(j + 1) == ","
            && segment::is_detached_name_end(&word_text(j + 2))
        {
            j = last_of(j + 2);
        }
        let (from, to) = (w.words[i].0, w.words[j].1);
        let inside = &chars[from.min(chars.len())..to.min(chars.len())];
        // A span across a separator is no mention (`A: He works for Microsoft`), nor one
        // that holds what the encoder did not read: an address, a citation, a hashtag's
        // `#` (`Write to press@apple.com or`, `extraction ( [ 3 ] ) of`).
        if segment::holds_separator(inside) || w.unread.iter().any(|&(a, b)| a < to && from < b) {
            continue;
        }
        if cased
            && capitalized.get(e.label).copied().unwrap_or(false)
            && !inside.iter().any(|c| c.is_uppercase())
        {
            continue;
        }
        // A day of the week is no person, place or organization (`Updated 3:45 PM EST, Tue
        // November 12` gave the place `Tue`): in CoNLL04 a weekday is Other or nothing.
        if capitalized.get(e.label).copied().unwrap_or(false)
            && words[a..b].iter().all(|x| segment::is_weekday(&x.2))
        {
            continue;
        }
        let at = kept
            .iter()
            .position(|c| (c.i, c.j, c.label) == (i, j, e.label));
        index[k] = Some(match at {
            Some(at) => {
                kept[at].score = kept[at].score.max(e.score);
                at
            }
            None => {
                kept.push(ScoredCell { i, j, ..*e });
                kept.len() - 1
            }
        });
    }
    let triples = triples
        .into_iter()
        .filter_map(|t| {
            Some(DecodedTriple {
                head: index[t.head]?,
                tail: index[t.tail]?,
                ..t
            })
        })
        .collect();
    (
        TableDecoding {
            entities: kept,
            relations: d.relations,
        },
        triples,
    )
}

/// The non-overlapping subset of `spans` (`start`, `end` exclusive, score) with the highest
/// total score (weighted interval scheduling): where one span overlaps others, it stays
/// only if it outscores the best disjoint set among them. Every span is above the decision
/// threshold, so two mentions of a name list beat one span that runs across both, while of
/// two spans over the same words the higher-scoring stays. Ties go to the earlier-listed
/// span.
fn best_disjoint(spans: &[(usize, usize, f32)]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&k| (spans[k].1, k));
    // best[m]: the highest total of the first m spans in `order`; took[m]: whether the
    // m-th span is in it.
    let mut best = vec![0.0f64; order.len() + 1];
    let mut took = vec![false; order.len() + 1];
    let mut before = vec![0usize; order.len() + 1];
    for m in 1..=order.len() {
        let (start, _, score) = spans[order[m - 1]];
        // Spans in `order` that end at or before this one starts.
        let p = order[..m - 1].partition_point(|&k| spans[k].1 <= start);
        let with = best[p] + score as f64;
        before[m] = p;
        if with > best[m - 1] {
            best[m] = with;
            took[m] = true;
        } else {
            best[m] = best[m - 1];
        }
    }
    let mut keep = vec![false; spans.len()];
    let mut m = order.len();
    while m > 0 {
        if took[m] {
            keep[order[m - 1]] = true;
            m = before[m];
        } else {
            m -= 1;
        }
    }
    keep
}

/// How [`assemble`] turns a sentence's scored mentions and relations into an extraction.
struct Decoding<'a> {
    labels: &'a LabelSchema,
    /// No two mentions overlap.
    flat: bool,
    /// No two mentions of one type overlap (when not `flat`).
    per_type: bool,
    /// Allowed relation signatures (`None`: all).
    signatures: Option<&'a Signatures>,
    /// One type per span: the likelier stays where a span has two (off for raw cells).
    one_type: bool,
}

/// Sorts mentions by position, merges duplicates (keeping the higher score) and remaps the
/// relations onto the sorted list. With `flat`, no two mentions overlap: the set with the
/// highest total score stays ([`best_disjoint`]), and relations of the others are dropped;
/// with `per_type`, the same among the mentions of each type. With `signatures`, relations
/// whose argument types they do not allow are dropped too.
fn assemble(
    text: &str,
    entities: Vec<EntityMention>,
    relations: Vec<(usize, usize, usize, f32)>,
    how: &Decoding,
) -> Extraction {
    let (labels, flat) = (how.labels, how.flat || how.per_type);
    let mut order: Vec<usize> = (0..entities.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&entities[a], &entities[b]);
        (x.start, x.end, &x.label).cmp(&(y.start, y.end, &y.label))
    });
    let mut sorted: Vec<EntityMention> = Vec::new();
    let mut new_index = vec![0; entities.len()];
    for i in order {
        let e = &entities[i];
        match sorted.last_mut() {
            Some(last) if (last.start, last.end, &last.label) == (e.start, e.end, &e.label) => {
                last.score = last.score.max(e.score);
            }
            _ => sorted.push(e.clone()),
        }
        new_index[i] = sorted.len() - 1;
    }
    // One type per span: no dataset gives one span two types (`word2vec embeddings` as
    // Material and as Method). `sorted` has equal spans next to each other; the likelier
    // type stays (the first on a tie).
    let mut keep = vec![true; sorted.len()];
    let mut k = 0;
    while how.one_type && k < sorted.len() {
        let span = (sorted[k].start, sorted[k].end);
        let mut end = k + 1;
        while end < sorted.len() && (sorted[end].start, sorted[end].end) == span {
            end += 1;
        }
        let mut top = k;
        for i in k + 1..end {
            if sorted[i].score > sorted[top].score {
                top = i;
            }
        }
        for (i, slot) in keep.iter_mut().enumerate().take(end).skip(k) {
            *slot = i == top;
        }
        k = end;
    }
    if flat {
        let alive: Vec<usize> = (0..sorted.len()).filter(|&k| keep[k]).collect();
        let spans: Vec<(usize, usize, f32)> = alive
            .iter()
            .map(|&k| (sorted[k].start, sorted[k].end, sorted[k].score))
            .collect();
        let chosen = if how.flat {
            best_disjoint(&spans)
        } else {
            // Each type on its own.
            let mut chosen = vec![false; spans.len()];
            let mut types: Vec<&str> = alive.iter().map(|&k| sorted[k].label.as_str()).collect();
            types.sort_unstable();
            types.dedup();
            for kind in types {
                let mine: Vec<usize> = (0..alive.len())
                    .filter(|&a| sorted[alive[a]].label == kind)
                    .collect();
                let theirs: Vec<(usize, usize, f32)> = mine.iter().map(|&a| spans[a]).collect();
                for (&a, kept) in mine.iter().zip(best_disjoint(&theirs)) {
                    chosen[a] = kept;
                }
            }
            chosen
        };
        for (&k, c) in alive.iter().zip(chosen) {
            keep[k] = c;
        }
    }
    let mut kept_index: Vec<Option<usize>> = vec![None; sorted.len()];
    let mut next = 0;
    for (slot, &k) in kept_index.iter_mut().zip(&keep) {
        if k {
            *slot = Some(next);
            next += 1;
        }
    }
    let sorted: Vec<EntityMention> = sorted
        .into_iter()
        .zip(&keep)
        .filter_map(|(e, &k)| k.then_some(e))
        .collect();
    let mut best: std::collections::BTreeMap<(usize, usize, usize), f32> = Default::default();
    for (h, t, l, score) in relations {
        let (Some(h), Some(t)) = (kept_index[new_index[h]], kept_index[new_index[t]]) else {
            continue;
        };
        if let Some(allowed) = how.signatures {
            let kind = |e: &EntityMention| labels.entity_index(&e.label);
            match (kind(&sorted[h]), kind(&sorted[t])) {
                (Some(a), Some(b)) if allowed.contains(&(l, a, b)) => {}
                _ => continue,
            }
        }
        let slot = best.entry((h, t, l)).or_insert(score);
        *slot = slot.max(score);
    }
    let rel: Vec<RelationMention> = best
        .into_iter()
        .map(|((head, tail, l), score)| RelationMention {
            head,
            tail,
            label: labels.relation_types.get(l).cloned().unwrap_or_default(),
            score,
        })
        .collect();
    Extraction {
        text: text.to_string(),
        entities: sorted,
        relations: rel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tiny_model;
    use crate::tokenize::test_tokenizer_json;

    const WORDS: &[&str] = &[
        "john", "smith", "lives", "in", "boston", ".", "mary", "works", "for", "acme", "corp",
        "paris", "is", "france", "the", "weather", "was", "fine", "today", "😀", "é", "##s", ",",
        "!",
    ];

    fn extractor(threshold: f32) -> Extractor {
        let tok = SubwordTokenizer::from_bytes(test_tokenizer_json(WORDS).as_bytes()).unwrap();
        let (cfg, map) = tiny_model(WORDS.len() + 4, 5).unwrap();
        let mut ex = Extractor::new(&MgeModel::load(&map, &cfg).unwrap(), tok).unwrap();
        ex.threshold = threshold;
        // These tests look at raw decoding of a random model, which scores many cells high.
        ex.limit_cells = false;
        ex.pool_floor = None;
        ex
    }

    /// A label schema with these types, nested or flat, and nothing else recorded.
    fn schema(entities: &[&str], relations: &[&str], nested: bool) -> LabelSchema {
        LabelSchema {
            entity_types: entities.iter().map(|t| t.to_string()).collect(),
            relation_types: relations.iter().map(|t| t.to_string()).collect(),
            nested_entities: Some(nested),
            same_type_overlaps: None,
            hyphens_split: None,
            slashes_split: None,
            titled_names: None,
            capitalized_types: None,
            relation_signatures: None,
        }
    }

    fn mention_of(text: &str, word: &str, label: &str) -> EntityMention {
        let at = text.find(word).unwrap();
        let start = text[..at].chars().count();
        EntityMention {
            start,
            end: start + word.chars().count(),
            text: word.into(),
            label: label.into(),
            score: 0.9,
        }
    }

    #[test]
    fn a_name_after_a_title_is_lost_when_no_mention_holds_its_first_word() {
        let s = "Prof. J. R. R. Tolkien taught at Oxford.";
        assert!(lost_titled_name(s, 0, &[]));
        assert!(lost_titled_name(s, 0, &[mention_of(s, "Tolkien", "Peop")]));
        assert!(!lost_titled_name(
            s,
            0,
            &[mention_of(s, "J. R. R. Tolkien", "Peop")]
        ));
        assert!(!lost_titled_name(
            s,
            0,
            &[mention_of(s, "Prof. J. R. R.", "Peop")]
        ));
        // Written-out titles and titles in a row; the name is the word after the last.
        let s = "Later Vice President Kamala Harris spoke.";
        assert!(lost_titled_name(s, 0, &[]));
        assert!(!lost_titled_name(
            s,
            0,
            &[mention_of(s, "Kamala Harris", "Peop")]
        ));
        // Mentions are offsets into the whole text: the sentence starts at char 10.
        let text = "It rained. Sen. Bob Dole left.";
        let m = mention_of(text, "Bob Dole", "Peop");
        assert!(!lost_titled_name(
            "Sen. Bob Dole left.",
            11,
            std::slice::from_ref(&m)
        ));
        assert!(lost_titled_name("Sen. Bob Dole left.", 0, &[m]));
        // After an opening quote or bracket too.
        assert!(lost_titled_name("He said (Dr. Lee agreed).", 0, &[]));
        // No title before a capitalized word: nothing lost.
        assert!(!lost_titled_name("The president spoke to Dr. who?", 0, &[]));
        assert!(!lost_titled_name("Smith works in Paris.", 0, &[]));
    }

    #[test]
    fn a_mention_read_without_titles_starts_at_a_title_it_runs_across() {
        let chars: Vec<char> = "on its wings and fuselage Ms. Carpenter said"
            .chars()
            .collect();
        let text: String = chars.iter().collect();
        let at = |w: &str| text[..text.find(w).unwrap()].chars().count();
        let end = at(" said");
        assert_eq!(title_inside(&chars, at("fuselage"), end, false), at("Ms."));
        assert_eq!(title_inside(&chars, at("Ms."), end, false), at("Ms."));
        assert_eq!(
            title_inside(&chars, at("Carpenter"), end, false),
            at("Carpenter")
        );
        // Titles in a row stay together; a written-out title counts only when asked.
        let chars: Vec<char> = "Prime Minister Chuan Leekpai".chars().collect();
        assert_eq!(title_inside(&chars, 0, chars.len(), true), 0);
        let chars: Vec<char> = "Acme chairman President Smith".chars().collect();
        assert_eq!(title_inside(&chars, 0, chars.len(), false), 0);
        assert_eq!(title_inside(&chars, 0, chars.len(), true), 14);
    }

    #[test]
    fn a_second_reading_replaces_the_mentions_and_relations_of_its_sentences_only() {
        let text = "Dr. Lee met Ann in Rome. Bob lives in Oslo.";
        let m = |w: &str, l: &str| mention_of(text, w, l);
        let rel = |head, tail| RelationMention {
            head,
            tail,
            label: "Live_In".into(),
            score: 0.8,
        };
        let mut found = vec![Extraction {
            text: text.into(),
            entities: vec![
                m("Ann", "Peop"),
                m("Rome", "Loc"),
                m("Bob", "Peop"),
                m("Oslo", "Loc"),
            ],
            relations: vec![rel(0, 1), rel(2, 3)],
        }];
        let second = Extraction {
            text: text.into(),
            entities: vec![m("Dr. Lee", "Peop"), m("Ann", "Peop"), m("Rome", "Loc")],
            relations: vec![rel(0, 2)],
        };
        let reread = Reread {
            text: 0,
            sentence: (0, 25),
            titles: true,
            wanted: Vec::new(),
        };
        let mut kept = Vec::new();
        replace_sentences(&mut found, &mut kept, &[reread], (vec![second], Vec::new()));
        let r = &found[0];
        let names: Vec<&str> = r.entities.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(names, ["Dr. Lee", "Ann", "Rome", "Bob", "Oslo"]);
        let pairs: Vec<(&str, &str)> = r
            .relations
            .iter()
            .map(|x| (names[x.head], names[x.tail]))
            .collect();
        // The first reading's `Ann`–`Rome` is gone with its sentence; `Bob`–`Oslo` stays.
        assert_eq!(pairs, [("Dr. Lee", "Rome"), ("Bob", "Oslo")]);
    }

    #[test]
    fn only_sentences_that_lost_a_titled_name_are_read_again_without_the_title() {
        let mut ex = extractor(0.5);
        ex.titles = Titles::Retry;
        let text = "Dr. Smith lives in Boston. Mary works for Acme.";
        let mut windows = Vec::new();
        ex.windows(0, text, &mut windows).unwrap();
        assert_eq!(windows.len(), 2);
        assert!(windows.iter().all(|w| !w.restore));
        let first = Extraction {
            text: text.into(),
            ..Default::default()
        };
        let (again, rereads) = ex.second_reading(&[text], &windows, &[first]).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(
            rereads,
            [Reread {
                text: 0,
                sentence: windows[0].sentence,
                titles: true,
                wanted: Vec::new()
            }]
        );
        assert!(again[0].restore);
        assert_eq!(again[0].sentence, windows[0].sentence);
        // The title's sub-tokens are left out of the second reading.
        assert!(again[0].ids.len() < windows[0].ids.len());
        assert!(again[0].offsets[1..again[0].offsets.len() - 1]
            .iter()
            .all(|&(s, _)| s >= 3));
        // Found the first time: nothing to read again; and `Read` never reads again.
        let found = Extraction {
            text: text.into(),
            entities: vec![mention_of(text, "Smith", "Peop")],
            relations: Vec::new(),
        };
        assert!(ex
            .second_reading(&[text], &windows, std::slice::from_ref(&found))
            .unwrap()
            .0
            .is_empty());
        ex.titles = Titles::Read;
        let none = Extraction {
            text: text.into(),
            ..Default::default()
        };
        assert!(ex
            .second_reading(&[text], &windows, &[none])
            .unwrap()
            .0
            .is_empty());
        // Extraction with a second reading runs end to end, alone and with tables.
        ex.titles = Titles::Retry;
        let one = ex.extract(text).unwrap();
        let analysis = ex.analyze(text, &monotonic_ms).unwrap();
        assert_eq!(one, analysis.extraction);
    }

    #[test]
    fn a_sentence_is_read_again_cut_where_an_abbreviation_may_end_it() {
        let ex = extractor(0.5);
        let text = "She moved to the U.K. Smith stayed in Paris. Jones works for Apple Inc. Smith lives in Oslo.";
        let mut windows = Vec::new();
        ex.windows(0, text, &mut windows).unwrap();
        assert_eq!(windows.len(), 2);
        let at = |w: &str| {
            let a = text[..text.find(w).unwrap()].chars().count();
            (a, a + w.chars().count())
        };
        let m = |w: &str, l: &str| mention_of(text, w, l);
        // Nothing on `U.K.` (nor the first `Smith`), one name across `Inc. Smith`: both
        // sentences are read again, each in two parts that keep the sentence's span.
        let first = Extraction {
            text: text.into(),
            entities: vec![m("Paris", "Loc"), m("Apple Inc. Smith", "Org")],
            relations: Vec::new(),
        };
        let (again, rereads) = ex
            .second_reading(&[text], &windows, std::slice::from_ref(&first))
            .unwrap();
        assert_eq!(again.len(), 4);
        assert_eq!(rereads.len(), 2);
        let second_smith = at("Smith lives").0;
        assert_eq!(rereads[0].wanted, [at("U.K."), at("Smith")]);
        assert_eq!(
            rereads[1].wanted,
            [at("Inc."), (second_smith, second_smith + 5)]
        );
        assert!(!rereads[0].titles && !rereads[1].titles);
        for w in &again[..2] {
            assert_eq!(w.sentence, windows[0].sentence);
        }
        // The first part ends with the abbreviation, the second starts at the next word.
        let last_char = |w: &Window| w.offsets[w.offsets.len() - 2].1;
        assert_eq!(last_char(&again[0]), at("U.K.").1);
        assert_eq!(again[1].offsets[1].0, at("Smith").0);
        // A mention on the abbreviation in the first reading, not across the two words
        // after `Inc.`: no second reading.
        for entities in [
            vec![m("U.K.", "Loc"), m("Apple Inc.", "Org")],
            vec![m("U.K. Smith", "Loc"), m("Inc.", "Org")],
        ] {
            let found = Extraction {
                text: text.into(),
                entities,
                relations: Vec::new(),
            };
            let (again, _) = ex
                .second_reading(&[text], &windows, std::slice::from_ref(&found))
                .unwrap();
            assert!(again.is_empty());
        }
        // The second reading is kept only where it found a mention on one of the words.
        let second = Extraction {
            text: text.into(),
            entities: vec![m("U.K.", "Loc"), m("Smith", "Peop"), m("Oslo", "Loc")],
            relations: Vec::new(),
        };
        assert!(rereads[0].kept(std::slice::from_ref(&second)));
        assert!(!rereads[1].kept(std::slice::from_ref(&second)));
        let mut found = vec![first];
        replace_sentences(
            &mut found,
            &mut Vec::new(),
            &rereads,
            (vec![second], Vec::new()),
        );
        let names: Vec<&str> = found[0].entities.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(names, ["U.K.", "Smith", "Apple Inc. Smith"]);
        // Off, or with another segmenter: never.
        let mut off = extractor(0.5);
        off.reread_doubtful_ends = false;
        let none = Extraction {
            text: text.into(),
            ..Default::default()
        };
        assert!(off
            .second_reading(&[text], &windows, std::slice::from_ref(&none))
            .unwrap()
            .0
            .is_empty());
        // End to end, alone and with tables.
        let one = ex.extract(text).unwrap();
        let analysis = ex.analyze(text, &monotonic_ms).unwrap();
        assert_eq!(one, analysis.extraction);
    }

    #[test]
    fn titles_can_be_left_out_of_the_input_and_put_back_into_mentions() {
        let sentence = "Lt. Col. Oliver North met Dr. Ann Lee and the Dr. who came.";
        let words = segment::words(sentence, false);
        let ids: Vec<u32> = (0..words.len() as u32).collect();
        let (kept, offsets) = without_titles(sentence, &ids, &words, false);
        let chars: Vec<char> = sentence.chars().collect();
        let text = |(a, b): (usize, usize)| chars[a..b].iter().collect::<String>();
        let left: Vec<String> = offsets.iter().map(|&o| text(o)).collect();
        // Titles before a capitalized word go; `Dr.` before `who` stays.
        assert!(!left.iter().any(|w| ["Lt.", "Col."].contains(&w.as_str())));
        assert_eq!(left.iter().filter(|w| *w == "Dr.").count(), 1);
        assert_eq!(kept.len(), words.len() - 3);
        let oliver = sentence.find("Oliver").unwrap();
        assert_eq!(titles_before(&chars, oliver, false, 0), 0);
        let ann = sentence.find("Ann").unwrap();
        assert_eq!(
            titles_before(&chars, ann, false, 0),
            sentence.find("Dr.").unwrap()
        );
        // Not before the sentence's start.
        assert_eq!(titles_before(&chars, ann, false, ann), ann);
        assert_eq!(
            titles_before(&chars, sentence.find("met").unwrap(), false, 0),
            sentence.find("met").unwrap()
        );
        assert_eq!(titles_before(&chars, 0, false, 0), 0);
    }

    #[test]
    fn a_tiny_threshold_reports_no_more_than_the_text_holds() {
        let mut ex = extractor(0.5);
        ex.limit_cells = true;
        ex.flat_entities = false;
        let text = "john smith lives in boston . mary works for acme corp in paris , france !";
        let subtokens = text.split_whitespace().count() + 2;
        let r = ex
            .extract_many_at(&[text], f32::MIN_POSITIVE)
            .unwrap()
            .remove(0);
        assert!(!r.entities.is_empty());
        assert!(
            r.entities.len() <= subtokens,
            "{} entities",
            r.entities.len()
        );
        assert!(
            r.relations.len() <= 2 * subtokens,
            "{} relations",
            r.relations.len()
        );
        // Without the limit the same call reports every span of every type.
        ex.limit_cells = false;
        let all = ex
            .extract_many_at(&[text], f32::MIN_POSITIVE)
            .unwrap()
            .remove(0);
        assert!(all.entities.len() > r.entities.len());
    }

    #[test]
    fn markup_is_read_as_text_and_spans_are_offsets_into_the_text_as_given() {
        // Threshold 0 predicts every cell: every span is mapped back.
        let ex = extractor(0.0);
        let text = "<p>**john smith** lives in <b>boston</b>.</p><p>mary&nbsp;works for acme&amp;corp.</p>";
        let r = ex.extract(text).unwrap();
        assert_eq!(r.text, text);
        let chars: Vec<char> = text.chars().collect();
        let words: Vec<&str> = r.entities.iter().map(|e| e.text.as_str()).collect();
        for e in &r.entities {
            let slice: String = chars[e.start..e.end].iter().collect();
            assert_eq!(slice, e.text);
            // No mention begins or ends inside markup, nor holds a paragraph's tags.
            assert!(!e.text.starts_with(['<', '*', '&', ';']), "{words:?}");
            assert!(!e.text.ends_with(['>', '*', ';']), "{words:?}");
            assert!(
                !e.text.contains("<p>") && !e.text.contains("</p>"),
                "{words:?}"
            );
        }
        for w in ["john smith", "boston", "mary", "acme&amp;corp"] {
            assert!(words.contains(&w), "no span for {w:?} in {words:?}");
        }
        // The tables of an analysis are in the text's offsets too.
        let a = ex.analyze(text, &monotonic_ms).unwrap();
        assert_eq!(a.extraction, r);
        let first = &a.sentences[0];
        let (s, e) = first.offsets[0];
        assert_eq!(chars[s..e].iter().collect::<String>(), "john");
    }

    #[test]
    fn every_span_has_exact_char_offsets_on_awkward_text() {
        // Threshold 0 predicts every cell: all spans between sub-tokens are checked.
        let ex = extractor(0.0);
        let text = "😀 Mary\t\tworks  for   Acme Corp.\nJohn Smith lives in Parïs, é!";
        let r = ex.extract(text).unwrap();
        let chars: Vec<char> = text.chars().collect();
        // One type per span, and none across the tabs: still dozens of spans.
        assert!(r.entities.len() > 25, "{}", r.entities.len());
        for e in &r.entities {
            let slice: String = chars[e.start..e.end].iter().collect();
            assert_eq!(slice, e.text);
            assert_eq!(
                e.text.trim(),
                e.text,
                "a span never starts or ends in whitespace"
            );
        }
        let words: Vec<&str> = r.entities.iter().map(|e| e.text.as_str()).collect();
        // A symbol (the emoji) bounds no mention.
        assert!(!words.iter().any(|w| w.contains('😀')), "{words:?}");
        for w in ["Mary", "Acme Corp.", "works  for   Acme", "John Smith", "é"] {
            assert!(words.contains(&w), "no span for {w:?}");
        }
        // Spans never cross a sentence boundary.
        assert!(!words.iter().any(|w| w.contains('\n')));
        // Sorted by position, relations point at existing entities.
        assert!(r
            .entities
            .windows(2)
            .all(|p| (p[0].start, p[0].end) <= (p[1].start, p[1].end)));
        assert!(r
            .relations
            .iter()
            .all(|rel| rel.head < r.entities.len() && rel.tail < r.entities.len()));
        let json = serde_json::to_value(&r).unwrap();
        assert!(
            json["entities"][0]["type"].is_string() && json["relations"][0]["head"].is_number()
        );
    }

    #[test]
    fn a_sentence_gets_the_same_result_inside_a_long_document() {
        // A random model's scores are not centred on 0.5: threshold at the median cell score
        // so that about half the cells are entities.
        let sentence = "John Smith lives in Boston.";
        let all = extractor(0.0).extract(sentence).unwrap();
        let mut scores: Vec<f32> = all.entities.iter().map(|e| e.score).collect();
        scores.sort_by(f32::total_cmp);
        let ex = extractor(scores[scores.len() / 2]);
        let alone = ex.extract(sentence).unwrap();
        assert!(!alone.entities.is_empty() && alone.entities.len() < scores.len());
        let filler = [
            "Mary works for Acme Corp in Paris. ",
            "The weather was fine today! ",
            "Paris is in France. ",
        ];
        let mut doc = String::new();
        let mut k = 0;
        while doc.split_whitespace().count() < 10_000 {
            doc.push_str(filler[k % 3]);
            k += 1;
        }
        let offset = doc.chars().count();
        doc.push_str(sentence);
        doc.push(' ');
        doc.push_str(&filler.concat().repeat(20));
        let long = ex.extract(&doc).unwrap();
        let mine: Vec<&EntityMention> = long
            .entities
            .iter()
            .filter(|e| e.start >= offset && e.end <= offset + sentence.chars().count())
            .collect();
        assert_eq!(mine.len(), alone.entities.len());
        for (a, b) in alone.entities.iter().zip(mine) {
            assert_eq!(
                (a.start + offset, a.end + offset, &a.label, &a.text),
                (b.start, b.end, &b.label, &b.text)
            );
            assert!((a.score - b.score).abs() < 1e-4);
        }
    }

    #[test]
    fn analysis_tables_agree_with_the_extraction() {
        // Every cell above the threshold is an entity when spans are not word-aligned.
        let mut ex = extractor(0.5);
        ex.word_spans = false;
        let text = "John Smith lives in Boston. Mary works for Acme Corp!";
        let ticks = std::sync::atomic::AtomicU64::new(0);
        let clock = || ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as f64;
        let a = ex.analyze(text, &clock).unwrap();
        assert_eq!(a.extraction, ex.extract(text).unwrap());
        assert_eq!(a.sentences.len(), 2);
        let (ke, kr) = (ex.entity_types().len(), ex.relation_types().len());
        let chars: Vec<char> = text.chars().collect();
        for s in &a.sentences {
            let n = s.tokens.len();
            assert_eq!(s.offsets.len(), n);
            assert_eq!(s.ner.len(), n * n * ke);
            assert_eq!(s.re.len(), n * n * kr);
            for g in [&s.gates.entity_task, &s.gates.relation_interaction] {
                let g = g.as_ref().unwrap();
                assert_eq!(g.len(), n);
                assert!(g.iter().all(|&v| (0.0..=1.0).contains(&v)));
            }
            // Lower-case test vocabulary: each token is its text, lower-cased.
            for (tok, &(a, b)) in s.tokens.iter().zip(&s.offsets) {
                let piece: String = chars[a..b].iter().collect();
                assert_eq!(tok, &piece.to_lowercase());
            }
            // Every entity of the sentence is a cell above the threshold, and vice versa.
            let above = (0..n)
                .flat_map(|i| (i..n).map(move |j| (i, j)))
                .flat_map(|(i, j)| (0..ke).map(move |l| (i, j, l)))
                .filter(|&(i, j, l)| s.ner[(i * n + j) * ke + l] > 0.5)
                .count();
            let inside = a
                .extraction
                .entities
                .iter()
                .filter(|e| e.start >= s.start && e.end <= s.end)
                .count();
            assert_eq!(above, inside);
        }
        // The stub clock ticks once per reading: every stage took time, the total most.
        let t = a.timings;
        assert!(t.tokenize_ms > 0.0 && t.encoder_ms > 0.0 && t.heads_ms > 0.0);
        assert!(t.total_ms >= t.tokenize_ms + t.decode_ms);
    }

    #[test]
    fn joined_pieces_equal_the_whole_text() {
        let ex = extractor(0.45);
        let text =
            "John Smith lives in Boston.  Mary works for Acme Corp in Paris! Paris is in France.";
        let spans = sentence_spans(text);
        assert_eq!(spans.len(), 3);
        let chars: Vec<char> = text.chars().collect();
        let parts: Vec<(usize, Extraction)> = spans
            .iter()
            .map(|&(a, b)| {
                let piece: String = chars[a..b].iter().collect();
                (a, ex.extract(&piece).unwrap())
            })
            .collect();
        let joined = Extraction::join(text, parts);
        let whole = ex.extract(text).unwrap();
        assert!(!whole.entities.is_empty() && !whole.relations.is_empty());
        assert_eq!(joined.entities.len(), whole.entities.len());
        for (a, b) in joined.entities.iter().zip(&whole.entities) {
            assert_eq!(
                (a.start, a.end, &a.text, &a.label),
                (b.start, b.end, &b.text, &b.label)
            );
        }
        let key = |r: &RelationMention| (r.head, r.tail, r.label.clone());
        let mut x: Vec<_> = joined.relations.iter().map(key).collect();
        let mut y: Vec<_> = whole.relations.iter().map(key).collect();
        x.sort();
        y.sort();
        assert_eq!(x, y);
        assert_eq!(sentence_spans("  \n "), vec![]);
    }

    fn mention(start: usize, end: usize, label: &str, score: f32) -> EntityMention {
        EntityMention {
            start,
            end,
            text: String::new(),
            label: label.into(),
            score,
        }
    }

    #[test]
    fn a_span_keeps_its_likelier_type_also_when_mentions_nest() {
        let labels = schema(&["Method", "Material"], &["Used-for"], true);
        // `word2vec embeddings` as Material (0.7) and as Method (0.9); `word2vec` nested.
        let ents = vec![
            mention(0, 19, "Material", 0.7),
            mention(0, 19, "Method", 0.9),
            mention(0, 8, "Method", 0.6),
            mention(23, 32, "Material", 0.8),
        ];
        let rels = vec![(0, 3, 0, 0.9), (1, 3, 0, 0.8), (2, 3, 0, 0.7)];
        let how = |one_type| Decoding {
            labels: &labels,
            flat: false,
            per_type: false,
            signatures: None,
            one_type,
        };
        let out = assemble("", ents.clone(), rels.clone(), &how(true));
        let spans: Vec<_> = out
            .entities
            .iter()
            .map(|e| (e.start, e.end, e.label.as_str()))
            .collect();
        assert_eq!(
            spans,
            [(0, 8, "Method"), (0, 19, "Method"), (23, 32, "Material")]
        );
        // The relation of the dropped type goes with it.
        assert_eq!(out.relations.len(), 2);
        assert!(out
            .relations
            .iter()
            .all(|r| out.entities[r.head].label == "Method"));
        // Raw cells keep both.
        assert_eq!(assemble("", ents, rels, &how(false)).entities.len(), 4);
    }

    #[test]
    fn flat_decoding_keeps_the_best_of_overlapping_mentions() {
        let labels = schema(&["Loc", "Org"], &["In"], false);
        // "The U.S." (Loc, 0.99) over "U.S." (Loc, 0.6) and "U.S. Navy" (Org, 0.7); "Navy"
        // (Org, 0.8) overlaps "U.S. Navy" only; "Madrid" overlaps nothing.
        let ents = vec![
            mention(0, 8, "Loc", 0.99),
            mention(4, 8, "Loc", 0.6),
            mention(4, 13, "Org", 0.7),
            mention(9, 13, "Org", 0.8),
            mention(20, 26, "Loc", 0.9),
            mention(20, 26, "Loc", 0.95),
        ];
        let rels = vec![(3, 4, 0, 0.9), (2, 4, 0, 0.8), (1, 4, 0, 0.7)];
        let how = |flat| Decoding {
            labels: &labels,
            flat,
            per_type: false,
            signatures: None,
            one_type: true,
        };
        let flat = assemble("", ents.clone(), rels.clone(), &how(true));
        let spans: Vec<_> = flat
            .entities
            .iter()
            .map(|e| (e.start, e.end, e.label.as_str(), e.score))
            .collect();
        assert_eq!(
            spans,
            [
                (0, 8, "Loc", 0.99),
                (9, 13, "Org", 0.8),
                (20, 26, "Loc", 0.95)
            ]
        );
        // Only the relation between kept mentions stays, on their new indexes.
        assert_eq!(flat.relations.len(), 1);
        assert_eq!((flat.relations[0].head, flat.relations[0].tail), (1, 2));
        // Nested decoding keeps every mention (duplicates merged) and relation.
        let nested = assemble("", ents.clone(), rels.clone(), &how(false));
        assert_eq!(nested.entities.len(), 5);
        assert_eq!(nested.relations.len(), 3);
        // Flat per type: "The U.S." beats "U.S." (both Loc), "Navy" beats "U.S. Navy" (both
        // Org), while the Org "U.S. Navy" could have nested with the Loc "The U.S.".
        let per_type = assemble(
            "",
            ents,
            rels,
            &Decoding {
                per_type: true,
                ..how(false)
            },
        );
        let spans: Vec<_> = per_type
            .entities
            .iter()
            .map(|e| (e.start, e.end, e.label.as_str()))
            .collect();
        assert_eq!(spans, [(0, 8, "Loc"), (9, 13, "Org"), (20, 26, "Loc")]);
        // An adverse effect holding its drug keeps both: different types may nest.
        let ade = LabelSchema {
            entity_types: vec!["Adverse-Effect".into(), "Drug".into()],
            relation_types: vec!["Adverse-Effect".into()],
            nested_entities: Some(true),
            same_type_overlaps: Some(false),
            hyphens_split: None,
            slashes_split: None,
            titled_names: None,
            capitalized_types: None,
            relation_signatures: None,
        };
        assert!(flat_per_type(&ade, ""));
        let found = vec![
            mention(0, 25, "Adverse-Effect", 0.9), // "warfarin-induced bleeding"
            mention(0, 8, "Drug", 0.95),           // "warfarin"
            mention(30, 43, "Drug", 0.6),          // "IV vancomycin"
            mention(33, 43, "Drug", 0.95),         // "vancomycin"
        ];
        let out = assemble(
            "",
            found,
            vec![(0, 1, 0, 0.9), (0, 2, 0, 0.8), (0, 3, 0, 0.9)],
            &Decoding {
                labels: &ade,
                flat: false,
                per_type: true,
                signatures: None,
                one_type: true,
            },
        );
        let spans: Vec<_> = out.entities.iter().map(|e| (e.start, e.end)).collect();
        assert_eq!(spans, [(0, 8), (0, 25), (33, 43)]);
        assert_eq!(out.relations.len(), 2);
    }

    #[test]
    fn the_encoder_reads_symbols_as_spaces_and_compatibility_forms_as_plain_ones() {
        let typed = "Maya Chen\u{1f389} joins Stripe\u{2122} in \u{ff22}\u{ff4f}\u{ff53}\u{ff54}\u{ff4f}\u{ff4e} \u{2764}\u{fe0f} 5 m\u{b2}, Jos\u{e9}.";
        let read = model_text(typed, true);
        assert_eq!(
            read,
            "Maya Chen  joins Stripe  in Boston    5 m , Jos\u{e9}."
        );
        // Footnote marks, addresses with the brackets they leave empty, Markdown links and
        // citations of numbers are read as spaces; other brackets stay.
        for (typed, read) in [
            ("Smith\u{b9} of IBM\u{b2}\u{b3}.", "Smith  of IBM  ."),
            (
                "#Boeing (@JaneDoe) No. #1 C# a#b",
                " Boeing ( JaneDoe) No. #1 C# a#b",
            ),
            (
                "[Tim Cook](https://x.org/a_b) of [Apple] (see www.apple.com).",
                " Tim Cook                     of [Apple] (see              ).",
            ),
            ("mail a@b.com (or (c@d.org))", "mail         (or          )"),
            ("IE ( [ 3 ] ) and (see [4])", "IE           and (see    )"),
            // Pronunciations in IPA; not other brackets or slashes.
            (
                "Merkel ([\u{2c8}a\u{14b}\u{261}ela]) and Nadella (/n\u{259}\u{2c8}d\u{25b}l\u{259}/; b.) and/or [x]",
                "Merkel             and Nadella (         ; b.) and/or [x]",
            ),
            // A nickname in quotes inside a name; not a quoted title or a lone quote.
            (
                "Earvin \u{201c}Magic\u{201d} Johnson and Dwayne \"The Rock\" Johnson met \"Dune\" fans",
                "Earvin         Johnson and Dwayne            Johnson met \"Dune\" fans",
            ),
            ("He said \"Yes\" to Ann's \"Big Deal\".", "He said \"Yes\" to Ann's \"Big Deal\"."),
            // An ellipsis of full stops as the one character; one full stop stays.
            (
                "Jane Smith... she left. Then.. U.S.",
                "Jane Smith\u{2026}   she left. Then\u{2026}  U.S.",
            ),
            (
                "CoNLL [3, 7], SciERC [12][4\u{2013}6] [a] [2x] (1)",
                "CoNLL       , SciERC           [a] [2x] (1)",
            ),
            // A hyphen between spaces as a dash; not two hyphens, a hyphen inside a word
            // or a minus sign before a number.
            (
                "Sam Altman - OpenAI's chief - spoke -- here; a--b; state-of-the-art -5 a - - b",
                "Sam Altman \u{2014} OpenAI's chief \u{2014} spoke -- here; a--b; state-of-the-art -5 a \u{2014} \u{2014} b",
            ),
            // Citations of authors and years; not dates, ages or ordinary brackets.
            (
                "BERT (Devlin et al., 2019) and CRFs (see Lafferty and McCallum 2001; Lee, 2003a).",
                "BERT                       and CRFs                                             .",
            ),
            (
                "Jobs (born 1955) (January, 1999) (Fall 2019) (Smith) (2019) (IBM, 19)",
                "Jobs (born 1955) (January, 1999) (Fall 2019) (Smith) (2019) (IBM, 19)",
            ),
            // In square brackets too.
            (
                "Transformers [Vaswani et al. 2017] and [Lee, 2003; Kim, 2004] [Smith] [see Fig]",
                "Transformers                       and                        [Smith] [see Fig]",
            ),
        ] {
            assert_eq!(model_text(typed, true), read, "{typed}");
        }
        // Character for character, so offsets carry over.
        assert_eq!(read.chars().count(), typed.chars().count());
        assert!(is_author_year_citation("Ramshaw and Marcus , 1995"));
        assert!(is_author_year_citation(
            "e.g., Collins 2002; Dorigo, Maniezzo and Colorni, 1996"
        ));
        for not in [
            "",
            "2019",
            "Smith2019",
            "Smith, 2019 p. 4",
            "Smith, 2019;",
            "Jan. 1999",
            "s\u{e9}\u{e9}\u{e9} 2019",
            "\u{e9}2019",
        ] {
            assert!(!is_author_year_citation(not), "{not}");
        }
        // A ligature whose plain form is two letters stays as it is.
        assert_eq!(model_text("\u{fb01}ne", true), "\u{fb01}ne");
        // A spaced en dash reads as a dash, like a spaced hyphen; an unspaced one stays.
        assert_eq!(
            model_text("Tim Cook \u{2013} Apple, 5\u{2013}10 mg", true),
            "Tim Cook \u{2014} Apple, 5\u{2013}10 mg"
        );
        // Typographic quotes read as the straight ones of the training text.
        assert_eq!(
            model_text(
                "\u{201c}We won,\u{201d} said Warner\u{2019}s \u{2018}Ace\u{2019}.",
                true
            ),
            "\"We won,\" said Warner's 'Ace'."
        );
        // A model trained on spaced hyphens reads them as they are.
        assert!(matches!(
            model_text("5 - fluorouracil -- and CD30 (Ki-1) - positive", false),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(matches!(
            model_text("John Smith lives in Paris.", true),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn relations_whose_argument_types_training_never_paired_are_dropped() {
        let mut labels = schema(&["Loc", "Org", "Peop"], &["Live_In", "OrgBased_In"], false);
        let sig = |relation: &str, head: &str, tail: &str| crate::data::RelationSignature {
            relation: relation.into(),
            head: head.into(),
            tail: tail.into(),
        };
        labels.relation_signatures = Some(vec![
            sig("Live_In", "Peop", "Loc"),
            sig("OrgBased_In", "Org", "Loc"),
            // A type this schema does not have: ignored.
            sig("OrgBased_In", "Facility", "Loc"),
        ]);
        let allowed = relation_signatures(&labels, "").unwrap();
        assert_eq!(allowed.len(), 2);
        // "Satya Nadella (Peop) spoke in Seattle (Loc) for Microsoft (Org)".
        let ents = vec![
            mention(0, 13, "Peop", 0.99),
            mention(23, 30, "Loc", 0.99),
            mention(35, 44, "Org", 0.99),
        ];
        let rels = vec![
            (0, 1, 0, 0.9), // Peop Live_In Loc: kept
            (0, 1, 1, 0.9), // Peop OrgBased_In Loc: dropped
            (2, 1, 1, 0.8), // Org OrgBased_In Loc: kept
            (1, 0, 0, 0.7), // Loc Live_In Peop (reversed): dropped
        ];
        let how = Decoding {
            labels: &labels,
            flat: true,
            per_type: false,
            signatures: Some(&allowed),
            one_type: true,
        };
        let out = assemble("", ents.clone(), rels.clone(), &how);
        let kept: Vec<_> = out
            .relations
            .iter()
            .map(|r| (r.head, r.tail, r.label.as_str()))
            .collect();
        assert_eq!(kept, [(0, 1, "Live_In"), (2, 1, "OrgBased_In")]);
        // Without signatures every relation stays.
        let all = assemble(
            "",
            ents,
            rels,
            &Decoding {
                signatures: None,
                one_type: true,
                ..how
            },
        );
        assert_eq!(all.relations.len(), 4);
        // Bundles exported before signatures were recorded go by the dataset's name.
        labels.relation_signatures = None;
        assert_eq!(relation_signatures(&labels, "my-data"), None);
        let conll04 = relation_signatures(&labels, "CoNLL04").unwrap();
        assert!(conll04.contains(&(1, 1, 0)) && !conll04.contains(&(1, 2, 0)));
    }

    #[test]
    fn the_best_disjoint_set_beats_one_span_across_several() {
        // A run-on span over three names scores as high as each name: the names stay.
        let spans = [
            (0, 50, 0.999),
            (0, 5, 0.998),
            (20, 34, 0.997),
            (40, 50, 0.996),
        ];
        assert_eq!(best_disjoint(&spans), [false, true, true, true]);
        // Over the same words the higher score wins, whatever the order.
        assert_eq!(best_disjoint(&[(4, 8, 0.6), (0, 8, 0.9)]), [false, true]);
        assert_eq!(best_disjoint(&[(0, 8, 0.9), (4, 8, 0.6)]), [true, false]);
        // Touching spans do not overlap.
        assert_eq!(best_disjoint(&[(0, 4, 0.7), (4, 9, 0.8)]), [true, true]);
        assert!(best_disjoint(&[]).is_empty());
    }

    #[test]
    fn word_spans_follow_words_and_leave_punctuation_out() {
        // Threshold 0: the model proposes every span; what comes out must be whole words
        // without a sentence's full stop or a comma at either edge.
        let text = "John Smith lives in Boston, France. Mary works for Acme Corp.";
        let r = extractor(0.0).extract(text).unwrap();
        let mut bounds = Vec::new();
        for s in segment::sentences(text, Segmenter::Rules) {
            bounds.extend(
                segment::words(s.text, true)
                    .into_iter()
                    .map(|(a, b)| (a + s.char_start, b + s.char_start)),
            );
        }
        assert!(!r.entities.is_empty());
        for e in &r.entities {
            assert!(
                bounds.iter().any(|w| w.0 == e.start),
                "{:?} starts inside a word",
                e.text
            );
            assert!(
                bounds.iter().any(|w| w.1 == e.end),
                "{:?} ends inside a word",
                e.text
            );
            assert!(
                !e.text.ends_with(',') && !e.text.starts_with([',', '.']),
                "{:?}",
                e.text
            );
            assert!(
                !e.text.ends_with("France.") && e.text != ".",
                "{:?}",
                e.text
            );
        }
        let texts: Vec<&str> = r.entities.iter().map(|e| e.text.as_str()).collect();
        assert!(texts.contains(&"Boston") && texts.contains(&"France"));
        // The abbreviation keeps its full stop, also where it ends the text.
        assert!(texts.contains(&"Acme Corp."), "{texts:?}");
        // With raw spans the same model also reports pieces with punctuation.
        let mut raw = extractor(0.0);
        raw.word_spans = false;
        let raw = raw.extract(text).unwrap();
        assert!(raw.entities.iter().any(|e| e.text == "Boston,"));
    }

    #[test]
    fn web_and_mail_addresses_are_never_part_of_an_entity() {
        // Threshold 0: every span is proposed, addresses and their pieces among them.
        let text = "Write to press@apple.com or see https://www.apple.com/news today. Mary \
                    works for Acme Corp. (www.acme.com) in Boston.";
        let r = extractor(0.0).extract(text).unwrap();
        let texts: Vec<&str> = r.entities.iter().map(|e| e.text.as_str()).collect();
        assert!(texts.contains(&"Boston"), "{texts:?}");
        for t in &texts {
            assert!(
                !t.contains('@') && !t.contains("www") && !t.contains("//") && !t.contains("com"),
                "{t:?}"
            );
        }
    }

    #[test]
    fn no_mention_crosses_a_tab_a_label_or_a_semicolon_or_holds_a_footnote_mark() {
        // Threshold 0: every span is proposed, also those across the separators.
        let text = "Sundar Pichai\tGoogle\tMountain View\nQ: Where is Acme Corp. based? A: Acme \
                    Corp. is in Boston\u{b9}; Mary works for #Acme. Japanese information \
                    extraction ( [ 3 ] ) and parsing [4, 5] of Acme Corp.";
        let r = extractor(0.0).extract(text).unwrap();
        let texts: Vec<&str> = r.entities.iter().map(|e| e.text.as_str()).collect();
        assert!(
            texts.contains(&"Boston") && texts.contains(&"Acme"),
            "{texts:?}"
        );
        for t in &texts {
            assert!(
                !t.contains(['\t', ';', '\u{b9}', '[', ']'])
                    && !t.contains(": ")
                    && !t.starts_with('#'),
                "{t:?}"
            );
        }
    }

    #[test]
    fn empty_and_blank_text_give_empty_results() {
        let ex = extractor(0.5);
        for t in ["", "   \n\t "] {
            let r = ex.extract(t).unwrap();
            assert!(r.entities.is_empty() && r.relations.is_empty());
            assert_eq!(r.text, t);
        }
    }

    #[test]
    fn window_cores_tile_the_sentence_and_windows_fit() {
        for n in [0usize, 1, 5, 62, 63, 64, 100, 137, 500] {
            for (room, context) in [(62usize, 16usize), (6, 2), (6, 9), (1, 0), (10, 0)] {
                let spans = window_spans(n, room, context);
                let mut next = 0;
                for &(from, to, (cs, ce)) in &spans {
                    assert_eq!(cs, next, "n {n} room {room}: cores leave a gap");
                    assert!(cs < ce || n == 0);
                    assert!(from <= cs && ce <= to && to <= n && to - from <= room.max(1));
                    if n > room {
                        assert_eq!(to - from, room, "a window is not full");
                        // Context on each side wherever the sentence has it.
                        let c = context.min((room - 1) / 2);
                        assert!(cs - from >= c.min(cs), "n {n} room {room}: no left context");
                        assert!(
                            to - ce >= c.min(n - ce),
                            "n {n} room {room}: no right context"
                        );
                    }
                    next = ce;
                }
                assert_eq!(next, n);
            }
        }
        assert_eq!(window_spans(40, 62, 16), vec![(0, 40, (0, 40))]);
        // Two windows reach 2 * (62 - 16) sub-tokens; each middle window adds 30.
        assert_eq!(window_spans(92, 62, 16).len(), 2);
        assert_eq!(window_spans(93, 62, 16).len(), 3);
        assert_eq!(window_spans(122, 62, 16).len(), 3);
        assert_eq!(
            window_spans(100, 62, 16),
            vec![(0, 62, (0, 46)), (30, 92, (46, 76)), (38, 100, (76, 100))]
        );
    }

    #[test]
    fn long_sentences_are_split_into_windows() {
        let mut ex = extractor(0.0);
        ex.max_len = 8;
        let text = "john smith lives in boston and mary works for acme corp in paris";
        let r = ex.extract(text).unwrap();
        let chars: Vec<char> = text.chars().collect();
        assert!(r
            .entities
            .iter()
            .all(|e| chars[e.start..e.end].iter().collect::<String>() == e.text));
        // No span is longer than a window (6 sub-tokens).
        assert!(r
            .entities
            .iter()
            .all(|e| e.text.split_whitespace().count() <= 6));
        assert!(r.entities.iter().any(|e| e.text == "paris"));
    }
}
