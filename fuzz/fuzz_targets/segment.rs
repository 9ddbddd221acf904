//! Raw text into sentences and words (`mge::segment`): every front end cuts user text this
//! way before the model sees it. Checks the documented contracts, not just "no panic".
#![no_main]

use libfuzzer_sys::fuzz_target;
use mge::segment::{self, Segmenter, SentenceSpan};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut counts = [0usize; 3];
    for (k, seg) in [Segmenter::Lines, Segmenter::Rules, Segmenter::Unicode]
        .into_iter()
        .enumerate()
    {
        let found = segment::sentences(text, seg);
        check_sentences(text, &found, seg);
        counts[k] = found.len();
        for s in &found {
            for final_stop in [true, false] {
                check_words(s.text, final_stop);
            }
        }
        if seg == Segmenter::Rules {
            // The extractor's sentence spans are the rule-based sentences in chars.
            let spans: Vec<(usize, usize)> = found
                .iter()
                .map(|s| (s.char_start, s.char_start + s.text.chars().count()))
                .collect();
            assert_eq!(mge::extract::sentence_spans(text), spans);
        }
    }
    // Every line break ends a unicode sentence, and every blank line a rules sentence (the
    // rules join lines that wrap a sentence): lines <= unicode, paragraphs <= rules.
    let paragraphs = text
        .split('\n')
        .fold((0, true), |(n, blank_before), l| {
            let blank = l.trim().is_empty();
            (n + usize::from(!blank && blank_before), blank)
        })
        .0;
    assert!(
        counts[0] <= counts[2] && paragraphs <= counts[1],
        "sentence counts lines/rules/unicode: {counts:?}, paragraphs {paragraphs}"
    );
    check_rules_cut_where_unicode_does(text);
});

/// Rules cut where the Unicode rules cut, and besides only after a wire-service dateline
/// (`WASHINGTON (AP) --`), after a closing quote of tokenized text that they moved to the
/// sentence before (`... account. ' '`), after citations (`Boston.[2] He`) and at a full
/// stop with no space after it (`Boston.She`), after the full stops of a line typed
/// without capitals (`apple. he lives`), and before the markers of a numbered list typed on
/// one line (`1. Tim Cook, Apple 2. Ann Lee, IBM`); the Unicode rules see the lines the rules
/// join, so the comparison is with the text whose wrapping line breaks are spaces.
fn check_rules_cut_where_unicode_does(original: &str) {
    let unwrapped = segment::unwrap_lines(original);
    let text: &str = &unwrapped;
    // Where each sentence's text begins (a sentence may keep whitespace at its start).
    let begins = |s: &SentenceSpan<'_>| s.byte_start + s.text.len() - s.text.trim_start().len();
    let unicode: std::collections::HashSet<usize> = segment::sentences(text, Segmenter::Unicode)
        .iter()
        .map(begins)
        .collect();
    for s in segment::sentences(original, Segmenter::Rules)
        .iter()
        .skip(1)
    {
        let at = begins(s);
        let before = text[..at].trim_end();
        let dateline = before.ends_with([')', '-', '_', '\u{2013}', '\u{2014}']);
        let quote = before.ends_with("''") || before.ends_with("' '");
        let citation = before.ends_with(']');
        let glued = text[..at].ends_with('.');
        // A run-on cut before a sentence starter (`... on shown As shown in ...`).
        let mut words: Vec<&str> = text[..at].split_whitespace().collect();
        let ahead = words.len();
        words.extend(text[at..].split_whitespace().take(4));
        let run_on = ahead > 0 && words.len() > ahead && segment::starts_run_on(&words, ahead);
        // A line typed without capitals is cut after its full stops, question and
        // exclamation marks before lower-case words too (`apple. he lives`).
        let line_start = text[..at].rfind('\n').map_or(0, |k| k + 1);
        let line_end = text[at..].find('\n').map_or(text.len(), |k| at + k + 1);
        let caseless = segment::starts_uncapitalized(&text[line_start..line_end])
            && before
                .trim_end_matches(['"', '\'', ')', '\u{201d}', '\u{2019}'])
                .ends_with(['.', '?', '!']);
        // An item of a numbered list on one line (`... Apple 2. Ann Lee ...`).
        let marker = text[at..].split_whitespace().next().unwrap_or("");
        let list = marker
            .strip_suffix('.')
            .is_some_and(|n| (1..=3).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit()));
        assert!(
            unicode.contains(&at)
                || dateline
                || quote
                || citation
                || glued
                || run_on
                || caseless
                || list,
            "rules cut at byte {at} where the Unicode rules do not: {:?}",
            &text[..at]
        );
    }
}

