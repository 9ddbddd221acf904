//! Long texts are processed in chunks of whole sentences, so the worker can report progress
//! and drop a stale request between chunks.

use mge::segment::{sentences, Segmenter};

/// A run of whole sentences of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Byte range in the text (for slicing).
    pub byte_start: usize,
    pub byte_end: usize,
    /// Char offset of the chunk in the text (to shift the chunk's offsets back).
    pub char_start: usize,
}

/// Splits `text` at the sentence boundaries the extractor uses ([`Segmenter::Rules`]: not
/// after abbreviations or initials) into chunks of at most `max_chars` chars; a sentence
/// longer than that is a chunk of its own (the extractor windows it). The white space
/// between chunks belongs to none.
pub fn sentence_chunks(text: &str, max_chars: usize) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut current: Option<(Chunk, usize)> = None; // (chunk, its first char past the end)
    for s in sentences(text, Segmenter::Rules) {
        let end_char = s.char_start + s.text.chars().count();
        let byte_end = s.byte_start + s.text.len();
        current = match current {
            Some((mut c, _)) if end_char - c.char_start <= max_chars => {
                c.byte_end = byte_end;
                Some((c, end_char))
            }
            other => {
                if let Some((c, _)) = other {
                    chunks.push(c);
                }
                let c = Chunk {
                    byte_start: s.byte_start,
                    byte_end,
                    char_start: s.char_start,
                };
                Some((c, end_char))
            }
        };
    }
    chunks.extend(current.map(|(c, _)| c));
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces<'a>(text: &'a str, chunks: &[Chunk]) -> Vec<&'a str> {
        chunks
            .iter()
            .map(|c| &text[c.byte_start..c.byte_end])
            .collect()
    }

    #[test]
    fn short_text_is_one_chunk() {
        let t = "One. Two. Three.";
        assert_eq!(pieces(t, &sentence_chunks(t, 100)), vec![t]);
    }

    #[test]
    fn sentences_are_grouped_up_to_the_limit() {
        let t = "Aaaa bbb. Cccc ddd. Eeee fff.";
        let c = sentence_chunks(t, 20);
        assert_eq!(pieces(t, &c), vec!["Aaaa bbb. Cccc ddd. ", "Eeee fff."]);
        assert_eq!(c[1].char_start, 20);
    }

    #[test]
    fn abbreviations_and_initials_stay_inside_a_chunk() {
        let t = "Franklin D. Roosevelt was born in Hyde Park, N.Y., in 1882. He died in 1945.";
        let c = sentence_chunks(t, 20);
        assert_eq!(
            pieces(t, &c),
            vec![
                "Franklin D. Roosevelt was born in Hyde Park, N.Y., in 1882. ",
                "He died in 1945."
            ]
        );
    }

    #[test]
    fn char_offsets_count_chars() {
        let t = "Zoë läuft. Jürgen schläft.";
        let c = sentence_chunks(t, 5);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].char_start, "Zoë läuft. ".chars().count());
        assert_ne!(c[1].char_start, c[1].byte_start);
    }

    #[test]
    fn a_long_sentence_is_its_own_chunk_and_blank_text_has_none() {
        let t = "Short. This sentence is much longer than the limit. End.";
        let c = sentence_chunks(t, 10);
        assert_eq!(
            pieces(t, &c),
            vec![
                "Short. ",
                "This sentence is much longer than the limit. ",
                "End."
            ]
        );
        assert!(sentence_chunks("  \n ", 10).is_empty());
        assert!(sentence_chunks("", 10).is_empty());
    }
}
