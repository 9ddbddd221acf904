//! Raw text into sentences and words, cut as the models' training data is cut.
//!
//! The models learn from datasets whose sentences were split by people and whose words were
//! tokenized Penn-Treebank style: `U.S.`, `Jr.` and `N.Y.` keep their full stops, a
//! sentence's final full stop, commas, brackets and quotes are words of their own. Raw text
//! has to be cut the same way, or the model never sees a whole name (`Franklin D.` |
//! `Roosevelt`) and decoding reports spans no dataset has (`Cupertino.`).
//!
//! - Sentences: [`Segmenter::Rules`] takes the Unicode sentence boundaries (UAX #29) as
//!   candidates and keeps one where the `sentencex` library (Wikimedia; abbreviation lists,
//!   initials, numbers), shown the two pieces around it, cuts too, and where a full stop
//!   stands between spaces as in tokenized text. It never cuts before a lower-case word or
//!   after a few abbreviations its English list lacks (`vs.`, `Fig.`, `No.`, `Ft.`). Every
//!   line break also ends a sentence.
//! - Words: [`words`] splits a sentence at whitespace and around punctuation, keeping the
//!   joiners of one word together (`U.S.`, `3.5`, `1,000`, `state-of-the-art`, `O'Neil`,
//!   `AT&T`) and an abbreviation's full stop with it, but splitting off the possessive `'s`
//!   and a sentence's final full stop. Decoding uses them for span boundaries.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How raw text is cut into sentences before it reaches the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Segmenter {
    /// Rule-based segmentation that knows abbreviations and initials (the default).
    #[default]
    Rules,
    /// Unicode sentence boundaries (UAX #29): cuts after every `.` followed by a capital.
    Unicode,
    /// Only line breaks end a sentence; long lines go to the model in windows.
    Lines,
}

impl FromStr for Segmenter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rules" => Ok(Self::Rules),
            "unicode" => Ok(Self::Unicode),
            "lines" => Ok(Self::Lines),
            other => Err(format!(
                "unknown sentence segmenter {other:?} (expected rules, unicode or lines)"
            )),
        }
    }
}

/// Abbreviations that do not end a sentence and that the segmentation library's English
/// list lacks (references of scientific text, `Ft.` and `Mt.` before a place name), or
/// that it still cut after in a paragraph (titles before a name: `fuselage . Ms.
/// Carpenter`). Compared lower-case, full stop included.
const NEVER_FINAL: &[&str] = &[
    "vs.", "v.", "cf.", "fig.", "figs.", "eq.", "eqs.", "no.", "nos.", "approx.", "ca.", "sec.",
    "ref.", "refs.", "tab.", "vol.", "pp.", "resp.", "incl.", "mr.", "mrs.", "ms.", "dr.", "prof.",
    "sen.", "gov.", "rep.", "gen.", "lt.", "col.", "sgt.", "capt.", "rev.", "ft.", "mt.",
];

/// A sentence of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentenceSpan<'a> {
    /// Offset of the sentence in the text, in chars and in bytes.
    pub char_start: usize,
    pub byte_start: usize,
    pub text: &'a str,
}

