//! Long texts are processed in chunks of whole sentences, so the worker can report progress
//! and drop a stale request between chunks.

use mge::extract::Extraction;
use mge::segment::{sentences, Segmenter};

/// A run of whole sentences of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Byte range in the text (for slicing).
    pub byte_start: usize,
    pub byte_end: usize,
    /// Char offset of the chunk in the text (to shift the chunk's offsets back).
    pub char_start: usize,
    /// Sentences in the chunk.
    pub sentences: usize,
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
                c.sentences += 1;
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
                    sentences: 1,
                };
                Some((c, end_char))
            }
        };
    }
    chunks.extend(current.map(|(c, _)| c));
    chunks
}

/// The next part of `text` from byte `from` (char `from_char`): whole sentences of at most
/// `max_chars` chars, found by segmenting only a window of that many chars, whose last
/// sentence, which the window's end may cut, begins the next part. A sentence longer than
/// the window is cut at its end. `None` when only white space is left.
pub fn next_part(text: &str, from: usize, from_char: usize, max_chars: usize) -> Option<Chunk> {
    let rest = text.get(from..)?;
    let window_end = rest
        .char_indices()
        .nth(max_chars)
        .map_or(rest.len(), |(b, _)| b);
    let window = &rest[..window_end];
    let spans = sentences(window, Segmenter::Rules);
    let first = spans.first()?;
    let whole = window_end == rest.len();
    let kept = if whole || spans.len() == 1 {
        spans.len()
    } else {
        spans.len() - 1
    };
    let last = &spans[kept - 1];
    let byte_end = if !whole && spans.len() == 1 {
        window_end
    } else {
        last.byte_start + last.text.len()
    };
    Some(Chunk {
        byte_start: from + first.byte_start,
        byte_end: from + byte_end,
        char_start: from_char + first.char_start,
        sentences: kept,
    })
}

/// Appends a chunk's extraction (offsets relative to the chunk, which begins at char
/// `char_start` of the whole text) to the whole text's; the text itself is not touched.
pub fn append_shifted(whole: &mut Extraction, part: Extraction, char_start: usize) {
    let base = whole.entities.len();
    whole
        .entities
        .extend(part.entities.into_iter().map(|mut e| {
            e.start += char_start;
            e.end += char_start;
            e
        }));
    whole
        .relations
        .extend(part.relations.into_iter().map(|mut r| {
            r.head += base;
            r.tail += base;
            r
        }));
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
    fn parts_found_in_windows_are_the_chunks_of_the_whole_text() {
        let t = "Franklin D. Roosevelt was born in Hyde Park, N.Y., in 1882. He died in 1945. \
                 The U.S. Navy hired Laura Kim. Jones was hired by Apple Inc. in Cupertino. End.";
        for max in [62, 75, 90, 500] {
            let (mut from, mut from_char, mut parts) = (0, 0, Vec::new());
            while let Some(p) = next_part(t, from, from_char, max) {
                assert!(p.byte_end > p.byte_start);
                from_char = p.char_start + t[p.byte_start..p.byte_end].chars().count();
                from = p.byte_end;
                parts.push(p);
            }
            // Pieces end at the whole text's sentence ends, and hold every sentence.
            let whole: Vec<usize> = sentences(t, Segmenter::Rules)
                .iter()
                .map(|s| s.byte_start + s.text.len())
                .collect();
            for p in &parts {
                assert!(
                    whole.contains(&p.byte_end),
                    "{max}: {:?}",
                    &t[p.byte_start..p.byte_end]
                );
                assert_eq!(t[..p.byte_start].chars().count(), p.char_start);
            }
            let n: usize = parts.iter().map(|p| p.sentences).sum();
            assert_eq!(n, whole.len(), "{max}");
        }
        // A sentence longer than the window is cut at the window's end.
        let long = "word ".repeat(30);
        let p = next_part(&long, 0, 0, 50).unwrap();
        assert_eq!((p.byte_start, p.byte_end), (0, 50));
        assert_eq!(next_part("  ", 0, 0, 50), None);
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
        assert_eq!((c[0].sentences, c[1].sentences), (2, 1));
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
