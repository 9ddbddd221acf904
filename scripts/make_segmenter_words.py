#!/usr/bin/env python3
"""Writes the segmenter's two word lists, learned from the training text:

- mge/data/lowercase-words.txt: the words that the training text writes in lower case and
  almost never capitalizes inside a sentence (the orthographic evidence of the Punkt
  method, Kiss and Strunk 2006). The segmenter reads a capitalized one of them after an
  abbreviation as the start of a new sentence (`Nashville, Tenn. Software engineers ...`);
  a word such as `Navy` or `President`, often capitalized mid-sentence, is not.
- mge/data/sentence-starters.txt: capitalized words that often begin a training sentence
  and that inside a sentence are mostly written in lower case (`The`, `In`, `We`, `Using`).
  Where text runs on without full stops, the segmenter reads such a word after a lower-case
  word as the start of a new sentence (`... was an actor The opera company ...`).

    scripts/make_segmenter_words.py ../shared/data/conll04/train.json ../shared/data/scierc/train.json ../shared/data/ade/split_0_train.json

Only training splits: the dev and test text that the segmenter is measured on stays out
(for ADE, the training part of fold 0, whose test part the medicine bundle is measured on).
ADE's words (drugs and disorders in lower case: `sertraline`, `peripheral`) let the
segmenter find where medical text that runs on begins a sentence.
"""
import collections
import json
import sys
from pathlib import Path

# lowercase-words.txt: seen in lower case at least MIN_LOWER times, and capitalized after
# the first word of a sentence at most MAX_CAPITALIZED_SHARE as often.
MIN_LOWER = 2
MAX_CAPITALIZED_SHARE = 0.1
# sentence-starters.txt: the first word of at least STARTER_MIN_FIRST sentences, seen in
# lower case inside sentences at least STARTER_MIN_LOWER times, and capitalized there at
# most STARTER_MAX_CAPITALIZED_SHARE as often; or the first word of at least
# STARTER_ONLY_FIRST sentences and never seen inside one (`Furthermore`, `Moreover`).
STARTER_MIN_FIRST = 3
STARTER_MIN_LOWER = 2
STARTER_MAX_CAPITALIZED_SHARE = 0.2
STARTER_ONLY_FIRST = 5
# Tokens after which a capital says nothing (a quotation or a bracket may open a sentence).
OPENERS = {"``", '"', "(", ":", "''", ".", "-LRB-", "--", ";"}


def title_case(w):
    return w[0].isupper() and (len(w) == 1 or w[1:].islower())


def main(paths):
    first, lower, capitalized = collections.Counter(), collections.Counter(), collections.Counter()
    inside = collections.Counter()
    for path in paths:
        for sentence in json.load(open(path)):
            tokens = sentence["tokens"]
            if tokens:
                first[tokens[0]] += 1
            for i, w in enumerate(tokens):
                if i > 0:
                    inside[w.lower()] += 1
                if not w.isascii() or not w.isalpha():
                    continue
                if w.islower():
                    lower[w] += 1
                elif title_case(w) and i > 0 and tokens[i - 1] not in OPENERS:
                    capitalized[w.lower()] += 1
    lists = {
        "lowercase-words.txt": sorted(
            w for w, n in lower.items()
            if len(w) >= 2 and n >= MIN_LOWER and capitalized[w] <= MAX_CAPITALIZED_SHARE * n
        ),
        "sentence-starters.txt": sorted(
            w for w, n in first.items()
            if n >= STARTER_MIN_FIRST and w.isascii() and w.isalpha() and title_case(w)
            and (
                lower[w.lower()] >= STARTER_MIN_LOWER
                and capitalized[w.lower()] <= STARTER_MAX_CAPITALIZED_SHARE * lower[w.lower()]
                or n >= STARTER_ONLY_FIRST and inside[w.lower()] == 0
            )
        ),
    }
    data = Path(__file__).resolve().parent.parent / "mge" / "data"
    for name, words in lists.items():
        (data / name).write_text("\n".join(words) + "\n")
        print(f"{data / name}: {len(words)} words", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
