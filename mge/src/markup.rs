//! Markup in typed text, read as the text it stands for. Text copied from a web page's
//! source or written in Markdown holds HTML tags (`<b>Satya Nadella</b>`), character
//! references (`AT&amp;T`, `Jane Doe&nbsp;in Dallas`) and emphasis (`*Apple*`,
//! `__Tim Cook__`). No training sentence has any of these, and the encoder read them as
//! sub-tokens that broke or hid the names beside them.
//!
//! [`plain`] gives the text as a browser shows it: inline tags left out, block tags (`<p>`,
//! `<br>`, `<li>`, …) as line breaks and table cells as tabs, references as the characters
//! they name, and paired emphasis marks left out. For every char of the plain text it keeps
//! the chars of the original it stands for, so that a mention found in the plain text is
//! reported at its place in the text as given ([`Plain::span`]).

use std::borrow::Cow;

/// A text with its markup read, and the way back to the original's offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain<'a> {
    /// The text as it reads (borrowed when it holds no markup).
    pub text: Cow<'a, str>,
    /// For each char of `text`, the char range of the original it stands for (`&amp;` for
    /// its `&`, a `<p>` for its line breaks). Empty when `text` is the original.
    origin: Vec<(usize, usize)>,
    /// The original's length in chars.
    len: usize,
}

impl Plain<'_> {
    /// The char span in the original of the span `start..end` of the plain text: from the
    /// first of the original chars its first char stands for to the last of its last
    /// char's. A reference inside a mention (`AT&amp;T`) is part of it; a tag around it
    /// (`<b>Tim Cook</b>`) is not.
    pub fn span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.origin.is_empty() {
            return (start, end);
        }
        let at = |k: usize| self.origin.get(k).map_or(self.len, |o| o.0);
        if end <= start {
            let a = at(start);
            return (a, a);
        }
        let to = self.origin.get(end - 1).map_or(self.len, |o| o.1);
        (at(start), to)
    }

    /// Whether the plain text is the original.
    pub fn is_original(&self) -> bool {
        self.origin.is_empty()
    }
}

/// The text as it reads: see the [module](self). Linear in the text's length; text without
/// `<`, `&`, `*`, `_` or `~` comes back borrowed at once.
pub fn plain(text: &str) -> Plain<'_> {
    let borrowed = |text| Plain {
        text: Cow::Borrowed(text),
        origin: Vec::new(),
        len: 0,
    };
    if !text.contains(['<', '&', '*', '_', '~']) {
        return borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    // What each original char becomes: `Keep`, or the first char of a piece of markup that
    // reads as `Read(s)` up to `end`.
    let mut pieces: Vec<(usize, usize, &'static str, Option<char>)> = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        match chars[k] {
            '<' => {
                if let Some((end, reads)) = tag(&chars, k) {
                    pieces.push((k, end, reads, None));
                    k = end;
                    continue;
                }
            }
            '&' => {
                if let Some((end, c)) = reference(&chars, k) {
                    pieces.push((k, end, "", Some(c)));
                    k = end;
                    continue;
                }
            }
            _ => {}
        }
        k += 1;
    }
    let emphasis = emphasis_marks(&chars, &pieces);
    if pieces.is_empty() && emphasis.is_empty() {
        return borrowed(text);
    }
    for (a, b) in emphasis {
        pieces.push((a, b, "", None));
    }
    pieces.sort_unstable_by_key(|p| p.0);
    let mut out = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(chars.len());
    let mut k = 0;
    for (a, b, reads, c) in pieces {
        for (j, &ch) in chars.iter().enumerate().take(a).skip(k) {
            out.push(ch);
            origin.push((j, j + 1));
        }
        for ch in reads.chars().chain(c) {
            out.push(ch);
            origin.push((a, b));
        }
        k = b;
    }
    for (j, &ch) in chars.iter().enumerate().skip(k) {
        out.push(ch);
        origin.push((j, j + 1));
    }
    Plain {
        text: Cow::Owned(out),
        origin,
        len: chars.len(),
    }
}

/// The longest tag read as markup, attributes included.
const MAX_TAG: usize = 1000;

/// Tags that a browser shows as the start of a new line or block.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
];

