//! Sub-token alignment: from dataset words (spans on words) and from raw text (spans on
//! characters), both through a Hugging Face `tokenizer.json`.

use tokenizers::{EncodeInput, InputSequence, Tokenizer};

use crate::error::{Error, Result};

/// A tokenizer with padding and truncation switched off (the MiniLM `tokenizer.json` pads
/// every input to 128) and the ids of its special tokens.
#[derive(Clone)]
pub struct SubwordTokenizer {
    inner: Tokenizer,
    cls: u32,
    sep: u32,
    unk: u32,
    pad: u32,
}

/// A word sequence as sub-tokens: `[CLS] pieces… [SEP]` with the sub-token range of each word.
#[derive(Debug, Clone, PartialEq)]
pub struct WordPieces {
    pub ids: Vec<u32>,
    /// Position (in `ids`) of each word's first sub-token.
    pub word_first: Vec<usize>,
    /// Position of each word's last sub-token.
    pub word_last: Vec<usize>,
    /// The word of each position (`None` for `[CLS]` and `[SEP]`).
    pub token_word: Vec<Option<usize>>,
}

/// Raw text as sub-tokens with the character range of each.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPieces {
    pub ids: Vec<u32>,
    /// Character (Unicode scalar value) range of each position; `(0, 0)` for specials.
    pub offsets: Vec<(usize, usize)>,
}

impl SubwordTokenizer {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut inner = Tokenizer::from_bytes(bytes)?;
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let id = |tok: &str| {
            inner
                .token_to_id(tok)
                .ok_or_else(|| Error::Tokenizer(format!("the vocabulary has no {tok} token")))
        };
        let (cls, sep, unk) = (id("[CLS]")?, id("[SEP]")?, id("[UNK]")?);
        let pad = inner.token_to_id("[PAD]").unwrap_or(0);
        Ok(Self {
            inner,
            cls,
            sep,
            unk,
            pad,
        })
    }

    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// The vocabulary entry of an id (`##ing`, `[CLS]`…).
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The tokenizer as JSON (for checkpoints and bundles).
    pub fn to_json(&self) -> Result<String> {
        self.inner
            .to_string(false)
            .map_err(|e| Error::Tokenizer(e.to_string()))
    }

    /// Tokenizes pre-split words. Words are dropped from the end until the sequence fits in
    /// `max_len` positions; the returned `word_first.len()` says how many words were kept.
    /// A word the tokenizer turns into nothing (a lone control character) becomes `[UNK]`.
    pub fn encode_words(&self, words: &[String], max_len: usize) -> Result<WordPieces> {
        let input: Vec<&str> = words.iter().map(String::as_str).collect();
        let enc = self.inner.encode(
            EncodeInput::Single(InputSequence::PreTokenized(input.into())),
            false,
        )?;
        let mut pieces: Vec<Vec<u32>> = vec![Vec::new(); words.len()];
        for (id, word) in enc.get_ids().iter().zip(enc.get_word_ids()) {
            if let Some(w) = word.and_then(|w| pieces.get_mut(w as usize)) {
                w.push(*id);
            }
        }
        let mut out = WordPieces {
            ids: vec![self.cls],
            word_first: Vec::with_capacity(words.len()),
            word_last: Vec::with_capacity(words.len()),
            token_word: vec![None],
        };
        for (w, p) in pieces.iter().enumerate() {
            let p: &[u32] = if p.is_empty() {
                std::slice::from_ref(&self.unk)
            } else {
                p
            };
            if out.ids.len() + p.len() + 1 > max_len {
                break;
            }
            out.word_first.push(out.ids.len());
            out.ids.extend_from_slice(p);
            out.word_last.push(out.ids.len() - 1);
            out.token_word.extend(std::iter::repeat_n(Some(w), p.len()));
        }
        out.ids.push(self.sep);
        out.token_word.push(None);
        Ok(out)
    }

    /// Tokenizes raw text, keeping at most `max_len - 2` sub-tokens (the caller splits long
    /// text beforehand). Offsets are in characters of `text`.
    pub fn encode_text(&self, text: &str, max_len: usize) -> Result<TextPieces> {
        let enc = self.inner.encode_char_offsets(text, false)?;
        let keep = enc.get_ids().len().min(max_len.saturating_sub(2));
        let mut ids = Vec::with_capacity(keep + 2);
        let mut offsets = Vec::with_capacity(keep + 2);
        ids.push(self.cls);
        offsets.push((0, 0));
        ids.extend_from_slice(&enc.get_ids()[..keep]);
        offsets.extend_from_slice(&enc.get_offsets()[..keep]);
        ids.push(self.sep);
        offsets.push((0, 0));
        Ok(TextPieces { ids, offsets })
    }
}

/// A word-level tokenizer JSON for tests: WordPiece over the given vocabulary, lower-casing
/// BERT normalizer and pre-tokenizer. The vocabulary gets the special tokens first.
pub fn test_tokenizer_json(words: &[&str]) -> String {
    let mut vocab = serde_json::Map::new();
    for (i, w) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .chain(words.iter())
        .enumerate()
    {
        vocab.insert((*w).to_string(), serde_json::Value::from(i));
    }
    serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> SubwordTokenizer {
        let json = test_tokenizer_json(&[
            "john", "lives", "in", "new", "york", "york", "##shire", "é", ".",
        ]);
        SubwordTokenizer::from_bytes(json.as_bytes()).unwrap()
    }

    #[test]
    fn words_map_to_first_and_last_pieces() {
        let t = tok();
        let words: Vec<String> = ["John", "lives", "in", "Yorkshire", "."]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = t.encode_words(&words, 64).unwrap();
        assert_eq!(p.ids.len(), 1 + 6 + 1);
        assert_eq!(p.word_first, vec![1, 2, 3, 4, 6]);
        assert_eq!(p.word_last, vec![1, 2, 3, 5, 6]);
        assert_eq!(p.token_word[5], Some(3));
        assert_eq!(p.token_word[0], None);
        assert_eq!(*p.token_word.last().unwrap(), None);
    }

    #[test]
    fn empty_words_become_unk_and_long_input_is_cut_at_word_boundaries() {
        let t = tok();
        let words: Vec<String> = ["john", "\u{200b}", "yorkshire", "in"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = t.encode_words(&words, 64).unwrap();
        assert_eq!(p.word_first.len(), 4);
        assert_eq!(p.ids[2], 1, "zero-width space is [UNK]");
        let cut = t.encode_words(&words, 5).unwrap();
        // [CLS] john [UNK] york ##shire would need 6 with [SEP]: keep two words.
        assert_eq!(cut.word_first.len(), 2);
        assert_eq!(cut.ids.len(), 4);
    }

    #[test]
    fn text_offsets_are_characters() {
        let t = tok();
        let p = t.encode_text("é john  lives", 64).unwrap();
        assert_eq!(p.offsets[1], (0, 1));
        assert_eq!(p.offsets[2], (2, 6));
        assert_eq!(p.offsets[3], (8, 13));
        assert_eq!(p.offsets.len(), p.ids.len());
    }
}
