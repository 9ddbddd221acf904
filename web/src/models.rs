//! The models the page offers, their bundles and example sentences.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKey {
    Conll04,
    Scierc,
    Ade,
}

impl ModelKey {
    pub const ALL: [ModelKey; 3] = [ModelKey::Conll04, ModelKey::Scierc, ModelKey::Ade];

    /// The value used in links and in the picker (`conll04`, `scierc`, `ade`).
    pub fn key(self) -> &'static str {
        match self {
            ModelKey::Conll04 => "conll04",
            ModelKey::Scierc => "scierc",
            ModelKey::Ade => "ade",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.key().eq_ignore_ascii_case(key))
    }

    /// What the picker shows.
    pub fn label(self) -> &'static str {
        match self {
            ModelKey::Conll04 => "News (CoNLL04)",
            ModelKey::Scierc => "Science (SciERC)",
            ModelKey::Ade => "Medicine (ADE)",
        }
    }

    /// Where the bundle lies, relative to the page (trunk copies `models/` into `dist/`).
    pub fn bundle_url(self) -> &'static str {
        match self {
            ModelKey::Conll04 => "models/conll04.safetensors",
            ModelKey::Scierc => "models/scierc.safetensors",
            ModelKey::Ade => "models/ade.safetensors",
        }
    }

    /// Example sentences for the buttons under the text box.
    pub fn examples(self) -> &'static [&'static str] {
        match self {
            ModelKey::Conll04 => &[
                BENCH_SENTENCE,
                "John Wilkes Booth shot President Abraham Lincoln at Ford's Theatre in Washington.",
                "Siemens, based in Munich, hired Anna Keller as its chief engineer last spring.",
                "Dr. Peter Lindqvist, a surgeon at the Karolinska Institute in Stockholm, lives in Uppsala with his family.",
                "The Red Cross sent volunteers from Nairobi to the flooded villages of western Kenya.",
            ],
            ModelKey::Scierc => &[
                "We propose a graph-based parsing method for dependency parsing that outperforms transition-based parsers on the Penn Treebank.",
                "A convolutional neural network is used for image segmentation, and we evaluate it with mean intersection over union.",
                "Our speech recognition system combines acoustic models with a statistical language model trained on broadcast news.",
                "We compare support vector machines and decision trees for text classification on a corpus of product reviews.",
                "The alignment model exploits syntactic features of the source language to improve machine translation quality.",
            ],
            // Case-report style, as in the ADE corpus (drugs and the adverse effects a
            // report ties to them); written for this page.
            ModelKey::Ade => &[
                "A 62-year-old man developed severe hepatotoxicity two weeks after starting amiodarone.",
                "Acute renal failure was attributed to high-dose methotrexate in a patient with lymphoma.",
                "We report a case of Stevens-Johnson syndrome induced by carbamazepine.",
                "Treatment with lithium was complicated by nephrogenic diabetes insipidus and tremor.",
                "Prolonged QT interval and torsades de pointes occurred after intravenous haloperidol.",
            ],
        }
    }
}

/// Whether `text` is one of the examples of any model (as the buttons put it in the box).
pub fn is_example(text: &str) -> bool {
    ModelKey::ALL
        .iter()
        .any(|m| m.examples().iter().any(|e| e.trim() == text.trim()))
}

/// An example's button label: its first `words` words, then "…" when there are more.
pub fn example_name(text: &str, words: usize) -> String {
    // One word more than shown tells whether there are more (a document of megabytes is
    // not cut into all its words for its name).
    let all: Vec<&str> = text.split_whitespace().take(words + 1).collect();
    let mut name = all[..all.len().min(words)].join(" ");
    let name_end = name.trim_end_matches([',', ';', ':', '.']).len();
    name.truncate(name_end);
    if all.len() > words {
        name.push('…');
    }
    name
}

/// The sentence of the warm-latency benchmark (`?bench=1`).
pub const BENCH_SENTENCE: &str = "Maria Gonzalez, who has worked for the United Nations in Geneva since 2004, met the mayor of Boston, Thomas Menino, on Tuesday to discuss a new office near the harbor.";

/// Sentences of the throughput benchmark, one per line (see `web/README.md`).
pub const BENCH_SENTENCES_URL: &str = "bench/conll04-test.txt";

/// Longest text the page accepts, in characters. Longer pastes are refused with a message.
pub const MAX_CHARS: usize = 20_000;

/// Longest text for which the teaching view's tables are computed and drawn.
pub const ANALYZE_MAX_CHARS: usize = 1_000;

/// Texts longer than this are processed in sentence chunks, with progress.
pub const CHUNK_CHARS: usize = 600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for m in ModelKey::ALL {
            assert_eq!(ModelKey::from_key(m.key()), Some(m));
        }
        assert_eq!(ModelKey::from_key("ADE"), Some(ModelKey::Ade));
        assert_eq!(ModelKey::from_key("ace05"), None);
    }

    #[test]
    fn examples_fit_the_limits() {
        for m in ModelKey::ALL {
            assert!((4..=5).contains(&m.examples().len()));
            for e in m.examples() {
                assert!(e.chars().count() < CHUNK_CHARS);
            }
        }
    }

    #[test]
    fn serde_uses_the_link_keys() {
        assert_eq!(
            serde_json::to_string(&ModelKey::Scierc).ok().as_deref(),
            Some("\"scierc\"")
        );
    }

    #[test]
    fn examples_are_named_by_their_first_words() {
        assert_eq!(
            example_name("Siemens, based in Munich, hired Anna Keller.", 4),
            "Siemens, based in Munich…"
        );
        assert_eq!(
            example_name("John Wilkes Booth shot", 4),
            "John Wilkes Booth shot"
        );
        assert_eq!(
            example_name("Maria Gonzalez, who has", 2),
            "Maria Gonzalez…"
        );
        // Every button of a model has its own name.
        for m in ModelKey::ALL {
            let names: std::collections::BTreeSet<String> =
                m.examples().iter().map(|e| example_name(e, 4)).collect();
            assert_eq!(names.len(), m.examples().len(), "{m:?}");
        }
    }

    #[test]
    fn examples_are_recognized_whatever_the_model() {
        assert!(is_example(ModelKey::Scierc.examples()[2]));
        assert!(is_example(&format!(
            " {} ",
            ModelKey::Conll04.examples()[1]
        )));
        assert!(!is_example("My own sentence about Paris."));
    }
}
