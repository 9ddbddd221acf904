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
//!   after a few abbreviations its English list lacks (`vs.`, `Fig.`, `No.`, `Ft.`). Where
//!   the library keeps an abbreviation and the next word together, the cut is made anyway
//!   when that word is one the training text writes in lower case (`Tenn. Software
//!   engineers ...`: Punkt's orthographic evidence, [`is_common_lowercase`]) or when a US
//!   state ends a place (`in Danville, Ala. Springsteen ...`). A wire-service dateline ends
//!   a sentence of its own (`PERUGIA, Italy (AP) Reagan ...`). Every line break also ends a
//!   sentence. Text that runs on for more than a window's worth of words without a full
//!   stop is also cut where a sentence plainly begins: a capitalized sentence starter after
//!   a lower-case word (`... was an actor The opera company ...`) or after a name, a common
//!   word capitalized, the heading of an abstract's part ([`run_on_starts`]). A line typed without capitals
//!   where its sentences begin is cut at its full stops too ([`starts_uncapitalized`]).
//!   Where an abbreviation stands before a capitalized word and no rule tells whether the
//!   sentence ends there ([`doubtful_ends`]), it does not cut; the extractor may read the
//!   sentence again cut there.
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
/// Carpenter`), or that come before a capitalized common word inside a sentence (`a.k.a.
/// Parser X`, `e.g. Dependency parsers`). Compared lower-case, full stop included.
const NEVER_FINAL: &[&str] = &[
    "vs.", "v.", "cf.", "e.g.", "i.e.", "a.k.a.", "aka.", "w.r.t.", "viz.", "fig.", "figs.", "eq.",
    "eqs.", "no.", "nos.", "approx.", "ca.", "sec.", "ref.", "refs.", "tab.", "vol.", "pp.",
    "resp.", "incl.", "mr.", "mrs.", "ms.", "dr.", "prof.", "sen.", "gov.", "rep.", "gen.", "lt.",
    "col.", "sgt.", "capt.", "rev.", "ft.", "mt.",
];

/// US state abbreviations in the news style (AP), compared with the full stop. After
/// `City, St.` a capitalized word begins a new sentence: inside a sentence the style puts a
/// comma after the state (`Nashville, Tenn., police said`).
const STATES: &[&str] = &[
    "Ala.", "Ariz.", "Ark.", "Calif.", "Colo.", "Conn.", "Del.", "D.C.", "Fla.", "Ga.", "Ill.",
    "Ind.", "Kan.", "Kans.", "Ky.", "La.", "Md.", "Mass.", "Mich.", "Minn.", "Miss.", "Mo.",
    "Mont.", "Neb.", "Nev.", "N.H.", "N.J.", "N.M.", "N.Y.", "N.C.", "N.D.", "Okla.", "Ore.",
    "Pa.", "R.I.", "S.C.", "S.D.", "Tenn.", "Tex.", "Vt.", "Va.", "Wash.", "W.Va.", "Wis.", "Wyo.",
];

/// The two-letter postal codes of US states (USPS), as addresses and datelines write them
/// (`Denver, CO`). Some are also in the segmentation library's abbreviation list (`CO`
/// for company), but after a place and a comma they are states: at the end of a sentence
/// the full stop is the sentence's (`in Denver, CO.`), and a capital after it begins a new
/// one.
const POSTAL_CODES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
];

/// Titles before a name: they begin a new sentence after an abbreviation that ends a name,
/// never make a mention on their own ([`trim_span`]), and are what `--titles drop` leaves
/// out.
pub(crate) const TITLES: &[&str] = &[
    "Mr.", "Mrs.", "Ms.", "Messrs.", "Dr.", "Prof.", "Sen.", "Gov.", "Rep.", "Gen.", "Lt.", "Col.",
    "Sgt.", "Capt.", "Adm.", "Maj.", "Cmdr.", "Rev.", "Hon.", "Pres.", "Supt.", "Sir", "Mr", "Mrs",
    "Ms", "Dr",
];

/// Titles written out before a name (`President`, `Senator`, `Prime Minister`'s
/// `Minister`). Unlike [`TITLES`] they are ordinary words, which the datasets often keep
/// inside the name (`President Kennedy` in CoNLL04), so they bound nothing; they are what
/// the extractor's second reading of a sentence leaves out, beside [`TITLES`], when the
/// first lost the name after one (`Titles::Retry` in `extract`).
#[rustfmt::skip]
pub(crate) const TITLE_WORDS: &[&str] = &[
    "President", "Vice", "Prime", "Senator", "Governor", "Representative", "Congressman",
    "Congresswoman", "Mayor", "Judge", "Justice", "Chancellor", "Minister", "Premier", "Secretary",
    "Ambassador", "General", "Colonel", "Lieutenant", "Captain", "Sergeant", "Admiral", "Major",
    "Commander", "Professor", "Doctor", "Chairman", "Chairwoman", "King", "Queen", "Prince",
    "Princess", "Pope", "Cardinal", "Bishop", "Archbishop", "Rabbi", "Father", "Sister", "Brother",
    "Sheikh", "Emperor", "Empress", "Dame", "Lord", "Lady", "Secretary-General", "Attorney",
    "Speaker", "Chief", "Deputy", "Crown", "Coach", "Sheriff", "Detective", "Officer", "Inspector",
    "Dean", "Pastor", "Reverend", "Imam", "Ayatollah", "Duke", "Duchess", "Baron", "Sultan", "Emir",
    "CEO", "CFO", "CTO", "COO",
];

/// Abbreviations that begin the name of a place (`Ft. Worth`, `Mt. Hood`, `St. Paul`); alone
/// they name nothing. (`St.` also ends street names, `E. Day St.`, which keeps it there.)
const PLACE_PREFIXES: &[&str] = &["Ft.", "Mt.", "Mts.", "St.", "Ste.", "Pt."];

/// Abbreviations that end the name of a company or a person.
const NAME_ENDS: &[&str] = &[
    "Inc.", "Corp.", "Co.", "Cos.", "Ltd.", "Bros.", "Plc.", "Jr.", "Sr.",
];

/// The legal forms that follow a company's name, also after another one (`Dow Jones & Co.
/// Inc.`, `Acme Holdings Ltd. PLC`).
const COMPANY_FORMS: &[&str] = &[
    "Inc", "Inc.", "Corp", "Corp.", "Co", "Co.", "Ltd", "Ltd.", "LLC", "L.L.C.", "LLP", "L.P.",
    "LP", "PLC", "Plc", "Plc.", "AG", "SA", "S.A.", "NV", "N.V.", "GmbH", "SE", "AB", "ASA",
];

/// Legal forms and name suffixes that alone name nothing: a mention of only these is none
/// ([`trim_span`]), and one a comma parts from its name is taken into the mention
/// ([`is_detached_name_end`]). Forms that are also common abbreviations (`NV`, `SA`, `AG`,
/// `Co` for Colorado) are left out.
const LONE_NAME_ENDS: &[&str] = &[
    "Inc", "Inc.", "Corp", "Corp.", "Co.", "Cos.", "Ltd", "Ltd.", "LLC", "L.L.C.", "LLP", "L.P.",
    "PLC", "Plc", "Plc.", "GmbH", "Jr.", "Sr.",
];

/// Whether `word` ends a company's or a person's name that a comma parts from it (`Tesla,
/// Inc.`, `Knight-Ridder , Inc.` in CoNLL04, which keeps such a form in the mention), so
/// the mention before the comma takes it in. `Jr.` and `Sr.` are left to the model, as a
/// comma before them is rarer in the datasets than a comma before an apposition.
pub fn is_detached_name_end(word: &str) -> bool {
    LONE_NAME_ENDS.contains(&word) && !matches!(word, "Jr." | "Sr.")
}

/// News agencies whose name in brackets ends a dateline (`LONDON (Reuters) ...`).
const AGENCIES: &[&str] = &[
    "AP",
    "UPI",
    "AFP",
    "Reuters",
    "REUTERS",
    "XINHUA",
    "Xinhua",
    "DPA",
    "ANSA",
    "EFE",
    "TASS",
    "ITAR-TASS",
    "PTI",
    "IANS",
    "CNN",
    "BBC",
    "Bloomberg",
    "KYODO",
    "Kyodo",
    "Yonhap",
];

/// Time zones written after a clock time (`2 a.m. EST`): not the start of a sentence.
const TIME_ZONES: &[&str] = &[
    "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "HST", "GMT", "UTC", "BST",
    "CET", "CEST", "IST", "JST",
];

/// Initials of countries and unions, often written before a noun (`U.S. Navy`).
const ADJECTIVE_INITIALS: &[&str] = &["U.S.", "U.K.", "U.N.", "E.U.", "U.S.A.", "U.A.E."];

/// Days after a clock time (`at 5 p.m. Monday`, as news style writes it).
const WEEKDAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Words the training text (CoNLL04, SciERC and ADE fold 0 train) writes in lower case and capitalizes
/// after a sentence's first word at most a tenth as often, one per line, sorted; written by
/// `scripts/make_segmenter_words.py`.
const LOWERCASE_WORDS: &str = include_str!("../data/lowercase-words.txt");

/// Whether `word` (any case) is one of [`LOWERCASE_WORDS`]: a common word, not a name. The
/// Punkt method's orthographic evidence: capitalized after an abbreviation, such a word
/// begins a sentence.
pub fn is_common_lowercase(word: &str) -> bool {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| LOWERCASE_WORDS.lines().collect());
    let lower = word.to_lowercase();
    words.binary_search(&lower.as_str()).is_ok()
}

/// Capitalized words that begin many training sentences and that the training text writes in
/// lower case inside a sentence (`The`, `In`, `We`), one per line, sorted; written by
/// `scripts/make_segmenter_words.py`.
const SENTENCE_STARTERS: &str = include_str!("../data/sentence-starters.txt");

/// Words a stretch of text must exceed before it is searched for sentences that run on
/// without a full stop ([`run_on_starts`]): about the 64 sub-tokens of one window, the
/// length past which a sentence is cut into windows anyway.
pub const RUN_ON_WORDS: usize = 40;

/// Words each side of such a cut keeps at least.
const RUN_ON_MIN_PART: usize = 4;

/// Byte offsets in `piece` where a new sentence begins although no punctuation says so
/// ([`starts_run_on`]: `... was an actor The opera company ...`, `... in this paper We
/// propose ...`; not `... and The Associated Press`), at least [`RUN_ON_MIN_PART`] words
/// from the last cut and from either end. Only a piece of more than [`RUN_ON_WORDS`] words
/// is searched: a sentence of ordinary length keeps `in The Times` whole, while a stretch
/// that long would otherwise go to the model in windows cut at arbitrary places. With the
/// test splits' final full stops dropped, the segmenter with these cuts finds 497 of
/// SciERC's 550 boundaries (3 cuts are wrong), 368 of ADE's 426 (fold 0; 1 wrong) and 140 of
/// CoNLL04's 287 (16 wrong), whose sentences mostly begin with a name after a noun, which no
/// word list tells from a name inside a sentence (`... investment in Cambodia Derwinski , a
/// Republican ...`).
pub fn run_on_starts(piece: &str) -> Vec<usize> {
    let mut cuts = Vec::new();
    // Every sentence passes here: the ordinary ones leave before anything is collected.
    // Text in title case gives no capitals to go by.
    if piece.split_whitespace().nth(RUN_ON_WORDS).is_none() || is_title_case(piece) {
        return cuts;
    }
    let words: Vec<&str> = piece.split_whitespace().collect();
    let mut last = 0;
    for i in RUN_ON_MIN_PART..words.len().saturating_sub(RUN_ON_MIN_PART - 1) {
        if i - last >= RUN_ON_MIN_PART && starts_run_on(&words, i) {
            cuts.push(words[i].as_ptr() as usize - piece.as_ptr() as usize);
            last = i;
        }
    }
    cuts
}

/// Whether `words[i]` may begin a sentence where no punctuation says so
/// ([`run_on_starts`], which also asks for a long stretch and a few words on each side).
/// Never after a word a sentence does not end on (a preposition, conjunction, determiner or
/// auxiliary). Patterns that the training text (CoNLL04 and SciERC train, final full stops
/// dropped) shows at sentence starts far more often than inside sentences:
/// - a starter after a word in lower case or a number, not before a name (`... was an
///   actor The opera company ...`), nor `A` that ends a name (`hemophilia A who`);
/// - a closed-class starter after a lower-case word, before a name (`... with winches The
///   Warren Commission ...`; not `... for The Associated Press`);
/// - a closed-class starter after a capitalized word, before a word in lower case, a number
///   or a punctuation mark (`... Avihu Bin-Nun The three reactors ...`, `... Ohio In 1865
///   ...`);
/// - a capitalized common word after a lower-case word, before a word in lower case (`...
///   the season Temperatures rose ...`, `... with capecitabine Sertraline-induced ...`; not
///   `the President said`, nor an acronym such as `POS`);
/// - the heading of a structured abstract's part ([`is_heading`]: `... PURPOSE: To report`).
///
/// A closing bracket counts as a lower-case word (`... at Lincoln Laboratory (LL) The
/// system ...`) unless it closes a list's marker (`( ii ) High quality ...`).
pub fn starts_run_on(words: &[&str], i: usize) -> bool {
    static STARTERS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let starters = STARTERS.get_or_init(|| SENTENCE_STARTERS.lines().collect());
    let at = |k: usize| words.get(k).copied().unwrap_or_default();
    let (previous, word, next) = (i.checked_sub(1).map_or("", at), at(i), at(i + 1));
    let first = |w: &str| w.chars().next();
    let ends_alphanumeric = previous
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    let after_lower = first(previous).is_some_and(|c| c.is_lowercase() || c.is_ascii_digit())
        && ends_alphanumeric
        // `... at Lincoln Laboratory (LL) The system ...`: a bracket closes before it, unless
        // it closes a list's marker (`( ii ) High quality translation ...`).
        || previous.ends_with([')', ']']) && !closes_enumerator(&words[..i]);
    let after_capital = first(previous).is_some_and(char::is_uppercase) && ends_alphanumeric;
    let before_capital = first(next).is_some_and(char::is_uppercase);
    let before_lower = first(next).is_some_and(char::is_lowercase);
    // `and The Associated Press`: a starter before a name is more often part of it.
    let before_name = before_capital && !is_common_lowercase(next);
    // A preposition, conjunction or determiner does not end a sentence.
    if is_endless(previous) {
        return false;
    }
    // `hemophilia A who ...`, `cyclosporine A - induced`: a letter that ends a name, not
    // the article, which comes before a word.
    let article_ends_name =
        word == "A" && (!first(next).is_some_and(char::is_alphanumeric) || is_endless(next));
    if starters.binary_search(&word).is_ok() && !article_ends_name {
        let closed = CLOSED_STARTERS.contains(&word);
        return after_lower && (!before_name || closed)
            || after_capital && closed && !before_capital && word != "A";
    }
    // The heading of an abstract's part: `... with capecitabine PURPOSE : To report ...`.
    if (ends_alphanumeric || previous.ends_with(')')) && is_heading(&words[i..]) {
        return true;
    }
    // A capitalized common word after a real word: `( i ) Robust parsing ...` begins a
    // list's item, not a sentence. `Sertraline-induced` and the spaced `Sertraline -
    // induced` are read as the word before the hyphen.
    let (word, before_lower) = match word.split_once('-') {
        Some((head, rest)) if first(rest).is_some_and(char::is_lowercase) => (head, true),
        _ if next == "-" => (word, first(at(i + 2)).is_some_and(char::is_lowercase)),
        _ => (word, before_lower),
    };
    first(previous).is_some_and(char::is_lowercase)
        && ends_alphanumeric
        && before_lower
        && first(word).is_some_and(char::is_uppercase)
        // `POS tags`, `AND`: an acronym or a word in capitals is no sentence start.
        && word.chars().skip(1).any(char::is_lowercase)
        && is_common_lowercase(word)
}

