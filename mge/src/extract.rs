//! Extraction from raw text: the one result schema every front end (command line, browser,
//! server) speaks.
//!
//! Text of any length is split into sentences (Unicode sentence boundaries, UAX #29), each
//! sentence into windows that fit the encoder, and the windows run in batches. Offsets in
//! the result are in Unicode scalar values (chars) of the original text, `end` exclusive.

use candle_core::Device;
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::bundle::{read_bundle, BundleError, BundleInfo};
use crate::error::Result;
use crate::model::{Batch, MgeModel};
use crate::table::decode;
use crate::tokenize::SubwordTokenizer;

/// An entity mention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityMention {
    pub start: usize,
    pub end: usize,
    pub text: String,
    #[serde(rename = "type")]
    pub label: String,
    pub score: f32,
}

/// A relation between two mentions (indexes into `entities`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationMention {
    pub head: usize,
    pub tail: usize,
    #[serde(rename = "type")]
    pub label: String,
    pub score: f32,
}

/// The result for one text, sorted by position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub text: String,
    pub entities: Vec<EntityMention>,
    pub relations: Vec<RelationMention>,
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
}

/// A model and its tokenizer, ready to extract from raw text.
pub struct Extractor {
    model: MgeModel,
    tokenizer: SubwordTokenizer,
    device: Device,
    /// Decision threshold on probabilities (the model's, 0.5 by default).
    pub threshold: f32,
    /// Sub-tokens per window, specials included.
    pub max_len: usize,
    /// Windows per forward pass.
    pub batch_size: usize,
    info: Option<BundleInfo>,
}

impl Extractor {
    pub fn new(model: MgeModel, tokenizer: SubwordTokenizer, device: Device) -> Self {
        let threshold = model.config.mge.threshold;
        let max_len = model.config.bert.max_position_embeddings.min(512);
        Self {
            model,
            tokenizer,
            device,
            threshold,
            max_len,
            batch_size: 16,
            info: None,
        }
    }

    /// Builds an extractor from the bytes of a bundle (no file system needed).
    pub fn from_bundle(bytes: &[u8], device: Device) -> std::result::Result<Self, LoadError> {
        let (info, tensors) = read_bundle(bytes, &device)?;
        let model = MgeModel::load(&tensors, &info.config)?;
        let tokenizer = SubwordTokenizer::from_bytes(info.tokenizer_json.as_bytes())?;
        let mut ex = Self::new(model, tokenizer, device);
        ex.info = Some(info);
        Ok(ex)
    }

    /// The bundle's metadata, when built from one.
    pub fn info(&self) -> Option<&BundleInfo> {
        self.info.as_ref()
    }

    pub fn model(&self) -> &MgeModel {
        &self.model
    }

    /// Extracts from one text.
    pub fn extract(&self, text: &str) -> Result<Extraction> {
        Ok(self.extract_many(&[text])?.pop().unwrap_or_default())
    }

