//! Datasets: sentences with word-level entities and relations.
//!
//! Two on-disk formats are read:
//!
//! * **SpERT JSON** — one JSON array of `{tokens, entities: [{type, start, end}],
//!   relations: [{type, head, tail}]}` objects; `end` is exclusive and `head`/`tail` index
//!   `entities`. Extra keys (such as `orig_id`) are ignored.
//! * **DyGIE++ JSONL** — one document per line: `{"sentences": [[tok, ...], ...],
//!   "ner": [[[start, end, type], ...], ...], "relations": [[[h_start, h_end, t_start, t_end,
//!   type], ...], ...]}` with document-global, end-inclusive token indexes. Each sentence
//!   becomes one [`Sentence`] with local, end-exclusive offsets.
//!
//! Everything that is loaded is validated (see [`validate`]); errors name the file, the
//! sentence (and for JSONL the line) and what is wrong.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An entity mention: word offsets `start..end` (end exclusive) and its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub label: String,
    pub start: usize,
    pub end: usize,
}

/// A directed relation between two entities of the same sentence (indexes into
/// [`Sentence::entities`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Relation {
    #[serde(rename = "type")]
    pub label: String,
    pub head: usize,
    pub tail: usize,
}

/// One sentence of a dataset (SpERT layout). `entities` and `relations` default to empty
/// when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    pub tokens: Vec<String>,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub relations: Vec<Relation>,
}

/// The entity and relation type names of a model; a type's index is its position here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LabelSchema {
    pub entity_types: Vec<String>,
    pub relation_types: Vec<String>,
    /// Whether entities of the training data overlap (nested or overlapping mentions, as in
    /// ACE or SciERC). A flat schema (CoNLL04) is decoded without overlaps. `None` in models
    /// made before this was recorded; [`known_nested`] then guesses from the dataset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested_entities: Option<bool>,
    /// Whether overlapping entities of the same type (a method inside a method) are common
    /// enough in the training data to decode: more than one such pair per hundred entities.
    /// Where they are rarer (SciERC: 29 pairs among 5,598 entities) or absent (ADE, whose
    /// overlaps are drugs inside adverse effects), mentions of one type are decoded without
    /// overlaps. `None` in models made before this was recorded;
    /// [`known_same_type_overlaps`] then goes by the dataset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_type_overlaps: Option<bool>,
    /// Whether the training data writes a hyphen between words as a word of its own
    /// (`Lithium - induced`, as ADE does, so that a drug ends before it) rather than inside
    /// one word (`Knight-Ridder`, as CoNLL04 and SciERC do). Raw text is then cut into words
    /// the same way ([`crate::segment::words_with`]). `None` in models made before this was
    /// recorded; [`known_hyphens_split`] then goes by the dataset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyphens_split: Option<bool>,
    /// Whether a slash between words is a word of its own in the training data at least as
    /// often as it is inside one (`TTP / HUS`, as ADE writes it; CoNLL04 has no slash at
    /// all) rather than inside one (`parser/generator`, as SciERC writes it). Raw text is
    /// then cut into words the same way, so that `Satya Nadella/Microsoft` can give the
    /// person and the company. `None` in models made before this was recorded;
    /// [`known_slashes_split`] then goes by the dataset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slashes_split: Option<bool>,
    /// Whether the training data's mentions take in the capitalized word after a title
    /// (`Dr.`, `President`; [`crate::segment::TITLES`], [`crate::segment::TITLE_WORDS`]) more
    /// often than not: CoNLL04 194 of 197 times. For such a model that word in no mention
    /// is a name it lost, and the extractor reads the sentence again without the titles
    /// ([`crate::extract::Titles::Retry`]); SciERC and ADE have no titles before names.
    /// `None` in models made before this was recorded; [`known_titled_names`] then goes by
    /// the dataset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titled_names: Option<bool>,
    /// The entity types whose training mentions hold a capital letter at least 99 times in
    /// 100 (and 20 times or more): CoNLL04's persons, places and organizations (2,920 of
    /// 2,922 in its training split), none of SciERC's or ADE's. In cased text a mention of
    /// such a type without a capital is dropped (`pharmacy`, `federal government` as
    /// organizations). `None` in models made before this was recorded;
    /// [`known_capitalized_types`] then goes by the dataset's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capitalized_types: Option<Vec<String>>,
    /// The (relation, head type, tail type) combinations of the training data, sorted. The
    /// extractor drops a predicted relation whose argument types the training data never
    /// pairs that way (a person `OrgBased_In` a place, in CoNLL04). `None` in models made
    /// before this was recorded; [`known_relation_signatures`] then goes by the dataset's
    /// name, and unknown names allow every combination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_signatures: Option<Vec<RelationSignature>>,
}

/// A relation type with the entity types of its two arguments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RelationSignature {
    pub relation: String,
    pub head: String,
    pub tail: String,
}