/// Whether the last of `words` closes a list's marker in brackets: `(ii)`, `b)`, `( 3 )`.
fn closes_enumerator(words: &[&str]) -> bool {
    let inner = match words {
        // Spaced: `( ii )`.
        [.., inner, ")"] => *inner,
        [.., last] => last.trim_start_matches('(').trim_end_matches(')'),
        [] => return false,
    };
    let roman = !inner.is_empty()
        && inner.len() <= 4
        && inner
            .chars()
            .all(|c| matches!(c, 'i' | 'v' | 'x' | 'I' | 'V' | 'X'));
    let letter = inner.chars().count() == 1 && inner.chars().all(char::is_alphabetic);
    let number = (1..=2).contains(&inner.len()) && inner.chars().all(|c| c.is_ascii_digit());
    roman || letter || number
}

/// Whether `words` begin with a heading in capitals that ends with a colon before a
/// capitalized word, as the parts of an abstract have them (`PURPOSE: To report`, `CASE
/// SUMMARY : A 45-year-old`; not `HUS : an unusual cause`). A heading of two words takes
/// words of [`HEADINGS`] only, so that `ATRA CONCLUSION :` is not read as one.
fn is_heading(words: &[&str]) -> bool {
    let capitals = |w: &str| {
        let w = w.trim_end_matches(':');
        w.chars().count() >= 3 && w.chars().all(|c| c.is_uppercase())
    };
    let known = |w: &str| HEADINGS.contains(&w.trim_end_matches(':'));
    // The words of the heading, ending with its colon (glued or spaced).
    let length = match words {
        [w, ..] if capitals(w) && w.ends_with(':') => 1,
        [w, ":", ..] if capitals(w) => 2,
        [w, v, ..] if known(w) && known(v) && v.ends_with(':') => 2,
        [w, v, ":", ..] if known(w) && known(v) => 3,
        _ => return false,
    };
    words
        .get(length)
        .and_then(|w| w.chars().next())
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// Words of the headings of structured abstracts, in capitals.
const HEADINGS: &[&str] = &[
    "AIM",
    "AIMS",
    "BACKGROUND",
    "CASE",
    "CASES",
    "CLINICAL",
    "CONCLUSION",
    "CONCLUSIONS",
    "DESCRIPTION",
    "DESIGN",
    "DISCUSSION",
    "FINDINGS",
    "INTRODUCTION",
    "MAIN",
    "MATERIALS",
    "MEASURES",
    "METHODS",
    "OBJECTIVE",
    "OBJECTIVES",
    "OUTCOME",
    "PATIENTS",
    "PRESENTATION",
    "PURPOSE",
    "REPORT",
    "REPORTS",
    "RESULTS",
    "SETTING",
    "STUDY",
    "SUMMARY",
];

/// Starters of a closed class (pronouns, determiners, prepositions, conjunctions, discourse
/// words), which unlike `Automatic` or `Statistical` do not begin a name's title-case
/// phrase. `A` after a capitalized word is left out: `Vitamin A deficiency`.
const CLOSED_STARTERS: &[&str] = &[
    "A",
    "After",
    "All",
    "Also",
    "Although",
    "An",
    "As",
    "At",
    "Because",
    "But",
    "By",
    "Despite",
    "During",
    "Each",
    "Finally",
    "For",
    "From",
    "Furthermore",
    "He",
    "However",
    "If",
    "In",
    "Instead",
    "It",
    "Many",
    "Moreover",
    "Most",
    "On",
    "Our",
    "Since",
    "Some",
    "Such",
    "The",
    "Their",
    "Then",
    "There",
    "Therefore",
    "These",
    "They",
    "This",
    "Through",
    "Thus",
    "To",
    "Unlike",
    "We",
    "When",
    "While",
    "With",
];

/// Whether `word` is one of [`ENDLESS_WORDS`], in any case, compared without allocating
/// (it is asked of every word of a long stretch).
fn is_endless(word: &str) -> bool {
    ENDLESS_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Words that a sentence does not end on: prepositions, conjunctions, determiners,
/// auxiliaries, and `told` (`told The Associated Press`), in lower case.
const ENDLESS_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "after",
    "against",
    "along",
    "although",
    "among",
    "an",
    "and",
    "any",
    "are",
    "around",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "behind",
    "below",
    "beneath",
    "beside",
    "between",
    "beyond",
    "both",
    "but",
    "by",
    "called",
    "despite",
    "during",
    "each",
    "either",
    "every",
    "for",
    "from",
    "had",
    "has",
    "have",
    "her",
    "his",
    "if",
    "in",
    "including",
    "inside",
    "into",
    "is",
    "its",
    "like",
    "my",
    "near",
    "neither",
    "no",
    "nor",
    "of",
    "on",
    "onto",
    "or",
    "our",
    "outside",
    "over",
    "per",
    "since",
    "than",
    "that",
    "the",
    "their",
    "these",
    "this",
    "those",
    "through",
    "throughout",
    "to",
    "told",
    "toward",
    "towards",
    "under",
    "unlike",
    "until",
    "upon",
    "via",
    "was",
    "were",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "with",
    "within",
    "without",
    "your",
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
    let original = text;
    // The rules read a line break that wraps a sentence as a space (byte for byte, so the
    // offsets found in `text` are offsets into `original`).
    let unwrapped = match segmenter {
        Segmenter::Rules => unwrap_lines(original),
        _ => std::borrow::Cow::Borrowed(original),
    };
    let text: &str = &unwrapped;
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
                // Candidates: the Unicode boundaries, and the end of a wire-service dateline
                // (`PERUGIA, Italy (AP) Reagan ...`), which the Unicode rules do not see and
                // which always ends a sentence. A Unicode boundary is kept when the library,
                // shown the two pieces around it, cuts there too (whole paragraphs are not
                // handed to it: a list marker such as `(iii)` makes it stop cutting for the
                // rest of the paragraph), when a spaced full stop of tokenized text ends the
                // piece, or when an abbreviation ends the sentence (see the module text).
                use unicode_segmentation::UnicodeSegmentation;
                let mut candidates: Vec<(usize, usize, bool)> = Vec::new();
                // Cuts the Unicode rules may split across pieces, found on the whole line.
                let mut forced = glued_stop_ends(line);
                forced.extend(citation_ends(line));
                forced.extend(inline_list_ends(line));
                // A line typed without capitals where its sentences begin (`tim cook runs
                // apple. he lives in palo alto.`) gives no case to go by, and the Unicode
                // rules see no boundary before a lower-case word.
                if starts_uncapitalized(line) {
                    forced.extend(uncapitalized_ends(line));
                }
                forced.sort_unstable();
                let mut forced = forced.into_iter().peekable();
                let mut at = line_start;
                for piece in line.split_sentence_bounds() {
                    let (from_line, to_line) = (at - line_start, at - line_start + piece.len());
                    let mut from = 0;
                    let mut ends = dateline_ends(piece);
                    let mut forced_here = false;
                    while let Some(&e) = forced.peek().filter(|&&e| e <= to_line) {
                        forced.next();
                        if e == to_line {
                            forced_here = true;
                        } else if e > from_line {
                            ends.push(e - from_line);
                        }
                    }
                    ends.sort_unstable();
                    ends.dedup();
                    for end in ends {
                        candidates.push((at + from, at + end, true));
                        from = end;
                    }
                    candidates.push((at + from, at + piece.len(), forced_here));
                    at += piece.len();
                }
                // A closing quote of tokenized text (`'' ` or `' ' `) after a sentence's end
                // belongs to that sentence; the Unicode rules put it with the next.
                for i in 1..candidates.len() {
                    let (start, end, _) = candidates[i];
                    let piece = &text[start..end];
                    let quote = ["''", "' '"].iter().find_map(|q| {
                        piece
                            .strip_prefix(q)
                            .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
                    });
                    if let Some(rest) = quote {
                        let moved = piece.len() - rest.trim_start().len();
                        candidates[i - 1].1 += moved;
                        candidates[i].0 += moved;
                    }
                }
                candidates.retain(|(start, end, _)| start < end);
                // A headline in title case (`Acme Corp. Names Jane Doe Chief Executive`) says
                // nothing by its capitals: an abbreviation there ends no sentence. A longer
                // line is read as sentences, whose abbreviations may end them.
                let title_case =
                    line.split_whitespace().nth(HEADLINE_WORDS).is_none() && is_title_case(line);
                let mut merged: Vec<(usize, usize)> = Vec::new();
                let mut previous: Option<(usize, usize, bool)> = None;
                for (start, end, dateline) in candidates {
                    // The sentence so far: a bare list marker (`1.`) stays with its item.
                    let so_far = merged.last().map_or("", |&(a, b)| &text[a..b]);
                    let cut = previous.is_none_or(|(p0, p1, after_dateline)| {
                        let before = without_closing_quote(&text[p0..p1]);
                        let after = &text[start..end];
                        // A list marker stays with its item, a headline's abbreviation with
                        // the rest of the headline.
                        let together = ends_with_list_marker(so_far)
                            || title_case && ends_with_abbreviation(before);
                        !together
                            && (after_dateline
                                || ends_with_spaced_stop(before) && opens_sentence(after)
                                || (bracketed_stop_ends(before)
                                    && is_sentence_start(after, before))
                                || (is_sentence_start(after, before)
                                    && (abbreviation_ends_sentence(before, after)
                                    // The library call is the costly test: last.
                                    || library_cuts(before, after))))
                    });
                    match merged.last_mut() {
                        Some(last) if !cut => last.1 = end,
                        _ => merged.push((start, end)),
                    }
                    previous = Some((start, end, dateline));
                }
                // Text that runs on without full stops: cut where a sentence plainly begins.
                for (start, end) in merged {
                    let mut from = start;
                    for cut in run_on_starts(&text[start..end]) {
                        pieces.push((from, start + cut));
                        from = start + cut;
                    }
                    pieces.push((from, end));
                }
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
        chars += original[byte..from].chars().count();
        let piece = &original[from..to];
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

/// `text` with the line breaks that wrap a sentence, rather than end it, written as spaces
/// (a `\r\n` as two), so that text pasted from an e-mail or a PDF (`… who has worked
/// for⏎IBM since 1990, lives in New⏎York …`) is cut into the sentences it has, not into
/// its lines. A break inside a paragraph (no blank line) wraps when the next line does not
/// begin a list item and
/// - the next line begins with a lower-case letter, or the line before ends with a comma,
///   a dash or an opening bracket, or with a word that no sentence ends on (`for`, `the`,
///   `and`, …); or
/// - the paragraph has three lines or more and reads as wrapped at a width: every line but
///   the last either ends a sentence or is too long to have taken the next line's first
///   word within the paragraph's longest line (of 30 characters or more), and at least
///   half of the breaks after lines that do not end a sentence continue it as above (so
///   `New⏎York` is joined inside such a paragraph).
///
/// So lines of one sentence each, with or without full stops, stay sentences of their own
/// (a line that does not end on a word like `for` and is followed by a capital).
pub fn unwrap_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    // Lines as (start, end of the text before the line break, end with it).
    let spans: Vec<(usize, usize, usize)> = lines(text)
        .map(|(start, line)| {
            let body = line.trim_end_matches(['\n', '\r']);
            (start, start + body.len(), start + line.len())
        })
        .collect();
    let mut soft: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < spans.len() {
        // A paragraph: lines k..m, none of them blank.
        let mut m = k;
        while m < spans.len() && !text[spans[m].0..spans[m].1].trim().is_empty() {
            m += 1;
        }
        if m > k + 1 {
            let body = |i: usize| text[spans[i].0..spans[i].1].trim();
            let width = (k..m).map(|i| body(i).chars().count()).max().unwrap_or(0);
            let first_word = |i: usize| {
                body(i)
                    .split_whitespace()
                    .next()
                    .map_or(0, |w| w.chars().count())
            };
            let mut wrapped_at_width = m - k >= 3 && width >= 30;
            let (mut open, mut continued) = (0, 0);
            for i in k..m - 1 {
                if ends_like_sentence(body(i)) {
                    continue;
                }
                open += 1;
                continued += usize::from(continues(body(i), body(i + 1)));
                let len = body(i).chars().count();
                if len + 1 + first_word(i + 1) <= width || len * 5 < width * 3 {
                    wrapped_at_width = false;
                }
            }
            // Prose wrapped at a width breaks mostly inside sentences, before a lower-case
            // word or after a word like `the`; a list of sentences, one a line, does not.
            let wrapped_at_width = wrapped_at_width && open > 0 && continued * 2 >= open;
            for (i, &(_, body_end, line_end)) in spans.iter().enumerate().take(m - 1).skip(k) {
                let (before, after) = (body(i), body(i + 1));
                if !is_list_item(after) && (wrapped_at_width || continues(before, after)) {
                    soft.push((body_end, line_end));
                }
            }
        }
        k = m.max(k + 1);
    }
    if soft.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for (from, to) in soft {
        bytes[from..to].fill(b' ');
    }
    // Only ASCII line breaks were overwritten with ASCII spaces.
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_string()))
}

/// Words a sentence does not end on: articles, prepositions, conjunctions, auxiliaries and
/// possessives. A line that ends on one continues on the next.
const NO_SENTENCE_ENDS: &[&str] = &[
    "a", "about", "after", "against", "among", "an", "and", "are", "as", "at", "be", "been",
    "before", "between", "but", "by", "can", "could", "during", "for", "from", "had", "has",
    "have", "her", "his", "if", "in", "into", "is", "its", "my", "nor", "of", "on", "onto", "or",
    "our", "per", "than", "that", "the", "their", "to", "under", "upon", "via", "was", "were",
    "whether", "which", "while", "who", "whose", "will", "with", "within", "without", "would",
    "your",
];

/// Whether the line `after` continues the sentence that the line `before` leaves open.
fn continues(before: &str, after: &str) -> bool {
    if after.chars().next().is_some_and(char::is_lowercase) {
        return true;
    }
    if before.ends_with([',', '(', '-', '\u{2013}', '\u{2014}', '/', '&']) {
        return true;
    }
    let last = before
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    !last.is_empty()
        && before.ends_with(last)
        && NO_SENTENCE_ENDS.contains(&last.to_lowercase().as_str())
}

/// Whether a line ends as a sentence or heading does: with a full stop, question or
/// exclamation mark or a colon, closing quotes and brackets after them allowed.
fn ends_like_sentence(line: &str) -> bool {
    line.trim_end_matches(['"', '\'', ')', ']', '\u{201d}', '\u{2019}'])
        .ends_with(['.', '?', '!', ':'])
}

/// Whether a line begins a list item: a bullet (`-`, `*`, `•`, `–`) or a marker such as
/// `1.`, `2)`, `(a)` before its text.
fn is_list_item(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with(['-', '*', '\u{2022}', '\u{2013}', '\u{2014}', '>', '#']) {
        return true;
    }
    t.split_whitespace().next().is_some_and(is_list_marker)
}

/// Lines of `text` with their byte offsets; each keeps its line break.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// Whether a word introduces a list: it ends with a colon after a letter (`Speakers:`; not
/// the `51:` of a time).
fn introduces_list(word: &str) -> bool {
    word.strip_suffix(':')
        .and_then(|w| w.chars().next_back())
        .is_some_and(char::is_alphabetic)
}

/// Whether `piece` is only the marker of a list item, or ends with one after a word that
/// introduces a list (`Speakers: 1.`): the marker stays with the item's text.
fn ends_with_list_marker(piece: &str) -> bool {
    let mut tokens = piece.split_whitespace().rev();
    match (tokens.next(), tokens.next()) {
        (Some(marker), None) => is_list_marker(marker),
        (Some(marker), Some(before)) => introduces_list(before) && is_list_marker(marker),
        _ => false,
    }
}

