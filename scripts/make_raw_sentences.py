#!/usr/bin/env python3
"""Writes mge/tests/fixtures/raw-sentences.jsonl, hand-annotated raw sentences for tests.

The sentences below were written for this project (they are not taken from a dataset) and
are typed as a person types them: no space before `,` or `.`, abbreviations with their full
stops (`U.S.`, `Calif.`, `Inc.`, `Jr.`, `Dr.`, `Sept. 12, 1998`, `e.g.`, `et al.`, `Fig. 3`),
initials in names (`J. R. R. Tolkien`), possessives, quotes, parentheses, web and e-mail
addresses. Each one has at least one such hard case for a sentence splitter and a
tokenizer. News sentences follow the CoNLL04 schema, science sentences the SciERC schema,
medical case-report sentences the ADE schema.

Entities are written here by their surface text (plus an occurrence index when the same
string occurs more than once in the sentence); relations name their head and tail the same
way. The script finds the character offsets itself (Python code points, end exclusive),
checks them and the schema, and writes one JSON object a line:

    {"id": "news-01", "model": "conll04", "text": "...",
     "entities": [{"start": 0, "end": 21, "type": "Peop", "text": "Franklin D. Roosevelt"}],
     "relations": [{"head": 0, "tail": 1, "type": "Live_In"}]}

Entities are sorted by start; `head`/`tail` index that list. Nothing is written and the
exit status is 1 when any check fails.

    python3 scripts/make_raw_sentences.py           # writes the fixture
    python3 scripts/make_raw_sentences.py --check   # only checks that the fixture is current

Annotation conventions (CoNLL04): the person's full name with initials and `Jr.`/`Sr.`, but
not a title (`Sen.`, `Dr.`, `Mrs.`); `U.S.` and state abbreviations are Loc with their full
stop; `Apple Inc.` is one Org; a city and its state are two Loc with Located_In between them,
and Live_In / OrgBased_In go to both. Other marks dates (years included, weekdays not), money,
percentages and prizes. SciERC: citations (`Lample et al.`) and figure or equation references
are not entities; Used-for goes from what is used to what it is used for, Part-of from part to
whole, Hyponym-of from the specific to the general, Evaluate-for from metric or data to what is
evaluated; Compare and Conjunction go from the first mention to the second. ADE (medicine): the drug's
name only (`Lithium` of `Lithium-induced`, no dose), the adverse effect with the clinical
words that name it (`acute renal failure`, not `severe`), and Adverse-Effect from the effect
to the drug, as the dataset has it.
"""
import json
import re
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "mge" / "tests" / "fixtures" / "raw-sentences.jsonl"

SCHEMAS = {
    "conll04": {
        "entities": {"Peop", "Loc", "Org", "Other"},
        # relation type -> (head type, tail type)
        "relations": {
            "Work_For": ("Peop", "Org"),
            "Live_In": ("Peop", "Loc"),
            "Located_In": ("Loc", "Loc"),
            "OrgBased_In": ("Org", "Loc"),
            "Kill": ("Peop", "Peop"),
        },
    },
    "scierc": {
        "entities": {"Task", "Method", "Metric", "Material", "OtherScientificTerm", "Generic"},
        "relations": {t: None for t in ("Used-for", "Feature-of", "Hyponym-of", "Part-of",
                                        "Evaluate-for", "Compare", "Conjunction")},
    },
    "ade": {
        "entities": {"Drug", "Adverse-Effect"},
        "relations": {"Adverse-Effect": ("Adverse-Effect", "Drug")},
    },
}
SYMMETRIC = {"Compare", "Conjunction"}

# Words an entity may end with when it ends with a full stop: the stop is then the
# abbreviation's own. Runs of single letters with stops (`U.S.`, `N.Y.`, `D.`) count too.
ENTITY_FINAL_ABBREVIATIONS = {
    "Inc.", "Corp.", "Co.", "Ltd.", "Jr.", "Sr.",
    "Calif.", "Tenn.", "Kan.", "Minn.", "Ala.", "Ill.", "Ky.", "Ore.", "La.", "Mass.",
    "Okla.", "Wash.", "Tex.", "Neb.", "conn.",
}

# Footnote marks (`Liu¹`) are not letters: an entity may end right before one.
SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2071\u2074\u2075\u2076\u2077\u2078\u2079"


def word_char(c):
    return c.isalnum() and c not in SUPERSCRIPTS

# The hard cases each sentence must contain at least one of (name -> pattern).
HARD_CASES = {
    "initials in a name": r"\b[A-Z]\. (?:[A-Z]\. )*[A-Z][a-z]",
    "U.S./U.K./N.Y./N.C./N.J.": r"\b(?:U\.S|U\.K|N\.Y|N\.C|N\.J)\.",
    "state abbreviation": r"\b(?:Calif|Tenn|Kan|Minn|Ala|Ill|Ky|Ore|La)\.",
    "company suffix": r"\b(?:Inc|Corp|Co|Ltd)\.",
    "name suffix": r"\b(?:Jr|Sr)\.",
    "title": r"\b(?:Dr|Mr|Mrs|Ms|Prof|Sen|Gov|Gen|Col|Rep|Rev)\. ",
    "St./Mt./Ft. place": r"\b(?:St|Mt|Ft)\. [A-Z]",
    "abbreviated month": r"\b(?:Jan|Feb|Aug|Sept|Oct|Nov|Dec)\. \d",
    "money": r"\$\d",
    "decimal or percent": r"\d\.\d|\d percent|\d%",
    "No. N": r"\bNo\. \d",
    "e.g.": r"\be\.g\.",
    "i.e.": r"\bi\.e\.",
    "et al.": r"\bet al\.",
    "Fig. N": r"\bFig\. \d",
    "Eq. N": r"\bEq\. \d",
    "vs.": r"\bvs\. ",
    "approx.": r"\bapprox\. ",
    "drug before a hyphen": r"\b[A-Za-z]+-(?:induced|associated|related)\b",
    "dose abbreviation": r"\b(?:b\.i\.d|t\.i\.d|q\.d|i\.v|p\.o)\.",
    "dose": r"\d(?:\.\d+)? ?(?:mg|g|mmol)\b",
    "web or e-mail address": r"https?://\S|\bwww\.\S|\w@\w",
    "full stop inside a closing quote": "\\.[\"\u201d\u2019']",
    "citation after a full stop": r"\.\[[^\]]{1,30}\]",
    "quoted words inside a name": "[a-z]+ [\"\u201c][a-z][^\"\u201d]*[\"\u201d] [a-z]",
    "given name joined by a hyphen": r"\b[A-Z][a-z]+ [A-Z][a-z]+-[a-z]+\b",
    "a place and its state written out": r"\bin [A-Z][a-z]+, [A-Z][a-z]+\b",
    "emoji or symbol": "[\U0001F300-\U0001FAFF\u2122\u00a9\u00ae]",
    "footnote mark": "[\u00b9\u00b2\u00b3\u2070-\u2079]",
    "Markdown link": r"\]\(https?://",
    "citation of numbers in brackets": "\\[\\d+(?:[,;\u2013-] ?\\d+)*\\]",
    "label and colon": r"^[A-Z][A-Za-z ]*: ",
    "hashtag or handle": r"(?:^|\s)[#@][A-Za-z]",
    "etc.": r"\betc\.",
    "slash between names": r"[a-z]/[A-Z]",
    "citation of authors and years": r"\([A-Z][^()]*\b(?:19|20)\d\d[a-z]?\)",
    "HTML tag or character reference": r"</?[a-z]+>|&[a-z]+;",
    "Markdown emphasis": r"(?:^|\s)(?:\*\*|__|\*|_)[A-Z]",
    "name before a hyphenated word": r"\b[A-Z][a-z]+-[a-z]+\b",
    "sentence ending on a word the abbreviation list holds": r"\b(?:me|no|ok|May|sec|fig)\.$",
    "ellipsis of full stops": r"\w\.\.\.",
    "citation of authors and years in square brackets": r"\[[A-Z][^\[\]]*\b(?:19|20)\d\d[a-z]?\]",
    "arrow between findings": "\u2192|->",
    "nickname in quotes inside a name": "[A-Z][a-z]+ [\"\u201c'][A-Z][^\"\u201d']*[\"\u201d'] [A-Z]",
    "name that ends in 's": "[A-Z][a-z]+['\u2019]s(?:,| in| at| and|\\.)",
    "dash typed as hyphens": r"\w - \w|\w--\w",
    "typed without capitals": r"^[^A-Z]*$",
}