/// An HTML tag or comment at `k` (`<b>`, `</p>`, `<a href="…">`, `<br/>`, `<!-- … -->`):
/// where it ends, and what it reads as (a block tag: a line break, two for a paragraph; a
/// table cell: a tab; other tags: nothing). `None` where `<` begins no tag (`<3`, `a < b`).
fn tag(chars: &[char], k: usize) -> Option<(usize, &'static str)> {
    let rest = &chars[k..chars.len().min(k + MAX_TAG)];
    if rest.starts_with(&['<', '!', '-', '-']) {
        let close = rest.windows(3).skip(4).position(|w| w == ['-', '-', '>'])?;
        return Some((k + 4 + close + 3, ""));
    }
    let mut i = 1;
    if rest.get(i) == Some(&'/') {
        i += 1;
    }
    if !rest.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let name_start = i;
    while rest
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '-')
    {
        i += 1;
    }
    let name: String = rest[name_start..i]
        .iter()
        .collect::<String>()
        .to_ascii_lowercase();
    match rest.get(i) {
        Some('>') => {}
        Some('/') if rest.get(i + 1) == Some(&'>') => i += 1,
        // Attributes: anything but another `<` up to the `>` (quoted values may hold `>`).
        Some(c) if c.is_whitespace() => {
            let mut quote = None;
            loop {
                i += 1;
                let c = *rest.get(i)?;
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'') => quote = Some(c),
                    (None, '>') => break,
                    (None, '<') => return None,
                    (None, _) => {}
                }
            }
        }
        _ => return None,
    }
    let end = k + i + 1;
    let reads = match name.as_str() {
        "p" => "\n\n",
        "td" | "th" => "\t",
        n if BLOCK_TAGS.contains(&n) => "\n",
        _ => "",
    };
    Some((end, reads))
}

/// Named character references that typed text holds, with the characters they name.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("hellip", '\u{2026}'),
    ("middot", '\u{b7}'),
    ("bull", '\u{2022}'),
    ("copy", '\u{a9}'),
    ("reg", '\u{ae}'),
    ("trade", '\u{2122}'),
    ("deg", '\u{b0}'),
    ("shy", '\u{ad}'),
    ("eacute", 'é'),
    ("egrave", 'è'),
    ("ecirc", 'ê'),
    ("aacute", 'á'),
    ("agrave", 'à'),
    ("acirc", 'â'),
    ("iacute", 'í'),
    ("oacute", 'ó'),
    ("uacute", 'ú'),
    ("ntilde", 'ñ'),
    ("ccedil", 'ç'),
    ("auml", 'ä'),
    ("ouml", 'ö'),
    ("uuml", 'ü'),
    ("szlig", 'ß'),
    ("Eacute", 'É'),
    ("Auml", 'Ä'),
    ("Ouml", 'Ö'),
    ("Uuml", 'Ü'),
    ("aring", 'å'),
    ("oslash", 'ø'),
    ("aelig", 'æ'),
    ("euro", '€'),
    ("pound", '£'),
];

/// A character reference at `k` (`&amp;`, `&#39;`, `&#x2014;`): where it ends and the
/// character it names. `None` for a bare `&` (`AT&T`, `R&D`) or an unknown name.
fn reference(chars: &[char], k: usize) -> Option<(usize, char)> {
    let rest = &chars[k + 1..chars.len().min(k + 12)];
    let semi = rest.iter().position(|&c| c == ';')?;
    let body: String = rest[..semi].iter().collect();
    let end = k + 1 + semi + 1;
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(code).filter(|c| !c.is_control() || c.is_whitespace())?
    } else {
        NAMED.iter().find(|(name, _)| *name == body)?.1
    };
    Some((end, c))
}