/// Whether `piece` is only the marker of a list item (`1.`, `12)`, `b.`, `(iv)`), which
/// stays with the item's text instead of becoming a sentence of its own.
fn is_list_marker(piece: &str) -> bool {
    let t = piece.trim();
    let inner = t.strip_prefix('(').unwrap_or(t);
    let Some(label) = inner.strip_suffix(['.', ')']) else {
        return false;
    };
    let digits = (1..=3).contains(&label.len()) && label.chars().all(|c| c.is_ascii_digit());
    let letter = label.len() == 1 && label.chars().all(|c| c.is_ascii_alphabetic());
    let roman = (1..=4).contains(&label.len()) && label.chars().all(|c| "ivx".contains(c));
    digits || letter || roman
}

/// `piece` without a closing quote of tokenized text at its end (`account. ' ' ` gives
/// `account. `), so that the tests of a boundary see the sentence's own end.
fn without_closing_quote(piece: &str) -> &str {
    let t = piece.trim_end();
    for q in ["''", "' '"] {
        if let Some(rest) = t.strip_suffix(q) {
            if rest.ends_with(char::is_whitespace) {
                return rest;
            }
        }
    }
    piece
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

/// Whether `before` ends with a sentence of its own in brackets: a full stop, question or
/// exclamation mark before the closing bracket (`(He later moved to Boston.) He died there
/// in 1990.`), where the library does not cut. A full stop counts only after a word of two
/// letters or more or a number, which is not an abbreviation that never ends a sentence:
/// not `(U.S.S.R.) President`, `(see Fig.) The`.
fn bracketed_stop_ends(before: &str) -> bool {
    const CLOSING: [char; 6] = [')', ']', '"', '\'', '\u{201d}', '\u{2019}'];
    let t = before.trim_end();
    let inner = t.trim_end_matches(CLOSING);
    if !t[inner.len()..].contains([')', ']']) {
        return false;
    }
    match inner.chars().next_back() {
        Some('!' | '?') => true,
        Some('.') => {
            let last = inner.split_whitespace().next_back().unwrap_or_default();
            let last = last.trim_start_matches(['(', '[', '"', '\'', '\u{201c}', '\u{2018}']);
            let stem = last.strip_suffix('.').unwrap_or_default();
            stem.chars().count() >= 2
                && stem.chars().all(char::is_alphanumeric)
                && !NEVER_FINAL
                    .iter()
                    .any(|a| last.len() == a.len() && last.eq_ignore_ascii_case(a))
        }
        _ => false,
    }
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

/// A place inside one sentence of [`sentences`] where it may also end: an abbreviation's
/// full stop before a capitalized word (`She moved to the U.K. Smith stayed in Paris.`,
/// `Jones works for Apple Inc. Smith lives in Paris.`). The segmenter keeps such words
/// together, since `the U.K. Treasury` and `Apple Inc. Chairman Tim Cook` are one
/// sentence as often; the extractor reads the sentence again cut there when the first
/// reading made nothing of the two words ([`crate::extract`]). Char offsets in the
/// sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoubtfulEnd {
    /// The abbreviation (`U.K.`, `Inc.`), full stop included.
    pub before: (usize, usize),
    /// The capitalized word after it, without opening quotes or brackets.
    pub after: (usize, usize),
    /// Whether the abbreviation ends the name of a company or a person (`Inc.`, `Jr.`), so
    /// that no name goes on past it.
    pub name_end: bool,
}

/// The [`DoubtfulEnd`]s of a sentence: an abbreviation with a full stop (letters with
/// inner full stops such as `U.K.` or `p.m.`, or two letters or more such as `Inc.`,
/// `Mass.`, `etc.`), then whitespace, then a word that begins with a capital letter. Not
/// after initials (`Franklin D. Roosevelt`), titles (`Dr. Smith`), the first word of a place
/// (`St. Paul`), references (`Fig. 3`, `No. 5`) and the Latin abbreviations of running text
/// (`e.g. BERT`), nor before a title, a company's legal form (`Co. Inc.`), or a time zone
/// or a day after a clock time (`5 p.m. EST`).
pub fn doubtful_ends(sentence: &str) -> Vec<DoubtfulEnd> {
    let mut out = Vec::new();
    if !sentence.contains(". ") && !sentence.contains(".\u{a0}") {
        return out;
    }
    let chars: Vec<char> = sentence.chars().collect();
    let tokens = whitespace_tokens(&chars);
    let text = |(a, b): (usize, usize)| -> String { chars[a..b].iter().collect() };
    for (k, pair) in tokens.windows(2).enumerate() {
        let word = text(pair[0]);
        let Some(stem) = word.strip_suffix('.') else {
            continue;
        };
        // `St.` after a capitalized word or a number ends a street's name (`on Elm St. Tom
        // Lee …`), not begins a place's (`in St. Paul`).
        let street = word == "St."
            && k > 0
            && text(tokens[k - 1])
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
        let letters = stem.chars().filter(|c| c.is_alphabetic()).count();
        let inner = stem.contains('.');
        if !stem.chars().all(|c| c.is_alphabetic() || c == '.')
            || letters == 0
            || (letters == 1 && !inner)
            || TITLES.contains(&word.as_str())
            || TITLE_WORDS.contains(&stem)
            || PLACE_PREFIXES.contains(&word.as_str()) && !street
            || NEVER_FINAL.iter().any(|a| a.eq_ignore_ascii_case(&word))
        {
            continue;
        }
        // The next word, without opening quotes or brackets.
        let (mut a, b) = pair[1];
        while a < b && "\"'([{\u{201c}\u{2018}".contains(chars[a]) {
            a += 1;
        }
        let next = text((a, b));
        let bare = next.trim_end_matches(|c: char| !c.is_alphanumeric());
        let clock = word.eq_ignore_ascii_case("a.m.") || word.eq_ignore_ascii_case("p.m.");
        if !next.chars().next().is_some_and(char::is_uppercase)
            || TITLES.contains(&next.as_str())
            || TITLE_WORDS.contains(&bare)
            || COMPANY_FORMS.contains(&next.trim_end_matches([',', ';', ':']))
            || clock && (TIME_ZONES.contains(&bare) || WEEKDAYS.contains(&bare))
        {
            continue;
        }
        let after_end = a + bare.chars().count();
        out.push(DoubtfulEnd {
            before: pair[0],
            after: (a, after_end),
            name_end: NAME_ENDS.contains(&word.as_str()),
        });
    }
    out
}

/// Closing quotes and brackets that may follow a sentence's full stop, question or
/// exclamation mark in a line typed without capitals (`"why?"`, `(see above.)`).
const CLOSERS: [char; 5] = ['"', '\'', ')', '\u{201d}', '\u{2019}'];

/// Whether a line is typed without capitals where sentences begin: it begins with a
/// lower-case letter, and every word after a full stop, question or exclamation mark and a
/// space does too (at least one does). Such text (`tim cook runs apple. he lives in palo
/// alto.`) is cut at its full stops as if the next words were capitalized.
pub fn starts_uncapitalized(line: &str) -> bool {
    let first = line.trim_start().chars().find(|c| c.is_alphanumeric());
    if !first.is_some_and(char::is_lowercase) {
        return false;
    }
    let mut after_stop = 0;
    let mut words = line.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let ends = w.trim_end_matches(CLOSERS).ends_with(['.', '?', '!']);
        if let (true, Some(next)) = (ends, words.peek()) {
            match next.chars().find(|c| c.is_alphanumeric()) {
                Some(c) if c.is_uppercase() => return false,
                Some(c) if c.is_lowercase() => after_stop += 1,
                _ => {}
            }
        }
    }
    after_stop > 0
}

/// Byte offsets in a line typed without capitals ([`starts_uncapitalized`]) where a
/// sentence begins: after a question or exclamation mark, or after a full stop that ends a
/// word of two characters or more that is no abbreviation (`apple.`, `run-time.`, `(pesq).`,
/// `1987.`; not `dr.`, `u.s.`, `e.g.` or `...`), or a US state after a comma (`chisholm,
/// minn.`), before a word that begins with a lower-case letter.
fn uncapitalized_ends(line: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut tokens = line
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
        .peekable();
    let mut previous = "";
    while let Some((_, w)) = tokens.next() {
        let Some(&(next_at, next)) = tokens.peek() else {
            break;
        };
        let after_comma = std::mem::replace(&mut previous, w).ends_with(',');
        if !next
            .chars()
            .find(|c| c.is_alphanumeric())
            .is_some_and(char::is_lowercase)
        {
            continue;
        }
        let quoted = w.ends_with(['"', '\'', '\u{201d}', '\u{2019}']);
        let w = w.trim_end_matches(CLOSERS);
        let cut = if w.ends_with(['?', '!']) {
            // Not a question in quotes before who asked it (`"why?" she said`).
            !quoted
        } else if let Some(stem) = w.strip_suffix('.') {
            // The word before the full stop, without closing brackets (`(pesq).`).
            let core: Vec<char> = stem
                .trim_end_matches(|c| CLOSERS.contains(&c) || c == ']')
                .chars()
                .collect();
            let letters = core.iter().all(|c| c.is_alphabetic());
            let lower = w.to_lowercase();
            // A state after a place ends the sentence, as in cased text (`in chisholm,
            // minn. illinois ...`; inside a sentence a comma follows the state).
            let state = after_comma && is_state_in_any_case(w);
            let word = core.len() >= 2 && core.last().is_some_and(|c| c.is_alphanumeric());
            let abbreviation = core.contains(&'.')
                || letters && is_abbreviation(&core)
                || NEVER_FINAL.contains(&lower.as_str())
                || TITLES.iter().any(|t| t.eq_ignore_ascii_case(w));
            state || word && !abbreviation
        } else {
            false
        };
        if cut {
            out.push(next_at);
        }
    }
    out
}

/// The whitespace-delimited tokens of `chars` as char spans (`start`, `end` exclusive).
pub(crate) fn whitespace_tokens(chars: &[char]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        if chars[k].is_whitespace() {
            k += 1;
            continue;
        }
        let start = k;
        while k < chars.len() && !chars[k].is_whitespace() {
            k += 1;
        }
        tokens.push((start, k));
    }
    tokens
}

/// Whether `next` begins a new sentence after `previous` (the segmenter cut between them):
/// not when it begins in lower case, not after a reference abbreviation such as `Fig.`, and
/// not where a time zone or a day follows a clock time (`2 a.m. EST`, `5 p.m. Monday`).
fn is_sentence_start(next: &str, previous: &str) -> bool {
    let starts_lower = next
        .trim_start()
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase());
    let last_word = previous.split_whitespace().next_back().unwrap_or_default();
    // In lower case an ordinary word may end the sentence (`She said no. Smith left.`);
    // before a number there is no cut to judge (`No. 5`, `fig. 3`).
    let ordinary = last_word
        .strip_suffix('.')
        .is_some_and(|w| w.chars().all(char::is_lowercase) && is_ordinary_word(w));
    let abbreviation = !ordinary
        && NEVER_FINAL
            .iter()
            .any(|a| last_word.len() == a.len() && last_word.eq_ignore_ascii_case(a));
    let next_word = first_word(next);
    let after_clock = (last_word.eq_ignore_ascii_case("a.m.")
        || last_word.eq_ignore_ascii_case("p.m."))
        && (TIME_ZONES.contains(&next_word) || WEEKDAYS.contains(&next_word));
    !starts_lower && !abbreviation && !after_clock
}

/// The first word of `text` without the punctuation around it (`"Software,` and
/// `` ` ` Software`` give `Software`).
fn first_word(text: &str) -> &str {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .find(|w| !w.is_empty())
        .unwrap_or_default()
}

/// The most words a line in title case may have to be read as one headline.
const HEADLINE_WORDS: usize = 30;

/// Short words that title case may leave in lower case (`Walt Disney Co. Buys Pixar for
/// $7.4 Billion`).
const TITLE_CASE_SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs.",
];

/// Whether `text` is written in title case, as headlines are: at least four words that
/// begin with a letter, besides the small words of [`TITLE_CASE_SMALL_WORDS`], at most one
/// in twenty of them in lower case and at least half with a lower-case letter after the first
/// (not text in capitals). A sentence rich in names (`John Smith, CEO of Apple
/// Inc., met Tim Cook in New York.`) still has its verbs in lower case.
pub fn is_title_case(text: &str) -> bool {
    let (mut words, mut lower, mut cased) = (0usize, 0usize, 0usize);
    for w in text.split_whitespace() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '.');
        let Some(first) = w.chars().next().filter(|c| c.is_alphabetic()) else {
            continue;
        };
        if TITLE_CASE_SMALL_WORDS.contains(&w) {
            continue;
        }
        words += 1;
        lower += usize::from(first.is_lowercase());
        cased += usize::from(w.chars().skip(1).any(char::is_lowercase));
    }
    // Text in capitals is not title case: there the words' other letters are capitals too.
    words >= 4 && lower * 20 <= words && cased * 2 >= words
}

/// Whether `previous` ends with a word that an abbreviation's full stop ends: an
/// abbreviation the library knows, a state, a title, letters with full stops between them
/// (`U.S.`) or an initial.
fn ends_with_abbreviation(previous: &str) -> bool {
    let last = previous
        .split_whitespace()
        .next_back()
        .unwrap_or_default()
        .trim_end_matches(['"', '\'', ')', '\u{201d}', '\u{2019}']);
    let Some(stem) = last.strip_suffix('.') else {
        return false;
    };
    let core: Vec<char> = stem.chars().collect();
    stem.contains('.')
        || core.len() == 1 && core[0].is_alphabetic()
        || is_state(last)
        || TITLES.contains(&last)
        || is_abbreviation(&core)
}

/// Whether `previous` ends with an abbreviation that also ends the sentence, although the
/// library keeps it with `next`: the library does not cut before a capitalized word unless
/// it knows it as a sentence opener, which leaves `Nashville, Tenn. Software engineer David
/// Lee ...` one sentence. Cut when the next word is a common lower-case word of the training
/// text written with a capital (Punkt's orthographic evidence: `Software`, `The`, `He`; not
/// `Navy` or `Paul`, which the text capitalizes inside sentences), or when a US state ends a
/// place (`Danville, Ala. Springsteen ...`). Never after an initial (`Franklin D.`).
fn abbreviation_ends_sentence(previous: &str, next: &str) -> bool {
    let mut words = previous.split_whitespace().rev();
    let last = words.next().unwrap_or_default();
    let Some(stem) = last.strip_suffix('.') else {
        return false;
    };
    let letters = stem.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 || (letters == 1 && !stem.contains('.')) {
        return false;
    }
    // A title after an abbreviation that ends a company's or a person's name opens the
    // next sentence (`Ardent Motors Corp. Dr. Ruth Abara ...`); after a place it may be
    // part of the name (`U.S. Sen. Bob Dole`, `Tenn. Gov. Ned McWherter`).
    let next_word = next.split_whitespace().next().unwrap_or_default();
    if TITLES.contains(&next_word) && NAME_ENDS.contains(&last) {
        return true;
    }
    let word = first_word(next);
    let mut chars = word.chars();
    let capitalized = chars.next().is_some_and(char::is_uppercase);
    if !capitalized {
        return false;
    }
    let titlecase = chars.all(|c| c.is_lowercase());
    // A word that only the library's list takes for an abbreviation (`to me.`, `said no.`,
    // `in May.`) ends the sentence before a capital.
    if is_ordinary_word(stem) {
        return true;
    }
    // Country and union initials are adjectives as often as they end a sentence (`the U.S.
    // General Accounting Office`): after them only the library decides.
    let adjective = ADJECTIVE_INITIALS.contains(&last);
    if titlecase && !adjective && word.chars().count() >= 2 && is_common_lowercase(word) {
        return true;
    }
    let after_comma = words.next().is_some_and(|w| w.ends_with(','));
    after_comma && (is_state(last) || POSTAL_CODES.contains(&stem))
}