    /// Extracts from several texts, batching their sentences together.
    pub fn extract_many(&self, texts: &[&str]) -> Result<Vec<Extraction>> {
        let mut windows = Vec::new();
        for (k, text) in texts.iter().enumerate() {
            self.windows(k, text, &mut windows)?;
        }
        let mut found: Vec<Vec<EntityMention>> = vec![Vec::new(); texts.len()];
        let mut rels: Vec<Vec<(usize, usize, usize, f32)>> = vec![Vec::new(); texts.len()];
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].ids.len());
        let labels = &self.model.config.labels;
        for chunk in order.chunks(self.batch_size.max(1)) {
            let seqs: Vec<&[u32]> = chunk.iter().map(|&i| windows[i].ids.as_slice()).collect();
            let batch = Batch::new(&seqs, self.tokenizer.pad_id(), &self.device)?;
            let out = self.model.forward(&batch, None)?;
            for (b, d) in decode(&out, &batch, self.threshold)?
                .into_iter()
                .enumerate()
            {
                let w = &windows[chunk[b]];
                let chars: Vec<char> = texts[w.text].chars().collect();
                let base = found[w.text].len();
                for e in &d.entities {
                    let (start, end) = (w.offsets[e.i].0, w.offsets[e.j].1);
                    found[w.text].push(EntityMention {
                        start,
                        end,
                        text: chars[start.min(chars.len())..end.min(chars.len())]
                            .iter()
                            .collect(),
                        label: labels
                            .entity_types
                            .get(e.label)
                            .cloned()
                            .unwrap_or_default(),
                        score: e.score,
                    });
                }
                for t in d.triples() {
                    rels[w.text].push((base + t.head, base + t.tail, t.label, t.score));
                }
            }
        }
        Ok(texts
            .iter()
            .zip(found.into_iter().zip(rels))
            .map(|(text, (ents, rels))| assemble(text, ents, rels, labels))
            .collect())
    }

    /// Sentences of `text`, each cut into windows that fit the encoder.
    fn windows(&self, k: usize, text: &str, out: &mut Vec<Window>) -> Result<()> {
        let room = self.max_len.saturating_sub(2).max(1);
        let mut char_start = 0;
        for sentence in text.split_sentence_bounds() {
            let sentence_start = char_start;
            char_start += sentence.chars().count();
            if sentence.trim().is_empty() {
                continue;
            }
            let char_start = sentence_start;
            let pieces = self.tokenizer.encode_text(sentence, usize::MAX)?;
            let ids = &pieces.ids[1..pieces.ids.len() - 1];
            let offsets = &pieces.offsets[1..pieces.offsets.len() - 1];
            for (ids, offs) in ids.chunks(room).zip(offsets.chunks(room)) {
                let mut w = Window {
                    text: k,
                    ids: Vec::with_capacity(ids.len() + 2),
                    offsets: Vec::with_capacity(ids.len() + 2),
                };
                w.ids.push(pieces.ids[0]);
                w.offsets.push((0, 0));
                w.ids.extend_from_slice(ids);
                w.offsets
                    .extend(offs.iter().map(|&(s, e)| (s + char_start, e + char_start)));
                w.ids.push(pieces.ids[pieces.ids.len() - 1]);
                w.offsets.push((0, 0));
                out.push(w);
            }
        }
        Ok(())
    }
}

/// Sorts mentions by position, merges duplicates (keeping the higher score) and remaps the
/// relations onto the sorted list.
fn assemble(
    text: &str,
    entities: Vec<EntityMention>,
    relations: Vec<(usize, usize, usize, f32)>,
    labels: &crate::data::LabelSchema,
) -> Extraction {
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
    let mut best: std::collections::BTreeMap<(usize, usize, usize), f32> = Default::default();
    for (h, t, l, score) in relations {
        let slot = best.entry((new_index[h], new_index[t], l)).or_insert(score);
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
        let mut ex = Extractor::new(MgeModel::load(&map, &cfg).unwrap(), tok, Device::Cpu);
        ex.threshold = threshold;
        ex
    }

    #[test]
    fn every_span_has_exact_char_offsets_on_awkward_text() {
        // Threshold 0 predicts every cell: all spans between sub-tokens are checked.
        let ex = extractor(0.0);
        let text = "😀 Mary\t\tworks  for   Acme Corp.\nJohn Smith lives in Parïs, é!";
        let r = ex.extract(text).unwrap();
        let chars: Vec<char> = text.chars().collect();
        assert!(r.entities.len() > 50);
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
        for w in [
            "😀",
            "Mary",
            "Acme Corp",
            "works  for   Acme",
            "John Smith",
            "é",
        ] {
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
    fn empty_and_blank_text_give_empty_results() {
        let ex = extractor(0.5);
        for t in ["", "   \n\t "] {
            let r = ex.extract(t).unwrap();
            assert!(r.entities.is_empty() && r.relations.is_empty());
            assert_eq!(r.text, t);
        }
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