/// The sentences of `text` that hold more than whitespace, in order; only whitespace lies
/// between them.
pub fn sentences(text: &str, segmenter: Segmenter) -> Vec<SentenceSpan<'_>> {
    // Byte ranges of the pieces, in order, covering the whole text.
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    for (line_start, line) in lines(text) {
        match segmenter {
            Segmenter::Lines => pieces.push((line_start, line_start + line.len())),
            Segmenter::Unicode => {
                use unicode_segmentation::UnicodeSegmentation;
                let mut at = line_start;
                for s in line.split_sentence_bounds() {
                    pieces.push((at, at + s.len()));
                    at += s.len();
                }
            }
            Segmenter::Rules => {
                // Candidates: the Unicode boundaries. Each is kept when the library, shown the
                // two pieces around it, cuts there too (whole paragraphs are not handed to it:
                // a list marker such as `(iii)` makes it stop cutting for the rest of the
                // paragraph), or when a spaced full stop of tokenized text ends the piece.
                use unicode_segmentation::UnicodeSegmentation;
                let mut merged: Vec<(usize, usize)> = Vec::new();
                let mut previous: Option<(usize, usize)> = None;
                let mut at = line_start;
                for piece in line.split_sentence_bounds() {
                    let here = (at, at + piece.len());
                    at += piece.len();
                    let cut = previous.is_none_or(|p| {
                        let (before, after) = (&text[p.0..p.1], &text[here.0..here.1]);
                        // The library call is the costly test: last.
                        ends_with_spaced_stop(before) && opens_sentence(after)
                            || (is_sentence_start(after, before) && library_cuts(before, after))
                    });
                    match merged.last_mut() {
                        Some(last) if !cut => last.1 = here.1,
                        _ => merged.push(here),
                    }
                    previous = Some(here);
                }
                pieces.extend(merged);
            }
        }
    }
    // Char offsets, whitespace-only pieces dropped.
    let mut out = Vec::with_capacity(pieces.len());
    let (mut byte, mut chars) = (0usize, 0usize);
    for (from, to) in pieces {
        if from < byte
            || to > text.len()
            || !text.is_char_boundary(from)
            || !text.is_char_boundary(to)
        {
            continue;
        }
        chars += text[byte..from].chars().count();
        let piece = &text[from..to];
        if !piece.trim().is_empty() {
            out.push(SentenceSpan {
                char_start: chars,
                byte_start: from,
                text: piece,
            });
        }
        chars += piece.chars().count();
        byte = to;
    }
    out
}

/// Lines of `text` with their byte offsets; each keeps its line break.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// Whether `before` ends with a full stop, question or exclamation mark between spaces, as
/// tokenized text ends its sentences (`... problems . An attempt ...`, as the datasets and
/// some pasted text have it).
fn ends_with_spaced_stop(before: &str) -> bool {
    let t = before.trim_end();
    t.len() < before.len()
        && t.strip_suffix(['.', '!', '?'])
            .is_some_and(|rest| rest.ends_with(char::is_whitespace))
}

/// Whether `after` opens like a sentence: a capital, a digit or an opening quote or bracket.
fn opens_sentence(after: &str) -> bool {
    after
        .trim_start()
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || "\"`([\u{201c}".contains(c))
}

/// Whether the segmentation library, given two neighbouring pieces, puts a sentence boundary
/// between them (anywhere in the whitespace at the end of `before`).
fn library_cuts(before: &str, after: &str) -> bool {
    let joined = format!("{before}{after}");
    let content_end = before.trim_end().len();
    sentencex::segment("en", &joined).into_iter().any(|s| {
        let start = (s.as_ptr() as usize).wrapping_sub(joined.as_ptr() as usize);
        start > 0 && (content_end..=before.len()).contains(&start)
    })
}

/// Whether `next` begins a new sentence after `previous` (the segmenter cut between them):
/// not when it begins in lower case, and not after a reference abbreviation such as `Fig.`.
fn is_sentence_start(next: &str, previous: &str) -> bool {
    let starts_lower = next
        .trim_start()
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase());
    let last_word = previous.split_whitespace().next_back().unwrap_or_default();
    let abbreviation = NEVER_FINAL
        .iter()
        .any(|a| last_word.len() == a.len() && last_word.eq_ignore_ascii_case(a));
    !starts_lower && !abbreviation
}