/// Byte offsets in `piece` where a wire-service dateline ends: a parenthesized agency tag of
/// capitals (`(AP)`, `(UPI)`, `(XINHUA)`; also `(Reuters)`) after at most six words that
/// begin with capitals (`NEW ORLEANS (AP)`, `PERUGIA, Italy (AP)`), followed by a capital
/// or a quote, with an optional dash after the tag (`WASHINGTON (AP) -- The ...`). The
/// offset is where the next sentence begins.
fn dateline_ends(piece: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(open) = piece[search..].find('(').map(|i| search + i) {
        search = open + 1;
        let Some(close) = piece[open..].find(')').map(|i| open + i) else {
            break;
        };
        // Tokenized text spaces the brackets: `( AP )`.
        let tag = piece[open + 1..close].trim();
        let known = AGENCIES.contains(&tag);
        let capitals =
            (2..=9).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_uppercase() || c == '-');
        if !known && !capitals {
            continue;
        }
        // The place before the tag: one to six capitalized words (commas between them), the
        // whole of the piece before it (a dateline opens a story; after a sentence's end the
        // Unicode rules have begun a new piece).
        let place = piece[..open].trim_end();
        let place_words: Vec<&str> = place.split_whitespace().filter(|w| *w != ",").collect();
        let is_place = (1..=6).contains(&place_words.len())
            && place_words.iter().all(|w| {
                w.trim_end_matches(',')
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase)
            });
        // An unknown tag needs a place written as datelines write it: in capitals
        // (`GIESSEN`), or a city and its country (`Tunis, Tunisia`).
        let dateline_style = place_words.iter().any(|w| {
            let w = w.trim_end_matches(',');
            w.len() >= 2 && w.chars().all(|c| c.is_uppercase() || !c.is_alphabetic())
        }) || place.contains(',');
        if !is_place || !(known || dateline_style) {
            continue;
        }
        // After the tag: spaces, an optional dash, spaces, then a capital or a quote.
        let rest = &piece[close + 1..];
        let after_dash = rest
            .trim_start()
            .trim_start_matches(['-', '\u{2013}', '\u{2014}', '_'])
            .trim_start();
        let opens = after_dash
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || "\"`'\u{201c}".contains(c));
        if opens && after_dash.len() < rest.len() {
            out.push(piece.len() - after_dash.len());
            search = piece.len() - after_dash.len();
        }
    }
    out
}

/// Byte offsets in `line` where an item of a numbered list typed on one line begins (`1.
/// Tim Cook, Apple 2. Satya Nadella, Microsoft 3. Sundar Pichai, Google`): the markers
/// `1.`, `2.`, … in order, the first at the line's start or after a colon, each between
/// spaces and before a capital. The Unicode rules and the library keep a number's full stop
/// before a name inside the sentence, and the news model made `Microsoft 3` an
/// organization. A line with one marker is no list.
fn inline_list_ends(line: &str) -> Vec<usize> {
    let tokens: Vec<(usize, &str)> = line
        .split_whitespace()
        .map(|t| (t.as_ptr() as usize - line.as_ptr() as usize, t))
        .collect();
    let capital_after = |k: usize| {
        tokens
            .get(k + 1)
            .and_then(|(_, t)| t.chars().next())
            .is_some_and(char::is_uppercase)
    };
    let Some(first) = tokens.iter().position(|&(_, t)| t == "1.") else {
        return Vec::new();
    };
    if !(first == 0 || introduces_list(tokens[first - 1].1)) || !capital_after(first) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut next = 2;
    for (k, &(at, token)) in tokens.iter().enumerate().skip(first + 1) {
        if token == format!("{next}.") && capital_after(k) {
            out.push(at);
            next += 1;
        }
    }
    out
}

/// Byte offsets in `piece` where a sentence begins right after a full stop with no space
/// between them, as fast typing leaves it (`He lives in Boston.She works for IBM.`): the
/// full stop ends a word of at least two letters with a lower-case one among them, or a
/// number, that is no abbreviation or title (not `Mr.Smith`, `St.Louis`; `U.S.` has one
/// letter a part), and a capitalized word of lower-case letters follows (not `ASP.NET`,
/// `Amazon.com`). Tokens that hold an `@` or a `/` (addresses, paths) are left alone.
fn glued_stop_ends(piece: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (dot, _) in piece.match_indices('.') {
        let after = &piece[dot + 1..];
        let mut next = after.chars();
        let starts_word = matches!(
            (next.next(), next.next()),
            (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase()
        );
        if !starts_word {
            continue;
        }
        let before = &piece[..dot];
        let mut word: Vec<char> = before
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        word.reverse();
        // A word with a lower-case letter, or a number (`in 1990.Then`), of two or more.
        let prose =
            word.iter().any(|c| c.is_lowercase()) || word.iter().all(|c| c.is_ascii_digit());
        if word.len() < 2 || !prose {
            continue;
        }
        // The whitespace-delimited token around the full stop, looked at no further than
        // an address can reach on either side (text without spaces stays linear); a longer
        // token is no prose.
        let back = before
            .char_indices()
            .rev()
            .take(MAX_ADDRESS)
            .find(|(_, c)| c.is_whitespace())
            .map(|(k, c)| k + c.len_utf8());
        let token_start = match back {
            Some(k) => k,
            None if before.len() <= MAX_ADDRESS => 0,
            None => continue,
        };
        let ahead = after
            .char_indices()
            .take(MAX_ADDRESS)
            .find(|(_, c)| c.is_whitespace())
            .map(|(k, _)| dot + 1 + k);
        let token_end = match ahead {
            Some(k) => k,
            None if after.len() <= MAX_ADDRESS => piece.len(),
            None => continue,
        };
        let token = &piece[token_start..token_end];
        let titled = format!("{}.", word.iter().collect::<String>());
        if !token.contains(['@', '/'])
            && !TITLES.contains(&titled.as_str())
            && !PLACE_PREFIXES.contains(&titled.as_str())
            && !STATES.contains(&titled.as_str())
            && !is_abbreviation(&word)
        {
            out.push(dot + 1);
        }
    }
    out
}

/// Where a sentence's own text ends: its last character that is not whitespace, a closing
/// quote or bracket, a footnote mark (`¹`) or a citation in square brackets (`[2]`,
/// `[citation needed]`), so that the full stop of `"I was born in Boston."` or
/// `Boston.[2]` is found as the sentence's and kept out of the word before it.
fn sentence_end(chars: &[char]) -> Option<usize> {
    let mut k = chars.len();
    loop {
        while k > 0 && chars[k - 1].is_whitespace() {
            k -= 1;
        }
        let last = *chars.get(k.checked_sub(1)?)?;
        if last == ']' {
            let inside = chars[..k - 1]
                .iter()
                .rev()
                .take(MAX_CITATION + 1)
                .position(|&c| c == '[' || c == ']');
            if let Some(n) = inside.filter(|&n| n > 0 && chars[k - 2 - n] == '[') {
                k -= n + 2;
                continue;
            }
        }
        if "\"'\u{201d}\u{2019}\u{bb}\u{203a})}]".contains(last) || is_superscript(last) {
            k -= 1;
            continue;
        }
        return Some(k - 1);
    }
}

/// The longest text between the brackets of a citation (`[citation needed]`).
const MAX_CITATION: usize = 30;

/// Superscript digits and signs, as footnote marks are written (`Smith¹`). They are words
/// of their own, never part of an entity, and the encoder reads them as spaces
/// ([`crate::extract::model_text`]).
pub fn is_superscript(c: char) -> bool {
    matches!(c, '\u{b9}' | '\u{b2}' | '\u{b3}' | '\u{2070}'..='\u{207f}')
}

/// A letter or digit that belongs to a word: superscripts are footnote marks, not letters.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_superscript(c)
}

/// Byte offsets in `piece` where a sentence begins after citations in square brackets that
/// follow a sentence's full stop, question or exclamation mark (`... in Boston.[2] He
/// works ...`, `...[3][4] The ...`), as text copied from an encyclopedia has them: the
/// next sentence begins with a capital or a quote.
fn citation_ends(piece: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (end, _) in piece.match_indices(['.', '?', '!']) {
        let mut at = end + 1;
        let mut groups = 0;
        while piece[at..].starts_with('[') {
            let inside = &piece[at + 1..];
            let Some(close) = inside
                .char_indices()
                .take(MAX_CITATION + 1)
                .find(|&(_, c)| c == ']' || c == '[' || c == '\n')
                .filter(|&(k, c)| c == ']' && k > 0)
                .map(|(k, _)| k)
            else {
                break;
            };
            at += close + 2;
            groups += 1;
        }
        let rest = &piece[at..];
        let next = rest.trim_start();
        let opens = next
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || "\"'\u{201c}\u{2018}".contains(c));
        if groups > 0 && next.len() < rest.len() && opens {
            out.push(piece.len() - next.len());
        }
    }
    out
}

/// Characters that join the parts of one word when they stand between letters or digits.
fn joins(c: char, before: char, after: char) -> bool {
    let alnum = |x: char| x.is_alphanumeric();
    match c {
        // Not before a footnote mark: `Boston.¹` ends a sentence.
        '.' => alnum(before) && alnum(after) && !is_superscript(after),
        '-' | '&' | '/' | '_' | '@' | '+' | '\u{2010}' | '\u{2011}' => {
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
    words_with(sentence, final_stop, Splits::default())
}

/// Which joiners between letters or digits [`words_with`] makes words of their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Splits {
    /// `Lithium-induced` as `Lithium`, `-`, `induced`: how ADE writes it, so that a drug's
    /// mention ends before the hyphen ([`crate::data::LabelSchema::hyphens_split`]).
    pub hyphens: bool,
    /// `Nadella/Microsoft` as `Nadella`, `/`, `Microsoft`: how ADE writes it, and what a
    /// model that never saw a slash (CoNLL04) should read
    /// ([`crate::data::LabelSchema::slashes_split`]).
    pub slashes: bool,
    /// `Paris-based` as `Paris`, `-`, `based`: a hyphen after a capitalized piece and before
    /// a lower-case one, where a name modifies a word (`Seattle-area`, `Harvard-educated`),
    /// so that the name can be a mention without the word. Names joined by a hyphen
    /// (`Jean-Luc`, `Coca-Cola`) and words in lower case (`well-known`) stay whole.
    pub name_hyphens: bool,
}

/// [`words`], with the joiners `split` names words of their own.
pub fn words_with(sentence: &str, final_stop: bool, split: Splits) -> Vec<(usize, usize)> {
    let chars: Vec<char> = sentence.chars().collect();
    let last_stop = sentence_end(&chars);
    let mut out = Vec::new();
    let mut i = 0;
    // Where the whitespace-delimited token at `i` ends, and whether it holds an `@`.
    let mut token = (0, false);
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        if !is_word_char(chars[i]) {
            // An ellipsis typed as full stops (`...`) is one word, as `…` is.
            let dots = chars[i..].iter().take_while(|&&c| c == '.').count();
            let len = if is_possessive(&chars, i) {
                2
            } else {
                dots.max(1)
            };
            out.push((i, i + len));
            i += len;
            continue;
        }
        // A web or e-mail address is one word, whatever punctuation it holds; punctuation
        // that ends the sentence or closes a bracket after it is not part of it. Checked
        // only where a whitespace-delimited token or a bracket or quote begins, on tokens
        // that can hold one, so that long runs without spaces stay linear.
        if i >= token.0 {
            let end = chars[i..]
                .iter()
                .position(|c| c.is_whitespace())
                .map_or(chars.len(), |k| i + k);
            token = (end, chars[i..end].contains(&'@'));
        }
        let opens = i == 0
            || chars[i - 1].is_whitespace()
            || "([{<\"'\u{201c}\u{2018}\u{ab}".contains(chars[i - 1]);
        if opens && token.0 - i <= MAX_ADDRESS && (token.1 || address_prefix(&chars[i..token.0])) {
            let mut k = token.0;
            while k > i && ".,;:!?)]}>'\"\u{bb}\u{201d}\u{2019}".contains(chars[k - 1]) {
                k -= 1;
            }
            if is_web_address(&chars[i..k].iter().collect::<String>()) {
                out.push((i, k));
                i = k;
                continue;
            }
        }
        // A word: letters and digits, and the joiners between them.
        let start = i;
        // Where the word's last piece after a full stop inside it begins (`S` of `U.S`).
        let mut after_stop = None;
        i += 1;
        while i < chars.len() {
            let c = chars[i];
            if is_word_char(c) {
                i += 1;
            } else if i + 1 < chars.len()
                && joins(c, chars[i - 1], chars[i + 1])
                && !((split.hyphens
                    || split.name_hyphens
                        && (after_name(&chars, start, i) || before_name(&chars, start, i)))
                    && matches!(c, '-' | '\u{2010}' | '\u{2011}'))
                && !(split.slashes && c == '/')
            {
                if is_possessive(&chars, i) {
                    break;
                }
                if c == '.' {
                    // A title typed without its space (`Dr.Sarah Kim`, `Mr.Smith`) is a
                    // word of its own, as `Dr. Sarah Kim` has it.
                    if chars[i + 1].is_uppercase() {
                        let word: String = chars[start..=i].iter().collect();
                        if TITLES.contains(&word.as_str()) {
                            i += 1;
                            break;
                        }
                    }
                    after_stop = Some(i + 1);
                }
                i += 1;
            } else {
                break;
            }
        }
        // Letters with full stops between them (`U.S`, `Ph.D`, `e.g`) keep the one after
        // them; a version, a number or a domain does not (`v1.1`, `3.5`, `Amazon.com`).
        let inner_stop = after_stop.is_some_and(|p| i - p == 1 && chars[p].is_alphabetic());
        // A full stop right after the word: an abbreviation's (kept) or the sentence's. Not
        // the first of an ellipsis (`Smith...`, `methadone...`), which is a word of its own.
        if chars.get(i) == Some(&'.')
            && chars
                .get(i + 1)
                .is_none_or(|&n| !n.is_alphanumeric() && n != '.')
        {
            let ends_sentence = final_stop && Some(i) == last_stop;
            // At the very end a lone letter's stop is the sentence's (`amphotericin B.`,
            // `vitamin C.`): a sentence does not end on a name's initial.
            let initial = i - start == 1 && chars[start].is_alphabetic();
            // A state's abbreviation keeps its stop too (`in Amherst, Mass.`), which the
            // library's list lacks where the word is also a common one.
            let state = || {
                let word: String = chars[start..=i].iter().collect();
                is_state(&word)
            };
            // A postal code after a place and a comma does not (`in Denver, CO.`).
            let postal = || {
                let word: String = chars[start..i].iter().collect();
                let before = chars[..start].iter().rev().find(|c| !c.is_whitespace());
                POSTAL_CODES.contains(&word.as_str()) && before == Some(&',')
            };
            if !ends_sentence
                || inner_stop
                || (!initial && !postal() && is_abbreviation(&chars[start..i]))
                || state()
            {
                i += 1;
            }
        }
        out.push((start, i));
    }
    out
}

/// Prefixes that a hyphen joins to a name without making them one (`ex-Google`,
/// `anti-American`, `then-Senator`), compared in lower case.
const NAME_PREFIXES: [&str; 8] = ["ex", "pro", "anti", "non", "post", "pre", "mid", "then"];

/// Whether the joiner at `at`, in the word that begins at `start`, ends one of
/// [`NAME_PREFIXES`] that the word begins with and comes before a capital (`Ex-Google
/// engineer Ann Lee` gave the organization `Ex-Google`), so that the name can be a mention
/// without the prefix. CoNLL04 has four such words (`ex-Beatle`, `then-Texas`) and tags
/// none of them; SciERC's (`non-English`) are inside longer mentions, which still hold
/// them.
fn before_name(chars: &[char], start: usize, at: usize) -> bool {
    if at - start > 4 || !chars.get(at + 1).is_some_and(|c| c.is_uppercase()) {
        return false;
    }
    let prefix: String = chars[start..at].iter().collect::<String>().to_lowercase();
    NAME_PREFIXES.contains(&prefix.as_str()) && chars.get(at + 1).is_some_and(|c| c.is_uppercase())
}