# (id, model, text, entities, relations). An entity is (surface, type) or
# (surface, type, occurrence) with occurrence counted from 0; a relation is
# (head, type, tail) where head and tail are a surface or (surface, occurrence).
SENTENCES = [
    # ---------------------------------------------------------------- news, CoNLL04
    ("news-01", "conll04",
     "Franklin D. Roosevelt was born in Hyde Park, N.Y., in 1882.",
     [("Franklin D. Roosevelt", "Peop"), ("Hyde Park", "Loc"), ("N.Y.", "Loc"), ("1882", "Other")],
     [("Franklin D. Roosevelt", "Live_In", "Hyde Park"),
      ("Franklin D. Roosevelt", "Live_In", "N.Y."),
      ("Hyde Park", "Located_In", "N.Y.")]),
    ("news-02", "conll04",
     "Mary K. Olson, a spokeswoman for Harlan Aircraft Co. of Wichita, Kan., said the plant would "
     "reopen on Sept. 12, 1998.",
     [("Mary K. Olson", "Peop"), ("Harlan Aircraft Co.", "Org"), ("Wichita", "Loc"), ("Kan.", "Loc"),
      ("Sept. 12, 1998", "Other")],
     [("Mary K. Olson", "Work_For", "Harlan Aircraft Co."),
      ("Harlan Aircraft Co.", "OrgBased_In", "Wichita"),
      ("Harlan Aircraft Co.", "OrgBased_In", "Kan."),
      ("Wichita", "Located_In", "Kan.")]),
    ("news-03", "conll04",
     "J. R. R. Tolkien taught at Oxford University for more than three decades and later retired "
     "to Bournemouth, England.",
     [("J. R. R. Tolkien", "Peop"), ("Oxford University", "Org"), ("Bournemouth", "Loc"),
      ("England", "Loc")],
     [("J. R. R. Tolkien", "Work_For", "Oxford University"),
      ("J. R. R. Tolkien", "Live_In", "Bournemouth"),
      ("J. R. R. Tolkien", "Live_In", "England"),
      ("Bournemouth", "Located_In", "England")]),
    ("news-04", "conll04",
     "Sen. Arthur B. Collins Jr. of Memphis, Tenn., said Tuesday that he would not seek a fourth term.",
     [("Arthur B. Collins Jr.", "Peop"), ("Memphis", "Loc"), ("Tenn.", "Loc")],
     [("Arthur B. Collins Jr.", "Live_In", "Memphis"),
      ("Arthur B. Collins Jr.", "Live_In", "Tenn."),
      ("Memphis", "Located_In", "Tenn.")]),
    ("news-05", "conll04",
     "After 22 years in Chicago, Mrs. Helen Park and her husband moved to Nashville, Tenn.",
     [("Chicago", "Loc"), ("Helen Park", "Peop"), ("Nashville", "Loc"), ("Tenn.", "Loc")],
     [("Helen Park", "Live_In", "Chicago"),
      ("Helen Park", "Live_In", "Nashville"),
      ("Helen Park", "Live_In", "Tenn."),
      ("Nashville", "Located_In", "Tenn.")]),
    ("news-06", "conll04",
     "Software engineer David Lee, 34, was hired last month by Apple Inc.",
     [("David Lee", "Peop"), ("Apple Inc.", "Org")],
     [("David Lee", "Work_For", "Apple Inc.")]),
    ("news-07", "conll04",
     "Apple's chief executive, Tim Cook, spoke to reporters in Cupertino, Calif., on Jan. 5.",
     [("Apple", "Org"), ("Tim Cook", "Peop"), ("Cupertino", "Loc"), ("Calif.", "Loc"),
      ("Jan. 5", "Other")],
     [("Tim Cook", "Work_For", "Apple"),
      ("Cupertino", "Located_In", "Calif.")]),
    ("news-08", "conll04",
     "Dr. Samuel O. Reyes, the new director of the Brooklyn Museum, met curator Elena Ruiz.",
     [("Samuel O. Reyes", "Peop"), ("Brooklyn Museum", "Org"), ("Elena Ruiz", "Peop")],
     [("Samuel O. Reyes", "Work_For", "Brooklyn Museum")]),
    ("news-09", "conll04",
     "Lee H. Oswald shot President John F. Kennedy in Dallas on Nov. 22, 1963.",
     [("Lee H. Oswald", "Peop"), ("John F. Kennedy", "Peop"), ("Dallas", "Loc"),
      ("Nov. 22, 1963", "Other")],
     [("Lee H. Oswald", "Kill", "John F. Kennedy")]),
    ("news-10", "conll04",
     "Martin Luther King Jr. was killed by James Earl Ray in Memphis, Tenn., on April 4, 1968.",
     [("Martin Luther King Jr.", "Peop"), ("James Earl Ray", "Peop"), ("Memphis", "Loc"),
      ("Tenn.", "Loc"), ("April 4, 1968", "Other")],
     [("James Earl Ray", "Kill", "Martin Luther King Jr."),
      ("Memphis", "Located_In", "Tenn.")]),
    ("news-11", "conll04",
     "Gov. Linda M. Hart of Ohio named Robert Chen Sr. as the state's new budget director.",
     [("Linda M. Hart", "Peop"), ("Ohio", "Loc"), ("Robert Chen Sr.", "Peop")],
     [("Linda M. Hart", "Live_In", "Ohio")]),
    ("news-12", "conll04",
     "Harmon Foods Corp., based in St. Louis, reported a profit of $4.2 million, up 3.5 percent "
     "from a year earlier.",
     [("Harmon Foods Corp.", "Org"), ("St. Louis", "Loc"), ("$4.2 million", "Other"),
      ("3.5 percent", "Other")],
     [("Harmon Foods Corp.", "OrgBased_In", "St. Louis")]),
    ("news-13", "conll04",
     "Gen. Thomas W. Grant, who commands U.S. forces in Europe, arrived at Ft. Bragg, N.C., on Monday.",
     [("Thomas W. Grant", "Peop"), ("U.S.", "Loc"), ("Europe", "Loc"), ("Ft. Bragg", "Loc"),
      ("N.C.", "Loc")],
     [("Ft. Bragg", "Located_In", "N.C.")]),
    ("news-14", "conll04",
     "Prof. Alan Whitby led a team from the U.K. to the base of Mt. Everest in Nepal.",
     [("Alan Whitby", "Peop"), ("U.K.", "Loc"), ("Mt. Everest", "Loc"), ("Nepal", "Loc")],
     [("Alan Whitby", "Live_In", "U.K."),
      ("Mt. Everest", "Located_In", "Nepal")]),
    ("news-15", "conll04",
     "Ms. Priya Natarajan, 41, has lived in St. Paul, Minn., since 2004.",
     [("Priya Natarajan", "Peop"), ("St. Paul", "Loc"), ("Minn.", "Loc"), ("2004", "Other")],
     [("Priya Natarajan", "Live_In", "St. Paul"),
      ("Priya Natarajan", "Live_In", "Minn."),
      ("St. Paul", "Located_In", "Minn.")]),
    ("news-16", "conll04",
     "Mr. and Mrs. Walter Brandt of Fresno, Calif., celebrated their 50th anniversary on Saturday.",
     [("Walter Brandt", "Peop"), ("Fresno", "Loc"), ("Calif.", "Loc")],
     [("Walter Brandt", "Live_In", "Fresno"),
      ("Walter Brandt", "Live_In", "Calif."),
      ("Fresno", "Located_In", "Calif.")]),
    ("news-17", "conll04",
     "Sales at Kerrigan Ltd. rose 12 percent last year, the London company said.",
     [("Kerrigan Ltd.", "Org"), ("12 percent", "Other"), ("London", "Loc")],
     [("Kerrigan Ltd.", "OrgBased_In", "London")]),
    ("news-18", "conll04",
     "The single by Nora Quist reached No. 5 in the U.S. and No. 2 in the U.K., according to her "
     "label, Ellis Records Inc.",
     [("Nora Quist", "Peop"), ("U.S.", "Loc"), ("U.K.", "Loc"), ("Ellis Records Inc.", "Org")],
     []),
    ("news-19", "conll04",
     "\"We are not leaving Detroit,\" said Karen J. Miles, the president of Ardent Motors Corp.",
     [("Detroit", "Loc"), ("Karen J. Miles", "Peop"), ("Ardent Motors Corp.", "Org")],
     [("Karen J. Miles", "Work_For", "Ardent Motors Corp.")]),
    ("news-20", "conll04",
     "Dr. Ruth Abara, a surgeon at St. Vincent Hospital in Toledo, Ohio, said the boy was in "
     "stable condition.",
     [("Ruth Abara", "Peop"), ("St. Vincent Hospital", "Org"), ("Toledo", "Loc"), ("Ohio", "Loc")],
     [("Ruth Abara", "Work_For", "St. Vincent Hospital"),
      ("St. Vincent Hospital", "OrgBased_In", "Toledo"),
      ("St. Vincent Hospital", "OrgBased_In", "Ohio"),
      ("Toledo", "Located_In", "Ohio")]),
    ("news-21", "conll04",
     "The treaty was signed in Paris on Jan. 17 by Prime Minister Henri Dufresne and U.S. Secretary "
     "of State Margaret L. Towne.",
     [("Paris", "Loc"), ("Jan. 17", "Other"), ("Henri Dufresne", "Peop"), ("U.S.", "Loc"),
      ("Margaret L. Towne", "Peop")],
     [("Margaret L. Towne", "Live_In", "U.S.")]),
    ("news-22", "conll04",
     "Police said Daniel R. Pike, 27, of Ft. Worth, Texas, shot and killed his neighbor, Carl Benson, "
     "early Sunday.",
     [("Daniel R. Pike", "Peop"), ("Ft. Worth", "Loc"), ("Texas", "Loc"), ("Carl Benson", "Peop")],
     [("Daniel R. Pike", "Kill", "Carl Benson"),
      ("Daniel R. Pike", "Live_In", "Ft. Worth"),
      ("Daniel R. Pike", "Live_In", "Texas"),
      ("Ft. Worth", "Located_In", "Texas")]),
    ("news-23", "conll04",
     "The World Health Organization, based in Geneva, said about 0.7 percent of the samples tested "
     "positive.",
     [("World Health Organization", "Org"), ("Geneva", "Loc"), ("0.7 percent", "Other")],
     [("World Health Organization", "OrgBased_In", "Geneva")]),
    ("news-24", "conll04",
     "Mrs. Eleanor Vance, the widow of Col. James Vance, donated $1.5 million to Vanderbilt "
     "University in Nashville.",
     [("Eleanor Vance", "Peop"), ("James Vance", "Peop"), ("$1.5 million", "Other"),
      ("Vanderbilt University", "Org"), ("Nashville", "Loc")],
     [("Vanderbilt University", "OrgBased_In", "Nashville")]),
    ("news-25", "conll04",
     "Shares of Pemberton Chemical Co. fell 8 percent on Friday after the Atlanta company warned of "
     "lower earnings.",
     [("Pemberton Chemical Co.", "Org"), ("8 percent", "Other"), ("Atlanta", "Loc")],
     [("Pemberton Chemical Co.", "OrgBased_In", "Atlanta")]),
    ("news-26", "conll04",
     "Sen. Paula J. Brennan of Massachusetts addressed supporters in Worcester on Oct. 3.",
     [("Paula J. Brennan", "Peop"), ("Massachusetts", "Loc"), ("Worcester", "Loc"),
      ("Oct. 3", "Other")],
     [("Paula J. Brennan", "Live_In", "Massachusetts")]),
    ("news-27", "conll04",
     "In a statement, Lindqvist & Sons Ltd. said its founder, Erik Lindqvist Sr., had died at his "
     "home in Uppsala, Sweden.",
     [("Lindqvist & Sons Ltd.", "Org"), ("Erik Lindqvist Sr.", "Peop"), ("Uppsala", "Loc"),
      ("Sweden", "Loc")],
     [("Erik Lindqvist Sr.", "Work_For", "Lindqvist & Sons Ltd."),
      ("Erik Lindqvist Sr.", "Live_In", "Uppsala"),
      ("Erik Lindqvist Sr.", "Live_In", "Sweden"),
      ("Uppsala", "Located_In", "Sweden")]),
    ("news-28", "conll04",
     "Economist Renée Dubois of the Banque de Lyon said Friday that inflation in France had slowed "
     "to 2.1 percent.",
     [("Renée Dubois", "Peop"), ("Banque de Lyon", "Org"), ("France", "Loc"), ("2.1 percent", "Other")],
     [("Renée Dubois", "Work_For", "Banque de Lyon")]),
    ("news-29", "conll04",
     "The band’s manager, Kenji Watanabe, said the tour would open in Zürich on Jan. 9 and close in "
     "Osaka, Japan.",
     [("Kenji Watanabe", "Peop"), ("Zürich", "Loc"), ("Jan. 9", "Other"), ("Osaka", "Loc"),
      ("Japan", "Loc")],
     [("Osaka", "Located_In", "Japan")]),
    ("news-30", "conll04",
     "Prof. Hannah Greer of Stanford University, in Palo Alto, Calif., was awarded the Lasker Prize "
     "on Sept. 14.",
     [("Hannah Greer", "Peop"), ("Stanford University", "Org"), ("Palo Alto", "Loc"),
      ("Calif.", "Loc"), ("Lasker Prize", "Other"), ("Sept. 14", "Other")],
     [("Hannah Greer", "Work_For", "Stanford University"),
      ("Stanford University", "OrgBased_In", "Palo Alto"),
      ("Stanford University", "OrgBased_In", "Calif."),
      ("Palo Alto", "Located_In", "Calif.")]),
    ("news-31", "conll04",
     "Capital Gas Light Co. named Peter A. Lowe Jr. its chief financial officer, effective Feb. 1.",
     [("Capital Gas Light Co.", "Org"), ("Peter A. Lowe Jr.", "Peop"), ("Feb. 1", "Other")],
     [("Peter A. Lowe Jr.", "Work_For", "Capital Gas Light Co.")]),
    ("news-32", "conll04",
     "The storm killed at least 14 people in Mobile, Ala., and left 40,000 homes without power.",
     [("Mobile", "Loc"), ("Ala.", "Loc")],
     [("Mobile", "Located_In", "Ala.")]),
    ("news-33", "conll04",
     "A jury in San Antonio found Raymond T. Fuller guilty of killing Officer Mark Diaz in 1996.",
     [("San Antonio", "Loc"), ("Raymond T. Fuller", "Peop"), ("Mark Diaz", "Peop"), ("1996", "Other")],
     [("Raymond T. Fuller", "Kill", "Mark Diaz")]),
    ("news-34", "conll04",
     "Rep. Gail Ortiz (D., Ill.) said the bill would cost $2.8 billion over five years.",
     [("Gail Ortiz", "Peop"), ("Ill.", "Loc"), ("$2.8 billion", "Other")],
     [("Gail Ortiz", "Live_In", "Ill.")]),
    ("news-35", "conll04",
     "Ford Motor Co.'s plant in Louisville, Ky., will add a third shift, the company said.",
     [("Ford Motor Co.", "Org"), ("Louisville", "Loc"), ("Ky.", "Loc")],
     [("Louisville", "Located_In", "Ky.")]),
    ("news-36", "conll04",
     "The deal was announced by Brightwater Inc. (formerly Cole & Pratt) of Portland, Ore.",
     [("Brightwater Inc.", "Org"), ("Cole & Pratt", "Org"), ("Portland", "Loc"), ("Ore.", "Loc")],
     [("Brightwater Inc.", "OrgBased_In", "Portland"),
      ("Brightwater Inc.", "OrgBased_In", "Ore."),
      ("Portland", "Located_In", "Ore.")]),
    ("news-37", "conll04",
     "Gerald Ford, who survived two attempts on his life in 1975, died in Rancho Mirage, Calif., "
     "on Dec. 26, 2006.",
     [("Gerald Ford", "Peop"), ("1975", "Other"), ("Rancho Mirage", "Loc"), ("Calif.", "Loc"),
      ("Dec. 26, 2006", "Other")],
     [("Rancho Mirage", "Located_In", "Calif.")]),
    ("news-38", "conll04",
     "The bridge between Ft. Lee, N.J., and Manhattan opened on Oct. 25, 1931.",
     [("Ft. Lee", "Loc"), ("N.J.", "Loc"), ("Manhattan", "Loc"), ("Oct. 25, 1931", "Other")],
     [("Ft. Lee", "Located_In", "N.J.")]),
    ("news-39", "conll04",
     "Last year's Harlow Prize for public service went to Rev. Samuel T. Booker Jr.",
     [("Harlow Prize", "Other"), ("Samuel T. Booker Jr.", "Peop")],
     []),
    ("news-40", "conll04",
     "Kwon Min-jun, an engineer at Hanil Electronics Co., was born in Seoul and later moved to the U.S.",
     [("Kwon Min-jun", "Peop"), ("Hanil Electronics Co.", "Org"), ("Seoul", "Loc"), ("U.S.", "Loc")],
     [("Kwon Min-jun", "Work_For", "Hanil Electronics Co."),
      ("Kwon Min-jun", "Live_In", "Seoul"),
      ("Kwon Min-jun", "Live_In", "U.S.")]),
    ("news-41", "conll04",
     "Her father, Joseph Klein Sr., ran a bakery in Albany, N.Y.",
     [("Joseph Klein Sr.", "Peop"), ("Albany", "Loc"), ("N.Y.", "Loc")],
     [("Joseph Klein Sr.", "Live_In", "Albany"),
      ("Joseph Klein Sr.", "Live_In", "N.Y."),
      ("Albany", "Located_In", "N.Y.")]),
    ("news-42", "conll04",
     "The shop is called \"Mabel's,\" after Mrs. Batiste's grandmother, Mabel Fontenot of "
     "Lafayette, La.",
     [("Batiste", "Peop"), ("Mabel Fontenot", "Peop"), ("Lafayette", "Loc"), ("La.", "Loc")],
     [("Mabel Fontenot", "Live_In", "Lafayette"),
      ("Mabel Fontenot", "Live_In", "La."),
      ("Lafayette", "Located_In", "La.")]),
    ("news-43", "conll04",
     "Dana Whitfield of Corvane Systems Inc. in Boise, Idaho, answers questions at "
     "press@corvane.example.com.",
     [("Dana Whitfield", "Peop"), ("Corvane Systems Inc.", "Org"), ("Boise", "Loc"),
      ("Idaho", "Loc")],
     [("Dana Whitfield", "Work_For", "Corvane Systems Inc."),
      ("Corvane Systems Inc.", "OrgBased_In", "Boise"),
      ("Corvane Systems Inc.", "OrgBased_In", "Idaho"),
      ("Boise", "Located_In", "Idaho")]),
    ("news-44", "conll04",
     "The full text of Gov. Ruth Alvarado's speech in Santa Fe is at "
     "https://www.example.org/news/2024/alvarado-speech.html (PDF).",
     [("Ruth Alvarado", "Peop"), ("Santa Fe", "Loc")],
     []),
    ("news-45", "conll04",
     "Asked about her past, Ellen Marsh of Fidelity Investments said, \"I grew up in Toledo.\"",
     [("Ellen Marsh", "Peop"), ("Fidelity Investments", "Org"), ("Toledo", "Loc")],
     [("Ellen Marsh", "Work_For", "Fidelity Investments"),
      ("Ellen Marsh", "Live_In", "Toledo")]),
    ("news-46", "conll04",
     "Corvane Systems was founded in 1998 by Dana Whitfield in Boise.[3]",
     [("Corvane Systems", "Org"), ("1998", "Other"), ("Dana Whitfield", "Peop"),
      ("Boise", "Loc")],
     [("Dana Whitfield", "Work_For", "Corvane Systems"),
      ("Corvane Systems", "OrgBased_In", "Boise")]),
    ("news-47", "conll04",
     "Big news: Maya Chen \U0001F389 joins Stripe\u2122 in Dublin next month.",
     [("Maya Chen", "Peop"), ("Stripe", "Org"), ("Dublin", "Loc")],
     [("Maya Chen", "Work_For", "Stripe"),
      ("Stripe", "OrgBased_In", "Dublin")]),

    ("news-48", "conll04",
     "Grace Liu\u00b9 joined Harwick Labs Inc. in Denver\u00b2 in 2015.",
     [("Grace Liu", "Peop"), ("Harwick Labs Inc.", "Org"), ("Denver", "Loc"), ("2015", "Other")],
     [("Grace Liu", "Work_For", "Harwick Labs Inc."),
      ("Harwick Labs Inc.", "OrgBased_In", "Denver")]),
    ("news-49", "conll04",
     "Read the profile of [Omar Haddad](https://www.example.com/people/omar-haddad), who runs "
     "Lakeview Bank in Milwaukee.",
     [("Omar Haddad", "Peop"), ("Lakeview Bank", "Org"), ("Milwaukee", "Loc")],
     [("Omar Haddad", "Work_For", "Lakeview Bank"),
      ("Lakeview Bank", "OrgBased_In", "Milwaukee")]),
    ("news-50", "conll04",
     "UPDATE: Nina Petrova, the mayor of Tulsa, Okla., has resigned.",
     [("Nina Petrova", "Peop"), ("Tulsa", "Loc"), ("Okla.", "Loc")],
     [("Nina Petrova", "Live_In", "Tulsa"), ("Nina Petrova", "Live_In", "Okla."),
      ("Tulsa", "Located_In", "Okla.")]),
    ("news-51", "conll04",
     "Big day for #Harwick: CEO Kelly Moran visited the plant in Renton, Wash.",
     [("Harwick", "Org"), ("Kelly Moran", "Peop"), ("Renton", "Loc"), ("Wash.", "Loc")],
     [("Kelly Moran", "Work_For", "Harwick"), ("Renton", "Located_In", "Wash.")]),
    ("news-52", "conll04",
     "Farmers near Yakima, Wash., grow apples, pears, etc., according to Dale Ostrom of the "
     "Yakima Growers League.",
     [("Yakima", "Loc"), ("Wash.", "Loc"), ("Dale Ostrom", "Peop"),
      ("Yakima Growers League", "Org")],
     [("Yakima", "Located_In", "Wash."),
      ("Dale Ostrom", "Work_For", "Yakima Growers League")]),
    ("news-53", "conll04",
     "Irene Walsh/Corvane Systems will open an office in Fargo, N.D., in May.",
     [("Irene Walsh", "Peop"), ("Corvane Systems", "Org"), ("Fargo", "Loc"), ("N.D.", "Loc")],
     [("Irene Walsh", "Work_For", "Corvane Systems"), ("Fargo", "Located_In", "N.D.")]),
    ("news-54", "conll04",
     "Gov. Ruth A. Delgado met Sen. Paul R. Whitaker in Santa Fe, N.M., on Friday.",
     [("Ruth A. Delgado", "Peop"), ("Paul R. Whitaker", "Peop"), ("Santa Fe", "Loc"),
      ("N.M.", "Loc")],
     [("Santa Fe", "Located_In", "N.M.")]),
    ("news-55", "conll04",
     "Prof. J. K. Adeyemi teaches chemistry at Halvorsen College in Bergen.",
     [("J. K. Adeyemi", "Peop"), ("Halvorsen College", "Org"), ("Bergen", "Loc")],
     [("J. K. Adeyemi", "Work_For", "Halvorsen College"),
      ("Halvorsen College", "OrgBased_In", "Bergen")]),
    ("news-56", "conll04",
     "Former Pres. Walter H.L. Brandt was born in Akron, Ohio, in 1931.",
     [("Walter H.L. Brandt", "Peop"), ("Akron", "Loc"), ("Ohio", "Loc"), ("1931", "Other")],
     [("Walter H.L. Brandt", "Live_In", "Akron"), ("Walter H.L. Brandt", "Live_In", "Ohio"),
      ("Akron", "Located_In", "Ohio")]),
    ("news-58", "conll04",
     "**Maria Lopez** joined <b>Halvorsen Foods Inc.</b> in Omaha, Neb., last May.",
     [("Maria Lopez", "Peop"), ("Halvorsen Foods Inc.", "Org"), ("Omaha", "Loc"),
      ("Neb.", "Loc")],
     [("Maria Lopez", "Work_For", "Halvorsen Foods Inc."),
      ("Halvorsen Foods Inc.", "OrgBased_In", "Omaha"),
      ("Halvorsen Foods Inc.", "OrgBased_In", "Neb."), ("Omaha", "Located_In", "Neb.")]),
    ("news-59", "conll04",
     "Procter &amp; Gamble named Jon R. Moeller chief executive at its offices in "
     "Cincinnati&nbsp;in 2021.",
     [("Procter &amp; Gamble", "Org"), ("Jon R. Moeller", "Peop"), ("Cincinnati", "Loc"),
      ("2021", "Other")],
     [("Jon R. Moeller", "Work_For", "Procter &amp; Gamble"),
      ("Procter &amp; Gamble", "OrgBased_In", "Cincinnati")]),
    ("news-60", "conll04",
     "The Tulsa-based retailer Brennan Goods hired Carla M. Diaz, a Yale-educated lawyer.",
     [("Tulsa", "Loc"), ("Brennan Goods", "Org"), ("Carla M. Diaz", "Peop"), ("Yale", "Org")],
     [("Brennan Goods", "OrgBased_In", "Tulsa"), ("Carla M. Diaz", "Work_For", "Brennan Goods")]),
    ("news-61", "conll04",
     "Asked whether Kenji Sato would leave Toyota for a rival in Nagoya, his spokesman said no.",
     [("Kenji Sato", "Peop"), ("Toyota", "Org"), ("Nagoya", "Loc")],
     [("Kenji Sato", "Work_For", "Toyota")]),
    ("news-57", "conll04",
     "Pres. George H.W. Bush died in Houston, Tex., in 2018.",
     [("George H.W. Bush", "Peop"), ("Houston", "Loc"), ("Tex.", "Loc"), ("2018", "Other")],
     [("George H.W. Bush", "Live_In", "Houston"), ("George H.W. Bush", "Live_In", "Tex."),
      ("Houston", "Located_In", "Tex.")]),
    # An abbreviation that ends a sentence before a name; an ellipsis of full stops.
    ("news-62", "conll04",
     "Anna Berg left for the U.K. Tom Berg, her brother, still lives in Denver.",
     [("Anna Berg", "Peop"), ("U.K.", "Loc"), ("Tom Berg", "Peop"), ("Denver", "Loc")],
     [("Tom Berg", "Live_In", "Denver")]),
    ("news-63", "conll04",
     "Carla Reyes works for Harwick Foods Inc. Tom Alvarez runs its plant in Fresno.",
     [("Carla Reyes", "Peop"), ("Harwick Foods Inc.", "Org"), ("Tom Alvarez", "Peop"),
      ("Fresno", "Loc")],
     [("Carla Reyes", "Work_For", "Harwick Foods Inc.")]),
    ("news-64", "conll04",
     "Jane Ortiz... she later joined Boeing in Chicago.",
     [("Jane Ortiz", "Peop"), ("Boeing", "Org"), ("Chicago", "Loc")],
     [("Jane Ortiz", "Work_For", "Boeing"), ("Boeing", "OrgBased_In", "Chicago")]),
    ("news-65", "conll04",
     "Earvin \u201cMagic\u201d Johnson played for the Los Angeles Lakers.",
     [("Earvin \u201cMagic\u201d Johnson", "Peop"), ("Los Angeles Lakers", "Org")],
     [("Earvin \u201cMagic\u201d Johnson", "Work_For", "Los Angeles Lakers")]),
    ("news-66", "conll04",
     "Sotheby's, based in New York, hired Ana Ruiz as an auctioneer.",
     [("Sotheby's", "Org"), ("New York", "Loc"), ("Ana Ruiz", "Peop")],
     [("Sotheby's", "OrgBased_In", "New York"), ("Ana Ruiz", "Work_For", "Sotheby's")]),
    ("news-67", "conll04",
     "Sam Altman - OpenAI's chief executive - spoke to reporters in San Francisco.",
     [("Sam Altman", "Peop"), ("OpenAI", "Org"), ("San Francisco", "Loc")],
     [("Sam Altman", "Work_For", "OpenAI")]),
    ("news-68", "conll04",
     "Jane Doe--a lawyer at Macy\u2019s in New York--was hired by Google.",
     [("Jane Doe", "Peop"), ("Macy\u2019s", "Org"), ("New York", "Loc"), ("Google", "Org")],
     [("Jane Doe", "Work_For", "Macy\u2019s"), ("Macy\u2019s", "OrgBased_In", "New York"),
      ("Jane Doe", "Work_For", "Google")]),
    # A city and its state or country after an organization or a person: the entity table
    # is unsure of both places (CoNLL04 writes `Kinderhook , N.Y.` as one mention and
    # `West Point` , `Ga.` as two) while the relation table is sure of the Located_In.
    ("news-69", "conll04",
     "The software firm Oracle is based in Austin, Texas.",
     [("Oracle", "Org"), ("Austin", "Loc"), ("Texas", "Loc")],
     [("Oracle", "OrgBased_In", "Austin"), ("Oracle", "OrgBased_In", "Texas"),
      ("Austin", "Located_In", "Texas")]),
    ("news-70", "conll04",
     "Barack Obama was born in Honolulu, Hawaii, in 1961.",
     [("Barack Obama", "Peop"), ("Honolulu", "Loc"), ("Hawaii", "Loc"), ("1961", "Other")],
     [("Barack Obama", "Live_In", "Honolulu"), ("Barack Obama", "Live_In", "Hawaii"),
      ("Honolulu", "Located_In", "Hawaii")]),
    ("news-71", "conll04",
     "The carmaker Rivian, which has a plant in Normal, Ill., hired Maria Chen in 2019.",
     [("Rivian", "Org"), ("Normal", "Loc"), ("Ill.", "Loc"), ("Maria Chen", "Peop"),
      ("2019", "Other")],
     [("Rivian", "OrgBased_In", "Normal"), ("Rivian", "OrgBased_In", "Ill."),
      ("Normal", "Located_In", "Ill."), ("Maria Chen", "Work_For", "Rivian")]),
    ("news-72", "conll04",
     "Nurse Ellen Park moved from Tulsa, Okla., to Raleigh, N.C., last spring.",
     [("Ellen Park", "Peop"), ("Tulsa", "Loc"), ("Okla.", "Loc"), ("Raleigh", "Loc"),
      ("N.C.", "Loc")],
     [("Ellen Park", "Live_In", "Tulsa"), ("Ellen Park", "Live_In", "Okla."),
      ("Ellen Park", "Live_In", "Raleigh"), ("Ellen Park", "Live_In", "N.C."),
      ("Tulsa", "Located_In", "Okla."), ("Raleigh", "Located_In", "N.C.")]),
    # Given names joined by a hyphen, second part in lower case: not `Paris-based`.
    ("news-73", "conll04",
     "Ban Ki-moon, a former U.N. secretary-general, met Moon Jae-in in Seoul.",
     [("Ban Ki-moon", "Peop"), ("U.N.", "Org"), ("Moon Jae-in", "Peop"), ("Seoul", "Loc")],
     [("Ban Ki-moon", "Work_For", "U.N.")]),
    # A day of the week in a page's time stamp is no place (`Tue` gave a Loc).
    ("news-74", "conll04",
     "Updated Tue, Nov. 12, 2024: Adobe Inc. named Priya Raman its chief executive.",
     [("Nov. 12, 2024", "Other"), ("Adobe Inc.", "Org"), ("Priya Raman", "Peop")],
     [("Priya Raman", "Work_For", "Adobe Inc.")]),
    # A legal form after a comma belongs to the company's name, as CoNLL04 writes it.
    ("news-75", "conll04",
     "The CEO of Tesla, Inc., Elon Musk, lives in Austin.",
     [("Tesla, Inc.", "Org"), ("Elon Musk", "Peop"), ("Austin", "Loc")],
     [("Elon Musk", "Work_For", "Tesla, Inc."), ("Elon Musk", "Live_In", "Austin")]),
    # A place the model is unsure of (0.07 for `Honolulu`) that an all but certain relation
    # vouches for.
    ("news-76", "conll04",
     "Mr. Obama was born in Honolulu, Hawaii, on Aug. 4, 1961.",
     [("Obama", "Peop"), ("Honolulu", "Loc"), ("Hawaii", "Loc"), ("Aug. 4, 1961", "Other")],
     [("Obama", "Live_In", "Honolulu"), ("Obama", "Live_In", "Hawaii"),
      ("Honolulu", "Located_In", "Hawaii")]),
    # Typed without capitals: a state's abbreviation is still a place.
    ("news-77", "conll04",
     "marie ferraro, 50, of bethany, conn., was shot to death in dallas on nov. 22.",
     [("marie ferraro", "Peop"), ("bethany", "Loc"), ("conn.", "Loc"), ("dallas", "Loc"),
      ("nov. 22", "Other")],
     [("marie ferraro", "Live_In", "bethany"), ("marie ferraro", "Live_In", "conn."),
      ("bethany", "Located_In", "conn.")]),

    # ---------------------------------------------------------------- science, SciERC
    ("sci-01", "scierc",
     "Following Lample et al. (2016), we use a BiLSTM-CRF tagger for named entity recognition.",
     [("BiLSTM-CRF tagger", "Method"), ("named entity recognition", "Task")],
     [("BiLSTM-CRF tagger", "Used-for", "named entity recognition")]),
    ("sci-02", "scierc",
     "As shown in Fig. 3, the attention model reaches 0.85 F1 on the CoNLL04 test set.",
     [("attention model", "Method"), ("F1", "Metric"), ("CoNLL04 test set", "Material")],
     [("F1", "Evaluate-for", "attention model"),
      ("CoNLL04 test set", "Evaluate-for", "attention model")]),
    ("sci-03", "scierc",
     "The joint loss in Eq. 2 combines a span classification term and a relation classification term.",
     [("joint loss", "OtherScientificTerm"), ("span classification term", "OtherScientificTerm"),
      ("relation classification term", "OtherScientificTerm")],
     [("span classification term", "Part-of", "joint loss"),
      ("relation classification term", "Part-of", "joint loss"),
      ("span classification term", "Conjunction", "relation classification term")]),
    ("sci-04", "scierc",
     "Pretrained encoders, e.g. BERT and RoBERTa, improve relation extraction on scientific abstracts.",
     [("Pretrained encoders", "Method"), ("BERT", "Method"), ("RoBERTa", "Method"),
      ("relation extraction", "Task"), ("scientific abstracts", "Material")],
     [("BERT", "Hyponym-of", "Pretrained encoders"),
      ("RoBERTa", "Hyponym-of", "Pretrained encoders"),
      ("BERT", "Conjunction", "RoBERTa"),
      ("Pretrained encoders", "Used-for", "relation extraction")]),
    ("sci-05", "scierc",
     "We compare beam search vs. greedy decoding for machine translation, i.e. the task of mapping a "
     "source sentence to a target sentence.",
     [("beam search", "Method"), ("greedy decoding", "Method"), ("machine translation", "Task")],
     [("beam search", "Compare", "greedy decoding"),
      ("beam search", "Used-for", "machine translation"),
      ("greedy decoding", "Used-for", "machine translation")]),
    ("sci-06", "scierc",
     "Smith et al. report approx. 12 points of improvement in BLEU for low-resource translation.",
     [("BLEU", "Metric"), ("low-resource translation", "Task")],
     [("BLEU", "Evaluate-for", "low-resource translation")]),
    ("sci-07", "scierc",
     "The dependency parser of Chen and Manning (2014) uses a feed-forward network, i.e. a network "
     "without recurrent connections.",
     [("dependency parser", "Method"), ("feed-forward network", "Method"),
      ("recurrent connections", "OtherScientificTerm")],
     [("feed-forward network", "Used-for", "dependency parser")]),
    ("sci-08", "scierc",
     "On the SciERC corpus, the span-based model outperforms the pipeline baseline (0.48 vs. 0.42 "
     "relation F1).",
     [("SciERC corpus", "Material"), ("span-based model", "Method"), ("pipeline baseline", "Method"),
      ("relation F1", "Metric")],
     [("SciERC corpus", "Evaluate-for", "span-based model"),
      ("SciERC corpus", "Evaluate-for", "pipeline baseline"),
      ("span-based model", "Compare", "pipeline baseline"),
      ("relation F1", "Evaluate-for", "span-based model")]),
    ("sci-09", "scierc",
     "Speech recognizers trained on read speech degrade on spontaneous dialogue, e.g. telephone "
     "conversations.",
     [("Speech recognizers", "Method"), ("read speech", "Material"), ("spontaneous dialogue", "Material"),
      ("telephone conversations", "Material")],
     [("read speech", "Used-for", "Speech recognizers"),
      ("telephone conversations", "Hyponym-of", "spontaneous dialogue")]),
    ("sci-10", "scierc",
     "Eq. 4 defines the attention weights as a softmax over the alignment scores.",
     [("attention weights", "OtherScientificTerm"), ("softmax", "Method"),
      ("alignment scores", "OtherScientificTerm")],
     [("softmax", "Used-for", "attention weights"),
      ("alignment scores", "Used-for", "softmax")]),
    ("sci-11", "scierc",
     "Kim et al. use character embeddings to handle rare words in morphologically rich languages, "
     "e.g. Turkish and Finnish.",
     [("character embeddings", "Method"), ("rare words", "OtherScientificTerm"),
      ("morphologically rich languages", "Material"), ("Turkish", "Material"), ("Finnish", "Material")],
     [("character embeddings", "Used-for", "rare words"),
      ("rare words", "Feature-of", "morphologically rich languages"),
      ("Turkish", "Hyponym-of", "morphologically rich languages"),
      ("Finnish", "Hyponym-of", "morphologically rich languages"),
      ("Turkish", "Conjunction", "Finnish")]),
    ("sci-12", "scierc",
     "Our tagger achieves 97.3% accuracy on the Penn Treebank, i.e. within 0.2 points of the best "
     "system.",
     [("tagger", "Method"), ("accuracy", "Metric"), ("Penn Treebank", "Material"), ("system", "Generic")],
     [("accuracy", "Evaluate-for", "tagger"),
      ("Penn Treebank", "Evaluate-for", "tagger"),
      ("tagger", "Compare", "system")]),
    ("sci-13", "scierc",
     "Image captioning models (see Fig. 2) combine a convolutional encoder with a recurrent decoder.",
     [("Image captioning models", "Method"), ("convolutional encoder", "Method"),
      ("recurrent decoder", "Method")],
     [("convolutional encoder", "Part-of", "Image captioning models"),
      ("recurrent decoder", "Part-of", "Image captioning models"),
      ("convolutional encoder", "Conjunction", "recurrent decoder")]),
    ("sci-14", "scierc",
     "Topic models, e.g. LDA, are often used for document clustering.",
     [("Topic models", "Method"), ("LDA", "Method"), ("document clustering", "Task")],
     [("LDA", "Hyponym-of", "Topic models"),
      ("Topic models", "Used-for", "document clustering")]),
    ("sci-15", "scierc",
     "We evaluate coreference resolution with the CoNLL F1 score, i.e. the average of MUC, B3 and CEAF.",
     [("coreference resolution", "Task"), ("CoNLL F1 score", "Metric"), ("MUC", "Metric"),
      ("B3", "Metric"), ("CEAF", "Metric")],
     [("CoNLL F1 score", "Evaluate-for", "coreference resolution"),
      ("MUC", "Part-of", "CoNLL F1 score"),
      ("B3", "Part-of", "CoNLL F1 score"),
      ("CEAF", "Part-of", "CoNLL F1 score"),
      ("MUC", "Conjunction", "B3"),
      ("B3", "Conjunction", "CEAF")]),
    ("sci-16", "scierc",
     "The method of Zhang et al. reduces decoding time by approx. 40% vs. the standard Viterbi "
     "algorithm.",
     [("method", "Generic"), ("decoding time", "Metric"), ("Viterbi algorithm", "Method")],
     [("decoding time", "Evaluate-for", "method"),
      ("method", "Compare", "Viterbi algorithm")]),
    ("sci-17", "scierc",
     "Dropout (Srivastava et al., 2014) is applied to the embedding layer of the BiLSTM encoder.",
     [("Dropout", "Method"), ("embedding layer", "OtherScientificTerm"), ("BiLSTM encoder", "Method")],
     [("Dropout", "Used-for", "embedding layer"),
      ("embedding layer", "Part-of", "BiLSTM encoder")]),
    ("sci-18", "scierc",
     "Results are summarized in Fig. 5 for the graph-based parser and the transition-based parser.",
     [("graph-based parser", "Method"), ("transition-based parser", "Method")],
     [("graph-based parser", "Conjunction", "transition-based parser")]),
    ("sci-19", "scierc",
     "The acoustic model uses MFCC features, i.e. mel-frequency cepstral coefficients, computed over "
     "25 ms windows.",
     [("acoustic model", "Method"), ("MFCC features", "OtherScientificTerm"),
      ("mel-frequency cepstral coefficients", "OtherScientificTerm")],
     [("MFCC features", "Used-for", "acoustic model")]),
    ("sci-20", "scierc",
     "Unlike the IBM models of Brown et al. (1993), our discriminative aligner is trained on approx. "
     "0.5 million sentence pairs.",
     [("IBM models", "Method"), ("discriminative aligner", "Method"), ("sentence pairs", "Material")],
     [("IBM models", "Compare", "discriminative aligner"),
      ("sentence pairs", "Used-for", "discriminative aligner")]),
    ("sci-21", "scierc",
     "The CRF output layer of our tagger follows the design of Lample et al.",
     [("CRF output layer", "Method"), ("tagger", "Method")],
     [("CRF output layer", "Part-of", "tagger")]),
    ("sci-22", "scierc",
     "The model achieves an F1 of 92.4% on CoNLL-2003 [3, 7], i.e., state-of-the-art results.",
     [("model", "Generic"), ("F1", "Metric"), ("CoNLL-2003", "Material")],
     [("F1", "Evaluate-for", "model"), ("CoNLL-2003", "Evaluate-for", "model")]),
    ("sci-23", "scierc",
     "Graph-based parsers [12] outperform transition-based parsers [4\u20136] on the Penn Treebank.",
     [("Graph-based parsers", "Method"), ("transition-based parsers", "Method"),
      ("Penn Treebank", "Material")],
     [("Graph-based parsers", "Compare", "transition-based parsers"),
      ("Penn Treebank", "Evaluate-for", "Graph-based parsers"),
      ("Penn Treebank", "Evaluate-for", "transition-based parsers")]),
    ("sci-24", "scierc",
     "We use BERT (Devlin et al., 2019) as the encoder of a dependency parser (see Dozat and "
     "Manning, 2017).",
     [("BERT", "Method"), ("encoder", "Method"), ("dependency parser", "Method")],
     [("BERT", "Used-for", "encoder"), ("encoder", "Part-of", "dependency parser")]),
    ("sci-25", "scierc",
     "The system uses SVMs (support vector machines) for text classification...",
     [("system", "Generic"), ("SVMs", "Method"), ("support vector machines", "Method"),
      ("text classification", "Task")],
     [("SVMs", "Used-for", "system"), ("SVMs", "Used-for", "text classification")]),
    ("sci-26", "scierc",
     "Transformers [Vaswani et al. 2017] replaced recurrent networks in machine translation.",
     [("Transformers", "Method"), ("recurrent networks", "Method"),
      ("machine translation", "Task")],
     [("Transformers", "Compare", "recurrent networks"),
      ("Transformers", "Used-for", "machine translation")]),

    # ------------------------------------------------------------- medicine, ADE
    ("med-01", "ade",
     "Lithium-induced nephrogenic diabetes insipidus was diagnosed in a 40-year-old woman.",
     [("Lithium", "Drug"), ("nephrogenic diabetes insipidus", "Adverse-Effect")],
     [("nephrogenic diabetes insipidus", "Adverse-Effect", "Lithium")]),
    ("med-02", "ade",
     "A 67-year-old man developed acute interstitial nephritis after three weeks of omeprazole "
     "20 mg p.o. daily.",
     [("acute interstitial nephritis", "Adverse-Effect"), ("omeprazole", "Drug")],
     [("acute interstitial nephritis", "Adverse-Effect", "omeprazole")]),
    ("med-03", "ade",
     "Warfarin-associated intracerebral hemorrhage occurred despite an INR of 2.5.",
     [("Warfarin", "Drug"), ("intracerebral hemorrhage", "Adverse-Effect")],
     [("intracerebral hemorrhage", "Adverse-Effect", "Warfarin")]),
    ("med-04", "ade",
     "Dr. Patel reported agranulocytosis in a patient treated with clozapine 300 mg a day.",
     [("agranulocytosis", "Adverse-Effect"), ("clozapine", "Drug")],
     [("agranulocytosis", "Adverse-Effect", "clozapine")]),
    ("med-05", "ade",
     "Stevens-Johnson syndrome developed approx. two weeks after the start of carbamazepine.",
     [("Stevens-Johnson syndrome", "Adverse-Effect"), ("carbamazepine", "Drug")],
     [("Stevens-Johnson syndrome", "Adverse-Effect", "carbamazepine")]),
    ("med-06", "ade",
     "Amiodarone-related pulmonary toxicity, e.g. diffuse alveolar damage, was confirmed by biopsy.",
     [("Amiodarone", "Drug"), ("pulmonary toxicity", "Adverse-Effect"),
      ("diffuse alveolar damage", "Adverse-Effect")],
     [("pulmonary toxicity", "Adverse-Effect", "Amiodarone"),
      ("diffuse alveolar damage", "Adverse-Effect", "Amiodarone")]),
    ("med-07", "ade",
     "Two patients on high-dose methotrexate (5 g/m2 i.v.) developed mucositis and acute renal "
     "failure.",
     [("methotrexate", "Drug"), ("mucositis", "Adverse-Effect"),
      ("acute renal failure", "Adverse-Effect")],
     [("mucositis", "Adverse-Effect", "methotrexate"),
      ("acute renal failure", "Adverse-Effect", "methotrexate")]),
    ("med-08", "ade",
     "We describe rhabdomyolysis associated with simvastatin 40 mg and clarithromycin in a "
     "71-year-old man.",
     [("rhabdomyolysis", "Adverse-Effect"), ("simvastatin", "Drug"), ("clarithromycin", "Drug")],
     [("rhabdomyolysis", "Adverse-Effect", "simvastatin"),
      ("rhabdomyolysis", "Adverse-Effect", "clarithromycin")]),
    ("med-09", "ade",
     "Vancomycin-induced red man syndrome resolved once the infusion of 1 g was slowed.",
     [("Vancomycin", "Drug"), ("red man syndrome", "Adverse-Effect")],
     [("red man syndrome", "Adverse-Effect", "Vancomycin")]),
    ("med-10", "ade",
     "Hypokalemia (2.9 mmol/L) was noted in a 52-year-old woman receiving amphotericin B.",
     [("Hypokalemia", "Adverse-Effect"), ("amphotericin B", "Drug")],
     [("Hypokalemia", "Adverse-Effect", "amphotericin B")]),
    ("med-11", "ade",
     "Ototoxicity from gentamicin, i.e. bilateral hearing loss, was seen in 3 of 40 patients.",
     [("Ototoxicity", "Adverse-Effect"), ("gentamicin", "Drug"),
      ("bilateral hearing loss", "Adverse-Effect")],
     [("Ototoxicity", "Adverse-Effect", "gentamicin"),
      ("bilateral hearing loss", "Adverse-Effect", "gentamicin")]),
    ("med-12", "ade",
     "A 3-year-old boy had acute dystonic reactions after one dose of metoclopramide (0.5 mg/kg).",
     [("acute dystonic reactions", "Adverse-Effect"), ("metoclopramide", "Drug")],
     [("acute dystonic reactions", "Adverse-Effect", "metoclopramide")]),
    ("med-13", "ade",
     "Isoniazid-induced hepatitis was suspected, and the drug was stopped on Nov. 3, 2019.",
     [("Isoniazid", "Drug"), ("hepatitis", "Adverse-Effect")],
     [("hepatitis", "Adverse-Effect", "Isoniazid")]),
    ("med-14", "ade",
     "Pancreatitis occurred in a patient taking valproic acid 500 mg b.i.d. for epilepsy.",
     [("Pancreatitis", "Adverse-Effect"), ("valproic acid", "Drug")],
     [("Pancreatitis", "Adverse-Effect", "valproic acid")]),
    ("med-15", "ade",
     "Prof. Kim's group linked cisplatin to peripheral neuropathy in 12.5% of the cases.",
     [("cisplatin", "Drug"), ("peripheral neuropathy", "Adverse-Effect")],
     [("peripheral neuropathy", "Adverse-Effect", "cisplatin")]),
    ("med-16", "ade",
     "Depression followed interferon alpha-2b therapy in 9 patients vs. none in the placebo group.",
     [("Depression", "Adverse-Effect"), ("interferon alpha-2b", "Drug")],
     [("Depression", "Adverse-Effect", "interferon alpha-2b")]),
    ("med-17", "ade",
     "Neutropenia\u00b9 developed after two cycles of docetaxel 75 mg/m2.",
     [("Neutropenia", "Adverse-Effect"), ("docetaxel", "Drug")],
     [("Neutropenia", "Adverse-Effect", "docetaxel")]),
    ("med-18", "ade",
     "Case report: lamotrigine-induced toxic epidermal necrolysis in a 30-year-old woman.",
     [("lamotrigine", "Drug"), ("toxic epidermal necrolysis", "Adverse-Effect")],
     [("toxic epidermal necrolysis", "Adverse-Effect", "lamotrigine")]),
    ("med-19", "ade",
     "We report a case of QT prolongation associated with methadone...",
     [("QT prolongation", "Adverse-Effect"), ("methadone", "Drug")],
     [("QT prolongation", "Adverse-Effect", "methadone")]),
    ("med-20", "ade",
     "Pt. started on amiodarone; 3 wks later, TSH rose \u2192 hypothyroidism.",
     [("amiodarone", "Drug"), ("hypothyroidism", "Adverse-Effect")],
     [("hypothyroidism", "Adverse-Effect", "amiodarone")]),
    # A name written with quotes inside it: the mention holds both quotes.
    ("med-21", "ade",
     "Following IV vancomycin, she had a \"red man\" syndrome with flushing and pruritus.",
     [("vancomycin", "Drug"), ("\"red man\" syndrome", "Adverse-Effect"),
      ("flushing", "Adverse-Effect"), ("pruritus", "Adverse-Effect")],
     [("\"red man\" syndrome", "Adverse-Effect", "vancomycin"),
      ("flushing", "Adverse-Effect", "vancomycin"), ("pruritus", "Adverse-Effect", "vancomycin")]),
]