/// Characters that join the parts of one word when they stand between letters or digits.
fn joins(c: char, before: char, after: char) -> bool {
    let alnum = |x: char| x.is_alphanumeric();
    match c {
        '.' | '-' | '&' | '/' | '_' | '@' | '+' | '\u{2010}' | '\u{2011}' => {
            alnum(before) && alnum(after)
        }
        ',' => before.is_ascii_digit() && after.is_ascii_digit(),
        '\'' | '\u{2019}' => alnum(before) && after.is_alphabetic(),
        _ => false,
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Whether `chars[i]` begins the possessive `'s` after a word: a word of its own
/// (`Apple 's`), as in the datasets.
fn is_possessive(chars: &[char], i: usize) -> bool {
    is_apostrophe(chars[i])
        && i > 0
        && chars[i - 1].is_alphanumeric()
        && matches!(chars.get(i + 1), Some('s' | 'S'))
        && chars.get(i + 2).is_none_or(|n| !n.is_alphanumeric())
}

/// The words of one sentence as char spans `(start, end)`, `end` exclusive, relative to the
/// sentence: whitespace never belongs to a word, and a punctuation mark is a word of its own
/// unless it joins a word (see the module documentation). `final_stop` says whether a full
/// stop at the very end of the sentence ends it (then it is split off, unless the word before
/// is an initial or an abbreviation with inner full stops such as `U.S.`).
pub fn words(sentence: &str, final_stop: bool) -> Vec<(usize, usize)> {
    let chars: Vec<char> = sentence.chars().collect();
    let last_stop = chars.iter().rposition(|c| !c.is_whitespace());
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        if !chars[i].is_alphanumeric() {
            let len = if is_possessive(&chars, i) { 2 } else { 1 };
            out.push((i, i + len));
            i += len;
            continue;
        }
        // A word: letters and digits, and the joiners between them.
        let start = i;
        let mut inner_stop = false;
        i += 1;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphanumeric() {
                i += 1;
            } else if i + 1 < chars.len() && joins(c, chars[i - 1], chars[i + 1]) {
                if is_possessive(&chars, i) {
                    break;
                }
                inner_stop |= c == '.';
                i += 1;
            } else {
                break;
            }
        }
        // A full stop right after the word: an abbreviation's (kept) or the sentence's.
        if chars.get(i) == Some(&'.') && chars.get(i + 1).is_none_or(|n| !n.is_alphanumeric()) {
            let ends_sentence = final_stop && Some(i) == last_stop;
            let initial = i - start == 1 && chars[start].is_alphabetic();
            if !ends_sentence || inner_stop || initial || is_abbreviation(&chars[start..i]) {
                i += 1;
            }
        }
        out.push((start, i));
    }
    out
}

/// Whether the segmentation library reads `word` followed by a full stop as an abbreviation
/// (`Tenn.`, `Inc.`, `Jr.`; not `Texas.`): it does not cut `word. Xyz`, where `Xyz` is a
/// capitalized word that no sentence-starter list holds. At the end of a sentence such a
/// full stop belongs to the word and ends the sentence too, as the datasets write it.
fn is_abbreviation(word: &[char]) -> bool {
    if word.is_empty() || !word.iter().all(|c| c.is_alphabetic()) || word.len() > 8 {
        return false;
    }
    let probe: String = word.iter().collect::<String>() + ". Xyz abc.";
    sentencex::segment("en", &probe).len() == 1
}

/// Whether a word (its text) is made of punctuation only: ASCII punctuation and the
/// common typographic marks (dashes, ellipsis, curly quotes, guillemets). Symbols such as
/// emoji or `©` are not punctuation.
pub fn is_punctuation(word: &str) -> bool {
    !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_punctuation()
                || "\u{2013}\u{2014}\u{2026}\u{ab}\u{bb}\u{201c}\u{201d}\u{2018}\u{2019}\u{201e}\u{bf}\u{a1}\u{b7}\u{2022}".contains(c)
        })
}

/// Trims a span, given as the texts of its words, to where an entity can begin and end:
/// punctuation no dataset puts at an entity's edge (commas, a sentence's full stop, colons,
/// dashes, the possessive `'s`, a bracket or quote without its partner inside the span) is
/// dropped from both ends. Returns the kept word range, or `None` when nothing is left.
pub fn trim_span(words: &[&str]) -> Option<(usize, usize)> {
    let (mut a, mut b) = (0, words.len());
    loop {
        if a >= b {
            return None;
        }
        let inside = &words[a..b];
        if edge_punctuation(words[a], inside, true) {
            a += 1;
        } else if edge_punctuation(words[b - 1], inside, false) {
            b -= 1;
        } else {
            return Some((a, b));
        }
    }
}

