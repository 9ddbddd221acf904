//! Moving between word spans (datasets, evaluation) and sub-token table cells (the model).
//!
//! An entity on words `[s, e)` is the cell from the first sub-token of word `s` to the last
//! sub-token of word `e - 1`; a relation is the cell joining the first sub-tokens of its
//! subject and object. Decoded cells map back through the word of each sub-token.

use crate::data::{LabelSchema, Sentence};
use crate::error::Result;
use crate::metrics::{RelationCell, SentencePrediction, Span, Triple};
use crate::table::{CellLabel, TableDecoding};
use crate::tokenize::{SubwordTokenizer, WordPieces};

/// A dataset sentence ready for the model.
#[derive(Debug, Clone)]
pub struct Example {
    /// The sentence as trained and evaluated (cut to the words that fit).
    pub sentence: Sentence,
    pub pieces: WordPieces,
    pub ner: Vec<CellLabel>,
    pub re: Vec<CellLabel>,
}

impl Example {
    /// Tokenizes a sentence (already truncated to the word limit). If its sub-tokens exceed
    /// `max_len`, trailing words are dropped together with the entities and relations on them.
    pub fn new(
        sentence: &Sentence,
        tokenizer: &SubwordTokenizer,
        schema: &LabelSchema,
        max_len: usize,
    ) -> Result<Self> {
        let pieces = tokenizer.encode_words(&sentence.tokens, max_len)?;
        let kept = pieces.word_first.len();
        let sentence = if kept < sentence.tokens.len() {
            crate::data::truncate(sentence, kept)
        } else {
            sentence.clone()
        };
        let mut ner = Vec::new();
        for e in &sentence.entities {
            if let Some(label) = schema.entity_index(&e.label) {
                ner.push(CellLabel {
                    i: pieces.word_first[e.start],
                    j: pieces.word_last[e.end - 1],
                    label,
                });
            }
        }
        let mut re = Vec::new();
        for r in &sentence.relations {
            let (Some(label), Some(h), Some(t)) = (
                schema.relation_index(&r.label),
                sentence.entities.get(r.head),
                sentence.entities.get(r.tail),
            ) else {
                continue;
            };
            re.push(CellLabel {
                i: pieces.word_first[h.start],
                j: pieces.word_first[t.start],
                label,
            });
        }
        ner.sort();
        ner.dedup();
        re.sort();
        re.dedup();
        Ok(Self {
            sentence,
            pieces,
            ner,
            re,
        })
    }
}

/// Maps one decoded table back to word-level predictions for evaluation.
pub fn to_words(decoded: &TableDecoding, pieces: &WordPieces) -> SentencePrediction {
    let word = |pos: usize| pieces.token_word.get(pos).copied().flatten();
    let spans: Vec<Option<Span>> = decoded
        .entities
        .iter()
        .map(|c| match (word(c.i), word(c.j)) {
            (Some(s), Some(e)) if s <= e => Some(Span {
                start: s,
                end: e + 1,
                label: c.label,
            }),
            _ => None,
        })
        .collect();
    let mut pred = SentencePrediction {
        entities: spans.iter().flatten().copied().collect(),
        ..Default::default()
    };
    for t in decoded.triples() {
        if let (Some(head), Some(tail)) = (spans[t.head], spans[t.tail]) {
            pred.triples.push(Triple {
                head,
                tail,
                label: t.label,
            });
        }
    }
    // PFN-style cells: a relation cell counts only where predicted entities start at both ends.
    for r in &decoded.relations {
        let starts = |p: usize| decoded.entities.iter().any(|e| e.i == p);
        if let (true, true, Some(h), Some(t)) = (starts(r.i), starts(r.j), word(r.i), word(r.j)) {
            pred.cells.push(RelationCell {
                head_start: h,
                tail_start: t,
                label: r.label,
            });
        }
    }
    pred.entities.sort();
    pred.entities.dedup();
    pred.triples.sort();
    pred.triples.dedup();
    pred.cells.sort();
    pred.cells.dedup();
    pred
}

/// Prepares dataset sentences: truncated to `max_words` (the paper's 128), then tokenized
/// within `max_len` sub-tokens.
pub fn examples(
    sentences: &[Sentence],
    schema: &LabelSchema,
    tokenizer: &SubwordTokenizer,
    max_words: usize,
    max_len: usize,
) -> Result<Vec<Example>> {
    sentences
        .iter()
        .map(|s| {
            Example::new(
                &crate::data::truncate(s, max_words),
                tokenizer,
                schema,
                max_len,
            )
        })
        .collect()
}