/// Sentences are non-empty, in order, at their stated byte and char offsets, and only
/// whitespace lies outside them; a line break can only be a sentence's last char.
fn check_sentences(text: &str, found: &[SentenceSpan<'_>], seg: Segmenter) {
    let mut byte = 0usize;
    let mut chars = 0usize;
    for s in found {
        assert!(
            s.byte_start >= byte,
            "{seg:?}: sentences overlap or go back"
        );
        let end = s.byte_start + s.text.len();
        assert!(end <= text.len(), "{seg:?}: sentence past the end");
        assert!(text.is_char_boundary(s.byte_start) && text.is_char_boundary(end));
        assert_eq!(
            &text[s.byte_start..end],
            s.text,
            "{seg:?}: text not at its offset"
        );
        let gap = &text[byte..s.byte_start];
        assert!(
            gap.trim().is_empty(),
            "{seg:?}: non-whitespace {gap:?} dropped"
        );
        chars += gap.chars().count();
        assert_eq!(s.char_start, chars, "{seg:?}: char offset");
        assert!(
            !s.text.trim().is_empty(),
            "{seg:?}: whitespace-only sentence"
        );
        if seg == Segmenter::Rules {
            // The rules read a line break that wraps a sentence as a space, never a blank
            // line (a paragraph ends there).
            let inner = s.text.trim_end();
            let mut lines = inner.split('\n').skip(1);
            assert!(
                lines.all(|l| !l.trim().is_empty()),
                "{seg:?}: a blank line inside a sentence"
            );
        } else if let Some(at) = s.text.find('\n') {
            assert_eq!(
                at,
                s.text.len() - 1,
                "{seg:?}: a line break inside a sentence"
            );
        }
        chars += s.text.chars().count();
        byte = end;
    }
    assert!(
        text[byte..].trim().is_empty(),
        "{seg:?}: text after the last sentence"
    );
    if seg == Segmenter::Lines {
        let lines = text.split('\n').filter(|l| !l.trim().is_empty()).count();
        assert_eq!(found.len(), lines, "one sentence per non-blank line");
    }
}

/// Words are char spans in order, never empty, never hold whitespace, and together cover
/// every other char of the sentence.
fn check_words(sentence: &str, final_stop: bool) {
    let chars: Vec<char> = sentence.chars().collect();
    let spans = segment::words(sentence, final_stop);
    let mut covered = vec![false; chars.len()];
    let mut next = 0;
    for &(a, b) in &spans {
        assert!(
            a >= next && a < b && b <= chars.len(),
            "word {a}..{b} after {next}"
        );
        for (c, seen) in chars[a..b].iter().zip(&mut covered[a..b]) {
            assert!(!c.is_whitespace(), "whitespace in word {a}..{b}");
            *seen = true;
        }
        next = b;
    }
    for (c, seen) in chars.iter().zip(&covered) {
        assert!(*seen || c.is_whitespace(), "{c:?} is in no word");
    }
    // Trimming a span of these words keeps a non-empty range inside it.
    let texts: Vec<String> = spans
        .iter()
        .map(|&(a, b)| chars[a..b].iter().collect())
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).take(64).collect();
    if let Some((a, b)) = segment::trim_span(&refs) {
        assert!(a < b && b <= refs.len());
    }
}