/// Whether the joiner at `at`, in the word that begins at `start`, follows a capitalized
/// piece of letters and comes before a lower-case word that a name modifies (`Paris-based`,
/// not `Jean-Luc`, `well-known`, `COVID-19`, nor the given names `Moon Jae-in`, `Ban
/// Ki-moon`, `Lee Hsien-loong`: [`name_modifies`]).
fn after_name(chars: &[char], start: usize, at: usize) -> bool {
    let piece = chars[start..at]
        .iter()
        .rposition(|c| !c.is_alphabetic())
        .map_or(start, |k| start + k + 1);
    piece < at
        && chars[piece].is_uppercase()
        && chars[piece + 1..at].iter().all(|c| c.is_lowercase())
        && chars.get(at + 1).is_some_and(|c| c.is_lowercase())
        && name_modifies(chars, at)
}

/// Lower-case words after a name and a hyphen that the name modifies, beside the
/// participles in `-ed` and `-ing` (`Seattle-area`, `Chicago-born`, `Obama-era`).
const NAME_MODIFIED: &[&str] = &[
    "born", "bred", "made", "run", "built", "grown", "driven", "owned", "bound", "area", "era",
    "style", "like", "wide", "class", "free", "only", "specific", "centric", "friendly", "ish",
    "elect", "esque", "proof", "type", "sized",
];

/// Whether the lower-case piece after the hyphen at `at` is a word a name modifies: a
/// participle (`based`, `led`, `speaking`), one of [`NAME_MODIFIED`], or the first of
/// several hyphenated words (`Korean-to-English`). Short pieces in `-ing` are left alone:
/// they are as often syllables of a given name (`Jin-ping`, `Mei-ling`, `Yao-ming`), and
/// so are the pieces of Korean and Chinese given names (`Jae-in`, `Ki-moon`).
fn name_modifies(chars: &[char], at: usize) -> bool {
    let end = chars[at + 1..]
        .iter()
        .position(|c| !c.is_alphabetic())
        .map_or(chars.len(), |k| at + 1 + k);
    if chars
        .get(end)
        .is_some_and(|c| matches!(c, '-' | '\u{2010}' | '\u{2011}'))
    {
        return true;
    }
    let piece: String = chars[at + 1..end].iter().collect();
    let n = end - at - 1;
    (piece.ends_with("ed") && n >= 3)
        || (piece.ends_with("ing") && n >= 6)
        || NAME_MODIFIED.contains(&piece.as_str())
}

/// Words of the segmentation library's English abbreviation list that typed text far more
/// often ends a sentence with, in lower case (`He gave it to me.`, `She said no.`, `He ate a
/// fig.`), and the month `May`, which has no abbreviation. `No. 5`, `Fig. 3` and `sec. 2`
/// are untouched: a number after the full stop never begins a sentence.
const ORDINARY_WORDS: &[&str] = &[
    "me", "no", "ok", "id", "re", "man", "fed", "art", "sec", "min", "con", "det", "fig", "ken",
    "arc", "cal", "op", "ord", "que", "ver", "pl", "nos",
];

/// Whether `word` (without its full stop) is one of [`ORDINARY_WORDS`] in lower case, or
/// `May`.
fn is_ordinary_word(word: &str) -> bool {
    word == "May" || ORDINARY_WORDS.contains(&word)
}

/// Whether the segmentation library reads `word` followed by a full stop as an abbreviation
/// (`Tenn.`, `Inc.`, `Jr.`; not `Texas.`): it does not cut `word. Xyz`, where `Xyz` is a
/// capitalized word that no sentence-starter list holds. At the end of a sentence such a
/// full stop belongs to the word and ends the sentence too, as the datasets write it.
fn is_abbreviation(word: &[char]) -> bool {
    if word.is_empty() || !word.iter().all(|c| c.is_alphabetic()) || word.len() > 8 {
        return false;
    }
    if is_ordinary_word(&word.iter().collect::<String>()) {
        return false;
    }
    let probe: String = word.iter().collect::<String>() + ". Xyz abc.";
    sentencex::segment("en", &probe).len() == 1
}

/// The longest web or e-mail address [`words`] keeps as one word.
const MAX_ADDRESS: usize = 2048;

/// Whether `chars` begin as a web address can (`http`, `ftp`, `www.`, in any case).
fn address_prefix(chars: &[char]) -> bool {
    let head: String = chars
        .iter()
        .take(4)
        .flat_map(|c| c.to_lowercase())
        .collect();
    head == "http" || head == "www." || head.starts_with("ftp")
}

/// Whether a word is a web address (`https://…`, `www.…`) or an e-mail address
/// (`press@example.com`). No dataset has one inside an entity, so [`trim_span`] leaves them
/// out; a company's name written as a domain (`Amazon.com`) is not one.
pub fn is_web_address(word: &str) -> bool {
    let lower = word.to_lowercase();
    for scheme in ["http://", "https://", "ftp://"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            return rest.chars().next().is_some_and(char::is_alphanumeric);
        }
    }
    if let Some(rest) = lower.strip_prefix("www.") {
        return rest.contains('.') && rest.chars().next().is_some_and(char::is_alphanumeric);
    }
    let mut parts = lower.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-".contains(c))
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|l| l.chars().all(char::is_alphabetic))
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

/// Whether a character is a symbol that carries nothing for the models: an emoji, a
/// pictograph, a trade or copyright mark, a variation selector or joiner that belongs to
/// an emoji. Letters, digits, whitespace and punctuation are not, nor are the symbols the
/// datasets' entities hold (`$`, `%`, `#`, `+`, `€`, `£`, `@`, `&`) or write between words.
pub fn is_symbol(c: char) -> bool {
    matches!(c,
        '\u{a9}' | '\u{ae}' | '\u{2122}' | '\u{2120}'
        | '\u{200d}' | '\u{20e3}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{2190}'..='\u{21ff}'   // arrows
        | '\u{2300}'..='\u{23ff}'   // technical symbols (⌚, ⏰)
        | '\u{2460}'..='\u{24ff}'   // enclosed alphanumerics (①)
        | '\u{2500}'..='\u{27bf}'   // box drawing, shapes, dingbats (★, ✓, ❤)
        | '\u{2b00}'..='\u{2bff}'   // arrows and stars (⭐)
        | '\u{1f000}'..='\u{1faff}' // emoji and pictographs
        | '\u{e0020}'..='\u{e007f}' // emoji tag characters
    )
}

/// Trims a span, given as the texts of its words, to where an entity can begin and end:
/// punctuation no dataset puts at an entity's edge (commas, a sentence's full stop, colons,
/// dashes, the possessive `'s`, a bracket or quote without its partner inside the span) is
/// dropped from both ends, and so are symbols (emoji, `™`) and a web or e-mail address.
/// Returns the kept word range, or `None` when nothing is left, when only titles and place
/// prefixes are (`Mr.`, `Lt. Col.`, the `Ft.` of `Ft. Worth`), when only a lower-case
/// abbreviation is (`b.`), when the span closes a bracket it did not open, or when an
/// address is left inside. Latin abbreviations (`etc.`, `e.g.`) and footnote marks are
/// dropped from the ends like punctuation.
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
        } else if inside.iter().all(|w| {
            TITLES.contains(w)
                || PLACE_PREFIXES.contains(w)
                || DEGREES.contains(w)
                || CLOCK.contains(w)
                || LONE_NAME_ENDS.contains(w)
        }) {
            // `Mr.` of `Mr. and Mrs. Smith`, `Ft.` of `Ft. Worth`: a title or the first
            // word of a place's name names nothing by itself (no dataset has such a
            // mention), nor does the `a.m.` of a time (`10:02 a.m. ET` gave the place
            // `a.m.`), nor a company's legal form (`Tesla, Inc.` gave the organization
            // `Inc.`).
            return None;
        } else if unbalanced(inside) {
            // `November 1, 1960) is an American`: the span began inside a bracket or a
            // quote and ran out of it; `SVMs (support vector machines`: it ran into one
            // and stopped inside. Of the datasets' entities only two SciERC ones stop
            // inside a bracket (`SAR ( synthetic aperture radar`).
            return None;
        } else if inside.len() == 1 && is_party_label(inside[0]) {
            // `(D-N.Y.)`, `(R-Kan.)`: a party and a state after a politician's name.
            // CoNLL04 writes 11 and tags none.
            return None;
        } else if inside.len() == 1 && is_lowercase_abbreviation(inside[0]) {
            // `b.` of `(b. 1960, London)`, `ca.`, `approx.`: no dataset's entity is a
            // lower-case abbreviation alone.
            return None;
        } else if inside.iter().any(|w| is_web_address(w)) {
            // An address inside: no dataset's entity holds one.
            return None;
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
    if is_web_address(word) {
        return true;
    }
    // Latin abbreviations of running text (`etc.`, `e.g.`, `vs.`) name nothing, and no
    // dataset's entity begins or ends with one (`apples, pears, etc.`).
    if LATIN.contains(&lower.as_str()) {
        return true;
    }
    // `née Kasner`, `né Smith`: the birth name is the mention, not the word before it.
    if leading && matches!(lower.as_str(), "n\u{e9}e" | "n\u{e9}" | "nee") {
        return true;
    }
    // A word with a letter or digit can bound an entity. Punctuation cannot, and neither can
    // a symbol (an emoji, `©`, `™`, `°`) or a footnote mark (`¹`): no dataset's entity begins
    // or ends on one.
    if word.chars().any(is_word_char) {
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
    // Commas, full stops, colons, dashes and the like never bound an entity. Currency signs
    // (`$`, `€`, `£`, `¥`, `₹`, …) and the other symbols that do (`%`, `+`) stay. A hashtag's
    // `#` and a handle's `@` do not (`#Google`, `@nytimes`): no dataset's entity holds
    // either.
    !word
        .chars()
        .all(|c| matches!(c, '$' | '%' | '+' | '&' | '\u{a2}'..='\u{a5}' | '\u{20a0}'..='\u{20cf}'))
}

/// Whether `word` names a day of the week, written out or abbreviated (`Tuesday`, `Tue`,
/// `Tues.`, `Sat.`). `Sun` without a full stop is left out: it is as often a name (`Sun
/// Microsystems`, `The Sun`).
pub fn is_weekday(word: &str) -> bool {
    const DAYS: &[&str] = &[
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "mon.",
        "tue",
        "tue.",
        "tues",
        "tues.",
        "wed",
        "wed.",
        "weds",
        "thu",
        "thu.",
        "thur",
        "thur.",
        "thurs",
        "thurs.",
        "fri",
        "fri.",
        "sat",
        "sat.",
        "sun.",
    ];
    DAYS.contains(&word.to_lowercase().as_str())
}

/// Which of its neighbours a span must take in to hold both of its quotes: `(true, false)`
/// when its words close a quote that the word `before` it opens (`red man" syndrome` after
/// `"`), `(false, true)` when they open one that the word `after` it closes. Straight quotes
/// (`"`) pair by count, curly ones (`“ ”`, `« »`) by kind. Where the neighbour is not that
/// quote, nothing is taken in, and [`trim_span`] decides as before.
pub fn quote_partner(words: &[&str], before: Option<&str>, after: Option<&str>) -> (bool, bool) {
    let count = |q: &str| words.iter().filter(|w| **w == q).count();
    if count("\"") % 2 == 1 {
        // An odd straight quote: its partner is outside, on whichever side holds one.
        return if before == Some("\"") {
            (true, false)
        } else {
            (false, after == Some("\""))
        };
    }
    for (open, close) in [("\u{201c}", "\u{201d}"), ("\u{ab}", "\u{bb}")] {
        let (o, c) = (count(open), count(close));
        if c > o && before == Some(open) {
            return (true, false);
        }
        if o > c && after == Some(close) {
            return (false, true);
        }
    }
    (false, false)
}

/// Whether a span's words close a bracket or a curly quote that they did not open, or open
/// one that they do not close.
fn unbalanced(words: &[&str]) -> bool {
    const PAIRS: [(&str, &str); 5] = [
        ("(", ")"),
        ("[", "]"),
        ("{", "}"),
        ("\u{201c}", "\u{201d}"),
        ("\u{ab}", "\u{bb}"),
    ];
    let mut open = [0usize; PAIRS.len()];
    for w in words {
        for (k, (o, c)) in PAIRS.into_iter().enumerate() {
            if *w == o {
                open[k] += 1;
            } else if *w == c {
                if open[k] == 0 {
                    return true;
                }
                open[k] -= 1;
            }
        }
    }
    open.iter().any(|&n| n > 0)
}

/// What follows the hour of a time. CoNLL04 tags times with their hour (`4 : 45 a.m.`, `2
/// a.m.`) or not at all.
const CLOCK: &[&str] = &["a.m.", "p.m.", "A.M.", "P.M.", "a.m", "p.m"];

/// Academic degrees and the like written after a name (`Jane Smith, M.D.,`, `Gen. Colin
/// Powell, U.S.A. (Ret.)`): alone they name nothing (no dataset has such a mention).
const DEGREES: &[&str] = &[
    "Ph.D.", "Ph.D", "PhD", "M.D.", "MD", "M.B.A.", "MBA", "B.A.", "M.A.", "B.S.", "M.S.", "M.Sc.",
    "B.Sc.", "D.D.S.", "R.N.", "Esq.", "LL.M.", "LL.B.", "Ret.", "ret.",
];

/// A party and a state after a politician's name (`D-N.Y.`, `R-Kan.`, `I-Vt.`, `D-CA`).
fn is_party_label(word: &str) -> bool {
    let Some((party, state)) = word.split_once('-') else {
        return false;
    };
    matches!(party, "D" | "R" | "I")
        && (STATES.contains(&state)
            || POSTAL_CODES.contains(&state)
            || STATES.contains(&format!("{state}.").as_str()))
}

/// Whether `word` is a state's abbreviation of [`STATES`], as written there or in capitals
/// (`MINN.` in text typed in capitals).
fn is_state(word: &str) -> bool {
    STATES.contains(&word) || !word.chars().any(char::is_lowercase) && is_state_in_any_case(word)
}

/// Whether `word` is a state's abbreviation of [`STATES`] in any case (`minn.`, `MINN.`).
fn is_state_in_any_case(word: &str) -> bool {
    STATES.iter().any(|s| s.eq_ignore_ascii_case(word))
}

/// A word of one to five lower-case letters and a full stop (`b.`, `approx.`, `tid.`), but
/// not a state or a month in text typed without capitals (`bethany, conn.`, `on nov. 22`),
/// which name what their capitalized forms name.
fn is_lowercase_abbreviation(word: &str) -> bool {
    let named = is_state_in_any_case(word)
        || MONTH_ABBREVIATIONS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(word));
    !named
        && word.strip_suffix('.').is_some_and(|w| {
            (1..=5).contains(&w.chars().count()) && w.chars().all(|c| c.is_lowercase())
        })
}

/// The abbreviated months (`Sept.`), as news text writes them.
const MONTH_ABBREVIATIONS: [&str; 8] = [
    "Jan.", "Feb.", "Aug.", "Sept.", "Sep.", "Oct.", "Nov.", "Dec.",
];

/// Latin abbreviations that running text uses between words (lower case, as typed).
const LATIN: [&str; 12] = [
    "etc.", "e.g.", "i.e.", "cf.", "vs.", "viz.", "approx.", "ca.", "et", "al.", "e.g", "i.e",
];