/// Whether `word` at the start (`leading`) or end of the span `inside` is to be trimmed.
fn edge_punctuation(word: &str, inside: &[&str], leading: bool) -> bool {
    let lower = word.to_lowercase();
    if !leading && (lower == "'s" || lower == "\u{2019}s") {
        return true;
    }
    if !is_punctuation(word) {
        return false;
    }
    let count = |s: &str| inside.iter().filter(|w| **w == s).count();
    let pairs = [
        ("(", ")"),
        ("[", "]"),
        ("{", "}"),
        ("\u{201c}", "\u{201d}"),
        ("\u{2018}", "\u{2019}"),
        ("\u{ab}", "\u{bb}"),
    ];
    for (open, close) in pairs {
        if word == open {
            // An opening bracket stays at the start when the span closes it.
            return !leading || count(close) == 0;
        }
        if word == close {
            return leading || count(open) == 0;
        }
    }
    if word == "\"" || word == "'" || word == "`" || word == "``" || word == "''" {
        // Straight quotes: kept only in pairs.
        return count(word) % 2 == 1 || inside.len() == 1;
    }
    // Commas, full stops, colons, dashes and the like never bound an entity. Currency and
    // other symbols that do ($, %, #, +) stay.
    !word
        .chars()
        .all(|c| matches!(c, '$' | '%' | '#' | '+' | '\u{20ac}' | '\u{a3}' | '@' | '&'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<&str> {
        sentences(text, Segmenter::Rules)
            .into_iter()
            .map(|s| s.text.trim())
            .collect()
    }

    fn word_texts(sentence: &str) -> Vec<String> {
        let chars: Vec<char> = sentence.chars().collect();
        words(sentence, true)
            .into_iter()
            .map(|(a, b)| chars[a..b].iter().collect())
            .collect()
    }

    #[test]
    fn initials_abbreviations_and_titles_do_not_end_sentences() {
        for whole in [
            "Franklin D. Roosevelt was born in Hyde Park, N.Y., in 1882.",
            "The U.S. Navy hired Laura Kim as an engineer.",
            "Arthur B. Collins Jr., a banker in St. Paul, joined Wells Fargo in 1990.",
            "Jones was hired by Apple Inc. in Cupertino.",
            "As shown in Fig. 3, the model of Smith et al. (2020) beats e.g. CRFs, i.e. linear models.",
            "Results improve on No. 5 vs. No. 6 by 3.5 points.",
            "The price rose 3.5 percent on Jan. 15 to $12.50 in Washington, D.C. last week.",
            "Gov. Bill Clinton of Ark. met Sen. Bob Dole (R-Kan.) on Tuesday.",
            "Patients given 5 mg. of drug X developed a rash.",
            "J. R. R. Tolkien was a professor at Oxford.",
            "Dr. Jane Doe and Mrs. Smith met Prof. Lee at 5 p.m. on Monday.",
        ] {
            assert_eq!(cut(whole), vec![whole], "cut inside {whole:?}");
        }
    }

    #[test]
    fn real_sentence_ends_still_cut() {
        assert_eq!(
            cut("He joined Apple Inc. The company grew. Mary works for Acme Corp. in Paris! Who knows?"),
            vec![
                "He joined Apple Inc.",
                "The company grew.",
                "Mary works for Acme Corp. in Paris!",
                "Who knows?"
            ]
        );
        // Tokenized text, as in the datasets.
        assert_eq!(
            cut("It works . An attempt failed ! `` Why ? '' he asked . Then more ."),
            vec![
                "It works .",
                "An attempt failed !",
                "`` Why ? '' he asked .",
                "Then more ."
            ]
        );
        assert_eq!(
            cut("the wings and fuselage . Ms. Carpenter 's brother agreed ."),
            vec![
                "the wings and fuselage .",
                "Ms. Carpenter 's brother agreed ."
            ]
        );
        assert_eq!(
            cut("Rome is in Italy. Paris is in France.\nBerlin is in Germany"),
            vec![
                "Rome is in Italy.",
                "Paris is in France.",
                "Berlin is in Germany"
            ]
        );
    }

    #[test]
    fn every_segmenter_covers_the_text_with_char_offsets() {
        let text =
            "😀 Mary works\tfor Acme Corp.  John Smith lives in Parïs, é!\n\nFig. 2 shows it";
        let chars: Vec<char> = text.chars().collect();
        for seg in [Segmenter::Rules, Segmenter::Unicode, Segmenter::Lines] {
            let found = sentences(text, seg);
            assert!(!found.is_empty());
            let mut next = 0;
            for s in &found {
                let start = s.char_start;
                assert!(start >= next);
                assert!(chars[next..start].iter().all(|c| c.is_whitespace()));
                let n = s.text.chars().count();
                assert_eq!(chars[start..start + n].iter().collect::<String>(), s.text);
                assert_eq!(&text[s.byte_start..s.byte_start + s.text.len()], s.text);
                next = start + n;
            }
            assert!(chars[next..].iter().all(|c| c.is_whitespace()));
        }
        assert_eq!(sentences(text, Segmenter::Lines).len(), 2);
        assert!(sentences("  \n\t ", Segmenter::Rules).is_empty());
        assert!(sentences("", Segmenter::Unicode).is_empty());
    }

    #[test]
    fn words_keep_abbreviations_and_split_punctuation() {
        assert_eq!(
            word_texts("Franklin D. Roosevelt was born in Hyde Park, N.Y., in 1882."),
            [
                "Franklin",
                "D.",
                "Roosevelt",
                "was",
                "born",
                "in",
                "Hyde",
                "Park",
                ",",
                "N.Y.",
                ",",
                "in",
                "1882",
                "."
            ]
        );
        assert_eq!(
            word_texts("Arthur B. Collins Jr., a banker in St. Paul (Minn.), joined Apple's unit."),
            [
                "Arthur", "B.", "Collins", "Jr.", ",", "a", "banker", "in", "St.", "Paul", "(",
                "Minn.", ")", ",", "joined", "Apple", "'s", "unit", "."
            ]
        );
        assert_eq!(
            word_texts("\"State-of-the-art\" O'Neil paid $1,000.50 to AT&T in the U.S."),
            [
                "\"",
                "State-of-the-art",
                "\"",
                "O'Neil",
                "paid",
                "$",
                "1,000.50",
                "to",
                "AT&T",
                "in",
                "the",
                "U.S."
            ]
        );
        // Not the sentence's end: the full stop stays with its word.
        assert_eq!(words("Inc. in", true), vec![(0, 4), (5, 7)]);
        assert_eq!(
            words("joined Apple Inc.", false),
            vec![(0, 6), (7, 12), (13, 17)]
        );
        assert_eq!(
            words("joined Apple Inc.", true),
            vec![(0, 6), (7, 12), (13, 17)]
        );
        // The sentence's own full stop is split off, unless the word is an abbreviation.
        assert_eq!(
            word_texts("He moved to Texas."),
            ["He", "moved", "to", "Texas", "."]
        );
        assert_eq!(
            word_texts("He moved to Nashville, Tenn."),
            ["He", "moved", "to", "Nashville", ",", "Tenn."]
        );
        assert_eq!(
            word_texts("e.g. this, i.e. that"),
            ["e.g.", "this", ",", "i.e.", "that"]
        );
        assert!(words(" \t ", true).is_empty());
    }

    #[test]
    fn spans_lose_punctuation_at_their_edges() {
        let t = |w: &[&str]| trim_span(w).map(|(a, b)| w[a..b].join(" "));
        assert_eq!(t(&["Cupertino", "."]).as_deref(), Some("Cupertino"));
        assert_eq!(t(&["Elena", "Ruiz", "."]).as_deref(), Some("Elena Ruiz"));
        assert_eq!(t(&[",", "Paris", ","]).as_deref(), Some("Paris"));
        assert_eq!(t(&["\"", "Acme", "Corp"]).as_deref(), Some("Acme Corp"));
        assert_eq!(t(&["\"", "Acme", "\""]).as_deref(), Some("\" Acme \""));
        assert_eq!(t(&["Apple", "'s"]).as_deref(), Some("Apple"));
        assert_eq!(
            t(&["hidden", "Markov", "model", "(", "HMM", ")"]).as_deref(),
            Some("hidden Markov model ( HMM )")
        );
        assert_eq!(t(&["model", "(", "HMM"]).as_deref(), Some("model ( HMM"));
        assert_eq!(t(&["HMM", ")"]).as_deref(), Some("HMM"));
        assert_eq!(t(&["$", "5", "million"]).as_deref(), Some("$ 5 million"));
        assert_eq!(t(&["U.S."]).as_deref(), Some("U.S."));
        assert_eq!(
            t(&["\u{201c}", "Dune", "\u{201d}", "\u{2014}"]).as_deref(),
            Some("\u{201c} Dune \u{201d}")
        );
        assert_eq!(t(&["😀"]).as_deref(), Some("😀"));
        assert_eq!(t(&[".", ","]), None);
        assert_eq!(t(&[]), None);
    }
}