/// Emphasis marks of Markdown (`*`, `**`, `_`, `__`, `~~`) that open before a word and
/// close after one, in pairs (`*Apple*`, `**Tim Cook**`): their char ranges. A mark that
/// finds no partner stays (`5 * 3`, `_Ronald`, `snake_case`), and so does anything inside
/// other markup (`pieces`).
fn emphasis_marks(
    chars: &[char],
    pieces: &[(usize, usize, &str, Option<char>)],
) -> Vec<(usize, usize)> {
    let mut in_markup = vec![false; chars.len()];
    for p in pieces {
        in_markup[p.0..p.1.min(chars.len())].fill(true);
    }
    let inside_markup = |k: usize| in_markup[k];
    let mut marks = Vec::new();
    // Unmatched openers, newest last: (start, end, the mark's char, its length).
    let mut open: Vec<(usize, usize, char, usize)> = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        if !matches!(c, '*' | '_' | '~') || inside_markup(k) {
            k += 1;
            continue;
        }
        let mut end = k;
        while end < chars.len() && chars[end] == c {
            end += 1;
        }
        let n = end - k;
        let before = k.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(end).copied();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        // Opens before a word, after a space or an opening mark; closes after a word or the
        // punctuation that ends one, before a space or punctuation.
        let opens = word(after) && !word(before);
        let closes = !word(after)
            && before.is_some_and(|b| b.is_alphanumeric() || ".,;:!?)'\"\u{2019}".contains(b));
        let valid_len = match c {
            '~' => n == 2,
            _ => n <= 3,
        };
        if valid_len && closes {
            if let Some(p) = open.iter().rposition(|o| o.2 == c && o.3 == n) {
                let (a, b, _, _) = open[p];
                open.truncate(p);
                marks.push((a, b));
                marks.push((k, end));
                k = end;
                continue;
            }
        }
        if valid_len && opens {
            open.push((k, end, c, n));
        }
        k = end;
    }
    marks.sort_unstable();
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(text: &str) -> String {
        plain(text).text.into_owned()
    }

    /// The original text of the plain span that `needle` occupies in the plain text.
    fn back(text: &str, needle: &str) -> String {
        let p = plain(text);
        let at = p.text.find(needle).unwrap();
        let start = p.text[..at].chars().count();
        let (a, b) = p.span(start, start + needle.chars().count());
        text.chars().skip(a).take(b - a).collect()
    }

    #[test]
    fn text_without_markup_comes_back_borrowed() {
        for text in [
            "Tim Cook runs Apple.",
            "AT&T and R&D",
            "5 * 3 < 20",
            "snake_case",
            "",
        ] {
            let p = plain(text);
            assert!(matches!(p.text, Cow::Borrowed(_)), "{text}");
            assert!(p.is_original());
            assert_eq!(p.span(2, 4), (2, 4));
        }
        // `<` before a digit or a space, `_` inside a word or without a partner.
        assert_eq!(reads("<3 a < b _Ronald x_y"), "<3 a < b _Ronald x_y");
    }

    #[test]
    fn tags_read_as_a_browser_shows_them() {
        assert_eq!(
            reads("<b>Satya Nadella</b> runs <a href=\"https://microsoft.com\">Microsoft</a>."),
            "Satya Nadella runs Microsoft."
        );
        assert_eq!(reads("<p>One.</p><p>Two.</p>"), "\n\nOne.\n\n\n\nTwo.\n\n");
        assert_eq!(reads("Tim<br>Cook<br/>Apple"), "Tim\nCook\nApple");
        assert_eq!(
            reads("<td>Tim Cook</td><td>Apple</td>"),
            "\tTim Cook\t\tApple\t"
        );
        assert_eq!(reads("a <!-- note --> b"), "a  b");
        assert_eq!(reads("<img alt='a > b' src=x.png>Boston"), "Boston");
        // Not tags: an unclosed one, a space after `<`.
        assert_eq!(reads("<b Boston"), "<b Boston");
        assert_eq!(reads("x < y and y > z"), "x < y and y > z");
        // A mention inside tags is the name alone; one across a tag holds it.
        assert_eq!(
            back("<b>Satya Nadella</b> runs", "Satya Nadella"),
            "Satya Nadella"
        );
        assert_eq!(
            back("<i>Satya</i> Nadella runs", "Satya Nadella"),
            "Satya</i> Nadella"
        );
    }

    #[test]
    fn references_read_as_the_characters_they_name() {
        assert_eq!(
            reads("AT&amp;T hired Jane Doe&nbsp;in Dallas."),
            "AT&T hired Jane Doe\u{a0}in Dallas."
        );
        assert_eq!(
            reads("O&#39;Brien &#x2014; &quot;yes&quot;"),
            "O'Brien \u{2014} \"yes\""
        );
        assert_eq!(
            reads("Caf&eacute; &unknown; & &#0; &;"),
            "Café &unknown; & &#0; &;"
        );
        assert_eq!(back("AT&amp;T hired", "AT&T"), "AT&amp;T");
        assert_eq!(back("Jane Doe&nbsp;in Dallas", "Jane Doe"), "Jane Doe");
        assert_eq!(back("Jane Doe&nbsp;in Dallas", "Dallas"), "Dallas");
    }

    #[test]
    fn paired_emphasis_marks_are_left_out() {
        assert_eq!(
            reads("**Tim Cook** is the chief executive of *Apple* in Cupertino."),
            "Tim Cook is the chief executive of Apple in Cupertino."
        );
        assert_eq!(
            reads("__Tim Cook__ and _Apple_, ~~IBM~~ ***Intel***."),
            "Tim Cook and Apple, IBM Intel."
        );
        // Unpaired, inside words, or lists and arithmetic: kept.
        for text in [
            "* Tim Cook",
            "5 * 3 * 2",
            "snake_case_name",
            "a_b_",
            "*Apple",
            "~Apple~",
        ] {
            assert_eq!(reads(text), text);
        }
        assert_eq!(back("**Tim Cook** is", "Tim Cook"), "Tim Cook");
        assert_eq!(back("see *Apple*.", "Apple."), "Apple*.");
    }

    #[test]
    fn spans_map_back_at_both_ends_of_the_text() {
        let text = "<b>Boston</b>";
        let p = plain(text);
        assert_eq!(p.text, "Boston");
        assert_eq!(p.span(0, 6), (3, 9));
        assert_eq!(p.span(6, 6), (13, 13));
        assert_eq!(p.span(0, 0), (3, 3));
        let text = "x&amp;";
        let p = plain(text);
        assert_eq!(p.span(0, 2), (0, 6));
    }
}
