//! `mge segment`: the sentences `mge extract` cuts a text into, without a model. For
//! checking how a text will reach the model, and for measuring the segmenter.

use std::io::{BufReader, Write};
use std::path::PathBuf;

use mge::segment::{sentences, Segmenter};
use serde::Serialize;

use crate::extract_cmd::{inputs, open_input, read_line, text_of};
use crate::Result;

#[derive(clap::Args)]
pub struct SegmentArgs {
    /// Input files, one document per line; standard input when none is given.
    files: Vec<PathBuf>,
    /// Input lines are JSON objects with a `text` field.
    #[arg(long)]
    jsonl: bool,
    /// How text is cut into sentences (as `mge extract --sentences`).
    #[arg(long, default_value = "rules")]
    sentences: Segmenter,
    /// One JSON object per document, `{"sentences": [{"start", "end", "text"}]}`, with
    /// character offsets into the document; otherwise one sentence per line and an empty
    /// line after each document.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Sentence<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

#[derive(Serialize)]
struct Document<'a> {
    sentences: Vec<Sentence<'a>>,
}

/// The sentences of one document as `--json` writes them.
fn document(text: &str, segmenter: Segmenter) -> Document<'_> {
    Document {
        sentences: sentences(text, segmenter)
            .into_iter()
            .map(|s| Sentence {
                start: s.char_start,
                end: s.char_start + s.text.chars().count(),
                text: s.text,
            })
            .collect(),
    }
}

pub fn run(a: &SegmentArgs) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for input in inputs(&a.files) {
        let (name, _, reader) = open_input(input)?;
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        let mut line = 0;
        while let Some(l) = {
            line += 1;
            read_line(&mut reader, &mut buf, &name, line)?
        } {
            let text = text_of(l, a.jsonl, &name, line)?;
            let doc = document(&text, a.sentences);
            if a.json {
                serde_json::to_writer(&mut out, &doc)?;
                writeln!(out)?;
            } else {
                for s in &doc.sentences {
                    writeln!(out, "{}", s.text.trim())?;
                }
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_characters_and_cover_each_sentence() {
        let text = "Zoë met Dr. Smith in Paris. He left.";
        let doc = document(text, Segmenter::Rules);
        let chars: Vec<char> = text.chars().collect();
        let got: Vec<String> = doc
            .sentences
            .iter()
            .map(|s| chars[s.start..s.end].iter().collect())
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("Zoë met Dr. Smith in Paris."));
        assert_eq!(got[1].trim(), "He left.");
    }
}