/// The relation signatures of the training split of a dataset the presets know
/// (`mge/data/relation-signatures.tsv`, written by `scripts/make_relation_signatures.py`:
/// CoNLL04 5, SciERC 168 of the 252 possible, ADE 1); `None` for other names.
pub fn known_relation_signatures(dataset: &str) -> Option<Vec<RelationSignature>> {
    let name = dataset.to_ascii_lowercase();
    let found: Vec<RelationSignature> = RELATION_SIGNATURES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (ds, relation, head, tail) = (f.next()?, f.next()?, f.next()?, f.next()?);
            (ds == name).then(|| RelationSignature {
                relation: relation.into(),
                head: head.into(),
                tail: tail.into(),
            })
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

const RELATION_SIGNATURES: &str = include_str!("../data/relation-signatures.tsv");

/// Whether the entities of a dataset the presets know overlap (counted in the training
/// files: CoNLL04 none of 3,377, SciERC 61 pairs among 5,598, ADE fold 0 a few hundred
/// drug mentions inside adverse effects); `None` for other names.
pub fn known_nested(dataset: &str) -> Option<bool> {
    match dataset.to_ascii_lowercase().as_str() {
        "conll04" => Some(false),
        "scierc" | "ade" | "ace04" | "ace05" => Some(true),
        _ => None,
    }
}

/// Whether overlapping entities of one type are common enough in a dataset the presets know
/// to decode ([`LabelSchema::same_type_overlaps`]; counted in the training files: SciERC 29
/// such pairs among its 61 overlapping pairs and 5,598 entities, ADE fold 0 none among 108,
/// CoNLL04 has no overlaps); `None` for other names. SciERC's pairs are too rare: decoded
/// nested, its model gave `word error rate`, `word error rate (WER)`, `error rate` and
/// `error rate (WER)` as four metrics, and one per type scored 1.0 entity and 1.1 relation
/// points higher on its dev split typed as text (`docs/RESULTS.md`).
pub fn known_same_type_overlaps(dataset: &str) -> Option<bool> {
    match dataset.to_ascii_lowercase().as_str() {
        "conll04" | "ade" | "scierc" => Some(false),
        _ => None,
    }
}

/// Whether a dataset the presets know writes hyphens between words as words of their own
/// (counted in the training files: ADE fold 0 248 such `-` against 55 words with a hyphen
/// inside; CoNLL04 3 against 262); `None` for other names.
pub fn known_hyphens_split(dataset: &str) -> Option<bool> {
    match dataset.to_ascii_lowercase().as_str() {
        "ade" => Some(true),
        "conll04" | "scierc" => Some(false),
        _ => None,
    }
}

/// Whether a dataset the presets know writes a slash between words as a word of its own
/// (counted in the training files: ADE fold 0 139 such `/` against 22 words with a slash
/// inside; CoNLL04 none of either; SciERC 3 against 34); `None` for other names.
pub fn known_slashes_split(dataset: &str) -> Option<bool> {
    match dataset.to_ascii_lowercase().as_str() {
        "ade" | "conll04" => Some(true),
        "scierc" => Some(false),
        _ => None,
    }
}

/// Whether the mentions of a dataset the presets know take in the capitalized word after a
/// title (counted in the training files: CoNLL04 194 of 197; SciERC and ADE fold 0 have no
/// title before a capitalized word); `None` for other names.
pub fn known_titled_names(dataset: &str) -> Option<bool> {
    match dataset.to_ascii_lowercase().as_str() {
        "conll04" => Some(true),
        "scierc" | "ade" => Some(false),
        _ => None,
    }
}

/// The entity types of a dataset the presets know whose training mentions nearly always hold
/// a capital letter ([`LabelSchema::capitalized_types`]; counted in the training files:
/// CoNLL04 `Loc` 1,219 of 1,219, `Org` 614 of 616, `Peop` 1,087 of 1,087, `Other` 333 of
/// 455; SciERC at most 35% for any type, ADE 24%); `None` for other names.
pub fn known_capitalized_types(dataset: &str) -> Option<Vec<String>> {
    match dataset.to_ascii_lowercase().as_str() {
        "conll04" => Some(["Loc", "Org", "Peop"].map(String::from).to_vec()),
        "scierc" | "ade" => Some(Vec::new()),
        _ => None,
    }
}

/// Whether `token` is a word with `joiner` between letters or digits (`Knight-Ridder`,
/// `parser/generator`).
fn joined_by(token: &str, joiner: char) -> bool {
    let c: Vec<char> = token.chars().collect();
    (1..c.len().saturating_sub(1))
        .any(|k| c[k] == joiner && c[k - 1].is_alphanumeric() && c[k + 1].is_alphanumeric())
}

/// Training text as raw text reaches the model: with probability `p` (seeded), a sentence
/// and the one after it become one example (words, entities and relations of the second
/// shifted behind the first). Raw text is cut into sentences where it has punctuation;
/// datelines, headlines and lists without it reach the model joined to their neighbours.
/// With probability `run_on`, a joined pair also loses the first sentence's final `.`, `?`
/// or `!` (when it is a word of its own and no mention holds it), as text that runs on
/// without full stops has it, so that the model learns not to relate mentions across a
/// boundary that nothing marks.
pub fn join_neighbours(sentences: &[Sentence], p: f64, run_on: f64, seed: u64) -> Vec<Sentence> {
    if p <= 0.0 {
        return sentences.to_vec();
    }
    let mut rng = crate::init::Rng::new(seed ^ 0x6a6f_696e);
    let mut out = Vec::with_capacity(sentences.len());
    let mut k = 0;
    while k < sentences.len() {
        if k + 1 < sentences.len() && (rng.uniform() as f64) < p {
            let (a, b) = (&sentences[k], &sentences[k + 1]);
            let mut joined = a.clone();
            // Not drawn at 0, so that the pairs are those of earlier runs without it.
            let drop_stop = run_on > 0.0 && (rng.uniform() as f64) < run_on;
            let last = joined.tokens.len().checked_sub(1);
            let stop_alone = last.is_some_and(|l| {
                matches!(joined.tokens[l].as_str(), "." | "?" | "!")
                    && joined.entities.iter().all(|e| e.end <= l)
            });
            if drop_stop && stop_alone {
                joined.tokens.pop();
            }
            let (words, ents) = (joined.tokens.len(), joined.entities.len());
            joined.tokens.extend(b.tokens.iter().cloned());
            joined.entities.extend(b.entities.iter().map(|e| Entity {
                start: e.start + words,
                end: e.end + words,
                ..e.clone()
            }));
            joined
                .relations
                .extend(b.relations.iter().map(|r| Relation {
                    head: r.head + ents,
                    tail: r.tail + ents,
                    ..r.clone()
                }));
            out.push(joined);
            k += 2;
        } else {
            out.push(sentences[k].clone());
            k += 1;
        }
    }
    out
}

/// Training sentences whose names are swapped for other names of the training data: with
/// probability `p` (seeded), every mention of one of `types` in a sentence is replaced by
/// the words of a mention of the same type drawn from all sentences (`Oracle is based in
/// Austin , Texas .` may become `Wells Fargo is based in Kinderhook , Ohio .`); entities
/// after it shift, relations keep their entities. So the model sees each name in more
/// contexts and learns the contexts rather than the names. Sentences with overlapping
/// entities are kept as they are.
pub fn swap_mentions(sentences: &[Sentence], types: &[String], p: f64, seed: u64) -> Vec<Sentence> {
    if p <= 0.0 || types.is_empty() {
        return sentences.to_vec();
    }
    let mut pools: std::collections::BTreeMap<&str, Vec<&[String]>> = Default::default();
    for s in sentences {
        for e in &s.entities {
            if types.contains(&e.label) && e.start < e.end && e.end <= s.tokens.len() {
                pools
                    .entry(e.label.as_str())
                    .or_default()
                    .push(&s.tokens[e.start..e.end]);
            }
        }
    }
    let mut rng = crate::init::Rng::new(seed ^ 0x7377_6170);
    sentences
        .iter()
        .map(|s| {
            if (rng.uniform() as f64) >= p
                || has_overlapping_entities(s)
                || s.entities
                    .iter()
                    .any(|e| e.start >= e.end || e.end > s.tokens.len())
            {
                return s.clone();
            }
            // Entities in word order, each replaced or kept.
            let mut order: Vec<usize> = (0..s.entities.len()).collect();
            order.sort_by_key(|&k| s.entities[k].start);
            let mut out = s.clone();
            out.tokens.clear();
            let mut at = 0;
            for k in order {
                let e = &s.entities[k];
                out.tokens.extend(s.tokens[at..e.start].iter().cloned());
                let words: &[String] = match pools.get(e.label.as_str()) {
                    Some(pool) if types.contains(&e.label) && !pool.is_empty() => {
                        pool[rng.below(pool.len())]
                    }
                    _ => &s.tokens[e.start..e.end],
                };
                let start = out.tokens.len();
                out.tokens.extend(words.iter().cloned());
                out.entities[k].start = start;
                out.entities[k].end = out.tokens.len();
                at = e.end;
            }
            out.tokens.extend(s.tokens[at..].iter().cloned());
            out
        })
        .collect()
}

/// Whether two entities of one sentence share a word.
pub fn has_overlapping_entities(sentence: &Sentence) -> bool {
    overlapping_pairs(sentence).next().is_some()
}

/// The pairs of entities of one sentence that share a word.
fn overlapping_pairs(sentence: &Sentence) -> impl Iterator<Item = (&Entity, &Entity)> {
    let e = &sentence.entities;
    (0..e.len()).flat_map(move |a| {
        e[a + 1..]
            .iter()
            .filter(move |b| e[a].start < b.end && b.start < e[a].end)
            .map(move |b| (&e[a], b))
    })
}

impl LabelSchema {
    /// Sorted, de-duplicated types seen in the sentences (deterministic).
    pub fn from_sentences<'a>(sets: impl IntoIterator<Item = &'a [Sentence]>) -> Self {
        let mut entity_types = BTreeSet::new();
        let mut relation_types = BTreeSet::new();
        let mut nested = false;
        let (mut same_type, mut entities) = (0usize, 0usize);
        let (mut alone, mut inside) = (0usize, 0usize);
        let (mut slash_alone, mut slash_inside) = (0usize, 0usize);
        let (mut titled, mut titled_inside) = (0usize, 0usize);
        let mut signatures = BTreeSet::new();
        // Per entity type: mentions, and those with a capital letter.
        let mut capitals: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
        for sentence in sets.into_iter().flatten() {
            for e in &sentence.entities {
                let slot = capitals.entry(e.label.as_str()).or_default();
                slot.0 += 1;
                let words = sentence.tokens.get(e.start..e.end).unwrap_or_default();
                slot.1 += usize::from(words.iter().any(|w| w.chars().any(char::is_uppercase)));
            }
            entity_types.extend(sentence.entities.iter().map(|e| e.label.as_str()));
            relation_types.extend(sentence.relations.iter().map(|r| r.label.as_str()));
            let entity = |k: usize| sentence.entities.get(k).map(|e| e.label.clone());
            signatures.extend(sentence.relations.iter().filter_map(|r| {
                Some(RelationSignature {
                    relation: r.label.clone(),
                    head: entity(r.head)?,
                    tail: entity(r.tail)?,
                })
            }));
            entities += sentence.entities.len();
            for (a, b) in overlapping_pairs(sentence) {
                nested = true;
                same_type += usize::from(a.label == b.label);
            }
            for (k, pair) in sentence.tokens.windows(2).enumerate() {
                let title = |t: &str| {
                    crate::segment::TITLES.contains(&t) || crate::segment::TITLE_WORDS.contains(&t)
                };
                if title(&pair[0])
                    && !title(&pair[1])
                    && pair[1].chars().next().is_some_and(char::is_uppercase)
                {
                    titled += 1;
                    let name = k + 1;
                    if sentence
                        .entities
                        .iter()
                        .any(|e| e.start <= name && name < e.end)
                    {
                        titled_inside += 1;
                    }
                }
            }
            for t in &sentence.tokens {
                if t == "-" {
                    alone += 1;
                } else if joined_by(t, '-') {
                    inside += 1;
                }
                if t == "/" {
                    slash_alone += 1;
                } else if joined_by(t, '/') {
                    slash_inside += 1;
                }
            }
        }
        LabelSchema {
            entity_types: entity_types.into_iter().map(str::to_owned).collect(),
            relation_types: relation_types.into_iter().map(str::to_owned).collect(),
            nested_entities: Some(nested),
            same_type_overlaps: Some(100 * same_type > entities),
            hyphens_split: Some(alone > inside),
            // A model that never saw a slash reads one as the word of its own it is in
            // every other place.
            slashes_split: Some(slash_alone >= slash_inside),
            titled_names: Some(2 * titled_inside > titled),
            capitalized_types: Some(
                capitals
                    .into_iter()
                    .filter(|&(_, (all, capital))| all >= 20 && 100 * capital >= 99 * all)
                    .map(|(label, _)| label.to_owned())
                    .collect(),
            ),
            relation_signatures: Some(signatures.into_iter().collect()),
        }
    }

    /// Index of an entity type, `None` when the schema does not know it.
    pub fn entity_index(&self, label: &str) -> Option<usize> {
        self.entity_types.iter().position(|t| t == label)
    }

    /// Index of a relation type, `None` when the schema does not know it.
    pub fn relation_index(&self, label: &str) -> Option<usize> {
        self.relation_types.iter().position(|t| t == label)
    }
}