/// Whether an entity's text (`chars`, from its first character to its last) holds a
/// separator that no dataset's entity of a name holds: a tab (the cells of a pasted
/// table: `Sundar Pichai<TAB>Google`), a semicolon, or a colon before a word (`A: He works
/// for Microsoft`, `BREAKING: Elon Musk`). A colon between digits stays (`4:45 p.m.`, `4 :
/// 45 p.m.`). An arrow, drawn (`→`, `⇒`) or typed (`->`, `=>`), separates too (`TSH rose →
/// hypothyroidism`; no dataset's entity holds one), and so does an en or em dash between
/// spaces (`Tim Cook – Apple`). Such a span is not a mention; the mentions on either side
/// of the separator still are.
pub fn holds_separator(chars: &[char]) -> bool {
    let spaced = |k: usize| {
        k > 0 && chars[k - 1].is_whitespace() && chars.get(k + 1).is_some_and(|c| c.is_whitespace())
    };
    chars.iter().enumerate().any(|(k, &c)| match c {
        '\t' | ';' => true,
        // A dash between spaces (`Tim Cook – Apple`): no dataset's mention holds one.
        '\u{2013}' | '\u{2014}' => spaced(k),
        '\u{2190}'..='\u{21ff}' | '\u{27f0}'..='\u{27ff}' | '\u{2900}'..='\u{297f}' => true,
        '>' => k > 0 && matches!(chars[k - 1], '-' | '='),
        ':' => chars[k + 1..]
            .iter()
            .find(|c| !c.is_whitespace())
            .is_some_and(|c| c.is_alphabetic()),
        _ => false,
    })
}

/// Words after which a name's trailing `'s` is part of the name, not a possessive: a
/// possessive is followed by what it owns, and these words own nothing.
const AFTER_POSSESSIVE_NAMES: [&str; 14] = [
    "in", "at", "on", "near", "of", "for", "from", "to", "with", "by", "and", "or", "after",
    "before",
];