MIN_SENTENCES = {"conll04": 30, "scierc": 14, "ade": 15}


class Errors:
    def __init__(self):
        self.items = []

    def add(self, sid, msg):
        self.items.append(f"{sid}: {msg}")


def find(text, surface, occurrence):
    """Start of the occurrence-th (from 0) occurrence of surface in text, or -1."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.find(surface, start + 1)
        if start < 0:
            return -1
    return start


def check_text(sid, text, err):
    if text != text.strip() or "  " in text:
        err.add(sid, "leading, trailing or double space")
    if not unicodedata.is_normalized("NFC", text):
        err.add(sid, "text is not NFC")
    for bad in (" ,", " .", " ;", " :", " ?", " !", " 's", "( ", " )"):
        if bad in text:
            err.add(sid, f"untypical spacing {bad!r}")
    # A full stop at the end, or before closing quotes or a citation (`."`, `.[3]`).
    if not re.search("\\.(?:[\"\u201d\u2019')]*|\\[[^\\]]{1,30}\\])$", text):
        err.add(sid, "does not end with a full stop")
    if not any(re.search(p, text) for p in HARD_CASES.values()):
        err.add(sid, "has none of the hard cases")


# Names that end in a possessive `'s` (the extractor keeps it where nothing it could own
# follows: `segment::possessive_name_end`).
POSSESSIVE_NAMES = {"Sotheby's", "Macy\u2019s"}


def check_entity_surface(sid, surface, err):
    if surface != surface.strip():
        err.add(sid, f"entity {surface!r} has surrounding space")
    if surface.endswith((",", ";", ":", "'s", "’s", "'", "\"", "(", ")")) \
            and surface not in POSSESSIVE_NAMES:
        err.add(sid, f"entity {surface!r} ends with punctuation or a possessive")
    if surface.endswith("."):
        last = surface.rsplit(" ", 1)[-1]
        if last not in ENTITY_FINAL_ABBREVIATIONS and not re.fullmatch(r"(?:[A-Z]\.)+", last):
            err.add(sid, f"entity {surface!r} ends with a full stop that is not an abbreviation's")


def build(sid, model, text, ents, rels, err):
    schema = SCHEMAS.get(model)
    if schema is None:
        err.add(sid, f"unknown model {model!r}")
        return None
    check_text(sid, text, err)

    spans = []  # (start, end, type, surface, key)
    for e in ents:
        surface, etype = e[0], e[1]
        occurrence = e[2] if len(e) > 2 else 0
        key = (surface, occurrence)
        if etype not in schema["entities"]:
            err.add(sid, f"entity {surface!r}: type {etype!r} not in the {model} schema")
        check_entity_surface(sid, surface, err)
        start = find(text, surface, occurrence)
        if start < 0:
            err.add(sid, f"entity {surface!r} (occurrence {occurrence}) not found")
            continue
        end = start + len(surface)
        if text[start:end] != surface:
            err.add(sid, f"entity {surface!r}: offsets {start}..{end} give {text[start:end]!r}")
        if (start > 0 and word_char(text[start - 1])) or (end < len(text) and word_char(text[end])):
            err.add(sid, f"entity {surface!r} at {start} is inside a word")
        if any(k == key for *_, k in spans):
            err.add(sid, f"entity {surface!r} (occurrence {occurrence}) given twice")
        spans.append((start, end, etype, surface, key))

    spans.sort(key=lambda s: (s[0], s[1]))
    for a, b in zip(spans, spans[1:]):
        if b[0] < a[1]:
            err.add(sid, f"entities {a[3]!r} and {b[3]!r} overlap")
    index = {s[4]: n for n, s in enumerate(spans)}

    def ref(r):
        key = (r, 0) if isinstance(r, str) else tuple(r)
        if key not in index:
            err.add(sid, f"relation argument {r!r} is not an entity")
            return None
        return index[key]

    relations, seen = [], set()
    for head, rtype, tail in rels:
        h, t = ref(head), ref(tail)
        if rtype not in schema["relations"]:
            err.add(sid, f"relation type {rtype!r} not in the {model} schema")
            continue
        if h is None or t is None:
            continue
        if h == t:
            err.add(sid, f"relation {rtype} from {head!r} to itself")
        signature = schema["relations"][rtype]
        if signature and (spans[h][2], spans[t][2]) != signature:
            err.add(sid, f"relation {rtype} {head!r} -> {tail!r} is {spans[h][2]} -> {spans[t][2]}, "
                         f"must be {signature[0]} -> {signature[1]}")
        key = (h, t, rtype) if rtype not in SYMMETRIC else (min(h, t), max(h, t), rtype)
        if key in seen:
            err.add(sid, f"relation {rtype} {head!r} -> {tail!r} given twice")
        seen.add(key)
        relations.append({"head": h, "tail": t, "type": rtype})
    relations.sort(key=lambda r: (r["head"], r["tail"], r["type"]))

    return {
        "id": sid,
        "model": model,
        "text": text,
        "entities": [{"start": s, "end": e, "type": ty, "text": su} for s, e, ty, su, _ in spans],
        "relations": relations,
    }


def main():
    check_only = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check_only:
        print(__doc__, file=sys.stderr)
        return 2
    err = Errors()
    records, ids = [], set()
    for sid, model, text, ents, rels in SENTENCES:
        if sid in ids:
            err.add(sid, "duplicate id")
        ids.add(sid)
        rec = build(sid, model, text, ents, rels, err)
        if rec is not None:
            records.append(rec)
    counts = {m: sum(r["model"] == m for r in records) for m in SCHEMAS}
    for m, n in MIN_SENTENCES.items():
        if counts[m] < n:
            err.add("-", f"{counts[m]} {m} sentences, need at least {n}")
    if err.items:
        for e in err.items:
            print("error:", e, file=sys.stderr)
        return 1

    out = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    # Read back what is written, the way a consumer would.
    for line in out.splitlines():
        r = json.loads(line)
        for e in r["entities"]:
            assert r["text"][e["start"]:e["end"]] == e["text"], (r["id"], e)

    if check_only:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else None
        if current != out:
            print(f"{OUT} is out of date; run python3 scripts/make_raw_sentences.py", file=sys.stderr)
            return 1
        print(f"{OUT} is current")
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".jsonl.tmp")
    tmp.write_text(out, encoding="utf-8")
    tmp.replace(OUT)
    covered = sorted(name for name, p in HARD_CASES.items()
                     if any(re.search(p, r["text"]) for r in records))
    print(f"wrote {OUT}: " + ", ".join(f"{n} {m}" for m, n in counts.items())
          + f"; {sum(len(r['entities']) for r in records)} entities, "
          + f"{sum(len(r['relations']) for r in records)} relations")
    print("hard cases covered: " + "; ".join(covered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