/// Errors from reading, parsing or validating a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The text is not in the expected format (JSON syntax or shape).
    #[error("{path}: not valid {format}: {message}")]
    Syntax {
        path: String,
        format: &'static str,
        message: String,
    },
    /// A sentence is well-formed but inconsistent (offsets, references, types).
    #[error("{path}: sentence {index}: {message}")]
    Invalid {
        path: String,
        index: usize,
        message: String,
    },
}

const SPERT: &str = "SpERT JSON";
const DYGIE: &str = "DyGIE++ JSONL";

/// Reads and validates a dataset file.
///
/// A `.jsonl` file, or a file whose first non-blank line is a JSON object with a
/// `"sentences"` key, is read as DyGIE++ JSONL; anything else as SpERT JSON.
pub fn load_dataset(path: &Path) -> Result<Vec<Sentence>, DataError> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source_err| DataError::Io {
        path: source.clone(),
        source: source_err,
    })?;
    let is_jsonl = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("jsonl"));
    if is_jsonl || looks_like_dygie(&text) {
        parse_dygie(&text, &source)
    } else {
        parse_spert(&text, &source)
    }
}

/// True when the first non-blank line is a JSON object with a `"sentences"` key.
fn looks_like_dygie(text: &str) -> bool {
    let Some(first) = strip_bom(text).lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    let first = first.trim();
    if !first.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<Value>(first) {
        Ok(Value::Object(map)) => map.contains_key("sentences"),
        _ => false,
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses and validates SpERT JSON (a JSON array of sentences). `source` names the input in
/// errors.
pub fn parse_spert(text: &str, source: &str) -> Result<Vec<Sentence>, DataError> {
    let text = strip_bom(text);
    let sentences = match serde_json::from_str::<Vec<Sentence>>(text) {
        Ok(sentences) => sentences,
        Err(err) => return Err(locate_spert_error(text, source, err)),
    };
    validate(&sentences, source, None)?;
    Ok(sentences)
}

/// Turns a failed typed parse into an error that names the offending sentence when the text
/// is at least a JSON array.
fn locate_spert_error(text: &str, source: &str, err: serde_json::Error) -> DataError {
    let syntax = |message: String| DataError::Syntax {
        path: source.to_owned(),
        format: SPERT,
        message,
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            for (index, item) in items.into_iter().enumerate() {
                if let Err(item_err) = serde_json::from_value::<Sentence>(item) {
                    return syntax(format!("sentence {index}: {item_err}"));
                }
            }
            syntax(err.to_string())
        }
        Ok(_) => syntax("expected a JSON array of sentences".to_owned()),
        Err(_) => syntax(err.to_string()),
    }
}

/// A DyGIE++ `ner` item: `[start, end_inclusive, type]` (document-global token indexes).
type DygieSpan = (usize, usize, String);
/// A DyGIE++ `relations` item: `[h_start, h_end_incl, t_start, t_end_incl, type]`.
type DygieRelation = (usize, usize, usize, usize, String);

/// One DyGIE++ document line; unknown keys (`doc_key`, `clusters`, `events`, ...) are ignored
/// apart from `doc_key`, which is quoted in errors.
#[derive(Deserialize)]
struct DygieDoc {
    #[serde(default)]
    doc_key: Option<Value>,
    sentences: Vec<Vec<String>>,
    #[serde(default)]
    ner: Option<Vec<Vec<DygieSpan>>>,
    #[serde(default)]
    relations: Option<Vec<Vec<DygieRelation>>>,
}

/// Parses and validates DyGIE++ JSONL (one document per line, blank lines skipped).
/// Sentence indexes in errors count sentences across the whole output.
pub fn parse_dygie(text: &str, source: &str) -> Result<Vec<Sentence>, DataError> {
    let syntax = |message: String| DataError::Syntax {
        path: source.to_owned(),
        format: DYGIE,
        message,
    };
    let mut out = Vec::new();
    for (line_index, line) in strip_bom(text).lines().enumerate() {
        let line_no = line_index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let doc: DygieDoc =
            serde_json::from_str(line).map_err(|err| syntax(format!("line {line_no}: {err}")))?;
        let where_ = match &doc.doc_key {
            Some(Value::String(key)) => format!("line {line_no} (doc_key {key:?})"),
            Some(Value::Null) | None => format!("line {line_no}"),
            Some(other) => format!("line {line_no} (doc_key {other})"),
        };
        let n = doc.sentences.len();
        for (name, len) in [
            ("ner", doc.ner.as_ref().map(Vec::len)),
            ("relations", doc.relations.as_ref().map(Vec::len)),
        ] {
            if let Some(len) = len {
                if len != n {
                    return Err(syntax(format!(
                        "{where_}: document has {n} sentences but {len} \"{name}\" lists"
                    )));
                }
            }
        }
        let mut offset = 0usize;
        for (k, tokens) in doc.sentences.into_iter().enumerate() {
            let index = out.len();
            let invalid = |message: String| DataError::Invalid {
                path: source.to_owned(),
                index,
                message: format!("{where_}: {message}"),
            };
            let len = tokens.len();
            let local =
                |start: usize, end_incl: usize, what: &str| -> Result<(usize, usize), DataError> {
                    if end_incl < start {
                        return Err(invalid(format!("{what} ends before it starts")));
                    }
                    if start < offset || end_incl >= offset + len {
                        return Err(invalid(format!(
                            "{what} lies outside this sentence (document tokens {offset}..={})",
                            (offset + len).saturating_sub(1)
                        )));
                    }
                    Ok((start - offset, end_incl + 1 - offset))
                };

            let mut entities: Vec<Entity> = Vec::new();
            let mut by_span: HashMap<(usize, usize), usize> = HashMap::new();
            if let Some(ner) = doc.ner.as_ref().and_then(|all| all.get(k)) {
                for (start, end_incl, label) in ner {
                    let (s, e) = local(
                        *start,
                        *end_incl,
                        &format!("entity [{start}, {end_incl}, {label:?}]"),
                    )?;
                    let entity = Entity {
                        label: label.clone(),
                        start: s,
                        end: e,
                    };
                    if entities.contains(&entity) {
                        continue;
                    }
                    by_span.entry((s, e)).or_insert(entities.len());
                    entities.push(entity);
                }
            }

            let mut relations: Vec<Relation> = Vec::new();
            if let Some(rels) = doc.relations.as_ref().and_then(|all| all.get(k)) {
                for (hs, he, ts, te, label) in rels {
                    let what = format!("relation [{hs}, {he}, {ts}, {te}, {label:?}]");
                    let head_span = local(*hs, *he, &what)?;
                    let tail_span = local(*ts, *te, &what)?;
                    let (Some(&head), Some(&tail)) =
                        (by_span.get(&head_span), by_span.get(&tail_span))
                    else {
                        let missing = if by_span.contains_key(&head_span) {
                            "tail"
                        } else {
                            "head"
                        };
                        return Err(invalid(format!(
                            "{what} points at no entity (its {missing} span is not in \"ner\")"
                        )));
                    };
                    let relation = Relation {
                        label: label.clone(),
                        head,
                        tail,
                    };
                    if !relations.contains(&relation) {
                        relations.push(relation);
                    }
                }
            }

            offset += len;
            out.push(Sentence {
                tokens,
                entities,
                relations,
            });
        }
    }
    validate(&out, source, None)?;
    Ok(out)
}

/// Checks offsets (`start < end <= tokens.len()`), relation head/tail pointing at an existing
/// entity, empty token lists, and—when a schema is given—unknown entity/relation types.
/// `index` in errors is the 0-based sentence index in `sentences`; the first problem found
/// is reported.
pub fn validate(
    sentences: &[Sentence],
    source: &str,
    schema: Option<&LabelSchema>,
) -> Result<(), DataError> {
    for (index, sentence) in sentences.iter().enumerate() {
        let invalid = |message: String| DataError::Invalid {
            path: source.to_owned(),
            index,
            message,
        };
        let n = sentence.tokens.len();
        if n == 0 {
            return Err(invalid("has no tokens".to_owned()));
        }
        for (k, e) in sentence.entities.iter().enumerate() {
            if e.start >= e.end {
                return Err(invalid(format!(
                    "entity {k} ({:?}) has start {} not before end {}",
                    e.label, e.start, e.end
                )));
            }
            if e.end > n {
                return Err(invalid(format!(
                    "entity {k} ({:?}) ends at {} beyond the {n} tokens",
                    e.label, e.end
                )));
            }
            if let Some(schema) = schema {
                if schema.entity_index(&e.label).is_none() {
                    return Err(invalid(format!(
                        "entity {k} has unknown type {:?}",
                        e.label
                    )));
                }
            }
        }
        let m = sentence.entities.len();
        for (k, r) in sentence.relations.iter().enumerate() {
            for (role, target) in [("head", r.head), ("tail", r.tail)] {
                if target >= m {
                    return Err(invalid(format!(
                        "relation {k} ({:?}) {role} {target} points at no entity ({m} entities)",
                        r.label
                    )));
                }
            }
            if let Some(schema) = schema {
                if schema.relation_index(&r.label).is_none() {
                    return Err(invalid(format!(
                        "relation {k} has unknown type {:?}",
                        r.label
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Truncates a sentence to at most `max_words` words (the paper uses 128): entities that do
/// not fit entirely are dropped, relations touching a dropped entity are dropped, and the
/// remaining relations' indexes are remapped.
pub fn truncate(sentence: &Sentence, max_words: usize) -> Sentence {
    if sentence.tokens.len() <= max_words {
        return sentence.clone();
    }
    let mut new_index = vec![None; sentence.entities.len()];
    let mut entities = Vec::new();
    for (k, e) in sentence.entities.iter().enumerate() {
        if e.end <= max_words {
            new_index[k] = Some(entities.len());
            entities.push(e.clone());
        }
    }
    let relations = sentence
        .relations
        .iter()
        .filter_map(|r| {
            let head = (*new_index.get(r.head)?)?;
            let tail = (*new_index.get(r.tail)?)?;
            Some(Relation {
                label: r.label.clone(),
                head,
                tail,
            })
        })
        .collect();
    Sentence {
        tokens: sentence.tokens[..max_words].to_vec(),
        entities,
        relations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const SPERT_OK: &str = r#"[
      {"tokens": ["John", "Smith", "lives", "in", "New", "York", "."],
       "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Loc", "start": 4, "end": 6}],
       "relations": [{"type": "Live_In", "head": 0, "tail": 1}],
       "orig_id": 17},
      {"tokens": ["Nothing", "here"], "entities": [], "relations": []}
    ]"#;

    fn ent(label: &str, start: usize, end: usize) -> Entity {
        Entity {
            label: label.into(),
            start,
            end,
        }
    }

    fn rel(label: &str, head: usize, tail: usize) -> Relation {
        Relation {
            label: label.into(),
            head,
            tail,
        }
    }

    fn sent(n: usize, entities: Vec<Entity>, relations: Vec<Relation>) -> Sentence {
        Sentence {
            tokens: (0..n).map(|i| format!("w{i}")).collect(),
            entities,
            relations,
        }
    }

    fn expect_invalid(result: Result<(), DataError>, index: usize, needle: &str) {
        match result {
            Err(err @ DataError::Invalid { index: i, .. }) => {
                assert_eq!(i, index, "{err}");
                let text = err.to_string();
                assert!(text.contains(&format!("sentence {index}")), "{text}");
                assert!(text.contains(needle), "{text} lacks {needle:?}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn parses_spert_and_ignores_extra_keys() {
        let s = parse_spert(SPERT_OK, "mem.json").expect("valid");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens[4], "New");
        assert_eq!(s[0].entities, vec![ent("Peop", 0, 2), ent("Loc", 4, 6)]);
        assert_eq!(s[0].relations, vec![rel("Live_In", 0, 1)]);
        assert!(s[1].entities.is_empty() && s[1].relations.is_empty());
        // Round trip keeps the SpERT key names.
        let json = serde_json::to_string(&s).expect("serialize");
        assert!(json.contains(r#""type":"Peop""#));
        assert_eq!(parse_spert(&json, "again").expect("round trip"), s);
    }

    #[test]
    fn spert_missing_relation_keys_default_to_empty() {
        let s = parse_spert(r#"[{"tokens": ["a", "b"]}]"#, "x").expect("valid");
        assert!(s[0].entities.is_empty() && s[0].relations.is_empty());
    }

    #[test]
    fn spert_syntax_errors() {
        for (text, needle) in [
            ("[{\"tokens\": [\"a\"", "line"),
            ("{\"tokens\": []}", "JSON array"),
            (
                r#"[{"tokens": ["a"]}, {"tokens": ["b"], "entities": [{"type": "X", "start": -1, "end": 1}]}]"#,
                "sentence 1",
            ),
            (r#"[{"tokens": ["a"]}, {"entities": []}]"#, "sentence 1"),
        ] {
            match parse_spert(text, "bad.json") {
                Err(err @ DataError::Syntax { format, .. }) => {
                    assert_eq!(format, SPERT);
                    let msg = err.to_string();
                    assert!(msg.starts_with("bad.json: not valid SpERT JSON"), "{msg}");
                    assert!(msg.contains(needle), "{msg} lacks {needle:?}");
                }
                other => panic!("expected Syntax for {text}, got {other:?}"),
            }
        }
    }

    #[test]
    fn spert_invalid_sentence_is_reported_with_index() {
        let text = r#"[{"tokens": ["a", "b"]},
                       {"tokens": ["a", "b"], "entities": [{"type": "X", "start": 1, "end": 3}]}]"#;
        let err = parse_spert(text, "f.json").expect_err("out of range");
        expect_invalid(Err(err), 1, "beyond the 2 tokens");
    }

    #[test]
    fn validate_error_cases() {
        let ok = sent(
            3,
            vec![ent("A", 0, 1), ent("B", 1, 3)],
            vec![rel("R", 0, 1)],
        );
        let schema = LabelSchema {
            entity_types: vec!["A".into(), "B".into()],
            relation_types: vec!["R".into()],
            nested_entities: None,
            same_type_overlaps: None,
            hyphens_split: None,
            slashes_split: None,
            titled_names: None,
            capitalized_types: None,
            relation_signatures: None,
        };
        assert!(validate(std::slice::from_ref(&ok), "f", Some(&schema)).is_ok());

        let check = |bad: Sentence, schema: Option<&LabelSchema>, needle: &str| {
            let data = vec![ok.clone(), ok.clone(), bad];
            expect_invalid(validate(&data, "f", schema), 2, needle);
        };
        check(sent(0, vec![], vec![]), None, "no tokens");
        check(
            sent(3, vec![ent("A", 2, 2)], vec![]),
            None,
            "not before end",
        );
        check(
            sent(3, vec![ent("A", 2, 1)], vec![]),
            None,
            "not before end",
        );
        check(
            sent(3, vec![ent("A", 1, 4)], vec![]),
            None,
            "beyond the 3 tokens",
        );
        check(
            sent(3, vec![ent("A", 0, 1)], vec![rel("R", 1, 0)]),
            None,
            "head 1 points at no entity",
        );
        check(
            sent(3, vec![ent("A", 0, 1)], vec![rel("R", 0, 5)]),
            None,
            "tail 5 points at no entity",
        );
        check(
            sent(3, vec![ent("C", 0, 1)], vec![]),
            Some(&schema),
            "unknown type \"C\"",
        );
        check(
            sent(
                3,
                vec![ent("A", 0, 1), ent("B", 1, 2)],
                vec![rel("S", 0, 1)],
            ),
            Some(&schema),
            "unknown type \"S\"",
        );
        // Unknown types pass without a schema.
        let unknown = sent(3, vec![ent("C", 0, 1)], vec![]);
        assert!(validate(&[unknown], "f", None).is_ok());
    }

    #[test]
    fn truncate_drops_and_remaps() {
        let s = sent(
            10,
            vec![
                ent("A", 0, 2),  // kept -> 0
                ent("B", 7, 11), // dropped (crosses the limit) -- invalid but tolerated
                ent("B", 3, 5),  // kept -> 1
                ent("A", 5, 7),  // dropped: end 7 > 6
                ent("A", 4, 6),  // kept -> 2 (ends exactly at the limit)
            ],
            vec![
                rel("R", 0, 2),
                rel("R", 1, 0),
                rel("S", 4, 2),
                rel("R", 3, 4),
                rel("S", 2, 0),
            ],
        );
        let t = truncate(&s, 6);
        assert_eq!(t.tokens.len(), 6);
        assert_eq!(t.tokens[5], "w5");
        assert_eq!(
            t.entities,
            vec![ent("A", 0, 2), ent("B", 3, 5), ent("A", 4, 6)]
        );
        assert_eq!(
            t.relations,
            vec![rel("R", 0, 1), rel("S", 2, 1), rel("S", 1, 0)]
        );
        // Short sentences come back unchanged.
        assert_eq!(truncate(&s, 10), s);
        assert_eq!(truncate(&s, 128), s);
    }

    #[test]
    fn truncate_random_invariants() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let n = rng.random_range(1..20);
            let entities: Vec<Entity> = (0..rng.random_range(0..6))
                .map(|i| {
                    let start = rng.random_range(0..n);
                    let end = rng.random_range(start + 1..=n);
                    ent(&format!("E{i}"), start, end)
                })
                .collect();
            let relations: Vec<Relation> = if entities.is_empty() {
                vec![]
            } else {
                (0..rng.random_range(0..6))
                    .map(|i| {
                        rel(
                            &format!("R{i}"),
                            rng.random_range(0..entities.len()),
                            rng.random_range(0..entities.len()),
                        )
                    })
                    .collect()
            };
            let s = sent(n, entities, relations);
            let max = rng.random_range(0..n + 2);
            let t = truncate(&s, max);
            assert_eq!(t.tokens.len(), n.min(max));
            if max > 0 {
                validate(std::slice::from_ref(&t), "t", None).expect("truncated stays valid");
            }
            // Every surviving relation names the same (label, head entity, tail entity).
            let expected: Vec<(String, Entity, Entity)> = s
                .relations
                .iter()
                .map(|r| {
                    (
                        r.label.clone(),
                        s.entities[r.head].clone(),
                        s.entities[r.tail].clone(),
                    )
                })
                .filter(|(_, h, t)| h.end <= max && t.end <= max)
                .collect();
            let got: Vec<(String, Entity, Entity)> = t
                .relations
                .iter()
                .map(|r| {
                    (
                        r.label.clone(),
                        t.entities[r.head].clone(),
                        t.entities[r.tail].clone(),
                    )
                })
                .collect();
            assert_eq!(got, expected);
            let kept: Vec<&Entity> = s.entities.iter().filter(|e| e.end <= max).collect();
            assert_eq!(t.entities.iter().collect::<Vec<_>>(), kept);
        }
    }

    #[test]
    fn swapped_mentions_keep_types_relations_and_the_words_around_them() {
        let s = |t: &str, ents: &[(&str, usize, usize)], rels: &[(usize, usize)]| {
            let rels: Vec<(&str, usize, usize)> = rels.iter().map(|&(h, t)| ("R", h, t)).collect();
            crate::testing::sentence(t, ents, &rels)
        };
        let all = vec![
            s(
                "Oracle is based in Austin , Texas .",
                &[("Org", 0, 1), ("Loc", 4, 5), ("Loc", 6, 7)],
                &[(0, 1)],
            ),
            s(
                "Wells Fargo hired Ann Lee in 1990 .",
                &[("Org", 0, 2), ("Peop", 3, 5), ("Other", 6, 7)],
                &[(1, 0)],
            ),
            s("He met New York City officials .", &[("Loc", 2, 5)], &[]),
        ];
        let types: Vec<String> = ["Loc", "Org", "Peop"].map(String::from).to_vec();
        assert_eq!(swap_mentions(&all, &types, 0.0, 1), all);
        assert_eq!(swap_mentions(&all, &[], 1.0, 1), all);
        let swapped = swap_mentions(&all, &types, 1.0, 7);
        assert_eq!(swapped, swap_mentions(&all, &types, 1.0, 7), "seeded");
        let names = |label: &str| -> Vec<Vec<String>> {
            all.iter()
                .flat_map(|x| {
                    x.entities
                        .iter()
                        .filter(|e| e.label == label)
                        .map(|e| x.tokens[e.start..e.end].to_vec())
                })
                .collect()
        };
        for (new, old) in swapped.iter().zip(&all) {
            assert_eq!(new.relations, old.relations);
            assert_eq!(new.entities.len(), old.entities.len());
            for (e, o) in new.entities.iter().zip(&old.entities) {
                assert_eq!(e.label, o.label);
                let words = new.tokens[e.start..e.end].to_vec();
                if o.label == "Other" {
                    // Types outside `types` keep their words.
                    assert_eq!(words, old.tokens[o.start..o.end].to_vec());
                } else {
                    assert!(names(&o.label).contains(&words), "{words:?}");
                }
            }
            // The words outside mentions are the same, in the same order.
            let outside = |x: &Sentence| -> Vec<String> {
                (0..x.tokens.len())
                    .filter(|&k| !x.entities.iter().any(|e| e.start <= k && k < e.end))
                    .map(|k| x.tokens[k].clone())
                    .collect()
            };
            assert_eq!(outside(new), outside(old));
        }
    }

    #[test]
    fn schema_is_sorted_deduplicated_and_deterministic() {
        let a = vec![
            sent(
                3,
                vec![ent("Org", 0, 1), ent("Loc", 1, 2)],
                vec![rel("Work", 0, 1)],
            ),
            sent(
                3,
                vec![ent("Peop", 0, 1), ent("Loc", 2, 3)],
                vec![rel("Live", 0, 1)],
            ),
        ];
        let b = vec![sent(
            2,
            vec![ent("Org", 0, 1), ent("Org", 1, 2)],
            vec![rel("Work", 1, 0)],
        )];
        let schema = LabelSchema::from_sentences([a.as_slice(), b.as_slice()]);
        assert_eq!(schema.entity_types, vec!["Loc", "Org", "Peop"]);
        assert_eq!(schema.relation_types, vec!["Live", "Work"]);
        assert_eq!(schema.nested_entities, Some(false));
        let nested = vec![sent(3, vec![ent("Org", 0, 2), ent("Loc", 1, 2)], vec![])];
        assert!(has_overlapping_entities(&nested[0]));
        let with_nested = LabelSchema::from_sentences([a.as_slice(), nested.as_slice()]);
        assert_eq!(with_nested.nested_entities, Some(true));
        // Overlaps of one type count when more than one pair per hundred entities has one:
        // one pair among the 6 entities here, and not among 202.
        let same = vec![sent(3, vec![ent("Org", 0, 2), ent("Org", 1, 2)], vec![])];
        let schema_same = LabelSchema::from_sentences([a.as_slice(), same.as_slice()]);
        assert_eq!(schema_same.same_type_overlaps, Some(true));
        let many: Vec<Sentence> = (0..100)
            .map(|_| sent(3, vec![ent("Org", 0, 1), ent("Loc", 2, 3)], vec![]))
            .collect();
        let rare = LabelSchema::from_sentences([many.as_slice(), same.as_slice()]);
        assert_eq!(rare.same_type_overlaps, Some(false));
        assert_eq!(known_same_type_overlaps("SciERC"), Some(false));
        // Types whose mentions hold a capital 99 times in 100 or more, seen 20 times or more.
        let mut capitals: Vec<Sentence> = (0..30)
            .map(|k| Sentence {
                tokens: ["Ann", "Lee", "runs", "a", "bakery", "in", "Ohio"]
                    .map(String::from)
                    .to_vec(),
                entities: vec![
                    ent("Peop", 0, 2),
                    ent("Org", 3, 5),
                    ent(if k < 10 { "Loc" } else { "Place" }, 6, 7),
                ],
                relations: vec![],
            })
            .collect();
        // One person of 30 without a capital: 29 in 30 is under 99 in 100.
        capitals[0].tokens[0] = "ann".into();
        capitals[0].tokens[1] = "lee".into();
        assert_eq!(
            LabelSchema::from_sentences([capitals.as_slice()]).capitalized_types,
            Some(vec!["Place".to_string()])
        );
        assert_eq!(known_capitalized_types("CoNLL04").map(|t| t.len()), Some(3));
        assert_eq!(known_capitalized_types("my-data"), None);
        assert_eq!(known_nested("CoNLL04"), Some(false));
        assert_eq!(known_nested("my-data"), None);
        assert_eq!(schema.hyphens_split, Some(false));
        assert_eq!(known_hyphens_split("ADE"), Some(true));
        assert_eq!(known_hyphens_split("my-data"), None);
        // No slash in the data: a slash is read as a word of its own.
        assert_eq!(schema.slashes_split, Some(true));
        assert_eq!(known_slashes_split("SciERC"), Some(false));
        assert_eq!(known_slashes_split("my-data"), None);
        // Names after titles: in the mention (`Sen. Bob Dole`, `Dole` after `President`) more
        // often than not, or not; no title at all says no.
        assert_eq!(schema.titled_names, Some(false));
        let titled = |entities: Vec<Entity>| Sentence {
            tokens: ["Sen.", "Bob", "Dole", "met", "President", "Lee"]
                .map(String::from)
                .to_vec(),
            entities,
            relations: vec![],
        };
        let names = [titled(vec![ent("Peop", 0, 3), ent("Peop", 5, 6)])];
        assert_eq!(
            LabelSchema::from_sentences([names.as_slice()]).titled_names,
            Some(true)
        );
        let half = [titled(vec![ent("Peop", 1, 3)])];
        assert_eq!(
            LabelSchema::from_sentences([half.as_slice()]).titled_names,
            Some(false)
        );
        assert_eq!(known_titled_names("CoNLL04"), Some(true));
        assert_eq!(known_titled_names("ade"), Some(false));
        assert_eq!(known_titled_names("my-data"), None);
        // Signatures: (relation, head type, tail type), sorted, each once.
        let sig = |r: &str, h: &str, t: &str| RelationSignature {
            relation: r.into(),
            head: h.into(),
            tail: t.into(),
        };
        assert_eq!(
            schema.relation_signatures,
            Some(vec![
                sig("Live", "Peop", "Loc"),
                sig("Work", "Org", "Loc"),
                sig("Work", "Org", "Org"),
            ])
        );
        let conll04 = known_relation_signatures("CoNLL04").unwrap();
        assert_eq!(conll04.len(), 5);
        assert!(conll04.contains(&sig("Work_For", "Peop", "Org")));
        assert_eq!(known_relation_signatures("ade").unwrap().len(), 1);
        assert!(known_relation_signatures("scierc").unwrap().len() > 100);
        assert_eq!(known_relation_signatures("my-data"), None);
        let words = |t: &[&str]| Sentence {
            tokens: t.iter().map(|w| w.to_string()).collect(),
            entities: vec![],
            relations: vec![],
        };
        let split = [
            words(&["Lithium", "-", "induced", "NDI"]),
            words(&["IFN", "-", "alpha"]),
        ];
        let joined = [
            words(&["Knight-Ridder", "-", "x"]),
            words(&["well-known", "-5"]),
        ];
        assert_eq!(
            LabelSchema::from_sentences([split.as_slice()]).hyphens_split,
            Some(true)
        );
        assert_eq!(
            LabelSchema::from_sentences([joined.as_slice()]).hyphens_split,
            Some(false)
        );
        let inside = [words(&["a", "parser/generator", "and/or", "x", "/"])];
        assert_eq!(
            LabelSchema::from_sentences([inside.as_slice()]).slashes_split,
            Some(false)
        );
        // Joined neighbours keep every entity and relation on the same words.
        let all = [a.clone(), b.clone()].concat();
        assert_eq!(join_neighbours(&all, 0.0, 1.0, 1), all);
        let joined = join_neighbours(&all, 1.0, 0.0, 1);
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[0].tokens.len(), 6);
        assert_eq!(joined[0].entities[2], ent("Peop", 3, 4));
        assert_eq!(joined[0].relations[1], rel("Live", 2, 3));
        assert_eq!(joined[1], b[0]);
        assert_eq!(
            join_neighbours(&all, 0.5, 0.5, 9),
            join_neighbours(&all, 0.5, 0.5, 9)
        );
        // Run on: the first sentence's full stop goes, and what follows moves back a word.
        let stopped = Sentence {
            tokens: ["Kim", "left", "."].map(String::from).to_vec(),
            entities: vec![ent("Peop", 0, 1)],
            relations: vec![],
        };
        let pair = [stopped.clone(), all[0].clone()];
        let run_on = join_neighbours(&pair, 1.0, 1.0, 1);
        assert_eq!(run_on[0].tokens.len(), 2 + all[0].tokens.len());
        assert_eq!(run_on[0].tokens[2], all[0].tokens[0]);
        let moved = &all[0].entities[0];
        assert_eq!(
            run_on[0].entities[1],
            ent(&moved.label, moved.start + 2, moved.end + 2)
        );
        let kept = join_neighbours(&pair, 1.0, 0.0, 1);
        assert_eq!(kept[0].tokens.len(), 3 + all[0].tokens.len());
        let reversed = LabelSchema::from_sentences([b.as_slice(), a.as_slice()]);
        assert_eq!(schema, reversed);
        assert_eq!(schema.entity_index("Org"), Some(1));
        assert_eq!(schema.entity_index("Misc"), None);
        assert_eq!(schema.relation_index("Work"), Some(1));
        assert_eq!(schema.relation_index("Kill"), None);
        let empty = LabelSchema::from_sentences([]);
        assert!(empty.entity_types.is_empty() && empty.relation_types.is_empty());
    }

    const DYGIE_OK: &str = concat!(
        r#"{"doc_key": "d1", "sentences": [["John", "Smith", "works", "for", "IBM", "."], ["He", "lives", "in", "Paris"]], "#,
        r#""ner": [[[0, 1, "PER"], [4, 4, "ORG"], [4, 4, "ORG"]], [[6, 6, "PER"], [9, 9, "GPE"], [9, 9, "LOC"]]], "#,
        r#""relations": [[[0, 1, 4, 4, "ORG-AFF"]], [[6, 6, 9, 9, "PHYS"]]], "clusters": []}"#,
        "\n\n   \n",
        r#"{"doc_key": "d2", "sentences": [["Quiet", "."]], "ner": [[]]}"#,
        "\n"
    );

    #[test]
    fn parses_dygie() {
        let s = parse_dygie(DYGIE_OK, "mem.jsonl").expect("valid");
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[0].tokens,
            vec!["John", "Smith", "works", "for", "IBM", "."]
        );
        // Duplicate (4, 4, ORG) merged; offsets local and end-exclusive.
        assert_eq!(s[0].entities, vec![ent("PER", 0, 2), ent("ORG", 4, 5)]);
        assert_eq!(s[0].relations, vec![rel("ORG-AFF", 0, 1)]);
        // Second sentence: global 6..=9 -> local; same span with two types stays two entities.
        assert_eq!(
            s[1].entities,
            vec![ent("PER", 0, 1), ent("GPE", 3, 4), ent("LOC", 3, 4)]
        );
        assert_eq!(s[1].relations, vec![rel("PHYS", 0, 1)]);
        // Absent relations mean none.
        assert_eq!(s[2], sent_tokens(&["Quiet", "."]));
    }

    fn sent_tokens(tokens: &[&str]) -> Sentence {
        Sentence {
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            entities: vec![],
            relations: vec![],
        }
    }

    #[test]
    fn dygie_errors() {
        let first = r#"{"doc_key": "a", "sentences": [["x", "y"], ["z"]], "ner": [[], []]}"#;
        // Bad JSON on line 3 (a blank line in between still counts as a line).
        let text = format!("{first}\n\n{{\"sentences\": [[\"a\"]\n");
        match parse_dygie(&text, "f.jsonl") {
            Err(err @ DataError::Syntax { .. }) => {
                let msg = err.to_string();
                assert!(
                    msg.contains("f.jsonl: not valid DyGIE++ JSONL: line 3"),
                    "{msg}"
                );
            }
            other => panic!("expected Syntax, got {other:?}"),
        }
        // Wrong number of ner lists.
        let text = format!(
            "{first}\n{}",
            r#"{"sentences": [["a"], ["b"]], "ner": [[]]}"#
        );
        match parse_dygie(&text, "f.jsonl") {
            Err(err @ DataError::Syntax { .. }) => {
                let msg = err.to_string();
                assert!(
                    msg.contains("line 2") && msg.contains("2 sentences but 1 \"ner\""),
                    "{msg}"
                );
            }
            other => panic!("expected Syntax, got {other:?}"),
        }
        let with_second = |doc: &str| parse_dygie(&format!("{first}\n{doc}\n"), "f.jsonl");
        // Relation pointing at an unannotated span: sentence index counts across documents.
        let err = with_second(
            r#"{"doc_key": "b", "sentences": [["a"], ["b", "c", "d"]], "ner": [[], [[1, 1, "X"], [3, 3, "Y"]]], "relations": [[], [[1, 1, 2, 3, "R"]]]}"#,
        )
        .expect_err("dangling relation");
        expect_invalid(Err(err), 3, "points at no entity");
        let err = with_second(
            r#"{"sentences": [["a"], ["b", "c", "d"]], "ner": [[], [[1, 1, "X"], [3, 3, "Y"]]], "relations": [[], [[1, 2, 3, 3, "R"]]]}"#,
        )
        .expect_err("dangling head");
        expect_invalid(Err(err), 3, "head span");
        // Entity outside its sentence (index 3 belongs to the second sentence).
        let err = with_second(
            r#"{"doc_key": "b", "sentences": [["a", "b", "c"], ["d"]], "ner": [[[2, 3, "X"]], []]}"#,
        )
        .expect_err("crosses sentences");
        expect_invalid(Err(err), 2, "outside this sentence");
        let msg =
            with_second(r#"{"doc_key": "b", "sentences": [["a", "b"]], "ner": [[[1, 0, "X"]]]}"#)
                .expect_err("reversed")
                .to_string();
        assert!(
            msg.contains("sentence 2") && msg.contains("line 2 (doc_key \"b\")"),
            "{msg}"
        );
        assert!(msg.contains("ends before it starts"), "{msg}");
        // Empty sentence.
        let err = with_second(r#"{"sentences": [["a"], []]}"#).expect_err("empty");
        expect_invalid(Err(err), 3, "no tokens");
    }

    struct TempFile(std::path::PathBuf);
    impl TempFile {
        fn new(name: &str, content: &str) -> Self {
            let path = std::env::temp_dir().join(format!("mge-data-{}-{name}", std::process::id()));
            std::fs::write(&path, content).expect("write temp file");
            TempFile(path)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn load_dataset_detects_format() {
        let jsonl = TempFile::new("a.jsonl", DYGIE_OK);
        assert_eq!(load_dataset(&jsonl.0).expect("jsonl").len(), 3);
        let dygie_as_json = TempFile::new("b.json", DYGIE_OK);
        assert_eq!(
            load_dataset(&dygie_as_json.0)
                .expect("dygie in .json")
                .len(),
            3
        );
        let spert = TempFile::new("c.json", SPERT_OK);
        assert_eq!(load_dataset(&spert.0).expect("spert").len(), 2);
        let bad = TempFile::new(
            "d.json",
            r#"[{"tokens": ["a"], "relations": [{"type": "R", "head": 0, "tail": 0}]}]"#,
        );
        let msg = load_dataset(&bad.0).expect_err("invalid").to_string();
        assert!(msg.contains("d.json: sentence 0:"), "{msg}");

        let missing = std::env::temp_dir().join("mge-data-definitely-missing.json");
        match load_dataset(&missing) {
            Err(err @ DataError::Io { .. }) => {
                assert!(err.to_string().contains("mge-data-definitely-missing.json"));
            }
            other => panic!("expected Io, got {other:?}"),
        }
    }

    fn check_real(
        path: &str,
        expected: &[(&str, usize)],
        entity_types: usize,
        relation_types: usize,
    ) {
        let mut sets = Vec::new();
        for (split, count) in expected {
            let file = Path::new(path).join(format!("{split}.json"));
            if !file.exists() {
                eprintln!("skipping: {} is absent", file.display());
                return;
            }
            let sentences = load_dataset(&file).expect("real dataset loads");
            assert_eq!(sentences.len(), *count, "{}", file.display());
            sets.push(sentences);
        }
        let schema = LabelSchema::from_sentences([sets[0].as_slice()]);
        assert_eq!(schema.entity_types.len(), entity_types);
        assert_eq!(schema.relation_types.len(), relation_types);
        for set in &sets {
            validate(set, path, Some(&schema)).expect("dev/test use the train types");
        }
    }

    #[test]
    fn loads_conll04() {
        check_real(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/conll04"),
            &[("train", 922), ("dev", 231), ("test", 288)],
            4,
            5,
        );
    }

    #[test]
    fn loads_scierc() {
        check_real(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/scierc"),
            &[("train", 1861), ("dev", 275), ("test", 551)],
            6,
            7,
        );
    }

    #[test]
    fn loads_ade_fold_0() {
        check_real(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/ade"),
            &[("split_0_train", 3845), ("split_0_test", 427)],
            2,
            1,
        );
    }
}