/// Where a name that ends in `'s` ends (`McDonald's`, `Macy's`, `Sotheby's`, CoNLL04's
/// `Church's` restaurants): `end` is the end of a mention the word rules cut before the
/// possessive `'s` (or `’s`); when nothing that `'s` could own follows it (the end of the
/// text, punctuation that closes a phrase, or a preposition or conjunction: `at
/// McDonald's in Chicago`, `Macy's, Sears and Sotheby's.`), the `'s` is the name's and the
/// returned end takes it in. Otherwise (`Apple's chief executive`, `NBC's "Today"`) `end`
/// is returned as it is. The caller leaves persons alone, where `'s` before a preposition is
/// more often `is` (`John's in London`).
pub fn possessive_name_end(chars: &[char], end: usize) -> usize {
    let apostrophe = chars
        .get(end)
        .is_some_and(|&c| c == '\'' || c == '\u{2019}');
    let s = chars.get(end + 1).is_some_and(|&c| c == 's');
    if !(apostrophe && s) || chars.get(end + 2).is_some_and(|c| c.is_alphanumeric()) {
        return end;
    }
    let rest = &chars[end + 2..];
    let at = rest.iter().position(|c| !c.is_whitespace());
    let owns_nothing = match at {
        None => true,
        Some(k) => match rest[k] {
            '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' => true,
            c if c.is_alphabetic() => {
                let word: String = rest[k..].iter().take_while(|c| c.is_alphabetic()).collect();
                AFTER_POSSESSIVE_NAMES.contains(&word.as_str())
            }
            _ => false,
        },
    };
    if owns_nothing {
        end + 2
    } else {
        end
    }
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

    #[test]
    fn a_numbered_list_on_one_line_is_cut_before_its_markers() {
        assert_eq!(
            cut("1. Tim Cook, Apple 2. Satya Nadella, Microsoft 3. Sundar Pichai, Google"),
            [
                "1. Tim Cook, Apple",
                "2. Satya Nadella, Microsoft",
                "3. Sundar Pichai, Google"
            ]
        );
        assert_eq!(
            cut("Speakers: 1. Tim Cook of Apple 2. Ann Lee of IBM"),
            ["Speakers: 1. Tim Cook of Apple", "2. Ann Lee of IBM"]
        );
        // Not without the first marker at the start or after a colon, nor out of order,
        // nor with one marker.
        assert_eq!(
            cut("It crossed the line in 51: 15. U.S. District Judge Ann Lee said so."),
            [
                "It crossed the line in 51: 15.",
                "U.S. District Judge Ann Lee said so."
            ]
        );
        for text in [
            "He ran Windows 3. Then he moved to Seattle 4. Rain.",
            "At 10: 1. Apple rose 2. Google fell",
            "He came 1. Apple was 2. Google was third.",
            "1. Apple hired 3. Google hired",
            "1. Apple hired Ann.",
        ] {
            assert!(inline_list_ends(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_legal_form_alone_is_no_mention_and_one_after_a_comma_belongs_to_the_name() {
        assert_eq!(trim_span(&["Inc."]), None);
        assert_eq!(trim_span(&[",", "Ltd."]), None);
        assert_eq!(trim_span(&["Apple", "Inc."]), Some((0, 2)));
        assert!(is_detached_name_end("Inc."));
        assert!(is_detached_name_end("LLC"));
        assert!(!is_detached_name_end("Jr."));
        assert!(!is_detached_name_end("NV"));
    }

    #[test]
    fn days_of_the_week_written_out_or_abbreviated() {
        for w in [
            "Tuesday",
            "Tue",
            "Tues.",
            "Thu",
            "Sat.",
            "Sun.",
            "WEDNESDAY",
            "Fri",
        ] {
            assert!(is_weekday(w), "{w}");
        }
        for w in ["Sun", "Monday's", "Tuesdays", "Marc", "Wedge", "Satya"] {
            assert!(!is_weekday(w), "{w}");
        }
    }

    #[test]
    fn a_span_takes_in_the_quote_it_holds_half_of() {
        let q = |w: &[&str], b, a| quote_partner(w, b, a);
        // `she had a "red man" syndrome`: the span began inside the quotes.
        assert_eq!(
            q(&["red", "man", "\"", "syndrome"], Some("\""), Some("with")),
            (true, false)
        );
        // `a "red man" syndrome` as `"red man` : the closing quote is after it.
        assert_eq!(
            q(&["\"", "red", "man"], Some("a"), Some("\"")),
            (false, true)
        );
        // Balanced, or the neighbour is no quote: nothing to take in.
        assert_eq!(
            q(&["\"", "red", "man", "\"", "syndrome"], Some("a"), None),
            (false, false)
        );
        assert_eq!(
            q(&["red", "man", "\"", "syndrome"], Some("a"), Some("\"")),
            (false, true)
        );
        assert_eq!(
            q(&["red", "man", "\"", "syndrome"], Some("a"), Some("b")),
            (false, false)
        );
        // Curly quotes pair by kind.
        assert_eq!(
            q(&["Magic", "\u{201d}", "Johnson"], Some("\u{201c}"), None),
            (true, false)
        );
        assert_eq!(
            q(&["\u{201c}", "Magic"], Some("Earvin"), Some("\u{201d}")),
            (false, true)
        );
        assert_eq!(
            q(&["Magic", "\u{201d}", "Johnson"], Some("\""), None),
            (false, false)
        );
        // With the quote taken in, trimming keeps the pair.
        assert_eq!(
            trim_span(&["\"", "red", "man", "\"", "syndrome"]),
            Some((0, 5))
        );
    }

    #[test]
    fn a_sentence_in_brackets_ends_at_its_bracket() {
        assert_eq!(
            cut("(Smith later moved to Boston.) He died there in 1990."),
            ["(Smith later moved to Boston.)", "He died there in 1990."]
        );
        assert_eq!(
            cut("He moved to Boston (in 1950.) He died there. [Was it Rome?] No."),
            [
                "He moved to Boston (in 1950.)",
                "He died there.",
                "[Was it Rome?]",
                "No."
            ]
        );
        // Its full stop is a word of its own, not part of `Boston`.
        assert_eq!(
            word_texts("(Smith later moved to Boston.)"),
            ["(", "Smith", "later", "moved", "to", "Boston", ".", ")"]
        );
        // Not after an abbreviation or an initial, nor before a lower-case word.
        for text in [
            "The Soviet Union (U.S.S.R.) President Gorbachev spoke.",
            "It is shown below (see Fig.) The curve rises.",
            "He met John (and Mary B.) Smith in Paris.",
            "They left (in 1950.) and never came back.",
        ] {
            assert_eq!(cut(text).len(), 1, "{text}");
        }
    }

    #[test]
    fn a_name_that_ends_in_s_keeps_it_where_it_owns_nothing() {
        let end = |text: &str, name: &str| {
            let chars: Vec<char> = text.chars().collect();
            let at = text.find(name).map(|b| text[..b].chars().count());
            let at = at.unwrap_or_else(|| panic!("{name} in {text}"));
            let e = possessive_name_end(&chars, at + name.chars().count());
            chars[at..e].iter().collect::<String>()
        };
        assert_eq!(
            end("She works for McDonald's in Chicago.", "McDonald"),
            "McDonald's"
        );
        assert_eq!(end("It was sold at Sotheby's.", "Sotheby"), "Sotheby's");
        assert_eq!(
            end("He shops at Macy’s, Sears and Kohl's", "Macy"),
            "Macy’s"
        );
        assert_eq!(
            end("He shops at Macy’s, Sears and Kohl's", "Kohl"),
            "Kohl's"
        );
        assert_eq!(end("Macy's and Sears cut jobs", "Macy"), "Macy's");
        // A possessive: something follows that it owns.
        assert_eq!(end("Apple's chief executive left.", "Apple"), "Apple");
        assert_eq!(end("He stars on NBC's \"Today\" show.", "NBC"), "NBC");
        assert_eq!(end("It is in Apple's 2024 report.", "Apple"), "Apple");
        assert_eq!(end("Apple's Tim Cook spoke.", "Apple"), "Apple");
        // Not `'s`: another word, or the plural possessive.
        assert_eq!(end("The Smiths' house in Leeds.", "Smiths"), "Smiths");
        assert_eq!(end("O'Shea's in Dublin", "O"), "O");
        assert_eq!(end("Apple", "Apple"), "Apple");
    }

    #[test]
    fn ordinary_words_of_the_abbreviation_list_end_sentences() {
        for (text, first) in [
            ("He gave it to me. Smith left.", "He gave it to me."),
            ("She said no. Smith left.", "She said no."),
            ("We waited a sec. Smith left.", "We waited a sec."),
            (
                "He left in May. Gov. Ruth Delgado arrived.",
                "He left in May.",
            ),
            ("It closed in May. The deal failed.", "It closed in May."),
        ] {
            assert_eq!(cut(text)[0], first, "{text}");
        }
        // Before a number, or written as the abbreviations they also are: no cut.
        assert_eq!(cut("See Fig. 3 and No. 5 in the text.").len(), 1);
        assert_eq!(cut("As fig. 2 shows, it works.").len(), 1);
        // `May.` at the end is the month and the sentence's full stop, not an abbreviation.
        assert_eq!(
            word_texts("The deal closed in May."),
            ["The", "deal", "closed", "in", "May", "."]
        );
    }

    #[test]
    fn text_typed_without_capitals_is_cut_at_its_full_stops() {
        assert_eq!(
            cut("tim cook runs apple. he lives in palo alto. sundar pichai works for google!"),
            [
                "tim cook runs apple.",
                "he lives in palo alto.",
                "sundar pichai works for google!"
            ]
        );
        // Not after abbreviations, initials, titles or an ellipsis; after a state that ends
        // a place, a bracket, a number or a hyphenated word, and a question not in quotes.
        assert_eq!(
            cut("i met dr. smith and j. doe in the u.s. last june. \"why?\" she asked in boston, mass. it was (pesq). in 1987. at run-time. really? yes"),
            [
                "i met dr. smith and j. doe in the u.s. last june.",
                "\"why?\" she asked in boston, mass.",
                "it was (pesq).",
                "in 1987.",
                "at run-time.",
                "really?",
                "yes"
            ]
        );
        assert_eq!(cut("e.g. this stays. and so... does this").len(), 2);
        // Text with capitals where sentences begin keeps its rule: no cut before lower case.
        assert_eq!(cut("He lives in Paris. he left. She stayed.").len(), 2);
        assert_eq!(cut("tim left. He stayed. she too.").len(), 2);
    }

    #[test]
    fn a_full_stop_before_closing_quotes_brackets_and_citations_ends_the_sentence() {
        let last_two = |s: &str| {
            let w = word_texts(s);
            w[w.len().saturating_sub(2)..].to_vec()
        };
        // The full stop is a word of its own, not part of the place before it.
        for (sentence, place) in [
            ("He said, \"I was born in Boston.\"", "Boston"),
            ("He said, \u{201c}I was born in Boston.\u{201d}", "Boston"),
            ("She was born in Paris (France.)", "France"),
            ("John Smith lives in Boston.[2]", "Boston"),
            ("John Smith lives in Boston.[citation needed] ", "Boston"),
            ("John Smith lives in Boston.[2][14]", "Boston"),
            ("John Smith lives in Boston.\u{b9}", "Boston"),
            ("'He lives in Boston.'", "Boston"),
        ] {
            let w = word_texts(sentence);
            assert!(w.contains(&place.to_string()), "{sentence}: {w:?}");
            assert!(w.contains(&".".to_string()), "{sentence}: {w:?}");
        }
        // An abbreviation keeps its full stop there as at the very end.
        assert_eq!(last_two("He works for Acme Inc.)"), ["Inc.", ")"]);
        assert_eq!(last_two("He said, \"I moved to the U.S.\""), ["U.S.", "\""]);
        // A long bracket is no citation.
        let long = "He lives in Boston.[this bracket holds far too many words for a note]";
        assert!(word_texts(long).contains(&"Boston.".to_string()));
    }

    #[test]
    fn a_sentence_after_citations_begins_a_new_one() {
        assert_eq!(
            cut("John Smith lives in Boston.[2] He works for IBM."),
            ["John Smith lives in Boston.[2]", "He works for IBM."]
        );
        assert_eq!(
            cut("It is old.[3][14] \u{201c}The\u{201d} is a word.[citation needed] So it goes."),
            [
                "It is old.[3][14]",
                "\u{201c}The\u{201d} is a word.[citation needed]",
                "So it goes."
            ]
        );
        for one in [
            "See ref.[2] for details.",
            "It rose 5.[a] percent.",
            "The list [1] Boston and [2] Paris.",
        ] {
            assert_eq!(cut(one), [one], "{one}");
        }
    }

    #[test]
    fn lines_that_wrap_a_sentence_are_read_as_spaces() {
        // An e-mail wrapped at a width: one sentence across three lines, then another.
        let mail = "John Smith, who has worked for\nIBM since 1990, lives in New\nYork with \
                    his wife Mary.\nShe works for Google.";
        let got = cut(mail);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("Mary.") && got[1] == "She works for Google.");
        // Windows line breaks too; offsets stay those of the text as given.
        let crlf = "The company was founded by\r\nBill Gates and Paul Allen in Albuquerque.";
        let spans = sentences(crlf, Segmenter::Rules);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].text, crlf);
        // A line that continues in lower case, or after a comma.
        assert_eq!(
            cut("The talks, held in\nGeneva, ended.\nBoth sides left.").len(),
            2
        );
        assert_eq!(cut("In Paris,\nLondon and Rome it rained.").len(), 1);
        // Lines of one sentence each stay apart, with full stops or without.
        for list in [
            "John Smith lives in Boston\nMary Jones works for IBM\nTim Cook runs Apple",
            "John Smith lives in Boston.\nMary Jones works for IBM.\nTim Cook runs Apple.",
            "Acme hires a new chief\n\nJohn Smith lives in Boston.",
            "Speakers:\n- John Smith of IBM\n- Mary Jones of Google",
            "Agenda for the meeting\n1. Budget of the year\n2. Hiring in Boston",
        ] {
            let n = list.lines().filter(|l| !l.trim().is_empty()).count();
            assert_eq!(cut(list).len(), n, "{list:?}: {:?}", cut(list));
        }
        // Only the rules unwrap; `lines` keeps every line.
        assert_eq!(sentences(mail, Segmenter::Lines).len(), 4);
    }

    #[test]
    fn a_sentence_glued_to_the_full_stop_before_it_is_cut() {
        assert_eq!(
            cut("He lives in Boston.She works for IBM in Armonk."),
            ["He lives in Boston.", "She works for IBM in Armonk."]
        );
        assert_eq!(
            cut("It rained all day.The game was called off. Fans went home."),
            [
                "It rained all day.",
                "The game was called off.",
                "Fans went home."
            ]
        );
        // Titles, place prefixes, initials, abbreviations, products and addresses stay.
        assert_eq!(
            cut("He retired in 1990.Then he moved."),
            ["He retired in 1990.", "Then he moved."]
        );
        for one in [
            "Mr.Smith lives in St.Louis with Dr.Jones.",
            "J.R.R. Tolkien taught at Oxford.",
            "The U.S.Navy hired her.",
            "It runs on ASP.NET and Node.js servers.",
            "Write to press@Apple.Com or see https://example.org/News.Html today.",
            "Shares of Amazon.com rose.",
        ] {
            assert_eq!(cut(one), [one], "{one}");
        }
        // The word before the cut loses its full stop; the next sentence starts whole.
        let text = "He lives in Boston.She works for IBM.";
        let spans = sentences(text, Segmenter::Rules);
        let first = spans[0].text;
        let w: Vec<&str> = words(first, true)
            .into_iter()
            .map(|(a, b)| &first[a..b])
            .collect();
        assert_eq!(w, ["He", "lives", "in", "Boston", "."]);
        assert_eq!(spans[1].char_start, 19);
        // Glued full stops without a space in sight stay linear too: each looks no further
        // than an address can reach.
        let glued = "ab.Cd".repeat(100_000);
        assert_eq!(sentences(&glued, Segmenter::Rules).len(), 1);
        let spaced = "ab.Cd ".repeat(20_000);
        assert_eq!(sentences(&spaced, Segmenter::Rules).len(), 20_001);
    }

    #[test]
    fn text_that_runs_on_is_cut_where_a_sentence_plainly_begins() {
        let run_on = "John Wilkes Booth , who assassinated President Lincoln , was an actor \
                      The opera company performed at the Palace of Fine Arts in San Francisco \
                      on June 30 and July 1-2 said Kevin O'Brien , a spokesman for the theater \
                      In the field of mechanics Wang Ziqiang has made considerable headway in \
                      elastoplastic crack mechanics";
        assert_eq!(
            cut(run_on),
            [
                "John Wilkes Booth , who assassinated President Lincoln , was an actor",
                "The opera company performed at the Palace of Fine Arts in San Francisco on \
                 June 30 and July 1-2 said Kevin O'Brien , a spokesman for the theater",
                "In the field of mechanics Wang Ziqiang has made considerable headway in \
                 elastoplastic crack mechanics",
            ]
        );
        // Scientific text: `We` after a lower-case word.
        let abstract_ = "this paper presents a method for the automatic alignment of \
                         bilingual texts based on a statistical model of word correspondences \
                         and a dynamic programming search We evaluate the method on a corpus \
                         of parliamentary debates and report the precision of the alignments";
        assert_eq!(cut(abstract_).len(), 2, "{:?}", cut(abstract_));
        assert!(cut(abstract_)[1].starts_with("We evaluate"));
        // After a closing bracket, and a discourse word that only ever begins a training
        // sentence (`However`, `Moreover`).
        let bracketed = "the translation system was built for military messages at the                          laboratory of the institute (Lincoln Laboratory) The parser reads                          each message and writes a semantic frame for the generator of the                          target language However the lexicon is small Moreover unknown words                          are passed through unchanged";
        let parts = cut(bracketed);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert!(parts[0].ends_with("(Lincoln Laboratory)"));
        assert!(parts[1].starts_with("The parser"));
        assert!(parts[2].starts_with("However the lexicon"));
        assert!(parts[3].starts_with("Moreover unknown"));
    }

    /// The first words of each part of a long stretch cut by [`run_on_starts`].
    fn run_on_parts(text: &str) -> Vec<String> {
        assert!(
            text.split_whitespace().count() > RUN_ON_WORDS,
            "too short: {text}"
        );
        let mut parts = Vec::new();
        let mut from = 0;
        for cut in run_on_starts(text).into_iter().chain([text.len()]) {
            let part: Vec<&str> = text[from..cut].split_whitespace().take(3).collect();
            parts.push(part.join(" "));
            from = cut;
        }
        parts
    }

    #[test]
    fn text_that_runs_on_is_cut_after_names_before_names_and_before_common_words() {
        // A closed-class starter after a name, before a lower-case word or a number.
        let news = "the first of them was built with help from the state oil company and opened \
                    on schedule says former Air Force commander Avihu Bin-Nun The three \
                    reactors were all at the same plant near the river and were shut last April \
                    for repairs to the cooling towers of the plant in Ohio In 1865 four people \
                    were killed there by a flood";
        assert_eq!(
            run_on_parts(news),
            ["the first of", "The three reactors", "In 1865 four"]
        );
        // A closed-class starter before a name after a word that can end a sentence; not
        // after a preposition or `told`.
        let names =
            "miners were trapped for two days in the old shaft until rescuers dragged them \
                     to the surface with winches The Warren Commission found that the shaft had \
                     been closed for years said a reporter for The Associated Press who had \
                     visited the mine and the mayor told The Associated Press that he would ask \
                     the state for money";
        assert_eq!(
            run_on_parts(names),
            ["miners were trapped", "The Warren Commission"]
        );
        // A capitalized common word (a drug) after a lower-case word, also before a hyphen
        // typed or spaced; `A` that ends a name (`hemophilia A`) is not the article.
        let medicine = "a boy with hemophilia A who was receiving amprenavir developed a rash \
                        that resolved after the drug was stopped and he was given another one \
                        for the rest of the study which lasted a year in all patients with \
                        peripheral neuropathy associated with capecitabine Sertraline-induced \
                        rhabdomyolysis was seen in one patient taking it with lithium \
                        Peripheral neuropathy - a rare complication";
        assert_eq!(
            run_on_parts(medicine),
            [
                "a boy with",
                "Sertraline-induced rhabdomyolysis was",
                "Peripheral neuropathy -"
            ]
        );
        let spaced = medicine.replace("Sertraline-induced", "Sertraline - induced");
        assert_eq!(run_on_parts(&spaced)[1], "Sertraline - induced");
        // Not an acronym (`POS tags`), nor after a list's marker (`( ii ) High quality`).
        let science = "we describe the unsupervised learning of POS tags in a corpus of news and \
                       the three problems of the translation system that it was built to solve \
                       ( i ) the lack of data for small languages ( ii ) High quality \
                       translation via word sense disambiguation and (iii) Rapid development of \
                       the system for a new language";
        assert_eq!(run_on_parts(science), ["we describe the"]);
    }

    #[test]
    fn text_that_runs_on_is_cut_before_the_headings_of_an_abstract() {
        let text = "a rash developed after the second dose and resolved when the drug was \
                    stopped with no further treatment in a young man who had been given the \
                    drug for acne PURPOSE: To report a case of hemolytic uremic syndrome with \
                    the drug Tacrolimus-induced HUS : an unusual cause of renal failure after \
                    withholding ATRA CONCLUSION : We report a case of the syndrome after it \
                    CASE SUMMARY : A 45-year-old woman was given it";
        assert_eq!(
            run_on_parts(text),
            [
                "a rash developed",
                "PURPOSE: To report",
                "Tacrolimus-induced HUS :",
                "CONCLUSION : We",
                "CASE SUMMARY :"
            ]
        );
    }

    #[test]
    fn sentences_of_ordinary_length_keep_a_capitalized_starter_inside() {
        // Under the length of a window nothing is cut without punctuation.
        let typed = "Jones read about it in The Times and told a reporter from The Post.";
        assert_eq!(cut(typed), [typed]);
        assert!(run_on_starts(typed).is_empty());
        // Over it: not after a capitalized word, a punctuation mark, nor within four words
        // of a cut or of either end.
        let long = "Officials of the company , which is based in Boston , said on Monday that \
                    Chairman Smith , President Brown and The Associated Press had agreed on \
                    the terms , that the sale would close in May and that the buyer would \
                    keep the plant in Ohio for two years";
        assert!(long.split_whitespace().count() > RUN_ON_WORDS);
        assert!(run_on_starts(long).is_empty(), "{:?}", run_on_starts(long));
        assert!(run_on_starts(&format!("{long} and then The end")).is_empty());
        // The offsets are those of the starter's first byte.
        let text = format!("{long} shares rose as investors bought In a later filing it said so");
        let cuts = run_on_starts(&text);
        assert_eq!(cuts.len(), 1);
        assert!(text[cuts[0]..].starts_with("In a later filing"));
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
    fn an_abbreviation_in_a_headline_in_title_case_ends_no_sentence() {
        for headline in [
            "Acme Corp. Names Jane Doe Chief Executive",
            "Dr. Smith Joins Mayo Clinic in Rochester, Minn. After 20 Years at Stanford",
            "Walt Disney Co. Buys Pixar for $7.4 Billion",
        ] {
            assert!(is_title_case(headline), "{headline}");
            assert_eq!(cut(headline), [headline]);
        }
        // A sentence rich in names keeps its verbs in lower case, and its abbreviations may
        // end it.
        assert!(!is_title_case(
            "John Smith, CEO of Apple Inc., met Tim Cook in New York."
        ));
        assert_eq!(
            cut("He runs Acme Corp. Names of the new board members are due on Monday."),
            [
                "He runs Acme Corp.",
                "Names of the new board members are due on Monday."
            ]
        );
    }

    #[test]
    fn real_sentence_ends_still_cut() {
        // A postal code after a place ends the sentence, and its full stop is the
        // sentence's; elsewhere `CO.` stays the company's abbreviation.
        assert_eq!(
            cut("She lives in Denver, CO. Smith works in Boise, ID. He left."),
            vec![
                "She lives in Denver, CO.",
                "Smith works in Boise, ID.",
                "He left."
            ]
        );
        assert_eq!(
            word_texts("She lives in Denver, CO."),
            ["She", "lives", "in", "Denver", ",", "CO", "."]
        );
        assert_eq!(
            word_texts("HE WORKS FOR ACME CO."),
            ["HE", "WORKS", "FOR", "ACME", "CO."]
        );
        assert_eq!(
            cut("He joined Apple Inc. The company grew. Mary works for Acme Corp. in Paris! Who knows?"),
            vec![
                "He joined Apple Inc.",
                "The company grew.",
                "Mary works for Acme Corp. in Paris!",
                "Who knows?"
            ]
        );
        // Tokenized text, as in the datasets: its closing quotes stay with the sentence.
        assert_eq!(
            cut("`` It was a one-sided account. ' ' ` ` Either way . '' He left ."),
            vec![
                "`` It was a one-sided account. ' '",
                "` ` Either way . ''",
                "He left ."
            ]
        );
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
    fn abbreviations_that_end_a_sentence_cut_before_a_common_word_or_after_a_state() {
        assert_eq!(
            cut("He moved to Nashville, Tenn. Software engineer David Lee joined him."),
            vec![
                "He moved to Nashville, Tenn.",
                "Software engineer David Lee joined him."
            ]
        );
        assert_eq!(
            cut("She was born in Danville, Ala. Springsteen was born in Long Branch, N.J. Temperatures fell."),
            vec![
                "She was born in Danville, Ala.",
                "Springsteen was born in Long Branch, N.J.",
                "Temperatures fell."
            ]
        );
        // In text typed in capitals too.
        assert_eq!(
            cut("SHE WAS BORN IN DANVILLE, ALA. SPRINGSTEEN WAS BORN IN LONG BRANCH."),
            vec![
                "SHE WAS BORN IN DANVILLE, ALA.",
                "SPRINGSTEEN WAS BORN IN LONG BRANCH."
            ]
        );
        let last = words("HE LIVES IN CHISHOLM, MINN.", true);
        assert_eq!(last.last(), Some(&(22, 27)), "MINN. keeps its full stop");
        assert_eq!(
            cut("He runs Ardent Motors Corp. Dr. Ruth Abara is a surgeon."),
            vec![
                "He runs Ardent Motors Corp.",
                "Dr. Ruth Abara is a surgeon."
            ]
        );
        assert_eq!(
            cut("The meeting ended at 5 p.m. The next one starts at 9 a.m. Tomorrow is free."),
            vec![
                "The meeting ended at 5 p.m.",
                "The next one starts at 9 a.m.",
                "Tomorrow is free."
            ]
        );
        assert_eq!(
            cut("Sales rose at Acme Corp. The company said so."),
            vec!["Sales rose at Acme Corp.", "The company said so."]
        );
        // Names and initials stay together: `Navy` and `Paul` are capitalized inside the
        // training text's sentences; `D.` is an initial; no comma before `Ark.`; a time zone
        // follows a clock time.
        for whole in [
            "The U.S. Navy hired Laura Kim.",
            "Arthur B. Collins Jr. joined the firm in St. Paul last year.",
            "Franklin D. Roosevelt Jr. Memorial Park is in Hyde Park, N.Y., near Albany.",
            "Gov. Bill Clinton of Ark. Democrats met on Tuesday.",
            "Rain fell at 2 a.m. EST and again at 4 p.m. GMT on Monday.",
            "The meeting is at 5 p.m. Monday in Room 4.",
            "He met U.S. Sen. Bob Dole and Tenn. Gov. Ned McWherter.",
            "The tool, a.k.a. Parser X, beats others, e.g. Dependency parsers, w.r.t. Speed.",
            "The U.S. General Accounting Office and the U.K. Executive agreed.",
        ] {
            assert_eq!(cut(whole), vec![whole], "cut inside {whole:?}");
        }
    }

    #[test]
    fn list_markers_stay_with_their_item() {
        assert_eq!(
            cut("1. Collect the data. 2. Train the model. 10. Evaluate it."),
            vec![
                "1. Collect the data.",
                "2. Train the model.",
                "10. Evaluate it."
            ]
        );
        // The Unicode rules see no boundary before a lower-case marker (`(iii)`, `b)`);
        // such an item stays in the sentence before it.
        assert_eq!(cut("(a) Collect the data."), vec!["(a) Collect the data."]);
        assert_eq!(
            cut("He scored 1. The rest scored 2."),
            vec!["He scored 1.", "The rest scored 2."]
        );
        assert_eq!(
            cut("Apple reported earnings on Oct. 30. Shares rose 2.3 pct. in New York."),
            vec![
                "Apple reported earnings on Oct. 30.",
                "Shares rose 2.3 pct. in New York."
            ]
        );
    }

    #[test]
    fn datelines_end_a_sentence() {
        assert_eq!(
            cut("PERUGIA, Italy (AP) Reagan sounded positive notes."),
            vec!["PERUGIA, Italy (AP)", "Reagan sounded positive notes."]
        );
        assert_eq!(
            cut("BONE , Idaho ( AP ) `` Temperatures did n't get too high . ''"),
            vec![
                "BONE , Idaho ( AP )",
                "`` Temperatures did n't get too high . ''"
            ]
        );
        assert_eq!(
            cut("It rained. NEW ORLEANS (AP) -- The storm moved east. LONDON (Reuters) \u{2014} \"Yes,\" he said."),
            vec![
                "It rained.",
                "NEW ORLEANS (AP) --",
                "The storm moved east.",
                "LONDON (Reuters) \u{2014}",
                "\"Yes,\" he said."
            ]
        );
        // Brackets that are no dateline stay inside the sentence.
        for whole in [
            "We train Hidden Markov Models (HMM) Then we test them.",
            "The model (HMM) Performs well.",
            "Smith (AP) said it.",
            "Mary works for Acme Corp.K.Jo AT&T (HMM) Apple's unit.",
        ] {
            assert_eq!(cut(whole), vec![whole], "cut inside {whole:?}");
        }
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
    fn web_and_mail_addresses_are_one_word_and_never_an_entity_edge() {
        assert_eq!(
            word_texts("See https://www.apple.com/newsroom/2024/ or write to press@apple.com."),
            [
                "See",
                "https://www.apple.com/newsroom/2024/",
                "or",
                "write",
                "to",
                "press@apple.com",
                "."
            ]
        );
        assert_eq!(
            word_texts("(WWW.Example.org), \"a.b@mail.example.co.uk\" and Amazon.com Inc."),
            [
                "(",
                "WWW.Example.org",
                ")",
                ",",
                "\"",
                "a.b@mail.example.co.uk",
                "\"",
                "and",
                "Amazon.com",
                "Inc."
            ]
        );
        for not_one in [
            "Amazon.com",
            "www.",
            "http://",
            "a@b",
            "@home",
            "x@y.1",
            "U.S.",
        ] {
            assert!(!is_web_address(not_one), "{not_one}");
        }
        assert_eq!(trim_span(&["press@apple.com"]), None);
        assert_eq!(trim_span(&["Apple", "www.apple.com"]), Some((0, 1)));
        assert_eq!(trim_span(&["https://x.org", "Apple", "Inc."]), Some((1, 3)));
        assert_eq!(trim_span(&["to", "a@b.com", "or"]), None);
        // Runs without spaces stay linear (each token's end is found once).
        let long = "a,".repeat(200_000) + "(b@c.de";
        assert_eq!(words(&long, true).len(), 400_002);
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
        // An ellipsis is a word of its own, never an abbreviation's full stop.
        assert_eq!(
            word_texts("Jane Smith... she left for Armonk..."),
            ["Jane", "Smith", "...", "she", "left", "for", "Armonk", "..."]
        );
        assert_eq!(
            word_texts("Wait . . . Smith"),
            ["Wait", ".", ".", ".", "Smith"]
        );
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
        // Also a state's abbreviation that is a common word as well.
        assert_eq!(
            word_texts("She teaches in Amherst, Mass."),
            ["She", "teaches", "in", "Amherst", ",", "Mass."]
        );
        assert_eq!(
            word_texts("e.g. this, i.e. that"),
            ["e.g.", "this", ",", "i.e.", "that"]
        );
        assert!(words(" \t ", true).is_empty());
        let split = |s: &str| -> Vec<String> {
            words_with(
                s,
                true,
                Splits {
                    hyphens: true,
                    slashes: true,
                    name_hyphens: false,
                },
            )
            .into_iter()
            .map(|(a, b)| s.chars().skip(a).take(b - a).collect())
            .collect()
        };
        assert_eq!(
            split("Lithium-induced NDI, IFN\u{2010}alpha and U.S.-made 5-FU."),
            [
                "Lithium", "-", "induced", "NDI", ",", "IFN", "\u{2010}", "alpha", "and", "U.S.",
                "-", "made", "5", "-", "FU", "."
            ]
        );
        assert_eq!(word_texts("Lithium-induced"), ["Lithium-induced"]);
        assert_eq!(
            split("Satya Nadella/Microsoft, TTP/HUS and 12/05/2019"),
            [
                "Satya",
                "Nadella",
                "/",
                "Microsoft",
                ",",
                "TTP",
                "/",
                "HUS",
                "and",
                "12",
                "/",
                "05",
                "/",
                "2019"
            ]
        );
        assert_eq!(word_texts("parser/generator"), ["parser/generator"]);
        // An address keeps its slashes whatever the model's words.
        assert_eq!(
            split("see www.apple.com/newsroom"),
            ["see", "www.apple.com/newsroom"]
        );
        // A name before a lower-case word is split off; names joined by a hyphen, lower-case
        // compounds, acronyms and numbers are not.
        let names = |s: &str| -> Vec<String> {
            let splits = Splits {
                name_hyphens: true,
                ..Splits::default()
            };
            words_with(s, true, splits)
                .into_iter()
                .map(|(a, b)| s.chars().skip(a).take(b - a).collect())
                .collect()
        };
        assert_eq!(
            names("a Paris-based, Harvard-educated Jean-Luc"),
            ["a", "Paris", "-", "based", ",", "Harvard", "-", "educated", "Jean-Luc"]
        );
        assert_eq!(
            names("well-known HMM-based COVID-19 Coca-Cola Korean-to-English"),
            [
                "well-known",
                "HMM-based",
                "COVID-19",
                "Coca-Cola",
                "Korean",
                "-",
                "to-English"
            ]
        );
        assert_eq!(word_texts("Paris-based"), ["Paris-based"]);
        // Given names joined by a hyphen stay whole; words a name modifies do not.
        assert_eq!(
            names("Moon Jae-in, Ban Ki-moon, Xi Jin-ping, U.S.-led Chicago-born English-speaking"),
            [
                "Moon", "Jae-in", ",", "Ban", "Ki-moon", ",", "Xi", "Jin-ping", ",", "U.S.", "-",
                "led", "Chicago", "-", "born", "English", "-", "speaking"
            ]
        );
        // A prefix before a name is split off too; not before a lower-case word, nor a
        // word that only begins like a prefix.
        assert_eq!(
            names("Ex-Google, anti-American then-Senator pre-trained Prexa-Corp non-linear"),
            [
                "Ex",
                "-",
                "Google",
                ",",
                "anti",
                "-",
                "American",
                "then",
                "-",
                "Senator",
                "pre-trained",
                "Prexa-Corp",
                "non-linear"
            ]
        );
    }

    #[test]
    fn a_sentence_ending_on_a_version_number_or_domain_keeps_its_full_stop_apart() {
        let last = |s: &str| word_texts(s).into_iter().rev().take(2).collect::<Vec<_>>();
        assert_eq!(last("We fine-tune BERT on SQuAD v1.1."), [".", "v1.1"]);
        assert_eq!(last("Sales rose 3.5."), [".", "3.5"]);
        assert_eq!(last("She works for Amazon.com."), [".", "Amazon.com"]);
        assert_eq!(last("He works in ASP.NET."), [".", "ASP.NET"]);
        // Letters with full stops between them keep the last one.
        assert_eq!(last("He moved to the U.S."), ["U.S.", "the"]);
        assert_eq!(last("She holds a Ph.D."), ["Ph.D.", "a"]);
    }

    #[test]
    fn a_title_typed_without_its_space_is_a_word_of_its_own() {
        assert_eq!(
            word_texts("Dr.Sarah Kim met Mr.Smith."),
            ["Dr.", "Sarah", "Kim", "met", "Mr.", "Smith", "."]
        );
        // Not an abbreviation that is no title, nor a title before a lower-case letter.
        assert_eq!(word_texts("St.Louis and Dr.x"), ["St.Louis", "and", "Dr.x"]);
    }

    #[test]
    fn footnote_marks_are_words_of_their_own() {
        let text = "Grace Liu\u{b9} joined Harwick\u{b2}\u{b3} in Denver.\u{2074}";
        let words: Vec<String> = words(text, true)
            .into_iter()
            .map(|(a, b)| text.chars().skip(a).take(b - a).collect())
            .collect();
        assert_eq!(
            words,
            [
                "Grace", "Liu", "\u{b9}", "joined", "Harwick", "\u{b2}", "\u{b3}", "in", "Denver",
                ".", "\u{2074}"
            ]
        );
    }

    #[test]
    fn mentions_do_not_cross_tabs_semicolons_or_labels() {
        let holds = |s: &str| holds_separator(&s.chars().collect::<Vec<_>>());
        // The cells of a pasted table, a label before a colon, clauses after a semicolon.
        assert!(holds("Sundar Pichai\tGoogle"));
        // A dash between spaces; not one inside a word or a range (`Paris\u{2014}Berlin`,
        // `5\u{2013}10`).
        assert!(holds("Apple \u{2013} Cupertino"));
        assert!(holds("Apple \u{2014} Cupertino"));
        assert!(!holds("Paris\u{2014}Berlin"));
        assert!(!holds("5\u{2013}10 mg"));
        assert!(holds("A: He works for Microsoft"));
        assert!(holds("BREAKING:Elon Musk"));
        assert!(holds("Munich; its CEO"));
        // Arrows, drawn or typed.
        assert!(holds("TSH rose \u{2192} hypothyroidism"));
        assert!(holds("rash \u{21d2} SJS"));
        assert!(holds("English->Japanese"));
        assert!(holds("A => B"));
        // Names, times and spans without a separator.
        assert!(!holds("Procter & Gamble"));
        assert!(!holds("4:45 p.m."));
        assert!(!holds("4 : 45 a.m."));
        assert!(!holds("Washington, D.C."));
        assert!(!holds("CD4 > 200 cells"));
        assert!(!holds(""));
    }

    #[test]
    fn abbreviations_before_a_capital_are_doubtful_ends() {
        let ends = |s: &str| -> Vec<(String, String, bool)> {
            let chars: Vec<char> = s.chars().collect();
            let t = |(a, b): (usize, usize)| chars[a..b].iter().collect::<String>();
            doubtful_ends(s)
                .into_iter()
                .map(|d| (t(d.before), t(d.after), d.name_end))
                .collect()
        };
        let one = |a: &str, b: &str, name_end: bool| vec![(a.to_string(), b.to_string(), name_end)];
        assert_eq!(
            ends("She moved to the U.K. Smith stayed in Paris."),
            one("U.K.", "Smith", false)
        );
        assert_eq!(
            ends("Jones works for Apple Inc. \u{201c}Smith\u{201d} lives in Paris."),
            one("Inc.", "Smith", true)
        );
        assert_eq!(
            ends("He left at 5 p.m. Smith stayed."),
            one("p.m.", "Smith", false)
        );
        // `St.` that ends a street's name, not one that begins a place's.
        assert_eq!(
            ends("She lives on Elm St. Tom Lee lives in St. Paul."),
            one("St.", "Tom", false)
        );
        for none in [
            "Franklin D. Roosevelt was born in Hyde Park.",
            "He met Dr. Smith and Mr. Jones.",
            "She lives in St. Paul, Minn.",
            "See Fig. 3 and No. 5, e.g. Figure 4.",
            "The U.S. Sen. Bob Dole spoke; Apple Inc. President Tim Cook too.",
            "At 2 a.m. EST and 5 p.m. Monday he left.",
            "He joined Dow Jones & Co. Inc. in 1980; Acme Ltd. PLC, too.",
            "Washington, D.C. Mayor Marion Barry and Sony Corp. Chairman Akio Morita met.",
            "The U.S. economy grew.",
            "He paid $3.50 to Smith.",
            "She moved to Texas.",
        ] {
            assert_eq!(ends(none), vec![], "{none}");
        }
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
        // A span that opens a bracket or a quote and stops inside it is none.
        assert_eq!(t(&["model", "(", "HMM"]), None);
        assert_eq!(t(&["SVMs", "(", "support", "vector", "machines"]), None);
        assert_eq!(
            t(&["Neural", "machine", "translation", "\u{201d}", "systems"]),
            None
        );
        assert_eq!(
            t(&["\u{201c}", "Neural", "machine", "translation", "\u{201d}"]).as_deref(),
            Some("\u{201c} Neural machine translation \u{201d}")
        );
        assert_eq!(t(&["HMM", ")"]).as_deref(), Some("HMM"));
        assert_eq!(t(&["$", "5", "million"]).as_deref(), Some("$ 5 million"));
        assert_eq!(t(&["U.S."]).as_deref(), Some("U.S."));
        assert_eq!(
            t(&["\u{201c}", "Dune", "\u{201d}", "\u{2014}"]).as_deref(),
            Some("\u{201c} Dune \u{201d}")
        );
        // Symbols bound no dataset's entity: an emoji or a trade mark after a name goes, and
        // a span of symbols alone is none.
        assert_eq!(t(&["John", "Smith", "🙂"]).as_deref(), Some("John Smith"));
        assert_eq!(t(&["©", "Acme", "™"]).as_deref(), Some("Acme"));
        assert_eq!(t(&["😀"]), None);
        assert_eq!(
            t(&["Smith", "&", "Wesson"]).as_deref(),
            Some("Smith & Wesson")
        );
        assert_eq!(t(&[".", ","]), None);
        assert_eq!(t(&[]), None);
        // Footnote marks, a hashtag's `#`, a handle's `@` and the Latin abbreviations of
        // running text bound none either.
        assert_eq!(t(&["Smith", "\u{b9}"]).as_deref(), Some("Smith"));
        assert_eq!(t(&["#", "Google"]).as_deref(), Some("Google"));
        assert_eq!(t(&["@", "JaneDoe"]).as_deref(), Some("JaneDoe"));
        assert_eq!(t(&["pears", ",", "etc."]).as_deref(), Some("pears"));
        assert_eq!(t(&["Smith", "et", "al."]).as_deref(), Some("Smith"));
        assert_eq!(t(&["e.g.", "BERT"]).as_deref(), Some("BERT"));
        assert_eq!(t(&["n\u{e9}e", "Kasner"]).as_deref(), Some("Kasner"));
        assert_eq!(t(&["etc."]), None);
        // A span that runs out of a bracket it began in is none.
        assert_eq!(
            t(&["November", "1", ",", "1960", ")", "is", "an", "American"]),
            None
        );
        assert_eq!(t(&["1960", ")"]).as_deref(), Some("1960"));
        assert_eq!(t(&["b."]), None);
        // Degrees and party labels alone name nothing.
        assert_eq!(t(&["Ph.D."]), None);
        assert_eq!(t(&["M.D."]), None);
        assert_eq!(t(&["Ret."]), None);
        assert_eq!(t(&["D-N.Y."]), None);
        assert_eq!(t(&["R-Kan."]), None);
        assert_eq!(t(&["I-Vt"]), None);
        assert_eq!(t(&["D-CA"]), None);
        // Currency signs bound money as `$` does.
        for sign in ["$", "\u{a5}", "\u{20b9}", "\u{20ac}", "\u{a3}"] {
            assert_eq!(
                t(&[sign, "1.5", "trillion"]).as_deref(),
                Some(format!("{sign} 1.5 trillion").as_str())
            );
        }
        // Nor the `a.m.` of a time without its hour; with it, the time stays.
        assert_eq!(t(&["a.m."]), None);
        assert_eq!(t(&["P.M."]), None);
        assert_eq!(t(&["10:02", "a.m."]).as_deref(), Some("10:02 a.m."));
        assert_eq!(
            t(&["Jane", "Smith", ",", "M.D."]).as_deref(),
            Some("Jane Smith , M.D.")
        );
        assert_eq!(t(&["Coca-Cola"]).as_deref(), Some("Coca-Cola"));
        assert_eq!(t(&["D-Day"]).as_deref(), Some("D-Day"));
        assert_eq!(t(&["approx."]), None);
        assert_eq!(t(&["Mass."]).as_deref(), Some("Mass."));
        assert_eq!(t(&["b.", "1960"]).as_deref(), Some("b. 1960"));
        // A state or a month typed without capitals names what it names capitalized.
        assert_eq!(t(&["conn."]).as_deref(), Some("conn."));
        assert_eq!(t(&["nov."]).as_deref(), Some("nov."));
        assert_eq!(t(&["tid."]), None);
        // A title alone names no one; with a name it stays part of the mention.
        assert_eq!(t(&["Mr."]), None);
        assert_eq!(t(&["Lt.", "Col.", ","]), None);
        // So does the abbreviation that begins a place's name, which ends a street's.
        assert_eq!(t(&["Ft."]), None);
        assert_eq!(t(&["Mt.", ","]), None);
        assert_eq!(t(&["Ft.", "Worth"]).as_deref(), Some("Ft. Worth"));
        assert_eq!(t(&["E.", "Day", "St."]).as_deref(), Some("E. Day St."));
        assert_eq!(t(&["Mr", "."]), None);
        assert_eq!(t(&["Mrs.", "Smith"]).as_deref(), Some("Mrs. Smith"));
        assert_eq!(t(&["Dr.", "No"]).as_deref(), Some("Dr. No"));
    }
}
